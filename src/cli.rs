//! The multi-call entry point: `vinit TOOL args…`, or a link named `TOOL`.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::tools::{self, Context};

/// Runs the tool named by `argv[0]` or, for `vinit` itself, by the first argument.
/// Returns the exit status.
pub fn main(args: Vec<OsString>) -> i32 {
    crate::sys::nss::use_built_in_sources();
    let called_as = tools::program_name(&args, "");
    if let Some(tool) = tools::find(&called_as) {
        return run(tool, &Context::default(), args);
    }
    dispatch(args.into_iter().skip(1).collect())
}

fn run(tool: &tools::Tool, ctx: &Context, args: Vec<OsString>) -> i32 {
    if tool.piped {
        crate::sys::runtime::signals::end_on_closed_pipe();
    }
    (tool.run)(ctx, args)
}

/// `vinit [--root DIR] TOOL args…`
fn dispatch(mut rest: Vec<OsString>) -> i32 {
    let mut ctx = Context::default();
    loop {
        let Some(first) = rest.first().map(|a| a.to_string_lossy().into_owned()) else {
            eprint!("{}", usage());
            return 2;
        };
        match first.as_str() {
            "-h" | "--help" | "help" => {
                crate::sys::runtime::signals::end_on_closed_pipe();
                print!("{}", usage());
                return 0;
            }
            "-V" | "--version" => {
                println!("vinit {}", env!("CARGO_PKG_VERSION"));
                return 0;
            }
            "--root" => {
                if rest.len() < 2 {
                    eprintln!("vinit: --root needs a directory");
                    return 2;
                }
                ctx.global_root = Some(PathBuf::from(rest.remove(1)));
                rest.remove(0);
            }
            _ if first.starts_with("--root=") => {
                ctx.global_root = Some(PathBuf::from(&first["--root=".len()..]));
                rest.remove(0);
            }
            _ if first.starts_with('-') => {
                eprintln!("vinit: unknown option '{first}' (see 'vinit --help')");
                return 2;
            }
            name => {
                return match tools::find(name) {
                    Some(tool) => run(tool, &ctx, rest),
                    None => {
                        eprintln!("vinit: unknown tool '{name}' (see 'vinit --help' for the list)");
                        2
                    }
                };
            }
        }
    }
}

/// The whole binary as one command line: `vinit [--root DIR] TOOL ...`, each tool a
/// subcommand with its own definition. Man pages and shell completions are generated
/// from it (tests/generated.rs); the dispatcher itself stays a few lines of matching, so
/// that a link named after a tool costs nothing to start.
pub fn command() -> clap::Command {
    let tools = tools::TOOLS.iter().map(|tool| {
        (tool.command)()
            .name(tool.name)
            .visible_aliases(tool.aliases.iter().copied())
    });
    clap::Command::new("vinit")
        .version(env!("CARGO_PKG_VERSION"))
        .about("A SysV-style init system and service manager")
        .long_about(
            "One multi-call binary: `vinit TOOL ARGS...`, or a link named after the tool \
             (`vinit install-links DIR` makes them). Every tool works on a root directory: \
             its own --root DIR, else the one given before the tool's name, else \
             $VINIT_ROOT, else /.",
        )
        .arg(
            clap::Arg::new("root")
                .long("root")
                .value_name("DIR")
                .global(false)
                .help("Work on the system below DIR (default: $VINIT_ROOT, else /)"),
        )
        .subcommand_required(true)
        .subcommands(tools)
}

fn usage() -> String {
    let mut out = format!(
        "vinit {} - a SysV-style init system and service manager\n\n\
         Usage: vinit [--root DIR] TOOL [ARGS...]\n       TOOL [ARGS...]   (through a link named after the tool)\n\n\
         Tools:\n",
        env!("CARGO_PKG_VERSION")
    );
    for tool in tools::TOOLS {
        let mut name = tool.name.to_string();
        for alias in tool.aliases {
            name.push_str(", ");
            name.push_str(alias);
        }
        let about = (tool.command)()
            .get_about()
            .map(|a| a.to_string())
            .unwrap_or_default();
        if name.len() > 15 {
            out.push_str(&format!("  {name}\n  {:15} {about}\n", ""));
        } else {
            out.push_str(&format!("  {name:<15} {about}\n"));
        }
    }
    out.push_str(
        "\nOptions:\n  --root DIR       work on the system below DIR (default: $VINIT_ROOT, else /)\n  \
         -h, --help       this list\n  -V, --version    the version\n\n\
         'vinit TOOL --help' describes a tool.\n",
    );
    out
}
