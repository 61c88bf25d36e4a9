//! The BERT encoder (all-MiniLM-L6-v2 and any Hugging Face `BertModel` checkpoint), written
//! with burn-nn layers and loaded from safetensors with HF tensor names.
//!
//! Post-norm blocks, exact (erf) GELU, learned absolute positions, token types: the layout of
//! HF `BertModel`, so a checkpoint's outputs are reproduced to float precision (checked
//! against a numpy forward pass in `tests/reference/`).

use crate::activation::gelu;
use crate::dropout::MaskStream;
use crate::error::ModelError;
use crate::weights::WeightSource;
use burn::module::Param;
use burn::nn::{Dropout, DropoutConfig, Embedding, LayerNorm, LayerNormConfig, Linear};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use std::path::Path;

/// Bumped whenever the same checkpoint and input would give different outputs (version 2: the
/// GELU of [`crate::activation`]), so that caches of an older encoder's outputs are not reused.
pub const ENCODER_VERSION: u32 = 2;

/// Shape and regularisation of a BERT encoder, as in HF `config.json`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct BertConfig {
    /// Word-piece vocabulary size.
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Number of transformer blocks.
    pub num_hidden_layers: usize,
    /// Attention heads per block.
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Longest sequence the position table covers.
    pub max_position_embeddings: usize,
    /// Number of segment (token type) embeddings.
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    /// LayerNorm epsilon.
    #[serde(default = "default_ln_eps")]
    pub layer_norm_eps: f64,
    /// Dropout on embeddings and block outputs during training.
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    /// Dropout on attention probabilities during training.
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
}

fn default_type_vocab() -> usize {
    2
}
fn default_ln_eps() -> f64 {
    1e-12
}
fn default_dropout() -> f64 {
    0.1
}

impl BertConfig {
    /// Reads a HF `config.json`.
    pub fn from_file(path: &Path) -> Result<Self, ModelError> {
        let text = fs_err::read_to_string(path).map_err(|e| ModelError::file(path, e))?;
        let config: Self = serde_json::from_str(&text).map_err(|e| ModelError::file(path, e))?;
        if config.num_attention_heads == 0
            || !config
                .hidden_size
                .is_multiple_of(config.num_attention_heads)
        {
            return Err(ModelError::file(
                path,
                format!(
                    "hidden_size {} is not a multiple of num_attention_heads {}",
                    config.hidden_size, config.num_attention_heads
                ),
            ));
        }
        Ok(config)
    }
}

/// Word, position and token-type embeddings, summed and normalised.
#[derive(Module, Debug)]
pub struct BertEmbeddings {
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    norm: LayerNorm,
    dropout: Dropout,
}

/// Multi-head self-attention with its output projection and post-norm.
#[derive(Module, Debug)]
pub struct BertAttention {
    query: Linear,
    key: Linear,
    value: Linear,
    output: Linear,
    norm: LayerNorm,
    probs_dropout: Dropout,
    dropout: Dropout,
    heads: usize,
}

/// One transformer block: attention, then the GELU feed-forward with post-norm.
#[derive(Module, Debug)]
pub struct BertLayer {
    attention: BertAttention,
    intermediate: Linear,
    output: Linear,
    norm: LayerNorm,
    dropout: Dropout,
}

/// The encoder: embeddings and a stack of blocks; returns the last hidden states.
#[derive(Module, Debug)]
pub struct Bert {
    embeddings: BertEmbeddings,
    layers: Vec<BertLayer>,
    /// Where the training-time dropout masks come from (seeded by the trainer).
    #[module(skip)]
    masks: MaskStream,
}

/// A tokenised batch ready for the encoder: `[batch, len]` ids, token types and a 0/1 mask.
#[derive(Debug, Clone)]
pub struct EncoderBatch {
    /// Word-piece ids.
    pub input_ids: Tensor<2, Int>,
    /// Segment ids (0 for the first text, 1 for the second of a pair).
    pub token_type_ids: Tensor<2, Int>,
    /// 1 for real tokens, 0 for padding.
    pub attention_mask: Tensor<2>,
}

/// A batch of hidden states part-way through the encoder (after its first `after_layers`
/// blocks), padded like the [`EncoderBatch`] they came from: what the trainable top blocks of
/// a last-k student read when the frozen blocks below ran once ([`crate::prefix`]).
#[derive(Debug, Clone)]
pub struct StateBatch {
    /// `[batch, len, hidden]` states (zeros on padding).
    pub states: Tensor<3>,
    /// 1 for real tokens, 0 for padding.
    pub attention_mask: Tensor<2>,
    /// How many blocks produced `states`.
    pub after_layers: usize,
}

fn layer_norm(
    source: &dyn WeightSource,
    prefix: &str,
    config: &BertConfig,
    device: &Device,
) -> Result<LayerNorm, ModelError> {
    let mut norm = LayerNormConfig::new(config.hidden_size)
        .with_epsilon(config.layer_norm_eps)
        .init(device);
    norm.gamma = source.vector(&format!("{prefix}.weight"), config.hidden_size, device)?;
    norm.beta = Some(source.vector(&format!("{prefix}.bias"), config.hidden_size, device)?);
    Ok(norm)
}

fn embedding(
    source: &dyn WeightSource,
    name: &str,
    rows: usize,
    width: usize,
    device: &Device,
) -> Result<Embedding, ModelError> {
    Ok(Embedding {
        weight: Param::from_tensor(
            source
                .tensor_shaped(name, &[rows, width])?
                .to_tensor(device),
        ),
    })
}

/// Finds the tensor prefix of a checkpoint: bare `BertModel` names or `bert.`-prefixed ones.
fn detect_prefix(source: &dyn WeightSource) -> Result<&'static str, ModelError> {
    for prefix in ["", "bert.", "model."] {
        if source.contains(&format!("{prefix}embeddings.word_embeddings.weight")) {
            return Ok(prefix);
        }
    }
    Err(ModelError::MissingTensor {
        path: source.path().into(),
        name: "embeddings.word_embeddings.weight".into(),
    })
}

impl Bert {
    /// Loads a HF `BertModel` checkpoint from `source`.
    pub fn load(
        config: &BertConfig,
        source: &dyn WeightSource,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let p = detect_prefix(source)?;
        let h = config.hidden_size;
        let hidden_dropout = DropoutConfig::new(config.hidden_dropout_prob);
        let embeddings = BertEmbeddings {
            word: embedding(
                source,
                &format!("{p}embeddings.word_embeddings.weight"),
                config.vocab_size,
                h,
                device,
            )?,
            position: embedding(
                source,
                &format!("{p}embeddings.position_embeddings.weight"),
                config.max_position_embeddings,
                h,
                device,
            )?,
            token_type: embedding(
                source,
                &format!("{p}embeddings.token_type_embeddings.weight"),
                config.type_vocab_size,
                h,
                device,
            )?,
            norm: layer_norm(source, &format!("{p}embeddings.LayerNorm"), config, device)?,
            dropout: hidden_dropout.init(),
        };
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let l = format!("{p}encoder.layer.{i}");
                let lin = |name: &str, d_in: usize, d_out: usize| {
                    source.linear(
                        &format!("{l}.{name}.weight"),
                        Some(&format!("{l}.{name}.bias")),
                        d_in,
                        d_out,
                        device,
                    )
                };
                Ok(BertLayer {
                    attention: BertAttention {
                        query: lin("attention.self.query", h, h)?,
                        key: lin("attention.self.key", h, h)?,
                        value: lin("attention.self.value", h, h)?,
                        output: lin("attention.output.dense", h, h)?,
                        norm: layer_norm(
                            source,
                            &format!("{l}.attention.output.LayerNorm"),
                            config,
                            device,
                        )?,
                        probs_dropout: DropoutConfig::new(config.attention_probs_dropout_prob)
                            .init(),
                        dropout: hidden_dropout.init(),
                        heads: config.num_attention_heads,
                    },
                    intermediate: lin("intermediate.dense", h, config.intermediate_size)?,
                    output: lin("output.dense", config.intermediate_size, h)?,
                    norm: layer_norm(source, &format!("{l}.output.LayerNorm"), config, device)?,
                    dropout: hidden_dropout.init(),
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        Ok(Self {
            embeddings,
            layers,
            masks: MaskStream::default(),
        })
    }

    /// The dropout masks' source, shared with a head on top (reseed it for a run).
    pub fn dropout_masks(&self) -> &MaskStream {
        &self.masks
    }

    /// Number of transformer blocks.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// Last hidden states, `[batch, len, hidden]`.
    pub fn forward(&self, batch: &EncoderBatch) -> Tensor<3> {
        self.forward_until(batch, self.layers.len())
    }

    /// Hidden states after the embeddings and the first `blocks` blocks, `[batch, len, hidden]`.
    pub fn forward_until(&self, batch: &EncoderBatch, blocks: usize) -> Tensor<3> {
        let [b, len] = batch.input_ids.dims();
        let device = batch.input_ids.device();
        let positions = Tensor::<1, Int>::arange(0..len as i64, &device)
            .unsqueeze_dim::<2>(0)
            .repeat_dim(0, b);
        let e = &self.embeddings;
        let x = e.word.forward(batch.input_ids.clone())
            + e.position.forward(positions)
            + e.token_type.forward(batch.token_type_ids.clone());
        let x = self.masks.apply(&e.dropout, e.norm.forward(x));
        self.run_blocks(x, &batch.attention_mask, 0..blocks)
    }

    /// Last hidden states from states after the first `batch.after_layers` blocks: the rest of
    /// [`forward`](Self::forward).
    pub fn forward_from(&self, batch: &StateBatch) -> Tensor<3> {
        self.forward_from_until(batch, self.layers.len())
    }

    /// Like [`Self::forward_from`], stopping after block `until` (an aligned student reads
    /// states from the middle of the encoder); `until` ≤ the batch's blocks runs none.
    pub fn forward_from_until(&self, batch: &StateBatch, until: usize) -> Tensor<3> {
        self.run_blocks(
            batch.states.clone(),
            &batch.attention_mask,
            batch.after_layers..until.max(batch.after_layers),
        )
    }

    fn run_blocks(
        &self,
        mut x: Tensor<3>,
        attention_mask: &Tensor<2>,
        blocks: std::ops::Range<usize>,
    ) -> Tensor<3> {
        let [b, len, _] = x.dims();
        // Additive mask: 0 where a key is a real token, a large negative number on padding.
        let bias = (attention_mask.clone() - 1.0)
            .mul_scalar(1e30)
            .reshape([b, 1, 1, len]);
        for layer in &self.layers[blocks] {
            x = layer.forward(x, bias.clone(), &self.masks);
        }
        x
    }

    /// Freezes the embeddings and all but the last `k` blocks (cheap fine-tuning). `k = 0`
    /// freezes the whole encoder.
    pub fn freeze_all_but_last(self, k: usize) -> Self {
        let n = self.layers.len();
        let embeddings = self.embeddings.freeze();
        let layers = self
            .layers
            .into_iter()
            .enumerate()
            .map(|(i, layer)| if i + k < n { layer.freeze() } else { layer })
            .collect();
        Self {
            embeddings,
            layers,
            ..self
        }
    }
}

impl BertAttention {
    fn forward(&self, x: Tensor<3>, bias: Tensor<4>, masks: &MaskStream) -> Tensor<3> {
        let [b, len, h] = x.dims();
        let dh = h / self.heads;
        let split = |t: Tensor<3>| t.reshape([b, len, self.heads, dh]).swap_dims(1, 2);
        let q = split(self.query.forward(x.clone()));
        let k = split(self.key.forward(x.clone()));
        let v = split(self.value.forward(x.clone()));
        let scores = q
            .matmul(k.swap_dims(2, 3))
            .mul_scalar(1.0 / (dh as f64).sqrt())
            + bias;
        let probs = masks.apply(&self.probs_dropout, softmax(scores, 3));
        let context = probs.matmul(v).swap_dims(1, 2).reshape([b, len, h]);
        let out = masks.apply(&self.dropout, self.output.forward(context));
        self.norm.forward(out + x)
    }
}

impl BertLayer {
    fn forward(&self, x: Tensor<3>, bias: Tensor<4>, masks: &MaskStream) -> Tensor<3> {
        let attended = self.attention.forward(x, bias, masks);
        let hidden = gelu(self.intermediate.forward(attended.clone()));
        let out = masks.apply(&self.dropout, self.output.forward(hidden));
        self.norm.forward(out + attended)
    }
}

/// Mean of the hidden states over real tokens (sentence-transformers' mean pooling).
pub fn mean_pool(hidden: Tensor<3>, mask: Tensor<2>) -> Tensor<2> {
    let mask = mask.unsqueeze_dim::<3>(2);
    let summed = (hidden * mask.clone()).sum_dim(1);
    let counts = mask.sum_dim(1).clamp_min(1e-9);
    (summed / counts).squeeze_dim(1)
}
