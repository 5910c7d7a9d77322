//! The lot graph at scale: a 100,000-event synthetic chain, every sampled query terminates with
//! a sane answer, and the index keeps up with generation. Prints the latencies it saw (run
//! with `--release -- --nocapture` for figures; `lotline-bench` is the reference benchmark).
//!
//! Owns only this workload check; correctness against a reference is `trace_reference.rs`.

use std::time::Instant;

use lotline_ledger::trace::synthetic::{Chain, ChainConfig, OrganisationRole};
use lotline_ledger::trace::{Hazard, Index, Subject, TimeWindow};

const EVENTS: usize = 100_000;
const DAY_MS: i64 = 86_400_000;

fn percentile(latencies_ms: &mut [f64], fraction: f64) -> f64 {
    latencies_ms.sort_by(f64::total_cmp);
    let rank =
        ((latencies_ms.len() as f64 * fraction).ceil() as usize).clamp(1, latencies_ms.len());
    latencies_ms[rank - 1]
}

#[test]
fn a_large_chain_indexes_and_answers_every_query() {
    let mut chain = Chain::new(ChainConfig::for_events(99, EVENTS));
    let packer_glns: Vec<String> = chain
        .organisations
        .iter()
        .filter(|organisation| organisation.role == OrganisationRole::Packer)
        .map(|organisation| organisation.gln.clone())
        .collect();
    let mut index = Index::new();
    let mut harvested = Vec::new();
    let mut apply_seconds = 0.0;
    let mut first_ms = i64::MAX;
    let mut last_ms = i64::MIN;
    for synthetic in chain.by_ref().take(EVENTS) {
        let time_ms =
            i64::try_from(synthetic.event.event_time.instant().unix_timestamp_nanos() / 1_000_000)
                .unwrap();
        first_ms = first_ms.min(time_ms);
        last_ms = last_ms.max(time_ms);
        if synthetic.event.ilmd.is_some() && synthetic.event.action.is_some() {
            for element in &synthetic.event.quantity_list {
                harvested.push(Subject::parse(&element.epc_class).unwrap());
            }
        }
        let started = Instant::now();
        index.apply(synthetic.entry, &synthetic.event);
        apply_seconds += started.elapsed().as_secs_f64();
    }
    let stats = index.stats();
    assert_eq!(stats.events, EVENTS);
    assert!(stats.lots > 5_000, "only {} lots", stats.lots);
    eprintln!(
        "index: {} events, {} lots, {} organisations, {:.0} events/s applied, ~{} MiB, {} days",
        stats.events,
        stats.lots,
        stats.organisations,
        EVENTS as f64 / apply_seconds,
        stats.approximate_bytes / (1 << 20),
        (last_ms - first_ms) / DAY_MS
    );

    let mut forward_ms = Vec::new();
    let mut back_ms = Vec::new();
    let mut forward_lots = 0;
    for subject in harvested.iter().step_by((harvested.len() / 200).max(1)) {
        let started = Instant::now();
        let forward = index.trace_forward(subject);
        forward_ms.push(started.elapsed().as_secs_f64() * 1e3);
        assert!(forward.lots.iter().any(|lot| **lot == *subject.link()));
        assert!(!forward.events.is_empty());
        forward_lots += forward.lots.len();
        for descendant in forward.lots.iter().skip(1).take(1) {
            let started = Instant::now();
            let back = index.trace_back(&Subject::parse(descendant).unwrap());
            back_ms.push(started.elapsed().as_secs_f64() * 1e3);
            assert!(back.lots.contains(descendant));
        }
    }
    let mut recall_ms = Vec::new();
    let mut recall_lots = 0;
    let span_days = ((last_ms - first_ms) / DAY_MS).max(1);
    for position in 0..100 {
        let gln = &packer_glns[position % packer_glns.len()];
        let from_ms = first_ms + (position as i64 * 7) % span_days * DAY_MS;
        let window = TimeWindow { from_ms: Some(from_ms), until_ms: Some(from_ms + 7 * DAY_MS) };
        let started = Instant::now();
        let recall = index.recall_scope(&Hazard::Facility { gln: gln.clone(), window });
        recall_ms.push(started.elapsed().as_secs_f64() * 1e3);
        recall_lots += recall.trace.lots.len();
    }
    eprintln!(
        "trace_forward p50 {:.3} ms p99 {:.3} ms (mean {} lots); trace_back p50 {:.3} ms p99 {:.3} ms; \
         recall_scope p50 {:.3} ms p99 {:.3} ms (mean {} lots)",
        percentile(&mut forward_ms, 0.5),
        percentile(&mut forward_ms, 0.99),
        forward_lots / forward_ms.len().max(1),
        percentile(&mut back_ms, 0.5),
        percentile(&mut back_ms, 0.99),
        percentile(&mut recall_ms, 0.5),
        percentile(&mut recall_ms, 0.99),
        recall_lots / recall_ms.len(),
    );
    assert!(recall_lots > 0, "facility recalls found nothing");
}
