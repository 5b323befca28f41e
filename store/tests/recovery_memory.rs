//! Recovery memory is bounded by the largest block, not by the log: a store whose log
//! is many times its state reopens with a peak of live heap far below the log's size.
//! (Its own test binary: it installs a counting global allocator.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use parex_runtime::AccountStore;
use parex_store::{Durability, DurableStore, StoreOptions, Synthetic};

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` with the same arguments; the counters do
// not affect what is returned.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn reopening_a_long_log_holds_one_record_at_a_time() {
    // 64 keys rewritten over and over: a state of a few KiB, a log of 24 MiB.
    let syn = Synthetic { keys: 64, max_changes: 64, max_data: 400, delete_per_mille: 50 };
    let options = StoreOptions {
        durability: Durability::Buffered,
        checkpoint_bytes: u64::MAX,
        ..StoreOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut store = DurableStore::create(dir.path(), &syn.genesis(), options).unwrap();
    while store.stats().log_len < 24 << 20 {
        let tip = store.tip();
        store.commit_block(syn.block(tip.slot + 1, tip.hash)).unwrap();
    }
    let (tip, log_len) = (store.tip(), store.stats().log_len);
    drop(store);

    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let store = DurableStore::open(dir.path(), options).unwrap();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    assert_eq!(store.tip(), tip);
    assert_eq!(store.stats().replayed_blocks, tip.slot);
    eprintln!("reopened a {log_len}-byte log with a heap peak of {peak} bytes");
    // The read buffer (64 KiB), one record (< 64 KiB here), the state and the map.
    assert!(peak < 2 << 20, "reopening a {log_len}-byte log peaked at {peak} bytes of heap");
}
