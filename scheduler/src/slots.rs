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
use std::sync::atomic::{AtomicI32, AtomicU8, Ordering};

use parex_runtime::{Account, AccountId, Pubkey, RuntimeError};

/// Loads an account's committed state (from the store) on first touch.
pub(crate) type Loader<'a> = dyn Fn(&Pubkey) -> Result<Option<Account>, RuntimeError> + Sync + 'a;

const UNLOADED: u8 = 0;
const LOADING: u8 = 1;
const LOADED: u8 = 2;

/// The block's account states, shared by reference among workers.
pub(crate) struct SharedSlots {
    slots: Box<[UnsafeCell<Account>]>,
    /// Per slot: `UNLOADED`, `LOADING` (one thread is reading the store) or `LOADED`.
    /// Slots are filled by the first thread that touches them, so loading from the
    /// store runs on every worker instead of serially on the scheduler.
    state: Box<[AtomicU8]>,
    /// Checked mode: per slot, `n > 0` readers, `-1` one writer, `0` free.
    borrows: Option<Box<[AtomicI32]>>,
}

// SAFETY: `SharedSlots` hands out access to its cells only through `unsafe` methods
// whose contract is the scheduler's lock discipline (no conflicting concurrent access
// to one slot); under that contract, sharing across threads is data-race free, and
// `Account` itself is `Send`.
unsafe impl Sync for SharedSlots {}

impl SharedSlots {
    /// `len` empty, unloaded slots; `checked` turns on overlap detection.
    pub(crate) fn new(len: usize, checked: bool) -> Self {
        let borrows = checked.then(|| (0..len).map(|_| AtomicI32::new(0)).collect());
        Self {
            slots: (0..len).map(|_| UnsafeCell::new(Account::default())).collect(),
            state: (0..len).map(|_| AtomicU8::new(UNLOADED)).collect(),
            borrows,
        }
    }

    /// Makes sure slot `id` holds the committed state of `key`, loading it exactly once
    /// even when several readers touch it at the same time.
    ///
    /// # Safety
    /// The caller holds a read or write lock on `id` (so no writer is active on it).
    unsafe fn ensure_loaded(
        &self,
        id: AccountId,
        key: &Pubkey,
        load: &Loader<'_>,
    ) -> Result<(), RuntimeError> {
        let state = &self.state[id as usize];
        loop {
            match state.compare_exchange(UNLOADED, LOADING, Ordering::Acquire, Ordering::Acquire) {
                Ok(_) => {
                    let result = load(key);
                    return match result {
                        Ok(account) => {
                            // SAFETY:
                            // - Winning the UNLOADED → LOADING exchange makes this thread the
                            //   only one that writes the cell; every other thread touching the
                            //   slot waits below until LOADED, whose Release store publishes it.
                            // - No writer can be active: the caller's lock excludes writers
                            //   other than itself (function contract).
                            unsafe { *self.slots[id as usize].get() = account.unwrap_or_default() };
                            state.store(LOADED, Ordering::Release);
                            Ok(())
                        }
                        Err(e) => {
                            state.store(UNLOADED, Ordering::Release);
                            Err(e)
                        }
                    };
                }
                Err(LOADED) => return Ok(()),
                // Another reader is loading it: wait (a store read, microseconds at most).
                Err(_) => std::hint::spin_loop(),
            }
        }
    }

    /// Number of slots.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
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

    /// Copies the states of every account, in order, into `out`, loading from the store
    /// those the block has not touched yet; `keys[i]` is the key of access entry `i`.
    pub(crate) fn load_all(
        &self,
        keys: &[Pubkey],
        load: &Loader<'_>,
        out: &mut Vec<Account>,
    ) -> Result<(), RuntimeError> {
        out.clear();
        for (&(id, _), key) in self.accounts.iter().zip(keys) {
            // SAFETY: the guard's contract: the caller holds a lock on each of these ids.
            unsafe { self.slots.ensure_loaded(id, key, load)? };
            // SAFETY: as above; the slot is loaded.
            out.push(unsafe { self.slots.load(id) });
        }
        Ok(())
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
        let slots = SharedSlots::new(2, true);
        let acc = [(0, true), (1, false)];
        let keys = [Pubkey::new_unique(0), Pubkey::new_unique(1)];
        let loads = std::sync::atomic::AtomicUsize::new(0);
        let load = |k: &Pubkey| {
            loads.fetch_add(1, Ordering::Relaxed);
            Ok(Some(Account::with_balance(if *k == keys[0] { 1 } else { 2 })))
        };
        // SAFETY: single-threaded test; no other access exists.
        let g = unsafe { AccessGuard::new(&slots, &acc) };
        let mut out = Vec::new();
        g.load_all(&keys, &load, &mut out).unwrap();
        assert_eq!((out[0].balance, out[1].balance), (1, 2));
        g.load_all(&keys, &load, &mut out).unwrap();
        assert_eq!(loads.load(Ordering::Relaxed), 2, "each slot loads once");
        g.store(0, Account::with_balance(9));
        drop(g);
        assert_eq!(slots.into_inner()[0].balance, 9);
    }

    #[test]
    #[should_panic(expected = "overlapping conflicting access to account slot 0")]
    fn checked_mode_detects_write_write_overlap() {
        let slots = SharedSlots::new(1, true);
        let acc = [(0, true)];
        // SAFETY: deliberately violates the lock discipline to prove detection; both
        // guards live on one thread, so no actual data race happens.
        let _a = unsafe { AccessGuard::new(&slots, &acc) };
        let _b = unsafe { AccessGuard::new(&slots, &acc) };
    }

    #[test]
    #[should_panic(expected = "overlapping conflicting access")]
    fn checked_mode_detects_read_write_overlap() {
        let slots = SharedSlots::new(1, true);
        let (r, w) = ([(0, false)], [(0, true)]);
        // SAFETY: as above: detection test on one thread.
        let _a = unsafe { AccessGuard::new(&slots, &r) };
        let _b = unsafe { AccessGuard::new(&slots, &w) };
    }

    #[test]
    fn concurrent_readers_load_a_slot_once() {
        let slots = SharedSlots::new(1, false);
        let key = Pubkey::new_unique(5);
        let loads = std::sync::atomic::AtomicUsize::new(0);
        let load = |_: &Pubkey| {
            loads.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(std::time::Duration::from_millis(2));
            Ok(Some(Account::with_balance(42)))
        };
        let r = [(0, false)];
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    // SAFETY: readers only: no writer touches the slot.
                    let g = unsafe { AccessGuard::new(&slots, &r) };
                    let mut out = Vec::new();
                    g.load_all(&[key], &load, &mut out).unwrap();
                    assert_eq!(out[0].balance, 42);
                });
            }
        });
        assert_eq!(loads.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn checked_mode_allows_shared_readers() {
        let slots = SharedSlots::new(1, true);
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
