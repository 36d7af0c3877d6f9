//! Resident memory of the long-running processes (init, the superserver). They spend
//! almost all their lives idle; the code they ran to start (and every page the kernel
//! mapped around it on each fault) need not stay mapped meanwhile.

use std::time::Duration;

/// How long a daemon must have been idle before it releases its idle code mappings.
pub const TRIM_AFTER: Duration = Duration::from_secs(1);

/// Drops the page-table entries of every file-backed code mapping (of the binary and its
/// libraries). The pages stay in the page cache; those still used fault back in at once.
pub fn trim_resident_code() {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    let mut ranges: Vec<(usize, usize)> = Vec::with_capacity(16);
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms), Some(_offset), Some(_dev), Some(inode)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        if perms != "r-xp" || inode == "0" {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        if let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) {
            ranges.push((start, end - start));
        }
    }
    drop(maps);
    // Last, in a tight loop: code run after this is what faults back in.
    for &(start, len) in &ranges {
        // SAFETY: code mappings are never written, so dropping their page-table entries
        // loses nothing; the kernel faults the pages back in from the page cache.
        unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED) };
    }
}
