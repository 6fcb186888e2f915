//! Listings that survive retryable errors.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures::stream::{BoxStream, Stream, StreamExt};

use super::common::Location;
use crate::error::Result;
use crate::object_store::{ListOptions, ObjectMeta};

/// A listing that starts again after the last key it handed out when a page fails.
struct Resilient<'a> {
    location: Location<'a>,
    options: ListOptions,
    attempts: usize,
    inner: Option<BoxStream<'static, Result<ObjectMeta>>>,
    /// The last key handed out, in a buffer reused from key to key.
    last: String,
    started: bool,
    failures: usize,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
    done: bool,
}

impl Stream for Resilient<'_> {
    type Item = Result<ObjectMeta>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if let Some(pause) = this.pause.as_mut() {
                ready!(pause.as_mut().poll(cx));
                this.pause = None;
            }
            let inner = this.inner.get_or_insert_with(|| {
                let start_after = if this.started { Some(this.last.clone()) } else { this.options.start_after.clone() };
                this.location.store.list(this.location.bucket, ListOptions { prefix: this.options.prefix.clone(), start_after })
            });
            match ready!(inner.poll_next_unpin(cx)) {
                None => {
                    this.done = true;
                    return Poll::Ready(None);
                }
                Some(Ok(meta)) => {
                    this.last.clear();
                    this.last.push_str(meta.key.as_str());
                    this.started = true;
                    this.failures = 0;
                    return Poll::Ready(Some(Ok(meta)));
                }
                Some(Err(e)) if e.is_retryable() && this.failures + 1 < this.attempts => {
                    this.failures += 1;
                    this.inner = None;
                    let delay = Duration::from_millis(50 << this.failures.min(7)).min(Duration::from_secs(5));
                    this.pause = Some(Box::pin(tokio::time::sleep(delay)));
                }
                Some(Err(e)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }
}

/// Every object of `location` matching `options`, as a stream that survives
/// retryable errors: after one, the listing starts again after the last key it
/// handed out (up to `attempts` failures in a row), so a throttled page does
/// not end a snapshot of a million objects.
pub(super) fn list_resilient<'a>(location: Location<'a>, options: ListOptions, attempts: usize) -> BoxStream<'a, Result<ObjectMeta>> {
    Resilient { location, options, attempts, inner: None, last: String::new(), started: false, failures: 0, pause: None, done: false }
        .boxed()
}
