//! `/proc/PID/stat`: the fields needed to tell one process from another.

/// What `/proc/PID/stat` says about a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcStat {
    /// The command name (at most 15 bytes, as the kernel keeps it).
    pub comm: String,
    /// `R`, `S`, `D`, `Z` (zombie), `T`, ...
    pub state: char,
    pub ppid: i32,
    pub session: i32,
    /// Start time in clock ticks after boot: with the pid, it names one process.
    pub start_time: u64,
}

/// Parses the line. The command name is in parentheses and may itself contain
/// parentheses and spaces, so the fields after it are found from the last `)`.
pub fn parse_stat(text: &str) -> Option<ProcStat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    if close < open {
        return None;
    }
    let comm = text[open + 1..close].to_string();
    let fields: Vec<&str> = text[close + 1..].split_whitespace().collect();
    // After the name: state(3) ppid(4) pgrp(5) session(6) ... starttime(22).
    let state = fields.first()?.chars().next()?;
    let ppid = fields.get(1)?.parse().ok()?;
    let session = fields.get(3)?.parse().ok()?;
    let start_time = fields.get(19)?.parse().ok()?;
    Some(ProcStat {
        comm,
        state,
        ppid,
        session,
        start_time,
    })
}

/// The signals whose disposition is not the default (`SigIgn` | `SigCgt` of
/// `/proc/PID/status`, bit N-1 for signal N): the ones a child must reset before exec.
pub fn non_default_signals(status: &str) -> Option<u64> {
    let mask = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
    };
    Some(mask("SigIgn:")? | mask("SigCgt:")?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_a_name_with_parentheses() {
        let line = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 50 18446744073709551615";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.comm, "a (b) c");
        assert_eq!(
            (s.state, s.ppid, s.session, s.start_time),
            ('S', 1, 4242, 987654)
        );
        assert_eq!(parse_stat("1 (x) S"), None);
    }

    #[test]
    fn signal_masks_from_status() {
        let status = "Name:\tx\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000001000\nSigCgt:\t0000000100000401\n";
        assert_eq!(non_default_signals(status), Some(0x1000 | 0x1_0000_0401));
        assert_eq!(non_default_signals("Name:\tx\n"), None);
        let own = std::fs::read_to_string("/proc/self/status").unwrap();
        // Rust's runtime ignores SIGPIPE (13): bit 12.
        assert_ne!(non_default_signals(&own).unwrap() & (1 << 12), 0);
    }

    #[test]
    fn parses_our_own() {
        let text = std::fs::read_to_string("/proc/self/stat").unwrap();
        let s = parse_stat(&text).unwrap();
        assert_eq!(s.ppid, nix::unistd::getppid().as_raw());
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,120}") {
            let _ = parse_stat(&text);
        }
    }
}
