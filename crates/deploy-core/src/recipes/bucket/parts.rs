//! The writer of a format-2 manifest's parts: entries appended as JSON Lines
//! and written out a part at a time, each of a bounded size, so the manifest
//! of any snapshot is written as it goes in constant memory.

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::common::{Location, retried};
use super::manifest::{ManifestEntry, PartInfo};
use crate::error::{Error, Result};
use crate::object_store::ObjectStoreExt;
use crate::validate::ObjectKey;

/// The default size of a manifest part: 4 MiB, about 25,000 entries.
pub const MANIFEST_PART_BYTES: usize = 4 * 1024 * 1024;

/// Appends entries, writes parts `{folder}part-NNNNNN.jsonl`.
pub(super) struct PartWriter<'a> {
    backup: Location<'a>,
    folder: String,
    attempts: usize,
    max_bytes: usize,
    buffer: Vec<u8>,
    objects: u64,
    object_bytes: u64,
    first_key: Option<String>,
    last_key: String,
    parts: Vec<PartInfo>,
}

impl<'a> PartWriter<'a> {
    pub(super) fn new(backup: Location<'a>, folder: String, attempts: usize, max_bytes: usize) -> Self {
        PartWriter {
            backup,
            folder,
            attempts,
            max_bytes: max_bytes.max(1),
            buffer: Vec::new(),
            objects: 0,
            object_bytes: 0,
            first_key: None,
            last_key: String::new(),
            parts: Vec::new(),
        }
    }

    /// Append one entry (entries come in key order); a full part is written out.
    pub(super) async fn push(&mut self, entry: &ManifestEntry) -> Result<()> {
        serde_json::to_writer(&mut self.buffer, entry).map_err(|e| Error::Provider {
            provider: "deploy",
            operation: "serialize manifest entry".into(),
            message: e.to_string(),
            retryable: false,
            source: Some(Box::new(e)),
        })?;
        self.buffer.push(b'\n');
        self.objects += 1;
        self.object_bytes += entry.size;
        if self.first_key.is_none() {
            self.first_key = Some(entry.key.clone());
        }
        self.last_key.clone_from(&entry.key);
        if self.buffer.len() >= self.max_bytes {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        let Some(first_key) = self.first_key.take() else { return Ok(()) };
        let key = format!("{}part-{:06}.jsonl", self.folder, self.parts.len());
        let body = Bytes::from(std::mem::take(&mut self.buffer));
        let info = PartInfo {
            key: key.clone(),
            objects: self.objects,
            object_bytes: self.object_bytes,
            size: body.len() as u64,
            sha256: hex::encode(Sha256::digest(&body)),
            first_key,
            last_key: std::mem::take(&mut self.last_key),
        };
        let object = ObjectKey::new(key)?;
        retried(self.attempts, || self.backup.store.put_bytes(self.backup.bucket, &object, body.clone())).await?;
        self.parts.push(info);
        self.objects = 0;
        self.object_bytes = 0;
        Ok(())
    }

    /// Write the last part; answers every part written, in order.
    pub(super) async fn finish(mut self) -> Result<Vec<PartInfo>> {
        self.flush().await?;
        Ok(self.parts)
    }
}
