//! The signals a daemon handles, blocked and read through a signalfd: no handler ever
//! runs, and each turn of the loop takes them all (children get a clean mask and default
//! dispositions from the spawn path).

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// Which signals: every one (init: nothing sent from outside may end it), or a list.
pub enum Which<'a> {
    All,
    Only(&'a [Signal]),
}

pub struct Signals {
    fd: SignalFd,
}

impl Signals {
    /// Blocks the signals and opens a non-blocking, close-on-exec signalfd for them.
    ///
    /// Their dispositions are reset to the default first: a signal ignored by whoever
    /// started the daemon (a shell's `trap '' INT`, `nohup`) would be discarded before it
    /// reached the signalfd, and an ignored SIGCHLD would make the kernel reap children
    /// behind the daemon's back. The runtime's own fault handlers (SIGSEGV, SIGBUS: stack
    /// overflow reports) stay: a real fault ends the process whatever the mask.
    pub fn open(which: Which) -> io::Result<Signals> {
        let set = match which {
            Which::All => SigSet::all(),
            Which::Only(list) => {
                let mut set = SigSet::empty();
                for &s in list {
                    set.add(s);
                }
                set
            }
        };
        set.thread_block().map_err(io::Error::from)?;
        for signo in 1..=libc::SIGRTMAX() {
            let kept = [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, libc::SIGBUS];
            let blocked =
                Signal::try_from(signo).map_or(matches!(which, Which::All), |s| set.contains(s));
            if blocked && !kept.contains(&signo) {
                // SAFETY: installing SIG_DFL runs no handler code; numbers the C library
                // keeps for itself are refused with EINVAL and left alone.
                unsafe { libc::signal(signo, libc::SIG_DFL) };
            }
        }
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(io::Error::from)?;
        Ok(Signals { fd })
    }

    /// Every signal waiting, as numbers, in arrival order (real-time signals have no
    /// `Signal` but still count; standard ones coalesce).
    pub fn read(&self) -> Vec<i32> {
        let mut out = Vec::new();
        while let Ok(Some(info)) = self.fd.read_signal() {
            out.push(info.ssi_signo as i32);
        }
        out
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The name of a signal number for log lines (`SIGPROF`, `SIGRTMIN+3`).
pub fn name(signo: i32) -> String {
    match Signal::try_from(signo) {
        Ok(signal) => signal.as_str().to_string(),
        Err(_) if signo >= libc::SIGRTMIN() => format!("SIGRTMIN+{}", signo - libc::SIGRTMIN()),
        Err(_) => format!("signal {signo}"),
    }
}

/// A command-line tool whose output goes into a pipeline (`chkconfig --list | head`)
/// ends quietly when the reader goes away, as the C tools it replaces do: SIGPIPE gets its
/// default action back (Rust's runtime ignores it, and every later print would fail or
/// panic). Daemons and init keep it ignored: a closed socket or FIFO must not end them.
pub fn end_on_closed_pipe() {
    // SAFETY: installing SIG_DFL runs no handler code.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name(libc::SIGPROF), "SIGPROF");
        assert_eq!(name(libc::SIGRTMIN() + 3), "SIGRTMIN+3");
    }
}
