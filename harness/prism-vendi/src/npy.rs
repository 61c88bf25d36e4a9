//! Reading 2-D `.npy` files (f16, f32 or f64, C order): the interchange format for features
//! made elsewhere (numpy, PyTorch, other prism stages).

use crate::matrix::Features;
use std::path::{Path, PathBuf};

/// Why an `.npy` file cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("`{path}`: {message}")]
pub struct NpyError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

/// Reads a 2-D float `.npy` into row-major f32 features.
pub fn read_npy(path: &Path) -> Result<Features, NpyError> {
    let err = |message: String| NpyError {
        path: path.to_path_buf(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    parse_npy(&bytes).map_err(err)
}

/// Parses `.npy` bytes (see [`read_npy`]).
pub fn parse_npy(bytes: &[u8]) -> Result<Features, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not an .npy file (bad magic)".into());
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err("truncated header".into());
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(format!("unsupported .npy version {v}")),
    };
    let header = std::str::from_utf8(
        bytes
            .get(start..start + header_len)
            .ok_or("truncated header")?,
    )
    .map_err(|_| "header is not text")?;
    let field = |name: &str| -> Result<&str, String> {
        let at = header
            .find(&format!("'{name}'"))
            .ok_or(format!("header has no `{name}`"))?;
        Ok(header[at + name.len() + 2..]
            .trim_start()
            .trim_start_matches(':')
            .trim_start())
    };
    let descr = field("descr")?;
    let descr = descr
        .trim_start_matches('\'')
        .split('\'')
        .next()
        .unwrap_or("");
    if field("fortran_order")?.starts_with("True") {
        return Err(
            "Fortran-ordered arrays are not supported; save with np.ascontiguousarray".into(),
        );
    }
    let shape_text = field("shape")?;
    let shape_text = &shape_text[1..shape_text.find(')').ok_or("bad shape")?];
    let shape: Vec<usize> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("bad shape `{shape_text}`"))
        })
        .collect::<Result<_, _>>()?;
    let [n, d] = shape[..] else {
        return Err(format!(
            "expected a 2-D array (rows = examples), got shape {shape:?}"
        ));
    };
    let body = &bytes[start + header_len..];
    let (width, decode): (usize, fn(&[u8]) -> f32) = match descr {
        "<f2" => (2, |b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()),
        "<f4" => (4, |b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        "<f8" => (8, |b| {
            f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32
        }),
        other => {
            return Err(format!(
                "unsupported dtype `{other}` (expected little-endian f2, f4 or f8)"
            ));
        }
    };
    if body.len() != n * d * width {
        return Err(format!(
            "expected {} data bytes for shape ({n}, {d}), found {}",
            n * d * width,
            body.len()
        ));
    }
    Ok(Features::new(
        body.chunks_exact(width).map(decode).collect(),
        n,
        d,
    ))
}

/// Encodes f32 features as `.npy` bytes (version 1, `<f4`), for tests and exports.
pub fn to_npy_f32(features: &Features) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
        features.n(),
        features.d()
    );
    let pad = 64 - (10 + header.len() + 1) % 64;
    header.push_str(&" ".repeat(pad % 64));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in features.as_slice() {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let f = Features::new(vec![1.0, -2.5, 3.0, 0.25, 5.0, 6.0], 3, 2);
        let bytes = to_npy_f32(&f);
        assert_eq!((bytes.len() - 24) % 4, 0);
        assert_eq!(parse_npy(&bytes).unwrap(), f);
        assert!(parse_npy(b"junk").unwrap_err().contains("magic"));
        let mut bad = bytes.clone();
        bad.pop();
        assert!(parse_npy(&bad).unwrap_err().contains("data bytes"));
    }

    #[test]
    fn reads_numpy_written_f16_and_f64() {
        // Bytes as numpy 1.x writes np.array([[1, 2]], dtype=np.float16) and float64.
        let header = |descr: &str| {
            let mut h =
                format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (1, 2), }}");
            h.push_str(&" ".repeat(64 - (10 + h.len() + 1) % 64));
            h.push('\n');
            let mut out = b"\x93NUMPY\x01\x00".to_vec();
            out.extend_from_slice(&(h.len() as u16).to_le_bytes());
            out.extend_from_slice(h.as_bytes());
            out
        };
        let mut f16 = header("<f2");
        f16.extend_from_slice(&[0x00, 0x3c, 0x00, 0x40]); // 1.0, 2.0
        assert_eq!(parse_npy(&f16).unwrap().as_slice(), &[1.0, 2.0]);
        let mut f64b = header("<f8");
        f64b.extend_from_slice(&1.0f64.to_le_bytes());
        f64b.extend_from_slice(&2.0f64.to_le_bytes());
        assert_eq!(parse_npy(&f64b).unwrap().as_slice(), &[1.0, 2.0]);
    }
}
