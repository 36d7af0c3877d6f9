//! The journal of a change to rc links: written (atomically) before the first link is
//! touched, removed after the last. A journal found on disk means a change was
//! interrupted; replaying it finishes the change, because every operation is
//! idempotent (see `sys::links`).
//!
//! ```text
//! vinit-links 1
//! rename 3 S20foo K80foo
//! create 5 S20foo ../init.d/foo
//! remove 2 K80foo
//! end
//! ```
//!
//! One operation per line, fields separated by single spaces; the level is the rc
//! directory's (`0`–`9`, `S`); names and targets never hold blanks (service names may
//! not). The `end` line proves the file is complete.

use std::fmt::{self, Write};

use crate::format::rclink::{parse_link_name, LinkName};
use crate::format::runlevel::Runlevel;

const MAGIC: &str = "vinit-links 1";

/// One change to one rc directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LinkOp {
    /// A new link `name -> target`.
    Create {
        level: Runlevel,
        name: String,
        target: String,
    },
    /// A link renamed in place (`S20foo` to `K80foo`): one atomic step, so the service
    /// has exactly one link in the level at every moment.
    Rename {
        level: Runlevel,
        from: String,
        to: String,
    },
    Remove {
        level: Runlevel,
        name: String,
    },
}

impl LinkOp {
    pub(crate) fn level(&self) -> Runlevel {
        match self {
            LinkOp::Create { level, .. }
            | LinkOp::Rename { level, .. }
            | LinkOp::Remove { level, .. } => *level,
        }
    }
}

/// An operation vinit could not have planned, or could not write: why, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BadEntry(String);

impl fmt::Display for BadEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A journal that cannot be replayed as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum JournalError {
    /// Line 1 is not the magic line.
    NotAJournal,
    /// A line that is no operation at all.
    Damaged { line: usize, why: BadEntry },
    /// No `end` line: the file was cut short.
    Unfinished,
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::NotAJournal => write!(f, "line 1: expected \"{MAGIC}\""),
            JournalError::Damaged { line, why } => write!(f, "line {line}: {why}"),
            JournalError::Unfinished => f.write_str("the journal ends before its \"end\" line"),
        }
    }
}

fn check_word(word: &str) -> Result<(), BadEntry> {
    if word.is_empty() || word.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(BadEntry(format!(
            "{word:?} cannot be written to the links journal"
        )));
    }
    Ok(())
}

/// The journal text for `ops`. Fails on names that could not be read back.
pub(crate) fn write(ops: &[LinkOp]) -> Result<String, BadEntry> {
    let mut out = format!("{MAGIC}\n");
    for op in ops {
        check_op(op)?;
        let words: Vec<&str> = match op {
            LinkOp::Create { name, target, .. } => vec!["create", name, target],
            LinkOp::Rename { from, to, .. } => vec!["rename", from, to],
            LinkOp::Remove { name, .. } => vec!["remove", name],
        };
        for w in &words[1..] {
            check_word(w)?;
        }
        let _ = writeln!(out, "{} {} {}", words[0], op.level(), words[1..].join(" "));
    }
    out.push_str("end\n");
    Ok(out)
}

/// A journal read back: the operations to replay, and the entries that can never be
/// replayed (each `line N: why`), dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Journal {
    pub ops: Vec<LinkOp>,
    pub dropped: Vec<String>,
}

/// Reads a journal. A damaged or incomplete file is an error naming the line: replaying
/// half a plan would leave something neither old nor new. A well-formed entry that no
/// replay could honour (a name holding `/`, a link that is not a service's link into
/// `init.d`) is dropped and reported: kept, it would block every later change.
pub(crate) fn parse(text: &str) -> Result<Journal, JournalError> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, MAGIC)) => {}
        _ => return Err(JournalError::NotAJournal),
    }
    let mut journal = Journal::default();
    for (index, line) in lines {
        let number = index + 1;
        let words: Vec<&str> = line.split(' ').collect();
        if words == ["end"] {
            return Ok(journal);
        }
        let op = operation(&words).map_err(|why| JournalError::Damaged { line: number, why })?;
        match check_op(&op) {
            Ok(()) => journal.ops.push(op),
            Err(why) => journal
                .dropped
                .push(format!("line {number}: {line:?}: {why}")),
        }
    }
    Err(JournalError::Unfinished)
}

/// One line's operation, as written (not yet validated).
fn operation(words: &[&str]) -> Result<LinkOp, BadEntry> {
    let level = words
        .get(1)
        .and_then(|w| {
            let mut c = w.chars();
            c.next().filter(|_| c.next().is_none())
        })
        .and_then(Runlevel::from_char)
        .ok_or_else(|| BadEntry("bad runlevel".into()))?;
    for w in &words[2..] {
        check_word(w)?;
    }
    Ok(match (words[0], &words[2..]) {
        ("create", [name, target]) => LinkOp::Create {
            level,
            name: name.to_string(),
            target: target.to_string(),
        },
        ("rename", [from, to]) => LinkOp::Rename {
            level,
            from: from.to_string(),
            to: to.to_string(),
        },
        ("remove", [name]) => LinkOp::Remove {
            level,
            name: name.to_string(),
        },
        _ => return Err(BadEntry(format!("not an operation: {:?}", words.join(" ")))),
    })
}

/// Whether an operation is one vinit could have planned: every name a link name
/// (`S20foo`, never a path), a rename keeping the service, a new link pointing at its
/// service's script in `init.d`.
pub(crate) fn check_op(op: &LinkOp) -> Result<(), BadEntry> {
    match op {
        LinkOp::Create { name, target, .. } => {
            let service = link_service(name)?;
            let wanted = format!("../init.d/{service}");
            if *target != wanted {
                return Err(BadEntry(format!(
                    "{name} must point to {wanted}, not {target}"
                )));
            }
        }
        LinkOp::Rename { from, to, .. } => {
            if link_service(from)? != link_service(to)? {
                return Err(BadEntry(format!(
                    "{from} and {to} are links of different services"
                )));
            }
        }
        LinkOp::Remove { name, .. } => {
            link_service(name)?;
        }
    }
    Ok(())
}

fn link_service(name: &str) -> Result<String, BadEntry> {
    match parse_link_name(name) {
        LinkName::Link(link) => Ok(link.service),
        LinkName::Malformed(why) => Err(BadEntry(why)),
        LinkName::Ignored => Err(BadEntry(format!("\"{name}\" is not a link name"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lv(c: char) -> Runlevel {
        Runlevel::from_char(c).unwrap()
    }

    #[test]
    fn round_trip_and_damage() {
        let ops = vec![
            LinkOp::Rename {
                level: lv('3'),
                from: "S20foo".into(),
                to: "K80foo".into(),
            },
            LinkOp::Create {
                level: lv('S'),
                name: "S20foo".into(),
                target: "../init.d/foo".into(),
            },
            LinkOp::Remove {
                level: lv('0'),
                name: "K80foo".into(),
            },
        ];
        let text = write(&ops).unwrap();
        assert_eq!(
            text,
            "vinit-links 1\nrename 3 S20foo K80foo\ncreate S S20foo ../init.d/foo\nremove 0 K80foo\nend\n"
        );
        assert_eq!(parse(&text).unwrap().ops, ops);
        assert!(parse(&text).unwrap().dropped.is_empty());
        assert!(parse(&text.replace("end\n", "")).is_err());
        assert!(parse("").is_err());
        assert!(parse("vinit-links 1\nremove 33 x\nend\n").is_err());
        assert!(parse("vinit-links 1\nlaunch 3 x\nend\n").is_err());
        assert!(write(&[LinkOp::Remove {
            level: lv('3'),
            name: "a b".into()
        }])
        .is_err());
    }

    #[test]
    fn entries_no_replay_could_honour_are_dropped_and_reported() {
        let text = "vinit-links 1\n\
                    create 3 ../../../../tmp/x ../init.d/foo\n\
                    create 3 S20foo /bin/sh\n\
                    create 3 S20foo ../init.d/bar\n\
                    rename 3 S20foo K80bar\n\
                    remove 3 a/b\n\
                    remove 3 README\n\
                    remove 2 K80foo\n\
                    end\n";
        let journal = parse(text).unwrap();
        assert_eq!(
            journal.ops,
            [LinkOp::Remove {
                level: lv('2'),
                name: "K80foo".into()
            }]
        );
        assert_eq!(journal.dropped.len(), 6, "{:?}", journal.dropped);
        assert!(
            journal.dropped[0].starts_with("line 2: "),
            "{:?}",
            journal.dropped
        );
        assert!(journal.dropped[1].contains("must point to ../init.d/foo"));
        assert!(journal.dropped[3].contains("different services"));
        // The writer refuses what the reader would drop.
        assert!(write(&[LinkOp::Create {
            level: lv('3'),
            name: "S20foo/../x".into(),
            target: "../init.d/foo".into()
        }])
        .is_err());
    }

    proptest! {
        #[test]
        fn any_text_parses_without_panic(text in "\\PC{0,200}") {
            let _ = parse(&text);
            let _ = parse(&format!("{MAGIC}\n{text}"));
        }

        #[test]
        fn written_ops_read_back(raw in proptest::collection::vec((0usize..3, "[0-6S]", "[SK][0-9]{2}[a-z]{1,6}", "[SK][0-9]{2}[a-z]{1,6}"), 0..10)) {
            let ops: Vec<LinkOp> = raw.iter().map(|(k, l, a, b)| {
                let level = lv(l.chars().next().unwrap());
                match k {
                    0 => LinkOp::Create { level, name: a.clone(), target: format!("../init.d/{}", &a[3..]) },
                    1 => LinkOp::Rename { level, from: a.clone(), to: format!("{}{}", &b[..3], &a[3..]) },
                    _ => LinkOp::Remove { level, name: a.clone() },
                }
            }).collect();
            prop_assert_eq!(parse(&write(&ops).unwrap()).unwrap().ops, ops);
        }
    }
}
