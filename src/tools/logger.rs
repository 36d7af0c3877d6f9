//! `vinit logger`: util-linux's logger — its command line.

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::net::UdpSocket;
use std::path::PathBuf;

use clap::Parser;

use super::{parse_args, Context};
use crate::format::syslog::{format_local, format_rfc3164, format_rfc5424, Priority};
use crate::format::syslog_conf::SYSLOG_PORT;
use crate::sys::syslog::{rfc3339_timestamp, syslog_timestamp, SyslogClient};

#[derive(Parser, Debug)]
#[command(
    name = "logger",
    about = "Enter messages into the system log",
    after_help = "Without a message on the command line (or -f), each line of standard input is one message."
)]
struct Args {
    /// Work on the system below DIR (its dev/log).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Priority as facility.level (default user.notice); a bare level means user.
    #[arg(
        short = 'p',
        long = "priority",
        value_name = "PRI",
        default_value = "user.notice"
    )]
    priority: String,
    /// Tag every line with TAG (default: the user's name).
    #[arg(short = 't', long = "tag", value_name = "TAG")]
    tag: Option<String>,
    /// Log logger's process id (or ID) with each line.
    #[arg(short = 'i')]
    log_pid: bool,
    /// Log this id instead of logger's process id.
    #[arg(long = "id", value_name = "ID", num_args = 0..=1, default_missing_value = "")]
    id: Option<String>,
    /// Also write the message to standard error.
    #[arg(short = 's', long = "stderr")]
    stderr: bool,
    /// Write to this socket instead of dev/log.
    #[arg(short = 'u', long = "socket", value_name = "SOCKET")]
    socket: Option<PathBuf>,
    /// Send over UDP to this syslog server instead.
    #[arg(short = 'n', long = "server", value_name = "HOST")]
    server: Option<String>,
    /// The server's UDP port.
    #[arg(short = 'P', long = "port", value_name = "PORT", default_value_t = SYSLOG_PORT)]
    port: u16,
    /// Use UDP only (the only transport; accepted for compatibility).
    #[arg(short = 'd', long = "udp")]
    udp: bool,
    /// Send RFC 3164 messages (the default on the local socket).
    #[arg(long = "rfc3164", conflicts_with = "rfc5424")]
    rfc3164: bool,
    /// Send RFC 5424 messages (the default to a server).
    #[arg(long = "rfc5424")]
    rfc5424: bool,
    /// Log the lines of FILE.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// Skip empty lines of the input.
    #[arg(short = 'e', long = "skip-empty")]
    skip_empty: bool,
    /// Longest message in bytes; longer ones are split.
    #[arg(
        short = 'S',
        long = "size",
        value_name = "SIZE",
        default_value_t = 1024
    )]
    size: usize,
    /// The message.
    message: Vec<OsString>,
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let args: Args = match parse_args(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let priority = match Priority::parse(&args.priority) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("logger: {e}");
            return 1;
        }
    };
    let mut sink = match Sink::open(ctx, &args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("logger: {e}");
            return 1;
        }
    };
    let mut writer = Writer::new(&args, priority);
    let result = if !args.message.is_empty() {
        let text: Vec<String> = args
            .message
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        writer.log(&mut sink, &text.join(" "))
    } else {
        log_lines(&args, &mut writer, &mut sink)
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("logger: {e}");
            1
        }
    }
}

fn log_lines(args: &Args, writer: &mut Writer, sink: &mut Sink) -> Result<(), String> {
    let input: Box<dyn BufRead> = match &args.file {
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path)
                .map_err(|e| format!("{}: {}", path.display(), crate::sys::describe_io(&e)))?,
        )),
        None => Box::new(std::io::stdin().lock()),
    };
    for line in input.split(b'\n') {
        let line = line.map_err(|e| e.to_string())?;
        let line = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(&line)).into_owned();
        if line.is_empty() && args.skip_empty {
            continue;
        }
        writer.log(sink, &line)?;
    }
    Ok(())
}

/// Where messages go: the local socket or a UDP server.
enum Sink {
    Local(SyslogClient),
    Udp(UdpSocket),
}

impl Sink {
    fn open(ctx: &Context, args: &Args) -> Result<Sink, String> {
        match &args.server {
            Some(host) => {
                use std::net::ToSocketAddrs;
                let addr = (host.as_str(), args.port)
                    .to_socket_addrs()
                    .map_err(|e| format!("{host}: {e}"))?
                    .next()
                    .ok_or_else(|| format!("{host}: no address"))?;
                let local = if addr.is_ipv4() {
                    "0.0.0.0:0"
                } else {
                    "[::]:0"
                };
                let socket = UdpSocket::bind(local)
                    .and_then(|s| s.connect(addr).map(|()| s))
                    .map_err(|e| format!("{addr}: {}", crate::sys::describe_io(&e)))?;
                Ok(Sink::Udp(socket))
            }
            None => {
                let path = args
                    .socket
                    .clone()
                    .unwrap_or_else(|| ctx.root(args.root.as_deref()).dev_log());
                Ok(Sink::Local(SyslogClient::new(path)))
            }
        }
    }

    fn send(&mut self, datagram: &[u8]) -> Result<(), String> {
        match self {
            Sink::Local(client) => client.send_raw(datagram).map_err(|e| {
                format!(
                    "socket {}: {}",
                    client.path().display(),
                    crate::sys::describe_io(&e)
                )
            }),
            Sink::Udp(socket) => socket
                .send(datagram)
                .map(|_| ())
                .map_err(|e| format!("send: {}", crate::sys::describe_io(&e))),
        }
    }
}

/// Formats and sends messages.
struct Writer {
    priority: Priority,
    tag: String,
    pid: Option<u32>,
    id_text: Option<String>,
    rfc5424: bool,
    host: Option<String>,
    echo: bool,
    size: usize,
}

impl Writer {
    fn new(args: &Args, priority: Priority) -> Writer {
        let remote = args.server.is_some();
        let id_text = args.id.clone().filter(|i| !i.is_empty());
        let pid = (args.log_pid || args.id.is_some()).then(std::process::id);
        Writer {
            priority,
            tag: args.tag.clone().unwrap_or_else(default_tag),
            pid,
            id_text,
            rfc5424: args.rfc5424 || (remote && !args.rfc3164),
            host: remote.then(crate::sys::syslog::short_hostname),
            echo: args.stderr,
            size: args.size.max(1),
        }
    }

    /// Logs `text`, split into pieces of at most `size` bytes.
    fn log(&mut self, sink: &mut Sink, text: &str) -> Result<(), String> {
        let bytes = text.as_bytes();
        if bytes.is_empty() {
            return self.send_one(sink, "");
        }
        for chunk in bytes.chunks(self.size) {
            self.send_one(sink, &String::from_utf8_lossy(chunk))?;
        }
        Ok(())
    }

    fn send_one(&mut self, sink: &mut Sink, text: &str) -> Result<(), String> {
        let tag = match &self.id_text {
            Some(id) => format!("{}[{id}]", self.tag),
            None => self.tag.clone(),
        };
        let pid = if self.id_text.is_some() {
            None
        } else {
            self.pid
        };
        let datagram = if self.rfc5424 {
            let host = self.host.clone().unwrap_or_default();
            format_rfc5424(self.priority, &rfc3339_timestamp(), &host, &tag, pid, text)
        } else {
            match &self.host {
                Some(host) => {
                    format_rfc3164(self.priority, &syslog_timestamp(), host, &tag, pid, text)
                }
                None => format_local(self.priority, &syslog_timestamp(), &tag, pid, text),
            }
        };
        if self.echo {
            let _ = writeln!(std::io::stderr(), "{datagram}");
        }
        sink.send(datagram.as_bytes())
    }
}

/// util-linux's default tag: the user's login name.
fn default_tag() -> String {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .or_else(|| std::env::var("LOGNAME").ok())
        .unwrap_or_else(|| "logger".to_string())
}
