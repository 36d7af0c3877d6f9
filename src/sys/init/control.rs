//! init's control FIFO (`run/initctl` under the root): created mode 0600, opened for
//! reading and writing (so it never reports end-of-file when a writer leaves), never
//! blocking, and reopened on SIGUSR1.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::PathBuf;

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

use crate::format::initreq::{decode, Request, RequestError, REQUEST_SIZE};

pub struct Control {
    path: PathBuf,
    fd: Option<OwnedFd>,
}

impl Control {
    /// Creates (if needed) and opens the FIFO. Failure is logged; init then runs without
    /// a control channel rather than not at all.
    pub fn open(path: PathBuf) -> Control {
        let mut control = Control { path, fd: None };
        control.reopen();
        control
    }

    pub fn reopen(&mut self) {
        self.fd = None;
        match self.create_and_open() {
            Ok(fd) => self.fd = Some(fd),
            Err(why) => log::error!("control channel {}: {why}", self.path.display()),
        }
    }

    fn create_and_open(&self) -> Result<OwnedFd, String> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| crate::sys::describe_io(&e))?;
        }
        match std::fs::symlink_metadata(&self.path) {
            Ok(meta) if meta.file_type().is_fifo() => {}
            Ok(_) => {
                // Something else took the name (a stale file): replace it.
                std::fs::remove_file(&self.path).map_err(|e| crate::sys::describe_io(&e))?;
                self.make_fifo()?;
            }
            Err(_) => self.make_fifo()?,
        }
        open(
            &self.path,
            OFlag::O_RDWR | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| e.desc().to_string())
    }

    fn make_fifo(&self) -> Result<(), String> {
        nix::unistd::mkfifo(&self.path, Mode::S_IRUSR | Mode::S_IWUSR)
            .map_err(|e| e.desc().to_string())?;
        // Exactly 0600 whatever the umask.
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| crate::sys::describe_io(&e))
    }

    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.fd.as_ref().map(|f| f.as_fd())
    }

    /// Every request waiting in the FIFO. Requests are written whole (384 bytes is below
    /// PIPE_BUF), so a read of a multiple of 384 bytes never splits one; anything else is
    /// garbage from some writer and is reported and dropped.
    pub fn read_requests(&mut self) -> Vec<Result<Request, RequestError>> {
        let mut out = Vec::new();
        let Some(fd) = &self.fd else { return out };
        let mut buf = [0u8; REQUEST_SIZE * 10];
        loop {
            match nix::unistd::read(fd, &mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    for chunk in buf[..n].chunks(REQUEST_SIZE) {
                        out.push(decode(chunk));
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => break,
                Err(e) => {
                    log::error!("control channel {}: {}", self.path.display(), e.desc());
                    break;
                }
            }
        }
        out
    }
}
