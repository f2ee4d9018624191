//! Pure policy: how long to wait before trying again, and how many events
//! to put in the next batch. No I/O, no clock: callers pass what happened.

use std::time::Duration;

/// Exponential backoff with full jitter: the wait before retry `n` (0-based)
/// is uniform in `[0, min(cap, base · 2ⁿ)]`. Full jitter spreads the
/// devices of a post that all lost the link at the same moment, so they do
/// not come back at the same moment either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub cap: Duration,
    /// Failed tries of one request in a row before a sync gives up (the
    /// events stay pending; the next sync starts again).
    pub attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            attempts: 6,
        }
    }
}

impl RetryPolicy {
    /// The ceiling of the wait before retry `attempt` (0-based).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The wait before retry `attempt`, with `unit` a random number in
    /// `[0, 1)`.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        self.ceiling(attempt).mul_f64(unit.clamp(0.0, 1.0))
    }

    /// [`RetryPolicy::delay`] with a fresh random number.
    pub fn jittered(&self, attempt: u32) -> Duration {
        self.delay(attempt, rand::random::<f64>())
    }
}

/// How many events go in the next push. Starts small (a first batch must
/// get through a bad link), doubles after each batch that came back within
/// the target time, halves after a timeout or a cut. Bounded by the
/// protocol's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSizer {
    size: usize,
    pub min: usize,
    pub max: usize,
    /// A batch that takes longer than this to be answered stops the growth.
    pub target: Duration,
}

impl BatchSizer {
    pub fn new(initial: usize, min: usize, max: usize, target: Duration) -> BatchSizer {
        let min = min.max(1);
        let max = max.max(min);
        BatchSizer {
            size: initial.clamp(min, max),
            min,
            max,
            target,
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// A batch of `sent` events was answered after `took`.
    pub fn succeeded(&mut self, sent: usize, took: Duration) {
        // A short final batch says nothing about the link's capacity.
        if sent < self.size {
            return;
        }
        if took <= self.target / 2 {
            self.size = self.size.saturating_mul(2).min(self.max);
        } else if took <= self.target {
            self.size = (self.size + self.size / 4).max(self.size + 1).min(self.max);
        } else {
            // Too slow: shrink in proportion, so the next batch fits.
            let scaled = self.size as f64 * self.target.as_secs_f64() / took.as_secs_f64();
            self.size = (scaled as usize).clamp(self.min, self.max);
        }
    }

    /// The batch timed out, was cut, or was too large for the hub.
    pub fn failed(&mut self) {
        self.size = (self.size / 2).max(self.min);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_the_cap_and_jitters_below_it() {
        let p = RetryPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(2),
            attempts: 5,
        };
        assert_eq!(p.ceiling(0), Duration::from_millis(100));
        assert_eq!(p.ceiling(3), Duration::from_millis(800));
        assert_eq!(p.ceiling(10), Duration::from_secs(2));
        assert_eq!(p.ceiling(u32::MAX), Duration::from_secs(2));
        assert_eq!(p.delay(3, 0.0), Duration::ZERO);
        assert_eq!(p.delay(3, 0.5), Duration::from_millis(400));
        assert_eq!(p.delay(3, 7.0), Duration::from_millis(800), "clamped");
        for _ in 0..100 {
            assert!(p.jittered(4) <= p.ceiling(4));
        }
    }

    #[test]
    fn batches_grow_on_a_good_link_and_shrink_on_a_bad_one() {
        let target = Duration::from_secs(10);
        let mut b = BatchSizer::new(20, 1, 1000, target);
        b.succeeded(20, Duration::from_secs(1));
        assert_eq!(b.size(), 40);
        for _ in 0..10 {
            b.succeeded(b.size(), Duration::from_secs(1));
        }
        assert_eq!(b.size(), 1000, "never past the protocol's limit");
        b.succeeded(1000, Duration::from_secs(20));
        assert_eq!(b.size(), 500, "twice too slow: half the size");
        b.succeeded(500, Duration::from_secs(8));
        assert_eq!(b.size(), 625, "within the target: grows gently");
        b.succeeded(3, Duration::from_secs(30));
        assert_eq!(b.size(), 625, "a short last batch teaches nothing");
        for _ in 0..20 {
            b.failed();
        }
        assert_eq!(b.size(), 1, "never below one event");
        assert_eq!(BatchSizer::new(0, 0, 0, target).size(), 1);
    }
}
