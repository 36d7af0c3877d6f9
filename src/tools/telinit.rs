//! `vinit telinit`: asks init, through its control FIFO, to change the runlevel,
//! re-read inittab (`q`), re-execute itself (`u`), run on-demand entries (`a`–`c`), or set
//! `INIT_*` variables (`-e`). The request layout is sysvinit's.

use std::ffi::OsString;
use std::path::PathBuf;

use super::Context;
use crate::format::initreq::Request;
use crate::sys::initctl::send;

const USAGE: &str = "Usage: telinit [--root DIR] {-e VAR[=VAL] | [-t SECONDS] {0|1|2|3|4|5|6|7|8|9|S|s|Q|q|A|a|B|b|C|c|U|u}}";

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let (root, request) = match parse(&args[1..]) {
        Ok(v) => v,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return 0;
        }
        Err(msg) => {
            eprintln!("telinit: {msg}\n{USAGE}");
            return 1;
        }
    };
    let root = ctx.root(root.as_deref());
    match send(&root, &request) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("telinit: {e}");
            1
        }
    }
}

fn parse(args: &[OsString]) -> Result<(Option<PathBuf>, Request), String> {
    let mut root = None;
    let mut sleep_secs = 0u32;
    let mut env: Vec<(String, Option<String>)> = Vec::new();
    let mut level = None;
    let mut iter = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--root" => {
                root = Some(PathBuf::from(
                    iter.next().ok_or("--root needs a directory")?,
                ))
            }
            "-t" => {
                let secs = iter.next().ok_or("-t needs a number of seconds")?;
                sleep_secs = secs
                    .parse()
                    .map_err(|_| format!("invalid sleep time \"{secs}\""))?;
            }
            "-e" => {
                let var = iter.next().ok_or("-e needs VAR[=VAL]")?;
                env.push(match var.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (var.clone(), None),
                });
            }
            other
                if other.len() == 1
                    && "0123456789SsQqUuAaBbCc".contains(other)
                    && level.is_none() =>
            {
                level = other.chars().next();
            }
            other => return Err(format!("invalid argument \"{other}\"")),
        }
    }
    match (level, env.is_empty()) {
        (Some(level), true) => Ok((root, Request::Runlevel { level, sleep_secs })),
        (None, false) => Ok((root, Request::SetEnv(env))),
        (Some(_), false) => Err("-e cannot be combined with a runlevel".into()),
        (None, true) => Err("no runlevel given".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(list: &[&str]) -> Result<Request, String> {
        parse(&list.iter().map(OsString::from).collect::<Vec<_>>()).map(|(_, r)| r)
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
            p(&["q"]),
            Ok(Request::Runlevel {
                level: 'q',
                sleep_secs: 0
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
}
