//! init's control FIFO (`run/initctl` under the root): created mode 0600, opened for
//! reading and writing (so it never reports end-of-file when a writer leaves), never
//! blocking, and reopened on SIGUSR1.
//!
//! The FIFO must survive what boot scripts do to its directory: Debian's
//! `mountkernfs.sh` mounts a tmpfs on `/run` after init started, hiding the FIFO init
//! holds, and nothing recreates it. So, like sysvinit, init checks on every turn of its
//! loop that the path still names the FIFO it holds, and recreates it when it does not.
//! An idle init is woken for that by the kernel: the mount table (`/proc/self/mountinfo`
//! signals a change with POLLPRI) and the FIFO's directory (inotify) are watched.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::PathBuf;

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use nix::sys::stat::{fstat, Mode};

use crate::format::initreq::{decode, Request, RequestError, REQUEST_SIZE};

pub struct Control {
    path: PathBuf,
    fd: Option<OwnedFd>,
    /// Device and inode of the FIFO `fd` reads.
    identity: Option<(u64, u64)>,
    /// `/proc/self/mountinfo`: POLLPRI when a mount appears or goes (None until /proc is
    /// mounted, early in a real boot).
    mounts: Option<OwnedFd>,
    /// Changes to the names in the FIFO's directory.
    directory: Option<Inotify>,
}

impl Control {
    /// Creates (if needed) and opens the FIFO. Failure is logged; init then runs without
    /// a control channel rather than not at all.
    pub fn open(path: PathBuf) -> Control {
        let mut control = Control {
            path,
            fd: None,
            identity: None,
            mounts: None,
            directory: None,
        };
        control.reopen();
        control
    }

    pub fn reopen(&mut self) {
        self.fd = None;
        self.identity = None;
        match self.create_and_open() {
            Ok(fd) => {
                self.identity = fstat(&fd).ok().map(|st| (st.st_dev, st.st_ino));
                self.fd = Some(fd);
            }
            Err(e) => log::error!(
                "control channel {}: {}",
                self.path.display(),
                crate::sys::describe_io(&e)
            ),
        }
        self.watch_directory();
    }

    /// Recreates the FIFO when its name no longer leads to the one init holds (a file
    /// system mounted over its directory, the FIFO removed or replaced), and re-arms the
    /// watches. Cheap enough for every turn: a few system calls.
    pub fn check(&mut self) {
        self.drain_watches();
        let current = std::fs::symlink_metadata(&self.path)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        if current.is_none() || current != self.identity {
            if self.fd.is_some() {
                log::info!(
                    "control channel {} is gone or replaced: recreating it",
                    self.path.display()
                );
            }
            self.reopen();
        }
    }

    /// The descriptors init's poll should wait on besides the FIFO, with the events that
    /// mean "check the FIFO".
    pub fn watch_fds(&self) -> Vec<(BorrowedFd<'_>, nix::poll::PollFlags)> {
        use nix::poll::PollFlags;
        let mut fds = Vec::new();
        if let Some(m) = &self.mounts {
            fds.push((m.as_fd(), PollFlags::POLLPRI));
        }
        if let Some(d) = &self.directory {
            fds.push((d.as_fd(), PollFlags::POLLIN));
        }
        fds
    }

    /// Empties the watches so that they wake init again on the next change: the mount
    /// table re-arms when reopened, inotify when read.
    fn drain_watches(&mut self) {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let mounts_changed = self.mounts.as_ref().is_none_or(|m| {
            let mut fds = [PollFd::new(m.as_fd(), PollFlags::POLLPRI)];
            poll(&mut fds, PollTimeout::ZERO).is_ok_and(|n| n > 0)
        });
        if mounts_changed {
            self.mounts = open(
                "/proc/self/mountinfo",
                OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .ok();
        }
        if let Some(d) = &self.directory {
            while let Ok(events) = d.read_events() {
                if events.is_empty() {
                    break;
                }
            }
        }
    }

    /// Watches the FIFO's directory (again: after a mount it is another directory).
    fn watch_directory(&mut self) {
        let Some(dir) = self.path.parent() else {
            return;
        };
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).ok();
        self.directory = inotify.filter(|i| {
            i.add_watch(
                dir,
                AddWatchFlags::IN_DELETE
                    | AddWatchFlags::IN_MOVED_FROM
                    | AddWatchFlags::IN_MOVED_TO
                    | AddWatchFlags::IN_CREATE
                    | AddWatchFlags::IN_DELETE_SELF
                    | AddWatchFlags::IN_ONLYDIR,
            )
            .is_ok()
        });
    }

    fn create_and_open(&self) -> io::Result<OwnedFd> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        match std::fs::symlink_metadata(&self.path) {
            Ok(meta) if trusted(&meta) => {}
            Ok(meta) => {
                // A stale file, a symlink, or a FIFO someone else made (anyone who could
                // open it could read other users' requests or send their own): replace it.
                if meta.file_type().is_fifo() {
                    log::warn!(
                        "control channel {}: not init's own FIFO (owner {}, mode {:o}); replacing it",
                        self.path.display(),
                        meta.uid(),
                        meta.mode() & 0o7777
                    );
                }
                std::fs::remove_file(&self.path)?;
                self.make_fifo()?;
            }
            Err(_) => self.make_fifo()?,
        }
        let fd = open(
            &self.path,
            OFlag::O_RDWR | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
            Mode::empty(),
        )?;
        // The name could have been swapped between the check and the open: check what
        // was opened.
        let st = fstat(&fd)?;
        if st.st_mode & libc::S_IFMT != libc::S_IFIFO
            || st.st_uid != nix::unistd::geteuid().as_raw()
            || st.st_mode & 0o7777 != 0o600
        {
            return Err(io::Error::other("replaced while being opened; not used"));
        }
        Ok(fd)
    }

    fn make_fifo(&self) -> io::Result<()> {
        nix::unistd::mkfifo(&self.path, Mode::S_IRUSR | Mode::S_IWUSR)?;
        // Exactly 0600 whatever the umask.
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o600))
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

/// A FIFO init may use as it finds it: init's own (its owner, mode 0600), as sysvinit
/// insists for `/run/initctl`.
fn trusted(meta: &std::fs::Metadata) -> bool {
    meta.file_type().is_fifo()
        && meta.uid() == nix::unistd::geteuid().as_raw()
        && meta.mode() & 0o7777 == 0o600
}
