//! The services built into the superserver, served in its own event loop: echo
//! (RFC 862), discard (RFC 863), daytime (RFC 867), chargen (RFC 864) and time
//! (RFC 868), over TCP and UDP.
//!
//! A UDP reply never goes to a privileged source port, nor to the port of one of the
//! superserver's own UDP services: echo and chargen answering each other (or
//! themselves) through a forged source address is the classic loop attack.

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Instant;

use crate::plan::superserver::Builtin;
use crate::sys::runtime::reactor::Interest;

/// Seconds from 1900-01-01 (RFC 868's epoch) to 1970-01-01.
const RFC868_OFFSET: u64 = 2_208_988_800;
/// chargen's 95 printable characters and its 72-character lines.
const CHARGEN_CHARS: usize = 95;
const CHARGEN_LINE: usize = 72;
/// Most bytes an echo connection holds while its client does not read.
const ECHO_BUFFER: usize = 64 * 1024;
/// Most bytes of a chargen UDP reply.
const CHARGEN_DGRAM_MAX: usize = 512;

/// `time`: seconds since 1900 as 32 bits, big-endian (it wraps in 2036, as the RFC's
/// counter does).
pub(crate) fn time_reply(unix_secs: u64) -> [u8; 4] {
    ((unix_secs + RFC868_OFFSET) as u32).to_be_bytes()
}

/// `daytime`: the local time as `ctime(3)` writes it, ended by CR LF.
pub(crate) fn daytime_reply() -> Vec<u8> {
    // SAFETY: plain libc calls on local buffers.
    unsafe {
        let now = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&now, &mut tm);
        let mut buf = [0u8; 64];
        let n = libc::strftime(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%a %b %e %H:%M:%S %Y\r\n".as_ptr(),
            &tm,
        );
        buf[..n].to_vec()
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Line `n` of chargen's rotating pattern (72 characters and CR LF).
pub(crate) fn chargen_line(n: usize) -> [u8; CHARGEN_LINE + 2] {
    let mut line = [0u8; CHARGEN_LINE + 2];
    for (k, byte) in line.iter_mut().take(CHARGEN_LINE).enumerate() {
        *byte = b' ' + ((n + k) % CHARGEN_CHARS) as u8;
    }
    line[CHARGEN_LINE] = b'\r';
    line[CHARGEN_LINE + 1] = b'\n';
    line
}

/// The next `len` bytes of the chargen stream from byte `pos`.
fn chargen_bytes(pos: usize, len: usize) -> Vec<u8> {
    let line_len = CHARGEN_LINE + 2;
    let mut out = Vec::with_capacity(len + line_len);
    let mut n = pos / line_len;
    let skip = pos % line_len;
    while out.len() < len + skip {
        out.extend_from_slice(&chargen_line(n));
        n += 1;
    }
    out.drain(..skip);
    out.truncate(len);
    out
}

/// What a finished internal connection did, for the log.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Traffic {
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// The state of one TCP connection of echo, discard or chargen.
pub(crate) struct Conn {
    pub stream: TcpStream,
    pub builtin: Builtin,
    pub service: String,
    pub peer: SocketAddr,
    pub started: Instant,
    pub traffic: Traffic,
    pending: Vec<u8>,
    chargen_pos: usize,
    input_closed: bool,
}

/// What the event loop should do next with a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    Watch(Interest),
    Done,
}

impl Conn {
    pub(crate) fn new(
        stream: TcpStream,
        builtin: Builtin,
        service: String,
        peer: SocketAddr,
    ) -> Conn {
        Conn {
            stream,
            builtin,
            service,
            peer,
            started: Instant::now(),
            traffic: Traffic::default(),
            pending: Vec::new(),
            chargen_pos: 0,
            input_closed: false,
        }
    }

    /// What to watch before anything happened.
    pub(crate) fn first_interest(&self) -> Interest {
        match self.builtin {
            Builtin::Chargen => Interest::ReadWrite,
            _ => Interest::Read,
        }
    }

    /// Reads and writes what can be without blocking.
    pub(crate) fn progress(&mut self) -> Next {
        if self.read_some().is_err() || self.write_some().is_err() {
            return Next::Done;
        }
        let done = match self.builtin {
            Builtin::Echo | Builtin::Discard => self.input_closed && self.pending.is_empty(),
            _ => false,
        };
        if done {
            return Next::Done;
        }
        let read = !self.input_closed && self.pending.len() < ECHO_BUFFER;
        let write = self.builtin == Builtin::Chargen || !self.pending.is_empty();
        match (read, write) {
            (true, true) => Next::Watch(Interest::ReadWrite),
            (true, false) => Next::Watch(Interest::Read),
            (false, true) => Next::Watch(Interest::Write),
            // Nothing left to wait for would never wake it again.
            (false, false) => Next::Done,
        }
    }

    fn read_some(&mut self) -> io::Result<()> {
        if self.input_closed {
            return Ok(());
        }
        let mut buf = [0u8; 16 * 1024];
        let room = match self.builtin {
            Builtin::Echo => buf.len().min(ECHO_BUFFER - self.pending.len()),
            _ => buf.len(),
        };
        if room == 0 {
            return Ok(());
        }
        match self.stream.read(&mut buf[..room]) {
            Ok(0) => self.input_closed = true,
            Ok(n) => {
                self.traffic.bytes_in += n as u64;
                if self.builtin == Builtin::Echo {
                    self.pending.extend_from_slice(&buf[..n]);
                }
            }
            Err(e) if is_transient(&e) => {}
            Err(e) => return Err(e),
        }
        Ok(())
    }

    fn write_some(&mut self) -> io::Result<()> {
        if self.builtin == Builtin::Chargen && self.pending.is_empty() {
            self.pending = chargen_bytes(self.chargen_pos, 16 * 1024);
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        match self.stream.write(&self.pending) {
            Ok(n) => {
                self.traffic.bytes_out += n as u64;
                self.chargen_pos += n;
                self.pending.drain(..n);
                Ok(())
            }
            Err(e) if is_transient(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// Serves daytime or time on a fresh TCP connection: write the answer, close. The
/// answer fits in any socket buffer; a client that is already gone gets nothing.
pub(crate) fn answer_once(builtin: Builtin, mut stream: TcpStream) {
    let reply = match builtin {
        Builtin::Daytime => daytime_reply(),
        Builtin::Time => time_reply(unix_now()).to_vec(),
        _ => return,
    };
    let _ = stream.write(&reply);
}

/// Whether the superserver may answer a datagram from `peer`; Err says why not.
/// `service_ports`: the ports of its internal UDP services (as openbsd-inetd does: a
/// forged source on one of them would make two services, or one, answer each other
/// for ever, whatever the port number).
pub(crate) fn may_reply_to(
    peer: SocketAddr,
    service_ports: &HashSet<u16>,
) -> Result<(), &'static str> {
    if peer.port() < 1024 {
        return Err("reply to a privileged port refused");
    }
    if service_ports.contains(&peer.port()) {
        return Err("reply to the port of an internal service refused (a loop)");
    }
    Ok(())
}

/// A small generator for chargen's random reply lengths (no need for a crate: the
/// RFC only asks for "a random number" of characters).
pub(crate) struct ReplyLengths(u64);

impl ReplyLengths {
    pub(crate) fn new() -> ReplyLengths {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        ReplyLengths(seed)
    }

    fn next(&mut self) -> usize {
        // xorshift64
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x % (CHARGEN_DGRAM_MAX as u64 + 1)) as usize
    }
}

impl Default for ReplyLengths {
    fn default() -> Self {
        ReplyLengths::new()
    }
}

/// Answers one datagram already received (`data` from `peer`). A reply the socket
/// cannot take at once is dropped, as UDP may drop it anyway.
pub(crate) fn answer_datagram(
    builtin: Builtin,
    socket: &UdpSocket,
    data: &[u8],
    peer: SocketAddr,
    lengths: &mut ReplyLengths,
) {
    let reply: Vec<u8> = match builtin {
        Builtin::Echo => data.to_vec(),
        Builtin::Discard => return,
        Builtin::Daytime => daytime_reply(),
        Builtin::Time => time_reply(unix_now()).to_vec(),
        Builtin::Chargen => chargen_bytes(0, lengths.next()),
    };
    let _ = socket.send_to(&reply, peer);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_counts_from_1900() {
        assert_eq!(time_reply(0), 2_208_988_800u32.to_be_bytes());
        assert_eq!(u32::from_be_bytes(time_reply(1_000_000_000)), 3_208_988_800);
    }

    #[test]
    fn chargen_rotates_one_character_a_line() {
        let first = chargen_line(0);
        assert_eq!(&first[..5], b" !\"#$");
        assert_eq!(&first[72..], b"\r\n");
        let second = chargen_line(1);
        assert_eq!(&second[..3], b"!\"#");
        assert_eq!(chargen_line(95), first);
        let stream = chargen_bytes(0, 74 * 3);
        assert_eq!(&stream[..74], &first[..]);
        assert_eq!(&stream[74..148], &second[..]);
        assert_eq!(chargen_bytes(70, 10), stream[70..80].to_vec());
    }

    #[test]
    fn daytime_is_one_line() {
        let d = daytime_reply();
        assert!(d.ends_with(b"\r\n"));
        assert_eq!(d.len(), 26);
    }

    #[test]
    fn reply_lengths_stay_in_range() {
        let mut l = ReplyLengths::new();
        for _ in 0..1000 {
            assert!(l.next() <= CHARGEN_DGRAM_MAX);
        }
        let ports = HashSet::from([20007]);
        let may = |peer: &str| may_reply_to(peer.parse().unwrap(), &ports);
        assert!(may("127.0.0.1:19").unwrap_err().contains("privileged"));
        assert!(may("127.0.0.1:0").is_err());
        assert!(may("10.0.0.1:20007")
            .unwrap_err()
            .contains("internal service"));
        assert!(may("[::1]:20007").is_err());
        assert!(may("127.0.0.1:40000").is_ok());
    }
}
