//! The keyring's call machinery: one long-lived thread per store runs every
//! Secret Service call in order, and callers wait for their answer.
//!
//! A thread per call let thousands of concurrent reads queue on the one D-Bus
//! connection, each with its own clock, so the late ones "timed out" behind
//! the others (or no thread could be made). Here the timeout means the
//! Secret Service made no progress for that long: a caller keeps waiting
//! while calls ahead of it complete, and gives up once none has completed
//! within the timeout (a hung service), with `KEYRING_UNAVAILABLE`. Identical
//! reads that have not started yet share one call (single flight); a read
//! never joins one already running, so it always sees every write that
//! finished before it was asked.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::error::{Cause, Error, Result};
use crate::secret::Secret;

type Read<C> = fn(&C, &str) -> Result<Option<Secret>>;
type Reply = Sender<Result<Option<Secret>>>;

pub struct Worker<C: Send + Sync + 'static> {
    shared: Arc<Shared<C>>,
    timeout: Duration,
}

struct Shared<C> {
    context: C,
    read: Read<C>,
    queue: Mutex<Queue<C>>,
    wake: Condvar,
    /// Calls completed so far: what "progress" means to a waiting caller.
    completed: AtomicU64,
    /// Set while the thread runs a job (see [`Worker::idle`]).
    busy: AtomicBool,
}

struct Queue<C> {
    jobs: VecDeque<Job<C>>,
    /// Reads queued and not yet started, by key, with everyone waiting for them.
    pending_reads: HashMap<String, Vec<Reply>>,
    started: bool,
}

enum Job<C> {
    Read(String),
    Call {
        run: Box<dyn FnOnce(&C) + Send>,
        /// Set by a caller that gave up: a write it reported as failed must
        /// not happen later, if it has not started yet.
        abandoned: Arc<AtomicBool>,
    },
}

impl<C: Send + Sync + 'static> Worker<C> {
    /// A worker over `context`; its thread starts with the first call.
    pub fn new(context: C, read: Read<C>, timeout: Duration) -> Self {
        Worker {
            shared: Arc::new(Shared {
                context,
                read,
                queue: Mutex::new(Queue {
                    jobs: VecDeque::new(),
                    pending_reads: HashMap::new(),
                    started: false,
                }),
                wake: Condvar::new(),
                completed: AtomicU64::new(0),
                busy: AtomicBool::new(false),
            }),
            timeout,
        }
    }

    /// Runs `op` on the worker and waits for its result.
    ///
    /// # Errors
    /// What `op` returns; `KEYRING_UNAVAILABLE` when the worker made no
    /// progress within the timeout; `STORE_ERROR` when no thread can be made.
    pub fn call<T: Send + 'static>(
        &self,
        op: impl FnOnce(&C) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = mpsc::channel();
        let abandoned = Arc::new(AtomicBool::new(false));
        self.submit(|queue| {
            queue.jobs.push_back(Job::Call {
                run: Box::new(move |context| {
                    let _ = tx.send(op(context));
                }),
                abandoned: Arc::clone(&abandoned),
            });
        })?;
        self.wait(&rx, &abandoned)
    }

    /// The context, for a caller that may do a call itself when the worker is
    /// [`idle`](Self::idle) (it must bring its own timeout).
    pub fn context(&self) -> &C {
        &self.shared.context
    }

    /// Whether no call is queued or running: a call made on the caller's
    /// thread now neither overtakes a queued one nor waits behind it.
    pub fn idle(&self) -> bool {
        let queue = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
        queue.jobs.is_empty() && !self.shared.busy.load(Ordering::SeqCst)
    }

    /// The `read` of `key`, shared with an identical read still waiting in the queue.
    pub fn read(&self, key: &str) -> Result<Option<Secret>> {
        let (tx, rx) = mpsc::channel();
        self.submit(|queue| match queue.pending_reads.get_mut(key) {
            Some(waiting) => waiting.push(tx),
            None => {
                queue.pending_reads.insert(key.to_string(), vec![tx]);
                queue.jobs.push_back(Job::Read(key.to_string()));
            }
        })?;
        self.wait(&rx, &AtomicBool::new(false))
    }

    fn submit(&self, enqueue: impl FnOnce(&mut Queue<C>)) -> Result<()> {
        let mut queue = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
        if !queue.started {
            let shared = Arc::clone(&self.shared);
            std::thread::Builder::new()
                .name("tfx-auth-keyring".into())
                .spawn(move || shared.run())
                .map_err(|e| {
                    Error::store(
                        "cannot start the keyring worker thread",
                        Some(Box::new(e) as Cause),
                    )
                })?;
            queue.started = true;
        }
        enqueue(&mut queue);
        self.shared.wake.notify_one();
        Ok(())
    }

    fn wait<T>(&self, rx: &mpsc::Receiver<Result<T>>, abandoned: &AtomicBool) -> Result<T> {
        let mut seen = self.shared.completed.load(Ordering::SeqCst);
        loop {
            match rx.recv_timeout(self.timeout) {
                Ok(result) => return result,
                Err(RecvTimeoutError::Timeout) => {
                    let now = self.shared.completed.load(Ordering::SeqCst);
                    if now != seen {
                        seen = now; // calls ahead of ours are completing: keep waiting
                        continue;
                    }
                    abandoned.store(true, Ordering::SeqCst);
                    return Err(Error::KeyringUnavailable {
                        reason: format!(
                            "the Secret Service did not answer within {} ms",
                            self.timeout.as_millis()
                        ),
                        source: None,
                    });
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::store(
                        "the keyring call ended without a result",
                        None,
                    ));
                }
            }
        }
    }
}

impl<C> Shared<C> {
    fn run(&self) {
        loop {
            let job = {
                let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
                loop {
                    let next = queue.jobs.pop_front();
                    self.busy.store(next.is_some(), Ordering::SeqCst);
                    match next {
                        Some(Job::Read(key)) => {
                            // Started: later reads of this key queue anew.
                            let waiting = queue.pending_reads.remove(&key).unwrap_or_default();
                            break Some((key, waiting));
                        }
                        Some(Job::Call { run, abandoned }) => {
                            drop(queue);
                            if !abandoned.load(Ordering::SeqCst) {
                                self.guarded(|| run(&self.context));
                            }
                            self.completed.fetch_add(1, Ordering::SeqCst);
                            break None;
                        }
                        None => {
                            queue = self.wake.wait(queue).unwrap_or_else(|p| p.into_inner());
                        }
                    }
                }
            };
            if let Some((key, waiting)) = job {
                let result = self
                    .guarded(|| (self.read)(&self.context, &key))
                    .unwrap_or_else(|| Err(Error::store("the keyring read failed", None)));
                self.completed.fetch_add(1, Ordering::SeqCst);
                for reply in waiting {
                    let _ = reply.send(copy(&result));
                }
            }
            self.busy.store(false, Ordering::SeqCst);
        }
    }

    /// A panic in one call must not take the worker (and every later call) with it.
    fn guarded<T>(&self, f: impl FnOnce() -> T) -> Option<T> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
    }
}

/// One read's result for each of its waiters (causes are not shared).
fn copy(result: &Result<Option<Secret>>) -> Result<Option<Secret>> {
    match result {
        Ok(secret) => Ok(secret.clone()),
        Err(Error::KeyringUnavailable { reason, .. }) => Err(Error::KeyringUnavailable {
            reason: reason.clone(),
            source: None,
        }),
        Err(Error::KeyringLocked { hint, .. }) => Err(Error::KeyringLocked { hint, source: None }),
        Err(Error::Store { reason, .. }) => Err(Error::store(reason, None)),
        Err(other) => Err(Error::store(other.to_string(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;
    use zeroize::Zeroizing;

    struct Fake {
        reads: AtomicUsize,
        delay: Duration,
        hang: AtomicBool,
    }

    fn read(fake: &Fake, key: &str) -> Result<Option<Secret>> {
        fake.reads.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(fake.delay);
        while fake.hang.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(Some(Zeroizing::new(format!("secret of {key}"))))
    }

    fn worker(delay_ms: u64, timeout_ms: u64) -> Arc<Worker<Fake>> {
        let fake = Fake {
            reads: AtomicUsize::new(0),
            delay: Duration::from_millis(delay_ms),
            hang: AtomicBool::new(false),
        };
        Arc::new(Worker::new(fake, read, Duration::from_millis(timeout_ms)))
    }

    #[test]
    fn a_long_queue_is_not_a_timeout_while_calls_complete() {
        // 400 distinct calls of 2 ms (15 ms where sleeps are coarse, as under
        // Wine) each take 0.8-6 s, far past the 250 ms timeout; the timeout
        // leaves room for the worker's start on a loaded machine.
        let w = worker(2, 250);
        let threads: Vec<_> = (0..400)
            .map(|i| {
                let w = Arc::clone(&w);
                std::thread::spawn(move || w.read(&format!("k{i}")))
            })
            .collect();
        for (i, t) in threads.into_iter().enumerate() {
            let got = t.join().unwrap().unwrap().unwrap();
            assert_eq!(got.as_str(), format!("secret of k{i}"));
        }
    }

    #[test]
    fn identical_waiting_reads_share_one_call() {
        let w = worker(20, 5_000);
        let threads: Vec<_> = (0..500)
            .map(|i| {
                let w = Arc::clone(&w);
                std::thread::spawn(move || w.read(&format!("k{}", i % 3)))
            })
            .collect();
        for t in threads {
            assert!(t.join().unwrap().unwrap().is_some());
        }
        let reads = w.shared.context.reads.load(Ordering::SeqCst);
        assert!(reads < 50, "{reads} reads for 500 calls on 3 keys");
    }

    #[test]
    fn a_hung_service_fails_every_caller_after_the_timeout_and_recovers() {
        let w = worker(0, 100);
        w.shared.context.hang.store(true, Ordering::SeqCst);
        let start = Instant::now();
        let threads: Vec<_> = (0..20)
            .map(|i| {
                let w = Arc::clone(&w);
                std::thread::spawn(move || w.read(&format!("k{i}")))
            })
            .collect();
        for t in threads {
            let err = t.join().unwrap().unwrap_err();
            assert_eq!(err.code(), "KEYRING_UNAVAILABLE");
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        // A write given up on is not made later.
        let written = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&written);
        let err = w.call(move |_| {
            flag.store(true, Ordering::SeqCst);
            Ok(())
        });
        assert_eq!(err.unwrap_err().code(), "KEYRING_UNAVAILABLE");
        w.shared.context.hang.store(false, Ordering::SeqCst);
        assert!(w.read("after").unwrap().is_some());
        assert!(!written.load(Ordering::SeqCst));
    }

    #[test]
    fn a_panicking_call_does_not_stop_the_worker() {
        let w = worker(0, 1_000);
        let err = w.call(|_| -> Result<()> { panic!("boom") }).unwrap_err();
        assert_eq!(err.code(), "STORE_ERROR");
        assert_eq!(w.call(|_| Ok(7)).unwrap(), 7);
    }
}
