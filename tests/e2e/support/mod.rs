//! Reaching the real local peers (moto, Azurite, PostgreSQL) from the tests.
//!
//! `scripts/test` starts the peers and exports their addresses as `DEPLOY_*`
//! variables, with `DEPLOY_REQUIRE_PEERS=1`; `*_peer()` below read them
//! through [`deploy_core::conformance::peers`], which every crate's tests
//! share: `Some(config)`, or a failure when peers are required, or `None`
//! after a `skipping:` line in a plain `cargo test`. A peer that is configured
//! but not answering is never skipped: the test's first call to it fails.
#![allow(dead_code)]

pub mod backup_gaps;
pub mod black_hole;
pub mod cbor;
pub mod eks_gaps;
pub mod examples;
pub mod fault_proxy;
pub mod s3_conditions;

use std::time::Duration;

use anyhow::{Context as _, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use azure_core::http::{ClientOptions, RetryOptions, Url};
use azure_storage_blob::{BlobContainerClient, BlobContainerClientOptions};
use deploy_azure::sas::{AZURITE_ACCOUNT, AZURITE_KEY, AccountSas, SasProtocol};
use deploy_core::conformance::peers::{self, PgPeer};
use secrecy::{ExposeSecret as _, SecretString};

/// The region the moto helpers use: not us-east-1, so that CreateBucket has
/// to send a LocationConstraint as it must on real AWS.
pub const MOTO_REGION: &str = "eu-central-1";

/// moto server (`DEPLOY_MOTO_ENDPOINT`).
#[derive(Debug, Clone)]
pub struct MotoConfig {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
}

/// Azurite's blob service (`DEPLOY_AZURITE_BLOB_ENDPOINT`).
#[derive(Debug, Clone)]
pub struct AzuriteConfig {
    /// `http://127.0.0.1:PORT/devstoreaccount1` (path-style: account in the path).
    pub blob_endpoint: String,
}

/// The TLS-only PostgreSQL 15 cluster (`DEPLOY_PG_*`): deploy-core's
/// [`PgPeer`], with the tokio-postgres helpers of these tests.
#[derive(Debug, Clone)]
pub struct PostgresConfig(pub PgPeer);

impl std::ops::Deref for PostgresConfig {
    type Target = PgPeer;
    fn deref(&self) -> &PgPeer {
        &self.0
    }
}

/// The moto peer, if configured (found or skipped as [`deploy_core::conformance::peers`] says).
pub fn moto_peer() -> Option<MotoConfig> {
    peers::moto_endpoint().map(|endpoint| MotoConfig { endpoint })
}

/// The Azurite blob peer, if configured.
pub fn azurite_peer() -> Option<AzuriteConfig> {
    peers::azurite_blob_endpoint().map(|blob_endpoint| AzuriteConfig { blob_endpoint })
}

/// The PostgreSQL peer, if configured.
pub fn postgres_peer() -> Option<PostgresConfig> {
    peers::postgres().map(PostgresConfig)
}

/// A random lowercase suffix for names that must not collide between runs or
/// tests (moto's S3 bucket names are global across its accounts).
pub fn unique_suffix() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// The statements in a server `log` that change something and concern one
/// of `names`: the word in the statement, or in the line's `user@database`
/// prefix. Changes run as simple-protocol `statement:` lines (psql's `\gexec`
/// leaves names unquoted where it can); reads as prepared statements
/// (`execute <unnamed>: SELECT ...`), which do not count.
pub fn changing_statements(log: &str, names: &[&str]) -> Vec<String> {
    const CHANGING: [&str; 7] = ["CREATE", "ALTER", "GRANT", "REVOKE", "DROP", "COMMENT", "REASSIGN"];
    log.lines()
        .filter(|line| line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).any(|word| names.contains(&word)))
        .filter_map(|line| line.split_once("statement: ").map(|(_, sql)| sql.trim_start()))
        .filter(|sql| sql.split_whitespace().next().is_some_and(|word| CHANGING.contains(&word.to_ascii_uppercase().as_str())))
        .map(str::to_owned)
        .collect()
}

// ------------------------------------------------------------------ moto

impl MotoConfig {
    /// An SDK config for moto: region [`MOTO_REGION`], static test credentials
    /// `test`/`test`, endpoint URL of the peer.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(MOTO_REGION))
            .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "deploy-e2e-static"))
            .endpoint_url(&self.endpoint)
            .load()
            .await
    }

    /// An S3 client for moto, path-style (`http://127.0.0.1:PORT/bucket/key`):
    /// virtual-host style would need `bucket.127.0.0.1` to resolve.
    pub async fn s3_client(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk_config().await).force_path_style(true).build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// moto behind a transparent proxy that also serves what moto lacks: the
    /// AWS Backup operations of [`backup_gaps`] and the EKS Pod Identity
    /// associations of [`eks_gaps`]; keep the proxy alive while the returned
    /// config is used.
    pub async fn with_gaps(&self) -> anyhow::Result<(fault_proxy::FaultProxy, MotoConfig)> {
        let (backup, eks) = (backup_gaps::routes(), eks_gaps::routes());
        let direct = deploy_aws::AwsContext::new(&self.sdk_config().await);
        let cluster_sg = eks_gaps::cluster_security_group_routes(deploy_aws::network::Network::new(&direct));
        let routes: fault_proxy::LocalRoutes = std::sync::Arc::new(move |method: &hyper::Method, path: &str, body: &bytes::Bytes| {
            backup(method, path, body).or_else(|| eks(method, path, body)).or_else(|| cluster_sg(method, path, body))
        });
        let proxy = fault_proxy::FaultProxy::start_with(&self.endpoint, fault_proxy::FaultConfig::transparent(), Some(routes)).await?;
        let endpoint = proxy.endpoint();
        Ok((proxy, MotoConfig { endpoint }))
    }
}

// ------------------------------------------------------------------ Azurite

impl AzuriteConfig {
    /// An account SAS for Azurite's development account, signed with its
    /// public key: blob service, service/container/object, read-write-delete-
    /// list-add-create, valid from 5 minutes ago (clock skew) for an hour,
    /// over HTTP too (Azurite is plain HTTP here).
    pub fn account_sas(&self) -> AccountSas {
        self.account_sas_with_key(SecretString::from(AZURITE_KEY))
    }

    /// Like [`Self::account_sas`] but signed with another key (negative tests).
    pub fn account_sas_with_key(&self, key: SecretString) -> AccountSas {
        let now = jiff::Timestamp::now();
        AccountSas::builder(AZURITE_ACCOUNT, key)
            .services("b")
            .resource_types("sco")
            .permissions("racwdl")
            .start(now - jiff::SignedDuration::from_mins(5))
            .expiry(now + jiff::SignedDuration::from_hours(1))
            .protocol(SasProtocol::HttpsAndHttp)
            .build()
            .expect("a valid account SAS")
    }

    /// `{endpoint}/{container}?{sas}`.
    pub fn container_url(&self, container: &str, sas: &AccountSas) -> Result<Url> {
        let url = format!("{}/{container}?{}", self.blob_endpoint, sas.query_string());
        Url::parse(&url).with_context(|| format!("container URL for {container}"))
    }

    /// A container client (official `azure_storage_blob` crate) that reaches
    /// Azurite through an account SAS in its URL; no token credential. Few
    /// retries, so that a peer that is down fails the test quickly.
    pub fn container_client(&self, container: &str) -> Result<BlobContainerClient> {
        self.container_client_with_sas(container, &self.account_sas())
    }

    /// Like [`Self::container_client`] with a given SAS.
    pub fn container_client_with_sas(&self, container: &str, sas: &AccountSas) -> Result<BlobContainerClient> {
        let options = BlobContainerClientOptions {
            client_options: ClientOptions {
                retry: RetryOptions::fixed(azure_core::http::FixedRetryOptions {
                    delay: azure_core::time::Duration::milliseconds(200),
                    max_retries: 2,
                    max_total_elapsed: azure_core::time::Duration::seconds(10),
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        Ok(BlobContainerClient::new(self.container_url(container, sas)?, None, Some(options))?)
    }
}

// ------------------------------------------------------------------ PostgreSQL

impl PostgresConfig {
    /// What the server logged (`log_statement = 'all'`) while `f` ran; waits
    /// until the log is quiet, as the server writes it asynchronously.
    pub fn logged_during<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<(T, String)> {
        let before = std::fs::metadata(&self.log_file)?.len();
        let value = f()?;
        let mut len = std::fs::metadata(&self.log_file)?.len();
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(50));
            let now = std::fs::metadata(&self.log_file)?.len();
            if now == len {
                break;
            }
            len = now;
        }
        let log = std::fs::read(&self.log_file)?;
        Ok((value, String::from_utf8_lossy(&log[usize::try_from(before)?..]).into_owned()))
    }

    /// Connection settings: host (also the TLS name checked against the
    /// certificate), port, user, password, database `postgres`, TLS required.
    pub fn pg_config(&self) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .password(self.password.expose_secret())
            .dbname("postgres")
            .application_name("deploy-e2e")
            .ssl_mode(tokio_postgres::config::SslMode::Require)
            .connect_timeout(Duration::from_secs(10));
        config
    }

    /// A TLS connector that trusts only the PEM CA at `ca_file` and checks the
    /// server name (libpq's `sslmode=verify-full`): native-tls verifies the
    /// chain and the host name by default; the system roots are left out.
    pub fn tls_connector(ca_file: &std::path::Path) -> Result<postgres_native_tls::MakeTlsConnector> {
        let pem = std::fs::read(ca_file).with_context(|| format!("reading CA {}", ca_file.display()))?;
        let ca = native_tls::Certificate::from_pem(&pem).context("parsing CA PEM")?;
        let connector = native_tls::TlsConnector::builder()
            .add_root_certificate(ca)
            .disable_built_in_roots(true)
            .build()
            .context("building the TLS connector")?;
        Ok(postgres_native_tls::MakeTlsConnector::new(connector))
    }

    /// Connects over TLS (verify-full against [`Self::ca_file`]); the
    /// connection task runs on the current runtime.
    pub async fn connect(&self) -> Result<tokio_postgres::Client> {
        self.connect_with_ca(&self.ca_file).await
    }

    /// Connects over TLS trusting only `ca_file`.
    pub async fn connect_with_ca(&self, ca_file: &std::path::Path) -> Result<tokio_postgres::Client> {
        let tls = Self::tls_connector(ca_file)?;
        let (client, connection) = self.pg_config().connect(tls).await?;
        spawn_connection(connection);
        Ok(client)
    }
}

fn spawn_connection<S, T>(connection: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("postgres connection ended with an error: {e}");
        }
    });
}
