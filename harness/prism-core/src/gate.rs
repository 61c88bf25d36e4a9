//! A one-way gate between threads: closed until someone opens it, then open for good. Work
//! that should start only once the cores are free (a second featurisation worker after the
//! student's frozen blocks are done) waits on one.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Closed at first; [`Gate::open`] opens it for every thread, now and later.
#[derive(Debug, Default)]
pub struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens the gate and wakes every thread waiting on it.
    pub fn open(&self) {
        *self.open.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.opened.notify_all();
    }

    /// Whether the gate is open.
    pub fn is_open(&self) -> bool {
        *self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the gate opens (`true`) or `give_up` says the wait is no longer worth it
    /// (`false`); `give_up` is asked at least every `poll`.
    pub fn wait(&self, poll: Duration, mut give_up: impl FnMut() -> bool) -> bool {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if *open {
                return true;
            }
            if give_up() {
                return false;
            }
            open = self
                .opened
                .wait_timeout(open, poll)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn a_waiter_passes_once_the_gate_opens() {
        let gate = Gate::new();
        assert!(!gate.is_open());
        std::thread::scope(|s| {
            let waiter = s.spawn(|| gate.wait(Duration::from_secs(60), || false));
            std::thread::sleep(Duration::from_millis(20));
            gate.open();
            assert!(waiter.join().unwrap());
        });
        assert!(gate.is_open());
        assert!(
            gate.wait(Duration::from_secs(60), || true),
            "open stays open"
        );
    }

    #[test]
    fn a_waiter_leaves_when_it_gives_up() {
        let gate = Gate::new();
        let done = AtomicBool::new(false);
        std::thread::scope(|s| {
            let waiter =
                s.spawn(|| gate.wait(Duration::from_millis(5), || done.load(Ordering::SeqCst)));
            std::thread::sleep(Duration::from_millis(20));
            done.store(true, Ordering::SeqCst);
            assert!(!waiter.join().unwrap());
        });
        assert!(!gate.is_open());
    }
}
