//! Counting heap allocations, to print allocations per transaction.
//!
//! [`CountingAlloc`] wraps the system allocator and counts, per thread, every
//! allocation and every reallocation (a `realloc` may move the block, so it costs as
//! much as a new one). A binary or bench installs it with
//! `#[global_allocator] static A: CountingAlloc = CountingAlloc;`; the counter is a
//! thread-local cell, so counting adds no shared write and no contention between
//! worker threads. [`installed`] tells whether the running program did install it:
//! an embedder's binary does not, and then no figure is printed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// The system allocator, counting allocations per thread.
#[derive(Clone, Copy, Debug, Default)]
pub struct CountingAlloc;

fn count() {
    // `try_with`: a thread being torn down may still free and allocate.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call forwards to `System` with the caller's arguments unchanged; the
// counter is a thread-local `Cell` with a const initialiser, which never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations (and reallocations) made so far by the calling thread; always 0 unless
/// [`CountingAlloc`] is the global allocator.
pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Whether [`CountingAlloc`] is the running program's global allocator.
pub fn installed() -> bool {
    let before = allocations();
    drop(std::hint::black_box(Box::new(0u64)));
    allocations() > before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_nothing_unless_installed() {
        // The library's test binary does not install the counting allocator.
        assert!(!installed());
        assert_eq!(allocations(), 0);
    }
}
