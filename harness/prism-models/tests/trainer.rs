//! The fine-tuning loop on the real MiniLM: the loss falls on a small learnable task, a seed
//! reproduces a run bit for bit, and a diverging run stops with a typed error.

mod common;

use prism_models::train::{StepReport, fine_tune, predict};
use prism_models::{Classifier, EncoderFiles, LabeledPair, ModelError, TrainConfig, TrainLayers};

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
    let device = common::backend().device().unwrap().autodiff();
    device.seed(config.seed);
    let dir = common::model_dir("all-minilm-l6-v2");
    let (bert, bert_config, tokenizer) =
        EncoderFiles::in_dir(&dir)?.load(config.max_len, &device)?;
    let model = Classifier::new(bert, &bert_config, 3, &device);
    let pairs = toy_pairs();
    let mut losses = Vec::new();
    let (model, _) = fine_tune(
        model,
        &tokenizer,
        &pairs,
        config,
        &device,
        &mut |s: StepReport| losses.push(s.loss),
    )?;
    let texts: Vec<(&str, &str)> = pairs
        .iter()
        .map(|p| (p.premise.as_str(), p.hypothesis.as_str()))
        .collect();
    let predicted = predict(&model, &tokenizer, &texts, 16, &device)?;
    Ok((losses, predicted))
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
    assert!(last < first * 0.7, "loss did not fall: {first} → {last}");
    assert!(
        // Chance is 1/2; the threshold leaves room for another backend's random stream.
        correct * 4 >= pairs.len() * 3,
        "accuracy {correct}/{}",
        pairs.len()
    );

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
