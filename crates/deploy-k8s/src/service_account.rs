//! The ServiceAccount of a workload, annotated for keyless cloud access
//! (IRSA: `eks.amazonaws.com/role-arn`), built as a typed object and
//! server-side applied.

use std::collections::BTreeMap;

use deploy_core::{IrsaRoleAnnotation, ServiceAccountRef};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::Client;
use kube::api::{Api, ObjectMeta, Patch, PatchParams};

use crate::error::{Error, Result};

/// The field manager of server-side applies made here.
pub const FIELD_MANAGER: &str = "deploy";

/// The ServiceAccount `service_account` in its namespace with `annotations`.
pub fn service_account_object(service_account: &ServiceAccountRef, annotations: &BTreeMap<String, String>) -> ServiceAccount {
    ServiceAccount {
        metadata: ObjectMeta {
            name: Some(service_account.name().to_owned()),
            namespace: Some(service_account.namespace().to_owned()),
            annotations: (!annotations.is_empty()).then(|| annotations.clone()),
            ..ObjectMeta::default()
        },
        ..ServiceAccount::default()
    }
}

/// The ServiceAccount whose pods get `role` through IRSA: annotated
/// `eks.amazonaws.com/role-arn: ROLE_ARN`.
///
/// ```
/// use deploy_core::{IrsaRoleAnnotation, ServiceAccountRef};
/// let sa = ServiceAccountRef::new("deeploy", "deeploy-app")?;
/// let role = IrsaRoleAnnotation::new("arn:aws:iam::123456789012:role/deeploy-app")?;
/// let object = deploy_k8s::irsa_service_account(&sa, &role);
/// assert_eq!(object.metadata.annotations.unwrap()["eks.amazonaws.com/role-arn"], role.role_arn());
/// # Ok::<(), deploy_core::Error>(())
/// ```
pub fn irsa_service_account(service_account: &ServiceAccountRef, role: &IrsaRoleAnnotation) -> ServiceAccount {
    service_account_object(service_account, &role.annotations())
}

/// Server-side apply the IRSA ServiceAccount ([`irsa_service_account`]) in its
/// namespace (field manager [`FIELD_MANAGER`], forcing ownership of the
/// annotation); answers the object as the API server has it. Idempotent: a
/// second apply of the same object changes nothing.
///
/// # Errors
/// [`Error::Kube`] when the API server refuses (the namespace missing, no RBAC to patch ServiceAccounts).
pub async fn apply_irsa_service_account(
    client: &Client,
    service_account: &ServiceAccountRef,
    role: &IrsaRoleAnnotation,
) -> Result<ServiceAccount> {
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), service_account.namespace());
    let object = irsa_service_account(service_account, role);
    api.patch(service_account.name(), &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&object))
        .await
        .map_err(|e| Error::kube(format!("apply serviceaccount {service_account}"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_object_carries_the_role_annotation_in_its_namespace() {
        let sa = ServiceAccountRef::new("deeploy", "deeploy-app").unwrap();
        let role = IrsaRoleAnnotation::new("arn:aws:iam::123456789012:role/prod-pod-app").unwrap();
        let object = irsa_service_account(&sa, &role);
        let json = serde_json::to_value(&object).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {
                    "name": "deeploy-app",
                    "namespace": "deeploy",
                    "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/prod-pod-app"}
                }
            })
        );
        assert!(service_account_object(&sa, &BTreeMap::new()).metadata.annotations.is_none());
    }
}
