//! Metric values against independent implementations: NLTK's BLEU for self-BLEU, Python's
//! Counter for distinct-n and n-gram entropy, numpy's `eigvalsh` for the Vendi score. The
//! fixture and the script that made it are in `tests/reference/` (metrics_reference.py).

mod common;

use prism_metrics::{MetricInput, find};
use prism_vendi::Features;

fn fixture() -> serde_json::Value {
    common::fixture("metrics_fixture.json")
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn metrics_match_the_python_references() {
    let fx = fixture();
    let texts = strings(&fx["texts"]);
    let labels = strings(&fx["labels"]);
    // The script's tokenizer must be ours, or the comparison means nothing.
    for (text, expected) in texts.iter().zip(fx["tokens"].as_array().unwrap()) {
        assert_eq!(prism_data::text::tokens(text), strings(expected), "{text}");
    }
    let features = Features::from_json_rows(&fx["features"]).expect("a matrix");
    let input = MetricInput {
        texts: &texts,
        labels: &labels,
        embeddings: Some(&features),
        static_embeddings: Some(&features),
        gradients: Some(&features),
        proxy_losses: None,
        reference_embeddings: None,
        skills: None,
        seed: 0,
    };
    let values = fx["values"].as_object().unwrap();
    let mut checked = 0;
    for (name, reference) in values {
        // Every Vendi-of-features metric is checked against the one numpy value.
        let metric_names: &[&str] = match name.as_str() {
            "vendi" => &["embedding-vendi", "static-embedding-vendi", "g-vendi"],
            "vendi-q2" => &["embedding-vendi-q2"],
            "vendi-qinf" => &["embedding-vendi-qinf"],
            other => &[other][..],
        };
        let reference = reference.as_f64().unwrap();
        for metric_name in metric_names {
            let metric = find(metric_name).unwrap_or_else(|| panic!("no metric `{metric_name}`"));
            let got = metric.compute(&input).unwrap();
            let rel = (got - reference).abs() / reference.abs().max(1e-12);
            assert!(
                rel < 1e-9,
                "{metric_name}: prism {got} vs reference {reference}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} values checked");
}
