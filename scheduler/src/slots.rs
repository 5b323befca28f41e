//! Account slots shared by the worker threads: the crate's only `unsafe`.
//!
//! During a block, every account the block touches lives in one slot,
//! indexed by its dense [`AccountId`]. Workers read and write slots with no
//! lock of their own: the scheduler's lock table already guarantees that while
//! a transaction runs, no other running transaction writes an account it
//! touches, and no other running transaction touches an account it writes.
//! That guarantee is the whole safety argument, so it is also checked: in
//! checked mode (on in tests, off in benchmarks) every access registers itself
//! in a per-slot counter and an overlapping conflicting access panics with the
//! slot's id — a scheduler bug can never silently corrupt state.
//!
//! The checked and unchecked forms sit side by side: [`SharedSlots::load`] /
//! [`SharedSlots::store`] are the unchecked primitives, and [`AccessGuard`]
//! wraps a transaction's whole access (acquire, load, store, release) checking
//! when the slots were built with `checked = true`.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicI32, Ordering};

use parex_runtime::{Account, AccountId};

/// The block's account states, shared by reference among workers.
pub(crate) struct SharedSlots {
    slots: Box<[UnsafeCell<Account>]>,
    /// Checked mode: per slot, `n > 0` readers, `-1` one writer, `0` free.
    borrows: Option<Box<[AtomicI32]>>,
}

// SAFETY: `SharedSlots` hands out access to its cells only through `unsafe` methods
// whose contract is the scheduler's lock discipline (no conflicting concurrent access
// to one slot); under that contract, sharing across threads is data-race free, and
// `Account` itself is `Send`.
unsafe impl Sync for SharedSlots {}

impl SharedSlots {
    /// Wraps the block's slots; `checked` turns on overlap detection.
    pub(crate) fn new(slots: Vec<Account>, checked: bool) -> Self {
        let borrows = checked.then(|| (0..slots.len()).map(|_| AtomicI32::new(0)).collect());
        Self { slots: slots.into_iter().map(UnsafeCell::new).collect(), borrows }
    }

    /// Unwraps the slots once no worker holds a reference.
    pub(crate) fn into_inner(self) -> Vec<Account> {
        self.slots.into_vec().into_iter().map(UnsafeCell::into_inner).collect()
    }

    /// A clone of slot `id`.
    ///
    /// # Safety
    /// The caller holds a read or write lock on `id` for the duration of the call: no
    /// other thread writes the slot concurrently.
    pub(crate) unsafe fn load(&self, id: AccountId) -> Account {
        // SAFETY:
        // - `id` indexes an existing slot (bounds-checked by the slice index).
        // - No concurrent writer: the caller's lock excludes writers (function contract).
        unsafe { (*self.slots[id as usize].get()).clone() }
    }

    /// Overwrites slot `id`.
    ///
    /// # Safety
    /// The caller holds the write lock on `id`: no other thread reads or writes the
    /// slot concurrently.
    pub(crate) unsafe fn store(&self, id: AccountId, account: Account) {
        // SAFETY:
        // - `id` indexes an existing slot (bounds-checked by the slice index).
        // - Exclusive access: the caller's write lock excludes every other access
        //   (function contract), so creating a `&mut` here aliases nothing.
        unsafe { *self.slots[id as usize].get() = account }
    }

    /// Registers an access to `accounts` (checked mode), panicking on overlap with a
    /// conflicting access by another thread.
    fn acquire(&self, accounts: &[(AccountId, bool)]) {
        let Some(b) = &self.borrows else { return };
        for &(id, writable) in accounts {
            let cell = &b[id as usize];
            let ok = if writable {
                cell.compare_exchange(0, -1, Ordering::Acquire, Ordering::Relaxed).is_ok()
            } else {
                cell.fetch_update(Ordering::Acquire, Ordering::Relaxed, |n| (n >= 0).then_some(n + 1)).is_ok()
            };
            assert!(ok, "checked mode: overlapping conflicting access to account slot {id}");
        }
    }

    fn release(&self, accounts: &[(AccountId, bool)]) {
        let Some(b) = &self.borrows else { return };
        for &(id, writable) in accounts {
            if writable {
                b[id as usize].store(0, Ordering::Release);
            } else {
                b[id as usize].fetch_sub(1, Ordering::Release);
            }
        }
    }

    /// Whether overlap detection is on.
    #[cfg(test)]
    pub(crate) fn is_checked(&self) -> bool {
        self.borrows.is_some()
    }
}

/// One transaction's access to its slots, registered in checked mode for its lifetime.
pub(crate) struct AccessGuard<'s, 'a> {
    slots: &'s SharedSlots,
    accounts: &'a [(AccountId, bool)],
}

impl<'s, 'a> AccessGuard<'s, 'a> {
    /// Starts an access to `accounts` (`(id, writable)` pairs).
    ///
    /// # Safety
    /// The caller holds the scheduler's locks on `accounts` (read for read-only entries,
    /// write for writable ones) until the guard is dropped.
    pub(crate) unsafe fn new(slots: &'s SharedSlots, accounts: &'a [(AccountId, bool)]) -> Self {
        slots.acquire(accounts);
        Self { slots, accounts }
    }

    /// Copies the states of every account, in order, into `out`.
    pub(crate) fn load_all(&self, out: &mut Vec<Account>) {
        out.clear();
        // SAFETY: the guard's contract: the caller holds a lock on each of these ids.
        out.extend(self.accounts.iter().map(|&(id, _)| unsafe { self.slots.load(id) }));
    }

    /// Writes `account` to entry `i` of the access list, which must be writable.
    pub(crate) fn store(&self, i: usize, account: Account) {
        let (id, writable) = self.accounts[i];
        assert!(writable, "store to a read-only entry (account slot {id})");
        // SAFETY: the guard's contract: the caller holds the write lock on `id`
        // (writable entries are write-locked).
        unsafe { self.slots.store(id, account) }
    }
}

impl Drop for AccessGuard<'_, '_> {
    fn drop(&mut self) {
        self.slots.release(self.accounts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_loads_and_stores() {
        let slots = SharedSlots::new(vec![Account::with_balance(1), Account::with_balance(2)], true);
        let acc = [(0, true), (1, false)];
        // SAFETY: single-threaded test; no other access exists.
        let g = unsafe { AccessGuard::new(&slots, &acc) };
        let mut out = Vec::new();
        g.load_all(&mut out);
        assert_eq!(out[1].balance, 2);
        g.store(0, Account::with_balance(9));
        drop(g);
        assert_eq!(slots.into_inner()[0].balance, 9);
    }

    #[test]
    #[should_panic(expected = "overlapping conflicting access to account slot 0")]
    fn checked_mode_detects_write_write_overlap() {
        let slots = SharedSlots::new(vec![Account::default()], true);
        let acc = [(0, true)];
        // SAFETY: deliberately violates the lock discipline to prove detection; both
        // guards live on one thread, so no actual data race happens.
        let _a = unsafe { AccessGuard::new(&slots, &acc) };
        let _b = unsafe { AccessGuard::new(&slots, &acc) };
    }

    #[test]
    #[should_panic(expected = "overlapping conflicting access")]
    fn checked_mode_detects_read_write_overlap() {
        let slots = SharedSlots::new(vec![Account::default()], true);
        let (r, w) = ([(0, false)], [(0, true)]);
        // SAFETY: as above: detection test on one thread.
        let _a = unsafe { AccessGuard::new(&slots, &r) };
        let _b = unsafe { AccessGuard::new(&slots, &w) };
    }

    #[test]
    fn checked_mode_allows_shared_readers() {
        let slots = SharedSlots::new(vec![Account::default()], true);
        let r = [(0, false)];
        // SAFETY: two readers never conflict.
        let a = unsafe { AccessGuard::new(&slots, &r) };
        let b = unsafe { AccessGuard::new(&slots, &r) };
        drop((a, b));
        let w = [(0, true)];
        // SAFETY: both readers released.
        let _c = unsafe { AccessGuard::new(&slots, &w) };
        assert!(slots.is_checked());
    }
}
