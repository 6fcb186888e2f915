//! Reaching Azurite, and a store that talks to nothing.
#![allow(dead_code)]

use deploy_azure::blob::BlobStore;
use deploy_azure::sas::{AZURITE_ACCOUNT, AZURITE_KEY, AccountSas, SasProtocol};
use secrecy::SecretString;

/// Azurite's blob endpoint, or `None` after printing why the test is skipped.
///
/// # Panics
/// When `DEPLOY_REQUIRE_PEERS=1` and the endpoint is not set.
pub fn azurite_endpoint() -> Option<String> {
    match std::env::var("DEPLOY_AZURITE_BLOB_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(e) => Some(e.trim_end_matches('/').to_owned()),
        None if std::env::var("DEPLOY_REQUIRE_PEERS").is_ok_and(|v| v == "1") => {
            panic!(
                "Azurite is required (DEPLOY_REQUIRE_PEERS=1) but DEPLOY_AZURITE_BLOB_ENDPOINT is unset: run scripts/test"
            )
        }
        None => {
            eprintln!("skipping: azurite not running (start it with scripts/test)");
            None
        }
    }
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
    let n: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    format!("{:x}", n ^ (std::process::id() as u64) << 40)
}

/// An address where nothing listens (a port bound and released).
pub fn dead_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}
