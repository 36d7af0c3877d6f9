//! The services of a root, as chkconfig, update-rc.d, service and ntsysv see them: the
//! scripts of `init.d` with their headers (overrides from `etc/chkconfig.d` applied),
//! their links in `rc0.d`…`rc6.d` and `rcS.d`, and the xinetd services of
//! `etc/xinetd.d`. Changes are planned here (levels wanted → priorities from the LSB
//! dependencies → link operations) and applied through `sys::links`, atomically.
//!
//! ```no_run
//! # use vinit::sys::{layout::Root, services::Services};
//! # use vinit::format::levelset::LevelSet;
//! let root = Root::open("/");
//! let services = Services::scan(&root)?;
//! let request = services.on_off("sshd", LevelSet::MULTI_USER, true);
//! let plan = services.plan(&[request])?;
//! services.apply(&plan)?;
//! # Ok::<(), String>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::format::facilities::Facilities;
use crate::format::header::{Header, ServiceInfo, Unsupported};
use crate::format::levelset::{level, LevelSet, RC_LEVELS};
use crate::format::link_journal::LinkOp;
use crate::format::rclink::{
    check_service_name, is_ignored_script_name, parse_link_name, LinkKind, LinkName, RcLink,
};
use crate::format::runlevel::Runlevel;
use crate::format::xinetd_edit;
use crate::plan::priorities::{self, Node, OrderSlot};
use crate::plan::relink::level_ops;
use crate::sys::describe_io;
use crate::sys::layout::Root;
use crate::sys::links;

/// The priority an LSB script without a `chkconfig:` line starts from (chkconfig's).
pub const DEFAULT_PRIORITY: u8 = 50;

/// One link of a service in an rc directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkFile {
    pub name: String,
    pub link: RcLink,
}

/// An init.d service (or only its links, when its script is gone).
#[derive(Clone, Debug)]
pub struct Service {
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
    pub fn links_in(&self, level: Runlevel) -> &[LinkFile] {
        self.links.get(&level).map_or(&[], Vec::as_slice)
    }

    /// Started in `level`: it has an S link there.
    pub fn is_on(&self, level: Runlevel) -> bool {
        self.links_in(level)
            .iter()
            .any(|l| l.link.kind == LinkKind::Start)
    }

    /// The kind of link it has in `level` (S wins over K if it has both).
    pub fn kind_in(&self, level: Runlevel) -> Option<LinkKind> {
        let links = self.links_in(level);
        if links.is_empty() {
            None
        } else if self.is_on(level) {
            Some(LinkKind::Start)
        } else {
            Some(LinkKind::Kill)
        }
    }

    pub fn on_levels(&self) -> LevelSet {
        self.links
            .keys()
            .filter(|l| self.is_on(**l))
            .fold(LevelSet::EMPTY, |s, l| s.with(*l))
    }

    /// Levels where it has any link.
    pub fn linked_levels(&self) -> LevelSet {
        self.links
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .fold(LevelSet::EMPTY, |s, (l, _)| s.with(*l))
    }

    /// chkconfig's "referenced in a runlevel": a link in one of 0–6.
    pub fn is_configured(&self) -> bool {
        !self.linked_levels().intersection(LevelSet::ALL).is_empty()
    }

    pub fn description(&self) -> &str {
        self.info
            .as_ref()
            .map_or(self.name.as_str(), |i| i.description.as_str())
    }

    /// `# hide: true`.
    pub fn hidden(&self) -> bool {
        self.header.hide
    }
}

/// A service of `etc/xinetd.d`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XinetdService {
    pub name: String,
    pub path: PathBuf,
    pub enabled: bool,
    /// `# default: on|off`: what `reset` restores.
    pub default_enabled: Option<bool>,
    pub description: Option<String>,
}

/// What the change should do to one service: the link kind wanted in each level named
/// (None: no link there). Other levels keep what they have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub service: String,
    pub levels: BTreeMap<Runlevel, Option<LinkKind>>,
    /// Start and stop priorities to ask for instead of the header's (update-rc.d's
    /// `defaults NN`); dependencies may still move them.
    pub base: Option<(u8, u8)>,
}

/// A service's links before and after a change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceChange {
    pub before: Vec<(Runlevel, String)>,
    pub after: Vec<(Runlevel, String)>,
}

/// A planned change: link operations, what the planner wants said, and per service the
/// links before and after.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub ops: Vec<LinkOp>,
    pub warnings: Vec<String>,
    pub changes: BTreeMap<String, ServiceChange>,
}

/// Everything about the services of one root.
#[derive(Clone, Debug)]
pub struct Services {
    pub root: Root,
    pub sysv: BTreeMap<String, Service>,
    pub xinetd: BTreeMap<String, XinetdService>,
    pub facilities: Facilities,
    /// The rc directories that exist.
    pub rc_levels: LevelSet,
    /// What could not be read, one line each.
    pub problems: Vec<String>,
}

impl Services {
    /// Reads the services of `root`. An interrupted change to the links is finished
    /// first when possible, so that what is read is one consistent state.
    pub fn scan(root: &Root) -> Result<Services, String> {
        Services::scan_scripts(root, None)
    }

    /// Like [`Services::scan`], but reads the headers of the named scripts only (every
    /// link is still read). Enough to show or query a few services; not to change one,
    /// which needs every header for the dependencies.
    pub fn scan_only(root: &Root, names: &[&str]) -> Result<Services, String> {
        Services::scan_scripts(root, Some(names))
    }

    fn scan_scripts(root: &Root, only: Option<&[&str]>) -> Result<Services, String> {
        let mut problems = Vec::new();
        if links::pending(root) {
            if let Err(e) = links::recover(root) {
                problems.push(e);
            }
        }
        let mut services = Services {
            root: root.clone(),
            sysv: BTreeMap::new(),
            xinetd: BTreeMap::new(),
            facilities: read_facilities(root),
            rc_levels: LevelSet::EMPTY,
            problems,
        };
        services.read_scripts(only)?;
        services.read_links(only);
        services.read_xinetd();
        Ok(services)
    }

    fn read_scripts(&mut self, only: Option<&[&str]>) -> Result<(), String> {
        let dir = self.root.init_d();
        let listing = fs::read_dir(&dir)
            .map_err(|e| format!("failed to open {}: {}", dir.display(), describe_io(&e)))?;
        let overrides_dir = self.root.chkconfig_d();
        // Listed once: most services have no override, and a failed open per service
        // costs a path walk each.
        let overrides: BTreeSet<String> = fs::read_dir(&overrides_dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        for entry in listing.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if is_ignored_script_name(&name)
                || check_service_name(&name).is_err()
                || only.is_some_and(|o| !o.contains(&name.as_str()))
            {
                continue;
            }
            let path = entry.path();
            // The directory entry's type costs no system call; a link needs a stat.
            let regular = match entry.file_type() {
                Ok(t) if t.is_file() => true,
                Ok(t) if t.is_symlink() => fs::metadata(&path).is_ok_and(|m| m.is_file()),
                _ => false,
            };
            if !regular {
                continue;
            }
            let text = match read_regular_file(&path) {
                Ok(Some(t)) => t,
                Ok(None) => continue,
                Err(e) => {
                    self.problems
                        .push(format!("{}: {}", path.display(), describe_io(&e)));
                    continue;
                }
            };
            let script_header = Header::parse(&text);
            let over = overrides
                .contains(&name)
                .then(|| fs::read(overrides_dir.join(&name)).ok())
                .flatten();
            let header = match over {
                Some(over) => script_header.overlay(&Header::parse(&over)),
                None => script_header.clone(),
            };
            let info = header.service_info(&name);
            self.sysv.insert(
                name.clone(),
                Service {
                    name,
                    installed: true,
                    header,
                    script_header,
                    info,
                    links: BTreeMap::new(),
                },
            );
        }
        Ok(())
    }

    fn read_links(&mut self, only: Option<&[&str]>) {
        for c in RC_LEVELS {
            let lv = level(c);
            let Ok(listing) = fs::read_dir(self.root.rc_dir(lv)) else {
                continue;
            };
            self.rc_levels = self.rc_levels.with(lv);
            for entry in listing.flatten() {
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                let wanted = |o: &[&str]| name.get(3..).is_some_and(|s| o.contains(&s));
                if only.is_some_and(|o| !wanted(o)) {
                    continue;
                }
                let LinkName::Link(link) = parse_link_name(&name) else {
                    continue;
                };
                let service = self
                    .sysv
                    .entry(link.service.clone())
                    .or_insert_with(|| Service {
                        name: link.service.clone(),
                        installed: false,
                        header: Header::default(),
                        script_header: Header::default(),
                        info: Err(Unsupported::NoHeader),
                        links: BTreeMap::new(),
                    });
                service
                    .links
                    .entry(lv)
                    .or_default()
                    .push(LinkFile { name, link });
            }
        }
        for service in self.sysv.values_mut() {
            for links in service.links.values_mut() {
                links.sort_by(|a, b| a.name.cmp(&b.name));
            }
        }
    }

    fn read_xinetd(&mut self) {
        let Ok(listing) = fs::read_dir(self.root.xinetd_d()) else {
            return;
        };
        for entry in listing.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let path = entry.path();
            if is_ignored_script_name(&name) || !fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                continue;
            }
            let Ok(text) = fs::read(&path) else {
                continue;
            };
            self.xinetd.insert(
                name.clone(),
                XinetdService {
                    name,
                    path,
                    enabled: xinetd_edit::is_enabled(&text),
                    default_enabled: xinetd_edit::default_enabled(&text),
                    description: xinetd_edit::description(&text),
                },
            );
        }
    }

    /// An installed init.d service.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.sysv.get(name).filter(|s| s.installed)
    }

    /// Whether the superserver's own init.d service is on in some level 0–6 (chkconfig
    /// lists the xinetd services only then).
    pub fn superserver_enabled(&self) -> bool {
        self.service("xinetd").is_some_and(|s| {
            s.info.is_ok() && !s.on_levels().intersection(LevelSet::ALL).is_empty()
        })
    }

    /// Turn a service on (S links) or off (K links) in `levels`.
    pub fn on_off(&self, name: &str, levels: LevelSet, on: bool) -> Request {
        let kind = if on { LinkKind::Start } else { LinkKind::Kill };
        request(name, levels.iter().map(|l| (l, Some(kind))))
    }

    /// Back to the header's defaults in `levels`.
    pub fn reset(&self, name: &str, levels: LevelSet) -> Request {
        let defaults = self.default_levels(name);
        request(
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
    pub fn reset_priorities(&self, name: &str, levels: LevelSet) -> Request {
        let service = self.sysv.get(name);
        request(
            name,
            levels
                .iter()
                .filter_map(|l| service.and_then(|s| s.kind_in(l)).map(|k| (l, Some(k)))),
        )
    }

    /// `chkconfig --add`: every level 0–6 without a link gets the header's default. (An
    /// LSB service being changed always has all its links renumbered, as Red Hat's
    /// `--add` does.)
    pub fn add(&self, name: &str) -> Request {
        let linked = self
            .sysv
            .get(name)
            .map(Service::linked_levels)
            .unwrap_or_default();
        self.reset(name, LevelSet::ALL.difference(linked))
    }

    /// Remove every link of a service.
    pub fn delete(&self, name: &str) -> Request {
        let linked = self
            .sysv
            .get(name)
            .map(Service::linked_levels)
            .unwrap_or_default();
        request(name, linked.iter().map(|l| (l, None)))
    }

    fn default_levels(&self, name: &str) -> LevelSet {
        self.sysv
            .get(name)
            .and_then(|s| s.info.as_ref().ok())
            .map_or(LevelSet::EMPTY, |i| i.levels)
    }

    /// Whether this process may change the links: write access to init.d and to every
    /// rc directory.
    pub fn can_change_links(&self) -> bool {
        let writable = |p: &Path| nix::unistd::access(p, nix::unistd::AccessFlags::W_OK).is_ok();
        writable(&self.root.init_d())
            && self
                .rc_levels
                .iter()
                .all(|l| writable(&self.root.rc_dir(l)))
    }

    /// Whether this process may turn xinetd services on and off: write access to
    /// `xinetd.d`.
    pub fn can_change_xinetd(&self) -> bool {
        nix::unistd::access(&self.root.xinetd_d(), nix::unistd::AccessFlags::W_OK).is_ok()
    }

    /// Plans a change to the links of one or more services.
    pub fn plan(&self, requests: &[Request]) -> Result<Plan, String> {
        for r in requests {
            check_service_name(&r.service)?;
            if let Some(missing) = r
                .levels
                .iter()
                .find(|(l, k)| k.is_some() && !self.rc_levels.contains(**l))
            {
                let dir = self.root.rc_dir(*missing.0);
                return Err(format!("{}: No such file or directory", dir.display()));
            }
        }
        let targets: BTreeMap<&str, &Request> =
            requests.iter().map(|r| (r.service.as_str(), r)).collect();
        let (input_nodes, other_scripts) = self.nodes(&targets);
        let solution = priorities::solve(&priorities::Input {
            nodes: input_nodes.clone(),
            other_scripts,
            facilities: Some(&self.facilities),
        })
        .map_err(|e| e.to_string())?;
        let mut plan = Plan {
            warnings: solution.warnings.clone(),
            ..Plan::default()
        };
        for node in &input_nodes {
            let moved =
                solution.start.contains_key(&node.name) || solution.stop.contains_key(&node.name);
            if !node.target && !moved {
                continue;
            }
            let service = self.sysv.get(&node.name);
            let request = targets.get(node.name.as_str()).copied();
            let change = self.relink(&node.name, service, request, node, &solution, &mut plan.ops);
            if change.before != change.after {
                plan.changes.insert(node.name.clone(), change);
            }
        }
        Ok(plan)
    }

    /// The solver's view of every service; and the names of scripts it cannot read.
    fn nodes(&self, targets: &BTreeMap<&str, &Request>) -> (Vec<Node>, BTreeSet<String>) {
        let mut nodes = Vec::new();
        let mut others = BTreeSet::new();
        for service in self.sysv.values() {
            let request = targets.get(service.name.as_str()).copied();
            if !service.installed && request.is_none() {
                continue;
            }
            let kinds = self.kinds_after(service, request);
            if service.info.is_err() && request.is_none() && service.links.is_empty() {
                others.insert(service.name.clone());
                continue;
            }
            nodes.push(self.node(service, request, &kinds));
        }
        for (name, request) in targets {
            if !self.sysv.contains_key(*name) {
                let empty = Service {
                    name: name.to_string(),
                    installed: false,
                    header: Header::default(),
                    script_header: Header::default(),
                    info: Err(Unsupported::NoHeader),
                    links: BTreeMap::new(),
                };
                let kinds = self.kinds_after(&empty, Some(request));
                nodes.push(self.node(&empty, Some(request), &kinds));
            }
        }
        (nodes, others)
    }

    /// The link kind of each level after the change.
    fn kinds_after(
        &self,
        service: &Service,
        request: Option<&Request>,
    ) -> BTreeMap<Runlevel, LinkKind> {
        let mut kinds: BTreeMap<Runlevel, LinkKind> = self
            .rc_levels
            .iter()
            .filter_map(|l| service.kind_in(l).map(|k| (l, k)))
            .collect();
        for (l, k) in request.map(|r| &r.levels).into_iter().flatten() {
            match k {
                Some(k) => kinds.insert(*l, *k),
                None => kinds.remove(l),
            };
        }
        kinds
    }

    fn node(
        &self,
        service: &Service,
        request: Option<&Request>,
        kinds: &BTreeMap<Runlevel, LinkKind>,
    ) -> Node {
        let info = service.info.as_ref().ok();
        let lsb = info.is_some_and(|i| i.lsb);
        let base = |kind: LinkKind| -> u8 {
            let from_request =
                request
                    .and_then(|r| r.base)
                    .map(|(s, k)| if kind == LinkKind::Start { s } else { k });
            let from_header = info.and_then(|i| {
                if kind == LinkKind::Start {
                    i.start
                } else {
                    i.stop
                }
            });
            from_request.or(from_header).unwrap_or(DEFAULT_PRIORITY)
        };
        let touched = |l: &Runlevel| request.is_some_and(|r| r.levels.contains_key(l));
        let slot = |kind: LinkKind| -> OrderSlot {
            // The links of this kind that stay as they are.
            let kept: Vec<u8> = service
                .links
                .iter()
                .filter(|(l, _)| !(request.is_some() && (lsb || touched(l))))
                .filter(|(l, _)| kinds.get(l) == Some(&kind))
                .flat_map(|(_, v)| {
                    v.iter()
                        .filter(|f| f.link.kind == kind)
                        .map(|f| f.link.priority)
                })
                .collect();
            let keep = kept
                .iter()
                .min()
                .zip(kept.iter().max())
                .map(|(a, b)| (*a, *b));
            let writes = request.is_some()
                && kinds.iter().any(|(l, k)| {
                    *k == kind && (lsb || touched(l) || service.kind_in(*l) != Some(kind))
                });
            OrderSlot {
                keep,
                writes,
                base: base(kind),
            }
        };
        Node {
            name: service.name.clone(),
            provides: info.map_or_else(|| vec![service.name.clone()], |i| i.provides.clone()),
            deps: info.map(|i| i.deps.clone()).unwrap_or_default(),
            lsb,
            target: request.is_some(),
            start: slot(LinkKind::Start),
            stop: slot(LinkKind::Kill),
            on: kinds
                .iter()
                .filter(|(_, k)| **k == LinkKind::Start)
                .fold(LevelSet::EMPTY, |s, (l, _)| s.with(*l)),
        }
    }

    /// The operations for one service, and its links before and after.
    fn relink(
        &self,
        name: &str,
        service: Option<&Service>,
        request: Option<&Request>,
        node: &Node,
        solution: &priorities::Solution,
        ops: &mut Vec<LinkOp>,
    ) -> ServiceChange {
        let empty = BTreeMap::new();
        let current = service.map_or(&empty, |s| &s.links);
        let kinds = match service {
            Some(s) => self.kinds_after(s, request),
            None => request
                .map(|r| {
                    r.levels
                        .iter()
                        .filter_map(|(l, k)| k.map(|k| (*l, k)))
                        .collect()
                })
                .unwrap_or_default(),
        };
        let mut change = ServiceChange::default();
        for lv in self.rc_levels.iter() {
            let names: Vec<String> = current
                .get(&lv)
                .into_iter()
                .flatten()
                .map(|f| f.name.clone())
                .collect();
            change.before.extend(names.iter().map(|n| (lv, n.clone())));
            let wanted = kinds.get(&lv).map(|kind| {
                let (moved, slot) = match kind {
                    LinkKind::Start => (solution.start.get(name), &node.start),
                    LinkKind::Kill => (solution.stop.get(name), &node.stop),
                };
                let touched = request.is_some_and(|r| r.levels.contains_key(&lv));
                let existing = current
                    .get(&lv)
                    .into_iter()
                    .flatten()
                    .find(|f| f.link.kind == *kind)
                    .map(|f| f.link.priority);
                let priority = match moved {
                    Some(p) => *p,
                    None if node.target && touched => slot.base,
                    None => existing.unwrap_or(slot.base),
                };
                RcLink::new(*kind, priority, name).to_string()
            });
            if let Some(w) = &wanted {
                change.after.push((lv, w.clone()));
            }
            ops.extend(level_ops(
                lv,
                &names,
                wanted.as_deref(),
                &format!("../init.d/{name}"),
            ));
        }
        change
    }

    /// Applies a plan, atomically (see `sys::links`).
    pub fn apply(&self, plan: &Plan) -> Result<(), String> {
        links::apply(&self.root, &plan.ops)
    }

    /// Applies a batch of changes the way every tool does: the links first (one
    /// transaction), then the xinetd services (see [`switch_xinetd`]).
    pub fn apply_batch(&self, plan: &Plan, xinetd: &[(String, bool)]) -> Result<(), String> {
        self.apply(plan)?;
        switch_xinetd(&self.root, xinetd)
    }
}

/// The content of a regular file (following links); None for anything else.
fn read_regular_file(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    // Non-blocking: opening a FIFO someone left in init.d must not hang.
    let mut file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(None);
    }
    let mut text = Vec::with_capacity(meta.len() as usize + 1);
    file.read_to_end(&mut text)?;
    Ok(Some(text))
}

fn request(name: &str, levels: impl Iterator<Item = (Runlevel, Option<LinkKind>)>) -> Request {
    Request {
        service: name.to_string(),
        levels: levels.collect(),
        base: None,
    }
}

fn read_facilities(root: &Root) -> Facilities {
    let mut facilities = Facilities::default();
    if let Ok(text) = fs::read_to_string(root.insserv_conf()) {
        facilities.add_file(&text);
    }
    if let Ok(dir) = fs::read_dir(root.insserv_conf_d()) {
        let mut files: Vec<PathBuf> = dir
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| !is_ignored_script_name(n))
            })
            .map(|e| e.path())
            .collect();
        files.sort();
        for file in files {
            if let Ok(text) = fs::read_to_string(file) {
                facilities.add_file(&text);
            }
        }
    }
    facilities
}

/// Turns an xinetd service on or off by editing its file (see `format::xinetd_edit`),
/// keeping its mode and owner, replacing it atomically. True if the file changed.
pub fn set_xinetd(root: &Root, name: &str, on: bool) -> Result<bool, String> {
    check_service_name(name)?;
    let path = root.xinetd_d().join(name);
    let fail = |e: std::io::Error| format!("{}: {}", path.display(), describe_io(&e));
    let text = fs::read(&path).map_err(fail)?;
    let meta = fs::metadata(&path).map_err(fail)?;
    let new =
        xinetd_edit::set_enabled(&text, on).map_err(|e| format!("{}: {e}", path.display()))?;
    if new == text {
        return Ok(false);
    }
    crate::sys::fs::write_atomic_as(
        &path,
        &new,
        crate::sys::fs::FileMode {
            mode: meta.mode() & 0o7777,
            owner: Some((meta.uid(), meta.gid())),
        },
    )
    .map_err(fail)?;
    Ok(true)
}

/// Turns xinetd services on or off (see [`set_xinetd`]), then reloads the superserver
/// once if any file changed — also when a later file failed, since the earlier changes
/// are on disk. The first error is returned.
pub fn switch_xinetd(root: &Root, changes: &[(String, bool)]) -> Result<(), String> {
    let mut changed = false;
    let mut first_error = None;
    for (name, on) in changes {
        match set_xinetd(root, name, *on) {
            Ok(c) => changed |= c,
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if changed {
        if let Err(e) = reload_superserver(root) {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Asks a running superserver to re-read its configuration (SIGHUP). The superserver
/// is found through its pidfile and checked to be one (its program or its command
/// line), so that a stale pidfile never sends a signal to some other process. Returns
/// the pid signalled, or None when no superserver runs.
pub fn reload_superserver(root: &Root) -> Result<Option<i32>, String> {
    let pidfile = root.pidfile("xinetd");
    let Ok(Some(pid)) = crate::sys::pidfile::read_pidfile(&pidfile) else {
        return Ok(None);
    };
    if !is_superserver(pid.as_raw()) {
        return Ok(None);
    }
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP)
        .map_err(|e| format!("cannot signal the superserver (pid {pid}): {}", e.desc()))?;
    Ok(Some(pid.as_raw()))
}

fn is_superserver(pid: i32) -> bool {
    const NAMES: &[&str] = &["xinetd", "inetd"];
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let stat = fs::read_to_string(proc_dir.join("stat")).unwrap_or_default();
    if stat
        .rsplit(')')
        .next()
        .and_then(|r| r.split_whitespace().next())
        == Some("Z")
        || stat.is_empty()
    {
        return false;
    }
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let exe = fs::read_link(proc_dir.join("exe"))
        .map(|p| base(&p.to_string_lossy()))
        .unwrap_or_default();
    let cmdline = fs::read(proc_dir.join("cmdline")).unwrap_or_default();
    let argv: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let argv0 = argv.first().map(|a| base(a)).unwrap_or_default();
    if NAMES.contains(&exe.as_str()) || NAMES.contains(&argv0.as_str()) {
        return true;
    }
    // vinit's own superserver: `vinit xinetd` (or `vinit --root DIR xinetd`).
    (exe == "vinit" || argv0 == "vinit") && argv.iter().skip(1).any(|a| NAMES.contains(&a.as_str()))
}

/// The current runlevel, from the file our init keeps (`run/runlevel`: the level's
/// character; `N 3` as `runlevel` prints it is read too).
pub fn current_runlevel(root: &Root) -> Option<Runlevel> {
    let text = fs::read_to_string(root.runlevel_file()).ok()?;
    let word = text.split_whitespace().last()?;
    let mut chars = word.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    Runlevel::from_char(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::fs::symlink;

    struct Tree {
        dir: tempfile::TempDir,
    }

    impl Tree {
        fn new() -> Tree {
            let dir = tempfile::tempdir().unwrap();
            fs::create_dir_all(dir.path().join("etc/init.d")).unwrap();
            for c in RC_LEVELS {
                fs::create_dir_all(dir.path().join(format!("etc/rc{c}.d"))).unwrap();
            }
            Tree { dir }
        }

        fn script(&self, name: &str, header: &str) {
            fs::write(
                self.dir.path().join("etc/init.d").join(name),
                format!("#!/bin/sh\n{header}\n"),
            )
            .unwrap();
        }

        fn link(&self, level: char, name: &str) {
            let service = &name[3..];
            symlink(
                format!("../init.d/{service}"),
                self.dir.path().join(format!("etc/rc{level}.d/{name}")),
            )
            .unwrap();
        }

        fn root(&self) -> Root {
            Root::open(self.dir.path())
        }

        fn links(&self, service: &str) -> Vec<String> {
            let mut out = Vec::new();
            for c in RC_LEVELS {
                let mut names: Vec<String> =
                    fs::read_dir(self.dir.path().join(format!("etc/rc{c}.d")))
                        .unwrap()
                        .map(|e| e.unwrap().file_name().into_string().unwrap())
                        .filter(|n| n.get(3..) == Some(service))
                        .collect();
                names.sort();
                out.extend(names.into_iter().map(|n| format!("{c}:{n}")));
            }
            out
        }

        fn change(&self, f: impl Fn(&Services) -> Vec<Request>) -> Plan {
            let services = Services::scan(&self.root()).unwrap();
            let plan = services.plan(&f(&services)).unwrap();
            services.apply(&plan).unwrap();
            plan
        }
    }

    const ALPHA: &str = "# chkconfig: 2345 55 25\n# description: alpha";
    const GAMMA: &str = "### BEGIN INIT INFO\n# Provides: gamma\n# Required-Start: alpha\n# Required-Stop: alpha\n# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n### END INIT INFO";

    #[test]
    fn on_off_and_lsb_priorities() {
        let t = Tree::new();
        t.script("alpha", ALPHA);
        t.script("gamma", GAMMA);
        t.change(|s| vec![s.add("alpha")]);
        assert_eq!(
            t.links("alpha"),
            [
                "0:K25alpha",
                "1:K25alpha",
                "2:S55alpha",
                "3:S55alpha",
                "4:S55alpha",
                "5:S55alpha",
                "6:K25alpha"
            ]
        );
        t.change(|s| vec![s.add("gamma")]);
        assert_eq!(
            t.links("gamma"),
            [
                "0:K24gamma",
                "1:K24gamma",
                "2:S56gamma",
                "3:S56gamma",
                "4:S56gamma",
                "5:S56gamma",
                "6:K24gamma"
            ]
        );
        // off keeps the dependencies (the reference's `off` forgot them).
        t.change(|s| vec![s.on_off("gamma", LevelSet::of(&[level('3')]), false)]);
        assert_eq!(t.links("gamma")[3], "3:K24gamma");
        let services = Services::scan(&t.root()).unwrap();
        let gamma = services.service("gamma").unwrap();
        assert_eq!(gamma.on_levels().to_string(), "245");
        assert!(gamma.is_configured());
        assert_eq!(services.service("alpha").unwrap().description(), "alpha");
    }

    #[test]
    fn moving_a_dependency_renumbers_its_dependents() {
        let t = Tree::new();
        t.script("late", "# chkconfig: 2345 90 10");
        t.script("base", "# chkconfig: 2345 10 90\n### BEGIN INIT INFO\n# Default-Start: 2 3 4 5\n### END INIT INFO");
        t.script(
            "app",
            GAMMA
                .replace("alpha", "base")
                .replace("gamma", "app")
                .as_str(),
        );
        t.change(|s| vec![s.add("late")]);
        t.change(|s| vec![s.add("base")]);
        t.change(|s| vec![s.add("app")]);
        assert_eq!(t.links("app")[2], "2:S50app");
        // base now needs late: it must go after S90, and app after it.
        t.script(
            "base",
            "# chkconfig: 2345 10 90\n### BEGIN INIT INFO\n# Required-Start: late\n# Required-Stop: late\n# Default-Start: 2 3 4 5\n### END INIT INFO",
        );
        let plan = t.change(|s| vec![s.reset_priorities("base", LevelSet::ALL)]);
        assert_eq!(t.links("base")[2], "2:S91base");
        assert_eq!(t.links("app")[2], "2:S92app");
        assert_eq!(t.links("base")[0], "0:K09base");
        assert_eq!(t.links("app")[0], "0:K08app");
        assert_eq!(t.links("late")[0], "0:K10late");
        assert!(plan.changes.contains_key("app"));
        assert!(!plan.changes.contains_key("late"));
    }

    #[test]
    fn non_lsb_on_touches_only_the_named_levels() {
        let t = Tree::new();
        t.script("legacy", "# chkconfig: 345 20 80");
        t.link('3', "S30legacy");
        t.change(|s| vec![s.on_off("legacy", LevelSet::of(&[level('5')]), true)]);
        assert_eq!(t.links("legacy"), ["3:S30legacy", "5:S20legacy"]);
        t.change(|s| vec![s.delete("legacy")]);
        assert!(t.links("legacy").is_empty());
    }

    #[test]
    fn cycles_are_refused() {
        let t = Tree::new();
        let lsb = |name: &str, req: &str| {
            format!("### BEGIN INIT INFO\n# Provides: {name}\n# Required-Start: {req}\n# Default-Start: 3\n### END INIT INFO")
        };
        t.script("a", &lsb("a", "b"));
        t.script("b", &lsb("b", "a"));
        t.link('3', "S50a");
        let services = Services::scan(&t.root()).unwrap();
        let err = services
            .plan(&[services.on_off("b", LevelSet::of(&[level('3')]), true)])
            .unwrap_err();
        assert!(
            err.contains("dependency cycle") && err.contains("a starts after b"),
            "{err}"
        );
    }

    #[test]
    fn orphan_links_and_missing_levels() {
        let t = Tree::new();
        t.link('2', "S20gone");
        let services = Services::scan(&t.root()).unwrap();
        assert!(services.service("gone").is_none());
        assert!(services.sysv["gone"].is_configured());
        let plan = services.plan(&[services.delete("gone")]).unwrap();
        services.apply(&plan).unwrap();
        assert!(t.links("gone").is_empty());
        fs::remove_dir(t.dir.path().join("etc/rc4.d")).unwrap();
        t.script("x", "# chkconfig: 2345 1 1");
        let services = Services::scan(&t.root()).unwrap();
        let err = services.plan(&[services.add("x")]).unwrap_err();
        assert!(
            err.ends_with("etc/rc4.d: No such file or directory"),
            "{err}"
        );
    }

    #[test]
    fn xinetd_edit_keeps_mode_and_the_rest() {
        let t = Tree::new();
        let dir = t.dir.path().join("etc/xinetd.d");
        fs::create_dir_all(&dir).unwrap();
        let text = "# default: off\nservice echo\n{\n\ttype\t= INTERNAL\n\tdisable\t= yes\n}\n";
        fs::write(dir.join("echo"), text).unwrap();
        fs::set_permissions(dir.join("echo"), fs::Permissions::from_mode(0o640)).unwrap();
        let root = t.root();
        assert!(!Services::scan(&root).unwrap().xinetd["echo"].enabled);
        assert!(set_xinetd(&root, "echo", true).unwrap());
        assert!(!set_xinetd(&root, "echo", true).unwrap());
        assert_eq!(
            fs::read_to_string(dir.join("echo")).unwrap(),
            text.replace("= yes", "= no")
        );
        assert_eq!(
            fs::metadata(dir.join("echo")).unwrap().mode() & 0o777,
            0o640
        );
        let s = Services::scan(&root).unwrap();
        assert!(s.xinetd["echo"].enabled);
        assert_eq!(s.xinetd["echo"].default_enabled, Some(false));
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn switching_xinetd_services_goes_on_past_a_failure() {
        let t = Tree::new();
        let dir = t.dir.path().join("etc/xinetd.d");
        fs::create_dir_all(&dir).unwrap();
        let text = "service echo\n{\n\tdisable\t= yes\n}\n";
        fs::write(dir.join("echo"), text).unwrap();
        fs::write(dir.join("time"), text.replace("echo", "time")).unwrap();
        let root = t.root();
        let services = Services::scan(&root).unwrap();
        assert!(services.can_change_xinetd());
        let err = switch_xinetd(
            &root,
            &[
                ("echo".into(), true),
                ("missing".into(), true),
                ("time".into(), true),
            ],
        )
        .unwrap_err();
        assert!(
            err.ends_with("etc/xinetd.d/missing: No such file or directory"),
            "{err}"
        );
        let after = Services::scan(&root).unwrap();
        assert!(after.xinetd["echo"].enabled && after.xinetd["time"].enabled);
        // A batch: links, then xinetd files.
        t.script("alpha", ALPHA);
        let services = Services::scan(&root).unwrap();
        let plan = services.plan(&[services.add("alpha")]).unwrap();
        services
            .apply_batch(&plan, &[("echo".into(), false)])
            .unwrap();
        assert_eq!(t.links("alpha")[2], "2:S55alpha");
        assert!(!Services::scan(&root).unwrap().xinetd["echo"].enabled);
    }

    #[test]
    fn runlevel_file() {
        let t = Tree::new();
        let root = t.root();
        assert_eq!(current_runlevel(&root), None);
        fs::create_dir_all(t.dir.path().join("run")).unwrap();
        fs::write(root.runlevel_file(), "3\n").unwrap();
        assert_eq!(current_runlevel(&root), Some(level('3')));
        fs::write(root.runlevel_file(), "N 5\n").unwrap();
        assert_eq!(current_runlevel(&root), Some(level('5')));
        fs::write(root.runlevel_file(), "junk\n").unwrap();
        assert_eq!(current_runlevel(&root), None);
    }

    #[test]
    fn no_superserver_no_signal() {
        let t = Tree::new();
        let root = t.root();
        assert_eq!(reload_superserver(&root).unwrap(), None);
        fs::create_dir_all(t.dir.path().join("run")).unwrap();
        // Our own pid: alive, but not a superserver.
        fs::write(root.pidfile("xinetd"), format!("{}\n", std::process::id())).unwrap();
        assert_eq!(reload_superserver(&root).unwrap(), None);
    }
}
