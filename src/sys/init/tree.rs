//! init's place in the process tree: PID 1 of a machine, PID 1 of a container, or a
//! subreaper; and what that means for signalling everything and for the very end.

use std::collections::HashMap;
use std::io;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The inode number of the initial PID namespace (`PROC_PID_INIT_INO`, fixed by the kernel).
const INITIAL_PID_NS_INODE: u64 = 0xEFFF_FFFC;
const CAP_SYS_BOOT: u32 = 22;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// PID 1 of the machine: the end is `reboot(2)`.
    Machine,
    /// PID 1 of a PID namespace, or without CAP_SYS_BOOT: the end is `exit`.
    Container,
    /// Not PID 1: the reaper of its own descendants; the end is `exit`.
    Subreaper,
}

impl Role {
    pub fn detect() -> Role {
        if std::process::id() != 1 {
            Role::Subreaper
        } else if in_child_pid_namespace() || !has_cap_sys_boot() {
            Role::Container
        } else {
            Role::Machine
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Role::Machine => "PID 1",
            Role::Container => "PID 1 in a container",
            Role::Subreaper => "subreaper",
        }
    }
}

/// PID 1 of a machine booted without an initramfs starts with nothing mounted. Boot
/// scripts expect /proc and /sys (Debian's mountkernfs.sh mounts securityfs on
/// /sys/kernel/security before it mounts /sys, and skips it when the directory is not
/// there; sysvinit has /sys mounted by then, through libselinux). Mounts both when they
/// are missing, only on a machine and only on the real root.
pub fn mount_kernel_filesystems(root: &std::path::Path) {
    if std::process::id() != 1 || root != std::path::Path::new("/") {
        return;
    }
    // Without /proc a container cannot be told from a machine: look once it is there.
    let proc_missing = !std::path::Path::new("/proc/self").exists();
    if proc_missing && has_cap_sys_boot() {
        mount_fs(c"proc", c"/proc");
    }
    if Role::detect() == Role::Machine && !std::path::Path::new("/sys/kernel").exists() {
        mount_fs(c"sysfs", c"/sys");
    }
}

fn mount_fs(fstype: &std::ffi::CStr, target: &std::ffi::CStr) {
    let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    // SAFETY: mount(2) with NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::mount(
            fstype.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            flags,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        log::warn!(
            "cannot mount {} on {}: {}",
            fstype.to_string_lossy(),
            target.to_string_lossy(),
            std::io::Error::last_os_error()
        );
    }
}

/// True when /proc shows a PID namespace other than the initial one. Early in a
/// machine's boot /proc may not be mounted: that is not a container.
fn in_child_pid_namespace() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self/ns/pid").is_ok_and(|m| m.ino() != INITIAL_PID_NS_INODE)
}

fn has_cap_sys_boot() -> bool {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Default, Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut header = Header {
        version: 0x2008_0522,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: capget with a v3 header and room for two data structs.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    rc == 0 && data[0].effective & (1 << CAP_SYS_BOOT) != 0
}

/// Makes this process the reaper of its descendants' orphans.
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: a plain prctl.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sends `signal` to every process but init: `kill(-1)` as PID 1 (which spares init
/// itself), each descendant found in /proc as a subreaper (where `kill(-1)` would reach
/// every process of the user on the machine).
pub fn signal_everything(role: Role, signal: Signal) {
    match role {
        Role::Machine | Role::Container => {
            let _ = kill(Pid::from_raw(-1), signal);
        }
        Role::Subreaper => {
            for pid in descendants(Pid::this()) {
                let _ = kill(pid, signal);
            }
        }
    }
}

/// Every process below `root` in the process tree, from /proc.
pub fn descendants(root: Pid) -> Vec<Pid> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            if let Some(ppid) = parent_of(pid) {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut out = Vec::new();
    let mut stack = vec![root.as_raw()];
    while let Some(pid) = stack.pop() {
        for &child in children.get(&pid).map(Vec::as_slice).unwrap_or_default() {
            out.push(Pid::from_raw(child));
            stack.push(child);
        }
    }
    out
}

/// The parent pid from /proc/PID/stat.
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    crate::format::procstat::parse_stat(&stat).map(|s| s.ppid)
}

/// What the end of a shutdown asks the kernel for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HaltAction {
    PowerOff,
    Halt,
    Reboot,
}

/// Calls `reboot(2)`. Returns only on failure.
pub fn reboot(how: HaltAction) -> io::Error {
    let cmd = match how {
        HaltAction::PowerOff => libc::RB_POWER_OFF,
        HaltAction::Halt => libc::RB_HALT_SYSTEM,
        HaltAction::Reboot => libc::RB_AUTOBOOT,
    };
    // SAFETY: reboot(2) with a valid command.
    unsafe { libc::reboot(cmd) };
    io::Error::last_os_error()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_grandchildren() {
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "sleep 5 & wait"])
            .spawn()
            .unwrap();
        let me = Pid::this();
        let mut found = Vec::new();
        for _ in 0..100 {
            found = descendants(me);
            if found.len() >= 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(found.contains(&Pid::from_raw(child.id() as i32)));
        assert!(found.len() >= 2, "{found:?}");
        for pid in found.iter().rev() {
            let _ = kill(*pid, Signal::SIGKILL);
        }
        let _ = child.wait();
    }

    #[test]
    fn a_test_process_is_not_pid_1() {
        assert_eq!(Role::detect(), Role::Subreaper);
    }
}
