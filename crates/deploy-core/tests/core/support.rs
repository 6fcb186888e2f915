//! Shared helpers: stores built from an in-memory cloud, and objects to fill them.

use bytes::Bytes;
use deploy_core::memory::InMemoryCloud;
use deploy_core::{BucketName, BucketSpec, ObjectKey, ObjectStore, ObjectStoreExt};
use std::time::Duration;

pub fn bucket(name: &str) -> BucketName {
    BucketName::new(name).unwrap()
}

pub fn key(k: &str) -> ObjectKey {
    ObjectKey::new(k).unwrap()
}

/// A cloud whose resources take 20 ms to provision, so every waiter waits.
pub fn slow_cloud() -> InMemoryCloud {
    InMemoryCloud::with_provisioning_delay(Duration::from_millis(20))
}

/// Create `name` and fill it with `n` objects `obj/NNNN` of distinct content.
pub async fn filled_bucket(store: &dyn ObjectStore, name: &str, n: usize) -> BucketName {
    let b = bucket(name);
    store.ensure_bucket(&BucketSpec::new(b.clone())).await.unwrap();
    for i in 0..n {
        store.put_bytes(&b, &key(&format!("obj/{i:04}")), Bytes::from(format!("content of object {i}").repeat(i % 7 + 1))).await.unwrap();
    }
    b
}
