//! An OpenAI-compatible chat-completions client: what vLLM, llama.cpp's server, TGI and hosted
//! APIs serve at `POST {base_url}/chat/completions`.
//!
//! Requests run on `concurrency` threads. A rate limit (429), a server error (5xx), a timeout
//! or a dropped connection is retried up to `max_retries` times after an exponential backoff
//! with jitter (`Retry-After` is honoured up to the cap); a client error (other 4xx) or a reply
//! that is not a chat completion is not. Every failed attempt is counted by kind. The API key
//! is read from the environment variable the config names and is never logged, printed or
//! written.

use crate::SynthError;
use crate::generator::{
    ChatRequest, FailureKind, Finish, GenerationError, Generator, Reply, Tally,
};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Where and how to call an OpenAI-compatible server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiConfig {
    /// The API root, e.g. `http://127.0.0.1:8080/v1` (llama.cpp) or
    /// `https://api.openai.com/v1`; `/chat/completions` is appended.
    pub base_url: String,
    /// The `model` field of each request.
    pub model: String,
    /// The environment variable holding the API key (sent as a bearer token); none: no key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Requests in flight at once.
    #[serde(default = "OpenAiConfig::default_concurrency")]
    pub concurrency: usize,
    /// Seconds one attempt may take, reply included.
    #[serde(default = "OpenAiConfig::default_timeout_s")]
    pub timeout_s: f64,
    /// Attempts after the first, for retryable failures.
    #[serde(default = "OpenAiConfig::default_max_retries")]
    pub max_retries: u32,
    /// The first backoff, in seconds; it doubles with every retry.
    #[serde(default = "OpenAiConfig::default_backoff_initial_s")]
    pub backoff_initial_s: f64,
    /// The longest backoff, in seconds.
    #[serde(default = "OpenAiConfig::default_backoff_max_s")]
    pub backoff_max_s: f64,
}

impl OpenAiConfig {
    fn default_concurrency() -> usize {
        4
    }
    fn default_timeout_s() -> f64 {
        120.0
    }
    fn default_max_retries() -> u32 {
        5
    }
    fn default_backoff_initial_s() -> f64 {
        0.5
    }
    fn default_backoff_max_s() -> f64 {
        30.0
    }

    /// A config for `base_url` and `model` with the defaults.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key_env: None,
            concurrency: Self::default_concurrency(),
            timeout_s: Self::default_timeout_s(),
            max_retries: Self::default_max_retries(),
            backoff_initial_s: Self::default_backoff_initial_s(),
            backoff_max_s: Self::default_backoff_max_s(),
        }
    }

    /// The backoff before retry number `retry` (0-based): `initial · 2^retry`, capped, times a
    /// jitter factor drawn uniformly from [0.5, 1) so that clients that failed together do not
    /// retry together; at least `retry_after` (the server's `Retry-After`) up to the cap.
    pub fn backoff(&self, retry: u32, retry_after: Option<f64>, rng: &mut impl Rng) -> f64 {
        let cap = self.backoff_max_s.max(0.0);
        let exp = (self.backoff_initial_s * 2f64.powi(retry.min(30) as i32)).min(cap);
        let jittered = exp * rng.random_range(0.5..1.0);
        jittered.max(retry_after.unwrap_or(0.0)).min(cap)
    }

    fn check(&self) -> Result<(), SynthError> {
        let bad = |field, message: &str| {
            Err(SynthError::Config {
                field,
                message: message.into(),
            })
        };
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return bad("base_url", "must start with http:// or https://");
        }
        if self.concurrency == 0 {
            return bad("concurrency", "must be at least 1");
        }
        if self.timeout_s.is_nan() || self.timeout_s <= 0.0 {
            return bad("timeout_s", "must be positive");
        }
        if !(self.backoff_initial_s >= 0.0 && self.backoff_max_s >= self.backoff_initial_s) {
            return bad(
                "backoff_initial_s",
                "must be non-negative and at most backoff_max_s",
            );
        }
        Ok(())
    }
}

/// The client. Its `Debug` output never shows the key.
pub struct OpenAiClient {
    config: OpenAiConfig,
    key: Option<String>,
    agent: ureq::Agent,
    tally: Mutex<Tally>,
}

impl std::fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiClient")
            .field("config", &self.config)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// One attempt's outcome.
enum Attempt {
    Text(Reply),
    Failed {
        kind: FailureKind,
        detail: String,
        retry_after: Option<f64>,
    },
}

impl OpenAiClient {
    /// A client for `config`; reads the key from `config.api_key_env` if it names one.
    pub fn new(config: OpenAiConfig) -> Result<Self, SynthError> {
        config.check()?;
        let key = match &config.api_key_env {
            Some(var) => Some(
                std::env::var(var)
                    .ok()
                    .filter(|k| !k.is_empty())
                    .ok_or_else(|| SynthError::MissingKey(var.clone()))?,
            ),
            None => None,
        };
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs_f64(config.timeout_s)))
            .http_status_as_error(false)
            .max_idle_connections_per_host(config.concurrency)
            .build()
            .into();
        Ok(Self {
            config,
            key,
            agent,
            tally: Mutex::new(Tally::default()),
        })
    }

    /// The settings it was made with.
    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    fn url(&self) -> String {
        format!(
            "{}/chat/completions",
            self.config.base_url.trim_end_matches('/')
        )
    }

    fn body(&self, request: &ChatRequest) -> String {
        let s = &request.sampling;
        serde_json::json!({
            "model": self.config.model,
            "messages": request.messages,
            "temperature": s.temperature,
            "top_p": s.top_p,
            "max_tokens": s.max_tokens,
            "seed": s.seed,
            "stream": false,
        })
        .to_string()
    }

    fn attempt(&self, url: &str, body: &str) -> Attempt {
        let mut call = self
            .agent
            .post(url)
            .header("content-type", "application/json");
        if let Some(key) = &self.key {
            call = call.header("authorization", format!("Bearer {key}"));
        }
        let failed = |kind, detail: String| Attempt::Failed {
            kind,
            detail: truncate(&detail),
            retry_after: None,
        };
        let mut response = match call.send(body.as_bytes()) {
            Ok(r) => r,
            Err(e) => return failed(transport_kind(&e), e.to_string()),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok());
        let text = match response.body_mut().read_to_string() {
            Ok(t) => t,
            Err(e) => return failed(transport_kind(&e), e.to_string()),
        };
        let kind = match status {
            200..=299 => return parse_reply(&text),
            429 => FailureKind::RateLimited,
            500..=599 => FailureKind::ServerError,
            _ => FailureKind::ClientError,
        };
        Attempt::Failed {
            kind,
            detail: truncate(&format!("HTTP {status}: {text}")),
            retry_after,
        }
    }

    /// One request with its retries; `index` seeds the jitter with the request's seed.
    fn request(&self, request: &ChatRequest, index: usize) -> Result<Reply, GenerationError> {
        let (url, body) = (self.url(), self.body(request));
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
            request.sampling.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.attempt(&url, &body) {
                Attempt::Text(text) => {
                    self.count(|t| t.succeeded += 1);
                    return Ok(text);
                }
                Attempt::Failed {
                    kind,
                    detail,
                    retry_after,
                } => {
                    self.count(|t| *t.failed_attempts.entry(kind).or_default() += 1);
                    if !kind.retryable() || attempts > self.config.max_retries {
                        self.count(|t| t.failed += 1);
                        return Err(GenerationError {
                            kind,
                            attempts,
                            detail,
                        });
                    }
                    self.count(|t| t.retries += 1);
                    let wait = self.config.backoff(attempts - 1, retry_after, &mut rng);
                    std::thread::sleep(Duration::from_secs_f64(wait));
                }
            }
        }
    }

    fn count(&self, f: impl FnOnce(&mut Tally)) {
        f(&mut self.tally.lock().expect("tally lock"));
    }
}

impl Generator for OpenAiClient {
    fn settings(&self) -> serde_json::Value {
        serde_json::json!({
            "generator": "openai-compatible",
            "base_url": self.config.base_url,
            "model": self.config.model,
        })
    }

    fn generate(&self, requests: &[ChatRequest]) -> Vec<Result<Reply, GenerationError>> {
        self.count(|t| t.requests += requests.len());
        let next = AtomicUsize::new(0);
        let results: Vec<Mutex<Option<Result<Reply, GenerationError>>>> =
            requests.iter().map(|_| Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..self.config.concurrency.min(requests.len()) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(request) = requests.get(i) else {
                            break;
                        };
                        let result = self.request(request, i);
                        *results[i].lock().expect("result lock") = Some(result);
                    }
                });
            }
        });
        results
            .into_iter()
            .map(|r| {
                r.into_inner()
                    .expect("result lock")
                    .expect("every request answered")
            })
            .collect()
    }

    fn tally(&self) -> Tally {
        self.tally.lock().expect("tally lock").clone()
    }
}

/// The text of a chat completion, `choices[0].message.content`, and why it ended,
/// `choices[0].finish_reason`.
fn parse_reply(body: &str) -> Attempt {
    let malformed = |detail: String| Attempt::Failed {
        kind: FailureKind::Malformed,
        detail: truncate(&detail),
        retry_after: None,
    };
    let value: serde_json::Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => return malformed(format!("not JSON ({e}): {body}")),
    };
    match value["choices"][0]["message"]["content"].as_str() {
        Some(text) => Attempt::Text(Reply::new(
            text,
            Finish::from_finish_reason(value["choices"][0]["finish_reason"].as_str()),
        )),
        None => malformed(format!("no choices[0].message.content: {body}")),
    }
}

fn transport_kind(e: &ureq::Error) -> FailureKind {
    match e {
        ureq::Error::Timeout(_) => FailureKind::Timeout,
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            FailureKind::Timeout
        }
        _ => FailureKind::Connection,
    }
}

fn truncate(text: &str) -> String {
    const MAX: usize = 300;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_jittered_and_honours_retry_after() {
        let mut c = OpenAiConfig::new("http://x", "m");
        c.backoff_initial_s = 1.0;
        c.backoff_max_s = 10.0;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        for retry in 0..8 {
            let exp = (2f64.powi(retry as i32)).min(10.0);
            for _ in 0..50 {
                let b = c.backoff(retry, None, &mut rng);
                assert!(b >= 0.5 * exp && b < exp, "retry {retry}: {b}");
            }
        }
        assert_eq!(c.backoff(0, Some(7.0), &mut rng), 7.0);
        assert_eq!(c.backoff(0, Some(70.0), &mut rng), 10.0, "capped");
    }

    #[test]
    fn the_key_is_read_from_the_environment_and_never_shown() {
        // SAFETY: this test alone uses this variable.
        unsafe { std::env::set_var("PRISM_TEST_SECRET_KEY", "sk-do-not-print-me") };
        let mut c = OpenAiConfig::new("http://127.0.0.1:9/v1", "m");
        c.api_key_env = Some("PRISM_TEST_SECRET_KEY".into());
        let client = OpenAiClient::new(c.clone()).unwrap();
        let shown = format!("{client:?} {}", client.settings());
        assert!(!shown.contains("sk-do-not"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        c.api_key_env = Some("PRISM_TEST_UNSET_KEY_VARIABLE".into());
        let err = OpenAiClient::new(c).unwrap_err().to_string();
        assert!(err.contains("PRISM_TEST_UNSET_KEY_VARIABLE"), "{err}");
    }

    #[test]
    fn bad_settings_name_their_field() {
        let mut c = OpenAiConfig::new("localhost:8080", "m");
        let err = OpenAiClient::new(c.clone()).unwrap_err().to_string();
        assert!(err.contains("base_url"), "{err}");
        c.base_url = "http://localhost:8080/v1".into();
        c.concurrency = 0;
        let err = OpenAiClient::new(c).unwrap_err().to_string();
        assert!(err.contains("concurrency"), "{err}");
    }

    #[test]
    fn replies_parse_strictly() {
        let ok = r#"{"choices":[{"message":{"role":"assistant","content":"hi"}}]}"#;
        assert!(
            matches!(parse_reply(ok), Attempt::Text(t) if t == Reply::new("hi", Finish::Unknown))
        );
        let stopped = r#"{"choices":[{"message":{"content":"hi"},"finish_reason":"stop"}]}"#;
        assert!(matches!(parse_reply(stopped), Attempt::Text(t) if t.finish == Finish::EndOfTurn));
        let cut = r#"{"choices":[{"message":{"content":"hi"},"finish_reason":"length"}]}"#;
        assert!(matches!(parse_reply(cut), Attempt::Text(t) if t.finish == Finish::TokenLimit));
        for bad in ["{", r#"{"choices":[]}"#, r#"{"choices":[{"message":{}}]}"#] {
            assert!(matches!(
                parse_reply(bad),
                Attempt::Failed {
                    kind: FailureKind::Malformed,
                    ..
                }
            ));
        }
    }
}
