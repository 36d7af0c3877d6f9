//! One word per field in vinit's own line-oriented state files (init's re-exec state,
//! rc's boot report): `%XX` for `%`, blanks, control characters and non-ASCII bytes, so
//! that any string is one word and survives the trip.

use std::fmt::Write as _;

/// `s` as one word; the empty string is `%00`.
pub fn escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b == b'%' || !(0x21..=0x7e).contains(&b) {
            let _ = write!(out, "%{b:02X}");
        } else {
            out.push(b as char);
        }
    }
    if out.is_empty() {
        out.push_str("%00");
    }
    out
}

/// The string `escape` made `s` from.
pub fn unescape(s: &str) -> Result<String, String> {
    if s == "%00" {
        return Ok(String::new());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .ok_or_else(|| format!("bad escape in {s:?}"))?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("bad escape in {s:?}"))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn strings_round_trip(s in "\\PC{0,40}") {
            let word = escape(&s);
            prop_assert!(!word.contains(char::is_whitespace));
            prop_assert_eq!(unescape(&word).unwrap(), s);
        }
    }
}
