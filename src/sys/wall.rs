//! Broadcasting a message to every logged-in user (what `wall` does), for shutdown.

use std::io::Write;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use crate::format::utmp::{records, USER_PROCESS};
use crate::sys::layout::Root;

/// Prints `message` on stdout and writes it to the terminal of every user session in
/// the root's utmp. A terminal that would block or is not a terminal is skipped.
pub(crate) fn broadcast(root: &Root, message: &str) {
    let header = format!(
        "Broadcast message from {}@{} ({}):",
        user_name(),
        host_name(),
        crate::sys::local_time_string()
    );
    println!("\n{header}\n\n{message}\n");
    let Ok(bytes) = std::fs::read(root.utmp()) else {
        return;
    };
    let text = format!(
        "\r\n{header}\r\n\r\n{}\r\n\r\n",
        message.replace('\n', "\r\n")
    );
    for record in records(&bytes).filter(|r| r.kind == USER_PROCESS && r.pid > 0) {
        if let Some(tty) = tty_path(&record.line) {
            write_to_tty(&tty, text.as_bytes());
        }
    }
}

/// `/dev/LINE` for a utmp line such as `pts/3` or `tty1`; nothing that leaves /dev.
fn tty_path(line: &str) -> Option<std::path::PathBuf> {
    let line = line.strip_prefix("/dev/").unwrap_or(line);
    if line.is_empty()
        || line
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return None;
    }
    Some(Path::new("/dev").join(line))
}

fn write_to_tty(path: &Path, bytes: &[u8]) {
    if let Some(mut tty) = open_terminal(path) {
        let _ = tty.write_all(bytes);
    }
}

/// Opens `path` for writing only if it is a terminal: a character device (checked
/// before the open, which on some devices has effects of its own, and again on the
/// descriptor) that `isatty` accepts. A utmp line can name any file below /dev (a disk,
/// /dev/mem); nothing but a terminal is ever written. Never blocks, never becomes the
/// controlling terminal.
pub(crate) fn open_terminal(path: &Path) -> Option<std::fs::File> {
    let is_char_device = |m: std::fs::Metadata| m.file_type().is_char_device();
    if !std::fs::metadata(path).is_ok_and(is_char_device) {
        return None;
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)
        .ok()?;
    // SAFETY: isatty only looks at a descriptor we own.
    let tty = unsafe { libc::isatty(std::os::fd::AsRawFd::as_raw_fd(&file)) } == 1;
    (tty && file.metadata().is_ok_and(is_char_device)).then_some(file)
}

fn user_name() -> String {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map_or_else(|| nix::unistd::getuid().to_string(), |u| u.name)
}

fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_terminals_are_opened() {
        let tmp = tempfile::tempdir().unwrap();
        let plain = tmp.path().join("tty1");
        std::fs::write(&plain, "").unwrap();
        assert!(open_terminal(&plain).is_none(), "a regular file");
        assert!(
            open_terminal(Path::new("/dev/null")).is_none(),
            "a device, not a tty"
        );
        assert!(open_terminal(tmp.path()).is_none(), "a directory");
        assert!(open_terminal(&tmp.path().join("missing")).is_none());
        // SAFETY: posix_openpt takes no pointers; the master is closed at the end.
        let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY) };
        assert!(master >= 0);
        let mut name = [0 as libc::c_char; 64];
        // SAFETY: an open master; ptsname_r writes at most name.len() bytes, NUL included.
        unsafe {
            assert_eq!(libc::grantpt(master), 0);
            assert_eq!(libc::unlockpt(master), 0);
            assert_eq!(libc::ptsname_r(master, name.as_mut_ptr(), name.len()), 0);
        }
        // SAFETY: ptsname_r succeeded, so name holds a NUL-terminated string.
        let slave = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) };
        assert!(open_terminal(Path::new(slave.to_str().unwrap())).is_some());
        // SAFETY: the master opened above, owned by nothing else.
        unsafe { libc::close(master) };
    }

    #[test]
    fn tty_paths_stay_in_dev() {
        assert_eq!(tty_path("pts/3").unwrap(), Path::new("/dev/pts/3"));
        assert_eq!(tty_path("/dev/tty1").unwrap(), Path::new("/dev/tty1"));
        for bad in ["", "../etc/passwd", "pts/../../x", "a//b"] {
            assert!(tty_path(bad).is_none(), "{bad}");
        }
    }
}
