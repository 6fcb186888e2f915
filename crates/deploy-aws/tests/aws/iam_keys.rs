//! Access keys on moto that never strand a key, and their rotation, with a
//! failure injected between the steps (an SDK interceptor failing one
//! operation before it is sent, or after the server applied it).

use deploy_aws::iam::{Iam, IamName, RotateOptions, UserSpec};
use deploy_aws::secrets::SecretsManagerStore;
use deploy_aws::{AwsBackends, RequestLog};
use deploy_core::{Confirm, Reconcile as _, SecretName, SecretStore};
use secrecy::ExposeSecret;

use crate::faults::{FailOperation, When};
use crate::support::{moto, names};

struct Fixture {
    iam: Iam,
    secrets: SecretsManagerStore,
    user: IamName,
    secret: SecretName,
    log: RequestLog,
}

impl Fixture {
    async fn new(conf: &aws_config::SdkConfig, faults: &[&FailOperation]) -> Fixture {
        let log = RequestLog::new();
        let mut aws = AwsBackends::from_conf(conf).with_request_log(&log);
        for f in faults {
            aws = aws.with_interceptor(f.interceptor());
        }
        let n = names();
        let user = IamName::new(format!("{}-rotated", n.prefix())).unwrap();
        aws.iam().ensure(&UserSpec::new(user.clone())).await.unwrap();
        Fixture {
            iam: aws.iam(),
            secrets: aws.secrets(),
            user,
            secret: SecretName::new(format!("{}-access-key", n.prefix())).unwrap(),
            log,
        }
    }

    /// The key id the secret holds.
    async fn stored(&self) -> Option<String> {
        if !self.secrets.secret_exists(&self.secret).await.unwrap() {
            return None;
        }
        let value = self.secrets.get_secret(&self.secret).await.unwrap();
        let json: serde_json::Value = serde_json::from_str(value.value.expose_secret()).unwrap();
        assert!(json["SecretAccessKey"].as_str().is_some_and(|s| !s.is_empty()));
        json["AccessKeyId"].as_str().map(str::to_owned)
    }

    /// (id, active) of every key of the user.
    async fn keys(&self) -> Vec<(String, bool)> {
        self.iam.access_keys(&self.user).await.unwrap().into_iter().map(|k| (k.id, k.active)).collect()
    }

    /// The secret holds an active key of the user: whatever failed, the application can sign in.
    async fn assert_working_key_stored(&self, after: &str) -> String {
        let stored = self.stored().await.unwrap_or_else(|| panic!("{after}: no key stored"));
        let keys = self.keys().await;
        assert!(keys.contains(&(stored.clone(), true)), "{after}: the stored key {stored} is not an active key of the user: {keys:?}");
        assert!(keys.len() <= 2, "{after}: {keys:?}");
        stored
    }

    async fn clean_up(&self) {
        self.iam.delete_user(&self.user).await.unwrap();
        self.secrets.delete_secret(&self.secret, &Confirm::new(self.secret.as_str())).await.unwrap();
    }
}

#[tokio::test]
async fn rotation_stores_the_new_key_then_retires_the_old_one() {
    let conf = moto!("iam_keys::rotation_stores_the_new_key_then_retires_the_old_one");
    let f = Fixture::new(&conf, &[]).await;
    let first = f.iam.ensure_access_key(&f.user, &f.secrets, &f.secret).await.unwrap().info;
    for round in 0..3 {
        let before = f.assert_working_key_stored("before a rotation").await;
        f.log.clear();
        let rotated = f.iam.rotate_access_key(&f.user, &f.secrets, &f.secret, &RotateOptions::default()).await.unwrap();
        let now = f.assert_working_key_stored("after a rotation").await;
        assert_ne!(now, before, "round {round}");
        assert_eq!(rotated.info.current, now);
        assert_eq!(rotated.info.retired, std::slice::from_ref(&before));
        assert_eq!(f.keys().await, [(now.clone(), true)], "the old key is deleted");
        // The order that never leaves the secret without a working key: create, store, deactivate, delete.
        let written: Vec<String> = f.log.mutating().iter().map(|r| r.operation.clone()).collect();
        assert_eq!(written, ["CreateAccessKey", "PutSecretValue", "UpdateAccessKey", "DeleteAccessKey"], "round {round}");
    }
    assert_ne!(f.stored().await.unwrap(), first);
    // Keeping the old key inactive (reversible); the next rotation deletes it first.
    let kept = RotateOptions { delete_old: false, ..RotateOptions::default() };
    let old = f.stored().await.unwrap();
    let new = f.iam.rotate_access_key(&f.user, &f.secrets, &f.secret, &kept).await.unwrap().info.current;
    assert_eq!(f.keys().await.into_iter().collect::<std::collections::BTreeSet<_>>(), [(old.clone(), false), (new.clone(), true)].into());
    let newer = f.iam.rotate_access_key(&f.user, &f.secrets, &f.secret, &RotateOptions::default()).await.unwrap().info.current;
    assert_eq!(f.keys().await, [(newer, true)]);
    f.clean_up().await;
}

#[tokio::test]
async fn a_rotation_failing_at_any_step_leaves_a_working_key_stored() {
    let conf = moto!("iam_keys::a_rotation_failing_at_any_step_leaves_a_working_key_stored");
    let store = FailOperation::new("PutSecretValue", When::Before, 0);
    let store_lost = FailOperation::new("PutSecretValue", When::After, 0);
    let deactivate = FailOperation::new("UpdateAccessKey", When::Before, 0);
    let delete = FailOperation::new("DeleteAccessKey", When::Before, 0);
    let f = Fixture::new(&conf, &[&store, &store_lost, &deactivate, &delete]).await;
    f.iam.ensure_access_key(&f.user, &f.secrets, &f.secret).await.unwrap();
    let defaults = RotateOptions::default();
    let rotate = || f.iam.rotate_access_key(&f.user, &f.secrets, &f.secret, &defaults);

    // 1. The store refuses the new key: it is deleted again, the old one stays stored and active.
    let old = f.assert_working_key_stored("start").await;
    store.arm(1);
    rotate().await.unwrap_err();
    assert_eq!(store.hits(), 1);
    assert_eq!(f.assert_working_key_stored("the store refused the new key").await, old);
    assert_eq!(f.keys().await, [(old.clone(), true)], "the new key was not rolled back");

    // 2. The store took the new key but its answer was lost: read back, the rotation goes on.
    store_lost.arm(1);
    let done = rotate().await.unwrap();
    assert_eq!(store_lost.hits(), 1);
    let new = f.assert_working_key_stored("the store's answer was lost").await;
    assert_eq!((done.info.current.as_str(), f.keys().await), (new.as_str(), vec![(new.clone(), true)]));

    // 3. Deactivating the old key fails after the switch: the new key is stored; running it again finishes.
    deactivate.arm(1);
    rotate().await.unwrap_err();
    let switched = f.assert_working_key_stored("deactivation failed").await;
    assert_ne!(switched, new);
    assert_eq!(f.keys().await.len(), 2);
    let finished = rotate().await.unwrap();
    assert_eq!(finished.info.current, switched, "running it again created yet another key");
    assert_eq!(f.keys().await, [(switched.clone(), true)]);

    // 4. Deleting the old key fails: it stays inactive; the next rotation deletes it first and never holds three keys.
    delete.arm(1);
    rotate().await.unwrap_err();
    let latest = f.assert_working_key_stored("deletion failed").await;
    assert_eq!(f.keys().await.iter().filter(|(_, active)| !active).count(), 1);
    let again = rotate().await.unwrap();
    assert_ne!(again.info.current, latest);
    assert_eq!(f.keys().await, [(again.info.current.clone(), true)]);
    f.clean_up().await;
}

#[tokio::test]
async fn ensure_access_key_never_strands_a_key() {
    let conf = moto!("iam_keys::ensure_access_key_never_strands_a_key");
    let store = FailOperation::new("CreateSecret", When::Before, 0);
    let lost = FailOperation::new("CreateAccessKey", When::After, 0);
    let lost_500 = FailOperation::new("CreateAccessKey", When::AfterAs500, 0);
    let f = Fixture::new(&conf, &[&store, &lost, &lost_500]).await;

    // The secret cannot be stored: the new key is deleted again.
    store.arm(1);
    f.iam.ensure_access_key(&f.user, &f.secrets, &f.secret).await.unwrap_err();
    assert_eq!(store.hits(), 1);
    assert!(f.keys().await.is_empty(), "a key with no stored secret was left: {:?}", f.keys().await);

    // IAM created the key but the answer was lost: nobody has its secret, so it is deleted.
    lost.arm(1);
    f.iam.ensure_access_key(&f.user, &f.secrets, &f.secret).await.unwrap_err();
    assert_eq!(lost.hits(), 1);
    assert!(f.keys().await.is_empty(), "the key of the lost answer was left: {:?}", f.keys().await);

    // The same answered 500 (IAM made the key): the key is deleted and a new one made, stored, alone.
    lost_500.arm(1);
    let made = f.iam.ensure_access_key(&f.user, &f.secrets, &f.secret).await.unwrap();
    assert_eq!(lost_500.hits(), 1);
    assert_eq!(f.assert_working_key_stored("ensure").await, made.info);
    assert_eq!(f.keys().await.len(), 1, "the key of the lost answer was left: {:?}", f.keys().await);
    f.clean_up().await;
}
