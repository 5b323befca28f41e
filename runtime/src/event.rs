//! Events: what a program reports in a transaction's receipt (a swap's amounts, a
//! loan's new debt), kept inline so that emitting one allocates nothing.
//!
//! A receipt holds its events in [`Events`] (one event inline) and each event's
//! bytes in [`EventData`] (up to [`EVENT_INLINE`] bytes inline); larger ones spill
//! to the heap and behave the same. The borsh encoding is that of a `Vec<Event>` of
//! `{ program: [u8; 32], data: Vec<u8> }`, so it is part of the block hash exactly
//! as before (docs/DESIGN.md).

use std::io::{Read, Write};
use std::ops::Deref;

use borsh::{BorshDeserialize, BorshSerialize};
use smallvec::SmallVec;

use crate::types::Pubkey;

/// Event bytes kept inline: every event of the sample programs but the largest
/// lending ones fits.
pub const EVENT_INLINE: usize = 96;

/// An event's bytes.
pub type EventData = SmallVec<[u8; EVENT_INLINE]>;

/// An event a program reports in the transaction's receipt (e.g. a swap's amounts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The program that emitted it.
    pub program: Pubkey,
    /// Program-defined bytes (the programs crate decodes them).
    pub data: EventData,
}

impl BorshSerialize for Event {
    fn serialize<W: Write>(&self, writer: &mut W) -> std::io::Result<()> {
        self.program.serialize(writer)?;
        self.data.as_slice().serialize(writer)
    }
}

impl BorshDeserialize for Event {
    fn deserialize_reader<R: Read>(reader: &mut R) -> std::io::Result<Self> {
        let program = Pubkey::deserialize_reader(reader)?;
        let data = Vec::<u8>::deserialize_reader(reader)?;
        Ok(Self { program, data: data.into() })
    }
}

/// The events of one receipt, in emission order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Events(SmallVec<[Event; 1]>);

impl Events {
    /// No event.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn push(&mut self, event: Event) {
        self.0.push(event);
    }
}

impl Deref for Events {
    type Target = [Event];

    fn deref(&self) -> &[Event] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a Events {
    type Item = &'a Event;
    type IntoIter = std::slice::Iter<'a, Event>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<Event> for Events {
    fn from_iter<I: IntoIterator<Item = Event>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl From<Vec<Event>> for Events {
    fn from(v: Vec<Event>) -> Self {
        Self(v.into())
    }
}

impl PartialEq<Vec<Event>> for Events {
    fn eq(&self, other: &Vec<Event>) -> bool {
        self.0.as_slice() == other.as_slice()
    }
}

impl BorshSerialize for Events {
    fn serialize<W: Write>(&self, writer: &mut W) -> std::io::Result<()> {
        self.0.as_slice().serialize(writer)
    }
}

impl BorshDeserialize for Events {
    fn deserialize_reader<R: Read>(reader: &mut R) -> std::io::Result<Self> {
        Ok(Vec::<Event>::deserialize_reader(reader)?.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The encoding the block hash has committed to since the first wave.
    #[derive(BorshSerialize)]
    struct VecEvent {
        program: Pubkey,
        data: Vec<u8>,
    }

    #[test]
    fn encodes_as_a_vec_of_events_inline_or_spilled() {
        for len in [0, 1, EVENT_INLINE, EVENT_INLINE + 1, 1000] {
            let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let events: Events =
                vec![Event { program: Pubkey([7; 32]), data: bytes.clone().into() }; 2].into();
            let reference = vec![
                VecEvent { program: Pubkey([7; 32]), data: bytes.clone() },
                VecEvent { program: Pubkey([7; 32]), data: bytes },
            ];
            let encoded = borsh::to_vec(&events).unwrap();
            assert_eq!(encoded, borsh::to_vec(&reference).unwrap());
            assert_eq!(borsh::from_slice::<Events>(&encoded).unwrap(), events);
        }
    }
}
