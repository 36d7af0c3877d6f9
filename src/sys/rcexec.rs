//! Executing an rc plan with the sysvinit environment: each phase's scripts as soon as
//! what they come after has finished (`plan::schedule`), several at once.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::time::Instant;

use crate::format::runlevel::{previous_name, Runlevel};
use crate::plan::rc::Step;
use crate::plan::schedule::Phase;
use crate::sys::layout::Root;
use crate::sys::runtime::reactor::{Interest, Reactor};
use crate::sys::script::{Limits, Outcome, RunningScript};
use crate::sys::spawn::Spawn;

/// The value of `INIT_VERSION` scripts see.
pub const INIT_VERSION: &str = concat!("vinit-", env!("CARGO_PKG_VERSION"));

/// Set for scripts run by vinit's rc, so the shipped `functions` library leaves the
/// per-service status line to rc instead of printing its own.
pub const RC_MARKER: &str = "VINIT_RC";

/// The path of the vinit binary, for scripts (`init.d/functions` calls `$VINIT daemon`).
pub const BINARY_ENV: &str = "VINIT";

/// sysvinit's variables for the processes of a runlevel: what init gives its children
/// and rc its scripts (`PATH`, `RUNLEVEL`, `PREVLEVEL`, `CONSOLE`, `INIT_VERSION`,
/// `SHELL`).
pub fn sysvinit_env(
    level: &str,
    previous: Option<Runlevel>,
    console: OsString,
) -> [(&'static str, OsString); 6] {
    [
        ("PATH", OsString::from(crate::sys::DEFAULT_PATH)),
        ("RUNLEVEL", OsString::from(level)),
        (
            "PREVLEVEL",
            OsString::from(previous_name(previous).to_string()),
        ),
        ("CONSOLE", console),
        ("INIT_VERSION", OsString::from(INIT_VERSION)),
        ("SHELL", OsString::from("/bin/sh")),
    ]
}

/// What every script's environment is built from: the sysvinit variables, plus the
/// `INIT_*` variables init passed down (set with `telinit -e`), `TERM` and the root.
pub struct ScriptEnv {
    vars: Vec<(OsString, OsString)>,
}

impl ScriptEnv {
    /// `inherited` is this process's environment; only `INIT_*`, `TERM`, `LANG` and
    /// `CONSOLE` are taken from it.
    pub fn new(
        root: &Root,
        level: Runlevel,
        previous: Option<Runlevel>,
        inherited: impl Iterator<Item = (OsString, OsString)>,
    ) -> ScriptEnv {
        let mut vars: Vec<(OsString, OsString)> = Vec::new();
        let mut console = OsString::from("/dev/console");
        for (key, value) in inherited {
            let k = key.to_string_lossy();
            if k == "CONSOLE" {
                console = value;
            } else if k.starts_with("INIT_") && k != "INIT_VERSION" || k == "TERM" || k == "LANG" {
                vars.push((key, value));
            }
        }
        let fixed = sysvinit_env(&level.to_string(), previous, console);
        vars.extend(fixed.into_iter().map(|(k, v)| (OsString::from(k), v)));
        vars.push((OsString::from(RC_MARKER), OsString::from("1")));
        if let Some((k, v)) = root.script_env() {
            vars.push((k.into(), v.to_os_string()));
        }
        // The shipped `functions` run this binary's `daemon` tool: tell them where it is
        // (it need not be on PATH, in a scratch root or before install-links).
        if let Ok(exe) = std::env::current_exe() {
            vars.push((OsString::from(BINARY_ENV), exe.into_os_string()));
        }
        ScriptEnv { vars }
    }

    /// The command that runs one step: `SCRIPT start|stop`, in `/`, stdin `/dev/null`.
    pub fn command(&self, step: &Step) -> Spawn {
        let mut spawn = Spawn::new(&step.script);
        spawn.arg(step.action.arg());
        for (k, v) in &self.vars {
            spawn.env(k, v);
        }
        spawn.cwd = Some("/".into());
        spawn
    }
}

/// Receives what happens during a run, to show it. `index` is the step's place in its
/// phase.
pub trait Reporter {
    fn begin(&mut self, index: usize, step: &Step);
    fn output(&mut self, index: usize, chunk: &[u8]);
    fn finish(&mut self, index: usize, step: &Step, outcome: &Outcome);
}

/// A step that ran: when it began and ended, and how.
#[derive(Clone, Debug)]
pub struct Finished {
    pub index: usize,
    pub start: Instant,
    pub end: Instant,
    pub outcome: Outcome,
}

/// How many scripts may run at once by default: four per CPU (boot scripts mostly wait
/// on the kernel and on each other, not on a CPU).
pub fn default_parallel() -> usize {
    4 * std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs a phase: each script as soon as what it comes after has finished, at most
/// `parallel` at once, an interactive one alone (with the console). Returns every step
/// that ran, in the order they finished.
pub fn execute(
    phase: &Phase,
    env: &ScriptEnv,
    limits: Limits,
    parallel: usize,
    reporter: &mut impl Reporter,
) -> Vec<Finished> {
    let mut run = Executor::new(phase, parallel.max(1));
    while !run.done() {
        run.start_ready(env, limits, reporter);
        if run.running.is_empty() {
            // Nothing could start and nothing runs: the rest waits on nothing that can
            // end (the schedule is acyclic, so this is only reached when all is done).
            break;
        }
        run.wait(reporter);
    }
    run.finished
}

struct Executor<'a> {
    phase: &'a Phase,
    parallel: usize,
    /// Per step: how many of what it comes after have not finished.
    waiting: Vec<usize>,
    /// Per step: the steps that come after it.
    next: Vec<Vec<usize>>,
    /// Ready to start, in the plan's order (index order).
    ready: BTreeSet<usize>,
    running: Vec<(usize, RunningScript, Instant)>,
    /// Readiness of the running scripts' output and exit (closing them unregisters).
    reactor: Option<Reactor>,
    /// An interactive script has the console: nothing else starts.
    exclusive: bool,
    finished: Vec<Finished>,
}

impl<'a> Executor<'a> {
    fn new(phase: &'a Phase, parallel: usize) -> Executor<'a> {
        let n = phase.steps.len();
        let mut next = vec![Vec::new(); n];
        for (i, preds) in phase.after.iter().enumerate() {
            for &p in preds {
                next[p].push(i);
            }
        }
        Executor {
            phase,
            parallel,
            waiting: phase.after.iter().map(Vec::len).collect(),
            next,
            ready: (0..n).filter(|&i| phase.after[i].is_empty()).collect(),
            running: Vec::new(),
            reactor: Reactor::new().ok(),
            exclusive: false,
            finished: Vec::with_capacity(n),
        }
    }

    fn done(&self) -> bool {
        self.ready.is_empty() && self.running.is_empty()
    }

    /// Starts what may start now. An interactive script waits until nothing else runs,
    /// and nothing starts beside it.
    fn start_ready(&mut self, env: &ScriptEnv, limits: Limits, reporter: &mut impl Reporter) {
        while let Some(&i) = self.ready.first() {
            let interactive = self.phase.interactive[i];
            let busy = self.running.len() >= self.parallel;
            if self.exclusive || busy || (interactive && !self.running.is_empty()) {
                return;
            }
            self.ready.remove(&i);
            let step = &self.phase.steps[i];
            reporter.begin(i, step);
            let start = Instant::now();
            match RunningScript::start(&env.command(step), limits, !interactive) {
                Ok(script) => {
                    self.exclusive = interactive;
                    self.watch(i, &script);
                    self.running.push((i, script, start));
                }
                Err(outcome) => self.finish(i, start, outcome, reporter),
            }
        }
    }

    /// Sleeps until a script writes, ends or reaches its time, and deals with it.
    fn wait(&mut self, reporter: &mut impl Reporter) {
        let deadline = self
            .running
            .iter()
            .filter_map(|(_, s, _)| s.deadline())
            .min();
        let ready = self
            .reactor
            .as_mut()
            .map_or_else(Vec::new, |r| r.wait(deadline).unwrap_or_default());
        let fired: BTreeSet<usize> = ready.iter().map(|r| (r.token / 2) as usize).collect();
        let now = Instant::now();
        let mut k = 0;
        while k < self.running.len() {
            let (i, script, start) = &mut self.running[k];
            let (i, start) = (*i, *start);
            let due = self.reactor.is_none()
                || fired.contains(&i)
                || script.deadline().is_some_and(|d| d <= now);
            if !due {
                k += 1;
                continue;
            }
            match script.check(now, &mut |chunk| reporter.output(i, chunk)) {
                None => {
                    script.read_output(&mut |chunk| reporter.output(i, chunk));
                    k += 1;
                }
                Some(outcome) => {
                    self.running.swap_remove(k);
                    if self.phase.interactive[i] {
                        self.exclusive = false;
                    }
                    self.finish(i, start, outcome, reporter);
                }
            }
        }
        if self.reactor.is_none() {
            // Without epoll (never seen, but not worth dying for): a short nap.
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Watches a started script's output and exit: tokens 2i and 2i+1.
    fn watch(&self, i: usize, script: &RunningScript) {
        let Some(reactor) = &self.reactor else {
            return;
        };
        let (output, exit) = script.fds();
        if let Some(fd) = output {
            let _ = reactor.add(fd, 2 * i as u64, Interest::Read);
        }
        if let Some(fd) = exit {
            let _ = reactor.add(fd, 2 * i as u64 + 1, Interest::Read);
        }
    }

    fn finish(&mut self, i: usize, start: Instant, outcome: Outcome, reporter: &mut impl Reporter) {
        reporter.finish(i, &self.phase.steps[i], &outcome);
        for &j in &self.next[i] {
            self.waiting[j] -= 1;
            if self.waiting[j] == 0 {
                self.ready.insert(j);
            }
        }
        self.finished.push(Finished {
            index: i,
            start,
            end: Instant::now(),
            outcome,
        });
    }
}

/// The names of the lock files in `var/lock/subsys` (empty when it does not exist).
pub fn read_subsys_locks(root: &Root) -> BTreeSet<String> {
    std::fs::read_dir(root.subsys_dir())
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default()
}
