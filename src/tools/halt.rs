//! `vinit halt`, `reboot`, `poweroff`: outside runlevels 0 and 6 they ask init to shut
//! down (like `shutdown -h now` / `-r now`); inside them (the last step of a shutdown
//! script) or with `-f` they write the wtmp record, sync and call `reboot(2)` directly.

use std::ffi::OsString;
use std::path::PathBuf;

use super::Context;
use crate::format::initreq::Request;
use crate::format::utmp::UtmpRecord;
use crate::sys::init::tree::{reboot, Halt};
use crate::sys::layout::Root;

#[derive(Debug, Default, PartialEq, Eq)]
struct Args {
    root: Option<PathBuf>,
    no_sync: bool,
    wtmp_only: bool,
    no_wtmp: bool,
    force: bool,
    power_off: bool,
}

fn usage(name: &str) -> String {
    format!(
        "Usage: {name} [--root DIR] [-n] [-w] [-d] [-f]{}\n  \
         -n  do not sync before reboot(2)\n  \
         -w  only write the wtmp record\n  \
         -d  do not write the wtmp record\n  \
         -f  force: call reboot(2) now, without init{}",
        if name == "halt" { " [-p]" } else { "" },
        if name == "halt" {
            "\n  -p  power off instead of halting"
        } else {
            ""
        }
    )
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let name = super::program_name(&args, "halt");
    let name = if matches!(name.as_str(), "reboot" | "poweroff") {
        name
    } else {
        "halt".to_string()
    };
    let mut parsed = match parse(&args[1..]) {
        Ok(a) => a,
        Err(msg) if msg.is_empty() => {
            println!("{}", usage(&name));
            return 0;
        }
        Err(msg) => {
            eprintln!("{name}: {msg}\n{}", usage(&name));
            return 1;
        }
    };
    parsed.power_off |= name == "poweroff";
    let how = match name.as_str() {
        "reboot" => Halt::Reboot,
        _ if parsed.power_off => Halt::PowerOff,
        _ => Halt::Halt,
    };
    let root = ctx.root(parsed.root.as_deref());
    if !parsed.force && !parsed.wtmp_only && !in_shutdown_level(&root) {
        return ask_init(&root, &name, how);
    }
    if !parsed.no_wtmp {
        if let Err(e) = crate::sys::utmp::append(
            &root.wtmp(),
            &crate::sys::utmp::stamped(&UtmpRecord::shutdown(0)),
        ) {
            eprintln!(
                "{name}: {}: {}",
                root.wtmp().display(),
                crate::sys::describe_io(&e)
            );
        }
    }
    if parsed.wtmp_only {
        return 0;
    }
    if !parsed.no_sync {
        nix::unistd::sync();
    }
    let e = reboot(how);
    eprintln!("{name}: {}", crate::sys::describe_io(&e));
    1
}

fn parse(args: &[OsString]) -> Result<Args, String> {
    let mut out = Args::default();
    let mut iter = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--help" => return Err(String::new()),
            "--root" => {
                out.root = Some(PathBuf::from(
                    iter.next().ok_or("--root needs a directory")?,
                ))
            }
            flags if flags.starts_with('-') && flags.len() > 1 => {
                for flag in flags[1..].chars() {
                    match flag {
                        'n' => out.no_sync = true,
                        'w' => out.wtmp_only = true,
                        'd' => out.no_wtmp = true,
                        'f' => out.force = true,
                        'p' => out.power_off = true,
                        _ => return Err(format!("invalid option -{flag}")),
                    }
                }
            }
            other => return Err(format!("invalid argument \"{other}\"")),
        }
    }
    Ok(out)
}

/// Whether init is already in runlevel 0 or 6 (this is then the final step).
fn in_shutdown_level(root: &Root) -> bool {
    let current = crate::sys::utmp::read_runlevel(&root.utmp())
        .map(|(c, _)| c)
        .or_else(|| {
            crate::sys::fs::read_config_text(&root.runlevel_file())
                .ok()?
                .trim()
                .chars()
                .next()
        });
    matches!(current, Some('0' | '6'))
}

fn ask_init(root: &Root, name: &str, how: Halt) -> i32 {
    let (level, halt) = match how {
        Halt::Reboot => ('6', None),
        Halt::PowerOff => ('0', Some("POWEROFF")),
        Halt::Halt => ('0', Some("HALT")),
    };
    let mut requests = Vec::new();
    if let Some(value) = halt {
        requests.push(Request::SetEnv(vec![(
            "INIT_HALT".into(),
            Some(value.into()),
        )]));
    }
    requests.push(Request::Runlevel {
        level,
        sleep_secs: 0,
    });
    for request in requests {
        if let Err(e) = crate::sys::initctl::send(root, &request) {
            eprintln!("{name}: {e}");
            return 1;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let a = parse(&["-nf".into(), "-p".into()]).unwrap();
        assert!(a.no_sync && a.force && a.power_off && !a.wtmp_only);
        assert!(parse(&["-x".into()]).is_err());
        assert!(parse(&["now".into()]).is_err());
    }
}
