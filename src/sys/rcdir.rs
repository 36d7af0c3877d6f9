//! Reading an `rcN.d` directory: which links it holds and where each really points.
//!
//! A link is trusted only when it resolves (inside the root) to an executable regular
//! file in `init.d`. A dangling link is reported and skipped (packages that were removed
//! but not purged leave them); a link pointing elsewhere, a malformed name, an unreadable
//! entry or a script that is not executable is an error, reported and skipped.

use crate::error::SysError;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::format::rclink::{parse_link_name, LinkName};
use crate::format::runlevel::Runlevel;
use crate::sys::describe_io;
use crate::sys::layout::Root;

pub use crate::plan::rc::RcEntry;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Worth saying, not a failure (a dangling link).
    Warning,
    /// The entry should have run and cannot.
    Error,
}

/// Something wrong with one entry of an rc directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    pub severity: Severity,
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// The content of one rc directory.
#[derive(Debug, Default)]
pub struct RcDir {
    pub entries: Vec<RcEntry>,
    pub problems: Vec<Problem>,
}

/// Reads `rcN.d` of `level`. A directory that does not exist is empty (a container's
/// root has none, and Debian's rc runs nothing then, silently); any other failure to read
/// it is an error.
pub fn read_rc_dir(root: &Root, level: Runlevel) -> Result<RcDir, SysError> {
    let dir = root.rc_dir(level);
    let listing = match fs::read_dir(&dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(RcDir::default()),
        Err(e) => return Err(SysError::at(&dir, e)),
    };
    let init_d = root
        .resolve(&root.init_d())
        .unwrap_or_else(|_| root.init_d());
    let resolved_dir = root.resolve(&dir).unwrap_or_else(|_| dir.clone());
    let mut out = RcDir::default();
    for item in listing {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                out.problems.push(error(
                    &dir,
                    format!("cannot read directory entry: {}", describe_io(&e)),
                ));
                continue;
            }
        };
        let path = item.path();
        let Some(name) = item.file_name().to_str().map(str::to_owned) else {
            if item
                .file_name()
                .as_encoded_bytes()
                .first()
                .is_some_and(|b| matches!(b, b'S' | b'K'))
            {
                out.problems
                    .push(error(&path, "name is not valid UTF-8".into()));
            }
            continue;
        };
        match parse_link_name(&name) {
            LinkName::Ignored => {}
            LinkName::Malformed(reason) => out.problems.push(error(&path, reason)),
            LinkName::Link(link) => match check_target(root, &resolved_dir, &init_d, &path) {
                Ok(script) => out.entries.push(RcEntry { link, script }),
                Err(problem) => out.problems.push(problem),
            },
        }
    }
    out.problems.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Where a link in an rc directory points, if it is safe to run.
fn check_target(root: &Root, dir: &Path, init_d: &Path, path: &Path) -> Result<PathBuf, Problem> {
    let meta = fs::symlink_metadata(path).map_err(|e| error(path, describe_io(&e)))?;
    let script = if meta.file_type().is_symlink() {
        let target = fs::read_link(path).map_err(|e| error(path, describe_io(&e)))?;
        let resolved = match root.resolve_link_target(dir, &target) {
            Ok(resolved) => resolved,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Problem {
                    path: path.to_path_buf(),
                    severity: Severity::Warning,
                    reason: format!("dangling link to {}, skipped", target.display()),
                });
            }
            Err(e) => {
                return Err(error(
                    path,
                    format!("link to {}: {}", target.display(), describe_io(&e)),
                ))
            }
        };
        if resolved.parent() != Some(init_d) {
            return Err(error(
                path,
                format!(
                    "link to {} points outside {}, not followed",
                    target.display(),
                    init_d.display()
                ),
            ));
        }
        resolved
    } else {
        // A plain script placed directly in rcN.d (older systems do this): run it as is.
        path.to_path_buf()
    };
    let meta = fs::metadata(&script).map_err(|e| error(&script, describe_io(&e)))?;
    if !meta.is_file() {
        return Err(error(
            path,
            format!("{} is not a regular file", script.display()),
        ));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(error(
            path,
            format!("{} is not executable", script.display()),
        ));
    }
    Ok(script)
}

fn error(path: &Path, reason: String) -> Problem {
    Problem {
        path: path.to_path_buf(),
        severity: Severity::Error,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::rclink::LinkKind;
    use std::os::unix::fs::symlink;

    fn script(dir: &Path, name: &str, mode: u32) {
        let path = dir.join(name);
        fs::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn sorts_out_links_problems_and_noise() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path();
        let init_d = base.join("etc/init.d");
        let rc3 = base.join("etc/rc3.d");
        fs::create_dir_all(&init_d).unwrap();
        fs::create_dir_all(&rc3).unwrap();
        fs::create_dir_all(base.join("usr/bin")).unwrap();
        script(&init_d, "good", 0o755);
        script(&init_d, "noexec", 0o644);
        script(&base.join("usr/bin"), "foreign", 0o755);
        symlink("../init.d/good", rc3.join("S10good")).unwrap();
        symlink("/etc/init.d/good", rc3.join("K20good")).unwrap();
        symlink("../init.d/noexec", rc3.join("S20noexec")).unwrap();
        symlink("../init.d/gone", rc3.join("S30gone")).unwrap();
        symlink("/usr/bin/foreign", rc3.join("S40foreign")).unwrap();
        symlink("../init.d/good", rc3.join("S-1good")).unwrap();
        symlink("../init.d/good", rc3.join("S10good~")).unwrap();
        fs::write(rc3.join("README"), "").unwrap();
        fs::write(rc3.join(".depend.start"), "").unwrap();

        let root = Root::open(base);
        let dir = read_rc_dir(&root, Runlevel::from_char('3').unwrap()).unwrap();
        let mut links: Vec<String> = dir.entries.iter().map(|e| e.link.to_string()).collect();
        links.sort();
        assert_eq!(links, ["K20good", "S10good"]);
        assert!(dir.entries.iter().all(|e| e.script == init_d.join("good")));
        assert!(dir.entries.iter().any(|e| e.link.kind == LinkKind::Kill));

        let problems: Vec<(String, Severity)> = dir
            .problems
            .iter()
            .map(|p| {
                (
                    p.path.file_name().unwrap().to_string_lossy().into_owned(),
                    p.severity,
                )
            })
            .collect();
        assert_eq!(
            problems,
            [
                ("S-1good".to_string(), Severity::Error),
                ("S20noexec".to_string(), Severity::Error),
                ("S30gone".to_string(), Severity::Warning),
                ("S40foreign".to_string(), Severity::Error),
            ]
        );
        assert!(
            dir.problems[1].reason.contains("not executable"),
            "{}",
            dir.problems[1]
        );
        assert!(
            dir.problems[3].reason.contains("outside"),
            "{}",
            dir.problems[3]
        );
    }

    #[test]
    fn a_missing_directory_is_empty_and_an_unreadable_one_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path());
        let two = Runlevel::from_char('2').unwrap();
        let dir = read_rc_dir(&root, two).unwrap();
        assert!(dir.entries.is_empty() && dir.problems.is_empty());
        fs::create_dir_all(tmp.path().join("etc")).unwrap();
        fs::write(tmp.path().join("etc/rc2.d"), "not a directory").unwrap();
        let err = read_rc_dir(&root, two).unwrap_err().to_string();
        assert!(err.ends_with("etc/rc2.d: Not a directory"), "{err}");
        assert!(!err.contains('\n'));
    }
}
