//! Processes that are not our children: who a pid is (through `/proc`), and a handle
//! that keeps naming the same process while we check, signal and wait for it.
//!
//! A pid alone is a race: the process may die and the number be given to another one
//! between the check and the `kill`. A [`Process`] holds a pidfd (Linux 5.3+): signals
//! sent through it reach that process or nobody, and its exit is seen by `poll`. Where
//! the kernel has no pidfds, the process's start time stands in for it.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::format::procstat::{parse_stat, ProcStat};
use crate::sys::layout::{proc_dir, proc_pid};

/// The kernel keeps this many bytes of a command name.
pub const COMM_LEN: usize = 15;

/// `/proc/PID/stat`, or None when there is no such process.
pub fn stat(pid: Pid) -> Option<ProcStat> {
    let text = std::fs::read_to_string(proc_pid(pid.as_raw()).join("stat")).ok()?;
    parse_stat(&text)
}

/// Alive: exists and is not a zombie.
pub fn is_alive(pid: Pid) -> bool {
    stat(pid).is_some_and(|s| s.state != 'Z')
}

/// What a process must be to count as "the daemon": the options `--exec`, `--name`,
/// `--user` of `vinit daemon`. An empty identity matches every live process.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    pub exec: Option<PathBuf>,
    /// The executable's device and inode, read once.
    exec_file: Option<(u64, u64)>,
    pub name: Option<String>,
    pub uid: Option<u32>,
}

impl Identity {
    pub fn new(exec: Option<PathBuf>, name: Option<String>, uid: Option<u32>) -> Identity {
        let exec_file = exec
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| (m.dev(), m.ino()));
        Identity {
            exec,
            exec_file,
            name,
            uid,
        }
    }

    /// Whether it says anything about the program (not only the user).
    pub fn names_program(&self) -> bool {
        self.exec.is_some() || self.name.is_some()
    }

    /// Whether `pid` is a live process matching every given part.
    pub fn matches(&self, pid: Pid) -> bool {
        let Some(stat) = stat(pid) else {
            return false;
        };
        if stat.state == 'Z' {
            return false;
        }
        let dir = proc_pid(pid.as_raw());
        if let Some(uid) = self.uid {
            if std::fs::metadata(&dir).map(|m| m.uid()).ok() != Some(uid) {
                return false;
            }
        }
        if let Some(name) = &self.name {
            if !comm_matches(&stat.comm, name) {
                return false;
            }
        }
        match &self.exec {
            Some(exec) => self.exec_matches(&dir, exec),
            None => true,
        }
    }

    /// The same executable file (by device and inode, as start-stop-daemon compares),
    /// the same path (also after the file was replaced on disk: `PATH (deleted)`), or, for
    /// a script, the script among the interpreter's first arguments.
    fn exec_matches(&self, dir: &Path, exec: &Path) -> bool {
        let exe_link = dir.join("exe");
        if let (Some(want), Ok(meta)) = (self.exec_file, std::fs::metadata(&exe_link)) {
            if (meta.dev(), meta.ino()) == want {
                return true;
            }
        }
        if let Ok(target) = std::fs::read_link(&exe_link) {
            let target = target.as_os_str().as_bytes();
            let target = target.strip_suffix(b" (deleted)").unwrap_or(target);
            if target == exec.as_os_str().as_bytes() {
                return true;
            }
        }
        cmdline(dir)
            .iter()
            .take(3)
            .any(|arg| Path::new(OsStr::from_bytes(arg)) == exec)
    }
}

/// A command name against a wanted name: the kernel cuts names at 15 bytes.
fn comm_matches(comm: &str, name: &str) -> bool {
    let cut = |s: &str| -> Vec<u8> { s.as_bytes().iter().take(COMM_LEN).copied().collect() };
    cut(comm) == cut(name)
}

fn cmdline(dir: &Path) -> Vec<Vec<u8>> {
    std::fs::read(dir.join("cmdline"))
        .map(|b| {
            b.split(|&c| c == 0)
                .filter(|a| !a.is_empty())
                .map(<[u8]>::to_vec)
                .collect()
        })
        .unwrap_or_default()
}

/// Every live process matching `identity`, except those in `exclude`.
pub fn scan(identity: &Identity, exclude: &[Pid]) -> Vec<Pid> {
    let Ok(entries) = std::fs::read_dir(proc_dir()) else {
        return Vec::new();
    };
    let mut pids: Vec<Pid> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .map(Pid::from_raw)
        .filter(|p| !exclude.contains(p) && identity.matches(*p))
        .collect();
    pids.sort();
    pids
}

/// This process and its ancestors up to PID 1 (an init script's shell is named after
/// the service: it must never count as the service).
pub fn self_and_ancestors() -> Vec<Pid> {
    let mut out = vec![Pid::this()];
    let mut pid = Pid::parent();
    while pid.as_raw() > 1 && !out.contains(&pid) {
        out.push(pid);
        match stat(pid) {
            Some(s) => pid = Pid::from_raw(s.ppid),
            None => break,
        }
    }
    out
}

/// A handle on one process.
#[derive(Debug)]
pub struct Process {
    pid: Pid,
    pidfd: Option<OwnedFd>,
    /// Start time at opening (the fallback's identity check).
    start_time: u64,
}

impl Process {
    /// Opens a handle on `pid`; None when no such process exists.
    pub fn open(pid: Pid) -> Option<Process> {
        Process::open_with(pid, true)
    }

    fn open_with(pid: Pid, use_pidfd: bool) -> Option<Process> {
        let pidfd = if use_pidfd {
            match pidfd_open(pid) {
                Ok(fd) => Some(fd),
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return None,
                Err(_) => None,
            }
        } else {
            None
        };
        let start_time = stat(pid)?.start_time;
        Some(Process {
            pid,
            pidfd,
            start_time,
        })
    }

    /// Opens `pid` only if `check` holds for it while the handle pins it (the handle
    /// is opened first, then checked, then found still alive: so the process checked
    /// is the one the handle names, not a successor with the same number).
    pub fn open_checked(pid: Pid, check: impl Fn(Pid) -> bool) -> Option<Process> {
        let process = Process::open(pid)?;
        (check(pid) && process.is_alive()).then_some(process)
    }

    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Still running (a zombie has exited).
    pub fn is_alive(&self) -> bool {
        match &self.pidfd {
            Some(fd) => !pidfd_readable(fd, Duration::ZERO),
            None => {
                stat(self.pid).is_some_and(|s| s.start_time == self.start_time && s.state != 'Z')
            }
        }
    }

    /// Sends `signal`; Ok(false) when the process is gone.
    pub fn signal(&self, signal: Signal) -> io::Result<bool> {
        let result = match &self.pidfd {
            Some(fd) => {
                // SAFETY: a plain system call on a descriptor we own.
                let r = unsafe {
                    libc::syscall(
                        libc::SYS_pidfd_send_signal,
                        fd.as_raw_fd(),
                        signal as libc::c_int,
                        std::ptr::null::<libc::siginfo_t>(),
                        0u32,
                    )
                };
                if r < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(())
                }
            }
            None => {
                if !self.is_alive() {
                    return Ok(false);
                }
                nix::sys::signal::kill(self.pid, signal).map_err(io::Error::from)
            }
        };
        match result {
            Ok(()) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Waits up to `timeout` for the process to exit; true when it has.
    pub fn wait_exit(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if !self.is_alive() {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            match &self.pidfd {
                Some(fd) => {
                    pidfd_readable(fd, left);
                }
                None => std::thread::sleep(left.min(Duration::from_millis(20))),
            }
        }
    }
}

/// A pidfd is readable once its process has exited.
fn pidfd_readable(fd: &OwnedFd, wait: Duration) -> bool {
    let ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
    let timeout = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    loop {
        match poll(&mut fds, timeout) {
            Ok(n) => return n > 0,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return false,
        }
    }
}

/// A descriptor that becomes readable when `pid` exits (Linux 5.3+), and names that
/// very process even after its pid is reused.
pub fn pidfd_open(pid: Pid) -> io::Result<OwnedFd> {
    // SAFETY: a plain system call; on success it returns a new descriptor we own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just gave us this descriptor (pidfds are close-on-exec).
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn sleeper() -> std::process::Child {
        Command::new("sleep").arg("30").spawn().unwrap()
    }

    #[test]
    fn identity_by_exec_name_and_user() {
        let mut child = sleeper();
        let pid = Pid::from_raw(child.id() as i32);
        let sleep_path = std::fs::read_link(proc_pid(pid.as_raw()).join("exe")).unwrap();
        assert!(Identity::new(Some(sleep_path.clone()), None, None).matches(pid));
        assert!(Identity::new(None, Some("sleep".into()), None).matches(pid));
        assert!(!Identity::new(None, Some("sleepy".into()), None).matches(pid));
        assert!(!Identity::new(Some("/bin/sh".into()), None, None).matches(pid));
        let uid = nix::unistd::getuid().as_raw();
        assert!(Identity::new(None, None, Some(uid)).matches(pid));
        assert!(!Identity::new(None, None, Some(uid + 4242)).matches(pid));
        assert!(scan(&Identity::new(Some(sleep_path), None, None), &[]).contains(&pid));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!Identity::default().matches(pid));
    }

    #[test]
    fn long_names_compare_on_fifteen_bytes() {
        assert!(comm_matches("a-very-long-nam", "a-very-long-name-indeed"));
        assert!(!comm_matches("short", "shorter"));
    }

    #[test]
    fn handles_signal_and_wait_with_and_without_pidfds() {
        for use_pidfd in [true, false] {
            let mut child = sleeper();
            let pid = Pid::from_raw(child.id() as i32);
            let process = Process::open_with(pid, use_pidfd).unwrap();
            assert!(process.is_alive());
            assert!(!process.wait_exit(Duration::from_millis(10)));
            assert!(process.signal(Signal::SIGTERM).unwrap());
            // Our own child: it stays a zombie until reaped, and a zombie has exited.
            assert!(process.wait_exit(Duration::from_secs(10)));
            child.wait().unwrap();
            assert!(!process.signal(Signal::SIGTERM).unwrap());
        }
    }

    #[test]
    fn open_checked_refuses_a_mismatch() {
        let mut child = sleeper();
        let pid = Pid::from_raw(child.id() as i32);
        assert!(Process::open_checked(pid, |_| false).is_none());
        assert!(
            Process::open_checked(pid, |p| Identity::new(None, Some("sleep".into()), None)
                .matches(p))
            .is_some()
        );
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(Process::open(pid).is_none());
    }

    #[test]
    fn ancestors_include_us_and_our_parent() {
        let list = self_and_ancestors();
        assert_eq!(list[0], Pid::this());
        assert!(list.contains(&Pid::parent()) || Pid::parent().as_raw() == 1);
    }
}
