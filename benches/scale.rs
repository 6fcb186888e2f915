//! Bench: the bucket snapshot and restore recipes at scale, in constant
//! memory. A synthetic in-process store lists N objects without holding them
//! and copies server-side without storing anything, so only the recipe's own
//! memory and CPU count; the manifest it writes goes to files in a temporary
//! directory (and is read back from there by the restore). Each case runs in a
//! fresh child process, which prints its peak RSS (`VmHWM`), its CPU and wall
//! time per object, and the manifest's bytes per object.
//!
//! ```text
//! cargo bench -p deploy --no-default-features --bench scale          # 100k, 1M, 10M objects
//! SCALE_OBJECTS=100000,1000000 cargo bench -p deploy --no-default-features --bench scale
//! scripts/bench-scale                                                 # the same
//! ```
//!
//! Figures only: nothing here asserts a speed or a size.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use deploy::object_store::{
    BucketInfo, BucketSpec, ByteStream, CopyOptions, DeleteOptions, Encryption, GetOptions, GetResult, ListOptions, ObjectMeta, PutOptions,
    bytes_stream,
};
use deploy::recipes::{
    Location, RestoreBucketOptions, SnapshotId, SnapshotLayout, SnapshotOptions, SnapshotSelector, restore_bucket, snapshot_bucket,
};
use deploy::{BucketName, Confirm, Error, ObjectKey, ObjectStore, Plan, Result};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};

const SOURCE: &str = "scale-source";
const BACKUP: &str = "scale-backup";
const TARGET: &str = "scale-target";
const PAGE: u64 = 1000;

fn etag(i: u64) -> String {
    format!("{:032x}", (u128::from(i) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835))
}

fn meta(prefix: &str, i: u64) -> ObjectMeta {
    let tag = etag(i);
    ObjectMeta {
        key: ObjectKey::new(format!("{prefix}data/{i:010}")).expect("a valid key"),
        size: 1000 + i % 1000,
        entity_tag: Some(tag.clone()),
        etag: Some(tag),
        version: None,
        last_modified: None,
    }
}

/// The index of `data/NNNNNNNNNN` after `prefix`.
fn index_of(key: &str, prefix: &str) -> Option<u64> {
    key.strip_prefix(prefix)?.strip_prefix("data/")?.parse().ok()
}

/// N virtual objects in `source`; files for what is written into `backup`;
/// `target` empty until the restore has copied every object into it.
#[derive(Debug)]
struct Synthetic {
    objects: u64,
    dir: PathBuf,
    /// Files written into the backup bucket (the manifest's parts, records and index): a few hundred keys.
    files: Mutex<BTreeMap<String, PathBuf>>,
    restored: AtomicU64,
}

impl Synthetic {
    fn new(objects: u64, dir: &Path) -> Self {
        let files = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let name = e.file_name().into_string().ok()?;
                        Some((hex_decode(&name)?, e.path()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Synthetic { objects, dir: dir.to_owned(), files: Mutex::new(files), restored: AtomicU64::new(0) }
    }

    fn virtual_listing(&self, prefix: &str, options: &ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        let first = options.start_after.as_deref().and_then(|a| index_of(a, prefix)).map_or(0, |i| i + 1);
        let (objects, prefix) = (self.objects, prefix.to_owned());
        futures::stream::iter((first..objects).step_by(PAGE as usize))
            .flat_map(move |start| {
                let page: Vec<Result<ObjectMeta>> = (start..(start + PAGE).min(objects)).map(|i| Ok(meta(&prefix, i))).collect();
                futures::stream::iter(page)
            })
            .boxed()
    }
}

fn hex_decode(name: &str) -> Option<String> {
    String::from_utf8(hex::decode(name).ok()?).ok()
}

fn not_found(what: &str) -> Error {
    Error::not_found("object", what.to_owned())
}

#[async_trait]
impl ObjectStore for Synthetic {
    fn backend(&self) -> &'static str {
        "synthetic"
    }
    async fn reconcile_bucket(&self, _spec: &BucketSpec, _mode: deploy::Mode) -> Result<Plan> {
        Ok(Plan::new())
    }
    async fn describe_bucket(&self, bucket: &BucketName) -> Result<BucketInfo> {
        Ok(BucketInfo {
            name: bucket.clone(),
            versioning: true,
            encryption: Encryption::ProviderManaged,
            block_public_access: true,
            require_tls: true,
            tags: BTreeMap::new(),
        })
    }
    async fn delete_bucket(&self, _bucket: &BucketName, _confirm: Option<Confirm>) -> Result<()> {
        Ok(())
    }
    async fn put(&self, bucket: &BucketName, key: &ObjectKey, body: ByteStream, _options: &PutOptions) -> Result<ObjectMeta> {
        assert_eq!(bucket.as_str(), BACKUP, "only the manifest is written");
        let chunks: Vec<Bytes> = body.try_collect().await?;
        let data = chunks.concat();
        let path = self.dir.join(hex::encode(key.as_str()));
        std::fs::write(&path, &data).expect("write a manifest file");
        self.files.lock().unwrap().insert(key.as_str().to_owned(), path);
        let tag = format!("{:x}", data.len());
        Ok(ObjectMeta {
            key: key.clone(),
            size: data.len() as u64,
            entity_tag: Some(tag.clone()),
            etag: Some(tag),
            version: None,
            last_modified: None,
        })
    }
    async fn get_opts(&self, _bucket: &BucketName, key: &ObjectKey, _options: &GetOptions) -> Result<GetResult> {
        let path = self.files.lock().unwrap().get(key.as_str()).cloned().ok_or_else(|| not_found(key.as_str()))?;
        let data = Bytes::from(std::fs::read(path).expect("read a manifest file"));
        let tag = format!("{:x}", data.len());
        let meta = ObjectMeta {
            key: key.clone(),
            size: data.len() as u64,
            entity_tag: Some(tag.clone()),
            etag: Some(tag),
            version: None,
            last_modified: None,
        };
        Ok(GetResult { meta, body: bytes_stream(data) })
    }
    async fn head(&self, _bucket: &BucketName, key: &ObjectKey) -> Result<ObjectMeta> {
        let path = self.files.lock().unwrap().get(key.as_str()).cloned().ok_or_else(|| not_found(key.as_str()))?;
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        Ok(ObjectMeta {
            key: key.clone(),
            size,
            entity_tag: Some(format!("{size:x}")),
            etag: Some(format!("{size:x}")),
            version: None,
            last_modified: None,
        })
    }
    fn list(&self, bucket: &BucketName, options: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        match bucket.as_str() {
            SOURCE => self.virtual_listing("", &options),
            TARGET if self.restored.load(Ordering::SeqCst) >= self.objects => self.virtual_listing("", &options),
            TARGET => futures::stream::empty().boxed(),
            _ => {
                // The backup bucket: its files (the copies into the snapshot folder are not kept).
                let prefix = options.prefix.unwrap_or_default();
                let files: Vec<Result<ObjectMeta>> = self
                    .files
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|(k, _)| k.starts_with(&prefix) && options.start_after.as_deref().is_none_or(|a| k.as_str() > a))
                    .map(|(k, p)| {
                        let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                        Ok(ObjectMeta {
                            key: ObjectKey::new(k.clone())?,
                            size,
                            entity_tag: None,
                            etag: None,
                            version: None,
                            last_modified: None,
                        })
                    })
                    .collect();
                futures::stream::iter(files).boxed()
            }
        }
    }
    async fn copy_opts(
        &self,
        _from_bucket: &BucketName,
        from: &ObjectKey,
        to_bucket: &BucketName,
        to: &ObjectKey,
        options: &CopyOptions,
    ) -> Result<ObjectMeta> {
        // Nothing is stored: the copy answers what S3 would, the source's ETag for a single-part copy.
        let i = from.as_str().rsplit('/').next().and_then(|n| n.parse::<u64>().ok()).expect("a synthetic key");
        if to_bucket.as_str() == TARGET {
            self.restored.fetch_add(1, Ordering::SeqCst);
        }
        let tag = etag(i);
        Ok(ObjectMeta {
            key: to.clone(),
            size: options.source_size.unwrap_or(1000 + i % 1000),
            entity_tag: Some(tag.clone()),
            etag: Some(tag),
            version: None,
            last_modified: None,
        })
    }
    async fn delete_opts(&self, _bucket: &BucketName, _key: &ObjectKey, _options: &DeleteOptions) -> Result<()> {
        Ok(())
    }
    async fn delete_many(&self, _bucket: &BucketName, _keys: &[ObjectKey]) -> Result<()> {
        Ok(())
    }
}

/// Peak resident set size (`VmHWM`), in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 =
        status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0.0);
    kib / 1024.0
}

/// CPU seconds (user + system) of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// One case, in this (child) process: `snapshot N DIR` or `restore N DIR`.
fn child(op: &str, objects: u64, dir: &Path) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let store = Synthetic::new(objects, dir);
        let (source, backup, target) =
            (BucketName::new(SOURCE).unwrap(), BucketName::new(BACKUP).unwrap(), BucketName::new(TARGET).unwrap());
        let layout = SnapshotLayout::new("snaps").unwrap();
        let id: SnapshotId = "2026-01-01T00-00-00.000Z".parse().unwrap();
        let (cpu, wall) = (cpu_seconds(), Instant::now());
        let manifest_bytes: u64 = match op {
            "snapshot" => {
                let options = SnapshotOptions { id: Some(id.clone()), ..SnapshotOptions::new(layout.clone()) };
                let report = snapshot_bucket(Location::new(&store, &source), Location::new(&store, &backup), &options).await.unwrap();
                assert_eq!(report.objects, objects);
                store.files.lock().unwrap().values().map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)).sum()
            }
            _ => {
                let options = RestoreBucketOptions { other_target: true, ..RestoreBucketOptions::new(layout, SnapshotSelector::Id(id)) };
                let report = restore_bucket(Location::new(&store, &backup), Location::new(&store, &target), &options).await.unwrap();
                assert_eq!((report.restored, report.verified), (objects, objects));
                0
            }
        };
        let (cpu, wall) = (cpu_seconds() - cpu, wall.elapsed().as_secs_f64());
        let n = objects as f64;
        println!(
            "{op} {objects} {wall:.2} {:.2} {:.2} {:.1} {:.0}",
            wall * 1e6 / n,
            cpu * 1e6 / n,
            peak_rss_mib(),
            manifest_bytes as f64 / n
        );
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        child(&args[at + 1], args[at + 2].parse().unwrap(), Path::new(&args[at + 3]));
        return;
    }
    let sizes: Vec<u64> = std::env::var("SCALE_OBJECTS")
        .unwrap_or_else(|_| "100000,1000000,10000000".into())
        .split(',')
        .map(|n| n.trim().parse().expect("SCALE_OBJECTS: numbers separated by commas"))
        .collect();
    println!("snapshot and restore of N synthetic objects (server-side copies that store nothing), 32 copies at once, 2 worker threads");
    println!(
        "{:>9} {:>11} {:>9} {:>12} {:>12} {:>14} {:>16}",
        "op", "objects", "seconds", "µs/object", "CPU µs/obj", "peak RSS MiB", "manifest B/obj"
    );
    let exe = std::env::current_exe().unwrap();
    for objects in sizes {
        let dir = std::env::temp_dir().join(format!("deploy-scale-{}-{objects}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut manifest = String::new();
        for op in ["snapshot", "restore"] {
            let out = std::process::Command::new(&exe).args(["--child", op, &objects.to_string(), dir.to_str().unwrap()]).output().unwrap();
            assert!(out.status.success(), "{op} {objects}: {}", String::from_utf8_lossy(&out.stderr));
            let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            let f: Vec<&str> = line.split_whitespace().collect();
            if op == "snapshot" {
                manifest = f[6].to_owned();
            }
            let bytes = if op == "snapshot" { manifest.clone() } else { "-".into() };
            println!("{:>9} {:>11} {:>9} {:>12} {:>12} {:>14} {:>16}", f[0], f[1], f[2], f[3], f[4], f[5], bytes);
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
