//! Buckets: read the five settings and the lifecycle rules back, plan, apply
//! only what differs, delete.

use std::collections::BTreeMap;

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint, BucketVersioningStatus,
    CreateBucketConfiguration, Delete, ExpirationStatus, LifecycleRule, LifecycleRuleFilter, ObjectIdentifier,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, Tag, Tagging, VersioningConfiguration,
};
use deploy_core::object_store::{BucketInfo, Encryption};
use deploy_core::plan::{Change, FieldChange, Plan};
use deploy_core::{BucketName, BucketSpec, Confirm, Error, Mode, Result};
use serde_json::Value;

use super::store::{S3Store, SERVICE, op};
use crate::error::{SdkResultExt, build_error, error_code};
use crate::policy::{DENY_INSECURE_TRANSPORT_SID, denies_insecure_transport, deny_insecure_transport};

/// A bucket's settings as S3 holds them, with what the neutral [`BucketInfo`]
/// cannot say (a missing default-encryption configuration, a partial public
/// access block, the other statements of the bucket policy).
#[derive(Clone, Debug, Default)]
pub(super) struct BucketState {
    versioning: bool,
    /// `None`: no default-encryption configuration (S3 then applies SSE-S3 anyway).
    encryption: Option<Encryption>,
    /// All four switches of the public access block.
    block_public_access: bool,
    /// The bucket policy, when there is one.
    policy: Option<Value>,
    tags: BTreeMap<String, String>,
    /// The lifecycle rules (kept when the abort rule is added).
    lifecycle: Vec<LifecycleRule>,
}

/// The id of the lifecycle rule that `ensure_bucket` adds.
pub const ABORT_INCOMPLETE_UPLOADS_RULE: &str = "deploy-abort-incomplete-multipart-uploads";

/// Days after which an incomplete multipart upload is aborted by the bucket's lifecycle rule.
pub const ABORT_INCOMPLETE_UPLOADS_DAYS: i32 = 1;

/// Whether `rule` aborts every incomplete upload of the bucket within [`ABORT_INCOMPLETE_UPLOADS_DAYS`].
fn aborts_incomplete_uploads(rule: &LifecycleRule) -> bool {
    #[allow(deprecated)] // the rule-level prefix is deprecated, but an old rule may still carry one
    let rule_prefix = rule.prefix();
    let whole_bucket = rule_prefix.is_none_or(str::is_empty)
        && rule.filter().is_none_or(|f| {
            f.prefix().is_none_or(str::is_empty)
                && f.tag().is_none()
                && f.and().is_none()
                && f.object_size_greater_than().is_none()
                && f.object_size_less_than().is_none()
        });
    *rule.status() == ExpirationStatus::Enabled
        && whole_bucket
        && rule
            .abort_incomplete_multipart_upload()
            .and_then(AbortIncompleteMultipartUpload::days_after_initiation)
            .is_some_and(|d| d <= ABORT_INCOMPLETE_UPLOADS_DAYS)
}

impl BucketState {
    fn require_tls(&self) -> bool {
        self.policy_statements().iter().any(denies_insecure_transport)
    }

    fn aborts_incomplete_uploads(&self) -> bool {
        self.lifecycle.iter().any(aborts_incomplete_uploads)
    }

    fn policy_statements(&self) -> Vec<Value> {
        match self.policy.as_ref().and_then(|p| p.get("Statement")) {
            Some(Value::Array(items)) => items.clone(),
            Some(one) => vec![one.clone()],
            None => Vec::new(),
        }
    }

    fn info(&self, name: &BucketName) -> BucketInfo {
        BucketInfo {
            name: name.clone(),
            versioning: self.versioning,
            // Since 2023 S3 encrypts every new object with SSE-S3 when a bucket has no configuration.
            encryption: self.encryption.clone().unwrap_or_default(),
            block_public_access: self.block_public_access,
            require_tls: self.require_tls(),
            tags: self.tags.clone(),
        }
    }

    /// The fields that differ from `spec`, in the order they are applied.
    fn diff(&self, spec: &BucketSpec) -> Vec<FieldChange> {
        let mut fields = Vec::new();
        if self.versioning != spec.versioning {
            fields.push(FieldChange::new("versioning", self.versioning, spec.versioning));
        }
        if self.encryption.as_ref() != Some(&spec.encryption) {
            let from = self.encryption.as_ref().map_or_else(|| "none (S3's default SSE-S3)".to_owned(), describe_encryption);
            fields.push(FieldChange::new("encryption", from, describe_encryption(&spec.encryption)));
        }
        if self.block_public_access != spec.block_public_access {
            fields.push(FieldChange::new("block_public_access", self.block_public_access, spec.block_public_access));
        }
        if self.require_tls() != spec.require_tls {
            fields.push(FieldChange::new("require_tls", self.require_tls(), spec.require_tls));
        }
        if self.tags != spec.tags {
            fields.push(FieldChange::new("tags", format!("{:?}", self.tags), format!("{:?}", spec.tags)));
        }
        // Not a field of the neutral spec: every bucket the SDK ensures gets it.
        if !self.aborts_incomplete_uploads() {
            fields.push(FieldChange::new("abort_incomplete_uploads", "never", format!("after {ABORT_INCOMPLETE_UPLOADS_DAYS} day")));
        }
        fields
    }
}

fn describe_encryption(e: &Encryption) -> String {
    match e {
        Encryption::ProviderManaged => "SSE-S3".to_owned(),
        Encryption::Key(key) => format!("SSE-KMS with key {key}"),
    }
}

/// S3's limits on a bucket spec that no type carries.
pub(super) fn validate_spec(spec: &BucketSpec) -> Result<()> {
    if let Encryption::Key(key) = &spec.encryption
        && (key.trim().is_empty() || key.chars().any(char::is_whitespace))
    {
        return Err(Error::invalid("encryption", "names an empty or blank key", "SSE-KMS needs a KMS key id, ARN or alias"));
    }
    let rule = "S3 tags: at most 50; keys 1-128 characters, not starting with `aws:`; values at most 256 characters";
    if spec.tags.len() > 50 {
        return Err(Error::invalid("tags", format!("has {} tags", spec.tags.len()), rule));
    }
    for (k, v) in &spec.tags {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(Error::invalid(format!("tags.{k}"), format!("key is {} characters long", k.chars().count()), rule));
        }
        if k.starts_with("aws:") {
            return Err(Error::invalid(format!("tags.{k}"), "key starts with the reserved prefix `aws:`", rule));
        }
        if v.chars().count() > 256 {
            return Err(Error::invalid(format!("tags.{k}"), format!("value is {} characters long", v.chars().count()), rule));
        }
    }
    Ok(())
}

impl S3Store {
    /// The bucket's settings; [`Error::NotFound`] when it does not exist.
    pub(super) async fn bucket_state(&self, bucket: &BucketName) -> Result<BucketState> {
        let name = bucket.as_str();
        self.client.head_bucket().bucket(name).send().await.on(op("HeadBucket"), "bucket", name)?;
        let (versioning, encryption, block, policy, tags, lifecycle) = futures::try_join!(
            self.read_versioning(bucket),
            self.read_encryption(bucket),
            self.read_public_access_block(bucket),
            self.read_policy(bucket),
            self.read_tags(bucket),
            self.read_lifecycle(bucket),
        )?;
        Ok(BucketState { versioning, encryption, block_public_access: block, policy, tags, lifecycle })
    }

    async fn read_lifecycle(&self, bucket: &BucketName) -> Result<Vec<LifecycleRule>> {
        match self.client.get_bucket_lifecycle_configuration().bucket(bucket.as_str()).send().await {
            Ok(out) => Ok(out.rules().to_vec()),
            Err(e) if error_code(&e) == Some("NoSuchLifecycleConfiguration") => Ok(Vec::new()),
            Err(e) => Err(e).on(op("GetBucketLifecycleConfiguration"), "bucket", bucket.as_str()),
        }
    }

    /// Add the rule aborting incomplete uploads after a day, keeping the bucket's other rules.
    async fn put_abort_rule(&self, bucket: &str, state: &BucketState) -> Result<()> {
        let put = op("PutBucketLifecycleConfiguration");
        let rule = LifecycleRule::builder()
            .id(ABORT_INCOMPLETE_UPLOADS_RULE)
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("").build())
            .abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder().days_after_initiation(ABORT_INCOMPLETE_UPLOADS_DAYS).build(),
            )
            .build()
            .map_err(|e| build_error(put, e))?;
        let mut rules: Vec<LifecycleRule> =
            state.lifecycle.iter().filter(|r| r.id() != Some(ABORT_INCOMPLETE_UPLOADS_RULE)).cloned().collect();
        rules.push(rule);
        let config = BucketLifecycleConfiguration::builder().set_rules(Some(rules)).build().map_err(|e| build_error(put, e))?;
        self.client
            .put_bucket_lifecycle_configuration()
            .bucket(bucket)
            .lifecycle_configuration(config)
            .send()
            .await
            .on(put, "bucket", bucket)?;
        Ok(())
    }

    /// Whether versioning is on (`GetBucketVersioning`); [`Error::NotFound`] for a missing bucket.
    pub(super) async fn versioning(&self, bucket: &BucketName) -> Result<bool> {
        self.read_versioning(bucket).await
    }

    /// Whether the bucket holds an object, an older version or a delete marker.
    pub(super) async fn holds_versions(&self, bucket: &BucketName) -> Result<bool> {
        let name = bucket.as_str();
        let first =
            self.client.list_object_versions().bucket(name).max_keys(1).send().await.on(op("ListObjectVersions"), "bucket", name)?;
        Ok(!first.versions().is_empty() || !first.delete_markers().is_empty())
    }

    async fn read_versioning(&self, bucket: &BucketName) -> Result<bool> {
        let out = self.client.get_bucket_versioning().bucket(bucket.as_str()).send().await.on(
            op("GetBucketVersioning"),
            "bucket",
            bucket.as_str(),
        )?;
        Ok(out.status() == Some(&BucketVersioningStatus::Enabled))
    }

    async fn read_encryption(&self, bucket: &BucketName) -> Result<Option<Encryption>> {
        let out = match self.client.get_bucket_encryption().bucket(bucket.as_str()).send().await {
            Ok(out) => out,
            Err(e) if error_code(&e) == Some("ServerSideEncryptionConfigurationNotFoundError") => return Ok(None),
            Err(e) => return Err(e).on(op("GetBucketEncryption"), "bucket", bucket.as_str()),
        };
        let default = out
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default());
        Ok(default.map(|d| match d.sse_algorithm() {
            ServerSideEncryption::AwsKms | ServerSideEncryption::AwsKmsDsse => {
                d.kms_master_key_id().map_or(Encryption::Key("aws/s3".to_owned()), |k| Encryption::Key(k.to_owned()))
            }
            _ => Encryption::ProviderManaged,
        }))
    }

    async fn read_public_access_block(&self, bucket: &BucketName) -> Result<bool> {
        let out = match self.client.get_public_access_block().bucket(bucket.as_str()).send().await {
            Ok(out) => out,
            Err(e) if error_code(&e) == Some("NoSuchPublicAccessBlockConfiguration") => return Ok(false),
            Err(e) => return Err(e).on(op("GetPublicAccessBlock"), "bucket", bucket.as_str()),
        };
        Ok(out.public_access_block_configuration().is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        }))
    }

    async fn read_policy(&self, bucket: &BucketName) -> Result<Option<Value>> {
        let out = match self.client.get_bucket_policy().bucket(bucket.as_str()).send().await {
            Ok(out) => out,
            Err(e) if error_code(&e) == Some("NoSuchBucketPolicy") => return Ok(None),
            Err(e) => return Err(e).on(op("GetBucketPolicy"), "bucket", bucket.as_str()),
        };
        match out.policy() {
            None | Some("") => Ok(None),
            Some(text) => crate::policy::parse_policy(text).map(Some).map_err(|_| Error::Provider {
                provider: SERVICE,
                operation: "GetBucketPolicy".to_owned(),
                message: format!("the policy of bucket `{bucket}` is not JSON"),
                retryable: false,
                source: None,
            }),
        }
    }

    async fn read_tags(&self, bucket: &BucketName) -> Result<BTreeMap<String, String>> {
        let out = match self.client.get_bucket_tagging().bucket(bucket.as_str()).send().await {
            Ok(out) => out,
            Err(e) if error_code(&e) == Some("NoSuchTagSet") => return Ok(BTreeMap::new()),
            Err(e) => return Err(e).on(op("GetBucketTagging"), "bucket", bucket.as_str()),
        };
        Ok(out.tag_set().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect())
    }

    /// The bucket of `spec`: read, compared, and only in [`Mode::Apply`]
    /// created and brought to the spec (one path for plan and apply).
    pub(super) async fn reconcile(&self, spec: &BucketSpec, mode: Mode) -> Result<Plan> {
        validate_spec(spec)?;
        let state = match self.bucket_state(&spec.name).await {
            Ok(state) => state,
            Err(e) if e.is_not_found() => {
                if mode.is_apply() {
                    self.create_bucket(&spec.name).await?;
                    // Read back what the new bucket got by default (on AWS: a public access
                    // block and SSE-S3; on other peers maybe nothing) and apply the rest.
                    let state = self.bucket_state(&spec.name).await?;
                    self.apply(spec, &state).await?;
                }
                return Ok(Plan::from_iter([Change::create("bucket", spec.name.as_str())]));
            }
            Err(e) => return Err(e),
        };
        let fields = if mode.is_apply() { self.apply(spec, &state).await? } else { state.diff(spec) };
        Ok(plan_of(spec, fields))
    }

    async fn create_bucket(&self, bucket: &BucketName) -> Result<()> {
        let mut request = self.client.create_bucket().bucket(bucket.as_str());
        if let Some(region) = self.region().filter(|r| *r != "us-east-1") {
            let location = CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build();
            request = request.create_bucket_configuration(location);
        }
        match request.send().await {
            Ok(_) => Ok(()),
            // Created meanwhile by this account: ensure goes on with it.
            Err(e) if error_code(&e) == Some("BucketAlreadyOwnedByYou") => Ok(()),
            Err(e) => Err(e).on(op("CreateBucket"), "bucket", bucket.as_str()),
        }
    }

    /// Write every setting that differs from `spec`; answers what changed.
    async fn apply(&self, spec: &BucketSpec, state: &BucketState) -> Result<Vec<FieldChange>> {
        let fields = state.diff(spec);
        let bucket = spec.name.as_str();
        for field in &fields {
            match field.field.as_str() {
                "versioning" => {
                    let status = if spec.versioning { BucketVersioningStatus::Enabled } else { BucketVersioningStatus::Suspended };
                    self.client
                        .put_bucket_versioning()
                        .bucket(bucket)
                        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
                        .send()
                        .await
                        .on(op("PutBucketVersioning"), "bucket", bucket)?;
                }
                "encryption" => self.put_encryption(bucket, &spec.encryption).await?,
                "block_public_access" => self.put_public_access_block(bucket, spec.block_public_access).await?,
                "require_tls" => self.put_tls_policy(&spec.name, state, spec.require_tls).await?,
                "tags" => self.put_tags(bucket, &spec.tags).await?,
                "abort_incomplete_uploads" => self.put_abort_rule(bucket, state).await?,
                other => unreachable!("no bucket field {other}"),
            }
        }
        Ok(fields)
    }

    async fn put_encryption(&self, bucket: &str, encryption: &Encryption) -> Result<()> {
        let put = op("PutBucketEncryption");
        let default = match encryption {
            Encryption::ProviderManaged => ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256),
            Encryption::Key(key) => {
                ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::AwsKms).kms_master_key_id(key)
            }
        }
        .build()
        .map_err(|e| build_error(put, e))?;
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(default)
            .bucket_key_enabled(matches!(encryption, Encryption::Key(_)))
            .build();
        let config = ServerSideEncryptionConfiguration::builder().rules(rule).build().map_err(|e| build_error(put, e))?;
        let sent = self.client.put_bucket_encryption().bucket(bucket).server_side_encryption_configuration(config).send().await;
        sent.on(put, "bucket", bucket).map(drop)
    }

    async fn put_public_access_block(&self, bucket: &str, block: bool) -> Result<()> {
        if block {
            let config = PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build();
            self.client.put_public_access_block().bucket(bucket).public_access_block_configuration(config).send().await.on(
                op("PutPublicAccessBlock"),
                "bucket",
                bucket,
            )?;
        } else {
            self.client.delete_public_access_block().bucket(bucket).send().await.on(op("DeletePublicAccessBlock"), "bucket", bucket)?;
        }
        Ok(())
    }

    /// Add (or remove) the TLS-only statement, keeping the policy's other statements.
    async fn put_tls_policy(&self, bucket: &BucketName, state: &BucketState, require_tls: bool) -> Result<()> {
        let mut statements: Vec<Value> = state
            .policy_statements()
            .into_iter()
            .filter(|s| !denies_insecure_transport(s) && s.get("Sid").and_then(Value::as_str) != Some(DENY_INSECURE_TRANSPORT_SID))
            .collect();
        if require_tls {
            statements.push(serde_json::to_value(deny_insecure_transport(self.partition(), bucket)).expect("statement serializes"));
        }
        let name = bucket.as_str();
        if statements.is_empty() {
            self.client.delete_bucket_policy().bucket(name).send().await.on(op("DeleteBucketPolicy"), "bucket", name)?;
            return Ok(());
        }
        let mut policy = state.policy.clone().unwrap_or_else(|| serde_json::json!({ "Version": crate::policy::VERSION }));
        policy["Statement"] = Value::Array(statements);
        self.client.put_bucket_policy().bucket(name).policy(policy.to_string()).send().await.on(op("PutBucketPolicy"), "bucket", name)?;
        Ok(())
    }

    async fn put_tags(&self, bucket: &str, tags: &BTreeMap<String, String>) -> Result<()> {
        if tags.is_empty() {
            self.client.delete_bucket_tagging().bucket(bucket).send().await.on(op("DeleteBucketTagging"), "bucket", bucket)?;
            return Ok(());
        }
        let put = op("PutBucketTagging");
        let tag_set = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| build_error(put, e)))
            .collect::<Result<Vec<_>>>()?;
        let tagging = Tagging::builder().set_tag_set(Some(tag_set)).build().map_err(|e| build_error(put, e))?;
        self.client.put_bucket_tagging().bucket(bucket).tagging(tagging).send().await.on(put, "bucket", bucket)?;
        Ok(())
    }

    pub(super) async fn describe(&self, bucket: &BucketName) -> Result<BucketInfo> {
        Ok(self.bucket_state(bucket).await?.info(bucket))
    }

    /// Delete every version and delete marker, abort unfinished uploads, then
    /// delete the bucket.
    pub(super) async fn delete(&self, bucket: &BucketName, confirm: Option<Confirm>) -> Result<()> {
        let name = bucket.as_str();
        self.client.head_bucket().bucket(name).send().await.on(op("HeadBucket"), "bucket", name)?;
        if self.holds_versions(bucket).await? {
            Confirm::require(confirm.as_ref(), "delete bucket and every object in", name)?;
            self.delete_all_versions(bucket).await?;
        }
        self.abort_uploads(bucket).await?;
        self.client.delete_bucket().bucket(name).send().await.on(op("DeleteBucket"), "bucket", name)?;
        Ok(())
    }

    async fn delete_all_versions(&self, bucket: &BucketName) -> Result<()> {
        let name = bucket.as_str();
        let list = op("ListObjectVersions");
        // List from the start each time rather than follow markers: the entries of
        // the previous page are gone, and a marker naming a deleted version is not
        // honoured by every S3 implementation.
        let mut previous_first = None;
        loop {
            let page = self.client.list_object_versions().bucket(name).send().await.on(list, "bucket", name)?;
            let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
            let markers = page.delete_markers().iter().map(|m| (m.key(), m.version_id()));
            let ids = versions
                .chain(markers)
                .filter_map(|(key, version)| {
                    key.map(|k| ObjectIdentifier::builder().key(k).set_version_id(version.map(str::to_owned)).build())
                })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| build_error(op("DeleteObjects"), e))?;
            let Some(first) = ids.first() else { return Ok(()) };
            let first = (first.key().to_owned(), first.version_id().map(str::to_owned));
            if previous_first.as_ref() == Some(&first) {
                return Err(Error::conflict("bucket", name, format!("version {first:?} is still listed after it was deleted")));
            }
            previous_first = Some(first);
            for batch in ids.chunks(1000) {
                self.delete_identifiers(bucket, batch.to_vec()).await?;
            }
        }
    }

    /// One `DeleteObjects` request (at most 1,000 identifiers).
    pub(super) async fn delete_identifiers(&self, bucket: &BucketName, ids: Vec<ObjectIdentifier>) -> Result<()> {
        let delete = op("DeleteObjects");
        let name = bucket.as_str();
        let request = Delete::builder().set_objects(Some(ids)).quiet(true).build().map_err(|e| build_error(delete, e))?;
        let out = self.client.delete_objects().bucket(name).delete(request).send().await.on(delete, "bucket", name)?;
        if let Some(failed) = out.errors().first() {
            return Err(Error::Provider {
                provider: SERVICE,
                operation: "DeleteObjects".to_owned(),
                message: format!(
                    "{} of the keys were not deleted; the first, `{}`: {} {}",
                    out.errors().len(),
                    failed.key().unwrap_or("?"),
                    failed.code().unwrap_or("?"),
                    failed.message().unwrap_or("")
                ),
                retryable: failed.code().is_some_and(|c| crate::error::classify(Some(c), None) == crate::error::ErrorClass::Throttled),
                source: None,
            });
        }
        Ok(())
    }

    async fn abort_uploads(&self, bucket: &BucketName) -> Result<()> {
        let name = bucket.as_str();
        let out = self.client.list_multipart_uploads().bucket(name).send().await.on(op("ListMultipartUploads"), "bucket", name)?;
        for upload in out.uploads() {
            if let (Some(key), Some(id)) = (upload.key(), upload.upload_id()) {
                self.client.abort_multipart_upload().bucket(name).key(key).upload_id(id).send().await.on(
                    op("AbortMultipartUpload"),
                    "upload",
                    key,
                )?;
            }
        }
        Ok(())
    }
}

fn plan_of(spec: &BucketSpec, fields: Vec<FieldChange>) -> Plan {
    if fields.is_empty() { Plan::new() } else { Plan::from_iter([Change::update("bucket", spec.name.as_str(), fields)]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> BucketSpec {
        BucketSpec::new(BucketName::new("prod-assets").unwrap())
    }

    #[test]
    fn a_fresh_bucket_differs_in_every_default() {
        let fields: Vec<String> = BucketState::default().diff(&spec()).into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["versioning", "encryption", "block_public_access", "require_tls", "abort_incomplete_uploads"]);
    }

    #[test]
    fn a_bucket_at_its_spec_has_no_diff() {
        let s = spec();
        let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Other", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::prod-assets/*"},
            serde_json::to_value(deny_insecure_transport("aws", &s.name)).unwrap()]});
        let state = BucketState {
            versioning: true,
            encryption: Some(Encryption::ProviderManaged),
            block_public_access: true,
            policy: Some(policy),
            tags: BTreeMap::new(),
            lifecycle: vec![
                LifecycleRule::builder()
                    .status(ExpirationStatus::Enabled)
                    .filter(LifecycleRuleFilter::builder().prefix("").build())
                    .abort_incomplete_multipart_upload(AbortIncompleteMultipartUpload::builder().days_after_initiation(1).build())
                    .build()
                    .unwrap(),
            ],
        };
        assert!(state.diff(&s).is_empty(), "{:?}", state.diff(&s));
        let info = state.info(&s.name);
        assert!(info.versioning && info.block_public_access && info.require_tls);
        assert!(info.diff(&s).is_empty());
        let mut kms = s.clone();
        kms.encryption = Encryption::Key("alias/app".into());
        let d = state.diff(&kms);
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].from.as_str(), d[0].to.as_str()), ("SSE-S3", "SSE-KMS with key alias/app"));
    }

    #[test]
    fn specs_breaking_s3_rules_are_rejected() {
        let mut s = spec();
        s.tags.insert("aws:reserved".into(), "x".into());
        assert_eq!(validate_spec(&s).unwrap_err().invalid_field(), Some("tags.aws:reserved"));
        let mut s = spec();
        s.tags = (0..51).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert_eq!(validate_spec(&s).unwrap_err().invalid_field(), Some("tags"));
        let mut s = spec();
        s.encryption = Encryption::Key(" ".into());
        assert_eq!(validate_spec(&s).unwrap_err().invalid_field(), Some("encryption"));
        assert!(validate_spec(&spec()).is_ok());
    }
}
