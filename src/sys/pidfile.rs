//! Pidfiles: written atomically (temporary file + rename, so a reader never sees a
//! half-written number), read strictly.

use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::unistd::Pid;

/// Writes `pid` followed by a newline to `path`, replacing it atomically (mode 0644).
pub fn write_pidfile(path: &Path, pid: Pid) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "pidfile has no name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)?;
        writeln!(file, "{}", pid.as_raw())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
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
    fn pid_text() {
        assert_eq!(parse_pid(" 42 \n"), Some(42));
        assert_eq!(parse_pid("0"), None);
        assert_eq!(parse_pid("-5"), None);
        assert_eq!(parse_pid(""), None);
    }
}
