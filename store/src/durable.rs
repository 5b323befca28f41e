//! [`DurableStore`]: the in-memory account map, made durable by a block log and
//! checkpoints in one directory (file names and the rules they obey: `layout.rs`).
//!
//! ## Checkpoint sequence (crash-safe at every step)
//! ```text
//! 0 fdatasync the live log (Buffered mode: the previous pair must be complete)
//! 1 write state-T.snap.tmp, fsync
//! 2 write blocks-T.log.tmp (header: tip T, digest, previous B), fsync, rename, fsync dir
//! 3 rename state-T.snap.tmp → state-T.snap                       ← T is now the newest
//! 4 fsync dir; switch appends to blocks-T.log
//! 5 delete pairs older than B (the checkpoint kept beside T), fsync dir
//! ```
//! A crash before the rename in step 3 leaves the old pair live and a log with no block
//! newer than every checkpoint, which the next open deletes. After it, recovery starts
//! at T, whose state includes every block of the old log; B's pair stays as the fallback
//! if T's file is ever damaged. A failure from step 3 on poisons the handle: had it kept
//! appending to the old log, those blocks would be invisible to recovery, which starts
//! from T. A failure before step 3 leaves the old pair live, and the next attempt waits
//! until the log has doubled (a full-state write per commit on a full disk helps nobody).

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hashbrown::HashMap;
use parex_runtime::{Account, AccountStore, BlockCommit, ChainTip, Hash, MemoryStore, Pubkey, RuntimeError};

use crate::codec::{Digest, Leaf, leaf, state_hash_sorted};
use crate::error::StoreError;
use crate::fsio;
use crate::layout::{
    DirLock, DirState, Layout, create_dir, is_store_file, log_path, remove_older_than, snapshot_path,
};
use crate::log::{self, LOG_HEADER, LogHeader, create_log};
use crate::recover::{self, Recovered};
use crate::snapshot::{self, SnapshotInfo, tmp_path};

/// When a commit is durable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `fdatasync` after every block: once `commit` returns, the block survives a
    /// process kill, an OS crash and a power loss (if the drive honours cache flushes).
    #[default]
    Sync,
    /// The block is handed to the OS (`write(2)`) and not flushed: it survives a process
    /// kill or panic (the page cache outlives the process) but an OS crash or power
    /// loss can lose the latest blocks, and may leave a log the store refuses to open
    /// (reported as [`StoreError::Corrupt`]; re-sync from a snapshot).
    Buffered,
}

/// How a [`DurableStore`] behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreOptions {
    /// When a commit is durable.
    pub durability: Durability,
    /// A checkpoint (full state written out, fresh log) is taken after the commit that
    /// makes the log at least this long. Bounds recovery time (the log is replayed on
    /// open) and disk use; each checkpoint costs about one snapshot export. After a
    /// failed checkpoint the next attempt waits until the log has doubled.
    pub checkpoint_bytes: u64,
    /// How long an open waits for the directory lock before reporting
    /// [`StoreError::Locked`]. Not zero by default because a lock outlives its handle
    /// for as long as a child process forked meanwhile (by any thread) has not yet
    /// exec'd: the child shares the open directory until then.
    pub lock_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            durability: Durability::Sync,
            checkpoint_bytes: 128 << 20,
            lock_timeout: Duration::from_secs(2),
        }
    }
}

/// What a handle has done since it was opened, and what its open found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Slot of the checkpoint the open loaded.
    pub recovered_from: u64,
    /// Newer checkpoints the open passed over because their file was damaged (the
    /// blocks were replayed from the kept logs instead: nothing was lost).
    pub skipped_checkpoints: u64,
    /// Blocks replayed from the logs on open.
    pub replayed_blocks: u64,
    /// Bytes of an interrupted append cut off the log on open (kept in a
    /// `blocks-*.log.torn-*` file beside it).
    pub torn_bytes: u64,
    /// Blocks committed through this handle.
    pub commits: u64,
    /// Account changes committed through this handle.
    pub accounts_written: u64,
    /// Log bytes written through this handle.
    pub log_bytes_written: u64,
    /// Checkpoints taken through this handle.
    pub checkpoints: u64,
    /// Checkpoints that failed through this handle.
    pub checkpoint_failures: u64,
    /// Current length of the live log, header included.
    pub log_len: u64,
}

/// A durable [`AccountStore`].
///
/// Reads are served from an in-memory map (the whole state), as fast as
/// [`MemoryStore`]'s; the files are the source of truth on open. A commit appends one
/// checksummed record holding the block's changes, its tip and the state digest after
/// it, fsyncs it ([`Durability`]), and only then applies it in memory, so the block
/// and its tip become durable together or not at all. See the [crate docs](crate).
pub struct DurableStore {
    dir: PathBuf,
    options: StoreOptions,
    /// Every account with its leaf (its share of the digest), kept so a commit hashes
    /// each changed account once, not twice.
    accounts: HashMap<Pubkey, (Account, Leaf)>,
    tip: ChainTip,
    digest: Digest,
    /// The live log, positioned at its end.
    log: File,
    log_path: PathBuf,
    /// The newest checkpoint: the live log continues it.
    base: u64,
    /// The newest checkpoint known to load (`base`, unless the open fell back): the one
    /// the next checkpoint keeps beside itself.
    sound_base: u64,
    /// Log length at which the next automatic checkpoint is attempted.
    next_checkpoint_at: u64,
    /// Record buffer, reused.
    buf: Vec<u8>,
    /// Where each account starts in `buf`, reused.
    offsets: Vec<usize>,
    poisoned: bool,
    checkpoint_error: Option<String>,
    stats: StoreStats,
    /// Held while the handle lives.
    lock: DirLock,
}

impl DurableStore {
    /// Creates a store at `dir` (created if missing) holding the state and tip of
    /// `initial` (a genesis, or a workload's base state). [`StoreError::AlreadyExists`]
    /// if `dir` holds one.
    pub fn create(dir: &Path, initial: &MemoryStore, options: StoreOptions) -> Result<Self, StoreError> {
        create_dir(dir)?;
        let lock = DirLock::acquire(dir, options.lock_timeout)?;
        Self::create_locked(dir, lock, initial, options)
    }

    /// Opens the store at `dir` and continues from its last committed block.
    pub fn open(dir: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        let lock = DirLock::acquire(dir, options.lock_timeout)?;
        Self::open_locked(dir, lock, options)
    }

    /// Opens the store at `dir`, creating it from `genesis()` if there is none. Whether
    /// to create is decided under the directory lock, so concurrent calls on an empty
    /// directory create the store once and open it otherwise.
    pub fn open_or_create(
        dir: &Path,
        options: StoreOptions,
        genesis: impl FnOnce() -> MemoryStore,
    ) -> Result<Self, StoreError> {
        create_dir(dir)?;
        let lock = DirLock::acquire(dir, options.lock_timeout)?;
        if Layout::scan(dir)?.is_empty() {
            return Self::create_locked(dir, lock, &genesis(), options);
        }
        Self::open_locked(dir, lock, options)
    }

    /// Creates a store at `dir` from the snapshot file `snapshot` (a node joining the
    /// chain). The snapshot is verified first (checksum and state hash); the caller
    /// compares [`tip`](AccountStore::tip) with the chain it joins.
    pub fn import_snapshot(dir: &Path, snapshot: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        let mut digest = Digest::default();
        let info = snapshot::read_file(snapshot, |k, a| digest.add(&leaf(&k, &a)))?;
        create_dir(dir)?;
        let lock = DirLock::acquire(dir, options.lock_timeout)?;
        Self::prepare_empty(dir)?;
        let target = snapshot_path(dir, info.tip.slot);
        let tmp = tmp_path(&target);
        let copy = fsio::copy(snapshot, &tmp)?;
        fsio::sync_file(&copy, &tmp)?;
        drop(copy);
        publish_first(dir, &target, LogHeader { base: info.tip, digest, previous: None })?;
        // Recovery reads the copy again, so what is used is what was verified on disk.
        Self::open_locked(dir, lock, options)
    }

    /// Writes the first checkpoint (from `initial`) and its log, then opens the store.
    fn create_locked(
        dir: &Path,
        lock: DirLock,
        initial: &MemoryStore,
        options: StoreOptions,
    ) -> Result<Self, StoreError> {
        Self::prepare_empty(dir)?;
        // An empty account is no account: the state hash leaves it out, and so does the
        // store (commits remove emptied accounts).
        let mut sorted: Vec<(&Pubkey, &Account)> = initial.iter().filter(|(_, a)| !a.is_empty()).collect();
        sorted.sort_unstable_by_key(|(k, _)| **k);
        let mut digest = Digest::default();
        for (k, a) in &sorted {
            digest.add(&leaf(k, a));
        }
        let target = snapshot_path(dir, initial.tip().slot);
        snapshot::write_tmp(&target, initial.tip(), &sorted)?;
        publish_first(dir, &target, LogHeader { base: initial.tip(), digest, previous: None })?;
        Self::open_locked(dir, lock, options)
    }

    /// Checks that `dir` holds no store and deletes the leftovers of an interrupted
    /// creation.
    fn prepare_empty(dir: &Path) -> Result<(), StoreError> {
        let layout = Layout::scan(dir)?;
        if !layout.is_empty() {
            return Err(StoreError::AlreadyExists(dir.into()));
        }
        if layout.remove_leftovers(dir)? {
            fsio::sync_dir(dir)?;
        }
        Ok(())
    }

    /// Recovers the store in `dir` (see `recover.rs`).
    fn open_locked(dir: &Path, lock: DirLock, options: StoreOptions) -> Result<Self, StoreError> {
        let r: Recovered = recover::recover(dir, &Layout::scan(dir)?)?;
        Ok(Self {
            dir: dir.into(),
            options,
            accounts: r.state.accounts,
            tip: r.state.tip,
            digest: r.state.digest,
            log: r.log,
            log_path: r.log_path,
            base: r.base,
            sound_base: r.from,
            next_checkpoint_at: options.checkpoint_bytes,
            buf: Vec::new(),
            offsets: Vec::new(),
            poisoned: false,
            checkpoint_error: None,
            stats: StoreStats {
                recovered_from: r.from,
                skipped_checkpoints: r.skipped_checkpoints,
                replayed_blocks: r.replayed_blocks,
                torn_bytes: r.torn_bytes,
                log_len: r.log_len,
                ..StoreStats::default()
            },
            lock,
        })
    }

    /// Says what `dir` holds, changing nothing: missing, empty, a store (and whether a
    /// handle has it open), or foreign files. For tools that must not delete what they
    /// did not create.
    pub fn inspect(dir: &Path) -> Result<DirState, StoreError> {
        crate::layout::inspect(dir)
    }

    /// Deletes the store: its checkpoints, logs, temporaries and kept torn tails, then the
    /// directory if nothing else is in it (files that are not the store's are left, and
    /// the directory with them). The lock is held until the files are gone, so no other
    /// handle can open a half-deleted store.
    pub fn destroy(self) -> Result<(), StoreError> {
        for name in fsio::list(&self.dir)? {
            if is_store_file(&name) {
                fsio::remove_if_exists(&self.dir.join(name))?;
            }
        }
        fsio::sync_dir(&self.dir)?;
        match fsio::remove_dir(&self.dir) {
            Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => Ok(()),
            other => other.map_err(StoreError::io("remove directory", &self.dir)),
        }?;
        drop(self.lock);
        Ok(())
    }

    /// Commits one block: durable (per [`Durability`]) when it returns `Ok`, and not
    /// applied at all when it returns `Err`. Accounts equal to [`Account::default`] are
    /// deleted. Changes need not be sorted; a key listed twice takes its last value.
    ///
    /// A checkpoint due after the block runs before it returns; if it fails, the block
    /// is still committed (`Ok`), [`checkpoint_error`](Self::checkpoint_error) says why,
    /// and the next attempt waits until the log has doubled.
    pub fn commit_block(&mut self, commit: BlockCommit) -> Result<(), StoreError> {
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        if commit.tip.slot <= self.tip.slot {
            return Err(StoreError::NotNext { tip: self.tip.slot, got: commit.tip.slot });
        }
        let mut changes = commit.accounts;
        normalize(&mut changes);
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let mut offsets = std::mem::take(&mut self.offsets);
        log::encode_changes(&mut buf, &self.tip, &commit.tip, &changes, &mut offsets);
        let leaves = leaves(&buf, &offsets, &changes);
        self.offsets = offsets;
        let n = changes.len() as u64;
        // Apply in memory first, keeping what each change replaced: the digest needs the
        // old leaves, and this looks each key up once. `commit` has `&mut self`, so no
        // reader sees the block before it is durable; if the append fails it is undone.
        let mut digest = self.digest;
        let mut undo = Vec::with_capacity(changes.len());
        for ((k, a), l) in changes.into_iter().zip(leaves) {
            let old = match l {
                Some(l) => {
                    digest.add(&l);
                    self.accounts.insert(k, (a, l))
                }
                None => self.accounts.remove(&k),
            };
            if let Some((_, old_leaf)) = &old {
                digest.sub(old_leaf);
            }
            undo.push((k, old));
        }
        log::finish_record(&mut buf, 0, &digest);
        let appended = self.append(&buf);
        self.buf = buf;
        if let Err(e) = appended {
            for (k, old) in undo.into_iter().rev() {
                match old {
                    Some(v) => self.accounts.insert(k, v),
                    None => self.accounts.remove(&k),
                };
            }
            return Err(e);
        }
        drop(undo);
        self.stats.commits += 1;
        self.stats.accounts_written += n;
        self.digest = digest;
        self.tip = commit.tip;
        if self.stats.log_len >= self.next_checkpoint_at {
            // The block is durable in the log whatever happens here; `checkpoint` records
            // a failure and backs off (or poisons the handle, see the module docs).
            let _ = self.checkpoint();
        }
        Ok(())
    }

    /// Appends `record` to the log and makes it durable. A failed write is cut off
    /// again; a failed fsync (or a failed cut) poisons the handle.
    fn append(&mut self, record: &[u8]) -> Result<(), StoreError> {
        let at = self.stats.log_len;
        if let Err(e) = fsio::write_all(&mut self.log, &self.log_path, record) {
            let undone = fsio::set_len(&self.log, &self.log_path, at).and_then(|()| {
                self.log.seek(SeekFrom::Start(at)).map_err(StoreError::io("seek", &self.log_path))
            });
            self.poisoned |= undone.is_err();
            return Err(e);
        }
        if self.options.durability == Durability::Sync
            && let Err(e) = fsio::sync_data(&self.log, &self.log_path)
        {
            self.poisoned = true;
            return Err(e);
        }
        self.stats.log_len += record.len() as u64;
        self.stats.log_bytes_written += record.len() as u64;
        Ok(())
    }

    /// Writes the full state as the new recovery base and starts a fresh log (module
    /// docs). Nothing to do if no block was committed since the last checkpoint. A
    /// success clears [`checkpoint_error`](Self::checkpoint_error); a failure sets it.
    pub fn checkpoint(&mut self) -> Result<(), StoreError> {
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        if self.tip.slot == self.base {
            return Ok(());
        }
        let result = self.write_checkpoint();
        match &result {
            Ok(()) => {
                self.checkpoint_error = None;
                self.next_checkpoint_at = self.options.checkpoint_bytes;
            }
            Err(e) => {
                self.checkpoint_error = Some(e.to_string());
                self.stats.checkpoint_failures += 1;
                let len = self.stats.log_len;
                self.next_checkpoint_at =
                    len.saturating_mul(2).max(len.saturating_add(self.options.checkpoint_bytes));
            }
        }
        result
    }

    /// Steps 0–5 of the module docs.
    fn write_checkpoint(&mut self) -> Result<(), StoreError> {
        let slot = self.tip.slot;
        if self.options.durability != Durability::Sync {
            fsio::sync_data(&self.log, &self.log_path)?;
        }
        let snap = snapshot_path(&self.dir, slot);
        let new_log = log_path(&self.dir, slot);
        let header = LogHeader { base: self.tip, digest: self.digest, previous: Some(self.sound_base) };
        let sorted = self.sorted();
        let prepared =
            snapshot::write_tmp(&snap, self.tip, &sorted).and_then(|_| create_log(&new_log, &header));
        drop(sorted);
        let log = prepared.inspect_err(|_| {
            // Best effort: what is left is deleted by the next open.
            for path in [tmp_path(&snap), tmp_path(&new_log), new_log.clone()] {
                let _ = fsio::remove_if_exists(&path);
            }
        })?;
        // From the rename on, recovery may start at `slot`: a failure must stop commits.
        self.poisoned = true;
        fsio::rename(&tmp_path(&snap), &snap)?;
        fsio::sync_dir(&self.dir)?;
        self.log = log;
        self.log_path = new_log;
        self.base = slot;
        self.stats.log_len = LOG_HEADER as u64;
        self.stats.checkpoints += 1;
        self.poisoned = false;
        let kept = std::mem::replace(&mut self.sound_base, slot);
        if remove_older_than(&self.dir, &Layout::scan(&self.dir)?, kept)? {
            fsio::sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// Writes the full state and tip as a snapshot at `path` (for a joining node; see
    /// [`DurableStore::import_snapshot`] and [`crate::Snapshot`]).
    pub fn export_snapshot(&self, path: &Path) -> Result<SnapshotInfo, StoreError> {
        snapshot::write_file(path, self.tip, &self.sorted())
    }

    /// The canonical state hash, equal to [`MemoryStore::state_hash`] of the same
    /// accounts. O(accounts): it sorts and hashes the whole state.
    pub fn state_hash(&self) -> Hash {
        let sorted = self.sorted();
        state_hash_sorted(sorted.len(), sorted.into_iter())
    }

    /// A copy of the state as an in-memory store, tip included.
    pub fn to_memory(&self) -> MemoryStore {
        let mut mem = MemoryStore::new();
        for (k, (a, _)) in &self.accounts {
            mem.insert(*k, a.clone());
        }
        mem.set_tip(self.tip);
        mem
    }

    /// Reads an account without cloning.
    pub fn account(&self, key: &Pubkey) -> Option<&Account> {
        self.accounts.get(key).map(|(a, _)| a)
    }

    /// Iterates over all accounts (unordered).
    pub fn iter(&self) -> impl Iterator<Item = (&Pubkey, &Account)> {
        self.accounts.iter().map(|(k, (a, _))| (k, a))
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether the state holds no account.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options it was opened with.
    pub fn options(&self) -> StoreOptions {
        self.options
    }

    /// Counters since open, and what the open recovered.
    pub fn stats(&self) -> StoreStats {
        self.stats
    }

    /// Why the last checkpoint failed, if no checkpoint succeeded since (the blocks
    /// stayed durable in the log; a failure after the new checkpoint was in place also
    /// poisons the handle).
    pub fn checkpoint_error(&self) -> Option<&str> {
        self.checkpoint_error.as_deref()
    }

    /// Every account, sorted by key.
    fn sorted(&self) -> Vec<(&Pubkey, &Account)> {
        let mut sorted: Vec<(&Pubkey, &Account)> = self.iter().collect();
        sorted.sort_unstable_by_key(|(k, _)| **k);
        sorted
    }
}

impl std::fmt::Debug for DurableStore {
    /// A summary: the accounts themselves would flood any log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableStore")
            .field("dir", &self.dir)
            .field("tip", &self.tip)
            .field("accounts", &self.accounts.len())
            .field("checkpoint", &self.base)
            .field("sound_checkpoint", &self.sound_base)
            .field("poisoned", &self.poisoned)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl AccountStore for DurableStore {
    fn get(&self, key: &Pubkey) -> Result<Option<Account>, RuntimeError> {
        Ok(self.accounts.get(key).map(|(a, _)| a.clone()))
    }

    fn commit(&mut self, commit: BlockCommit) -> Result<(), RuntimeError> {
        Ok(self.commit_block(commit)?)
    }

    fn tip(&self) -> ChainTip {
        self.tip
    }
}

/// Makes `changes` strictly increasing by key, keeping the last value of a repeated key
/// (what applying them in order would leave). The runtime's commits already are.
fn normalize(changes: &mut Vec<(Pubkey, Account)>) {
    if changes.windows(2).all(|w| w[0].0 < w[1].0) {
        return;
    }
    // A stable sort keeps repeats in commit order; keep the last of each run.
    changes.sort_by_key(|(k, _)| *k);
    let mut out: Vec<(Pubkey, Account)> = Vec::with_capacity(changes.len());
    for (k, a) in changes.drain(..) {
        match out.last_mut() {
            Some(last) if last.0 == k => last.1 = a,
            _ => out.push((k, a)),
        }
    }
    *changes = out;
}

/// The leaf of each change (`None` for a deletion), hashed from its encoding in the
/// record (`record[offsets[i]..offsets[i + 1]]`). Very large blocks are hashed on every
/// core: the executor's threads are idle while the block commits.
fn leaves(record: &[u8], offsets: &[usize], changes: &[(Pubkey, Account)]) -> Vec<Option<Leaf>> {
    let one = |i: usize| {
        (!changes[i].1.is_empty()).then(|| *blake3::hash(&record[offsets[i]..offsets[i + 1]]).as_bytes())
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads == 1 || changes.len() < PARALLEL_LEAVES {
        return (0..changes.len()).map(one).collect();
    }
    let per = changes.len().div_ceil(threads);
    std::thread::scope(|s| {
        let parts: Vec<_> = (0..changes.len())
            .step_by(per)
            .map(|from| s.spawn(move || (from..(from + per).min(changes.len())).map(one).collect::<Vec<_>>()))
            .collect();
        parts.into_iter().flat_map(|h| h.join().expect("hashing does not panic")).collect()
    })
}

/// Changes per block from which leaves are hashed on several threads: below it, thread
/// start-up costs more than it saves.
const PARALLEL_LEAVES: usize = 8_192;

/// Puts a store's first checkpoint in place: its log first, then the rename of
/// `target`'s temporary file (the commit point), then the directory fsync.
fn publish_first(dir: &Path, target: &Path, header: LogHeader) -> Result<(), StoreError> {
    let log = log_path(dir, header.base.slot);
    create_log(&log, &header).inspect_err(|_| {
        let _ = fsio::remove_if_exists(&tmp_path(target));
    })?;
    fsio::rename(&tmp_path(target), target)?;
    fsio::sync_dir(dir)
}
