//! The math student against the whole model it is cut from, on the tiny random Llama-3
//! checkpoint (tied head, 2 blocks) of `tests/reference/tiny-lm`: scoring through stored
//! frozen-block states and the trainable top gives the full forward pass's completion loss at
//! every cut; the greedy flag agrees with real greedy decoding; fine-tuning lowers the training
//! loss and is bit-for-bit reproducible.

mod common;

use prism_models::LanguageModel;
use prism_models::lm_student::LmStudent;
use prism_models::train::{TrainConfig, TrainLayers};

fn tiny_lm() -> LanguageModel {
    let dir = common::repo_root().join("tests/reference/tiny-lm/llama3");
    let device = common::backend().device().unwrap().autodiff();
    LanguageModel::load_path(&dir, &device).unwrap()
}

const PAIRS: [(&str, &str); 4] = [
    ("abc", "cab"),
    ("hello there", "hi"),
    ("a b c d e f", "f e d"),
    ("x", "yz yz"),
];

#[test]
fn stored_states_read_back_bit_for_bit() {
    use prism_models::lm_student::LowerStates;
    let student = LmStudent::new(tiny_lm(), TrainLayers::LastK { k: 1 }).unwrap();
    let sequences = student.encode(&PAIRS, 512).unwrap();
    let states = student.lower_states(&sequences, 16, &mut |_| {}).unwrap();
    let bytes = states.to_bytes();
    let back = LowerStates::from_bytes(&bytes).unwrap();
    assert_eq!(back.to_bytes(), bytes);
    let scores = |s: &LowerStates| {
        student
            .score(student.pretrained_top(), &sequences, s, 16)
            .unwrap()
    };
    assert_eq!(scores(&states), scores(&back));
    let err = LowerStates::from_bytes(&bytes[..bytes.len() - 4]).unwrap_err();
    assert!(err.to_string().contains("need"), "{err}");
    assert!(LowerStates::from_bytes(&bytes[..10]).is_err());
}

#[test]
fn scores_through_stored_states_equal_the_full_forward_at_every_cut() {
    let full = tiny_lm();
    let want = full.completion_losses(&PAIRS).unwrap();
    for layers in [
        TrainLayers::All,
        TrainLayers::LastK { k: 1 },
        TrainLayers::HeadOnly,
    ] {
        let student = LmStudent::new(tiny_lm(), layers).unwrap();
        let sequences = student.encode(&PAIRS, 512).unwrap();
        let states = student.lower_states(&sequences, 16, &mut |_| {}).unwrap();
        let scores = student
            .score(student.pretrained_top(), &sequences, &states, 16)
            .unwrap();
        for (s, w) in scores.iter().zip(&want) {
            let got = s.mean_nll();
            assert!(
                (got - f64::from(*w)).abs() < 1e-4,
                "{layers:?}: {got} against the full model's {w}"
            );
        }
    }
}

#[test]
fn the_greedy_flag_agrees_with_greedy_decoding() {
    let lm = tiny_lm();
    let prompt = "abc";
    let sampling = prism_models::Sampling {
        max_new_tokens: 4,
        ..Default::default()
    };
    let greedy_ids = lm
        .continue_ids(
            &lm.tokenizer
                .encode(&lm.tokenizer.template.prompt(prompt))
                .unwrap(),
            sampling,
        )
        .unwrap();
    let greedy_text = lm.tokenizer.decode(&greedy_ids).unwrap();
    let student = LmStudent::new(lm, TrainLayers::LastK { k: 1 }).unwrap();
    let mut sequences = student
        .encode(&[(prompt, greedy_text.as_str())], 512)
        .unwrap();
    // The greedy reply, cut to what was decoded (a reply that reached the token limit has no
    // end of turn to score).
    let start = sequences[0].completion_start;
    let stopped = greedy_ids.len() < sampling.max_new_tokens;
    if !stopped {
        sequences[0].ids.truncate(start + greedy_ids.len());
    }
    assert_eq!(
        &sequences[0].ids[start..start + greedy_ids.len()],
        greedy_ids.as_slice()
    );
    let mut altered = sequences[0].clone();
    let last = altered.ids.len() - 1;
    altered.ids[last] = (altered.ids[last] + 1) % 32;
    sequences.push(altered);
    let states = student.lower_states(&sequences, 64, &mut |_| {}).unwrap();
    let scores = student
        .score(student.pretrained_top(), &sequences, &states, 64)
        .unwrap();
    assert!(scores[0].greedy, "the greedy reply is flagged greedy");
    assert!(!scores[1].greedy, "a changed last token is not");
}

#[test]
fn fine_tuning_lowers_the_loss_and_repeats_bit_for_bit() {
    let student = LmStudent::new(tiny_lm(), TrainLayers::LastK { k: 1 }).unwrap();
    let sequences = student.encode(&PAIRS, 512).unwrap();
    let states = student.lower_states(&sequences, 64, &mut |_| {}).unwrap();
    let config = TrainConfig {
        epochs: 30,
        batch_size: 2,
        learning_rate: 1e-2,
        ..TrainConfig::default()
    };
    let run = || {
        let mut losses = Vec::new();
        let (top, summary) = student
            .fine_tune(&sequences, &states, &config, &mut |r| losses.push(r.loss))
            .unwrap();
        (top, summary, losses)
    };
    let (top, summary, losses) = run();
    assert_eq!(summary.steps, 60);
    assert!(
        summary.last_loss < summary.first_loss * 0.8,
        "loss {} -> {}",
        summary.first_loss,
        summary.last_loss
    );
    let (_, _, again) = run();
    assert_eq!(losses, again, "same seed, same losses");
    let before = student
        .score(student.pretrained_top(), &sequences, &states, 64)
        .unwrap();
    let after = student.score(&top, &sequences, &states, 64).unwrap();
    let mean = |s: &[prism_models::lm_student::CompletionScore]| {
        s.iter().map(|c| c.mean_nll()).sum::<f64>() / s.len() as f64
    };
    assert!(mean(&after) < mean(&before));
}

#[test]
fn batched_generation_gives_each_prompt_its_own_reply() {
    use prism_models::Sampling;
    let lm = tiny_lm();
    // Prompts of different lengths (left padding), one repeated with two seeds.
    let prompts = ["abc", "hello there, how are you today", "x", "abc"];
    let samplings: Vec<Sampling> = [(0.0, 0, 12), (0.0, 0, 5), (0.9, 7, 9), (0.9, 8, 12)]
        .iter()
        .map(|&(temperature, seed, max_new_tokens)| Sampling {
            temperature,
            top_p: 0.9,
            seed,
            max_new_tokens,
        })
        .collect();
    let batch = lm.generate_batch(&prompts, &samplings).unwrap();
    for (r, (prompt, sampling)) in prompts.iter().zip(&samplings).enumerate() {
        let alone = lm.generate(prompt, *sampling).unwrap();
        assert_eq!(batch[r], alone, "row {r}: {prompt:?} {sampling:?}");
    }
    assert_eq!(
        batch,
        lm.generate_batch(&prompts, &samplings).unwrap(),
        "seeded"
    );
    assert!(lm.generate_batch(&[], &[]).unwrap().is_empty());
    assert!(lm.generate_batch(&["a"], &[]).is_err());
}

#[test]
fn first_token_logp_is_the_scored_first_token_and_a_distribution() {
    let student = LmStudent::new(tiny_lm(), TrainLayers::LastK { k: 1 }).unwrap();
    let mut sequences = student.encode(&PAIRS, 512).unwrap();
    // Each completion cut to its first token: its score is that token's NLL alone.
    for s in &mut sequences {
        s.ids.truncate(s.completion_start + 1);
    }
    let states = student.lower_states(&sequences, 16, &mut |_| {}).unwrap();
    let scores = student
        .score(student.pretrained_top(), &sequences, &states, 16)
        .unwrap();
    let vocab: Vec<u32> = (0..32).collect();
    let logp = student
        .first_token_logp(student.pretrained_top(), &sequences, &states, &vocab, 16)
        .unwrap();
    for ((s, score), row) in sequences.iter().zip(&scores).zip(&logp) {
        let first = s.ids[s.completion_start] as usize;
        assert!(
            (f64::from(row[first]) + score.nll).abs() < 1e-5,
            "{} against the scored {}",
            row[first],
            -score.nll
        );
        let total: f64 = row.iter().map(|&v| f64::from(v).exp()).sum();
        assert!(
            (total - 1.0).abs() < 1e-4,
            "the 32 tokens' probabilities sum to {total}"
        );
    }
    // Batching does not change what a sequence reads.
    let one_by_one = student
        .first_token_logp(student.pretrained_top(), &sequences, &states, &vocab, 1)
        .unwrap();
    for (a, b) in logp.iter().zip(&one_by_one) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-5);
        }
    }
}
