//! The little JSON the tools print (`--json`): string quoting per RFC 8259.

/// `text` as a JSON string, quotes included.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes() {
        assert_eq!(quote("a\"b\\c\nd\u{1}é"), "\"a\\\"b\\\\c\\nd\\u0001é\"");
    }

    proptest! {
        #[test]
        fn no_raw_control_characters(text in "\\PC*|[\\x00-\\x1f\"\\\\]*") {
            let q = quote(&text);
            prop_assert!(q.starts_with('"') && q.ends_with('"'));
            prop_assert!(!q.chars().any(|c| (c as u32) < 0x20));
            let inner = &q[1..q.len() - 1];
            // Every quote inside is escaped.
            let bytes = inner.as_bytes();
            for (i, b) in bytes.iter().enumerate() {
                if *b == b'"' {
                    let backslashes = bytes[..i].iter().rev().take_while(|c| **c == b'\\').count();
                    prop_assert!(backslashes % 2 == 1);
                }
            }
        }
    }
}
