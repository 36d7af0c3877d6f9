//! The classic `inetd.conf`: one service a line,
//!
//! ```text
//! [host:]service socket-type protocol[,sndbuf=N][,rcvbuf=N] wait|nowait[.max] user[.group|:group] server-path|internal [argv0 args…]
//! ```
//!
//! A line holding only `host:` sets the listen address of the lines after it (`*:` goes
//! back to every address); `host:` in front of the service name sets it for that line
//! alone. IPv6 addresses may be written in brackets (`[::1]:echo`). `#` at the start of
//! a line is a comment. A bad line is reported with its number and skipped; the others
//! stand.

use std::fmt;
use std::path::Path;

use super::xinetd::Origin;

/// Why a line of inetd.conf is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldError(pub String);

impl From<String> for FieldError {
    fn from(message: String) -> FieldError {
        FieldError(message)
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What serves the requests of a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum InetdServer {
    /// A service built into the superserver (echo, discard, …).
    Internal,
    /// A program and its full argument vector (argv[0] first, as written).
    Program { path: String, argv: Vec<String> },
}

/// One valid line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InetdEntry {
    pub at: Origin,
    /// The listen address (None: every address).
    pub host: Option<String>,
    /// A name from `etc/services`, or a port number.
    pub service: String,
    pub socket_type: String,
    pub protocol: String,
    pub sndbuf: Option<u32>,
    pub rcvbuf: Option<u32>,
    pub wait: bool,
    /// `.max`: servers started per minute before the service pauses.
    pub max: Option<u32>,
    pub user: String,
    pub group: Option<String>,
    pub server: InetdServer,
}

/// A line that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LineError {
    pub at: Origin,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// The lines of a file: the valid ones and the errors, in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct InetdConf {
    pub entries: Vec<InetdEntry>,
    pub errors: Vec<LineError>,
}

pub(crate) fn parse(file: &Path, text: &str) -> InetdConf {
    let mut conf = InetdConf::default();
    let mut default_host: Option<String> = None;
    for (index, line) in text.lines().enumerate() {
        let at = Origin::new(file, index + 1);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match parse_line(trimmed, &at, &mut default_host) {
            Ok(Some(entry)) => conf.entries.push(entry),
            Ok(None) => {}
            Err(FieldError(message)) => conf.errors.push(LineError { at, message }),
        }
    }
    conf
}

/// Splits `host:rest` at the last `:` outside brackets. None when there is no host part.
fn split_host(word: &str) -> Option<(&str, &str)> {
    if let Some(inner) = word.strip_prefix('[') {
        let (host, rest) = inner.split_once(']')?;
        return Some((host, rest.strip_prefix(':')?));
    }
    word.rsplit_once(':')
}

fn host_value(host: &str) -> Option<String> {
    (host != "*").then(|| host.to_string())
}

fn parse_line(
    line: &str,
    at: &Origin,
    default_host: &mut Option<String>,
) -> Result<Option<InetdEntry>, FieldError> {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    let mut host = default_host.clone();
    if let Some((h, rest)) = split_host(words[0]) {
        if h.is_empty() {
            return Err(FieldError::from(format!(
                "empty host before ':' in '{}'",
                words[0]
            )));
        }
        if rest.is_empty() {
            if words.len() == 1 {
                *default_host = host_value(h);
                return Ok(None);
            }
            host = host_value(h);
            words.remove(0);
        } else {
            host = host_value(h);
            words[0] = rest;
        }
    }
    if words.len() < 6 {
        return Err(FieldError::from(format!(
            "expected 'service socket-type protocol wait|nowait user server [args]', found {} field{}",
            words.len(),
            if words.len() == 1 { "" } else { "s" }
        )));
    }
    let (protocol, sndbuf, rcvbuf) = parse_protocol(words[2])?;
    let (wait, max) = parse_wait(words[3])?;
    let (user, group) = parse_user(words[4])?;
    let server = if words[5] == "internal" {
        if words.len() > 6 {
            return Err(FieldError(
                "an internal service takes no arguments".to_string(),
            ));
        }
        InetdServer::Internal
    } else {
        if !words[5].starts_with('/') {
            return Err(FieldError::from(format!(
                "server '{}' must be an absolute path or 'internal'",
                words[5]
            )));
        }
        let argv: Vec<String> = if words.len() > 6 {
            words[6..].iter().map(|w| w.to_string()).collect()
        } else {
            vec![basename(words[5]).to_string()]
        };
        InetdServer::Program {
            path: words[5].to_string(),
            argv,
        }
    };
    Ok(Some(InetdEntry {
        at: at.clone(),
        host,
        service: words[0].to_string(),
        socket_type: words[1].to_string(),
        protocol,
        sndbuf,
        rcvbuf,
        wait,
        max,
        user,
        group,
        server,
    }))
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

type ProtocolField = (String, Option<u32>, Option<u32>);

fn parse_protocol(field: &str) -> Result<ProtocolField, FieldError> {
    let mut parts = field.split(',');
    let protocol = parts.next().unwrap_or_default().to_ascii_lowercase();
    let (mut sndbuf, mut rcvbuf) = (None, None);
    for option in parts {
        let (key, value) = option
            .split_once('=')
            .ok_or_else(|| format!("protocol option '{option}' is not 'sndbuf=N' or 'rcvbuf=N'"))?;
        let size = parse_size(value)
            .ok_or_else(|| format!("invalid buffer size '{value}' in '{field}'"))?;
        match key {
            "sndbuf" => sndbuf = Some(size),
            "rcvbuf" => rcvbuf = Some(size),
            _ => {
                return Err(FieldError::from(format!(
                    "unknown protocol option '{key}' in '{field}'"
                )))
            }
        }
    }
    Ok((protocol, sndbuf, rcvbuf))
}

/// `N`, `Nk` or `Nm` bytes, as openbsd-inetd takes them.
fn parse_size(value: &str) -> Option<u32> {
    let (digits, unit) = match value.as_bytes().last()? {
        b'k' | b'K' => (&value[..value.len() - 1], 1024),
        b'm' | b'M' => (&value[..value.len() - 1], 1024 * 1024),
        _ => (value, 1),
    };
    digits
        .parse::<u32>()
        .ok()?
        .checked_mul(unit)
        .filter(|n| *n > 0)
}

fn parse_wait(field: &str) -> Result<(bool, Option<u32>), FieldError> {
    let (word, max) = match field.split_once('.') {
        Some((w, m)) => (
            w,
            Some(
                m.parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("invalid maximum '{m}' in '{field}'"))?,
            ),
        ),
        None => (field, None),
    };
    match word {
        "wait" => Ok((true, max)),
        "nowait" => Ok((false, max)),
        _ => Err(FieldError(format!(
            "expected 'wait' or 'nowait', found '{field}'"
        ))),
    }
}

fn parse_user(field: &str) -> Result<(String, Option<String>), FieldError> {
    let (user, group) = match field.split_once([':', '.']) {
        Some((u, g)) => (u, Some(g)),
        None => (field, None),
    };
    if user.is_empty() || group.is_some_and(str::is_empty) {
        return Err(FieldError::from(format!(
            "invalid user '{field}' (user, user.group or user:group)"
        )));
    }
    Ok((user.to_string(), group.map(str::to_string)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(text: &str) -> InetdConf {
        parse(Path::new("inetd.conf"), text)
    }

    #[test]
    fn classic_lines() {
        let conf = p("\
# comment
echo   stream tcp nowait root internal
echo\tdgram  udp wait   root internal
ftp    stream tcp6,sndbuf=64k nowait.400 ftp:ftpgrp /usr/sbin/ftpd ftpd -l
cat    stream tcp nowait nobody.nogroup /bin/cat
");
        assert!(conf.errors.is_empty(), "{:?}", conf.errors);
        let e = &conf.entries;
        assert_eq!(e.len(), 4);
        assert_eq!(e[0].server, InetdServer::Internal);
        assert!(!e[0].wait && e[1].wait);
        assert_eq!(e[2].protocol, "tcp6");
        assert_eq!(e[2].sndbuf, Some(65536));
        assert_eq!(e[2].max, Some(400));
        assert_eq!(
            (e[2].user.as_str(), e[2].group.as_deref()),
            ("ftp", Some("ftpgrp"))
        );
        assert_eq!(
            e[2].server,
            InetdServer::Program {
                path: "/usr/sbin/ftpd".into(),
                argv: vec!["ftpd".into(), "-l".into()]
            }
        );
        assert_eq!(e[2].at.line, 4);
        assert_eq!(e[3].group.as_deref(), Some("nogroup"));
        assert_eq!(
            e[3].server,
            InetdServer::Program {
                path: "/bin/cat".into(),
                argv: vec!["cat".into()]
            }
        );
    }

    #[test]
    fn host_prefixes() {
        let conf = p("\
127.0.0.1:
echo stream tcp nowait root internal
[::1]:daytime stream tcp6 nowait root internal
*:
time stream tcp nowait root internal
10.0.0.1: chargen stream tcp nowait root internal
discard stream tcp nowait root internal
");
        assert!(conf.errors.is_empty(), "{:?}", conf.errors);
        let hosts: Vec<Option<&str>> = conf.entries.iter().map(|e| e.host.as_deref()).collect();
        assert_eq!(
            hosts,
            [Some("127.0.0.1"), Some("::1"), None, Some("10.0.0.1"), None]
        );
        assert_eq!(conf.entries[1].service, "daytime");
    }

    #[test]
    fn bad_lines_are_reported_and_skipped() {
        let conf = p("\
echo stream tcp nowait root
echo stream tcp maybe root internal
echo stream tcp nowait.x root internal
echo stream tcp,bogus=1 nowait root internal
echo stream tcp nowait root: internal
echo stream tcp nowait root cat
echo stream tcp nowait root internal extra
discard stream tcp nowait root internal
");
        let lines: Vec<usize> = conf.errors.iter().map(|e| e.at.line).collect();
        assert_eq!(lines, [1, 2, 3, 4, 5, 6, 7]);
        assert!(conf.errors[1]
            .to_string()
            .starts_with("inetd.conf:2: expected 'wait'"));
        assert_eq!(conf.entries.len(), 1);
        assert_eq!(conf.entries[0].service, "discard");
    }

    proptest! {
        #[test]
        fn never_panics(text in "(\\PC{0,40}\n){0,10}") {
            let conf = p(&text);
            for e in &conf.errors {
                prop_assert!(e.at.line >= 1);
            }
        }

        #[test]
        fn written_lines_read_back(
            service in "[a-z][a-z0-9-]{0,8}",
            stream in any::<bool>(),
            wait in any::<bool>(),
            max in proptest::option::of(1u32..100_000),
            user in "[a-z][a-z0-9]{0,6}",
            group in proptest::option::of("[a-z][a-z0-9]{0,6}"),
            args in proptest::collection::vec("[a-zA-Z0-9-]{1,6}", 0..4),
        ) {
            let mut line = format!(
                "{service} {} {} {}{} {user}{} /usr/sbin/srv",
                if stream { "stream" } else { "dgram" },
                if stream { "tcp" } else { "udp" },
                if wait { "wait" } else { "nowait" },
                max.map(|m| format!(".{m}")).unwrap_or_default(),
                group.as_ref().map(|g| format!(":{g}")).unwrap_or_default(),
            );
            for a in &args {
                line.push(' ');
                line.push_str(a);
            }
            let conf = p(&line);
            prop_assert!(conf.errors.is_empty(), "{:?}", conf.errors);
            let e = &conf.entries[0];
            prop_assert_eq!(&e.service, &service);
            prop_assert_eq!(e.wait, wait);
            prop_assert_eq!(e.max, max);
            prop_assert_eq!(&e.user, &user);
            prop_assert_eq!(&e.group, &group);
            let want_argv = if args.is_empty() { vec!["srv".to_string()] } else { args.clone() };
            prop_assert_eq!(
                &e.server,
                &InetdServer::Program { path: "/usr/sbin/srv".into(), argv: want_argv }
            );
        }
    }
}
