//! `update-rc.d` end to end. Side by side with bookworm's own (init-system-helpers and
//! insserv) on copies of the stock Debian tree: same command, same tree, same output,
//! exit status and resulting links — except where Debian's is wrong, and then the
//! difference is asserted and documented. Then vinit's alone on scratch roots.

mod common;
mod debian;

use common::*;
use debian::{DebianCopy, User};
use std::fs;
use std::process::Output;

const LSB: &str =
    "#!/bin/sh\n### BEGIN INIT INFO\n# Provides:          web\n# Required-Start:    $remote_fs $syslog\n\
# Required-Stop:     $remote_fs $syslog\n# Default-Start:     2 3 4 5\n# Default-Stop:      0 1 6\n\
# Short-Description: a web server\n### END INIT INFO\nexit 0\n";

const PLAIN: &str = "#!/bin/sh\necho no header\n";

/// What one run did: its exit status, its output, and every link afterwards.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    links: Vec<String>,
}

/// A fresh copy of the stock tree, prepared by `setup`, then `update-rc.d ARGS` run in
/// it by Debian's tool or by vinit's (bound over it), as `user`.
fn outcome(setup: &dyn Fn(&DebianCopy), user: User, vinit: bool, args: &[&str]) -> Outcome {
    let d = DebianCopy::new();
    setup(&d);
    let mut argv = vec!["/usr/sbin/update-rc.d"];
    argv.extend_from_slice(args);
    let out = d.run(user, vinit.then_some("/usr/sbin/update-rc.d"), &argv);
    Outcome {
        code: out.status.code(),
        stdout: stdout(&out),
        stderr: stderr(&out),
        links: d.links(),
    }
}

/// Debian's and vinit's outcomes of the same command on the same tree.
fn side_by_side(setup: &dyn Fn(&DebianCopy), user: User, args: &[&str]) -> (Outcome, Outcome) {
    (
        outcome(setup, user, false, args),
        outcome(setup, user, true, args),
    )
}

fn same(setup: &dyn Fn(&DebianCopy), args: &[&str]) -> Outcome {
    let (debian, vinit) = side_by_side(setup, User::Root, args);
    assert_eq!(vinit, debian, "update-rc.d {}", args.join(" "));
    vinit
}

fn web(d: &DebianCopy) {
    d.script("web", LSB);
}

/// web installed and linked as `update-rc.d web defaults` links it on the stock tree.
fn web_linked(d: &DebianCopy) {
    web(d);
    for l in "2345".chars() {
        std::os::unix::fs::symlink("../init.d/web", d.etc(&format!("rc{l}.d/S01web"))).unwrap();
    }
    for l in "016".chars() {
        std::os::unix::fs::symlink("../init.d/web", d.etc(&format!("rc{l}.d/K01web"))).unwrap();
    }
}

fn web_links(o: &Outcome) -> Vec<&str> {
    o.links
        .iter()
        .filter(|l| l.contains("web "))
        .map(String::as_str)
        .collect()
}

#[test]
fn defaults_match_debian() {
    let o = same(&web, &["web", "defaults"]);
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (Some(0), "", "")
    );
    assert_eq!(
        web_links(&o),
        [
            "rc0.d/K01web -> ../init.d/web",
            "rc1.d/K01web -> ../init.d/web",
            "rc2.d/S01web -> ../init.d/web",
            "rc3.d/S01web -> ../init.d/web",
            "rc4.d/S01web -> ../init.d/web",
            "rc5.d/S01web -> ../init.d/web",
            "rc6.d/K01web -> ../init.d/web",
        ]
    );
    // Already linked: nothing changes, nothing is said.
    same(&web_linked, &["web", "defaults"]);
    same(&web, &["web", "defaults-disabled"]);
    // A stock service.
    same(&|_| {}, &["cron", "defaults"]);
    // After something it requires that is itself in rc2.d: the next number.
    same(
        &|d: &DebianCopy| {
            d.script(
                "web",
                &LSB.replace(
                    "$remote_fs $syslog\n# Required-Stop",
                    "$remote_fs cron\n# Required-Stop",
                ),
            )
        },
        &["web", "defaults"],
    );
}

#[test]
fn legacy_arguments_are_ignored_as_debian_does() {
    same(&web, &["web", "defaults", "20", "80"]);
    let o = same(
        &web,
        &[
            "web", "start", "20", "2", "3", "4", "5", ".", "stop", "80", "0", "1", "6", ".",
        ],
    );
    assert_eq!(
        o.stderr,
        "update-rc.d: warning: start and stop actions are no longer supported; falling back to defaults\n"
    );
    let o = same(
        &web,
        &[
            "web", "start", "20", "2", "3", ".", "stop", "80", "0", "1", "6", ".",
        ],
    );
    assert!(o.stderr.contains("update-rc.d: warning: start runlevel arguments (2 3) do not match web Default-Start values (2 3 4 5)\n"), "{}", o.stderr);
}

#[test]
fn remove_matches_debian() {
    let o = same(&web_linked, &["web", "remove"]);
    assert!(web_links(&o).is_empty());
    same(&web_linked, &["-f", "web", "remove"]);
    // The script gone (a purge).
    same(
        &|d: &DebianCopy| {
            web_linked(d);
            fs::remove_file(d.etc("init.d/web")).unwrap();
        },
        &["web", "remove"],
    );
    same(&|_| {}, &["nosuch", "remove"]);
}

#[test]
fn enable_and_disable_match_debian() {
    let o = same(&web_linked, &["web", "disable"]);
    assert_eq!(
        o.stderr,
        "insserv: warning: current start runlevel(s) (empty) of script `web' overrides LSB defaults (2 3 4 5).\n\
         insserv: warning: current stop runlevel(s) (0 1 2 3 4 5 6) of script `web' overrides LSB defaults (0 1 6).\n"
    );
    same(&web_linked, &["web", "disable", "2", "3"]);
    let o = same(&web_linked, &["web", "disable", "0"]);
    assert_eq!(o.code, Some(1));
    let disabled = |d: &DebianCopy| {
        web_linked(d);
        for l in "2345".chars() {
            fs::rename(
                d.etc(&format!("rc{l}.d/S01web")),
                d.etc(&format!("rc{l}.d/K01web")),
            )
            .unwrap();
        }
    };
    same(&disabled, &["web", "enable"]);
    same(&disabled, &["web", "enable", "2"]);
    same(&web_linked, &["web", "enable", "S"]);
    // A service whose header has no stop levels: insserv then also complains of
    // "overlapping Default-Start and Default-Stop runlevels" its header does not have,
    // and repeats a warning. vinit says what is true once.
    let (debian, vinit) = side_by_side(&|_| {}, User::Root, &["ssh", "disable", "4"]);
    assert_eq!((vinit.code, &vinit.links), (debian.code, &debian.links));
    assert_eq!(
        vinit.stderr,
        "insserv: warning: current start runlevel(s) (2 3 5) of script `ssh' overrides LSB defaults (2 3 4 5).\n\
         insserv: warning: current stop runlevel(s) (4) of script `ssh' overrides LSB defaults (empty).\n"
    );
    assert!(
        debian.stderr.starts_with(&vinit.stderr),
        "{}",
        debian.stderr
    );
}

#[test]
fn scripts_without_header_and_unknown_scripts_match_debian() {
    let plain = |d: &DebianCopy| d.script("plain", PLAIN);
    for args in [["plain", "defaults"], ["plain", "remove"]] {
        let (debian, vinit) = side_by_side(&plain, User::Root, &args);
        // insserv says "missing LSB tags" twice; once is enough.
        let once =
            debian
                .stderr
                .replacen("insserv: warning: script 'plain' missing LSB tags\n", "", 1);
        assert_eq!(
            vinit,
            Outcome {
                stderr: once,
                ..debian
            },
            "{args:?}"
        );
    }
    for args in [
        ["nosuch", "defaults"],
        ["nosuch", "enable"],
        ["nosuch", "disable"],
    ] {
        let o = same(&|_| {}, &args);
        assert_eq!(o.code, Some(1), "{args:?}");
    }
    same(&web, &["web", "frobnicate"]);
    same(&web, &["web"]);
    same(&web, &["-n", "web", "defaults"]);
}

/// `--help` is Debian's usage on stderr with exit status 1, as are its other patterns
/// (`-h…`, `…--help`); a bare `-f` or nothing at all says "not enough arguments".
#[test]
fn help_and_usage_match_debian() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["-hx"],
        &["-x--help"],
        &["-f"],
        &[],
    ] {
        let o = same(&|_| {}, args);
        assert_eq!(o.code, Some(1), "{args:?}");
        assert!(
            o.stderr
                .contains("usage: update-rc.d [-f] <basename> remove\n"),
            "{o:?}"
        );
    }
}

/// Debian's update-rc.d run without privileges tries link after link, prints one
/// `Permission denied` each, and exits 0 having changed nothing. vinit checks first,
/// names the directory, exits 1 — and changes nothing either.
#[test]
fn unprivileged_runs_fail_at_once_naming_the_path() {
    for (setup, args) in [
        (&web as &dyn Fn(&DebianCopy), &["web", "defaults"][..]),
        (&web_linked, &["web", "remove"]),
        (&web_linked, &["web", "disable"]),
    ] {
        let (debian, vinit) = side_by_side(setup, User::Nobody, args);
        assert_eq!(vinit.links, debian.links, "{args:?}: nothing changes");
        assert!(debian.stderr.contains("Permission denied"), "{debian:?}");
        assert_eq!(
            (vinit.code, vinit.stdout.as_str(), vinit.stderr.as_str()),
            (
                Some(1),
                "",
                "update-rc.d: error: /etc/init.d: Permission denied\n"
            ),
            "{args:?}"
        );
    }
    // Nothing to change needs no privilege (Debian's insserv still fails to rewrite its
    // .depend files, says so, and exits 0).
    let (debian, vinit) = side_by_side(&|_| {}, User::Nobody, &["nosuch", "remove"]);
    assert_eq!((vinit.code, &vinit.links), (debian.code, &debian.links));
    assert_eq!(vinit.stderr, "");
}

fn urd(root: &TestRoot, args: &[&str]) -> Output {
    root.tool("update-rc.d", args)
}

#[test]
fn dependencies_order_the_new_links_and_move_others_only_when_needed() {
    let r = TestRoot::debian();
    r.script("late", "#!/bin/sh\n# chkconfig: 2345 90 10\n");
    r.script("base", "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: base\n# Required-Start: late\n# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n### END INIT INFO\n");
    r.script("app", "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: app\n# Required-Start: base\n# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n### END INIT INFO\n");
    for l in "2345".chars() {
        r.link(l, "S30app", "../init.d/app");
        r.link(l, "S90late", "../init.d/late");
    }
    let out = urd(&r, &["base", "defaults"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!((stdout(&out), stderr(&out)), (String::new(), String::new()));
    // base after late (S90), app after base: app had to move.
    assert_eq!(r.links_of("base")[2], "2:S91base");
    assert_eq!(r.links_of("app")[0], "2:S92app");
    // A missing dependency is said, the links are made.
    r.script("lonely", "#!/bin/sh\n### BEGIN INIT INFO\n# Required-Start: ghost\n# Default-Start: 3\n### END INIT INFO\n");
    let out = urd(&r, &["lonely", "defaults"]);
    assert!(out.status.success());
    assert_eq!(
        stderr(&out),
        "insserv: Default-Stop  undefined, assuming empty stop runlevel(s) for script `lonely'\n\
         update-rc.d: warning: service lonely requires ghost, which is not installed\n"
    );
    assert_eq!(r.links_of("lonely"), ["3:S01lonely"]);
}

#[test]
fn other_roots_and_command_line() {
    let r = TestRoot::debian();
    r.script("web", LSB);
    let out = vinit_cmd()
        .args(["update-rc.d", "web", "defaults-disabled"])
        .env("DPKG_ROOT", r.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        r.links_of("web"),
        ["0:K01web", "1:K01web", "2:K01web", "3:K01web", "4:K01web", "5:K01web", "6:K01web"]
    );
    // --root=DIR as well as --root DIR.
    let out = r.tool_root_eq("update-rc.d", &["web", "remove"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(r.links_of("web").is_empty());
    let out = urd(&r, &["../../bin/sh", "defaults"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "update-rc.d: illegal character in name '../../bin/sh'\n"
    );
    let out = urd(&r, &["nosuch", "defaults"]);
    assert_eq!(
        stderr(&out),
        format!(
            "update-rc.d: error: initscript does not exist: {}/etc/init.d/nosuch\n",
            r.path().display()
        )
    );
    // A Red Hat tree.
    let rh = TestRoot::example_redhat();
    assert!(urd(&rh, &["spooler", "remove"]).status.success());
    assert!(!rh.join("etc/rc.d/rc3.d/S20spooler").exists());
    assert!(urd(&rh, &["spooler", "defaults"]).status.success());
    assert!(fs::read_dir(rh.join("etc/rc.d/rc3.d")).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with("spooler")),);
}
