//! Bench: the bucket snapshot recipe on the in-memory store behind a
//! deterministic 5 ms per-request latency, 2,000 objects, at concurrency 1,
//! 8, 32 and 128. Prints objects/s and each speed-up over concurrency 1.
//!
//! ```text
//! cargo bench --bench snapshot
//! ```
//!
//! Set `DEPLOY_BENCH_OBJECTS` and `DEPLOY_BENCH_LATENCY_MS` to change the load.

use std::time::{Duration, Instant};

use bytes::Bytes;
use deploy::memory::InMemoryCloud;
use deploy::recipes::{Location, SnapshotLayout, SnapshotOptions, snapshot_bucket};
use deploy::throttle::{ThrottleConfig, Throttled};
use deploy::{BucketName, BucketSpec, ObjectKey, ObjectStore, ObjectStoreExt};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let objects = env_or("DEPLOY_BENCH_OBJECTS", 2000) as usize;
    let latency = Duration::from_millis(env_or("DEPLOY_BENCH_LATENCY_MS", 5));
    let cloud = InMemoryCloud::new();
    let src = BucketName::new("bench-source").unwrap();
    let dst = BucketName::new("bench-backup").unwrap();
    for b in [&src, &dst] {
        cloud.ensure_bucket(&BucketSpec::new(b.clone())).await.unwrap();
    }
    for i in 0..objects {
        let size = 1024 + (i * 7919) % (15 * 1024);
        cloud.put_bytes(&src, &ObjectKey::new(format!("obj/{i:05}")).unwrap(), Bytes::from(vec![(i % 251) as u8; size])).await.unwrap();
    }
    let store = Throttled::new(cloud, ThrottleConfig::uniform(latency));

    println!("snapshot of {objects} objects (1-16 KiB), {} ms per request, server-side copy", latency.as_millis());
    println!("{:>12} {:>10} {:>12} {:>10}", "concurrency", "seconds", "objects/s", "speed-up");
    let mut baseline = None;
    let mut by_concurrency = Vec::new();
    for concurrency in [1usize, 8, 32, 128] {
        let mut options = SnapshotOptions::new(SnapshotLayout::new(&format!("c{concurrency}")).unwrap());
        options.concurrency = concurrency;
        let start = Instant::now();
        let report = snapshot_bucket(Location::new(&store, &src), Location::new(&store, &dst), &options).await.unwrap();
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(report.objects as usize, objects);
        let rate = objects as f64 / secs;
        let base = *baseline.get_or_insert(rate);
        println!("{concurrency:>12} {secs:>10.3} {rate:>12.0} {:>9.1}x", rate / base);
        by_concurrency.push((concurrency, rate));
    }
    let c32 = by_concurrency.iter().find(|(c, _)| *c == 32).map(|(_, r)| *r).unwrap_or_default();
    let ratio = c32 / baseline.unwrap_or(1.0);
    println!("concurrency 32 vs 1: {ratio:.1}x (goal: at least 20x)");
}
