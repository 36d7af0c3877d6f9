//! utmp/wtmp records as glibc lays them out on Linux (`struct utmp`, 384 bytes,
//! little-endian on the 64-bit ABIs with 32-bit time fields).
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 2 (+2) | ut_type |
//! | 4 | 4 | ut_pid |
//! | 8 | 32 | ut_line |
//! | 40 | 4 | ut_id |
//! | 44 | 32 | ut_user |
//! | 76 | 256 | ut_host |
//! | 332 | 4 | ut_exit (termination, exit: two shorts) |
//! | 336 | 4 | ut_session |
//! | 340 | 8 | ut_tv (seconds, microseconds) |
//! | 348 | 16 | ut_addr_v6 |
//! | 364 | 20 | reserved |

pub const RECORD_SIZE: usize = 384;

pub const RUN_LVL: u16 = 1;
pub const BOOT_TIME: u16 = 2;
pub const INIT_PROCESS: u16 = 5;
pub const LOGIN_PROCESS: u16 = 6;
pub const USER_PROCESS: u16 = 7;
pub const DEAD_PROCESS: u16 = 8;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UtmpRecord {
    pub kind: u16,
    pub pid: i32,
    pub line: String,
    pub id: String,
    pub user: String,
    pub host: String,
    /// (termination signal, exit status) of a DEAD_PROCESS.
    pub exit: (i16, i16),
    pub session: i32,
    pub time_secs: i32,
    pub time_usecs: i32,
}

impl UtmpRecord {
    /// The record of a runlevel change (what `runlevel` and `who -r` read):
    /// `ut_pid = new + 256 * old`, user `runlevel`, id `~~`, line `~`. No previous level
    /// (boot) is `N`, as sysvinit writes it.
    pub fn runlevel(new: char, old: Option<char>, time_secs: i32) -> UtmpRecord {
        UtmpRecord {
            kind: RUN_LVL,
            pid: new as i32 + 256 * old.unwrap_or('N') as i32,
            line: "~".into(),
            id: "~~".into(),
            user: "runlevel".into(),
            time_secs,
            ..Default::default()
        }
    }

    /// The boot record (`reboot` in `last`).
    pub fn boot(time_secs: i32) -> UtmpRecord {
        UtmpRecord {
            kind: BOOT_TIME,
            line: "~".into(),
            id: "~~".into(),
            user: "reboot".into(),
            time_secs,
            ..Default::default()
        }
    }

    /// The halt tools' record (`shutdown` in `last`).
    pub fn shutdown(time_secs: i32) -> UtmpRecord {
        UtmpRecord {
            kind: RUN_LVL,
            line: "~~".into(),
            id: "~~".into(),
            user: "shutdown".into(),
            time_secs,
            ..Default::default()
        }
    }

    /// The levels of a RUN_LVL record: (current, previous).
    pub fn levels(&self) -> Option<(char, Option<char>)> {
        if self.kind != RUN_LVL || self.user != "runlevel" {
            return None;
        }
        let current = char::from_u32((self.pid % 256) as u32).filter(|c| !c.is_control())?;
        let previous = char::from_u32((self.pid / 256) as u32)
            .filter(|c| !matches!(c, '\0' | 'N') && !c.is_control());
        Some((current, previous))
    }

    pub fn encode(&self) -> [u8; RECORD_SIZE] {
        let mut out = [0u8; RECORD_SIZE];
        out[0..2].copy_from_slice(&self.kind.to_le_bytes());
        out[4..8].copy_from_slice(&self.pid.to_le_bytes());
        put_str(&mut out[8..40], &self.line);
        put_str(&mut out[40..44], &self.id);
        put_str(&mut out[44..76], &self.user);
        put_str(&mut out[76..332], &self.host);
        out[332..334].copy_from_slice(&self.exit.0.to_le_bytes());
        out[334..336].copy_from_slice(&self.exit.1.to_le_bytes());
        out[336..340].copy_from_slice(&self.session.to_le_bytes());
        out[340..344].copy_from_slice(&self.time_secs.to_le_bytes());
        out[344..348].copy_from_slice(&self.time_usecs.to_le_bytes());
        out
    }

    /// Decodes one record; None when shorter than a record.
    pub fn decode(bytes: &[u8]) -> Option<UtmpRecord> {
        let b = bytes.get(..RECORD_SIZE)?;
        let i32_at = |o: usize| i32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let i16_at = |o: usize| i16::from_le_bytes([b[o], b[o + 1]]);
        Some(UtmpRecord {
            kind: u16::from_le_bytes([b[0], b[1]]),
            pid: i32_at(4),
            line: get_str(&b[8..40]),
            id: get_str(&b[40..44]),
            user: get_str(&b[44..76]),
            host: get_str(&b[76..332]),
            exit: (i16_at(332), i16_at(334)),
            session: i32_at(336),
            time_secs: i32_at(340),
            time_usecs: i32_at(344),
        })
    }
}

/// Copies a string into a fixed field, cut to fit (utmp strings need no terminator).
fn put_str(field: &mut [u8], value: &str) {
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value.as_bytes()[..n]);
}

fn get_str(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// Every whole record in a utmp/wtmp file's bytes.
pub fn records(bytes: &[u8]) -> impl Iterator<Item = UtmpRecord> + '_ {
    bytes
        .chunks_exact(RECORD_SIZE)
        .filter_map(UtmpRecord::decode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn runlevel_record_layout() {
        let r = UtmpRecord::runlevel('5', Some('3'), 1000);
        let b = r.encode();
        assert_eq!(&b[0..2], &[1, 0]);
        assert_eq!(i32::from_le_bytes([b[4], b[5], b[6], b[7]]), 53 + 256 * 51);
        assert_eq!(&b[40..42], b"~~");
        assert_eq!(&b[44..52], b"runlevel");
        assert_eq!(UtmpRecord::decode(&b).unwrap(), r);
        assert_eq!(r.levels(), Some(('5', Some('3'))));
        let boot = UtmpRecord::runlevel('2', None, 0);
        assert_eq!(boot.pid, 20018, "sysvinit's value for N to 2");
        assert_eq!(boot.levels(), Some(('2', None)));
        assert_eq!(UtmpRecord::boot(5).levels(), None);
    }

    #[test]
    fn long_strings_are_cut() {
        let r = UtmpRecord {
            id: "abcdef".into(),
            line: "x".repeat(40),
            ..Default::default()
        };
        let d = UtmpRecord::decode(&r.encode()).unwrap();
        assert_eq!(d.id, "abcd");
        assert_eq!(d.line.len(), 32);
    }

    proptest! {
        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1200)) {
            for r in records(&bytes) {
                let _ = r.levels();
            }
        }
    }
}
