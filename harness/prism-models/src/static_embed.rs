//! Static sentence embeddings: tokenise with a Hugging Face `tokenizer.json`, look each token
//! up in an embedding table (safetensors, f32/f16/bf16), average, L2-normalise. This is wordllama's
//! recipe (average pooling over the token vectors of its 32,000 × 256 table).

use crate::weights::{SafetensorsFile, WeightSource};
use prism_vendi::Features;
use std::path::{Path, PathBuf};

/// Why the embedder cannot be loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum StaticEmbedError {
    /// A model file is missing or unreadable.
    #[error("`{path}`: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The weight file cannot be read (missing, malformed, no such tensor, unknown dtype).
    #[error(transparent)]
    Weights(crate::error::ModelError),
    /// The tokenizer failed on a text.
    #[error("tokenizing text {index}: {message}")]
    Tokenize {
        /// Which text.
        index: usize,
        /// The tokenizer's error.
        message: String,
    },
}

/// A token-embedding table with its tokenizer.
pub struct StaticEmbedder {
    tokenizer: tokenizers::Tokenizer,
    table: Vec<f32>,
    vocab: usize,
    dim: usize,
}

impl StaticEmbedder {
    /// Loads `weights` (one 2-D tensor named `tensor`, f16 or f32) and `tokenizer` (a
    /// `tokenizer.json`).
    pub fn load(weights: &Path, tensor: &str, tokenizer: &Path) -> Result<Self, StaticEmbedError> {
        let file_err = |path: &Path, message: String| StaticEmbedError::File {
            path: path.into(),
            message,
        };
        let host = SafetensorsFile::open(weights)
            .and_then(|f| f.tensor(tensor))
            .map_err(StaticEmbedError::Weights)?;
        let [vocab, dim] = host.shape[..] else {
            return Err(file_err(
                weights,
                format!("tensor `{tensor}` must be 2-D, has shape {:?}", host.shape),
            ));
        };
        let table = host.data;
        let tokenizer = tokenizers::Tokenizer::from_file(tokenizer)
            .map_err(|e| file_err(tokenizer, e.to_string()))?;
        Ok(Self {
            tokenizer,
            table,
            vocab,
            dim,
        })
    }

    /// The embedding width.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// One unit vector per text: the mean of its token vectors (special tokens excluded), then
    /// L2-normalised. A text with no known token gets a zero row.
    pub fn embed<S: AsRef<str>>(&self, texts: &[S]) -> Result<Features, StaticEmbedError> {
        let mut data = vec![0f32; texts.len() * self.dim];
        for (i, text) in texts.iter().enumerate() {
            let enc = self.tokenizer.encode(text.as_ref(), false).map_err(|e| {
                StaticEmbedError::Tokenize {
                    index: i,
                    message: e.to_string(),
                }
            })?;
            let row = &mut data[i * self.dim..(i + 1) * self.dim];
            let mut count = 0usize;
            for (&id, &special) in enc.get_ids().iter().zip(enc.get_special_tokens_mask()) {
                let id = id as usize;
                if special == 1 || id >= self.vocab {
                    continue;
                }
                for (r, v) in row
                    .iter_mut()
                    .zip(&self.table[id * self.dim..(id + 1) * self.dim])
                {
                    *r += v;
                }
                count += 1;
            }
            if count > 0 {
                row.iter_mut().for_each(|r| *r /= count as f32);
            }
        }
        let mut f = Features::new(data, texts.len(), self.dim);
        f.l2_normalize();
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A word-level tokenizer over {a, b, c} and a 3 × 2 table, written as real files.
    fn tiny(dir: &Path) -> StaticEmbedder {
        let tok = serde_json::json!({
            "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
            "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
            "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "a": 1, "b": 2, "c": 3}, "unk_token": "[UNK]"}
        });
        std::fs::write(dir.join("tokenizer.json"), tok.to_string()).unwrap();
        // Rows: [UNK] = (0, 0), a = (1, 0), b = (0, 1), c = (3, 4).
        let table: Vec<f32> = vec![0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 3.0, 4.0];
        let bytes: Vec<u8> = table.iter().flat_map(|v| v.to_le_bytes()).collect();
        let view =
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![4, 2], &bytes)
                .unwrap();
        let st = safetensors::serialize([("embedding.weight", view)], None).unwrap();
        std::fs::write(dir.join("w.safetensors"), st).unwrap();
        StaticEmbedder::load(
            &dir.join("w.safetensors"),
            "embedding.weight",
            &dir.join("tokenizer.json"),
        )
        .unwrap()
    }

    #[test]
    fn mean_pools_and_normalises() {
        let dir = tempfile::tempdir().unwrap();
        let e = tiny(dir.path());
        let f = e.embed(&["a b", "c", "a a"]).unwrap();
        let s = std::f32::consts::FRAC_1_SQRT_2;
        assert_eq!(f.row(0), &[s, s][..]); // mean (0.5, 0.5) → unit
        assert_eq!(f.row(1), &[0.6, 0.8][..]);
        assert_eq!(f.row(2), &[1.0, 0.0][..]);
        let missing = StaticEmbedder::load(
            &dir.path().join("nope"),
            "x",
            &dir.path().join("tokenizer.json"),
        );
        assert!(missing.err().unwrap().to_string().contains("nope"));
    }
}
