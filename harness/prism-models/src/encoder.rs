//! The encoder student: BERT + mean pooling, with a classification head for NLI fine-tuning
//! and an embedding API (texts → L2-normalised vectors) for the embedding baselines.

use crate::align::Comparator;
use crate::bert::{Bert, BertConfig, EncoderBatch, StateBatch, mean_pool};
use crate::device::Backend;
use crate::error::ModelError;
use crate::tokenize::{Encoded, EncoderTokenizer, PairBatch};
use crate::weights::SafetensorsFile;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use prism_core::config::schema::Pairing;
use prism_vendi::Features;
use std::path::{Path, PathBuf};

/// The files of a HF encoder checkpoint folder.
#[derive(Debug, Clone)]
pub struct EncoderFiles {
    /// `config.json`.
    pub config: PathBuf,
    /// `model.safetensors`.
    pub weights: PathBuf,
    /// `tokenizer.json`.
    pub tokenizer: PathBuf,
}

impl EncoderFiles {
    /// The standard file names inside `dir`; each must exist.
    pub fn in_dir(dir: &Path) -> Result<Self, ModelError> {
        let files = Self {
            config: dir.join("config.json"),
            weights: dir.join("model.safetensors"),
            tokenizer: dir.join("tokenizer.json"),
        };
        for f in [&files.config, &files.weights, &files.tokenizer] {
            if !f.is_file() {
                return Err(ModelError::file(
                    f,
                    "not found (run `just fetch` to download the pinned models)",
                ));
            }
        }
        Ok(files)
    }

    /// Loads the encoder onto `device`, with a tokenizer truncating at `max_len` tokens.
    pub fn load(
        &self,
        max_len: usize,
        device: &Device,
    ) -> Result<(Bert, BertConfig, EncoderTokenizer), ModelError> {
        let config = BertConfig::from_file(&self.config)?;
        let weights = SafetensorsFile::open(&self.weights)?;
        let bert = Bert::load(&config, &weights, device)?;
        let max_len = max_len.min(config.max_position_embeddings);
        let tokenizer = EncoderTokenizer::load(&self.tokenizer, max_len)?;
        Ok((bert, config, tokenizer))
    }
}

/// Runs `per_batch` over `batches`, which cover `0..n` in any order (each call returns one
/// value per index of its batch, in batch order), and returns the values in input order:
/// inference batched by length, results put back where the caller expects them.
pub(crate) fn in_input_order<T>(
    n: usize,
    batches: Vec<Vec<usize>>,
    mut per_batch: impl FnMut(&[usize]) -> Result<Vec<T>, ModelError>,
) -> Result<Vec<T>, ModelError> {
    let mut out: Vec<Option<T>> = std::iter::repeat_with(|| None).take(n).collect();
    for chunk in batches {
        for (&i, value) in chunk.iter().zip(per_batch(&chunk)?) {
            out[i] = Some(value);
        }
    }
    out.into_iter()
        .enumerate()
        .map(|(i, v)| v.ok_or_else(|| ModelError::Invalid(format!("no batch covered row {i}"))))
        .collect()
}

/// [`in_input_order`] for a `forward` with one `[batch, width]` output per batch: the
/// row-major `n × width` outputs and `width`.
pub(crate) fn rows_in_input_order(
    n: usize,
    batches: Vec<Vec<usize>>,
    mut forward: impl FnMut(&[usize]) -> Tensor<2>,
) -> Result<(Vec<f32>, usize), ModelError> {
    in_input_order(n, batches, |chunk| tensor_rows(forward(chunk))).map(concat_rows)
}

/// The rows of a `[batch, width]` output, read back from the device.
fn tensor_rows(out: Tensor<2>) -> Result<Vec<Vec<f32>>, ModelError> {
    let width = out.dims()[1];
    let values: Vec<f32> = out
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| ModelError::Invalid(format!("reading model outputs: {e:?}")))?;
    Ok(values
        .chunks_exact(width.max(1))
        .map(<[f32]>::to_vec)
        .collect())
}

/// Equal-width rows as one row-major matrix and its width (0 when there are none).
fn concat_rows(rows: Vec<Vec<f32>>) -> (Vec<f32>, usize) {
    let width = rows.first().map_or(0, Vec::len);
    (rows.concat(), width)
}

/// `per_batch` of `model` in evaluation mode (no dropout, no autodiff) over `batches` of
/// `0..n`, collected by [`in_input_order`]: whole-set inference with a trained classifier.
pub(crate) fn eval_in_batches<T>(
    model: &Classifier,
    device: &Device,
    n: usize,
    batches: Vec<Vec<usize>>,
    per_batch: impl Fn(&Classifier, &[usize], &Device) -> Result<Vec<T>, ModelError>,
) -> Result<Vec<T>, ModelError> {
    let model = model.valid();
    let device = device.clone().without_autodiff();
    in_input_order(n, batches, |chunk| per_batch(&model, chunk, &device))
}

/// `forward` of `model` in evaluation mode (no dropout, no autodiff) over `batches` of
/// `0..n`, as row-major rows in input order: the head's input for a whole set.
pub(crate) fn eval_rows(
    model: &Classifier,
    device: &Device,
    n: usize,
    batches: Vec<Vec<usize>>,
    forward: impl Fn(&Classifier, &[usize], &Device) -> Tensor<2>,
) -> Result<(Vec<f32>, usize), ModelError> {
    eval_in_batches(model, device, n, batches, |model, chunk, device| {
        tensor_rows(forward(model, chunk, device))
    })
    .map(concat_rows)
}

/// Sentence embeddings from a pretrained encoder, for the embedding-based diversity metrics.
pub struct SentenceEncoder {
    bert: Bert,
    tokenizer: EncoderTokenizer,
    device: Device,
    batch_size: usize,
}

impl SentenceEncoder {
    /// Loads the encoder in `dir` on `backend`, inference only.
    pub fn load(dir: &Path, backend: Backend, max_len: usize) -> Result<Self, ModelError> {
        let device = backend.device()?;
        let (bert, _, tokenizer) = EncoderFiles::in_dir(dir)?.load(max_len, &device)?;
        Ok(Self {
            bert: bert.valid(),
            tokenizer,
            device,
            batch_size: 64,
        })
    }

    /// Sets how many texts go through the encoder at once.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Mean-pooled, L2-normalised embeddings of `texts`, one row each, in input order.
    /// Texts are batched by length so padding stays small.
    pub fn embed(&self, texts: &[&str]) -> Result<Features, ModelError> {
        let encoded = self.tokenizer.encode(texts)?;
        self.embed_encoded(&encoded)
    }

    /// Like [`embed`](Self::embed) for (premise, hypothesis) pairs encoded jointly.
    pub fn embed_pairs(&self, pairs: &[(&str, &str)]) -> Result<Features, ModelError> {
        let encoded = self.tokenizer.encode_pairs(pairs)?;
        self.embed_encoded(&encoded)
    }

    fn embed_encoded(&self, encoded: &[Encoded]) -> Result<Features, ModelError> {
        let n = encoded.len();
        let batches = EncoderTokenizer::length_sorted_batches(encoded, self.batch_size);
        let (values, dim) = rows_in_input_order(n, batches, |chunk| {
            self.pooled(&self.tokenizer.batch(encoded, chunk, &self.device))
        })?;
        let mut features = Features::new(values, n, dim);
        features.l2_normalize();
        Ok(features)
    }

    /// Mean-pooled (not normalised) embeddings of one padded batch, `[batch, hidden]`.
    pub fn pooled(&self, batch: &EncoderBatch) -> Tensor<2> {
        mean_pool(self.bert.forward(batch), batch.attention_mask.clone())
    }
}

/// Per-dimension standardisation of the head's input, `(x − mean) / sd`, fitted once on the
/// training set's features under the pretrained encoder and then fixed (a reparametrisation of
/// the head that puts the siamese features' very different scales on one footing for AdamW).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureScaler {
    mean: Vec<f32>,
    inv_sd: Vec<f32>,
}

impl FeatureScaler {
    /// Column means and population standard deviations (floored at 1e-6) of the row-major
    /// `rows × dim` matrix `values`, accumulated in f64.
    pub fn fit(values: &[f32], dim: usize) -> Self {
        let n = (values.len() / dim.max(1)).max(1) as f64;
        let mut sum = vec![0f64; dim];
        let mut sum_sq = vec![0f64; dim];
        for row in values.chunks_exact(dim) {
            for (j, &x) in row.iter().enumerate() {
                sum[j] += f64::from(x);
                sum_sq[j] += f64::from(x) * f64::from(x);
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let inv_sd = sum_sq
            .iter()
            .zip(&mean)
            .map(|(s, m)| (1.0 / (s / n - m * m).max(0.0).sqrt().max(1e-6)) as f32)
            .collect();
        Self {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            inv_sd,
        }
    }

    /// `(x − mean) / sd` for `x` of shape `[batch, dim]`.
    pub fn apply(&self, x: Tensor<2>) -> Tensor<2> {
        let device = x.device();
        let row =
            |v: &[f32]| Tensor::<2>::from_data(TensorData::new(v.to_vec(), [1, v.len()]), &device);
        (x - row(&self.mean)) * row(&self.inv_sd)
    }
}

/// What trains above the encoder: for [`Pairing::Aligned`] a [`Comparator`] over both
/// sides' token states, then the linear layer to the classes. One module, so that both get
/// the head's learning rate and both train in a head-only run.
#[derive(Module, Debug)]
pub struct Head {
    comparator: Option<Comparator>,
    linear: Linear,
}

/// Encoder + pooling + dropout + linear head: the NLI student. With [`Pairing::Cross`] the
/// head reads the mean-pooled joint sequence; with [`Pairing::Siamese`] it reads
/// `[u, v, |u − v|, u ⊙ v]` of the L2-normalised premise and hypothesis embeddings, through a
/// [`FeatureScaler`]; with [`Pairing::Aligned`] it reads a [`Comparator`]'s output over
/// both sides' token states.
#[derive(Module, Debug)]
pub struct Classifier {
    encoder: Bert,
    dropout: Dropout,
    head: Head,
    #[module(skip)]
    pairing: Pairing,
    #[module(skip)]
    scaler: Option<FeatureScaler>,
    /// The blocks below an aligned student's comparator (every block unless
    /// [`Self::with_align_blocks`] says fewer).
    #[module(skip)]
    align_after: usize,
}

impl Classifier {
    /// A cross-encoder classifier over `labels` classes on top of a pretrained encoder; the
    /// head is initialised from the device's seeded generator.
    pub fn new(encoder: Bert, config: &BertConfig, labels: usize, device: &Device) -> Self {
        Self::with_pairing(encoder, config, labels, Pairing::Cross, device)
    }

    /// A classifier that sees pairs as `pairing` says.
    pub fn with_pairing(
        encoder: Bert,
        config: &BertConfig,
        labels: usize,
        pairing: Pairing,
        device: &Device,
    ) -> Self {
        let comparator =
            (pairing == Pairing::Aligned).then(|| Comparator::new(config.hidden_size, device));
        let width = match pairing {
            Pairing::Cross => config.hidden_size,
            Pairing::Siamese => 4 * config.hidden_size,
            Pairing::Aligned => crate::align::ALIGN_WIDTH,
        };
        Self {
            encoder,
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            head: Head {
                comparator,
                linear: LinearConfig::new(width, labels).init(device),
            },
            pairing,
            scaler: None,
            align_after: config.num_hidden_layers,
        }
    }

    /// Makes an aligned student's comparator read the token states after the first `blocks`
    /// blocks (0 or more than the encoder has: after all of them); other students ignore it.
    pub fn with_align_blocks(self, blocks: usize) -> Self {
        let n = self.encoder.num_layers();
        Self {
            align_after: if blocks == 0 { n } else { blocks.min(n) },
            ..self
        }
    }

    /// The blocks whose output an aligned student's comparator reads.
    pub fn align_after(&self) -> usize {
        self.align_after
    }

    /// How this classifier sees a pair.
    pub fn pairing(&self) -> Pairing {
        self.pairing
    }

    /// Fixes the standardisation of the head's input (see [`FeatureScaler`]).
    pub fn with_scaler(self, scaler: FeatureScaler) -> Self {
        Self {
            scaler: Some(scaler),
            ..self
        }
    }

    /// What the head reads, before standardisation and dropout: `[batch, width]`.
    pub fn features(&self, batch: &PairBatch) -> Tensor<2> {
        let until = self.top_block();
        self.pair_features(batch, |b| {
            (
                self.encoder.forward_until(b, until),
                b.attention_mask.clone(),
            )
        })
    }

    /// Like [`features`](Self::features) from hidden states after the encoder's first blocks
    /// (a [`crate::prefix::FrozenPrefix`] batch): only the blocks above run.
    pub fn features_from(&self, batch: &PairBatch<StateBatch>) -> Tensor<2> {
        let until = self.top_block();
        self.pair_features(batch, |s| {
            (
                self.encoder.forward_from_until(s, until),
                s.attention_mask.clone(),
            )
        })
    }

    /// The last block whose output the head reads.
    fn top_block(&self) -> usize {
        match self.head.comparator {
            Some(_) => self.align_after,
            None => self.encoder.num_layers(),
        }
    }

    /// The encoder's hidden states after the embeddings and its first `blocks` blocks.
    pub fn encoder_states(&self, batch: &EncoderBatch, blocks: usize) -> Tensor<3> {
        self.encoder.forward_until(batch, blocks)
    }

    /// The head's input from `states` (a sequence's token states under the top block the
    /// head reads, and its mask) of each side.
    fn pair_features<S>(
        &self,
        batch: &PairBatch<S>,
        states: impl Fn(&S) -> (Tensor<3>, Tensor<2>),
    ) -> Tensor<2> {
        let pooled = |s: &S| {
            let (hidden, mask) = states(s);
            mean_pool(hidden, mask)
        };
        match (batch, &self.head.comparator) {
            (PairBatch::Joint(joint), _) => pooled(joint),
            (
                PairBatch::Separate {
                    premises,
                    hypotheses,
                },
                Some(comparator),
            ) => {
                let (a, mask_a) = states(premises);
                let (b, mask_b) = states(hypotheses);
                comparator.forward(a, mask_a, b, mask_b)
            }
            (
                PairBatch::Separate {
                    premises,
                    hypotheses,
                },
                None,
            ) => {
                let unit = |x: Tensor<2>| {
                    let norm = x.clone().square().sum_dim(1).sqrt().clamp_min(1e-12);
                    x / norm
                };
                let u = unit(pooled(premises));
                let v = unit(pooled(hypotheses));
                let diff = (u.clone() - v.clone()).abs();
                let prod = u.clone() * v.clone();
                Tensor::cat(vec![u, v, diff, prod], 1)
            }
        }
    }

    /// Class logits from [`features`](Self::features): standardised (when a scaler is set),
    /// dropout, head. `[batch, labels]`.
    pub fn classify(&self, features: Tensor<2>) -> Tensor<2> {
        let features = match &self.scaler {
            Some(scaler) => scaler.apply(features),
            None => features,
        };
        let features = self.encoder.dropout_masks().apply(&self.dropout, features);
        self.head.linear.forward(features)
    }

    /// Class logits, `[batch, labels]`.
    pub fn forward(&self, batch: &PairBatch) -> Tensor<2> {
        self.classify(self.features(batch))
    }

    /// Class logits from hidden states after the encoder's first blocks, `[batch, labels]`.
    pub fn forward_from(&self, batch: &PairBatch<StateBatch>) -> Tensor<2> {
        self.classify(self.features_from(batch))
    }

    /// The encoder (its parameters get their own learning rate in [`crate::train`]).
    pub(crate) fn encoder(&self) -> &Bert {
        &self.encoder
    }

    /// The classification head (with the comparator, when there is one).
    pub(crate) fn head(&self) -> &Head {
        &self.head
    }

    /// Freezes the encoder except its last `k` blocks; the head always trains.
    pub fn train_last_layers(self, k: usize) -> Self {
        Self {
            encoder: self.encoder.freeze_all_but_last(k),
            ..self
        }
    }

    /// Restarts the dropout masks from `seed`, so that a run's masks follow from its seed.
    pub fn seed_dropout(&self, seed: u64) {
        self.encoder.dropout_masks().reseed(seed);
    }

    /// Dropout mask values drawn since the last [`Self::seed_dropout`] (encoder and head).
    pub fn dropout_values_drawn(&self) -> u64 {
        self.encoder.dropout_masks().values_drawn()
    }

    /// Number of encoder blocks.
    pub fn encoder_layers(&self) -> usize {
        self.encoder.num_layers()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scaler_standardises_each_column() {
        // Columns: (1, 3) → mean 2, sd 1; (5, 5) → mean 5, sd 0 (floored at 1e-6).
        let scaler = FeatureScaler::fit(&[1.0, 5.0, 3.0, 5.0], 2);
        assert_eq!(scaler.mean, vec![2.0, 5.0]);
        assert_eq!(scaler.inv_sd, vec![1.0, 1e6]);
        let device = Device::flex();
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 5.0, 4.0, 5.0], [2, 2]),
            &device,
        );
        let y: Vec<f32> = scaler.apply(x).into_data().try_into_vec::<f32>().unwrap();
        assert_eq!(y, vec![-1.0, 0.0, 2.0, 0.0]);
    }
}
