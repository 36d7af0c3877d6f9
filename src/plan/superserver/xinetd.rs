//! What the attributes of `xinetd.conf` mean: the `defaults` block merged into each
//! service (`=` replaces an inherited list, `+=` adds to it, `-=` removes from it), then
//! every attribute checked and turned into a [`ServiceSpec`].
//!
//! Every error names the file and line of the attribute at fault.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use super::{
    any_addr, basename, Builtin, Disabled, Endpoint, Exec, FailureFields, Family, Handler,
    Identity, Limits, LogSpec, LogTarget, Lookup, LookupError, Problem, Protocol, RateLimit,
    ServiceSet, ServiceSpec, SocketOptions, SuccessFields,
};
use crate::format::services::Services;
use crate::format::syslog::{Facility, Severity};
use crate::format::xinetd::{Attribute, Block, Item, Op, Origin};
use crate::plan::access::{parse_pattern, AccessRules, Net, Pattern};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Exactly one value, `=` only.
    One,
    /// Exactly two values, `=` only.
    Two,
    /// Any number of values, `=` only.
    Words,
    /// A set: `=`, `+=`, `-=`; may appear several times.
    List,
    /// A set without `-=` (env).
    ListNoRemove,
}

/// The attributes xinetd knows but this superserver does not implement: a service
/// using one is refused rather than run without what it asked for.
const UNSUPPORTED: &[&str] = &[
    "access_times",
    "redirect",
    "banner",
    "banner_success",
    "banner_fail",
    "rpc_version",
    "rpc_number",
    "max_load",
    "rlimit_as",
    "rlimit_cpu",
    "rlimit_data",
    "rlimit_files",
    "rlimit_rss",
    "rlimit_stack",
    "deny_time",
    "libwrap",
    "mdns",
];

/// The canonical name and kind of a service attribute.
fn service_attribute(name: &str) -> Option<(&'static str, Kind)> {
    Some(match name {
        "id" => ("id", Kind::One),
        "type" => ("type", Kind::Words),
        "flags" => ("flags", Kind::Words),
        "socket_type" => ("socket_type", Kind::One),
        "protocol" => ("protocol", Kind::One),
        "wait" => ("wait", Kind::One),
        "user" => ("user", Kind::One),
        "group" => ("group", Kind::One),
        "groups" => ("groups", Kind::One),
        "server" => ("server", Kind::One),
        "server_args" => ("server_args", Kind::Words),
        "instances" => ("instances", Kind::One),
        "per_source" => ("per_source", Kind::One),
        "cps" => ("cps", Kind::Two),
        "log_type" => ("log_type", Kind::Words),
        "log_on_success" => ("log_on_success", Kind::List),
        "log_on_failure" => ("log_on_failure", Kind::List),
        "only_from" => ("only_from", Kind::List),
        "no_access" => ("no_access", Kind::List),
        "env" => ("env", Kind::ListNoRemove),
        "passenv" => ("passenv", Kind::List),
        "port" => ("port", Kind::One),
        "bind" | "interface" => ("bind", Kind::One),
        "disable" => ("disable", Kind::One),
        "umask" => ("umask", Kind::One),
        "nice" => ("nice", Kind::One),
        "v6only" => ("v6only", Kind::One),
        _ => return None,
    })
}

/// The canonical name and kind of a `defaults` attribute. Lists accumulate there: `=`
/// adds, as `+=` does.
fn defaults_attribute(name: &str) -> Option<(&'static str, Kind)> {
    Some(match name {
        "log_type" => ("log_type", Kind::Words),
        "log_on_success" => ("log_on_success", Kind::List),
        "log_on_failure" => ("log_on_failure", Kind::List),
        "only_from" => ("only_from", Kind::List),
        "no_access" => ("no_access", Kind::List),
        "passenv" => ("passenv", Kind::List),
        "env" => ("env", Kind::ListNoRemove),
        "disabled" => ("disabled", Kind::List),
        "enabled" => ("enabled", Kind::List),
        "instances" => ("instances", Kind::One),
        "per_source" => ("per_source", Kind::One),
        "cps" => ("cps", Kind::Two),
        "bind" | "interface" => ("bind", Kind::One),
        "groups" => ("groups", Kind::One),
        "v6only" => ("v6only", Kind::One),
        "umask" => ("umask", Kind::One),
        _ => return None,
    })
}

/// The value of one attribute after merging, with the line that last set it.
#[derive(Clone, Debug)]
struct Value {
    words: Vec<String>,
    at: Origin,
}

type Merged = BTreeMap<&'static str, Value>;

fn problem(at: &Origin, service: Option<&str>, message: impl Into<String>) -> Problem {
    Problem {
        at: at.clone(),
        service: service.map(str::to_string),
        message: message.into(),
    }
}

/// Checks one attribute line against its kind; returns the canonical name and kind.
fn check_line(
    a: &Attribute,
    in_defaults: bool,
    service: Option<&str>,
) -> Result<(&'static str, Kind), Problem> {
    let found = if in_defaults {
        defaults_attribute(&a.name)
    } else {
        service_attribute(&a.name)
    };
    let Some((name, kind)) = found else {
        let message = if UNSUPPORTED.contains(&a.name.as_str()) {
            format!("attribute '{}' is not supported", a.name)
        } else if in_defaults && service_attribute(&a.name).is_some() {
            format!("attribute '{}' cannot be used in defaults", a.name)
        } else {
            format!("unknown attribute '{}'", a.name)
        };
        return Err(problem(&a.at, service, message));
    };
    let op_ok = match kind {
        Kind::List => true,
        Kind::ListNoRemove => a.op != Op::Remove,
        _ => a.op == Op::Set,
    };
    if !op_ok {
        return Err(problem(
            &a.at,
            service,
            format!("'{}' does not take '{}'", a.name, a.op.as_str()),
        ));
    }
    let count_ok = match kind {
        Kind::One => a.values.len() == 1,
        Kind::Two => a.values.len() == 2,
        _ => true,
    };
    if !count_ok {
        let want = if kind == Kind::One {
            "one value"
        } else {
            "two values"
        };
        return Err(problem(
            &a.at,
            service,
            format!("'{}' takes {want}, found {}", a.name, a.values.len()),
        ));
    }
    Ok((name, kind))
}

fn apply_list(merged: &mut Merged, name: &'static str, op: Op, a: &Attribute, replace: bool) {
    let entry = merged.entry(name).or_insert_with(|| Value {
        words: Vec::new(),
        at: a.at.clone(),
    });
    entry.at = a.at.clone();
    match op {
        Op::Set if replace => entry.words = a.values.clone(),
        Op::Set | Op::Add => {
            for v in &a.values {
                if !entry.words.contains(v) {
                    entry.words.push(v.clone());
                }
            }
        }
        Op::Remove => entry.words.retain(|w| !a.values.contains(w)),
    }
}

/// Merges the `defaults` block; errors are reported and the line ignored.
fn merge_defaults(block: &Block, problems: &mut Vec<Problem>) -> Merged {
    let mut merged = Merged::new();
    for a in &block.attributes {
        match check_line(a, true, None) {
            Ok((name, Kind::List | Kind::ListNoRemove)) => {
                apply_list(&mut merged, name, a.op, a, false)
            }
            Ok((name, _)) => {
                merged.insert(
                    name,
                    Value {
                        words: a.values.clone(),
                        at: a.at.clone(),
                    },
                );
            }
            Err(p) => problems.push(p),
        }
    }
    merged
}

/// Merges a service block over the defaults.
fn merge_service(name: &str, block: &Block, defaults: &Merged) -> Result<Merged, Vec<Problem>> {
    let mut merged: Merged = defaults
        .iter()
        .filter(|(k, _)| !matches!(**k, "disabled" | "enabled"))
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    let mut set_here: Vec<&'static str> = Vec::new();
    let mut problems = Vec::new();
    for a in &block.attributes {
        match check_line(a, false, Some(name)) {
            Ok((attr, Kind::List | Kind::ListNoRemove)) => {
                let replace = a.op == Op::Set && !set_here.contains(&attr);
                apply_list(&mut merged, attr, a.op, a, replace);
                set_here.push(attr);
            }
            Ok((attr, _)) => {
                if set_here.contains(&attr) {
                    problems.push(problem(
                        &a.at,
                        Some(name),
                        format!("'{}' is set twice", a.name),
                    ));
                    continue;
                }
                set_here.push(attr);
                merged.insert(
                    attr,
                    Value {
                        words: a.values.clone(),
                        at: a.at.clone(),
                    },
                );
            }
            Err(p) => problems.push(p),
        }
    }
    if problems.is_empty() {
        Ok(merged)
    } else {
        Err(problems)
    }
}

pub(super) fn resolve_into(
    items: &[Item],
    services: &Services,
    lookup: &dyn Lookup,
    set: &mut ServiceSet,
) {
    let mut defaults = Merged::new();
    let mut seen_defaults: Option<&Origin> = None;
    for item in items {
        if let Item::Defaults(block) = item {
            match seen_defaults {
                Some(first) => set.errors.push(problem(
                    &block.at,
                    None,
                    format!("only one defaults entry is allowed (the first is at {first}); this one is ignored"),
                )),
                None => {
                    seen_defaults = Some(&block.at);
                    defaults = merge_defaults(block, &mut set.errors);
                }
            }
        }
    }
    for item in items {
        if let Item::Service { name, block } = item {
            resolve_service(name, block, &defaults, services, lookup, set);
        }
    }
}

fn resolve_service(
    name: &str,
    block: &Block,
    defaults: &Merged,
    services: &Services,
    lookup: &dyn Lookup,
    set: &mut ServiceSet,
) {
    let merged = match merge_service(name, block, defaults) {
        Ok(m) => m,
        Err(problems) => {
            set.errors.extend(problems);
            return;
        }
    };
    let mut r = Resolver {
        name,
        block_at: &block.at,
        merged: &merged,
        warnings: Vec::new(),
    };
    let id = r.word("id").map_or(name, |(w, _)| w).to_string();
    r.name = &id;
    match r.disabled(defaults) {
        Ok(Some(why)) => {
            set.disabled.push(Disabled {
                id: id.clone(),
                at: block.at.clone(),
                why,
            });
            return;
        }
        Ok(None) => {}
        Err(p) => {
            set.errors.push(p);
            return;
        }
    }
    let result = r.spec(name, &id, services, lookup);
    set.warnings.append(&mut r.warnings);
    match result {
        Ok(spec) => set.services.push(spec),
        Err(p) => set.errors.push(p),
    }
}

/// Turns the merged attributes of one service into its spec.
struct Resolver<'a> {
    /// The id, for messages.
    name: &'a str,
    block_at: &'a Origin,
    merged: &'a Merged,
    warnings: Vec<Problem>,
}

#[derive(Default)]
struct Flags {
    ipv4: bool,
    ipv6: bool,
    nodelay: bool,
    keepalive: bool,
    name_in_args: bool,
}

impl<'a> Resolver<'a> {
    fn word(&self, attr: &str) -> Option<(&'a str, &'a Origin)> {
        let v = self.merged.get(attr)?;
        Some((v.words.first()?.as_str(), &v.at))
    }

    fn words(&self, attr: &str) -> Option<(&'a [String], &'a Origin)> {
        self.merged.get(attr).map(|v| (v.words.as_slice(), &v.at))
    }

    fn err(&self, at: &Origin, message: impl Into<String>) -> Problem {
        problem(at, Some(self.name), message)
    }

    fn warn(&mut self, at: &Origin, message: impl Into<String>) {
        let p = problem(at, Some(self.name), message);
        self.warnings.push(p);
    }

    fn yes_no(&self, attr: &str) -> Result<Option<bool>, Problem> {
        match self.word(attr) {
            None => Ok(None),
            Some(("yes", _)) => Ok(Some(true)),
            Some(("no", _)) => Ok(Some(false)),
            Some((other, at)) => {
                Err(self.err(at, format!("{attr} must be yes or no, not '{other}'")))
            }
        }
    }

    /// Why the service is switched off, if it is.
    fn disabled(&self, defaults: &Merged) -> Result<Option<String>, Problem> {
        if self.yes_no("disable")? == Some(true) {
            return Ok(Some("disable = yes".to_string()));
        }
        if let Some(list) = defaults.get("disabled") {
            if list.words.iter().any(|w| w == self.name) {
                return Ok(Some(format!("listed in 'disabled' ({})", list.at)));
            }
        }
        if let Some(list) = defaults.get("enabled") {
            if !list.words.iter().any(|w| w == self.name) {
                return Ok(Some(format!("not listed in 'enabled' ({})", list.at)));
            }
        }
        Ok(None)
    }

    fn spec(
        &mut self,
        name: &str,
        id: &str,
        services: &Services,
        lookup: &dyn Lookup,
    ) -> Result<ServiceSpec, Problem> {
        let (internal, unlisted) = self.service_type()?;
        let protocol = self.protocol()?;
        let wait = match self.yes_no("wait")? {
            Some(w) => w,
            None => return Err(self.err(self.block_at, "'wait' is missing (wait = yes or no)")),
        };
        if protocol == Protocol::Udp && !wait {
            let at = self.word("wait").map_or(self.block_at, |(_, at)| at);
            return Err(self.err(
                at,
                "a dgram service needs wait = yes (with wait = no every datagram would start a server)",
            ));
        }
        let flags = self.flags()?;
        let port = self.port(name, protocol, unlisted, services)?;
        let (family, addr) = self.address(&flags, lookup)?;
        let access = self.access(lookup)?;
        let handler = if internal {
            Handler::Internal(
                Builtin::from_name(name)
                    .ok_or_else(|| self.err(self.block_at, Builtin::unknown(name)))?,
            )
        } else {
            Handler::Exec(self.exec(&flags, lookup)?)
        };
        let endpoint = Endpoint {
            protocol,
            family,
            addr,
            port,
        };
        let spec = ServiceSpec::new(id, name, self.block_at.clone(), endpoint, wait, handler);
        if spec.handover() && protocol == Protocol::Tcp && !access.is_open() {
            let at = self
                .merged
                .get("only_from")
                .or_else(|| self.merged.get("no_access"))
                .map_or(self.block_at, |v| &v.at);
            return Err(self.err(
                at,
                "only_from/no_access cannot be enforced on a wait = yes stream service (its server accepts the connections itself)",
            ));
        }
        Ok(ServiceSpec {
            access,
            limits: self.limits()?,
            log: self.log()?,
            options: SocketOptions {
                nodelay: flags.nodelay,
                keepalive: flags.keepalive,
                ..SocketOptions::default()
            },
            ..spec
        })
    }

    /// (INTERNAL, UNLISTED)
    fn service_type(&self) -> Result<(bool, bool), Problem> {
        let mut internal = false;
        let mut unlisted = false;
        if let Some((words, at)) = self.words("type") {
            for w in words {
                match w.to_ascii_uppercase().as_str() {
                    "INTERNAL" => internal = true,
                    "UNLISTED" => unlisted = true,
                    "RPC" | "TCPMUX" | "TCPMUXPLUS" => {
                        return Err(self.err(at, format!("type {w} is not supported")))
                    }
                    _ => return Err(self.err(at, format!("unknown type '{w}'"))),
                }
            }
        }
        Ok((internal, unlisted))
    }

    fn protocol(&self) -> Result<Protocol, Problem> {
        let (socket_type, at) = self
            .word("socket_type")
            .ok_or_else(|| self.err(self.block_at, "'socket_type' is missing (stream or dgram)"))?;
        let by_type = match socket_type {
            "stream" => Protocol::Tcp,
            "dgram" => Protocol::Udp,
            "raw" | "seqpacket" => {
                return Err(self.err(at, format!("socket_type {socket_type} is not supported")))
            }
            other => return Err(self.err(at, format!("unknown socket_type '{other}'"))),
        };
        match self.word("protocol") {
            None => Ok(by_type),
            Some((p, at)) => {
                let protocol = match p {
                    "tcp" => Protocol::Tcp,
                    "udp" => Protocol::Udp,
                    other => {
                        return Err(self.err(
                            at,
                            format!("protocol '{other}' is not supported (tcp or udp)"),
                        ))
                    }
                };
                if protocol != by_type {
                    return Err(self.err(
                        at,
                        format!("protocol {p} does not fit socket_type {socket_type}"),
                    ));
                }
                Ok(protocol)
            }
        }
    }

    fn flags(&mut self) -> Result<Flags, Problem> {
        let mut flags = Flags::default();
        let Some((words, at)) = self.words("flags") else {
            return Ok(flags);
        };
        for w in words {
            match w.to_ascii_uppercase().as_str() {
                "IPV4" => flags.ipv4 = true,
                "IPV6" => flags.ipv6 = true,
                "NODELAY" => flags.nodelay = true,
                "KEEPALIVE" => flags.keepalive = true,
                "NAMEINARGS" => flags.name_in_args = true,
                // Every socket is opened with SO_REUSEADDR; no spawn is ever retried;
                // there is no libwrap to skip.
                "REUSE" | "NORETRY" | "NOLIBWRAP" => {}
                "INTERCEPT" | "SENSOR" | "IDONLY" | "LABELED" => {
                    return Err(self.err(at, format!("flag {w} is not supported")))
                }
                _ => return Err(self.err(at, format!("unknown flag '{w}'"))),
            }
        }
        Ok(flags)
    }

    fn port(
        &self,
        name: &str,
        protocol: Protocol,
        unlisted: bool,
        services: &Services,
    ) -> Result<u16, Problem> {
        let written = match self.word("port") {
            None => None,
            Some((p, at)) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| self.err(at, format!("invalid port '{p}'")))?,
            ),
        };
        let listed = if unlisted {
            None
        } else {
            services.port(name, protocol.name())
        };
        match (written, listed) {
            (Some(w), Some(l)) if w != l => Err(self.err(
                self.word("port").map_or(self.block_at, |(_, at)| at),
                format!("port {w} differs from the port of {name}/{} in etc/services ({l}); use type = UNLISTED for another port", protocol.name()),
            )),
            (Some(p), _) | (None, Some(p)) => Ok(p),
            (None, None) if unlisted => Err(self.err(self.block_at, "an UNLISTED service needs 'port'")),
            (None, None) => Err(self.err(
                self.block_at,
                format!("{name}/{} is not in etc/services; set 'port' (and type = UNLISTED)", protocol.name()),
            )),
        }
    }

    /// The family and address to listen on, from `bind`, the IPv4/IPv6 flags and
    /// `v6only`.
    fn address(&self, flags: &Flags, lookup: &dyn Lookup) -> Result<(Family, IpAddr), Problem> {
        let v6only = self.yes_no("v6only")?;
        let bind = match self.word("bind") {
            None => None,
            Some((host, at)) => Some(match host.parse::<IpAddr>() {
                Ok(a) => a,
                Err(_) => {
                    let addrs = lookup
                        .resolve(host)
                        .map_err(|e| self.err(at, e.to_string()))?;
                    let want_v6 = flags.ipv6 && !flags.ipv4;
                    addrs
                        .iter()
                        .find(|a| a.is_ipv6() == want_v6)
                        .or_else(|| addrs.first())
                        .copied()
                        .ok_or_else(|| self.err(at, format!("host {host} has no address")))?
                }
            }),
        };
        let v6 = match bind {
            Some(a) => a.is_ipv6(),
            None => flags.ipv6,
        };
        if !v6 {
            return Ok((Family::V4, bind.unwrap_or_else(|| any_addr(Family::V4))));
        }
        let addr = bind.unwrap_or_else(|| any_addr(Family::V6Only));
        let only = v6only.unwrap_or(!flags.ipv4);
        let family = if !only && addr.is_unspecified() {
            Family::Dual
        } else {
            Family::V6Only
        };
        Ok((family, addr))
    }

    fn nets(&self, attr: &str, lookup: &dyn Lookup) -> Result<Option<Vec<Net>>, Problem> {
        let Some((words, at)) = self.words(attr) else {
            return Ok(None);
        };
        let mut nets = Vec::new();
        for w in words {
            match parse_pattern(w).map_err(|e| self.err(at, format!("{attr}: {e}")))? {
                Pattern::Nets(n) => nets.extend(n),
                Pattern::Host(h) => {
                    let addrs = lookup
                        .resolve(&h)
                        .map_err(|e| self.err(at, format!("{attr}: {e}")))?;
                    nets.extend(addrs.into_iter().map(Net::host));
                }
            }
        }
        Ok(Some(nets))
    }

    fn access(&self, lookup: &dyn Lookup) -> Result<AccessRules, Problem> {
        Ok(AccessRules {
            only_from: self.nets("only_from", lookup)?,
            no_access: self.nets("no_access", lookup)?.unwrap_or_default(),
        })
    }

    fn exec(&mut self, flags: &Flags, lookup: &dyn Lookup) -> Result<Exec, Problem> {
        let (server, server_at) = self.word("server").ok_or_else(|| {
            self.err(
                self.block_at,
                "'server' is missing (or set type = INTERNAL)",
            )
        })?;
        if !server.starts_with('/') {
            return Err(self.err(
                server_at,
                format!("server '{server}' must be an absolute path"),
            ));
        }
        let args: Vec<String> = self
            .words("server_args")
            .map(|(w, _)| w.to_vec())
            .unwrap_or_default();
        let argv = if flags.name_in_args {
            if args.is_empty() {
                let at = self.words("flags").map_or(self.block_at, |(_, at)| at);
                return Err(self.err(
                    at,
                    "NAMEINARGS needs server_args starting with the program name",
                ));
            }
            args
        } else {
            std::iter::once(basename(server).to_string())
                .chain(args)
                .collect()
        };
        let (user, user_at) = self
            .word("user")
            .ok_or_else(|| self.err(self.block_at, "'user' is missing"))?;
        let group = self.word("group");
        let supplementary = self.yes_no("groups")?.unwrap_or(true);
        let identity: Identity = lookup
            .identity(user, group.map(|(g, _)| g), supplementary)
            .map_err(|e| {
                let at = match (&e, group) {
                    (LookupError::Group(_), Some((_, group_at))) => group_at,
                    _ => user_at,
                };
                self.err(at, e.to_string())
            })?;
        let env = match self.words("env") {
            None => Vec::new(),
            Some((words, at)) => words
                .iter()
                .map(|w| match w.split_once('=') {
                    Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
                    _ => Err(self.err(at, format!("env: '{w}' is not NAME=VALUE"))),
                })
                .collect::<Result<_, _>>()?,
        };
        let umask = match self.word("umask") {
            None => None,
            Some((u, at)) => Some(
                u32::from_str_radix(u, 8)
                    .ok()
                    .filter(|m| *m <= 0o777)
                    .ok_or_else(|| self.err(at, format!("umask '{u}' is not an octal mode")))?,
            ),
        };
        let nice = match self.word("nice") {
            None => None,
            Some((n, at)) => Some(
                n.parse::<i32>()
                    .ok()
                    .filter(|n| (-20..=19).contains(n))
                    .ok_or_else(|| {
                        self.err(at, format!("nice '{n}' is not a number from -20 to 19"))
                    })?,
            ),
        };
        Ok(Exec {
            program: PathBuf::from(server),
            argv,
            identity,
            env,
            passenv: self.words("passenv").map(|(w, _)| w.to_vec()),
            umask,
            nice,
        })
    }

    fn count(&self, attr: &str, default: Option<u32>) -> Result<Option<u32>, Problem> {
        match self.word(attr) {
            None => Ok(default),
            Some(("UNLIMITED", _)) => Ok(None),
            Some((n, at)) => n
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or_else(|| {
                    self.err(
                        at,
                        format!("{attr} must be a positive number or UNLIMITED, not '{n}'"),
                    )
                }),
        }
    }

    fn limits(&self) -> Result<Limits, Problem> {
        let defaults = Limits::default();
        let rate = match self.words("cps") {
            None => defaults.rate,
            Some((w, at)) => {
                let parsed = (w[0].parse::<u32>(), w[1].parse::<u64>());
                match parsed {
                    (Ok(max), Ok(pause)) if max > 0 && pause > 0 => {
                        Some(RateLimit::per_second(max, pause))
                    }
                    _ => {
                        return Err(self.err(
                            at,
                            format!(
                                "cps takes two positive numbers (RATE SECONDS), not '{} {}'",
                                w[0], w[1]
                            ),
                        ))
                    }
                }
            }
        };
        Ok(Limits {
            instances: self.count("instances", defaults.instances)?,
            per_source: self.count("per_source", defaults.per_source)?,
            rate,
        })
    }

    fn log(&mut self) -> Result<LogSpec, Problem> {
        let mut spec = LogSpec::default();
        if let Some((words, at)) = self.words("log_type") {
            spec.target = self.log_target(words, at)?;
        }
        if let Some((words, at)) = self.words("log_on_success") {
            let mut f = SuccessFields::default();
            for w in words {
                match w.to_ascii_uppercase().as_str() {
                    "PID" => f.pid = true,
                    "HOST" => f.host = true,
                    "EXIT" => f.exit = true,
                    "DURATION" => f.duration = true,
                    "TRAFFIC" => f.traffic = true,
                    "USERID" => self.warn(
                        at,
                        "log_on_success: USERID is ignored (no RFC 1413 ident lookups are made)",
                    ),
                    _ => return Err(self.err(at, format!("log_on_success: unknown field '{w}'"))),
                }
            }
            spec.on_success = f;
        }
        if let Some((words, at)) = self.words("log_on_failure") {
            let mut f = FailureFields {
                host: false,
                attempt: false,
            };
            for w in words {
                match w.to_ascii_uppercase().as_str() {
                    "HOST" => f.host = true,
                    "ATTEMPT" => f.attempt = true,
                    "USERID" => self.warn(
                        at,
                        "log_on_failure: USERID is ignored (no RFC 1413 ident lookups are made)",
                    ),
                    _ => return Err(self.err(at, format!("log_on_failure: unknown field '{w}'"))),
                }
            }
            spec.on_failure = f;
        }
        Ok(spec)
    }

    fn log_target(&self, words: &[String], at: &Origin) -> Result<LogTarget, Problem> {
        match words {
            [kind, facility, rest @ ..] if kind.eq_ignore_ascii_case("SYSLOG") && rest.len() <= 1 => {
                let facility = Facility::from_name(facility)
                    .ok_or_else(|| self.err(at, format!("log_type: unknown syslog facility '{facility}'")))?;
                let severity = match rest.first() {
                    None => Severity::Info,
                    Some(l) => Severity::from_name(l)
                        .ok_or_else(|| self.err(at, format!("log_type: unknown syslog level '{l}'")))?,
                };
                Ok(LogTarget::Syslog { facility, severity })
            }
            [kind, path, limits @ ..] if kind.eq_ignore_ascii_case("FILE") && limits.len() <= 2 => {
                if !path.starts_with('/') {
                    return Err(self.err(at, format!("log_type: '{path}' must be an absolute path")));
                }
                let size = |s: &String| {
                    parse_size(s).ok_or_else(|| self.err(at, format!("log_type: invalid size '{s}'")))
                };
                let soft = limits.first().map(size).transpose()?;
                let hard = match (limits.get(1).map(size).transpose()?, soft) {
                    (Some(h), _) => Some(h),
                    // xinetd's rule: 1% above the soft limit, at least 5 KiB, at most 20 KiB.
                    (None, Some(s)) => Some(s + (s / 100).clamp(5 * 1024, 20 * 1024)),
                    (None, None) => None,
                };
                Ok(LogTarget::File {
                    path: PathBuf::from(path),
                    soft,
                    hard,
                })
            }
            _ => Err(self.err(
                at,
                format!("log_type must be 'SYSLOG facility [level]' or 'FILE path [soft [hard]]', not '{}'", words.join(" ")),
            )),
        }
    }
}

/// `N`, `NK` or `NM` bytes.
fn parse_size(s: &str) -> Option<u64> {
    let (digits, unit) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1024),
        b'm' | b'M' => (&s[..s.len() - 1], 1024 * 1024),
        _ => (s, 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(unit)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{services, FakeLookup};
    use super::super::*;
    use crate::format::xinetd::parse;
    use proptest::prelude::*;
    use std::path::Path;

    fn resolve_text(text: &str) -> ServiceSet {
        let items = parse(Path::new("xinetd.conf"), text).unwrap();
        resolve(&items, &[], &services(), &FakeLookup)
    }

    fn one(text: &str) -> ServiceSpec {
        let set = resolve_text(text);
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        assert_eq!(set.services.len(), 1, "{set:?}");
        set.services.into_iter().next().unwrap()
    }

    fn error_of(text: &str) -> String {
        let set = resolve_text(text);
        assert!(set.services.is_empty(), "{set:?}");
        assert_eq!(set.errors.len(), 1, "{:?}", set.errors);
        set.errors[0].to_string()
    }

    #[test]
    fn nothing_to_serve_says_why() {
        let echo = "service echo\n{\n type = INTERNAL\n socket_type = stream\n wait = no\n";
        assert_eq!(
            nothing_to_serve(&resolve_text(&format!("{echo}}}\n"))),
            None
        );
        assert_eq!(
            nothing_to_serve(&resolve_text("")).unwrap(),
            "no service to run: the configuration has none"
        );
        let off = resolve_text(&format!("{echo} disable = yes\n}}\n"));
        assert_eq!(
            nothing_to_serve(&off).unwrap(),
            "no service to run: 1 service switched off"
        );
        let unknown =
            "service nosuch\n{\n socket_type = stream\n wait = no\n user = root\n server = /bin/cat\n}\n";
        let why = nothing_to_serve(&resolve_text(&format!(
            "{unknown}{echo} disable = yes\n}}\n"
        )));
        assert_eq!(
            why.unwrap(),
            "no service to run: 1 service switched off, 1 error (the first: xinetd.conf:1: \
             service nosuch: nosuch/tcp is not in etc/services; set 'port' (and type = UNLISTED))"
        );
    }

    #[test]
    fn an_internal_and_an_exec_service() {
        let echo = one("service echo\n{\n type = INTERNAL\n id = echo-stream\n socket_type = stream\n wait = no\n}\n");
        assert_eq!(echo.id, "echo-stream");
        assert_eq!(echo.handler, Handler::Internal(Builtin::Echo));
        assert_eq!(echo.listen.to_string(), "0.0.0.0:7/tcp");
        assert_eq!(echo.limits, Limits::default());

        let ftp = one("service ftp\n{\n socket_type = stream\n wait = no\n user = nobody\n group = users\n server = /usr/sbin/in.ftpd\n server_args = -l -a\n env = A=1 B=x=y\n passenv = PATH\n umask = 027\n nice = 5\n}\n");
        let Handler::Exec(exec) = ftp.handler else {
            panic!()
        };
        assert_eq!(exec.argv, ["in.ftpd", "-l", "-a"]);
        assert_eq!(exec.identity.uid, 65534);
        assert_eq!(exec.identity.gid, 100);
        assert_eq!(exec.identity.groups, [65534, 100]);
        assert_eq!(
            exec.env,
            [("A".into(), "1".into()), ("B".into(), "x=y".into())]
        );
        assert_eq!(exec.passenv, Some(vec!["PATH".to_string()]));
        assert_eq!((exec.umask, exec.nice), (Some(0o27), Some(5)));
        assert_eq!(ftp.listen.port, 21);
    }

    #[test]
    fn defaults_are_merged_with_set_add_remove() {
        let text = "\
defaults
{
 only_from = 10.0.0.0/8
 only_from = 192.168.1.0/24
 no_access = 10.9.9.9
 instances = 7
 cps = 3 4
 log_on_success = PID
 log_type = FILE /var/log/xinetd.log 10K
}
service echo
{
 id = a
 type = INTERNAL UNLISTED
 port = 1000
 socket_type = stream
 wait = no
 only_from += 127.0.0.1
 only_from -= 192.168.1.0/24
 log_on_success += HOST EXIT
}
service echo
{
 type = INTERNAL UNLISTED
 id = b
 port = 1001
 socket_type = stream
 wait = no
 only_from = 172.16.0.0/12
 no_access =
 instances = UNLIMITED
}
";
        let set = resolve_text(text);
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        let a = &set.services[0];
        let of: Vec<String> = a
            .access
            .only_from
            .as_ref()
            .unwrap()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(of, ["10.0.0.0/8", "127.0.0.1/32"]);
        assert_eq!(a.access.no_access.len(), 1);
        assert_eq!(a.limits.instances, Some(7));
        assert_eq!(a.limits.rate, Some(RateLimit::per_second(3, 4)));
        assert!(a.log.on_success.pid && a.log.on_success.host && a.log.on_success.exit);
        assert_eq!(
            a.log.target,
            LogTarget::File {
                path: "/var/log/xinetd.log".into(),
                soft: Some(10240),
                hard: Some(10240 + 5120)
            }
        );
        let b = &set.services[1];
        assert_eq!(b.handler, Handler::Internal(Builtin::Echo));
        let of: Vec<String> = b
            .access
            .only_from
            .as_ref()
            .unwrap()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(of, ["172.16.0.0/12"]);
        assert!(b.access.no_access.is_empty());
        assert_eq!(b.limits.instances, None);
    }

    #[test]
    fn disabled_services_are_listed_not_checked() {
        let text = "\
defaults
{
 disabled = chargen
}
service echo
{
 disable = yes
 socket_type = bogus
}
service chargen
{
 type = INTERNAL
 socket_type = stream
 wait = no
}
";
        let set = resolve_text(text);
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        assert!(set.services.is_empty());
        let why: Vec<&str> = set.disabled.iter().map(|d| d.why.as_str()).collect();
        assert_eq!(why[0], "disable = yes");
        assert!(
            why[1].starts_with("listed in 'disabled' (xinetd.conf:3)"),
            "{why:?}"
        );

        let set = resolve_text("defaults\n{\n enabled = time\n}\nservice echo\n{\n type = INTERNAL\n socket_type = stream\n wait = no\n}\n");
        assert!(set.disabled[0].why.starts_with("not listed in 'enabled'"));
    }

    #[test]
    fn errors_name_file_line_and_service() {
        let svc = |body: &str| format!("service ftp\n{{\n{body}\n}}\n");
        let base = " socket_type = stream\n wait = no\n user = root\n server = /bin/cat";
        let cases = [
            (svc(" socket_type = dgram\n wait = no\n user = root\n server = /bin/cat"), "xinetd.conf:4: service ftp: a dgram service needs wait = yes"),
            (svc(" socket_type = stream\n wait = no\n user = root"), "xinetd.conf:1: service ftp: 'server' is missing"),
            (svc(" socket_type = stream\n wait = no\n server = /bin/cat"), "xinetd.conf:1: service ftp: 'user' is missing"),
            (svc(" socket_type = stream\n wait = no\n user = bob\n server = /bin/cat"), "xinetd.conf:5: service ftp: unknown user \"bob\""),
            (svc(&format!("{base}\n group = wheel")), "xinetd.conf:7: service ftp: unknown group \"wheel\""),
            // The user's line, though "group" is in the user's name and a group is set.
            (svc(" socket_type = stream\n wait = no\n user = groupie\n group = root\n server = /bin/cat"), "xinetd.conf:5: service ftp: unknown user \"groupie\""),
            (svc(" socket_type = stream\n user = root\n server = /bin/cat"), "'wait' is missing"),
            (svc(&format!("{base}\n port = 2121")), "xinetd.conf:7: service ftp: port 2121 differs"),
            (svc(&format!("{base}\n bogus = 1")), "xinetd.conf:7: service ftp: unknown attribute 'bogus'"),
            (svc(&format!("{base}\n access_times = 2:00-8:59")), "attribute 'access_times' is not supported"),
            (svc(&format!("{base}\n wait = yes")), "xinetd.conf:7: service ftp: 'wait' is set twice"),
            (svc(&format!("{base}\n instances += 3")), "'instances' does not take '+='"),
            (svc(&format!("{base}\n cps = 10")), "'cps' takes two values, found 1"),
            (svc(&format!("{base}\n cps = 0 10")), "cps takes two positive numbers"),
            (svc(&format!("{base}\n only_from = 10.0.0.999")), "xinetd.conf:7: service ftp: only_from: '10.0.0.999'"),
            (svc(&format!("{base}\n only_from = nowhere")), "cannot resolve host \"nowhere\""),
            (svc(&format!("{base}\n flags = SENSOR")), "flag SENSOR is not supported"),
            (svc(&format!("{base}\n type = RPC")), "type RPC is not supported"),
            (svc(&format!("{base}\n log_type = FILE rel/path")), "must be an absolute path"),
            (svc(&format!("{base}\n log_type = SYSLOG nofacility")), "unknown syslog facility"),
            (svc(&format!("{base}\n env = NOEQUALS")), "env: 'NOEQUALS' is not NAME=VALUE"),
            (svc(&format!("{base}\n disable = maybe")), "disable must be yes or no"),
            (svc(" socket_type = stream\n wait = no\n user = root\n server = cat"), "must be an absolute path"),
            (svc(&format!("{base}\n protocol = udp")), "protocol udp does not fit socket_type stream"),
            (svc(" socket_type = stream\n wait = yes\n user = root\n server = /bin/cat\n only_from = 127.0.0.1"), "cannot be enforced on a wait = yes stream service"),
            ("service nosuch\n{\n socket_type = stream\n wait = no\n user = root\n server = /bin/cat\n}\n".to_string(), "nosuch/tcp is not in etc/services"),
            ("service foo\n{\n type = INTERNAL UNLISTED\n port = 99\n socket_type = stream\n wait = no\n}\n".to_string(), "no internal service named 'foo'"),
        ];
        for (text, want) in cases {
            let got = error_of(&text);
            assert!(got.contains(want), "{text}\n got: {got}\nwant: {want}");
        }
    }

    #[test]
    fn families_and_bind() {
        let base = "service echo\n{\n type = INTERNAL\n socket_type = stream\n wait = no\n";
        let key = |extra: &str| one(&format!("{base}{extra}}}\n")).listen;
        let k = key("");
        assert_eq!(
            (k.family, k.addr.to_string()),
            (Family::V4, "0.0.0.0".into())
        );
        let k = key(" flags = IPv6\n");
        assert_eq!(
            (k.family, k.addr.to_string()),
            (Family::V6Only, "::".into())
        );
        let k = key(" flags = IPv4 IPv6\n");
        assert_eq!(k.family, Family::Dual);
        let k = key(" flags = IPv6\n v6only = no\n");
        assert_eq!(k.family, Family::Dual);
        let k = key(" bind = 127.0.0.1\n");
        assert_eq!(
            (k.family, k.addr.to_string()),
            (Family::V4, "127.0.0.1".into())
        );
        let k = key(" interface = ::1\n");
        assert_eq!(
            (k.family, k.addr.to_string()),
            (Family::V6Only, "::1".into())
        );
        let k = key(" bind = localhost\n");
        assert_eq!(k.addr.to_string(), "127.0.0.1");
        let k = key(" bind = localhost\n flags = IPv6\n");
        assert_eq!(k.addr.to_string(), "::1");
    }

    #[test]
    fn name_in_args_and_warnings() {
        let s = one("service ftp\n{\n socket_type = stream\n wait = no\n user = root\n server = /usr/sbin/tcpd\n server_args = in.ftpd -l\n flags = NAMEINARGS REUSE\n log_on_success = USERID PID\n}\n");
        let Handler::Exec(e) = s.handler else {
            panic!()
        };
        assert_eq!(e.argv, ["in.ftpd", "-l"]);
        let set = resolve_text("service ftp\n{\n socket_type = stream\n wait = no\n user = root\n server = /usr/sbin/tcpd\n log_on_failure = USERID\n}\n");
        assert_eq!(set.warnings.len(), 1);
        assert!(set.warnings[0]
            .to_string()
            .starts_with("xinetd.conf:7: service ftp: log_on_failure: USERID is ignored"));
    }

    #[test]
    fn conflicts_keep_the_first() {
        let text = "\
service echo
{
 type = INTERNAL
 socket_type = stream
 wait = no
}
service echo
{
 type = INTERNAL
 id = echo-again
 socket_type = stream
 wait = no
}
service time
{
 type = INTERNAL
 id = echo
 socket_type = stream
 wait = no
}
";
        let set = resolve_text(text);
        assert_eq!(set.services.len(), 1);
        let errors: Vec<String> = set.errors.iter().map(|p| p.to_string()).collect();
        assert!(
            errors[0].contains("0.0.0.0:7/tcp is already used by service echo (xinetd.conf:1)"),
            "{errors:?}"
        );
        assert!(
            errors[1].contains("the id 'echo' is already used"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_second_defaults_block_is_an_error() {
        let set = resolve_text("defaults\n{\n}\ndefaults\n{\n instances = 1\n}\n");
        assert_eq!(set.errors.len(), 1);
        assert!(set.errors[0]
            .to_string()
            .starts_with("xinetd.conf:4: only one defaults entry"));
        let set = resolve_text("defaults\n{\n server = /bin/sh\n}\n");
        assert!(set.errors[0].message.contains("cannot be used in defaults"));
    }

    proptest! {
        /// Any block of plausible attribute lines resolves to a spec, a disabled entry
        /// or errors that point into the block, and never panics.
        #[test]
        fn resolution_never_panics(
            lines in proptest::collection::vec(
                (
                    prop_oneof![
                        Just("socket_type"), Just("protocol"), Just("wait"), Just("user"),
                        Just("group"), Just("server"), Just("server_args"), Just("type"),
                        Just("flags"), Just("port"), Just("bind"), Just("only_from"),
                        Just("no_access"), Just("instances"), Just("per_source"), Just("cps"),
                        Just("log_type"), Just("log_on_success"), Just("log_on_failure"),
                        Just("env"), Just("passenv"), Just("disable"), Just("v6only"),
                        Just("umask"), Just("nice"), Just("id"), Just("bogus"),
                    ],
                    prop_oneof![Just("="), Just("+="), Just("-=")],
                    proptest::collection::vec(
                        prop_oneof![
                            Just("stream".to_string()), Just("dgram".to_string()), Just("tcp".to_string()),
                            Just("udp".to_string()), Just("yes".to_string()), Just("no".to_string()),
                            Just("root".to_string()), Just("/bin/cat".to_string()), Just("INTERNAL".to_string()),
                            Just("UNLISTED".to_string()), Just("IPv6".to_string()), Just("10.0.0.0/8".to_string()),
                            Just("UNLIMITED".to_string()), Just("SYSLOG".to_string()), Just("FILE".to_string()),
                            Just("daemon".to_string()), Just("PID".to_string()), Just("HOST".to_string()),
                            Just("A=b".to_string()), "[0-9]{1,6}", "[a-z:.,/]{1,8}", Just("10.0.{1,2}".to_string()),
                        ],
                        0..4,
                    ),
                ),
                0..14,
            ),
            name in prop_oneof![Just("echo"), Just("ftp"), Just("other")],
        ) {
            let mut text = format!("service {name}\n{{\n");
            for (attr, op, values) in &lines {
                text.push_str(&format!(" {attr} {op} {}\n", values.join(" ")));
            }
            text.push_str("}\n");
            let set = resolve_text(&text);
            let total = set.services.len() + set.disabled.len() + usize::from(!set.errors.is_empty());
            prop_assert!(total >= 1, "{set:?}");
            for p in set.errors.iter().chain(&set.warnings) {
                prop_assert!(p.at.line >= 1 && p.at.line <= lines.len() + 2, "{p}");
            }
            // Nothing to serve is refused exactly when no service resolved, naming why.
            let why = nothing_to_serve(&set);
            prop_assert_eq!(why.is_some(), set.services.is_empty());
            if let (Some(why), Some(first)) = (&why, set.errors.first()) {
                prop_assert!(why.contains(&first.to_string()), "{why}");
            }
        }
    }
}
