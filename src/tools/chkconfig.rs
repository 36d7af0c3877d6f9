//! `chkconfig`: Red Hat's interface to the rc links, byte for byte — its command line
//! (popt-style: options anywhere, `--level=35` or `--level 35`), its outputs, its
//! errors and exit statuses — with correct LSB ordering, atomic changes and careful
//! xinetd edits underneath (`plan::services` decides, `sys::services` reads and
//! applies). Beyond the reference: `--root DIR` and `--json` for `--list`.

use std::ffi::OsString;
use std::fmt;
use std::io::Write;
use std::path::PathBuf;

use clap::{Arg, ArgAction, Command};

use super::Context;
use crate::error::{ToolError, ToolResult, Verbatim};
use crate::format::header::Unsupported;
use crate::format::json::quote;
use crate::format::levelset::{level, LevelSet, CHKCONFIG_LEVELS};
use crate::format::rclink::check_service_name;
use crate::plan::services::{Request, Service, Services, XinetdService};
use crate::sys::layout::Root;
use crate::sys::services::{self, ServicesError};

/// The Red Hat chkconfig release whose interface this reproduces.
const COMPATIBLE_VERSION: &str = "1.3.49";

const NO_PRIVILEGES: &str = "You do not have enough privileges to perform this operation.";

#[derive(Debug, Default)]
struct Opts {
    list: bool,
    add: bool,
    del: bool,
    override_: bool,
    levels: Option<String>,
    kind: Option<String>,
    help: bool,
    version: bool,
    root: Option<PathBuf>,
    json: bool,
    args: Vec<String>,
}

/// Which services a command looks at (`--type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Any,
    Sysv,
    Xinetd,
}

impl Kind {
    fn sysv(self) -> bool {
        self != Kind::Xinetd
    }

    fn xinetd(self) -> bool {
        self != Kind::Sysv
    }
}

/// chkconfig's command line, for help, manual pages and completions. It is parsed by
/// [`parse`], popt's way (options anywhere, `--level=35` or `--level 35`, popt's own
/// error lines); the two agree on every option (tested).
pub fn command() -> Command {
    let flag = |name: &'static str, help: &'static str| {
        Arg::new(name)
            .long(name)
            .action(ArgAction::SetTrue)
            .help(help)
    };
    Command::new("chkconfig")
        .version(env!("CARGO_PKG_VERSION"))
        .about("List and change which services start in which runlevels")
        .long_about(
            "Red Hat's chkconfig, byte for byte: lists the init.d services with their \
             state in runlevels 0-6 (and the xinetd services), turns them on and off, \
             adds and removes their rc links, and answers by its exit status whether a \
             service is on. Links are ordered by the LSB dependencies and changed \
             atomically. With no arguments, --list.",
        )
        .override_usage(
            "chkconfig [--list] [--type <type>] [name]\n       \
             chkconfig --add <name>\n       \
             chkconfig --del <name>\n       \
             chkconfig --override <name>\n       \
             chkconfig [--level <levels>] [--type <type>] <name> <on|off|reset|resetpriorities>",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(flag("list", "List the services and their state in each runlevel"))
        .arg(flag("add", "Link a service in every runlevel, as its header says"))
        .arg(flag("del", "Remove every link of a service"))
        .arg(flag(
            "override",
            "Re-link a service by etc/chkconfig.d/NAME if nobody changed its links",
        ))
        .arg(
            Arg::new("level")
                .long("level")
                .visible_alias("levels")
                .value_name("LEVELS")
                .help("The runlevels to change or query (digits 0-6; default 2345 for on/off, 0-6 for reset)"),
        )
        .arg(
            Arg::new("type")
                .long("type")
                .value_name("TYPE")
                .value_parser(["sysv", "xinetd"])
                .help("Only init.d (sysv) or only xinetd services"),
        )
        .arg(
            Arg::new("root")
                .long("root")
                .value_name("DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Work on the system below DIR (vinit)"),
        )
        .arg(flag("json", "With --list: print JSON (vinit)"))
        .arg(flag(
            "no-redirect",
            "Accepted for newer chkconfig's scripts; nothing to redirect here",
        ))
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("Print the usage and exit"),
        )
        .arg(
            Arg::new("version")
                .short('v')
                .long("version")
                .action(ArgAction::Version)
                .help("Print the interface version and exit"),
        )
        .arg(
            Arg::new("name")
                .value_name("NAME")
                .help("A service: an init.d script (or, for --add/--del/--override, its path) or an xinetd service"),
        )
        .arg(
            Arg::new("state")
                .value_name("on|off|reset|resetpriorities")
                .help("What to make of it; without one, a query: exit 0 if on, 1 if off"),
        )
}

/// popt's line for a command-line mistake (`--bogus: unknown option`), said as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PoptError(String);

impl From<PoptError> for Box<dyn ToolError> {
    fn from(e: PoptError) -> Box<dyn ToolError> {
        Verbatim::new(1, e.0).into()
    }
}

/// Parses the command line as popt does for chkconfig.
fn parse(args: &[OsString]) -> Result<Opts, PoptError> {
    let mut o = Opts::default();
    let mut words = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    let mut only_args = false;
    while let Some(word) = words.next() {
        if only_args || word == "-" || !word.starts_with('-') {
            o.args.push(word);
            continue;
        }
        if word == "--" {
            only_args = true;
            continue;
        }
        if let Some(long) = word.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let mut value = || -> Result<String, PoptError> {
                inline
                    .clone()
                    .or_else(|| words.next())
                    .ok_or_else(|| PoptError(format!("--{name}: missing argument")))
            };
            match name {
                "add" => o.add = true,
                "del" => o.del = true,
                "override" => o.override_ = true,
                "list" => o.list = true,
                "json" => o.json = true,
                // Newer chkconfig's systemd switch: nothing to redirect here.
                "no-redirect" => {}
                "help" => o.help = true,
                "version" => o.version = true,
                "level" | "levels" => o.levels = Some(value()?),
                "type" => o.kind = Some(value()?),
                "root" => o.root = Some(PathBuf::from(value()?)),
                _ => return Err(PoptError(format!("{word}: unknown option"))),
            }
            if inline.is_some() && !matches!(name, "level" | "levels" | "type" | "root") {
                return Err(PoptError(format!(
                    "{word}: option does not take an argument"
                )));
            }
            continue;
        }
        for c in word[1..].chars() {
            match c {
                'h' => o.help = true,
                'v' => o.version = true,
                _ => return Err(PoptError(format!("-{c}: unknown option"))),
            }
        }
    }
    Ok(o)
}

fn usage(progname: &str) -> String {
    format!(
        "{progname} version {COMPATIBLE_VERSION} - vinit {}\n\
         This may be freely redistributed under the terms of the MIT License.\n\n\
         usage:   {progname} [--list] [--type <type>] [name]\n\
         \x20        {progname} --add <name>\n\
         \x20        {progname} --del <name>\n\
         \x20        {progname} --override <name>\n\
         \x20        {progname} [--level <levels>] [--type <type>] <name> <on|off|reset|resetpriorities>\n\n\
         vinit additions: --root <dir> (work on the system below dir), --json (with --list)\n",
        env!("CARGO_PKG_VERSION")
    )
}

fn usage_error(progname: &str) -> Box<dyn ToolError> {
    Verbatim::new(1, usage(progname)).into()
}

/// Red Hat's own wording, printed as it is; exit 1.
fn said(message: impl Into<String>) -> Box<dyn ToolError> {
    Verbatim::new(1, message).into()
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    crate::error::finish("chkconfig", run(ctx, &args))
}

fn run(ctx: &Context, args: &[OsString]) -> ToolResult {
    let progname = super::program_name(args, "chkconfig");
    let o = parse(args)?;
    if o.version {
        println!(
            "{progname} version {COMPATIBLE_VERSION} (vinit {})",
            env!("CARGO_PKG_VERSION")
        );
        return Ok(0);
    }
    if o.help {
        print!("{}", usage(&progname));
        return Ok(0);
    }
    let kind = match o.kind.as_deref() {
        None => Kind::Any,
        Some("sysv") => Kind::Sysv,
        Some("xinetd") => Kind::Xinetd,
        Some(_) => return Err(said("--type must be 'sysv' or 'xinetd'")),
    };
    let root = ctx.root(o.root.as_deref());
    let actions = [o.list, o.add, o.del, o.override_]
        .iter()
        .filter(|a| **a)
        .count();
    if o.args.is_empty() && !(o.add || o.del || o.override_) && o.levels.is_none() {
        return list(&root, None, kind, o.json);
    }
    if actions > 1 {
        return Err(said(
            "only one of --list, --add, --del, or --override may be specified",
        ));
    }
    if o.add || o.del || o.override_ {
        let name = match o.args.as_slice() {
            [name] if !name.is_empty() => basename(name),
            _ => return Err(usage_error(&progname)),
        };
        return if o.add {
            relink(&root, &name, kind, Services::add)
        } else if o.del {
            relink(&root, &name, kind, Services::delete)
        } else {
            override_service(&root, &name, kind)
        };
    }
    if o.list {
        if o.args.len() > 1 {
            return Err(usage_error(&progname));
        }
        return list(&root, o.args.first().map(String::as_str), kind, o.json);
    }
    let Some(name) = o.args.first() else {
        return Err(usage_error(&progname));
    };
    let levels = match o.levels.as_deref().map(LevelSet::parse_digits) {
        None => None,
        Some(Some(l)) => Some(l),
        Some(None) => return Err(usage_error(&progname)),
    };
    let state = match o.args.get(1).map(String::as_str) {
        None => return query(&root, name, kind, levels),
        Some("on") => State::On,
        Some("off") => State::Off,
        Some("reset") => State::Reset,
        Some("resetpriorities") => State::ResetPriorities,
        Some(_) => return Err(usage_error(&progname)),
    };
    set(&root, name, kind, levels, state)
}

/// `--add`, `--del` and `--override` accept a path and use its last component.
fn basename(name: &str) -> String {
    let trimmed = name.trim_end_matches('/');
    match trimmed.rsplit('/').next() {
        Some(b) if !b.is_empty() => b.to_string(),
        _ => name.to_string(),
    }
}

/// What a name refers to, chkconfig's way: an init.d script first, else an xinetd file.
enum Found<'a> {
    Sysv(&'a Service),
    Xinetd(&'a XinetdService),
}

/// Why a name refers to nothing chkconfig manages (Red Hat's `readServiceError`).
#[derive(Debug)]
enum ReadError {
    NotFound(String),
    Unsupported {
        name: String,
        detail: Option<String>,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotFound(name) => write!(
                f,
                "error reading information on service {name}: No such file or directory"
            ),
            ReadError::Unsupported { name, detail } => {
                write!(f, "service {name} does not support chkconfig")?;
                match detail {
                    Some(d) => write!(f, "\nchkconfig: {d}"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl ToolError for ReadError {
    fn named(&self) -> bool {
        false
    }
}

fn find<'a>(
    root: &Root,
    services: &'a Services,
    name: &str,
    kind: Kind,
) -> Result<Found<'a>, ReadError> {
    if check_service_name(name).is_err() {
        return Err(ReadError::NotFound(name.to_string()));
    }
    if kind.sysv() {
        if let Some(service) = services.service(name) {
            let unsupported = |detail| ReadError::Unsupported {
                name: name.to_string(),
                detail,
            };
            return match &service.info {
                Ok(_) => Ok(Found::Sysv(service)),
                Err(Unsupported::NoHeader) => Err(unsupported(None)),
                Err(Unsupported::Broken(p)) => Err(unsupported(Some(format!(
                    "{}:{}: {}",
                    root.init_script(name).display(),
                    p.line,
                    p.message
                )))),
            };
        }
    }
    if kind.xinetd() {
        if let Some(x) = services.xinetd.get(name) {
            return Ok(Found::Xinetd(x));
        }
    }
    Err(ReadError::NotFound(name.to_string()))
}

/// Reads the services (only `only`'s scripts, when given), reporting what could not be
/// read.
fn scan(root: &Root, only: Option<&[&str]>) -> ToolResult<Services> {
    let scanned = match only {
        Some(names) => services::scan_only(root, names),
        None => services::scan(root),
    };
    let scanned = scanned.map_err(|e| said(e.to_string()))?;
    for problem in &scanned.problems {
        eprintln!("chkconfig: {problem}");
    }
    Ok(scanned.services)
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

/// `%-15s` then `\tN:on|off` for 0–6.
fn sysv_line(service: &Service) -> String {
    let mut line = format!("{:<15}", service.name);
    for c in CHKCONFIG_LEVELS {
        line.push_str(&format!("\t{c}:{}", on_off(service.is_on(level(c)))));
    }
    line
}

fn list(root: &Root, item: Option<&str>, kind: Kind, json: bool) -> ToolResult {
    let only = item.map(|name| [name, "xinetd"]);
    let services = scan(root, only.as_ref().map(|o| o.as_slice()))?;
    let out = match item {
        Some(name) => list_one(root, &services, name, kind, json)?,
        None => list_all(&services, kind, json),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    Ok(0)
}

fn list_one(
    root: &Root,
    services: &Services,
    name: &str,
    kind: Kind,
    json: bool,
) -> ToolResult<String> {
    Ok(match find(root, services, name, kind)? {
        Found::Sysv(s) if !s.is_configured() => {
            return Err(said(format!(
                "service {name} supports chkconfig, but is not referenced in any runlevel (run 'chkconfig --add {name}')"
            )))
        }
        Found::Sysv(s) if json => json_list(&[Found::Sysv(s)], None),
        Found::Sysv(s) => format!("{}\n", sysv_line(s)),
        Found::Xinetd(x) if json => json_list(&[Found::Xinetd(x)], None),
        Found::Xinetd(x) => format!("{:<15}\t{}\n", x.name, on_off(x.enabled)),
    })
}

fn list_all(services: &Services, kind: Kind, json: bool) -> String {
    let sysv: Vec<&Service> = if kind.sysv() {
        services.sysv.values().filter(|s| s.is_listed()).collect()
    } else {
        Vec::new()
    };
    if json {
        let mut all: Vec<Found> = sysv.iter().map(|s| Found::Sysv(s)).collect();
        if kind.xinetd() {
            all.extend(services.xinetd.values().map(Found::Xinetd));
        }
        return json_list(&all, Some(services.superserver_enabled()));
    }
    let mut out = String::new();
    for s in sysv {
        out.push_str(&sysv_line(s));
        out.push('\n');
    }
    if kind.xinetd() && services.superserver_enabled() {
        out.push_str("\nxinetd based services:\n");
        for x in services.xinetd.values() {
            out.push_str(&format!(
                "\t{:<15}\t{}\n",
                format!("{}:", x.name),
                on_off(x.enabled)
            ));
        }
    }
    out
}

fn json_list(items: &[Found], superserver: Option<bool>) -> String {
    let entries: Vec<String> = items
        .iter()
        .map(|item| match item {
            Found::Sysv(s) => {
                let levels: Vec<String> = CHKCONFIG_LEVELS
                    .iter()
                    .map(|c| format!("\"{c}\": {}", quote(on_off(s.is_on(level(*c))))))
                    .collect();
                let links: Vec<String> = s
                    .links
                    .iter()
                    .filter(|(_, files)| !files.is_empty())
                    .map(|(l, files)| {
                        let names: Vec<String> = files.iter().map(|f| quote(&f.name)).collect();
                        format!("{}: [{}]", quote(&l.to_string()), names.join(", "))
                    })
                    .collect();
                format!(
                    "{{\"name\": {}, \"type\": \"sysv\", \"description\": {}, \"runlevels\": {{{}}}, \"links\": {{{}}}}}",
                    quote(&s.name),
                    quote(s.description()),
                    levels.join(", "),
                    links.join(", ")
                )
            }
            Found::Xinetd(x) => format!(
                "{{\"name\": {}, \"type\": \"xinetd\", \"description\": {}, \"state\": {}}}",
                quote(&x.name),
                x.description.as_deref().map_or("null".to_string(), quote),
                quote(on_off(x.enabled))
            ),
        })
        .collect();
    let mut out = String::from("{");
    if let Some(enabled) = superserver {
        out.push_str(&format!("\"xinetd_enabled\": {enabled}, "));
    }
    out.push_str("\"services\": [");
    if !entries.is_empty() {
        out.push_str("\n  ");
        out.push_str(&entries.join(",\n  "));
        out.push('\n');
    }
    out.push_str("]}\n");
    out
}

/// Applies a change to the links, saying what the planner warns about.
fn change(root: &Root, services: &Services, requests: &[Request]) -> ToolResult {
    if !services::can_change_links(root, services) {
        return Err(said(NO_PRIVILEGES));
    }
    let plan = services
        .plan(requests)
        .map_err(|e| ServicesError::planning(root, e))?;
    for w in &plan.warnings {
        eprintln!("chkconfig: warning: {w}");
    }
    for note in services::apply(root, &plan)? {
        eprintln!("chkconfig: {note}");
    }
    Ok(0)
}

/// `--add` and `--del`: relink a SysV service by the request `make` builds; an xinetd
/// service has no links, so both succeed doing nothing (as Red Hat's).
fn relink(root: &Root, name: &str, kind: Kind, make: fn(&Services, &str) -> Request) -> ToolResult {
    let services = scan(root, None)?;
    match find(root, &services, name, kind)? {
        Found::Xinetd(_) => Ok(0),
        Found::Sysv(_) => change(root, &services, &[make(&services, name)]),
    }
}

/// `--override`: re-link a service by its override file when nobody changed its links
/// since `--add` (see `Services::override_request`). Silent success otherwise, as Red
/// Hat's.
fn override_service(root: &Root, name: &str, kind: Kind) -> ToolResult {
    let Ok(scanned) = services::scan(root) else {
        return Ok(0);
    };
    let services = scanned.services;
    let Ok(Found::Sysv(_)) = find(root, &services, name, kind) else {
        return Ok(0);
    };
    match services.override_request(name) {
        Some(request) => change(root, &services, &[request]),
        None => Ok(0),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    On,
    Off,
    Reset,
    ResetPriorities,
}

fn set(root: &Root, name: &str, kind: Kind, levels: Option<LevelSet>, state: State) -> ToolResult {
    let services = scan(root, None)?;
    let found = find(root, &services, name, kind)?;
    let levels = levels.unwrap_or(match state {
        State::On | State::Off => LevelSet::MULTI_USER,
        State::Reset | State::ResetPriorities => LevelSet::ALL,
    });
    match found {
        Found::Sysv(_) => {
            let request = match state {
                State::On => services.on_off(name, levels, true),
                State::Off => services.on_off(name, levels, false),
                State::Reset => services.reset(name, levels),
                State::ResetPriorities => services.reset_priorities(name, levels),
            };
            change(root, &services, &[request])
        }
        Found::Xinetd(x) => set_xinetd(root, x, state),
    }
}

fn set_xinetd(root: &Root, x: &XinetdService, state: State) -> ToolResult {
    if !services::can_change_xinetd(root) {
        return Err(said(NO_PRIVILEGES));
    }
    let on = match state {
        State::On => true,
        State::Off => false,
        State::Reset => x.default_enabled.unwrap_or(x.enabled),
        State::ResetPriorities => return Ok(0),
    };
    services::switch_xinetd(root, &[(x.name.clone(), on)])?;
    Ok(0)
}

/// `chkconfig [--level L] NAME`: exit 0 if on in that level (default: the current
/// one), 1 otherwise; no output.
fn query(root: &Root, name: &str, kind: Kind, levels: Option<LevelSet>) -> ToolResult {
    const OFF: ToolResult = Ok(1);
    if levels.is_some_and(|l| l.len() > 1) {
        return Err(said(
            "only one runlevel may be specified for a chkconfig query",
        ));
    }
    let Ok(scanned) = services::scan_only(root, &[name, "xinetd"]) else {
        return OFF;
    };
    let services = scanned.services;
    let Ok(found) = find(root, &services, name, kind) else {
        return OFF;
    };
    let level = match levels.and_then(|l| l.iter().next()) {
        Some(l) => l,
        None => services::current_runlevel(root)
            .ok_or_else(|| said("cannot determine current run level"))?,
    };
    let on = match found {
        Found::Sysv(s) => s.is_on(level),
        Found::Xinetd(x) => services.xinetd_on(x, level),
    };
    Ok(i32::from(!on))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        super::super::argv("chkconfig", v)
    }

    #[test]
    fn popt_style_command_lines() {
        let o = parse(&args(&["foo", "--level=35", "on"])).unwrap();
        assert_eq!(
            (o.args.clone(), o.levels.as_deref()),
            (vec!["foo".to_string(), "on".to_string()], Some("35"))
        );
        let o = parse(&args(&[
            "--levels", "2", "--type", "sysv", "--list", "--", "--odd",
        ]))
        .unwrap();
        assert!(o.list);
        assert_eq!(o.kind.as_deref(), Some("sysv"));
        assert_eq!(o.args, ["--odd"]);
        let error = |v: &[&str]| parse(&args(v)).unwrap_err().0;
        assert_eq!(error(&["--bogus"]), "--bogus: unknown option");
        assert_eq!(error(&["--level"]), "--level: missing argument");
        assert_eq!(error(&["-x"]), "-x: unknown option");
        assert!(parse(&args(&["-hv"])).is_ok_and(|o| o.help && o.version));
        assert!(parse(&args(&["--list=x"])).is_err());
    }

    #[test]
    fn every_option_of_the_command_is_accepted() {
        super::super::each_option_spelling(command(), 16, |words| {
            assert!(parse(&args(words)).is_ok(), "{words:?}");
        });
    }

    #[test]
    fn basenames() {
        assert_eq!(basename("/etc/init.d/foo"), "foo");
        assert_eq!(basename("foo/"), "foo");
        assert_eq!(basename("foo"), "foo");
        assert_eq!(basename(".."), "..");
    }

    proptest::proptest! {
        /// Any command line parses, or is refused with popt's line naming an option.
        #[test]
        fn any_command_line_parses_or_names_an_option(words in proptest::collection::vec(super::super::COMMAND_WORDS, 0..6)) {
            let line: Vec<&str> = words.iter().map(String::as_str).collect();
            match parse(&args(&line)) {
                Ok(o) => proptest::prop_assert!(o.args.len() <= line.len()),
                Err(e) => proptest::prop_assert!(e.0.starts_with('-') && e.0.contains(": "), "{}", e.0),
            }
        }
    }
}
