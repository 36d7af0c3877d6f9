//! syslogd's engine: one process, one thread, one event loop over the local socket,
//! optional UDP sockets, the kernel log and a signalfd, on the daemon core of
//! [`crate::sys::runtime`] (its signals, panic guard and daemonizing).
//!
//! The loop waits with `poll(2)` on its few descriptors rather than the runtime's epoll
//! reactor: an epoll set keeps a callback on each socket's wait queue, so every sender
//! pays for it on every datagram, even while syslogd is busy reading; `poll` is queued
//! there only while syslogd sleeps. One local sender got 7% fewer messages through with
//! epoll (benches/syslog.sh).
//!
//! No message is lost on SIGHUP: the sockets stay open while the files are reopened
//! and the configuration reloaded, so what arrives meanwhile waits in the socket queue
//! (a local sender blocks when that queue is full; it does not lose anything). SIGTERM
//! reads what is already queued, writes it, and exits.

use std::fs::File;
use std::io::{self, Read};
use std::mem::MaybeUninit;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;

use crate::error::{AtPath, SysError, ToolError};
use crate::format::syslog::{Facility, Priority, Severity};
use crate::format::syslog_conf::Config;
use crate::format::syslog_msg::{kmsg_records, parse, Message, Origin, Stamp};
use crate::sys::layout::Root;
use crate::sys::pidfile::HeldPidfile;
use crate::sys::runtime::guard;
use crate::sys::runtime::signals::{Signals, Which};
use crate::sys::syslog_sinks::{Entry, Sinks};

/// The longest message kept whole (rsyslog's default); longer ones are cut.
pub(crate) const MAX_MESSAGE: usize = 8192;

/// Problems logged one by one at a time; the rest are only counted.
const MAX_REPORTED: usize = 100;

/// Datagrams taken per `recvmmsg` call.
const BATCH: usize = 32;

/// `recvmmsg` calls per source before the others get a turn and the files are written.
const ROUNDS: usize = 64;

/// The signals syslogd handles.
const HANDLED: [Signal; 3] = [Signal::SIGHUP, Signal::SIGTERM, Signal::SIGINT];

/// A socket messages come in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Socket {
    Local,
    Udp(usize),
}

/// What a turn of the loop has to read.
#[derive(Debug, Default)]
struct Due {
    signals: bool,
    sockets: Vec<Socket>,
    kmsg: bool,
}

/// Why syslogd cannot start.
#[derive(Debug)]
pub(crate) enum StartError {
    /// A system call failed, on a path or while doing something.
    Sys(SysError),
    /// The configuration cannot be read: the problems met.
    Config(Vec<String>),
    /// The socket's path is taken by something else.
    NotASocket(PathBuf),
    /// Another syslogd answers on the socket.
    Taken(PathBuf),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Sys(e) => write!(f, "{e}"),
            StartError::Config(problems) => f.write_str(&problems.join("; ")),
            StartError::NotASocket(path) => {
                write!(f, "{}: exists and is not a socket", path.display())
            }
            StartError::Taken(path) => {
                write!(f, "{}: another syslogd is listening there", path.display())
            }
        }
    }
}

impl From<SysError> for StartError {
    fn from(e: SysError) -> StartError {
        StartError::Sys(e)
    }
}

impl ToolError for StartError {}

/// How syslogd runs.
#[derive(Debug)]
pub(crate) struct Settings {
    pub root: Root,
    pub conf: PathBuf,
    pub socket: PathBuf,
    pub udp: Vec<SocketAddr>,
    /// The kernel log to read (None: not read).
    pub kmsg: Option<PathBuf>,
    /// Forward messages received from the network too (`-h`).
    pub forward_remote: bool,
    pub pidfile: Option<PathBuf>,
    /// Also print problems on stderr (until the daemon has detached).
    pub echo_problems: bool,
}

/// A configured, listening syslogd, before its loop runs.
pub(crate) struct Syslogd {
    settings: Settings,
    hostname: Vec<u8>,
    unix: UnixDatagram,
    socket_id: (u64, u64),
    udp: Vec<UdpSocket>,
    kmsg: Option<File>,
    signals: Signals,
    sinks: Sinks,
    clock: Clock,
    batch: Batch,
    pidfile: Option<HeldPidfile>,
    problems: Vec<String>,
    conf_source: ConfSource,
}

impl Syslogd {
    /// Reads the configuration, binds the sockets and opens the outputs. Errors here
    /// are fatal (a configuration that cannot be read, another syslogd listens, the
    /// socket cannot be made).
    pub(crate) fn start(settings: Settings) -> Result<Syslogd, StartError> {
        // Before the socket exists: a HUP sent as soon as it answers must not kill us.
        let signals =
            Signals::open(Which::Only(&HANDLED)).map_err(|e| SysError::doing("signals", e))?;
        // A configuration that exists but cannot be read is an error to fix, not a
        // reason to run with no rules (and lose everything).
        let mut problems = Vec::new();
        let Some((config, conf_source)) = load_config(&settings, &mut problems, true) else {
            return Err(StartError::Config(problems));
        };
        let unix = bind_local(&settings.socket)?;
        let socket_id = std::fs::metadata(&settings.socket)
            .map(|m| (m.dev(), m.ino()))
            .unwrap_or_default();
        let mut udp = Vec::new();
        for addr in &settings.udp {
            udp.push(bind_udp(*addr)?);
        }
        let kmsg = settings.kmsg.as_ref().and_then(|path| {
            open_kmsg(path)
                .map_err(|e| {
                    problems.push(format!(
                        "{}: {}",
                        path.display(),
                        crate::sys::describe_io(&e)
                    ))
                })
                .ok()
        });
        let (sinks, open_problems) = Sinks::open(&config, &settings.root, settings.forward_remote);
        problems.extend(open_problems);
        let pidfile = match &settings.pidfile {
            Some(path) => match HeldPidfile::create(path) {
                Ok(p) => Some(p),
                Err(e) => {
                    let _ = std::fs::remove_file(&settings.socket);
                    let doing = format!("pidfile {}", path.display());
                    return Err(SysError::doing(doing, e).into());
                }
            },
            None => None,
        };
        let mut daemon = Syslogd {
            hostname: hostname(),
            unix,
            socket_id,
            udp,
            kmsg,
            signals,
            sinks,
            clock: Clock::default(),
            batch: Batch::new(),
            pidfile,
            problems,
            conf_source,
            settings,
        };
        daemon.internal(
            Severity::Info,
            &format!("syslogd (vinit {}): start", env!("CARGO_PKG_VERSION")),
        );
        daemon.report_problems();
        daemon.flush();
        Ok(daemon)
    }

    /// From now on problems only go to the log (stderr is about to be /dev/null).
    pub(crate) fn detached(&mut self) {
        self.settings.echo_problems = false;
    }

    /// Runs until SIGTERM or SIGINT; returns the signal.
    pub(crate) fn run(mut self) -> Signal {
        loop {
            let due = self.wait();
            let mut stop = None;
            if !guard::turn("syslogd", || stop = self.turn(due)) {
                self.problems
                    .push("internal error in the event loop; going on".to_string());
                self.flush();
            }
            if let Some(stop) = stop {
                self.drain_everything();
                self.internal(
                    Severity::Info,
                    &format!("exiting on signal {}", stop as i32),
                );
                self.shut_down();
                return stop;
            }
        }
    }

    /// One turn: reads what is due and writes it out; the signal that asks to stop.
    fn turn(&mut self, mut due: Due) -> Option<Signal> {
        if due.signals {
            // What was queued before the signal is read first, under the
            // configuration it was sent under.
            due = self.everything();
        }
        for &socket in &due.sockets {
            self.read_socket(socket);
        }
        if due.kmsg {
            self.read_kmsg();
        }
        self.flush();
        if !due.signals {
            return None;
        }
        let stop = self.handle_signals();
        if stop.is_none() {
            self.flush();
        }
        stop
    }

    /// Every source, and the signals.
    fn everything(&self) -> Due {
        let udp = (0..self.udp.len()).map(Socket::Udp);
        Due {
            signals: true,
            sockets: std::iter::once(Socket::Local).chain(udp).collect(),
            kmsg: self.kmsg.is_some(),
        }
    }

    /// Sleeps until a source is readable.
    fn wait(&self) -> Due {
        let mut sources: Vec<BorrowedFd> = vec![self.signals.fd(), self.unix.as_fd()];
        sources.extend(self.udp.iter().map(|s| s.as_fd()));
        sources.extend(self.kmsg.as_ref().map(|k| k.as_fd()));
        let mut fds: Vec<PollFd> = sources
            .into_iter()
            .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
            .collect();
        let mut due = Due::default();
        if poll(&mut fds, PollTimeout::NONE).is_err() {
            return due;
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        due.signals = ready[0];
        if ready[1] {
            due.sockets.push(Socket::Local);
        }
        let udp = ready[2..2 + self.udp.len()].iter();
        due.sockets.extend(
            udp.enumerate()
                .filter(|(_, r)| **r)
                .map(|(i, _)| Socket::Udp(i)),
        );
        due.kmsg = ready.get(2 + self.udp.len()) == Some(&true);
        due
    }

    /// Takes what a socket has, up to ROUNDS batches; true if it was emptied.
    fn read_socket(&mut self, socket: Socket) -> bool {
        let (fd, origin) = match socket {
            Socket::Local => (self.unix.as_raw_fd(), Origin::Local),
            Socket::Udp(i) => match self.udp.get(i) {
                Some(udp) => (udp.as_raw_fd(), Origin::Remote),
                None => return true,
            },
        };
        for _ in 0..ROUNDS {
            let n = match self.batch.receive(fd) {
                Ok(0) | Err(_) => return true,
                Ok(n) => n,
            };
            let now = self.clock.now();
            for i in 0..n {
                self.dispatch_datagram(i, origin, &now);
            }
            if n < BATCH {
                return true;
            }
        }
        false
    }

    /// Routes datagram `i` of the batch. A local one is stamped with the time it came
    /// and this host; a remote one keeps the time and host it says, else gets the time
    /// it came and its sender's address.
    fn dispatch_datagram(&mut self, i: usize, origin: Origin, now: &[u8; 15]) {
        let msg = parse(self.batch.datagram(i), origin);
        let remote = origin == Origin::Remote;
        let sent;
        let stamp: &[u8] = match msg.stamp.filter(|_| remote) {
            Some(Stamp::Classic(s)) => s,
            Some(Stamp::Epoch(secs)) => {
                sent = classic_time(secs);
                &sent
            }
            None => now,
        };
        let peer;
        let host: &[u8] = match (remote, msg.host) {
            (false, _) => &self.hostname,
            (true, Some(h)) => h,
            (true, None) => {
                peer = self.batch.peer(i).map(|ip| ip.to_string());
                peer.as_deref().unwrap_or_default().as_bytes()
            }
        };
        let entry = Entry {
            msg: &msg,
            stamp,
            host,
            remote,
        };
        self.sinks.dispatch(&entry, &mut self.problems);
    }

    fn read_kmsg(&mut self) -> bool {
        let mut buf = vec![0u8; MAX_MESSAGE];
        for _ in 0..ROUNDS * BATCH {
            let Some(file) = &mut self.kmsg else {
                return true;
            };
            match file.read(&mut buf) {
                // A regular file standing in for the device has an end: stop reading it.
                Ok(0) => {
                    self.kmsg = None;
                    return true;
                }
                Ok(n) => {
                    for record in kmsg_records(&buf[..n]) {
                        self.dispatch_here(&parse(record, Origin::Kernel));
                    }
                }
                // EPIPE: the kernel overwrote records before we read them; go on.
                Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                // Anything else would repeat at every turn: stop reading the kernel log.
                Err(e) => {
                    self.problems
                        .push(format!("kernel log: {}", crate::sys::describe_io(&e)));
                    self.kmsg = None;
                    return true;
                }
            }
        }
        false
    }

    /// Reads every source until each is empty (before exiting).
    fn drain_everything(&mut self) {
        for _ in 0..1000 {
            let mut empty = self.read_socket(Socket::Local);
            for i in 0..self.udp.len() {
                empty &= self.read_socket(Socket::Udp(i));
            }
            if self.kmsg.is_some() {
                empty &= self.read_kmsg();
            }
            self.flush();
            if empty {
                return;
            }
        }
    }

    /// Handles pending signals; returns the one that asks to stop.
    fn handle_signals(&mut self) -> Option<Signal> {
        let mut stop = None;
        for signo in self.signals.read() {
            match Signal::try_from(signo) {
                Ok(Signal::SIGHUP) => self.reload(),
                Ok(sig @ (Signal::SIGTERM | Signal::SIGINT)) => stop = Some(sig),
                _ => {}
            }
        }
        stop
    }

    /// SIGHUP: write out, close and reopen every output with the configuration read
    /// again (the previous one stays if the file cannot be read at all, or is gone).
    fn reload(&mut self) {
        self.flush();
        let mut problems = Vec::new();
        // A file that went missing is a mistake to report (say, a package upgrade in
        // the middle), not an order to fall back to the default: only a syslogd that
        // started without one keeps using the default.
        let default_when_missing = self.conf_source == ConfSource::Default;
        let config = load_config(&self.settings, &mut problems, default_when_missing);
        if let Some((config, source)) = config {
            self.conf_source = source;
            // Close, then open: with both sets open at once, many outputs would run out
            // of descriptors and lose messages until the next retry.
            self.sinks.close(&mut problems);
            let (sinks, open_problems) =
                Sinks::open(&config, &self.settings.root, self.settings.forward_remote);
            self.sinks = sinks;
            problems.extend(open_problems);
        } else {
            problems.push("configuration not reloaded: keeping the previous one".to_string());
        }
        self.hostname = hostname();
        self.problems.extend(problems);
        self.internal(Severity::Info, "restart");
        self.report_problems();
    }

    fn flush(&mut self) {
        self.sinks.flush(&mut self.problems);
        if !self.problems.is_empty() {
            self.report_problems();
            self.sinks.flush(&mut Vec::new());
        }
    }

    /// Logs the problems gathered so far as syslog.err messages of syslogd itself: the
    /// first MAX_REPORTED, each cut like a received message, then how many more there
    /// were. (A configuration of many bad lines quoting long words would otherwise
    /// write its size times the number of matching rules.)
    fn report_problems(&mut self) {
        let problems = std::mem::take(&mut self.problems);
        let more = problems.len().saturating_sub(MAX_REPORTED);
        let note = (more > 0).then(|| format!("{more} more problems not shown"));
        for problem in problems.iter().take(MAX_REPORTED).chain(note.as_ref()) {
            let problem = cut(problem);
            if self.settings.echo_problems {
                eprintln!("syslogd: {problem}");
            }
            self.internal(Severity::Err, problem);
        }
        // Problems met while logging those are not logged again (no loop).
        self.problems.clear();
    }

    /// A message of syslogd itself, through the same rules as any other.
    fn internal(&mut self, severity: Severity, text: &str) {
        let pid = std::process::id().to_string();
        let msg = Message {
            priority: Priority::new(Facility::SYSLOG, severity),
            has_priority: true,
            stamp: None,
            host: None,
            app: b"syslogd",
            pid: Some(pid.as_bytes()),
            data: None,
            text: cut(text).as_bytes(),
        };
        self.dispatch_here(&msg);
    }

    /// Routes a message of this host that did not come through a socket (the kernel's,
    /// syslogd's own), stamped now.
    fn dispatch_here(&mut self, msg: &Message) {
        let stamp = self.clock.now();
        let entry = Entry {
            msg,
            stamp: &stamp,
            host: &self.hostname,
            remote: false,
        };
        self.sinks.dispatch(&entry, &mut self.problems);
    }

    fn shut_down(mut self) {
        let mut problems = Vec::new();
        self.sinks.flush(&mut problems);
        let still_ours = std::fs::symlink_metadata(&self.settings.socket)
            .is_ok_and(|m| (m.dev(), m.ino()) == self.socket_id);
        if still_ours {
            let _ = std::fs::remove_file(&self.settings.socket);
        }
        if let Some(pidfile) = self.pidfile.take() {
            pidfile.remove();
        }
    }
}

/// At most MAX_MESSAGE bytes of a message of syslogd itself (received ones are cut
/// there too), ending on a whole character.
fn cut(text: &str) -> &str {
    let mut end = text.len().min(MAX_MESSAGE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Where the configuration in force came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConfSource {
    File,
    /// The embedded default: there was no file.
    Default,
}

/// Reads the configuration: the root's file, or the embedded default when the root has
/// none and `default_when_missing`. None when it cannot be read (not a regular file, too
/// large, not readable; missing where the default is not wanted). Bad lines are skipped
/// and reported as `FILE:LINE: problem`.
fn load_config(
    settings: &Settings,
    problems: &mut Vec<String>,
    default_when_missing: bool,
) -> Option<(Config, ConfSource)> {
    // A regular file only, read without blocking: a FIFO would stop all logging while
    // syslogd waits for a writer.
    match crate::sys::fs::read_config_text(&settings.conf) {
        Ok(text) => {
            let (config, errors) = Config::parse(&text);
            for e in errors {
                problems.push(format!(
                    "{}:{}: {}",
                    settings.conf.display(),
                    e.line,
                    e.message
                ));
            }
            Some((config, ConfSource::File))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound && default_when_missing => Some((
            Config::default_for(settings.root.dir()),
            ConfSource::Default,
        )),
        Err(e) => {
            problems.push(format!(
                "{}: {}",
                settings.conf.display(),
                crate::sys::describe_io(&e)
            ));
            None
        }
    }
}

/// Binds the local socket, replacing a stale one; refuses when a syslogd answers on it.
fn bind_local(path: &Path) -> Result<UnixDatagram, StartError> {
    if let Some(dir) = path.parent().filter(|d| !d.exists()) {
        std::fs::create_dir_all(dir).at(dir)?;
    }
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        use std::os::unix::fs::FileTypeExt;
        if !meta.file_type().is_socket() {
            return Err(StartError::NotASocket(path.to_path_buf()));
        }
        let probe = UnixDatagram::unbound().at(path)?;
        if probe.connect(path).is_ok() {
            return Err(StartError::Taken(path.to_path_buf()));
        }
        std::fs::remove_file(path).at(path)?;
    }
    let socket = UnixDatagram::bind(path).at(path)?;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666));
    socket.set_nonblocking(true).at(path)?;
    set_cloexec(socket.as_raw_fd());
    grow_receive_buffer(socket.as_raw_fd());
    Ok(socket)
}

fn bind_udp(addr: SocketAddr) -> Result<UdpSocket, SysError> {
    let doing = || format!("udp {addr}");
    let socket = UdpSocket::bind(addr).map_err(|e| SysError::doing(doing(), e))?;
    socket
        .set_nonblocking(true)
        .map_err(|e| SysError::doing(doing(), e))?;
    grow_receive_buffer(socket.as_raw_fd());
    Ok(socket)
}

fn set_cloexec(fd: RawFd) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
}

/// A deeper queue absorbs bursts while the files are being reopened (UDP drops what
/// does not fit). Root may exceed the system's limit; others get what it allows.
fn grow_receive_buffer(fd: RawFd) {
    let size: libc::c_int = 4 << 20;
    let len = std::mem::size_of_val(&size) as libc::socklen_t;
    let ptr = (&size as *const libc::c_int).cast();
    // SAFETY: setsockopt reads an int we own.
    unsafe {
        if libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, ptr, len) != 0 {
            libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, ptr, len);
        }
    }
}

fn open_kmsg(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}

fn hostname() -> Vec<u8> {
    crate::sys::syslog::short_hostname().into_bytes()
}

/// The current time as `Mmm dd hh:mm:ss`, formatted once per second.
#[derive(Default)]
struct Clock {
    second: i64,
    text: [u8; 15],
}

impl Clock {
    fn now(&mut self) -> [u8; 15] {
        // SAFETY: time(NULL) has no preconditions.
        #[allow(clippy::useless_conversion)] // time_t is not i64 everywhere
        let now = i64::from(unsafe { libc::time(std::ptr::null_mut()) });
        if now != self.second || self.text[0] == 0 {
            self.second = now;
            self.text = classic_time(now);
        }
        self.text
    }
}

/// Seconds since the epoch as local `Mmm dd hh:mm:ss`.
pub(crate) fn classic_time(secs: i64) -> [u8; 15] {
    let mut out = *b"Jan  1 00:00:00";
    let text = crate::sys::local_time(c"%b %e %H:%M:%S", Some(secs));
    if text.len() == 15 {
        out.copy_from_slice(text.as_bytes());
    }
    out
}

/// Buffers for `recvmmsg`: BATCH datagrams of up to MAX_MESSAGE bytes and their senders.
struct Batch {
    data: Vec<u8>,
    lens: [usize; BATCH],
    addrs: Vec<MaybeUninit<libc::sockaddr_storage>>,
    addr_lens: [libc::socklen_t; BATCH],
    iovs: Vec<libc::iovec>,
    headers: Vec<libc::mmsghdr>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            data: vec![0; BATCH * MAX_MESSAGE],
            lens: [0; BATCH],
            addrs: vec![MaybeUninit::zeroed(); BATCH],
            addr_lens: [0; BATCH],
            iovs: (0..BATCH)
                .map(|_| libc::iovec {
                    iov_base: std::ptr::null_mut(),
                    iov_len: 0,
                })
                .collect(),
            // SAFETY: mmsghdr is plain data; all zero is a valid value.
            headers: (0..BATCH)
                .map(|_| unsafe { std::mem::zeroed::<libc::mmsghdr>() })
                .collect(),
        }
    }

    /// Receives up to BATCH datagrams without waiting; Ok(0) when none is queued.
    fn receive(&mut self, fd: RawFd) -> io::Result<usize> {
        // The pointers are set on every call: they point into this struct's buffers.
        let data = self.data.as_mut_ptr();
        for i in 0..BATCH {
            self.iovs[i] = libc::iovec {
                // SAFETY: each slice lies inside `data`.
                iov_base: unsafe { data.add(i * MAX_MESSAGE) }.cast(),
                iov_len: MAX_MESSAGE,
            };
            let h = &mut self.headers[i];
            h.msg_hdr.msg_iov = &mut self.iovs[i];
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_name = self.addrs[i].as_mut_ptr().cast();
            h.msg_hdr.msg_namelen =
                std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_hdr.msg_control = std::ptr::null_mut();
            h.msg_hdr.msg_controllen = 0;
            h.msg_hdr.msg_flags = 0;
        }
        loop {
            // SAFETY: the headers point into buffers we own, sized as declared.
            let n = unsafe {
                libc::recvmmsg(
                    fd,
                    self.headers.as_mut_ptr(),
                    BATCH as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if n >= 0 {
                let n = n as usize;
                for (i, header) in self.headers.iter().enumerate().take(n) {
                    self.lens[i] = (header.msg_len as usize).min(MAX_MESSAGE);
                    self.addr_lens[i] = header.msg_hdr.msg_namelen;
                }
                return Ok(n);
            }
            let err = io::Error::last_os_error();
            match err.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => return Ok(0),
                _ => return Err(err),
            }
        }
    }

    fn datagram(&self, i: usize) -> &[u8] {
        &self.data[i * MAX_MESSAGE..i * MAX_MESSAGE + self.lens[i]]
    }

    /// The sender of an IP datagram.
    fn peer(&self, i: usize) -> Option<IpAddr> {
        // SAFETY: the kernel filled `addr_lens[i]` bytes of the storage.
        let storage = unsafe { self.addrs[i].assume_init_ref() };
        match i32::from(storage.ss_family) {
            libc::AF_INET
                if self.addr_lens[i] as usize >= std::mem::size_of::<libc::sockaddr_in>() =>
            {
                // SAFETY: the family says this is a sockaddr_in.
                let sin = unsafe {
                    &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>()
                };
                Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    sin.sin_addr.s_addr,
                ))))
            }
            libc::AF_INET6
                if self.addr_lens[i] as usize >= std::mem::size_of::<libc::sockaddr_in6>() =>
            {
                // SAFETY: the family says this is a sockaddr_in6.
                let sin6 = unsafe {
                    &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
                };
                let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                Some(ip.to_ipv4_mapped().map_or(IpAddr::V6(ip), IpAddr::V4))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_messages_are_cut_on_a_character() {
        assert_eq!(cut("short"), "short");
        let long = "é".repeat(MAX_MESSAGE);
        let kept = cut(&long);
        assert!(kept.len() <= MAX_MESSAGE && kept.len() >= MAX_MESSAGE - 1);
        assert!(kept.chars().all(|c| c == 'é'));
    }

    #[test]
    fn classic_time_is_fifteen_bytes() {
        let t = classic_time(0);
        assert_eq!(t.len(), 15);
        assert!(crate::format::syslog_msg::parse(
            &[b"<13>".as_slice(), &t, b" x: y"].concat(),
            Origin::Local
        )
        .stamp
        .is_some());
    }

    #[test]
    fn a_second_daemon_is_refused_and_a_stale_socket_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("dev/log");
        let first = bind_local(&path).unwrap();
        let taken = bind_local(&path).unwrap_err().to_string();
        assert!(taken.contains("another syslogd"), "{taken}");
        drop(first);
        bind_local(&path).unwrap();
        std::fs::write(tmp.path().join("plain"), "").unwrap();
        assert!(bind_local(&tmp.path().join("plain"))
            .unwrap_err()
            .to_string()
            .contains("not a socket"));
    }
}
