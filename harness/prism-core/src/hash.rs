//! Content hashes: the identity of files, examples and configs.
//!
//! Run ids, cache keys and download checks all reduce to sha256 over bytes, so that the same
//! content gives the same key on every machine.

use sha2::{Digest, Sha256};
use std::io::{self, Read};
use std::path::Path;

/// Hex sha256 of a byte slice.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Hex sha256 of a file, streamed (downloads are hundreds of MiB).
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = fs_err::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// A seeded, order-sensitive 64-bit key of several strings, for deterministic shuffles and
/// splits (e.g. which VitaminC pages are held out) that do not depend on iteration order.
pub fn keyed_u64(seed: u64, parts: &[&str]) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_le_bytes());
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    u64::from_le_bytes(digest[..8].try_into().expect("sha256 has 32 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_value() {
        // FIPS 180-2 test vector.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn keyed_u64_separates_parts() {
        assert_ne!(keyed_u64(0, &["ab", "c"]), keyed_u64(0, &["a", "bc"]));
        assert_ne!(keyed_u64(0, &["a"]), keyed_u64(1, &["a"]));
        assert_eq!(keyed_u64(7, &["page"]), keyed_u64(7, &["page"]));
    }
}
