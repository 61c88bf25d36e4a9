//! The tasks a sweep can run, one [`RunKind`](prism_sweep::RunKind) each, wired from the stage
//! crates (data → subset → features → metrics → train/eval). The runner in `prism-sweep` knows
//! none of them; the command line picks one here by name.
//!
//! - [`nli`]: natural language inference (VitaminC pool, MiniLM student, OOD benchmarks);
//! - [`math`]: math word problems (GSM-Symbolic pool, SmolLM2 student, OOD math sets).
//!
//! [`synth`] runs Prismatic Synthesis on a task's pool; [`equal_size`] trains the students of
//! its equal-size comparison; [`local_decoder`] makes the local burn decoder a
//! `prism_synth::Generator`.

pub mod equal_size;
pub mod local_decoder;
pub mod math;
pub mod nli;
mod pool_scores;
mod prepared;
pub mod synth;

pub use nli::{Nli, metric_text, skill_labels};

/// The registered tasks' names.
pub const TASKS: &[&str] = &["nli", "math"];

/// The run kind of the task `name`, or `None` (see [`TASKS`]).
pub fn find(name: &str) -> Option<Box<dyn prism_sweep::RunKind>> {
    match name {
        "nli" => Some(Box::new(Nli)),
        "math" => Some(Box::new(math::Math)),
        _ => None,
    }
}

/// The experiment's pool as the subset machinery sees it, for its task: `label` is the stratum
/// every subset holds at the pool's proportions (NLI: the gold label; math: the difficulty),
/// `group` the unit of the `groups` strategy (a page; a template). The sweeps build their
/// subsets from the same table.
pub fn subset_pool(session: &prism_core::Session) -> anyhow::Result<prism_data::Table> {
    let task = &session.config.value.task;
    match task.as_str() {
        "nli" => Ok(prism_data::pool_table(session)?.table),
        "math" => Ok(math::subset_table(&math::math_pool(session)?)),
        other => anyhow::bail!("task = `{other}` is not one of {TASKS:?}"),
    }
}
