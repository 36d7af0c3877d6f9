//! Errors: typed in each layer, turned into a message and an exit status once, at the
//! edge of a tool (uutils' `UResult`/`UError::code()` is the model).
//!
//! - `format` and `plan` return their own error types (a parse error with its file and
//!   line, a dependency cycle with its path);
//! - `sys` returns [`SysError`]: what it was doing, on which path, and the system's
//!   reason — callers never rebuild "No such file or directory";
//! - a tool's logic returns [`ToolResult`]; its `main` hands the result to [`finish`],
//!   which prints `TOOL: MESSAGE` once and gives the exit status the error carries.

use std::fmt;
use std::io;
use std::path::Path;

/// An error that ends a tool: its message (`Display`) and its exit status.
pub trait ToolError: fmt::Display + fmt::Debug {
    /// The exit status; 1 unless the tool's convention says otherwise.
    fn code(&self) -> i32 {
        1
    }

    /// Whether [`finish`] puts the tool's name in front (`TOOL: MESSAGE`); false for a
    /// classic tool's own wording, printed as it is (see [`Verbatim`]).
    fn named(&self) -> bool {
        true
    }
}

/// What a tool's logic returns: its exit status, or the error that ends it.
pub type ToolResult<T = i32> = Result<T, Box<dyn ToolError>>;

impl<E: ToolError + 'static> From<E> for Box<dyn ToolError> {
    fn from(e: E) -> Box<dyn ToolError> {
        Box::new(e)
    }
}

/// A tool's own failure: a message and the status its users expect (a usage error is
/// 2 for most tools, 3 for start-stop-daemon, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn new(code: i32, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl ToolError for Failure {
    fn code(&self) -> i32 {
        self.code
    }
}

/// A failure told in a classic tool's own words, without the tool's name in front:
/// chkconfig's `service foo does not support chkconfig`, a usage text. A final newline
/// is dropped ([`finish`] ends the line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verbatim {
    pub code: i32,
    pub message: String,
}

impl Verbatim {
    pub fn new(code: i32, message: impl Into<String>) -> Verbatim {
        let mut message = message.into();
        if message.ends_with('\n') {
            message.pop();
        }
        Verbatim { code, message }
    }
}

impl fmt::Display for Verbatim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl ToolError for Verbatim {
    fn code(&self) -> i32 {
        self.code
    }

    fn named(&self) -> bool {
        false
    }
}

/// A failed system operation: on which path (or object), and the system's reason.
/// Displays as `PATH: REASON` (`/etc/inittab: No such file or directory`).
#[derive(Debug)]
pub struct SysError {
    /// The path, or a description of what was being done when no path is involved.
    pub subject: String,
    pub source: io::Error,
}

impl SysError {
    /// An error about `path`.
    pub fn at(path: &Path, source: io::Error) -> SysError {
        SysError {
            subject: path.display().to_string(),
            source,
        }
    }

    /// An error while doing `what` (no path: "cannot read signals").
    pub fn doing(what: impl Into<String>, source: io::Error) -> SysError {
        SysError {
            subject: what.into(),
            source,
        }
    }

    /// The reason alone, without Rust's "(os error N)".
    pub fn reason(&self) -> String {
        describe_io(&self.source)
    }
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subject, self.reason())
    }
}

impl std::error::Error for SysError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl ToolError for SysError {}

/// Attaches a path to an `io::Result` (`fs::read(p).at(p)?`).
pub trait AtPath<T> {
    fn at(self, path: &Path) -> Result<T, SysError>;
}

impl<T> AtPath<T> for io::Result<T> {
    fn at(self, path: &Path) -> Result<T, SysError> {
        self.map_err(|e| SysError::at(path, e))
    }
}

/// An I/O error as a short phrase, without Rust's "(os error N)" suffix.
pub fn describe_io(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => e.to_string(),
    }
}

/// The edge of a tool: prints `TOOL: MESSAGE` for an error, once, and returns the exit
/// status to leave with.
pub fn finish(tool: &str, result: ToolResult) -> i32 {
    match result {
        Ok(status) => status,
        Err(e) if e.named() => {
            eprintln!("{tool}: {e}");
            e.code()
        }
        Err(e) => {
            eprintln!("{e}");
            e.code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_codes_are_decided_once() {
        let missing = std::fs::read("/nonexistent/inittab").at(Path::new("/nonexistent/inittab"));
        let e = missing.unwrap_err();
        assert_eq!(
            e.to_string(),
            "/nonexistent/inittab: No such file or directory"
        );
        assert_eq!(finish("tool", Err(Box::new(e))), 1);
        assert_eq!(finish("tool", Err(Failure::new(3, "bad usage").into())), 3);
        assert_eq!(finish("tool", Ok(0)), 0);
        let usage = Verbatim::new(2, "usage: tool ARG\n");
        assert_eq!(
            (usage.to_string(), usage.named()),
            ("usage: tool ARG".into(), false)
        );
        assert_eq!(finish("tool", Err(usage.into())), 2);
    }
}
