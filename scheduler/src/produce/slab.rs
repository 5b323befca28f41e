//! The pool's transactions by [`TxId`]: one slot each in a vector, recycled, so
//! that finding a transaction is an index and a check of its sequence number
//! rather than a hash lookup. An id names its slot, and the sequence number
//! (never reused) tells a live transaction from one that left and whose slot
//! another took.

use std::ops::{Index, IndexMut};

use super::TxId;

/// Values by [`TxId`], at most as many slots as values ever held at once.
pub(super) struct Slab<V> {
    slots: Vec<Option<(u64, V)>>,
    free: Vec<u32>,
    len: usize,
}

impl<V> Default for Slab<V> {
    fn default() -> Self {
        Self { slots: Vec::new(), free: Vec::new(), len: 0 }
    }
}

impl<V> Slab<V> {
    /// Stores `value` as transaction `seq` and returns its id.
    pub(super) fn insert(&mut self, seq: u64, value: V) -> TxId {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some((seq, value));
                slot
            }
            None => {
                self.slots.push(Some((seq, value)));
                u32::try_from(self.slots.len() - 1).expect("the pool's capacity fits 32 bits")
            }
        };
        self.len += 1;
        TxId { seq, slot }
    }

    /// The value of `id`, if it is still here.
    pub(super) fn get(&self, id: TxId) -> Option<&V> {
        match self.slots.get(id.slot as usize) {
            Some(Some((seq, value))) if *seq == id.seq => Some(value),
            _ => None,
        }
    }

    /// The value of `id`, if it is still here.
    pub(super) fn get_mut(&mut self, id: TxId) -> Option<&mut V> {
        match self.slots.get_mut(id.slot as usize) {
            Some(Some((seq, value))) if *seq == id.seq => Some(value),
            _ => None,
        }
    }

    /// Takes `id`'s value out, freeing its slot.
    pub(super) fn remove(&mut self, id: TxId) -> Option<V> {
        let slot = self.slots.get_mut(id.slot as usize)?;
        if slot.as_ref().is_none_or(|(seq, _)| *seq != id.seq) {
            return None;
        }
        self.free.push(id.slot);
        self.len -= 1;
        slot.take().map(|(_, value)| value)
    }

    /// Whether `id` is here.
    pub(super) fn contains(&self, id: TxId) -> bool {
        self.get(id).is_some()
    }

    /// How many values are here.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Every id here with its value, in slot order.
    #[cfg(test)]
    pub(super) fn iter(&self) -> impl Iterator<Item = (TxId, &V)> {
        self.slots.iter().enumerate().filter_map(|(slot, s)| {
            s.as_ref().map(|(seq, value)| (TxId { seq: *seq, slot: slot as u32 }, value))
        })
    }

    /// Every value here, in slot order.
    #[cfg(test)]
    pub(super) fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, value)| value)
    }
}

impl<V> Index<TxId> for Slab<V> {
    type Output = V;

    fn index(&self, id: TxId) -> &V {
        self.get(id).expect("the transaction is in the pool")
    }
}

impl<V> IndexMut<TxId> for Slab<V> {
    fn index_mut(&mut self, id: TxId) -> &mut V {
        self.get_mut(id).expect("the transaction is in the pool")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_taken_again_does_not_answer_to_the_old_id() {
        let mut slab = Slab::default();
        let a = slab.insert(0, "a");
        let b = slab.insert(1, "b");
        assert_eq!(slab.remove(a), Some("a"));
        assert_eq!(slab.remove(a), None, "removed once");
        let c = slab.insert(2, "c");
        assert_eq!(c.slot, a.slot, "the freed slot is reused");
        assert_eq!(slab.get(a), None, "the old id does not name the newcomer");
        assert_eq!((slab.get(b), slab.get(c), slab.len()), (Some(&"b"), Some(&"c"), 2));
        assert_eq!(slab.get(TxId { seq: 2, slot: 7 }), None, "no such slot");
    }
}
