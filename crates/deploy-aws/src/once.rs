//! Creating, exactly once, what an AWS API creates without a client token
//! (EC2 `CreateVpc` and `CreateSubnet`, KMS `CreateKey`).
//!
//! When the answer to such a request is lost after the service applied it (a
//! 500 or a dropped connection), a retry creates a second resource. So each
//! creation carries a random token as the tag [`TOKEN_TAG`], the SDK does not
//! retry it ([`no_retry`]), and after an attempt that failed in a way that
//! may hide a success (a retryable error), the resource carrying the token is
//! looked up — a few times, as listings catch up with creations — before the
//! creation is tried again.

use std::future::Future;
use std::time::Duration;

use deploy_core::{Error, Result};

/// The tag key of a creation's token. Tags of this key are not the spec's:
/// diffs leave them alone.
pub const TOKEN_TAG: &str = "deploy:client-token";

/// Attempts at creating.
const ATTEMPTS: usize = 4;
/// Waits before each look-up of what a failed attempt may have created.
const LOOKUPS: [Duration; 3] = [Duration::ZERO, Duration::from_millis(500), Duration::from_secs(2)];

/// A new random token (32 hex digits).
pub fn new_token() -> String {
    use rand::Rng as _;
    let mut rng = rand::rng();
    format!("{:016x}{:016x}", rng.random::<u64>(), rng.random::<u64>())
}

/// A retry configuration that makes one attempt: for creations whose retry
/// could make a duplicate (they go through [`create_once`] instead).
pub fn no_retry() -> aws_smithy_types::retry::RetryConfig {
    aws_smithy_types::retry::RetryConfig::disabled()
}

/// Whether the service refused the request, so that it made nothing.
fn refused(e: &Error) -> bool {
    matches!(
        e,
        Error::InvalidInput { .. }
            | Error::NotFound { .. }
            | Error::AlreadyExists { .. }
            | Error::Conflict { .. }
            | Error::Unauthorized { .. }
            | Error::NotSupported { .. }
    )
}

/// Run `create` until it succeeds, at most a few times. After a failure that
/// may hide a success (anything but a refusal: a 5xx, a dropped connection,
/// an answer that cannot be read), answer what `find` finds (the resource the
/// failed attempt made) instead of creating again; try again only after a
/// retryable failure that made nothing. `what` names the resource in logs.
///
/// # Errors
/// `create`'s last error; `find`'s errors; refusals at once.
pub async fn create_once<T, C, CF, F, FF>(what: &str, mut create: C, mut find: F) -> Result<T>
where
    C: FnMut() -> CF,
    CF: Future<Output = Result<T>>,
    F: FnMut() -> FF,
    FF: Future<Output = Result<Option<T>>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let err = match create().await {
            Ok(made) => return Ok(made),
            Err(e) if refused(&e) => return Err(e),
            Err(e) => e,
        };
        for wait in LOOKUPS {
            tokio::time::sleep(wait).await;
            if let Some(made) = find().await? {
                tracing::info!(target: "deploy", what, error = %err, "the creation's answer was lost; found what it created");
                return Ok(made);
            }
        }
        if !err.is_retryable() || attempt >= ATTEMPTS {
            return Err(err);
        }
        tracing::warn!(target: "deploy", what, error = %err, attempt, "creating failed and made nothing; trying again");
    }
}

/// Whether an error of a create means the resource exists already (the
/// answer of an earlier attempt was lost, or another caller made it).
pub fn already_exists(e: &Error) -> bool {
    matches!(e, Error::AlreadyExists { .. })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn lost() -> Error {
        Error::Provider { provider: "test", operation: "Create".into(), message: "500".into(), retryable: true, source: None }
    }

    #[tokio::test(start_paused = true)]
    async fn a_lost_answer_is_found_not_created_again() {
        let (creates, finds) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let made = create_once(
            "thing",
            || async {
                creates.fetch_add(1, Ordering::SeqCst);
                Err::<u32, _>(lost())
            },
            || async { Ok((finds.fetch_add(1, Ordering::SeqCst) == 1).then_some(7)) },
        )
        .await
        .unwrap();
        assert_eq!((made, creates.load(Ordering::SeqCst), finds.load(Ordering::SeqCst)), (7, 1, 2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_that_made_nothing_is_tried_again_and_a_refusal_is_not() {
        let creates = AtomicUsize::new(0);
        let made = create_once(
            "thing",
            || async { if creates.fetch_add(1, Ordering::SeqCst) == 0 { Err(lost()) } else { Ok(3) } },
            || async { Ok(None) },
        )
        .await
        .unwrap();
        assert_eq!((made, creates.load(Ordering::SeqCst)), (3, 2));
        let refused =
            create_once("thing", || async { Err::<u32, _>(Error::invalid("cidr", "overlaps", "rule")) }, || async { Ok(None) }).await;
        assert!(matches!(refused, Err(Error::InvalidInput { .. })));
        assert_eq!(new_token().len(), 32);
        assert_ne!(new_token(), new_token());
    }
}
