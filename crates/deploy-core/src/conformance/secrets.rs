use secrecy::{ExposeSecret, SecretString};

use super::check::{expect_err, ok};
use super::names::Names;
use crate::error::{Confirm, Error};
use crate::secret_store::{PutSecretOptions, SecretStore};

/// The whole SecretStore suite.
pub async fn secret_store(store: &dyn SecretStore, names: &Names) {
    let name = names.secret("pg");
    let options = PutSecretOptions::default();
    expect_err("get missing secret", store.get_secret(&name).await, Error::is_not_found);
    assert!(!ok("secret_exists (missing)", store.secret_exists(&name).await));
    let first = ok("put_secret", store.put_secret(&name, SecretString::from("first-Value-1"), &options).await);
    assert!(first.changed, "creating a secret reported no change");
    assert!(ok("secret_exists", store.secret_exists(&name).await));
    let got = ok("get_secret", store.get_secret(&name).await);
    assert_eq!(got.value.expose_secret(), "first-Value-1");
    assert!(!format!("{got:?}").contains("first-Value-1"), "Debug of a secret value shows it");
    let same = ok("put_secret (same value)", store.put_secret(&name, SecretString::from("first-Value-1"), &options).await);
    assert!(!same.changed, "writing the current value made a new version");
    assert_eq!(same.version, first.version);
    let rotated = ok("rotate_secret", store.rotate_secret(&name, SecretString::from("second-Value-2")).await);
    assert!(rotated.changed);
    assert_ne!(rotated.version, first.version, "rotation kept the version id");
    assert_eq!(ok("get after rotate", store.get_secret(&name).await).value.expose_secret(), "second-Value-2");
    let third = ok("put_secret (new value)", store.put_secret(&name, SecretString::from("third-Value-3"), &options).await);
    assert!(third.changed);
    assert_eq!(ok("get after put", store.get_secret(&name).await).value.expose_secret(), "third-Value-3");
    expect_err("rotate missing", store.rotate_secret(&names.secret("absent"), SecretString::from("x-Value-9")).await, Error::is_not_found);
    expect_err("delete without the right confirmation", store.delete_secret(&name, &Confirm::new("other")).await, |e| {
        matches!(e, Error::ConfirmationRequired { .. })
    });
    ok("delete_secret", store.delete_secret(&name, &Confirm::new(name.as_str())).await);
    expect_err("get deleted", store.get_secret(&name).await, Error::is_not_found);
    assert!(!ok("secret_exists (deleted)", store.secret_exists(&name).await));
}
