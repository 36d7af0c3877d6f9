//! Named deadlines: a respawn pause, a grace period, a paused service. The loop sleeps
//! until [`Timers::next`] and takes what expired.

use std::collections::BTreeMap;
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct Timers<K: Ord + Clone> {
    at: BTreeMap<K, Instant>,
}

impl<K: Ord + Clone> Default for Timers<K> {
    fn default() -> Self {
        Timers {
            at: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Clone> Timers<K> {
    /// Sets (or moves) the deadline of `key`.
    pub fn set(&mut self, key: K, at: Instant) {
        self.at.insert(key, at);
    }

    pub fn cancel(&mut self, key: &K) {
        self.at.remove(key);
    }

    pub fn get(&self, key: &K) -> Option<Instant> {
        self.at.get(key).copied()
    }

    pub fn clear(&mut self) {
        self.at.clear();
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.at.values().min().copied()
    }

    /// Removes and returns the keys whose deadline is `now` or earlier.
    pub fn take_expired(&mut self, now: Instant) -> Vec<K> {
        let expired: Vec<K> = self
            .at
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in &expired {
            self.at.remove(key);
        }
        expired
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &Instant)> {
        self.at.iter()
    }
}

/// Milliseconds to wait until `deadline` for poll and epoll: rounded up (waking a little
/// late is harmless, waking early spins); -1 (forever) without one.
pub fn wait_millis(deadline: Option<Instant>) -> i32 {
    match deadline {
        None => -1,
        Some(d) => {
            let ms = d.saturating_duration_since(Instant::now()).as_millis();
            (ms + 1).min(i32::MAX as u128) as i32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_next_and_the_expired() {
        let now = Instant::now();
        let mut t = Timers::default();
        t.set("b", now + Duration::from_secs(2));
        t.set("a", now + Duration::from_secs(1));
        t.set("c", now + Duration::from_secs(3));
        t.cancel(&"c");
        assert_eq!(t.next(), Some(now + Duration::from_secs(1)));
        assert_eq!(t.take_expired(now + Duration::from_millis(1500)), ["a"]);
        assert_eq!(t.next(), Some(now + Duration::from_secs(2)));
        assert_eq!(wait_millis(None), -1);
        assert!(wait_millis(Some(now)) >= 1);
    }
}
