//! Executing an rc plan, one step after another, with the sysvinit environment.

use std::collections::BTreeSet;
use std::ffi::OsString;

use crate::format::runlevel::{previous_name, Runlevel};
use crate::plan::rc::{RcPlan, Step};
use crate::sys::layout::Root;
use crate::sys::script::{run_script, Limits, Outcome};
use crate::sys::spawn::Spawn;

/// The value of `INIT_VERSION` scripts see.
pub const INIT_VERSION: &str = concat!("vinit-", env!("CARGO_PKG_VERSION"));

/// Set for scripts run by vinit's rc, so the shipped `functions` library leaves the
/// per-service status line to rc instead of printing its own.
pub const RC_MARKER: &str = "VINIT_RC";

/// The path of the vinit binary, for scripts (`init.d/functions` calls `$VINIT daemon`).
pub const BINARY_ENV: &str = "VINIT";

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
        let fixed = [
            ("PATH", OsString::from(crate::sys::DEFAULT_PATH)),
            ("RUNLEVEL", OsString::from(level.to_string())),
            (
                "PREVLEVEL",
                OsString::from(previous_name(previous).to_string()),
            ),
            ("CONSOLE", console),
            ("INIT_VERSION", OsString::from(INIT_VERSION)),
            ("SHELL", OsString::from("/bin/sh")),
            (RC_MARKER, OsString::from("1")),
        ];
        vars.extend(fixed.into_iter().map(|(k, v)| (OsString::from(k), v)));
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

/// Receives what happens during a run, to show it.
pub trait Reporter {
    fn begin(&mut self, index: usize, total: usize, step: &Step);
    fn output(&mut self, step: &Step, chunk: &[u8]);
    fn finish(&mut self, step: &Step, outcome: &Outcome);
}

/// Runs every step of `plan` in order; returns the steps that failed.
pub fn execute(
    plan: &RcPlan,
    env: &ScriptEnv,
    limits: Limits,
    reporter: &mut impl Reporter,
) -> Vec<(Step, Outcome)> {
    let total = plan.steps.len();
    let mut failures = Vec::new();
    for (index, step) in plan.steps.iter().enumerate() {
        reporter.begin(index, total, step);
        let outcome = run_script(&env.command(step), limits, |chunk| {
            reporter.output(step, chunk)
        });
        reporter.finish(step, &outcome);
        if !outcome.success() {
            failures.push((step.clone(), outcome));
        }
    }
    failures
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
