//! Skill-set entropy (the G-Vendi paper's baseline): each example carries one skill label from
//! a fixed list, assigned by an annotator model (`[skills]` in the config; the sweep labels
//! the pool once, cached by content), and the metric is the Shannon entropy (bits) of those
//! labels over the subset. The default annotator, SmolLM2-135M-Instruct, is weak: read its
//! labels before trusting the metric (`prism metric skills` prints them).

use super::category_entropy_bits;
use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};

/// Shannon entropy of the skill labels.
pub struct SkillEntropy;

impl DiversityMetric for SkillEntropy {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "skill-entropy",
            description: "Shannon entropy (bits) of model-assigned skill labels (the paper's skill-set entropy)",
            family: Family::Label,
            needs: &[Need::Skills],
            direction: Direction::HigherIsMoreDiverse,
        }
    }
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let skills = crate::require_values(input.skills, self.name(), Need::Skills)?;
        super::at_least(self.name(), skills.len(), 1)?;
        Ok(category_entropy_bits(skills))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let texts = vec![String::new(); 4];
        let skills = ["a", "a", "b", "c"].map(String::from);
        let mut input = crate::metrics::with_features(&texts, None, None);
        assert!(SkillEntropy.compute(&input).is_err());
        input.skills = Some(&skills);
        // p = 1/2, 1/4, 1/4: 0.5 + 0.5 + 0.5 bits.
        assert!((SkillEntropy.compute(&input).unwrap() - 1.5).abs() < 1e-15);
    }
}
