//! From the links a service has in one rc directory to the one it should have: the
//! fewest operations, each leaving the service with at most one link of the old set or
//! exactly the new one — never none where it should have one, never both an `S` and a
//! `K` link at once.

use crate::format::link_journal::LinkOp;
use crate::format::runlevel::Runlevel;

/// The operations turning `current` (the service's link names in `level`) into
/// `wanted`. A new link points at `target`.
pub(crate) fn level_ops(
    level: Runlevel,
    current: &[String],
    wanted: Option<&str>,
    target: &str,
) -> Vec<LinkOp> {
    let remove = |name: &String| LinkOp::Remove {
        level,
        name: name.clone(),
    };
    let Some(wanted) = wanted else {
        return current.iter().map(remove).collect();
    };
    if current.iter().any(|c| c == wanted) {
        return current
            .iter()
            .filter(|c| *c != wanted)
            .map(remove)
            .collect();
    }
    match current.split_first() {
        // Extra links go first, so the rename is the step that switches old to new.
        Some((keep, extra)) => extra
            .iter()
            .map(remove)
            .chain([LinkOp::Rename {
                level,
                from: keep.clone(),
                to: wanted.to_string(),
            }])
            .collect(),
        None => vec![LinkOp::Create {
            level,
            name: wanted.to_string(),
            target: target.to_string(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn lv() -> Runlevel {
        Runlevel::from_char('3').unwrap()
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// Applies the ops to a set of names, checking the invariant after every step.
    fn simulate(current: &[String], ops: &[LinkOp], wanted: Option<&str>) -> BTreeSet<String> {
        let mut set: BTreeSet<String> = current.iter().cloned().collect();
        let had_wanted = wanted.is_some_and(|w| set.contains(w));
        for (i, op) in ops.iter().enumerate() {
            match op {
                LinkOp::Create { name, .. } => {
                    set.insert(name.clone());
                }
                LinkOp::Rename { from, to, .. } => {
                    assert!(set.remove(from));
                    set.insert(to.clone());
                }
                LinkOp::Remove { name, .. } => {
                    assert!(set.remove(name));
                }
            }
            // Never without a link while one is wanted and there was one; the new link
            // appears only with the last step, alone.
            if let Some(w) = wanted {
                assert!(!set.is_empty() || current.is_empty());
                if !had_wanted && i + 1 < ops.len() {
                    assert!(!set.contains(w));
                }
            }
        }
        set
    }

    #[test]
    fn cases() {
        let t = "../init.d/a";
        assert_eq!(
            level_ops(lv(), &names(&["S20a"]), Some("K80a"), t),
            [LinkOp::Rename {
                level: lv(),
                from: "S20a".into(),
                to: "K80a".into()
            }]
        );
        assert!(level_ops(lv(), &names(&["S20a"]), Some("S20a"), t).is_empty());
        assert_eq!(
            level_ops(lv(), &[], Some("S20a"), t),
            [LinkOp::Create {
                level: lv(),
                name: "S20a".into(),
                target: t.into()
            }]
        );
        assert_eq!(level_ops(lv(), &names(&["S20a", "K80a"]), None, t).len(), 2);
        assert_eq!(
            level_ops(lv(), &names(&["S20a", "K80a"]), Some("K80a"), t),
            [LinkOp::Remove {
                level: lv(),
                name: "S20a".into()
            }]
        );
    }

    proptest! {
        #[test]
        fn reaches_the_wanted_state(current in proptest::collection::btree_set("[SK][0-9]{2}a", 0..4), wanted in proptest::option::of("[SK][0-9]{2}a")) {
            let current: Vec<String> = current.into_iter().collect();
            let ops = level_ops(lv(), &current, wanted.as_deref(), "../init.d/a");
            let end = simulate(&current, &ops, wanted.as_deref());
            let expect: BTreeSet<String> = wanted.iter().cloned().collect();
            prop_assert_eq!(end, expect);
            let writes = ops.iter().filter(|o| !matches!(o, LinkOp::Remove { .. })).count();
            prop_assert!(writes <= 1);
        }
    }
}
