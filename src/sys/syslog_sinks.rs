//! Where syslogd writes: files and terminals, FIFOs, other syslogds over UDP, and the
//! terminals of logged-in users. Built from a parsed `syslog.conf`.
//!
//! Files are written in batches: every line a batch produces is appended to a buffer,
//! and the buffers are written out (and synced, for files without `-`) when the batch
//! ends, before syslogd waits again. So nothing received stays in memory while syslogd
//! sleeps, and a synced file costs one `fdatasync` per batch instead of one per line.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::format::syslog_conf::{Action, Config, Selector};
use crate::format::syslog_msg::{body_into, forward_into, Message};
use crate::format::utmp::{records, USER_PROCESS};
use crate::sys::describe_io;
use crate::sys::layout::Root;

mod paths;

/// A buffer is written out early when it grows past this.
const BUFFER_LIMIT: usize = 256 * 1024;

/// The most of utmp read: one 384-byte record per session, so ten thousand sessions.
const UTMP_LIMIT: u64 = 4 << 20;

/// How long a sink that could not be opened waits before trying again.
const RETRY: Duration = Duration::from_secs(5);

/// One message, ready to be written: its parts and its two renderings.
pub(crate) struct Entry<'a> {
    pub msg: &'a Message<'a>,
    /// `Mmm dd hh:mm:ss`.
    pub stamp: &'a [u8],
    pub host: &'a [u8],
    /// Came from the network (not forwarded again unless asked).
    pub remote: bool,
}

/// The outputs of one configuration.
pub(crate) struct Sinks {
    rules: Vec<(Selector, usize)>,
    sinks: Vec<Sink>,
    root: Root,
    forward_remote: bool,
    /// Scratch space for the rendered line.
    line: Vec<u8>,
}

enum Sink {
    File(FileSink),
    Fifo(FifoSink),
    Forward(ForwardSink),
    /// None: every logged-in user.
    Users(Option<Vec<String>>),
}

impl Sinks {
    /// Opens every output of `config`. Problems are returned as messages to log (an
    /// output that cannot be opened now is tried again later).
    pub(crate) fn open(config: &Config, root: &Root, forward_remote: bool) -> (Sinks, Vec<String>) {
        let mut sinks: Vec<Sink> = Vec::new();
        let mut rules = Vec::new();
        let mut problems = Vec::new();
        for rule in &config.rules {
            // Rules naming the same file share one writer, so lines keep their order.
            let existing = sinks.iter().position(|s| match (s, &rule.action) {
                (Sink::File(f), Action::File { path, .. }) => f.path == *path,
                (Sink::Fifo(f), Action::Fifo { path, .. }) => f.path == *path,
                _ => false,
            });
            let index = match existing {
                Some(i) => {
                    // One rule asking is enough: the option is about the path.
                    match (&mut sinks[i], &rule.action) {
                        (
                            Sink::File(f),
                            Action::File {
                                sync,
                                follow_symlinks,
                                ..
                            },
                        ) => {
                            f.sync |= *sync;
                            f.follow_symlinks |= *follow_symlinks;
                        }
                        (
                            Sink::Fifo(f),
                            Action::Fifo {
                                follow_symlinks, ..
                            },
                        ) => {
                            f.follow_symlinks |= *follow_symlinks;
                        }
                        _ => {}
                    }
                    i
                }
                None => {
                    sinks.push(Sink::new(&rule.action, &mut problems));
                    sinks.len() - 1
                }
            };
            rules.push((rule.selector, index));
        }
        let sinks = Sinks {
            rules,
            sinks,
            root: root.clone(),
            forward_remote,
            line: Vec::with_capacity(1024),
        };
        (sinks, problems)
    }

    /// Hands one message to every matching output. Returns problems to log.
    pub(crate) fn dispatch(&mut self, entry: &Entry, problems: &mut Vec<String>) {
        self.line.clear();
        let mut forward: Option<Vec<u8>> = None;
        for &(selector, index) in &self.rules {
            if !selector.matches(entry.msg.priority) {
                continue;
            }
            if self.line.is_empty() {
                render_line(&mut self.line, entry);
            }
            match &mut self.sinks[index] {
                Sink::File(f) => f.push(&self.line, problems),
                Sink::Fifo(f) => f.push(&self.line, problems),
                Sink::Forward(f) => {
                    if entry.remote && !self.forward_remote {
                        continue;
                    }
                    let datagram = forward.get_or_insert_with(|| {
                        let mut out = Vec::with_capacity(self.line.len() + 8);
                        forward_into(&mut out, entry.stamp, entry.host, entry.msg);
                        out
                    });
                    f.send(datagram, problems);
                }
                Sink::Users(users) => wall(&self.root, users.as_deref(), entry),
            }
        }
    }

    /// Writes out every buffer (end of a batch).
    pub(crate) fn flush(&mut self, problems: &mut Vec<String>) {
        for sink in &mut self.sinks {
            match sink {
                Sink::File(f) => f.flush(problems),
                Sink::Fifo(f) => f.flush(),
                _ => {}
            }
        }
    }

    /// Flushes and closes everything (before a reload): no rule is left.
    pub(crate) fn close(&mut self, problems: &mut Vec<String>) {
        self.flush(problems);
        self.rules.clear();
        self.sinks.clear();
    }
}

/// `Mmm dd hh:mm:ss HOST APP[PID]: TEXT\n`.
fn render_line(out: &mut Vec<u8>, entry: &Entry) {
    crate::format::syslog_msg::file_line_into(out, entry.stamp, entry.host, entry.msg, false);
}

impl Sink {
    fn new(action: &Action, problems: &mut Vec<String>) -> Sink {
        match action {
            Action::File {
                path,
                sync,
                follow_symlinks,
            } => {
                let mut f = FileSink {
                    path: path.clone(),
                    sync: *sync,
                    follow_symlinks: *follow_symlinks,
                    file: None,
                    terminal: false,
                    buf: Vec::new(),
                    retry_at: Instant::now(),
                    failing: false,
                };
                f.open(problems);
                Sink::File(f)
            }
            Action::Fifo {
                path,
                follow_symlinks,
            } => Sink::Fifo(FifoSink {
                path: path.clone(),
                follow_symlinks: *follow_symlinks,
                failing: false,
                file: None,
                retry_at: Instant::now(),
                buf: Vec::new(),
            }),
            Action::Forward { host, port } => {
                let mut f = ForwardSink {
                    host: host.clone(),
                    port: *port,
                    target: None,
                    retry_at: Instant::now(),
                };
                f.resolve(problems);
                Sink::Forward(f)
            }
            Action::AllUsers => Sink::Users(None),
            Action::Users(users) => Sink::Users(Some(users.clone())),
        }
    }
}

/// A file or a terminal.
struct FileSink {
    path: PathBuf,
    sync: bool,
    /// The path may be a symbolic link (`;follow-symlinks`).
    follow_symlinks: bool,
    file: Option<File>,
    /// Terminals get `\r\n` and are never waited for.
    terminal: bool,
    buf: Vec<u8>,
    retry_at: Instant,
    /// A write failed and was reported; reported again only after a success.
    failing: bool,
}

impl FileSink {
    fn open(&mut self, problems: &mut Vec<String>) {
        self.retry_at = Instant::now() + RETRY;
        match open_append(&self.path, self.follow_symlinks) {
            Ok(file) => {
                // SAFETY: isatty on a descriptor we own.
                self.terminal = unsafe { libc::isatty(file.as_raw_fd()) } == 1;
                if self.terminal {
                    set_nonblocking(&file);
                }
                self.file = Some(file);
            }
            Err(e) => problems.push(format!("{}: {}", self.path.display(), describe_io(&e))),
        }
    }

    fn push(&mut self, line: &[u8], problems: &mut Vec<String>) {
        if self.file.is_none() && Instant::now() >= self.retry_at {
            self.open(problems);
        }
        if self.file.is_none() {
            return;
        }
        if self.terminal {
            self.buf.extend_from_slice(&line[..line.len() - 1]);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.buf.extend_from_slice(line);
        }
        if self.buf.len() >= BUFFER_LIMIT {
            self.flush(problems);
        }
    }

    fn flush(&mut self, problems: &mut Vec<String>) {
        if self.buf.is_empty() {
            return;
        }
        let Some(file) = &mut self.file else {
            self.buf.clear();
            return;
        };
        let result = if self.terminal {
            // A terminal that does not take the text now (a stopped console) loses it
            // rather than stopping all logging.
            file.write(&self.buf).map(|_| ())
        } else {
            file.write_all(&self.buf)
                .and_then(|()| if self.sync { file.sync_data() } else { Ok(()) })
        };
        self.buf.clear();
        match result {
            Ok(()) => self.failing = false,
            Err(e) if self.terminal && e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => {
                if !self.failing {
                    problems.push(format!("{}: {}", self.path.display(), describe_io(&e)));
                }
                self.failing = true;
            }
        }
    }
}

/// Opens a file (or terminal) for appending, creating it mode 0640 if missing, where
/// no other user can redirect it (see [`paths`]). The path opened is the checked real
/// one, with O_NOFOLLOW: a link that appeared since is not followed either.
fn open_append(path: &Path, follow_symlinks: bool) -> io::Result<File> {
    let real = paths::trusted_location(path, follow_symlinks)?;
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(real)
        .map_err(|e| link_refused(e, path))
}

/// O_NOFOLLOW's ELOOP, said plainly.
fn link_refused(e: io::Error, path: &Path) -> io::Error {
    if e.raw_os_error() != Some(libc::ELOOP) {
        return e;
    }
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("{} became a symbolic link", path.display()),
    )
}

fn set_nonblocking(file: &File) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
    }
}

/// A named pipe: written when some reader has it open; lines are dropped (not queued)
/// while nobody reads or the pipe is full.
struct FifoSink {
    path: PathBuf,
    /// The path may be a symbolic link (`;follow-symlinks`).
    follow_symlinks: bool,
    file: Option<File>,
    retry_at: Instant,
    buf: Vec<u8>,
    /// A refusal was reported; reported again only after the FIFO could be opened.
    failing: bool,
}

impl FifoSink {
    fn push(&mut self, line: &[u8], problems: &mut Vec<String>) {
        if self.file.is_none() && Instant::now() >= self.retry_at {
            self.open(problems);
        }
        if self.file.is_some() {
            self.buf.extend_from_slice(line);
        }
    }

    fn open(&mut self, problems: &mut Vec<String>) {
        match open_fifo(&self.path, self.follow_symlinks) {
            Ok(file) => {
                self.file = Some(file);
                self.failing = false;
            }
            Err(e) => {
                self.retry_at = Instant::now() + Duration::from_secs(1);
                // No reader yet (ENXIO) is the normal wait, not a problem.
                if e.raw_os_error() != Some(libc::ENXIO) && !self.failing {
                    self.failing = true;
                    problems.push(format!("{}: {}", self.path.display(), describe_io(&e)));
                }
            }
        }
    }

    fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        if let Some(file) = &mut self.file {
            let mut rest = &self.buf[..];
            while !rest.is_empty() {
                match file.write(rest) {
                    Ok(n) => rest = &rest[n..],
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        if e.kind() != io::ErrorKind::WouldBlock {
                            // The reader went away (EPIPE): reopen when one is back.
                            self.file = None;
                        }
                        break;
                    }
                }
            }
        }
        self.buf.clear();
    }
}

/// Opens a FIFO for writing without waiting for a reader (O_NONBLOCK: ENXIO while there
/// is none), where no other user can redirect it; anything but a FIFO is refused (a
/// regular file in its place would be overwritten from its first byte).
fn open_fifo(path: &Path, follow_symlinks: bool) -> io::Result<File> {
    use std::os::unix::fs::FileTypeExt;
    let real = paths::trusted_location(path, follow_symlinks)?;
    let file = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(real)
        .map_err(|e| link_refused(e, path))?;
    if !file.metadata()?.file_type().is_fifo() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a FIFO (make it with mkfifo)",
        ));
    }
    Ok(file)
}

/// Another syslogd. The name is resolved when the configuration is loaded, and again
/// at most every few seconds while it does not resolve.
struct ForwardSink {
    host: String,
    port: u16,
    target: Option<(UdpSocket, SocketAddr)>,
    retry_at: Instant,
}

impl ForwardSink {
    fn resolve(&mut self, problems: &mut Vec<String>) {
        self.retry_at = Instant::now() + RETRY;
        let addr = match (self.host.as_str(), self.port).to_socket_addrs() {
            Ok(mut addrs) => addrs.next(),
            Err(e) => {
                problems.push(format!("@{}: {e}", self.host));
                return;
            }
        };
        let Some(addr) = addr else {
            problems.push(format!("@{}: no address", self.host));
            return;
        };
        let local: SocketAddr = if addr.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        match UdpSocket::bind(local) {
            Ok(socket) => {
                let _ = socket.set_nonblocking(true);
                self.target = Some((socket, addr));
            }
            Err(e) => problems.push(format!("@{}: {}", self.host, describe_io(&e))),
        }
    }

    fn send(&mut self, datagram: &[u8], problems: &mut Vec<String>) {
        if self.target.is_none() && Instant::now() >= self.retry_at {
            self.resolve(problems);
        }
        if let Some((socket, addr)) = &self.target {
            // UDP is fire and forget, as in every syslogd: a lost datagram is not retried.
            let _ = socket.send_to(datagram, addr);
        }
    }
}

/// Writes a message to the terminals of logged-in users (`users` None: all of them),
/// as sysklogd does for `*`. Terminals that would block are skipped, and so is any
/// line of utmp that does not name a terminal.
fn wall(root: &Root, users: Option<&[String]>, entry: &Entry) {
    // Read like a configuration file: a FIFO there would stop syslogd, and a link to
    // /dev/zero would never end.
    let Ok(utmp) = crate::sys::fs::read_regular(&root.utmp(), UTMP_LIMIT) else {
        return;
    };
    let mut text = Vec::new();
    text.extend_from_slice(b"\r\n\x07Message from syslogd@");
    text.extend_from_slice(entry.host);
    text.extend_from_slice(b" at ");
    text.extend_from_slice(entry.stamp);
    text.extend_from_slice(b" ...\r\n");
    body_into(&mut text, entry.msg);
    text.extend_from_slice(b"\r\n");
    let mut written: Vec<PathBuf> = Vec::new();
    let logins = records(&utmp).filter(|r| r.kind == USER_PROCESS && !r.user.is_empty());
    for login in logins {
        if users.is_some_and(|u| !u.contains(&login.user)) {
            continue;
        }
        let Some(tty) = root.terminal(&login.line) else {
            continue;
        };
        if written.contains(&tty) {
            continue;
        }
        // Only a terminal: whatever else a utmp line names (a disk, a file) is left alone.
        if let Some(mut terminal) = crate::sys::wall::open_terminal(&tty) {
            let _ = terminal.write(&text);
        }
        written.push(tty);
    }
}
