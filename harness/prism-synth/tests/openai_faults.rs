//! The OpenAI-compatible client against a loopback server that injects faults: rate limits,
//! server errors, slow replies, dropped connections, client errors and malformed JSON, each
//! consumed once, in arrival order, from a shared script.

use prism_synth::{
    ChatRequest, FailureKind, Finish, Generator, Message, OpenAiClient, OpenAiConfig, Sampling,
};
use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the server does with the next request.
#[derive(Debug, Clone, Copy)]
enum Fault {
    Status(u16),
    /// 429 with `Retry-After: 1`.
    RetryAfter,
    /// A correct reply, after longer than the client's timeout.
    Slow,
    /// 200 with a body that is not JSON.
    Malformed,
    /// Close the connection without replying.
    Drop,
}

/// Each request's `authorization` header and JSON body.
type Seen = Mutex<Vec<(Option<String>, serde_json::Value)>>;

struct Server {
    url: String,
    script: Arc<Mutex<VecDeque<Fault>>>,
    /// Every request's `authorization` header and JSON body, in arrival order.
    seen: Arc<Seen>,
}

fn serve(script: Vec<Fault>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (s, v) = (script.clone(), seen.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let (s, v) = (s.clone(), v.clone());
            std::thread::spawn(move || {
                if let Ok(stream) = stream {
                    handle(stream, &s, &v);
                }
            });
        }
    });
    Server { url, script, seen }
}

fn handle(stream: TcpStream, script: &Mutex<VecDeque<Fault>>, seen: &Seen) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let (mut length, mut auth) = (0usize, None);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
        if lower.starts_with("authorization:") {
            auth = Some(line["authorization:".len()..].trim().to_string());
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let prompt = body["messages"][0]["content"].as_str().unwrap().to_string();
    seen.lock().unwrap().push((auth, body));
    let fault = script.lock().unwrap().pop_front();
    let reply = serde_json::json!({
        "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("echo: {prompt}")}, "finish_reason": "stop"}]
    })
    .to_string();
    let mut stream = stream;
    let respond = |stream: &mut TcpStream, status: &str, extra: &str, body: &str| {
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{body}",
            body.len()
        );
    };
    match fault {
        None => respond(&mut stream, "200 OK", "", &reply),
        Some(Fault::Status(code)) => respond(
            &mut stream,
            &format!("{code} Injected"),
            "",
            r#"{"error":"injected"}"#,
        ),
        Some(Fault::RetryAfter) => respond(
            &mut stream,
            "429 Too Many Requests",
            "retry-after: 1\r\n",
            r#"{"error":"slow down"}"#,
        ),
        Some(Fault::Slow) => {
            std::thread::sleep(Duration::from_millis(1500));
            respond(&mut stream, "200 OK", "", &reply);
        }
        Some(Fault::Malformed) => respond(&mut stream, "200 OK", "", "{\"choices\": [ not json"),
        Some(Fault::Drop) => drop(stream),
    }
}

fn requests(n: usize) -> Vec<ChatRequest> {
    (0..n)
        .map(|i| ChatRequest {
            messages: vec![Message::user(format!("request {i}"))],
            sampling: Sampling {
                temperature: 1.0,
                top_p: 0.95,
                max_tokens: 32,
                seed: i as u64,
            },
        })
        .collect()
}

fn client(url: &str, concurrency: usize, max_retries: u32) -> OpenAiClient {
    let mut config = OpenAiConfig::new(url, "smollm2");
    config.concurrency = concurrency;
    config.timeout_s = 0.5;
    config.max_retries = max_retries;
    config.backoff_initial_s = 0.01;
    config.backoff_max_s = 0.05;
    OpenAiClient::new(config).unwrap()
}

#[test]
fn every_fault_is_counted_retried_or_reported_and_the_rest_succeed() {
    use Fault::*;
    let server = serve(vec![
        Status(429),
        Status(500),
        Slow,
        Malformed,
        Drop,
        Status(400),
        Status(429),
        Status(503),
    ]);
    let client = client(&server.url, 3, 5);
    let results = client.generate(&requests(10));
    assert_eq!(results.len(), 10);
    let mut failed_kinds = Vec::new();
    for (i, r) in results.iter().enumerate() {
        match r {
            Ok(reply) => {
                assert_eq!(
                    reply.text,
                    format!("echo: request {i}"),
                    "replies stay in order"
                );
                assert_eq!(reply.finish, Finish::EndOfTurn, "finish_reason \"stop\"");
            }
            Err(e) => failed_kinds.push(e.kind),
        }
    }
    failed_kinds.sort();
    assert_eq!(
        failed_kinds,
        [FailureKind::ClientError, FailureKind::Malformed],
        "a client error and a malformed reply are not retried"
    );
    let tally = client.tally();
    let expected: BTreeMap<FailureKind, usize> = [
        (FailureKind::RateLimited, 2),
        (FailureKind::ServerError, 2),
        (FailureKind::Timeout, 1),
        (FailureKind::Malformed, 1),
        (FailureKind::Connection, 1),
        (FailureKind::ClientError, 1),
    ]
    .into();
    assert_eq!(tally.failed_attempts, expected);
    assert_eq!(
        (tally.requests, tally.succeeded, tally.failed, tally.retries),
        (10, 8, 2, 6)
    );
    // 10 requests + 6 retries reached the server (the slow one too).
    let seen = server.seen.lock().unwrap();
    assert_eq!(seen.len(), 16);
    assert!(server.script.lock().unwrap().is_empty());
    assert!(
        seen.iter().all(|(auth, _)| auth.is_none()),
        "no key configured, none sent"
    );
    let body = &seen[0].1;
    assert_eq!(body["model"], "smollm2");
    assert_eq!(body["max_tokens"], 32);
    assert!((body["top_p"].as_f64().unwrap() - 0.95).abs() < 1e-6);
}

#[test]
fn retries_stop_at_the_limit_and_say_how_many_attempts() {
    let server = serve(vec![Fault::Status(502); 5]);
    let client = client(&server.url, 1, 2);
    let results = client.generate(&requests(1));
    let err = results[0].as_ref().unwrap_err();
    assert_eq!((err.kind, err.attempts), (FailureKind::ServerError, 3));
    assert!(err.detail.contains("502"), "{}", err.detail);
    assert_eq!(server.seen.lock().unwrap().len(), 3);
    assert_eq!(client.tally().retries, 2);
}

#[test]
fn retry_after_is_honoured_and_the_key_is_sent_as_a_bearer_token() {
    // SAFETY: this test alone uses this variable.
    unsafe { std::env::set_var("PRISM_TEST_LOOPBACK_KEY", "sk-loopback") };
    let server = serve(vec![Fault::RetryAfter]);
    let mut config = OpenAiConfig::new(&server.url, "m");
    config.api_key_env = Some("PRISM_TEST_LOOPBACK_KEY".into());
    config.backoff_initial_s = 0.01;
    config.backoff_max_s = 2.0;
    let client = OpenAiClient::new(config).unwrap();
    let start = Instant::now();
    let results = client.generate(&requests(1));
    assert_eq!(
        results[0].as_ref().map(|r| r.text.as_str()),
        Ok("echo: request 0")
    );
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "waited {:?} after `Retry-After: 1`",
        start.elapsed()
    );
    let seen = server.seen.lock().unwrap();
    assert!(
        seen.iter()
            .all(|(auth, _)| auth.as_deref() == Some("Bearer sk-loopback"))
    );
}

#[test]
fn an_unreachable_server_is_a_connection_failure() {
    // Bind then drop: nothing listens on the port.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = client(&format!("http://127.0.0.1:{port}/v1"), 2, 1);
    let results = client.generate(&requests(2));
    for r in &results {
        let e = r.as_ref().unwrap_err();
        assert_eq!((e.kind, e.attempts), (FailureKind::Connection, 2));
    }
}
