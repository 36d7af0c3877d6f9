//! update-rc.d's choices, as bookworm's (init-system-helpers handing the work to
//! insserv) makes them: which links `defaults`, `defaults-disabled`, `enable`,
//! `disable` and `remove` ask for, and what insserv says about a script's header and
//! the levels that result — in its words.

use std::fmt;

use super::{Request, Service, ServiceChange, Services};
use crate::format::header::{Header, LsbInfo};
use crate::format::levelset::{level, LevelSet};
use crate::format::link_journal::LinkOp;
use crate::format::rclink::LinkKind;
use crate::format::runlevel::Runlevel;

/// The priority a changed service asks for: the lowest that its dependencies allow, as
/// insserv numbers (`S01` for a service that needs nothing else of its levels).
const LOWEST_PRIORITY: u8 = 1;

/// Why `enable` or `disable` has nothing to do (update-rc.d's errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ToggleError {
    NoDefaultStart(String),
    NoLinks,
}

impl fmt::Display for ToggleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToggleError::NoDefaultStart(name) => {
                write!(f, "{name} Default-Start contains no runlevels, aborting.")
            }
            ToggleError::NoLinks => f.write_str("no runlevel symlinks to modify, aborting!"),
        }
    }
}

impl Services {
    /// `defaults` (and the legacy forms) and `defaults-disabled`: a service without links
    /// gets the header's (`defaults-disabled`: K links where it would start). None when
    /// there is nothing to link: it has links already, which it keeps, or its header
    /// names no level.
    pub(crate) fn debian_defaults(
        &self,
        name: &str,
        header: &Header,
        disabled: bool,
    ) -> Option<Request> {
        if self.linked_levels(name) != LevelSet::EMPTY {
            return None;
        }
        let (start, stop) = default_levels(header);
        let start_kind = if disabled {
            LinkKind::Kill
        } else {
            LinkKind::Start
        };
        let levels = stop
            .iter()
            .map(|l| (l, Some(LinkKind::Kill)))
            .chain(start.iter().map(|l| (l, Some(start_kind))));
        let request = lowest(Request::new(name, levels));
        (!request.levels.is_empty()).then_some(request)
    }

    /// `enable|disable [S|2|3|4|5]`: the S links of those levels become K links or back
    /// (the header's start levels when none are given); the service is renumbered by its
    /// dependencies. Other levels are left out (see [`toggle_warnings`]).
    pub(crate) fn debian_toggle(
        &self,
        name: &str,
        header: &Header,
        enable: bool,
        args: &[String],
    ) -> Result<Request, ToggleError> {
        let mut levels = LevelSet::EMPTY;
        if args.is_empty() {
            let (start, _) = header.lsb.as_ref().map(default_words).unwrap_or_default();
            if start.is_empty() {
                return Err(ToggleError::NoDefaultStart(name.to_string()));
            }
            levels = parse_levels(&start);
        }
        for a in args.iter().filter(|a| is_toggled_level(a)) {
            levels = levels.with(level(a.chars().next().unwrap_or('S')));
        }
        let service = self.sysv.get(name);
        let linked: Vec<Runlevel> = levels
            .iter()
            .filter(|l| service.is_some_and(|s| s.kind_in(*l).is_some()))
            .collect();
        if linked.is_empty() {
            return Err(ToggleError::NoLinks);
        }
        let to = if enable {
            LinkKind::Start
        } else {
            LinkKind::Kill
        };
        Ok(lowest(Request::new(
            name,
            linked.into_iter().map(|l| (l, Some(to))),
        )))
    }

    /// `remove`: every link of the service, whether its script exists or not.
    pub(crate) fn debian_remove(&self, name: &str) -> Vec<LinkOp> {
        self.sysv
            .get(name)
            .into_iter()
            .flat_map(|s| s.links.iter())
            .flat_map(|(lv, files)| {
                files.iter().map(|f| LinkOp::Remove {
                    level: *lv,
                    name: f.name.clone(),
                })
            })
            .collect()
    }

    /// The links a service has, as a change that changes nothing (for the warnings
    /// about the levels of a service left as it is).
    pub(crate) fn unchanged(&self, name: &str) -> ServiceChange {
        let links = self
            .sysv
            .get(name)
            .map(Service::link_names)
            .unwrap_or_default();
        ServiceChange {
            before: links.clone(),
            after: links,
        }
    }
}

/// The levels `enable` and `disable` switch: the boot level and the multi-user ones.
fn is_toggled_level(word: &str) -> bool {
    matches!(word, "S" | "2" | "3" | "4" | "5")
}

/// What `enable|disable LEVELS` says about the levels it leaves alone (said before
/// anything else, even when nothing can be switched).
pub(crate) fn toggle_warnings(enable: bool, args: &[String]) -> Vec<String> {
    let action = if enable { "enable" } else { "disable" };
    args.iter()
        .filter(|a| !is_toggled_level(a))
        .map(|other| format!("{action} action will have no effect on runlevel {other}"))
        .collect()
}

fn lowest(request: Request) -> Request {
    Request {
        base: Some((LOWEST_PRIORITY, LOWEST_PRIORITY)),
        ..request
    }
}

/// `start|stop NN levels . …` is no longer supported: the header decides. The warnings
/// say so, and where the levels given differ from the header's.
pub(crate) fn legacy_warnings(
    name: &str,
    header: Option<&Header>,
    action: &str,
    args: &[String],
) -> Vec<String> {
    let Some(lsb) = header.and_then(|h| h.lsb.as_ref()) else {
        return Vec::new();
    };
    let (lsb_start, lsb_stop) = default_words(lsb);
    if lsb_start.is_empty() && lsb_stop.is_empty() {
        return Vec::new();
    }
    let mut warnings =
        vec!["start and stop actions are no longer supported; falling back to defaults".into()];
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
            warnings.push(format!(
                "{what} runlevel arguments ({}) do not match {name} {key} values ({})",
                words(given),
                words(lsb)
            ));
        }
    }
    warnings
}

/// insserv's complaints about a script without LSB levels, in its words (whole lines).
pub(crate) fn header_warnings(name: &str, header: &Header) -> Vec<String> {
    let undefined = |key: &str, what: &str| {
        format!("insserv: {key} undefined, assuming empty {what} runlevel(s) for script `{name}'")
    };
    let Some(lsb) = &header.lsb else {
        return vec![
            format!("insserv: warning: script '{name}' missing LSB tags"),
            undefined("Default-Start", "start"),
            undefined("Default-Stop ", "stop"),
        ];
    };
    let mut lines = Vec::new();
    if lsb.default_start.is_none() {
        lines.push(undefined("Default-Start", "start"));
    }
    if lsb.default_stop.is_none() {
        lines.push(undefined("Default-Stop ", "stop"));
    }
    lines
}

/// insserv's warnings when a service's links (after the change) start or stop it in
/// other levels than its header says (whole lines).
pub(crate) fn level_warnings(name: &str, header: &Header, links: &ServiceChange) -> Vec<String> {
    let Some(lsb) = &header.lsb else {
        return Vec::new();
    };
    let words = |s: LevelSet| {
        if s.is_empty() {
            "empty".to_string()
        } else {
            s.words()
        }
    };
    let (start, stop) = default_words(lsb);
    [
        ("start", links.levels_after(LinkKind::Start), start),
        ("stop", links.levels_after(LinkKind::Kill), stop),
    ]
    .into_iter()
    .filter_map(|(what, current, default)| {
        let default = parse_levels(&default);
        (current != default).then(|| {
            format!(
                "insserv: warning: current {what} runlevel(s) ({}) of script `{name}' overrides LSB defaults ({}).",
                words(current),
                words(default)
            )
        })
    })
    .collect()
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
    use crate::plan::services::tests::{inventory, links};

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    const WEB: &str = "### BEGIN INIT INFO\n# Provides: web\n# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n### END INIT INFO\n";

    fn header(text: &str) -> Header {
        Header::parse(text.as_bytes())
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
        let warned = legacy_warnings("web", Some(&header(WEB)), "start", &words("20 2 3 ."));
        assert_eq!(
            warned,
            [
                "start and stop actions are no longer supported; falling back to defaults",
                "start runlevel arguments (2 3) do not match web Default-Start values (2 3 4 5)",
                "stop runlevel arguments (none) do not match web Default-Stop values (0 1 6)",
            ]
        );
        assert!(legacy_warnings("plain", None, "start", &[]).is_empty());
    }

    #[test]
    fn defaults_link_an_unlinked_service_at_the_lowest_numbers() {
        let services = inventory(&[("web", WEB)], &[]);
        let request = services
            .debian_defaults("web", &header(WEB), false)
            .unwrap();
        assert_eq!(request.base, Some((1, 1)));
        let plan = services.plan(&[request]).unwrap();
        assert_eq!(
            plan.changes["web"].after,
            links(&[
                "0:K01web", "1:K01web", "2:S01web", "3:S01web", "4:S01web", "5:S01web", "6:K01web"
            ])
        );
        let disabled = services.debian_defaults("web", &header(WEB), true).unwrap();
        let plan = services.plan(&[disabled]).unwrap();
        assert_eq!(
            plan.changes["web"].levels_after(LinkKind::Start),
            LevelSet::EMPTY
        );
        // Linked already, or no levels in the header: nothing to do.
        let linked = inventory(&[("web", WEB)], &["2:S20web"]);
        assert_eq!(linked.debian_defaults("web", &header(WEB), false), None);
        assert_eq!(
            services.debian_defaults("web", &Header::default(), false),
            None
        );
    }

    #[test]
    fn toggling_needs_links_and_warns_about_other_levels() {
        let services = inventory(&[("web", WEB)], &["2:S01web", "3:S01web", "0:K01web"]);
        let request = services
            .debian_toggle("web", &header(WEB), false, &words("3 0"))
            .unwrap();
        assert_eq!(
            toggle_warnings(false, &words("3 0")),
            ["disable action will have no effect on runlevel 0"]
        );
        assert_eq!(
            request.levels.into_iter().collect::<Vec<_>>(),
            [(level('3'), Some(LinkKind::Kill))]
        );
        assert_eq!(
            services.debian_toggle("web", &header(WEB), true, &words("4")),
            Err(ToggleError::NoLinks)
        );
        assert_eq!(
            services
                .debian_toggle("web", &Header::default(), true, &[])
                .unwrap_err()
                .to_string(),
            "web Default-Start contains no runlevels, aborting."
        );
        assert_eq!(services.debian_remove("web").len(), 3);
        assert!(services.debian_remove("nosuch").is_empty());
    }

    #[test]
    fn insserv_words_about_headers_and_levels() {
        assert_eq!(
            header_warnings("plain", &Header::default()),
            [
                "insserv: warning: script 'plain' missing LSB tags",
                "insserv: Default-Start undefined, assuming empty start runlevel(s) for script `plain'",
                "insserv: Default-Stop  undefined, assuming empty stop runlevel(s) for script `plain'",
            ]
        );
        assert!(header_warnings("web", &header(WEB)).is_empty());
        let services = inventory(&[("web", WEB)], &["0:K01web", "1:K01web", "6:K01web"]);
        assert_eq!(
            level_warnings("web", &header(WEB), &services.unchanged("web")),
            ["insserv: warning: current start runlevel(s) (empty) of script `web' overrides LSB defaults (2 3 4 5)."]
        );
    }
}
