//! `prism export mlflow <sweep>`: the sweep as an MLflow file store, to browse and compare
//! runs in the MLflow UI (`mlflow ui --backend-store-uri <out>`) without a tracking server.
//!
//! Layout (MLflow's `FileStore`): `<out>/<experiment-id>/meta.yaml`, and per run
//! `<out>/<experiment-id>/<run-uuid>/{meta.yaml, params/<key>, metrics/<key>, tags/<key>,
//! artifacts/}`; a metric file holds `<unix-ms> <value> <step>` lines, a param or tag file
//! its value. Experiment 0 (`Default`) is written too, as MLflow expects it.
//!
//! What goes in: every run folder of the sweep. Params are the run's subset (strategy, size,
//! seed, spec), its training seed and the sweep's resolved config (flattened `section.key`); metrics are the
//! run's row of the runs table (`metric.*`, `bench.*`, `id_acc`, `ood_mean`) and its wall
//! time; tags are its prism id, state, host, attempts and, for a failed run, the error. The
//! ids are stable (hashes of the sweep name and run id), so exporting again overwrites the
//! same runs. The tree is built next to `<out>` and renamed into place.

use crate::ledger::{RunDir, RunState};
use crate::plan::PlannedRun;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// MLflow's run status codes (`RunStatus` in mlflow/protos/service.proto).
fn mlflow_status(state: Option<RunState>) -> u8 {
    match state {
        Some(RunState::Running) => 1,
        None => 2, // scheduled: planned, never started
        Some(RunState::Done) => 3,
        Some(RunState::Failed) => 4,
    }
}

/// `value` flattened to `prefix.key` → scalar text (arrays and tables as JSON).
fn flatten(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        serde_json::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        serde_json::Value::Null => {}
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// A decimal id from a hash (MLflow experiment ids are digit strings).
fn numeric_id(text: &str) -> String {
    let hex = prism_core::hash::sha256_hex(text.as_bytes());
    (u64::from_str_radix(&hex[..12], 16).unwrap_or(1) % 1_000_000_000 + 1).to_string()
}

/// YAML of flat `key: value` pairs (values are ids, numbers or simple quoted strings).
fn yaml(pairs: &[(&str, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}: {v}\n")).collect()
}

/// A YAML single-quoted string.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs_err::create_dir_all(dir)?;
    }
    fs_err::write(path, text)?;
    Ok(())
}

/// Writes the MLflow file store of the sweep in `sweep_dir` to `out`; returns the runs written.
pub fn export_mlflow(sweep_dir: &Path, out: &Path) -> Result<usize> {
    let config_path = sweep_dir.join("config.json");
    let config: serde_json::Value = serde_json::from_str(
        &fs_err::read_to_string(&config_path)
            .with_context(|| format!("`{}` is not a sweep folder", sweep_dir.display()))?,
    )
    .with_context(|| format!("`{}`", config_path.display()))?;
    let name = config["name"].as_str().unwrap_or("sweep").to_string();
    let runs_csv = sweep_dir.join("runs.csv");
    let table = if runs_csv.is_file() {
        Some(prism_report::runs::RunsTable::read(&runs_csv)?)
    } else {
        None
    };
    let mut config_params = BTreeMap::new();
    for section in ["data", "subsets", "student", "train", "gvendi", "sweep"] {
        flatten(section, &config[section], &mut config_params);
    }
    config_params.retain(|k, _| k != "subsets.strategies"); // per run: `strategy`, `spec`

    let staging = out.with_extension("partial");
    if staging.exists() {
        fs_err::remove_dir_all(&staging)?;
    }
    let abs_out = std::path::absolute(out)?;
    let now_ms = (crate::ledger::now() * 1000).to_string();
    let experiment = |id: &str, name: &str| {
        yaml(&[
            (
                "artifact_location",
                quoted(&format!("file://{}/{id}", abs_out.display())),
            ),
            ("creation_time", now_ms.clone()),
            ("experiment_id", quoted(id)),
            ("last_update_time", now_ms.clone()),
            ("lifecycle_stage", "active".into()),
            ("name", quoted(name)),
        ])
    };
    write(&staging.join("0/meta.yaml"), &experiment("0", "Default"))?;
    let exp_id = numeric_id(&name);
    write(
        &staging.join(&exp_id).join("meta.yaml"),
        &experiment(&exp_id, &name),
    )?;

    let mut entries: Vec<PathBuf> = fs_err::read_dir(sweep_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| RunDir::is_run(p) && p.join("run.json").is_file())
        .collect();
    entries.sort();
    for path in &entries {
        let dir = RunDir { path: path.clone() };
        let run: PlannedRun = serde_json::from_str(&fs_err::read_to_string(dir.file("run.json"))?)
            .with_context(|| format!("`{}`", dir.file("run.json").display()))?;
        let status = dir.status();
        let uuid = &prism_core::hash::sha256_hex(format!("{name}/{}", run.id).as_bytes())[..32];
        let run_dir = staging.join(&exp_id).join(uuid);
        let (start_ms, end_ms) = match &status {
            Some(s) => (
                s.started * 1000,
                s.seconds
                    .map(|secs| s.started * 1000 + (secs * 1000.0) as u64),
            ),
            None => (0, None),
        };
        write(
            &run_dir.join("meta.yaml"),
            &yaml(&[
                (
                    "artifact_uri",
                    quoted(&format!(
                        "file://{}/{exp_id}/{uuid}/artifacts",
                        abs_out.display()
                    )),
                ),
                ("end_time", end_ms.map_or("null".into(), |t| t.to_string())),
                ("entry_point_name", "''".into()),
                ("experiment_id", quoted(&exp_id)),
                ("lifecycle_stage", "active".into()),
                ("run_id", uuid.to_string()),
                ("run_name", quoted(&run.subset)),
                ("run_uuid", uuid.to_string()),
                ("source_name", "''".into()),
                ("source_type", "4".into()),
                ("source_version", "''".into()),
                ("start_time", start_ms.to_string()),
                (
                    "status",
                    mlflow_status(status.as_ref().map(|s| s.state)).to_string(),
                ),
                ("tags", "[]".into()),
                ("user_id", quoted("prism")),
            ]),
        )?;
        fs_err::create_dir_all(run_dir.join("artifacts"))?;

        let mut params = config_params.clone();
        params.insert("strategy".into(), run.strategy.clone());
        params.insert("size".into(), run.size.to_string());
        params.insert("seed".into(), run.seed.to_string());
        params.insert("train_seed".into(), run.train_seed.to_string());
        params.insert("subset".into(), run.subset.clone());
        params.insert("spec".into(), serde_json::to_string(&run.spec)?);
        for (k, v) in &params {
            write(&run_dir.join("params").join(k), v)?;
        }

        let mut tags = BTreeMap::from([
            ("mlflow.runName".to_string(), run.subset.clone()),
            ("prism.run_id".to_string(), run.id.clone()),
            ("prism.sweep".to_string(), name.clone()),
        ]);
        if let Some(s) = &status {
            tags.insert(
                "prism.state".into(),
                format!("{:?}", s.state).to_lowercase(),
            );
            tags.insert("prism.host".into(), s.host.clone());
            tags.insert("prism.attempts".into(), s.attempts.to_string());
            if let Some(e) = &s.error {
                tags.insert("prism.error".into(), e.clone());
            }
        }
        for (k, v) in &tags {
            write(&run_dir.join("tags").join(k), v)?;
        }

        let mut metrics: BTreeMap<String, f64> = BTreeMap::new();
        if let Some(s) = status.as_ref().and_then(|s| s.seconds) {
            metrics.insert("run_seconds".into(), s);
        }
        if let Some(t) = &table
            && let Some(row) = t.run_id.iter().position(|r| *r == run.id)
        {
            for (m, values) in &t.metrics {
                metrics.insert(format!("metric.{m}"), values[row]);
            }
            for (b, values) in &t.benches {
                metrics.insert(format!("bench.{b}"), values[row]);
            }
            metrics.insert("id_acc".into(), t.id_acc[row]);
            metrics.insert("ood_mean".into(), t.ood_mean[row]);
        }
        let stamp = end_ms.unwrap_or(start_ms);
        for (k, v) in metrics.iter().filter(|(_, v)| v.is_finite()) {
            write(
                &run_dir.join("metrics").join(k),
                &format!("{stamp} {v} 0\n"),
            )?;
        }
    }

    // Swap the finished tree into place.
    let old = out.with_extension("old");
    if out.exists() {
        if old.exists() {
            fs_err::remove_dir_all(&old)?;
        }
        fs_err::rename(out, &old)?;
    }
    fs_err::rename(&staging, out)?;
    if old.exists() {
        fs_err::remove_dir_all(&old)?;
    }
    Ok(entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_keeps_scalars_under_dotted_keys() {
        let mut out = BTreeMap::new();
        flatten(
            "train",
            &serde_json::json!({"lr": 2e-5, "name": "x", "sizes": [1, 2], "none": null, "inner": {"k": true}}),
            &mut out,
        );
        assert_eq!(out["train.lr"].parse::<f64>().unwrap(), 2e-5);
        assert_eq!(out["train.name"], "x");
        assert_eq!(out["train.sizes"], "[1,2]");
        assert_eq!(out["train.inner.k"], "true");
        assert!(!out.contains_key("train.none"));
    }

    #[test]
    fn ids_are_stable_digit_strings() {
        let id = numeric_id("nli");
        assert!(id.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(id, numeric_id("nli"));
        assert_ne!(id, numeric_id("nli-paper"));
        assert_eq!(quoted("it's"), "'it''s'");
    }
}
