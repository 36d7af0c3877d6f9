//! The thin layer that touches the system: file layout, rc directories, spawning,
//! waiting, atomic links, locks. Everything above it is pure data.

pub mod daemon;
pub mod fs;
pub mod init;
pub mod initctl;
pub mod layout;
pub mod links;
pub mod memory;
pub mod nss;
pub mod pidfile;
pub mod proc;
pub mod rcdir;
pub mod rcexec;
pub mod rcorder;
pub mod runtime;
pub mod script;
pub mod services;
pub mod spawn;
pub mod superserver;
pub mod syslog;
pub mod syslog_sinks;
pub mod syslogd;
pub mod terminal;
pub mod utmp;
pub mod wall;

/// `PATH` for everything init and rc start (sysvinit's value).
pub const DEFAULT_PATH: &str = "/sbin:/usr/sbin:/bin:/usr/bin";

pub use crate::error::describe_io;

/// The local time as `YYYY-MM-DD HH:MM:SS`, for logs.
pub fn local_time_string() -> String {
    local_time(c"%Y-%m-%d %H:%M:%S", None)
}

/// A local time (now, or `secs` since the epoch) formatted by `strftime`.
pub fn local_time(format: &std::ffi::CStr, secs: Option<i64>) -> String {
    // SAFETY: plain libc calls on local buffers.
    unsafe {
        let t = secs.map_or_else(|| libc::time(std::ptr::null_mut()), |s| s as libc::time_t);
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return String::new();
        }
        let mut buf = [0u8; 64];
        let n = libc::strftime(buf.as_mut_ptr().cast(), buf.len(), format.as_ptr(), &tm);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

/// Points stdin, stdout and stderr at /dev/null (a daemon after it detached).
pub fn silence_stdio() {
    use std::os::fd::AsRawFd;
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors, which this process owns.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
}
