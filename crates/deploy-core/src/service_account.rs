//! A Kubernetes service account, named as Kubernetes names it, and the
//! annotation that gives its pods an IAM role on EKS (IRSA) — pods then reach
//! S3 and KMS with short-lived credentials and no stored keys.
//!
//! ```
//! use deploy_core::{IrsaRoleAnnotation, ServiceAccountRef};
//!
//! let sa = ServiceAccountRef::new("shop", "shop-api")?;
//! assert_eq!(sa.subject(), "system:serviceaccount:shop:shop-api");
//! let role = IrsaRoleAnnotation::new("arn:aws:iam::123456789012:role/shop-api")?;
//! let yaml = sa.to_yaml(&role.annotations());
//! assert!(yaml.contains(r#""eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/shop-api""#));
//! assert!(ServiceAccountRef::new("shop", "Bad_Name").is_err());
//! # Ok::<(), deploy_core::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const NAMESPACE_RULE: &str =
    "Kubernetes namespaces (DNS-1123 labels): 1-63 lowercase letters, digits and hyphens, beginning and ending with a letter or digit";
const NAME_RULE: &str = "Kubernetes service account names (DNS-1123 subdomains): 1-253 characters of dot-separated parts, each of \
     lowercase letters, digits and hyphens beginning and ending with a letter or digit";

/// The fault of `part` as one DNS-1123 label (without its length rule).
fn label_fault(part: &str) -> Option<String> {
    if part.is_empty() {
        return Some("has an empty part".into());
    }
    if let Some(c) = part.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Some(format!("contains {c:?}, not a lowercase letter, digit or hyphen"));
    }
    if part.starts_with('-') || part.ends_with('-') {
        return Some("has a part beginning or ending with a hyphen".into());
    }
    None
}

/// A service account in a namespace: `namespace` a DNS-1123 label (at most 63
/// characters), `name` a DNS-1123 subdomain (at most 253), as the Kubernetes
/// API checks them. Errors name `service_account.namespace` or
/// `service_account.name`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawServiceAccount", into = "RawServiceAccount")]
pub struct ServiceAccountRef {
    namespace: String,
    name: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServiceAccount {
    namespace: String,
    name: String,
}

impl TryFrom<RawServiceAccount> for ServiceAccountRef {
    type Error = Error;
    fn try_from(raw: RawServiceAccount) -> Result<Self> {
        ServiceAccountRef::new(raw.namespace, raw.name)
    }
}

impl From<ServiceAccountRef> for RawServiceAccount {
    fn from(sa: ServiceAccountRef) -> Self {
        RawServiceAccount { namespace: sa.namespace, name: sa.name }
    }
}

impl ServiceAccountRef {
    /// The field name of the namespace in errors.
    pub const NAMESPACE_FIELD: &'static str = "service_account.namespace";
    /// The field name of the service account's name in errors.
    pub const NAME_FIELD: &'static str = "service_account.name";

    /// Validate `namespace` and `name`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `service_account.namespace` or
    /// `service_account.name`, naming the fault and the rule.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Result<Self> {
        let (namespace, name) = (namespace.into(), name.into());
        let n = namespace.chars().count();
        if !(1..=63).contains(&n) {
            return Err(Error::invalid(Self::NAMESPACE_FIELD, format!("is {n} characters long"), NAMESPACE_RULE));
        }
        if namespace.contains('.') {
            return Err(Error::invalid(Self::NAMESPACE_FIELD, "contains '.'", NAMESPACE_RULE));
        }
        if let Some(fault) = label_fault(&namespace) {
            return Err(Error::invalid(Self::NAMESPACE_FIELD, fault, NAMESPACE_RULE));
        }
        let n = name.chars().count();
        if !(1..=253).contains(&n) {
            return Err(Error::invalid(Self::NAME_FIELD, format!("is {n} characters long"), NAME_RULE));
        }
        if let Some(fault) = name.split('.').find_map(label_fault) {
            return Err(Error::invalid(Self::NAME_FIELD, fault, NAME_RULE));
        }
        Ok(ServiceAccountRef { namespace, name })
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The service account's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The subject of the account's projected tokens, as an OIDC `sub` claim:
    /// `system:serviceaccount:NAMESPACE:NAME`.
    pub fn subject(&self) -> String {
        format!("system:serviceaccount:{}:{}", self.namespace, self.name)
    }

    /// The ServiceAccount object as YAML (`kubectl apply -f -`), with `annotations`.
    pub fn to_yaml(&self, annotations: &BTreeMap<String, String>) -> String {
        let q = |s: &str| serde_json::to_string(s).expect("a string serializes");
        let mut yaml =
            format!("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {}\n  namespace: {}\n", q(&self.name), q(&self.namespace));
        if !annotations.is_empty() {
            yaml.push_str("  annotations:\n");
            for (k, v) in annotations {
                yaml.push_str(&format!("    {}: {}\n", q(k), q(v)));
            }
        }
        yaml
    }
}

impl fmt::Display for ServiceAccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

impl fmt::Debug for ServiceAccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceAccountRef({}/{})", self.namespace, self.name)
    }
}

/// The annotation `eks.amazonaws.com/role-arn: ROLE_ARN` on a service
/// account: EKS's pod identity webhook then gives the account's pods web
/// identity credentials for the IAM role (IRSA). The ARN is checked to be an
/// IAM role's (`arn:PARTITION:iam::ACCOUNT:role/NAME`, ACCOUNT 12 digits).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IrsaRoleAnnotation {
    role_arn: String,
}

impl IrsaRoleAnnotation {
    /// The annotation's key.
    pub const KEY: &'static str = "eks.amazonaws.com/role-arn";
    /// The field name used in errors.
    pub const FIELD: &'static str = "role_arn";

    /// The annotation naming `role_arn`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on field `role_arn` when it is not an IAM role ARN.
    pub fn new(role_arn: impl Into<String>) -> Result<Self> {
        let role_arn = role_arn.into();
        let rule = "an IAM role ARN: arn:PARTITION:iam::ACCOUNT:role/NAME, ACCOUNT 12 digits";
        let parts: Vec<&str> = role_arn.splitn(6, ':').collect();
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "iam"
            && parts[3].is_empty()
            && parts[4].len() == 12
            && parts[4].chars().all(|c| c.is_ascii_digit())
            && parts[5].strip_prefix("role/").is_some_and(|n| !n.is_empty() && !n.ends_with('/'));
        if !ok {
            return Err(Error::invalid(Self::FIELD, format!("`{role_arn}` is not an IAM role ARN"), rule));
        }
        Ok(IrsaRoleAnnotation { role_arn })
    }

    /// The role's ARN (the annotation's value).
    pub fn role_arn(&self) -> &str {
        &self.role_arn
    }

    /// The annotation as a one-entry map, for [`ServiceAccountRef::to_yaml`]
    /// or a Kubernetes object's `metadata.annotations`.
    pub fn annotations(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(Self::KEY.to_owned(), self.role_arn.clone())])
    }
}

impl fmt::Display for IrsaRoleAnnotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", Self::KEY, self.role_arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: Result<ServiceAccountRef>) -> String {
        r.unwrap_err().invalid_field().unwrap().to_owned()
    }

    #[test]
    fn names_follow_kubernetes_rules() {
        let sa = ServiceAccountRef::new("deeploy", "deeploy-app.v1").unwrap();
        assert_eq!((sa.namespace(), sa.name()), ("deeploy", "deeploy-app.v1"));
        assert_eq!(sa.to_string(), "deeploy/deeploy-app.v1");
        assert!(ServiceAccountRef::new("a".repeat(63), "b".repeat(253)).is_ok());
        for bad_ns in ["", "Deeploy", "dee_ploy", "a.b", "-a", "a-", &"a".repeat(64)] {
            assert_eq!(field(ServiceAccountRef::new(bad_ns, "app")), "service_account.namespace", "{bad_ns:?}");
        }
        for bad_name in ["", "Bad_Name", "app_1", "App", "a..b", ".a", "a.", "-a", "a.-b", &"b".repeat(254)] {
            assert_eq!(field(ServiceAccountRef::new("ns", bad_name)), "service_account.name", "{bad_name:?}");
        }
    }

    #[test]
    fn serde_checks_too() {
        let sa: ServiceAccountRef = serde_json::from_str(r#"{"namespace":"ns","name":"app"}"#).unwrap();
        assert_eq!(sa.subject(), "system:serviceaccount:ns:app");
        assert!(serde_json::from_str::<ServiceAccountRef>(r#"{"namespace":"NS","name":"app"}"#).is_err());
        assert_eq!(serde_json::to_value(&sa).unwrap(), serde_json::json!({"namespace": "ns", "name": "app"}));
    }

    #[test]
    fn annotation_names_an_iam_role() {
        let a = IrsaRoleAnnotation::new("arn:aws:iam::123456789012:role/app").unwrap();
        assert_eq!(a.annotations()["eks.amazonaws.com/role-arn"], "arn:aws:iam::123456789012:role/app");
        assert!(IrsaRoleAnnotation::new("arn:aws-cn:iam::123456789012:role/path/app").is_ok());
        for bad in [
            "",
            "app",
            "arn:aws:iam::123456789012:user/app",
            "arn:aws:iam::1234:role/app",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:role/",
        ] {
            assert_eq!(IrsaRoleAnnotation::new(bad).unwrap_err().invalid_field(), Some("role_arn"), "{bad:?}");
        }
        let yaml = ServiceAccountRef::new("ns", "app").unwrap().to_yaml(&a.annotations());
        assert_eq!(
            yaml,
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: \"app\"\n  namespace: \"ns\"\n  annotations:\n    \"eks.amazonaws.com/role-arn\": \"arn:aws:iam::123456789012:role/app\"\n"
        );
    }
}
