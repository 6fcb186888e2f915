use bytes::Bytes;
use futures::stream::{StreamExt, TryStreamExt};

use super::check::{expect_err, ok};
use super::names::{Names, key};
use crate::error::{Confirm, Error};
use crate::object_store::{BucketSpec, Encryption, ListOptions, ObjectStore, ObjectStoreExt, PutOptions};
use crate::plan::Action;
use crate::validate::{BucketName, ObjectKey};

/// The whole ObjectStore suite.
pub async fn object_store(store: &dyn ObjectStore, names: &Names) {
    let bucket = names.bucket("main");
    ensure_bucket_idempotent(store, &bucket).await;
    awkward_keys(store, &bucket).await;
    streaming(store, &bucket).await;
    listing(store, &bucket).await;
    copy_objects(store, &bucket, &names.bucket("copy")).await;
    not_found(store, &bucket, &names.bucket("absent")).await;
    delete_objects(store, &bucket).await;
    delete_bucket_needs_confirmation(store, &bucket).await;
}

/// Ensure creates with the safe defaults, a second ensure and plan change
/// nothing, a changed spec is planned and applied.
///
/// The defaults are checked as `describe_bucket` reports them: a backend that
/// reports a setting it cannot read from the service (Azure Blob's account
/// settings, declared to the store) passes by declaration, and needs its own
/// test of what it really enforces.
pub async fn ensure_bucket_idempotent(store: &dyn ObjectStore, bucket: &BucketName) {
    let mut spec = BucketSpec::new(bucket.clone());
    let plan = ok("plan_bucket (missing)", store.plan_bucket(&spec).await);
    assert!(matches!(plan.changes.as_slice(), [c] if c.action == Action::Create), "plan of a missing bucket: {plan:?}");
    let made = ok("ensure_bucket", store.ensure_bucket(&spec).await);
    assert!(!made.is_empty(), "ensure of a missing bucket reported no change");
    let info = ok("describe_bucket", store.describe_bucket(bucket).await);
    assert!(info.versioning, "versioning is not on by default: {info:?}");
    assert_eq!(info.encryption, Encryption::ProviderManaged, "encryption at rest is not on by default");
    assert!(info.block_public_access, "public access is not blocked by default");
    assert!(info.require_tls, "TLS is not required by default");
    let again = ok("ensure_bucket (again)", store.ensure_bucket(&spec).await);
    assert!(again.is_empty(), "second ensure changed something: {again}");
    assert!(ok("plan_bucket (again)", store.plan_bucket(&spec).await).is_empty(), "plan after ensure is not empty");
    spec.tags.insert("team".into(), "platform".into());
    let plan = ok("plan_bucket (tags)", store.plan_bucket(&spec).await);
    assert!(
        plan.changes.iter().any(|c| matches!(&c.action, Action::Update { fields } if fields.iter().any(|f| f.field == "tags"))),
        "a tag change is not planned as an update of `tags`: {plan:?}"
    );
    ok("ensure_bucket (tags)", store.ensure_bucket(&spec).await);
    assert_eq!(ok("describe_bucket", store.describe_bucket(bucket).await).tags, spec.tags, "tags not applied");
    assert!(ok("ensure_bucket (tags again)", store.ensure_bucket(&spec).await).is_empty(), "tag ensure is not idempotent");
}

/// Keys with spaces, unicode, `+ % #`, 1,024 bytes, deep paths, and empty objects round-trip.
pub async fn awkward_keys(store: &dyn ObjectStore, bucket: &BucketName) {
    let long = format!("long/{}", "k".repeat(1024 - 5));
    let deep = (0..40).map(|i| format!("d{i}")).collect::<Vec<_>>().join("/") + "/leaf";
    let keys = [
        "with space/file name.txt",
        "unicode/ключ/日本語/🦀.bin",
        "symbols/plus+percent%25hash#amp&eq=q?.txt",
        "symbols/%2F not a slash",
        long.as_str(),
        deep.as_str(),
    ];
    for (i, k) in keys.iter().enumerate() {
        let body = Bytes::from(format!("object {i}: {k}"));
        let put = ok(&format!("put {k:?}"), store.put_bytes(bucket, &key(k), body.clone()).await);
        assert_eq!(put.key.as_str(), *k, "put answered another key");
        assert_eq!(put.size, body.len() as u64, "put answered the wrong size for {k:?}");
        let got = ok(&format!("get {k:?}"), store.get_bytes(bucket, &key(k)).await);
        assert_eq!(got, body, "content differs for {k:?}");
        let head = ok(&format!("head {k:?}"), store.head(bucket, &key(k)).await);
        assert_eq!(head.size, body.len() as u64, "head size differs for {k:?}");
        assert!(head.etag.is_some(), "no ETag for {k:?}");
    }
    let empty = key("empty/zero-bytes");
    let put = ok("put empty", store.put_bytes(bucket, &empty, Bytes::new()).await);
    assert_eq!(put.size, 0);
    assert_eq!(ok("get empty", store.get_bytes(bucket, &empty).await).len(), 0, "empty object is not empty");
    let listed = ok("list", store.list_all(bucket, ListOptions::default()).await);
    for k in keys.iter().copied().chain(["empty/zero-bytes"]) {
        assert!(listed.iter().any(|m| m.key.as_str() == k), "{k:?} missing from the listing");
    }
    assert_eq!(listed.iter().find(|m| m.key == empty).map(|m| m.size), Some(0), "listing shows the empty object's size wrong");
}

/// A body of many chunks (over 1 MiB) streams in and out unchanged.
pub async fn streaming(store: &dyn ObjectStore, bucket: &BucketName) {
    let chunk: Vec<u8> = (0..=255u8).cycle().take(256 * 1024).collect();
    let chunks: Vec<Bytes> = (0..5).map(|i| Bytes::from(chunk.iter().map(|b| b.wrapping_add(i)).collect::<Vec<_>>())).collect();
    let whole: Vec<u8> = chunks.concat();
    let body = futures::stream::iter(chunks.into_iter().map(Ok)).boxed();
    let k = key("stream/five-chunks.bin");
    let options =
        PutOptions { size_hint: Some(whole.len() as u64), content_type: Some("application/octet-stream".into()), ..PutOptions::default() };
    let put = ok("put stream", store.put(bucket, &k, body, &options).await);
    assert_eq!(put.size, whole.len() as u64);
    let got = ok("get stream", store.get(bucket, &k).await);
    assert_eq!(got.meta.size, whole.len() as u64);
    let parts: Vec<Bytes> = ok("read stream", got.body.try_collect().await);
    assert_eq!(parts.concat(), whole, "streamed content differs");
}

/// Listing: key order, prefix filter, `start_after`, and paging past 1,000 keys.
pub async fn listing(store: &dyn ObjectStore, bucket: &BucketName) {
    const N: usize = 1005;
    let keys: Vec<String> = (0..N).map(|i| format!("page/{i:05}")).collect();
    let results: Vec<_> = futures::stream::iter(keys.iter())
        .map(|k| async move { store.put_bytes(bucket, &key(k), Bytes::from_static(b"p")).await })
        .buffer_unordered(16)
        .collect()
        .await;
    for r in results {
        ok("put page object", r);
    }
    store.put_bytes(bucket, &key("pagf"), Bytes::from_static(b"outside")).await.expect("put pagf");
    let listed = ok("list page/", store.list_all(bucket, ListOptions::prefix("page/")).await);
    let got: Vec<&str> = listed.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(got.len(), N, "listing past 1,000 keys answered {} keys", got.len());
    assert_eq!(got, keys.iter().map(String::as_str).collect::<Vec<_>>(), "listing is not the keys in order, each once");
    let after = ok(
        "list start_after",
        store.list_all(bucket, ListOptions { prefix: Some("page/".into()), start_after: Some("page/01000".into()) }).await,
    );
    let after: Vec<&str> = after.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(after, ["page/01001", "page/01002", "page/01003", "page/01004"], "start_after is not honoured");
    let none = ok("list absent prefix", store.list_all(bucket, ListOptions::prefix("no-such-prefix/")).await);
    assert!(none.is_empty(), "a prefix with no keys listed {none:?}");
    let keys: Vec<ObjectKey> = listed.iter().map(|m| m.key.clone()).chain([key("pagf")]).collect();
    ok("delete_many page/", store.delete_many(bucket, &keys).await);
    assert!(ok("list after delete_many", store.list_all(bucket, ListOptions::prefix("pag")).await).is_empty(), "delete_many left objects");
}

/// Server-side copy within a bucket and across buckets keeps content and size.
pub async fn copy_objects(store: &dyn ObjectStore, bucket: &BucketName, other: &BucketName) {
    ok("ensure copy bucket", store.ensure_bucket(&BucketSpec::new(other.clone())).await);
    let src = key("copy/source with space+plus.txt");
    let body = Bytes::from_static(b"copy me exactly");
    let put = ok("put source", store.put_bytes(bucket, &src, body.clone()).await);
    let same = ok("copy in bucket", store.copy(bucket, &src, bucket, &key("copy/dest.txt")).await);
    assert_eq!(same.size, put.size);
    assert_eq!(ok("get copy", store.get_bytes(bucket, &key("copy/dest.txt")).await), body);
    let across = ok("copy across buckets", store.copy(bucket, &src, other, &key("from-main/ünï.txt")).await);
    assert_eq!(across.size, put.size);
    assert_eq!(across.etag, put.etag, "a single-request copy changed the ETag");
    assert_eq!(ok("get copy across", store.get_bytes(other, &key("from-main/ünï.txt")).await), body);
    expect_err("copy of a missing object", store.copy(bucket, &key("copy/absent"), other, &key("x")).await, Error::is_not_found);
    ok("delete copy bucket", store.delete_bucket(other, Some(Confirm::new(other.as_str()))).await);
}

/// Missing buckets and objects answer NotFound.
pub async fn not_found(store: &dyn ObjectStore, bucket: &BucketName, absent: &BucketName) {
    let k = key("absent/object");
    expect_err("get missing object", store.get(bucket, &k).await, Error::is_not_found);
    expect_err("head missing object", store.head(bucket, &k).await, Error::is_not_found);
    expect_err("describe missing bucket", store.describe_bucket(absent).await, Error::is_not_found);
    expect_err("get in missing bucket", store.get(absent, &k).await, Error::is_not_found);
    expect_err("put in missing bucket", store.put_bytes(absent, &k, Bytes::from_static(b"x")).await, Error::is_not_found);
    let listed: Vec<_> = store.list(absent, ListOptions::default()).collect().await;
    assert!(
        matches!(listed.as_slice(), [Err(e)] if e.is_not_found()),
        "listing a missing bucket should answer one NotFound, got {listed:?}"
    );
}

/// Deleting removes the object from get, head and list; deleting again succeeds.
pub async fn delete_objects(store: &dyn ObjectStore, bucket: &BucketName) {
    let k = key("delete/me.txt");
    ok("put", store.put_bytes(bucket, &k, Bytes::from_static(b"bye")).await);
    ok("delete", store.delete(bucket, &k).await);
    expect_err("get deleted", store.get(bucket, &k).await, Error::is_not_found);
    expect_err("head deleted", store.head(bucket, &k).await, Error::is_not_found);
    let listed = ok("list delete/", store.list_all(bucket, ListOptions::prefix("delete/")).await);
    assert!(listed.is_empty(), "deleted object still listed: {listed:?}");
    ok("delete again", store.delete(bucket, &k).await);
}

/// A bucket holding objects is deleted only with a confirmation naming it.
pub async fn delete_bucket_needs_confirmation(store: &dyn ObjectStore, bucket: &BucketName) {
    ok("put", store.put_bytes(bucket, &key("keep/me"), Bytes::from_static(b"data")).await);
    expect_err("delete bucket without confirmation", store.delete_bucket(bucket, None).await, |e| {
        matches!(e, Error::ConfirmationRequired { .. })
    });
    expect_err("delete bucket with another name's confirmation", store.delete_bucket(bucket, Some(Confirm::new("other"))).await, |e| {
        matches!(e, Error::ConfirmationRequired { .. })
    });
    assert_eq!(
        ok("get after refused delete", store.get_bytes(bucket, &key("keep/me")).await),
        Bytes::from_static(b"data"),
        "a refused delete lost data"
    );
    ok("delete bucket", store.delete_bucket(bucket, Some(Confirm::new(bucket.as_str()))).await);
    expect_err("describe deleted bucket", store.describe_bucket(bucket).await, Error::is_not_found);
}
