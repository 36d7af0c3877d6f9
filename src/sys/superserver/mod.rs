//! The superserver (`xinetd`, `inetd`): one process, one thread, one epoll loop over
//! the services' sockets, its internal connections and a signalfd.
//!
//! - nowait: accept, start the server with the connection as 0, 1 and 2, go on.
//! - wait: start the server with the listening socket itself and stop watching that
//!   socket until the server exits.
//! - internal services (echo, discard, daytime, chargen, time) are served in the loop.
//!
//! Every server is started through [`crate::sys::spawn::Spawn`], the one spawn path:
//! only descriptors 0-2 survive, signals are reset, and the configured user, group and
//! supplementary groups are set on every start. Every descriptor of the superserver is
//! close-on-exec besides.
//!
//! Signals: SIGHUP reloads (sockets of unchanged services are kept; running servers are
//! never touched); SIGTERM and SIGINT stop listening and exit, leaving started servers
//! to finish their sessions; SIGQUIT does the same and also sends SIGTERM to every
//! server; SIGUSR1 writes the state of every service to the log.

pub mod config;
pub mod daemon;
pub mod internal;
pub mod log;
pub mod socket;

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::plan::access::canonical;
use crate::plan::superserver::limits::{at_capacity, may_start, RateWindow};
use crate::plan::superserver::reload::plan_reload;
use crate::plan::superserver::{
    nothing_to_serve, Builtin, Exec, Handler, ListenKey, LogSpec, Protocol, ServiceSet, ServiceSpec,
};
use crate::sys::pidfile::HeldPidfile;
use crate::sys::spawn::{Credentials, Spawn, Stdio};
use config::Sources;
use internal::{Conn, Interest, ReplyLengths};
use log::{Logs, MainLog};
use socket::Listener;

/// How the superserver runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The name it logs under (`xinetd` or `inetd`).
    pub tag: String,
    pub sources: Sources,
    /// Stay in the foreground (else fork into the background).
    pub foreground: bool,
    /// Copy every message to stderr.
    pub debug: bool,
    pub pidfile: PathBuf,
    pub log: MainLog,
    pub dev_log: PathBuf,
    /// Run (and let a reload leave the superserver) with no service at all (xinetd's
    /// -stayalive). Without it there must be something to serve: a start with nothing
    /// fails, saying why, and a reload to nothing keeps the services in force.
    pub stayalive: bool,
}

/// Connections accepted (or datagrams taken) for one service before the loop looks at
/// the others.
const BURST: usize = 32;
/// How long a service rests after the superserver ran out of descriptors.
const EXHAUSTED_PAUSE: Duration = Duration::from_secs(1);
/// How long a wait service rests after its server could not be started (its request
/// stays queued; retrying at once would spin).
const FAILED_WAIT_PAUSE: Duration = Duration::from_secs(10);
/// A datagram wait service whose server exits this many times in a row without reading
/// the datagram it was started for pauses for FAILED_WAIT_PAUSE.
const UNREAD_LIMIT: u32 = 5;

const SIGNAL_TOKEN: u64 = u64::MAX;
const CONN_BASE: u64 = 1 << 32;

/// Runs the superserver until it is stopped. Returns the exit status.
pub fn run(options: Options) -> i32 {
    close_inherited_descriptors();
    // `ps`, `killproc xinetd` and `vinit daemon --name xinetd` see its own name, however
    // it was started (as `vinit xinetd`, a link, /proc/self/exe).
    if let Ok(name) = std::ffi::CString::new(options.tag.as_str()) {
        // SAFETY: PR_SET_NAME copies at most 16 bytes from a NUL-terminated string.
        unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr()) };
    }
    let mask = handled_signals();
    if let Err(e) = mask.thread_block() {
        eprintln!("{}: cannot block signals: {}", options.tag, e.desc());
        return 1;
    }
    let ready = if options.foreground {
        None
    } else {
        match daemon::daemonize() {
            Ok(daemon::Forked::Parent(status)) => return status,
            Ok(daemon::Forked::Child(ready)) => Some(ready),
            Err(e) => {
                let why = crate::sys::describe_io(&e);
                eprintln!("{}: cannot go to the background: {why}", options.tag);
                return 1;
            }
        }
    };
    let mut server = match start(options, &mask) {
        Ok(server) => server,
        Err(status) => return status,
    };
    if let Some(ready) = ready {
        ready.done();
        server.logs.detach();
    }
    let debug = server.options.debug;
    server.logs.set_echo(debug);
    let status = server.serve();
    server.remove_pidfile();
    status
}

/// Reads the configuration, opens the sockets, writes the pidfile. Errors are logged
/// (and shown on stderr, still the terminal's); Err holds the exit status.
fn start(options: Options, mask: &SigSet) -> Result<Superserver, i32> {
    let mut logs = Logs::new(
        &options.tag,
        options.log.clone(),
        options.dev_log.clone(),
        true,
    );
    let set = config::load(&options.sources).map_err(|e| {
        logs.error(&e);
        1
    })?;
    let events = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).and_then(|epoll| {
        let signals = SignalFd::with_flags(mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
        epoll.add(
            signals.as_fd(),
            EpollEvent::new(EpollFlags::EPOLLIN, SIGNAL_TOKEN),
        )?;
        Ok((epoll, signals))
    });
    let (epoll, signals) = events.map_err(|e| {
        logs.error(&format!("cannot set up the event loop: {}", e.desc()));
        1
    })?;
    let mut server = Superserver::new(options, logs, epoll, signals);
    let why_nothing = nothing_to_serve(&set);
    let resolved = set.services.len();
    server.install(set);
    if server.services.is_empty() && !server.options.stayalive {
        let why = why_nothing.unwrap_or_else(|| {
            let resolved = services_count(resolved);
            format!("no service to run: none of the {resolved} could listen (see above)")
        });
        server.logs.error(&format!(
            "{why}; exiting (-stayalive keeps the superserver running with none)"
        ));
        return Err(1);
    }
    if let Err(e) = server.write_pidfile() {
        server.logs.error(&e);
        return Err(1);
    }
    let count = services_count(server.services.len());
    server.logs.info(&format!("started with {count}"));
    Ok(server)
}

fn services_count(n: usize) -> String {
    format!("{n} service{}", if n == 1 { "" } else { "s" })
}

/// Whatever the starting process left open above stderr (a pipe of a shell's command
/// substitution, a build tool's jobserver) is not the superserver's: holding it would
/// keep the other end waiting for ever. A closed 0, 1 or 2 gets `/dev/null`, so that
/// no socket of the superserver takes a standard number (and is later overwritten when
/// the standard descriptors are pointed at `/dev/null`).
fn close_inherited_descriptors() {
    // SAFETY: nothing of this process is open above 2 yet; close_range touches only
    // this process's table; F_GETFD only asks.
    unsafe {
        libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
        for fd in 0..3 {
            if libc::fcntl(fd, libc::F_GETFD) < 0 {
                // The lowest free number: this one.
                libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
            }
        }
    }
}

fn handled_signals() -> SigSet {
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGHUP,
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGCHLD,
        Signal::SIGUSR1,
    ] {
        set.add(s);
    }
    set
}

/// How the superserver was asked to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// Leave the servers to their sessions.
    LeaveServers,
    /// Send SIGTERM to every server too.
    TerminateServers,
}

/// One configured service and its socket.
struct Service {
    spec: ServiceSpec,
    listener: Option<Listener>,
    watching: bool,
    paused_until: Option<Instant>,
    rate: RateWindow,
    /// How every server of this service starts (program, arguments, environment,
    /// credentials), built once per configuration; each request adds its own
    /// descriptors and peer variables to a copy.
    template: Option<Spawn>,
    /// Servers (of a datagram wait service) that exited in a row without reading the
    /// datagram they were started for.
    unread_exits: u32,
}

/// Servers (or internal connections) running for one service id.
#[derive(Default)]
struct Usage {
    running: u32,
    per_source: HashMap<IpAddr, u32>,
}

impl Usage {
    fn add(&mut self, source: Option<IpAddr>) {
        self.running += 1;
        if let Some(ip) = source {
            *self.per_source.entry(ip).or_default() += 1;
        }
    }

    fn remove(&mut self, source: Option<IpAddr>) {
        self.running = self.running.saturating_sub(1);
        if let Some(ip) = source {
            if let Some(n) = self.per_source.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    self.per_source.remove(&ip);
                }
            }
        }
    }

    fn from(&self, source: Option<IpAddr>) -> u32 {
        source
            .and_then(|ip| self.per_source.get(&ip).copied())
            .unwrap_or(0)
    }
}

/// A running server.
struct Child {
    service: String,
    peer: Option<IpAddr>,
    started: Instant,
    /// The socket it was handed (wait services).
    handover: Option<ListenKey>,
    /// The datagram it was started for (datagram wait services).
    request: Option<socket::Waiting>,
    log: LogSpec,
}

struct Superserver {
    options: Options,
    logs: Logs,
    epoll: Epoll,
    signals: SignalFd,
    services: Vec<Service>,
    by_id: HashMap<String, usize>,
    usage: HashMap<String, Usage>,
    children: HashMap<i32, Child>,
    conns: HashMap<u64, Conn>,
    next_conn: u64,
    /// Sockets currently held by a wait server.
    busy: HashSet<ListenKey>,
    lengths: ReplyLengths,
    /// The ports of the internal UDP services: no reply goes to one of them.
    internal_udp_ports: HashSet<u16>,
    stop: Option<Stop>,
    /// The service list changed in this turn of the loop: its events are stale.
    reloaded: bool,
    is_root: bool,
    pidfile: Option<HeldPidfile>,
}

impl Superserver {
    fn new(options: Options, logs: Logs, epoll: Epoll, signals: SignalFd) -> Superserver {
        Superserver {
            options,
            logs,
            epoll,
            signals,
            services: Vec::new(),
            by_id: HashMap::new(),
            usage: HashMap::new(),
            children: HashMap::new(),
            conns: HashMap::new(),
            next_conn: 0,
            busy: HashSet::new(),
            lengths: ReplyLengths::new(),
            internal_udp_ports: HashSet::new(),
            stop: None,
            reloaded: false,
            is_root: nix::unistd::geteuid().is_root(),
            pidfile: None,
        }
    }

    /// Writes the pidfile and holds it locked while the superserver runs: whoever
    /// checks it (init scripts through `vinit daemon`, chkconfig) can tell a live
    /// superserver from a stale number.
    fn write_pidfile(&mut self) -> Result<(), String> {
        let path = &self.options.pidfile;
        let held = HeldPidfile::create(path).map_err(|e| {
            format!(
                "cannot write {}: {}",
                path.display(),
                crate::sys::describe_io(&e)
            )
        })?;
        self.pidfile = Some(held);
        Ok(())
    }

    fn remove_pidfile(&mut self) {
        if let Some(held) = self.pidfile.take() {
            held.remove();
        }
    }

    /// Puts a new service set in force: keeps the sockets still wanted, closes the
    /// others, opens the new ones.
    fn install(&mut self, set: ServiceSet) {
        for p in &set.errors {
            self.logs.error(&p.to_string());
        }
        for p in &set.warnings {
            self.logs.warn(&p.to_string());
        }
        let current: Vec<ListenKey> = self
            .services
            .iter()
            .filter(|s| s.listener.is_some())
            .map(|s| s.spec.listen.clone())
            .collect();
        let plan = plan_reload(&current, &set.services);
        let mut sockets: HashMap<ListenKey, Listener> = HashMap::new();
        let mut carried: HashMap<String, (Option<Instant>, RateWindow)> = HashMap::new();
        for mut old in std::mem::take(&mut self.services) {
            if let Some(l) = old.listener.take() {
                if old.watching {
                    let _ = self.epoll.delete(l.as_fd());
                }
                sockets.insert(old.spec.listen.clone(), l);
            }
            carried.insert(old.spec.id.clone(), (old.paused_until, old.rate));
        }
        // Close before opening: a service that moves from one address to another on
        // the same port needs the old socket gone first.
        for key in &plan.close {
            sockets.remove(key);
            self.logs.info(&format!("stopped listening on {key}"));
        }
        self.by_id.clear();
        for spec in set.services {
            let listener = match sockets.remove(&spec.listen) {
                Some(l) => {
                    let _ = socket::apply_options(l.raw_fd(), spec.listen.protocol, &spec.options);
                    Some(l)
                }
                None => match socket::open_listener(&spec.listen, &spec.options) {
                    Ok(l) => Some(l),
                    Err(e) => {
                        self.logs.error(&format!(
                            "{}: service {}: cannot listen on {}: {}; the service is disabled",
                            spec.at,
                            spec.id,
                            spec.listen,
                            crate::sys::describe_io(&e)
                        ));
                        continue;
                    }
                },
            };
            let (paused_until, rate) = carried.remove(&spec.id).unwrap_or_default();
            let template = match &spec.handler {
                Handler::Exec(exec) => Some(self.template(exec)),
                Handler::Internal(_) => None,
            };
            self.by_id.insert(spec.id.clone(), self.services.len());
            self.services.push(Service {
                spec,
                listener,
                watching: false,
                paused_until,
                rate,
                template,
                unread_exits: 0,
            });
        }
        self.internal_udp_ports = self
            .services
            .iter()
            .filter(|s| matches!(s.spec.handler, Handler::Internal(_)))
            .filter(|s| s.spec.listen.protocol == Protocol::Udp)
            .map(|s| s.spec.listen.port)
            .collect();
        for index in 0..self.services.len() {
            self.refresh(index);
        }
        self.reloaded = true;
    }

    /// The spawn every server of a service starts from. Its environment is the
    /// superserver's own (all of it, or only the `passenv` names), then `env`.
    fn template(&self, exec: &Exec) -> Spawn {
        let mut spawn = Spawn::new(&exec.program);
        if let Some((argv0, args)) = exec.argv.split_first() {
            spawn.argv0(argv0).args(args);
        }
        for (k, v) in std::env::vars_os() {
            let passed = match &exec.passenv {
                None => true,
                Some(names) => names.iter().any(|n| k == n.as_str()),
            };
            if passed {
                spawn.env(k, v);
            }
        }
        for (k, v) in &exec.env {
            spawn.env(k, v);
        }
        spawn.new_session = true;
        // Not root: the planner made sure the user is the superserver's own.
        spawn.credentials = self.is_root.then(|| Credentials {
            uid: exec.identity.uid,
            gid: exec.identity.gid,
            groups: exec.identity.groups.clone(),
        });
        spawn.umask = exec.umask;
        spawn.nice = exec.nice;
        spawn
    }

    fn reload(&mut self) {
        self.logs.reopen();
        let loaded = config::load(&self.options.sources).and_then(|set| {
            match nothing_to_serve(&set).filter(|_| !self.options.stayalive) {
                Some(why) => Err(why),
                None => Ok(set),
            }
        });
        match loaded {
            Ok(set) => {
                self.install(set);
                let count = services_count(self.services.len());
                self.logs.info(&format!("reloaded: {count}"));
            }
            Err(e) => self.logs.error(&format!(
                "reload failed, the current configuration stays in force: {e}"
            )),
        }
    }

    /// Watches a service's socket exactly when it may take a request.
    fn refresh(&mut self, index: usize) {
        let Some(svc) = self.services.get(index) else {
            return;
        };
        let Some(listener) = &svc.listener else {
            return;
        };
        let running = self.usage.get(&svc.spec.id).map_or(0, |u| u.running);
        let counted = counts_instances(&svc.spec);
        let want = svc.paused_until.is_none()
            && !self.busy.contains(&svc.spec.listen)
            && !(counted && at_capacity(&svc.spec.limits, running));
        if want == svc.watching {
            return;
        }
        let result = if want {
            self.epoll.add(
                listener.as_fd(),
                EpollEvent::new(EpollFlags::EPOLLIN, index as u64),
            )
        } else {
            self.epoll.delete(listener.as_fd())
        };
        match result {
            Ok(()) => self.services[index].watching = want,
            Err(e) => {
                let id = self.services[index].spec.id.clone();
                self.logs
                    .error(&format!("service {id}: epoll: {}", e.desc()));
            }
        }
    }

    fn serve(&mut self) -> i32 {
        let mut events = vec![EpollEvent::empty(); 64];
        // Idle for a second: release the code mappings (see sys::memory), then sleep on.
        let mut trimmed = false;
        loop {
            let timeout = self.timeout();
            let idle_wait = timeout == EpollTimeout::NONE && !trimmed;
            let wait = if idle_wait {
                EpollTimeout::try_from(crate::sys::memory::TRIM_AFTER.as_millis() as i32)
                    .unwrap_or(timeout)
            } else {
                timeout
            };
            let n = match self.epoll.wait(&mut events, wait) {
                Ok(0) if idle_wait => {
                    crate::sys::memory::trim_resident_code();
                    trimmed = true;
                    continue;
                }
                Ok(n) => n,
                Err(Errno::EINTR) => 0,
                Err(e) => {
                    self.logs.error(&format!("epoll_wait: {}", e.desc()));
                    return 1;
                }
            };
            trimmed = trimmed && n == 0;
            self.reloaded = false;
            for event in &events[..n] {
                if self.reloaded {
                    // Indices changed; what is still ready shows up again.
                    break;
                }
                match event.data() {
                    SIGNAL_TOKEN => self.on_signals(),
                    token if token >= CONN_BASE => self.on_conn(token),
                    index => self.on_listener(index as usize),
                }
            }
            self.wake_paused(Instant::now());
            if let Some(stop) = self.stop {
                self.shutdown(stop);
                return 0;
            }
        }
    }

    /// Until the next paused service wakes up.
    fn timeout(&self) -> EpollTimeout {
        let now = Instant::now();
        match self.services.iter().filter_map(|s| s.paused_until).min() {
            None => EpollTimeout::NONE,
            Some(t) => {
                let ms = t.saturating_duration_since(now).as_millis() + 1;
                EpollTimeout::try_from(ms.min(i32::MAX as u128) as i32).unwrap_or(EpollTimeout::MAX)
            }
        }
    }

    fn wake_paused(&mut self, now: Instant) {
        for index in 0..self.services.len() {
            let svc = &mut self.services[index];
            if svc.paused_until.is_some_and(|t| t <= now) {
                svc.paused_until = None;
                svc.rate.reset();
                let id = svc.spec.id.clone();
                self.logs
                    .info(&format!("service {id}: taking requests again"));
                self.refresh(index);
            }
        }
    }

    fn pause(&mut self, index: usize, pause: Duration, why: &str) {
        let svc = &mut self.services[index];
        svc.paused_until = Some(Instant::now() + pause);
        let id = svc.spec.id.clone();
        self.logs.warn(&format!(
            "service {id}: {why}: not taking requests for {} s",
            pause.as_secs_f32()
        ));
        self.refresh(index);
    }

    /// Whether the rate of a service leaves room for one more request; when it does
    /// not, the service pauses. The caller counts the request once it takes it.
    fn rate_room(&mut self, index: usize) -> bool {
        let svc = &mut self.services[index];
        let Some(limit) = svc.spec.limits.rate else {
            return true;
        };
        if svc.rate.has_room(&limit, Instant::now()) {
            return true;
        }
        let why = format!(
            "more than {} requests in {} s",
            limit.max,
            limit.window.as_secs()
        );
        self.pause(index, limit.pause, &why);
        false
    }

    fn on_signals(&mut self) {
        loop {
            match self.signals.read_signal() {
                Ok(Some(info)) => match Signal::try_from(info.ssi_signo as i32) {
                    Ok(Signal::SIGCHLD) => self.reap(),
                    Ok(Signal::SIGHUP) => self.reload(),
                    Ok(Signal::SIGTERM | Signal::SIGINT) => {
                        self.stop.get_or_insert(Stop::LeaveServers);
                    }
                    Ok(Signal::SIGQUIT) => self.stop = Some(Stop::TerminateServers),
                    Ok(Signal::SIGUSR1) => self.dump(),
                    _ => {}
                },
                Ok(None) => return,
                Err(Errno::EINTR) => continue,
                Err(e) => {
                    self.logs.error(&format!("signalfd: {}", e.desc()));
                    return;
                }
            }
        }
    }

    fn shutdown(&mut self, stop: Stop) {
        for svc in &mut self.services {
            svc.listener = None;
        }
        if stop == Stop::TerminateServers {
            for pid in self.children.keys() {
                // Each server leads its own session and process group.
                let _ = nix::sys::signal::killpg(Pid::from_raw(*pid), Signal::SIGTERM);
            }
        }
        let left = self.children.len();
        self.logs.info(&match stop {
            Stop::LeaveServers => format!("exiting; {left} running server(s) left to finish"),
            Stop::TerminateServers => format!("exiting; {left} running server(s) sent SIGTERM"),
        });
    }

    fn dump(&mut self) {
        let mut lines = Vec::new();
        for svc in &self.services {
            let running = self.usage.get(&svc.spec.id).map_or(0, |u| u.running);
            let state = if svc.paused_until.is_some() {
                "paused"
            } else if self.busy.contains(&svc.spec.listen) {
                "busy"
            } else if svc.watching {
                "listening"
            } else {
                "full"
            };
            lines.push(format!(
                "service {} on {}: {state}, {running} running",
                svc.spec.id, svc.spec.listen
            ));
        }
        lines.push(format!(
            "{} server(s), {} internal connection(s)",
            self.children.len(),
            self.conns.len()
        ));
        for line in lines {
            self.logs.info(&line);
        }
    }

    fn reap(&mut self) {
        loop {
            match waitpid(Option::<Pid>::None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => {
                    self.server_exited(pid, format!("status={code}"))
                }
                Ok(WaitStatus::Signaled(pid, sig, _)) => {
                    self.server_exited(pid, format!("signal={}", sig as i32))
                }
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
                Ok(_) | Err(Errno::EINTR) => continue,
                Err(_) => return,
            }
        }
    }

    fn server_exited(&mut self, pid: Pid, how: String) {
        let Some(child) = self.children.remove(&pid.as_raw()) else {
            return;
        };
        self.release(&child.service, child.peer);
        if let Some(key) = &child.handover {
            self.busy.remove(key);
            if let Some(request) = child.request {
                self.check_request_taken(&child, key, request);
            }
        }
        let exit = Exit {
            how: &how,
            pid: pid.as_raw(),
            duration: child.started.elapsed(),
            traffic: None,
        };
        self.log_exit(&child.service, &child.log, exit);
        if let Some(&index) = self.by_id.get(&child.service) {
            self.refresh(index);
        }
    }

    fn on_listener(&mut self, index: usize) {
        let Some(svc) = self.services.get(index) else {
            return;
        };
        if !svc.watching {
            return;
        }
        match (
            &svc.spec.handler,
            svc.spec.listen.protocol,
            svc.spec.handover(),
        ) {
            (Handler::Exec(_), _, true) => self.start_wait_server(index),
            (_, Protocol::Tcp, _) => self.accept_burst(index),
            (Handler::Internal(b), Protocol::Udp, _) => {
                let b = *b;
                self.answer_datagrams(index, b)
            }
            // A dgram program service is always a wait service (refused otherwise).
            (Handler::Exec(_), Protocol::Udp, false) => {}
        }
    }

    fn accept_burst(&mut self, index: usize) {
        for _ in 0..BURST {
            // Look at the rate before accepting; a connection is counted once taken.
            if !self.services[index].watching || !self.rate_room(index) {
                break;
            }
            let Some(Listener::Tcp(listener)) = &self.services[index].listener else {
                break;
            };
            match listener.accept() {
                Ok((stream, peer)) => {
                    self.services[index].rate.record();
                    self.connection(index, stream, peer);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO)
                    ) =>
                {
                    continue
                }
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
                    ) =>
                {
                    let why = format!("accept: {}", crate::sys::describe_io(&e));
                    self.pause(index, EXHAUSTED_PAUSE, &why);
                    break;
                }
                Err(e) => {
                    let id = self.services[index].spec.id.clone();
                    self.logs.error(&format!(
                        "service {id}: accept: {}",
                        crate::sys::describe_io(&e)
                    ));
                    break;
                }
            }
        }
        self.refresh(index);
    }

    /// One accepted connection of a nowait stream service.
    fn connection(&mut self, index: usize, stream: TcpStream, peer: SocketAddr) {
        let ip = canonical(peer.ip());
        let spec = &self.services[index].spec;
        if let Err(denial) = spec.access.decide(ip) {
            let (id, log) = (spec.id.clone(), spec.log.clone());
            self.fail(&id, &log, denial.describe(), Some(ip));
            return;
        }
        if let Handler::Internal(b @ (Builtin::Daytime | Builtin::Time)) = spec.handler {
            let (id, log) = (spec.id.clone(), spec.log.clone());
            internal::answer_once(b, stream);
            self.log_start(&id, &log, 0, Some(ip));
            return;
        }
        let (running, from_source) = self
            .usage
            .get(&spec.id)
            .map_or((0, 0), |u| (u.running, u.from(Some(ip))));
        if let Err(refusal) = may_start(&spec.limits, running, from_source) {
            let (id, log) = (spec.id.clone(), spec.log.clone());
            self.fail(&id, &log, refusal.reason(), Some(ip));
            return;
        }
        match &spec.handler {
            Handler::Internal(b) => {
                let b = *b;
                self.open_conn(index, b, stream, peer);
            }
            Handler::Exec(_) => {
                let local = stream.local_addr().ok();
                self.start_server(index, stream.as_raw_fd(), Some(peer), local, None);
            }
        }
    }

    /// Starts a server on `fd` (a connection, or the listening socket of a wait
    /// service). False when it could not be started.
    fn start_server(
        &mut self,
        index: usize,
        fd: i32,
        peer: Option<SocketAddr>,
        local: Option<SocketAddr>,
        handover: Option<(ListenKey, Option<socket::Waiting>)>,
    ) -> bool {
        let svc = &self.services[index];
        let Some(template) = &svc.template else {
            return false;
        };
        let (handover, request) = handover.unzip();
        let mut spawn = template.clone();
        if let Some(peer) = peer {
            let ip = canonical(peer.ip()).to_string();
            spawn.env("REMOTE_HOST", &ip);
            if svc.spec.listen.protocol == Protocol::Tcp {
                spawn.env("PROTO", "TCP");
                spawn.env("TCPREMOTEIP", &ip);
                spawn.env("TCPREMOTEPORT", peer.port().to_string());
                if let Some(local) = local {
                    spawn.env("TCPLOCALIP", canonical(local.ip()).to_string());
                    spawn.env("TCPLOCALPORT", local.port().to_string());
                }
            }
        }
        spawn.stdin = Stdio::Fd(fd);
        spawn.stdout = Stdio::Fd(fd);
        spawn.stderr = Stdio::Fd(fd);
        let ip = peer.map(|p| canonical(p.ip()));
        let (id, log) = (svc.spec.id.clone(), svc.spec.log.clone());
        match spawn.spawn() {
            Ok(pid) => {
                self.usage.entry(id.clone()).or_default().add(ip);
                self.log_start(&id, &log, pid.as_raw(), ip);
                self.children.insert(
                    pid.as_raw(),
                    Child {
                        service: id,
                        peer: ip,
                        started: Instant::now(),
                        handover,
                        request: request.flatten(),
                        log,
                    },
                );
                true
            }
            Err(e) => {
                let why = crate::sys::spawn::describe_spawn_error(spawn.program(), &e);
                self.fail(&id, &log, &format!("cannot start server: {why}"), ip);
                false
            }
        }
    }

    fn start_wait_server(&mut self, index: usize) {
        let svc = &self.services[index];
        let Some(listener) = &svc.listener else {
            return;
        };
        let fd = listener.raw_fd();
        let key = svc.spec.listen.clone();
        let mut request = None;
        if key.protocol == Protocol::Udp {
            match socket::peek_waiting(fd) {
                Ok(Some(waiting)) => request = Some(waiting),
                Ok(None) => return,
                Err(e) => {
                    let id = svc.spec.id.clone();
                    self.logs.error(&format!(
                        "service {id}: recvfrom: {}",
                        crate::sys::describe_io(&e)
                    ));
                    socket::drop_datagram(fd);
                    return;
                }
            }
            let ip = request.map(|w| canonical(w.source.ip()));
            if let Some(Err(denial)) = ip.map(|ip| svc.spec.access.decide(ip)) {
                let (id, log) = (svc.spec.id.clone(), svc.spec.log.clone());
                socket::drop_datagram(fd);
                self.fail(&id, &log, denial.describe(), ip);
                return;
            }
        }
        if !self.rate_room(index) {
            return;
        }
        self.services[index].rate.record();
        let peer = request.map(|w| w.source);
        if self.start_server(index, fd, peer, None, Some((key.clone(), request))) {
            self.busy.insert(key);
        } else if key.protocol == Protocol::Udp {
            socket::drop_datagram(fd);
        } else {
            self.pause(index, FAILED_WAIT_PAUSE, "its server could not be started");
        }
        self.refresh(index);
    }

    /// The server of a datagram wait service is gone. If the datagram it was started
    /// for still waits, it never read it: that datagram is dropped (it would start the
    /// server again at once, and again, without end), and after UNREAD_LIMIT such exits
    /// in a row the service pauses.
    fn check_request_taken(&mut self, child: &Child, key: &ListenKey, request: socket::Waiting) {
        let Some(&index) = self.by_id.get(&child.service) else {
            return;
        };
        let svc = &mut self.services[index];
        let Some(listener) = svc.listener.as_ref().filter(|_| svc.spec.listen == *key) else {
            return;
        };
        let fd = listener.raw_fd();
        if socket::peek_waiting(fd).ok().flatten() != Some(request) {
            svc.unread_exits = 0;
            return;
        }
        socket::drop_datagram(fd);
        svc.unread_exits += 1;
        let unread = svc.unread_exits;
        let log = svc.spec.log.clone();
        let why = "server exited without reading its datagram";
        self.fail(&child.service, &log, why, child.peer);
        if unread >= UNREAD_LIMIT {
            self.services[index].unread_exits = 0;
            let why = format!("its server exited {unread} times in a row without reading");
            self.pause(index, FAILED_WAIT_PAUSE, &why);
        }
    }

    fn answer_datagrams(&mut self, index: usize, builtin: Builtin) {
        let mut buf = [0u8; 64 * 1024];
        for _ in 0..BURST {
            if !self.services[index].watching {
                return;
            }
            if !self.rate_room(index) {
                return;
            }
            let svc = &self.services[index];
            let Some(Listener::Udp(sock)) = &svc.listener else {
                return;
            };
            let (n, peer) = match sock.recv_from(&mut buf) {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // An ICMP error from an earlier reply: nothing to do with this one.
                Err(_) => continue,
            };
            let ip = canonical(peer.ip());
            let (id, log) = (svc.spec.id.clone(), svc.spec.log.clone());
            if let Err(denial) = svc.spec.access.decide(ip) {
                self.fail(&id, &log, denial.describe(), Some(ip));
                continue;
            }
            if builtin != Builtin::Discard {
                if let Err(why) = internal::may_reply_to(peer, &self.internal_udp_ports) {
                    self.fail(&id, &log, why, Some(ip));
                    continue;
                }
            }
            self.services[index].rate.record();
            let Some(Listener::Udp(sock)) = &self.services[index].listener else {
                return;
            };
            internal::answer_datagram(builtin, sock, &buf[..n], peer, &mut self.lengths);
            self.log_start(&id, &log, 0, Some(ip));
        }
    }

    fn open_conn(&mut self, index: usize, builtin: Builtin, stream: TcpStream, peer: SocketAddr) {
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        let id = self.services[index].spec.id.clone();
        let conn = Conn::new(stream, builtin, id.clone(), peer);
        let token = CONN_BASE + self.next_conn;
        self.next_conn += 1;
        let flags = interest_flags(conn.first_interest());
        if let Err(e) = self
            .epoll
            .add(conn.stream.as_fd(), EpollEvent::new(flags, token))
        {
            self.logs
                .error(&format!("service {id}: epoll: {}", e.desc()));
            return;
        }
        let ip = canonical(peer.ip());
        self.usage.entry(id.clone()).or_default().add(Some(ip));
        self.conns.insert(token, conn);
        let log = self.services[index].spec.log.clone();
        self.log_start(&id, &log, 0, Some(ip));
    }

    fn on_conn(&mut self, token: u64) {
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        match conn.progress() {
            Interest::Watch { read, write } => {
                let mut event =
                    EpollEvent::new(interest_flags(Interest::Watch { read, write }), token);
                let _ = self.epoll.modify(conn.stream.as_fd(), &mut event);
            }
            Interest::Done => {
                if let Some(conn) = self.conns.remove(&token) {
                    self.conn_closed(conn);
                }
            }
        }
    }

    fn conn_closed(&mut self, conn: Conn) {
        let _ = self.epoll.delete(conn.stream.as_fd());
        let ip = canonical(conn.peer.ip());
        self.release(&conn.service, Some(ip));
        if let Some(&index) = self.by_id.get(&conn.service) {
            let log = self.services[index].spec.log.clone();
            let exit = Exit {
                how: "status=0",
                pid: 0,
                duration: conn.started.elapsed(),
                traffic: Some(conn.traffic),
            };
            self.log_exit(&conn.service, &log, exit);
            self.refresh(index);
        }
    }

    /// One server (or internal connection) of a service is gone. A service with none
    /// left has no entry, so ids that come and go with reloads leave nothing behind.
    fn release(&mut self, id: &str, source: Option<IpAddr>) {
        if let Some(u) = self.usage.get_mut(id) {
            u.remove(source);
            if u.running == 0 {
                self.usage.remove(id);
            }
        }
    }

    /// `START: ID pid=N from=ADDR`, with the fields of `log_on_success` (requests served
    /// in the loop have pid 0, as in xinetd).
    fn log_start(&mut self, id: &str, log: &LogSpec, pid: i32, ip: Option<IpAddr>) {
        let s = log.on_success;
        if !(s.pid || s.host) {
            return;
        }
        let mut line = format!("START: {id}");
        if s.pid {
            line.push_str(&format!(" pid={pid}"));
        }
        if let (true, Some(ip)) = (s.host, ip) {
            line.push_str(&format!(" from={ip}"));
        }
        self.logs.service(&log.target, &line);
    }

    /// `EXIT: ID status=N pid=N duration=N(sec) in=N out=N`, with the fields of
    /// `log_on_success`.
    fn log_exit(&mut self, id: &str, log: &LogSpec, exit: Exit) {
        let s = log.on_success;
        let traffic = exit.traffic.filter(|_| s.traffic);
        if !(s.exit || s.pid || s.duration || traffic.is_some()) {
            return;
        }
        let mut line = format!("EXIT: {id}");
        if s.exit {
            line.push(' ');
            line.push_str(exit.how);
        }
        if s.pid {
            line.push_str(&format!(" pid={}", exit.pid));
        }
        if s.duration {
            line.push_str(&format!(" duration={}(sec)", exit.duration.as_secs()));
        }
        if let Some(t) = traffic {
            line.push_str(&format!(" in={} out={}", t.bytes_in, t.bytes_out));
        }
        self.logs.service(&log.target, &line);
    }

    fn fail(&mut self, id: &str, log: &LogSpec, reason: &str, ip: Option<IpAddr>) {
        let f = log.on_failure;
        if !(f.host || f.attempt) {
            return;
        }
        let mut line = format!("FAIL: {id} {reason}");
        if let (true, Some(ip)) = (f.host, ip) {
            line.push_str(&format!(" from={ip}"));
        }
        self.logs.service(&log.target, &line);
    }
}

/// How a server or an internal connection ended, for its EXIT line.
struct Exit<'a> {
    how: &'a str,
    pid: i32,
    duration: Duration,
    traffic: Option<internal::Traffic>,
}

/// Whether a service's requests count against `instances` (servers and long-lived
/// internal connections; daytime, time and datagrams are answered at once).
fn counts_instances(spec: &ServiceSpec) -> bool {
    match spec.handler {
        Handler::Exec(_) => !spec.handover(),
        Handler::Internal(b) => {
            spec.listen.protocol == Protocol::Tcp
                && matches!(b, Builtin::Echo | Builtin::Discard | Builtin::Chargen)
        }
    }
}

fn interest_flags(interest: Interest) -> EpollFlags {
    let mut flags = EpollFlags::empty();
    if let Interest::Watch { read, write } = interest {
        if read {
            flags |= EpollFlags::EPOLLIN | EpollFlags::EPOLLRDHUP;
        }
        if write {
            flags |= EpollFlags::EPOLLOUT;
        }
    }
    flags
}
