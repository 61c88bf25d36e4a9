//! A concurrent memo: values computed at most once per key, where computing one key never
//! blocks a thread that needs another (subset caches, a sweep's frozen evaluation features).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Values computed at most once per key. The map's lock is held only to find a key's cell;
/// threads asking for the same key wait on that cell while the first computes it. Failures
/// are kept too (callers memoise deterministic computations only).
pub struct OnceMap<V> {
    cells: Mutex<HashMap<String, OnceCell<V>>>,
}

/// One key's slot in a [`OnceMap`].
type OnceCell<V> = Arc<OnceLock<Result<Arc<V>, String>>>;

impl<V> Default for OnceMap<V> {
    fn default() -> Self {
        Self {
            cells: Mutex::new(HashMap::new()),
        }
    }
}

impl<V> OnceMap<V> {
    /// The value of `key`, computed by `compute` if no thread has computed it yet.
    pub fn get_or_compute(
        &self,
        key: String,
        compute: impl FnOnce() -> Result<V, String>,
    ) -> Result<Arc<V>, String> {
        let cell = self
            .cells
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone();
        cell.get_or_init(|| compute().map(Arc::new)).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn each_key_is_computed_once_across_threads_and_failures_are_kept() {
        let map = OnceMap::<usize>::default();
        let calls = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    let v = map
                        .get_or_compute("a".into(), || {
                            calls.fetch_add(1, Ordering::SeqCst);
                            Ok(7)
                        })
                        .unwrap();
                    assert_eq!(*v, 7);
                });
            }
        });
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(
            map.get_or_compute("b".into(), || Err("no".into()))
                .unwrap_err(),
            "no"
        );
        assert_eq!(map.get_or_compute("b".into(), || Ok(1)).unwrap_err(), "no");
    }
}
