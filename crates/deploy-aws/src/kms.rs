//! KMS: a symmetric encryption key found by its alias, with automatic
//! rotation and a key policy — an application's key, whose application
//! principal may use it while the account root administers it.
//!
//! [`Kms`] reconciles a [`KeySpec`] ([`Reconcile`]: `plan` / `ensure`), idempotently: it creates the key and its alias when
//! the alias is missing, then brings rotation, the key policy (compared
//! semantically, so AWS's reformatting is no change), the description, the
//! enabled state and the tags to the spec, writing only what differs.
//!
//! ```no_run
//! # async fn example(ctx: &deploy_aws::AwsContext) -> deploy_core::Result<()> {
//! use deploy_aws::kms::{KeyAlias, KeyPolicy, KeySpec, Kms};
//! use deploy_core::Reconcile;
//!
//! let spec = KeySpec::new(KeyAlias::new("alias/app")?)
//!     .with_policy(KeyPolicy::Application { application_principal: "arn:aws:iam::123456789012:user/app".into() });
//! let key = Kms::new(ctx).ensure(&spec).await?;
//! println!("{} {}\n{}", key.info.arn, key.info.key_id, key.plan);
//! # Ok(())
//! # }
//! ```

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_kms::Client;
use aws_sdk_kms::types::{KeySpec as AwsKeySpec, KeyState, KeyUsageType, Tag};
use deploy_core::plan::{Change, FieldChange, Plan};
use deploy_core::{Confirm, Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::AwsContext;
use crate::error::{Op, SdkResultExt, build_error, missing};
use crate::policy::{PolicyDocument, application_key_policy, equivalent, parse_policy, service_key_policy};
use deploy_core::reconcile::{Mode, Reconcile, Reconciled};
use deploy_core::validate::{Check, fault};

const SERVICE: &str = "aws-kms";

const fn op(operation: &'static str) -> Op {
    Op::new(SERVICE, operation)
}

fn check_key_alias(alias: &str) -> Check {
    let rule = "KMS aliases: `alias/` then 1-250 letters, digits, `/`, `_` and `-`; not starting with `alias/aws/`";
    let Some(name) = alias.strip_prefix("alias/") else {
        return fault("does not start with `alias/`", rule);
    };
    if name.is_empty() || alias.len() > 256 {
        return fault(format!("has a name of {} characters", name.len()), rule);
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-'))) {
        return fault(format!("contains {c:?}"), rule);
    }
    if alias.starts_with("alias/aws/") {
        return fault("starts with the reserved `alias/aws/`", rule);
    }
    Ok(())
}

deploy_core::validated_string!(
    /// A key alias: `alias/` and 1 to 250 letters, digits, `/`, `_` and `-`; not
    /// `alias/aws/` (reserved for AWS managed keys).
    KeyAlias, "alias", check_key_alias
);

/// The key policy a key should have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyPolicy {
    /// Leave the key's policy as it is (a new key gets KMS's default policy:
    /// the account root may do everything).
    Unmanaged,
    /// The application's policy ([`application_key_policy`]) for this principal
    /// (the ARN of the application's IAM user or role), in the key's account.
    Application {
        /// The ARN of the application's IAM user or role.
        application_principal: String,
    },
    /// AWS services (`cloudwatch.amazonaws.com`, ...) may use the key to
    /// encrypt and decrypt ([`service_key_policy`]); the account root keeps
    /// `kms:*`. What a topic encrypted for CloudWatch alarms needs: the
    /// AWS-managed `alias/aws/sns` key does not let CloudWatch publish.
    ServiceUse {
        /// The service principals, `NAME.amazonaws.com`.
        services: Vec<String>,
    },
    /// This document.
    Document(PolicyDocument),
}

impl KeyPolicy {
    fn render(&self, partition: &str, account_id: &str) -> Option<PolicyDocument> {
        match self {
            KeyPolicy::Unmanaged => None,
            KeyPolicy::Application { application_principal } => Some(application_key_policy(partition, account_id, application_principal)),
            KeyPolicy::ServiceUse { services } => Some(service_key_policy(partition, account_id, services)),
            KeyPolicy::Document(doc) => Some(doc.clone()),
        }
    }
}

/// What a key should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySpec {
    /// The alias that names the key.
    pub alias: KeyAlias,
    /// A description.
    pub description: String,
    /// Automatic yearly rotation of the key material (default on).
    pub rotation: bool,
    /// The key policy (default: unmanaged).
    pub policy: KeyPolicy,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

impl KeySpec {
    /// A symmetric encryption key named `alias`, rotated, with KMS's default policy.
    pub fn new(alias: KeyAlias) -> Self {
        KeySpec { alias, description: String::new(), rotation: true, policy: KeyPolicy::Unmanaged, tags: BTreeMap::new() }
    }

    deploy_core::setters! {
        /// With a key policy.
        pub fn with_policy(policy: KeyPolicy);
    }

    /// Check what no type carries: the principal of an application policy is an IAM
    /// ARN, the description and tags fit KMS's limits.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field.
    pub fn validate(&self) -> Result<()> {
        if let KeyPolicy::Application { application_principal } = &self.policy {
            let parts: Vec<&str> = application_principal.splitn(6, ':').collect();
            let ok = parts.len() == 6
                && parts[0] == "arn"
                && parts[2] == "iam"
                && parts[4].len() == 12
                && parts[4].bytes().all(|b| b.is_ascii_digit())
                && (parts[5].starts_with("user/") || parts[5].starts_with("role/"));
            if !ok {
                return Err(Error::invalid(
                    "policy.application_principal",
                    format!("`{application_principal}` is not the ARN of an IAM user or role"),
                    "arn:PARTITION:iam::ACCOUNT:user/NAME or arn:PARTITION:iam::ACCOUNT:role/NAME",
                ));
            }
        }
        if let KeyPolicy::ServiceUse { services } = &self.policy {
            let rule = "one or more AWS service principals such as cloudwatch.amazonaws.com: lowercase letters, digits, `-` and `.`";
            if services.is_empty() {
                return Err(Error::invalid("policy.services", "is empty", rule));
            }
            for service in services {
                let name = service.strip_suffix(".amazonaws.com").unwrap_or_default();
                let ok = !name.is_empty()
                    && !name.starts_with(['.', '-'])
                    && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
                if !ok {
                    return Err(Error::invalid("policy.services", format!("`{service}` is not an AWS service principal"), rule));
                }
            }
        }
        if self.description.chars().count() > 8192 {
            return Err(Error::invalid("description", "is longer than 8,192 characters", "KMS key descriptions: at most 8,192 characters"));
        }
        let rule = "KMS tags: at most 50; keys 1-128 characters, not starting with `aws:`; values at most 256 characters";
        if self.tags.len() > 50 {
            return Err(Error::invalid("tags", format!("has {} tags", self.tags.len()), rule));
        }
        for (k, v) in &self.tags {
            if k.is_empty() || k.chars().count() > 128 || k.starts_with("aws:") || v.chars().count() > 256 {
                return Err(Error::invalid(format!("tags.{k}"), "breaks a tag rule", rule));
            }
        }
        Ok(())
    }
}

/// A key as KMS reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// The alias it was found by.
    pub alias: KeyAlias,
    /// The key id (a UUID).
    pub key_id: String,
    /// The key ARN.
    pub arn: String,
    /// The account holding the key.
    pub account_id: String,
    /// The key's state (`Enabled`, `Disabled`, `PendingDeletion`, ...).
    pub state: String,
    /// The description.
    pub description: String,
    /// Whether automatic rotation is on.
    pub rotation: bool,
    /// The key policy.
    pub policy: Value,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// KMS keys. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct Kms {
    client: Client,
    partition: &'static str,
}

impl Kms {
    /// KMS built from `ctx`.
    pub fn new(ctx: &AwsContext) -> Self {
        Kms { client: ctx.client(), partition: ctx.partition() }
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The key named by `alias`.
    ///
    /// # Errors
    /// [`Error::NotFound`] when no key has the alias.
    pub async fn describe_key(&self, alias: &KeyAlias) -> Result<KeyInfo> {
        let name = alias.as_str();
        let describe = op("DescribeKey");
        let out = self.client.describe_key().key_id(name).send().await.on(describe, "kms key", name)?;
        let meta = out.key_metadata().ok_or_else(|| missing(describe, "key metadata"))?;
        let key_id = meta.key_id().to_owned();
        let arn = meta.arn().ok_or_else(|| missing(describe, "key ARN"))?.to_owned();
        let account_id = match meta.aws_account_id() {
            Some(a) => a.to_owned(),
            None => arn.split(':').nth(4).unwrap_or_default().to_owned(),
        };
        let (rotation, policy, tags) =
            futures::try_join!(self.read_rotation(&key_id, name), self.read_policy(&key_id, name), self.read_tags(&key_id, name))?;
        Ok(KeyInfo {
            alias: alias.clone(),
            key_id,
            arn,
            account_id,
            state: meta.key_state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            description: meta.description().unwrap_or_default().to_owned(),
            rotation,
            policy,
            tags,
        })
    }

    async fn read_rotation(&self, key_id: &str, alias: &str) -> Result<bool> {
        let out = self.client.get_key_rotation_status().key_id(key_id).send().await.on(op("GetKeyRotationStatus"), "kms key", alias)?;
        Ok(out.key_rotation_enabled())
    }

    async fn read_policy(&self, key_id: &str, alias: &str) -> Result<Value> {
        let get = op("GetKeyPolicy");
        let out = self.client.get_key_policy().key_id(key_id).policy_name("default").send().await.on(get, "kms key", alias)?;
        parse_policy(out.policy().ok_or_else(|| missing(get, "policy"))?).map_err(|_| Error::Provider {
            provider: SERVICE,
            operation: "GetKeyPolicy".into(),
            message: format!("the policy of `{alias}` is not JSON"),
            retryable: false,
            source: None,
        })
    }

    /// The key's tags, without the creation token ([`crate::once::TOKEN_TAG`]).
    async fn read_tags(&self, key_id: &str, alias: &str) -> Result<BTreeMap<String, String>> {
        let mut tags = self.read_all_tags(key_id, alias).await?;
        tags.remove(crate::once::TOKEN_TAG);
        Ok(tags)
    }

    async fn read_all_tags(&self, key_id: &str, alias: &str) -> Result<BTreeMap<String, String>> {
        let mut tags = BTreeMap::new();
        let mut pages = self.client.list_resource_tags().key_id(key_id).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.on(op("ListResourceTags"), "kms key", alias)?;
            tags.extend(page.tags().iter().map(|t| (t.tag_key().to_owned(), t.tag_value().to_owned())));
        }
        Ok(tags)
    }

    /// The ids of every key of the account in this region.
    async fn key_ids(&self, alias: &str) -> Result<BTreeSet<String>> {
        let mut ids = BTreeSet::new();
        let mut pages = self.client.list_keys().into_paginator().send();
        while let Some(page) = pages.next().await {
            ids.extend(page.on(op("ListKeys"), "kms key", alias)?.keys().iter().filter_map(|k| k.key_id().map(str::to_owned)));
        }
        Ok(ids)
    }

    /// The fields of `key` that differ from `spec`, in the order they are applied.
    fn diff(&self, key: &KeyInfo, spec: &KeySpec) -> Result<Vec<FieldChange>> {
        if key.state == KeyState::PendingDeletion.as_str() || key.state == KeyState::PendingReplicaDeletion.as_str() {
            return Err(Error::conflict(
                "kms key",
                spec.alias.as_str(),
                format!("key {} is scheduled for deletion: cancel the deletion (CancelKeyDeletion) or delete the alias", key.key_id),
            ));
        }
        let mut fields = Vec::new();
        if key.state != KeyState::Enabled.as_str() {
            fields.push(FieldChange::new("enabled", &key.state, KeyState::Enabled.as_str()));
        }
        if key.description != spec.description {
            fields.push(FieldChange::new("description", &key.description, &spec.description));
        }
        if key.rotation != spec.rotation {
            fields.push(FieldChange::new("rotation", key.rotation, spec.rotation));
        }
        if let Some(wanted) = spec.policy.render(self.partition, &key.account_id) {
            let wanted = serde_json::to_value(&wanted).expect("a policy serializes");
            if !equivalent(&key.policy, &wanted) {
                fields.push(FieldChange::new("policy", key.policy.to_string(), wanted.to_string()));
            }
        }
        if key.tags != spec.tags {
            fields.push(FieldChange::new("tags", format!("{:?}", key.tags), format!("{:?}", spec.tags)));
        }
        Ok(fields)
    }

    /// `CreateKey` then `CreateAlias` at once, so that a retry after a later
    /// failure finds the key by its alias instead of creating another.
    ///
    /// `CreateKey` has no client token: the key carries a creation token as
    /// tag [`crate::once::TOKEN_TAG`], the SDK does not retry it, and when an
    /// attempt fails in a way that may hide a success, the keys that appeared
    /// since are searched for the token before creating again (see
    /// [`crate::once`]). One key per alias, even when answers are lost.
    async fn create_key(&self, spec: &KeySpec) -> Result<()> {
        let (create, alias) = (op("CreateKey"), spec.alias.as_str());
        let token = crate::once::new_token();
        let mut with_token = spec.tags.clone();
        with_token.insert(crate::once::TOKEN_TAG.to_owned(), token.clone());
        let tags = kms_tags(&with_token, create)?;
        let before = self.key_ids(alias).await?;
        let key_id = crate::once::create_once(
            &format!("kms key {alias}"),
            || async {
                let out = self
                    .client
                    .create_key()
                    .key_spec(AwsKeySpec::SymmetricDefault)
                    .key_usage(KeyUsageType::EncryptDecrypt)
                    .description(&spec.description)
                    .set_tags(Some(tags.clone()))
                    .customize()
                    .config_override(aws_sdk_kms::config::Builder::default().retry_config(crate::once::no_retry()))
                    .send()
                    .await
                    .on(create, "kms key", alias)?;
                Ok(out.key_metadata().ok_or_else(|| missing(create, "key metadata"))?.key_id().to_owned())
            },
            || async {
                for id in self.key_ids(alias).await?.difference(&before) {
                    if self.read_all_tags(id, alias).await?.get(crate::once::TOKEN_TAG) == Some(&token) {
                        return Ok(Some(id.clone()));
                    }
                }
                Ok(None)
            },
        )
        .await?;
        match self.client.create_alias().alias_name(alias).target_key_id(&key_id).send().await.on(op("CreateAlias"), "kms alias", alias) {
            Ok(_) => Ok(()),
            // An earlier attempt made it (its answer was lost), or another caller did: it must name this key.
            Err(e) if crate::once::already_exists(&e) && self.describe_key(&spec.alias).await.is_ok_and(|k| k.key_id == key_id) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn apply(&self, key: &KeyInfo, spec: &KeySpec, fields: &[FieldChange]) -> Result<()> {
        let (id, alias) = (key.key_id.as_str(), spec.alias.as_str());
        for field in fields {
            match field.field.as_str() {
                "enabled" => {
                    self.client.enable_key().key_id(id).send().await.on(op("EnableKey"), "kms key", alias)?;
                }
                "description" => {
                    self.client.update_key_description().key_id(id).description(&spec.description).send().await.on(
                        op("UpdateKeyDescription"),
                        "kms key",
                        alias,
                    )?;
                }
                "rotation" if spec.rotation => {
                    self.client.enable_key_rotation().key_id(id).send().await.on(op("EnableKeyRotation"), "kms key", alias)?;
                }
                "rotation" => {
                    self.client.disable_key_rotation().key_id(id).send().await.on(op("DisableKeyRotation"), "kms key", alias)?;
                }
                "policy" => {
                    let policy = spec.policy.render(self.partition, &key.account_id).expect("a policy change has a wanted policy");
                    self.client.put_key_policy().key_id(id).policy_name("default").policy(policy.to_json()).send().await.on(
                        op("PutKeyPolicy"),
                        "kms key",
                        alias,
                    )?;
                }
                "tags" => self.apply_tags(key, spec).await?,
                other => unreachable!("no key field {other}"),
            }
        }
        Ok(())
    }

    async fn apply_tags(&self, key: &KeyInfo, spec: &KeySpec) -> Result<()> {
        let (id, alias) = (key.key_id.as_str(), spec.alias.as_str());
        let stale: Vec<String> = key.tags.keys().filter(|k| !spec.tags.contains_key(*k)).cloned().collect();
        if !stale.is_empty() {
            self.client.untag_resource().key_id(id).set_tag_keys(Some(stale)).send().await.on(op("UntagResource"), "kms key", alias)?;
        }
        let changed: BTreeMap<String, String> =
            spec.tags.iter().filter(|(k, v)| key.tags.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
        if !changed.is_empty() {
            let tag = op("TagResource");
            self.client.tag_resource().key_id(id).set_tags(Some(kms_tags(&changed, tag)?)).send().await.on(tag, "kms key", alias)?;
        }
        Ok(())
    }

    /// Schedule the deletion of the key named by `alias` after `pending_days`
    /// (7 to 30; `CancelKeyDeletion` stops it meanwhile) and delete the alias,
    /// so that a later [`Reconcile::ensure`] makes a new key. Everything encrypted
    /// with the key becomes unreadable once it is deleted: `confirm` must name the alias.
    ///
    /// # Errors
    /// [`Error::ConfirmationRequired`]; [`Error::InvalidInput`] on
    /// `pending_days` (before any request); [`Error::NotFound`].
    pub async fn schedule_key_deletion(&self, alias: &KeyAlias, pending_days: u32, confirm: &Confirm) -> Result<()> {
        confirm.check("schedule the deletion of kms key", alias.as_str())?;
        if !(7..=30).contains(&pending_days) {
            return Err(Error::invalid("pending_days", format!("is {pending_days}"), "KMS key deletion waits 7 to 30 days"));
        }
        let name = alias.as_str();
        let key = self.client.describe_key().key_id(name).send().await.on(op("DescribeKey"), "kms key", name)?;
        let key_id = key.key_metadata().ok_or_else(|| missing(op("DescribeKey"), "key metadata"))?.key_id().to_owned();
        self.client
            .schedule_key_deletion()
            .key_id(&key_id)
            .pending_window_in_days(i32::try_from(pending_days).unwrap_or(30))
            .send()
            .await
            .on(op("ScheduleKeyDeletion"), "kms key", name)?;
        self.client.delete_alias().alias_name(name).send().await.on(op("DeleteAlias"), "kms alias", name)?;
        Ok(())
    }
}

fn kms_tags(tags: &BTreeMap<String, String>, op: Op) -> Result<Vec<Tag>> {
    tags.iter().map(|(k, v)| Tag::builder().tag_key(k).tag_value(v).build().map_err(|e| build_error(op, e))).collect()
}

fn plan_of(spec: &KeySpec, fields: Vec<FieldChange>) -> Plan {
    if fields.is_empty() { Plan::new() } else { Plan::from_iter([Change::update("kms key", spec.alias.as_str(), fields)]) }
}

/// The key of `spec`: found by its alias; in [`Mode::Apply`] created with its
/// alias when missing, and its rotation, policy, description, state and tags
/// brought to the spec (a second call makes no mutating request). Callers use
/// the provided [`Reconcile::plan`] / [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] before any request; [`Error::Conflict`] when the
/// alias names a key scheduled for deletion; provider errors.
#[async_trait::async_trait]
impl Reconcile<KeySpec> for Kms {
    type Info = KeyInfo;

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "kms key", name = %spec.alias, mode = ?mode))]

    async fn reconcile(&self, spec: &KeySpec, mode: Mode) -> Result<Reconciled<KeyInfo>> {
        spec.validate()?;
        let current = match self.describe_key(&spec.alias).await {
            Ok(key) => {
                let fields = self.diff(&key, spec)?;
                Some((key, fields))
            }
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        };
        let plan = match &current {
            Some((_, fields)) => plan_of(spec, fields.clone()),
            None => Plan::from_iter([Change::create("kms key", spec.alias.as_str())]),
        };
        if !mode.is_apply() {
            return Ok(Reconciled { plan, info: current.map(|(key, _)| key) });
        }
        let (key, fields) = match current {
            Some(current) => current,
            None => {
                self.create_key(spec).await?;
                let key = self.describe_key(&spec.alias).await?;
                let fields = self.diff(&key, spec)?;
                (key, fields)
            }
        };
        self.apply(&key, spec, &fields).await?;
        let info = if fields.is_empty() { key } else { self.describe_key(&spec.alias).await? };
        Ok(Reconciled { plan, info: Some(info) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_follow_kms_rules() {
        assert!(KeyAlias::new("alias/deeploy").is_ok());
        assert!(KeyAlias::new("alias/team/app_key-1").is_ok());
        for bad in ["deeploy", "alias/", "alias/aws/s3", "alias/with space", "alias/ü"] {
            assert_eq!(KeyAlias::new(bad).unwrap_err().invalid_field(), Some("alias"), "{bad}");
        }
        assert!(KeyAlias::new(format!("alias/{}", "a".repeat(251))).is_err());
    }

    #[test]
    fn an_application_policy_needs_an_iam_principal() {
        let spec = |p: &str| {
            KeySpec::new(KeyAlias::new("alias/k").unwrap()).with_policy(KeyPolicy::Application { application_principal: p.into() })
        };
        assert!(spec("arn:aws:iam::123456789012:user/deeploy").validate().is_ok());
        assert!(spec("arn:aws:iam::123456789012:role/deeploy").validate().is_ok());
        for bad in ["deeploy", "arn:aws:iam::123:user/deeploy", "arn:aws:s3:::bucket", "arn:aws:iam::123456789012:group/x"] {
            assert_eq!(spec(bad).validate().unwrap_err().invalid_field(), Some("policy.application_principal"), "{bad}");
        }
        let mut tagged = KeySpec::new(KeyAlias::new("alias/k").unwrap());
        tagged.tags.insert("aws:x".into(), "y".into());
        assert_eq!(tagged.validate().unwrap_err().invalid_field(), Some("tags.aws:x"));
    }

    #[test]
    fn a_service_use_policy_names_aws_services_and_keeps_the_root() {
        let spec = |services: &[&str]| {
            KeySpec::new(KeyAlias::new("alias/k").unwrap())
                .with_policy(KeyPolicy::ServiceUse { services: services.iter().map(|s| (*s).to_owned()).collect() })
        };
        assert!(spec(&["cloudwatch.amazonaws.com", "events.amazonaws.com"]).validate().is_ok());
        for bad in [
            &[][..],
            &["cloudwatch"],
            &[".amazonaws.com"],
            &["*.amazonaws.com"],
            &["CloudWatch.amazonaws.com"],
            &["arn:aws:iam::123456789012:root"],
        ] {
            assert_eq!(spec(bad).validate().unwrap_err().invalid_field(), Some("policy.services"), "{bad:?}");
        }
        let doc = spec(&["cloudwatch.amazonaws.com"]).policy.render("aws", "123456789012").unwrap();
        let json: Value = serde_json::from_str(&doc.to_json()).unwrap();
        let statements = json["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0]["Principal"]["Service"], serde_json::json!(["cloudwatch.amazonaws.com"]));
        assert_eq!(statements[0]["Action"], serde_json::json!(["kms:Decrypt", "kms:GenerateDataKey*"]));
        assert_eq!(statements[1]["Principal"]["AWS"], serde_json::json!(["arn:aws:iam::123456789012:root"]));
    }
}
