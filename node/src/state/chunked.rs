//! An append-only vector stored in fixed-size chunks, for the node's views that grow with the
//! ledger (the query catalogue holds one row per event ever indexed).
//!
//! Owns: pushing without ever moving what is already stored, reading by position and iterating
//! from a position. A `Vec` grown by doubling copies everything it holds at each growth and
//! touches fresh pages for the copy; with millions of rows that copying takes cores from the
//! catch-up that pushes them. Does not own removal or insertion in the middle: the views only
//! append.

/// Elements per chunk: large enough that the list of chunks stays short and a scan stays
/// sequential, small enough that a new chunk costs little.
const CHUNK_LEN: usize = 4_096;

/// An append-only sequence in chunks of [`CHUNK_LEN`] elements; every chunk but the last is
/// full, so position `index` lies in chunk `index / CHUNK_LEN`.
#[derive(Debug, Clone)]
pub struct ChunkedVec<Element> {
    /// The chunks, each allocated at its full capacity once and never grown.
    chunks: Vec<Vec<Element>>,
    /// Elements stored in all chunks.
    len: usize,
}

impl<Element> Default for ChunkedVec<Element> {
    fn default() -> Self {
        Self { chunks: Vec::new(), len: 0 }
    }
}

impl<Element> ChunkedVec<Element> {
    /// Appends `element` at position [`ChunkedVec::len`].
    pub fn push(&mut self, element: Element) {
        let last_is_full = self.chunks.last().is_none_or(|chunk| chunk.len() == CHUNK_LEN);
        if last_is_full {
            self.chunks.push(Vec::with_capacity(CHUNK_LEN));
        }
        if let Some(last_chunk) = self.chunks.last_mut() {
            last_chunk.push(element);
            self.len += 1;
        }
    }

    /// Number of elements stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The element at `index`, if stored.
    pub fn get(&self, index: usize) -> Option<&Element> {
        self.chunks.get(index / CHUNK_LEN)?.get(index % CHUNK_LEN)
    }

    /// The elements from position `start` on, in order (none when `start` is past the end).
    pub fn iter_from(&self, start: usize) -> impl Iterator<Item = &Element> {
        let skipped_in_first_chunk = start % CHUNK_LEN;
        let chunks = self.chunks.get(start / CHUNK_LEN..).unwrap_or_default();
        chunks.iter().enumerate().flat_map(move |(chunk_number, chunk)| {
            let skipped = if chunk_number == 0 { skipped_in_first_chunk } else { 0 };
            chunk.get(skipped..).unwrap_or_default().iter()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(count: usize) -> ChunkedVec<usize> {
        let mut chunked = ChunkedVec::default();
        for value in 0..count {
            chunked.push(value);
        }
        chunked
    }

    #[test]
    fn positions_and_iteration_match_a_plain_vector_across_chunk_boundaries() {
        for count in [0, 1, CHUNK_LEN - 1, CHUNK_LEN, CHUNK_LEN + 1, 3 * CHUNK_LEN + 17] {
            let chunked = filled(count);
            let plain: Vec<usize> = (0..count).collect();
            assert_eq!(chunked.len(), count);
            for index in [0, 1, CHUNK_LEN - 1, CHUNK_LEN, CHUNK_LEN + 1, count.saturating_sub(1)] {
                assert_eq!(chunked.get(index), plain.get(index), "get({index}) of {count}");
            }
            assert_eq!(chunked.get(count), None);
            for start in [0, 1, CHUNK_LEN - 1, CHUNK_LEN, CHUNK_LEN + 5, count, count + 1] {
                let from_chunked: Vec<usize> = chunked.iter_from(start).copied().collect();
                let from_plain: Vec<usize> = plain.iter().skip(start).copied().collect();
                assert_eq!(from_chunked, from_plain, "iter_from({start}) of {count}");
            }
        }
    }

    #[test]
    fn pushing_never_moves_stored_elements() {
        let mut chunked = ChunkedVec::default();
        chunked.push(String::from("first"));
        let first_address = chunked.get(0).map(|text| std::ptr::from_ref(text) as usize);
        for number in 1..(2 * CHUNK_LEN + 3) {
            chunked.push(number.to_string());
        }
        let address_after = chunked.get(0).map(|text| std::ptr::from_ref(text) as usize);
        assert_eq!(first_address, address_after);
        let expected = (2 * CHUNK_LEN).to_string();
        assert_eq!(chunked.get(2 * CHUNK_LEN), Some(&expected));
    }
}
