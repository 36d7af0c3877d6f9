//! `etc/services`: `name port/protocol [aliases…] [# comment]`, one service a line.
//!
//! Read as `getservent(3)` reads it: a malformed line is skipped, never fatal, and the
//! first entry for a name (or alias) and protocol wins.

/// One line of `etc/services`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServiceEntry {
    pub name: String,
    pub port: u16,
    /// `tcp`, `udp`, … as written (lower case).
    pub protocol: String,
    pub aliases: Vec<String>,
}

/// The service database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Services {
    entries: Vec<ServiceEntry>,
}

impl Services {
    pub(crate) fn parse(text: &str) -> Services {
        Services {
            entries: text.lines().filter_map(parse_line).collect(),
        }
    }

    #[cfg(test)]
    pub(crate) fn entries(&self) -> &[ServiceEntry] {
        &self.entries
    }

    /// The port of `name` (or one of its aliases) over `protocol`.
    pub(crate) fn port(&self, name: &str, protocol: &str) -> Option<u16> {
        self.entries
            .iter()
            .find(|e| {
                e.protocol.eq_ignore_ascii_case(protocol)
                    && (e.name == name || e.aliases.iter().any(|a| a == name))
            })
            .map(|e| e.port)
    }

    /// The official name of `port` over `protocol`.
    pub(crate) fn name_of(&self, port: u16, protocol: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.port == port && e.protocol.eq_ignore_ascii_case(protocol))
            .map(|e| e.name.as_str())
    }
}

fn parse_line(line: &str) -> Option<ServiceEntry> {
    let line = line.split('#').next().unwrap_or("");
    let mut words = line.split_whitespace();
    let name = words.next()?;
    let (port, protocol) = words.next()?.split_once('/')?;
    let port = port.parse::<u16>().ok()?;
    if protocol.is_empty() {
        return None;
    }
    Some(ServiceEntry {
        name: name.to_string(),
        port,
        protocol: protocol.to_ascii_lowercase(),
        aliases: words.map(str::to_string).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = "\
# Network services, Internet style
tcpmux\t\t1/tcp\t\t\t\t# TCP port service multiplexer
echo\t\t7/tcp
echo\t\t7/udp
discard\t\t9/tcp\t\tsink null
daytime\t\t13/tcp
ftp\t\t21/TCP
bogus\t\tnotaport/tcp
short
time\t\t37/tcp\t\ttimserver
";

    #[test]
    fn ports_names_and_aliases() {
        let db = Services::parse(SAMPLE);
        assert_eq!(db.port("echo", "tcp"), Some(7));
        assert_eq!(db.port("echo", "udp"), Some(7));
        assert_eq!(db.port("sink", "tcp"), Some(9));
        assert_eq!(db.port("discard", "udp"), None);
        assert_eq!(db.port("ftp", "tcp"), Some(21));
        assert_eq!(db.port("timserver", "tcp"), Some(37));
        assert_eq!(db.name_of(13, "tcp"), Some("daytime"));
        assert_eq!(db.port("bogus", "tcp"), None);
        assert_eq!(db.entries().len(), 7);
    }

    #[test]
    fn first_entry_wins() {
        let db = Services::parse("a 10/tcp\na 11/tcp\nb 10/tcp\n");
        assert_eq!(db.port("a", "tcp"), Some(10));
        assert_eq!(db.name_of(10, "tcp"), Some("a"));
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,200}") {
            let _ = Services::parse(&text);
        }

        #[test]
        fn written_entries_are_found(
            entries in proptest::collection::vec(
                ("[a-z][a-z0-9-]{0,10}", any::<u16>(), prop_oneof!["tcp", "udp"]),
                1..10,
            )
        ) {
            let text: String = entries
                .iter()
                .map(|(n, p, proto)| format!("{n}\t{p}/{proto}\t# c\n"))
                .collect();
            let db = Services::parse(&text);
            prop_assert_eq!(db.entries().len(), entries.len());
            for (n, _, proto) in &entries {
                let first = entries.iter().find(|(m, _, q)| m == n && q == proto).unwrap();
                prop_assert_eq!(db.port(n, proto), Some(first.1));
            }
        }
    }
}
