//! Environments from TOML: validation naming fields, plan, idempotent ensure.

use bytes::Bytes;
use deploy_core::env::{Backends, BackupBackend, Environments};
use deploy_core::{BackupVault, Error, ObjectStore, ObjectStoreExt, ResourceName, SecretName, SecretStore};

use crate::support::{bucket, key, slow_cloud};

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

#[tokio::test]
async fn outputs_name_every_resource_and_never_a_secret_value() {
    let envs = Environments::from_toml(ENVIRONMENTS).unwrap();
    let prod = envs.get("production").unwrap();
    let cloud = slow_cloud();
    let backends = Backends::in_memory(&cloud);

    // Before apply: everything reported absent, by reads only.
    let before = prod.outputs("production", &backends).await.unwrap();
    assert!(cloud.mutating_calls().is_empty(), "outputs mutated: {:?}", cloud.mutating_calls());
    assert_eq!(before.cluster.as_ref().unwrap().status, None);
    assert!(before.databases.iter().all(|d| d.status.is_none() && d.endpoint.is_none()));
    assert!(before.buckets.iter().all(|b| !b.exists) && before.secrets.iter().all(|s| !s.exists));
    assert!(!before.backup.as_ref().unwrap().vault_exists);

    prod.ensure(&backends).await.unwrap();
    let out = prod.outputs("production", &backends).await.unwrap();
    assert_eq!(out.environment, "production");
    let cluster = out.cluster.as_ref().unwrap();
    assert_eq!((cluster.name.as_str(), cluster.status.as_deref()), ("acme-prod", Some("active")));
    assert!(cluster.endpoint.is_some(), "no cluster endpoint: {cluster:?}");
    let pools: Vec<(&str, u32, u32)> = cluster.node_pools.iter().map(|p| (p.name.as_str(), p.min, p.max)).collect();
    assert!(pools.contains(&("services", 1, 12)) && pools.contains(&("executors", 0, 10)), "{pools:?}");
    let db = &out.databases[0];
    assert_eq!(db.name.as_str(), "acme-prod-db");
    assert!(db.endpoint.is_some(), "no database endpoint: {db:?}");
    assert_eq!(db.admin_password_secret.as_ref().map(SecretName::as_str), Some("acme-prod-db-admin"));
    let apps: Vec<&str> = db.application_databases.iter().map(|d| d.as_str()).collect();
    assert_eq!(apps, ["vectice", "keycloak"]);
    assert!(out.buckets.iter().all(|b| b.exists) && out.buckets[0].name.as_str() == "acme-prod-assets");
    let backup = out.backup.as_ref().unwrap();
    assert!(backup.vault_exists && backup.plan_exists && backup.plan.as_ref().unwrap().as_str() == "acme-prod-daily", "{backup:?}");
    assert!(out.secrets.iter().all(|s| s.exists));

    // The document holds the secret's name, never its value.
    let json = serde_json::to_string(&out).unwrap();
    let value = cloud.get_secret(&SecretName::new("acme-prod-db-admin").unwrap()).await.unwrap();
    assert!(json.contains("acme-prod-db-admin"));
    assert!(!json.contains(secrecy::ExposeSecret::expose_secret(&value.value)), "the outputs hold the admin password: {json}");
}

#[tokio::test]
async fn destroy_deletes_nothing_without_the_environment_named() {
    let envs = Environments::from_toml(ENVIRONMENTS).unwrap();
    let prod = envs.get("production").unwrap();
    let cloud = slow_cloud();
    let backends = Backends::in_memory(&cloud);
    prod.ensure(&backends).await.unwrap();
    let assets = bucket("acme-prod-assets");
    cloud.put_bytes(&assets, &key("models/a.json"), Bytes::from_static(b"{}")).await.unwrap();
    let vault = ResourceName::new("acme-prod-vault").unwrap();
    cloud.start_backup(&vault, "arn:aws:s3:::acme-prod-assets", None).await.unwrap();

    // The plan, in SIMPHERA's order, each data-bearing step marked; reads only.
    cloud.reset_calls();
    let plan = prod.destroy_plan("production", &backends, true).await.unwrap();
    assert!(cloud.mutating_calls().is_empty(), "the destroy plan mutated: {:?}", cloud.mutating_calls());
    let at = |action: &str| plan.steps.iter().position(|s| s.action.starts_with(action)).unwrap_or_else(|| panic!("no `{action}`: {plan}"));
    let order = [
        "delete recovery point",
        "delete backup plan",
        "delete backup vault",
        "turn off deletion protection",
        "delete database",
        "delete bucket and every object",
        "delete node pool",
        "delete cluster",
        "delete secret",
    ];
    let positions: Vec<usize> = order.iter().map(|a| at(a)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "out of order: {plan}");
    for destroys in ["delete recovery point", "delete database", "delete bucket and every object", "delete secret"] {
        assert!(plan.steps[at(destroys)].destroys.is_some(), "`{destroys}` is not marked as destroying data: {plan}");
    }

    // Without a confirmation, or with another environment's: refused, nothing deleted.
    let refused = prod.destroy("production", &backends, None, true).await.unwrap_err();
    assert!(matches!(&refused, Error::ConfirmationRequired { expected, .. } if expected == "production"), "{refused:?}");
    let wrong = prod.destroy("production", &backends, Some("staging"), true).await.unwrap_err();
    assert_eq!(wrong.invalid_field(), Some("confirm"), "{wrong:?}");
    assert!(cloud.mutating_calls().is_empty(), "a refused destroy mutated: {:?}", cloud.mutating_calls());
    assert!(cloud.head(&assets, &key("models/a.json")).await.is_ok(), "an object was deleted");
    let still = prod.outputs("production", &backends).await.unwrap();
    assert!(still.databases[0].status.is_some() && still.backup.unwrap().vault_exists && still.secrets[0].exists);

    // Confirmed: every resource of the environment gone; a second run does nothing.
    let done = prod.destroy("production", &backends, Some("production"), true).await.unwrap();
    assert_eq!(done, plan);
    let after = prod.outputs("production", &backends).await.unwrap();
    assert!(after.cluster.unwrap().status.is_none(), "the cluster is still there");
    assert!(after.databases.iter().all(|d| d.status.is_none()), "a database is still there");
    assert!(after.buckets.iter().all(|b| !b.exists) && after.secrets.iter().all(|s| !s.exists));
    let backup = after.backup.unwrap();
    assert!(!backup.vault_exists && !backup.plan_exists, "{backup:?}");
    assert!(cloud.describe_bucket(&assets).await.unwrap_err().is_not_found());
    cloud.reset_calls();
    assert!(prod.destroy_plan("production", &backends, true).await.unwrap().steps.is_empty());
    let again = prod.destroy("production", &backends, Some("production"), true).await.unwrap();
    assert!(again.steps.is_empty() && cloud.mutating_calls().is_empty(), "the second destroy did something: {again}");
}

#[tokio::test]
async fn a_backup_section_on_a_cloud_without_a_vault_is_refused_before_any_request() {
    let envs = Environments::from_toml(ENVIRONMENTS).unwrap();
    let cloud = slow_cloud();
    let mut backends = Backends::in_memory(&cloud);
    backends.backup = BackupBackend::Unavailable { cloud: "azure", instead: "the flexible server's own backups".into() };
    let prod = envs.get("production").unwrap();
    assert_eq!(prod.validate_for("production", &backends).unwrap_err().invalid_field(), Some("production.backup"));
    for e in [
        prod.plan(&backends).await.unwrap_err(),
        prod.ensure(&backends).await.unwrap_err(),
        prod.outputs("production", &backends).await.unwrap_err(),
        prod.destroy("production", &backends, Some("production"), true).await.unwrap_err(),
    ] {
        assert!(e.invalid_field().is_some_and(|f| f.ends_with("backup")), "{e:?}");
        assert!(e.to_string().contains("azure") && e.to_string().contains("flexible server"), "{e}");
    }
    assert!(cloud.calls().is_empty(), "requests before the refusal: {:?}", cloud.calls());
    // An environment without a backup section goes through.
    let staging = envs.get("staging").unwrap();
    assert!(!staging.ensure(&backends).await.unwrap().is_empty());
    assert!(staging.plan(&backends).await.unwrap().is_empty());
    assert!(cloud.describe_vault(&ResourceName::new("acme-prod-vault").unwrap()).await.unwrap_err().is_not_found());
}

#[test]
fn location_and_network_are_checked_naming_the_field() {
    let bad = [
        ("location = { aws = \"Frankfurt\" }", "production.location.aws"),
        ("location = { azure = \"West Europe\" }", "production.location.azure"),
        ("network = { cidr = \"10.0.0.0/8\" }", "production.network.cidr"),
        ("network = { cidr = \"fd00::/48\" }", "production.network.cidr"),
        ("network = { cidr = \"10.0.0.0/25\" }", "production.network.cidr"),
    ];
    for (line, field) in bad {
        // Loading checks every environment.
        let err = Environments::from_toml(&format!("[production]\n{line}\n")).unwrap_err();
        assert_eq!(err.invalid_field(), Some(field), "{line}: {err}");
    }
    let envs = Environments::from_toml(ENVIRONMENTS).unwrap();
    let prod = envs.get("production").unwrap();
    prod.validate("production").unwrap();
    assert_eq!(prod.location.aws.as_deref(), Some("eu-central-1"));
    assert_eq!(prod.location.azure.as_deref(), Some("westeurope"));
}

#[test]
fn the_layout_carves_blocks_four_bits_longer_inside_its_cidr() {
    let envs = Environments::from_toml(ENVIRONMENTS).unwrap();
    let layout = envs.get("production").unwrap().network.clone().unwrap();
    let blocks: Vec<String> = (0..4).map(|i| layout.block(i).unwrap().to_string()).collect();
    assert_eq!(blocks, ["10.20.0.0/20", "10.20.16.0/20", "10.20.32.0/20", "10.20.48.0/20"]);
    assert!(blocks.iter().all(|b| layout.cidr.contains(&deploy_core::CidrBlock::new(b.clone()).unwrap())));
    assert_eq!(layout.block(15).unwrap().to_string(), "10.20.240.0/20");
    assert_eq!(layout.block(16).unwrap_err().invalid_field(), Some("index"));
    let small = deploy_core::CidrBlock::new("192.168.4.0/24").unwrap();
    assert_eq!(small.subnet(4, 3).unwrap().to_string(), "192.168.4.48/28");
    assert!(small.subnet(9, 0).is_err(), "a /33 is not an IPv4 block");
}

#[test]
fn a_resource_no_longer_in_the_spec_is_shown_and_not_a_mutation() {
    let change = deploy_core::Change::unmanaged("node pool", "acme-prod/executors");
    assert!(!change.is_mutation());
    let shown = change.to_string();
    assert!(shown.contains("node pool acme-prod/executors") && shown.contains("no longer in the spec"), "{shown}");
    let plan = deploy_core::Plan::from_iter([change]);
    assert!(!plan.has_mutations(), "{plan}");
}

#[test]
fn files_and_logs_belong_to_a_cluster_and_logs_keep_a_cloudwatch_retention() {
    let refused = [
        ("[staging]\nfiles = { name = \"acme-stage-files\" }\n", "staging.files"),
        ("[staging]\nlogs = { retention_days = 90 }\n", "staging.logs"),
    ];
    for (text, field) in refused {
        let err = Environments::from_toml(text).unwrap_err();
        assert_eq!(err.invalid_field(), Some(field), "{text}: {err}");
    }
    let with_cluster = ENVIRONMENTS.replace("retention_days = 90", "retention_days = 91");
    let err = Environments::from_toml(&with_cluster).unwrap_err();
    assert_eq!(err.invalid_field(), Some("production.logs.retention_days"), "{err}");
    assert!(err.to_string().contains("90") && err.to_string().contains("365"), "the rule lists the retentions: {err}");
    let envs = Environments::from_toml(ENVIRONMENTS).unwrap();
    let prod = envs.get("production").unwrap();
    assert_eq!(prod.files.as_ref().map(|f| f.name.as_str()), Some("acme-prod-files"));
    assert_eq!(prod.logs.as_ref().map(|l| l.retention_days), Some(90));
}
