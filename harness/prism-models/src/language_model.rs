//! A causal LM ready to use: weights, tokenizer and chat template from a GGUF file or a HF
//! folder, with completion-only loss and sampling (greedy, temperature, top-p) over a KV cache.

use crate::causal_lm::{CausalLm, CausalLmConfig, KvCache};
use crate::device::Backend;
use crate::error::ModelError;
use crate::gguf::GgufFile;
use crate::lm_tokenizer::{ChatTokens, LmTokenizer};
use crate::weights::ShardedSafetensors;
use burn::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

/// A generated reply, and whether the model ended its turn (sampled an end-of-turn token)
/// before its token limit: a caller reading a structured reply can then tell a block the
/// model chose to leave open from one the limit cut short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The reply's text.
    pub text: String,
    /// Whether an end-of-turn token ended it (false: it reached `max_new_tokens`).
    pub ended_turn: bool,
}

/// How to pick each next token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    /// 0 = greedy; otherwise logits are divided by it before sampling.
    pub temperature: f32,
    /// Nucleus: sample among the most likely tokens whose probabilities sum to `top_p`.
    pub top_p: f32,
    /// Seed of the sampler.
    pub seed: u64,
    /// Most tokens to add.
    pub max_new_tokens: usize,
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            temperature: 0.0,
            top_p: 1.0,
            seed: 0,
            max_new_tokens: 64,
        }
    }
}

/// A loaded causal LM with its tokenizer.
pub struct LanguageModel {
    /// The network.
    pub model: CausalLm,
    /// Tokenizer and chat template.
    pub tokenizer: LmTokenizer,
    /// Where it runs.
    pub device: Device,
    /// The file or folder it came from.
    pub source: PathBuf,
}

/// Finds the model file or folder: a path as given, or `<models_dir>/<name>`; a folder with one
/// `.gguf` file and no `config.json` means that file.
pub fn resolve_model(name_or_path: &str, models_dir: &Path) -> Result<PathBuf, ModelError> {
    let given = Path::new(name_or_path);
    let path = if given.exists() {
        given.to_path_buf()
    } else if !name_or_path.contains('/') {
        models_dir.join(name_or_path)
    } else {
        return Err(ModelError::file(given, "not found"));
    };
    if path.is_file() {
        return Ok(path);
    }
    if !path.is_dir() {
        return Err(ModelError::file(
            &path,
            format!("model `{name_or_path}` not found (run `just fetch`, or give a path)"),
        ));
    }
    if path.join("config.json").is_file() {
        return Ok(path);
    }
    let ggufs: Vec<PathBuf> = fs_err::read_dir(&path)
        .map_err(|e| ModelError::file(&path, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "gguf"))
        .collect();
    match ggufs.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(ModelError::file(
            &path,
            "holds neither config.json nor a .gguf file",
        )),
        _ => Err(ModelError::file(
            &path,
            "holds several .gguf files; name one",
        )),
    }
}

impl LanguageModel {
    /// Loads the model at `path` (a `.gguf` file or a HF folder) onto `device`.
    pub fn load_path(path: &Path, device: &Device) -> Result<Self, ModelError> {
        let (model, tokenizer) = if path.is_file() {
            let file = GgufFile::open(path)?;
            let config = CausalLmConfig::from_gguf(&file)?;
            let tokenizer = LmTokenizer::from_gguf(&file)?;
            (CausalLm::load(config, &file, device)?, tokenizer)
        } else {
            let config = CausalLmConfig::from_hf(&path.join("config.json"))?;
            let weights = ShardedSafetensors::open_dir(path)?;
            let tokenizer = LmTokenizer::from_hf_dir(path)?;
            (CausalLm::load(config, &weights, device)?, tokenizer)
        };
        Ok(Self {
            model,
            tokenizer,
            device: device.clone(),
            source: path.into(),
        })
    }

    /// Resolves `name_or_path` (see [`resolve_model`]) and loads it for inference on `backend`.
    pub fn load(
        name_or_path: &str,
        models_dir: &Path,
        backend: Backend,
    ) -> Result<Self, ModelError> {
        let path = resolve_model(name_or_path, models_dir)?;
        Self::load_path(&path, &backend.device()?)
    }

    /// Completion-only mean cross-entropy of each (prompt, completion) pair, computed in one
    /// right-padded batch.
    pub fn completion_losses(&self, pairs: &[(&str, &str)]) -> Result<Vec<f32>, ModelError> {
        let chats: Vec<ChatTokens> = pairs
            .iter()
            .map(|(p, c)| self.tokenizer.chat(p, c))
            .collect::<Result<_, _>>()?;
        let (ids, mask) = self.loss_batch(&chats);
        let losses = self.model.masked_loss(ids, mask);
        losses
            .into_data()
            .try_into_vec::<f32>()
            .map_err(|e| ModelError::Invalid(format!("reading losses: {e:?}")))
    }

    /// Right-padded ids `[batch, len]` and the 0/1 mask of completion tokens.
    pub fn loss_batch(&self, chats: &[ChatTokens]) -> (Tensor<2, Int>, Tensor<2>) {
        let len = chats.iter().map(|c| c.ids.len()).max().unwrap_or(1);
        let b = chats.len();
        let pad = self.tokenizer.stop_ids.first().copied().unwrap_or(0) as i64;
        let mut ids = vec![pad; b * len];
        let mut mask = vec![0f32; b * len];
        for (r, c) in chats.iter().enumerate() {
            for (t, &id) in c.ids.iter().enumerate() {
                ids[r * len + t] = id as i64;
                if t >= c.completion_start {
                    mask[r * len + t] = 1.0;
                }
            }
        }
        (
            Tensor::from_data(TensorData::new(ids, [b, len]), &self.device),
            Tensor::from_data(TensorData::new(mask, [b, len]), &self.device),
        )
    }

    /// The assistant's reply to `prompt` (chat template applied), stopping at the end of the
    /// turn or after `sampling.max_new_tokens` tokens.
    pub fn generate(&self, prompt: &str, sampling: Sampling) -> Result<String, ModelError> {
        let ids = self
            .tokenizer
            .encode(&self.tokenizer.template.prompt(prompt))?;
        let out = self.continue_ids(&ids, sampling)?;
        self.tokenizer.decode(&out)
    }

    /// The assistant's replies to `prompts` (chat template applied), generated together: the
    /// prompts are left-padded into one batch over one KV cache, and row `r` is sampled with
    /// `samplings[r]` by its own seeded sampler, so each reply is the one [`Self::generate`]
    /// gives alone (up to rounding in the padded attention). A row stops at the end of its
    /// turn or after its own `max_new_tokens`; a prompt may repeat (n samples of one problem).
    pub fn generate_batch(
        &self,
        prompts: &[&str],
        samplings: &[Sampling],
    ) -> Result<Vec<String>, ModelError> {
        let conversations: Vec<Vec<(&str, &str)>> =
            prompts.iter().map(|p| vec![("user", *p)]).collect();
        Ok(self
            .generate_conversations(&conversations, samplings)?
            .into_iter()
            .map(|g| g.text)
            .collect())
    }

    /// The next assistant reply of each conversation of `(role, content)` turns (few-shot
    /// examples as earlier turns; [`ChatTemplate::conversation`](crate::lm_tokenizer::ChatTemplate::conversation)),
    /// generated together as [`Self::generate_batch`] does, each with whether the model ended
    /// its turn.
    pub fn generate_conversations(
        &self,
        conversations: &[Vec<(&str, &str)>],
        samplings: &[Sampling],
    ) -> Result<Vec<Generated>, ModelError> {
        if conversations.len() != samplings.len() {
            return Err(ModelError::Invalid(format!(
                "{} conversations but {} samplings",
                conversations.len(),
                samplings.len()
            )));
        }
        if conversations.is_empty() {
            return Ok(Vec::new());
        }
        let ids = conversations
            .iter()
            .map(|c| {
                self.tokenizer
                    .encode(&self.tokenizer.template.conversation(c))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let outs = self.continue_batch(&ids, samplings)?;
        outs.iter()
            .zip(samplings)
            .map(|(o, s)| {
                Ok(Generated {
                    text: self.tokenizer.decode(o)?,
                    // A row stops at an end-of-turn token before its limit, and only there.
                    ended_turn: o.len() < s.max_new_tokens,
                })
            })
            .collect()
    }

    /// New token ids continuing each of `ids`, row `r` sampled by `samplings[r]` (see
    /// [`Self::generate_batch`]).
    pub fn continue_batch(
        &self,
        ids: &[Vec<u32>],
        samplings: &[Sampling],
    ) -> Result<Vec<Vec<u32>>, ModelError> {
        let b = ids.len();
        if ids.iter().any(Vec::is_empty) {
            return Err(ModelError::Invalid("a prompt has no tokens".into()));
        }
        let width = ids.iter().map(Vec::len).max().unwrap_or(0);
        let left_pad: Vec<usize> = ids.iter().map(|r| width - r.len()).collect();
        // Padding is never attended to: any id will do.
        let pad = ids[0][0] as i64;
        let mut input: Vec<i64> = Vec::with_capacity(b * width);
        for (row, p) in ids.iter().zip(&left_pad) {
            input.extend(std::iter::repeat_n(pad, *p));
            input.extend(row.iter().map(|&i| i as i64));
        }
        let mut rngs: Vec<ChaCha8Rng> = samplings
            .iter()
            .map(|s| ChaCha8Rng::seed_from_u64(s.seed))
            .collect();
        let mut outs = vec![Vec::new(); b];
        let mut done: Vec<bool> = samplings.iter().map(|s| s.max_new_tokens == 0).collect();
        let steps = samplings
            .iter()
            .map(|s| s.max_new_tokens)
            .max()
            .unwrap_or(0);
        let vocab = self.model.config.vocab_size;
        let mut cache = KvCache::default();
        let mut n = width;
        for _ in 0..steps {
            if done.iter().all(|d| *d) {
                break;
            }
            let x = Tensor::<2, Int>::from_data(TensorData::new(input, [b, n]), &self.device);
            let logits = self
                .model
                .forward_left_padded(x, Some(&mut cache), &left_pad);
            let last: Vec<f32> = logits
                .slice([0..b, n - 1..n, 0..vocab])
                .into_data()
                .try_into_vec::<f32>()
                .map_err(|e| ModelError::Invalid(format!("reading logits: {e:?}")))?;
            input = Vec::with_capacity(b);
            for r in 0..b {
                if done[r] {
                    input.push(pad);
                    continue;
                }
                let next = pick(
                    &last[r * vocab..(r + 1) * vocab],
                    samplings[r],
                    &mut rngs[r],
                );
                if self.tokenizer.stop_ids.contains(&next) {
                    done[r] = true;
                } else {
                    outs[r].push(next);
                    done[r] = outs[r].len() >= samplings[r].max_new_tokens;
                }
                input.push(next as i64);
            }
            n = 1;
        }
        Ok(outs)
    }

    /// New token ids continuing `ids`.
    pub fn continue_ids(&self, ids: &[u32], sampling: Sampling) -> Result<Vec<u32>, ModelError> {
        if ids.is_empty() {
            return Err(ModelError::Invalid("the prompt has no tokens".into()));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(sampling.seed);
        let mut cache = KvCache::default();
        let mut input: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
        let mut out = Vec::new();
        for _ in 0..sampling.max_new_tokens {
            let n = input.len();
            let x = Tensor::<2, Int>::from_data(TensorData::new(input, [1, n]), &self.device);
            let logits = self.model.forward(x, Some(&mut cache));
            let vocab = self.model.config.vocab_size;
            let last: Vec<f32> = logits
                .slice([0..1, n - 1..n, 0..vocab])
                .into_data()
                .try_into_vec::<f32>()
                .map_err(|e| ModelError::Invalid(format!("reading logits: {e:?}")))?;
            let next = pick(&last, sampling, &mut rng);
            if self.tokenizer.stop_ids.contains(&next) {
                break;
            }
            out.push(next);
            input = vec![next as i64];
        }
        Ok(out)
    }
}

/// Picks a token from `logits`: argmax when the temperature is 0, else a tempered top-p draw.
pub fn pick(logits: &[f32], sampling: Sampling, rng: &mut ChaCha8Rng) -> u32 {
    let argmax = || {
        logits
            .iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
                if v > best.1 { (i, v) } else { best }
            })
            .0 as u32
    };
    if sampling.temperature <= 0.0 {
        return argmax();
    }
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut probs: Vec<(usize, f64)> = logits
        .iter()
        .enumerate()
        .map(|(i, &v)| (i, (((v - max) / sampling.temperature) as f64).exp()))
        .collect();
    let total: f64 = probs.iter().map(|p| p.1).sum();
    probs.iter_mut().for_each(|p| p.1 /= total);
    probs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut kept = 0.0;
    let mut cut = probs.len();
    for (k, p) in probs.iter().enumerate() {
        kept += p.1;
        if kept >= sampling.top_p as f64 {
            cut = k + 1;
            break;
        }
    }
    let probs = &probs[..cut];
    let mass: f64 = probs.iter().map(|p| p.1).sum();
    let mut u = rng.random::<f64>() * mass;
    for p in probs {
        u -= p.1;
        if u <= 0.0 {
            return p.0 as u32;
        }
    }
    probs.last().map_or_else(argmax, |p| p.0 as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_takes_the_argmax_and_top_p_keeps_the_nucleus() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let logits = [0.0, 3.0, 1.0, -2.0];
        assert_eq!(pick(&logits, Sampling::default(), &mut rng), 1);
        // With top_p this small only the most likely token survives.
        let s = Sampling {
            temperature: 1.0,
            top_p: 0.01,
            ..Sampling::default()
        };
        for _ in 0..20 {
            assert_eq!(pick(&logits, s, &mut rng), 1);
        }
        // With top_p = 1 every token is reachable; a seeded run is reproducible.
        let s = Sampling {
            temperature: 5.0,
            top_p: 1.0,
            ..Sampling::default()
        };
        let draw = |seed| {
            let mut r = ChaCha8Rng::seed_from_u64(seed);
            (0..200)
                .map(|_| pick(&logits, s, &mut r))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        let seen: std::collections::BTreeSet<u32> = draw(7).into_iter().collect();
        assert_eq!(seen.len(), 4);
    }
}
