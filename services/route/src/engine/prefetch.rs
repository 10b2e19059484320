//! The one place the search talks to the processor directly: cache prefetches, for the
//! RAPTOR rounds and the Trip-Based search alike. The only module of the engine allowed
//! `unsafe` (see `#[allow(unsafe_code)]` where the engine declares it), for one intrinsic.

/// Asks the processor to start loading the cache line holding `value`, so that a read of it
/// a little later (after other work) does not wait for memory. A hint only: nothing else
/// happens where the processor has no such instruction.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing into the program and never faults (the address is
    // a live reference besides); SSE, which provides it, is part of every x86-64 target.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(value).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
