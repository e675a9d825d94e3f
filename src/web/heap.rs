//! Heap accounting: the global allocator, wrapped to count what is live.
//!
//! `memory.buffer.byteLength` only ever grows, in 64 KiB pages, so it cannot tell a leak from
//! fragmentation. Counting the bytes the allocator has handed out and not yet taken back can: the
//! SDK tests and the soak benchmark read it through `memoryUsage()` after many calls, and a leak of
//! even a few bytes per call shows. The cost is two counter updates per allocation.
//!
//! This is the crate's one `unsafe` code: `GlobalAlloc` is an unsafe trait. Every method forwards
//! to the inner allocator (talc) with the caller's arguments unchanged, so its guarantees are the
//! ones callers get.
#![allow(unsafe_code)]

use core::alloc::{GlobalAlloc, Layout};

/// The allocator underneath: talc, which grows the wasm memory as it needs. The browser build is
/// no_std, so there is no `System` allocator; measured with `scripts/size.sh --by-crate`, talc's
/// code is 1.3 KB where std's dlmalloc was 4.9 KB (lol_alloc's free list is 0.5 KB, but every
/// allocation walks the whole free list).
static INNER: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
use core::sync::atomic::{AtomicUsize, Ordering};

/// The inner allocator, with counters of live bytes and live allocations.
struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static LIVE_ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// SAFETY: every method delegates to `INNER` with the same layout and pointer, and only updates
// counters besides; it upholds `GlobalAlloc`'s contract exactly as `INNER` does.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        counted(unsafe { INNER.alloc(layout) }, layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        counted(unsafe { INNER.alloc_zeroed(layout) }, layout)
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; the caller upholds `dealloc`'s contract.
        unsafe { INNER.dealloc(pointer, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        LIVE_ALLOCATIONS.fetch_sub(1, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        let moved = unsafe { INNER.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            // On failure the old block stays allocated, so the counts stay as they were.
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        }
        moved
    }
}

/// Counts a new block, unless the allocation failed.
fn counted(pointer: *mut u8, layout: Layout) -> *mut u8 {
    if !pointer.is_null() {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        LIVE_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
    pointer
}

/// Bytes the allocator has handed out and not taken back.
pub fn live_bytes() -> usize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

/// Allocations not yet freed.
pub fn live_allocations() -> usize {
    LIVE_ALLOCATIONS.load(Ordering::Relaxed)
}
