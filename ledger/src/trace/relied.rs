//! The lists every answer ends with: the Event Hash IDs it relied on and the feed entries
//! carrying them, each sorted and once, so a client can verify every entry.
//!
//! Owns [`EventSet`] (the events a walk relied on, repeats included, listed in id order
//! through one bit per indexed event, or by a sort when the set is small against the index),
//! [`relied_lists`] and the two sorts behind it, which need no comparison sort on large
//! answers: entries are bucketed by author (a counting sort over the few authors met, a bucket
//! sorted only when not already in feed order), and hash ids are radix-sorted on a 33-bit
//! prefix of their digests (three 11-bit passes, every digit counted in one read of the keys)
//! with a full comparison and deduplication only inside runs sharing a prefix
//! ([`sorted_hash_ids`]). Does not own which events a walk relies on (see [`super::walk`]).

use super::event_ref::EventRef;
use super::graph::Graph;
use super::hash_id::EventHashId;
use super::ids::EventId;

/// The events an answer relies on. A recall adds thousands of events with many repeats: they
/// are pushed as met, and handed back in id order through one bit per indexed event (no sort);
/// a small trace sorts its few events instead of clearing a bitmap as large as the index.
#[derive(Debug)]
pub(super) struct EventSet {
    /// Every event added, repeats included.
    pushed: Vec<EventId>,
    /// Events in the index (bitmap size).
    event_count: usize,
}

impl EventSet {
    /// Events per pushed event above which a sort beats scanning the bitmap.
    pub(super) const EVENTS_PER_SORTED: usize = 512;

    pub(super) fn new(event_count: usize) -> Self {
        Self { pushed: Vec::new(), event_count }
    }

    pub(super) fn insert(&mut self, event: EventId) {
        self.pushed.push(event);
    }

    pub(super) fn extend(&mut self, events: &[EventId]) {
        self.pushed.extend_from_slice(events);
    }

    /// Events added so far, repeats included (a mark for [`EventSet::since`]).
    pub(super) fn len(&self) -> usize {
        self.pushed.len()
    }

    /// The events added since the mark `start`, repeats included.
    pub(super) fn since(&self, start: usize) -> &[EventId] {
        &self.pushed[start..]
    }

    /// The events, ascending, each once.
    pub(super) fn to_sorted_vec(&self) -> Vec<EventId> {
        if self.pushed.len() * Self::EVENTS_PER_SORTED < self.event_count {
            let mut events = self.pushed.clone();
            events.sort_unstable();
            events.dedup();
            return events;
        }
        let mut words = vec![0u64; self.event_count.div_ceil(64)];
        for event in &self.pushed {
            let word = *event as usize / 64;
            if word >= words.len() {
                words.resize(word + 1, 0);
            }
            words[word] |= 1 << (event % 64);
        }
        let distinct = words.iter().map(|word| word.count_ones() as usize).sum();
        let mut events = Vec::with_capacity(distinct);
        for (position, word) in words.iter().enumerate() {
            let mut bits = *word;
            while bits != 0 {
                events.push((position * 64) as EventId + bits.trailing_zeros());
                bits &= bits - 1;
            }
        }
        events
    }
}

/// The relied-on `events` (distinct, ascending) as an answer lists them: their Event Hash IDs
/// sorted without duplicates (one event may sit in two feeds), and their entries sorted by
/// author and position.
///
/// Events come in id order, which is each feed's order in practice, so entries are bucketed by
/// author (a counting sort over the few dozen authors met) and a bucket is sorted only when it
/// is not already in position order. Hash ids are sorted by a radix sort on their first bytes.
/// Every entry is read from the index in id order first, so the later reads hit the cache.
pub(super) fn relied_lists(graph: &Graph, events: &[EventId]) -> (Vec<EventHashId>, Vec<EventRef>) {
    const UNRANKED: u32 = u32::MAX;
    let mut rank_of_author = vec![UNRANKED; graph.author_count()];
    let mut authors_met: Vec<u32> = Vec::new();
    let positions: Vec<(u32, u64)> = events
        .iter()
        .map(|event_id| {
            let (author, sequence) = graph.entry_position(*event_id);
            if rank_of_author[author as usize] == UNRANKED {
                rank_of_author[author as usize] = 0;
                authors_met.push(author);
            }
            (author, sequence)
        })
        .collect();
    authors_met.sort_unstable_by_key(|author| graph.author(*author));
    let mut bucket_starts = vec![0usize; authors_met.len() + 1];
    for (rank, author) in authors_met.iter().enumerate() {
        rank_of_author[*author as usize] = rank as u32;
    }
    for (author, _) in &positions {
        bucket_starts[rank_of_author[*author as usize] as usize + 1] += 1;
    }
    for rank in 1..bucket_starts.len() {
        bucket_starts[rank] += bucket_starts[rank - 1];
    }
    // Positions in `events`, grouped by author rank, ascending within each group.
    let mut order = vec![0usize; events.len()];
    let mut next_slot = bucket_starts.clone();
    for (position, (author, _)) in positions.iter().enumerate() {
        let slot = &mut next_slot[rank_of_author[*author as usize] as usize];
        order[*slot] = position;
        *slot += 1;
    }
    let sequence = |position: &usize| positions[*position].1;
    for bucket in bucket_starts.windows(2) {
        let positions = &mut order[bucket[0]..bucket[1]];
        if !positions.is_sorted_by_key(sequence) {
            positions.sort_unstable_by_key(sequence);
        }
    }
    let entries = order.iter().map(|position| graph.entry(events[*position])).collect();
    let hash_ids: Vec<&EventHashId> =
        events.iter().map(|event_id| graph.event_hash_id(*event_id)).collect();
    (sorted_hash_ids(&hash_ids), entries)
}

/// `hash_ids` sorted, without duplicates. Digests are radix-sorted on their first
/// [`PREFIX_BITS`] bits (three stable passes of 11-bit digits, every digit counted in one read
/// of the keys), then each run sharing that prefix (the same event in two feeds, or a
/// coincidence: among a few thousand digests, two share 33 bits once in several hundred answers) is
/// put in full order and rid of repeats; the rare ids kept as text are merged in by a full
/// sort.
pub(super) fn sorted_hash_ids(hash_ids: &[&EventHashId]) -> Vec<EventHashId> {
    /// Bits of the digest the radix sort orders by, and of one digit.
    const PREFIX_BITS: u32 = 33;
    const DIGIT_BITS: u32 = 11;
    const PASSES: usize = PREFIX_BITS.div_ceil(DIGIT_BITS) as usize;
    const BUCKETS: usize = 1 << DIGIT_BITS;
    let digit = |prefix: u64, pass: usize| {
        (prefix >> (DIGIT_BITS as usize * pass)) as usize & (BUCKETS - 1)
    };
    let mut keys: Vec<(u64, u32)> = Vec::with_capacity(hash_ids.len());
    let mut texts: Vec<EventHashId> = Vec::new();
    for (position, hash_id) in hash_ids.iter().enumerate() {
        match hash_id {
            EventHashId::Sha256(digest) => {
                let leading = digest.first_chunk().copied().map_or(0, u64::from_be_bytes);
                keys.push((leading >> (64 - PREFIX_BITS), position as u32));
            }
            EventHashId::Text(_) => texts.push((*hash_id).clone()),
        }
    }
    let mut starts = vec![[0u32; BUCKETS]; PASSES];
    for (prefix, _) in &keys {
        for (pass, counts) in starts.iter_mut().enumerate() {
            counts[digit(*prefix, pass)] += 1;
        }
    }
    for counts in &mut starts {
        let mut total = 0;
        for count in counts.iter_mut() {
            (*count, total) = (total, total + *count);
        }
    }
    let mut scratch = vec![(0u64, 0u32); keys.len()];
    for (pass, next_slot) in starts.iter_mut().enumerate() {
        for key in &keys {
            let slot = &mut next_slot[digit(key.0, pass)];
            scratch[*slot as usize] = *key;
            *slot += 1;
        }
        std::mem::swap(&mut keys, &mut scratch);
    }
    let mut sorted: Vec<EventHashId> = Vec::with_capacity(keys.len() + texts.len());
    for run in keys.chunk_by_mut(|left, right| left.0 == right.0) {
        if let [(_, position)] = run {
            sorted.push(hash_ids[*position as usize].clone());
            continue;
        }
        run.sort_unstable_by(|left, right| {
            hash_ids[left.1 as usize].cmp(hash_ids[right.1 as usize])
        });
        let first = sorted.len();
        for (_, position) in run.iter() {
            let hash_id = hash_ids[*position as usize];
            if sorted.len() == first || sorted.last() != Some(hash_id) {
                sorted.push(hash_id.clone());
            }
        }
    }
    if !texts.is_empty() {
        sorted.append(&mut texts);
        sorted.sort_unstable();
        sorted.dedup();
    }
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{EntryHash, EntryRef};

    /// Thousands of hash ids, with repeats and shared prefixes of every length, alone and with
    /// a few kept as text, come out exactly as a plain sort and dedup leaves them.
    #[test]
    fn many_relied_hash_ids_sort_like_a_plain_sort() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut ids: Vec<EventHashId> = Vec::new();
        for position in 0..6_000 {
            let mut digest = [0u8; 32];
            for chunk in digest.chunks_mut(8) {
                chunk.copy_from_slice(&next().to_be_bytes());
            }
            if position % 7 == 0 && !ids.is_empty() {
                // Shares a prefix of 0 to 32 bytes with an earlier id (32: the same id).
                if let EventHashId::Sha256(earlier) = &ids[next() as usize % ids.len()] {
                    let shared = next() as usize % 33;
                    digest[..shared].copy_from_slice(&earlier[..shared]);
                }
            }
            ids.push(EventHashId::Sha256(digest));
        }
        let texts = (0..6).map(|position| EventHashId::new(&format!("urn:uuid:{position}")));
        let with_texts: Vec<EventHashId> = ids.iter().cloned().chain(texts).collect();
        // Digests alone take the radix path only; with texts the merge path too.
        for ids in [ids, with_texts] {
            let mut expected = ids.clone();
            expected.sort();
            expected.dedup();
            assert!(expected.len() < ids.len(), "the ids include repeats");
            let borrowed: Vec<&EventHashId> = ids.iter().collect();
            assert_eq!(sorted_hash_ids(&borrowed), expected);
        }
    }

    /// Both ways of listing a set (sorting a few, scanning the bitmap for many) give the
    /// events ascending and each once.
    #[test]
    fn event_sets_list_each_event_once_in_order() {
        let added = [70, 3, 3, 64, 0, 199, 70, 5];
        let mut expected = added.to_vec();
        expected.sort_unstable();
        expected.dedup();
        for event_count in [200, 200 * EventSet::EVENTS_PER_SORTED] {
            let mut set = EventSet::new(event_count);
            for event in added {
                set.insert(event);
            }
            assert_eq!(set.to_sorted_vec(), expected, "with {event_count} events indexed");
        }
    }

    /// Hash ids sort as their text: digests sharing their first bytes, the same id twice (one
    /// event in two feeds) and ids kept as text all land where a plain sort puts them.
    #[test]
    fn relied_hash_ids_sort_like_their_text() {
        let digest = |first: u8, last: u8| {
            let mut bytes = [0x5a; 32];
            bytes[0] = first;
            bytes[31] = last;
            EventHashId::Sha256(bytes)
        };
        let ids = [
            digest(0x80, 2),
            digest(0x80, 1),
            EventHashId::new("urn:uuid:7c5e8b1e-0000-4000-8000-000000000001"),
            digest(0x01, 9),
            digest(0x80, 2),
            digest(0xff, 0),
            EventHashId::new("ni:///sha-256;00?ver=CBV2.0"),
        ];
        let entries: Vec<EventRef> = ids
            .iter()
            .enumerate()
            .map(|(sequence, event_hash_id)| EventRef {
                entry: EntryRef {
                    author: crate::identity::Keypair::from_seed([7; 32]).public_key(),
                    sequence: sequence as u64,
                    entry_hash: EntryHash::ZERO,
                },
                event_hash_id: event_hash_id.clone(),
            })
            .collect();
        let mut expected = ids.to_vec();
        expected.sort_by_key(ToString::to_string);
        expected.dedup();
        let hash_ids: Vec<&EventHashId> =
            entries.iter().map(|entry| &entry.event_hash_id).collect();
        assert_eq!(sorted_hash_ids(&hash_ids), expected);
    }
}
