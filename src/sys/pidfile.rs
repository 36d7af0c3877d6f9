//! Pidfiles: written atomically (temporary file + rename, so a reader never sees a
//! half-written number), read strictly, and locked by the process they name.
//!
//! The lock is a POSIX record lock (`fcntl(F_SETLK)`) held by the daemon's own process
//! on its pidfile (a read lock, through a read-only descriptor, for the daemons `vinit
//! daemon` starts: a daemon that runs as another user cannot rewrite the pid root
//! wrote). Such a lock belongs to a process, is not inherited by its children,
//! survives `exec`, and is dropped by the kernel when the process dies: while it is
//! held, `F_GETLK` names a live holder, and a pidfile nobody holds can be told stale
//! without trusting the number in it. Pidfiles that `vinit daemon` writes for a program
//! it starts are read-only (0444): that marks them as written under this scheme, so an
//! unlocked one is stale, full stop. Any other unlocked pidfile was written by the
//! program itself, and its pid is only believed after checking the process (see
//! `sys::proc::Identity`).

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::unistd::Pid;

use crate::format::proc_locks::{posix_holders, FileId};

/// Mode of the pidfiles `vinit daemon` writes for a program it starts.
pub const MANAGED_MODE: u32 = 0o444;

/// Writes `pid` followed by a newline to `path`, replacing it atomically (mode 0644).
pub fn write_pidfile(path: &Path, pid: Pid) -> io::Result<()> {
    crate::sys::fs::write_atomic(path, format!("{}\n", pid.as_raw()).as_bytes(), 0o644)
}

/// Reads a pidfile: None when it does not exist; an error when it holds no valid pid.
pub fn read_pidfile(path: &Path) -> io::Result<Option<Pid>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    parse_pid(&text)
        .map(|p| Some(Pid::from_raw(p)))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: no valid pid in the file", path.display()),
            )
        })
}

/// The first whitespace-separated word as a positive pid.
pub fn parse_pid(text: &str) -> Option<i32> {
    text.split_whitespace()
        .next()?
        .parse::<i32>()
        .ok()
        .filter(|p| *p > 0)
}

/// What a pidfile says, lock included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PidfileState {
    Missing,
    /// Held: `holder` is alive (the kernel drops the lock when a process dies). It is
    /// None when the holder is in another pid namespace; `written` is the file's pid.
    Locked {
        holder: Option<Pid>,
        written: Option<Pid>,
    },
    /// Written by `vinit daemon` and no longer held: its program is gone.
    Stale {
        written: Option<Pid>,
    },
    /// Written by the program itself, not held: `written` must be checked.
    Unlocked {
        written: Option<Pid>,
    },
}

/// Who could have written a pidfile, by its owner and mode (start-stop-daemon's rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trust {
    /// Owned by root or the caller, writable only by them (or by root's or the
    /// caller's group).
    Trusted,
    /// Owned, or writable through its group, by someone else: its pid and its lock
    /// count only for a process that matches what the caller asked for.
    ForeignOwner,
    /// Anyone can write it: nothing in it counts.
    WorldWritable,
}

/// A pidfile as found: its state and who could have written it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inspection {
    pub state: PidfileState,
    pub trust: Trust,
}

/// Reads a pidfile and its lock. The file itself must be a regular file, not a symbolic
/// link (a link in a directory the service user owns could point at another daemon's
/// locked pidfile). Never call it on a pidfile this process holds itself: closing any
/// descriptor of a file drops the process's own POSIX locks on it.
pub fn inspect(path: &Path) -> io::Result<Inspection> {
    let mut file = match open_pidfile(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Inspection {
                state: PidfileState::Missing,
                trust: Trust::Trusted,
            })
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    let mut text = String::new();
    // A pidfile is a number; anything longer is not one.
    (&mut file).take(64).read_to_string(&mut text).ok();
    let written = parse_pid(&text).map(Pid::from_raw);
    let managed = meta.mode() & 0o7777 == MANAGED_MODE;
    let state = match lock_holder(&file)? {
        // Anyone who can read a managed pidfile can add a read lock of their own, and
        // F_GETLK names just one holder: the daemon is the process the file names (only
        // root wrote it), provided it holds a lock on it.
        Some(holder) if managed && holder > 0 && written.is_some_and(|w| w.as_raw() != holder) => {
            match written.filter(|w| holds_lock(*w, &meta)) {
                Some(daemon) => PidfileState::Locked {
                    holder: Some(daemon),
                    written,
                },
                None => PidfileState::Stale { written },
            }
        }
        Some(holder) => PidfileState::Locked {
            holder: (holder > 0).then(|| Pid::from_raw(holder)),
            written,
        },
        None if managed => PidfileState::Stale { written },
        None => PidfileState::Unlocked { written },
    };
    Ok(Inspection {
        state,
        trust: trust_of(&meta),
    })
}

/// Opens a pidfile for reading without following a final symbolic link (refused with a
/// clear error) and without blocking on a FIFO planted under its name.
fn open_pidfile(path: &Path) -> io::Result<File> {
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path);
    match opened {
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Err(io::Error::other(
            "a symbolic link (refused: a pidfile must be a file of its own)",
        )),
        other => other,
    }
}

fn trust_of(meta: &std::fs::Metadata) -> Trust {
    let (uid, gid) = (
        nix::unistd::getuid().as_raw(),
        nix::unistd::getgid().as_raw(),
    );
    let foreign_owner = meta.uid() != uid && meta.uid() != 0;
    let foreign_group_writes = meta.gid() != gid && meta.gid() != 0 && meta.mode() & 0o020 != 0;
    if meta.mode() & 0o002 != 0 {
        Trust::WorldWritable
    } else if foreign_owner || foreign_group_writes {
        Trust::ForeignOwner
    } else {
        Trust::Trusted
    }
}

/// Whether `pid` holds a POSIX lock on the file `meta` describes (`/proc/locks` lists
/// every holder, where F_GETLK names only one).
fn holds_lock(pid: Pid, meta: &std::fs::Metadata) -> bool {
    let file = FileId {
        major: libc::major(meta.dev()),
        minor: libc::minor(meta.dev()),
        inode: meta.ino(),
    };
    std::fs::read_to_string(crate::sys::layout::proc_dir().join("locks"))
        .is_ok_and(|text| posix_holders(&text, file).contains(&pid.as_raw()))
}

/// The pid holding a write-conflicting POSIX lock on `file` (0: in another pid
/// namespace), or None.
fn lock_holder(file: &File) -> io::Result<Option<i32>> {
    // SAFETY: F_GETLK fills a flock struct we own.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut lock) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((lock.l_type != libc::F_UNLCK as libc::c_short).then_some(lock.l_pid))
}

fn fill_and_rename(file: &mut File, tmp: &Path, path: &Path, pid: Pid) -> io::Result<()> {
    writeln!(file, "{}", pid.as_raw())?;
    file.sync_all()?;
    std::fs::rename(tmp, path)
}

/// The pidfile of a program about to be started: created under a temporary name, a
/// read-only descriptor of it handed to the program (which read-locks it, see
/// `Spawn::keep_fd`: the program cannot rewrite the pid through it), and put in place
/// once the program's pid is known.
#[derive(Debug)]
pub struct PendingPidfile {
    path: PathBuf,
    tmp: PathBuf,
    file: File,
    reader: File,
    done: bool,
}

impl PendingPidfile {
    pub fn create(path: &Path) -> io::Result<PendingPidfile> {
        let tmp = crate::sys::fs::temporary_sibling(path)?;
        let file = crate::sys::fs::create_exclusive(&tmp, MANAGED_MODE)?;
        match reopen_read_only(&tmp, &file) {
            Ok(reader) => Ok(PendingPidfile {
                path: path.to_path_buf(),
                tmp,
                file,
                reader,
                done: false,
            }),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    /// The read-only descriptor for the program.
    pub fn fd(&self) -> RawFd {
        self.reader.as_raw_fd()
    }

    /// Writes `pid` and renames the file into place.
    pub fn commit(mut self, pid: Pid) -> io::Result<()> {
        let result = fill_and_rename(&mut self.file, &self.tmp, &self.path, pid);
        self.done = result.is_ok();
        result
    }
}

/// `file`, just created at `path`, opened again read-only: the same file (by device and
/// inode) or an error, should another have been put under its name meanwhile.
fn reopen_read_only(path: &Path, file: &File) -> io::Result<File> {
    let reader = open_pidfile(path)?;
    let (ours, theirs) = (file.metadata()?, reader.metadata()?);
    if (ours.dev(), ours.ino()) != (theirs.dev(), theirs.ino()) {
        return Err(io::Error::other("the temporary pidfile was replaced"));
    }
    Ok(reader)
}

impl Drop for PendingPidfile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A pidfile written and locked by the process it names (a daemon writing its own).
#[derive(Debug)]
pub struct HeldPidfile {
    path: PathBuf,
    file: File,
}

impl HeldPidfile {
    /// Writes this process's pid to `path` (mode 0644) and keeps it locked.
    pub fn create(path: &Path) -> io::Result<HeldPidfile> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = crate::sys::fs::temporary_sibling(path)?;
        let mut file = crate::sys::fs::create_exclusive(&tmp, 0o644)?;
        let result = (|| {
            set_write_lock(&file)?;
            fill_and_rename(&mut file, &tmp, path, Pid::this())
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(HeldPidfile {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Removes the pidfile if it is still ours (not replaced by a successor's).
    pub fn remove(self) {
        let ours = |m: std::fs::Metadata| {
            self.file
                .metadata()
                .is_ok_and(|f| (f.dev(), f.ino()) == (m.dev(), m.ino()))
        };
        if std::fs::metadata(&self.path).is_ok_and(ours) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn set_write_lock(file: &File) -> io::Result<()> {
    // SAFETY: F_SETLK reads a flock struct we own.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &lock) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Removes `path` if it still names `pid` (a pidfile a concurrent start has just
/// rewritten is left alone). Call it under the directory lock.
pub fn remove_if_names(path: &Path, pid: Pid) -> io::Result<bool> {
    match read_pidfile(path) {
        Ok(Some(p)) if p == pid => std::fs::remove_file(path).map(|()| true),
        Ok(_) => Ok(false),
        // An unreadable number: it names nobody, so it is stale too.
        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
            std::fs::remove_file(path).map(|()| true)
        }
        Err(e) => Err(e),
    }
}

/// An exclusive `flock` on a pidfile's directory: it serialises starts and stops of the
/// daemons whose pidfiles live there, so that two concurrent starts cannot both find
/// the daemon stopped. Released when dropped.
#[derive(Debug)]
pub struct DirLock {
    _dir: File,
}

/// Takes the lock of the directory holding `pidfile`, waiting up to `timeout`.
pub fn lock_dir_of(pidfile: &Path, timeout: Duration) -> io::Result<DirLock> {
    let dir = match pidfile.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file = File::open(dir)?;
    let deadline = Instant::now() + timeout;
    loop {
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(DirLock { _dir: file });
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(err);
        }
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{} is locked by another start or stop", dir.display()),
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.pid");
        assert_eq!(read_pidfile(&path).unwrap(), None);
        write_pidfile(&path, Pid::from_raw(1234)).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "1234\n");
        assert_eq!(read_pidfile(&path).unwrap(), Some(Pid::from_raw(1234)));
        std::fs::write(&path, "garbage").unwrap();
        assert!(read_pidfile(&path).is_err());
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn held_pidfile_is_locked_by_us_and_removed_only_if_ours() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("d.pid");
        let held = HeldPidfile::create(&path).unwrap();
        assert_eq!(read_pidfile(&path).unwrap(), Some(Pid::this()));
        // Our own lock is invisible to F_GETLK from our own process: this process
        // sees its pidfile as unlocked and self-written.
        assert_eq!(
            inspect(&path).unwrap().state,
            PidfileState::Unlocked {
                written: Some(Pid::this())
            }
        );
        held.remove();
        assert!(!path.exists());
        let held = HeldPidfile::create(&path).unwrap();
        write_pidfile(&path, Pid::from_raw(77)).unwrap();
        held.remove();
        assert!(path.exists(), "a successor's pidfile stays");
    }

    #[test]
    fn pending_pidfile_is_managed_and_cleaned_up() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("p.pid");
        let pending = PendingPidfile::create(&path).unwrap();
        drop(pending);
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
        let pending = PendingPidfile::create(&path).unwrap();
        pending.commit(Pid::from_raw(999_999)).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().mode() & 0o7777,
            MANAGED_MODE
        );
        assert_eq!(
            inspect(&path).unwrap().state,
            PidfileState::Stale {
                written: Some(Pid::from_raw(999_999))
            }
        );
        assert_eq!(
            inspect(&tmp.path().join("none")).unwrap().state,
            PidfileState::Missing
        );
        assert!(!remove_if_names(&path, Pid::from_raw(5)).unwrap());
        assert!(remove_if_names(&path, Pid::from_raw(999_999)).unwrap());
    }

    #[test]
    fn directory_lock_excludes_a_second_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.pid");
        let first = lock_dir_of(&path, Duration::ZERO).unwrap();
        let err = lock_dir_of(&path, Duration::from_millis(20)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(first);
        lock_dir_of(&path, Duration::ZERO).unwrap();
    }

    #[test]
    fn links_and_odd_files_are_refused_and_owners_judged() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real.pid");
        write_pidfile(&real, Pid::from_raw(5)).unwrap();
        assert_eq!(inspect(&real).unwrap().trust, Trust::Trusted);
        let link = tmp.path().join("link.pid");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(inspect(&link)
            .unwrap_err()
            .to_string()
            .contains("symbolic link"));
        assert!(inspect(tmp.path())
            .unwrap_err()
            .to_string()
            .contains("regular"));
        let fifo = tmp.path().join("fifo.pid");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        assert!(inspect(&fifo).is_err(), "a FIFO neither blocks nor counts");
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o646)).unwrap();
        assert_eq!(inspect(&real).unwrap().trust, Trust::WorldWritable);
    }

    #[test]
    fn pid_text() {
        assert_eq!(parse_pid(" 42 \n"), Some(42));
        assert_eq!(parse_pid("0"), None);
        assert_eq!(parse_pid("-5"), None);
        assert_eq!(parse_pid(""), None);
    }
}
