//! What init does on a signal or a control request.

use nix::sys::signal::{killpg, Signal};

use super::tree::Role;
use super::{Init, MAX_ENV};
use crate::format::initreq::{Request, RequestError};
use crate::format::inittab::Action;
use crate::format::runlevel::Runlevel;

impl Init {
    pub(super) fn on_signal(&mut self, signo: i32) {
        // In a container or as a subreaper, TERM and INT (docker stop, Ctrl-C) mean a
        // clean stop; on a machine sysvinit's meanings hold.
        let stoppable = self.role != Role::Machine;
        let main = self.main.as_ref().and_then(|m| m.pid);
        let Ok(signal) = Signal::try_from(signo) else {
            // Real-time signals mean nothing to init.
            self.forward_or_ignore(main, signo);
            return;
        };
        match signal {
            // Children are reaped on every turn of the loop.
            Signal::SIGCHLD => {}
            // init's own writes to a console nobody reads: nothing to tell anyone.
            Signal::SIGPIPE => {}
            Signal::SIGTERM | Signal::SIGINT if stoppable => {
                log::info!("{} received: shutting down", signal.as_str());
                self.begin_shutdown(Runlevel::HALT);
            }
            Signal::SIGTERM => log::info!("SIGTERM ignored (telinit 0 halts the system)"),
            Signal::SIGINT => self.trigger(&[Action::Ctrlaltdel]),
            Signal::SIGPWR => self.on_power_signal(),
            // The halt tools pause init (no new processes) before they stop the system.
            Signal::SIGTSTP => self.paused = true,
            Signal::SIGCONT => self.paused = false,
            // Job control from a terminal never stops init.
            Signal::SIGTTIN | Signal::SIGTTOU => {}
            // With a main command, everything else belongs to it (reload a server, resize
            // a terminal, a profiler's signal); init's own meanings stay available
            // through telinit.
            _ if main.is_some() => self.forward_or_ignore(main, signo),
            Signal::SIGHUP => self.on_reload(),
            Signal::SIGUSR1 => self.control.reopen(),
            Signal::SIGWINCH => self.trigger(&[Action::Kbrequest]),
            _ => self.forward_or_ignore(None, signo),
        }
    }

    /// Passes a signal on to the main command's process group (as tini and dumb-init
    /// do), or logs that init ignores it.
    fn forward_or_ignore(&self, main: Option<nix::unistd::Pid>, signo: i32) {
        match main {
            Some(pid) => {
                // SAFETY: kill(2) with a process group and a signal number; no memory.
                unsafe { libc::kill(-pid.as_raw(), signo) };
            }
            None => log::info!("{} ignored", crate::sys::runtime::signals::name(signo)),
        }
    }

    pub(super) fn on_request(&mut self, request: Result<Request, RequestError>) {
        match request {
            Err(e) => log::warn!("control channel: {e}; request dropped"),
            Ok(Request::Runlevel { level, sleep_secs }) => {
                if sleep_secs > 0 {
                    self.sleep_time = std::time::Duration::from_secs(u64::from(sleep_secs));
                }
                match level {
                    'Q' | 'q' => self.on_reload(),
                    'U' | 'u' => self.reexec_pending = true,
                    'a'..='c' | 'A'..='C' => self.demand(level),
                    other => match Runlevel::from_char(other) {
                        Some(l) => self.request_level(l),
                        None => log::warn!("control channel: runlevel {other:?} ignored"),
                    },
                }
            }
            Ok(Request::PowerFail) => self.trigger(&[Action::Powerfail, Action::Powerwait]),
            Ok(Request::PowerFailNow) => self.trigger(&[Action::Powerfailnow]),
            Ok(Request::PowerOk) => self.trigger(&[Action::Powerokwait]),
            Ok(Request::SetEnv(vars)) => {
                for (key, value) in vars {
                    self.set_env(key, value);
                }
            }
        }
    }

    /// `telinit q` / SIGHUP: re-read inittab; entries it removed or changed are killed.
    pub(super) fn on_reload(&mut self) {
        log::info!("re-reading inittab");
        let victims = self.reload();
        if victims.is_empty() {
            return;
        }
        match &mut self.transition {
            Some(t) => {
                for pid in &victims {
                    let _ = killpg(*pid, Signal::SIGTERM);
                }
                t.victims.extend(victims);
            }
            None => self.begin_transition(victims, None),
        }
    }

    /// Marks event entries of these actions to run (again).
    fn trigger(&mut self, actions: &[Action]) {
        for (entry, state) in self.tab.entries.iter().zip(&mut self.states) {
            if actions.contains(&entry.action) {
                state.triggered = true;
                state.executed = false;
            }
        }
    }

    /// `telinit a|b|c`: start the ondemand entries with that letter; the level stays.
    fn demand(&mut self, letter: char) {
        for (entry, state) in self.tab.entries.iter().zip(&mut self.states) {
            if entry.action == Action::Ondemand && entry.levels.has_demand(letter) {
                state.demanded = true;
            }
        }
    }

    /// SIGPWR: the power status is the first character of `run/powerstatus` (O ok, L low,
    /// anything else a failure). In a container without that file, SIGPWR is the clean
    /// stop LXC sends.
    fn on_power_signal(&mut self) {
        let path = self.root.powerstatus();
        let status = std::fs::read(&path)
            .ok()
            .map(|b| b.first().copied().unwrap_or(b'F'));
        let _ = std::fs::remove_file(&path);
        match status {
            None if self.role != Role::Machine => {
                log::info!("SIGPWR without a power status: shutting down");
                self.begin_shutdown(Runlevel::HALT);
            }
            Some(b'O') => self.trigger(&[Action::Powerokwait]),
            Some(b'L') => self.trigger(&[Action::Powerfailnow]),
            _ => self.trigger(&[Action::Powerfail, Action::Powerwait]),
        }
    }

    /// `telinit -e`: only `INIT_*` names, at most [`MAX_ENV`] of them.
    fn set_env(&mut self, key: String, value: Option<String>) {
        if !key.starts_with("INIT_") || key == "INIT_VERSION" {
            log::warn!("control channel: variable {key} ignored (only INIT_* can be set)");
            return;
        }
        self.env.retain(|(k, _)| *k != key);
        if let Some(value) = value {
            if self.env.len() >= MAX_ENV {
                log::warn!("control channel: {key} ignored: already {MAX_ENV} variables set");
                return;
            }
            self.env.push((key, value));
        }
    }
}
