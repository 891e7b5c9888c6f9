//! `warmUp()`'s scheduling: reads ahead on one background worker at most,
//! each URL once per process, a bounded number of URLs. A thread per call
//! let a loop of calls exhaust the thread limit and abort Node; here a call
//! costs at most one entry in a small set, and a worker that cannot be
//! started only means no read-ahead.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

/// How many distinct URLs one process reads ahead; a command needs one.
pub const MAX_URLS: usize = 16;
/// Longer "URLs" are not remembered nor read ahead (no real one is this long).
const MAX_URL_BYTES: usize = 4096;

/// The read-ahead work for one URL (`None`: the default URL).
pub type Work = dyn Fn(Option<&str>) + Send + Sync;

pub struct Prewarmer {
    work: Box<Work>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Every URL asked for so far (bounded by `MAX_URLS`).
    seen: HashSet<Option<String>>,
    queue: VecDeque<Option<String>>,
    worker_running: bool,
}

impl Prewarmer {
    pub fn new(work: impl Fn(Option<&str>) + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Prewarmer {
            work: Box::new(work),
            state: Mutex::new(State::default()),
        })
    }

    /// Queues a read-ahead of `url` unless it was asked for before, the set
    /// of URLs is full, or the URL is absurdly long; starts the worker when
    /// none runs. Returns whether the URL was queued. Never fails.
    pub fn request(self: &Arc<Self>, url: Option<String>) -> bool {
        if url.as_ref().is_some_and(|u| u.len() > MAX_URL_BYTES) {
            return false;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.seen.contains(&url) || state.seen.len() >= MAX_URLS {
            return false;
        }
        state.seen.insert(url.clone());
        state.queue.push_back(url);
        if !state.worker_running {
            let me = Arc::clone(self);
            let started = std::thread::Builder::new()
                .name("tfx-auth-warm-up".into())
                .spawn(move || me.drain());
            // No thread to be had: skip the read-ahead, the real call reads itself.
            state.worker_running = started.is_ok();
            if !state.worker_running {
                state.queue.clear();
            }
        }
        true
    }

    fn drain(&self) {
        loop {
            let next = {
                let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
                match state.queue.pop_front() {
                    Some(url) => url,
                    None => {
                        state.worker_running = false;
                        return;
                    }
                }
            };
            // A panic in the work must not leave `worker_running` set forever.
            let work = std::panic::AssertUnwindSafe(|| (self.work)(next.as_deref()));
            let _ = std::panic::catch_unwind(work);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    fn wait_until(done: impl Fn() -> bool) {
        let start = Instant::now();
        while !done() {
            assert!(start.elapsed() < Duration::from_secs(10), "timed out");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn each_url_is_read_once_by_one_worker_and_the_set_is_bounded() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let runs = Arc::new(Mutex::new(Vec::new()));
        let (r, m, log) = (Arc::clone(&running), Arc::clone(&most), Arc::clone(&runs));
        let warm = Prewarmer::new(move |url| {
            let now = r.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(1));
            log.lock().unwrap().push(url.map(str::to_string));
            r.fetch_sub(1, Ordering::SeqCst);
        });
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let warm = Arc::clone(&warm);
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        warm.request(Some(format!("https://h{}.example/o", (i + t) % 100)));
                        warm.request(None);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        wait_until(|| !warm.state.lock().unwrap().worker_running);
        let runs = runs.lock().unwrap();
        assert_eq!(runs.len(), MAX_URLS, "{runs:?}");
        let distinct: HashSet<_> = runs.iter().collect();
        assert_eq!(distinct.len(), MAX_URLS, "each URL once");
        assert_eq!(most.load(Ordering::SeqCst), 1, "one worker at a time");
        assert!(!warm.request(Some("x".repeat(MAX_URL_BYTES + 1))));
    }

    #[test]
    fn a_panicking_read_ahead_does_not_stop_later_ones() {
        let done = Arc::new(AtomicUsize::new(0));
        let d = Arc::clone(&done);
        let warm = Prewarmer::new(move |url| {
            d.fetch_add(1, Ordering::SeqCst);
            assert!(url != Some("boom"), "the work panicked");
        });
        assert!(warm.request(Some("boom".into())));
        wait_until(|| done.load(Ordering::SeqCst) == 1);
        wait_until(|| !warm.state.lock().unwrap().worker_running);
        assert!(warm.request(Some("next".into())));
        wait_until(|| done.load(Ordering::SeqCst) == 2);
    }
}
