//! A generator's replies kept on disk by request: a resumed run, or a second arm asking the
//! same requests of the same generator (both arms' first round), reads them instead of
//! generating again. Each reply is one JSON file (text and finish) named by the sha256 of the
//! generator's settings and the request, written atomically; failures are never kept. A reply
//! cached as bare text before the finish was kept (`<key>.txt`) is still read, as
//! [`Finish::Unknown`], so it is parsed as strictly as it was then.

use crate::generator::{ChatRequest, Finish, GenerationError, Generator, Reply, Tally};
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

    /// The file stem of `request`'s reply.
    fn stem(&self, request: &ChatRequest) -> PathBuf {
        let key = serde_json::json!({ "generator": self.settings, "request": request });
        self.dir
            .join(&prism_core::hash::sha256_hex(key.to_string().as_bytes())[..32])
    }

    /// The kept reply of the request whose file stem is `stem`, if any.
    fn read(stem: &std::path::Path) -> Option<Reply> {
        if let Ok(bytes) = std::fs::read(stem.with_extension("json")) {
            return serde_json::from_slice(&bytes).ok();
        }
        std::fs::read_to_string(stem.with_extension("txt"))
            .ok()
            .map(|text| Reply::new(text, Finish::Unknown))
    }
}

impl Generator for CachedGenerator {
    fn settings(&self) -> serde_json::Value {
        self.inner.settings()
    }

    fn generate(&self, requests: &[ChatRequest]) -> Vec<Result<Reply, GenerationError>> {
        let stems: Vec<PathBuf> = requests.iter().map(|r| self.stem(r)).collect();
        let mut replies: Vec<Option<Result<Reply, GenerationError>>> =
            stems.iter().map(|p| Self::read(p).map(Ok)).collect();
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
                if let Ok(kept) = &reply {
                    // A reply that cannot be kept is still returned.
                    let json = serde_json::to_vec(kept).expect("a reply serialises");
                    let _ =
                        prism_core::atomic::write_atomic(&stems[i].with_extension("json"), &json);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::{Message, Sampling};

    /// A generator that must not be asked: every request is in the cache.
    struct Unreachable;

    impl Generator for Unreachable {
        fn settings(&self) -> serde_json::Value {
            serde_json::json!({ "generator": "unreachable" })
        }
        fn generate(&self, _: &[ChatRequest]) -> Vec<Result<Reply, GenerationError>> {
            panic!("the cache holds every reply")
        }
        fn tally(&self) -> Tally {
            Tally::default()
        }
    }

    #[test]
    fn a_reply_cached_as_bare_text_is_read_with_an_unknown_finish() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CachedGenerator::new(Box::new(Unreachable), dir.path().to_path_buf());
        let request = |seed| ChatRequest {
            messages: vec![Message::user("q")],
            sampling: Sampling {
                temperature: 1.0,
                top_p: 1.0,
                max_tokens: 8,
                seed,
            },
        };
        let (old, new) = (request(0), request(1));
        std::fs::write(cache.stem(&old).with_extension("txt"), "<p>open").unwrap();
        let kept = Reply::new("<p>open", Finish::EndOfTurn);
        std::fs::write(
            cache.stem(&new).with_extension("json"),
            serde_json::to_vec(&kept).unwrap(),
        )
        .unwrap();
        let replies = cache.generate(&[old, new]);
        assert_eq!(replies[0], Ok(Reply::new("<p>open", Finish::Unknown)));
        assert_eq!(replies[1], Ok(kept));
        assert_eq!(cache.tally().cached, 2);
    }
}
