//! `vinit daemon` end to end: real daemons in a temporary root, pidfile races, recycled
//! pids, a program that ignores TERM, user switching.
//!
//! Each test runs its own copy of `sleep` under a name of its own, so that a scan of
//! /proc can only ever find the test's processes.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_vinit");

struct Env {
    tmp: tempfile::TempDir,
    /// This test's own copy of sleep.
    prog: PathBuf,
}

impl Env {
    fn new(name: &str) -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let prog = tmp.path().join(name);
        std::fs::copy("/bin/sleep", &prog).unwrap();
        // Another test thread forking while the copy was open for writing holds that
        // descriptor until its child execs: until then exec fails with ETXTBSY.
        for _ in 0..200 {
            match Command::new(&prog).arg("0").status() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                    std::thread::sleep(std::time::Duration::from_millis(5))
                }
                _ => break,
            }
        }
        Env { tmp, prog }
    }

    fn root(&self) -> &Path {
        self.tmp.path()
    }

    fn pidfile(&self) -> PathBuf {
        self.root().join("run").join(format!(
            "{}.pid",
            self.prog.file_name().unwrap().to_string_lossy()
        ))
    }

    fn daemon(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("daemon")
            .arg("--root")
            .arg(self.root())
            .args(args)
            .output()
            .unwrap()
    }

    fn start(&self, extra: &[&str]) -> Output {
        let prog = self.prog.to_str().unwrap();
        let mut args = vec!["--start", "--background", "--make-pidfile", "--exec", prog];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", "1000"]);
        self.daemon(&args)
    }

    fn status(&self) -> (i32, String) {
        let out = self.daemon(&["--status", "--exec", self.prog.to_str().unwrap()]);
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    fn written_pid(&self) -> i32 {
        std::fs::read_to_string(self.pidfile())
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Live processes of this test's program.
    fn running(&self) -> Vec<i32> {
        let mut pids = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            if std::fs::read_link(entry.path().join("exe")).ok().as_deref() == Some(&self.prog)
                && alive(pid)
            {
                pids.push(pid);
            }
        }
        pids
    }

    /// The program run directly (not as a daemon), as a stranger would.
    fn stranger(&self) -> Child {
        Command::new(&self.prog).arg("1000").spawn().unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for pid in self.running() {
            common::send_signal(pid, libc::SIGKILL);
        }
    }
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit(')').next().unwrap().split_whitespace().next() != Some("Z"))
        .unwrap_or(false)
}

fn stat_field(pid: i32, n: usize) -> String {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the name: state is field 3.
    s.rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(n - 3)
        .unwrap()
        .to_string()
}

fn status_line(pid: i32, key: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{key}:"))
                .map(|v| v.trim().to_string())
        })
        .unwrap()
}

fn wait_gone(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while alive(pid) {
        assert!(Instant::now() < deadline, "{pid} still alive");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap()
}

#[test]
fn start_applies_the_daemon_recipe() {
    let env = Env::new("recipe-sleep");
    let out = env.start(&[
        "--env",
        "GREETING=hello",
        "--umask",
        "027",
        "--nice",
        "5",
        "--chdir",
        "/tmp",
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let pid = env.written_pid();
    assert_eq!(env.running(), [pid]);
    // Detached: not our child, not a session leader, in a session of its own.
    assert_ne!(stat_field(pid, 4), std::process::id().to_string());
    let sid = stat_field(pid, 6);
    assert_ne!(sid, pid.to_string());
    assert_ne!(sid, nix::unistd::getsid(None).unwrap().to_string());
    assert_eq!(stat_field(pid, 7), "0", "no controlling terminal");
    // Descriptors: 0-2 on /dev/null and the pidfile it holds locked.
    let mut fds: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().parse().unwrap())
        .collect();
    fds.sort();
    assert_eq!(fds, [0, 1, 2, 99]);
    for fd in 0..3 {
        assert_eq!(
            std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap(),
            Path::new("/dev/null")
        );
    }
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/fd/99")).unwrap(),
        env.pidfile()
    );
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap(),
        Path::new("/tmp")
    );
    assert_eq!(status_line(pid, "Umask"), "0027");
    assert_eq!(stat_field(pid, 19), "5", "niceness");
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    assert!(environ.split(|&b| b == 0).any(|v| v == b"GREETING=hello"));
    // The pidfile: read-only (written by vinit), and its lock names the daemon.
    let mode = std::fs::metadata(env.pidfile())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o444);
    let (status, text) = env.status();
    assert_eq!(status, 0);
    assert_eq!(text, "", "start-stop-daemon's --status says nothing");
}

#[test]
fn a_second_start_is_refused_and_oknodo_makes_it_success() {
    let env = Env::new("twice-sleep");
    assert_eq!(code(&env.start(&[])), 0);
    let pid = env.written_pid();
    let again = env.start(&[]);
    assert_eq!(code(&again), 1);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already running"));
    assert_eq!(code(&env.start(&["--oknodo", "--quiet"])), 0);
    assert_eq!(env.running(), [pid]);
    assert_eq!(env.written_pid(), pid);
}

#[test]
fn concurrent_starts_run_exactly_one_daemon() {
    let env = Env::new("race-sleep");
    let prog = env.prog.to_str().unwrap().to_string();
    let children: Vec<Child> = (0..8)
        .map(|_| {
            Command::new(BIN)
                .args(["daemon", "--start", "--make-pidfile", "--quiet", "--root"])
                .arg(env.root())
                .args(["--exec", &prog, "--", "1000"])
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<i32> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().status.code().unwrap())
        .collect();
    assert_eq!(codes.iter().filter(|&&c| c == 0).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|&&c| c == 1).count(), 7, "{codes:?}");
    assert_eq!(env.running(), [env.written_pid()]);
}

#[test]
fn status_codes_follow_lsb() {
    let env = Env::new("lsb-sleep");
    assert_eq!(env.status(), (3, String::new()));
    assert_eq!(code(&env.start(&[])), 0);
    let pid = env.written_pid();
    assert_eq!(env.status().0, 0);
    common::send_signal(pid, libc::SIGKILL);
    wait_gone(pid);
    assert_eq!(env.status(), (1, String::new()));
    std::fs::remove_file(env.pidfile()).unwrap();
    let lock = env.root().join("subsys-lock");
    std::fs::write(&lock, "").unwrap();
    let out = env.daemon(&[
        "--status",
        "--exec",
        env.prog.to_str().unwrap(),
        "--lockfile",
        lock.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2);
    // A self-written, unlocked pidfile and nothing to check its pid against: unknown.
    let mut stranger = env.stranger();
    std::fs::write(env.pidfile(), format!("{}\n", stranger.id())).unwrap();
    let out = env.daemon(&["--status", "--pidfile", env.pidfile().to_str().unwrap()]);
    assert_eq!(code(&out), 4);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not locked"));
    // With the program named, it is checked and believed.
    assert_eq!(env.status().0, 0);
    stranger.kill().unwrap();
    stranger.wait().unwrap();
}

#[test]
fn a_recycled_pid_in_a_stale_pidfile_is_never_signalled() {
    let env = Env::new("recycle-sleep");
    assert_eq!(code(&env.start(&[])), 0);
    let pid = env.written_pid();
    common::send_signal(pid, libc::SIGKILL);
    wait_gone(pid);
    // The pid is "recycled" by another process of the very same program: the stale
    // pidfile (vinit's, unlocked now) is rewritten to name it, as if the kernel had
    // handed the old number to that process.
    let mut stranger = env.stranger();
    let spid = stranger.id() as i32;
    let pidfile = env.pidfile();
    std::fs::set_permissions(&pidfile, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&pidfile, format!("{spid}\n")).unwrap();
    std::fs::set_permissions(&pidfile, std::fs::Permissions::from_mode(0o444)).unwrap();
    assert_eq!(env.status().0, 1, "stale: nobody holds it");
    let out = env.daemon(&[
        "--stop",
        "--exec",
        env.prog.to_str().unwrap(),
        "--retry",
        "5",
    ]);
    assert_eq!(code(&out), 1, "nothing to stop");
    assert!(alive(spid), "the stranger was not touched");
    // A start replaces the stale pidfile and runs a daemon of its own.
    assert_eq!(code(&env.start(&[])), 0);
    let new = env.written_pid();
    assert_ne!(new, spid);
    assert!(alive(spid) && alive(new));
    stranger.kill().unwrap();
    stranger.wait().unwrap();
}

#[test]
fn a_self_written_pidfile_naming_another_program_is_not_trusted() {
    let env = Env::new("mine-sleep");
    let other = Env::new("other-sleep");
    let mut stranger = other.stranger();
    let spid = stranger.id() as i32;
    std::fs::create_dir_all(env.root().join("run")).unwrap();
    std::fs::write(env.pidfile(), format!("{spid}\n")).unwrap();
    assert_eq!(env.status().0, 1);
    let out = env.daemon(&[
        "--stop",
        "--exec",
        env.prog.to_str().unwrap(),
        "--signal",
        "KILL",
    ]);
    assert_eq!(code(&out), 1);
    assert!(alive(spid));
    stranger.kill().unwrap();
    stranger.wait().unwrap();
}

#[test]
fn stop_follows_the_retry_schedule_for_a_program_ignoring_term() {
    let env = Env::new("stubborn");
    let script = env.root().join("stubborn.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 1; done\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let pidfile = env.root().join("run/stubborn.pid");
    let pidfile = pidfile.to_str().unwrap();
    let start = env.daemon(&[
        "--start",
        "--make-pidfile",
        "--pidfile",
        pidfile,
        "--exec",
        script.to_str().unwrap(),
    ]);
    assert_eq!(
        code(&start),
        0,
        "{}",
        String::from_utf8_lossy(&start.stderr)
    );
    let pid: i32 = std::fs::read_to_string(pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // TERM is ignored and the schedule has nothing after it: still running, exit 2.
    let out = env.daemon(&["--stop", "--pidfile", pidfile, "--retry", "TERM/1"]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stdout).contains("refused to die"));
    assert!(alive(pid));
    // TERM, then KILL: gone, pidfile removed.
    let out = env.daemon(&[
        "--stop",
        "--pidfile",
        pidfile,
        "--retry",
        "TERM/1/KILL/10",
        "--remove-pidfile",
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!alive(pid));
    assert!(!Path::new(pidfile).exists());
    assert_eq!(
        code(&env.daemon(&["--stop", "--pidfile", pidfile, "--oknodo", "--quiet"])),
        0
    );
}

#[test]
fn stop_without_retry_sends_the_signal_and_returns() {
    let env = Env::new("signal-sleep");
    assert_eq!(code(&env.start(&[])), 0);
    let pid = env.written_pid();
    let out = env.daemon(&[
        "--stop",
        "--exec",
        env.prog.to_str().unwrap(),
        "--signal",
        "USR1",
    ]);
    assert_eq!(code(&out), 0);
    wait_gone(pid);
}

#[test]
fn forking_programs_are_waited_for_through_their_own_pidfile() {
    let env = Env::new("forker-sleep");
    let pidfile = env.root().join("run/forker.pid");
    let script = env.root().join("forker.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \"$1\" in fail) exit 7;; lazy) exit 0;; esac\n\
             {} 1000 </dev/null >/dev/null 2>&1 &\necho $! > {}\n",
            env.prog.display(),
            pidfile.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let forks = |arg: &str| {
        env.daemon(&[
            "--start",
            "--forks",
            "--timeout",
            "2",
            "--pidfile",
            pidfile.to_str().unwrap(),
            "--exec",
            env.prog.to_str().unwrap(),
            "--startas",
            script.to_str().unwrap(),
            "--",
            arg,
        ])
    };
    // Its exit status is start-stop-daemon's (which runs it in the foreground).
    let out = forks("fail");
    assert_eq!(code(&out), 7);
    let out = forks("lazy");
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("did not write"));
    let out = forks("go");
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(env.running(), [pid]);
    let check = env.daemon(&[
        "--status",
        "--pidfile",
        pidfile.to_str().unwrap(),
        "--exec",
        env.prog.to_str().unwrap(),
    ]);
    assert_eq!(code(&check), 0);
    assert_eq!(code(&forks("go")), 1, "already running");
}

#[test]
fn without_a_pidfile_processes_are_found_by_program() {
    let env = Env::new("scan-sleep");
    let mut stranger = env.stranger();
    let prog = env.prog.to_str().unwrap();
    let out = env.daemon(&["--pidof", "--exec", prog]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        stranger.id().to_string()
    );
    assert_eq!(
        code(&env.daemon(&["--stop", "--name", "scan-sleep", "--retry", "10"])),
        0
    );
    stranger.wait().unwrap();
    assert_eq!(code(&env.daemon(&["--status", "--exec", prog])), 3);
}

#[test]
fn runs_as_another_user_and_matches_by_user() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let env = Env::new("user-sleep");
    // The copy must be reachable by nobody.
    std::fs::set_permissions(env.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = env.start(&["--chuid", "nobody:nogroup"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let pid = env.written_pid();
    assert!(status_line(pid, "Uid").starts_with("65534\t65534\t65534"));
    let nogroup = nix::unistd::Group::from_name("nogroup")
        .unwrap()
        .unwrap()
        .gid
        .as_raw();
    assert!(status_line(pid, "Gid").starts_with(&format!("{nogroup}\t{nogroup}")));
    let prog = env.prog.to_str().unwrap();
    // Through its locked pidfile it is found whoever asks; by a scan, --user filters.
    std::fs::remove_file(env.pidfile()).unwrap();
    assert_eq!(
        code(&env.daemon(&["--status", "--exec", prog, "--user", "root"])),
        3
    );
    assert_eq!(
        code(&env.daemon(&["--status", "--exec", prog, "--user", "nobody"])),
        0
    );
    assert_eq!(
        code(&env.daemon(&["--stop", "--exec", prog, "--user", "nobody", "--retry", "10"])),
        0
    );
    assert!(!alive(pid));
    let out = env.start(&["--user", "no-such-user-here"]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("user 'no-such-user-here' not found"));
}

#[test]
fn init_script_functions_go_through_vinit_daemon() {
    let root = common::TestRoot::example_redhat();
    let sh = |script: &str| {
        Command::new("/bin/sh")
            .args(["-c", script])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("VINIT_ROOT", root.path())
            .env("VINIT", BIN)
            .output()
            .unwrap()
    };
    let init_d = root.join("etc/init.d");
    let heartbeat = format!("{}/heartbeat", init_d.display());
    let out = sh(&format!("{heartbeat} start"));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Starting heartbeat: [  OK  ]\n"
    );
    let pidfile = root.join("run/heartbeat.pid");
    let mode = std::fs::metadata(&pidfile).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o444, "written and locked by vinit daemon");
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let out = sh(&format!("{heartbeat} status"));
    assert_eq!(code(&out), 0);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("heartbeat (pid {pid}) is running...\n")
    );
    let functions = format!(". {}/functions;", init_d.display());
    let out = sh(&format!(
        "{functions} pidofproc -p {} heartbeat",
        pidfile.display()
    ));
    assert_eq!(
        (
            code(&out),
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        ),
        (0, pid.to_string())
    );
    // A second start does nothing and succeeds.
    assert_eq!(code(&sh(&format!("{heartbeat} start"))), 0);
    assert!(alive(pid));
    let out = sh(&format!("{heartbeat} stop"));
    assert_eq!(code(&out), 0);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Stopping heartbeat: [  OK  ]\n"
    );
    wait_gone(pid);
    assert!(!pidfile.exists());
    let out = sh(&format!("{heartbeat} status"));
    assert_eq!(
        (
            code(&out),
            String::from_utf8_lossy(&out.stdout).into_owned()
        ),
        (3, "heartbeat is stopped\n".to_string())
    );
    let out = sh(&format!(
        "{functions} killproc -p {} heartbeat",
        pidfile.display()
    ));
    assert_eq!(code(&out), 7, "not running");
}

#[test]
fn output_goes_to_the_named_file() {
    let env = Env::new("output-sleep");
    let script = env.root().join("talker.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho to-stdout\necho to-stderr >&2\nexec {} 1000\n",
            env.prog.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = env.root().join("talker.log");
    let prog = env.prog.to_str().unwrap();
    let out = env.daemon(&[
        "--start",
        "--make-pidfile",
        "--startas",
        script.to_str().unwrap(),
        "--exec",
        prog,
        "--output",
        log.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("to-stderr")
    {
        assert!(Instant::now() < deadline, "no output");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(std::fs::read_to_string(&log)
        .unwrap()
        .contains("to-stdout\n"));
    // The script exec'd the sleeper: same process, still holding the pidfile's lock.
    let pid = env.written_pid();
    let deadline = Instant::now() + Duration::from_secs(20);
    while env.running() != [pid] {
        assert!(
            Instant::now() < deadline,
            "the exec'd program is not the daemon"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(code(&env.daemon(&["--status", "--exec", prog])), 0);
    // The lock holder is no longer the script: asked for the script, it is not running.
    let out = env.daemon(&[
        "--status",
        "--pidfile",
        env.pidfile().to_str().unwrap(),
        "--exec",
        script.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1);
}

/// The uid and gid of `nobody`, the unprivileged user of the attack tests.
fn nobody() -> (u32, u32) {
    let user = nix::unistd::User::from_name("nobody")
        .unwrap()
        .expect("the tests need a user named nobody");
    (user.uid.as_raw(), user.gid.as_raw())
}

/// Runs a shell command as `nobody`, as the service user of an attack would.
fn as_nobody(script: &str) {
    use std::os::unix::process::CommandExt;
    let (uid, gid) = nobody();
    let out = Command::new("/bin/sh")
        .args(["-c", script])
        .uid(uid)
        .gid(gid)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A directory owned by `nobody` (the service user's own log or run directory).
fn nobody_dir(path: &Path) {
    let (uid, gid) = nobody();
    std::fs::create_dir_all(path).unwrap();
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
}

#[test]
fn output_is_opened_as_the_daemon_user() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let env = Env::new("output-user-sleep");
    std::fs::set_permissions(env.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // Root's files, out of nobody's reach.
    let secret = env.root().join("secret");
    std::fs::create_dir(&secret).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o700)).unwrap();
    let victim = secret.join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    // The service user plants links in its own log directory.
    let logs = env.root().join("logs");
    nobody_dir(&logs);
    as_nobody(&format!(
        "ln -s {} {}/existing.log && ln -s {}/created {}/new.log",
        victim.display(),
        logs.display(),
        secret.display(),
        logs.display()
    ));
    let script = env.root().join("talker.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho pwned\nexec {} 1000\n", env.prog.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let start = |log: &str| {
        env.daemon(&[
            "--start",
            "--make-pidfile",
            "--chuid",
            "nobody",
            "--exec",
            script.to_str().unwrap(),
            "--output",
            logs.join(log).to_str().unwrap(),
        ])
    };
    for log in ["existing.log", "new.log"] {
        let out = start(log);
        assert_ne!(code(&out), 0, "{log}: started");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
            "{log}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(env.running().is_empty());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!secret.join("created").exists(), "root created a file");
    // A plain name in the service user's directory: created as the user, and written.
    let out = start("talker.log");
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let log = logs.join("talker.log");
    assert!(common::wait_until(20, || std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("pwned")));
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&log).unwrap().uid(), nobody().0);
}

#[test]
fn a_locked_pidfile_counts_only_for_a_matching_process() {
    let victim = Env::new("victim-sleep");
    assert_eq!(code(&victim.start(&[])), 0);
    let vpid = victim.written_pid();
    let env = Env::new("asker-sleep");
    let foreign = victim.pidfile();
    let foreign = foreign.to_str().unwrap();
    let prog = env.prog.to_str().unwrap();
    // Another daemon's pidfile, locked by it, named with our program: not ours.
    let out = env.daemon(&[
        "--stop",
        "--pidfile",
        foreign,
        "--exec",
        prog,
        "--retry",
        "5",
    ]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stdout));
    let out = env.daemon(&["--status", "--pidfile", foreign, "--name", "asker-sleep"]);
    assert_eq!(code(&out), 1);
    assert!(alive(vpid));
    // A pidfile another user owns is not enough alone; with a match option it counts.
    let (uid, gid) = (
        nix::unistd::getuid().as_raw() + 1,
        nix::unistd::getgid().as_raw(),
    );
    if nix::unistd::geteuid().is_root() {
        std::os::unix::fs::chown(foreign, Some(uid), Some(gid)).unwrap();
        let out = victim.daemon(&["--status", "--pidfile", foreign]);
        assert_eq!(code(&out), 4);
        assert!(String::from_utf8_lossy(&out.stderr).contains("insecure"));
        let vprog = victim.prog.to_str().unwrap();
        let out = victim.daemon(&["--status", "--pidfile", foreign, "--exec", vprog]);
        assert_eq!(code(&out), 0);
        std::os::unix::fs::chown(foreign, Some(0), Some(0)).unwrap();
    }
    // Writable by anyone: it names nobody, whatever else is given.
    std::fs::set_permissions(foreign, std::fs::Permissions::from_mode(0o666)).unwrap();
    let vprog = victim.prog.to_str().unwrap();
    let out = victim.daemon(&["--stop", "--pidfile", foreign, "--exec", vprog]);
    assert_ne!(code(&out), 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("world-writable"));
    assert!(alive(vpid));
}

#[test]
fn a_symlinked_pidfile_is_refused() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    // A root daemon holding its locked pidfile.
    let victim = Env::new("victim2-sleep");
    std::fs::set_permissions(victim.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(code(&victim.start(&[])), 0);
    let vpid = victim.written_pid();
    // A service running as nobody, whose run directory nobody owns.
    let env = Env::new("service-sleep");
    std::fs::set_permissions(env.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = env.root().join("svc");
    nobody_dir(&run);
    let pidfile = run.join("service.pid");
    as_nobody(&format!(
        "ln -s {} {}",
        victim.pidfile().display(),
        pidfile.display()
    ));
    let prog = env.prog.to_str().unwrap();
    let pidfile = pidfile.to_str().unwrap();
    for action in [
        vec!["--stop", "--retry", "5"],
        vec!["--stop", "--signal", "KILL"],
    ] {
        let mut args = action.clone();
        args.extend(["--pidfile", pidfile, "--exec", prog, "--user", "nobody"]);
        let out = env.daemon(&args);
        assert_ne!(code(&out), 0, "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("symbolic link"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = env.daemon(&["--status", "--pidfile", pidfile]);
    assert_eq!(code(&out), 4);
    assert!(alive(vpid), "the other daemon was killed");
    assert_eq!(victim.status().0, 0);
}

#[test]
fn a_daemon_cannot_rewrite_its_pidfile() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let env = Env::new("rewrite-sleep");
    std::fs::set_permissions(env.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // The daemon, as nobody, tries to make its pidfile name pid 1 (so that root's next
    // `kill $(cat pidfile)` signals init): through the descriptor it holds, and by
    // opening that descriptor's file again.
    let script = env.root().join("rewriter.sh");
    let rewrite = "if (open(my $f, q(+<&=), 99)) { truncate($f, 0); sysseek($f, 0, 0); \
                   syswrite($f, qq(1\\n)) } \
                   if (open(my $h, q(+<), q(/proc/self/fd/99))) { truncate($h, 0); \
                   syswrite($h, qq(1\\n)) }";
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nwhile [ ! -s {pidfile} ]; do sleep 0.05; done\n\
             perl -e '{rewrite}'\n\
             exec {prog} 1000\n",
            pidfile = env.pidfile().display(),
            prog = env.prog.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let prog = env.prog.to_str().unwrap();
    let out = env.daemon(&[
        "--start",
        "--make-pidfile",
        "--chuid",
        "nobody",
        "--startas",
        script.to_str().unwrap(),
        "--exec",
        prog,
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    // The attempts are over once the script has exec'd the program.
    assert!(
        common::wait_until(20, || env.running().len() == 1),
        "the script did not get to exec the program"
    );
    let pid = env.running()[0];
    assert_eq!(
        std::fs::read_to_string(env.pidfile()).unwrap(),
        format!("{pid}\n")
    );
    assert_eq!(env.status().0, 0);
}

/// Holds a POSIX read lock on `path` from a forked child (a process of its own, as a
/// stranger would) until dropped.
struct ForeignReadLock(nix::unistd::Pid);

impl ForeignReadLock {
    fn take(path: &Path) -> ForeignReadLock {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(path).unwrap();
        let (reader, writer) = nix::unistd::pipe().unwrap();
        let (fd, report) = (file.as_raw_fd(), writer.as_raw_fd());
        // SAFETY: the child only makes raw system calls on descriptors opened before.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => unsafe {
                // It must never outlive the test, nor keep any descriptor of the test
                // process (cargo's build lock among them) but its own two.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                let (low, high) = (fd.min(report), fd.max(report));
                libc::syscall(libc::SYS_close_range, 3, low - 1, 0);
                libc::syscall(libc::SYS_close_range, low + 1, high - 1, 0);
                libc::syscall(libc::SYS_close_range, high + 1, u32::MAX, 0);
                let mut lock: libc::flock = std::mem::zeroed();
                lock.l_type = libc::F_RDLCK as libc::c_short;
                let ok = libc::fcntl(fd, libc::F_SETLK, &lock) == 0;
                libc::write(report, [u8::from(ok)].as_ptr().cast(), 1);
                if !ok {
                    libc::_exit(1);
                }
                loop {
                    libc::pause();
                }
            },
            nix::unistd::ForkResult::Parent { child } => {
                drop(writer);
                let held = ForeignReadLock(child);
                let mut answer = [0u8; 1];
                nix::unistd::read(&reader, &mut answer).unwrap();
                assert_eq!(answer, [1], "the read lock was refused");
                held
            }
        }
    }

    fn alive(&self) -> bool {
        alive(self.0.as_raw())
    }
}

impl Drop for ForeignReadLock {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(self.0, nix::sys::signal::Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(self.0, None);
    }
}

#[test]
fn a_strangers_read_lock_does_not_make_a_stale_pidfile_live() {
    let env = Env::new("readlock-sleep");
    assert_eq!(code(&env.start(&[])), 0);
    let pid = env.written_pid();
    // While the daemon runs, a stranger's lock beside its own changes nothing.
    let early = ForeignReadLock::take(&env.pidfile());
    let pidfile = env.pidfile();
    let pidfile = pidfile.to_str().unwrap();
    let out = env.daemon(&["--pidof", "--pidfile", pidfile]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{pid}\n"));
    common::send_signal(pid, libc::SIGKILL);
    wait_gone(pid);
    // The daemon is gone; the stranger's lock remains, and names a process that is not
    // the daemon.
    let out = env.daemon(&["--status", "--pidfile", pidfile]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stdout));
    let out = env.daemon(&["--stop", "--pidfile", pidfile, "--signal", "KILL"]);
    assert_eq!(code(&out), 1);
    assert!(early.alive(), "the stranger was signalled");
    assert_eq!(code(&env.start(&[])), 0, "a start is not blocked");
}
