//! Database bootstrap: the databases, roles, grants and extensions an
//! application needs inside a PostgreSQL instance, as one [`BootstrapSpec`].
//!
//! The same spec is rendered two ways from one list of steps, each step a
//! check (a SQL boolean: "already done") and a statement:
//!
//! - [`BootstrapSpec::psql_script`]: a psql script in `\gexec` form for the
//!   in-cluster Job of `deploy-k8s` (`psql -X -v ON_ERROR_STOP=1 -f FILE`); it
//!   holds no secret: role passwords reach it as SCRAM verifiers in environment
//!   variables read with `\getenv`;
//! - `direct::Bootstrapper` (feature `postgres`): the checks and statements run
//!   through `tokio-postgres` over TLS, with a report of what changed.
//!
//! Both are idempotent: a second run changes nothing. Every name is quoted as
//! an identifier and every value as a literal, so any name PostgreSQL accepts
//! (63 bytes, unicode, quotes, hyphens, upper case) works and none can inject
//! SQL. A role's password never reaches the server in plaintext: it is sent as
//! a SCRAM-SHA-256 verifier computed on the client (feature `scram`).
//!
//! ```
//! use deploy_core::bootstrap::{BootstrapSpec, DatabaseSetup, RoleSpec};
//! use deploy_core::PgIdentifier;
//! # fn main() -> deploy_core::Result<()> {
//! let id = |s: &str| PgIdentifier::new(s);
//! let spec = BootstrapSpec::new()
//!     .role(RoleSpec::login(id("app")?))
//!     .role(RoleSpec::login(id("app_rw")?))
//!     .database(DatabaseSetup::new(id("app")?, id("app")?).extension(id("unaccent")?).read_write(id("app_rw")?));
//! spec.validate()?;
//! let script = spec.psql_script()?;
//! assert!(script.text().contains(r#"\gexec"#));
//! # Ok(()) }
//! ```

#[cfg(feature = "postgres")]
pub mod direct;
pub mod quote;
#[cfg(feature = "scram")]
pub mod scram;

use std::collections::BTreeSet;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::plan::{Change, FieldChange};
use crate::validate::PgIdentifier;

/// How a role's password is given.
#[derive(Clone)]
#[non_exhaustive]
pub enum RolePassword {
    /// The password itself; only its SCRAM-SHA-256 verifier, computed on the
    /// client, is ever sent (feature `scram`).
    Plain(SecretString),
    /// A SCRAM-SHA-256 verifier computed beforehand
    /// (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`).
    Verifier(SecretString),
}

impl RolePassword {
    /// A plaintext password (never sent: see [`RolePassword::Plain`]).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when it is empty.
    pub fn plain(password: SecretString) -> Result<Self> {
        if password.expose_secret().is_empty() {
            return Err(Error::invalid("password", "is empty", "role passwords are not empty"));
        }
        Ok(RolePassword::Plain(password))
    }

    /// A verifier computed beforehand, checked for the SCRAM-SHA-256 form.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when it is not a SCRAM-SHA-256 verifier (the value is never echoed).
    pub fn verifier(verifier: SecretString) -> Result<Self> {
        if !is_scram_verifier(verifier.expose_secret()) {
            return Err(Error::invalid(
                "password",
                "is not a SCRAM-SHA-256 verifier",
                "verifiers look like SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>",
            ));
        }
        Ok(RolePassword::Verifier(verifier))
    }
}

impl fmt::Debug for RolePassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RolePassword::Plain(_) => f.write_str("Plain(<redacted>)"),
            RolePassword::Verifier(_) => f.write_str("Verifier(<redacted>)"),
        }
    }
}

/// Whether `v` has the shape `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
pub(crate) fn is_scram_verifier(v: &str) -> bool {
    parse_verifier(v).is_some()
}

/// The parts of a SCRAM-SHA-256 verifier: iterations, salt, stored key, server key (base64).
pub(crate) fn parse_verifier(v: &str) -> Option<(u32, &str, &str, &str)> {
    let rest = v.strip_prefix("SCRAM-SHA-256$")?;
    let (params, keys) = rest.split_once('$')?;
    let (iterations, salt) = params.split_once(':')?;
    let (stored, server) = keys.split_once(':')?;
    let b64 = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
    let iterations: u32 = iterations.parse().ok().filter(|n| *n > 0)?;
    (b64(salt) && b64(stored) && b64(server)).then_some((iterations, salt, stored, server))
}

/// A role the application needs.
#[derive(Clone, Debug)]
pub struct RoleSpec {
    /// Its name.
    pub name: PgIdentifier,
    /// Whether it may log in.
    pub login: bool,
    /// Its password; `None` leaves the password as it is.
    pub password: Option<RolePassword>,
}

impl RoleSpec {
    /// A role that may log in, without a password yet (see [`RoleSpec::password`]).
    pub fn login(name: PgIdentifier) -> Self {
        RoleSpec { name, login: true, password: None }
    }

    /// A role that may not log in (a group role).
    pub fn group(name: PgIdentifier) -> Self {
        RoleSpec { name, login: false, password: None }
    }

    setters! {
        /// Set its password.
        pub fn password(Some(password): RolePassword);
    }
}

/// A privilege granted to a role inside one database.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Privilege {
    /// `CONNECT` on the database.
    Connect,
    /// `CREATE` on the database (create schemas).
    Create,
    /// `USAGE` on a schema.
    SchemaUsage(PgIdentifier),
    /// `CREATE` on a schema (create tables).
    SchemaCreate(PgIdentifier),
    /// Read and write every table of a schema: `SELECT, INSERT, UPDATE, DELETE`
    /// on its tables and `USAGE, SELECT, UPDATE` on its sequences, existing ones
    /// and (as default privileges of the database's owner) future ones.
    ReadWrite(PgIdentifier),
    /// Read every table of a schema: `SELECT` on tables and sequences, existing and future.
    ReadOnly(PgIdentifier),
}

/// A privilege for a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Who receives it.
    pub role: PgIdentifier,
    /// What.
    pub privilege: Privilege,
}

/// A database the application needs, with its owner, extensions and grants.
#[derive(Clone, Debug)]
pub struct DatabaseSetup {
    /// Its name.
    pub name: PgIdentifier,
    /// The role that owns it (created by the same spec or existing).
    pub owner: PgIdentifier,
    /// Extensions that must exist in it (`unaccent`).
    pub extensions: Vec<PgIdentifier>,
    /// Privileges granted inside it.
    pub grants: Vec<Grant>,
}

impl DatabaseSetup {
    /// A database `name` owned by `owner`.
    pub fn new(name: PgIdentifier, owner: PgIdentifier) -> Self {
        DatabaseSetup { name, owner, extensions: Vec::new(), grants: Vec::new() }
    }

    setters! {
        /// Require an extension in it.
        pub fn extension(extensions.push(extension): PgIdentifier);
    }

    /// Grant one privilege.
    #[must_use]
    pub fn grant(mut self, role: PgIdentifier, privilege: Privilege) -> Self {
        self.grants.push(Grant { role, privilege });
        self
    }

    /// A dedicated read-write user: `CONNECT`,
    /// `USAGE` on schema `public` and read-write on its tables and sequences.
    #[must_use]
    pub fn read_write(self, role: PgIdentifier) -> Self {
        let public = public_schema();
        self.grant(role.clone(), Privilege::Connect)
            .grant(role.clone(), Privilege::SchemaUsage(public.clone()))
            .grant(role, Privilege::ReadWrite(public))
    }

    /// A read-only user: `CONNECT`, `USAGE` on schema `public`, `SELECT` on its tables and sequences.
    #[must_use]
    pub fn read_only(self, role: PgIdentifier) -> Self {
        let public = public_schema();
        self.grant(role.clone(), Privilege::Connect)
            .grant(role.clone(), Privilege::SchemaUsage(public.clone()))
            .grant(role, Privilege::ReadOnly(public))
    }
}

fn public_schema() -> PgIdentifier {
    PgIdentifier::new("public").expect("`public` is a valid identifier")
}

/// Everything to bootstrap in one PostgreSQL instance.
#[derive(Clone, Debug, Default)]
pub struct BootstrapSpec {
    /// Roles, created first.
    pub roles: Vec<RoleSpec>,
    /// Databases, created after the roles.
    pub databases: Vec<DatabaseSetup>,
}

impl BootstrapSpec {
    /// An empty spec.
    pub fn new() -> Self {
        BootstrapSpec::default()
    }

    setters! {
        /// Add a role.
        pub fn role(roles.push(role): RoleSpec);

        /// Add a database.
        pub fn database(databases.push(database): DatabaseSetup);
    }

    /// Check the rules no type carries: unique role and database names, unique
    /// extensions per database, passwords only on roles that log in.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field (`databases[1].extensions[0]`).
    pub fn validate(&self) -> Result<()> {
        let mut roles = BTreeSet::new();
        for (i, role) in self.roles.iter().enumerate() {
            if !roles.insert(role.name.as_str()) {
                return Err(Error::invalid(format!("roles[{i}].name"), format!("repeats `{}`", role.name), "role names are unique"));
            }
            if role.password.is_some() && !role.login {
                return Err(Error::invalid(
                    format!("roles[{i}].password"),
                    "is set on a role that cannot log in",
                    "passwords are for login roles",
                ));
            }
        }
        let mut databases = BTreeSet::new();
        for (i, db) in self.databases.iter().enumerate() {
            if !databases.insert(db.name.as_str()) {
                return Err(Error::invalid(format!("databases[{i}].name"), format!("repeats `{}`", db.name), "database names are unique"));
            }
            let mut extensions = BTreeSet::new();
            for (j, ext) in db.extensions.iter().enumerate() {
                if !extensions.insert(ext.as_str()) {
                    return Err(Error::invalid(
                        format!("databases[{i}].extensions[{j}]"),
                        format!("repeats `{ext}`"),
                        "extensions are listed once per database",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The steps, in order, that bring an instance to this spec.
    pub(crate) fn steps(&self) -> Vec<Step> {
        let mut steps = Vec::new();
        for (index, role) in self.roles.iter().enumerate() {
            role_steps(&mut steps, index, role);
        }
        for db in &self.databases {
            database_steps(&mut steps, db);
        }
        for db in &self.databases {
            in_database_steps(&mut steps, db);
        }
        steps
    }

    /// The name of the environment variable that carries the SCRAM verifier of
    /// role number `index` (in [`BootstrapSpec::roles`]) to the psql script.
    pub fn verifier_env_name(index: usize) -> String {
        format!("DEPLOY_ROLE_VERIFIER_{index}")
    }

    /// The environment the psql script needs: one SCRAM-SHA-256 verifier per
    /// role with a password, computed here (a plaintext password never leaves
    /// this process), named by [`BootstrapSpec::verifier_env_name`].
    ///
    /// # Errors
    /// None today; kept fallible for verifier sources that can fail.
    #[cfg(feature = "scram")]
    pub fn verifier_env(&self) -> Result<Vec<(String, SecretString)>> {
        let mut env = Vec::new();
        for (index, role) in self.roles.iter().enumerate() {
            if let Some(password) = &role.password {
                env.push((BootstrapSpec::verifier_env_name(index), scram::verifier_of(password)));
            }
        }
        Ok(env)
    }

    /// The psql script that brings an instance to this spec, for
    /// `psql -X -v ON_ERROR_STOP=1 -f FILE` with the connection in `PG*`
    /// environment variables (`PGSSLMODE=verify-full`) and the verifiers of
    /// [`BootstrapSpec::verifier_env`] in the environment. It holds no secret.
    ///
    /// Each step is `SELECT format('<statement>', <quoted names>) WHERE NOT
    /// (<check>) \gexec`; `CREATE DATABASE` is never in a transaction or a `DO`
    /// block; in-database steps run after `\connect` to each database. psql
    /// prints one line `deploy-change: <change>` per change it makes.
    ///
    /// Role passwords are set on every run (`~ update role NAME password`):
    /// the script holds fresh SCRAM verifiers, never the passwords, so it
    /// cannot tell whether a stored one matches. The direct `direct::Bootstrapper`
    /// compares and leaves a matching password alone.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the spec breaks a rule of [`BootstrapSpec::validate`].
    pub fn psql_script(&self) -> Result<PsqlScript> {
        self.validate()?;
        let mut out = String::new();
        out.push_str(SCRIPT_HEADER);
        let mut verifier_env = Vec::new();
        for (index, role) in self.roles.iter().enumerate() {
            if role.password.is_some() {
                let env = BootstrapSpec::verifier_env_name(index);
                let var = verifier_var(index);
                out.push_str(&format!(
                    "\\getenv {var} {env}\n\\if :{{?{var}}}\n\\else\nDO $deploy$ BEGIN RAISE EXCEPTION 'environment variable {env} is not set'; END $deploy$;\n\\endif\n"
                ));
                verifier_env.push(env);
            }
        }
        let mut current_db: Option<PgIdentifier> = None;
        for step in self.steps() {
            if let Some(db) = step.database.as_ref().filter(|db| current_db.as_ref() != Some(*db)) {
                // psql dequotes the argument of \connect like an identifier (double
                // quotes stripped, `""` kept as one), also when it comes from a variable.
                let conninfo = format!("dbname={}", quote::conninfo_value(db.as_str()));
                let conninfo = format!("\"{}\"", conninfo.replace('"', "\"\""));
                out.push_str(&format!(
                    "\n-- database {}\nSELECT {} AS deploy_conninfo \\gset\n\\connect -reuse-previous=on :deploy_conninfo\n\\encoding UTF8\n",
                    sql_comment(db.as_str()),
                    quote::literal(&conninfo)
                ));
                current_db = step.database.clone();
            }
            out.push_str(&step.to_psql());
        }
        Ok(PsqlScript { text: out, verifier_env })
    }
}

const SCRIPT_HEADER: &str = "\
-- Database bootstrap generated by deploy-core; idempotent.
-- Run: psql -X -v ON_ERROR_STOP=1 -f THIS_FILE (connection in PG* variables).
\\set ON_ERROR_STOP on
\\set QUIET on
\\set VERBOSITY terse
\\set SHOW_CONTEXT never
\\pset format unaligned
\\pset tuples_only on
\\encoding UTF8
";

/// A rendered psql script and the environment variables it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PsqlScript {
    text: String,
    verifier_env: Vec<String>,
}

impl PsqlScript {
    /// The script.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The environment variables (verifiers) it reads; each must be set.
    pub fn verifier_env(&self) -> &[String] {
        &self.verifier_env
    }

    /// The changes reported by a run of this script: the `deploy-change: `
    /// lines of psql's output, in order.
    pub fn changes_in_output(output: &str) -> Vec<String> {
        output.lines().filter_map(|l| l.strip_prefix(CHANGE_MARKER)).map(str::to_owned).collect()
    }
}

const CHANGE_MARKER: &str = "deploy-change: ";

fn verifier_var(index: usize) -> String {
    format!("deploy_verifier_{index}")
}

/// A name made safe for a one-line SQL comment.
fn sql_comment(s: &str) -> String {
    s.escape_debug().to_string()
}

/// One argument of a statement template.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    /// Substituted for `%I`.
    Ident(String),
    /// Substituted for `%L`: the SCRAM verifier of role number `n`.
    Verifier(usize),
}

/// A statement as a `format()` template (`%I`, `%L`; fixed SQL keywords only) and its arguments.
#[derive(Clone, Debug)]
pub(crate) struct Statement {
    template: &'static str,
    args: Vec<Arg>,
}

impl Statement {
    fn new(template: &'static str, args: Vec<Arg>) -> Self {
        Statement { template, args }
    }

    /// The statement quoted on the client, with `verifier(n)` for `Arg::Verifier(n)`.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn render(&self, verifier: &dyn Fn(usize) -> Option<String>) -> Result<String> {
        let mut out = String::new();
        let mut args = self.args.iter();
        let mut rest = self.template;
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            let spec = rest[at + 1..].chars().next();
            let arg = args.next();
            match (spec, arg) {
                (Some('I'), Some(Arg::Ident(name))) => out.push_str(&quote::ident(name)),
                (Some('L'), Some(Arg::Verifier(n))) => match verifier(*n) {
                    Some(v) => out.push_str(&quote::literal(&v)),
                    None => {
                        return Err(Error::invalid(
                            format!("roles[{n}].password"),
                            "has no verifier",
                            "a role's password is set from its verifier",
                        ));
                    }
                },
                _ => unreachable!("templates are fixed and match their arguments"),
            }
            rest = &rest[at + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `format('<template>', <args>)` for psql, with verifiers as psql variables.
    fn to_format_call(&self) -> String {
        let mut call = format!("format({}", quote::literal(self.template));
        for arg in &self.args {
            call.push_str(", ");
            match arg {
                Arg::Ident(name) => call.push_str(&quote::literal(name)),
                Arg::Verifier(n) => call.push_str(&format!(":'{}'", verifier_var(*n))),
            }
        }
        call.push(')');
        call
    }
}

/// What a step does to the password of a role: the direct path compares before setting.
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) struct PasswordStep {
    pub(crate) role_index: usize,
    pub(crate) role: PgIdentifier,
}

/// One idempotent step: a check that says it is done, and the statement that does it.
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) struct Step {
    /// The database it runs in; `None`: any (cluster-wide objects).
    pub(crate) database: Option<PgIdentifier>,
    /// The change it makes, for reports.
    pub(crate) change: Change,
    /// A SQL boolean expression, true when the step is done. `None`: always run
    /// (the direct path compares passwords itself).
    pub(crate) check: Option<String>,
    /// What it runs.
    pub(crate) statement: Statement,
    /// Set on password steps.
    pub(crate) password: Option<PasswordStep>,
}

impl Step {
    fn to_psql(&self) -> String {
        let marker = format!("{CHANGE_MARKER}{}", one_line(&self.change));
        let report = format!("format('SELECT %L', {})", quote::literal(&marker));
        let condition = self.check.as_ref().map(|c| format!("\nWHERE NOT ({c})")).unwrap_or_default();
        format!("SELECT {}, {report}{condition} \\gexec\n", self.statement.to_format_call())
    }
}

/// A change on one line (names escaped), for the psql output.
pub(crate) fn one_line(change: &Change) -> String {
    change.to_string().trim().replace('\n', " ").escape_debug().to_string()
}

fn ident(name: &PgIdentifier) -> Arg {
    Arg::Ident(name.as_str().to_owned())
}

fn lit(name: &PgIdentifier) -> String {
    quote::literal(name.as_str())
}

fn role_steps(steps: &mut Vec<Step>, index: usize, role: &RoleSpec) {
    let name = lit(&role.name);
    let template = if role.login { "CREATE ROLE %I LOGIN" } else { "CREATE ROLE %I NOLOGIN" };
    steps.push(Step {
        database: None,
        change: Change::create("role", role.name.as_str()),
        check: Some(format!("EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = {name})")),
        statement: Statement::new(template, vec![ident(&role.name)]),
        password: None,
    });
    steps.push(Step {
        database: None,
        change: Change::update("role", role.name.as_str(), vec![FieldChange::new("login", !role.login, role.login)]),
        check: Some(format!("EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = {name} AND rolcanlogin = {})", role.login)),
        statement: Statement::new(if role.login { "ALTER ROLE %I LOGIN" } else { "ALTER ROLE %I NOLOGIN" }, vec![ident(&role.name)]),
        password: None,
    });
    if role.password.is_some() {
        steps.push(Step {
            database: None,
            change: Change::update("role", role.name.as_str(), vec![FieldChange::new("password", "<other>", "<set>")]),
            check: None,
            statement: Statement::new("ALTER ROLE %I PASSWORD %L", vec![ident(&role.name), Arg::Verifier(index)]),
            password: Some(PasswordStep { role_index: index, role: role.name.clone() }),
        });
    }
}

/// A check that `role` holds `privilege` explicitly in the ACL `acl` (a
/// column, defaulted with `acldefault(kind, owner)`) of the row selected by `from_where`.
fn acl_check(from: &str, acl: &str, kind: char, owner: &str, filter: &str, role: &PgIdentifier, privilege: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM {from} CROSS JOIN LATERAL pg_catalog.aclexplode(COALESCE({acl}, pg_catalog.acldefault('{kind}', {owner}))) a \
         JOIN pg_catalog.pg_roles g ON g.oid = a.grantee WHERE {filter} AND g.rolname = {} AND a.privilege_type = '{privilege}')",
        lit(role)
    )
}

fn database_steps(steps: &mut Vec<Step>, db: &DatabaseSetup) {
    let name = lit(&db.name);
    let owner = lit(&db.owner);
    // CREATE DATABASE .. OWNER and ALTER DATABASE .. OWNER TO need membership in
    // the owner: a superuser has it; a managed instance's admin (rds_superuser,
    // azure_pg_admin) gets it here.
    steps.push(Step {
        database: None,
        change: Change::create("membership", format!("current user in role {}", db.owner)),
        check: Some(format!(
            "EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = {owner} AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'))"
        )),
        statement: Statement::new("GRANT %I TO CURRENT_USER", vec![ident(&db.owner)]),
        password: None,
    });
    steps.push(Step {
        database: None,
        change: Change::create("database", db.name.as_str()),
        check: Some(format!("EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = {name})")),
        statement: Statement::new("CREATE DATABASE %I OWNER %I", vec![ident(&db.name), ident(&db.owner)]),
        password: None,
    });
    steps.push(Step {
        database: None,
        change: Change::update("database", db.name.as_str(), vec![FieldChange::new("owner", "<other>", db.owner.as_str())]),
        check: Some(format!(
            "EXISTS (SELECT 1 FROM pg_catalog.pg_database d JOIN pg_catalog.pg_roles r ON r.oid = d.datdba WHERE d.datname = {name} AND r.rolname = {owner})"
        )),
        statement: Statement::new("ALTER DATABASE %I OWNER TO %I", vec![ident(&db.name), ident(&db.owner)]),
        password: None,
    });
    for grant in &db.grants {
        let (privilege, template) = match &grant.privilege {
            Privilege::Connect => ("CONNECT", "GRANT CONNECT ON DATABASE %I TO %I"),
            Privilege::Create => ("CREATE", "GRANT CREATE ON DATABASE %I TO %I"),
            _ => continue,
        };
        steps.push(Step {
            database: None,
            change: Change::create("grant", format!("{privilege} on database {} to {}", db.name, grant.role)),
            check: Some(acl_check(
                "pg_catalog.pg_database d",
                "d.datacl",
                'd',
                "d.datdba",
                &format!("d.datname = {name}"),
                &grant.role,
                privilege,
            )),
            statement: Statement::new(template, vec![ident(&db.name), ident(&grant.role)]),
            password: None,
        });
    }
}

/// The privileges of a table access level: on tables, on sequences.
fn table_privileges(read_write: bool) -> (&'static [&'static str], &'static [&'static str]) {
    if read_write { (&["SELECT", "INSERT", "UPDATE", "DELETE"], &["USAGE", "SELECT", "UPDATE"]) } else { (&["SELECT"], &["SELECT"]) }
}

fn sql_array(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|p| format!("'{p}'")).collect();
    format!("ARRAY[{}]", quoted.join(", "))
}

fn in_database_steps(steps: &mut Vec<Step>, db: &DatabaseSetup) {
    let in_db = Some(db.name.clone());
    for ext in &db.extensions {
        steps.push(Step {
            database: in_db.clone(),
            change: Change::create("extension", format!("{ext} in database {}", db.name)),
            check: Some(format!("EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = {})", lit(ext))),
            statement: Statement::new("CREATE EXTENSION IF NOT EXISTS %I", vec![ident(ext)]),
            password: None,
        });
    }
    for grant in &db.grants {
        let role = &grant.role;
        match &grant.privilege {
            Privilege::Connect | Privilege::Create => {}
            Privilege::SchemaUsage(schema) | Privilege::SchemaCreate(schema) => {
                let (privilege, template) = match grant.privilege {
                    Privilege::SchemaUsage(_) => ("USAGE", "GRANT USAGE ON SCHEMA %I TO %I"),
                    _ => ("CREATE", "GRANT CREATE ON SCHEMA %I TO %I"),
                };
                let filter = format!("n.nspname = {}", lit(schema));
                steps.push(Step {
                    database: in_db.clone(),
                    change: Change::create("grant", format!("{privilege} on schema {schema} in database {} to {role}", db.name)),
                    check: Some(acl_check("pg_catalog.pg_namespace n", "n.nspacl", 'n', "n.nspowner", &filter, role, privilege)),
                    statement: Statement::new(template, vec![ident(schema), ident(role)]),
                    password: None,
                });
            }
            Privilege::ReadWrite(schema) | Privilege::ReadOnly(schema) => {
                if role == &db.owner {
                    continue; // the owner of the tables holds every privilege on them
                }
                let read_write = matches!(grant.privilege, Privilege::ReadWrite(_));
                table_steps(steps, db, role, schema, read_write);
            }
        }
    }
}

/// Tables or sequences: how to check and grant an access level on them.
struct Objects {
    what: &'static str,
    relkinds: &'static str,
    has_privilege: &'static str,
    defacl_type: char,
    privileges: &'static [&'static str],
    grant_all: &'static str,
    default_privileges: &'static str,
}

fn table_steps(steps: &mut Vec<Step>, db: &DatabaseSetup, role: &PgIdentifier, schema: &PgIdentifier, read_write: bool) {
    let in_db = Some(db.name.clone());
    let access = if read_write { "read-write" } else { "read-only" };
    let (table_privs, sequence_privs) = table_privileges(read_write);
    let objects = [
        Objects {
            what: "tables",
            relkinds: "'r', 'p', 'v', 'm', 'f'",
            has_privilege: "has_table_privilege",
            defacl_type: 'r',
            privileges: table_privs,
            grant_all: if read_write {
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I"
            } else {
                "GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I"
            },
            default_privileges: if read_write {
                "ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I"
            } else {
                "ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT SELECT ON TABLES TO %I"
            },
        },
        Objects {
            what: "sequences",
            relkinds: "'S'",
            has_privilege: "has_sequence_privilege",
            defacl_type: 'S',
            privileges: sequence_privs,
            grant_all: if read_write {
                "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I"
            } else {
                "GRANT SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I"
            },
            default_privileges: if read_write {
                "ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I"
            } else {
                "ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT SELECT ON SEQUENCES TO %I"
            },
        },
    ];
    for Objects { what, relkinds, has_privilege, defacl_type, privileges, grant_all, default_privileges } in objects {
        let check_existing = format!(
            "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = {schema_lit} AND c.relkind IN ({relkinds}) AND NOT COALESCE((SELECT bool_and(pg_catalog.{has_privilege}(r.oid, c.oid, p)) \
             FROM pg_catalog.pg_roles r CROSS JOIN unnest({array}) p WHERE r.rolname = {role_lit}), false))",
            schema_lit = lit(schema),
            role_lit = lit(role),
            array = sql_array(privileges),
        );
        steps.push(Step {
            database: in_db.clone(),
            change: Change::create("grant", format!("{access} on existing {what} of schema {schema} in database {} to {role}", db.name)),
            check: Some(check_existing),
            statement: Statement::new(grant_all, vec![ident(schema), ident(role)]),
            password: None,
        });
        let check_default = format!(
            "(SELECT count(DISTINCT a.privilege_type) FROM pg_catalog.pg_default_acl d \
             JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace JOIN pg_catalog.pg_roles o ON o.oid = d.defaclrole \
             CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) a JOIN pg_catalog.pg_roles g ON g.oid = a.grantee \
             WHERE n.nspname = {schema_lit} AND o.rolname = {owner_lit} AND g.rolname = {role_lit} AND d.defaclobjtype = '{defacl_type}' \
             AND a.privilege_type = ANY ({array})) = {count}",
            schema_lit = lit(schema),
            owner_lit = lit(&db.owner),
            role_lit = lit(role),
            array = sql_array(privileges),
            count = privileges.len(),
        );
        steps.push(Step {
            database: in_db.clone(),
            change: Change::create(
                "grant",
                format!("{access} on future {what} of {} in schema {schema} in database {} to {role}", db.owner, db.name),
            ),
            check: Some(check_default),
            statement: Statement::new(default_privileges, vec![ident(&db.owner), ident(schema), ident(role)]),
            password: None,
        });
    }
}

#[cfg(test)]
mod tests;
