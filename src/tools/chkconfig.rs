//! `chkconfig`: Red Hat's interface to the rc links, byte for byte — its command line
//! (popt-style: options anywhere, `--level=35` or `--level 35`), its outputs, its
//! errors and exit statuses — with correct LSB ordering, atomic changes and careful
//! xinetd edits underneath (`sys::services`). Beyond the reference: `--root DIR` and
//! `--json` for `--list`.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use super::Context;
use crate::format::header::Unsupported;
use crate::format::json::quote;
use crate::format::levelset::{level, LevelSet, CHKCONFIG_LEVELS};
use crate::format::rclink::{check_service_name, LinkKind};
use crate::sys::layout::Root;
use crate::sys::services::{self, Request, Service, Services, XinetdService};

/// The Red Hat chkconfig release whose interface this reproduces.
pub const COMPATIBLE_VERSION: &str = "1.3.49";

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

/// Parses the command line as popt does for chkconfig. The error is popt's line.
fn parse(args: &[OsString]) -> Result<Opts, String> {
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
            let mut value = || -> Result<String, String> {
                inline
                    .clone()
                    .or_else(|| words.next())
                    .ok_or_else(|| format!("--{name}: missing argument"))
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
                _ => return Err(format!("{word}: unknown option")),
            }
            if inline.is_some() && !matches!(name, "level" | "levels" | "type" | "root") {
                return Err(format!("{word}: option does not take an argument"));
            }
            continue;
        }
        for c in word[1..].chars() {
            match c {
                'h' => o.help = true,
                'v' => o.version = true,
                _ => return Err(format!("-{c}: unknown option")),
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

fn usage_error(progname: &str) -> i32 {
    eprint!("{}", usage(progname));
    1
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let progname = super::program_name(&args, "chkconfig");
    let o = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    if o.version {
        println!(
            "{progname} version {COMPATIBLE_VERSION} (vinit {})",
            env!("CARGO_PKG_VERSION")
        );
        return 0;
    }
    if o.help {
        print!("{}", usage(&progname));
        return 0;
    }
    let kind = match o.kind.as_deref() {
        None => Kind::Any,
        Some("sysv") => Kind::Sysv,
        Some("xinetd") => Kind::Xinetd,
        Some(_) => {
            eprintln!("--type must be 'sysv' or 'xinetd'");
            return 1;
        }
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
        eprintln!("only one of --list, --add, --del, or --override may be specified");
        return 1;
    }
    let one_name = |o: &Opts| -> Option<String> {
        match o.args.as_slice() {
            [name] if !name.is_empty() => Some(basename(name)),
            _ => None,
        }
    };
    if o.add || o.del || o.override_ {
        let Some(name) = one_name(&o) else {
            return usage_error(&progname);
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
            return usage_error(&progname);
        }
        return list(&root, o.args.first().map(String::as_str), kind, o.json);
    }
    let Some(name) = o.args.first() else {
        return usage_error(&progname);
    };
    let levels = match o.levels.as_deref().map(LevelSet::parse_digits) {
        None => None,
        Some(Some(l)) => Some(l),
        Some(None) => return usage_error(&progname),
    };
    match o.args.get(1).map(String::as_str) {
        None => query(&root, name, kind, levels),
        Some("on") => set(&root, name, kind, levels, State::On),
        Some("off") => set(&root, name, kind, levels, State::Off),
        Some("reset") => set(&root, name, kind, levels, State::Reset),
        Some("resetpriorities") => set(&root, name, kind, levels, State::ResetPriorities),
        Some(_) => usage_error(&progname),
    }
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

enum ReadError {
    NotFound,
    Unsupported(Option<String>),
}

fn find<'a>(services: &'a Services, name: &str, kind: Kind) -> Result<Found<'a>, ReadError> {
    if check_service_name(name).is_err() {
        return Err(ReadError::NotFound);
    }
    if kind.sysv() {
        if let Some(service) = services.service(name) {
            return match &service.info {
                Ok(_) => Ok(Found::Sysv(service)),
                Err(Unsupported::NoHeader) => Err(ReadError::Unsupported(None)),
                Err(Unsupported::Broken(p)) => Err(ReadError::Unsupported(Some(format!(
                    "chkconfig: {}:{}: {}",
                    services.root.init_script(name).display(),
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
    Err(ReadError::NotFound)
}

/// Red Hat's `readServiceError`.
fn report(name: &str, e: ReadError) -> i32 {
    match e {
        ReadError::NotFound => {
            eprintln!("error reading information on service {name}: No such file or directory")
        }
        ReadError::Unsupported(detail) => {
            eprintln!("service {name} does not support chkconfig");
            if let Some(d) = detail {
                eprintln!("{d}");
            }
        }
    }
    1
}

/// Reads the services (only `only`'s scripts, when given), reporting what could not be
/// read.
fn scan(root: &Root, only: Option<&[&str]>) -> Result<Services, i32> {
    let scanned = match only {
        Some(names) => Services::scan_only(root, names),
        None => Services::scan(root),
    };
    let services = scanned.map_err(|e| {
        eprintln!("{e}");
        1
    })?;
    for problem in &services.problems {
        eprintln!("chkconfig: {problem}");
    }
    Ok(services)
}

/// Reads the service a command names, or says why not (exit 1).
fn read<'a>(services: &'a Services, name: &str, kind: Kind) -> Result<Found<'a>, i32> {
    find(services, name, kind).map_err(|e| report(name, e))
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

fn list(root: &Root, item: Option<&str>, kind: Kind, json: bool) -> i32 {
    let only = item.map(|name| [name, "xinetd"]);
    let services = match scan(root, only.as_ref().map(|o| o.as_slice())) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut out = String::new();
    match item {
        Some(name) => {
            let found = match read(&services, name, kind) {
                Ok(f) => f,
                Err(code) => return code,
            };
            match found {
                Found::Sysv(s) if !s.is_configured() => {
                    eprintln!(
                        "service {name} supports chkconfig, but is not referenced in any runlevel (run 'chkconfig --add {name}')"
                    );
                    return 1;
                }
                Found::Sysv(s) if json => out = json_list(&[Found::Sysv(s)], None),
                Found::Sysv(s) => out = format!("{}\n", sysv_line(s)),
                Found::Xinetd(x) if json => out = json_list(&[Found::Xinetd(x)], None),
                Found::Xinetd(x) => out = format!("{:<15}\t{}\n", x.name, on_off(x.enabled)),
            }
        }
        None => {
            let sysv: Vec<&Service> = if kind.sysv() {
                services
                    .sysv
                    .values()
                    .filter(|s| s.installed && s.info.is_ok() && s.is_configured())
                    .collect()
            } else {
                Vec::new()
            };
            let show_xinetd = kind.xinetd() && services.superserver_enabled();
            if json {
                let mut all: Vec<Found> = sysv.iter().map(|s| Found::Sysv(s)).collect();
                if kind.xinetd() {
                    all.extend(services.xinetd.values().map(Found::Xinetd));
                }
                out = json_list(&all, Some(services.superserver_enabled()));
            } else {
                for s in sysv {
                    out.push_str(&sysv_line(s));
                    out.push('\n');
                }
                if show_xinetd {
                    out.push_str("\nxinetd based services:\n");
                    for x in services.xinetd.values() {
                        out.push_str(&format!(
                            "\t{:<15}\t{}\n",
                            format!("{}:", x.name),
                            on_off(x.enabled)
                        ));
                    }
                }
            }
        }
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    0
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
fn change(services: &Services, requests: &[Request]) -> i32 {
    if !services.can_change_links() {
        eprintln!("{NO_PRIVILEGES}");
        return 1;
    }
    let plan = match services.plan(requests) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("chkconfig: {e}");
            return 1;
        }
    };
    for w in &plan.warnings {
        eprintln!("chkconfig: warning: {w}");
    }
    match services.apply(&plan) {
        Ok(notes) => {
            for note in notes {
                eprintln!("chkconfig: {note}");
            }
            0
        }
        Err(e) => {
            eprintln!("chkconfig: {e}");
            1
        }
    }
}

/// `--add` and `--del`: relink a SysV service by the request `make` builds; an xinetd
/// service has no links, so both succeed doing nothing (as Red Hat's).
fn relink(root: &Root, name: &str, kind: Kind, make: fn(&Services, &str) -> Request) -> i32 {
    let services = match scan(root, None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match read(&services, name, kind) {
        Err(code) => code,
        Ok(Found::Xinetd(_)) => 0,
        Ok(Found::Sysv(_)) => change(&services, &[make(&services, name)]),
    }
}

/// `--override`: when an override file exists and the service's links are still the
/// script's own defaults (nobody changed them since `--add`), re-link it by the
/// override. Silent success otherwise, as Red Hat's.
fn override_service(root: &Root, name: &str, kind: Kind) -> i32 {
    let Ok(services) = Services::scan(root) else {
        return 0;
    };
    let Ok(Found::Sysv(service)) = find(&services, name, kind) else {
        return 0;
    };
    if !root.chkconfig_d().join(name).is_file() {
        return 0;
    }
    let (Ok(original), Ok(wanted)) = (
        service.script_header.service_info(name),
        service.info.as_ref(),
    ) else {
        return 0;
    };
    if (original.levels, original.start, original.stop)
        == (wanted.levels, wanted.start, wanted.stop)
    {
        return 0;
    }
    if !service.is_configured() {
        return 0;
    }
    let untouched = CHKCONFIG_LEVELS.iter().map(|c| level(*c)).all(|l| {
        service.links_in(l).iter().all(|f| {
            let on = original.levels.contains(l);
            match f.link.kind {
                LinkKind::Start => on && original.start.is_none_or(|p| p == f.link.priority),
                LinkKind::Kill => !on && original.stop.is_none_or(|p| p == f.link.priority),
            }
        })
    });
    if !untouched {
        return 0;
    }
    change(&services, &[services.reset(name, LevelSet::ALL)])
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    On,
    Off,
    Reset,
    ResetPriorities,
}

fn set(root: &Root, name: &str, kind: Kind, levels: Option<LevelSet>, state: State) -> i32 {
    let services = match scan(root, None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let found = match read(&services, name, kind) {
        Ok(f) => f,
        Err(code) => return code,
    };
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
            change(&services, &[request])
        }
        Found::Xinetd(x) => set_xinetd(&services, x, state),
    }
}

fn set_xinetd(services: &Services, x: &XinetdService, state: State) -> i32 {
    if !services.can_change_xinetd() {
        eprintln!("{NO_PRIVILEGES}");
        return 1;
    }
    let on = match state {
        State::On => true,
        State::Off => false,
        State::Reset => x.default_enabled.unwrap_or(x.enabled),
        State::ResetPriorities => return 0,
    };
    match services::switch_xinetd(&services.root, &[(x.name.clone(), on)]) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("chkconfig: {e}");
            1
        }
    }
}

/// `chkconfig [--level L] NAME`: exit 0 if on in that level (default: the current
/// one), 1 otherwise; no output.
fn query(root: &Root, name: &str, kind: Kind, levels: Option<LevelSet>) -> i32 {
    if levels.is_some_and(|l| l.len() > 1) {
        eprintln!("only one runlevel may be specified for a chkconfig query");
        return 1;
    }
    let Ok(services) = Services::scan_only(root, &[name, "xinetd"]) else {
        return 1;
    };
    let Ok(found) = find(&services, name, kind) else {
        return 1;
    };
    let level = match levels.and_then(|l| l.iter().next()) {
        Some(l) => l,
        None => match services::current_runlevel(root) {
            Some(l) => l,
            None => {
                eprintln!("cannot determine current run level");
                return 1;
            }
        },
    };
    let on = match found {
        Found::Sysv(s) => s.is_on(level),
        // On when the file says so and the superserver itself runs in that level (when
        // it is an init.d service at all).
        Found::Xinetd(x) => x.enabled && services.service("xinetd").is_none_or(|s| s.is_on(level)),
    };
    i32::from(!on)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        std::iter::once("chkconfig")
            .chain(v.iter().copied())
            .map(OsString::from)
            .collect()
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
        assert_eq!(
            parse(&args(&["--bogus"])).unwrap_err(),
            "--bogus: unknown option"
        );
        assert_eq!(
            parse(&args(&["--level"])).unwrap_err(),
            "--level: missing argument"
        );
        assert_eq!(parse(&args(&["-x"])).unwrap_err(), "-x: unknown option");
        assert!(parse(&args(&["-hv"])).is_ok_and(|o| o.help && o.version));
        assert!(parse(&args(&["--list=x"])).is_err());
    }

    #[test]
    fn basenames() {
        assert_eq!(basename("/etc/init.d/foo"), "foo");
        assert_eq!(basename("foo/"), "foo");
        assert_eq!(basename("foo"), "foo");
        assert_eq!(basename(".."), "..");
    }
}
