//! Retention periods in days.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A retention period in days: 1 to 36,500.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct RetentionDays(u32);

impl RetentionDays {
    /// The default field name used in errors.
    pub const FIELD: &'static str = "retention_days";

    /// The rule.
    pub const RULE: &'static str = "retention periods: 1 to 36500 days";

    /// Validate `days`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when outside 1..=36500.
    pub fn new(days: u32) -> Result<Self> {
        match days {
            0 => Err(Error::invalid(Self::FIELD, "is 0 days, fewer than 1", Self::RULE)),
            1..=36_500 => Ok(RetentionDays(days)),
            _ => Err(Error::invalid(Self::FIELD, format!("is {days} days, more than 36500"), Self::RULE)),
        }
    }

    /// The number of days.
    pub fn days(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for RetentionDays {
    type Error = Error;
    fn try_from(value: u32) -> Result<Self> {
        RetentionDays::new(value)
    }
}

impl From<RetentionDays> for u32 {
    fn from(value: RetentionDays) -> u32 {
        value.0
    }
}

impl fmt::Display for RetentionDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} days", self.0)
    }
}

impl std::str::FromStr for RetentionDays {
    type Err = Error;

    /// A decimal number of days, optionally followed by ` days` (or ` day`) as
    /// [`Display`](fmt::Display) writes it.
    fn from_str(value: &str) -> Result<Self> {
        let number = value.strip_suffix(" days").or_else(|| value.strip_suffix(" day")).unwrap_or(value);
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(Self::FIELD, format!("`{value}` is not a whole number of days"), Self::RULE));
        }
        // All digits: only too many of them fail to parse.
        RetentionDays::new(number.parse().unwrap_or(u32::MAX))
    }
}

#[cfg(test)]
#[path = "tests/retention.rs"]
mod tests;
