//! `vinit syslogd`: the system log daemon — its command line.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;

use clap::Parser;

use super::{parse_args, Context};
use crate::format::syslog_conf::SYSLOG_PORT;
use crate::sys::layout::{self_exe, Root, ROOT_ENV};
use crate::sys::silence_stdio;
use crate::sys::spawn::{describe_spawn_error, KeepFd, Spawn, Stdio};
use crate::sys::syslogd::{notify_ready, Settings, Syslogd};

/// The descriptor number the readiness pipe has in a self-daemonized syslogd.
const READY_FD: i32 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "syslogd",
    // -h is "forward remote messages" (as in sysklogd): help is --help only.
    disable_help_flag = true,
    about = "System log daemon: receives messages on dev/log (and UDP, and the kernel log) and writes them where etc/syslog.conf says",
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
    /// Internal: the descriptor to report readiness on (set when syslogd detaches).
    #[arg(long, value_name = "FD", hide = true)]
    ready_fd: Option<i32>,
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let original = args.clone();
    let args: Args = match parse_args(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    name_process();
    let root = ctx.root(args.root.as_deref());
    let root = Root::open(std::path::absolute(root.dir()).unwrap_or_else(|_| root.dir().into()));
    if !args.foreground {
        return daemonize(&root, original);
    }
    let settings = settings(&args, &root);
    let mut daemon = match Syslogd::start(settings) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("syslogd: {e}");
            return 1;
        }
    };
    if let Some(fd) = args.ready_fd {
        // SAFETY: the parent handed us this descriptor for this purpose only.
        notify_ready(unsafe { OwnedFd::from_raw_fd(fd) });
        daemon.detached();
        silence_stdio();
        let _ = std::env::set_current_dir("/");
    }
    daemon.run();
    0
}

fn settings(args: &Args, root: &Root) -> Settings {
    let mut udp = args.udp.clone();
    if args.remote {
        udp.push(SocketAddr::from(([0u16; 8], SYSLOG_PORT)));
    }
    let kmsg = root.kmsg();
    Settings {
        root: root.clone(),
        conf: args.conf.clone().unwrap_or_else(|| root.syslog_conf()),
        socket: args.socket.clone().unwrap_or_else(|| root.dev_log()),
        udp,
        kmsg: (!args.no_kernel && kmsg.exists()).then_some(kmsg),
        forward_remote: args.forward_remote,
        pidfile: (!args.no_pidfile).then(|| {
            args.pidfile
                .clone()
                .unwrap_or_else(|| root.pidfile("syslogd"))
        }),
        echo_problems: true,
    }
}

/// `ps` and `vinit daemon --name syslogd` see "syslogd", however it was started.
fn name_process() {
    // SAFETY: PR_SET_NAME copies at most 16 bytes from a NUL-terminated string.
    unsafe { libc::prctl(libc::PR_SET_NAME, c"syslogd".as_ptr()) };
}

/// Starts a detached copy of this syslogd (`-n` and a readiness pipe added) and waits
/// until it listens: errors at startup still reach this terminal, and the exit status
/// says whether the daemon runs.
fn daemonize(root: &Root, original: Vec<OsString>) -> i32 {
    let (reader, writer) = match nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("syslogd: pipe: {}", e.desc());
            return 1;
        }
    };
    let mut spawn = Spawn::new(self_exe());
    spawn.argv0("syslogd");
    spawn.args(original.iter().skip(1));
    spawn.args(["-n", "--ready-fd", &READY_FD.to_string()]);
    for (key, value) in std::env::vars_os() {
        spawn.env(key, value);
    }
    spawn.env(ROOT_ENV, root.dir());
    spawn.new_session = true;
    spawn.detach = true;
    spawn.umask = Some(0o022);
    spawn.stdout = Stdio::Inherit;
    spawn.stderr = Stdio::Inherit;
    spawn.keep_fd = Some(KeepFd {
        source: writer.as_raw_fd(),
        target: READY_FD,
        read_lock: false,
    });
    if let Err(e) = spawn.spawn() {
        eprintln!("syslogd: {}", describe_spawn_error(spawn.program(), &e));
        return 1;
    }
    drop(writer);
    let mut answer = [0u8; 1];
    match nix::unistd::read(&reader, &mut answer) {
        Ok(1) => 0,
        _ => 1,
    }
}
