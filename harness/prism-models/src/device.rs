//! Backend selection at run time. burn 0.22 dispatches on the [`Device`], so every model has
//! one code path; this module only turns a name (`flex`, `tch`, `cuda`) into a device, and
//! says clearly when a backend was not compiled in.

use crate::error::ModelError;
use burn::prelude::Device;
use std::fmt;
use std::str::FromStr;

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
    /// Every backend, in the order `auto` prefers them.
    pub const ALL: [Backend; 3] = [Backend::Cuda, Backend::Tch, Backend::Flex];

    /// Whether this build can create the backend's device.
    pub fn is_compiled(self) -> bool {
        match self {
            Backend::Flex => true,
            Backend::Tch => cfg!(feature = "tch"),
            Backend::Cuda => cfg!(feature = "cuda"),
        }
    }

    /// The fastest backend compiled into this build (CUDA, then libtorch, then flex).
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
