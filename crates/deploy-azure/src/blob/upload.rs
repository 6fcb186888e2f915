//! Streaming block-blob upload with a Content-MD5 computed on the way.

use std::num::NonZero;

use azure_core::http::{Etag, RequestContent};
use azure_storage_blob::BlobClient;
use azure_storage_blob::models::{
    BlockBlobClientCommitBlockListOptions, BlockBlobClientCommitBlockListResultHeaders, BlockBlobClientUploadOptions, BlockLookupList,
};
use bytes::{Bytes, BytesMut};
use deploy_core::object_store::PutOptions;
use deploy_core::{ByteStream, Result};
use futures::stream::{FuturesOrdered, StreamExt};
use md5::{Digest, Md5};

use super::builder::Inner;
use super::{BACKEND, conditional_error};
use crate::error::{Call, from_azure};

/// What an upload wrote.
pub(super) struct Written {
    pub size: u64,
    pub md5: [u8; 16],
    pub version: Option<String>,
    pub last_modified: Option<azure_core::time::OffsetDateTime>,
    /// The blob's `ETag` after the write.
    pub entity_tag: Option<String>,
}

/// Write `body` to `blob`: one Put Blob when it ends within the single-put
/// limit, else Put Block of `block_size` each (at most `concurrency` in
/// flight) and Put Block List. Memory held: at most the single-put limit, or
/// `concurrency + 1` blocks, plus one chunk of the input. The write is on the
/// condition (`If-Match`, `If-None-Match`) given, checked by the request that
/// creates the blob (Put Blob or Put Block List).
///
/// Blocks staged by an upload that never commits (a failure, a dropped future,
/// a killed process) stay uncommitted: Azure discards them after 7 days, and
/// they are never part of the blob.
pub(super) async fn upload(
    inner: &Inner,
    blob: &BlobClient,
    object: &str,
    mut body: ByteStream,
    options: &PutOptions,
    condition: (Option<Etag>, Option<Etag>),
) -> Result<Written> {
    let (if_match, if_none_match) = condition;
    let describe = options.mode.describe();
    let call = Call { provider: BACKEND, operation: "PutBlob", kind: "object", name: object };
    let most = MAX_BLOCKS as u64 * inner.block_size as u64;
    if options.size_hint.is_some_and(|size| size > most) {
        return Err(too_big(most));
    }
    let mut md5 = Md5::new();
    let mut size = 0u64;
    let mut pending = BytesMut::new();
    let mut staged: Option<Staging> = None;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        md5.update(&chunk);
        size += chunk.len() as u64;
        pending.extend_from_slice(&chunk);
        if staged.is_none() && pending.len() > inner.single_put_limit {
            staged = Some(Staging::new());
        }
        if let Some(staging) = staged.as_mut() {
            while pending.len() >= inner.block_size {
                let block = pending.split_to(inner.block_size).freeze();
                staging.stage(inner, blob, block, object).await?;
            }
        }
    }
    let digest: [u8; 16] = md5.finalize().into();
    match staged {
        None => {
            let content = pending.freeze();
            let partition = NonZero::new(content.len() as u64 + 1).unwrap_or(NonZero::<u64>::MIN);
            let upload_options = BlockBlobClientUploadOptions {
                blob_content_md5: Some(digest.to_vec()),
                blob_content_type: options.content_type.clone(),
                // One request whatever the size: this function already decided.
                partition_size: Some(partition),
                if_match,
                if_none_match,
                ..Default::default()
            };
            let result = blob
                .block_blob_client()
                .upload(content.into(), Some(upload_options))
                .await
                .map_err(|e| conditional_error(call, e, &describe))?;
            Ok(Written {
                size,
                md5: digest,
                version: result.version_id,
                last_modified: result.last_modified,
                entity_tag: result.etag.map(String::from),
            })
        }
        Some(mut staging) => {
            if !pending.is_empty() {
                staging.stage(inner, blob, pending.freeze(), object).await?;
            }
            staging.finish(object).await?;
            let list = BlockLookupList { latest: Some(staging.ids), ..Default::default() };
            let commit_call = Call { operation: "PutBlockList", ..call };
            let list = RequestContent::try_from(list).map_err(|e| from_azure(commit_call, e))?;
            let commit_options = BlockBlobClientCommitBlockListOptions {
                blob_content_md5: Some(digest.to_vec()),
                blob_content_type: options.content_type.clone(),
                if_match,
                if_none_match,
                ..Default::default()
            };
            let committed = blob
                .block_blob_client()
                .commit_block_list(list, Some(commit_options))
                .await
                .map_err(|e| conditional_error(commit_call, e, &describe))?;
            let h = |e| from_azure(commit_call, e);
            Ok(Written {
                size,
                md5: digest,
                version: committed.version_id().map_err(h)?,
                last_modified: committed.last_modified().map_err(h)?,
                entity_tag: committed.etag().map_err(h)?.map(String::from),
            })
        }
    }
}

/// A block blob has at most 50,000 committed blocks.
const MAX_BLOCKS: usize = 50_000;

fn too_big(most: u64) -> deploy_core::Error {
    deploy_core::Error::invalid(
        "body",
        format!("is larger than {most} bytes"),
        "a block blob holds at most 50,000 blocks of block_size bytes: raise BlobStoreBuilder::block_size",
    )
}

type StageFuture = futures::future::BoxFuture<'static, std::result::Result<(), azure_core::Error>>;

/// Blocks staged so far, and those in flight.
struct Staging {
    /// A random prefix so that two uploads of one key never mix blocks.
    upload_id: String,
    ids: Vec<Vec<u8>>,
    in_flight: FuturesOrdered<StageFuture>,
}

impl Staging {
    fn new() -> Self {
        Staging { upload_id: azure_core::Uuid::new_v4().simple().to_string(), ids: Vec::new(), in_flight: FuturesOrdered::new() }
    }

    async fn stage(&mut self, inner: &Inner, blob: &BlobClient, block: Bytes, object: &str) -> Result<()> {
        if self.ids.len() >= MAX_BLOCKS {
            return Err(too_big(MAX_BLOCKS as u64 * inner.block_size as u64));
        }
        while self.in_flight.len() >= inner.concurrency {
            self.next(object).await?;
        }
        // Block ids of one blob must all have the same length: 32 + 1 + 6 bytes.
        let id = format!("{}-{:06}", self.upload_id, self.ids.len()).into_bytes();
        self.ids.push(id.clone());
        let client = blob.block_blob_client();
        self.in_flight.push_back(Box::pin(async move {
            let len = block.len() as u64;
            client.stage_block(&id, len, block.into(), None).await.map(|_| ())
        }));
        Ok(())
    }

    async fn next(&mut self, object: &str) -> Result<()> {
        if let Some(done) = self.in_flight.next().await {
            done.map_err(|e| from_azure(Call { provider: BACKEND, operation: "PutBlock", kind: "object", name: object }, e))?;
        }
        Ok(())
    }

    async fn finish(&mut self, object: &str) -> Result<()> {
        while !self.in_flight.is_empty() {
            self.next(object).await?;
        }
        Ok(())
    }
}
