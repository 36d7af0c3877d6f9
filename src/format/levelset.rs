//! Sets of runlevels: which levels a service starts in, which levels a command acts on.
//!
//! chkconfig manages levels 0–6; Debian's tools also manage `S` (the `rcS.d` boot
//! level). A set holds any of `0`–`9` and `S`.

use std::fmt;

use crate::format::runlevel::Runlevel;

/// The levels chkconfig lists and changes, in order.
pub const CHKCONFIG_LEVELS: [char; 7] = ['0', '1', '2', '3', '4', '5', '6'];

/// Every level that has an rc directory, in the order tools print them.
pub const RC_LEVELS: [char; 8] = ['0', '1', '2', '3', '4', '5', '6', 'S'];

#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LevelSet(u16);

const S_BIT: u16 = 1 << 10;

impl LevelSet {
    pub const EMPTY: LevelSet = LevelSet(0);
    /// 0–6: every level chkconfig manages.
    pub const ALL: LevelSet = LevelSet(0x7f);
    /// 2, 3, 4 and 5: where `chkconfig NAME on` acts without `--level`.
    pub const MULTI_USER: LevelSet = LevelSet(0b11_1100);

    fn bit(level: Runlevel) -> u16 {
        match level.as_char() {
            c @ '0'..='9' => 1 << (c as u8 - b'0'),
            _ => S_BIT,
        }
    }

    #[cfg(test)]
    pub fn of(levels: &[Runlevel]) -> LevelSet {
        levels.iter().fold(LevelSet::EMPTY, |set, l| set.with(*l))
    }

    pub fn contains(self, level: Runlevel) -> bool {
        self.0 & LevelSet::bit(level) != 0
    }

    pub fn with(self, level: Runlevel) -> LevelSet {
        LevelSet(self.0 | LevelSet::bit(level))
    }

    #[cfg(test)]
    pub fn without(self, level: Runlevel) -> LevelSet {
        LevelSet(self.0 & !LevelSet::bit(level))
    }

    pub fn union(self, other: LevelSet) -> LevelSet {
        LevelSet(self.0 | other.0)
    }

    pub fn intersection(self, other: LevelSet) -> LevelSet {
        LevelSet(self.0 & other.0)
    }

    pub fn difference(self, other: LevelSet) -> LevelSet {
        LevelSet(self.0 & !other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The levels in order: digits first, then `S`.
    pub fn iter(self) -> impl Iterator<Item = Runlevel> {
        "0123456789S"
            .chars()
            .filter_map(Runlevel::from_char)
            .filter(move |l| self.contains(*l))
    }

    /// chkconfig's notation: digits 0–6 run together (`2345`). Anything else, or an
    /// empty string, is not a level list.
    pub fn parse_digits(text: &str) -> Option<LevelSet> {
        if text.is_empty() {
            return None;
        }
        text.chars().try_fold(LevelSet::EMPTY, |set, c| match c {
            '0'..='6' => Runlevel::from_char(c).map(|l| set.with(l)),
            _ => None,
        })
    }

    /// Space-separated levels as LSB headers and Debian's tools write them (`2 3 4 5`,
    /// `S`). Returns the set and the words that are not levels.
    pub fn parse_words(text: &str) -> (LevelSet, Vec<String>) {
        let mut set = LevelSet::EMPTY;
        let mut bad = Vec::new();
        for word in text.split_whitespace() {
            let mut chars = word.chars();
            match (chars.next().and_then(Runlevel::from_char), chars.next()) {
                (Some(level), None) => set = set.with(level),
                _ => bad.push(word.to_string()),
            }
        }
        (set, bad)
    }

    /// The levels separated by spaces (`2 3 4 5`), as Debian's messages print them.
    pub fn words(self) -> String {
        self.iter()
            .map(|l| l.as_char().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Display for LevelSet {
    /// The levels run together (`2345`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for level in self.iter() {
            write!(f, "{level}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for LevelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LevelSet({self})")
    }
}

/// Runlevel from a character known to be valid.
pub fn level(c: char) -> Runlevel {
    Runlevel::from_char(c).unwrap_or(Runlevel::SINGLE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chkconfig_digits() {
        assert_eq!(LevelSet::parse_digits("2345"), Some(LevelSet::MULTI_USER));
        assert_eq!(LevelSet::parse_digits("0123456"), Some(LevelSet::ALL));
        assert_eq!(
            LevelSet::parse_digits("53").map(|s| s.to_string()),
            Some("35".into())
        );
        for bad in ["", "7", "2a", "S", " 3", "-"] {
            assert_eq!(LevelSet::parse_digits(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn lsb_words() {
        let (set, bad) = LevelSet::parse_words(" 2 3\t4 5 S x 10");
        assert_eq!(set.to_string(), "2345S");
        assert_eq!(bad, ["x", "10"]);
        assert_eq!(set.words(), "2 3 4 5 S");
        assert!(set.contains(Runlevel::SINGLE));
        assert_eq!(set.len(), 5);
        assert_eq!(set.without(Runlevel::SINGLE), LevelSet::MULTI_USER);
    }

    proptest! {
        #[test]
        fn digits_round_trip(bits in 1u16..0x80) {
            let set = LevelSet(bits);
            prop_assert_eq!(LevelSet::parse_digits(&set.to_string()), Some(set));
            prop_assert_eq!(LevelSet::parse_words(&set.words()).0, set);
        }
    }
}
