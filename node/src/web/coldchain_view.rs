//! The consumer page's cold-chain section: the verdict over the lot and what it was made
//! from, the excursions in force with the organisation that recorded each, and the
//! temperature curve as inline SVG (the profile's limits shaded, excursions marked, gaps in
//! the logging left open).
//!
//! Owns: choosing what the section shows from the node's cold-chain book (series that
//! travelled with the lots, excursion records in force, the profile master data names), the
//! chart's geometry, and which entries the section relies on (excursion records, and the
//! sensor events behind the curve), so the page's proof covers them. Does not own detecting
//! excursions, supersession or profiles (`lotline_ledger::coldchain`), nor the words of the
//! page (`super::page`'s texts) or its template.

use std::collections::BTreeSet;

use lotline_ledger::coldchain::book::{Book, SeriesKey};
use lotline_ledger::coldchain::{Profile, Sample};
use lotline_ledger::entry::EntryRef;
use lotline_ledger::trace::format_time;

/// Chart width in SVG units.
const WIDTH: f64 = 320.0;
/// Chart height in SVG units.
const HEIGHT: f64 = 150.0;
/// Margin left of the plot for the temperature labels.
const LEFT: f64 = 40.0;
/// Margin under the plot for the date labels.
const BOTTOM: f64 = 18.0;
/// Points drawn per series at most: readings are grouped into this many time buckets and each
/// bucket keeps its lowest and highest reading, so a short excursion still shows.
const MAX_BUCKETS: usize = 240;
/// Series drawn at most (one line each); the verdict covers them all.
const MAX_SERIES: usize = 4;
/// A step between two readings longer than this many times the series' typical step is a
/// gap: the line is broken there, never drawn across.
const GAP_FACTOR: i64 = 3;

/// What the section shows.
#[derive(Debug, Default)]
pub struct ColdChainView {
    /// `none` (no readings and no excursion), `kept` (readings, no excursion in force) or
    /// `excursion`: also the section's `data-cold-chain` attribute.
    pub state: &'static str,
    /// Readings behind the verdict.
    pub readings: usize,
    /// First and last reading, when any.
    pub span: Option<(Instant, Instant)>,
    /// The profile's name and range, when master data names one (`chilled 0-4 °C`).
    pub profile: Option<String>,
    /// The last reading of some series is outside the profile's limits: "out of range now",
    /// said apart from whether a rule was breached.
    pub out_of_range_now: bool,
    /// Excursions in force.
    pub excursions: Vec<ExcursionView>,
    /// The curve, when there are readings.
    pub chart: Option<Chart>,
}

/// An instant as the page shows it: RFC 3339 for the `datetime` attribute, and to the minute
/// in UTC for the reader.
#[derive(Debug)]
pub struct Instant {
    /// RFC 3339, UTC.
    pub rfc3339: String,
    /// `2026-03-01 10:00 UTC`.
    pub text: String,
}

impl Instant {
    fn at(time_ms: i64) -> Self {
        let rfc3339 = format_time(time_ms);
        let text = match (rfc3339.get(..10), rfc3339.get(11..16)) {
            (Some(date), Some(minute)) => format!("{date} {minute} UTC"),
            _ => rfc3339.clone(),
        };
        Self { rfc3339, text }
    }
}

/// An excursion in force, as shown.
#[derive(Debug)]
pub struct ExcursionView {
    /// The rule and limits applied, as the record states them.
    pub limit: String,
    /// The worst value observed, as the record states it.
    pub observed: String,
    /// Start.
    pub started: Instant,
    /// End; `None` while ongoing.
    pub ended: Option<Instant>,
    /// Time beyond the bound, in whole minutes, when the record states it.
    pub minutes: Option<i64>,
    /// The recording organisation's key (hex), which the script checks signed the record.
    pub author: String,
    /// Its name (the page fills it from the roster).
    pub recorder: String,
    /// The record's entry hash (hex).
    pub entry_hash: String,
    /// Start and end, ms since the epoch (for the chart).
    span_ms: (i64, Option<i64>),
}

/// The temperature curve's geometry, in SVG units (numbers only: nothing from an event is
/// drawn).
#[derive(Debug)]
pub struct Chart {
    /// Width and height of the view box.
    pub width: f64,
    /// Height of the view box.
    pub height: f64,
    /// The shaded band of the profile's limits: `y` and `height`.
    pub band: Option<(f64, f64)>,
    /// Excursions: `x` and `width`.
    pub excursions: Vec<(f64, f64)>,
    /// Lines, one per unbroken stretch of a series: `points` attributes.
    pub lines: Vec<String>,
    /// Temperature labels: `y` and the text (`8 °C`).
    pub ticks: Vec<(f64, String)>,
    /// Left and bottom edges of the plot.
    pub left: f64,
    /// Bottom edge of the plot.
    pub bottom: f64,
    /// Width of the plot.
    pub plot_width: f64,
    /// Top edge of the plot.
    pub top: f64,
    /// Height of the plot.
    pub plot_height: f64,
    /// Where the temperature labels end (they are right-aligned there).
    pub tick_x: f64,
    /// Baseline of the date labels.
    pub date_y: f64,
    /// Right edge of the plot, where the last date ends.
    pub right: f64,
    /// The first instant's date, under the plot.
    pub from: String,
    /// The last instant's date.
    pub until: String,
}

/// The section for a page whose trace reached `lots`, judged against the lot's `profile` (see
/// `lotline_ledger::coldchain::book::profile_in`); every entry it relies on is added to
/// `relied`, and the sensor events behind the curve to `sensor_events` (the path leaves them
/// out: the section shows them).
pub fn cold_chain_view<'lot>(
    book: &Book,
    profile: Option<Profile>,
    lots: impl IntoIterator<Item = &'lot str>,
    relied: &mut BTreeSet<EntryRef>,
    sensor_events: &mut BTreeSet<EntryRef>,
) -> ColdChainView {
    let mut view = ColdChainView { state: "none", ..ColdChainView::default() };
    let mut excursion_entries = BTreeSet::new();
    let mut series: Vec<(&SeriesKey, Vec<Sample>)> = Vec::new();
    let mut seen_series = BTreeSet::new();
    for reached in lots {
        for record in book.current_excursions_of(reached) {
            if !excursion_entries.insert(record.entry) {
                continue;
            }
            relied.insert(record.entry);
            let excursion = &record.excursion;
            view.excursions.push(ExcursionView {
                limit: excursion.limit.clone(),
                observed: excursion.observed.clone(),
                started: Instant::at(excursion.started_ms),
                ended: excursion.ended_ms.map(Instant::at),
                minutes: excursion.detail.as_ref().map(|detail| detail.duration_ms / 60_000),
                author: record.entry.author.to_hex(),
                recorder: String::new(),
                entry_hash: record.entry.entry_hash.to_hex(),
                span_ms: (excursion.started_ms, excursion.ended_ms),
            });
        }
        for (key, held) in book.series_of_lot(reached) {
            if !seen_series.insert(key) {
                continue;
            }
            relied.extend(held.events.iter().copied());
            sensor_events.extend(held.events.iter().copied());
            series.push((key, held.samples()));
        }
    }
    view.excursions.sort_by_key(|excursion| excursion.span_ms.0);
    view.readings = series.iter().map(|(_, samples)| samples.len()).sum();
    let first = series.iter().filter_map(|(_, samples)| samples.first()).map(|s| s.time_ms).min();
    let last = series.iter().filter_map(|(_, samples)| samples.last()).map(|s| s.time_ms).max();
    if let (Some(first), Some(last)) = (first, last) {
        view.span = Some((Instant::at(first), Instant::at(last)));
    }
    if let Some(profile) = &profile {
        view.profile = Some(profile_text(profile));
        view.out_of_range_now = series.iter().any(|(_, samples)| {
            samples.last().is_some_and(|last| !profile.limits.contains(last.celsius))
        });
    }
    view.state = if !view.excursions.is_empty() {
        "excursion"
    } else if view.readings > 0 {
        "kept"
    } else {
        "none"
    };
    let excursion_spans: Vec<(i64, i64)> = book_spans(&view, last);
    view.chart = chart(&series, profile.as_ref(), &excursion_spans);
    view
}

/// The excursions' spans in ms (an ongoing one runs to the last reading).
fn book_spans(view: &ColdChainView, last: Option<i64>) -> Vec<(i64, i64)> {
    view.excursions
        .iter()
        .filter_map(|excursion| {
            let (start, end) = excursion.span_ms;
            let end = end.or(last)?;
            Some((start, end.max(start)))
        })
        .collect()
}

/// A profile as a person reads it: its name, then its range (`chilled 0-4 (0–4 °C)`,
/// `frozen -18 (≤ -18 °C)`).
fn profile_text(profile: &Profile) -> String {
    let range = match (profile.limits.min_celsius, profile.limits.max_celsius) {
        (Some(min), Some(max)) => format!("{min}–{max} °C"),
        (None, Some(max)) => format!("≤ {max} °C"),
        (Some(min), None) => format!("≥ {min} °C"),
        (None, None) => return profile.name.clone(),
    };
    format!("{} ({range})", profile.name)
}

/// The chart of `series` (at most [`MAX_SERIES`] drawn), `None` without readings.
fn chart(
    series: &[(&SeriesKey, Vec<Sample>)],
    profile: Option<&Profile>,
    excursions: &[(i64, i64)],
) -> Option<Chart> {
    let drawn = &series[..series.len().min(MAX_SERIES)];
    let readings = || drawn.iter().flat_map(|(_, samples)| samples.iter());
    let first = readings().map(|sample| sample.time_ms).min()?;
    let last = readings().map(|sample| sample.time_ms).max()?;
    let limits = profile.map(|profile| profile.limits);
    let mut low = readings().map(|sample| sample.celsius).fold(f64::INFINITY, f64::min);
    let mut high = readings().map(|sample| sample.celsius).fold(f64::NEG_INFINITY, f64::max);
    for limit in limits.iter().flat_map(|limits| [limits.min_celsius, limits.max_celsius]) {
        if let Some(limit) = limit {
            low = low.min(limit);
            high = high.max(limit);
        }
    }
    low = (low - 1.0).floor();
    high = (high + 1.0).ceil();
    let plot_width = WIDTH - LEFT - 4.0;
    let plot_height = HEIGHT - BOTTOM - 4.0;
    let span = (last - first).max(1) as f64;
    let x = |time_ms: i64| LEFT + (time_ms - first) as f64 / span * plot_width;
    let y = |celsius: f64| 4.0 + (high - celsius) / (high - low) * plot_height;
    let band = limits.map(|limits| {
        let top = limits.max_celsius.map_or(4.0, y);
        let bottom = limits.min_celsius.map_or(4.0 + plot_height, y);
        (round(top), round((bottom - top).max(0.0)))
    });
    let excursions = excursions
        .iter()
        .map(|(start, end)| (round(x(*start)), round((x(*end) - x(*start)).max(1.5))))
        .collect();
    let mut lines = Vec::new();
    for (_, samples) in drawn {
        for stretch in stretches(samples) {
            let points: Vec<String> = thin(stretch, first, span)
                .iter()
                .map(|sample| format!("{},{}", round(x(sample.time_ms)), round(y(sample.celsius))))
                .collect();
            if !points.is_empty() {
                lines.push(points.join(" "));
            }
        }
    }
    let mut ticks =
        vec![(round(y(high)), format!("{high} °C")), (round(y(low)), format!("{low} °C"))];
    for limit in limits.iter().flat_map(|limits| [limits.min_celsius, limits.max_celsius]).flatten()
    {
        ticks.push((round(y(limit)), format!("{limit} °C")));
    }
    Some(Chart {
        width: WIDTH,
        height: HEIGHT,
        band,
        excursions,
        lines,
        ticks,
        left: LEFT,
        bottom: round(4.0 + plot_height),
        plot_width: round(plot_width),
        top: 4.0,
        plot_height: round(plot_height),
        tick_x: LEFT - 3.0,
        date_y: HEIGHT - 4.0,
        right: round(LEFT + plot_width),
        from: format_time(first).get(..10).unwrap_or_default().to_owned(),
        until: format_time(last).get(..10).unwrap_or_default().to_owned(),
    })
}

/// The unbroken stretches of a series: split wherever a step is longer than [`GAP_FACTOR`]
/// times the series' median step.
fn stretches(samples: &[Sample]) -> Vec<&[Sample]> {
    let mut steps: Vec<i64> =
        samples.windows(2).map(|pair| pair[1].time_ms - pair[0].time_ms).collect();
    steps.sort_unstable();
    let Some(median) = steps.get(steps.len() / 2).copied() else {
        return vec![samples];
    };
    let longest = median.max(1).saturating_mul(GAP_FACTOR);
    let mut stretches = Vec::new();
    let mut start = 0;
    for index in 1..samples.len() {
        if samples[index].time_ms - samples[index - 1].time_ms > longest {
            stretches.push(&samples[start..index]);
            start = index;
        }
    }
    stretches.push(&samples[start..]);
    stretches
}

/// At most two readings per time bucket (the lowest and the highest, in time order), so a
/// long journey draws in bounded points and no peak is lost.
fn thin(samples: &[Sample], first: i64, span: f64) -> Vec<Sample> {
    if samples.len() <= 2 * MAX_BUCKETS {
        return samples.to_vec();
    }
    let bucket_of =
        |sample: &Sample| (((sample.time_ms - first) as f64 / span) * MAX_BUCKETS as f64) as usize;
    let mut kept = Vec::with_capacity(2 * MAX_BUCKETS + 2);
    let mut index = 0;
    while index < samples.len() {
        let bucket = bucket_of(&samples[index]);
        let mut end = index;
        let (mut lowest, mut highest) = (index, index);
        while end < samples.len() && bucket_of(&samples[end]) == bucket {
            if samples[end].celsius < samples[lowest].celsius {
                lowest = end;
            }
            if samples[end].celsius > samples[highest].celsius {
                highest = end;
            }
            end += 1;
        }
        kept.push(samples[lowest.min(highest)]);
        if lowest != highest {
            kept.push(samples[lowest.max(highest)]);
        }
        index = end;
    }
    kept
}

/// Two decimals are enough for a 320-unit drawing.
fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(minute: i64, celsius: f64) -> Sample {
        Sample { time_ms: minute * 60_000, offset_minutes: 0, celsius }
    }

    #[test]
    fn a_gap_breaks_the_line_and_is_never_drawn_across() {
        let samples: Vec<Sample> = (0..10)
            .map(|minute| sample(minute * 5, 3.0))
            .chain((0..10).map(|minute| sample(200 + minute * 5, 3.0)))
            .collect();
        let stretches = stretches(&samples);
        assert_eq!(stretches.len(), 2);
        assert_eq!(stretches[0].len(), 10);
        assert_eq!(stretches[1][0].time_ms, 200 * 60_000);
    }

    #[test]
    fn thinning_keeps_a_one_reading_peak() {
        let mut samples: Vec<Sample> = (0..100_000).map(|minute| sample(minute, 3.0)).collect();
        samples[54_321].celsius = 14.5;
        let kept = thin(&samples, 0, (99_999_i64 * 60_000) as f64);
        assert!(kept.len() <= 2 * MAX_BUCKETS + 2, "{}", kept.len());
        assert!(kept.iter().any(|sample| sample.celsius == 14.5));
        assert!(kept.windows(2).all(|pair| pair[0].time_ms <= pair[1].time_ms));
    }

    #[test]
    fn the_band_spans_the_profile_and_excursions_are_marked() {
        let key = SeriesKey {
            signer: lotline_ledger::identity::Keypair::generate().unwrap().public_key(),
            device: "logger".to_owned(),
            carried: vec![],
        };
        let samples: Vec<Sample> =
            (0..60).map(|minute| sample(minute, if minute < 30 { 3.0 } else { 9.0 })).collect();
        let profile = Profile::chilled();
        let chart =
            chart(&[(&key, samples)], Some(&profile), &[(30 * 60_000, 59 * 60_000)]).unwrap();
        let (top, height) = chart.band.unwrap();
        assert!(top > 4.0 && height > 0.0, "{top} {height}");
        assert_eq!(chart.excursions.len(), 1);
        assert!(chart.excursions[0].0 > chart.left);
        assert_eq!(chart.lines.len(), 1);
        assert!(chart.ticks.iter().any(|(_, text)| text == "4 °C"));
    }
}
