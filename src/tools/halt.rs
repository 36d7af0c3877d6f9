//! `vinit halt`, `reboot`, `poweroff`: outside runlevels 0 and 6 they ask init to shut
//! down (like `shutdown -h now` / `-r now`); inside them (the last step of a shutdown
//! script) or with `-f` they write the wtmp record, sync and call `reboot(2)` directly.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, Parser};

use super::{parse_args_or, Context};
use crate::error::{finish, SysError, ToolResult};
use crate::format::initreq::Request;
use crate::format::utmp::UtmpRecord;
use crate::sys::init::tree::{reboot, HaltAction};
use crate::sys::initctl::{send, SendError};
use crate::sys::layout::Root;

#[derive(Parser, Debug, Default, PartialEq, Eq)]
#[command(
    name = "halt",
    about = "Halt, reboot or power off the machine",
    long_about = "Outside runlevels 0 and 6, asks init to shut down (like shutdown -h now, \
                  or -r now for reboot). Inside them (the last step of a shutdown script) or \
                  with -f, writes the wtmp shutdown record, syncs and calls reboot(2) at \
                  once. The same program as reboot and poweroff."
)]
struct Args {
    /// Work on the system below DIR.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Do not sync before reboot(2).
    #[arg(short = 'n')]
    no_sync: bool,
    /// Only write the wtmp record.
    #[arg(short = 'w')]
    wtmp_only: bool,
    /// Do not write the wtmp record.
    #[arg(short = 'd')]
    no_wtmp: bool,
    /// Force: call reboot(2) now, without init.
    #[arg(short = 'f')]
    force: bool,
    /// Power off instead of halting.
    #[arg(short = 'p')]
    power_off: bool,
}

pub fn command() -> clap::Command {
    Args::command()
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let name = super::program_name(&args, "halt");
    let name = if matches!(name.as_str(), "reboot" | "poweroff") {
        name
    } else {
        "halt".to_string()
    };
    let mut argv = args;
    if let Some(first) = argv.first_mut() {
        *first = OsString::from(&name);
    }
    // Usage errors exit 1, as sysvinit's halt does.
    match parse_args_or::<Args>(argv, 1) {
        Ok(parsed) => finish(&name, run(ctx, &name, parsed)),
        Err(code) => code,
    }
}

fn run(ctx: &Context, name: &str, mut parsed: Args) -> ToolResult {
    parsed.power_off |= name == "poweroff";
    let how = match name {
        "reboot" => HaltAction::Reboot,
        _ if parsed.power_off => HaltAction::PowerOff,
        _ => HaltAction::Halt,
    };
    let root = ctx.root(parsed.root.as_deref());
    if !parsed.force && !parsed.wtmp_only && !in_shutdown_level(&root) {
        ask_init(&root, how)?;
        return Ok(0);
    }
    if !parsed.no_wtmp {
        let record = crate::sys::utmp::stamped(&UtmpRecord::shutdown(0));
        if let Err(e) = crate::sys::utmp::append(&root.wtmp(), &record) {
            // Not worth failing the halt for.
            eprintln!("{name}: {}", SysError::at(&root.wtmp(), e));
        }
    }
    if parsed.wtmp_only {
        return Ok(0);
    }
    if !parsed.no_sync {
        nix::unistd::sync();
    }
    Err(SysError::doing("reboot", reboot(how)).into())
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

fn ask_init(root: &Root, how: HaltAction) -> Result<(), SendError> {
    let (level, halt) = match how {
        HaltAction::Reboot => ('6', None),
        HaltAction::PowerOff => ('0', Some("POWEROFF")),
        HaltAction::Halt => ('0', Some("HALT")),
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
        send(root, &request)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let p = |list: &[&str]| {
            Args::try_parse_from(std::iter::once("halt").chain(list.iter().copied()))
        };
        let a = p(&["-nf", "-p"]).unwrap();
        assert!(a.no_sync && a.force && a.power_off && !a.wtmp_only);
        assert!(p(&["-x"]).is_err());
        assert!(p(&["now"]).is_err());
        assert_eq!(p(&["--root=/r"]).unwrap().root, Some(PathBuf::from("/r")));
    }
}
