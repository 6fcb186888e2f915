//! SIMPHERA's credential rotation through the examples' flags, on moto:
//! `aws_bucket_access --rotate-key` leaves one access key, new, stored in the
//! secret; `aws_database_ssl --rotate-password` leaves a new password in the
//! secret (the old one its previous version) and no pending secret.

use anyhow::{Context as _, Result, ensure};
use deploy::SecretStore as _;
use deploy_aws::iam::{Iam, IamName};
use deploy_aws::secrets::SecretsManagerStore;
use deploy_core::SecretName;
use secrecy::ExposeSecret as _;

use crate::support::examples::{prefix, run};
use crate::support::{self};

async fn secret_value(store: &SecretsManagerStore, name: &str) -> Result<String> {
    Ok(store.get_secret(&SecretName::new(name)?).await?.value.expose_secret().to_owned())
}

#[tokio::test]
async fn the_examples_rotate_the_access_key_and_the_admin_password() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let sdk = moto.sdk_config().await;
    let (iam, secrets) = (Iam::new(&deploy_aws::AwsContext::new(&sdk)), SecretsManagerStore::new(&deploy_aws::AwsContext::new(&sdk)));

    run(&moto, "aws_bucket_access", &["--prefix", &p])?.assert_ok("aws_bucket_access");
    let user = IamName::new(format!("{p}-app"))?;
    let secret = format!("{p}-app-access-key");
    let before = iam.list_access_keys(&user).await?;
    ensure!(before.len() == 1, "{before:?}");
    let plan = run(&moto, "aws_bucket_access", &["--prefix", &p, "--rotate-key", "--plan"])?;
    ensure!(plan.assert_ok("--rotate-key --plan").mutating() == 0 && plan.stdout.contains("access key"), "{}", plan.show());
    let rotated = run(&moto, "aws_bucket_access", &["--prefix", &p, "--rotate-key"])?;
    rotated.assert_ok("--rotate-key");
    let after = iam.list_access_keys(&user).await?;
    ensure!(after.len() == 1 && after != before, "keys before {before:?}, after {after:?}\n{}", rotated.show());
    let stored: serde_json::Value = serde_json::from_str(&secret_value(&secrets, &secret).await?)?;
    ensure!(stored["AccessKeyId"] == after[0].as_str(), "the secret holds {}, the user has {after:?}", stored["AccessKeyId"]);
    ensure!(
        rotated.stdout.contains(&before[0]) && !rotated.stdout.contains(stored["SecretAccessKey"].as_str().context("no secret key")?),
        "{}",
        rotated.show()
    );

    run(&moto, "aws_database_ssl", &["--prefix", &p])?.assert_ok("aws_database_ssl");
    let admin = format!("{p}-db-admin");
    let old = secret_value(&secrets, &admin).await?;
    let changed = run(&moto, "aws_database_ssl", &["--prefix", &p, "--rotate-password"])?;
    changed.assert_ok("--rotate-password");
    let new = secret_value(&secrets, &admin).await?;
    ensure!(new != old, "the password did not change\n{}", changed.show());
    ensure!(!changed.stdout.contains(&new) && !changed.stderr.contains(&new), "the new password was printed");
    ensure!(!secrets.secret_exists(&SecretName::new(format!("{admin}-pending"))?).await?, "the pending secret was left");
    let versions = secrets.client().list_secret_version_ids().secret_id(&admin).send().await?;
    ensure!(versions.versions().len() >= 2, "the old password is not kept as a version: {:?}", versions.versions());
    // Run again without the flag: nothing to change.
    let again = run(&moto, "aws_database_ssl", &["--prefix", &p])?;
    ensure!(again.assert_ok("after the rotation").mutating() == 0, "{}", again.show());
    Ok(())
}
