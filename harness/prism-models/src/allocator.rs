//! Allocator settings for tensor work on the CPU.
//!
//! A training step allocates and frees hundreds of activation and gradient buffers of a few
//! MB each. glibc's malloc serves blocks above its (dynamic) mmap threshold with fresh `mmap`
//! calls and returns freed memory to the kernel, so every step page-faults and zeroes the same
//! memory again: on the MiniLM student that was about a quarter of the step (`just bench
//! models`, `perf`: `clear_page_erms`, `exc_page_fault`). Raising the mmap threshold to its
//! maximum and keeping freed memory in the heap removes that cost; the process keeps its peak
//! heap instead of shrinking between steps.

/// Tunes glibc's malloc for many short-lived large buffers: mmap threshold at glibc's maximum
/// (32 MiB on 64-bit), no trimming below 2 GiB, 256 MiB of top padding. Call once, first thing
/// in `main`. A no-op on other C libraries. Returns whether every setting was accepted.
pub fn tune_for_tensors() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes malloc's parameters; called before threads allocate.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX) == 1
                && libc::mallopt(libc::M_TOP_PAD, 256 << 20) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
