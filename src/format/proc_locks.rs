//! `/proc/locks`: which processes hold POSIX record locks on which file.
//!
//! One lock a line: `ID: POSIX  ADVISORY  READ 1234 08:01:5678 0 EOF` — the class, the
//! mode, the type, the holder's pid (0 when it is not visible from the reader's pid
//! namespace), the file as `MAJOR:MINOR:INODE` (major and minor in hex), and the range.
//! Processes waiting for a lock are listed after it on lines with ` -> `; they hold
//! nothing.

/// A file as `/proc/locks` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileId {
    pub major: u32,
    pub minor: u32,
    pub inode: u64,
}

/// The pids holding a POSIX lock (of any type) on `file`, in the order listed.
pub fn posix_holders(text: &str, file: FileId) -> Vec<i32> {
    text.lines()
        .filter_map(parse_line)
        .filter(|(_, id)| *id == file)
        .map(|(pid, _)| pid)
        .collect()
}

/// A held POSIX lock's holder and file; None for waiters, other classes and anything
/// that does not parse.
fn parse_line(line: &str) -> Option<(i32, FileId)> {
    let mut fields = line.split_whitespace();
    let first = fields.next()?;
    if !first.ends_with(':') || line.contains("->") {
        return None;
    }
    if fields.next()? != "POSIX" {
        return None;
    }
    let _mode = fields.next()?;
    let _kind = fields.next()?;
    let pid = fields.next()?.parse().ok()?;
    let mut parts = fields.next()?.split(':');
    let major = u32::from_str_radix(parts.next()?, 16).ok()?;
    let minor = u32::from_str_radix(parts.next()?, 16).ok()?;
    let inode = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some((
        pid,
        FileId {
            major,
            minor,
            inode,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = "\
1: POSIX  ADVISORY  READ 4242 00:2d:1234 0 EOF
1: -> POSIX  ADVISORY  WRITE 77 00:2d:1234 0 EOF
2: POSIX  ADVISORY  WRITE 99 fd:01:1234 0 EOF
3: FLOCK  ADVISORY  WRITE 5 00:2d:1234 0 EOF
4: OFDLCK ADVISORY  READ -1 00:2d:1234 0 EOF
5: POSIX  ADVISORY  READ 4343 00:2d:1234 0 EOF
";

    #[test]
    fn holders_of_one_file() {
        let file = FileId {
            major: 0,
            minor: 0x2d,
            inode: 1234,
        };
        assert_eq!(posix_holders(SAMPLE, file), [4242, 4343]);
        let other = FileId {
            major: 0xfd,
            minor: 1,
            inode: 1234,
        };
        assert_eq!(posix_holders(SAMPLE, other), [99]);
        assert!(posix_holders("", file).is_empty());
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,200}") {
            let _ = posix_holders(&text, FileId { major: 0, minor: 0, inode: 0 });
        }

        #[test]
        fn a_written_line_reads_back(pid in 1i32..1_000_000, major in 0u32..4096,
                                     minor in 0u32..1_000_000, inode in 0u64..u64::MAX) {
            let line = format!("7: POSIX  ADVISORY  READ {pid} {major:02x}:{minor:02x}:{inode} 0 EOF\n");
            let file = FileId { major, minor, inode };
            prop_assert_eq!(posix_holders(&line, file), vec![pid]);
        }
    }
}
