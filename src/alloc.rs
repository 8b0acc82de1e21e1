//! The process's allocator: mimalloc, called through its plain `malloc`
//! entry points whenever they give the alignment asked for.
//!
//! The `mimalloc` crate's `MiMalloc` sends every allocation through
//! `mi_malloc_aligned`, which in mimalloc 3 takes a longer path than
//! `mi_malloc`: under callgrind, allocating was about 2.3 k of a JSON
//! prediction's 32.9 k instructions that way and 1.1 k this way. Rust's own
//! `System` allocator makes the same choice on Unix: plain `malloc` when the
//! alignment is at most what `malloc` promises and not larger than the size.
//!
//! What mimalloc promises: blocks of 16 bytes and more are aligned to
//! `MI_MAX_ALIGN_SIZE` (16: on 64-bit targets its small size classes are
//! whole double words), smaller ones to the pointer size. A layout whose
//! alignment exceeds its size (8 bytes aligned to 16, say) would not be
//! covered by that, which is what the second condition keeps out.
//!
//! [`keep_small_pages`] goes with it: mimalloc is built with `no_thp`, so it
//! never asks Linux for transparent huge pages, but where the kernel hands
//! them out unasked (THP set to `always`) a 2 MB page counts whole in RSS as
//! soon as one byte of it is touched.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as ffi;

/// The alignment every `mi_malloc` block of at least this size has.
#[cfg(target_pointer_width = "64")]
const MALLOC_ALIGN: usize = 16;
#[cfg(not(target_pointer_width = "64"))]
const MALLOC_ALIGN: usize = 8;

/// mimalloc as the global allocator (`src/main.rs`, and the benchmark's
/// ceiling, so that the two differ only in what they do per request).
pub struct Allocator;

/// Whether plain `mi_malloc` already gives `layout` its alignment.
fn malloc_aligns(align: usize, size: usize) -> bool {
    align <= MALLOC_ALIGN && align <= size
}

// SAFETY: every method forwards to mimalloc, which returns null or a block of
// at least `size` bytes aligned as asked (see `malloc_aligns`), and frees or
// resizes only blocks it returned.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: plain FFI calls; a null return is the caller's to handle.
        unsafe {
            if malloc_aligns(layout.align(), layout.size()) {
                ffi::mi_malloc(layout.size()) as *mut u8
            } else {
                ffi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe {
            if malloc_aligns(layout.align(), layout.size()) {
                ffi::mi_zalloc(layout.size()) as *mut u8
            } else {
                ffi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator (GlobalAlloc's contract).
        unsafe { ffi::mi_free(ptr as *mut c_void) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`; the new block
        // must keep the alignment for `new_size` too.
        unsafe {
            if malloc_aligns(layout.align(), new_size) {
                ffi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8
            } else {
                ffi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
            }
        }
    }
}

/// Turns transparent huge pages off for this process, as mimalloc itself
/// does when its `allow_thp` option is off (which no build feature sets):
/// where THP is `always`, the 100-tree forest's server grew from 23 MB to
/// 37 to 43 MB of RSS, 20 MB of it huge pages. The first thing `main` does,
/// before much memory is touched; pages touched later are small.
///
/// Left alone when `MIMALLOC_ALLOW_THP` asks for huge pages (`1`, `true`,
/// `on` or `yes`), as mimalloc's own option reads it. Returns whether the
/// flag is now set; elsewhere than on Linux, or where the call is refused,
/// nothing changes.
pub fn keep_small_pages() -> bool {
    let asked_for_huge = std::env::var("MIMALLOC_ALLOW_THP").is_ok_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        matches!(v.as_str(), "1" | "true" | "on" | "yes")
    });
    !asked_for_huge && disable_thp()
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn disable_thp() -> bool {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory
    // of this process; it only sets a flag on its address space.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0 }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn disable_thp() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every size up to 600 bytes with every alignment up to 256 (both
    /// sides of `MALLOC_ALIGN`), through alloc, alloc_zeroed and realloc
    /// up and down: each block is aligned, writable over its whole size,
    /// zeroed when asked, and keeps its bytes when resized.
    #[test]
    fn blocks_are_aligned_and_keep_their_bytes() {
        let a = Allocator;
        for align in [1usize, 2, 4, 8, 16, 32, 64, 128, 256] {
            for size in 1..600usize {
                let layout = Layout::from_size_align(size, align).unwrap();
                unsafe {
                    let z = a.alloc_zeroed(layout);
                    assert!(!z.is_null());
                    assert_eq!(z as usize % align, 0, "alloc_zeroed {size} aligned {align}");
                    assert!((0..size).all(|i| *z.add(i) == 0), "{size} not zeroed");
                    a.dealloc(z, layout);

                    let p = a.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "alloc {size} aligned {align}");
                    for i in 0..size {
                        *p.add(i) = i as u8;
                    }
                    let grown = size * 3 + 5;
                    let q = a.realloc(p, layout, grown);
                    assert_eq!(
                        q as usize % align,
                        0,
                        "grown {size}->{grown} aligned {align}"
                    );
                    assert!((0..size).all(|i| *q.add(i) == i as u8), "grow lost bytes");
                    let shrunk = size.div_ceil(2);
                    let grown_layout = Layout::from_size_align(grown, align).unwrap();
                    let r = a.realloc(q, grown_layout, shrunk);
                    assert_eq!(
                        r as usize % align,
                        0,
                        "shrunk {grown}->{shrunk} aligned {align}"
                    );
                    assert!(
                        (0..shrunk).all(|i| *r.add(i) == i as u8),
                        "shrink lost bytes"
                    );
                    a.dealloc(r, Layout::from_size_align(shrunk, align).unwrap());
                }
            }
        }
    }

    #[test]
    fn plain_malloc_only_where_it_aligns() {
        assert!(malloc_aligns(8, 8));
        assert!(malloc_aligns(16, 16));
        assert!(malloc_aligns(1, 1));
        // Alignment above the size: an 8-byte block is only 8-aligned.
        assert!(!malloc_aligns(16, 8));
        assert!(!malloc_aligns(32, 64));
    }
}
