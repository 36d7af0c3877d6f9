//! `vinit shutdown`: brings the system down at a given time, warning logged-in users,
//! closing logins (`etc/nologin`) in the last five minutes, then asking init for
//! runlevel 0 (`-h`, `-H`, `-P`), 6 (`-r`) or 1 (neither). `-c` cancels a pending one.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, SigSet, Signal};
use nix::unistd::Pid;

use clap::{CommandFactory, Parser};

use super::{parse_args_or, Context};
use crate::error::{finish, Failure, SysError, ToolResult};
use crate::format::initreq::Request;
use crate::sys::initctl::{send, SendError};
use crate::sys::layout::Root;

/// Logins close this long before the time.
const NOLOGIN_BEFORE: Duration = Duration::from_secs(300);

/// The command line as written.
#[derive(Parser, Debug)]
#[command(
    name = "shutdown",
    disable_help_flag = true,
    about = "Bring the system down at a given time, warning logged-in users",
    long_about = "Warns the users logged in (wall) at every hour, every 15 minutes under an \
                  hour, every minute under 15; closes logins (etc/nologin) in the last 5 \
                  minutes; then asks init for runlevel 0 (-h, -H, -P), 6 (-r) or 1 \
                  (neither). Only root may use it, as with sysvinit.",
    after_help = "TIME is now, +MINUTES, MINUTES or hh:mm."
)]
struct Cli {
    /// Work on the system below DIR.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Seconds between SIGTERM and SIGKILL for processes leaving the runlevel.
    #[arg(short = 't', value_name = "SECS", default_value_t = 0)]
    sleep: u32,
    /// Halt or power off (runlevel 0).
    #[arg(short = 'h')]
    halt: bool,
    /// Halt, not power off (sets INIT_HALT=HALT).
    #[arg(short = 'H')]
    halt_only: bool,
    /// Power off (sets INIT_HALT=POWEROFF).
    #[arg(short = 'P')]
    power_off: bool,
    /// Reboot (runlevel 6).
    #[arg(short = 'r')]
    reboot: bool,
    /// Only warn the users; do not shut down.
    #[arg(short = 'k')]
    warn_only: bool,
    /// Cancel a pending shutdown (MESSAGE, if given, is sent to the users).
    #[arg(short = 'c')]
    cancel: bool,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// When: now, +MINUTES, MINUTES or hh:mm (not with -c).
    #[arg(value_name = "TIME", required_unless_present = "cancel")]
    time: Option<String>,
    /// What to tell the users.
    #[arg(
        value_name = "MESSAGE",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    message: Vec<String>,
}

/// What the command line asks for.
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

pub fn command() -> clap::Command {
    Cli::command()
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    // Usage errors exit 1, as sysvinit's shutdown does.
    let cli = match parse_args_or::<Cli>(args, 1) {
        Ok(c) => c,
        Err(code) => return code,
    };
    finish("shutdown", run(ctx, cli))
}

fn run(ctx: &Context, cli: Cli) -> ToolResult {
    // As sysvinit: only root shuts down, cancels or warns (any user could otherwise
    // send "The system is going down" to every terminal).
    if !nix::unistd::getuid().is_root() {
        return Err(Failure::new(
            1,
            format!("you must be root to do that!\n{}", command().render_usage()),
        )
        .into());
    }
    let args = resolve(cli).map_err(|e| Failure::new(1, e))?;
    let root = ctx.root(args.root.as_deref());
    if args.cancel {
        return cancel(&root, &args.message);
    }
    if !args.warn_only {
        check_access(&root)?;
    }
    let delay = match args.when {
        Some(When::Minutes(m)) => Duration::from_secs(m * 60),
        Some(When::At(h, m)) => seconds_until(h, m),
        None => Duration::ZERO,
    };
    schedule(&root, &args, delay)
}

/// The command line resolved: the level, the halt kind, the time.
fn resolve(cli: Cli) -> Result<Args, String> {
    let (level, halt) = if cli.reboot {
        ('6', None)
    } else if cli.halt_only {
        ('0', Some("HALT"))
    } else if cli.power_off {
        ('0', Some("POWEROFF"))
    } else if cli.halt {
        ('0', None)
    } else {
        ('1', None)
    };
    let mut words = cli.time.into_iter().chain(cli.message);
    let when = if cli.cancel {
        None
    } else {
        let time = words.next().ok_or("no time given")?;
        Some(parse_time(&time)?)
    };
    Ok(Args {
        root: cli.root,
        level,
        halt,
        warn_only: cli.warn_only,
        cancel: cli.cancel,
        sleep_secs: cli.sleep,
        when,
        message: words.collect::<Vec<_>>().join(" "),
    })
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
fn check_access(root: &Root) -> ToolResult<()> {
    let path = root.initctl();
    match nix::unistd::access(&path, nix::unistd::AccessFlags::W_OK) {
        Ok(()) => Ok(()),
        Err(Errno::EACCES | Errno::EPERM) => {
            Err(Failure::new(1, "you must be root to do that!").into())
        }
        Err(Errno::ENOENT) => Err(SendError::NoChannel(path).into()),
        Err(e) => Err(SysError::at(&path, e.into()).into()),
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
fn schedule(root: &Root, args: &Args, delay: Duration) -> ToolResult {
    let pidfile = root.shutdown_pidfile();
    if !args.warn_only && delay > Duration::ZERO {
        if let Ok(Some(pid)) = crate::sys::pidfile::read_pidfile(&pidfile) {
            if kill(pid, None).is_ok() {
                let why = format!(
                    "a shutdown is already pending (pid {pid}); cancel it with shutdown -c"
                );
                return Err(Failure::new(1, why).into());
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
            return Ok(0);
        }
        if left <= NOLOGIN_BEFORE && !nologin_written {
            let text = format!("{}\n", warning(args, left));
            if let Err(e) = crate::sys::fs::write_atomic(&root.nologin(), text.as_bytes(), 0o644) {
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
            return Ok(1);
        }
    }
    let _ = std::fs::remove_file(&pidfile);
    ask_init(root, args)?;
    Ok(0)
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

fn ask_init(root: &Root, args: &Args) -> Result<(), SendError> {
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
        send(root, &request)?;
    }
    Ok(())
}

fn cancel(root: &Root, message: &str) -> ToolResult {
    let pidfile = root.shutdown_pidfile();
    let pid = match crate::sys::pidfile::read_pidfile(&pidfile) {
        Ok(Some(pid)) if kill(pid, None).is_ok() => pid,
        _ => return Err(Failure::new(1, "cannot find pid of running shutdown.").into()),
    };
    kill(pid, Signal::SIGINT)
        .map_err(|e| Failure::new(1, format!("cannot cancel pid {pid}: {}", e.desc())))?;
    if !message.is_empty() {
        crate::sys::wall::broadcast(root, message);
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(list: &[&str]) -> Result<Args, String> {
        let argv = std::iter::once("shutdown").chain(list.iter().copied());
        resolve(Cli::try_parse_from(argv).map_err(|e| e.to_string())?)
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
        // inittab's Ctrl-Alt-Del entry: the value attached to -t, --root=DIR.
        let a = p(&["-t3", "-r", "now"]).unwrap();
        assert_eq!((a.sleep_secs, a.level), (3, '6'));
        assert_eq!(
            p(&["--root=/r", "now"]).unwrap().root,
            Some(PathBuf::from("/r"))
        );
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
