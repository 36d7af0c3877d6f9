//! Files the way a root process must handle them: configuration read only from regular
//! files, without blocking and with a size cap; files replaced atomically through a
//! temporary name that no symlink can redirect.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The most bytes any configuration file may hold. Real ones are a few kilobytes; the cap
/// is what keeps an inittab or an `include` linked to `/dev/zero` from eating the memory
/// of PID 1 (and the machine with it).
pub const CONFIG_LIMIT: u64 = 4 << 20;

/// Reads a configuration file: it must be a regular file (a FIFO or a device would block
/// the reader, or never end) of at most [`CONFIG_LIMIT`] bytes. Symlinks are followed:
/// configuration files are often links, and only root can write where they live.
pub fn read_config(path: &Path) -> io::Result<Vec<u8>> {
    read_regular(path, CONFIG_LIMIT)
}

/// [`read_config`] as text; bytes that are not UTF-8 become U+FFFD, so one bad byte costs
/// at most the line it is on (the parsers decide), never the whole file.
pub fn read_config_text(path: &Path) -> io::Result<String> {
    read_config(path).map(|bytes| match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Reads a regular file of at most `limit` bytes. The open never blocks (O_NONBLOCK: a
/// FIFO would otherwise wait for a writer) and the type is checked on the descriptor, so
/// the file cannot be swapped between the check and the read.
pub fn read_regular(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    // Files of /proc report a size of 0: start with a page, not read_to_end's 32 bytes
    // (growing from there costs /proc/self/status eight reads, on every spawn).
    let hint = if meta.len() == 0 {
        4096
    } else {
        meta.len() + 1
    };
    let mut bytes = Vec::with_capacity(hint.min(limit + 1) as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {limit} bytes"),
        ));
    }
    Ok(bytes)
}

/// The name a file is written under before it is renamed over `path`: hidden, in the
/// same directory (rename is atomic only within a file system), unique to this process.
pub fn temporary_sibling(path: &Path) -> io::Result<PathBuf> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    Ok(dir.join(tmp_name))
}

/// Creates `tmp` as a new file of exactly `mode` (whatever the umask), readable and
/// writable. The name is predictable, so it is created with O_EXCL|O_NOFOLLOW: a symlink
/// or a file planted there is removed (unlink never follows a link) and never written
/// through; if one reappears in between, the creation fails.
pub fn create_exclusive(tmp: &Path, mode: u32) -> io::Result<File> {
    let open = || {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(tmp)
    };
    let file = match open() {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(tmp)?;
            open()?
        }
        other => other?,
    };
    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    Ok(file)
}

/// Who owns a file written by [`write_atomic_as`], and its mode.
#[derive(Clone, Copy, Debug)]
pub struct FileMode {
    pub mode: u32,
    /// Owner and group to give the file (None: the writer's).
    pub owner: Option<(u32, u32)>,
}

/// Replaces `path` with `bytes` atomically (a temporary file in the same directory,
/// synced, renamed over it, then the directory synced): readers see the old content or
/// the new, never a mix, even after a crash.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    write_atomic_as(path, bytes, FileMode { mode, owner: None })
}

/// [`write_atomic`] with an owner (an edited file keeps its owner).
pub fn write_atomic_as(path: &Path, bytes: &[u8], how: FileMode) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = temporary_sibling(path)?;
    let result = (|| {
        let mut file = create_exclusive(&tmp, how.mode)?;
        file.write_all(bytes)?;
        if let Some((uid, gid)) = how.owner {
            std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
            // chown clears set-id bits: put the mode back.
            file.set_permissions(std::fs::Permissions::from_mode(how.mode))?;
        }
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    sync_parent(path);
    Ok(())
}

/// Makes a rename in `path`'s directory durable (best effort: some file systems refuse
/// to sync a directory, and the rename itself already happened).
pub fn sync_parent(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn config_reads_refuse_fifos_and_oversized_files() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let e = read_config(&fifo).unwrap_err();
        assert_eq!(e.to_string(), "not a regular file");
        let e = read_config(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(e.to_string(), "not a regular file");
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'#'; 100]).unwrap();
        assert!(read_regular(&big, 99).is_err());
        assert_eq!(read_regular(&big, 100).unwrap().len(), 100);
        assert!(read_config(dir.path()).is_err(), "a directory is refused");
    }

    #[test]
    fn config_text_keeps_the_lines_around_a_bad_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inittab");
        std::fs::write(&path, b"# caf\xe9\nid:3:initdefault:\n").unwrap();
        let text = read_config_text(&path).unwrap();
        assert_eq!(text.lines().nth(1), Some("id:3:initdefault:"));
    }

    #[test]
    fn the_atomic_writer_never_writes_through_a_planted_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let path = dir.path().join("runlevel");
        symlink(&victim, temporary_sibling(&path).unwrap()).unwrap();
        write_atomic(&path, b"3", 0o644).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "3");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o644);
        assert!(!temporary_sibling(&path).unwrap().exists());
    }
}
