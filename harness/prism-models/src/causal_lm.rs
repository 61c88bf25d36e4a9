//! The causal-LM proxy: one decoder for the Llama and Qwen2 architectures (pre-norm RMSNorm
//! blocks, grouped-query attention with rotate-half RoPE, SwiGLU feed-forward; Qwen2 adds
//! biases to the q/k/v projections), loaded from a GGUF file or a HF safetensors folder.
//!
//! Used for per-example loss gradients (G-Vendi) and for generation (synthesis). The gradient
//! taps (which weights, how their per-example gradients are recorded) are [`crate::grad_tap`].

use crate::activation::silu;
use crate::error::ModelError;
use crate::gguf::{GgufFile, MetaValue};
pub use crate::grad_tap::{BlockGradient, Factor, GradBlock, GradTap, TapEntry};
use crate::grad_tap::{block_index, tapped_linear};
use crate::weights::WeightSource;
use burn::module::Param;
use burn::nn::{Embedding, Linear, RmsNorm};
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, softmax};
use serde::Deserialize;
use std::path::Path;

/// Llama 3.1/3.2 frequency-dependent RoPE scaling (`rope_scaling.rope_type = "llama3"`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Llama3RopeScaling {
    /// Overall stretch of the low frequencies.
    pub factor: f64,
    /// Wavelength bound below which frequencies are stretched fully.
    pub low_freq_factor: f64,
    /// Wavelength bound above which frequencies are kept.
    pub high_freq_factor: f64,
    /// Context length of pre-training.
    pub original_max_position_embeddings: f64,
}

/// Shape of a Llama-family decoder.
#[derive(Debug, Clone, PartialEq)]
pub struct CausalLmConfig {
    /// `llama` or `qwen2`.
    pub architecture: String,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of the SwiGLU layer.
    pub intermediate_size: usize,
    /// Decoder blocks.
    pub num_layers: usize,
    /// Query heads.
    pub num_heads: usize,
    /// Key/value heads (grouped-query attention).
    pub num_kv_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f64,
    /// RoPE base.
    pub rope_theta: f64,
    /// Llama-3 RoPE scaling, if any.
    pub rope_scaling: Option<Llama3RopeScaling>,
    /// Whether the output projection reuses the token embedding.
    pub tie_word_embeddings: bool,
    /// Whether q/k/v projections have biases (Qwen2).
    pub attention_bias: bool,
}

#[derive(Deserialize)]
struct HfConfig {
    model_type: String,
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    head_dim: Option<usize>,
    rms_norm_eps: f64,
    #[serde(default = "default_theta")]
    rope_theta: f64,
    rope_scaling: Option<serde_json::Value>,
    #[serde(default)]
    tie_word_embeddings: bool,
    attention_bias: Option<bool>,
}

fn default_theta() -> f64 {
    10000.0
}

/// The HF `model_type`s this decoder loads.
pub const DECODER_MODEL_TYPES: [&str; 2] = ["llama", "qwen2"];

impl CausalLmConfig {
    /// Reads a HF `config.json` (model_type `llama` or `qwen2`).
    pub fn from_hf(path: &Path) -> Result<Self, ModelError> {
        let text = fs_err::read_to_string(path).map_err(|e| ModelError::file(path, e))?;
        let c: HfConfig = serde_json::from_str(&text).map_err(|e| ModelError::file(path, e))?;
        if !DECODER_MODEL_TYPES.contains(&c.model_type.as_str()) {
            return Err(ModelError::file(
                path,
                format!(
                    "model_type `{}` is not supported; expected llama or qwen2",
                    c.model_type
                ),
            ));
        }
        let rope_scaling = match &c.rope_scaling {
            Some(v) if v.get("rope_type").and_then(|t| t.as_str()) == Some("llama3") => {
                Some(serde_json::from_value(v.clone()).map_err(|e| ModelError::file(path, e))?)
            }
            Some(v) if !v.is_null() => {
                return Err(ModelError::file(
                    path,
                    format!("rope_scaling {v} is not supported (only rope_type llama3)"),
                ));
            }
            _ => None,
        };
        Ok(Self {
            attention_bias: c.attention_bias.unwrap_or(c.model_type == "qwen2"),
            architecture: c.model_type,
            vocab_size: c.vocab_size,
            hidden_size: c.hidden_size,
            intermediate_size: c.intermediate_size,
            num_layers: c.num_hidden_layers,
            num_heads: c.num_attention_heads,
            num_kv_heads: c.num_key_value_heads.unwrap_or(c.num_attention_heads),
            head_dim: c.head_dim.unwrap_or(c.hidden_size / c.num_attention_heads),
            rms_norm_eps: c.rms_norm_eps,
            rope_theta: c.rope_theta,
            rope_scaling,
            tie_word_embeddings: c.tie_word_embeddings,
        })
    }

    /// Reads the `<arch>.*` metadata of a GGUF file.
    pub fn from_gguf(file: &GgufFile) -> Result<Self, ModelError> {
        let arch = file
            .require("general.architecture")?
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !["llama", "qwen2"].contains(&arch.as_str()) {
            return Err(ModelError::file(
                file.path(),
                format!("GGUF architecture `{arch}` is not supported; expected llama or qwen2"),
            ));
        }
        let int = |key: &str| -> Result<usize, ModelError> {
            let k = format!("{arch}.{key}");
            file.require(&k)?
                .as_int()
                .map(|v| v as usize)
                .ok_or_else(|| ModelError::file(file.path(), format!("`{k}` is not an integer")))
        };
        let float = |key: &str, default: f64| {
            file.meta(&format!("{arch}.{key}"))
                .and_then(MetaValue::as_f64)
                .unwrap_or(default)
        };
        let hidden = int("embedding_length")?;
        let heads = int("attention.head_count")?;
        let vocab = file
            .tensors
            .get("token_embd.weight")
            .map(|t| t.dims[1])
            .ok_or_else(|| ModelError::MissingTensor {
                path: file.path().into(),
                name: "token_embd.weight".into(),
            })?;
        Ok(Self {
            vocab_size: vocab,
            hidden_size: hidden,
            intermediate_size: int("feed_forward_length")?,
            num_layers: int("block_count")?,
            num_heads: heads,
            num_kv_heads: int("attention.head_count_kv").unwrap_or(heads),
            head_dim: hidden / heads,
            rms_norm_eps: float("attention.layer_norm_rms_epsilon", 1e-5),
            rope_theta: float("rope.freq_base", 10000.0),
            rope_scaling: None,
            tie_word_embeddings: !file.tensors.contains_key("output.weight"),
            attention_bias: arch == "qwen2",
            architecture: arch,
        })
    }

    /// RoPE inverse frequencies, one per rotated pair, in f64.
    pub fn inverse_frequencies(&self) -> Vec<f64> {
        let half = self.head_dim / 2;
        (0..half)
            .map(|i| {
                let f = self
                    .rope_theta
                    .powf(-(2.0 * i as f64) / self.head_dim as f64);
                match &self.rope_scaling {
                    None => f,
                    Some(s) => {
                        let wavelength = 2.0 * std::f64::consts::PI / f;
                        let low = s.original_max_position_embeddings / s.low_freq_factor;
                        let high = s.original_max_position_embeddings / s.high_freq_factor;
                        if wavelength < high {
                            f
                        } else if wavelength > low {
                            f / s.factor
                        } else {
                            let smooth = (s.original_max_position_embeddings / wavelength
                                - s.low_freq_factor)
                                / (s.high_freq_factor - s.low_freq_factor);
                            (1.0 - smooth) * f / s.factor + smooth * f
                        }
                    }
                }
            })
            .collect()
    }
}

/// Grouped-query self-attention.
#[derive(Module, Debug)]
pub struct DecoderAttention {
    pub(crate) q_proj: Linear,
    pub(crate) k_proj: Linear,
    pub(crate) v_proj: Linear,
    pub(crate) o_proj: Linear,
}

/// SwiGLU feed-forward.
#[derive(Module, Debug)]
pub struct DecoderMlp {
    pub(crate) gate_proj: Linear,
    pub(crate) up_proj: Linear,
    pub(crate) down_proj: Linear,
}

/// One pre-norm decoder block.
#[derive(Module, Debug)]
pub struct DecoderLayer {
    pub(crate) input_norm: RmsNorm,
    pub(crate) attention: DecoderAttention,
    pub(crate) post_attention_norm: RmsNorm,
    pub(crate) mlp: DecoderMlp,
}

/// The decoder's parameters (a burn module, so gradients and optimisers see them).
#[derive(Module, Debug)]
pub struct Decoder {
    pub(crate) embed_tokens: Embedding,
    pub(crate) layers: Vec<DecoderLayer>,
    pub(crate) norm: RmsNorm,
    pub(crate) lm_head: Option<Linear>,
}

/// Keys and values of the positions seen so far, per layer: `[batch, kv_heads, seen, dh]`.
#[derive(Debug, Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor<4>, Tensor<4>)>>,
    seen: usize,
}

impl KvCache {
    /// Positions already in the cache.
    pub fn len(&self) -> usize {
        self.seen
    }
    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.seen == 0
    }
}

/// A Llama/Qwen2 causal LM: parameters plus shape.
#[derive(Debug)]
pub struct CausalLm {
    /// The parameters.
    pub decoder: Decoder,
    /// The shape.
    pub config: CausalLmConfig,
}

fn rms_norm(
    source: &dyn WeightSource,
    name: &str,
    config: &CausalLmConfig,
    device: &Device,
) -> Result<RmsNorm, ModelError> {
    Ok(RmsNorm {
        gamma: source.vector(name, config.hidden_size, device)?,
        epsilon: config.rms_norm_eps,
    })
}

impl CausalLm {
    /// Loads the decoder from `source` (HF tensor names; a GGUF file translates them).
    pub fn load(
        config: CausalLmConfig,
        source: &dyn WeightSource,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let c = &config;
        let (h, dh) = (c.hidden_size, c.head_dim);
        let embed_tokens = Embedding {
            weight: Param::from_tensor(
                source
                    .tensor_shaped("model.embed_tokens.weight", &[c.vocab_size, h])?
                    .to_tensor(device),
            ),
        };
        let layers = (0..c.num_layers)
            .map(|i| {
                let p = format!("model.layers.{i}");
                let bias = |name: &str| {
                    c.attention_bias
                        .then(|| format!("{p}.self_attn.{name}.bias"))
                };
                let proj = |name: &str, d_in: usize, d_out: usize, with_bias: Option<String>| {
                    source.linear(
                        &format!("{p}.{name}.weight"),
                        with_bias.as_deref(),
                        d_in,
                        d_out,
                        device,
                    )
                };
                Ok(DecoderLayer {
                    input_norm: rms_norm(
                        source,
                        &format!("{p}.input_layernorm.weight"),
                        c,
                        device,
                    )?,
                    attention: DecoderAttention {
                        q_proj: proj("self_attn.q_proj", h, c.num_heads * dh, bias("q_proj"))?,
                        k_proj: proj("self_attn.k_proj", h, c.num_kv_heads * dh, bias("k_proj"))?,
                        v_proj: proj("self_attn.v_proj", h, c.num_kv_heads * dh, bias("v_proj"))?,
                        o_proj: proj("self_attn.o_proj", c.num_heads * dh, h, None)?,
                    },
                    post_attention_norm: rms_norm(
                        source,
                        &format!("{p}.post_attention_layernorm.weight"),
                        c,
                        device,
                    )?,
                    mlp: DecoderMlp {
                        gate_proj: proj("mlp.gate_proj", h, c.intermediate_size, None)?,
                        up_proj: proj("mlp.up_proj", h, c.intermediate_size, None)?,
                        down_proj: proj("mlp.down_proj", c.intermediate_size, h, None)?,
                    },
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        let lm_head = if c.tie_word_embeddings {
            None
        } else {
            Some(source.linear("lm_head.weight", None, h, c.vocab_size, device)?)
        };
        let decoder = Decoder {
            embed_tokens,
            layers,
            norm: rms_norm(source, "model.norm.weight", c, device)?,
            lm_head,
        };
        Ok(Self { decoder, config })
    }

    /// cos and sin tables `[1, 1, len, head_dim]` for positions `start..start + len`.
    fn rope_tables(&self, start: usize, len: usize, device: &Device) -> (Tensor<4>, Tensor<4>) {
        rope_tables(&self.config, start, len, device)
    }

    /// Logits `[batch, len, vocab]` for `ids` `[batch, len]`. With a cache, `ids` continue
    /// the cached positions and the cache is extended. Without one, attention is causal
    /// over `ids` alone (right padding is harmless: no real token attends to it).
    pub fn forward(&self, ids: Tensor<2, Int>, cache: Option<&mut KvCache>) -> Tensor<3> {
        let hidden = self.hidden_states(ids, cache);
        self.logits(hidden)
    }

    /// Hidden states `[batch, len, hidden]` after the first `layers` blocks (before the final
    /// norm), from position 0: what a student whose lower `layers` blocks are frozen stores
    /// once per sequence.
    pub fn lower_states(&self, ids: Tensor<2, Int>, layers: usize) -> Tensor<3> {
        let x = self.decoder.embed_tokens.forward(ids);
        run_layers(&self.config, &self.decoder.layers[..layers], x)
    }

    /// Final-norm hidden states `[batch, len, hidden]`.
    pub fn hidden_states(&self, ids: Tensor<2, Int>, cache: Option<&mut KvCache>) -> Tensor<3> {
        self.hidden_states_tapped(ids, cache, None, &[])
    }

    /// [`Self::forward`] over a left-padded batch: row `r`'s first `left_pad[r]` positions
    /// (in the cache and in `ids`) are padding, which no real token attends to. RoPE scores
    /// depend only on relative positions, so a padded row's logits equal the unpadded row's
    /// (up to rounding): what batched generation over prompts of different lengths needs.
    pub fn forward_left_padded(
        &self,
        ids: Tensor<2, Int>,
        cache: Option<&mut KvCache>,
        left_pad: &[usize],
    ) -> Tensor<3> {
        let hidden = self.hidden_states_tapped(ids, cache, None, left_pad);
        self.logits(hidden)
    }

    /// [`Self::hidden_states`], recording gradient factors in `tap` when given.
    fn hidden_states_tapped(
        &self,
        ids: Tensor<2, Int>,
        mut cache: Option<&mut KvCache>,
        mut tap: Option<&mut GradTap>,
        left_pad: &[usize],
    ) -> Tensor<3> {
        let [_, len] = ids.dims();
        let device = ids.device();
        let start = cache.as_ref().map_or(0, |c| c.seen);
        let (cos, sin) = self.rope_tables(start, len, &device);
        let total = start + len;
        let mask = if left_pad.iter().any(|p| *p > 0) {
            left_padded_mask(start, len, left_pad, &device)
        } else {
            causal_mask(start, len, &device)
        };
        let mut x = self.decoder.embed_tokens.forward(ids.clone());
        if let Some(t) = tap.as_deref_mut() {
            let probe = Tensor::<3>::zeros(x.dims(), &x.device()).require_grad();
            t.entries.push(TapEntry {
                block: 0,
                u: Factor::Tokens(ids),
                v: Factor::Probe(probe.clone()),
            });
            x = x + probe;
        }
        if let Some(c) = cache.as_deref_mut()
            && c.layers.len() != self.decoder.layers.len()
        {
            c.layers = (0..self.decoder.layers.len()).map(|_| None).collect();
        }
        for (i, layer) in self.decoder.layers.iter().enumerate() {
            let slot = cache.as_deref_mut().map(|c| &mut c.layers[i]);
            x = layer.forward_tapped(&self.config, x, (&cos, &sin, &mask), slot, (i, &mut tap));
        }
        if let Some(c) = cache {
            c.seen = total;
        }
        self.decoder.norm.forward(x)
    }

    /// Projects hidden states onto the vocabulary.
    pub fn logits(&self, hidden: Tensor<3>) -> Tensor<3> {
        match &self.decoder.lm_head {
            Some(head) => head.forward(hidden),
            None => {
                let [b, l, h] = hidden.dims();
                let w = self.decoder.embed_tokens.weight.val();
                hidden.reshape([b * l, h]).matmul(w.transpose()).reshape([
                    b,
                    l,
                    self.config.vocab_size,
                ])
            }
        }
    }

    /// Per-example mean cross-entropy over the positions where `loss_mask` is 1.
    ///
    /// `ids` `[batch, len]`; `loss_mask[b][t] = 1` when token `t` is scored (predicted from
    /// the tokens before it). Returns `[batch]`. Logits are computed only where a token is
    /// scored (the vocabulary projection is the largest matrix of a small LM).
    pub fn masked_loss(&self, ids: Tensor<2, Int>, loss_mask: Tensor<2>) -> Tensor<1> {
        self.masked_loss_tapped(ids, loss_mask, None)
    }

    /// [`Self::masked_loss`], recording every weight's gradient factors in `tap` when given
    /// (the device must then be an autodiff device; backward the sum of the returned losses).
    pub fn masked_loss_tapped(
        &self,
        ids: Tensor<2, Int>,
        loss_mask: Tensor<2>,
        mut tap: Option<&mut GradTap>,
    ) -> Tensor<1> {
        let [b, len] = ids.dims();
        let device = ids.device();
        let host_ids: Vec<i64> = ids
            .to_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap_or_default();
        let host_mask: Vec<f32> = loss_mask
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap_or_default();
        // Scored tokens t ≥ 1 of each row, predicted from position t - 1.
        let scored = ScoredPositions::new(
            (0..b)
                .map(|r| (1..len).filter(|&t| host_mask[r * len + t] > 0.0).collect())
                .collect(),
            |r, t| host_ids[r * len + t],
        );
        let ScoredPositions {
            positions,
            targets,
            weights,
            width,
        } = scored;
        let int =
            |v: Vec<i64>| Tensor::<2, Int>::from_data(TensorData::new(v, [b, width]), &device);
        let hidden =
            self.hidden_states_tapped(ids.slice([0..b, 0..len - 1]), None, tap.as_deref_mut(), &[]);
        let h = self.config.hidden_size;
        let picked_hidden = hidden.gather(1, int(positions).unsqueeze_dim::<3>(2).repeat_dim(2, h));
        let logits = match &self.decoder.lm_head {
            Some(head) => tapped_linear(
                head,
                picked_hidden,
                block_index(self.config.num_layers, 0),
                &mut tap,
            ),
            None => {
                let w = self.decoder.embed_tokens.weight.val();
                let logits = picked_hidden
                    .clone()
                    .reshape([b * width, h])
                    .matmul(w.transpose())
                    .reshape([b, width, self.config.vocab_size]);
                match tap {
                    Some(t) => {
                        let probe =
                            Tensor::<3>::zeros(logits.dims(), &logits.device()).require_grad();
                        t.entries.push(TapEntry {
                            block: 0,
                            u: Factor::Probe(probe.clone()),
                            v: Factor::Values(picked_hidden.inner()),
                        });
                        logits + probe
                    }
                    None => logits,
                }
            }
        };
        let weights = Tensor::<2>::from_data(TensorData::new(weights, [b, width]), &device);
        let logp = log_softmax(logits, 2);
        let picked: Tensor<2> = logp
            .gather(2, int(targets).unsqueeze_dim::<3>(2))
            .squeeze_dim(2);
        let counts = weights.clone().sum_dim(1).clamp_min(1.0);
        ((picked * weights).sum_dim(1).neg() / counts).squeeze_dim(1)
    }

    /// The same model with no parameter taking gradients: a tapped backward then computes only
    /// activation gradients (no weight-gradient products), which is all factored features need.
    pub fn frozen(self) -> Self {
        Self {
            decoder: self.decoder.no_grad(),
            config: self.config,
        }
    }
}

/// cos and sin tables `[1, 1, len, head_dim]` for positions `start..start + len`.
fn rope_tables(
    config: &CausalLmConfig,
    start: usize,
    len: usize,
    device: &Device,
) -> (Tensor<4>, Tensor<4>) {
    let inv = config.inverse_frequencies();
    let dh = config.head_dim;
    let mut cos = Vec::with_capacity(len * dh);
    let mut sin = Vec::with_capacity(len * dh);
    for pos in start..start + len {
        for _ in 0..2 {
            for f in &inv {
                let angle = pos as f64 * f;
                cos.push(angle.cos() as f32);
                sin.push(angle.sin() as f32);
            }
        }
    }
    let make = |v: Vec<f32>| Tensor::<4>::from_data(TensorData::new(v, [1, 1, len, dh]), device);
    (make(cos), make(sin))
}

/// Self-attention of decoder layer `layer`; `tables` are RoPE cos, sin and the mask.
fn attention(
    c: &CausalLmConfig,
    attn: &DecoderAttention,
    x: Tensor<3>,
    (cos, sin, mask): (&Tensor<4>, &Tensor<4>, &Tensor<4>),
    cache: Option<&mut Option<(Tensor<4>, Tensor<4>)>>,
    (layer, tap): (usize, &mut Option<&mut GradTap>),
) -> Tensor<3> {
    let [b, len, _] = x.dims();
    let dh = c.head_dim;
    let heads = |t: Tensor<3>, n: usize| t.reshape([b, len, n, dh]).swap_dims(1, 2);
    let q = tapped_linear(&attn.q_proj, x.clone(), block_index(layer, 0), tap);
    let q = rope(heads(q, c.num_heads), cos, sin);
    let k = tapped_linear(&attn.k_proj, x.clone(), block_index(layer, 1), tap);
    let mut k = rope(heads(k, c.num_kv_heads), cos, sin);
    let v = tapped_linear(&attn.v_proj, x, block_index(layer, 2), tap);
    let mut v = heads(v, c.num_kv_heads);
    if let Some(slot) = cache {
        if let Some((pk, pv)) = slot.take() {
            k = Tensor::cat(vec![pk, k], 2);
            v = Tensor::cat(vec![pv, v], 2);
        }
        *slot = Some((k.clone(), v.clone()));
    }
    let total = k.dims()[2];
    let group = c.num_heads / c.num_kv_heads;
    let expand = |t: Tensor<4>| {
        if group == 1 {
            t
        } else {
            t.unsqueeze_dim::<5>(2)
                .repeat_dim(2, group)
                .reshape([b, c.num_heads, total, dh])
        }
    };
    let (k, v) = (expand(k), expand(v));
    let scores = q
        .matmul(k.swap_dims(2, 3))
        .mul_scalar(1.0 / (dh as f64).sqrt())
        + mask.clone();
    let context = softmax(scores, 3).matmul(v);
    let context = context.swap_dims(1, 2).reshape([b, len, c.num_heads * dh]);
    tapped_linear(&attn.o_proj, context, block_index(layer, 3), tap)
}
/// RoPE tables and the causal mask of a forward pass over `len` new positions after `start`.
type Tables<'a> = (&'a Tensor<4>, &'a Tensor<4>, &'a Tensor<4>);

impl DecoderLayer {
    /// One pre-norm block over `x` `[batch, len, hidden]`, extending `cache` and recording
    /// gradient factors in `tap` when given (`layer` is the block's index in the decoder).
    fn forward_tapped(
        &self,
        config: &CausalLmConfig,
        x: Tensor<3>,
        tables: Tables<'_>,
        cache: Option<&mut Option<(Tensor<4>, Tensor<4>)>>,
        (layer, tap): (usize, &mut Option<&mut GradTap>),
    ) -> Tensor<3> {
        let attended = attention(
            config,
            &self.attention,
            self.input_norm.forward(x.clone()),
            tables,
            cache,
            (layer, tap),
        );
        let h = x + attended;
        let m = &self.mlp;
        let normed = self.post_attention_norm.forward(h.clone());
        let gate = tapped_linear(&m.gate_proj, normed.clone(), block_index(layer, 4), tap);
        let up = tapped_linear(&m.up_proj, normed, block_index(layer, 5), tap);
        let ff = tapped_linear(&m.down_proj, silu(gate) * up, block_index(layer, 6), tap);
        h + ff
    }
}

/// Runs `layers` over hidden states `x` `[batch, len, hidden]` at positions `0..len` with
/// causal attention (no cache, no taps), returning the states after the last of them
/// (before the final norm). A student whose lower blocks are frozen runs its trainable
/// blocks this way on the frozen blocks' stored output.
pub fn run_layers(config: &CausalLmConfig, layers: &[DecoderLayer], x: Tensor<3>) -> Tensor<3> {
    let [_, len, _] = x.dims();
    let device = x.device();
    let (cos, sin) = rope_tables(config, 0, len, &device);
    let mask = causal_mask(0, len, &device);
    let mut x = x;
    for (i, layer) in layers.iter().enumerate() {
        x = layer.forward_tapped(config, x, (&cos, &sin, &mask), None, (i, &mut None));
    }
    x
}

/// Additive causal mask `[1, 1, len, start + len]`: query i (at `start + i`) sees keys up to
/// `start + i`.
/// The causal mask `[batch, 1, len, total]` of a left-padded batch: besides the future, row
/// `r` masks its first `left_pad[r]` key positions. A padding query still sees itself, so its
/// softmax stays finite (an all-masked row would put NaN into the cache).
fn left_padded_mask(start: usize, len: usize, left_pad: &[usize], device: &Device) -> Tensor<4> {
    let total = start + len;
    let b = left_pad.len();
    let mut mask = vec![0f32; b * len * total];
    for (r, &pad) in left_pad.iter().enumerate() {
        for i in 0..len {
            let query = start + i;
            let row = &mut mask[(r * len + i) * total..(r * len + i + 1) * total];
            for (j, m) in row.iter_mut().enumerate() {
                if j > query || (j < pad && j != query) {
                    *m = f32::NEG_INFINITY;
                }
            }
        }
    }
    Tensor::<4>::from_data(TensorData::new(mask, [b, 1, len, total]), device)
}

fn causal_mask(start: usize, len: usize, device: &Device) -> Tensor<4> {
    let total = start + len;
    let mut mask = vec![0f32; len * total];
    for i in 0..len {
        for j in (start + i + 1)..total {
            mask[i * total + j] = f32::NEG_INFINITY;
        }
    }
    Tensor::<4>::from_data(TensorData::new(mask, [1, 1, len, total]), device)
}

/// The scored tokens of a right-padded batch laid out `[batch, width]`: token `t` of a row is
/// predicted from position `t - 1`; `width` is the most scored tokens of any row, and shorter
/// rows are padded with weight 0. The completion-only loss of the proxy and of the math
/// student both gather their logits this way.
pub(crate) struct ScoredPositions {
    /// Position whose output predicts each scored token.
    pub positions: Vec<i64>,
    /// The scored token ids.
    pub targets: Vec<i64>,
    /// 1 for a scored token, 0 for padding.
    pub weights: Vec<f32>,
    /// Scored tokens per row, padded.
    pub width: usize,
}

impl ScoredPositions {
    /// From each row's scored token indices (all ≥ 1) and the id at (row, token).
    pub fn new(scored: Vec<Vec<usize>>, id_at: impl Fn(usize, usize) -> i64) -> Self {
        let b = scored.len();
        let width = scored.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut positions = vec![0i64; b * width];
        let mut targets = vec![0i64; b * width];
        let mut weights = vec![0f32; b * width];
        for (r, ts) in scored.iter().enumerate() {
            for (j, &t) in ts.iter().enumerate() {
                positions[r * width + j] = (t - 1) as i64;
                targets[r * width + j] = id_at(r, t);
                weights[r * width + j] = 1.0;
            }
        }
        Self {
            positions,
            targets,
            weights,
            width,
        }
    }

    /// The scored tokens without the padding, row by row: each one's predicting position as
    /// an index into the batch's positions flattened to `[batch * len]`, and its target. What
    /// goes through the output layer when no padded row should (the vocabulary projection is
    /// the largest matrix of a small LM).
    pub fn unpadded(&self, len: usize) -> (Vec<i64>, Vec<i64>) {
        let w = self.width;
        (0..self.weights.len())
            .filter(|&k| self.weights[k] > 0.0)
            .map(|k| ((k / w * len) as i64 + self.positions[k], self.targets[k]))
            .unzip()
    }
}

/// Rotate-half RoPE on `[batch, heads, len, dh]`.
fn rope(x: Tensor<4>, cos: &Tensor<4>, sin: &Tensor<4>) -> Tensor<4> {
    let [b, h, l, dh] = x.dims();
    let half = dh / 2;
    let x1 = x.clone().slice([0..b, 0..h, 0..l, 0..half]);
    let x2 = x.clone().slice([0..b, 0..h, 0..l, half..dh]);
    let rotated = Tensor::cat(vec![x2.neg(), x1], 3);
    x * cos.clone() + rotated * sin.clone()
}
