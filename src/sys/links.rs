//! Symbolic links written atomically: a temporary link next to the final name, then
//! `rename(2)` over it. A crash at any point leaves the old link or the new one, never
//! neither.
//!
//! A change to a service's rc links (several levels, maybe several services) is one
//! transaction: its operations are journalled first, then applied one by one, each
//! atomic on its own — a link changing from `S20foo` to `K80foo` is renamed, so the
//! service has exactly one link in the level at every moment. A crash between the
//! first and the last operation leaves the journal behind; the next change (or
//! [`recover`]) replays it, which is safe because every operation is idempotent, and
//! the link set ends up entirely new. A crash before the journal is in place changes
//! nothing. An entry no replay can carry out (see `format::link_journal::check_op` and
//! [`recover`]) is dropped and reported rather than left to block every later change.
//! Changes are serialised by a lock on the `init.d` directory.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::error::{AtPath, SysError, ToolError};
use crate::format::link_journal::{self, BadEntry, JournalError, LinkOp};
use crate::sys::layout::Root;

/// Why a change to the links failed.
#[derive(Debug)]
pub(crate) enum LinksError {
    Sys(SysError),
    /// The operations hold a name the journal cannot carry.
    Unwritable(BadEntry),
    /// The journal of an interrupted change cannot be read back.
    Damaged {
        journal: PathBuf,
        error: JournalError,
    },
    /// A name to remove or rename is not a symbolic link: left alone.
    NotALink(PathBuf),
    /// An operation failed half-way; the journal keeps the rest for the next change.
    Unfinished {
        error: Box<LinksError>,
        journal: PathBuf,
    },
}

impl fmt::Display for LinksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinksError::Sys(e) => e.fmt(f),
            LinksError::Unwritable(e) => e.fmt(f),
            LinksError::Damaged { journal, error } => write!(
                f,
                "{}: {error}; the interrupted change cannot be finished, remove the file once the links are checked",
                journal.display()
            ),
            LinksError::NotALink(path) => {
                write!(f, "{}: not a symbolic link, left alone", path.display())
            }
            LinksError::Unfinished { error, journal } => write!(
                f,
                "{error} (the change is recorded in {} and will be completed by the next change)",
                journal.display()
            ),
        }
    }
}

impl ToolError for LinksError {}

impl From<SysError> for LinksError {
    fn from(e: SysError) -> LinksError {
        LinksError::Sys(e)
    }
}

/// Makes `link` a symbolic link to `target`, replacing whatever `link` was.
///
/// The temporary name is predictable, so whatever was planted there is removed first
/// (unlink never follows a link); symlink(2) itself never writes through an existing
/// name, it fails — a name planted again in between makes the call fail, never
/// redirects it.
pub(crate) fn replace_symlink(target: &Path, link: &Path) -> io::Result<()> {
    let tmp = crate::sys::fs::temporary_sibling(link)?;
    match symlink(target, &tmp) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(&tmp)?;
            symlink(target, &tmp)?;
        }
        other => other?,
    }
    std::fs::rename(&tmp, link).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The lock serialising changes to a root's rc links; released when dropped.
struct LinksLock {
    _lock: Flock<File>,
}

/// Waits for and takes the lock on the rc links of `root`.
fn lock(root: &Root) -> Result<LinksLock, SysError> {
    let dir = root.init_d();
    let file = File::open(&dir).at(&dir)?;
    Flock::lock(file, FlockArg::LockExclusive)
        .map(|l| LinksLock { _lock: l })
        .map_err(|(_, e)| SysError::doing(format!("{}: cannot lock", dir.display()), e.into()))
}

/// Whether an interrupted change waits to be finished.
pub(crate) fn pending(root: &Root) -> bool {
    std::fs::symlink_metadata(root.links_journal()).is_ok()
}

/// What finishing an interrupted change did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Recovery {
    /// There was one, and it is finished.
    pub finished: bool,
    /// Its operations that could never be carried out, dropped (one line each, naming
    /// the journal).
    pub dropped: Vec<String>,
}

/// Finishes a change that a crash interrupted, if any.
pub(crate) fn recover(root: &Root) -> Result<Recovery, LinksError> {
    if !pending(root) {
        return Ok(Recovery::default());
    }
    let _lock = lock(root)?;
    finish_pending(root)
}

/// Applies `ops` as one change (see the module comment). An interrupted change found
/// first is finished first; what it had to drop is returned.
pub(crate) fn apply(root: &Root, ops: &[LinkOp]) -> Result<Vec<String>, LinksError> {
    if ops.is_empty() {
        return Ok(Vec::new());
    }
    let _lock = lock(root)?;
    let recovery = finish_pending(root)?;
    let journal = root.links_journal();
    let text = link_journal::write(ops).map_err(LinksError::Unwritable)?;
    crate::sys::fs::write_atomic(&journal, text.as_bytes(), 0o644).at(&journal)?;
    // The journal's name must be on disk before the first link changes.
    sync_dir(&root.init_d());
    complete(root, ops)?;
    Ok(recovery.dropped)
}

/// Replays the journal (the caller holds the lock).
fn finish_pending(root: &Root) -> Result<Recovery, LinksError> {
    let path = root.links_journal();
    let text = match crate::sys::fs::read_config_text(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Recovery::default()),
        Err(e) => return Err(SysError::at(&path, e).into()),
    };
    let journal = link_journal::parse(&text).map_err(|error| LinksError::Damaged {
        journal: path.clone(),
        error,
    })?;
    let mut dropped: Vec<String> = journal
        .dropped
        .iter()
        .map(|why| format!("{}: {why}: dropped", path.display()))
        .collect();
    let mut ops = Vec::new();
    for op in journal.ops {
        match impossible(root, &op) {
            Some(why) => dropped.push(format!("{}: {why}: dropped", path.display())),
            None => ops.push(op),
        }
    }
    complete(root, &ops)?;
    remove_stale_temporaries(root, &ops);
    Ok(Recovery {
        finished: true,
        dropped,
    })
}

/// Why a journalled operation can never be carried out: its level has no rc directory
/// (chkconfig never creates one), or the name it removes or renames is not a symbolic
/// link (only links are a service's links: a file that happens to have such a name is
/// never touched), or the name it renames to is a directory.
fn impossible(root: &Root, op: &LinkOp) -> Option<String> {
    let dir = root.rc_dir(op.level());
    match std::fs::metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Some(format!("{} is not a directory", dir.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Some(SysError::at(&dir, e).to_string())
        }
        // Unreadable now (permissions): maybe not for the next caller.
        Err(_) => return None,
    }
    let kind = |name: &str| std::fs::symlink_metadata(dir.join(name)).map(|m| m.file_type());
    let not_a_link = |name: &str| match kind(name) {
        Ok(t) if !t.is_symlink() => Some(format!(
            "{} is not a symbolic link",
            dir.join(name).display()
        )),
        _ => None,
    };
    match op {
        LinkOp::Create { .. } => None,
        LinkOp::Rename { from, to, .. } => not_a_link(from).or_else(|| match kind(to) {
            Ok(t) if t.is_dir() => Some(format!("{} is a directory", dir.join(to).display())),
            _ => None,
        }),
        LinkOp::Remove { name, .. } => not_a_link(name),
    }
}

/// A process killed between making a temporary link and renaming it left the temporary
/// behind (hidden, so harmless, but litter). With the lock held, none is in use.
fn remove_stale_temporaries(root: &Root, ops: &[LinkOp]) {
    let mut levels: Vec<_> = ops.iter().map(LinkOp::level).collect();
    levels.sort();
    levels.dedup();
    for level in levels {
        let Ok(dir) = std::fs::read_dir(root.rc_dir(level)) else {
            continue;
        };
        for entry in dir.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.contains(".tmp-") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Runs the operations, makes them durable, then drops the journal.
fn complete(root: &Root, ops: &[LinkOp]) -> Result<(), LinksError> {
    let journal = root.links_journal();
    for op in ops {
        run(root, op).map_err(|error| LinksError::Unfinished {
            error: Box::new(error),
            journal: journal.clone(),
        })?;
    }
    let mut levels: Vec<_> = ops.iter().map(LinkOp::level).collect();
    levels.sort();
    levels.dedup();
    for level in levels {
        sync_dir(&root.rc_dir(level));
    }
    std::fs::remove_file(&journal)
        .or_else(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Ok(())
            } else {
                Err(e)
            }
        })
        .at(&journal)?;
    sync_dir(&root.init_d());
    Ok(())
}

/// One operation, idempotent: replaying a half-done journal finishes it.
fn run(root: &Root, op: &LinkOp) -> Result<(), LinksError> {
    let dir = root.rc_dir(op.level());
    let describe = |path: &Path, e: io::Error| LinksError::Sys(SysError::at(path, e));
    match op {
        LinkOp::Create { name, target, .. } => {
            let path = dir.join(name);
            if std::fs::symlink_metadata(&path).is_ok() {
                return Ok(());
            }
            replace_symlink(Path::new(target), &path).map_err(|e| describe(&path, e))
        }
        LinkOp::Rename { from, to, .. } => {
            let (from, to) = (dir.join(from), dir.join(to));
            match std::fs::symlink_metadata(&from) {
                Ok(m) if !m.file_type().is_symlink() => Err(LinksError::NotALink(from)),
                Ok(_) => std::fs::rename(&from, &to).map_err(|e| describe(&from, e)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(describe(&from, e)),
            }
        }
        LinkOp::Remove { name, .. } => {
            let path = dir.join(name);
            match std::fs::symlink_metadata(&path) {
                Ok(m) if !m.file_type().is_symlink() => return Err(LinksError::NotALink(path)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                _ => {}
            }
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(describe(&path, e)),
                _ => Ok(()),
            }
        }
    }
}

/// Flushes a directory's entries to disk; a failure only costs durability.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::levelset::level;

    #[test]
    fn replaces_links_and_files() {
        let tmp = tempfile::tempdir().unwrap();
        let link = tmp.path().join("S10x");
        replace_symlink(Path::new("../init.d/a"), &link).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("../init.d/a"));
        replace_symlink(Path::new("../init.d/b"), &link).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("../init.d/b"));
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            1,
            "no temporary left behind"
        );
        let err =
            replace_symlink(Path::new("x"), &tmp.path().join("missing-dir/link")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    fn ls(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_change_is_applied_and_its_journal_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path());
        for d in ["etc/init.d", "etc/rc2.d", "etc/rc3.d"] {
            std::fs::create_dir_all(tmp.path().join(d)).unwrap();
        }
        symlink("../init.d/a", tmp.path().join("etc/rc3.d/S20a")).unwrap();
        symlink("../init.d/a", tmp.path().join("etc/rc3.d/S30a")).unwrap();
        let ops = vec![
            LinkOp::Remove {
                level: level('3'),
                name: "S30a".into(),
            },
            LinkOp::Rename {
                level: level('3'),
                from: "S20a".into(),
                to: "K80a".into(),
            },
            LinkOp::Create {
                level: level('2'),
                name: "S20a".into(),
                target: "../init.d/a".into(),
            },
        ];
        apply(&root, &ops).unwrap();
        assert_eq!(ls(&tmp.path().join("etc/rc3.d")), ["K80a"]);
        assert_eq!(ls(&tmp.path().join("etc/rc2.d")), ["S20a"]);
        assert_eq!(
            std::fs::read_link(tmp.path().join("etc/rc2.d/S20a")).unwrap(),
            Path::new("../init.d/a")
        );
        assert!(!pending(&root));
        assert!(ls(&tmp.path().join("etc/init.d")).is_empty());
        // Replaying the same operations changes nothing: they are idempotent.
        complete(&root, &ops).unwrap();
        assert_eq!(ls(&tmp.path().join("etc/rc3.d")), ["K80a"]);
    }

    #[test]
    fn an_interrupted_change_is_finished_by_recover() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path());
        for d in ["etc/init.d", "etc/rc3.d", "etc/rc5.d"] {
            std::fs::create_dir_all(tmp.path().join(d)).unwrap();
        }
        symlink("../init.d/a", tmp.path().join("etc/rc5.d/S20a")).unwrap();
        // The first operation happened, then the process died.
        symlink("../init.d/a", tmp.path().join("etc/rc3.d/K80a")).unwrap();
        let ops = vec![
            LinkOp::Rename {
                level: level('3'),
                from: "S20a".into(),
                to: "K80a".into(),
            },
            LinkOp::Rename {
                level: level('5'),
                from: "S20a".into(),
                to: "K80a".into(),
            },
        ];
        std::fs::write(root.links_journal(), link_journal::write(&ops).unwrap()).unwrap();
        assert!(pending(&root));
        assert!(recover(&root).unwrap().finished);
        assert_eq!(ls(&tmp.path().join("etc/rc3.d")), ["K80a"]);
        assert_eq!(ls(&tmp.path().join("etc/rc5.d")), ["K80a"]);
        assert!(!recover(&root).unwrap().finished);
        // A damaged journal is refused, not half-applied.
        std::fs::write(root.links_journal(), "vinit-links 1\nremove 3 K80a\n").unwrap();
        let err = recover(&root).unwrap_err().to_string();
        assert!(err.contains("ends before"), "{err}");
        assert_eq!(ls(&tmp.path().join("etc/rc3.d")), ["K80a"]);
    }

    #[test]
    fn a_planted_temporary_never_redirects_a_link() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let link = tmp.path().join("S10x");
        let planted = crate::sys::fs::temporary_sibling(&link).unwrap();
        symlink(&victim, &planted).unwrap();
        replace_symlink(Path::new("../init.d/x"), &link).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("../init.d/x"));
        assert!(std::fs::symlink_metadata(&planted).is_err());
        // Something that cannot be removed there makes the call fail, with no effect.
        std::fs::create_dir(&planted).unwrap();
        std::fs::write(planted.join("inside"), "").unwrap();
        assert!(replace_symlink(Path::new("../init.d/y"), &link).is_err());
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("../init.d/x"));
    }

    #[test]
    fn a_planted_temporary_never_redirects_the_journal() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path());
        for d in ["etc/init.d", "etc/rc3.d"] {
            std::fs::create_dir_all(tmp.path().join(d)).unwrap();
        }
        let victim = tmp.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        symlink(
            &victim,
            crate::sys::fs::temporary_sibling(&root.links_journal()).unwrap(),
        )
        .unwrap();
        let ops = [LinkOp::Create {
            level: level('3'),
            name: "S20a".into(),
            target: "../init.d/a".into(),
        }];
        apply(&root, &ops).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(ls(&tmp.path().join("etc/rc3.d")), ["S20a"]);
        assert!(ls(&tmp.path().join("etc/init.d")).is_empty());
    }

    #[test]
    fn impossible_entries_are_dropped_and_reported_the_rest_is_finished() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path());
        for d in ["etc/init.d", "etc/rc3.d", "outside"] {
            std::fs::create_dir_all(tmp.path().join(d)).unwrap();
        }
        // A stray regular file with a link's name is never a link to remove.
        std::fs::write(tmp.path().join("etc/rc3.d/S56a"), "not a link").unwrap();
        std::fs::write(
            root.links_journal(),
            "vinit-links 1\n\
             create 3 ../../outside/S10evil ../init.d/evil\n\
             create 5 S20a ../init.d/a\n\
             remove 3 S56a\n\
             create 3 S20a ../init.d/a\n\
             end\n",
        )
        .unwrap();
        let recovery = recover(&root).unwrap();
        assert!(recovery.finished);
        assert_eq!(recovery.dropped.len(), 3, "{:?}", recovery.dropped);
        assert!(
            recovery.dropped[0].contains("line 2"),
            "{:?}",
            recovery.dropped
        );
        assert!(recovery.dropped[1].contains("etc/rc5.d: No such file or directory"));
        assert!(recovery.dropped[2].contains("S56a is not a symbolic link"));
        assert!(recovery.dropped.iter().all(|d| d.ends_with(": dropped")));
        assert!(ls(&tmp.path().join("outside")).is_empty());
        assert_eq!(ls(&tmp.path().join("etc/rc3.d")), ["S20a", "S56a"]);
        assert!(!pending(&root), "nothing blocks later changes");
    }

    #[test]
    fn a_fifo_journal_is_refused_without_blocking() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path());
        std::fs::create_dir_all(tmp.path().join("etc/init.d")).unwrap();
        nix::unistd::mkfifo(&root.links_journal(), nix::sys::stat::Mode::S_IRWXU).unwrap();
        let err = recover(&root).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
    }
}
