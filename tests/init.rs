//! `vinit init` as PID 1 of a private PID namespace (and as a subreaper), in scratch roots.

mod common;

use common::pid1::{children_of, debian_telinit, state_of, Pid1};
use common::*;
use nix::sys::signal::Signal;
use std::fs;
use std::os::unix::process::ExitStatusExt;

/// Appends a line to `$VINIT_ROOT/trace`.
fn note(text: &str) -> String {
    format!("/bin/sh -c 'echo {text} >> $VINIT_ROOT/trace'")
}

/// A root with scripts a, b, c and links for levels 0, 2 and 3.
fn rc_root() -> TestRoot {
    let root = TestRoot::debian();
    for name in ["a", "b", "c"] {
        root.script(name, &recorder(name));
    }
    root.link('3', "S10a", "../init.d/a");
    root.link('3', "S20b", "../init.d/b");
    root.link('3', "K50c", "../init.d/c");
    root.link('2', "K10b", "../init.d/b");
    root.link('2', "S30c", "../init.d/c");
    root.link('0', "K20c", "../init.d/c");
    root.link('0', "K90a", "../init.d/a");
    root
}

fn inittab(extra: &str) -> String {
    format!(
        "id:3:initdefault:\nsi::sysinit:{}\nbw::bootwait:{}\nl0:0:wait:vinit rc 0\nl2:2:wait:vinit rc 2\nl3:3:wait:vinit rc 3\n{extra}",
        note("sysinit"),
        note("bootwait")
    )
}

#[test]
fn boots_changes_levels_and_halts_in_order() {
    let mut init = Pid1::boot(
        rc_root(),
        Some(&inittab(&format!("o3:3:once:{}\n", note("once3")))),
        &[],
    );
    init.wait_for_runlevel("N 3");
    assert!(wait_until(10, || init.trace().len() >= 5));
    assert_eq!(
        init.trace(),
        ["sysinit", "bootwait", "a start 3 N", "b start 3 N", "once3"]
    );
    init.telinit(&["2"]);
    init.wait_for_runlevel("3 2");
    // Wait for rc 2 to finish: a new level would kill it mid-way (as sysvinit does).
    assert!(wait_until(10, || init.trace().len() >= 7));
    init.telinit(&["0"]);
    let status = init.wait_exit(20);
    assert_eq!(status.code(), Some(0), "{}", init.console());
    assert_eq!(
        init.trace()[5..],
        ["b stop 2 3", "c start 2 3", "c stop 0 2", "a stop 0 2"],
        "{}",
        init.console()
    );
    let console = init.console();
    assert!(
        console.contains("booting as PID 1 in a container"),
        "{console}"
    );
    assert!(console.contains("init: Entering runlevel: 2"), "{console}");
    assert!(console.contains("exiting with status 0"), "{console}");
}

#[test]
fn without_an_inittab_the_built_in_one_runs_the_rc_dirs() {
    let root = rc_root();
    root.script("s", &recorder("s"));
    root.link('S', "S01s", "../init.d/s");
    let mut init = Pid1::boot(root, None, &[]);
    init.wait_for_runlevel("N 3");
    assert!(wait_until(10, || init.trace().len() >= 3));
    assert_eq!(init.trace(), ["s start S N", "a start 3 N", "b start 3 N"]);
    assert!(
        init.console().contains("using the built-in default"),
        "{}",
        init.console()
    );
    init.signal(Signal::SIGTERM);
    assert_eq!(init.wait_exit(20).code(), Some(0));
}

#[test]
fn a_thousand_orphans_leave_no_zombie() {
    let spawner = "o:3:once:/bin/sh -c 'i=0; while [ $i -lt 1000 ]; do sleep 0.2 & i=$((i+1)); done; echo spawned > $VINIT_ROOT/spawned'";
    let init = Pid1::boot(
        TestRoot::debian(),
        Some(&format!("id:3:initdefault:\n{spawner}\n")),
        &[],
    );
    assert!(wait_until(20, || init.root.join("spawned").exists()));
    let pid = init.host_pid();
    // The sleeps are orphans of init now; once they end, none may stay a zombie.
    assert!(
        wait_until(30, || children_of(pid).is_empty()),
        "left: {} children, zombies: {}",
        children_of(pid).len(),
        children_of(pid)
            .iter()
            .filter(|c| state_of(**c) == Some('Z'))
            .count()
    );
}

#[test]
fn respawning_too_fast_is_throttled_and_lifted_by_reload() {
    let crash = "r:3:respawn:/bin/sh -c 'echo x >> $VINIT_ROOT/spawns; exit 1'";
    let init = Pid1::boot(
        TestRoot::debian(),
        Some(&format!("id:3:initdefault:\n{crash}\n")),
        &[],
    );
    init.wait_for_console("Id \"r\" respawning too fast: disabled for 5 minutes");
    let count = || init.root.read("spawns").lines().count();
    assert_eq!(count(), 10);
    // Disabled: nothing more starts.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(count(), 10);
    init.telinit(&["q"]);
    assert!(
        wait_until(10, || init.console().matches("respawning too fast").count()
            == 2),
        "{}",
        init.console()
    );
    assert_eq!(count(), 20);
}

#[test]
fn a_level_change_terms_then_kills_and_init_keeps_serving() {
    let stubborn = "t:3:respawn:/bin/sh -c 'trap \"\" TERM; echo $$ > $VINIT_ROOT/t.pid; while :; do sleep 1; done'";
    let meek = "m:3:respawn:/bin/sh -c 'echo $$ > $VINIT_ROOT/m.pid; exec sleep 1000'";
    let during = "e:2:once:/bin/sh -c 'echo $INIT_DURING > $VINIT_ROOT/during'";
    let init = Pid1::boot(
        TestRoot::debian(),
        Some(&format!(
            "id:3:initdefault:\n{stubborn}\n{meek}\n{during}\n"
        )),
        &[],
    );
    // Written by `echo`: wait for the numbers, not only the files.
    let written = |file: &str| init.root.read(file).trim().parse::<i32>().is_ok();
    assert!(wait_until(10, || written("t.pid") && written("m.pid")));
    // The two processes, found below init by the pid they wrote (their namespace pid).
    let init_pid = init.host_pid();
    let find = |file: &str| -> i32 {
        let ns_pid = init.root.read(file).trim().to_string();
        descendants(init_pid)
            .into_iter()
            .find(|p| {
                fs::read_to_string(format!("/proc/{p}/status")).is_ok_and(|s| {
                    s.lines().any(|l| {
                        l.starts_with("NSpid:")
                            && l.split_whitespace().last() == Some(ns_pid.as_str())
                    })
                })
            })
            .expect("process below init")
    };
    let (stubborn_pid, meek_pid) = (find("t.pid"), find("m.pid"));
    let gone = |pid: i32| matches!(state_of(pid), None | Some('Z'));
    // A sleep time long enough that a loaded machine still checks before the KILL.
    init.telinit(&["-t", "8", "2"]);
    assert!(wait_until(10, || gone(meek_pid)), "TERM stops the meek one");
    // While the stubborn one outlives TERM, init still reads requests.
    init.telinit(&["-e", "INIT_DURING=yes"]);
    assert!(!gone(stubborn_pid), "TERM should not have stopped it");
    assert!(
        wait_until(20, || init.root.read("during").trim() == "yes"),
        "{}",
        init.console()
    );
    assert!(
        wait_until(10, || gone(stubborn_pid)),
        "KILL after the sleep time"
    );
}

/// Every process below `pid`.
fn descendants(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        for c in children_of(p) {
            out.push(c);
            stack.push(c);
        }
    }
    out
}

#[test]
fn debian_telinit_drives_init() {
    let telinit = debian_telinit();
    let env_entry = "e:2:once:/bin/sh -c 'echo $INIT_FOO > $VINIT_ROOT/foo'";
    let mut init = Pid1::boot(rc_root(), Some(&inittab(&format!("{env_entry}\n"))), &[]);
    init.wait_for_runlevel("N 3");
    let debian = |args: &str| {
        // Debian's telinit writes to /run/initctl: give it our root's run directory there.
        let script = format!(
            "mount --bind {}/run /run && {} {args}",
            init.root.path().display(),
            telinit.display()
        );
        let out = std::process::Command::new("unshare")
            .args(["--mount", "sh", "-c", &script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    debian("-e INIT_FOO=from-debian");
    debian("-t 1 2");
    init.wait_for_runlevel("3 2");
    assert!(
        wait_until(10, || init.root.read("foo").trim() == "from-debian"),
        "{}",
        init.console()
    );
    debian("u");
    init.wait_for_console("re-executed");
    debian("0");
    assert_eq!(init.wait_exit(20).code(), Some(0));
}

#[test]
fn garbage_on_the_fifo_is_dropped() {
    let init = Pid1::boot(rc_root(), Some(&inittab("")), &[]);
    init.wait_for_runlevel("N 3");
    let fifo = init.root.join("run/initctl");
    let write = |bytes: &[u8]| {
        use std::io::Write;
        let mut f = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        f.write_all(bytes).unwrap();
    };
    // One at a time: garbage written together could be read together.
    write(b"hello");
    init.wait_for_console("short request (5 of 384 bytes)");
    write(&[0xffu8; 384]);
    init.wait_for_console("bad magic 0xffffffff");
    let mut bad_cmd = [0u8; 384];
    bad_cmd[..4].copy_from_slice(&0x0309_1969u32.to_le_bytes());
    bad_cmd[4] = 5;
    write(&bad_cmd);
    init.wait_for_console("unsupported command 5");
    let mut bad_level = bad_cmd;
    bad_level[4] = 1;
    bad_level[8] = b'x';
    write(&bad_level);
    init.wait_for_console("invalid runlevel code 120");
    // Still in charge.
    init.telinit(&["2"]);
    init.wait_for_runlevel("3 2");
}

#[test]
fn a_broken_inittab_on_reload_keeps_the_old_one() {
    let keeper = "k:23:respawn:/bin/sh -c 'echo $$ >> $VINIT_ROOT/k.pids; exec sleep 1000'";
    let init = Pid1::boot(rc_root(), Some(&inittab(&format!("{keeper}\n"))), &[]);
    assert!(wait_until(10, || init.root.read("k.pids").lines().count() == 1));
    fs::write(
        init.root.join("etc/inittab"),
        "k:23:respawn\nthis is not inittab\n",
    )
    .unwrap();
    init.signal(Signal::SIGHUP);
    init.wait_for_console("keeping the inittab in force");
    let console = init.console();
    assert!(console.contains("inittab[1]: syntax error"), "{console}");
    assert!(console.contains("inittab[2]: syntax error"), "{console}");
    // The old table still rules: a level change uses it, and the keeper was not touched.
    init.telinit(&["2"]);
    init.wait_for_runlevel("3 2");
    assert!(wait_until(10, || init
        .trace()
        .iter()
        .any(|l| l == "c start 2 3")));
    assert_eq!(init.root.read("k.pids").lines().count(), 1);
}

#[test]
fn sigterm_shuts_down_through_runlevel_0_and_waits_for_the_whole_tree() {
    // A daemon that ignores TERM, left behind by a once entry (an orphan of init).
    let daemon = "d:3:once:/bin/sh -c '(trap \"\" TERM; echo $$ > /dev/null; while :; do sleep 1; done) & echo started > $VINIT_ROOT/daemon'";
    let mut init = Pid1::boot(
        rc_root(),
        Some(&inittab(&format!("{daemon}\n"))),
        &["--grace", "1"],
    );
    assert!(wait_until(10, || init.root.join("daemon").exists()));
    init.signal(Signal::SIGTERM);
    let status = init.wait_exit(30);
    assert_eq!(status.code(), Some(0), "{}", init.console());
    assert_eq!(init.trace()[4..], ["c stop 0 3", "a stop 0 3"]);
    let console = init.console();
    let term = console.find("sending processes the TERM signal").unwrap();
    let kill = console
        .find("sending processes the KILL signal")
        .expect("the daemon ignores TERM");
    assert!(term < kill);
}

#[test]
fn the_main_command_runs_after_boot_and_its_status_is_init_s() {
    // The main command has the caller's environment, not the rc scripts' ($RUNLEVEL).
    let main = "echo main ${RUNLEVEL:-unset} >> $VINIT_ROOT/trace; exit 7";
    let mut init = Pid1::boot(
        rc_root(),
        Some(&inittab("")),
        &["--", "/bin/sh", "-c", main],
    );
    let status = init.wait_exit(30);
    assert_eq!(status.code(), Some(7), "{}", init.console());
    assert_eq!(
        init.trace()[2..],
        [
            "a start 3 N",
            "b start 3 N",
            "main unset",
            "c stop 0 3",
            "a stop 0 3"
        ]
    );

    let mut init = Pid1::boot(
        rc_root(),
        Some(&inittab("")),
        &["--", "/bin/sh", "-c", "kill -9 $$"],
    );
    assert_eq!(init.wait_exit(30).code(), Some(137));
}

#[test]
fn sigterm_stops_the_main_command_first() {
    let main = "trap 'echo main-term >> $VINIT_ROOT/trace; exit 143' TERM; echo main-up >> $VINIT_ROOT/trace; while :; do sleep 1; done";
    let mut init = Pid1::boot(
        rc_root(),
        Some(&inittab("")),
        &["--", "/bin/sh", "-c", main],
    );
    assert!(wait_until(10, || init
        .trace()
        .contains(&"main-up".to_string())));
    init.signal(Signal::SIGTERM);
    assert_eq!(init.wait_exit(30).code(), Some(143), "{}", init.console());
    let trace = init.trace();
    let term = trace.iter().position(|l| l == "main-term").unwrap();
    assert_eq!(trace[term + 1..], ["c stop 0 3", "a stop 0 3"]);
}

#[test]
fn children_get_an_empty_signal_mask_and_only_fds_0_to_2() {
    let init = Pid1::boot(
        TestRoot::debian(),
        Some("id:3:initdefault:\np:3:respawn:/bin/sleep 1000\n"),
        &[],
    );
    let init_pid = init.host_pid();
    let mut child = None;
    assert!(wait_until(10, || {
        child = children_of(init_pid).into_iter().find(|p| {
            fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "sleep")
        });
        child.is_some()
    }));
    let child = child.unwrap();
    let status = fs::read_to_string(format!("/proc/{child}/status")).unwrap();
    for field in ["SigBlk:", "SigIgn:"] {
        let line = status.lines().find(|l| l.starts_with(field)).unwrap();
        assert!(
            line.split_whitespace()
                .nth(1)
                .unwrap()
                .chars()
                .all(|c| c == '0'),
            "{line}"
        );
    }
    let mut fds: Vec<i32> = fs::read_dir(format!("/proc/{child}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    fds.sort();
    assert_eq!(fds, [0, 1, 2]);
    // Its own session, led by itself.
    let stat = fs::read_to_string(format!("/proc/{child}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(fields[3], child.to_string(), "session id");
}

#[test]
fn telinit_u_keeps_state_and_children() {
    let keeper = "k:3:respawn:/bin/sh -c 'echo $$ >> $VINIT_ROOT/k.pids; exec sleep 1000'";
    let init = Pid1::boot(rc_root(), Some(&inittab(&format!("{keeper}\n"))), &[]);
    assert!(wait_until(10, || init.root.read("k.pids").lines().count() == 1));
    init.telinit(&["-e", "INIT_KEPT=1"]);
    init.telinit(&["u"]);
    init.wait_for_console("re-executed; ");
    // The child is still known: killing it makes the new image respawn it.
    let init_pid = init.host_pid();
    let sleep = children_of(init_pid)
        .into_iter()
        .find(|p| fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "sleep"))
        .expect("the respawned child survived the re-exec");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(sleep), Signal::SIGKILL).unwrap();
    assert!(
        wait_until(10, || init.root.read("k.pids").lines().count() == 2),
        "{}",
        init.console()
    );
    assert_eq!(init.runlevel(), "N 3");
}

#[test]
fn a_subreaper_reaps_its_orphans_and_stops_on_sigterm() {
    let daemon = "d:3:once:/bin/sh -c 'sleep 1 & echo $! > $VINIT_ROOT/orphan.tmp; mv $VINIT_ROOT/orphan.tmp $VINIT_ROOT/orphan'";
    let mut init = Pid1::boot_subreaper(rc_root(), Some(&inittab(&format!("{daemon}\n"))), &[]);
    assert!(wait_until(10, || init.root.join("orphan").exists()));
    let init_pid = init.host_pid();
    let orphan: i32 = init.root.read("orphan").trim().parse().unwrap();
    let parent = |pid: i32| -> Option<i32> {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat.rsplit(')')
            .next()?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    // Re-parented to init (not to the machine's init), then reaped by it.
    assert!(
        wait_until(10, || parent(orphan) == Some(init_pid)),
        "parent {:?}",
        parent(orphan)
    );
    assert!(
        wait_until(10, || state_of(orphan).is_none()),
        "orphan {orphan} left as {:?}",
        state_of(orphan)
    );
    assert!(
        init.console().contains("booting as subreaper"),
        "{}",
        init.console()
    );
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(init_pid), Signal::SIGINT).unwrap();
    assert_eq!(init.wait_exit(20).code(), Some(0));
    assert!(init
        .trace()
        .ends_with(&["c stop 0 3".to_string(), "a stop 0 3".to_string()]));
}

#[test]
fn shutdown_reboot_and_cancel() {
    let mut init = Pid1::boot(rc_root(), Some(&inittab("")), &[]);
    init.wait_for_runlevel("N 3");
    // A shutdown in a minute closes logins at once; cancelling opens them again.
    let mut pending = std::process::Command::new(vinit_bin())
        .args([
            "shutdown",
            "--root",
            init.root.path().to_str().unwrap(),
            "-h",
            "+1",
            "maintenance",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_until(10, || init.root.join("etc/nologin").exists()
        && init.root.join("run/shutdown.pid").exists()));
    assert!(init
        .root
        .read("etc/nologin")
        .starts_with("The system is going down for power off in 1 minute!"));
    let cancel = init.vinit(&["shutdown", "-c"]);
    assert!(
        cancel.status.success(),
        "{}",
        String::from_utf8_lossy(&cancel.stderr)
    );
    assert_eq!(pending.wait().unwrap().code(), Some(1));
    assert!(!init.root.join("etc/nologin").exists());
    let again = init.vinit(&["shutdown", "-c"]);
    assert_eq!(again.status.code(), Some(1));

    let out = init.vinit(&["shutdown", "-r", "now", "bye"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("The system is going down for reboot NOW!\nbye"));
    let status = init.wait_exit(20);
    assert_eq!(status.code(), Some(129), "{}", init.console());
}

#[test]
fn halt_asks_init_with_init_halt() {
    let dump = "h:0:wait:/bin/sh -c 'echo $INIT_HALT > $VINIT_ROOT/halt'";
    let mut init = Pid1::boot(rc_root(), Some(&inittab(&format!("{dump}\n"))), &[]);
    init.wait_for_runlevel("N 3");
    let out = init.vinit(&["halt"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(init.wait_exit(20).code(), Some(0));
    assert_eq!(init.root.read("halt").trim(), "HALT");
}

#[test]
fn halt_f_in_a_pid_namespace_ends_the_namespace() {
    // reboot(2) from inside a PID namespace kills its init: SIGINT for halt or power off,
    // SIGHUP for a reboot.
    for (tool, signal) in [("poweroff", libc::SIGINT), ("reboot", libc::SIGHUP)] {
        let mut cmd = std::process::Command::new("unshare");
        cmd.args(common::pid1::namespace_prefix()[1..].iter())
            .args([
                "/bin/sh",
                "-c",
                &format!("{} {tool} -f -d; sleep 10", vinit_bin()),
            ]);
        let status = cmd.status().unwrap();
        assert_eq!(
            status.signal().or(status.code().map(|c| c - 128)),
            Some(signal),
            "{tool}: {status:?}"
        );
    }
}

#[test]
fn ondemand_entries_and_leaving_single_user_mode() {
    let entries = format!(
        "od:a:ondemand:/bin/sh -c 'echo demand $RUNLEVEL >> $VINIT_ROOT/trace; exec sleep 1000'\ns1:S:wait:{}\n",
        note("single")
    );
    let init = Pid1::boot(rc_root(), Some(&inittab(&entries)), &[]);
    init.wait_for_runlevel("N 3");
    init.telinit(&["a"]);
    assert!(
        wait_until(10, || init.trace().iter().any(|l| l == "demand 3")),
        "{}",
        init.console()
    );
    assert_eq!(init.runlevel(), "N 3");
    // S kills it; when S's wait entry is done, init returns to the default level.
    init.telinit(&["S"]);
    assert!(wait_until(20, || init
        .trace()
        .iter()
        .any(|l| l == "single")));
    init.wait_for_runlevel("S 3");
    assert_eq!(
        init.trace()
            .iter()
            .filter(|l| l.starts_with("demand"))
            .count(),
        1
    );
}

#[test]
fn runlevel_records_in_utmp_and_wtmp_where_they_exist() {
    let root = rc_root();
    fs::create_dir_all(root.join("var/log")).unwrap();
    fs::create_dir_all(root.join("run")).unwrap();
    fs::write(root.join("run/utmp"), b"").unwrap();
    fs::write(root.join("var/log/wtmp"), b"").unwrap();
    let init = Pid1::boot(root, Some(&inittab("")), &[]);
    init.wait_for_runlevel("N 3");
    init.telinit(&["2"]);
    init.wait_for_runlevel("3 2");
    let utmp = init.root.join("run/utmp").display().to_string();
    let out = init.vinit(&["runlevel", &utmp]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "3 2\n");
    // wtmp: the boot record, one RUN_LVL record per change, and the entries' processes.
    let wtmp = fs::read(init.root.join("var/log/wtmp")).unwrap();
    let kinds: Vec<u16> = vinit::format::utmp::records(&wtmp)
        .map(|r| r.kind)
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == vinit::format::utmp::BOOT_TIME)
            .count(),
        1
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == vinit::format::utmp::RUN_LVL)
            .count(),
        2
    );
    assert!(
        kinds.contains(&vinit::format::utmp::INIT_PROCESS)
            && kinds.contains(&vinit::format::utmp::DEAD_PROCESS)
    );
    // FIFOs where the files should be: an answer at once, no hang.
    let fifos = TestRoot::debian();
    fs::create_dir_all(fifos.join("run")).unwrap();
    for name in ["run/utmp", "run/runlevel"] {
        nix::unistd::mkfifo(&fifos.join(name), nix::sys::stat::Mode::S_IRWXU).unwrap();
    }
    let out = fifos.vinit(&["runlevel"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "unknown\n");
    let missing = vinit_cmd()
        .args(["runlevel", "--root", "/nonexistent"])
        .output()
        .unwrap();
    assert_eq!(
        (
            missing.status.code(),
            String::from_utf8_lossy(&missing.stdout).into_owned()
        ),
        (Some(1), "unknown\n".into())
    );
}

#[test]
fn power_keyboard_and_fifo_signals() {
    let entries = format!(
        "pf::powerfail:{}\npo::powerokwait:{}\nkb::kbrequest:{}\n",
        note("powerfail"),
        note("powerok"),
        note("kbrequest")
    );
    let mut init = Pid1::boot(rc_root(), Some(&inittab(&entries)), &[]);
    init.wait_for_runlevel("N 3");
    assert!(wait_until(10, || init.trace().len() == 4));
    fs::write(init.root.join("run/powerstatus"), "F\n").unwrap();
    init.signal(Signal::SIGPWR);
    assert!(wait_until(10, || init.trace().last().map(String::as_str)
        == Some("powerfail")));
    assert!(
        !init.root.join("run/powerstatus").exists(),
        "the status is consumed"
    );
    fs::write(init.root.join("run/powerstatus"), "O").unwrap();
    init.signal(Signal::SIGPWR);
    assert!(wait_until(10, || init.trace().last().map(String::as_str)
        == Some("powerok")));
    init.signal(Signal::SIGWINCH);
    assert!(wait_until(10, || init.trace().last().map(String::as_str)
        == Some("kbrequest")));
    // SIGUSR2 is harmless; SIGUSR1 re-creates a control FIFO that went away.
    init.signal(Signal::SIGUSR2);
    fs::remove_file(init.root.join("run/initctl")).unwrap();
    init.signal(Signal::SIGUSR1);
    assert!(wait_until(10, || init.root.join("run/initctl").exists()));
    init.telinit(&["2"]);
    init.wait_for_runlevel("3 2");
    // In a container, SIGPWR without a power status is LXC's clean stop.
    init.signal(Signal::SIGPWR);
    assert_eq!(init.wait_exit(20).code(), Some(0), "{}", init.console());
    assert!(init
        .console()
        .contains("SIGPWR without a power status: shutting down"));
}

#[test]
fn halt_w_only_writes_the_wtmp_record() {
    let root = TestRoot::debian();
    fs::create_dir_all(root.join("var/log")).unwrap();
    fs::write(root.join("var/log/wtmp"), b"").unwrap();
    let out = root.vinit(&["halt", "-w"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let wtmp = fs::read(root.join("var/log/wtmp")).unwrap();
    let records: Vec<_> = vinit::format::utmp::records(&wtmp).collect();
    assert_eq!(records.len(), 1);
    assert_eq!(
        (records[0].user.as_str(), records[0].id.as_str()),
        ("shutdown", "~~")
    );
    let out = root.vinit(&["poweroff", "-x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unexpected argument '-x'")
            && stderr(&out).contains("Usage: poweroff [OPTIONS]"),
        "{}",
        stderr(&out)
    );
}

/// Runs a command inside init's mount namespace (where a boot script's mounts happen).
fn in_init_namespace(init: &Pid1, command: &str) -> std::process::Output {
    std::process::Command::new("nsenter")
        .args([
            "-t",
            &init.host_pid().to_string(),
            "-m",
            "sh",
            "-c",
            command,
        ])
        .output()
        .unwrap()
}

#[test]
fn the_control_fifo_comes_back_when_a_tmpfs_is_mounted_over_run() {
    // What Debian's mountkernfs.sh does after init started.
    let telinit = debian_telinit();
    let mut init = Pid1::boot(rc_root(), Some(&inittab("")), &[]);
    init.wait_for_runlevel("N 3");
    let run = init.root.join("run");
    let mounted = in_init_namespace(&init, &format!("mount -t tmpfs tmpfs {}", run.display()));
    assert!(mounted.status.success(), "{mounted:?}");
    // An idle init is woken by the mount itself: the FIFO reappears with nobody asking.
    let fifo = run.join("initctl");
    assert!(
        wait_until(10, || in_init_namespace(
            &init,
            &format!("test -p {}", fifo.display())
        )
        .status
        .success()),
        "no FIFO in the new /run:\n{}",
        init.console()
    );
    // Debian's own telinit, run where the tree's scripts would run it.
    let out = in_init_namespace(
        &init,
        &format!(
            "unshare --mount sh -c 'mount --bind {} /run && {} 2'",
            run.display(),
            telinit.display()
        ),
    );
    assert!(out.status.success(), "{out:?}\n{}", init.console());
    init.wait_for_console("Entering runlevel: 2");
    // Removed by hand: back at the next event (here, the request's own signal).
    let out = in_init_namespace(
        &init,
        &format!(
            "rm {fifo} && kill -CHLD 1 && sleep 0.5 && test -p {fifo} && {vinit} --root {root} telinit 0",
            fifo = fifo.display(),
            vinit = vinit_bin(),
            root = init.root.path().display()
        ),
    );
    assert!(out.status.success(), "{out:?}\n{}", init.console());
    assert_eq!(init.wait_exit(20).code(), Some(0), "{}", init.console());
}

#[test]
fn a_control_fifo_init_did_not_make_is_replaced() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    for (mode, owner) in [(0o666, 0), (0o600, 65534)] {
        let root = rc_root();
        let fifo = root.join("run/initctl");
        fs::create_dir_all(root.join("run")).unwrap();
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        fs::set_permissions(&fifo, fs::Permissions::from_mode(mode)).unwrap();
        std::os::unix::fs::chown(&fifo, Some(owner), Some(owner)).unwrap();
        let mut init = Pid1::boot(root, Some(&inittab("")), &[]);
        init.wait_for_runlevel("N 3");
        let meta = fs::metadata(&fifo).unwrap();
        assert_eq!(
            (meta.mode() & 0o7777, meta.uid()),
            (0o600, 0),
            "{}",
            init.console()
        );
        assert!(
            init.console().contains("not init's own FIFO"),
            "{}",
            init.console()
        );
        init.telinit(&["0"]);
        assert_eq!(init.wait_exit(20).code(), Some(0));
    }
}

#[test]
fn init_not_pid_1_runs_only_on_a_root_chosen_on_purpose() {
    // Should the refusal ever break, the host's boot scripts must still be out of reach:
    // the bare init runs with an empty /etc in a mount namespace of its own, and is
    // stopped after a while.
    let mut unshare = std::process::Command::new("unshare");
    if !nix::unistd::geteuid().is_root() {
        unshare.args(["--user", "--map-root-user"]);
    }
    let bare = unshare
        .args(["--mount", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs tmpfs /etc && exec timeout -s KILL 10 {} init",
            vinit_bin()
        ))
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .unwrap();
    assert_eq!(bare.status.code(), Some(1), "{bare:?}");
    let text = String::from_utf8_lossy(&bare.stderr);
    assert!(
        text.starts_with("init: not PID 1: choose the system"),
        "{text}"
    );
    assert!(bare.stdout.is_empty());

    let missing = vinit_cmd()
        .args(["init", "--root", "/nonexistent/vinit-root", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        "init: root /nonexistent/vinit-root: No such file or directory\n"
    );

    // Chosen explicitly (`--root=DIR` too, or VINIT_ROOT), it runs.
    let root = TestRoot::debian();
    let ok = vinit_cmd()
        .arg("init")
        .arg(format!("--root={}", root.path().display()))
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    let ok = vinit_cmd()
        .env("VINIT_ROOT", root.path())
        .args(["init", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
}

#[test]
fn a_reload_that_cannot_read_inittab_keeps_the_table_and_says_why() {
    let keeper = "k:23:respawn:/bin/sh -c 'echo $$ >> $VINIT_ROOT/k.pids; exec sleep 1000'";
    let mut init = Pid1::boot(rc_root(), Some(&inittab(&format!("{keeper}\n"))), &[]);
    assert!(wait_until(10, || init.root.read("k.pids").lines().count() == 1));
    let path = init.root.join("etc/inittab");
    let good = fs::read(&path).unwrap();
    // Each broken form in turn: missing, a FIFO (whose open would block), a link to
    // an endless device, a file too large to be an inittab.
    let breakers: [(&str, &dyn Fn()); 4] = [
        ("No such file or directory", &|| {}),
        ("not a regular file", &|| {
            nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).unwrap()
        }),
        ("not a regular file", &|| {
            std::os::unix::fs::symlink("/dev/zero", &path).unwrap()
        }),
        ("larger than", &|| {
            fs::File::create(&path).unwrap().set_len(64 << 20).unwrap()
        }),
    ];
    for (n, (why, breaker)) in breakers.iter().enumerate() {
        let _ = fs::remove_file(&path);
        breaker();
        init.signal(Signal::SIGHUP);
        let kept = |console: String| {
            let lines: Vec<&str> = console
                .lines()
                .filter(|l| l.ends_with("; keeping the inittab in force"))
                .collect();
            lines.len() == n + 1 && lines[n].contains(why)
        };
        assert!(
            wait_until(10, || kept(init.console())),
            "{why}:\n{}",
            init.console()
        );
    }
    fs::remove_file(&path).unwrap();
    fs::write(&path, &good).unwrap();
    // The table held all along: the keeper was never killed, and init still answers.
    assert_eq!(
        init.root.read("k.pids").lines().count(),
        1,
        "{}",
        init.console()
    );
    init.telinit(&["0"]);
    assert_eq!(init.wait_exit(20).code(), Some(0), "{}", init.console());
}

#[test]
fn a_latin1_byte_costs_one_line_of_inittab_not_the_file() {
    let mut text =
        inittab("k:3:respawn:/bin/sh -c 'echo up >> $VINIT_ROOT/k.log; exec sleep 1000'\n")
            .into_bytes();
    text.extend_from_slice(b"# r\xe9seau: the gettys\nbad:3:once:/bin/\xe9cho\n");
    let root = rc_root();
    fs::write(root.join("etc/inittab"), &text).unwrap();
    let mut init = Pid1::boot(root, None, &[]);
    init.wait_for_runlevel("N 3");
    assert!(
        wait_until(10, || init.root.read("k.log") == "up\n"),
        "{}",
        init.console()
    );
    assert!(
        init.console().contains("inittab[9]: not valid UTF-8"),
        "{}",
        init.console()
    );
    assert!(!init.console().contains("built-in"), "{}", init.console());
    init.telinit(&["0"]);
    assert_eq!(init.wait_exit(20).code(), Some(0));
}

#[test]
fn the_boot_record_comes_after_sysinit_as_sysvinit_writes_it() {
    // Debian's bootmisc.sh (rcS) creates utmp: the boot record must be written after
    // the sysinit entries, or `who -b` finds nothing.
    let root = rc_root();
    fs::create_dir_all(root.join("run")).unwrap();
    let tab = "id:3:initdefault:\nsi::sysinit:/bin/sh -c ': > $VINIT_ROOT/run/utmp'\nl0:0:wait:vinit rc 0\nl3:3:wait:vinit rc 3\n";
    let mut init = Pid1::boot(root, Some(tab), &[]);
    init.wait_for_runlevel("N 3");
    let utmp = init.root.join("run/utmp");
    let records: Vec<_> = vinit::format::utmp::records(&fs::read(&utmp).unwrap()).collect();
    let release = nix::sys::utsname::uname().unwrap();
    let release = release.release().to_string_lossy();
    let boot = records
        .iter()
        .find(|r| r.kind == vinit::format::utmp::BOOT_TIME)
        .expect("a boot record in utmp");
    assert_eq!(
        (boot.user.as_str(), boot.host.as_str()),
        ("reboot", &*release)
    );
    let level = records
        .iter()
        .find(|r| r.kind == vinit::format::utmp::RUN_LVL)
        .expect("a runlevel record");
    assert_eq!(
        level.pid,
        '3' as i32 + 256 * 'N' as i32,
        "sysvinit's encoding"
    );
    // The real who(1) reads them.
    let who = std::process::Command::new("who")
        .arg("-b")
        .arg(&utmp)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&who.stdout).contains("system boot"),
        "{who:?}"
    );
    init.telinit(&["0"]);
    assert_eq!(init.wait_exit(20).code(), Some(0));
}

#[test]
fn shutdown_is_for_root_only_as_with_sysvinit() {
    use std::os::unix::fs::PermissionsExt;
    // Debian's shutdown beside ours, both run as nobody (copied where nobody can reach).
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let theirs = dir.path().join("shutdown");
    fs::copy(peer("sysvinit-core", "sbin/shutdown"), &theirs).unwrap();
    let root = TestRoot::debian();
    fs::set_permissions(root.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let as_nobody = |program: &str, args: &[&str]| {
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", program])
            .args(args)
            .env_clear()
            .env("VINIT_ROOT", root.path())
            .output()
            .unwrap()
    };
    for args in [&["-h", "now"][..], &["-k", "now", "hello"], &["-c"]] {
        let debian = as_nobody(theirs.to_str().unwrap(), args);
        let mut ours_args = vec!["shutdown"];
        ours_args.extend(args);
        let ours = as_nobody(vinit_bin(), &ours_args);
        assert_eq!(ours.status.code(), debian.status.code(), "{args:?}");
        assert_eq!(ours.status.code(), Some(1));
        let first = |o: &std::process::Output| {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .next()
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(first(&ours), first(&debian), "{args:?}");
        assert!(ours.stdout.is_empty());
    }
    assert!(!root.join("etc/nologin").exists());
}

/// Idle, init keeps resident only what its wait uses: the read-only data it needed to
/// start (relocations, constants, unwind tables) are released, and its code down to the
/// few fault-around windows the wait runs in. (The whole start-up stayed mapped before:
/// 940 kB of read-only data and 1.8 MB of code for the debug build, 384 kB and 608 kB for
/// the static release build.)
#[test]
fn idle_init_keeps_only_its_working_set() {
    let init = Pid1::boot(TestRoot::debian(), Some("id:3:initdefault:\n"), &[]);
    init.wait_for_runlevel("N 3");
    let pid = init.host_pid();
    let mut seen = Resident::default();
    let idle = wait_until(30, || {
        seen = Resident::of(pid);
        seen.read_only_data_kb <= 64 && seen.code_kb <= 1024
    });
    assert!(idle, "{seen:?}\n{}", init.console());
    // And it wakes from there: everything it released comes back as it is used.
    init.telinit(&["5"]);
    init.wait_for_runlevel("3 5");
}

/// Resident kB of a process's file pages that it never wrote (no private copies).
#[derive(Debug, Default)]
struct Resident {
    read_only_data_kb: u64,
    code_kb: u64,
}

impl Resident {
    fn of(pid: i32) -> Resident {
        let smaps = fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
        let mut found = Resident::default();
        let mut perms = String::new();
        let mut file_backed = false;
        let mut rss = 0;
        for line in smaps.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [range, p, _, _, inode, ..] if !range.ends_with(':') => {
                    perms = p.to_string();
                    file_backed = *inode != "0";
                }
                ["Rss:", kb, "kB"] => rss = kb.parse().unwrap_or(0),
                ["Anonymous:", "0", "kB"] if file_backed => match perms.as_str() {
                    "r--p" => found.read_only_data_kb += rss,
                    "r-xp" => found.code_kb += rss,
                    _ => {}
                },
                _ => {}
            }
        }
        found
    }
}
