//! vinit's `start-stop-daemon` side by side with dpkg's (`peer("dpkg",
//! "sbin/start-stop-daemon")`): each scenario runs once with each tool, in the same
//! directory with the same program path, and the transcripts — exit statuses, messages
//! (pids masked), what runs afterwards — must be the same.
//!
//! Both are called `start-stop-daemon` (argv[0]), so their messages name the same
//! program. Each test has a program of its own (a copy of sleep), so that a scan of
//! /proc only ever finds the test's own processes.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

mod common;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tool {
    Dpkg,
    Vinit,
}

/// One scenario's scratch directory and program, used by one tool at a time.
struct Bench {
    tool: Tool,
    dir: PathBuf,
    prog: PathBuf,
    transcript: Vec<String>,
    /// Pids to mask in messages (they differ from run to run).
    pids: Vec<i32>,
}

impl Bench {
    fn new(tool: Tool, dir: &Path, name: &str) -> Bench {
        let prog = dir.join(name);
        if !prog.exists() {
            std::fs::copy("/bin/sleep", &prog).unwrap();
        }
        Bench {
            tool,
            dir: dir.to_path_buf(),
            prog,
            transcript: Vec::new(),
            pids: Vec::new(),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    fn prog(&self) -> String {
        self.prog.to_string_lossy().into_owned()
    }

    /// Runs the tool; the transcript gets the arguments, the exit status, stdout and
    /// (with `with_stderr`) stderr, pids and the directory masked.
    fn run(&mut self, args: &[&str], with_stderr: bool) -> i32 {
        let program = match self.tool {
            Tool::Dpkg => common::peer("dpkg", "sbin/start-stop-daemon"),
            Tool::Vinit => PathBuf::from(common::VINIT),
        };
        let out = Command::new(program)
            .arg0("start-stop-daemon")
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("VINIT_ROOT", &self.dir)
            .output()
            .unwrap();
        let code = out.status.code().unwrap_or(-1);
        let mut entry = format!(
            "{} -> {code}\n{}",
            self.mask(&args.join(" ")),
            self.mask(&common::stdout(&out))
        );
        if with_stderr {
            entry.push_str(&format!("stderr: {}", self.mask(&common::stderr(&out))));
        }
        self.transcript.push(entry);
        code
    }

    fn ssd(&mut self, args: &[&str]) -> i32 {
        self.run(args, true)
    }

    /// Exit status and stdout only (usage messages of getopt and of vinit differ).
    fn ssd_quiet_err(&mut self, args: &[&str]) -> i32 {
        self.run(args, false)
    }

    /// The exit status only, where the messages differ on purpose (see doc/syslog.md).
    fn ssd_status_only(&mut self, args: &[&str]) -> i32 {
        self.run(args, false);
        let entry = self.transcript.pop().unwrap_or_default();
        let first = entry.lines().next().unwrap_or_default().to_string();
        self.transcript.push(first);
        0
    }

    fn note(&mut self, what: &str) {
        let text = self.mask(what);
        self.transcript.push(text);
    }

    fn mask(&self, text: &str) -> String {
        let mut text = text.replace(&*self.dir.to_string_lossy(), "DIR");
        for pid in &self.pids {
            text = common::replace_number(&text, *pid, "PID");
        }
        text
    }

    /// Live processes of the program.
    fn running(&self) -> Vec<i32> {
        let mut pids = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            if std::fs::read_link(entry.path().join("exe")).ok().as_deref() == Some(&self.prog)
                && common::alive(pid)
            {
                pids.push(pid);
            }
        }
        pids
    }

    /// Waits until `count` processes of the program run and the others have been
    /// reaped (dpkg's tool counts a zombie as running), and notes how many run.
    fn settle(&mut self, count: usize) {
        common::wait_until(20, || self.running().len() == count);
        self.reaped();
        let running = self.running();
        self.pids.extend(&running);
        self.note(&format!("running: {}", running.len()));
    }

    /// Waits until every process seen before and not running is gone from /proc.
    fn reaped(&self) {
        let running = self.running();
        common::wait_until(20, || {
            self.pids
                .iter()
                .filter(|p| !running.contains(p))
                .all(|p| !Path::new(&format!("/proc/{p}")).exists())
        });
    }

    /// Notes what the pidfile says: missing, a running process of the program, or
    /// something else.
    fn pidfile(&mut self, name: &str) {
        let text = std::fs::read_to_string(self.dir.join(name));
        let said = match text {
            Err(_) => "missing".to_string(),
            Ok(t) => match t.trim().parse::<i32>() {
                Ok(pid) if self.running().contains(&pid) => "names the program".into(),
                Ok(_) => "names another pid".into(),
                Err(_) => format!("holds {t:?}"),
            },
        };
        self.note(&format!("{name}: {said}"));
    }

    /// The program run directly, as a stranger would.
    fn stranger(&mut self) -> Child {
        let child = Command::new(&self.prog).arg("1000").spawn().unwrap();
        self.pids.push(child.id() as i32);
        child
    }

    /// Kills whatever of the program still runs and removes the files the scenario
    /// made, for the other tool's turn.
    fn clean(&self) {
        for pid in self.running() {
            common::send_signal(pid, libc::SIGKILL);
        }
        common::wait_until(20, || self.running().is_empty());
        for entry in std::fs::read_dir(&self.dir).unwrap().flatten() {
            if entry.path() != self.prog && entry.file_type().unwrap().is_file() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Runs `scenario` with dpkg's tool, then with vinit's, in one directory, and compares
/// the transcripts.
fn side_by_side(name: &str, scenario: impl Fn(&mut Bench)) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut transcripts = Vec::new();
    for tool in [Tool::Dpkg, Tool::Vinit] {
        let mut bench = Bench::new(tool, tmp.path(), name);
        scenario(&mut bench);
        bench.clean();
        transcripts.push(bench.transcript.join("\n"));
    }
    assert_eq!(
        transcripts[0], transcripts[1],
        "dpkg's start-stop-daemon (left) and vinit's (right) differ"
    );
}

fn script(bench: &Bench, name: &str, body: &str) -> String {
    let path = bench.dir.join(name);
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn start_status_and_stop_with_a_pidfile() {
    side_by_side("ssd-pidfile", |b| {
        let (prog, pidfile) = (b.prog(), b.path("p.pid"));
        let start = ["-S", "-b", "-m", "-p", &pidfile, "-x", &prog, "--", "1000"];
        b.ssd(&start);
        b.settle(1);
        b.pidfile("p.pid");
        b.ssd(&start);
        b.ssd(&[&start[..], &["--oknodo"]].concat());
        b.ssd(&[&start[..], &["--quiet"]].concat());
        b.ssd(&["-T", "-p", &pidfile]);
        b.ssd(&["--status", "--pidfile", &pidfile, "--exec", &prog]);
        b.ssd(&["-T", "-x", &prog]);
        b.ssd(&["-T", "-p", &pidfile, "-n", "other-name"]);
        b.ssd(&["-K", "-p", &pidfile, "-x", &prog]);
        b.settle(0);
        b.ssd(&["-T", "-p", &pidfile]);
        // dpkg's tool tries to signal the dead pid the pidfile names, and says so.
        b.ssd_status_only(&["-K", "-p", &pidfile]);
        b.ssd(&["-K", "-p", &pidfile, "-x", &prog, "--oknodo"]);
        b.ssd_status_only(&["-K", "-p", &pidfile, "--remove-pidfile", "-o"]);
        b.pidfile("p.pid");
        b.ssd(&["-T", "-p", &pidfile]);
        b.ssd(&["-T", "-x", &prog]);
    });
}

#[test]
fn stop_without_a_pidfile_finds_the_program() {
    side_by_side("ssd-scan", |b| {
        let prog = b.prog();
        let mut strangers = vec![b.stranger(), b.stranger()];
        b.settle(2);
        b.ssd(&["-T", "-x", &prog]);
        b.ssd(&["-T", "-n", "ssd-scan", "-u", "0"]);
        b.ssd(&["-T", "-x", &prog, "--user", "nobody"]);
        b.ssd(&["-K", "-v", "-x", &prog, "--retry", "5"]);
        for child in &mut strangers {
            child.wait().unwrap();
        }
        b.settle(0);
        b.ssd(&["-K", "-n", "ssd-scan"]);
        b.ssd(&["-K", "-x", &prog, "-u", "nobody", "-o"]);
        b.ssd(&["-T", "-x", &prog]);
    });
}

#[test]
fn retry_schedules() {
    side_by_side("ssd-retry", |b| {
        let pidfile = b.path("stubborn.pid");
        let ready = b.path("ready");
        let stubborn = script(
            b,
            "stubborn.sh",
            &format!("#!/bin/sh\ntrap '' TERM\n: > {ready}\nwhile :; do sleep 1; done\n"),
        );
        // Started, and ignoring TERM already (a TERM before the trap would kill it).
        let start = |b: &mut Bench| {
            b.reaped();
            let _ = std::fs::remove_file(&ready);
            b.ssd(&["-S", "-b", "-m", "-p", &pidfile, "-a", &stubborn]);
            common::wait_until(20, || std::fs::metadata(&ready).is_ok());
            if let Some(pid) = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|t| t.trim().parse().ok())
            {
                b.pids.push(pid);
            }
        };
        start(b);
        b.ssd(&["-K", "-p", &pidfile, "--retry", "TERM/1"]);
        b.ssd(&["-T", "-p", &pidfile]);
        // (The last wait is long: dpkg's tool counts the killed process as running until
        // it is reaped.)
        b.ssd(&["-K", "-v", "-p", &pidfile, "--retry", "TERM/1/KILL/10"]);
        b.reaped();
        b.ssd(&["-T", "-p", &pidfile]);
        start(b);
        b.ssd(&["-K", "-p", &pidfile, "-R", "-TERM/1/forever/-9/1"]);
        b.reaped();
        b.ssd(&["-T", "-p", &pidfile]);
        start(b);
        b.ssd(&["-K", "-p", &pidfile, "-s", "HUP", "-R", "0/KILL/10"]);
        b.reaped();
        // dpkg's tool also warns on stderr that it could not signal the dead pid.
        b.ssd_status_only(&["-K", "-p", &pidfile, "-R", "TERM/1/KILL/5"]);
    });
}

#[test]
fn test_mode_does_nothing_and_says_so() {
    side_by_side("ssd-test", |b| {
        let (prog, pidfile) = (b.prog(), b.path("t.pid"));
        b.ssd(&[
            "-S", "-t", "-b", "-m", "-p", &pidfile, "-x", &prog, "--", "1000", "x",
        ]);
        b.ssd(&["-S", "-t", "-x", &prog, "-N", "3", "--", "1000"]);
        b.settle(0);
        b.pidfile("t.pid");
        b.ssd(&["-S", "-b", "-m", "-p", &pidfile, "-x", &prog, "--", "1000"]);
        b.settle(1);
        b.ssd(&[
            "-S", "-t", "-b", "-m", "-p", &pidfile, "-x", &prog, "--", "1000",
        ]);
        b.ssd(&["-K", "-t", "-p", &pidfile]);
        b.ssd(&["-K", "-t", "-p", &pidfile, "-s", "USR1", "-R", "5"]);
        b.settle(1);
        b.ssd(&["-K", "-p", &pidfile, "-R", "5"]);
        b.settle(0);
        // (dpkg's tool, told to stop in test mode what a pidfile names, would signal the
        // pid even when it is gone: vinit says nothing runs.)
    });
}

#[test]
fn program_arguments_may_follow_the_options_without_a_separator() {
    side_by_side("ssd-args", |b| {
        let prog = b.prog();
        b.ssd(&["-S", "-x", "/bin/false", "-a", "qwerty", "false", "-t"]);
        b.ssd(&["-S", "-t", "-x", &prog, "a", "-o", "b", "--", "-c", "d"]);
        // The last of an option given twice wins; long options may be shortened.
        b.ssd(&["-S", "-t", "-x", "/bin/false", "--exe", &prog, "-q", "-v"]);
        b.ssd(&[
            "--start",
            "--te",
            "--startas",
            "one",
            "-a",
            "two",
            "-x",
            &prog,
        ]);
    });
}

#[test]
fn usage_errors_exit_3_and_failures_2() {
    side_by_side("ssd-usage", |b| {
        let (prog, pidfile) = (b.prog(), b.path("u.pid"));
        let cases: Vec<Vec<&str>> = vec![
            vec![],
            vec!["-S"],
            vec!["-S", "-K", "-x", &prog],
            vec!["-K", "-x", &prog, "-s", "BOGUS"],
            vec!["-T", "-x", &prog, "-s", "BOGUS"],
            vec!["-K", "-x", &prog, "-R", "x"],
            vec!["-K", "-x", &prog, "-R", "TERM"],
            vec!["-K", "-x", &prog, "-R", "INT/1/forever"],
            vec!["-K", "-x", &prog, "-R", "forever/1/forever/2"],
            vec!["-S", "-t", "-x", &prog, "-k", "zz"],
            vec!["-K", "-p", &pidfile, "--pid", "1"],
            vec!["-K", "--pid", "0"],
            vec!["-K", "--ppid", "x"],
            vec!["-K", "-b", "-x", &prog],
            vec!["-S", "-p", &pidfile],
            // Failures: 2 (4 with --status).
            vec!["-S", "-d", "/nonexistent", "-x", &prog, "--", "1000"],
            vec!["-T", "-x", "/nonexistent"],
            vec!["-K", "-x", "/nonexistent"],
            vec!["-S", "-x", &prog, "-u", "no-such-user", "-t"],
            vec!["-T", "-u", "no-such-user"],
            vec!["-S", "-t", "-x", &prog, "-c", "nobody:"],
            vec!["-S", "-t", "-x", &prog, "-c", "no-such-user"],
            vec!["-S", "-t", "-x", &prog, "-g", "no-such-group"],
        ];
        for args in &cases {
            b.ssd(args);
        }
        // getopt and vinit word these differently: the exit status is the same.
        b.ssd_quiet_err(&["--bogus"]);
        b.ssd_quiet_err(&["-T", "--bogus"]);
        b.ssd_quiet_err(&["-K", "-x"]);
        b.settle(0);
    });
}

#[test]
fn pid_and_parent_pid_match() {
    side_by_side("ssd-pid", |b| {
        let prog = b.prog();
        let mut child = b.stranger();
        b.settle(1);
        let pid = child.id().to_string();
        let me = std::process::id().to_string();
        b.ssd(&["-T", "--pid", &pid]);
        b.ssd(&["-T", "--pid", &pid, "-x", &prog]);
        b.ssd(&["-T", "--pid", &pid, "-n", "other-name"]);
        b.ssd(&["-T", "--ppid", &me, "-x", &prog]);
        b.ssd(&["-T", "--ppid", "1", "-x", &prog]);
        b.ssd(&["-K", "-v", "--ppid", &me, "-x", &prog, "-R", "5"]);
        child.wait().unwrap();
        b.settle(0);
        b.ssd(&["-T", "--pid", &pid]);
    });
}

#[test]
fn a_program_that_daemonizes_itself_is_started_without_background() {
    side_by_side("ssd-forker", |b| {
        let (prog, pidfile) = (b.prog(), b.path("f.pid"));
        let forker = script(
            b,
            "forker.sh",
            &format!("#!/bin/sh\n{prog} 1000 </dev/null >/dev/null 2>&1 &\necho $! > {pidfile}\n"),
        );
        let start = ["-S", "-p", &pidfile, "-x", &prog, "-a", &forker];
        b.ssd(&start);
        b.settle(1);
        b.pidfile("f.pid");
        b.ssd(&start);
        b.ssd(&["-T", "-p", &pidfile, "-x", &prog]);
        b.ssd(&["-K", "-p", &pidfile, "-x", &prog, "-R", "5"]);
        b.settle(0);
        b.ssd(&["-T", "-p", &pidfile, "-x", &prog]);
        // A launcher that fails.
        b.ssd(&["-S", "-x", "/bin/false"]);
    });
}

#[test]
fn chuid_runs_the_program_as_the_user() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    side_by_side("ssd-chuid", |b| {
        let (prog, pidfile) = (b.prog(), b.path("c.pid"));
        b.ssd(&["-S", "-t", "-x", &prog, "-c", "nobody", "-N", "2"]);
        b.ssd(&["-S", "-t", "-x", &prog, "-c", "65534:nogroup"]);
        b.ssd(&["-S", "-t", "-x", &prog, "-g", "65534", "-c", "nobody"]);
        b.ssd(&[
            "-S", "-b", "-m", "-p", &pidfile, "-c", "nobody", "-x", &prog, "--", "1000",
        ]);
        b.settle(1);
        let pid = b.running()[0];
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        for key in ["Uid:", "Gid:", "Groups:"] {
            let line = status.lines().find(|l| l.starts_with(key)).unwrap_or(key);
            b.note(line);
        }
        b.ssd(&["-T", "-p", &pidfile, "-u", "nobody"]);
        b.ssd(&["-T", "-p", &pidfile, "-u", "root"]);
        b.ssd(&["-K", "-p", &pidfile, "-u", "nobody", "-R", "5"]);
        b.settle(0);
    });
}
