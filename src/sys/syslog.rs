//! Sending to the local syslog socket (`dev/log` under the root), as `syslog(3)` does,
//! and a `log` backend that uses it — falling back to stderr when no syslogd listens.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::format::syslog::{format_local, Facility, Priority, Severity};

/// A connection to a local syslog socket.
pub struct SyslogClient {
    path: PathBuf,
    socket: Option<UnixDatagram>,
    nonblocking: bool,
}

impl SyslogClient {
    pub fn new(path: impl Into<PathBuf>) -> SyslogClient {
        SyslogClient {
            path: path.into(),
            socket: None,
            nonblocking: false,
        }
    }

    /// A client that never waits: when syslogd's queue is full the message is refused
    /// (`WouldBlock`) instead of blocking the sender. PID 1 must never block.
    pub fn nonblocking(path: impl Into<PathBuf>) -> SyslogClient {
        SyslogClient {
            path: path.into(),
            socket: None,
            nonblocking: true,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sends one formatted datagram; reconnects once if the socket was replaced
    /// (syslogd restarted). A blocking client waits while syslogd's queue is full.
    pub fn send_raw(&mut self, datagram: &[u8]) -> io::Result<()> {
        for attempt in 0..2 {
            if self.socket.is_none() {
                let socket = UnixDatagram::unbound()?;
                socket.set_nonblocking(self.nonblocking)?;
                socket.connect(&self.path)?;
                self.socket = Some(socket);
            }
            match self.socket.as_ref().map(|s| s.send(datagram)) {
                Some(Ok(_)) => return Ok(()),
                Some(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => return Err(e),
                Some(Err(e)) if e.raw_os_error() == Some(libc::EMSGSIZE) => return Err(e),
                Some(Err(e)) if attempt == 1 => return Err(e),
                _ => self.socket = None,
            }
        }
        Ok(())
    }

    /// Sends one message; reconnects once if the socket was replaced (syslogd restarted).
    pub fn send(
        &mut self,
        priority: Priority,
        tag: &str,
        pid: Option<u32>,
        message: &str,
    ) -> io::Result<()> {
        let line = format_local(priority, &syslog_timestamp(), tag, pid, message);
        self.send_raw(line.as_bytes())
    }
}

/// `Mmm dd hh:mm:ss` in local time, the RFC 3164 timestamp.
pub fn syslog_timestamp() -> String {
    crate::sys::local_time(c"%b %e %H:%M:%S", None)
}

/// The machine's short host name (up to the first dot), as syslog messages carry it.
pub fn short_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into our buffer.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    match name.split('.').next() {
        Some(short) if ok && !short.is_empty() => short.to_string(),
        _ => "localhost".to_string(),
    }
}

/// The local time as RFC 3339 with microseconds and the offset
/// (`2024-01-02T03:04:05.000006+01:00`), as RFC 5424 wants it.
pub fn rfc3339_timestamp() -> String {
    let mut tv: libc::timeval = unsafe { std::mem::zeroed() };
    // SAFETY: plain libc calls on local buffers.
    unsafe {
        libc::gettimeofday(&mut tv, std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&tv.tv_sec, &mut tm);
        let mut buf = [0u8; 64];
        let n = libc::strftime(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%Y-%m-%dT%H:%M:%S".as_ptr(),
            &tm,
        );
        let offset = tm.tm_gmtoff / 60;
        let sign = if offset < 0 { '-' } else { '+' };
        format!(
            "{}.{:06}{sign}{:02}:{:02}",
            String::from_utf8_lossy(&buf[..n]),
            tv.tv_usec,
            offset.abs() / 60,
            offset.abs() % 60
        )
    }
}

/// A `log` backend: messages go to syslog when its socket accepts them, else to the
/// console (stderr, or the descriptor given) as `TAG: message`.
pub struct Logger {
    tag: String,
    facility: Facility,
    client: Mutex<Option<SyslogClient>>,
    /// Also copy messages of this level and above to the console (foreground use).
    echo: log::LevelFilter,
    /// Write to the console what syslog did not take (a tool's diagnostics must be seen;
    /// a quiet init's are not).
    fallback: bool,
    /// Where console copies go instead of stderr (init's own non-blocking descriptor).
    console: Option<std::fs::File>,
}

impl Logger {
    /// Installs the logger for this process. `dev_log` None: stderr only.
    pub fn install(
        tag: &str,
        facility: Facility,
        dev_log: Option<PathBuf>,
        echo: bool,
        level: log::LevelFilter,
    ) {
        let client = dev_log.map(SyslogClient::new);
        let logger = Logger {
            tag: tag.to_string(),
            facility,
            client: Mutex::new(client),
            echo: if echo {
                log::LevelFilter::Trace
            } else {
                log::LevelFilter::Off
            },
            fallback: true,
            console: None,
        };
        if log::set_boxed_logger(Box::new(logger)).is_ok() {
            log::set_max_level(level);
        }
    }

    /// The logger of a process that must never block (PID 1): a non-blocking syslog
    /// socket, and messages of `console_level` and above also written to `console`
    /// (dropped when it would block).
    pub fn install_nonblocking(
        tag: &str,
        facility: Facility,
        dev_log: PathBuf,
        console: Option<std::fs::File>,
        level: log::LevelFilter,
        console_level: log::LevelFilter,
    ) {
        let logger = Logger {
            tag: tag.to_string(),
            facility,
            client: Mutex::new(Some(SyslogClient::nonblocking(dev_log))),
            echo: console_level,
            fallback: false,
            console,
        };
        if log::set_boxed_logger(Box::new(logger)).is_ok() {
            log::set_max_level(level);
        }
    }
}

fn severity_of(level: log::Level) -> Severity {
    match level {
        log::Level::Error => Severity::Err,
        log::Level::Warn => Severity::Warning,
        log::Level::Info => Severity::Info,
        log::Level::Debug | log::Level::Trace => Severity::Debug,
    }
}

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let message = record.args().to_string();
        let priority = Priority::new(self.facility, severity_of(record.level()));
        let sent = match self.client.lock() {
            Ok(mut guard) => guard.as_mut().is_some_and(|c| {
                c.send(priority, &self.tag, Some(std::process::id()), &message)
                    .is_ok()
            }),
            Err(_) => false,
        };
        if record.level() <= self.echo || (self.fallback && !sent) {
            let line = format!("{}: {message}\n", self.tag);
            match &self.console {
                Some(console) => {
                    let _ = std::io::Write::write_all(&mut &*console, line.as_bytes());
                }
                None => eprint!("{line}"),
            }
        }
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_the_local_format() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("log");
        let server = UnixDatagram::bind(&path).unwrap();
        let mut client = SyslogClient::new(&path);
        client
            .send(
                Priority::new(Facility::DAEMON, Severity::Err),
                "vinit",
                Some(7),
                "boom",
            )
            .unwrap();
        let mut buf = [0u8; 256];
        let n = server.recv(&mut buf).unwrap();
        let text = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(text.starts_with("<27>"), "{text}");
        assert!(text.ends_with(" vinit[7]: boom"), "{text}");
        // The socket replaced (syslogd restarted): the client reconnects.
        drop(server);
        std::fs::remove_file(&path).unwrap();
        let server = UnixDatagram::bind(&path).unwrap();
        client
            .send(
                Priority::new(Facility::DAEMON, Severity::Info),
                "vinit",
                None,
                "again",
            )
            .unwrap();
        let n = server.recv(&mut buf).unwrap();
        assert!(std::str::from_utf8(&buf[..n])
            .unwrap()
            .ends_with("vinit: again"));
    }

    #[test]
    fn rfc3339_parses_back() {
        let now = rfc3339_timestamp();
        let secs = crate::format::syslog_msg::parse_rfc3339(now.as_bytes()).unwrap();
        let real = unsafe { libc::time(std::ptr::null_mut()) } as i64;
        assert!((secs - real).abs() <= 2, "{now}");
    }

    #[test]
    fn no_listener_is_an_error_not_a_panic() {
        let mut client = SyslogClient::new("/nonexistent/dev/log");
        assert!(client
            .send(
                Priority::new(Facility::USER, Severity::Info),
                "t",
                None,
                "m"
            )
            .is_err());
    }
}
