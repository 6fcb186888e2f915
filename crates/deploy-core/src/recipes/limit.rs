//! Adaptive concurrency for the copy recipes: additive increase,
//! multiplicative decrease (AIMD). A throttling answer (S3 `SlowDown`, HTTP
//! 429/503) halves the number of copies allowed in flight; a run of successes
//! as long as the current limit raises it by one, up to the configured
//! concurrency. So a recipe slows down instead of hammering a server that
//! asks it to, and speeds up again when the server recovers.

use std::pin::pin;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::Notify;

#[derive(Debug)]
struct State {
    limit: usize,
    in_flight: usize,
    successes: usize,
    lowest: usize,
    throttled: u64,
    /// Bumped at every decrease: throttling answers to requests sent before
    /// the last decrease are the same congestion, already answered.
    generation: u64,
}

/// An AIMD limit on concurrent operations.
#[derive(Debug)]
pub(crate) struct AdaptiveLimit {
    max: usize,
    state: Mutex<State>,
    notify: Notify,
}

/// One operation in flight; dropping it frees its slot.
pub(crate) struct Permit<'a> {
    limit: &'a AdaptiveLimit,
    generation: u64,
}

impl AdaptiveLimit {
    pub(crate) fn new(max: usize) -> Self {
        let max = max.max(1);
        AdaptiveLimit {
            max,
            state: Mutex::new(State { limit: max, in_flight: 0, successes: 0, lowest: max, throttled: 0, generation: 0 }),
            notify: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Wait for a slot under the current limit.
    pub(crate) async fn acquire(&self) -> Permit<'_> {
        loop {
            let mut notified = pin!(self.notify.notified());
            notified.as_mut().enable();
            {
                let mut s = self.state();
                if s.in_flight < s.limit {
                    s.in_flight += 1;
                    return Permit { limit: self, generation: s.generation };
                }
            }
            notified.await;
        }
    }

    /// The server asked us to slow down: halve the limit, once per burst.
    fn throttled(&self, generation: u64) {
        let mut s = self.state();
        s.throttled += 1;
        if generation == s.generation {
            s.generation += 1;
            s.limit = (s.limit / 2).max(1);
            s.lowest = s.lowest.min(s.limit);
            s.successes = 0;
        }
    }

    /// One more success: after as many successes as the limit, raise it by one.
    fn succeeded(&self) {
        let mut s = self.state();
        s.successes += 1;
        if s.successes >= s.limit && s.limit < self.max {
            s.limit += 1;
            s.successes = 0;
            drop(s);
            self.notify.notify_waiters();
        }
    }

    /// How many throttling answers were seen, and the lowest limit reached.
    pub(crate) fn stats(&self) -> (u64, usize) {
        let s = self.state();
        (s.throttled, s.lowest)
    }
}

impl Permit<'_> {
    /// The request this permit let through was throttled.
    pub(crate) fn throttled(&self) {
        self.limit.throttled(self.generation);
    }

    /// The request this permit let through succeeded.
    pub(crate) fn succeeded(&self) {
        self.limit.succeeded();
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.limit.state().in_flight -= 1;
        self.limit.notify.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn halves_once_per_burst_and_recovers_one_by_one() {
        let limit = AdaptiveLimit::new(16);
        let burst: Vec<Permit<'_>> = futures::future::join_all((0..4).map(|_| limit.acquire())).await;
        for p in &burst {
            p.throttled();
        }
        assert_eq!(limit.state().limit, 8, "four answers to one burst halve the limit once");
        drop(burst);
        let later = limit.acquire().await;
        later.throttled();
        assert_eq!(limit.state().limit, 4, "a request sent after the decrease halves it again");
        drop(later);
        for _ in 0..4 {
            limit.acquire().await.succeeded();
        }
        assert_eq!(limit.state().limit, 5);
        assert_eq!(limit.stats(), (5, 4));
    }

    #[tokio::test]
    async fn never_lets_more_than_the_limit_in() {
        let limit = AdaptiveLimit::new(3);
        let a = limit.acquire().await;
        let _b = limit.acquire().await;
        let _c = limit.acquire().await;
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(20), limit.acquire()).await;
        assert!(waiting.is_err(), "a fourth permit was handed out");
        drop(a);
        let _d = tokio::time::timeout(std::time::Duration::from_millis(200), limit.acquire()).await.expect("a freed slot is handed out");
    }
}
