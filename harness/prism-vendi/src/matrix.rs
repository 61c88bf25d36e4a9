//! A row-major feature matrix: one row per example.

/// `n × d` features in row-major f32, the storage every stage produces (embeddings, gradient
/// features, lexical hashes).
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    data: Vec<f32>,
    n: usize,
    d: usize,
}

impl Features {
    /// A matrix from a JSON array of equal-length arrays of numbers (the reference fixtures'
    /// layout); `None` when it is not one.
    pub fn from_json_rows(value: &serde_json::Value) -> Option<Self> {
        let rows = value.as_array()?;
        let d = rows.first()?.as_array()?.len();
        let mut data = Vec::with_capacity(rows.len() * d);
        for r in rows {
            let r = r.as_array().filter(|r| r.len() == d)?;
            for v in r {
                data.push(v.as_f64()? as f32);
            }
        }
        Some(Self::new(data, rows.len(), d))
    }

    /// Wraps row-major data; `data.len()` must be `n * d`.
    pub fn new(data: Vec<f32>, n: usize, d: usize) -> Self {
        assert_eq!(data.len(), n * d, "feature data must hold n * d values");
        Self { data, n, d }
    }

    /// Number of rows (examples).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of columns (dimensions).
    pub fn d(&self) -> usize {
        self.d
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.d..(i + 1) * self.d]
    }

    /// All values, row-major.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// The rows at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Features {
        let mut data = Vec::with_capacity(indices.len() * self.d);
        for &i in indices {
            data.extend_from_slice(self.row(i));
        }
        Features::new(data, indices.len(), self.d)
    }

    /// Scales every non-zero row to unit L2 norm (zero rows stay zero).
    pub fn l2_normalize(&mut self) {
        for row in self.data.chunks_mut(self.d.max(1)) {
            let norm = row
                .iter()
                .map(|v| (*v as f64) * (*v as f64))
                .sum::<f64>()
                .sqrt();
            if norm > 0.0 {
                for v in row {
                    *v = (*v as f64 / norm) as f32;
                }
            }
        }
    }
}

/// Dot product accumulated in f64.
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
}
