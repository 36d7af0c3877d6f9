//! Sending to syslog: the local socket (`dev/log` under the root) as `syslog(3)` does, a
//! `log` backend that uses it — falling back to stderr when no syslogd listens — and the
//! connection `logger` sends through (a local datagram or stream socket, or a server
//! over UDP or TCP).

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixDatagram, UnixStream};
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

/// Where `logger` sends: a local socket, or a server.
#[derive(Clone, Debug)]
pub enum LogTarget {
    Unix(PathBuf),
    /// A host and a port (a number or a service name; None: `syslog` for UDP,
    /// `syslog-conn` for TCP).
    Inet {
        host: String,
        port: Option<String>,
    },
}

/// The transports `logger` may use, tried in this order: datagrams (UDP), then a stream
/// (TCP). A local `dev/log` may be either kind (rsyslog's and journald's setups offer a
/// stream socket).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transports {
    pub datagram: bool,
    pub stream: bool,
}

enum LogSocket {
    UnixDatagram(UnixDatagram),
    UnixStream(UnixStream),
    Udp(UdpSocket),
    Tcp(TcpStream),
}

/// Why `logger`'s connection failed or a message was lost, in util-linux's words.
#[derive(Debug)]
pub enum LogError {
    /// The local socket cannot be reached (reported only when errors are asked for).
    Socket { path: PathBuf, source: io::Error },
    /// The server's name or port does not resolve.
    Resolve {
        host: String,
        service: String,
        why: String,
    },
    /// No transport reached the server.
    Connect { host: String, port: String },
    /// A message was lost, after one reconnection (a warning: logger goes on).
    Send(io::Error),
}

impl std::fmt::Display for LogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogError::Socket { path, source } => write!(
                f,
                "socket {}: {}",
                path.display(),
                crate::sys::describe_io(source)
            ),
            LogError::Resolve { host, service, why } => {
                write!(f, "failed to resolve name {host} port {service}: {why}")
            }
            LogError::Connect { host, port } => {
                write!(f, "failed to connect to {host} port {port}")
            }
            LogError::Send(e) => write!(f, "send message failed: {}", crate::sys::describe_io(e)),
        }
    }
}

impl crate::error::ToolError for LogError {}

/// `logger`'s connection, util-linux's way: connected once, connected again when a send
/// fails (syslogd restarted), and a local socket that cannot be reached is an error only
/// when `report_errors` (else messages are dropped silently).
pub struct LogConnection {
    target: LogTarget,
    transports: Transports,
    socket: Option<LogSocket>,
    report_errors: bool,
    /// The kind of socket in use (streams need a frame around each message).
    stream: bool,
}

impl LogConnection {
    pub fn open(
        target: LogTarget,
        transports: Transports,
        report_errors: bool,
    ) -> Result<LogConnection, LogError> {
        let mut conn = LogConnection {
            target,
            transports,
            socket: None,
            report_errors,
            stream: false,
        };
        conn.connect()?;
        Ok(conn)
    }

    /// Whether messages go over a stream (a newline, or an octet count, frames them).
    pub fn is_stream(&self) -> bool {
        self.stream
    }

    pub fn is_connected(&self) -> bool {
        self.socket.is_some()
    }

    /// Connects again if the first attempt failed (quietly, as util-linux does).
    pub fn ensure_connected(&mut self) {
        if self.socket.is_none() {
            let _ = self.connect();
        }
    }

    /// Sends one message; on failure connects again and retries once. The error is the
    /// warning to print (the message is lost). `sender`: on a local socket, the pid the
    /// kernel is to report as the sender (root may name any live process).
    pub fn send(&mut self, bytes: &[u8], sender: Option<i32>) -> Result<(), LogError> {
        if self.send_once(bytes, sender).is_ok() {
            return Ok(());
        }
        self.socket = None;
        let _ = self.connect();
        self.send_once(bytes, sender).map_err(LogError::Send)
    }

    fn send_once(&mut self, bytes: &[u8], sender: Option<i32>) -> io::Result<()> {
        match (&mut self.socket, sender) {
            (Some(LogSocket::UnixDatagram(s)), Some(pid)) => send_as(s.as_raw_fd(), bytes, pid),
            (Some(LogSocket::UnixStream(s)), Some(pid)) => send_as(s.as_raw_fd(), bytes, pid),
            (Some(LogSocket::UnixDatagram(s)), None) => s.send(bytes).map(drop),
            (Some(LogSocket::Udp(s)), _) => s.send(bytes).map(drop),
            (Some(LogSocket::UnixStream(s)), None) => s.write_all(bytes),
            (Some(LogSocket::Tcp(s)), _) => s.write_all(bytes),
            (None, _) => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }

    fn connect(&mut self) -> Result<(), LogError> {
        let target = self.target.clone();
        match &target {
            LogTarget::Unix(path) => self.connect_unix(path),
            LogTarget::Inet { host, port } => self.connect_inet(host, port.as_deref()),
        }
    }

    fn connect_unix(&mut self, path: &Path) -> Result<(), LogError> {
        let mut last = io::Error::from(io::ErrorKind::InvalidInput);
        if self.transports.datagram {
            match UnixDatagram::unbound().and_then(|s| s.connect(path).map(|()| s)) {
                Ok(s) => return self.connected(LogSocket::UnixDatagram(s), false),
                Err(e) => last = e,
            }
        }
        if self.transports.stream {
            match UnixStream::connect(path) {
                Ok(s) => return self.connected(LogSocket::UnixStream(s), true),
                Err(e) => last = e,
            }
        }
        if self.report_errors {
            return Err(LogError::Socket {
                path: path.to_path_buf(),
                source: last,
            });
        }
        Ok(())
    }

    fn connect_inet(&mut self, host: &str, port: Option<&str>) -> Result<(), LogError> {
        let mut tried = "";
        if self.transports.datagram {
            tried = port.unwrap_or("syslog");
            let addr = resolve(host, tried, libc::SOCK_DGRAM)?;
            let local: SocketAddr = if addr.is_ipv4() {
                (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
            } else {
                (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
            };
            if let Ok(s) = UdpSocket::bind(local).and_then(|s| s.connect(addr).map(|()| s)) {
                return self.connected(LogSocket::Udp(s), false);
            }
        }
        if self.transports.stream {
            tried = port.unwrap_or("syslog-conn");
            let addr = resolve(host, tried, libc::SOCK_STREAM)?;
            if let Ok(s) = TcpStream::connect(addr) {
                return self.connected(LogSocket::Tcp(s), true);
            }
        }
        Err(LogError::Connect {
            host: host.to_string(),
            port: tried.to_string(),
        })
    }

    fn connected(&mut self, socket: LogSocket, stream: bool) -> Result<(), LogError> {
        self.socket = Some(socket);
        self.stream = stream;
        Ok(())
    }
}

/// Sends `bytes` in one `sendmsg` with SCM_CREDENTIALS naming `pid` as the sender.
fn send_as(fd: std::os::fd::RawFd, bytes: &[u8], pid: i32) -> io::Result<()> {
    let creds = libc::ucred {
        pid,
        uid: nix::unistd::getuid().as_raw(),
        gid: nix::unistd::getgid().as_raw(),
    };
    // SAFETY: the message, its one iovec and its control buffer all live on this stack
    // frame for the call; CMSG_* compute offsets inside the buffer we sized with
    // CMSG_SPACE.
    unsafe {
        let space = libc::CMSG_SPACE(std::mem::size_of::<libc::ucred>() as u32) as usize;
        let mut control = vec![0u8; space];
        let mut iov = libc::iovec {
            iov_base: bytes.as_ptr() as *mut libc::c_void,
            iov_len: bytes.len(),
        };
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_CREDENTIALS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<libc::ucred>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::ucred>(), creds);
        if libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The first address of `host` and `service` for the socket type, as getaddrinfo gives
/// it (service names come from the services database).
fn resolve(host: &str, service: &str, socktype: libc::c_int) -> Result<SocketAddr, LogError> {
    let fail = |why: String| LogError::Resolve {
        host: host.to_string(),
        service: service.to_string(),
        why,
    };
    let c = |s: &str| std::ffi::CString::new(s).map_err(|_| fail("invalid name".into()));
    let (c_host, c_service) = (c(host)?, c(service)?);
    // SAFETY: getaddrinfo fills `res` with a list we free below; hints is zeroed as the
    // manual asks.
    unsafe {
        let mut hints: libc::addrinfo = std::mem::zeroed();
        hints.ai_family = libc::AF_UNSPEC;
        hints.ai_socktype = socktype;
        let mut res: *mut libc::addrinfo = std::ptr::null_mut();
        let rc = libc::getaddrinfo(c_host.as_ptr(), c_service.as_ptr(), &hints, &mut res);
        if rc != 0 {
            let why = std::ffi::CStr::from_ptr(libc::gai_strerror(rc));
            return Err(fail(why.to_string_lossy().into_owned()));
        }
        let addr = socket_addr((*res).ai_addr);
        libc::freeaddrinfo(res);
        addr.ok_or_else(|| fail("address family not supported".into()))
    }
}

/// A C socket address of the Internet families as Rust's.
///
/// # Safety
/// `sa` points at a valid socket address of the size its family says.
unsafe fn socket_addr(sa: *const libc::sockaddr) -> Option<SocketAddr> {
    match i32::from((*sa).sa_family) {
        libc::AF_INET => {
            let v4 = &*(sa as *const libc::sockaddr_in);
            let ip = std::net::Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr));
            Some((ip, u16::from_be(v4.sin_port)).into())
        }
        libc::AF_INET6 => {
            let v6 = &*(sa as *const libc::sockaddr_in6);
            let ip = std::net::Ipv6Addr::from(v6.sin6_addr.s6_addr);
            Some((ip, u16::from_be(v6.sin6_port)).into())
        }
        _ => None,
    }
}

/// The machine's host name as the kernel has it (RFC 5424 messages carry it whole).
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "-".into())
}

/// RFC 5424's `timeQuality` parameters: the time zone is known; whether the clock is
/// synchronised (NTP), and how well, as `ntp_gettime` says.
pub fn time_quality() -> Vec<String> {
    let mut params = vec!["tzKnown=\"1\"".to_string()];
    // SAFETY: ntp_gettime fills a struct we own.
    let (state, maxerror) = unsafe {
        let mut tv: libc::ntptimeval = std::mem::zeroed();
        (libc::ntp_gettime(&mut tv), tv.maxerror)
    };
    if state == libc::TIME_OK {
        params.push("isSynced=\"1\"".into());
        params.push(format!("syncAccuracy=\"{maxerror}\""));
    } else {
        params.push("isSynced=\"0\"".into());
    }
    params
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
    // SAFETY: timeval is plain data; plain libc calls on local buffers.
    let mut tv: libc::timeval = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
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
    /// Where console copies go instead of stderr (init's own non-blocking descriptor).
    console: Option<std::fs::File>,
}

impl Logger {
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
        // Lost when syslog does not take it: PID 1 must not block, and the console
        // copy below is the one that must be seen.
        if let Ok(mut guard) = self.client.lock() {
            if let Some(client) = guard.as_mut() {
                let _ = client.send(priority, &self.tag, Some(std::process::id()), &message);
            }
        }
        if record.level() <= self.echo {
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
        // SAFETY: time(2) with no out-pointer.
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
