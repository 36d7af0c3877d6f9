//! inittab(5): `id:runlevels:action:process`, one entry per line.
//!
//! Parsed as sysvinit 3.06 does, without its bugs: lines of any length (sysvinit splits
//! lines over 255 bytes into a phantom second entry), processes of any length (it cuts
//! them at 127 characters), and a lowercase `s` in the runlevels field meaning `S` (it
//! never matches there). A bad line is reported as `FILE[LINE]: reason` and dropped; the
//! rest of the file still loads.

use std::fmt;

use crate::format::levelset::LevelSet;
use crate::format::runlevel::Runlevel;

/// The inittab used when a root has none (the repository's `inittab`, embedded).
pub const DEFAULT_INITTAB: &str = include_str!("../../inittab");

/// What init does with an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Sysinit,
    Boot,
    Bootwait,
    Wait,
    Once,
    Respawn,
    Ondemand,
    Initdefault,
    Off,
    Powerwait,
    Powerfail,
    Powerokwait,
    Powerfailnow,
    Ctrlaltdel,
    Kbrequest,
}

const ACTIONS: &[(&str, Action)] = &[
    ("sysinit", Action::Sysinit),
    ("boot", Action::Boot),
    ("bootwait", Action::Bootwait),
    ("wait", Action::Wait),
    ("once", Action::Once),
    ("respawn", Action::Respawn),
    ("ondemand", Action::Ondemand),
    ("initdefault", Action::Initdefault),
    ("off", Action::Off),
    ("powerwait", Action::Powerwait),
    ("powerfail", Action::Powerfail),
    ("powerokwait", Action::Powerokwait),
    ("powerfailnow", Action::Powerfailnow),
    ("ctrlaltdel", Action::Ctrlaltdel),
    ("kbrequest", Action::Kbrequest),
];

impl Action {
    /// Action names are matched case-insensitively, as sysvinit does.
    pub fn parse(name: &str) -> Option<Action> {
        ACTIONS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, a)| *a)
    }

    pub fn name(self) -> &'static str {
        ACTIONS
            .iter()
            .find(|(_, a)| *a == self)
            .map_or("?", |(n, _)| n)
    }

    /// Init waits for these: later entries (in file order) start only once they exit.
    pub fn is_wait(self) -> bool {
        matches!(
            self,
            Action::Sysinit
                | Action::Bootwait
                | Action::Wait
                | Action::Powerwait
                | Action::Powerfailnow
                | Action::Powerokwait
                | Action::Ctrlaltdel
        )
    }

    /// Restarted whenever they exit.
    pub fn respawns(self) -> bool {
        matches!(self, Action::Respawn | Action::Ondemand)
    }

    /// Started by an event (a signal or a power status), not by entering a level.
    pub fn is_event(self) -> bool {
        matches!(
            self,
            Action::Powerwait
                | Action::Powerfail
                | Action::Powerokwait
                | Action::Powerfailnow
                | Action::Ctrlaltdel
                | Action::Kbrequest
        )
    }

    /// Describes a process to run (everything but `initdefault` and `off`).
    pub fn runs_process(self) -> bool {
        !matches!(self, Action::Initdefault | Action::Off)
    }
}

/// The runlevels field: levels (digits and `S`) and the on-demand letters `a`, `b`, `c`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EntryLevels {
    pub levels: LevelSet,
    /// Bits 0, 1, 2 for `a`, `b`, `c`.
    demand: u8,
}

impl EntryLevels {
    pub fn parse(field: &str) -> Result<EntryLevels, String> {
        let mut out = EntryLevels::default();
        for c in field.chars() {
            match (Runlevel::from_char(c), c.to_ascii_lowercase()) {
                (Some(level), _) => out.levels = out.levels.with(level),
                (None, l @ 'a'..='c') => out.demand |= 1 << (l as u8 - b'a'),
                _ => return Err(format!("invalid runlevel '{c}' in \"{field}\"")),
            }
        }
        Ok(out)
    }

    pub fn is_empty(self) -> bool {
        self.levels.is_empty() && self.demand == 0
    }

    /// Whether an entry with this field runs in `level`. An empty field means every level
    /// 0–9; for event entries (power, ctrlaltdel, kbrequest) also S.
    pub fn matches(self, level: Runlevel, action: Action) -> bool {
        if self.is_empty() {
            return level != Runlevel::SINGLE || action.is_event();
        }
        self.levels.contains(level)
    }

    /// Whether the on-demand letter (`a`, `b` or `c`) is in the field.
    pub fn has_demand(self, letter: char) -> bool {
        match letter.to_ascii_lowercase() {
            c @ 'a'..='c' => self.demand & (1 << (c as u8 - b'a')) != 0,
            _ => false,
        }
    }

    /// The highest digit in the field, else S (for `initdefault`).
    pub fn highest(self) -> Option<Runlevel> {
        self.levels
            .iter()
            .filter(|l| *l != Runlevel::SINGLE)
            .last()
            .or_else(|| self.levels.iter().last())
    }
}

/// One line of inittab.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InittabEntry {
    pub id: String,
    pub levels: EntryLevels,
    pub action: Action,
    /// The process field as written.
    pub process: String,
    /// Physical line number (1-based).
    pub line: usize,
}

/// How to start an entry's process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub argv: Vec<String>,
    /// Write utmp records for it (no `+` prefix).
    pub utmp: bool,
}

/// Characters that make sysvinit run a process through `/bin/sh -c "exec …"`.
const SHELL_METACHARACTERS: &str = "~`!$^&*()=|\\{}[];\"'<>?";

impl InittabEntry {
    /// The command line: a leading `+` turns off utmp records, a leading `@` forbids the
    /// shell; otherwise a process with shell metacharacters runs as
    /// `/bin/sh -c "exec PROCESS"` and any other is split on blanks.
    pub fn command(&self) -> Command {
        let mut rest = self.process.trim_start_matches([' ', '\t']);
        let (mut utmp, mut shell_allowed) = (true, true);
        loop {
            if let Some(r) = rest.strip_prefix('+') {
                utmp = false;
                rest = r;
            } else if let Some(r) = rest.strip_prefix('@') {
                shell_allowed = false;
                rest = r;
            } else {
                break;
            }
        }
        let argv = if shell_allowed && rest.contains(|c| SHELL_METACHARACTERS.contains(c)) {
            vec![
                "/bin/sh".to_string(),
                "-c".to_string(),
                format!("exec {rest}"),
            ]
        } else {
            rest.split([' ', '\t'])
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Command { argv, utmp }
    }

    /// Whether this entry runs in `level`.
    pub fn runs_in(&self, level: Runlevel) -> bool {
        self.levels.matches(level, self.action)
    }
}

/// A line that was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]: {}", self.file, self.line, self.reason)
    }
}

/// A parsed inittab.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inittab {
    /// Every entry that runs a process (also `off` ones, so a reload can kill them), in
    /// file order.
    pub entries: Vec<InittabEntry>,
    /// From the `initdefault` entry: the highest level in its field.
    pub default_level: Option<Runlevel>,
}

#[cfg(test)]
impl Inittab {
    pub fn entry(&self, id: &str) -> Option<&InittabEntry> {
        self.entries.iter().find(|e| e.id == id)
    }
}

/// Parses inittab text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> (Inittab, Vec<ParseError>) {
    parse_bytes(text.as_bytes(), file)
}

/// Parses inittab as it is on disk. A byte that is not UTF-8 makes its line bad, never
/// the file: a Latin-1 comment is still a comment, and an entry with such a byte is
/// reported and dropped while the others load.
pub fn parse_bytes(bytes: &[u8], file: &str) -> (Inittab, Vec<ParseError>) {
    let mut tab = Inittab::default();
    let mut errors = Vec::new();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let start = raw
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t'))
            .unwrap_or(raw.len());
        let raw = &raw[start..];
        if raw.is_empty() || raw[0] == b'#' {
            continue;
        }
        let result = std::str::from_utf8(raw)
            .map_err(|e| {
                format!(
                    "not valid UTF-8 (byte 0x{:02x} at column {})",
                    raw[e.valid_up_to()],
                    start + e.valid_up_to() + 1
                )
            })
            .and_then(|content| parse_line(content, line));
        let result = result.and_then(|entry| {
            if tab.entries.iter().any(|e| e.id == entry.id) {
                return Err(format!("duplicate ID field \"{}\"", entry.id));
            }
            Ok(entry)
        });
        match result {
            Ok(entry) if entry.action == Action::Initdefault => match initdefault_level(&entry) {
                Ok(level) => tab.default_level = Some(level),
                Err(reason) => errors.push(ParseError {
                    file: file.to_string(),
                    line,
                    reason,
                }),
            },
            Ok(entry) => tab.entries.push(entry),
            Err(reason) => errors.push(ParseError {
                file: file.to_string(),
                line,
                reason,
            }),
        }
    }
    (tab, errors)
}

fn parse_line(content: &str, line: usize) -> Result<InittabEntry, String> {
    let mut fields = content.splitn(4, ':');
    let (Some(id), Some(levels), Some(action), Some(process)) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err("syntax error: expected id:runlevels:action:process".into());
    };
    if id.is_empty() || id.chars().count() > 4 {
        return Err(format!("ID field \"{id}\" must be 1 to 4 characters"));
    }
    if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "ID field {id:?} contains blanks or control characters"
        ));
    }
    let levels = EntryLevels::parse(levels)?;
    let action =
        Action::parse(action.trim()).ok_or_else(|| format!("unknown action \"{action}\""))?;
    if action.runs_process()
        && process
            .trim()
            .trim_start_matches(['+', '@'])
            .trim()
            .is_empty()
    {
        return Err(format!("missing process for action \"{}\"", action.name()));
    }
    Ok(InittabEntry {
        id: id.to_string(),
        levels,
        action,
        process: process.to_string(),
        line,
    })
}

fn initdefault_level(entry: &InittabEntry) -> Result<Runlevel, String> {
    let level = entry
        .levels
        .highest()
        .ok_or_else(|| "initdefault needs a runlevel".to_string())?;
    if level.is_shutdown() {
        return Err(format!(
            "initdefault {level} would halt or reboot at every boot; ignored"
        ));
    }
    Ok(level)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn level(c: char) -> Runlevel {
        Runlevel::from_char(c).unwrap()
    }

    #[test]
    fn the_default_inittab_parses_cleanly() {
        let (tab, errors) = parse(DEFAULT_INITTAB, "inittab");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(tab.default_level, Some(level('3')));
        assert_eq!(tab.entry("si").unwrap().action, Action::Sysinit);
        assert_eq!(
            tab.entry("l3").unwrap().command().argv,
            ["vinit", "rc", "3"]
        );
        assert!(tab.entry("l6").unwrap().runs_in(level('6')));
    }

    #[test]
    fn every_action_and_the_process_rules() {
        let text = ACTIONS
            .iter()
            .enumerate()
            .map(|(i, (n, _))| format!("x{i}:2:{}:/bin/p{i} a  b\n", n.to_uppercase()))
            .collect::<String>();
        let (tab, errors) = parse(&text, "t");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(tab.entries.len(), ACTIONS.len() - 1); // initdefault is not an entry
        assert_eq!(tab.default_level, Some(level('2')));
        assert_eq!(tab.entries[0].command().argv, ["/bin/p0", "a", "b"]);

        let entry = |p: &str| InittabEntry {
            id: "x".into(),
            levels: EntryLevels::default(),
            action: Action::Once,
            process: p.into(),
            line: 1,
        };
        assert_eq!(
            entry("echo a > /tmp/f").command().argv,
            ["/bin/sh", "-c", "exec echo a > /tmp/f"]
        );
        assert_eq!(entry("@echo $HOME").command().argv, ["echo", "$HOME"]);
        let c = entry("+/sbin/getty 38400 tty1").command();
        assert_eq!((c.argv.len(), c.utmp), (3, false));
        assert!(entry("/sbin/getty tty1").command().utmp);
        assert_eq!(
            entry("+@a;b").command(),
            Command {
                argv: vec!["a;b".into()],
                utmp: false
            }
        );
    }

    #[test]
    fn errors_name_file_and_line_and_the_rest_loads() {
        let text = "# comment\n\nok:2:once:/bin/a\nbad line\nok:3:once:/bin/b\nx:9z:once:/bin/c\ny:2:sometimes:/bin/d\ntoolong:2:once:/bin/e\nz:2:once:\n  w:2:respawn:/bin/f\n";
        let (tab, errors) = parse(text, "/etc/inittab");
        let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            shown,
            [
                "/etc/inittab[4]: syntax error: expected id:runlevels:action:process",
                "/etc/inittab[5]: duplicate ID field \"ok\"",
                "/etc/inittab[6]: invalid runlevel 'z' in \"9z\"",
                "/etc/inittab[7]: unknown action \"sometimes\"",
                "/etc/inittab[8]: ID field \"toolong\" must be 1 to 4 characters",
                "/etc/inittab[9]: missing process for action \"once\"",
            ]
        );
        let ids: Vec<&str> = tab.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["ok", "w"]);
        assert_eq!(tab.entries[1].line, 10);
    }

    #[test]
    fn reference_bugs_are_not_copied() {
        let long = format!("lo:2:once:/bin/echo {}\n", "x".repeat(400));
        let (tab, errors) = parse(&long, "t");
        assert!(errors.is_empty());
        assert_eq!(tab.entries.len(), 1);
        assert_eq!(tab.entries[0].command().argv[1].len(), 400);
        let (tab, _) = parse("s1:s:wait:/bin/sulogin\n", "t");
        assert!(tab.entries[0].runs_in(Runlevel::SINGLE));
    }

    #[test]
    fn level_fields() {
        let set = EntryLevels::parse("2345").unwrap();
        assert!(
            set.matches(level('3'), Action::Respawn) && !set.matches(level('1'), Action::Respawn)
        );
        assert!(!set.matches(Runlevel::SINGLE, Action::Respawn));
        let all = EntryLevels::parse("").unwrap();
        assert!(
            all.matches(level('0'), Action::Wait) && !all.matches(Runlevel::SINGLE, Action::Wait)
        );
        assert!(all.matches(Runlevel::SINGLE, Action::Ctrlaltdel));
        let demand = EntryLevels::parse("aC").unwrap();
        assert!(demand.has_demand('a') && demand.has_demand('c') && !demand.has_demand('b'));
        assert_eq!(
            EntryLevels::parse("35").unwrap().highest(),
            Some(level('5'))
        );
    }

    #[test]
    fn initdefault_rules() {
        assert_eq!(
            parse("id:5:initdefault:\n", "t").0.default_level,
            Some(level('5'))
        );
        assert_eq!(
            parse("id:S:initdefault:\n", "t").0.default_level,
            Some(Runlevel::SINGLE)
        );
        let (tab, errors) = parse("id:0:initdefault:\n", "t");
        assert_eq!(tab.default_level, None);
        assert!(errors[0].reason.contains("halt or reboot"));
        assert!(!parse("id::initdefault:\n", "t").1.is_empty());
    }

    #[test]
    fn a_bad_byte_costs_its_line_at_most() {
        let text = b"# caf\xe9 au lait\nid:3:initdefault:\nx1:3:respawn:/bin/\xe9t\xe9\nx2:3:respawn:/bin/sleep 1\n";
        let (tab, errors) = parse_bytes(text, "/etc/inittab");
        assert_eq!(tab.default_level, Some(level('3')));
        assert_eq!(
            tab.entries
                .iter()
                .map(|e| e.id.as_str())
                .collect::<Vec<_>>(),
            ["x2"]
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_string(),
            "/etc/inittab[3]: not valid UTF-8 (byte 0xe9 at column 19)"
        );
    }

    proptest! {
        #[test]
        fn any_bytes_parse_without_panic_and_keep_the_good_lines(
            lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..20)
        ) {
            let mut text = Vec::new();
            for line in &lines {
                text.extend(line.iter().filter(|&&b| b != b'\n'));
                text.push(b'\n');
            }
            text.extend_from_slice(b"zz:3:once:/bin/true\n");
            let (tab, errors) = parse_bytes(&text, "f");
            for e in &errors {
                prop_assert!(e.line >= 1 && e.line <= lines.len() + 1);
            }
            // However bad the other lines, the last good entry loads (unless one of
            // the random lines happened to take its id).
            prop_assert!(tab.entries.iter().any(|e| e.id == "zz") || errors.iter().any(|e| e.reason.contains("duplicate")));
        }

        #[test]
        fn any_text_parses_without_panic(text in "\\PC{0,300}") {
            let (tab, errors) = parse(&text, "f");
            for e in &errors {
                prop_assert!(e.line >= 1);
            }
            for entry in &tab.entries {
                let _ = entry.command();
            }
        }

        #[test]
        fn lines_of_colons_and_levels(lines in proptest::collection::vec("[a-z]{1,5}:[0-9Sabcx]{0,4}:(once|wait|respawn|bogus):[ -~]{0,30}", 0..20)) {
            let text = lines.join("\n");
            let (tab, errors) = parse(&text, "f");
            prop_assert!(tab.entries.len() + errors.len() <= lines.len());
            let mut ids: Vec<&str> = tab.entries.iter().map(|e| e.id.as_str()).collect();
            ids.sort();
            ids.dedup();
            prop_assert_eq!(ids.len(), tab.entries.len());
        }
    }
}
