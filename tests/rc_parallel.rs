//! `vinit rc` running scripts concurrently by their dependencies: real scripts in
//! scratch roots. Concurrency is proven by rendezvous (a script that waits for another
//! to be running at the same time), never by timing.

mod common;

use common::*;
use std::fs;

/// An LSB header: provides NAME, requires `requires`.
fn header(name: &str, requires: &str, extra: &str) -> String {
    format!(
        "### BEGIN INIT INFO\n# Provides: {name}\n# Required-Start: {requires}\n# Required-Stop: {requires}\n# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n{extra}### END INIT INFO\n"
    )
}

/// A script that notes `NAME begin`/`NAME end` in the trace and runs `body` between.
fn script(name: &str, header: &str, body: &str) -> String {
    format!(
        "#!/bin/sh\n{header}t=\"$VINIT_ROOT/trace\"\necho \"{name} begin\" >> \"$t\"\n{body}\necho \"{name} end\" >> \"$t\"\n"
    )
}

/// Waits (up to 10 s) for a file to appear; exits 1 if it never does.
fn wait_for(file: &str) -> String {
    format!("i=0; while [ ! -e \"$VINIT_ROOT/{file}\" ]; do i=$((i+1)); [ $i -gt 200 ] && exit 1; sleep 0.05; done")
}

fn trace(root: &TestRoot) -> Vec<String> {
    root.read("trace").lines().map(str::to_owned).collect()
}

fn position(trace: &[String], line: &str) -> usize {
    trace
        .iter()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("{line:?} missing from {trace:?}"))
}

#[test]
fn a_script_starts_as_soon_as_what_it_requires_has_finished() {
    let root = TestRoot::debian();
    // slow (S10) runs until fast (S30) has run: only possible if fast does not wait for
    // it. late (S20) requires slow: it starts after slow's end.
    root.script(
        "slow",
        &script("slow", &header("slow", "", ""), &wait_for("fast.done")),
    );
    root.script("late", &script("late", &header("late", "slow", ""), ""));
    root.script(
        "fast",
        &script(
            "fast",
            &header("fast", "", ""),
            "touch \"$VINIT_ROOT/fast.done\"",
        ),
    );
    root.link('2', "S10slow", "../init.d/slow");
    root.link('2', "S20late", "../init.d/late");
    root.link('2', "S30fast", "../init.d/fast");
    let out = root.vinit(&["rc", "2"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let t = trace(&root);
    assert!(position(&t, "fast end") < position(&t, "slow end"), "{t:?}");
    assert!(
        position(&t, "slow end") < position(&t, "late begin"),
        "{t:?}"
    );
    // The console shows them whole, in the order they started.
    assert_eq!(
        stdout(&out),
        "Starting slow: [  OK  ]\nStarting fast: [  OK  ]\nStarting late: [  OK  ]\n"
    );
}

#[test]
fn scripts_without_headers_keep_their_numeric_place() {
    let root = TestRoot::debian();
    root.script("one", &script("one", &header("one", "", ""), "sleep 0.2"));
    root.script(
        "legacy",
        &script(
            "legacy",
            "",
            "[ -n \"$(grep 'one end' \"$VINIT_ROOT/trace\")\" ] || exit 9",
        ),
    );
    root.script(
        "three",
        &script(
            "three",
            &header("three", "", ""),
            "grep -q 'legacy end' \"$VINIT_ROOT/trace\" || exit 9",
        ),
    );
    root.link('2', "S10one", "../init.d/one");
    root.link('2', "S20legacy", "../init.d/legacy");
    root.link('2', "S30three", "../init.d/three");
    let out = root.vinit(&["rc", "2"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn scripts_of_the_same_number_run_together_and_never_interleave() {
    let root = TestRoot::debian();
    // Each says two lines, then waits for the other to be running, then says a third.
    for (me, other) in [("left", "right"), ("right", "left")] {
        let body = format!(
            "echo {me} 1; echo {me} 2; touch \"$VINIT_ROOT/{me}.up\"; {}; echo {me} 3",
            wait_for(&format!("{other}.up"))
        );
        root.script(me, &script(me, "", &body));
    }
    root.link('2', "S20left", "../init.d/left");
    root.link('2', "S20right", "../init.d/right");
    let out = root.vinit(&["rc", "2"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(
        stdout(&out),
        "left 1\nleft 2\nleft 3\nStarting left: [  OK  ]\nright 1\nright 2\nright 3\nStarting right: [  OK  ]\n"
    );
    // The same in the boot log.
    let log = root.read("var/log/boot.log");
    assert!(
        log.contains("left 3\nStarting left: [  OK  ]\nright 1\nright 2\nright 3\n"),
        "{log}"
    );
}

#[test]
fn at_most_n_scripts_run_at_once() {
    let root = TestRoot::debian();
    for n in 0..6 {
        let name = format!("s{n}");
        // Count who runs now through directories that exist while a script runs.
        let body = "mkdir \"$VINIT_ROOT/running.$$\"; ls -d \"$VINIT_ROOT\"/running.* | wc -l >> \"$VINIT_ROOT/counts\"; sleep 0.3; rmdir \"$VINIT_ROOT/running.$$\"";
        root.script(&name, &script(&name, &header(&name, "", ""), body));
        root.link('2', &format!("S20{name}"), &format!("../init.d/{name}"));
    }
    let out = root.vinit(&["rc", "-j", "2", "2"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let counts: Vec<u32> = root
        .read("counts")
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(counts.len(), 6);
    assert!(counts.iter().all(|&c| c <= 2), "{counts:?}");
    // And --sequential (or -j 1) means one.
    let _ = fs::remove_file(root.join("counts"));
    let out = root.vinit(&["rc", "--sequential", "2"]);
    assert!(out.status.success());
    assert!(root.read("counts").lines().all(|l| l.trim() == "1"));
}

#[test]
fn an_interactive_script_runs_alone_with_the_console() {
    let root = TestRoot::debian();
    let busy = "mkdir \"$VINIT_ROOT/running.$$\"; sleep 0.3; [ -e \"$VINIT_ROOT/interactive.running\" ] && exit 9; rmdir \"$VINIT_ROOT/running.$$\"";
    for name in ["a", "b"] {
        root.script(name, &script(name, &header(name, "", ""), busy));
        root.link('2', &format!("S20{name}"), &format!("../init.d/{name}"));
    }
    let alone = "ls -d \"$VINIT_ROOT\"/running.* 2>/dev/null && exit 9; touch \"$VINIT_ROOT/interactive.running\"; sleep 0.3; rm \"$VINIT_ROOT/interactive.running\"; readlink /proc/self/fd/0 > \"$VINIT_ROOT/stdin\"";
    root.script(
        "ask",
        &script("ask", &header("ask", "", "# X-Interactive: true\n"), alone),
    );
    root.link('2', "S20ask", "../init.d/ask");
    let out = root.vinit(&["rc", "2"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(trace(&root).len(), 6);
}

#[test]
fn debians_depend_files_order_the_scripts_when_present() {
    let root = TestRoot::debian();
    // The headers say nothing; .depend.start (what insserv wrote) says second after first.
    root.script(
        "first",
        &script("first", &header("first", "", ""), "sleep 0.2"),
    );
    root.script(
        "second",
        &script(
            "second",
            &header("second", "", ""),
            "grep -q 'first end' \"$VINIT_ROOT/trace\" || exit 9",
        ),
    );
    root.link('2', "S01first", "../init.d/first");
    root.link('2', "S01second", "../init.d/second");
    fs::write(
        root.join("etc/init.d/.depend.start"),
        "TARGETS = first second\nINTERACTIVE =\nsecond: first\n",
    )
    .unwrap();
    let out = root.vinit(&["rc", "2"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let plan = root.vinit(&["rc", "--dry-run", "-j", "4", "2"]);
    assert!(
        stdout(&plan).contains("S01second            ") && stdout(&plan).contains("(after first)"),
        "{}",
        stdout(&plan)
    );
}

#[test]
fn a_tree_asking_for_one_script_at_a_time_gets_it() {
    let root = TestRoot::debian();
    for (me, other) in [("left", "right"), ("right", "left")] {
        let body = format!(
            "touch \"$VINIT_ROOT/{me}.up\"; {}",
            wait_for(&format!("{other}.up"))
        );
        root.script(me, &script(me, "", &body));
    }
    root.link('2', "S20left", "../init.d/left");
    root.link('2', "S20right", "../init.d/right");
    fs::create_dir_all(root.join("etc/default")).unwrap();
    fs::write(root.join("etc/default/rcS"), "CONCURRENCY=none\n").unwrap();
    let plan = root.vinit(&["rc", "--dry-run", "2"]);
    assert!(
        stdout(&plan).contains("one script at a time"),
        "{}",
        stdout(&plan)
    );
    assert!(
        stdout(&plan).contains("note: one script at a time: CONCURRENCY=none in"),
        "{}",
        stdout(&plan)
    );
    // The rendezvous cannot happen one at a time: left gives up (and fails).
    let out = root.vinit(&["rc", "--timeout", "3", "2"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn stopping_runs_the_dependencies_in_reverse() {
    let root = TestRoot::debian();
    root.script(
        "fs",
        &script(
            "fs",
            &header("fs", "", ""),
            "grep -q 'app end' \"$VINIT_ROOT/trace\" || exit 9",
        ),
    );
    root.script("app", &script("app", &header("app", "fs", ""), "sleep 0.2"));
    root.link('0', "K01app", "../init.d/app");
    root.link('0', "K01fs", "../init.d/fs");
    let out = root.vinit(&["rc", "--from", "2", "0"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn the_boot_report_shows_every_level_change_and_the_critical_path() {
    let root = TestRoot::debian();
    root.script(
        "base",
        &script("base", &header("base", "", ""), "sleep 0.2"),
    );
    root.script("top", &script("top", &header("top", "base", ""), ""));
    root.script("side", &script("side", &header("side", "", ""), ""));
    root.script("bad", &script("bad", &header("bad", "", ""), "exit 3"));
    root.link('S', "S01base", "../init.d/base");
    root.link('2', "S01side", "../init.d/side");
    root.link('2', "S02bad", "../init.d/bad");
    root.link('2', "S03top", "../init.d/top");
    root.link('2', "S01base", "../init.d/base");
    assert!(root.vinit(&["rc", "S"]).status.success());
    assert_eq!(
        root.vinit(&["rc", "--from", "N", "2"]).status.code(),
        Some(1)
    );
    let report = root.vinit(&["rc", "--report"]);
    assert!(report.status.success(), "{}", stderr(&report));
    let text = stdout(&report);
    assert!(text.starts_with("runlevel S (from N) at "), "{text}");
    assert!(text.contains("\n\nrunlevel 2 (from N) at "), "{text}");
    assert!(text.contains("S02bad"), "{text}");
    assert!(text.contains("exit status 3"), "{text}");
    assert!(
        text.contains("critical path (*): S01base (") && text.contains(" -> S03top ("),
        "{text}"
    );
    let json = stdout(&root.vinit(&["rc", "--report", "--json"]));
    assert!(
        json.trim_start().starts_with('[') && json.contains("\"link\": \"S03top\""),
        "{json}"
    );
    assert!(
        json.contains("\"success\": false, \"status\": \"exit status 3\""),
        "{json}"
    );
    // The boot log has the same table.
    assert!(root
        .read("var/log/boot.log")
        .contains("critical path (*): S01base"));
    // A new boot starts a new report.
    assert!(root.vinit(&["rc", "--from", "N", "3"]).status.success());
    let text = stdout(&root.vinit(&["rc", "--report"]));
    assert!(
        text.starts_with("runlevel 3 (from N)") && !text.contains("runlevel 2"),
        "{text}"
    );
}
