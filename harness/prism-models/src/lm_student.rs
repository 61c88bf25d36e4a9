//! The math track's student: a causal LM (SmolLM2-135M-Instruct) fine-tuned on (question,
//! worked solution) pairs laid out by its chat template, with the completion-only loss the
//! G-Vendi proxy computes (mean cross-entropy of the completion's tokens and the end-of-turn
//! token), and scored by the per-token NLL and greedy correctness of gold completions.
//!
//! What trains (`train.layers`):
//! - `last-k`: the top `k` decoder blocks and the final RMSNorm;
//! - `all`: every decoder block and the final RMSNorm;
//! - `head-only`: the final RMSNorm's gains alone.
//!
//! The token embedding is never trained: SmolLM2 ties it to the output projection, so one
//! matrix is both the first layer and the vocabulary head; keeping it frozen means the blocks
//! below the first trainable one give the same states in every pass. Those states are
//! computed once per sequence ([`LowerStates`]) and every step runs only the trainable blocks
//! and the head, as the NLI student's [`crate::prefix::FrozenPrefix`] does.

use crate::causal_lm::{
    CausalLm, CausalLmConfig, Decoder, DecoderLayer, ScoredPositions, run_layers,
};
use crate::error::ModelError;
use crate::language_model::LanguageModel;
use crate::lm_tokenizer::{ChatTokens, LmTokenizer};
use crate::log_prob::target_log_probs;
use crate::train::{StepReport, TrainConfig, TrainLayers, TrainSummary, bucketed_batches};
use burn::module::Param;
use burn::nn::{Embedding, RmsNorm};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Bumped whenever the same config and data would train or score a different student.
/// 2 (2026-12-05): the loss and the scores read the target's log-probability through
/// [`crate::log_prob`] (vectorised `exp`, one fused gradient) instead of burn's `log_softmax`
/// and `gather`: the same values to about 1e-6, not the same bits.
pub const LM_STUDENT_VERSION: u32 = 2;

/// Bumped whenever the same weights and tokens would give different frozen-block states (the
/// states store's key). Apart from [`LM_STUDENT_VERSION`] because the states do not go
/// through the output layer: version 2 of the student left them as they were.
pub const LM_STATES_VERSION: u32 = 1;

/// The trainable top of the decoder, with the (frozen) tied head it projects through.
#[derive(Module, Debug)]
pub struct StudentTop {
    layers: Vec<DecoderLayer>,
    norm: RmsNorm,
    /// The tied embedding matrix as the output projection; never takes gradients.
    head: Embedding,
}

/// One sequence's states after the frozen blocks: `tokens × hidden`, row-major.
#[derive(Debug, Clone)]
struct SequenceStates {
    values: Vec<f32>,
    tokens: usize,
}

/// Every sequence's hidden states after the frozen lower blocks, computed once (no autodiff).
#[derive(Debug, Clone)]
pub struct LowerStates {
    states: Vec<SequenceStates>,
    hidden: usize,
}

impl LowerStates {
    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// The states as bytes, to keep them between invocations: the sequence count, the hidden
    /// size and each sequence's token count (little-endian u64), then every value
    /// (little-endian f32). [`LowerStates::from_bytes`] reads them back bit for bit.
    pub fn to_bytes(&self) -> Vec<u8> {
        let values: usize = self.states.iter().map(|s| s.values.len()).sum();
        let mut out = Vec::with_capacity(16 + 8 * self.states.len() + 4 * values);
        out.extend((self.states.len() as u64).to_le_bytes());
        out.extend((self.hidden as u64).to_le_bytes());
        for s in &self.states {
            out.extend((s.tokens as u64).to_le_bytes());
        }
        for s in &self.states {
            for v in &s.values {
                out.extend(v.to_le_bytes());
            }
        }
        out
    }

    /// Reads what [`LowerStates::to_bytes`] wrote; a length that does not add up is an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let bad = |what: &str| ModelError::Invalid(format!("stored frozen-block states: {what}"));
        let word = |at: usize| -> Result<usize, ModelError> {
            let b = bytes
                .get(at..at + 8)
                .ok_or_else(|| bad("truncated header"))?;
            Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        };
        let (n, hidden) = (word(0)?, word(8)?);
        let tokens = (0..n)
            .map(|i| word(16 + 8 * i))
            .collect::<Result<Vec<_>, _>>()?;
        let start = 16 + 8 * n;
        let floats: usize = tokens.iter().map(|t| t * hidden).sum();
        if bytes.len() != start + 4 * floats {
            return Err(bad(&format!(
                "{} bytes where {n} sequences of hidden size {hidden} need {}",
                bytes.len(),
                start + 4 * floats
            )));
        }
        let mut at = start;
        let states = tokens
            .into_iter()
            .map(|t| {
                let values = bytes[at..at + 4 * t * hidden]
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                    .collect();
                at += 4 * t * hidden;
                SequenceStates { values, tokens: t }
            })
            .collect();
        Ok(Self { states, hidden })
    }

    /// The states of the sequences `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> LowerStates {
        LowerStates {
            states: indices.iter().map(|&i| self.states[i].clone()).collect(),
            hidden: self.hidden,
        }
    }

    /// Right-padded states `[batch, len, hidden]` of `indices` (zero padding is harmless:
    /// attention is causal and padded positions are never scored).
    fn batch(&self, indices: &[usize], device: &Device) -> Tensor<3> {
        let len = indices
            .iter()
            .map(|&i| self.states[i].tokens)
            .max()
            .unwrap_or(1);
        let h = self.hidden;
        let mut values = vec![0f32; indices.len() * len * h];
        for (row, &i) in indices.iter().enumerate() {
            let s = &self.states[i];
            values[row * len * h..][..s.tokens * h].copy_from_slice(&s.values);
        }
        Tensor::from_data(TensorData::new(values, [indices.len(), len, h]), device)
    }
}

/// The scored positions of a batch of chats: every completion token (after the first token of
/// the sequence).
fn scored_positions(sequences: &[&ChatTokens]) -> ScoredPositions {
    ScoredPositions::new(
        sequences
            .iter()
            .map(|c| (c.completion_start.max(1)..c.ids.len()).collect())
            .collect(),
        |r, t| i64::from(sequences[r].ids[t]),
    )
}

/// How well a model writes one gold completion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompletionScore {
    /// Sum of the completion tokens' negative log-likelihoods (nats).
    pub nll: f64,
    /// Completion tokens scored (the end-of-turn token included).
    pub tokens: usize,
    /// Whether greedy decoding writes exactly this completion: every scored token is the
    /// argmax given the gold tokens before it (so greedy decoding reproduces the gold tokens
    /// one by one, and stops after them).
    pub greedy: bool,
}

impl CompletionScore {
    /// Mean per-token NLL.
    pub fn mean_nll(&self) -> f64 {
        self.nll / self.tokens.max(1) as f64
    }
}

/// A causal-LM student: frozen lower blocks, a trainable top, and the tokenizer.
pub struct LmStudent {
    lower: CausalLm,
    top: StudentTop,
    config: CausalLmConfig,
    /// Tokenizer and chat template.
    pub tokenizer: LmTokenizer,
    /// Index of the first trainable block (the number of frozen ones).
    pub frozen_blocks: usize,
    device: Device,
}

/// The number of frozen blocks `layers` leaves in a decoder of `num_layers` blocks.
pub fn frozen_blocks(layers: TrainLayers, num_layers: usize) -> Result<usize, ModelError> {
    match layers {
        TrainLayers::All => Ok(0),
        TrainLayers::HeadOnly => Ok(num_layers),
        TrainLayers::LastK { k } if k >= 1 && k <= num_layers => Ok(num_layers - k),
        TrainLayers::LastK { k } => Err(ModelError::Invalid(format!(
            "train.layers: last-k with k = {k} for a decoder of {num_layers} blocks"
        ))),
    }
}

impl LmStudent {
    /// Splits `model` (loaded on an autodiff device) into its frozen lower blocks and its
    /// trainable top as `layers` says.
    pub fn new(model: LanguageModel, layers: TrainLayers) -> Result<Self, ModelError> {
        if !model.device.is_autodiff() {
            return Err(ModelError::Invalid(
                "a student needs a model on an autodiff device".into(),
            ));
        }
        let config = model.model.config.clone();
        let frozen = frozen_blocks(layers, config.num_layers)?;
        let Decoder {
            embed_tokens,
            mut layers,
            norm,
            lm_head,
        } = model.model.decoder;
        if lm_head.is_some() {
            return Err(ModelError::Invalid(
                "the math student expects a tied output embedding (SmolLM2's)".into(),
            ));
        }
        let top_layers = layers.split_off(frozen);
        let head = Embedding {
            weight: Param::from_tensor(embed_tokens.weight.val()),
        }
        .no_grad();
        let lower_decoder = Decoder {
            embed_tokens,
            layers,
            norm: norm.clone(),
            lm_head: None,
        }
        .no_grad()
        .valid();
        let top = StudentTop {
            layers: top_layers,
            norm,
            head,
        };
        Ok(Self {
            lower: CausalLm {
                decoder: lower_decoder,
                config: config.clone(),
            },
            top,
            config,
            tokenizer: model.tokenizer,
            frozen_blocks: frozen,
            device: model.device,
        })
    }

    /// Tokenises `(prompt, completion)` pairs with the chat template, each cut to `max_len`
    /// tokens from the end of its prompt (the completion is kept whole when it fits).
    pub fn encode<P: AsRef<str>, C: AsRef<str>>(
        &self,
        pairs: &[(P, C)],
        max_len: usize,
    ) -> Result<Vec<ChatTokens>, ModelError> {
        pairs
            .iter()
            .map(|(p, c)| {
                let mut chat = self.tokenizer.chat(p.as_ref(), c.as_ref())?;
                if chat.ids.len() > max_len {
                    let cut = (chat.ids.len() - max_len).min(chat.completion_start);
                    chat.ids.drain(..cut);
                    chat.completion_start -= cut;
                    chat.ids.truncate(max_len);
                }
                Ok(chat)
            })
            .collect()
    }

    /// The states of `sequences` after the frozen blocks, in batches of at most
    /// `max_batch_tokens` padded tokens (no autodiff).
    pub fn lower_states(
        &self,
        sequences: &[ChatTokens],
        max_batch_tokens: usize,
        on_batch: &mut dyn FnMut(usize),
    ) -> Result<LowerStates, ModelError> {
        let device = self.device.clone().without_autodiff();
        let h = self.config.hidden_size;
        let mut states: Vec<Option<SequenceStates>> = vec![None; sequences.len()];
        for batch in length_sorted_batches(sequences, max_batch_tokens) {
            let len = batch
                .iter()
                .map(|&i| sequences[i].ids.len())
                .max()
                .unwrap_or(1);
            let mut ids = vec![0i64; batch.len() * len];
            for (row, &i) in batch.iter().enumerate() {
                for (t, &id) in sequences[i].ids.iter().enumerate() {
                    ids[row * len + t] = id as i64;
                }
            }
            let ids =
                Tensor::<2, Int>::from_data(TensorData::new(ids, [batch.len(), len]), &device);
            let values = read_f32(self.lower.lower_states(ids, self.frozen_blocks))?;
            for (row, &i) in batch.iter().enumerate() {
                let tokens = sequences[i].ids.len();
                states[i] = Some(SequenceStates {
                    values: values[row * len * h..][..tokens * h].to_vec(),
                    tokens,
                });
            }
            on_batch(batch.len());
        }
        Ok(LowerStates {
            states: states
                .into_iter()
                .map(|s| s.expect("every sequence batched"))
                .collect(),
            hidden: h,
        })
    }

    /// The log-probability of every scored token of the batch, without the padding, row by
    /// row (`[scored]`, in [`ScoredPositions::unpadded`] order), and the argmax token at each,
    /// from `top` over lower states `x`. Only the scored tokens go through the output layer:
    /// padded to the batch's longest completion, a third more rows did (2026-12-05).
    fn scored_logp(
        top: &StudentTop,
        config: &CausalLmConfig,
        x: Tensor<3>,
        scored: &ScoredPositions,
        with_argmax: bool,
    ) -> (Tensor<1>, Option<Tensor<1, Int>>) {
        let [b, len, h] = x.dims();
        let device = x.device();
        let (rows, targets) = scored.unpadded(len);
        let n = rows.len();
        let hidden = top.norm.forward(run_layers(config, &top.layers, x));
        let picked = hidden.reshape([b * len, h]).select(
            0,
            Tensor::<1, Int>::from_data(TensorData::new(rows, [n]), &device),
        );
        let logits = picked.matmul(top.head.weight.val().transpose());
        let argmax = with_argmax.then(|| logits.clone().argmax(1).reshape([n]));
        (target_log_probs(logits, targets), argmax)
    }

    /// The pretrained weights of the trainable top (what every fine-tuning starts from).
    pub fn pretrained_top(&self) -> &StudentTop {
        &self.top
    }

    /// Fine-tunes a copy of the pretrained top on `sequences` (their [`LowerStates`] in
    /// `states`) and returns it: AdamW, linear warm-up then linear decay, global
    /// gradient-norm clipping, length-bucketed seeded batches. A NaN or infinite loss stops
    /// the run with [`ModelError::NonFiniteLoss`]. The student itself is left as it was, so
    /// one loaded student serves every run of a sweep.
    pub fn fine_tune(
        &self,
        sequences: &[ChatTokens],
        states: &LowerStates,
        config: &TrainConfig,
        on_step: &mut dyn FnMut(StepReport),
    ) -> Result<(StudentTop, TrainSummary), ModelError> {
        config
            .validate()
            .map_err(|(key, why)| ModelError::Invalid(format!("{key}: {why}")))?;
        if sequences.is_empty() || sequences.len() != states.len() {
            return Err(ModelError::Invalid(format!(
                "{} training sequences with {} stored states",
                sequences.len(),
                states.len()
            )));
        }
        let device = self.device.clone();
        let lengths: Vec<usize> = sequences.iter().map(|s| s.ids.len()).collect();
        let mut optim = crate::train::adamw(config).init();
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let epochs = config.epochs_for(sequences.len());
        let total = sequences.len().div_ceil(config.batch_size) * epochs;
        let mut losses = Vec::with_capacity(total);
        let mut top = self.top.clone();
        for step_batch in (0..epochs)
            .flat_map(|_| bucketed_batches(&lengths, config.batch_size, &mut rng))
            .enumerate()
        {
            let (step, batch) = step_batch;
            let chats: Vec<&ChatTokens> = batch.iter().map(|&i| &sequences[i]).collect();
            let scored = scored_positions(&chats);
            let (logp, _) = Self::scored_logp(
                &top,
                &self.config,
                states.batch(&batch, &device),
                &scored,
                false,
            );
            let count = logp.dims()[0].max(1) as f32;
            let loss = logp.sum().neg().div_scalar(count);
            let loss_value = crate::train::finite_loss(step, loss.clone())?;
            let mut raw = loss.backward();
            let mut grads = [GradientsParams::from_module(&mut raw, &top)];
            let grad_norm = crate::train::clip_global_norm(&top, &mut grads, config.max_grad_norm);
            let lr = config.learning_rate_at(step, total);
            let [grads] = grads;
            top = optim.step(lr, top, grads);
            losses.push(loss_value);
            on_step(StepReport {
                step,
                total,
                loss: loss_value,
                learning_rate: lr,
                grad_norm,
            });
        }
        Ok((
            top,
            TrainSummary::from_losses(&losses, sequences.len() * epochs),
        ))
    }

    /// Scores every gold completion of `sequences` (their [`LowerStates`] in `states`) with
    /// the trainable top `top` (the pretrained one or a fine-tuned one), in evaluation mode,
    /// in batches of at most `max_batch_tokens` padded tokens.
    pub fn score(
        &self,
        top: &StudentTop,
        sequences: &[ChatTokens],
        states: &LowerStates,
        max_batch_tokens: usize,
    ) -> Result<Vec<CompletionScore>, ModelError> {
        let device = self.device.clone().without_autodiff();
        let top = top.valid();
        let mut out = vec![None; sequences.len()];
        for batch in length_sorted_batches(sequences, max_batch_tokens) {
            let chats: Vec<&ChatTokens> = batch.iter().map(|&i| &sequences[i]).collect();
            let scored = scored_positions(&chats);
            let (logp, argmax) = Self::scored_logp(
                &top,
                &self.config,
                states.batch(&batch, &device),
                &scored,
                true,
            );
            let logp = read_f32(logp)?;
            let argmax: Vec<i64> = argmax
                .expect("asked for")
                .into_data()
                .convert::<i64>()
                .try_into_vec::<i64>()
                .map_err(|e| ModelError::Invalid(format!("reading argmax: {e:?}")))?;
            // `logp` and `argmax` hold the scored tokens without the padding, row by row.
            let w = scored.width;
            let mut k = 0;
            for (row, &i) in batch.iter().enumerate() {
                let mut score = CompletionScore {
                    nll: 0.0,
                    tokens: 0,
                    greedy: true,
                };
                for j in 0..w {
                    if scored.weights[row * w + j] == 0.0 {
                        continue;
                    }
                    score.nll -= f64::from(logp[k]);
                    score.tokens += 1;
                    score.greedy &= argmax[k] == scored.targets[row * w + j];
                    k += 1;
                }
                out[i] = Some(score);
            }
        }
        Ok(out
            .into_iter()
            .map(|s| s.expect("every sequence scored"))
            .collect())
    }

    /// For each sequence, the log-probabilities (over the whole vocabulary) of each token of
    /// `choices` as its first completion token, given its prompt: how a student that answers
    /// with a label word is read as a classifier (the NLI student). Computed with the
    /// trainable top `top` in evaluation mode, in batches of at most `max_batch_tokens`
    /// padded tokens; row `i` holds `choices.len()` values.
    pub fn first_token_logp(
        &self,
        top: &StudentTop,
        sequences: &[ChatTokens],
        states: &LowerStates,
        choices: &[u32],
        max_batch_tokens: usize,
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let device = self.device.clone().without_autodiff();
        let top = top.valid();
        let h = self.config.hidden_size;
        let columns = Tensor::<1, Int>::from_data(
            TensorData::new(
                choices.iter().map(|&c| i64::from(c)).collect::<Vec<_>>(),
                [choices.len()],
            ),
            &device,
        );
        let mut out = vec![Vec::new(); sequences.len()];
        for batch in length_sorted_batches(sequences, max_batch_tokens) {
            let b = batch.len();
            let positions: Vec<i64> = batch
                .iter()
                .map(|&i| sequences[i].completion_start.max(1) as i64 - 1)
                .collect();
            let positions = Tensor::<1, Int>::from_data(TensorData::new(positions, [b]), &device)
                .reshape([b, 1, 1])
                .repeat_dim(2, h);
            let hidden = top.norm.forward(run_layers(
                &self.config,
                &top.layers,
                states.batch(&batch, &device),
            ));
            let logits = hidden
                .gather(1, positions)
                .reshape([b, h])
                .matmul(top.head.weight.val().transpose());
            let logp = read_f32(log_softmax(logits, 1).select(1, columns.clone()))?;
            for (row, &i) in batch.iter().enumerate() {
                out[i] = logp[row * choices.len()..][..choices.len()].to_vec();
            }
        }
        Ok(out)
    }
}

/// The indices of `sequences`, shortest first, cut into batches of at most `max_tokens` padded
/// tokens ([`token_batches`]): how the student runs any list of sequences.
fn length_sorted_batches(sequences: &[ChatTokens], max_tokens: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..sequences.len()).collect();
    order.sort_by_key(|&i| sequences[i].ids.len());
    token_batches(&order, |i| sequences[i].ids.len(), max_tokens)
}

/// Splits `order` into consecutive batches whose padded size (rows × longest) stays within
/// `max_tokens` (a batch holds at least one sequence; 0 = one batch of at most 8).
fn token_batches(
    order: &[usize],
    len_of: impl Fn(usize) -> usize,
    max_tokens: usize,
) -> Vec<Vec<usize>> {
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut longest = 0;
    for &i in order {
        let len = len_of(i);
        let grown = longest.max(len) * (current.len() + 1);
        let full = if max_tokens == 0 {
            current.len() == 8
        } else {
            grown > max_tokens
        };
        if !current.is_empty() && full {
            batches.push(std::mem::take(&mut current));
            longest = 0;
        }
        longest = longest.max(len);
        current.push(i);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

fn read_f32<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, ModelError> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| ModelError::Invalid(format!("reading a tensor: {e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_batches_bound_padded_tokens() {
        let lens = [3usize, 3, 4, 10, 10, 11];
        let order: Vec<usize> = (0..lens.len()).collect();
        let batches = token_batches(&order, |i| lens[i], 12);
        assert_eq!(batches, vec![vec![0, 1, 2], vec![3], vec![4], vec![5]]);
        for b in &batches {
            let longest = b.iter().map(|&i| lens[i]).max().unwrap();
            assert!(b.len() == 1 || longest * b.len() <= 12);
        }
    }

    #[test]
    fn scored_positions_predict_each_completion_token_from_the_one_before() {
        let a = ChatTokens {
            ids: vec![10, 11, 12, 13],
            completion_start: 2,
        };
        let b = ChatTokens {
            ids: vec![20, 21, 22],
            completion_start: 2,
        };
        let s = scored_positions(&[&a, &b]);
        assert_eq!(s.width, 2);
        assert_eq!(s.positions, vec![1, 2, 1, 0]);
        assert_eq!(s.targets, vec![12, 13, 22, 0]);
        assert_eq!(s.weights, vec![1.0, 1.0, 1.0, 0.0]);
    }

    #[test]
    fn frozen_blocks_follow_the_layers_setting() {
        assert_eq!(frozen_blocks(TrainLayers::All, 30).unwrap(), 0);
        assert_eq!(frozen_blocks(TrainLayers::LastK { k: 2 }, 30).unwrap(), 28);
        assert_eq!(frozen_blocks(TrainLayers::HeadOnly, 30).unwrap(), 30);
        assert!(frozen_blocks(TrainLayers::LastK { k: 31 }, 30).is_err());
        assert!(frozen_blocks(TrainLayers::LastK { k: 0 }, 30).is_err());
    }
}
