//! utmp records (glibc's `struct utmp` on Linux, 384 bytes): who is logged in on which
//! terminal. Only what syslogd needs to write to users' terminals is read; records are
//! also encoded, for tests and tools that write a login record.

/// Size of one record.
pub const RECORD_SIZE: usize = 384;

/// `ut_type` of a login session.
pub const USER_PROCESS: i16 = 7;

const LINE: std::ops::Range<usize> = 8..40;
const USER: std::ops::Range<usize> = 44..76;

/// A login session: its user and terminal (`pts/3`, relative to `/dev`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Login {
    pub user: String,
    pub line: String,
}

/// The login sessions in a utmp file's bytes; a truncated last record is ignored.
pub fn logins(bytes: &[u8]) -> Vec<Login> {
    bytes
        .chunks_exact(RECORD_SIZE)
        .filter(|r| i16::from_ne_bytes([r[0], r[1]]) == USER_PROCESS)
        .filter_map(|r| {
            let user = c_field(&r[USER]);
            let line = c_field(&r[LINE]);
            (!user.is_empty() && !line.is_empty()).then_some(Login { user, line })
        })
        .collect()
}

fn c_field(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// One USER_PROCESS record (fields that do not fit are cut).
pub fn encode_login(user: &str, line: &str, pid: i32) -> [u8; RECORD_SIZE] {
    let mut r = [0u8; RECORD_SIZE];
    r[0..2].copy_from_slice(&USER_PROCESS.to_ne_bytes());
    r[4..8].copy_from_slice(&pid.to_ne_bytes());
    let put = |r: &mut [u8; RECORD_SIZE], range: std::ops::Range<usize>, s: &str| {
        let n = s.len().min(range.len());
        r[range.start..range.start + n].copy_from_slice(&s.as_bytes()[..n]);
    };
    put(&mut r, LINE, line);
    put(&mut r, USER, user);
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_only_user_processes() {
        let mut bytes = encode_login("alice", "pts/3", 10).to_vec();
        let mut dead = encode_login("bob", "pts/4", 11);
        dead[0..2].copy_from_slice(&8i16.to_ne_bytes());
        bytes.extend_from_slice(&dead);
        bytes.extend_from_slice(&encode_login("root", "tty1", 12));
        bytes.extend_from_slice(&[1, 2, 3]);
        assert_eq!(
            logins(&bytes),
            vec![
                Login {
                    user: "alice".into(),
                    line: "pts/3".into()
                },
                Login {
                    user: "root".into(),
                    line: "tty1".into()
                },
            ]
        );
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let _ = logins(&bytes);
        }
    }
}
