//! What a sweep leaves for people and tools to read afterwards: the sweep's event log
//! (`events.jsonl`, one JSON object per line) and each run's `log.txt`.

use crate::ledger::{RunDir, host, now};
use std::io::Write;
use std::path::Path;

/// Appends one JSON line to the sweep's event log (`events.jsonl`; O_APPEND writes of one
/// short line do not interleave between processes).
pub fn event(sweep_dir: &Path, value: serde_json::Value) {
    let line = serde_json::json!({"time": now(), "host": host(), "pid": std::process::id(), "event": value});
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(sweep_dir.join("events.jsonl"))
    {
        // One write call per line: O_APPEND then keeps lines of concurrent processes whole.
        let _ = f.write_all(format!("{line}\n").as_bytes());
    }
}

/// Appends a line to a run's `log.txt`.
pub fn log(dir: &RunDir, message: &str) {
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.file("log.txt"))
    {
        let _ = f.write_all(format!("{} pid {} {message}\n", now(), std::process::id()).as_bytes());
    }
}

/// In a Slurm task (`--index`): on SIGTERM or SIGUSR1 (the pre-timeout signal, forwarded by
/// the batch script) record the preemption in the run's log and the sweep's event log, then
/// exit with 143. Everything the run finished so far (its subset, its metrics) is already on
/// disk, and its lock dies with the process, so the requeued task reclaims the run and
/// resumes from the first unfinished stage.
pub fn stop_on_signal(sweep_dir: &Path, index: usize, run_id: &str) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGTERM, SIGUSR1};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGUSR1])?;
    let (sweep_dir, run_id) = (sweep_dir.to_path_buf(), run_id.to_string());
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let name = if sig == SIGUSR1 { "SIGUSR1" } else { "SIGTERM" };
            log(
                &RunDir::new(&sweep_dir, &run_id),
                &format!("preempted by {name}: stopping for requeue"),
            );
            event(
                &sweep_dir,
                serde_json::json!({"run": run_id, "index": index, "state": "preempted", "signal": name}),
            );
            std::process::exit(143);
        }
    });
    Ok(())
}
