//! Compression ratio: raw bytes ÷ DEFLATE (level 9) bytes of the texts joined by newlines.
//! Repetitive data compresses well, so a lower ratio means more diversity.
//!
//! Not copied from the `diversity` package's `compression_ratio` (0.3.1): it joins the texts
//! with spaces and then writes `gzip.compress(text)` through a `GzipFile`, i.e. gzips the gzip
//! output, so its compressed size carries a second header and a second (useless) pass. The
//! ratio here compresses the text once.

use crate::{Direction, DiversityMetric, Family, MetricError, MetricInfo, MetricInput, Need};
use std::io::Write;

/// DEFLATE compression ratio (flate2, level 9).
pub struct CompressionRatio;

impl DiversityMetric for CompressionRatio {
    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "compression-ratio",
            description: "raw size / DEFLATE-9 size of all texts (lower = more diverse)",
            family: Family::Lexical,
            needs: &[Need::Texts],
            direction: Direction::LowerIsMoreDiverse,
        }
    }
    fn compute(&self, input: &MetricInput) -> Result<f64, MetricError> {
        let joined = input.texts.join("\n");
        if joined.is_empty() {
            return Err(MetricError::TooFew {
                metric: self.name(),
                min: 1,
                n: 0,
            });
        }
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(9));
        enc.write_all(joined.as_bytes())
            .and_then(|_| enc.finish())
            .map(|compressed| joined.len() as f64 / compressed.len() as f64)
            .map_err(|e| MetricError::Failed {
                metric: self.name(),
                message: e.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repetition_compresses_better() {
        let same: Vec<String> = vec!["the river flows north".to_string(); 50];
        let varied: Vec<String> = (0..50)
            .map(|i| format!("sentence {i} about topic {}", i * 7919 % 1000))
            .collect();
        let r_same = CompressionRatio
            .compute(&crate::metrics::with_features(&same, None, None))
            .unwrap();
        let r_varied = CompressionRatio
            .compute(&crate::metrics::with_features(&varied, None, None))
            .unwrap();
        assert!(r_same > 10.0 && r_varied < r_same, "{r_same} {r_varied}");
    }
}
