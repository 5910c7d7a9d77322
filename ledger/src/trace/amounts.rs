//! Quantities still in distribution, summed while a walk reads one unit's events: produced
//! or received adds to the holder, shipped, consumed, sold or destroyed takes away, and a
//! shipment nobody recorded receiving adds to its consignee.
//!
//! Owns [`Amounts`] (per holder and unit of measure, keyed by one packed integer: compared in
//! an instruction and hashed in a multiply; a unit's first few keys found by a scan, more
//! through a map, so a lot spread over thousands of holders stays linear) and [`HolderId`]
//! (holders by interned ids; strings are made only for what is left). Does not own which
//! events add or take away (the walk's lot pass, see [`super::walk`]).

use rustc_hash::FxHashMap;

use super::ids::Symbol;

/// Amounts below this are treated as nothing left (float sums of shipped parts).
pub(super) const QUANTITY_EPSILON: f64 = 1e-9;

/// One unit's amounts per (holder, unit of measure), summed in the order they are added. Keys
/// are packed into one integer (compared in an instruction, hashed in a multiply); a unit's
/// first [`Amounts::SCANNED`] keys are found by a scan, more through a map, so a lot spread
/// over thousands of holders stays linear.
#[derive(Debug, Default)]
pub(super) struct Amounts {
    /// Packed keys, in the order first met; `totals` runs alongside.
    keys: Vec<u128>,
    /// The totals, with the key they belong to.
    totals: Vec<((HolderId, Option<Symbol>), f64)>,
    /// Where each key's total is, once there are more than [`Amounts::SCANNED`].
    slots: FxHashMap<u128, usize>,
}

impl Amounts {
    /// Keys found by a scan.
    const SCANNED: usize = 8;

    /// `(holder, uom)` as one integer: a tag bit, then three 33-bit fields (a symbol plus one,
    /// zero for none; an author index).
    fn packed((holder, uom): (HolderId, Option<Symbol>)) -> u128 {
        let symbol = |symbol: Option<Symbol>| symbol.map_or(0, |symbol| u128::from(symbol) + 1);
        let (tag, first, second) = match holder {
            HolderId::Organisation(author) => (0, u128::from(author), 0),
            HolderId::Consignee { party, location } => (1, symbol(party), symbol(location)),
        };
        tag << 99 | first << 66 | second << 33 | symbol(uom)
    }

    pub(super) fn add(&mut self, key: (HolderId, Option<Symbol>), amount: f64) {
        let packed = Self::packed(key);
        let slot = if self.keys.len() <= Self::SCANNED {
            self.keys.iter().position(|held| *held == packed)
        } else {
            if self.slots.is_empty() {
                self.slots.extend(self.keys.iter().enumerate().map(|(slot, held)| (*held, slot)));
            }
            self.slots.get(&packed).copied()
        };
        match slot {
            Some(slot) => self.totals[slot].1 += amount,
            None => {
                if !self.slots.is_empty() {
                    self.slots.insert(packed, self.keys.len());
                }
                self.keys.push(packed);
                self.totals.push((key, amount));
            }
        }
    }

    /// The totals, leaving none.
    pub(super) fn drain(&mut self) -> std::vec::Drain<'_, ((HolderId, Option<Symbol>), f64)> {
        self.slots.clear();
        self.keys.clear();
        self.totals.drain(..)
    }
}

/// Who holds an amount, by index ids while the walk adds amounts up (strings are made only
/// for what is left in distribution).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum HolderId {
    /// An organisation on the ledger, by author index.
    Organisation(u32),
    /// The consignee named by a shipment nobody recorded receiving (interned party, location).
    Consignee { party: Option<Symbol>, location: Option<Symbol> },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Amounts add up per key the same way with a few holders (scanned) and with many (mapped),
    /// keys staying in the order first met.
    #[test]
    fn amounts_add_up_per_holder_and_unit() {
        for holders in [3_u32, 8, 9, 40] {
            let mut amounts = Amounts::default();
            let mut expected: Vec<((HolderId, Option<Symbol>), f64)> = Vec::new();
            for round in 0..5 {
                for holder in 0..holders {
                    let key = if holder % 2 == 0 {
                        (HolderId::Organisation(holder), Some(round % 2))
                    } else {
                        (HolderId::Consignee { party: Some(holder), location: None }, None)
                    };
                    let amount = f64::from(holder) + 0.5 - f64::from(round);
                    amounts.add(key, amount);
                    match expected.iter_mut().find(|(held, _)| *held == key) {
                        Some((_, total)) => *total += amount,
                        None => expected.push((key, amount)),
                    }
                }
            }
            let totals: Vec<_> = amounts.drain().collect();
            assert_eq!(totals, expected, "with {holders} holders");
            assert_eq!(amounts.drain().count(), 0);
        }
    }
}
