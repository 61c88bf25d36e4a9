//! A generator's replies kept on disk by request: a resumed run, or a second arm asking the
//! same requests of the same generator (both arms' first round), reads them instead of
//! generating again. Each reply is one file named by the sha256 of the generator's settings
//! and the request, written atomically; failures are never kept.

use crate::generator::{ChatRequest, GenerationError, Generator, Tally};
use std::path::PathBuf;
use std::sync::Mutex;

/// Requests handed to the generator at once (two local batches of 16; more than a server's
/// usual concurrency).
const CHUNK: usize = 32;

/// A [`Generator`] that answers from its folder first and asks `inner` for the rest.
pub struct CachedGenerator {
    inner: Box<dyn Generator>,
    dir: PathBuf,
    settings: String,
    hits: Mutex<usize>,
}

impl CachedGenerator {
    /// Wraps `inner`, keeping replies in `dir`.
    pub fn new(inner: Box<dyn Generator>, dir: PathBuf) -> Self {
        let settings = inner.settings().to_string();
        Self {
            inner,
            dir,
            settings,
            hits: Mutex::new(0),
        }
    }

    fn path(&self, request: &ChatRequest) -> PathBuf {
        let key = serde_json::json!({ "generator": self.settings, "request": request });
        self.dir.join(format!(
            "{}.txt",
            &prism_core::hash::sha256_hex(key.to_string().as_bytes())[..32]
        ))
    }
}

impl Generator for CachedGenerator {
    fn settings(&self) -> serde_json::Value {
        self.inner.settings()
    }

    fn generate(&self, requests: &[ChatRequest]) -> Vec<Result<String, GenerationError>> {
        let paths: Vec<PathBuf> = requests.iter().map(|r| self.path(r)).collect();
        let mut replies: Vec<Option<Result<String, GenerationError>>> = paths
            .iter()
            .map(|p| std::fs::read_to_string(p).ok().map(Ok))
            .collect();
        let missing: Vec<usize> = (0..requests.len())
            .filter(|&i| replies[i].is_none())
            .collect();
        *self.hits.lock().expect("hits lock") += requests.len() - missing.len();
        let _ = std::fs::create_dir_all(&self.dir);
        // Asked in chunks, each kept as soon as it is back: a run killed mid-round loses at
        // most one chunk.
        for chunk in missing.chunks(CHUNK) {
            let asked: Vec<ChatRequest> = chunk.iter().map(|&i| requests[i].clone()).collect();
            for (&i, reply) in chunk.iter().zip(self.inner.generate(&asked)) {
                if let Ok(text) = &reply {
                    // A reply that cannot be kept is still returned.
                    let _ = prism_core::atomic::write_atomic(&paths[i], text.as_bytes());
                }
                replies[i] = Some(reply);
            }
        }
        replies
            .into_iter()
            .map(|r| r.expect("every request answered"))
            .collect()
    }

    fn tally(&self) -> Tally {
        let mut t = self.inner.tally();
        t.cached = *self.hits.lock().expect("hits lock");
        t
    }
}
