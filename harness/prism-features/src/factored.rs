//! The fast projection (LoGra, arXiv 2405.13954): for each weight block with per-example
//! gradient `G = Σ_t u_t v_tᵀ` (`u` = output gradient, `v` = input), the Kronecker-factored
//! projection `(P_u ⊗ P_v) vec(G) = vec(Σ_t (P_uᵀu_t)(P_vᵀv_t)ᵀ)` with `k × k` outputs, from one
//! batched forward+backward whose probes give every `u_t` (see `prism_models::causal_lm::GradTap`).
//! The `k²` values of all blocks are concatenated and projected to `d` by a second, dense
//! Rademacher matrix. Each stage is scaled to preserve inner products in expectation, so the
//! composition is a Johnson–Lindenstrauss map of the flat gradient of the tapped weights.
//!
//! What is covered: every linear map (biases as an extra input column of ones) and the token
//! embedding, which a tied output head shares (both uses add into one block). RMSNorm gains
//! (0.03% of SmolLM2's parameters) are not: `dense` and `exact` include them.

use crate::error::FeatureError;
use crate::signs::SignMatrix;
use burn::prelude::*;
use burn::tensor::Gradients;
use prism_models::causal_lm::{Factor, GradBlock, GradTap};

/// Stream of the final `Σk² → d` matrix; block `i` uses streams `2i + 1` (u) and `2i + 2` (v).
const FINAL_STREAM: u64 = 0;

/// Host copies of a factored projection's matrices (entries ±1, unscaled), for tests.
#[derive(Debug, Clone)]
pub struct FactoredMatrices {
    /// Per block, `P_u` as `rows × k` row-major.
    pub p_u: Vec<Vec<f32>>,
    /// Per block, `P_v` as `cols × k` row-major.
    pub p_v: Vec<Vec<f32>>,
    /// The final matrix, `(blocks · k²) × d` row-major.
    pub last: Vec<f32>,
}

/// A Kronecker-factored projection of a model's [`GradBlock`]s to `dim` dimensions.
#[derive(Debug, Clone)]
pub struct FactoredProjector {
    blocks: Vec<GradBlock>,
    k: usize,
    dim: usize,
    p_u: Vec<Tensor<2>>,
    p_v: Vec<Tensor<2>>,
    last: Tensor<2>,
}

/// `rows × k` ±1 matrix of `stream`: the transpose of the `k × rows` sign matrix. Only one copy
/// of the matrix (0.9 GB for the final one at k = 32) is ever held: it is written in bands of
/// [`SIDE_BAND`] rows, in parallel, each band one generated stretch of every sign row at a time,
/// so that the transposed writes stay within a band that fits in a core's L2 (writing whole
/// rows, each entry k · 4 bytes from the last, took about 8 s of one core for the final matrix).
fn side_matrix(seed: u64, stream: u64, rows: usize, k: usize) -> Vec<f32> {
    use rayon::prelude::*;
    let signs = SignMatrix::new(seed, stream);
    let mut out = vec![0f32; rows * k];
    if k == 0 {
        return out;
    }
    out.par_chunks_mut(SIDE_BAND * k)
        .enumerate()
        .for_each(|(band, chunk)| {
            let first = band * SIDE_BAND;
            let mut generated = vec![0f32; chunk.len() / k];
            for a in 0..k {
                signs.fill_row(a as u64, first, &mut generated);
                for (r, v) in generated.iter().enumerate() {
                    chunk[r * k + a] = *v;
                }
            }
        });
    out
}

/// Rows of a side matrix written together: a multiple of 64 ([`SignMatrix::fill_row`] starts
/// at whole 64-bit words), and 256 rows × 1,024 columns × 4 bytes = 1 MiB for the final matrix.
const SIDE_BAND: usize = 256;

impl FactoredProjector {
    /// Projection of `blocks` with `k × k` per block and `dim` outputs, on `device` (the
    /// inner, non-autodiff device: probe gradients live there).
    pub fn new(blocks: Vec<GradBlock>, k: usize, dim: usize, seed: u64, device: &Device) -> Self {
        // The host matrices move into the tensors: the final one is 0.9 GB at k = 32.
        let FactoredMatrices { p_u, p_v, last } = Self::matrices_of(&blocks, k, dim, seed);
        let tensor = |v: Vec<f32>, rows: usize, cols: usize| {
            Tensor::<2>::from_data(TensorData::new(v, [rows, cols]), device)
        };
        let p_u = blocks
            .iter()
            .zip(p_u)
            .map(|(b, m)| tensor(m, b.rows, k))
            .collect();
        let p_v = blocks
            .iter()
            .zip(p_v)
            .map(|(b, m)| tensor(m, b.cols, k))
            .collect();
        let last = tensor(last, blocks.len() * k * k, dim);
        Self {
            blocks,
            k,
            dim,
            p_u,
            p_v,
            last,
        }
    }

    fn matrices_of(blocks: &[GradBlock], k: usize, dim: usize, seed: u64) -> FactoredMatrices {
        let total = blocks.len() * k * k;
        FactoredMatrices {
            p_u: (0..blocks.len())
                .map(|i| side_matrix(seed, 2 * i as u64 + 1, blocks[i].rows, k))
                .collect(),
            p_v: (0..blocks.len())
                .map(|i| side_matrix(seed, 2 * i as u64 + 2, blocks[i].cols, k))
                .collect(),
            last: side_matrix(seed, FINAL_STREAM, total, dim),
        }
    }

    /// The (unscaled) matrices of this projection.
    pub fn matrices(&self, seed: u64) -> FactoredMatrices {
        Self::matrices_of(&self.blocks, self.k, self.dim, seed)
    }

    /// Per-block side `k`.
    pub fn factor_dim(&self) -> usize {
        self.k
    }

    /// Output dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Projected factor `[batch, positions, k]`.
    fn side(
        &self,
        factor: &Factor,
        p: &Tensor<2>,
        grads: &Gradients,
    ) -> Result<Tensor<3>, FeatureError> {
        let k = self.k;
        let dense = |x: Tensor<3>| {
            let [b, t, n] = x.dims();
            x.reshape([b * t, n]).matmul(p.clone()).reshape([b, t, k])
        };
        Ok(match factor {
            Factor::Values(x) => dense(x.clone()),
            Factor::Probe(probe) => dense(probe.grad(grads).ok_or_else(|| {
                FeatureError::Invalid("a gradient probe received no gradient".into())
            })?),
            Factor::Tokens(ids) => {
                let [b, t] = ids.dims();
                p.clone()
                    .select(0, ids.clone().inner().reshape([b * t]))
                    .reshape([b, t, k])
            }
        })
    }

    /// Projected gradients `[batch, dim]` from a tapped forward and its backward.
    pub fn project(
        &self,
        tap: &GradTap,
        grads: &Gradients,
        batch: usize,
    ) -> Result<Tensor<2>, FeatureError> {
        let k = self.k;
        let device = self.last.device();
        let mut acc: Vec<Option<Tensor<3>>> = vec![None; self.blocks.len()];
        for e in &tap.entries {
            let u = self.side(&e.u, &self.p_u[e.block], grads)?;
            let v = self.side(&e.v, &self.p_v[e.block], grads)?;
            let f = u.swap_dims(1, 2).matmul(v);
            acc[e.block] = Some(match acc[e.block].take() {
                Some(a) => a + f,
                None => f,
            });
        }
        let parts: Vec<Tensor<2>> = acc
            .into_iter()
            .map(|a| match a {
                Some(a) => a.reshape([batch, k * k]),
                None => Tensor::zeros([batch, k * k], &device),
            })
            .collect();
        let z = Tensor::cat(parts, 1).mul_scalar(1.0 / k as f64);
        Ok(z.matmul(self.last.clone())
            .mul_scalar(1.0 / (self.dim as f64).sqrt()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_matrix_is_the_transposed_sign_matrix() {
        // More rows than one band, and a last band that is not whole.
        let (rows, k) = (2 * SIDE_BAND + 150, 5);
        let m = side_matrix(4, 9, rows, k);
        let signs = SignMatrix::new(4, 9);
        for r in 0..rows {
            for a in 0..k {
                assert_eq!(m[r * k + a], signs.entry(a as u64, r as u64), "({r}, {a})");
            }
        }
    }
}
