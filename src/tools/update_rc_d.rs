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
use std::path::PathBuf;

use super::Context;
use crate::format::header::{Header, LsbInfo};
use crate::format::levelset::{level, LevelSet};
use crate::format::link_journal::LinkOp;
use crate::format::rclink::{check_service_name, LinkKind};
use crate::format::runlevel::Runlevel;
use crate::sys::layout::Root;
use crate::sys::links;
use crate::sys::services::{Plan, Request, Service, Services};

/// The priority a changed service asks for: the lowest that its dependencies allow, as
/// insserv numbers (`S01` for a service that needs nothing else of its levels).
const LOWEST_PRIORITY: u8 = 1;

const USAGE: &str = "usage: update-rc.d [-f] <basename> remove
       update-rc.d [-f] <basename> defaults
       update-rc.d [-f] <basename> defaults-disabled
       update-rc.d <basename> disable|enable [S|2|3|4|5]
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

fn warning(message: &str) {
    eprintln!("update-rc.d: warning: {message}");
}

struct Run {
    root: Root,
    name: String,
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let mut rest: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut own_root: Option<PathBuf> = None;
    while rest.first().is_some_and(|a| a.starts_with('-')) {
        let opt = rest.remove(0);
        match opt.as_str() {
            // `remove` works whether the script exists or not: -f changes nothing.
            "-f" => {}
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
    Run { root, name }.action(&action, &rest)
}

impl Run {
    fn script_path(&self) -> String {
        self.root.init_script(&self.name).display().to_string()
    }

    fn action(&self, action: &str, args: &[String]) -> i32 {
        let toggle = matches!(action, "enable" | "disable");
        if !toggle
            && !matches!(
                action,
                "remove" | "defaults" | "defaults-disabled" | "start" | "stop"
            )
        {
            return usage(None);
        }
        let script = self.root.init_script(&self.name);
        let header = self.header();
        if toggle && header.is_none() {
            return error(&format!("cannot find a LSB script for {}", self.name));
        }
        if action != "remove" && !toggle && !script.is_file() {
            return error(&format!(
                "initscript does not exist: {}",
                self.script_path()
            ));
        }
        if matches!(action, "start" | "stop") {
            self.legacy_warnings(header.as_ref(), action, args);
        }
        let services = match Services::scan(&self.root) {
            Ok(s) => s,
            Err(e) => return error(&e),
        };
        for problem in &services.problems {
            warning(problem);
        }
        let header = header.unwrap_or_default();
        match action {
            "remove" => self.remove(&services, &header),
            "enable" | "disable" => self.toggle(&services, &header, action, args),
            _ => self.defaults(&services, &header, action == "defaults-disabled"),
        }
    }

    /// The script's header, if the script is a readable, non-empty regular file.
    fn header(&self) -> Option<Header> {
        let text = crate::sys::fs::read_config(&self.root.init_script(&self.name)).ok()?;
        (!text.is_empty()).then(|| Header::parse(&text))
    }

    fn service<'a>(&self, services: &'a Services) -> Option<&'a Service> {
        services.sysv.get(&self.name)
    }

    /// `start|stop NN levels . …` is no longer supported: the header decides. The
    /// warnings say so, and where the levels given differ from the header's.
    fn legacy_warnings(&self, header: Option<&Header>, action: &str, args: &[String]) {
        let Some(lsb) = header.and_then(|h| h.lsb.as_ref()) else {
            return;
        };
        let (lsb_start, lsb_stop) = default_words(lsb);
        if lsb_start.is_empty() && lsb_stop.is_empty() {
            return;
        }
        warning("start and stop actions are no longer supported; falling back to defaults");
        let (start, stop) = legacy_levels(action, args);
        let words = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(" ")
            }
        };
        for (what, key, given, lsb) in [
            ("start", "Default-Start", &start, &lsb_start),
            ("stop", "Default-Stop", &stop, &lsb_stop),
        ] {
            if sorted(given) != sorted(lsb) {
                warning(&format!(
                    "{what} runlevel arguments ({}) do not match {} {key} values ({})",
                    words(given),
                    self.name,
                    words(lsb)
                ));
            }
        }
    }

    /// `remove`: every link of the service, whether its script exists or not.
    fn remove(&self, services: &Services, header: &Header) -> i32 {
        if self.root.init_script(&self.name).is_file() {
            self.insserv_header_warnings(header);
        }
        let ops: Vec<LinkOp> = self
            .service(services)
            .into_iter()
            .flat_map(|s| s.links.iter())
            .flat_map(|(lv, files)| {
                files.iter().map(|f| LinkOp::Remove {
                    level: *lv,
                    name: f.name.clone(),
                })
            })
            .collect();
        if ops.is_empty() {
            return 0;
        }
        if let Err(e) = services.check_links_writable() {
            return error(&e);
        }
        match links::apply(&self.root, &ops) {
            Ok(notes) => {
                notes.iter().for_each(|n| warning(n));
                0
            }
            Err(e) => error(&e),
        }
    }

    /// `defaults` (and the legacy forms) and `defaults-disabled`: a service without
    /// links gets the header's (`defaults-disabled`: K links where it would start); one
    /// with links keeps them.
    fn defaults(&self, services: &Services, header: &Header, disabled: bool) -> i32 {
        self.insserv_header_warnings(header);
        let has_links = self
            .service(services)
            .is_some_and(|s| !s.linked_levels().is_empty());
        if has_links {
            self.level_warnings(services, None, header);
            return 0;
        }
        let (start, stop) = default_levels(header);
        let start_kind = if disabled {
            LinkKind::Kill
        } else {
            LinkKind::Start
        };
        let mut levels: std::collections::BTreeMap<Runlevel, Option<LinkKind>> =
            stop.iter().map(|l| (l, Some(LinkKind::Kill))).collect();
        levels.extend(start.iter().map(|l| (l, Some(start_kind))));
        if levels.is_empty() {
            return 0;
        }
        // Debian disables after insserv has spoken: nothing is said about the levels.
        self.change(services, (!disabled).then_some(header), levels)
    }

    /// `enable|disable [S|2|3|4|5]`: the S links of those levels become K links or back
    /// (the header's start levels when none are given), then the service is renumbered
    /// by its dependencies.
    fn toggle(&self, services: &Services, header: &Header, action: &str, args: &[String]) -> i32 {
        let enable = action == "enable";
        let mut levels = LevelSet::EMPTY;
        if args.is_empty() {
            let (start, _) = header.lsb.as_ref().map(default_words).unwrap_or_default();
            if start.is_empty() {
                return error(&format!(
                    "{} Default-Start contains no runlevels, aborting.",
                    self.name
                ));
            }
            levels = parse_levels(&start);
        }
        for a in args {
            match a.as_str() {
                "S" | "2" | "3" | "4" | "5" => {
                    levels = levels.with(level(a.chars().next().unwrap_or('S')))
                }
                other => warning(&format!(
                    "{action} action will have no effect on runlevel {other}"
                )),
            }
        }
        let service = self.service(services);
        let linked: Vec<Runlevel> = levels
            .iter()
            .filter(|l| service.is_some_and(|s| s.kind_in(*l).is_some()))
            .collect();
        if linked.is_empty() {
            return error("no runlevel symlinks to modify, aborting!");
        }
        let to = if enable {
            LinkKind::Start
        } else {
            LinkKind::Kill
        };
        let levels = linked.into_iter().map(|l| (l, Some(to))).collect();
        self.change(services, Some(header), levels)
    }

    /// Plans the change to the service's links, checks it may be made, makes it, and
    /// says what insserv would say about the levels that result (with a header).
    fn change(
        &self,
        services: &Services,
        header: Option<&Header>,
        levels: std::collections::BTreeMap<Runlevel, Option<LinkKind>>,
    ) -> i32 {
        let request = Request {
            service: self.name.clone(),
            levels,
            base: Some((LOWEST_PRIORITY, LOWEST_PRIORITY)),
        };
        let plan = match services.plan(&[request]) {
            Ok(p) => p,
            Err(e) => return error(&e),
        };
        if !plan.ops.is_empty() {
            if let Err(e) = services.check_links_writable() {
                return error(&e);
            }
        }
        for w in &plan.warnings {
            warning(w);
        }
        let code = self.apply(services, &plan);
        if let (0, Some(header)) = (code, header) {
            self.level_warnings(services, Some(&plan), header);
        }
        code
    }

    fn apply(&self, services: &Services, plan: &Plan) -> i32 {
        match services.apply(plan) {
            Ok(notes) => {
                notes.iter().for_each(|n| warning(n));
                0
            }
            Err(e) => error(&e),
        }
    }

    /// insserv's complaints about a script without LSB information, in its words.
    fn insserv_header_warnings(&self, header: &Header) {
        let Some(lsb) = &header.lsb else {
            eprintln!("insserv: warning: script '{}' missing LSB tags", self.name);
            eprintln!(
                "insserv: Default-Start undefined, assuming empty start runlevel(s) for script `{}'",
                self.name
            );
            eprintln!(
                "insserv: Default-Stop  undefined, assuming empty stop runlevel(s) for script `{}'",
                self.name
            );
            return;
        };
        if lsb.default_start.is_none() {
            eprintln!(
                "insserv: Default-Start undefined, assuming empty start runlevel(s) for script `{}'",
                self.name
            );
        }
        if lsb.default_stop.is_none() {
            eprintln!(
                "insserv: Default-Stop  undefined, assuming empty stop runlevel(s) for script `{}'",
                self.name
            );
        }
    }

    /// insserv's warnings when the service's links (after the change) start or stop it
    /// in other levels than its header says.
    fn level_warnings(&self, services: &Services, plan: Option<&Plan>, header: &Header) {
        let Some(lsb) = &header.lsb else {
            return;
        };
        let links: Vec<(Runlevel, String)> = match plan.and_then(|p| p.changes.get(&self.name)) {
            Some(change) => change.after.clone(),
            None => self
                .service(services)
                .map(|s| {
                    s.links
                        .iter()
                        .flat_map(|(l, v)| v.iter().map(move |f| (*l, f.name.clone())))
                        .collect()
                })
                .unwrap_or_default(),
        };
        let of = |letter: char| {
            links
                .iter()
                .filter(|(_, n)| n.starts_with(letter))
                .fold(LevelSet::EMPTY, |s, (l, _)| s.with(*l))
        };
        let (start, stop) = default_words(lsb);
        for (what, current, default) in [("start", of('S'), start), ("stop", of('K'), stop)] {
            let default_set = parse_levels(&default);
            if current != default_set {
                let words = |s: LevelSet| {
                    if s.is_empty() {
                        "empty".to_string()
                    } else {
                        s.words()
                    }
                };
                eprintln!(
                    "insserv: warning: current {what} runlevel(s) ({}) of script `{}' overrides LSB defaults ({}).",
                    words(current),
                    self.name,
                    words(default_set)
                );
            }
        }
    }
}

/// The header's `Default-Start` and `Default-Stop` words, as written.
fn default_words(lsb: &LsbInfo) -> (Vec<String>, Vec<String>) {
    let words = |set: Option<LevelSet>| -> Vec<String> {
        set.map(|s| s.iter().map(|l| l.as_char().to_string()).collect())
            .unwrap_or_default()
    };
    (words(lsb.default_start), words(lsb.default_stop))
}

/// Where the header starts and stops the service (LSB only: what insserv reads).
fn default_levels(header: &Header) -> (LevelSet, LevelSet) {
    header
        .lsb
        .as_ref()
        .map_or((LevelSet::EMPTY, LevelSet::EMPTY), |l| {
            let stop = l.default_stop.unwrap_or_default();
            (l.default_start.unwrap_or_default().difference(stop), stop)
        })
}

fn parse_levels(words: &[String]) -> LevelSet {
    LevelSet::parse_words(&words.join(" ")).0
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// The levels named by legacy `start|stop NN levels . …` arguments, split into start
/// and stop levels as Debian's update-rc.d does: 0 and 6 always stop, a `start` or
/// `stop` word switches, numbers right after the action and `.` are skipped.
fn legacy_levels(action: &str, args: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut start, mut stop) = (action == "start", action == "stop");
    let (mut starts, mut stops) = (Vec::new(), Vec::new());
    let mut i = 1;
    while let Some(arg) = args.get(i) {
        i += 1;
        match arg.as_str() {
            "0" | "6" => {
                start = false;
                stop = true;
            }
            "start" | "stop" => {
                start = arg == "start";
                stop = !start;
                i += 1;
                continue;
            }
            "." => continue,
            _ => {}
        }
        if start {
            starts.push(arg.clone());
        }
        if stop {
            stops.push(arg.clone());
        }
    }
    (starts, stops)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn legacy_arguments_split_into_start_and_stop_levels() {
        let (start, stop) = legacy_levels("start", &words("20 2 3 4 5 . stop 80 0 1 6 ."));
        assert_eq!((start, stop), (words("2 3 4 5"), words("0 1 6")));
        let (start, stop) = legacy_levels("stop", &words("80 0 1 6 ."));
        assert_eq!((start, stop), (words(""), words("0 1 6")));
        // 0 and 6 stop even after `start`.
        let (start, stop) = legacy_levels("start", &words("20 2 6 ."));
        assert_eq!((start, stop), (words("2"), words("6")));
    }
}
