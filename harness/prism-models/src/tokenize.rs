//! Tokenisation for the encoder: a HF `tokenizer.json` through the `tokenizers` crate, with
//! the file's fixed padding switched off (batches are padded dynamically to their longest
//! member) and longest-first truncation to a configurable length.

use crate::bert::EncoderBatch;
use crate::error::ModelError;
use burn::prelude::*;
use prism_core::config::schema::Pairing;
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
        self.encode_all(texts.iter().copied())
    }

    /// Tokenises (first, second) pairs as `[CLS] first [SEP] second [SEP]`.
    pub fn encode_pairs(&self, pairs: &[(&str, &str)]) -> Result<Vec<Encoded>, ModelError> {
        self.encode_all(pairs.iter().copied())
    }

    fn encode_all<'s, I>(&self, inputs: impl Iterator<Item = I>) -> Result<Vec<Encoded>, ModelError>
    where
        I: Into<tokenizers::EncodeInput<'s>>,
    {
        inputs
            .enumerate()
            .map(|(index, input)| {
                let e = self
                    .inner
                    .encode(input, true)
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

    /// Indices of `encoded` in batches of at most `batch_size`, shortest first, so that
    /// inference pads little; callers put results back by index.
    pub fn length_sorted_batches(encoded: &[Encoded], batch_size: usize) -> Vec<Vec<usize>> {
        let lengths: Vec<usize> = encoded.iter().map(|e| e.ids.len()).collect();
        batches_by_length(&lengths, batch_size)
    }

    /// Pads the examples of `encoded` at `indices` to their longest member and moves them onto
    /// `device`.
    pub fn batch(&self, encoded: &[Encoded], indices: &[usize], device: &Device) -> EncoderBatch {
        let items: Vec<&Encoded> = indices.iter().map(|&i| &encoded[i]).collect();
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

/// Indices `0..lengths.len()` in batches of at most `batch_size`, shortest first (ties by
/// index).
fn batches_by_length(lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| (lengths[i], i));
    order
        .chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

/// Something a sequence of tokens becomes on the way through the encoder (its token ids, or
/// its hidden states after some blocks): all that batching needs is its length.
pub trait Sequence {
    /// Tokens in the sequence.
    fn tokens(&self) -> usize;
}

impl Sequence for Encoded {
    fn tokens(&self) -> usize {
        self.ids.len()
    }
}

/// Per-pair sequences in the form a [`Pairing`] feeds them to the encoder: tokenised pairs
/// ([`EncodedPairs`]) or their hidden states after the frozen blocks
/// ([`crate::prefix::FrozenPrefix`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paired<T> {
    /// `[CLS] premise [SEP] hypothesis [SEP]`, one sequence per pair.
    Joint(Vec<T>),
    /// Premise and hypothesis as two single-text sequences.
    Separate {
        /// `[CLS] premise [SEP]`.
        premises: Vec<T>,
        /// `[CLS] hypothesis [SEP]`.
        hypotheses: Vec<T>,
    },
}

/// Tokenised (premise, hypothesis) pairs.
pub type EncodedPairs = Paired<Encoded>;

/// A padded batch of pairs, on a device, in the form of its [`Paired`] sequences: token ids
/// ([`EncoderBatch`], the default) or hidden states ([`crate::bert::StateBatch`]).
// One batch exists per step: the variants' size difference (a few tensor handles) is moot.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum PairBatch<S = EncoderBatch> {
    /// One joint sequence per pair.
    Joint(S),
    /// Premises and hypotheses, row `i` of each from the same pair.
    Separate {
        /// The premises.
        premises: S,
        /// The hypotheses.
        hypotheses: S,
    },
}

impl EncodedPairs {
    /// Tokenises `pairs` for `pairing`.
    pub fn new(
        tokenizer: &EncoderTokenizer,
        pairs: &[(&str, &str)],
        pairing: Pairing,
    ) -> Result<Self, ModelError> {
        Ok(match pairing {
            Pairing::Cross => Self::Joint(tokenizer.encode_pairs(pairs)?),
            Pairing::Siamese | Pairing::Aligned => {
                let (premises, hypotheses): (Vec<&str>, Vec<&str>) = pairs.iter().copied().unzip();
                Self::Separate {
                    premises: tokenizer.encode(&premises)?,
                    hypotheses: tokenizer.encode(&hypotheses)?,
                }
            }
        })
    }

    /// The pairs at `indices`, padded and moved onto `device`.
    pub fn batch(
        &self,
        tokenizer: &EncoderTokenizer,
        indices: &[usize],
        device: &Device,
    ) -> PairBatch {
        self.batch_with(|sequences| tokenizer.batch(sequences, indices, device))
    }
}

impl<T> Paired<T> {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        match self {
            Self::Joint(joint) => joint.len(),
            Self::Separate { premises, .. } => premises.len(),
        }
    }

    /// True when there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The same pairing over `f` of each side's sequences (`f` keeps their order and count).
    pub fn try_map<U, E>(
        &self,
        mut f: impl FnMut(&[T]) -> Result<Vec<U>, E>,
    ) -> Result<Paired<U>, E> {
        Ok(match self {
            Self::Joint(joint) => Paired::Joint(f(joint)?),
            Self::Separate {
                premises,
                hypotheses,
            } => Paired::Separate {
                premises: f(premises)?,
                hypotheses: f(hypotheses)?,
            },
        })
    }

    /// One batch from `batch` applied to each side's sequences.
    pub fn batch_with<S>(&self, mut batch: impl FnMut(&[T]) -> S) -> PairBatch<S> {
        match self {
            Self::Joint(joint) => PairBatch::Joint(batch(joint)),
            Self::Separate {
                premises,
                hypotheses,
            } => PairBatch::Separate {
                premises: batch(premises),
                hypotheses: batch(hypotheses),
            },
        }
    }
}

impl<T: Sequence> Paired<T> {
    /// Tokens per pair (both sequences for separate pairs): what length bucketing sorts by.
    pub fn lengths(&self) -> Vec<usize> {
        match self {
            Self::Joint(joint) => joint.iter().map(Sequence::tokens).collect(),
            Self::Separate {
                premises,
                hypotheses,
            } => premises
                .iter()
                .zip(hypotheses)
                .map(|(p, h)| p.tokens() + h.tokens())
                .collect(),
        }
    }

    /// Indices in batches of at most `batch_size`, shortest first (inference; callers put
    /// results back by index).
    pub fn length_sorted_batches(&self, batch_size: usize) -> Vec<Vec<usize>> {
        batches_by_length(&self.lengths(), batch_size)
    }
}
