//! `service NAME ACTION [ARGS…]`: runs `init.d/NAME ACTION ARGS…` the way Red Hat's
//! `service` does — environment emptied but for `PATH`, `TERM` and `LANG`, working
//! directory `/` — and hands back the script's exit status and output untouched (the
//! LSB status codes are what configuration managers read).
//!
//! The script replaces this process (`execve`): nothing remains to do after it, and the
//! cost over running the script directly is one exec.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

use nix::sys::wait::waitpid;

use clap::{Arg, ArgAction, Command};

use super::Context;
use crate::error::{SysError, ToolError, ToolResult, Verbatim};
use crate::format::rclink::is_ignored_script_name;
use crate::sys::layout::Root;
use crate::sys::spawn::{Spawn, Stdio};

/// The Red Hat `service` release whose interface this reproduces.
const COMPATIBLE_VERSION: &str = "0.91";

/// Never run by `--status-all`: libraries and the scripts of the shutdown sequence
/// (Red Hat's list), and Debian's non-services.
const NOT_SERVICES: &[&str] = &[
    "functions",
    "halt",
    "killall",
    "single",
    "linuxconf",
    "kudzu",
    "rc",
    "rcS",
    "skeleton",
    "README",
    "reboot",
];

/// The classic usage line (Red Hat's and Debian's), also the first line of `--help`.
const USAGE: &str =
    "service < option > | --status-all | [ service_name [ command | --full-restart ] ]";

fn usage(progname: &str) -> String {
    format!("Usage: {}\n", USAGE.replacen("service", progname, 1))
}

/// service's command line, for `--help`, manual pages and completions. [`parse`] reads
/// it by hand, because options count only before the service name (everything after it
/// is the script's) and any `--h…` asks for help, as in Red Hat's and Debian's; the two
/// agree on every option (tested).
pub fn command() -> Command {
    Command::new("service")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Run an init script in a clean environment")
        .long_about(
            "Runs init.d/NAME ACTION ARGS... as Red Hat's and Debian's service do: \
             environment emptied but for PATH, TERM and LANG, working directory /. The \
             script replaces this process: its output and exit status (the LSB codes of \
             status) are the script's own.",
        )
        .override_usage(USAGE)
        .help_template("{usage-heading} {usage}\n\n{about-with-newline}\n{all-args}{after-help}")
        .after_help(
            "NAME --full-restart runs the script's stop, then its start; the status is \
             start's. Options are recognised only before the service name.",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(
            Arg::new("status-all")
                .long("status-all")
                .action(ArgAction::SetTrue)
                .help("Run every script's status, in name order"),
        )
        .arg(
            Arg::new("root")
                .long("root")
                .value_name("DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Run the scripts of the system below DIR (vinit)"),
        )
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("Print this help (any --h… does)"),
        )
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("Print the interface version"),
        )
        .arg(
            Arg::new("name")
                .value_name("SERVICE")
                .help("The service: the name of its script in init.d"),
        )
        .arg(
            Arg::new("args")
                .value_name("ARGS")
                .num_args(0..)
                .trailing_var_arg(true)
                .allow_hyphen_values(true)
                .help("The action (start, stop, status, …) and its arguments, or --full-restart"),
        )
}

/// What a command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    Help,
    Version,
    /// Nothing at all: the usage, exit status 1.
    Usage,
    StatusAll,
    FullRestart(OsString),
    Run(OsString, Vec<OsString>),
}

/// Reads the command line: options before the service name, then the name and what
/// belongs to its script.
fn parse(args: Vec<OsString>) -> (Option<PathBuf>, Request) {
    let mut rest: Vec<OsString> = args.into_iter().skip(1).collect();
    let mut root: Option<PathBuf> = None;
    while let Some(first) = rest.first().map(|a| a.to_string_lossy().into_owned()) {
        match first.as_str() {
            "--root" if rest.len() >= 2 => {
                root = Some(PathBuf::from(rest.remove(1)));
                rest.remove(0);
            }
            w if w.starts_with("--root=") => {
                root = Some(PathBuf::from(&w["--root=".len()..]));
                rest.remove(0);
            }
            w if w == "-h" || w.starts_with("--h") => return (root, Request::Help),
            "-V" | "--version" => return (root, Request::Version),
            _ => break,
        }
    }
    let request = match rest.as_slice() {
        [] => Request::Usage,
        [only] if only == "--status-all" => Request::StatusAll,
        [name, flag] if flag == "--full-restart" => Request::FullRestart(name.clone()),
        [name, script_args @ ..] => Request::Run(name.clone(), script_args.to_vec()),
    };
    (root, request)
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    crate::error::finish("service", run_tool(ctx, args))
}

fn run_tool(ctx: &Context, args: Vec<OsString>) -> ToolResult {
    let progname = super::program_name(&args, "service");
    let (own_root, request) = parse(args);
    let root = ctx.root(own_root.as_deref());
    match request {
        Request::Help => {
            print!("{}", command().render_help());
            Ok(0)
        }
        Request::Version => {
            // On stderr, as Red Hat's and Debian's.
            eprintln!(
                "{progname} ver. {COMPATIBLE_VERSION} (vinit {})",
                env!("CARGO_PKG_VERSION")
            );
            Ok(0)
        }
        Request::Usage => Err(Verbatim::new(1, usage(&progname)).into()),
        Request::StatusAll => Ok(status_all(&root)),
        Request::FullRestart(name) => full_restart(&root, &name),
        Request::Run(name, script_args) => run(&root, &name, &script_args),
    }
}

/// A script that could not be run: `service: PATH: REASON`, and a shell's status for
/// it (127 when it is gone, 126 otherwise).
#[derive(Debug)]
struct ExecError(SysError);

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl ToolError for ExecError {
    fn code(&self) -> i32 {
        match self.0.source.raw_os_error() {
            Some(libc::ENOENT) => 127,
            _ => 126,
        }
    }
}

/// A name `service` will look up: anything naming a file directly in init.d (Red Hat's
/// `service` joined any string to the directory, `../../bin/sh` included).
fn in_init_d(name: &str) -> bool {
    !name.is_empty() && !name.contains('/') && name != "." && name != ".."
}

/// The script of `name`, if it names one.
fn script(root: &Root, name: &OsStr) -> Option<PathBuf> {
    let name = name.to_str()?;
    if !in_init_d(name) {
        return None;
    }
    let path = root.init_script(name);
    path.is_file().then_some(path)
}

fn unrecognized(root: &Root, name: &OsStr) -> Box<dyn ToolError> {
    let name = name.to_string_lossy();
    let xinetd = in_init_d(&name) && root.xinetd_d().join(&*name).is_file();
    let message = if xinetd {
        format!(
            "{name}: unrecognized service ({name} is an xinetd service: the superserver starts it \
             on demand; enable it with 'chkconfig {name} on', disable it with 'chkconfig {name} off')"
        )
    } else {
        format!("{name}: unrecognized service")
    };
    Verbatim::new(1, message).into()
}

/// The command for one run of a script: clean environment, `/`, our stdio.
fn script_spawn(root: &Root, script: &Path, args: &[OsString]) -> Spawn {
    let mut spawn = Spawn::new(script);
    spawn.args(args);
    spawn.env("PATH", crate::sys::DEFAULT_PATH);
    for key in ["TERM", "LANG"] {
        if let Some(value) = std::env::var_os(key) {
            spawn.env(key, value);
        }
    }
    if let Some((k, v)) = root.script_env() {
        spawn.env(k, v);
    }
    // As under rc: the shipped `functions` run this binary's `daemon` tool.
    if let Ok(exe) = std::env::current_exe() {
        spawn.env(crate::sys::rcexec::BINARY_ENV, exe);
    }
    spawn.cwd = Some(PathBuf::from("/"));
    spawn.stdin = Stdio::Inherit;
    spawn.stdout = Stdio::Inherit;
    spawn.stderr = Stdio::Inherit;
    spawn
}

fn run(root: &Root, name: &OsStr, args: &[OsString]) -> ToolResult {
    let script = script(root, name).ok_or_else(|| unrecognized(root, name))?;
    Err(exec(root, &script, args).into())
}

/// The same run through `/bin/sh`: a script without `#!` is a shell script, as for
/// `execvp` (and so for Red Hat's `env`).
fn through_shell(root: &Root, script: &Path, args: &[OsString]) -> Spawn {
    let mut sh_args = vec![script.as_os_str().to_os_string()];
    sh_args.extend(args.iter().cloned());
    let mut sh = script_spawn(root, Path::new("/bin/sh"), &sh_args);
    sh.argv0("sh");
    sh
}

fn is_enoexec(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENOEXEC)
}

/// Replaces this process with the script; what comes back is why it could not.
fn exec(root: &Root, script: &Path, args: &[OsString]) -> ExecError {
    let error = script_spawn(root, script, args).exec();
    let error = if is_enoexec(&error) {
        through_shell(root, script, args).exec()
    } else {
        error
    };
    ExecError(SysError::at(script, error))
}

/// Runs a script to completion, for a step whose status nobody reads (the stop of a
/// full restart, each status of `--status-all`): a script that cannot run is said.
fn run_and_wait(root: &Root, script: &Path, action: &str) {
    let args = [OsString::from(action)];
    let spawned = match script_spawn(root, script, &args).spawn() {
        Err(e) if is_enoexec(&e) => through_shell(root, script, &args).spawn(),
        other => other,
    };
    let pid = match spawned {
        Ok(pid) => pid,
        Err(error) => {
            eprintln!("service: {}", SysError::at(script, error));
            return;
        }
    };
    while let Err(nix::errno::Errno::EINTR) = waitpid(pid, None) {}
}

/// `NAME --full-restart`: stop, then start; the status is start's.
fn full_restart(root: &Root, name: &OsStr) -> ToolResult {
    let script = script(root, name).ok_or_else(|| unrecognized(root, name))?;
    run_and_wait(root, &script, "stop");
    Err(exec(root, &script, &[OsString::from("start")]).into())
}

/// `--status-all`: every script's `status`, in name order, output as the scripts write it.
fn status_all(root: &Root) -> i32 {
    let dir = root.init_d();
    let Ok(listing) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut names: Vec<String> = listing
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !NOT_SERVICES.contains(&n.as_str()) && !is_ignored_script_name(n))
        .collect();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let executable = nix::unistd::access(&path, nix::unistd::AccessFlags::X_OK).is_ok();
        if executable && path.is_file() {
            run_and_wait(root, &path, "status");
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        super::super::argv("service", v)
    }

    #[test]
    fn every_option_of_the_command_is_accepted() {
        super::super::each_option_spelling(command(), 7, |words| {
            let (root, request) = parse(args(words));
            // Recognised, not taken for a service's name.
            assert!(!matches!(request, Request::Run(..)), "{words:?}");
            assert_eq!(root.is_some(), words[0].starts_with("--root"), "{words:?}");
        });
    }

    #[test]
    fn options_only_before_the_name() {
        assert_eq!(parse(args(&["--hel"])).1, Request::Help);
        assert_eq!(
            parse(args(&["--root=/mnt", "cron", "--help"])),
            (
                Some(PathBuf::from("/mnt")),
                Request::Run("cron".into(), vec!["--help".into()])
            )
        );
        assert_eq!(parse(args(&[])).1, Request::Usage);
        let help = command().render_help().to_string();
        assert!(help.starts_with(&usage("service")), "{help}");
    }

    proptest::proptest! {
        /// Whatever follows the service's name is handed to its script untouched.
        #[test]
        fn the_scripts_words_are_untouched(words in proptest::collection::vec(super::super::COMMAND_WORDS, 0..6)) {
            let mut line = vec!["cron"];
            line.extend(words.iter().map(String::as_str));
            match parse(args(&line)).1 {
                Request::Run(name, rest) => {
                    proptest::prop_assert_eq!(name, OsString::from("cron"));
                    let rest: Vec<&str> = rest.iter().map(|w| w.to_str().unwrap()).collect();
                    proptest::prop_assert_eq!(rest, &line[1..]);
                }
                Request::FullRestart(_) => proptest::prop_assert_eq!(&line[1..], &["--full-restart"]),
                other => proptest::prop_assert!(false, "{other:?}"),
            }
        }
    }
}
