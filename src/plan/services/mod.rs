//! The services of a system as plain data — the init.d scripts with their headers and
//! links, the xinetd services — and what a change to them should do: which links to
//! create, rename and remove for an `on`/`off`/`--add`/`--del`/`reset`, every service
//! renumbered that the LSB dependencies require (see `plan::priorities`).
//!
//! Data in, plan out: `sys::services` reads a root into [`Services`] and carries a
//! [`Plan`] out; chkconfig, update-rc.d and ntsysv decide here.

use std::collections::BTreeMap;

use crate::format::facilities::Facilities;
use crate::format::header::{Header, ServiceInfo, Unsupported};
use crate::format::levelset::{level, LevelSet, CHKCONFIG_LEVELS};
use crate::format::link_journal::LinkOp;
use crate::format::rclink::{LinkKind, RcLink};
use crate::format::runlevel::Runlevel;

mod changes;
pub(crate) mod debian;

pub(crate) use changes::PlanError;

/// The priority an LSB script without a `chkconfig:` line starts from (chkconfig's).
pub(crate) const DEFAULT_PRIORITY: u8 = 50;

/// One link of a service in an rc directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LinkFile {
    pub name: String,
    pub link: RcLink,
}

/// An init.d service (or only its links, when its script is gone).
#[derive(Clone, Debug)]
pub(crate) struct Service {
    pub name: String,
    /// Its script exists in init.d.
    pub installed: bool,
    /// The script's header with its override laid over it.
    pub header: Header,
    /// The script's own header, without override.
    pub script_header: Header,
    pub info: Result<ServiceInfo, Unsupported>,
    /// Its links, by level.
    pub links: BTreeMap<Runlevel, Vec<LinkFile>>,
}

impl Service {
    /// A service known only by its links (its script is gone).
    pub(crate) fn missing(name: &str) -> Service {
        Service {
            name: name.to_string(),
            installed: false,
            header: Header::default(),
            script_header: Header::default(),
            info: Err(Unsupported::NoHeader),
            links: BTreeMap::new(),
        }
    }

    pub(crate) fn links_in(&self, level: Runlevel) -> &[LinkFile] {
        self.links.get(&level).map_or(&[], Vec::as_slice)
    }

    /// Started in `level`: it has an S link there.
    pub(crate) fn is_on(&self, level: Runlevel) -> bool {
        self.links_in(level)
            .iter()
            .any(|l| l.link.kind == LinkKind::Start)
    }

    /// The kind of link it has in `level` (S wins over K if it has both).
    pub(crate) fn kind_in(&self, level: Runlevel) -> Option<LinkKind> {
        let links = self.links_in(level);
        if links.is_empty() {
            None
        } else if self.is_on(level) {
            Some(LinkKind::Start)
        } else {
            Some(LinkKind::Kill)
        }
    }

    pub(crate) fn on_levels(&self) -> LevelSet {
        self.links
            .keys()
            .filter(|l| self.is_on(**l))
            .fold(LevelSet::EMPTY, |s, l| s.with(*l))
    }

    /// Levels where it has any link.
    pub(crate) fn linked_levels(&self) -> LevelSet {
        self.links
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .fold(LevelSet::EMPTY, |s, (l, _)| s.with(*l))
    }

    /// chkconfig's "referenced in a runlevel": a link in one of 0–6.
    pub(crate) fn is_configured(&self) -> bool {
        !self.linked_levels().intersection(LevelSet::ALL).is_empty()
    }

    /// What chkconfig lists and ntsysv offers: a script with a usable header, linked
    /// in some level 0–6.
    pub(crate) fn is_listed(&self) -> bool {
        self.installed && self.info.is_ok() && self.is_configured()
    }

    pub(crate) fn description(&self) -> &str {
        self.info
            .as_ref()
            .map_or(self.name.as_str(), |i| i.description.as_str())
    }

    /// `# hide: true`.
    pub(crate) fn hidden(&self) -> bool {
        self.header.hide
    }

    /// Every link, as `(level, name)`, in level order.
    pub(crate) fn link_names(&self) -> Vec<(Runlevel, String)> {
        self.links
            .iter()
            .flat_map(|(l, v)| v.iter().map(move |f| (*l, f.name.clone())))
            .collect()
    }

    /// Whether its links in 0–6 are still exactly what its script's own header (no
    /// override) makes: nobody changed them since `--add`.
    fn has_script_defaults(&self) -> bool {
        let Ok(original) = self.script_header.service_info(&self.name) else {
            return false;
        };
        CHKCONFIG_LEVELS.iter().map(|c| level(*c)).all(|l| {
            let on = original.levels.contains(l);
            self.links_in(l).iter().all(|f| match f.link.kind {
                LinkKind::Start => on && original.start.is_none_or(|p| p == f.link.priority),
                LinkKind::Kill => !on && original.stop.is_none_or(|p| p == f.link.priority),
            })
        })
    }
}

/// A service of `etc/xinetd.d`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct XinetdService {
    pub name: String,
    pub enabled: bool,
    /// `# default: on|off`: what `reset` restores.
    pub default_enabled: Option<bool>,
    pub description: Option<String>,
}

/// What the change should do to one service: the link kind wanted in each level named
/// (None: no link there). Other levels keep what they have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Request {
    pub service: String,
    pub levels: BTreeMap<Runlevel, Option<LinkKind>>,
    /// Start and stop priorities to ask for instead of the header's (update-rc.d's
    /// lowest numbers); dependencies may still move them.
    pub base: Option<(u8, u8)>,
}

impl Request {
    fn new(name: &str, levels: impl Iterator<Item = (Runlevel, Option<LinkKind>)>) -> Request {
        Request {
            service: name.to_string(),
            levels: levels.collect(),
            base: None,
        }
    }
}

/// A service's links before and after a change, as `(level, name)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ServiceChange {
    pub before: Vec<(Runlevel, String)>,
    pub after: Vec<(Runlevel, String)>,
}

impl ServiceChange {
    /// Each level whose links change: `(level, before, after)`, the names of a level
    /// joined by a blank, `(none)` for no link.
    pub(crate) fn level_changes(&self) -> Vec<(Runlevel, String, String)> {
        let in_level = |links: &[(Runlevel, String)], lv: Runlevel| -> String {
            let names: Vec<&str> = links
                .iter()
                .filter(|(l, _)| *l == lv)
                .map(|(_, n)| n.as_str())
                .collect();
            if names.is_empty() {
                "(none)".to_string()
            } else {
                names.join(" ")
            }
        };
        let mut levels: Vec<Runlevel> = self
            .before
            .iter()
            .chain(&self.after)
            .map(|(l, _)| *l)
            .collect();
        levels.sort();
        levels.dedup();
        levels
            .into_iter()
            .filter_map(|lv| {
                let (before, after) = (in_level(&self.before, lv), in_level(&self.after, lv));
                (before != after).then_some((lv, before, after))
            })
            .collect()
    }

    /// The levels where the service has links of `kind` after the change.
    pub(crate) fn levels_after(&self, kind: LinkKind) -> LevelSet {
        self.after
            .iter()
            .filter(|(_, n)| n.starts_with(kind.letter()))
            .fold(LevelSet::EMPTY, |s, (l, _)| s.with(*l))
    }
}

/// A planned change: link operations, what the planner wants said, and per service the
/// links before and after.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub ops: Vec<LinkOp>,
    pub warnings: Vec<String>,
    pub changes: BTreeMap<String, ServiceChange>,
}

/// Everything about the services of one system, as read.
#[derive(Clone, Debug, Default)]
pub(crate) struct Services {
    pub sysv: BTreeMap<String, Service>,
    pub xinetd: BTreeMap<String, XinetdService>,
    pub facilities: Facilities,
    /// The rc directories that exist.
    pub rc_levels: LevelSet,
}

impl Services {
    /// An installed init.d service.
    pub(crate) fn service(&self, name: &str) -> Option<&Service> {
        self.sysv.get(name).filter(|s| s.installed)
    }

    /// Whether the superserver's own init.d service is on in some level 0–6 (chkconfig
    /// lists the xinetd services only then).
    pub(crate) fn superserver_enabled(&self) -> bool {
        self.service("xinetd").is_some_and(|s| {
            s.info.is_ok() && !s.on_levels().intersection(LevelSet::ALL).is_empty()
        })
    }

    /// Whether an xinetd service is on in `level`: its file says so and the superserver
    /// itself runs there (when it is an init.d service at all).
    pub(crate) fn xinetd_on(&self, service: &XinetdService, level: Runlevel) -> bool {
        service.enabled && self.service("xinetd").is_none_or(|s| s.is_on(level))
    }

    /// Turn a service on (S links) or off (K links) in `levels`.
    pub(crate) fn on_off(&self, name: &str, levels: LevelSet, on: bool) -> Request {
        let kind = if on { LinkKind::Start } else { LinkKind::Kill };
        Request::new(name, levels.iter().map(|l| (l, Some(kind))))
    }

    /// Back to the header's defaults in `levels`.
    pub(crate) fn reset(&self, name: &str, levels: LevelSet) -> Request {
        let defaults = self.default_levels(name);
        Request::new(
            name,
            levels.iter().map(|l| {
                let kind = if defaults.contains(l) {
                    LinkKind::Start
                } else {
                    LinkKind::Kill
                };
                (l, Some(kind))
            }),
        )
    }

    /// Same on/off state in `levels`, priorities recomputed from the header.
    pub(crate) fn reset_priorities(&self, name: &str, levels: LevelSet) -> Request {
        let service = self.sysv.get(name);
        Request::new(
            name,
            levels
                .iter()
                .filter_map(|l| service.and_then(|s| s.kind_in(l)).map(|k| (l, Some(k)))),
        )
    }

    /// `chkconfig --add`: every level 0–6 without a link gets the header's default. (An
    /// LSB service being changed always has all its links renumbered, as Red Hat's
    /// `--add` does.)
    pub(crate) fn add(&self, name: &str) -> Request {
        self.reset(name, LevelSet::ALL.difference(self.linked_levels(name)))
    }

    /// Remove every link of a service.
    pub(crate) fn delete(&self, name: &str) -> Request {
        Request::new(name, self.linked_levels(name).iter().map(|l| (l, None)))
    }

    /// `chkconfig --override`: re-link a service by its override when its links are
    /// still the script's own defaults and the override changes its levels or numbers.
    /// None: nothing to do (Red Hat's silent success).
    pub(crate) fn override_request(&self, name: &str) -> Option<Request> {
        let service = self.service(name)?;
        let original = service.script_header.service_info(name).ok()?;
        let wanted = service.info.as_ref().ok()?;
        let same = (original.levels, original.start, original.stop)
            == (wanted.levels, wanted.start, wanted.stop);
        if same || !service.is_configured() || !service.has_script_defaults() {
            return None;
        }
        Some(self.reset(name, LevelSet::ALL))
    }

    fn linked_levels(&self, name: &str) -> LevelSet {
        self.sysv
            .get(name)
            .map(Service::linked_levels)
            .unwrap_or_default()
    }

    fn default_levels(&self, name: &str) -> LevelSet {
        self.sysv
            .get(name)
            .and_then(|s| s.info.as_ref().ok())
            .map_or(LevelSet::EMPTY, |i| i.levels)
    }
}

#[cfg(test)]
pub(crate) mod tests;
