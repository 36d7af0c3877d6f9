//! Writing utmp and wtmp: only where the files already exist (a system that wants login
//! accounting creates them; a container usually has none).

use std::fs::OpenOptions;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::format::utmp::{records, UtmpRecord, RECORD_SIZE, RUN_LVL};

/// Appends a record to wtmp if the file exists.
pub fn append(path: &Path, record: &UtmpRecord) -> io::Result<()> {
    let mut file = match OpenOptions::new().append(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    // Keep the file a whole number of records even after a torn earlier write.
    let len = file.seek(SeekFrom::End(0))?;
    let partial = len % RECORD_SIZE as u64;
    if partial != 0 {
        file.set_len(len - partial)?;
    }
    file.write_all(&record.encode())
}

/// Writes a record into utmp if the file exists: over the record of the same kind for
/// RUN_LVL and BOOT_TIME, over the record with the same id for processes, else at the end.
pub fn update(path: &Path, record: &UtmpRecord) -> io::Result<()> {
    let mut file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let same = |r: &UtmpRecord| {
        if record.kind <= 2 {
            r.kind == record.kind
        } else {
            r.kind > 2 && r.id == record.id
        }
    };
    let slot = records(&bytes)
        .position(|r| same(&r))
        .unwrap_or(bytes.len() / RECORD_SIZE);
    file.write_all_at(&record.encode(), (slot * RECORD_SIZE) as u64)
}

/// The current and previous runlevel from the RUN_LVL record of a utmp file.
pub fn read_runlevel(path: &Path) -> Option<(char, Option<char>)> {
    // Regular files only, bounded: a FIFO there must not hang `runlevel` or `halt`.
    let bytes = crate::sys::fs::read_config(path).ok()?;
    records(&bytes)
        .filter(|r| r.kind == RUN_LVL)
        .filter_map(|r| r.levels())
        .last()
}

/// A record as sysvinit writes it: the time to the microsecond, and the kernel release
/// as the host (`last -x` shows it for boots and runlevel changes).
pub fn stamped(record: &UtmpRecord) -> UtmpRecord {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let host = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    UtmpRecord {
        time_secs: now.as_secs() as i32,
        time_usecs: now.subsec_micros() as i32,
        host,
        ..record.clone()
    }
}

/// Seconds since the epoch, as utmp stores them.
pub fn now_secs() -> i32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::utmp::{DEAD_PROCESS, INIT_PROCESS};

    #[test]
    fn only_existing_files_are_written() {
        let tmp = tempfile::tempdir().unwrap();
        let utmp = tmp.path().join("utmp");
        update(&utmp, &UtmpRecord::runlevel('3', None, 1)).unwrap();
        append(&tmp.path().join("wtmp"), &UtmpRecord::boot(1)).unwrap();
        assert!(!utmp.exists() && !tmp.path().join("wtmp").exists());
    }

    #[test]
    fn utmp_replaces_by_kind_and_id() {
        let tmp = tempfile::tempdir().unwrap();
        let utmp = tmp.path().join("utmp");
        std::fs::write(&utmp, b"").unwrap();
        update(&utmp, &UtmpRecord::boot(1)).unwrap();
        update(&utmp, &UtmpRecord::runlevel('3', None, 2)).unwrap();
        let proc = UtmpRecord {
            kind: INIT_PROCESS,
            pid: 10,
            id: "1".into(),
            ..Default::default()
        };
        update(&utmp, &proc).unwrap();
        update(&utmp, &UtmpRecord::runlevel('5', Some('3'), 3)).unwrap();
        update(
            &utmp,
            &UtmpRecord {
                kind: DEAD_PROCESS,
                ..proc.clone()
            },
        )
        .unwrap();
        let bytes = std::fs::read(&utmp).unwrap();
        let all: Vec<UtmpRecord> = records(&bytes).collect();
        assert_eq!(all.len(), 3);
        assert_eq!(all[2].kind, DEAD_PROCESS);
        assert_eq!(read_runlevel(&utmp), Some(('5', Some('3'))));
    }

    #[test]
    fn wtmp_appends_whole_records() {
        let tmp = tempfile::tempdir().unwrap();
        let wtmp = tmp.path().join("wtmp");
        std::fs::write(&wtmp, [0u8; 100]).unwrap();
        append(&wtmp, &UtmpRecord::runlevel('3', None, 2)).unwrap();
        append(&wtmp, &UtmpRecord::runlevel('6', Some('3'), 3)).unwrap();
        assert_eq!(
            std::fs::metadata(&wtmp).unwrap().len(),
            2 * RECORD_SIZE as u64
        );
        assert_eq!(read_runlevel(&wtmp), Some(('6', Some('3'))));
    }
}
