//! init: PID 1 (or a subreaper) running inittab. One thread, one event loop over
//! signals (signalfd), the control FIFO, child exits and timers; it never blocks.
//!
//! Each turn of the loop: wait for an event or the next timer, read signals, reap every
//! exited child (`waitpid(-1, WNOHANG)` until nothing is left: signals coalesce), read
//! control requests, fire timers, then advance: start what the inittab planner says,
//! move between boot stages and levels, and finish shutdowns. A panic inside a turn is
//! caught and logged; init goes on.

mod control;
mod events;
mod resume;
pub mod tree;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::format::inittab::{parse, parse_bytes, Inittab, DEFAULT_INITTAB};
use crate::format::runlevel::{previous_name, Runlevel};
use crate::format::utmp::{UtmpRecord, DEAD_PROCESS, INIT_PROCESS};
use crate::plan::inittab::{
    eligible, plan_kills, plan_reload, plan_starts, EntryState, Stage, Throttle, RESPAWN_DISABLE,
};
use crate::sys::layout::Root;
use crate::sys::runtime::reap::reap_all;
use crate::sys::runtime::signals::{Signals, Which};
use crate::sys::runtime::timers::Timers;
use crate::sys::spawn::{Spawn, Stdio};
use control::Control;
use tree::{signal_everything, HaltAction, Role};

/// Seconds between TERM and KILL for entries leaving a level (sysvinit's default).
pub const DEFAULT_SLEEP: Duration = Duration::from_secs(3);
/// Seconds between TERM and KILL for everything at the end of a shutdown.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);
/// At most this many `INIT_*` variables (sysvinit's limit).
pub const MAX_ENV: usize = 16;
/// Exit status after a reboot request when init exits instead of rebooting (container,
/// subreaper): 128 + SIGHUP, the signal the kernel kills a PID namespace's init with on
/// `reboot(2)`, and non-zero so `--restart on-failure` restarts the container.
pub const REBOOT_EXIT_STATUS: i32 = 129;

/// How the nologin file written by `shutdown` begins; init removes such a file at boot.
pub const NOLOGIN_MARK: &str = "The system is going down";

/// How init was started.
pub struct InitOptions {
    pub root: Root,
    /// The level to boot into instead of inittab's `initdefault`.
    pub level: Option<Runlevel>,
    /// The main command (`vinit init -- CMD ARGS`), empty for none.
    pub main: Vec<OsString>,
    /// Where the main command starts (init's own working directory when it started).
    pub main_cwd: Option<PathBuf>,
    /// With a main command, rc shows only failures on the console.
    pub quiet: bool,
    pub grace: Duration,
    /// State handed over by the previous image (`telinit u`).
    pub resume_fd: Option<i32>,
}

/// Who a child process belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Owner {
    Entry {
        id: String,
        utmp: bool,
    },
    Main,
    /// Killed on a level change or reload: no longer tied to an entry, never respawned.
    Detached,
}

/// Entries being killed before a level is entered (or a reload completes).
struct Transition {
    victims: Vec<Pid>,
    deadline: Instant,
    killed: bool,
    /// What comes after: the level to enter, or None for a plain reload.
    then: Option<Runlevel>,
}

/// Stopping the main command before a shutdown.
struct MainStop {
    deadline: Instant,
    then: Runlevel,
}

/// The end: everything gets TERM, then KILL, then init halts or exits.
struct Final {
    level: Runlevel,
    deadline: Instant,
    killed: bool,
}

/// A container's main command. It runs as a container engine would start it: in the
/// working directory and with the environment init was given (an image's WORKDIR and
/// ENV), where inittab's processes get sysvinit's clean environment in `/`.
struct MainCommand {
    argv: Vec<OsString>,
    cwd: Option<PathBuf>,
    pid: Option<Pid>,
    started: bool,
    status: Option<i32>,
}

pub struct Init {
    role: Role,
    root: Root,
    self_exe: PathBuf,
    tab: Inittab,
    /// `tab` is the built-in table (the root has no inittab).
    tab_is_builtin: bool,
    states: Vec<EntryState>,
    throttles: HashMap<String, Throttle>,
    /// Entries disabled for respawning too fast, by id: when they may run again.
    failing_until: Timers<String>,
    procs: HashMap<Pid, Owner>,
    stage: Stage,
    previous: Option<Runlevel>,
    /// The level to boot into (command line), else inittab's initdefault.
    boot_level: Option<Runlevel>,
    sleep_time: Duration,
    grace: Duration,
    quiet: bool,
    env: Vec<(String, String)>,
    transition: Option<Transition>,
    pending_level: Option<Runlevel>,
    main: Option<MainCommand>,
    main_stop: Option<MainStop>,
    finale: Option<Final>,
    /// SIGTSTP: start nothing until SIGCONT (halt tools pause init).
    paused: bool,
    reexec_pending: bool,
    /// The last reap found no child at all.
    no_children: bool,
    signals: Signals,
    control: Control,
    exit_status: Option<i32>,
}

/// Runs init until it exits (container, subreaper) — on a machine it never returns.
pub fn run(options: InitOptions) -> i32 {
    let role = Role::detect();
    let signals = match Signals::open(Which::All) {
        Ok(signals) => signals,
        Err(e) => {
            eprintln!("init: cannot read signals: {}", crate::sys::describe_io(&e));
            return 1;
        }
    };
    if role == Role::Subreaper {
        if let Err(e) = tree::become_subreaper() {
            log::warn!(
                "cannot become a subreaper: {}; orphans will not be reaped here",
                crate::sys::describe_io(&e)
            );
        }
    }
    let mut init = Init::new(role, options, signals);
    init.event_loop()
}

impl Init {
    #[inline(never)]
    fn new(role: Role, options: InitOptions, signals: Signals) -> Init {
        let control = Control::open(options.root.initctl());
        let main = (!options.main.is_empty()).then(|| MainCommand {
            argv: options.main.clone(),
            cwd: options.main_cwd.clone(),
            pid: None,
            started: false,
            status: None,
        });
        let mut init = Init {
            role,
            self_exe: own_executable(),
            tab: Inittab::default(),
            tab_is_builtin: false,
            states: Vec::new(),
            throttles: HashMap::new(),
            failing_until: Timers::default(),
            procs: HashMap::new(),
            stage: Stage::Sysinit,
            previous: None,
            boot_level: options.level,
            sleep_time: DEFAULT_SLEEP,
            grace: options.grace,
            quiet: options.quiet,
            env: Vec::new(),
            transition: None,
            pending_level: None,
            main,
            main_stop: None,
            finale: None,
            paused: false,
            reexec_pending: false,
            no_children: false,
            signals,
            control,
            exit_status: None,
            root: options.root,
        };
        match options.resume_fd {
            Some(fd) => init.resume(fd),
            None => init.boot(),
        }
        init
    }

    fn boot(&mut self) {
        log::info!(
            "vinit {} booting as {} on {}",
            env!("CARGO_PKG_VERSION"),
            self.role.describe(),
            self.root.dir().display()
        );
        let (tab, builtin) = self
            .load_inittab(true)
            .unwrap_or_else(|| (builtin_inittab(), true));
        self.tab = tab;
        self.tab_is_builtin = builtin;
        self.states = vec![EntryState::default(); self.tab.entries.len()];
        self.remove_shutdown_nologin();
    }

    /// Logins closed by a shutdown before this boot open again (what Debian's rmnologin
    /// does); a nologin file an administrator wrote stays.
    fn remove_shutdown_nologin(&self) {
        let path = self.root.nologin();
        if std::fs::read_to_string(&path).is_ok_and(|t| t.starts_with(NOLOGIN_MARK)) {
            let _ = std::fs::remove_file(&path);
        }
    }

    fn event_loop(&mut self) -> i32 {
        loop {
            crate::sys::runtime::guard::turn("init", || self.turn());
            if let Some(status) = self.exit_status {
                return status;
            }
        }
    }

    /// One turn. What runs around the wait is kept out of line (`#[inline(never)]` on
    /// `new`, `advance` and `handle_events`): their locals (the FIFO's read buffer, utmp
    /// records, parsed tables) then take stack only while they run, not below the idle
    /// wait for the rest of init's life.
    fn turn(&mut self) {
        self.advance();
        if self.exit_status.is_some() {
            return;
        }
        self.wait_for_event();
        self.handle_events();
    }

    #[inline(never)]
    fn handle_events(&mut self) {
        for signo in self.signals.read() {
            self.on_signal(signo);
        }
        self.reap();
        self.control.check();
        for request in self.control.read_requests() {
            self.on_request(request);
        }
        self.fire_timers(Instant::now());
    }

    /// Sleeps in poll until a signal, a request or the next timer. Once init has been
    /// idle for [`crate::sys::memory::TRIM_AFTER`] with no timer pending, it releases
    /// what it needed only to start (see `memory`) and goes straight back to sleep on the
    /// same descriptors: its resident set is then its idle working set.
    fn wait_for_event(&mut self) {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let next = self.next_timer();
        let wait = next.map_or(crate::sys::memory::TRIM_AFTER, |at| {
            at.saturating_duration_since(Instant::now())
        });
        let timeout = PollTimeout::try_from((wait.as_millis() + 1).min(i32::MAX as u128) as i32)
            .unwrap_or(PollTimeout::MAX);
        let mut fds = vec![PollFd::new(self.signals.fd(), PollFlags::POLLIN)];
        fds.extend(
            self.control
                .fd()
                .map(|fd| PollFd::new(fd, PollFlags::POLLIN)),
        );
        fds.extend(
            self.control
                .watch_fds()
                .into_iter()
                .map(|(fd, events)| PollFd::new(fd, events)),
        );
        if let (Ok(0), None) = (poll(&mut fds, timeout), next) {
            // Whatever woke init is read by the caller.
            let _ = crate::sys::memory::trim_then(|| crate::sys::memory::poll_forever(&mut fds));
        }
    }

    fn next_timer(&self) -> Option<Instant> {
        let transition = self.transition.as_ref().map(|t| t.deadline);
        let main_stop = self.main_stop.as_ref().map(|m| m.deadline);
        let finale = self.finale.as_ref().map(|f| f.deadline);
        let failing = self.failing_until.next();
        [transition, main_stop, finale, failing]
            .into_iter()
            .flatten()
            .min()
    }

    fn fire_timers(&mut self, now: Instant) {
        for id in self.failing_until.take_expired(now) {
            if let Some(i) = self.index_of(&id) {
                self.states[i].failing = false;
            }
            self.throttles.remove(&id);
        }
        if let Some(t) = &mut self.transition {
            if now >= t.deadline && !t.killed {
                for pid in &t.victims {
                    let _ = killpg(*pid, Signal::SIGKILL);
                }
                t.killed = true;
            }
        }
        if self.main_stop.as_ref().is_some_and(|m| now >= m.deadline) {
            if let Some(pid) = self.main.as_ref().and_then(|m| m.pid) {
                let _ = killpg(pid, Signal::SIGKILL);
            }
            self.main_stopped();
        }
        if let Some(f) = &mut self.finale {
            if now >= f.deadline {
                if f.killed {
                    log::warn!("processes survived SIGKILL; finishing anyway");
                    self.finish();
                } else {
                    log::info!("sending processes the KILL signal");
                    signal_everything(self.role, Signal::SIGKILL);
                    f.killed = true;
                    f.deadline = now + Duration::from_secs(5);
                }
            }
        }
    }

    /// Reaps every exited child; orphans re-parented to init are simply discarded.
    fn reap(&mut self) {
        let mut exits = Vec::new();
        self.no_children = reap_all(|exit| exits.push(exit));
        for exit in exits {
            self.child_exited(exit.pid, exit.status);
        }
    }

    /// `status` is the exit code, or 128 + the signal that ended it.
    fn child_exited(&mut self, pid: Pid, status: i32) {
        if let Some(t) = &mut self.transition {
            t.victims.retain(|v| *v != pid);
        }
        match self.procs.remove(&pid) {
            Some(Owner::Entry { id, utmp }) => {
                log::debug!("Id \"{id}\" (pid {pid}) exited with status {status}");
                if let Some(i) = self.index_of(&id) {
                    self.states[i].running = false;
                }
                if utmp {
                    self.write_process_record(DEAD_PROCESS, pid, &id);
                }
            }
            Some(Owner::Main) => {
                log::info!("main command (pid {pid}) exited with status {status}");
                if let Some(main) = &mut self.main {
                    main.pid = None;
                    main.status = Some(status);
                }
                if self.main_stop.is_some() {
                    self.main_stopped();
                } else if self.finale.is_none() {
                    self.begin_shutdown(Runlevel::HALT);
                }
            }
            Some(Owner::Detached) | None => {}
        }
    }

    /// Moves init forward until there is nothing more to do without an event.
    #[inline(never)]
    fn advance(&mut self) {
        // Each pass starts something, changes stage, or stops; spawn failures count
        // against the respawn limit, so this ends.
        for _ in 0..1000 {
            if !self.advance_once() {
                break;
            }
        }
    }

    fn advance_once(&mut self) -> bool {
        if let Some(f) = &self.finale {
            if self.no_children && self.procs.is_empty() {
                log::debug!("no process left after shutdown to runlevel {}", f.level);
                self.finish();
            }
            return false;
        }
        if self.transition_pending() || self.paused {
            return false;
        }
        if self.reexec_pending && self.main_stop.is_none() {
            self.reexec_pending = false;
            self.reexec();
        }
        let plan = plan_starts(&self.tab.entries, &self.states, self.stage);
        let mut progressed = false;
        for index in plan.start {
            self.start_entry(index);
            progressed = true;
        }
        if progressed {
            return true;
        }
        if plan.blocked_by.is_some() {
            return false;
        }
        self.settled()
    }

    /// The current stage's work is done: what comes next. True if something changed.
    fn settled(&mut self) -> bool {
        match self.stage {
            Stage::Sysinit => {
                // As sysvinit: after the sysinit entries, which create utmp on a real
                // system (Debian's bootmisc.sh), so that `who -b` finds the record.
                self.write_utmp(&UtmpRecord::boot(0));
                self.stage = Stage::Boot;
                true
            }
            Stage::Boot => {
                if self.boot_level.or(self.tab.default_level).is_none() {
                    log::warn!("no initdefault entry in inittab: entering runlevel S");
                }
                let level = self.initial_level();
                self.enter_level(level);
                true
            }
            Stage::Level(level) => {
                if let Some(next) = self.pending_level.take() {
                    self.request_level(next);
                    return true;
                }
                if level.is_shutdown() {
                    self.begin_final(level);
                    return true;
                }
                if level == Runlevel::SINGLE && !self.running_in(level) {
                    if let Some(default) = self.tab.default_level.filter(|d| *d != Runlevel::SINGLE)
                    {
                        self.request_level(default);
                        return true;
                    }
                }
                self.start_main_if_due(level)
            }
        }
    }

    /// The level init boots into: the command line's, else inittab's initdefault, else S.
    fn initial_level(&self) -> Runlevel {
        self.boot_level
            .or(self.tab.default_level)
            .unwrap_or(Runlevel::SINGLE)
    }

    fn running_in(&self, level: Runlevel) -> bool {
        self.tab
            .entries
            .iter()
            .zip(&self.states)
            .any(|(e, s)| s.running && eligible(e, s, Stage::Level(level)))
    }

    fn transition_pending(&mut self) -> bool {
        let Some(t) = &self.transition else {
            return false;
        };
        if !t.victims.is_empty() && !t.killed {
            return true;
        }
        let then = t.then;
        self.transition = None;
        if let Some(level) = then {
            self.complete_level_change(level);
        }
        false
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        self.tab.entries.iter().position(|e| e.id == id)
    }

    /// Starts one entry now (throttled if it respawns).
    fn start_entry(&mut self, index: usize) {
        let entry = self.tab.entries[index].clone();
        self.states[index].executed = true;
        self.states[index].triggered = false;
        if entry.action.respawns() {
            let now = Instant::now();
            if !self
                .throttles
                .entry(entry.id.clone())
                .or_default()
                .allow(now)
            {
                log::warn!(
                    "Id \"{}\" respawning too fast: disabled for 5 minutes",
                    entry.id
                );
                self.states[index].failing = true;
                self.failing_until
                    .set(entry.id.clone(), now + RESPAWN_DISABLE);
                return;
            }
        }
        let command = entry.command();
        let mut spawn = self.command(&command.argv);
        spawn.new_session = true;
        let _console = self.attach_console(&mut spawn, entry.action.is_wait());
        match spawn.spawn() {
            Ok(pid) => {
                self.states[index].running = true;
                self.procs.insert(
                    pid,
                    Owner::Entry {
                        id: entry.id.clone(),
                        utmp: command.utmp,
                    },
                );
                if command.utmp {
                    self.write_process_record(INIT_PROCESS, pid, &entry.id);
                }
            }
            Err(e) => log::error!(
                "Id \"{}\": cannot execute: {}",
                entry.id,
                crate::sys::spawn::describe_spawn_error(spawn.program(), &e)
            ),
        }
    }

    /// A command with init's standard descriptors and the environment of init's children.
    /// A program named `vinit` is this very binary.
    fn command(&self, argv: &[impl AsRef<std::ffi::OsStr>]) -> Spawn {
        let program = argv.first().map(|a| a.as_ref()).unwrap_or_default();
        let mut spawn = if program == "vinit" {
            Spawn::new(&self.self_exe)
        } else {
            Spawn::new(program)
        };
        spawn.argv0(program);
        spawn.args(argv.iter().skip(1));
        // As sysvinit: init's own environment (what the kernel or the container manager
        // gave it: HOME, TERM, container=…), with sysvinit's variables over it. Read from
        // the process at each spawn (init never changes it): no copy stays on the heap.
        for (k, v) in std::env::vars_os() {
            spawn.env(k, v);
        }
        for (k, v) in self.child_env() {
            spawn.env(k, v);
        }
        spawn.stdin = Stdio::Inherit;
        spawn.stdout = Stdio::Inherit;
        spawn.stderr = Stdio::Inherit;
        spawn.cwd = Some("/".into());
        spawn
    }

    /// On a machine, as sysvinit: each process gets the console opened afresh as its
    /// standard descriptors (/dev/null when it cannot be opened), and the wait-type ones
    /// of sysinit, boot and single-user mode get it as their controlling terminal, so
    /// that fsck, a password prompt or sulogin can use it. In a container or as a
    /// subreaper, children share init's own standard descriptors (`docker logs`).
    /// The descriptor returned must live until the spawn.
    fn attach_console(&self, spawn: &mut Spawn, waited_for: bool) -> Option<std::fs::File> {
        if self.role != Role::Machine {
            return None;
        }
        let console = open_console(&console_path());
        let stdio = console.as_ref().map_or(Stdio::Null, |c| {
            Stdio::Fd(std::os::fd::AsRawFd::as_raw_fd(c))
        });
        spawn.stdin = stdio;
        spawn.stdout = stdio;
        spawn.stderr = stdio;
        let booting = matches!(self.stage, Stage::Sysinit | Stage::Boot)
            || self.stage == Stage::Level(Runlevel::SINGLE);
        spawn.controlling_tty = console.is_some() && waited_for && booting;
        if let (Some(c), true) = (&console, waited_for) {
            // A getty or a crashed program may have left the console raw: the boot and
            // shutdown scripts get working Ctrl-C, echo and line editing, as sysvinit
            // gives them.
            sane_console(c);
        }
        console
    }

    fn child_env(&self) -> Vec<(OsString, OsString)> {
        let level = match self.stage {
            Stage::Level(l) => l.to_string(),
            _ => "S".to_string(),
        };
        let mut env: Vec<(OsString, OsString)> =
            crate::sys::rcexec::sysvinit_env(&level, self.previous, console_path().into())
                .into_iter()
                .map(|(k, v)| (k.into(), v))
                .collect();
        if let Some((k, v)) = self.root.script_env() {
            env.push((k.into(), v.into()));
        }
        if self.main.is_some() && self.quiet {
            env.push(("VINIT_QUIET".into(), "1".into()));
        }
        env.extend(self.env.iter().map(|(k, v)| (k.into(), v.into())));
        env
    }

    /// The main command's spawn: its own working directory and environment (see
    /// [`MainCommand`]), its own process group, the terminal's foreground group.
    /// `VINIT_ROOT` is added when the root is relocated, as for every process vinit
    /// starts (see `Root::script_env`).
    fn main_spawn(&self, main: &MainCommand) -> Spawn {
        let program = main.argv.first().cloned().unwrap_or_default();
        let mut spawn = Spawn::new(&program);
        spawn.args(main.argv.iter().skip(1));
        for (k, v) in std::env::vars_os() {
            spawn.env(k, v);
        }
        if let Some((k, v)) = self.root.script_env() {
            if spawn.env_value(k).is_none() {
                spawn.env(k, v);
            }
        }
        spawn.stdin = Stdio::Inherit;
        spawn.stdout = Stdio::Inherit;
        spawn.stderr = Stdio::Inherit;
        spawn.cwd = Some(main.cwd.clone().unwrap_or_else(|| "/".into()));
        spawn.process_group = Some(0);
        spawn.foreground = true;
        spawn
    }

    fn start_main_if_due(&mut self, level: Runlevel) -> bool {
        let default = self.initial_level();
        let Some(main) = &mut self.main else {
            return false;
        };
        if main.started || level != default {
            return false;
        }
        main.started = true;
        let Some(spawn) = self.main.as_ref().map(|m| self.main_spawn(m)) else {
            return false;
        };
        match spawn.spawn() {
            Ok(pid) => {
                log::info!("started main command (pid {pid})");
                if let Some(main) = &mut self.main {
                    main.pid = Some(pid);
                }
                self.procs.insert(pid, Owner::Main);
            }
            Err(e) => {
                log::error!(
                    "main command: {}",
                    crate::sys::spawn::describe_spawn_error(spawn.program(), &e)
                );
                if let Some(main) = &mut self.main {
                    main.status = Some(if e.kind() == std::io::ErrorKind::NotFound {
                        127
                    } else {
                        126
                    });
                }
                self.begin_shutdown(Runlevel::HALT);
            }
        }
        true
    }

    /// Reads and parses the root's inittab. At boot a file with bad lines loads without
    /// them; on a reload any error keeps the table in force (None). A missing file means
    /// the built-in default.
    /// The table, and whether it is the built-in one.
    fn load_inittab(&self, at_boot: bool) -> Option<(Inittab, bool)> {
        let path = self.root.inittab();
        // A regular file of bounded size, opened without blocking: a FIFO or a link to
        // /dev/zero in its place must not stop or exhaust PID 1.
        let bytes = match crate::sys::fs::read_config(&path) {
            Ok(bytes) => bytes,
            // Still none on a reload: the built-in table stays, and that is no error.
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound && (at_boot || self.tab_is_builtin) =>
            {
                if at_boot {
                    log::info!(
                        "no inittab at {}: using the built-in default",
                        path.display()
                    );
                }
                return Some((builtin_inittab(), true));
            }
            Err(e) => {
                log::error!(
                    "{}: {}; {}",
                    path.display(),
                    crate::sys::describe_io(&e),
                    if at_boot {
                        "using the built-in inittab"
                    } else {
                        "keeping the inittab in force"
                    }
                );
                return None;
            }
        };
        let (tab, errors) = parse_bytes(&bytes, &path.to_string_lossy());
        for error in &errors {
            log::error!("{error}");
        }
        if !errors.is_empty() && !at_boot {
            log::error!(
                "{}: {} bad line(s); keeping the inittab in force",
                path.display(),
                errors.len()
            );
            return None;
        }
        Some((tab, false))
    }

    /// Re-reads inittab (`telinit q`, SIGHUP, level changes): entries deleted or whose
    /// action changed are killed; throttled entries get another chance.
    fn reload(&mut self) -> Vec<Pid> {
        self.lift_failing();
        let Some((tab, builtin)) = self.load_inittab(false) else {
            return Vec::new();
        };
        self.tab_is_builtin = builtin;
        let reload = plan_reload(&self.tab.entries, &self.states, &tab.entries);
        let mut victims = Vec::new();
        for &old in &reload.kill {
            victims.extend(self.detach_entry(&self.tab.entries[old].id.clone()));
        }
        self.tab = tab;
        self.states = reload.states;
        victims
    }

    fn lift_failing(&mut self) {
        self.failing_until.clear();
        self.throttles.clear();
        for s in &mut self.states {
            s.failing = false;
        }
    }

    /// Unties an entry's processes from it (they are about to be killed).
    fn detach_entry(&mut self, id: &str) -> Vec<Pid> {
        let pids: Vec<Pid> = self
            .procs
            .iter()
            .filter(|(_, o)| matches!(o, Owner::Entry { id: i, .. } if i == id))
            .map(|(p, _)| *p)
            .collect();
        for pid in &pids {
            self.procs.insert(*pid, Owner::Detached);
        }
        if let Some(i) = self.index_of(id) {
            self.states[i].running = false;
        }
        pids
    }

    /// TERM to each victim's process group now; KILL when the sleep time is up.
    fn begin_transition(&mut self, victims: Vec<Pid>, then: Option<Runlevel>) {
        for pid in &victims {
            let _ = killpg(*pid, Signal::SIGTERM);
        }
        self.transition = Some(Transition {
            victims,
            deadline: Instant::now() + self.sleep_time,
            killed: false,
            then,
        });
    }

    /// A request for a level (telinit, signals, leaving S).
    fn request_level(&mut self, level: Runlevel) {
        if self.finale.is_some() {
            log::info!("already shutting down; runlevel {level} request ignored");
            return;
        }
        if level.is_shutdown() {
            self.resume_for_shutdown();
        }
        if level.is_shutdown() && self.main.as_ref().is_some_and(|m| m.pid.is_some()) {
            self.begin_shutdown(level);
            return;
        }
        if self.transition.is_some()
            || !matches!(self.stage, Stage::Level(_))
            || self.main_stop.is_some()
        {
            self.pending_level = Some(level);
            return;
        }
        if self.stage == Stage::Level(level) {
            log::debug!("already in runlevel {level}");
            return;
        }
        self.change_level(level);
    }

    fn change_level(&mut self, level: Runlevel) {
        let Stage::Level(current) = self.stage else {
            return;
        };
        self.previous = Some(current);
        self.record_level(level);
        let mut victims = self.reload();
        for index in plan_kills(&self.tab.entries, &self.states, level) {
            victims.extend(self.detach_entry(&self.tab.entries[index].id.clone()));
        }
        self.begin_transition(victims, Some(level));
    }

    /// The first level after boot: nothing to kill.
    fn enter_level(&mut self, level: Runlevel) {
        self.record_level(level);
        self.complete_level_change(level);
    }

    fn complete_level_change(&mut self, level: Runlevel) {
        self.stage = Stage::Level(level);
        self.sleep_time = DEFAULT_SLEEP;
        for s in &mut self.states {
            s.executed = false;
            if level == Runlevel::SINGLE {
                s.demanded = false;
            }
        }
    }

    fn record_level(&mut self, level: Runlevel) {
        log::info!("Entering runlevel: {level}");
        let write = |path: PathBuf, value: char| {
            if let Err(e) = crate::sys::fs::write_atomic(&path, value.to_string().as_bytes(), 0o644)
            {
                log::warn!("{}: {}", path.display(), crate::sys::describe_io(&e));
            }
        };
        write(self.root.runlevel_file(), level.as_char());
        write(self.root.prevlevel_file(), previous_name(self.previous));
        let record = UtmpRecord::runlevel(
            level.as_char(),
            self.previous.map(Runlevel::as_char),
            crate::sys::utmp::now_secs(),
        );
        self.write_utmp(&record);
    }

    fn write_utmp(&self, record: &UtmpRecord) {
        let record = &crate::sys::utmp::stamped(record);
        for result in [
            crate::sys::utmp::update(&self.root.utmp(), record),
            crate::sys::utmp::append(&self.root.wtmp(), record),
        ] {
            if let Err(e) = result {
                log::warn!("utmp/wtmp: {}", crate::sys::describe_io(&e));
            }
        }
    }

    fn write_process_record(&self, kind: u16, pid: Pid, id: &str) {
        let record = UtmpRecord {
            kind,
            pid: pid.as_raw(),
            id: id.to_string(),
            time_secs: crate::sys::utmp::now_secs(),
            ..Default::default()
        };
        self.write_utmp(&record);
    }

    /// Shutting down to 0 or 6: the main command (started last) stops first.
    fn begin_shutdown(&mut self, level: Runlevel) {
        self.resume_for_shutdown();
        match self.main.as_ref().and_then(|m| m.pid) {
            Some(pid) if self.main_stop.is_none() => {
                log::info!("stopping the main command (pid {pid})");
                let _ = killpg(pid, Signal::SIGTERM);
                self.main_stop = Some(MainStop {
                    deadline: Instant::now() + self.grace,
                    then: level,
                });
            }
            Some(_) => {}
            None => {
                if matches!(self.stage, Stage::Level(_)) && self.transition.is_none() {
                    if self.stage != Stage::Level(level) {
                        self.change_level(level);
                    }
                } else {
                    self.pending_level = Some(level);
                }
            }
        }
    }

    /// A SIGTSTP pause (no new processes) does not hold up a shutdown: its scripts must
    /// run, or init would wait for a SIGCONT that may never come.
    fn resume_for_shutdown(&mut self) {
        if self.paused {
            log::info!("shutting down: the pause from SIGTSTP ends");
            self.paused = false;
        }
    }

    fn main_stopped(&mut self) {
        if let Some(stop) = self.main_stop.take() {
            if let Some(main) = &mut self.main {
                main.pid = None;
            }
            self.begin_shutdown(stop.then);
        }
    }

    /// Level 0 or 6 is reached and its scripts are done: TERM everything.
    fn begin_final(&mut self, level: Runlevel) {
        log::info!("sending processes the TERM signal");
        signal_everything(self.role, Signal::SIGTERM);
        // The entries' processes are among "everything": forget them. A main command
        // still dying is kept, for its exit status.
        self.procs.retain(|_, owner| *owner == Owner::Main);
        for s in &mut self.states {
            s.running = false;
        }
        self.finale = Some(Final {
            level,
            deadline: Instant::now() + self.grace,
            killed: false,
        });
    }

    /// Every process is gone: halt the machine, or exit.
    fn finish(&mut self) {
        let Some(f) = self.finale.take() else { return };
        nix::unistd::sync();
        let how = match f.level {
            l if l == Runlevel::REBOOT => HaltAction::Reboot,
            _ if self
                .env
                .iter()
                .any(|(k, v)| k == "INIT_HALT" && v == "HALT") =>
            {
                HaltAction::Halt
            }
            _ => HaltAction::PowerOff,
        };
        if Role::detect() == Role::Machine {
            log::info!(
                "{}",
                match how {
                    HaltAction::Reboot => "rebooting",
                    HaltAction::Halt => "system halted",
                    HaltAction::PowerOff => "powering off",
                }
            );
            let e = tree::reboot(how);
            log::error!(
                "reboot(2) failed: {}; halting here",
                crate::sys::describe_io(&e)
            );
            loop {
                // PID 1 must not exit: park.
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        let status = match self.main.as_ref().and_then(|m| m.status) {
            Some(status) => status,
            None if how == HaltAction::Reboot => REBOOT_EXIT_STATUS,
            None => 0,
        };
        log::info!("all processes gone; exiting with status {status}");
        self.exit_status = Some(status);
    }
}

/// The console device: `CONSOLE` from the kernel command line, else /dev/console.
fn console_path() -> String {
    std::env::var("CONSOLE").unwrap_or_else(|_| "/dev/console".into())
}

/// Opens the console for a child, read-write, not as init's controlling terminal. The
/// open does not wait for a serial line's carrier (O_NONBLOCK, cleared afterwards: the
/// child gets a normal blocking terminal).
fn open_console(path: &str) -> Option<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .ok()?;
    let flags = nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_GETFL).ok()?;
    let flags = nix::fcntl::OFlag::from_bits_truncate(flags) - nix::fcntl::OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_SETFL(flags)).ok()?;
    Some(file)
}

/// sysvinit's console modes: the line's speed and size kept, the rest sane (`stty sane`
/// as an init sets it).
fn sane_console(console: &std::fs::File) {
    use std::os::fd::AsRawFd;
    let fd = console.as_raw_fd();
    // SAFETY: termios calls on a descriptor we hold, with a struct we own.
    unsafe {
        let mut tty: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut tty) != 0 {
            return;
        }
        tty.c_cflag &=
            libc::CBAUD | libc::CBAUDEX | libc::CSIZE | libc::CSTOPB | libc::PARENB | libc::PARODD;
        tty.c_cflag |= libc::HUPCL | libc::CLOCAL | libc::CREAD;
        tty.c_iflag = libc::IGNPAR | libc::ICRNL | libc::IXON | libc::IXANY;
        tty.c_oflag = libc::OPOST | libc::ONLCR;
        tty.c_lflag =
            libc::ISIG | libc::ICANON | libc::ECHO | libc::ECHOE | libc::ECHOCTL | libc::ECHOKE;
        let defaults = [
            (libc::VINTR, 0o003),
            (libc::VQUIT, 0o034),
            (libc::VERASE, 0o177),
            (libc::VKILL, 0o025),
            (libc::VEOF, 0o004),
            (libc::VTIME, 0),
            (libc::VMIN, 1),
            (libc::VSTART, 0o021),
            (libc::VSTOP, 0o023),
            (libc::VSUSP, 0o032),
            (libc::VEOL, 0),
            (libc::VREPRINT, 0o022),
            (libc::VDISCARD, 0o017),
            (libc::VWERASE, 0o027),
            (libc::VLNEXT, 0o026),
            (libc::VEOL2, 0),
        ];
        for (index, value) in defaults {
            tty.c_cc[index] = value;
        }
        libc::tcsetattr(fd, libc::TCSANOW, &tty);
    }
}

fn builtin_inittab() -> Inittab {
    parse(DEFAULT_INITTAB, "(built-in inittab)").0
}

/// init's own way to its console (stderr): a separate non-blocking open of the same pipe
/// or terminal, so that a console nobody reads drops init's messages instead of stopping
/// PID 1, while children keep their blocking descriptors. None when stderr is a file or a
/// socket (use it as it is).
pub fn nonblocking_console() -> Option<std::fs::File> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let kind = std::fs::metadata("/proc/self/fd/2").ok()?.file_type();
    if !(kind.is_fifo() || kind.is_char_device()) {
        return None;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY)
        .open("/proc/self/fd/2")
        .ok()
}

/// This binary, for re-exec and for inittab's `vinit` commands. After an upgrade the
/// running image is "deleted"; the new file at the same path is the one wanted.
fn own_executable() -> PathBuf {
    let path = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
    let text = path.to_string_lossy();
    match text.strip_suffix(" (deleted)") {
        Some(stripped) => PathBuf::from(stripped),
        None => path,
    }
}
