//! The superserver's effective configuration: every service of `xinetd.conf` (with its
//! `defaults` and included files) and of `inetd.conf`, resolved into one list of
//! [`ServiceSpec`]s, plus the services that are disabled and the problems found.
//!
//! A problem in one service disables that service only; the others stand. Name lookups
//! (users, groups, host names) come through [`Lookup`], so that everything here stays
//! data in, data out.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use crate::format::inetd_conf::InetdEntry;
use crate::format::services::Services;
use crate::format::syslog::{Facility, Severity};
use crate::format::xinetd::{Item, Origin};
use crate::plan::access::AccessRules;

pub(crate) mod inetd;
pub(crate) mod limits;
pub(crate) mod reload;
pub(crate) mod xinetd;

/// Servers of one service that may run at once, unless `instances` says otherwise.
pub(crate) const DEFAULT_INSTANCES: u32 = 256;
/// Connections a second a service takes before pausing (`cps`), unless configured.
pub(crate) const DEFAULT_CPS: u32 = 1000;
/// Seconds a service pauses after going over its rate, unless configured.
pub(crate) const DEFAULT_CPS_PAUSE_SECS: u64 = 2;
/// inetd.conf's `wait.N`/`nowait.N` counts servers per minute, and a service over it
/// pauses for ten minutes, as in the classic inetd.
pub(crate) const INETD_RATE_WINDOW: Duration = Duration::from_secs(60);
pub(crate) const INETD_RATE_PAUSE: Duration = Duration::from_secs(600);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// Which addresses a socket accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Family {
    V4,
    /// An IPv6 socket with `IPV6_V6ONLY`.
    V6Only,
    /// One IPv6 socket that also takes IPv4 clients (as `::ffff:a.b.c.d`).
    Dual,
}

/// What identifies a listening socket. Two services with the same key would need the
/// same socket; a reload keeps a socket whose key is still wanted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ListenKey {
    pub protocol: Protocol,
    pub family: Family,
    pub addr: IpAddr,
    pub port: u16,
    /// The socket itself goes to the server (a `wait` service run by a program), which
    /// needs it blocking; every other socket stays in the superserver, non-blocking.
    /// Changing it means a new socket.
    pub handover: bool,
}

impl fmt::Display for ListenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{}:{}/{}", a, self.port, self.protocol.name()),
            IpAddr::V6(a) => write!(f, "[{}]:{}/{}", a, self.port, self.protocol.name()),
        }
    }
}

/// The services built into the superserver (RFC 862, 863, 867, 864, 868).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Builtin {
    Echo,
    Discard,
    Daytime,
    Chargen,
    Time,
}

impl Builtin {
    pub(crate) const ALL: [Builtin; 5] = [
        Builtin::Echo,
        Builtin::Discard,
        Builtin::Daytime,
        Builtin::Chargen,
        Builtin::Time,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Builtin::Echo => "echo",
            Builtin::Discard => "discard",
            Builtin::Daytime => "daytime",
            Builtin::Chargen => "chargen",
            Builtin::Time => "time",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    fn unknown(name: &str) -> String {
        format!(
            "there is no internal service named '{name}' (internal services: echo, discard, daytime, chargen, time)"
        )
    }
}

/// Who a server runs as, resolved from the user and group databases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    pub user: String,
    pub uid: u32,
    pub gid: u32,
    /// The supplementary groups (initgroups' list, or empty with `groups = no`).
    pub groups: Vec<u32>,
}

/// A program started for each request (nowait) or for a burst of them (wait).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Exec {
    pub program: PathBuf,
    /// The full argument vector, argv[0] first.
    pub argv: Vec<String>,
    pub identity: Identity,
    /// `env`: set for the server, over whatever `passenv` lets through.
    pub env: Vec<(String, String)>,
    /// `passenv`: None passes the superserver's whole environment.
    pub passenv: Option<Vec<String>>,
    pub umask: Option<u32>,
    pub nice: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Handler {
    Internal(Builtin),
    Exec(Exec),
}

/// "Above `max` requests in `window`, stop taking requests for `pause`."
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RateLimit {
    pub max: u32,
    pub window: Duration,
    pub pause: Duration,
}

impl RateLimit {
    pub(crate) fn per_second(max: u32, pause_secs: u64) -> RateLimit {
        RateLimit {
            max,
            window: Duration::from_secs(1),
            pause: Duration::from_secs(pause_secs),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Servers (or internal connections) running at once; None: no limit.
    pub instances: Option<u32>,
    /// Of those, from one client address.
    pub per_source: Option<u32>,
    pub rate: Option<RateLimit>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            instances: Some(DEFAULT_INSTANCES),
            per_source: None,
            rate: Some(RateLimit::per_second(DEFAULT_CPS, DEFAULT_CPS_PAUSE_SECS)),
        }
    }
}

/// Where a service's messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LogTarget {
    /// The superserver's own log (syslog when it listens, else its file or stderr).
    Main,
    Syslog {
        facility: Facility,
        severity: Severity,
    },
    /// Appended to a file; past `soft` bytes a warning, past `hard` nothing more.
    File {
        path: PathBuf,
        soft: Option<u64>,
        hard: Option<u64>,
    },
}

/// `log_on_success` fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SuccessFields {
    pub pid: bool,
    pub host: bool,
    pub exit: bool,
    pub duration: bool,
    pub traffic: bool,
}

/// `log_on_failure` fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FailureFields {
    pub host: bool,
    pub attempt: bool,
}

impl Default for FailureFields {
    fn default() -> FailureFields {
        FailureFields {
            host: true,
            attempt: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LogSpec {
    pub target: LogTarget,
    pub on_success: SuccessFields,
    pub on_failure: FailureFields,
}

impl Default for LogSpec {
    fn default() -> LogSpec {
        LogSpec {
            target: LogTarget::Main,
            on_success: SuccessFields::default(),
            on_failure: FailureFields::default(),
        }
    }
}

/// Options set on each connection (and the listening socket).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SocketOptions {
    pub nodelay: bool,
    pub keepalive: bool,
    pub sndbuf: Option<u32>,
    pub rcvbuf: Option<u32>,
}

/// One service, ready to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServiceSpec {
    /// Unique among the services (xinetd's `id`; `name/protocol` for inetd.conf lines).
    pub id: String,
    /// The service name as written.
    pub name: String,
    pub at: Origin,
    pub listen: ListenKey,
    pub handler: Handler,
    pub access: AccessRules,
    pub limits: Limits,
    pub log: LogSpec,
    pub options: SocketOptions,
}

/// Where a service listens, as its configuration says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub protocol: Protocol,
    pub family: Family,
    pub addr: IpAddr,
    pub port: u16,
}

impl ServiceSpec {
    /// A service with every attribute its file does not set at its default. A `wait`
    /// service run by a program gets its listening socket handed over (an internal
    /// one is always served in the loop).
    pub(crate) fn new(
        id: &str,
        name: &str,
        at: Origin,
        endpoint: Endpoint,
        wait: bool,
        handler: Handler,
    ) -> ServiceSpec {
        let Endpoint {
            protocol,
            family,
            addr,
            port,
        } = endpoint;
        ServiceSpec {
            id: id.to_string(),
            name: name.to_string(),
            at,
            listen: ListenKey {
                protocol,
                family,
                addr,
                port,
                handover: wait && matches!(handler, Handler::Exec(_)),
            },
            handler,
            access: AccessRules::default(),
            limits: Limits::default(),
            log: LogSpec::default(),
            options: SocketOptions::default(),
        }
    }

    /// Whether the server gets the listening socket itself (a `wait` program).
    pub(crate) fn handover(&self) -> bool {
        self.listen.handover
    }
}

/// A configuration error in one service (or a warning about it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub at: Origin,
    /// The service it concerns, when there is one.
    pub service: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.service {
            Some(s) => write!(f, "{}: service {}: {}", self.at, s, self.message),
            None => write!(f, "{}: {}", self.at, self.message),
        }
    }
}

/// A service that is configured but switched off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Disabled {
    pub id: String,
    pub at: Origin,
    pub why: String,
}

/// The result of resolving every configuration file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ServiceSet {
    pub services: Vec<ServiceSpec>,
    pub disabled: Vec<Disabled>,
    /// Errors: each one kept a service from running.
    pub errors: Vec<Problem>,
    /// Things ignored or suspicious that did not stop anything.
    pub warnings: Vec<Problem>,
}

/// Why a name could not be looked up, by what the name was (the problem that
/// disables the service points at the line that wrote it); each holds its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LookupError {
    /// The user: unknown, or one the superserver may not run servers as.
    User(String),
    /// The group, or the user's supplementary groups.
    Group(String),
    Host(String),
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::User(m) | LookupError::Group(m) | LookupError::Host(m) => f.write_str(m),
        }
    }
}

/// Name lookups the planner needs, provided by the system layer (or by tests).
pub(crate) trait Lookup {
    /// The identity of `user` (name or number) with `group` (name or number; None: the
    /// user's own) and, when `supplementary`, the user's supplementary groups.
    fn identity(
        &self,
        user: &str,
        group: Option<&str>,
        supplementary: bool,
    ) -> Result<Identity, LookupError>;
    /// The addresses of a host name.
    fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, LookupError>;
}

/// Resolves the whole configuration: the xinetd items (with includes already expanded,
/// in reading order) and the inetd.conf entries.
pub(crate) fn resolve(
    xinetd_items: &[Item],
    inetd_entries: &[InetdEntry],
    services: &Services,
    lookup: &dyn Lookup,
) -> ServiceSet {
    let mut set = ServiceSet::default();
    xinetd::resolve_into(xinetd_items, services, lookup, &mut set);
    inetd::resolve_into(inetd_entries, services, lookup, &mut set);
    drop_conflicts(&mut set);
    set
}

/// Two services may not share an id or a socket: the later one (in reading order) is
/// refused, naming the one it collides with.
fn drop_conflicts(set: &mut ServiceSet) {
    let mut kept: Vec<ServiceSpec> = Vec::with_capacity(set.services.len());
    for spec in std::mem::take(&mut set.services) {
        let clash = kept.iter().find_map(|k| {
            if k.id == spec.id {
                Some(format!(
                    "the id '{}' is already used by the service at {}",
                    spec.id, k.at
                ))
            } else if k.listen.protocol == spec.listen.protocol
                && k.listen.port == spec.listen.port
                && k.listen.addr == spec.listen.addr
            {
                Some(format!(
                    "{} is already used by service {} ({})",
                    spec.listen, k.id, k.at
                ))
            } else {
                None
            }
        });
        match clash {
            Some(message) => set.errors.push(Problem {
                at: spec.at.clone(),
                service: Some(spec.id.clone()),
                message,
            }),
            None => kept.push(spec),
        }
    }
    set.services = kept;
}

/// Why `set` leaves the superserver nothing to serve (None: it has a service), in the
/// words of the message that refuses to start or reload with it.
pub(crate) fn nothing_to_serve(set: &ServiceSet) -> Option<String> {
    if !set.services.is_empty() {
        return None;
    }
    let counted = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let mut why = match (set.disabled.len(), set.errors.len()) {
        (0, 0) => return Some("no service to run: the configuration has none".to_string()),
        (off, 0) => format!(
            "no service to run: {} switched off",
            counted(off, "service")
        ),
        (0, bad) => format!("no service to run: {}", counted(bad, "error")),
        (off, bad) => format!(
            "no service to run: {} switched off, {}",
            counted(off, "service"),
            counted(bad, "error")
        ),
    };
    if let Some(first) = set.errors.first() {
        why.push_str(&format!(" (the first: {first})"));
    }
    Some(why)
}

/// The "any address" of a family.
pub(crate) fn any_addr(family: Family) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::V6Only | Family::Dual => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// The last path component (argv[0] of a server).
pub(crate) fn basename(path: &str) -> &str {
    path.rsplit('/').find(|p| !p.is_empty()).unwrap_or(path)
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Users root (0), nobody (65534, groups 65534 and 100) and daemon (1); host
    /// `localhost` and `twohomed` (10.0.0.1 and 10.0.0.2).
    pub(crate) struct FakeLookup;

    impl Lookup for FakeLookup {
        fn identity(
            &self,
            user: &str,
            group: Option<&str>,
            supplementary: bool,
        ) -> Result<Identity, LookupError> {
            let (uid, gid, groups) = match user {
                "root" | "0" => (0, 0, vec![0]),
                "nobody" | "65534" => (65534, 65534, vec![65534, 100]),
                "daemon" | "1" => (1, 1, vec![1]),
                _ => return Err(LookupError::User(format!("unknown user \"{user}\""))),
            };
            let gid = match group {
                None => gid,
                Some("root") | Some("0") => 0,
                Some("nogroup") | Some("65534") => 65534,
                Some("users") | Some("100") => 100,
                Some(g) => return Err(LookupError::Group(format!("unknown group \"{g}\""))),
            };
            Ok(Identity {
                user: user.to_string(),
                uid,
                gid,
                groups: if supplementary { groups } else { vec![] },
            })
        }

        fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, LookupError> {
            match host {
                "localhost" => Ok(vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]),
                "twohomed" => Ok(vec![
                    "10.0.0.1".parse().unwrap(),
                    "10.0.0.2".parse().unwrap(),
                ]),
                _ => Err(LookupError::Host(format!("cannot resolve host \"{host}\""))),
            }
        }
    }

    pub(crate) fn services() -> Services {
        Services::parse(
            "echo 7/tcp\necho 7/udp\ndiscard 9/tcp\ndiscard 9/udp\ndaytime 13/tcp\n\
             daytime 13/udp\nchargen 19/tcp\nchargen 19/udp\ntime 37/tcp\ntime 37/udp\n\
             ftp 21/tcp\ntelnet 23/tcp\ntftp 69/udp\n",
        )
    }
}
