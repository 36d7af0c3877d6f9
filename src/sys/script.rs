//! Running one script to completion: its output collected through a pipe, its exit
//! watched through a pidfd, a timeout enforced on its whole process group.
//!
//! The script is waited for, not its output: when it exits, whatever it already wrote is
//! drained and the pipe is closed, even if a child it left in the background still holds
//! the pipe (a daemon that did not detach). Waiting for end-of-file there is the classic
//! way a boot hangs forever.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{pipe2, read, Pid};

use crate::sys::spawn::{Spawn, Stdio};

/// How a script run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Signaled(Signal),
    /// It ran past its time; `killed` says whether TERM was not enough.
    TimedOut {
        after: Duration,
        killed: bool,
    },
    /// It could not be started at all.
    SpawnFailed(String),
}

impl Outcome {
    pub fn success(&self) -> bool {
        *self == Outcome::Exited(0)
    }

    pub fn describe(&self) -> String {
        match self {
            Outcome::Exited(code) => format!("exit status {code}"),
            Outcome::Signaled(sig) => format!("killed by {}", sig.as_str()),
            Outcome::TimedOut { after, killed } => format!(
                "timed out after {} s, {}",
                after.as_secs(),
                if *killed { "killed" } else { "terminated" }
            ),
            Outcome::SpawnFailed(why) => why.clone(),
        }
    }
}

/// Limits for one run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// None: wait forever.
    pub timeout: Option<Duration>,
    /// Between SIGTERM and SIGKILL to the script's process group.
    pub kill_grace: Duration,
}

/// A script started and not yet finished: its pid, the pipe its output comes through
/// (None when it writes to rc's own console), its exit watch and its timeout.
///
/// rc keeps its own copy of the pipe's write end while the script runs: the pipe then
/// never reports end-of-file, so the script's exit (its pidfd) is the one event that ends
/// the wait — one wake-up per script instead of two (end-of-file comes a moment before
/// the exit) — and children left holding the pipe cannot matter.
pub struct RunningScript {
    pid: Pid,
    exit: ExitWatch,
    output: Option<(OwnedFd, OwnedFd)>,
    limits: Limits,
    deadline: Option<Instant>,
    stage: Stage,
}

impl RunningScript {
    /// Starts `spawn` in a process group of its own, its stdout and stderr into a pipe
    /// (or, with `capture` false, on rc's own descriptors: an interactive script that
    /// needs the console).
    pub fn start(spawn: &Spawn, limits: Limits, capture: bool) -> Result<RunningScript, Outcome> {
        let mut spawn = spawn.clone();
        let output = if capture {
            let (reader, writer) = pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                .map_err(|e| Outcome::SpawnFailed(format!("pipe: {}", e.desc())))?;
            // Only our end is non-blocking: the flag lives on the open file, and the
            // script's end must block when the pipe is full.
            let _ = nix::fcntl::fcntl(
                &reader,
                nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
            );
            spawn.stdout = Stdio::Fd(writer.as_raw_fd());
            spawn.stderr = Stdio::Fd(writer.as_raw_fd());
            Some((reader, writer))
        } else {
            spawn.stdin = Stdio::Inherit;
            spawn.stdout = Stdio::Inherit;
            spawn.stderr = Stdio::Inherit;
            spawn.foreground = true;
            None
        };
        // Its own process group, so that a timeout can kill the script and its children;
        // but rc's session: at shutdown Debian's sendsigs runs killall5, which spares only
        // its own session, and rc must survive it to run the scripts after it.
        spawn.new_session = false;
        spawn.process_group = Some(0);
        let pid = spawn.spawn().map_err(|e| {
            Outcome::SpawnFailed(crate::sys::spawn::describe_spawn_error(spawn.program(), &e))
        })?;
        Ok(RunningScript {
            pid,
            exit: ExitWatch::new(pid),
            output,
            limits,
            deadline: limits.timeout.map(|t| Instant::now() + t),
            stage: Stage::Running,
        })
    }

    /// The descriptors to poll: its output (if captured) and its exit watch (None when
    /// the kernel has no pidfds: then poll with a short timeout, see [`Self::deadline`]).
    pub fn fds(&self) -> (Option<BorrowedFd<'_>>, Option<BorrowedFd<'_>>) {
        (
            self.output.as_ref().map(|(r, _)| r.as_fd()),
            self.exit.pidfd.as_ref().map(|p| p.as_fd()),
        )
    }

    /// When to look at it again without an event: its timeout, or soon when its exit
    /// cannot be watched.
    pub fn deadline(&self) -> Option<Instant> {
        let poll_again = self
            .exit
            .pidfd
            .is_none()
            .then(|| Instant::now() + Duration::from_millis(50));
        match (self.deadline, poll_again) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Hands what it wrote so far to `on_output`.
    pub fn read_output(&self, on_output: &mut impl FnMut(&[u8])) {
        if let Some((reader, _)) = &self.output {
            drain(reader, on_output);
        }
    }

    /// Its outcome once it has ended (its last output handed over first); escalates
    /// TERM → KILL when its time is up. None while it runs.
    pub fn check(&mut self, now: Instant, on_output: &mut impl FnMut(&[u8])) -> Option<Outcome> {
        let status = match self.exit.try_wait() {
            Some(status) => status,
            None if self.deadline.is_some_and(|d| now >= d) => match self.escalate() {
                Some(()) => return None,
                // Unkillable (stuck in the kernel): leave it and go on.
                None => None,
            },
            None => return None,
        };
        self.read_output(on_output);
        self.output = None;
        let after = self.limits.timeout.unwrap_or_default();
        Some(match (self.stage, status) {
            (Stage::Running, Some(WaitStatus::Exited(_, code))) => Outcome::Exited(code),
            (Stage::Running, Some(WaitStatus::Signaled(_, sig, _))) => Outcome::Signaled(sig),
            (Stage::Running, _) => Outcome::Exited(0),
            (Stage::Terminated, _) => Outcome::TimedOut {
                after,
                killed: false,
            },
            (Stage::Killed, _) => Outcome::TimedOut {
                after,
                killed: true,
            },
        })
    }

    /// The next step against a script past its time; None when there is none left.
    fn escalate(&mut self) -> Option<()> {
        let (signal, next) = match self.stage {
            Stage::Running => (Signal::SIGTERM, Stage::Terminated),
            Stage::Terminated => (Signal::SIGKILL, Stage::Killed),
            Stage::Killed => return None,
        };
        let _ = killpg(self.pid, signal);
        self.stage = next;
        self.deadline = Some(Instant::now() + self.limits.kill_grace);
        Some(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Running,
    Terminated,
    Killed,
}

/// Reads everything available now from the (non-blocking) pipe.
fn drain(fd: &OwnedFd, on_output: &mut impl FnMut(&[u8])) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match read(fd, &mut buf) {
            Ok(0) => return,
            Ok(n) => on_output(&buf[..n]),
            Err(Errno::EINTR) => continue,
            Err(_) => return,
        }
    }
}

/// Watches one child for its exit: through a pidfd where the kernel has them (5.3+),
/// else by polling `waitpid`.
struct ExitWatch {
    pid: Pid,
    pidfd: Option<OwnedFd>,
}

impl ExitWatch {
    fn new(pid: Pid) -> ExitWatch {
        ExitWatch {
            pid,
            pidfd: crate::sys::proc::pidfd_open(pid).ok(),
        }
    }

    /// The child's status if it has exited (and is now reaped).
    fn try_wait(&self) -> Option<Option<WaitStatus>> {
        match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => None,
            Ok(status @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) => Some(Some(status)),
            Ok(_) => None,
            Err(Errno::EINTR) => None,
            // ECHILD: someone else reaped it (a subreaper parent's loop); nothing to wait for.
            Err(_) => Some(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

    /// Runs one script to its end (see [`RunningScript`]), handing its output to
    /// `on_output` as it comes.
    fn run_script(spawn: &Spawn, limits: Limits, mut on_output: impl FnMut(&[u8])) -> Outcome {
        let mut script = match RunningScript::start(spawn, limits, true) {
            Ok(s) => s,
            Err(outcome) => return outcome,
        };
        loop {
            if let Some(outcome) = script.check(Instant::now(), &mut on_output) {
                return outcome;
            }
            let (output, exit) = script.fds();
            let mut fds: Vec<PollFd> = [output, exit]
                .into_iter()
                .flatten()
                .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
                .collect();
            let ms = crate::sys::runtime::timers::wait_millis(script.deadline());
            let _ = poll(
                &mut fds,
                PollTimeout::try_from(ms).unwrap_or(PollTimeout::NONE),
            );
            script.read_output(&mut on_output);
        }
    }

    fn sh(script: &str) -> Spawn {
        let mut s = Spawn::new("/bin/sh");
        s.args(["-c", script]).env("PATH", crate::sys::DEFAULT_PATH);
        s
    }

    fn run(script: &str, timeout: Option<u64>) -> (Outcome, String) {
        let limits = Limits {
            timeout: timeout.map(Duration::from_millis),
            kill_grace: Duration::from_millis(300),
        };
        let mut out = Vec::new();
        let outcome = run_script(&sh(script), limits, |chunk| out.extend_from_slice(chunk));
        (outcome, String::from_utf8(out).unwrap())
    }

    #[test]
    fn collects_stdout_and_stderr_and_the_status() {
        let (outcome, out) = run("echo out; echo err >&2; exit 4", None);
        assert_eq!(outcome, Outcome::Exited(4));
        assert_eq!(out, "out\nerr\n");
    }

    #[test]
    fn does_not_wait_for_a_background_child_holding_the_pipe() {
        let started = Instant::now();
        let (outcome, out) = run("echo before; sleep 30 & echo after", Some(10_000));
        assert_eq!(outcome, Outcome::Exited(0));
        assert_eq!(out, "before\nafter\n");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_hung_script_is_terminated() {
        let (outcome, _) = run("sleep 30", Some(200));
        assert_eq!(
            outcome,
            Outcome::TimedOut {
                after: Duration::from_millis(200),
                killed: false
            }
        );
    }

    #[test]
    fn a_script_ignoring_term_is_killed() {
        let (outcome, out) = run(
            "trap '' TERM; echo ready; while :; do sleep 1; done",
            Some(200),
        );
        assert_eq!(
            outcome,
            Outcome::TimedOut {
                after: Duration::from_millis(200),
                killed: true
            }
        );
        assert_eq!(out, "ready\n");
    }

    #[test]
    fn signals_and_spawn_failures_are_reported() {
        let (outcome, _) = run("kill -SEGV $$", None);
        assert_eq!(outcome, Outcome::Signaled(Signal::SIGSEGV));
        let outcome = run_script(
            &Spawn::new("/no/such/script"),
            Limits {
                timeout: None,
                kill_grace: Duration::ZERO,
            },
            |_| {},
        );
        assert_eq!(
            outcome,
            Outcome::SpawnFailed("/no/such/script: No such file or directory".into())
        );
    }
}
