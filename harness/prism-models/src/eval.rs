//! Scoring predictions: accuracy, macro-F1 and the confusion matrix, with two-way benchmarks
//! scored by merging every non-entailment class of a three-way model into one.

use serde::Serialize;

/// Scores of one model on one evaluation set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    /// Examples scored.
    pub n: usize,
    /// Fraction predicted correctly.
    pub accuracy: f64,
    /// Unweighted mean of the per-class F1 (classes absent from both gold and predictions
    /// are left out).
    pub macro_f1: f64,
    /// Fraction of the most frequent gold class (the majority-class baseline).
    pub majority: f64,
    /// `confusion[gold][predicted]`.
    pub confusion: Vec<Vec<usize>>,
}

/// Maps a model's predicted class to the evaluation set's label space. With a three-way
/// model (entailment = 0) on a two-way set, neutral and contradiction both become
/// non-entailment (1).
pub fn map_prediction(predicted: usize, model_classes: usize, set_classes: usize) -> usize {
    if set_classes == 2 && model_classes == 3 {
        usize::from(predicted != 0)
    } else {
        predicted
    }
}

/// Scores `predicted` against `gold`; both are label indices in a space of `classes`.
pub fn score(gold: &[usize], predicted: &[usize], classes: usize) -> Scores {
    assert_eq!(gold.len(), predicted.len(), "one prediction per example");
    let n = gold.len();
    let mut confusion = vec![vec![0usize; classes]; classes];
    for (&g, &p) in gold.iter().zip(predicted) {
        confusion[g][p] += 1;
    }
    let correct: usize = (0..classes).map(|c| confusion[c][c]).sum();
    let mut f1s = Vec::new();
    for c in 0..classes {
        let tp = confusion[c][c] as f64;
        let gold_c: usize = confusion[c].iter().sum();
        let pred_c: usize = confusion.iter().map(|row| row[c]).sum();
        if gold_c + pred_c == 0 {
            continue;
        }
        f1s.push(2.0 * tp / (gold_c + pred_c) as f64);
    }
    let majority = (0..classes)
        .map(|c| confusion[c].iter().sum::<usize>())
        .max()
        .unwrap_or(0);
    let frac = |x: usize| if n == 0 { 0.0 } else { x as f64 / n as f64 };
    Scores {
        n,
        accuracy: frac(correct),
        macro_f1: if f1s.is_empty() {
            0.0
        } else {
            f1s.iter().sum::<f64>() / f1s.len() as f64
        },
        majority: frac(majority),
        confusion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_hand_computed_values() {
        // gold: 0 0 1 1 2 2; predicted: 0 1 1 1 2 0
        let s = score(&[0, 0, 1, 1, 2, 2], &[0, 1, 1, 1, 2, 0], 3);
        assert!((s.accuracy - 4.0 / 6.0).abs() < 1e-12);
        // F1: class 0: tp 1, gold 2, pred 2 → 0.5; class 1: tp 2, gold 2, pred 3 → 0.8;
        // class 2: tp 1, gold 2, pred 1 → 2/3.
        let want = (0.5 + 0.8 + 2.0 / 3.0) / 3.0;
        assert!((s.macro_f1 - want).abs() < 1e-12);
        assert_eq!(s.confusion[2][0], 1);
        assert!((s.majority - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn three_way_predictions_merge_on_two_way_sets() {
        assert_eq!(map_prediction(0, 3, 2), 0);
        assert_eq!(map_prediction(1, 3, 2), 1);
        assert_eq!(map_prediction(2, 3, 2), 1);
        assert_eq!(map_prediction(2, 3, 3), 2);
    }
}
