//! S3Store's guards against moto: conditional reads, writes, copies and
//! deletes; multipart copies pinned to one version; the lifecycle rule that
//! aborts incomplete uploads; uploads aborted when dropped; bounded time.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use bytes::Bytes;
use deploy_aws::s3::{S3Options, S3Store};
use deploy_aws::{AwsBackends, RequestLog};
use deploy_core::object_store::{CopyOptions, DeleteOptions, GetOptions, PutMode, PutOptions};
use deploy_core::plan::Action;
use deploy_core::recipes::{Location, SnapshotLayout, SnapshotOptions, snapshot_bucket};
use deploy_core::{BucketName, BucketSpec, Confirm, Error, ObjectKey, ObjectStore, ObjectStoreExt, Timeouts};
use futures::StreamExt;

use crate::support::{MotoS3, moto, names};

const MIB: usize = 1024 * 1024;

fn key(k: &str) -> ObjectKey {
    ObjectKey::new(k).unwrap()
}

fn small_parts() -> S3Options {
    S3Options { part_size: 5 * MIB as u64, copy_threshold: MIB as u64, copy_part_size: 5 * MIB as u64, copy_concurrency: 1 }
}

type Hook = Arc<dyn Fn(&str, &[(String, String)]) + Send + Sync>;

/// A request seen: its operation, headers and URI.
type Seen = (String, Vec<(String, String)>, String);

/// Records each request's operation and headers, and runs a hook before it is sent.
#[derive(Clone)]
struct Wire {
    seen: Arc<Mutex<Vec<Seen>>>,
    hook: Option<Hook>,
}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Wire")
    }
}

impl Wire {
    fn new(hook: Option<Hook>) -> Self {
        Wire { seen: Arc::default(), hook }
    }

    /// The headers of every request of `operation`, with its URI.
    fn of(&self, operation: &str) -> Vec<(Vec<(String, String)>, String)> {
        self.seen.lock().unwrap().iter().filter(|(op, _, _)| op == operation).map(|(_, h, u)| (h.clone(), u.clone())).collect()
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

impl Intercept for Wire {
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map(|m| m.name().to_owned()).unwrap_or_default();
        let request = context.request();
        let headers: Vec<(String, String)> = request.headers().iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        if let Some(hook) = &self.hook {
            hook(&operation, &headers);
        }
        self.seen.lock().unwrap().push((operation, headers, request.uri().to_owned()));
        Ok(())
    }

    fn name(&self) -> &'static str {
        "test wire"
    }
}

/// A store on moto with `wire` installed.
async fn wired(conf: &aws_types::SdkConfig, wire: &Wire, options: S3Options) -> MotoS3 {
    MotoS3(AwsBackends::from_conf(conf).with_interceptor(SharedInterceptor::new(wire.clone())).s3().with_options(options).unwrap())
}

#[tokio::test]
async fn reads_writes_and_deletes_are_refused_when_the_object_changed() {
    let conf = moto!("s3_safety::reads_writes_and_deletes_are_refused_when_the_object_changed");
    let store = MotoS3(S3Store::new(&deploy_aws::AwsContext::new(&conf)));
    let bucket = names().bucket("conditions");
    store.ensure_bucket(&BucketSpec::new(bucket.clone())).await.unwrap();
    let k = key("c/one");
    let first = store.put_bytes(&bucket, &k, Bytes::from_static(b"first")).await.unwrap();
    let tag = first.entity_tag.clone().unwrap();
    let got = store.get_opts(&bucket, &k, &GetOptions { if_match: Some(tag.clone()), version: None }).await.unwrap();
    assert_eq!(got.meta.entity_tag.as_deref(), Some(tag.as_str()));
    let second = store.put_bytes(&bucket, &k, Bytes::from_static(b"second")).await.unwrap();

    let stale = store.get_opts(&bucket, &k, &GetOptions { if_match: Some(tag.clone()), version: None }).await.unwrap_err();
    assert!(stale.is_precondition_failed(), "{stale:?}");
    // The version read is the old content.
    let old = store.get_opts(&bucket, &k, &GetOptions { if_match: None, version: first.version.clone() }).await.unwrap();
    assert_eq!(old.body.next_chunk_all().await, b"first");

    let put = |mode: PutMode| PutOptions { mode, ..PutOptions::default() };
    let create = store.put(&bucket, &k, deploy_core::object_store::bytes_stream("third"), &put(PutMode::Create)).await.unwrap_err();
    assert!(create.is_precondition_failed(), "{create:?}");
    let update =
        store.put(&bucket, &k, deploy_core::object_store::bytes_stream("third"), &put(PutMode::Update { entity_tag: tag.clone() })).await;
    assert!(update.unwrap_err().is_precondition_failed());
    assert_eq!(store.get_bytes(&bucket, &k).await.unwrap(), Bytes::from_static(b"second"), "a refused write changed the object");
    let current = second.entity_tag.clone().unwrap();
    store.put(&bucket, &k, deploy_core::object_store::bytes_stream("third"), &put(PutMode::Update { entity_tag: current })).await.unwrap();
    store.put(&bucket, &key("c/new"), deploy_core::object_store::bytes_stream("new"), &put(PutMode::Create)).await.unwrap();

    let delete = store.delete_opts(&bucket, &k, &DeleteOptions { if_match: Some(tag) }).await.unwrap_err();
    assert!(delete.is_precondition_failed(), "{delete:?}");
    assert!(store.head(&bucket, &k).await.is_ok(), "a refused delete deleted");
    store.delete_bucket(&bucket, Some(Confirm::new(bucket.as_str()))).await.unwrap();
}

/// Read a whole body in a test.
trait ReadAll {
    async fn next_chunk_all(self) -> Vec<u8>;
}

impl ReadAll for deploy_core::ByteStream {
    async fn next_chunk_all(mut self) -> Vec<u8> {
        let mut all = Vec::new();
        while let Some(chunk) = self.next().await {
            all.extend_from_slice(&chunk.unwrap());
        }
        all
    }
}

#[tokio::test]
async fn copies_carry_the_source_condition_and_a_multipart_copy_is_of_one_version() {
    let conf = moto!("s3_safety::copies_carry_the_source_condition_and_a_multipart_copy_is_of_one_version");
    let bucket = names().bucket("pinned");
    let plain = MotoS3(S3Store::new(&deploy_aws::AwsContext::new(&conf)));
    plain.ensure_bucket(&BucketSpec::new(bucket.clone())).await.unwrap();
    let original: Vec<u8> = (0..11 * MIB).map(|i| (i % 251) as u8).collect();
    let source = plain.put_bytes(&bucket, &key("big/src"), Bytes::from(original.clone())).await.unwrap();
    plain.put_bytes(&bucket, &key("small/src"), Bytes::from_static(b"small")).await.unwrap();

    // While the second part is being copied, someone rewrites the source.
    let raw = plain.0.client().clone();
    let target = bucket.clone();
    let rewritten = Arc::new(Mutex::new(false));
    let flag = rewritten.clone();
    let hook: Hook = Arc::new(move |operation, headers| {
        let second_part =
            operation == "UploadPartCopy" && header(headers, "x-amz-copy-source-range").is_some_and(|r| !r.starts_with("bytes=0-"));
        if second_part && !std::mem::replace(&mut *flag.lock().unwrap(), true) {
            let (raw, target) = (raw.clone(), target.clone());
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(async {
                    raw.put_object().bucket(target.as_str()).key("big/src").body(vec![9u8; 11 * MIB].into()).send().await.unwrap();
                });
            })
            .join()
            .unwrap();
        }
    });
    let wire = Wire::new(Some(hook));
    let store = wired(&conf, &wire, small_parts()).await;
    let listed = store.list_all(&bucket, deploy_core::object_store::ListOptions::prefix("big/")).await.unwrap().remove(0);
    let copied = store.copy_listed(&bucket, &listed, &bucket, &key("copy/big")).await.unwrap();
    assert!(*rewritten.lock().unwrap(), "the source was not rewritten during the copy");
    assert_eq!(copied.size, original.len() as u64);
    assert!(plain.get_bytes(&bucket, &key("copy/big")).await.unwrap() == original, "the multipart copy mixes two versions of its source");
    let parts = wire.of("UploadPartCopy");
    assert_eq!(parts.len(), 3);
    for (headers, _) in &parts {
        let source = header(headers, "x-amz-copy-source").unwrap();
        assert!(source.contains("?versionId="), "a part is not pinned to the version: {source}");
        let listed_tag = format!("\"{}\"", listed.entity_tag.clone().unwrap());
        assert_eq!(header(headers, "x-amz-copy-source-if-match"), Some(listed_tag.as_str()), "a part carries no source condition");
    }

    // A copy on a stale entity tag is refused before any upload is started.
    let stale = CopyOptions { source_if_match: source.entity_tag.clone(), ..CopyOptions::default() };
    let e = store.copy_opts(&bucket, &key("big/src"), &bucket, &key("copy/stale"), &stale).await.unwrap_err();
    assert!(e.is_precondition_failed(), "{e:?}");
    let uploads = plain.0.client().list_multipart_uploads().bucket(bucket.as_str()).send().await.unwrap();
    assert!(uploads.uploads().is_empty(), "a refused copy left an upload");

    // A single CopyObject carries the listed entity tag as x-amz-copy-source-if-match.
    let small = store.list_all(&bucket, deploy_core::object_store::ListOptions::prefix("small/")).await.unwrap().remove(0);
    store.copy_listed(&bucket, &small, &bucket, &key("copy/small")).await.unwrap();
    let (headers, _) = wire.of("CopyObject").pop().unwrap();
    assert_eq!(header(&headers, "x-amz-copy-source-if-match"), Some(format!("\"{}\"", small.entity_tag.clone().unwrap()).as_str()));
    plain.delete_bucket(&bucket, Some(Confirm::new(bucket.as_str()))).await.unwrap();
}

#[tokio::test]
async fn every_ensured_bucket_aborts_incomplete_uploads_after_a_day() {
    let conf = moto!("s3_safety::every_ensured_bucket_aborts_incomplete_uploads_after_a_day");
    let log = RequestLog::new();
    let store = AwsBackends::from_conf(&conf).with_request_log(&log).s3();
    let bucket = names().bucket("lifecycle");
    store.ensure_bucket(&BucketSpec::new(bucket.clone())).await.unwrap();
    let raw = store.client();
    let rules = raw.get_bucket_lifecycle_configuration().bucket(bucket.as_str()).send().await.unwrap();
    let rule = rules.rules().iter().find(|r| r.abort_incomplete_multipart_upload().is_some()).expect("no abort rule");
    assert_eq!(rule.abort_incomplete_multipart_upload().unwrap().days_after_initiation(), Some(1));
    assert!(store.plan_bucket(&BucketSpec::new(bucket.clone())).await.unwrap().is_empty());
    log.clear();
    assert!(store.ensure_bucket(&BucketSpec::new(bucket.clone())).await.unwrap().is_empty());
    assert!(log.mutating().is_empty(), "{:?}", log.mutating());

    // Someone replaces the configuration with a rule of their own: the plan shows it, ensure adds ours back and keeps theirs.
    let theirs = aws_sdk_s3::types::LifecycleRule::builder()
        .id("theirs")
        .status(aws_sdk_s3::types::ExpirationStatus::Enabled)
        .filter(aws_sdk_s3::types::LifecycleRuleFilter::builder().prefix("tmp/").build())
        .expiration(aws_sdk_s3::types::LifecycleExpiration::builder().days(7).build())
        .build()
        .unwrap();
    let config = aws_sdk_s3::types::BucketLifecycleConfiguration::builder().rules(theirs).build().unwrap();
    raw.put_bucket_lifecycle_configuration().bucket(bucket.as_str()).lifecycle_configuration(config).send().await.unwrap();
    let plan = store.plan_bucket(&BucketSpec::new(bucket.clone())).await.unwrap();
    assert!(
        plan.changes
            .iter()
            .any(|c| matches!(&c.action, Action::Update { fields } if fields.iter().any(|f| f.field == "abort_incomplete_uploads"))),
        "{plan}"
    );
    log.clear();
    store.ensure_bucket(&BucketSpec::new(bucket.clone())).await.unwrap();
    assert_eq!(log.mutating().iter().map(|r| r.operation.as_str()).collect::<Vec<_>>(), ["PutBucketLifecycleConfiguration"]);
    let rules = raw.get_bucket_lifecycle_configuration().bucket(bucket.as_str()).send().await.unwrap();
    let ids: Vec<&str> = rules.rules().iter().filter_map(|r| r.id()).collect();
    assert!(ids.contains(&"theirs") && ids.contains(&deploy_aws::s3::ABORT_INCOMPLETE_UPLOADS_RULE), "{ids:?}");
    store.delete_bucket(&bucket, None).await.unwrap();
}

/// Wait until `bucket` has no incomplete multipart upload, up to 10 s.
async fn no_upload_left(store: &S3Store, bucket: &BucketName) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let uploads = store.client().list_multipart_uploads().bucket(bucket.as_str()).send().await.unwrap();
        if uploads.uploads().is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "incomplete uploads remain: {:?}", uploads.uploads());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_dropped_upload_is_aborted() {
    let conf = moto!("s3_safety::a_dropped_upload_is_aborted");
    let log = RequestLog::new();
    let store = MotoS3::with_options(&conf, &log, small_parts());
    let bucket = names().bucket("dropped");
    store.ensure_bucket(&BucketSpec::new(bucket.clone())).await.unwrap();
    // Two parts' worth, then the body never ends.
    let body = futures::stream::iter([Ok(Bytes::from(vec![1u8; 5 * MIB])), Ok(Bytes::from(vec![2u8; 5 * MIB]))])
        .chain(futures::stream::pending())
        .boxed();
    let (k, options) = (key("never/ends"), PutOptions::default());
    let put = store.put(&bucket, &k, body, &options);
    let watch = async {
        while log.count("UploadPart") < 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::select! {
        r = put => panic!("the upload ended: {r:?}"),
        () = watch => {}
    }
    let started = store.0.client().list_multipart_uploads().bucket(bucket.as_str()).send().await.unwrap();
    assert!(
        log.count("CreateMultipartUpload") == 1 && !started.uploads().is_empty() || log.count("AbortMultipartUpload") == 1,
        "no upload was started"
    );
    no_upload_left(&store.0, &bucket).await;
    assert_eq!(log.count("AbortMultipartUpload"), 1);
    store.delete_bucket(&bucket, None).await.unwrap();
}

#[tokio::test]
async fn a_snapshot_cancelled_during_multipart_copies_leaves_no_upload() {
    let conf = moto!("s3_safety::a_snapshot_cancelled_during_multipart_copies_leaves_no_upload");
    let log = RequestLog::new();
    let store = MotoS3::with_options(&conf, &log, small_parts());
    let n = names();
    let [src, backup] = ["cancel-src", "cancel-bak"].map(|b| n.bucket(b));
    for b in [&src, &backup] {
        store.ensure_bucket(&BucketSpec::new(b.clone())).await.unwrap();
    }
    for i in 0..4 {
        store.put_bytes(&src, &key(&format!("big/{i}")), Bytes::from(vec![i as u8; 11 * MIB])).await.unwrap();
    }
    log.clear();
    let mut options = SnapshotOptions::new(SnapshotLayout::new("snap").unwrap());
    options.concurrency = 4;
    let snapshot = snapshot_bucket(Location::new(&store, &src), Location::new(&store, &backup), &options);
    let watch = async {
        while log.count("UploadPartCopy") < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::select! {
        r = snapshot => panic!("the snapshot ended before it was cancelled: {r:?}"),
        () = watch => {}
    }
    assert!(log.count("CreateMultipartUpload") >= 1);
    no_upload_left(&store.0, &backup).await;
    assert!(log.count("AbortMultipartUpload") >= 1, "{:?}", log.requests());
    for b in [&src, &backup] {
        store.delete_bucket(b, Some(Confirm::new(b.as_str()))).await.unwrap();
    }
}

#[tokio::test]
async fn a_server_that_never_answers_ends_in_a_timeout_within_the_bound() {
    // A port that accepts connections and never answers.
    let port = deploy_core::conformance::peers::silent_port();
    let conf = crate::support::sdk_config(&format!("http://127.0.0.1:{port}")).await;
    let timeouts = Timeouts::default().with_attempt(Duration::from_millis(300)).with_operation(Duration::from_secs(1));
    let store = AwsBackends::from_conf(&conf).with_timeouts(timeouts).s3();
    let started = Instant::now();
    let e = store.head(&BucketName::new("never-answers").unwrap(), &key("some/object")).await.unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(&e, Error::Timeout { what, .. } if what.contains("HeadObject") && what.contains("never-answers/some/object")),
        "{e:?}"
    );
    assert!(!e.is_retryable());
    assert!(took < Duration::from_secs(3), "took {took:?} with an operation timeout of 1 s");
    // Without a caller's limits, the defaults bound every client.
    let defaults = deploy_aws::bounded_timeouts(None);
    assert_eq!(defaults.operation_timeout(), Some(Timeouts::default().operation));
    assert_eq!(defaults.operation_attempt_timeout(), Some(Timeouts::default().attempt));
    let caller = aws_smithy_types::timeout::TimeoutConfig::builder().connect_timeout(Duration::from_secs(3)).build();
    let merged = deploy_aws::bounded_timeouts(Some(&caller));
    assert_eq!((merged.connect_timeout(), merged.operation_timeout()), (Some(Duration::from_secs(3)), Some(Timeouts::default().operation)));
}
