//! The local peers the suites run against, as `scripts/test` (or
//! `scripts/peers`, whose env file can be sourced) announces them:
//! `DEPLOY_MOTO_ENDPOINT`, `DEPLOY_AZURITE_BLOB_ENDPOINT` and `DEPLOY_PG_*`.
//! Every crate's integration tests read them here, so a peer is found, or
//! skipped, the same way everywhere:
//! - all of a peer's variables set: `Some`;
//! - some missing and `DEPLOY_REQUIRE_PEERS=1` (how `scripts/test` runs): a
//!   panic naming them, so the test fails rather than passes unchecked;
//! - some missing otherwise (a plain `cargo test`): `None`, after a
//!   `skipping:` line on stderr; the test returns early.

use std::path::PathBuf;

use secrecy::SecretString;

/// A local port that accepts connections and never answers (every accepted
/// connection is held open): the peer of tests proving that a request which
/// gets no answer ends in a timeout within its bound.
///
/// # Panics
/// When no local port can be bound.
pub fn silent_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a local port");
    let port = listener.local_addr().expect("a bound port").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    port
}

/// Whether `DEPLOY_REQUIRE_PEERS=1`: a missing peer then fails the test.
pub fn required() -> bool {
    std::env::var("DEPLOY_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

/// The values of `vars`, all set and non-empty, for `peer`; see the [module docs](self).
///
/// # Panics
/// When some are missing and [`required`].
pub fn peer_env(peer: &str, vars: &[&str]) -> Option<Vec<String>> {
    let values: Vec<Option<String>> = vars.iter().map(|v| std::env::var(v).ok().filter(|s| !s.is_empty())).collect();
    let missing: Vec<&str> = vars.iter().zip(&values).filter(|(_, v)| v.is_none()).map(|(name, _)| *name).collect();
    if missing.is_empty() {
        return Some(values.into_iter().flatten().collect());
    }
    if required() {
        panic!(
            "{peer} is required (DEPLOY_REQUIRE_PEERS=1) but not configured: {} unset. \
             Run the tests with scripts/test, or start scripts/peers and source .cache/peers/env.",
            missing.join(", ")
        );
    }
    eprintln!("skipping: {peer} not running ({} unset; scripts/test starts it)", missing.join(", "));
    None
}

/// moto's endpoint (`http://127.0.0.1:PORT`).
pub fn moto_endpoint() -> Option<String> {
    peer_env("moto", &["DEPLOY_MOTO_ENDPOINT"]).map(|mut v| v.remove(0))
}

/// Azurite's blob endpoint (`http://127.0.0.1:PORT/devstoreaccount1`), without a trailing `/`.
pub fn azurite_blob_endpoint() -> Option<String> {
    peer_env("azurite", &["DEPLOY_AZURITE_BLOB_ENDPOINT"]).map(|mut v| v.remove(0).trim_end_matches('/').to_owned())
}

/// The test PostgreSQL 15: TLS only (its own CA), SCRAM only, every statement logged.
#[derive(Clone, Debug)]
pub struct PgPeer {
    /// Host name its certificate names (`localhost`).
    pub host: String,
    /// Port.
    pub port: u16,
    /// The superuser.
    pub user: String,
    /// Its password (redacted in `Debug`).
    pub password: SecretString,
    /// PEM of the CA that signed the server's certificate.
    pub ca_file: PathBuf,
    /// PEM of an unrelated CA, for tests that must be refused.
    pub wrong_ca_file: PathBuf,
    /// The server log (`log_statement = 'all'`, lines prefixed `user@database`).
    pub log_file: PathBuf,
}

/// The PostgreSQL peer.
///
/// # Panics
/// When it is not configured and [`required`], or `DEPLOY_PG_PORT` is not a port.
pub fn postgres() -> Option<PgPeer> {
    let vars = [
        "DEPLOY_PG_HOST",
        "DEPLOY_PG_PORT",
        "DEPLOY_PG_USER",
        "DEPLOY_PG_PASSWORD",
        "DEPLOY_PG_CA_FILE",
        "DEPLOY_PG_WRONG_CA_FILE",
        "DEPLOY_PG_LOG_FILE",
    ];
    let [host, port, user, password, ca, wrong_ca, log] = <[String; 7]>::try_from(peer_env("postgresql", &vars)?).expect("seven values");
    Some(PgPeer {
        host,
        port: port.parse().unwrap_or_else(|_| panic!("DEPLOY_PG_PORT is not a port: {port:?}")),
        user,
        password: SecretString::from(password),
        ca_file: ca.into(),
        wrong_ca_file: wrong_ca.into(),
        log_file: log.into(),
    })
}

#[cfg(feature = "postgres")]
impl PgPeer {
    /// A `verify-full` connection as the superuser, trusting only the peer's CA.
    pub fn admin(&self) -> crate::bootstrap::direct::PgConnection {
        crate::bootstrap::direct::PgConnection::new(&self.host, &self.user)
            .with_port(self.port)
            .with_password(self.password.clone())
            .with_ca_file(&self.ca_file)
    }
}
