//! Runlevels as sysvinit names them: `0`–`9` and `S` (single user).
//!
//! `s` is accepted as `S` everywhere (sysvinit's inittab silently never matches a lowercase
//! `s`; we do not copy that). `N`, "no previous level", is modelled as `Option::None`.

use std::fmt;

/// One runlevel: a digit `0`–`9` or `S`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Runlevel(u8);

impl Runlevel {
    pub const SINGLE: Runlevel = Runlevel(b'S');
    pub const HALT: Runlevel = Runlevel(b'0');
    pub const REBOOT: Runlevel = Runlevel(b'6');

    /// Parses one character of a runlevel field.
    pub fn from_char(c: char) -> Option<Runlevel> {
        match c {
            '0'..='9' => Some(Runlevel(c as u8)),
            'S' | 's' => Some(Runlevel::SINGLE),
            _ => None,
        }
    }

    /// Parses the argument of `rc LEVEL` and friends: one of `0`–`6` or `S`.
    pub fn parse_rc(s: &str) -> Result<Runlevel, String> {
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c @ ('0'..='6' | 'S' | 's')), None) => {
                Ok(Runlevel::from_char(c).unwrap_or(Runlevel::SINGLE))
            }
            _ => Err(format!(
                "invalid runlevel \"{s}\": expected one of 0-6 or S"
            )),
        }
    }

    /// Parses a previous level as the environment gives it: a level, or `N` for none.
    pub fn parse_previous(s: &str) -> Result<Option<Runlevel>, String> {
        if s == "N" || s.is_empty() {
            return Ok(None);
        }
        let mut chars = s.chars();
        match (chars.next().and_then(Runlevel::from_char), chars.next()) {
            (Some(level), None) => Ok(Some(level)),
            _ => Err(format!(
                "invalid previous runlevel \"{s}\": expected 0-9, S or N"
            )),
        }
    }

    pub fn as_char(self) -> char {
        self.0 as char
    }

    /// Levels 0 and 6 stop the system: their S links are run with `stop`.
    pub fn is_shutdown(self) -> bool {
        self == Runlevel::HALT || self == Runlevel::REBOOT
    }
}

impl fmt::Display for Runlevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

/// Formats an optional previous level the sysvinit way (`N` for none).
pub fn previous_name(level: Option<Runlevel>) -> char {
    level.map_or('N', Runlevel::as_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rc_levels() {
        for c in "0123456Ss".chars() {
            let level = Runlevel::parse_rc(&c.to_string()).unwrap();
            assert_eq!(level.as_char(), c.to_ascii_uppercase());
        }
        for bad in ["7", "9", "", "33", "x", "N", " 3"] {
            assert!(Runlevel::parse_rc(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn previous_levels() {
        assert_eq!(Runlevel::parse_previous("N").unwrap(), None);
        assert_eq!(Runlevel::parse_previous("").unwrap(), None);
        assert_eq!(
            Runlevel::parse_previous("s").unwrap(),
            Some(Runlevel::SINGLE)
        );
        assert_eq!(
            Runlevel::parse_previous("9").unwrap().unwrap().as_char(),
            '9'
        );
        assert!(Runlevel::parse_previous("NN").is_err());
        assert_eq!(previous_name(None), 'N');
    }

    #[test]
    fn shutdown_levels() {
        let shut: String = "0123456S"
            .chars()
            .filter(|&c| Runlevel::from_char(c).unwrap().is_shutdown())
            .collect();
        assert_eq!(shut, "06");
    }
}
