//! The sweep's typed errors: the ones a user can fix are told apart from failed runs, so the
//! command line exits 2 for them and 1 otherwise.

/// A sweep request that cannot be served as given.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A mistake in the request (an index outside the matrix, a sweep folder with no runs).
    #[error("{0}")]
    Usage(String),
}

impl SweepError {
    /// Exit class: always the user's input to fix.
    pub fn exit_class(&self) -> prism_core::ExitClass {
        prism_core::ExitClass::BadInput
    }
}
