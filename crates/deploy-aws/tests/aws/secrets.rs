//! SecretsManagerStore against moto.

use deploy_aws::secrets::SecretsManagerStore;
use deploy_aws::{AwsBackends, RequestLog};
use deploy_core::secret_store::PutSecretOptions;
use deploy_core::{Confirm, Error, Password, PasswordRules, SecretName, SecretStore};
use secrecy::{ExposeSecret, SecretString};

use crate::support::{moto, names};

#[tokio::test]
async fn conformance_secret_store() {
    let conf = moto!("secrets::conformance_secret_store");
    deploy_core::conformance::secret_store(&SecretsManagerStore::new(&deploy_aws::AwsContext::new(&conf)), &names()).await;
}

#[tokio::test]
async fn writing_the_current_value_again_writes_nothing() {
    let conf = moto!("secrets::writing_the_current_value_again_writes_nothing");
    let log = RequestLog::new();
    let store = AwsBackends::from_conf(&conf).with_request_log(&log).secrets();
    let name = names().secret("same");
    let first = store.put_secret(&name, SecretString::from("value-One-1"), &PutSecretOptions::default()).await.unwrap();
    log.clear();
    let again = store.put_secret(&name, SecretString::from("value-One-1"), &PutSecretOptions::default()).await.unwrap();
    assert!(!again.changed);
    assert_eq!(again.version, first.version);
    assert!(log.mutating().is_empty(), "{:?}", log.mutating());
    assert_eq!(log.count("GetSecretValue"), 1);
    log.clear();
    let rotated = store.rotate_secret(&name, SecretString::from("value-One-1")).await.unwrap();
    assert!(rotated.changed && rotated.version != first.version, "rotation writes a new version even for the same value");
    assert_eq!(log.count("PutSecretValue"), 1);
    store.delete_secret(&name, &Confirm::new(name.as_str())).await.unwrap();
}

#[tokio::test]
async fn options_apply_on_creation() {
    let conf = moto!("secrets::options_apply_on_creation");
    let key = "alias/deploy-secrets".to_owned();
    let store = SecretsManagerStore::new(&deploy_aws::AwsContext::new(&conf));
    let name = names().secret("options");
    let options = PutSecretOptions {
        description: Some("the database password".into()),
        encryption_key: Some(key.clone()),
        tags: [("app".to_owned(), "deeploy".to_owned())].into(),
    };
    store.put_secret(&name, SecretString::from("v-Alpha-1"), &options).await.unwrap();
    let described = store.client().describe_secret().secret_id(name.as_str()).send().await.unwrap();
    assert_eq!(described.description(), Some("the database password"));
    assert_eq!(described.kms_key_id(), Some(key.as_str()));
    assert!(described.tags().iter().any(|t| t.key() == Some("app") && t.value() == Some("deeploy")));
    store.delete_secret(&name, &Confirm::new(name.as_str())).await.unwrap();
}

#[tokio::test]
async fn ensure_password_generates_once_to_the_rules() {
    let conf = moto!("secrets::ensure_password_generates_once_to_the_rules");
    let log = RequestLog::new();
    let store = AwsBackends::from_conf(&conf).with_request_log(&log).secrets();
    let name = names().secret("pg-admin");
    let rules = PasswordRules::rds_master();
    let made = store.ensure_password(&name, &rules, 32, &PutSecretOptions::default()).await.unwrap();
    assert!(made.changed);
    let value = store.get_secret(&name).await.unwrap();
    assert_eq!(value.version, made.version);
    let password = value.value.expose_secret();
    assert_eq!(password.chars().count(), 32);
    assert!(!password.contains(['/', '\'', '"', '@', ' ']), "the SIMPHERA preset excludes / ' \" @");
    Password::new(password, &rules).unwrap();
    log.clear();
    let again = store.ensure_password(&name, &rules, 32, &PutSecretOptions::default()).await.unwrap();
    assert!(!again.changed);
    assert_eq!(again.version, made.version);
    assert!(log.mutating().is_empty(), "{:?}", log.mutating());
    assert_eq!(store.get_secret(&name).await.unwrap().value.expose_secret(), password, "an existing password was replaced");
    store.delete_secret(&name, &Confirm::new(name.as_str())).await.unwrap();
}

#[tokio::test]
async fn a_secret_scheduled_for_deletion_conflicts_and_values_stay_out_of_errors() {
    let conf = moto!("secrets::a_secret_scheduled_for_deletion_conflicts_and_values_stay_out_of_errors");
    let store = SecretsManagerStore::new(&deploy_aws::AwsContext::new(&conf));
    let name = names().secret("scheduled");
    store.put_secret(&name, SecretString::from("first-Sentinel-7f3a"), &PutSecretOptions::default()).await.unwrap();
    let e = store.schedule_deletion(&name, 7, &Confirm::new("other")).await.unwrap_err();
    assert!(matches!(e, Error::ConfirmationRequired { .. }));
    store.schedule_deletion(&name, 7, &Confirm::new(name.as_str())).await.unwrap();
    let e = store.put_secret(&name, SecretString::from("second-Sentinel-9c1d"), &PutSecretOptions::default()).await.unwrap_err();
    assert!(matches!(e, Error::Conflict { .. }), "{e:?}");
    assert!(matches!(store.get_secret(&name).await.unwrap_err(), Error::Conflict { .. }));
    // (moto lets PutSecretValue, and so rotate_secret, write to a secret scheduled for deletion; AWS refuses.)
    for shown in [format!("{e}"), format!("{e:?}"), format!("{store:?}")] {
        for value in ["first-Sentinel-7f3a", "second-Sentinel-9c1d"] {
            assert!(!shown.contains(value), "a secret value leaked: {shown}");
        }
    }
    store.delete_secret(&name, &Confirm::new(name.as_str())).await.unwrap();
    assert!(!store.secret_exists(&name).await.unwrap());
}

#[tokio::test]
async fn bad_input_fails_before_any_request() {
    let conf = crate::support::unreachable_config().await;
    let log = RequestLog::new();
    let store = AwsBackends::from_conf(&conf).with_request_log(&log).secrets();
    let name = SecretName::new("never-written").unwrap();
    let e = store.ensure_password(&name, &PasswordRules::rds_master(), 4, &PutSecretOptions::default()).await.unwrap_err();
    assert_eq!(e.invalid_field(), Some("length"), "{e:?}");
    let e = store.schedule_deletion(&name, 3, &Confirm::new(name.as_str())).await.unwrap_err();
    assert_eq!(e.invalid_field(), Some("recovery_window_days"), "{e:?}");
    let e = store.delete_secret(&name, &Confirm::new("other")).await.unwrap_err();
    assert!(matches!(e, Error::ConfirmationRequired { .. }));
    assert!(log.requests().is_empty(), "{:?}", log.requests());
}
