//! The excursions in force that a trace or recall reply carries: one [`ExcursionRef`] per
//! signed excursion record about a lot the answer reaches, with the entry that carries it so a
//! client can verify it against the proven payload.
//!
//! Owns the shape ([`ExcursionRef`], [`ExcursionFigures`]), how it is read from an excursion
//! record ([`ExcursionRef::of_record`]), which records a set of reached lots brings in
//! ([`in_force`]) and the comparison a verifier makes with the proven record
//! ([`ExcursionRef::mismatch`]). Does not own detecting, signing or superseding excursions
//! (`coldchain`, the node), the walk that decides which lots are reached ([`super::query`]),
//! gathering evidence, or rendering.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::time_format::format_time;
use crate::coldchain::book::Book;
use crate::entry::EntryRef;
use crate::records;

/// An excursion in force about a lot of an answer, as its signed record states it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExcursionRef {
    /// The feed entry carrying the excursion record; its author recorded the excursion.
    pub entry: EntryRef,
    /// The lots the record names, as canonical Digital Links, sorted.
    pub lots: Vec<String>,
    /// What was measured (CBV sensor type, e.g. `gs1:Temperature`).
    pub measurement: String,
    /// The rule and limits applied, as the record words them.
    pub limit: String,
    /// The worst value observed, with its unit.
    pub observed: String,
    /// Start (RFC 3339, UTC, with milliseconds).
    pub started: String,
    /// End, when the excursion ended (missing: still going on when recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
    /// What the detector measured, for a detected excursion (missing for one stated in words
    /// only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figures: Option<ExcursionFigures>,
}

/// The figures of a detected excursion.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExcursionFigures {
    /// The device whose readings these are.
    pub device: String,
    /// Time known to be beyond the bound, ms (gaps excluded).
    pub duration_ms: i64,
    /// Lowest reading beyond the bound, °C.
    pub min_celsius: f64,
    /// Highest reading beyond the bound, °C.
    pub max_celsius: f64,
    /// Mean of the readings beyond the bound, °C.
    pub mean_celsius: f64,
    /// Readings beyond the bound.
    pub readings: u64,
    /// Gaps in the logging inside the excursion.
    pub gaps: u32,
    /// Their total length, ms.
    pub gap_ms: i64,
}

impl ExcursionRef {
    /// What the excursion record `excursion`, carried by `entry`, states.
    pub fn of_record(entry: EntryRef, excursion: &records::Excursion) -> Self {
        let mut lots: Vec<String> = excursion
            .lots
            .iter()
            .map(|lot| crate::gs1::canonical_digital_link(lot).unwrap_or_else(|| lot.clone()))
            .collect();
        lots.sort();
        lots.dedup();
        Self {
            entry,
            lots,
            measurement: excursion.measurement.clone(),
            limit: excursion.limit.clone(),
            observed: excursion.observed.clone(),
            started: format_time(excursion.started_ms),
            ended: excursion.ended_ms.map(format_time),
            figures: excursion.detail.as_ref().map(|detail| ExcursionFigures {
                device: detail.device.clone(),
                duration_ms: detail.duration_ms,
                min_celsius: detail.min_celsius,
                max_celsius: detail.max_celsius,
                mean_celsius: detail.mean_celsius,
                readings: detail.readings,
                gaps: detail.gaps,
                gap_ms: detail.gap_ms,
            }),
        }
    }

    /// The first field in which this claim differs from what the proven record `excursion`
    /// states (`None`: they agree). Temperatures agree within a billionth of a degree, so a
    /// decimal text that reads back to a neighbouring float still agrees.
    pub fn mismatch(&self, excursion: &records::Excursion) -> Option<&'static str> {
        let stated = Self::of_record(self.entry, excursion);
        let close = |left: f64, right: f64| (left - right).abs() <= 1e-9 * left.abs().max(1.0);
        if self.lots != stated.lots {
            return Some("lots");
        }
        if self.measurement != stated.measurement {
            return Some("measurement");
        }
        if self.limit != stated.limit {
            return Some("limit");
        }
        if self.observed != stated.observed {
            return Some("observed");
        }
        if self.started != stated.started {
            return Some("started");
        }
        if self.ended != stated.ended {
            return Some("ended");
        }
        match (&self.figures, &stated.figures) {
            (None, None) => None,
            (Some(claimed), Some(stated)) => {
                if claimed.device != stated.device {
                    Some("figures.device")
                } else if claimed.duration_ms != stated.duration_ms {
                    Some("figures.duration_ms")
                } else if !close(claimed.min_celsius, stated.min_celsius) {
                    Some("figures.min_celsius")
                } else if !close(claimed.max_celsius, stated.max_celsius) {
                    Some("figures.max_celsius")
                } else if !close(claimed.mean_celsius, stated.mean_celsius) {
                    Some("figures.mean_celsius")
                } else if claimed.readings != stated.readings {
                    Some("figures.readings")
                } else if (claimed.gaps, claimed.gap_ms) != (stated.gaps, stated.gap_ms) {
                    Some("figures.gaps")
                } else {
                    None
                }
            }
            _ => Some("figures"),
        }
    }

    /// Whether the record names one of `lots` (canonical Digital Links).
    pub fn names_any_of<'lot>(&self, lots: impl IntoIterator<Item = &'lot str>) -> bool {
        lots.into_iter().any(|lot| self.lots.iter().any(|named| named == lot))
    }
}

/// The excursions in force about any of `lots` (records neither superseded nor withdrawals,
/// see [`Book::current_excursions_of`]), each once, by start then entry.
pub fn in_force<'lot>(book: &Book, lots: impl IntoIterator<Item = &'lot str>) -> Vec<ExcursionRef> {
    // A ledger without excursion records costs a recall nothing per lot.
    if book.excursion_count() == 0 {
        return Vec::new();
    }
    let mut seen = BTreeSet::new();
    let mut found: Vec<(i64, ExcursionRef)> = Vec::new();
    for lot in lots {
        for record in book.current_excursions_of(lot) {
            if seen.insert(record.entry) {
                found.push((
                    record.excursion.started_ms,
                    ExcursionRef::of_record(record.entry, &record.excursion),
                ));
            }
        }
    }
    found.sort_by(|(left_start, left), (right_start, right)| {
        left_start.cmp(right_start).then_with(|| left.entry.cmp(&right.entry))
    });
    found.into_iter().map(|(_, excursion)| excursion).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coldchain::{Bound, ExcursionId, Rule};
    use crate::entry::EntryHash;
    use crate::identity::Keypair;
    use crate::records::ExcursionDetail;

    const LOT: &str = "https://id.gs1.org/01/09506000134352/10/L1";
    const LOT_URN: &str = "urn:epc:class:lgtin:9506000.013435.L1";
    const OTHER: &str = "https://id.gs1.org/01/09506000134352/10/L2";

    fn entry(sequence: u64) -> EntryRef {
        let mut hash = [7u8; 32];
        hash[..8].copy_from_slice(&sequence.to_be_bytes());
        EntryRef {
            author: Keypair::from_seed([3; 32]).public_key(),
            sequence,
            entry_hash: EntryHash::from_bytes(hash),
        }
    }

    fn excursion(started_ms: i64, supersedes: Option<EntryRef>) -> records::Excursion {
        records::Excursion {
            lots: vec![LOT_URN.to_owned()],
            measurement: "gs1:Temperature".to_owned(),
            limit: "single-event: above 4 CEL for more than 30 min".to_owned(),
            observed: "9.5 CEL".to_owned(),
            started_ms,
            ended_ms: Some(started_ms + 3_600_000),
            detail: Some(ExcursionDetail {
                device: "urn:lotline:device:L7".to_owned(),
                excursion_id: ExcursionId([started_ms as u8; 16]),
                rule: Rule::single_event(Bound::Above(4.0), 30),
                duration_ms: 3_600_000,
                min_celsius: 4.5,
                max_celsius: 9.5,
                mean_celsius: 7.1,
                readings: 13,
                gaps: 0,
                gap_ms: 0,
                supersedes,
                withdrawn: false,
            }),
        }
    }

    /// A reply's excursion reads its record's lots as canonical links, its times as RFC 3339,
    /// and serialises and reads back unchanged; an ongoing one and one in words only leave
    /// `ended` and `figures` out.
    #[test]
    fn an_excursion_ref_states_its_record_and_round_trips() {
        let record = excursion(1_772_359_200_000, None);
        let claim = ExcursionRef::of_record(entry(4), &record);
        assert_eq!(claim.lots, vec![LOT.to_owned()]);
        assert_eq!(claim.started, "2026-03-01T10:00:00.000Z");
        assert_eq!(claim.ended.as_deref(), Some("2026-03-01T11:00:00.000Z"));
        assert_eq!(claim.figures.as_ref().unwrap().max_celsius, 9.5);
        let json = serde_json::to_value(&claim).unwrap();
        assert_eq!(json["observed"], "9.5 CEL");
        assert_eq!(json["entry"]["sequence"], 4);
        assert_eq!(json["figures"]["duration_ms"], 3_600_000);
        let read: ExcursionRef = serde_json::from_value(json).unwrap();
        assert_eq!(read, claim);
        assert_eq!(read.mismatch(&record), None);
        assert!(read.names_any_of([OTHER, LOT]));
        assert!(!read.names_any_of([OTHER]));

        let words = records::Excursion { ended_ms: None, detail: None, ..record.clone() };
        let json = serde_json::to_value(ExcursionRef::of_record(entry(5), &words)).unwrap();
        assert!(json.get("ended").is_none() && json.get("figures").is_none(), "{json}");
    }

    /// Every field a reply could alter is named when it differs from the proven record.
    #[test]
    fn a_claim_that_differs_from_its_record_names_the_field() {
        let record = excursion(1_000_000, None);
        let claim = ExcursionRef::of_record(entry(1), &record);
        let altered = |change: &dyn Fn(&mut ExcursionRef)| {
            let mut changed = claim.clone();
            change(&mut changed);
            changed.mismatch(&record)
        };
        assert_eq!(altered(&|claim| claim.observed = "5 CEL".into()), Some("observed"));
        assert_eq!(altered(&|claim| claim.lots = vec![OTHER.into()]), Some("lots"));
        assert_eq!(altered(&|claim| claim.limit.push('!')), Some("limit"));
        assert_eq!(altered(&|claim| claim.ended = None), Some("ended"));
        assert_eq!(
            altered(&|claim| claim.figures.as_mut().unwrap().max_celsius = 4.0),
            Some("figures.max_celsius")
        );
        assert_eq!(altered(&|claim| claim.figures = None), Some("figures"));
        assert_eq!(
            altered(&|claim| claim.figures.as_mut().unwrap().mean_celsius += 1e-12),
            None,
            "a float read back to a neighbour still agrees"
        );
    }

    /// Only records in force are carried, each once however many reached lots it names, in
    /// order of start.
    #[test]
    fn in_force_takes_current_records_once_in_order_of_start() {
        let mut book = Book::new();
        let first = excursion(2_000_000, None);
        book.add_excursion(entry(1), 10, &first);
        let corrected = excursion(1_500_000, Some(entry(1)));
        book.add_excursion(entry(2), 11, &corrected);
        let earlier = excursion(500_000, None);
        book.add_excursion(entry(3), 12, &earlier);
        let found = in_force(&book, [LOT, LOT_URN, OTHER]);
        let sequences: Vec<u64> = found.iter().map(|claim| claim.entry.sequence).collect();
        assert_eq!(sequences, vec![3, 2], "the superseded record is left out");
        assert!(in_force(&book, [OTHER]).is_empty());
    }
}
