//! `ntsysv` end to end: the real binary on a pseudo-terminal (a tmux pane), driven by
//! keys; what it leaves on disk, its exit status, and the terminal it gives back.
//! The errors it reports without a screen need no terminal.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BETA: &str = "#!/bin/sh\n# chkconfig: 345 60 40\n# description: Beta.\n";
const SECRET: &str = "#!/bin/sh\n# chkconfig: 2345 10 90\n# hide: true\n";
const ECHO: &str = "# default: off\n# description: echo\nservice echo\n{\n\ttype\t\t= INTERNAL\n\n\tdisable\t\t= yes\n}\n";
const DAYTIME: &str = "service daytime\n{\n  type = INTERNAL\n  disable = no\n}\n";

/// A Debian root: alpha on in 2345 (K in 0 1 6), beta off everywhere, secret hidden
/// and on in 3, unlinked never linked (so not offered), xinetd services echo (off)
/// and daytime (on).
fn example() -> TestRoot {
    let r = TestRoot::debian();
    r.script("alpha", ALPHA);
    r.script("beta", BETA);
    r.script("secret", SECRET);
    r.script("unlinked", BETA);
    for level in "0123456".chars() {
        r.link(level, "K40beta", "../init.d/beta");
    }
    r.link('3', "S10secret", "../init.d/secret");
    for (level, link) in ALPHA_LINKS {
        r.service_link(level, link);
    }
    fs::create_dir_all(r.join("etc/xinetd.d")).unwrap();
    fs::write(r.join("etc/xinetd.d/echo"), ECHO).unwrap();
    fs::write(r.join("etc/xinetd.d/daytime"), DAYTIME).unwrap();
    r
}

/// ntsysv running in a tmux pane of its own server, started by a wrapper that records
/// its pid, its exit status and the terminal settings it leaves behind.
struct Pane {
    dir: tempfile::TempDir,
    socket: PathBuf,
}

impl Pane {
    fn start(root: &Path, args: &[&str]) -> Pane {
        Pane::start_sized(root, args, 80, 24)
    }

    fn start_sized(root: &Path, args: &[&str], width: u16, height: u16) -> Pane {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let wrapper = dir.path().join("run.sh");
        fs::write(
            &wrapper,
            format!(
                "echo before-ntsysv\n\
                 sh -c 'echo $$ > \"$0/pid\"; exec \"$@\"' '{d}' '{VINIT}' --root '{}' ntsysv {}\n\
                 rc=$?\n\
                 stty -a > '{d}/stty'\n\
                 echo $rc > '{d}/status.tmp' && mv '{d}/status.tmp' '{d}/status'\n\
                 exec sleep 600\n",
                root.display(),
                args.join(" ")
            ),
        )
        .unwrap();
        let pane = Pane {
            socket: dir.path().join("tmux.sock"),
            dir,
        };
        let out = pane
            .tmux()
            .args(["-f", "/dev/null", "new-session", "-d"])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(format!("sh {}", wrapper.display()))
            .output()
            .expect("tmux is needed for ntsysv's terminal tests (apt-get install tmux)");
        assert!(out.status.success(), "tmux: {}", stderr(&out));
        pane
    }

    fn tmux(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("TERM", "xterm")
            .arg("-S")
            .arg(&self.socket);
        cmd
    }

    /// Sends tmux key names (`Space`, `Tab`, `Enter`, `Escape`, `F1`, `Down`, ...).
    fn keys(&self, keys: &[&str]) {
        let out = self.tmux().arg("send-keys").args(keys).output().unwrap();
        assert!(out.status.success(), "send-keys: {}", stderr(&out));
    }

    /// Types text literally.
    fn type_text(&self, text: &str) {
        let out = self
            .tmux()
            .args(["send-keys", "-l", text])
            .output()
            .unwrap();
        assert!(out.status.success());
    }

    fn screen(&self) -> String {
        stdout(&self.tmux().args(["capture-pane", "-p"]).output().unwrap())
    }

    /// Waits until the screen shows `text`; returns the screen.
    fn wait_for(&self, text: &str) -> String {
        let mut screen = String::new();
        let found = wait_until(20, || {
            screen = self.screen();
            screen.contains(text)
        });
        assert!(found, "{text:?} never appeared; the screen:\n{screen}");
        screen
    }

    /// Waits until the screen no longer shows `text`.
    fn wait_gone(&self, text: &str) {
        let mut screen = String::new();
        let gone = wait_until(20, || {
            screen = self.screen();
            !screen.contains(text)
        });
        assert!(gone, "{text:?} stayed; the screen:\n{screen}");
    }

    /// Waits for ntsysv to end; its exit status (as the shell reports it).
    fn status(&self) -> i32 {
        let file = self.dir.path().join("status");
        assert!(
            wait_until(20, || file.exists()),
            "ntsysv did not exit; the screen:\n{}",
            self.screen()
        );
        fs::read_to_string(file).unwrap().trim().parse().unwrap()
    }

    fn pid(&self) -> i32 {
        let file = self.dir.path().join("pid");
        assert!(wait_until(20, || fs::read_to_string(&file)
            .is_ok_and(|t| t.ends_with('\n'))));
        fs::read_to_string(file).unwrap().trim().parse().unwrap()
    }

    /// `stty -a` as the terminal was right after ntsysv.
    fn stty(&self) -> String {
        fs::read_to_string(self.dir.path().join("stty")).unwrap()
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").output();
    }
}

const PROMPT: &str = "What services should be automatically started?";

#[test]
fn toggle_two_services_review_and_apply() {
    let r = example();
    let superserver = FakeSuperserver::start(&r);
    let pane = Pane::start(r.path(), &[]);
    let screen = pane.wait_for(PROMPT);
    assert!(screen.contains("Services"));
    assert!(screen.contains("SysV initscripts"));
    assert!(screen.contains("xinetd services"));
    // Sorted by name in each section; the hidden service shows without --hide.
    let order: Vec<usize> = [
        "[*] alpha",
        "[ ] beta",
        "[*] secret",
        "[*] daytime",
        "[ ] echo",
    ]
    .iter()
    .map(|t| screen.find(t).unwrap_or_else(|| panic!("{t}:\n{screen}")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{screen}");
    assert!(screen.contains("[*] alpha            off off  on  on  on  on off"));
    assert!(screen.contains("[*] secret            -   -   -   on  -   -   -"));
    assert!(!screen.contains("unlinked"), "{screen}");

    // alpha off, echo on (through the filter); Tab to Ok; Enter.
    pane.keys(&["Space"]);
    pane.type_text("ech");
    pane.wait_for("(1 of 5)");
    pane.keys(&["Space", "C-u", "Tab", "Enter"]);
    let review = pane.wait_for("Apply these changes?");
    for line in [
        "alpha: off in runlevels 2 3 4 5",
        "level 2: S55alpha -> K25alpha",
        "level 5: S55alpha -> K25alpha",
        "echo (xinetd): on",
    ] {
        assert!(review.contains(line), "{line}:\n{review}");
    }
    // Nothing is applied before the review is accepted.
    assert_eq!(r.links_of("alpha")[2], "2:S55alpha");
    pane.keys(&["Enter"]);
    assert_eq!(pane.status(), 0);
    assert_eq!(
        r.links_of("alpha"),
        [
            "0:K25alpha",
            "1:K25alpha",
            "2:K25alpha",
            "3:K25alpha",
            "4:K25alpha",
            "5:K25alpha",
            "6:K25alpha"
        ]
    );
    assert_eq!(
        fs::read_to_string(r.join("etc/xinetd.d/echo")).unwrap(),
        ECHO.replace("= yes", "= no")
    );
    assert_eq!(
        fs::read_to_string(r.join("etc/xinetd.d/daytime")).unwrap(),
        DAYTIME
    );
    assert_eq!(r.links_of("beta")[3], "3:K40beta");
    assert!(wait_until(10, || superserver.hups() == "hup\n"));
    // The terminal is back: normal screen, cooked mode.
    assert!(
        pane.screen().starts_with("before-ntsysv"),
        "{}",
        pane.screen()
    );
    assert!(pane.stty().contains(" icanon"), "{}", pane.stty());
}

#[test]
fn a_batch_reloads_the_superserver_once_and_orders_lsb_services() {
    let r = example();
    r.script(
        "gamma",
        "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: gamma\n# Required-Start: alpha\n\
         # Required-Stop: alpha\n# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n### END INIT INFO\n",
    );
    for level in "0123456".chars() {
        r.link(level, "K24gamma", "../init.d/gamma");
    }
    let superserver = FakeSuperserver::start(&r);
    let pane = Pane::start(r.path(), &["--level", "35"]);
    pane.wait_for("Runlevels edited: 3 5");
    // gamma on (after alpha: S56), both xinetd services switched.
    pane.keys(&[
        "Down", "Down", "Space", "End", "Space", "Up", "Space", "F12",
    ]);
    let review = pane.wait_for("Apply these changes?");
    assert!(review.contains("gamma: on in runlevels 3 5"), "{review}");
    assert!(review.contains("level 3: K24gamma -> S56gamma"), "{review}");
    pane.keys(&["Enter"]);
    assert_eq!(pane.status(), 0);
    assert_eq!(
        r.links_of("gamma"),
        [
            "0:K24gamma",
            "1:K24gamma",
            "2:K24gamma",
            "3:S56gamma",
            "4:K24gamma",
            "5:S56gamma",
            "6:K24gamma"
        ]
    );
    assert!(fs::read_to_string(r.join("etc/xinetd.d/daytime"))
        .unwrap()
        .contains("disable = yes"));
    assert!(wait_until(10, || superserver.hups() == "hup\n"));
}

#[test]
fn cancel_back_and_esc_change_nothing() {
    let r = example();
    let before = r.links_of("alpha");
    let pane = Pane::start(r.path(), &[]);
    pane.wait_for(PROMPT);
    pane.keys(&["Space", "Escape"]);
    assert_eq!(pane.status(), 1);
    assert_eq!(r.links_of("alpha"), before);

    let pane = Pane::start(r.path(), &["--back", "--hide"]);
    let screen = pane.wait_for("[  Back  ]");
    assert!(!screen.contains("secret"), "{screen}");
    pane.keys(&["Space", "Tab", "Tab", "Enter"]);
    assert_eq!(pane.status(), 1);
    assert_eq!(r.links_of("alpha"), before);
    assert_eq!(
        fs::read_to_string(r.join("etc/xinetd.d/echo")).unwrap(),
        ECHO
    );

    // Ok with nothing changed exits 0 at once.
    let pane = Pane::start(r.path(), &[]);
    pane.wait_for(PROMPT);
    pane.keys(&["Space", "Space", "Enter"]);
    assert_eq!(pane.status(), 0);
    assert_eq!(r.links_of("alpha"), before);
}

#[test]
fn f1_describes_the_service() {
    let r = example();
    let pane = Pane::start(r.path(), &[]);
    pane.wait_for(PROMPT);
    pane.keys(&["F1"]);
    let screen = pane.wait_for("The alpha service on two lines.");
    assert!(screen.contains("─ alpha ─"), "{screen}");
    // Esc closes the window only. (Sent alone: an Escape and an arrow key arriving in
    // one read are not told apart by the terminal library.)
    pane.keys(&["Escape"]);
    pane.wait_gone("two lines");
    pane.keys(&["Down", "F1"]);
    pane.wait_for("Beta.");
    pane.keys(&["Enter", "Escape"]);
    assert_eq!(pane.status(), 1);
}

#[test]
fn signals_give_the_terminal_back() {
    for (signal, status) in [
        (nix::sys::signal::Signal::SIGTERM, 143),
        (nix::sys::signal::Signal::SIGHUP, 129),
    ] {
        let r = example();
        let pane = Pane::start(r.path(), &[]);
        pane.wait_for(PROMPT);
        pane.keys(&["Space"]);
        pane.wait_for("[ ] alpha");
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pane.pid()), signal).unwrap();
        assert_eq!(pane.status(), status, "{signal}");
        assert_eq!(r.links_of("alpha")[2], "2:S55alpha");
        let screen = pane.screen();
        assert!(screen.starts_with("before-ntsysv"), "{signal}:\n{screen}");
        assert!(!screen.contains(PROMPT));
        let stty = pane.stty();
        assert!(
            stty.contains(" icanon") && stty.contains(" echo "),
            "{stty}"
        );
    }
}

#[test]
fn a_terminal_that_hangs_up_ends_ntsysv() {
    // Closing the window (here: the whole tmux server) must end ntsysv, not leave it
    // spinning on a dead terminal.
    let r = example();
    let pane = Pane::start(r.path(), &[]);
    pane.wait_for(PROMPT);
    pane.keys(&["Space"]);
    pane.wait_for("[ ] alpha");
    let pid = pane.pid();
    let out = pane.tmux().arg("kill-server").output().unwrap();
    assert!(out.status.success());
    let running = || {
        fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit(')')
                    .next()
                    .and_then(|r| r.split_whitespace().next())
                    .map(str::to_owned)
            })
            .is_some_and(|state| state != "Z" && state != "X")
    };
    assert!(
        wait_until(10, || !running()),
        "ntsysv (pid {pid}) still runs after the hang-up"
    );
    assert_eq!(r.links_of("alpha")[2], "2:S55alpha", "nothing applied");
}

#[test]
fn redraws_on_resize_and_works_at_the_smallest_size() {
    let r = example();
    let pane = Pane::start_sized(r.path(), &[], 120, 40);
    pane.wait_for(PROMPT);
    let out = pane
        .tmux()
        .args(["resize-window", "-x", "80", "-y", "24"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let screen = pane.wait_for("│ [*] alpha            off off  on  on  on  on off");
    assert!(
        screen
            .lines()
            .nth(22)
            .is_some_and(|l| l.starts_with('└') && l.chars().count() == 80),
        "{screen}"
    );
    pane.keys(&["Escape"]);
    assert_eq!(pane.status(), 1);
}

fn ntsysv(r: &TestRoot, args: &[&str]) -> Output {
    vinit_cmd()
        .arg("--root")
        .arg(r.path())
        .arg("ntsysv")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn errors_before_any_screen() {
    let r = example();
    let out = ntsysv(&r, &["--level", "27"]);
    assert_eq!(
        (out.status.code(), stderr(&out).as_str()),
        (Some(2), "bad argument to --levels\n")
    );
    let out = ntsysv(&r, &["--levels="]);
    assert_eq!(out.status.code(), Some(2));
    // No terminal: a clear message, not a garbled screen.
    let out = ntsysv(&r, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "ntsysv: a terminal is needed, and standard output is not one\n"
    );
    assert!(out.stdout.is_empty());

    let out = ntsysv(&r, &["--bogus"]);
    assert_eq!(
        (out.status.code(), stderr(&out).as_str()),
        (Some(1), "--bogus: unknown option\n")
    );
    let out = ntsysv(&r, &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("usage: ntsysv [--level LEVELS]"));

    // Neither a script without header nor one never linked can be managed.
    let empty = TestRoot::debian();
    empty.script("noheader", "#!/bin/sh\n");
    empty.script("unlinked", BETA);
    let out = ntsysv(&empty, &[]);
    assert_eq!(
        (out.status.code(), stderr(&out).as_str()),
        (Some(2), "No services may be managed by ntsysv!\n")
    );
    let hidden_only = TestRoot::debian();
    hidden_only.script("secret", SECRET);
    assert_eq!(ntsysv(&hidden_only, &["--hide"]).status.code(), Some(2));

    // Readable, not writable, for an unprivileged user.
    fs::set_permissions(r.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let out = vinit_cmd()
        .arg("--root")
        .arg(r.path())
        .arg("ntsysv")
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    assert_eq!(
        (out.status.code(), stderr(&out).as_str()),
        (Some(1), "You must be root to run ntsysv.\n")
    );
    // --root=DIR as well as --root DIR: one without init.d has nothing to read.
    fs::remove_dir_all(r.join("etc/init.d")).unwrap();
    let out = r.tool_root_eq("ntsysv", &[]);
    assert_eq!(
        (out.status.code(), stderr(&out)),
        (
            Some(2),
            format!(
                "ntsysv: failed to open {}: No such file or directory\n",
                r.join("etc/init.d").display()
            )
        )
    );
}
