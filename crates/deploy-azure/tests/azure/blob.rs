//! `BlobStore` against Azurite: the core conformance suite and Azure specifics.

use bytes::Bytes;
use deploy_azure::blob::{AccountSettings, BlobStore};
use deploy_core::conformance::{self, Names};
use deploy_core::object_store::{BucketSpec, Encryption, PutOptions};
use deploy_core::{BucketName, Error, ObjectKey, ObjectStore, ObjectStoreExt};
use futures::StreamExt;
use md5::{Digest, Md5};

use crate::support::{self, azurite_store};

fn key(k: &str) -> ObjectKey {
    ObjectKey::new(k).unwrap()
}

#[tokio::test]
async fn conformance_suite_on_azurite() {
    let Some(store) = azurite_store() else { return };
    conformance::object_store(&store, &Names::unique()).await;
}

#[tokio::test]
async fn staged_upload_streams_blocks_and_sets_content_md5() {
    let Some(endpoint) = support::azurite_endpoint() else {
        return;
    };
    // Tiny limits so that a 300 KiB body goes as blocks of 64 KiB.
    let store = BlobStore::builder()
        .endpoint(&endpoint)
        .sas(&support::azurite_sas())
        .single_put_limit(100 * 1024)
        .block_size(64 * 1024)
        .concurrency(2)
        .build()
        .unwrap();
    let bucket = BucketName::new(format!("staged-{}", support::suffix())).unwrap();
    store.ensure_bucket(&BucketSpec::new(bucket.clone())).await.unwrap();
    let chunks: Vec<Bytes> = (0..30u8).map(|i| Bytes::from(vec![i; 10 * 1024])).collect();
    let whole: Vec<u8> = chunks.concat();
    let body = futures::stream::iter(chunks.into_iter().map(Ok)).boxed();
    let k = key("big/three-hundred-kib.bin");
    let put = store.put(&bucket, &k, body, &PutOptions::default()).await.unwrap();
    let want = hex::encode(Md5::digest(&whole));
    assert_eq!(put.etag.as_deref(), Some(want.as_str()), "etag is the content MD5 in hex");
    assert_eq!(put.size, whole.len() as u64);
    let head = store.head(&bucket, &k).await.unwrap();
    assert_eq!(head.etag.as_deref(), Some(want.as_str()), "the service stored the Content-MD5 set at Put Block List");
    assert_eq!(store.get_bytes(&bucket, &k).await.unwrap(), Bytes::from(whole.clone()));
    // The same bytes in one Put Blob give the same etag: content, not version.
    let small = key("big/same-bytes-single-put.bin");
    let single = BlobStore::azurite(&endpoint, &support::azurite_sas()).unwrap();
    let again = single.put_bytes(&bucket, &small, Bytes::from(whole)).await.unwrap();
    assert_eq!(again.etag, put.etag);
    let listed = store.list_all(&bucket, Default::default()).await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|m| m.etag.as_deref() == Some(want.as_str())), "{listed:?}");
    store.delete_bucket(&bucket, Some(deploy_core::Confirm::new(bucket.as_str()))).await.unwrap();
}

#[tokio::test]
async fn account_level_settings_are_not_supported_by_name() {
    let Some(endpoint) = support::azurite_endpoint() else {
        return;
    };
    let store = BlobStore::azurite(&endpoint, &support::azurite_sas()).unwrap();
    let bucket = BucketName::new(format!("acct-{}", support::suffix())).unwrap();
    let mut spec = BucketSpec::new(bucket.clone());
    spec.versioning = false;
    let err = store.plan_bucket(&spec).await.unwrap_err();
    assert!(matches!(&err, Error::NotSupported { field, .. } if field == "versioning"), "{err:?}");
    let mut spec = BucketSpec::new(bucket.clone());
    spec.encryption = Encryption::Key("https://vault.example/keys/k".into());
    let err = store.ensure_bucket(&spec).await.unwrap_err();
    assert!(matches!(&err, Error::NotSupported { field, .. } if field == "encryption"), "{err:?}");
    let mut spec = BucketSpec::new(bucket.clone());
    spec.block_public_access = false;
    let err = store.ensure_bucket(&spec).await.unwrap_err();
    assert!(matches!(&err, Error::NotSupported { field, .. } if field == "block_public_access"), "{err:?}");
    // A store declared on an account without versioning plans versioning=false as a no-op create.
    let plain = BlobStore::builder()
        .endpoint(&endpoint)
        .sas(&support::azurite_sas())
        .account_settings(AccountSettings { versioning: false, ..AccountSettings::SECURE })
        .build()
        .unwrap();
    let mut spec = BucketSpec::new(bucket.clone());
    spec.versioning = false;
    assert_eq!(plain.plan_bucket(&spec).await.unwrap().len(), 1);
    assert!(store.describe_bucket(&bucket).await.unwrap_err().is_not_found(), "nothing was created");
}

#[tokio::test]
async fn bad_input_is_rejected_before_any_request() {
    // Nothing listens there: an error other than InvalidInput would mean a request was tried.
    let store = BlobStore::azurite(&format!("{}/devstoreaccount1", support::dead_endpoint()), &support::azurite_sas()).unwrap();
    let dotted = BucketName::new("has.dots.in-it").unwrap();
    let err = store.plan_bucket(&BucketSpec::new(dotted.clone())).await.unwrap_err();
    assert_eq!(err.invalid_field(), Some("bucket"), "{err:?}");
    let err = store.put_bytes(&dotted, &key("k"), Bytes::from_static(b"x")).await.unwrap_err();
    assert_eq!(err.invalid_field(), Some("bucket"), "{err:?}");
    let listed: Vec<_> = store.list(&dotted, Default::default()).collect().await;
    assert!(matches!(listed.as_slice(), [Err(e)] if e.invalid_field() == Some("bucket")), "{listed:?}");
    let mut spec = BucketSpec::new(BucketName::new("fine-name").unwrap());
    spec.tags.insert("has-dash".into(), "v".into());
    let err = store.ensure_bucket(&spec).await.unwrap_err();
    assert_eq!(err.invalid_field(), Some("tags.has-dash"), "{err:?}");
    // A dead peer fails fast and retryably, and the error does not carry the SAS signature.
    let sas = support::azurite_sas();
    let err = store.head(&BucketName::new("fine-name").unwrap(), &key("k")).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    let text = format!("{err} {err:?} {:?}", std::error::Error::source(&err).map(|s| s.to_string()));
    assert!(!text.contains(&sas.signature()) && !text.contains(&percent(&sas.signature())), "{text}");
}

fn percent(s: &str) -> String {
    s.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
}

#[test]
fn builder_rejects_bad_settings_naming_the_field() {
    let sas = support::azurite_sas();
    let field = |b: deploy_azure::blob::BlobStoreBuilder| b.build().unwrap_err().invalid_field().map(str::to_owned);
    assert_eq!(field(BlobStore::builder().sas(&sas)).as_deref(), Some("endpoint"));
    assert_eq!(field(BlobStore::builder().endpoint("ftp://x/y").sas(&sas)).as_deref(), Some("endpoint"));
    assert_eq!(field(BlobStore::builder().endpoint("https://a.blob.core.windows.net/?sig=x").sas(&sas)).as_deref(), Some("endpoint"));
    assert_eq!(field(BlobStore::builder().endpoint("https://a.blob.core.windows.net")).as_deref(), Some("credential"));
    assert_eq!(
        field(BlobStore::builder().endpoint("https://a.blob.core.windows.net").sas(&sas).block_size(0)).as_deref(),
        Some("block_size")
    );
    assert_eq!(
        field(BlobStore::builder().endpoint("https://a.blob.core.windows.net").sas(&sas).concurrency(0)).as_deref(),
        Some("concurrency")
    );
    let store = BlobStore::builder().endpoint("https://a.blob.core.windows.net").sas(&sas).build().unwrap();
    let shown = format!("{store:?} {store}");
    assert!(!shown.contains(&sas.signature()) && !shown.contains("sig="), "{shown}");
}
