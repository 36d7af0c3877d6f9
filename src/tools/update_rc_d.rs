//! `update-rc.d`: Debian's interface to the rc links, with its messages and exit
//! statuses (sysv-rc's, the one that takes `-n` and `defaults NN`), on the same
//! library as chkconfig: LSB dependencies ordered correctly, every change atomic.
//!
//! `defaults` links the levels the script's header names (LSB `Default-Start` and
//! `Default-Stop`, or a `chkconfig:` line), as Debian does today; a script without
//! either gets sysv-rc's 2 3 4 5 / 0 1 6. Priorities: the `NN` / `SS KK` given, else
//! the header's, else 20; LSB dependencies move them where needed.

use std::ffi::OsString;
use std::path::PathBuf;

use super::Context;
use crate::format::header::Header;
use crate::format::levelset::{level, LevelSet};
use crate::format::link_journal::LinkOp;
use crate::format::rclink::{check_service_name, LinkKind};
use crate::format::runlevel::Runlevel;
use crate::sys::layout::Root;
use crate::sys::links;
use crate::sys::services::{Plan, Request, Service, Services};

/// sysv-rc's priority when neither the command line nor the header gives one.
const LEGACY_PRIORITY: u8 = 20;

const USAGE: &str = "usage: update-rc.d [-n] [-f] <basename> remove
       update-rc.d [-n] <basename> defaults [NN | SS KK]
       update-rc.d [-n] <basename> defaults-disabled
       update-rc.d [-n] <basename> start|stop NN runlvl [runlvl] [...] .
       update-rc.d [-n] <basename> disable|enable [S|2|3|4|5]
\t\t-n: not really
\t\t-f: force

The disable|enable API is not stable and might change in the future.
";

/// Prints the usage (after an error line, if any) and gives the exit status.
fn usage(error: Option<&str>) -> i32 {
    if let Some(e) = error {
        eprintln!("update-rc.d: error: {e}");
    }
    eprint!("{USAGE}");
    1
}

fn error(message: &str) -> i32 {
    eprintln!("update-rc.d: error: {message}");
    1
}

/// sysv-rc died with the failing call's name and errno.
fn denied(call: &str) -> i32 {
    eprintln!("update-rc.d: {call}: Permission denied");
    1
}

fn warning(message: &str) {
    eprintln!("update-rc.d: warning: {message}");
}

struct Run {
    root: Root,
    name: String,
    not_really: bool,
    force: bool,
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let mut rest: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut not_really = false;
    let mut force = false;
    let mut own_root: Option<PathBuf> = None;
    while rest.first().is_some_and(|a| a.starts_with('-')) {
        let opt = rest.remove(0);
        match opt.as_str() {
            "-n" => not_really = true,
            "-f" => force = true,
            "-h" | "--help" => return usage(None),
            "--root" if !rest.is_empty() => own_root = Some(PathBuf::from(rest.remove(0))),
            o if o.starts_with("--root=") => own_root = Some(PathBuf::from(&o["--root=".len()..])),
            _ => return usage(Some("unknown option")),
        }
    }
    if rest.len() < 2 {
        return usage(Some("not enough arguments"));
    }
    // Debian's own variable for working on a system below a directory.
    let dpkg_root = std::env::var_os("DPKG_ROOT")
        .filter(|r| !r.is_empty())
        .map(PathBuf::from);
    let root = ctx.root(
        own_root
            .or_else(|| ctx.global_root.clone())
            .or(dpkg_root)
            .as_deref(),
    );
    let name = rest.remove(0);
    let action = rest.remove(0);
    if check_service_name(&name).is_err() {
        eprintln!("update-rc.d: illegal character in name '{name}'");
        return 1;
    }
    let run = Run {
        root,
        name,
        not_really,
        force,
    };
    run.action(&action, &rest)
}

impl Run {
    fn script_path(&self) -> String {
        self.root.init_script(&self.name).display().to_string()
    }

    fn link_path(&self, level: Runlevel, link: &str) -> String {
        self.root.rc_dir(level).join(link).display().to_string()
    }

    fn action(&self, action: &str, args: &[String]) -> i32 {
        let script = self.root.init_script(&self.name);
        if action == "remove" {
            if script.is_file() && !self.force {
                eprintln!(
                    "update-rc.d: {} exists during rc.d purge (use -f to force)",
                    self.script_path()
                );
                return 1;
            }
        } else {
            if !script.is_file() {
                eprintln!("update-rc.d: {}: file does not exist", self.script_path());
                return 1;
            }
            self.lsb_warnings();
        }
        let services = match Services::scan(&self.root) {
            Ok(s) => s,
            Err(e) => return error(&e),
        };
        match action {
            "remove" => self.remove(&services),
            "defaults" => match codenumbers(args) {
                Ok(base) => self.defaults(&services, base, false),
                Err(e) => usage(Some(&e)),
            },
            "defaults-disabled" => self.defaults(&services, None, true),
            "start" | "stop" => self.start_stop(&services, action, args),
            "enable" | "disable" => self.toggle(&services, action == "enable", args),
            _ => usage(None),
        }
    }

    fn service<'a>(&self, services: &'a Services) -> Option<&'a Service> {
        services.sysv.get(&self.name)
    }

    fn has_links(&self, services: &Services) -> bool {
        self.service(services)
            .is_some_and(|s| !s.linked_levels().is_empty())
    }

    /// sysv-rc's checks of the LSB block, on the script itself.
    fn lsb_warnings(&self) {
        let text =
            crate::sys::fs::read_config(&self.root.init_script(&self.name)).unwrap_or_default();
        let header = Header::parse(&text);
        let path = self.script_path();
        let Some(lsb) = &header.lsb else {
            eprintln!("update-rc.d: warning: {path} missing LSB information");
            eprintln!("update-rc.d: see <http://wiki.debian.org/LSBInitScripts>");
            return;
        };
        let present = [
            ("provides", lsb.provides.is_some()),
            ("required-start", lsb.required_start.is_some()),
            ("required-stop", lsb.required_stop.is_some()),
            ("default-start", lsb.default_start.is_some()),
            ("default-stop", lsb.default_stop.is_some()),
        ];
        for (key, here) in present {
            if !here {
                // sysv-rc's message ends in a newline of its own: an empty line follows.
                warning(&format!("{path} missing LSB keyword '{key}'\n"));
            }
        }
    }

    /// `remove`: every link of the service, from every rc directory.
    fn remove(&self, services: &Services) -> i32 {
        println!(
            " Removing any system startup links for {} ...",
            self.script_path()
        );
        let mut ops = Vec::new();
        if let Some(service) = self.service(services) {
            for (lv, files) in &service.links {
                for f in files {
                    let path = self.link_path(*lv, &f.name);
                    println!("   {path}");
                    ops.push(LinkOp::Remove {
                        level: *lv,
                        name: f.name.clone(),
                    });
                }
            }
        }
        if self.not_really || ops.is_empty() {
            return 0;
        }
        if !services.can_change_links() {
            return denied("unlink");
        }
        match links::apply(&self.root, &ops) {
            Ok(notes) => {
                notes.iter().for_each(|n| warning(n));
                0
            }
            Err(e) => error(&e),
        }
    }

    /// `defaults [NN | SS KK]` and `defaults-disabled`.
    fn defaults(&self, services: &Services, base: Option<(u8, u8)>, disabled: bool) -> i32 {
        if self.has_links(services) {
            println!(
                " System start/stop links for {} already exist.",
                self.script_path()
            );
            return 0;
        }
        let info = self.service(services).and_then(|s| s.info.as_ref().ok());
        let (start, stop) = match info {
            Some(i) => (i.levels, i.stop_levels),
            None => (
                LevelSet::MULTI_USER,
                LevelSet::of(&[level('0'), level('1'), level('6')]),
            ),
        };
        let start_kind = if disabled {
            LinkKind::Kill
        } else {
            LinkKind::Start
        };
        let mut request = Request {
            service: self.name.clone(),
            levels: stop.iter().map(|l| (l, Some(LinkKind::Kill))).collect(),
            base: base.or_else(|| {
                info.and_then(|i| i.start.zip(i.stop))
                    .is_none()
                    .then_some((LEGACY_PRIORITY, LEGACY_PRIORITY))
            }),
        };
        request
            .levels
            .extend(start.iter().map(|l| (l, Some(start_kind))));
        self.add_links(services, request)
    }

    /// Plans, prints sysv-rc's lines, applies (unless `-n`).
    fn add_links(&self, services: &Services, request: Request) -> i32 {
        let plan = match self.plan(services, request) {
            Ok(p) => p,
            Err(code) => return code,
        };
        println!(" Adding system startup for {} ...", self.script_path());
        if let Some(change) = plan.changes.get(&self.name) {
            for (lv, link) in sysv_rc_order(&change.after) {
                println!(
                    "   {} -> ../init.d/{}",
                    self.link_path(lv, &link),
                    self.name
                );
            }
        }
        self.print_moves(&plan);
        self.apply(services, &plan)
    }

    fn plan(&self, services: &Services, request: Request) -> Result<Plan, i32> {
        let plan = services.plan(&[request]).map_err(|e| error(&e))?;
        for w in &plan.warnings {
            warning(w);
        }
        Ok(plan)
    }

    /// Other services the dependencies moved.
    fn print_moves(&self, plan: &Plan) {
        for (other, change) in plan.changes.iter().filter(|(n, _)| **n != self.name) {
            println!(
                " Moving the links of {} to keep its dependencies in order ...",
                self.root.init_script(other).display()
            );
            let mut levels: Vec<Runlevel> = change
                .before
                .iter()
                .chain(&change.after)
                .map(|(l, _)| *l)
                .collect();
            levels.sort();
            levels.dedup();
            for lv in levels {
                let in_level = |v: &[(Runlevel, String)]| -> Vec<String> {
                    v.iter()
                        .filter(|(l, _)| *l == lv)
                        .map(|(_, n)| n.clone())
                        .collect()
                };
                let (old, new) = (in_level(&change.before), in_level(&change.after));
                if old != new {
                    println!(
                        "   {} -> {}",
                        self.link_path(lv, &old.join(" ")),
                        self.link_path(lv, &new.join(" "))
                    );
                }
            }
        }
    }

    fn apply(&self, services: &Services, plan: &Plan) -> i32 {
        if self.not_really {
            return 0;
        }
        if !services.can_change_links() {
            return denied("symlink");
        }
        match services.apply(plan) {
            Ok(notes) => {
                notes.iter().for_each(|n| warning(n));
                0
            }
            Err(e) => error(&e),
        }
    }

    /// `start|stop NN runlvl [runlvl] [...] .`, repeated.
    fn start_stop(&self, services: &Services, action: &str, args: &[String]) -> i32 {
        let mut all = vec![action.to_string()];
        all.extend(args.iter().cloned());
        let groups = match parse_start_stop(&all) {
            Ok(g) => g,
            Err(e) => return usage(Some(&e)),
        };
        for g in &groups {
            for lv in g.levels.iter() {
                if !services.rc_levels.contains(lv) {
                    eprintln!(
                        "update-rc.d: {}: no such directory",
                        self.root.rc_dir(lv).display()
                    );
                    return 1;
                }
            }
        }
        self.compare_with_lsb(services, &groups);
        if self.has_links(services) {
            println!(
                " System start/stop links for {} already exist.",
                self.script_path()
            );
            return 0;
        }
        let pick = |kind: LinkKind| groups.iter().find(|g| g.kind == kind).map(|g| g.priority);
        let info = self.service(services).and_then(|s| s.info.as_ref().ok());
        let start = pick(LinkKind::Start)
            .or(info.and_then(|i| i.start))
            .unwrap_or(LEGACY_PRIORITY);
        let stop = pick(LinkKind::Kill)
            .or(info.and_then(|i| i.stop))
            .unwrap_or(LEGACY_PRIORITY);
        for g in &groups {
            if Some(g.priority) != pick(g.kind) {
                warning(&format!(
                    "one {} priority per service: using {:02} in every level",
                    if g.kind == LinkKind::Start {
                        "start"
                    } else {
                        "stop"
                    },
                    pick(g.kind).unwrap_or(g.priority)
                ));
            }
        }
        let request = Request {
            service: self.name.clone(),
            levels: groups
                .iter()
                .flat_map(|g| g.levels.iter().map(move |l| (l, Some(g.kind))))
                .collect(),
            base: Some((start, stop)),
        };
        self.add_links(services, request)
    }

    /// sysv-rc's warnings when explicit levels differ from the LSB header's.
    fn compare_with_lsb(&self, services: &Services, groups: &[Group]) {
        let Some(lsb) = self
            .service(services)
            .and_then(|s| s.script_header.lsb.clone())
        else {
            return;
        };
        let (lsb_start, lsb_stop) = (
            lsb.default_start.unwrap_or_default(),
            lsb.default_stop.unwrap_or_default(),
        );
        if lsb_start.is_empty() && lsb_stop.is_empty() {
            return;
        }
        let of = |kind: LinkKind| {
            groups
                .iter()
                .filter(|g| g.kind == kind)
                .fold(LevelSet::EMPTY, |s, g| s.union(g.levels))
        };
        let words = |s: LevelSet| {
            if s.is_empty() {
                "none".to_string()
            } else {
                s.words()
            }
        };
        for (what, key, args, lsb) in [
            ("start", "Default-Start", of(LinkKind::Start), lsb_start),
            ("stop", "Default-Stop", of(LinkKind::Kill), lsb_stop),
        ] {
            if args != lsb {
                warning(&format!(
                    " {what} runlevel arguments ({}) do not match {} {key} values ({})",
                    words(args),
                    self.name,
                    words(lsb)
                ));
            }
        }
    }

    /// `enable|disable [S|2|3|4|5]`: S links become K links or back, in those levels.
    fn toggle(&self, services: &Services, enable: bool, args: &[String]) -> i32 {
        let Some(service) = self
            .service(services)
            .filter(|s| !s.linked_levels().is_empty())
        else {
            println!(
                " System start/stop links for {} do not exist.",
                self.script_path()
            );
            return 0;
        };
        let mut levels = LevelSet::EMPTY;
        for a in args {
            match a.as_str() {
                "S" | "2" | "3" | "4" | "5" => {
                    levels = levels.with(level(a.chars().next().unwrap_or('S')))
                }
                _ => return usage(Some("expected 'S' '2' '3' '4' or '5'")),
            }
        }
        if args.is_empty() {
            levels = LevelSet::MULTI_USER.with(Runlevel::SINGLE);
        }
        let (from, to) = if enable {
            (LinkKind::Kill, LinkKind::Start)
        } else {
            (LinkKind::Start, LinkKind::Kill)
        };
        let toggled: Vec<Runlevel> = levels
            .iter()
            .filter(|l| service.kind_in(*l) == Some(from))
            .collect();
        // One number per kind and service: a level switched to S takes the service's
        // S number (its other S links', else the header's, else 20); to K, its K number
        // (likewise, else sysv-rc's 100 - S).
        let lowest = |kind: LinkKind| {
            service
                .links
                .values()
                .flatten()
                .filter(|f| f.link.kind == kind)
                .map(|f| f.link.priority)
                .min()
        };
        let complement = |p: Option<u8>| p.map(|p| (100 - i32::from(p)).clamp(1, 99) as u8);
        let info = service.info.as_ref().ok();
        let start = info
            .and_then(|i| i.start)
            .or(lowest(LinkKind::Start))
            .unwrap_or(LEGACY_PRIORITY);
        let stop = info
            .and_then(|i| i.stop)
            .or(lowest(LinkKind::Kill))
            .or(complement(lowest(LinkKind::Start)))
            .unwrap_or(LEGACY_PRIORITY);
        let request = Request {
            service: self.name.clone(),
            levels: toggled.iter().map(|l| (*l, Some(to))).collect(),
            base: Some((start, stop)),
        };
        let plan = match self.plan(services, request) {
            Ok(p) => p,
            Err(code) => return code,
        };
        let verb = if enable { "Enabling" } else { "Disabling" };
        println!(
            " {verb} system startup links for {} ...",
            self.script_path()
        );
        println!(
            " Removing any system startup links for {} ...",
            self.script_path()
        );
        let before: Vec<(Runlevel, String)> = service
            .links
            .iter()
            .flat_map(|(l, v)| v.iter().map(move |f| (*l, f.name.clone())))
            .collect();
        for (lv, link) in &before {
            println!("   {}", self.link_path(*lv, link));
        }
        let after = plan
            .changes
            .get(&self.name)
            .map_or(before.clone(), |c| c.after.clone());
        println!(" Adding system startup for {} ...", self.script_path());
        for (lv, link) in sysv_rc_order(&after) {
            println!(
                "   {} -> ../init.d/{}",
                self.link_path(lv, &link),
                self.name
            );
        }
        self.print_moves(&plan);
        self.apply(services, &plan)
    }
}

/// sysv-rc lists the links of levels 0, 1 and 6 (its "stop" levels) first, then the
/// others, each in level order.
fn sysv_rc_order(links: &[(Runlevel, String)]) -> Vec<(Runlevel, String)> {
    let stop_levels = |l: &Runlevel| matches!(l.as_char(), '0' | '1' | '6'..='9');
    let mut out: Vec<(Runlevel, String)> = links
        .iter()
        .filter(|(l, _)| stop_levels(l))
        .cloned()
        .collect();
    out.extend(links.iter().filter(|(l, _)| !stop_levels(l)).cloned());
    out
}

/// `defaults [NN | SS KK]`.
fn codenumbers(args: &[String]) -> Result<Option<(u8, u8)>, String> {
    if args.len() > 2 {
        return Err("defaults takes only one or two codenumbers".into());
    }
    let numbers: Vec<u8> = args
        .iter()
        .map(|a| {
            parse_nn(a).ok_or_else(|| "codenumber must be a number between 0 and 99".to_string())
        })
        .collect::<Result<_, _>>()?;
    Ok(match numbers.as_slice() {
        [] => None,
        [n] => Some((*n, *n)),
        [s, k, ..] => Some((*s, *k)),
    })
}

/// `NN`: one or two digits.
fn parse_nn(word: &str) -> Option<u8> {
    (matches!(word.len(), 1 | 2) && word.bytes().all(|b| b.is_ascii_digit()))
        .then(|| word.parse().ok())
        .flatten()
}

/// One `start|stop NN levels... .` group.
#[derive(Debug, PartialEq, Eq)]
struct Group {
    kind: LinkKind,
    priority: u8,
    levels: LevelSet,
}

fn parse_start_stop(args: &[String]) -> Result<Vec<Group>, String> {
    let mut groups = Vec::new();
    let mut rest = args;
    while let Some(word) = rest.first() {
        let kind = match word.as_str() {
            "start" => LinkKind::Start,
            "stop" => LinkKind::Kill,
            _ => return Err("expected start|stop".into()),
        };
        let priority = rest
            .get(1)
            .and_then(|w| parse_nn(w))
            .ok_or_else(|| format!("expected NN after {word}"))?;
        if rest.last().map(String::as_str) != Some(".") {
            return Err("start|stop arguments not terminated by \".\"".into());
        }
        let mut levels = LevelSet::EMPTY;
        let mut i = 2;
        loop {
            let w = rest.get(i).map(String::as_str).unwrap_or(".");
            if w == "." && i > 2 {
                break;
            }
            let lv = match (w.len(), w.chars().next()) {
                (1, Some(c @ ('0'..='9' | 'S'))) => level(c),
                _ => return Err("expected runlevel [0-9S] (did you forget \".\" ?)".into()),
            };
            levels = levels.with(lv);
            i += 1;
        }
        groups.push(Group {
            kind,
            priority,
            levels,
        });
        rest = &rest[i + 1..];
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn start_stop_groups() {
        let g = parse_start_stop(&words("start 20 2 3 4 5 . stop 80 0 1 6 .")).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(
            (g[0].kind, g[0].priority, g[0].levels),
            (LinkKind::Start, 20, LevelSet::MULTI_USER)
        );
        assert_eq!(
            (g[1].kind, g[1].priority, g[1].levels.to_string()),
            (LinkKind::Kill, 80, "016".into())
        );
        assert_eq!(
            parse_start_stop(&words("start 20 2 3")).unwrap_err(),
            "start|stop arguments not terminated by \".\""
        );
        assert_eq!(
            parse_start_stop(&words("start x 2 .")).unwrap_err(),
            "expected NN after start"
        );
        assert_eq!(
            parse_start_stop(&words("launch 20 2 .")).unwrap_err(),
            "expected start|stop"
        );
        assert!(parse_start_stop(&words("start 20 . ."))
            .unwrap_err()
            .contains("did you forget"));
        assert!(parse_start_stop(&words("start 20 23 .")).is_err());
    }

    #[test]
    fn codenumber_rules() {
        assert_eq!(codenumbers(&[]), Ok(None));
        assert_eq!(codenumbers(&words("5")), Ok(Some((5, 5))));
        assert_eq!(codenumbers(&words("10 90")), Ok(Some((10, 90))));
        assert!(codenumbers(&words("100")).is_err());
        assert!(codenumbers(&words("1 2 3")).is_err());
    }
}
