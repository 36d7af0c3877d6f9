//! `vinit runlevel`: prints the previous and the current runlevel (`N 3` after boot),
//! or `unknown` with exit status 1.

use std::ffi::OsString;
use std::path::PathBuf;

use super::Context;

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let mut root = None;
    let mut utmp = None;
    let mut iter = args.into_iter().skip(1);
    while let Some(arg) = iter.next() {
        match arg.to_str() {
            Some("-h" | "--help") => {
                println!("Usage: runlevel [--root DIR] [UTMP]");
                return 0;
            }
            Some("--root") => match iter.next() {
                Some(dir) => root = Some(PathBuf::from(dir)),
                None => {
                    eprintln!("runlevel: --root needs a directory");
                    return 1;
                }
            },
            _ => utmp = Some(PathBuf::from(arg)),
        }
    }
    let root = ctx.root(root.as_deref());
    let levels = match utmp {
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
