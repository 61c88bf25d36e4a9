//! The frozen lower blocks of a last-k student, run once. When only the top `k` encoder blocks
//! train, the blocks below give the same output in every pass; [`FrozenPrefix`] keeps each
//! sequence's hidden states after them, so that training and evaluation run only the top
//! blocks and the head (a sweep's evaluation sets are encoded this far once for all runs).

use crate::bert::StateBatch;
use crate::encoder::{Classifier, eval_rows, in_input_order};
use crate::error::ModelError;
use crate::tokenize::{EncodedPairs, EncoderTokenizer, PairBatch, Paired, Sequence};
use burn::prelude::*;

/// One sequence's hidden states after the frozen blocks: `tokens × hidden`, row-major, real
/// tokens only.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceStates {
    values: Vec<f32>,
    tokens: usize,
}

impl Sequence for SequenceStates {
    fn tokens(&self) -> usize {
        self.tokens
    }
}

/// Every pair's sequences after the encoder's first `after_layers` blocks, computed in
/// evaluation mode (no dropout: frozen blocks are a fixed feature extractor, as the head-only
/// student's frozen encoder is).
#[derive(Debug, Clone, PartialEq)]
pub struct FrozenPrefix {
    pairs: Paired<SequenceStates>,
    hidden: usize,
    after_layers: usize,
}

impl FrozenPrefix {
    /// Runs the embeddings and the first `after_layers` blocks of `model`'s encoder over
    /// `encoded`, `batch_size` sequences at a time (shortest first), on `device` without
    /// autodiff.
    pub fn compute(
        model: &Classifier,
        tokenizer: &EncoderTokenizer,
        encoded: &EncodedPairs,
        after_layers: usize,
        batch_size: usize,
        device: &Device,
    ) -> Result<Self, ModelError> {
        if after_layers > model.encoder_layers() {
            return Err(ModelError::Invalid(format!(
                "a prefix of {after_layers} blocks from an encoder of {}",
                model.encoder_layers()
            )));
        }
        let model = model.valid();
        let device = device.clone().without_autodiff();
        let mut hidden = 0;
        let pairs = encoded.try_map(|sequences| {
            let batches = EncoderTokenizer::length_sorted_batches(sequences, batch_size);
            in_input_order(sequences.len(), batches, |chunk| {
                let batch = tokenizer.batch(sequences, chunk, &device);
                let states = model.encoder_states(&batch, after_layers);
                let [_, len, h] = states.dims();
                hidden = h;
                let values: Vec<f32> = states
                    .into_data()
                    .try_into_vec::<f32>()
                    .map_err(|e| ModelError::Invalid(format!("reading encoder states: {e:?}")))?;
                Ok(chunk
                    .iter()
                    .enumerate()
                    .map(|(row, &i)| {
                        let tokens = sequences[i].tokens();
                        SequenceStates {
                            values: values[row * len * h..][..tokens * h].to_vec(),
                            tokens,
                        }
                    })
                    .collect())
            })
        })?;
        Ok(Self {
            pairs,
            hidden,
            after_layers,
        })
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// How many blocks the states have been through.
    pub fn after_layers(&self) -> usize {
        self.after_layers
    }

    /// Tokens per pair (length bucketing sorts by them).
    pub fn lengths(&self) -> Vec<usize> {
        self.pairs.lengths()
    }

    /// The pairs at `indices`, zero-padded to their longest member and moved onto `device`.
    pub fn batch(&self, indices: &[usize], device: &Device) -> PairBatch<StateBatch> {
        let h = self.hidden;
        self.pairs.batch_with(|sequences| {
            let b = indices.len();
            let len = indices
                .iter()
                .map(|&i| sequences[i].tokens)
                .max()
                .unwrap_or(1)
                .max(1);
            let mut states = vec![0f32; b * len * h];
            let mut mask = vec![0f32; b * len];
            for (row, &i) in indices.iter().enumerate() {
                let s = &sequences[i];
                states[row * len * h..][..s.tokens * h].copy_from_slice(&s.values);
                mask[row * len..][..s.tokens].fill(1.0);
            }
            StateBatch {
                states: Tensor::from_data(TensorData::new(states, [b, len, h]), device),
                attention_mask: Tensor::from_data(TensorData::new(mask, [b, len]), device),
                after_layers: self.after_layers,
            }
        })
    }

    /// The head's input for every pair (the rest of the encoder, then pooling), in evaluation
    /// mode: row-major `pairs × width`, in input order.
    pub fn features(
        &self,
        model: &Classifier,
        batch_size: usize,
        device: &Device,
    ) -> Result<(Vec<f32>, usize), ModelError> {
        let batches = self.length_sorted_batches(batch_size);
        eval_rows(
            model,
            device,
            self.len(),
            batches,
            |model, chunk, device| model.features_from(&self.batch(chunk, device)),
        )
    }

    /// Indices in batches of at most `batch_size`, shortest first.
    pub fn length_sorted_batches(&self, batch_size: usize) -> Vec<Vec<usize>> {
        self.pairs.length_sorted_batches(batch_size)
    }
}
