//! The terminal of a full-screen tool (ntsysv): raw mode and the alternate screen while
//! it runs, and the terminal given back as it was on every way out — normal return,
//! error, panic (a hook restores it before the message is printed, so the message
//! lands on the normal screen), and SIGTERM, SIGHUP, SIGINT or SIGQUIT.
//!
//! Signals: the handler only records the signal. The tool polls for keys with a short
//! timeout and asks [`caught`] between polls (crossterm's poll retries on EINTR, so a
//! signal alone would not wake it); it then leaves the screen like any other exit and
//! calls [`die_of`], so that its parent sees it killed by that signal.
//!
//! A terminal that hangs up (its window closed, the ssh session gone) is watched by a
//! small thread: crossterm's reader loops for ever on a read of 0 bytes, so the main
//! thread may never get to look at a flag. The watcher leaves with status 129 (SIGHUP's)
//! at once: a terminal that is gone needs no restoring.

use std::io::{self, IsTerminal};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Once;

use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};
use ratatui::crossterm::{cursor, execute, terminal};

/// The signals that end a full-screen session.
const ENDING: [Signal; 4] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
];

/// Whether the terminal is in raw mode on the alternate screen (owed a restore).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// The last ending signal received, 0 for none.
static CAUGHT: AtomicI32 = AtomicI32::new(0);
static PANIC_HOOK: Once = Once::new();

extern "C" fn note_signal(sig: libc::c_int) {
    CAUGHT.store(sig, Ordering::SeqCst);
}

/// A full-screen session; dropping it gives the terminal back.
pub struct FullScreen {
    previous: Vec<(Signal, SigAction)>,
    hangup_watch: Option<HangupWatch>,
}

/// The thread that ends the process when the terminal on stdin hangs up.
struct HangupWatch {
    stop: std::sync::Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl HangupWatch {
    fn start() -> Option<HangupWatch> {
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let seen = stop.clone();
        let thread = std::thread::Builder::new()
            .name("hangup-watch".into())
            .spawn(move || {
                while !seen.load(Ordering::SeqCst) {
                    if hung_up(100) {
                        // SAFETY: leaving without unwinding; nothing is left to restore.
                        unsafe { libc::_exit(128 + libc::SIGHUP) };
                    }
                }
            })
            .ok()?;
        Some(HangupWatch { stop, thread })
    }

    fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.thread.join();
    }
}

/// Waits up to `ms` for the terminal on stdin to hang up. Asks for no input events, so
/// it takes nothing away from the reader: only hang-ups and errors are reported.
fn hung_up(ms: i32) -> bool {
    let mut fd = libc::pollfd {
        fd: 0,
        events: 0,
        revents: 0,
    };
    // SAFETY: poll on one local struct.
    let n = unsafe { libc::poll(&mut fd, 1, ms) };
    n == 1 && fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

impl FullScreen {
    /// Enters raw mode and the alternate screen, hides the cursor. Fails with a clear
    /// message when standard output is not a terminal or the terminal cannot be set up.
    pub fn enter() -> Result<FullScreen, TerminalError> {
        if !io::stdout().is_terminal() {
            return Err(TerminalError::NotATerminal);
        }
        CAUGHT.store(0, Ordering::SeqCst);
        // Handlers first: a signal that comes while the terminal is being set up must
        // still lead to a restore, not kill the process with the terminal raw.
        let mut session = FullScreen {
            previous: catch_ending_signals(),
            hangup_watch: None,
        };
        install_panic_hook();
        terminal::enable_raw_mode().map_err(TerminalError::RawMode)?;
        ACTIVE.store(true, Ordering::SeqCst);
        session.hangup_watch = HangupWatch::start();
        execute!(io::stdout(), terminal::EnterAlternateScreen, cursor::Hide)
            .map_err(TerminalError::Setup)?;
        Ok(session)
    }
}

/// Why a full-screen session could not start.
#[derive(Debug)]
pub enum TerminalError {
    /// Standard output is not a terminal.
    NotATerminal,
    /// The terminal refused raw mode.
    RawMode(io::Error),
    /// The alternate screen could not be set up.
    Setup(io::Error),
}

impl std::fmt::Display for TerminalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TerminalError::NotATerminal => {
                f.write_str("a terminal is needed, and standard output is not one")
            }
            TerminalError::RawMode(e) => write!(f, "no usable terminal: {e}"),
            TerminalError::Setup(e) => write!(f, "cannot set up the terminal: {e}"),
        }
    }
}

impl Drop for FullScreen {
    fn drop(&mut self) {
        if let Some(watch) = self.hangup_watch.take() {
            watch.stop();
        }
        restore();
        for (sig, action) in &self.previous {
            // SAFETY: puts back the disposition that was in force before enter().
            let _ = unsafe { signal::sigaction(*sig, action) };
        }
    }
}

/// The ending signal received since the session began, if any.
pub fn caught() -> Option<Signal> {
    Signal::try_from(CAUGHT.load(Ordering::SeqCst)).ok()
}

/// Leaves raw mode and the alternate screen, shows the cursor; once, however many exit
/// paths run it.
fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = execute!(io::stdout(), terminal::LeaveAlternateScreen, cursor::Show);
        let _ = terminal::disable_raw_mode();
    }
}

fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// Records the ending signals instead of dying of them; one the process was told to
/// ignore (`nohup`) stays ignored. Returns the dispositions replaced.
fn catch_ending_signals() -> Vec<(Signal, SigAction)> {
    let action = SigAction::new(
        SigHandler::Handler(note_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    let mut previous = Vec::new();
    for sig in ENDING {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        let Ok(old) = (unsafe { signal::sigaction(sig, &action) }) else {
            continue;
        };
        if matches!(old.handler(), SigHandler::SigIgn) {
            // SAFETY: restores the disposition just read.
            let _ = unsafe { signal::sigaction(sig, &old) };
            continue;
        }
        previous.push((sig, old));
    }
    previous
}

/// Dies of `sig` with its default action (after the terminal was given back), so the
/// parent sees what ended the process. Returns the shell's status for it should the
/// signal not kill (it always does for the ending signals).
pub fn die_of(sig: Signal) -> i32 {
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: the default disposition involves no handler.
    let _ = unsafe { signal::sigaction(sig, &default) };
    let mut set = SigSet::empty();
    set.add(sig);
    let _ = set.thread_unblock();
    let _ = signal::raise(sig);
    128 + sig as i32
}
