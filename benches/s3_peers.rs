//! Bench helpers against a real S3-compatible server (s3s-fs), driven by
//! `scripts/bench-snapshot`. Not a timed test: it prints figures.
//!
//! ```text
//! cargo bench --features aws --bench s3_peers -- fill --bucket B --count N --min-size BYTES --max-size BYTES [--create B2]...
//! cargo bench --features aws --bench s3_peers -- head-ceiling --bucket B --key K [--requests N] [--concurrency C]...
//! cargo bench --features aws --bench s3_peers -- copy-ceiling --bucket B --to B2 --objects N [--requests N] [--concurrency C]...
//! cargo bench --features aws --bench s3_peers -- snapshot --from B --to B2 [--to-endpoint URL] [--copy-threshold BYTES]
//!     [--copy-part-size BYTES] [--concurrency N]
//! cargo bench --features aws --bench s3_peers -- plan-shards --from B --to B2 --shards N [--layout PREFIX]
//! cargo bench --features aws --bench s3_peers -- finalize --to B2 --id ID [--layout PREFIX]
//! ```
//!
//! The endpoint, region and (dummy) credentials come from the standard AWS
//! environment (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`). `snapshot` with `--to-endpoint` copies between two
//! servers, so the recipe streams the objects through this process.
//!
//! - `fill` writes `count` objects `obj/00000`.. with deterministic sizes
//!   (`min + i*7919 mod (max-min+1)`) and contents, bodies generated chunk by
//!   chunk (a 1 GiB object never sits in memory), after creating the `--create` buckets.
//! - `head-ceiling` sends `requests` HeadObject requests at each concurrency and
//!   prints requests/s: what the server answers at best to a Rust client here.
//! - `copy-ceiling` sends `requests` CopyObject requests at each concurrency,
//!   copying `obj/00000`.. (round robin over `objects` keys, as `fill` wrote
//!   them) of B to new keys `c<concurrency>/<i>` of B2, and prints copies/s:
//!   the most copies the server answers the same client, the bound of any
//!   server-side backup on it.
//! - `snapshot` runs `snapshot_bucket` and prints its report, objects/s and the
//!   process's peak RSS (`VmHWM`).
//! - `plan-shards` and `finalize` are the two steps a sharded backup runs in
//!   the caller's process around its shards (what `aws_disaster_recovery backup
//!   --in-cluster` does around the Kubernetes Job), without Kubernetes:
//!   `plan-shards` plans a new snapshot of B into B2 in N key ranges
//!   (`plan_shards`, a listing pass) and prints `PLANNED <id>`; each shard is
//!   then `aws_disaster_recovery backup-shard` with `JOB_COMPLETION_INDEX`,
//!   `DEPLOY_SHARD_COUNT` and `DEPLOY_SNAPSHOT_ID` set, as in a pod of the Job;
//!   `finalize` writes the index (`finalize_snapshot`) and prints
//!   `FINALIZED objects=N bytes=N shards=N`. `--layout` is the snapshot
//!   layout's prefix: default none, the bucket's root, as the DR example.
//!
//! `--threads N` runs any of them on N tokio worker threads (0: the current-thread runtime).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use deploy::aws::s3::{S3Options, S3Store};
use deploy::object_store::PutOptions;
use deploy::recipes::{Boundaries, Location, SnapshotId, SnapshotLayout, SnapshotOptions, finalize_snapshot, plan_shards, snapshot_bucket};
use deploy::{BucketName, ObjectKey, ObjectStore};
use futures::StreamExt;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct Args(Vec<String>);

impl Args {
    fn value(&self, name: &str) -> Option<&str> {
        let flag = format!("--{name}");
        self.0.iter().position(|a| *a == flag).and_then(|i| self.0.get(i + 1)).map(String::as_str)
    }
    fn values(&self, name: &str) -> Vec<&str> {
        let flag = format!("--{name}");
        self.0.windows(2).filter(|w| w[0] == flag).map(|w| w[1].as_str()).collect()
    }
    fn required(&self, name: &str) -> Res<&str> {
        self.value(name).ok_or_else(|| format!("--{name} is required").into())
    }
    fn number(&self, name: &str, default: u64) -> Res<u64> {
        match self.value(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|e| format!("--{name} {v}: {e}").into()),
        }
    }
}

async fn store_at(endpoint: Option<&str>) -> S3Store {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    S3Store::new(&deploy::aws::AwsContext::new(&loader.load().await))
}

/// The process's peak resident set (`VmHWM`), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Deterministic content of object `i`: `size` bytes, in chunks of at most 1 MiB.
fn body(i: u64, size: u64) -> deploy::ByteStream {
    const CHUNK: u64 = 1 << 20;
    let pattern: Vec<u8> = (0..CHUNK).map(|j| ((i.wrapping_mul(31).wrapping_add(j)) % 251) as u8).collect();
    let pattern = Bytes::from(pattern);
    futures::stream::iter((0..size.div_ceil(CHUNK)).map(move |c| Ok(pattern.slice(0..((size - c * CHUNK).min(CHUNK)) as usize)))).boxed()
}

async fn fill(args: &Args) -> Res<()> {
    let store = store_at(None).await;
    for b in args.values("create") {
        match store.client().create_bucket().bucket(b).send().await {
            Ok(_) => {}
            Err(e) if format!("{e:?}").contains("BucketAlreadyOwnedByYou") => {}
            Err(e) => return Err(format!("create bucket {b}: {e:?}").into()),
        }
    }
    let bucket = BucketName::new(args.required("bucket")?)?;
    let count = args.number("count", 2000)?;
    let (min, max) = (args.number("min-size", 1024)?, args.number("max-size", 16 * 1024)?);
    let concurrency = args.number("concurrency", 32)? as usize;
    let started = Instant::now();
    let bytes = AtomicU64::new(0);
    let results: Vec<Res<()>> = futures::stream::iter(0..count)
        .map(|i| {
            let (store, bucket, bytes) = (&store, &bucket, &bytes);
            async move {
                let size = min + (i * 7919) % (max - min + 1);
                let key = ObjectKey::new(format!("obj/{i:05}"))?;
                let options = PutOptions { size_hint: Some(size), ..PutOptions::default() };
                let meta = store.put(bucket, &key, body(i, size), &options).await?;
                if meta.size != size {
                    return Err(format!("{key}: wrote {} bytes, meant {size}", meta.size).into());
                }
                bytes.fetch_add(size, Ordering::Relaxed);
                Ok(())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    results.into_iter().collect::<Res<Vec<()>>>()?;
    println!("filled {bucket}: {count} objects, {} bytes in {:.2}s", bytes.into_inner(), started.elapsed().as_secs_f64());
    Ok(())
}

async fn head_ceiling(args: &Args) -> Res<()> {
    let store = Arc::new(store_at(None).await);
    let bucket: Arc<str> = args.required("bucket")?.into();
    let key: Arc<str> = args.required("key")?.into();
    let requests = args.number("requests", 20_000)?;
    // Warm the connection pool.
    store.client().head_object().bucket(&*bucket).key(&*key).send().await?;
    let best = ceiling("head", requests, &concurrencies(args)?, |_, _| {
        let (store, bucket, key) = (store.clone(), bucket.clone(), key.clone());
        async move { store.client().head_object().bucket(&*bucket).key(&*key).send().await.map(drop).map_err(|e| format!("{e:?}").into()) }
    })
    .await?;
    println!("HEAD_CEILING {best:.0}");
    Ok(())
}

/// Requests/s of `send` (one request `i`) at each concurrency, spawned so that
/// every core of the runtime sends and parses; prints one line per concurrency
/// and answers the best rate.
async fn ceiling<F, Fut>(what: &str, requests: u64, concurrencies: &[usize], send: F) -> Res<f64>
where
    F: Fn(usize, u64) -> Fut,
    Fut: std::future::Future<Output = Res<()>> + Send + 'static,
{
    let mut best = 0f64;
    for &concurrency in concurrencies {
        let started = Instant::now();
        let results: Vec<Res<()>> = futures::stream::iter(0..requests)
            .map(|i| {
                let request = send(concurrency, i);
                async move { tokio::spawn(request).await.map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)? }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        results.into_iter().collect::<Res<Vec<()>>>()?;
        let secs = started.elapsed().as_secs_f64();
        let rate = requests as f64 / secs;
        best = best.max(rate);
        println!("{what}-ceiling concurrency {concurrency}: {requests} requests in {secs:.3}s = {rate:.0} requests/s");
    }
    Ok(best)
}

fn concurrencies(args: &Args) -> Res<Vec<usize>> {
    match args.values("concurrency") {
        v if v.is_empty() => Ok(vec![16, 64, 256]),
        v => Ok(v.iter().map(|c| c.parse()).collect::<Result<_, _>>()?),
    }
}

async fn copy_ceiling(args: &Args) -> Res<()> {
    let store = Arc::new(store_at(None).await);
    let bucket: Arc<str> = args.required("bucket")?.into();
    let to: Arc<str> = args.required("to")?.into();
    let objects = args.number("objects", 2000)?.max(1);
    let requests = args.number("requests", 10_000)?;
    // Warm the connection pool (and check the source is there).
    store.client().head_object().bucket(&*bucket).key("obj/00000").send().await?;
    let best = ceiling("copy", requests, &concurrencies(args)?, |concurrency, i| {
        let (store, bucket, to) = (store.clone(), bucket.clone(), to.clone());
        async move {
            store
                .client()
                .copy_object()
                .copy_source(format!("{bucket}/obj/{:05}", i % objects))
                .bucket(&*to)
                .key(format!("c{concurrency}/{i}"))
                .send()
                .await
                .map(drop)
                .map_err(|e| format!("{e:?}").into())
        }
    })
    .await?;
    println!("COPY_CEILING {best:.0}");
    Ok(())
}

/// The layout of `plan-shards` and `finalize`: `--layout`, default the bucket's root (as the DR example).
fn shard_layout(args: &Args) -> Res<SnapshotLayout> {
    Ok(SnapshotLayout::new(args.value("layout").unwrap_or(""))?)
}

async fn plan(args: &Args) -> Res<()> {
    let store = store_at(None).await;
    let from = BucketName::new(args.required("from")?)?;
    let to = BucketName::new(args.required("to")?)?;
    let shards = args.number("shards", 1)? as usize;
    let mut options = SnapshotOptions::new(shard_layout(args)?);
    let id = SnapshotId::now();
    options.id = Some(id.clone());
    let plan = plan_shards(Location::new(&store, &from), Location::new(&store, &to), &options, shards, Boundaries::Listed).await?;
    for (i, range) in plan.ranges.iter().enumerate() {
        println!("shard {i} of {}: {range}", plan.count);
    }
    println!("PLANNED {id}");
    Ok(())
}

async fn finalize(args: &Args) -> Res<()> {
    let store = store_at(None).await;
    let to = BucketName::new(args.required("to")?)?;
    let id: SnapshotId = args.required("id")?.parse()?;
    let index = finalize_snapshot(Location::new(&store, &to), &shard_layout(args)?, &id).await?;
    println!("FINALIZED objects={} bytes={} shards={}", index.objects, index.total_bytes, index.shards);
    Ok(())
}

async fn snapshot(args: &Args) -> Res<()> {
    let mut options = S3Options::default();
    if let Some(v) = args.value("copy-threshold") {
        options.copy_threshold = v.parse()?;
    }
    if let Some(v) = args.value("copy-part-size") {
        options.copy_part_size = v.parse()?;
    }
    let from_store = store_at(None).await.with_options(options.clone())?;
    let to_store = match args.value("to-endpoint") {
        Some(url) => Some(store_at(Some(url)).await.with_options(options)?),
        None => None,
    };
    let from = BucketName::new(args.required("from")?)?;
    let to = BucketName::new(args.required("to")?)?;
    let mut snapshot = SnapshotOptions::new(SnapshotLayout::new(args.value("layout").unwrap_or("snap"))?);
    snapshot.concurrency = args.number("concurrency", snapshot.concurrency as u64)? as usize;
    let started = Instant::now();
    let destination: &dyn ObjectStore = to_store.as_ref().map_or(&from_store as &dyn ObjectStore, |s| s as &dyn ObjectStore);
    let report = snapshot_bucket(Location::new(&from_store, &from), Location::new(destination, &to), &snapshot).await?;
    let secs = started.elapsed().as_secs_f64();
    println!("{report}");
    println!(
        "SNAPSHOT objects={} bytes={} server_side={} seconds={secs:.3} objects_per_s={:.0} peak_rss_kib={}",
        report.objects,
        report.bytes,
        report.server_side,
        report.objects as f64 / secs,
        peak_rss_kib().unwrap_or(0)
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    let all: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let Some((command, rest)) = all.split_first() else {
        eprintln!("usage: s3_peers fill|head-ceiling|copy-ceiling|snapshot|plan-shards|finalize ... [--threads N (0: one thread)]");
        return std::process::ExitCode::FAILURE;
    };
    let args = Args(rest.to_vec());
    // --threads 0: tokio's current-thread runtime; else a multi-thread one (default: one worker per core).
    let runtime = match args.number("threads", u64::MAX) {
        Ok(0) => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        Ok(u64::MAX) => tokio::runtime::Builder::new_multi_thread().enable_all().build(),
        Ok(n) => tokio::runtime::Builder::new_multi_thread().worker_threads(n as usize).enable_all().build(),
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let runtime = runtime.expect("a tokio runtime");
    let outcome = runtime.block_on(async {
        match command.as_str() {
            "fill" => fill(&args).await,
            "head-ceiling" => head_ceiling(&args).await,
            "copy-ceiling" => copy_ceiling(&args).await,
            "snapshot" => snapshot(&args).await,
            "plan-shards" => plan(&args).await,
            "finalize" => finalize(&args).await,
            other => Err(format!("unknown command {other}").into()),
        }
    });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
