//! [`DurableStore`]: the in-memory account map, made durable by a block log and
//! checkpoints in one directory.
//!
//! ```text
//! DIR/LOCK                         flock'd while a handle is open (one writer)
//! DIR/state-<slot>.snap            checkpoint: the full state at <slot> (snapshot format)
//! DIR/blocks-<slot>.log            every block committed after <slot>, in order (log.rs)
//! ```
//!
//! Slots in names are zero-padded to 20 digits. Exactly one checkpoint/log pair is live:
//! the newest checkpoint and the log named after it. Older pairs and `*.tmp` files are
//! leftovers of an interrupted checkpoint and are deleted on open.
//!
//! ## Checkpoint sequence (crash-safe at every step)
//! ```text
//! 1 write state-S.snap.tmp, fsync, rename → state-S.snap, fsync dir   ← S is now the recovery base
//! 2 create blocks-S.log, fsync dir; switch appends to it
//! 3 delete the previous state-*.snap and blocks-*.log, fsync dir
//! ```
//! A crash before the rename in step 1 leaves the old pair live (the `.tmp` is deleted on
//! open); a crash after it recovers from S, whose state includes every block of the
//! old log. A failure after the rename poisons the handle: had it kept appending to the
//! old log, those blocks would be invisible to recovery, which starts from S.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hashbrown::HashMap;
use parex_runtime::{Account, AccountStore, BlockCommit, ChainTip, Hash, MemoryStore, Pubkey, RuntimeError};

use crate::codec::{Digest, Leaf, leaf, state_hash_sorted};

use crate::error::StoreError;
use crate::fsio::{self, Hooked, remove_if_exists, sync_dir};
use crate::log::{self, Next, next_record};
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
    /// open) and disk use; each checkpoint costs about one snapshot export.
    pub checkpoint_bytes: u64,
    /// How long an open waits for the directory lock before reporting
    /// [`StoreError::Locked`]. Not zero by default because a lock outlives its handle
    /// for as long as a child process forked meanwhile (by any thread) has not yet
    /// exec'd: the child shares the open lock file until then.
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
    /// Slot of the checkpoint the open started from.
    pub recovered_from: u64,
    /// Blocks replayed from the log on open.
    pub replayed_blocks: u64,
    /// Bytes of an interrupted append cut off the log on open.
    pub torn_bytes: u64,
    /// Blocks committed through this handle.
    pub commits: u64,
    /// Account changes committed through this handle.
    pub accounts_written: u64,
    /// Log bytes written through this handle.
    pub log_bytes_written: u64,
    /// Checkpoints taken through this handle.
    pub checkpoints: u64,
    /// Current length of the live log.
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
    /// Slot of the live checkpoint.
    base: u64,
    /// Record buffer, reused.
    buf: Vec<u8>,
    /// Where each account starts in `buf`, reused.
    offsets: Vec<usize>,
    poisoned: bool,
    checkpoint_error: Option<String>,
    stats: StoreStats,
    /// Holds the directory lock while open.
    _lock: File,
}

impl DurableStore {
    /// Creates a store at `dir` (created if missing) holding the state and tip of
    /// `initial` (a genesis, or a workload's base state).
    pub fn create(dir: &Path, initial: &MemoryStore, options: StoreOptions) -> Result<Self, StoreError> {
        let lock = lock_dir(dir, true, options.lock_timeout)?;
        let files = Files::list(dir)?;
        if !files.snapshots.is_empty() {
            return Err(StoreError::AlreadyExists(dir.into()));
        }
        files.remove_tmp()?;
        let mut sorted: Vec<(&Pubkey, &Account)> = initial.iter().collect();
        sorted.sort_unstable_by_key(|(k, _)| **k);
        snapshot::write_file(&snapshot_path(dir, initial.tip().slot), initial.tip(), &sorted)?;
        Self::recover(dir, lock, options)
    }

    /// Opens the store at `dir` and continues from its last committed block.
    pub fn open(dir: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        let lock = lock_dir(dir, false, options.lock_timeout)?;
        Self::recover(dir, lock, options)
    }

    /// Opens the store at `dir`, creating it from `genesis()` if there is none.
    pub fn open_or_create(
        dir: &Path,
        options: StoreOptions,
        genesis: impl FnOnce() -> MemoryStore,
    ) -> Result<Self, StoreError> {
        let lock = lock_dir(dir, true, options.lock_timeout)?;
        if Files::list(dir)?.snapshots.is_empty() {
            drop(lock);
            return Self::create(dir, &genesis(), options);
        }
        Self::recover(dir, lock, options)
    }

    /// Creates a store at `dir` from the snapshot file `snapshot` (a node joining the
    /// chain). The snapshot is verified first (checksum and state hash); the caller
    /// compares [`tip`](AccountStore::tip) with the chain it joins.
    pub fn import_snapshot(dir: &Path, snapshot: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        let info = snapshot::read_file(snapshot, |_, _| {})?;
        let lock = lock_dir(dir, true, options.lock_timeout)?;
        let files = Files::list(dir)?;
        if !files.snapshots.is_empty() {
            return Err(StoreError::AlreadyExists(dir.into()));
        }
        files.remove_tmp()?;
        let target = snapshot_path(dir, info.tip.slot);
        let tmp = tmp_path(&target);
        fs::copy(snapshot, &tmp).map_err(StoreError::io("copy", &tmp))?;
        fsio::sync_file(&fsio::open(&tmp)?, &tmp)?;
        fsio::rename(&tmp, &target)?;
        sync_dir(dir)?;
        // Recovery reads the copy again, so what is used is what was verified on disk.
        Self::recover(dir, lock, options)
    }

    /// Loads the newest checkpoint, replays its log, cuts a torn tail, and deletes
    /// leftovers.
    fn recover(dir: &Path, lock: File, options: StoreOptions) -> Result<Self, StoreError> {
        let files = Files::list(dir)?;
        let base = *files.snapshots.last().ok_or_else(|| StoreError::NotFound(dir.into()))?;
        let mut accounts = HashMap::new();
        let mut digest = Digest::default();
        let info = snapshot::read_file(&snapshot_path(dir, base), |k, a| {
            let l = leaf(&k, &a);
            digest.add(&l);
            accounts.insert(k, (a, l));
        })?;
        let log_path = log_path(dir, base);
        let log =
            if fsio::stat(&log_path).is_ok() { fsio::open_rw(&log_path)? } else { fsio::create(&log_path)? };
        let mut bytes = Vec::new();
        let mut reader = Hooked::new(log, &log_path);
        reader.read_to_end(&mut bytes).map_err(StoreError::io("read", &log_path))?;
        let log = reader.into_inner();
        let mut store = Self {
            dir: dir.into(),
            options,
            accounts,
            tip: info.tip,
            digest,
            log,
            log_path,
            base,
            buf: Vec::new(),
            offsets: Vec::new(),
            poisoned: false,
            checkpoint_error: None,
            stats: StoreStats { recovered_from: base, ..StoreStats::default() },
            _lock: lock,
        };
        let valid = store.replay(&bytes)?;
        drop(bytes);
        let path = store.log_path.clone();
        if store.stats.torn_bytes > 0 {
            fsio::set_len(&store.log, &path, valid as u64)?;
            fsio::sync_file(&store.log, &path)?;
        }
        store.log.seek(SeekFrom::Start(valid as u64)).map_err(StoreError::io("seek", &path))?;
        store.stats.log_len = valid as u64;
        // The log's directory entry must be durable before anything is appended to it.
        sync_dir(dir)?;
        files.remove_stale(dir, base)?;
        Ok(store)
    }

    /// Applies every valid record of `log`; returns the length of the valid prefix.
    fn replay(&mut self, log: &[u8]) -> Result<usize, StoreError> {
        let mut at = 0;
        loop {
            match next_record(&log[at..]) {
                Next::End => return Ok(at),
                Next::Torn => {
                    self.stats.torn_bytes = (log.len() - at) as u64;
                    return Ok(at);
                }
                Next::Corrupt(reason) => return Err(StoreError::corrupt(&self.log_path, at as u64, reason)),
                Next::Record(r, len) => {
                    if r.parent != self.tip || r.tip.slot <= r.parent.slot {
                        return Err(StoreError::corrupt(
                            &self.log_path,
                            at as u64,
                            format!(
                                "block {} extends slot {}, but the state is at slot {}",
                                r.tip.slot, r.parent.slot, self.tip.slot
                            ),
                        ));
                    }
                    for (k, a) in r.accounts {
                        self.apply(k, a);
                    }
                    if self.digest != r.digest {
                        return Err(StoreError::DigestMismatch { slot: r.tip.slot });
                    }
                    self.tip = r.tip;
                    self.stats.replayed_blocks += 1;
                    at += len;
                }
            }
        }
    }

    /// Writes one account into the map and the digest (replay).
    fn apply(&mut self, key: Pubkey, account: Account) {
        if account.is_empty() {
            if let Some((_, old)) = self.accounts.remove(&key) {
                self.digest.sub(&old);
            }
            return;
        }
        let l = leaf(&key, &account);
        self.digest.add(&l);
        if let Some((_, old)) = self.accounts.insert(key, (account, l)) {
            self.digest.sub(&old);
        }
    }

    /// Commits one block: durable (per [`Durability`]) when it returns `Ok`, and not
    /// applied at all when it returns `Err`. Accounts equal to [`Account::default`] are
    /// deleted. Changes need not be sorted; a key listed twice takes its last value.
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
        if self.stats.log_len >= self.options.checkpoint_bytes {
            // The block is durable in the log whatever happens here; a failed checkpoint
            // leaves the old pair live (or poisons the handle, see the module docs).
            if let Err(e) = self.checkpoint() {
                self.checkpoint_error = Some(e.to_string());
            }
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
    /// docs). Nothing to do if no block was committed since the last checkpoint.
    pub fn checkpoint(&mut self) -> Result<(), StoreError> {
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        let slot = self.tip.slot;
        if slot == self.base {
            return Ok(());
        }
        let sorted = self.sorted();
        snapshot::write_file(&snapshot_path(&self.dir, slot), self.tip, &sorted).inspect_err(|_| {
            let _ = remove_if_exists(&tmp_path(&snapshot_path(&self.dir, slot)));
        })?;
        drop(sorted);
        // From here on, recovery starts at `slot`: any failure must stop further commits.
        self.poisoned = true;
        let new_path = log_path(&self.dir, slot);
        let log = fsio::create(&new_path)?;
        sync_dir(&self.dir)?;
        let old = self.base;
        self.log = log;
        self.log_path = new_path;
        self.base = slot;
        self.stats.log_len = 0;
        self.stats.checkpoints += 1;
        self.poisoned = false;
        for path in [snapshot_path(&self.dir, old), log_path(&self.dir, old)] {
            remove_if_exists(&path)?;
        }
        sync_dir(&self.dir)
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

    /// Why the last automatic checkpoint failed, if it did (the blocks stayed durable in
    /// the log; a failure after the new checkpoint was in place also poisons the handle).
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

/// Takes the directory lock, creating the directory and lock file if `create`, waiting
/// up to `timeout` for another handle to let go.
fn lock_dir(dir: &Path, create: bool, timeout: Duration) -> Result<File, StoreError> {
    if create {
        fsio::create_dir_all(dir).map_err(StoreError::io("create directory", dir))?;
    } else if !fsio::stat(dir).is_ok_and(|m| m.is_dir()) {
        return Err(StoreError::NotFound(dir.into()));
    }
    let path = dir.join("LOCK");
    let file = fsio::create(&path)?;
    let start = Instant::now();
    loop {
        if fsio::try_lock(&file, &path)? {
            return Ok(file);
        }
        if start.elapsed() >= timeout {
            return Err(StoreError::Locked(dir.into()));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn snapshot_path(dir: &Path, slot: u64) -> PathBuf {
    dir.join(format!("state-{slot:020}.snap"))
}

fn log_path(dir: &Path, slot: u64) -> PathBuf {
    dir.join(format!("blocks-{slot:020}.log"))
}

/// The store files found in a directory.
struct Files {
    /// Checkpoint slots, ascending.
    snapshots: Vec<u64>,
    /// Log slots, ascending.
    logs: Vec<u64>,
    tmp: Vec<PathBuf>,
}

impl Files {
    fn list(dir: &Path) -> Result<Self, StoreError> {
        let mut files = Files { snapshots: Vec::new(), logs: Vec::new(), tmp: Vec::new() };
        for name in fsio::list(dir)? {
            if name.ends_with(".tmp") {
                files.tmp.push(dir.join(name));
            } else if let Some(slot) = parse_slot(&name, "state-", ".snap") {
                files.snapshots.push(slot);
            } else if let Some(slot) = parse_slot(&name, "blocks-", ".log") {
                files.logs.push(slot);
            }
        }
        files.snapshots.sort_unstable();
        files.logs.sort_unstable();
        Ok(files)
    }

    fn remove_tmp(&self) -> Result<(), StoreError> {
        self.tmp.iter().try_for_each(|p| remove_if_exists(p))
    }

    /// Deletes everything but the live pair at `base`.
    fn remove_stale(&self, dir: &Path, base: u64) -> Result<(), StoreError> {
        self.remove_tmp()?;
        let stale_snaps = self.snapshots.iter().filter(|&&s| s < base).map(|&s| snapshot_path(dir, s));
        let stale_logs = self.logs.iter().filter(|&&s| s < base).map(|&s| log_path(dir, s));
        let stale: Vec<PathBuf> = stale_snaps.chain(stale_logs).collect();
        if stale.is_empty() && self.tmp.is_empty() {
            return Ok(());
        }
        stale.iter().try_for_each(|p| remove_if_exists(p))?;
        sync_dir(dir)
    }
}

fn parse_slot(name: &str, prefix: &str, suffix: &str) -> Option<u64> {
    let digits = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok())?
}

/// Reads a whole file (tests).
#[cfg(test)]
pub(crate) fn read_all(path: &Path) -> Vec<u8> {
    let mut v = Vec::new();
    File::open(path).unwrap().read_to_end(&mut v).unwrap();
    v
}

/// Appends raw bytes to a file (tests).
#[cfg(test)]
pub(crate) fn append_raw(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    fs::OpenOptions::new().append(true).open(path).unwrap().write_all(bytes).unwrap();
}
