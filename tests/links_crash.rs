//! Atomicity of link changes: `chkconfig` is killed (SIGKILL) at random points of a
//! change that renumbers many services. At every kill, each service has exactly one
//! link per level, named as before or as after; once the next chkconfig has run (and
//! finished the interrupted change from its journal), the whole link set is the old
//! one or the new one.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

const DEPENDENTS: usize = 60;

/// Every link of a root: (level, service) → link names.
type LinkSet = BTreeMap<(char, String), Vec<String>>;

fn link_set(root: &Path) -> LinkSet {
    let mut set = LinkSet::new();
    for level in "0123456".chars() {
        for entry in fs::read_dir(root.join(format!("etc/rc{level}.d"))).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.starts_with('.') {
                continue;
            }
            set.entry((level, name[3..].to_string()))
                .or_default()
                .push(name);
        }
    }
    for names in set.values_mut() {
        names.sort();
    }
    set
}

fn lsb(name: &str, needs: &str) -> String {
    format!(
        "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: {name}\n# Required-Start: {needs}\n# Required-Stop: {needs}\n\
         # Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n### END INIT INFO\nexit 0\n"
    )
}

/// A root where `base` and many services requiring it are linked at S50/K50 (base at
/// S10/K90), and base's header has just been changed to require `late` (S95/K05): a
/// `resetpriorities` of base renumbers base and every dependent.
fn template() -> TestRoot {
    let r = TestRoot::debian();
    r.script("late", "#!/bin/sh\n# chkconfig: 2345 95 5\n");
    r.script(
        "base",
        &format!(
            "#!/bin/sh\n# chkconfig: 2345 10 90\n{}",
            &lsb("base", "$local_fs")[10..]
        ),
    );
    for i in 0..DEPENDENTS {
        r.script(&format!("dep{i:02}"), &lsb(&format!("dep{i:02}"), "base"));
    }
    // The links `chkconfig --add` makes for them, made directly (faster).
    let link = |name: &str, start: u8, stop: u8| {
        for level in "0123456".chars() {
            let kind = if "2345".contains(level) {
                format!("S{start:02}")
            } else {
                format!("K{stop:02}")
            };
            r.link(
                level,
                &format!("{kind}{name}"),
                &format!("../init.d/{name}"),
            );
        }
    };
    link("late", 95, 5);
    link("base", 10, 90);
    for i in 0..DEPENDENTS {
        link(&format!("dep{i:02}"), 50, 50);
    }
    r.script(
        "base",
        &format!(
            "#!/bin/sh\n# chkconfig: 2345 10 90\n{}",
            &lsb("base", "late")[10..]
        ),
    );
    r
}

fn copy_of(template: &TestRoot) -> TestRoot {
    let r = TestRoot::debian();
    fs::remove_dir_all(r.join("etc")).unwrap();
    copy_tree(&template.join("etc"), &r.join("etc"));
    r
}

/// Puts the links of `set` back, and nothing else.
fn restore(root: &Path, set: &LinkSet) {
    for level in "0123456".chars() {
        let dir = root.join(format!("etc/rc{level}.d"));
        for entry in fs::read_dir(&dir).unwrap() {
            fs::remove_file(entry.unwrap().path()).unwrap();
        }
    }
    for ((level, service), names) in set {
        for name in names {
            std::os::unix::fs::symlink(
                format!("../init.d/{service}"),
                root.join(format!("etc/rc{level}.d/{name}")),
            )
            .unwrap();
        }
    }
}

fn change(root: &TestRoot) -> std::process::Command {
    let mut cmd = vinit_cmd();
    cmd.arg("--root")
        .arg(root.path())
        .args(["chkconfig", "base", "resetpriorities"]);
    cmd
}

/// A small xorshift generator: no dependency for random delays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn a_killed_change_leaves_old_or_new_links_and_is_finished_later() {
    let template = template();
    let old = link_set(template.path());

    let reference = copy_of(&template);
    // How long an uninterrupted change takes, warm: the kills land within that time.
    let mut runtime = Duration::MAX;
    for _ in 0..3 {
        restore(reference.path(), &old);
        let started = Instant::now();
        let out = change(&reference).output().unwrap();
        runtime = runtime.min(started.elapsed());
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let new = link_set(reference.path());
    assert_ne!(old, new);
    assert_eq!(new[&('2', "base".to_string())], ["S96base"]);
    assert_eq!(new[&('2', "dep00".to_string())], ["S97dep00"]);
    assert_eq!(new[&('0', "dep00".to_string())], ["K03dep00"]);
    assert_eq!(
        old.keys().collect::<Vec<_>>(),
        new.keys().collect::<Vec<_>>()
    );

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id()));
    let window = runtime.as_micros() as u64 * 6 / 5 + 1;
    let (mut caught_old, mut caught_mixed, mut caught_new) = (0, 0, 0);
    let root = copy_of(&template);
    for _ in 0..60 {
        restore(root.path(), &old);
        let mut child = change(&root).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(rng.next() % window));
        let _ = child.kill();
        let _ = child.wait();

        // At the moment of the kill: one link per service and level, old or new.
        let now = link_set(root.path());
        assert_eq!(
            now.keys().collect::<Vec<_>>(),
            old.keys().collect::<Vec<_>>()
        );
        let mut olds = 0;
        for (key, names) in &now {
            assert_eq!(names.len(), 1, "{key:?}: {names:?}");
            assert!(
                names == &old[key] || names == &new[key],
                "{key:?}: {names:?}"
            );
            olds += usize::from(names == &old[key] && old[key] != new[key]);
        }
        match (olds, now == new) {
            (_, true) => caught_new += 1,
            (0, false) => unreachable!(),
            (n, false) if n == old.iter().filter(|(k, v)| new[*k] != **v).count() => {
                caught_old += 1
            }
            _ => caught_mixed += 1,
        }

        // The next chkconfig (even a listing) finishes what the killed one started.
        let out = root.vinit(&["chkconfig", "--list", "base"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let after = link_set(root.path());
        assert!(
            after == old || after == new,
            "neither old nor new after recovery"
        );
        assert!(!root.join("etc/init.d/.vinit-links.journal").exists());
        for level in "0123456".chars() {
            for entry in fs::read_dir(root.join(&format!("etc/rc{level}.d"))).unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                assert!(
                    !name.starts_with('.') || after == old,
                    "left behind: {name}"
                );
            }
        }
    }
    eprintln!("killed before the change: {caught_old}, in the middle: {caught_mixed}, after: {caught_new}");
}

#[test]
fn a_journal_left_by_a_crash_is_replayed() {
    let template = template();
    let root = copy_of(&template);
    // A crash after the journal was written and the first rename done.
    fs::write(
        root.join("etc/init.d/.vinit-links.journal"),
        "vinit-links 1\nrename 2 S50dep00 S97dep00\nrename 3 S50dep00 S97dep00\nend\n",
    )
    .unwrap();
    fs::rename(
        root.join("etc/rc2.d/S50dep00"),
        root.join("etc/rc2.d/S97dep00"),
    )
    .unwrap();
    let out = root.vinit(&["chkconfig", "--list", "dep00"]);
    assert!(out.status.success());
    let set = link_set(root.path());
    assert_eq!(set[&('2', "dep00".to_string())], ["S97dep00"]);
    assert_eq!(set[&('3', "dep00".to_string())], ["S97dep00"]);
    assert_eq!(set[&('4', "dep00".to_string())], ["S50dep00"]);
    // A damaged journal stops every change, and says why.
    fs::write(
        root.join("etc/init.d/.vinit-links.journal"),
        "vinit-links 1\nrename 2 S97dep00\n",
    )
    .unwrap();
    let out = root.vinit(&["chkconfig", "dep01", "off"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(".vinit-links.journal: line 2: not an operation"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        link_set(root.path())[&('3', "dep01".to_string())],
        ["S50dep01"]
    );
}
