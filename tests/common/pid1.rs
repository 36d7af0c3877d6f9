//! Booting the real binary as PID 1 of a private PID namespace (as root; through a user
//! namespace otherwise), in a scratch root, and talking to it.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use super::{vinit_bin, wait_until, TestRoot};

/// The command prefix that gives a child its own PID namespace (and /proc).
pub fn namespace_prefix() -> Vec<&'static str> {
    let mut prefix = vec!["unshare", "--pid", "--fork", "--mount-proc"];
    if !nix::unistd::geteuid().is_root() {
        prefix.extend(["--user", "--map-root-user"]);
    }
    prefix
}

pub struct Pid1 {
    pub root: TestRoot,
    pub child: Child,
    console: PathBuf,
    namespaced: bool,
}

impl Pid1 {
    /// Writes `inittab` (unless None: the built-in one) and boots init in a new PID
    /// namespace with `args` after `init --root ROOT`.
    pub fn boot(root: TestRoot, inittab: Option<&str>, args: &[&str]) -> Pid1 {
        Self::boot_with(root, inittab, args, &namespace_prefix())
    }

    /// The same, not PID 1: a subreaper in this namespace.
    pub fn boot_subreaper(root: TestRoot, inittab: Option<&str>, args: &[&str]) -> Pid1 {
        Self::boot_with(root, inittab, args, &[])
    }

    fn boot_with(root: TestRoot, inittab: Option<&str>, args: &[&str], prefix: &[&str]) -> Pid1 {
        if let Some(text) = inittab {
            fs::write(root.join("etc/inittab"), text).unwrap();
        }
        let console = root.join("console.log");
        let log = fs::File::create(&console).unwrap();
        let mut argv: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
        argv.extend([
            vinit_bin().to_string(),
            "init".into(),
            "--root".into(),
            root.path().display().to_string(),
        ]);
        argv.extend(args.iter().map(|s| s.to_string()));
        let child = Command::new(&argv[0])
            .args(&argv[1..])
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start init");
        let pid1 = Pid1 {
            root,
            child,
            console,
            namespaced: !prefix.is_empty(),
        };
        assert!(
            wait_until(10, || pid1.root.join("run/initctl").exists()),
            "init did not start:\n{}",
            pid1.console()
        );
        pid1
    }

    /// init's pid as this test sees it.
    pub fn host_pid(&self) -> i32 {
        let me = self.child.id() as i32;
        if self.namespaced {
            // unshare --fork: init is unshare's only child.
            for _ in 0..500 {
                if let Some(pid) = children_of(me).first() {
                    return *pid;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            panic!("no init below unshare");
        }
        me
    }

    pub fn console(&self) -> String {
        fs::read_to_string(&self.console).unwrap_or_default()
    }

    pub fn vinit(&self, args: &[&str]) -> Output {
        super::vinit_cmd()
            .arg("--root")
            .arg(self.root.path())
            .args(args)
            .output()
            .unwrap()
    }

    pub fn telinit(&self, args: &[&str]) {
        let mut all = vec!["telinit"];
        all.extend(args);
        let out = self.vinit(&all);
        assert!(
            out.status.success(),
            "telinit {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.host_pid()), signal).unwrap();
    }

    pub fn runlevel(&self) -> String {
        String::from_utf8_lossy(&self.vinit(&["runlevel"]).stdout)
            .trim()
            .to_string()
    }

    pub fn wait_for_runlevel(&self, want: &str) {
        assert!(
            wait_until(20, || self.runlevel() == want),
            "runlevel {} instead of {want}\n{}",
            self.runlevel(),
            self.console()
        );
    }

    pub fn wait_for_console(&self, text: &str) {
        assert!(
            wait_until(20, || self.console().contains(text)),
            "console lacks {text:?}:\n{}",
            self.console()
        );
    }

    pub fn trace(&self) -> Vec<String> {
        self.root.read("trace").lines().map(str::to_owned).collect()
    }

    /// Waits for init (and with it the namespace) to end.
    pub fn wait_exit(&mut self, secs: u64) -> ExitStatus {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "init did not exit:\n{}",
                self.console()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Pid1 {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // Killing the namespace's init kills the whole namespace.
            for pid in children_of(self.child.id() as i32) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Direct children of a process, from /proc.
pub fn children_of(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    if let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            if let Ok(text) = fs::read_to_string(task.path().join("children")) {
                out.extend(
                    text.split_whitespace()
                        .filter_map(|p| p.parse::<i32>().ok()),
                );
            }
        }
    }
    out
}

/// The state letter of a process (R, S, Z…), None when gone.
pub fn state_of(pid: i32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .next()?
        .chars()
        .next()
}

/// Debian's sysvinit-core `init` (which is telinit when not PID 1), run under the name
/// `telinit` through a link (see [`super::peer`]).
pub fn debian_telinit() -> PathBuf {
    let init = super::peer("sysvinit-core", "sbin/init");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("peers");
    let telinit = dir.join("telinit");
    fs::create_dir_all(&dir).unwrap();
    // Tests run in parallel: whoever makes the link first wins, the result is the same.
    if let Err(e) = std::os::unix::fs::symlink(init, &telinit) {
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{e}");
    }
    telinit
}
