//! The stop schedule of `vinit daemon --stop --retry`, with start-stop-daemon's syntax
//! and meaning: which signal to send, how long to wait for the processes to exit, what
//! next.
//!
//! `--retry 5` means `SIG/5/KILL/5` (SIG: `--signal`, TERM by default);
//! `--retry TERM/30/KILL/5` is explicit; `forever` repeats the items after it until the
//! processes are gone (`TERM/10/forever/KILL/5`), so it cannot be the last item.

use std::str::FromStr;
use std::time::Duration;

use nix::sys::signal::Signal;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Send(Signal),
    Wait(Duration),
    /// Go on from this step (the one after `forever`).
    Goto(usize),
}

/// Parses a signal as `TERM`, `SIGTERM`, `-TERM`, `15` or `-15` (start-stop-daemon takes
/// `TERM` and `15`; the other spellings are accepted too).
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

/// Items longer than this are refused, as start-stop-daemon does (a forgotten slash).
const ITEM_MAX: usize = 19;

/// Parses `--retry`. `signal` is the one sent first when only a timeout is given.
pub fn parse_schedule(text: &str, signal: Signal) -> Result<Vec<Step>, String> {
    if !text.contains('/') {
        let Step::Wait(wait) = parse_item(text)? else {
            return Err("--retry takes timeout, or schedule list of at least two items".into());
        };
        return Ok(vec![
            Step::Send(signal),
            Step::Wait(wait),
            Step::Send(Signal::SIGKILL),
            Step::Wait(wait),
        ]);
    }
    let mut steps = Vec::new();
    let mut repeat_at = None;
    for item in text.split('/') {
        if item == "forever" {
            if repeat_at.is_some() {
                return Err("invalid schedule: 'forever' appears more than once".into());
            }
            repeat_at = Some(steps.len());
            continue;
        }
        steps.push(parse_item(item)?);
    }
    match repeat_at {
        Some(at) if at == steps.len() => {
            Err("invalid schedule: 'forever' appears last, nothing to repeat".into())
        }
        Some(at) => {
            steps.push(Step::Goto(at));
            Ok(steps)
        }
        None => Ok(steps),
    }
}

/// One item: a timeout (it starts with a digit), or a signal (`-` optional).
fn parse_item(item: &str) -> Result<Step, String> {
    if item.len() > ITEM_MAX {
        return Err(
            "invalid schedule item: far too long (you must delimit items with slashes)".into(),
        );
    }
    if item.starts_with(|c: char| c.is_ascii_digit()) {
        return item
            .parse::<u64>()
            .map(|secs| Step::Wait(Duration::from_secs(secs)))
            .map_err(|_| "invalid timeout value in schedule".into());
    }
    let bare = item.strip_prefix('-').unwrap_or(item);
    match parse_signal(bare) {
        Ok(signal) if !bare.is_empty() => Ok(Step::Send(signal)),
        _ => Err(
            "invalid schedule item (must be [-]<signal-name>, -<signal-number>, \
                  <timeout> or 'forever'"
                .into(),
        ),
    }
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
            parse_schedule("-15/1/forever/-9/2", Signal::SIGHUP),
            Ok(vec![
                Step::Send(Signal::SIGTERM),
                s(1),
                Step::Send(Signal::SIGKILL),
                s(2),
                Step::Goto(2)
            ])
        );
        assert_eq!(parse_schedule("5/6", Signal::SIGTERM), Ok(vec![s(5), s(6)]));
        assert!(parse_schedule("INT/1/forever", Signal::SIGTERM)
            .unwrap_err()
            .contains("appears last"));
        assert!(parse_schedule("forever/1/forever/2", Signal::SIGTERM).is_err());
        assert!(parse_schedule("TERM", Signal::SIGTERM)
            .unwrap_err()
            .contains("at least two"));
        assert!(parse_schedule("TERM/5x", Signal::SIGTERM).is_err());
        assert!(parse_schedule("TERM//5", Signal::SIGTERM).is_err());
        assert!(parse_schedule("TERM/12345678901234567890", Signal::SIGTERM).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,30}") {
            let _ = parse_schedule(&text, Signal::SIGTERM);
            let _ = parse_signal(&text);
        }

        #[test]
        fn a_goto_always_points_inside(text in "(TERM|KILL|[0-9]|forever)(/(TERM|KILL|[0-9]|forever)){0,6}") {
            if let Ok(steps) = parse_schedule(&text, Signal::SIGTERM) {
                for step in &steps {
                    if let Step::Goto(at) = step {
                        prop_assert!(*at < steps.len() - 1);
                    }
                }
            }
        }
    }
}
