//! SmolLM2-135M-Instruct (GGUF, dequantised in Rust, un-permuted to rotate-half RoPE) against
//! `tests/reference/smollm2_reference.py` (llama.cpp's `gguf` dequantiser and a float64 numpy
//! forward pass with interleaved RoPE): same chat tokens, logits at the first 8 positions
//! within 1e-3, completion-only loss within 1e-4, and a greedy answer naming Paris.

mod common;

use burn::prelude::*;
use prism_models::language_model::resolve_model;
use prism_models::{LanguageModel, Sampling};

fn load() -> LanguageModel {
    let dir = common::model_dir("smollm2-135m-instruct");
    let path = resolve_model(dir.to_str().unwrap(), dir.parent().unwrap()).unwrap();
    LanguageModel::load_path(&path, &common::backend().device().unwrap()).unwrap()
}

#[test]
fn smollm2_tokens_logits_and_losses_match_numpy_reference() {
    let fixture = common::fixture("smollm2_fixture.json");
    let lm = load();
    let probe: Vec<usize> = fixture["vocab_probe"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let cases = fixture["cases"].as_array().unwrap();
    let mut worst_logit: f64 = 0.0;
    let mut worst_loss: f64 = 0.0;
    let mut pairs = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let (prompt, completion) = (
            case["prompt"].as_str().unwrap(),
            case["completion"].as_str().unwrap(),
        );
        pairs.push((prompt, completion));
        let chat = lm.tokenizer.chat(prompt, completion).unwrap();
        let want_ids: Vec<u32> = case["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(chat.ids, want_ids, "chat tokens of case {i}");
        assert_eq!(
            chat.completion_start,
            case["completion_start"].as_u64().unwrap() as usize
        );

        let ids: Vec<i64> = chat.ids.iter().map(|&x| x as i64).collect();
        let n = ids.len();
        let x = Tensor::<2, Int>::from_data(TensorData::new(ids, [1, n]), &lm.device);
        let vocab = lm.model.config.vocab_size;
        let logits: Vec<f32> = lm
            .model
            .forward(x, None)
            .slice([0..1, 0..8, 0..vocab])
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        for t in 0..8 {
            let row = &logits[t * vocab..(t + 1) * vocab];
            let got: Vec<f32> = probe.iter().map(|&v| row[v]).collect();
            let want: Vec<f64> = case["logits_first8"][t]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            worst_logit = worst_logit.max(common::max_abs_diff(&got, &want));
            let argmax = row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0;
            assert_eq!(
                argmax as u64,
                case["argmax_first8"][t].as_u64().unwrap(),
                "argmax at position {t} of case {i}"
            );
        }
    }
    let losses = lm.completion_losses(&pairs).unwrap();
    for (case, got) in cases.iter().zip(&losses) {
        worst_loss = worst_loss.max((*got as f64 - case["loss"].as_f64().unwrap()).abs());
    }
    eprintln!(
        "SmolLM2: max |Δ logit| {worst_logit:e} (first 8 positions, {} probe ids); max |Δ loss| {worst_loss:e}; losses {losses:?}",
        probe.len()
    );
    assert!(worst_logit < 1e-3, "logits differ by {worst_logit:e}");
    assert!(
        worst_loss < 1e-4,
        "completion losses differ by {worst_loss:e}"
    );
}

#[test]
fn smollm2_answers_the_capital_of_france() {
    let lm = load();
    let answer = lm
        .generate(
            "What is the capital of France?",
            Sampling {
                max_new_tokens: 24,
                ..Sampling::default()
            },
        )
        .unwrap();
    eprintln!("answer: {answer}");
    assert!(
        answer.contains("Paris"),
        "answer `{answer}` does not name Paris"
    );
}
