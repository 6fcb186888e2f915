//! A sentinel secret never appears in the Debug or Display of specs, errors or reports.

use deploy_core::database::DatabaseSpec;
use deploy_core::env::{Backends, Environments};
use deploy_core::{Password, PasswordRules, PgIdentifier, ResourceName, SecretName, SecretStore};
use secrecy::SecretString;

const SENTINEL: &str = "SENTINEL-s3cr3t-value-42";

#[tokio::test]
async fn sentinel_never_shows() {
    let mut seen = Vec::new();
    let password = Password::new(SENTINEL, &PasswordRules::rds_master()).unwrap();
    seen.push(format!("{password:?} {password}"));
    let mut spec = DatabaseSpec::postgres(ResourceName::new("db").unwrap(), "15", "db.t3.micro", PgIdentifier::new("admin").unwrap());
    spec.admin_password = Some(password.clone());
    seen.push(format!("{spec:?}"));
    // A password that breaks a rule is refused without echoing it.
    let bad = Password::new(format!("{SENTINEL}@"), &PasswordRules::rds_master()).unwrap_err();
    seen.push(format!("{bad:?} {bad}"));
    let short = Password::new(&SENTINEL[..5], &PasswordRules::rds_master()).unwrap_err();
    seen.push(format!("{short:?} {short}"));

    let cloud = deploy_core::memory::InMemoryCloud::new();
    let name = SecretName::new("app-secret").unwrap();
    let v = cloud.put_secret(&name, SecretString::from(SENTINEL), &Default::default()).await.unwrap();
    seen.push(format!("{v:?}"));
    let got = cloud.get_secret(&name).await.unwrap();
    seen.push(format!("{got:?}"));
    assert_eq!(secrecy::ExposeSecret::expose_secret(&got.value), SENTINEL, "the one place it must be");

    let envs = Environments::from_toml("[p]\nsecrets = [{ name = \"p-db\" }]\n").unwrap();
    let done = envs.get("p").unwrap().ensure(&Backends::in_memory(&cloud)).await.unwrap();
    seen.push(format!("{done:?} {done}"));

    for text in &seen {
        assert!(!text.contains(SENTINEL), "the sentinel leaked: {text}");
        assert!(!text.contains("SENTINEL"), "part of the sentinel leaked: {text}");
    }
}
