use super::*;

fn id(s: &str) -> PgIdentifier {
    PgIdentifier::new(s).unwrap()
}

fn vectice() -> BootstrapSpec {
    BootstrapSpec::new()
        .role(RoleSpec::login(id("vectice")).password(RolePassword::plain(SecretString::from("SENTINEL-pw-1")).unwrap()))
        .role(RoleSpec::login(id("deeploy")).password(RolePassword::plain(SecretString::from("SENTINEL-pw-2")).unwrap()))
        .database(DatabaseSetup::new(id("vectice"), id("vectice")).extension(id("unaccent")).read_write(id("deeploy")))
        .database(DatabaseSetup::new(id("keycloak"), id("vectice")))
}

#[test]
fn script_uses_gexec_format_and_connects_per_database() {
    let script = vectice().psql_script().unwrap();
    let text = script.text();
    assert!(text.contains("SELECT format('CREATE DATABASE %I OWNER %I', 'vectice', 'vectice'), "), "{text}");
    assert!(text.contains("WHERE NOT (EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = 'vectice')) \\gexec"));
    assert!(text.contains("\\connect -reuse-previous=on :deploy_conninfo"));
    assert!(text.contains("SELECT '\"dbname=''vectice''\"' AS deploy_conninfo \\gset"), "{text}");
    assert!(text.contains("format('CREATE EXTENSION IF NOT EXISTS %I', 'unaccent')"));
    assert!(text.contains("format('ALTER ROLE %I PASSWORD %L', 'vectice', :'deploy_verifier_0')"));
    assert!(text.contains("\\getenv deploy_verifier_1 DEPLOY_ROLE_VERIFIER_1"));
    assert_eq!(script.verifier_env(), ["DEPLOY_ROLE_VERIFIER_0", "DEPLOY_ROLE_VERIFIER_1"]);
    assert!(!text.contains("SENTINEL"), "the script holds no password");
    assert!(!text.contains("BEGIN;"), "no transaction: CREATE DATABASE cannot run in one");
    // keycloak has no in-database steps: one \connect, to vectice
    assert_eq!(text.matches("\\connect").count(), 1);
}

#[test]
fn awkward_names_are_quoted_as_literals_in_the_script() {
    let evil = "x'); DROP ROLE postgres; --\\";
    let spec = BootstrapSpec::new().role(RoleSpec::login(id(evil))).database(DatabaseSetup::new(id(evil), id(evil)));
    let text = spec.psql_script().unwrap().text().to_owned();
    assert!(text.contains(" E'x''); DROP ROLE postgres; --\\\\'"), "{text}");
    assert!(!text.contains("'x');"), "no unquoted occurrence");
}

#[test]
fn statements_render_with_client_side_quoting() {
    let spec = BootstrapSpec::new().database(DatabaseSetup::new(id("My \"DB\""), id("Own-er")));
    let steps = spec.steps();
    let create = steps.iter().find(|s| s.change == Change::create("database", "My \"DB\"")).unwrap();
    assert_eq!(create.statement.render(&|_| None).unwrap(), r#"CREATE DATABASE "My ""DB""" OWNER "Own-er""#);
    let role = RoleSpec::login(id("r")).password(RolePassword::plain(SecretString::from("p")).unwrap());
    let steps = BootstrapSpec::new().role(role).steps();
    let password = steps.iter().find(|s| s.password.is_some()).unwrap();
    assert_eq!(password.statement.render(&|n| Some(format!("v{n}"))).unwrap(), r#"ALTER ROLE "r" PASSWORD 'v0'"#);
    assert!(password.statement.render(&|_| None).is_err());
}

#[test]
fn validate_names_the_field() {
    let spec = BootstrapSpec::new().role(RoleSpec::login(id("a"))).role(RoleSpec::group(id("a")));
    assert_eq!(spec.validate().unwrap_err().invalid_field(), Some("roles[1].name"));
    let spec = BootstrapSpec::new().database(DatabaseSetup::new(id("d"), id("o")).extension(id("e")).extension(id("e")));
    assert_eq!(spec.validate().unwrap_err().invalid_field(), Some("databases[0].extensions[1]"));
    let role = RoleSpec::group(id("g")).password(RolePassword::plain(SecretString::from("p")).unwrap());
    assert_eq!(BootstrapSpec::new().role(role).validate().unwrap_err().invalid_field(), Some("roles[0].password"));
    assert!(RolePassword::plain(SecretString::from("")).is_err());
}

#[test]
fn passwords_are_redacted_in_debug() {
    let spec = vectice();
    assert!(!format!("{spec:?}").contains("SENTINEL"));
}

#[test]
fn changes_are_read_from_psql_output() {
    let out = "deploy-change: + create role a\nnoise\ndeploy-change: + create database b\n";
    assert_eq!(PsqlScript::changes_in_output(out), ["+ create role a", "+ create database b"]);
}

#[test]
fn owner_gets_no_table_grants() {
    let spec = BootstrapSpec::new().database(DatabaseSetup::new(id("d"), id("o")).read_write(id("o")));
    assert!(!spec.steps().iter().any(|s| s.change.name.contains("read-write")));
}
