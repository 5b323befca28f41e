//! A reader that turns fuzz bytes into choices. Reads past the end yield zeros, so
//! every input, however short, is a complete scenario (as `arbitrary` does).

pub(crate) struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub(crate) fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        head
    }

    fn le(&mut self, n: usize) -> u128 {
        self.bytes(n).iter().rev().fold(0u128, |acc, &b| (acc << 8) | u128::from(b))
    }

    pub(crate) fn u8(&mut self) -> u8 {
        self.le(1) as u8
    }

    pub(crate) fn u16(&mut self) -> u16 {
        self.le(2) as u16
    }

    pub(crate) fn u32(&mut self) -> u32 {
        self.le(4) as u32
    }

    pub(crate) fn u64(&mut self) -> u64 {
        self.le(8) as u64
    }

    pub(crate) fn u128(&mut self) -> u128 {
        self.le(16)
    }

    pub(crate) fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// A value in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        if n <= 256 { self.u8() as usize % n } else { self.u32() as usize % n }
    }

    /// An amount biased towards the edges where arithmetic breaks.
    pub(crate) fn amount(&mut self) -> u64 {
        match self.u8() % 10 {
            0 => 0,
            1 => 1,
            2 => u64::MAX,
            3 => u64::MAX - u64::from(self.u8()),
            4 => 1u64 << (self.u8() % 64),
            5 => u64::from(self.u16()),
            6 => u64::from(self.u32()),
            _ => self.u64(),
        }
    }

    /// A `u128` biased towards the edges (prices, rates).
    pub(crate) fn wide(&mut self) -> u128 {
        match self.u8() % 6 {
            0 => 0,
            1 => u128::MAX,
            2 => 1u128 << (self.u8() % 128),
            3 => u128::from(self.u64()),
            _ => self.u128(),
        }
    }
}
