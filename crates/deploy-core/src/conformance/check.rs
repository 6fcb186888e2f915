//! The assertions the suites share (a leaf: the suites import it).

use crate::error::Error;

#[track_caller]
pub(super) fn expect_err<T: std::fmt::Debug>(what: &str, r: crate::Result<T>, want: impl Fn(&Error) -> bool) -> Error {
    match r {
        Ok(v) => panic!("{what}: expected an error, got Ok({v:?})"),
        Err(e) if want(&e) => e,
        Err(e) => panic!("{what}: wrong error: {e:?}"),
    }
}

#[track_caller]
pub(super) fn ok<T>(what: &str, r: crate::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e:?}"))
}
