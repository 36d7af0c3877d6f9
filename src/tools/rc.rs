//! `vinit rc LEVEL`: the replacement for `/etc/init.d/rc` — its command line and output.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{parse_args, Context};
use crate::format::runlevel::{previous_name, Runlevel};
use crate::plan::rc::{plan, PlanInput, RcPlan, SkipPolicy, Step};
use crate::sys::layout::Root;
use crate::sys::rcdir::{read_rc_dir, Problem, Severity};
use crate::sys::rcexec::{execute, read_subsys_locks, Reporter, ScriptEnv};
use crate::sys::script::{Limits, Outcome};

/// Default per-script timeout. sysvinit has none, and one hung script then stops the
/// boot forever; 90 s is long enough for a database to flush at shutdown.
pub const DEFAULT_TIMEOUT_SECS: u64 = 90;

#[derive(Parser, Debug)]
#[command(
    name = "rc",
    about = "Run the rc scripts of a runlevel: K links with stop, then S links with start",
    after_help = "Skip policies:\n  run-all  every link runs (Debian's sysv-rc; the default)\n  \
                  subsys   stop only what has a lock in var/lock/subsys, start only what has none (Red Hat)"
)]
struct Args {
    /// Work on the system below DIR.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// The previous runlevel (default: $PREVLEVEL, else N = boot).
    #[arg(long, value_name = "LEVEL")]
    from: Option<String>,
    /// Print the plan without running anything.
    #[arg(long, short = 'n')]
    dry_run: bool,
    /// Which links to skip: run-all or subsys.
    #[arg(long, value_name = "POLICY", default_value = "run-all")]
    policy: String,
    /// Seconds a script may run before its process group gets SIGTERM (0 = no limit).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT_SECS)]
    timeout: u64,
    /// Seconds between SIGTERM and SIGKILL for a script that timed out.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    kill_after: u64,
    /// The runlevel to enter: 0-6 or S (default: $RUNLEVEL).
    level: Option<String>,
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let args: Args = match parse_args(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let root = ctx.root(args.root.as_deref());
    let (level, previous, policy) = match resolve(&args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("rc: {e}");
            return 2;
        }
    };
    let dir = match read_rc_dir(&root, level) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("rc: {e}");
            return 1;
        }
    };
    let locks = read_subsys_locks(&root);
    let plan = plan(&PlanInput {
        level,
        previous,
        policy,
        entries: &dir.entries,
        locks: &locks,
    });
    if args.dry_run {
        print_plan(&root, &plan, &dir.problems);
        return i32::from(dir.problems.iter().any(|p| p.severity == Severity::Error));
    }
    let limits = Limits {
        timeout: (args.timeout > 0).then(|| Duration::from_secs(args.timeout)),
        kill_grace: Duration::from_secs(args.kill_after),
    };
    let env = ScriptEnv::new(&root, level, previous, std::env::vars_os());
    let mut console = Console::new(&root, &plan);
    for problem in &dir.problems {
        console.problem(problem);
    }
    let failures = execute(&plan, &env, limits, &mut console);
    console.summary(&plan, &failures, &dir.problems)
}

fn resolve(args: &Args) -> Result<(Runlevel, Option<Runlevel>, SkipPolicy), String> {
    let level = match &args.level {
        Some(l) => l.clone(),
        None => std::env::var("RUNLEVEL")
            .map_err(|_| "no runlevel given (usage: rc LEVEL)".to_string())?,
    };
    let level = Runlevel::parse_rc(&level)?;
    let previous = match &args.from {
        Some(p) => p.clone(),
        None => std::env::var("PREVLEVEL").unwrap_or_default(),
    };
    let previous = Runlevel::parse_previous(&previous)?;
    Ok((level, previous, SkipPolicy::parse(&args.policy)?))
}

fn print_plan(root: &Root, plan: &RcPlan, problems: &[Problem]) {
    println!(
        "runlevel {} (previous {}), policy {}, {} layout, {}",
        plan.level,
        previous_name(plan.previous),
        plan.policy.name(),
        root.flavor().name(),
        root.rc_dir(plan.level).display()
    );
    if plan.steps.is_empty() {
        println!("nothing to run");
    }
    for (i, step) in plan.steps.iter().enumerate() {
        println!(
            "{:>4}  {:<5}  {:<20}  {}",
            i + 1,
            step.action.arg(),
            step.link.to_string(),
            step.script.display()
        );
    }
    for (step, reason) in &plan.skipped {
        println!(
            "skip  {:<5}  {:<20}  {}",
            step.action.arg(),
            step.link.to_string(),
            reason.describe()
        );
    }
    for problem in problems {
        println!("{}: {problem}", severity_name(problem.severity));
    }
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

/// Where the run is shown: the console (our stdout; a progress line and colours when it
/// is a terminal) and the boot log.
struct Console {
    bar: Option<ProgressBar>,
    boot_log: Option<File>,
    /// Output of the current script not yet ended by a newline.
    partial: Vec<u8>,
    /// Show only failures on the console (init sets `VINIT_QUIET=1` when the console
    /// belongs to a container's main command); everything still goes to the boot log.
    quiet: bool,
    /// In quiet mode, the current script's lines, shown only if it fails.
    held: Vec<String>,
}

/// Column of the `[  OK  ]` mark on a terminal, as Red Hat's functions put it.
const MARK_COLUMN: usize = 60;

impl Console {
    fn new(root: &Root, plan: &RcPlan) -> Console {
        let quiet = std::env::var_os("VINIT_QUIET").is_some_and(|v| v == "1");
        let bar = (!quiet && std::io::stdout().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(plan.steps.len() as u64),
                ProgressDrawTarget::stdout(),
            );
            if let Ok(style) = ProgressStyle::with_template("[{pos}/{len}] {wide_msg}") {
                bar.set_style(style);
            }
            bar
        });
        // indicatif hides itself on a terminal it cannot draw on (TERM=dumb), and a
        // hidden bar drops what is printed through it: plain lines then.
        let bar = bar.filter(|b| !b.is_hidden());
        let mut console = Console {
            bar,
            boot_log: open_boot_log(root),
            partial: Vec::new(),
            quiet,
            held: Vec::new(),
        };
        console.log_only(&format!(
            "--- vinit rc: runlevel {} (previous {}) at {} ---",
            plan.level,
            previous_name(plan.previous),
            crate::sys::local_time_string()
        ));
        console
    }

    fn line(&mut self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(format!("{text}\n").as_bytes());
                let _ = out.flush();
            }
        }
    }

    fn log_only(&mut self, text: &str) {
        if let Some(log) = &mut self.boot_log {
            // One write per line: appends from concurrent writers stay whole lines.
            let _ = log.write_all(format!("{text}\n").as_bytes());
        }
    }

    /// A line of a script's run: to the console (held back in quiet mode until the
    /// script's outcome is known) and to the boot log.
    fn both(&mut self, console: &str, plain: &str) {
        if self.quiet {
            self.held.push(console.to_string());
        } else {
            self.line(console);
        }
        self.log_only(plain);
    }

    fn problem(&mut self, problem: &Problem) {
        let text = format!("rc: {}: {problem}", severity_name(problem.severity));
        eprintln!("{text}");
        self.log_only(&text);
    }

    fn flush_partial(&mut self) {
        if !self.partial.is_empty() {
            let text = String::from_utf8_lossy(&std::mem::take(&mut self.partial)).into_owned();
            self.both(&text, &text);
        }
    }

    fn summary(
        &mut self,
        plan: &RcPlan,
        failures: &[(Step, Outcome)],
        problems: &[Problem],
    ) -> i32 {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let errors: Vec<&Problem> = problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .collect();
        if failures.is_empty() && errors.is_empty() {
            self.log_only(&format!(
                "--- runlevel {}: {} scripts, all succeeded ---",
                plan.level,
                plan.steps.len()
            ));
            return 0;
        }
        let mut items: Vec<String> = failures
            .iter()
            .map(|(s, o)| format!("{} {} ({})", s.action.arg(), s.service(), o.describe()))
            .collect();
        items.extend(errors.iter().map(|p| p.to_string()));
        let text = format!(
            "rc: runlevel {}: {} of {} failed: {}",
            plan.level,
            items.len(),
            plan.steps.len() + errors.len(),
            items.join("; ")
        );
        eprintln!("{text}");
        self.log_only(&text);
        1
    }
}

impl Reporter for Console {
    fn begin(&mut self, _index: usize, _total: usize, step: &Step) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{} {}", step.action.verb(), step.service()));
        }
    }

    fn output(&mut self, _step: &Step, chunk: &[u8]) {
        self.partial.extend_from_slice(chunk);
        while let Some(nl) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=nl).collect();
            let text = String::from_utf8_lossy(&line[..nl]).into_owned();
            self.both(&text, &text);
        }
    }

    fn finish(&mut self, step: &Step, outcome: &Outcome) {
        self.flush_partial();
        let label = format!("{} {}:", step.action.verb(), step.service());
        let (mark, color) = if outcome.success() {
            ("  OK  ", "32")
        } else {
            ("FAILED", "31")
        };
        let detail = if outcome.success() {
            String::new()
        } else {
            format!(" {}", outcome.describe())
        };
        let plain = format!("{label} [{mark}]{detail}");
        let console = match self.bar {
            Some(_) => format!(
                "{label:<width$}[\x1b[1;{color}m{mark}\x1b[0m]{detail}",
                width = MARK_COLUMN
            ),
            None => plain.clone(),
        };
        self.both(&console, &plain);
        let held = std::mem::take(&mut self.held);
        if !outcome.success() {
            for line in held {
                self.line(&line);
            }
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }
}

/// The boot log, appended to; rc goes on without it when it cannot be written (a
/// read-only root early in boot).
fn open_boot_log(root: &Root) -> Option<File> {
    let path = root.boot_log();
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .open(&path)
    {
        Ok(f) => Some(f),
        Err(e) => {
            eprintln!(
                "rc: warning: boot log {}: {}",
                path.display(),
                crate::sys::describe_io(&e)
            );
            None
        }
    }
}
