//! The sysvinit control request written to `/run/initctl`: exactly 384 bytes,
//! little-endian (`struct init_request` of sysvinit's initreq.h).
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `0x03091969` |
//! | 4 | 4 | command |
//! | 8 | 4 | runlevel, as an ASCII character code |
//! | 12 | 4 | sleep time between TERM and KILL, seconds |
//! | 16 | 368 | data; for SETENV `KEY=VAL\0KEY\0…\0\0` |

pub const REQUEST_SIZE: usize = 384;
pub const MAGIC: u32 = 0x0309_1969;
const DATA_SIZE: usize = REQUEST_SIZE - 16;

const CMD_RUNLVL: u32 = 1;
const CMD_POWERFAIL: u32 = 2;
const CMD_POWERFAILNOW: u32 = 3;
const CMD_POWEROK: u32 = 4;
const CMD_SETENV: u32 = 6;

/// What a request asks init to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `telinit [-t SLEEP] LEVEL`: the level character as sent (`5`, `S`, `q`, `u`, `a`…).
    Runlevel {
        level: char,
        sleep_secs: u32,
    },
    PowerFail,
    PowerFailNow,
    PowerOk,
    /// `telinit -e`: each name with its value, or None to unset it.
    SetEnv(Vec<(String, Option<String>)>),
}

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestError {
    Short(usize),
    BadMagic(u32),
    /// A command init does not act on (START, BSD, UNSETENV, unknown).
    Unsupported(u32),
    BadRunlevel(u32),
    BadEnv(String),
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestError::Short(n) => write!(f, "short request ({n} of {REQUEST_SIZE} bytes)"),
            RequestError::BadMagic(m) => write!(f, "bad magic 0x{m:08x}"),
            RequestError::Unsupported(c) => write!(f, "unsupported command {c}"),
            RequestError::BadRunlevel(l) => write!(f, "invalid runlevel code {l}"),
            RequestError::BadEnv(why) => write!(f, "bad SETENV data: {why}"),
        }
    }
}

fn word(bytes: &[u8], offset: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(b)
}

/// Decodes one request.
pub fn decode(bytes: &[u8]) -> Result<Request, RequestError> {
    if bytes.len() < REQUEST_SIZE {
        return Err(RequestError::Short(bytes.len()));
    }
    let magic = word(bytes, 0);
    if magic != MAGIC {
        return Err(RequestError::BadMagic(magic));
    }
    match word(bytes, 4) {
        CMD_RUNLVL => {
            let code = word(bytes, 8);
            let level = char::from_u32(code)
                .filter(|c| "0123456789SsQqUuAaBbCc".contains(*c))
                .ok_or(RequestError::BadRunlevel(code))?;
            Ok(Request::Runlevel {
                level,
                sleep_secs: word(bytes, 12),
            })
        }
        CMD_POWERFAIL => Ok(Request::PowerFail),
        CMD_POWERFAILNOW => Ok(Request::PowerFailNow),
        CMD_POWEROK => Ok(Request::PowerOk),
        CMD_SETENV => decode_env(&bytes[16..REQUEST_SIZE]).map(Request::SetEnv),
        other => Err(RequestError::Unsupported(other)),
    }
}

fn decode_env(data: &[u8]) -> Result<Vec<(String, Option<String>)>, RequestError> {
    let mut out = Vec::new();
    for item in data.split(|&b| b == 0) {
        if item.is_empty() {
            break;
        }
        let text =
            std::str::from_utf8(item).map_err(|_| RequestError::BadEnv("not UTF-8".into()))?;
        match text.split_once('=') {
            Some((k, v)) => out.push((k.to_string(), Some(v.to_string()))),
            None => out.push((text.to_string(), None)),
        }
    }
    Ok(out)
}

/// Encodes a request as sysvinit's telinit writes it.
pub fn encode(request: &Request) -> Result<[u8; REQUEST_SIZE], String> {
    let mut out = [0u8; REQUEST_SIZE];
    let put = |out: &mut [u8; REQUEST_SIZE], offset: usize, value: u32| {
        out[offset..offset + 4].copy_from_slice(&value.to_le_bytes())
    };
    put(&mut out, 0, MAGIC);
    match request {
        Request::Runlevel { level, sleep_secs } => {
            put(&mut out, 4, CMD_RUNLVL);
            put(&mut out, 8, *level as u32);
            put(&mut out, 12, *sleep_secs);
        }
        Request::PowerFail => put(&mut out, 4, CMD_POWERFAIL),
        Request::PowerFailNow => put(&mut out, 4, CMD_POWERFAILNOW),
        Request::PowerOk => put(&mut out, 4, CMD_POWEROK),
        Request::SetEnv(vars) => {
            put(&mut out, 4, CMD_SETENV);
            let mut data = Vec::new();
            for (k, v) in vars {
                if k.is_empty()
                    || k.contains(['=', '\0'])
                    || v.as_deref().is_some_and(|v| v.contains('\0'))
                {
                    return Err(format!("invalid variable \"{k}\""));
                }
                data.extend_from_slice(k.as_bytes());
                if let Some(v) = v {
                    data.push(b'=');
                    data.extend_from_slice(v.as_bytes());
                }
                data.push(0);
            }
            // One more NUL must fit to end the list.
            if data.len() >= DATA_SIZE {
                return Err(format!(
                    "environment too long ({} bytes, at most {})",
                    data.len(),
                    DATA_SIZE - 1
                ));
            }
            out[16..16 + data.len()].copy_from_slice(&data);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn layout_matches_debian_telinit() {
        // What Debian's `telinit -t 7 5` writes.
        let bytes = encode(&Request::Runlevel {
            level: '5',
            sleep_secs: 7,
        })
        .unwrap();
        assert_eq!(
            &bytes[..16],
            &[0x69, 0x19, 0x09, 0x03, 1, 0, 0, 0, 53, 0, 0, 0, 7, 0, 0, 0]
        );
        assert!(bytes[16..].iter().all(|&b| b == 0));
        assert_eq!(
            decode(&bytes).unwrap(),
            Request::Runlevel {
                level: '5',
                sleep_secs: 7
            }
        );
    }

    #[test]
    fn setenv_round_trip() {
        let vars = vec![
            ("INIT_HALT".to_string(), Some("POWEROFF".to_string())),
            ("INIT_X".to_string(), None),
        ];
        let bytes = encode(&Request::SetEnv(vars.clone())).unwrap();
        assert_eq!(&bytes[16..43], b"INIT_HALT=POWEROFF\0INIT_X\0\0");
        assert_eq!(decode(&bytes).unwrap(), Request::SetEnv(vars));
        let big = vec![("INIT_A".to_string(), Some("x".repeat(400)))];
        assert!(encode(&Request::SetEnv(big)).is_err());
    }

    #[test]
    fn bad_requests() {
        assert_eq!(decode(&[0u8; 10]), Err(RequestError::Short(10)));
        let mut bytes = encode(&Request::PowerOk).unwrap();
        assert_eq!(decode(&bytes), Ok(Request::PowerOk));
        bytes[4] = 5;
        assert_eq!(decode(&bytes), Err(RequestError::Unsupported(5)));
        bytes[0] = 0;
        assert!(matches!(decode(&bytes), Err(RequestError::BadMagic(_))));
        let mut bytes = encode(&Request::Runlevel {
            level: '5',
            sleep_secs: 0,
        })
        .unwrap();
        bytes[8] = b'x';
        assert_eq!(
            decode(&bytes),
            Err(RequestError::BadRunlevel(u32::from(b'x')))
        );
    }

    proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..500)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn garbage_with_magic_never_panics(cmd in 0u32..10, rest in proptest::collection::vec(any::<u8>(), 376)) {
            let mut bytes = MAGIC.to_le_bytes().to_vec();
            bytes.extend_from_slice(&cmd.to_le_bytes());
            bytes.extend_from_slice(&rest);
            let _ = decode(&bytes);
        }
    }
}
