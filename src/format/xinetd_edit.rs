//! Turning an xinetd service on or off by editing its file in `xinetd.d`, the way a
//! careful person would with an editor: only the value of `disable` changes (or one
//! `disable` line is added to a service block that has none); comments, blank lines,
//! spacing, line endings and every other byte stay as they were.
//!
//! Red Hat's chkconfig rewrites the whole file instead (drops blank lines and every
//! `disable` line, adds `disable = …` after every `{`); we do not copy that.
//!
//! The "is it on" rule is chkconfig's: a file is off when its last `disable` attribute's
//! value starts with `yes`, on otherwise (also when it has none).

/// One line of the file: its bytes without the terminator, and the terminator.
struct Line<'a> {
    content: &'a [u8],
    ending: &'a [u8],
}

fn lines(text: &[u8]) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, after) = match rest.iter().position(|&b| b == b'\n') {
            Some(nl) => (&rest[..=nl], &rest[nl + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        let ending_len = if line.ends_with(b"\r\n") {
            2
        } else {
            usize::from(line.ends_with(b"\n"))
        };
        out.push(Line {
            content: &line[..line.len() - ending_len],
            ending: &line[line.len() - ending_len..],
        });
        rest = after;
    }
    out
}

fn leading_blanks(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .count()
}

/// An attribute line `NAME OP VALUE`, split into its parts (offsets into the line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Attribute {
    name: (usize, usize),
    /// The operator `=`, `+=` or `-=`.
    op: (usize, usize),
    /// The first word of the value (empty range when there is none).
    value: (usize, usize),
}

fn attribute(content: &[u8]) -> Option<Attribute> {
    let start = leading_blanks(content);
    let name_len = content[start..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-')
        .count();
    if name_len == 0 {
        return None;
    }
    let name = (start, start + name_len);
    let op_start = name.1 + leading_blanks(&content[name.1..]);
    let op_len = match &content[op_start..] {
        [b'=', ..] => 1,
        [b'+' | b'-', b'=', ..] => 2,
        _ => return None,
    };
    let op = (op_start, op_start + op_len);
    let value_start = op.1 + leading_blanks(&content[op.1..]);
    let value_len = content[value_start..]
        .iter()
        .take_while(|b| !b.is_ascii_whitespace())
        .count();
    Some(Attribute {
        name,
        op,
        value: (value_start, value_start + value_len),
    })
}

fn is_disable(content: &[u8], attr: &Attribute) -> bool {
    &content[attr.name.0..attr.name.1] == b"disable"
}

/// The first word of a non-comment line.
fn first_word(content: &[u8]) -> &[u8] {
    let start = leading_blanks(content);
    let len = content[start..]
        .iter()
        .take_while(|b| !b.is_ascii_whitespace())
        .count();
    &content[start..start + len]
}

fn is_comment(content: &[u8]) -> bool {
    content.get(leading_blanks(content)) == Some(&b'#')
}

/// Whether the service(s) of this file are on.
pub(crate) fn is_enabled(text: &[u8]) -> bool {
    let mut on = true;
    for line in lines(text) {
        if is_comment(line.content) {
            continue;
        }
        if let Some(attr) = attribute(line.content).filter(|a| is_disable(line.content, a)) {
            on = !line.content[attr.value.0..attr.value.1].starts_with(b"yes");
        }
    }
    on
}

/// The `# default: on|off` comment Red Hat's files carry: the state `chkconfig NAME
/// reset` restores.
pub(crate) fn default_enabled(text: &[u8]) -> Option<bool> {
    comment_value(text, b"default:").and_then(|v| {
        if v.starts_with("on") {
            Some(true)
        } else if v.starts_with("off") {
            Some(false)
        } else {
            None
        }
    })
}

/// The `# description:` comment, continuation lines (ending in `\`) joined.
pub(crate) fn description(text: &[u8]) -> Option<String> {
    let all = lines(text);
    let mut iter = all.iter().filter(|l| is_comment(l.content));
    while let Some(line) = iter.next() {
        let body = comment_body(line.content);
        let Some(rest) = body.strip_prefix(b"description:") else {
            continue;
        };
        let mut desc = String::new();
        let mut part = String::from_utf8_lossy(rest).trim().to_string();
        loop {
            match part.strip_suffix('\\') {
                Some(p) => {
                    desc.push_str(p);
                    match iter.next() {
                        Some(next) => {
                            part = String::from_utf8_lossy(comment_body(next.content))
                                .trim()
                                .to_string()
                        }
                        None => break,
                    }
                }
                None => {
                    desc.push_str(&part);
                    break;
                }
            }
        }
        return (!desc.trim().is_empty()).then(|| desc.trim().to_string());
    }
    None
}

/// A comment line without its `#` and the blanks around it.
fn comment_body(content: &[u8]) -> &[u8] {
    let after_hash = &content[leading_blanks(content) + 1..];
    &after_hash[leading_blanks(after_hash)..]
}

fn comment_value(text: &[u8], key: &[u8]) -> Option<String> {
    lines(text)
        .iter()
        .filter(|l| is_comment(l.content))
        .find_map(|l| comment_body(l.content).strip_prefix(key))
        .map(|v| String::from_utf8_lossy(v).trim().to_string())
}

/// A `service` block: the line index of its `}`.
struct Block {
    close: Option<usize>,
    has_disable: bool,
    /// The first attribute line inside, to copy its layout.
    model: Option<usize>,
}

/// The `service` blocks of a file (not `defaults`).
fn service_blocks(lines: &[Line]) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut pending_service = false;
    let mut current: Option<Block> = None;
    for (i, line) in lines.iter().enumerate() {
        let c = line.content;
        if is_comment(c) {
            continue;
        }
        if let Some(block) = &mut current {
            if first_word(c).starts_with(b"}") {
                block.close = Some(i);
                blocks.extend(current.take());
            } else if let Some(attr) = attribute(c) {
                block.has_disable |= is_disable(c, &attr);
                block.model.get_or_insert(i);
            }
            continue;
        }
        let word = first_word(c);
        if word.starts_with(b"{") || (pending_service && c.ends_with(b"{")) {
            if pending_service {
                current = Some(Block {
                    close: None,
                    has_disable: false,
                    model: None,
                });
            }
            pending_service = false;
        } else if !word.is_empty() {
            pending_service = word == b"service";
            if pending_service && c.trim_ascii_end().ends_with(b"{") {
                current = Some(Block {
                    close: None,
                    has_disable: false,
                    model: None,
                });
                pending_service = false;
            }
        }
    }
    blocks.extend(current);
    blocks
}

/// Why a file cannot be switched: there is nowhere to say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EditError {
    UnclosedBlock,
    NoServiceBlock,
}

impl std::fmt::Display for EditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EditError::UnclosedBlock => "a service block has no closing '}'",
            EditError::NoServiceBlock => "no service block to add 'disable' to",
        })
    }
}

/// The file with its service(s) turned on or off. Every `disable` value is set; a
/// service block without one gets a `disable` line before its `}`, laid out like the
/// block's first attribute. Fails only when there is nowhere to say it (no `disable`
/// line and no complete service block).
pub(crate) fn set_enabled(text: &[u8], on: bool) -> Result<Vec<u8>, EditError> {
    let value: &[u8] = if on { b"no" } else { b"yes" };
    let all = lines(text);
    let blocks = service_blocks(&all);
    let mut insert_before: Vec<(usize, Vec<u8>)> = Vec::new();
    for block in &blocks {
        if block.has_disable {
            continue;
        }
        let close = block.close.ok_or(EditError::UnclosedBlock)?;
        let model = block.model.map(|m| all[m].content);
        insert_before.push((close, disable_line(model, value)));
    }
    let any_disable = all.iter().any(|l| {
        !is_comment(l.content) && attribute(l.content).is_some_and(|a| is_disable(l.content, &a))
    });
    if !any_disable && insert_before.is_empty() {
        return Err(EditError::NoServiceBlock);
    }
    let mut out = Vec::with_capacity(text.len() + 32);
    let mut previous_ending: &[u8] = b"\n";
    for (i, line) in all.iter().enumerate() {
        for (_, new_line) in insert_before.iter().filter(|(at, _)| *at == i) {
            out.extend_from_slice(new_line);
            out.extend_from_slice(if previous_ending.is_empty() {
                b"\n"
            } else {
                previous_ending
            });
        }
        match attribute(line.content)
            .filter(|a| !is_comment(line.content) && is_disable(line.content, a))
        {
            Some(attr) => {
                out.extend_from_slice(&line.content[..attr.value.0]);
                if attr.value.0 == attr.value.1 && attr.value.0 == attr.op.1 {
                    out.push(b' ');
                }
                out.extend_from_slice(value);
                out.extend_from_slice(&line.content[attr.value.1..]);
            }
            None => out.extend_from_slice(line.content),
        }
        out.extend_from_slice(line.ending);
        if !line.ending.is_empty() {
            previous_ending = line.ending;
        }
    }
    Ok(out)
}

/// A `disable = VALUE` line laid out like `model` (an attribute line of the same block):
/// same indentation, `=` in the same column, same blanks after it.
fn disable_line(model: Option<&[u8]>, value: &[u8]) -> Vec<u8> {
    let Some((content, attr)) = model.and_then(|m| attribute(m).map(|a| (m, a))) else {
        return [b"\tdisable\t= ", value].concat();
    };
    let indent = &content[..attr.name.0];
    let gap = &content[attr.name.1..attr.op.0];
    let after_op = &content[attr.op.1..attr.value.0];
    let mut line = [indent, b"disable"].concat();
    let target = column(&content[..attr.op.0]);
    if gap.contains(&b'\t') {
        while column(&line) < target {
            line.push(b'\t');
        }
    } else {
        while column(&line) < target {
            line.push(b' ');
        }
    }
    if line.len() == indent.len() + 7 {
        line.push(b' ');
    }
    line.extend_from_slice(b"=");
    line.extend_from_slice(if after_op.is_empty() { b" " } else { after_op });
    line.extend_from_slice(value);
    line
}

/// The display column after `text`, tabs every 8 columns.
fn column(text: &[u8]) -> usize {
    text.iter().fold(0, |col, b| match b {
        b'\t' => (col / 8 + 1) * 8,
        _ => col + 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TELNET: &str = "# default: on\n\
        # description: The telnet server serves telnet sessions; it uses \\\n\
        #\tunencrypted username/password pairs for authentication.\n\
        service telnet\n\
        {\n\
        \tflags\t\t= REUSE\n\
        \tsocket_type\t= stream        \n\
        \n\
        \twait\t\t= no\n\
        \tuser\t\t= root\n\
        \tserver\t\t= /usr/sbin/in.telnetd\n\
        \tlog_on_failure\t+= USERID\n\
        \tdisable\t\t= yes\n\
        }\n";

    fn set(text: &str, on: bool) -> String {
        String::from_utf8(set_enabled(text.as_bytes(), on).unwrap()).unwrap()
    }

    #[test]
    fn only_the_value_changes() {
        assert!(!is_enabled(TELNET.as_bytes()));
        let on = set(TELNET, true);
        assert_eq!(
            on,
            TELNET.replace("\tdisable\t\t= yes", "\tdisable\t\t= no")
        );
        assert!(is_enabled(on.as_bytes()));
        assert_eq!(set(&on, false), TELNET);
        assert_eq!(set(TELNET, false), TELNET);
    }

    #[test]
    fn comments_default_and_description() {
        assert_eq!(default_enabled(TELNET.as_bytes()), Some(true));
        assert_eq!(default_enabled(b"# default: off\n"), Some(false));
        assert_eq!(default_enabled(b"service x\n{\n}\n"), None);
        assert_eq!(
            description(TELNET.as_bytes()).as_deref(),
            Some("The telnet server serves telnet sessions; it uses unencrypted username/password pairs for authentication.")
        );
        // A commented-out disable line is a comment.
        assert!(is_enabled(b"service x\n{\n#\tdisable = yes\n}\n"));
    }

    #[test]
    fn the_last_disable_line_decides() {
        assert!(is_enabled(
            b"service x\n{\n disable = yes\n disable = no\n}\n"
        ));
        assert!(!is_enabled(
            b"service x\n{\n disable=no\n disable =yes\n}\n"
        ));
        assert!(is_enabled(b"service x\n{\n socket_type = stream\n}\n"));
        assert!(!is_enabled(b"service x\n{\n disable = yes # off\n}\n"));
        // `disabled` is another attribute.
        assert!(is_enabled(b"service x\n{\n disabled = yes\n}\n"));
    }

    #[test]
    fn every_disable_line_is_set_and_odd_spacing_is_kept() {
        let text = "service x\n{\n   disable=yes\n\tdisable  =   yes   \n  disable =\n}\n";
        assert_eq!(
            set(text, true),
            "service x\n{\n   disable=no\n\tdisable  =   no   \n  disable = no\n}\n"
        );
    }

    #[test]
    fn a_missing_disable_line_is_added_like_its_neighbours() {
        let spaces = "# comment\n\nservice echo\n{\n    type        = INTERNAL\n    id          = echo-stream\n}\n";
        assert_eq!(
            set(spaces, false),
            "# comment\n\nservice echo\n{\n    type        = INTERNAL\n    id          = echo-stream\n    disable     = yes\n}\n"
        );
        let tabs = "service a\r\n{\r\n\tsocket_type\t= stream\r\n}\r\n";
        assert_eq!(
            set(tabs, true),
            "service a\r\n{\r\n\tsocket_type\t= stream\r\n\tdisable\t\t= no\r\n}\r\n"
        );
        let tight = "service a\n{\nx=1\n}";
        assert_eq!(set(tight, false), "service a\n{\nx=1\ndisable = yes\n}");
        let empty = "service a\n{\n}\n";
        assert_eq!(set(empty, true), "service a\n{\n\tdisable\t= no\n}\n");
    }

    #[test]
    fn each_block_without_disable_gets_one() {
        let text = "service a\n{\n\tdisable = yes\n}\n\nservice b\n{\n\twait = no\n}\n";
        let out = set(text, true);
        assert_eq!(
            out,
            "service a\n{\n\tdisable = no\n}\n\nservice b\n{\n\twait = no\n\tdisable = no\n}\n"
        );
        assert!(is_enabled(out.as_bytes()));
    }

    #[test]
    fn nowhere_to_write_is_an_error() {
        assert!(set_enabled(b"# only a comment\n", true).is_err());
        assert!(set_enabled(b"service a\n{\n wait = no\n", true).is_err());
        assert!(set_enabled(b"defaults\n{\n wait = no\n}\n", true).is_err());
        // A disable line outside any block can still be set.
        assert_eq!(
            set_enabled(b"disable = yes", true).unwrap(),
            b"disable = no"
        );
    }

    proptest! {
        /// Whatever the file, setting a state yields that state, changes nothing when
        /// asked again, and only ever touches disable lines (others survive byte for byte).
        #[test]
        fn set_is_exact_and_idempotent(lines in proptest::collection::vec(
            prop_oneof![
                Just("service s".to_string()), Just("{".to_string()), Just("}".to_string()),
                "[ \t]{0,2}disable[ \t]{0,2}[+-]?=[ \t]{0,2}(yes|no|)[ \t]{0,2}",
                "[ \t]{0,2}[a-z_]{1,8}[ \t]{0,3}=[ \t]{0,2}[a-z]{0,5}",
                "#[ a-z=]{0,10}", Just(String::new()),
            ], 0..14), crlf in any::<bool>(), on in any::<bool>()) {
            let text = lines.join(if crlf { "\r\n" } else { "\n" });
            if let Ok(out) = set_enabled(text.as_bytes(), on) {
                prop_assert_eq!(is_enabled(&out), on);
                prop_assert_eq!(set_enabled(&out, on).unwrap(), out.clone());
                let kept = |t: &[u8]| -> Vec<Vec<u8>> {
                    super::lines(t).iter()
                        .filter(|l| is_comment(l.content) || attribute(l.content).is_none_or(|a| !is_disable(l.content, &a)))
                        .map(|l| l.content.to_vec()).collect()
                };
                prop_assert_eq!(kept(text.as_bytes()), kept(&out));
            }
        }

        #[test]
        fn any_bytes_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), on in any::<bool>()) {
            let _ = is_enabled(&bytes);
            let _ = default_enabled(&bytes);
            let _ = description(&bytes);
            let _ = set_enabled(&bytes, on);
        }
    }
}
