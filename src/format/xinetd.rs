//! The syntax of `xinetd.conf` and the files of `xinetd.d`: `defaults` and `service NAME`
//! blocks of `attribute OP value…` lines, `include FILE` and `includedir DIR`.
//!
//! ```text
//! defaults
//! {
//!     instances = 60
//! }
//! includedir /etc/xinetd.d
//! service echo
//! {
//!     type        = INTERNAL
//!     only_from  += 10.0.0.0/8
//! }
//! ```
//!
//! This module only splits the text; what an attribute means is decided in
//! `plan::superserver`. Every attribute keeps the file and line it came from, so that
//! any later error can name them. `{` may stand on the line of its keyword or alone on
//! the next line; `#` starts a comment when it is the first character of a line (after
//! blanks) or of a word.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where something was written: a file and a line (1-based).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

impl Origin {
    pub(crate) fn new(file: impl Into<PathBuf>, line: usize) -> Origin {
        Origin {
            file: file.into(),
            line,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// The assignment operator of an attribute line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// `=`
    Set,
    /// `+=`
    Add,
    /// `-=`
    Remove,
}

impl Op {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Op::Set => "=",
            Op::Add => "+=",
            Op::Remove => "-=",
        }
    }
}

/// `name OP value value…`
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Attribute {
    pub name: String,
    pub op: Op,
    pub values: Vec<String>,
    pub at: Origin,
}

/// The attribute lines between `{` and `}`; `at` is the line of the keyword.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Block {
    pub at: Origin,
    pub attributes: Vec<Attribute>,
}

/// One top-level entry of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Item {
    Defaults(Block),
    Service { name: String, block: Block },
    Include { path: String, at: Origin },
    IncludeDir { path: String, at: Origin },
}

/// A file that cannot be read as xinetd configuration at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub at: Origin,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// Whether `includedir` reads a file of this name: not hidden, no `.` anywhere (which
/// skips `.rpmnew`, `.dpkg-old`, `.swp`) and no editor backup `~`.
pub(crate) fn include_dir_wants(name: &str) -> bool {
    !name.is_empty() && !name.contains('.') && !name.ends_with('~')
}

/// Splits one file into its entries. `file` is only used to name origins.
pub(crate) fn parse(file: &Path, text: &str) -> Result<Vec<Item>, SyntaxError> {
    let mut parser = Parser {
        file,
        lines: text.lines().enumerate(),
    };
    parser.items()
}

struct Parser<'a, I: Iterator<Item = (usize, &'a str)>> {
    file: &'a Path,
    lines: I,
}

/// The words of a line up to a comment.
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace()
        .take_while(|w| !w.starts_with('#'))
        .collect()
}

impl<'a, I: Iterator<Item = (usize, &'a str)>> Parser<'a, I> {
    fn origin(&self, index: usize) -> Origin {
        Origin::new(self.file, index + 1)
    }

    fn error(&self, index: usize, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            at: self.origin(index),
            message: message.into(),
        }
    }

    /// The next line with something on it, as (index, words).
    fn next_words(&mut self) -> Option<(usize, Vec<&'a str>)> {
        for (index, line) in self.lines.by_ref() {
            let w = words(line);
            if !w.is_empty() {
                return Some((index, w));
            }
        }
        None
    }

    fn items(&mut self) -> Result<Vec<Item>, SyntaxError> {
        let mut items = Vec::new();
        while let Some((index, w)) = self.next_words() {
            items.push(self.item(index, &w)?);
        }
        Ok(items)
    }

    fn item(&mut self, index: usize, w: &[&'a str]) -> Result<Item, SyntaxError> {
        let at = self.origin(index);
        match w[0] {
            "service" => {
                let (name, brace) = match w {
                    [_, name] => (*name, false),
                    [_, name, "{"] => (*name, true),
                    [_] => return Err(self.error(index, "service name missing")),
                    _ => {
                        return Err(self.error(
                            index,
                            format!("expected 'service NAME', found '{}'", w.join(" ")),
                        ))
                    }
                };
                let what = format!("service {name}");
                let block = self.block(at, brace, &what)?;
                Ok(Item::Service {
                    name: name.to_string(),
                    block,
                })
            }
            "defaults" => {
                let brace = match w {
                    [_] => false,
                    [_, "{"] => true,
                    _ => return Err(self.error(index, "'defaults' takes no argument")),
                };
                Ok(Item::Defaults(self.block(at, brace, "defaults")?))
            }
            "include" | "includedir" => match w {
                [kw, path] => Ok(if *kw == "include" {
                    Item::Include {
                        path: path.to_string(),
                        at,
                    }
                } else {
                    Item::IncludeDir {
                        path: path.to_string(),
                        at,
                    }
                }),
                [kw] => Err(self.error(index, format!("'{kw}' needs a path"))),
                [kw, ..] => Err(self.error(index, format!("'{kw}' takes exactly one path"))),
                [] => Err(self.error(index, "empty line")),
            },
            "}" => Err(self.error(index, "'}' without an opening 'service' or 'defaults'")),
            "{" => Err(self.error(index, "'{' without 'service NAME' or 'defaults' before it")),
            other => Err(self.error(
                index,
                format!(
                    "expected 'service', 'defaults', 'include' or 'includedir', found '{other}'"
                ),
            )),
        }
    }

    fn block(&mut self, at: Origin, mut open: bool, what: &str) -> Result<Block, SyntaxError> {
        let mut attributes = Vec::new();
        loop {
            let Some((index, w)) = self.next_words() else {
                return Err(SyntaxError {
                    at,
                    message: if open {
                        format!("{what}: missing '}}' (the file ends inside the block)")
                    } else {
                        format!("{what}: missing '{{'")
                    },
                });
            };
            if !open {
                if w != ["{"] {
                    return Err(
                        self.error(index, format!("{what}: expected '{{' on the line after it"))
                    );
                }
                open = true;
                continue;
            }
            if w == ["}"] {
                return Ok(Block { at, attributes });
            }
            attributes.push(self.attribute(index, &w, what)?);
        }
    }

    fn attribute(&self, index: usize, w: &[&str], what: &str) -> Result<Attribute, SyntaxError> {
        let joined = w.join(" ");
        let name_len = joined
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(joined.len());
        let (name, rest) = joined.split_at(name_len);
        if name.is_empty() {
            return Err(self.error(
                index,
                format!("{what}: expected 'attribute = value', found '{joined}'"),
            ));
        }
        let rest = rest.trim_start();
        let (op, values) = if let Some(v) = rest.strip_prefix("+=") {
            (Op::Add, v)
        } else if let Some(v) = rest.strip_prefix("-=") {
            (Op::Remove, v)
        } else if let Some(v) = rest.strip_prefix('=') {
            (Op::Set, v)
        } else if rest.starts_with('}') || rest.starts_with('{') {
            return Err(self.error(
                index,
                format!("{what}: '{{' and '}}' must stand alone on their line"),
            ));
        } else {
            return Err(self.error(
                index,
                format!("{what}: attribute '{name}' has no '=', '+=' or '-='"),
            ));
        };
        if w.iter().any(|v| *v == "{" || *v == "}") {
            return Err(self.error(
                index,
                format!("{what}: '{{' and '}}' must stand alone on their line"),
            ));
        }
        Ok(Attribute {
            name: name.to_string(),
            op,
            values: values.split_whitespace().map(str::to_string).collect(),
            at: self.origin(index),
        })
    }
}

/// Writes items back as text (the property tests' round trip). Parsing the result
/// gives the same items, origins aside.
#[cfg(test)]
pub(crate) fn render(items: &[Item]) -> String {
    let mut out = String::new();
    let block = |out: &mut String, block: &Block| {
        out.push_str("{\n");
        for a in &block.attributes {
            out.push_str(&format!(
                "\t{} {} {}\n",
                a.name,
                a.op.as_str(),
                a.values.join(" ")
            ));
        }
        out.push_str("}\n");
    };
    for item in items {
        match item {
            Item::Defaults(b) => {
                out.push_str("defaults\n");
                block(&mut out, b);
            }
            Item::Service { name, block: b } => {
                out.push_str(&format!("service {name}\n"));
                block(&mut out, b);
            }
            Item::Include { path, .. } => out.push_str(&format!("include {path}\n")),
            Item::IncludeDir { path, .. } => out.push_str(&format!("includedir {path}\n")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(text: &str) -> Result<Vec<Item>, SyntaxError> {
        parse(Path::new("x.conf"), text)
    }

    #[test]
    fn blocks_attributes_and_directives() {
        let text = "\
# comment
defaults
{
\tinstances = 60
\tlog_on_success += PID HOST   # trailing comment
}

includedir /etc/xinetd.d
include /etc/other
service echo {
  disable=yes
  only_from -= 10.0.0.0/8
  server_args =
}
";
        let items = p(text).unwrap();
        assert_eq!(items.len(), 4);
        let Item::Defaults(d) = &items[0] else {
            panic!()
        };
        assert_eq!(d.at, Origin::new("x.conf", 2));
        assert_eq!(d.attributes[0].name, "instances");
        assert_eq!(d.attributes[0].values, ["60"]);
        assert_eq!(d.attributes[1].op, Op::Add);
        assert_eq!(d.attributes[1].values, ["PID", "HOST"]);
        assert_eq!(d.attributes[1].at.line, 5);
        assert!(
            matches!(&items[1], Item::IncludeDir { path, at } if path == "/etc/xinetd.d" && at.line == 8)
        );
        assert!(matches!(&items[2], Item::Include { path, .. } if path == "/etc/other"));
        let Item::Service { name, block } = &items[3] else {
            panic!()
        };
        assert_eq!(name, "echo");
        assert_eq!(block.attributes[0].name, "disable");
        assert_eq!(block.attributes[0].values, ["yes"]);
        assert_eq!(block.attributes[1].op, Op::Remove);
        assert!(block.attributes[2].values.is_empty());
        assert_eq!(block.attributes[2].at.to_string(), "x.conf:13");
    }

    #[test]
    fn structural_errors_name_the_line() {
        let cases = [
            ("service\n{\n}\n", 1, "service name missing"),
            ("service a\n}\n", 2, "expected '{'"),
            ("service a\n{\n disable = no\n", 1, "missing '}'"),
            ("service a\n", 1, "missing '{'"),
            ("}\n", 1, "without an opening"),
            ("servce a\n{\n}\n", 1, "found 'servce'"),
            ("service a\n{\n wait yes\n}\n", 3, "has no '='"),
            (
                "service a\n{\n = yes\n}\n",
                3,
                "expected 'attribute = value'",
            ),
            ("service a\n{\n wait = no }\n}\n", 3, "must stand alone"),
            ("includedir\n", 1, "needs a path"),
            ("defaults x\n", 1, "takes no argument"),
        ];
        for (text, line, what) in cases {
            let e = p(text).unwrap_err();
            assert_eq!(e.at.line, line, "{text:?}: {e}");
            assert!(e.message.contains(what), "{text:?}: {e}");
        }
    }

    #[test]
    fn include_dir_names() {
        for ok in ["echo", "chargen-udp", "a_b"] {
            assert!(include_dir_wants(ok), "{ok}");
        }
        for skipped in ["echo~", "echo.rpmnew", ".hidden", "a.b", ""] {
            assert!(!include_dir_wants(skipped), "{skipped}");
        }
    }

    fn arb_attribute() -> impl Strategy<Value = (String, Op, Vec<String>)> {
        (
            "[a-z_]{1,12}",
            prop_oneof![Just(Op::Set), Just(Op::Add), Just(Op::Remove)],
            proptest::collection::vec("[A-Za-z0-9./:=_-]{1,10}", 0..4),
        )
    }

    fn arb_block() -> impl Strategy<Value = Block> {
        proptest::collection::vec(arb_attribute(), 0..5).prop_map(|attrs| Block {
            at: Origin::new("f", 0),
            attributes: attrs
                .into_iter()
                .map(|(name, op, values)| Attribute {
                    name,
                    op,
                    values,
                    at: Origin::new("f", 0),
                })
                .collect(),
        })
    }

    fn arb_item() -> impl Strategy<Value = Item> {
        prop_oneof![
            arb_block().prop_map(Item::Defaults),
            ("[a-z][a-z0-9-]{0,8}", arb_block())
                .prop_map(|(name, block)| Item::Service { name, block }),
            "/[a-z/]{1,10}".prop_map(|path| Item::Include {
                path,
                at: Origin::new("f", 0)
            }),
            "/[a-z/]{1,10}".prop_map(|path| Item::IncludeDir {
                path,
                at: Origin::new("f", 0)
            }),
        ]
    }

    fn strip_origins(items: Vec<Item>) -> Vec<Item> {
        let zero = |b: Block| Block {
            at: Origin::new("f", 0),
            attributes: b
                .attributes
                .into_iter()
                .map(|a| Attribute {
                    at: Origin::new("f", 0),
                    ..a
                })
                .collect(),
        };
        items
            .into_iter()
            .map(|i| match i {
                Item::Defaults(b) => Item::Defaults(zero(b)),
                Item::Service { name, block } => Item::Service {
                    name,
                    block: zero(block),
                },
                Item::Include { path, .. } => Item::Include {
                    path,
                    at: Origin::new("f", 0),
                },
                Item::IncludeDir { path, .. } => Item::IncludeDir {
                    path,
                    at: Origin::new("f", 0),
                },
            })
            .collect()
    }

    proptest! {
        #[test]
        fn never_panics(text in "(\\PC{0,30}\n){0,12}") {
            let _ = p(&text);
        }

        #[test]
        fn never_panics_on_near_miss_configs(
            lines in proptest::collection::vec(
                prop_oneof![
                    Just("service x".to_string()),
                    Just("defaults".to_string()),
                    Just("{".to_string()),
                    Just("}".to_string()),
                    Just("includedir /d".to_string()),
                    "[a-z_]{0,6} ?[-+]?=? ?[a-z0-9 ]{0,8}",
                    Just("# c".to_string()),
                    Just(String::new()),
                ],
                0..20,
            )
        ) {
            let text = lines.join("\n");
            if let Err(e) = p(&text) {
                prop_assert!(e.at.line >= 1 && e.at.line <= lines.len().max(1));
            }
        }

        #[test]
        fn render_then_parse_round_trips(items in proptest::collection::vec(arb_item(), 0..6)) {
            let text = render(&items);
            let parsed = p(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(strip_origins(parsed), items);
        }
    }
}
