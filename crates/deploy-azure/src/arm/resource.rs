//! The one generic ARM resource helper.
//!
//! A typed resource of this module is an [`ArmSpec`]: its id, the body that
//! creates it, and how an existing one differs from the spec (with the request
//! that brings it there). It makes no call: [`ArmClient`] reconciles every
//! `ArmSpec` the same way — validate, GET, compare, and only in
//! [`Mode::Apply`] PUT or PATCH — through the [`Reconcile`] implementation
//! below, so that callers write `arm.plan(&spec)` / `arm.ensure(&spec)`.
//! Resources with steps of their own (a storage account and its blob service,
//! a role assignment's replication) compose the same pieces: [`Resource`] and
//! [`Resource::converge`].
//!
//! A new ARM resource type is a spec struct, its `validate`, and an
//! `impl ArmSpec` (see `group.rs` for the smallest one).

use std::borrow::Cow;
use std::collections::BTreeMap;

use async_trait::async_trait;
use deploy_core::Result;
use deploy_core::plan::{Change, Diff, FieldChange, Plan};
use deploy_core::reconcile::{Mode, Reconcile, Reconciled};
use serde_json::{Value, json};

use super::client::{ArmClient, Target};

/// An ARM resource as Resource Manager last answered it (what a reconcile of
/// an [`ArmSpec`] reports).
#[derive(Clone, Debug, PartialEq)]
pub struct ArmResource {
    /// Its resource id (`/subscriptions/.../providers/...`).
    pub id: String,
    /// Its JSON as read or as the write answered (`location`, `tags`, `properties`, ...).
    pub body: Value,
}

/// The request that brings an existing resource to its spec.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    /// Replace it with this body (the resource's `CreateOrUpdate`).
    Put(Value),
    /// Update it with this partial body (the resource's `Update`).
    Patch(Value),
}

/// How an existing resource differs from its spec.
#[derive(Debug, Default)]
pub struct Difference {
    /// The fields [`Difference::write`] brings to the spec.
    pub update: Vec<FieldChange>,
    /// The fields that differ but cannot change in place: reported only.
    pub drift: Vec<FieldChange>,
    /// The request to make in [`Mode::Apply`], if any.
    pub write: Option<Write>,
}

impl Difference {
    /// No difference.
    pub fn none() -> Self {
        Difference::default()
    }

    /// The fields of `update`, brought to the spec by the request `write`
    /// makes; no request when no field differs.
    pub fn update(update: Diff, write: impl FnOnce() -> Write) -> Self {
        let update = update.into_fields();
        let write = (!update.is_empty()).then(write);
        Difference { update, drift: Vec::new(), write }
    }

    /// Report `drift` too.
    #[must_use]
    pub fn with_drift(mut self, drift: Diff) -> Self {
        self.drift = drift.into_fields();
        self
    }

    /// The changes of resource `kind` `name`: the update, then the drift.
    fn plan(&self, kind: &str, name: &str) -> Plan {
        let mut plan = Plan::new();
        if !self.update.is_empty() {
            plan.push(Change::update(kind, name, self.update.clone()));
        }
        if !self.drift.is_empty() {
            plan.push(Change::drift(kind, name, self.drift.clone()));
        }
        plan
    }
}

/// One kind of ARM resource, described by a spec: what [`ArmClient`] needs to
/// reconcile it. Implementations make no request.
pub trait ArmSpec: Send + Sync {
    /// The kind in plans and errors (`resource group`).
    const KIND: &'static str;
    /// The api-version of the resource type ([`super::api`]).
    const API_VERSION: &'static str;
    /// Whether the resource exists with its parent and is only ever updated
    /// (a storage account's blob service, a server parameter): a missing one
    /// is compared as an empty resource (`{}`).
    const IMPLICIT: bool = false;

    /// Check the spec before any request.
    ///
    /// # Errors
    /// [`deploy_core::Error::InvalidInput`] naming the field.
    fn validate(&self) -> Result<()>;

    /// Its name in plans and errors.
    fn name(&self) -> Cow<'_, str>;

    /// Its resource id in `arm`'s subscription.
    fn id(&self, arm: &ArmClient) -> String;

    /// The body that creates it.
    fn create(&self, arm: &ArmClient) -> Value;

    /// How `current`, the resource as read, differs from the spec.
    fn compare(&self, current: &Value) -> Difference;
}

/// One ARM resource: its id, its api-version and what it is called in errors.
#[derive(Clone, Debug)]
pub struct Resource<'a> {
    arm: &'a ArmClient,
    id: String,
    api_version: &'static str,
    kind: &'static str,
    name: Cow<'a, str>,
}

impl ArmClient {
    /// The resource at `id` (api-version `api_version`), called `kind` `name` in errors.
    pub fn resource<'a>(
        &'a self,
        id: String,
        api_version: &'static str,
        kind: &'static str,
        name: impl Into<Cow<'a, str>>,
    ) -> Resource<'a> {
        Resource { arm: self, id, api_version, kind, name: name.into() }
    }

    /// The resource `spec` describes.
    pub fn resource_of<'a, S: ArmSpec>(&'a self, spec: &'a S) -> Resource<'a> {
        self.resource(spec.id(self), S::API_VERSION, S::KIND, spec.name())
    }
}

impl Resource<'_> {
    /// Its resource id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What calls about it are about.
    pub fn target(&self) -> Target<'_> {
        Target { kind: self.kind, name: &self.name }
    }

    /// The resource, or `None` when it does not exist.
    ///
    /// # Errors
    /// As [`ArmClient::get`].
    pub async fn get(&self) -> Result<Option<Value>> {
        self.arm.get(&self.id, self.api_version, self.target()).await
    }

    /// PUT `body` and wait until provisioning ends; answers the resource.
    ///
    /// # Errors
    /// As [`ArmClient::put`].
    pub async fn put(&self, body: &Value) -> Result<Value> {
        self.arm.put(&self.id, self.api_version, body, self.target()).await
    }

    /// Make `write`; answers the resource.
    ///
    /// # Errors
    /// As [`ArmClient::put`].
    pub async fn write(&self, write: &Write) -> Result<Value> {
        match write {
            Write::Put(body) => self.put(body).await,
            Write::Patch(body) => self.arm.patch(&self.id, self.api_version, body, self.target()).await,
        }
    }

    /// DELETE it and wait until it is gone; a missing resource is not an error.
    ///
    /// # Errors
    /// As [`ArmClient::delete`].
    pub async fn delete(&self) -> Result<()> {
        self.arm.delete(&self.id, self.api_version, self.target()).await
    }

    /// POST the long-running `action` (`start`) on it and wait until it ends.
    ///
    /// # Errors
    /// As [`ArmClient::post_action`].
    pub async fn post_action(&self, action: &str) -> Result<()> {
        let path = format!("{}/{action}", self.id);
        self.arm.post_action(&path, self.api_version, self.target()).await
    }

    /// The changes that bring `current` (as read; `None`: missing) to `spec`,
    /// made in [`Mode::Apply`]; answers them and the resource as it is then.
    ///
    /// # Errors
    /// The write's errors.
    pub async fn converge<S: ArmSpec>(&self, spec: &S, current: Option<Value>, mode: Mode) -> Result<Reconciled<ArmResource>> {
        let current = match current {
            None if S::IMPLICIT => Some(json!({})),
            current => current,
        };
        let (plan, write) = match &current {
            None => (Plan::from_iter([Change::create(S::KIND, self.name.as_ref())]), Some(Write::Put(spec.create(self.arm)))),
            Some(current) => {
                let difference = spec.compare(current);
                (difference.plan(S::KIND, &self.name), difference.write)
            }
        };
        let body = match write {
            Some(write) if mode.is_apply() => Some(self.write(&write).await?),
            _ => current,
        };
        Ok(Reconciled { plan, info: body.map(|body| ArmResource { id: self.id.clone(), body }) })
    }
}

/// Every [`ArmSpec`]: validate, read, compare, and in [`Mode::Apply`] write.
#[async_trait]
impl<S: ArmSpec> Reconcile<S> for ArmClient {
    type Info = ArmResource;

    #[tracing::instrument(level = "info", skip_all, fields(backend = super::client::PROVIDER, kind = S::KIND, name = %spec.name(), mode = ?mode))]

    async fn reconcile(&self, spec: &S, mode: Mode) -> Result<Reconciled<ArmResource>> {
        spec.validate()?;
        let body = spec.create(self);
        if let Some(tags) = body.get("tags").and_then(Value::as_object) {
            self.check_tags_not_ignored(tags.keys())?;
        }
        let resource = self.resource_of(spec);
        let current = resource.get().await?;
        resource.converge(spec, current, mode).await
    }
}

/// `value` at JSON `pointer` as a string.
pub(crate) fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// `value` at JSON `pointer` as a flag (`false` when absent).
pub(crate) fn bool_at(value: &Value, pointer: &str) -> bool {
    value.pointer(pointer).and_then(Value::as_bool).unwrap_or(false)
}

/// The tags of an ARM resource.
pub(crate) fn tags_of(value: &Value) -> BTreeMap<String, String> {
    value
        .get("tags")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default()
}
