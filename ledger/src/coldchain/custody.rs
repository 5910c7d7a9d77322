//! Custody, sans IO: two-party handoffs with their confirmation, who held a lot at an instant,
//! and the custody intervals the acknowledgement rule reads.
//!
//! Owns: [`Handoff`] (the sender's shipping event, a carrier's pick-up and delivery, the
//! receiver's receiving event, and whether both sides signed: [`Status`]), [`Holding`] (one
//! organisation's custody of a lot, from the signed event it began with to the one that ended
//! it), the rules that build both from a trace answer ([`timeline`]), custody at an instant
//! ([`holders_at`]), the intervals as [`Custody`] ([`intervals`]), the acknowledgement check of
//! an excursion record ([`check_record_acknowledgement`]) and the replies of `GET /custody` and
//! `GET /handoffs` ([`CustodyReply`], [`HandoffsReply`]), which the node serves and the client
//! reads back.
//! Does not own pairing a shipment with its receipt (the trace index's, see `trace::Handoff`:
//! the receipt refers to the shipment by a shared reference document, else by the ship-to
//! site), resolving pallets (SSCCs) to the lots on them (the index's too), reading entries,
//! or time: callers pass "now".
//!
//! **Confirmed** means both sides signed: the sender's shipping event and the receiver's
//! receiving event, each in its own author's feed, and the two authors differ. A carrier's
//! pick-up and delivery (events of a logistics member on the same lot or SSCC between the two)
//! say who held the goods in transit; they do not confirm the handoff. A shipment left
//! unconfirmed past [`Rules::deadline_ms`] is [`Status::Overdue`].
//!
//! **Custody passes when the taker signs.** Each holding begins with the holder's own signed
//! event (production, receipt, pick-up) and ends at the signed event of the next holder that
//! took the goods from it, at the later of the giver's release and the taker's signature (the
//! goods cannot arrive before they left, whichever clock is behind). Until someone signs for
//! goods shipped, the sender still holds them (`awaiting` names its unconfirmed shipment).
//! A lot split between consignees has several holders at once.
//!
//! **Clock skew.** The index pairs a receipt only with a shipment at or before it. A receipt
//! recorded up to [`Rules::clock_skew_ms`] before a shipment it shares a reference document
//! or site with is taken as that shipment's receipt, and the handoff says by how much.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::profile::{
    Acknowledgement, AcknowledgementError, Bound, Custody, Excursion, ExcursionId, Limits, Rule,
    RuleKind, check_acknowledgement,
};
use crate::entry::EntryRef;
use crate::identity::PublicKey;
use crate::records;
use crate::trace::facts::{DocumentRef, Flow};
use crate::trace::{EventHashId, EventRef, Holder, OriginKind, TraceAnswer, format_time};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

/// Business steps a carrier's pick-up is written with.
const PICK_UP_STEPS: &[&str] = &["accepting", "loading", "departing", "picking", "collecting"];
/// Business steps a carrier's delivery is written with.
const DELIVERY_STEPS: &[&str] = &["arriving", "unloading"];

/// The deadline and the clock tolerance of the custody rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// A shipment that no receipt confirms within this long of its shipping event is overdue.
    pub deadline_ms: i64,
    /// How far a receipt may be recorded before its shipment and still confirm it.
    pub clock_skew_ms: i64,
}

impl Default for Rules {
    /// 48 hours to confirm; 15 minutes of clock skew.
    fn default() -> Self {
        Self { deadline_ms: 48 * HOUR_MS, clock_skew_ms: 15 * MINUTE_MS }
    }
}

/// One signed event of a handoff or a holding.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signed {
    /// The event's Event Hash ID (its entry is in the reply's `entries`).
    pub event: EventHashId,
    /// The organisation whose feed carries it (hex key).
    pub by: String,
    /// When it happened (RFC 3339, UTC).
    pub at: String,
    /// Its business step (bare CBV word), when stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

impl Signed {
    fn at_ms(&self) -> i64 {
        time_ms(&self.at)
    }
}

/// Where a handoff stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The sender's shipping event and the receiver's receiving event are both signed, by two
    /// organisations.
    Confirmed,
    /// Only one side signed so far (or one organisation signed both), within the deadline.
    Unconfirmed,
    /// A shipment no receipt confirms, past the deadline.
    Overdue,
}

/// Custody of one lot passing from one organisation to another, with the carrier in between.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    /// The lot (canonical Digital Link).
    pub lot: String,
    /// Confirmed, unconfirmed or overdue.
    pub status: Status,
    /// The sender's shipping event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped: Option<Signed>,
    /// The carrier's first event on the goods after the shipment (its pick-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picked_up: Option<Signed>,
    /// The carrier's last event on the goods before the receipt (its delivery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<Signed>,
    /// The receiver's receiving event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<Signed>,
    /// The ship-to party, when stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    /// The ship-to location (else where it was received), when stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The amount of the lot handed off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<f64>,
    /// Unit of `quantity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// Reference documents of both sides (despatch advice, bill of lading, purchase order).
    #[serde(default)]
    pub documents: Vec<DocumentRef>,
    /// When an unconfirmed shipment is (or was) due to be confirmed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    /// How long before the shipment the receipt is recorded, when its clock is behind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_skew_ms: Option<i64>,
}

impl Handoff {
    /// The signed events of this handoff, in the order they happened.
    pub fn events(&self) -> impl Iterator<Item = &Signed> {
        [&self.shipped, &self.picked_up, &self.delivered, &self.received].into_iter().flatten()
    }

    /// Whether both sides signed.
    pub fn is_confirmed(&self) -> bool {
        self.status == Status::Confirmed
    }
}

/// One organisation's custody of one lot over an interval.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holding {
    /// The lot (canonical Digital Link).
    pub lot: String,
    /// The organisation holding it (hex key).
    pub holder: String,
    /// When custody began (RFC 3339); `None` before anything the ledger records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// When it ended (RFC 3339); `None` while the holder still holds it, as far as the
    /// ledger says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// The holder's signed event custody began with (production, receipt, pick-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_event: Option<Signed>,
    /// The signed event that ended it: the next holder's signature, or the holder's own event
    /// that ended the goods (sold, destroyed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_event: Option<Signed>,
    /// The holder's shipment that nobody has signed for yet: it holds the goods until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting: Option<Signed>,
}

impl Holding {
    fn from_ms(&self) -> i64 {
        self.from.as_deref().map_or(i64::MIN, time_ms)
    }

    fn until_ms(&self) -> Option<i64> {
        self.until.as_deref().map(time_ms)
    }

    /// Whether the holder held the lot at `at_ms` (from inclusive, until exclusive).
    pub fn covers(&self, at_ms: i64) -> bool {
        self.from_ms() <= at_ms && self.until_ms().is_none_or(|until| at_ms < until)
    }

    /// The signed events this holding rests on.
    pub fn events(&self) -> impl Iterator<Item = &Signed> {
        [&self.since_event, &self.until_event, &self.awaiting].into_iter().flatten()
    }
}

/// The handoffs and holdings of one lot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timeline {
    /// Its handoffs, by shipping (else receiving) time.
    pub handoffs: Vec<Handoff>,
    /// Its holdings, by the time they began.
    pub holdings: Vec<Holding>,
}

/// `GET /custody`: who held the subject's lots (at `at`, when given; else over time), the
/// handoffs that say so, and the entries of every event cited.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CustodyReply {
    /// The subject as the node understood it (canonical Digital Link).
    pub subject: String,
    /// The instant asked about (RFC 3339, UTC), when one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The holdings covering `at`, or every holding when no instant was asked.
    #[serde(default)]
    pub holders: Vec<Holding>,
    /// The subject's lots' handoffs.
    #[serde(default)]
    pub handoffs: Vec<Handoff>,
    /// The entries carrying the events cited, so a client can fetch and verify each.
    #[serde(default)]
    pub entries: Vec<EventRef>,
}

/// `GET /handoffs`: handoffs of a subject (or of every shipped lot), with the entries of
/// their events.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HandoffsReply {
    /// The subject asked about, when one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The handoffs, by lot then time.
    #[serde(default)]
    pub handoffs: Vec<Handoff>,
    /// The entries carrying their events.
    #[serde(default)]
    pub entries: Vec<EventRef>,
}

/// Milliseconds since the epoch of an RFC 3339 time as answers write it; a time that does
/// not parse sorts first (answers write only times that parse).
fn time_ms(text: &str) -> i64 {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(|instant| (instant.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or(i64::MIN)
}

/// The lots of `answer` a custody question about `subject` concerns: the subject itself when
/// it is a lot the answer reached, else every lot reached (an SSCC's or an item's lots).
pub fn lots_of(answer: &TraceAnswer, subject: &str) -> Vec<String> {
    if answer.lots.iter().any(|lot| **lot == *subject) {
        return vec![subject.to_owned()];
    }
    answer.lots.iter().map(ToString::to_string).collect()
}

/// The handoffs and holdings of `lot` from a trace answer that reached it (its details with
/// visits, and its handoffs): `carriers` are the keys (hex, lower case) of the organisations
/// whose events in transit make them carriers (logistics members), `now_ms` decides what is
/// overdue.
pub fn timeline(
    answer: &TraceAnswer,
    lot: &str,
    carriers: &BTreeSet<String>,
    now_ms: i64,
    rules: &Rules,
) -> Timeline {
    let handoffs = handoffs_of(answer, lot, carriers, now_ms, rules);
    let holdings = holdings_of(answer, lot, &handoffs, rules);
    Timeline { handoffs, holdings }
}

/// The signed event of a trace handoff's side.
fn signed(
    event: &Option<EventHashId>,
    by: &Option<crate::trace::Text>,
    at: &Option<crate::trace::Text>,
    step: &str,
) -> Option<Signed> {
    Some(Signed {
        event: event.clone()?,
        by: by.as_deref()?.to_ascii_lowercase(),
        at: at.as_deref()?.to_owned(),
        step: Some(step.to_owned()),
    })
}

/// The site of a place: its Digital Link without a GLN extension.
fn site(place: &str) -> &str {
    place.find("/254/").map_or(place, |extension| &place[..extension])
}

fn handoffs_of(
    answer: &TraceAnswer,
    lot: &str,
    carriers: &BTreeSet<String>,
    now_ms: i64,
    rules: &Rules,
) -> Vec<Handoff> {
    let mut handoffs: Vec<Handoff> = answer
        .consignees
        .iter()
        .filter(|handoff| *handoff.lot == *lot)
        .map(|handoff| Handoff {
            lot: lot.to_owned(),
            status: Status::Unconfirmed,
            shipped: signed(
                &handoff.shipping_event,
                &handoff.shipped_by,
                &handoff.shipped_at,
                "shipping",
            ),
            picked_up: None,
            delivered: None,
            received: signed(
                &handoff.receiving_event,
                &handoff.received_by,
                &handoff.received_at,
                "receiving",
            ),
            party: handoff.party.as_deref().map(str::to_owned),
            location: handoff.location.as_deref().map(str::to_owned),
            quantity: handoff.quantity,
            uom: handoff.uom.as_deref().map(str::to_owned),
            documents: handoff.documents.clone(),
            due: None,
            clock_skew_ms: None,
        })
        .collect();
    pair_skewed_receipts(&mut handoffs, rules);
    let visits = answer
        .details
        .iter()
        .filter(|detail| *detail.lot == *lot)
        .flat_map(|detail| &detail.visits)
        .collect::<Vec<_>>();
    for handoff in &mut handoffs {
        let Some(shipped) = &handoff.shipped else { continue };
        let parties: Vec<&str> = [
            Some(shipped.by.as_str()),
            handoff.received.as_ref().map(|received| received.by.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect();
        let from_ms = shipped.at_ms().saturating_sub(rules.clock_skew_ms);
        let until_ms = handoff
            .received
            .as_ref()
            .map_or(i64::MAX, |received| received.at_ms().saturating_add(rules.clock_skew_ms));
        let mut in_transit: Vec<Signed> = visits
            .iter()
            .filter(|visit| visit.flow == Flow::Observed)
            .filter(|visit| {
                let by = visit.organisation.to_ascii_lowercase();
                carriers.contains(&by) && !parties.contains(&by.as_str())
            })
            .filter(|visit| (from_ms..=until_ms).contains(&time_ms(&visit.date)))
            .map(|visit| Signed {
                event: visit.event.clone(),
                by: visit.organisation.to_ascii_lowercase(),
                at: visit.date.to_string(),
                step: visit.biz_step.as_deref().map(str::to_owned),
            })
            .collect();
        in_transit
            .sort_by(|left, right| (left.at_ms(), &left.event).cmp(&(right.at_ms(), &right.event)));
        let step_in = |signed: &Signed, steps: &[&str]| {
            signed.step.as_deref().is_some_and(|step| steps.contains(&step))
        };
        let picked_up = in_transit
            .iter()
            .find(|signed| step_in(signed, PICK_UP_STEPS))
            .or(in_transit.first())
            .cloned();
        let delivered = in_transit
            .iter()
            .rev()
            .find(|signed| step_in(signed, DELIVERY_STEPS))
            .or(in_transit.last())
            .filter(|delivered| picked_up.as_ref() != Some(*delivered))
            .cloned();
        handoff.picked_up = picked_up;
        handoff.delivered = delivered;
    }
    for handoff in &mut handoffs {
        let confirmed = match (&handoff.shipped, &handoff.received) {
            (Some(shipped), Some(received)) => shipped.by != received.by,
            _ => false,
        };
        handoff.status = if confirmed { Status::Confirmed } else { Status::Unconfirmed };
        if !confirmed && let Some(shipped) = &handoff.shipped {
            let due_ms = shipped.at_ms().saturating_add(rules.deadline_ms);
            handoff.due = Some(format_time(due_ms));
            if now_ms > due_ms {
                handoff.status = Status::Overdue;
            }
        }
    }
    handoffs.sort_by_key(|handoff| {
        let first = handoff.shipped.as_ref().or(handoff.received.as_ref());
        (first.map_or(i64::MIN, Signed::at_ms), first.map(|signed| signed.event.clone()))
    });
    handoffs
}

/// Joins a receipt the index left alone (recorded before any shipment it matches) with a
/// shipment no receipt answers, when the receipt is at most the skew earlier, they share a
/// reference document or site, and two organisations signed them.
fn pair_skewed_receipts(handoffs: &mut Vec<Handoff>, rules: &Rules) {
    let mut position = 0;
    while position < handoffs.len() {
        let receipt_only = handoffs[position].shipped.is_none();
        let Some(received) = handoffs[position].received.clone().filter(|_| receipt_only) else {
            position += 1;
            continue;
        };
        let receipt = &handoffs[position];
        let shipment = handoffs.iter().position(|shipment| {
            let (Some(shipped), None) = (&shipment.shipped, &shipment.received) else {
                return false;
            };
            let early_by = shipped.at_ms().saturating_sub(received.at_ms());
            let shares_document =
                shipment.documents.iter().any(|document| receipt.documents.contains(document));
            let same_site = match (&shipment.location, &receipt.location) {
                (Some(shipped_to), Some(received_at)) => site(shipped_to) == site(received_at),
                _ => false,
            };
            shipped.by != received.by
                && (1..=rules.clock_skew_ms).contains(&early_by)
                && (shares_document || same_site)
        });
        let Some(shipment) = shipment else {
            position += 1;
            continue;
        };
        let receipt = handoffs.remove(position);
        let shipment = &mut handoffs[if shipment > position { shipment - 1 } else { shipment }];
        let early_by = shipment.shipped.as_ref().map_or(0, Signed::at_ms) - received.at_ms();
        shipment.received = Some(received);
        shipment.clock_skew_ms = Some(early_by);
        for document in receipt.documents {
            if !shipment.documents.contains(&document) {
                shipment.documents.push(document);
            }
        }
        shipment.documents.sort();
    }
}

/// A moment custody of the lot passes to `taker`, or ends.
struct Passing {
    /// The organisation letting go.
    giver: String,
    /// Its own signed release (shipping, delivery), kept while nobody signed for it.
    release: Signed,
    /// The signed event of the organisation taking it (`None`: nobody signed yet), or the
    /// giver's own event that ended the goods.
    taker: Option<Signed>,
    /// When custody passes: the later of release and taking.
    at_ms: i64,
}

fn holdings_of(
    answer: &TraceAnswer,
    lot: &str,
    handoffs: &[Handoff],
    rules: &Rules,
) -> Vec<Holding> {
    let details: Vec<_> = answer.details.iter().filter(|detail| *detail.lot == *lot).collect();
    // (holder, its signed event, when custody began)
    let mut takes: Vec<(String, Signed, i64)> = Vec::new();
    let mut passings: Vec<Passing> = Vec::new();
    let step_of = |event: &EventHashId| {
        details
            .iter()
            .flat_map(|detail| &detail.visits)
            .find(|visit| visit.event == *event)
            .and_then(|visit| visit.biz_step.as_deref().map(str::to_owned))
    };
    for detail in &details {
        for origin in &detail.origins {
            let signed = Signed {
                event: origin.event.clone(),
                by: origin.organisation.to_ascii_lowercase(),
                at: origin.date.to_string(),
                step: step_of(&origin.event).or_else(|| {
                    (origin.how == OriginKind::Transformed).then(|| "transforming".to_owned())
                }),
            };
            let at_ms = signed.at_ms();
            takes.push((signed.by.clone(), signed, at_ms));
        }
        for visit in detail.visits.iter().filter(|visit| visit.flow == Flow::Ended) {
            let signed = Signed {
                event: visit.event.clone(),
                by: visit.organisation.to_ascii_lowercase(),
                at: visit.date.to_string(),
                step: visit.biz_step.as_deref().map(str::to_owned),
            };
            let at_ms = signed.at_ms();
            passings.push(Passing {
                giver: signed.by.clone(),
                release: signed.clone(),
                taker: Some(signed),
                at_ms,
            });
        }
    }
    for handoff in handoffs {
        // The legs: sender → carrier → receiver, or sender → receiver.
        let mut legs: Vec<(&Signed, Option<&Signed>)> = Vec::new();
        match (&handoff.shipped, &handoff.picked_up) {
            (Some(shipped), Some(picked_up)) => {
                legs.push((shipped, Some(picked_up)));
                let release = handoff.delivered.as_ref().unwrap_or(picked_up);
                legs.push((release, handoff.received.as_ref()));
            }
            (Some(shipped), None) => legs.push((shipped, handoff.received.as_ref())),
            (None, _) => {
                if let Some(received) = &handoff.received {
                    takes.push((received.by.clone(), received.clone(), received.at_ms()));
                }
            }
        }
        for (release, taker) in legs {
            // One organisation signing both sides hands nothing to anyone.
            let taker = taker.filter(|taker| taker.by != release.by);
            let at_ms = taker.map_or(release.at_ms(), |taker| taker.at_ms().max(release.at_ms()));
            if let Some(taker) = taker {
                takes.push((taker.by.clone(), taker.clone(), at_ms));
            }
            passings.push(Passing {
                giver: release.by.clone(),
                release: release.clone(),
                taker: taker.cloned(),
                at_ms,
            });
        }
    }
    takes.sort_by(|left, right| (left.2, &left.1.event).cmp(&(right.2, &right.1.event)));
    takes.dedup_by(|later, earlier| later.0 == earlier.0 && later.1.event == earlier.1.event);
    passings.sort_by(|left, right| {
        (left.at_ms, &left.release.event).cmp(&(right.at_ms, &right.release.event))
    });
    let still_holding: BTreeSet<String> = answer
        .in_distribution
        .iter()
        .filter(|position| *position.lot == *lot)
        .filter_map(|position| match &position.holder {
            Holder::Organisation { key } => Some(key.to_ascii_lowercase()),
            Holder::Consignee { .. } => None,
        })
        .collect();
    let mut holdings = Vec::with_capacity(takes.len());
    for (index, (holder, since, from_ms)) in takes.iter().enumerate() {
        let next_take = takes[index + 1..]
            .iter()
            .find(|(other, _, _)| other == holder)
            .map_or(i64::MAX, |(_, _, at_ms)| *at_ms);
        let window = passings.iter().filter(|passing| {
            passing.giver == *holder
                && passing.at_ms >= from_ms.saturating_sub(rules.clock_skew_ms)
                && passing.at_ms < next_take
        });
        let last_confirmed = window.clone().filter(|passing| passing.taker.is_some()).last();
        let awaiting = window
            .clone()
            .filter(|passing| passing.taker.is_none())
            .filter(|passing| {
                last_confirmed.is_none_or(|confirmed| passing.at_ms >= confirmed.at_ms)
            })
            .last();
        let keeps_some = next_take == i64::MAX && still_holding.contains(holder);
        let ended = last_confirmed.filter(|_| awaiting.is_none() && !keeps_some);
        holdings.push(Holding {
            lot: lot.to_owned(),
            holder: holder.clone(),
            from: Some(format_time(*from_ms)),
            until: ended.map(|passing| format_time(passing.at_ms)),
            since_event: Some(since.clone()),
            until_event: ended.and_then(|passing| passing.taker.clone()),
            awaiting: awaiting.map(|passing| passing.release.clone()),
        });
    }
    holdings
}

/// The holdings that cover `at_ms`.
pub fn holders_at(holdings: &[Holding], at_ms: i64) -> Vec<&Holding> {
    holdings.iter().filter(|holding| holding.covers(at_ms)).collect()
}

/// The holdings as custody intervals for [`check_acknowledgement`] (a holder whose key does
/// not read is left out: it cannot acknowledge anything).
pub fn intervals(holdings: &[Holding]) -> Vec<Custody> {
    holdings
        .iter()
        .filter_map(|holding| {
            Some(Custody {
                holder: PublicKey::from_hex(&holding.holder).ok()?,
                from_ms: holding.from_ms(),
                until_ms: holding.until_ms(),
            })
        })
        .collect()
}

/// The events `handoffs` and `holdings` cite, as a set of Event Hash IDs.
pub fn cited_events<'a>(
    handoffs: impl IntoIterator<Item = &'a Handoff>,
    holdings: impl IntoIterator<Item = &'a Holding>,
) -> BTreeSet<EventHashId> {
    let mut events: BTreeSet<EventHashId> = BTreeSet::new();
    for handoff in handoffs {
        events.extend(handoff.events().map(|signed| signed.event.clone()));
    }
    for holding in holdings {
        events.extend(holding.events().map(|signed| signed.event.clone()));
    }
    events
}

/// The acknowledgement rule applied to an excursion record at `entry`: it has ended, and `by`
/// held custody during it (`custody`: the intervals of the record's lots), with a reason in
/// words when it is `Other`. A record without the detector's typed fields is identified by
/// its entry hash.
pub fn check_record_acknowledgement(
    entry: &EntryRef,
    record: &records::Excursion,
    by: PublicKey,
    reason: &super::Reason,
    custody: &[Custody],
) -> Result<(), AcknowledgementError> {
    let id = record.detail.as_ref().map_or_else(
        || {
            let mut id = [0u8; 16];
            id.copy_from_slice(&entry.entry_hash.as_bytes()[..16]);
            ExcursionId(id)
        },
        |detail| detail.excursion_id,
    );
    // Only the identity, the start and the end take part in the rule.
    let excursion = Excursion {
        id,
        device: String::new(),
        rule: record.detail.as_ref().map_or(
            Rule { kind: RuleKind::SingleEvent, bound: Bound::Above(0.0), longer_than_ms: 0 },
            |detail| detail.rule.clone(),
        ),
        limits: Limits { min_celsius: None, max_celsius: None },
        start_ms: record.started_ms,
        end_ms: record.ended_ms,
        duration_ms: 0,
        min_celsius: 0.0,
        max_celsius: 0.0,
        mean_celsius: 0.0,
        readings: 0,
        gaps: 0,
        gap_ms: 0,
    };
    let acknowledgement = Acknowledgement { excursion: id, by, reason: reason.clone() };
    check_acknowledgement(&excursion, &acknowledgement, custody)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::entry::EntryHash;
    use crate::epcis::cbv::VocabularyKind;
    use crate::epcis::{
        self, Action, BizTransaction, Decimal, Event, EventType, Location, QuantityElement,
        SourceDestination, Timestamp, VocabularyValue,
    };
    use crate::identity::Keypair;
    use crate::trace::{Direction, Index, Subject};

    const GTIN: &str = "09506000134376";
    const PRODUCER_GLN: &str = "4000000000013";
    const CARRIER_GLN: &str = "4000000000020";
    const RETAILER_GLN: &str = "4000000000037";
    const PALLET: &str = "https://id.gs1.org/00/034567890000000019";

    fn lot() -> String {
        format!("https://id.gs1.org/01/{GTIN}/10/CHILL-7")
    }

    fn place(gln: &str) -> String {
        format!("https://id.gs1.org/414/{gln}")
    }

    fn key(seed: u8) -> PublicKey {
        Keypair::from_seed([seed; 32]).public_key()
    }

    fn ms(text: &str) -> i64 {
        time_ms(text)
    }

    fn object(time: &str, action: Action, step: &str, gln: &str) -> Event {
        let mut event = Event::new(EventType::Object, Timestamp::parse(time).unwrap());
        event.action = Some(action);
        event.biz_step = Some(VocabularyValue::new(VocabularyKind::BizStep, step));
        event.biz_location = Some(Location { id: place(gln), extensions: Vec::new() });
        event
    }

    fn cases(amount: &str) -> Vec<QuantityElement> {
        vec![QuantityElement {
            epc_class: lot(),
            quantity: Decimal::parse(amount),
            uom: Some("CS".to_owned()),
        }]
    }

    fn desadv(number: &str) -> Vec<BizTransaction> {
        vec![BizTransaction {
            transaction_type: Some(VocabularyValue::new(
                VocabularyKind::BizTransactionType,
                "desadv",
            )),
            value: format!("https://example.com/desadv/{number}"),
        }]
    }

    fn shipping(time: &str, document: &str, to: &str) -> Event {
        let mut event = object(time, Action::Observe, "shipping", PRODUCER_GLN);
        event.biz_transaction_list = desadv(document);
        event.destination_list = vec![SourceDestination {
            source_destination_type: VocabularyValue::new(
                VocabularyKind::SourceDestinationType,
                "location",
            ),
            id: place(to),
        }];
        event
    }

    fn receiving(time: &str, document: &str, at: &str) -> Event {
        let mut event = object(time, Action::Observe, "receiving", at);
        event.biz_transaction_list = desadv(document);
        event
    }

    /// An index fed one entry per event, sequences per author.
    #[derive(Default)]
    struct Ledger {
        index: Index,
        sequences: HashMap<PublicKey, u64>,
    }

    impl Ledger {
        fn add(&mut self, author: PublicKey, event: Event) -> EventHashId {
            let sequence = self.sequences.entry(author).or_default();
            let event_hash_id = EventHashId::new(&epcis::event_hash_id(&event));
            let entry = EventRef {
                entry: EntryRef {
                    author,
                    sequence: *sequence,
                    entry_hash: EntryHash::from_bytes([*sequence as u8; 32]),
                },
                event_hash_id: event_hash_id.clone(),
            };
            *sequence += 1;
            self.index.apply(entry, &event);
            event_hash_id
        }

        fn timeline(&self, carriers: &[PublicKey], now: &str) -> Timeline {
            let subject = Subject::parse(&lot()).unwrap();
            let answer = self.index.trace(&[subject], Direction::Back);
            let carriers = carriers.iter().map(PublicKey::to_hex).collect();
            timeline(&answer, &lot(), &carriers, ms(now), &Rules::default())
        }
    }

    fn produced(ledger: &mut Ledger, producer: PublicKey) -> EventHashId {
        let mut commissioning =
            object("2026-06-01T06:00:00Z", Action::Add, "commissioning", PRODUCER_GLN);
        commissioning.quantity_list = cases("40");
        ledger.add(producer, commissioning)
    }

    fn holder_at<'timeline>(timeline: &'timeline Timeline, at: &str) -> Vec<&'timeline str> {
        holders_at(&timeline.holdings, ms(at))
            .iter()
            .map(|holding| holding.holder.as_str())
            .collect()
    }

    /// Producer packs the lot onto a pallet and ships the pallet; a carrier picks it up and
    /// delivers it; the retailer receives it: confirmed, and custody passes at the carrier's
    /// pick-up and at the retailer's receipt.
    #[test]
    fn a_carrier_leg_through_a_pallet_is_confirmed_and_custody_follows_the_signatures() {
        let (producer, carrier, retailer) = (key(1), key(2), key(3));
        let mut ledger = Ledger::default();
        produced(&mut ledger, producer);
        let mut packing =
            Event::new(EventType::Aggregation, Timestamp::parse("2026-06-01T07:00:00Z").unwrap());
        packing.action = Some(Action::Add);
        packing.parent_id = Some(PALLET.to_owned());
        packing.child_quantity_list = cases("40");
        packing.biz_location = Some(Location { id: place(PRODUCER_GLN), extensions: Vec::new() });
        ledger.add(producer, packing);
        let mut shipment = shipping("2026-06-01T08:00:00Z", "D1", RETAILER_GLN);
        shipment.epc_list = Some(vec![PALLET.to_owned()]);
        let shipped = ledger.add(producer, shipment);
        let mut departing =
            object("2026-06-01T08:30:00Z", Action::Observe, "departing", CARRIER_GLN);
        departing.epc_list = Some(vec![PALLET.to_owned()]);
        let picked_up = ledger.add(carrier, departing);
        let mut arriving =
            object("2026-06-01T14:00:00Z", Action::Observe, "arriving", RETAILER_GLN);
        arriving.epc_list = Some(vec![PALLET.to_owned()]);
        let delivered = ledger.add(carrier, arriving);
        let mut receipt = receiving("2026-06-01T14:20:00Z", "D1", RETAILER_GLN);
        receipt.epc_list = Some(vec![PALLET.to_owned()]);
        let received = ledger.add(retailer, receipt);

        let timeline = ledger.timeline(&[carrier], "2026-06-10T00:00:00Z");
        assert_eq!(timeline.handoffs.len(), 1, "{:#?}", timeline.handoffs);
        let handoff = &timeline.handoffs[0];
        assert_eq!(handoff.status, Status::Confirmed);
        assert_eq!(handoff.shipped.as_ref().unwrap().event, shipped);
        assert_eq!(handoff.picked_up.as_ref().unwrap().event, picked_up);
        assert_eq!(handoff.delivered.as_ref().unwrap().event, delivered);
        assert_eq!(handoff.received.as_ref().unwrap().event, received);
        assert_eq!(handoff.quantity, Some(40.0));
        assert_eq!(handoff.due, None);

        let (producer, carrier, retailer) =
            (producer.to_hex(), carrier.to_hex(), retailer.to_hex());
        assert_eq!(holder_at(&timeline, "2026-06-01T05:00:00Z"), Vec::<&str>::new());
        assert_eq!(holder_at(&timeline, "2026-06-01T08:10:00Z"), [producer.as_str()]);
        assert_eq!(holder_at(&timeline, "2026-06-01T10:00:00Z"), [carrier.as_str()]);
        assert_eq!(holder_at(&timeline, "2026-06-01T14:10:00Z"), [carrier.as_str()]);
        assert_eq!(holder_at(&timeline, "2026-06-02T09:00:00Z"), [retailer.as_str()]);
        let carrier_holding = holders_at(&timeline.holdings, ms("2026-06-01T10:00:00Z"))[0];
        assert_eq!(carrier_holding.since_event.as_ref().unwrap().event, picked_up);
        assert_eq!(carrier_holding.until_event.as_ref().unwrap().event, received);
        assert_eq!(carrier_holding.until.as_deref(), Some("2026-06-01T14:20:00.000Z"));

        // The carrier held the pallet during an excursion in transit and may acknowledge it;
        // the retailer may not; an ongoing one cannot be acknowledged.
        let custody = intervals(&timeline.holdings);
        let excursion = records::Excursion {
            lots: vec![lot()],
            measurement: "gs1:Temperature".to_owned(),
            limit: "above 8 CEL for more than 30 min".to_owned(),
            observed: "11.5 CEL".to_owned(),
            started_ms: ms("2026-06-01T10:00:00Z"),
            ended_ms: Some(ms("2026-06-01T11:00:00Z")),
            detail: None,
        };
        let entry =
            EntryRef { author: key(2), sequence: 9, entry_hash: EntryHash::from_bytes([7; 32]) };
        let reason = super::super::Reason::AssessedAndReleased;
        assert_eq!(
            check_record_acknowledgement(&entry, &excursion, key(2), &reason, &custody),
            Ok(())
        );
        assert!(matches!(
            check_record_acknowledgement(&entry, &excursion, key(3), &reason, &custody),
            Err(AcknowledgementError::NotCustodian { .. })
        ));
        let ongoing = records::Excursion { ended_ms: None, ..excursion };
        assert!(matches!(
            check_record_acknowledgement(&entry, &ongoing, key(2), &reason, &custody),
            Err(AcknowledgementError::Ongoing(_))
        ));
    }

    /// A shipment nobody receives stays with its sender, unconfirmed until the deadline and
    /// overdue after it.
    #[test]
    fn a_missing_receipt_is_unconfirmed_then_overdue_and_the_sender_keeps_custody() {
        let producer = key(1);
        let mut ledger = Ledger::default();
        produced(&mut ledger, producer);
        let mut shipment = shipping("2026-06-01T08:00:00Z", "D9", RETAILER_GLN);
        shipment.quantity_list = cases("40");
        let shipped = ledger.add(producer, shipment);

        let early = ledger.timeline(&[], "2026-06-02T08:00:00Z");
        assert_eq!(early.handoffs[0].status, Status::Unconfirmed);
        assert_eq!(early.handoffs[0].due.as_deref(), Some("2026-06-03T08:00:00.000Z"));
        let late = ledger.timeline(&[], "2026-06-03T08:00:01Z");
        assert_eq!(late.handoffs[0].status, Status::Overdue);
        let holding = &late.holdings[0];
        assert_eq!(holding.holder, producer.to_hex());
        assert_eq!(holding.until, None);
        assert_eq!(holding.awaiting.as_ref().unwrap().event, shipped);
        assert_eq!(holder_at(&late, "2026-06-05T00:00:00Z"), [producer.to_hex().as_str()]);
    }

    /// A receipt whose clock is a few minutes behind still confirms the shipment it shares a
    /// despatch advice with; one far earlier does not.
    #[test]
    fn a_receipt_recorded_before_its_shipment_within_the_skew_confirms_it() {
        let (producer, retailer) = (key(1), key(3));
        for (received_at, confirmed) in
            [("2026-06-01T07:55:00Z", true), ("2026-06-01T07:30:00Z", false)]
        {
            let mut ledger = Ledger::default();
            produced(&mut ledger, producer);
            let mut shipment = shipping("2026-06-01T08:00:00Z", "D3", RETAILER_GLN);
            shipment.quantity_list = cases("40");
            ledger.add(producer, shipment);
            let mut receipt = receiving(received_at, "D3", RETAILER_GLN);
            receipt.quantity_list = cases("40");
            ledger.add(retailer, receipt);
            let timeline = ledger.timeline(&[], "2026-06-01T09:00:00Z");
            if confirmed {
                assert_eq!(timeline.handoffs.len(), 1, "{:#?}", timeline.handoffs);
                assert_eq!(timeline.handoffs[0].status, Status::Confirmed);
                assert_eq!(timeline.handoffs[0].clock_skew_ms, Some(5 * MINUTE_MS));
                // Custody passes when both have signed: at the shipment, the later of the two.
                assert_eq!(
                    holder_at(&timeline, "2026-06-01T07:58:00Z"),
                    [producer.to_hex().as_str()]
                );
                assert_eq!(
                    holder_at(&timeline, "2026-06-01T08:00:00Z"),
                    [retailer.to_hex().as_str()]
                );
            } else {
                assert_eq!(timeline.handoffs.len(), 2, "{:#?}", timeline.handoffs);
                assert!(timeline.handoffs.iter().all(|handoff| !handoff.is_confirmed()));
            }
        }
    }

    /// One organisation signing both the shipment and its receipt confirms nothing.
    #[test]
    fn one_organisation_signing_both_sides_does_not_confirm() {
        let producer = key(1);
        let mut ledger = Ledger::default();
        produced(&mut ledger, producer);
        let mut shipment = shipping("2026-06-01T08:00:00Z", "D4", RETAILER_GLN);
        shipment.quantity_list = cases("40");
        ledger.add(producer, shipment);
        let mut receipt = receiving("2026-06-01T12:00:00Z", "D4", RETAILER_GLN);
        receipt.quantity_list = cases("40");
        ledger.add(producer, receipt);
        let timeline = ledger.timeline(&[], "2026-06-01T13:00:00Z");
        assert_eq!(timeline.handoffs.len(), 1);
        assert_eq!(timeline.handoffs[0].status, Status::Unconfirmed);
    }
}
