//! Maps errors onto exit codes: 2 when the user's input is at fault, 1 otherwise.

use prism_core::{ConfigError, ExitClass};
use prism_data::DataError;

/// A mistake in the command line that clap cannot see (e.g. an unknown dataset name).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit class of the first typed error in the chain.
pub fn classify(err: &anyhow::Error) -> ExitClass {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<ConfigError>() {
            return e.exit_class();
        }
        if let Some(e) = cause.downcast_ref::<DataError>() {
            return e.exit_class();
        }
        if let Some(e) = cause.downcast_ref::<prism_models::ModelError>() {
            return e.exit_class();
        }
        if let Some(e) = cause.downcast_ref::<prism_features::FeatureError>() {
            return e.exit_class();
        }
        if let Some(e) = cause.downcast_ref::<prism_report::RunsError>() {
            return e.exit_class();
        }
        if let Some(e) = cause.downcast_ref::<prism_sweep::SweepError>() {
            return e.exit_class();
        }
        if cause.downcast_ref::<UsageError>().is_some()
            || cause.downcast_ref::<prism_vendi::npy::NpyError>().is_some()
            || matches!(
                cause.downcast_ref::<prism_vendi::VendiError>(),
                Some(prism_vendi::VendiError::BadOrder(_))
            )
        {
            return ExitClass::BadInput;
        }
    }
    ExitClass::Failure
}
