//! What the tests of the validated types share: the [`Named`] types and
//! their rules, the parts of an error, and the whole API on a good and a bad
//! value.

use std::fmt::{self, Debug};
use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// A validated string type and the rule it checks.
pub(crate) trait Named: FromStr<Err = Error> + AsRef<str> + fmt::Display + Debug + Serialize + DeserializeOwned + PartialEq {
    const FIELD: &'static str;
    const RULE: &'static str;
}

macro_rules! named {
    ($($name:ident => $rule:ident),* $(,)?) => {
        $(impl Named for $name {
            const FIELD: &'static str = $name::FIELD;
            const RULE: &'static str = $rule;
        })*
    };
}

pub(crate) use named;

/// The field, problem and rule of an [`Error::InvalidInput`].
pub(crate) fn parts(err: Error) -> (String, String, String) {
    match err {
        Error::InvalidInput { field, problem, rule } => (field, problem, rule),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

/// `result` failed on `field`, with a problem containing `problem`, citing `rule`.
#[track_caller]
pub(crate) fn assert_invalid<T: Debug>(result: Result<T>, field: &str, problem: &str, rule: &str) {
    let (f, p, r) = parts(result.expect_err("the value was accepted"));
    assert_eq!(f, field);
    assert!(p.contains(problem), "problem {p:?} does not say {problem:?}");
    assert_eq!(r, rule);
}

#[track_caller]
pub(crate) fn ok<T: Named>(value: &str) {
    let parsed = T::from_str(value).unwrap_or_else(|e| panic!("{value:?} was rejected: {e}"));
    assert_eq!(parsed.as_ref(), value);
}

#[track_caller]
pub(crate) fn bad<T: Named>(value: &str, problem: &str) {
    assert_invalid(T::from_str(value), T::FIELD, problem, T::RULE);
}

/// The whole API of a validated string type, on one good and one bad value.
#[track_caller]
pub(crate) fn common_api<T: Named>(good: &str, wrong: &str) {
    let value = T::from_str(good).unwrap();
    assert_eq!(value.to_string(), good);
    assert_eq!(format!("{value:?}"), format!("{good:?}"));
    let json = serde_json::to_string(&value).unwrap();
    assert_eq!(json, serde_json::to_string(good).unwrap());
    assert_eq!(serde_json::from_str::<T>(&json).unwrap(), value);
    let err = serde_json::from_str::<T>(&serde_json::to_string(wrong).unwrap()).unwrap_err().to_string();
    assert!(err.contains(T::RULE), "serde error {err:?} does not cite the rule");
    assert!(err.contains(T::FIELD), "serde error {err:?} does not name the field");
}

/// Every case of a table, one a line: `ok VALUE` (accepted as it is) or
/// `bad VALUE => PROBLEM` (refused, the problem saying `PROBLEM`); blank lines
/// and `#` comments between them.
pub(crate) fn cases<T: Named>(table: &str) {
    for line in table.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        match line.split_once(' ') {
            Some(("ok", value)) => ok::<T>(value),
            Some(("bad", case)) => {
                let (value, problem) = case.split_once(" => ").unwrap_or_else(|| panic!("{line:?} has no ` => PROBLEM`"));
                bad::<T>(value, problem);
            }
            _ => panic!("{line:?} is not `ok VALUE` or `bad VALUE => PROBLEM`"),
        }
    }
}

/// The empty value refused; the longest, `max` `a`s, accepted; one more refused.
#[track_caller]
pub(crate) fn length_edges<T: Named>(max: usize, unit: &str) {
    bad::<T>("", "is empty");
    ok::<T>(&"a".repeat(max));
    bad::<T>(&"a".repeat(max + 1), &format!("is {} {unit}s long, more than {max}", max + 1));
}

/// Each value refused for the character `shown` (as `{:?}` shows it), which is not `what`.
#[track_caller]
pub(crate) fn bad_characters<T: Named>(cases: &[(&str, &str)], what: &str) {
    for (value, shown) in cases {
        bad::<T>(value, &format!("contains {shown}, which is not {what}"));
    }
}

/// [`length_edges`] (in characters) and [`bad_characters`] of one type.
#[track_caller]
pub(crate) fn lengths_and_characters<T: Named>(max: usize, bad_chars: &[(&str, &str)], what: &str) {
    length_edges::<T>(max, "character");
    bad_characters::<T>(bad_chars, what);
}
