//! What init hands to its next image on `telinit u`: a small line-oriented text, so that
//! an upgraded binary can read what an older one wrote (unknown lines are skipped).
//!
//! ```text
//! vinit-state 1
//! stage level 3            (or: stage sysinit / stage boot)
//! previous 2               (or N)
//! default 3                (or -)
//! sleep 3
//! grace 5
//! paused 0
//! env INIT_HALT POWEROFF
//! entry ID RUNNING EXECUTED FAILING DEMANDED TRIGGERED FAILING_LEFT STARTS_AGO
//! proc PID entry ID UTMP   (or: proc PID main / proc PID detached)
//! main-arg ARG
//! main-started 1
//! main-cwd DIR
//! ```
//!
//! Strings are escaped: `%XX` for `%`, blanks, control characters and non-ASCII bytes.

use std::fmt::Write as _;

use crate::format::words::{escape, unescape};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SavedEntry {
    pub id: String,
    pub running: bool,
    pub executed: bool,
    pub failing: bool,
    pub demanded: bool,
    pub triggered: bool,
    /// Seconds left of a respawn disable.
    pub failing_left: u64,
    /// Ages in seconds of its recent starts (for the respawn limit).
    pub starts_ago: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcOwner {
    Entry {
        id: String,
        utmp: bool,
    },
    Main,
    /// Being killed, no longer tied to an entry.
    Detached,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedProc {
    pub pid: i32,
    pub owner: ProcOwner,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SavedState {
    /// `sysinit`, `boot`, or a level character.
    pub stage: String,
    pub previous: Option<char>,
    pub default_level: Option<char>,
    pub sleep_secs: u64,
    pub grace_secs: u64,
    pub paused: bool,
    pub env: Vec<(String, String)>,
    pub entries: Vec<SavedEntry>,
    pub procs: Vec<SavedProc>,
    pub main_argv: Vec<String>,
    pub main_started: bool,
    /// The main command's working directory.
    pub main_cwd: Option<String>,
}

const HEADER: &str = "vinit-state 1";

fn flag(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        "0"
    }
}

fn level_or(c: Option<char>, none: &str) -> String {
    c.map_or_else(|| none.to_string(), String::from)
}

impl SavedState {
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\n");
        let stage = match self.stage.as_str() {
            "sysinit" | "boot" => self.stage.clone(),
            level => format!("level {level}"),
        };
        let _ = writeln!(out, "stage {stage}");
        let _ = writeln!(out, "previous {}", level_or(self.previous, "N"));
        let _ = writeln!(out, "default {}", level_or(self.default_level, "-"));
        let _ = writeln!(out, "sleep {}", self.sleep_secs);
        let _ = writeln!(out, "grace {}", self.grace_secs);
        let _ = writeln!(out, "paused {}", flag(self.paused));
        for (k, v) in &self.env {
            let _ = writeln!(out, "env {} {}", escape(k), escape(v));
        }
        for e in &self.entries {
            let starts = if e.starts_ago.is_empty() {
                "-".to_string()
            } else {
                e.starts_ago
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let _ = writeln!(
                out,
                "entry {} {} {} {} {} {} {} {starts}",
                escape(&e.id),
                flag(e.running),
                flag(e.executed),
                flag(e.failing),
                flag(e.demanded),
                flag(e.triggered),
                e.failing_left
            );
        }
        for p in &self.procs {
            let _ = match &p.owner {
                ProcOwner::Entry { id, utmp } => {
                    writeln!(out, "proc {} entry {} {}", p.pid, escape(id), flag(*utmp))
                }
                ProcOwner::Main => writeln!(out, "proc {} main", p.pid),
                ProcOwner::Detached => writeln!(out, "proc {} detached", p.pid),
            };
        }
        for a in &self.main_argv {
            let _ = writeln!(out, "main-arg {}", escape(a));
        }
        let _ = writeln!(out, "main-started {}", flag(self.main_started));
        if let Some(cwd) = &self.main_cwd {
            let _ = writeln!(out, "main-cwd {}", escape(cwd));
        }
        out
    }

    /// Parses saved state. Fails only without the header; bad or unknown lines are
    /// returned as warnings and skipped.
    pub fn parse(text: &str) -> Result<(SavedState, Vec<String>), String> {
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err("not a vinit state (missing header)".into());
        }
        let mut state = SavedState::default();
        let mut warnings = Vec::new();
        for (n, line) in lines.enumerate() {
            let words: Vec<&str> = line.split(' ').collect();
            if let Err(why) = state.apply(&words) {
                warnings.push(format!("state line {}: {why}", n + 2));
            }
        }
        Ok((state, warnings))
    }

    fn apply(&mut self, words: &[&str]) -> Result<(), String> {
        let num = |s: &str| s.parse::<u64>().map_err(|_| format!("bad number {s:?}"));
        let bit = |s: &str| match s {
            "0" => Ok(false),
            "1" => Ok(true),
            _ => Err(format!("bad flag {s:?}")),
        };
        let level = |s: &str| match s.chars().collect::<Vec<_>>()[..] {
            [c] if c.is_ascii_digit() || c == 'S' => Ok(c),
            _ => Err(format!("bad level {s:?}")),
        };
        match words {
            ["stage", "sysinit"] | ["stage", "boot"] => self.stage = words[1].to_string(),
            ["stage", "level", l] => self.stage = level(l)?.to_string(),
            ["previous", "N"] => self.previous = None,
            ["previous", l] => self.previous = Some(level(l)?),
            ["default", "-"] => self.default_level = None,
            ["default", l] => self.default_level = Some(level(l)?),
            ["sleep", n] => self.sleep_secs = num(n)?,
            ["grace", n] => self.grace_secs = num(n)?,
            ["paused", b] => self.paused = bit(b)?,
            ["env", k, v] => self.env.push((unescape(k)?, unescape(v)?)),
            ["entry", id, running, executed, failing, demanded, triggered, left, starts] => {
                let starts_ago = if *starts == "-" {
                    Vec::new()
                } else {
                    starts.split(',').map(num).collect::<Result<_, _>>()?
                };
                self.entries.push(SavedEntry {
                    id: unescape(id)?,
                    running: bit(running)?,
                    executed: bit(executed)?,
                    failing: bit(failing)?,
                    demanded: bit(demanded)?,
                    triggered: bit(triggered)?,
                    failing_left: num(left)?,
                    starts_ago,
                });
            }
            ["proc", pid, rest @ ..] => {
                let pid = pid
                    .parse::<i32>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| format!("bad pid {pid:?}"))?;
                let owner = match rest {
                    ["entry", id, utmp] => ProcOwner::Entry {
                        id: unescape(id)?,
                        utmp: bit(utmp)?,
                    },
                    ["main"] => ProcOwner::Main,
                    ["detached"] => ProcOwner::Detached,
                    _ => return Err("bad proc line".into()),
                };
                self.procs.push(SavedProc { pid, owner });
            }
            ["main-arg", a] => self.main_argv.push(unescape(a)?),
            ["main-started", b] => self.main_started = bit(b)?,
            ["main-cwd", dir] => self.main_cwd = Some(unescape(dir)?),
            [""] => {}
            _ => return Err(format!("unknown line {:?}", words.join(" "))),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> SavedState {
        SavedState {
            stage: "3".into(),
            previous: Some('S'),
            default_level: None,
            sleep_secs: 7,
            grace_secs: 5,
            paused: false,
            env: vec![
                ("INIT_X".into(), "a b%c\n".into()),
                ("INIT_E".into(), String::new()),
            ],
            entries: vec![SavedEntry {
                id: "g1".into(),
                running: true,
                executed: true,
                failing: false,
                demanded: false,
                triggered: false,
                failing_left: 0,
                starts_ago: vec![3, 70],
            }],
            procs: vec![
                SavedProc {
                    pid: 42,
                    owner: ProcOwner::Entry {
                        id: "g1".into(),
                        utmp: true,
                    },
                },
                SavedProc {
                    pid: 43,
                    owner: ProcOwner::Main,
                },
                SavedProc {
                    pid: 44,
                    owner: ProcOwner::Detached,
                },
            ],
            main_argv: vec!["/bin/sh".into(), "-c".into(), "echo hi; sleep 1".into()],
            main_started: true,
            main_cwd: Some("/srv/my app".into()),
        }
    }

    #[test]
    fn round_trip() {
        let text = sample().to_text();
        let (back, warnings) = SavedState::parse(&text).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(back, sample());
    }

    #[test]
    fn bad_lines_are_skipped_with_a_warning() {
        let text = format!("{}proc x main\nfrom-the-future 1\n", sample().to_text());
        let (back, warnings) = SavedState::parse(&text).unwrap();
        assert_eq!(back, sample());
        assert_eq!(warnings.len(), 2);
        assert!(SavedState::parse("garbage").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,200}") {
            let _ = SavedState::parse(&format!("{HEADER}\n{text}"));
        }
    }
}
