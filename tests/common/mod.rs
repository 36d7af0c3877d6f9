//! Helpers shared by the integration tests: scratch roots and running the binary.
#![allow(dead_code)]

pub mod pid1;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const VINIT: &str = env!("CARGO_BIN_EXE_vinit");

/// The binary the PID-1 tests (init, container, podman) run: `$VINIT_BIN` when set — the
/// static build, which `.ci/run` tests this way too — else the one cargo built ([`VINIT`]).
pub fn vinit_bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(
        || match std::env::var_os("VINIT_BIN").filter(|v| !v.is_empty()) {
            None => VINIT.to_string(),
            Some(path) => match fs::canonicalize(&path) {
                Ok(abs) => abs.to_string_lossy().into_owned(),
                Err(e) => panic!("VINIT_BIN={}: {e}", Path::new(&path).display()),
            },
        },
    )
}

/// The repository (for the example system).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The cache of real systems and Debian packages that `scripts/fetch/*` fill (outside
/// the clone): `$VINIT_CACHE`, else `$XDG_CACHE_HOME/vinit`, else `~/.cache/vinit`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("VINIT_CACHE") {
        return PathBuf::from(dir);
    }
    match std::env::var_os("XDG_CACHE_HOME") {
        Some(dir) => PathBuf::from(dir).join("vinit"),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
            .join(".cache/vinit"),
    }
}

/// A file of a Debian package unpacked by `scripts/fetch/peers`, e.g.
/// `peer("sysvinit-core", "sbin/init")`. A test that needs the real tool fails (never
/// skips) when it was not fetched.
pub fn peer(package: &str, file: &str) -> PathBuf {
    let path = cache_dir().join("peers").join(package).join(file);
    assert!(
        path.exists(),
        "{} is missing: run scripts/fetch/peers (scripts/test does) before the tests",
        path.display()
    );
    path
}

/// A scratch root directory, removed when dropped.
pub struct TestRoot {
    pub dir: tempfile::TempDir,
}

impl TestRoot {
    /// An empty root with a Debian layout (etc/init.d, etc/rcN.d).
    pub fn debian() -> TestRoot {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(dir.path().join("etc/init.d")).unwrap();
        for l in "0123456S".chars() {
            fs::create_dir_all(dir.path().join(format!("etc/rc{l}.d"))).unwrap();
        }
        TestRoot { dir }
    }

    /// The repository's example system in a Red Hat layout, as the demo builds it.
    pub fn example_redhat() -> TestRoot {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path();
        let rc_d = base.join("etc/rc.d");
        copy_tree(&repo().join("init.d"), &rc_d.join("init.d"));
        for l in "0123456S".chars() {
            copy_tree(
                &repo().join(format!("rc.d/rc{l}.d")),
                &rc_d.join(format!("rc{l}.d")),
            );
            symlink(format!("rc.d/rc{l}.d"), base.join(format!("etc/rc{l}.d"))).unwrap();
        }
        symlink("rc.d/init.d", base.join("etc/init.d")).unwrap();
        TestRoot { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes an executable script into the init.d of a Debian root.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.join("etc/init.d").join(name);
        fs::write(&path, body).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// `etc/rcL.d/LINK -> ../init.d/SERVICE`.
    pub fn link(&self, level: char, link: &str, target: &str) {
        symlink(target, self.join(&format!("etc/rc{level}.d/{link}"))).unwrap();
    }

    /// Runs `vinit --root ROOT ARGS...` with a clean environment.
    pub fn vinit(&self, args: &[&str]) -> Output {
        vinit_cmd()
            .arg("--root")
            .arg(self.path())
            .args(args)
            .output()
            .expect("run vinit")
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.join(rel)).unwrap_or_default()
    }
}

/// An init script that appends its name, argument and the level variables to
/// `$VINIT_ROOT/trace`.
pub fn recorder(name: &str) -> String {
    format!("#!/bin/sh\necho \"{name} $1 $RUNLEVEL $PREVLEVEL\" >> \"$VINIT_ROOT/trace\"\n")
}

impl Drop for TestRoot {
    /// A test that failed half-way may leave daemons of its root running: whatever still
    /// runs with the root in its command line is killed before the directory goes.
    fn drop(&mut self) {
        let root = self.dir.path().to_string_lossy().into_owned();
        let Ok(procs) = fs::read_dir("/proc") else {
            return;
        };
        for entry in procs.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
            if pid != std::process::id() as i32 && String::from_utf8_lossy(&cmdline).contains(&root)
            {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
}

/// The binary with an environment free of the caller's runlevel variables.
pub fn vinit_cmd() -> Command {
    let mut cmd = Command::new(vinit_bin());
    cmd.env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    cmd
}

pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            symlink(fs::read_link(entry.path()).unwrap(), &dest).unwrap();
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Polls `cond` every 20 ms for up to `secs` seconds.
pub fn wait_until(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    cond()
}

/// Whether a process is alive (and not a zombie).
pub fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            stat.rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next())
                != Some("Z")
        }
        Err(_) => false,
    }
}
