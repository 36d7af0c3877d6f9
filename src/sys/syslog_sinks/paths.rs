//! Where syslogd, running as root, may create and write its files.
//!
//! A path from `syslog.conf` is walked one component at a time, the way the kernel
//! would resolve it, and every directory on the way must be one that nobody but root
//! (or syslogd's own user) can change: owned by such a user, and not writable by others
//! unless it is sticky (then others cannot replace what root put there). The directory
//! that holds the file must not be writable by others at all, sticky or not: anyone who
//! can add a name there can put a link or a file of their own where syslogd will write.
//! A symbolic link on the way counts only when a trusted user could have made it; the
//! file itself may be a link only when the action asks for it (`;follow-symlinks`).
//!
//! The result is the real path of the file, so that opening it (with O_NOFOLLOW when
//! links are refused) follows nothing that was not checked.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::Metadata;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

use crate::format::syslog_conf::FOLLOW_SYMLINKS;

/// Links followed for one path before it is taken for a loop (the kernel's limit).
const MAX_LINKS: usize = 40;

/// Who syslogd trusts: root, and the user and group it runs as.
#[derive(Clone, Copy, Debug)]
struct Trusted {
    uid: u32,
    gid: u32,
}

impl Trusted {
    fn current() -> Trusted {
        Trusted {
            uid: nix::unistd::geteuid().as_raw(),
            gid: nix::unistd::getegid().as_raw(),
        }
    }

    fn owns(&self, meta: &Metadata) -> bool {
        meta.uid() == 0 || meta.uid() == self.uid
    }

    /// Whether someone else may add, remove or rename entries of this directory.
    fn others_write(&self, meta: &Metadata) -> bool {
        let mode = meta.mode();
        let group_may = mode & 0o020 != 0 && meta.gid() != 0 && meta.gid() != self.gid;
        mode & 0o002 != 0 || group_may
    }
}

fn refused(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, message)
}

fn is_sticky(meta: &Metadata) -> bool {
    meta.mode() & 0o1000 != 0
}

/// The real path of the file `path` names, every directory on the way checked, the
/// missing ones created (mode 0755). `follow`: the file itself may be a symbolic link.
pub(crate) fn trusted_location(path: &Path, follow: bool) -> io::Result<PathBuf> {
    let path = std::path::absolute(path)?;
    let trusted = Trusted::current();
    let mut pending: VecDeque<OsString> = VecDeque::new();
    push_front(&mut pending, &path);
    let mut dir = PathBuf::from("/");
    let mut dir_meta = std::fs::metadata(&dir)?;
    check_directory(&trusted, &dir, &dir_meta)?;
    let mut links = 0;
    while let Some(name) = pending.pop_front() {
        match name.to_str() {
            Some("/") => {
                dir = PathBuf::from("/");
                dir_meta = std::fs::metadata(&dir)?;
                continue;
            }
            Some(".") => continue,
            Some("..") => {
                dir.pop();
                dir_meta = std::fs::metadata(&dir)?;
                continue;
            }
            _ => {}
        }
        let next = dir.join(&name);
        let last = pending.is_empty();
        let meta = match std::fs::symlink_metadata(&next) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && last => {
                return finish(&trusted, &dir, &dir_meta, next)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                make_directory(&next)?;
                std::fs::symlink_metadata(&next)?
            }
            other => other?,
        };
        // In a directory others may write to (sticky, or the walk would have stopped),
        // an entry counts only if a trusted user made it.
        if trusted.others_write(&dir_meta) && !trusted.owns(&meta) {
            return Err(refused(format!(
                "{} belongs to uid {} and lies in {}, where others may write",
                next.display(),
                meta.uid(),
                dir.display()
            )));
        }
        if meta.file_type().is_symlink() {
            if last && !follow {
                return Err(refused(format!(
                    "{} is a symbolic link (end the action with ;{FOLLOW_SYMLINKS} to write through it)",
                    next.display()
                )));
            }
            links += 1;
            if links > MAX_LINKS {
                return Err(io::Error::from_raw_os_error(libc::ELOOP));
            }
            push_front(&mut pending, &std::fs::read_link(&next)?);
            continue;
        }
        if last {
            return finish(&trusted, &dir, &dir_meta, next);
        }
        if !meta.is_dir() {
            return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
        }
        check_directory(&trusted, &next, &meta)?;
        dir = next;
        dir_meta = meta;
    }
    Err(io::Error::new(io::ErrorKind::InvalidInput, "no file name"))
}

/// Puts the components of `path` before the ones still to walk (an absolute path
/// starts again from `/`).
fn push_front(pending: &mut VecDeque<OsString>, path: &Path) {
    for component in path.components().rev() {
        let name = match component {
            Component::RootDir => OsString::from("/"),
            Component::CurDir => continue,
            Component::ParentDir => OsString::from(".."),
            Component::Normal(n) => n.to_os_string(),
            Component::Prefix(_) => continue,
        };
        pending.push_front(name);
    }
}

fn make_directory(path: &Path) -> io::Result<()> {
    match std::fs::DirBuilder::new().mode(0o755).create(path) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// A directory on the way: a trusted owner, and nobody else may change it (unless
/// sticky: then others cannot touch what a trusted user put there).
fn check_directory(trusted: &Trusted, dir: &Path, meta: &Metadata) -> io::Result<()> {
    if !trusted.owns(meta) {
        return Err(refused(format!(
            "the directory {} belongs to uid {} (only root's directories are trusted)",
            dir.display(),
            meta.uid()
        )));
    }
    if trusted.others_write(meta) && !is_sticky(meta) {
        return Err(writable_by_others(dir, meta));
    }
    Ok(())
}

/// The directory that holds the file: nobody else may add a name to it at all.
fn finish(trusted: &Trusted, dir: &Path, meta: &Metadata, file: PathBuf) -> io::Result<PathBuf> {
    if trusted.others_write(meta) {
        return Err(writable_by_others(dir, meta));
    }
    Ok(file)
}

fn writable_by_others(dir: &Path, meta: &Metadata) -> io::Error {
    refused(format!(
        "the directory {} is writable by others (mode {:04o}, group {})",
        dir.display(),
        meta.mode() & 0o7777,
        meta.gid()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn error(path: &Path, follow: bool) -> String {
        trusted_location(path, follow).unwrap_err().to_string()
    }

    #[test]
    fn plain_paths_resolve_and_missing_directories_are_made() {
        let tmp = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(tmp.path()).unwrap();
        let file = tmp.path().join("var/log/./app/../messages");
        let found = trusted_location(&file, false).unwrap();
        assert_eq!(found, real.join("var/log/messages"));
        let mode = std::fs::metadata(real.join("var/log")).unwrap().mode();
        assert_eq!(mode & 0o777, 0o755);
    }

    #[test]
    fn a_final_link_needs_follow_and_is_resolved() {
        let tmp = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir(tmp.path().join("data")).unwrap();
        symlink("data/real.log", tmp.path().join("current.log")).unwrap();
        let link = tmp.path().join("current.log");
        assert!(error(&link, false).contains("is a symbolic link"));
        assert!(error(&link, false).contains(";follow-symlinks"));
        assert_eq!(
            trusted_location(&link, true).unwrap(),
            real.join("data/real.log")
        );
        // A directory link on the way, made by root where only root writes, is fine.
        symlink("data", tmp.path().join("logdir")).unwrap();
        assert_eq!(
            trusted_location(&tmp.path().join("logdir/x.log"), false).unwrap(),
            real.join("data/x.log")
        );
        symlink("loop", tmp.path().join("loop")).unwrap();
        let e = trusted_location(&tmp.path().join("loop"), true).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));
    }

    #[test]
    fn directories_others_may_write_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let open = tmp.path().join("open");
        std::fs::create_dir(&open).unwrap();
        chmod(&open, 0o777);
        assert!(error(&open.join("x.log"), false).contains("writable by others (mode 0777"));
        // Sticky does not help the directory that holds the file...
        chmod(&open, 0o1777);
        assert!(error(&open.join("x.log"), false).contains("writable by others"));
        // ...but does on the way, for what root made there.
        std::fs::create_dir(open.join("root-made")).unwrap();
        assert!(trusted_location(&open.join("root-made/x.log"), false).is_ok());
        assert!(trusted_location(&open.join("new/x.log"), false).is_ok());
        // A directory of another user, anywhere on the way.
        let theirs = tmp.path().join("theirs");
        std::fs::create_dir_all(theirs.join("sub")).unwrap();
        std::os::unix::fs::chown(&theirs, Some(4242), None).unwrap();
        assert!(error(&theirs.join("sub/x.log"), false).contains("belongs to uid 4242"));
        assert!(error(&theirs.join("x.log"), false).contains("belongs to uid 4242"));
        // Group-writable by a group that is not root's.
        let group = tmp.path().join("group");
        std::fs::create_dir(&group).unwrap();
        std::os::unix::fs::chown(&group, None, Some(4242)).unwrap();
        chmod(&group, 0o775);
        assert!(error(&group.join("x.log"), false).contains("writable by others"));
        chmod(&group, 0o755);
        assert!(trusted_location(&group.join("x.log"), false).is_ok());
    }

    #[test]
    fn a_link_another_user_planted_in_a_sticky_directory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let open = tmp.path().join("open");
        std::fs::create_dir(&open).unwrap();
        chmod(&open, 0o1777);
        let planted = open.join("logs");
        symlink("/etc", &planted).unwrap();
        std::os::unix::fs::lchown(&planted, Some(4242), None).unwrap();
        assert!(error(&planted.join("passwd"), true).contains("belongs to uid 4242"));
    }
}
