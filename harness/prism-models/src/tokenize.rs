//! Tokenisation for the encoder: a HF `tokenizer.json` through the `tokenizers` crate, with
//! the file's fixed padding switched off (batches are padded dynamically to their longest
//! member) and longest-first truncation to a configurable length.

use crate::bert::EncoderBatch;
use crate::error::ModelError;
use burn::prelude::*;
use std::path::Path;
use tokenizers::{Tokenizer, TruncationParams, TruncationStrategy};

/// One tokenised text or text pair, unpadded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Token ids, with the special tokens of the tokenizer's template.
    pub ids: Vec<u32>,
    /// Segment id of each token.
    pub type_ids: Vec<u32>,
}

/// The encoder's tokenizer.
pub struct EncoderTokenizer {
    inner: Tokenizer,
    pad_id: u32,
}

impl EncoderTokenizer {
    /// Loads `tokenizer.json`; sequences are truncated to `max_len` tokens (specials included).
    pub fn load(path: &Path, max_len: usize) -> Result<Self, ModelError> {
        let mut inner = Tokenizer::from_file(path).map_err(|e| ModelError::file(path, e))?;
        inner.with_padding(None);
        inner
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                strategy: TruncationStrategy::LongestFirst,
                ..Default::default()
            }))
            .map_err(|e| ModelError::file(path, e))?;
        let pad_id = inner.token_to_id("[PAD]").unwrap_or(0);
        Ok(Self { inner, pad_id })
    }

    /// Tokenises single texts.
    pub fn encode(&self, texts: &[&str]) -> Result<Vec<Encoded>, ModelError> {
        texts
            .iter()
            .enumerate()
            .map(|(index, t)| {
                let e = self
                    .inner
                    .encode(*t, true)
                    .map_err(|e| ModelError::Tokenize {
                        index,
                        message: e.to_string(),
                    })?;
                Ok(Encoded {
                    ids: e.get_ids().to_vec(),
                    type_ids: e.get_type_ids().to_vec(),
                })
            })
            .collect()
    }

    /// Tokenises (first, second) pairs as `[CLS] first [SEP] second [SEP]`.
    pub fn encode_pairs(&self, pairs: &[(&str, &str)]) -> Result<Vec<Encoded>, ModelError> {
        pairs
            .iter()
            .enumerate()
            .map(|(index, (a, b))| {
                let e = self
                    .inner
                    .encode((*a, *b), true)
                    .map_err(|e| ModelError::Tokenize {
                        index,
                        message: e.to_string(),
                    })?;
                Ok(Encoded {
                    ids: e.get_ids().to_vec(),
                    type_ids: e.get_type_ids().to_vec(),
                })
            })
            .collect()
    }

    /// Pads `items` to their longest member and moves them onto `device`.
    pub fn batch(&self, items: &[&Encoded], device: &Device) -> EncoderBatch {
        let len = items.iter().map(|e| e.ids.len()).max().unwrap_or(1).max(1);
        let b = items.len();
        let mut ids = vec![self.pad_id as i64; b * len];
        let mut types = vec![0i64; b * len];
        let mut mask = vec![0f32; b * len];
        for (row, e) in items.iter().enumerate() {
            for (j, (&id, &ty)) in e.ids.iter().zip(&e.type_ids).enumerate() {
                ids[row * len + j] = id as i64;
                types[row * len + j] = ty as i64;
                mask[row * len + j] = 1.0;
            }
        }
        EncoderBatch {
            input_ids: Tensor::from_data(TensorData::new(ids, [b, len]), device),
            token_type_ids: Tensor::from_data(TensorData::new(types, [b, len]), device),
            attention_mask: Tensor::from_data(TensorData::new(mask, [b, len]), device),
        }
    }
}
