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
use crate::support::{self, PostgresConfig};

/// The statements in `log` that change something and concern `name` (in
/// their text, or in the line's `user@database` prefix). The bootstrap's reads
/// run as prepared statements (`execute <unnamed>: SELECT ...`); its changes
/// as simple-protocol `statement:` lines.
fn changes_in(log: &str, name: &str) -> Vec<String> {
    const CHANGING: [&str; 7] = ["CREATE", "ALTER", "GRANT", "REVOKE", "DROP", "COMMENT", "REASSIGN"];
    log.lines()
        .filter(|line| line.contains(name))
        .filter_map(|line| line.split_once("statement: ").map(|(_, sql)| sql.trim_start()))
        .filter(|sql| sql.split_whitespace().next().is_some_and(|word| CHANGING.contains(&word.to_ascii_uppercase().as_str())))
        .map(str::to_owned)
        .collect()
}

/// Run the example; its stdout, and what the server logged meanwhile.
fn bootstrap(pg: &PostgresConfig, name: &str, password: &str, plan: bool) -> Result<(String, String)> {
    let before = std::fs::metadata(&pg.log_file)?.len();
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
    ensure!(out.status.success(), "postgres_bootstrap {args:?} failed\n--- stdout\n{stdout}--- stderr\n{stderr}");
    for text in [&stdout, &stderr] {
        ensure!(!text.contains(password) && !text.contains(pg.password.expose_secret()), "a password was printed");
    }
    // The server writes its log asynchronously: wait until it is quiet.
    let mut len = std::fs::metadata(&pg.log_file)?.len();
    for _ in 0..20 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let now = std::fs::metadata(&pg.log_file)?.len();
        if now == len {
            break;
        }
        len = now;
    }
    let log = std::fs::read(&pg.log_file)?;
    let logged = String::from_utf8_lossy(&log[usize::try_from(before)?..]).into_owned();
    Ok((stdout, logged))
}

#[test]
fn postgres_bootstrap_twice_changes_nothing_the_second_time() -> Result<()> {
    let Some(pg) = support::postgres_peer() else { return Ok(()) };
    let name = format!("boot{}", &support::unique_suffix()[..10]);
    let password = format!("Role-{}-pw", support::unique_suffix());

    let (planned, logged) = bootstrap(&pg, &name, &password, true)?;
    ensure!(planned.contains("would change:") && planned.contains(&name), "the plan does not name {name}:\n{planned}");
    ensure!(changes_in(&logged, &name).is_empty(), "--plan changed something: {:?}", changes_in(&logged, &name));
    ensure!(logged.contains(&name), "the plan's reads are not in the log: the count would prove nothing");

    let (_, logged) = bootstrap(&pg, &name, &password, false)?;
    let made = changes_in(&logged, &name);
    ensure!(made.iter().any(|s| s.contains("CREATE ROLE")), "no CREATE ROLE logged: {made:?}");
    ensure!(made.iter().any(|s| s.contains("CREATE DATABASE")), "no CREATE DATABASE logged: {made:?}");
    ensure!(made.iter().any(|s| s.starts_with("CREATE EXTENSION")), "the extension was not created in {name}: {made:?}");
    ensure!(!logged.contains(&password), "the role's password reached the server in plain text");

    let (again, logged) = bootstrap(&pg, &name, &password, false)?;
    ensure!(changes_in(&logged, &name).is_empty(), "the second run changed something: {:?}", changes_in(&logged, &name));
    ensure!(again.contains("(no changes"), "the second run reports changes:\n{again}");
    let (replanned, _) = bootstrap(&pg, &name, &password, true)?;
    ensure!(replanned.contains("(no changes"), "a plan after the runs is not empty:\n{replanned}");
    Ok(())
}
