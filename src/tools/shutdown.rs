//! `vinit shutdown`: brings the system down at a given time, warning logged-in users,
//! closing logins (`etc/nologin`) in the last five minutes, then asking init for
//! runlevel 0 (`-h`, `-H`, `-P`), 6 (`-r`) or 1 (neither). `-c` cancels a pending one.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, SigSet, Signal};
use nix::unistd::Pid;

use super::Context;
use crate::format::initreq::Request;
use crate::sys::initctl::send;
use crate::sys::layout::Root;

const USAGE: &str = "\
Usage: shutdown [--root DIR] [-t SECS] [-h|-H|-P|-r|-k] TIME [MESSAGE...]
       shutdown [--root DIR] -c [MESSAGE...]
  -h          halt or power off (runlevel 0); -H halt, -P power off (sets INIT_HALT)
  -r          reboot (runlevel 6); with neither -h nor -r: single user (runlevel 1)
  -k          only warn users, do not shut down
  -c          cancel a pending shutdown
  -t SECS     seconds between TERM and KILL for processes leaving the runlevel
  TIME        now, +MINUTES, MINUTES or hh:mm";

/// Logins close this long before the time.
const NOLOGIN_BEFORE: Duration = Duration::from_secs(300);

#[derive(Debug, Default, PartialEq, Eq)]
struct Args {
    root: Option<PathBuf>,
    level: char,
    halt: Option<&'static str>,
    warn_only: bool,
    cancel: bool,
    sleep_secs: u32,
    when: Option<When>,
    message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum When {
    Minutes(u64),
    At(u32, u32),
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let args = match parse(&args[1..]) {
        Ok(a) => a,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return 0;
        }
        Err(msg) => {
            eprintln!("shutdown: {msg}\n{USAGE}");
            return 1;
        }
    };
    // As sysvinit: only root shuts down, cancels or warns (any user could otherwise
    // send "The system is going down" to every terminal).
    if !nix::unistd::getuid().is_root() {
        eprintln!("shutdown: you must be root to do that!\n{USAGE}");
        return 1;
    }
    let root = ctx.root(args.root.as_deref());
    if args.cancel {
        return cancel(&root, &args.message);
    }
    if !args.warn_only {
        if let Err(e) = check_access(&root) {
            eprintln!("shutdown: {e}");
            return 1;
        }
    }
    let delay = match args.when {
        Some(When::Minutes(m)) => Duration::from_secs(m * 60),
        Some(When::At(h, m)) => seconds_until(h, m),
        None => Duration::ZERO,
    };
    schedule(&root, &args, delay)
}

fn parse(args: &[OsString]) -> Result<Args, String> {
    let mut out = Args {
        level: '1',
        ..Args::default()
    };
    let mut rest: Vec<String> = Vec::new();
    let mut iter = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = iter.next() {
        if !rest.is_empty() || !arg.starts_with('-') || arg == "-" {
            rest.push(arg);
            continue;
        }
        match arg.as_str() {
            "--help" => return Err(String::new()),
            "--root" => {
                out.root = Some(PathBuf::from(
                    iter.next().ok_or("--root needs a directory")?,
                ))
            }
            "-t" => {
                let secs = iter.next().ok_or("-t needs seconds")?;
                out.sleep_secs = secs.parse().map_err(|_| format!("invalid -t \"{secs}\""))?;
            }
            flags => {
                for flag in flags[1..].chars() {
                    match flag {
                        'h' => out.level = '0',
                        'H' => (out.level, out.halt) = ('0', Some("HALT")),
                        'P' => (out.level, out.halt) = ('0', Some("POWEROFF")),
                        'r' => out.level = '6',
                        'k' => out.warn_only = true,
                        'c' => out.cancel = true,
                        _ => return Err(format!("invalid option -{flag}")),
                    }
                }
            }
        }
    }
    let mut rest = rest.into_iter();
    if !out.cancel {
        let time = rest.next().ok_or("no time given")?;
        out.when = Some(parse_time(&time)?);
    }
    out.message = rest.collect::<Vec<_>>().join(" ");
    Ok(out)
}

fn parse_time(s: &str) -> Result<When, String> {
    let bad = || format!("invalid time \"{s}\": expected now, +MINUTES or hh:mm");
    if s == "now" {
        return Ok(When::Minutes(0));
    }
    if let Some((h, m)) = s.split_once(':') {
        let h: u32 = h.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        return if h < 24 && m < 60 {
            Ok(When::At(h, m))
        } else {
            Err(bad())
        };
    }
    s.strip_prefix('+')
        .unwrap_or(s)
        .parse()
        .map(When::Minutes)
        .map_err(|_| bad())
}

/// From now until the next hh:mm, local time.
fn seconds_until(hour: u32, minute: u32) -> Duration {
    // SAFETY: plain libc time conversions on local values.
    let (now, mut tm) = unsafe {
        let now = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&now, &mut tm);
        (now, tm)
    };
    tm.tm_hour = hour as i32;
    tm.tm_min = minute as i32;
    tm.tm_sec = 0;
    // SAFETY: mktime normalises the struct we own.
    let mut at = unsafe { libc::mktime(&mut tm) };
    if at <= now {
        at += 24 * 3600;
    }
    Duration::from_secs((at - now) as u64)
}

/// Fails early (not when the time comes) if init cannot be asked.
fn check_access(root: &Root) -> Result<(), String> {
    let path = root.initctl();
    match nix::unistd::access(&path, nix::unistd::AccessFlags::W_OK) {
        Ok(()) => Ok(()),
        Err(nix::errno::Errno::EACCES | nix::errno::Errno::EPERM) => {
            Err("you must be root to do that!".into())
        }
        Err(nix::errno::Errno::ENOENT) => Err(format!(
            "{}: no control channel (is init running?)",
            path.display()
        )),
        Err(e) => Err(format!("{}: {}", path.display(), e.desc())),
    }
}

fn what(args: &Args) -> &'static str {
    match (args.level, args.halt) {
        ('6', _) => "reboot",
        ('0', Some("HALT")) => "system halt",
        ('0', _) => "power off",
        _ => "maintenance mode",
    }
}

fn warning(args: &Args, left: Duration) -> String {
    let when = match left.as_secs() {
        0 => "NOW".to_string(),
        s if s < 90 => "in 1 minute".to_string(),
        s => format!("in {} minutes", s.div_ceil(60)),
    };
    let mut text = format!(
        "{} for {} {when}!",
        crate::sys::init::NOLOGIN_MARK,
        what(args)
    );
    if !args.message.is_empty() {
        text.push('\n');
        text.push_str(&args.message);
    }
    text
}

/// Waits for the time (warning users, closing logins), then asks init. SIGINT or SIGTERM
/// (from `shutdown -c`) cancels.
fn schedule(root: &Root, args: &Args, delay: Duration) -> i32 {
    let pidfile = root.shutdown_pidfile();
    if !args.warn_only && delay > Duration::ZERO {
        if let Ok(Some(pid)) = crate::sys::pidfile::read_pidfile(&pidfile) {
            if kill(pid, None).is_ok() {
                eprintln!("shutdown: a shutdown is already pending (pid {pid}); cancel it with shutdown -c");
                return 1;
            }
        }
        if let Err(e) = crate::sys::pidfile::write_pidfile(&pidfile, Pid::this()) {
            eprintln!(
                "shutdown: {}: {}",
                pidfile.display(),
                crate::sys::describe_io(&e)
            );
        }
    }
    let mut cancel = SigSet::empty();
    cancel.add(Signal::SIGINT);
    cancel.add(Signal::SIGTERM);
    let _ = cancel.thread_block();
    let deadline = Instant::now() + delay;
    let mut nologin_written = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        crate::sys::wall::broadcast(root, &warning(args, left));
        if args.warn_only {
            return 0;
        }
        if left <= NOLOGIN_BEFORE && !nologin_written {
            let text = format!("{}\n", warning(args, left));
            if let Err(e) = std::fs::write(root.nologin(), text) {
                eprintln!(
                    "shutdown: {}: {}",
                    root.nologin().display(),
                    crate::sys::describe_io(&e)
                );
            }
            nologin_written = true;
        }
        if left.is_zero() {
            break;
        }
        if wait_for_cancel(&cancel, next_warning(left)) {
            crate::sys::wall::broadcast(root, "Shutdown cancelled.");
            if nologin_written {
                let _ = std::fs::remove_file(root.nologin());
            }
            let _ = std::fs::remove_file(&pidfile);
            return 1;
        }
    }
    let _ = std::fs::remove_file(&pidfile);
    ask_init(root, args)
}

/// How long to sleep before the next warning: at every hour, every 15 minutes under an
/// hour, every minute under 15, at the nologin mark, and at the time itself.
fn next_warning(left: Duration) -> Duration {
    let s = left.as_secs();
    let step = match s {
        0..=60 => s,
        61..=900 => (s - 1) % 60 + 1,
        901..=3600 => (s - 1) % 900 + 1,
        _ => (s - 1) % 3600 + 1,
    };
    let to_nologin = s.saturating_sub(NOLOGIN_BEFORE.as_secs());
    let step = if to_nologin > 0 {
        step.min(to_nologin)
    } else {
        step
    };
    Duration::from_secs(step.max(1)).min(left)
}

/// Sleeps up to `wait`; true when a cancel signal arrived.
fn wait_for_cancel(set: &SigSet, wait: Duration) -> bool {
    let timeout = libc::timespec {
        tv_sec: wait.as_secs() as libc::time_t,
        tv_nsec: wait.subsec_nanos() as libc::c_long,
    };
    // SAFETY: sigtimedwait on a valid set; the info pointer may be null.
    let rc = unsafe { libc::sigtimedwait(set.as_ref(), std::ptr::null_mut(), &timeout) };
    rc > 0
}

fn ask_init(root: &Root, args: &Args) -> i32 {
    let mut requests = Vec::new();
    if let Some(value) = args.halt {
        requests.push(Request::SetEnv(vec![(
            "INIT_HALT".into(),
            Some(value.into()),
        )]));
    }
    requests.push(Request::Runlevel {
        level: args.level,
        sleep_secs: args.sleep_secs,
    });
    for request in requests {
        if let Err(e) = send(root, &request) {
            eprintln!("shutdown: {e}");
            return 1;
        }
    }
    0
}

fn cancel(root: &Root, message: &str) -> i32 {
    let pidfile = root.shutdown_pidfile();
    let pid = match crate::sys::pidfile::read_pidfile(&pidfile) {
        Ok(Some(pid)) if kill(pid, None).is_ok() => pid,
        _ => {
            eprintln!("shutdown: cannot find pid of running shutdown.");
            return 1;
        }
    };
    if let Err(e) = kill(pid, Signal::SIGINT) {
        eprintln!("shutdown: cannot cancel pid {pid}: {}", e.desc());
        return 1;
    }
    if !message.is_empty() {
        crate::sys::wall::broadcast(root, message);
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(list: &[&str]) -> Result<Args, String> {
        parse(&list.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn options_time_and_message() {
        let a = p(&["-r", "now", "going", "down"]).unwrap();
        assert_eq!(
            (a.level, a.when, a.message.as_str()),
            ('6', Some(When::Minutes(0)), "going down")
        );
        let a = p(&["-P", "-t", "9", "+5"]).unwrap();
        assert_eq!(
            (a.level, a.halt, a.sleep_secs, a.when),
            ('0', Some("POWEROFF"), 9, Some(When::Minutes(5)))
        );
        let a = p(&["-hk", "23:59"]).unwrap();
        assert!(a.warn_only && a.level == '0' && a.when == Some(When::At(23, 59)));
        assert_eq!(p(&["10"]).unwrap().level, '1');
        assert!(p(&["-c"]).unwrap().cancel);
        for bad in [&[][..], &["-x", "now"], &["25:00"], &["soon"], &["-t"]] {
            assert!(p(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn warnings() {
        let a = p(&["-r", "+5", "disk swap"]).unwrap();
        assert_eq!(
            warning(&a, Duration::from_secs(300)),
            "The system is going down for reboot in 5 minutes!\ndisk swap"
        );
        assert_eq!(
            warning(&a, Duration::ZERO),
            "The system is going down for reboot NOW!\ndisk swap"
        );
        assert_eq!(
            next_warning(Duration::from_secs(600)),
            Duration::from_secs(60)
        );
        assert_eq!(
            next_warning(Duration::from_secs(330)),
            Duration::from_secs(30)
        );
        assert_eq!(
            next_warning(Duration::from_secs(30)),
            Duration::from_secs(30)
        );
    }
}
