//! syslogd and logger end to end: real processes, a temporary root, real sockets.

mod common;

use std::collections::HashMap;
use std::io::Read;
use std::net::UdpSocket;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_vinit");

/// Polls `cond` for up to 20 s.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn read(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

struct Syslogd {
    child: Option<Child>,
    root: PathBuf,
}

impl Syslogd {
    /// Starts `syslogd -n` on `root` with `conf` (None: no syslog.conf) and waits until
    /// it listens.
    fn start(root: &Path, conf: Option<&str>, extra: &[&str]) -> Syslogd {
        Syslogd::start_with(root, conf, extra, |_| {})
    }

    /// [`Syslogd::start`], with the command adjusted by `adjust` first.
    fn start_with(
        root: &Path,
        conf: Option<&str>,
        extra: &[&str],
        adjust: impl FnOnce(&mut Command),
    ) -> Syslogd {
        std::fs::create_dir_all(root.join("etc")).unwrap();
        if let Some(conf) = conf {
            std::fs::write(root.join("etc/syslog.conf"), conf).unwrap();
        }
        let mut command = Command::new(BIN);
        command
            .args(["syslogd", "-n", "--root"])
            .arg(root)
            .args(extra)
            .stderr(Stdio::piped());
        adjust(&mut command);
        let child = command.spawn().unwrap();
        let log = root.join("dev/log");
        wait_for("syslogd to listen", || {
            UnixDatagram::unbound().unwrap().connect(&log).is_ok()
        });
        Syslogd {
            child: Some(child),
            root: root.to_path_buf(),
        }
    }

    fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    fn signal(&self, sig: i32) {
        common::send_signal(self.pid(), sig);
    }

    /// SIGTERM, then waits; returns the status and what it printed on stderr.
    fn stop(mut self) -> (ExitStatus, String) {
        self.signal(libc::SIGTERM);
        let mut child = self.child.take().unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (child.wait().unwrap(), err)
    }

    fn logger(&self, args: &[&str]) -> Output {
        logger(&self.root, args)
    }
}

impl Drop for Syslogd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn logger(root: &Path, args: &[&str]) -> Output {
    let out = Command::new(BIN)
        .args(["logger", "--root"])
        .arg(root)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "logger {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The texts logged with tag `t` in a file, in order.
fn texts(path: &Path) -> Vec<String> {
    read(path)
        .lines()
        .filter_map(|l| l.split_once(" t: ").map(|(_, m)| m.to_string()))
        .collect()
}

#[test]
fn every_selector_form_routes_to_its_file() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    let conf = format!(
        "# one file per selector form\n\
         mail.info                     {r}/threshold.log\n\
         *.info;mail.none              {r}/star-none.log\n\
         mail.=warning                 {r}/only.log\n\
         mail.*;mail.!err              {r}/below-err.log\n\
         *.*;*.!=debug                 -{r}/not-debug.log\n\
         auth,authpriv.notice          {r}/list.log\n\
         local0.*;\\\n   local1.crit   {r}/continued.log\n",
        r = r.display()
    );
    let d = Syslogd::start(r, Some(&conf), &["--no-pidfile"]);
    let sent = [
        "mail.debug",
        "mail.info",
        "mail.warning",
        "mail.err",
        "mail.emerg",
        "user.debug",
        "user.info",
        "auth.info",
        "auth.notice",
        "authpriv.crit",
        "local0.debug",
        "local1.err",
        "local1.crit",
    ];
    for pri in sent {
        d.logger(&["-p", pri, "-t", "t", pri]);
    }
    let (status, _) = d.stop();
    assert!(status.success());
    let expect: HashMap<&str, Vec<&str>> = HashMap::from([
        (
            "threshold",
            vec!["mail.info", "mail.warning", "mail.err", "mail.emerg"],
        ),
        (
            "star-none",
            vec![
                "user.info",
                "auth.info",
                "auth.notice",
                "authpriv.crit",
                "local1.err",
                "local1.crit",
            ],
        ),
        ("only", vec!["mail.warning"]),
        ("below-err", vec!["mail.debug", "mail.info", "mail.warning"]),
        (
            "not-debug",
            vec![
                "mail.info",
                "mail.warning",
                "mail.err",
                "mail.emerg",
                "user.info",
                "auth.info",
                "auth.notice",
                "authpriv.crit",
                "local1.err",
                "local1.crit",
            ],
        ),
        ("list", vec!["auth.notice", "authpriv.crit"]),
        ("continued", vec!["local0.debug", "local1.crit"]),
    ]);
    for (file, want) in expect {
        assert_eq!(texts(&r.join(format!("{file}.log"))), want, "{file}.log");
    }
}

#[test]
fn embedded_default_writes_below_the_root() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    let d = Syslogd::start(r, None, &[]);
    wait_for("the pidfile", || r.join("run/syslogd.pid").exists());
    d.logger(&["-p", "daemon.info", "-t", "t", "to messages"]);
    d.logger(&["-p", "mail.info", "-t", "t", "to maillog"]);
    d.logger(&["-p", "authpriv.info", "-t", "t", "to secure"]);
    d.logger(&["-p", "cron.info", "-t", "t", "to cron"]);
    assert!(d.stop().0.success());
    assert_eq!(texts(&r.join("var/log/messages")), ["to messages"]);
    assert_eq!(texts(&r.join("var/log/maillog")), ["to maillog"]);
    assert_eq!(texts(&r.join("var/log/secure")), ["to secure"]);
    assert_eq!(texts(&r.join("var/log/cron")), ["to cron"]);
    assert!(!r.join("dev/log").exists(), "the socket is removed at exit");
    assert!(!r.join("run/syslogd.pid").exists(), "so is the pidfile");
}

#[test]
fn bad_config_lines_are_reported_with_file_and_line_and_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    let conf = format!(
        "mail.info {r}/ok.log\nbogus.info {r}/x.log\nmail.loud {r}/y.log\n*.* @@tcp\nuser.*;syslog.* {r}/ok.log\n",
        r = r.display()
    );
    let d = Syslogd::start(r, Some(&conf), &["--no-pidfile"]);
    d.logger(&["-p", "user.info", "-t", "t", "still works"]);
    let (status, stderr) = d.stop();
    assert!(status.success());
    let conf_path = r.join("etc/syslog.conf");
    for (line, what) in [
        (2, "unknown facility \"bogus\""),
        (3, "unknown level \"loud\""),
        (4, "TCP"),
    ] {
        let prefix = format!("syslogd: {}:{line}: ", conf_path.display());
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&prefix) && l.contains(what)),
            "line {line} in:\n{stderr}"
        );
    }
    let log = read(&r.join("ok.log"));
    assert!(log.contains(" t: still works"));
    // The problems are in the log too, as syslogd's own messages.
    assert!(log.contains("syslogd[") && log.contains(":2: unknown facility"));
}

#[test]
fn malformed_messages_are_kept_with_the_default_priority() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    let conf = format!(
        "*.* {r}/all.log\nuser.=notice {r}/notice.log\n",
        r = r.display()
    );
    let d = Syslogd::start(r, Some(&conf), &["--no-pidfile"]);
    let sock = UnixDatagram::unbound().unwrap();
    sock.connect(r.join("dev/log")).unwrap();
    let datagrams: [&[u8]; 7] = [
        b"no priority at all",
        b"<999>priority too big",
        b"<13>1 2024-01-01T00:00:00Z host app 12 - [x a=\"b\\]\"] five four two four",
        b"<14>Nov  1 00:00:00 tag[5]: classic",
        b"<13>multi\nline\x01",
        b"<0>kern from userspace",
        b"\xff\xfe binary \x00 inside\n",
    ];
    for d in datagrams {
        sock.send(d).unwrap();
    }
    assert!(d.stop().0.success());
    let all = read(&r.join("all.log"));
    for want in [
        " no priority at all\n",
        " <999>priority too big\n",
        " app[12]: [x a=\"b\\]\"] five four two four\n",
        " tag[5]: classic\n",
        " multi#012line#001\n",
        " kern from userspace\n",
        " binary #000 inside\n",
    ] {
        assert!(all.contains(want), "{want:?} in:\n{all}");
    }
    let notice = read(&r.join("notice.log"));
    assert!(notice.contains("no priority at all") && notice.contains("<999>priority too big"));
    assert_eq!(
        all.lines().count(),
        9,
        "7 messages, the start and exit lines:\n{all}"
    );
}

#[test]
fn forwarding_and_receiving_over_loopback_udp() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    // The test is the remote syslogd of the forwarding rule.
    let collector = UdpSocket::bind("127.0.0.1:0").unwrap();
    collector
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let collector_port = collector.local_addr().unwrap().port();
    let listen_port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = format!(
        "local5.* @127.0.0.1:{collector_port}\n*.* {r}/remote.log\n",
        r = r.display()
    );
    let listen = format!("127.0.0.1:{listen_port}");
    let d = Syslogd::start(r, Some(&conf), &["--no-pidfile", "--udp", &listen]);
    // Received from the network: RFC 5424 (logger's default to a server) and RFC 3164.
    let port = listen_port.to_string();
    logger(
        r,
        &[
            "-n",
            "127.0.0.1",
            "-P",
            &port,
            "-p",
            "local5.info",
            // (Without the timeQuality element logger adds, as util-linux's does.)
            "--rfc5424=notq",
            "-t",
            "t",
            "rfc5424 over udp",
        ],
    );
    logger(
        r,
        &[
            "-n",
            "127.0.0.1",
            "-P",
            &port,
            "--rfc3164",
            "-t",
            "t",
            "rfc3164 over udp",
        ],
    );
    wait_for("both network messages", || {
        texts(&r.join("remote.log")).len() == 2
    });
    // Remote messages are not forwarded again (no -h): the first datagram the collector
    // gets is the local one.
    d.logger(&["-p", "local5.warning", "-t", "fw", "forward me"]);
    let mut buf = [0u8; 2048];
    let n = collector.recv(&mut buf).unwrap();
    let got = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(got.starts_with("<172>"), "{got}");
    assert!(got.ends_with(" fw: forward me"), "{got}");
    assert!(d.stop().0.success());
    let remote = read(&r.join("remote.log"));
    let host = hostname();
    assert!(
        remote.contains(&format!(" {host} t: rfc5424 over udp")),
        "{remote}"
    );
    assert!(
        remote.contains(&format!(" {host} t: rfc3164 over udp")),
        "{remote}"
    );
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .unwrap()
        .to_string_lossy()
        .split('.')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn fifo_action_writes_when_a_reader_is_there() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    let fifo = r.join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let mut reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let conf = format!("user.* |{}\n", fifo.display());
    let d = Syslogd::start(r, Some(&conf), &["--no-pidfile"]);
    d.logger(&["-t", "t", "through the pipe"]);
    let mut got = Vec::new();
    wait_for("the FIFO line", || {
        let mut buf = [0u8; 4096];
        if let Ok(n) = reader.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&got).contains(" t: through the pipe\n")
    });
    assert!(d.stop().0.success());
}

/// A log path another user could redirect is refused (as root, syslogd would otherwise
/// append to whatever file a planted link names); a link is followed only when the
/// action ends in `;follow-symlinks`.
#[test]
fn log_files_are_not_written_through_links_or_in_directories_of_others() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    let secret = r.join("secret");
    std::fs::write(&secret, "precious\n").unwrap();
    // A log directory that belongs to a user, who planted a link in it.
    let theirs = r.join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    symlink(&secret, theirs.join("app.log")).unwrap();
    std::os::unix::fs::chown(&theirs, Some(4242), Some(4242)).expect("chown needs root");
    // A directory everyone may write to.
    let open = r.join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    // Links root made in root's own directory: followed only when asked.
    let logs = r.join("logs");
    std::fs::create_dir(&logs).unwrap();
    symlink("real.log", logs.join("current.log")).unwrap();
    symlink("target.log", logs.join("followed.log")).unwrap();
    let conf = format!(
        "syslog.* {r}/problems.log\n\
         local0.* {r}/theirs/app.log\n\
         local0.* {r}/open/x.log\n\
         local0.* {r}/logs/current.log\n\
         local0.* -{r}/logs/followed.log;follow-symlinks\n\
         local0.* |{r}/theirs/app.log\n",
        r = r.display()
    );
    let d = Syslogd::start(r, Some(&conf), &["--no-pidfile"]);
    d.logger(&["-p", "local0.info", "-t", "t", "hello"]);
    let (status, stderr) = d.stop();
    assert!(status.success());
    assert_eq!(read(&secret), "precious\n");
    assert!(!open.join("x.log").exists());
    assert!(!logs.join("real.log").exists());
    assert_eq!(texts(&logs.join("target.log")), ["hello"]);
    let problems = read(&r.join("problems.log"));
    for what in [
        "theirs/app.log: the directory",
        "belongs to uid 4242",
        "open/x.log: the directory",
        "is writable by others (mode 0777",
        "current.log is a symbolic link (end the action with ;follow-symlinks",
    ] {
        assert!(problems.contains(what), "{what} in:\n{problems}");
        assert!(stderr.contains(what), "{what} on stderr:\n{stderr}");
    }
}

/// A pseudo-terminal in raw mode: its master (to read what is written to the terminal),
/// the terminal's path, and the terminal itself, held open so that its mode stays.
struct Pty {
    master: std::fs::File,
    path: String,
    _slave: std::fs::File,
}

impl Pty {
    fn open() -> Pty {
        use std::os::fd::{AsRawFd, FromRawFd};
        // SAFETY (this and the calls below): plain descriptors and buffers of the sizes
        // given; the master is owned by the File made at the end.
        let master =
            unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK) };
        assert!(master >= 0);
        let mut name = [0 as libc::c_char; 128];
        unsafe {
            assert_eq!(libc::grantpt(master), 0);
            assert_eq!(libc::unlockpt(master), 0);
            assert_eq!(libc::ptsname_r(master, name.as_mut_ptr(), name.len()), 0);
        }
        let path = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(&path)
            .unwrap();
        // Raw output: what is written to the terminal is what the master reads.
        let mut tio: libc::termios = unsafe { std::mem::zeroed() };
        unsafe {
            libc::tcgetattr(slave.as_raw_fd(), &mut tio);
            libc::cfmakeraw(&mut tio);
            libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &tio);
        }
        Pty {
            master: unsafe { std::fs::File::from_raw_fd(master) },
            path,
            _slave: slave,
        }
    }

    /// Everything written to the terminal so far.
    fn output(&mut self) -> String {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.master.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&got).into_owned()
    }
}

#[test]
fn users_action_writes_to_logged_in_terminals_and_nothing_else() {
    use vinit::format::utmp::{UtmpRecord, USER_PROCESS};
    let encode_login = |user: &str, line: &str, pid: i32| {
        UtmpRecord {
            kind: USER_PROCESS,
            pid,
            line: line.into(),
            user: user.into(),
            ..Default::default()
        }
        .encode()
    };
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir_all(r.join("run")).unwrap();
    std::fs::create_dir_all(r.join("dev/pts")).unwrap();
    // dev/pts/1 and 2 of the root are two real terminals; dev/pts/3 is a plain file,
    // dev/disk a device that is not a terminal.
    let (mut alice_tty, mut bob_tty) = (Pty::open(), Pty::open());
    std::os::unix::fs::symlink(&alice_tty.path, r.join("dev/pts/1")).unwrap();
    std::os::unix::fs::symlink(&bob_tty.path, r.join("dev/pts/2")).unwrap();
    std::fs::write(r.join("dev/pts/3"), "").unwrap();
    std::os::unix::fs::symlink("/dev/null", r.join("dev/disk")).unwrap();
    let mut utmp = encode_login("alice", "pts/1", 100).to_vec();
    utmp.extend_from_slice(&encode_login("bob", "pts/2", 101));
    utmp.extend_from_slice(&encode_login("carol", "pts/3", 102));
    utmp.extend_from_slice(&encode_login("dave", "disk", 103));
    utmp.extend_from_slice(&encode_login("mallory", "../../etc/evil", 104));
    std::fs::write(r.join("run/utmp"), utmp).unwrap();
    let d = Syslogd::start(
        r,
        Some("*.emerg *\nlocal1.* bob\nlocal2.* carol\n"),
        &["--no-pidfile"],
    );
    d.logger(&["-p", "user.emerg", "-t", "t", "everyone"]);
    d.logger(&["-p", "local1.info", "-t", "t", "bob only"]);
    d.logger(&["-p", "local2.info", "-t", "t", "carol only"]);
    assert!(d.stop().0.success());
    let alice = alice_tty.output();
    let bob = bob_tty.output();
    assert!(
        alice.contains("Message from syslogd@") && alice.contains("t: everyone\r\n"),
        "{alice:?}"
    );
    assert!(!alice.contains("bob only"));
    assert!(
        bob.contains("t: everyone") && bob.contains("t: bob only"),
        "{bob:?}"
    );
    assert_eq!(
        read(&r.join("dev/pts/3")),
        "",
        "not a terminal: never written"
    );
    assert!(!tmp.path().join("etc/evil").exists());
}

#[test]
fn terminal_action_gets_crlf_lines() {
    let mut tty = Pty::open();
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    let conf = format!("user.* {}\n", tty.path);
    let d = Syslogd::start(r, Some(&conf), &["--no-pidfile"]);
    d.logger(&["-t", "t", "on the console"]);
    let mut got = String::new();
    wait_for("the terminal line", || {
        got.push_str(&tty.output());
        got.contains(" t: on the console\r\n")
    });
    assert!(d.stop().0.success());
}

#[test]
fn sighup_rotation_under_a_running_writer_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().to_path_buf();
    let live = r.join("live.log");
    let d = Syslogd::start(
        &r,
        Some(&format!("local2.* -{}\n", live.display())),
        &["--no-pidfile"],
    );
    // The writer runs until every rotation is done, so each one happens under load.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let socket_path = r.join("dev/log");
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let sock = UnixDatagram::unbound().unwrap();
            sock.connect(&socket_path).unwrap();
            let mut sent = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Blocking sends: a full queue makes the writer wait, as glibc's syslog() does.
                sock.send(format!("<146>Jan  1 00:00:00 w: msg-{sent}").as_bytes())
                    .unwrap();
                sent += 1;
            }
            sent
        })
    };
    let mut rotated = Vec::new();
    for k in 0..6 {
        wait_for("lines in the live file", || {
            std::fs::metadata(&live).is_ok_and(|m| m.len() > 0)
        });
        let old = r.join(format!("live.log.{k}"));
        std::fs::rename(&live, &old).unwrap();
        rotated.push(old);
        d.signal(libc::SIGHUP);
        wait_for("the reopened file", || live.exists());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let count = writer.join().unwrap();
    assert!(d.stop().0.success());
    rotated.push(live);
    let non_empty = rotated.iter().filter(|f| !read(f).is_empty()).count();
    assert!(non_empty >= 6, "every rotated file got lines");
    let mut seen = vec![0u32; count];
    for file in &rotated {
        for line in read(file).lines() {
            if let Some((_, n)) = line.split_once(" w: msg-") {
                seen[n.parse::<usize>().unwrap()] += 1;
            }
        }
    }
    let missing: Vec<usize> = (0..count).filter(|&i| seen[i] == 0).collect();
    let doubled: Vec<usize> = (0..count).filter(|&i| seen[i] > 1).collect();
    assert!(
        missing.is_empty(),
        "{} lost, first {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(doubled.is_empty(), "duplicated: {doubled:?}");
}

#[test]
fn sighup_reloads_the_configuration_and_keeps_it_when_unreadable() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    let conf = r.join("etc/syslog.conf");
    let d = Syslogd::start(
        r,
        Some(&format!("*.* {}/first.log\n", r.display())),
        &["--no-pidfile"],
    );
    d.logger(&["-t", "t", "one"]);
    std::fs::write(&conf, format!("*.* {}/second.log\n", r.display())).unwrap();
    d.signal(libc::SIGHUP);
    wait_for("the new file", || r.join("second.log").exists());
    d.logger(&["-t", "t", "two"]);
    // An unreadable configuration (a directory here) leaves the running one in force.
    std::fs::remove_file(&conf).unwrap();
    std::fs::create_dir(&conf).unwrap();
    d.signal(libc::SIGHUP);
    wait_for("the reload attempt", || {
        read(&r.join("second.log")).contains("not reloaded")
    });
    d.logger(&["-t", "t", "three"]);
    assert!(d.stop().0.success());
    assert_eq!(texts(&r.join("first.log")), ["one"]);
    assert_eq!(texts(&r.join("second.log")), ["two", "three"]);
}

/// A reload closes the files before it opens them again: with both sets open at once,
/// a syslogd with many files runs out of descriptors and loses messages.
#[test]
fn sighup_closes_the_old_files_before_opening_the_new_ones() {
    use std::os::unix::process::CommandExt;
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    let files: Vec<PathBuf> = (0..25).map(|i| r.join(format!("f{i:02}.log"))).collect();
    let conf: String = files
        .iter()
        .map(|f| format!("*.* -{}\n", f.display()))
        .collect();
    // Room for one set of files and a few descriptors more, not for two sets.
    // SAFETY: the hook only calls setrlimit, which is async-signal-safe.
    let d = Syslogd::start_with(r, Some(&conf), &["--no-pidfile"], |command| unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 40,
                rlim_max: 40,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    });
    d.logger(&["-t", "t", "before"]);
    d.signal(libc::SIGHUP);
    wait_for("the reload in every file", || {
        files
            .iter()
            .all(|f| read(f).contains("syslogd[") && read(f).contains(": restart"))
    });
    d.logger(&["-t", "t", "after"]);
    let (status, stderr) = d.stop();
    assert!(status.success());
    assert!(!stderr.contains("Too many open files"), "{stderr}");
    for f in &files {
        assert_eq!(texts(f), ["before", "after"], "{}", f.display());
    }
}

/// syslogd's own messages are cut like received ones, and a flood of problems is
/// reported up to a count: a configuration quoting long words in many bad lines cannot
/// make syslogd write without bound.
#[test]
fn own_messages_are_cut_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    let log = r.join("all.log");
    let mut conf = format!("*.* {}\n{}.info /x\n", log.display(), "a".repeat(200_000));
    for _ in 0..150 {
        conf.push_str("bogus.info /x\n");
    }
    let d = Syslogd::start(r, Some(&conf), &["--no-pidfile"]);
    let (status, stderr) = d.stop();
    assert!(status.success());
    let written = read(&log);
    let longest = written.lines().map(str::len).max().unwrap();
    assert!(longest < 8192 + 200, "a line of {longest} bytes");
    assert!(written.contains("unknown facility \"aaaa"));
    assert_eq!(written.matches("unknown facility").count(), 100);
    assert!(written
        .lines()
        .any(|l| l.ends_with("]: 51 more problems not shown")));
    assert!(stderr.lines().all(|l| l.len() < 8192 + 100));
    assert_eq!(stderr.matches("unknown facility").count(), 100);
}

/// A syslog.conf that is gone at a reload is reported, and the configuration in force
/// stays (rather than the embedded default taking over).
#[test]
fn sighup_keeps_the_configuration_when_the_file_is_gone() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    let log = r.join("first.log");
    let d = Syslogd::start(
        r,
        Some(&format!("*.* {}\n", log.display())),
        &["--no-pidfile"],
    );
    d.logger(&["-t", "t", "one"]);
    std::fs::remove_file(r.join("etc/syslog.conf")).unwrap();
    d.signal(libc::SIGHUP);
    wait_for("the refused reload", || read(&log).contains("not reloaded"));
    d.logger(&["-t", "t", "two"]);
    assert!(d.stop().0.success());
    assert!(read(&log).contains("syslog.conf: No such file or directory"));
    assert_eq!(texts(&log), ["one", "two"]);
    assert!(!r.join("var/log/messages").exists(), "not the default");
}

/// A FIFO in place of syslog.conf is refused, never waited on: at start it is an error,
/// on a reload the configuration in force stays.
#[test]
fn a_fifo_syslog_conf_is_refused_without_waiting() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    let conf = r.join("etc/syslog.conf");
    std::fs::create_dir_all(r.join("etc")).unwrap();
    nix::unistd::mkfifo(&conf, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let (status, stderr) = run_to_exit(r, &["--no-pidfile"]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("syslog.conf: not a regular file"),
        "{stderr}"
    );
    assert!(!r.join("dev/log").exists());

    std::fs::remove_file(&conf).unwrap();
    let log = r.join("first.log");
    let d = Syslogd::start(
        r,
        Some(&format!("*.* {}\n", log.display())),
        &["--no-pidfile"],
    );
    d.logger(&["-t", "t", "one"]);
    std::fs::remove_file(&conf).unwrap();
    nix::unistd::mkfifo(&conf, nix::sys::stat::Mode::S_IRWXU).unwrap();
    d.signal(libc::SIGHUP);
    wait_for("the refused reload", || read(&log).contains("not reloaded"));
    d.logger(&["-t", "t", "two"]);
    assert!(d.stop().0.success());
    assert!(read(&log).contains("syslog.conf: not a regular file"));
    assert_eq!(texts(&log), ["one", "two"]);
}

/// Every read is bounded: a syslog.conf past the size limit is refused at start, and a
/// utmp that is not a regular file (a FIFO would stop syslogd, /dev/zero never end) is
/// not read for `*`.
#[test]
fn oversized_or_endless_files_are_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir_all(r.join("etc")).unwrap();
    let conf = r.join("etc/syslog.conf");
    std::fs::File::create(&conf)
        .unwrap()
        .set_len((4 << 20) + 1)
        .unwrap();
    let (status, stderr) = run_to_exit(r, &["--no-pidfile"]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("syslog.conf: larger than 4194304 bytes"),
        "{stderr}"
    );

    std::fs::create_dir_all(r.join("run")).unwrap();
    nix::unistd::mkfifo(&r.join("run/utmp"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    let log = r.join("all.log");
    let d = Syslogd::start(
        r,
        Some(&format!("*.emerg *\n*.* {}\n", log.display())),
        &["--no-pidfile"],
    );
    d.logger(&["-p", "user.emerg", "-t", "t", "to everyone"]);
    d.logger(&["-t", "t", "after"]);
    wait_for("the message after the wall", || {
        texts(&log).contains(&"after".to_string())
    });
    assert!(d.stop().0.success());
}

/// Runs `vinit syslogd -n --root ROOT ARGS` expecting it to exit by itself (it is
/// killed, and the test fails, if it still runs after 20 s); its status and stderr.
fn run_to_exit(root: &Path, args: &[&str]) -> (ExitStatus, String) {
    let child = Command::new(BIN)
        .args(["syslogd", "-n", "--root"])
        .arg(root)
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut daemon = Syslogd {
        child: Some(child),
        root: root.to_path_buf(),
    };
    let child = daemon.child.as_mut().unwrap();
    wait_for("syslogd to exit", || child.try_wait().unwrap().is_some());
    let mut child = daemon.child.take().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap(), stderr)
}

#[test]
fn kernel_log_records_are_read() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir_all(r.join("dev")).unwrap();
    std::fs::write(
        r.join("dev/kmsg"),
        "6,1,100,-;NET: Registered protocol family 10\n SUBSYSTEM=net\n30,2,101,-;vinit[1]: booted\n",
    )
    .unwrap();
    let conf = format!(
        "kern.* {r}/kern.log\ndaemon.* {r}/daemon.log\n",
        r = r.display()
    );
    let d = Syslogd::start(r, Some(&conf), &["--no-pidfile"]);
    wait_for("the kernel line", || {
        read(&r.join("daemon.log")).contains("vinit[1]: booted")
    });
    assert!(d.stop().0.success());
    let kern = read(&r.join("kern.log"));
    assert!(
        kern.contains(" kernel: NET: Registered protocol family 10\n"),
        "{kern}"
    );
    assert!(!kern.contains("SUBSYSTEM"));
}

#[test]
fn detaches_without_n_and_is_managed_through_its_pidfile() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir_all(r.join("etc")).unwrap();
    std::fs::write(
        r.join("etc/syslog.conf"),
        format!("*.* {}/all.log\n", r.display()),
    )
    .unwrap();
    let status = Command::new(BIN)
        .args(["--root"])
        .arg(r)
        .args(["syslogd"])
        .status()
        .unwrap();
    assert!(status.success());
    let pid: i32 = read(&r.join("run/syslogd.pid")).trim().parse().unwrap();
    let stat = read(Path::new(&format!("/proc/{pid}/stat")));
    let ppid: i32 = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(ppid, std::process::id() as i32);
    assert!(stat.contains("(syslogd)"));
    // A second one is refused: the socket answers.
    let second = Command::new(BIN)
        .args(["syslogd", "-n", "--root"])
        .arg(r)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("another syslogd"));
    // Going to the background, too: the error reaches the terminal before the
    // starting command exits 1.
    let second = Command::new(BIN)
        .arg("syslogd")
        .arg(format!("--root={}", r.display()))
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.starts_with("syslogd: ") && err.contains("another syslogd"),
        "{err}"
    );
    logger(r, &["-t", "t", "detached"]);
    let daemon = |action: &str| {
        Command::new(BIN)
            .args([
                "daemon",
                action,
                "--quiet",
                "--name",
                "syslogd",
                "--pidfile",
            ])
            .arg(r.join("run/syslogd.pid"))
            .args(["--retry", "10"])
            .status()
            .unwrap()
            .code()
    };
    assert_eq!(daemon("--status"), Some(0));
    assert_eq!(daemon("--stop"), Some(0));
    assert_eq!(daemon("--status"), Some(3));
    assert!(read(&r.join("all.log")).contains(" t: detached\n"));
    assert!(!r.join("dev/log").exists());
}
