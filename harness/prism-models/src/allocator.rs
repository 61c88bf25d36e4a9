//! Allocator settings for tensor work on the CPU.
//!
//! A training step allocates and frees hundreds of activation and gradient buffers of a few
//! MB each, and a proxy's loss over a batch of worked solutions allocates logits of hundreds of
//! MB. glibc's malloc serves blocks above its mmap threshold (at most 32 MiB) with fresh `mmap`
//! calls, gives each extra thread an arena of 64 MiB heaps that it unmaps when they empty, and
//! returns freed memory to the kernel, so every step page-faults and zeroes the same memory
//! again. On the machines this project runs on (virtual machines, where a page the guest gives
//! back is expensive to touch again) that was a quarter of a MiniLM training step and a sixth of
//! a math sweep's run (`perf`: `clear_page_erms` under `exc_page_fault`; docs/performance.md).
//! Serving everything from one heap that never shrinks removes that cost; the process keeps
//! its peak heap instead of shrinking between steps.
//!
//! None of this changes a computed bit: the tensors hold the same values wherever they live
//! (checked on the G-Vendi store and the math student, docs/performance.md).

/// The environment variable that opts out of [`tune_for_tensors`]: `PRISM_MALLOC=system` keeps
/// glibc's defaults (to compare, or where a process must give memory back between stages).
pub const OPT_OUT_VAR: &str = "PRISM_MALLOC";

/// Tunes glibc's malloc for many short-lived large buffers: one arena for every thread, no
/// `mmap` for any block (everything comes from the heap, so freed blocks are reused without
/// page faults), no trimming at all, 256 MiB of top padding.
///
/// Trimming is off (`M_TRIM_THRESHOLD = -1`, which `mallopt(3)` documents as "disables
/// trimming completely"), not merely raised: the largest value an `int` can raise it to is
/// 2 GiB, and featurising a batch of worked solutions takes the process to about 7.4 GiB
/// resident (logits over the 49,152-token vocabulary and their gradients), so with a 2 GiB
/// threshold most batches gave gigabytes back to the kernel and touched them again. On this
/// project's virtual machines a first touch costs about 3 s a GiB (12.5 s for 4 GiB, against
/// 0.3 s for the second touch): 48 math problems featurised in 115 s with the 2 GiB threshold
/// and in 90 s without trimming (3.8M page faults against 2.1M; the stores byte-identical;
/// docs/performance.md, 2026-12-05). Call once, first thing in
/// `main`, before any thread starts: glibc fixes its arena limit when the first extra thread
/// allocates, and a thread with an arena of its own still maps blocks above 64 MiB (a libtest
/// thread, for one, so this cannot be checked from a unit test). A no-op on other C libraries
/// and under `PRISM_MALLOC=system`. Returns whether every setting was accepted.
pub fn tune_for_tensors() -> bool {
    if std::env::var(OPT_OUT_VAR).is_ok_and(|v| v == "system") {
        return false;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes malloc's parameters; called before threads allocate.
        // Should the heap fail to grow (brk against another mapping), glibc still falls back
        // to mmap for that block, whatever M_MMAP_MAX says.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1) == 1
                && libc::mallopt(libc::M_MMAP_MAX, 0) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, -1) == 1
                && libc::mallopt(libc::M_TOP_PAD, 256 << 20) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
