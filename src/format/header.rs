//! Init script headers: Red Hat's chkconfig comments and the LSB `INIT INFO` block.
//!
//! ```text
//! # chkconfig: 2345 55 25
//! # description: Line one \
//! #              line two
//! ### BEGIN INIT INFO
//! # Provides:          foo
//! # Required-Start:    $network bar
//! # Default-Start:     2 3 4 5
//! # Default-Stop:      0 1 6
//! ### END INIT INFO
//! ```
//!
//! Comment lines count wherever they are (`#chkconfig:` works too); the first
//! `chkconfig:` line wins, as in Red Hat's chkconfig. LSB keywords count only inside the
//! first `BEGIN`/`END INIT INFO` block, as the LSB specifies. Overrides
//! (`etc/chkconfig.d/NAME`) use the same syntax and replace what they mention.

use crate::format::levelset::LevelSet;

/// `# chkconfig: LEVELS START STOP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChkconfigLine {
    /// Where the service is on by default (`-` in the header: nowhere).
    pub levels: LevelSet,
    pub start: u8,
    pub stop: u8,
}

/// The LSB block. Each field is `None` when its keyword is absent, so that an override
/// replaces exactly what it mentions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LsbInfo {
    pub provides: Option<Vec<String>>,
    pub required_start: Option<Vec<String>>,
    pub required_stop: Option<Vec<String>>,
    pub should_start: Option<Vec<String>>,
    pub should_stop: Option<Vec<String>>,
    /// insserv's `X-Start-Before`: these start after this service.
    pub x_start_before: Option<Vec<String>>,
    /// insserv's `X-Stop-After`: these stop before this service.
    pub x_stop_after: Option<Vec<String>>,
    /// `X-Interactive: true`: the script needs the console to itself (it may prompt).
    pub x_interactive: Option<bool>,
    pub default_start: Option<LevelSet>,
    pub default_stop: Option<LevelSet>,
    pub short_description: Option<String>,
    pub description: Option<String>,
}

impl LsbInfo {
    /// The block's dependencies (absent keywords: none).
    pub(crate) fn dependencies(&self) -> Dependencies {
        let list = |l: &Option<Vec<String>>| l.clone().unwrap_or_default();
        Dependencies {
            required_start: list(&self.required_start),
            required_stop: list(&self.required_stop),
            should_start: list(&self.should_start),
            should_stop: list(&self.should_stop),
            start_before: list(&self.x_start_before),
            stop_after: list(&self.x_stop_after),
        }
    }

    /// This block with every field `over` has replaced.
    fn overlay(&self, over: &LsbInfo) -> LsbInfo {
        fn pick<T: Clone>(over: &Option<T>, base: &Option<T>) -> Option<T> {
            over.clone().or_else(|| base.clone())
        }
        LsbInfo {
            provides: pick(&over.provides, &self.provides),
            required_start: pick(&over.required_start, &self.required_start),
            required_stop: pick(&over.required_stop, &self.required_stop),
            should_start: pick(&over.should_start, &self.should_start),
            should_stop: pick(&over.should_stop, &self.should_stop),
            x_start_before: pick(&over.x_start_before, &self.x_start_before),
            x_stop_after: pick(&over.x_stop_after, &self.x_stop_after),
            x_interactive: pick(&over.x_interactive, &self.x_interactive),
            default_start: pick(&over.default_start, &self.default_start),
            default_stop: pick(&over.default_stop, &self.default_stop),
            short_description: pick(&over.short_description, &self.short_description),
            description: pick(&over.description, &self.description),
        }
    }
}

/// Something wrong in a header, with its line number (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HeaderProblem {
    pub line: usize,
    pub message: String,
}

/// Everything a script's comments say about it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Header {
    pub chkconfig: Option<ChkconfigLine>,
    /// The first `chkconfig:` line was malformed: the script does not support
    /// chkconfig (Red Hat's rule), whatever else it says.
    pub chkconfig_broken: bool,
    /// `# description:`, continuation lines joined.
    pub description: Option<String>,
    pub lsb: Option<LsbInfo>,
    /// `# hide: true`: ntsysv leaves the service out with `--hide`.
    pub hide: bool,
    pub problems: Vec<HeaderProblem>,
}

/// Why a script cannot be managed by chkconfig.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Unsupported {
    /// Neither a `chkconfig:` line nor LSB default levels.
    NoHeader,
    /// A malformed `chkconfig:` line.
    Broken(HeaderProblem),
}

/// Dependencies from the LSB block. Names are service names, `Provides` names or
/// facilities (`$network`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dependencies {
    pub required_start: Vec<String>,
    pub required_stop: Vec<String>,
    pub should_start: Vec<String>,
    pub should_stop: Vec<String>,
    pub start_before: Vec<String>,
    pub stop_after: Vec<String>,
}

/// What chkconfig needs to know about a service, overrides applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServiceInfo {
    /// Levels where the service is on by default.
    pub levels: LevelSet,
    /// Levels where it is explicitly off by default (LSB `Default-Stop`; for a
    /// `chkconfig:` line every other level 0–6).
    pub stop_levels: LevelSet,
    /// Priorities from the `chkconfig:` line.
    pub start: Option<u8>,
    pub stop: Option<u8>,
    pub lsb: bool,
    /// The names it answers to: its own name, then its `Provides`.
    pub provides: Vec<String>,
    pub deps: Dependencies,
    pub description: String,
    pub hide: bool,
}

impl Header {
    /// Parses the header of a script (or of an override file).
    pub(crate) fn parse(text: &[u8]) -> Header {
        Parser::default().run(text)
    }

    /// This header with an override file's header laid over it: what the override says
    /// replaces what the script says.
    pub(crate) fn overlay(&self, over: &Header) -> Header {
        let lsb = match (&self.lsb, &over.lsb) {
            (Some(base), Some(o)) => Some(base.overlay(o)),
            (base, o) => o.clone().or_else(|| base.clone()),
        };
        let mut problems = self.problems.clone();
        problems.extend(over.problems.iter().cloned());
        // An override naming LSB default levels without a chkconfig line changes the
        // levels and keeps the script's priorities.
        let over_levels = over
            .lsb
            .as_ref()
            .and_then(|l| match (l.default_start, l.default_stop) {
                (None, None) => None,
                (start, stop) => Some(
                    start
                        .unwrap_or_default()
                        .difference(stop.unwrap_or_default()),
                ),
            });
        let chkconfig = match (over.chkconfig, self.chkconfig, over_levels) {
            (Some(line), _, _) => Some(line),
            (None, Some(line), Some(levels)) => Some(ChkconfigLine { levels, ..line }),
            (None, line, _) => line,
        };
        Header {
            chkconfig,
            chkconfig_broken: if over.chkconfig.is_some() {
                false
            } else {
                self.chkconfig_broken
            },
            description: over
                .description
                .clone()
                .or_else(|| self.description.clone()),
            lsb,
            hide: self.hide || over.hide,
            problems,
        }
    }

    /// The service as chkconfig sees it, or why it cannot manage it.
    pub(crate) fn service_info(&self, name: &str) -> Result<ServiceInfo, Unsupported> {
        if self.chkconfig_broken {
            let problem = self
                .problems
                .iter()
                .find(|p| p.message.starts_with("chkconfig:"))
                .cloned()
                .unwrap_or(HeaderProblem {
                    line: 0,
                    message: "chkconfig: malformed line".into(),
                });
            return Err(Unsupported::Broken(problem));
        }
        let lsb = self.lsb.clone().unwrap_or_default();
        let (levels, stop_levels) = match (&self.chkconfig, &self.lsb) {
            (Some(line), _) => (line.levels, LevelSet::ALL.difference(line.levels)),
            (None, Some(l)) if l.default_start.is_some() || l.default_stop.is_some() => {
                let stop = l.default_stop.unwrap_or_default();
                (l.default_start.unwrap_or_default().difference(stop), stop)
            }
            _ => return Err(Unsupported::NoHeader),
        };
        let mut provides = vec![name.to_string()];
        for p in lsb.provides.iter().flatten() {
            if !provides.contains(p) {
                provides.push(p.clone());
            }
        }
        Ok(ServiceInfo {
            levels,
            stop_levels,
            start: self.chkconfig.map(|c| c.start),
            stop: self.chkconfig.map(|c| c.stop),
            lsb: self.lsb.is_some(),
            provides,
            deps: lsb.dependencies(),
            description: self
                .description
                .clone()
                .or(lsb.description)
                .or(lsb.short_description)
                .unwrap_or_else(|| name.to_string()),
            hide: self.hide,
        })
    }
}

/// What the previous line left open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Continuation {
    #[default]
    None,
    /// `# description: ... \`: the next comment line continues it.
    Backslash,
    /// A `description(xx): ... \` line we skip, with its continuation lines.
    SkippedBackslash,
    /// LSB `Description:`: following `#<TAB>` or `#  ` lines continue it.
    LsbDescription,
}

#[derive(Default)]
struct Parser {
    header: Header,
    /// Inside the first LSB block.
    in_lsb: bool,
    /// The first LSB block has ended.
    lsb_done: bool,
    continuation: Continuation,
}

impl Parser {
    fn run(mut self, text: &[u8]) -> Header {
        for (index, raw) in text.split(|&b| b == b'\n').enumerate() {
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let start = raw
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(raw.len());
            if raw.get(start) != Some(&b'#') {
                self.continuation = Continuation::None;
                continue;
            }
            let line = String::from_utf8_lossy(&raw[start..]);
            self.comment(index + 1, &line);
        }
        self.header
    }

    /// One comment line (starting with `#`).
    fn comment(&mut self, number: usize, line: &str) {
        if self.continue_previous(line) {
            return;
        }
        if line.starts_with("### BEGIN INIT INFO") {
            if !self.lsb_done && self.header.lsb.is_none() {
                self.header.lsb = Some(LsbInfo::default());
                self.in_lsb = true;
            }
            return;
        }
        if line.starts_with("### END INIT INFO") {
            if self.in_lsb {
                self.in_lsb = false;
                self.lsb_done = true;
            }
            return;
        }
        let body = line[1..].trim_start();
        if body.is_empty() {
            return;
        }
        if self.in_lsb && self.lsb_keyword(number, body) {
            return;
        }
        if let Some(rest) = body.strip_prefix("chkconfig:") {
            self.chkconfig(number, rest);
        } else if let Some(rest) = body.strip_prefix("description:") {
            self.description(rest);
        } else if body.starts_with("description(") {
            // A translated description: the English one is what we show.
            if body.trim_end().ends_with('\\') {
                self.continuation = Continuation::SkippedBackslash;
            }
        } else if let Some(rest) = body.strip_prefix("hide:") {
            let rest = rest.trim_start();
            if rest.is_empty() || rest.starts_with("true") {
                self.header.hide = true;
            }
        }
    }

    /// Joins a continuation line to what the previous line opened. True if consumed.
    fn continue_previous(&mut self, line: &str) -> bool {
        match std::mem::take(&mut self.continuation) {
            Continuation::None => false,
            Continuation::Backslash => {
                let text = line[1..].trim_start();
                let (text, more) = strip_backslash(text);
                if let Some(desc) = &mut self.header.description {
                    desc.push_str(text);
                }
                if more {
                    self.continuation = Continuation::Backslash;
                }
                true
            }
            Continuation::SkippedBackslash => {
                if line.trim_end().ends_with('\\') {
                    self.continuation = Continuation::SkippedBackslash;
                }
                true
            }
            Continuation::LsbDescription => {
                let after = &line[1..];
                if !(after.starts_with('\t') || after.starts_with("  ")) || !self.in_lsb {
                    return false;
                }
                let text = after.trim();
                if let Some(desc) = self.lsb().description.as_mut() {
                    if !text.is_empty() {
                        desc.push(' ');
                        desc.push_str(text);
                    }
                }
                self.continuation = Continuation::LsbDescription;
                true
            }
        }
    }

    fn lsb(&mut self) -> &mut LsbInfo {
        self.header.lsb.get_or_insert_with(LsbInfo::default)
    }

    /// `Keyword: value` inside the LSB block. False if the line is not one.
    fn lsb_keyword(&mut self, number: usize, body: &str) -> bool {
        let Some((key, value)) = body.split_once(':') else {
            return false;
        };
        if key.is_empty() || key.contains(char::is_whitespace) {
            return false;
        }
        let words = || -> Vec<String> { value.split_whitespace().map(str::to_owned).collect() };
        let text = value.trim().to_string();
        match key.to_ascii_lowercase().as_str() {
            "provides" => self.lsb().provides = Some(words()),
            "required-start" => self.lsb().required_start = Some(words()),
            "required-stop" => self.lsb().required_stop = Some(words()),
            "should-start" => self.lsb().should_start = Some(words()),
            "should-stop" => self.lsb().should_stop = Some(words()),
            "x-start-before" => self.lsb().x_start_before = Some(words()),
            "x-stop-after" => self.lsb().x_stop_after = Some(words()),
            "x-interactive" => {
                self.lsb().x_interactive = Some(value.trim().eq_ignore_ascii_case("true"))
            }
            "default-start" => {
                let levels = self.levels(number, key, value);
                self.lsb().default_start = Some(levels);
            }
            "default-stop" => {
                let levels = self.levels(number, key, value);
                self.lsb().default_stop = Some(levels);
            }
            "short-description" => self.lsb().short_description = Some(text),
            "description" => {
                self.lsb().description = Some(text);
                self.continuation = Continuation::LsbDescription;
            }
            // Other keywords (vendor extensions) are allowed and unused.
            _ => {}
        }
        true
    }

    fn levels(&mut self, number: usize, key: &str, value: &str) -> LevelSet {
        let (levels, bad) = LevelSet::parse_words(value);
        for word in bad {
            self.header.problems.push(HeaderProblem {
                line: number,
                message: format!("{key}: \"{word}\" is not a runlevel (0-6 or S), ignored"),
            });
        }
        levels
    }

    fn chkconfig(&mut self, number: usize, rest: &str) {
        if self.header.chkconfig.is_some() || self.header.chkconfig_broken {
            return;
        }
        match parse_chkconfig_line(rest) {
            Ok(line) => self.header.chkconfig = Some(line),
            Err(message) => {
                self.header.chkconfig_broken = true;
                self.header.problems.push(HeaderProblem {
                    line: number,
                    message: format!("chkconfig: {message}"),
                });
            }
        }
    }

    fn description(&mut self, rest: &str) {
        let (text, more) = strip_backslash(rest.trim_start());
        if self.header.description.is_none() && !text.trim().is_empty() {
            self.header.description = Some(text.to_string());
            if more {
                self.continuation = Continuation::Backslash;
            }
        } else if more {
            self.continuation = Continuation::SkippedBackslash;
        }
    }
}

/// `text` without a final backslash, and whether there was one.
fn strip_backslash(text: &str) -> (&str, bool) {
    let trimmed = text.trim_end();
    match trimmed.strip_suffix('\\') {
        Some(t) => (t, true),
        None => (trimmed, false),
    }
}

/// What is wrong with a `chkconfig:` line.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ChkconfigLineError {
    TooShort,
    Levels(String),
    Priority { what: &'static str, word: String },
}

impl std::fmt::Display for ChkconfigLineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChkconfigLineError::TooShort => f.write_str(
                "expected runlevels, a start priority and a stop priority (\"chkconfig: 2345 20 80\")",
            ),
            ChkconfigLineError::Levels(word) => write!(
                f,
                "\"{word}\" is not a list of runlevels (digits 0-6, or -)"
            ),
            ChkconfigLineError::Priority { what, word } => {
                write!(f, "{what} priority \"{word}\" is not a number from 0 to 99")
            }
        }
    }
}

/// The part after `chkconfig:`: `LEVELS START STOP`.
fn parse_chkconfig_line(rest: &str) -> Result<ChkconfigLine, ChkconfigLineError> {
    let mut words = rest.split_whitespace();
    let (Some(levels), Some(start), Some(stop)) = (words.next(), words.next(), words.next()) else {
        return Err(ChkconfigLineError::TooShort);
    };
    let levels = if levels == "-" {
        LevelSet::EMPTY
    } else {
        LevelSet::parse_digits(levels)
            .ok_or_else(|| ChkconfigLineError::Levels(levels.to_string()))?
    };
    let priority = |what: &'static str, word: &str| -> Result<u8, ChkconfigLineError> {
        word.parse::<u8>()
            .ok()
            .filter(|p| *p <= 99 && word.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| ChkconfigLineError::Priority {
                what,
                word: word.to_string(),
            })
    };
    Ok(ChkconfigLine {
        levels,
        start: priority("start", start)?,
        stop: priority("stop", stop)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn info(text: &str) -> ServiceInfo {
        Header::parse(text.as_bytes()).service_info("svc").unwrap()
    }

    #[test]
    fn chkconfig_header_with_continued_description() {
        let h = Header::parse(
            b"#!/bin/sh\n#\n# chkconfig: 2345 55 25\n# description: Line one \\\n#              line two\n\necho\n",
        );
        assert_eq!(
            h.chkconfig,
            Some(ChkconfigLine {
                levels: LevelSet::MULTI_USER,
                start: 55,
                stop: 25
            })
        );
        assert_eq!(h.description.as_deref(), Some("Line one line two"));
        let i = h.service_info("alpha").unwrap();
        assert_eq!(i.levels, LevelSet::MULTI_USER);
        assert_eq!(i.stop_levels.to_string(), "016");
        assert_eq!((i.start, i.stop, i.lsb), (Some(55), Some(25), false));
        assert_eq!(i.provides, ["alpha"]);
    }

    #[test]
    fn first_chkconfig_line_wins_and_no_space_is_fine() {
        let i = info("#chkconfig: - 10 90\n# chkconfig: 345 20 80\n");
        assert_eq!(
            (i.levels, i.start, i.stop),
            (LevelSet::EMPTY, Some(10), Some(90))
        );
        let i = info("   # chkconfig:   35\t01 99  # trailing words\n");
        assert_eq!(
            (i.levels.to_string(), i.start, i.stop),
            ("35".into(), Some(1), Some(99))
        );
        // No newline at the end of the file.
        assert_eq!(info("# chkconfig: 3 1 2").start, Some(1));
    }

    #[test]
    fn malformed_chkconfig_lines_make_the_script_unsupported() {
        for (text, needle) in [
            ("# chkconfig: 2345 20\n", "expected runlevels"),
            ("# chkconfig: 2378 20 80\n", "\"2378\" is not a list"),
            ("# chkconfig: 2345 100 80\n", "start priority \"100\""),
            ("# chkconfig: 2345 20 -1\n", "stop priority \"-1\""),
            ("# chkconfig: 2345 20 80x\n", "stop priority \"80x\""),
            ("# chkconfig: 2345 +2 80\n", "start priority \"+2\""),
        ] {
            let text = format!(
                "#!/bin/sh\n### BEGIN INIT INFO\n# Default-Start: 3\n### END INIT INFO\n{text}"
            );
            match Header::parse(text.as_bytes()).service_info("x") {
                Err(Unsupported::Broken(p)) => {
                    assert_eq!(p.line, 5, "{text}");
                    assert!(p.message.contains(needle), "{}", p.message);
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn no_header_is_unsupported() {
        let h = Header::parse(b"#!/bin/sh\n# just a script\necho chkconfig: 2345 1 1\n");
        assert_eq!(h.service_info("x"), Err(Unsupported::NoHeader));
        let h = Header::parse(b"### BEGIN INIT INFO\n# Provides: x\n### END INIT INFO\n");
        assert_eq!(h.service_info("x"), Err(Unsupported::NoHeader));
    }

    #[test]
    fn lsb_block() {
        let i = info(
            "#!/bin/sh\n### BEGIN INIT INFO\n# Provides:          foo foo-compat\n\
             # Required-Start:    $network $syslog bar\n# Required-Stop:     $network\n\
             # Should-Start:      baz\n# Should-Stop: baz\n# X-Start-Before: late\n# X-Stop-After: early\n\
             # Default-Start:     2 3 4 5\n# Default-Stop:      0 1 6\n\
             # Short-Description: short\n# Description:       Long text\n\
             #                    on two lines.\n#\tand a tab line\n### END INIT INFO\n",
        );
        assert!(i.lsb);
        assert_eq!((i.start, i.stop), (None, None));
        assert_eq!(i.levels, LevelSet::MULTI_USER);
        assert_eq!(i.stop_levels.to_string(), "016");
        assert_eq!(i.provides, ["svc", "foo", "foo-compat"]);
        assert_eq!(i.deps.required_start, ["$network", "$syslog", "bar"]);
        assert_eq!(i.deps.required_stop, ["$network"]);
        assert_eq!(i.deps.should_start, ["baz"]);
        assert_eq!(i.deps.should_stop, ["baz"]);
        assert_eq!(i.deps.start_before, ["late"]);
        assert_eq!(i.deps.stop_after, ["early"]);
        assert_eq!(i.description, "Long text on two lines. and a tab line");
    }

    #[test]
    fn lsb_keywords_outside_the_block_do_not_count() {
        let h = Header::parse(
            b"# Required-Start: a\n### BEGIN INIT INFO\n# Default-Start: 3 S\n### END INIT INFO\n\
              ### BEGIN INIT INFO\n# Default-Start: 5\n### END INIT INFO\n# Provides: z\n",
        );
        let i = h.service_info("x").unwrap();
        assert_eq!(i.levels.to_string(), "3S");
        assert!(i.deps.required_start.is_empty());
        assert_eq!(i.provides, ["x"]);
    }

    #[test]
    fn description_precedence_and_fallback() {
        let lsb = "### BEGIN INIT INFO\n# Default-Start: 3\n# Short-Description: short\n";
        assert_eq!(
            info(&format!("{lsb}### END INIT INFO\n")).description,
            "short"
        );
        assert_eq!(
            info(&format!("{lsb}# Description: long\n### END INIT INFO\n")).description,
            "long"
        );
        assert_eq!(
            info(&format!("# description: classic\n{lsb}### END INIT INFO\n")).description,
            "classic"
        );
        assert_eq!(info("# chkconfig: 3 1 1\n").description, "svc");
        // Translations are skipped, with their continuation lines.
        let h = Header::parse(
            "# description(pt_BR): um \\\n#  chkconfig: 1 1 1\n# description: english\n# chkconfig: 3 2 2\n".as_bytes(),
        );
        assert_eq!(h.description.as_deref(), Some("english"));
        assert_eq!(h.chkconfig.map(|c| c.start), Some(2));
    }

    #[test]
    fn hide_flag() {
        assert!(Header::parse(b"# hide: true\n").hide);
        assert!(Header::parse(b"# hide:\n").hide);
        assert!(!Header::parse(b"# hide: false\n").hide);
    }

    #[test]
    fn bad_levels_in_lsb_are_reported_with_their_line() {
        let h = Header::parse(b"### BEGIN INIT INFO\n# Default-Start: 2 x 3\n### END INIT INFO\n");
        assert_eq!(h.problems.len(), 1);
        assert_eq!(h.problems[0].line, 2);
        assert_eq!(h.service_info("a").unwrap().levels.to_string(), "23");
    }

    #[test]
    fn overrides_replace_what_they_mention() {
        let script = Header::parse(
            b"# chkconfig: 2345 20 80\n# description: original\n### BEGIN INIT INFO\n\
              # Provides: a\n# Required-Start: b\n# Should-Start: c\n# Default-Start: 2 3 4 5\n### END INIT INFO\n",
        );
        let over = Header::parse(
            b"# chkconfig: 35 30 70\n### BEGIN INIT INFO\n# Required-Start: d\n### END INIT INFO\n",
        );
        let i = script.overlay(&over).service_info("a").unwrap();
        assert_eq!(
            (i.levels.to_string(), i.start, i.stop),
            ("35".into(), Some(30), Some(70))
        );
        assert_eq!(i.deps.required_start, ["d"]);
        assert_eq!(i.deps.should_start, ["c"]);
        assert_eq!(i.description, "original");
        // An override with no chkconfig line keeps the script's priorities (never S-1)
        // and takes its levels from the override's LSB defaults.
        let over = Header::parse(b"### BEGIN INIT INFO\n# Default-Start: 3\n### END INIT INFO\n");
        let i = script.overlay(&over).service_info("a").unwrap();
        assert_eq!((i.start, i.stop), (Some(20), Some(80)));
        assert_eq!(i.levels.to_string(), "3");
        // A chkconfig line in the override repairs a broken one in the script.
        let broken = Header::parse(b"# chkconfig: 2345 200 80\n");
        assert!(broken.service_info("a").is_err());
        let fixed = broken.overlay(&Header::parse(b"# chkconfig: 3 1 2\n"));
        assert_eq!(fixed.service_info("a").unwrap().start, Some(1));
    }

    #[test]
    fn crlf_files() {
        let i = info("# chkconfig: 345 10 90\r\n# description: dos \\\r\n#   file\r\n");
        assert_eq!(i.description, "dos file");
        assert_eq!(i.start, Some(10));
    }

    proptest! {
        #[test]
        fn any_bytes_parse_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let h = Header::parse(&bytes);
            let _ = h.service_info("x");
        }

        #[test]
        fn comment_soup_parses_without_panic(lines in proptest::collection::vec(
            prop_oneof![
                Just("### BEGIN INIT INFO".to_string()),
                Just("### END INIT INFO".to_string()),
                "# (chkconfig|description|hide|Provides|Default-Start|Description|Required-Start): ?[-0-9 a-z$\\\\]{0,12}",
                "#[ \t]{0,3}[a-z \\\\]{0,10}",
                "[a-z ]{0,8}",
            ], 0..20)) {
            let text = lines.join("\n");
            let h = Header::parse(text.as_bytes());
            if let Ok(i) = h.service_info("x") {
                prop_assert_eq!(&i.provides[0], "x");
                if let Some(c) = h.chkconfig {
                    prop_assert!(c.start <= 99 && c.stop <= 99);
                    prop_assert_eq!(i.levels, c.levels);
                }
                prop_assert!(i.levels.intersection(i.stop_levels).is_empty());
            }
        }

        #[test]
        fn well_formed_headers_round_trip(
            levels in 0u8..0x80, start in 0u8..100, stop in 0u8..100,
            provides in proptest::collection::vec("[a-z][a-z0-9-]{0,8}", 0..3),
            req in proptest::collection::vec("\\$?[a-z][a-z0-9_]{0,8}", 0..4),
            desc in "[A-Za-z][A-Za-z ]{0,20}[a-z]",
        ) {
            let set = LevelSet::parse_digits("0123456").unwrap();
            let set = set.iter().enumerate().filter(|(i, _)| levels & (1 << i) != 0)
                .fold(LevelSet::EMPTY, |s, (_, l)| s.with(l));
            let levels_text = if set.is_empty() { "-".to_string() } else { set.to_string() };
            let text = format!(
                "#!/bin/sh\n# chkconfig: {levels_text} {start} {stop}\n# description: {desc}\n\
                 ### BEGIN INIT INFO\n# Provides: {}\n# Required-Start: {}\n### END INIT INFO\nexit 0\n",
                provides.join(" "), req.join(" "));
            let i = Header::parse(text.as_bytes()).service_info("svc").unwrap();
            prop_assert_eq!(i.levels, set);
            prop_assert_eq!((i.start, i.stop), (Some(start), Some(stop)));
            prop_assert_eq!(&i.description, &desc);
            prop_assert_eq!(&i.deps.required_start, &req);
            for p in &provides {
                prop_assert!(i.provides.contains(p));
            }
        }
    }
}
