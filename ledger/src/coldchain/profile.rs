//! Product temperature profiles, their alarm rules, the excursion a breached rule yields, and
//! the acknowledgement rule.
//!
//! Owns: [`Profile`] (limits and rules as serde data, so master data can carry one), the
//! built-in examples ([`Profile::chilled`], [`Profile::vaccine`], [`Profile::frozen`]),
//! [`Limits`] and [`Bound`] with what "inclusive" means, [`Rule`] of the two kinds WHO PQS
//! shipping indicators define, [`Excursion`] with its content-derived [`ExcursionId`], and
//! [`check_acknowledgement`].
//! Does not own: finding excursions in readings (`detector`, `scan`), who held custody when
//! (the caller passes [`Custody`] intervals), or signing anything.
//!
//! **Inclusive thresholds.** A reading equal to a limit is within range: with limits 2–8 °C,
//! 8.0 °C and 2.0 °C are in range, 8.000001 °C is not. A rule's bound works the same way:
//! `above 8` is breached by readings strictly greater than 8. A rule's duration is strict too:
//! `for more than 30 min` is breached by 30 min and 1 ms, not by exactly 30 min; a rule of
//! zero duration is breached by any positive time beyond its bound.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::identity::PublicKey;
use crate::records;

/// The range a product must stay in; each end inclusive, `None` = unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Limits {
    /// Lowest allowed temperature, °C (a reading equal to it is in range).
    pub min_celsius: Option<f64>,
    /// Highest allowed temperature, °C (a reading equal to it is in range).
    pub max_celsius: Option<f64>,
}

impl Limits {
    /// `true` when `celsius` is within the limits (ends included).
    pub fn contains(&self, celsius: f64) -> bool {
        self.min_celsius.is_none_or(|min| celsius >= min)
            && self.max_celsius.is_none_or(|max| celsius <= max)
    }
}

/// Which side of a threshold a rule watches.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Bound {
    /// Readings strictly above the threshold (°C) are beyond it.
    Above(f64),
    /// Readings strictly below the threshold (°C) are beyond it.
    Below(f64),
}

impl Bound {
    /// `true` when `celsius` is beyond this bound (equal is not beyond).
    pub fn beyond(&self, celsius: f64) -> bool {
        match *self {
            Self::Above(threshold) => celsius > threshold,
            Self::Below(threshold) => celsius < threshold,
        }
    }

    fn threshold(&self) -> f64 {
        match *self {
            Self::Above(threshold) | Self::Below(threshold) => threshold,
        }
    }
}

/// The two kinds of alarm rule of WHO PQS shipping indicators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RuleKind {
    /// One continuous stretch beyond the bound lasts longer than the duration.
    SingleEvent,
    /// The total time beyond the bound over the journey exceeds the duration.
    Cumulative,
}

/// An alarm rule: a bound and a duration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    /// Single-event or cumulative.
    pub kind: RuleKind,
    /// The threshold and its side.
    pub bound: Bound,
    /// Breached when the time beyond is strictly longer than this, in ms.
    pub longer_than_ms: i64,
}

impl Rule {
    /// A single-event rule.
    pub fn single_event(bound: Bound, longer_than_minutes: i64) -> Self {
        Self { kind: RuleKind::SingleEvent, bound, longer_than_ms: longer_than_minutes * 60_000 }
    }

    /// A cumulative rule.
    pub fn cumulative(bound: Bound, longer_than_minutes: i64) -> Self {
        Self { kind: RuleKind::Cumulative, bound, longer_than_ms: longer_than_minutes * 60_000 }
    }

    /// `true` when `beyond_ms` of time beyond the bound breaches the rule.
    pub fn breached_by(&self, beyond_ms: i64) -> bool {
        beyond_ms > self.longer_than_ms
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            RuleKind::SingleEvent => "single-event",
            RuleKind::Cumulative => "cumulative",
        };
        let side = match self.bound {
            Bound::Above(_) => "above",
            Bound::Below(_) => "below",
        };
        write!(
            formatter,
            "{kind}: {side} {} CEL for more than {} min",
            self.bound.threshold(),
            self.longer_than_ms as f64 / 60_000.0
        )
    }
}

/// A product temperature profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Profile {
    /// A short name (`vaccine 2-8`).
    pub name: String,
    /// The range the product must stay in ("out of range now" is judged against it).
    pub limits: Limits,
    /// The alarm rules ("a rule was breached" is judged by them).
    pub rules: Vec<Rule>,
}

/// A profile that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfileError {
    /// A temperature is not finite or below absolute zero.
    #[error("profile {profile:?}: {what} is not a temperature")]
    ImpossibleTemperature {
        /// The profile.
        profile: String,
        /// Which value.
        what: &'static str,
    },
    /// The minimum is above the maximum.
    #[error("profile {0:?}: minimum above maximum")]
    EmptyRange(String),
    /// A rule's duration is negative.
    #[error("profile {profile:?}: rule {rule} has a negative duration")]
    NegativeDuration {
        /// The profile.
        profile: String,
        /// Index of the rule.
        rule: usize,
    },
    /// More rules than [`Profile::MAX_RULES`].
    #[error("profile {0:?}: more than {max} rules", max = Profile::MAX_RULES)]
    TooManyRules(String),
}

impl Profile {
    /// The most rules a profile may carry (each costs a summary per stored reading).
    pub const MAX_RULES: usize = 16;

    /// Chilled food, 0–4 °C: above 4 °C for more than 30 min, below 0 °C for more than
    /// 30 min, or above 4 °C for more than 2 h in all.
    pub fn chilled() -> Self {
        Self {
            name: "chilled 0-4".to_owned(),
            limits: Limits { min_celsius: Some(0.0), max_celsius: Some(4.0) },
            rules: vec![
                Rule::single_event(Bound::Above(4.0), 30),
                Rule::single_event(Bound::Below(0.0), 30),
                Rule::cumulative(Bound::Above(4.0), 120),
            ],
        }
    }

    /// Vaccines, 2–8 °C, with the WHO PQS shipping-indicator rules: above 8 °C for more than
    /// 30 min (single event), above 8 °C for more than 10 h in all (cumulative), and the
    /// freeze alarm below −0.5 °C for more than 60 min.
    pub fn vaccine() -> Self {
        Self {
            name: "vaccine 2-8".to_owned(),
            limits: Limits { min_celsius: Some(2.0), max_celsius: Some(8.0) },
            rules: vec![
                Rule::single_event(Bound::Above(8.0), 30),
                Rule::cumulative(Bound::Above(8.0), 600),
                Rule::single_event(Bound::Below(-0.5), 60),
            ],
        }
    }

    /// Quick-frozen food, −18 °C or colder (Directive 89/108/EEC, Regulation (EC) 37/2005).
    /// Transport may let it rise by up to 3 °C briefly, so the rule is breached by any time
    /// above −15 °C; between −18 and −15 °C the product is out of range but within the
    /// tolerance, which "out of range now" shows and no rule flags.
    pub fn frozen() -> Self {
        Self {
            name: "frozen -18".to_owned(),
            limits: Limits { min_celsius: None, max_celsius: Some(-18.0) },
            rules: vec![Rule::single_event(Bound::Above(-15.0), 0)],
        }
    }

    /// Checks the profile is usable (hostile master data is refused before use).
    pub fn check(&self) -> Result<(), ProfileError> {
        let impossible =
            |what| ProfileError::ImpossibleTemperature { profile: self.name.clone(), what };
        let temperature_ok =
            |celsius: f64| celsius.is_finite() && celsius >= super::ABSOLUTE_ZERO_CELSIUS;
        if self.limits.min_celsius.is_some_and(|min| !temperature_ok(min)) {
            return Err(impossible("minimum"));
        }
        if self.limits.max_celsius.is_some_and(|max| !temperature_ok(max)) {
            return Err(impossible("maximum"));
        }
        if let (Some(min), Some(max)) = (self.limits.min_celsius, self.limits.max_celsius)
            && min > max
        {
            return Err(ProfileError::EmptyRange(self.name.clone()));
        }
        if self.rules.len() > Self::MAX_RULES {
            return Err(ProfileError::TooManyRules(self.name.clone()));
        }
        for (index, rule) in self.rules.iter().enumerate() {
            if !temperature_ok(rule.bound.threshold()) {
                return Err(impossible("a rule's threshold"));
            }
            if rule.longer_than_ms < 0 {
                return Err(ProfileError::NegativeDuration {
                    profile: self.name.clone(),
                    rule: index,
                });
            }
        }
        Ok(())
    }
}

/// An excursion's identity: a digest of everything it states, so a result that differs in
/// anything is a different excursion and one that is recomputed unchanged keeps its identity.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExcursionId(pub [u8; 16]);

impl fmt::Display for ExcursionId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for ExcursionId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "ExcursionId({self})")
    }
}

impl Serialize for ExcursionId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ExcursionId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(&text, &mut bytes).map_err(serde::de::Error::custom)?;
        Ok(Self(bytes))
    }
}

/// A breached rule over one device's readings.
///
/// For a single-event rule it is one stretch of consecutive readings beyond the bound; for a
/// cumulative rule it spans from the first reading beyond the bound to the end of the last
/// stretch. `duration_ms` is the time known to be beyond the bound: each reading beyond holds
/// until the next reading, except across a gap, whose time is counted in `gap_ms` and never as
/// beyond or within.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Excursion {
    /// The identity (a digest of every other field).
    pub id: ExcursionId,
    /// The device whose readings these are.
    pub device: String,
    /// The rule applied.
    pub rule: Rule,
    /// The profile's limits at the time.
    pub limits: Limits,
    /// The first reading beyond the bound, ms since the epoch.
    pub start_ms: i64,
    /// The first reading back within the bound; `None` while ongoing.
    pub end_ms: Option<i64>,
    /// Time known to be beyond the bound, ms.
    pub duration_ms: i64,
    /// Lowest reading beyond the bound, °C.
    pub min_celsius: f64,
    /// Highest reading beyond the bound, °C.
    pub max_celsius: f64,
    /// Mean of the readings beyond the bound (each reading weighs the same), °C.
    pub mean_celsius: f64,
    /// How many readings were beyond the bound.
    pub readings: u64,
    /// Gaps in the logging inside the excursion (an excursion across a gap says so).
    pub gaps: u32,
    /// Their total length, ms.
    pub gap_ms: i64,
}

/// The measured part of an excursion, before it is given its identity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Measured {
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub duration_ms: i64,
    pub min_celsius: f64,
    pub max_celsius: f64,
    /// Sum of the readings in micro-degrees (exact, so independent of order).
    pub sum_micro: i64,
    pub readings: u64,
    pub gaps: u32,
    pub gap_ms: i64,
}

impl Excursion {
    pub(crate) fn new(device: &str, rule: &Rule, limits: Limits, measured: Measured) -> Self {
        let mean =
            super::round_micro(measured.sum_micro as f64 / 1e6 / measured.readings.max(1) as f64);
        let mut excursion = Self {
            id: ExcursionId([0; 16]),
            device: device.to_owned(),
            rule: rule.clone(),
            limits,
            start_ms: measured.start_ms,
            end_ms: measured.end_ms,
            duration_ms: measured.duration_ms,
            min_celsius: measured.min_celsius,
            max_celsius: measured.max_celsius,
            mean_celsius: mean,
            readings: measured.readings,
            gaps: measured.gaps,
            gap_ms: measured.gap_ms,
        };
        excursion.id = excursion.digest();
        excursion
    }

    fn digest(&self) -> ExcursionId {
        let mut hasher = Sha256::new();
        hasher.update(b"lotline excursion v1\n");
        hasher.update(self.device.as_bytes());
        hasher.update([0]);
        let (kind, side, threshold) = match (self.rule.kind, self.rule.bound) {
            (kind, Bound::Above(threshold)) => (kind, 0u8, threshold),
            (kind, Bound::Below(threshold)) => (kind, 1u8, threshold),
        };
        hasher.update([kind as u8, side]);
        hasher.update(threshold.to_bits().to_be_bytes());
        hasher.update(self.rule.longer_than_ms.to_be_bytes());
        for limit in [self.limits.min_celsius, self.limits.max_celsius] {
            hasher.update(limit.map_or([0xff; 8], |limit| limit.to_bits().to_be_bytes()));
        }
        hasher.update(self.start_ms.to_be_bytes());
        hasher.update(self.end_ms.map_or([0xff; 9], |end| {
            let mut bytes = [0; 9];
            bytes[1..].copy_from_slice(&end.to_be_bytes());
            bytes
        }));
        hasher.update(self.duration_ms.to_be_bytes());
        for value in [self.min_celsius, self.max_celsius, self.mean_celsius] {
            hasher.update(value.to_bits().to_be_bytes());
        }
        hasher.update(self.readings.to_be_bytes());
        hasher.update(self.gaps.to_be_bytes());
        hasher.update(self.gap_ms.to_be_bytes());
        let digest = hasher.finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        ExcursionId(id)
    }

    /// `true` while the readings are still beyond the bound.
    pub fn is_ongoing(&self) -> bool {
        self.end_ms.is_none()
    }

    /// The ledger record for this excursion over `lots` (EPC URIs): the rule and limits as
    /// applied, the worst value observed, and every figure typed (a first report: it
    /// supersedes nothing; see `records::Excursion::superseding` for a correction).
    pub fn to_record(&self, lots: Vec<String>) -> records::Excursion {
        let range = |limit: Option<f64>| limit.map_or_else(String::new, |limit| limit.to_string());
        let worst = match self.rule.bound {
            Bound::Above(_) => self.max_celsius,
            Bound::Below(_) => self.min_celsius,
        };
        records::Excursion {
            lots,
            measurement: "gs1:Temperature".to_owned(),
            limit: format!(
                "{}; limits {}..{} CEL",
                self.rule,
                range(self.limits.min_celsius),
                range(self.limits.max_celsius)
            ),
            observed: format!("{worst} CEL"),
            started_ms: self.start_ms,
            ended_ms: self.end_ms,
            detail: Some(records::ExcursionDetail {
                device: self.device.clone(),
                excursion_id: self.id,
                rule: self.rule.clone(),
                duration_ms: self.duration_ms,
                min_celsius: self.min_celsius,
                max_celsius: self.max_celsius,
                mean_celsius: self.mean_celsius,
                readings: self.readings,
                gaps: self.gaps,
                gap_ms: self.gap_ms,
                supersedes: None,
                withdrawn: false,
            }),
        }
    }
}

/// Why an excursion is acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Reason {
    /// The sensor was lost or malfunctioning: the readings do not describe the product.
    SensorLostOrMalfunctioning,
    /// The product was assessed (e.g. against stability data) and released.
    AssessedAndReleased,
    /// The product was quarantined or discarded.
    Discarded,
    /// Anything else, in words.
    Other(String),
}

/// An organisation's acknowledgement of an excursion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    /// The excursion acknowledged.
    pub excursion: ExcursionId,
    /// The acknowledging organisation.
    pub by: PublicKey,
    /// Why.
    pub reason: Reason,
}

/// Who held the goods over an interval (from the custody handoffs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Custody {
    /// The organisation holding the goods.
    pub holder: PublicKey,
    /// Custody began, ms since the epoch.
    pub from_ms: i64,
    /// Custody ended; `None` = still holding.
    pub until_ms: Option<i64>,
}

/// Why an acknowledgement is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcknowledgementError {
    /// The acknowledgement names another excursion.
    #[error("acknowledgement names excursion {named}, not {excursion}")]
    WrongExcursion {
        /// The excursion checked.
        excursion: ExcursionId,
        /// The one named.
        named: ExcursionId,
    },
    /// An ongoing excursion cannot be acknowledged.
    #[error("excursion {0} is ongoing and cannot be acknowledged")]
    Ongoing(ExcursionId),
    /// The acknowledging organisation held no custody during the excursion.
    #[error("excursion {excursion}: {by} did not hold custody during it")]
    NotCustodian {
        /// The excursion.
        excursion: ExcursionId,
        /// Who tried.
        by: PublicKey,
    },
    /// An `Other` reason has no words.
    #[error("excursion {0}: the reason is empty")]
    EmptyReason(ExcursionId),
}

/// The acknowledgement rule: the excursion has ended, and the acknowledging organisation held
/// custody at some instant between its start and its end (when custody changed hands during
/// an excursion, each holder may acknowledge it), with a reason in words when it is `Other`.
pub fn check_acknowledgement(
    excursion: &Excursion,
    acknowledgement: &Acknowledgement,
    custody: &[Custody],
) -> Result<(), AcknowledgementError> {
    if acknowledgement.excursion != excursion.id {
        return Err(AcknowledgementError::WrongExcursion {
            excursion: excursion.id,
            named: acknowledgement.excursion,
        });
    }
    let Some(end_ms) = excursion.end_ms else {
        return Err(AcknowledgementError::Ongoing(excursion.id));
    };
    if let Reason::Other(words) = &acknowledgement.reason
        && words.trim().is_empty()
    {
        return Err(AcknowledgementError::EmptyReason(excursion.id));
    }
    let held = custody.iter().any(|custody| {
        custody.holder == acknowledgement.by
            && custody.from_ms <= end_ms
            && custody.until_ms.is_none_or(|until| until >= excursion.start_ms)
    });
    if held {
        Ok(())
    } else {
        Err(AcknowledgementError::NotCustodian { excursion: excursion.id, by: acknowledgement.by })
    }
}
