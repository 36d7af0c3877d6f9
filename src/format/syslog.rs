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

    /// Parses `facility.level` (a bare level means `user`) by syslog.conf's names.
    #[cfg(test)]
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
pub enum PriorityError {
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

/// Facility names as glibc's `<syslog.h>` lists them, with their codes already shifted
/// (what `logger -p` takes; not syslog.conf's list: `mark` is here, `ntp` is not).
const LOGGER_FACILITIES: &[(&str, u32)] = &[
    ("auth", 4 << 3),
    ("authpriv", 10 << 3),
    ("cron", 9 << 3),
    ("daemon", 3 << 3),
    ("ftp", 11 << 3),
    ("kern", 0),
    ("lpr", 6 << 3),
    ("mail", 2 << 3),
    ("mark", 24 << 3),
    ("news", 7 << 3),
    ("security", 4 << 3),
    ("syslog", 5 << 3),
    ("user", 1 << 3),
    ("uucp", 8 << 3),
    ("local0", 16 << 3),
    ("local1", 17 << 3),
    ("local2", 18 << 3),
    ("local3", 19 << 3),
    ("local4", 20 << 3),
    ("local5", 21 << 3),
    ("local6", 22 << 3),
    ("local7", 23 << 3),
];

/// Level names as glibc lists them (`none` is its internal "no priority", 0x10).
const LOGGER_LEVELS: &[(&str, u32)] = &[
    ("alert", 1),
    ("crit", 2),
    ("debug", 7),
    ("emerg", 0),
    ("err", 3),
    ("error", 3),
    ("info", 6),
    ("none", 0x10),
    ("notice", 5),
    ("panic", 0),
    ("warn", 4),
    ("warning", 4),
];

/// A name, or a number that is one of the table's codes (util-linux's `decode`).
fn decode(name: &str, table: &[(&str, u32)]) -> Option<u32> {
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        let number: u32 = name.parse().ok()?;
        return table.iter().any(|(_, v)| *v == number).then_some(number);
    }
    table
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// `logger -p`: `facility.level` or `level` (facility user), names or their numbers
/// (`-p 0`, `-p 16.3`), as util-linux reads it; the kern facility is sent as user, so that
/// no user can log as the kernel. Returns the `<PRI>` value.
pub fn logger_priority(spec: &str) -> Result<u32, PriorityError> {
    let (facility, level) = match spec.split_once('.') {
        Some((f, l)) => (
            decode(f, LOGGER_FACILITIES)
                .ok_or_else(|| PriorityError::UnknownFacility(f.to_string()))?,
            l,
        ),
        None => (1 << 3, spec),
    };
    let level = decode(level, LOGGER_LEVELS)
        .ok_or_else(|| PriorityError::UnknownLevel(level.to_string()))?;
    let facility = if facility == 0 { 1 << 3 } else { facility };
    Ok((level & 0x07) | (facility & 0x03f8))
}

/// The header `logger` puts before a message on the local socket (util-linux's default
/// there): `<PRI>Mmm dd hh:mm:ss TAG[PID]: `.
pub fn local_header(pri: u32, time: &str, tag: &[u8], pid: Option<i32>) -> Vec<u8> {
    let mut out = format!("<{pri}>{time} ").into_bytes();
    out.extend_from_slice(tag);
    push_pid(&mut out, pid);
    out.extend_from_slice(b": ");
    out
}

/// RFC 3164 with the host name: `<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: ` (the tag cut at
/// 200 bytes, as util-linux does).
pub fn rfc3164_header(pri: u32, time: &str, host: &str, tag: &[u8], pid: Option<i32>) -> Vec<u8> {
    let time: String = time.chars().take(15).collect();
    let mut out = format!("<{pri}>{time} {host} ").into_bytes();
    out.extend_from_slice(&tag[..tag.len().min(200)]);
    push_pid(&mut out, pid);
    out.extend_from_slice(b": ");
    out
}

fn push_pid(out: &mut Vec<u8>, pid: Option<i32>) {
    if let Some(pid) = pid {
        out.extend_from_slice(format!("[{pid}]").as_bytes());
    }
}

/// The fields of an RFC 5424 header; None is the nil value `-`.
#[derive(Clone, Debug, Default)]
pub struct Rfc5424<'a> {
    pub pri: u32,
    pub time: Option<&'a str>,
    pub host: Option<&'a str>,
    pub app: &'a [u8],
    pub pid: Option<i32>,
    pub msgid: Option<&'a str>,
    pub structured: Option<&'a str>,
}

/// `<PRI>1 TIME HOST APP PROCID MSGID SD ` — the fields as given (util-linux checks the
/// tag's length, not its characters).
pub fn rfc5424_header(h: &Rfc5424) -> Vec<u8> {
    let nil = |v: Option<&str>| v.unwrap_or("-").to_string();
    let mut out = format!("<{}>1 {} {} ", h.pri, nil(h.time), nil(h.host)).into_bytes();
    out.extend_from_slice(h.app);
    let pid = h.pid.map(|p| p.to_string());
    out.extend_from_slice(
        format!(
            " {} {} {} ",
            nil(pid.as_deref()),
            nil(h.msgid),
            nil(h.structured)
        )
        .as_bytes(),
    );
    out
}

/// One RFC 5424 SD-ELEMENT: an SD-ID and its `name="value"` parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdElement {
    pub id: String,
    pub params: Vec<String>,
}

/// The structured data of a message: `[id p1 p2][id2 p3]`, elements without parameters
/// left out; None when nothing is left.
pub fn structured_data(elements: &[SdElement]) -> Option<String> {
    let text: String = elements
        .iter()
        .filter(|e| !e.params.is_empty())
        .map(|e| format!("[{} {}]", e.id, e.params.join(" ")))
        .collect();
    (!text.is_empty()).then_some(text)
}

/// An SD-ID util-linux accepts: `timeQuality`, `origin`, `meta`, or `name@digits[.digits]`
/// with no `[`, `=`, `"`, `@`, blank or control character in the name.
pub fn valid_sd_id(id: &str) -> bool {
    let Some((name, number)) = id.split_once('@') else {
        return matches!(id, "timeQuality" | "origin" | "meta");
    };
    let number_ok = !number.is_empty()
        && number
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    let name_ok = !name.is_empty()
        && !name
            .bytes()
            .any(|b| matches!(b, b'[' | b'=' | b'"' | b'@' | b' ' | b'\t') || b.is_ascii_control());
    number_ok && name_ok
}

/// An SD-PARAM util-linux accepts: `name="value"`, the value ending the text.
pub fn valid_sd_param(param: &str) -> bool {
    let (Some(eq), Some(q1)) = (param.find('='), param.find('"')) else {
        return false;
    };
    let Some(q2) = param[q1 + 1..].find('"').map(|i| i + q1 + 1) else {
        return false;
    };
    eq > 0 && eq + 1 == q1 && q2 + 1 == param.len()
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
    fn logger_priorities_as_util_linux_reads_them() {
        assert_eq!(logger_priority("user.notice"), Ok(13));
        assert_eq!(logger_priority("0"), Ok(8), "emerg, from user");
        assert_eq!(logger_priority("kern.emerg"), Ok(8), "never as the kernel");
        assert_eq!(logger_priority("16.3"), Ok(19), "mail (2 << 3) . err");
        assert_eq!(logger_priority("LOCAL7.DEBUG"), Ok(191));
        assert_eq!(logger_priority("mark.info"), Ok(198));
        assert_eq!(logger_priority("none"), Ok(8));
        assert_eq!(
            logger_priority("13"),
            Err(PriorityError::UnknownLevel("13".into()))
        );
        assert_eq!(
            logger_priority("2.3"),
            Err(PriorityError::UnknownFacility("2".into()))
        );
        assert!(logger_priority("ntp.info").is_err());
        assert!(logger_priority(" 3").is_err());
        assert!(logger_priority("user.").is_err());
    }

    #[test]
    fn logger_headers() {
        assert_eq!(
            local_header(13, "Jan  2 03:04:05", b"a b", Some(9)),
            b"<13>Jan  2 03:04:05 a b[9]: "
        );
        assert_eq!(
            rfc3164_header(13, "Jan  2 03:04:05", "box", b"t", None),
            b"<13>Jan  2 03:04:05 box t: "
        );
        let long = vec![b'x'; 300];
        assert_eq!(
            rfc3164_header(13, "Jan  2 03:04:05", "box", &long, None).len(),
            "<13>Jan  2 03:04:05 box ".len() + 200 + 2
        );
        let h = Rfc5424 {
            pri: 13,
            time: Some("2024-01-02T03:04:05.000006+01:00"),
            host: Some("box.example"),
            app: b"my app",
            pid: Some(9),
            msgid: None,
            structured: Some("[timeQuality tzKnown=\"1\" isSynced=\"0\"]"),
        };
        assert_eq!(
            String::from_utf8(rfc5424_header(&h)).unwrap(),
            "<13>1 2024-01-02T03:04:05.000006+01:00 box.example my app 9 - \
             [timeQuality tzKnown=\"1\" isSynced=\"0\"] "
        );
        let bare = Rfc5424 {
            pri: 13,
            app: b"t",
            ..Rfc5424::default()
        };
        assert_eq!(rfc5424_header(&bare), b"<13>1 - - t - - - ");
    }

    #[test]
    fn structured_data_and_its_checks() {
        let sd = [
            SdElement {
                id: "a@1".into(),
                params: vec!["x=\"1\"".into(), "y=\"2\"".into()],
            },
            SdElement {
                id: "empty@2".into(),
                params: vec![],
            },
        ];
        assert_eq!(
            structured_data(&sd).as_deref(),
            Some("[a@1 x=\"1\" y=\"2\"]")
        );
        assert_eq!(structured_data(&[]), None);
        for good in ["timeQuality", "meta", "x@1", "x@1.2.3"] {
            assert!(valid_sd_id(good), "{good}");
        }
        for bad in ["x", "@1", "x@", "x@a", "x@1.", "x y@1", "x=y@1", "x@1..2"] {
            assert!(!valid_sd_id(bad), "{bad}");
        }
        assert!(valid_sd_param("a=\"b\""));
        assert!(valid_sd_param("a=\"\""));
        for bad in ["a=b", "=\"b\"", "a = \"b\"", "a=\"b\"x", "a=\"b"] {
            assert!(!valid_sd_param(bad), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn codes_round_trip(code in 0u32..192) {
            prop_assert_eq!(Priority::from_code(code).unwrap().code(), code);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = Priority::parse(&s);
            let _ = logger_priority(&s);
            let _ = valid_sd_id(&s);
            let _ = valid_sd_param(&s);
        }

        #[test]
        fn logger_priorities_stay_in_range(f in 0usize..22, l in 0usize..12) {
            let spec = format!("{}.{}", LOGGER_FACILITIES[f].0, LOGGER_LEVELS[l].0);
            let pri = logger_priority(&spec).unwrap();
            prop_assert!((8..=199).contains(&pri), "{}", pri);
        }
    }
}
