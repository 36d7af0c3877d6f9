//! `vinit syslogd`: the system log daemon — its command line.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};

use super::{parse_args, Context};
use crate::error::{SysError, ToolResult};
use crate::format::syslog_conf::SYSLOG_PORT;
use crate::sys::layout::Root;
use crate::sys::runtime::daemonize::{daemonize, Forked};
use crate::sys::syslogd::{Settings, Syslogd};

#[derive(Parser, Debug)]
#[command(
    name = "syslogd",
    // -h is "forward remote messages" (as in sysklogd): help is --help only.
    disable_help_flag = true,
    about = "System log daemon: receives messages on dev/log (and UDP, and the kernel log) and writes them where etc/syslog.conf says",
    long_about = "System log daemon: receives messages on dev/log under the root (and, when asked, on \
                  UDP, and from the kernel log dev/kmsg) and writes each one to the files, FIFOs, \
                  terminals, users and other syslogds that etc/syslog.conf names for its facility \
                  and level. Without -n it goes to the background once it listens; errors at \
                  startup still reach the terminal, and the exit status says whether it runs.",
    after_help = "Signals: HUP reopens every file and reloads the configuration (nothing received is lost); \
                  TERM and INT write out what is queued and exit.\n\
                  Without etc/syslog.conf under the root, an embedded default is used (see the documentation)."
)]
struct Args {
    /// Work on the system below DIR.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Stay in the foreground (for init's respawn).
    #[arg(short = 'n', long = "foreground")]
    foreground: bool,
    /// The configuration file (default: etc/syslog.conf under the root).
    #[arg(short = 'f', value_name = "FILE")]
    conf: Option<PathBuf>,
    /// The local socket (default: dev/log under the root).
    #[arg(short = 'p', value_name = "SOCKET")]
    socket: Option<PathBuf>,
    /// Receive messages from the network on UDP port 514.
    #[arg(short = 'r')]
    remote: bool,
    /// Receive messages from the network on this UDP address (repeatable).
    #[arg(long = "udp", value_name = "ADDR:PORT")]
    udp: Vec<SocketAddr>,
    /// Forward messages received from the network too (they are not, by default).
    #[arg(short = 'h')]
    forward_remote: bool,
    /// Do not read the kernel log (dev/kmsg under the root).
    #[arg(long)]
    no_kernel: bool,
    /// The pidfile (default: run/syslogd.pid under the root).
    #[arg(long, value_name = "FILE", conflicts_with = "no_pidfile")]
    pidfile: Option<PathBuf>,
    /// Write no pidfile.
    #[arg(long)]
    no_pidfile: bool,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
}

/// The command line of `syslogd`: what is parsed, and what the manual page and
/// completions are made from.
pub fn command() -> clap::Command {
    Args::command()
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let args: Args = match parse_args(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    crate::error::finish("syslogd", run(ctx, &args))
}

/// Starts syslogd and runs it until it is stopped. Without `-n` it goes to the
/// background first, and this process waits until the daemon listens: errors at
/// startup still reach the terminal, and the exit status says whether it runs.
fn run(ctx: &Context, args: &Args) -> ToolResult {
    name_process();
    let root = ctx.root(args.root.as_deref());
    let root = Root::open(absolute(root.dir()));
    let settings = settings(args, &root);
    let ready = if args.foreground {
        None
    } else {
        // The daemon's files get the usual modes whatever the caller's umask.
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
        match daemonize().map_err(|e| SysError::doing("cannot go to the background", e))? {
            Forked::Parent(status) => return Ok(status),
            Forked::Child(ready) => Some(ready),
        }
    };
    let mut daemon = Syslogd::start(settings)?;
    if let Some(ready) = ready {
        daemon.detached();
        ready.done();
    }
    daemon.run();
    Ok(0)
}

/// The daemon leaves its working directory for `/`: paths become absolute first.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn settings(args: &Args, root: &Root) -> Settings {
    let mut udp = args.udp.clone();
    if args.remote {
        udp.push(SocketAddr::from(([0u16; 8], SYSLOG_PORT)));
    }
    let kmsg = root.kmsg();
    Settings {
        root: root.clone(),
        conf: args
            .conf
            .as_deref()
            .map_or_else(|| root.syslog_conf(), absolute),
        socket: args
            .socket
            .as_deref()
            .map_or_else(|| root.dev_log(), absolute),
        udp,
        kmsg: (!args.no_kernel && kmsg.exists()).then_some(kmsg),
        forward_remote: args.forward_remote,
        pidfile: (!args.no_pidfile).then(|| {
            args.pidfile
                .as_deref()
                .map_or_else(|| root.pidfile("syslogd"), absolute)
        }),
        echo_problems: true,
    }
}

/// `ps` and `vinit daemon --name syslogd` see "syslogd", however it was started.
fn name_process() {
    // SAFETY: PR_SET_NAME copies at most 16 bytes from a NUL-terminated string.
    unsafe { libc::prctl(libc::PR_SET_NAME, c"syslogd".as_ptr()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every option `command()` declares is taken by the parser `main` uses, in each
    /// of its spellings (`--root DIR` and `--root=DIR` alike).
    #[test]
    fn every_declared_option_is_accepted() {
        let value = |arg: &clap::Arg| match arg.get_id().as_str() {
            "udp" => "127.0.0.1:514".to_string(),
            _ => "/x".to_string(),
        };
        let spellings = super::super::option_spellings(&command(), value);
        for argv in &spellings {
            let parsed = Args::try_parse_from(
                std::iter::once("syslogd").chain(argv.iter().map(String::as_str)),
            );
            match parsed {
                Ok(_) => {}
                Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {}
                Err(e) => panic!("{argv:?}: {e}"),
            }
        }
        let checked = spellings.len();
        assert!(checked >= 10, "{checked} spellings");
        let parsed = Args::try_parse_from(["syslogd", "--root=/r", "-n"]).unwrap();
        assert_eq!(parsed.root, Some(PathBuf::from("/r")));
        // -h forwards remote messages, as in sysklogd; help is --help alone.
        assert!(
            Args::try_parse_from(["syslogd", "-h"])
                .unwrap()
                .forward_remote
        );
    }
}
