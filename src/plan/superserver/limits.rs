//! The admission decisions of a service: its rate (`cps`, inetd's `.max`), its
//! `instances` and `per_source` limits. Time comes in as a value, so the decisions are
//! tested without clocks.

use std::time::Instant;

use super::{Limits, RateLimit};

/// Requests counted in the current window of a rate limit.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RateWindow {
    start: Option<Instant>,
    count: u32,
}

impl RateWindow {
    /// Whether one more request fits in the window that holds `now` (a window that has
    /// passed starts afresh). When it does not, the caller pauses the service for
    /// `limit.pause` and leaves the request waiting.
    pub(crate) fn has_room(&mut self, limit: &RateLimit, now: Instant) -> bool {
        match self.start {
            Some(start) if now.saturating_duration_since(start) < limit.window => {}
            _ => {
                self.start = Some(now);
                self.count = 0;
            }
        }
        self.count < limit.max
    }

    /// Counts one request taken.
    pub(crate) fn record(&mut self) {
        self.count = self.count.saturating_add(1);
    }

    /// Starts afresh (after a pause).
    pub(crate) fn reset(&mut self) {
        *self = RateWindow::default();
    }
}

/// Why a request was not served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `instances` servers already run.
    Instances,
    /// `per_source` servers already run for this client.
    PerSource,
}

impl Refusal {
    /// The reason word xinetd logs.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Refusal::Instances => "service_limit",
            Refusal::PerSource => "per_source_limit",
        }
    }
}

/// Whether one more server may start, with `running` servers of the service and
/// `from_source` of them for this client.
pub(crate) fn may_start(limits: &Limits, running: u32, from_source: u32) -> Result<(), Refusal> {
    if limits.instances.is_some_and(|max| running >= max) {
        return Err(Refusal::Instances);
    }
    if limits.per_source.is_some_and(|max| from_source >= max) {
        return Err(Refusal::PerSource);
    }
    Ok(())
}

/// Whether the service has as many servers as it may run.
pub(crate) fn at_capacity(limits: &Limits, running: u32) -> bool {
    limits.instances.is_some_and(|max| running >= max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rate_window_counts_per_window() {
        let limit = RateLimit::per_second(3, 10);
        let t0 = Instant::now();
        let mut w = RateWindow::default();
        let take = |w: &mut RateWindow, ms: u64| {
            let ok = w.has_room(&limit, t0 + Duration::from_millis(ms));
            if ok {
                w.record();
            }
            ok
        };
        assert!(take(&mut w, 0));
        assert!(take(&mut w, 100));
        assert!(take(&mut w, 200));
        assert!(!take(&mut w, 300));
        // Looking without taking counts nothing.
        assert!(!w.has_room(&limit, t0 + Duration::from_millis(400)));
        // A new window starts after one second.
        assert!(take(&mut w, 1000));
        assert!(take(&mut w, 1100));
        w.reset();
        for _ in 0..3 {
            assert!(take(&mut w, 1200));
        }
        assert!(!take(&mut w, 1200));
    }

    #[test]
    fn instance_limits() {
        let limits = Limits {
            instances: Some(2),
            per_source: Some(1),
            rate: None,
        };
        assert_eq!(may_start(&limits, 0, 0), Ok(()));
        assert_eq!(may_start(&limits, 1, 1), Err(Refusal::PerSource));
        assert_eq!(may_start(&limits, 2, 0), Err(Refusal::Instances));
        assert!(at_capacity(&limits, 2));
        let open = Limits {
            instances: None,
            per_source: None,
            rate: None,
        };
        assert_eq!(may_start(&open, u32::MAX, u32::MAX), Ok(()));
        assert!(!at_capacity(&open, u32::MAX));
    }
}
