//! `vinit init -- CMD` as a container engine starts an entrypoint: from the image's
//! working directory, with the image's environment, with signals from outside (`docker
//! kill -s`, `docker stop`) and the exit status that tini's and dumb-init's documentation
//! promise. Each test runs init both as PID 1 of a private PID namespace and as a
//! subreaper where the behaviour differs between the two.

mod common;

use common::pid1::namespace_prefix;
use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A started `vinit init --root ROOT [OPTIONS] -- MAIN...`.
struct Container {
    root: TestRoot,
    child: Child,
    output: PathBuf,
}

struct Start<'a> {
    pid1: bool,
    cwd: &'a Path,
    env: &'a [(&'a str, &'a str)],
    options: &'a [&'a str],
    main: &'a [&'a str],
}

impl Container {
    fn start(root: TestRoot, how: Start) -> Container {
        let output = root.join("output.log");
        let log = fs::File::create(&output).unwrap();
        let prefix = if how.pid1 { namespace_prefix() } else { vec![] };
        let mut argv: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
        argv.extend([vinit_bin().into(), "init".into(), "--root".into()]);
        argv.push(root.path().display().to_string());
        argv.extend(how.options.iter().map(|s| s.to_string()));
        argv.push("--".into());
        argv.extend(how.main.iter().map(|s| s.to_string()));
        let child = Command::new(&argv[0])
            .args(&argv[1..])
            .env_clear()
            .envs(how.env.iter().copied())
            .current_dir(how.cwd)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Container {
            root,
            child,
            output,
        }
    }

    fn output(&self) -> String {
        fs::read_to_string(&self.output).unwrap_or_default()
    }

    /// init's pid as seen from here (below unshare when it is a namespace's PID 1).
    fn init_pid(&self) -> i32 {
        let me = self.child.id() as i32;
        let below = common::pid1::children_of(me);
        match below.first() {
            Some(pid) if self.is_namespaced() => *pid,
            _ => me,
        }
    }

    fn is_namespaced(&self) -> bool {
        fs::read_to_string(format!("/proc/{}/comm", self.child.id()))
            .is_ok_and(|c| c.trim() == "unshare")
    }

    fn kill(&self, signo: i32) {
        // SAFETY: kill(2) on a pid this test started.
        assert!(send_signal(self.init_pid(), signo));
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn wait(&mut self, secs: u64) -> i32 {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                std::time::Instant::now() < deadline,
                "init did not exit:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if self.alive() {
            for pid in common::pid1::children_of(self.child.id() as i32) {
                send_signal(pid, libc::SIGKILL);
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A root whose rc scripts record the environment they got.
fn root_recording_rc_env() -> TestRoot {
    let root = TestRoot::debian();
    root.script(
        "envdump",
        "#!/bin/sh\n[ \"$1\" = start ] && { pwd; env; } > \"$VINIT_ROOT/rc-env\"\nexit 0\n",
    );
    root.link('3', "S10envdump", "../init.d/envdump");
    fs::write(
        root.join("etc/inittab"),
        "id:3:initdefault:\nl0:0:wait:vinit rc 0\nl3:3:wait:vinit rc 3\n",
    )
    .unwrap();
    root
}

#[test]
fn the_main_command_gets_the_callers_working_directory_and_environment() {
    for pid1 in [true, false] {
        let root = root_recording_rc_env();
        let workdir = root.join("srv/app dir");
        fs::create_dir_all(&workdir).unwrap();
        // A program found only through the caller's PATH, as in an image.
        let bin = root.join("opt/bin");
        fs::create_dir_all(&bin).unwrap();
        let tool = bin.join("whereami");
        fs::write(
            &tool,
            "#!/bin/sh\npwd > \"$OUT/main-env\"; env >> \"$OUT/main-env\"\n",
        )
        .unwrap();
        fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let path = format!("{}:/usr/bin:/bin", bin.display());
        let out = root.path().display().to_string();
        let mut c = Container::start(
            root,
            Start {
                pid1,
                cwd: &workdir,
                env: &[
                    ("PATH", &path),
                    ("APP_MODE", "production"),
                    ("OUT", &out),
                    ("HOME", "/home/app"),
                ],
                options: &[],
                main: &["whereami"],
            },
        );
        assert_eq!(c.wait(30), 0, "{}", c.output());
        let main = c.root.read("main-env");
        let mut lines = main.lines();
        assert_eq!(lines.next(), Some(workdir.to_str().unwrap()), "{main}");
        for want in [
            "APP_MODE=production",
            "HOME=/home/app",
            &format!("PATH={path}"),
        ] {
            assert!(main.lines().any(|l| l == want), "{want} missing:\n{main}");
        }
        // rc scripts keep sysvinit's clean environment, in /.
        let rc = c.root.read("rc-env");
        assert_eq!(rc.lines().next(), Some("/"), "{rc}");
        assert!(!rc.contains("APP_MODE"), "{rc}");
        assert!(rc.contains("PATH=/sbin:/usr/sbin:/bin:/usr/bin"), "{rc}");
    }
}

/// Every catchable signal that is neither init's own (CHLD, TERM, INT, PWR, the job
/// control ones) nor SIGPIPE: numbers, since some have no name in sh.
fn forwarded_signals() -> Vec<i32> {
    let mut out = vec![
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGILL,
        libc::SIGTRAP,
        libc::SIGABRT,
        libc::SIGBUS,
        libc::SIGFPE,
        libc::SIGUSR1,
        libc::SIGSEGV,
        libc::SIGUSR2,
        libc::SIGALRM,
        libc::SIGSTKFLT,
        libc::SIGURG,
        libc::SIGXCPU,
        libc::SIGXFSZ,
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGWINCH,
        libc::SIGIO,
        libc::SIGSYS,
    ];
    out.push(libc::SIGRTMIN() + 3);
    out
}

#[test]
fn no_signal_from_outside_ends_init_and_the_asynchronous_ones_reach_the_main_command() {
    for pid1 in [false, true] {
        let root = TestRoot::debian();
        fs::write(root.join("etc/inittab"), "id:3:initdefault:\n").unwrap();
        let traps: String = forwarded_signals()
            .iter()
            .map(|n| format!("trap 'echo {n} >> \"$VINIT_ROOT/got\"' {n}\n"))
            .collect();
        let main = format!(
            "{traps}trap 'exit 143' TERM\necho up > \"$VINIT_ROOT/up\"\nwhile :; do sleep 0.05; done\n"
        );
        let dir = root.path().display().to_string();
        let mut c = Container::start(
            root,
            Start {
                pid1,
                cwd: Path::new("/"),
                env: &[("PATH", "/usr/bin:/bin"), ("VINIT_ROOT", &dir)],
                options: &[],
                main: &["/bin/sh", "-c", &main],
            },
        );
        assert!(
            wait_until(20, || c.root.join("up").exists()),
            "{}",
            c.output()
        );
        // SEGV twice: a handler that resets itself would die of the second.
        let mut sent = forwarded_signals();
        sent.push(libc::SIGSEGV);
        for &signo in &sent {
            c.kill(signo);
            std::thread::sleep(Duration::from_millis(30));
            assert!(c.alive(), "signal {signo} ended init:\n{}", c.output());
        }
        let want: Vec<String> = forwarded_signals().iter().map(i32::to_string).collect();
        assert!(
            wait_until(20, || {
                let got = c.root.read("got");
                want.iter().all(|n| got.lines().any(|l| l == n))
            }),
            "pid1={pid1}: forwarded {:?} of {want:?}",
            c.root.read("got")
        );
        c.kill(libc::SIGTERM);
        assert_eq!(c.wait(30), 143, "{}", c.output());
    }
}

#[test]
fn a_sigtstp_does_not_hold_up_the_shutdown_when_the_main_command_exits() {
    let root = TestRoot::debian();
    fs::write(root.join("etc/inittab"), "id:3:initdefault:\n").unwrap();
    let dir = root.path().display().to_string();
    let mut c = Container::start(
        root,
        Start {
            pid1: false,
            cwd: Path::new("/"),
            env: &[("PATH", "/usr/bin:/bin"), ("VINIT_ROOT", &dir)],
            options: &[],
            main: &[
                "/bin/sh",
                "-c",
                "touch \"$VINIT_ROOT/up\"; while [ ! -e \"$VINIT_ROOT/go\" ]; do sleep 0.05; done; exit 3",
            ],
        },
    );
    assert!(
        wait_until(20, || c.root.join("up").exists()),
        "{}",
        c.output()
    );
    c.kill(libc::SIGTSTP);
    std::thread::sleep(Duration::from_millis(100));
    fs::write(c.root.join("go"), "").unwrap();
    assert_eq!(c.wait(30), 3, "{}", c.output());
}

#[test]
fn the_console_carries_only_the_main_commands_output_unless_verbose() {
    // A root without any rc directory (normal in a container) and one whose scripts
    // succeed: nothing but the program's output. A failing script is shown.
    let bare = TestRoot::debian();
    for l in "0123456S".chars() {
        fs::remove_dir(bare.join(&format!("etc/rc{l}.d"))).unwrap();
    }
    let with_rc = TestRoot::debian();
    with_rc.script("good", "#!/bin/sh\necho good says hello\n");
    with_rc.link('3', "S10good", "../init.d/good");
    with_rc.link('0', "K10good", "../init.d/good");
    for (root, pid1) in [(bare, true), (with_rc, false)] {
        let mut c = Container::start(
            root,
            Start {
                pid1,
                cwd: Path::new("/"),
                env: &[("PATH", "/usr/bin:/bin")],
                options: &[],
                main: &["/bin/echo", "hello from the app"],
            },
        );
        assert_eq!(c.wait(30), 0);
        assert_eq!(c.output(), "hello from the app\n", "pid1={pid1}");
        assert!(
            c.root.read("var/log/boot.log").contains("good says hello") || pid1,
            "the boot log keeps rc's output"
        );
    }

    let failing = TestRoot::debian();
    failing.script("bad", "#!/bin/sh\necho bad is broken\nexit 1\n");
    failing.link('3', "S10bad", "../init.d/bad");
    let mut c = Container::start(
        failing,
        Start {
            pid1: false,
            cwd: Path::new("/"),
            env: &[("PATH", "/usr/bin:/bin")],
            options: &[],
            main: &["/bin/echo", "app"],
        },
    );
    assert_eq!(c.wait(30), 0);
    let out = c.output();
    assert!(out.contains("bad is broken"), "{out}");
    assert!(out.contains("Starting bad: [FAILED]"), "{out}");
    assert!(out.contains("app\n"), "{out}");

    let verbose = TestRoot::debian();
    let mut c = Container::start(
        verbose,
        Start {
            pid1: false,
            cwd: Path::new("/"),
            env: &[("PATH", "/usr/bin:/bin")],
            options: &["-v"],
            main: &["/bin/echo", "app"],
        },
    );
    assert_eq!(c.wait(30), 0);
    let out = c.output();
    assert!(out.contains("init: Entering runlevel: 3"), "{out}");
}
