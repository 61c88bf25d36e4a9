//! The run matrix of an experiment: strategies × sizes × seeds, each run named by a hash of
//! everything that shapes its result (its subset spec, data, student, training, G-Vendi and
//! evaluation settings, and the content hashes of its inputs) and nothing that does not
//! (workers, retries, log level).

use prism_core::config::schema::{ExperimentConfig, StrategySpec};
use serde::Serialize;

/// One run of a sweep.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedRun {
    /// Position in the matrix (the Slurm array index).
    pub index: usize,
    /// 12 hex digits of the identity hash.
    pub id: String,
    /// Subset name, `<strategy>-n<size>-s<seed>`.
    pub subset: String,
    /// Strategy label.
    pub strategy: String,
    /// Strategy and parameters.
    pub spec: StrategySpec,
    /// Subset size (the scale).
    pub size: usize,
    /// Subset seed.
    pub seed: u64,
}

/// The runs of `cfg`; `inputs` are the content hashes of the files the runs read.
pub fn plan(cfg: &ExperimentConfig, inputs: &serde_json::Value) -> Vec<PlannedRun> {
    let mut runs = Vec::new();
    for spec in &cfg.subsets.strategies {
        for &size in &cfg.subsets.sizes {
            for &seed in &cfg.subsets.seeds {
                let identity = serde_json::json!({
                    "strategy": spec, "size": size, "seed": seed,
                    "data": cfg.data, "length_bins": cfg.subsets.length_bins,
                    "student": cfg.student, "train": cfg.train, "gvendi": cfg.gvendi,
                    "eval_limit": cfg.sweep.eval_limit, "metrics": cfg.sweep.metrics,
                    "inputs": inputs,
                });
                let mut identity = identity;
                if !cfg.sweep.train {
                    // Only when set, so that the ids of ordinary sweeps did not change when
                    // metrics-only sweeps were introduced.
                    identity["metrics_only"] = true.into();
                }
                let hash = prism_core::hash::sha256_hex(identity.to_string().as_bytes());
                runs.push(PlannedRun {
                    index: runs.len(),
                    id: hash[..12].to_string(),
                    subset: prism_data::subset::subset_name(spec, size, seed),
                    strategy: spec.label(),
                    spec: spec.clone(),
                    size,
                    seed,
                });
            }
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ExperimentConfig {
        toml::from_str(prism_core::config::schema::DEFAULTS_TOML).unwrap()
    }

    #[test]
    fn ids_change_with_what_matters_and_only_with_it() {
        let inputs = serde_json::json!({"pool": "abc"});
        let base = plan(&config(), &inputs);
        assert_eq!(base.len(), 1);
        let mut cfg = config();
        cfg.sweep.workers = 7;
        cfg.sweep.max_attempts = 9;
        assert_eq!(
            plan(&cfg, &inputs)[0].id,
            base[0].id,
            "execution settings are not identity"
        );
        cfg.train.learning_rate = 1e-4;
        assert_ne!(plan(&cfg, &inputs)[0].id, base[0].id);
        assert_ne!(
            plan(&config(), &serde_json::json!({"pool": "abd"}))[0].id,
            base[0].id
        );
        let mut cfg = config();
        cfg.subsets.seeds = vec![0, 1];
        cfg.subsets.sizes = vec![10, 20];
        let runs = plan(&cfg, &inputs);
        assert_eq!(runs.len(), 4);
        let ids: std::collections::HashSet<_> = runs.iter().map(|r| &r.id).collect();
        assert_eq!(ids.len(), 4);
    }
}
