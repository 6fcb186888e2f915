//! Direct execution of a [`BootstrapSpec`] through `tokio-postgres` over TLS.
//!
//! TLS is `verify-full` by default (the server's certificate chains to the CA
//! bundle given, e.g. the RDS bundle, or to the system roots, and names the
//! host); a plaintext connection is never attempted unless the caller names
//! [`TlsMode::InsecurePlaintext`].
//!
//! ```no_run
//! use deploy_core::bootstrap::direct::{Bootstrapper, PgConnection};
//! use deploy_core::bootstrap::{BootstrapSpec, DatabaseSetup, RoleSpec};
//! use deploy_core::{PgIdentifier, Reconcile};
//! # async fn run() -> deploy_core::Result<()> {
//! let connection = PgConnection::from_url("postgres://postgres@db.example.com/postgres")?
//!     .with_password(std::env::var("PGPASSWORD").unwrap_or_default().into())
//!     .with_ca_file("/etc/ssl/rds-global-bundle.pem");
//! let spec = BootstrapSpec::new()
//!     .role(RoleSpec::login(PgIdentifier::new("app")?))
//!     .database(DatabaseSetup::new(PgIdentifier::new("app")?, PgIdentifier::new("app")?));
//! let changes = Bootstrapper::new(connection).ensure(&spec).await?.plan;
//! println!("{changes}");
//! # Ok(()) }
//! ```

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};

use super::{BootstrapSpec, Step, scram};
use crate::error::{Error, Result};
use crate::plan::{Action, Plan};
use crate::reconcile::{Mode, Reconcile, Reconciled};

const PROVIDER: &str = "postgres";

/// Which certificate authorities a `verify-full` connection trusts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaRoots {
    /// The operating system's roots.
    System,
    /// Only the certificates of a PEM bundle file (the RDS bundle, a private CA).
    PemFile(PathBuf),
    /// Only the certificates of a PEM bundle in memory.
    Pem(Vec<u8>),
}

/// How the connection is protected.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsMode {
    /// TLS required; the certificate must chain to the roots and name the host (libpq's `verify-full`).
    VerifyFull(CaRoots),
    /// No TLS at all: password and data in the clear. Only for a server on a
    /// trusted local socket-like network; never chosen unless named.
    InsecurePlaintext,
}

/// Where and how to connect as the administrator.
#[derive(Clone, Debug)]
pub struct PgConnection {
    host: String,
    port: u16,
    user: String,
    password: Option<SecretString>,
    dbname: String,
    tls: TlsMode,
    connect_timeout: Duration,
}

impl PgConnection {
    /// `user` at `host`:5432, database `postgres`, `verify-full` against the system roots.
    pub fn new(host: impl Into<String>, user: impl Into<String>) -> Self {
        PgConnection {
            host: host.into(),
            port: 5432,
            user: user.into(),
            password: None,
            dbname: "postgres".to_owned(),
            tls: TlsMode::VerifyFull(CaRoots::System),
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// Read `postgres://[user[:password]@]host[:port][/dbname][?param=value&..]`.
    /// Parameters: `sslmode` (only `verify-full`: other modes must be chosen
    /// with [`PgConnection::with_tls`]), `sslrootcert` (a PEM file, or `system`),
    /// `connect_timeout` (seconds). Percent-encoding is decoded.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the part of the URL that is wrong (never its password).
    pub fn from_url(url: &str) -> Result<Self> {
        let bad = |problem: &str| {
            Error::invalid("url", problem, "postgres://[user[:password]@]host[:port][/dbname][?sslmode=verify-full&sslrootcert=FILE]")
        };
        let rest = url
            .strip_prefix("postgresql://")
            .or_else(|| url.strip_prefix("postgres://"))
            .ok_or_else(|| bad("does not begin with postgres:// or postgresql://"))?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("has an unclosed [ in the host"))?;
            (host, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        let host = percent_decode(host).ok_or_else(|| bad("has a bad percent-encoding in the host"))?;
        if host.is_empty() {
            return Err(bad("has no host"));
        }
        let mut conn = PgConnection::new(host, "postgres");
        if let Some(port) = port.filter(|p| !p.is_empty()) {
            conn.port = port.parse().map_err(|_| bad("has a port that is not a number from 1 to 65535"))?;
        }
        if let Some(userinfo) = userinfo {
            let (user, password) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            conn.user = percent_decode(user).ok_or_else(|| bad("has a bad percent-encoding in the user"))?;
            if let Some(p) = password {
                let p = percent_decode(p).ok_or_else(|| bad("has a bad percent-encoding in the password"))?;
                conn.password = Some(SecretString::from(p));
            }
        }
        if !path.is_empty() {
            conn.dbname = percent_decode(path).ok_or_else(|| bad("has a bad percent-encoding in the database"))?;
        }
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value).ok_or_else(|| bad("has a bad percent-encoding in a parameter"))?;
            match key {
                "sslmode" if value == "verify-full" => {}
                "sslmode" => {
                    return Err(Error::invalid(
                        "url.sslmode",
                        format!("is `{value}`"),
                        "only verify-full is read from a URL; plaintext needs TlsMode::InsecurePlaintext, named in code",
                    ));
                }
                "sslrootcert" if value == "system" => conn.tls = TlsMode::VerifyFull(CaRoots::System),
                "sslrootcert" => conn.tls = TlsMode::VerifyFull(CaRoots::PemFile(PathBuf::from(value))),
                "connect_timeout" => {
                    let secs: u64 = value.parse().map_err(|_| bad("has a connect_timeout that is not a number of seconds"))?;
                    conn.connect_timeout = Duration::from_secs(secs.max(1));
                }
                other => {
                    return Err(Error::invalid(
                        "url",
                        format!("has the unsupported parameter `{other}`"),
                        "parameters: sslmode, sslrootcert, connect_timeout",
                    ));
                }
            }
        }
        Ok(conn)
    }

    setters! {
        /// Set the port.
        pub fn with_port(port: u16);

        /// Set the administrator's password (replaces one from the URL).
        pub fn with_password(Some(password): SecretString);
    }

    /// Set the administrator's password when none is set yet (from the URL).
    #[must_use]
    pub fn with_default_password(mut self, password: Option<SecretString>) -> Self {
        if self.password.is_none() {
            self.password = password;
        }
        self
    }

    setters! {
        /// Set the user.
        pub fn with_user(user: impl Into<String>);

        /// Set the database the administrator connects to (default `postgres`).
        pub fn with_dbname(dbname: impl Into<String>);
    }

    /// `verify-full` against only the certificates of a PEM bundle file.
    #[must_use]
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls = TlsMode::VerifyFull(CaRoots::PemFile(path.into()));
        self
    }

    setters! {
        /// Set the TLS mode.
        pub fn with_tls(tls: TlsMode);

        /// Set the connect timeout (default 10 s).
        pub fn with_connect_timeout(connect_timeout: Duration);
    }

    /// The host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The database connected to by [`PgConnection::connect`].
    pub fn dbname(&self) -> &str {
        &self.dbname
    }

    /// The TLS mode.
    pub fn tls(&self) -> &TlsMode {
        &self.tls
    }

    /// Connect to the configured database.
    ///
    /// # Errors
    /// See [`PgConnection::connect_to`].
    pub async fn connect(&self) -> Result<Client> {
        self.connect_to(&self.dbname).await
    }

    /// Connect to `dbname` as the configured user. The connection's task runs
    /// on the current Tokio runtime until the client is dropped.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an unreadable CA bundle; [`Error::Unauthorized`]
    /// when the server refuses the login; [`Error::Provider`] for TLS failures
    /// (a certificate that does not verify, a server without TLS) and others.
    pub async fn connect_to(&self, dbname: &str) -> Result<Client> {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(dbname)
            .application_name("deploy-bootstrap")
            .connect_timeout(self.connect_timeout);
        if let Some(password) = &self.password {
            config.password(password.expose_secret().as_bytes());
        }
        let operation = format!("connect to {}:{}/{dbname}", self.host, self.port);
        let client = match &self.tls {
            TlsMode::VerifyFull(roots) => {
                config.ssl_mode(SslMode::Require);
                let tls = postgres_native_tls::MakeTlsConnector::new(tls_connector(roots)?);
                let (client, connection) = config.connect(tls).await.map_err(|e| pg_error(&operation, e))?;
                spawn_connection(connection);
                client
            }
            TlsMode::InsecurePlaintext => {
                config.ssl_mode(SslMode::Disable);
                let (client, connection) = config.connect(NoTls).await.map_err(|e| pg_error(&operation, e))?;
                spawn_connection(connection);
                client
            }
        };
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
            tracing::debug!(target: "deploy", error = %e, "postgres connection ended");
        }
    });
}

fn tls_connector(roots: &CaRoots) -> Result<native_tls::TlsConnector> {
    let mut builder = native_tls::TlsConnector::builder();
    builder.min_protocol_version(Some(native_tls::Protocol::Tlsv12));
    let pem = match roots {
        CaRoots::System => None,
        CaRoots::PemFile(path) => Some(std::fs::read(path).map_err(|e| {
            Error::invalid("ca_file", format!("cannot be read from {}: {e}", path.display()), "a readable PEM bundle of CA certificates")
        })?),
        CaRoots::Pem(pem) => Some(pem.clone()),
    };
    if let Some(pem) = pem {
        let certs = native_tls::Certificate::stack_from_pem(&pem)
            .map_err(|e| Error::invalid("ca_file", format!("is not a PEM bundle: {e}"), "a PEM bundle of CA certificates"))?;
        if certs.is_empty() {
            return Err(Error::invalid("ca_file", "holds no certificate", "a PEM bundle of CA certificates"));
        }
        builder.disable_built_in_roots(true);
        for cert in certs {
            builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| Error::Provider {
        provider: PROVIDER,
        operation: "TLS setup".into(),
        message: e.to_string(),
        retryable: false,
        source: Some(Box::new(e)),
    })
}

/// One place that maps `tokio-postgres` errors: login refusals are
/// [`Error::Unauthorized`]; server errors carry their SQLSTATE and message.
fn pg_error(operation: &str, e: tokio_postgres::Error) -> Error {
    let code = e.code().cloned();
    let message = match e.as_db_error() {
        Some(db) => format!("{}: {} (SQLSTATE {})", db.severity(), db.message(), db.code().code()),
        None => e.to_string(),
    };
    if matches!(code, Some(ref c) if *c == SqlState::INVALID_PASSWORD || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION) {
        return Error::Unauthorized { provider: PROVIDER, message: format!("{operation}: {message}"), source: Some(Box::new(e)) };
    }
    let retryable = match &code {
        Some(c) => [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::CANNOT_CONNECT_NOW,
        ]
        .contains(c),
        None => e.is_closed() || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()),
    };
    Error::Provider { provider: PROVIDER, operation: operation.to_owned(), message, retryable, source: Some(Box::new(e)) }
}

/// Runs a [`BootstrapSpec`] against one instance through `tokio-postgres`.
#[derive(Clone, Debug)]
pub struct Bootstrapper {
    connection: PgConnection,
}

impl Bootstrapper {
    /// Bootstrap through `connection` (an administrator: a superuser, or the
    /// managed instance's admin with `CREATEROLE` and `CREATEDB`).
    pub fn new(connection: PgConnection) -> Self {
        Bootstrapper { connection }
    }
}

/// The instance brought to `spec`; [`Mode::Plan`] changes nothing and answers
/// the changes [`Mode::Apply`] would make, which answers the changes made
/// (empty when it already matched). The info is `()`. A role's password is
/// set only when it differs: it is compared with the stored SCRAM verifier
/// when `pg_authid` is readable (a superuser); where it is not (a managed
/// instance's admin), a login as the role with the password tells (a failed
/// one appears in the server log), and a password given only as a verifier is
/// set on every run and reported. Callers use the provided
/// [`Reconcile::plan`] / [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] for a bad spec (before connecting); connection
/// and query errors (see [`PgConnection::connect_to`]); [`Error::Provider`]
/// naming the change whose statement failed.
#[async_trait::async_trait]
impl Reconcile<BootstrapSpec> for Bootstrapper {
    type Info = ();

    #[tracing::instrument(level = "info", skip_all, fields(backend = "postgres", kind = "bootstrap", name = "direct", mode = ?mode))]

    async fn reconcile(&self, spec: &BootstrapSpec, mode: Mode) -> Result<Reconciled<()>> {
        let apply = mode.is_apply();
        spec.validate()?;
        let admin = self.connection.connect().await?;
        let mut clients: Vec<(String, Client)> = Vec::new();
        let mut plan = Plan::new();
        // Resources this (dry) run would create: their later updates and in-database steps follow from the create.
        let mut pending_creates: BTreeSet<(String, String)> = BTreeSet::new();
        let steps = spec.steps();
        for step in &steps {
            let pending_db = !apply
                && step.database.as_ref().is_some_and(|db| pending_creates.contains(&("database".to_owned(), db.as_str().to_owned())));
            if !apply
                && matches!(step.change.action, Action::Update { .. })
                && pending_creates.contains(&(step.change.kind.clone(), step.change.name.clone()))
                && step.password.is_none()
            {
                continue;
            }
            let client: &Client = match &step.database {
                None => &admin,
                Some(_) if pending_db => {
                    plan.push(step.change.clone());
                    continue;
                }
                Some(db) => {
                    if !clients.iter().any(|(name, _)| name == db.as_str()) {
                        clients.push((db.as_str().to_owned(), self.connection.connect_to(db.as_str()).await?));
                    }
                    &clients.iter().find(|(name, _)| name == db.as_str()).expect("just connected").1
                }
            };
            let done = match (&step.check, &step.password) {
                (Some(check), _) => is_done(client, check, &step.change.to_string()).await?,
                (None, Some(password)) => {
                    let role = &spec.roles[password.role_index];
                    let wanted = role.password.as_ref().expect("password steps are made for roles with a password");
                    password_matches(client, &self.connection, password.role.as_str(), wanted).await?
                }
                (None, None) => false,
            };
            if done {
                continue;
            }
            if matches!(step.change.action, Action::Create) {
                pending_creates.insert((step.change.kind.clone(), step.change.name.clone()));
            }
            if apply {
                execute(client, spec, step).await?;
                tracing::info!(target: "deploy", change = %step.change, "bootstrap");
            }
            plan.push(step.change.clone());
        }
        Ok(Reconciled { plan, info: Some(()) })
    }
}

async fn is_done(client: &Client, check: &str, what: &str) -> Result<bool> {
    let row = client.query_one(&format!("SELECT {check}"), &[]).await.map_err(|e| pg_error(&format!("check of `{}`", what.trim()), e))?;
    Ok(row.get::<_, Option<bool>>(0).unwrap_or(false))
}

/// Whether `role`'s stored password is `password`: its verifier compared
/// where `pg_authid` is readable (a superuser); elsewhere (a managed
/// instance's admin) a login as `role` with a plaintext `password` through
/// `connection` (same server, same TLS) tells, and the server logs a failed
/// one. `false` when neither can tell (no such role, no password, a verifier
/// given where `pg_authid` is not readable, a role that may not log in).
async fn password_matches(client: &Client, connection: &PgConnection, role: &str, password: &super::RolePassword) -> Result<bool> {
    match client.query_opt("SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1", &[&role]).await {
        Ok(Some(row)) => Ok(row.get::<_, Option<String>>(0).is_some_and(|stored| scram::matches(&stored, password))),
        Ok(None) => Ok(false),
        Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => match password {
            super::RolePassword::Plain(plain) => {
                Ok(connection.clone().with_user(role).with_password(plain.clone()).connect().await.is_ok())
            }
            super::RolePassword::Verifier(_) => Ok(false),
        },
        Err(e) => Err(pg_error(&format!("read the password verifier of role {role}"), e)),
    }
}

async fn execute(client: &Client, spec: &BootstrapSpec, step: &Step) -> Result<()> {
    let verifier = |n: usize| spec.roles.get(n).and_then(|r| r.password.as_ref()).map(|p| scram::verifier_of(p).expose_secret().to_owned());
    let sql = step.statement.render(&verifier)?;
    // The simple protocol: DDL takes no parameters, and CREATE DATABASE must not run in a transaction.
    client.batch_execute(&sql).await.map_err(|e| pg_error(step.change.to_string().trim(), e))
}

/// Decode `%XX` escapes; `None` for a `%` without two hex digits after it, or
/// for bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let malformed = s.match_indices('%').any(|(i, _)| !s.get(i + 1..i + 3).is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())));
    if malformed {
        return None;
    }
    percent_encoding::percent_decode_str(s).decode_utf8().ok().map(std::borrow::Cow::into_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_without_echoing_the_password() {
        let c = PgConnection::from_url("postgres://ad%40min:p%3Ass@db.example.com:6432/app%20db?sslrootcert=/ca.pem").unwrap();
        assert_eq!((c.host(), c.port(), c.user(), c.dbname()), ("db.example.com", 6432, "ad@min", "app db"));
        assert_eq!(c.password.as_ref().unwrap().expose_secret(), "p:ss");
        assert_eq!(c.tls(), &TlsMode::VerifyFull(CaRoots::PemFile("/ca.pem".into())));
        assert!(!format!("{c:?}").contains("p:ss"));
        let c = PgConnection::from_url("postgresql://[::1]/").unwrap();
        assert_eq!((c.host(), c.port(), c.user(), c.dbname()), ("::1", 5432, "postgres", "postgres"));
        assert_eq!(c.tls(), &TlsMode::VerifyFull(CaRoots::System));
    }

    #[test]
    fn urls_cannot_downgrade_tls() {
        for mode in ["disable", "prefer", "require", "verify-ca"] {
            let err = PgConnection::from_url(&format!("postgres://u:SENTINEL@h/?sslmode={mode}")).unwrap_err();
            assert_eq!(err.invalid_field(), Some("url.sslmode"));
            assert!(!err.to_string().contains("SENTINEL"));
        }
        let err = PgConnection::from_url("mysql://u:SENTINEL@h").unwrap_err();
        assert!(!err.to_string().contains("SENTINEL"));
        assert!(PgConnection::from_url("postgres://h:99999").is_err());
        assert!(PgConnection::from_url("postgres://h/?foo=1").is_err());
    }
}
