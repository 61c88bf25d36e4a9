//! [`with_avx2!`]: a CPU kernel compiled twice, portable and with AVX2 enabled.
//!
//! Why: the crate's kernels (the activations, the target log-probability) are plain loops that
//! the compiler vectorises; built for the baseline x86-64 target they get 4-lane SSE, and with
//! AVX2 8 lanes. The two builds run the same operations in the same order, so they give the
//! same bits; the AVX2 one runs where the CPU has it.

/// Defines `fn $name(args) -> ret` from its body, compiled portable and with AVX2 enabled, and
/// dispatching at run time to the AVX2 build where the CPU supports it.
macro_rules! with_avx2 {
    (
        $(#[$doc:meta])*
        $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block
    ) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn portable($($arg: $ty),*) $(-> $ret)? $body
            /// # Safety
            /// The CPU must support AVX2.
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                portable($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the feature was just detected.
                return unsafe { avx2($($arg),*) };
            }
            portable($($arg),*)
        }
    };
}

pub(crate) use with_avx2;
