//! `vinit daemon`: start-stop-daemon for init scripts — its command line and output.

use std::ffi::OsString;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{ArgGroup, Parser};
use nix::sys::signal::Signal;

use super::{parse_args, Context};
use crate::plan::stop::{parse_schedule, parse_signal};
use crate::sys::daemon::{
    find, open_output, remove_pidfile, start, stop, Lookup, StartRequest, Started, Stopped, Target,
};
use crate::sys::proc::Identity;
use crate::sys::spawn::{resolve_program, Credentials, Spawn, Stdio};

#[derive(Parser, Debug)]
#[command(
    name = "daemon",
    about = "Start, stop and check daemons (start-stop-daemon's flags)",
    group(ArgGroup::new("action").required(true).args(["start", "stop", "status", "pidof"])),
    after_help = "Exit status:\n  \
        --start   0 started (or already running with --oknodo), 1 already running, 3 trouble\n  \
        --stop    0 stopped (signal sent, without --retry), 1 nothing running (0 with --oknodo),\n            \
                  2 still running at the end of --retry, 3 trouble\n  \
        --status  0 running, 1 dead but the pidfile exists, 2 dead but the --lockfile exists,\n            \
                  3 not running, 4 unknown\n\
        Usage errors exit 2."
)]
struct Args {
    /// Work on the system below DIR (default pidfiles: run/NAME.pid under it).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Start the program as a daemon unless it runs.
    #[arg(short = 'S', long)]
    start: bool,
    /// Stop the running daemon.
    #[arg(short = 'K', long)]
    stop: bool,
    /// Tell whether the daemon runs (LSB status codes).
    #[arg(short = 'T', long)]
    status: bool,
    /// Print the daemon's pids (exit status as --status).
    #[arg(long)]
    pidof: bool,
    /// The pidfile (default: run/NAME.pid under the root).
    #[arg(short = 'p', long, value_name = "FILE")]
    pidfile: Option<PathBuf>,
    /// The program: what --start runs, and what a process must be running to match.
    #[arg(short = 'x', long, value_name = "PATH")]
    exec: Option<PathBuf>,
    /// Run this instead of --exec (a wrapper); the match is still on --exec/--name.
    #[arg(short = 'a', long, value_name = "PATH")]
    startas: Option<PathBuf>,
    /// The process name (as `ps` shows it, 15 characters at most) a process must have.
    #[arg(short = 'n', long, value_name = "NAME")]
    name: Option<String>,
    /// --start: run as USER; --stop/--status: only processes of USER.
    #[arg(short = 'u', long, value_name = "USER")]
    user: Option<String>,
    /// Run as USER[:GROUP] (start-stop-daemon's spelling).
    #[arg(short = 'c', long, value_name = "USER[:GROUP]")]
    chuid: Option<String>,
    /// Run with this group.
    #[arg(short = 'g', long, value_name = "GROUP")]
    group: Option<String>,
    /// Working directory of the daemon (default /).
    #[arg(short = 'd', long, value_name = "DIR")]
    chdir: Option<PathBuf>,
    /// Run with the niceness raised (or lowered) by N, as nice(1).
    #[arg(
        short = 'N',
        long,
        visible_alias = "nicelevel",
        value_name = "N",
        allow_hyphen_values = true
    )]
    nice: Option<i32>,
    /// File creation mask of the daemon (octal, default 022).
    #[arg(short = 'k', long, value_name = "MASK")]
    umask: Option<String>,
    /// Standard output and error of the daemon go to FILE (appended) instead of /dev/null.
    #[arg(short = 'O', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Set VAR=VALUE in the daemon's environment (repeatable).
    #[arg(short = 'e', long = "env", value_name = "VAR=VALUE")]
    env: Vec<String>,
    /// The program daemonizes itself and writes its own --pidfile: wait for that.
    #[arg(long)]
    forks: bool,
    /// Seconds --forks waits for the pidfile.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    timeout: u64,
    /// The signal --stop sends (default TERM).
    #[arg(short = 's', long, value_name = "SIG", default_value = "TERM")]
    signal: String,
    /// --stop: SIG/SECS/SIG/SECS... (or SECS: SIG/SECS/KILL/SECS); wait for the exit.
    #[arg(short = 'R', long, value_name = "SCHEDULE")]
    retry: Option<String>,
    /// Remove the pidfile after --stop.
    #[arg(long)]
    remove_pidfile: bool,
    /// --status: exit 2 when not running but this lock file exists.
    #[arg(short = 'l', long, value_name = "FILE")]
    lockfile: Option<PathBuf>,
    /// Exit 0 when there is nothing to do (already running, nothing to stop).
    #[arg(short = 'o', long)]
    oknodo: bool,
    /// Print nothing but errors.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Accepted for compatibility: the daemon always runs in the background.
    #[arg(short = 'b', long)]
    background: bool,
    /// Accepted for compatibility: vinit always writes the pidfile (except with --forks).
    #[arg(short = 'm', long)]
    make_pidfile: bool,
    /// Arguments of the program (after --).
    #[arg(last = true)]
    args: Vec<OsString>,
}

const TROUBLE: i32 = 3;

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let args: Args = match parse_args(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let target = match target(ctx, &args) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("daemon: {e}");
            return 2;
        }
    };
    let name = display_name(&args, &target);
    if args.start {
        run_start(&args, &target, &name)
    } else if args.stop {
        run_stop(&args, &target, &name)
    } else {
        run_status(&args, &target, &name)
    }
}

/// The pidfile and the identity a process must have.
fn target(ctx: &Context, args: &Args) -> Result<Target, String> {
    let exec = match &args.exec {
        Some(p) => Some(
            resolve_program(p, std::env::var_os("PATH").as_deref())
                .map_err(|e| format!("{}: {e}", p.display()))
                .map(|p| std::path::absolute(&p).unwrap_or(p))?,
        ),
        None => None,
    };
    let (user, _) = run_as(args);
    let uid = match user {
        Some(u) => Some(
            nix::unistd::User::from_name(&u)
                .ok()
                .flatten()
                .ok_or_else(|| format!("unknown user \"{u}\""))?
                .uid
                .as_raw(),
        ),
        None => None,
    };
    if args.start && exec.is_none() && args.startas.is_none() {
        return Err("--start needs --exec (or --startas)".into());
    }
    if exec.is_none() && args.name.is_none() && args.pidfile.is_none() {
        return Err("give --exec, --name or --pidfile to say which daemon".into());
    }
    let base = args
        .name
        .clone()
        .or_else(|| exec.as_ref().and_then(|p| file_name(p)))
        .or_else(|| args.startas.as_ref().and_then(|p| file_name(p)));
    let root = ctx.root(args.root.as_deref());
    let pidfile = match (&args.pidfile, &base) {
        (Some(p), _) => p.clone(),
        (None, Some(b)) => root.pidfile(b),
        (None, None) => return Err("no name to derive the pidfile from".into()),
    };
    Ok(Target {
        pidfile,
        explicit_pidfile: args.pidfile.is_some(),
        identity: Identity::new(exec, args.name.clone(), uid),
    })
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// The name messages use: --name, else the program's, else the pidfile's stem.
fn display_name(args: &Args, target: &Target) -> String {
    args.name
        .clone()
        .or_else(|| target.identity.exec.as_deref().and_then(file_name))
        .or_else(|| {
            target
                .pidfile
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "daemon".into())
}

/// (user, group) to run as: --chuid USER[:GROUP], else --user and --group.
fn run_as(args: &Args) -> (Option<String>, Option<String>) {
    match &args.chuid {
        Some(spec) => match spec.split_once(':') {
            Some((u, g)) => (Some(u.to_string()), Some(g.to_string())),
            None => (Some(spec.clone()), args.group.clone()),
        },
        None => (args.user.clone(), args.group.clone()),
    }
}

fn run_start(args: &Args, target: &Target, name: &str) -> i32 {
    let spawn = match daemon_spawn(args, target) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("daemon: {e}");
            return 2;
        }
    };
    let (spawn, _output) = spawn;
    let request = StartRequest {
        spawn,
        forks: args.forks,
        timeout: Duration::from_secs(args.timeout),
    };
    match start(target, request) {
        Ok(Started::Now(_)) => 0,
        Ok(Started::Already(pids)) => {
            if !args.quiet {
                println!("{name} already running (pid {}).", join_pids(&pids));
            }
            i32::from(!args.oknodo)
        }
        Err(e) => {
            eprintln!("daemon: {name}: {e}");
            TROUBLE
        }
    }
}

/// The program with the daemon recipe's settings. The output file (if any) is
/// returned so that it stays open until the spawn.
fn daemon_spawn(args: &Args, target: &Target) -> Result<(Spawn, Option<std::fs::File>), String> {
    let program = args
        .startas
        .clone()
        .or_else(|| target.identity.exec.clone())
        .ok_or("--start needs --exec (or --startas)")?;
    let mut spawn = Spawn::new(&program);
    spawn.args(&args.args);
    for (key, value) in std::env::vars_os() {
        spawn.env(key, value);
    }
    for entry in &args.env {
        let (key, value) = entry
            .split_once('=')
            .ok_or_else(|| format!("--env \"{entry}\": expected VAR=VALUE"))?;
        spawn.env(key, value);
    }
    spawn.cwd = Some(args.chdir.clone().unwrap_or_else(|| PathBuf::from("/")));
    spawn.umask = Some(match &args.umask {
        Some(text) => libc::mode_t::from_str_radix(text, 8)
            .ok()
            .filter(|m| *m <= 0o777)
            .ok_or_else(|| format!("--umask \"{text}\": expected an octal mask"))?,
        None => 0o022,
    });
    if let Some(n) = args.nice {
        // SAFETY: getpriority has no preconditions (errno is not needed: -1 is a value).
        let current = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        spawn.nice = Some((current + n).clamp(-20, 19));
    }
    spawn.credentials = credentials(args)?;
    let output = match &args.output {
        Some(path) => Some(
            open_output(path, spawn.credentials.as_ref())
                .map_err(|e| format!("{}: {}", path.display(), crate::sys::describe_io(&e)))?,
        ),
        None => None,
    };
    spawn.stdin = Stdio::Null;
    let out = output
        .as_ref()
        .map_or(Stdio::Null, |f| Stdio::Fd(f.as_raw_fd()));
    spawn.stdout = out;
    spawn.stderr = out;
    Ok((spawn, output))
}

fn credentials(args: &Args) -> Result<Option<Credentials>, String> {
    match run_as(args) {
        (Some(user), group) => Credentials::for_user(&user, group.as_deref()).map(Some),
        (None, Some(group)) => {
            let gid = match group.parse::<u32>() {
                Ok(n) => n,
                Err(_) => nix::unistd::Group::from_name(&group)
                    .ok()
                    .flatten()
                    .ok_or_else(|| format!("unknown group \"{group}\""))?
                    .gid
                    .as_raw(),
            };
            Ok(Some(Credentials {
                uid: nix::unistd::getuid().as_raw(),
                gid,
                groups: vec![gid],
            }))
        }
        (None, None) => Ok(None),
    }
}

fn run_stop(args: &Args, target: &Target, name: &str) -> i32 {
    let signal = match parse_signal(&args.signal) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("daemon: {e}");
            return 2;
        }
    };
    let schedule = match args.retry.as_deref().map(|r| parse_schedule(r, signal)) {
        Some(Err(e)) => {
            eprintln!("daemon: {e}");
            return 2;
        }
        Some(Ok(s)) => Some(s),
        None => None,
    };
    let processes = match find(target) {
        Ok(Lookup::Running(list)) => list,
        Ok(Lookup::Stopped { .. }) => {
            if args.remove_pidfile {
                let _ = remove_pidfile(&target.pidfile, &[]);
            }
            if !args.quiet {
                println!("No {name} found running; none killed.");
            }
            return i32::from(!args.oknodo);
        }
        Ok(Lookup::Unverifiable(pid)) => {
            eprintln!("daemon: {}", unverifiable(target, pid));
            return TROUBLE;
        }
        Err(e) => {
            eprintln!(
                "daemon: {}: {}",
                target.pidfile.display(),
                crate::sys::describe_io(&e)
            );
            return TROUBLE;
        }
    };
    let result = stop(&processes, signal, schedule.as_deref());
    let terminating = schedule.is_some()
        || matches!(
            signal,
            Signal::SIGTERM | Signal::SIGKILL | Signal::SIGINT | Signal::SIGQUIT
        );
    match result {
        Ok(Stopped::Done(pids)) => {
            if args.remove_pidfile && terminating {
                if let Err(e) = remove_pidfile(&target.pidfile, &pids) {
                    eprintln!("daemon: {e}");
                }
            }
            0
        }
        Ok(Stopped::StillRunning(pids)) => {
            if !args.quiet {
                println!("{name} (pid {}) still running.", join_pids(&pids));
            }
            2
        }
        Err(e) => {
            eprintln!("daemon: {name}: {}", crate::sys::describe_io(&e));
            TROUBLE
        }
    }
}

fn unverifiable(target: &Target, pid: nix::unistd::Pid) -> String {
    format!(
        "{}: pid {pid} is not locked by its process; give --exec or --name to check it",
        target.pidfile.display()
    )
}

fn run_status(args: &Args, target: &Target, name: &str) -> i32 {
    let say = |text: String| {
        if !args.quiet && !args.pidof {
            println!("{text}");
        }
    };
    match find(target) {
        Ok(Lookup::Running(list)) => {
            let pids: Vec<_> = list.iter().map(|p| p.pid()).collect();
            if args.pidof {
                println!("{}", join_pids(&pids));
            }
            say(format!("{name} (pid {}) is running...", join_pids(&pids)));
            0
        }
        Ok(Lookup::Stopped { pidfile_left }) => {
            if pidfile_left {
                say(format!("{name} dead but pid file exists"));
                1
            } else if args.lockfile.as_ref().is_some_and(|l| l.exists()) {
                say(format!("{name} dead but subsys locked"));
                2
            } else {
                say(format!("{name} is stopped"));
                3
            }
        }
        Ok(Lookup::Unverifiable(pid)) => {
            if !args.quiet {
                eprintln!("daemon: {}", unverifiable(target, pid));
            }
            4
        }
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            say(format!(
                "{name} status unknown due to insufficient privileges."
            ));
            4
        }
        Err(e) => {
            if !args.quiet {
                eprintln!(
                    "daemon: {}: {}",
                    target.pidfile.display(),
                    crate::sys::describe_io(&e)
                );
            }
            4
        }
    }
}

fn join_pids(pids: &[nix::unistd::Pid]) -> String {
    pids.iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}
