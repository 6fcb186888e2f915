//! Merge of two key-ordered streams (a listing and a manifest, or two
//! listings), holding one item of each side: memory does not grow with the
//! number of keys.
//!
//! Both sides must be in key order. When they come from stores of different
//! [`KeyOrder`]s (S3 lists by UTF-8 bytes, Azure by UTF-16 code units), the
//! orders agree on every pair of keys but those where both hold a character at
//! or above `U+E000` ([`KeyOrder::is_order_sensitive`]): such keys are taken
//! out of the merge and handed out alone, for the caller to resolve with a
//! point lookup, so the merge stays exact. A side that is not in its declared
//! order is an error, never a silent mismatch.

use std::cmp::Ordering;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::stream::{BoxStream, Stream, StreamExt};

use crate::error::{Error, Result};
use crate::object_store::KeyOrder;

/// One step of a merge.
#[derive(Debug)]
pub(super) enum Merged<L, R> {
    /// A key only the left side has.
    Left(L),
    /// A key only the right side has.
    Right(R),
    /// A key both sides have.
    Both(L, R),
    /// An order-sensitive key of the left side, when the sides' orders
    /// differ: whether the right side has it is not known.
    LeftAlone(L),
    /// An order-sensitive key of the right side, when the sides' orders differ.
    RightAlone(R),
}

/// One side of a merge: items in `order` of the key `key` reads from them,
/// after its first `skip` bytes (a prefix all its keys share).
pub(super) struct Side<'a, T> {
    pub items: BoxStream<'a, Result<T>>,
    pub key: fn(&T) -> &str,
    pub skip: usize,
    pub order: KeyOrder,
    /// What the side is, for errors (`listing of bucket/prefix`).
    pub name: String,
}

impl<T> Side<'_, T> {
    fn key_of<'t>(&self, item: &'t T) -> &'t str {
        (self.key)(item).get(self.skip..).unwrap_or("")
    }
}

struct Cursor<'a, T> {
    side: Side<'a, T>,
    peeked: Option<T>,
    /// The last key taken, in a buffer reused from key to key.
    previous: String,
    started: bool,
    done: bool,
}

enum Pulled<T> {
    Ready,
    Alone(T),
}

impl<T> Cursor<'_, T> {
    /// Fill `peeked` unless the side is done; answers an order-sensitive item to hand out alone.
    fn poll_fill(&mut self, cx: &mut Context<'_>, compare: KeyOrder, split: bool) -> Poll<Result<Pulled<T>>> {
        if self.peeked.is_some() || self.done {
            return Poll::Ready(Ok(Pulled::Ready));
        }
        match ready!(self.side.items.poll_next_unpin(cx)) {
            None => {
                self.done = true;
                Poll::Ready(Ok(Pulled::Ready))
            }
            Some(Err(e)) => {
                self.done = true;
                Poll::Ready(Err(e))
            }
            Some(Ok(item)) => {
                let key = self.side.key_of(&item);
                if split && KeyOrder::is_order_sensitive(key) {
                    return Poll::Ready(Ok(Pulled::Alone(item)));
                }
                if self.started && compare.compare(&self.previous, key) != Ordering::Less {
                    self.done = true;
                    return Poll::Ready(Err(Error::Verification {
                        what: self.side.name.clone(),
                        detail: format!("not in key order ({:?}): `{}` came before `{key}`", self.side.order, self.previous),
                    }));
                }
                self.previous.clear();
                self.previous.push_str(key);
                self.started = true;
                self.peeked = Some(item);
                Poll::Ready(Ok(Pulled::Ready))
            }
        }
    }
}

/// The merge, polled in place (its cursors are never moved from step to step).
struct Merge<'a, L, R> {
    left: Cursor<'a, L>,
    right: Cursor<'a, R>,
    split: bool,
    compare: KeyOrder,
    failed: bool,
}

impl<L: Unpin, R: Unpin> Stream for Merge<'_, L, R> {
    type Item = Result<Merged<L, R>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.failed {
            return Poll::Ready(None);
        }
        let (compare, split) = (this.compare, this.split);
        match ready!(this.left.poll_fill(cx, compare, split)) {
            Ok(Pulled::Alone(item)) => return Poll::Ready(Some(Ok(Merged::LeftAlone(item)))),
            Ok(Pulled::Ready) => {}
            Err(e) => {
                this.failed = true;
                return Poll::Ready(Some(Err(e)));
            }
        }
        match ready!(this.right.poll_fill(cx, compare, split)) {
            Ok(Pulled::Alone(item)) => return Poll::Ready(Some(Ok(Merged::RightAlone(item)))),
            Ok(Pulled::Ready) => {}
            Err(e) => {
                this.failed = true;
                return Poll::Ready(Some(Err(e)));
            }
        }
        let step = match (this.left.peeked.take(), this.right.peeked.take()) {
            (None, None) => return Poll::Ready(None),
            (Some(a), None) => Merged::Left(a),
            (None, Some(b)) => Merged::Right(b),
            (Some(a), Some(b)) => match compare.compare(this.left.side.key_of(&a), this.right.side.key_of(&b)) {
                Ordering::Less => {
                    this.right.peeked = Some(b);
                    Merged::Left(a)
                }
                Ordering::Greater => {
                    this.left.peeked = Some(a);
                    Merged::Right(b)
                }
                Ordering::Equal => Merged::Both(a, b),
            },
        };
        Poll::Ready(Some(Ok(step)))
    }
}

/// Merge `left` and `right` on their keys.
pub(super) fn merge<'a, L: Send + Unpin + 'a, R: Send + Unpin + 'a>(
    left: Side<'a, L>,
    right: Side<'a, R>,
) -> BoxStream<'a, Result<Merged<L, R>>> {
    // Equal orders: merge in that order. Different orders: the keys they agree
    // on merge in either (UTF-8 here); the others are handed out alone.
    let split = left.order != right.order;
    let compare = if split { KeyOrder::Utf8 } else { left.order };
    Merge {
        left: Cursor { side: left, peeked: None, previous: String::new(), started: false, done: false },
        right: Cursor { side: right, peeked: None, previous: String::new(), started: false, done: false },
        split,
        compare,
        failed: false,
    }
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    fn side(keys: &[&str], order: KeyOrder) -> Side<'static, String> {
        let mut keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        keys.sort_by(|a, b| order.compare(a, b));
        Side { items: futures::stream::iter(keys.into_iter().map(Ok)).boxed(), key: String::as_str, skip: 0, order, name: "test".into() }
    }

    fn describe(step: &Merged<String, String>) -> String {
        match step {
            Merged::Left(k) => format!("L {k}"),
            Merged::Right(k) => format!("R {k}"),
            Merged::Both(k, _) => format!("B {k}"),
            Merged::LeftAlone(k) => format!("l {k}"),
            Merged::RightAlone(k) => format!("r {k}"),
        }
    }

    async fn run(left: &[&str], lo: KeyOrder, right: &[&str], ro: KeyOrder) -> Vec<String> {
        let steps: Vec<Merged<String, String>> = merge(side(left, lo), side(right, ro)).try_collect().await.unwrap();
        steps.iter().map(describe).collect()
    }

    #[tokio::test]
    async fn same_order_merges_every_key() {
        let got = run(&["a", "b", "d", "🦀", "\u{FF61}"], KeyOrder::Utf16, &["b", "c", "\u{FF61}", "🦀"], KeyOrder::Utf16).await;
        assert_eq!(got, ["L a", "B b", "R c", "L d", "B 🦀", "B \u{FF61}"]);
    }

    #[tokio::test]
    async fn different_orders_merge_exactly_and_hand_out_the_sensitive_keys() {
        // UTF-8 puts U+FF61 before the crab, UTF-16 after it: both are handed out alone.
        let left = ["a/🦀", "a/\u{FF61}", "a/x", "b+%#/ü", "z"];
        let right = ["a/\u{FF61}", "a/x", "b+%#/ü", "c"];
        let got = run(&left, KeyOrder::Utf8, &right, KeyOrder::Utf16).await;
        let mut merged: Vec<&String> = got.iter().filter(|s| s.starts_with(['L', 'R', 'B'])).collect();
        merged.sort();
        assert_eq!(merged, ["B a/x", "B b+%#/ü", "L z", "R c"]);
        let mut alone: Vec<&String> = got.iter().filter(|s| s.starts_with(['l', 'r'])).collect();
        alone.sort();
        assert_eq!(alone, ["l a/\u{FF61}", "l a/🦀", "r a/\u{FF61}"]);
    }

    #[tokio::test]
    async fn a_side_out_of_order_is_an_error() {
        let unordered = Side {
            items: futures::stream::iter(["b", "a"].map(|k| Ok(k.to_owned()))).boxed(),
            key: String::as_str,
            skip: 0,
            order: KeyOrder::Utf8,
            name: "listing of x".into(),
        };
        let err = merge(unordered, side(&[], KeyOrder::Utf8)).try_collect::<Vec<_>>().await.unwrap_err();
        assert!(
            matches!(&err, Error::Verification { what, detail } if what == "listing of x" && detail.contains("`b` came before `a`")),
            "{err}"
        );
        // A UTF-16 listing taken for a UTF-8 one is caught too, not merged wrongly.
        let mislabelled = side(&["🦀", "\u{FF61}"], KeyOrder::Utf16);
        let mislabelled = Side { order: KeyOrder::Utf8, ..mislabelled };
        assert!(merge(mislabelled, side(&[], KeyOrder::Utf8)).try_collect::<Vec<_>>().await.is_err());
    }
}
