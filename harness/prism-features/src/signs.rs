//! Seeded Rademacher (±1) matrices generated on demand from a counter-based hash, so that any
//! block of any row is a pure function of (seed, stream, row, column): the same seed gives the
//! same projection in every run, batch and process, and a projection of 134M columns never has
//! to be stored.

/// The splitmix64 finaliser: a bijective 64-bit mix with full avalanche.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// For every byte value, its eight bits as ±1 (bit k set → entry k is −1).
const SIGN_TABLE: [[f32; 8]; 256] = {
    let mut table = [[1.0f32; 8]; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut k = 0;
        while k < 8 {
            if (byte >> k) & 1 == 1 {
                table[byte][k] = -1.0;
            }
            k += 1;
        }
        byte += 1;
    }
    table
};

/// One independent ±1 matrix: rows × (unbounded) columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignMatrix {
    key: u64,
}

impl SignMatrix {
    /// The matrix named `stream` under `seed` (different streams are independent).
    pub fn new(seed: u64, stream: u64) -> Self {
        Self {
            key: mix(mix(seed ^ 0x5052_4953_4d00_0000) ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        }
    }

    /// Key of row `row`, to be passed to [`Self::word`].
    #[inline]
    pub fn row_key(&self, row: u64) -> u64 {
        mix(self.key ^ row.wrapping_mul(0xd6e8_feb8_6659_fd93))
    }

    /// Signs of columns `64 * word .. 64 * word + 64` of a row: bit b set means −1.
    #[inline]
    pub fn word(row_key: u64, word: u64) -> u64 {
        mix(row_key ^ word.wrapping_mul(0xa076_1d64_78bd_642f))
    }

    /// Entry (row, col) as ±1.
    pub fn entry(&self, row: u64, col: u64) -> f32 {
        let bits = Self::word(self.row_key(row), col / 64);
        if (bits >> (col % 64)) & 1 == 1 {
            -1.0
        } else {
            1.0
        }
    }

    /// Writes rows `0..rows`, columns `start..start + out.len() / rows` as ±1 into `out`
    /// (row-major). `start` must be a multiple of 64. Each byte of random bits becomes eight
    /// floats by one table lookup (the dense projection spends much of its time here).
    pub fn fill(&self, rows: usize, start: usize, out: &mut [f32]) {
        debug_assert_eq!(start % 64, 0);
        let cols = out.len() / rows.max(1);
        for (r, dst) in out.chunks_exact_mut(cols).enumerate() {
            self.fill_row(r as u64, start, dst);
        }
    }

    /// Writes row `row`, columns `start..start + out.len()`, as ±1 into `out`. `start` must be
    /// a multiple of 64.
    pub fn fill_row(&self, row: u64, start: usize, out: &mut [f32]) {
        debug_assert_eq!(start % 64, 0);
        let key = self.row_key(row);
        for (w, chunk) in out.chunks_mut(64).enumerate() {
            let bits = Self::word(key, (start / 64 + w) as u64);
            for (byte, eight) in chunk.chunks_mut(8).enumerate() {
                let signs = &SIGN_TABLE[((bits >> (8 * byte)) & 0xff) as usize];
                eight.copy_from_slice(&signs[..eight.len()]);
            }
        }
    }

    /// The dense `rows × cols` matrix, row-major.
    pub fn dense(&self, rows: usize, cols: usize) -> Vec<f32> {
        let mut out = vec![0f32; rows * cols];
        if cols > 0 {
            self.fill(rows, 0, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_matches_entry_and_is_balanced() {
        let m = SignMatrix::new(0, 7);
        let block = {
            let mut v = vec![0f32; 3 * 128];
            m.fill(3, 64, &mut v);
            v
        };
        for r in 0..3 {
            for c in 0..128 {
                assert_eq!(block[r * 128 + c], m.entry(r as u64, 64 + c as u64));
            }
        }
        let all = m.dense(64, 4096);
        let mean = all.iter().map(|&v| v as f64).sum::<f64>() / all.len() as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert_ne!(
            SignMatrix::new(0, 7).dense(1, 64),
            SignMatrix::new(1, 7).dense(1, 64)
        );
        assert_ne!(
            SignMatrix::new(0, 7).dense(1, 64),
            SignMatrix::new(0, 8).dense(1, 64)
        );
        assert_eq!(
            SignMatrix::new(3, 7).dense(2, 100),
            SignMatrix::new(3, 7).dense(2, 100)
        );
    }
}
