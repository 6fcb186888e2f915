//! `apply_irsa_service_account` against the fake API server: a server-side
//! apply that adds the role annotation to a ServiceAccount a Helm chart made,
//! keeps the chart's own annotations, and changes nothing the second time.

use deploy_core::{IrsaRoleAnnotation, ServiceAccountRef};
use deploy_k8s::service_account::{FIELD_MANAGER, apply_irsa_service_account};
use serde_json::json;

use crate::fake_api::{Behavior, FakeApi};

#[tokio::test]
async fn the_role_annotation_is_applied_once_and_other_annotations_are_kept() {
    let fake = FakeApi::new(Behavior::Stuck);
    fake.seed_service_account("deeploy", "deeploy-app", json!({"meta.helm.sh/release-name": "deeploy"}));
    let sa = ServiceAccountRef::new("deeploy", "deeploy-app").unwrap();
    let role = IrsaRoleAnnotation::new("arn:aws:iam::123456789012:role/prod-pod-app").unwrap();

    let first = apply_irsa_service_account(&fake.client(), &sa, &role).await.unwrap();
    let annotations = first.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(annotations.get(IrsaRoleAnnotation::KEY).map(String::as_str), Some("arn:aws:iam::123456789012:role/prod-pod-app"));
    assert_eq!(annotations.get("meta.helm.sh/release-name").map(String::as_str), Some("deeploy"), "the chart's annotation was lost");
    let request = fake.requests().into_iter().find(|r| r.starts_with("PATCH ")).expect("a PATCH");
    assert!(request.starts_with("PATCH /api/v1/namespaces/deeploy/serviceaccounts/deeploy-app?"), "{request}");
    assert!(request.contains(&format!("fieldManager={FIELD_MANAGER}")) && request.contains("force=true"), "{request}");

    let second = apply_irsa_service_account(&fake.client(), &sa, &role).await.unwrap();
    assert_eq!(second.metadata.resource_version, first.metadata.resource_version, "the second apply changed the object");

    // Another role replaces the annotation in place (force: the field is ours).
    let other = IrsaRoleAnnotation::new("arn:aws:iam::123456789012:role/prod-pod-other").unwrap();
    let third = apply_irsa_service_account(&fake.client(), &sa, &other).await.unwrap();
    assert_eq!(
        third.metadata.annotations.unwrap_or_default().get(IrsaRoleAnnotation::KEY).map(String::as_str),
        Some("arn:aws:iam::123456789012:role/prod-pod-other")
    );
    assert_ne!(third.metadata.resource_version, second.metadata.resource_version);
}
