//! The incremental excursion detector of one device on one shipment: readings arrive in any
//! order and in batches, and each batch costs in proportion to its size (times log n), not to
//! the length of the journey.
//!
//! Owns: [`Detector`], its [`Config`] (logging interval and gap tolerance), [`Update`] and
//! [`Revision`] (what a batch changed, and which earlier results it supersedes), [`Gap`],
//! [`Status`] ("out of range now", kept apart from "a rule was breached") and [`Conflict`].
//! Does not own: the model of what an excursion is (documented and written plainly in
//! `scan`, which the tests hold this equal to), parsing, storage or signing.
//!
//! # Data structure
//!
//! The readings live in a treap keyed by time (an arena of nodes, no allocation per node
//! beyond the arena's growth). Each node caches, for its subtree, the first and last instant,
//! the count, and per rule a run summary of the readings beyond that rule's bound: how many,
//! the time they hold, the gaps after them, min, max and the exact sum in micro-degrees. Each
//! reading's hold (time to the next reading, zero before a gap) is stored on the reading, so
//! inserting a reading changes its own node and its predecessor's, and refreshes summaries
//! on two root paths. Priorities are a hash of the instant, so the tree's shape depends only on
//! the set of readings, never on arrival order.
//!
//! After a batch, only the stretches around each inserted reading are recomputed: for each
//! rule, the nearest reading within the bound before and after it (found by descending on the
//! cached counts) delimit at most two stretches, whose summaries are range queries. Cumulative
//! rules read the root summary. Every query is O(log n), so a batch of k readings costs
//! O(k log n) whatever the journey's length.
//!
//! # Supersession
//!
//! A reported excursion is never edited: its [`ExcursionId`] digests everything it states.
//! When a batch changes a stretch, the new result is a [`Revision`] naming the reported
//! excursions it replaces; a reported excursion that no longer holds (an in-range reading
//! arrived late and split a stretch below the rule's duration) is withdrawn.
//!
//! # Clock skew
//!
//! Readings are per device and judged on that device's clock only: no stretch, gap or hold
//! ever mixes two devices, so skew between devices cannot reorder or merge readings. A known
//! offset of one device's clock is corrected by shifting its samples before insertion.

use std::collections::BTreeMap;

use super::Sample;
use super::micro;
use super::profile::{Excursion, ExcursionId, Measured, Profile, ProfileError, RuleKind};

/// How a device logs: its interval, and how much longer an interval may be before it is a gap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// The logging interval, ms.
    pub interval_ms: i64,
    /// An interval longer than `interval_ms × gap_tolerance` is a gap (a tolerance below 1
    /// counts as 1, an interval below 1 ms as 1 ms).
    pub gap_tolerance: f64,
}

impl Config {
    /// The longest interval between two readings that is not a gap, ms.
    pub fn max_gap_ms(&self) -> i64 {
        (self.interval_ms.max(1) as f64 * self.gap_tolerance.max(1.0)).round() as i64
    }
}

/// A gap in the logging: no reading strictly between `start_ms` and `end_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The last reading before the gap.
    pub start_ms: i64,
    /// The first reading after it.
    pub end_ms: i64,
}

/// The state of a device as of its last reading. "Out of range now" (the last reading is
/// outside the profile's limits) is kept apart from "a rule was breached" (some excursion
/// exists), because either can hold without the other.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// The last reading's instant.
    pub last_reading_ms: Option<i64>,
    /// The last reading's temperature, °C.
    pub last_celsius: Option<f64>,
    /// The last reading is outside the profile's limits.
    pub out_of_range_now: bool,
    /// Indexes (into the profile's rules) of the rules breached at least once.
    pub breached: Vec<usize>,
}

/// A new result and the reported excursions it replaces.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    /// The excursion as it now stands.
    pub excursion: Excursion,
    /// The reported excursions it supersedes (empty for a new one).
    pub supersedes: Vec<ExcursionId>,
}

/// What one batch changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// Readings added (duplicates of stored readings are not counted).
    pub inserted: usize,
    /// New or changed excursions.
    pub revisions: Vec<Revision>,
    /// Reported excursions that no longer hold and are replaced by nothing.
    pub withdrawn: Vec<ExcursionId>,
    /// The status after the batch.
    pub status: Status,
}

/// A reading that contradicts one already held for the same device and instant.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("reading at {time_ms} ms: {celsius} °C contradicts {held_celsius} °C already held")]
pub struct Conflict {
    /// The instant.
    pub time_ms: i64,
    /// What is held.
    pub held_celsius: f64,
    /// What the batch says.
    pub celsius: f64,
}

const NIL: u32 = u32::MAX;

/// One reading and its subtree's cached summary.
#[derive(Debug, Clone, Copy)]
struct Node {
    time_ms: i64,
    celsius: f64,
    offset_minutes: i16,
    /// Time this reading holds (to the next reading; zero before a gap or at the end).
    hold_ms: i64,
    /// Length of the gap after this reading, zero when there is none.
    gap_ms: i64,
    priority: u64,
    left: u32,
    right: u32,
    /// Subtree: readings, first and last instant.
    count: u64,
    first_ms: i64,
    last_ms: i64,
}

/// Per rule, a summary of the subtree's readings beyond the rule's bound.
#[derive(Debug, Clone, Copy, PartialEq)]
struct RunSummary {
    beyond: u64,
    held_ms: i64,
    gaps: u32,
    gap_ms: i64,
    min_celsius: f64,
    max_celsius: f64,
    sum_micro: i64,
}

impl RunSummary {
    const EMPTY: Self = Self {
        beyond: 0,
        held_ms: 0,
        gaps: 0,
        gap_ms: 0,
        min_celsius: f64::INFINITY,
        max_celsius: f64::NEG_INFINITY,
        sum_micro: 0,
    };

    fn of(node: &Node) -> Self {
        Self {
            beyond: 1,
            held_ms: node.hold_ms,
            gaps: u32::from(node.gap_ms > 0),
            gap_ms: node.gap_ms,
            min_celsius: node.celsius,
            max_celsius: node.celsius,
            sum_micro: micro(node.celsius),
        }
    }

    fn add(&mut self, other: &Self) {
        self.beyond += other.beyond;
        self.held_ms += other.held_ms;
        self.gaps += other.gaps;
        self.gap_ms += other.gap_ms;
        self.min_celsius = self.min_celsius.min(other.min_celsius);
        self.max_celsius = self.max_celsius.max(other.max_celsius);
        self.sum_micro += other.sum_micro;
    }
}

/// The excursion detector of one device on one shipment.
#[derive(Debug, Clone)]
pub struct Detector {
    device: String,
    profile: Profile,
    config: Config,
    nodes: Vec<Node>,
    /// `summaries[node × rules + rule]`.
    summaries: Vec<RunSummary>,
    root: u32,
    /// Reported single-event excursions per rule, by start.
    reported: Vec<BTreeMap<i64, Excursion>>,
    /// The reported cumulative excursion per rule.
    reported_total: Vec<Option<Excursion>>,
    /// Gaps, by start.
    gaps: BTreeMap<i64, i64>,
    /// Tree nodes visited, so tests can hold the cost of a batch to its size.
    #[cfg(test)]
    visits: std::cell::Cell<u64>,
}

impl Detector {
    /// A detector with no readings; the profile is checked first.
    pub fn new(
        device: impl Into<String>,
        profile: Profile,
        config: Config,
    ) -> Result<Self, ProfileError> {
        profile.check()?;
        let rules = profile.rules.len();
        Ok(Self {
            device: device.into(),
            profile,
            config,
            nodes: Vec::new(),
            summaries: Vec::new(),
            root: NIL,
            reported: vec![BTreeMap::new(); rules],
            reported_total: vec![None; rules],
            gaps: BTreeMap::new(),
            #[cfg(test)]
            visits: std::cell::Cell::new(0),
        })
    }

    /// Number of readings held.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// `true` when no reading is held.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The readings held, in time order.
    pub fn samples(&self) -> Vec<Sample> {
        let mut samples = Vec::with_capacity(self.nodes.len());
        let mut stack = Vec::new();
        let mut cursor = self.root;
        while cursor != NIL || !stack.is_empty() {
            while cursor != NIL {
                stack.push(cursor);
                cursor = self.nodes[cursor as usize].left;
            }
            let Some(top) = stack.pop() else { break };
            let node = &self.nodes[top as usize];
            samples.push(Sample {
                time_ms: node.time_ms,
                offset_minutes: node.offset_minutes,
                celsius: node.celsius,
            });
            cursor = node.right;
        }
        samples
    }

    /// The excursions as they now stand, by rule order, then start.
    pub fn excursions(&self) -> Vec<Excursion> {
        let mut excursions = Vec::new();
        for (index, rule) in self.profile.rules.iter().enumerate() {
            match rule.kind {
                RuleKind::SingleEvent => excursions.extend(self.reported[index].values().cloned()),
                RuleKind::Cumulative => excursions.extend(self.reported_total[index].clone()),
            }
        }
        excursions
    }

    /// The gaps, in time order.
    pub fn gaps(&self) -> Vec<Gap> {
        self.gaps.iter().map(|(&start_ms, &end_ms)| Gap { start_ms, end_ms }).collect()
    }

    /// The status as of the last reading.
    pub fn status(&self) -> Status {
        let last = (self.root != NIL).then(|| {
            let last_ms = self.nodes[self.root as usize].last_ms;
            let index = self.find(last_ms);
            self.nodes[index as usize]
        });
        let breached = (0..self.profile.rules.len())
            .filter(|&index| {
                !self.reported[index].is_empty() || self.reported_total[index].is_some()
            })
            .collect();
        Status {
            last_reading_ms: last.map(|node| node.time_ms),
            last_celsius: last.map(|node| node.celsius),
            out_of_range_now: last.is_some_and(|node| !self.profile.limits.contains(node.celsius)),
            breached,
        }
    }

    /// Adds a batch of readings in any order. A reading equal to one held (same instant, same
    /// temperature) changes nothing; a batch contradicting a held reading, or itself, is
    /// refused whole with every conflict named.
    pub fn insert(&mut self, batch: &[Sample]) -> Result<Update, Vec<Conflict>> {
        let mut batch: Vec<Sample> = batch
            .iter()
            .map(|sample| Sample { celsius: super::round_micro(sample.celsius), ..*sample })
            .collect();
        batch.sort_by_key(|sample| sample.time_ms);
        let mut conflicts = Vec::new();
        let mut fresh: Vec<Sample> = Vec::with_capacity(batch.len());
        for sample in batch {
            let held = match fresh.last() {
                Some(last) if last.time_ms == sample.time_ms => Some(last.celsius),
                _ => {
                    let index = self.find(sample.time_ms);
                    (index != NIL).then(|| self.nodes[index as usize].celsius)
                }
            };
            match held {
                Some(held) if held == sample.celsius => {}
                Some(held) => conflicts.push(Conflict {
                    time_ms: sample.time_ms,
                    held_celsius: held,
                    celsius: sample.celsius,
                }),
                None => fresh.push(sample),
            }
        }
        if !conflicts.is_empty() {
            return Err(conflicts);
        }
        for sample in &fresh {
            self.insert_one(*sample);
        }
        let (revisions, withdrawn) = self.refresh(&fresh);
        Ok(Update { inserted: fresh.len(), revisions, withdrawn, status: self.status() })
    }

    // -----------------------------------------------------------------------------------------
    // Recomputing results around inserted readings

    fn refresh(&mut self, inserted: &[Sample]) -> (Vec<Revision>, Vec<ExcursionId>) {
        let mut revisions = Vec::new();
        let mut withdrawn = Vec::new();
        if inserted.is_empty() {
            return (revisions, withdrawn);
        }
        for rule_index in 0..self.profile.rules.len() {
            let rule = self.profile.rules[rule_index].clone();
            if rule.kind == RuleKind::Cumulative {
                let total = self.summary_between(rule_index, i64::MIN, i64::MAX);
                let now = (total.beyond > 0 && rule.breached_by(total.held_ms)).then(|| {
                    let start = self.first_beyond(rule_index);
                    let last = self.last_beyond(rule_index);
                    let end = last.and_then(|last| self.next_within(rule_index, last));
                    self.excursion(rule_index, start.unwrap_or(0), end, total)
                });
                let old = self.reported_total[rule_index].take();
                match (&old, &now) {
                    (Some(old), Some(now)) if old.id == now.id => {}
                    (old, Some(now)) => revisions.push(Revision {
                        excursion: now.clone(),
                        supersedes: old.iter().map(|old| old.id).collect(),
                    }),
                    (Some(old), None) => withdrawn.push(old.id),
                    (None, None) => {}
                }
                self.reported_total[rule_index] = now;
                continue;
            }
            // Stretches around each inserted reading, keyed by start.
            let mut windows: Vec<(i64, i64)> = Vec::new();
            // Inserted readings are in time order, so readings of one stretch are adjacent:
            // the last stretch computed is skipped when it comes round again.
            let mut last_stretch = (i64::MAX, i64::MIN);
            let mut fresh: BTreeMap<i64, Excursion> = BTreeMap::new();
            for sample in inserted {
                let time = sample.time_ms;
                let before = self.previous_within(rule_index, time);
                let after = self.next_within(rule_index, time);
                let low = before.map_or(i64::MIN, |before| before + 1);
                let high = after.map_or(i64::MAX, |after| after - 1);
                let window = (before.unwrap_or(i64::MIN), after.unwrap_or(i64::MAX));
                if windows.last() != Some(&window) {
                    windows.push(window);
                }
                let beyond = rule.bound.beyond(sample.celsius);
                let stretches = if beyond {
                    [(low, high, after), (0, -1, None)]
                } else {
                    [(low, time - 1, Some(time)), (time + 1, high, after)]
                };
                for (from, to, end) in stretches {
                    if from > to || (from, to) == last_stretch {
                        continue;
                    }
                    last_stretch = (from, to);
                    let summary = self.summary_between(rule_index, from, to);
                    if summary.beyond == 0 || !rule.breached_by(summary.held_ms) {
                        continue;
                    }
                    let start = self.first_beyond_from(rule_index, from).unwrap_or(from);
                    let excursion = self.excursion(rule_index, start, end, summary);
                    fresh.insert(start, excursion);
                }
            }
            // Reported excursions overlapping a recomputed window are replaced.
            let reported = &mut self.reported[rule_index];
            let mut replaced: Vec<Excursion> = Vec::new();
            for (low, high) in windows {
                let first_key = reported
                    .range(..=low)
                    .next_back()
                    .filter(|(_, excursion)| excursion.end_ms.is_none_or(|end| end > low))
                    .map_or(low, |(&start, _)| start);
                let keys: Vec<i64> = reported
                    .range(first_key..)
                    .take_while(|(start, _)| **start < high)
                    .map(|(&start, _)| start)
                    .collect();
                for key in keys {
                    if let Some(old) = reported.remove(&key) {
                        replaced.push(old);
                    }
                }
            }
            let mut superseded_somewhere = vec![false; replaced.len()];
            for (start, excursion) in fresh {
                let overlapping: Vec<usize> = replaced
                    .iter()
                    .enumerate()
                    .filter(|(_, old)| overlaps(old, &excursion))
                    .map(|(index, _)| index)
                    .collect();
                let unchanged = overlapping.iter().any(|&index| replaced[index].id == excursion.id);
                for &index in &overlapping {
                    superseded_somewhere[index] = true;
                }
                if !unchanged {
                    revisions.push(Revision {
                        supersedes: overlapping.iter().map(|&index| replaced[index].id).collect(),
                        excursion: excursion.clone(),
                    });
                }
                reported.insert(start, excursion);
            }
            for (old, superseded) in replaced.iter().zip(superseded_somewhere) {
                if !superseded {
                    withdrawn.push(old.id);
                }
            }
        }
        (revisions, withdrawn)
    }

    fn excursion(
        &self,
        rule_index: usize,
        start_ms: i64,
        end_ms: Option<i64>,
        summary: RunSummary,
    ) -> Excursion {
        Excursion::new(
            &self.device,
            &self.profile.rules[rule_index],
            self.profile.limits,
            Measured {
                start_ms,
                end_ms,
                duration_ms: summary.held_ms,
                min_celsius: summary.min_celsius,
                max_celsius: summary.max_celsius,
                sum_micro: summary.sum_micro,
                readings: summary.beyond,
                gaps: summary.gaps,
                gap_ms: summary.gap_ms,
            },
        )
    }

    // -----------------------------------------------------------------------------------------
    // The treap

    /// Counts a visited node (tests only).
    #[inline]
    fn visit(&self) {
        #[cfg(test)]
        self.visits.set(self.visits.get() + 1);
    }

    /// Nodes visited so far (tests only).
    #[cfg(test)]
    pub(crate) fn visits(&self) -> u64 {
        self.visits.get()
    }

    fn rules(&self) -> usize {
        self.profile.rules.len()
    }

    fn summary(&self, node: u32, rule_index: usize) -> RunSummary {
        if node == NIL {
            RunSummary::EMPTY
        } else {
            self.summaries[node as usize * self.rules() + rule_index]
        }
    }

    fn count(&self, node: u32) -> u64 {
        if node == NIL { 0 } else { self.nodes[node as usize].count }
    }

    /// Recomputes `node`'s cached subtree summary from its children.
    fn pull(&mut self, node: u32) {
        let index = node as usize;
        let Node { left, right, time_ms, .. } = self.nodes[index];
        let first_ms = if left == NIL { time_ms } else { self.nodes[left as usize].first_ms };
        let last_ms = if right == NIL { time_ms } else { self.nodes[right as usize].last_ms };
        let count = 1 + self.count(left) + self.count(right);
        let current = self.nodes[index];
        for rule_index in 0..self.rules() {
            let mut summary = self.summary(left, rule_index);
            if self.profile.rules[rule_index].bound.beyond(current.celsius) {
                summary.add(&RunSummary::of(&current));
            }
            summary.add(&self.summary(right, rule_index));
            let rules = self.rules();
            self.summaries[index * rules + rule_index] = summary;
        }
        let node = &mut self.nodes[index];
        node.first_ms = first_ms;
        node.last_ms = last_ms;
        node.count = count;
    }

    /// Splits `node` into (instants < `time`, instants ≥ `time`).
    fn split(&mut self, node: u32, time: i64) -> (u32, u32) {
        self.visit();
        if node == NIL {
            return (NIL, NIL);
        }
        if self.nodes[node as usize].time_ms < time {
            let (left, right) = self.split(self.nodes[node as usize].right, time);
            self.nodes[node as usize].right = left;
            self.pull(node);
            (node, right)
        } else {
            let (left, right) = self.split(self.nodes[node as usize].left, time);
            self.nodes[node as usize].left = right;
            self.pull(node);
            (left, node)
        }
    }

    /// Joins two treaps, every instant of `left` before every instant of `right`.
    fn merge(&mut self, left: u32, right: u32) -> u32 {
        self.visit();
        if left == NIL {
            return right;
        }
        if right == NIL {
            return left;
        }
        if self.nodes[left as usize].priority > self.nodes[right as usize].priority {
            let merged = self.merge(self.nodes[left as usize].right, right);
            self.nodes[left as usize].right = merged;
            self.pull(left);
            left
        } else {
            let merged = self.merge(left, self.nodes[right as usize].left);
            self.nodes[right as usize].left = merged;
            self.pull(right);
            right
        }
    }

    /// The node at `time`, or `NIL`.
    fn find(&self, time: i64) -> u32 {
        let mut cursor = self.root;
        while cursor != NIL {
            self.visit();
            let node = &self.nodes[cursor as usize];
            if time == node.time_ms {
                return cursor;
            }
            cursor = if time < node.time_ms { node.left } else { node.right };
        }
        NIL
    }

    /// The instant of the last reading before `time` and the first after it.
    fn neighbours(&self, time: i64) -> (Option<i64>, Option<i64>) {
        let (mut before, mut after) = (None, None);
        let mut cursor = self.root;
        while cursor != NIL {
            self.visit();
            let node = &self.nodes[cursor as usize];
            if node.time_ms < time {
                before = Some(node.time_ms);
                cursor = node.right;
            } else {
                if node.time_ms > time {
                    after = Some(node.time_ms);
                }
                cursor = node.left;
            }
        }
        (before, after)
    }

    /// (hold, gap) of a reading at `time` followed by one at `next`.
    fn step(&self, time: i64, next: Option<i64>) -> (i64, i64) {
        match next {
            Some(next) if next - time > self.config.max_gap_ms() => (0, next - time),
            Some(next) => (next - time, 0),
            None => (0, 0),
        }
    }

    fn insert_one(&mut self, sample: Sample) {
        let (before, after) = self.neighbours(sample.time_ms);
        let (hold_ms, gap_ms) = self.step(sample.time_ms, after);
        if let Some(before) = before {
            // The interval from `before` to its old successor, a gap or not, no longer exists.
            self.gaps.remove(&before);
        }
        if gap_ms > 0
            && let Some(after) = after
        {
            self.gaps.insert(sample.time_ms, after);
        }
        if let Some(before) = before {
            let (hold, gap) = self.step(before, Some(sample.time_ms));
            if gap > 0 {
                self.gaps.insert(before, sample.time_ms);
            }
            self.set_step(self.root, before, hold, gap);
        }
        let node = u32::try_from(self.nodes.len()).unwrap_or(NIL - 1);
        self.nodes.push(Node {
            time_ms: sample.time_ms,
            celsius: sample.celsius,
            offset_minutes: sample.offset_minutes,
            hold_ms,
            gap_ms,
            priority: priority(sample.time_ms),
            left: NIL,
            right: NIL,
            count: 1,
            first_ms: sample.time_ms,
            last_ms: sample.time_ms,
        });
        self.summaries.extend(std::iter::repeat_n(RunSummary::EMPTY, self.rules()));
        self.pull(node);
        let (left, right) = self.split(self.root, sample.time_ms);
        let left = self.merge(left, node);
        self.root = self.merge(left, right);
    }

    /// Sets the hold and gap of the reading at `time`, refreshing summaries on its path.
    fn set_step(&mut self, node: u32, time: i64, hold_ms: i64, gap_ms: i64) {
        self.visit();
        if node == NIL {
            return;
        }
        let node_time = self.nodes[node as usize].time_ms;
        if time == node_time {
            self.nodes[node as usize].hold_ms = hold_ms;
            self.nodes[node as usize].gap_ms = gap_ms;
        } else if time < node_time {
            self.set_step(self.nodes[node as usize].left, time, hold_ms, gap_ms);
        } else {
            self.set_step(self.nodes[node as usize].right, time, hold_ms, gap_ms);
        }
        self.pull(node);
    }

    /// The summary of readings in `[from, to]`.
    fn summary_between(&self, rule_index: usize, from: i64, to: i64) -> RunSummary {
        let mut total = RunSummary::EMPTY;
        self.collect(self.root, rule_index, from, to, &mut total);
        total
    }

    fn collect(&self, node: u32, rule_index: usize, from: i64, to: i64, total: &mut RunSummary) {
        self.visit();
        if node == NIL {
            return;
        }
        let current = self.nodes[node as usize];
        if current.last_ms < from || current.first_ms > to {
            return;
        }
        if from <= current.first_ms && current.last_ms <= to {
            total.add(&self.summary(node, rule_index));
            return;
        }
        self.collect(current.left, rule_index, from, to, total);
        if (from..=to).contains(&current.time_ms)
            && self.profile.rules[rule_index].bound.beyond(current.celsius)
        {
            total.add(&RunSummary::of(&current));
        }
        self.collect(current.right, rule_index, from, to, total);
    }

    /// Readings in the subtree within the rule's bound.
    fn within_count(&self, node: u32, rule_index: usize) -> u64 {
        self.count(node) - self.summary(node, rule_index).beyond
    }

    /// The last reading strictly before `time` within the rule's bound.
    fn previous_within(&self, rule_index: usize, time: i64) -> Option<i64> {
        self.search(self.root, rule_index, time, true, false)
    }

    /// The first reading strictly after `time` within the rule's bound.
    fn next_within(&self, rule_index: usize, time: i64) -> Option<i64> {
        self.search(self.root, rule_index, time, false, false)
    }

    /// The first reading at or after `time` beyond the rule's bound.
    fn first_beyond_from(&self, rule_index: usize, time: i64) -> Option<i64> {
        self.search(self.root, rule_index, time.saturating_sub(1), false, true)
    }

    fn first_beyond(&self, rule_index: usize) -> Option<i64> {
        self.search(self.root, rule_index, i64::MIN, false, true)
    }

    fn last_beyond(&self, rule_index: usize) -> Option<i64> {
        self.search(self.root, rule_index, i64::MAX, true, true)
    }

    /// The nearest reading strictly before (`backwards`) or after `time` that is beyond the
    /// rule's bound (`beyond`) or within it; descends on the cached counts.
    fn search(
        &self,
        node: u32,
        rule_index: usize,
        time: i64,
        backwards: bool,
        beyond: bool,
    ) -> Option<i64> {
        self.visit();
        if node == NIL {
            return None;
        }
        let current = self.nodes[node as usize];
        let matches = |celsius: f64| self.profile.rules[rule_index].bound.beyond(celsius) == beyond;
        let (toward, away) =
            if backwards { (current.right, current.left) } else { (current.left, current.right) };
        let in_reach = if backwards { current.time_ms < time } else { current.time_ms > time };
        if !in_reach {
            return self.search(away, rule_index, time, backwards, beyond);
        }
        // Readings on the `toward` side are nearer to `time` than this one.
        if let Some(found) = self.search(toward, rule_index, time, backwards, beyond) {
            return Some(found);
        }
        if matches(current.celsius) {
            return Some(current.time_ms);
        }
        self.extreme(away, rule_index, backwards, beyond)
    }

    /// The last (`backwards`) or first matching reading of a whole subtree.
    fn extreme(&self, node: u32, rule_index: usize, backwards: bool, beyond: bool) -> Option<i64> {
        let available = |node: u32| {
            if beyond {
                self.summary(node, rule_index).beyond
            } else {
                self.within_count(node, rule_index)
            }
        };
        let mut cursor = node;
        while cursor != NIL && available(cursor) > 0 {
            self.visit();
            let current = self.nodes[cursor as usize];
            let (near, far) = if backwards {
                (current.right, current.left)
            } else {
                (current.left, current.right)
            };
            if available(near) > 0 {
                cursor = near;
            } else if self.profile.rules[rule_index].bound.beyond(current.celsius) == beyond {
                return Some(current.time_ms);
            } else {
                cursor = far;
            }
        }
        None
    }
}

/// `true` when two excursions of one rule share any instant.
fn overlaps(old: &Excursion, new: &Excursion) -> bool {
    let old_end = old.end_ms.unwrap_or(i64::MAX);
    let new_end = new.end_ms.unwrap_or(i64::MAX);
    old.start_ms <= new_end && new.start_ms <= old_end
}

/// A treap priority from the instant (splitmix64), so the shape depends on the readings only.
fn priority(time_ms: i64) -> u64 {
    let mut value = (time_ms as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}
