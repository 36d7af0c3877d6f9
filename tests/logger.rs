//! vinit's `logger` side by side with util-linux's (`peer("bsdutils", "usr/bin/logger")`):
//! both are given the same arguments and input and send to a socket (or a server) the
//! test owns; the bytes received, what goes to stderr and the exit status must be the
//! same, with only the time stamps and logger's own pid masked.
//!
//! Both run as `logger` (argv[0]), so their messages name the same program.

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod common;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tool {
    UtilLinux,
    Vinit,
}

/// What the test listens on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Listen {
    /// A local datagram socket (what syslogd and journald offer as /dev/log).
    Datagram,
    /// A local stream socket (rsyslog's setups may offer one).
    Stream,
    /// Nothing at the socket's name.
    Nothing,
    Udp,
    Tcp,
}

/// Everything one run of a logger produced, masked.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    code: i32,
    stderr: String,
    received: Vec<String>,
}

/// Runs `tool` with `args` (`SOCK` and `PORT` in them stand for what the test listens
/// on), `input` on stdin.
fn run(tool: Tool, listen: Listen, args: &[&str], input: &[u8]) -> Outcome {
    let tmp = tempfile::tempdir().unwrap();
    let sock = tmp.path().join("log");
    let stop = Arc::new(AtomicBool::new(false));
    let (receiver, port) = receive(listen, &sock, stop.clone());
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            a.replace("SOCK", &sock.to_string_lossy())
                .replace("PORT", &port.to_string())
        })
        .collect();
    let program = match tool {
        Tool::UtilLinux => common::peer("bsdutils", "usr/bin/logger"),
        Tool::Vinit => PathBuf::from(common::VINIT),
    };
    let mut child = Command::new(program)
        .arg0("logger")
        .args(&args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // A logger that does not read its input (a message on the command line) may close
    // it first.
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(input);
    drop(stdin);
    let mut stderr = Vec::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    let code = child.wait().unwrap().code().unwrap_or(-1);
    stop.store(true, Ordering::SeqCst);
    let received = receiver.join().unwrap();
    Outcome {
        code,
        stderr: mask(&stderr, pid, &tmp),
        received: received.iter().map(|m| mask(m, pid, &tmp)).collect(),
    }
}

/// Starts receiving: a thread that collects every message (every datagram, or all the
/// bytes of each connection) until told to stop and nothing more is waiting.
fn receive(
    listen: Listen,
    sock: &Path,
    stop: Arc<AtomicBool>,
) -> (std::thread::JoinHandle<Vec<Vec<u8>>>, u16) {
    let tick = Some(Duration::from_millis(20));
    match listen {
        Listen::Nothing => (std::thread::spawn(Vec::new), 0),
        Listen::Datagram => {
            let socket = UnixDatagram::bind(sock).unwrap();
            socket.set_read_timeout(tick).unwrap();
            (
                std::thread::spawn(move || datagrams(|b| socket.recv(b), &stop)),
                0,
            )
        }
        Listen::Udp => {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.set_read_timeout(tick).unwrap();
            let port = socket.local_addr().unwrap().port();
            (
                std::thread::spawn(move || datagrams(|b| socket.recv(b), &stop)),
                port,
            )
        }
        Listen::Stream => {
            let listener = UnixListener::bind(sock).unwrap();
            listener.set_nonblocking(true).unwrap();
            let accept = move || {
                listener
                    .accept()
                    .map(|(s, _)| Box::new(s) as Box<dyn Read + Send>)
            };
            (std::thread::spawn(move || connections(accept, &stop)), 0)
        }
        Listen::Tcp => {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            listener.set_nonblocking(true).unwrap();
            let accept = move || {
                listener
                    .accept()
                    .map(|(s, _)| Box::new(s) as Box<dyn Read + Send>)
            };
            (std::thread::spawn(move || connections(accept, &stop)), port)
        }
    }
}

fn datagrams(
    mut recv: impl FnMut(&mut [u8]) -> std::io::Result<usize>,
    stop: &AtomicBool,
) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 17];
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        match recv(&mut buf) {
            Ok(n) => got.push(buf[..n].to_vec()),
            Err(_) if stopping => return got,
            Err(_) => {}
        }
    }
}

fn connections(
    mut accept: impl FnMut() -> std::io::Result<Box<dyn Read + Send>>,
    stop: &AtomicBool,
) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        match accept() {
            Ok(mut conn) => {
                // The logger has exited or will close it: read it to its end.
                let mut bytes = Vec::new();
                conn.read_to_end(&mut bytes).unwrap();
                got.push(bytes);
            }
            Err(_) if stopping => return got,
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// The bytes as text with what differs from run to run replaced: time stamps (RFC 3164
/// `Mmm dd hh:mm:ss`, RFC 3339), the logger's pid, the scratch directory, the clock's
/// sync accuracy.
fn mask(bytes: &[u8], pid: u32, tmp: &tempfile::TempDir) -> String {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let text = text.replace(&*tmp.path().to_string_lossy(), "TMP");
    let text = mask_pattern(&text, "AAA _9 99:99:99", "TIME3164");
    let text = mask_pattern(&text, "9999-99-99T99:99:99.999999+99:99", "TIME3339");
    let text = common::replace_number(&text, pid, "PID");
    mask_after(&text, "syncAccuracy=\"", "N")
}

/// Replaces every place `text` fits `shape` (`A`: a letter, `9`: a digit, `_`: a digit or
/// a space, `+`: a sign, anything else: itself).
fn mask_pattern(text: &str, shape: &str, by: &str) -> String {
    let (t, s) = (text.as_bytes(), shape.as_bytes());
    let fits = |at: usize| {
        at + s.len() <= t.len()
            && s.iter().zip(&t[at..]).all(|(&p, &c)| match p {
                b'A' => c.is_ascii_alphabetic(),
                b'_' => c.is_ascii_digit() || c == b' ',
                b'9' => c.is_ascii_digit(),
                b'+' => c == b'+' || c == b'-',
                _ => c == p,
            })
    };
    let mut out = Vec::new();
    let mut at = 0;
    while at < t.len() {
        if fits(at) {
            out.extend_from_slice(by.as_bytes());
            at += s.len();
        } else {
            out.push(t[at]);
            at += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The digits after each `prefix` replaced by `by`.
fn mask_after(text: &str, prefix: &str, by: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at + prefix.len()]);
        rest = &rest[at + prefix.len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push_str(by);
        }
        rest = &rest[digits..];
    }
    out + rest
}

/// Runs both loggers the same way and requires the same outcome; returns it.
fn same(listen: Listen, args: &[&str], input: &[u8]) -> Outcome {
    let theirs = run(Tool::UtilLinux, listen, args, input);
    let ours = run(Tool::Vinit, listen, args, input);
    assert_eq!(
        theirs, ours,
        "util-linux's logger (left) and vinit's (right) differ for {args:?} on {listen:?}"
    );
    ours
}

/// `same` for each argument list, on a local datagram socket (`-u SOCK` added).
fn all_same(cases: &[&[&str]]) {
    for args in cases {
        let mut full = vec!["-u", "SOCK"];
        full.extend_from_slice(args);
        same(Listen::Datagram, &full, b"");
    }
}

#[test]
fn the_local_socket_gets_the_same_formats() {
    let long_tag = "t".repeat(210);
    let tag_49 = "x".repeat(49);
    all_same(&[
        &["-t", "tag", "hello", "world"],
        &["--rfc3164", "-t", "tag", "hello"],
        &["--rfc5424", "-t", "tag", "hello"],
        &["--rfc5424=notime", "-t", "tag", "x"],
        &["--rfc5424=notq", "-t", "tag", "x"],
        &["--rfc5424=nohost", "-t", "tag", "x"],
        &["--rfc5424=notime,nohost,notq", "-t", "tag", "x"],
        &["--rfc5424=bogus", "-t", "tag", "x"],
        &["--rfc5424", "--rfc3164", "-t", "tag", "last wins"],
        &["-t", "a b", "spaces stay"],
        &["--rfc3164", "-t", "a b", "x"],
        &["--rfc5424", "-t", "a b", "x"],
        &["--rfc3164", "-t", &long_tag, "cut at 200"],
        &["--rfc5424", "-t", &tag_49, "too long"],
        &["-t", "t", "-t", "second", "the last tag"],
        &["-t", "t", "", "empty", "", "words"],
    ]);
    // The default tag: the login name, or the user's.
    same(Listen::Datagram, &["-u", "SOCK", "no tag"], b"");
}

#[test]
fn priorities_names_and_numbers() {
    let mut cases: Vec<Vec<&str>> = Vec::new();
    for p in [
        "0",
        "7",
        "16",
        "13",
        "user.8",
        "kern.emerg",
        "0.0",
        "16.3",
        "8.3",
        "2.3",
        "mark.info",
        "ntp.info",
        "LOCAL7.DEBUG",
        "daemon.warn",
        "security.error",
        "none",
        "user.",
        ".info",
        " 3",
        "3x",
        "bogus.info",
        "user.loud",
    ] {
        cases.push(vec!["-t", "t", "-p", p, "x"]);
    }
    cases.push(vec!["-p", "err", "-p", "info", "-t", "t", "the last one"]);
    let refs: Vec<&[&str]> = cases.iter().map(Vec::as_slice).collect();
    all_same(&refs);
}

#[test]
fn ids_and_pids() {
    all_same(&[
        &["-i", "-t", "t", "x"],
        &["--id", "-t", "t", "x"],
        &["--id=123", "-t", "t", "x"],
        &["--id", "123", "-t", "t", "x"],
        &["--id=0", "-t", "t", "x"],
        &["--id=-5", "-t", "t", "x"],
        &["--id=+5", "-t", "t", "x"],
        &["--id=4294967295", "-t", "t", "x"],
        &["--id=A", "-t", "t", "x"],
        &["--id=1 23", "-t", "t", "x"],
        &["--id=", "-t", "t", "x"],
        &["-i", "--id=7", "-t", "t", "x"],
        &["--id=7", "-i", "-t", "t", "x"],
        &["--rfc5424", "--id=42", "-t", "t", "x"],
        &["--rfc3164", "-i", "-t", "t", "x"],
    ]);
}

#[test]
fn sizes_cut_and_join() {
    all_same(&[
        &["-S", "4", "-t", "t", "abcdefghij"],
        &["-S", "10", "-t", "t", "0123456789012345", "ab"],
        &["-S", "3", "-t", "t", "ab", "cd", "ef"],
        &["-S", "5", "-t", "t", "ab", "cd", "ef"],
        &["-S", "0", "-t", "t", "abc"],
        &["-S", "1K", "-t", "t", "x"],
        &["-S", "0x10", "-t", "t", "abcdefghijklmnopqrstuvwxyz"],
        &["-S", "010", "-t", "t", "abcdefghijklmnopqrstuvwxyz"],
        &["-S", "1.5K", "-t", "t", "x"],
        &["-S", "2x", "-t", "t", "x"],
        &["-S", "-3", "-t", "t", "x"],
    ]);
    let long = "0123456789".repeat(5);
    let input = format!("{long}\nab\n\nabc\n");
    for size in ["30", "3", "10"] {
        same(
            Listen::Datagram,
            &["-u", "SOCK", "-t", "t", "-S", size],
            input.as_bytes(),
        );
    }
}

#[test]
fn input_lines() {
    let lines: &[&[u8]] = &[
        b"one\n\ntwo\n",
        b"no newline at the end",
        b"crlf\r\nkept\r\n",
        b"\xff\xfe not utf-8\n",
        b"",
        b"\n\n",
    ];
    for input in lines {
        same(Listen::Datagram, &["-u", "SOCK", "-t", "t"], input);
        same(Listen::Datagram, &["-u", "SOCK", "-t", "t", "-e"], input);
    }
    let prefixed =
        b"<10>\n<10>ab\n<10\n<abc>\n<5>x\n<200>bad\n<1999>y\n<7>kern\n<30>a\nno prefix\n";
    for args in [
        &["-u", "SOCK", "-t", "t", "--prio-prefix"][..],
        &[
            "-u",
            "SOCK",
            "-t",
            "t",
            "--prio-prefix",
            "-p",
            "local0.info",
        ],
        &["-u", "SOCK", "-t", "t", "--prio-prefix", "-S", "3"],
        &["-u", "SOCK", "-t", "t", "--prio-prefix", "--rfc5424"],
        &[
            "-u",
            "SOCK",
            "-t",
            "t",
            "--prio-prefix",
            "<10>not from the input",
        ],
    ] {
        same(Listen::Datagram, args, prefixed);
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("lines");
    std::fs::write(&file, "from\nthe file\n").unwrap();
    let file = file.to_str().unwrap();
    for args in [
        &["-u", "SOCK", "-t", "t", "-f", file][..],
        &["-u", "SOCK", "-t", "t", "-f", file, "and", "a", "message"],
        &["-u", "SOCK", "-t", "t", "-f", "/nonexistent/file"],
    ] {
        same(Listen::Datagram, args, b"stdin is not read\n");
    }
}

#[test]
fn structured_data_and_message_ids() {
    all_same(&[
        &["--rfc5424", "--msgid", "MID", "-t", "t", "x"],
        &["--msgid", "MID", "-t", "t", "only in rfc5424"],
        &["--rfc5424", "--msgid", "a b", "-t", "t", "x"],
        &[
            "--rfc5424",
            "--sd-id",
            "foo@1",
            "--sd-param",
            "a=\"b\"",
            "--sd-param",
            "c=\"d\"",
            "--sd-id",
            "bar@2.3",
            "--sd-param",
            "e=\"f\"",
            "-t",
            "t",
            "x",
        ],
        &["--rfc5424", "--sd-id", "empty@1", "-t", "t", "x"],
        &[
            "--rfc5424",
            "--sd-id",
            "timeQuality",
            "--sd-param",
            "tzKnown=\"0\"",
            "-t",
            "t",
            "x",
        ],
        &[
            "--rfc5424=notq",
            "--sd-id",
            "meta",
            "--sd-param",
            "x=\"1\"",
            "-t",
            "t",
            "x",
        ],
        &["--sd-param", "a=\"b\"", "-t", "t", "x"],
        &["--sd-id", "bad", "-t", "t", "x"],
        &["--sd-id", "a@1", "--sd-param", "a=b", "-t", "t", "x"],
        &["--sd-id", "a@1", "--sd-id", "a@1", "-t", "t", "x"],
    ]);
}

#[test]
fn stderr_copies_octet_counts_and_no_act() {
    all_same(&[
        &["-s", "-t", "t", "x"],
        &["-s", "-t", "t", "\nstarts with a newline"],
        &["--octet-count", "-t", "t", "x"],
        &["-s", "--octet-count", "-t", "t", "x"],
        &["--no-act", "-s", "-t", "t", "x"],
        &["--no-act", "-t", "t", "x"],
        &["-s", "--rfc5424", "-t", "t", "x"],
    ]);
}

#[test]
fn local_transports() {
    // A datagram socket: datagrams; -T cannot use it.
    for args in [
        &["-u", "SOCK", "-d", "-t", "t", "x"][..],
        &["-u", "SOCK", "-T", "-t", "t", "x"],
        &["-u", "SOCK", "-T", "-s", "-t", "t", "x"],
        &["-u", "SOCK", "-T", "-d", "-t", "t", "last wins"],
    ] {
        same(Listen::Datagram, args, b"");
    }
    // A stream socket: one connection, each message ended by a newline (or counted).
    for args in [
        &["-u", "SOCK", "-t", "t", "x", "y"][..],
        &["-u", "SOCK", "-T", "-t", "t", "x"],
        &["-u", "SOCK", "--octet-count", "-t", "t", "x"],
        &["-u", "SOCK", "-s", "-t", "t", "x"],
        &["-u", "SOCK", "-d", "-t", "t", "x"],
        &["-u", "SOCK", "-d", "-s", "-t", "t", "x"],
        &["-u", "SOCK", "-t", "t"],
    ] {
        same(Listen::Stream, args, b"line one\nline two\n");
    }
    // Nothing there: silent, unless asked to report (or to show the message).
    for args in [
        &["-u", "SOCK", "-t", "t", "x"][..],
        &["-u", "SOCK", "-s", "-t", "t", "x"],
        &["-u", "SOCK", "--socket-errors=on", "-t", "t", "x"],
        &["-u", "SOCK", "--socket-errors=off", "-s", "-t", "t", "x"],
        &["-u", "SOCK", "--socket-errors=maybe", "-t", "t", "x"],
        &["-u", "SOCK", "--no-act", "-t", "t", "x"],
    ] {
        same(Listen::Nothing, args, b"");
    }
}

#[test]
fn servers_over_udp_and_tcp() {
    for args in [
        &["-n", "127.0.0.1", "-P", "PORT", "-t", "t", "x"][..],
        &["-n", "127.0.0.1", "-P", "PORT", "--rfc3164", "-t", "t", "x"],
        &["-n", "127.0.0.1", "-P", "PORT", "-d", "-i", "-t", "t", "x"],
        &["-n", "127.0.0.1", "-P", "PORT", "-t", "t"],
    ] {
        same(Listen::Udp, args, b"a\nb\n");
    }
    for args in [
        &["-n", "127.0.0.1", "-P", "PORT", "-T", "-t", "t", "x"][..],
        &[
            "-n",
            "127.0.0.1",
            "-P",
            "PORT",
            "-T",
            "--octet-count",
            "-t",
            "t",
            "x",
        ],
        &["-n", "127.0.0.1", "-P", "PORT", "-T", "-t", "t"],
    ] {
        same(Listen::Tcp, args, b"a\nb\n");
    }
    // Nobody listening on TCP; a name that does not resolve.
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port().to_string();
    drop(free);
    same(
        Listen::Nothing,
        &["-n", "127.0.0.1", "-P", &port, "-T", "-t", "t", "x"],
        b"",
    );
    same(
        Listen::Nothing,
        &["-n", "no-such-host.invalid", "-t", "t", "x"],
        b"",
    );
}

#[test]
fn usage_errors_exit_1() {
    // Worded differently (getopt's and vinit's parser), the same status.
    for args in [&["--bogus"][..], &["-p"], &["-u"]] {
        let theirs = run(Tool::UtilLinux, Listen::Nothing, args, b"");
        let ours = run(Tool::Vinit, Listen::Nothing, args, b"");
        assert_eq!((theirs.code, theirs.received), (ours.code, ours.received));
        assert_eq!(ours.code, 1, "{args:?}");
    }
}
