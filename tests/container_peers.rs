//! The container scenarios of tests/container.rs, run side by side with the inits that
//! containers use today: tini and dumb-init (Debian's packages, from `peer()`) next to
//! `vinit init --root EMPTY --`. Each starts a command as Docker starts an entrypoint — from
//! a working directory, with extra environment variables, signalled from outside — both as
//! PID 1 of a private PID namespace and as a plain child of this test, and every assertion
//! is on what the real processes did.
//!
//! What all three do (and tini's and dumb-init's documentation promise): the command's exit
//! status becomes init's, death by signal N becomes 128 + N; TERM to init reaches the
//! command; HUP, USR1, USR2, WINCH and QUIT are passed on; the command starts in init's
//! working directory with init's environment and is found through its PATH; orphans that
//! are init's own are reaped while it runs.
//!
//! Where they differ by design (each one's own behaviour is asserted):
//! - Who gets the orphans of a plain child: tini only with `-s` (it registers as a
//!   subreaper; Docker's `--init` runs it as PID 1 without), vinit always (it registers
//!   itself), dumb-init never (it has no subreaper option: orphans go to the machine's
//!   reaper).
//! - What is left when the command exits: tini exits at once and signals nobody (as PID 1
//!   the kernel then kills the rest with SIGKILL; as a plain child they live on); dumb-init
//!   sends TERM to the command's process group and exits without waiting; vinit shuts down
//!   through runlevel 0, sends TERM (KILL after its grace) to everything left below it and
//!   exits only once it is all gone.
//! - Who gets a forwarded signal: tini the command only (without `-g`), dumb-init and vinit
//!   the command's process group.
//! - vinit adds `VINIT_ROOT` to the command's environment when `--root` relocates the
//!   system (as for every process it starts).

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The init under test: vinit or one of its peers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Peer {
    Vinit,
    Tini,
    DumbInit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// PID 1 of a private PID namespace, as in a container.
    Pid1,
    /// A plain child of this test (a subreaper where the init can be one).
    Child,
}

/// Every init in every place.
fn every_setup() -> Vec<(Peer, Place)> {
    let mut out = Vec::new();
    for init in [Peer::Vinit, Peer::Tini, Peer::DumbInit] {
        for place in [Place::Pid1, Place::Child] {
            out.push((init, place));
        }
    }
    out
}

/// A scratch directory for one run's scripts and records (`$OUT` for the command). Every
/// process still running with its path in the command line is killed when it goes.
fn scratch() -> TestRoot {
    let work = TestRoot {
        dir: tempfile::tempdir().expect("tempdir"),
    };
    // `$OUT/nap` is sleep under a name that marks it as this test's.
    symlink("/bin/sleep", work.join("nap")).unwrap();
    work
}

fn write_script(work: &TestRoot, rel: &str, body: &str) -> String {
    let path = work.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, body).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

/// One init started with a command, as `docker run` would.
struct Run {
    init: Peer,
    place: Place,
    child: Child,
    log: PathBuf,
    /// vinit's root: empty, as in an image without any rc directory.
    vinit_root: tempfile::TempDir,
}

impl Run {
    fn start(
        (init, place): (Peer, Place),
        work: &TestRoot,
        cwd: &Path,
        env: &[(&str, &str)],
        command: &[&str],
    ) -> Run {
        let vinit_root = tempfile::tempdir().expect("tempdir");
        let mut argv: Vec<String> = match place {
            Place::Pid1 => common::pid1::namespace_prefix()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            Place::Child => Vec::new(),
        };
        argv.extend(init_argv(init, place, vinit_root.path()));
        argv.extend(command.iter().map(|s| s.to_string()));
        let log = work.join("init.log");
        let out = fs::File::create(&log).unwrap();
        let child = Command::new(&argv[0])
            .args(&argv[1..])
            .env_clear()
            .envs(env.iter().copied())
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        Run {
            init,
            place,
            child,
            log,
            vinit_root,
        }
    }

    /// The usual start: in the scratch directory, with `PATH` and `OUT`.
    fn simple(setup: (Peer, Place), work: &TestRoot, command: &[&str]) -> Run {
        let out = work.path().display().to_string();
        Run::start(
            setup,
            work,
            work.path(),
            &[("PATH", "/usr/bin:/bin"), ("OUT", &out)],
            command,
        )
    }

    fn describe(&self) -> String {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        format!("{:?} as {:?}; its output:\n{log}", self.init, self.place)
    }

    /// The init's pid as seen from here (below unshare in a namespace).
    fn init_pid(&self) -> i32 {
        let mut pid = None;
        assert!(
            wait_until(10, || {
                pid = self.current_init_pid();
                pid.is_some()
            }),
            "no init below unshare"
        );
        pid.unwrap()
    }

    fn current_init_pid(&self) -> Option<i32> {
        let me = self.child.id() as i32;
        match self.place {
            Place::Child => Some(me),
            // unshare --fork: init is its only child.
            Place::Pid1 => common::pid1::children_of(me).first().copied(),
        }
    }

    fn signal(&self, signo: i32) {
        // SAFETY: kill(2) on a process this test started.
        assert!(send_signal(self.init_pid(), signo));
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Init's exit status: its code, or 128 + the signal that ended it (unshare passes
    /// a signal on by dying of it).
    fn wait(&mut self, secs: u64) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status
                    .code()
                    .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
            }
            assert!(
                Instant::now() < deadline,
                "init did not exit: {}",
                self.describe()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if self.alive() {
            // In a namespace, its init's death takes everything in it along.
            if let Some(pid) = self.current_init_pid() {
                send_signal(pid, libc::SIGKILL);
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn init_argv(init: Peer, place: Place, vinit_root: &Path) -> Vec<String> {
    let mut argv = Vec::new();
    match init {
        Peer::Vinit => {
            argv.extend([VINIT.to_string(), "init".into(), "--root".into()]);
            argv.push(vinit_root.display().to_string());
        }
        Peer::Tini => {
            argv.push(peer("tini", "usr/bin/tini").display().to_string());
            // Outside PID 1, tini reaps orphans only as a subreaper (and warns without).
            if place == Place::Child {
                argv.push("-s".into());
            }
        }
        Peer::DumbInit => argv.push(peer("dumb-init", "usr/bin/dumb-init").display().to_string()),
    }
    argv.push("--".into());
    argv
}

/// Pids of the processes whose command line is exactly `argv`.
fn processes_running(argv: &[&str]) -> Vec<i32> {
    let want: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    processes_where(|cmdline| cmdline == want.as_slice())
}

/// Pids of the processes whose command line mentions `text`.
fn processes_mentioning(text: &str) -> Vec<i32> {
    processes_where(|cmdline| cmdline.windows(text.len()).any(|w| w == text.as_bytes()))
}

fn processes_where(pred: impl Fn(&[u8]) -> bool) -> Vec<i32> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if !cmdline.is_empty() && pred(&cmdline) {
            out.push(pid);
        }
    }
    out
}

fn parent_of(pid: i32) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Gone from the process table: dead and reaped (a zombie is still listed).
fn gone(pid: i32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

fn lines_in(work: &TestRoot, rel: &str) -> usize {
    work.read(rel).lines().count()
}

#[test]
fn the_commands_exit_status_becomes_inits() {
    for setup in every_setup() {
        for status in [0, 7, 255] {
            let work = scratch();
            let mut run = Run::simple(setup, &work, &["/bin/sh", "-c", &format!("exit {status}")]);
            assert_eq!(run.wait(30), status, "{}", run.describe());
        }
    }
}

#[test]
fn a_command_killed_by_signal_n_makes_init_exit_with_128_plus_n() {
    for setup in every_setup() {
        for signo in [libc::SIGTERM, libc::SIGKILL, libc::SIGUSR1] {
            let work = scratch();
            let kill_self = format!("kill -{signo} $$");
            let mut run = Run::simple(setup, &work, &["/bin/sh", "-c", &kill_self]);
            assert_eq!(run.wait(30), 128 + signo, "{}", run.describe());
        }
    }
}

/// A command that marks itself up, then naps in a loop (so that a trap runs soon).
fn looping_command(work: &TestRoot, traps: &str) -> String {
    write_script(
        work,
        "main.sh",
        &format!(
            "#!/bin/sh\nulimit -c 0\n{traps}\ntouch \"$OUT/up\"\nwhile :; do \"$OUT/nap\" 0.05; done\n"
        ),
    )
}

#[test]
fn term_to_init_reaches_the_command_143_when_it_dies_of_it_0_when_it_traps_and_exits_0() {
    for setup in every_setup() {
        for (traps, want) in [
            ("", 143),
            ("trap 'echo bye > \"$OUT/bye\"; exit 0' TERM", 0),
        ] {
            let work = scratch();
            let main = looping_command(&work, traps);
            let mut run = Run::simple(setup, &work, &[&main]);
            assert!(
                wait_until(20, || work.join("up").exists()),
                "{}",
                run.describe()
            );
            run.signal(libc::SIGTERM);
            assert_eq!(run.wait(30), want, "{}", run.describe());
            assert_eq!(work.join("bye").exists(), want == 0, "{}", run.describe());
        }
    }
}

#[test]
fn hup_usr1_usr2_winch_and_quit_are_passed_on_to_the_command() {
    let names = ["HUP", "USR1", "USR2", "WINCH", "QUIT"];
    let numbers = [
        libc::SIGHUP,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGWINCH,
        libc::SIGQUIT,
    ];
    let traps: String = names
        .iter()
        .map(|n| format!("trap 'echo {n} >> \"$OUT/got\"' {n}\n"))
        .collect::<String>()
        + "trap 'exit 0' TERM";
    for setup in every_setup() {
        let work = scratch();
        let main = looping_command(&work, &traps);
        let mut run = Run::simple(setup, &work, &[&main]);
        assert!(
            wait_until(20, || work.join("up").exists()),
            "{}",
            run.describe()
        );
        for (name, signo) in names.iter().zip(numbers) {
            run.signal(signo);
            assert!(
                wait_until(20, || work.read("got").lines().any(|l| l == *name)),
                "{name} did not reach the command: {}",
                run.describe()
            );
            assert!(run.alive(), "{name} ended init: {}", run.describe());
        }
        run.signal(libc::SIGTERM);
        assert_eq!(run.wait(30), 0, "{}", run.describe());
    }
}

#[test]
fn the_command_starts_in_inits_working_directory_with_its_environment_found_through_path() {
    for setup in every_setup() {
        let work = scratch();
        let workdir = work.join("srv/app dir");
        fs::create_dir_all(&workdir).unwrap();
        write_script(
            &work,
            "opt/bin/whereami",
            "#!/bin/sh\n{ pwd; env; } > \"$OUT/seen\"\n",
        );
        let path = format!("{}:/usr/bin:/bin", work.join("opt/bin").display());
        let out = work.path().display().to_string();
        // What `docker run -w DIR -e NAME=VALUE` hands the entrypoint: odd values too.
        let env = [
            ("PATH", path.as_str()),
            ("OUT", &out),
            ("HOME", "/home/app"),
            ("APP_MODE", "production"),
            ("GREETING", "hello, world  with spaces"),
            ("EQUATION", "a=b=c"),
            ("EMPTY", ""),
        ];
        let mut run = Run::start(setup, &work, &workdir, &env, &["whereami"]);
        assert_eq!(run.wait(30), 0, "{}", run.describe());
        let seen = work.read("seen");
        let mut lines = seen.lines();
        assert_eq!(lines.next(), workdir.to_str(), "{}", run.describe());
        // sh exports PWD itself.
        let mut got: Vec<&str> = lines.filter(|l| !l.starts_with("PWD=")).collect();
        if setup.0 == Peer::Vinit {
            let relocated = format!("VINIT_ROOT={}", run.vinit_root.path().display());
            assert!(got.contains(&relocated.as_str()), "{seen}");
            got.retain(|l| *l != relocated);
        }
        let mut want: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{}", run.describe());
    }
}

#[test]
fn orphans_that_die_while_init_runs_are_reaped_and_init_exits_with_the_command() {
    for setup in every_setup() {
        let work = scratch();
        let main = write_script(
            &work,
            "main.sh",
            "#!/bin/sh\n\
             i=0\n\
             while [ $i -lt 50 ]; do (\"$OUT/nap\" 1000 &); i=$((i + 1)); done\n\
             touch \"$OUT/spawned\"\n\
             while [ ! -e \"$OUT/go\" ]; do \"$OUT/nap\" 0.05; done\n\
             exit 3\n",
        );
        let mut run = Run::simple(setup, &work, &[&main]);
        let nap = work.join("nap").display().to_string();
        let mut orphans = Vec::new();
        assert!(
            wait_until(20, || {
                orphans = processes_running(&[&nap, "1000"]);
                work.join("spawned").exists() && orphans.len() == 50
            }),
            "{} orphans: {}",
            orphans.len(),
            run.describe()
        );
        let init = run.init_pid();
        let theirs = !(setup == (Peer::DumbInit, Place::Child));
        for &pid in &orphans {
            // dumb-init registers no subreaper: a plain child's orphans go to the
            // machine's reaper, whose business their reaping is.
            assert_eq!(parent_of(pid) == Some(init), theirs, "{}", run.describe());
            send_signal(pid, libc::SIGKILL);
        }
        if theirs {
            assert!(
                wait_until(20, || orphans.iter().all(|&p| gone(p))),
                "orphans left unreaped: {}",
                run.describe()
            );
        }
        assert!(run.alive(), "{}", run.describe());
        fs::write(work.join("go"), "").unwrap();
        assert_eq!(run.wait(30), 3, "{}", run.describe());
    }
}

#[test]
fn what_is_left_when_the_command_exits_each_init_as_documented() {
    for setup in every_setup() {
        let work = scratch();
        write_script(
            &work,
            "orphan.sh",
            "#!/bin/sh\n\
             trap 'echo $$ >> \"$OUT/termed\"; exit 0' TERM\n\
             echo $$ >> \"$OUT/orphans\"\n\
             \"$OUT/nap\" 1000 &\n\
             wait\n",
        );
        // Exits once its 50 orphans are up with their TERM trap in place.
        let main = write_script(
            &work,
            "main.sh",
            "#!/bin/sh\n\
             i=0\n\
             while [ $i -lt 50 ]; do (\"$OUT/orphan.sh\" &); i=$((i + 1)); done\n\
             while [ \"$(cat \"$OUT/orphans\" 2>/dev/null | wc -l)\" -lt 50 ]; do \"$OUT/nap\" 0.05; done\n",
        );
        let mut run = Run::simple(setup, &work, &[&main]);
        let nap = work.join("nap").display().to_string();
        assert_eq!(run.wait(60), 0, "{}", run.describe());
        let left = processes_mentioning(&work.path().display().to_string());
        match setup {
            // vinit: rc 0 ran, everything left got TERM and init waited for it all.
            (Peer::Vinit, _) => {
                assert_eq!(left, Vec::<i32>::new(), "{}", run.describe());
                assert_eq!(lines_in(&work, "termed"), 50, "{}", run.describe());
                let root = run.vinit_root.path();
                let runlevel = fs::read_to_string(root.join("run/runlevel")).unwrap();
                assert_eq!(runlevel.trim(), "0", "{}", run.describe());
                let boot_log = fs::read_to_string(root.join("var/log/boot.log")).unwrap();
                assert!(boot_log.contains("runlevel 0 (previous 3)"), "{boot_log}");
            }
            // The kernel kills a PID namespace with its init: nothing is left, and
            // tini (which signals nobody) let no trap run.
            (Peer::Tini, Place::Pid1) => {
                assert_eq!(left, Vec::<i32>::new(), "{}", run.describe());
                assert_eq!(lines_in(&work, "termed"), 0, "{}", run.describe());
            }
            // dumb-init's TERM races the kernel's KILL: only the end is certain.
            (Peer::DumbInit, Place::Pid1) => {
                assert_eq!(left, Vec::<i32>::new(), "{}", run.describe());
            }
            // A plain tini exits at once: the orphans (and their naps) live on.
            (Peer::Tini, Place::Child) => {
                let shells = work.join("orphan.sh").display().to_string();
                let living = || processes_running(&["/bin/sh", &shells]).len();
                let naps = || processes_running(&[&nap, "1000"]).len();
                assert!(
                    wait_until(20, || living() == 50 && naps() == 50),
                    "{} orphans and {} naps alive: {}",
                    living(),
                    naps(),
                    run.describe()
                );
                assert_eq!(lines_in(&work, "termed"), 0, "{}", run.describe());
            }
            // A plain dumb-init TERMs the command's process group (its session, where
            // the orphans stayed) on its way out.
            (Peer::DumbInit, Place::Child) => {
                assert!(
                    wait_until(20, || lines_in(&work, "termed") == 50),
                    "{} of 50 got TERM: {}",
                    lines_in(&work, "termed"),
                    run.describe()
                );
            }
        }
    }
}

#[test]
fn a_forwarded_signal_reaches_the_commands_process_group_or_with_tini_the_command_only() {
    for setup in every_setup() {
        let work = scratch();
        // A helper in the command's process group (a background job of a script).
        write_script(
            &work,
            "helper.sh",
            "#!/bin/sh\n\
             trap 'echo helper-USR1 >> \"$OUT/got\"' USR1\n\
             trap 'echo helper-USR2 >> \"$OUT/got\"; exit 0' USR2\n\
             touch \"$OUT/helper-up\"\n\
             while :; do \"$OUT/nap\" 0.05; done\n",
        );
        // On USR1 the command passes USR2 to the helper. A USR1 sent to the whole group
        // is already pending in the helper by then, and sh runs pending traps in signal
        // order: the helper records USR1 before USR2 exactly when it got the USR1 too.
        let main = write_script(
            &work,
            "main.sh",
            "#!/bin/sh\n\
             ulimit -c 0\n\
             \"$OUT/helper.sh\" &\n\
             helper=$!\n\
             trap 'echo main-USR1 >> \"$OUT/got\"; kill -USR2 $helper' USR1\n\
             trap 'exit 0' TERM\n\
             while [ ! -e \"$OUT/helper-up\" ]; do \"$OUT/nap\" 0.05; done\n\
             touch \"$OUT/up\"\n\
             while :; do \"$OUT/nap\" 0.05; done\n",
        );
        let mut run = Run::simple(setup, &work, &[&main]);
        assert!(
            wait_until(20, || work.join("up").exists()),
            "{}",
            run.describe()
        );
        run.signal(libc::SIGUSR1);
        assert!(
            wait_until(20, || work.read("got").contains("helper-USR2")),
            "{}",
            run.describe()
        );
        let got = work.read("got");
        let helper: Vec<&str> = got.lines().filter(|l| l.starts_with("helper")).collect();
        let want = match setup.0 {
            // tini without -g signals its child only.
            Peer::Tini => vec!["helper-USR2"],
            Peer::Vinit | Peer::DumbInit => vec!["helper-USR1", "helper-USR2"],
        };
        assert_eq!(helper, want, "{}", run.describe());
        assert!(got.contains("main-USR1"), "{}", run.describe());
        run.signal(libc::SIGTERM);
        assert_eq!(run.wait(30), 0, "{}", run.describe());
    }
}
