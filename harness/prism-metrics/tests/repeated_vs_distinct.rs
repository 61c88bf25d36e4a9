//! Every metric ranks 200 distinct real NLI pairs as more diverse than one pair repeated 200
//! times. The pairs are the first 200 of the vendored MNLI matched dev set (real text, no
//! network). Until the MiniLM encoder and the gradient featuriser land, the embedding,
//! static-embedding and gradient metrics are fed hashed n-gram vectors of the same texts: the test checks each
//! metric's arithmetic and direction, not the encoder.

use prism_metrics::{Direction, MetricInput, registry};

#[test]
fn one_pair_repeated_scores_less_diverse_than_distinct_real_pairs() {
    let pairs = prism_data::parse::mnli::parse_vendored().unwrap();
    let text = |e: &prism_data::Example| format!("{} {} {}", e.premise, e.hypothesis, e.label);
    let distinct: Vec<String> = pairs.iter().take(200).map(text).collect();
    let distinct_labels: Vec<String> = pairs.iter().take(200).map(|e| e.label.clone()).collect();
    let repeated = vec![text(&pairs[0]); 200];
    let repeated_labels = vec![pairs[0].label.clone(); 200];
    let features = |t: &[String]| prism_data::text::hashed_ngram_features(t, &[1, 2], 512);
    let (fd, fr) = (features(&distinct), features(&repeated));
    let losses = vec![1.0f32; 200];
    let d_in = MetricInput {
        texts: &distinct,
        labels: &distinct_labels,
        embeddings: Some(&fd),
        static_embeddings: Some(&fd),
        gradients: Some(&fd),
        proxy_losses: Some(&losses),
        reference_embeddings: Some(&fd),
        skills: Some(&distinct_labels),
        seed: 0,
    };
    let r_in = MetricInput {
        texts: &repeated,
        labels: &repeated_labels,
        embeddings: Some(&fr),
        static_embeddings: Some(&fr),
        gradients: Some(&fr),
        proxy_losses: Some(&losses),
        reference_embeddings: Some(&fd),
        skills: Some(&repeated_labels),
        seed: 0,
    };
    let metrics = registry();
    assert!(metrics.len() >= 12);
    for m in metrics {
        let d = m
            .compute(&d_in)
            .unwrap_or_else(|e| panic!("{}: {e}", m.name()));
        let r = m
            .compute(&r_in)
            .unwrap_or_else(|e| panic!("{}: {e}", m.name()));
        match m.direction() {
            Direction::HigherIsMoreDiverse => {
                assert!(r < d, "{}: repeated {r} vs distinct {d}", m.name())
            }
            Direction::LowerIsMoreDiverse => {
                assert!(r > d, "{}: repeated {r} vs distinct {d}", m.name())
            }
            Direction::NotDiversity => {} // a quality signal: no diversity direction
        }
    }
}

#[test]
fn names_are_unique() {
    let names: Vec<&str> = registry().iter().map(|m| m.name()).collect();
    let unique: std::collections::HashSet<_> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "{names:?}");
}
