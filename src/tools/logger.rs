//! `vinit logger`: util-linux's logger (2.38) — its command line, the messages it sends
//! and its exit statuses, byte for byte (see tests/logger.rs).
//!
//! As util-linux: the options are read in command-line order (the last of `-i`/`--id`,
//! `--rfc3164`/`--rfc5424`, `-d`/`-T` wins; `--sd-param` belongs to the `--sd-id` before
//! it); messages given as arguments share one header and are joined up to `--size`
//! bytes, a longer argument is cut; each line of the input is one message (cut in
//! pieces of `--size` bytes) with a header of its own.

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use clap::{ArgAction, ArgMatches, CommandFactory, FromArgMatches, Parser};

use super::Context;
use crate::error::{Failure, ToolResult};
use crate::format::syslog::{
    local_header, logger_priority, rfc3164_header, rfc5424_header, structured_data, valid_sd_id,
    valid_sd_param, Rfc5424, SdElement,
};
use crate::sys::syslog::{
    hostname, rfc3339_timestamp, syslog_timestamp, time_quality, LogConnection, LogTarget,
    Transports,
};

#[derive(Parser, Debug)]
#[command(
    name = "logger",
    about = "Enter messages into the system log",
    version,
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true,
    after_help = "Without a message (or with -f), each line of the input is one message."
)]
struct Args {
    /// Print this help.
    #[arg(short = 'h', long = "help", action = ArgAction::Help)]
    help: Option<bool>,
    /// Print the version.
    #[arg(short = 'V', long = "version", action = ArgAction::Version)]
    version: Option<bool>,
    /// Work on the system below DIR (its dev/log).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Log the logger command's pid.
    #[arg(short = 'i')]
    log_pid: bool,
    /// Log ID, or else logger's pid.
    #[arg(
        long = "id",
        value_name = "ID",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = NO_VALUE
    )]
    id: Option<String>,
    /// Log the lines of FILE.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// Skip empty lines of the input.
    #[arg(short = 'e', long = "skip-empty")]
    skip_empty: bool,
    /// Do everything but send.
    #[arg(long = "no-act")]
    no_act: bool,
    /// facility.level, or level (names or numbers; default user.notice).
    #[arg(
        short = 'p',
        long = "priority",
        value_name = "PRIO",
        allow_hyphen_values = true
    )]
    priority: Option<String>,
    /// Frame each message with its length (RFC 6587 octet counting).
    #[arg(long = "octet-count")]
    octet_count: bool,
    /// Take a <PRI> at the start of an input line as its priority.
    #[arg(long = "prio-prefix")]
    prio_prefix: bool,
    /// Also write each message to standard error.
    #[arg(short = 's', long = "stderr")]
    stderr: bool,
    /// The longest message (default 1024).
    #[arg(
        short = 'S',
        long = "size",
        value_name = "SIZE",
        allow_hyphen_values = true
    )]
    size: Option<String>,
    /// Tag each message with TAG (default: the login name).
    #[arg(
        short = 't',
        long = "tag",
        value_name = "TAG",
        allow_hyphen_values = true
    )]
    tag: Option<OsString>,
    /// Send to this syslog server.
    #[arg(short = 'n', long = "server", value_name = "NAME")]
    server: Option<String>,
    /// The server's port (default: syslog for UDP, syslog-conn for TCP).
    #[arg(short = 'P', long = "port", value_name = "PORT")]
    port: Option<String>,
    /// Use a stream (TCP) only.
    #[arg(short = 'T', long = "tcp")]
    tcp: bool,
    /// Use datagrams (UDP) only.
    #[arg(short = 'd', long = "udp")]
    udp: bool,
    /// Send RFC 3164 messages (with the host name).
    #[arg(long = "rfc3164")]
    rfc3164: bool,
    /// Send RFC 5424 messages (the default to a server); notime, notq, nohost leave
    /// parts out.
    #[arg(
        long = "rfc5424",
        value_name = "SNIP",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = NO_VALUE
    )]
    rfc5424: Option<String>,
    /// An RFC 5424 structured data ID.
    #[arg(long = "sd-id", value_name = "ID", action = ArgAction::Append)]
    sd_id: Vec<String>,
    /// A name="value" of the --sd-id before it.
    #[arg(long = "sd-param", value_name = "DATA", action = ArgAction::Append)]
    sd_param: Vec<String>,
    /// The RFC 5424 message id.
    #[arg(long = "msgid", value_name = "MSGID")]
    msgid: Option<String>,
    /// Write to this socket (default dev/log under the root).
    #[arg(short = 'u', long = "socket", value_name = "SOCKET")]
    socket: Option<PathBuf>,
    /// Report a local socket that cannot be reached (on, off, auto).
    #[arg(long = "socket-errors", value_name = "WHEN")]
    socket_errors: Option<String>,
    /// The message.
    message: Vec<OsString>,
}

/// What an option with an optional value (`--id`, `--rfc5424`) holds when given without
/// one: a NUL, which no argument can contain.
const NO_VALUE: &str = "\0";

fn given(value: &str) -> Option<&str> {
    (value != NO_VALUE).then_some(value)
}

/// The message format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// `<PRI>TIME TAG[PID]: ` — what the local socket gets by default.
    Local,
    Rfc3164,
    Rfc5424,
}

/// Everything the options say, once read in order.
struct Settings {
    pri: u32,
    pid: Option<i32>,
    format: Option<Format>,
    rfc5424_time: bool,
    rfc5424_tq: bool,
    rfc5424_host: bool,
    transports: Transports,
    max_size: usize,
    msgid: Option<String>,
    sd: Vec<SdElement>,
    socket_errors: Option<bool>,
    input: Option<std::fs::File>,
}

pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

pub fn main(ctx: &Context, argv: Vec<OsString>) -> i32 {
    let prog = super::program_name(&argv, "logger");
    let parsed = Args::command()
        .try_get_matches_from(&argv)
        .and_then(|m| Args::from_arg_matches(&m).map(|a| (a, m)));
    let (args, matches) = match parsed {
        Ok(p) => p,
        Err(e) => {
            let _ = e.print();
            return i32::from(e.use_stderr());
        }
    };
    crate::error::finish(&prog, run(ctx, &prog, &args, &matches))
}

fn run(ctx: &Context, prog: &str, args: &Args, matches: &ArgMatches) -> ToolResult {
    let mut settings = read_options(prog, args, matches)?;
    if args.file.is_some() && !args.message.is_empty() {
        eprintln!("{prog}: --file <file> and <message> are mutually exclusive, message is ignored");
    }
    let input = settings.input.take();
    let mut logger = Logger::open(ctx, args, settings, prog)?;
    if args.message.is_empty() {
        match input {
            Some(file) => logger.lines(std::io::BufReader::new(file))?,
            None => logger.lines(std::io::stdin().lock())?,
        }
    } else {
        let words: Vec<&[u8]> = args.message.iter().map(|m| m.as_bytes()).collect();
        logger.command_line(&words)?;
    }
    Ok(0)
}

/// A refusal of logger's (bad option value, bad message header): status 1, as
/// util-linux's errx.
fn refuse(message: impl Into<String>) -> Failure {
    Failure::new(1, message)
}

/// One option whose order matters, with where it was on the command line.
enum Step<'a> {
    File(&'a PathBuf),
    LogPid,
    Id(Option<&'a str>),
    Priority(&'a str),
    Size(&'a str),
    Udp,
    Tcp,
    Rfc3164,
    Rfc5424(Option<&'a str>),
    Msgid(&'a str),
    SdId(&'a str),
    SdParam(&'a str),
    SocketErrors(&'a str),
}

/// The ordered options, as util-linux's getopt loop meets them.
fn steps<'a>(args: &'a Args, matches: &ArgMatches) -> Vec<(usize, Step<'a>)> {
    let last = |id: &str| matches.indices_of(id).and_then(|i| i.max());
    let all =
        |id: &str| -> Vec<usize> { matches.indices_of(id).map_or(Vec::new(), |i| i.collect()) };
    let mut steps: Vec<(usize, Step)> = Vec::new();
    let mut one = |id: &str, step: Step<'a>| {
        if let Some(at) = last(id) {
            steps.push((at, step));
        }
    };
    if let Some(path) = &args.file {
        one("file", Step::File(path));
    }
    if args.log_pid {
        one("log_pid", Step::LogPid);
    }
    if let Some(id) = &args.id {
        one("id", Step::Id(given(id)));
    }
    if let Some(p) = &args.priority {
        one("priority", Step::Priority(p));
    }
    if let Some(size) = &args.size {
        one("size", Step::Size(size));
    }
    if args.udp {
        one("udp", Step::Udp);
    }
    if args.tcp {
        one("tcp", Step::Tcp);
    }
    if args.rfc3164 {
        one("rfc3164", Step::Rfc3164);
    }
    if let Some(snip) = &args.rfc5424 {
        one("rfc5424", Step::Rfc5424(given(snip)));
    }
    if let Some(m) = &args.msgid {
        one("msgid", Step::Msgid(m));
    }
    if let Some(w) = &args.socket_errors {
        one("socket_errors", Step::SocketErrors(w));
    }
    for (at, id) in all("sd_id").into_iter().zip(&args.sd_id) {
        steps.push((at, Step::SdId(id)));
    }
    for (at, param) in all("sd_param").into_iter().zip(&args.sd_param) {
        steps.push((at, Step::SdParam(param)));
    }
    steps.sort_by_key(|(at, _)| *at);
    steps
}

fn read_options(prog: &str, args: &Args, matches: &ArgMatches) -> Result<Settings, Failure> {
    let mut s = Settings {
        pri: 13,
        pid: None,
        format: None,
        rfc5424_time: true,
        rfc5424_tq: true,
        rfc5424_host: true,
        transports: Transports {
            datagram: true,
            stream: true,
        },
        max_size: 1024,
        msgid: None,
        sd: Vec::new(),
        socket_errors: None,
        input: None,
    };
    for (_, step) in steps(args, matches) {
        apply(prog, &mut s, step)?;
    }
    // A --sd-id timeQuality of the user's replaces the one logger adds.
    if s.sd.iter().any(|e| e.id == "timeQuality") {
        s.rfc5424_tq = false;
    }
    Ok(s)
}

fn apply(prog: &str, s: &mut Settings, step: Step) -> Result<(), Failure> {
    match step {
        Step::File(path) => {
            let file = std::fs::File::open(path).map_err(|e| {
                refuse(format!(
                    "file {}: {}",
                    path.display(),
                    crate::sys::describe_io(&e)
                ))
            })?;
            s.input = Some(file);
        }
        Step::LogPid => s.pid = Some(std::process::id() as i32),
        Step::Id(None) => s.pid = Some(std::process::id() as i32),
        Step::Id(Some(text)) => {
            let id =
                parse_id(text).ok_or_else(|| refuse(format!("failed to parse id: '{text}'")))?;
            // An id of 0 is no id (util-linux keeps 0 for "none").
            s.pid = (id != 0).then_some(id);
        }
        Step::Priority(spec) => s.pri = logger_priority(spec).map_err(|e| refuse(e.to_string()))?,
        Step::Size(text) => {
            s.max_size = parse_size(text)
                .map_err(|why| refuse(format!("failed to parse message size: '{text}': {why}")))?
        }
        Step::Udp => {
            s.transports = Transports {
                datagram: true,
                stream: false,
            }
        }
        Step::Tcp => {
            s.transports = Transports {
                datagram: false,
                stream: true,
            }
        }
        Step::Rfc3164 => s.format = Some(Format::Rfc3164),
        Step::Rfc5424(snip) => {
            s.format = Some(Format::Rfc5424);
            for flag in snip
                .unwrap_or_default()
                .split(',')
                .filter(|f| !f.is_empty())
            {
                match flag {
                    "notime" => (s.rfc5424_time, s.rfc5424_tq) = (false, false),
                    "notq" => s.rfc5424_tq = false,
                    "nohost" => s.rfc5424_host = false,
                    other => eprintln!("{prog}: ignoring unknown option argument: {other}"),
                }
            }
        }
        Step::Msgid(id) => {
            if id.contains(' ') {
                return Err(refuse("--msgid cannot contain space"));
            }
            s.msgid = Some(id.to_string());
        }
        Step::SdId(id) => {
            if !valid_sd_id(id) {
                return Err(refuse(format!("invalid structured data ID: '{id}'")));
            }
            if s.sd.iter().any(|e| e.id == id) {
                return Err(refuse(format!("structured data ID '{id}' is not unique")));
            }
            s.sd.push(SdElement {
                id: id.to_string(),
                params: Vec::new(),
            });
        }
        Step::SdParam(param) => {
            if !valid_sd_param(param) {
                return Err(refuse(format!(
                    "invalid structured data parameter: '{param}'"
                )));
            }
            s.sd.last_mut()
                .ok_or_else(|| refuse(format!("--sd-id was not specified for --sd-param {param}")))?
                .params
                .push(param.to_string());
        }
        Step::SocketErrors(when) => {
            s.socket_errors = match when {
                "on" => Some(true),
                "off" => Some(false),
                "auto" => None,
                other => {
                    eprintln!("{prog}: invalid argument: {other}: using automatic errors");
                    None
                }
            }
        }
    }
    Ok(())
}

/// `--id=ID` as util-linux reads it (strtoul): blanks and a sign may lead, digits
/// follow, and the number wraps into a pid_t. 0 means no id.
fn parse_id(text: &str) -> Option<i32> {
    let trimmed = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value = digits.parse::<u64>().ok()?;
    let value = if negative {
        value.wrapping_neg()
    } else {
        value
    };
    Some(value as i32)
}

/// `--size` as util-linux's strtosize reads it: a number in C's notation (`0x10`, `010`),
/// with an optional fraction and a suffix K, M, G… (`KiB` or `K`: powers of 1024, `KB`:
/// of 1000). The error is the reason, as strerror words it.
fn parse_size(text: &str) -> Result<usize, &'static str> {
    const INVALID: &str = "Invalid argument";
    if text.trim_start().starts_with('-') || text.is_empty() {
        return Err(INVALID);
    }
    let (number, rest) = c_number(text.trim_start()).ok_or(INVALID)?;
    if rest.is_empty() {
        return usize::try_from(number).map_err(|_| "Numerical result out of range");
    }
    let (fraction, rest) = match rest.strip_prefix('.') {
        Some(after) => {
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            (&after[..digits], &after[digits..])
        }
        None => ("", rest),
    };
    let mut chars = rest.chars();
    let letter = chars.next().ok_or(INVALID)?;
    let base: u128 = match chars.as_str() {
        "" | "iB" | "ib" => 1024,
        "B" | "b" => 1000,
        _ => return Err(INVALID),
    };
    let power = "KMGTPEZY"
        .find(letter.to_ascii_uppercase())
        .ok_or(INVALID)? as u32
        + 1;
    let unit = base
        .checked_pow(power)
        .ok_or("Numerical result out of range")?;
    let whole = u128::from(number) * unit;
    let part = if fraction.is_empty() {
        0
    } else {
        let scale = 10u128.pow(fraction.len().min(30) as u32);
        fraction.parse::<u128>().map_err(|_| INVALID)? * unit / scale
    };
    usize::try_from(whole + part).map_err(|_| "Numerical result out of range")
}

/// A C integer (strtoumax base 0): decimal, `0x` hex or `0` octal, after an optional
/// `+`; the rest of the text after it.
fn c_number(text: &str) -> Option<(u64, &str)> {
    let text = text.strip_prefix('+').unwrap_or(text);
    let (radix, body) = if let Some(hex) = text.strip_prefix("0x").or(text.strip_prefix("0X")) {
        (16, hex)
    } else if text.len() > 1 && text.starts_with('0') {
        (8, &text[1..])
    } else {
        (10, text)
    };
    let len = body.chars().take_while(|c| c.is_digit(radix)).count();
    if len == 0 {
        return (radix == 8).then_some((0, body));
    }
    let value = u64::from_str_radix(&body[..len], radix).ok()?;
    Some((value, &body[len..]))
}

/// util-linux's default tag: the login name, else the user's, else `<someone>`.
fn default_tag() -> Vec<u8> {
    // SAFETY: getlogin returns a static string or NULL.
    let login = unsafe { libc::getlogin() };
    if !login.is_null() {
        // SAFETY: a NUL-terminated string from libc.
        let name = unsafe { std::ffi::CStr::from_ptr(login) }.to_bytes();
        if !name.is_empty() {
            return name.to_vec();
        }
    }
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map_or_else(|| b"<someone>".to_vec(), |u| u.name.into_bytes())
}

/// Formats and sends.
struct Logger {
    conn: LogConnection,
    settings: Settings,
    format: Format,
    tag: Vec<u8>,
    octet_count: bool,
    stderr: bool,
    no_act: bool,
    skip_empty: bool,
    prio_prefix: bool,
    prog: String,
    /// The host name, read once (not for every message).
    host: String,
}

impl Logger {
    fn open(ctx: &Context, args: &Args, settings: Settings, prog: &str) -> ToolResult<Logger> {
        let target = match &args.server {
            Some(host) => LogTarget::Inet {
                host: host.clone(),
                port: args.port.clone(),
            },
            None => LogTarget::Unix(
                args.socket
                    .clone()
                    .unwrap_or_else(|| ctx.root(args.root.as_deref()).dev_log()),
            ),
        };
        // util-linux's "auto": report when asked to show the message, or on a systemd
        // machine (sd_booted).
        let report = settings.socket_errors.unwrap_or_else(|| {
            args.no_act || args.stderr || std::path::Path::new("/run/systemd/system").is_dir()
        });
        let conn = LogConnection::open(target, settings.transports, report)?;
        let default = if args.server.is_some() {
            Format::Rfc5424
        } else {
            Format::Local
        };
        let logger = Logger {
            conn,
            format: settings.format.unwrap_or(default),
            settings,
            tag: args
                .tag
                .as_ref()
                .map_or_else(default_tag, |t| t.as_bytes().to_vec()),
            octet_count: args.octet_count,
            stderr: args.stderr,
            no_act: args.no_act,
            skip_empty: args.skip_empty,
            prio_prefix: args.prio_prefix,
            prog: prog.to_string(),
            host: hostname(),
        };
        logger.header(logger.settings.pri)?;
        Ok(logger)
    }

    /// The header for a message of priority `pri`, now.
    fn header(&self, pri: u32) -> Result<Vec<u8>, Failure> {
        let s = &self.settings;
        let full_host = &self.host;
        Ok(match self.format {
            Format::Local => local_header(pri, &syslog_timestamp(), &self.tag, s.pid),
            Format::Rfc3164 => {
                let short = full_host.split('.').next().unwrap_or("-");
                rfc3164_header(pri, &syslog_timestamp(), short, &self.tag, s.pid)
            }
            Format::Rfc5424 => {
                if s.rfc5424_host && full_host.len() > 255 {
                    return Err(refuse(format!("hostname '{full_host}' is too long")));
                }
                if self.tag.len() > 48 {
                    let tag = String::from_utf8_lossy(&self.tag);
                    return Err(refuse(format!("tag '{tag}' is too long")));
                }
                let mut elements = Vec::new();
                if s.rfc5424_tq {
                    elements.push(SdElement {
                        id: "timeQuality".into(),
                        params: time_quality(),
                    });
                }
                elements.extend(s.sd.iter().cloned());
                let time = s.rfc5424_time.then(rfc3339_timestamp);
                let structured = structured_data(&elements);
                rfc5424_header(&Rfc5424 {
                    pri,
                    time: time.as_deref(),
                    host: s.rfc5424_host.then_some(full_host),
                    app: &self.tag,
                    pid: s.pid,
                    msgid: s.msgid.as_deref(),
                    structured: structured.as_deref(),
                })
            }
        })
    }

    /// Messages given as arguments: joined by spaces while they fit in `--size`, each
    /// argument longer than that cut; one header for all (they are one message to the
    /// user).
    fn command_line(&mut self, words: &[&[u8]]) -> Result<(), Failure> {
        let header = self.header(self.settings.pri)?;
        let max = self.settings.max_size;
        let mut buf: Vec<u8> = Vec::new();
        for word in words {
            if !buf.is_empty() && buf.len() + word.len() + 1 > max {
                self.write_output(&header, &buf);
                buf.clear();
            }
            if word.len() > max {
                self.write_output(&header, &word[..max]);
                continue;
            }
            if !buf.is_empty() {
                buf.push(b' ');
            }
            buf.extend_from_slice(word);
        }
        if !buf.is_empty() {
            self.write_output(&header, &buf);
        }
        Ok(())
    }

    /// Each line of the input is one message, cut into pieces of `--size` bytes, with a
    /// `<PRI>` prefix taken as its priority under `--prio-prefix`.
    fn lines(&mut self, mut input: impl BufRead) -> Result<(), Failure> {
        // As util-linux: a prefix's priority holds until the next piece starting with
        // `<` (also for the rest of a line cut in pieces, and for lines without one).
        let mut pri = self.settings.pri;
        let mut line = Vec::new();
        loop {
            line.clear();
            match input.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return Ok(()),
                Ok(_) => {}
            }
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            self.line(&line, &mut pri)?;
        }
    }

    /// One input line: its pieces of `--size` bytes, each of which may start with a
    /// `<PRI>` prefix under `--prio-prefix`.
    fn line(&mut self, line: &[u8], pri: &mut u32) -> Result<(), Failure> {
        let default = self.settings.pri;
        let max = self.settings.max_size;
        let mut bytes = line.iter().copied().peekable();
        let mut first = true;
        while first || bytes.peek().is_some() {
            first = false;
            let mut msg = Vec::new();
            if self.prio_prefix && bytes.peek() == Some(&b'<') {
                let (taken, parsed) = prio_prefix(&mut bytes);
                msg = taken;
                // A prefix without a facility (kern's 0) takes the default one: only the
                // kernel logs as kern.
                *pri = parsed.map_or(default, |p| if p < 8 { p | (default & 0x03f8) } else { p });
            }
            let room = max.saturating_sub(msg.len());
            msg.extend(bytes.by_ref().take(room));
            if max == 0 {
                // Nothing of a line fits: it is one empty message (util-linux would send
                // empty messages forever).
                bytes.by_ref().for_each(drop);
            }
            if !msg.is_empty() || !self.skip_empty {
                let header = self.header(*pri)?;
                self.write_output(&header, &msg);
            }
        }
        Ok(())
    }

    /// Sends one message (framed for a stream) and copies it to stderr with `-s`.
    fn write_output(&mut self, header: &[u8], msg: &[u8]) {
        let mut out = Vec::with_capacity(header.len() + msg.len() + 8);
        if self.octet_count {
            out.extend_from_slice(format!("{} ", header.len() + msg.len()).as_bytes());
        }
        out.extend_from_slice(header);
        out.extend_from_slice(msg);
        let mut newline_added = false;
        if !self.no_act {
            self.conn.ensure_connected();
            if self.conn.is_connected() {
                if self.conn.is_stream() && !self.octet_count {
                    out.push(b'\n');
                    newline_added = true;
                }
                if let Err(warning) = self.conn.send(&out, self.sender()) {
                    eprintln!("{}: {warning}", self.prog);
                }
            }
        }
        if self.stderr {
            // util-linux adds a newline unless its last piece starts with one.
            let last_starts_with_newline = newline_added || msg.first() == Some(&b'\n');
            if !last_starts_with_newline {
                out.push(b'\n');
            }
            let _ = std::io::stderr().write_all(&out);
        }
    }
}

impl Logger {
    /// The pid to claim as the sender on a local socket (syslogd and journald may trust
    /// the kernel's credentials over the message's pid): with `--id` as root, a live
    /// process's, as util-linux does.
    fn sender(&self) -> Option<i32> {
        let id = self.settings.pid?;
        let live = nix::sys::signal::kill(nix::unistd::Pid::from_raw(id), None).is_ok();
        (id != std::process::id() as i32 && nix::unistd::geteuid().is_root() && live).then_some(id)
    }
}

/// Reads a `<PRI>` prefix as util-linux does: up to `>`, digits while the number is at
/// most 191. Returns what was read (kept as text when it is no valid prefix) and the
/// priority. A line's end is left for the caller.
fn prio_prefix(
    bytes: &mut std::iter::Peekable<impl Iterator<Item = u8>>,
) -> (Vec<u8>, Option<u32>) {
    let mut taken = vec![b'<'];
    bytes.next();
    let mut pri: u32 = 0;
    while let Some(&d) = bytes.peek().filter(|d| d.is_ascii_digit() && pri <= 191) {
        taken.push(d);
        pri = pri * 10 + u32::from(d - b'0');
        bytes.next();
    }
    match bytes.peek().copied() {
        None | Some(b'\n') => (taken, None),
        Some(c) => {
            bytes.next();
            if c == b'>' && pri <= 191 {
                (Vec::new(), Some(pri))
            } else {
                taken.push(c);
                (taken, None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_as_strtoul_reads_them() {
        assert_eq!(parse_id("123"), Some(123));
        assert_eq!(parse_id(" 5"), Some(5));
        assert_eq!(parse_id("+5"), Some(5));
        assert_eq!(parse_id("-5"), Some(-5));
        assert_eq!(parse_id("007"), Some(7));
        assert_eq!(parse_id("4294967295"), Some(-1));
        assert_eq!(parse_id("99999999999"), Some(1_215_752_191));
        for bad in ["", "A", "1 23", "5 ", "0x5", "-"] {
            assert_eq!(parse_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn sizes_as_strtosize_reads_them() {
        for (text, size) in [
            ("0", 0),
            ("30", 30),
            (" 3", 3),
            ("+3", 3),
            ("0x10", 16),
            ("010", 8),
            ("1K", 1024),
            ("1k", 1024),
            ("1KiB", 1024),
            ("1KB", 1000),
            ("1.5K", 1536),
            ("1M", 1 << 20),
        ] {
            assert_eq!(parse_size(text), Ok(size), "{text}");
        }
        for bad in ["", "-3", "2x", "1KiBx", "K", "1Q"] {
            assert_eq!(parse_size(bad), Err("Invalid argument"), "{bad:?}");
        }
    }

    #[test]
    fn prefixes() {
        let run = |text: &[u8]| {
            let mut bytes = text.iter().copied().peekable();
            let got = prio_prefix(&mut bytes);
            (got, bytes.collect::<Vec<u8>>())
        };
        assert_eq!(run(b"<10>x"), ((vec![], Some(10)), b"x".to_vec()));
        assert_eq!(run(b"<5>x"), ((vec![], Some(5)), b"x".to_vec()));
        assert_eq!(
            run(b"<200>bad"),
            ((b"<200>".to_vec(), None), b"bad".to_vec())
        );
        assert_eq!(run(b"<10\n"), ((b"<10".to_vec(), None), b"\n".to_vec()));
        assert_eq!(run(b"<1999>"), ((b"<1999".to_vec(), None), b">".to_vec()));
        assert_eq!(run(b"<abc>"), ((b"<a".to_vec(), None), b"bc>".to_vec()));
    }

    proptest! {
        #[test]
        fn parsers_never_panic(text in "\\PC{0,24}") {
            let _ = parse_size(&text);
            let _ = parse_id(&text);
            let mut bytes = format!("<{text}").into_bytes().into_iter().peekable();
            let _ = prio_prefix(&mut bytes);
        }
    }
}
