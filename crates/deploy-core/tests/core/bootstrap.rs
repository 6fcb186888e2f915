//! Database bootstrap against the harness's real PostgreSQL 15 (TLS only,
//! SCRAM only, `log_statement = 'all'`): direct execution and the psql script.
#![cfg(feature = "postgres")]

use std::process::Stdio;

use deploy_core::bootstrap::direct::{Bootstrapper, CaRoots, PgConnection, TlsMode};
use deploy_core::bootstrap::{BootstrapSpec, DatabaseSetup, PsqlScript, RolePassword, RoleSpec};
use deploy_core::conformance::peers::{self, PgPeer};
use deploy_core::{Error, PgIdentifier, Reconcile as _};
use secrecy::{ExposeSecret, SecretString};
use tokio::io::AsyncReadExt;

/// The harness's server ([`peers::postgres`]), with this module's helpers.
struct Pg(PgPeer);

impl std::ops::Deref for Pg {
    type Target = PgPeer;
    fn deref(&self) -> &PgPeer {
        &self.0
    }
}

fn pg() -> Option<Pg> {
    peers::postgres().map(Pg)
}

impl Pg {
    fn as_role(&self, role: &str, password: &str) -> PgConnection {
        self.admin().with_user(role).with_password(SecretString::from(password.to_owned()))
    }

    /// Drop databases, then roles (best effort: tests leave a clean server).
    async fn drop_all(&self, databases: &[&str], roles: &[&str]) {
        let admin = self.admin().connect().await.expect("admin connects");
        for db in databases {
            let _ =
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", deploy_core::bootstrap::quote::ident(db))).await;
        }
        for role in roles {
            let _ = admin.batch_execute(&format!("DROP ROLE IF EXISTS {}", deploy_core::bootstrap::quote::ident(role))).await;
        }
    }

    async fn database_exists(&self, name: &str) -> bool {
        let admin = self.admin().connect().await.unwrap();
        admin.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name]).await.unwrap().is_some()
    }

    async fn run_psql(&self, script: &PsqlScript, env: &[(String, SecretString)]) -> (i32, String, String) {
        let dir = std::env::temp_dir().join(format!("deploy-bootstrap-{}", unique()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bootstrap.sql");
        std::fs::write(&file, script.text()).unwrap();
        let mut cmd = tokio::process::Command::new("psql");
        cmd.args(["-X", "-v", "ON_ERROR_STOP=1", "-f"])
            .arg(&file)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PGHOST", &self.host)
            .env("PGPORT", self.port.to_string())
            .env("PGUSER", &self.user)
            .env("PGPASSWORD", self.password.expose_secret())
            .env("PGDATABASE", "postgres")
            .env("PGSSLMODE", "verify-full")
            .env("PGSSLROOTCERT", &self.ca_file)
            .env("PGCONNECT_TIMEOUT", "10")
            .stdin(Stdio::null());
        for (name, value) in env {
            cmd.env(name, value.expose_secret());
        }
        let out = cmd.output().await.expect("psql runs");
        let _ = std::fs::remove_dir_all(&dir);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{:x}{}{}", std::process::id(), nanos % 100_000, N.fetch_add(1, Ordering::Relaxed))
}

fn id(s: &str) -> PgIdentifier {
    PgIdentifier::new(s).unwrap()
}

fn plain(s: &str) -> RolePassword {
    RolePassword::plain(SecretString::from(s.to_owned())).unwrap()
}

/// Vectice appendix 4 and the Deeploy read-write user, under unique names.
fn vectice_spec(u: &str, app_pw: &str, rw_pw: &str) -> (BootstrapSpec, [String; 4]) {
    let (app, keycloak, rw) = (format!("vectice_{u}"), format!("keycloak_{u}"), format!("deeploy_{u}"));
    let spec = BootstrapSpec::new()
        .role(RoleSpec::login(id(&app)).password(plain(app_pw)))
        .role(RoleSpec::login(id(&rw)).password(plain(rw_pw)))
        .database(DatabaseSetup::new(id(&app), id(&app)).extension(id("unaccent")).read_write(id(&rw)))
        .database(DatabaseSetup::new(id(&keycloak), id(&app)));
    (spec, [app.clone(), keycloak, rw, app])
}

#[tokio::test]
async fn bootstrap_twice_the_second_run_changes_nothing() {
    let Some(pg) = pg() else { return };
    let u = unique();
    let (spec, [app, keycloak, rw, _]) = vectice_spec(&u, "app-pw-1", "rw-pw-1");
    let boot = Bootstrapper::new(pg.admin());

    let planned = boot.plan(&spec).await.unwrap();
    assert!(planned.changes.iter().any(|c| c.kind == "database" && c.name == keycloak), "{planned}");
    assert!(!pg.database_exists(&keycloak).await, "plan changes nothing");

    let first = boot.ensure(&spec).await.unwrap().plan;
    assert!(first.changes.iter().any(|c| c.kind == "role" && c.name == rw), "{first}");
    assert!(first.changes.iter().any(|c| c.kind == "extension"), "{first}");
    let second = boot.ensure(&spec).await.unwrap().plan;
    assert!(second.is_empty(), "second run changed:\n{second}");
    assert!(boot.plan(&spec).await.unwrap().is_empty());

    // The owner creates a table after the grants: default privileges let the read-write user use it.
    let owner = pg.as_role(&app, "app-pw-1").connect_to(&app).await.expect("owner logs in with its password");
    owner.batch_execute("CREATE TABLE t (id serial PRIMARY KEY, v text); INSERT INTO t (v) VALUES ('a')").await.unwrap();
    let row = owner.query_one("SELECT unaccent('Hôtel')", &[]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "Hotel");
    let user = pg.as_role(&rw, "rw-pw-1").connect_to(&app).await.expect("read-write user logs in");
    user.batch_execute("INSERT INTO t (v) VALUES ('b'); UPDATE t SET v = 'c' WHERE v = 'a'; DELETE FROM t WHERE v = 'b'").await.unwrap();
    let err = user.batch_execute("CREATE TABLE mine (x int)").await.unwrap_err();
    assert!(err.to_string().contains("permission denied") || format!("{err:?}").contains("42501"), "{err:?}");
    // A changed password is a change; the old one stops working.
    let (spec2, _) = vectice_spec(&u, "app-pw-2", "rw-pw-1");
    let changed = boot.ensure(&spec2).await.unwrap().plan;
    assert_eq!(changed.len(), 1, "{changed}");
    assert!(changed.changes[0].to_string().contains("password"));
    assert!(matches!(pg.as_role(&app, "app-pw-1").connect_to(&app).await, Err(Error::Unauthorized { .. })));
    drop((owner, user));
    pg.drop_all(&[&app, &keycloak], &[&rw, &app]).await;
}

/// As on RDS or Azure, the administrator is no superuser (`CREATEROLE`,
/// `CREATEDB`) and cannot read `pg_authid`: a second run still leaves matching
/// passwords alone (it logs in as the role to tell), and a changed one is set.
#[tokio::test]
async fn a_managed_admin_leaves_matching_passwords_alone() {
    let Some(pg) = pg() else { return };
    let u = unique();
    let (admin_name, admin_pw) = (format!("managed_admin_{u}"), format!("Adm-{u}-pw"));
    let superuser = pg.admin().connect().await.unwrap();
    superuser.batch_execute(&format!("CREATE ROLE \"{admin_name}\" LOGIN CREATEROLE CREATEDB PASSWORD '{admin_pw}'")).await.unwrap();
    let boot = Bootstrapper::new(pg.as_role(&admin_name, &admin_pw));
    let (spec, [app, keycloak, rw, _]) = vectice_spec(&u, "app-pw-1", "rw-pw-1");
    let first = boot.ensure(&spec).await.unwrap().plan;
    assert!(first.changes.iter().any(|c| c.kind == "database" && c.name == keycloak), "{first}");
    let admin = pg.as_role(&admin_name, &admin_pw).connect().await.unwrap();
    let unreadable = admin.query_opt("SELECT rolpassword FROM pg_catalog.pg_authid LIMIT 1", &[]).await;
    assert!(unreadable.is_err(), "the managed admin can read pg_authid: the test would prove nothing");
    let second = boot.ensure(&spec).await.unwrap().plan;
    assert!(second.is_empty(), "second run as a managed admin changed:\n{second}");
    let (changed_spec, _) = vectice_spec(&u, "app-pw-2", "rw-pw-1");
    let changed = boot.ensure(&changed_spec).await.unwrap().plan;
    assert!(changed.len() == 1 && changed.changes[0].to_string().contains("password") && changed.changes[0].name == app, "{changed}");
    pg.as_role(&app, "app-pw-2").connect().await.expect("the new password works");
    drop(admin);
    pg.drop_all(&[&app, &keycloak], &[&rw, &app]).await;
    superuser.batch_execute(&format!("DROP ROLE IF EXISTS \"{admin_name}\"")).await.unwrap();
}

fn awkward_names(u: &str) -> Vec<String> {
    let mut names = vec![
        format!("Vectice_{u}"),
        format!("key-cloak-{u}"),
        format!("a\"b'c {u}"),
        format!("ünïcødé_数据库_{u}"),
        format!("back\\slash=eq {u}"),
        format!("semi;colon:{u}"),
    ];
    // 63 bytes exactly, multi-byte characters included.
    let mut long = format!("é{u}");
    while long.len() < 63 {
        long.push('x');
    }
    assert_eq!(long.len(), 63);
    names.push(long);
    names
}

#[tokio::test]
async fn awkward_names_work() {
    let Some(pg) = pg() else { return };
    let u = unique();
    let names = awkward_names(&u);
    let mut spec = BootstrapSpec::new();
    for (i, name) in names.iter().enumerate() {
        spec = spec.role(RoleSpec::login(id(name)).password(plain(&format!("pw-{i}"))));
        let reader = &names[(i + 1) % names.len()];
        spec = spec.database(DatabaseSetup::new(id(name), id(name)).extension(id("unaccent")).read_write(id(reader)));
    }
    let boot = Bootstrapper::new(pg.admin());
    boot.ensure(&spec).await.unwrap();
    let again = boot.ensure(&spec).await.unwrap().plan;
    assert!(again.is_empty(), "{again}");
    for (i, name) in names.iter().enumerate() {
        assert!(pg.database_exists(name).await, "database {name:?}");
        pg.as_role(name, &format!("pw-{i}")).connect_to(name).await.unwrap_or_else(|e| panic!("login {name:?}: {e}"));
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    pg.drop_all(&refs, &refs).await;
}

#[tokio::test]
async fn injection_attempts_are_inert() {
    let Some(pg) = pg() else { return };
    let u = unique();
    let role = format!("x\"; ALTER ROLE postgres NOSUPERUSER; --{u}");
    let db = format!("'); DROP DATABASE postgres; --{u}");
    let password = "'; ALTER ROLE postgres NOLOGIN; -- \\' $$ \" %I %L :'x'";
    let spec =
        BootstrapSpec::new().role(RoleSpec::login(id(&role)).password(plain(password))).database(DatabaseSetup::new(id(&db), id(&role)));
    Bootstrapper::new(pg.admin()).ensure(&spec).await.unwrap();
    // The psql script too, with a second role.
    let role2 = format!("y'||pg_sleep(0)||'{u}");
    let spec2 = BootstrapSpec::new().role(RoleSpec::login(id(&role2)).password(plain(password)));
    let script = spec2.psql_script().unwrap();
    let (code, _, stderr) = pg.run_psql(&script, &spec2.verifier_env().unwrap()).await;
    assert_eq!(code, 0, "{stderr}");

    let admin = pg.admin().connect().await.unwrap();
    let row = admin.query_one("SELECT rolsuper AND rolcanlogin FROM pg_roles WHERE rolname = 'postgres'", &[]).await.unwrap();
    assert!(row.get::<_, bool>(0), "postgres is still a superuser that logs in");
    assert!(pg.database_exists("postgres").await);
    assert!(pg.database_exists(&db).await, "the database has the exact name");
    pg.as_role(&role, password).connect_to(&db).await.expect("the role logs in with the exact password");
    pg.as_role(&role2, password).connect().await.expect("the script's role logs in with the exact password");
    pg.drop_all(&[&db], &[&role, &role2]).await;
}

#[tokio::test]
async fn plaintext_is_refused() {
    let Some(pg) = pg() else { return };
    // Named explicitly, plaintext reaches the server, which refuses it (hostnossl reject).
    let err = pg.admin().with_tls(TlsMode::InsecurePlaintext).connect().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. } | Error::Provider { .. }), "{err:?}");
    assert!(!err.to_string().contains(pg.password.expose_secret()));

    // By default, a server that does not speak TLS gets no startup message and no password.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 8];
        socket.read_exact(&mut request).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut socket, b"N").await.unwrap();
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), socket.read_to_end(&mut rest)).await;
        (request, rest)
    });
    let conn = PgConnection::new("127.0.0.1", "postgres")
        .with_port(port)
        .with_password(SecretString::from("SENTINEL-plaintext"))
        .with_ca_file(&pg.ca_file);
    let err = conn.connect().await.unwrap_err();
    let (request, rest) = server.await.unwrap();
    assert_eq!(request, [0, 0, 0, 8, 4, 210, 22, 47], "the first bytes are an SSLRequest");
    assert!(rest.is_empty(), "nothing follows a refused SSLRequest: {rest:?}");
    assert!(!err.to_string().contains("SENTINEL"));
}

#[tokio::test]
async fn a_wrong_ca_fails_under_verify_full() {
    let Some(pg) = pg() else { return };
    let err = pg.admin().with_ca_file(&pg.wrong_ca_file).connect().await.unwrap_err();
    let text = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(text.to_lowercase().contains("certificate"), "{text}");
    // The test CA is not among the system roots either.
    assert!(pg.admin().with_tls(TlsMode::VerifyFull(CaRoots::System)).connect().await.is_err());
    // The right CA, given in memory, verifies.
    let pem = std::fs::read(&pg.ca_file).unwrap();
    pg.admin().with_tls(TlsMode::VerifyFull(CaRoots::Pem(pem))).connect().await.expect("the right CA verifies");
    assert!(
        PgConnection::from_url("postgres://x@localhost/?sslrootcert=/nonexistent").unwrap().connect().await.unwrap_err().invalid_field()
            == Some("ca_file")
    );
}

#[tokio::test]
async fn the_server_log_never_holds_a_plaintext_password() {
    let Some(pg) = pg() else { return };
    let u = unique();
    let sentinel_direct = format!("SENTINEL-direct-{u}");
    let sentinel_script = format!("SENTINEL-script-{u}");
    let (direct_role, script_role) = (format!("logged_direct_{u}"), format!("logged_script_{u}"));
    let direct = BootstrapSpec::new().role(RoleSpec::login(id(&direct_role)).password(plain(&sentinel_direct)));
    Bootstrapper::new(pg.admin()).ensure(&direct).await.unwrap();
    // A second password: a change, sent again as a verifier.
    let direct2 = BootstrapSpec::new().role(RoleSpec::login(id(&direct_role)).password(plain(&format!("{sentinel_direct}-2"))));
    assert_eq!(Bootstrapper::new(pg.admin()).ensure(&direct2).await.unwrap().plan.len(), 1);
    let scripted = BootstrapSpec::new().role(RoleSpec::login(id(&script_role)).password(plain(&sentinel_script)));
    let (code, _, stderr) = pg.run_psql(&scripted.psql_script().unwrap(), &scripted.verifier_env().unwrap()).await;
    assert_eq!(code, 0, "{stderr}");
    pg.as_role(&script_role, &sentinel_script).connect().await.expect("the verifier the script set is the password's");

    let log = std::fs::read_to_string(&pg.log_file).expect("the server log is readable");
    assert!(log.contains(&direct_role) && log.contains(&script_role), "the statements were logged");
    assert!(log.contains("PASSWORD 'SCRAM-SHA-256$4096:"), "passwords were sent as verifiers");
    assert!(!log.contains(&sentinel_direct) && !log.contains(&sentinel_script), "a plaintext password reached the server log");
    pg.drop_all(&[], &[&direct_role, &script_role]).await;
}

#[tokio::test]
async fn the_psql_script_runs_twice_for_real_and_agrees_with_the_direct_path() {
    let Some(pg) = pg() else { return };
    let u = unique();
    let names = awkward_names(&u);
    let (spec, [app, keycloak, rw, _]) = vectice_spec(&u, "app-pw", "rw-pw");
    let mut spec = spec;
    for (i, name) in names.iter().enumerate() {
        spec = spec.role(RoleSpec::login(id(name)).password(plain(&format!("pw-{i}"))));
        spec = spec.database(DatabaseSetup::new(id(name), id(name)).extension(id("unaccent")).read_write(id(&rw)));
    }
    let script = spec.psql_script().unwrap();
    let env = spec.verifier_env().unwrap();

    let (code, out, err) = pg.run_psql(&script, &env).await;
    assert_eq!(code, 0, "first run failed:\n{err}\n{out}");
    let first = PsqlScript::changes_in_output(&out);
    assert!(first.iter().any(|c| c.contains("create database") && c.contains(&keycloak)), "{out}");
    assert!(first.iter().any(|c| c.contains("create extension")), "{out}");

    let (code, out, err) = pg.run_psql(&script, &env).await;
    assert_eq!(code, 0, "second run failed:\n{err}\n{out}");
    let second = PsqlScript::changes_in_output(&out);
    assert!(!second.is_empty(), "the second run set no password (it always sets them from fresh verifiers): {out}");
    assert!(
        second.iter().all(|c| c.contains("password")),
        "the second run changes only passwords (always set from fresh verifiers): {second:?}"
    );
    assert_eq!(second.len(), env.len(), "one password change per role with a password: {second:?}");

    // The direct path sees nothing left to do: both renderings agree.
    let left = Bootstrapper::new(pg.admin()).plan(&spec).await.unwrap();
    assert!(left.is_empty(), "{left}");
    pg.as_role(&rw, "rw-pw").connect_to(&app).await.expect("the read-write user logs in");

    // A missing verifier stops the script before any change.
    let (code, _, err) = pg.run_psql(&script, &[]).await;
    assert_ne!(code, 0);
    assert!(err.contains("DEPLOY_ROLE_VERIFIER_0 is not set"), "{err}");

    let mut dbs: Vec<&str> = names.iter().map(String::as_str).collect();
    dbs.extend([app.as_str(), keycloak.as_str()]);
    let mut roles: Vec<&str> = names.iter().map(String::as_str).collect();
    roles.extend([rw.as_str(), app.as_str()]);
    pg.drop_all(&dbs, &roles).await;
}
