//! Reaching Azurite, and a store that talks to nothing.
#![allow(dead_code)]

use deploy_azure::blob::BlobStore;
use deploy_azure::sas::{AZURITE_ACCOUNT, AZURITE_KEY, AccountSas, SasProtocol};
use secrecy::SecretString;

/// Azurite's blob endpoint, or `None` after printing why the test is skipped
/// ([`deploy_core::conformance::peers`]).
///
/// # Panics
/// When `DEPLOY_REQUIRE_PEERS=1` and the endpoint is not set.
pub fn azurite_endpoint() -> Option<String> {
    deploy_core::conformance::peers::azurite_blob_endpoint()
}

/// An account SAS of Azurite's dev account, valid for an hour, over HTTP too.
pub fn azurite_sas() -> AccountSas {
    let now = jiff::Timestamp::now();
    AccountSas::builder(AZURITE_ACCOUNT, SecretString::from(AZURITE_KEY))
        .services("b")
        .resource_types("sco")
        .permissions("racwdl")
        .start(now - jiff::SignedDuration::from_mins(5))
        .expiry(now + jiff::SignedDuration::from_hours(1))
        .protocol(SasProtocol::HttpsAndHttp)
        .build()
        .expect("a valid account SAS")
}

/// A store on Azurite, or `None` (skipped).
pub fn azurite_store() -> Option<BlobStore> {
    let endpoint = azurite_endpoint()?;
    Some(BlobStore::azurite(&endpoint, &azurite_sas()).expect("Azurite store"))
}

/// A lowercase random suffix.
pub fn suffix() -> String {
    let n: u64 = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    format!("{:x}", n ^ (std::process::id() as u64) << 40)
}

/// An address where nothing listens (a port bound and released).
pub fn dead_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// An ARM client whose endpoint answers nothing (quick retries): a test that
/// expects no request fails if one is made.
pub fn dead_arm() -> deploy_azure::arm::ArmClient {
    deploy_azure::arm::ArmClient::builder(crate::fake_arm::SUBSCRIPTION, crate::fake_arm::fake_token())
        .endpoint(dead_endpoint())
        .quick_retries()
        .build()
        .unwrap()
}

/// The field an input error names; panics on any other error (a request was made).
pub fn refused_field(e: deploy_core::Error) -> String {
    match e {
        deploy_core::Error::InvalidInput { field, .. } | deploy_core::Error::NotSupported { field, .. } => field,
        other => panic!("a request was made or the wrong error: {other:?}"),
    }
}
