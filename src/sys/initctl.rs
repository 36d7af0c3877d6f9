//! The client side of init's control FIFO: what telinit, shutdown and halt use.

use std::io;
use std::os::fd::AsFd;
use std::time::Duration;

use nix::fcntl::{open, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::stat::Mode;

use crate::format::initreq::{encode, Request};
use crate::sys::layout::Root;

/// How long to wait for init to take a request (Debian's telinit gives up after 3 s).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(3);

/// Writes one request to the root's `run/initctl`.
pub fn send(root: &Root, request: &Request) -> Result<(), String> {
    let path = root.initctl();
    let bytes = encode(request)?;
    let fd = open(
        &path,
        OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        nix::errno::Errno::ENXIO => format!("{}: init is not listening", path.display()),
        nix::errno::Errno::ENOENT => {
            format!("{}: no control channel (is init running?)", path.display())
        }
        other => format!("{}: {}", path.display(), other.desc()),
    })?;
    // 384 bytes are below PIPE_BUF: the write is atomic, or fails whole when full.
    loop {
        match nix::unistd::write(&fd, &bytes) {
            Ok(n) if n == bytes.len() => return Ok(()),
            Ok(n) => return Err(format!("{}: short write ({n} bytes)", path.display())),
            Err(nix::errno::Errno::EAGAIN) => {
                let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLOUT)];
                let timeout = PollTimeout::try_from(SEND_TIMEOUT.as_millis() as i32)
                    .unwrap_or(PollTimeout::MAX);
                if poll(&mut fds, timeout).map_err(|e| e.desc().to_string())? == 0 {
                    return Err(format!(
                        "timeout writing control channel {}",
                        path.display()
                    ));
                }
            }
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(format!("{}: {}", path.display(), io::Error::from(e))),
        }
    }
}
