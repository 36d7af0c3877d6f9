//! System facilities (`$network`, `$syslog`, …): which services provide them.
//!
//! Two sources, both standard: a script can name the facility in its LSB `Provides`
//! (`Provides: networking $network`), and `etc/insserv.conf` (plus the files of
//! `etc/insserv.conf.d`) maps facilities to services, in insserv's format:
//!
//! ```text
//! # comment
//! $local_fs   +mountall +umountfs
//! $remote_fs  $local_fs +mountnfs
//! $syslog     +rsyslog +sysklogd
//! ```
//!
//! A member is a service (or `Provides`) name, optionally prefixed with `+` (insserv's
//! "optional": missing is fine), or another facility. Lines not starting with a
//! facility (`<interactive> ...`) are ignored.

use std::collections::BTreeMap;

/// Facility → the names that provide it, from `insserv.conf` files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facilities {
    pub members: BTreeMap<String, Vec<String>>,
}

impl Facilities {
    /// Adds the definitions of one `insserv.conf`-style file. A facility defined in
    /// several places gets the members of all of them.
    pub(crate) fn add_file(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let Some(name) = words.next().filter(|w| w.starts_with('$') && w.len() > 1) else {
                continue;
            };
            let list = self.members.entry(name.to_string()).or_default();
            for member in words {
                let member = member.trim_start_matches('+');
                if !member.is_empty() && !list.iter().any(|m| m == member) {
                    list.push(member.to_string());
                }
            }
        }
    }

    pub(crate) fn members(&self, facility: &str) -> &[String] {
        self.members.get(facility).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_insserv_conf() {
        let mut f = Facilities::default();
        f.add_file(
            "# All local filesystems\n$local_fs  +mountall +umountfs\n\
             $remote_fs $local_fs +mountnfs # trailing\n<interactive> keyboard\n\n$named\n",
        );
        f.add_file("$local_fs mountall extra\n");
        assert_eq!(f.members("$local_fs"), ["mountall", "umountfs", "extra"]);
        assert_eq!(f.members("$remote_fs"), ["$local_fs", "mountnfs"]);
        assert!(f.members("$named").is_empty());
        assert!(f.members("$time").is_empty());
        assert!(!f.members.contains_key("<interactive>"));
    }

    proptest! {
        #[test]
        fn any_text_parses(text in "\\PC{0,200}") {
            let mut f = Facilities::default();
            f.add_file(&text);
            for (name, members) in &f.members {
                prop_assert!(name.starts_with('$'));
                prop_assert!(members.iter().all(|m| !m.is_empty() && !m.starts_with('+')));
            }
        }
    }
}
