//! The one waiter of `deploy`: poll until a condition holds, with exponential
//! backoff and jitter, an explicit deadline, progress events and a typed
//! [`Error::Timeout`] that names what was awaited and the last state seen.
//!
//! Backends call it for every long operation (a database becoming available,
//! a node pool becoming active, a copy or restore job finishing).

use std::future::Future;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::observe::{Event, Observer};

/// What one poll saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Poll<T> {
    /// The condition holds; the wait ends with this value.
    Ready(T),
    /// Not yet; the state seen (`creating`, `modifying`, ...).
    Pending(String),
    /// The resource reached a state it will not leave (`failed`,
    /// `incompatible-parameters`): the wait ends with an error.
    Failed(String),
}

/// How to wait: backoff between polls and the deadline.
///
/// ```
/// # tokio_test_shim::block_on(async {
/// use std::time::Duration;
/// use deploy_core::waiter::{Poll, Waiter};
/// let waiter = Waiter::new(Duration::from_secs(5)).with_delays(Duration::from_millis(1), Duration::from_millis(10));
/// let mut polls = 0;
/// let value = waiter
///     .wait("the answer", || {
///         polls += 1;
///         let n = polls;
///         async move { Ok(if n < 3 { Poll::Pending(format!("poll {n}")) } else { Poll::Ready(42) }) }
///     })
///     .await
///     .unwrap();
/// assert_eq!((value, polls), (42, 3));
/// # });
/// # mod tokio_test_shim { pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f) } }
/// ```
#[derive(Clone, Debug)]
pub struct Waiter {
    timeout: Duration,
    min_delay: Duration,
    max_delay: Duration,
    factor: f32,
    jitter: bool,
    observer: Observer,
}

impl Waiter {
    /// A waiter that gives up after `timeout`, polling first after 1 s and at
    /// most every 30 s, with jitter.
    pub fn new(timeout: Duration) -> Self {
        Waiter {
            timeout,
            min_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            factor: 2.0,
            jitter: true,
            observer: Observer::default(),
        }
    }

    /// The wait for provisioning a managed resource (a database instance or
    /// cluster, a Kubernetes cluster or node pool, a backup job, an ARM
    /// long-running operation): up to 60 minutes, polling after 1 s and then at
    /// most every 30 s. An RDS instance takes 5 to 20 minutes, an AKS cluster 5 to 10.
    ///
    /// The presets are the one place where the waits of every backend are set;
    /// each backend takes the caller's own waiter too (`with_waiter`).
    pub fn provisioning() -> Self {
        Waiter::new(Duration::from_secs(60 * 60)).with_delays(Duration::from_secs(1), Duration::from_secs(30))
    }

    /// The wait for a network piece to become available (a VPC, a subnet, a
    /// VPC endpoint): up to 10 minutes, polling after 1 s and at most every 15 s.
    pub fn network() -> Self {
        Waiter::new(Duration::from_secs(10 * 60)).with_delays(Duration::from_secs(1), Duration::from_secs(15))
    }

    /// The wait for a server-side copy of one object (Azure's asynchronous Copy
    /// Blob): up to 30 minutes, polling after 200 ms and at most every 10 s.
    pub fn copy() -> Self {
        Waiter::new(Duration::from_secs(30 * 60)).with_delays(Duration::from_millis(200), Duration::from_secs(10))
    }

    /// The wait for a database snapshot (of a large instance it takes hours):
    /// up to 6 hours, polling after 500 ms and at most every 30 s.
    pub fn snapshot() -> Self {
        Waiter::new(Duration::from_secs(6 * 3600)).with_delays(Duration::from_millis(500), Duration::from_secs(30))
    }

    /// The wait of the in-memory backends, whose simulated delays are
    /// milliseconds: up to 60 s, polling after 5 ms and at most every 50 ms.
    pub fn simulated() -> Self {
        Waiter::new(Duration::from_secs(60)).with_delays(Duration::from_millis(5), Duration::from_millis(50))
    }

    /// Set the first and the largest delay between polls.
    #[must_use]
    pub fn with_delays(mut self, min: Duration, max: Duration) -> Self {
        self.min_delay = min;
        self.max_delay = max.max(min);
        self
    }

    /// Set the growth factor of the delay (default 2).
    #[must_use]
    pub fn with_factor(mut self, factor: f32) -> Self {
        self.factor = factor.max(1.0);
        self
    }

    /// Turn jitter off (deterministic delays, for tests).
    #[must_use]
    pub fn without_jitter(mut self) -> Self {
        self.jitter = false;
        self
    }

    setters! {
        /// Send progress events to `observer`.
        pub fn with_observer(observer: Observer);
    }

    /// The deadline of one wait.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The observer.
    pub fn observer(&self) -> &Observer {
        &self.observer
    }

    /// Poll `poll` until it answers [`Poll::Ready`].
    ///
    /// A retryable error from a poll (throttling, a 5xx) is taken as one more
    /// pending state; any other error ends the wait.
    ///
    /// # Errors
    /// [`Error::Timeout`] naming `what` and the last state seen when the deadline
    /// passes, also in the middle of a poll that does not answer; [`Error::Conflict`] when a poll answers [`Poll::Failed`]; the
    /// poll's own error when it is not retryable.
    pub async fn wait<T, F, Fut>(&self, what: &str, mut poll: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Poll<T>>>,
    {
        let start = Instant::now();
        let deadline = start + self.timeout;
        self.observer.emit(Event::WaitStarted { what: what.to_owned(), timeout: self.timeout });
        let mut builder = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_factor(self.factor)
            .without_max_times();
        if self.jitter {
            builder = builder.with_jitter();
        }
        let mut delays = builder.build();
        let mut last_state = String::from("no answer yet");
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            // The deadline bounds each poll too: a poll that never answers ends the
            // wait on time (a poll starting at the deadline still gets up to a second).
            let budget = deadline.saturating_duration_since(Instant::now()).max(self.timeout.min(Duration::from_secs(1)));
            let polled = match tokio::time::timeout(budget, poll()).await {
                Ok(polled) => polled,
                Err(_) => {
                    return Err(Error::Timeout {
                        what: what.to_owned(),
                        elapsed: start.elapsed(),
                        last_state: format!("{last_state} (poll {attempt} did not answer before the deadline)"),
                    });
                }
            };
            match polled {
                Ok(Poll::Ready(value)) => {
                    self.observer.emit(Event::WaitFinished { what: what.to_owned(), elapsed: start.elapsed() });
                    return Ok(value);
                }
                Ok(Poll::Failed(state)) => {
                    return Err(Error::Conflict {
                        kind: "wait",
                        name: what.to_owned(),
                        reason: format!("reached state `{state}`, which it will not leave"),
                    });
                }
                Ok(Poll::Pending(state)) => last_state = state,
                Err(e) if e.is_retryable() => last_state = format!("error: {e}"),
                Err(e) => return Err(e),
            }
            self.observer.emit(Event::WaitPolled { what: what.to_owned(), state: last_state.clone(), attempt, elapsed: start.elapsed() });
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Timeout { what: what.to_owned(), elapsed: now - start, last_state });
            }
            let delay = delays.next().unwrap_or(self.max_delay).min(self.max_delay);
            tokio::time::sleep(delay.min(deadline - now)).await;
        }
    }
}

impl Default for Waiter {
    /// 30 minutes: long enough for an EKS cluster or an AKS node pool.
    fn default() -> Self {
        Waiter::new(Duration::from_secs(30 * 60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[tokio::test(start_paused = true)]
    async fn times_out_naming_what_and_last_state() {
        let waiter = Waiter::new(Duration::from_secs(60));
        let mut n = 0;
        let err = waiter
            .wait::<(), _, _>("database prod to be available", || {
                n += 1;
                let n = n;
                async move { Ok(Poll::Pending(format!("creating ({n})"))) }
            })
            .await
            .unwrap_err();
        match err {
            Error::Timeout { what, last_state, elapsed } => {
                assert_eq!(what, "database prod to be available");
                assert!(last_state.starts_with("creating ("), "{last_state}");
                assert!(elapsed >= Duration::from_secs(60) && elapsed < Duration::from_secs(61), "{elapsed:?}");
            }
            other => panic!("expected Timeout, got {other:?}"),
        }
        assert!(n > 3 && n < 20, "polled {n} times in 60 s with backoff from 1 s to 30 s");
    }

    #[tokio::test(start_paused = true)]
    async fn a_poll_that_never_answers_ends_at_the_deadline() {
        let waiter = Waiter::new(Duration::from_secs(30)).with_delays(Duration::from_secs(1), Duration::from_secs(1));
        let mut n = 0;
        let start = Instant::now();
        let err = waiter
            .wait::<(), _, _>("copy c to finish", || {
                n += 1;
                let n = n;
                async move {
                    if n < 3 {
                        Ok(Poll::Pending("pending".into()))
                    } else {
                        std::future::pending::<()>().await;
                        unreachable!()
                    }
                }
            })
            .await
            .unwrap_err();
        assert!(
            start.elapsed() >= Duration::from_secs(30) && start.elapsed() <= Duration::from_secs(31),
            "the hung poll was not cut at the deadline: {:?}",
            start.elapsed()
        );
        match err {
            Error::Timeout { what, last_state, .. } => {
                assert_eq!(what, "copy c to finish");
                assert!(last_state.starts_with("pending (poll 3 did not answer"), "{last_state}");
            }
            other => panic!("expected Timeout, got {other:?}"),
        }
        assert!(!Error::Timeout { what: String::new(), elapsed: Duration::ZERO, last_state: String::new() }.is_retryable());
    }

    #[tokio::test(start_paused = true)]
    async fn backs_off_exponentially_up_to_the_cap() {
        let waiter = Waiter::new(Duration::from_secs(600)).with_delays(Duration::from_secs(1), Duration::from_secs(8)).without_jitter();
        let times = Arc::new(Mutex::new(Vec::new()));
        let start = Instant::now();
        let t = times.clone();
        waiter
            .wait("x", || {
                t.lock().unwrap().push(start.elapsed().as_secs());
                let n = t.lock().unwrap().len();
                async move { Ok(if n >= 7 { Poll::Ready(()) } else { Poll::Pending("pending".into()) }) }
            })
            .await
            .unwrap();
        assert_eq!(*times.lock().unwrap(), vec![0, 1, 3, 7, 15, 23, 31]);
    }

    #[tokio::test(start_paused = true)]
    async fn retryable_errors_are_pending_and_others_end_the_wait() {
        let waiter = Waiter::new(Duration::from_secs(60)).with_delays(Duration::from_millis(10), Duration::from_millis(10));
        let mut n = 0;
        let v = waiter
            .wait("x", || {
                n += 1;
                let n = n;
                async move {
                    if n < 3 {
                        Err(Error::Throttled { provider: "test", message: "slow down".into(), source: None })
                    } else {
                        Ok(Poll::Ready(n))
                    }
                }
            })
            .await
            .unwrap();
        assert_eq!(v, 3);
        let err = waiter.wait::<(), _, _>("y", || async { Err(Error::not_found("database", "y")) }).await.unwrap_err();
        assert!(err.is_not_found());
        let err = waiter.wait::<(), _, _>("z", || async { Ok(Poll::Failed("failed".into())) }).await.unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn emits_progress_events() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let e = events.clone();
        let waiter = Waiter::new(Duration::from_secs(60))
            .with_delays(Duration::from_millis(10), Duration::from_millis(10))
            .with_observer(Observer::new(move |ev| e.lock().unwrap().push(ev.clone())));
        let mut n = 0;
        waiter
            .wait("cluster c", || {
                n += 1;
                let n = n;
                async move { Ok(if n < 2 { Poll::Pending("creating".into()) } else { Poll::Ready(()) }) }
            })
            .await
            .unwrap();
        let events = events.lock().unwrap();
        assert!(matches!(&events[0], Event::WaitStarted { what, .. } if what == "cluster c"));
        assert!(matches!(&events[1], Event::WaitPolled { state, attempt: 1, .. } if state == "creating"));
        assert!(matches!(&events[2], Event::WaitFinished { .. }));
        assert_eq!(events.len(), 3);
    }
}
