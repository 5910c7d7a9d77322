//! The reference detector: one pass over a device's whole series, written for clarity.
//!
//! Owns: [`excursions`], [`gaps`] and [`status`] over a sorted series. They define what the
//! incremental [`Detector`](super::Detector) must answer, and the tests hold the two equal on
//! shuffled, batched input.
//! Does not own: incremental updates or supersession (`detector`).
//!
//! The model (shared with the detector): readings are per device and judged on that device's
//! own clock. Each reading holds its value until the next reading, unless the next reading is
//! more than [`Config::max_gap_ms`] later: that interval is a gap, known neither as beyond nor
//! as within a bound. A stretch of consecutive readings beyond a bound starts at its first
//! reading and ends at the first reading back within (`None` while ongoing); gaps do not split
//! a stretch, but its gaps are counted and never added to its duration.

use super::Sample;
use super::detector::{Config, Gap, Status};
use super::micro;
use super::profile::{Excursion, Measured, Profile, RuleKind};

/// Every excursion over `samples` (sorted by time, one per instant, micro-degree rounded), by
/// rule order, then start.
pub fn excursions(
    device: &str,
    samples: &[Sample],
    profile: &Profile,
    config: Config,
) -> Vec<Excursion> {
    let max_gap = config.max_gap_ms();
    let step = |index: usize| -> (i64, Option<i64>) {
        // (time held, gap length) for the reading at `index`.
        match samples.get(index + 1) {
            Some(next) => {
                let interval = next.time_ms - samples[index].time_ms;
                if interval > max_gap { (0, Some(interval)) } else { (interval, None) }
            }
            None => (0, None),
        }
    };
    let mut found = Vec::new();
    for rule in &profile.rules {
        let mut total: Option<Measured> = None;
        let mut run: Option<Measured> = None;
        for (index, sample) in samples.iter().enumerate() {
            let beyond = rule.bound.beyond(sample.celsius);
            if !beyond {
                if let Some(mut finished) = run.take() {
                    finished.end_ms = Some(sample.time_ms);
                    if rule.kind == RuleKind::SingleEvent && rule.breached_by(finished.duration_ms)
                    {
                        found.push(Excursion::new(device, rule, profile.limits, finished));
                    }
                    if let Some(total) = &mut total {
                        total.end_ms = Some(sample.time_ms);
                    }
                }
                continue;
            }
            let (held, gap) = step(index);
            for measured in [&mut run, &mut total] {
                let measured = measured.get_or_insert(Measured {
                    start_ms: sample.time_ms,
                    end_ms: None,
                    duration_ms: 0,
                    min_celsius: sample.celsius,
                    max_celsius: sample.celsius,
                    sum_micro: 0,
                    readings: 0,
                    gaps: 0,
                    gap_ms: 0,
                });
                measured.end_ms = None;
                measured.duration_ms += held;
                measured.min_celsius = measured.min_celsius.min(sample.celsius);
                measured.max_celsius = measured.max_celsius.max(sample.celsius);
                measured.sum_micro += micro(sample.celsius);
                measured.readings += 1;
                if let Some(gap) = gap {
                    measured.gaps += 1;
                    measured.gap_ms += gap;
                }
            }
        }
        match rule.kind {
            RuleKind::SingleEvent => {
                if let Some(ongoing) = run
                    && rule.breached_by(ongoing.duration_ms)
                {
                    found.push(Excursion::new(device, rule, profile.limits, ongoing));
                }
            }
            RuleKind::Cumulative => {
                if let Some(total) = total
                    && rule.breached_by(total.duration_ms)
                {
                    found.push(Excursion::new(device, rule, profile.limits, total));
                }
            }
        }
    }
    found
}

/// Every gap in `samples` (sorted by time), in time order.
pub fn gaps(samples: &[Sample], config: Config) -> Vec<Gap> {
    let max_gap = config.max_gap_ms();
    samples
        .windows(2)
        .filter(|pair| pair[1].time_ms - pair[0].time_ms > max_gap)
        .map(|pair| Gap { start_ms: pair[0].time_ms, end_ms: pair[1].time_ms })
        .collect()
}

/// The status of `samples` (sorted by time) given the excursions found over them.
pub fn status(samples: &[Sample], profile: &Profile, excursions: &[Excursion]) -> Status {
    let last = samples.last();
    let breached = profile
        .rules
        .iter()
        .enumerate()
        .filter(|(_, rule)| excursions.iter().any(|excursion| &excursion.rule == *rule))
        .map(|(index, _)| index)
        .collect();
    Status {
        last_reading_ms: last.map(|sample| sample.time_ms),
        last_celsius: last.map(|sample| sample.celsius),
        out_of_range_now: last.is_some_and(|sample| !profile.limits.contains(sample.celsius)),
        breached,
    }
}
