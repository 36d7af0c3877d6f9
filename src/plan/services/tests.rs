//! The planner on systems built in memory: scripts by header, links by name.

use super::*;
use crate::format::levelset::{level, RC_LEVELS};
use crate::format::rclink::{parse_link_name, LinkName};

/// A system with every rc directory, the scripts `(name, header)` and the links
/// `L:NAME` (pointing at their service).
pub(crate) fn inventory(scripts: &[(&str, &str)], links: &[&str]) -> Services {
    let mut services = Services {
        rc_levels: RC_LEVELS
            .iter()
            .fold(LevelSet::EMPTY, |s, c| s.with(level(*c))),
        ..Services::default()
    };
    for (name, text) in scripts {
        let header = Header::parse(text.as_bytes());
        services.sysv.insert(
            name.to_string(),
            Service {
                name: name.to_string(),
                installed: true,
                info: header.service_info(name),
                script_header: header.clone(),
                header,
                links: BTreeMap::new(),
            },
        );
    }
    for (lv, name) in self::links(links) {
        add_link(&mut services, lv, &name);
    }
    services
}

/// `L:NAME` as `(level, NAME)`.
pub(crate) fn links(names: &[&str]) -> Vec<(Runlevel, String)> {
    names
        .iter()
        .map(|l| (level(l.chars().next().unwrap()), l[2..].to_string()))
        .collect()
}

fn add_link(services: &mut Services, lv: Runlevel, name: &str) {
    let LinkName::Link(link) = parse_link_name(name) else {
        panic!("{name} is no link name");
    };
    let files = services
        .sysv
        .entry(link.service.clone())
        .or_insert_with(|| Service::missing(&link.service))
        .links
        .entry(lv)
        .or_default();
    files.push(LinkFile {
        name: name.to_string(),
        link,
    });
    files.sort_by(|a, b| a.name.cmp(&b.name));
}

fn remove_link(services: &mut Services, lv: Runlevel, name: &str) {
    for service in services.sysv.values_mut() {
        if let Some(files) = service.links.get_mut(&lv) {
            files.retain(|f| f.name != name);
        }
    }
}

/// The system after `plan`, as `sys::services` would leave it.
fn apply(services: &mut Services, plan: &Plan) {
    for op in &plan.ops {
        match op {
            LinkOp::Create { level, name, .. } => add_link(services, *level, name),
            LinkOp::Rename { level, from, to } => {
                remove_link(services, *level, from);
                add_link(services, *level, to);
            }
            LinkOp::Remove { level, name } => remove_link(services, *level, name),
        }
    }
}

fn change(services: &mut Services, make: impl Fn(&Services) -> Vec<Request>) -> Plan {
    let plan = services.plan(&make(services)).unwrap();
    apply(services, &plan);
    plan
}

fn names(services: &Services, name: &str) -> Vec<String> {
    services.sysv[name]
        .link_names()
        .into_iter()
        .map(|(l, n)| format!("{l}:{n}"))
        .collect()
}

const ALPHA: &str = "# chkconfig: 2345 55 25\n# description: alpha";
const GAMMA: &str = "### BEGIN INIT INFO\n# Provides: gamma\n# Required-Start: alpha\n# Required-Stop: alpha\n# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n### END INIT INFO";

#[test]
fn on_off_and_lsb_priorities() {
    let mut s = inventory(&[("alpha", ALPHA), ("gamma", GAMMA)], &[]);
    change(&mut s, |s| vec![s.add("alpha")]);
    assert_eq!(
        names(&s, "alpha").join(" "),
        "0:K25alpha 1:K25alpha 2:S55alpha 3:S55alpha 4:S55alpha 5:S55alpha 6:K25alpha"
    );
    change(&mut s, |s| vec![s.add("gamma")]);
    assert_eq!(
        names(&s, "gamma").join(" "),
        "0:K24gamma 1:K24gamma 2:S56gamma 3:S56gamma 4:S56gamma 5:S56gamma 6:K24gamma"
    );
    // off keeps the dependencies (the reference's `off` forgot them).
    change(&mut s, |s| {
        vec![s.on_off("gamma", LevelSet::of(&[level('3')]), false)]
    });
    assert_eq!(names(&s, "gamma")[3], "3:K24gamma");
    let gamma = s.service("gamma").unwrap();
    assert_eq!(gamma.on_levels().to_string(), "245");
    assert!(gamma.is_configured() && gamma.is_listed());
    assert_eq!(s.service("alpha").unwrap().description(), "alpha");
}

#[test]
fn moving_a_dependency_renumbers_its_dependents() {
    let base =
        "# chkconfig: 2345 10 90\n### BEGIN INIT INFO\n# Default-Start: 2 3 4 5\n### END INIT INFO";
    let app = GAMMA.replace("alpha", "base").replace("gamma", "app");
    let mut s = inventory(
        &[
            ("late", "# chkconfig: 2345 90 10"),
            ("base", base),
            ("app", &app),
        ],
        &[],
    );
    for name in ["late", "base", "app"] {
        change(&mut s, |s| vec![s.add(name)]);
    }
    assert_eq!(names(&s, "app")[2], "2:S50app");
    // base now needs late: it must go after S90, and app after it.
    let header = Header::parse(
        b"# chkconfig: 2345 10 90\n### BEGIN INIT INFO\n# Required-Start: late\n# Required-Stop: late\n# Default-Start: 2 3 4 5\n### END INIT INFO",
    );
    let service = s.sysv.get_mut("base").unwrap();
    service.info = header.service_info("base");
    service.header = header;
    let plan = change(&mut s, |s| vec![s.reset_priorities("base", LevelSet::ALL)]);
    assert_eq!(names(&s, "base")[2], "2:S91base");
    assert_eq!(names(&s, "app")[2], "2:S92app");
    assert_eq!(names(&s, "base")[0], "0:K09base");
    assert_eq!(names(&s, "app")[0], "0:K08app");
    assert_eq!(names(&s, "late")[0], "0:K10late");
    assert!(plan.changes.contains_key("app"));
    assert!(!plan.changes.contains_key("late"));
    assert_eq!(
        plan.changes["app"].level_changes()[0],
        (level('0'), "K50app".into(), "K08app".into())
    );
}

#[test]
fn non_lsb_on_touches_only_the_named_levels() {
    let mut s = inventory(&[("legacy", "# chkconfig: 345 20 80")], &["3:S30legacy"]);
    change(&mut s, |s| {
        vec![s.on_off("legacy", LevelSet::of(&[level('5')]), true)]
    });
    assert_eq!(names(&s, "legacy"), ["3:S30legacy", "5:S20legacy"]);
    change(&mut s, |s| vec![s.delete("legacy")]);
    assert!(names(&s, "legacy").is_empty());
}

#[test]
fn cycles_are_refused() {
    let lsb = |name: &str, req: &str| {
        format!("### BEGIN INIT INFO\n# Provides: {name}\n# Required-Start: {req}\n# Default-Start: 3\n### END INIT INFO")
    };
    let s = inventory(&[("a", &lsb("a", "b")), ("b", &lsb("b", "a"))], &["3:S50a"]);
    let err = s
        .plan(&[s.on_off("b", LevelSet::of(&[level('3')]), true)])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("dependency cycle") && err.contains("a starts after b"),
        "{err}"
    );
}

#[test]
fn orphan_links_missing_levels_and_bad_names() {
    let mut s = inventory(&[], &["2:S20gone"]);
    assert!(s.service("gone").is_none());
    assert!(s.sysv["gone"].is_configured() && !s.sysv["gone"].is_listed());
    change(&mut s, |s| vec![s.delete("gone")]);
    assert!(names(&s, "gone").is_empty());
    let mut s = inventory(&[("x", "# chkconfig: 2345 1 1")], &[]);
    s.rc_levels = s.rc_levels.difference(LevelSet::of(&[level('4')]));
    assert_eq!(s.plan(&[s.add("x")]), Err(PlanError::NoRcDir(level('4'))));
    assert!(matches!(
        s.plan(&[s.add("../x")]),
        Err(PlanError::BadName(_))
    ));
}

#[test]
fn override_relinks_only_what_nobody_changed() {
    let script = "# chkconfig: 345 20 80";
    let mut s = inventory(&[("web", script)], &[]);
    change(&mut s, |s| vec![s.add("web")]);
    // No override: nothing to do.
    assert_eq!(s.override_request("web"), None);
    let over = |s: &mut Services, text: &str| {
        let service = s.sysv.get_mut("web").unwrap();
        service.header = service
            .script_header
            .overlay(&Header::parse(text.as_bytes()));
        service.info = service.header.service_info("web");
    };
    over(&mut s, "# chkconfig: 2345 30 70");
    change(&mut s, |s| vec![s.override_request("web").unwrap()]);
    assert_eq!(
        names(&s, "web"),
        ["0:K70web", "1:K70web", "2:S30web", "3:S30web", "4:S30web", "5:S30web", "6:K70web"]
    );
    // The links are the override's now, not the script's: left alone.
    over(&mut s, "# chkconfig: 5 40 60");
    assert_eq!(s.override_request("web"), None);
    assert_eq!(s.override_request("nosuch"), None);
}

#[test]
fn before_and_after_per_level() {
    let change = ServiceChange {
        before: links(&["2:S55alpha", "3:S55alpha", "6:K25alpha"]),
        after: links(&["2:K25alpha", "6:K25alpha", "4:S55alpha"]),
    };
    assert_eq!(
        change.level_changes(),
        [
            (level('2'), "S55alpha".into(), "K25alpha".into()),
            (level('3'), "S55alpha".into(), "(none)".into()),
            (level('4'), "(none)".into(), "S55alpha".into()),
        ]
    );
    assert_eq!(change.levels_after(LinkKind::Kill).to_string(), "26");
}
