//! The one convention of every resource of every backend: a required
//! `reconcile(spec, mode)` and thin `plan` / `ensure` helpers over it.
//!
//! - [`Mode::Plan`] changes nothing and answers the changes [`Mode::Apply`]
//!   would make;
//! - [`Mode::Apply`] creates what is missing, leaves what matches alone and
//!   updates what drifted, and answers the changes it made. A second `Apply`
//!   with the same spec makes no mutating request.
//!
//! The five cloud-neutral traits are object-safe, so each names its resource
//! (`ObjectStore::reconcile_bucket`, `Database::reconcile_database`, ...) and
//! provides `plan_*` / `ensure_*` over it. The typed modules of the provider
//! crates (keys, roles, networks, DNS zones, ARM resources) implement the
//! generic [`Reconcile`] trait once per spec type, which provides
//! [`Reconcile::plan`] and [`Reconcile::ensure`]:
//!
//! ```
//! use deploy_core::reconcile::{Mode, Reconcile, Reconciled};
//! use deploy_core::{Change, Plan, Result};
//!
//! /// A toy backend holding one number.
//! struct Counter(std::sync::Mutex<u32>);
//!
//! #[async_trait::async_trait]
//! impl Reconcile<u32> for Counter {
//!     type Info = u32;
//!     async fn reconcile(&self, spec: &u32, mode: Mode) -> Result<Reconciled<u32>> {
//!         let mut value = self.0.lock().unwrap();
//!         let mut plan = Plan::new();
//!         if *value != *spec {
//!             plan.push(Change::update("counter", "c", vec![deploy_core::FieldChange::new("value", *value, *spec)]));
//!             if mode.is_apply() {
//!                 *value = *spec;
//!             }
//!         }
//!         Ok(Reconciled { plan, info: Some(*value) })
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let counter = Counter(std::sync::Mutex::new(1));
//! assert_eq!(counter.plan(&2).await?.len(), 1);
//! let ensured = counter.ensure(&2).await?;
//! assert_eq!((ensured.info, ensured.plan.len()), (2, 1));
//! assert!(counter.ensure(&2).await?.plan.is_empty());
//! # Ok::<(), deploy_core::Error>(())
//! # }).unwrap();
//! ```

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::plan::Plan;

/// Whether a reconcile only plans or also applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Change nothing: answer what [`Mode::Apply`] would do.
    #[default]
    Plan,
    /// Create what is missing, update what drifted, answer what was done.
    Apply,
}

impl Mode {
    /// Whether changes are made.
    pub fn is_apply(self) -> bool {
        self == Mode::Apply
    }
}

/// What a reconcile answers: the changes (planned, or made) and the resource
/// as it is afterwards — `None` only when planning a resource that does not
/// exist yet.
#[derive(Clone, Debug)]
pub struct Reconciled<T> {
    /// The changes planned ([`Mode::Plan`]) or made ([`Mode::Apply`]).
    pub plan: Plan,
    /// The resource as it is now.
    pub info: Option<T>,
}

/// What [`Reconcile::ensure`] answers: the resource as it is now, and the
/// changes made (empty when it already matched).
#[derive(Clone, Debug)]
pub struct Ensured<T> {
    /// The resource.
    pub info: T,
    /// The changes made.
    pub plan: Plan,
}

/// One kind of resource, described by a spec `S`, that a backend can bring to
/// that spec. Implement [`Reconcile::reconcile`]; [`Reconcile::plan`] and
/// [`Reconcile::ensure`] come with it.
#[async_trait]
pub trait Reconcile<S: Sync + ?Sized>: Sync {
    /// What the backend reports of the resource.
    type Info: Send;

    /// Compare the resource with `spec` and, in [`Mode::Apply`], bring it there.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad spec (before any request); the backend's errors.
    async fn reconcile(&self, spec: &S, mode: Mode) -> Result<Reconciled<Self::Info>>;

    /// The changes [`Reconcile::ensure`] would make; changes nothing.
    ///
    /// # Errors
    /// As [`Reconcile::reconcile`].
    async fn plan(&self, spec: &S) -> Result<Plan> {
        Ok(self.reconcile(spec, Mode::Plan).await?.plan)
    }

    /// Bring the resource to `spec`; a second call makes no mutating request.
    ///
    /// # Errors
    /// As [`Reconcile::reconcile`].
    async fn ensure(&self, spec: &S) -> Result<Ensured<Self::Info>> {
        let Reconciled { plan, info } = self.reconcile(spec, Mode::Apply).await?;
        let info = info.ok_or_else(|| Error::Provider {
            provider: "deploy",
            operation: "ensure".into(),
            message: "the backend applied the spec but reported no resource".into(),
            retryable: false,
            source: None,
        })?;
        Ok(Ensured { info, plan })
    }
}
