//! The paper-exact projection: `ĝ = P g / √d` with `P` a `d × N` Rademacher matrix over the flat
//! gradient of all N parameters. `P` is never stored, nor even written out as floats: for a
//! block of columns, each row's random bits are regenerated from the seed (one 64-bit word per
//! 64 columns) and applied to a group of examples at once.
//!
//! With `t = Σ_c g_c` and `n_r = Σ_{c: P[r,c] = −1} g_c`, row r of `P g` is `t − 2 n_r`. The
//! sums `n_r` use the "four Russians" trick: for every 8 columns, a table of the 256 subset
//! sums of those columns is built once (255 adds), for 8 examples side by side; then each row
//! costs one table lookup per 8 columns (the row's sign byte picks the entry), an 8-wide add
//! that serves all 8 examples. Per example that is d/8 adds per 8 columns instead of d masked
//! adds per 16, about 8× fewer operations than summing the −1 columns directly. Every kernel
//! adds in the same order, so results are bit-identical whichever one runs.

use crate::signs::SignMatrix;
use rayon::prelude::*;

/// Stream id of the dense projection's sign matrix.
const DENSE_STREAM: u64 = u64::MAX;
/// Examples projected side by side: one table entry holds one sum per example (8 f32, one
/// 256-bit vector).
const LANES: usize = 8;
/// Rows of `P` summed together: independent accumulators hide the add latency.
const ROWS: usize = 8;
/// 8-column groups per tile: 64 tables of 256 × 8 floats (512 KiB) stay in the L2 cache while
/// all d rows pass over them.
const TILE: usize = 64;
/// Columns per chunk (a multiple of `8 · TILE`): each chunk's `t − 2n` is summed in f32, then
/// added to f64 accumulators, so no f32 sum has more than a chunk's terms.
const COLUMNS: usize = 8_192;

/// The 256 subset sums of 8 columns, for `LANES` examples: entry b = `Σ_{k: bit k of b} x[k]`.
type Table = [[f32; LANES]; 256];

/// Fills `table` with the subset sums of the 8 columns `x` (each entry from a smaller one plus
/// one column: 255 adds, in a fixed order).
#[inline(always)]
fn build_table(x: &[[f32; LANES]], table: &mut Table) {
    table[0] = [0.0; LANES];
    for b in 1..256usize {
        let prev = table[b & (b - 1)];
        let column = x[b.trailing_zeros() as usize];
        table[b] = std::array::from_fn(|e| prev[e] + column[e]);
    }
}

/// Working memory of one thread: the tables of a tile and the per-row sums of a chunk.
struct Scratch {
    tables: Vec<Table>,
    negatives: Vec<[f32; LANES]>,
}

impl Scratch {
    fn new(d: usize) -> Self {
        Self {
            tables: vec![[[0.0; LANES]; 256]; TILE],
            negatives: vec![[0.0; LANES]; d.div_ceil(ROWS) * ROWS],
        }
    }
}

/// `acc[r][e] += Σ_c P[r, start + c] · x[c][e]` for every row r < d and lane e: `x` holds one
/// chunk of columns (a multiple of 64, zero-padded) of `LANES` examples, column-major.
#[inline(always)]
fn accumulate_chunk(
    signs: &SignMatrix,
    x: &[[f32; LANES]],
    start: usize,
    acc: &mut [[f64; LANES]],
    scratch: &mut Scratch,
) {
    let d = acc.len();
    let mut total = [0f32; LANES];
    for column in x {
        for e in 0..LANES {
            total[e] += column[e];
        }
    }
    let negatives = &mut scratch.negatives;
    negatives.fill([0.0; LANES]);
    let groups = x.len() / 8;
    for t0 in (0..groups).step_by(TILE) {
        let tables = &mut scratch.tables[..TILE.min(groups - t0)];
        for (j, table) in tables.iter_mut().enumerate() {
            build_table(&x[8 * (t0 + j)..8 * (t0 + j + 1)], table);
        }
        let words = tables.len() / 8;
        let first_word = (start / 64 + t0 / 8) as u64;
        for (r0, block) in negatives.chunks_exact_mut(ROWS).enumerate() {
            // Byte j of a row's bits: the signs of the tile's columns 8j..8j+8 (bit k set:
            // column 8j+k is −1).
            let mut bytes = [[0u8; TILE]; ROWS];
            for (i, row) in bytes.iter_mut().enumerate() {
                let key = signs.row_key((r0 * ROWS + i) as u64);
                for w in 0..words {
                    row[8 * w..8 * w + 8].copy_from_slice(
                        &SignMatrix::word(key, first_word + w as u64).to_le_bytes(),
                    );
                }
            }
            let mut sums = [[0f32; LANES]; ROWS];
            for (j, table) in tables.iter().enumerate() {
                for (sum, row) in sums.iter_mut().zip(&bytes) {
                    let entry = &table[row[j] as usize];
                    for e in 0..LANES {
                        sum[e] += entry[e];
                    }
                }
            }
            for (n, sum) in block.iter_mut().zip(&sums) {
                for e in 0..LANES {
                    n[e] += sum[e];
                }
            }
        }
    }
    for (a, n) in acc.iter_mut().zip(&negatives[..d]) {
        for e in 0..LANES {
            a[e] += f64::from(total[e] - 2.0 * n[e]);
        }
    }
}

/// [`accumulate_chunk`] compiled for AVX2 (8-wide adds in one instruction).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn accumulate_chunk_avx2(
    signs: &SignMatrix,
    x: &[[f32; LANES]],
    start: usize,
    acc: &mut [[f64; LANES]],
    scratch: &mut Scratch,
) {
    accumulate_chunk(signs, x, start, acc, scratch)
}

/// [`accumulate_chunk`] with the widest vector instructions this CPU has (same sums).
fn accumulate(
    signs: &SignMatrix,
    x: &[[f32; LANES]],
    start: usize,
    acc: &mut [[f64; LANES]],
    scratch: &mut Scratch,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the feature was just detected.
        return unsafe { accumulate_chunk_avx2(signs, x, start, acc, scratch) };
    }
    accumulate_chunk(signs, x, start, acc, scratch)
}

/// A seeded `d × N` Rademacher projection scaled by `1/√d`.
#[derive(Debug, Clone, Copy)]
pub struct DenseProjector {
    signs: SignMatrix,
    dim: usize,
}

impl DenseProjector {
    /// The projection to `dim` dimensions under `seed`.
    pub fn new(seed: u64, dim: usize) -> Self {
        Self {
            signs: SignMatrix::new(seed, DENSE_STREAM),
            dim,
        }
    }

    /// Output dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// `P g / √d` for each gradient (all of the same length N). Examples are taken 8 at a
    /// time; a batch of 8 (or a multiple) wastes no work.
    pub fn project(&self, grads: &[&[f32]]) -> Vec<Vec<f32>> {
        let m = grads.len();
        if m == 0 {
            return Vec::new();
        }
        let n = grads[0].len();
        assert!(
            grads.iter().all(|g| g.len() == n),
            "gradients differ in length"
        );
        let d = self.dim;
        let groups = m.div_ceil(LANES);
        let chunks = n.div_ceil(COLUMNS);
        let tasks = (rayon::current_num_threads() * 4).clamp(1, chunks.max(1));
        let partials: Vec<Vec<[f64; LANES]>> = (0..tasks)
            .into_par_iter()
            .map(|task| {
                let (lo, hi) = (chunks * task / tasks, chunks * (task + 1) / tasks);
                let mut scratch = Scratch::new(d);
                let mut x = vec![[0f32; LANES]; COLUMNS];
                let mut acc = vec![[0f64; LANES]; groups * d];
                for chunk in lo..hi {
                    let start = chunk * COLUMNS;
                    let width = COLUMNS.min(n - start);
                    // Zero-padded to whole 64-column words and to whole groups of examples
                    // (zeros add nothing; the padding examples' sums are dropped).
                    let x = &mut x[..width.div_ceil(64) * 64];
                    for (group, acc) in acc.chunks_exact_mut(d).enumerate() {
                        x.fill([0.0; LANES]);
                        for (e, g) in grads[group * LANES..].iter().take(LANES).enumerate() {
                            for (column, v) in x.iter_mut().zip(&g[start..start + width]) {
                                column[e] = *v;
                            }
                        }
                        accumulate(&self.signs, x, start, acc, &mut scratch);
                    }
                }
                acc
            })
            .collect();
        let scale = 1.0 / (d as f64).sqrt();
        (0..m)
            .map(|i| {
                let (group, lane) = (i / LANES, i % LANES);
                (0..d)
                    .map(|j| {
                        let s: f64 = partials.iter().map(|p| p[group * d + j][lane]).sum();
                        (s * scale) as f32
                    })
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernel_gives_bit_identical_sums() {
        // 70 words: two tiles, a short last one; 13 rows: a short last row block.
        let (width, d) = (64 * 70, 13);
        let x: Vec<[f32; LANES]> = (0..width)
            .map(|c| {
                std::array::from_fn(|e| (((c * LANES + e) * 7919 % 1009) as f32 - 504.0) / 97.0)
            })
            .collect();
        let signs = SignMatrix::new(3, DENSE_STREAM);
        let mut want = vec![[0f64; LANES]; d];
        accumulate_chunk(&signs, &x, 128, &mut want, &mut Scratch::new(d));
        let mut got = vec![[0f64; LANES]; d];
        accumulate(&signs, &x, 128, &mut got, &mut Scratch::new(d));
        assert_eq!(got, want);
        // And against the explicit ±1 rows, in f64.
        for (r, sums) in want.iter().enumerate() {
            for e in 0..LANES {
                let exact: f64 = (0..width)
                    .map(|c| signs.entry(r as u64, 128 + c as u64) as f64 * x[c][e] as f64)
                    .sum();
                assert!((sums[e] - exact).abs() < 1e-3, "{} vs {exact}", sums[e]);
            }
        }
    }

    #[test]
    fn equals_the_explicit_matrix_product() {
        // 9 gradients: a second, mostly padded group of examples; 20,000 columns: three
        // chunks, the last one short and not a whole 64-column word; d = 45: a short row block.
        let (n, d, m) = (20_000, 45, 9);
        let grads: Vec<Vec<f32>> = (0..m)
            .map(|k| {
                (0..n)
                    .map(|i| ((i * (37 + 2 * k) % 101) as f32 - 50.0) / 50.0)
                    .collect()
            })
            .collect();
        let refs: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
        let proj = DenseProjector::new(5, d);
        let got = proj.project(&refs);
        let p = SignMatrix::new(5, DENSE_STREAM).dense(d, n);
        for (x, out) in grads.iter().zip(&got) {
            for j in 0..d {
                let want: f64 = (0..n)
                    .map(|i| p[j * n + i] as f64 * x[i] as f64)
                    .sum::<f64>()
                    / (d as f64).sqrt();
                assert!((out[j] as f64 - want).abs() < 1e-4, "{} vs {want}", out[j]);
            }
        }
        // Each example's lane sums only its own columns, in a fixed order: projected alone or
        // anywhere in a batch, a gradient gives the same bits.
        assert_eq!(proj.project(&refs[7..8])[0], got[7]);
        assert_eq!(proj.project(&[refs[3], refs[0]])[0], got[3]);
    }

    #[test]
    fn preserves_inner_products_within_johnson_lindenstrauss_tolerance() {
        // 20 random unit vectors in 5,000 dimensions, projected to 1,024: every pairwise
        // cosine moves by well under 4/√d (the JL scale is ≈ 1/√d ≈ 0.031).
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let (n, d, m) = (5000, 1024, 20);
        let xs: Vec<Vec<f32>> = (0..m)
            .map(|_| {
                let v: Vec<f32> = (0..n).map(|_| rng.random::<f32>() - 0.5).collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.into_iter().map(|x| x / norm).collect()
            })
            .collect();
        let refs: Vec<&[f32]> = xs.iter().map(Vec::as_slice).collect();
        let ys = DenseProjector::new(0, d).project(&refs);
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x * y) as f64).sum::<f64>();
        let mut worst = 0f64;
        for i in 0..m {
            for j in 0..m {
                worst = worst.max((dot(&xs[i], &xs[j]) - dot(&ys[i], &ys[j])).abs());
            }
        }
        assert!(
            worst < 4.0 / (d as f64).sqrt(),
            "worst inner-product error {worst}"
        );
    }
}
