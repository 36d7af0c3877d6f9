//! `vinit runlevel`: prints the previous and the current runlevel (`N 3` after boot),
//! or `unknown` with exit status 1.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, Parser};

use super::{parse_args_or, Context};

#[derive(Parser, Debug)]
#[command(
    name = "runlevel",
    about = "Print the previous and the current runlevel",
    long_about = "Prints `PREVIOUS CURRENT` (`N` when there was no previous level) from the \
                  RUN_LVL record of utmp, else from run/runlevel and run/prevlevel, which \
                  vinit's init writes; `unknown` and exit status 1 when neither says."
)]
struct Args {
    /// Work on the system below DIR.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Read this utmp file instead of the root's run/utmp.
    utmp: Option<PathBuf>,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let args = match parse_args_or::<Args>(args, 1) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let root = ctx.root(args.root.as_deref());
    let levels = match args.utmp {
        Some(file) => crate::sys::utmp::read_runlevel(&file),
        None => crate::sys::utmp::read_runlevel(&root.utmp()).or_else(|| {
            let read = |p: PathBuf| {
                crate::sys::fs::read_config_text(&p)
                    .ok()?
                    .trim()
                    .chars()
                    .next()
            };
            let current = read(root.runlevel_file())?;
            Some((current, read(root.prevlevel_file()).filter(|c| *c != 'N')))
        }),
    };
    match levels {
        Some((current, previous)) => {
            println!("{} {current}", previous.unwrap_or('N'));
            0
        }
        None => {
            println!("unknown");
            1
        }
    }
}
