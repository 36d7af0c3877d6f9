//! Start and stop priorities from LSB dependencies: the numbers in `S55foo`/`K25foo`.
//!
//! The rule we guarantee, in every level and whatever is on or off: a service starts
//! after everything it requires (`Required-Start`, `Should-Start`, and whoever names it
//! in `X-Start-Before`) and stops before everything it needs while stopping
//! (`Required-Stop`, `Should-Stop`, `X-Stop-After`). That is: for each such pair,
//! `S(after) > S(before)` and `K(after) > K(before)`, over all their links.
//!
//! Red Hat's chkconfig gets this wrong in several ways (see the reference notes): it
//! ignores dependencies that are off in some level, has no cycle detection, and `off`
//! forgets every dependency. Here the two orders (start, stop) are each a system of
//! difference constraints over 0–99, solved exactly:
//!
//! 1. Services being changed (the targets) move; everyone else keeps their numbers. If
//!    that satisfies every dependency, nothing else is touched.
//! 2. Otherwise every LSB service may move too (a non-LSB service has no dependency
//!    information and keeps its numbers). Each takes the number closest to the one it
//!    has that fits, so services that already fit keep theirs. This also repairs an
//!    order broken before the change (links made by hand or by another tool).
//!
//! A cycle is an error naming it, whichever services it involves (as with insserv: no
//! order exists until it is broken); so is a chain that does not fit into 0–99.

use std::collections::{BTreeMap, BTreeSet};

use crate::format::facilities::Facilities;
use crate::format::header::Dependencies;
use crate::format::levelset::LevelSet;
use crate::format::runlevel::Runlevel;
pub(crate) use crate::plan::deps::Kind;
use crate::plan::deps::{self, Service};

/// The highest priority a link name can hold (two digits).
pub(crate) const MAX_PRIORITY: u8 = 99;

/// One service's part in one order (start or stop).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct OrderSlot {
    /// The lowest and highest priority of the links of this kind that will stay as
    /// they are (none for an LSB service being changed: all its links are renumbered).
    pub keep: Option<(u8, u8)>,
    /// The change writes links of this kind.
    pub writes: bool,
    /// The priority it asks for when it moves: from its header, the command line, or
    /// 50 for an LSB script without one (chkconfig's rule).
    pub base: u8,
}

impl OrderSlot {
    fn takes_part(&self) -> bool {
        self.keep.is_some() || self.writes
    }
}

/// A service as the solver sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Node {
    pub name: String,
    /// The names it answers to: its own, then its `Provides` (may include `$facility`).
    pub provides: Vec<String>,
    pub deps: Dependencies,
    /// It has an LSB block: its dependencies are known, so it may be renumbered.
    pub lsb: bool,
    /// It is being changed.
    pub target: bool,
    pub start: OrderSlot,
    pub stop: OrderSlot,
    /// Where it has S links after the change (`S` included: the boot level).
    pub on: LevelSet,
    /// Where it has K links after the change.
    pub off: LevelSet,
}

impl Node {
    fn levels(&self, kind: Kind) -> LevelSet {
        match kind {
            Kind::Start => self.on,
            Kind::Stop => self.off,
        }
    }

    /// Where it is effectively started: a service started in `S` (the boot level, run
    /// once before any other) runs in every level after it.
    pub(crate) fn running_in(&self) -> LevelSet {
        if self.on.contains(Runlevel::SINGLE) {
            self.on.union(LevelSet::ALL)
        } else {
            self.on
        }
    }
}

/// Everything the solver needs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Input<'a> {
    /// Every installed service chkconfig can read, linked or not.
    pub nodes: Vec<Node>,
    /// Scripts without a usable header: they exist and provide their own name.
    pub other_scripts: BTreeSet<String>,
    pub facilities: Option<&'a Facilities>,
}

/// The numbers for the services that move. A service missing from a map keeps its
/// links of that kind as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Solution {
    pub start: BTreeMap<String, u8>,
    pub stop: BTreeMap<String, u8>,
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SolveError {
    /// `path[0]` after `path[1]` after … after `path[0]`.
    Cycle { kind: Kind, path: Vec<String> },
    /// No priority in 0–99 fits.
    NoRoom { kind: Kind, message: String },
}

impl std::fmt::Display for SolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SolveError::Cycle { kind, path } => {
                let steps: Vec<String> = path
                    .iter()
                    .zip(path.iter().cycle().skip(1))
                    .map(|(a, b)| format!("{a} {} after {b}", kind.verb()))
                    .collect();
                write!(f, "dependency cycle: {}", steps.join(", "))
            }
            SolveError::NoRoom { message, .. } => f.write_str(message),
        }
    }
}

/// Computes the priorities of the services that move.
pub(crate) fn solve(input: &Input) -> Result<Solution, SolveError> {
    let graph = Graph::new(input);
    let mut solution = Solution {
        warnings: graph.warnings(),
        ..Solution::default()
    };
    for kind in [Kind::Start, Kind::Stop] {
        let slots: Vec<Option<&OrderSlot>> = input
            .nodes
            .iter()
            .map(|n| {
                let slot = match kind {
                    Kind::Start => &n.start,
                    Kind::Stop => &n.stop,
                };
                slot.takes_part().then_some(slot)
            })
            .collect();
        let mut edges = graph.edges(kind, &slots);
        let nodes = &input.nodes;
        // A dependency binds two services in an order only where both have links of
        // that kind in a common level (insserv's rule): `rcS.d` runs once at boot
        // before every other level, so a boot service never holds back the numbers of
        // rc2.d; `$all` in rc2.d means after everything of rc2.d, not of rc1.d.
        edges.retain(|&(a, b)| {
            !nodes[a]
                .levels(kind)
                .intersection(nodes[b].levels(kind))
                .is_empty()
        });
        let specs: Vec<Option<SlotSpec>> = input
            .nodes
            .iter()
            .zip(&slots)
            .map(|(node, slot)| slot.map(|s| SlotSpec::of(node, s)))
            .collect();
        let values = solve_order(&specs, &edges).map_err(|e| e.into_error(kind, input))?;
        let map = match kind {
            Kind::Start => &mut solution.start,
            Kind::Stop => &mut solution.stop,
        };
        for (node, value) in input.nodes.iter().zip(values) {
            if let Some(v) = value {
                map.insert(node.name.clone(), v);
            }
        }
    }
    Ok(solution)
}

/// Where a node may go, in each phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Fixed { lo: u8, hi: u8 },
    Free { base: u8 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotSpec {
    /// When only the targets move.
    pub first: Slot,
    /// When every LSB service may move.
    pub second: Slot,
}

impl SlotSpec {
    fn of(node: &Node, slot: &OrderSlot) -> SlotSpec {
        let range = |values: &[u8]| -> Slot {
            let lo = values.iter().copied().min().unwrap_or(slot.base);
            let hi = values.iter().copied().max().unwrap_or(slot.base);
            Slot::Fixed { lo, hi }
        };
        let spec = |s| SlotSpec {
            first: s,
            second: s,
        };
        match (node.target, node.lsb, slot.keep) {
            (true, true, _) | (false, _, None) => spec(Slot::Free { base: slot.base }),
            (true, false, keep) => {
                let mut values: Vec<u8> = keep.map(|(l, h)| vec![l, h]).unwrap_or_default();
                if slot.writes {
                    values.push(slot.base);
                }
                spec(range(&values))
            }
            (false, lsb, Some((lo, hi))) => SlotSpec {
                first: Slot::Fixed { lo, hi },
                second: if lsb {
                    Slot::Free { base: hi }
                } else {
                    Slot::Fixed { lo, hi }
                },
            },
        }
    }
}

/// Why one order could not be solved, by node index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OrderError {
    Cycle(Vec<usize>),
    /// `node` must come after `after` and before `before` and nothing fits between.
    NoRoom {
        node: usize,
        after: Option<usize>,
        before: Option<usize>,
    },
}

impl OrderError {
    fn into_error(self, kind: Kind, input: &Input) -> SolveError {
        let name = |i: usize| input.nodes[i].name.clone();
        match self {
            OrderError::Cycle(path) => SolveError::Cycle {
                kind,
                path: path.into_iter().map(name).collect(),
            },
            OrderError::NoRoom {
                node,
                after,
                before,
            } => {
                let mut why = Vec::new();
                if let Some(a) = after {
                    why.push(format!("after {}", name(a)));
                }
                if let Some(b) = before {
                    why.push(format!("before {}", name(b)));
                }
                let why = if why.is_empty() {
                    String::new()
                } else {
                    format!(" {}", why.join(" and "))
                };
                SolveError::NoRoom {
                    kind,
                    message: format!(
                        "no {} priority from 0 to {MAX_PRIORITY} lets {} {}{why}, as its dependencies require",
                        kind.letter(),
                        name(node),
                        match kind {
                            Kind::Start => "start",
                            Kind::Stop => "stop",
                        }
                    ),
                }
            }
        }
    }
}

/// Solves one order. `slots[i]` is None for nodes that take no part; `edges` are
/// `(after, before)` pairs. Returns the value of every node that is free in the phase
/// that succeeded.
pub(crate) fn solve_order(
    slots: &[Option<SlotSpec>],
    edges: &[(usize, usize)],
) -> Result<Vec<Option<u8>>, OrderError> {
    let first: Vec<Option<Slot>> = slots.iter().map(|s| s.map(|s| s.first)).collect();
    if let Ok(values) = solve_phase(&first, edges) {
        return Ok(values);
    }
    let second: Vec<Option<Slot>> = slots.iter().map(|s| s.map(|s| s.second)).collect();
    solve_phase(&second, edges)
}

fn solve_phase(
    slots: &[Option<Slot>],
    edges: &[(usize, usize)],
) -> Result<Vec<Option<u8>>, OrderError> {
    let n = slots.len();
    let is_free = |i: usize| matches!(slots[i], Some(Slot::Free { .. }));
    let active: BTreeSet<(usize, usize)> = edges
        .iter()
        .copied()
        .filter(|&(a, b)| a != b && slots[a].is_some() && slots[b].is_some())
        .collect();
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(after, before) in &active {
        preds[after].push(before);
        succs[before].push(after);
    }
    let order = topological(n, &preds, &succs).map_err(OrderError::Cycle)?;
    let (lo, hi) = bounds(slots);
    // Lowest possible value of each free node, and the predecessor that forces it.
    let mut lower = vec![0i32; n];
    let mut lower_by = vec![None; n];
    for &i in &order {
        for &p in &preds[i] {
            let need = if is_free(p) { lower[p] } else { hi[p] } + 1;
            if need > lower[i] {
                lower[i] = need;
                lower_by[i] = Some(p);
            }
        }
    }
    let mut upper = vec![i32::from(MAX_PRIORITY); n];
    let mut upper_by = vec![None; n];
    for &i in order.iter().rev() {
        for &s in &succs[i] {
            let limit = if is_free(s) { upper[s] } else { lo[s] } - 1;
            if limit < upper[i] {
                upper[i] = limit;
                upper_by[i] = Some(s);
            }
        }
    }
    let mut values: Vec<Option<u8>> = vec![None; n];
    let mut placed = vec![0i32; n];
    for &i in &order {
        match slots[i] {
            Some(Slot::Free { base }) => {
                if lower[i] > upper[i] {
                    return Err(OrderError::NoRoom {
                        node: i,
                        after: lower_by[i],
                        before: upper_by[i],
                    });
                }
                let mut v = i32::from(base).clamp(lower[i], upper[i]);
                for &p in &preds[i] {
                    let top = if is_free(p) { placed[p] } else { hi[p] };
                    v = v.max(top + 1);
                }
                placed[i] = v;
                values[i] = u8::try_from(v).ok();
            }
            Some(Slot::Fixed { .. }) => {
                // Two services that stay put must already be in order.
                if let Some(&p) = preds[i].iter().find(|&&p| !is_free(p) && hi[p] >= lo[i]) {
                    return Err(OrderError::NoRoom {
                        node: i,
                        after: Some(p),
                        before: None,
                    });
                }
            }
            None => {}
        }
    }
    Ok(values)
}

fn bounds(slots: &[Option<Slot>]) -> (Vec<i32>, Vec<i32>) {
    slots
        .iter()
        .map(|s| match s {
            Some(Slot::Fixed { lo, hi }) => (i32::from(*lo), i32::from(*hi)),
            _ => (0, 0),
        })
        .unzip()
}

/// Kahn's order; on a cycle, the cycle.
fn topological(
    n: usize,
    preds: &[Vec<usize>],
    succs: &[Vec<usize>],
) -> Result<Vec<usize>, Vec<usize>> {
    let mut indegree: Vec<usize> = preds.iter().map(Vec::len).collect();
    let mut ready: Vec<usize> = (0..n).rev().filter(|&i| indegree[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop() {
        order.push(i);
        for &s in &succs[i] {
            indegree[s] -= 1;
            if indegree[s] == 0 {
                ready.push(s);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Every node left has a predecessor left: walk back until a node repeats.
    let left: Vec<bool> = indegree.iter().map(|d| *d > 0).collect();
    let start = left.iter().position(|l| *l).unwrap_or(0);
    let mut seen = vec![usize::MAX; n];
    let mut path = Vec::new();
    let mut i = start;
    while seen[i] == usize::MAX {
        seen[i] = path.len();
        path.push(i);
        i = preds[i].iter().copied().find(|p| left[*p]).unwrap_or(i);
    }
    Err(path[seen[i]..].to_vec())
}

impl Service for Node {
    fn provides(&self) -> &[String] {
        &self.provides
    }
    fn deps(&self) -> &Dependencies {
        &self.deps
    }
}

/// The dependency graph of every installed service, and what chkconfig warns about.
struct Graph<'a> {
    input: &'a Input<'a>,
    deps: deps::Graph<'a, Node>,
}

impl<'a> Graph<'a> {
    fn new(input: &'a Input<'a>) -> Graph<'a> {
        Graph {
            input,
            deps: deps::Graph::new(&input.nodes, input.facilities),
        }
    }

    fn providers(&self, dep: &str) -> Vec<usize> {
        self.deps.providers(dep)
    }

    fn installed(&self, dep: &str) -> bool {
        !self.providers(dep).is_empty() || self.input.other_scripts.contains(dep)
    }

    /// `(after, before)` pairs of one order, between nodes that take part.
    fn edges(&self, kind: Kind, slots: &[Option<&OrderSlot>]) -> Vec<(usize, usize)> {
        self.deps.edges(kind, |i| slots[i].is_some())
    }

    /// What the services being changed require but will not have.
    fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for node in self
            .input
            .nodes
            .iter()
            .filter(|n| n.target && !n.on.is_empty())
        {
            for dep in &node.deps.required_start {
                if dep == "$all" || node.provides.contains(dep) {
                    continue;
                }
                if !self.installed(dep) {
                    // A facility nothing provides is taken as provided by the boot itself.
                    if !dep.starts_with('$') {
                        out.push(format!(
                            "service {} requires {dep}, which is not installed",
                            node.name
                        ));
                    }
                    continue;
                }
                let on = self.providers(dep).iter().fold(LevelSet::EMPTY, |set, p| {
                    set.union(self.input.nodes[*p].running_in())
                });
                let missing = node.on.difference(on);
                if !missing.is_empty() {
                    let plural = if missing.len() > 1 { "s" } else { "" };
                    out.push(format!(
                        "service {} requires {dep}, which is off in runlevel{plural} {}",
                        node.name,
                        missing.words()
                    ));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::levelset::level;
    use proptest::prelude::*;

    fn slot(keep: Option<(u8, u8)>, writes: bool, base: u8) -> OrderSlot {
        OrderSlot { keep, writes, base }
    }

    fn node(name: &str, requires: &[&str]) -> Node {
        Node {
            name: name.into(),
            provides: vec![name.into()],
            deps: Dependencies {
                required_start: requires.iter().map(|s| s.to_string()).collect(),
                required_stop: requires.iter().map(|s| s.to_string()).collect(),
                ..Dependencies::default()
            },
            lsb: true,
            on: LevelSet::MULTI_USER,
            off: LevelSet::of(&[level('0'), level('1'), level('6')]),
            ..Node::default()
        }
    }

    fn configured(mut n: Node, s: u8, k: u8) -> Node {
        n.start = slot(Some((s, s)), false, 50);
        n.stop = slot(Some((k, k)), false, 50);
        n
    }

    fn target(mut n: Node, s: u8, k: u8) -> Node {
        n.target = true;
        n.start = slot(None, true, s);
        n.stop = slot(None, true, k);
        n
    }

    fn solve_nodes(nodes: Vec<Node>) -> Result<Solution, SolveError> {
        solve(&Input {
            nodes,
            ..Input::default()
        })
    }

    #[test]
    fn a_target_moves_after_what_it_requires_and_others_stay() {
        // Red Hat's verified case: gamma requires alpha (S55/K25) → S56/K24.
        let s = solve_nodes(vec![
            configured(node("alpha", &[]), 55, 25),
            target(node("gamma", &["alpha"]), 50, 50),
        ])
        .unwrap();
        assert_eq!(s.start.get("gamma"), Some(&56));
        assert_eq!(s.stop.get("gamma"), Some(&24));
        assert!(!s.start.contains_key("alpha") && !s.stop.contains_key("alpha"));
        // A target that already fits keeps its header's numbers.
        let s = solve_nodes(vec![
            configured(node("alpha", &[]), 10, 90),
            target(node("gamma", &["alpha"]), 20, 80),
        ])
        .unwrap();
        assert_eq!((s.start["gamma"], s.stop["gamma"]), (20, 80));
    }

    #[test]
    fn the_target_gives_way_before_anyone_else_moves() {
        // beta (configured at S20) requires alpha; alpha's header asks for S80: alpha
        // goes just before beta, and nobody else is touched.
        let s = solve_nodes(vec![
            configured(node("beta", &["alpha"]), 20, 80),
            configured(node("other", &[]), 30, 70),
            target(node("alpha", &[]), 80, 20),
        ])
        .unwrap();
        assert_eq!((s.start["alpha"], s.stop["alpha"]), (19, 81));
        assert!(!s.start.contains_key("beta") && !s.start.contains_key("other"));
    }

    #[test]
    fn dependents_move_when_the_target_cannot_give_way() {
        // alpha must start after late (fixed, non-LSB, S90); beta requires alpha.
        let mut late = configured(node("late", &[]), 90, 10);
        late.lsb = false;
        late.deps = Dependencies::default();
        let s = solve_nodes(vec![
            late,
            configured(node("beta", &["alpha"]), 20, 80),
            configured(node("other", &[]), 30, 70),
            target(node("alpha", &["late"]), 80, 20),
        ])
        .unwrap();
        assert_eq!(s.start["alpha"], 91);
        assert_eq!(s.start["beta"], 92);
        assert!(
            s.stop["beta"] < s.stop["alpha"] && s.stop["alpha"] < 10,
            "{s:?}"
        );
        // other fitted where it was: same number.
        assert_eq!(s.start.get("other").copied().unwrap_or(30), 30);
    }

    #[test]
    fn an_order_broken_by_hand_is_repaired() {
        let s = solve_nodes(vec![
            configured(node("db", &[]), 60, 40),
            configured(node("web", &["db"]), 50, 50),
            target(node("new", &[]), 10, 90),
        ])
        .unwrap();
        let get = |m: &BTreeMap<String, u8>, k: &str, keep: u8| m.get(k).copied().unwrap_or(keep);
        assert!(get(&s.start, "web", 50) > get(&s.start, "db", 60), "{s:?}");
        assert!(get(&s.stop, "web", 50) < get(&s.stop, "db", 40), "{s:?}");
    }

    #[test]
    fn off_dependencies_still_order() {
        // The reference bug: a dependency off in some level was ignored.
        let mut dep = configured(node("db", &[]), 60, 40);
        dep.on = LevelSet::of(&[level('3')]);
        let mut app = target(node("app", &["db"]), 10, 90);
        app.on = LevelSet::of(&[level('3'), level('5')]);
        let s = solve_nodes(vec![dep, app]).unwrap();
        assert_eq!((s.start["app"], s.stop["app"]), (61, 39));
        assert_eq!(
            s.warnings,
            ["service app requires db, which is off in runlevel 5"]
        );
    }

    #[test]
    fn missing_requirements_are_reported_facilities_are_not() {
        let s = solve_nodes(vec![target(node("app", &["ghost", "$network"]), 50, 50)]).unwrap();
        assert_eq!(
            s.warnings,
            ["service app requires ghost, which is not installed"]
        );
        let s = solve(&Input {
            nodes: vec![target(node("app", &["plain"]), 50, 50)],
            other_scripts: ["plain".to_string()].into(),
            facilities: None,
        })
        .unwrap();
        assert!(
            s.warnings[0].contains("off in runlevels 2 3 4 5"),
            "{:?}",
            s.warnings
        );
    }

    #[test]
    fn the_boot_level_runs_before_every_other() {
        // Debian: mountall and hwclock start in rcS.d only; cron (rc2-5) requires them
        // through facilities; rc.local requires $all; single is in rc1.d only.
        let lv = |s: &str| LevelSet::parse_words(s).0;
        let mut mountall = configured(node("mountall", &[]), 6, 0);
        mountall.on = lv("S");
        mountall.off = LevelSet::EMPTY;
        mountall.stop = OrderSlot::default();
        let mut hwclock = configured(node("hwclock.sh", &[]), 1, 1);
        hwclock.provides.push("hwclock".into());
        hwclock.on = lv("S");
        hwclock.off = lv("0 6");
        let mut single = configured(node("single", &[]), 2, 0);
        single.on = lv("1");
        single.stop = OrderSlot::default();
        let mut rc_local = configured(node("rc.local", &["$all"]), 2, 0);
        rc_local.deps.required_stop.clear();
        rc_local.stop = OrderSlot::default();
        let mut cron = target(node("cron", &["$remote_fs", "$time"]), 50, 50);
        cron.off = LevelSet::EMPTY;
        cron.stop = OrderSlot::default();
        let mut facilities = Facilities::default();
        facilities.add_file("$local_fs +mountall\n$remote_fs $local_fs\n$time +hwclock\n");
        let s = solve(&Input {
            nodes: vec![mountall, hwclock, single, rc_local, cron],
            other_scripts: BTreeSet::new(),
            facilities: Some(&facilities),
        })
        .unwrap();
        // Before rc.local (S02), whatever rcS.d holds; nobody else moves; no warning:
        // what starts in S runs in every level.
        assert_eq!(s.start.get("cron"), Some(&1), "{s:?}");
        assert_eq!(s.start.len(), 1, "{s:?}");
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn cycles_are_named() {
        let err = solve_nodes(vec![
            configured(node("a", &["c"]), 10, 90),
            configured(node("b", &["a"]), 20, 80),
            target(node("c", &["b"]), 30, 70),
        ])
        .unwrap_err();
        let SolveError::Cycle { kind, path } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(*kind, Kind::Start);
        let mut sorted = path.clone();
        sorted.sort();
        assert_eq!(sorted, ["a", "b", "c"]);
        let text = err.to_string();
        assert!(text.starts_with("dependency cycle: "), "{text}");
        assert!(text.contains("c starts after b"), "{text}");
    }

    #[test]
    fn facilities_and_provides() {
        let mut net = configured(node("networking", &[]), 40, 60);
        net.provides.push("$network".into());
        let mut syslog = configured(node("rsyslog", &[]), 45, 55);
        syslog.provides.push("syslogd".into());
        let mut facilities = Facilities::default();
        facilities.add_file("$syslog +syslogd\n$remote_fs $local_fs +nfs\n");
        let s = solve(&Input {
            nodes: vec![
                net,
                syslog,
                target(node("app", &["$network", "$syslog"]), 10, 90),
            ],
            other_scripts: BTreeSet::new(),
            facilities: Some(&facilities),
        })
        .unwrap();
        assert_eq!((s.start["app"], s.stop["app"]), (46, 54));
    }

    #[test]
    fn x_start_before_and_x_stop_after() {
        let mut early = target(node("early", &[]), 50, 50);
        early.deps.start_before = vec!["late".into()];
        early.deps.stop_after = vec!["late".into()];
        let s = solve_nodes(vec![configured(node("late", &[]), 20, 80), early]).unwrap();
        assert!(s.start["early"] < 20 && s.stop["early"] > 80, "{s:?}");
    }

    #[test]
    fn dollar_all_goes_last() {
        let mut last = target(node("rc.local", &["$all"]), 10, 10);
        last.deps.required_stop.clear();
        let s = solve_nodes(vec![
            configured(node("a", &[]), 70, 30),
            configured(node("b", &[]), 85, 15),
            last,
        ])
        .unwrap();
        assert_eq!(s.start["rc.local"], 86);
    }

    #[test]
    fn non_lsb_services_never_move() {
        let mut legacy = configured(node("legacy", &[]), 90, 10);
        legacy.lsb = false;
        legacy.deps = Dependencies::default();
        let mut app = target(node("app", &["legacy"]), 95, 5);
        app.deps.required_stop.clear();
        let s = solve_nodes(vec![legacy.clone(), app]).unwrap();
        assert_eq!(s.start["app"], 95);
        // Nothing fits after S99.
        let mut legacy99 = legacy;
        legacy99.start = slot(Some((99, 99)), false, 50);
        let err =
            solve_nodes(vec![legacy99, target(node("app", &["legacy"]), 50, 50)]).unwrap_err();
        assert!(
            matches!(
                err,
                SolveError::NoRoom {
                    kind: Kind::Start,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("app start after legacy"), "{err}");
    }

    #[test]
    fn a_long_chain_fits_by_renumbering_everyone() {
        // 30 services in a chain, all configured at S50: the target at the bottom
        // needs the whole chain renumbered.
        let mut nodes: Vec<Node> = (1..30)
            .map(|i| {
                configured(
                    node(&format!("n{i:02}"), &[&format!("n{:02}", i - 1)]),
                    50,
                    50,
                )
            })
            .collect();
        nodes.push(target(node("n00", &[]), 50, 50));
        let s = solve_nodes(nodes).unwrap();
        for i in 1..30 {
            let (a, b) = (format!("n{i:02}"), format!("n{:02}", i - 1));
            assert!(s.start[&a] > s.start[&b]);
            assert!(s.stop[&a] < s.stop[&b]);
        }
        let too_long: Vec<Node> = (0..120)
            .map(|i| {
                let deps: Vec<String> = if i == 0 {
                    vec![]
                } else {
                    vec![format!("n{}", i - 1)]
                };
                let refs: Vec<&str> = deps.iter().map(String::as_str).collect();
                target(node(&format!("n{i}"), &refs), 50, 50)
            })
            .collect();
        assert!(matches!(
            solve_nodes(too_long),
            Err(SolveError::NoRoom { .. })
        ));
    }

    fn check(
        slots: &[Option<SlotSpec>],
        edges: &[(usize, usize)],
        values: &[Option<u8>],
        phase_second: bool,
    ) {
        let pick = |s: &SlotSpec| if phase_second { s.second } else { s.first };
        let range = |i: usize| -> (u8, u8) {
            match (slots[i].map(|s| pick(&s)), values[i]) {
                (Some(Slot::Fixed { lo, hi }), _) => (lo, hi),
                (Some(Slot::Free { .. }), Some(v)) => (v, v),
                other => panic!("node {i}: {other:?}"),
            }
        };
        for &(a, b) in edges {
            if a == b || slots[a].is_none() || slots[b].is_none() {
                continue;
            }
            assert!(
                range(a).0 > range(b).1,
                "edge {a} after {b}: {:?} vs {:?}",
                range(a),
                range(b)
            );
        }
    }

    fn is_cycle(path: &[usize], edges: &[(usize, usize)]) -> bool {
        !path.is_empty()
            && path
                .iter()
                .zip(path.iter().cycle().skip(1))
                .all(|(a, b)| edges.contains(&(*a, *b)))
    }

    proptest! {
        /// Random dependency graphs, every node free: either every edge holds or a real
        /// cycle is reported.
        #[test]
        fn random_graphs_all_free(n in 1usize..25, raw in proptest::collection::vec((0usize..25, 0usize..25), 0..50), bases in proptest::collection::vec(0u8..100, 25)) {
            let edges: Vec<(usize, usize)> = raw.into_iter().map(|(a, b)| (a % n, b % n)).collect();
            let slots: Vec<Option<SlotSpec>> = (0..n).map(|i| Some(SlotSpec { first: Slot::Free { base: bases[i] }, second: Slot::Free { base: bases[i] } })).collect();
            match solve_order(&slots, &edges) {
                Ok(values) => {
                    check(&slots, &edges, &values, false);
                    prop_assert!(values.iter().all(|v| v.is_some_and(|v| v <= MAX_PRIORITY)));
                }
                Err(OrderError::Cycle(path)) => prop_assert!(is_cycle(&path, &edges), "{path:?} {edges:?}"),
                Err(e) => prop_assert!(false, "unexpected {e:?}"),
            }
        }

        /// Random graphs with fixed nodes (current links) and targets: every edge that
        /// involves a moving node holds, in the phase that succeeded; and when the
        /// current numbers already satisfy every edge, nobody but the targets moves.
        #[test]
        fn random_graphs_with_fixed_nodes(
            n in 1usize..20,
            raw in proptest::collection::vec((0usize..20, 0usize..20), 0..30),
            kinds in proptest::collection::vec((0u8..4, 0u8..100, 0u8..100), 20),
        ) {
            let edges: Vec<(usize, usize)> = raw.into_iter().map(|(a, b)| (a % n, b % n)).filter(|(a, b)| a != b).collect();
            let slots: Vec<Option<SlotSpec>> = (0..n).map(|i| {
                let (k, x, y) = kinds[i];
                let (lo, hi) = (x.min(y), x.max(y));
                Some(match k {
                    0 => SlotSpec { first: Slot::Free { base: x }, second: Slot::Free { base: x } },
                    1 => SlotSpec { first: Slot::Fixed { lo, hi }, second: Slot::Free { base: hi } },
                    2 => SlotSpec { first: Slot::Fixed { lo, hi }, second: Slot::Fixed { lo, hi } },
                    _ => SlotSpec { first: Slot::Fixed { lo: x, hi: x }, second: Slot::Free { base: x } },
                })
            }).collect();
            let first: Vec<Option<Slot>> = slots.iter().map(|s| s.map(|s| s.first)).collect();
            match solve_order(&slots, &edges) {
                Ok(values) => {
                    let first_ok = solve_phase(&first, &edges).is_ok();
                    check(&slots, &edges, &values, !first_ok);
                }
                Err(OrderError::Cycle(path)) => prop_assert!(is_cycle(&path, &edges)),
                Err(OrderError::NoRoom { node, .. }) => prop_assert!(node < n),
            }
        }

        /// The headers of a whole system, through names, provides and facilities.
        #[test]
        fn random_systems_respect_every_dependency(
            n in 2usize..15,
            deps in proptest::collection::vec(proptest::collection::vec(0usize..15, 0..3), 15),
            linked in proptest::collection::vec(any::<bool>(), 15),
            t in 0usize..15,
        ) {
            let nodes: Vec<Node> = (0..n).map(|i| {
                let names: Vec<String> = deps[i].iter().map(|d| format!("s{}", d % n)).collect();
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                let base = node(&format!("s{i}"), &refs);
                if i == t % n { target(base, 50, 50) } else if linked[i] { configured(base, 50, 50) } else { base }
            }).collect();
            match solve_nodes(nodes.clone()) {
                Ok(sol) => {
                    let value = |m: &BTreeMap<String, u8>, nd: &Node, keep: Option<(u8, u8)>| m.get(&nd.name).copied().or(keep.map(|k| k.0));
                    for a in &nodes {
                        for d in &a.deps.required_start {
                            let b = nodes.iter().find(|x| &x.name == d).unwrap();
                            if a.name == b.name { continue; }
                            let (sa, sb) = (value(&sol.start, a, a.start.keep), value(&sol.start, b, b.start.keep));
                            let (ka, kb) = (value(&sol.stop, a, a.stop.keep), value(&sol.stop, b, b.stop.keep));
                            if let (Some(sa), Some(sb), Some(ka), Some(kb)) = (sa, sb, ka, kb) {
                                prop_assert!(sa > sb, "{} after {}: {sa} {sb}", a.name, b.name);
                                prop_assert!(ka < kb, "{} stops before {}: {ka} {kb}", a.name, b.name);
                            }
                        }
                    }
                }
                Err(SolveError::Cycle { path, .. }) => prop_assert!(path.len() >= 2),
                Err(e) => prop_assert!(false, "{e}"),
            }
        }
    }
}
