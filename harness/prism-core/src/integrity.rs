//! Content checksums written with the data and checked before use.
//!
//! Researchers keep caches for months, on shared and network file systems. A byte that rots
//! in a feature shard or a cached training result would change every G-Vendi, every ρ and
//! every report built on it, without a trace. So every file prism caches is recorded with its
//! sha256 when written, and checked when read: a mismatch is an [`IntegrityError`] naming the
//! file and both hashes, and the caller decides whether to recompute or stop.
//!
//! The records are **sums files** in `sha256sum` format (`<hex>  <name>` per line) next to the
//! files they cover, so standard tools can check them too (`sha256sum -c shard-000000.sha256`
//! checks a feature shard by hand). The hash is of the file's exact bytes: a cached result is
//! restored byte for byte, never re-serialised.

use crate::hash::{sha256_file, sha256_hex};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why a cached file cannot be used as it is.
#[derive(Debug, thiserror::Error)]
pub enum IntegrityError {
    /// The file's content differs from the checksum recorded when it was written.
    #[error(
        "`{path}` does not match its recorded checksum (recorded sha256 {expected}, found {found}): it changed after prism wrote it"
    )]
    Mismatch {
        /// The damaged file.
        path: PathBuf,
        /// The sha256 recorded when it was written.
        expected: String,
        /// The sha256 of what is there now.
        found: String,
    },
    /// The file has no checksum to check against (written before prism recorded them, or its
    /// record was lost): its content cannot be vouched for.
    #[error("`{path}` has no recorded checksum: {why}")]
    Unrecorded {
        /// The file.
        path: PathBuf,
        /// What is missing.
        why: String,
    },
    /// The file (or its record) cannot be read or parsed.
    #[error("`{path}`: {message}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl IntegrityError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Mismatch { path, .. }
            | Self::Unrecorded { path, .. }
            | Self::Unreadable { path, .. } => path,
        }
    }

    /// Whether the content is known to be damaged (as opposed to merely unverifiable).
    pub fn is_damage(&self) -> bool {
        !matches!(self, Self::Unrecorded { .. })
    }

    fn unreadable(path: &Path, message: impl fmt::Display) -> Self {
        Self::Unreadable {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }
}

/// `Ok` when the hash `found` of `path` is the recorded `expected`.
fn compare(path: &Path, expected: &str, found: String) -> Result<(), IntegrityError> {
    if found == expected {
        return Ok(());
    }
    Err(IntegrityError::Mismatch {
        path: path.to_path_buf(),
        expected: expected.to_string(),
        found,
    })
}

/// Checks `bytes`, read from `path`, against the recorded hex sha256 `expected`.
pub fn check_bytes(path: &Path, bytes: &[u8], expected: &str) -> Result<(), IntegrityError> {
    compare(path, expected, sha256_hex(bytes))
}

/// Checks the file at `path` against the recorded hex sha256 `expected`.
pub fn check_file(path: &Path, expected: &str) -> Result<(), IntegrityError> {
    let found = sha256_file(path).map_err(|e| IntegrityError::unreadable(path, e))?;
    compare(path, expected, found)
}

/// The records of a sums file: `(file name, hex sha256)` in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sums(pub Vec<(String, String)>);

impl Sums {
    /// The recorded sha256 of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, h)| h.as_str())
    }

    /// The `sha256sum` text: one `<hex>  <name>` line per file.
    pub fn to_text(&self) -> String {
        self.0.iter().map(|(n, h)| format!("{h}  {n}\n")).collect()
    }

    /// Parses `sha256sum` text (binary-mode `*name` lines too); `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self, IntegrityError> {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad = || {
                IntegrityError::unreadable(path, format!("line {}: not `<sha256>  <name>`", i + 1))
            };
            let (hash, name) = line.split_once(' ').ok_or_else(bad)?;
            let name = name.trim_start_matches(' ').trim_start_matches('*');
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) || name.is_empty() {
                return Err(bad());
            }
            out.push((name.to_string(), hash.to_ascii_lowercase()));
        }
        Ok(Self(out))
    }

    /// Reads the sums file at `path`; `Ok(None)` when there is none.
    pub fn read(path: &Path) -> Result<Option<Self>, IntegrityError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(IntegrityError::unreadable(path, e)),
        }
    }

    /// Writes the sums file at `path` atomically.
    pub fn write(&self, path: &Path) -> io::Result<()> {
        crate::atomic::write_atomic(path, self.to_text().as_bytes())
    }
}

/// The sums file that covers one cached file: `<name>.sha256` next to it.
pub fn sidecar(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".sha256");
    path.with_file_name(name)
}

/// Writes a cached file with its sums: the sidecar first, then the file (each atomically), so
/// a file present is always covered; a kill between the two leaves a sidecar without its file,
/// which reads as not cached.
pub fn write_cached(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    Sums(vec![(name, sha256_hex(bytes))]).write(&sidecar(path))?;
    crate::atomic::write_atomic(path, bytes)
}

/// Reads a file written by [`write_cached`], checked against its sidecar. `Ok(None)` when it
/// is not cached; an [`IntegrityError`] when it is damaged or has no sidecar (the caller
/// decides: [`read_cached_or_discard`] recomputes).
pub fn read_cached(path: &Path) -> Result<Option<Vec<u8>>, IntegrityError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(IntegrityError::unreadable(path, e)),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let sums = Sums::read(&sidecar(path))?.ok_or_else(|| IntegrityError::Unrecorded {
        path: path.to_path_buf(),
        why: format!("`{}` is missing", sidecar(path).display()),
    })?;
    let expected = sums.get(&name).ok_or_else(|| IntegrityError::Unrecorded {
        path: path.to_path_buf(),
        why: format!("`{}` has no line for it", sidecar(path).display()),
    })?;
    check_bytes(path, &bytes, expected)?;
    Ok(Some(bytes))
}

/// [`read_cached`] for caches that can be recomputed: a damaged file is moved aside
/// ([`quarantine`]) and an unrecorded one ignored, each with a warning that ends with `redo`
/// (what the caller does instead, e.g. "training again"), and both read as not cached, so the
/// caller computes the value again.
pub fn read_cached_or_discard(path: &Path, redo: &str) -> io::Result<Option<Vec<u8>>> {
    match read_cached(path) {
        Ok(found) => Ok(found),
        Err(e) if e.is_damage() && path.is_file() => {
            let moved = quarantine(path)?;
            tracing::warn!("{e}; moved it to `{}` and {redo}", moved.display());
            Ok(None)
        }
        Err(e) => {
            tracing::warn!("{e}; {redo}");
            Ok(None)
        }
    }
}

/// Moves a damaged file aside to `<name>.corrupt` (replacing an older one), so that it is
/// neither used nor lost: whoever wants to inspect it still can. Returns the new path.
pub fn quarantine(path: &Path) -> io::Result<PathBuf> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".corrupt");
    let target = path.with_file_name(name);
    fs_err::rename(path, &target)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_round_trip_and_read_sha256sum_output() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("a.bin");
        std::fs::write(&data, b"abc").unwrap();
        let sums = Sums(vec![("a.bin".into(), sha256_file(&data).unwrap())]);
        let path = dir.path().join("a.sha256");
        sums.write(&path).unwrap();
        // The same text `sha256sum a.bin` prints (FIPS 180-2 vector for "abc").
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a.bin\n"
        );
        assert_eq!(Sums::read(&path).unwrap(), Some(sums.clone()));
        check_file(&data, sums.get("a.bin").unwrap()).unwrap();
        assert_eq!(Sums::read(&dir.path().join("none")).unwrap(), None);
        let bad = Sums::parse(&path, "xyz  a.bin\n").unwrap_err();
        assert!(bad.to_string().contains("line 1"), "{bad}");
    }

    #[test]
    fn a_flipped_byte_is_a_mismatch_naming_the_file_and_both_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.bin");
        std::fs::write(&path, b"hello world").unwrap();
        let recorded = sha256_file(&path).unwrap();
        std::fs::write(&path, b"hello World").unwrap();
        let err = check_file(&path, &recorded).unwrap_err();
        let text = err.to_string();
        assert!(err.is_damage());
        assert!(text.contains("x.bin") && text.contains(&recorded), "{text}");
        assert!(text.contains(&sha256_file(&path).unwrap()), "{text}");
    }

    #[test]
    fn cached_files_are_checked_and_a_damaged_one_is_recomputed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.npy");
        assert_eq!(
            read_cached_or_discard(&path, "computing it again").unwrap(),
            None
        );
        write_cached(&path, b"0123456789").unwrap();
        assert_eq!(read_cached(&path).unwrap().unwrap(), b"0123456789");
        std::fs::write(&path, b"0123456788").unwrap();
        assert!(read_cached(&path).unwrap_err().is_damage());
        assert_eq!(
            read_cached_or_discard(&path, "computing it again").unwrap(),
            None
        );
        assert!(!path.exists() && dir.path().join("m.npy.corrupt").is_file());
        // A file with no sidecar (an older cache) is not trusted either.
        std::fs::remove_file(sidecar(&path)).unwrap();
        std::fs::write(&path, b"x").unwrap();
        assert!(!read_cached(&path).unwrap_err().is_damage());
        assert_eq!(
            read_cached_or_discard(&path, "computing it again").unwrap(),
            None
        );
    }

    #[test]
    fn quarantine_keeps_the_damaged_file_under_a_new_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shard-000001.safetensors");
        std::fs::write(&path, b"bytes").unwrap();
        let moved = quarantine(&path).unwrap();
        assert!(!path.exists());
        assert_eq!(
            moved.file_name().unwrap(),
            "shard-000001.safetensors.corrupt"
        );
        assert_eq!(std::fs::read(moved).unwrap(), b"bytes");
    }
}
