//! `syslog.conf`: which messages go where.
//!
//! Each line is `SELECTORS ACTION`. Selectors are `;`-separated `FACILITIES.LEVEL` with
//! FACILITIES a `,`-list of names or `*`, and LEVEL one of `*`, `none`, `LEVEL` (that
//! level and every more severe one), `=LEVEL` (that level only), `!LEVEL` (clears that
//! level and every more severe one), `!=LEVEL`. They are applied left to right, as in
//! sysklogd: `*.info;mail.none` is everything from info up except mail.
//!
//! Actions: `/file` (synced), `-/file` (not synced), `@host[:port]` or `@[v6addr]:port`
//! (UDP forwarding), `|/fifo`, `*` (every logged-in user) or `user1,user2`. A file or
//! FIFO action may end in `;follow-symlinks`: only then may its path be a symbolic link
//! (syslogd runs as root, and a link planted in a log directory would otherwise make it
//! write wherever the link points).
//! A bad line is reported with its number and skipped; the others stay in force.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::format::syslog::{Facility, Priority, Severity, FACILITY_NAMES};

/// Why a line of syslog.conf is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RuleError(pub String);

impl From<String> for RuleError {
    fn from(message: String) -> RuleError {
        RuleError(message)
    }
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Number of facilities (0..=23).
pub(crate) const FACILITIES: usize = 24;

/// The default UDP port of syslog.
pub(crate) const SYSLOG_PORT: u16 = 514;

/// Which levels of each facility a rule takes: bit `s` of `masks[f]` is severity `s`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Selector {
    pub masks: [u8; FACILITIES],
}

impl Selector {
    pub(crate) fn matches(&self, priority: Priority) -> bool {
        self.masks
            .get(usize::from(priority.facility.0))
            .is_some_and(|m| m & (1 << priority.severity as u8) != 0)
    }
}

/// Where matching messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// A file or a terminal; `sync`: flushed to disk after every batch;
    /// `follow_symlinks`: the path may be a symbolic link (`;follow-symlinks`).
    File {
        path: PathBuf,
        sync: bool,
        follow_symlinks: bool,
    },
    /// Another syslogd, over UDP.
    Forward { host: String, port: u16 },
    /// A named pipe (written when a reader has it open).
    Fifo {
        path: PathBuf,
        follow_symlinks: bool,
    },
    /// Every logged-in user's terminal.
    AllUsers,
    /// The terminals of these users.
    Users(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub selector: Selector,
    pub action: Action,
    /// The line it came from (1-based; 0 for the embedded default).
    pub line: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Config {
    pub rules: Vec<Rule>,
}

/// A bad line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConfError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The configuration used when the root has no `etc/syslog.conf` (Red Hat's classic
/// one); its paths are relative to the root (see [`Config::relocate`]).
pub(crate) const DEFAULT_CONF: &str = "\
*.info;mail.none;authpriv.none;cron.none\t/var/log/messages
authpriv.*\t\t\t\t\t/var/log/secure
mail.*\t\t\t\t\t\t-/var/log/maillog
cron.*\t\t\t\t\t\t/var/log/cron
*.emerg\t\t\t\t\t\t*
";

impl Config {
    /// Parses a whole file; returns the good rules and one error per bad line.
    pub(crate) fn parse(text: &str) -> (Config, Vec<ConfError>) {
        let mut config = Config::default();
        let mut errors = Vec::new();
        for (line, content) in logical_lines(text) {
            match parse_line(&content) {
                Ok(Some((selector, action))) => config.rules.push(Rule {
                    selector,
                    action,
                    line,
                }),
                Ok(None) => {}
                Err(RuleError(message)) => errors.push(ConfError { line, message }),
            }
        }
        (config, errors)
    }

    /// The embedded default with its paths below `root`.
    pub(crate) fn default_for(root: &Path) -> Config {
        let (mut config, _) = Config::parse(DEFAULT_CONF);
        config.relocate(root);
        for rule in &mut config.rules {
            rule.line = 0;
        }
        config
    }

    /// Moves absolute paths below `root` (for the embedded default only: paths written
    /// in a real file are used as written).
    pub(crate) fn relocate(&mut self, root: &Path) {
        let below = |p: &Path| root.join(p.strip_prefix("/").unwrap_or(p));
        for rule in &mut self.rules {
            match &mut rule.action {
                Action::File { path, .. } | Action::Fifo { path, .. } => *path = below(path),
                _ => {}
            }
        }
    }
}

/// Lines with their 1-based number; a trailing `\` joins the next line; comments and
/// blank lines are dropped.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let (start, mut acc) = pending.take().unwrap_or((i + 1, String::new()));
        let trimmed = raw.trim();
        if acc.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                acc.push_str(head);
                acc.push(' ');
                pending = Some((start, acc));
            }
            None => {
                acc.push_str(trimmed);
                out.push((start, acc));
            }
        }
    }
    if let Some((start, acc)) = pending {
        out.push((start, acc.trim_end().to_string()));
    }
    out
}

fn parse_line(line: &str) -> Result<Option<(Selector, Action)>, RuleError> {
    if line.starts_with('$') || line.starts_with("module(") || line.starts_with(':') {
        return Err(RuleError::from(format!(
            "rsyslog syntax is not supported: {}",
            line.split_whitespace().next().unwrap_or(line)
        )));
    }
    // The selector field may contain spaces after `;` or `,`.
    let mut selector = String::new();
    let mut rest = line;
    loop {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        selector.push_str(&rest[..word_end]);
        rest = rest[word_end..].trim_start();
        if !(selector.ends_with(';') || selector.ends_with(',')) || rest.is_empty() {
            break;
        }
    }
    if rest.is_empty() {
        return Err(RuleError::from(format!(
            "no action after the selector \"{selector}\""
        )));
    }
    let selector = parse_selector(&selector)?;
    let action = parse_action(rest)?;
    Ok(Some((selector, action)))
}

fn parse_selector(text: &str) -> Result<Selector, RuleError> {
    let mut sel = Selector::default();
    for part in text.split(';').filter(|p| !p.is_empty()) {
        let (facilities, level) = part
            .rsplit_once('.')
            .ok_or_else(|| format!("selector \"{part}\" has no level (FACILITY.LEVEL)"))?;
        let codes = facilities
            .split(',')
            .map(facility_codes)
            .collect::<Result<Vec<_>, _>>()?;
        let level = parse_level(level)?;
        for f in codes.into_iter().flatten() {
            level.apply(&mut sel.masks[f]);
        }
    }
    Ok(sel)
}

fn facility_codes(name: &str) -> Result<Vec<usize>, RuleError> {
    if name == "*" {
        return Ok((0..FACILITIES).collect());
    }
    match Facility::from_name(name) {
        Some(f) => Ok(vec![usize::from(f.0)]),
        None => Err(RuleError::from(format!(
            "unknown facility \"{name}\" (one of: *, {})",
            FACILITY_NAMES
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// One `LEVEL` part, as an operation on a facility's mask.
#[derive(Clone, Copy, Debug)]
struct Level {
    negate: bool,
    only: bool,
    /// None: `*` (all) or, negated, `none`.
    severity: Option<Severity>,
    none: bool,
}

impl Level {
    fn apply(self, mask: &mut u8) {
        if self.none {
            *mask = 0;
            return;
        }
        let bits = match (self.severity, self.only) {
            (None, _) => 0xff,
            (Some(s), true) => 1u8 << s as u8,
            // This level and every more severe one (numerically lower).
            (Some(s), false) => ((1u16 << (s as u16 + 1)) - 1) as u8,
        };
        if self.negate {
            *mask &= !bits;
        } else {
            *mask |= bits;
        }
    }
}

fn parse_level(text: &str) -> Result<Level, RuleError> {
    let lower = text.to_ascii_lowercase();
    if lower == "none" {
        return Ok(Level {
            negate: false,
            only: false,
            severity: None,
            none: true,
        });
    }
    let (negate, rest) = match lower.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, lower.as_str()),
    };
    let (only, rest) = match rest.strip_prefix('=') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let severity = match rest {
        "*" => None,
        name => Some(Severity::from_name(name).ok_or_else(|| {
            format!(
                "unknown level \"{text}\" (one of: *, none, emerg, alert, crit, err, warning, notice, info, debug, with = or ! before it)"
            )
        })?),
    };
    Ok(Level {
        negate,
        only,
        severity,
        none: false,
    })
}

/// The option a file or FIFO action may end with.
pub(crate) const FOLLOW_SYMLINKS: &str = "follow-symlinks";

fn parse_action(text: &str) -> Result<Action, RuleError> {
    if let Some(path) = text.strip_prefix('-') {
        if !path.starts_with('/') {
            return Err(RuleError::from(format!(
                "\"{text}\": a file action is an absolute path"
            )));
        }
        return file_action(path, false);
    }
    if text.starts_with('/') {
        return file_action(text, true);
    }
    if let Some(dest) = text.strip_prefix('@') {
        return parse_forward(dest);
    }
    if let Some(path) = text.strip_prefix('|') {
        let (path, follow_symlinks) = path_and_option(path.trim_start())?;
        if !path.starts_with('/') {
            return Err(RuleError::from(format!(
                "\"{text}\": a FIFO action is |/absolute/path"
            )));
        }
        return Ok(Action::Fifo {
            path: PathBuf::from(path),
            follow_symlinks,
        });
    }
    if text == "*" {
        return Ok(Action::AllUsers);
    }
    let users: Vec<String> = text.split(',').map(|u| u.trim().to_string()).collect();
    let valid = |u: &String| {
        !u.is_empty()
            && u.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    };
    if users.iter().all(valid) {
        return Ok(Action::Users(users));
    }
    Err(RuleError(format!(
        "unknown action \"{text}\" (a /file, -/file, @host[:port], |/fifo, * or user names)"
    )))
}

fn file_action(text: &str, sync: bool) -> Result<Action, RuleError> {
    let (path, follow_symlinks) = path_and_option(text)?;
    Ok(Action::File {
        path: PathBuf::from(path),
        sync,
        follow_symlinks,
    })
}

/// Splits `PATH[ ];OPTION`: the only option is `follow-symlinks` (rsyslog's `;TEMPLATE`
/// is refused: lines are always in the traditional format).
fn path_and_option(text: &str) -> Result<(&str, bool), RuleError> {
    let Some((path, option)) = text.split_once(';') else {
        return Ok((text, false));
    };
    match option.trim() {
        FOLLOW_SYMLINKS => Ok((path.trim_end(), true)),
        other => Err(RuleError::from(format!(
            "\"{text}\": unknown option \";{other}\" (the only option is ;{FOLLOW_SYMLINKS}; templates are not supported, lines are always in the traditional format)"
        ))),
    }
}

fn parse_forward(dest: &str) -> Result<Action, RuleError> {
    if dest.starts_with('@') {
        return Err(RuleError::from(format!(
            "\"@{dest}\": TCP forwarding (@@) is not supported, only UDP (@)"
        )));
    }
    let (host, port) = if let Some(v6) = dest.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("\"@{dest}\": missing ] after an IPv6 address"))?;
        match after {
            "" => (addr, None),
            p => (
                addr,
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| format!("\"@{dest}\": expected :PORT after the address"))?,
                ),
            ),
        }
    } else {
        match dest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (dest, None),
        }
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(RuleError::from(format!(
            "\"@{dest}\": no host to forward to"
        )));
    }
    let port = match port {
        None => SYSLOG_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("\"@{dest}\": bad port \"{p}\""))?,
    };
    Ok(Action::Forward {
        host: host.to_string(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sel(text: &str) -> Selector {
        parse_selector(text).unwrap()
    }

    fn p(s: &str) -> Priority {
        Priority::parse(s).unwrap()
    }

    #[test]
    fn selector_forms() {
        let s = sel("mail.info");
        assert!(s.matches(p("mail.info")) && s.matches(p("mail.emerg")));
        assert!(!s.matches(p("mail.debug")) && !s.matches(p("user.info")));

        let s = sel("*.info;mail.none");
        assert!(s.matches(p("user.info")) && !s.matches(p("mail.emerg")));

        let s = sel("mail.=warning");
        assert!(s.matches(p("mail.warning")) && !s.matches(p("mail.err")));

        let s = sel("mail.*;mail.!err");
        assert!(s.matches(p("mail.warning")) && s.matches(p("mail.debug")));
        assert!(!s.matches(p("mail.err")) && !s.matches(p("mail.emerg")));

        let s = sel("*.*;*.!=debug");
        assert!(s.matches(p("local3.info")) && !s.matches(p("local3.debug")));

        let s = sel("auth,authpriv.notice");
        assert!(s.matches(p("auth.notice")) && s.matches(p("authpriv.crit")));
        assert!(!s.matches(p("auth.info")) && !s.matches(p("daemon.crit")));

        let s = sel("*.*");
        assert!(s.matches(p("local7.debug")) && s.matches(p("kern.emerg")));
        assert!(!sel("mail.!*").matches(p("mail.emerg")));
    }

    #[test]
    fn lines_and_actions() {
        let text = "# comment\n\n\
                    *.info;mail.none;  authpriv.none   /var/log/messages\n\
                    mail.*\t-/var/log/mail\n\
                    kern.* @loghost\n\
                    kern.* @10.0.0.1:1514\n\
                    kern.* @[::1]:5514\n\
                    daemon.* |/run/fifo\n\
                    *.emerg *\n\
                    *.alert root, admin\n\
                    user.* \\\n   /var/log/user\n";
        let (config, errors) = Config::parse(text);
        assert_eq!(errors, vec![]);
        let actions: Vec<&Action> = config.rules.iter().map(|r| &r.action).collect();
        assert_eq!(
            actions,
            vec![
                &Action::File {
                    path: "/var/log/messages".into(),
                    sync: true,
                    follow_symlinks: false
                },
                &Action::File {
                    path: "/var/log/mail".into(),
                    sync: false,
                    follow_symlinks: false
                },
                &Action::Forward {
                    host: "loghost".into(),
                    port: 514
                },
                &Action::Forward {
                    host: "10.0.0.1".into(),
                    port: 1514
                },
                &Action::Forward {
                    host: "::1".into(),
                    port: 5514
                },
                &Action::Fifo {
                    path: "/run/fifo".into(),
                    follow_symlinks: false
                },
                &Action::AllUsers,
                &Action::Users(vec!["root".into(), "admin".into()]),
                &Action::File {
                    path: "/var/log/user".into(),
                    sync: true,
                    follow_symlinks: false
                },
            ]
        );
        assert_eq!(config.rules[0].line, 3);
        assert_eq!(config.rules[8].line, 11);
        assert!(!config.rules[0].selector.matches(p("authpriv.err")));
    }

    #[test]
    fn bad_lines_are_reported_and_skipped() {
        let text = "bogus.info /a\nmail.loud /b\nmail.info\nmail.info @@tcp:514\n\
                    $ModLoad imuxsock\nmail.info /ok\n*.* /x;RSYSLOG_FileFormat\nmail.info @h:99999\n\
                    mail.info relative/path\n";
        let (config, errors) = Config::parse(text);
        assert_eq!(config.rules.len(), 1);
        assert_eq!(config.rules[0].line, 6);
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![1, 2, 3, 4, 5, 7, 8, 9]);
        assert!(errors[0].to_string().contains("unknown facility \"bogus\""));
        assert!(errors[1].message.contains("unknown level \"loud\""));
        assert!(errors[2].message.contains("no action"));
        assert!(errors[3].message.contains("TCP"));
    }

    #[test]
    fn symlinks_are_followed_only_when_the_action_asks() {
        let text = "*.* /var/log/a;follow-symlinks\n*.* -/var/log/b ; follow-symlinks\n\
                    *.* |/run/fifo;follow-symlinks\n*.* /var/log/c\n*.* /var/log/d;follow\n";
        let (config, errors) = Config::parse(text);
        let actions: Vec<&Action> = config.rules.iter().map(|r| &r.action).collect();
        assert_eq!(
            actions,
            vec![
                &Action::File {
                    path: "/var/log/a".into(),
                    sync: true,
                    follow_symlinks: true
                },
                &Action::File {
                    path: "/var/log/b".into(),
                    sync: false,
                    follow_symlinks: true
                },
                &Action::Fifo {
                    path: "/run/fifo".into(),
                    follow_symlinks: true
                },
                &Action::File {
                    path: "/var/log/c".into(),
                    sync: true,
                    follow_symlinks: false
                },
            ]
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 5);
        assert!(errors[0].message.contains("unknown option \";follow\""));
    }

    #[test]
    fn default_is_relocated() {
        let config = Config::default_for(Path::new("/tmp/r"));
        assert_eq!(
            config.rules[0].action,
            Action::File {
                path: "/tmp/r/var/log/messages".into(),
                sync: true,
                follow_symlinks: false
            }
        );
        assert!(config.rules[0].selector.matches(p("daemon.info")));
        assert!(!config.rules[0].selector.matches(p("mail.err")));
        assert_eq!(config.rules.last().unwrap().action, Action::AllUsers);
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,200}") {
            let (config, errors) = Config::parse(&text);
            prop_assert!(config.rules.len() + errors.len() <= text.lines().count() + 1);
        }

        /// Any option but `;follow-symlinks` after a file or FIFO path is refused, and
        /// a path never carries its option along.
        #[test]
        fn only_follow_symlinks_is_an_option(
            kind in prop_oneof![Just(""), Just("-"), Just("|")],
            path in "/[a-z/]{1,12}",
            option in prop_oneof![Just("follow-symlinks".to_string()), "[A-Za-z_ -]{0,16}"],
            space in prop_oneof![Just(""), Just(" ")],
        ) {
            let (config, errors) = Config::parse(&format!("*.* {kind}{path}{space};{option}\n"));
            if option.trim() == FOLLOW_SYMLINKS {
                prop_assert!(errors.is_empty());
                let (written, follow) = match &config.rules[0].action {
                    Action::File { path, follow_symlinks, .. } => (path, *follow_symlinks),
                    Action::Fifo { path, follow_symlinks } => (path, *follow_symlinks),
                    other => panic!("{other:?}"),
                };
                prop_assert_eq!(written, &PathBuf::from(&path));
                prop_assert!(follow);
            } else {
                prop_assert!(config.rules.is_empty());
                prop_assert!(errors[0].message.contains("unknown option"), "{}", errors[0].message);
            }
        }

        #[test]
        fn single_level_selector_is_a_threshold(f in 0u8..24, s in 0u8..8, m in 0u8..8) {
            let fname = crate::format::syslog::Facility(f).name();
            let level = Severity::from_code(s).unwrap();
            let selector = sel(&format!("{fname}.{}", level.name()));
            let msg = Priority::new(Facility(f), Severity::from_code(m).unwrap());
            prop_assert_eq!(selector.matches(msg), m <= s);
            let only = sel(&format!("{fname}.={}", level.name()));
            prop_assert_eq!(only.matches(msg), m == s);
        }
    }
}
