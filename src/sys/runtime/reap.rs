//! Reaping: every exited child in one loop (`waitpid(-1, WNOHANG)` until nothing is
//! left), because one SIGCHLD may stand for many exits. Orphans re-parented to a
//! subreaper or PID 1 come out of the same loop. (It reaps every child of the process:
//! its tests are the daemons' own, in separate processes — tests/init.rs reaps a
//! thousand orphans through it.)

use nix::errno::Errno;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// How a child ended, as a shell reports it: its exit code, or 128 + the signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChildExit {
    pub pid: Pid,
    /// The exit code, or 128 + N when signal N ended it.
    pub status: i32,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
}

/// Reaps every child that has exited, calling `on_exit` for each. Returns true when the
/// process has no child left at all (ECHILD).
pub fn reap_all(mut on_exit: impl FnMut(ChildExit)) -> bool {
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => return false,
            Ok(WaitStatus::Exited(pid, code)) => on_exit(ChildExit {
                pid,
                status: code,
                signal: None,
            }),
            Ok(WaitStatus::Signaled(pid, sig, _)) => on_exit(ChildExit {
                pid,
                status: 128 + sig as i32,
                signal: Some(sig as i32),
            }),
            Ok(_) | Err(Errno::EINTR) => {}
            Err(Errno::ECHILD) => return true,
            Err(_) => return false,
        }
    }
}
