//! The superserver with real sockets on loopback: each test runs `vinit xinetd` in the
//! foreground on a temporary root, on its own 127.x.y.z address.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpStream, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_vinit");

/// Ports of the services in the test roots' etc/services.
const ECHO: u16 = 20007;
const DISCARD: u16 = 20009;
const DAYTIME: u16 = 20013;
const CHARGEN: u16 = 20019;
const TIME: u16 = 20037;
const CAT: u16 = 20100;
const SCRIPT: u16 = 20101;
const WAITER: u16 = 20102;

const SERVICES: &str = "\
echo     20007/tcp
echo     20007/udp
discard  20009/tcp
discard  20009/udp
daytime  20013/tcp
daytime  20013/udp
chargen  20019/tcp
chargen  20019/udp
time     20037/tcp
time     20037/udp
cat      20100/tcp
script   20101/tcp
waiter   20102/udp
waiter   20102/tcp
";

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A loopback address of this test alone.
fn test_addr() -> Ipv4Addr {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let pid = std::process::id();
    Ipv4Addr::new(
        127,
        100 + (pid % 100) as u8,
        ((pid / 100) % 250) as u8 + 1,
        n as u8 + 1,
    )
}

/// Polls `f` until it holds, for at most 20 s.
fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

struct TestRoot {
    dir: tempfile::TempDir,
    addr: Ipv4Addr,
}

impl TestRoot {
    fn new() -> TestRoot {
        let dir = tempfile::tempdir().unwrap();
        for d in ["etc/xinetd.d", "run"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        std::fs::write(dir.path().join("etc/services"), SERVICES).unwrap();
        TestRoot {
            dir,
            addr: test_addr(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.path(rel), text).unwrap();
    }

    fn script(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// xinetd.conf: defaults binding every service to this test's address, then the
    /// files of etc/xinetd.d, then `body`.
    fn xinetd_conf(&self, defaults: &str, body: &str) {
        let conf = format!(
            "defaults\n{{\n bind = {}\n{defaults}}}\nincludedir {}\n{body}",
            self.addr,
            self.path("etc/xinetd.d").display()
        );
        self.write("etc/xinetd.conf", &conf);
    }

    fn at(&self, port: u16) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(self.addr), port)
    }
}

/// A service block.
fn service(name: &str, attrs: &str) -> String {
    format!("service {name}\n{{\n{attrs}}}\n")
}

fn internal(name: &str, stream: bool) -> String {
    if stream {
        service(
            name,
            " type = INTERNAL\n socket_type = stream\n wait = no\n",
        )
    } else {
        service(
            name,
            &format!(" id = {name}-udp\n type = INTERNAL\n socket_type = dgram\n wait = yes\n"),
        )
    }
}

struct Daemon {
    child: Child,
    log: PathBuf,
    pidfile: PathBuf,
    pid: i32,
}

impl Daemon {
    /// `vinit xinetd -dontfork` (which implies -stayalive, as in xinetd) with `args`.
    fn start(root: &TestRoot, args: &[&str]) -> Daemon {
        Daemon::start_in(root, "-dontfork", args)
    }

    /// `vinit xinetd MODE` (-dontfork, -d) with `args`, in the foreground.
    fn start_in(root: &TestRoot, mode: &str, args: &[&str]) -> Daemon {
        Daemon::start_adjusted(root, mode, args, |_| {})
    }

    /// [`Daemon::start_in`], with the command adjusted by `adjust` first.
    fn start_adjusted(
        root: &TestRoot,
        mode: &str,
        args: &[&str],
        adjust: impl FnOnce(&mut Command),
    ) -> Daemon {
        let log = root.path("xinetd.log");
        let started = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .matches("started with")
            .count();
        let mut command = Command::new(BIN);
        command
            .arg("xinetd")
            .arg("--root")
            .arg(root.dir.path())
            .args([mode, "-filelog"])
            .arg(&log)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        adjust(&mut command);
        let child = command.spawn().unwrap();
        let pid = child.id() as i32;
        let d = Daemon {
            child,
            log,
            pidfile: root.path("run/xinetd.pid"),
            pid,
        };
        wait_for("the superserver to start", || {
            d.count("started with") > started
        });
        d
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn count(&self, needle: &str) -> usize {
        self.log().matches(needle).count()
    }

    fn wait_log(&self, needle: &str) {
        wait_for(&format!("'{needle}' in the log"), || {
            self.log().contains(needle)
        });
    }

    fn signal(&self, sig: libc::c_int) {
        common::send_signal(self.pid, sig);
    }

    /// SIGHUP, then waits until the reload is done (or refused).
    fn reload(&self) {
        let before = self.count("reloaded") + self.count("reload failed");
        self.signal(libc::SIGHUP);
        wait_for("the reload", || {
            self.count("reloaded") + self.count("reload failed") > before
        });
    }

    /// What the superserver's descriptors point at (socket inodes included), sorted;
    /// the numbers themselves may move when a file is reopened.
    fn fds(&self) -> Vec<String> {
        let mut fds: Vec<String> = std::fs::read_dir(format!("/proc/{}/fd", self.pid))
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| {
                std::fs::read_link(e.path())
                    .unwrap_or_default()
                    .display()
                    .to_string()
            })
            .collect();
        fds.sort();
        fds
    }

    /// Waits for the process to exit; its status.
    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the superserver did not exit"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The pid logged in the last `START: id pid=N` line.
    fn last_server_pid(&self, id: &str) -> i32 {
        let needle = format!("START: {id} pid=");
        // The server may answer before the superserver has logged its start.
        self.wait_log(&needle);
        let log = self.log();
        let at = log
            .rfind(&needle)
            .unwrap_or_else(|| panic!("no '{needle}' in {log}"));
        log[at + needle.len()..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

fn connect_from(source: Ipv4Addr, addr: SocketAddr) -> TcpStream {
    // SAFETY (this and the calls below): sockaddr_in values that outlive the calls, with
    // their true length; the descriptor is owned by the TcpStream made at the end.
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    assert!(sock >= 0);
    let sin = |a: Ipv4Addr, port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(a.octets()),
        },
        sin_zero: [0; 8],
    };
    let local = sin(source, 0);
    let remote = match addr {
        SocketAddr::V4(a) => sin(*a.ip(), a.port()),
        SocketAddr::V6(_) => panic!("IPv4 only"),
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    unsafe {
        assert_eq!(
            libc::bind(sock, (&local as *const libc::sockaddr_in).cast(), len),
            0
        );
        assert_eq!(
            libc::connect(sock, (&remote as *const libc::sockaddr_in).cast(), len),
            0
        );
    }
    let s = unsafe { <TcpStream as std::os::fd::FromRawFd>::from_raw_fd(sock) };
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

fn read_all(mut s: TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

fn echo_round(s: &mut TcpStream, text: &[u8]) -> Vec<u8> {
    s.write_all(text).unwrap();
    let mut buf = vec![0u8; text.len()];
    s.read_exact(&mut buf).unwrap();
    buf
}

fn udp_client(root: &TestRoot) -> UdpSocket {
    let u = UdpSocket::bind(SocketAddr::new(IpAddr::V4(root.addr), 0)).unwrap();
    u.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    u
}

fn udp_ask(u: &UdpSocket, to: SocketAddr, data: &[u8]) -> Vec<u8> {
    u.send_to(data, to).unwrap();
    let mut buf = [0u8; 2048];
    let (n, from) = u.recv_from(&mut buf).unwrap();
    assert_eq!(from, to);
    buf[..n].to_vec()
}

fn now_since_1900() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2_208_988_800
}

#[test]
fn every_internal_service_over_tcp_and_udp() {
    let root = TestRoot::new();
    let body: String = ["echo", "discard", "daytime", "chargen", "time"]
        .iter()
        .flat_map(|n| [internal(n, true), internal(n, false)])
        .collect();
    root.xinetd_conf("", &body);
    let d = Daemon::start(&root, &[]);

    // echo
    let mut s = connect(root.at(ECHO));
    assert_eq!(echo_round(&mut s, b"hello\n"), b"hello\n");
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let writer = {
        let mut w = s.try_clone().unwrap();
        let big = big.clone();
        std::thread::spawn(move || {
            w.write_all(&big).unwrap();
            w.shutdown(Shutdown::Write).unwrap();
        })
    };
    assert_eq!(read_all(s), big);
    writer.join().unwrap();
    // discard: nothing comes back, and it closes when the client does.
    let mut s = connect(root.at(DISCARD));
    s.write_all(b"into the void").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert!(read_all(s).is_empty());
    // daytime
    let line = String::from_utf8(read_all(connect(root.at(DAYTIME)))).unwrap();
    assert!(line.ends_with("\r\n") && line.len() == 26, "{line:?}");
    // chargen: the rotating pattern
    let mut s = connect(root.at(CHARGEN));
    let mut buf = vec![0u8; 74 * 3];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf[..4], b" !\"#");
    assert_eq!(&buf[72..76], b"\r\n!\"");
    drop(s);
    // time
    let t = read_all(connect(root.at(TIME)));
    let secs = u32::from_be_bytes(t[..].try_into().unwrap()) as u64;
    assert!(secs.abs_diff(now_since_1900() & 0xffff_ffff) < 60, "{secs}");

    let u = udp_client(&root);
    assert_eq!(udp_ask(&u, root.at(ECHO), b"ping"), b"ping");
    assert_eq!(udp_ask(&u, root.at(DAYTIME), b"").len(), 26);
    let t = udp_ask(&u, root.at(TIME), b"");
    assert!(
        (u32::from_be_bytes(t[..].try_into().unwrap()) as u64)
            .abs_diff(now_since_1900() & 0xffff_ffff)
            < 60
    );
    let c = udp_ask(&u, root.at(CHARGEN), b"");
    assert!(
        c.len() <= 512
            && c.iter()
                .all(|b| (b' '..=b'~').contains(b) || *b == b'\r' || *b == b'\n')
    );
    // discard: no answer; echo after it answers, so the discard datagram was handled.
    u.send_to(b"dropped", root.at(DISCARD)).unwrap();
    assert_eq!(udp_ask(&u, root.at(ECHO), b"after"), b"after");
    drop(d);
}

#[test]
fn no_udp_reply_goes_to_a_privileged_port() {
    if !is_root() {
        return;
    }
    let root = TestRoot::new();
    root.xinetd_conf("", &(internal("echo", false) + &internal("chargen", false)));
    let d = Daemon::start(&root, &[]);
    // A forged echo<->chargen loop: datagrams "from" port 19.
    let attacker = UdpSocket::bind(SocketAddr::new(IpAddr::V4(root.addr), 519)).unwrap();
    attacker.send_to(b"loop", root.at(ECHO)).unwrap();
    attacker.send_to(b"loop", root.at(CHARGEN)).unwrap();
    wait_for("both refusals", || {
        d.count("reply to a privileged port refused") >= 2
    });
    attacker.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(
        attacker.recv_from(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    // An ordinary client is answered.
    assert_eq!(udp_ask(&udp_client(&root), root.at(ECHO), b"ok"), b"ok");
}

#[test]
fn no_udp_reply_goes_to_the_port_of_an_internal_service() {
    let root = TestRoot::new();
    root.xinetd_conf("", &(internal("echo", false) + &internal("chargen", false)));
    let d = Daemon::start(&root, &[]);
    // Forged sources on unprivileged ports: chargen's (echo <-> chargen) and echo's own
    // (echo <-> echo), from another address, as another host's superserver would be.
    let elsewhere = IpAddr::V4(test_addr());
    let forged: Vec<UdpSocket> = [CHARGEN, ECHO]
        .iter()
        .map(|&port| UdpSocket::bind(SocketAddr::new(elsewhere, port)).unwrap())
        .collect();
    for socket in &forged {
        socket.send_to(b"loop", root.at(ECHO)).unwrap();
        socket.send_to(b"loop", root.at(CHARGEN)).unwrap();
    }
    wait_for("four refusals", || {
        d.count("reply to the port of an internal service refused (a loop)") >= 4
    });
    for socket in &forged {
        socket.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(
            socket.recv_from(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
    }
    assert_eq!(udp_ask(&udp_client(&root), root.at(ECHO), b"ok"), b"ok");
}

/// Binds a UDP socket with SO_REUSEADDR set, as a user trying to share a port would.
fn bind_udp_reusing(addr: SocketAddrV4) -> std::io::Result<UdpSocket> {
    use std::os::fd::FromRawFd;
    // SAFETY (this and the calls below): the new descriptor is owned by the UdpSocket;
    // the option and address values outlive the calls, with their true lengths.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    assert!(fd >= 0);
    let socket = unsafe { UdpSocket::from_raw_fd(fd) };
    let one: libc::c_int = 1;
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: addr.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(addr.ip().octets()),
        },
        sin_zero: [0; 8],
    };
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of_val(&one) as libc::socklen_t,
        );
        libc::bind(
            fd,
            (&sin as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(socket)
}

#[test]
fn nobody_can_bind_beside_a_udp_service_and_take_its_datagrams() {
    let root = TestRoot::new();
    root.xinetd_conf("", &internal("echo", false));
    let _d = Daemon::start(&root, &[]);
    let e = bind_udp_reusing(SocketAddrV4::new(root.addr, ECHO)).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EADDRINUSE));
    assert_eq!(udp_ask(&udp_client(&root), root.at(ECHO), b"mine"), b"mine");
}

#[test]
fn a_nowait_server_gets_exactly_the_connection_and_runs_as_its_user() {
    if !is_root() {
        return;
    }
    let root = TestRoot::new();
    let script = root.script(
        "env.sh",
        "#!/bin/sh\necho \"$REMOTE_HOST|$TCPREMOTEIP|$TCPREMOTEPORT|$TCPLOCALIP|$TCPLOCALPORT|$PROTO|$FOO|${HOME-unset}|$(id -u):$(id -g)\"\n",
    );
    root.xinetd_conf(
        " log_on_success = PID HOST EXIT\n",
        &(service(
            "cat",
            " socket_type = stream\n wait = no\n user = nobody\n server = /bin/cat\n",
        ) + &service(
            "script",
            &format!(
                " socket_type = stream\n wait = no\n user = nobody\n group = nogroup\n server = {}\n env = FOO=bar\n passenv =\n",
                script.display()
            ),
        )),
    );
    let d = Daemon::start(&root, &[]);
    let mut s = connect(root.at(CAT));
    assert_eq!(echo_round(&mut s, b"through cat\n"), b"through cat\n");
    let pid = d.last_server_pid("cat");
    // Exactly 0, 1 and 2, all the connection.
    let mut fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    fds.sort();
    assert_eq!(fds, ["0", "1", "2"]);
    let sock = std::fs::read_link(format!("/proc/{pid}/fd/0")).unwrap();
    assert!(sock.to_string_lossy().starts_with("socket:"));
    for fd in 1..3 {
        assert_eq!(
            std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap(),
            sock
        );
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap()
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(field("Uid:"), "65534 65534 65534 65534");
    assert_eq!(field("Gid:"), "65534 65534 65534 65534");
    assert_eq!(field("Groups:"), "65534");
    assert_eq!(field("SigBlk:"), "0000000000000000");
    assert_eq!(field("SigIgn:"), "0000000000000000");
    // Its own session.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let sid: i32 = after.split_whitespace().nth(3).unwrap().parse().unwrap();
    assert_eq!(sid, pid);
    s.shutdown(Shutdown::Write).unwrap();
    assert!(read_all(s).is_empty());
    d.wait_log(&format!("EXIT: cat status=0 pid={pid}"));

    let s = connect_from(root.addr, root.at(SCRIPT));
    let port = s.local_addr().unwrap().port();
    let line = String::from_utf8(read_all(s)).unwrap();
    let a = root.addr;
    assert_eq!(
        line,
        format!("{a}|{a}|{port}|{a}|{SCRIPT}|TCP|bar|unset|65534:65534\n")
    );
}

#[test]
fn a_wait_service_gets_the_socket_and_is_not_watched_until_it_exits() {
    // perl-base is Essential on Debian; .ci/run installs it elsewhere.
    assert!(
        Path::new("/usr/bin/perl").exists(),
        "this test needs /usr/bin/perl for its wait server"
    );
    let root = TestRoot::new();
    // Answers every datagram that comes within 1 s of the last one, then exits.
    let server = root.script(
        "udpwait.pl",
        "#!/usr/bin/perl\n\
         open(my $s, '+<&=', 0) or die;\n\
         my $rin = ''; vec($rin, 0, 1) = 1;\n\
         while (select(my $r = $rin, undef, undef, 1)) {\n\
           my $peer = recv($s, my $buf, 1024, 0);\n\
           send($s, \"$$:$buf\", 0, $peer);\n\
         }\n",
    );
    root.xinetd_conf(
        " log_on_success = PID\n",
        &service(
            "waiter",
            &format!(
                " socket_type = dgram\n wait = yes\n user = root\n server = {}\n",
                server.display()
            ),
        ),
    );
    let d = Daemon::start(&root, &[]);
    let u = udp_client(&root);
    let first = String::from_utf8(udp_ask(&u, root.at(WAITER), b"one")).unwrap();
    let second = String::from_utf8(udp_ask(&u, root.at(WAITER), b"two")).unwrap();
    let (pid1, _) = first.split_once(':').unwrap();
    // The same server took the second datagram itself: the superserver started one.
    assert_eq!(second, format!("{pid1}:two"));
    wait_for("the start in the log", || d.count("START: waiter") >= 1);
    assert_eq!(d.count("START: waiter"), 1);
    d.wait_log(&format!("EXIT: waiter pid={pid1}"));
    // Once it exited, the next datagram starts a new server.
    let third = String::from_utf8(udp_ask(&u, root.at(WAITER), b"three")).unwrap();
    let (pid3, _) = third.split_once(':').unwrap();
    assert_ne!(pid1, pid3);
    wait_for("the second start in the log", || {
        d.count("START: waiter") >= 2
    });
    assert_eq!(d.count("START: waiter"), 2);
}

/// A datagram wait server that exits without reading its datagram would be started
/// again for it at once, for ever: the datagram is dropped, and a service whose server
/// keeps doing so pauses.
#[test]
fn a_wait_server_that_never_reads_is_not_restarted_for_ever() {
    let root = TestRoot::new();
    let server = root.script("lazy.sh", "#!/bin/sh\nexit 0\n");
    root.xinetd_conf(
        " log_on_success = PID\n",
        &service(
            "waiter",
            &format!(
                " socket_type = dgram\n wait = yes\n user = root\n server = {}\n",
                server.display()
            ),
        ),
    );
    let d = Daemon::start(&root, &[]);
    let u = udp_client(&root);
    let unread = "FAIL: waiter server exited without reading its datagram";
    for n in 1..=5 {
        u.send_to(format!("request {n}").as_bytes(), root.at(WAITER))
            .unwrap();
        wait_for(&format!("unread datagram {n}"), || d.count(unread) >= n);
        // The datagram is gone with the failure: one start each, no more.
        assert_eq!(d.count("START: waiter"), n);
    }
    d.wait_log("service waiter: its server exited 5 times in a row without reading: not taking requests for 10 s");
}

#[test]
fn a_tcp_wait_server_accepts_for_itself() {
    // perl-base is Essential on Debian; .ci/run installs it elsewhere.
    assert!(
        Path::new("/usr/bin/perl").exists(),
        "this test needs /usr/bin/perl for its wait server"
    );
    let root = TestRoot::new();
    let server = root.script(
        "tcpwait.pl",
        "#!/usr/bin/perl\naccept(my $c, STDIN) or die; print $c \"accepted by $$\\n\"; close $c;\n",
    );
    root.xinetd_conf(
        " log_on_success = PID\n",
        &service(
            "waiter",
            &format!(
                " socket_type = stream\n wait = yes\n user = root\n server = {}\n",
                server.display()
            ),
        ),
    );
    let d = Daemon::start(&root, &[]);
    for round in 1..=3 {
        let line = String::from_utf8(read_all(connect(root.at(WAITER)))).unwrap();
        assert!(line.starts_with("accepted by "), "{line}");
        wait_for("the server to exit", || d.count("EXIT: waiter") >= round);
    }
    assert_eq!(d.count("START: waiter"), 3);
}

#[test]
fn only_from_and_no_access_the_more_specific_wins() {
    let root = TestRoot::new();
    let a = root.addr.octets();
    let net = format!("{}.{}.{}.0/24", a[0], a[1], a[2]);
    let inside = Ipv4Addr::new(a[0], a[1], a[2], 200);
    let banned = Ipv4Addr::new(a[0], a[1], a[2], 201);
    let outside = Ipv4Addr::new(a[0], a[1], a[2].wrapping_add(1), 5);
    root.xinetd_conf(
        "",
        &service(
            "daytime",
            &format!(" type = INTERNAL\n socket_type = stream\n wait = no\n only_from = {net}\n no_access = {banned}\n"),
        ),
    );
    let d = Daemon::start(&root, &[]);
    assert_eq!(read_all(connect_from(inside, root.at(DAYTIME))).len(), 26);
    assert!(read_all(connect_from(banned, root.at(DAYTIME))).is_empty());
    assert!(read_all(connect_from(outside, root.at(DAYTIME))).is_empty());
    d.wait_log(&format!("FAIL: daytime address in no_access from={banned}"));
    d.wait_log(&format!(
        "FAIL: daytime address not in only_from from={outside}"
    ));
}

#[test]
fn instances_hold_back_and_per_source_refuses() {
    let root = TestRoot::new();
    root.xinetd_conf(
        "",
        &(service(
            "echo",
            " type = INTERNAL\n socket_type = stream\n wait = no\n instances = 2\n",
        ) + &service(
            "chargen",
            " type = INTERNAL\n socket_type = stream\n wait = no\n per_source = 1\n",
        )),
    );
    let d = Daemon::start(&root, &[]);
    let mut c1 = connect(root.at(ECHO));
    let mut c2 = connect(root.at(ECHO));
    assert_eq!(echo_round(&mut c1, b"1"), b"1");
    assert_eq!(echo_round(&mut c2, b"2"), b"2");
    // The third waits in the queue: the superserver stopped taking connections.
    let mut c3 = connect(root.at(ECHO));
    c3.write_all(b"3").unwrap();
    d.signal(libc::SIGUSR1);
    d.wait_log(&format!(
        "service echo on {}:{ECHO}/tcp: full, 2 running",
        root.addr
    ));
    drop(c1);
    let mut buf = [0u8; 1];
    c3.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"3");

    let a = root.addr.octets();
    let other = Ipv4Addr::new(a[0], a[1], a[2], 210);
    let mut first = connect_from(root.addr, root.at(CHARGEN));
    first.read_exact(&mut [0u8; 10]).unwrap();
    let refused = connect_from(root.addr, root.at(CHARGEN));
    assert!(read_all(refused).is_empty());
    d.wait_log(&format!(
        "FAIL: chargen per_source_limit from={}",
        root.addr
    ));
    let mut elsewhere = connect_from(other, root.at(CHARGEN));
    elsewhere.read_exact(&mut [0u8; 10]).unwrap();
}

#[test]
fn cps_pauses_a_service_then_resumes() {
    let root = TestRoot::new();
    root.xinetd_conf(
        "",
        &service(
            "daytime",
            " type = INTERNAL\n socket_type = stream\n wait = no\n cps = 5 1\n",
        ),
    );
    let d = Daemon::start(&root, &[]);
    // A burst of 12: all are answered in the end, some only after a pause.
    let burst: Vec<TcpStream> = (0..12).map(|_| connect(root.at(DAYTIME))).collect();
    for s in burst {
        assert_eq!(read_all(s).len(), 26);
    }
    d.wait_log("service daytime: more than 5 requests in 1 s: not taking requests for 1 s");
    d.wait_log("service daytime: taking requests again");
}

/// A pause too long for the clock (`cps = 1 18446744073709551615`) is a pause for as
/// long as the superserver runs: it once overflowed the deadline, and the panic took
/// every service down with it.
#[test]
fn a_pause_beyond_the_clock_pauses_and_the_others_go_on() {
    let root = TestRoot::new();
    root.xinetd_conf(
        "",
        &(service(
            "daytime",
            " type = INTERNAL\n socket_type = stream\n wait = no\n cps = 1 18446744073709551615\n",
        ) + &internal("echo", true)),
    );
    let mut d = Daemon::start(&root, &[]);
    let burst: Vec<TcpStream> = (0..3).map(|_| connect(root.at(DAYTIME))).collect();
    d.wait_log("service daytime: more than 1 requests in 1 s: not taking requests for");
    assert!(d.child.try_wait().unwrap().is_none(), "{}", d.log());
    assert_eq!(read_all(burst.into_iter().next().unwrap()).len(), 26);
    let mut s = connect(root.at(ECHO));
    assert_eq!(echo_round(&mut s, b"still here"), b"still here");
}

#[test]
fn reloads_keep_sockets_and_sessions_and_leak_nothing() {
    let root = TestRoot::new();
    root.write("etc/xinetd.d/echo", &internal("echo", true));
    root.write(
        "etc/xinetd.d/cat",
        &service(
            "cat",
            " socket_type = stream\n wait = no\n user = root\n server = /bin/cat\n",
        ),
    );
    root.xinetd_conf("", "");
    let d = Daemon::start(&root, &[]);
    let mut session = connect(root.at(CAT));
    assert_eq!(echo_round(&mut session, b"before"), b"before");
    let mut internal_session = connect(root.at(ECHO));
    assert_eq!(echo_round(&mut internal_session, b"before"), b"before");
    d.reload();
    let fds_before = d.fds();
    assert!(fds_before.len() < 20, "{fds_before:?}");

    // A client working through all the reloads: every request must be served.
    let target = root.at(CAT);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut served = 0;
            while !stop.load(Ordering::SeqCst) && served < 100_000 {
                let mut s = connect(target);
                assert_eq!(echo_round(&mut s, b"x"), b"x", "request {served}");
                served += 1;
            }
            served
        })
    };
    for _ in 0..100 {
        d.reload();
    }
    stop.store(true, Ordering::SeqCst);
    let served = load.join().unwrap();
    assert!(served > 0);
    assert_eq!(echo_round(&mut session, b"after"), b"after");
    assert_eq!(echo_round(&mut internal_session, b"after"), b"after");
    // The same descriptors, down to the socket inodes: nothing leaked, the listening
    // sockets were kept.
    assert_eq!(d.fds(), fds_before, "descriptors changed over 100 reloads");
    assert_eq!(d.count("reload failed"), 0);
}

/// Reloads that reorder services, remove one and add it back, while clients keep
/// connecting and servers and internal sessions run: every request is served by its
/// own service, every exit is counted against the service that started the server.
#[test]
fn reloads_that_reorder_and_remove_services_send_no_event_to_another() {
    let root = TestRoot::new();
    let cat = service(
        "cat",
        " socket_type = stream\n wait = no\n user = root\n server = /bin/cat\n",
    );
    let (daytime, time, echo) = (
        internal("daytime", true),
        internal("time", true),
        internal("echo", true),
    );
    let orders = [
        format!("{cat}{daytime}{echo}{time}"),
        format!("{time}{daytime}{cat}"),
    ];
    root.xinetd_conf(" log_on_success = PID EXIT\n", &orders[0]);
    let d = Daemon::start(&root, &[]);
    let mut session = connect(root.at(CAT));
    assert_eq!(echo_round(&mut session, b"held"), b"held");
    let mut internal_session = connect(root.at(ECHO));
    assert_eq!(echo_round(&mut internal_session, b"held"), b"held");

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let client = |port: u16, check: fn(TcpStream) -> bool| {
        let (stop, target) = (stop.clone(), root.at(port));
        std::thread::spawn(move || {
            let mut served = 0;
            while !stop.load(Ordering::SeqCst) {
                assert!(check(connect(target)), "request {served} to {target}");
                served += 1;
            }
            served
        })
    };
    let clients = [
        client(DAYTIME, |s| read_all(s).len() == 26),
        client(TIME, |s| read_all(s).len() == 4),
        client(CAT, |mut s| echo_round(&mut s, b"x") == b"x"),
    ];
    for round in 0..40 {
        root.xinetd_conf(" log_on_success = PID EXIT\n", &orders[(round + 1) % 2]);
        d.reload();
    }
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        assert!(c.join().unwrap() > 0);
    }
    assert_eq!(d.count("reload failed"), 0);
    // The sessions begun before went on through every reload.
    assert_eq!(echo_round(&mut session, b"after"), b"after");
    assert_eq!(echo_round(&mut internal_session, b"after"), b"after");
    let pid = d.last_server_pid("cat");
    drop((session, internal_session));
    wait_for("every cat server to exit", || {
        d.count("START: cat") == d.count("EXIT: cat")
    });
    assert!(d.count(&format!("pid={pid}")) >= 2);
    d.signal(libc::SIGUSR1);
    d.wait_log(&format!(
        "service cat on {}:{CAT}/tcp: listening, 0 running",
        root.addr
    ));
    d.wait_log("0 server(s), 0 internal connection(s)");
}

#[test]
fn reload_stops_removed_and_disabled_services_and_refuses_a_broken_config() {
    let root = TestRoot::new();
    root.write("etc/xinetd.d/echo", &internal("echo", true));
    root.write("etc/xinetd.d/daytime", &internal("daytime", true));
    root.write(
        "etc/xinetd.d/time",
        &service(
            "time",
            " disable = yes\n type = INTERNAL\n socket_type = stream\n wait = no\n",
        ),
    );
    root.xinetd_conf("", "");
    let d = Daemon::start(&root, &[]);
    assert!(TcpStream::connect(root.at(TIME)).is_err());
    let mut kept = connect(root.at(ECHO));
    assert_eq!(echo_round(&mut kept, b"a"), b"a");

    // What chkconfig does: edit `disable`, then SIGHUP the pid in run/xinetd.pid.
    root.write(
        "etc/xinetd.d/time",
        &service(
            "time",
            " disable = no\n type = INTERNAL\n socket_type = stream\n wait = no\n",
        ),
    );
    std::fs::remove_file(root.path("etc/xinetd.d/daytime")).unwrap();
    root.write(
        "etc/xinetd.d/echo",
        &service(
            "echo",
            " disable = yes\n type = INTERNAL\n socket_type = stream\n wait = no\n",
        ),
    );
    let pid: i32 = std::fs::read_to_string(&d.pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(pid, d.pid);
    let before = d.count("reloaded");
    common::send_signal(pid, libc::SIGHUP);
    wait_for("the reload", || d.count("reloaded") > before);
    assert_eq!(read_all(connect(root.at(TIME))).len(), 4);
    assert!(TcpStream::connect(root.at(DAYTIME)).is_err());
    assert!(TcpStream::connect(root.at(ECHO)).is_err());
    // A session of a disabled service goes on.
    assert_eq!(echo_round(&mut kept, b"b"), b"b");

    root.write("etc/xinetd.d/broken", "service broken\n{\n wait = no\n");
    d.reload();
    d.wait_log("reload failed, the current configuration stays in force");
    assert!(d
        .log()
        .contains("/etc/xinetd.d/broken:1: service broken: missing '}'"));
    assert_eq!(read_all(connect(root.at(TIME))).len(), 4);
}

#[test]
fn sigterm_leaves_servers_running_sigquit_stops_them() {
    let root = TestRoot::new();
    root.write(
        "etc/xinetd.d/cat",
        &service(
            "cat",
            " socket_type = stream\n wait = no\n user = root\n server = /bin/cat\n",
        ),
    );
    root.xinetd_conf(" log_on_success = PID\n", "");
    let mut d = Daemon::start(&root, &[]);
    let mut session = connect(root.at(CAT));
    assert_eq!(echo_round(&mut session, b"1"), b"1");
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit().success());
    assert!(!d.pidfile.exists());
    assert!(TcpStream::connect(root.at(CAT)).is_err());
    assert_eq!(echo_round(&mut session, b"still here"), b"still here");
    drop(session);

    let mut d = Daemon::start(&root, &[]);
    let mut session = connect(root.at(CAT));
    assert_eq!(echo_round(&mut session, b"1"), b"1");
    let pid = d.last_server_pid("cat");
    d.signal(libc::SIGQUIT);
    assert!(d.wait_exit().success());
    assert!(read_all(session).is_empty());
    wait_for("the server to be gone", || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| s.contains(") Z "))
    });
}

/// A superserver started with SIGCHLD ignored (a parent's `trap '' CHLD`, a supervisor
/// that ignores it) still sees its servers exit: with the inherited disposition kept,
/// the kernel would reap them behind its back, and a service at its `instances` limit,
/// or a wait service, would never take a request again.
#[test]
fn an_ignored_sigchld_inherited_from_the_parent_is_reset() {
    use std::os::unix::process::CommandExt;
    let root = TestRoot::new();
    root.write(
        "etc/xinetd.d/cat",
        &service(
            "cat",
            " socket_type = stream\n wait = no\n user = root\n server = /bin/cat\n instances = 1\n",
        ),
    );
    root.xinetd_conf(" log_on_success = PID EXIT\n", "");
    let d = Daemon::start_adjusted(&root, "-dontfork", &[], |command| {
        // SAFETY: signal() is async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGCHLD, libc::SIG_IGN);
                Ok(())
            });
        }
    });
    for round in 0..3 {
        let mut session = connect(root.at(CAT));
        let text = format!("round {round}");
        assert_eq!(echo_round(&mut session, text.as_bytes()), text.as_bytes());
        wait_for("the start in the log", || d.count("START: cat") > round);
        let pid = d.last_server_pid("cat");
        drop(session);
        d.wait_log(&format!("EXIT: cat status=0 pid={pid}"));
    }
}

#[test]
fn a_bad_service_is_disabled_and_the_others_run() {
    let root = TestRoot::new();
    let taken = std::net::TcpListener::bind(root.at(DAYTIME)).unwrap();
    root.xinetd_conf(
        "",
        &(internal("echo", true)
            + &internal("daytime", true)
            + &service(
                "cat",
                " socket_type = stream\n wait = no\n user = no-such-user\n server = /bin/cat\n",
            )
            + &service(
                "chargen",
                " id = chargen-udp\n type = INTERNAL\n socket_type = dgram\n wait = no\n",
            )),
    );
    let d = Daemon::start(&root, &[]);
    let log = d.log();
    let conf = root.path("etc/xinetd.conf");
    assert!(log.contains(&format!("{}:", conf.display())), "{log}");
    assert!(
        log.contains("service cat: unknown user \"no-such-user\""),
        "{log}"
    );
    assert!(
        log.contains("service chargen-udp: a dgram service needs wait = yes"),
        "{log}"
    );
    assert!(log.contains(&format!("service daytime: cannot listen on {}:{DAYTIME}/tcp: Address already in use; the service is disabled", root.addr)), "{log}");
    let mut s = connect(root.at(ECHO));
    assert_eq!(echo_round(&mut s, b"fine"), b"fine");
    drop(taken);
}

#[test]
fn check_prints_the_effective_services_and_fails_on_errors() {
    let root = TestRoot::new();
    root.xinetd_conf(
        " instances = 10\n",
        &(internal("echo", true)
            + &service(
                "time",
                " disable = yes\n type = INTERNAL\n socket_type = stream\n wait = no\n",
            )),
    );
    let out = Command::new(BIN)
        .args(["xinetd", "--check", "--root"])
        .arg(root.dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("echo                 {}:{ECHO}/tcp", root.addr)),
        "{text}"
    );
    assert!(
        text.contains("instances 10, per_source UNLIMITED, at most 1000 per 1 s (then 2 s pause)"),
        "{text}"
    );
    assert!(text.contains("disabled: time"), "{text}");

    root.write(
        "etc/xinetd.d/bad",
        &service(
            "cat",
            " socket_type = stream\n wait = no\n server = /bin/cat\n",
        ),
    );
    let out = Command::new(BIN)
        .args(["xinetd", "--check", "--root"])
        .arg(root.dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("etc/xinetd.d/bad:1: service cat: 'user' is missing"),
        "{text}"
    );

    // A configuration that cannot be read: said on stderr in the listing's words.
    let conf = std::fs::read_to_string(root.path("etc/xinetd.conf")).unwrap();
    std::fs::remove_file(root.path("etc/xinetd.conf")).unwrap();
    let out = Command::new(BIN)
        .args(["xinetd", "--check"])
        .arg(format!("--root={}", root.dir.path().display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: cannot read {}: No such file or directory\n",
            root.path("etc/xinetd.conf").display()
        )
    );
    root.write("etc/xinetd.conf", &conf);

    root.write("etc/xinetd.d/bad", "service x\n");
    let out = Command::new(BIN)
        .args(["xinetd", "-dontfork", "--root"])
        .arg(root.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("etc/xinetd.d/bad:1: service x: missing '{'"),
        "{err}"
    );
}

#[test]
fn inetd_conf_alone_and_together_with_xinetd() {
    let root = TestRoot::new();
    root.write(
        "etc/inetd.conf",
        &format!(
            "# classic\n{a}:\necho stream tcp nowait root internal\n{CAT} stream tcp nowait.1000 nobody /bin/cat cat\ntime dgram udp wait root internal\n",
            a = root.addr
        ),
    );
    let log = root.path("inetd.log");
    let mut child = Command::new(BIN)
        .args(["inetd", "-i", "-filelog"])
        .arg(&log)
        .arg("--root")
        .arg(root.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("inetd to start", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("started with 3 services")
    });
    assert!(root.path("run/inetd.pid").exists());
    let mut s = connect(root.at(ECHO));
    assert_eq!(echo_round(&mut s, b"inetd"), b"inetd");
    let mut s = connect(root.at(CAT));
    assert_eq!(echo_round(&mut s, b"cat"), b"cat");
    assert_eq!(udp_ask(&udp_client(&root), root.at(TIME), b"").len(), 4);
    common::send_signal(child.id() as i32, libc::SIGTERM);
    child.wait().unwrap();

    root.xinetd_conf("", &internal("daytime", true));
    let d = Daemon::start(&root, &["-inetd_compat"]);
    assert!(d.log().contains("started with 4 services"), "{}", d.log());
    assert_eq!(read_all(connect(root.at(DAYTIME))).len(), 26);
    let mut s = connect(root.at(ECHO));
    assert_eq!(echo_round(&mut s, b"both"), b"both");
}

#[test]
fn ipv6_and_dual_stack() {
    let (Ok(a), Ok(b)) = (
        std::net::TcpListener::bind("[::1]:0"),
        std::net::TcpListener::bind("[::]:0"),
    ) else {
        return; // no IPv6 here
    };
    let (v6_port, dual_port) = (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    );
    drop((a, b));
    let root = TestRoot::new();
    root.write(
        "etc/inetd.conf",
        &format!("[::1]:{v6_port} stream tcp6 nowait root /bin/cat\n"),
    );
    root.xinetd_conf(
        "",
        &service(
            "echo",
            &format!(" type = INTERNAL UNLISTED\n port = {dual_port}\n bind = ::\n flags = IPv4 IPv6\n socket_type = stream\n wait = no\n"),
        ),
    );
    let d = Daemon::start(&root, &["-inetd_compat"]);
    assert!(d.log().contains("started with 2 services"), "{}", d.log());
    let mut six = connect(format!("[::1]:{v6_port}").parse().unwrap());
    assert_eq!(echo_round(&mut six, b"cat6"), b"cat6");
    let mut v6 = connect(format!("[::1]:{dual_port}").parse().unwrap());
    assert_eq!(echo_round(&mut v6, b"six"), b"six");
    let mut v4 = connect(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), dual_port));
    assert_eq!(echo_round(&mut v4, b"four"), b"four");
}

#[test]
fn daemon_mode_returns_once_serving() {
    let root = TestRoot::new();
    root.xinetd_conf("", &internal("echo", true));
    let log = root.path("xinetd.log");
    let status = Command::new(BIN)
        .args(["xinetd", "-filelog"])
        .arg(&log)
        .arg("--root")
        .arg(root.dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let pid: i32 = std::fs::read_to_string(root.path("run/xinetd.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut s = connect(root.at(ECHO));
    assert_eq!(echo_round(&mut s, b"bg"), b"bg");
    common::send_signal(pid, libc::SIGTERM);
    wait_for("the daemon to exit", || {
        !root.path("run/xinetd.pid").exists()
    });

    // A configuration that cannot be read: the starting command fails.
    std::fs::remove_file(root.path("etc/xinetd.conf")).unwrap();
    let out = Command::new(BIN)
        .args(["xinetd", "--root"])
        .arg(root.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

/// Runs `vinit xinetd --root ROOT ARGS` expecting it to exit by itself (it is killed,
/// and the test fails, if it still runs after 20 s); its status and stderr.
fn run_to_exit(root: &TestRoot, args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(BIN)
        .arg("xinetd")
        .arg("--root")
        .arg(root.dir.path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("vinit xinetd {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status, stderr)
}

/// A FIFO named by `include` is refused at once, not waited on for a writer: at start
/// (the superserver exits, saying why) and on a reload (the services in force stay).
#[test]
fn a_fifo_include_is_refused_without_waiting() {
    let root = TestRoot::new();
    let fifo = root.path("etc/fifo.conf");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let include = format!("include {}\n", fifo.display());
    root.xinetd_conf("", &(internal("echo", true) + &include));
    let (status, stderr) = run_to_exit(&root, &["-dontfork"]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("fifo.conf: not a regular file"), "{stderr}");

    root.xinetd_conf("", &internal("echo", true));
    let d = Daemon::start(&root, &[]);
    root.xinetd_conf("", &(internal("echo", true) + &include));
    d.reload();
    d.wait_log("reload failed, the current configuration stays in force");
    assert!(d.log().contains("fifo.conf: not a regular file"));
    let mut s = connect(root.at(ECHO));
    assert_eq!(echo_round(&mut s, b"still"), b"still");
}

/// The directory of libwrap.so.0, which Debian's xinetd is linked with.
fn libwrap_dir() -> PathBuf {
    let top = common::peer("libwrap0", "usr/lib");
    let mut dirs = vec![top.clone()];
    while let Some(dir) = dirs.pop() {
        if dir.join("libwrap.so.0").exists() {
            return dir;
        }
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.file_type().unwrap().is_dir() {
                dirs.push(entry.path());
            }
        }
    }
    panic!("no libwrap.so.0 below {}", top.display());
}

/// Debian's xinetd with `args`.
fn real_xinetd(args: &[&str]) -> Command {
    let mut command = Command::new(common::peer("xinetd", "usr/sbin/xinetd"));
    command
        .args(args)
        .env("LD_LIBRARY_PATH", libwrap_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Runs Debian's xinetd with `args` on a pseudo-terminal (its -d writes to /dev/tty),
/// expecting it to exit by itself within 20 s; its status and all it wrote.
fn real_xinetd_on_a_terminal(args: &[&str]) -> (std::process::ExitStatus, String) {
    use std::os::fd::FromRawFd;
    use std::os::unix::process::CommandExt;
    // SAFETY (this and the calls below): plain descriptors and a name buffer of the size
    // given; the master is owned by the File made below; the pre_exec hook calls only
    // async-signal-safe functions (setsid, open, ioctl, dup2, close).
    let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    assert!(master >= 0);
    let mut name = [0 as libc::c_char; 128];
    unsafe {
        assert_eq!(libc::grantpt(master), 0);
        assert_eq!(libc::unlockpt(master), 0);
        assert_eq!(libc::ptsname_r(master, name.as_mut_ptr(), name.len()), 0);
    }
    let mut master = unsafe { std::fs::File::from_raw_fd(master) };
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        // Ends with EIO once the terminal's last user is gone.
        let _ = master.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    });
    let mut command = real_xinetd(args);
    unsafe {
        command.pre_exec(move || {
            // A session of its own, with the terminal as its controlling one and as
            // its standard descriptors.
            libc::setsid();
            let tty = libc::open(name.as_ptr(), libc::O_RDWR);
            if tty < 0 || libc::ioctl(tty, libc::TIOCSCTTY, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            for fd in 0..3 {
                libc::dup2(tty, fd);
            }
            libc::close(tty);
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("xinetd {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status, reader.join().unwrap())
}

/// With nothing it can serve (here: no port, as the root has no etc/services), vinit's
/// xinetd exits with status 1 and says why, as Debian's does in the foreground (-d);
/// -dontfork, for supervisors, implies -stayalive in both. In the background, vinit's
/// starting command fails too (xinetd's has returned 0 before reading anything).
#[test]
fn with_nothing_to_serve_it_refuses_to_start_as_xinetd_does() {
    let root = TestRoot::new();
    std::fs::remove_file(root.path("etc/services")).unwrap();
    let conf = root.path("etc/xinetd.conf");
    let conf_text = format!(
        "service vinit-nosuch\n{{\n socket_type = stream\n wait = no\n user = root\n \
         server = /bin/cat\n bind = {}\n}}\n",
        root.addr
    );
    root.write("etc/xinetd.conf", &conf_text);
    let real_pidfile = root.path("run/real.pid");
    let real_args = |mode: &'static str| {
        vec![
            mode.to_string(),
            "-f".into(),
            conf.display().to_string(),
            "-pidfile".into(),
            real_pidfile.display().to_string(),
        ]
    };
    let args: Vec<String> = real_args("-d");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (status, said) = real_xinetd_on_a_terminal(&args);
    assert_eq!(status.code(), Some(1), "{said}");
    assert!(said.contains("can't find service: vinit-nosuch"), "{said}");
    assert!(said.contains("no services. Exiting..."), "{said}");

    let reason = "vinit-nosuch/tcp is not in etc/services";
    for mode in [&["-d"][..], &[][..]] {
        let (status, stderr) = run_to_exit(&root, mode);
        assert_eq!(status.code(), Some(1), "{mode:?}: {stderr}");
        assert!(stderr.contains(reason), "{mode:?}: {stderr}");
        assert!(
            stderr.contains("no service to run: 1 error (the first: "),
            "{mode:?}: {stderr}"
        );
        assert!(stderr.contains("; exiting (-stayalive keeps"), "{stderr}");
        assert!(!root.path("run/xinetd.pid").exists());
    }

    // In the background, xinetd's command succeeds; its daemon then gives up.
    let real_log = root.path("real.log");
    let mut args = real_args("-filelog");
    args.insert(1, real_log.display().to_string());
    let status = real_xinetd(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .status()
        .unwrap();
    assert!(status.success());
    wait_for("xinetd's daemon to give up", || {
        std::fs::read_to_string(&real_log).is_ok_and(|l| l.contains("no services. Exiting..."))
    });

    // -dontfork: both stay, with nothing to serve.
    std::fs::remove_file(&real_log).unwrap();
    let mut args = real_args("-dontfork");
    args.extend(["-filelog".to_string(), real_log.display().to_string()]);
    let mut real = real_xinetd(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .spawn()
        .unwrap();
    wait_for("xinetd to run with nothing", || {
        std::fs::read_to_string(&real_log)
            .is_ok_and(|l| l.contains("Started working: 0 available services"))
    });
    assert!(real.try_wait().unwrap().is_none());
    real.kill().unwrap();
    real.wait().unwrap();
    let d = Daemon::start(&root, &[]);
    d.wait_log("started with 0 services");
    assert!(d.log().contains(reason));
}

/// Without -stayalive, a reload that would leave nothing to serve is refused: the
/// services in force stay (xinetd would exit). With it, the reload applies.
#[test]
fn a_reload_to_nothing_keeps_the_services_unless_stayalive() {
    let root = TestRoot::new();
    root.xinetd_conf("", &internal("echo", true));
    let d = Daemon::start_in(&root, "-d", &[]);
    root.xinetd_conf(
        "",
        &service(
            "echo",
            " type = INTERNAL\n socket_type = stream\n wait = no\n disable = yes\n",
        ),
    );
    d.reload();
    d.wait_log(
        "reload failed, the current configuration stays in force: no service to run: 1 service switched off",
    );
    let mut s = connect(root.at(ECHO));
    assert_eq!(echo_round(&mut s, b"kept"), b"kept");
    drop((s, d));

    root.xinetd_conf("", &internal("echo", true));
    let d = Daemon::start(&root, &["-stayalive"]);
    root.xinetd_conf(
        "",
        &service(
            "echo",
            " type = INTERNAL\n socket_type = stream\n wait = no\n disable = yes\n",
        ),
    );
    d.reload();
    d.wait_log("reloaded: 0 services");
    assert!(TcpStream::connect(root.at(ECHO)).is_err());
}

/// The repository's example system in `root`: init.d/functions and init.d/xinetd,
/// xinetd.conf and xinetd.d (every service off). The example services listen on every
/// address: daytime gets a port found free (returned); the others stay off.
fn example_system(root: &TestRoot) -> u16 {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(root.path("etc/init.d")).unwrap();
    std::fs::create_dir_all(root.path("etc/default")).unwrap();
    for script in ["functions", "xinetd"] {
        std::fs::copy(
            repo.join("init.d").join(script),
            root.path(&format!("etc/init.d/{script}")),
        )
        .unwrap();
    }
    std::fs::copy(repo.join("xinetd.conf"), root.path("etc/xinetd.conf")).unwrap();
    for entry in std::fs::read_dir(repo.join("xinetd.d")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(
            entry.path(),
            root.path("etc/xinetd.d").join(entry.file_name()),
        )
        .unwrap();
    }
    let probe = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let services: String = ["echo", "discard", "chargen", "time"]
        .iter()
        .map(|s| format!("{s} 7/tcp\n{s} 7/udp\n"))
        .chain([format!("daytime {port}/tcp\ndaytime {port}/udp\n")])
        .collect();
    root.write("etc/services", &services);
    port
}

/// `etc/init.d/xinetd ACTION` of the example system in `root`.
fn init_script(root: &TestRoot, action: &str) -> std::process::Output {
    Command::new(root.path("etc/init.d/xinetd"))
        .arg(action)
        .env("VINIT_ROOT", root.dir.path())
        .env("VINIT", BIN)
        .env_remove("VINIT_RC")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Every example service is off: there is nothing to serve, and the init script says
/// so (the superserver refuses to start, as xinetd does without -stayalive).
#[test]
fn the_init_script_fails_when_there_is_nothing_to_serve() {
    let root = TestRoot::new();
    example_system(&root);
    let out = init_script(&root, "start");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.starts_with("Starting xinetd: [FAILED]"), "{stdout}");
    assert!(
        stderr.contains("error: no service to run: 10 services switched off"),
        "{stderr}"
    );
    assert_eq!(init_script(&root, "status").status.code(), Some(3));
    assert!(!root.path("run/xinetd.pid").exists());
    assert!(!root.path("var/lock/subsys/xinetd").exists());
}

#[test]
fn the_init_script_starts_reloads_and_stops_the_example_configuration() {
    let root = TestRoot::new();
    let port = example_system(&root);
    // As Debian ships it: the superserver runs even while every service is off.
    root.write("etc/default/xinetd", "XINETD_OPTS=-stayalive\n");
    let daytime = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
    let run = |action: &str| init_script(&root, action);

    // Stops the superserver even when an assertion below fails.
    struct Guard(PathBuf);
    impl Drop for Guard {
        fn drop(&mut self) {
            if let Some(pid) = std::fs::read_to_string(&self.0)
                .ok()
                .and_then(|p| p.trim().parse().ok())
            {
                common::send_signal(pid, libc::SIGKILL);
            }
        }
    }
    let _guard = Guard(root.path("run/xinetd.pid"));
    let out = run("start");
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Starting xinetd: [  OK  ]"));
    let out = run("status");
    assert_eq!(out.status.code(), Some(0));
    let pid = std::fs::read_to_string(root.path("run/xinetd.pid")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("xinetd (pid {}) is running...\n", pid.trim())
    );
    assert!(
        TcpStream::connect(daytime).is_err(),
        "daytime is off in the example"
    );

    // chkconfig daytime-stream on: the `disable` line, then a reload.
    let file = root.path("etc/xinetd.d/daytime-stream");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("disable     = yes", "disable     = no")).unwrap();
    let out = run("reload");
    assert!(out.status.success(), "{out:?}");
    let mut answer = Vec::new();
    wait_for("daytime after the reload", || {
        match TcpStream::connect(daytime) {
            Ok(s) => {
                answer = read_all(s);
                true
            }
            Err(_) => false,
        }
    });
    assert_eq!(answer.len(), 26);
    assert!(run("check").status.success());

    let out = run("stop");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(run("status").status.code(), Some(3));
    assert!(TcpStream::connect(daytime).is_err());
}

/// A small deterministic generator for the reload fuzz test.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A valid service (internal or a program), then a few attributes set to random values,
/// good or bad; now and then a file that does not parse at all.
fn random_service(rng: &mut Rng, root: &TestRoot) -> String {
    let addr = root.addr.to_string();
    let log = format!("FILE {}", root.path("svc.log").display());
    let pool: Vec<(&str, Vec<&str>)> = vec![
        ("socket_type", vec!["stream", "dgram", "raw"]),
        ("wait", vec!["yes", "no", "maybe"]),
        (
            "type",
            vec!["INTERNAL UNLISTED", "UNLISTED", "INTERNAL", "RPC"],
        ),
        ("port", vec!["20501", "20502", "20503", "0", "99999"]),
        (
            "bind",
            vec![&addr, &addr, "::1", "10.255.255.1", "no.such.host.invalid"],
        ),
        ("user", vec!["root", "nobody", "no-such-user"]),
        (
            "server",
            vec!["/bin/cat", "/bin/true", "/no/such/program", "cat"],
        ),
        (
            "only_from",
            vec!["127.0.0.0/8", "10.0.0.0", "", "1.2.3.{4,5}", "999.1.1.1"],
        ),
        ("no_access", vec!["127.0.0.1", "::1/128"]),
        ("instances", vec!["1", "UNLIMITED", "-3"]),
        ("per_source", vec!["2", "UNLIMITED"]),
        ("cps", vec!["1 1", "100 2", "x y"]),
        ("flags", vec!["IPv6", "NODELAY KEEPALIVE", "REUSE", "BOGUS"]),
        ("log_type", vec![&log, "SYSLOG daemon", "FILE relative.log"]),
        (
            "log_on_success",
            vec!["PID HOST EXIT DURATION", "USERID", "NONSENSE"],
        ),
        ("env", vec!["A=b", "BROKEN"]),
        ("passenv", vec!["PATH", ""]),
        ("disable", vec!["no", "no", "yes"]),
        ("v6only", vec!["yes", "no"]),
    ];
    let port = rng.pick(&["20501", "20502", "20503"]);
    let (name, mut attrs): (&str, Vec<(&str, String)>) = match rng.below(3) {
        0 => (
            rng.pick(&["echo", "daytime", "chargen", "discard", "time"]),
            vec![
                ("type", "INTERNAL UNLISTED".into()),
                ("socket_type", "stream".into()),
                ("wait", "no".into()),
            ],
        ),
        1 => (
            rng.pick(&["echo", "daytime", "time"]),
            vec![
                ("type", "INTERNAL UNLISTED".into()),
                ("socket_type", "dgram".into()),
                ("wait", "yes".into()),
            ],
        ),
        _ => (
            "cat",
            vec![
                ("type", "UNLISTED".into()),
                ("socket_type", "stream".into()),
                ("wait", "no".into()),
                ("user", "root".into()),
                ("server", "/bin/cat".into()),
            ],
        ),
    };
    attrs.push(("port", port.into()));
    attrs.push(("bind", addr.clone()));
    for _ in 0..rng.below(4) {
        let (attr, values) = &pool[rng.below(pool.len())];
        let value = values[rng.below(values.len())].to_string();
        match attrs.iter_mut().find(|(a, _)| a == attr) {
            Some(slot) => slot.1 = value,
            None => attrs.push((attr, value)),
        }
    }
    let mut body = format!(" id = {name}{}\n", rng.below(4));
    for (attr, value) in &attrs {
        body.push_str(&format!(" {attr} = {value}\n"));
    }
    let block = service(name, &body);
    match rng.below(12) {
        0 => block.replace('}', ""),
        1 => format!("}}\n{block}"),
        _ => block,
    }
}

#[test]
fn reload_survives_random_configurations_and_leaks_nothing() {
    let root = TestRoot::new();
    let sentinel = 20500;
    root.xinetd_conf(
        "",
        &service(
            "echo",
            &format!(" id = sentinel\n type = INTERNAL UNLISTED\n port = {sentinel}\n socket_type = stream\n wait = no\n"),
        ),
    );
    let mut d = Daemon::start(&root, &[]);
    d.reload();
    let baseline = d.fds();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id()));
    let dir = root.path("etc/xinetd.d");
    // A file past the size limit: a configuration with a link to it is refused whole.
    let big = root.path("big");
    std::fs::File::create(&big)
        .unwrap()
        .set_len((4 << 20) + 1)
        .unwrap();
    for round in 0..60 {
        for entry in std::fs::read_dir(&dir).unwrap() {
            std::fs::remove_file(entry.unwrap().path()).unwrap();
        }
        for file in 0..rng.below(4) {
            let text: String = (0..rng.below(3) + 1)
                .map(|_| random_service(&mut rng, &root))
                .collect();
            std::fs::write(dir.join(format!("random{file}")), text).unwrap();
        }
        let broken = rng.below(8) == 0;
        if broken {
            // Named to be read first: a random file may be broken too, and the first
            // error is the one reported.
            std::os::unix::fs::symlink(&big, dir.join("0-toobig")).unwrap();
        }
        let refused = d.count("reload failed");
        d.reload();
        assert!(
            d.child.try_wait().unwrap().is_none(),
            "round {round}: the superserver died\n{}",
            d.log()
        );
        if broken {
            assert!(d.count("reload failed") > refused, "round {round}");
            assert!(
                d.log().contains("0-toobig: larger than 4194304 bytes"),
                "{}",
                d.log()
            );
        }
        let mut s = connect(root.at(sentinel));
        assert_eq!(echo_round(&mut s, b"alive"), b"alive", "round {round}");
        // Whatever came up answers or refuses, but never hangs the loop.
        for port in 20501..=20503 {
            if let Ok(s) = TcpStream::connect_timeout(&root.at(port), Duration::from_secs(5)) {
                s.set_read_timeout(Some(Duration::from_millis(200)))
                    .unwrap();
                let _ = (&s).write_all(b"x\n");
                let _ = s.shutdown(Shutdown::Write);
                let mut buf = [0u8; 64];
                let _ = (&s).read(&mut buf);
            }
        }
    }
    for entry in std::fs::read_dir(&dir).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    d.reload();
    wait_for("the random servers to finish", || {
        std::fs::read_to_string(format!("/proc/{}/task/{}/children", d.pid, d.pid))
            .map_or(true, |c| c.trim().is_empty())
    });
    assert_eq!(d.fds(), baseline);
}

#[test]
fn service_lines_follow_log_on_success_failure_and_log_type() {
    let root = TestRoot::new();
    let svc_log = root.path("services.log");
    root.xinetd_conf(
        &format!(" log_type = FILE {}\n", svc_log.display()),
        &(service(
            "echo",
            " type = INTERNAL\n socket_type = stream\n wait = no\n log_on_success = PID HOST EXIT DURATION TRAFFIC\n",
        ) + &service(
            "cat",
            " socket_type = stream\n wait = no\n user = root\n server = /bin/cat\n only_from = 10.0.0.0/8\n log_on_failure = HOST ATTEMPT\n",
        ) + &service(
            "daytime",
            " type = INTERNAL\n socket_type = stream\n wait = no\n only_from = 10.0.0.0/8\n log_on_failure =\n",
        )),
    );
    let d = Daemon::start(&root, &[]);
    let mut s = connect_from(root.addr, root.at(ECHO));
    assert_eq!(echo_round(&mut s, b"logged"), b"logged");
    s.shutdown(Shutdown::Write).unwrap();
    assert!(read_all(s).is_empty());
    assert!(read_all(connect_from(root.addr, root.at(CAT))).is_empty());
    assert!(read_all(connect_from(root.addr, root.at(DAYTIME))).is_empty());
    let text = || std::fs::read_to_string(&svc_log).unwrap_or_default();
    wait_for("the lines", || {
        text().contains("EXIT: echo") && text().contains("FAIL: cat")
    });
    let a = root.addr;
    let text = text();
    assert!(
        text.contains(&format!("START: echo pid=0 from={a}\n")),
        "{text}"
    );
    let exit = text.lines().find(|l| l.contains("EXIT: echo")).unwrap();
    assert!(
        exit.contains("EXIT: echo status=0 pid=0 duration=") && exit.ends_with("(sec) in=6 out=6"),
        "{exit}"
    );
    assert!(
        text.contains(&format!("FAIL: cat address not in only_from from={a}\n")),
        "{text}"
    );
    // daytime logs no failure (log_on_failure is empty); nothing reaches the main log.
    assert!(!text.contains("daytime"), "{text}");
    assert!(
        !d.log().contains("START") && !d.log().contains("FAIL"),
        "{}",
        d.log()
    );
}
