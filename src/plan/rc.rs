//! The rc planner: which scripts run, with which argument, in which order, when the
//! system goes from one runlevel to another. Data in, plan out; nothing here touches
//! the system.
//!
//! Order: every K link before every S link; within each, by the two-digit number, then
//! by service name in byte order. K links get `stop`; S links get `start`, except in
//! levels 0 and 6 where they get `stop`. At boot (no previous level) no K link runs.
//!
//! Two skip policies exist in the wild:
//! - [`SkipPolicy::RunAll`] (Debian's sysv-rc 3.06): every link runs. The default: it is
//!   safe for any script, because init scripts must tolerate `start` when running and
//!   `stop` when stopped, and it never leaves a service running at shutdown just because
//!   its script does not keep a lock file (Debian's scripts do not).
//! - [`SkipPolicy::Subsys`] (Red Hat's rc): a `stop` runs only if the service's lock file
//!   `var/lock/subsys/NAME` (or `NAME.init`) exists; a `start` is skipped if it exists.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::format::rclink::{LinkKind, RcLink};
use crate::format::runlevel::Runlevel;

/// A usable link of an rc directory: its parsed name and the script it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RcEntry {
    pub link: RcLink,
    pub script: PathBuf,
}

/// The argument a script is run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Start,
    Stop,
}

impl Action {
    pub fn arg(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
        }
    }

    /// "Starting" / "Stopping", for messages.
    pub fn verb(self) -> &'static str {
        match self {
            Action::Start => "Starting",
            Action::Stop => "Stopping",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SkipPolicy {
    #[default]
    RunAll,
    Subsys,
}

impl SkipPolicy {
    pub fn parse(s: &str) -> Result<SkipPolicy, String> {
        match s {
            "run-all" | "debian" => Ok(SkipPolicy::RunAll),
            "subsys" | "redhat" => Ok(SkipPolicy::Subsys),
            _ => Err(format!(
                "unknown skip policy \"{s}\": expected run-all or subsys"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SkipPolicy::RunAll => "run-all",
            SkipPolicy::Subsys => "subsys",
        }
    }
}

/// One script run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub link: RcLink,
    pub script: PathBuf,
    pub action: Action,
}

impl Step {
    pub fn service(&self) -> &str {
        &self.link.service
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// K links do not run at boot: nothing has been started yet.
    Boot,
    /// Subsys policy: the lock file says the service already runs.
    AlreadyRunning,
    /// Subsys policy: no lock file, so there is nothing to stop.
    NotRunning,
}

impl SkipReason {
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::Boot => "K links do not run at boot",
            SkipReason::AlreadyRunning => "lock file present: already running",
            SkipReason::NotRunning => "no lock file: not running",
        }
    }
}

/// The plan for one runlevel change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RcPlan {
    pub level: Runlevel,
    pub previous: Option<Runlevel>,
    pub policy: SkipPolicy,
    /// What runs, in order.
    pub steps: Vec<Step>,
    /// What does not run and why, in the same order the links would have run.
    pub skipped: Vec<(Step, SkipReason)>,
}

/// Everything the planner needs to know about the system.
pub struct PlanInput<'a> {
    pub level: Runlevel,
    pub previous: Option<Runlevel>,
    pub policy: SkipPolicy,
    pub entries: &'a [RcEntry],
    /// Names of the files in `var/lock/subsys` (consulted only by the subsys policy).
    pub locks: &'a BTreeSet<String>,
}

/// Plans a runlevel change.
pub fn plan(input: &PlanInput) -> RcPlan {
    let mut ordered: Vec<&RcEntry> = input.entries.iter().collect();
    ordered.sort_by(|a, b| {
        (a.link.kind, a.link.priority, a.link.service.as_bytes()).cmp(&(
            b.link.kind,
            b.link.priority,
            b.link.service.as_bytes(),
        ))
    });
    let mut out = RcPlan {
        level: input.level,
        previous: input.previous,
        policy: input.policy,
        steps: Vec::new(),
        skipped: Vec::new(),
    };
    for entry in ordered {
        let step = Step {
            link: entry.link.clone(),
            script: entry.script.clone(),
            action: action_for(input.level, entry.link.kind),
        };
        match skip_reason(input, &step) {
            Some(reason) => out.skipped.push((step, reason)),
            None => out.steps.push(step),
        }
    }
    out
}

fn action_for(level: Runlevel, kind: LinkKind) -> Action {
    match kind {
        LinkKind::Kill => Action::Stop,
        LinkKind::Start if level.is_shutdown() => Action::Stop,
        LinkKind::Start => Action::Start,
    }
}

fn skip_reason(input: &PlanInput, step: &Step) -> Option<SkipReason> {
    if step.link.kind == LinkKind::Kill && input.previous.is_none() {
        return Some(SkipReason::Boot);
    }
    if input.policy == SkipPolicy::RunAll {
        return None;
    }
    let service = step.service();
    let locked = input.locks.contains(service) || input.locks.contains(&format!("{service}.init"));
    match (step.action, locked) {
        (Action::Start, true) => Some(SkipReason::AlreadyRunning),
        (Action::Stop, false) => Some(SkipReason::NotRunning),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(name: &str) -> RcEntry {
        let link = match crate::format::rclink::parse_link_name(name) {
            crate::format::rclink::LinkName::Link(l) => l,
            other => panic!("{other:?}"),
        };
        RcEntry {
            script: PathBuf::from(format!("/etc/init.d/{}", link.service)),
            link,
        }
    }

    fn level(c: char) -> Runlevel {
        Runlevel::from_char(c).unwrap()
    }

    fn names(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| format!("{}:{}", s.link, s.action.arg()))
            .collect()
    }

    fn run(
        lv: char,
        prev: Option<char>,
        policy: SkipPolicy,
        links: &[&str],
        locks: &[&str],
    ) -> RcPlan {
        let entries: Vec<RcEntry> = links.iter().map(|n| entry(n)).collect();
        let locks: BTreeSet<String> = locks.iter().map(|s| s.to_string()).collect();
        plan(&PlanInput {
            level: level(lv),
            previous: prev.map(level),
            policy,
            entries: &entries,
            locks: &locks,
        })
    }

    const LINKS: &[&str] = &[
        "S20b", "K80x", "S20a", "S10z", "K05y", "S20B", "K80w", "S99last",
    ];

    #[test]
    fn kill_before_start_by_number_then_byte_order() {
        let p = run('3', Some('2'), SkipPolicy::RunAll, LINKS, &[]);
        assert_eq!(
            names(&p.steps),
            [
                "K05y:stop",
                "K80w:stop",
                "K80x:stop",
                "S10z:start",
                "S20B:start",
                "S20a:start",
                "S20b:start",
                "S99last:start"
            ]
        );
        assert!(p.skipped.is_empty());
    }

    #[test]
    fn boot_runs_no_kill_links() {
        let p = run('3', None, SkipPolicy::RunAll, LINKS, &[]);
        assert!(p.steps.iter().all(|s| s.link.kind == LinkKind::Start));
        assert_eq!(p.skipped.len(), 3);
        assert!(p.skipped.iter().all(|(_, r)| *r == SkipReason::Boot));
    }

    #[test]
    fn shutdown_levels_stop_their_start_links() {
        for lv in ['0', '6'] {
            let p = run(
                lv,
                Some('3'),
                SkipPolicy::RunAll,
                &["S01halt", "K20net"],
                &[],
            );
            assert_eq!(names(&p.steps), ["K20net:stop", "S01halt:stop"]);
        }
        let p = run('S', Some('3'), SkipPolicy::RunAll, &["S01single"], &[]);
        assert_eq!(names(&p.steps), ["S01single:start"]);
    }

    #[test]
    fn subsys_policy_follows_the_lock_files() {
        let links = ["K10up", "K10down", "S20up", "S20down", "K30legacy"];
        let p = run(
            '3',
            Some('5'),
            SkipPolicy::Subsys,
            &links,
            &["up", "legacy.init"],
        );
        assert_eq!(
            names(&p.steps),
            ["K10up:stop", "K30legacy:stop", "S20down:start"]
        );
        let skipped: Vec<(String, SkipReason)> = p
            .skipped
            .iter()
            .map(|(s, r)| (s.link.to_string(), *r))
            .collect();
        assert_eq!(
            skipped,
            [
                ("K10down".to_string(), SkipReason::NotRunning),
                ("S20up".to_string(), SkipReason::AlreadyRunning),
            ]
        );
        // At shutdown the S links stop, so they too need the lock.
        let p = run(
            '0',
            Some('3'),
            SkipPolicy::Subsys,
            &["S01up", "S01down"],
            &["up"],
        );
        assert_eq!(names(&p.steps), ["S01up:stop"]);
    }

    /// Every level × every previous level × both policies × every lock subset.
    #[test]
    fn exhaustive_properties() {
        let links = ["K10a", "K10b", "S20a", "S20c", "K50c", "S05b"];
        let services = ["a", "b", "c"];
        let levels = "0123456S";
        for lv in levels.chars() {
            for prev in std::iter::once(None).chain(levels.chars().map(Some)) {
                for policy in [SkipPolicy::RunAll, SkipPolicy::Subsys] {
                    for mask in 0..8u8 {
                        let locks: Vec<&str> = services
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| mask & (1 << i) != 0)
                            .map(|(_, s)| *s)
                            .collect();
                        let p = run(lv, prev, policy, &links, &locks);
                        check_properties(&p, &links, &locks);
                    }
                }
            }
        }
    }

    fn check_properties(p: &RcPlan, links: &[&str], locks: &[&str]) {
        // Nothing lost, nothing doubled.
        assert_eq!(p.steps.len() + p.skipped.len(), links.len());
        // K strictly before S, and sorted within.
        let keys: Vec<(LinkKind, u8, Vec<u8>)> = p
            .steps
            .iter()
            .map(|s| {
                (
                    s.link.kind,
                    s.link.priority,
                    s.link.service.clone().into_bytes(),
                )
            })
            .collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{keys:?}");
        for s in &p.steps {
            let expected = match s.link.kind {
                LinkKind::Kill => Action::Stop,
                LinkKind::Start if p.level.is_shutdown() => Action::Stop,
                LinkKind::Start => Action::Start,
            };
            assert_eq!(s.action, expected);
            if p.previous.is_none() {
                assert_eq!(s.link.kind, LinkKind::Start);
            }
            if p.policy == SkipPolicy::Subsys {
                let locked = locks.contains(&s.service());
                assert_eq!(locked, s.action == Action::Stop, "{p:?}");
            }
        }
        for (s, reason) in &p.skipped {
            match reason {
                SkipReason::Boot => assert!(p.previous.is_none() && s.link.kind == LinkKind::Kill),
                _ => assert_eq!(p.policy, SkipPolicy::Subsys),
            }
        }
        if p.policy == SkipPolicy::RunAll && p.previous.is_some() {
            assert!(p.skipped.is_empty());
        }
    }

    proptest! {
        #[test]
        fn random_trees_keep_the_properties(
            raw in proptest::collection::btree_set(("[SK]", 0u8..100, "[a-e]{1,2}"), 0..30),
            lv in 0usize..8, prev in 0usize..9, subsys in any::<bool>(), lockmask in any::<u32>(),
        ) {
            let links: Vec<String> = raw.iter().map(|(k, n, s)| format!("{k}{n:02}{s}")).collect();
            let refs: Vec<&str> = links.iter().map(String::as_str).collect();
            let services: BTreeSet<&str> = raw.iter().map(|(_, _, s)| s.as_str()).collect();
            let locks: Vec<&str> = services.iter().enumerate().filter(|(i, _)| lockmask & (1 << (i % 32)) != 0).map(|(_, s)| *s).collect();
            let lvc = "0123456S".chars().nth(lv).unwrap();
            let prevc = "0123456S".chars().nth(prev);
            let policy = if subsys { SkipPolicy::Subsys } else { SkipPolicy::RunAll };
            let p = run(lvc, prevc, policy, &refs, &locks);
            check_properties(&p, &refs, &locks);
        }
    }
}
