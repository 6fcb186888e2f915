//! `KeyVaultSecrets` against an in-test fake of the Key Vault secrets REST
//! API (api-version 7.6 shapes: Set Secret, Get Secret, Get Secret Versions,
//! Delete Secret; `{"error":{"code","message"}}` bodies), including Key
//! Vault's authentication challenge: a request without a token gets 401 and
//! `WWW-Authenticate`, as the real service answers.
//!
//! The SDK speaks HTTPS only; a transport in the client options sends its
//! `https://NAME.vault.azure.net` requests to the plain-HTTP fake.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::http::{
    AsyncRawResponse, ClientOptions, FixedRetryOptions, HttpClient, Request, RetryOptions, Transport, Url, new_http_client,
};
use deploy_azure::keyvault::KeyVaultSecrets;
use deploy_core::secret_store::PutSecretOptions;
use deploy_core::{Error, SecretName, SecretStore};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use wiremock::{MockServer, Request as WireRequest, Respond, ResponseTemplate};

/// A credential for the scope Key Vault's challenge names, and only that one.
#[derive(Debug)]
struct VaultToken;

#[async_trait]
impl TokenCredential for VaultToken {
    async fn get_token(&self, scopes: &[&str], _: Option<TokenRequestOptions<'_>>) -> azure_core::Result<AccessToken> {
        assert_eq!(scopes, ["https://vault.azure.net/.default"], "the scope comes from the challenge");
        Ok(AccessToken::new(
            azure_core::credentials::Secret::new("fake-vault-token"),
            azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
        ))
    }
}

fn fake_token() -> Arc<dyn TokenCredential> {
    Arc::new(VaultToken)
}

pub(crate) const VAULT: &str = "https://cfkv.vault.azure.net";

/// Sends every request to `to` (scheme, host, port), keeping path and query.
#[derive(Debug)]
struct Redirect {
    to: Url,
    inner: Arc<dyn HttpClient>,
}

#[async_trait]
impl HttpClient for Redirect {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let mut request = request.clone();
        let url = request.url_mut();
        url.set_scheme(self.to.scheme()).expect("http scheme");
        url.set_host(self.to.host_str()).expect("host");
        url.set_port(self.to.port()).expect("port");
        self.inner.execute_request(&request).await
    }
}

#[derive(Default)]
pub(crate) struct Vault {
    /// name -> versions (id, value, contentType, tags), oldest first.
    pub(crate) secrets: HashMap<String, Vec<(String, String, Value, Value)>>,
    deleted: HashMap<String, Vec<(String, String, Value, Value)>>,
    next: u32,
    unauthenticated: u32,
    /// Method and path of every authenticated request.
    pub(crate) requests: Vec<String>,
}

struct FakeVault(Arc<Mutex<Vault>>);

fn not_found(name: &str) -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({
        "error": { "code": "SecretNotFound", "message": format!("A secret with (name/id) {name} was not found in this key vault.") }
    }))
}

fn bundle(name: &str, (version, value, content_type, tags): &(String, String, Value, Value)) -> Value {
    json!({
        "id": format!("{VAULT}/secrets/{name}/{version}"),
        "value": value,
        "contentType": content_type,
        "tags": tags,
        "attributes": { "enabled": true, "created": 1_700_000_000, "updated": 1_700_000_000, "recoveryLevel": "Recoverable+Purgeable" }
    })
}

impl Respond for FakeVault {
    fn respond(&self, request: &WireRequest) -> ResponseTemplate {
        let mut vault = self.0.lock().unwrap();
        if request.headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer fake-vault-token") {
            vault.unauthenticated += 1;
            return ResponseTemplate::new(401).insert_header(
                "WWW-Authenticate",
                r#"Bearer authorization="https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net""#,
            );
        }
        assert!(request.url.query_pairs().any(|(k, _)| k == "api-version"), "every request names its api-version");
        let method = request.method.to_string();
        let path = request.url.path().to_owned();
        vault.requests.push(format!("{method} {path}"));
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method.as_str(), segments.as_slice()) {
            ("PUT", ["secrets", name]) => {
                if vault.deleted.contains_key(*name) {
                    return ResponseTemplate::new(409).set_body_json(json!({
                        "error": { "code": "Conflict", "message": format!("Secret {name} is currently in a deleted but recoverable state") }
                    }));
                }
                let body: Value = serde_json::from_slice(&request.body).expect("JSON body");
                vault.next += 1;
                let version = format!("{:032x}", vault.next);
                let entry = (
                    version,
                    body["value"].as_str().expect("a value").to_owned(),
                    body.get("contentType").cloned().unwrap_or(Value::Null),
                    body.get("tags").cloned().unwrap_or(Value::Null),
                );
                let answer = bundle(name, &entry);
                vault.secrets.entry((*name).to_owned()).or_default().push(entry);
                ResponseTemplate::new(200).set_body_json(answer)
            }
            ("GET", ["secrets", name, "versions"]) => match vault.secrets.get(*name) {
                None => not_found(name),
                Some(versions) => {
                    let value: Vec<Value> = versions
                        .iter()
                        .map(|(v, ..)| json!({ "id": format!("{VAULT}/secrets/{name}/{v}"), "attributes": { "enabled": true } }))
                        .collect();
                    ResponseTemplate::new(200).set_body_json(json!({ "value": value, "nextLink": null }))
                }
            },
            ("GET", ["secrets", name, version]) => {
                let found = vault
                    .secrets
                    .get(*name)
                    .and_then(|versions| if version.is_empty() { versions.last() } else { versions.iter().find(|(v, ..)| v == version) });
                match found {
                    Some(entry) => ResponseTemplate::new(200).set_body_json(bundle(name, entry)),
                    None => not_found(name),
                }
            }
            ("GET", ["secrets", name]) => match vault.secrets.get(*name).and_then(|v| v.last()) {
                Some(entry) => ResponseTemplate::new(200).set_body_json(bundle(name, entry)),
                None => not_found(name),
            },
            ("DELETE", ["secrets", name]) => match vault.secrets.remove(*name) {
                None => not_found(name),
                Some(versions) => {
                    let last = bundle(name, versions.last().expect("a version"));
                    vault.deleted.insert((*name).to_owned(), versions);
                    let mut answer = last;
                    answer["recoveryId"] = json!(format!("{VAULT}/deletedsecrets/{name}"));
                    ResponseTemplate::new(200).set_body_json(answer)
                }
            },
            _ => ResponseTemplate::new(400)
                .set_body_json(json!({ "error": { "code": "BadParameter", "message": format!("{method} {path}") } })),
        }
    }
}

pub(crate) async fn fake_vault() -> (MockServer, Arc<Mutex<Vault>>, KeyVaultSecrets) {
    let server = MockServer::start().await;
    let state = Arc::new(Mutex::new(Vault::default()));
    wiremock::Mock::given(wiremock::matchers::any()).respond_with(FakeVault(state.clone())).mount(&server).await;
    let redirect = Redirect { to: Url::parse(&server.uri()).unwrap(), inner: new_http_client(None) };
    let options = ClientOptions {
        transport: Some(Transport::new(Arc::new(redirect))),
        retry: RetryOptions::fixed(FixedRetryOptions {
            delay: azure_core::time::Duration::milliseconds(10),
            max_retries: 2,
            max_total_elapsed: azure_core::time::Duration::seconds(5),
        }),
        ..ClientOptions::default()
    };
    let store = KeyVaultSecrets::builder(VAULT, fake_token()).client_options(options).build().unwrap();
    (server, state, store)
}

#[tokio::test]
async fn key_vault_passes_the_core_secret_store_conformance_suite() {
    let (_server, state, store) = fake_vault().await;
    deploy_core::conformance::secret_store(&store, &deploy_core::conformance::Names::unique()).await;
    let vault = state.lock().unwrap();
    assert!(vault.unauthenticated >= 1, "the challenge was answered");
}

#[tokio::test]
async fn versions_tags_and_soft_delete_on_key_vault() {
    let (_server, state, store) = fake_vault().await;
    let name = SecretName::new("pg-admin").unwrap();
    let options = PutSecretOptions {
        description: Some("PostgreSQL admin password".into()),
        tags: [("app".to_owned(), "vectice".to_owned())].into(),
        ..PutSecretOptions::default()
    };
    let first = store.put_secret(&name, SecretString::from("SENTINEL-1"), &options).await.unwrap();
    assert!(first.changed);
    assert_eq!(first.version.len(), 32, "the id's last segment: {first:?}");
    let again = store.put_secret(&name, SecretString::from("SENTINEL-1"), &options).await.unwrap();
    assert_eq!((again.changed, &again.version), (false, &first.version));
    {
        let vault = state.lock().unwrap();
        let versions = &vault.secrets["pg-admin"];
        assert_eq!(versions.len(), 1, "same value, one version");
        assert_eq!(versions[0].2, json!("PostgreSQL admin password"));
        assert_eq!(versions[0].3, json!({ "app": "vectice" }));
    }
    let got = store.get_secret(&name).await.unwrap();
    assert_eq!((got.value.expose_secret(), got.version.as_str()), ("SENTINEL-1", first.version.as_str()));
    assert!(!format!("{got:?}{store:?}").contains("SENTINEL"));

    // A key per secret does not exist in Key Vault: refused before any request.
    let before = state.lock().unwrap().requests.len();
    let err = store
        .put_secret(&name, SecretString::from("x"), &PutSecretOptions { encryption_key: Some("k".into()), ..Default::default() })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotSupported { .. }), "{err:?}");
    assert_eq!(state.lock().unwrap().requests.len(), before);

    // Soft delete: gone for reads, the name stays taken.
    store.delete_secret(&name, &deploy_core::Confirm::new("pg-admin")).await.unwrap();
    assert!(store.get_secret(&name).await.unwrap_err().is_not_found());
    let err = store.put_secret(&name, SecretString::from("SENTINEL-2"), &PutSecretOptions::default()).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    assert!(!format!("{err:?} {err}").contains("SENTINEL"), "no value in errors");
}

#[test]
fn vault_url_must_be_https() {
    let err = KeyVaultSecrets::builder("http://cfkv.vault.azure.net", fake_token()).build().unwrap_err();
    assert_eq!(err.invalid_field(), Some("vault_url"));
}

/// 12.3: a vault host that accepts connections and never answers ends in a typed Timeout within the bound,
/// through the caller's own transport too; first with the per-attempt limit alone, then the per-operation one.
#[tokio::test]
async fn a_vault_that_never_answers_ends_in_a_timeout() {
    use std::time::{Duration, Instant};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let to = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let store = |timeouts: deploy_core::timeouts::Timeouts| {
        let options = ClientOptions {
            transport: Some(Transport::new(Arc::new(Redirect { to: to.clone(), inner: new_http_client(None) }))),
            retry: RetryOptions::fixed(FixedRetryOptions {
                delay: azure_core::time::Duration::milliseconds(10),
                max_retries: 2,
                max_total_elapsed: azure_core::time::Duration::seconds(600),
            }),
            ..ClientOptions::default()
        };
        KeyVaultSecrets::builder(VAULT, fake_token()).client_options(options).timeouts(timeouts).build().unwrap()
    };
    let name = SecretName::new("pg-admin").unwrap();
    let attempt_only = deploy_core::timeouts::Timeouts::default().with_attempt(Duration::from_millis(300));
    let operation_only =
        deploy_core::timeouts::Timeouts::default().with_attempt(Duration::from_secs(600)).with_operation(Duration::from_secs(1));
    for timeouts in [attempt_only, operation_only] {
        let started = Instant::now();
        let err = store(timeouts).get_secret(&name).await.unwrap_err();
        assert!(matches!(&err, Error::Timeout { what, .. } if what.contains("pg-admin")), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(4), "not bounded: {:?}", started.elapsed());
    }
    held.abort();
}
