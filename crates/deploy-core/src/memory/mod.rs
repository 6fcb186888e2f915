//! In-memory backends of all five traits: the embedded default of the
//! quickstart and the test double for downstream users.
//!
//! [`InMemoryCloud`] is cheap to clone (clones share state) and implements
//! [`crate::Cluster`], [`crate::Database`], [`crate::ObjectStore`],
//! [`crate::SecretStore`] and [`crate::BackupVault`]. It behaves like a cloud
//! where it matters to callers:
//! - resources take a configurable time to provision, so waiters really wait;
//! - deletion protection and confirmations are enforced;
//! - buckets keep object versions, and listings page (1,000 keys a page);
//! - conditional reads, writes, copies and deletes are honoured (entity tags
//!   change at every write, as Azure's do);
//! - a fault hook fails the next N calls, or the next N calls of one
//!   operation, with a retryable error;
//! - every call is recorded ([`InMemoryCloud::calls`]) with whether it mutates,
//!   so tests can prove that a second `ensure` changes nothing.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use deploy_core::memory::InMemoryCloud;
//! use deploy_core::{BucketName, BucketSpec, ObjectStore};
//! let cloud = InMemoryCloud::new();
//! let spec = BucketSpec::new(BucketName::new("prod-assets").unwrap());
//! assert_eq!(cloud.ensure_bucket(&spec).await.unwrap().len(), 1);
//! assert!(cloud.ensure_bucket(&spec).await.unwrap().is_empty());
//! # });
//! ```

mod backup;
mod cluster;
mod database;
mod objects;
mod secrets;
mod state;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::object_store::KeyOrder;
use crate::observe::Observer;
use crate::plan::Plan;
use crate::reconcile::Mode;
use crate::waiter::Waiter;
use state::State;

/// Settings of an [`InMemoryCloud`].
#[derive(Clone, Debug)]
pub struct MemoryConfig {
    /// How long creating or changing a cluster, database, snapshot or recovery point takes.
    pub provisioning_delay: Duration,
    /// Keys per listing page.
    pub list_page_size: usize,
    /// How waits are done.
    pub waiter: Waiter,
    /// The order listings answer keys in: [`KeyOrder::Utf8`] (as S3, the
    /// default) or [`KeyOrder::Utf16`] (as Azure Blob Storage), to test code
    /// that merges listings of two kinds of store.
    pub key_order: KeyOrder,
}

impl Default for MemoryConfig {
    /// Instant provisioning, 1,000 keys a page, waits polling every 5 to 50 ms for up to a minute.
    fn default() -> Self {
        MemoryConfig { provisioning_delay: Duration::ZERO, list_page_size: 1000, waiter: Waiter::simulated(), key_order: KeyOrder::Utf8 }
    }
}

/// One recorded call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The operation (`ensure_bucket`, `put`, ...).
    pub op: &'static str,
    /// Whether it changes state.
    pub mutating: bool,
}

#[derive(Default)]
struct Faults {
    next: u32,
    /// Per operation: calls to let through first, then calls to fail.
    by_op: BTreeMap<String, (u32, u32)>,
}

/// All five traits, in memory. See the [module docs](self).
#[derive(Clone)]
pub struct InMemoryCloud {
    inner: Arc<Inner>,
}

struct Inner {
    config: MemoryConfig,
    state: Mutex<State>,
    faults: Mutex<Faults>,
    calls: Mutex<Vec<Call>>,
}

impl InMemoryCloud {
    /// An empty cloud with the default settings.
    pub fn new() -> Self {
        InMemoryCloud::with_config(MemoryConfig::default())
    }

    /// An empty cloud.
    pub fn with_config(config: MemoryConfig) -> Self {
        InMemoryCloud { inner: Arc::new(Inner { config, state: Mutex::default(), faults: Mutex::default(), calls: Mutex::default() }) }
    }

    /// An empty cloud whose resources take `delay` to provision.
    pub fn with_provisioning_delay(delay: Duration) -> Self {
        InMemoryCloud::with_config(MemoryConfig { provisioning_delay: delay, ..MemoryConfig::default() })
    }

    /// Send the progress events of waits to `observer`.
    #[must_use]
    pub fn with_observer(self, observer: Observer) -> Self {
        let mut config = self.inner.config.clone();
        config.waiter = config.waiter.with_observer(observer);
        InMemoryCloud::with_config(config)
    }

    /// The settings.
    pub fn config(&self) -> &MemoryConfig {
        &self.inner.config
    }

    /// Fail the next `n` calls, whatever they are, with a retryable error.
    pub fn fail_next(&self, n: u32) {
        lock(&self.inner.faults).next = n;
    }

    /// Fail the next `n` calls of operation `op` (`put`, `copy`, `ensure_database`, ...)
    /// with a retryable error.
    pub fn fail_op(&self, op: &str, n: u32) {
        self.fail_op_after(op, 0, n);
    }

    /// Let the next `skip` calls of operation `op` through, then fail `n`
    /// (a failure at a given step: the last `put` of a snapshot is its manifest).
    pub fn fail_op_after(&self, op: &str, skip: u32, n: u32) {
        lock(&self.inner.faults).by_op.insert(op.to_owned(), (skip, n));
    }

    /// Every call made so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.inner.calls).clone()
    }

    /// The calls that changed state.
    pub fn mutating_calls(&self) -> Vec<Call> {
        lock(&self.inner.calls).iter().filter(|c| c.mutating).cloned().collect()
    }

    /// How many calls of `op` were made.
    pub fn count(&self, op: &str) -> usize {
        lock(&self.inner.calls).iter().filter(|c| c.op == op).count()
    }

    /// Forget the recorded calls.
    pub fn reset_calls(&self) {
        lock(&self.inner.calls).clear();
    }

    /// Record a `reconcile_KIND` call under the name the call counts use
    /// (`plan_KIND`, or `ensure_KIND`: mutating when `plan` has changes) and
    /// apply the fault hook. `Ok(true)` in [`Mode::Apply`].
    fn enter_reconcile(&self, mode: Mode, [plan_op, ensure_op]: [&'static str; 2], plan: &Plan) -> Result<bool> {
        let apply = mode.is_apply();
        self.enter(if apply { ensure_op } else { plan_op }, apply && plan.has_mutations())?;
        Ok(apply)
    }

    /// Record a call and apply the fault hook.
    fn enter(&self, op: &'static str, mutating: bool) -> Result<()> {
        lock(&self.inner.calls).push(Call { op, mutating });
        let mut faults = lock(&self.inner.faults);
        let injected = if faults.next > 0 {
            faults.next -= 1;
            true
        } else if let Some((skip, n)) = faults.by_op.get_mut(op).filter(|(_, n)| *n > 0) {
            if *skip > 0 {
                *skip -= 1;
                false
            } else {
                *n -= 1;
                true
            }
        } else {
            false
        };
        if injected {
            return Err(Error::Provider {
                provider: "memory",
                operation: op.to_owned(),
                message: "injected fault".to_owned(),
                retryable: true,
                source: None,
            });
        }
        Ok(())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.inner.state)
    }

    fn waiter(&self) -> &Waiter {
        &self.inner.config.waiter
    }

    fn ready_at(&self) -> Instant {
        Instant::now() + self.inner.config.provisioning_delay
    }
}

impl Default for InMemoryCloud {
    fn default() -> Self {
        InMemoryCloud::new()
    }
}

impl fmt::Debug for InMemoryCloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryCloud").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

/// Lock a mutex, recovering from poisoning (a panicking test must not wedge the others).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
