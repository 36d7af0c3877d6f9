//! The names of the links in `rcN.d`: `S<NN><name>` and `K<NN><name>`.
//!
//! Links are recognised by parsing the name, never by fixed offsets (chkconfig's
//! reference implementation once did, and produced `S-1name`). Anything that is not a
//! link name — `README`, `.depend.start`, `S20foo~` — is ignored; something that was
//! clearly meant as a link but is malformed (`S-1foo`, `K100foo`) is reported.

use std::fmt;

/// Whether a link starts (`S`) or kills (`K`) its service on entering the level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinkKind {
    /// `K` links: run first, with `stop`.
    Kill,
    /// `S` links: run after every K link, with `start` (with `stop` in levels 0 and 6).
    Start,
}

impl LinkKind {
    pub(crate) fn letter(self) -> char {
        match self {
            LinkKind::Kill => 'K',
            LinkKind::Start => 'S',
        }
    }
}

/// A parsed link name such as `S20heartbeat`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RcLink {
    pub kind: LinkKind,
    /// 00–99.
    pub priority: u8,
    /// The service: the script's name in `init.d`.
    pub service: String,
}

impl RcLink {
    pub(crate) fn new(kind: LinkKind, priority: u8, service: &str) -> RcLink {
        RcLink {
            kind,
            priority,
            service: service.to_string(),
        }
    }
}

impl fmt::Display for RcLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{:02}{}",
            self.kind.letter(),
            self.priority,
            self.service
        )
    }
}

/// What a file name in an rc directory is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LinkName {
    Link(RcLink),
    /// Not a link name at all (README, dependency files, backups): skip silently.
    Ignored,
    /// Meant as a link, but not a valid one: report it.
    Malformed(String),
}

/// Classifies one file name found in `rcN.d`.
pub(crate) fn parse_link_name(name: &str) -> LinkName {
    let mut chars = name.chars();
    let kind = match chars.next() {
        Some('S') => LinkKind::Start,
        Some('K') => LinkKind::Kill,
        _ => return LinkName::Ignored,
    };
    let rest = chars.as_str();
    // `Sxyz` is some other file; `S-1x` or `S5x` is a broken attempt at a link.
    if !rest.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        return LinkName::Ignored;
    }
    if is_ignored_script_name(name) {
        return LinkName::Ignored;
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits != 2 {
        return LinkName::Malformed(format!(
            "\"{name}\" is not a link name: expected {}NN followed by a service name",
            kind.letter()
        ));
    }
    let service = &rest[2..];
    match check_service_name(service) {
        Ok(()) => LinkName::Link(RcLink {
            kind,
            priority: rest[..2].parse().unwrap_or(0),
            service: service.to_string(),
        }),
        Err(why) => LinkName::Malformed(format!("\"{name}\": {why}")),
    }
}

/// Why a name cannot be a service's: the message says which rule it breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NameError(String);

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a service name is one vinit will run or link: no path separators, no `..`,
/// nothing hidden, and no leading digit or `-` (which would make link names ambiguous).
pub(crate) fn check_service_name(service: &str) -> Result<(), NameError> {
    let why = if service.is_empty() {
        "empty service name".to_string()
    } else if service.contains('/') || service == ".." || service.starts_with('.') {
        format!("service name \"{service}\" must not contain '/' or start with '.'")
    } else if service.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        format!("service name \"{service}\" must not start with a digit or '-'")
    } else if service.chars().any(|c| c.is_control() || c.is_whitespace()) {
        format!("service name {service:?} contains blanks or control characters")
    } else {
        return Ok(());
    };
    Err(NameError(why))
}

/// Names that package managers and editors leave next to scripts, and that neither rc
/// nor chkconfig nor `service --status-all` may treat as services (union of the lists of
/// Red Hat's chkconfig and service and of Debian's dpkg).
pub(crate) fn is_ignored_script_name(name: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "~",
        ",",
        ".rpmsave",
        ".rpmnew",
        ".rpmorig",
        ".swp",
        ".bak",
        ".orig",
        ".old",
        ".dpkg-old",
        ".dpkg-new",
        ".dpkg-dist",
        ".dpkg-bak",
        ".dpkg-tmp",
        ".ucf-old",
        ".ucf-new",
        ".ucf-dist",
    ];
    name.starts_with('.') || SUFFIXES.iter().any(|s| name.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn link(name: &str) -> RcLink {
        match parse_link_name(name) {
            LinkName::Link(l) => l,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn start_and_kill_links() {
        assert_eq!(
            link("S20heartbeat"),
            RcLink::new(LinkKind::Start, 20, "heartbeat")
        );
        assert_eq!(
            link("K01foo-bar.sh"),
            RcLink::new(LinkKind::Kill, 1, "foo-bar.sh")
        );
        assert_eq!(link("S99x"), RcLink::new(LinkKind::Start, 99, "x"));
        assert_eq!(link("K00a"), RcLink::new(LinkKind::Kill, 0, "a"));
    }

    #[test]
    fn other_files_are_ignored() {
        for name in [
            "README",
            ".depend.start",
            "Sabc",
            "Kfoo",
            "rc",
            "s20foo",
            "k20foo",
            "S20foo~",
            "S20foo.dpkg-old",
            "K20foo.rpmsave",
            "S20foo,",
            "",
        ] {
            assert_eq!(parse_link_name(name), LinkName::Ignored, "{name:?}");
        }
    }

    #[test]
    fn broken_links_are_reported() {
        for name in [
            "S-1foo", "K100foo", "S5foo", "S20", "K2", "S20 foo", "S20-foo", "S200",
        ] {
            assert!(
                matches!(parse_link_name(name), LinkName::Malformed(_)),
                "{name:?}"
            );
        }
    }

    #[test]
    fn display_round_trips() {
        assert_eq!(RcLink::new(LinkKind::Kill, 5, "net").to_string(), "K05net");
    }

    #[test]
    fn service_names() {
        assert!(check_service_name("sshd").is_ok());
        for bad in ["", "..", "a/b", ".hidden", "9lives", "a b", "-x"] {
            assert!(check_service_name(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn any_name_classifies_without_panic(name in "\\PC{0,20}") {
            let _ = parse_link_name(&name);
        }

        #[test]
        fn valid_links_round_trip(start in any::<bool>(), prio in 0u8..100, service in "[a-z][a-z0-9_.-]{0,15}") {
            prop_assume!(!is_ignored_script_name(&service));
            let kind = if start { LinkKind::Start } else { LinkKind::Kill };
            let l = RcLink::new(kind, prio, &service);
            prop_assert_eq!(parse_link_name(&l.to_string()), LinkName::Link(l));
        }
    }
}
