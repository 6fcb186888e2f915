//! [`Throttled`]: a decorator that adds a fixed latency to every request of
//! any [`ObjectStore`], deterministically — for benchmarks of the recipes
//! (how concurrency hides per-request latency) and for tests of timeouts.

use std::time::Duration;

use async_trait::async_trait;
use futures::stream::{BoxStream, StreamExt};

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::error::{Confirm, Error, Result};
use crate::object_store::{
    BucketInfo, BucketSpec, ByteStream, CopyOptions, DeleteOptions, GetOptions, GetResult, KeyOrder, ListOptions, ObjectMeta, ObjectStore,
    PutOptions,
};
use crate::plan::Plan;
use crate::reconcile::Mode;
use crate::validate::{BucketName, ObjectKey};

/// Latencies added by [`Throttled`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Added before every request (put, get, head, copy, delete, bucket calls).
    pub per_request: Duration,
    /// Added before every page of a listing.
    pub per_list_page: Duration,
    /// Objects per listing page (default 1,000 when zero).
    pub list_page_size: usize,
    /// Answer [`crate::Error::Throttled`] (as S3 answers `503 SlowDown`) to a
    /// request arriving while this many are already in flight.
    pub max_in_flight: Option<usize>,
}

impl ThrottleConfig {
    /// The same latency for every request and listing page.
    pub fn uniform(latency: Duration) -> Self {
        ThrottleConfig { per_request: latency, per_list_page: latency, list_page_size: 1000, max_in_flight: None }
    }
}

/// Wraps a store, adding [`ThrottleConfig`]'s latencies to every call.
#[derive(Debug)]
pub struct Throttled<T> {
    inner: T,
    config: ThrottleConfig,
    in_flight: AtomicUsize,
    refused: AtomicU64,
}

/// One request in flight.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<T: ObjectStore> Throttled<T> {
    /// Wrap `inner`.
    pub fn new(inner: T, config: ThrottleConfig) -> Self {
        Throttled { inner, config, in_flight: AtomicUsize::new(0), refused: AtomicU64::new(0) }
    }

    /// How many requests were answered with [`crate::Error::Throttled`].
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::SeqCst)
    }

    /// The wrapped store.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// Wait the request's latency, refusing it when too many are in flight.
    async fn delay(&self) -> Result<InFlight<'_>> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let guard = InFlight(&self.in_flight);
        if !self.config.per_request.is_zero() {
            tokio::time::sleep(self.config.per_request).await;
        }
        if self.config.max_in_flight.is_some_and(|max| now > max) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(Error::Throttled { provider: "throttle", message: format!("SlowDown: {now} requests in flight"), source: None });
        }
        Ok(guard)
    }
}

/// `impl ObjectStore for Throttled<T>`: the methods written out in braces, and
/// each listed one waiting for [`Throttled::delay`], then calling the inner store's.
macro_rules! throttled {
    (
        $(#[$attr:meta])*
        impl ObjectStore for Throttled { $($own:tt)* }
        $(async fn $f:ident(&$self:ident $(, $a:ident: $t:ty)*) -> $r:ty;)*
    ) => {
        $(#[$attr])*
        impl<T: ObjectStore> ObjectStore for Throttled<T> {
            $($own)*

            $(async fn $f(&$self $(, $a: $t)*) -> $r {
                let _in_flight = $self.delay().await?;
                $self.inner.$f($($a),*).await
            })*
        }
    };
}

throttled! {
    #[deny(clippy::missing_trait_methods)]
    #[async_trait]
    impl ObjectStore for Throttled {
        fn backend(&self) -> &'static str {
            self.inner.backend()
        }

        fn list(&self, bucket: &BucketName, options: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
            let page = if self.config.list_page_size == 0 { 1000 } else { self.config.list_page_size };
            let latency = self.config.per_list_page;
            self.inner
                .list(bucket, options)
                .enumerate()
                .then(move |(i, item)| async move {
                    if i % page == 0 && !latency.is_zero() {
                        tokio::time::sleep(latency).await;
                    }
                    item
                })
                .boxed()
        }

        fn key_order(&self) -> KeyOrder {
            self.inner.key_order()
        }
    }

    async fn reconcile_bucket(&self, spec: &BucketSpec, mode: Mode) -> Result<Plan>;
    async fn plan_bucket(&self, spec: &BucketSpec) -> Result<Plan>;
    async fn ensure_bucket(&self, spec: &BucketSpec) -> Result<Plan>;
    async fn describe_bucket(&self, bucket: &BucketName) -> Result<BucketInfo>;
    async fn delete_bucket(&self, bucket: &BucketName, confirm: Option<Confirm>) -> Result<()>;
    async fn put(&self, bucket: &BucketName, key: &ObjectKey, body: ByteStream, options: &PutOptions) -> Result<ObjectMeta>;
    async fn get_opts(&self, bucket: &BucketName, key: &ObjectKey, options: &GetOptions) -> Result<GetResult>;
    async fn get(&self, bucket: &BucketName, key: &ObjectKey) -> Result<GetResult>;
    async fn head(&self, bucket: &BucketName, key: &ObjectKey) -> Result<ObjectMeta>;
    async fn copy_opts(&self, from_bucket: &BucketName, from: &ObjectKey, to_bucket: &BucketName, to: &ObjectKey, options: &CopyOptions) -> Result<ObjectMeta>;
    async fn copy(&self, from_bucket: &BucketName, from: &ObjectKey, to_bucket: &BucketName, to: &ObjectKey) -> Result<ObjectMeta>;
    async fn copy_listed(&self, from_bucket: &BucketName, source: &ObjectMeta, to_bucket: &BucketName, to: &ObjectKey) -> Result<ObjectMeta>;
    async fn delete_opts(&self, bucket: &BucketName, key: &ObjectKey, options: &DeleteOptions) -> Result<()>;
    async fn delete(&self, bucket: &BucketName, key: &ObjectKey) -> Result<()>;
    async fn delete_many(&self, bucket: &BucketName, keys: &[ObjectKey]) -> Result<()>;
    async fn holds_data(&self, bucket: &BucketName) -> Result<bool>;
    async fn versioning_enabled(&self, bucket: &BucketName) -> Result<bool>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::InMemoryCloud;
    use crate::object_store::ObjectStoreExt;

    #[tokio::test(start_paused = true)]
    async fn adds_the_latency_to_each_request() {
        let store = Throttled::new(InMemoryCloud::new(), ThrottleConfig::uniform(Duration::from_millis(5)));
        let b = BucketName::new("bench").unwrap();
        let start = tokio::time::Instant::now();
        store.ensure_bucket(&BucketSpec::new(b.clone())).await.unwrap();
        for i in 0..4 {
            store.put_bytes(&b, &ObjectKey::new(format!("k{i}")).unwrap(), bytes::Bytes::from_static(b"x")).await.unwrap();
        }
        assert_eq!(store.list_all(&b, ListOptions::default()).await.unwrap().len(), 4);
        assert_eq!(start.elapsed(), Duration::from_millis(5 * 6), "5 requests and 1 listing page of 5 ms each");
    }
}
