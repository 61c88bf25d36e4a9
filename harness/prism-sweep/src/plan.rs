//! The run matrix of an experiment: strategies × sizes × seeds (the subsets), times the
//! training seeds of each subset's students (`sweep.train_seeds`), each run named by a hash of
//! everything that shapes its result (its subset spec, data, student, training, G-Vendi and
//! evaluation settings, and the content hashes of its inputs) and nothing that does not
//! (workers, retries, log level).

use prism_core::config::schema::{ExperimentConfig, StrategySpec};
use serde::{Deserialize, Serialize};

/// One run of a sweep.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Seed of the student's training (`train.seed` of this run).
    #[serde(default)]
    pub train_seed: u64,
}

impl PlannedRun {
    /// What names this run's subset (its spec, size and seed): the same for every training
    /// seed's run of that subset, so the subset is built once for all of them.
    pub fn subset_key(&self) -> String {
        serde_json::json!([self.spec, self.size, self.seed]).to_string()
    }
}

/// The runs of `cfg`, each subset's training seeds next to each other; `inputs` are the
/// content hashes of the files the runs read. A run's identity holds its own training seed
/// (as `train.seed`), so a sweep without `sweep.train_seeds` keeps the ids it always had.
/// `versions` names the code that computes a run's numbers (the task's
/// [`RunKind::code_versions`](crate::RunKind::code_versions)).
pub fn plan(
    cfg: &ExperimentConfig,
    inputs: &serde_json::Value,
    versions: &serde_json::Value,
) -> Vec<PlannedRun> {
    let mut runs = Vec::new();
    let train_seeds = cfg.train_seeds();
    for (spec, size, seed) in cfg.subsets.combinations() {
        for &train_seed in &train_seeds {
            let identity = serde_json::json!({
                "strategy": spec, "size": size, "seed": seed,
                "data": cfg.data, "length_bins": cfg.subsets.length_bins,
                "student": cfg.student, "train": cfg.train_with_seed(train_seed), "gvendi": cfg.gvendi,
                "eval_limit": cfg.sweep.eval_limit, "metrics": cfg.sweep.metrics,
                "inputs": inputs,
                // The code that computes a run's numbers: a new encoder, trainer or feature
                // definition makes new runs instead of mixing with results of the old code.
                "versions": versions,
            });
            let mut identity = identity;
            if cfg.skills != prism_core::config::schema::SkillsConfig::default() {
                // Only when set, like `metrics_only`: the default keeps the ids of sweeps
                // that predate skill labels.
                identity["skills"] = serde_json::json!(cfg.skills);
            }
            if !cfg.sweep.train {
                // Only when set, so that the ids of ordinary sweeps did not change when
                // metrics-only sweeps were introduced.
                identity["metrics_only"] = true.into();
            }
            let hash = prism_core::hash::sha256_hex(identity.to_string().as_bytes());
            runs.push(PlannedRun {
                index: runs.len(),
                id: hash[..12].to_string(),
                subset: spec.subset_name(size, seed),
                strategy: spec.label(),
                spec: spec.clone(),
                size,
                seed,
                train_seed,
            });
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use prism_core::config::schema::Matrix;

    fn versions() -> serde_json::Value {
        serde_json::json!({"encoder": 1, "trainer": 1, "features": 1})
    }

    fn config() -> ExperimentConfig {
        toml::from_str(prism_core::config::schema::DEFAULTS_TOML).unwrap()
    }

    #[test]
    fn ids_change_with_what_matters_and_only_with_it() {
        let inputs = serde_json::json!({"pool": "abc"});
        let base = plan(&config(), &inputs, &versions());
        assert_eq!(base.len(), 1);
        let mut cfg = config();
        cfg.sweep.workers = 7;
        cfg.sweep.max_attempts = 9;
        assert_eq!(
            plan(&cfg, &inputs, &versions())[0].id,
            base[0].id,
            "execution settings are not identity"
        );
        cfg.train.learning_rate = 1e-4;
        assert_ne!(plan(&cfg, &inputs, &versions())[0].id, base[0].id);
        assert_ne!(
            plan(&config(), &serde_json::json!({"pool": "abd"}), &versions())[0].id,
            base[0].id
        );
        let mut cfg = config();
        cfg.subsets.seeds = vec![0, 1];
        cfg.subsets.sizes = vec![10, 20];
        let runs = plan(&cfg, &inputs, &versions());
        assert_eq!(runs.len(), 4);
        let ids: std::collections::HashSet<_> = runs.iter().map(|r| &r.id).collect();
        assert_eq!(ids.len(), 4);
    }

    #[test]
    fn training_seeds_multiply_runs_and_the_first_keeps_its_id() {
        let inputs = serde_json::json!({"pool": "abc"});
        let mut cfg = config();
        cfg.subsets.sizes = vec![10, 20];
        let single = plan(&cfg, &inputs, &versions());
        cfg.sweep.train_seeds = vec![0, 7];
        let seeded = plan(&cfg, &inputs, &versions());
        assert_eq!(seeded.len(), 2 * single.len());
        let pairs: Vec<(usize, u64)> = seeded.iter().map(|r| (r.size, r.train_seed)).collect();
        assert_eq!(pairs, vec![(10, 0), (10, 7), (20, 0), (20, 7)]);
        assert_eq!(
            seeded.iter().map(|r| r.index).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        // Seed 0 is train.seed's default: those runs are the single-seed sweep's runs.
        assert_eq!(seeded[0].id, single[0].id);
        assert_eq!(seeded[2].id, single[1].id);
        assert_ne!(seeded[1].id, seeded[0].id);
        assert_eq!(
            seeded[1].subset, seeded[0].subset,
            "one subset, two students"
        );
        // `train.seed = 7` alone names the same run as seed 7 of the list.
        let mut alone = config();
        alone.subsets.sizes = vec![10, 20];
        alone.train.seed = 7;
        assert_eq!(plan(&alone, &inputs, &versions())[0].id, seeded[1].id);
    }

    #[test]
    fn zip_pairs_lists_elementwise_and_keeps_run_ids() {
        let inputs = serde_json::json!({"pool": "abc"});
        let mut grid = config();
        grid.subsets.sizes = vec![10, 20, 30];
        grid.subsets.seeds = vec![0, 1, 2];
        let grid_runs = plan(&grid, &inputs, &versions());
        assert_eq!(grid_runs.len(), 9);
        let mut zip = grid.clone();
        zip.subsets.matrix = Matrix::Zip;
        let zip_runs = plan(&zip, &inputs, &versions());
        let triples: Vec<(usize, u64)> = zip_runs.iter().map(|r| (r.size, r.seed)).collect();
        assert_eq!(triples, vec![(10, 0), (20, 1), (30, 2)]);
        // A run is the same run whichever matrix produced it.
        for z in &zip_runs {
            let same = grid_runs
                .iter()
                .find(|g| g.size == z.size && g.seed == z.seed)
                .unwrap();
            assert_eq!(same.id, z.id);
        }
        zip.subsets.seeds = vec![0, 1];
        let err = zip.validate(std::path::Path::new(".")).unwrap_err();
        assert_eq!(err.0, "subsets.seeds", "{err:?}");
    }
}
