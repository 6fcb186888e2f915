//! Shared helpers: a spec, an endpoint, settings, the harness's PostgreSQL.

use std::time::Duration;

use deploy_core::bootstrap::{BootstrapSpec, DatabaseSetup, RolePassword, RoleSpec};
use deploy_core::PgIdentifier;
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

/// Fast settings for the fakes.
pub fn settings() -> JobSettings {
    JobSettings { active_deadline: Duration::from_secs(1), wait_timeout: Duration::from_secs(10), ..JobSettings::new("ns") }
}

pub struct Pg {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub ca_file: String,
    pub wrong_ca_file: String,
}

/// The harness's PostgreSQL, or `None` with the reason on stderr (a failure when peers are required).
pub fn pg() -> Option<Pg> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let names = ["DEPLOY_PG_HOST", "DEPLOY_PG_PORT", "DEPLOY_PG_USER", "DEPLOY_PG_PASSWORD", "DEPLOY_PG_CA_FILE", "DEPLOY_PG_WRONG_CA_FILE"];
    let missing: Vec<&str> = names.iter().copied().filter(|n| var(n).is_none()).collect();
    if !missing.is_empty() {
        if var("DEPLOY_REQUIRE_PEERS").as_deref() == Some("1") {
            panic!("DEPLOY_REQUIRE_PEERS=1 but {} not set: start the peers with scripts/test", missing.join(", "));
        }
        eprintln!("skipped: no test PostgreSQL ({} not set; scripts/test starts one)", missing.join(", "));
        return None;
    }
    let v = |n: &str| var(n).unwrap();
    Some(Pg {
        host: v("DEPLOY_PG_HOST"),
        port: v("DEPLOY_PG_PORT").parse().unwrap(),
        user: v("DEPLOY_PG_USER"),
        password: v("DEPLOY_PG_PASSWORD"),
        ca_file: v("DEPLOY_PG_CA_FILE"),
        wrong_ca_file: v("DEPLOY_PG_WRONG_CA_FILE"),
    })
}

impl Pg {
    pub fn endpoint(&self, dbname: &str, ca_file: &str) -> PgEndpoint {
        PgEndpoint {
            host: self.host.clone(),
            port: self.port,
            user: self.user.clone(),
            dbname: dbname.into(),
            password: SecretString::from(self.password.clone()),
            ca_bundle_pem: std::fs::read_to_string(ca_file).unwrap(),
        }
    }

    pub fn admin(&self) -> deploy_core::bootstrap::direct::PgConnection {
        deploy_core::bootstrap::direct::PgConnection::new(&self.host, &self.user)
            .with_port(self.port)
            .with_password(SecretString::from(self.password.clone()))
            .with_ca_file(&self.ca_file)
    }
}

pub fn unique() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{:x}{}", std::process::id(), nanos % 1_000_000)
}
