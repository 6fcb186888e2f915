//! The administrator password rotation on the in-memory backends, with a
//! failure injected at each step: the instance and the stored password never
//! part ways for good, and a second run finishes with the pending password.

use async_trait::async_trait;
use deploy_core::memory::InMemoryCloud;
use deploy_core::recipes::password::pending_secret;
use deploy_core::recipes::rotate_admin_password;
use deploy_core::secret_store::{PutSecretOptions, SecretValue, SecretVersion};
use deploy_core::{Confirm, Database, DatabaseSpec, Error, PasswordRules, PgIdentifier, ResourceName, Result, SecretName, SecretStore};
use secrecy::{ExposeSecret, SecretString};

use crate::support::slow_cloud;

async fn setup(cloud: &InMemoryCloud) -> (ResourceName, SecretName, String) {
    let name = ResourceName::new("prod-db").unwrap();
    let password = PasswordRules::rds_master().generate(24).unwrap();
    let secret = SecretName::new("prod-db-admin").unwrap();
    cloud.put_secret(&secret, password.secret().clone(), &PutSecretOptions::default()).await.unwrap();
    let mut spec = DatabaseSpec::postgres(name.clone(), "15", "db.t4g.medium", PgIdentifier::new("dbadmin").unwrap());
    spec.admin_password = Some(password.clone());
    cloud.ensure_database(&spec).await.unwrap();
    (name, secret, password.expose().to_owned())
}

async fn stored(store: &dyn SecretStore, secret: &SecretName) -> String {
    store.get_secret(secret).await.unwrap().value.expose_secret().to_owned()
}

#[tokio::test]
async fn a_rotation_gives_the_instance_and_the_secret_a_new_password() {
    let cloud = slow_cloud();
    let (db, secret, old) = setup(&cloud).await;
    let rotated = rotate_admin_password(&cloud, &db, &cloud, &secret, &PasswordRules::rds_master(), 24).await.unwrap();
    let new = stored(&cloud, &secret).await;
    assert_ne!(new, old);
    assert!(cloud.admin_password_is(&db, &new), "the instance does not use the stored password");
    assert!(!rotated.resumed);
    assert!(!cloud.secret_exists(&pending_secret(&secret).unwrap()).await.unwrap(), "the pending secret is left");
    assert!(!format!("{rotated} {rotated:?}").contains(&new), "the password is shown");
    // The order that never loses the password in use.
    let ops: Vec<&str> = cloud.mutating_calls().iter().map(|c| c.op).filter(|op| *op != "ensure_database").collect();
    assert_eq!(ops[ops.len() - 4..], ["put_secret", "set_admin_password", "put_secret", "delete_secret"]);
}

#[tokio::test]
async fn a_failure_setting_the_instance_keeps_the_old_password_stored_and_the_next_run_finishes() {
    let cloud = slow_cloud();
    let (db, secret, old) = setup(&cloud).await;
    cloud.fail_op("set_admin_password", 1);
    rotate_admin_password(&cloud, &db, &cloud, &secret, &PasswordRules::rds_master(), 24).await.unwrap_err();
    assert_eq!(stored(&cloud, &secret).await, old, "the current secret changed before the instance took the password");
    assert!(cloud.admin_password_is(&db, &old));
    let pending = stored(&cloud, &pending_secret(&secret).unwrap()).await;

    let again = rotate_admin_password(&cloud, &db, &cloud, &secret, &PasswordRules::rds_master(), 24).await.unwrap();
    assert!(again.resumed);
    assert_eq!(stored(&cloud, &secret).await, pending, "the second run did not finish with the pending password");
    assert!(cloud.admin_password_is(&db, &pending));
}

/// A store whose writes of one secret fail.
#[derive(Debug)]
struct RefusingStore {
    inner: InMemoryCloud,
    refused: SecretName,
}

#[async_trait]
impl SecretStore for RefusingStore {
    fn backend(&self) -> &'static str {
        "refusing"
    }
    async fn put_secret(&self, name: &SecretName, value: SecretString, options: &PutSecretOptions) -> Result<SecretVersion> {
        if *name == self.refused {
            return Err(Error::Provider {
                provider: "refusing",
                operation: "put_secret".into(),
                message: "injected".into(),
                retryable: true,
                source: None,
            });
        }
        self.inner.put_secret(name, value, options).await
    }
    async fn get_secret(&self, name: &SecretName) -> Result<SecretValue> {
        self.inner.get_secret(name).await
    }
    async fn secret_exists(&self, name: &SecretName) -> Result<bool> {
        self.inner.secret_exists(name).await
    }
    async fn rotate_secret(&self, name: &SecretName, value: SecretString) -> Result<SecretVersion> {
        self.inner.rotate_secret(name, value).await
    }
    async fn delete_secret(&self, name: &SecretName, confirm: &Confirm) -> Result<()> {
        self.inner.delete_secret(name, confirm).await
    }
}

#[tokio::test]
async fn a_failure_storing_the_new_password_keeps_it_pending_and_the_next_run_stores_it() {
    let cloud = slow_cloud();
    let (db, secret, old) = setup(&cloud).await;
    let refusing = RefusingStore { inner: cloud.clone(), refused: secret.clone() };
    rotate_admin_password(&cloud, &db, &refusing, &secret, &PasswordRules::rds_master(), 24).await.unwrap_err();
    let pending = stored(&cloud, &pending_secret(&secret).unwrap()).await;
    assert_ne!(pending, old);
    assert!(cloud.admin_password_is(&db, &pending), "the instance took the new password");
    assert_eq!(stored(&cloud, &secret).await, old);

    let again = rotate_admin_password(&cloud, &db, &cloud, &secret, &PasswordRules::rds_master(), 24).await.unwrap();
    assert!(again.resumed);
    assert_eq!(stored(&cloud, &secret).await, pending);
    assert!(cloud.admin_password_is(&db, &pending));
    assert!(!cloud.secret_exists(&pending_secret(&secret).unwrap()).await.unwrap());
}

#[tokio::test]
async fn a_pending_secret_left_after_the_store_starts_a_fresh_rotation() {
    let cloud = slow_cloud();
    let (db, secret, old) = setup(&cloud).await;
    // The last run stored the password and stopped before deleting the pending secret.
    cloud.put_secret(&pending_secret(&secret).unwrap(), SecretString::from(old.clone()), &PutSecretOptions::default()).await.unwrap();
    let rotated = rotate_admin_password(&cloud, &db, &cloud, &secret, &PasswordRules::rds_master(), 24).await.unwrap();
    assert!(!rotated.resumed);
    let new = stored(&cloud, &secret).await;
    assert_ne!(new, old, "a leftover pending secret stopped the rotation");
    assert!(cloud.admin_password_is(&db, &new));
}
