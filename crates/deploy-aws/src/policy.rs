//! Typed IAM policy documents — identity policies, trust policies, bucket
//! policies and KMS key policies share one grammar — rendered to JSON with
//! serde, compared semantically ([`equivalent`]), and the ready-made
//! documents of the runbooks:
//!
//! - [`bucket_access_policy`]: the application's bucket-scoped policy, least
//!   privilege: the object actions it lists (read, write, list, multipart) on
//!   `bucket/*` and listing on the bucket, never `Resource: "*"`, never `s3:*`,
//!   `s3:DeleteObjectVersion`, `s3:BypassGovernanceRetention` or a change of
//!   the bucket's policy ([`NEVER_GRANTED`]): a leaked key can overwrite and
//!   delete objects, but versioning keeps their older versions;
//! - [`application_key_policy`]: the application's KMS key policy (the
//!   application principal may use the key, the account root administers it);
//! - [`deny_insecure_transport`]: the bucket policy statement refusing requests
//!   that are not over TLS;
//! - [`trust_service`]: a role's trust policy for an AWS service
//!   (`eks.amazonaws.com`, `backup.amazonaws.com`), and [`trust_service_in`]
//!   the same bound to one account (`aws:SourceAccount`) and resource
//!   (`aws:SourceArn`) against the confused deputy, for the services that say
//!   in the request whom they act for;
//! - [`trust_service_account`]: a role's trust policy for exactly one
//!   Kubernetes service account through the cluster's IAM OIDC provider (IRSA);
//! - [`trust_pod_identity`]: a role's trust policy for EKS Pod Identity.
//!
//! ```
//! use deploy_aws::policy::bucket_access_policy;
//! use deploy_core::BucketName;
//!
//! let doc = bucket_access_policy("aws", &BucketName::new("prod-assets").unwrap());
//! let json = doc.to_json();
//! assert!(json.contains(r#""Resource":["arn:aws:s3:::prod-assets"]"#));
//! assert!(json.contains(r#""Resource":["arn:aws:s3:::prod-assets/*"]"#));
//! ```

use std::collections::BTreeMap;
use std::fmt;

use deploy_core::{BucketName, Error, Result};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// The current policy language version.
pub const VERSION: &str = "2012-10-17";

/// A policy document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    /// The language version, `2012-10-17`.
    pub version: String,
    /// An optional identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The statements.
    #[serde(deserialize_with = "one_or_many")]
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    /// A document of `statements` in the current language version.
    pub fn new(statements: impl IntoIterator<Item = Statement>) -> Self {
        PolicyDocument { version: VERSION.to_owned(), id: None, statement: statements.into_iter().collect() }
    }

    /// The document as compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a policy document always serializes")
    }

    /// Parse a document (AWS's JSON, or URL-encoded JSON as IAM answers it).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on field `policy` when it is not a policy document.
    pub fn from_json(json: &str) -> Result<Self> {
        let value = parse_policy(json)?;
        serde_json::from_value(value).map_err(|e| Error::invalid("policy", format!("is not a policy document: {e}"), "IAM policy grammar"))
    }

    /// Whether some statement allows or denies on every resource (`Resource: "*"`).
    pub fn has_wildcard_resource(&self) -> bool {
        self.statement.iter().any(|s| s.resource.iter().any(|r| r == "*"))
    }
}

impl fmt::Display for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&serde_json::to_string_pretty(self).map_err(|_| fmt::Error)?)
    }
}

/// Allow or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    /// Allow.
    Allow,
    /// Deny.
    Deny,
}

/// Who a statement of a resource policy (bucket, key, trust) is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// Everyone: `"*"`.
    Any,
    /// Principals by type: `AWS` (account, user and role ARNs), `Service`
    /// (`eks.amazonaws.com`), `Federated`.
    Typed(BTreeMap<String, Vec<String>>),
}

impl Principal {
    /// AWS principals (ARNs of accounts, users, roles).
    pub fn aws(arns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Principal::typed("AWS", arns)
    }

    /// An AWS service (`eks.amazonaws.com`).
    pub fn service(service: impl Into<String>) -> Self {
        Principal::typed("Service", [service])
    }

    /// A federated identity provider: the ARN of an IAM OIDC provider
    /// (`arn:aws:iam::ACCOUNT:oidc-provider/oidc.eks.REGION.amazonaws.com/id/ID`)
    /// or a SAML provider.
    pub fn federated(provider_arn: impl Into<String>) -> Self {
        Principal::typed("Federated", [provider_arn])
    }

    fn typed(kind: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Principal::Typed(BTreeMap::from([(kind.to_owned(), values.into_iter().map(Into::into).collect())]))
    }
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Principal::Any => s.serialize_str("*"),
            Principal::Typed(map) => map.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) if s == "*" => Ok(Principal::Any),
            Value::Object(map) => {
                let mut typed = BTreeMap::new();
                for (k, v) in map {
                    typed.insert(k, strings(v).map_err(de::Error::custom)?);
                }
                Ok(Principal::Typed(typed))
            }
            other => Err(de::Error::custom(format!("a principal is \"*\" or an object, not {other}"))),
        }
    }
}

/// One statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    /// An optional statement id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Allow or deny.
    pub effect: Effect,
    /// Who (resource policies only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    /// The actions (`s3:GetObject`, `kms:*`).
    #[serde(deserialize_with = "one_or_many")]
    pub action: Vec<String>,
    /// The resources (ARNs); empty in trust policies.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "one_or_many")]
    pub resource: Vec<String>,
    /// Conditions: operator (`Bool`, `StringEquals`) → key (`aws:SecureTransport`) → values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "conditions")]
    pub condition: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl Statement {
    /// Allow `actions` on `resources`.
    pub fn allow(actions: impl IntoIterator<Item = impl Into<String>>, resources: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Statement::new(Effect::Allow, actions, resources)
    }

    /// Deny `actions` on `resources`.
    pub fn deny(actions: impl IntoIterator<Item = impl Into<String>>, resources: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Statement::new(Effect::Deny, actions, resources)
    }

    fn new(
        effect: Effect,
        actions: impl IntoIterator<Item = impl Into<String>>,
        resources: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Statement {
            sid: None,
            effect,
            principal: None,
            action: actions.into_iter().map(Into::into).collect(),
            resource: resources.into_iter().map(Into::into).collect(),
            condition: BTreeMap::new(),
        }
    }

    deploy_core::setters! {
        /// With a statement id.
        pub fn with_sid(Some(sid): impl Into<String>);

        /// With a principal.
        pub fn with_principal(Some(principal): Principal);
    }

    /// With the condition `operator` on `key` in `values`.
    #[must_use]
    pub fn with_condition(mut self, operator: &str, key: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.condition.entry(operator.to_owned()).or_default().insert(key.to_owned(), values.into_iter().map(Into::into).collect());
        self
    }
}

fn strings(v: Value) -> std::result::Result<Vec<String>, String> {
    let scalar = |v: Value| match v {
        Value::String(s) => Ok(s),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("expected a string, got {other}")),
    };
    match v {
        Value::Array(items) => items.into_iter().map(scalar).collect(),
        other => Ok(vec![scalar(other)?]),
    }
}

fn one_or_many<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(d: D) -> std::result::Result<Vec<T>, D::Error> {
    match Value::deserialize(d)? {
        Value::Array(items) => items.into_iter().map(|v| serde_json::from_value(v).map_err(de::Error::custom)).collect(),
        other => Ok(vec![serde_json::from_value(other).map_err(de::Error::custom)?]),
    }
}

type Conditions = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn conditions<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Conditions, D::Error> {
    let raw = BTreeMap::<String, BTreeMap<String, Value>>::deserialize(d)?;
    raw.into_iter()
        .map(|(op, keys)| {
            let keys = keys
                .into_iter()
                .map(|(k, v)| Ok((k, strings(v).map_err(de::Error::custom)?)))
                .collect::<std::result::Result<_, D::Error>>()?;
            Ok((op, keys))
        })
        .collect()
}

/// Parse a policy as AWS answers it: JSON, or URL-encoded JSON (IAM's
/// `GetPolicyVersion`, `GetRole`).
///
/// # Errors
/// [`Error::InvalidInput`] on field `policy` when it is neither.
pub fn parse_policy(text: &str) -> Result<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    let decoded = crate::convert::decode_percent(text)
        .ok_or_else(|| Error::invalid("policy", "is neither JSON nor URL-encoded JSON", "IAM policy grammar"))?;
    serde_json::from_str(&decoded).map_err(|e| Error::invalid("policy", format!("is not JSON: {e}"), "IAM policy grammar"))
}

/// A policy in a canonical form, so that two documents meaning the same
/// compare equal: single values become one-element lists, lists are sorted
/// and deduplicated, `"Principal": "*"` becomes `{"AWS": ["*"]}`, scalars in
/// conditions become strings, and statements are sorted.
pub fn normalize(policy: &Value) -> Value {
    let mut doc = policy.as_object().cloned().unwrap_or_default();
    let statements = match doc.remove("Statement") {
        Some(Value::Array(items)) => items,
        Some(other) => vec![other],
        None => Vec::new(),
    };
    let mut statements: Vec<Value> = statements.iter().map(normalize_statement).collect();
    statements.sort_by_key(Value::to_string);
    statements.dedup();
    doc.insert("Statement".to_owned(), Value::Array(statements));
    doc.entry("Version".to_owned()).or_insert_with(|| Value::String("2008-10-17".to_owned()));
    Value::Object(doc)
}

fn sorted_strings(v: &Value) -> Value {
    let mut items: Vec<String> = match strings(v.clone()) {
        Ok(items) => items,
        Err(_) => return v.clone(),
    };
    items.sort();
    items.dedup();
    Value::Array(items.into_iter().map(Value::String).collect())
}

fn lowercase(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(s.to_ascii_lowercase()),
        Value::Array(items) => Value::Array(items.iter().map(lowercase).collect()),
        other => other.clone(),
    }
}

fn normalize_statement(s: &Value) -> Value {
    let Some(map) = s.as_object() else { return s.clone() };
    let mut out = serde_json::Map::new();
    for (k, v) in map {
        let v = match k.as_str() {
            // Action names are case-insensitive; resources (ARNs) are not.
            "Action" | "NotAction" => sorted_strings(&lowercase(v)),
            "Resource" | "NotResource" => sorted_strings(v),
            "Principal" | "NotPrincipal" => match v {
                Value::String(s) if s == "*" => serde_json::json!({ "AWS": ["*"] }),
                Value::Object(kinds) => Value::Object(kinds.iter().map(|(k, v)| (k.clone(), sorted_strings(v))).collect()),
                other => other.clone(),
            },
            "Condition" => match v {
                Value::Object(ops) => Value::Object(
                    ops.iter()
                        .map(|(op, keys)| {
                            let keys = match keys {
                                Value::Object(keys) => Value::Object(keys.iter().map(|(k, v)| (k.clone(), sorted_strings(v))).collect()),
                                other => other.clone(),
                            };
                            (op.clone(), keys)
                        })
                        .collect(),
                ),
                other => other.clone(),
            },
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

/// Whether two policies mean the same ([`normalize`]d, they are equal).
pub fn equivalent(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

/// The ARN of a bucket: `arn:PARTITION:s3:::BUCKET`.
pub fn bucket_arn(partition: &str, bucket: &BucketName) -> String {
    format!("arn:{partition}:s3:::{bucket}")
}

/// What [`bucket_access_policy_with`] allows on the bucket's objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectAccess {
    /// Read, write (a delete of a versioned object leaves its versions) and
    /// multipart uploads; list the bucket and its uploads.
    ReadWrite,
    /// Read objects and their versions; list the bucket.
    ReadOnly,
}

impl ObjectAccess {
    /// The actions on the bucket's objects (`arn:aws:s3:::BUCKET/*`).
    pub fn object_actions(&self) -> Vec<&'static str> {
        match self {
            ObjectAccess::ReadWrite => vec![
                "s3:AbortMultipartUpload",
                "s3:DeleteObject",
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:ListMultipartUploadParts",
                "s3:PutObject",
            ],
            ObjectAccess::ReadOnly => vec!["s3:GetObject", "s3:GetObjectVersion"],
        }
    }

    /// The actions on the bucket itself (`arn:aws:s3:::BUCKET`).
    pub fn bucket_actions(&self) -> Vec<&'static str> {
        match self {
            ObjectAccess::ReadWrite => vec!["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            ObjectAccess::ReadOnly => vec!["s3:GetBucketLocation", "s3:ListBucket"],
        }
    }
}

/// What [`bucket_access_policy`] never grants, whatever the access: every
/// action (`s3:*`), deleting object versions (what versioning keeps after a
/// delete or an overwrite), bypassing Object Lock governance retention, and
/// changing the bucket's policy.
pub const NEVER_GRANTED: &[&str] =
    &["s3:*", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"];

/// The bucket-scoped policy of an application's IAM user or
/// role, least privilege: [`ObjectAccess::ReadWrite`] — the object actions it
/// needs on `arn:aws:s3:::BUCKET/*` and listing on `arn:aws:s3:::BUCKET`.
/// Never `Resource: "*"`, nothing of [`NEVER_GRANTED`]. (A runbook's
/// `s3:*` on the objects would let a leaked key delete every version.)
pub fn bucket_access_policy(partition: &str, bucket: &BucketName) -> PolicyDocument {
    bucket_access_policy_with(partition, bucket, &ObjectAccess::ReadWrite)
}

/// [`bucket_access_policy`] with another access.
pub fn bucket_access_policy_with(partition: &str, bucket: &BucketName, access: &ObjectAccess) -> PolicyDocument {
    let arn = bucket_arn(partition, bucket);
    PolicyDocument::new([
        Statement::allow(access.bucket_actions(), [arn.clone()]).with_sid("ListBucket"),
        Statement::allow(access.object_actions(), [format!("{arn}/*")]).with_sid("ObjectAccess"),
    ])
}

/// The actions of a document's `Allow` statements that [`NEVER_GRANTED`]
/// names or that end in a wildcard, compared case-insensitively as AWS does.
pub fn overly_broad_actions(document: &Value) -> Vec<String> {
    let statements = match &document["Statement"] {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    let mut broad = Vec::new();
    for s in statements.iter().filter(|s| s["Effect"] == "Allow") {
        for action in strings(s["Action"].clone()).unwrap_or_default() {
            if action.ends_with('*') || NEVER_GRANTED.iter().any(|n| n.eq_ignore_ascii_case(&action)) {
                broad.push(action);
            }
        }
    }
    broad
}

/// The statement id of [`deny_insecure_transport`].
pub const DENY_INSECURE_TRANSPORT_SID: &str = "DenyInsecureTransport";

/// The bucket policy statement that refuses every request not made over TLS
/// (`aws:SecureTransport` is `false`).
pub fn deny_insecure_transport(partition: &str, bucket: &BucketName) -> Statement {
    let arn = bucket_arn(partition, bucket);
    Statement::deny(["s3:*"], [arn.clone(), format!("{arn}/*")])
        .with_sid(DENY_INSECURE_TRANSPORT_SID)
        .with_principal(Principal::Any)
        .with_condition("Bool", "aws:SecureTransport", ["false"])
}

/// Whether a statement (as JSON) denies every non-TLS request: a `Deny` of
/// `s3:*` (or `*`) for everyone on condition `Bool` `aws:SecureTransport`
/// `false`. Action names and condition keys match case-insensitively, as AWS
/// matches them.
pub fn denies_insecure_transport(statement: &Value) -> bool {
    let s = normalize_statement(statement);
    let all_actions = s
        .get("Action")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().filter_map(Value::as_str).any(|v| v == "*" || v.eq_ignore_ascii_case("s3:*")));
    let insecure_transport = s
        .pointer("/Condition/Bool")
        .and_then(Value::as_object)
        .is_some_and(|keys| keys.iter().any(|(k, v)| k.eq_ignore_ascii_case("aws:SecureTransport") && v == &serde_json::json!(["false"])));
    s.get("Effect").and_then(Value::as_str) == Some("Deny")
        && s.get("Principal") == Some(&serde_json::json!({ "AWS": ["*"] }))
        && all_actions
        && insecure_transport
}

/// The KMS key policy of an application: `application_principal` (the ARN of the
/// application's IAM user or role) may `kms:Encrypt`, `kms:Decrypt`,
/// `kms:ReEncrypt*`, `kms:GenerateDataKey*` and `kms:DescribeKey`; the
/// account root keeps `kms:*` so the key stays administrable.
pub fn application_key_policy(partition: &str, account_id: &str, application_principal: &str) -> PolicyDocument {
    PolicyDocument::new([
        Statement::allow(["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], ["*"])
            .with_sid("ApplicationUsesTheKey")
            .with_principal(Principal::aws([application_principal])),
        Statement::allow(["kms:*"], ["*"])
            .with_sid("AccountRootAdministersTheKey")
            .with_principal(Principal::aws([format!("arn:{partition}:iam::{account_id}:root")])),
    ])
}

/// A KMS key policy letting the AWS `services` (`cloudwatch.amazonaws.com`)
/// `kms:Decrypt` and `kms:GenerateDataKey*`, the two actions a service needs
/// to write to a resource encrypted with the key, only for resources of this
/// account (`aws:SourceAccount`; for CloudWatch, only for its alarms:
/// `aws:SourceArn` `arn:PARTITION:cloudwatch:*:ACCOUNT:alarm:*`), as the SNS
/// documentation shows for encrypted topics; the account root keeps `kms:*`
/// so the key stays administrable.
pub fn service_key_policy(partition: &str, account_id: &str, services: &[String]) -> PolicyDocument {
    PolicyDocument::new(
        services
            .iter()
            .map(|service| {
                let statement = Statement::allow(["kms:Decrypt", "kms:GenerateDataKey*"], ["*"])
                    .with_principal(Principal::service(service.as_str()))
                    .with_condition("StringEquals", "aws:SourceAccount", [account_id]);
                match service.as_str() {
                    "cloudwatch.amazonaws.com" => {
                        statement.with_condition("ArnLike", "aws:SourceArn", [format!("arn:{partition}:cloudwatch:*:{account_id}:alarm:*")])
                    }
                    _ => statement,
                }
            })
            .chain([Statement::allow(["kms:*"], ["*"])
                .with_sid("AccountRootAdministersTheKey")
                .with_principal(Principal::aws([format!("arn:{partition}:iam::{account_id}:root")]))]),
    )
}

/// A role's trust policy letting the AWS service `service`
/// (`ec2.amazonaws.com`, `backup.amazonaws.com`) assume it, with no condition.
///
/// For the services that document no `aws:SourceAccount`/`aws:SourceArn` when they assume a role (the
/// EC2 instance role of EKS nodes, the AWS Backup service role): a condition on a key a service does not
/// send denies it the role (nodes never join, backups fail), and these roles are passed to the service by
/// the account itself (`iam:PassRole`). Where the service sends the keys, use [`trust_service_in`] (the EKS
/// cluster role: [`crate::eks::EksRolesSpec`]; S3 replication).
pub fn trust_service(service: &str) -> PolicyDocument {
    PolicyDocument::new([Statement::allow(["sts:AssumeRole"], Vec::<String>::new()).with_principal(Principal::service(service))])
}

/// [`trust_service`] bound against the confused deputy: `service` may assume
/// the role only when acting for account `account_id` (`aws:SourceAccount`)
/// and, when given, for the resource `source_arn` (`aws:SourceArn`, `ArnLike`:
/// `arn:aws:s3:::BUCKET` for S3 replication). For services that send these
/// keys when they assume a role (S3 replication does).
pub fn trust_service_in(service: &str, account_id: &str, source_arn: Option<&str>) -> PolicyDocument {
    let statement = Statement::allow(["sts:AssumeRole"], Vec::<String>::new()).with_principal(Principal::service(service)).with_condition(
        "StringEquals",
        "aws:SourceAccount",
        [account_id],
    );
    PolicyDocument::new([match source_arn {
        Some(arn) => statement.with_condition("ArnLike", "aws:SourceArn", [arn]),
        None => statement,
    }])
}

/// The audience of the web identity tokens STS takes: the OIDC provider's
/// client id, and the `aud` the trust policy requires.
pub const STS_AUDIENCE: &str = "sts.amazonaws.com";

/// A role's trust policy for exactly one Kubernetes service account (IRSA):
/// the IAM OIDC provider `provider_arn` of the cluster whose issuer is
/// `issuer` (`https://oidc.eks.REGION.amazonaws.com/id/ID`, with or without
/// the scheme) is trusted with `sts:AssumeRoleWithWebIdentity` on the
/// conditions `StringEquals` `ISSUER:sub` = `system:serviceaccount:NS:NAME`
/// and `ISSUER:aud` = `sts.amazonaws.com` (ISSUER without `https://`).
pub fn trust_service_account(provider_arn: &str, issuer: &str, service_account: &deploy_core::ServiceAccountRef) -> PolicyDocument {
    let issuer = issuer.strip_prefix("https://").unwrap_or(issuer);
    PolicyDocument::new([Statement::allow(["sts:AssumeRoleWithWebIdentity"], Vec::<String>::new())
        .with_principal(Principal::federated(provider_arn))
        .with_condition("StringEquals", &format!("{issuer}:sub"), [service_account.subject()])
        .with_condition("StringEquals", &format!("{issuer}:aud"), [STS_AUDIENCE])])
}

/// The service principal of EKS Pod Identity.
pub const POD_IDENTITY_SERVICE: &str = "pods.eks.amazonaws.com";

/// A role's trust policy for EKS Pod Identity: `pods.eks.amazonaws.com` may
/// `sts:AssumeRole` and `sts:TagSession`. Which service account gets the role
/// is said by a pod identity association, not by the trust policy.
pub fn trust_pod_identity() -> PolicyDocument {
    PolicyDocument::new([Statement::allow(["sts:AssumeRole", "sts:TagSession"], Vec::<String>::new())
        .with_principal(Principal::service(POD_IDENTITY_SERVICE))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn service_account_trust_binds_one_account() {
        let sa = deploy_core::ServiceAccountRef::new("deeploy", "deeploy-app").unwrap();
        let arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/ABC";
        let doc = trust_service_account(arn, "https://oidc.eks.eu-central-1.amazonaws.com/id/ABC", &sa);
        let v: Value = serde_json::from_str(&doc.to_json()).unwrap();
        let s = &v["Statement"][0];
        assert_eq!(s["Principal"], json!({"Federated": [arn]}));
        assert_eq!(s["Action"], json!(["sts:AssumeRoleWithWebIdentity"]));
        assert_eq!(
            s["Condition"],
            json!({"StringEquals": {
                "oidc.eks.eu-central-1.amazonaws.com/id/ABC:sub": ["system:serviceaccount:deeploy:deeploy-app"],
                "oidc.eks.eu-central-1.amazonaws.com/id/ABC:aud": ["sts.amazonaws.com"]}})
        );
        assert_eq!(PolicyDocument::from_json(&doc.to_json()).unwrap(), doc);
        let pods: Value = serde_json::from_str(&trust_pod_identity().to_json()).unwrap();
        assert_eq!(pods["Statement"][0]["Principal"], json!({"Service": ["pods.eks.amazonaws.com"]}));
        assert_eq!(pods["Statement"][0]["Action"], json!(["sts:AssumeRole", "sts:TagSession"]));
    }

    fn bucket() -> BucketName {
        BucketName::new("prod-assets").unwrap()
    }

    #[test]
    fn bucket_access_policy_is_scoped_to_the_bucket() {
        let doc = bucket_access_policy("aws", &bucket());
        assert!(!doc.has_wildcard_resource(), "{doc}");
        let v: Value = serde_json::from_str(&doc.to_json()).unwrap();
        assert_eq!(v["Version"], "2012-10-17");
        assert_eq!(v["Statement"][0]["Action"], json!(["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]));
        assert_eq!(v["Statement"][0]["Resource"], json!(["arn:aws:s3:::prod-assets"]));
        assert_eq!(v["Statement"][1]["Resource"], json!(["arn:aws:s3:::prod-assets/*"]));
        for access in [ObjectAccess::ReadWrite, ObjectAccess::ReadOnly] {
            let doc = bucket_access_policy_with("aws", &bucket(), &access);
            assert!(!doc.has_wildcard_resource());
            assert!(!doc.to_json().contains(r#""*""#), "{doc}");
            assert!(overly_broad_actions(&serde_json::to_value(&doc).unwrap()).is_empty(), "{doc}");
        }
        // Listed actions: read, write, list, multipart; never s3:*, version deletion, retention bypass, policy changes.
        assert_eq!(
            v["Statement"][1]["Action"],
            json!([
                "s3:AbortMultipartUpload",
                "s3:DeleteObject",
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:ListMultipartUploadParts",
                "s3:PutObject"
            ])
        );
        for never in NEVER_GRANTED {
            assert!(!doc.to_json().contains(&format!("\"{never}\"")), "{never} in {doc}");
        }
        // The seed's `s3:*` on the objects is what this no longer grants.
        let seed = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::prod-assets"]},
            {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::prod-assets/*"]}]});
        assert_eq!(overly_broad_actions(&seed), ["s3:*"]);
        let shouting = json!({"Statement": {"Effect": "Allow", "Action": "S3:DeleteObjectVersion", "Resource": "arn:aws:s3:::b/*"}});
        assert_eq!(overly_broad_actions(&shouting), ["S3:DeleteObjectVersion"]);
    }

    fn doc_without_sids(doc: &PolicyDocument) -> String {
        let mut doc = doc.clone();
        doc.statement.iter_mut().for_each(|s| s.sid = None);
        doc.to_json()
    }

    #[test]
    fn key_policy_matches_the_application_policy() {
        let doc = application_key_policy("aws", "123456789012", "arn:aws:iam::123456789012:user/deeploy");
        let seed = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/deeploy"},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:root"]}, "Action": ["kms:*"], "Resource": "*"}]});
        assert!(equivalent(&seed, &serde_json::from_str(&doc_without_sids(&doc)).unwrap()));
    }

    #[test]
    fn equivalence_ignores_form_but_not_meaning() {
        let a = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
            "Condition": {"Bool": {"aws:SecureTransport": false}}}});
        let b = json!({"Version": "2012-10-17", "Statement": [{"Resource": ["arn:aws:s3:::b/*"], "Action": ["s3:GetObject", "s3:GetObject"], "Effect": "Allow",
            "Principal": {"AWS": ["*"]}, "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}}]});
        assert!(equivalent(&a, &b));
        let mut upper = b.clone();
        upper["Statement"][0]["Action"] = json!("S3:GetObject");
        assert!(equivalent(&a, &upper), "action names are case-insensitive");
        let mut c = b.clone();
        c["Statement"][0]["Effect"] = json!("Deny");
        assert!(!equivalent(&a, &c));
        let two = json!({"Statement": [{"Effect": "Allow", "Action": "a:1"}, {"Effect": "Deny", "Action": "a:2"}]});
        let swapped = json!({"Statement": [{"Effect": "Deny", "Action": "a:2"}, {"Effect": "Allow", "Action": ["a:1"]}]});
        assert!(equivalent(&two, &swapped));
    }

    #[test]
    fn documents_round_trip_through_json_and_url_encoding() {
        let doc = application_key_policy("aws", "123456789012", "arn:aws:iam::123456789012:role/app");
        assert_eq!(PolicyDocument::from_json(&doc.to_json()).unwrap(), doc);
        let encoded = crate::convert::encode_path(&doc.to_json());
        assert_eq!(PolicyDocument::from_json(&encoded).unwrap(), doc);
        let single = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#;
        let parsed = PolicyDocument::from_json(single).unwrap();
        assert_eq!(parsed.statement[0].action, ["s3:GetObject"]);
        assert!(PolicyDocument::from_json("not a policy").is_err());
    }

    #[test]
    fn tls_statement_is_recognized() {
        let s = serde_json::to_value(deny_insecure_transport("aws", &bucket())).unwrap();
        assert!(denies_insecure_transport(&s));
        let allow = serde_json::to_value(Statement::allow(["s3:*"], ["*"])).unwrap();
        assert!(!denies_insecure_transport(&allow));
        let mut shouting = s.clone();
        shouting["Action"] = serde_json::json!("S3:*");
        shouting["Condition"] = serde_json::json!({"Bool": {"AWS:SecureTransport": false}});
        assert!(denies_insecure_transport(&shouting), "action names and condition keys are case-insensitive");
        let mut secure_only = s.clone();
        secure_only["Condition"] = serde_json::json!({"Bool": {"aws:SecureTransport": "true"}});
        assert!(!denies_insecure_transport(&secure_only));
        let json = deny_insecure_transport("aws", &bucket());
        assert_eq!(json.condition["Bool"]["aws:SecureTransport"], ["false"]);
    }

    #[test]
    fn service_principals_of_key_and_bound_trust_policies_name_the_account() {
        let doc = service_key_policy("aws", "123456789012", &["cloudwatch.amazonaws.com".to_owned(), "events.amazonaws.com".to_owned()]);
        let v: Value = serde_json::from_str(&doc.to_json()).unwrap();
        for s in v["Statement"].as_array().unwrap().iter().filter(|s| s["Principal"].get("Service").is_some()) {
            assert_eq!(s["Condition"]["StringEquals"]["aws:SourceAccount"], json!(["123456789012"]), "{s}");
        }
        assert_eq!(v["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"], json!(["arn:aws:cloudwatch:*:123456789012:alarm:*"]));
        assert!(v["Statement"][1]["Condition"].get("ArnLike").is_none());
        let trust: Value =
            serde_json::from_str(&trust_service_in("s3.amazonaws.com", "123456789012", Some("arn:aws:s3:::prod-assets")).to_json())
                .unwrap();
        assert_eq!(
            trust["Statement"][0]["Condition"],
            json!({"StringEquals": {"aws:SourceAccount": ["123456789012"]}, "ArnLike": {"aws:SourceArn": ["arn:aws:s3:::prod-assets"]}})
        );
    }

    #[test]
    fn trust_policy_names_the_service() {
        let doc = trust_service("eks.amazonaws.com");
        let v: Value = serde_json::from_str(&doc.to_json()).unwrap();
        assert_eq!(v["Statement"][0]["Principal"], json!({"Service": ["eks.amazonaws.com"]}));
        assert_eq!(v["Statement"][0]["Action"], json!(["sts:AssumeRole"]));
        assert!(v["Statement"][0].get("Resource").is_none());
    }
}
