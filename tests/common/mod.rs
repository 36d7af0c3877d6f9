//! Helpers shared by the integration tests: scratch roots and running the binary.
#![allow(dead_code)]

pub mod pid1;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

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

    /// Runs `vinit --root ROOT TOOL ARGS...`.
    pub fn tool(&self, tool: &str, args: &[&str]) -> Output {
        let mut all = vec![tool];
        all.extend_from_slice(args);
        self.vinit(&all)
    }

    /// Runs `vinit TOOL --root=ROOT ARGS...`: the tool's own option, in its `=` form.
    pub fn tool_root_eq(&self, tool: &str, args: &[&str]) -> Output {
        vinit_cmd()
            .arg(tool)
            .arg(format!("--root={}", self.path().display()))
            .args(args)
            .output()
            .expect("run vinit")
    }

    /// `etc/rcL.d/LINK -> ../init.d/SERVICE`, the service named by the link.
    pub fn service_link(&self, level: char, link: &str) {
        self.link(level, link, &format!("../init.d/{}", &link[3..]));
    }

    /// Every entry of the rc directories named like a link of `service`, as
    /// `LEVEL:NAME`, in level order (0–6, then S; a level without directory has none).
    pub fn links_of(&self, service: &str) -> Vec<String> {
        let mut out = Vec::new();
        for level in "0123456S".chars() {
            let Ok(dir) = fs::read_dir(self.join(&format!("etc/rc{level}.d"))) else {
                continue;
            };
            let mut names: Vec<String> = dir
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n.get(3..) == Some(service))
                .collect();
            names.sort();
            out.extend(names.into_iter().map(|n| format!("{level}:{n}")));
        }
        out
    }
}

/// A chkconfig script on in 2345 (S55), off elsewhere (K25), described on two lines.
pub const ALPHA: &str = "#!/bin/sh\n#\n# chkconfig: 2345 55 25\n# description: The alpha service \\\n#              on two lines.\nexit 0\n";

/// The links `chkconfig --add alpha` makes for [`ALPHA`].
pub const ALPHA_LINKS: [(char, &str); 7] = [
    ('0', "K25alpha"),
    ('1', "K25alpha"),
    ('2', "S55alpha"),
    ('3', "S55alpha"),
    ('4', "S55alpha"),
    ('5', "S55alpha"),
    ('6', "K25alpha"),
];

/// A stand-in superserver (a shell named xinetd, its pid in the root's
/// `run/xinetd.pid`) that counts the SIGHUPs it gets; killed when dropped.
pub struct FakeSuperserver {
    child: Child,
    hups: PathBuf,
}

impl FakeSuperserver {
    pub fn start(r: &TestRoot) -> FakeSuperserver {
        let hups = r.join("hups");
        let script = format!(
            "trap 'echo hup >> {0}' HUP; echo ready > {0}.ready; while :; do sleep 0.05; done",
            hups.display()
        );
        let child = Command::new("/bin/sh")
            .arg0("xinetd")
            .args(["-c", &script])
            .spawn()
            .unwrap();
        assert!(wait_until(10, || r.join("hups.ready").exists()));
        fs::create_dir_all(r.join("run")).unwrap();
        fs::write(r.join("run/xinetd.pid"), format!("{}\n", child.id())).unwrap();
        FakeSuperserver { child, hups }
    }

    /// `hup` once per SIGHUP received so far.
    pub fn hups(&self) -> String {
        fs::read_to_string(&self.hups).unwrap_or_default()
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for FakeSuperserver {
    fn drop(&mut self) {
        self.stop();
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
/// Sends signal number `signo` (real-time ones too) to `pid`; false when it could not
/// be sent.
pub fn send_signal(pid: i32, signo: i32) -> bool {
    // Not nix's kill: it has no real-time signals. SAFETY: kill(2) takes no pointers.
    unsafe { libc::kill(pid, signo) == 0 }
}

/// `text` with the decimal number `n` (not a part of a longer number) replaced by `by`
/// (a pid masked in a transcript).
pub fn replace_number(text: &str, n: impl std::fmt::Display, by: &str) -> String {
    let needle = n.to_string();
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        let before = rest[..at].chars().last();
        let after = rest[at + needle.len()..].chars().next();
        out.push_str(&rest[..at]);
        let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        out.push_str(if digit(before) || digit(after) {
            &needle
        } else {
            by
        });
        rest = &rest[at + needle.len()..];
    }
    out + rest
}

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
