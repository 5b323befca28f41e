//! Opening a store: load the newest checkpoint — or, if it is damaged, an older one — and
//! replay the logs that continue it, record by record.
//!
//! ## Falling back to an older checkpoint
//! The store keeps the previous checkpoint and its log beside the newest pair. That log
//! holds every block from the previous checkpoint up to the newest one, and each log's
//! header names the tip and digest it continues, so from the previous checkpoint the
//! logs chain to the same state, block for block:
//! ```text
//! state-P.snap ─► blocks-P.log (P+1 … N) ─► blocks-N.log (N+1 … tip)      state-N.snap damaged
//! ```
//! Only a damaged checkpoint file (checksum or state hash) is passed over. If the chain
//! from the older checkpoint is broken (a log missing, corrupt or not continuing the
//! state), falling back would lose blocks, and the newest checkpoint's error is returned.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use hashbrown::HashMap;
use parex_runtime::{Account, ChainTip, Pubkey};

use crate::codec::{Digest, Leaf, leaf};
use crate::error::StoreError;
use crate::fsio::{self, Hooked};
use crate::layout::{Layout, log_path, remove_older_than, snapshot_path};
use crate::log::{LogReader, Next, READ_BUFFER, Record};
use crate::snapshot;

/// The state in memory: every account with its leaf, the digest, and the tip.
pub(crate) struct State {
    /// Every account with its leaf (its share of the digest), kept so a commit hashes
    /// each changed account once, not twice.
    pub(crate) accounts: HashMap<Pubkey, (Account, Leaf)>,
    pub(crate) digest: Digest,
    pub(crate) tip: ChainTip,
}

impl State {
    /// Loads and verifies the checkpoint at `path`.
    fn load(path: &Path) -> Result<Self, StoreError> {
        let mut accounts = HashMap::new();
        let mut digest = Digest::default();
        let info = snapshot::read_file(path, |k, a| {
            let l = leaf(&k, &a);
            digest.add(&l);
            accounts.insert(k, (a, l));
        })?;
        Ok(Self { accounts, digest, tip: info.tip })
    }

    /// Writes one account into the map and the digest.
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

    /// Applies a replayed block, checking that it extends the state and that the state
    /// after it has the digest recorded with it.
    fn apply_record(&mut self, r: Record, path: &Path, offset: u64) -> Result<(), StoreError> {
        if r.parent != self.tip || r.tip.slot <= r.parent.slot {
            let reason = format!(
                "block {} extends slot {}, but the state is at slot {}",
                r.tip.slot, r.parent.slot, self.tip.slot
            );
            return Err(StoreError::corrupt(path, offset, reason));
        }
        for (k, a) in r.accounts {
            self.apply(k, a);
        }
        if self.digest != r.digest {
            return Err(StoreError::DigestMismatch { slot: r.tip.slot });
        }
        self.tip = r.tip;
        Ok(())
    }
}

/// What an open found, and the live log ready for appends.
pub(crate) struct Recovered {
    pub(crate) state: State,
    /// The newest checkpoint's log, positioned at the end of its last complete record.
    pub(crate) log: File,
    pub(crate) log_path: PathBuf,
    /// Length of the live log (header included).
    pub(crate) log_len: u64,
    /// The newest checkpoint: the live log continues it.
    pub(crate) base: u64,
    /// The checkpoint the state was loaded from (older than `base` after a fallback).
    pub(crate) from: u64,
    pub(crate) replayed_blocks: u64,
    pub(crate) torn_bytes: u64,
    /// Damaged checkpoints passed over.
    pub(crate) skipped_checkpoints: u64,
}

/// Opens the store whose files `layout` lists (module docs). Changes nothing unless it
/// succeeds; then it cuts a torn tail (kept aside) and deletes leftovers.
pub(crate) fn recover(dir: &Path, layout: &Layout) -> Result<Recovered, StoreError> {
    let newest = layout.newest().ok_or_else(|| StoreError::NotFound(dir.into()))?;
    if !layout.logs.contains(&newest) {
        return Err(StoreError::MissingLog { log: log_path(dir, newest) });
    }
    let mut first_error = None;
    for (skipped, &from) in layout.snapshots.iter().rev().enumerate() {
        match replay_from(dir, from, newest) {
            Ok(mut r) => {
                r.skipped_checkpoints = skipped as u64;
                return finish(dir, layout, r);
            }
            Err(e) if is_damaged(&e, &snapshot_path(dir, from)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => return Err(first_error.unwrap_or(e)),
        }
    }
    Err(first_error.expect("the loop ran at least once"))
}

/// Whether `e` says the checkpoint file `path` itself is damaged.
fn is_damaged(e: &StoreError, path: &Path) -> bool {
    matches!(e, StoreError::Corrupt { path: p, .. } | StoreError::StateHashMismatch { path: p, .. } if p == path)
}

/// Loads checkpoint `from` and replays the chain of logs from it to the newest one.
fn replay_from(dir: &Path, from: u64, newest: u64) -> Result<Recovered, StoreError> {
    let mut state = State::load(&snapshot_path(dir, from))?;
    let mut replayed = 0;
    let mut slot = from;
    loop {
        let path = log_path(dir, slot);
        let (mut reader, header) = LogReader::open(&path).map_err(|e| missing_log(e, &path))?;
        if header.base != state.tip || header.digest != state.digest {
            let reason = format!(
                "the log continues slot {}, but the state it is replayed on is at slot {}{}",
                header.base.slot,
                state.tip.slot,
                if header.base == state.tip { " with another digest" } else { "" }
            );
            return Err(StoreError::corrupt(&path, 0, reason));
        }
        let last = slot == newest;
        let end = replay_log(&mut state, &mut reader, &path, last, &mut replayed)?;
        if last {
            return Ok(Recovered {
                state,
                log: fsio::open_rw(&path)?,
                log_path: path,
                log_len: end,
                base: newest,
                from,
                replayed_blocks: replayed,
                torn_bytes: reader.len() - end,
                skipped_checkpoints: 0,
            });
        }
        if state.tip.slot <= slot || state.tip.slot > newest {
            return Err(StoreError::corrupt(&path, end, "the log does not lead to a later checkpoint"));
        }
        slot = state.tip.slot;
    }
}

/// A missing file reported as the missing log it is.
fn missing_log(e: StoreError, path: &Path) -> StoreError {
    match e {
        StoreError::Io { ref source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            StoreError::MissingLog { log: path.into() }
        }
        e => e,
    }
}

/// Applies every record of one log; returns where its complete records end. Only the
/// newest log (`last`) may end in a torn record.
fn replay_log(
    state: &mut State,
    reader: &mut LogReader<Hooked>,
    path: &Path,
    last: bool,
    replayed: &mut u64,
) -> Result<u64, StoreError> {
    loop {
        let at = reader.offset();
        match reader.next()? {
            Next::End => return Ok(at),
            Next::Torn if last => return Ok(at),
            Next::Torn => {
                let reason = "an incomplete record in a log that a later checkpoint continues";
                return Err(StoreError::corrupt(path, at, reason));
            }
            Next::Corrupt(reason) => return Err(StoreError::corrupt(path, at, reason)),
            Next::Record(r) => {
                state.apply_record(r, path, at)?;
                *replayed += 1;
            }
        }
    }
}

/// Cuts a torn tail (after keeping its bytes), positions the log for appends, and
/// deletes what no recovery can need: temporaries, unborn logs, and pairs older than
/// both the checkpoint loaded and the one kept before the newest.
fn finish(dir: &Path, layout: &Layout, mut r: Recovered) -> Result<Recovered, StoreError> {
    let mut changed = false;
    if r.torn_bytes > 0 {
        keep_aside(&r.log_path, r.log_len)?;
        fsio::set_len(&r.log, &r.log_path, r.log_len)?;
        fsio::sync_file(&r.log, &r.log_path)?;
        changed = true;
    }
    r.log.seek(SeekFrom::Start(r.log_len)).map_err(StoreError::io("seek", &r.log_path))?;
    let kept = layout.snapshots.iter().rev().nth(1).copied().unwrap_or(r.base);
    changed |= remove_older_than(dir, layout, kept.min(r.from))?;
    changed |= layout.remove_leftovers(dir)?;
    if changed {
        fsio::sync_dir(dir)?;
    }
    Ok(r)
}

/// Copies the bytes of the log at `path` from `from` to its end into a new
/// `NAME.torn-<from>` file, durably, before they are cut: a cut never destroys evidence.
pub(crate) fn keep_aside(path: &Path, from: u64) -> Result<PathBuf, StoreError> {
    let mut src = fsio::open(path)?;
    src.seek(SeekFrom::Start(from)).map_err(StoreError::io("seek", path))?;
    let mut src = Hooked::new(src, path);
    let (mut out, aside) = create_aside(path, from)?;
    let mut buf = vec![0; READ_BUFFER];
    loop {
        let n = src.read(&mut buf).map_err(StoreError::io("read", path))?;
        if n == 0 {
            break;
        }
        fsio::write_all(&mut out, &aside, &buf[..n])?;
    }
    fsio::sync_file(&out, &aside)?;
    fsio::sync_dir(snapshot::parent(path))?;
    Ok(aside)
}

/// A new file `NAME.torn-<from>` (or `-1`, `-2`, … if an earlier cut at the same offset
/// was kept).
fn create_aside(path: &Path, from: u64) -> Result<(File, PathBuf), StoreError> {
    for n in 0u32.. {
        let suffix = if n == 0 { format!(".torn-{from}") } else { format!(".torn-{from}-{n}") };
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let aside = PathBuf::from(name);
        match fsio::create_new(&aside) {
            Ok(f) => return Ok((f, aside)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(StoreError::io("create", &aside)(e)),
        }
    }
    unreachable!("u32 names run out only after 4 billion cuts at one offset")
}
