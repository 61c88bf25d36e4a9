//! The text-diversity suite and the embedding baselines against their reference
//! implementations: `diversity==0.3.1` (n-gram diversity, self-repetition, homogenization),
//! `lexicalrichness==0.5.1` (MTLD, HD-D, MATTR), the DCScore and NovelSum reference code. The
//! fixture and the script that made it are in `tests/reference/` (diversity_reference.py);
//! the texts are lowercase words separated by single spaces, so every tokenizer agrees.

mod common;

use prism_metrics::metrics::dcscore::DcScore;
use prism_metrics::metrics::novelsum::NovelSum;
use prism_metrics::{DiversityMetric, MetricInput, find};
use prism_vendi::Features;

fn fixture() -> serde_json::Value {
    common::fixture("diversity_fixture.json")
}

fn matrix(v: &serde_json::Value) -> Features {
    Features::from_json_rows(v).expect("a matrix")
}

fn input<'a>(
    texts: &'a [String],
    embeddings: &'a Features,
    reference: &'a Features,
) -> MetricInput<'a> {
    MetricInput {
        texts,
        labels: &[],
        embeddings: Some(embeddings),
        static_embeddings: None,
        gradients: None,
        proxy_losses: None,
        reference_embeddings: Some(reference),
        skills: None,
        seed: 0,
    }
}

fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// Asserts that `ours` is within `tolerance` of `expected`, relatively, and returns the
/// relative difference (for the parity table: the tests print it).
fn assert_close(what: &str, ours: f64, expected: f64, tolerance: f64) -> f64 {
    let difference = relative(ours, expected);
    assert!(
        difference < tolerance,
        "{what}: {ours} vs {expected} (relative difference {difference:.2e})"
    );
    difference
}

#[test]
fn lexical_suite_matches_diversity_and_lexicalrichness() {
    let fx = fixture();
    let texts: Vec<String> = fx["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    // Every tokenizer involved must see the same words.
    for t in &texts {
        assert_eq!(
            prism_data::text::tokens(t),
            t.split(' ').collect::<Vec<_>>()
        );
    }
    let (e, r) = (matrix(&fx["embeddings"]), matrix(&fx["reference"]));
    let inp = input(&texts, &e, &r);
    for (name, expected) in fx["lexical"].as_object().unwrap() {
        let expected = expected.as_f64().unwrap();
        let ours = find(name)
            .unwrap_or_else(|| panic!("{name}"))
            .compute(&inp)
            .unwrap();
        match fx["rounded"][name].as_u64() {
            // The reference rounds: ours must round to the same value.
            Some(places) => {
                let scale = 10f64.powi(places as i32);
                assert_eq!((ours * scale).round() / scale, expected, "{name}: {ours}");
            }
            None => {
                let difference = assert_close(name, ours, expected, 1e-6);
                eprintln!("{name}: relative difference {difference:.2e}");
            }
        }
    }
}

#[test]
fn dcscore_and_novelsum_match_their_reference_code() {
    let fx = fixture();
    let texts = vec![String::new(); fx["embeddings"].as_array().unwrap().len()];
    let (e, r) = (matrix(&fx["embeddings"]), matrix(&fx["reference"]));
    let inp = input(&texts, &e, &r);
    for (tau, key) in [(1.0, "tau_1"), (0.1, "tau_0.1")] {
        let expected = fx["dcscore"][key].as_f64().unwrap();
        let ours = DcScore { tau }.compute(&inp).unwrap();
        // Ours normalises the f32 rows in f32, the reference in f64.
        let difference = assert_close(&format!("dcscore tau {tau}"), ours, expected, 1e-6);
        eprintln!("dcscore tau {tau}: relative difference {difference:.2e}");
    }
    assert_eq!(
        find("dcscore").unwrap().compute(&inp).unwrap(),
        DcScore { tau: 1.0 }.compute(&inp).unwrap()
    );
    let grid = fx["novelsum"].as_array().unwrap();
    assert_eq!(
        grid.len(),
        18,
        "K in {{5, 10}} x beta in {{0, .25, .5}} x alpha in {{0, 1, 2}}"
    );
    let mut worst = 0f64;
    for point in grid {
        let metric = NovelSum {
            neighbors: point["neighbors"].as_u64().unwrap() as usize,
            density_power: point["density_power"].as_f64().unwrap(),
            distance_power: point["distance_power"].as_f64().unwrap(),
        };
        let expected = point["value"].as_f64().unwrap();
        let ours = metric.compute(&inp).unwrap();
        // The reference computes cosine distances and densities in f32.
        worst = worst.max(assert_close(&point.to_string(), ours, expected, 1e-4));
    }
    eprintln!("novelsum, 18 settings: largest relative difference {worst:.2e}");
}
