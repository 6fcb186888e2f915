//! `postgres_bootstrap` as a real process against the PostgreSQL 15 peer, over
//! TLS with `verify-full`: `--plan` changes nothing, the first run creates the
//! role, the database and its extension, the second run changes nothing.
//!
//! Counted in the server's own statement log (`log_statement = 'all'`, each
//! line prefixed `user@database`): a proxy cannot read a TLS session, the log
//! holds every statement the server ran. Only the lines that name this test's
//! database count, so other tests running at the same time do not.

use anyhow::{Context as _, Result, ensure};
use secrecy::ExposeSecret as _;

use crate::support::examples::example_binary;
use crate::support::{self, PostgresConfig, changing_statements};

/// Run the example; its stdout.
fn bootstrap(pg: &PostgresConfig, name: &str, password: &str, plan: bool) -> Result<String> {
    let url = format!("postgres://{}@{}:{}/postgres", pg.user, pg.host, pg.port);
    let mut args = vec!["--url", &url, "--ca-file", pg.ca_file.to_str().context("CA path")?, "--database", name, "--extension", "unaccent"];
    if plan {
        args.push("--plan");
    }
    let out = std::process::Command::new(example_binary("postgres_bootstrap")?)
        .args(&args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PGPASSWORD", pg.password.expose_secret())
        .env(format!("DEPLOY_DB_PASSWORD_{}", name.to_uppercase()), password)
        .output()?;
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    ensure!(
        out.status.success() || (plan && out.status.code() == Some(2)),
        "postgres_bootstrap {args:?} failed\n--- stdout\n{stdout}--- stderr\n{stderr}"
    );
    for text in [&stdout, &stderr] {
        ensure!(!text.contains(password) && !text.contains(pg.password.expose_secret()), "a password was printed");
    }
    Ok(stdout)
}

#[test]
fn postgres_bootstrap_twice_changes_nothing_the_second_time() -> Result<()> {
    let Some(pg) = support::postgres_peer() else { return Ok(()) };
    let name = format!("boot{}", &support::unique_suffix()[..10]);
    let password = format!("Role-{}-pw", support::unique_suffix());

    let (planned, logged) = pg.logged_during(|| bootstrap(&pg, &name, &password, true))?;
    ensure!(planned.contains("would change:") && planned.contains(&name), "the plan does not name {name}:\n{planned}");
    let changed = changing_statements(&logged, &[&name]);
    ensure!(changed.is_empty(), "--plan changed something: {changed:?}");
    ensure!(logged.contains(&name), "the plan's reads are not in the log: the count would prove nothing");

    let (_, logged) = pg.logged_during(|| bootstrap(&pg, &name, &password, false))?;
    let made = changing_statements(&logged, &[&name]);
    ensure!(made.iter().any(|s| s.contains("CREATE ROLE")), "no CREATE ROLE logged: {made:?}");
    ensure!(made.iter().any(|s| s.contains("CREATE DATABASE")), "no CREATE DATABASE logged: {made:?}");
    ensure!(made.iter().any(|s| s.starts_with("CREATE EXTENSION")), "the extension was not created in {name}: {made:?}");
    ensure!(!logged.contains(&password), "the role's password reached the server in plain text");

    let (again, logged) = pg.logged_during(|| bootstrap(&pg, &name, &password, false))?;
    let changed = changing_statements(&logged, &[&name]);
    ensure!(changed.is_empty(), "the second run changed something: {changed:?}");
    ensure!(again.contains("(no changes"), "the second run reports changes:\n{again}");
    let replanned = bootstrap(&pg, &name, &password, true)?;
    ensure!(replanned.contains("(no changes"), "a plan after the runs is not empty:\n{replanned}");
    Ok(())
}
