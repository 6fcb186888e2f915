//! Environments from TOML: validation naming fields, plan, idempotent ensure.

use deploy_core::env::{Backends, Environments};
use deploy_core::{Error, SecretName, SecretStore};

use crate::support::slow_cloud;

const ENVIRONMENTS: &str = include_str!("../../../../examples/environments.toml");

#[tokio::test]
async fn ensure_twice_changes_nothing_the_second_time() {
    let envs = Environments::from_toml(ENVIRONMENTS).unwrap();
    let prod = envs.get("production").unwrap();
    let cloud = slow_cloud();
    let backends = Backends::in_memory(&cloud);

    let plan = prod.plan(&backends).await.unwrap();
    assert!(cloud.mutating_calls().is_empty(), "plan mutated: {:?}", cloud.mutating_calls());
    let kinds: Vec<&str> = plan.changes.iter().map(|c| c.kind.as_str()).collect();
    for kind in ["secret", "database", "bucket", "cluster", "node pool", "backup vault", "backup plan"] {
        assert!(kinds.contains(&kind), "plan has no {kind}: {plan}");
    }
    let done = prod.ensure(&backends).await.unwrap();
    assert_eq!(done.len(), plan.len(), "ensure did other than its plan:\n{done}\nvs\n{plan}");

    cloud.reset_calls();
    let again = prod.plan(&backends).await.unwrap();
    assert!(again.is_empty(), "second plan is not empty: {again}");
    let second = prod.ensure(&backends).await.unwrap();
    assert!(second.is_empty(), "second ensure changed: {second}");
    assert!(cloud.mutating_calls().is_empty(), "second run made mutating calls: {:?}", cloud.mutating_calls());
    assert!(!cloud.calls().is_empty(), "the counting saw no call at all");

    // The generated admin password follows the SIMPHERA rules.
    let secret = cloud.get_secret(&SecretName::new("acme-prod-db-admin").unwrap()).await.unwrap();
    let value = secrecy::ExposeSecret::expose_secret(&secret.value).to_owned();
    assert_eq!(value.len(), 32);
    assert!(!value.contains(['/', '\'', '"', '@']));
}

#[test]
fn bad_specs_name_the_field() {
    let cases = [
        (ENVIRONMENTS.replace("storage_gib = 50", "storage_gib = 5"), "production.databases[0].storage_gib"),
        (ENVIRONMENTS.replace("min = 1\nmax = 12", "min = 13\nmax = 12"), "production.cluster.node_pools[0].min"),
        (
            ENVIRONMENTS.replace("retention = 35, continuous = true", "retention = 90, continuous = true"),
            "production.backup.plan.rules[0].retention",
        ),
        (
            ENVIRONMENTS.replace("instance = \"acme-prod-db\"\nname = \"keycloak\"", "instance = \"acme-nope\"\nname = \"keycloak\""),
            "production.application_databases[1].instance",
        ),
        (
            ENVIRONMENTS.replace("admin_password_secret = \"acme-prod-db-admin\"", "admin_password_secret = \"acme-other\""),
            "production.databases[0].admin_password_secret",
        ),
    ];
    for (text, field) in cases {
        match Environments::from_toml(&text) {
            Err(Error::InvalidInput { field: got, .. }) => assert_eq!(got, field),
            other => panic!("expected InvalidInput on {field}, got {other:?}"),
        }
    }
    // Type-level rules surface through the parser with the rule and the line.
    let e = Environments::from_toml(&ENVIRONMENTS.replace("acme-prod-assets", "Acme_Prod")).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("S3 bucket names") && text.contains("line"), "{text}");
    let e = Environments::from_toml("[production]\nbukets = []\n").unwrap_err();
    assert!(e.to_string().contains("bukets"), "{e}");
}
