//! Fault injection: bytes that rot in a feature shard, a run's outputs, a stage-cache entry or
//! a data table after prism wrote them. Each case asserts that nothing wrong is reported (the
//! damage is an error naming the file, or it is recomputed) and that nothing computed is lost
//! (after the repair the results equal the undamaged ones).
//! Needs `prism data fetch` (which `just test` runs first).

mod common;

use common::{cache, experiment_file, prism, private_cache, stderr, stdout, table_without_timing};
use std::path::{Path, PathBuf};

/// Flips `n` bytes ending `from_end` bytes before the end of `path` (inside a safetensors
/// shard's tensor data, the last rows' features).
fn flip_bytes(path: &Path, n: usize, from_end: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    let end = bytes.len() - from_end;
    for b in &mut bytes[end - n..end] {
        *b ^= 0x5a;
    }
    std::fs::write(path, bytes).unwrap();
}

/// Changes the first digit after `key` in a JSON file (a value that still parses).
fn change_digit_after(path: &Path, key: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("{key} in {}", path.display()));
    let digit = at + text[at..].find(|c: char| c.is_ascii_digit()).unwrap();
    let mut bytes = text.into_bytes();
    bytes[digit] = if bytes[digit] == b'9' {
        b'1'
    } else {
        bytes[digit] + 1
    };
    std::fs::write(path, bytes).unwrap();
}

/// The one store folder under `root`.
fn store_dir(root: &Path) -> PathBuf {
    std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("store.json").is_file())
        .expect("a store")
}

#[test]
fn a_damaged_feature_shard_is_an_error_and_featurising_again_restores_it() {
    if !common::vitaminc_is_fetched() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let env = [("PRISM_CACHE", cache().to_str().unwrap().to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out_root = dir.path().join("store");
    let grad = [
        "features",
        "grad",
        "nli",
        "--limit",
        "8",
        "--set",
        "gvendi.shard_size=4",
        "--out",
        out_root.to_str().unwrap(),
    ];
    // From the repository, where the embedded `nli` experiment is.
    let repo = common::repo_root();
    let out = prism(&repo, &grad, &env);
    assert!(out.status.success(), "{}", stderr(&out));
    let store = store_dir(&out_root);
    let vendi = |env: &[(&str, &str)]| prism(dir.path(), &["vendi", store.to_str().unwrap()], env);
    let clean = vendi(&env);
    assert!(clean.status.success(), "{}", stderr(&clean));
    let shard = store.join("shard-000001.safetensors");
    let original = std::fs::read(&shard).unwrap();

    // 64 bytes of the last rows' features: the G-Vendi would change, so it must not be printed.
    flip_bytes(&shard, 64, 0);
    let damaged = vendi(&env);
    let err = stderr(&damaged);
    assert_eq!(damaged.status.code(), Some(1), "{err}");
    assert!(
        err.contains("shard-000001.safetensors")
            && err.contains("does not match its recorded checksum")
            && err.contains(&prism_core_sha256(&original)),
        "{err}"
    );
    assert!(stdout(&damaged).is_empty(), "no value printed");

    // Featurising again moves the shard aside and recomputes its examples, bit for bit.
    let again = prism(&repo, &grad, &env);
    let err = stderr(&again);
    assert!(again.status.success(), "{err}");
    assert!(
        err.contains("is damaged") && err.contains("featurised 4 examples"),
        "{err}"
    );
    assert!(store.join("shard-000001.safetensors.corrupt").is_file());
    let restored = vendi(&env);
    assert_eq!(stdout(&restored), stdout(&clean));
    // The recomputed shard takes the damaged one's number again.
    assert_eq!(std::fs::read(&shard).unwrap(), original);
}

/// Hex sha256 of bytes (what the error must quote as the recorded hash).
fn prism_core_sha256(bytes: &[u8]) -> String {
    prism_core::hash::sha256_hex(bytes)
}

#[test]
fn damaged_run_outputs_and_stage_cache_entries_are_recomputed_to_the_same_runs_table() {
    if !common::vitaminc_is_fetched() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let seed = common::fresh_seed();
    let exp = experiment_file(
        dir.path(),
        "faults",
        &format!(
            r#"[data]
pool = "vitaminc"
pool_size = 200
[subsets]
sizes = [12]
seeds = [0, 1]
[[subsets.strategies]]
kind = "random"
[train]
epochs = 1
batch_size = 4
max_len = 32
seed = {seed}
[sweep]
eval_limit = 4
metrics = ["distinct-2", "compression-ratio"]
"#
        ),
    );
    let cache = cache();
    let env = [("PRISM_CACHE", cache.to_str().unwrap())];
    let sweep = |extra: &[&str]| {
        let mut args = vec!["sweep", exp.to_str().unwrap(), "--no-report"];
        args.extend(extra);
        let out = prism(dir.path(), &args, &env);
        assert!(out.status.success(), "{}", stderr(&out));
        stderr(&out)
    };
    sweep(&[]);
    let results = dir.path().join("results/faults");
    let before = table_without_timing(&results);
    let runs: Vec<PathBuf> = {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&results)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("run.json").is_file())
            .collect();
        v.sort();
        v
    };
    assert_eq!(runs.len(), 2);
    // Run 0: a metric value changes on disk. Run 1: its eval and the stage-cache entry it
    // would be restored from both change.
    change_digit_after(&runs[0].join("metrics.json"), "distinct-2");
    let eval: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(runs[1].join("eval.json")).unwrap()).unwrap();
    let stage = std::fs::read_dir(cache.join("stages/train-eval"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.extension().is_some_and(|e| e == "json")
                && std::fs::read_to_string(p)
                    .ok()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                    .is_some_and(|v| v == eval)
        })
        .expect("run 1's stage-cache entry");
    change_digit_after(&runs[1].join("eval.json"), "accuracy");
    change_digit_after(&stage, "accuracy");

    // Collecting alone refuses the damaged runs, naming the file.
    let collect = prism(
        dir.path(),
        &["sweep", exp.to_str().unwrap(), "--collect", "--no-report"],
        &env,
    );
    assert_eq!(collect.status.code(), Some(1));
    assert!(
        stderr(&collect).contains("metrics.json") || stderr(&collect).contains("eval.json"),
        "{}",
        stderr(&collect)
    );

    let log = sweep(&[]);
    assert!(log.contains("damaged or lost since it finished"), "{log}");
    assert!(log.contains("training again"), "{log}");
    assert_eq!(table_without_timing(&results), before);
    assert!(runs[0].join("metrics.json.corrupt").is_file());
    assert!(runs[1].join("eval.json.corrupt").is_file());
    let mut corrupt = stage.into_os_string();
    corrupt.push(".corrupt");
    assert!(PathBuf::from(corrupt).is_file());
    let events = std::fs::read_to_string(results.join("events.jsonl")).unwrap();
    assert_eq!(events.matches("\"damaged\"").count(), 2, "{events}");
    // A third sweep finds everything intact and does nothing.
    let log = sweep(&[]);
    assert!(!log.contains("runs to do"), "{log}");
}

#[test]
fn doctor_finds_a_damaged_table_and_repair_rebuilds_it_offline() {
    if !common::vitaminc_is_fetched() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = private_cache(dir.path());
    let env = [("PRISM_CACHE", root.to_str().unwrap())];
    let table = root.join("data/vitaminc.parquet");
    let original = std::fs::read(&table).unwrap();
    // Rebuilding needs a manifest that records every file: a fresh fetch of the tables.
    let fetch = prism(dir.path(), &["data", "fetch"], &env);
    assert!(fetch.status.success(), "{}", stderr(&fetch));
    let doctor = |extra: &[&str]| {
        let mut args = vec!["doctor"];
        args.extend(extra);
        prism(dir.path(), &args, &env)
    };
    let clean = doctor(&[]);
    assert!(clean.status.success(), "{}", stdout(&clean));
    assert!(
        stdout(&clean).contains("nothing damaged"),
        "{}",
        stdout(&clean)
    );

    flip_bytes(&table, 16, 100);
    // A command reading it stops, naming it.
    let stats = prism(dir.path(), &["data", "stats"], &env);
    assert_eq!(stats.status.code(), Some(1), "{}", stderr(&stats));
    assert!(
        stderr(&stats).contains("vitaminc.parquet"),
        "{}",
        stderr(&stats)
    );
    let found = doctor(&[]);
    assert_eq!(found.status.code(), Some(1), "{}", stdout(&found));
    assert!(stdout(&found).contains("damaged: `"), "{}", stdout(&found));
    assert!(
        stdout(&found).contains("vitaminc.parquet"),
        "{}",
        stdout(&found)
    );

    let repaired = doctor(&["--repair"]);
    assert!(repaired.status.success(), "{}", stderr(&repaired));
    assert_eq!(std::fs::read(&table).unwrap(), original);
    let after = doctor(&[]);
    assert!(
        stdout(&after).contains("nothing damaged"),
        "{}",
        stdout(&after)
    );
}
