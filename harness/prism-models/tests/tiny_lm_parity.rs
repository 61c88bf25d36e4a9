//! The safetensors path of the causal LM on tiny random Qwen2 (q/k/v biases, untied head) and
//! Llama-3 (tied head, llama3 RoPE scaling) checkpoints made by
//! `tests/reference/tiny_lm_reference.py`, against its float64 numpy forward pass; and the
//! KV-cache path against the full forward.

mod common;

use burn::prelude::*;
use prism_models::LanguageModel;
use prism_models::causal_lm::KvCache;

fn logits(lm: &LanguageModel, ids: &[i64]) -> Vec<f32> {
    let x = Tensor::<2, Int>::from_data(TensorData::new(ids.to_vec(), [1, ids.len()]), &lm.device);
    lm.model
        .forward(x, None)
        .into_data()
        .try_into_vec::<f32>()
        .unwrap()
}

#[test]
fn tiny_qwen2_and_llama3_checkpoints_match_numpy() {
    let fixture = common::fixture("tiny-lm/fixture.json");
    let ids: Vec<i64> = fixture["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let device = common::backend().device().unwrap();
    for name in ["qwen2", "llama3"] {
        let dir = common::repo_root()
            .join("tests/reference/tiny-lm")
            .join(name);
        let lm = LanguageModel::load_path(&dir, &device).unwrap();
        let got = logits(&lm, &ids);
        let want: Vec<f64> = fixture["models"][name]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
            .collect();
        let diff = common::max_abs_diff(&got, &want);
        eprintln!("{name}: max |Δ logit| {diff:e}");
        assert!(diff < 1e-4, "{name}: logits differ by {diff:e}");

        // Feeding the sequence in three pieces through the KV cache gives the same last logits.
        let mut cache = KvCache::default();
        let vocab = lm.model.config.vocab_size;
        let mut last = Vec::new();
        for piece in [&ids[..5], &ids[5..6], &ids[6..]] {
            let x = Tensor::<2, Int>::from_data(
                TensorData::new(piece.to_vec(), [1, piece.len()]),
                &device,
            );
            let out = lm.model.forward(x, Some(&mut cache));
            let n = piece.len();
            last = out
                .slice([0..1, n - 1..n, 0..vocab])
                .into_data()
                .try_into_vec::<f32>()
                .unwrap();
        }
        assert_eq!(cache.len(), ids.len());
        let full_last = &got[(ids.len() - 1) * vocab..];
        let cached = last
            .iter()
            .zip(full_last)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            cached < 1e-5,
            "{name}: KV-cache logits differ by {cached:e}"
        );
    }
}
