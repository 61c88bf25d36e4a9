//! The local decoder as a generator, on the tiny random Llama-3 checkpoint of
//! `tests/reference/tiny-lm`: batched replies equal single generation, requests it cannot
//! serve fail alone, and the tally counts both.

use prism_models::LanguageModel;
use prism_synth::{ChatRequest, FailureKind, Finish, Generator, Message, Reply, Sampling};
use prism_tasks::local_decoder::{LocalDecoder, decoder_sampling};

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
    // A conversation must end with a user turn: one ending with the assistant's cannot be
    // served.
    let mut ends_with_assistant = request("b", 1);
    ends_with_assistant
        .messages
        .push(Message::assistant("an answer"));
    let mut few_shot = request("question", 4);
    few_shot.messages = vec![
        Message::system("be brief"),
        Message::user("q1"),
        Message::assistant("a1"),
        Message::user("q2"),
    ];
    let requests = [
        request("abc", 0),
        ends_with_assistant,
        request("hello there", 2),
        request("abc", 3),
        few_shot.clone(),
    ];
    let replies = decoder.generate(&requests);
    let lm = tiny_lm();
    for i in [0, 2, 3] {
        let s = requests[i].sampling;
        let prompt = lm
            .tokenizer
            .encode(
                &lm.tokenizer
                    .template
                    .prompt(&requests[i].messages[0].content),
            )
            .unwrap();
        let ids = lm.continue_ids(&prompt, decoder_sampling(s)).unwrap();
        // The reply ended its turn exactly when the model stopped before the limit.
        let finish = if ids.len() < s.max_tokens {
            Finish::EndOfTurn
        } else {
            Finish::TokenLimit
        };
        let alone = Reply::new(lm.tokenizer.decode(&ids).unwrap(), finish);
        assert_eq!(replies[i].as_ref(), Ok(&alone), "request {i}");
    }
    assert_eq!(replies[1].as_ref().unwrap_err().kind, FailureKind::Decoder);
    // Every turn of a few-shot conversation is rendered, as generating it alone does.
    let turns: Vec<(&str, &str)> = few_shot
        .messages
        .iter()
        .map(|m| (m.role.as_str(), m.content.as_str()))
        .collect();
    let alone = lm
        .generate_conversations(&[turns], &[decoder_sampling(few_shot.sampling)])
        .unwrap();
    assert_eq!(
        replies[4].as_ref().map(|r| r.text.as_str()),
        Ok(alone[0].text.as_str())
    );
    let tally = decoder.tally();
    assert_eq!((tally.requests, tally.succeeded, tally.failed), (5, 4, 1));
    assert_eq!(decoder.settings()["generator"], "local");
}
