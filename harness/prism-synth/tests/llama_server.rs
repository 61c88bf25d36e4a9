//! The OpenAI-compatible client and the math format against a real llama.cpp server serving
//! SmolLM2-135M-Instruct (`just test-server` starts one on loopback and sets
//! `LLAMA_SERVER_BASE_URL`). Ignored in `just test`: it needs the server.

use prism_synth::formats::Drop;
use prism_synth::formats::math::{MathFormat, MathSeed};
use prism_synth::{Finish, Generator, OpenAiClient, OpenAiConfig};
use std::collections::BTreeMap;

fn client() -> OpenAiClient {
    let url = std::env::var("LLAMA_SERVER_BASE_URL")
        .expect("LLAMA_SERVER_BASE_URL is not set: run `just test-server`");
    let mut config = OpenAiConfig::new(url, "smollm2-135m-instruct");
    config.concurrency = 2;
    config.timeout_s = 300.0;
    OpenAiClient::new(config).unwrap()
}

fn seeds() -> Vec<MathSeed> {
    [
        ("A baker makes 24 muffins and sells 15 of them. How many muffins are left?", 2),
        ("Sara reads 12 pages a day for 5 days, then 20 pages on the sixth day. How many pages did she read?", 3),
        ("A farmer has 3 fields with 40 cows each. He sells a quarter of all the cows. How many cows does he keep?", 3),
        ("Tickets cost $8 for adults and $5 for children. A family buys 2 adult and 3 child tickets and pays with $50. How much change do they get?", 4),
        ("A tank holds 120 litres. It is half full, and 15 litres are added every hour for 2 hours. How many litres are in it now?", 3),
    ]
    .into_iter()
    .map(|(q, d)| MathSeed {
        question: q.into(),
        difficulty: d,
    })
    .collect()
}

#[test]
#[ignore = "needs a llama.cpp server: `just test-server`"]
fn one_small_math_round_against_a_real_server() {
    let client = client();
    let format = MathFormat::default();
    let seeds = seeds();
    let seed_refs: Vec<&MathSeed> = seeds.iter().collect();
    let requests: Vec<_> = (0..4)
        .map(|i| format.problem_request(&seed_refs, 1000 + i))
        .collect();
    let replies = client.generate(&requests);
    let mut drops: BTreeMap<Drop, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for reply in &replies {
        let reply = reply.as_ref().expect("the server answers every request");
        // llama.cpp's server says why every reply ended.
        assert_ne!(reply.finish, Finish::Unknown, "{reply:?}");
        let parsed = format.parse_problems(reply);
        problems.extend(parsed.drafts);
        for d in parsed.drops {
            *drops.entry(d).or_default() += 1;
        }
    }
    eprintln!("problem replies: {}", replies.len());
    eprintln!("first reply:\n{}\n", replies[0].as_ref().unwrap().text);
    eprintln!("parsed problems: {}; dropped: {drops:?}", problems.len());
    // The solving half runs on the parsed problems, and on the seeds themselves so that it
    // is exercised even when a small generator writes no parseable problem.
    let to_solve: Vec<String> = problems
        .iter()
        .cloned()
        .chain(seeds.iter().map(|s| s.question.clone()))
        .collect();
    let mut kept = 0;
    let mut votes: BTreeMap<String, usize> = BTreeMap::new();
    for (i, problem) in to_solve.iter().enumerate() {
        let solutions =
            client.generate(&format.solution_requests(problem, &[], 2000 + 10 * i as u64));
        match format.vote(problem, &solutions) {
            Ok(c) => {
                kept += 1;
                eprintln!(
                    "kept (answer {}, {} votes): {}",
                    c.answer, c.votes, c.question
                );
            }
            Err(d) => *votes.entry(format!("{d:?}")).or_default() += 1,
        }
        if i == problems.len() {
            eprintln!(
                "a solution of the first seed:\n{}\n",
                solutions[0].as_ref().unwrap().text
            );
        }
    }
    eprintln!("self-consistency: {kept} kept, dropped {votes:?}");
    let tally = client.tally();
    eprintln!("tally: {}", serde_json::to_string(&tally).unwrap());
    assert_eq!(tally.failed, 0, "{tally:?}");
    assert_eq!(tally.requests, 4 + 3 * to_solve.len());
    // The server honours `seed`: the same request gives the same reply.
    let again = client.generate(&requests[..1]);
    assert_eq!(again[0], replies[0], "a seeded request repeats");
}
