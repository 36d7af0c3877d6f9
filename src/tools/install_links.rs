//! `vinit install-links DIR`: a link per tool, so that `DIR/chkconfig` runs vinit's
//! chkconfig. Each link is replaced atomically (an existing link of that name is swapped,
//! never left missing).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Parser;

use super::{parse_args, Context, TOOLS};
use crate::sys::links::replace_symlink;

#[derive(Parser, Debug)]
#[command(
    name = "install-links",
    about = "Create a link named after each tool, pointing at this binary"
)]
struct Args {
    /// Point the links here instead of at the running binary.
    #[arg(long, value_name = "PATH")]
    target: Option<PathBuf>,
    /// List what would be created without creating it.
    #[arg(long)]
    dry_run: bool,
    /// Directory to create the links in.
    dir: PathBuf,
}

pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

pub fn main(_ctx: &Context, args: Vec<OsString>) -> i32 {
    let args: Args = match parse_args(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let target = match args.target.map_or_else(std::env::current_exe, Ok) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "install-links: cannot find this binary: {}",
                crate::sys::describe_io(&e)
            );
            return 1;
        }
    };
    let mut status = 0;
    for tool in TOOLS.iter().filter(|t| t.linked) {
        for name in std::iter::once(tool.name).chain(tool.aliases.iter().copied()) {
            let link = args.dir.join(name);
            if args.dry_run {
                println!("{} -> {}", link.display(), target.display());
                continue;
            }
            if let Err(e) = replace_symlink(&target, &link) {
                eprintln!(
                    "install-links: {}: {}",
                    link.display(),
                    crate::sys::describe_io(&e)
                );
                status = 1;
            }
        }
    }
    status
}
