//! `update-rc.d`: Debian's interface to the rc links, as bookworm's (init-system-helpers
//! with insserv) behaves — the links follow the LSB header, success is silent, the
//! legacy `start`/`stop`/`NN` arguments are ignored with its warnings — on the same
//! library as chkconfig: LSB dependencies ordered correctly, every change atomic.
//!
//! What insserv prints about the named script is printed with insserv's words (a
//! script without LSB information, links overriding the header's levels), since that is
//! what Debian's update-rc.d shows. Where bookworm goes wrong (an unprivileged run that
//! fails link by link and exits 0), vinit checks first and fails with the path.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use clap::{Arg, ArgAction, Command};

use super::Context;
use crate::error::{SysError, ToolError, ToolResult};
use crate::format::header::Header;
use crate::format::rclink::check_service_name;
use crate::plan::services::debian;
use crate::plan::services::{Plan, Request, Services};
use crate::sys::layout::Root;
use crate::sys::links;
use crate::sys::services::{self, ServicesError};

const USAGE: &str = "usage: update-rc.d [-f] <basename> remove
       update-rc.d [-f] <basename> defaults
       update-rc.d [-f] <basename> defaults-disabled
       update-rc.d <basename> disable|enable [S|2|3|4|5]
\t\t-f: force

The disable|enable API is not stable and might change in the future.
";

/// update-rc.d's ways to fail, each in its words; all exit 1.
#[derive(Debug)]
enum UrdError {
    /// The usage, after `update-rc.d: error: WHY` when there is a why.
    Usage(Option<&'static str>),
    /// `update-rc.d: error: …`
    Failed(String),
    IllegalName(String),
}

impl fmt::Display for UrdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrdError::Usage(None) => f.write_str(USAGE.trim_end_matches('\n')),
            UrdError::Usage(Some(why)) => write!(
                f,
                "update-rc.d: error: {why}\n{}",
                USAGE.trim_end_matches('\n')
            ),
            UrdError::Failed(message) => write!(f, "update-rc.d: error: {message}"),
            UrdError::IllegalName(name) => {
                write!(f, "update-rc.d: illegal character in name '{name}'")
            }
        }
    }
}

impl ToolError for UrdError {
    fn named(&self) -> bool {
        false
    }
}

fn error(e: impl fmt::Display) -> Box<dyn ToolError> {
    UrdError::Failed(e.to_string()).into()
}

fn warning(message: &str) {
    eprintln!("update-rc.d: warning: {message}");
}

fn say(lines: &[String]) {
    for line in lines {
        eprintln!("{line}");
    }
}

/// The services as read, and whether this process may change their links.
struct System {
    services: Services,
    writable: Result<(), SysError>,
}

impl System {
    fn may_write(&self) -> ToolResult<()> {
        self.writable.as_ref().map_err(error).copied()
    }
}

struct Run {
    root: Root,
    name: String,
}

/// update-rc.d's command line, for help, manual pages and completions. It is parsed by
/// [`parse`], Debian's way (options before the name only, Debian's usage and exit
/// status 1 for `--help` and for every mistake); the two agree on every option (tested).
pub fn command() -> Command {
    Command::new("update-rc.d")
        .about("Install and remove a service's rc links (Debian's update-rc.d)")
        .long_about(
            "Debian's update-rc.d, as bookworm's behaves: links a service as its LSB \
             header says (defaults, defaults-disabled), switches its levels on and off \
             (enable, disable), or removes its links (remove). Links are numbered by the \
             LSB dependencies and changed atomically. Success is silent. $DPKG_ROOT is \
             honoured like --root.",
        )
        .override_usage(USAGE.lines().next().unwrap_or_default().trim_start_matches("usage: "))
        .disable_help_flag(true)
        .arg(
            Arg::new("force")
                .short('f')
                .action(ArgAction::SetTrue)
                .help("Force (accepted; remove works whether the script exists or not)"),
        )
        .arg(
            Arg::new("root")
                .long("root")
                .value_name("DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Work on the system below DIR (vinit; also $DPKG_ROOT)"),
        )
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("Print the usage (on stderr, exit status 1, as Debian's)"),
        )
        .arg(
            Arg::new("name")
                .value_name("BASENAME")
                .required(true)
                .help("The service: the name of its script in init.d"),
        )
        .arg(
            Arg::new("action")
                .value_name("ACTION")
                .required(true)
                .value_parser(["defaults", "defaults-disabled", "remove", "enable", "disable", "start", "stop"])
                .help("defaults, defaults-disabled, remove, enable or disable (start and stop: legacy, ignored as Debian does)"),
        )
        .arg(
            Arg::new("levels")
                .value_name("ARGS")
                .num_args(0..)
                .help("For enable and disable: the levels (S 2 3 4 5); legacy numbers and levels otherwise"),
        )
}

/// A parsed command line.
#[derive(Debug, Default)]
struct Opts {
    root: Option<PathBuf>,
    name: String,
    action: String,
    args: Vec<String>,
}

/// Parses the command line as Debian's update-rc.d does: options before the name; a
/// word starting with `-h` or ending with `--help` asks for the usage (Debian's pattern).
fn parse(args: &[OsString]) -> Result<Opts, UrdError> {
    let mut rest: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut o = Opts::default();
    while rest.first().is_some_and(|a| a.starts_with('-')) {
        let opt = rest.remove(0);
        match opt.as_str() {
            // `remove` works whether the script exists or not: -f changes nothing.
            "-f" => {}
            o if o.starts_with("-h") || o.ends_with("--help") => return Err(UrdError::Usage(None)),
            "--root" if !rest.is_empty() => o.root = Some(PathBuf::from(rest.remove(0))),
            w if w.starts_with("--root=") => o.root = Some(PathBuf::from(&w["--root=".len()..])),
            _ => return Err(UrdError::Usage(Some("unknown option"))),
        }
    }
    if rest.len() < 2 {
        return Err(UrdError::Usage(Some("not enough arguments")));
    }
    o.name = rest.remove(0);
    o.action = rest.remove(0);
    o.args = rest;
    Ok(o)
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    crate::error::finish("update-rc.d", run(ctx, &args))
}

fn run(ctx: &Context, args: &[OsString]) -> ToolResult {
    let o = parse(args)?;
    // Debian's own variable for working on a system below a directory.
    let dpkg_root = std::env::var_os("DPKG_ROOT")
        .filter(|r| !r.is_empty())
        .map(PathBuf::from);
    let root = ctx.root(
        o.root
            .or_else(|| ctx.global_root.clone())
            .or(dpkg_root)
            .as_deref(),
    );
    if check_service_name(&o.name).is_err() {
        return Err(UrdError::IllegalName(o.name).into());
    }
    Run { root, name: o.name }.action(&o.action, &o.args)
}

impl Run {
    fn action(&self, action: &str, args: &[String]) -> ToolResult {
        let toggle = matches!(action, "enable" | "disable");
        if !toggle
            && !matches!(
                action,
                "remove" | "defaults" | "defaults-disabled" | "start" | "stop"
            )
        {
            return Err(UrdError::Usage(None).into());
        }
        let header = services::read_script_header(&self.root, &self.name);
        if toggle && header.is_none() {
            return Err(error(format!("cannot find a LSB script for {}", self.name)));
        }
        let script_exists = services::script_exists(&self.root, &self.name);
        if action != "remove" && !toggle && !script_exists {
            return Err(error(format!(
                "initscript does not exist: {}",
                self.root.init_script(&self.name).display()
            )));
        }
        if matches!(action, "start" | "stop") {
            for w in debian::legacy_warnings(&self.name, header.as_ref(), action, args) {
                warning(&w);
            }
        }
        let scanned = services::scan(&self.root).map_err(error)?;
        for problem in &scanned.problems {
            warning(problem);
        }
        // Whether the links may be changed is read with them; it matters only once a
        // change is planned.
        let system = System {
            writable: services::check_links_writable(&self.root, &scanned.services),
            services: scanned.services,
        };
        let header = header.unwrap_or_default();
        match action {
            "remove" => self.remove(&system, &header, script_exists),
            "enable" | "disable" => {
                let enable = action == "enable";
                for w in debian::toggle_warnings(enable, args) {
                    warning(&w);
                }
                let request = system
                    .services
                    .debian_toggle(&self.name, &header, enable, args)
                    .map_err(error)?;
                self.change(&system, Some(&header), request)
            }
            _ => self.defaults(&system, &header, action == "defaults-disabled"),
        }
    }

    /// `remove`: every link of the service, whether its script exists or not.
    fn remove(&self, system: &System, header: &Header, script_exists: bool) -> ToolResult {
        if script_exists {
            say(&debian::header_warnings(&self.name, header));
        }
        let ops = system.services.debian_remove(&self.name);
        if ops.is_empty() {
            return Ok(0);
        }
        system.may_write()?;
        let notes = links::apply(&self.root, &ops).map_err(error)?;
        notes.iter().for_each(|n| warning(n));
        Ok(0)
    }

    /// `defaults` (and the legacy forms) and `defaults-disabled`: see
    /// `Services::debian_defaults`. A service left as it is hears what insserv says
    /// about its levels.
    fn defaults(&self, system: &System, header: &Header, disabled: bool) -> ToolResult {
        say(&debian::header_warnings(&self.name, header));
        match system
            .services
            .debian_defaults(&self.name, header, disabled)
        {
            // Debian disables after insserv has spoken: nothing is said about the levels.
            Some(request) => self.change(system, (!disabled).then_some(header), request),
            None => {
                let links = system.services.unchanged(&self.name);
                say(&debian::level_warnings(&self.name, header, &links));
                Ok(0)
            }
        }
    }

    /// Plans the change to the service's links, checks it may be made, makes it, and
    /// says what insserv would say about the levels that result (with a header).
    fn change(&self, system: &System, header: Option<&Header>, request: Request) -> ToolResult {
        let services = &system.services;
        let plan = services
            .plan(&[request])
            .map_err(|e| error(ServicesError::planning(&self.root, e)))?;
        if !plan.ops.is_empty() {
            system.may_write()?;
        }
        plan.warnings.iter().for_each(|w| warning(w));
        self.apply(&plan)?;
        if let Some(header) = header {
            let links = plan
                .changes
                .get(&self.name)
                .cloned()
                .unwrap_or_else(|| services.unchanged(&self.name));
            say(&debian::level_warnings(&self.name, header, &links));
        }
        Ok(0)
    }

    fn apply(&self, plan: &Plan) -> ToolResult<()> {
        let notes = services::apply(&self.root, plan).map_err(error)?;
        notes.iter().for_each(|n| warning(n));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        super::super::argv("update-rc.d", v)
    }

    #[test]
    fn every_option_of_the_command_is_accepted() {
        super::super::each_option_spelling(command(), 4, |words| {
            let line: Vec<&str> = words.iter().copied().chain(["web", "defaults"]).collect();
            match parse(&args(&line)) {
                Ok(o) => assert_eq!((o.name.as_str(), o.action.as_str()), ("web", "defaults")),
                // Help is an option too: Debian's answer to it is the usage.
                Err(UrdError::Usage(None)) => {
                    assert!(words[0].starts_with("-h") || words[0] == "--help")
                }
                Err(e) => panic!("{words:?}: {e}"),
            }
        });
    }

    #[test]
    fn debians_patterns() {
        let root = parse(&args(&["--root=/mnt", "-f", "web", "enable", "2"])).unwrap();
        assert_eq!(root.root, Some(PathBuf::from("/mnt")));
        assert_eq!(root.args, ["2"]);
        for help in ["-h", "-hx", "--help", "-x--help"] {
            assert!(
                matches!(parse(&args(&[help])), Err(UrdError::Usage(None))),
                "{help}"
            );
        }
        assert!(matches!(
            parse(&args(&["-n", "web", "defaults"])),
            Err(UrdError::Usage(Some("unknown option")))
        ));
        assert!(matches!(
            parse(&args(&["web"])),
            Err(UrdError::Usage(Some("not enough arguments")))
        ));
    }

    proptest::proptest! {
        /// Any command line gives a name and an action, or the usage.
        #[test]
        fn any_command_line_gives_name_and_action_or_the_usage(words in proptest::collection::vec(super::super::COMMAND_WORDS, 0..6)) {
            let line: Vec<&str> = words.iter().map(String::as_str).collect();
            match parse(&args(&line)) {
                Ok(o) => proptest::prop_assert!(line.ends_with(&[&[o.name.as_str(), o.action.as_str()][..], &o.args.iter().map(String::as_str).collect::<Vec<_>>()].concat())),
                Err(e) => proptest::prop_assert!(matches!(e, UrdError::Usage(_))),
            }
        }
    }
}
