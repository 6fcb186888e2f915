//! Cross-region replication: a source bucket copying its new object versions
//! to a destination bucket in another region, through an IAM role S3 assumes.
//!
//! [`ReplicationSpec`] says what should hold; with the `iam` feature,
//! `Replication` ([`S3Store::replication`], `Reconcile<ReplicationSpec>`:
//! `plan` / `ensure`) brings the destination bucket (with the
//! bucket defaults, in the destination region), the source's versioning, the
//! least-privilege role and policy, and the source's replication rule to it,
//! writing only what differs; [`S3Store::check_replication`] reads it all back
//! and reports each check. Without `iam`, `S3Store` reconciles a
//! [`ReplicationRuleSpec`]: the rule for a role the caller already has.

use std::fmt;

use aws_sdk_s3::types::{
    BucketVersioningStatus, DeleteMarkerReplication, DeleteMarkerReplicationStatus, Destination, EncryptionConfiguration,
    ReplicationConfiguration, ReplicationRule, ReplicationRuleFilter, ReplicationRuleStatus, SourceSelectionCriteria,
    SseKmsEncryptedObjects, SseKmsEncryptedObjectsStatus, VersioningConfiguration,
};
use deploy_core::plan::{Change, FieldChange, Plan};
use deploy_core::reconcile::{Mode, Reconcile, Reconciled};
use deploy_core::{BucketName, Error, Result};

use super::store::{S3Store, op};
use crate::error::{SdkResultExt, build_error, error_code};
use crate::policy::{PolicyDocument, Statement, bucket_arn};

/// The service principal a replication role trusts.
pub const REPLICATION_SERVICE: &str = "s3.amazonaws.com";

/// The KMS keys of SSE-KMS replication: objects the source encrypted with
/// `source_key_arn` are replicated, and their replicas encrypted with
/// `replica_key_arn` (a key of the destination region).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicationKms {
    /// The source objects' key (the role may `kms:Decrypt` with it).
    pub source_key_arn: String,
    /// The replicas' key, in the destination region (the role may `kms:Encrypt` with it).
    pub replica_key_arn: String,
}

/// What cross-region replication of one bucket should look like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicationSpec {
    /// The bucket replicated from, in the client's region.
    pub source: BucketName,
    /// The bucket replicated to.
    pub destination: BucketName,
    /// The destination bucket's region: another region than the source's.
    pub destination_region: String,
    /// The role S3 assumes to replicate; its managed policy has the same name.
    pub role: RoleName,
    /// Replicate only the keys starting with this prefix (`None`: every key).
    pub key_prefix: Option<String>,
    /// Whether delete markers are replicated too (off: a delete in the source
    /// leaves the replica readable).
    pub replicate_delete_markers: bool,
    /// SSE-KMS: the keys to decrypt source objects and encrypt replicas with.
    pub kms: Option<ReplicationKms>,
}

/// The name of the replication role: [`crate::iam::IamName`] with the `iam` feature.
#[cfg(feature = "iam")]
pub use crate::iam::IamName as RoleName;

#[cfg(not(feature = "iam"))]
fn check_role_name(name: &str) -> deploy_core::validate::Check {
    let ok = (1..=64).contains(&name.chars().count()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        deploy_core::validate::fault(format!("`{name}` breaks the rule"), "IAM role names: 1-64 letters, digits and + = , . @ _ -")
    }
}

#[cfg(not(feature = "iam"))]
deploy_core::validated_string!(
    /// The name of a replication role, checked as IAM checks role names (1 to 64
    /// letters, digits and `+ = , . @ _ -`); the `iam` feature uses `IamName`.
    RoleName, "name", check_role_name
);

/// Whether `region` has the form of an AWS region (`eu-central-1`).
fn looks_like_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// The region field of an ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`).
fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3)
}

impl ReplicationSpec {
    /// Replicate every key of `source` to `destination` in `destination_region`
    /// through role `role`, delete markers not replicated, no SSE-KMS.
    pub fn new(source: BucketName, destination: BucketName, destination_region: impl Into<String>, role: RoleName) -> Self {
        ReplicationSpec {
            source,
            destination,
            destination_region: destination_region.into(),
            role,
            key_prefix: None,
            replicate_delete_markers: false,
            kms: None,
        }
    }

    /// The rule's id, derived from the destination: `replicate-to-DESTINATION`.
    pub fn rule_id(&self) -> String {
        format!("replicate-to-{}", self.destination)
    }

    /// Check the spec against the source's region (the client's), before any request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field: `region` when the client has
    /// none; `destination_region` when it is not a region or is the source's;
    /// `destination` when it is the source; `key_prefix` when empty or over
    /// 1,024 characters; `kms.source_key_arn` / `kms.replica_key_arn` when not
    /// a KMS key ARN of the source's / destination's region.
    pub fn validate(&self, source_region: Option<&str>) -> Result<()> {
        let Some(source_region) = source_region else {
            return Err(Error::invalid("region", "is not set", "the client's region is the source bucket's region"));
        };
        if !looks_like_region(&self.destination_region) {
            return Err(Error::invalid(
                "destination_region",
                format!("`{}` is not a region", self.destination_region),
                "AWS regions: lowercase words and a number joined by hyphens (`us-west-2`)",
            ));
        }
        if self.destination_region == source_region {
            return Err(Error::invalid(
                "destination_region",
                format!("`{}` is the source's own region", self.destination_region),
                "cross-region replication copies to another region than the source's",
            ));
        }
        if self.destination == self.source {
            return Err(Error::invalid(
                "destination",
                format!("`{}` is the source bucket", self.destination),
                "a bucket is replicated to another bucket",
            ));
        }
        if let Some(prefix) = &self.key_prefix
            && (prefix.is_empty() || prefix.chars().count() > 1024)
        {
            return Err(Error::invalid(
                "key_prefix",
                format!("is {} characters long", prefix.chars().count()),
                "a key prefix filter: 1 to 1,024 characters (`None` for every key)",
            ));
        }
        if let Some(kms) = &self.kms {
            for (field, arn, region) in [
                ("kms.source_key_arn", &kms.source_key_arn, source_region),
                ("kms.replica_key_arn", &kms.replica_key_arn, self.destination_region.as_str()),
            ] {
                let is_key = arn.starts_with("arn:")
                    && arn.split(':').nth(2) == Some("kms")
                    && arn.split(':').nth(5).is_some_and(|r| r.starts_with("key/"));
                if !is_key {
                    return Err(Error::invalid(field, format!("`{arn}` is not a KMS key ARN"), "arn:PARTITION:kms:REGION:ACCOUNT:key/ID"));
                }
                if arn_region(arn) != Some(region) {
                    return Err(Error::invalid(field, format!("`{arn}` is not a key of {region}"), "the key lives in its bucket's region"));
                }
            }
        }
        Ok(())
    }

    /// The role's least-privilege policy: read the replication configuration and
    /// list the source; read object versions, ACLs and tags under `source/*`;
    /// replicate objects, deletes and tags into `destination/*`; with
    /// [`ReplicationSpec::kms`], `kms:Decrypt` with the source key and
    /// `kms:Encrypt` with the replica key. Never `Resource: "*"`.
    pub fn role_policy(&self, partition: &str) -> PolicyDocument {
        let source = bucket_arn(partition, &self.source);
        let destination = bucket_arn(partition, &self.destination);
        let mut statements = vec![
            Statement::allow(["s3:GetReplicationConfiguration", "s3:ListBucket"], [source.clone()]).with_sid("ReadSourceConfiguration"),
            Statement::allow(
                ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                [format!("{source}/*")],
            )
            .with_sid("ReadSourceVersions"),
            Statement::allow(["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], [format!("{destination}/*")])
                .with_sid("WriteReplicas"),
        ];
        if let Some(kms) = &self.kms {
            statements.push(Statement::allow(["kms:Decrypt"], [kms.source_key_arn.clone()]).with_sid("DecryptSourceObjects"));
            statements.push(Statement::allow(["kms:Encrypt"], [kms.replica_key_arn.clone()]).with_sid("EncryptReplicas"));
        }
        PolicyDocument::new(statements)
    }

    /// The rule this spec asks for (priority `priority`).
    fn rule(&self, partition: &str, priority: i32) -> Result<ReplicationRule> {
        let put = op("PutBucketReplication");
        let mut destination = Destination::builder().bucket(bucket_arn(partition, &self.destination));
        if let Some(kms) = &self.kms {
            destination =
                destination.encryption_configuration(EncryptionConfiguration::builder().replica_kms_key_id(&kms.replica_key_arn).build());
        }
        let delete_markers =
            if self.replicate_delete_markers { DeleteMarkerReplicationStatus::Enabled } else { DeleteMarkerReplicationStatus::Disabled };
        let mut rule = ReplicationRule::builder()
            .id(self.rule_id())
            .priority(priority)
            .status(ReplicationRuleStatus::Enabled)
            .filter(ReplicationRuleFilter::builder().prefix(self.key_prefix.clone().unwrap_or_default()).build())
            .delete_marker_replication(DeleteMarkerReplication::builder().status(delete_markers).build())
            .destination(destination.build().map_err(|e| build_error(put, e))?);
        if self.kms.is_some() {
            let objects =
                SseKmsEncryptedObjects::builder().status(SseKmsEncryptedObjectsStatus::Enabled).build().map_err(|e| build_error(put, e))?;
            rule = rule.source_selection_criteria(SourceSelectionCriteria::builder().sse_kms_encrypted_objects(objects).build());
        }
        rule.build().map_err(|e| build_error(put, e))
    }

    /// Compare the rule of this spec (and the configuration's role) with the
    /// source's configuration as read back: one check per field.
    fn compare(&self, partition: &str, role_arn: Option<&str>, current: Option<&ReplicationConfiguration>) -> Vec<ReplicationCheck> {
        let id = self.rule_id();
        let Some(rule) = current.and_then(|c| c.rules().iter().find(|r| r.id() == Some(id.as_str()))) else {
            let found = current.map_or_else(|| "no replication configuration".to_owned(), |c| format!("{} other rules", c.rules().len()));
            return vec![ReplicationCheck::new("replication rule", false, format!("no rule `{id}` ({found})"))];
        };
        let mut checks = vec![ReplicationCheck::new("replication rule", true, format!("rule `{id}`"))];
        let mut field = |name: &str, is: String, wanted: String| {
            let ok = is == wanted;
            let detail = if ok { is } else { format!("is {is}, should be {wanted}") };
            checks.push(ReplicationCheck::new(name, ok, detail));
        };
        field("rule status", rule.status().as_str().to_owned(), "Enabled".to_owned());
        let destination = rule.destination();
        field("rule destination", destination.map_or("(none)", Destination::bucket).to_owned(), bucket_arn(partition, &self.destination));
        if let Some(role_arn) = role_arn {
            field("rule role", current.and_then(ReplicationConfiguration::role_opt).unwrap_or("(none)").to_owned(), role_arn.to_owned());
        }
        // A V1 rule (written by other tools) has its prefix on the rule, not in a filter.
        #[allow(deprecated)]
        let prefix = rule.filter().and_then(ReplicationRuleFilter::prefix).or(rule.prefix()).unwrap_or_default();
        field("rule key prefix", show_prefix(prefix), show_prefix(self.key_prefix.as_deref().unwrap_or_default()));
        let markers = rule.delete_marker_replication().and_then(DeleteMarkerReplication::status).map_or("Disabled", |s| s.as_str());
        field("rule delete markers", markers.to_owned(), if self.replicate_delete_markers { "Enabled" } else { "Disabled" }.to_owned());
        let replica_key = destination.and_then(Destination::encryption_configuration).and_then(EncryptionConfiguration::replica_kms_key_id);
        let kms_objects = rule
            .source_selection_criteria()
            .and_then(SourceSelectionCriteria::sse_kms_encrypted_objects)
            .is_some_and(|o| o.status() == &SseKmsEncryptedObjectsStatus::Enabled);
        let show_kms = |key: Option<&str>, objects: bool| match (key, objects) {
            (None, false) => "none".to_owned(),
            (key, objects) => {
                format!("SSE-KMS objects {}, replica key {}", if objects { "replicated" } else { "skipped" }, key.unwrap_or("(none)"))
            }
        };
        field(
            "rule SSE-KMS",
            show_kms(replica_key, kms_objects),
            show_kms(self.kms.as_ref().map(|k| k.replica_key_arn.as_str()), self.kms.is_some()),
        );
        checks
    }
}

fn show_prefix(prefix: &str) -> String {
    if prefix.is_empty() { "(every key)".to_owned() } else { format!("`{prefix}`") }
}

/// `ReplicationConfiguration::role` as an `Option` (empty: none).
trait RoleOpt {
    fn role_opt(&self) -> Option<&str>;
}

impl RoleOpt for ReplicationConfiguration {
    fn role_opt(&self) -> Option<&str> {
        Some(self.role()).filter(|r| !r.is_empty())
    }
}

/// One check of a [`ReplicationReport`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicationCheck {
    /// What was checked (`source versioning`, `rule status`, ...).
    pub name: String,
    /// Whether it holds as the spec says.
    pub ok: bool,
    /// What was found; when not ok, how it differs from the spec.
    pub detail: String,
}

impl ReplicationCheck {
    fn new(name: &str, ok: bool, detail: impl Into<String>) -> Self {
        ReplicationCheck { name: name.to_owned(), ok, detail: detail.into() }
    }
}

/// Whether replication is configured as a [`ReplicationSpec`] says: each check
/// read back from S3 and IAM.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicationReport {
    /// The checks, in the order made.
    pub checks: Vec<ReplicationCheck>,
}

impl ReplicationReport {
    /// Whether every check holds.
    pub fn is_ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// The checks that do not hold.
    pub fn failures(&self) -> Vec<&ReplicationCheck> {
        self.checks.iter().filter(|c| !c.ok).collect()
    }

    /// The check named `name`.
    pub fn check(&self, name: &str) -> Option<&ReplicationCheck> {
        self.checks.iter().find(|c| c.name == name)
    }
}

impl fmt::Display for ReplicationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            writeln!(f, "{} {}: {}", if c.ok { "ok  " } else { "DIFF" }, c.name, c.detail)?;
        }
        Ok(())
    }
}

impl S3Store {
    /// The replication configuration of `bucket`; `None` when it has none.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the bucket does not exist; provider errors.
    pub async fn describe_replication(&self, bucket: &BucketName) -> Result<Option<ReplicationConfiguration>> {
        match self.client.get_bucket_replication().bucket(bucket.as_str()).send().await {
            Ok(out) => Ok(out.replication_configuration),
            Err(e) if error_code(&e) == Some("ReplicationConfigurationNotFoundError") => Ok(None),
            Err(e) => Err(e).on(op("GetBucketReplication"), "bucket", bucket.as_str()),
        }
    }

    /// Whether versioning of `bucket` is `Enabled`.
    #[cfg_attr(not(feature = "iam"), allow(dead_code))] // used by ensure/check_replication
    async fn versioning_enabled(&self, bucket: &BucketName) -> Result<bool> {
        let out = self.client.get_bucket_versioning().bucket(bucket.as_str()).send().await.on(
            op("GetBucketVersioning"),
            "bucket",
            bucket.as_str(),
        )?;
        Ok(out.status() == Some(&BucketVersioningStatus::Enabled))
    }

    /// Versioning of `bucket`: in [`Mode::Apply`] turned on when it is not
    /// (replication needs it); the rest of the bucket's settings are left as
    /// they are.
    #[cfg_attr(not(feature = "iam"), allow(dead_code))] // used by the Reconcile of Replication
    async fn reconcile_versioning(&self, bucket: &BucketName, mode: Mode) -> Result<Plan> {
        if self.versioning_enabled(bucket).await? {
            return Ok(Plan::new());
        }
        let name = bucket.as_str();
        if mode.is_apply() {
            let config = VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build();
            self.client.put_bucket_versioning().bucket(name).versioning_configuration(config).send().await.on(
                op("PutBucketVersioning"),
                "bucket",
                name,
            )?;
        }
        Ok(Plan::from_iter([Change::update("bucket", name, vec![FieldChange::new("versioning", false, true)])]))
    }

    /// The configuration to write: `current`'s other rules kept, the spec's rule
    /// (re)placed, the role set. `None` when `current` already holds the spec.
    fn wanted_configuration(
        &self,
        spec: &ReplicationSpec,
        role_arn: &str,
        current: Option<&ReplicationConfiguration>,
    ) -> Result<Option<(ReplicationConfiguration, Vec<FieldChange>)>> {
        let checks = spec.compare(self.partition(), Some(role_arn), current);
        let fields: Vec<FieldChange> =
            checks.iter().filter(|c| !c.ok).map(|c| FieldChange::new(&c.name, &c.detail, "as the spec says")).collect();
        if fields.is_empty() {
            return Ok(None);
        }
        let id = spec.rule_id();
        let others: Vec<ReplicationRule> =
            current.map(|c| c.rules().iter().filter(|r| r.id() != Some(id.as_str())).cloned().collect()).unwrap_or_default();
        let ours = current.and_then(|c| c.rules().iter().find(|r| r.id() == Some(id.as_str())));
        let taken: Vec<i32> = others.iter().filter_map(ReplicationRule::priority).collect();
        let priority = ours
            .and_then(ReplicationRule::priority)
            .filter(|p| !taken.contains(p))
            .unwrap_or_else(|| taken.iter().max().map_or(1, |m| m + 1));
        let mut rules = others;
        rules.push(spec.rule(self.partition(), priority)?);
        let config = ReplicationConfiguration::builder()
            .role(role_arn)
            .set_rules(Some(rules))
            .build()
            .map_err(|e| build_error(op("PutBucketReplication"), e))?;
        Ok(Some((config, fields)))
    }

    /// The spec's rule on the source for the role `role_arn`: in
    /// [`Mode::Apply`] written only when the source's configuration differs
    /// (other rules are kept).
    async fn reconcile_rule(&self, spec: &ReplicationSpec, role_arn: &str, mode: Mode) -> Result<Plan> {
        let current = self.describe_replication(&spec.source).await?;
        let Some((config, fields)) = self.wanted_configuration(spec, role_arn, current.as_ref())? else {
            return Ok(Plan::new());
        };
        let source = spec.source.as_str();
        if mode.is_apply() {
            self.client.put_bucket_replication().bucket(source).replication_configuration(config).send().await.on(
                op("PutBucketReplication"),
                "bucket",
                source,
            )?;
        }
        let change = if current.is_none() {
            Change::create("replication rule", format!("{} on {source}", spec.rule_id()))
        } else {
            Change::update("replication rule", format!("{} on {source}", spec.rule_id()), fields)
        };
        Ok(Plan::from_iter([change]))
    }
}

/// The rule of a [`ReplicationSpec`] on its source bucket, for a role the
/// caller already has (the buckets are the caller's too); see
/// [`Replication`](crate::s3::Replication) (feature `iam`) for the whole setup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicationRuleSpec {
    /// What replication should look like.
    pub replication: ReplicationSpec,
    /// The ARN of the role S3 assumes to replicate.
    pub role_arn: String,
}

impl ReplicationRuleSpec {
    /// The rule of `replication` for the existing role `role_arn`.
    pub fn new(replication: ReplicationSpec, role_arn: impl Into<String>) -> Self {
        ReplicationRuleSpec { replication, role_arn: role_arn.into() }
    }
}

/// The spec's rule on the source for the existing role: in [`Mode::Apply`]
/// written only when the source's configuration differs (other rules are
/// kept). The info is `()`. Callers use the provided [`Reconcile::plan`] /
/// [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] before any request; [`Error::NotFound`] for a
/// missing source; provider errors (S3 refuses a source without versioning).
#[async_trait::async_trait]
impl Reconcile<ReplicationRuleSpec> for S3Store {
    type Info = ();

    #[tracing::instrument(level = "info", skip_all, fields(backend = "aws-s3", kind = "replication rule", name = %spec.replication.source, mode = ?mode))]

    async fn reconcile(&self, spec: &ReplicationRuleSpec, mode: Mode) -> Result<Reconciled<()>> {
        spec.replication.validate(self.region())?;
        let plan = self.reconcile_rule(&spec.replication, &spec.role_arn, mode).await?;
        let info = (mode.is_apply() || plan.is_empty()).then_some(());
        Ok(Reconciled { plan, info })
    }
}

#[cfg(feature = "iam")]
pub(super) mod with_iam {
    use deploy_core::BucketSpec;

    use super::*;
    use crate::iam::{Iam, ManagedPolicySpec, RoleInfo, RoleSpec};
    use crate::policy::{bucket_arn, equivalent, trust_service_in};

    impl ReplicationSpec {
        /// The managed policy of the role: [`ReplicationSpec::role_policy`],
        /// named as the role.
        pub fn policy_spec(&self, partition: &str) -> ManagedPolicySpec {
            ManagedPolicySpec {
                description: format!("replicate bucket {} to {}", self.source, self.destination),
                ..ManagedPolicySpec::new(self.role.clone(), self.role_policy(partition))
            }
        }

        /// The role's trust: `s3.amazonaws.com`, only for account `account_id`
        /// (`aws:SourceAccount`) and the source bucket (`aws:SourceArn`), as
        /// S3's replication documentation shows, against the confused deputy.
        pub fn role_trust(&self, partition: &str, account_id: &str) -> crate::policy::PolicyDocument {
            trust_service_in(REPLICATION_SERVICE, account_id, Some(&bucket_arn(partition, &self.source)))
        }

        /// The role: trusting `s3.amazonaws.com` for the source bucket of the
        /// account of `policy_arn` ([`ReplicationSpec::role_trust`]), with `policy_arn` attached.
        pub fn role_spec(&self, policy_arn: &str) -> RoleSpec {
            let mut parts = policy_arn.split(':');
            let (partition, account) = (parts.nth(1).unwrap_or("aws"), parts.nth(2).unwrap_or_default());
            RoleSpec {
                description: format!("S3 replication of {} to {}", self.source, self.destination),
                ..RoleSpec::new(self.role.clone(), self.role_trust(partition, account)).with_managed_policy(policy_arn)
            }
        }
    }

    /// Replication as a whole: the source's versioning, the destination
    /// bucket, the least-privilege role and policy, and the rule — S3 and IAM
    /// together. Made by [`S3Store::replication`].
    #[derive(Clone, Debug)]
    pub struct Replication {
        s3: S3Store,
        iam: Iam,
    }

    impl Replication {
        /// Replication through `s3` (the source's region) and `iam`.
        pub fn new(s3: &S3Store, iam: &Iam) -> Self {
            Replication { s3: s3.clone(), iam: iam.clone() }
        }
    }

    /// Replication as `spec` says, in [`Mode::Apply`] writing only what differs:
    /// 1. versioning of the source (its other settings are left alone);
    /// 2. the destination bucket in [`ReplicationSpec::destination_region`]
    ///    with the bucket defaults (versioned, encrypted, public access
    ///    blocked, TLS only), through [`S3Store::in_region`];
    /// 3. the managed policy [`ReplicationSpec::role_policy`] and the role
    ///    trusting `s3.amazonaws.com` with it attached, both named
    ///    [`ReplicationSpec::role`];
    /// 4. the source's rule [`ReplicationSpec::rule_id`], written only when
    ///    the configuration read back differs.
    ///
    /// The info is the role. A second call makes no mutating request.
    /// Callers use the provided [`Reconcile::plan`] / [`Reconcile::ensure`].
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; [`Error::NotFound`] for a
    /// missing source bucket; provider errors.
    #[async_trait::async_trait]
    impl Reconcile<ReplicationSpec> for Replication {
        type Info = RoleInfo;

        #[tracing::instrument(level = "info", skip_all, fields(backend = "aws-s3", kind = "replication", name = %spec.source, mode = ?mode))]

        async fn reconcile(&self, spec: &ReplicationSpec, mode: Mode) -> Result<Reconciled<RoleInfo>> {
            let (s3, iam) = (&self.s3, &self.iam);
            spec.validate(s3.region())?;
            // The source first: a missing source fails before anything is made.
            let mut plan = s3.reconcile_versioning(&spec.source, mode).await?;
            plan.extend(s3.in_region(&spec.destination_region).reconcile(&BucketSpec::new(spec.destination.clone()), mode).await?);
            let policy = Reconcile::<ManagedPolicySpec>::reconcile(iam, &spec.policy_spec(s3.partition()), mode).await?;
            plan.extend(policy.plan);
            let rule = format!("{} on {}", spec.rule_id(), spec.source);
            let Some(policy) = policy.info else {
                // Planning without the policy: its ARN, which the role's spec names, is not known yet.
                match iam.describe_role(&spec.role).await {
                    Ok(_) => {}
                    Err(e) if e.is_not_found() => plan.push(Change::create("iam role", spec.role.as_str())),
                    Err(e) => return Err(e),
                }
                plan.push(Change::create("policy attachment", format!("{} to role {}", spec.role, spec.role)));
                plan.push(Change::create("replication rule", rule));
                return Ok(Reconciled { plan, info: None });
            };
            let role = Reconcile::<RoleSpec>::reconcile(iam, &spec.role_spec(&policy.arn), mode).await?;
            plan.extend(role.plan);
            match &role.info {
                Some(info) => plan.extend(s3.reconcile_rule(spec, &info.arn, mode).await?),
                None => plan.push(Change::create("replication rule", rule)),
            }
            Ok(Reconciled { plan, info: role.info })
        }
    }

    impl S3Store {
        /// Replication from this store's region, its role and policy through
        /// `iam`: `s3.replication(&iam).ensure(&spec)`.
        pub fn replication(&self, iam: &Iam) -> Replication {
            Replication::new(self, iam)
        }

        /// Read back the source's replication configuration, both buckets'
        /// versioning and region, and the role with its policy, and report each
        /// check against `spec`. Makes no mutating request.
        ///
        /// # Errors
        /// [`Error::InvalidInput`] before any request; [`Error::NotFound`] for a
        /// missing source bucket; provider errors. A missing destination or
        /// role is a failed check, not an error.
        pub async fn check_replication(&self, spec: &ReplicationSpec, iam: &Iam) -> Result<ReplicationReport> {
            spec.validate(self.region())?;
            let mut checks = Vec::new();
            let source_versioned = self.versioning_enabled(&spec.source).await?;
            checks.push(ReplicationCheck::new(
                "source versioning",
                source_versioned,
                if source_versioned { "Enabled" } else { "not Enabled" },
            ));

            let destination = self.in_region(&spec.destination_region);
            let name = spec.destination.as_str();
            match destination.client.get_bucket_location().bucket(name).send().await.on(op("GetBucketLocation"), "bucket", name) {
                Ok(out) => {
                    let region = out.location_constraint().map_or("us-east-1", |l| l.as_str());
                    let region = if region.is_empty() { "us-east-1" } else { region };
                    let ok = region == spec.destination_region;
                    let detail = if ok { region.to_owned() } else { format!("is {region}, should be {}", spec.destination_region) };
                    checks.push(ReplicationCheck::new("destination region", ok, detail));
                    let versioned = destination.versioning_enabled(&spec.destination).await?;
                    checks.push(ReplicationCheck::new(
                        "destination versioning",
                        versioned,
                        if versioned { "Enabled" } else { "not Enabled" },
                    ));
                }
                Err(e) if e.is_not_found() => {
                    checks.push(ReplicationCheck::new("destination bucket", false, format!("`{name}` does not exist")));
                }
                Err(e) => return Err(e),
            }

            let role = match iam.describe_role(&spec.role).await {
                Ok(role) => Some(role),
                Err(e) if e.is_not_found() => None,
                Err(e) => return Err(e),
            };
            match &role {
                None => checks.push(ReplicationCheck::new("role", false, format!("`{}` does not exist", spec.role))),
                Some(role) => {
                    let account = role.arn.split(':').nth(4).unwrap_or_default();
                    let trust = serde_json::to_value(spec.role_trust(self.partition(), account)).expect("a policy serializes");
                    let ok = equivalent(&role.trust, &trust);
                    let detail = if ok {
                        format!("{} trusts {REPLICATION_SERVICE}", role.arn)
                    } else {
                        format!("trust is {}, should be {trust}", role.trust)
                    };
                    checks.push(ReplicationCheck::new("role trust", ok, detail));
                    let wanted = serde_json::to_value(spec.role_policy(self.partition())).expect("a policy serializes");
                    let check = match iam.describe_policy(&spec.role).await {
                        Ok(p) if !role.managed_policies.contains(&p.arn) => {
                            ReplicationCheck::new("role policy", false, format!("{} is not attached", p.arn))
                        }
                        Ok(p) if !equivalent(&p.document, &wanted) => {
                            ReplicationCheck::new("role policy", false, format!("is {}, should be {wanted}", p.document))
                        }
                        Ok(p) => ReplicationCheck::new("role policy", true, format!("{} attached, least privilege", p.arn)),
                        Err(e) if e.is_not_found() => {
                            ReplicationCheck::new("role policy", false, format!("policy `{}` does not exist", spec.role))
                        }
                        Err(e) => return Err(e),
                    };
                    checks.push(check);
                }
            }

            let current = self.describe_replication(&spec.source).await?;
            checks.extend(spec.compare(
                self.partition(),
                Some(role.as_ref().map_or("(role missing)", |r| r.arn.as_str())),
                current.as_ref(),
            ));
            Ok(ReplicationReport { checks })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str) -> RoleName {
        RoleName::new(name).unwrap()
    }

    fn spec() -> ReplicationSpec {
        ReplicationSpec::new(
            BucketName::new("prod-assets").unwrap(),
            BucketName::new("prod-assets-replica").unwrap(),
            "us-west-2",
            role("prod-replication"),
        )
    }

    #[test]
    fn bad_specs_name_their_field() {
        let field = |s: &ReplicationSpec| s.validate(Some("eu-central-1")).unwrap_err().invalid_field().map(str::to_owned);
        let mut s = spec();
        s.destination_region = "eu-central-1".into();
        assert_eq!(field(&s).as_deref(), Some("destination_region"));
        s.destination_region = "Mars".into();
        assert_eq!(field(&s).as_deref(), Some("destination_region"));
        let mut s = spec();
        s.destination = s.source.clone();
        assert_eq!(field(&s).as_deref(), Some("destination"));
        let mut s = spec();
        s.key_prefix = Some(String::new());
        assert_eq!(field(&s).as_deref(), Some("key_prefix"));
        let mut s = spec();
        s.kms = Some(ReplicationKms {
            source_key_arn: "arn:aws:kms:eu-central-1:123456789012:key/a".into(),
            replica_key_arn: "arn:aws:kms:eu-central-1:123456789012:key/b".into(),
        });
        assert_eq!(field(&s).as_deref(), Some("kms.replica_key_arn"));
        assert_eq!(spec().validate(None).unwrap_err().invalid_field(), Some("region"));
        assert!(spec().validate(Some("eu-central-1")).is_ok());
    }

    #[test]
    fn the_role_policy_names_both_buckets_and_no_wildcard() {
        let mut s = spec();
        let doc = s.role_policy("aws");
        assert!(!doc.has_wildcard_resource());
        let json = doc.to_json();
        assert!(json.contains("arn:aws:s3:::prod-assets\"") && json.contains("arn:aws:s3:::prod-assets/*"), "{json}");
        assert!(json.contains("arn:aws:s3:::prod-assets-replica/*") && !json.contains("kms:"), "{json}");
        s.kms = Some(ReplicationKms {
            source_key_arn: "arn:aws:kms:eu-central-1:1:key/a".into(),
            replica_key_arn: "arn:aws:kms:us-west-2:1:key/b".into(),
        });
        let doc = s.role_policy("aws");
        assert!(!doc.has_wildcard_resource());
        let kms: Vec<_> = doc.statement.iter().filter(|st| st.action.iter().any(|a| a.starts_with("kms:"))).collect();
        assert_eq!(kms.len(), 2);
        assert_eq!(
            (kms[0].action.as_slice(), kms[0].resource.as_slice()),
            (&["kms:Decrypt".to_owned()][..], &["arn:aws:kms:eu-central-1:1:key/a".to_owned()][..])
        );
        assert_eq!(
            (kms[1].action.as_slice(), kms[1].resource.as_slice()),
            (&["kms:Encrypt".to_owned()][..], &["arn:aws:kms:us-west-2:1:key/b".to_owned()][..])
        );
    }

    #[test]
    fn the_written_rule_compares_equal_and_each_field_is_checked() {
        let mut s = spec();
        s.key_prefix = Some("models/".into());
        s.replicate_delete_markers = true;
        s.kms = Some(ReplicationKms {
            source_key_arn: "arn:aws:kms:eu-central-1:1:key/a".into(),
            replica_key_arn: "arn:aws:kms:us-west-2:1:key/b".into(),
        });
        let role_arn = "arn:aws:iam::1:role/prod-replication";
        let config = |rule: ReplicationRule| ReplicationConfiguration::builder().role(role_arn).rules(rule).build().unwrap();
        let same = config(s.rule("aws", 1).unwrap());
        let checks = s.compare("aws", Some(role_arn), Some(&same));
        assert!(checks.iter().all(|c| c.ok), "{checks:?}");
        assert_eq!(checks.len(), 7);

        let mut plain = spec();
        plain.role = s.role.clone();
        let differs = plain.compare("aws", Some(role_arn), Some(&same));
        let failed: Vec<&str> = differs.iter().filter(|c| !c.ok).map(|c| c.name.as_str()).collect();
        assert_eq!(failed, ["rule key prefix", "rule delete markers", "rule SSE-KMS"]);
        let none = s.compare("aws", Some(role_arn), None);
        assert_eq!(none.len(), 1);
        assert!(!none[0].ok);
    }
}
