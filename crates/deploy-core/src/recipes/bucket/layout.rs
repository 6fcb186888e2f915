//! Names: snapshot ids, where a snapshot's objects and manifest live, which snapshot to restore.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The id of a snapshot: its UTC start time, sortable, without colons
/// (`2026-11-23T20-21-40.123Z`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SnapshotId(String);

const SNAPSHOT_ID_FORMAT: &str = "%Y-%m-%dT%H-%M-%S%.3fZ";
const SNAPSHOT_ID_PARSE: &str = "%Y-%m-%dT%H-%M-%S%.fZ";
const SNAPSHOT_ID_RULE: &str = "snapshot ids: a UTC time as YYYY-MM-DDTHH-MM-SS.mmmZ";

impl SnapshotId {
    /// The id for `at`.
    pub fn at(at: Timestamp) -> Self {
        SnapshotId(at.strftime(SNAPSHOT_ID_FORMAT).to_string())
    }

    /// The id for now.
    pub fn now() -> Self {
        SnapshotId::at(Timestamp::now())
    }

    /// The time it names: when the snapshot started.
    pub fn timestamp(&self) -> Timestamp {
        parse_id(&self.0).expect("validated on construction")
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for SnapshotId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match parse_id(s) {
            Some(t) if SnapshotId::at(t).0 == s => Ok(SnapshotId(s.to_owned())),
            _ => Err(Error::invalid("snapshot", format!("`{s}` is not a snapshot id"), SNAPSHOT_ID_RULE)),
        }
    }
}

fn parse_id(s: &str) -> Option<Timestamp> {
    let civil = jiff::civil::DateTime::strptime(SNAPSHOT_ID_PARSE, s).ok()?;
    civil.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp())
}

impl TryFrom<String> for SnapshotId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<SnapshotId> for String {
    fn from(id: SnapshotId) -> String {
        id.0
    }
}

impl fmt::Display for SnapshotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where snapshots' objects and manifests live in the backup bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotLayout {
    prefix: String,
}

impl SnapshotLayout {
    /// Snapshots under `prefix` (`""` for the bucket's root).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on field `prefix` for a prefix starting with `/`,
    /// holding `//`, `.` or `..` segments, or longer than 512 bytes.
    pub fn new(prefix: &str) -> Result<Self> {
        let rule = "snapshot prefixes: at most 512 bytes, no leading `/`, no empty, `.` or `..` segments";
        let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
        if trimmed.len() > 512 || trimmed.starts_with('/') {
            return Err(Error::invalid("prefix", format!("`{prefix}` is too long or starts with `/`"), rule));
        }
        if !trimmed.is_empty() && trimmed.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            return Err(Error::invalid("prefix", format!("`{prefix}` has an empty, `.` or `..` segment"), rule));
        }
        Ok(SnapshotLayout { prefix: trimmed.to_owned() })
    }

    pub(crate) fn join(&self, rest: &str) -> String {
        if self.prefix.is_empty() { rest.to_owned() } else { format!("{}/{rest}", self.prefix) }
    }

    /// The layout's root (`backups/`), or `""` at the bucket's root.
    pub fn root(&self) -> String {
        self.join("")
    }

    /// The folder holding the snapshot's objects, with a trailing `/`.
    pub fn folder(&self, id: &SnapshotId) -> String {
        self.join(&format!("{id}/"))
    }

    /// The key of the snapshot's manifest (format 1) or manifest index
    /// (format 2): written last, so a snapshot is complete exactly when it exists.
    pub fn manifest_key(&self, id: &SnapshotId) -> String {
        self.join(&format!("manifests/{id}.json"))
    }

    /// The folder of a format-2 snapshot's manifest parts and shard records.
    pub fn parts_folder(&self, id: &SnapshotId) -> String {
        self.join(&format!("manifests/{id}/"))
    }

    pub(crate) fn manifests_prefix(&self) -> String {
        self.join("manifests/")
    }
}

/// Which snapshot to restore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotSelector {
    /// The newest complete one of the target's source.
    Latest,
    /// This one.
    Id(SnapshotId),
}

impl FromStr for SnapshotSelector {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if s == "latest" { Ok(SnapshotSelector::Latest) } else { s.parse().map(SnapshotSelector::Id) }
    }
}
