//! `vinit telinit`: asks init, through its control FIFO, to change the runlevel,
//! re-read inittab (`q`), re-execute itself (`u`), run on-demand entries (`a`–`c`), or set
//! `INIT_*` variables (`-e`). The request layout is sysvinit's.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, Parser};

use super::{parse_args_or, Context};
use crate::error::{finish, ToolResult};
use crate::format::initreq::Request;
use crate::sys::initctl::send;

#[derive(Parser, Debug)]
#[command(
    name = "telinit",
    about = "Ask init to change the runlevel, re-read inittab, re-execute or set INIT_* variables",
    long_about = "Sends a request to init through its control FIFO (run/initctl under the \
                  root), in sysvinit's 384-byte layout: Debian's own init reads it too. \
                  Gives up after 3 seconds when init does not read it.",
    after_help = "Requests:\n  0-9        enter that runlevel (0 halts, 6 reboots)\n  S, s       single-user mode\n  Q, q       re-read inittab\n  U, u       re-execute init, keeping its state and children\n  A-C, a-c   run the ondemand entries with that letter"
)]
struct Args {
    /// Work on the system below DIR.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Seconds between SIGTERM and SIGKILL for processes leaving the runlevel.
    #[arg(short = 't', value_name = "SECONDS", default_value_t = 0)]
    sleep: u32,
    /// Set VAR to VAL in init's environment for its children (only INIT_* names; a
    /// bare VAR unsets it). May be given several times.
    #[arg(short = 'e', value_name = "VAR[=VAL]", conflicts_with = "request")]
    env: Vec<String>,
    /// The request: 0-9, S, Q, U, A-C (either case).
    #[arg(value_parser = request_char, required_unless_present = "env")]
    request: Option<char>,
}

fn request_char(word: &str) -> Result<char, String> {
    let mut chars = word.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if "0123456789SsQqUuAaBbCc".contains(c) => Ok(c),
        _ => Err(format!("\"{word}\" is not one of 0-9, S, Q, U, A-C")),
    }
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    // Usage errors exit 1, as sysvinit's telinit does.
    match parse_args_or::<Args>(args, 1) {
        Ok(args) => finish("telinit", run(ctx, args)),
        Err(code) => code,
    }
}

fn run(ctx: &Context, args: Args) -> ToolResult {
    let root = ctx.root(args.root.as_deref());
    send(&root, &request(&args))?;
    Ok(0)
}

fn request(args: &Args) -> Request {
    match args.request {
        Some(level) => Request::Runlevel {
            level,
            sleep_secs: args.sleep,
        },
        None => Request::SetEnv(
            args.env
                .iter()
                .map(|var| match var.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (var.clone(), None),
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(list: &[&str]) -> Result<Request, String> {
        let argv = std::iter::once("telinit").chain(list.iter().copied());
        Args::try_parse_from(argv)
            .map(|a| request(&a))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn requests() {
        assert_eq!(
            p(&["-t", "7", "5"]),
            Ok(Request::Runlevel {
                level: '5',
                sleep_secs: 7
            })
        );
        assert_eq!(
            p(&["-t3", "q"]),
            Ok(Request::Runlevel {
                level: 'q',
                sleep_secs: 3
            })
        );
        assert_eq!(
            p(&["-e", "INIT_A=1", "-e", "INIT_B"]),
            Ok(Request::SetEnv(vec![
                ("INIT_A".into(), Some("1".into())),
                ("INIT_B".into(), None)
            ]))
        );
        for bad in [
            &["x"][..],
            &[],
            &["5", "6"],
            &["-t", "x", "5"],
            &["-e", "A", "5"],
        ] {
            assert!(p(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn root_in_both_forms() {
        for argv in [
            &["telinit", "--root", "/r", "q"][..],
            &["telinit", "--root=/r", "q"],
        ] {
            assert_eq!(
                Args::try_parse_from(argv).unwrap().root,
                Some(PathBuf::from("/r"))
            );
        }
    }
}
