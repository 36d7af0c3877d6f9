//! `vinit daemon`, also called `start-stop-daemon`: dpkg's start-stop-daemon for init
//! scripts — its command line, messages and exit statuses.
//!
//! The command line is read as dpkg's getopt_long reads it: options and the program's
//! arguments may be mixed (everything after `--` is an argument), the last of an option
//! given twice wins, long options may be shortened while unambiguous. Usage errors exit
//! 3 and other failures 2, as start-stop-daemon does (4 for both with `--status`).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{ArgAction, Parser};
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::Context;
use crate::plan::stop::{parse_schedule, parse_signal, Step};
use crate::sys::daemon::{
    find, remove_pidfile, start, stop, Lookup, StartMode, StartRequest, Started, Stopped, Target,
};
use crate::sys::proc::{Identity, COMM_LEN};
use crate::sys::spawn::{resolve_program, Credentials, Spawn, Stdio};

#[derive(Parser, Debug)]
#[command(
    name = "start-stop-daemon",
    about = "Start, stop and check daemons (dpkg's start-stop-daemon)",
    version,
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true,
    infer_long_args = true,
    after_help = "Exit status:\n  \
        0 done; 1 nothing done (0 with --oknodo); 2 with --retry, processes would not die,\n  \
        or trouble; 3 usage error\n\
        With --status (and --pidof): 0 running, 1 not running and the pidfile exists,\n  \
        2 not running and the --lockfile exists, 3 not running, 4 unable to tell"
)]
struct Args {
    /// Print this help.
    #[arg(short = 'H', long = "help", short_alias = 'h', action = ArgAction::Help)]
    help: Option<bool>,
    /// Print the version.
    #[arg(short = 'V', long = "version", action = ArgAction::Version)]
    version: Option<bool>,
    /// Work on the system below DIR (default pidfiles: run/NAME.pid under it).
    #[arg(long, value_name = "DIR", allow_hyphen_values = true)]
    root: Option<PathBuf>,
    /// Start the program unless it runs.
    #[arg(short = 'S', long)]
    start: bool,
    /// Stop the running program.
    #[arg(short = 'K', long)]
    stop: bool,
    /// Tell whether the program runs (LSB status codes).
    #[arg(short = 'T', long)]
    status: bool,
    /// Print the program's pids (exit status as --status).
    #[arg(long)]
    pidof: bool,
    /// The process with this pid.
    #[arg(long, value_name = "PID", allow_hyphen_values = true)]
    pid: Option<String>,
    /// Processes whose parent has this pid.
    #[arg(long, value_name = "PPID", allow_hyphen_values = true)]
    ppid: Option<String>,
    /// The pidfile (default: run/NAME.pid under the root).
    #[arg(short = 'p', long, value_name = "FILE", allow_hyphen_values = true)]
    pidfile: Option<PathBuf>,
    /// The program: what --start runs, and what a process must be running to match.
    #[arg(short = 'x', long, value_name = "PATH", allow_hyphen_values = true)]
    exec: Option<PathBuf>,
    /// Run this instead of --exec (a wrapper); the match is still on --exec/--name.
    #[arg(short = 'a', long, value_name = "PATH", allow_hyphen_values = true)]
    startas: Option<PathBuf>,
    /// The process name (as `ps` shows it, 15 characters at most) a process must have.
    #[arg(short = 'n', long, value_name = "NAME", allow_hyphen_values = true)]
    name: Option<String>,
    /// Only processes owned by USER (a name or a uid).
    #[arg(short = 'u', long, value_name = "USER", allow_hyphen_values = true)]
    user: Option<String>,
    /// Run as USER[:GROUP] (names or numbers).
    #[arg(
        short = 'c',
        long,
        value_name = "USER[:GROUP]",
        allow_hyphen_values = true
    )]
    chuid: Option<String>,
    /// Run with this group.
    #[arg(short = 'g', long, value_name = "GROUP", allow_hyphen_values = true)]
    group: Option<String>,
    /// Working directory of the program (default /).
    #[arg(short = 'd', long, value_name = "DIR", allow_hyphen_values = true)]
    chdir: Option<PathBuf>,
    /// Add N to the program's niceness.
    #[arg(
        short = 'N',
        long = "nicelevel",
        visible_alias = "nice",
        value_name = "N",
        allow_hyphen_values = true
    )]
    nice: Option<i32>,
    /// File creation mask of the program (octal, default 022).
    #[arg(short = 'k', long, value_name = "MASK", allow_hyphen_values = true)]
    umask: Option<String>,
    /// Standard output and error of the program go to FILE (appended), opened as the
    /// user it runs as.
    #[arg(short = 'O', long, value_name = "FILE", allow_hyphen_values = true)]
    output: Option<PathBuf>,
    /// Set VAR=VALUE in the program's environment (repeatable).
    #[arg(
        short = 'e',
        long = "env",
        value_name = "VAR=VALUE",
        allow_hyphen_values = true
    )]
    env: Vec<String>,
    /// vinit detaches the program (it must not fork by itself).
    #[arg(short = 'b', long)]
    background: bool,
    /// vinit writes the pidfile, locked by the program (vinit detaches it).
    #[arg(short = 'm', long)]
    make_pidfile: bool,
    /// The program daemonizes itself and may write its own pidfile: wait for that (the
    /// default without --background and --make-pidfile).
    #[arg(long)]
    forks: bool,
    /// Seconds a self-daemonizing program has to write its --pidfile.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    timeout: u64,
    /// The signal --stop sends (default TERM).
    #[arg(short = 's', long, value_name = "SIG", allow_hyphen_values = true)]
    signal: Option<String>,
    /// --stop: SIG/SECS/SIG/SECS..., or SECS for SIG/SECS/KILL/SECS; wait for the exit.
    #[arg(short = 'R', long, value_name = "SCHEDULE", allow_hyphen_values = true)]
    retry: Option<String>,
    /// Remove the pidfile after --stop.
    #[arg(long)]
    remove_pidfile: bool,
    /// --status: exit 2 when not running but this lock file exists.
    #[arg(short = 'l', long, value_name = "FILE", allow_hyphen_values = true)]
    lockfile: Option<PathBuf>,
    /// Exit 0 when there is nothing to do (already running, nothing to stop).
    #[arg(short = 'o', long)]
    oknodo: bool,
    /// Say what would be done, do nothing.
    #[arg(short = 't', long)]
    test: bool,
    /// Print nothing but errors.
    #[arg(short = 'q', long, overrides_with = "verbose")]
    quiet: bool,
    /// Say what was stopped.
    #[arg(short = 'v', long, overrides_with = "quiet")]
    verbose: bool,
    /// Not supported: refused.
    #[arg(short = 'r', long, value_name = "DIR", allow_hyphen_values = true)]
    chroot: Option<PathBuf>,
    /// Not supported: refused.
    #[arg(short = 'P', long, value_name = "POLICY", allow_hyphen_values = true)]
    procsched: Option<String>,
    /// Not supported: refused.
    #[arg(short = 'I', long, value_name = "CLASS", allow_hyphen_values = true)]
    iosched: Option<String>,
    /// Not supported: refused.
    #[arg(short = 'C', long)]
    no_close: bool,
    /// Not supported: refused.
    #[arg(long)]
    notify_await: bool,
    /// Not supported: refused.
    #[arg(long, value_name = "SECS", allow_hyphen_values = true)]
    notify_timeout: Option<String>,
    /// The program's arguments (anywhere among the options; all of them after --).
    #[arg(value_name = "ARGS")]
    args: Vec<OsString>,
}

/// Exit statuses (start-stop-daemon's).
const STILL_RUNNING: i32 = 2;
const FATAL: i32 = 2;
const USAGE: i32 = 3;
const STATUS_UNKNOWN: i32 = 4;

/// Why a command failed: how it was used, or what happened.
enum Failure {
    Usage(String),
    Fatal(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Start,
    Stop,
    Status,
    Pidof,
}

pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

pub fn main(ctx: &Context, argv: Vec<OsString>) -> i32 {
    let prog = super::program_name(&argv, "daemon");
    let asks_status = asks_for_status(&argv);
    let args = match Args::try_parse_from(&argv) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return match (e.use_stderr(), asks_status) {
                (false, _) => 0,
                (true, true) => STATUS_UNKNOWN,
                (true, false) => USAGE,
            };
        }
    };
    let action = action_of(&args);
    let cli = Cli {
        prog,
        action: action.as_ref().ok().copied(),
        args,
    };
    let result = action.and_then(|action| cli.run(ctx, action));
    match result {
        Ok(code) => code,
        Err(failure) => cli.fail(failure),
    }
}

/// Whether the command line asks for a status (usage errors then exit 4, as LSB wants).
fn asks_for_status(argv: &[OsString]) -> bool {
    argv.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--status" || a == "--pidof" || a == "-T")
}

fn action_of(args: &Args) -> Result<Action, Failure> {
    let chosen: Vec<Action> = [
        (args.start, Action::Start),
        (args.stop, Action::Stop),
        (args.status, Action::Status),
        (args.pidof, Action::Pidof),
    ]
    .into_iter()
    .filter_map(|(given, action)| given.then_some(action))
    .collect();
    match chosen[..] {
        [] => Err(Failure::Usage(
            "need one of --start or --stop or --status".into(),
        )),
        [action] => Ok(action),
        _ => Err(Failure::Usage("only one command can be specified".into())),
    }
}

/// The options once checked: values parsed, combinations allowed.
struct Checked {
    signal: Signal,
    schedule: Option<Vec<Step>>,
    umask: Option<libc::mode_t>,
    pid: Option<Pid>,
    ppid: Option<Pid>,
}

struct Cli {
    prog: String,
    action: Option<Action>,
    args: Args,
}

impl Cli {
    fn run(&self, ctx: &Context, action: Action) -> Result<i32, Failure> {
        let checked = self.check(action)?;
        self.warn_about_long_names();
        let target = self.target(ctx, &checked)?;
        match action {
            Action::Start => self.run_start(&target, &checked),
            Action::Stop => self.run_stop(&target, &checked),
            Action::Status | Action::Pidof => self.run_status(&target),
        }
    }

    /// Prints the failure and returns the exit status for it.
    fn fail(&self, failure: Failure) -> i32 {
        let status = matches!(self.action, Some(Action::Status | Action::Pidof));
        match failure {
            Failure::Usage(msg) => {
                eprintln!("{}: {msg}", self.prog);
                eprintln!("Try '{} --help' for more information.", self.prog);
                if status {
                    STATUS_UNKNOWN
                } else {
                    USAGE
                }
            }
            Failure::Fatal(msg) => {
                eprintln!("{}: {msg}", self.prog);
                if status {
                    STATUS_UNKNOWN
                } else {
                    FATAL
                }
            }
        }
    }

    /// A message start-stop-daemon prints unless `--quiet`.
    fn info(&self, text: &str) {
        if !self.args.quiet {
            say(format_args!("{text}"));
        }
    }

    /// start-stop-daemon's checks of values and combinations, in its order.
    fn check(&self, action: Action) -> Result<Checked, Failure> {
        let args = &self.args;
        let usage = |msg: &str| Failure::Usage(msg.to_string());
        let pid = |text: &Option<String>, what: &str| -> Result<Option<Pid>, Failure> {
            text.as_deref()
                .map(|t| {
                    t.parse::<i32>()
                        .ok()
                        .filter(|p| *p > 0)
                        .map(Pid::from_raw)
                        .ok_or_else(|| {
                            usage(&format!("{what} value must be a number greater than 0"))
                        })
                })
                .transpose()
        };
        let (pid, ppid) = (pid(&args.pid, "pid")?, pid(&args.ppid, "ppid")?);
        let signal = match &args.signal {
            Some(text) => parse_signal(text).map_err(|_| {
                usage("signal value must be numeric or name of signal (KILL, INT, ...)")
            })?,
            None => Signal::SIGTERM,
        };
        let schedule = args
            .retry
            .as_deref()
            .map(|text| parse_schedule(text, signal).map_err(|e| usage(&e)))
            .transpose()?;
        let umask = args
            .umask
            .as_deref()
            .map(|text| {
                libc::mode_t::from_str_radix(text, 8)
                    .ok()
                    .filter(|m| *m <= 0o777)
                    .ok_or_else(|| usage("umask value must be a positive number"))
            })
            .transpose()?;
        self.check_combinations(action)?;
        Ok(Checked {
            signal,
            schedule,
            umask,
            pid,
            ppid,
        })
    }

    fn check_combinations(&self, action: Action) -> Result<(), Failure> {
        let args = &self.args;
        let usage = |msg: &str| Err(Failure::Usage(msg.to_string()));
        let matching = args.exec.is_some()
            || args.pid.is_some()
            || args.ppid.is_some()
            || args.pidfile.is_some()
            || args.user.is_some()
            || args.name.is_some();
        if !matching {
            return usage(
                "need at least one of --exec, --pid, --ppid, --pidfile, --user or --name",
            );
        }
        if action == Action::Start && args.exec.is_none() && args.startas.is_none() {
            return usage("--start needs --exec or --startas");
        }
        if args.pid.is_some() && args.pidfile.is_some() {
            return usage("need either --pid or --pidfile, not both");
        }
        if args.background && action != Action::Start {
            return usage("--background is only relevant with --start");
        }
        let unsupported = [
            (args.chroot.is_some(), "--chroot"),
            (args.procsched.is_some(), "--procsched"),
            (args.iosched.is_some(), "--iosched"),
            (args.no_close, "--no-close"),
            (args.notify_await, "--notify-await"),
            (args.notify_timeout.is_some(), "--notify-timeout"),
        ];
        match unsupported.iter().find(|(given, _)| *given) {
            Some((_, option)) => usage(&format!("{option} is not supported by vinit")),
            None => Ok(()),
        }
    }

    fn warn_about_long_names(&self) {
        if self.args.name.as_ref().is_some_and(|n| n.len() > COMM_LEN) {
            eprintln!(
                "{}: warning: this system is not able to track process names\n\
                 longer than {COMM_LEN} characters, please use --exec instead of --name.",
                self.prog
            );
        }
    }

    /// The pidfile and what the process must be.
    fn target(&self, ctx: &Context, checked: &Checked) -> Result<Target, Failure> {
        let args = &self.args;
        let exec = args.exec.as_deref().map(existing_program).transpose()?;
        let uid = args.user.as_deref().map(user_id).transpose()?;
        let base = args
            .name
            .clone()
            .or_else(|| exec.as_deref().and_then(file_name))
            .or_else(|| args.startas.as_deref().and_then(file_name))
            .unwrap_or_else(|| "daemon".into());
        let pidfile = match &args.pidfile {
            Some(p) => p.clone(),
            None => ctx.root(args.root.as_deref()).pidfile(&base),
        };
        Ok(Target {
            pidfile,
            explicit_pidfile: args.pidfile.is_some(),
            pid: checked.pid,
            ppid: checked.ppid,
            identity: Identity::new(exec, args.name.clone(), uid),
        })
    }

    fn run_start(&self, target: &Target, checked: &Checked) -> Result<i32, Failure> {
        let args = &self.args;
        let (spawn, credentials) = self.daemon_spawn(target, checked)?;
        if let Some(dir) = spawn.cwd.as_deref().filter(|_| !args.test) {
            // Said before anything runs, and in start-stop-daemon's words.
            if let Err(e) = std::fs::read_dir(dir) {
                return Err(Failure::Fatal(format!(
                    "unable to chdir() to {} ({})",
                    dir.display(),
                    crate::sys::describe_io(&e)
                )));
            }
        }
        let mode = if args.make_pidfile && !args.forks {
            StartMode::Detached { pidfile: true }
        } else if args.background && !args.forks {
            StartMode::Detached { pidfile: false }
        } else {
            StartMode::Forks
        };
        let request = StartRequest {
            spawn,
            mode,
            timeout: Duration::from_secs(args.timeout),
            test: args.test,
            output: args.output.clone(),
        };
        match start(target, request).map_err(|e| Failure::Fatal(e.to_string()))? {
            Started::Now => Ok(0),
            Started::Failed(code) => Ok(code),
            Started::Would => {
                self.info(&self.would_start(credentials.as_ref()));
                Ok(0)
            }
            Started::Already => {
                let what = target
                    .identity
                    .exec
                    .as_ref()
                    .map_or_else(|| "process".into(), |p| p.display().to_string());
                self.info(&format!("{what} already running."));
                Ok(i32::from(!args.oknodo))
            }
        }
    }

    /// `--test`'s line: the program, its arguments, who it would run as.
    fn would_start(&self, credentials: Option<&Credentials>) -> String {
        let args = &self.args;
        let mut line = format!("Would start {} ", self.program(None).display());
        for arg in &args.args {
            line.push_str(&format!("{} ", arg.to_string_lossy()));
        }
        if let (Some(spec), Some(c)) = (&args.chuid, credentials) {
            let user = spec.split(':').next().unwrap_or_default();
            let user = user_name(user).unwrap_or_else(|| user.to_string());
            let group = group_shown(
                spec.split_once(':')
                    .map(|(_, g)| g)
                    .or(args.group.as_deref()),
            );
            line.push_str(&format!(
                " (as user {user}[{}], and group {group}[{}])",
                c.uid, c.gid
            ));
        }
        if let Some(n) = args.nice.filter(|n| *n != 0) {
            line.push_str(&format!(", and add {n} to the priority"));
        }
        line.push('.');
        line
    }

    /// What runs: --startas, else --exec.
    fn program(&self, target: Option<&Target>) -> PathBuf {
        let exec = target
            .and_then(|t| t.identity.exec.clone())
            .or_else(|| self.args.exec.clone());
        self.args.startas.clone().or(exec).unwrap_or_default()
    }

    /// The program with the daemon recipe's settings, and who it runs as.
    fn daemon_spawn(
        &self,
        target: &Target,
        checked: &Checked,
    ) -> Result<(Spawn, Option<Credentials>), Failure> {
        let args = &self.args;
        let mut spawn = Spawn::new(self.program(Some(target)));
        spawn.args(&args.args);
        for (key, value) in std::env::vars_os() {
            spawn.env(key, value);
        }
        let credentials = self.credentials()?;
        if let Some(home) = args
            .chuid
            .as_ref()
            .and_then(|_| home_of(credentials.as_ref()))
        {
            spawn.env("HOME", home);
        }
        for entry in &args.env {
            let (key, value) = entry
                .split_once('=')
                .ok_or_else(|| Failure::Usage(format!("--env \"{entry}\": expected VAR=VALUE")))?;
            spawn.env(key, value);
        }
        spawn.cwd = Some(args.chdir.clone().unwrap_or_else(|| PathBuf::from("/")));
        spawn.umask = Some(checked.umask.unwrap_or(0o022));
        if let Some(n) = args.nice {
            // SAFETY: getpriority has no preconditions (errno is not needed: -1 is a value).
            let current = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
            spawn.nice = Some((current + n).clamp(-20, 19));
        }
        spawn.credentials = credentials.clone();
        spawn.stdin = Stdio::Null;
        spawn.stdout = Stdio::Null;
        spawn.stderr = Stdio::Null;
        Ok((spawn, credentials))
    }

    /// Who the program runs as: --chuid USER[:GROUP] and --group.
    fn credentials(&self) -> Result<Option<Credentials>, Failure> {
        let args = &self.args;
        let fatal = Failure::Fatal;
        match &args.chuid {
            Some(spec) => {
                let (user, group) = match spec.split_once(':') {
                    Some((_, "")) => return Err(fatal("missing group name".into())),
                    Some((u, g)) => (u, Some(g)),
                    None => (spec.as_str(), args.group.as_deref()),
                };
                let name =
                    user_name(user).ok_or_else(|| fatal(format!("user '{user}' not found")))?;
                if let Some(g) = group {
                    group_id(g)?;
                }
                Credentials::for_user(&name, group)
                    .map(Some)
                    .map_err(|e| fatal(e.to_string()))
            }
            None => match &args.group {
                Some(group) => {
                    let gid = group_id(group)?;
                    Ok(Some(Credentials {
                        uid: nix::unistd::getuid().as_raw(),
                        gid,
                        groups: vec![gid],
                    }))
                }
                None => Ok(None),
            },
        }
    }

    /// What stop messages call the daemon (start-stop-daemon's words).
    fn what_stop(&self, target: &Target) -> String {
        let args = &self.args;
        if let Some(name) = &args.name {
            name.clone()
        } else if let Some(exec) = &target.identity.exec {
            exec.display().to_string()
        } else if let Some(pidfile) = &args.pidfile {
            format!("process in pidfile '{}'", pidfile.display())
        } else if let Some(pid) = target.pid {
            format!("process with pid {pid}")
        } else if let Some(ppid) = target.ppid {
            format!("process(es) with parent pid {ppid}")
        } else {
            format!(
                "process(es) owned by '{}'",
                args.user.as_deref().unwrap_or_default()
            )
        }
    }

    fn run_stop(&self, target: &Target, checked: &Checked) -> Result<i32, Failure> {
        let args = &self.args;
        let what = self.what_stop(target);
        let mut schedule = checked.schedule.as_deref();
        if args.test && schedule.is_some() {
            self.info("Ignoring --retry in test mode");
            schedule = None;
        }
        let processes = match find(target) {
            Ok(Lookup::Running(list)) => list,
            Ok(Lookup::Stopped { .. } | Lookup::Unreadable) => {
                if args.remove_pidfile && !args.test {
                    let _ = remove_pidfile(&target.pidfile, &[]);
                }
                self.info(&format!("No {what} found running; none killed."));
                return Ok(i32::from(!args.oknodo));
            }
            Ok(Lookup::Unverifiable(pid)) => return Err(Failure::Fatal(unverifiable(target, pid))),
            Err(e) => return Err(Failure::Fatal(show(&target.pidfile, &e))),
        };
        if args.test {
            // start-stop-daemon lists what it found last first.
            for process in processes.iter().rev() {
                self.info(&format!(
                    "Would send signal {} to {}.",
                    checked.signal as i32,
                    process.pid()
                ));
            }
            return Ok(0);
        }
        let mut report = |pids: &[Pid], round: usize| {
            if args.verbose {
                let retry = if round > 0 {
                    format!(", retry #{round}")
                } else {
                    String::new()
                };
                say(format_args!(
                    "Stopped {what} (pid {}){retry}.",
                    join_pids(pids)
                ));
            }
        };
        let stopped = stop(&processes, checked.signal, schedule, &mut report)
            .map_err(|e| Failure::Fatal(format!("{what}: {}", crate::sys::describe_io(&e))))?;
        match stopped {
            Stopped::Done(pids) => {
                if args.remove_pidfile && terminates(checked) {
                    remove_pidfile(&target.pidfile, &pids)
                        .map_err(|e| Failure::Fatal(e.to_string()))?;
                }
                Ok(0)
            }
            Stopped::StillRunning(pids) => {
                self.info(&format!(
                    "Program {what}, {} process(es), refused to die.",
                    pids.len()
                ));
                Ok(STILL_RUNNING)
            }
        }
    }

    fn run_status(&self, target: &Target) -> Result<i32, Failure> {
        match find(target) {
            Ok(Lookup::Running(list)) => {
                if self.action == Some(Action::Pidof) {
                    let pids: Vec<Pid> = list.iter().map(|p| p.pid()).collect();
                    say(format_args!("{}", join_pids(&pids)));
                }
                Ok(0)
            }
            Ok(Lookup::Stopped { pidfile_left: true }) => Ok(1),
            Ok(Lookup::Stopped {
                pidfile_left: false,
            }) => Ok(if self.args.lockfile.as_ref().is_some_and(|l| l.exists()) {
                2
            } else {
                3
            }),
            Ok(Lookup::Unreadable) => Ok(STATUS_UNKNOWN),
            Ok(Lookup::Unverifiable(pid)) => Err(Failure::Fatal(unverifiable(target, pid))),
            Err(e) => Err(Failure::Fatal(show(&target.pidfile, &e))),
        }
    }
}

/// Whether a stop ends the daemon (so its pidfile may go): a schedule waits for that; a
/// lone signal is taken to when it is one that terminates.
fn terminates(checked: &Checked) -> bool {
    checked.schedule.is_some()
        || matches!(
            checked.signal,
            Signal::SIGTERM | Signal::SIGKILL | Signal::SIGINT | Signal::SIGQUIT
        )
}

/// `--exec`: found on `PATH` when it has no `/`, made absolute, and required to exist.
fn existing_program(path: &Path) -> Result<PathBuf, Failure> {
    let unable = |p: &Path, e: &io::Error| {
        Failure::Fatal(format!(
            "unable to stat {} ({})",
            p.display(),
            crate::sys::describe_io(e)
        ))
    };
    let found =
        resolve_program(path, std::env::var_os("PATH").as_deref()).map_err(|e| unable(path, &e))?;
    let found = std::path::absolute(&found).unwrap_or(found);
    std::fs::metadata(&found).map_err(|e| unable(&found, &e))?;
    Ok(found)
}

/// `--user`: a uid, or a name from the password database.
fn user_id(spec: &str) -> Result<u32, Failure> {
    if let Ok(uid) = spec.parse::<u32>() {
        return Ok(uid);
    }
    nix::unistd::User::from_name(spec)
        .ok()
        .flatten()
        .map(|u| u.uid.as_raw())
        .ok_or_else(|| Failure::Fatal(format!("user '{spec}' not found")))
}

/// A user given by name or uid, as its name (None: no such user).
fn user_name(spec: &str) -> Option<String> {
    let user = match spec.parse::<u32>() {
        Ok(uid) => nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)),
        Err(_) => nix::unistd::User::from_name(spec),
    };
    user.ok().flatten().map(|u| u.name)
}

/// A group given by name or gid.
fn group_id(spec: &str) -> Result<u32, Failure> {
    if let Ok(gid) = spec.parse::<u32>() {
        return Ok(gid);
    }
    nix::unistd::Group::from_name(spec)
        .ok()
        .flatten()
        .map(|g| g.gid.as_raw())
        .ok_or_else(|| Failure::Fatal(format!("group '{spec}' not found")))
}

/// The group as `--test` shows it: a name as the database spells it, a number as given,
/// nothing for the user's own group.
fn group_shown(spec: Option<&str>) -> String {
    match spec {
        None => String::new(),
        Some(g) if g.parse::<u32>().is_ok() => g.to_string(),
        Some(g) => nix::unistd::Group::from_name(g)
            .ok()
            .flatten()
            .map_or_else(|| g.to_string(), |grp| grp.name),
    }
}

/// The home directory of the user the program runs as, if it exists (start-stop-daemon
/// sets HOME to it with --chuid).
fn home_of(credentials: Option<&Credentials>) -> Option<PathBuf> {
    let uid = nix::unistd::Uid::from_raw(credentials?.uid);
    let home = nix::unistd::User::from_uid(uid).ok().flatten()?.dir;
    home.exists().then_some(home)
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name().map(|n| n.to_string_lossy().into_owned())
}

fn unverifiable(target: &Target, pid: Pid) -> String {
    format!(
        "{}: pid {pid} is not locked by its process; give --exec or --name to check it",
        target.pidfile.display()
    )
}

fn show(path: &Path, e: &io::Error) -> String {
    format!("{}: {}", path.display(), crate::sys::describe_io(e))
}

fn join_pids(pids: &[Pid]) -> String {
    pids.iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A line on standard output. A reader that went away (`start-stop-daemon ... | head`)
/// costs the line, never the run: this process may go on to supervise a daemon.
fn say(line: std::fmt::Arguments) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}
