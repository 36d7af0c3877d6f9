//! `vinit init`: PID 1, a container's init, or a subreaper — its command line.
//!
//! The command line is parsed by hand: as PID 1 it comes from the kernel, and an argument
//! init does not know (`splash`, `quiet`) must never stop the system from booting.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use super::Context;
use crate::format::runlevel::Runlevel;
use crate::format::syslog::Facility;
use crate::sys::init::{run, InitOptions, DEFAULT_GRACE};
use crate::sys::layout::Root;

/// init's command line, for help, man pages and completions. It is parsed by hand
/// (`parse`), because as PID 1 it comes from the kernel: an argument init does not know
/// (`splash`, `quiet`) must never stop a boot. A test checks that `parse` accepts every
/// option declared here.
pub fn command() -> clap::Command {
    use clap::{Arg, ArgAction, Command};
    Command::new("init")
        .about(
            "PID 1: run inittab, runlevels, respawn and shutdown; a container's init; a subreaper",
        )
        .long_about(
            "Runs inittab: boot, runlevels, respawn, shutdown. As PID 1 of a machine it ends \
             with reboot(2); in a container or as a subreaper (not PID 1) it exits once every \
             process is gone: with COMMAND's status when a main command was given, else 0 \
             after a halt and 129 after a reboot. Not PID 1, `init 0-9|S|Q|U|a|b|c` is \
             telinit.",
        )
        .override_usage(
            "init [--root DIR] [--level LEVEL] [--grace SECS] [-v] [-- COMMAND [ARGS...]]\n       \
             init {0-9|S|Q|U|a|b|c}     (not PID 1: the same as telinit)",
        )
        .after_help(
            "Kernel arguments: single, s, S, -s, emergency and 1-9 choose the boot level; \
             others are ignored.",
        )
        .arg(Arg::new("root").long("root").value_name("DIR").help(
            "The system below DIR (default: $VINIT_ROOT, else /). Not PID 1, init runs \
                     only with a root chosen explicitly (--root / for this very system): it \
                     would otherwise run the host's boot scripts",
        ))
        .arg(
            Arg::new("level")
                .long("level")
                .value_name("LEVEL")
                .help("Boot into LEVEL instead of inittab's initdefault"),
        )
        .arg(
            Arg::new("grace")
                .long("grace")
                .value_name("SECS")
                .help("Between TERM and KILL for everything at shutdown (default 5)"),
        )
        .arg(
            Arg::new("verbose")
                .short('v')
                .long("verbose")
                .action(ArgAction::SetTrue)
                .help(
                    "With a main command, show init's and rc's own messages too (by default \
                     only warnings, errors and failed scripts are shown)",
                ),
        )
        .arg(
            Arg::new("command")
                .value_name("COMMAND")
                .num_args(1..)
                .last(true)
                .help(
                    "After boot, run COMMAND as the main service, in the working directory and \
                     with the environment init was started with; when it exits the system shuts \
                     down",
                ),
        )
}

fn usage() -> String {
    command().render_usage().to_string()
}

struct Parsed {
    root: Option<PathBuf>,
    level: Option<Runlevel>,
    grace: Duration,
    resume_fd: Option<i32>,
    main: Vec<OsString>,
    verbose: bool,
    /// A telinit request given to `init` by a caller that is not PID 1.
    telinit: Option<String>,
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let pid1 = std::process::id() == 1;
    let parsed = match parse(&args[1..], pid1) {
        Ok(p) => p,
        // PID 1 never exits over its command line (the kernel would panic): it boots
        // with the defaults.
        Err(msg) if pid1 => {
            eprintln!("init: {msg}; booting with the defaults");
            Parsed::default()
        }
        Err(msg) if msg.is_empty() => {
            crate::sys::runtime::signals::end_on_closed_pipe();
            print!("{}", command().render_long_help());
            return 0;
        }
        Err(msg) => {
            eprintln!("init: {msg}\n{}", usage());
            return 2;
        }
    };
    if let Some(request) = parsed.telinit {
        let mut telinit_args = vec![OsString::from("telinit")];
        if let Some(root) = &parsed.root {
            telinit_args.extend([OsString::from("--root"), root.into()]);
        }
        telinit_args.push(request.into());
        return super::telinit::main(ctx, telinit_args);
    }
    let chosen = parsed.root.as_deref().or(ctx.global_root.as_deref());
    if !pid1 {
        if let Err(msg) = check_root_choice(chosen) {
            eprintln!("init: {msg}");
            return 1;
        }
    }
    let root = absolute_root(ctx.root(chosen));
    // The main command starts where init was started (a container's WORKDIR); init
    // itself moves to / so that it pins no mount.
    let main_cwd = std::env::current_dir().ok();
    prepare_process(parsed.resume_fd);
    crate::sys::init::tree::mount_kernel_filesystems(root.dir());
    install_logger(&root, !parsed.main.is_empty() && !parsed.verbose);
    run(InitOptions {
        root,
        level: parsed.level,
        main: parsed.main,
        main_cwd,
        quiet: !parsed.verbose,
        grace: parsed.grace,
        resume_fd: parsed.resume_fd,
    })
}

/// Not PID 1, init runs only on a root chosen on purpose: a bare `init` typed on a host
/// would otherwise run that host's rcS.d, rc3.d and, at exit, rc0.d (sysvinit refuses to
/// run when it is not PID 1). A root that does not exist is an error, not an empty boot.
fn check_root_choice(option: Option<&std::path::Path>) -> Result<(), String> {
    let env = std::env::var_os(crate::sys::layout::ROOT_ENV).filter(|v| !v.is_empty());
    let dir = match (option, &env) {
        (Some(dir), _) => dir.to_path_buf(),
        (None, Some(dir)) => PathBuf::from(dir),
        (None, None) => {
            return Err(format!(
                "not PID 1: choose the system to run with --root DIR or ${} \
                 (--root / runs this machine's own boot scripts)",
                crate::sys::layout::ROOT_ENV
            ))
        }
    };
    match std::fs::metadata(&dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(format!("root {}: Not a directory", dir.display())),
        Err(e) => Err(format!(
            "root {}: {}",
            dir.display(),
            crate::sys::describe_io(&e)
        )),
    }
}

/// init logs to syslog (the root's `dev/log`) and to its console. With a main command
/// (a container) the console is the user's program's: init shows only warnings and
/// errors there unless asked to be verbose.
fn install_logger(root: &Root, quiet_console: bool) {
    let console = crate::sys::init::nonblocking_console();
    let level = if std::env::var_os("VINIT_DEBUG").is_some() {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Info
    };
    let console_level = if quiet_console {
        log::LevelFilter::Warn
    } else {
        level
    };
    crate::sys::syslog::Logger::install_nonblocking(
        "init",
        Facility::DAEMON,
        root.dev_log(),
        console,
        level,
        console_level,
    );
}

impl Default for Parsed {
    fn default() -> Parsed {
        Parsed {
            root: None,
            level: None,
            grace: DEFAULT_GRACE,
            resume_fd: None,
            main: Vec::new(),
            verbose: false,
            telinit: None,
        }
    }
}

fn parse(args: &[OsString], pid1: bool) -> Result<Parsed, String> {
    let mut p = Parsed::default();
    let mut words: Vec<String> = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        // `--name=value` is `--name value`.
        let (text, mut attached) = match text.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (
                std::borrow::Cow::Owned(name.to_string()),
                Some(value.to_string()),
            ),
            _ => (text, None),
        };
        let mut value = |name: &str| {
            attached
                .take()
                .or_else(|| iter.next().map(|v| v.to_string_lossy().into_owned()))
                .ok_or(format!("{name} needs a value"))
        };
        match text.as_ref() {
            "--" => {
                p.main = iter.by_ref().cloned().collect();
                if p.main.is_empty() {
                    return Err("-- needs a command".into());
                }
            }
            "-h" | "--help" if !pid1 => return Err(String::new()),
            "-v" | "--verbose" => p.verbose = true,
            "--root" => p.root = Some(PathBuf::from(value("--root")?)),
            "--level" => {
                p.level = Some(
                    Runlevel::from_char(one_char(&value("--level")?)?).ok_or("invalid --level")?,
                )
            }
            "--grace" => {
                p.grace =
                    Duration::from_secs(value("--grace")?.parse().map_err(|_| "invalid --grace")?)
            }
            "--resume-fd" => {
                p.resume_fd = Some(
                    value("--resume-fd")?
                        .parse()
                        .map_err(|_| "invalid --resume-fd")?,
                )
            }
            other => words.push(other.to_string()),
        }
    }
    if !pid1 && words.len() == 1 && is_telinit_request(&words[0]) && p.main.is_empty() {
        p.telinit = words.pop();
        return Ok(p);
    }
    for word in words {
        match kernel_level(&word) {
            Some(level) => p.level = Some(level),
            None if pid1 => log::debug!("kernel argument {word:?} ignored"),
            None => return Err(format!("unknown argument \"{word}\"")),
        }
    }
    Ok(p)
}

fn one_char(s: &str) -> Result<char, String> {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(format!("invalid level \"{s}\"")),
    }
}

fn is_telinit_request(word: &str) -> bool {
    word.len() == 1 && "0123456789SsQqUuAaBbCc".contains(word)
}

/// The boot level among kernel arguments, as sysvinit reads them.
fn kernel_level(word: &str) -> Option<Runlevel> {
    match word {
        "single" | "s" | "S" | "-s" | "emergency" => Some(Runlevel::SINGLE),
        _ if word.len() == 1 => word.chars().next().and_then(Runlevel::from_char),
        _ => None,
    }
}

/// init changes directory to `/` (so it pins no mount): the root must be absolute.
fn absolute_root(root: Root) -> Root {
    let dir = root.dir();
    match std::fs::canonicalize(dir).or_else(|_| std::path::absolute(dir)) {
        Ok(abs) => Root::open(abs),
        Err(_) => root,
    }
}

/// Every descriptor init inherited beyond 0-2 becomes close-on-exec (the state handed
/// over by `telinit u` is read first), and the working directory becomes `/`.
fn prepare_process(resume_fd: Option<i32>) {
    let first = match resume_fd {
        Some(fd) if fd >= 3 => {
            // SAFETY: marking descriptors close-on-exec changes no ownership.
            unsafe {
                libc::syscall(
                    libc::SYS_close_range,
                    3u32,
                    (fd - 1) as u32,
                    libc::CLOSE_RANGE_CLOEXEC,
                );
            }
            fd as u32 + 1
        }
        _ => 3,
    };
    // SAFETY: as above.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        );
    }
    if let Some(fd) = resume_fd {
        // The state descriptor is read at once and must not reach any child either.
        let _ = nix::fcntl::fcntl(
            // SAFETY: borrowed for this one call; an fd that is not open makes fcntl
            // fail with EBADF, which is ignored.
            unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) },
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
        );
    }
    let _ = std::env::set_current_dir("/");
    // The kernel starts init in session 0: lead a session of its own, as sysvinit does.
    // Started by anything else, init keeps the session (and terminal) it was given.
    if std::process::id() == 1 && nix::unistd::getsid(None).is_ok_and(|s| s.as_raw() == 0) {
        let _ = nix::unistd::setsid();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn kernel_arguments_never_fail_pid_1() {
        let p = parse(&args(&["splash", "quiet", "single", "ro"]), true).unwrap();
        assert_eq!(p.level, Some(Runlevel::SINGLE));
        let p = parse(&args(&["3"]), true).unwrap();
        assert_eq!(p.level.unwrap().as_char(), '3');
        assert!(p.telinit.is_none());
    }

    #[test]
    fn not_pid_1_a_level_is_a_telinit_request() {
        assert_eq!(
            parse(&args(&["u"]), false).unwrap().telinit.as_deref(),
            Some("u")
        );
        assert!(parse(&args(&["bogus"]), false).is_err());
    }

    #[test]
    fn options_and_the_main_command() {
        let p = parse(
            &args(&[
                "--root", "/r", "--grace", "7", "--level", "5", "--", "sleep", "--", "1",
            ]),
            false,
        )
        .unwrap();
        assert_eq!(p.root, Some(PathBuf::from("/r")));
        assert_eq!(p.grace, Duration::from_secs(7));
        assert_eq!(p.level.unwrap().as_char(), '5');
        assert_eq!(p.main, args(&["sleep", "--", "1"]));
        assert!(parse(&args(&["--grace"]), false).is_err());
        assert!(parse(&args(&["--"]), false).is_err());
    }
}
