//! Backend selection at run time. burn 0.22 dispatches on the [`Device`], so every model has
//! one code path; this module only turns a name (`flex`, `tch`, `cuda`) into a device, and
//! says clearly when a backend was not compiled in.

use crate::error::ModelError;
use burn::prelude::Device;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

/// Seeds the backend's random generator with `seed` and runs `draw` (building a model whose
/// fresh parameters, such as a classifier head, come from that generator) while no other thread
/// can seed or draw through this function.
///
/// Why: burn's generator is one per process (flex keeps it in a global), so two runs that seed
/// and then draw in parallel threads (a sweep's workers, the test harness's threads) take each
/// other's draws, and a run's initial weights then depend on the other thread's timing. That
/// broke bit-for-bit reproducibility under `cargo test` (2026-12-04: a trainer test failed 3 of
/// 4 times with its neighbours running, never alone). Every seeded draw goes through here.
pub fn with_seeded_generator<T>(device: &Device, seed: u64, draw: impl FnOnce() -> T) -> T {
    static GENERATOR: Mutex<()> = Mutex::new(());
    let _held = GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    device.seed(seed);
    draw()
}

/// The compute backends prism knows. `Flex` (burn's pure-Rust CPU backend) is always built;
/// `Tch` (libtorch) and `Cuda` are cargo features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn-flex: pure Rust, SIMD + rayon; the default.
    Flex,
    /// burn-tch on the CPU (libtorch; feature `tch`).
    Tch,
    /// CUDA device 0 (feature `cuda`).
    Cuda,
}

impl Backend {
    /// Every backend, in the order `auto` prefers them: a GPU first, then flex before libtorch,
    /// because `just bench models` (2026-11-29, 2 EPYC cores, one build with both) measured
    /// flex ahead on the student step (34.4 against 25.1 examples/s) and on the proxy at the
    /// featuriser's batch of 8 (2.43 against 1.64); libtorch stays selectable by name.
    pub const ALL: [Backend; 3] = [Backend::Cuda, Backend::Flex, Backend::Tch];

    /// Whether this build can create the backend's device.
    pub fn is_compiled(self) -> bool {
        match self {
            Backend::Flex => true,
            Backend::Tch => cfg!(feature = "tch"),
            Backend::Cuda => cfg!(feature = "cuda"),
        }
    }

    /// The fastest backend compiled into this build (CUDA, then flex; see [`Backend::ALL`]).
    pub fn best_compiled() -> Backend {
        Self::ALL
            .into_iter()
            .find(|b| b.is_compiled())
            .unwrap_or(Backend::Flex)
    }

    /// The backend's device, without autodiff.
    pub fn device(self) -> Result<Device, ModelError> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            #[cfg(feature = "tch")]
            #[allow(deprecated)]
            Backend::Tch => Ok(Device::libtorch()),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Ok(Device::cuda(0)),
            #[allow(unreachable_patterns)]
            other => Err(ModelError::Invalid(format!(
                "backend `{other}` is not compiled into this build; rebuild with `--features {other}`"
            ))),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Flex => "flex",
            Backend::Tch => "tch",
            Backend::Cuda => "cuda",
        })
    }
}

impl FromStr for Backend {
    type Err = ModelError;

    /// Parses `flex`, `tch`, `cuda` or `auto` (the best compiled backend).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "flex" => Ok(Backend::Flex),
            "tch" | "libtorch" => Ok(Backend::Tch),
            "cuda" => Ok(Backend::Cuda),
            "auto" => Ok(Backend::best_compiled()),
            other => Err(ModelError::Invalid(format!(
                "unknown backend `{other}`; expected one of: flex, tch, cuda, auto"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threads that seed and draw at the same time still get their seed's values: 8 threads,
    /// two seeds, many rounds; each draw must equal the one taken alone.
    #[test]
    fn seeded_draws_do_not_mix_between_threads() {
        use burn::tensor::{Distribution, Tensor};
        let device = Device::flex();
        let draw = |seed: u64| {
            with_seeded_generator(&device, seed, || {
                let a = Tensor::<1>::random([64], Distribution::Default, &device);
                let b = Tensor::<1>::random([64], Distribution::Default, &device);
                let mut values = a.into_data().to_vec::<f32>().unwrap();
                values.extend(b.into_data().to_vec::<f32>().unwrap());
                values
            })
        };
        let alone = [draw(1), draw(2)];
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..8u64)
                .map(|t| {
                    let draw = &draw;
                    scope.spawn(move || (0..50).map(|_| draw(1 + t % 2)).collect::<Vec<_>>())
                })
                .collect();
            for (t, worker) in workers.into_iter().enumerate() {
                for values in worker.join().unwrap() {
                    assert_eq!(values, alone[t % 2], "thread {t} got another seed's draws");
                }
            }
        });
    }

    #[test]
    fn auto_prefers_a_gpu_then_flex_over_libtorch() {
        let expected = if cfg!(feature = "cuda") {
            Backend::Cuda
        } else {
            Backend::Flex
        };
        assert_eq!("auto".parse::<Backend>().unwrap(), expected);
        assert_eq!("libtorch".parse::<Backend>().unwrap(), Backend::Tch);
    }
}
