//! IAM: users, customer-managed policies, attachments, access keys and roles,
//! each reconciled by [`Iam`] ([`Reconcile`]: `plan` / `ensure`) from its spec
//! ([`UserSpec`], [`ManagedPolicySpec`], [`UserPolicySpec`], [`RoleSpec`]),
//! idempotently (a second `ensure` makes no mutating request).
//!
//! An application commonly gets an IAM user with
//! the bucket-scoped policy ([`crate::policy::bucket_access_policy`]) and an
//! access key; EKS needs a cluster role and a node role trusting their
//! services with AWS-managed policies attached:
//!
//! ```no_run
//! # async fn example(ctx: &deploy_aws::AwsContext, secrets: &dyn deploy_core::SecretStore) -> deploy_core::Result<()> {
//! use deploy_aws::iam::{Iam, IamName, ManagedPolicySpec, RoleSpec};
//! use deploy_aws::policy::{bucket_access_policy, trust_service};
//! use deploy_aws::iam::{UserPolicySpec, UserSpec};
//! use deploy_core::{BucketName, Reconcile, SecretName};
//!
//! let iam = Iam::new(ctx);
//! let user = iam.ensure(&UserSpec::new(IamName::new("app")?)).await?.info;
//! let doc = bucket_access_policy("aws", &BucketName::new("prod-assets")?);
//! let policy = iam.ensure(&ManagedPolicySpec::new(IamName::new("app-bucket")?, doc)).await?.info;
//! iam.ensure(&UserPolicySpec { user: user.name.clone(), policy_arn: policy.arn.clone() }).await?;
//! iam.ensure_access_key(&user.name, secrets, &SecretName::new("app-access-key")?).await?;
//! let role = RoleSpec::new(IamName::new("prod-eks-cluster")?, trust_service("eks.amazonaws.com"))
//!     .with_managed_policy("arn:aws:iam::aws:policy/AmazonEKSClusterPolicy");
//! iam.ensure(&role).await?;
//! # Ok(())
//! # }
//! ```

mod access_keys;
mod names;
mod service;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::types::Tag;
use deploy_core::plan::{Change, FieldChange, Plan};
use deploy_core::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use access_keys::{AccessKey, AccessKeyInfo, RotateOptions, Rotation};
pub use names::IamName;
pub use service::Iam;

use crate::error::{Op, SdkResultExt, build_error, missing};
use crate::policy::{PolicyDocument, equivalent, parse_policy};
use deploy_core::reconcile::{Mode, Reconcile, Reconciled};
use service::op;

/// IAM's limits on tags.
fn validate_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    let rule = "IAM tags: at most 50; keys 1-128 characters, not starting with `aws:`; values at most 256 characters";
    if tags.len() > 50 {
        return Err(Error::invalid("tags", format!("has {} tags", tags.len()), rule));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || k.starts_with("aws:") || v.chars().count() > 256 {
            return Err(Error::invalid(format!("tags.{k}"), "breaks a tag rule", rule));
        }
    }
    Ok(())
}

fn iam_tags(tags: &BTreeMap<String, String>, op: Op) -> Result<Option<Vec<Tag>>> {
    if tags.is_empty() {
        return Ok(None);
    }
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| build_error(op, e))).collect::<Result<Vec<_>>>().map(Some)
}

/// Check a document against IAM's grammar rules that matter before sending it.
fn validate_document(field: &str, doc: &PolicyDocument, max_len: usize, needs_resource: bool) -> Result<()> {
    if doc.statement.is_empty() {
        return Err(Error::invalid(format!("{field}.statement"), "is empty", "a policy has at least one statement"));
    }
    for (i, s) in doc.statement.iter().enumerate() {
        if s.action.is_empty() {
            return Err(Error::invalid(format!("{field}.statement[{i}].action"), "is empty", "every statement names its actions"));
        }
        if needs_resource && s.resource.is_empty() {
            return Err(Error::invalid(
                format!("{field}.statement[{i}].resource"),
                "is empty",
                "identity policy statements name their resources",
            ));
        }
        if !needs_resource && s.principal.is_none() {
            return Err(Error::invalid(
                format!("{field}.statement[{i}].principal"),
                "is missing",
                "trust policy statements name who may assume the role",
            ));
        }
    }
    let len = doc.to_json().len();
    if len > max_len {
        return Err(Error::invalid(field, format!("is {len} characters of JSON"), format!("IAM takes at most {max_len} characters")));
    }
    Ok(())
}

/// An IAM user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// The name.
    pub name: IamName,
    /// The ARN.
    pub arn: String,
    /// The stable unique id (`AIDA...`).
    pub id: String,
}

/// A customer-managed policy and what it should hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedPolicySpec {
    /// The name.
    pub name: IamName,
    /// The document.
    pub document: PolicyDocument,
    /// A description (set on creation: IAM cannot change it later).
    pub description: String,
}

impl ManagedPolicySpec {
    /// A policy named `name` holding `document`.
    pub fn new(name: IamName, document: PolicyDocument) -> Self {
        ManagedPolicySpec { name, document, description: String::new() }
    }
}

/// A customer-managed policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyInfo {
    /// The name.
    pub name: IamName,
    /// The ARN.
    pub arn: String,
    /// The default version's id (`v1`, `v2`, ...).
    pub default_version: String,
    /// The default version's document.
    pub document: Value,
}

/// A role and what it should hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleSpec {
    /// The name.
    pub name: IamName,
    /// Who may assume the role ([`crate::policy::trust_service`]).
    pub trust: PolicyDocument,
    /// Managed policies (ARNs) attached to the role: these at least; others
    /// attached by someone else are left alone.
    pub managed_policies: Vec<String>,
    /// A description.
    pub description: String,
    /// Tags (set on creation).
    pub tags: BTreeMap<String, String>,
}

impl RoleSpec {
    /// A role named `name` that `trust` may assume.
    pub fn new(name: IamName, trust: PolicyDocument) -> Self {
        RoleSpec { name, trust, managed_policies: Vec::new(), description: String::new(), tags: BTreeMap::new() }
    }

    /// With a managed policy attached (`arn:aws:iam::aws:policy/AmazonEKSClusterPolicy`).
    #[must_use]
    pub fn with_managed_policy(mut self, arn: impl Into<String>) -> Self {
        self.managed_policies.push(arn.into());
        self
    }

    /// Check the trust policy, the policy ARNs and the tags.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field.
    pub fn validate(&self) -> Result<()> {
        validate_document("trust", &self.trust, 2048, false)?;
        for (i, arn) in self.managed_policies.iter().enumerate() {
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            if parts.len() != 6 || parts[0] != "arn" || parts[2] != "iam" || !parts[5].starts_with("policy/") {
                return Err(Error::invalid(
                    format!("managed_policies[{i}]"),
                    format!("`{arn}` is not a policy ARN"),
                    "arn:PARTITION:iam::ACCOUNT:policy/NAME (ACCOUNT `aws` for AWS-managed policies)",
                ));
            }
        }
        if self.description.chars().count() > 1000 {
            return Err(Error::invalid(
                "description",
                "is longer than 1,000 characters",
                "IAM role descriptions: at most 1,000 characters",
            ));
        }
        validate_tags(&self.tags)
    }
}

/// A role.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleInfo {
    /// The name.
    pub name: IamName,
    /// The ARN.
    pub arn: String,
    /// The trust policy.
    pub trust: Value,
    /// The description.
    pub description: String,
    /// The attached managed policies (ARNs).
    pub managed_policies: BTreeSet<String>,
}

/// A user and what it should hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSpec {
    /// The name.
    pub name: IamName,
    /// Tags (set on creation: an existing user is left as it is).
    pub tags: BTreeMap<String, String>,
}

impl UserSpec {
    /// A user named `name`, without tags.
    pub fn new(name: IamName) -> Self {
        UserSpec { name, tags: BTreeMap::new() }
    }
}

/// A managed policy attached to a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserPolicySpec {
    /// The user.
    pub user: IamName,
    /// The ARN of the managed policy.
    pub policy_arn: String,
}
impl Iam {
    /// The user named `name`.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn describe_user(&self, name: &IamName) -> Result<UserInfo> {
        let get = op("GetUser");
        let out = self.client.get_user().user_name(name.as_str()).send().await.on(get, "iam user", name.as_str())?;
        let user = out.user().ok_or_else(|| missing(get, "user"))?;
        Ok(UserInfo { name: name.clone(), arn: user.arn().to_owned(), id: user.user_id().to_owned() })
    }

    /// The customer-managed policy named `name` (found by listing the
    /// account's local policies: no account id needed).
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn describe_policy(&self, name: &IamName) -> Result<PolicyInfo> {
        let list = op("ListPolicies");
        let mut pages = self.client.list_policies().scope(aws_sdk_iam::types::PolicyScopeType::Local).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.on(list, "iam policy", name.as_str())?;
            if let Some(p) = page.policies().iter().find(|p| p.policy_name() == Some(name.as_str())) {
                let arn = p.arn().ok_or_else(|| missing(list, "policy ARN"))?.to_owned();
                let version = p.default_version_id().ok_or_else(|| missing(list, "default version"))?.to_owned();
                let document = self.policy_document(&arn, &version).await?;
                return Ok(PolicyInfo { name: name.clone(), arn, default_version: version, document });
            }
        }
        Err(Error::not_found("iam policy", name.as_str()))
    }

    async fn policy_document(&self, arn: &str, version: &str) -> Result<Value> {
        let get = op("GetPolicyVersion");
        let out = self.client.get_policy_version().policy_arn(arn).version_id(version).send().await.on(get, "iam policy", arn)?;
        let text = out.policy_version().and_then(|v| v.document()).ok_or_else(|| missing(get, "policy document"))?;
        parse_policy(text)
    }

    /// IAM keeps at most five versions of a policy: delete the oldest
    /// non-default one when all five are taken.
    async fn make_room_for_a_version(&self, arn: &str) -> Result<()> {
        let list = op("ListPolicyVersions");
        let mut versions = Vec::new();
        let mut pages = self.client.list_policy_versions().policy_arn(arn).into_paginator().send();
        while let Some(page) = pages.next().await {
            versions.extend(page.on(list, "iam policy", arn)?.versions().to_vec());
        }
        if versions.len() < 5 {
            return Ok(());
        }
        let oldest = versions
            .iter()
            .filter(|v| !v.is_default_version())
            .min_by_key(|v| (v.create_date().map(|d| (d.secs(), d.subsec_nanos())), version_number(v.version_id())))
            .and_then(|v| v.version_id())
            .ok_or_else(|| missing(list, "a non-default version"))?;
        self.client.delete_policy_version().policy_arn(arn).version_id(oldest).send().await.on(
            op("DeletePolicyVersion"),
            "iam policy",
            arn,
        )?;
        Ok(())
    }

    /// The role named `name`, with its attached managed policies.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn describe_role(&self, name: &IamName) -> Result<RoleInfo> {
        let get = op("GetRole");
        let out = self.client.get_role().role_name(name.as_str()).send().await.on(get, "iam role", name.as_str())?;
        let role = out.role().ok_or_else(|| missing(get, "role"))?;
        let trust = parse_policy(role.assume_role_policy_document().ok_or_else(|| missing(get, "trust policy"))?)?;
        let list = op("ListAttachedRolePolicies");
        let mut managed = BTreeSet::new();
        let mut pages = self.client.list_attached_role_policies().role_name(name.as_str()).into_paginator().send();
        while let Some(page) = pages.next().await {
            managed.extend(
                page.on(list, "iam role", name.as_str())?.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_owned)),
            );
        }
        Ok(RoleInfo {
            name: name.clone(),
            arn: role.arn().to_owned(),
            trust,
            description: role.description().unwrap_or_default().to_owned(),
            managed_policies: managed,
        })
    }

    /// Delete the user with its access keys, and detach its managed policies.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn delete_user(&self, name: &IamName) -> Result<()> {
        let user = name.as_str();
        for id in self.list_access_keys(name).await? {
            self.client.delete_access_key().user_name(user).access_key_id(id).send().await.on(op("DeleteAccessKey"), "iam user", user)?;
        }
        let list = op("ListAttachedUserPolicies");
        let mut arns = Vec::new();
        let mut pages = self.client.list_attached_user_policies().user_name(user).into_paginator().send();
        while let Some(page) = pages.next().await {
            arns.extend(page.on(list, "iam user", user)?.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_owned)));
        }
        for arn in arns {
            self.client.detach_user_policy().user_name(user).policy_arn(arn).send().await.on(op("DetachUserPolicy"), "iam user", user)?;
        }
        self.client.delete_user().user_name(user).send().await.on(op("DeleteUser"), "iam user", user)?;
        Ok(())
    }

    /// Detach the role's managed policies and delete it.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn delete_role(&self, name: &IamName) -> Result<()> {
        let role = self.describe_role(name).await?;
        for arn in &role.managed_policies {
            self.client.detach_role_policy().role_name(name.as_str()).policy_arn(arn).send().await.on(
                op("DetachRolePolicy"),
                "iam role",
                name.as_str(),
            )?;
        }
        self.client.delete_role().role_name(name.as_str()).send().await.on(op("DeleteRole"), "iam role", name.as_str())?;
        Ok(())
    }

    /// Delete the customer-managed policy and its non-default versions; it must
    /// be detached from every user and role first.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Conflict`] while attached.
    pub async fn delete_policy(&self, name: &IamName) -> Result<()> {
        let policy = self.describe_policy(name).await?;
        let list = op("ListPolicyVersions");
        let mut pages = self.client.list_policy_versions().policy_arn(&policy.arn).into_paginator().send();
        let mut old = Vec::new();
        while let Some(page) = pages.next().await {
            old.extend(
                page.on(list, "iam policy", name.as_str())?
                    .versions()
                    .iter()
                    .filter(|v| !v.is_default_version())
                    .filter_map(|v| v.version_id().map(str::to_owned)),
            );
        }
        for version in old {
            self.client.delete_policy_version().policy_arn(&policy.arn).version_id(version).send().await.on(
                op("DeletePolicyVersion"),
                "iam policy",
                name.as_str(),
            )?;
        }
        self.client.delete_policy().policy_arn(&policy.arn).send().await.on(op("DeletePolicy"), "iam policy", name.as_str())?;
        Ok(())
    }
}

/// The user of `spec`: in [`Mode::Apply`] created when missing (with the
/// spec's tags); an existing user is left as it is. Callers use the provided
/// [`Reconcile::plan`] / [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] on `tags` before any request; provider errors.
#[async_trait::async_trait]
impl Reconcile<UserSpec> for Iam {
    type Info = UserInfo;

    #[tracing::instrument(level = "info", skip_all, fields(backend = "aws-iam", kind = "iam user", name = %spec.name, mode = ?mode))]

    async fn reconcile(&self, spec: &UserSpec, mode: Mode) -> Result<Reconciled<UserInfo>> {
        validate_tags(&spec.tags)?;
        let name = &spec.name;
        match self.describe_user(name).await {
            Ok(info) => Ok(Reconciled { info: Some(info), plan: Plan::new() }),
            Err(e) if e.is_not_found() => {
                let plan = Plan::from_iter([Change::create("iam user", name.as_str())]);
                if !mode.is_apply() {
                    return Ok(Reconciled { info: None, plan });
                }
                let create = op("CreateUser");
                let out = match self.client.create_user().user_name(name.as_str()).set_tags(iam_tags(&spec.tags, create)?).send().await.on(
                    create,
                    "iam user",
                    name.as_str(),
                ) {
                    Ok(out) => out,
                    // The answer to an earlier attempt was lost after IAM made the user.
                    Err(Error::AlreadyExists { .. }) => {
                        let info = self.describe_user(name).await?;
                        return Ok(Reconciled { info: Some(info), plan });
                    }
                    Err(e) => return Err(e),
                };
                let user = out.user().ok_or_else(|| missing(create, "user"))?;
                let info = UserInfo { name: name.clone(), arn: user.arn().to_owned(), id: user.user_id().to_owned() };
                Ok(Reconciled { info: Some(info), plan })
            }
            Err(e) => Err(e),
        }
    }
}

/// The policy of `spec`: in [`Mode::Apply`] created when missing; when its
/// default version differs from the spec's document (compared semantically),
/// a new default version is added, deleting the oldest non-default version
/// first when IAM's five are taken. Callers use the provided
/// [`Reconcile::plan`] / [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] for a document IAM would refuse (no statement, a
/// statement without actions or resources, over 6,144 characters) before any
/// request; provider errors.
#[async_trait::async_trait]
impl Reconcile<ManagedPolicySpec> for Iam {
    type Info = PolicyInfo;

    #[tracing::instrument(level = "info", skip_all, fields(backend = "aws-iam", kind = "iam policy", name = %spec.name, mode = ?mode))]

    async fn reconcile(&self, spec: &ManagedPolicySpec, mode: Mode) -> Result<Reconciled<PolicyInfo>> {
        validate_document("document", &spec.document, 6144, true)?;
        let name = spec.name.as_str();
        let wanted = serde_json::to_value(&spec.document).expect("a policy serializes");
        let current = match self.describe_policy(&spec.name).await {
            Ok(current) => current,
            Err(e) if e.is_not_found() => {
                let plan = Plan::from_iter([Change::create("iam policy", name)]);
                if !mode.is_apply() {
                    return Ok(Reconciled { info: None, plan });
                }
                let create = op("CreatePolicy");
                let out = match self
                    .client
                    .create_policy()
                    .policy_name(name)
                    .policy_document(spec.document.to_json())
                    .set_description((!spec.description.is_empty()).then(|| spec.description.clone()))
                    .send()
                    .await
                    .on(create, "iam policy", name)
                {
                    Ok(out) => out,
                    // Made by an attempt whose answer was lost: compare it as any existing policy.
                    Err(Error::AlreadyExists { .. }) => {
                        self.describe_policy(&spec.name).await?;
                        return <Self as Reconcile<ManagedPolicySpec>>::reconcile(self, spec, mode).await;
                    }
                    Err(e) => return Err(e),
                };
                let policy = out.policy().ok_or_else(|| missing(create, "policy"))?;
                let info = PolicyInfo {
                    name: spec.name.clone(),
                    arn: policy.arn().ok_or_else(|| missing(create, "policy ARN"))?.to_owned(),
                    default_version: policy.default_version_id().unwrap_or("v1").to_owned(),
                    document: wanted,
                };
                return Ok(Reconciled { info: Some(info), plan });
            }
            Err(e) => return Err(e),
        };
        if equivalent(&current.document, &wanted) {
            return Ok(Reconciled { info: Some(current), plan: Plan::new() });
        }
        let change = FieldChange::new("document", current.document.to_string(), wanted.to_string());
        let plan = Plan::from_iter([Change::update("iam policy", name, vec![change])]);
        if !mode.is_apply() {
            return Ok(Reconciled { info: Some(current), plan });
        }
        self.make_room_for_a_version(&current.arn).await?;
        let create = op("CreatePolicyVersion");
        let out = self
            .client
            .create_policy_version()
            .policy_arn(&current.arn)
            .policy_document(spec.document.to_json())
            .set_as_default(true)
            .send()
            .await
            .on(create, "iam policy", name)?;
        let version = out.policy_version().and_then(|v| v.version_id()).ok_or_else(|| missing(create, "version id"))?.to_owned();
        Ok(Reconciled { info: Some(PolicyInfo { default_version: version, document: wanted, ..current }), plan })
    }
}

/// The managed policy of `spec` attached to its user: in [`Mode::Apply`]
/// attached unless it is. The info is `()` once attached. Callers use the
/// provided [`Reconcile::plan`] / [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::NotFound`] for the user (kind `iam user`) or the policy (kind `iam policy`).
#[async_trait::async_trait]
impl Reconcile<UserPolicySpec> for Iam {
    type Info = ();

    #[tracing::instrument(level = "info", skip_all, fields(backend = "aws-iam", kind = "iam user policy", name = %spec.user, mode = ?mode))]

    async fn reconcile(&self, spec: &UserPolicySpec, mode: Mode) -> Result<Reconciled<()>> {
        let (user, policy_arn) = (&spec.user, spec.policy_arn.as_str());
        let list = op("ListAttachedUserPolicies");
        let mut pages = self.client.list_attached_user_policies().user_name(user.as_str()).into_paginator().send();
        while let Some(page) = pages.next().await {
            if page.on(list, "iam user", user.as_str())?.attached_policies().iter().any(|p| p.policy_arn() == Some(policy_arn)) {
                return Ok(Reconciled { info: Some(()), plan: Plan::new() });
            }
        }
        let plan = Plan::from_iter([Change::create("policy attachment", format!("{policy_arn} to user {user}"))]);
        if !mode.is_apply() {
            return Ok(Reconciled { info: None, plan });
        }
        self.client.attach_user_policy().user_name(user.as_str()).policy_arn(policy_arn).send().await.on(
            op("AttachUserPolicy"),
            "iam policy",
            policy_arn,
        )?;
        Ok(Reconciled { info: Some(()), plan })
    }
}

/// The role of `spec`: in [`Mode::Apply`] created when missing, its trust
/// policy and description brought to the spec, and the spec's managed
/// policies that are not attached attached. Callers use the provided
/// [`Reconcile::plan`] / [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] before any request; [`Error::NotFound`] (kind
/// `iam policy`) for a managed policy that does not exist; provider errors.
#[async_trait::async_trait]
impl Reconcile<RoleSpec> for Iam {
    type Info = RoleInfo;

    #[tracing::instrument(level = "info", skip_all, fields(backend = "aws-iam", kind = "iam role", name = %spec.name, mode = ?mode))]

    async fn reconcile(&self, spec: &RoleSpec, mode: Mode) -> Result<Reconciled<RoleInfo>> {
        spec.validate()?;
        let name = spec.name.as_str();
        let apply = mode.is_apply();
        let mut plan = Plan::new();
        let current = match self.describe_role(&spec.name).await {
            Ok(current) => Some(current),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        };
        let attached = match &current {
            None => {
                if apply {
                    let create = op("CreateRole");
                    let made = self
                        .client
                        .create_role()
                        .role_name(name)
                        .assume_role_policy_document(spec.trust.to_json())
                        .set_description((!spec.description.is_empty()).then(|| spec.description.clone()))
                        .set_tags(iam_tags(&spec.tags, create)?)
                        .send()
                        .await
                        .on(create, "iam role", name);
                    match made {
                        Ok(_) => {}
                        // Made by an attempt whose answer was lost: compare it as any existing role.
                        Err(Error::AlreadyExists { .. }) => {
                            self.describe_role(&spec.name).await?;
                            return <Self as Reconcile<RoleSpec>>::reconcile(self, spec, mode).await;
                        }
                        Err(e) => return Err(e),
                    }
                }
                plan.push(Change::create("iam role", name));
                BTreeSet::new()
            }
            Some(current) => {
                let wanted = serde_json::to_value(&spec.trust).expect("a policy serializes");
                let mut fields = Vec::new();
                if !equivalent(&current.trust, &wanted) {
                    if apply {
                        self.client.update_assume_role_policy().role_name(name).policy_document(spec.trust.to_json()).send().await.on(
                            op("UpdateAssumeRolePolicy"),
                            "iam role",
                            name,
                        )?;
                    }
                    fields.push(FieldChange::new("trust", current.trust.to_string(), wanted.to_string()));
                }
                if current.description != spec.description {
                    if apply {
                        self.client.update_role().role_name(name).description(&spec.description).send().await.on(
                            op("UpdateRole"),
                            "iam role",
                            name,
                        )?;
                    }
                    fields.push(FieldChange::new("description", &current.description, &spec.description));
                }
                if !fields.is_empty() {
                    plan.push(Change::update("iam role", name, fields));
                }
                current.managed_policies.clone()
            }
        };
        for arn in spec.managed_policies.iter().filter(|a| !attached.contains(*a)) {
            if apply {
                self.client.attach_role_policy().role_name(name).policy_arn(arn).send().await.on(
                    op("AttachRolePolicy"),
                    "iam policy",
                    arn,
                )?;
            }
            plan.push(Change::create("policy attachment", format!("{arn} to role {name}")));
        }
        let info = if apply { Some(self.describe_role(&spec.name).await?) } else { current };
        Ok(Reconciled { info, plan })
    }
}

/// `v12` → 12, for ordering versions created in the same second.
fn version_number(id: Option<&str>) -> u64 {
    id.and_then(|v| v.strip_prefix('v')).and_then(|n| n.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Statement, bucket_access_policy, trust_service};
    use deploy_core::BucketName;

    #[test]
    fn names_follow_iam_rules() {
        assert!(IamName::new("deeploy").is_ok());
        assert!(IamName::new("app+ci=x,y.z@corp_1-2").is_ok());
        for bad in ["", "with space", "slash/name", &"n".repeat(65)] {
            assert_eq!(IamName::new(bad).unwrap_err().invalid_field(), Some("name"), "{bad:?}");
        }
    }

    #[test]
    fn documents_are_checked_before_sending() {
        let bucket = BucketName::new("prod-assets").unwrap();
        assert!(validate_document("document", &bucket_access_policy("aws", &bucket), 6144, true).is_ok());
        let empty = PolicyDocument::new([]);
        assert_eq!(validate_document("document", &empty, 6144, true).unwrap_err().invalid_field(), Some("document.statement"));
        let no_resource = PolicyDocument::new([Statement::allow(["s3:GetObject"], Vec::<String>::new())]);
        assert_eq!(
            validate_document("document", &no_resource, 6144, true).unwrap_err().invalid_field(),
            Some("document.statement[0].resource")
        );
        let huge = PolicyDocument::new([Statement::allow(["s3:GetObject"], (0..400).map(|i| format!("arn:aws:s3:::bucket-{i}/*")))]);
        assert_eq!(validate_document("document", &huge, 6144, true).unwrap_err().invalid_field(), Some("document"));
        let role = RoleSpec::new(IamName::new("r").unwrap(), trust_service("eks.amazonaws.com"));
        assert!(role.validate().is_ok());
        let no_principal =
            RoleSpec::new(IamName::new("r").unwrap(), PolicyDocument::new([Statement::allow(["sts:AssumeRole"], Vec::<String>::new())]));
        assert_eq!(no_principal.validate().unwrap_err().invalid_field(), Some("trust.statement[0].principal"));
        let bad_arn = role.clone().with_managed_policy("AmazonEKSClusterPolicy");
        assert_eq!(bad_arn.validate().unwrap_err().invalid_field(), Some("managed_policies[0]"));
    }

    #[test]
    fn versions_order_by_number() {
        assert!(version_number(Some("v2")) < version_number(Some("v10")));
        assert_eq!(version_number(None), 0);
    }
}
