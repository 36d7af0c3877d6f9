//! From requests to a plan: the link kinds each service has after the change, the
//! solver's view of every service (`plan::priorities`), and the link operations that
//! carry out its numbers (`plan::relink`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::{Plan, Request, Service, ServiceChange, Services, DEFAULT_PRIORITY};
use crate::format::levelset::LevelSet;
use crate::format::link_journal::LinkOp;
use crate::format::rclink::{check_service_name, LinkKind, NameError, RcLink};
use crate::format::runlevel::Runlevel;
use crate::plan::priorities::{self, Node, OrderSlot, SolveError};
use crate::plan::relink::level_ops;

/// Why a change cannot be planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PlanError {
    BadName(NameError),
    /// A level the change needs has no rc directory (chkconfig never creates one).
    NoRcDir(Runlevel),
    Solve(SolveError),
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::BadName(e) => e.fmt(f),
            PlanError::NoRcDir(level) => write!(f, "rc{level}.d: No such file or directory"),
            PlanError::Solve(e) => e.fmt(f),
        }
    }
}

impl Services {
    /// Plans a change to the links of one or more services.
    pub(crate) fn plan(&self, requests: &[Request]) -> Result<Plan, PlanError> {
        for r in requests {
            check_service_name(&r.service).map_err(PlanError::BadName)?;
            if let Some((level, _)) = r
                .levels
                .iter()
                .find(|(l, k)| k.is_some() && !self.rc_levels.contains(**l))
            {
                return Err(PlanError::NoRcDir(*level));
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
        .map_err(PlanError::Solve)?;
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
            let request = targets.get(node.name.as_str()).copied();
            let change = self.relink(node, request, &solution, &mut plan.ops);
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
            if service.info.is_err() && request.is_none() && service.links.is_empty() {
                others.insert(service.name.clone());
                continue;
            }
            nodes.push(self.node(service, request));
        }
        for (name, request) in targets {
            if !self.sysv.contains_key(*name) {
                nodes.push(self.node(&Service::missing(name), Some(request)));
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

    fn node(&self, service: &Service, request: Option<&Request>) -> Node {
        let kinds = self.kinds_after(service, request);
        let info = service.info.as_ref().ok();
        let lsb = info.is_some_and(|i| i.lsb);
        Node {
            name: service.name.clone(),
            provides: info.map_or_else(|| vec![service.name.clone()], |i| i.provides.clone()),
            deps: info.map(|i| i.deps.clone()).unwrap_or_default(),
            lsb,
            target: request.is_some(),
            start: order_slot(service, request, &kinds, LinkKind::Start),
            stop: order_slot(service, request, &kinds, LinkKind::Kill),
            on: levels_of(&kinds, LinkKind::Start),
            off: levels_of(&kinds, LinkKind::Kill),
        }
    }

    /// The operations for one service, and its links before and after.
    fn relink(
        &self,
        node: &Node,
        request: Option<&Request>,
        solution: &priorities::Solution,
        ops: &mut Vec<LinkOp>,
    ) -> ServiceChange {
        let name = node.name.as_str();
        let missing = Service::missing(name);
        let service = self.sysv.get(name).unwrap_or(&missing);
        let kinds = self.kinds_after(service, request);
        let mut change = ServiceChange::default();
        for lv in self.rc_levels.iter() {
            let current = service.links_in(lv);
            let names: Vec<String> = current.iter().map(|f| f.name.clone()).collect();
            change.before.extend(names.iter().map(|n| (lv, n.clone())));
            let wanted = kinds.get(&lv).map(|kind| {
                let (moved, slot) = match kind {
                    LinkKind::Start => (solution.start.get(name), &node.start),
                    LinkKind::Kill => (solution.stop.get(name), &node.stop),
                };
                let touched = request.is_some_and(|r| r.levels.contains_key(&lv));
                let existing = current
                    .iter()
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
}

/// A service's part in the order of one kind of link (start or stop).
fn order_slot(
    service: &Service,
    request: Option<&Request>,
    kinds: &BTreeMap<Runlevel, LinkKind>,
    kind: LinkKind,
) -> OrderSlot {
    let info = service.info.as_ref().ok();
    let lsb = info.is_some_and(|i| i.lsb);
    let from_request =
        request
            .and_then(|r| r.base)
            .map(|(s, k)| if kind == LinkKind::Start { s } else { k });
    let from_header = info.and_then(|i| match kind {
        LinkKind::Start => i.start,
        LinkKind::Kill => i.stop,
    });
    let touched = |l: &Runlevel| request.is_some_and(|r| r.levels.contains_key(l));
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
        && kinds
            .iter()
            .any(|(l, k)| *k == kind && (lsb || touched(l) || service.kind_in(*l) != Some(kind)));
    OrderSlot {
        keep,
        writes,
        base: from_request.or(from_header).unwrap_or(DEFAULT_PRIORITY),
    }
}

fn levels_of(kinds: &BTreeMap<Runlevel, LinkKind>, kind: LinkKind) -> LevelSet {
    kinds
        .iter()
        .filter(|(_, k)| **k == kind)
        .fold(LevelSet::EMPTY, |s, (l, _)| s.with(*l))
}
