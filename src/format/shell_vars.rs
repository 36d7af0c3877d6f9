//! Variable assignments in the files of `/etc/default` (`CONCURRENCY=none`), read the
//! way a shell that sources them would for the simple forms they use: `NAME=value`,
//! `NAME="value"`, `NAME='value'`, an optional `export`, comments. Anything else
//! (commands, expansions) is skipped: these files are not run.

use std::collections::BTreeMap;

/// The last value of each plainly assigned variable.
pub fn parse(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let plain = |c: char| c.is_ascii_alphanumeric() || c == '_';
        if name.is_empty()
            || !name.chars().all(plain)
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            continue;
        }
        if let Some(value) = unquote(value) {
            out.insert(name.to_string(), value);
        }
    }
    out
}

/// A quoted or bare word, comment after it allowed; None for anything a shell would
/// expand or split.
fn unquote(value: &str) -> Option<String> {
    for quote in ['"', '\''] {
        if let Some(rest) = value.strip_prefix(quote) {
            let (inner, after) = rest.split_once(quote)?;
            let after = after.trim_start();
            if !(after.is_empty() || after.starts_with('#'))
                || (quote == '"' && inner.contains(['$', '`', '\\']))
            {
                return None;
            }
            return Some(inner.to_string());
        }
    }
    let word = value.split('#').next().unwrap_or("").trim_end();
    if word.contains(|c: char| c.is_whitespace() || "$`\\\"'();&|<>".contains(c)) {
        return None;
    }
    Some(word.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_forms_default_files_use() {
        let vars = parse(
            "# comment\nCONCURRENCY=none\nexport TMPTIME=0\nA=\"x y\"\nB='z'  # why\nC=$HOME\nD=1 2\n[ -x x ] && E=1\nF=  # empty\n",
        );
        assert_eq!(vars.get("CONCURRENCY").map(String::as_str), Some("none"));
        assert_eq!(vars.get("TMPTIME").map(String::as_str), Some("0"));
        assert_eq!(vars.get("A").map(String::as_str), Some("x y"));
        assert_eq!(vars.get("B").map(String::as_str), Some("z"));
        assert_eq!(vars.get("F").map(String::as_str), Some(""));
        for skipped in ["C", "D", "E"] {
            assert!(!vars.contains_key(skipped), "{skipped}");
        }
    }

    proptest! {
        #[test]
        fn any_text_parses_without_panic(text in "\\PC{0,200}") {
            for (name, _) in parse(&text) {
                prop_assert!(!name.is_empty());
            }
        }
    }
}
