//! Messages as syslogd receives them: RFC 3164 (`<PRI>Mmm dd hh:mm:ss [HOST] TAG[PID]: MSG`,
//! and the local form without a host that `syslog(3)` sends), RFC 5424
//! (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`), and `/dev/kmsg` records
//! (`PRI,SEQ,USEC,FLAGS;TEXT`), and the lines syslogd writes for them.
//!
//! Nothing is ever rejected: a message without a valid `<PRI>` gets user.notice (what
//! sysklogd and rsyslog give it) and is kept whole as its text; a header that does not
//! parse becomes text. Parsing works on bytes: senders are not bound to UTF-8.

use crate::format::syslog::{Facility, Priority, Severity};

/// Where a message came from; it decides what is trusted in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The local socket: no host name in the header, and a kern facility is a lie
    /// (only the kernel logs as kern; sysklogd rewrites it to user, so do we).
    Local,
    /// A UDP peer: the header may carry a host name.
    Remote,
    /// `/dev/kmsg`.
    Kernel,
}

/// The priority given to a message that has none.
pub(crate) const DEFAULT_PRIORITY: Priority = Priority {
    facility: Facility::USER,
    severity: Severity::Notice,
};

/// A message's time as the sender wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stamp<'a> {
    /// An RFC 3164 `Mmm dd hh:mm:ss`, 15 bytes, usable as is.
    Classic(&'a [u8]),
    /// An RFC 5424 time, as seconds since the epoch.
    Epoch(i64),
}

/// A parsed message, borrowing from the received bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Message<'a> {
    pub priority: Priority,
    /// False when the `<PRI>` was missing or invalid.
    pub has_priority: bool,
    pub stamp: Option<Stamp<'a>>,
    pub host: Option<&'a [u8]>,
    /// The program (RFC 3164 TAG, RFC 5424 APP-NAME); empty when there is none.
    pub app: &'a [u8],
    pub pid: Option<&'a [u8]>,
    /// RFC 5424 structured data, when not `-`.
    pub data: Option<&'a [u8]>,
    pub text: &'a [u8],
}

/// Parses one received datagram (or kmsg record).
pub(crate) fn parse(bytes: &[u8], origin: Origin) -> Message<'_> {
    let bytes = trim_end(bytes);
    if origin == Origin::Kernel {
        if let Some(m) = parse_kmsg(bytes) {
            return m;
        }
    }
    let Some((priority, rest)) = parse_pri(bytes) else {
        return Message {
            priority: DEFAULT_PRIORITY,
            has_priority: false,
            stamp: None,
            host: None,
            app: b"",
            pid: None,
            data: None,
            text: bytes,
        };
    };
    let priority = if origin == Origin::Local && priority.facility == Facility::KERN {
        Priority::new(Facility::USER, priority.severity)
    } else {
        priority
    };
    if let Some(m) = parse_5424(priority, rest) {
        return m;
    }
    parse_3164(priority, rest, origin == Origin::Remote)
}

/// Drops trailing newlines and NULs (some senders terminate their messages).
fn trim_end(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|&b| !matches!(b, b'\n' | b'\r' | 0))
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

/// `<N>` with N in 0..=191 (1 to 3 digits).
fn parse_pri(bytes: &[u8]) -> Option<(Priority, &[u8])> {
    let rest = bytes.strip_prefix(b"<")?;
    let close = rest.iter().take(4).position(|&b| b == b'>')?;
    let digits = &rest[..close];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let code = digits
        .iter()
        .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    Some((Priority::from_code(code)?, &rest[close + 1..]))
}

fn parse_3164(priority: Priority, rest: &[u8], with_host: bool) -> Message<'_> {
    let (stamp, rest) = match classic_stamp(rest) {
        Some(stamp) => (Some(Stamp::Classic(stamp)), &rest[16..]),
        None => (None, rest),
    };
    let (host, rest) = if with_host && stamp.is_some() {
        split_host(rest)
    } else {
        (None, rest)
    };
    let (app, pid, text) = split_tag(rest);
    Message {
        priority,
        has_priority: true,
        stamp,
        host,
        app,
        pid,
        data: None,
        text,
    }
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// `Mmm dd hh:mm:ss ` at the start (the day is ` 1` or `01`): the 15-byte stamp.
fn classic_stamp(bytes: &[u8]) -> Option<&[u8]> {
    if bytes.len() < 16 || bytes[15] != b' ' {
        return None;
    }
    let s = &bytes[..15];
    let digit = |i: usize| s[i].is_ascii_digit();
    let ok = MONTHS.iter().any(|m| &s[..3] == *m)
        && s[3] == b' '
        && (s[4] == b' ' || digit(4))
        && digit(5)
        && s[6] == b' '
        && digit(7)
        && digit(8)
        && s[9] == b':'
        && digit(10)
        && digit(11)
        && s[12] == b':'
        && digit(13)
        && digit(14);
    ok.then_some(s)
}

/// A host name after the stamp of a network message: a word of host-name characters
/// that is not the tag (a tag ends in `:` or carries `[pid]`).
fn split_host(bytes: &[u8]) -> (Option<&[u8]>, &[u8]) {
    let Some(space) = bytes.iter().position(|&b| b == b' ') else {
        return (None, bytes);
    };
    let word = &bytes[..space];
    let hostlike = !word.is_empty()
        && word.len() <= 255
        && word
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'))
        && !word.ends_with(b":");
    if hostlike {
        (Some(word), &bytes[space + 1..])
    } else {
        (None, bytes)
    }
}

/// `TAG[PID]: text` or `TAG: text`; anything else is all text.
fn split_tag(bytes: &[u8]) -> (&[u8], Option<&[u8]>, &[u8]) {
    let word_end = bytes
        .iter()
        .take(64)
        .position(|&b| b == b' ')
        .unwrap_or(bytes.len().min(64));
    let word = &bytes[..word_end];
    let Some(tag) = word.strip_suffix(b":") else {
        return (b"", None, bytes);
    };
    let text = bytes.get(word_end + 1..).unwrap_or(b"");
    match tag.iter().position(|&b| b == b'[') {
        Some(open) if tag.ends_with(b"]") && open > 0 => {
            (&tag[..open], Some(&tag[open + 1..tag.len() - 1]), text)
        }
        _ if tag.is_empty() => (b"", None, bytes),
        _ => (tag, None, text),
    }
}

/// `1 TIMESTAMP HOST APP PROCID MSGID SD [MSG]`; None if the header does not parse.
fn parse_5424(priority: Priority, rest: &[u8]) -> Option<Message<'_>> {
    let rest = rest.strip_prefix(b"1 ")?;
    let mut fields = [&b""[..]; 5];
    let mut rest = rest;
    for field in fields.iter_mut() {
        let space = rest.iter().position(|&b| b == b' ')?;
        *field = &rest[..space];
        if field.is_empty() {
            return None;
        }
        rest = &rest[space + 1..];
    }
    let [stamp, host, app, procid, _msgid] = fields;
    let stamp = match stamp {
        b"-" => None,
        s => Some(Stamp::Epoch(parse_rfc3339(s)?)),
    };
    let (data, text) = split_structured_data(rest)?;
    let nil = |f: &'static [u8], v: &[u8]| v == f;
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    Some(Message {
        priority,
        has_priority: true,
        stamp,
        host: (!nil(b"-", host)).then_some(host),
        app: if nil(b"-", app) { b"" } else { app },
        pid: (!nil(b"-", procid)).then_some(procid),
        data,
        text,
    })
}

/// `-` or `[id param="value"...]...`, then an optional space and the message.
fn split_structured_data(bytes: &[u8]) -> Option<(Option<&[u8]>, &[u8])> {
    if let Some(rest) = bytes.strip_prefix(b"-") {
        return match rest.first() {
            None => Some((None, b"")),
            Some(b' ') => Some((None, &rest[1..])),
            Some(_) => None,
        };
    }
    let mut i = 0;
    while bytes.get(i) == Some(&b'[') {
        i = sd_element_end(bytes, i)?;
    }
    if i == 0 {
        return None;
    }
    let text = match bytes.get(i) {
        None => &b""[..],
        Some(b' ') => &bytes[i + 1..],
        Some(_) => return None,
    };
    Some((Some(&bytes[..i]), text))
}

/// The index after the `]` closing the element that starts at `start`.
fn sd_element_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    let mut in_value = false;
    while i < bytes.len() {
        match (bytes[i], in_value) {
            (b'\\', true) => i += 1,
            (b'"', _) => in_value = !in_value,
            (b']', false) => return Some(i + 1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// `YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)` as seconds since the epoch.
pub(crate) fn parse_rfc3339(s: &[u8]) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0i64, |n, &d| n * 10 + i64::from(d - b'0')))
    };
    let sep = |i: usize, c: u8| (s.get(i) == Some(&c)).then_some(());
    let year = num(0..4)?;
    sep(4, b'-')?;
    let month = num(5..7)?;
    sep(7, b'-')?;
    let day = num(8..10)?;
    if !matches!(s.get(10), Some(b'T' | b't')) {
        return None;
    }
    let hour = num(11..13)?;
    sep(13, b':')?;
    let minute = num(14..16)?;
    sep(16, b':')?;
    let second = num(17..19)?;
    let mut i = 19;
    if s.get(i) == Some(&b'.') {
        i += 1;
        let digits = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 6 {
            return None;
        }
        i += digits;
    }
    let offset = match s.get(i) {
        Some(b'Z' | b'z') if s.len() == i + 1 => 0,
        Some(&sign @ (b'+' | b'-')) if s.len() == i + 6 => {
            let h = num(i + 1..i + 3)?;
            sep(i + 3, b':')?;
            let m = num(i + 4..i + 6)?;
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && second < 61;
    valid.then(|| {
        days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// A `/dev/kmsg` record: `PRI,SEQ,USEC,FLAGS[,...];TEXT` (continuation lines, which
/// start with a space and hold `KEY=VALUE` pairs, are dropped). The kernel logs as
/// `kernel`; a record a program wrote through `/dev/kmsg` keeps its own tag.
fn parse_kmsg(bytes: &[u8]) -> Option<Message<'_>> {
    let semi = bytes.iter().position(|&b| b == b';')?;
    let header = &bytes[..semi];
    let pri_end = header.iter().position(|&b| b == b',')?;
    let pri_text = &header[..pri_end];
    if pri_text.is_empty() || pri_text.len() > 4 || !pri_text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let code = pri_text
        .iter()
        .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    let priority = Priority::from_code(code)?;
    let body = &bytes[semi + 1..];
    let line_end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    let body = &body[..line_end];
    let (app, pid, text) = if priority.facility == Facility::KERN {
        (&b"kernel"[..], None, body)
    } else {
        split_tag(body)
    };
    Some(Message {
        priority,
        has_priority: true,
        stamp: None,
        host: None,
        app,
        pid,
        data: None,
        text,
    })
}

/// Splits a buffer read from a kmsg-like source into records (a record's continuation
/// lines start with a space and stay with it).
pub(crate) fn kmsg_records(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        while rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
        if rest.is_empty() {
            return None;
        }
        let mut end = 0;
        loop {
            match rest[end..].iter().position(|&b| b == b'\n') {
                None => {
                    end = rest.len();
                    break;
                }
                Some(nl) => {
                    end += nl + 1;
                    if rest.get(end) != Some(&b' ') {
                        break;
                    }
                }
            }
        }
        let (record, tail) = rest.split_at(end);
        rest = tail;
        Some(record)
    })
}

/// Appends `bytes` with control characters written as `#ooo` (octal), as rsyslog does,
/// so that one message is always one line.
pub(crate) fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
    let is_control = |b: &u8| *b < 0x20 || *b == 0x7f;
    let mut rest = bytes;
    // Runs of plain bytes are copied at once: most messages have no control character.
    while let Some(i) = rest.iter().position(is_control) {
        out.extend_from_slice(&rest[..i]);
        let b = rest[i];
        out.extend_from_slice(&[b'#', b'0' + (b >> 6), b'0' + ((b >> 3) & 7), b'0' + (b & 7)]);
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
}

/// Appends `APP[PID]: [SD ]TEXT` (just the text when there is no program).
pub(crate) fn body_into(out: &mut Vec<u8>, msg: &Message) {
    if !msg.app.is_empty() {
        escape_into(out, msg.app);
        if let Some(pid) = msg.pid {
            out.push(b'[');
            escape_into(out, pid);
            out.push(b']');
        }
        out.extend_from_slice(b": ");
    }
    if let Some(data) = msg.data {
        escape_into(out, data);
        if !msg.text.is_empty() {
            out.push(b' ');
        }
    }
    escape_into(out, msg.text);
}

/// The line of a log file: `Mmm dd hh:mm:ss HOST APP[PID]: TEXT` and the line end
/// (`\r\n` for a terminal).
pub(crate) fn file_line_into(
    out: &mut Vec<u8>,
    stamp: &[u8],
    host: &[u8],
    msg: &Message,
    crlf: bool,
) {
    out.extend_from_slice(stamp);
    out.push(b' ');
    escape_into(out, host);
    out.push(b' ');
    body_into(out, msg);
    if crlf {
        out.push(b'\r');
    }
    out.push(b'\n');
}

/// The datagram forwarded to another syslogd: RFC 3164 with the host name.
pub(crate) fn forward_into(out: &mut Vec<u8>, stamp: &[u8], host: &[u8], msg: &Message) {
    out.extend_from_slice(format!("<{}>", msg.priority.code()).as_bytes());
    out.extend_from_slice(stamp);
    out.push(b' ');
    escape_into(out, host);
    out.push(b' ');
    body_into(out, msg);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(bytes: &[u8], origin: Origin) -> String {
        let msg = parse(bytes, origin);
        let mut out = Vec::new();
        file_line_into(&mut out, b"Jan  1 00:00:00", b"here", &msg, false);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn local_3164_as_glibc_sends_it() {
        let m = parse(b"<30>Nov 21 05:30:00 crond[42]: job done\n", Origin::Local);
        assert_eq!(m.priority.code(), 30);
        assert_eq!(m.stamp, Some(Stamp::Classic(b"Nov 21 05:30:00")));
        assert_eq!(
            (m.app, m.pid, m.text),
            (&b"crond"[..], Some(&b"42"[..]), &b"job done"[..])
        );
        assert_eq!(m.host, None);
        assert_eq!(
            line(b"<13>Nov  1 05:30:00 me: hi", Origin::Local),
            "Jan  1 00:00:00 here me: hi\n"
        );
    }

    #[test]
    fn local_kern_is_rewritten_to_user() {
        let m = parse(b"<3>Nov 21 05:30:00 evil: x", Origin::Local);
        assert_eq!(m.priority, Priority::new(Facility::USER, Severity::Err));
        let m = parse(b"<3>Nov 21 05:30:00 evil: x", Origin::Remote);
        assert_eq!(m.priority.facility, Facility::KERN);
    }

    #[test]
    fn remote_3164_with_host() {
        let m = parse(
            b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed",
            Origin::Remote,
        );
        assert_eq!(m.host, Some(&b"mymachine"[..]));
        assert_eq!(m.app, b"su");
        assert_eq!(m.text, b"'su root' failed");
        // A tag right after the stamp is not a host.
        let m = parse(b"<34>Oct 11 22:14:15 su: fail", Origin::Remote);
        assert_eq!((m.host, m.app), (None, &b"su"[..]));
        let m = parse(b"<34>Oct 11 22:14:15 su[9]: fail", Origin::Remote);
        assert_eq!((m.host, m.pid), (None, Some(&b"9"[..])));
    }

    #[test]
    fn rfc5424() {
        let m = parse(
            b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 \
              [exampleSDID@32473 iut=\"3\" eventSource=\"Appl\\]ication\"] \xEF\xBB\xBFAn application event",
            Origin::Remote,
        );
        assert_eq!(m.priority.code(), 165);
        assert_eq!(m.stamp, Some(Stamp::Epoch(1065910455)));
        assert_eq!(m.host, Some(&b"mymachine.example.com"[..]));
        assert_eq!((m.app, m.pid), (&b"evntslog"[..], None));
        assert!(m.data.unwrap().ends_with(b"Appl\\]ication\"]"));
        assert_eq!(m.text, b"An application event");
        let m = parse(b"<13>1 - - app 77 - - hello", Origin::Local);
        assert_eq!(
            (m.app, m.pid, m.text),
            (&b"app"[..], Some(&b"77"[..]), &b"hello"[..])
        );
        assert_eq!(m.stamp, None);
        assert_eq!(
            line(
                b"<13>1 2020-01-01T00:00:00+01:00 h app - - [a b=\"c\"] msg",
                Origin::Local
            ),
            "Jan  1 00:00:00 here app: [a b=\"c\"] msg\n"
        );
    }

    #[test]
    fn malformed_messages_are_kept() {
        for raw in [
            &b"no priority at all"[..],
            b"<999>too big",
            b"<>empty",
            b"<1x>bad",
            b"",
        ] {
            let m = parse(raw, Origin::Local);
            assert_eq!(m.priority, DEFAULT_PRIORITY);
            assert!(!m.has_priority);
            assert_eq!(m.text, raw);
        }
        // A valid priority and a header that is not one: the rest is text.
        let m = parse(b"<14>just text", Origin::Local);
        assert_eq!(
            (m.priority.code(), m.text, m.app),
            (14, &b"just text"[..], &b""[..])
        );
        let m = parse(b"<14>1 not-a-time h a - - - x", Origin::Local);
        assert_eq!(m.text, b"1 not-a-time h a - - - x");
        assert_eq!(
            line(b"<14>a\nb\x01", Origin::Local),
            "Jan  1 00:00:00 here a#012b#001\n"
        );
    }

    #[test]
    fn kmsg_records_and_parsing() {
        let buf = b"6,339,5140900,-;NET: Registered protocol family 10\n SUBSYSTEM=net\n\
                    30,340,5140901,-;vinit[1]: started\n";
        let records: Vec<&[u8]> = kmsg_records(buf).collect();
        assert_eq!(records.len(), 2);
        let m = parse(records[0], Origin::Kernel);
        assert_eq!(m.priority, Priority::new(Facility::KERN, Severity::Info));
        assert_eq!(
            (m.app, m.text),
            (&b"kernel"[..], &b"NET: Registered protocol family 10"[..])
        );
        let m = parse(records[1], Origin::Kernel);
        assert_eq!(m.priority.facility, Facility::DAEMON);
        assert_eq!(
            (m.app, m.pid, m.text),
            (&b"vinit"[..], Some(&b"1"[..]), &b"started"[..])
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_rfc3339(b"1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339(b"2000-03-01T00:00:00Z"), Some(951868800));
        assert_eq!(parse_rfc3339(b"1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_rfc3339(b"1970-01-01T00:00:00.123456-00:30"),
            Some(1800)
        );
        assert_eq!(parse_rfc3339(b"1970-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339(b"1970-01-01 00:00:00Z"), None);
        assert_eq!(parse_rfc3339(b"1970-01-01T00:00:00"), None);
    }

    #[test]
    fn forward_format() {
        let m = parse(b"<29>Nov 21 05:30:00 d[1]: up", Origin::Local);
        let mut out = Vec::new();
        forward_into(&mut out, b"Nov 21 05:30:01", b"box", &m);
        assert_eq!(out, b"<29>Nov 21 05:30:01 box d[1]: up");
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_lines_stay_single(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            for origin in [Origin::Local, Origin::Remote, Origin::Kernel] {
                let msg = parse(&bytes, origin);
                let mut out = Vec::new();
                file_line_into(&mut out, b"Jan  1 00:00:00", b"h", &msg, false);
                prop_assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
                prop_assert!(out.ends_with(b"\n"));
            }
            let _ = kmsg_records(&bytes).count();
        }

        #[test]
        fn well_formed_3164_round_trips(code in 0u32..192, tag in "[a-z]{1,10}", pid in 1u32..99999, text in "[ -~]{0,40}") {
            let raw = format!("<{code}>Feb  3 04:05:06 {tag}[{pid}]: {text}");
            let m = parse(raw.as_bytes(), Origin::Remote);
            prop_assert_eq!(m.priority.code(), code);
            prop_assert_eq!(m.app, tag.as_bytes());
            let pid_text = pid.to_string();
            prop_assert_eq!(m.pid, Some(pid_text.as_bytes()));
            prop_assert_eq!(m.text, text.trim_end_matches(['\n', '\r']).as_bytes());
        }
    }
}
