//! The loop with a scripted generator and hashed features: rounds are seeded, a killed run
//! resumes at its last whole round with nothing kept twice, the sparse rule decides what is
//! kept, and a run folder made with other settings is refused.

use prism_synth::formats::math::{MathFormat, math_example};
use prism_synth::rounds::{Featurize, LoopConfig, LoopError, Selection, SynthRun};
use prism_synth::{ChatRequest, Finish, GenerationError, Generator, Reply, SynthExample, Tally};
use prism_vendi::Features;
use rand::{Rng, SeedableRng};
use std::sync::Mutex;

/// Writes one problem per draft request and, per solution request, the answer its problem's
/// hash gives (a third of the problems get a seed-dependent answer, so they rarely agree).
struct Scripted {
    tally: Mutex<Tally>,
}

const WORDS: [&str; 12] = [
    "apples", "trains", "books", "coins", "birds", "shells", "pens", "cars", "boats", "cakes",
    "stamps", "kites",
];

fn reply(r: &ChatRequest) -> String {
    let ask = &r.messages.last().unwrap().content;
    let seed = r.sampling.seed;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    if ask.contains("Write a new math word problem") {
        let (a, b) = (rng.random_range(2..90), rng.random_range(2..20));
        let (w, v) = (
            WORDS[rng.random_range(0..12)],
            WORDS[rng.random_range(0..12)],
        );
        format!(
            "<problem>\nA shop has {a} boxes of {w} and {b} crates of {v}; each crate holds \
             {b} {v}. How many items are there in total in shop number {seed}?\n</problem>"
        )
    } else {
        let problem = ask.rsplit("\n\n").next().unwrap();
        let h = prism_data::text::fnv1a(problem.as_bytes());
        let answer = if h.is_multiple_of(3) { seed } else { h % 1000 };
        format!("Adding up.\n#### {answer}")
    }
}

impl Generator for Scripted {
    fn settings(&self) -> serde_json::Value {
        serde_json::json!({ "generator": "scripted" })
    }
    fn generate(&self, requests: &[ChatRequest]) -> Vec<Result<Reply, GenerationError>> {
        let mut t = self.tally.lock().unwrap();
        t.requests += requests.len();
        t.succeeded += requests.len();
        requests
            .iter()
            .map(|r| Ok(Reply::new(reply(r), Finish::EndOfTurn)))
            .collect()
    }
    fn tally(&self) -> Tally {
        self.tally.lock().unwrap().clone()
    }
}

/// A unit vector per text, from its hash, in 6 dimensions; counts the rows it was asked for.
#[derive(Default)]
struct Hashed {
    rows: usize,
}

impl Featurize for Hashed {
    fn features(&mut self, examples: &[&SynthExample]) -> anyhow::Result<Features> {
        self.rows += examples.len();
        let mut data = Vec::new();
        for e in examples {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(prism_data::text::fnv1a(
                format!("{}|{}", e.prompt, e.completion).as_bytes(),
            ));
            data.extend((0..6).map(|_| rng.random_range(-1.0f32..1.0)));
        }
        let mut f = Features::new(data, examples.len(), 6);
        f.l2_normalize();
        Ok(f)
    }
}

fn pool() -> Vec<SynthExample> {
    (0..40)
        .map(|i| {
            math_example(
                format!("pool-{i}"),
                &format!(
                    "Pool problem {i}: Jo has {} {} and gives away {}. How many are left now?",
                    i + 10,
                    WORDS[i % 12],
                    i % 7
                ),
                &format!(
                    "{} - {} = {}\n#### {}",
                    i + 10,
                    i % 7,
                    i + 10 - i % 7,
                    i + 10 - i % 7
                ),
                &format!("{}", i + 10 - i % 7),
                1 + (i % 4) as u32,
                serde_json::json!({}),
            )
        })
        .collect()
}

fn config(rounds: usize, selection: Selection) -> LoopConfig {
    LoopConfig {
        rounds,
        requests_per_round: 12,
        selection,
        clusters: prism_synth::ClusterConfig {
            fraction: 0.2,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn run(
    dir: &std::path::Path,
    cfg: &LoopConfig,
    fingerprint: &str,
) -> Result<prism_synth::SynthState, LoopError> {
    let pool = pool();
    let eval = vec!["Jo has 11 apples and gives away 1. How many are left now?".to_string()];
    let synth = SynthRun {
        pool: &pool,
        eval_texts: &eval,
        dir,
        name: "test",
        fingerprint: fingerprint.into(),
    };
    let generator = Scripted {
        tally: Mutex::default(),
    };
    synth.run(
        cfg,
        &MathFormat::default(),
        &generator,
        &mut Hashed::default(),
        &mut |_| {},
    )
}

#[test]
fn rounds_keep_only_sparse_candidates_and_count_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let state = run(dir.path(), &config(3, Selection::Sparse), "a").unwrap();
    assert_eq!(state.rounds.len(), 3);
    assert_eq!(state.start_size, 40);
    for r in &state.rounds {
        assert_eq!(r.requests, 12);
        assert_eq!(r.parsed, 12, "one problem per reply");
        assert!(r.agreed < r.parsed, "a third disagree: {r:?}");
        assert_eq!(
            r.agreed,
            r.passed_filters + r.rejections.values().sum::<usize>()
        );
        assert_eq!(
            r.kept, r.in_sparse,
            "sparse selection keeps the sparse ones"
        );
        assert!(r.in_sparse <= r.passed_filters);
        // Every candidate that passed is placed, and its cluster's flag counts it.
        assert_eq!(r.landing.candidates.len(), r.passed_filters);
        assert_eq!(r.landing.similarity.len(), r.passed_filters);
        assert!(
            r.landing
                .similarity
                .iter()
                .chain([&r.landing.pool_similarity])
                .all(|c| (-1.0 - 1e-6..=1.0 + 1e-6).contains(c)),
            "cosines: {:?}",
            r.landing
        );
        assert_eq!(r.landing.cluster_sizes.len(), r.clusters);
        assert_eq!(
            r.landing.cluster_sizes.iter().sum::<usize>(),
            r.pool_size - r.kept,
            "the clusters hold the pool the round started from"
        );
        assert_eq!(
            r.landing.size_ranks().iter().filter(|(_, s)| *s).count(),
            r.in_sparse
        );
        assert_eq!(
            r.generator.requests,
            12 + 3 * 12,
            "drafts, then 3 solutions each"
        );
    }
    let kept: usize = state.rounds.iter().map(|r| r.kept).sum();
    assert_eq!(kept, state.kept.len());
    assert!(kept > 0, "{:?}", state.rounds);
    assert_eq!(state.rounds[2].pool_size, 40 + kept);
    let ids: std::collections::HashSet<&str> = state.kept.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), kept, "ids are unique");
    assert!(
        state
            .kept
            .iter()
            .all(|e| e.fields["solution"].as_str().unwrap().contains("####"))
    );

    // The naive arm keeps every candidate that passes the filters.
    let naive_dir = tempfile::tempdir().unwrap();
    let naive = run(naive_dir.path(), &config(2, Selection::All), "a").unwrap();
    for r in &naive.rounds {
        assert_eq!(r.kept, r.passed_filters);
    }
}

#[test]
fn a_killed_run_resumes_at_its_last_whole_round() {
    let straight = tempfile::tempdir().unwrap();
    let whole = run(straight.path(), &config(3, Selection::Sparse), "a").unwrap();

    let resumed = tempfile::tempdir().unwrap();
    run(resumed.path(), &config(1, Selection::Sparse), "a").unwrap();
    let partial: prism_synth::SynthState =
        serde_json::from_slice(&std::fs::read(resumed.path().join("state.json")).unwrap()).unwrap();
    assert_eq!(partial.rounds.len(), 1);
    let finished = run(resumed.path(), &config(3, Selection::Sparse), "a").unwrap();
    let strip = |s: &prism_synth::SynthState| {
        let mut s = s.clone();
        for r in &mut s.rounds {
            r.generation_s = 0.0;
            r.features_s = 0.0;
            // The tally counts requests per generator; each invocation makes a new one.
        }
        s
    };
    assert_eq!(
        strip(&finished),
        strip(&whole),
        "the resumed run equals the straight one"
    );
    // A finished run does nothing more when run again.
    let again = run(resumed.path(), &config(3, Selection::Sparse), "a").unwrap();
    assert_eq!(strip(&again), strip(&whole));

    // Other settings in the same folder are refused, naming the state file.
    let err = run(resumed.path(), &config(3, Selection::Sparse), "b").unwrap_err();
    assert!(matches!(err, LoopError::Fingerprint { .. }));
    assert!(err.to_string().contains("state.json"), "{err}");
}

#[test]
fn growing_stops_at_the_target_size() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = LoopConfig {
        grow_to: 5,
        ..config(10, Selection::All)
    };
    let state = run(dir.path(), &cfg, "a").unwrap();
    assert_eq!(state.kept.len(), 5);
    assert!(state.rounds.len() < 10);
}

#[test]
fn kept_replies_are_read_back_instead_of_generated_again() {
    use prism_synth::reply_cache::CachedGenerator;
    let dir = tempfile::tempdir().unwrap();
    let cached = CachedGenerator::new(
        Box::new(Scripted {
            tally: Mutex::default(),
        }),
        dir.path().join("replies"),
    );
    let format = MathFormat::default();
    let requests = format.solution_requests("How many?", &[], 5);
    let first = cached.generate(&requests);
    assert_eq!((cached.tally().requests, cached.tally().cached), (3, 0));
    let mut more = requests.clone();
    more.extend(format.solution_requests("How many more?", &[], 5));
    let second = cached.generate(&more);
    assert_eq!(second[..3], first[..], "text and finish read back");
    let t = cached.tally();
    assert_eq!(
        (t.requests, t.cached),
        (6, 3),
        "only the new requests were generated"
    );
}
