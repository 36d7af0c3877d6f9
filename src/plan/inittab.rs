//! Which inittab entries init starts and kills: the sysvinit rules as pure functions.
//!
//! - Boot: `sysinit` entries, then `boot`/`bootwait`, then the default level.
//! - Entries are considered in file order; a wait-type entry (sysinit, bootwait, wait,
//!   powerwait, powerfailnow, powerokwait, ctrlaltdel) blocks every later entry until it
//!   has exited.
//! - `once`/`wait` run once per entry into a level (re-entering the level runs them
//!   again); `respawn`/`ondemand` are restarted whenever they exit.
//! - `ondemand` entries run when `telinit a|b|c` names a letter of theirs, and live across
//!   level changes except to S.
//! - A level change kills every running entry that is not for the new level (boot entries
//!   never; demanded ondemand entries only when going to S).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::format::inittab::{Action, InittabEntry};
use crate::format::runlevel::Runlevel;

/// What init is doing at the top level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Running the `sysinit` entries.
    Sysinit,
    /// Running the `boot` and `bootwait` entries.
    Boot,
    Level(Runlevel),
}

/// What init knows about one entry (parallel to the table, by index).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntryState {
    /// A process of this entry is alive.
    pub running: bool,
    /// Started since the current level (or boot stage) was entered.
    pub executed: bool,
    /// Respawning too fast: disabled for now.
    pub failing: bool,
    /// An on-demand letter of this entry was requested (`telinit a|b|c`).
    pub demanded: bool,
    /// Its event (power status, Ctrl-Alt-Del, keyboard request) happened.
    pub triggered: bool,
}

/// Whether an entry should be running in `stage` (before the once-only rule).
pub fn eligible(entry: &InittabEntry, state: &EntryState, stage: Stage) -> bool {
    if entry.action.is_event() {
        let level_ok = match stage {
            Stage::Level(level) => entry.runs_in(level),
            _ => entry.levels.is_empty(),
        };
        return state.triggered && level_ok;
    }
    match (stage, entry.action) {
        (Stage::Sysinit, action) => action == Action::Sysinit,
        (Stage::Boot, action) => matches!(action, Action::Boot | Action::Bootwait),
        (Stage::Level(level), Action::Wait | Action::Once | Action::Respawn) => {
            entry.runs_in(level)
        }
        (Stage::Level(level), Action::Ondemand) => {
            entry.runs_in(level) || (state.demanded && level != Runlevel::SINGLE)
        }
        _ => false,
    }
}

/// The result of one pass over the table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StartPlan {
    /// Entries to start now, in file order.
    pub start: Vec<usize>,
    /// A wait-type entry that is running (or about to), blocking every later one.
    pub blocked_by: Option<usize>,
}

/// One pass in file order: what to start now.
pub fn plan_starts(entries: &[InittabEntry], states: &[EntryState], stage: Stage) -> StartPlan {
    let mut plan = StartPlan::default();
    for (index, (entry, state)) in entries.iter().zip(states).enumerate() {
        if state.running {
            if entry.action.is_wait() {
                plan.blocked_by = Some(index);
                break;
            }
            continue;
        }
        if state.failing || !eligible(entry, state, stage) {
            continue;
        }
        if !entry.action.respawns() && state.executed {
            continue;
        }
        plan.start.push(index);
        if entry.action.is_wait() {
            plan.blocked_by = Some(index);
            break;
        }
    }
    plan
}

/// Whether a running entry stays alive when the system enters `level`.
pub fn survives(entry: &InittabEntry, state: &EntryState, level: Runlevel) -> bool {
    match entry.action {
        Action::Sysinit | Action::Boot | Action::Bootwait => true,
        Action::Ondemand if state.demanded => level != Runlevel::SINGLE,
        Action::Off | Action::Initdefault => false,
        _ => entry.runs_in(level),
    }
}

/// The running entries to kill on entering `level`.
pub fn plan_kills(entries: &[InittabEntry], states: &[EntryState], level: Runlevel) -> Vec<usize> {
    entries
        .iter()
        .zip(states)
        .enumerate()
        .filter(|(_, (entry, state))| state.running && !survives(entry, state, level))
        .map(|(index, _)| index)
        .collect()
}

/// Carrying state across a re-read of inittab.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reload {
    /// States for the new table, by index.
    pub states: Vec<EntryState>,
    /// For each new entry, the old entry whose process (if any) it now owns.
    pub carried_from: Vec<Option<usize>>,
    /// Old entries whose running processes must be killed: deleted, or whose action
    /// changed (so `off` kills at once, and ondemand ↔ respawn restarts).
    pub kill: Vec<usize>,
}

/// Maps the old table's states onto a new table, by id.
pub fn plan_reload(
    old: &[InittabEntry],
    old_states: &[EntryState],
    new: &[InittabEntry],
) -> Reload {
    let mut reload = Reload::default();
    for entry in new {
        let previous = old.iter().position(|o| o.id == entry.id);
        match previous {
            Some(i) if old[i].action == entry.action => {
                reload.states.push(old_states[i].clone());
                reload.carried_from.push(Some(i));
            }
            _ => {
                reload.states.push(EntryState::default());
                reload.carried_from.push(None);
            }
        }
    }
    for (i, (entry, state)) in old.iter().zip(old_states).enumerate() {
        let kept = new
            .iter()
            .any(|n| n.id == entry.id && n.action == entry.action);
        if state.running && !kept {
            reload.kill.push(i);
        }
    }
    reload
}

/// sysvinit's respawn limit: more than 10 starts within 120 s disables an entry for
/// 5 minutes (`Id "x" respawning too fast: disabled for 5 minutes`).
pub const RESPAWN_LIMIT: usize = 10;
pub const RESPAWN_WINDOW: Duration = Duration::from_secs(120);
pub const RESPAWN_DISABLE: Duration = Duration::from_secs(300);

/// Start times of one entry, to throttle a crash loop.
#[derive(Clone, Debug, Default)]
pub struct Throttle {
    starts: VecDeque<Instant>,
}

impl Throttle {
    /// Records a start at `now`; false when it is one too many (the entry must be
    /// disabled for [`RESPAWN_DISABLE`]).
    pub fn allow(&mut self, now: Instant) -> bool {
        while self
            .starts
            .front()
            .is_some_and(|t| now.duration_since(*t) >= RESPAWN_WINDOW)
        {
            self.starts.pop_front();
        }
        if self.starts.len() >= RESPAWN_LIMIT {
            return false;
        }
        self.starts.push_back(now);
        true
    }

    /// The recorded start times, oldest first (handed over on re-exec).
    pub fn starts(&self) -> impl Iterator<Item = &Instant> {
        self.starts.iter()
    }

    pub fn from_starts(mut starts: Vec<Instant>) -> Throttle {
        starts.sort();
        Throttle {
            starts: starts.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::inittab::parse;

    fn level(c: char) -> Runlevel {
        Runlevel::from_char(c).unwrap()
    }

    fn table(text: &str) -> Vec<InittabEntry> {
        let (tab, errors) = parse(text, "t");
        assert!(errors.is_empty(), "{errors:?}");
        tab.entries
    }

    fn ids(entries: &[InittabEntry], indexes: &[usize]) -> Vec<String> {
        indexes.iter().map(|&i| entries[i].id.clone()).collect()
    }

    /// Runs the table to quiescence the way init does, assuming every started wait/once
    /// entry exits at once and respawn entries stay up. Returns the start order.
    fn simulate(entries: &[InittabEntry], states: &mut [EntryState], stage: Stage) -> Vec<String> {
        let mut order = Vec::new();
        loop {
            let plan = plan_starts(entries, states, stage);
            for &i in &plan.start {
                order.push(entries[i].id.clone());
                states[i].executed = true;
                states[i].triggered = false;
                states[i].running = entries[i].action.respawns();
            }
            if plan.start.is_empty() {
                assert!(plan.blocked_by.is_none());
                return order;
            }
        }
    }

    const TAB: &str = "\
id:3:initdefault:
si::sysinit:/etc/rc.sysinit
b1::boot:/bin/boot1
bw::bootwait:/bin/bootwait
l2:2:wait:/etc/rc 2
l3:3:wait:/etc/rc 3
o3:3:once:/bin/once3
r1:2345:respawn:/sbin/getty tty1
w3:3:wait:/bin/after
od:a:ondemand:/bin/demand
ca::ctrlaltdel:/sbin/shutdown -r now
pf::powerfail:/bin/pf
";

    #[test]
    fn boot_order_and_waits_block_later_entries() {
        let entries = table(TAB);
        let mut states = vec![EntryState::default(); entries.len()];
        assert_eq!(simulate(&entries, &mut states, Stage::Sysinit), ["si"]);
        assert_eq!(simulate(&entries, &mut states, Stage::Boot), ["b1", "bw"]);
        for s in states.iter_mut() {
            s.executed = false;
        }
        // Level 3: l3 blocks; o3 and r1 start together after it; w3 blocks after them.
        let plan = plan_starts(&entries, &states, Stage::Level(level('3')));
        assert_eq!(ids(&entries, &plan.start), ["l3"]);
        assert_eq!(plan.blocked_by, Some(4));
        states[4].running = true;
        states[4].executed = true;
        let plan = plan_starts(&entries, &states, Stage::Level(level('3')));
        assert!(plan.start.is_empty());
        assert_eq!(plan.blocked_by, Some(4));
        states[4].running = false;
        let plan = plan_starts(&entries, &states, Stage::Level(level('3')));
        assert_eq!(ids(&entries, &plan.start), ["o3", "r1", "w3"]);
    }

    #[test]
    fn once_and_wait_run_once_per_level_respawn_restarts() {
        let entries = table(TAB);
        let mut states = vec![EntryState::default(); entries.len()];
        let three = Stage::Level(level('3'));
        assert_eq!(
            simulate(&entries, &mut states, three),
            ["l3", "o3", "r1", "w3"]
        );
        assert!(simulate(&entries, &mut states, three).is_empty());
        // The getty exits: it is restarted, the others are not.
        states[6].running = false;
        assert_eq!(simulate(&entries, &mut states, three), ["r1"]);
        // Re-entering the level (executed flags cleared) runs once/wait again.
        for s in states.iter_mut() {
            s.executed = false;
        }
        assert_eq!(simulate(&entries, &mut states, three), ["l3", "o3", "w3"]);
    }

    #[test]
    fn failing_entries_are_skipped() {
        let entries = table("r:3:respawn:/bin/crash\n");
        let states = vec![EntryState {
            failing: true,
            ..Default::default()
        }];
        let plan = plan_starts(&entries, &states, Stage::Level(level('3')));
        assert!(plan.start.is_empty() && plan.blocked_by.is_none());
    }

    #[test]
    fn ondemand_and_events() {
        let entries = table(TAB);
        let mut states = vec![EntryState::default(); entries.len()];
        let two = Stage::Level(level('2'));
        assert_eq!(simulate(&entries, &mut states, two), ["l2", "r1"]);
        states[8].demanded = true;
        assert_eq!(simulate(&entries, &mut states, two), ["od"]);
        // Not in single user mode.
        assert!(!eligible(
            &entries[8],
            &states[8],
            Stage::Level(Runlevel::SINGLE)
        ));
        states[9].triggered = true;
        states[10].triggered = true;
        assert_eq!(simulate(&entries, &mut states, two), ["ca", "pf"]);
        // Event entries with an empty field also run in S.
        states[9].triggered = true;
        states[9].executed = false;
        assert!(eligible(
            &entries[9],
            &states[9],
            Stage::Level(Runlevel::SINGLE)
        ));
    }

    #[test]
    fn kills_on_level_change() {
        let entries = table(TAB);
        let mut states = vec![
            EntryState {
                running: true,
                ..Default::default()
            };
            entries.len()
        ];
        states[8].demanded = true;
        assert_eq!(
            ids(&entries, &plan_kills(&entries, &states, level('2'))),
            ["l3", "o3", "w3"]
        );
        assert_eq!(
            ids(&entries, &plan_kills(&entries, &states, Runlevel::SINGLE)),
            ["l2", "l3", "o3", "r1", "w3", "od"]
        );
        states[8].demanded = false;
        assert!(
            ids(&entries, &plan_kills(&entries, &states, level('3'))).contains(&"od".to_string())
        );
    }

    #[test]
    fn reload_carries_state_and_kills_changed_entries() {
        let old = table("a:3:respawn:/bin/a\nb:3:respawn:/bin/b\nc:3:respawn:/bin/c\n");
        let states = vec![
            EntryState {
                running: true,
                ..Default::default()
            };
            3
        ];
        let new = table("c:3:respawn:/bin/c --new\nb:3:off:/bin/b\nd:3:once:/bin/d\n");
        let reload = plan_reload(&old, &states, &new);
        assert_eq!(reload.carried_from, [Some(2), None, None]);
        assert!(reload.states[0].running && !reload.states[1].running);
        assert_eq!(ids(&old, &reload.kill), ["a", "b"]);
    }

    #[test]
    fn throttle_allows_ten_starts_per_window() {
        let mut t = Throttle::default();
        let start = Instant::now();
        for i in 0..10 {
            assert!(t.allow(start + Duration::from_secs(i)));
        }
        assert!(!t.allow(start + Duration::from_secs(11)));
        // Once the first starts leave the window, starts are allowed again.
        assert!(t.allow(start + Duration::from_secs(121)));
    }

    /// Every table of a few generated entries, through every stage: the plan never
    /// starts a running entry, never passes a running wait entry, and keeps file order.
    #[test]
    fn exhaustive_small_tables() {
        let actions = [
            "wait", "once", "respawn", "ondemand", "boot", "bootwait", "sysinit", "off",
        ];
        let levels = ["", "3", "S", "a", "35"];
        let stages = [
            Stage::Sysinit,
            Stage::Boot,
            Stage::Level(level('3')),
            Stage::Level(Runlevel::SINGLE),
        ];
        for a1 in actions {
            for a2 in actions {
                for l1 in levels {
                    for l2 in levels {
                        let text =
                            format!("e1:{l1}:{a1}:/bin/x\ne2:{l2}:{a2}:/bin/y\ne3:3:wait:/bin/z\n");
                        let entries = table(&text);
                        for running_mask in 0..8u8 {
                            let states: Vec<EntryState> = (0..3)
                                .map(|i| EntryState {
                                    running: running_mask & (1 << i) != 0,
                                    demanded: true,
                                    ..Default::default()
                                })
                                .collect();
                            for stage in stages {
                                let plan = plan_starts(&entries, &states, stage);
                                assert!(plan.start.windows(2).all(|w| w[0] < w[1]));
                                for &i in &plan.start {
                                    assert!(!states[i].running);
                                    assert!(eligible(&entries[i], &states[i], stage));
                                    let earlier_wait = (0..i)
                                        .any(|j| states[j].running && entries[j].action.is_wait());
                                    assert!(!earlier_wait, "{text} {stage:?} {running_mask}");
                                }
                                if let Some(b) = plan.blocked_by {
                                    assert!(entries[b].action.is_wait());
                                    assert!(plan.start.iter().all(|&i| i <= b));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
