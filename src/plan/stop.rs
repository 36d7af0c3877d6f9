//! The stop schedule of `vinit daemon --stop --retry` (start-stop-daemon's): which
//! signal to send, how long to wait for the process to exit, what next.
//!
//! `--retry 5` means `SIG/5/KILL/5` (SIG: `--signal`, TERM by default);
//! `--retry TERM/30/KILL/5` is explicit; `forever` as the last item repeats the
//! schedule from its start until the process is gone.

use std::str::FromStr;
use std::time::Duration;

use nix::sys::signal::Signal;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Send(Signal),
    Wait(Duration),
    /// Go back to the first step.
    Repeat,
}

/// Parses a signal as `TERM`, `SIGTERM`, `-TERM`, `15` or `-15`.
pub fn parse_signal(text: &str) -> Result<Signal, String> {
    let bare = text.strip_prefix('-').unwrap_or(text);
    if let Ok(number) = bare.parse::<i32>() {
        return Signal::try_from(number).map_err(|_| format!("unknown signal number {number}"));
    }
    let upper = bare.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&name).map_err(|_| format!("unknown signal \"{text}\""))
}

/// Parses `--retry`. `signal` is the one sent first when only a timeout is given.
pub fn parse_schedule(text: &str, signal: Signal) -> Result<Vec<Step>, String> {
    if let Ok(secs) = text.parse::<u64>() {
        let wait = Step::Wait(Duration::from_secs(secs));
        return Ok(vec![
            Step::Send(signal),
            wait,
            Step::Send(Signal::SIGKILL),
            wait,
        ]);
    }
    let items: Vec<&str> = text.split('/').collect();
    let mut steps = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let step = if *item == "forever" {
            if i + 1 != items.len() {
                return Err("\"forever\" must be the last item of --retry".into());
            }
            Step::Repeat
        } else if let Ok(secs) = item.parse::<u64>() {
            Step::Wait(Duration::from_secs(secs))
        } else {
            Step::Send(parse_signal(item)?)
        };
        steps.push(step);
    }
    let waits = steps.iter().any(|s| matches!(s, Step::Wait(_)));
    if steps.last() == Some(&Step::Repeat) && !waits {
        return Err("--retry with \"forever\" needs a timeout to wait between rounds".into());
    }
    if !steps.iter().any(|s| matches!(s, Step::Send(_))) {
        return Err(format!("--retry \"{text}\" sends no signal"));
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn signals() {
        for text in ["TERM", "SIGTERM", "-TERM", "15", "-15", "term"] {
            assert_eq!(parse_signal(text), Ok(Signal::SIGTERM), "{text}");
        }
        assert!(parse_signal("LOUD").is_err());
        assert!(parse_signal("99").is_err());
    }

    #[test]
    fn schedules() {
        let s = |n| Step::Wait(Duration::from_secs(n));
        assert_eq!(
            parse_schedule("5", Signal::SIGHUP),
            Ok(vec![
                Step::Send(Signal::SIGHUP),
                s(5),
                Step::Send(Signal::SIGKILL),
                s(5)
            ])
        );
        assert_eq!(
            parse_schedule("TERM/30/KILL/5", Signal::SIGTERM),
            Ok(vec![
                Step::Send(Signal::SIGTERM),
                s(30),
                Step::Send(Signal::SIGKILL),
                s(5)
            ])
        );
        assert_eq!(
            parse_schedule("INT/1/forever", Signal::SIGTERM),
            Ok(vec![Step::Send(Signal::SIGINT), s(1), Step::Repeat])
        );
        assert!(parse_schedule("TERM/forever", Signal::SIGTERM).is_err());
        assert!(parse_schedule("forever/TERM/1", Signal::SIGTERM).is_err());
        assert!(parse_schedule("5/6", Signal::SIGTERM).is_err());
        assert!(parse_schedule("TERM/x/KILL", Signal::SIGTERM).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,30}") {
            let _ = parse_schedule(&text, Signal::SIGTERM);
            let _ = parse_signal(&text);
        }
    }
}
