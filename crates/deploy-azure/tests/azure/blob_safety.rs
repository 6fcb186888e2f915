//! `BlobStore`'s guards: conditional reads, writes, copies and deletes on
//! Azurite; its key order; versioning as the blobs show it; containers
//! holding only older versions; bounded time.

use std::time::{Duration, Instant};

use bytes::Bytes;
use deploy_azure::blob::BlobStore;
use deploy_core::object_store::{CopyOptions, DeleteOptions, GetOptions, KeyOrder, ListOptions, PutMode, PutOptions, bytes_stream};
use deploy_core::{BucketName, BucketSpec, Confirm, Error, ObjectKey, ObjectStore, ObjectStoreExt, Timeouts};

use crate::support::{self, azurite_store};

fn key(k: &str) -> ObjectKey {
    ObjectKey::new(k).unwrap()
}

fn container(what: &str) -> BucketName {
    BucketName::new(format!("{what}-{}", support::suffix())).unwrap()
}

#[tokio::test]
async fn reads_writes_copies_and_deletes_are_refused_when_the_blob_changed() {
    let Some(store) = azurite_store() else { return };
    let bucket = container("cond");
    store.ensure_bucket(&BucketSpec::new(bucket.clone())).await.unwrap();
    let k = key("c/one");
    let first = store.put_bytes(&bucket, &k, Bytes::from_static(b"first")).await.unwrap();
    let tag = first.entity_tag.clone().expect("an entity tag");
    assert_ne!(Some(&tag), first.etag.as_ref(), "the entity tag is Azure's ETag, not the content MD5");
    store.get_opts(&bucket, &k, &GetOptions { if_match: Some(tag.clone()), version: None }).await.unwrap();
    let second = store.put_bytes(&bucket, &k, Bytes::from_static(b"first")).await.unwrap();
    assert_eq!(second.etag, first.etag, "same bytes, same content fingerprint");
    assert_ne!(second.entity_tag, first.entity_tag, "a rewrite changes the entity tag, even of the same bytes");

    let e = store.get_opts(&bucket, &k, &GetOptions { if_match: Some(tag.clone()), version: None }).await.unwrap_err();
    assert!(e.is_precondition_failed(), "{e:?}");
    let put = |mode: PutMode| PutOptions { mode, ..PutOptions::default() };
    let e = store.put(&bucket, &k, bytes_stream("x"), &put(PutMode::Create)).await.unwrap_err();
    assert!(e.is_precondition_failed(), "{e:?}");
    let e = store.put(&bucket, &k, bytes_stream("x"), &put(PutMode::Update { entity_tag: tag.clone() })).await.unwrap_err();
    assert!(e.is_precondition_failed(), "{e:?}");
    store.put(&bucket, &k, bytes_stream("third"), &put(PutMode::Update { entity_tag: second.entity_tag.clone().unwrap() })).await.unwrap();
    store.put(&bucket, &key("c/new"), bytes_stream("new"), &put(PutMode::Create)).await.unwrap();

    // Copies: the source's condition, and the destination's.
    let stale_source = CopyOptions { source_if_match: Some(tag.clone()), ..CopyOptions::default() };
    let e = store.copy_opts(&bucket, &k, &bucket, &key("c/copy"), &stale_source).await.unwrap_err();
    assert!(matches!(&e, Error::PreconditionFailed { name, .. } if name.ends_with("c/one")), "{e:?}");
    assert!(store.head(&bucket, &key("c/copy")).await.unwrap_err().is_not_found(), "a refused copy wrote");
    let onto_existing = CopyOptions { mode: PutMode::Create, ..CopyOptions::default() };
    let e = store.copy_opts(&bucket, &k, &bucket, &key("c/new"), &onto_existing).await.unwrap_err();
    assert!(e.is_precondition_failed(), "{e:?}");
    assert_eq!(store.get_bytes(&bucket, &key("c/new")).await.unwrap(), Bytes::from_static(b"new"));

    let e = store.delete_opts(&bucket, &k, &DeleteOptions { if_match: Some(tag) }).await.unwrap_err();
    assert!(e.is_precondition_failed(), "{e:?}");
    assert_eq!(store.get_bytes(&bucket, &k).await.unwrap(), Bytes::from_static(b"third"), "a refused delete deleted");
    store.delete_bucket(&bucket, Some(Confirm::new(bucket.as_str()))).await.unwrap();
}

#[tokio::test]
async fn listings_are_in_utf16_order_and_overwrites_keep_no_versions_on_azurite() {
    let Some(store) = azurite_store() else { return };
    assert_eq!(store.key_order(), KeyOrder::Utf16);
    let bucket = container("order");
    store.ensure_bucket(&BucketSpec::new(bucket.clone())).await.unwrap();
    assert!(store.versioning_enabled(&bucket).await.unwrap(), "an empty container reports the account's declared setting");
    let keys = ["a/🦀", "a/\u{FF61}", "a/\u{E000}", "a/plain", "b+%25#/ü"];
    for k in keys {
        store.put_bytes(&bucket, &key(k), Bytes::from(k.as_bytes().to_vec())).await.unwrap();
    }
    let listed: Vec<String> =
        store.list_all(&bucket, ListOptions::default()).await.unwrap().into_iter().map(|m| m.key.to_string()).collect();
    let mut expected: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    expected.sort_by(|a, b| KeyOrder::Utf16.compare(a, b));
    assert_eq!(listed, expected, "Azurite does not list in UTF-16 order");
    let mut utf8 = expected.clone();
    utf8.sort();
    assert_ne!(listed, utf8, "these keys sort the same in both orders: the test proves nothing");
    let after: Vec<String> = store
        .list_all(&bucket, ListOptions { prefix: None, start_after: Some("a/🦀".into()) })
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.key.to_string())
        .collect();
    assert_eq!(after, expected[expected.iter().position(|k| k == "a/🦀").unwrap() + 1..].to_vec());
    // Azurite keeps no blob versions: the blobs show it, whatever the account settings declare.
    assert!(!store.versioning_enabled(&bucket).await.unwrap());
    store.delete_bucket(&bucket, Some(Confirm::new(bucket.as_str()))).await.unwrap();
}

/// A List Blobs answer, in the shape of the REST API's documentation, holding
/// one previous version (no `IsCurrentVersion`) of a blob whose current
/// version was deleted: what a versioned account lists after a delete.
const ONLY_AN_OLD_VERSION: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="http://127.0.0.1/devstoreaccount1/" ContainerName="versions">
  <MaxResults>1</MaxResults>
  <Blobs>
    <Blob>
      <Name>report.pdf</Name>
      <VersionId>2026-11-23T20:21:40.1234567Z</VersionId>
      <Properties>
        <Last-Modified>Mon, 23 Nov 2026 20:21:40 GMT</Last-Modified>
        <Etag>0x8DD0B2C3D4E5F60</Etag>
        <Content-Length>2</Content-Length>
        <Content-Type>application/pdf</Content-Type>
        <BlobType>BlockBlob</BlobType>
      </Properties>
    </Blob>
  </Blobs>
  <NextMarker />
</EnumerationResults>"#;

#[tokio::test]
async fn a_container_holding_only_older_versions_is_not_deleted_without_confirm() {
    use wiremock::matchers::{method, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    // Azurite keeps no versions: a fake answering in the service's documented shapes.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(query_param("restype", "container"))
        .and(query_param("comp", "list"))
        .respond_with(ResponseTemplate::new(200).insert_header("content-type", "application/xml").set_body_string(ONLY_AN_OLD_VERSION))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("restype", "container"))
        .respond_with(ResponseTemplate::new(200).insert_header("x-ms-version", "2025-11-05"))
        .mount(&server)
        .await;
    Mock::given(method("HEAD")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    Mock::given(method("DELETE")).respond_with(ResponseTemplate::new(202)).mount(&server).await;
    let store = BlobStore::builder().endpoint(format!("{}/devstoreaccount1", server.uri())).sas(&support::azurite_sas()).build().unwrap();
    let bucket = BucketName::new("versions").unwrap();
    let listed = store.list_all(&bucket, ListOptions::default()).await.unwrap();
    assert_eq!(listed.len(), 1, "the fake lists its version as a blob: {listed:?}");
    assert!(store.holds_data(&bucket).await.unwrap());
    let e = store.delete_bucket(&bucket, None).await.unwrap_err();
    assert!(matches!(&e, Error::ConfirmationRequired { expected, .. } if expected == "versions"), "{e:?}");
    let requests = server.received_requests().await.unwrap();
    assert!(requests.iter().all(|r| r.method != wiremock::http::Method::DELETE), "the container was deleted without confirmation");
    let list = requests
        .iter()
        .find(|r| r.url.query().is_some_and(|q| q.contains("comp=list") && q.contains("include=")))
        .expect("no listing with include");
    let include = list.url.query_pairs().find(|(k, _)| k == "include").map(|(_, v)| v.into_owned()).unwrap_or_default();
    assert!(
        include.contains("versions") && include.contains("snapshots"),
        "delete_bucket did not ask for versions and snapshots: {include}"
    );
    store.delete_bucket(&bucket, Some(Confirm::new("versions"))).await.unwrap();
}

#[tokio::test]
async fn a_server_that_never_answers_ends_in_a_timeout_within_the_bound() {
    // A port that accepts connections and never answers.
    let port = deploy_core::conformance::peers::silent_port();
    let store = BlobStore::builder()
        .endpoint(format!("http://127.0.0.1:{port}/devstoreaccount1"))
        .sas(&support::azurite_sas())
        .timeouts(Timeouts::default().with_attempt(Duration::from_millis(300)).with_operation(Duration::from_secs(2)))
        .build()
        .unwrap();
    let started = Instant::now();
    let e = store.head(&BucketName::new("silent").unwrap(), &key("some/blob")).await.unwrap_err();
    assert!(matches!(&e, Error::Timeout { what, .. } if what.contains("silent/some/blob")), "{e:?}");
    assert!(!e.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
}

/// Versioning and HTTPS-only are the storage account's, which the data plane
/// cannot read: `describe_bucket` reports what the store was told, so the
/// conformance suite's checks of them cannot fail on Azure. Shown here to be
/// declarations; what overwrites really keep is `versioning_enabled` (above).
#[tokio::test]
async fn account_settings_are_reported_as_declared_not_read() {
    let Some(endpoint) = support::azurite_endpoint() else { return };
    let store = BlobStore::azurite(&endpoint, &support::azurite_sas()).unwrap();
    let bucket = container("declared");
    store.ensure_bucket(&BucketSpec::new(bucket.clone())).await.unwrap();
    let info = store.describe_bucket(&bucket).await.unwrap();
    assert!(info.versioning && info.require_tls, "the secure defaults are declared: {info:?}");
    let declared = BlobStore::builder()
        .endpoint(&endpoint)
        .sas(&support::azurite_sas())
        .account_settings(deploy_azure::blob::AccountSettings {
            versioning: false,
            https_only: false,
            ..deploy_azure::blob::AccountSettings::SECURE
        })
        .build()
        .unwrap();
    let info = declared.describe_bucket(&bucket).await.unwrap();
    assert!(!info.versioning && !info.require_tls, "the same container reports what the other store was told: {info:?}");
    store.delete_bucket(&bucket, None).await.unwrap();
}
