//! The plain lock table; the design is on [`LockTable`].

use std::num::NonZeroU32;

use crate::access::{AccountAccess, AccountId, accounts_are_unique};
use crate::error::SchedulerError;

/// Lock state of one account.
///
/// Transitions (`-` marks a misuse that [`LockTable::unlock`] reports as an error):
///
/// ```text
///   state     read lock    write lock   read release         write release
///   Free      Read(1)      Write        -                    -
///   Read(n)   Read(n+1)    refused      Read(n-1), or Free   -
///   Write     refused      refused      -                    Free
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockEntry {
    /// Nobody holds the account.
    #[default]
    Free,
    /// Held by this many readers (never zero: the last release makes it `Free`).
    Read(NonZeroU32),
    /// Held by exactly one writer.
    Write,
    /// Held by this many creditors (never zero): transactions that only add to the
    /// account, which commute, so they share it with one another and with nobody else.
    Credit(NonZeroU32),
}

/// How a transaction uses an account: read (shared with readers), write (exclusive),
/// or credit (shared with creditors).
///
/// The discriminants are the replay core's kind bits (see `LockWord` in `logic.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum LockUse {
    /// Reads it.
    Read = 1,
    /// Writes it.
    Write = 3,
    /// Only adds to it.
    Credit = 2,
}

impl LockUse {
    /// The use of a writable (`true`) or read-only account.
    pub const fn of(writable: bool) -> Self {
        if writable { Self::Write } else { Self::Read }
    }
}

// Lock entries are scanned by the million per block: keep them one word.
const _: () = assert!(size_of::<LockEntry>() <= 8);

impl LockEntry {
    /// Whether nobody holds the account.
    pub const fn is_free(self) -> bool {
        matches!(self, Self::Free)
    }

    /// Whether a lock of the given kind could be added now: a writer needs a
    /// free account, a reader needs no writer.
    pub const fn can_grant(self, writable: bool) -> bool {
        self.can_grant_use(LockUse::of(writable))
    }

    /// Whether a holder with use `u` could be added now: a writer needs a free
    /// account; readers share with readers, creditors with creditors.
    pub const fn can_grant_use(self, u: LockUse) -> bool {
        match (self, u) {
            (Self::Free, _) => true,
            // A saturated count refuses further holders instead of wrapping.
            (Self::Read(n), LockUse::Read) | (Self::Credit(n), LockUse::Credit) => n.get() < u32::MAX,
            _ => false,
        }
    }

    /// Adds one holder. Precondition: `self.can_grant(writable)`.
    pub(crate) fn grant(&mut self, writable: bool) {
        self.grant_use(LockUse::of(writable));
    }

    /// Adds one holder with use `u`. Precondition: `self.can_grant_use(u)`.
    pub(crate) fn grant_use(&mut self, u: LockUse) {
        debug_assert!(self.can_grant_use(u), "grant of {u:?} on {self:?}");
        *self = match (*self, u) {
            (_, LockUse::Write) => Self::Write,
            (Self::Read(n), LockUse::Read) => Self::Read(n.saturating_add(1)),
            (Self::Credit(n), LockUse::Credit) => Self::Credit(n.saturating_add(1)),
            (_, LockUse::Read) => Self::Read(NonZeroU32::MIN),
            (_, LockUse::Credit) => Self::Credit(NonZeroU32::MIN),
        };
    }

    /// Whether a holder of the given kind exists, i.e. `release` would succeed.
    pub const fn is_held_as(self, writable: bool) -> bool {
        self.is_held_use(LockUse::of(writable))
    }

    /// Whether a holder with use `u` exists.
    pub const fn is_held_use(self, u: LockUse) -> bool {
        matches!(
            (self, u),
            (Self::Write, LockUse::Write)
                | (Self::Read(_), LockUse::Read)
                | (Self::Credit(_), LockUse::Credit)
        )
    }

    /// Removes one holder of the given kind; returns `false` (and changes
    /// nothing) when no such holder exists.
    pub(crate) fn release(&mut self, writable: bool) -> bool {
        self.release_use(LockUse::of(writable))
    }

    /// Removes one holder with use `u`; `false` (and nothing changes) if none.
    pub(crate) fn release_use(&mut self, u: LockUse) -> bool {
        match (*self, u) {
            (Self::Write, LockUse::Write) => *self = Self::Free,
            (Self::Read(n), LockUse::Read) => {
                *self = NonZeroU32::new(n.get() - 1).map_or(Self::Free, Self::Read)
            }
            (Self::Credit(n), LockUse::Credit) => {
                *self = NonZeroU32::new(n.get() - 1).map_or(Self::Free, Self::Credit)
            }
            _ => return false,
        }
        true
    }
}

/// All-or-nothing lock table: one [`LockEntry`] per account, in a dense vector
/// indexed by [`AccountId`] that grows on demand.
///
/// Read-shared / write-exclusive account locks over dense account ids.
///
/// [`LockTable`] is the plain, all-or-nothing lock table: a transaction either
/// takes every lock it declares or none, and a refusal is final (the caller
/// retries later). It suits simple drivers and checks. The replay state machine
/// ([`ReplayScheduler`](crate::ReplayScheduler)) keeps the same state per account too
/// (packed in one word), but pairs it with a FIFO of waiting transactions so that
/// nothing is ever refused or retried.
///
/// Cost: `try_lock` and `unlock` make two passes over the transaction's
/// accounts (check, then apply), so a refused or invalid request changes
/// nothing; each step is one array access, no hashing, no allocation once the
/// table has grown to the largest account id.
#[derive(Debug, Clone, Default)]
pub struct LockTable {
    /// Entry per account id; ids past the end are implicitly `Free`.
    entries: Vec<LockEntry>,
}

impl LockTable {
    /// An empty table; it grows to the largest account id it is asked to lock.
    pub const fn new() -> Self {
        Self { entries: Vec::new() }
    }

    /// A table pre-sized for account ids `0..accounts`, so locking never allocates.
    pub fn with_accounts(accounts: usize) -> Self {
        Self { entries: vec![LockEntry::Free; accounts] }
    }

    /// Current state of one account (`Free` for ids never locked).
    pub fn entry(&self, account: AccountId) -> LockEntry {
        self.entries.get(account as usize).copied().unwrap_or_default()
    }

    /// Takes every lock in `accounts` (read for `false`, write for `true`) and
    /// returns `true`, or takes none and returns `false` if any is unavailable.
    ///
    /// Each account must appear at most once (checked in debug builds).
    #[must_use = "the locks are only held if this returns true"]
    pub fn try_lock(&mut self, accounts: &[AccountAccess]) -> bool {
        debug_assert!(accounts_are_unique(accounts), "duplicate account in {accounts:?}");
        let mut max_id = None;
        for &(account, writable) in accounts {
            if !self.entry(account).can_grant(writable) {
                return false;
            }
            max_id = max_id.max(Some(account));
        }
        if let Some(max_id) = max_id {
            self.grow_to(max_id);
        }
        for &(account, writable) in accounts {
            self.entries[account as usize].grant(writable);
        }
        true
    }

    /// Releases every lock in `accounts`, which must be exactly the locks a
    /// successful [`try_lock`](Self::try_lock) took.
    ///
    /// # Errors
    /// [`SchedulerError::NotLocked`] for the first account not held in the
    /// stated mode; nothing is released in that case.
    pub fn unlock(&mut self, accounts: &[AccountAccess]) -> Result<(), SchedulerError> {
        debug_assert!(accounts_are_unique(accounts), "duplicate account in {accounts:?}");
        if let Some(&(account, writable)) =
            accounts.iter().find(|&&(account, writable)| !self.entry(account).is_held_as(writable))
        {
            return Err(SchedulerError::NotLocked { account, writable });
        }
        for &(account, writable) in accounts {
            let released = self.entries[account as usize].release(writable);
            debug_assert!(released, "checked above");
        }
        Ok(())
    }

    /// Whether no account is locked. O(accounts); for assertions and tests.
    pub fn is_all_free(&self) -> bool {
        self.entries.iter().all(|entry| entry.is_free())
    }

    /// Frees every lock, keeping the allocation for the next block.
    pub fn clear(&mut self) {
        self.entries.fill(LockEntry::Free);
    }

    /// Makes `account` a valid index, filling new ids with `Free`.
    fn grow_to(&mut self, account: AccountId) {
        let needed = account as usize + 1;
        if needed > self.entries.len() {
            self.entries.resize(needed, LockEntry::Free);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    const fn read(count: u32) -> LockEntry {
        LockEntry::Read(NonZeroU32::new(count).unwrap())
    }

    #[test]
    fn readers_share_writers_exclude() {
        let mut table = LockTable::new();
        assert!(table.try_lock(&[(3, false)]));
        assert!(table.try_lock(&[(3, false)]), "second reader shares");
        assert_eq!(table.entry(3), read(2));
        assert!(!table.try_lock(&[(3, true)]), "writer excluded by readers");
        table.unlock(&[(3, false)]).unwrap();
        table.unlock(&[(3, false)]).unwrap();
        assert!(table.entry(3).is_free());
        assert!(table.try_lock(&[(3, true)]));
        assert!(!table.try_lock(&[(3, false)]), "reader excluded by writer");
        assert!(!table.try_lock(&[(3, true)]), "writer excluded by writer");
        table.unlock(&[(3, true)]).unwrap();
        assert!(table.is_all_free());
    }

    #[test]
    fn try_lock_is_all_or_nothing() {
        let mut table = LockTable::new();
        assert!(table.try_lock(&[(1, true)]));
        assert!(!table.try_lock(&[(0, true), (2, false), (1, false)]), "account 1 is write-locked");
        assert!(table.entry(0).is_free(), "nothing taken on refusal");
        assert!(table.entry(2).is_free(), "nothing taken on refusal");
        assert!(table.try_lock(&[(0, true), (2, false)]));
    }

    #[test]
    fn grows_on_demand_and_unknown_ids_are_free() {
        let mut table = LockTable::with_accounts(2);
        assert_eq!(table.entry(1_000), LockEntry::Free);
        assert!(table.try_lock(&[(1_000, true), (5, false)]));
        assert_eq!(table.entry(1_000), LockEntry::Write);
        assert_eq!(table.entry(5), read(1));
        assert!(table.try_lock(&[]), "an empty request always succeeds");
    }

    #[test]
    fn unlock_of_unheld_lock_is_an_error_and_changes_nothing() {
        let mut table = LockTable::new();
        assert!(table.try_lock(&[(0, false), (1, true)]));
        let wrong_mode = table.unlock(&[(1, true), (0, true)]);
        assert_eq!(wrong_mode, Err(SchedulerError::NotLocked { account: 0, writable: true }));
        assert_eq!(table.entry(1), LockEntry::Write, "nothing released on error");
        assert_eq!(
            table.unlock(&[(9, false)]),
            Err(SchedulerError::NotLocked { account: 9, writable: false })
        );
        table.unlock(&[(0, false), (1, true)]).unwrap();
        assert!(table.is_all_free());
    }

    #[test]
    fn clear_frees_everything() {
        let mut table = LockTable::new();
        assert!(table.try_lock(&[(0, true), (4, false)]));
        table.clear();
        assert!(table.is_all_free());
        assert!(table.try_lock(&[(0, true), (4, true)]));
    }

    #[test]
    fn saturated_reader_count_refuses_instead_of_wrapping() {
        let mut entry = LockEntry::Read(NonZeroU32::MAX);
        assert!(!entry.can_grant(false));
        assert!(entry.release(false));
        assert!(entry.can_grant(false));
    }

    proptest! {
        /// Random lock/unlock traffic against a model that keeps a reader
        /// count or writer flag per account in a map.
        #[test]
        fn matches_a_map_model(
            requests in prop::collection::vec(
                prop::collection::btree_map(0u32..12, any::<bool>(), 0..5), 1..60),
            unlock_picks in prop::collection::vec(any::<prop::sample::Index>(), 60),
        ) {
            let mut table = LockTable::new();
            let mut model: HashMap<AccountId, (u32, bool)> = HashMap::new();
            let mut held: Vec<Vec<AccountAccess>> = Vec::new();
            for (request, pick) in requests.iter().zip(&unlock_picks) {
                let request: Vec<AccountAccess> = request.iter().map(|(&id, &w)| (id, w)).collect();
                let model_ok = request.iter().all(|&(id, w)| match model.get(&id) {
                    None | Some((0, false)) => true,
                    Some(&(readers, writer)) => !w && !writer && readers > 0,
                });
                prop_assert_eq!(table.try_lock(&request), model_ok);
                if model_ok {
                    for &(id, w) in &request {
                        let slot = model.entry(id).or_default();
                        if w { slot.1 = true } else { slot.0 += 1 }
                    }
                    held.push(request);
                }
                // Release one random holder half of the time.
                if !held.is_empty() && pick.index(2) == 0 {
                    let released = held.swap_remove(pick.index(held.len()));
                    table.unlock(&released).unwrap();
                    for &(id, w) in &released {
                        let slot = model.get_mut(&id).unwrap();
                        if w { slot.1 = false } else { slot.0 -= 1 }
                    }
                }
                for (&id, &(readers, writer)) in &model {
                    let expected = match (readers, writer) {
                        (0, false) => LockEntry::Free,
                        (0, true) => LockEntry::Write,
                        (n, false) => read(n),
                        (_, true) => unreachable!("model never mixes readers and a writer"),
                    };
                    prop_assert_eq!(table.entry(id), expected);
                }
            }
            for request in held.drain(..) {
                table.unlock(&request).unwrap();
            }
            prop_assert!(table.is_all_free());
        }
    }
}
