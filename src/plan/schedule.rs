//! A level change as a graph of scripts: which script may start as soon as which others
//! have finished. The rc planner says what runs and in which sequential order; this says
//! what may run at the same time.
//!
//! A level change has phases that run one after another: every K link, then every S
//! link (as with a sequential rc). Within a phase:
//! - a script whose order is declared (an LSB header, or a line of Debian's
//!   `.depend.*` file) runs after what it depends on (see `plan::deps`), and needs no
//!   other order: its link number only encoded those dependencies;
//! - a script that declares nothing keeps its place in the numeric order: it runs after
//!   every script with a lower number, and every script with a higher number runs after
//!   it;
//! - a dependency cycle (headers contradicting each other) is broken by the link
//!   numbers, and reported.

use std::collections::{BTreeMap, BTreeSet};

use crate::format::depend::DependFile;
use crate::format::facilities::Facilities;
use crate::format::header::Dependencies;
use crate::plan::deps::{self, Kind};
use crate::plan::rc::{Action, RcPlan, Step};

/// What a script declares about its order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScriptOrder {
    /// Its own name, then its `Provides`.
    pub provides: Vec<String>,
    pub deps: Dependencies,
    /// It has an LSB block: its dependencies, not its number, place it.
    pub declared: bool,
    /// `X-Interactive: true`: it needs the console to itself.
    pub interactive: bool,
}

impl ScriptOrder {
    /// A script that says nothing (no header, or none readable).
    pub fn undeclared(name: &str) -> ScriptOrder {
        ScriptOrder {
            provides: vec![name.to_string()],
            ..ScriptOrder::default()
        }
    }
}

impl deps::Service for ScriptOrder {
    fn provides(&self) -> &[String] {
        &self.provides
    }
    fn deps(&self) -> &Dependencies {
        &self.deps
    }
}

/// Where the order within a phase comes from.
#[derive(Clone, Copy, Debug)]
pub enum OrderSource<'a> {
    /// One script after the other, in the plan's order.
    Sequential,
    /// The scripts' headers (by service name) and insserv.conf's facilities.
    Headers {
        scripts: &'a BTreeMap<String, ScriptOrder>,
        facilities: Option<&'a Facilities>,
    },
    /// Debian's `.depend.boot`, `.depend.start` or `.depend.stop`, as startpar reads it.
    Depend(&'a DependFile),
}

/// One phase: its steps, and for each what must have finished before it begins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Phase {
    pub steps: Vec<Step>,
    /// Indices into `steps`, each list sorted.
    pub after: Vec<Vec<usize>>,
    pub interactive: Vec<bool>,
    /// Cycles broken by link numbers.
    pub problems: Vec<String>,
}

/// The plan's steps split into its phases (K links, then S links), in order.
pub fn phases(plan: &RcPlan) -> Vec<Vec<Step>> {
    plan.steps
        .chunk_by(|a, b| a.link.kind == b.link.kind)
        .map(<[Step]>::to_vec)
        .collect()
}

/// The dependency order of a phase's scripts.
pub fn kind_of(steps: &[Step]) -> Kind {
    match steps.first().map(|s| s.action) {
        Some(Action::Stop) => Kind::Stop,
        _ => Kind::Start,
    }
}

/// Schedules one phase (all its steps of one link kind, in the plan's order).
pub fn schedule(steps: Vec<Step>, source: &OrderSource) -> Phase {
    let n = steps.len();
    let mut edges: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut declared = vec![false; n];
    let mut interactive = vec![false; n];
    match source {
        OrderSource::Sequential => edges.extend((1..n).map(|i| (i, i - 1))),
        OrderSource::Headers {
            scripts,
            facilities,
        } => {
            let orders: Vec<ScriptOrder> = steps
                .iter()
                .map(|s| {
                    scripts
                        .get(s.service())
                        .cloned()
                        .unwrap_or_else(|| ScriptOrder::undeclared(s.service()))
                })
                .collect();
            for (i, o) in orders.iter().enumerate() {
                declared[i] = o.declared;
                interactive[i] = o.interactive;
            }
            let graph = deps::Graph::new(&orders, *facilities);
            edges.extend(graph.edges(kind_of(&steps), |_| true));
        }
        OrderSource::Depend(file) => {
            for (i, step) in steps.iter().enumerate() {
                let name = step.service();
                declared[i] = file.targets.contains(name);
                interactive[i] = file.interactive.contains(name);
                for dep in file.after(name) {
                    let providers = steps.iter().enumerate().filter(|(_, s)| s.service() == dep);
                    edges.extend(providers.map(|(j, _)| (i, j)).filter(|(a, b)| a != b));
                }
            }
        }
    }
    if !matches!(source, OrderSource::Sequential) {
        add_numeric_places(&steps, &declared, &mut edges);
    }
    let problems = break_cycles(&steps, &mut edges);
    let mut after = vec![Vec::new(); n];
    for (a, b) in edges {
        after[a].push(b);
    }
    Phase {
        steps,
        after,
        interactive,
        problems,
    }
}

/// A script that declares nothing runs after every lower number and before every
/// higher one.
fn add_numeric_places(steps: &[Step], declared: &[bool], edges: &mut BTreeSet<(usize, usize)>) {
    for (i, step) in steps.iter().enumerate().filter(|(i, _)| !declared[*i]) {
        for (j, other) in steps.iter().enumerate() {
            if other.link.priority < step.link.priority {
                edges.insert((i, j));
            } else if other.link.priority > step.link.priority {
                edges.insert((j, i));
            }
        }
    }
}

/// The sequential order of two steps: by number, then name (then position, so that it
/// is strict).
fn key(steps: &[Step], i: usize) -> (u8, &[u8], usize) {
    (steps[i].link.priority, steps[i].service().as_bytes(), i)
}

/// Removes, from every cycle, the edges that go against the sequential order; returns
/// a message per cycle. What is left is acyclic: every remaining edge inside a former
/// cycle agrees with one strict order.
fn break_cycles(steps: &[Step], edges: &mut BTreeSet<(usize, usize)>) -> Vec<String> {
    let stuck = unordered(steps.len(), edges);
    if stuck.is_empty() {
        return Vec::new();
    }
    let names: Vec<&str> = stuck.iter().map(|&i| steps[i].service()).collect();
    edges.retain(|&(a, b)| {
        !(stuck.contains(&a) && stuck.contains(&b) && key(steps, a) < key(steps, b))
    });
    vec![format!(
        "dependency cycle among {}: ordered by their link numbers",
        names.join(", ")
    )]
}

/// The nodes Kahn's algorithm cannot order (on or behind a cycle), sorted.
fn unordered(n: usize, edges: &BTreeSet<(usize, usize)>) -> BTreeSet<usize> {
    let mut waiting = vec![0usize; n];
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in edges.iter() {
        waiting[a] += 1;
        next[b].push(a);
    }
    let mut ready: Vec<usize> = (0..n).filter(|i| waiting[*i] == 0).collect();
    let mut done = vec![false; n];
    while let Some(i) = ready.pop() {
        done[i] = true;
        for &j in &next[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.push(j);
            }
        }
    }
    (0..n).filter(|i| !done[*i]).collect()
}

impl Phase {
    /// The steps by depth: batch k holds what has a chain of k steps before it (what
    /// could run together if nothing took longer than anything else).
    pub fn batches(&self) -> Vec<Vec<usize>> {
        let mut depth = vec![0usize; self.steps.len()];
        let mut order: Vec<usize> = (0..self.steps.len()).collect();
        // Predecessors first: a topological order (the graph is acyclic).
        order.sort_by_key(|&i| self.rank()[i]);
        for &i in &order {
            depth[i] = self.after[i]
                .iter()
                .map(|&p| depth[p] + 1)
                .max()
                .unwrap_or(0);
        }
        let mut out: Vec<Vec<usize>> = Vec::new();
        for &i in &order {
            if out.len() <= depth[i] {
                out.resize(depth[i] + 1, Vec::new());
            }
            out[depth[i]].push(i);
        }
        for batch in &mut out {
            batch.sort_by_key(|&i| key(&self.steps, i));
        }
        out
    }

    /// Each step's position in a topological order.
    fn rank(&self) -> Vec<usize> {
        let n = self.steps.len();
        let mut waiting: Vec<usize> = self.after.iter().map(Vec::len).collect();
        let mut next: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (a, preds) in self.after.iter().enumerate() {
            for &b in preds {
                next[b].push(a);
            }
        }
        let mut ready: Vec<usize> = (0..n).filter(|i| waiting[*i] == 0).collect();
        let mut rank = vec![usize::MAX; n];
        let mut position = 0;
        while let Some(i) = ready.pop() {
            rank[i] = position;
            position += 1;
            for &j in &next[i] {
                waiting[j] -= 1;
                if waiting[j] == 0 {
                    ready.push(j);
                }
            }
        }
        rank
    }
}

/// A script that started this long after the run began was held up by something.
const HELD_UP_US: u64 = 2_000;

/// What each script of a run waited for — the script whose end let it start — and the
/// critical path: the chain of those waits behind the script that ended last, first to
/// last. `after` lists each script's predecessors in the graph; a script without any
/// that still started late waited for a free slot or for the previous phase: the script
/// that ended last before it started. Times are from the start of the run.
pub fn waits_and_critical_path(
    after: &[Vec<usize>],
    start_us: &[u64],
    end_us: &[u64],
) -> (Vec<Option<usize>>, Vec<usize>) {
    let n = start_us.len();
    let latest =
        |candidates: &mut dyn Iterator<Item = usize>| candidates.max_by_key(|&j| (end_us[j], j));
    let waited: Vec<Option<usize>> = (0..n)
        .map(|i| {
            let preds = after.get(i).map(Vec::as_slice).unwrap_or_default();
            if !preds.is_empty() {
                return latest(&mut preds.iter().copied().filter(|&j| j < n));
            }
            if start_us[i] < HELD_UP_US {
                return None;
            }
            latest(&mut (0..n).filter(|&j| j != i && end_us[j] <= start_us[i]))
        })
        .collect();
    let mut path = Vec::new();
    let mut at = (0..n).max_by_key(|&j| (end_us[j], j));
    while let Some(i) = at {
        if path.contains(&i) {
            break;
        }
        path.push(i);
        at = waited[i];
    }
    path.reverse();
    (waited, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::runlevel::Runlevel;
    use crate::plan::rc::{plan, PlanInput, RcEntry, SkipPolicy};
    use proptest::prelude::*;
    use std::path::PathBuf;

    fn entries(links: &[&str]) -> Vec<RcEntry> {
        links
            .iter()
            .map(|name| {
                let link = match crate::format::rclink::parse_link_name(name) {
                    crate::format::rclink::LinkName::Link(l) => l,
                    other => panic!("{other:?}"),
                };
                RcEntry {
                    script: PathBuf::from(format!("/etc/init.d/{}", link.service)),
                    link,
                }
            })
            .collect()
    }

    fn steps(level: char, previous: Option<char>, links: &[&str]) -> Vec<Vec<Step>> {
        let entries = entries(links);
        let locks = BTreeSet::new();
        let p = plan(&PlanInput {
            level: Runlevel::from_char(level).unwrap(),
            previous: previous.and_then(Runlevel::from_char),
            policy: SkipPolicy::RunAll,
            entries: &entries,
            locks: &locks,
        });
        phases(&p)
    }

    fn lsb(name: &str, requires: &[&str]) -> (String, ScriptOrder) {
        let words = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        (
            name.to_string(),
            ScriptOrder {
                provides: vec![name.to_string()],
                deps: Dependencies {
                    required_start: words(requires),
                    required_stop: words(requires),
                    ..Dependencies::default()
                },
                declared: true,
                interactive: false,
            },
        )
    }

    /// `name: pred pred` per step, for readable assertions.
    fn shape(phase: &Phase) -> Vec<String> {
        (0..phase.steps.len())
            .map(|i| {
                let preds: Vec<&str> = phase.after[i]
                    .iter()
                    .map(|&p| phase.steps[p].service())
                    .collect();
                format!("{}:{}", phase.steps[i].service(), preds.join(","))
            })
            .collect()
    }

    #[test]
    fn phases_put_every_kill_link_before_every_start_link() {
        let p = steps('3', Some('2'), &["S10a", "K20b", "S05c", "K01d"]);
        let names: Vec<Vec<&str>> = p
            .iter()
            .map(|ph| ph.iter().map(|s| s.service()).collect())
            .collect();
        assert_eq!(names, [vec!["d", "b"], vec!["c", "a"]]);
        assert_eq!(kind_of(&p[0]), Kind::Stop);
        assert_eq!(kind_of(&p[1]), Kind::Start);
        // In level 0 S links stop too.
        assert_eq!(kind_of(&steps('0', Some('3'), &["S10a"])[0]), Kind::Stop);
    }

    #[test]
    fn sequential_is_a_chain() {
        let p = steps('3', None, &["S10a", "S10b", "S20c"]).remove(0);
        let phase = schedule(p, &OrderSource::Sequential);
        assert_eq!(shape(&phase), ["a:", "b:a", "c:b"]);
        assert_eq!(phase.batches(), [vec![0], vec![1], vec![2]]);
    }

    #[test]
    fn declared_scripts_follow_their_dependencies_not_their_numbers() {
        let scripts: BTreeMap<String, ScriptOrder> = [
            lsb("mountall", &[]),
            lsb("network", &[]),
            lsb("cron", &["$remote_fs"]),
            lsb("ssh", &["$network"]),
        ]
        .into_iter()
        .collect();
        let mut facilities = Facilities::default();
        facilities.add_file("$remote_fs mountall\n$network network\n");
        let p = steps(
            '2',
            None,
            &["S01mountall", "S01network", "S02cron", "S03ssh"],
        )
        .remove(0);
        let phase = schedule(
            p,
            &OrderSource::Headers {
                scripts: &scripts,
                facilities: Some(&facilities),
            },
        );
        assert_eq!(
            shape(&phase),
            ["mountall:", "network:", "cron:mountall", "ssh:network"]
        );
        assert_eq!(phase.batches(), [vec![0, 1], vec![2, 3]]);
        assert!(phase.problems.is_empty());
    }

    #[test]
    fn stopping_runs_the_graph_in_reverse() {
        let scripts: BTreeMap<String, ScriptOrder> =
            [lsb("mountall", &[]), lsb("cron", &["mountall"])]
                .into_iter()
                .collect();
        let p = steps('0', Some('2'), &["K01cron", "K05mountall"]).remove(0);
        let phase = schedule(
            p,
            &OrderSource::Headers {
                scripts: &scripts,
                facilities: None,
            },
        );
        assert_eq!(shape(&phase), ["cron:", "mountall:cron"]);
    }

    #[test]
    fn a_script_without_a_header_keeps_its_numeric_place() {
        let scripts: BTreeMap<String, ScriptOrder> = [lsb("a", &[]), lsb("c", &[]), lsb("e", &[])]
            .into_iter()
            .collect();
        let p = steps('2', None, &["S10a", "S20legacy", "S20b", "S30c", "S05e"]).remove(0);
        let phase = schedule(
            p,
            &OrderSource::Headers {
                scripts: &scripts,
                facilities: None,
            },
        );
        // legacy after e and a (lower numbers), c after legacy; b (no header either) is
        // at the same number as legacy: no order between them.
        assert_eq!(
            shape(&phase),
            ["e:", "a:", "b:e,a", "legacy:e,a", "c:b,legacy"]
        );
    }

    #[test]
    fn debians_depend_file_orders_what_it_lists() {
        let (file, _) = crate::format::depend::parse(
            b"TARGETS = mountkernfs.sh checkroot.sh hostname.sh\nINTERACTIVE = checkroot.sh\ncheckroot.sh: mountkernfs.sh hostname.sh\n",
        );
        let p = steps(
            'S',
            None,
            &[
                "S01hostname.sh",
                "S01mountkernfs.sh",
                "S03checkroot.sh",
                "S10local",
            ],
        )
        .remove(0);
        let phase = schedule(p, &OrderSource::Depend(&file));
        assert_eq!(
            shape(&phase),
            [
                "hostname.sh:",
                "mountkernfs.sh:",
                "checkroot.sh:hostname.sh,mountkernfs.sh",
                "local:hostname.sh,mountkernfs.sh,checkroot.sh"
            ]
        );
        assert_eq!(phase.interactive, [false, false, true, false]);
    }

    #[test]
    fn a_cycle_is_broken_by_the_numbers_and_reported() {
        let scripts: BTreeMap<String, ScriptOrder> =
            [lsb("a", &["b"]), lsb("b", &["a"])].into_iter().collect();
        let p = steps('2', None, &["S10a", "S20b"]).remove(0);
        let phase = schedule(
            p,
            &OrderSource::Headers {
                scripts: &scripts,
                facilities: None,
            },
        );
        assert_eq!(shape(&phase), ["a:", "b:a"]);
        assert_eq!(
            phase.problems,
            ["dependency cycle among a, b: ordered by their link numbers"]
        );
    }

    #[test]
    fn the_critical_path_follows_the_latest_ends() {
        // a (0-10), b (0-30), c after a and b (30-40), d free but late: slot (35-50).
        let after = vec![vec![], vec![], vec![0, 1], vec![]];
        let (waited, path) = waits_and_critical_path(
            &after,
            &[0, 0, 30_000, 35_000],
            &[10_000, 30_000, 40_000, 50_000],
        );
        assert_eq!(waited, [None, None, Some(1), Some(1)]);
        assert_eq!(path, [1, 3]);
    }

    proptest! {
        /// Whatever the headers say, the schedule is acyclic, covers every step, and a
        /// script without a header is never overtaken by a higher number.
        #[test]
        fn schedules_are_acyclic_and_keep_numeric_places(
            links in proptest::collection::btree_set((0u8..30, 0usize..8), 1..12),
            requires in proptest::collection::vec(proptest::collection::vec(0usize..8, 0..3), 8),
            with_header in proptest::collection::vec(any::<bool>(), 8),
        ) {
            let names: Vec<String> = links.iter().map(|(n, s)| format!("S{n:02}s{s}")).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let p = steps('2', None, &refs).remove(0);
            let scripts: BTreeMap<String, ScriptOrder> = (0..8)
                .filter(|s| with_header[*s])
                .map(|s| {
                    let req: Vec<String> = requires[s].iter().map(|r| format!("s{r}")).collect();
                    let req: Vec<&str> = req.iter().map(String::as_str).collect();
                    lsb(&format!("s{s}"), &req)
                })
                .collect();
            let phase = schedule(p, &OrderSource::Headers { scripts: &scripts, facilities: None });
            let batches = phase.batches();
            let mut seen: Vec<usize> = batches.concat();
            seen.sort();
            prop_assert_eq!(seen, (0..phase.steps.len()).collect::<Vec<_>>());
            for (i, step) in phase.steps.iter().enumerate() {
                if !scripts.contains_key(step.service()) {
                    for (j, other) in phase.steps.iter().enumerate() {
                        if other.link.priority < step.link.priority {
                            prop_assert!(phase.after[i].contains(&j));
                        }
                    }
                }
            }
        }
    }
}
