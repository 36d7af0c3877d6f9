//! `vinit rc LEVEL`: the replacement for `/etc/init.d/rc` — its command line and output.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{parse_args, Context};
use crate::format::boot_report::{self, RunReport, ScriptRun};
use crate::format::runlevel::{previous_name, Runlevel};
use crate::plan::rc::{plan, PlanInput, RcPlan, SkipPolicy, Step};
use crate::plan::schedule::{self, kind_of, OrderSource, Phase};
use crate::sys::layout::Root;
use crate::sys::rcdir::{read_rc_dir, Problem, Severity};
use crate::sys::rcexec::{
    default_parallel, execute, read_subsys_locks, Finished, Reporter, ScriptEnv,
};
use crate::sys::rcorder;
use crate::sys::script::{Limits, Outcome};

/// Default per-script timeout. sysvinit has none, and one hung script then stops the
/// boot forever; 90 s is long enough for a database to flush at shutdown.
pub const DEFAULT_TIMEOUT_SECS: u64 = 90;

/// How many runs the boot report keeps (the level changes of one boot, and then some).
const REPORT_RUNS: usize = 50;

#[derive(Parser, Debug)]
#[command(
    name = "rc",
    about = "Run the rc scripts of a runlevel: K links with stop, then S links with start, \
             each as soon as what it depends on has finished",
    after_help = "Order: every K link before every S link. Within each, a script with an LSB \
                  header (or listed in Debian's init.d/.depend.* files, which are used when \
                  present) starts as soon as what it requires has finished; one without \
                  keeps its place in the numeric order. --sequential (or CONCURRENCY=none in \
                  etc/default/rcS, or init.d/.legacy-bootordering) runs one script at a time \
                  in link order.\n\nSkip policies:\n  run-all  every link runs (Debian's \
                  sysv-rc; the default)\n  subsys   stop only what has a lock in \
                  var/lock/subsys, start only what has none (Red Hat)"
)]
struct Args {
    /// Work on the system below DIR.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// The previous runlevel (default: $PREVLEVEL, else N = boot).
    #[arg(long, value_name = "LEVEL")]
    from: Option<String>,
    /// Print the plan, as batches of scripts that may run together, without running
    /// anything.
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
    /// At most N scripts at once (default: 4 per CPU).
    #[arg(long, short = 'j', value_name = "N")]
    parallel: Option<usize>,
    /// One script at a time, in link order.
    #[arg(long, short = 's', conflicts_with = "parallel")]
    sequential: bool,
    /// Show the boot report: every script of every level change since the last boot,
    /// with its start, duration and outcome, and the critical path.
    #[arg(long, conflicts_with_all = ["dry_run", "level"])]
    report: bool,
    /// With --report: as JSON.
    #[arg(long, requires = "report")]
    json: bool,
    /// The runlevel to enter: 0-6 or S (default: $RUNLEVEL).
    level: Option<String>,
}

pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let args: Args = match parse_args(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let root = ctx.root(args.root.as_deref());
    if args.report {
        return show_report(&root, args.json);
    }
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
    let (phases, order_problems, parallel) = schedule_plan(&root, &plan, &args);
    if args.dry_run {
        print_plan(
            &root,
            &plan,
            &phases,
            parallel,
            &dir.problems,
            &order_problems,
        );
        return i32::from(dir.problems.iter().any(|p| p.severity == Severity::Error));
    }
    let limits = Limits {
        timeout: (args.timeout > 0).then(|| Duration::from_secs(args.timeout)),
        kill_grace: Duration::from_secs(args.kill_after),
    };
    let env = ScriptEnv::new(&root, level, previous, std::env::vars_os());
    let mut console = Console::new(&root, &plan);
    for problem in &dir.problems {
        console.problem(&format!("{}: {problem}", severity_name(problem.severity)));
    }
    for problem in &order_problems {
        console.problem(&format!("warning: {problem}"));
    }
    let began = Instant::now();
    let started_at = crate::sys::utmp::now_secs() as i64;
    let mut runs: Vec<(&Phase, Vec<Finished>)> = Vec::new();
    for phase in &phases {
        runs.push((phase, execute(phase, &env, limits, parallel, &mut console)));
    }
    let report = build_report(&plan, &runs, began, started_at);
    console.report(&report);
    save_report(&root, &report);
    let failures: Vec<(Step, Outcome)> = runs
        .iter()
        .flat_map(|(phase, done)| {
            done.iter()
                .filter(|f| !f.outcome.success())
                .map(|f| (phase.steps[f.index].clone(), f.outcome.clone()))
        })
        .collect();
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

/// The plan's phases as graphs, the problems found in ordering them, and how many
/// scripts may run at once.
fn schedule_plan(root: &Root, plan: &RcPlan, args: &Args) -> (Vec<Phase>, Vec<String>, usize) {
    let mut problems = Vec::new();
    let sequential = args.sequential
        || (args.parallel.is_none() && {
            let reason = rcorder::sequential_reason(root);
            if let Some(why) = &reason {
                if args.dry_run {
                    problems.push(format!("one script at a time: {why}"));
                }
            }
            reason.is_some()
        });
    let parallel = if sequential {
        1
    } else {
        args.parallel.unwrap_or_else(default_parallel).max(1)
    };
    let facilities = (!sequential).then(|| rcorder::read_facilities(root));
    let phases = schedule::phases(plan)
        .into_iter()
        .map(|steps| {
            if sequential {
                return schedule::schedule(steps, &OrderSource::Sequential);
            }
            let phase = match rcorder::read_depend(root, plan.level, kind_of(&steps)) {
                Some((file, bad)) => {
                    problems.extend(bad);
                    schedule::schedule(steps, &OrderSource::Depend(&file))
                }
                None => {
                    let scripts = rcorder::read_headers(root, &steps);
                    schedule::schedule(
                        steps,
                        &OrderSource::Headers {
                            scripts: &scripts,
                            facilities: facilities.as_ref(),
                        },
                    )
                }
            };
            problems.extend(phase.problems.iter().cloned());
            phase
        })
        .collect();
    (phases, problems, parallel)
}

fn print_plan(
    root: &Root,
    plan: &RcPlan,
    phases: &[Phase],
    parallel: usize,
    problems: &[Problem],
    order_problems: &[String],
) {
    crate::sys::runtime::signals::end_on_closed_pipe();
    println!(
        "runlevel {} (previous {}), policy {}, {} layout, {}, {}",
        plan.level,
        previous_name(plan.previous),
        plan.policy.name(),
        root.flavor().name(),
        root.rc_dir(plan.level).display(),
        if parallel == 1 {
            "one script at a time".to_string()
        } else {
            format!("up to {parallel} scripts at once")
        }
    );
    if plan.steps.is_empty() {
        println!("nothing to run");
    }
    let mut number = 0;
    for phase in phases {
        for batch in phase.batches() {
            let mut first = true;
            for &i in &batch {
                number += 1;
                let step = &phase.steps[i];
                let after: Vec<&str> = phase.after[i]
                    .iter()
                    .map(|&p| phase.steps[p].service())
                    .collect();
                println!(
                    "{:>4}{} {:<5}  {:<20}  {}{}{}",
                    number,
                    if first { ' ' } else { '|' },
                    step.action.arg(),
                    step.link.to_string(),
                    step.script.display(),
                    if after.is_empty() {
                        String::new()
                    } else {
                        format!("  (after {})", after.join(" "))
                    },
                    if phase.interactive[i] {
                        "  (interactive: alone)"
                    } else {
                        ""
                    }
                );
                first = false;
            }
        }
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
    for problem in order_problems {
        println!("note: {problem}");
    }
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

/// The run as a report: every script's times from the start of the run, what it
/// waited for, and the critical path.
fn build_report(
    plan: &RcPlan,
    runs: &[(&Phase, Vec<Finished>)],
    began: Instant,
    started_at: i64,
) -> RunReport {
    let us = |t: Instant| t.saturating_duration_since(began).as_micros() as u64;
    let mut scripts = Vec::new();
    let mut after = Vec::new();
    let mut starts = Vec::new();
    let mut ends = Vec::new();
    for (phase, done) in runs {
        let base = scripts.len();
        // Global indices: this phase's finished steps, in the order they finished.
        let mut global = vec![None; phase.steps.len()];
        for (k, f) in done.iter().enumerate() {
            global[f.index] = Some(base + k);
        }
        for f in done {
            let step = &phase.steps[f.index];
            scripts.push(ScriptRun {
                link: step.link.to_string(),
                action: step.action.arg().to_string(),
                start_us: us(f.start),
                end_us: us(f.end),
                success: f.outcome.success(),
                status: if f.outcome.success() {
                    "ok".into()
                } else {
                    f.outcome.describe()
                },
                waited_for: None,
            });
            after.push(
                phase.after[f.index]
                    .iter()
                    .filter_map(|&p| global[p])
                    .collect::<Vec<_>>(),
            );
            starts.push(us(f.start));
            ends.push(us(f.end));
        }
    }
    let (waited, critical) = schedule::waits_and_critical_path(&after, &starts, &ends);
    for (script, w) in scripts.iter_mut().zip(waited) {
        script.waited_for = w;
    }
    RunReport {
        level: plan.level.as_char(),
        previous: previous_name(plan.previous),
        started: started_at,
        wall_us: us(Instant::now()),
        scripts,
        critical,
    }
}

/// Adds the run to the report file: a run from boot (previous level N) begins a new
/// report, unless it follows the boot level S of the same boot (Debian enters its first
/// level from N too). Best effort: a read-only root keeps no report.
fn save_report(root: &Root, run: &RunReport) {
    let path = root.rc_report();
    let mut runs = crate::sys::fs::read_config_text(&path)
        .ok()
        .and_then(|t| boot_report::parse(&t).ok())
        .map(|(runs, _)| runs)
        .unwrap_or_default();
    let same_boot = runs
        .last()
        .is_some_and(|last| last.previous == 'N' && last.level == 'S');
    if run.previous == 'N' && !same_boot {
        runs.clear();
    }
    runs.push(run.clone());
    let skip = runs.len().saturating_sub(REPORT_RUNS);
    let text = boot_report::to_text(&runs[skip..]);
    let _ = crate::sys::fs::write_atomic(&path, text.as_bytes(), 0o644);
}

fn show_report(root: &Root, json: bool) -> i32 {
    let path = root.rc_report();
    let parsed = crate::sys::fs::read_config_text(&path)
        .map_err(|e| crate::sys::describe_io(&e))
        .and_then(|t| boot_report::parse(&t));
    let runs = match parsed {
        Ok((runs, _)) if !runs.is_empty() => runs,
        Ok(_) => {
            eprintln!("rc: {}: no level change recorded", path.display());
            return 1;
        }
        Err(e) => {
            eprintln!("rc: {}: {e}", path.display());
            return 1;
        }
    };
    crate::sys::runtime::signals::end_on_closed_pipe();
    if json {
        print!("{}", boot_report::json(&runs));
        return 0;
    }
    for (n, run) in runs.iter().enumerate() {
        if n > 0 {
            println!();
        }
        let when = crate::sys::local_time(c"%Y-%m-%d %H:%M:%S", Some(run.started));
        print!("{}", boot_report::table(run, &when));
    }
    0
}

/// One script's output on its way to the console and the boot log.
struct Shown {
    index: usize,
    /// Complete lines not shown yet (it is not the first script still running).
    held: Vec<String>,
    /// Output not yet ended by a newline.
    partial: Vec<u8>,
    /// Its result line, once it has finished.
    result: Option<(String, String, bool)>,
}

/// Where the run is shown: the console (our stdout; colours and a progress line on an
/// interactive terminal) and the boot log.
///
/// Scripts running at once never interleave: the oldest one still running streams its
/// output as it comes, the others' is held, and each is shown whole, followed by its
/// result line, in the order they started (startpar's etiquette).
struct Console {
    bar: Option<ProgressBar>,
    /// Colours for the marks: a terminal that can show them.
    colour: bool,
    boot_log: Option<File>,
    /// Lines for the boot log while it cannot be opened (a read-only root early in
    /// boot), written once it can.
    pending_log: Vec<String>,
    log_path: PathBuf,
    /// Show only failures on the console (init sets `VINIT_QUIET=1` when the console
    /// belongs to a container's main command); everything still goes to the boot log.
    quiet: bool,
    /// Scripts not yet shown whole, in the order they started.
    shown: VecDeque<Shown>,
    /// What runs now, for the progress line.
    running: Vec<(usize, String)>,
}

/// Column of the `[  OK  ]` mark on a terminal, as Red Hat's functions put it.
const MARK_COLUMN: usize = 60;

impl Console {
    fn new(root: &Root, plan: &RcPlan) -> Console {
        let quiet = std::env::var_os("VINIT_QUIET").is_some_and(|v| v == "1");
        let terminal =
            std::io::stdout().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb");
        let bar = (terminal && !quiet && interactive_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(plan.steps.len() as u64),
                ProgressDrawTarget::stdout(),
            );
            if let Ok(style) = ProgressStyle::with_template("[{pos}/{len}] {wide_msg}") {
                bar.set_style(style);
            }
            bar
        });
        // indicatif hides itself on a terminal it cannot draw on, and a hidden bar drops
        // what is printed through it: plain lines then.
        let bar = bar.filter(|b| !b.is_hidden());
        let mut console = Console {
            bar,
            colour: terminal,
            boot_log: None,
            pending_log: Vec::new(),
            log_path: root.boot_log(),
            quiet,
            shown: VecDeque::new(),
            running: Vec::new(),
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
        if self.boot_log.is_none() {
            self.boot_log = open_boot_log(&self.log_path);
            if let Some(log) = &mut self.boot_log {
                for line in self.pending_log.drain(..) {
                    let _ = log.write_all(format!("{line}\n").as_bytes());
                }
            }
        }
        match &mut self.boot_log {
            // One write per line: appends from concurrent writers stay whole lines.
            Some(log) => {
                let _ = log.write_all(format!("{text}\n").as_bytes());
            }
            None => self.pending_log.push(text.to_string()),
        }
    }

    fn problem(&mut self, text: &str) {
        let text = format!("rc: {text}");
        eprintln!("{text}");
        self.log_only(&text);
    }

    /// A line of the script at the front: on the console (unless quiet) and in the log.
    fn show(&mut self, text: &str) {
        if !self.quiet {
            self.line(text);
        }
        self.log_only(text);
    }

    fn position(&self, index: usize) -> Option<usize> {
        self.shown.iter().position(|s| s.index == index)
    }

    /// Shows, in start order, every finished script at the front, and what the next
    /// one has written meanwhile (quiet: the console gets a script's lines only once it
    /// has failed).
    fn advance(&mut self) {
        while let Some(front) = self.shown.front_mut() {
            if front.result.is_none() {
                if !self.quiet {
                    let held = std::mem::take(&mut front.held);
                    for line in &held {
                        self.show(line);
                    }
                }
                break;
            }
            let Some(Shown {
                held,
                result: Some((console, plain, success)),
                ..
            }) = self.shown.pop_front()
            else {
                break;
            };
            let to_console = !self.quiet || !success;
            for line in held.iter().chain([&console]) {
                if to_console {
                    self.line(line);
                }
            }
            for line in held.iter().chain([&plain]) {
                self.log_only(line);
            }
        }
    }

    fn progress(&mut self) {
        if let Some(bar) = &self.bar {
            let names: Vec<&str> = self.running.iter().map(|(_, n)| n.as_str()).collect();
            bar.set_message(names.join(", "));
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

    /// The report's table, into the boot log.
    fn report(&mut self, report: &RunReport) {
        let when = crate::sys::local_time(c"%Y-%m-%d %H:%M:%S", Some(report.started));
        for line in boot_report::table(report, &when).lines() {
            self.log_only(line);
        }
    }
}

impl Reporter for Console {
    fn begin(&mut self, index: usize, step: &Step) {
        self.shown.push_back(Shown {
            index,
            held: Vec::new(),
            partial: Vec::new(),
            result: None,
        });
        self.running
            .push((index, format!("{} {}", step.action.verb(), step.service())));
        self.progress();
    }

    fn output(&mut self, index: usize, chunk: &[u8]) {
        let Some(at) = self.position(index) else {
            return;
        };
        let shown = &mut self.shown[at];
        shown.partial.extend_from_slice(chunk);
        while let Some(nl) = shown.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = shown.partial.drain(..=nl).collect();
            shown
                .held
                .push(String::from_utf8_lossy(&line[..nl]).into_owned());
        }
        // The front streams (in quiet mode everything waits for the outcome).
        if at == 0 && !self.quiet {
            let held = std::mem::take(&mut self.shown[0].held);
            for line in &held {
                self.show(line);
            }
        }
    }

    fn finish(&mut self, index: usize, step: &Step, outcome: &Outcome) {
        let label = format!("{} {}:", step.action.verb(), step.service());
        self.running.retain(|(i, _)| *i != index);
        self.progress();
        let (mark, colour) = if outcome.success() {
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
        let console = if self.colour {
            format!(
                "{label:<width$}[\x1b[1;{colour}m{mark}\x1b[0m]{detail}",
                width = MARK_COLUMN
            )
        } else {
            plain.clone()
        };
        if let Some(at) = self.position(index) {
            let shown = &mut self.shown[at];
            if !shown.partial.is_empty() {
                let rest = std::mem::take(&mut shown.partial);
                shown.held.push(String::from_utf8_lossy(&rest).into_owned());
            }
            shown.result = Some((console, plain, outcome.success()));
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        self.advance();
    }
}

/// A progress line only where someone watches it: a terminal that is not the system
/// console or a serial line (at boot the console is often captured, where a redrawn
/// line only garbles the log).
fn interactive_terminal() -> bool {
    let tty = std::fs::read_link("/proc/self/fd/1").unwrap_or_default();
    let name = tty.to_string_lossy();
    !(name == "/dev/console"
        || ["/dev/ttyS", "/dev/ttyAMA", "/dev/hvc", "/dev/ttyUSB"]
            .iter()
            .any(|p| name.starts_with(p)))
}

/// The boot log, appended to; None while it cannot be written (a read-only root early
/// in boot: the lines wait).
fn open_boot_log(path: &std::path::Path) -> Option<File> {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .open(path)
        .ok()
}
