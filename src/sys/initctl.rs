//! The client side of init's control FIFO: what telinit, shutdown and halt use.

use std::fmt;
use std::io;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::stat::Mode;

use crate::error::{SysError, ToolError};
use crate::format::initreq::{encode, Request};
use crate::sys::layout::Root;

/// How long to wait for init to take a request (Debian's telinit gives up after 3 s).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a request did not reach init.
#[derive(Debug)]
pub enum SendError {
    /// The request cannot be written in sysvinit's layout (too much data).
    Encode(String),
    /// No FIFO: init is not running on this root, or has not started yet.
    NoChannel(PathBuf),
    /// The FIFO exists, nobody reads it.
    NotListening(PathBuf),
    /// init did not take the request within [`SEND_TIMEOUT`].
    TimedOut(PathBuf),
    Io(SysError),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Encode(why) => f.write_str(why),
            SendError::NoChannel(p) => {
                write!(f, "{}: no control channel (is init running?)", p.display())
            }
            SendError::NotListening(p) => write!(f, "{}: init is not listening", p.display()),
            SendError::TimedOut(p) => write!(f, "timeout writing control channel {}", p.display()),
            SendError::Io(e) => e.fmt(f),
        }
    }
}

impl ToolError for SendError {}

/// Writes one request to the root's `run/initctl`.
pub fn send(root: &Root, request: &Request) -> Result<(), SendError> {
    let path = root.initctl();
    let bytes = encode(request).map_err(SendError::Encode)?;
    let fd = open(
        &path,
        OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        Errno::ENXIO => SendError::NotListening(path.clone()),
        Errno::ENOENT => SendError::NoChannel(path.clone()),
        other => SendError::Io(SysError::at(&path, other.into())),
    })?;
    // 384 bytes are below PIPE_BUF: the write is atomic, or fails whole when full.
    loop {
        match nix::unistd::write(&fd, &bytes) {
            Ok(n) if n == bytes.len() => return Ok(()),
            Ok(n) => {
                let short =
                    io::Error::new(io::ErrorKind::WriteZero, format!("short write ({n} bytes)"));
                return Err(SendError::Io(SysError::at(&path, short)));
            }
            Err(Errno::EAGAIN) => {
                let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLOUT)];
                let timeout = PollTimeout::try_from(SEND_TIMEOUT.as_millis() as i32)
                    .unwrap_or(PollTimeout::MAX);
                match poll(&mut fds, timeout) {
                    Ok(0) => return Err(SendError::TimedOut(path)),
                    Ok(_) | Err(Errno::EINTR) => {}
                    Err(e) => return Err(SendError::Io(SysError::at(&path, e.into()))),
                }
            }
            Err(Errno::EINTR) => {}
            Err(e) => return Err(SendError::Io(SysError::at(&path, e.into()))),
        }
    }
}
