//! The feature store: unit-normalised projected gradients as fp16 safetensors shards, each with
//! a parquet index (id, content hash, gradient norm, loss), under a folder keyed by the proxy
//! and the projection config. A shard is written atomically (safetensors, its sums, then its
//! index, each through a temp file + rename); the index's presence commits it, so a kill loses
//! at most the shard in progress and a rerun featurises only examples whose content is not
//! stored yet.
//!
//! Every shard carries `shard-NNNNNN.sha256` (`sha256sum` format) with the sha256 of its tensor
//! file and of its index, and every read checks them: a byte that rots in a shard is a
//! [`FeatureError::Integrity`] naming the file and both hashes, never a silently different
//! G-Vendi. [`FeatureStore::repair`] moves damaged shards aside (`*.corrupt`) so that their
//! examples are featurised again; shards written before prism recorded sums are reported as
//! unrecorded and get their sums recorded.

use crate::error::FeatureError;
use polars::prelude::*;
use prism_core::integrity::{self, IntegrityError, Sums};
use prism_vendi::Features;
use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The definition of the stored features, bumped when the same proxy and settings would store
/// different values (version 2: the proxy's SiLU is prism's vectorised kernel,
/// [`prism_models::activation`], within 1e-6 of burn's scalar one), so that an older store is
/// never extended with newer rows.
pub const FEATURES_VERSION: u32 = 2;

/// What a store's features depend on; its hash names the store's folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreMeta {
    /// The proxy's file or folder name.
    pub proxy: String,
    /// sha256 of the proxy's weights file (GGUF or first safetensors shard).
    pub proxy_sha256: String,
    /// `factored` or `dense`.
    pub mode: String,
    /// Projected dimension.
    pub dim: usize,
    /// Projection seed.
    pub seed: u64,
    /// Factored side k (0 in dense mode).
    pub factor_dim: usize,
    /// Format version of the features (bumped when their definition changes).
    pub version: u32,
    /// Whether every feature was computed alone (`gvendi.batch_size = 1`): then each is a
    /// function of its example only, bit for bit, and batched rows (whose last bits depend on
    /// their batch partners) must never enter the store. Left out of the key when false, so
    /// the batched stores made before the field existed keep their keys.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub batch_of_one: bool,
}

impl StoreMeta {
    /// 16 hex digits of the sha256 of the canonical JSON.
    pub fn key(&self) -> String {
        let json = serde_json::to_string(self).expect("serialisable");
        prism_core::hash::sha256_hex(json.as_bytes())[..16].to_string()
    }
}

/// One stored example.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredExample {
    /// Dataset id.
    pub id: String,
    /// Content hash of (prompt, completion).
    pub content_hash: String,
    /// Full-gradient norm (or its estimate).
    pub grad_norm: f32,
    /// Completion-only loss.
    pub loss: f32,
    /// Unit-normalised features.
    pub vector: Vec<f32>,
}

/// One row of a store's index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRow {
    /// Dataset id.
    pub id: String,
    /// Content hash.
    pub content_hash: String,
    /// Full-gradient norm (or its estimate).
    pub grad_norm: f32,
    /// Completion-only loss.
    pub loss: f32,
    /// Shard number.
    pub shard: usize,
    /// Row in the shard.
    pub row: usize,
}

/// An open store folder.
#[derive(Debug, Clone)]
pub struct FeatureStore {
    dir: PathBuf,
    meta: StoreMeta,
}

const META_FILE: &str = "store.json";

/// Whether this process has not yet warned about the store at `dir` (one warning per store,
/// however often its index is read).
fn first_warning(dir: &Path) -> bool {
    static WARNED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if warned.iter().any(|d| d == dir) {
        return false;
    }
    warned.push(dir.to_path_buf());
    true
}

/// What [`FeatureStore::verify`] and [`FeatureStore::repair`] found.
#[derive(Debug, Default)]
pub struct StoreCheck {
    /// Committed shards examined.
    pub shards: usize,
    /// Damaged shards (number, what is wrong); after a repair, moved aside.
    pub damaged: Vec<(usize, IntegrityError)>,
    /// Shards written before prism recorded sums (after a repair, recorded now).
    pub unrecorded: Vec<usize>,
}

impl StoreCheck {
    /// Whether every shard matched its sums.
    pub fn is_clean(&self) -> bool {
        self.damaged.is_empty() && self.unrecorded.is_empty()
    }
}

fn shard_name(n: usize, ext: &str) -> String {
    format!("shard-{n:06}.{ext}")
}

/// Index rows as a table: id, content_hash, grad_norm, loss, and with `position` the shard
/// and row (a shard's own index leaves them out: they are its file name and row order).
fn index_frame(rows: &[IndexRow], position: bool) -> PolarsResult<DataFrame> {
    let mut columns = vec![
        Column::new(
            "id".into(),
            rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "content_hash".into(),
            rows.iter()
                .map(|r| r.content_hash.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "grad_norm".into(),
            rows.iter().map(|r| r.grad_norm).collect::<Vec<f32>>(),
        ),
        Column::new(
            "loss".into(),
            rows.iter().map(|r| r.loss).collect::<Vec<f32>>(),
        ),
    ];
    if position {
        columns.push(Column::new(
            "shard".into(),
            rows.iter().map(|r| r.shard as u32).collect::<Vec<u32>>(),
        ));
        columns.push(Column::new(
            "row".into(),
            rows.iter().map(|r| r.row as u32).collect::<Vec<u32>>(),
        ));
    }
    DataFrame::new(rows.len(), columns)
}

/// `df` as parquet bytes (`path` names it in errors).
fn parquet_bytes(path: &Path, df: &mut DataFrame) -> Result<Vec<u8>, FeatureError> {
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .finish(df)
        .map_err(|e| FeatureError::store(path, e))?;
    Ok(bytes)
}

/// Writes `df` to `path` atomically.
fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<(), FeatureError> {
    let bytes = parquet_bytes(path, df)?;
    prism_core::atomic::write_atomic(path, &bytes).map_err(|e| FeatureError::store(path, e))
}

impl FeatureStore {
    /// Opens (creating if needed) the store for `meta` under `root`: `root/<meta.key()>/`.
    pub fn open(root: &Path, meta: StoreMeta) -> Result<Self, FeatureError> {
        let dir = root.join(meta.key());
        fs_err::create_dir_all(&dir).map_err(|e| FeatureError::store(&dir, e))?;
        let path = dir.join(META_FILE);
        if path.is_file() {
            let found = Self::read_meta(&path)?;
            if found != meta {
                return Err(FeatureError::store(
                    &path,
                    "describes different features than requested (hash collision or edited file)",
                ));
            }
        } else {
            prism_core::atomic::write_json_atomic(&path, &meta)
                .map_err(|e| FeatureError::store(&path, e))?;
        }
        Ok(Self { dir, meta })
    }

    /// Opens an existing store folder (the one holding `store.json`).
    pub fn open_existing(dir: &Path) -> Result<Self, FeatureError> {
        let meta = Self::read_meta(&dir.join(META_FILE))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            meta,
        })
    }

    fn read_meta(path: &Path) -> Result<StoreMeta, FeatureError> {
        let text = fs_err::read_to_string(path).map_err(|e| FeatureError::store(path, e))?;
        serde_json::from_str(&text).map_err(|e| FeatureError::store(path, e))
    }

    /// Blocks until this process is the store's only writer (an exclusive `flock` on
    /// `<store>/lock`, released when the returned file is dropped or the process dies), so that
    /// two featurisations of one store never number their shards alike.
    pub fn lock_for_writing(&self) -> Result<std::fs::File, FeatureError> {
        let path = self.dir.join("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| FeatureError::store(&path, e))?;
        file.lock().map_err(|e| FeatureError::store(&path, e))?;
        Ok(file)
    }

    /// Whether `dir` is a store folder.
    pub fn is_store(dir: &Path) -> bool {
        dir.join(META_FILE).is_file()
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the features are.
    pub fn meta(&self) -> &StoreMeta {
        &self.meta
    }

    /// Numbers of the committed shards (those with an index), ascending.
    fn committed(&self) -> Result<Vec<usize>, FeatureError> {
        let mut out = Vec::new();
        for entry in fs_err::read_dir(&self.dir).map_err(|e| FeatureError::store(&self.dir, e))? {
            let name = entry
                .map_err(|e| FeatureError::store(&self.dir, e))?
                .file_name()
                .to_string_lossy()
                .into_owned();
            if let Some(n) = name
                .strip_prefix("shard-")
                .and_then(|s| s.strip_suffix(".parquet"))
                .and_then(|s| s.parse().ok())
            {
                out.push(n);
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// The sums recorded for `shard`, if any.
    fn sums(&self, shard: usize) -> Result<Option<Sums>, FeatureError> {
        Ok(Sums::read(&self.dir.join(shard_name(shard, "sha256")))?)
    }

    /// The bytes of the shard's file with extension `ext`, checked against its sums when it has
    /// them.
    fn read_checked(
        &self,
        shard: usize,
        ext: &str,
        sums: Option<&Sums>,
    ) -> Result<Vec<u8>, FeatureError> {
        let name = shard_name(shard, ext);
        let path = self.dir.join(&name);
        let bytes = fs_err::read(&path).map_err(|e| FeatureError::store(&path, e))?;
        if let Some(sums) = sums {
            let expected = sums.get(&name).ok_or_else(|| IntegrityError::Unreadable {
                path: self.dir.join(shard_name(shard, "sha256")),
                message: format!("no line for `{name}`"),
            })?;
            integrity::check_bytes(&path, &bytes, expected)?;
        }
        Ok(bytes)
    }

    /// The rows of one committed shard's index.
    fn shard_index(
        &self,
        shard: usize,
        sums: Option<&Sums>,
    ) -> Result<Vec<IndexRow>, FeatureError> {
        let path = self.dir.join(shard_name(shard, "parquet"));
        let bytes = self.read_checked(shard, "parquet", sums)?;
        let bad = |m: String| FeatureError::store(&path, m);
        let df = ParquetReader::new(std::io::Cursor::new(bytes))
            .finish()
            .map_err(|e| bad(format!("not a readable parquet index: {e}")))?;
        let mut rows = Vec::with_capacity(df.height());
        let col = |name: &str| {
            df.column(name)
                .map_err(|_| bad(format!("missing column `{name}`")))
        };
        let ids = col("id")?.str().map_err(|e| bad(e.to_string()))?.clone();
        let hashes = col("content_hash")?
            .str()
            .map_err(|e| bad(e.to_string()))?
            .clone();
        let norms = col("grad_norm")?
            .f32()
            .map_err(|e| bad(e.to_string()))?
            .clone();
        let losses = col("loss")?.f32().map_err(|e| bad(e.to_string()))?.clone();
        for r in 0..df.height() {
            let get = |v: Option<&str>| {
                v.map(str::to_string)
                    .ok_or_else(|| bad(format!("row {r} is null")))
            };
            rows.push(IndexRow {
                id: get(ids.get(r))?,
                content_hash: get(hashes.get(r))?,
                grad_norm: norms.get(r).unwrap_or(f32::NAN),
                loss: losses.get(r).unwrap_or(f32::NAN),
                shard,
                row: r,
            });
        }
        Ok(rows)
    }

    /// Every committed row, shard by shard, each shard's index checked against its sums.
    /// Shards without sums (written before prism recorded them) are read unchecked, with one
    /// warning per call that says how to record them.
    pub fn index(&self) -> Result<Vec<IndexRow>, FeatureError> {
        let mut rows = Vec::new();
        let mut unrecorded = 0;
        for shard in self.committed()? {
            let sums = self.sums(shard)?;
            unrecorded += usize::from(sums.is_none());
            rows.extend(self.shard_index(shard, sums.as_ref())?);
        }
        if unrecorded > 0 && first_warning(&self.dir) {
            tracing::warn!(
                "{unrecorded} shard(s) of the feature store `{}` have no recorded checksums (written before prism recorded them), so they are read unchecked; `prism doctor --repair` records them",
                self.dir.display()
            );
        }
        Ok(rows)
    }

    /// Checks every committed shard (tensor file and index) against its sums, changing nothing.
    pub fn verify(&self) -> Result<StoreCheck, FeatureError> {
        let mut check = StoreCheck::default();
        for shard in self.committed()? {
            check.shards += 1;
            let sums = match self.sums(shard) {
                Ok(Some(sums)) => sums,
                Ok(None) => {
                    check.unrecorded.push(shard);
                    continue;
                }
                Err(FeatureError::Integrity(e)) => {
                    check.damaged.push((shard, e));
                    continue;
                }
                Err(e) => return Err(e),
            };
            for ext in ["safetensors", "parquet"] {
                match self.read_checked(shard, ext, Some(&sums)) {
                    Ok(_) => {}
                    Err(FeatureError::Integrity(e)) => {
                        check.damaged.push((shard, e));
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(check)
    }

    /// Under the writer's lock: moves every damaged shard aside (its tensor file, index and
    /// sums renamed to `*.corrupt`), so that its examples count as not stored and the next
    /// featurisation computes them again, and records sums for shards that have none. Returns
    /// what it found.
    pub fn repair(&self) -> Result<StoreCheck, FeatureError> {
        let _writer = self.lock_for_writing()?;
        self.repair_locked()
    }

    fn repair_locked(&self) -> Result<StoreCheck, FeatureError> {
        let check = self.verify()?;
        for (shard, _) in &check.damaged {
            // The index first: without it the shard is no longer committed.
            for ext in ["parquet", "safetensors", "sha256"] {
                let path = self.dir.join(shard_name(*shard, ext));
                if path.exists() {
                    integrity::quarantine(&path).map_err(|e| FeatureError::store(&path, e))?;
                }
            }
        }
        for &shard in &check.unrecorded {
            let mut sums = Vec::new();
            for ext in ["safetensors", "parquet"] {
                let name = shard_name(shard, ext);
                let path = self.dir.join(&name);
                let hash = prism_core::hash::sha256_file(&path)
                    .map_err(|e| FeatureError::store(&path, e))?;
                sums.push((name, hash));
            }
            let path = self.dir.join(shard_name(shard, "sha256"));
            Sums(sums)
                .write(&path)
                .map_err(|e| FeatureError::store(&path, e))?;
        }
        if !check.damaged.is_empty() {
            self.write_index()?;
        }
        Ok(check)
    }

    /// Writes `rows` as the next shard (safetensors, then the index that commits it).
    pub fn write_shard(&self, rows: &[StoredExample]) -> Result<(), FeatureError> {
        if rows.is_empty() {
            return Ok(());
        }
        let d = self.meta.dim;
        if let Some(r) = rows.iter().find(|r| r.vector.len() != d) {
            return Err(FeatureError::Invalid(format!(
                "example `{}` has {} features, the store holds {d}",
                r.id,
                r.vector.len()
            )));
        }
        let n = self.committed()?.last().map_or(0, |n| n + 1);
        let tensor_path = self.dir.join(shard_name(n, "safetensors"));
        let bytes: Vec<u8> = rows
            .iter()
            .flat_map(|r| r.vector.iter())
            .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
            .collect();
        let view = TensorView::new(Dtype::F16, vec![rows.len(), d], &bytes)
            .map_err(|e| FeatureError::store(&tensor_path, e))?;
        let encoded = safetensors::serialize([("features", view)], None)
            .map_err(|e| FeatureError::store(&tensor_path, e))?;
        prism_core::atomic::write_atomic(&tensor_path, &encoded)
            .map_err(|e| FeatureError::store(&tensor_path, e))?;

        let index_path = self.dir.join(shard_name(n, "parquet"));
        let index: Vec<IndexRow> = rows
            .iter()
            .enumerate()
            .map(|(row, r)| IndexRow {
                id: r.id.clone(),
                content_hash: r.content_hash.clone(),
                grad_norm: r.grad_norm,
                loss: r.loss,
                shard: n,
                row,
            })
            .collect();
        let mut df = index_frame(&index, false).map_err(|e| FeatureError::store(&index_path, e))?;
        let index_bytes = parquet_bytes(&index_path, &mut df)?;
        // Sums before the index: a committed shard always has them.
        let sums_path = self.dir.join(shard_name(n, "sha256"));
        Sums(vec![
            (
                shard_name(n, "safetensors"),
                prism_core::hash::sha256_hex(&encoded),
            ),
            (
                shard_name(n, "parquet"),
                prism_core::hash::sha256_hex(&index_bytes),
            ),
        ])
        .write(&sums_path)
        .map_err(|e| FeatureError::store(&sums_path, e))?;
        prism_core::atomic::write_atomic(&index_path, &index_bytes)
            .map_err(|e| FeatureError::store(&index_path, e))
    }

    /// Writes `index.parquet`: the union of the shard indices (a convenience view, rebuilt
    /// from the shards, never read back as the truth).
    pub fn write_index(&self) -> Result<(), FeatureError> {
        let rows = self.index()?;
        let path = self.dir.join("index.parquet");
        let mut df = index_frame(&rows, true).map_err(|e| FeatureError::store(&path, e))?;
        write_parquet(&path, &mut df)
    }

    /// One shard's features as f32, `rows × d`, checked against the shard's sums.
    fn read_shard(&self, shard: usize) -> Result<Vec<f32>, FeatureError> {
        let path = self.dir.join(shard_name(shard, "safetensors"));
        let bytes = self.read_checked(shard, "safetensors", self.sums(shard)?.as_ref())?;
        let st = safetensors::SafeTensors::deserialize(&bytes)
            .map_err(|e| FeatureError::store(&path, e))?;
        let t = st
            .tensor("features")
            .map_err(|e| FeatureError::store(&path, e))?;
        if t.dtype() != Dtype::F16 || t.shape().len() != 2 || t.shape()[1] != self.meta.dim {
            return Err(FeatureError::store(
                &path,
                format!(
                    "expected f16 [rows, {}], found {:?} {:?}",
                    self.meta.dim,
                    t.dtype(),
                    t.shape()
                ),
            ));
        }
        Ok(t.data()
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect())
    }

    /// Features of the examples with these content hashes, in this order (an error names the
    /// first one that is not stored).
    pub fn load(&self, hashes: &[String]) -> Result<(Features, Vec<IndexRow>), FeatureError> {
        let index = self.index()?;
        let by_hash: HashMap<&str, &IndexRow> =
            index.iter().map(|r| (r.content_hash.as_str(), r)).collect();
        let d = self.meta.dim;
        let picked: Vec<&IndexRow> = hashes
            .iter()
            .map(|h| {
                by_hash.get(h.as_str()).copied().ok_or_else(|| {
                    FeatureError::Invalid(format!(
                        "example with content hash {h} is not in the store {}",
                        self.dir.display()
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        let mut shards: HashMap<usize, Vec<f32>> = HashMap::new();
        let mut data = Vec::with_capacity(picked.len() * d);
        for r in &picked {
            let s = match shards.entry(r.shard) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(self.read_shard(r.shard)?),
            };
            data.extend_from_slice(&s[r.row * d..(r.row + 1) * d]);
        }
        Ok((
            Features::new(data, picked.len(), d),
            picked.into_iter().cloned().collect(),
        ))
    }

    /// Every stored row's features, in index order.
    pub fn load_all(&self) -> Result<(Features, Vec<IndexRow>), FeatureError> {
        let hashes: Vec<String> = self.index()?.into_iter().map(|r| r.content_hash).collect();
        self.load(&hashes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> StoreMeta {
        StoreMeta {
            proxy: "test".into(),
            proxy_sha256: "0".repeat(64),
            mode: "factored".into(),
            dim: 4,
            seed: 0,
            factor_dim: 2,
            version: FEATURES_VERSION,
            batch_of_one: false,
        }
    }

    fn example(i: usize) -> StoredExample {
        let v = [1.0 + i as f32, 2.0, 0.5, -1.0];
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        StoredExample {
            id: format!("ex{i}"),
            content_hash: format!("h{i}"),
            grad_norm: norm,
            loss: 0.1 * i as f32,
            vector: v.iter().map(|x| x / norm).collect(),
        }
    }

    /// A store of two shards (rows 0-2 and 3-4) in a fresh folder.
    fn two_shards() -> (tempfile::TempDir, FeatureStore) {
        let root = tempfile::tempdir().unwrap();
        let store = FeatureStore::open(root.path(), meta()).unwrap();
        store
            .write_shard(&(0..3).map(example).collect::<Vec<_>>())
            .unwrap();
        store
            .write_shard(&(3..5).map(example).collect::<Vec<_>>())
            .unwrap();
        (root, store)
    }

    fn flip_last_byte(path: &Path) {
        let mut bytes = std::fs::read(path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn every_shard_has_sums_that_sha256sum_can_check() {
        let (_root, store) = two_shards();
        let sums = std::fs::read_to_string(store.dir().join("shard-000001.sha256")).unwrap();
        let lines: Vec<&str> = sums.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].ends_with("  shard-000001.safetensors"), "{sums}");
        assert!(lines[1].ends_with("  shard-000001.parquet"), "{sums}");
        let tensor = std::fs::read(store.dir().join("shard-000001.safetensors")).unwrap();
        assert!(lines[0].starts_with(&prism_core::hash::sha256_hex(&tensor)));
        assert!(store.verify().unwrap().is_clean());
    }

    #[test]
    fn a_flipped_byte_in_a_shard_is_an_error_and_a_repair_recomputes_only_that_shard() {
        let (_root, store) = two_shards();
        let (before, _) = store.load_all().unwrap();
        // The last byte of the tensor data: the fp16 of the last row's last feature.
        flip_last_byte(&store.dir().join("shard-000001.safetensors"));

        let err = store.load_all().unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, FeatureError::Integrity(_)), "{text}");
        assert!(
            text.contains("shard-000001.safetensors") && text.contains("recorded sha256"),
            "{text}"
        );
        let check = store.verify().unwrap();
        assert_eq!((check.shards, check.damaged.len()), (2, 1));
        assert_eq!(check.damaged[0].0, 1);

        let repaired = store.repair().unwrap();
        assert_eq!(repaired.damaged.len(), 1);
        assert!(
            store
                .dir()
                .join("shard-000001.safetensors.corrupt")
                .is_file()
        );
        // The damaged shard's examples are no longer stored; nothing else was lost.
        let ids: Vec<String> = store.index().unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["ex0", "ex1", "ex2"]);
        store
            .write_shard(&(3..5).map(example).collect::<Vec<_>>())
            .unwrap();
        let (after, _) = store.load_all().unwrap();
        assert_eq!(before.as_slice(), after.as_slice());
        assert!(store.verify().unwrap().is_clean());
    }

    #[test]
    fn a_flipped_byte_in_an_index_or_its_sums_is_caught() {
        let (_root, store) = two_shards();
        flip_last_byte(&store.dir().join("shard-000000.parquet"));
        assert!(matches!(store.index(), Err(FeatureError::Integrity(_))));
        let (_root, store) = two_shards();
        let sums = store.dir().join("shard-000000.sha256");
        let text = std::fs::read_to_string(&sums)
            .unwrap()
            .replacen('a', "b", 1);
        std::fs::write(&sums, text).unwrap();
        let check = store.verify().unwrap();
        assert_eq!(check.damaged.len(), 1, "{check:?}");
    }

    #[test]
    fn shards_from_before_sums_are_read_and_get_their_sums_recorded() {
        let (_root, store) = two_shards();
        std::fs::remove_file(store.dir().join("shard-000000.sha256")).unwrap();
        let (features, _) = store.load_all().unwrap();
        assert_eq!(features.n(), 5);
        let check = store.verify().unwrap();
        assert_eq!(check.unrecorded, [0]);
        store.repair().unwrap();
        assert!(store.verify().unwrap().is_clean());
    }

    #[test]
    fn only_batch_of_one_stores_have_keys_of_their_own() {
        let batched = meta();
        let json = serde_json::to_string(&batched).unwrap();
        assert!(!json.contains("batch_of_one"), "{json}");
        let alone = StoreMeta {
            batch_of_one: true,
            ..batched.clone()
        };
        assert_ne!(alone.key(), batched.key());
        let back: StoreMeta = serde_json::from_str(&json).unwrap();
        assert!(
            !back.batch_of_one,
            "a meta.json without the field is a batched store"
        );
    }
}
