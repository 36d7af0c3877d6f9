//! `vinit rc LEVEL` end to end: real scripts in scratch roots.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;

fn trace(root: &TestRoot) -> Vec<String> {
    root.read("trace").lines().map(str::to_owned).collect()
}

#[test]
fn kill_links_then_start_links_by_number_then_name() {
    let root = TestRoot::debian();
    for name in ["alpha", "beta", "Gamma", "delta"] {
        root.script(name, &recorder(name));
    }
    root.link('3', "S20beta", "../init.d/beta");
    root.link('3', "S20alpha", "../init.d/alpha");
    root.link('3', "S20Gamma", "../init.d/Gamma");
    root.link('3', "S05delta", "../init.d/delta");
    root.link('3', "K90alpha", "../init.d/alpha");
    root.link('3', "K10beta", "/etc/init.d/beta"); // absolute: resolved inside the root
                                                   // One at a time, the sysvinit order (in parallel, the three S20 links run together).
    let out = root.vinit(&["rc", "--sequential", "--from", "2", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        trace(&root),
        [
            "beta stop 3 2",
            "alpha stop 3 2",
            "delta start 3 2",
            "Gamma start 3 2",
            "alpha start 3 2",
            "beta start 3 2"
        ]
    );
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Stopping beta: [  OK  ]");
    assert_eq!(lines[5], "Starting beta: [  OK  ]");
}

#[test]
fn boot_runs_no_kill_links_and_shutdown_stops_start_links() {
    let root = TestRoot::debian();
    root.script("a", &recorder("a"));
    root.link('2', "K10a", "../init.d/a");
    root.link('2', "S10a", "../init.d/a");
    root.link('0', "S90a", "../init.d/a");
    let out = root.vinit(&["rc", "2"]);
    assert!(out.status.success());
    let out = root.vinit(&["rc", "--from", "2", "0"]);
    assert!(out.status.success());
    assert_eq!(trace(&root), ["a start 2 N", "a stop 0 2"]);
}

#[test]
fn previous_level_and_level_come_from_the_environment() {
    let root = TestRoot::debian();
    root.script("a", &recorder("a"));
    root.link('5', "S10a", "../init.d/a");
    let out = vinit_cmd()
        .args(["rc"])
        .env("VINIT_ROOT", root.path())
        .env("RUNLEVEL", "5")
        .env("PREVLEVEL", "3")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(trace(&root), ["a start 5 3"]);
}

#[test]
fn scripts_get_the_sysvinit_environment_and_nothing_else() {
    let root = TestRoot::debian();
    root.script(
        "env",
        "#!/bin/sh\n{ env | sort; echo \"cwd=$(pwd)\"; echo \"stdin=$(readlink /proc/self/fd/0)\"; } > \"$VINIT_ROOT/env.out\"\n",
    );
    root.link('3', "S10env", "../init.d/env");
    let out = vinit_cmd()
        .args(["rc", "--from", "N", "3"])
        .env("VINIT_ROOT", root.path())
        .env("HOME", "/root")
        .env("SECRET", "x")
        .env("INIT_HALT", "POWEROFF")
        .env("CONSOLE", "/dev/ttyS0")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let env = root.read("env.out");
    for want in [
        "PATH=/sbin:/usr/sbin:/bin:/usr/bin",
        "RUNLEVEL=3",
        "PREVLEVEL=N",
        "CONSOLE=/dev/ttyS0",
        "INIT_HALT=POWEROFF",
        "SHELL=/bin/sh",
        "cwd=/",
        "stdin=/dev/null",
    ] {
        assert!(env.lines().any(|l| l == want), "missing {want} in\n{env}");
    }
    assert!(
        env.lines().any(|l| l.starts_with("INIT_VERSION=vinit-")),
        "{env}"
    );
    assert!(
        env.lines()
            .any(|l| l == format!("VINIT_ROOT={}", root.path().display())),
        "{env}"
    );
    assert!(!env.contains("HOME=") && !env.contains("SECRET="), "{env}");
}

#[test]
fn subsys_policy_skips_by_lock_files() {
    let root = TestRoot::debian();
    for name in ["up", "down"] {
        root.script(name, &recorder(name));
        root.link('3', &format!("K10{name}"), &format!("../init.d/{name}"));
        root.link('3', &format!("S20{name}"), &format!("../init.d/{name}"));
    }
    fs::create_dir_all(root.join("var/lock/subsys")).unwrap();
    fs::write(root.join("var/lock/subsys/up"), "").unwrap();
    let out = root.vinit(&["rc", "--policy", "subsys", "--from", "5", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(trace(&root), ["up stop 3 5", "down start 3 5"]);

    let dry = root.vinit(&["rc", "--dry-run", "--policy", "subsys", "--from", "5", "3"]);
    let text = stdout(&dry);
    assert!(
        text.contains("skip  stop   K10down               no lock file: not running"),
        "{text}"
    );
    assert!(
        text.contains("skip  start  S20up                 lock file present: already running"),
        "{text}"
    );
}

#[test]
fn failures_are_reported_and_the_run_goes_on() {
    let root = TestRoot::debian();
    root.script("bad", "#!/bin/sh\necho 'cannot bind port' >&2\nexit 3\n");
    root.script("good", &recorder("good"));
    root.link('3', "S10bad", "../init.d/bad");
    root.link('3', "S20good", "../init.d/good");
    let out = root.vinit(&["rc", "3"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "cannot bind port\nStarting bad: [FAILED] exit status 3\nStarting good: [  OK  ]\n"
    );
    assert_eq!(
        stderr(&out),
        "rc: runlevel 3: 1 of 2 failed: start bad (exit status 3)\n"
    );
    assert_eq!(trace(&root), ["good start 3 N"]);
    let log = root.read("var/log/boot.log");
    assert!(
        log.contains("cannot bind port\nStarting bad: [FAILED] exit status 3\n"),
        "{log}"
    );
    assert!(log.contains("1 of 2 failed"), "{log}");
}

#[test]
fn a_hung_script_is_terminated_then_killed_and_the_run_goes_on() {
    let root = TestRoot::debian();
    root.script(
        "hang",
        "#!/bin/sh\ntrap '' TERM\necho hanging\nwhile :; do sleep 1; done\n",
    );
    root.script("after", &recorder("after"));
    root.link('3', "S10hang", "../init.d/hang");
    root.link('3', "S20after", "../init.d/after");
    let out = root.vinit(&["rc", "--timeout", "1", "--kill-after", "1", "3"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("Starting hang: [FAILED] timed out after 1 s, killed"),
        "{text}"
    );
    assert_eq!(trace(&root), ["after start 3 N"]);
    assert!(stderr(&out).contains("start hang (timed out after 1 s, killed)"));
}

#[test]
fn rc_survives_killall5_run_by_a_shutdown_script() {
    // Debian's sendsigs (rc0.d, rc6.d) and killprocs (rc1.d) run killall5, which spares
    // only init and its own session: rc must share its scripts' session to live on and
    // run the links after them. In a PID namespace of its own, so that killall5 reaches
    // nothing else.
    let root = TestRoot::debian();
    root.script(
        "sendsigs",
        "#!/bin/sh
[ \"$1\" = stop ] && killall5 -15 && sleep 0.3\nexit 0\n",
    );
    root.script("after", &recorder("after"));
    root.link('0', "S20sendsigs", "../init.d/sendsigs");
    root.link('0', "S90after", "../init.d/after");
    let script = format!(
        "setsid {VINIT} --root {} rc --from 3 0; echo \"rc exit $?\" >> {}/trace",
        root.path().display(),
        root.path().display()
    );
    let mut unshare = std::process::Command::new("unshare");
    unshare.args(common::pid1::namespace_prefix()[1..].iter());
    let out = unshare
        .args(["sh", "-c", &script])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(trace(&root), ["after stop 0 3", "rc exit 0"], "{out:?}");
}

#[test]
fn bad_links_are_one_line_errors_and_good_ones_still_run() {
    let root = TestRoot::debian();
    root.script("good", &recorder("good"));
    let noexec = root.script("noexec", &recorder("noexec"));
    fs::set_permissions(&noexec, fs::Permissions::from_mode(0o644)).unwrap();
    fs::create_dir_all(root.join("usr/bin")).unwrap();
    fs::write(root.join("usr/bin/tool"), "#!/bin/sh\n").unwrap();
    root.link('3', "S10good", "../init.d/good");
    root.link('3', "S20noexec", "../init.d/noexec");
    root.link('3', "S30gone", "../init.d/gone");
    root.link('3', "S40tool", "/usr/bin/tool");
    root.link('3', "S-1good", "../init.d/good");
    fs::write(root.join("etc/rc3.d/README"), "not a link").unwrap();
    let out = root.vinit(&["rc", "3"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(trace(&root), ["good start 3 N"]);
    let err = stderr(&out);
    let rc3 = root.join("etc/rc3.d");
    let rc3 = rc3.display();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 5, "{err}");
    assert_eq!(lines[0], format!("rc: error: {rc3}/S-1good: \"S-1good\" is not a link name: expected SNN followed by a service name"));
    assert_eq!(
        lines[1],
        format!(
            "rc: error: {rc3}/S20noexec: {}/etc/init.d/noexec is not executable",
            root.path().display()
        )
    );
    assert_eq!(
        lines[2],
        format!("rc: warning: {rc3}/S30gone: dangling link to ../init.d/gone, skipped")
    );
    assert!(
        lines[3].starts_with(&format!(
            "rc: error: {rc3}/S40tool: link to /usr/bin/tool points outside"
        )),
        "{}",
        lines[3]
    );
    assert!(
        lines[4].starts_with("rc: runlevel 3: 3 of 4 failed: "),
        "{}",
        lines[4]
    );
}

#[test]
fn bad_levels_and_missing_directories() {
    let root = TestRoot::debian();
    let out = root.vinit(&["rc", "7"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "rc: invalid runlevel \"7\": expected one of 0-6 or S\n"
    );
    let out = root.vinit(&["rc", "--from", "X", "3"]);
    assert_eq!(
        stderr(&out),
        "rc: invalid previous runlevel \"X\": expected 0-9, S or N\n"
    );
    // A level without a directory has nothing to run, as with Debian's rc (a
    // container's root has no rc directories at all); an unreadable one is an error.
    fs::remove_dir(root.join("etc/rc4.d")).unwrap();
    let out = root.vinit(&["rc", "4"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    fs::write(root.join("etc/rc4.d"), "").unwrap();
    let out = root.vinit(&["rc", "4"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("rc: {}/etc/rc4.d: Not a directory\n", root.path().display())
    );
    let out = root.vinit(&["rc", "--policy", "fast", "3"]);
    assert_eq!(
        stderr(&out),
        "rc: unknown skip policy \"fast\": expected run-all or subsys\n"
    );
}

#[test]
fn dry_run_prints_the_plan_and_runs_nothing() {
    let root = TestRoot::debian();
    root.script("a", &recorder("a"));
    root.link('6', "K20a", "../init.d/a");
    root.link('6', "S90a", "../init.d/a");
    let out = root.vinit(&["rc", "--dry-run", "-j", "3", "--from", "3", "6"]);
    assert!(out.status.success());
    let dir = root.path().display();
    assert_eq!(
        stdout(&out),
        format!(
            "runlevel 6 (previous 3), policy run-all, debian layout, {dir}/etc/rc6.d, up to 3 scripts at once\n   \
             1  stop   K20a                  {dir}/etc/init.d/a\n   \
             2  stop   S90a                  {dir}/etc/init.d/a\n"
        )
    );
    assert!(!root.join("trace").exists());
    assert!(!root.join("var/log/boot.log").exists());
}

#[test]
fn the_example_system_starts_and_stops() {
    let root = TestRoot::example_redhat();
    fs::create_dir_all(root.join("etc/default")).unwrap();
    fs::write(root.join("etc/default/heartbeat"), "HEARTBEAT_INTERVAL=1\n").unwrap();
    let out = root.vinit(&["rc", "3"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(
        stdout(&out),
        "Starting syslog: [  OK  ]\nStarting heartbeat: [  OK  ]\nStarting spooler: [  OK  ]\n"
    );
    let pid = |name: &str| {
        root.read(&format!("run/{name}.pid"))
            .trim()
            .parse::<i32>()
            .unwrap()
    };
    let (heartbeat, spooler, syslogd) = (pid("heartbeat"), pid("spooler"), pid("syslogd"));
    assert!(alive(heartbeat) && alive(spooler) && alive(syslogd));
    assert!(root.join("var/lock/subsys/heartbeat").exists());
    // syslogd (embedded default configuration) takes messages on the root's dev/log.
    let logged = root.vinit(&["logger", "-p", "daemon.info", "-t", "example", "hello"]);
    assert!(logged.status.success(), "{}", stderr(&logged));
    assert!(wait_until(10, || root
        .read("var/log/messages")
        .contains(" example: hello")));

    // The services do their work.
    fs::write(root.join("var/spool/spooler/in/job"), "payload").unwrap();
    assert!(wait_until(10, || root
        .join("var/spool/spooler/done/job")
        .exists()));
    assert!(wait_until(10, || root
        .read("var/log/heartbeat.log")
        .matches("alive")
        .count()
        >= 2));

    // Runlevel 3 again with the Red Hat policy: both are running, nothing to start.
    let again = root.vinit(&["rc", "--policy", "subsys", "--from", "3", "3"]);
    assert_eq!(stdout(&again), "");

    let out = root.vinit(&["rc", "--from", "3", "0"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(
        stdout(&out),
        "Stopping spooler: [  OK  ]\nStopping heartbeat: [  OK  ]\nStopping syslog: [  OK  ]\n"
    );
    assert!(wait_until(5, || !alive(heartbeat)
        && !alive(spooler)
        && !alive(syslogd)));
    assert!(!root.join("run/heartbeat.pid").exists());
    assert!(!root.join("var/lock/subsys/spooler").exists());
    assert!(root.read("var/log/heartbeat.log").contains("stopping"));
}

#[test]
fn dispatcher_help_unknown_tools_and_links() {
    let out = vinit_cmd().arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("\n  rc              Run the rc scripts of a runlevel"));
    let out = vinit_cmd().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "vinit: unknown tool 'frobnicate' (see 'vinit --help' for the list)\n"
    );
    let out = vinit_cmd().output().unwrap();
    assert_eq!(out.status.code(), Some(2));

    // argv[0] selects the tool; its own --root works too.
    let root = TestRoot::debian();
    root.script("a", &recorder("a"));
    root.link('2', "S10a", "../init.d/a");
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(VINIT, bin.path().join("rc")).unwrap();
    let out = std::process::Command::new(bin.path().join("rc"))
        .env_clear()
        .args(["--root", root.path().to_str().unwrap(), "2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(trace(&root), ["a start 2 N"]);
}

#[test]
fn install_links_creates_a_link_per_linked_tool() {
    let dir = tempfile::tempdir().unwrap();
    let dir_str = dir.path().to_str().unwrap();
    let dry = vinit_cmd()
        .args(["install-links", "--dry-run", dir_str])
        .output()
        .unwrap();
    let planned: Vec<String> = stdout(&dry).lines().map(str::to_owned).collect();
    let out = vinit_cmd()
        .args(["install-links", dir_str])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut made = Vec::new();
    for entry in fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        assert_eq!(
            fs::read_link(entry.path()).unwrap(),
            std::path::Path::new(VINIT)
        );
        made.push(format!("{} -> {VINIT}", entry.path().display()));
    }
    made.sort();
    let mut planned_sorted = planned.clone();
    planned_sorted.sort();
    assert_eq!(made, planned_sorted);
    // Running it again replaces the links in place.
    assert!(vinit_cmd()
        .args(["install-links", dir_str])
        .status()
        .unwrap()
        .success());
    let out = vinit_cmd()
        .args(["install-links", "/nonexistent/dir"])
        .output()
        .unwrap();
    assert_eq!(out.status.success(), planned.is_empty(), "{}", stderr(&out));
}

/// Output into a pipe whose reader is gone (`chkconfig --list | head -1` once head has
/// quit): every tool ends quietly — by SIGPIPE like the C tools, or with its status —
/// and none panics.
#[test]
fn a_closed_output_pipe_ends_a_tool_without_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    let root = TestRoot::example_redhat();
    let mut runs: Vec<Vec<String>> = vinit::tools::TOOLS
        .iter()
        .map(|t| vec![t.name.to_string(), "--help".to_string()])
        .collect();
    runs.push(vec!["--help".into()]);
    runs.push(vec!["chkconfig".into(), "--list".into()]);
    runs.push(vec!["rc".into(), "--dry-run".into(), "3".into()]);
    runs.push(vec!["xinetd".into(), "--version".into()]);
    for args in runs {
        let (reader, writer) = nix::unistd::pipe().unwrap();
        drop(reader);
        let out = vinit_cmd()
            .env("VINIT_ROOT", root.path())
            .args(&args)
            .stdout(std::process::Stdio::from(writer))
            .output()
            .unwrap();
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            out.status.signal() == Some(libc::SIGPIPE) || out.status.code().is_some(),
            "{args:?}: {:?}",
            out.status
        );
    }
}
