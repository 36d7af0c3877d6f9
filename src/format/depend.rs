//! Debian's `.depend.boot`, `.depend.start` and `.depend.stop` (in `init.d`), which
//! insserv writes from the scripts' LSB headers and startpar reads, in make's syntax:
//!
//! ```text
//! TARGETS = mountkernfs.sh hostname.sh checkroot.sh
//! INTERACTIVE = checkroot.sh
//! checkroot.sh: mountdevsubfs.sh hostname.sh
//! ```
//!
//! `NAME: A B` means NAME runs after A and B have finished, in the order of that file's
//! mode (the stop file is already in stopping order). Anything else is reported by line
//! and skipped.

use std::collections::{BTreeMap, BTreeSet};

/// One parsed file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DependFile {
    /// Every script the file orders.
    pub targets: BTreeSet<String>,
    /// Scripts that need the console to themselves (a password or fsck prompt).
    pub interactive: BTreeSet<String>,
    /// Script → the scripts it runs after.
    pub after: BTreeMap<String, Vec<String>>,
}

/// A line that is not make's `NAME = …` or `NAME: …`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DependError {
    pub line: usize,
    pub reason: String,
}

/// Parses a `.depend.*` file. Non-UTF-8 bytes cost their line only.
pub fn parse(bytes: &[u8]) -> (DependFile, Vec<DependError>) {
    let mut file = DependFile::default();
    let mut errors = Vec::new();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let Ok(text) = std::str::from_utf8(raw) else {
            errors.push(DependError {
                line,
                reason: "not valid UTF-8".into(),
            });
            continue;
        };
        let text = text.split('#').next().unwrap_or("").trim();
        if text.is_empty() {
            continue;
        }
        if let Err(reason) = file.add_line(text) {
            errors.push(DependError { line, reason });
        }
    }
    (file, errors)
}

impl DependFile {
    fn add_line(&mut self, text: &str) -> Result<(), String> {
        if let Some((name, value)) = text.split_once('=') {
            let words = value.split_whitespace().map(str::to_string);
            return match name.trim() {
                "TARGETS" => {
                    self.targets.extend(words);
                    Ok(())
                }
                "INTERACTIVE" => {
                    self.interactive.extend(words);
                    Ok(())
                }
                // Other variables (none known today) order nothing.
                other if is_name(other) => Ok(()),
                other => Err(format!("bad variable name \"{other}\"")),
            };
        }
        let Some((target, deps)) = text.split_once(':') else {
            return Err("expected NAME = … or NAME: …".into());
        };
        let target = target.trim();
        if !is_name(target) {
            return Err(format!("bad script name \"{target}\""));
        }
        let list = self.after.entry(target.to_string()).or_default();
        for dep in deps.split_whitespace() {
            if !list.iter().any(|d| d == dep) {
                list.push(dep.to_string());
            }
        }
        Ok(())
    }

    /// What `name` runs after (empty when the file names nothing for it).
    pub fn after(&self, name: &str) -> &[String] {
        self.after.get(name).map_or(&[], Vec::as_slice)
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && !s.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BOOT: &str = "TARGETS = hwclock.sh mountkernfs.sh checkroot.sh checkfs.sh\n\
                        INTERACTIVE = checkroot.sh checkfs.sh\n\
                        checkroot.sh: mountkernfs.sh hostname.sh\n\
                        checkfs.sh: checkroot.sh\n";

    #[test]
    fn debians_boot_file() {
        let (file, errors) = parse(BOOT.as_bytes());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(file.targets.len(), 4);
        assert!(file.interactive.contains("checkfs.sh"));
        assert_eq!(
            file.after("checkroot.sh"),
            ["mountkernfs.sh", "hostname.sh"]
        );
        assert!(file.after("hwclock.sh").is_empty());
    }

    #[test]
    fn bad_lines_are_reported_by_number_and_the_rest_loads() {
        let (file, errors) = parse(b"TARGETS = a b\njunk here\nb: a\n\xff\n");
        assert_eq!(file.after("b"), ["a"]);
        assert_eq!(
            errors,
            [
                DependError {
                    line: 2,
                    reason: "expected NAME = … or NAME: …".into()
                },
                DependError {
                    line: 4,
                    reason: "not valid UTF-8".into()
                }
            ]
        );
    }

    proptest! {
        #[test]
        fn any_bytes_parse_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let (file, errors) = parse(&bytes);
            for e in &errors {
                prop_assert!(e.line >= 1);
            }
            for (target, deps) in &file.after {
                prop_assert!(is_name(target));
                prop_assert!(deps.iter().all(|d| is_name(d)));
            }
        }
    }
}
