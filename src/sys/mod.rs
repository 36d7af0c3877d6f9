//! The thin layer that touches the system: file layout, rc directories, spawning,
//! waiting, atomic links, locks. Everything above it is pure data.

pub mod layout;
pub mod links;
pub mod pidfile;
pub mod rcdir;
pub mod rcexec;
pub mod script;
pub mod services;
pub mod spawn;
pub mod syslog;

/// `PATH` for everything init and rc start (sysvinit's value).
pub const DEFAULT_PATH: &str = "/sbin:/usr/sbin:/bin:/usr/bin";

/// An I/O error as a short phrase, without Rust's "(os error N)" suffix.
pub fn describe_io(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => e.to_string(),
    }
}

/// The local time as `YYYY-MM-DD HH:MM:SS`, for logs.
pub fn local_time_string() -> String {
    // SAFETY: plain libc calls on local buffers.
    unsafe {
        let now = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&now, &mut tm);
        let mut buf = [0u8; 32];
        let n = libc::strftime(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%Y-%m-%d %H:%M:%S".as_ptr(),
            &tm,
        );
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}
