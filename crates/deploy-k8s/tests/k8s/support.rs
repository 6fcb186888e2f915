//! Shared helpers: a spec, an endpoint, settings, the harness's PostgreSQL.

use std::time::Duration;

use deploy_core::PgIdentifier;
use deploy_core::bootstrap::{BootstrapSpec, DatabaseSetup, RolePassword, RoleSpec};
use deploy_k8s::{JobSettings, PgEndpoint};
use secrecy::SecretString;

pub const ADMIN_PASSWORD: &str = "SENTINEL-admin-password";
pub const ROLE_PASSWORD: &str = "SENTINEL-role-password";

pub fn id(s: &str) -> PgIdentifier {
    PgIdentifier::new(s).unwrap()
}

/// Vectice appendix 4 with the Deeploy read-write user.
pub fn vectice_spec(suffix: &str, password: &str) -> BootstrapSpec {
    let (app, keycloak, rw) = (format!("vectice{suffix}"), format!("keycloak{suffix}"), format!("deeploy{suffix}"));
    BootstrapSpec::new()
        .role(RoleSpec::login(id(&app)).password(RolePassword::plain(SecretString::from(password.to_owned())).unwrap()))
        .role(RoleSpec::login(id(&rw)).password(RolePassword::plain(SecretString::from(password.to_owned())).unwrap()))
        .database(DatabaseSetup::new(id(&app), id(&app)).extension(id("unaccent")).read_write(id(&rw)))
        .database(DatabaseSetup::new(id(&keycloak), id(&app)))
}

pub fn endpoint() -> PgEndpoint {
    PgEndpoint {
        host: "db.internal.example".into(),
        port: 5432,
        user: "postgres".into(),
        dbname: "postgres".into(),
        password: SecretString::from(ADMIN_PASSWORD),
        ca_bundle_pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
    }
}

/// Settings for the fakes: a deadline of 60 (fake) seconds, a wait of 10 s.
pub fn settings() -> JobSettings {
    JobSettings { active_deadline: Duration::from_secs(60), wait_timeout: Duration::from_secs(10), ..JobSettings::new("ns") }
}

pub use deploy_core::conformance::peers::{PgPeer, postgres as pg};

/// What a Job needs to reach the harness's PostgreSQL as its superuser, in `dbname`, trusting `ca_file`.
pub fn endpoint_of(pg: &PgPeer, dbname: &str, ca_file: &std::path::Path) -> PgEndpoint {
    PgEndpoint {
        host: pg.host.clone(),
        port: pg.port,
        user: pg.user.clone(),
        dbname: dbname.into(),
        password: pg.password.clone(),
        ca_bundle_pem: std::fs::read_to_string(ca_file).unwrap(),
    }
}

pub fn unique() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{:x}{}", std::process::id(), nanos % 1_000_000)
}
