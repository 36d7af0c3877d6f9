//! What an `inetd.conf` line means, as a [`ServiceSpec`].
//!
//! Protocols: `tcp`/`udp` and `tcp4`/`udp4` listen on IPv4, `tcp6`/`udp6` on IPv6 only,
//! `tcp46`/`udp46` on one socket for both. The line's id is `[host:]service/protocol`.

use std::net::IpAddr;
use std::path::PathBuf;

use super::{
    any_addr, Builtin, Endpoint, Exec, Family, Handler, Limits, Lookup, LookupError, Problem,
    Protocol, RateLimit, ServiceSet, ServiceSpec, SocketOptions, INETD_RATE_PAUSE,
    INETD_RATE_WINDOW,
};
use crate::format::inetd_conf::{InetdEntry, InetdServer};
use crate::format::services::Services;

/// Why an inetd.conf entry cannot run: the message of its problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal(pub String);

impl From<String> for Refusal {
    fn from(message: String) -> Refusal {
        Refusal(message)
    }
}

impl From<LookupError> for Refusal {
    fn from(e: LookupError) -> Refusal {
        Refusal(e.to_string())
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub(super) fn resolve_into(
    entries: &[InetdEntry],
    services: &Services,
    lookup: &dyn Lookup,
    set: &mut ServiceSet,
) {
    for entry in entries {
        let id = match &entry.host {
            Some(h) => format!("{h}:{}/{}", entry.service, entry.protocol),
            None => format!("{}/{}", entry.service, entry.protocol),
        };
        match resolve_entry(entry, &id, services, lookup) {
            Ok(spec) => set.services.push(spec),
            Err(message) => set.errors.push(Problem {
                at: entry.at.clone(),
                service: Some(id),
                message: message.0,
            }),
        }
    }
}

fn protocol_family(protocol: &str) -> Result<(Protocol, Family), Refusal> {
    Ok(match protocol {
        "tcp" | "tcp4" => (Protocol::Tcp, Family::V4),
        "udp" | "udp4" => (Protocol::Udp, Family::V4),
        "tcp6" => (Protocol::Tcp, Family::V6Only),
        "udp6" => (Protocol::Udp, Family::V6Only),
        "tcp46" => (Protocol::Tcp, Family::Dual),
        "udp46" => (Protocol::Udp, Family::Dual),
        other => {
            return Err(Refusal::from(format!(
            "protocol '{other}' is not supported (tcp, udp, tcp4, udp4, tcp6, udp6, tcp46, udp46)"
        )))
        }
    })
}

fn resolve_entry(
    entry: &InetdEntry,
    id: &str,
    services: &Services,
    lookup: &dyn Lookup,
) -> Result<ServiceSpec, Refusal> {
    let (protocol, mut family) = protocol_family(&entry.protocol)?;
    match (entry.socket_type.as_str(), protocol) {
        ("stream", Protocol::Tcp) | ("dgram", Protocol::Udp) => {}
        ("stream" | "dgram", _) => {
            return Err(Refusal::from(format!(
                "protocol {} does not fit socket type {}",
                entry.protocol, entry.socket_type
            )))
        }
        (other, _) => {
            return Err(Refusal::from(format!(
                "socket type '{other}' is not supported (stream or dgram)"
            )))
        }
    }
    if protocol == Protocol::Udp && !entry.wait {
        return Err(Refusal(
            "a dgram service needs 'wait' (with nowait every datagram would start a server)"
                .to_string(),
        ));
    }
    let port = match entry.service.parse::<u16>() {
        Ok(p) if p > 0 => p,
        _ => services
            .port(&entry.service, protocol.name())
            .ok_or_else(|| {
                format!(
                    "{}/{} is not in etc/services",
                    entry.service,
                    protocol.name()
                )
            })?,
    };
    let addr = match &entry.host {
        None => any_addr(family),
        Some(host) => {
            let addr = host_address(host, family, lookup)?;
            if addr.is_ipv6() == (family == Family::V4) {
                return Err(Refusal::from(format!(
                    "address {addr} does not fit protocol {}",
                    entry.protocol
                )));
            }
            if family == Family::Dual && !addr.is_unspecified() {
                family = Family::V6Only;
            }
            addr
        }
    };
    let handler = match &entry.server {
        InetdServer::Internal => {
            let name = match entry.service.parse::<u16>() {
                Ok(p) => services
                    .name_of(p, protocol.name())
                    .unwrap_or(&entry.service),
                Err(_) => entry.service.as_str(),
            };
            Handler::Internal(Builtin::from_name(name).ok_or_else(|| Builtin::unknown(name))?)
        }
        InetdServer::Program { path, argv } => Handler::Exec(Exec {
            program: PathBuf::from(path),
            argv: argv.clone(),
            identity: lookup.identity(&entry.user, entry.group.as_deref(), true)?,
            env: Vec::new(),
            passenv: None,
            umask: None,
            nice: None,
        }),
    };
    let mut limits = Limits::default();
    if let Some(max) = entry.max {
        limits.rate = Some(RateLimit {
            max,
            window: INETD_RATE_WINDOW,
            pause: INETD_RATE_PAUSE,
        });
    }
    let endpoint = Endpoint {
        protocol,
        family,
        addr,
        port,
    };
    let spec = ServiceSpec::new(
        id,
        &entry.service,
        entry.at.clone(),
        endpoint,
        entry.wait,
        handler,
    );
    Ok(ServiceSpec {
        limits,
        options: SocketOptions {
            sndbuf: entry.sndbuf,
            rcvbuf: entry.rcvbuf,
            ..SocketOptions::default()
        },
        ..spec
    })
}

fn host_address(host: &str, family: Family, lookup: &dyn Lookup) -> Result<IpAddr, Refusal> {
    if let Ok(a) = host.parse::<IpAddr>() {
        return Ok(a);
    }
    let addrs = lookup.resolve(host)?;
    addrs
        .iter()
        .find(|a| a.is_ipv6() != (family == Family::V4))
        .copied()
        .ok_or_else(|| Refusal(format!("host {host} has no address for this protocol")))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{services, FakeLookup};
    use super::super::*;
    use crate::format::inetd_conf::parse;
    use std::path::Path;

    fn resolve_text(text: &str) -> ServiceSet {
        let conf = parse(Path::new("inetd.conf"), text);
        assert!(conf.errors.is_empty(), "{:?}", conf.errors);
        resolve(&[], &conf.entries, &services(), &FakeLookup)
    }

    #[test]
    fn classic_lines_become_services() {
        let set = resolve_text(
            "\
echo stream tcp nowait root internal
echo dgram udp wait root internal
7 stream tcp6 nowait root internal
localhost:ftp stream tcp nowait.300 nobody:users /usr/sbin/ftpd ftpd -l
2000 stream tcp46 nowait daemon /bin/cat
",
        );
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        let ids: Vec<&str> = set.services.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "echo/tcp",
                "echo/udp",
                "7/tcp6",
                "localhost:ftp/tcp",
                "2000/tcp46"
            ]
        );
        let s = &set.services;
        assert_eq!(s[0].handler, Handler::Internal(Builtin::Echo));
        assert_eq!(s[1].listen.to_string(), "0.0.0.0:7/udp");
        assert!(!s[1].handover());
        assert_eq!(s[2].listen.to_string(), "[::]:7/tcp");
        assert_eq!(s[2].listen.family, Family::V6Only);
        assert_eq!(s[2].handler, Handler::Internal(Builtin::Echo));
        assert_eq!(s[3].listen.to_string(), "127.0.0.1:21/tcp");
        assert_eq!(
            s[3].limits.rate,
            Some(RateLimit {
                max: 300,
                window: INETD_RATE_WINDOW,
                pause: INETD_RATE_PAUSE
            })
        );
        let Handler::Exec(e) = &s[3].handler else {
            panic!()
        };
        assert_eq!((e.identity.uid, e.identity.gid), (65534, 100));
        assert_eq!(e.argv, ["ftpd", "-l"]);
        assert_eq!(s[4].listen.family, Family::Dual);
        assert_eq!(s[4].limits, Limits::default());
    }

    #[test]
    fn bad_combinations_name_the_line() {
        let set = resolve_text(
            "\
echo dgram udp nowait root internal
echo stream udp nowait root internal
nosuch stream tcp nowait root /bin/cat
ftp stream tcp nowait bob /bin/cat
ftp stream sctp nowait root /bin/cat
[::1]:echo stream tcp nowait root internal
ftp stream tcp nowait root internal
ftp raw tcp nowait root /bin/cat
",
        );
        assert!(set.services.is_empty());
        let errors: Vec<String> = set.errors.iter().map(|p| p.to_string()).collect();
        let want = [
            "inetd.conf:1: service echo/udp: a dgram service needs 'wait'",
            "inetd.conf:2: service echo/udp: protocol udp does not fit socket type stream",
            "inetd.conf:3: service nosuch/tcp: nosuch/tcp is not in etc/services",
            "inetd.conf:4: service ftp/tcp: unknown user \"bob\"",
            "inetd.conf:5: service ftp/sctp: protocol 'sctp' is not supported",
            "inetd.conf:6: service ::1:echo/tcp: address ::1 does not fit protocol tcp",
            "inetd.conf:7: service ftp/tcp: there is no internal service named 'ftp'",
            "inetd.conf:8: service ftp/tcp: socket type 'raw' is not supported",
        ];
        for (got, want) in errors.iter().zip(want) {
            assert!(got.starts_with(want), "got {got}\nwant {want}");
        }
        assert_eq!(errors.len(), want.len());
    }

    #[test]
    fn both_formats_at_once_share_the_ports() {
        let items = crate::format::xinetd::parse(
            Path::new("xinetd.conf"),
            "service echo\n{\n type = INTERNAL\n socket_type = stream\n wait = no\n}\n",
        )
        .unwrap();
        let conf = parse(
            Path::new("inetd.conf"),
            "echo stream tcp nowait root internal\ntime stream tcp nowait root internal\n",
        );
        let set = resolve(&items, &conf.entries, &services(), &FakeLookup);
        let ids: Vec<&str> = set.services.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["echo", "time/tcp"]);
        assert!(set.errors[0].to_string().contains(
            "inetd.conf:1: service echo/tcp: 0.0.0.0:7/tcp is already used by service echo"
        ));
    }
}
