//! Run directories and their state: `status.json` (state, attempts, heartbeat, host, pid,
//! stage, error), an advisory lock held while a run executes, and the runs table rebuilt from
//! the directories. The directories are the truth; `runs.csv` / `runs.parquet` are views.
//!
//! Two `prism sweep` processes never execute the same run: a run is executed only by the
//! process holding the exclusive lock on its `lock` file (`flock`), which the kernel releases
//! when that process dies, so a killed run is reclaimed by the next sweep without waiting for
//! a timeout. The heartbeat is for people (`prism status` flags stale runs).
//!
//! A finished run's status records the sha256 of each of its outputs ([`OUTPUTS`]); a resumed
//! sweep checks them ([`RunDir::check_outputs`]) and executes a run again whose outputs were
//! damaged or lost, after moving the damaged files aside.

use anyhow::{Context, Result};
use prism_core::IntegrityError;
use prism_core::atomic::write_json_atomic;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunState {
    /// Being executed (or its process died: then its lock is free).
    Running,
    /// Finished; its outputs are complete.
    Done,
    /// Gave up after `attempts`; `error` says why.
    Failed,
}

/// The contents of `status.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStatus {
    /// State.
    pub state: RunState,
    /// Attempts started so far.
    pub attempts: u32,
    /// Current stage (`subset`, `metrics`, `train`, `done`).
    pub stage: String,
    /// Unix seconds of the last sign of life.
    pub heartbeat: u64,
    /// Unix seconds the current attempt started.
    pub started: u64,
    /// Seconds the finished attempt took.
    pub seconds: Option<f64>,
    /// Host of the executing process.
    pub host: String,
    /// Its pid.
    pub pid: u32,
    /// Why it failed.
    pub error: Option<String>,
    /// A finished run's outputs and their sha256 (absent in runs finished before prism
    /// recorded them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<BTreeMap<String, String>>,
}

/// The files a run writes, in the order its stages make them.
pub const OUTPUTS: [&str; 4] = ["subset.ids", "subset.json", "metrics.json", "eval.json"];

/// What [`RunDir::check_outputs`] found.
#[derive(Debug)]
pub enum OutputsCheck {
    /// Every recorded output is there with its recorded hash.
    Intact,
    /// The run finished before prism recorded output hashes: nothing to check against.
    Unrecorded,
    /// These outputs are missing or changed since the run finished.
    Damaged(Vec<IntegrityError>),
}

/// Unix time in seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The process's peak resident memory so far in MB (`VmHWM` of `/proc/self/status`; `None`
/// off Linux): logged after featurisation and after every run, so a sweep that runs out of
/// memory shows which stage grew it.
pub fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// This machine's name.
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

/// A run's folder.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The folder `results/<sweep>/<run-id>/`.
    pub path: PathBuf,
}

/// An exclusive claim on a run: the lock is held until this is dropped (or the process dies).
#[derive(Debug)]
pub struct Claim {
    _lock: File,
}

impl RunDir {
    /// The folder of run `id` in `sweep_dir` (`results/<sweep>/<run-id>/`).
    pub fn new(sweep_dir: &Path, id: &str) -> Self {
        Self {
            path: sweep_dir.join(id),
        }
    }

    /// Whether `path` is a run folder (it holds `run.json`).
    pub fn is_run(path: &Path) -> bool {
        path.join("run.json").is_file()
    }

    /// A file of the run.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The status, if the run was ever started.
    pub fn status(&self) -> Option<RunStatus> {
        let text = std::fs::read_to_string(self.file("status.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Writes the status atomically. On a full disk, where the temporary file of an atomic
    /// write cannot be made, it overwrites the status in place instead (one write of under a
    /// page into blocks the file already holds, padded with JSON whitespace to the old length,
    /// so that no new space is needed): a failed run is still marked failed, with the reason.
    pub fn write_status(&self, status: &RunStatus) -> Result<()> {
        let path = self.file("status.json");
        match write_json_atomic(&path, status) {
            Err(e) if e.kind() == std::io::ErrorKind::StorageFull && path.is_file() => {
                overwrite_in_place(&path, status).with_context(|| {
                    format!("writing `{}` in place on a full disk ({e})", path.display())
                })
            }
            other => other.with_context(|| format!("writing `{}`", path.display())),
        }
    }

    /// Takes the run's lock if no other process holds it.
    pub fn try_claim(&self) -> Result<Option<Claim>> {
        fs_err::create_dir_all(&self.path)?;
        let path = self.file("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening `{}`", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Claim { _lock: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("locking `{}`", path.display()))
            }
        }
    }

    /// The sha256 of each output the run has written.
    pub fn hash_outputs(&self) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for name in OUTPUTS {
            let path = self.file(name);
            if path.is_file() {
                let hash = prism_core::hash::sha256_file(&path)
                    .with_context(|| format!("hashing `{}`", path.display()))?;
                out.insert(name.to_string(), hash);
            }
        }
        Ok(out)
    }

    /// Records the output hashes of a run that finished before prism recorded them, if no
    /// other process holds the run; returns whether it did.
    pub fn record_outputs(&self, mut status: RunStatus) -> Result<bool> {
        let Some(_claim) = self.try_claim()? else {
            return Ok(false);
        };
        status.outputs = Some(self.hash_outputs()?);
        self.write_status(&status)?;
        Ok(true)
    }

    /// Checks a finished run's outputs against the hashes its `status` recorded.
    pub fn check_outputs(&self, status: &RunStatus) -> OutputsCheck {
        let Some(recorded) = &status.outputs else {
            return OutputsCheck::Unrecorded;
        };
        let damaged: Vec<IntegrityError> = recorded
            .iter()
            .filter_map(|(name, hash)| {
                prism_core::integrity::check_file(&self.file(name), hash).err()
            })
            .collect();
        if damaged.is_empty() {
            OutputsCheck::Intact
        } else {
            OutputsCheck::Damaged(damaged)
        }
    }

    /// Whether another process holds the lock now (for `prism status`).
    pub fn is_locked(&self) -> bool {
        match File::open(self.file("lock")) {
            Ok(f) => match f.try_lock_shared() {
                Ok(()) => false,
                Err(TryLockError::WouldBlock) => true,
                Err(_) => false,
            },
            Err(_) => false,
        }
    }
}

/// Overwrites a small JSON file in place, padded with spaces to its old length (see
/// [`RunDir::write_status`]); an error message is shortened so that the record fits a page.
fn overwrite_in_place(path: &Path, status: &RunStatus) -> std::io::Result<()> {
    use std::io::Write;
    let mut status = status.clone();
    if let Some(e) = &mut status.error
        && e.len() > 1024
    {
        let cut = (0..=1024)
            .rev()
            .find(|&i| e.is_char_boundary(i))
            .unwrap_or(0);
        e.truncate(cut);
        e.push_str(" …");
    }
    let mut bytes = serde_json::to_vec_pretty(&status).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    let old = std::fs::metadata(path)?.len() as usize;
    if bytes.len() < old {
        bytes.resize(old, b' ');
    }
    let mut file = OpenOptions::new().write(true).open(path)?;
    file.write_all(&bytes)?;
    file.sync_all()
}

/// Keeps a running run's status fresh: a thread rewrites `heartbeat` every `every` until
/// dropped; stage changes go through [`Heartbeat::stage`].
pub struct Heartbeat {
    status: Arc<Mutex<RunStatus>>,
    dir: RunDir,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    /// Starts beating for `dir` with `status`.
    pub fn start(dir: RunDir, status: RunStatus, every: Duration) -> Result<Self> {
        dir.write_status(&status)?;
        let status = Arc::new(Mutex::new(status));
        let (tx, rx) = mpsc::channel::<()>();
        let (s, d) = (status.clone(), dir.clone());
        let thread = std::thread::spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                let mut st = s.lock().expect("status lock");
                st.heartbeat = now();
                let _ = d.write_status(&st);
            }
        });
        Ok(Self {
            status,
            dir,
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    /// Records the stage now running.
    pub fn stage(&self, stage: &str) -> Result<()> {
        let mut st = self.status.lock().expect("status lock");
        st.stage = stage.to_string();
        st.heartbeat = now();
        self.dir.write_status(&st)
    }

    /// Stops beating and writes the final state.
    pub fn finish(mut self, state: RunState, error: Option<String>) -> Result<RunStatus> {
        self.halt();
        let mut st = self.status.lock().expect("status lock").clone();
        st.state = state;
        st.heartbeat = now();
        st.seconds = Some((now().saturating_sub(st.started)) as f64);
        st.error = error;
        if state == RunState::Done {
            st.stage = "done".into();
            st.outputs = Some(self.dir.hash_outputs()?);
        }
        self.dir.write_status(&st)?;
        Ok(st)
    }

    fn halt(&mut self) {
        if let Some(tx) = self.stop.take() {
            drop(tx);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.halt();
    }
}
