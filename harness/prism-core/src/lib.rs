//! Shared foundations of prism.
//!
//! Everything here is stage-agnostic: the pipeline crates (data, metrics, sweep, ...) build on
//! these pieces so that config errors, file writes and content hashes behave the same
//! everywhere.

pub mod atomic;
pub mod cache;
pub mod config;
pub mod error;
pub mod hash;
pub mod integrity;
pub mod once_map;
pub mod progress;
pub mod session;

pub use error::{ConfigError, ExitClass};
pub use integrity::IntegrityError;
pub use session::Session;
