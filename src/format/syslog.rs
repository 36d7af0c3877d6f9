//! Syslog priorities (facility × 8 + severity) and the local message format that
//! `syslog(3)` writes to `/dev/log`: `<PRI>Mmm dd hh:mm:ss TAG[PID]: MESSAGE`.

use std::fmt;

/// Severity levels, most severe first (RFC 5424 numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Emerg = 0,
    Alert = 1,
    Crit = 2,
    Err = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}

/// Names of the severities as `syslog.conf` and `logger -p` accept them, with the old
/// aliases (`panic`, `error`, `warn`).
pub(crate) const SEVERITY_NAMES: &[(&str, Severity)] = &[
    ("emerg", Severity::Emerg),
    ("panic", Severity::Emerg),
    ("alert", Severity::Alert),
    ("crit", Severity::Crit),
    ("err", Severity::Err),
    ("error", Severity::Err),
    ("warning", Severity::Warning),
    ("warn", Severity::Warning),
    ("notice", Severity::Notice),
    ("info", Severity::Info),
    ("debug", Severity::Debug),
];

impl Severity {
    pub(crate) fn from_code(code: u8) -> Option<Severity> {
        SEVERITY_NAMES
            .iter()
            .map(|(_, s)| *s)
            .find(|s| *s as u8 == code)
    }

    pub(crate) fn from_name(name: &str) -> Option<Severity> {
        let name = name.to_ascii_lowercase();
        SEVERITY_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
    }

    /// The canonical name (`err`, not `error`).
    pub(crate) fn name(self) -> &'static str {
        SEVERITY_NAMES
            .iter()
            .find(|(_, s)| *s == self)
            .map_or("?", |(n, _)| n)
    }
}

/// Facilities, by their standard codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Facility(pub u8);

pub(crate) const FACILITY_NAMES: &[(&str, u8)] = &[
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("security", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("ntp", 12),
    ("audit", 13),
    ("alert", 14),
    ("clock", 15),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];

impl Facility {
    pub(crate) const KERN: Facility = Facility(0);
    pub(crate) const USER: Facility = Facility(1);
    pub(crate) const DAEMON: Facility = Facility(3);
    pub(crate) const SYSLOG: Facility = Facility(5);

    pub(crate) fn from_name(name: &str) -> Option<Facility> {
        let name = name.to_ascii_lowercase();
        FACILITY_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| Facility(*c))
    }

    pub(crate) fn name(self) -> String {
        FACILITY_NAMES
            .iter()
            .find(|(_, c)| *c == self.0)
            .map_or_else(|| self.0.to_string(), |(n, _)| n.to_string())
    }
}

/// A priority: facility and severity, encoded as `facility * 8 + severity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Priority {
    pub facility: Facility,
    pub severity: Severity,
}

impl Priority {
    pub(crate) fn new(facility: Facility, severity: Severity) -> Priority {
        Priority { facility, severity }
    }

    pub(crate) fn code(self) -> u32 {
        u32::from(self.facility.0) * 8 + self.severity as u32
    }

    /// Decodes `<PRI>`; values above 191 (facility 23, severity 7) are invalid.
    pub(crate) fn from_code(code: u32) -> Option<Priority> {
        if code > 191 {
            return None;
        }
        Some(Priority {
            facility: Facility((code / 8) as u8),
            severity: Severity::from_code((code % 8) as u8)?,
        })
    }

    /// Parses `facility.level` as `logger -p` takes it (a bare level means `user`).
    pub(crate) fn parse(s: &str) -> Result<Priority, PriorityError> {
        let (facility, level) = match s.split_once('.') {
            Some((f, l)) => (
                Facility::from_name(f)
                    .ok_or_else(|| PriorityError::UnknownFacility(f.to_string()))?,
                l,
            ),
            None => (Facility::USER, s),
        };
        let severity = Severity::from_name(level)
            .ok_or_else(|| PriorityError::UnknownLevel(level.to_string()))?;
        Ok(Priority { facility, severity })
    }
}

/// A `facility.level` that names no facility or no level (util-linux's words).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PriorityError {
    UnknownFacility(String),
    UnknownLevel(String),
}

impl fmt::Display for PriorityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PriorityError::UnknownFacility(name) => write!(f, "unknown facility name: {name}"),
            PriorityError::UnknownLevel(name) => write!(f, "unknown priority name: {name}"),
        }
    }
}

impl crate::error::ToolError for PriorityError {}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.facility.name(), self.severity.name())
    }
}

/// Formats a message the way glibc's `syslog(3)` sends it to `/dev/log`.
/// `timestamp` is the `Mmm dd hh:mm:ss` local time.
pub(crate) fn format_local(
    priority: Priority,
    timestamp: &str,
    tag: &str,
    pid: Option<u32>,
    message: &str,
) -> String {
    match pid {
        Some(pid) => format!("<{}>{timestamp} {tag}[{pid}]: {message}", priority.code()),
        None => format!("<{}>{timestamp} {tag}: {message}", priority.code()),
    }
}

/// Formats a message as RFC 5424 (`<PRI>1 TIME HOST APP PROCID - - MSG`); `time` is an
/// RFC 3339 timestamp, empty parts become `-`.
pub(crate) fn format_rfc5424(
    priority: Priority,
    time: &str,
    host: &str,
    app: &str,
    pid: Option<u32>,
    message: &str,
) -> String {
    let nil = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.replace(' ', "_")
        }
    };
    let pid = pid.map_or_else(|| "-".to_string(), |p| p.to_string());
    format!(
        "<{}>1 {} {} {} {pid} - - {message}",
        priority.code(),
        nil(time),
        nil(host),
        nil(app)
    )
}

/// Formats a message as RFC 3164 with the host name (what goes over the network).
pub(crate) fn format_rfc3164(
    priority: Priority,
    timestamp: &str,
    host: &str,
    tag: &str,
    pid: Option<u32>,
    message: &str,
) -> String {
    let local = format_local(priority, timestamp, tag, pid, message);
    let header_end = format!("<{}>{timestamp}", priority.code()).len();
    format!("{} {host}{}", &local[..header_end], &local[header_end..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_and_codes() {
        let p = Priority::parse("daemon.warn").unwrap();
        assert_eq!(p.code(), 3 * 8 + 4);
        assert_eq!(p.to_string(), "daemon.warning");
        assert_eq!(
            Priority::parse("err").unwrap(),
            Priority::new(Facility::USER, Severity::Err)
        );
        assert_eq!(Priority::parse("LOCAL7.DEBUG").unwrap().code(), 191);
        let e = Priority::parse("bogus.info").unwrap_err();
        assert_eq!(e, PriorityError::UnknownFacility("bogus".into()));
        assert_eq!(e.to_string(), "unknown facility name: bogus");
        let e = Priority::parse("user.loud").unwrap_err();
        assert_eq!(e.to_string(), "unknown priority name: loud");
        assert_eq!(Priority::from_code(192), None);
    }

    #[test]
    fn local_format() {
        let p = Priority::new(Facility::DAEMON, Severity::Notice);
        assert_eq!(
            format_local(p, "Nov 21 05:30:00", "init", Some(1), "hello"),
            "<29>Nov 21 05:30:00 init[1]: hello"
        );
        assert_eq!(
            format_local(p, "Nov  1 00:00:00", "x", None, "m"),
            "<29>Nov  1 00:00:00 x: m"
        );
    }

    #[test]
    fn network_formats() {
        let p = Priority::new(Facility::USER, Severity::Notice);
        assert_eq!(
            format_rfc5424(
                p,
                "2024-01-02T03:04:05.000006+01:00",
                "box",
                "my app",
                Some(9),
                "hi"
            ),
            "<13>1 2024-01-02T03:04:05.000006+01:00 box my_app 9 - - hi"
        );
        assert_eq!(
            format_rfc5424(p, "", "", "", None, "x"),
            "<13>1 - - - - - - x"
        );
        assert_eq!(
            format_rfc3164(p, "Jan  2 03:04:05", "box", "t", None, "hi"),
            "<13>Jan  2 03:04:05 box t: hi"
        );
    }

    proptest! {
        #[test]
        fn codes_round_trip(code in 0u32..192) {
            prop_assert_eq!(Priority::from_code(code).unwrap().code(), code);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = Priority::parse(&s);
        }
    }
}
