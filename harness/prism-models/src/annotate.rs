//! Labelling examples with a model: the extension point for skill labels (the paper's
//! "skill-set entropy" baseline) and, later, for any other model-assigned tag. An
//! [`Annotator`] picks one of a fixed list of options for a prompt; the causal LM does it at
//! temperature 0 by scoring each option as its reply and taking the most likely one (mean
//! log-likelihood per token), which, unlike free generation, always yields a listed option:
//! a 135M decoder asked to name a skill mostly continues the hypothesis instead.
//! [`annotate`] caches the choices by content hash, so a label is computed once per example,
//! annotator and list, and the annotator (a model to load) is made only when a label is missing.

use crate::{LanguageModel, ModelError};
use prism_core::hash::sha256_hex;
use std::collections::BTreeMap;
use std::path::Path;

/// A model that picks one of `options` for a prompt.
pub trait Annotator: Sync {
    /// The position in `options` of its choice for `prompt`.
    fn choose(&self, prompt: &str, options: &[String]) -> Result<usize, ModelError>;
}

/// A causal LM as an annotator: the option with the lowest mean completion loss.
pub struct LmAnnotator(pub LanguageModel);

impl Annotator for LmAnnotator {
    fn choose(&self, prompt: &str, options: &[String]) -> Result<usize, ModelError> {
        let pairs: Vec<(&str, &str)> = options.iter().map(|o| (prompt, o.as_str())).collect();
        let losses = self.0.completion_losses(&pairs)?;
        Ok(losses
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(&b.0)))
            .map(|(i, _)| i)
            .unwrap_or(0))
    }
}

/// The question the annotator answers for one premise–hypothesis pair.
pub fn skill_prompt(premise: &str, hypothesis: &str, skills: &[String]) -> String {
    format!(
        "Which skill is most needed to decide whether the hypothesis follows from the premise? \
         Answer with one of: {}.\nPremise: {premise}\nHypothesis: {hypothesis}",
        skills.join(", ")
    )
}

/// The label of each prompt (one of `options`), read from `cache_file` where there and
/// computed otherwise by the annotator `make` returns, called once, at the first missing label
/// (nothing is loaded when every label is cached); the cache is rewritten (with its sums)
/// every 32 new labels, so an interrupted run keeps what it did. `on_progress` is told
/// (done, total).
pub fn annotate(
    make: &mut dyn FnMut() -> Result<Box<dyn Annotator>, ModelError>,
    prompts: &[String],
    options: &[String],
    cache_file: &Path,
    on_progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<String>, ModelError> {
    let io = |e: std::io::Error| ModelError::file(cache_file, e);
    let mut cache: BTreeMap<String, String> =
        match prism_core::integrity::read_cached_or_discard(cache_file, "labelling again")
            .map_err(io)?
        {
            Some(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| ModelError::file(cache_file, e))?
            }
            None => BTreeMap::new(),
        };
    let key = |prompt: &str| sha256_hex(prompt.as_bytes());
    let mut fresh = 0;
    let mut annotator: Option<Box<dyn Annotator>> = None;
    for (done, prompt) in prompts.iter().enumerate() {
        let k = key(prompt);
        if let std::collections::btree_map::Entry::Vacant(slot) = cache.entry(k) {
            if annotator.is_none() {
                annotator = Some(make()?);
            }
            let choice = annotator
                .as_ref()
                .expect("made above")
                .choose(prompt, options)?;
            slot.insert(options[choice].clone());
            fresh += 1;
            if fresh % 32 == 0 {
                write(&cache, cache_file).map_err(io)?;
            }
        }
        on_progress(done + 1, prompts.len());
    }
    if fresh > 0 {
        write(&cache, cache_file).map_err(io)?;
    }
    Ok(prompts.iter().map(|p| cache[&key(p)].clone()).collect())
}

fn write(cache: &BTreeMap<String, String>, path: &Path) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(cache).map_err(std::io::Error::other)?;
    prism_core::integrity::write_cached(path, &bytes)
}

/// The cache file under `dir` of the labels over `options` of the annotator identified by
/// `annotator_id` (e.g. the sha256 of its weights).
pub fn cache_file(dir: &Path, annotator_id: &str, options: &[String]) -> std::path::PathBuf {
    let key = sha256_hex(
        serde_json::json!({"annotator": annotator_id, "options": options})
            .to_string()
            .as_bytes(),
    );
    dir.join(format!("{}.json", &key[..32]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Picks the option whose text the prompt ends with, and counts its calls.
    struct Suffix(Arc<AtomicUsize>);

    impl Annotator for Suffix {
        fn choose(&self, prompt: &str, options: &[String]) -> Result<usize, ModelError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(options
                .iter()
                .position(|o| prompt.ends_with(o.as_str()))
                .unwrap_or(0))
        }
    }

    #[test]
    fn labels_are_cached_by_content_and_survive_a_new_process() {
        let dir = tempfile::tempdir().unwrap();
        let options = vec!["a".to_string(), "b".to_string()];
        let prompts: Vec<String> = ["x a", "y b", "x a"].map(String::from).to_vec();
        let file = cache_file(dir.path(), "suffix", &options);
        let (calls, made) = (Arc::new(AtomicUsize::new(0)), AtomicUsize::new(0));
        let mut make = || -> Result<Box<dyn Annotator>, ModelError> {
            made.fetch_add(1, Ordering::SeqCst);
            Ok(Box::new(Suffix(calls.clone())))
        };
        let labels = annotate(&mut make, &prompts, &options, &file, &mut |_, _| {}).unwrap();
        assert_eq!(labels, ["a", "b", "a"]);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "a repeated prompt is asked once"
        );
        let labels = annotate(&mut make, &prompts, &options, &file, &mut |_, _| {}).unwrap();
        assert_eq!(labels, ["a", "b", "a"]);
        assert_eq!(calls.load(Ordering::SeqCst), 2, "all read from the cache");
        assert_eq!(
            made.load(Ordering::SeqCst),
            1,
            "no annotator is made when every label is cached"
        );
    }
}
