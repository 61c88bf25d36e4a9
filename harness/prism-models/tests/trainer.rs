//! The fine-tuning loop on the real MiniLM: the loss falls on a small learnable task, a seed
//! reproduces a run bit for bit, and a diverging run stops with a typed error.

mod common;

use burn::prelude::Device;
use prism_models::device::seeded_module;
use prism_models::prefix::FrozenPrefix;
use prism_models::tokenize::{EncodedPairs, EncoderTokenizer};
use prism_models::train::{
    FrozenPart, Pairing, StepReport, fine_tune, frozen_features, predict, predict_from_features,
    predict_from_prefix,
};
use prism_models::{
    Backend, Classifier, EncoderFiles, LabeledPair, ModelError, SentenceEncoder, TrainConfig,
    TrainLayers,
};

/// Pairs whose label is whether the hypothesis repeats the premise (0) or negates it (2).
fn toy_pairs() -> Vec<LabeledPair> {
    let subjects = [
        "The cat",
        "A river",
        "The senator",
        "My phone",
        "The museum",
        "A violin",
    ];
    let predicates = ["is red", "was closed in 2019", "sounds loud", "is very old"];
    let mut pairs = Vec::new();
    for s in subjects {
        for p in predicates {
            pairs.push(LabeledPair {
                premise: format!("{s} {p}."),
                hypothesis: format!("{s} {p}."),
                label: 0,
            });
            let negated = p
                .replacen("is ", "is not ", 1)
                .replacen("was ", "was not ", 1);
            let negated = if negated == p {
                format!("never {p}")
            } else {
                negated
            };
            pairs.push(LabeledPair {
                premise: format!("{s} {p}."),
                hypothesis: format!("{s} {negated}."),
                label: 2,
            });
        }
    }
    pairs
}

fn run(config: &TrainConfig) -> Result<(Vec<f32>, Vec<usize>), ModelError> {
    run_with(config, Pairing::Cross)
}

fn run_with(config: &TrainConfig, pairing: Pairing) -> Result<(Vec<f32>, Vec<usize>), ModelError> {
    let (model, tokenizer, device, losses) = train(config, pairing)?;
    let pairs = toy_pairs();
    let texts: Vec<(&str, &str)> = pairs
        .iter()
        .map(|p| (p.premise.as_str(), p.hypothesis.as_str()))
        .collect();
    let predicted = predict(&model, &tokenizer, &texts, 16, &device)?;
    // The sweep's shortcuts for students with frozen blocks: the same predictions from the
    // frozen part's output computed once (other batch sizes: padding must not matter).
    let encoded = EncodedPairs::new(&tokenizer, &texts, pairing)?;
    match FrozenPart::of(&model, config.layers) {
        FrozenPart::Nothing => {}
        FrozenPart::Encoder => {
            let (values, width) = frozen_features(&model, &tokenizer, &encoded, 5, &device)?;
            assert_eq!(
                predict_from_features(&model, &values, width, 7, &device)?,
                predicted
            );
        }
        FrozenPart::Blocks(n) => {
            let prefix = FrozenPrefix::compute(&model, &tokenizer, &encoded, n, 5, &device)?;
            assert_eq!(predict_from_prefix(&model, &prefix, 7, &device)?, predicted);
        }
    }
    Ok((losses, predicted))
}

/// Fine-tunes the real MiniLM on the toy pairs: the trained model, its tokenizer and device,
/// and the loss of every step.
fn train(
    config: &TrainConfig,
    pairing: Pairing,
) -> Result<(Classifier, EncoderTokenizer, Device, Vec<f32>), ModelError> {
    let (model, tokenizer, device) = pretrained(config, pairing)?;
    let mut losses = Vec::new();
    let (model, _) = fine_tune(
        model,
        &tokenizer,
        &toy_pairs(),
        config,
        &device,
        &mut |s: StepReport| losses.push(s.loss),
    )?;
    Ok((model, tokenizer, device, losses))
}

/// The blocks below an aligned student's comparator in these tests (half of MiniLM's six;
/// other pairings ignore it).
const ALIGN_BLOCKS: usize = 3;

/// The pretrained MiniLM with a fresh head seeded by `config.seed`, on an autodiff device.
fn pretrained(
    config: &TrainConfig,
    pairing: Pairing,
) -> Result<(Classifier, EncoderTokenizer, Device), ModelError> {
    let device = common::backend().device().unwrap().autodiff();
    let dir = common::model_dir("all-minilm-l6-v2");
    let (bert, bert_config, tokenizer) =
        EncoderFiles::in_dir(&dir)?.load(config.max_len, &device)?;
    // As the sweep does: the other tests' threads seed and draw too.
    let model = seeded_module(&device, config.seed, || {
        Classifier::with_pairing(bert, &bert_config, 3, pairing, &device)
            .with_align_blocks(ALIGN_BLOCKS)
    });
    Ok((model, tokenizer, device))
}

/// The head's input for the toy pairs under `model`'s encoder (evaluation mode).
fn toy_features(
    model: &Classifier,
    tokenizer: &EncoderTokenizer,
    device: &Device,
    pairing: Pairing,
) -> Vec<f32> {
    let pairs = toy_pairs();
    let texts: Vec<(&str, &str)> = pairs
        .iter()
        .map(|p| (p.premise.as_str(), p.hypothesis.as_str()))
        .collect();
    let encoded = EncodedPairs::new(tokenizer, &texts, pairing).unwrap();
    frozen_features(model, tokenizer, &encoded, 8, device)
        .unwrap()
        .0
}

/// The mean loss of the last 3 steps is below `loss_ratio` × that of the first 3, and at least
/// the fraction `min_accuracy` of the toy pairs is predicted right.
fn assert_learned(losses: &[f32], predicted: &[usize], loss_ratio: f32, min_accuracy: f64) {
    let pairs = toy_pairs();
    let correct = predicted
        .iter()
        .zip(&pairs)
        .filter(|(p, g)| **p == g.label)
        .count();
    let first: f32 = losses[..3].iter().sum::<f32>() / 3.0;
    let last: f32 = losses[losses.len() - 3..].iter().sum::<f32>() / 3.0;
    eprintln!(
        "loss {first:.3} → {last:.3}; train accuracy {correct}/{}",
        pairs.len()
    );
    assert!(
        last < first * loss_ratio,
        "loss did not fall: {first} → {last}"
    );
    assert!(
        correct as f64 >= pairs.len() as f64 * min_accuracy,
        "accuracy {correct}/{}",
        pairs.len()
    );
}

fn small_config() -> TrainConfig {
    TrainConfig {
        epochs: 4,
        batch_size: 8,
        learning_rate: 3e-4,
        warmup_ratio: 0.0,
        max_len: 32,
        layers: TrainLayers::LastK { k: 2 },
        seed: 7,
        ..TrainConfig::default()
    }
}

#[test]
fn fine_tuning_learns_a_small_task_and_a_seed_reproduces_it() {
    let config = small_config();
    let (losses, predicted) = run(&config).unwrap();
    // Chance is 1/2; the threshold leaves room for another backend's random stream.
    assert_learned(&losses, &predicted, 0.7, 0.75);

    // Bit-for-bit reproducibility is a property of the flex backend. On libtorch (burn-tch
    // 0.22) two runs with the same seed differ from the first step: its seeding does not reach
    // every random draw. `just test-tch` shows it; the issue note records it.
    if common::backend() == prism_models::Backend::Flex {
        let (again, predicted_again) = run(&config).unwrap();
        assert_eq!(
            losses, again,
            "the same seed must give the same losses, bit for bit"
        );
        assert_eq!(predicted, predicted_again);
    }
}

#[test]
fn a_diverging_run_stops_with_a_typed_error() {
    let config = TrainConfig {
        learning_rate: 1e12,
        max_grad_norm: 0.0,
        layers: TrainLayers::All,
        ..small_config()
    };
    match run(&config) {
        Err(ModelError::NonFiniteLoss { step, loss }) => {
            assert!(step > 0 && !loss.is_finite(), "step {step}, loss {loss}")
        }
        other => panic!("expected NonFiniteLoss, got {:?}", other.map(|(l, _)| l)),
    }
}

#[test]
fn min_example_passes_trains_like_the_equivalent_epochs() {
    let n = toy_pairs().len();
    let short = TrainConfig {
        epochs: 1,
        min_example_passes: 2 * n - 1,
        learning_rate: 1e-4,
        ..small_config()
    };
    let (raised, _) = run(&short).unwrap();
    assert_eq!(raised.len(), 2 * n.div_ceil(short.batch_size));
    if common::backend() == prism_models::Backend::Flex {
        let two_epochs = TrainConfig {
            epochs: 2,
            min_example_passes: 0,
            ..short.clone()
        };
        assert_eq!(raised, run(&two_epochs).unwrap().0);
    }
}

/// A siamese student trained with `config` fits the toy pairs, and on flex a second run
/// repeats its losses bit for bit.
fn assert_siamese_learns_and_reproduces(config: &TrainConfig) {
    let (losses, predicted) = run_with(config, Pairing::Siamese).unwrap();
    assert_learned(&losses, &predicted, 0.5, 0.9);
    if common::backend() == Backend::Flex {
        assert_eq!(losses, run_with(config, Pairing::Siamese).unwrap().0);
    }
}

#[test]
fn a_head_only_siamese_student_learns_and_reproduces() {
    let config = TrainConfig {
        epochs: 30,
        learning_rate: 1e-3,
        layers: TrainLayers::HeadOnly,
        ..small_config()
    };
    assert_siamese_learns_and_reproduces(&config);
}

#[test]
fn a_last_k_siamese_student_learns_and_reproduces() {
    let config = TrainConfig {
        epochs: 20,
        learning_rate: 1e-3,
        encoder_learning_rate: Some(1e-4),
        layers: TrainLayers::LastK { k: 1 },
        ..small_config()
    };
    assert_siamese_learns_and_reproduces(&config);
}

/// An aligned student (a comparator over the token states after three blocks, the encoder
/// frozen) fits the toy pairs; its predictions from the full forward pass equal those from
/// the frozen states computed once (`run_with` checks it), and on flex a second run repeats
/// its losses bit for bit.
#[test]
fn an_aligned_student_learns_and_reproduces() {
    let config = TrainConfig {
        epochs: 30,
        learning_rate: 1e-3,
        layers: TrainLayers::HeadOnly,
        ..small_config()
    };
    let (model, _, _) = pretrained(&config, Pairing::Aligned).unwrap();
    assert_eq!(
        FrozenPart::of(&model, config.layers),
        FrozenPart::Blocks(ALIGN_BLOCKS)
    );
    let (losses, predicted) = run_with(&config, Pairing::Aligned).unwrap();
    assert_learned(&losses, &predicted, 0.5, 0.9);
    if common::backend() == Backend::Flex {
        assert_eq!(losses, run_with(&config, Pairing::Aligned).unwrap().0);
    }
}

/// The states a [`FrozenPrefix`] keeps, run through the remaining blocks, give the full
/// forward pass's features: after the embeddings only, part-way, and after every block, for
/// both pairings, batched differently on the two sides (padding must not matter).
#[test]
fn frozen_prefix_states_continue_to_the_full_forward() {
    for pairing in [Pairing::Cross, Pairing::Siamese] {
        let (model, tokenizer, device) = pretrained(&small_config(), pairing).unwrap();
        let want = toy_features(&model, &tokenizer, &device, pairing);
        let texts: Vec<(String, String)> = toy_pairs()
            .into_iter()
            .map(|p| (p.premise, p.hypothesis))
            .collect();
        let texts: Vec<(&str, &str)> = texts.iter().map(|(a, b)| (&**a, &**b)).collect();
        let encoded = EncodedPairs::new(&tokenizer, &texts, pairing).unwrap();
        for after in [0, 4, model.encoder_layers()] {
            let prefix =
                FrozenPrefix::compute(&model, &tokenizer, &encoded, after, 5, &device).unwrap();
            assert_eq!((prefix.len(), prefix.after_layers()), (texts.len(), after));
            let (got, _) = prefix.features(&model, 11, &device).unwrap();
            let worst = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(
                worst < 1e-5,
                "{pairing:?} after {after}: max |difference| {worst}"
            );
        }
    }
}

/// `encoder_learning_rate` drives the encoder's trainable blocks and nothing else: at a rate
/// of 1e-30 the trained encoder's features stay the pretrained ones (to 1e-20; the head still
/// learns at its own rate), and at 1e-4 they move.
#[test]
fn the_encoder_learning_rate_moves_only_the_encoder() {
    let base = TrainConfig {
        epochs: 3,
        learning_rate: 1e-3,
        weight_decay: 0.0,
        layers: TrainLayers::LastK { k: 1 },
        ..small_config()
    };
    let (pretrained, tokenizer, device) = pretrained(&base, Pairing::Siamese).unwrap();
    let before = toy_features(&pretrained, &tokenizer, &device, Pairing::Siamese);
    let moved = |rate: f64| {
        let config = TrainConfig {
            encoder_learning_rate: Some(rate),
            ..base.clone()
        };
        let (model, tokenizer, device, losses) = train(&config, Pairing::Siamese).unwrap();
        let after = toy_features(&model, &tokenizer, &device, Pairing::Siamese);
        let shift = after
            .iter()
            .zip(&before)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        (shift, losses)
    };
    let (still, losses) = moved(1e-30);
    // Weights at or near 0 can move by ~1e-30; nothing a real rate would do.
    assert!(
        still < 1e-20,
        "a 1e-30 rate moved the encoder's features by {still}"
    );
    assert!(
        losses[losses.len() - 1] < losses[0],
        "the head did not learn: {losses:?}"
    );
    let (shift, _) = moved(1e-4);
    assert!(
        shift > 1e-4,
        "a 1e-4 rate moved the features by only {shift}"
    );
}

/// The siamese head reads `[u, v, |u − v|, u ⊙ v]` of exactly the sentence embeddings the
/// embedding API returns (independently batched there).
#[test]
fn siamese_features_are_the_sentence_embeddings_combined() {
    let device = common::backend().device().unwrap().autodiff();
    let dir = common::model_dir("all-minilm-l6-v2");
    let (bert, bert_config, tokenizer) = EncoderFiles::in_dir(&dir)
        .unwrap()
        .load(64, &device)
        .unwrap();
    let model = seeded_module(&device, 0, || {
        Classifier::with_pairing(bert, &bert_config, 3, Pairing::Siamese, &device)
    });
    let pairs = toy_pairs();
    let texts: Vec<(&str, &str)> = pairs
        .iter()
        .map(|p| (p.premise.as_str(), p.hypothesis.as_str()))
        .collect();
    let encoded = EncodedPairs::new(&tokenizer, &texts, Pairing::Siamese).unwrap();
    let (values, width) = frozen_features(&model, &tokenizer, &encoded, 8, &device).unwrap();
    let h = bert_config.hidden_size;
    assert_eq!(width, 4 * h);
    let encoder = SentenceEncoder::load(&dir, common::backend(), 64)
        .unwrap()
        .with_batch_size(3);
    let (premises, hypotheses): (Vec<&str>, Vec<&str>) = texts.iter().copied().unzip();
    let u = encoder.embed(&premises).unwrap();
    let v = encoder.embed(&hypotheses).unwrap();
    let mut worst = 0f32;
    for (i, row) in values.chunks_exact(width).enumerate() {
        for j in 0..h {
            let (a, b) = (u.row(i)[j], v.row(i)[j]);
            for (k, want) in [a, b, (a - b).abs(), a * b].into_iter().enumerate() {
                worst = worst.max((row[k * h + j] - want).abs());
            }
        }
    }
    assert!(worst < 1e-5, "max |difference| {worst}");
}
