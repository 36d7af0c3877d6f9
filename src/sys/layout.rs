//! Where everything lives: the one module that knows the file system layout.
//!
//! Every tool works against a root directory (`--root DIR`, `VINIT_ROOT`, default `/`).
//! The root relocates the files vinit finds by itself — configuration, rc directories,
//! the control FIFO, the log socket, default pidfiles and locks. A path written inside a
//! configuration file or given on a command line is used exactly as written.
//!
//! Two real-world layouts exist and are detected here:
//! - Red Hat: `etc/rc.d/init.d` and `etc/rc.d/rcN.d` are the real directories
//!   (`etc/init.d` and `etc/rcN.d` are links to them);
//! - Debian: `etc/init.d` and `etc/rcN.d`.

use std::ffi::OsStr;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::format::runlevel::Runlevel;

/// The environment variable that names the root when `--root` is not given.
pub const ROOT_ENV: &str = "VINIT_ROOT";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    RedHat,
    Debian,
}

impl Flavor {
    pub fn name(self) -> &'static str {
        match self {
            Flavor::RedHat => "redhat",
            Flavor::Debian => "debian",
        }
    }
}

/// A root directory and the layout found in it.
#[derive(Clone, Debug)]
pub struct Root {
    dir: PathBuf,
    flavor: Flavor,
}

impl Root {
    /// Opens a root, detecting its layout. A root with neither layout is treated as
    /// Debian-style, the simpler one, so that tools can create it.
    pub fn open(dir: impl Into<PathBuf>) -> Root {
        let dir = dir.into();
        let flavor = if dir.join("etc/rc.d/init.d").is_dir() {
            Flavor::RedHat
        } else {
            Flavor::Debian
        };
        Root { dir, flavor }
    }

    /// The root chosen by `--root` (if given), else `VINIT_ROOT`, else `/`.
    pub fn from_option(option: Option<&Path>) -> Root {
        match option {
            Some(dir) => Root::open(dir),
            None => match std::env::var_os(ROOT_ENV) {
                Some(dir) if !dir.is_empty() => Root::open(PathBuf::from(dir)),
                _ => Root::open("/"),
            },
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// Whether this is the machine's own root (`/`): tools then act on the live system.
    pub fn is_system_root(&self) -> bool {
        self.dir == Path::new("/")
    }

    /// A path below the root. `rel` is relative (`etc/inittab`).
    fn at(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Where the rc tree lives: `etc/rc.d` (Red Hat) or `etc` (Debian).
    fn rc_base(&self) -> PathBuf {
        match self.flavor {
            Flavor::RedHat => self.at("etc/rc.d"),
            Flavor::Debian => self.at("etc"),
        }
    }

    pub fn init_d(&self) -> PathBuf {
        self.rc_base().join("init.d")
    }

    /// The script of a service in `init.d`.
    pub fn init_script(&self, service: &str) -> PathBuf {
        self.init_d().join(service)
    }

    /// `rcN.d` for a level (`rcS.d` for S).
    pub fn rc_dir(&self, level: Runlevel) -> PathBuf {
        self.rc_base().join(format!("rc{}.d", level.as_char()))
    }

    pub fn inittab(&self) -> PathBuf {
        self.at("etc/inittab")
    }

    /// Red Hat's lock directory: a service's lock says "started by its script".
    pub fn subsys_dir(&self) -> PathBuf {
        self.at("var/lock/subsys")
    }

    /// init's control FIFO.
    pub fn initctl(&self) -> PathBuf {
        self.at("run/initctl")
    }

    /// The bare level character of the current runlevel.
    pub fn runlevel_file(&self) -> PathBuf {
        self.at("run/runlevel")
    }

    /// The previous runlevel's character (`N` at boot), next to `run/runlevel`.
    pub fn prevlevel_file(&self) -> PathBuf {
        self.at("run/prevlevel")
    }

    /// The pid of a pending `shutdown` (for `shutdown -c`).
    pub fn shutdown_pidfile(&self) -> PathBuf {
        self.at("run/shutdown.pid")
    }

    pub fn powerstatus(&self) -> PathBuf {
        self.at("run/powerstatus")
    }

    pub fn utmp(&self) -> PathBuf {
        self.at("run/utmp")
    }

    pub fn wtmp(&self) -> PathBuf {
        self.at("var/log/wtmp")
    }

    pub fn boot_log(&self) -> PathBuf {
        self.at("var/log/boot.log")
    }

    /// rc's boot report: the level changes since the last boot, script by script.
    pub fn rc_report(&self) -> PathBuf {
        self.at("var/log/vinit/rc-report")
    }

    /// Debian's defaults for the boot scripts (`CONCURRENCY=none` there makes rc
    /// sequential).
    pub fn default_rcs(&self) -> PathBuf {
        self.at("etc/default/rcS")
    }

    pub fn nologin(&self) -> PathBuf {
        self.at("etc/nologin")
    }

    /// The local syslog socket.
    pub fn dev_log(&self) -> PathBuf {
        self.at("dev/log")
    }

    pub fn syslog_conf(&self) -> PathBuf {
        self.at("etc/syslog.conf")
    }

    /// The kernel log device; syslogd reads it when it exists below the root.
    pub fn kmsg(&self) -> PathBuf {
        self.at("dev/kmsg")
    }

    /// A terminal as utmp names it (`pts/3`, relative to `dev`); None for a name that
    /// would leave `dev`.
    pub fn terminal(&self, line: &str) -> Option<PathBuf> {
        let rel = Path::new(line);
        let inside =
            !line.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)));
        inside.then(|| self.at("dev").join(rel))
    }

    pub fn xinetd_conf(&self) -> PathBuf {
        self.at("etc/xinetd.conf")
    }

    pub fn xinetd_d(&self) -> PathBuf {
        self.at("etc/xinetd.d")
    }

    pub fn inetd_conf(&self) -> PathBuf {
        self.at("etc/inetd.conf")
    }

    pub fn services(&self) -> PathBuf {
        self.at("etc/services")
    }

    pub fn chkconfig_d(&self) -> PathBuf {
        self.at("etc/chkconfig.d")
    }

    /// The log file of a daemon that has no syslog to write to: `var/log/NAME.log`.
    pub fn daemon_log(&self, name: &str) -> PathBuf {
        self.at("var/log").join(format!("{name}.log"))
    }

    /// insserv's facility definitions (`$network +networking`), read for LSB ordering.
    pub fn insserv_conf(&self) -> PathBuf {
        self.at("etc/insserv.conf")
    }

    pub fn insserv_conf_d(&self) -> PathBuf {
        self.at("etc/insserv.conf.d")
    }

    /// The journal of an rc-link change in progress. It sits in `init.d` (a hidden
    /// name, ignored by every tool that lists scripts) so that it is on the same file
    /// system as the links and writable by whoever may change them.
    pub fn links_journal(&self) -> PathBuf {
        self.init_d().join(".vinit-links.journal")
    }

    /// The default pidfile of a daemon: `run/NAME.pid`.
    pub fn pidfile(&self, name: &str) -> PathBuf {
        self.at("run").join(format!("{name}.pid"))
    }

    /// Environment handed to scripts so that they find their files under the same root.
    /// Empty for the system root.
    pub fn script_env(&self) -> Option<(&'static str, &OsStr)> {
        (!self.is_system_root()).then(|| (ROOT_ENV, self.dir.as_os_str()))
    }

    /// Resolves `path` (which must lie below the root) the way a process chrooted into
    /// the root would: absolute symlink targets are taken relative to the root, and `..`
    /// never climbs above it. Returns the resolved path on this machine.
    ///
    /// This is how rc decides where a link in `rcN.d` really points without ever
    /// following an absolute link out of the root into the host's `/etc`.
    pub fn resolve(&self, path: &Path) -> io::Result<PathBuf> {
        let rel = path
            .strip_prefix(&self.dir)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path is outside the root"))?;
        self.walk(PathBuf::new(), rel.to_path_buf())
    }

    /// Resolves a link target read from a symlink in `dir` (itself already resolved, below
    /// the root), with the same rules as [`Root::resolve`].
    pub fn resolve_link_target(&self, dir: &Path, target: &Path) -> io::Result<PathBuf> {
        let rel = dir
            .strip_prefix(&self.dir)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path is outside the root"))?;
        self.walk(rel.to_path_buf(), target.to_path_buf())
    }

    /// Walks `rest` starting from `done` (both relative to the root, `done` resolved).
    fn walk(&self, mut done: PathBuf, rest: PathBuf) -> io::Result<PathBuf> {
        let mut pending: Vec<PathBuf> = vec![rest];
        let mut hops = 0;
        while let Some(next) = pending.pop() {
            let mut components: Vec<Component> = next.components().collect();
            components.reverse();
            while let Some(component) = components.pop() {
                match component {
                    Component::RootDir => done = PathBuf::new(),
                    Component::CurDir | Component::Prefix(_) => {}
                    Component::ParentDir => {
                        done.pop();
                    }
                    Component::Normal(name) => {
                        let candidate = done.join(name);
                        let on_disk = self.dir.join(&candidate);
                        if !std::fs::symlink_metadata(&on_disk)?
                            .file_type()
                            .is_symlink()
                        {
                            done = candidate;
                            continue;
                        }
                        hops += 1;
                        if hops > 40 {
                            return Err(io::Error::from_raw_os_error(libc::ELOOP));
                        }
                        let target = std::fs::read_link(&on_disk)?;
                        let rest: PathBuf = components.iter().rev().collect();
                        components.clear();
                        pending.push(rest);
                        pending.push(target);
                    }
                }
            }
        }
        Ok(self.dir.join(done))
    }
}

/// The kernel's process table. Never below the root: processes belong to the machine,
/// whatever root a tool works on.
pub fn proc_dir() -> &'static Path {
    Path::new("/proc")
}

/// `/proc/PID`.
pub fn proc_pid(pid: i32) -> PathBuf {
    proc_dir().join(pid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    #[test]
    fn detects_both_layouts() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path());
        assert_eq!(root.flavor(), Flavor::Debian);
        assert_eq!(
            root.rc_dir(Runlevel::from_char('3').unwrap()),
            tmp.path().join("etc/rc3.d")
        );

        fs::create_dir_all(tmp.path().join("etc/rc.d/init.d")).unwrap();
        let root = Root::open(tmp.path());
        assert_eq!(root.flavor(), Flavor::RedHat);
        assert_eq!(root.init_d(), tmp.path().join("etc/rc.d/init.d"));
        assert_eq!(
            root.rc_dir(Runlevel::SINGLE),
            tmp.path().join("etc/rc.d/rcS.d")
        );
    }

    #[test]
    fn resolve_keeps_absolute_links_inside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path();
        fs::create_dir_all(base.join("etc/init.d")).unwrap();
        fs::create_dir_all(base.join("etc/rc3.d")).unwrap();
        fs::write(base.join("etc/init.d/foo"), "#!/bin/sh\n").unwrap();
        symlink("/etc/init.d/foo", base.join("etc/rc3.d/S10abs")).unwrap();
        symlink("../init.d/foo", base.join("etc/rc3.d/S10rel")).unwrap();
        symlink(
            "../../../../../../etc/init.d/foo",
            base.join("etc/rc3.d/S10climb"),
        )
        .unwrap();
        let root = Root::open(base);
        let want = base.join("etc/init.d/foo");
        for name in ["S10abs", "S10rel", "S10climb"] {
            assert_eq!(
                root.resolve(&base.join("etc/rc3.d").join(name)).unwrap(),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn resolve_follows_redhat_directory_links_and_detects_loops() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path();
        fs::create_dir_all(base.join("etc/rc.d/init.d")).unwrap();
        fs::write(base.join("etc/rc.d/init.d/foo"), "").unwrap();
        symlink("rc.d/init.d", base.join("etc/init.d")).unwrap();
        let root = Root::open(base);
        assert_eq!(
            root.resolve(&base.join("etc/init.d/foo")).unwrap(),
            base.join("etc/rc.d/init.d/foo")
        );

        symlink("loop2", base.join("etc/loop1")).unwrap();
        symlink("loop1", base.join("etc/loop2")).unwrap();
        assert_eq!(
            root.resolve(&base.join("etc/loop1"))
                .unwrap_err()
                .raw_os_error(),
            Some(libc::ELOOP)
        );
        assert!(root.resolve(&base.join("etc/missing")).is_err());
        assert!(root.resolve(Path::new("/elsewhere")).is_err());
    }

    #[test]
    fn terminals_stay_in_dev() {
        let root = Root::open("/r");
        assert_eq!(root.terminal("pts/3"), Some(PathBuf::from("/r/dev/pts/3")));
        assert_eq!(root.terminal("../etc/passwd"), None);
        assert_eq!(root.terminal("/dev/tty1"), None);
        assert_eq!(root.terminal(""), None);
    }
}
