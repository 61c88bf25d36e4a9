//! `prism`: the command line of the prism research harness.
//!
//! This crate only wires the pipeline crates together: argument parsing, config resolution,
//! output formatting and exit codes (0 success, 1 a run or computation failed, 2 bad input or
//! config).

mod commands;
mod context;
mod exit;
mod ids;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any thread allocates: training and featurisation churn through large buffers.
    prism_models::allocator::tune_for_tensors();
    let cli = commands::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PRISM_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            let class = exit::classify(&err);
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(class.code())
        }
    }
}
