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

use futures::stream::{BoxStream, StreamExt};

use crate::error::{Error, Result};
use crate::object_store::KeyOrder;

/// One step of a merge.
#[derive(Debug)]
pub(super) enum Merged<L, R> {
    /// A key only the left side has.
    Left(String, L),
    /// A key only the right side has.
    Right(String, R),
    /// A key both sides have.
    Both(String, L, R),
    /// An order-sensitive key of the left side, when the sides' orders
    /// differ: whether the right side has it is not known.
    LeftAlone(String, L),
    /// An order-sensitive key of the right side, when the sides' orders differ.
    RightAlone(String, R),
}

/// One side of a merge: items keyed by the string they are merged on, in `order`.
pub(super) struct Side<'a, T> {
    pub items: BoxStream<'a, Result<(String, T)>>,
    pub order: KeyOrder,
    /// What the side is, for errors (`listing of bucket/prefix`).
    pub name: String,
}

struct Cursor<'a, T> {
    side: Side<'a, T>,
    peeked: Option<(String, T)>,
    previous: Option<String>,
    done: bool,
}

enum Pulled<T> {
    Ready,
    Alone(String, T),
}

impl<T> Cursor<'_, T> {
    /// Fill `peeked` unless the side is done; answers an order-sensitive item to hand out alone.
    async fn fill(&mut self, compare: KeyOrder, split: bool) -> Result<Pulled<T>> {
        if self.peeked.is_some() || self.done {
            return Ok(Pulled::Ready);
        }
        match self.side.items.next().await {
            None => {
                self.done = true;
                Ok(Pulled::Ready)
            }
            Some(Err(e)) => {
                self.done = true;
                Err(e)
            }
            Some(Ok((key, item))) => {
                if split && KeyOrder::is_order_sensitive(&key) {
                    return Ok(Pulled::Alone(key, item));
                }
                if let Some(previous) = &self.previous
                    && compare.compare(previous, &key) != Ordering::Less
                {
                    self.done = true;
                    return Err(Error::Verification {
                        what: self.side.name.clone(),
                        detail: format!("not in key order ({:?}): `{previous}` came before `{key}`", self.side.order),
                    });
                }
                self.previous = Some(key.clone());
                self.peeked = Some((key, item));
                Ok(Pulled::Ready)
            }
        }
    }
}

/// Merge `left` and `right` on their keys.
pub(super) fn merge<'a, L: Send + 'a, R: Send + 'a>(left: Side<'a, L>, right: Side<'a, R>) -> BoxStream<'a, Result<Merged<L, R>>> {
    // Equal orders: merge in that order. Different orders: the keys they agree
    // on merge in either (UTF-8 here); the others are handed out alone.
    let split = left.order != right.order;
    let compare = if split { KeyOrder::Utf8 } else { left.order };
    let state = (
        Cursor { side: left, peeked: None, previous: None, done: false },
        Cursor { side: right, peeked: None, previous: None, done: false },
        false,
    );
    futures::stream::unfold(state, move |(mut l, mut r, failed)| async move {
        if failed {
            return None;
        }
        match l.fill(compare, split).await {
            Ok(Pulled::Alone(key, item)) => return Some((Ok(Merged::LeftAlone(key, item)), (l, r, false))),
            Ok(Pulled::Ready) => {}
            Err(e) => return Some((Err(e), (l, r, true))),
        }
        match r.fill(compare, split).await {
            Ok(Pulled::Alone(key, item)) => return Some((Ok(Merged::RightAlone(key, item)), (l, r, false))),
            Ok(Pulled::Ready) => {}
            Err(e) => return Some((Err(e), (l, r, true))),
        }
        let step = match (l.peeked.take(), r.peeked.take()) {
            (None, None) => return None,
            (Some((k, a)), None) => Merged::Left(k, a),
            (None, Some((k, b))) => Merged::Right(k, b),
            (Some((lk, a)), Some((rk, b))) => match compare.compare(&lk, &rk) {
                Ordering::Less => {
                    r.peeked = Some((rk, b));
                    Merged::Left(lk, a)
                }
                Ordering::Greater => {
                    l.peeked = Some((lk, a));
                    Merged::Right(rk, b)
                }
                Ordering::Equal => Merged::Both(lk, a, b),
            },
        };
        Some((Ok(step), (l, r, false)))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    fn side(keys: &[&str], order: KeyOrder) -> Side<'static, ()> {
        let mut keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        keys.sort_by(|a, b| order.compare(a, b));
        Side { items: futures::stream::iter(keys.into_iter().map(|k| Ok((k, ())))).boxed(), order, name: "test".into() }
    }

    fn describe(step: &Merged<(), ()>) -> String {
        match step {
            Merged::Left(k, ()) => format!("L {k}"),
            Merged::Right(k, ()) => format!("R {k}"),
            Merged::Both(k, (), ()) => format!("B {k}"),
            Merged::LeftAlone(k, ()) => format!("l {k}"),
            Merged::RightAlone(k, ()) => format!("r {k}"),
        }
    }

    async fn run(left: &[&str], lo: KeyOrder, right: &[&str], ro: KeyOrder) -> Vec<String> {
        let steps: Vec<Merged<(), ()>> = merge(side(left, lo), side(right, ro)).try_collect().await.unwrap();
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
        let unordered = Side { items: futures::stream::iter(["b", "a"].map(|k| Ok((k.to_owned(), ())))).boxed(), order: KeyOrder::Utf8, name: "listing of x".into() };
        let err = merge(unordered, side(&[], KeyOrder::Utf8)).try_collect::<Vec<_>>().await.unwrap_err();
        assert!(matches!(&err, Error::Verification { what, detail } if what == "listing of x" && detail.contains("`b` came before `a`")), "{err}");
        // A UTF-16 listing taken for a UTF-8 one is caught too, not merged wrongly.
        let mislabelled = side(&["🦀", "\u{FF61}"], KeyOrder::Utf16);
        let mislabelled = Side { order: KeyOrder::Utf8, ..mislabelled };
        assert!(merge(mislabelled, side(&[], KeyOrder::Utf8)).try_collect::<Vec<_>>().await.is_err());
    }
}
