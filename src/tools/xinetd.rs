//! `vinit xinetd` (also `inetd`): the superserver's command line, and `--check`'s
//! listing of the effective services.
//!
//! xinetd spells its long options with one dash (`-dontfork`, `-pidfile FILE`); they
//! are accepted as written and rewritten to clap's `--` form before parsing.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};

use super::{parse_args, Context};
use crate::error::{Failure, ToolResult};
use crate::format::syslog::Facility;
use crate::plan::superserver::{nothing_to_serve, Handler, Limits, ServiceSet, ServiceSpec};
use crate::sys::layout::Root;
use crate::sys::superserver::config::{self, Sources};
use crate::sys::superserver::log::MainLog;
use crate::sys::superserver::{self, Options};

const SIGNALS: &str = "\
Signals:
  SIGHUP   reload the configuration (a broken one, or one with nothing to serve
           without -stayalive, is refused: the old one stays); sockets of unchanged
           services are kept, running servers are not touched
  SIGTERM  stop listening and exit; servers already started finish their sessions
  SIGINT   the same as SIGTERM
  SIGQUIT  stop listening, send SIGTERM to every running server, exit
  SIGUSR1  log the state of every service

xinetd's single-dash options (-dontfork, -pidfile FILE, -inetd_compat, -stayalive,
-syslog FACILITY, -filelog FILE, -version) are accepted as written.";

const LONG_ABOUT: &str = "\
The superserver: listens on the sockets of many services and starts each service's
server when a request comes (nowait: one server per connection; wait: the server gets
the socket itself), or answers echo, discard, daytime, chargen and time itself.

Called as xinetd it reads etc/xinetd.conf (with its include and includedir files, and
etc/inetd.conf too with -inetd_compat); called as inetd, etc/inetd.conf. It goes to the
background unless -dontfork or -d is given, and its exit status says whether it serves.";

#[derive(Parser, Debug)]
#[command(
    name = "xinetd",
    about = "The superserver: listen for many services, start each server when a request comes",
    long_about = LONG_ABOUT,
    after_help = SIGNALS,
    disable_version_flag = true
)]
struct Args {
    /// Work on the system below DIR.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Read this configuration file (xinetd.conf; for inetd, inetd.conf).
    #[arg(short = 'f', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Debug: stay in the foreground and copy every message to stderr.
    #[arg(short = 'd')]
    debug: bool,
    /// Stay in the foreground.
    #[arg(long, alias = "foreground")]
    dontfork: bool,
    /// Write the process id here (default: run/xinetd.pid, or run/inetd.pid).
    #[arg(long, value_name = "FILE")]
    pidfile: Option<PathBuf>,
    /// Also read etc/inetd.conf.
    #[arg(long = "inetd-compat")]
    inetd_compat: bool,
    /// Keep running with no service to serve (-dontfork implies it, as in xinetd).
    #[arg(long)]
    stayalive: bool,
    /// Log the superserver's own messages to syslog with this facility.
    #[arg(long, value_name = "FACILITY", conflicts_with = "filelog")]
    syslog: Option<String>,
    /// Log the superserver's own messages to this file.
    #[arg(long, value_name = "FILE")]
    filelog: Option<PathBuf>,
    /// Only check the configuration and print the effective services.
    #[arg(long)]
    check: bool,
    /// Print the version.
    #[arg(long)]
    version: bool,
    /// The configuration file, as inetd takes it (same as -f).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

/// The command line of `xinetd` and `inetd`: what is parsed (after [`normalise`]), and
/// what the manual pages and completions are made from.
pub fn command() -> clap::Command {
    Args::command()
}

/// xinetd's `-name` options as clap's `--name`.
fn normalise(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    for (i, arg) in args.into_iter().enumerate() {
        let renamed = match arg.to_str() {
            _ if i == 0 => None,
            Some("-dontfork") | Some("-i") => Some("--dontfork"),
            Some("-pidfile") => Some("--pidfile"),
            Some("-inetd_compat") => Some("--inetd-compat"),
            Some("-stayalive") => Some("--stayalive"),
            Some("-syslog") => Some("--syslog"),
            Some("-filelog") => Some("--filelog"),
            Some("-version") => Some("--version"),
            _ => None,
        };
        out.push(renamed.map_or(arg, OsString::from));
    }
    out
}

fn called_as(args: &[OsString]) -> &'static str {
    let name = super::program_name(args, "");
    if name == "inetd" {
        "inetd"
    } else {
        "xinetd"
    }
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let tag = called_as(&args);
    let args: Args = match parse_args(normalise(args)) {
        Ok(a) => a,
        Err(code) => return code,
    };
    // --check reports in the words of its listing (`error: ...`).
    let edge = if args.check { "error" } else { tag };
    crate::error::finish(edge, run(ctx, tag, &args))
}

fn run(ctx: &Context, tag: &str, args: &Args) -> ToolResult {
    if args.version {
        crate::sys::runtime::signals::end_on_closed_pipe();
        println!("{tag} (vinit {})", env!("CARGO_PKG_VERSION"));
        return Ok(0);
    }
    let root = ctx.root(args.root.as_deref());
    let root = Root::open(absolute(root.dir()));
    let config = args
        .config
        .as_deref()
        .or(args.file.as_deref())
        .map(absolute);
    let sources = sources(tag, &root, config, args.inetd_compat);
    // xinetd: -dontfork (for a supervisor) implies -stayalive. inetd: openbsd-inetd
    // runs with nothing to serve.
    let stayalive = args.stayalive || args.dontfork || tag == "inetd";
    if args.check {
        return check(&sources, stayalive);
    }
    let foreground = args.debug || args.dontfork;
    superserver::run(Options {
        tag: tag.to_string(),
        sources,
        foreground,
        debug: args.debug,
        pidfile: args
            .pidfile
            .as_deref()
            .map_or_else(|| root.pidfile(tag), absolute),
        log: main_log(args, tag, &root, foreground)?,
        dev_log: root.dev_log(),
        stayalive,
    })
}

/// The superserver leaves its working directory for `/`: every path becomes absolute
/// first.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The files to read: xinetd.conf (and inetd.conf with -inetd_compat), or inetd.conf
/// alone when called as inetd; `config` in place of the first.
fn sources(tag: &str, root: &Root, config: Option<PathBuf>, inetd_compat: bool) -> Sources {
    if tag == "inetd" {
        Sources {
            xinetd: None,
            inetd: Some(config.unwrap_or_else(|| root.inetd_conf())),
            services: root.services(),
        }
    } else {
        Sources {
            xinetd: Some(config.unwrap_or_else(|| root.xinetd_conf())),
            inetd: inetd_compat.then(|| root.inetd_conf()),
            services: root.services(),
        }
    }
}

/// Where the superserver's own messages go: -syslog, -filelog, else syslog when it
/// listens (a file below the root in the background, stderr in the foreground).
fn main_log(args: &Args, tag: &str, root: &Root, foreground: bool) -> Result<MainLog, Failure> {
    Ok(match (&args.syslog, &args.filelog) {
        (Some(name), _) => match Facility::from_name(name) {
            Some(f) => MainLog::Syslog(f),
            None => return Err(Failure::new(2, format!("unknown syslog facility '{name}'"))),
        },
        (None, Some(file)) => MainLog::File(absolute(file)),
        (None, None) => MainLog::Auto {
            fallback: (!foreground).then(|| root.daemon_log(tag)),
        },
    })
}

/// `--check`: validate, print the effective services, exit 1 on any error (nothing to
/// serve is one, unless the superserver would stay alive with it).
fn check(sources: &Sources, stayalive: bool) -> ToolResult {
    let set = config::load(sources)?;
    crate::sys::runtime::signals::end_on_closed_pipe();
    print!("{}", describe(&set));
    let nothing = nothing_to_serve(&set).filter(|_| !stayalive);
    if let Some(why) = &nothing {
        println!("error: {why}");
    }
    Ok(i32::from(!set.errors.is_empty() || nothing.is_some()))
}

fn describe(set: &ServiceSet) -> String {
    let mut out = String::new();
    if set.services.is_empty() {
        out.push_str("no services\n");
    } else {
        out.push_str(&format!(
            "{:<20} {:<24} {:<7} {:<10} {}\n",
            "SERVICE", "LISTEN", "MODE", "USER", "SERVER"
        ));
    }
    for spec in &set.services {
        out.push_str(&describe_service(spec));
    }
    for d in &set.disabled {
        out.push_str(&format!("disabled: {} ({}): {}\n", d.id, d.at, d.why));
    }
    for w in &set.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    for e in &set.errors {
        out.push_str(&format!("error: {e}\n"));
    }
    out
}

fn describe_service(spec: &ServiceSpec) -> String {
    let (mode, user, server) = match &spec.handler {
        Handler::Internal(b) => ("nowait", "-".to_string(), format!("internal {}", b.name())),
        Handler::Exec(e) => (
            if spec.handover() { "wait" } else { "nowait" },
            e.identity.user.clone(),
            format!("{} [{}]", e.program.display(), e.argv.join(" ")),
        ),
    };
    let mut out = format!(
        "{:<20} {:<24} {:<7} {:<10} {}\n",
        spec.id,
        spec.listen.to_string(),
        mode,
        user,
        server
    );
    out.push_str(&format!("    {}", describe_limits(&spec.limits)));
    let nets = |n: &[crate::plan::access::Net]| {
        n.iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    match &spec.access.only_from {
        Some(list) if list.is_empty() => out.push_str(", only_from: nobody"),
        Some(list) => out.push_str(&format!(", only_from {}", nets(list))),
        None => {}
    }
    if !spec.access.no_access.is_empty() {
        out.push_str(&format!(", no_access {}", nets(&spec.access.no_access)));
    }
    out.push('\n');
    out
}

fn describe_limits(limits: &Limits) -> String {
    let count = |c: Option<u32>| c.map_or("UNLIMITED".to_string(), |n| n.to_string());
    let rate = match limits.rate {
        None => "no rate limit".to_string(),
        Some(r) => format!(
            "at most {} per {} s (then {} s pause)",
            r.max,
            r.window.as_secs(),
            r.pause.as_secs()
        ),
    };
    format!(
        "instances {}, per_source {}, {rate}",
        count(limits.instances),
        count(limits.per_source)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every option `command()` declares is taken by the parser `main` uses, in each
    /// of its spellings (`--root DIR` and `--root=DIR` alike).
    #[test]
    fn every_declared_option_is_accepted() {
        let spellings = super::super::option_spellings(&command(), |_| "daemon".to_string());
        for argv in &spellings {
            let full = std::iter::once("xinetd").chain(argv.iter().map(String::as_str));
            let parsed = Args::try_parse_from(normalise(full.map(OsString::from).collect()));
            assert!(parsed.is_ok(), "{argv:?}: {}", parsed.unwrap_err());
        }
        let checked = spellings.len();
        assert!(checked >= 10, "{checked} spellings");
        let argv = ["xinetd", "--root=/r", "-pidfile", "/p"].map(OsString::from);
        let parsed = Args::try_parse_from(normalise(argv.to_vec())).unwrap();
        assert_eq!(parsed.root, Some(PathBuf::from("/r")));
    }

    #[test]
    fn single_dash_options_are_rewritten() {
        let args: Vec<OsString> = [
            "xinetd",
            "-dontfork",
            "-pidfile",
            "/p",
            "-inetd_compat",
            "-d",
            "-f",
            "x",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let parsed = Args::try_parse_from(normalise(args)).unwrap();
        assert!(parsed.dontfork && parsed.debug && parsed.inetd_compat);
        assert_eq!(parsed.pidfile, Some(PathBuf::from("/p")));
        assert_eq!(parsed.config, Some(PathBuf::from("x")));
        assert_eq!(called_as(&[OsString::from("/usr/sbin/inetd")]), "inetd");
        assert_eq!(called_as(&[OsString::from("vinit")]), "xinetd");
    }
}
