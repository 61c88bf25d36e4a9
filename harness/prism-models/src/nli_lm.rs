//! The NLI task's causal-LM student: a decoder (SmolLM2-135M-Instruct) reads the label-format
//! user turn (`gvendi.prompt_template`: premise, hypothesis, "answer with one word") and is
//! fine-tuned to answer with the label word, with the completion-only loss the math student
//! uses. It is read as a classifier by the first token of each label word: the class whose
//! word's first token is most probable after the prompt wins (the words must start with
//! different tokens).
//!
//! Why a second NLI student: every MiniLM student measured leaves VitaminC's ID accuracy
//! within 0.06–0.09 of the majority rate on 2,000–8,000 pairs (docs/signal.md), and a
//! pretrained decoder sees premise and hypothesis in one sequence at every layer.
//!
//! The student is chosen by the model: a `student.model` that is a causal LM (a `.gguf` file,
//! or a folder whose `config.json` names a `…ForCausalLM` architecture) gets this protocol,
//! a BERT encoder the classifier of [`crate::protocol`]. Its frozen blocks run once per
//! sequence; the evaluation sets' states are kept for the process, so the runs of a sweep
//! after the first run only their trainable top over them.

use crate::language_model::{LanguageModel, resolve_model};
use crate::lm_student::{LmStudent, LowerStates};
use crate::protocol::{RunShape, StudentRun};
use crate::{LabeledPair, ModelError};
use prism_core::Session;
use prism_core::hash::sha256_hex;
use prism_core::once_map::OnceMap;
use prism_data::catalog::{THREE_WAY, TWO_WAY};
use std::path::Path;
use std::sync::LazyLock;

/// Evaluation sets' frozen-block states, by a hash of (model, cut, backend, batch budget,
/// token ids): every run of a sweep in this process reads the same ones.
static EVAL_STATES: LazyLock<OnceMap<LowerStates>> = LazyLock::new(OnceMap::default);

/// Whether the model at `path` (as [`resolve_model`] finds it) is a causal LM: a `.gguf`
/// file, or a folder whose `config.json` lists a `…ForCausalLM` architecture or a decoder
/// `model_type` this crate loads.
pub fn is_causal_lm(path: &Path) -> bool {
    if path.is_file() {
        return path.extension().is_some_and(|e| e == "gguf");
    }
    let Ok(text) = fs_err::read_to_string(path.join("config.json")) else {
        return false;
    };
    let Ok(config) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    let causal_architecture = config["architectures"].as_array().is_some_and(|a| {
        a.iter()
            .any(|x| x.as_str().is_some_and(|s| s.ends_with("ForCausalLM")))
    });
    causal_architecture
        || config["model_type"]
            .as_str()
            .is_some_and(|t| crate::causal_lm::DECODER_MODEL_TYPES.contains(&t))
}

/// The experiment's student model resolved as a causal LM, or `None` for a BERT encoder.
pub fn causal_lm_student(session: &Session) -> Option<std::path::PathBuf> {
    let name = &session.config.value.student.model;
    resolve_model(name, &session.cache().model(""))
        .ok()
        .filter(|p| is_causal_lm(p))
}

/// What an NLI result depends on when the student is a causal LM, beyond what a classifier's
/// depends on: the user turn it reads (`gvendi.prompt_template`) and the LM student's code
/// version. `None` for a BERT student, so classifier cache keys stay as they were.
pub fn identity(session: &Session) -> Option<serde_json::Value> {
    causal_lm_student(session).map(|_| {
        serde_json::json!({
            "prompt_template": session.config.value.gvendi.prompt_template,
            "lm_student": crate::lm_student::LM_STUDENT_VERSION,
        })
    })
}

/// The label words of a label space of `classes` classes, in class order.
fn label_words(classes: usize) -> Result<&'static [&'static str], ModelError> {
    match classes {
        3 => Ok(&THREE_WAY),
        2 => Ok(&TWO_WAY),
        n => Err(ModelError::Invalid(format!(
            "an NLI student answers in a 2- or 3-way label space, not {n} classes"
        ))),
    }
}

/// The first completion token of each word, as the student's chat template tokenises a reply
/// that is that word alone; an error when two words share it.
fn first_tokens(student: &LmStudent, words: &[&str]) -> Result<Vec<u32>, ModelError> {
    let mut tokens = Vec::with_capacity(words.len());
    for word in words {
        let chat = student.tokenizer.chat("", word)?;
        let token = chat.ids[chat.completion_start];
        if let Some(j) = tokens.iter().position(|&t| t == token) {
            return Err(ModelError::Invalid(format!(
                "the label words `{}` and `{word}` start with the same token ({token}): the \
                 student could not tell them apart by their first token",
                words[j]
            )));
        }
        tokens.push(token);
    }
    Ok(tokens)
}

/// Trains the causal-LM student at `model_path` on `pairs` (labels in a space of `classes`)
/// and scores it on the ID test and the benchmarks through the classifier's protocol
/// ([`RunShape::run`]: same samples, same scores). The training time includes the frozen
/// blocks' pass over the training pairs.
pub(crate) fn train_and_evaluate(
    shape: &RunShape<'_>,
    device: &burn::prelude::Device,
    model_path: &Path,
    pairs: &[LabeledPair],
    on_step: &mut dyn FnMut(usize, usize, f32),
) -> Result<StudentRun, ModelError> {
    let RunShape {
        session,
        backend,
        train,
        classes,
        ..
    } = *shape;
    let cfg = &session.config.value;
    let student = LmStudent::new(LanguageModel::load_path(model_path, device)?, train.layers)?;
    let words = label_words(classes)?;
    let choices = first_tokens(&student, words)?;
    let max_tokens = cfg.gvendi.max_batch_tokens.max(train.max_len);
    let prompt = |p: &str, h: &str| cfg.gvendi.prompt(p, h);
    shape.run(
        on_step,
        |on_report| {
            let texts: Vec<(String, &str)> = pairs
                .iter()
                .map(|p| (prompt(&p.premise, &p.hypothesis), words[p.label]))
                .collect();
            let sequences = student.encode(&texts, train.max_len)?;
            let states = student.lower_states(&sequences, max_tokens, &mut |_| {})?;
            student.fine_tune(&sequences, &states, train, on_report)
        },
        |top, sample| {
            // Each example with the first label word as its reply: only the prompt's last
            // state is read, and a causal LM's prompt states do not depend on the reply.
            let texts: Vec<(String, &str)> = sample
                .examples
                .iter()
                .map(|e| (prompt(&e.premise, &e.hypothesis), words[0]))
                .collect();
            let sequences = student.encode(&texts, train.max_len)?;
            let key = serde_json::json!({
                "student": model_path, "frozen_blocks": student.frozen_blocks,
                "backend": backend.to_string(), "max_tokens": max_tokens,
                "ids": sequences.iter().map(|s| s.ids.as_slice()).collect::<Vec<&[u32]>>(),
            });
            let states = EVAL_STATES
                .get_or_compute(sha256_hex(key.to_string().as_bytes()), || {
                    student
                        .lower_states(&sequences, max_tokens, &mut |_| {})
                        .map_err(|e| e.to_string())
                })
                .map_err(|e| {
                    ModelError::Invalid(format!(
                        "`{}` through the student's frozen blocks: {e}",
                        sample.name
                    ))
                })?;
            let logp = student.first_token_logp(top, &sequences, &states, &choices, max_tokens)?;
            Ok(logp.iter().map(|row| argmax(row)).collect())
        },
    )
}

/// Index of the largest value (the first of equal ones).
fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
            if v > bv { (i, v) } else { (bi, bv) }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Backend;
    use std::str::FromStr;

    #[test]
    fn causal_lms_are_told_from_encoders_by_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let gguf = dir.path().join("m.gguf");
        fs_err::write(&gguf, b"").unwrap();
        assert!(is_causal_lm(&gguf));
        let write = |name: &str, config: &str| {
            let d = dir.path().join(name);
            fs_err::create_dir(&d).unwrap();
            fs_err::write(d.join("config.json"), config).unwrap();
            d
        };
        assert!(is_causal_lm(&write(
            "llama",
            r#"{"architectures": ["LlamaForCausalLM"]}"#
        )));
        assert!(!is_causal_lm(&write(
            "bert",
            r#"{"architectures": ["BertModel"], "model_type": "bert"}"#
        )));
        assert!(is_causal_lm(&write("qwen", r#"{"model_type": "qwen2"}"#)));
        assert!(!is_causal_lm(&write("broken", "{")));
        assert!(!is_causal_lm(dir.path()));
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        assert!(is_causal_lm(&repo.join("tests/reference/tiny-lm/llama3")));
    }

    #[test]
    fn label_words_follow_the_label_space() {
        assert_eq!(label_words(3).unwrap(), THREE_WAY);
        assert_eq!(label_words(2).unwrap(), TWO_WAY);
        assert!(
            label_words(4)
                .unwrap_err()
                .to_string()
                .contains("4 classes")
        );
    }

    #[test]
    fn label_words_sharing_a_first_token_are_refused() {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let device = Backend::from_str("flex")
            .unwrap()
            .device()
            .unwrap()
            .autodiff();
        let lm = LanguageModel::load_path(&repo.join("tests/reference/tiny-lm/llama3"), &device)
            .unwrap();
        let student = LmStudent::new(lm, crate::train::TrainLayers::HeadOnly).unwrap();
        // The tiny tokenizer is word-level: `entailment`, `neutral`, `contradiction` are 25–27.
        assert_eq!(
            first_tokens(&student, &THREE_WAY).unwrap(),
            vec![25, 26, 27]
        );
        let err = first_tokens(&student, &["cat sat", "cat dog"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`cat sat` and `cat dog`"), "{err}");
    }

    #[test]
    fn argmax_takes_the_first_of_equal_values() {
        assert_eq!(argmax(&[-3.0, -1.0, -2.0]), 1);
        assert_eq!(argmax(&[-1.0, -1.0]), 0);
        assert_eq!(argmax(&[f32::NEG_INFINITY, -5.0]), 1);
    }
}
