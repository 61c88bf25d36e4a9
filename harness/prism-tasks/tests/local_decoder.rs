//! The local decoder as a generator, on the tiny random Llama-3 checkpoint of
//! `tests/reference/tiny-lm`: batched replies equal single generation, requests it cannot
//! serve fail alone, and the tally counts both.

use prism_models::LanguageModel;
use prism_synth::{ChatRequest, FailureKind, Generator, Message, Sampling};
use prism_tasks::local_decoder::LocalDecoder;

fn tiny_lm() -> LanguageModel {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/reference/tiny-lm/llama3"
    );
    let backend: prism_models::Backend = std::env::var("PRISM_TEST_BACKEND")
        .unwrap_or_else(|_| "flex".into())
        .parse()
        .unwrap();
    LanguageModel::load_path(std::path::Path::new(dir), &backend.device().unwrap()).unwrap()
}

fn request(prompt: &str, seed: u64) -> ChatRequest {
    ChatRequest {
        messages: vec![Message::user(prompt)],
        sampling: Sampling {
            temperature: 0.8,
            top_p: 0.95,
            max_tokens: 10,
            seed,
        },
    }
}

#[test]
fn the_local_decoder_serves_batches_like_single_generation() {
    let decoder = LocalDecoder::new(tiny_lm(), 2);
    let mut two_turns = request("b", 1);
    two_turns.messages.insert(0, Message::system("be brief"));
    let requests = [
        request("abc", 0),
        two_turns,
        request("hello there", 2),
        request("abc", 3),
    ];
    let replies = decoder.generate(&requests);
    let lm = tiny_lm();
    for i in [0, 2, 3] {
        let s = requests[i].sampling;
        let alone = lm
            .generate(
                &requests[i].messages[0].content,
                prism_models::Sampling {
                    temperature: s.temperature,
                    top_p: s.top_p,
                    seed: s.seed,
                    max_new_tokens: s.max_tokens,
                },
            )
            .unwrap();
        assert_eq!(replies[i].as_deref(), Ok(alone.as_str()), "request {i}");
    }
    assert_eq!(replies[1].as_ref().unwrap_err().kind, FailureKind::Decoder);
    let tally = decoder.tally();
    assert_eq!((tally.requests, tally.succeeded, tally.failed), (4, 3, 1));
    assert_eq!(decoder.settings()["generator"], "local");
}
