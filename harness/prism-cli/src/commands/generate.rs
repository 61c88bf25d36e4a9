//! `prism generate`: the assistant's reply of a causal LM to one prompt (chat template
//! applied), greedy by default.

use crate::context::{ConfigArgs, Session};
use anyhow::Result;
use prism_models::{Backend, LanguageModel, Sampling};
use std::process::ExitCode;
use std::str::FromStr;

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Model: a name in the cache (`smollm2-135m-instruct`), a `.gguf` file, or a HF folder
    /// (`config.json`, `*.safetensors`, `tokenizer.json`, `tokenizer_config.json`) of a Llama
    /// or Qwen2 model.
    #[arg(long)]
    model: String,
    /// The user turn.
    #[arg(long)]
    prompt: String,
    /// Most tokens to generate.
    #[arg(long, default_value_t = 64)]
    max_new_tokens: usize,
    /// Sampling temperature; 0 is greedy.
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    /// Nucleus sampling mass.
    #[arg(long, default_value_t = 1.0)]
    top_p: f32,
    /// Seed of the sampler.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Backend: flex, tch, cuda or auto.
    #[arg(long, default_value = "flex")]
    backend: String,
    #[command(flatten)]
    config: ConfigArgs,
}

pub fn run(args: GenerateArgs) -> Result<ExitCode> {
    let session = Session::load(None, &args.config.overrides)?;
    let models = session.cache().model("");
    let backend = Backend::from_str(&args.backend)?;
    let lm = LanguageModel::load(&args.model, &models, backend)?;
    let reply = lm.generate(
        &args.prompt,
        Sampling {
            temperature: args.temperature,
            top_p: args.top_p,
            seed: args.seed,
            max_new_tokens: args.max_new_tokens,
        },
    )?;
    println!("{reply}");
    Ok(ExitCode::SUCCESS)
}
