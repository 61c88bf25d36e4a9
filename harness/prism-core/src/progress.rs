//! One look for progress bars: examples/s and ETA, drawn on stderr only when it is a
//! terminal (indicatif hides them otherwise), so logs of batch jobs stay clean.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `total` steps labelled `what`, with rate, ETA and a message slot.
pub fn bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{what} {{bar:30}} {{pos}}/{{len}} [{{elapsed_precise}} < {{eta_precise}}, {{per_sec}}] {{msg}}"
        ))
        .expect("valid template"),
    );
    bar
}

/// A `(done, total)` callback that moves `bar` (featurisation, evaluation).
pub fn counter(bar: &ProgressBar) -> impl FnMut(usize, usize) + '_ {
    |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    }
}

/// A `(done, total, loss)` callback that moves `bar` and shows the loss (training).
pub fn with_loss(bar: &ProgressBar) -> impl FnMut(usize, usize, f32) + '_ {
    |done, total, loss| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        bar.set_message(format!("loss {loss:.3}"));
    }
}
