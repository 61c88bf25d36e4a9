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

    /// The rows of `parts` one after another; an empty part (of any width) adds nothing.
    /// Non-empty parts must share one width.
    pub fn stack(parts: &[&Features]) -> Features {
        let d = parts.iter().find(|f| f.n() > 0).map_or(0, |f| f.d());
        let mut data = Vec::new();
        let mut n = 0;
        for f in parts.iter().filter(|f| f.n() > 0) {
            assert_eq!(f.d(), d, "stacked features must share one width");
            data.extend_from_slice(f.as_slice());
            n += f.n();
        }
        Features::new(data, n, d)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacking_appends_rows_and_skips_empty_parts() {
        let a = Features::new(vec![1.0, 2.0, 3.0, 4.0], 2, 2);
        let b = Features::new(vec![5.0, 6.0], 1, 2);
        let empty = Features::new(Vec::new(), 0, 7);
        let s = Features::stack(&[&a, &empty, &b]);
        assert_eq!((s.n(), s.d()), (3, 2));
        assert_eq!(s.as_slice(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let none = Features::stack(&[&empty]);
        assert_eq!(none.n(), 0);
    }
}
