//! The boot report: for each level change rc made since the last boot, every script's
//! start, end, duration and outcome, what each waited for, and the critical path (the
//! chain of scripts that decided the total time). Kept as a small text file that rc
//! appends to, shown as a table (`vinit rc --report`) or JSON (`--json`).
//!
//! ```text
//! vinit-rc-report 1
//! run LEVEL PREVIOUS STARTED_EPOCH_SECS WALL_US
//! script LINK ACTION START_US END_US ok|fail STATUS WAITED_FOR
//! critical I,J,K            (indices of the run's scripts, first to last; - for none)
//! ```
//!
//! Times are microseconds from the start of the run; `WAITED_FOR` is the index of the
//! script whose end let this one start (`-`: it started at once).

use std::fmt::Write as _;

use crate::format::json::quote;
use crate::format::words::{escape, unescape};

const HEADER: &str = "vinit-rc-report 1";

/// One script of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScriptRun {
    /// The link's name (`S20cron`).
    pub link: String,
    /// `start` or `stop`.
    pub action: String,
    pub start_us: u64,
    pub end_us: u64,
    pub success: bool,
    /// `exit status 1`, `killed by SIGSEGV`, … (`ok` on success).
    pub status: String,
    pub waited_for: Option<usize>,
}

impl ScriptRun {
    pub fn duration_us(&self) -> u64 {
        self.end_us.saturating_sub(self.start_us)
    }
}

/// One level change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    pub level: char,
    /// `N` at boot.
    pub previous: char,
    /// When it began, in seconds since the epoch.
    pub started: i64,
    pub wall_us: u64,
    pub scripts: Vec<ScriptRun>,
    pub critical: Vec<usize>,
}

/// The file's text for these runs.
pub fn to_text(runs: &[RunReport]) -> String {
    let mut out = format!("{HEADER}\n");
    for run in runs {
        out.push_str(&run_text(run));
    }
    out
}

/// One run's lines (what rc appends).
pub fn run_text(run: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "run {} {} {} {}",
        run.level, run.previous, run.started, run.wall_us
    );
    for s in &run.scripts {
        let _ = writeln!(
            out,
            "script {} {} {} {} {} {} {}",
            escape(&s.link),
            escape(&s.action),
            s.start_us,
            s.end_us,
            if s.success { "ok" } else { "fail" },
            escape(&s.status),
            s.waited_for.map_or("-".to_string(), |w| w.to_string())
        );
    }
    let critical: Vec<String> = run.critical.iter().map(usize::to_string).collect();
    let critical = if critical.is_empty() {
        "-".to_string()
    } else {
        critical.join(",")
    };
    let _ = writeln!(out, "critical {critical}");
    out
}

/// Parses a report file. Bad lines are skipped with a warning naming them; a file
/// without the header is no report at all.
pub fn parse(text: &str) -> Result<(Vec<RunReport>, Vec<String>), String> {
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Err("not a vinit rc report (missing header)".into());
    }
    let mut runs: Vec<RunReport> = Vec::new();
    let mut warnings = Vec::new();
    for (n, line) in lines.enumerate() {
        let words: Vec<&str> = line.split(' ').collect();
        if let Err(why) = apply(&mut runs, &words) {
            warnings.push(format!("line {}: {why}", n + 2));
        }
    }
    Ok((runs, warnings))
}

fn apply(runs: &mut Vec<RunReport>, words: &[&str]) -> Result<(), String> {
    let num = |s: &str| s.parse::<u64>().map_err(|_| format!("bad number {s:?}"));
    let level = |s: &str| match s.chars().collect::<Vec<_>>()[..] {
        [c] if c.is_ascii_digit() || c == 'S' || c == 'N' => Ok(c),
        _ => Err(format!("bad level {s:?}")),
    };
    match words {
        ["run", lv, prev, started, wall] => runs.push(RunReport {
            level: level(lv)?,
            previous: level(prev)?,
            started: started
                .parse()
                .map_err(|_| format!("bad time {started:?}"))?,
            wall_us: num(wall)?,
            ..RunReport::default()
        }),
        ["script", link, action, start, end, result, status, waited] => {
            let run = runs.last_mut().ok_or("a script before any run")?;
            let waited_for = match *waited {
                "-" => None,
                w => Some(num(w)? as usize).filter(|w| *w < run.scripts.len()),
            };
            run.scripts.push(ScriptRun {
                link: unescape(link)?,
                action: unescape(action)?,
                start_us: num(start)?,
                end_us: num(end)?,
                success: *result == "ok",
                status: unescape(status)?,
                waited_for,
            });
        }
        ["critical", list] => {
            let run = runs.last_mut().ok_or("a critical path before any run")?;
            run.critical = if *list == "-" {
                Vec::new()
            } else {
                list.split(',')
                    .map(|w| num(w).map(|n| n as usize))
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter()
                    .filter(|i| *i < run.scripts.len())
                    .collect()
            };
        }
        [""] => {}
        _ => return Err(format!("unknown line {:?}", words.join(" "))),
    }
    Ok(())
}

fn secs(us: u64) -> String {
    format!("{}.{:03}", us / 1_000_000, us % 1_000_000 / 1000)
}

/// A run as a table: a line per script in start order, a bar of where it ran, and the
/// critical path. `when` is the run's start as local time, for the title.
pub fn table(run: &RunReport, when: &str) -> String {
    let mut out = format!(
        "runlevel {} (from {}) at {when}: {} scripts in {} s\n",
        run.level,
        run.previous,
        run.scripts.len(),
        secs(run.wall_us)
    );
    let width = 30u64;
    let scale = run.wall_us.max(1);
    let _ = writeln!(
        out,
        "  {:>8} {:>8}  {:<24} {:<6} {:<width$}  result",
        "start",
        "took",
        "script",
        "action",
        "",
        width = width as usize
    );
    let mut order: Vec<usize> = (0..run.scripts.len()).collect();
    order.sort_by_key(|&i| (run.scripts[i].start_us, i));
    for i in order {
        let s = &run.scripts[i];
        let from = (s.start_us * width / scale).min(width - 1);
        let to = (s.end_us * width / scale).clamp(from + 1, width);
        let bar: String = (0..width)
            .map(|c| if c >= from && c < to { '#' } else { '.' })
            .collect();
        let mark = if run.critical.contains(&i) { '*' } else { ' ' };
        let _ = writeln!(
            out,
            "{mark} {:>8} {:>8}  {:<24} {:<6} {bar}  {}",
            secs(s.start_us),
            secs(s.duration_us()),
            s.link,
            s.action,
            s.status
        );
    }
    if !run.critical.is_empty() {
        let chain: Vec<String> = run
            .critical
            .iter()
            .map(|&i| {
                let s = &run.scripts[i];
                format!("{} ({} s)", s.link, secs(s.duration_us()))
            })
            .collect();
        let _ = writeln!(out, "  critical path (*): {}", chain.join(" -> "));
    }
    out
}

/// The runs as a JSON array.
pub fn json(runs: &[RunReport]) -> String {
    let mut out = String::from("[");
    for (r, run) in runs.iter().enumerate() {
        if r > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "\n  {{\"level\": {}, \"previous\": {}, \"started\": {}, \"wall_us\": {}, \"critical_path\": [{}], \"scripts\": [",
            quote(&run.level.to_string()),
            quote(&run.previous.to_string()),
            run.started,
            run.wall_us,
            run.critical
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        for (i, s) in run.scripts.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "\n    {{\"link\": {}, \"action\": {}, \"start_us\": {}, \"end_us\": {}, \"duration_us\": {}, \"success\": {}, \"status\": {}, \"waited_for\": {}}}",
                quote(&s.link),
                quote(&s.action),
                s.start_us,
                s.end_us,
                s.duration_us(),
                s.success,
                quote(&s.status),
                s.waited_for.map_or("null".to_string(), |w| w.to_string())
            );
        }
        out.push_str("\n  ]}");
    }
    out.push_str("\n]\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> RunReport {
        RunReport {
            level: '2',
            previous: 'N',
            started: 1_700_000_000,
            wall_us: 1_500_000,
            scripts: vec![
                ScriptRun {
                    link: "S01mountall".into(),
                    action: "start".into(),
                    start_us: 0,
                    end_us: 1_000_000,
                    success: true,
                    status: "ok".into(),
                    waited_for: None,
                },
                ScriptRun {
                    link: "S02cron".into(),
                    action: "start".into(),
                    start_us: 1_000_100,
                    end_us: 1_500_000,
                    success: false,
                    status: "exit status 1".into(),
                    waited_for: Some(0),
                },
            ],
            critical: vec![0, 1],
        }
    }

    #[test]
    fn round_trip_table_and_json() {
        let text = to_text(&[sample(), sample()]);
        let (runs, warnings) = parse(&text).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(runs, [sample(), sample()]);
        let table = table(&sample(), "now");
        assert!(table.starts_with("runlevel 2 (from N) at now: 2 scripts in 1.500 s\n"));
        assert!(table.contains("*    1.000    0.499  S02cron"), "{table}");
        assert!(table.contains("critical path (*): S01mountall (1.000 s) -> S02cron (0.499 s)"));
        let json = json(&[sample()]);
        assert!(
            json.contains("\"status\": \"exit status 1\", \"waited_for\": 0}"),
            "{json}"
        );
    }

    #[test]
    fn bad_lines_are_skipped_and_indices_checked() {
        let text = format!(
            "{HEADER}\nscript x start 0 1 ok ok -\nrun 3 N 0 10\nscript a start 0 1 ok ok 7\ncritical 0,9\njunk\n"
        );
        let (runs, warnings) = parse(&text).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].scripts[0].waited_for, None);
        assert_eq!(runs[0].critical, [0]);
        assert_eq!(warnings.len(), 2);
        assert!(parse("garbage").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,300}") {
            let _ = parse(&format!("{HEADER}\n{text}"));
        }

        #[test]
        fn tables_of_any_times_never_panic(times in proptest::collection::vec((0u64..10_000_000, 0u64..10_000_000), 0..20), wall in 0u64..20_000_000) {
            let run = RunReport {
                level: '3',
                previous: '2',
                wall_us: wall,
                scripts: times.iter().map(|&(a, b)| ScriptRun { start_us: a, end_us: b, ..ScriptRun::default() }).collect(),
                ..RunReport::default()
            };
            let _ = table(&run, "t");
        }
    }
}
