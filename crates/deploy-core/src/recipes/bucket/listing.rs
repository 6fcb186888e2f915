//! Listings that survive retryable errors.

use std::time::Duration;

use futures::stream::{BoxStream, StreamExt};

use super::Location;
use crate::error::Result;
use crate::object_store::{ListOptions, ObjectMeta};

/// Every object of `location` matching `options`, as a stream that survives
/// retryable errors: after one, the listing starts again after the last key it
/// handed out (up to `attempts` failures in a row), so a throttled page does
/// not end a snapshot of a million objects.
pub(super) fn list_resilient<'a>(location: Location<'a>, options: ListOptions, attempts: usize) -> BoxStream<'a, Result<ObjectMeta>> {
    struct State<'a> {
        location: Location<'a>,
        options: ListOptions,
        inner: Option<BoxStream<'static, Result<ObjectMeta>>>,
        last: Option<String>,
        failures: usize,
        done: bool,
    }
    let state = State { location, options, inner: None, last: None, failures: 0, done: false };
    futures::stream::unfold(state, move |mut st| async move {
        loop {
            if st.done {
                return None;
            }
            let inner = st.inner.get_or_insert_with(|| {
                let start_after = st.last.clone().or_else(|| st.options.start_after.clone());
                st.location.store.list(st.location.bucket, ListOptions { prefix: st.options.prefix.clone(), start_after })
            });
            match inner.next().await {
                None => return None,
                Some(Ok(meta)) => {
                    st.last = Some(meta.key.as_str().to_owned());
                    st.failures = 0;
                    return Some((Ok(meta), st));
                }
                Some(Err(e)) if e.is_retryable() && st.failures + 1 < attempts => {
                    st.failures += 1;
                    st.inner = None;
                    let delay = Duration::from_millis(50 << st.failures.min(7)).min(Duration::from_secs(5));
                    tokio::time::sleep(delay).await;
                }
                Some(Err(e)) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
            }
        }
    })
    .boxed()
}
