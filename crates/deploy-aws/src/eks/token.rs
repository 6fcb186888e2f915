//! The EKS bearer token, made in Rust (no `aws` CLI): a presigned STS
//! `GetCallerIdentity` URL whose signature covers the header
//! `x-k8s-aws-id: CLUSTER`, base64url-encoded behind `k8s-aws-v1.`. The API
//! server calls STS with it to learn who the caller is.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_types::SdkConfig;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use deploy_core::{Error, Result};
use jiff::Timestamp;
use secrecy::SecretString;

/// The token's prefix.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";

/// How long the presigned URL is valid for STS (what `aws eks get-token` uses).
const PRESIGN_SECONDS: u64 = 60;

/// The API server accepts a token for 15 minutes; it is answered as expiring
/// a minute earlier so that callers refresh in time.
const TOKEN_LIFETIME: Duration = Duration::from_secs(14 * 60);

fn signing_error(e: impl std::fmt::Display) -> Error {
    Error::Provider {
        provider: "aws-eks",
        operation: "presign GetCallerIdentity".into(),
        message: e.to_string(),
        retryable: false,
        source: None,
    }
}

/// The STS host of a region: `sts.REGION.amazonaws.com` (`.com.cn` in China).
fn sts_host(region: &str) -> String {
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("sts.{region}.{suffix}")
}

/// A bearer token for `cluster` signed with `credentials` in `region` at `time`,
/// and when it expires.
///
/// # Errors
/// [`Error::Provider`] when the request cannot be signed.
pub fn token_with(credentials: &Credentials, region: &str, cluster: &str, time: SystemTime) -> Result<(SecretString, Timestamp)> {
    let identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(PRESIGN_SECONDS));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(time)
        .settings(settings)
        .build()
        .map_err(signing_error)?
        .into();
    let url = format!("https://{}/?Action=GetCallerIdentity&Version=2011-06-15", sts_host(region));
    let request = SignableRequest::new("GET", url.as_str(), [("x-k8s-aws-id", cluster)].into_iter(), SignableBody::Bytes(&[]))
        .map_err(signing_error)?;
    let (instructions, _signature) = sign(request, &params).map_err(signing_error)?.into_parts();
    let mut presigned = url;
    for (name, value) in instructions.params() {
        presigned.push('&');
        presigned.push_str(name);
        presigned.push('=');
        presigned.push_str(&crate::convert::encode_path(value).replace('/', "%2F"));
    }
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(presigned));
    let expires = Timestamp::try_from(time + TOKEN_LIFETIME).map_err(signing_error)?;
    Ok((SecretString::from(token), expires))
}

/// A bearer token for `cluster` with the credentials and region of `sdk_config`, now.
///
/// # Errors
/// [`Error::Unauthorized`] when the configuration has no credentials or they
/// cannot be loaded; [`Error::InvalidInput`] on `region` when it has no region.
pub async fn token(sdk_config: &SdkConfig, cluster: &str) -> Result<(SecretString, Timestamp)> {
    let region = sdk_config.region().ok_or_else(|| Error::invalid("region", "is not set", "the SDK config names a region"))?;
    let provider = sdk_config.credentials_provider().ok_or_else(|| Error::Unauthorized {
        provider: "aws-eks",
        message: "the SDK config has no credentials provider".into(),
        source: None,
    })?;
    let credentials = provider.provide_credentials().await.map_err(|e| Error::Unauthorized {
        provider: "aws-eks",
        message: format!("loading credentials failed: {e}"),
        source: Some(Box::new(e)),
    })?;
    token_with(&credentials, region.as_ref(), cluster, SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn decode(token: &SecretString) -> String {
        let encoded = token.expose_secret().strip_prefix(TOKEN_PREFIX).expect("prefix");
        String::from_utf8(URL_SAFE_NO_PAD.decode(encoded).expect("base64url")).expect("utf-8")
    }

    #[test]
    fn the_token_is_a_presigned_get_caller_identity_bound_to_the_cluster() {
        let creds =
            Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", Some("session/token+1".into()), None, "test");
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let (token, expires) = token_with(&creds, "eu-central-1", "prod-eks", time).unwrap();
        assert!(!token.expose_secret().contains('='), "base64url without padding");
        let url = decode(&token);
        assert!(url.starts_with("https://sts.eu-central-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"), "{url}");
        for part in [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Credential=AKIDEXAMPLE%2F20231114%2Feu-central-1%2Fsts%2Faws4_request",
            "X-Amz-Date=20231114T221320Z",
            "X-Amz-Expires=60",
            "X-Amz-SignedHeaders=host%3Bx-k8s-aws-id",
            "X-Amz-Security-Token=session%2Ftoken%2B1",
        ] {
            assert!(url.contains(part), "{part} missing from {url}");
        }
        // The same request presigned by botocore's SigV4QueryAuth (an implementation independent of aws-sigv4).
        let signature = url.split("X-Amz-Signature=").nth(1).unwrap().split('&').next().unwrap();
        assert_eq!(signature, "2555b560ff11ea793f4906e687a6fc9706cf3771050230315895f92c01a0e4df");
        assert_eq!(expires, Timestamp::from_second(1_700_000_000 + 14 * 60).unwrap());
        assert!(!format!("{:?}", token).contains("k8s-aws-v1"), "the token shows in Debug");

        // The signature binds the cluster name.
        let (other, _) = token_with(&creds, "eu-central-1", "other-eks", time).unwrap();
        assert!(!decode(&other).contains(signature));
    }

    #[test]
    fn china_regions_use_their_sts_host() {
        assert_eq!(sts_host("cn-north-1"), "sts.cn-north-1.amazonaws.com.cn");
        assert_eq!(sts_host("us-west-2"), "sts.us-west-2.amazonaws.com");
    }
}
