//! `telinit u`: init re-executes itself (after an upgrade) and the new image takes over
//! the state and every child. The state goes through a memfd named on the command line.

use std::ffi::CString;
use std::io::{Read, Seek, Write};
use std::os::fd::{FromRawFd, IntoRawFd};
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use nix::unistd::Pid;

use super::{Init, MainCommand, Owner};
use crate::format::init_state::{ProcOwner, SavedEntry, SavedProc, SavedState};
use crate::format::runlevel::Runlevel;
use crate::plan::inittab::{EntryState, Stage, Throttle};

impl Init {
    fn save(&self) -> SavedState {
        let now = Instant::now();
        let entries = self
            .tab
            .entries
            .iter()
            .zip(&self.states)
            .map(|(e, s)| SavedEntry {
                id: e.id.clone(),
                running: s.running,
                executed: s.executed,
                failing: s.failing,
                demanded: s.demanded,
                triggered: s.triggered,
                failing_left: self
                    .failing_until
                    .get(&e.id)
                    .map_or(0, |t| t.saturating_duration_since(now).as_secs()),
                starts_ago: self
                    .throttles
                    .get(&e.id)
                    .map(|t| {
                        t.starts()
                            .map(|s| now.saturating_duration_since(*s).as_secs())
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        let procs = self
            .procs
            .iter()
            .map(|(pid, owner)| SavedProc {
                pid: pid.as_raw(),
                owner: match owner {
                    Owner::Entry { id, utmp } => ProcOwner::Entry {
                        id: id.clone(),
                        utmp: *utmp,
                    },
                    Owner::Main => ProcOwner::Main,
                    Owner::Detached => ProcOwner::Detached,
                },
            })
            .collect();
        SavedState {
            stage: match self.stage {
                Stage::Sysinit => "sysinit".into(),
                Stage::Boot => "boot".into(),
                Stage::Level(l) => l.to_string(),
            },
            previous: self.previous.map(Runlevel::as_char),
            default_level: self.boot_level.map(Runlevel::as_char),
            sleep_secs: self.sleep_time.as_secs(),
            grace_secs: self.grace.as_secs(),
            paused: self.paused,
            env: self.env.clone(),
            entries,
            procs,
            main_argv: self
                .main
                .as_ref()
                .map(|m| {
                    m.argv
                        .iter()
                        .map(|a| a.to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default(),
            main_started: self.main.as_ref().is_some_and(|m| m.started),
            main_cwd: self
                .main
                .as_ref()
                .and_then(|m| m.cwd.as_ref())
                .map(|c| c.to_string_lossy().into_owned()),
        }
    }

    /// Replaces this image with the binary at the same path, keeping state and children.
    /// On failure init goes on as it was.
    pub(super) fn reexec(&mut self) {
        log::info!("re-executing {}", self.self_exe.display());
        let text = self.save().to_text();
        let fd = match memfd_with(&text) {
            Ok(fd) => fd,
            Err(e) => {
                log::error!(
                    "re-exec: cannot hand over state: {}",
                    crate::sys::describe_io(&e)
                );
                return;
            }
        };
        let mut args = vec![
            self.self_exe.as_os_str().as_bytes().to_vec(),
            b"init".to_vec(),
            b"--root".to_vec(),
            self.root.dir().as_os_str().as_bytes().to_vec(),
            b"--resume-fd".to_vec(),
            fd.to_string().into_bytes(),
        ];
        if !self.quiet {
            args.push(b"--verbose".to_vec());
        }
        let cargs: Vec<CString> = args
            .into_iter()
            .filter_map(|a| CString::new(a).ok())
            .collect();
        let Ok(program) = CString::new(self.self_exe.as_os_str().as_bytes()) else {
            return;
        };
        // The blocked signal mask and pending signals survive exec; the new image blocks
        // the same set before reading them, so none is lost.
        let err = nix::unistd::execv(&program, &cargs).unwrap_err();
        log::error!(
            "re-exec of {} failed: {}; continuing",
            self.self_exe.display(),
            err.desc()
        );
        // SAFETY: the memfd is ours and still open.
        drop(unsafe { std::fs::File::from_raw_fd(fd) });
    }

    /// Takes over from the previous image.
    pub(super) fn resume(&mut self, fd: i32) {
        // SAFETY: the descriptor was handed to us on the command line by our previous image.
        let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
        let mut text = String::new();
        let read = file.rewind().and_then(|_| file.read_to_string(&mut text));
        drop(file);
        let parsed = read
            .map_err(|e| crate::sys::describe_io(&e))
            .and_then(|_| SavedState::parse(&text));
        let (state, warnings) = match parsed {
            Ok(v) => v,
            Err(why) => {
                log::error!("re-exec: no usable state ({why}); booting afresh");
                self.boot();
                return;
            }
        };
        for w in warnings {
            log::warn!("re-exec: {w}");
        }
        let (tab, builtin) = self.load_inittab(true).unwrap_or_default();
        self.tab = tab;
        self.tab_is_builtin = builtin;
        self.apply_saved(state);
        log::info!(
            "vinit {} re-executed; {} processes kept",
            env!("CARGO_PKG_VERSION"),
            self.procs.len()
        );
    }

    fn apply_saved(&mut self, state: SavedState) {
        let now = Instant::now();
        self.stage = match state.stage.as_str() {
            "sysinit" => Stage::Sysinit,
            "boot" => Stage::Boot,
            other => other
                .chars()
                .next()
                .and_then(Runlevel::from_char)
                .map_or(Stage::Boot, Stage::Level),
        };
        self.previous = state.previous.and_then(Runlevel::from_char);
        self.boot_level = state
            .default_level
            .and_then(Runlevel::from_char)
            .or(self.boot_level);
        self.sleep_time = Duration::from_secs(state.sleep_secs);
        self.grace = Duration::from_secs(state.grace_secs);
        self.paused = state.paused;
        self.env = state.env;
        self.states =
            self.tab
                .entries
                .iter()
                .map(|e| {
                    state.entries.iter().find(|s| s.id == e.id).map_or_else(
                        EntryState::default,
                        |s| EntryState {
                            running: s.running,
                            executed: s.executed,
                            failing: s.failing,
                            demanded: s.demanded,
                            triggered: s.triggered,
                        },
                    )
                })
                .collect();
        for saved in &state.entries {
            if saved.failing_left > 0 {
                self.failing_until.set(
                    saved.id.clone(),
                    now + Duration::from_secs(saved.failing_left),
                );
            }
            if !saved.starts_ago.is_empty() {
                let starts = saved
                    .starts_ago
                    .iter()
                    .map(|s| now.checked_sub(Duration::from_secs(*s)).unwrap_or(now))
                    .collect();
                self.throttles
                    .insert(saved.id.clone(), Throttle::from_starts(starts));
            }
        }
        if !state.main_argv.is_empty() {
            self.main = Some(MainCommand {
                argv: state.main_argv.iter().map(Into::into).collect(),
                cwd: state.main_cwd.map(Into::into),
                pid: None,
                started: state.main_started,
                status: None,
            });
        }
        for saved in state.procs {
            let pid = Pid::from_raw(saved.pid);
            let owner = match saved.owner {
                ProcOwner::Entry { id, utmp } if self.index_of(&id).is_some() => {
                    Owner::Entry { id, utmp }
                }
                ProcOwner::Entry { .. } | ProcOwner::Detached => Owner::Detached,
                ProcOwner::Main => {
                    if let Some(main) = &mut self.main {
                        main.pid = Some(pid);
                    }
                    Owner::Main
                }
            };
            self.procs.insert(pid, owner);
        }
    }
}

/// A memfd holding `text`, left open across exec (its number goes on the command line).
fn memfd_with(text: &str) -> std::io::Result<i32> {
    // SAFETY: memfd_create with a valid name; no MFD_CLOEXEC on purpose.
    let fd = unsafe { libc::memfd_create(c"vinit-state".as_ptr(), 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a new descriptor we own.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    file.write_all(text.as_bytes())?;
    file.rewind()?;
    Ok(file.into_raw_fd())
}
