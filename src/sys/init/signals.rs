//! The signals init handles, all blocked and read through a signalfd (no handler ever
//! runs; children get a clean mask from the spawn path).

use std::io;

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// Everything init reacts to, plus the job-control signals it must not be stopped by.
pub const HANDLED: &[Signal] = &[
    Signal::SIGCHLD,
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
    Signal::SIGPWR,
    Signal::SIGTSTP,
    Signal::SIGCONT,
    Signal::SIGALRM,
    Signal::SIGTTIN,
    Signal::SIGTTOU,
];

fn handled_set() -> SigSet {
    let mut set = SigSet::empty();
    for &signal in HANDLED {
        set.add(signal);
    }
    set
}

/// Blocks the handled signals and returns a non-blocking, close-on-exec signalfd for them.
///
/// Their dispositions are reset to the default first: a signal ignored by whoever started
/// init (a shell's `trap '' INT`) would be discarded before it reached the signalfd, and an
/// ignored SIGCHLD would make the kernel reap children behind init's back.
pub fn block_and_open() -> io::Result<SignalFd> {
    let set = handled_set();
    set.thread_block().map_err(io::Error::from)?;
    for &signal in HANDLED {
        // SAFETY: installing SIG_DFL runs no handler code.
        let _ = unsafe { nix::sys::signal::signal(signal, nix::sys::signal::SigHandler::SigDfl) };
    }
    SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(io::Error::from)
}

/// Every signal waiting, in arrival order (standard signals coalesce: one SIGCHLD may
/// stand for many exits, which is why init reaps in a loop).
pub fn read_all(fd: &SignalFd) -> Vec<Signal> {
    let mut out = Vec::new();
    while let Ok(Some(info)) = fd.read_signal() {
        if let Ok(signal) = Signal::try_from(info.ssi_signo as i32) {
            out.push(signal);
        }
    }
    out
}
