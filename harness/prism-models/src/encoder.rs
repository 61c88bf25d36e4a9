//! The encoder student: BERT + mean pooling, with a classification head for NLI fine-tuning
//! and an embedding API (texts → L2-normalised vectors) for the embedding baselines.

use crate::bert::{Bert, BertConfig, EncoderBatch, mean_pool};
use crate::device::Backend;
use crate::error::ModelError;
use crate::tokenize::{Encoded, EncoderTokenizer};
use crate::weights::SafetensorsFile;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
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
        let mut dim = 0;
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); n];
        for chunk in EncoderTokenizer::length_sorted_batches(encoded, self.batch_size) {
            let batch = self.tokenizer.batch(encoded, &chunk, &self.device);
            let pooled = self.pooled(&batch);
            let [b, d] = pooled.dims();
            dim = d;
            let values: Vec<f32> = pooled
                .into_data()
                .try_into_vec::<f32>()
                .map_err(|e| ModelError::Invalid(format!("reading embeddings: {e:?}")))?;
            for (row, &i) in chunk.iter().enumerate().take(b) {
                out[i] = values[row * d..(row + 1) * d].to_vec();
            }
        }
        let mut features = Features::new(out.concat(), n, dim);
        features.l2_normalize();
        Ok(features)
    }

    /// Mean-pooled (not normalised) embeddings of one padded batch, `[batch, hidden]`.
    pub fn pooled(&self, batch: &EncoderBatch) -> Tensor<2> {
        mean_pool(self.bert.forward(batch), batch.attention_mask.clone())
    }
}

/// Encoder + mean pooling + dropout + linear head: the NLI student.
#[derive(Module, Debug)]
pub struct Classifier {
    encoder: Bert,
    dropout: Dropout,
    head: Linear,
}

impl Classifier {
    /// A classifier over `labels` classes on top of a pretrained encoder; the head is
    /// initialised from the device's seeded generator.
    pub fn new(encoder: Bert, config: &BertConfig, labels: usize, device: &Device) -> Self {
        Self {
            encoder,
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            head: LinearConfig::new(config.hidden_size, labels).init(device),
        }
    }

    /// Class logits, `[batch, labels]`.
    pub fn forward(&self, batch: &EncoderBatch) -> Tensor<2> {
        let pooled = mean_pool(self.encoder.forward(batch), batch.attention_mask.clone());
        let pooled = self.encoder.dropout_masks().apply(&self.dropout, pooled);
        self.head.forward(pooled)
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

    /// Number of encoder blocks.
    pub fn encoder_layers(&self) -> usize {
        self.encoder.num_layers()
    }
}
