//! Every signal init can receive is blocked and read through a signalfd: no handler ever
//! runs, and no signal sent from outside can end or stop init (children get a clean mask
//! from the spawn path). What each one means is decided in `events`.

use std::io;

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// Blocks every signal and returns a non-blocking, close-on-exec signalfd for them all.
///
/// As tini does, init blocks what it does not handle instead of leaving it the default
/// action: SIGPROF, SIGXCPU, SIGIO and the like would otherwise terminate init (in a
/// container or as a subreaper, PID 1's protection does not apply) and orphan the main
/// command. A real fault (SIGSEGV, SIGBUS, … raised by the CPU) still ends the process:
/// the kernel unblocks those when it forces them.
///
/// Dispositions are reset to the default first: a signal ignored by whoever started init
/// (a shell's `trap '' INT`) would be discarded before it reached the signalfd, and an
/// ignored SIGCHLD would make the kernel reap children behind init's back.
pub fn block_and_open() -> io::Result<SignalFd> {
    let all = SigSet::all();
    all.thread_block().map_err(io::Error::from)?;
    for signo in 1..=libc::SIGRTMAX() {
        // Keep the runtime's fault handlers (stack-overflow reports); they only run for
        // real faults, which a mask cannot stop anyway.
        if [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, libc::SIGBUS].contains(&signo) {
            continue;
        }
        // SAFETY: installing SIG_DFL runs no handler code; numbers the C library keeps
        // for itself are refused with EINVAL and left alone.
        unsafe { libc::signal(signo, libc::SIG_DFL) };
    }
    SignalFd::with_flags(&all, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(io::Error::from)
}

/// The numbers of every signal waiting, in arrival order (standard signals coalesce: one
/// SIGCHLD may stand for many exits, which is why init reaps in a loop). Numbers, not
/// `Signal`s: real-time signals have no name but are still forwarded.
pub fn read_all(fd: &SignalFd) -> Vec<i32> {
    let mut out = Vec::new();
    while let Ok(Some(info)) = fd.read_signal() {
        out.push(info.ssi_signo as i32);
    }
    out
}

/// The name of a signal number for log lines (`SIGPROF`, `SIGRTMIN+3`).
pub fn name(signo: i32) -> String {
    match Signal::try_from(signo) {
        Ok(signal) => signal.as_str().to_string(),
        Err(_) if signo >= libc::SIGRTMIN() => format!("SIGRTMIN+{}", signo - libc::SIGRTMIN()),
        Err(_) => format!("signal {signo}"),
    }
}
