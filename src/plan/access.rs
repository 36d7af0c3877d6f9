//! Who may use a service: `only_from` and `no_access`, decided by address alone (no
//! name lookups at connection time: the superserver is single-threaded and a slow DNS
//! answer would stall every service).
//!
//! Patterns, as xinetd writes them:
//! - `10.1.2.3`, `2001:db8::1`: one host;
//! - `10.1.0.0`: trailing zero parts of an IPv4 address are wildcards (a /16 here;
//!   `0.0.0.0` is every IPv4 address);
//! - `10.1.{2,3}` (factorized): the last part lists alternatives, missing parts are
//!   wildcards (10.1.2.0/24 and 10.1.3.0/24 here);
//! - `10.0.0.0/8`, `2001:db8::/32`: a network;
//! - a host name: resolved once, when the configuration is loaded.
//!
//! When an address matches both lists, the more specific match (the longer prefix)
//! wins; a tie denies. An IPv4 client seen through a dual-stack socket
//! (`::ffff:10.1.2.3`) is matched as the IPv4 address it is.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a word of only_from or no_access is not an address, network or host name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PatternError(pub String);

impl From<String> for PatternError {
    fn from(message: String) -> PatternError {
        PatternError(message)
    }
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An address network: `addr/prefix`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    /// The network of `addr` with `prefix` bits (bits after the prefix are cleared).
    pub(crate) fn new(addr: IpAddr, prefix: u8) -> Option<Net> {
        let addr = canonical(addr);
        let max = max_prefix(addr);
        (prefix <= max).then(|| Net {
            addr: mask(addr, prefix),
            prefix,
        })
    }

    pub(crate) fn host(addr: IpAddr) -> Net {
        let addr = canonical(addr);
        Net {
            addr,
            prefix: max_prefix(addr),
        }
    }

    pub(crate) fn contains(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        max_prefix(addr) == max_prefix(self.addr) && mask(addr, self.prefix) == self.addr
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it stands for.
pub(crate) fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => addr,
        },
        v4 => v4,
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            IpAddr::V4(Ipv4Addr::from(bits & m))
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

/// A pattern as written, before host names are resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Pattern {
    Nets(Vec<Net>),
    /// A host name, to be resolved to its addresses.
    Host(String),
}

/// Reads one `only_from`/`no_access` word.
pub(crate) fn parse_pattern(word: &str) -> Result<Pattern, PatternError> {
    if let Some((addr, prefix)) = word.split_once('/') {
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("'{word}': '{addr}' is not an IP address"))?;
        let net = prefix
            .parse::<u8>()
            .ok()
            .and_then(|p| Net::new(addr, p))
            .ok_or_else(|| format!("'{word}': invalid prefix length '{prefix}'"))?;
        return Ok(Pattern::Nets(vec![net]));
    }
    if let Ok(v6) = word.parse::<Ipv6Addr>() {
        return Ok(Pattern::Nets(vec![Net::host(IpAddr::V6(v6))]));
    }
    if word.contains('{') {
        return parse_factorized(word).map(Pattern::Nets);
    }
    if word.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return parse_dotted(word).map(|n| Pattern::Nets(vec![n]));
    }
    if word.starts_with('.') {
        return Err(PatternError::from(format!(
            "'{word}': domain patterns need a name lookup for every connection; list addresses or networks instead"
        )));
    }
    if word.is_empty()
        || !word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(PatternError::from(format!(
            "'{word}' is not an address, network or host name"
        )));
    }
    Ok(Pattern::Host(word.to_string()))
}

/// `a.b.c.d` with trailing zero parts as wildcards; `a.b` (fewer parts) likewise.
fn parse_dotted(word: &str) -> Result<Net, PatternError> {
    let parts = dotted_parts(word)?;
    if parts.is_empty() || parts.len() > 4 {
        return Err(PatternError::from(format!(
            "'{word}' is not an IPv4 address"
        )));
    }
    let mut octets = [0u8; 4];
    octets[..parts.len()].copy_from_slice(&parts);
    let significant = octets.iter().rposition(|o| *o != 0).map_or(0, |i| i + 1);
    let prefix = 8 * significant as u8;
    Net::new(IpAddr::V4(Ipv4Addr::from(octets)), prefix)
        .ok_or_else(|| PatternError(format!("'{word}' is not an IPv4 address")))
}

fn dotted_parts(text: &str) -> Result<Vec<u8>, PatternError> {
    text.split('.')
        .map(|p| {
            p.parse::<u8>()
                .map_err(|_| PatternError(format!("'{text}': '{p}' is not a number from 0 to 255")))
        })
        .collect()
}

/// `a.b.{c,d}`: the listed alternatives for the last written part.
fn parse_factorized(word: &str) -> Result<Vec<Net>, PatternError> {
    let (head, tail) = word
        .split_once('{')
        .ok_or_else(|| format!("'{word}': missing '{{'"))?;
    let list = tail
        .strip_suffix('}')
        .ok_or_else(|| format!("'{word}': the '{{…}}' part must end the address"))?;
    let head = head
        .strip_suffix('.')
        .ok_or_else(|| format!("'{word}': expected 'a.b.{{c,d}}'"))?;
    let prefix_parts = dotted_parts(head)?;
    if prefix_parts.len() > 3 {
        return Err(PatternError::from(format!("'{word}': too many parts")));
    }
    let mut nets = Vec::new();
    for alt in list.split(',') {
        let alt: u8 = alt
            .trim()
            .parse()
            .map_err(|_| format!("'{word}': '{alt}' is not a number from 0 to 255"))?;
        let mut octets = [0u8; 4];
        octets[..prefix_parts.len()].copy_from_slice(&prefix_parts);
        octets[prefix_parts.len()] = alt;
        let prefix = 8 * (prefix_parts.len() as u8 + 1);
        nets.extend(Net::new(IpAddr::V4(Ipv4Addr::from(octets)), prefix));
    }
    Ok(nets)
}

/// The access rules of one service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AccessRules {
    /// None: no `only_from` (everyone); Some(empty): nobody.
    pub only_from: Option<Vec<Net>>,
    pub no_access: Vec<Net>,
}

/// Why a client was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Denial {
    /// Not in `only_from`.
    NotListed,
    /// In `no_access` (and not more specifically in `only_from`).
    Excluded,
}

impl Denial {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Denial::NotListed => "address not in only_from",
            Denial::Excluded => "address in no_access",
        }
    }
}

impl AccessRules {
    pub(crate) fn is_open(&self) -> bool {
        self.only_from.is_none() && self.no_access.is_empty()
    }

    pub(crate) fn decide(&self, peer: IpAddr) -> Result<(), Denial> {
        let best = |nets: &[Net]| {
            nets.iter()
                .filter(|n| n.contains(peer))
                .map(|n| i16::from(n.prefix))
                .max()
        };
        // No only_from list allows everyone, at the least specific level (below /0).
        let allowed = match &self.only_from {
            None => Some(-1),
            Some(list) => best(list),
        };
        let excluded = best(&self.no_access);
        match (allowed, excluded) {
            (None, _) => Err(Denial::NotListed),
            (Some(a), Some(e)) if e >= a => Err(Denial::Excluded),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nets(words: &[&str]) -> Vec<Net> {
        words
            .iter()
            .flat_map(|w| match parse_pattern(w).unwrap() {
                Pattern::Nets(n) => n,
                Pattern::Host(h) => panic!("{h}"),
            })
            .collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn pattern_forms() {
        let one = |w: &str| {
            nets(&[w])
                .into_iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(one("10.1.2.3"), ["10.1.2.3/32"]);
        assert_eq!(one("10.1.2.0"), ["10.1.2.0/24"]);
        assert_eq!(one("10.1.0.0"), ["10.1.0.0/16"]);
        assert_eq!(one("10.0.0.0"), ["10.0.0.0/8"]);
        assert_eq!(one("0.0.0.0"), ["0.0.0.0/0"]);
        assert_eq!(one("10.1"), ["10.1.0.0/16"]);
        assert_eq!(one("10.1.2.3/8"), ["10.0.0.0/8"]);
        assert_eq!(one("2001:db8::1"), ["2001:db8::1/128"]);
        assert_eq!(one("2001:db8::/32"), ["2001:db8::/32"]);
        assert_eq!(one("::ffff:10.0.0.1"), ["10.0.0.1/32"]);
        assert_eq!(
            one("128.138.{193,194}"),
            ["128.138.193.0/24", "128.138.194.0/24"]
        );
        assert_eq!(one("10.0.0.{1, 2}"), ["10.0.0.1/32", "10.0.0.2/32"]);
        assert_eq!(
            parse_pattern("localhost").unwrap(),
            Pattern::Host("localhost".into())
        );
        for bad in [
            "10.0.0.256",
            "1.2.3.4/33",
            "::/129",
            ".example.com",
            "a b",
            "1.2.{3",
            "1.2.3.4.5",
            "x/8",
        ] {
            assert!(parse_pattern(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn more_specific_wins() {
        let rules = AccessRules {
            only_from: Some(nets(&["128.138.209.0"])),
            no_access: nets(&["128.138.209.10"]),
        };
        assert_eq!(rules.decide(ip("128.138.209.11")), Ok(()));
        assert_eq!(rules.decide(ip("128.138.209.10")), Err(Denial::Excluded));
        assert_eq!(rules.decide(ip("128.138.210.1")), Err(Denial::NotListed));

        let rules = AccessRules {
            only_from: Some(nets(&["10.0.0.5"])),
            no_access: nets(&["10.0.0.0/8"]),
        };
        assert_eq!(rules.decide(ip("10.0.0.5")), Ok(()));
        assert_eq!(rules.decide(ip("10.0.0.6")), Err(Denial::NotListed));

        // A tie denies.
        let rules = AccessRules {
            only_from: Some(nets(&["10.0.0.0/8"])),
            no_access: nets(&["10.0.0.0/8"]),
        };
        assert_eq!(rules.decide(ip("10.1.1.1")), Err(Denial::Excluded));
    }

    #[test]
    fn defaults_empty_lists_and_mapped_addresses() {
        assert_eq!(AccessRules::default().decide(ip("1.2.3.4")), Ok(()));
        let nobody = AccessRules {
            only_from: Some(vec![]),
            no_access: vec![],
        };
        assert_eq!(nobody.decide(ip("127.0.0.1")), Err(Denial::NotListed));
        let only_lo = AccessRules {
            only_from: Some(nets(&["127.0.0.1", "::1"])),
            no_access: vec![],
        };
        assert_eq!(only_lo.decide(ip("::ffff:127.0.0.1")), Ok(()));
        assert_eq!(only_lo.decide(ip("::1")), Ok(()));
        assert_eq!(only_lo.decide(ip("127.0.0.2")), Err(Denial::NotListed));
        let no_v6 = AccessRules {
            only_from: None,
            no_access: nets(&["::/0"]),
        };
        assert_eq!(no_v6.decide(ip("10.0.0.1")), Ok(()));
        assert_eq!(no_v6.decide(ip("fe80::1")), Err(Denial::Excluded));
    }

    proptest! {
        #[test]
        fn parse_never_panics(word in "\\PC{0,24}") {
            let _ = parse_pattern(&word);
        }

        #[test]
        fn a_network_contains_exactly_its_prefix(a in any::<u32>(), b in any::<u32>(), prefix in 0u8..=32) {
            let net = Net::new(IpAddr::V4(Ipv4Addr::from(a)), prefix).unwrap();
            let shift = 32 - u32::from(prefix);
            let same = prefix == 0 || (a >> shift) == (b >> shift);
            prop_assert_eq!(net.contains(IpAddr::V4(Ipv4Addr::from(b))), same);
        }

        #[test]
        fn a_host_listed_in_only_from_beats_any_wider_exclusion(a in any::<u32>(), prefix in 0u8..32) {
            let host = IpAddr::V4(Ipv4Addr::from(a));
            let rules = AccessRules {
                only_from: Some(vec![Net::host(host)]),
                no_access: vec![Net::new(host, prefix).unwrap()],
            };
            prop_assert_eq!(rules.decide(host), Ok(()));
        }
    }
}
