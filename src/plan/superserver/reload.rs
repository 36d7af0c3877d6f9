//! What a reload does to the listening sockets: a socket whose [`ListenKey`] the new
//! configuration still wants is kept (its queue of waiting connections with it); the
//! others are closed, and the missing ones opened.

use std::collections::BTreeSet;

use super::{ListenKey, ServiceSpec};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ReloadPlan {
    pub keep: Vec<ListenKey>,
    pub open: Vec<ListenKey>,
    pub close: Vec<ListenKey>,
}

pub(crate) fn plan_reload<'a>(
    current: impl IntoIterator<Item = &'a ListenKey>,
    wanted: &[ServiceSpec],
) -> ReloadPlan {
    let current: BTreeSet<&ListenKey> = current.into_iter().collect();
    let wanted_keys: BTreeSet<&ListenKey> = wanted.iter().map(|s| &s.listen).collect();
    ReloadPlan {
        keep: current
            .intersection(&wanted_keys)
            .map(|k| (*k).clone())
            .collect(),
        open: wanted_keys
            .difference(&current)
            .map(|k| (*k).clone())
            .collect(),
        close: current
            .difference(&wanted_keys)
            .map(|k| (*k).clone())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{services, FakeLookup};
    use super::super::*;
    use super::*;
    use proptest::prelude::*;
    use std::path::Path;

    fn specs(text: &str) -> Vec<ServiceSpec> {
        let conf = crate::format::inetd_conf::parse(Path::new("inetd.conf"), text);
        resolve(&[], &conf.entries, &services(), &FakeLookup).services
    }

    #[test]
    fn keeps_unchanged_sockets_opens_new_and_closes_gone() {
        let old =
            specs("echo stream tcp nowait root internal\ntime stream tcp nowait root internal\n");
        let old_keys: Vec<ListenKey> = old.iter().map(|s| s.listen.clone()).collect();
        // echo unchanged (its server changed), time gone, daytime new; whether the
        // socket is handed over is part of its identity.
        let new = specs(
            "echo stream tcp nowait nobody /bin/cat\ndaytime stream tcp nowait root internal\n",
        );
        let plan = plan_reload(&old_keys, &new);
        let show = |keys: &[ListenKey]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();
        assert_eq!(show(&plan.keep), ["0.0.0.0:7/tcp"]);
        assert_eq!(show(&plan.open), ["0.0.0.0:13/tcp"]);
        assert_eq!(show(&plan.close), ["0.0.0.0:37/tcp"]);
        let waiting = specs("echo stream tcp wait root /bin/cat\n");
        let plan = plan_reload(&old_keys[..1], &waiting);
        assert_eq!(
            (plan.keep.len(), plan.open.len(), plan.close.len()),
            (0, 1, 1)
        );
    }

    proptest! {
        #[test]
        fn every_key_lands_in_exactly_one_place(
            old_ports in proptest::collection::btree_set(1u16..40, 0..10),
            new_ports in proptest::collection::btree_set(1u16..40, 0..10),
        ) {
            let text = |ports: &std::collections::BTreeSet<u16>| ports.iter().map(|p| format!("{p} stream tcp nowait root /bin/cat\n")).collect::<String>();
            let old: Vec<ListenKey> = specs(&text(&old_ports)).into_iter().map(|s| s.listen).collect();
            let new = specs(&text(&new_ports));
            let plan = plan_reload(&old, &new);
            prop_assert_eq!(plan.keep.len() + plan.close.len(), old_ports.len());
            prop_assert_eq!(plan.keep.len() + plan.open.len(), new_ports.len());
            for k in &plan.keep {
                prop_assert!(old_ports.contains(&k.port) && new_ports.contains(&k.port));
            }
            for k in &plan.open {
                prop_assert!(!old_ports.contains(&k.port));
            }
        }
    }
}
