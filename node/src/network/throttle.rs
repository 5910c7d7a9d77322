//! Rate-limited log lines for what peers make us log: a hostile or merely busy peer decides how
//! often an event happens, so a line per event would let it fill the log.
//!
//! Owns: the one-line-per-interval rule and the count of lines left out, which the next line
//! written reports (`suppressed`). Does not own: counting the events themselves (the metrics
//! count every one; a log line is a sample).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Lets one log line through per interval and counts the ones it holds back.
#[derive(Debug)]
pub(crate) struct LogThrottle {
    /// Shortest time between two lines.
    interval: Duration,
    /// When the next line may be written (`None`: now) and how many were held back since the
    /// last line.
    state: Mutex<(Option<Instant>, u64)>,
}

impl LogThrottle {
    /// A throttle writing at most one line per `interval`.
    pub(crate) const fn new(interval: Duration) -> Self {
        Self { interval, state: Mutex::new((None, 0)) }
    }

    /// `Some(held back since the last line)` when a line may be written now; `None` (and the
    /// line counted as held back) otherwise.
    pub(crate) fn admit(&self) -> Option<u64> {
        self.admit_at(Instant::now())
    }

    fn admit_at(&self, now: Instant) -> Option<u64> {
        let Ok(mut state) = self.state.lock() else { return None };
        let (next, held_back) = &mut *state;
        if next.is_some_and(|next| now < next) {
            *held_back += 1;
            return None;
        }
        *next = Some(now + self.interval);
        Some(std::mem::take(held_back))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_and_the_next_line_counts_what_was_held_back() {
        let throttle = LogThrottle::new(Duration::from_secs(10));
        let start = Instant::now();
        assert_eq!(throttle.admit_at(start), Some(0));
        for offset in 1..=5 {
            assert_eq!(throttle.admit_at(start + Duration::from_secs(offset)), None);
        }
        assert_eq!(throttle.admit_at(start + Duration::from_secs(10)), Some(5));
        assert_eq!(throttle.admit_at(start + Duration::from_secs(11)), None);
        assert_eq!(throttle.admit_at(start + Duration::from_secs(25)), Some(1));
    }
}
