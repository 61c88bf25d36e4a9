//! The config arguments every config-reading command shares; the session they resolve to is
//! [`prism_core::Session`].

pub use prism_core::Session;

/// Arguments every config-reading command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// Override a config key, e.g. `--set subsets.sizes=[500,1000]` (repeatable; the value is
    /// TOML, or a plain string).
    #[arg(long = "set", value_name = "KEY=VALUE", global = true)]
    pub overrides: Vec<String>,
}
