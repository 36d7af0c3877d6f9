//! One module per tool: its command line and its output, nothing else. The behaviour
//! lives in `format`, `plan` and `sys` below.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::sys::layout::Root;

pub(crate) mod chkconfig;
pub(crate) mod daemon;
pub(crate) mod halt;
pub(crate) mod init;
pub(crate) mod install_links;
pub(crate) mod logger;
pub(crate) mod ntsysv;
pub(crate) mod rc;
pub(crate) mod runlevel;
pub(crate) mod service;
pub(crate) mod shutdown;
pub(crate) mod syslogd;
pub(crate) mod telinit;
pub(crate) mod update_rc_d;
pub(crate) mod xinetd;

/// What the dispatcher knows before a tool parses its own arguments.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// `--root` given before the tool name (`vinit --root DIR rc 3`).
    pub(crate) global_root: Option<PathBuf>,
}

impl Context {
    /// The root a tool works on: its own `--root`, else the global one, else
    /// `VINIT_ROOT`, else `/`.
    pub(crate) fn root(&self, own: Option<&Path>) -> Root {
        Root::from_option(own.or(self.global_root.as_deref()))
    }
}

/// A tool of the multi-call binary.
pub struct Tool {
    pub name: &'static str,
    /// Other names that run the same tool (`inetd` for `xinetd`).
    pub aliases: &'static [&'static str],
    /// Whether `install-links` makes a link with this name.
    pub linked: bool,
    /// A filter-like tool that a closed output pipe ends, like the C tool it replaces
    /// (`chkconfig --list | head`); false for init, the daemons and what runs services.
    pub(crate) piped: bool,
    /// Runs the tool; `args[0]` is the name it was called by. Returns the exit status.
    pub(crate) run: fn(&Context, Vec<OsString>) -> i32,
    /// Its command line, defined once: help, man page and completions come from it.
    pub command: fn() -> clap::Command,
}

/// Every tool, in the order `vinit --help` lists them.
pub const TOOLS: &[Tool] = &[
    Tool {
        name: "init",
        aliases: &[],
        linked: true,
        piped: false,
        run: init::main,
        command: init::command,
    },
    Tool {
        name: "telinit",
        aliases: &[],
        linked: true,
        piped: true,
        run: telinit::main,
        command: telinit::command,
    },
    Tool {
        name: "shutdown",
        aliases: &[],
        linked: true,
        piped: true,
        run: shutdown::main,
        command: shutdown::command,
    },
    Tool {
        name: "halt",
        aliases: &["reboot", "poweroff"],
        linked: true,
        piped: true,
        run: halt::main,
        command: halt::command,
    },
    Tool {
        name: "runlevel",
        aliases: &[],
        linked: true,
        piped: true,
        run: runlevel::main,
        command: runlevel::command,
    },
    Tool {
        name: "rc",
        aliases: &[],
        linked: false,
        piped: false,
        run: rc::main,
        command: rc::command,
    },
    Tool {
        name: "chkconfig",
        aliases: &[],
        linked: true,
        piped: true,
        run: chkconfig::main,
        command: chkconfig::command,
    },
    Tool {
        name: "ntsysv",
        aliases: &[],
        linked: true,
        piped: true,
        run: ntsysv::main,
        command: ntsysv::command,
    },
    Tool {
        name: "update-rc.d",
        aliases: &[],
        linked: true,
        piped: true,
        run: update_rc_d::main,
        command: update_rc_d::command,
    },
    Tool {
        name: "service",
        aliases: &[],
        linked: true,
        piped: true,
        run: service::main,
        command: service::command,
    },
    Tool {
        name: "syslogd",
        aliases: &[],
        linked: true,
        piped: false,
        run: syslogd::main,
        command: syslogd::command,
    },
    Tool {
        name: "logger",
        aliases: &[],
        linked: true,
        piped: false,
        run: logger::main,
        command: logger::command,
    },
    Tool {
        name: "daemon",
        aliases: &["start-stop-daemon"],
        linked: true,
        piped: false,
        run: daemon::main,
        command: daemon::command,
    },
    Tool {
        name: "xinetd",
        aliases: &["inetd"],
        linked: true,
        piped: false,
        run: xinetd::main,
        command: xinetd::command,
    },
    Tool {
        name: "install-links",
        aliases: &[],
        linked: false,
        piped: true,
        run: install_links::main,
        command: install_links::command,
    },
];

/// The name a tool was called by: the last component of `args[0]` (`/sbin/reboot` →
/// `reboot`), or `default` when there is none.
pub(crate) fn program_name(args: &[OsString], default: &str) -> String {
    args.first()
        .and_then(|a| Path::new(a).file_name())
        .map_or_else(|| default.to_string(), |n| n.to_string_lossy().into_owned())
}

pub(crate) fn find(name: &str) -> Option<&'static Tool> {
    TOOLS
        .iter()
        .find(|t| t.name == name || t.aliases.contains(&name))
}

/// Parses a clap command line; on `--help`/`--version` or a usage error, prints what clap
/// prints and returns the exit status to use (0, or 2 for usage errors).
pub(crate) fn parse_args<P: clap::Parser>(args: Vec<OsString>) -> Result<P, i32> {
    parse_args_or(args, 2)
}

/// [`parse_args`] for a tool whose usage errors exit with `usage_status` (sysvinit's
/// tools exit 1).
pub(crate) fn parse_args_or<P: clap::Parser>(
    args: Vec<OsString>,
    usage_status: i32,
) -> Result<P, i32> {
    P::try_parse_from(args).map_err(|e| {
        let _ = e.print();
        if e.use_stderr() {
            usage_status
        } else {
            0
        }
    })
}

/// The words of generated command lines (a proptest pattern): options of the classic
/// tools, with and without `=VALUE`, misspelt ones, names, paths, `-` and `--`.
#[cfg(test)]
pub(crate) const COMMAND_WORDS: &str = "(--?(list|add|del|override|level|levels|type|root|json|no-redirect|help|version|back|hide|status-all|full-restart|h|f|v|V|x)(=[a-z0-9/]{0,3})?|[a-z0-9./-]{0,6}|-|--)";

/// A command line for tests: `tool` then `words`.
#[cfg(test)]
pub(crate) fn argv(tool: &str, words: &[&str]) -> Vec<OsString> {
    std::iter::once(tool)
        .chain(words.iter().copied())
        .map(OsString::from)
        .collect()
}

/// Every way to write each option a tool's `command()` declares: `--long` and its
/// aliases, `-s`, and for an option with a value `--long VALUE`, `--long=VALUE`,
/// `-s VALUE` (the value from `value`). A tool's test checks that the parser its `main`
/// uses takes them all.
#[cfg(test)]
pub(crate) fn option_spellings(
    cmd: &clap::Command,
    value: impl Fn(&clap::Arg) -> String,
) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for arg in cmd.get_arguments().filter(|a| !a.is_positional()) {
        let value = arg.get_action().takes_values().then(|| value(arg));
        let with_value = |flag: String| std::iter::once(flag).chain(value.clone()).collect();
        let longs = arg
            .get_long()
            .into_iter()
            .chain(arg.get_all_aliases().unwrap_or_default());
        for long in longs {
            out.push(with_value(format!("--{long}")));
            if let Some(v) = &value {
                out.push(vec![format!("--{long}={v}")]);
            }
        }
        if let Some(short) = arg.get_short() {
            out.push(with_value(format!("-{short}")));
        }
    }
    out
}

/// Calls `check` with every spelling of every option of `cmd` (see [`option_spellings`];
/// a value is the first possible value, else `2`). Checks `cmd` itself too, and that it
/// declares at least `at_least` spellings.
#[cfg(test)]
pub(crate) fn each_option_spelling(cmd: clap::Command, at_least: usize, check: impl Fn(&[&str])) {
    cmd.clone().debug_assert();
    let spellings = option_spellings(&cmd, |arg| {
        arg.get_possible_values()
            .first()
            .map_or_else(|| "2".to_string(), |v| v.get_name().to_string())
    });
    for words in &spellings {
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        check(&words);
    }
    assert!(
        spellings.len() >= at_least,
        "{} declares {} spellings",
        cmd.get_name(),
        spellings.len()
    );
}
