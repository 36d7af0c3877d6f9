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

pub(crate) mod config;
pub(crate) mod internal;
pub(crate) mod log;
pub(crate) mod socket;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::error::{describe_io, SysError, ToolResult};
use crate::plan::access::canonical;
use crate::plan::superserver::limits::{at_capacity, may_start, RateWindow};
use crate::plan::superserver::reload::plan_reload;
use crate::plan::superserver::{
    nothing_to_serve, Builtin, Exec, Handler, ListenKey, LogSpec, Protocol, ServiceSet, ServiceSpec,
};
use crate::sys::pidfile::HeldPidfile;
use crate::sys::runtime::daemonize::{daemonize, Forked};
use crate::sys::runtime::guard;
use crate::sys::runtime::reactor::{Interest, Reactor, Ready, Token};
use crate::sys::runtime::reap::{reap_all, ChildExit};
use crate::sys::runtime::signals::{Signals, Which};
use crate::sys::runtime::timers::Timers;
use crate::sys::spawn::{Credentials, Spawn, Stdio};
use config::Sources;
use internal::{Conn, Next, ReplyLengths};
use log::{Logs, MainLog};
use socket::Listener;

/// How the superserver runs.
#[derive(Clone, Debug)]
pub(crate) struct Options {
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
/// Longer than any superserver runs.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
/// A datagram wait service whose server exits this many times in a row without reading
/// the datagram it was started for pauses for FAILED_WAIT_PAUSE.
const UNREAD_LIMIT: u32 = 5;

/// The signals the superserver handles (see the module's documentation).
const HANDLED: [Signal; 6] = [
    Signal::SIGHUP,
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGCHLD,
    Signal::SIGUSR1,
];

/// A service in force, named by the number it got when it was put in force. Numbers
/// are never reused: an event still queued for a service that a reload replaced or
/// removed names no service at all, never another one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct ServiceRef(u64);

/// What a readiness token stands for: its kind in the top two bits, a number below.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Signals,
    Listener(ServiceRef),
    /// An internal connection, by its number (also never reused).
    Conn(u64),
}

const KIND_SHIFT: u32 = 62;
const NUMBER_MASK: u64 = (1 << KIND_SHIFT) - 1;

impl Source {
    fn token(self) -> Token {
        match self {
            Source::Signals => 0,
            Source::Listener(ServiceRef(n)) => 1 << KIND_SHIFT | (n & NUMBER_MASK),
            Source::Conn(n) => 2 << KIND_SHIFT | (n & NUMBER_MASK),
        }
    }

    fn of(token: Token) -> Option<Source> {
        let n = token & NUMBER_MASK;
        match token >> KIND_SHIFT {
            0 => Some(Source::Signals),
            1 => Some(Source::Listener(ServiceRef(n))),
            2 => Some(Source::Conn(n)),
            _ => None,
        }
    }
}

/// Runs the superserver until it is stopped. Returns the exit status; an error ends it
/// before it could log anywhere.
pub(crate) fn run(options: Options) -> ToolResult {
    close_inherited_descriptors();
    // `ps`, `killproc xinetd` and `vinit daemon --name xinetd` see its own name, however
    // it was started (as `vinit xinetd`, a link, /proc/self/exe).
    if let Ok(name) = std::ffi::CString::new(options.tag.as_str()) {
        // SAFETY: PR_SET_NAME copies at most 16 bytes from a NUL-terminated string.
        unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr()) };
    }
    // Before going to the background: a signal sent as soon as the pidfile exists
    // must find it blocked. Dispositions are reset too (an ignored SIGCHLD inherited
    // from the parent would have the kernel reap the servers behind our back).
    let signals = Signals::open(Which::Only(&HANDLED))
        .map_err(|e| SysError::doing("cannot block signals", e))?;
    let ready = if options.foreground {
        None
    } else {
        match daemonize().map_err(|e| SysError::doing("cannot go to the background", e))? {
            Forked::Parent(status) => return Ok(status),
            Forked::Child(ready) => Some(ready),
        }
    };
    let mut server = match start(options, signals) {
        Ok(server) => server,
        Err(status) => return Ok(status),
    };
    if let Some(ready) = ready {
        ready.done();
        server.logs.detach();
    }
    let debug = server.options.debug;
    server.logs.set_echo(debug);
    let status = server.serve();
    server.remove_pidfile();
    Ok(status)
}

/// Reads the configuration, opens the sockets, writes the pidfile. Errors are logged
/// (and shown on stderr, still the terminal's); Err holds the exit status.
fn start(options: Options, signals: Signals) -> Result<Superserver, i32> {
    let mut logs = Logs::new(
        &options.tag,
        options.log.clone(),
        options.dev_log.clone(),
        true,
    );
    let set = config::load(&options.sources).map_err(|e| {
        logs.error(&e.to_string());
        1
    })?;
    // The reactor is made here, in the process that serves: epoll registers a
    // signalfd for the process that adds it.
    let reactor = Reactor::new().and_then(|reactor| {
        reactor.add(signals.fd(), Source::Signals.token(), Interest::Read)?;
        Ok(reactor)
    });
    let reactor = reactor.map_err(|e| {
        logs.error(&format!(
            "cannot set up the event loop: {}",
            describe_io(&e)
        ));
        1
    })?;
    let mut server = Superserver::new(options, logs, reactor, signals);
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
        server.logs.error(&format!("cannot write {e}"));
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
    reactor: Reactor,
    signals: Signals,
    /// The services in force, in the order of the configuration (their numbers grow
    /// in that order).
    services: BTreeMap<ServiceRef, Service>,
    next_service: u64,
    by_id: HashMap<String, ServiceRef>,
    /// Paused services, by id: a pause outlives a reload that keeps the service.
    pauses: Timers<String>,
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
    is_root: bool,
    pidfile: Option<HeldPidfile>,
}

impl Superserver {
    fn new(options: Options, logs: Logs, reactor: Reactor, signals: Signals) -> Superserver {
        Superserver {
            options,
            logs,
            reactor,
            signals,
            services: BTreeMap::new(),
            next_service: 0,
            by_id: HashMap::new(),
            pauses: Timers::default(),
            usage: HashMap::new(),
            children: HashMap::new(),
            conns: HashMap::new(),
            next_conn: 0,
            busy: HashSet::new(),
            lengths: ReplyLengths::new(),
            internal_udp_ports: HashSet::new(),
            stop: None,
            is_root: nix::unistd::geteuid().is_root(),
            pidfile: None,
        }
    }

    /// Writes the pidfile and holds it locked while the superserver runs: whoever
    /// checks it (init scripts through `vinit daemon`, chkconfig) can tell a live
    /// superserver from a stale number.
    fn write_pidfile(&mut self) -> Result<(), SysError> {
        let path = &self.options.pidfile;
        let held = HeldPidfile::create(path).map_err(|e| SysError::at(path, e))?;
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
        let (mut sockets, mut rates) = self.take_services(&set.services);
        for spec in set.services {
            let Some(listener) = self.listener_for(&spec, &mut sockets) else {
                continue;
            };
            let template = match &spec.handler {
                Handler::Exec(exec) => Some(self.template(exec)),
                Handler::Internal(_) => None,
            };
            let service = ServiceRef(self.next_service);
            self.next_service += 1;
            self.by_id.insert(spec.id.clone(), service);
            let rate = rates.remove(&spec.id).unwrap_or_default();
            self.services.insert(
                service,
                Service {
                    spec,
                    listener: Some(listener),
                    watching: false,
                    rate,
                    template,
                    unread_exits: 0,
                },
            );
        }
        // A pause ends with its service.
        let ended: Vec<String> = self
            .pauses
            .iter()
            .map(|(id, _)| id.clone())
            .filter(|id| !self.by_id.contains_key(id))
            .collect();
        for id in &ended {
            self.pauses.cancel(id);
        }
        self.internal_udp_ports = self
            .services
            .values()
            .filter(|s| matches!(s.spec.handler, Handler::Internal(_)))
            .filter(|s| s.spec.listen.protocol == Protocol::Udp)
            .map(|s| s.spec.listen.port)
            .collect();
        let refs: Vec<ServiceRef> = self.services.keys().copied().collect();
        for service in refs {
            self.refresh(service);
        }
    }

    /// Takes every service out of force: keeps the sockets the `wanted` services still
    /// need (by key; the others are closed) and the rate windows (by id).
    fn take_services(
        &mut self,
        wanted: &[ServiceSpec],
    ) -> (HashMap<ListenKey, Listener>, HashMap<String, RateWindow>) {
        let current: Vec<ListenKey> = self
            .services
            .values()
            .filter(|s| s.listener.is_some())
            .map(|s| s.spec.listen.clone())
            .collect();
        let plan = plan_reload(&current, wanted);
        let mut sockets = HashMap::new();
        let mut rates = HashMap::new();
        for (_, mut old) in std::mem::take(&mut self.services) {
            if let Some(l) = old.listener.take() {
                if old.watching {
                    let _ = self.reactor.delete(l.as_fd());
                }
                sockets.insert(old.spec.listen.clone(), l);
            }
            rates.insert(old.spec.id.clone(), old.rate);
        }
        self.by_id.clear();
        // Close before opening: a service that moves from one address to another on
        // the same port needs the old socket gone first.
        for key in &plan.close {
            sockets.remove(key);
            self.logs.info(&format!("stopped listening on {key}"));
        }
        (sockets, rates)
    }

    /// The socket of a service: kept from before the reload, or opened. None (and
    /// logged): the service cannot listen and is disabled.
    fn listener_for(
        &mut self,
        spec: &ServiceSpec,
        sockets: &mut HashMap<ListenKey, Listener>,
    ) -> Option<Listener> {
        if let Some(kept) = sockets.remove(&spec.listen) {
            let _ = socket::apply_options(kept.raw_fd(), spec.listen.protocol, &spec.options);
            return Some(kept);
        }
        match socket::open_listener(&spec.listen, &spec.options) {
            Ok(opened) => Some(opened),
            Err(e) => {
                self.logs.error(&format!(
                    "{}: service {}: cannot listen on {}: {}; the service is disabled",
                    spec.at,
                    spec.id,
                    spec.listen,
                    describe_io(&e)
                ));
                None
            }
        }
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
        let set = match config::load(&self.options.sources) {
            Ok(set) => set,
            Err(e) => return self.reload_refused(&e),
        };
        if let Some(why) = nothing_to_serve(&set).filter(|_| !self.options.stayalive) {
            return self.reload_refused(&why);
        }
        self.install(set);
        let count = services_count(self.services.len());
        self.logs.info(&format!("reloaded: {count}"));
    }

    fn reload_refused(&mut self, why: &dyn std::fmt::Display) {
        self.logs.error(&format!(
            "reload failed, the current configuration stays in force: {why}"
        ));
    }

    /// Watches a service's socket exactly when it may take a request.
    fn refresh(&mut self, service: ServiceRef) {
        let Some(svc) = self.services.get(&service) else {
            return;
        };
        let Some(listener) = &svc.listener else {
            return;
        };
        let running = self.usage.get(&svc.spec.id).map_or(0, |u| u.running);
        let counted = counts_instances(&svc.spec);
        let want = self.pauses.get(&svc.spec.id).is_none()
            && !self.busy.contains(&svc.spec.listen)
            && !(counted && at_capacity(&svc.spec.limits, running));
        if want == svc.watching {
            return;
        }
        let result = if want {
            let token = Source::Listener(service).token();
            self.reactor.add(listener.as_fd(), token, Interest::Read)
        } else {
            self.reactor.delete(listener.as_fd())
        };
        match result {
            Ok(()) => {
                if let Some(svc) = self.services.get_mut(&service) {
                    svc.watching = want;
                }
            }
            Err(e) => {
                let id = svc.spec.id.clone();
                self.logs
                    .error(&format!("service {id}: epoll: {}", describe_io(&e)));
            }
        }
    }

    fn serve(&mut self) -> i32 {
        // Idle for a second: release the code mappings (see sys::memory), then sleep on.
        let mut trimmed = false;
        let tag = self.options.tag.clone();
        loop {
            let paused = self.pauses.next();
            let idle = paused.is_none() && !trimmed;
            let deadline = match idle {
                true => Some(Instant::now() + crate::sys::memory::TRIM_AFTER),
                false => paused,
            };
            let ready = match self.reactor.wait(deadline) {
                Ok(ready) => ready,
                Err(e) => {
                    self.logs.error(&format!("epoll_wait: {}", describe_io(&e)));
                    return 1;
                }
            };
            if idle && ready.is_empty() {
                crate::sys::memory::trim_resident_code();
                trimmed = true;
                continue;
            }
            trimmed = trimmed && ready.is_empty();
            if !guard::turn(&tag, || self.turn(&ready)) {
                self.logs
                    .error("internal error in the event loop; going on with the next event");
            }
            if let Some(stop) = self.stop {
                self.shutdown(stop);
                return 0;
            }
        }
    }

    /// One turn of the loop: the events that came, then the pauses that ended.
    fn turn(&mut self, ready: &[Ready]) {
        for r in ready {
            match Source::of(r.token) {
                Some(Source::Signals) => self.on_signals(),
                Some(Source::Listener(service)) => self.on_listener(service),
                Some(Source::Conn(n)) => self.on_conn(n),
                None => {}
            }
        }
        self.wake_paused(Instant::now());
    }

    fn wake_paused(&mut self, now: Instant) {
        for id in self.pauses.take_expired(now) {
            let Some(&service) = self.by_id.get(&id) else {
                continue;
            };
            if let Some(svc) = self.services.get_mut(&service) {
                svc.rate.reset();
            }
            self.logs
                .info(&format!("service {id}: taking requests again"));
            self.refresh(service);
        }
    }

    fn pause(&mut self, service: ServiceRef, pause: Duration, why: &str) {
        let id = self.services[&service].spec.id.clone();
        // A pause longer than the clock can count (cps = 1 2^64-1) lasts as long as the
        // superserver runs.
        let now = Instant::now();
        let until = now.checked_add(pause).or_else(|| now.checked_add(FOREVER));
        self.pauses.set(id.clone(), until.unwrap_or(now));
        self.logs.warn(&format!(
            "service {id}: {why}: not taking requests for {} s",
            pause.as_secs_f32()
        ));
        self.refresh(service);
    }

    /// Whether the rate of a service leaves room for one more request; when it does
    /// not, the service pauses. The caller counts the request once it takes it.
    fn rate_room(&mut self, service: ServiceRef) -> bool {
        let Some(svc) = self.services.get_mut(&service) else {
            return false;
        };
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
        self.pause(service, limit.pause, &why);
        false
    }

    /// Counts one request taken by a service.
    fn record_request(&mut self, service: ServiceRef) {
        if let Some(svc) = self.services.get_mut(&service) {
            svc.rate.record();
        }
    }

    fn on_signals(&mut self) {
        for signo in self.signals.read() {
            match Signal::try_from(signo) {
                Ok(Signal::SIGCHLD) => self.reap(),
                Ok(Signal::SIGHUP) => self.reload(),
                Ok(Signal::SIGTERM | Signal::SIGINT) => {
                    self.stop.get_or_insert(Stop::LeaveServers);
                }
                Ok(Signal::SIGQUIT) => self.stop = Some(Stop::TerminateServers),
                Ok(Signal::SIGUSR1) => self.dump(),
                _ => {}
            }
        }
    }

    fn shutdown(&mut self, stop: Stop) {
        for svc in self.services.values_mut() {
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
        for svc in self.services.values() {
            let running = self.usage.get(&svc.spec.id).map_or(0, |u| u.running);
            let state = if self.pauses.get(&svc.spec.id).is_some() {
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
        reap_all(|exit| self.server_exited(exit));
    }

    fn server_exited(&mut self, exit: ChildExit) {
        let pid = exit.pid;
        let how = match exit.signal {
            Some(signal) => format!("signal={signal}"),
            None => format!("status={}", exit.status),
        };
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
        if let Some(&service) = self.by_id.get(&child.service) {
            self.refresh(service);
        }
    }

    fn on_listener(&mut self, service: ServiceRef) {
        let Some(svc) = self.services.get(&service) else {
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
            (Handler::Exec(_), _, true) => self.start_wait_server(service),
            (_, Protocol::Tcp, _) => self.accept_burst(service),
            (Handler::Internal(b), Protocol::Udp, _) => {
                let b = *b;
                self.answer_datagrams(service, b)
            }
            // A dgram program service is always a wait service (refused otherwise).
            (Handler::Exec(_), Protocol::Udp, false) => {}
        }
    }

    fn accept_burst(&mut self, service: ServiceRef) {
        for _ in 0..BURST {
            // Look at the rate before accepting; a connection is counted once taken.
            if !self.services[&service].watching || !self.rate_room(service) {
                break;
            }
            let Some(Listener::Tcp(listener)) = &self.services[&service].listener else {
                break;
            };
            match listener.accept() {
                Ok((stream, peer)) => {
                    self.record_request(service);
                    self.connection(service, stream, peer);
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
                    let why = format!("accept: {}", describe_io(&e));
                    self.pause(service, EXHAUSTED_PAUSE, &why);
                    break;
                }
                Err(e) => {
                    let id = self.services[&service].spec.id.clone();
                    self.logs
                        .error(&format!("service {id}: accept: {}", describe_io(&e)));
                    break;
                }
            }
        }
        self.refresh(service);
    }

    /// One accepted connection of a nowait stream service.
    fn connection(&mut self, service: ServiceRef, stream: TcpStream, peer: SocketAddr) {
        let ip = canonical(peer.ip());
        let spec = &self.services[&service].spec;
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
                self.open_conn(service, b, stream, peer);
            }
            Handler::Exec(_) => {
                let local = stream.local_addr().ok();
                self.start_server(service, stream.as_raw_fd(), Some(peer), local, None);
            }
        }
    }

    /// Starts a server on `fd` (a connection, or the listening socket of a wait
    /// service). False when it could not be started.
    fn start_server(
        &mut self,
        service: ServiceRef,
        fd: i32,
        peer: Option<SocketAddr>,
        local: Option<SocketAddr>,
        handover: Option<(ListenKey, Option<socket::Waiting>)>,
    ) -> bool {
        let svc = &self.services[&service];
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

    fn start_wait_server(&mut self, service: ServiceRef) {
        let svc = &self.services[&service];
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
                    self.logs
                        .error(&format!("service {id}: recvfrom: {}", describe_io(&e)));
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
        if !self.rate_room(service) {
            return;
        }
        self.record_request(service);
        let peer = request.map(|w| w.source);
        if self.start_server(service, fd, peer, None, Some((key.clone(), request))) {
            self.busy.insert(key);
        } else if key.protocol == Protocol::Udp {
            socket::drop_datagram(fd);
        } else {
            self.pause(
                service,
                FAILED_WAIT_PAUSE,
                "its server could not be started",
            );
        }
        self.refresh(service);
    }

    /// The server of a datagram wait service is gone. If the datagram it was started
    /// for still waits, it never read it: that datagram is dropped (it would start the
    /// server again at once, and again, without end), and after UNREAD_LIMIT such exits
    /// in a row the service pauses.
    fn check_request_taken(&mut self, child: &Child, key: &ListenKey, request: socket::Waiting) {
        let Some(&service) = self.by_id.get(&child.service) else {
            return;
        };
        let Some(svc) = self.services.get_mut(&service) else {
            return;
        };
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
            if let Some(svc) = self.services.get_mut(&service) {
                svc.unread_exits = 0;
            }
            let why = format!("its server exited {unread} times in a row without reading");
            self.pause(service, FAILED_WAIT_PAUSE, &why);
        }
    }

    fn answer_datagrams(&mut self, service: ServiceRef, builtin: Builtin) {
        let mut buf = [0u8; 64 * 1024];
        for _ in 0..BURST {
            if !self.services[&service].watching {
                return;
            }
            if !self.rate_room(service) {
                return;
            }
            let svc = &self.services[&service];
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
            self.record_request(service);
            let Some(Listener::Udp(sock)) = &self.services[&service].listener else {
                return;
            };
            internal::answer_datagram(builtin, sock, &buf[..n], peer, &mut self.lengths);
            self.log_start(&id, &log, 0, Some(ip));
        }
    }

    fn open_conn(
        &mut self,
        service: ServiceRef,
        builtin: Builtin,
        stream: TcpStream,
        peer: SocketAddr,
    ) {
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        let id = self.services[&service].spec.id.clone();
        let conn = Conn::new(stream, builtin, id.clone(), peer);
        let number = self.next_conn;
        self.next_conn += 1;
        let token = Source::Conn(number).token();
        if let Err(e) = self
            .reactor
            .add(conn.stream.as_fd(), token, conn.first_interest())
        {
            self.logs
                .error(&format!("service {id}: epoll: {}", describe_io(&e)));
            return;
        }
        let ip = canonical(peer.ip());
        self.usage.entry(id.clone()).or_default().add(Some(ip));
        self.conns.insert(number, conn);
        let log = self.services[&service].spec.log.clone();
        self.log_start(&id, &log, 0, Some(ip));
    }

    fn on_conn(&mut self, number: u64) {
        let Some(conn) = self.conns.get_mut(&number) else {
            return;
        };
        match conn.progress() {
            Next::Watch(interest) => {
                let token = Source::Conn(number).token();
                let _ = self.reactor.modify(conn.stream.as_fd(), token, interest);
            }
            Next::Done => {
                if let Some(conn) = self.conns.remove(&number) {
                    self.conn_closed(conn);
                }
            }
        }
    }

    fn conn_closed(&mut self, conn: Conn) {
        let _ = self.reactor.delete(conn.stream.as_fd());
        let ip = canonical(conn.peer.ip());
        self.release(&conn.service, Some(ip));
        if let Some(&service) = self.by_id.get(&conn.service) {
            let log = self.services[&service].spec.log.clone();
            let exit = Exit {
                how: "status=0",
                pid: 0,
                duration: conn.started.elapsed(),
                traffic: Some(conn.traffic),
            };
            self.log_exit(&conn.service, &log, exit);
            self.refresh(service);
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
