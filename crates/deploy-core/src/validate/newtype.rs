//! The validated string newtype: [`validated_string!`](crate::validated_string), the
//! [`Check`] its checks answer, and the checks of length and characters the
//! name rules share.

/// Define a validated string newtype: a `pub struct $name(String)` whose every
/// constructor (`new`, `FromStr`, `TryFrom<String>`, `TryFrom<&str>`,
/// deserialization) runs `$check` and answers [`Error::InvalidInput`](crate::Error::InvalidInput) naming
/// `$field`, the value's fault and the rule. With `normalize = f`, the value is
/// first passed through `f` (lowercase it, drop a trailing dot).
///
/// `$check` is a `fn(&str) -> Check` ([`Check`](crate::validate::Check): `Err((problem, rule))`, see
/// [`fault`](crate::validate::fault)). The type gets `as_str`, `Display`, a `Debug` showing the value,
/// `AsRef<str>`, `Into<String>`, ordering and hashing, and serde through its
/// string form (the caller's crate needs no serde of its own).
///
/// ```
/// use deploy_core::validate::{Check, fault};
///
/// fn check_queue(v: &str) -> Check {
///     let rule = "queue names: 1-80 letters, digits, `-` and `_`";
///     if v.is_empty() || v.len() > 80 {
///         return fault(format!("is {} characters long", v.len()), rule);
///     }
///     match v.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_')) {
///         Some(c) => fault(format!("contains {c:?}"), rule),
///         None => Ok(()),
///     }
/// }
///
/// deploy_core::validated_string!(
///     /// A queue name.
///     QueueName, "queue", check_queue
/// );
///
/// assert_eq!(QueueName::new("jobs").unwrap().as_str(), "jobs");
/// assert_eq!(QueueName::new("no spaces").unwrap_err().invalid_field(), Some("queue"));
/// ```
#[macro_export]
macro_rules! validated_string {
    ($(#[$meta:meta])* $name:ident, $field:literal, $check:path) => {
        $crate::validated_string!($(#[$meta])* $name, $field, $check, normalize = ::std::convert::identity);
    };
    ($(#[$meta:meta])* $name:ident, $field:literal, $check:path, normalize = $normalize:path) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The default field name used in errors.
            pub const FIELD: &'static str = $field;

            /// Validate `value`.
            ///
            /// # Errors
            /// `deploy_core::Error::InvalidInput` naming the field, the fault and the rule.
            pub fn new(value: impl Into<String>) -> $crate::Result<Self> {
                let value: String = $normalize(value.into());
                $check(&value).map_err(|(problem, rule)| $crate::Error::invalid($field, problem, rule))?;
                Ok($name(value))
            }

            /// The value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(&self.0, f)
            }
        }

        impl ::std::convert::AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::convert::TryFrom<String> for $name {
            type Error = $crate::Error;
            fn try_from(value: String) -> $crate::Result<Self> {
                $name::new(value)
            }
        }

        impl ::std::convert::TryFrom<&str> for $name {
            type Error = $crate::Error;
            fn try_from(value: &str) -> $crate::Result<Self> {
                $name::new(value)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::Error;
            fn from_str(value: &str) -> $crate::Result<Self> {
                $name::new(value)
            }
        }

        impl ::std::convert::From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let value = <String as $crate::__private::serde::Deserialize>::deserialize(deserializer)?;
                $name::new(value).map_err(<D::Error as $crate::__private::serde::de::Error>::custom)
            }
        }
    };
}

/// What a check of [`validated_string!`](crate::validated_string) answers: `Err((problem, rule))`.
pub type Check = std::result::Result<(), (String, String)>;

/// A failed [`Check`]: the value's `problem` and the `rule` it breaks.
///
/// # Errors
/// Always: that is its purpose.
pub fn fault(problem: impl Into<String>, rule: &str) -> Check {
    Err((problem.into(), rule.to_owned()))
}

/// `n` counted in `unit` (`character`, `byte`) against `range`.
pub(super) fn check_length(n: usize, range: std::ops::RangeInclusive<usize>, unit: &str, rule: &str) -> Check {
    let (min, max) = (*range.start(), *range.end());
    let units = if n == 1 { unit.to_owned() } else { format!("{unit}s") };
    if n == 0 && min > 0 {
        fault("is empty", rule)
    } else if n < min {
        fault(format!("is {n} {units} long, fewer than {min}"), rule)
    } else if n > max {
        fault(format!("is {n} {units} long, more than {max}"), rule)
    } else {
        Ok(())
    }
}

/// Every character of `v` passes `allowed`, which accepts `what` (`a lowercase letter or digit`).
pub(super) fn check_chars(v: &str, allowed: impl Fn(char) -> bool, what: &str, rule: &str) -> Check {
    match v.chars().find(|c| !allowed(*c)) {
        Some(c) => fault(format!("contains {c:?}, which is not {what}"), rule),
        None => Ok(()),
    }
}
