//! Scenarios `trace_forward`, `trace_back` and `recall_scope`: query latency on a generated
//! supply chain, plus the index build rate and memory.
//!
//! Owns the workload: a seeded synthetic chain (`lotline_ledger::trace::synthetic`) streamed
//! into a `trace::Index` (1,000,000 events with `--full`, 100,000 with `--quick`), then timed
//! queries: forward from harvested lots, back from processed and repacked lots, and recall
//! scope of packing facilities over a time window (the case that touches hundreds of lots).
//! Recalls are timed twice: cold (every recall summary forgotten before each, reported as
//! `cold_p50_ms` / `cold_p99_ms`) and as a node serves them (every lot summarised first, the
//! time reported as `summarise_all_s`). The chain's last twentieth is applied while every lot
//! is summarised, to price the index's upkeep of summaries (`index_apply_us_mean_summarised`).
//! Does not own the index or the generator, nor the report format (see `super`).

use std::time::{Duration, Instant};

use lotline_ledger::trace::synthetic::{Chain, ChainConfig, OrganisationRole};
use lotline_ledger::trace::{Hazard, Index, Subject, TimeWindow, TraceAnswer};

use super::{Options, Report};

/// Events in the chain for `--full` and `--quick`.
const FULL_EVENTS: usize = 1_000_000;
const QUICK_EVENTS: usize = 100_000;
/// Queries timed per scenario.
const FULL_QUERIES: usize = 1_000;
const QUICK_QUERIES: usize = 300;
/// Seed of the benchmark chain (fixed: runs are comparable).
const SEED: u64 = 2026;
/// Queries run before timing starts (their answers are dropped).
const WARM_UP_QUERIES: usize = 10;
/// The chain's last 1/`LATE_SHARE` arrives once every lot is summarised.
const LATE_SHARE: usize = 20;
/// Units summarised per call while every summary is computed (as the node's batches).
const SUMMARY_BATCH: usize = 512;
/// Width of a facility recall window.
const RECALL_WINDOW_DAYS: i64 = 40;
/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// Runs the three trace scenarios.
pub fn run(options: &Options) -> Vec<Report> {
    let events = if options.quick { QUICK_EVENTS } else { FULL_EVENTS };
    let queries = if options.quick { QUICK_QUERIES } else { FULL_QUERIES };
    let mut built = build(events);
    let stats = built.index.stats();
    let rss_bytes = resident_set_bytes();
    let hazards = facility_hazards(&built, queries);
    // Cold first: every recall computes every lot's part (no summary held), as the first
    // recall of an incident does.
    let mut cold_ms: Vec<f64> = Vec::with_capacity(hazards.len());
    for hazard in &hazards {
        built.index.forget_summaries();
        let started = Instant::now();
        AnswerSize::of(&built.index.recall_scope(hazard).trace);
        cold_ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    cold_ms.sort_by(f64::total_cmp);
    let (build_rate, apply_micros) = (built.build_rate(), built.mean_apply_micros());
    let late = &built.late;
    let late_apply_micros = late.apply_time.as_secs_f64() * 1e6 / late.applied.max(1) as f64;
    let forgotten_per_event = late.forgotten as f64 / late.applied.max(1) as f64;
    let common = |report: &mut Report| {
        let extra = &mut report.extra;
        extra.insert("index_build_per_s".into(), build_rate.into());
        extra.insert("index_apply_us_mean".into(), apply_micros.into());
        extra.insert("index_apply_us_mean_summarised".into(), late_apply_micros.into());
        extra.insert("summaries_forgotten_per_event".into(), forgotten_per_event.into());
        extra.insert("index_bytes".into(), stats.approximate_bytes.into());
        extra.insert("lots".into(), stats.lots.into());
        extra.insert("organisations".into(), stats.organisations.into());
        if let Some(rss_bytes) = rss_bytes {
            extra.insert("process_rss_bytes".into(), rss_bytes.into());
        }
    };

    let forward_subjects = pick(&built.harvested, queries);
    let mut forward = time_queries("trace_forward", events, &forward_subjects, |subject| {
        AnswerSize::of(&built.index.trace_forward(subject))
    });
    common(&mut forward);

    let back_subjects = pick(&built.made, queries);
    let mut back = time_queries("trace_back", events, &back_subjects, |subject| {
        AnswerSize::of(&built.index.trace_back(subject))
    });
    common(&mut back);

    // Then as a node answers: every unit's part summarised beforehand (the node does it in
    // the background once entries stop arriving), timed here.
    built.index.forget_summaries();
    let started = Instant::now();
    while built.index.summarise_missing(SUMMARY_BATCH) > 0 {}
    let summarise_s = started.elapsed().as_secs_f64();
    let summaries = built.index.stats();
    let mut recall = time_queries("recall_scope", events, &hazards, |hazard| {
        AnswerSize::of(&built.index.recall_scope(hazard).trace)
    });
    common(&mut recall);
    let extra = &mut recall.extra;
    extra.insert("cold_p50_ms".into(), percentile(&cold_ms, 0.50).into());
    extra.insert("cold_p99_ms".into(), percentile(&cold_ms, 0.99).into());
    extra.insert("summarise_all_s".into(), summarise_s.into());
    extra.insert("summaries_held".into(), summaries.summaries.into());
    extra.insert("summary_bytes".into(), summaries.summary_bytes.into());
    vec![forward, back, recall]
}

/// The index and what the queries need from the chain.
struct Built {
    index: Index,
    /// Time spent inside `Index::apply` only (generation excluded).
    apply_time: Duration,
    /// Events applied (before the late ones).
    applied: usize,
    /// The chain's last events, applied while every lot's recall summary was held.
    late: LateArrivals,
    /// Harvested (farm) lots: forward-trace subjects.
    harvested: Vec<Subject>,
    /// Lots made by transformations: back-trace subjects.
    made: Vec<Subject>,
    /// GLNs of packing facilities: recall hazards.
    packer_glns: Vec<String>,
    /// Time of the last event, to place recall windows inside the chain.
    last_time_ms: i64,
    /// Time of the first event.
    first_time_ms: i64,
}

impl Built {
    fn build_rate(&self) -> f64 {
        self.applied as f64 / self.apply_time.as_secs_f64().max(1e-9)
    }

    fn mean_apply_micros(&self) -> f64 {
        self.apply_time.as_secs_f64() * 1e6 / self.applied.max(1) as f64
    }
}

fn build(events: usize) -> Built {
    let mut chain = Chain::new(ChainConfig::for_events(SEED, events));
    let packer_glns: Vec<String> = chain
        .organisations
        .iter()
        .filter(|organisation| organisation.role == OrganisationRole::Packer)
        .map(|organisation| organisation.gln.clone())
        .collect();
    let mut index = Index::new();
    let mut apply_time = Duration::ZERO;
    let late_from = events - events / LATE_SHARE;
    let (mut late_apply_time, mut late_applied, mut summaries_before_late) = (Duration::ZERO, 0, 0);
    let mut harvested = Vec::new();
    let mut made = Vec::new();
    let mut first_time_ms = i64::MAX;
    let mut last_time_ms = i64::MIN;
    let mut applied = 0;
    for (position, synthetic) in chain.by_ref().take(events).enumerate() {
        if position == late_from {
            while index.summarise_missing(SUMMARY_BATCH) > 0 {}
            summaries_before_late = index.summaries().usage().0;
        }
        let event = &synthetic.event;
        let time_ms = i64::try_from(event.event_time.instant().unix_timestamp_nanos() / 1_000_000)
            .unwrap_or(0);
        first_time_ms = first_time_ms.min(time_ms);
        last_time_ms = last_time_ms.max(time_ms);
        if event.error_declaration.is_none() {
            let is_harvest = event.ilmd.is_some() && event.action.is_some();
            let target = if is_harvest { &mut harvested } else { &mut made };
            for element in event.quantity_list.iter().chain(&event.output_quantity_list) {
                if (is_harvest || event.output_quantity_list.contains(element))
                    && let Ok(subject) = Subject::parse(&element.epc_class)
                {
                    target.push(subject);
                }
            }
        }
        let started = Instant::now();
        index.apply(synthetic.entry, &synthetic.event);
        let took = started.elapsed();
        if position < late_from {
            apply_time += took;
            applied += 1;
        } else {
            late_apply_time += took;
            late_applied += 1;
        }
    }
    let late = LateArrivals {
        apply_time: late_apply_time,
        applied: late_applied,
        forgotten: summaries_before_late.saturating_sub(index.summaries().usage().0),
    };
    Built {
        index,
        apply_time,
        applied,
        late,
        harvested,
        made,
        packer_glns,
        last_time_ms,
        first_time_ms,
    }
}

/// The last [`LATE_SHARE`]th of the chain, applied after every lot was summarised: what
/// keeping summaries costs the index's maintenance.
struct LateArrivals {
    /// Time inside `Index::apply` for them.
    apply_time: Duration,
    /// How many.
    applied: usize,
    /// Summaries they made the index forget.
    forgotten: usize,
}

/// `count` subjects spread evenly over `all` (the chain's whole time span).
fn pick(all: &[Subject], count: usize) -> Vec<Subject> {
    if all.is_empty() {
        return Vec::new();
    }
    let stride = (all.len() / count).max(1);
    all.iter().step_by(stride).take(count).cloned().collect()
}

/// Recall hazards: each packing facility over a few days, at times spread over the chain.
fn facility_hazards(built: &Built, count: usize) -> Vec<Hazard> {
    let span_days = ((built.last_time_ms - built.first_time_ms) / DAY_MS).max(1);
    (0..count)
        .filter_map(|position| {
            let gln = built.packer_glns.get(position % built.packer_glns.len().max(1))?;
            let start_day = (position as i64 * 7919) % span_days;
            let from_ms = built.first_time_ms + start_day * DAY_MS;
            let window = TimeWindow {
                from_ms: Some(from_ms),
                until_ms: Some(from_ms + RECALL_WINDOW_DAYS * DAY_MS),
            };
            Some(Hazard::Facility { gln: gln.clone(), window })
        })
        .collect()
}

/// How big an answer was: what a recall screen shows.
#[derive(Debug, Clone, Copy, Default)]
struct AnswerSize {
    /// Lots and items in the answer.
    lots: usize,
    /// Handoffs (consignees) listed.
    consignees: usize,
    /// Events relied on (the evidence to verify).
    events: usize,
}

impl AnswerSize {
    fn of(answer: &TraceAnswer) -> Self {
        Self {
            lots: answer.lots.len() + answer.items.len(),
            consignees: answer.consignees.len(),
            events: answer.events.len(),
        }
    }
}

/// Times `query` over every input, after [`WARM_UP_QUERIES`] untimed ones; reports p50 / p99
/// and the mean answer size.
fn time_queries<Input>(
    scenario: &str,
    events: usize,
    inputs: &[Input],
    mut query: impl FnMut(&Input) -> AnswerSize,
) -> Report {
    // Steady state, not first touches: the first answers fault in the allocator's pages.
    for input in inputs.iter().take(WARM_UP_QUERIES) {
        query(input);
    }
    let mut latencies_ms = Vec::with_capacity(inputs.len());
    let mut totals = AnswerSize::default();
    let mut lots_max = 0usize;
    let started = Instant::now();
    for input in inputs {
        let query_started = Instant::now();
        let size = query(input);
        latencies_ms.push(query_started.elapsed().as_secs_f64() * 1e3);
        totals.lots += size.lots;
        totals.consignees += size.consignees;
        totals.events += size.events;
        lots_max = lots_max.max(size.lots);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies_ms.sort_by(f64::total_cmp);
    let mut report = Report {
        scenario: scenario.to_owned(),
        events: events as u64,
        per_s: Some(inputs.len() as f64 / elapsed.max(1e-9)),
        p50_ms: percentile(&latencies_ms, 0.50),
        p99_ms: percentile(&latencies_ms, 0.99),
        ..Report::default()
    };
    report.extra.insert("queries".into(), inputs.len().into());
    let mean = |total: usize| (total as f64 / inputs.len().max(1) as f64).into();
    report.extra.insert("lots_per_answer_mean".into(), mean(totals.lots));
    report.extra.insert("consignees_per_answer_mean".into(), mean(totals.consignees));
    report.extra.insert("events_per_answer_mean".into(), mean(totals.events));
    report.extra.insert("lots_per_answer_max".into(), lots_max.into());
    report
}

fn percentile(sorted: &[f64], fraction: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// The process's resident set size from `/proc/self/status` (Linux); `None` elsewhere.
fn resident_set_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}
