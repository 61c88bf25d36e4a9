//! The feature store: unit-normalised projected gradients as fp16 safetensors shards, each with
//! a parquet index (id, content hash, gradient norm, loss), under a folder keyed by the proxy
//! and the projection config. A shard is written atomically (safetensors, then its index, each
//! through a temp file + rename); the index's presence commits it, so a kill loses at most the
//! shard in progress and a rerun featurises only examples whose content is not stored yet.

use crate::error::FeatureError;
use polars::prelude::*;
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

/// Writes `df` to `path` atomically.
fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<(), FeatureError> {
    prism_core::atomic::write_atomic_with(path, |file| {
        ParquetWriter::new(file)
            .finish(df)
            .map(|_| ())
            .map_err(std::io::Error::other)
    })
    .map_err(|e| FeatureError::store(path, e))
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

    /// Every committed row, shard by shard.
    pub fn index(&self) -> Result<Vec<IndexRow>, FeatureError> {
        let mut rows = Vec::new();
        for shard in self.committed()? {
            let path = self.dir.join(shard_name(shard, "parquet"));
            let bad = |m: String| FeatureError::store(&path, m);
            let file = fs_err::File::open(&path).map_err(|e| bad(e.to_string()))?;
            let df = ParquetReader::new(file.into_parts().0)
                .finish()
                .map_err(|e| bad(format!("not a readable parquet index: {e}")))?;
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
        }
        Ok(rows)
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
        write_parquet(&index_path, &mut df)
    }

    /// Writes `index.parquet`: the union of the shard indices (a convenience view, rebuilt
    /// from the shards, never read back as the truth).
    pub fn write_index(&self) -> Result<(), FeatureError> {
        let rows = self.index()?;
        let path = self.dir.join("index.parquet");
        let mut df = index_frame(&rows, true).map_err(|e| FeatureError::store(&path, e))?;
        write_parquet(&path, &mut df)
    }

    /// One shard's features as f32, `rows × d`.
    fn read_shard(&self, shard: usize) -> Result<Vec<f32>, FeatureError> {
        let path = self.dir.join(shard_name(shard, "safetensors"));
        let bytes = fs_err::read(&path).map_err(|e| FeatureError::store(&path, e))?;
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
