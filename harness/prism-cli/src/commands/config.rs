//! `prism config show`: the resolved config and where each value came from.

use crate::context::{ConfigArgs, Session};
use anyhow::Result;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print the resolved config of an experiment, each value with the layer that set it
    /// (defaults file, experiment file, env PRISM_*, --set, or built-in default).
    Show {
        /// Experiment name (`experiments/<name>.toml`) or path; omitted: defaults only.
        experiment: Option<String>,
        /// Print JSON: an array of {key, value, source}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

pub fn run(cmd: ConfigCommand) -> Result<ExitCode> {
    let ConfigCommand::Show {
        experiment,
        json,
        config,
    } = cmd;
    let session = Session::load(experiment.as_deref(), &config.overrides)?;
    let rows = session.config.provenance();
    if json {
        let items: Vec<_> = rows
            .iter()
            .map(|p| serde_json::json!({"key": p.key, "value": p.value, "source": p.source}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&items)?);
    } else {
        let width = rows
            .iter()
            .map(|p| p.key.len() + p.value.len() + 3)
            .max()
            .unwrap_or(0)
            .min(80);
        for p in rows {
            let assignment = format!("{} = {}", p.key, p.value);
            println!("{assignment:<width$}  # {}", p.source);
        }
    }
    Ok(ExitCode::SUCCESS)
}
