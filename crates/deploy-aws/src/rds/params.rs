//! The parameter groups of RDS instances and Aurora clusters: their names and
//! families, the parameters a spec asks for (TLS, extensions), and the calls
//! that read and write them — one path for both kinds of group ([`GroupKind`]),
//! which differ only in the operations' names.

use std::collections::BTreeMap;

use aws_sdk_rds::Client;
use aws_sdk_rds::types::{ApplyMethod, Parameter};
use deploy_core::database::{DatabaseSpec, Engine};
use deploy_core::{PgIdentifier, Result};

use super::common::op;
use crate::error::SdkResultExt;

/// An instance's DB parameter group or an Aurora cluster's DB cluster parameter group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum GroupKind {
    /// `DBParameterGroup` (RDS instances).
    Instance,
    /// `DBClusterParameterGroup` (Aurora clusters).
    Cluster,
}

/// Page through `$describe` of one group, collecting the user-set parameters;
/// `None` when the group does not exist.
macro_rules! read_group {
    ($client:expr, $group:expr, $describe:ident, $name:ident, $op:literal) => {{
        let describe = op($op);
        let mut parameters = BTreeMap::new();
        let mut pages = $client.$describe().$name($group).source("user").into_paginator().send();
        while let Some(page) = pages.next().await {
            let Some(page) = page.found(describe, "parameter group", $group)? else { return Ok(None) };
            for p in page.parameters() {
                if let (Some(name), Some(value)) = (p.parameter_name(), p.parameter_value()) {
                    parameters.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        Ok(Some(parameters))
    }};
}

/// Create one group of `$family`, through `$create` (the builders of the two
/// kinds of group are different types).
macro_rules! create_group {
    ($client:expr, $group:expr, $family:expr, $description:expr, $create:ident, $name:ident, $op:literal) => {
        $client.$create().$name($group).db_parameter_group_family($family).description($description).send().await.on(
            op($op),
            "parameter group",
            $group,
        )?
    };
}

/// Set `$parameters` in one group, through `$modify`.
macro_rules! modify_group {
    ($client:expr, $group:expr, $parameters:expr, $modify:ident, $name:ident, $op:literal) => {
        $client.$modify().$name($group).set_parameters(Some($parameters)).send().await.on(op($op), "parameter group", $group)?
    };
}

/// The user-set parameters of a parameter group; `None` when it does not exist.
pub(super) async fn read_parameters(client: &Client, kind: GroupKind, group: &str) -> Result<Option<BTreeMap<String, String>>> {
    match kind {
        GroupKind::Instance => read_group!(client, group, describe_db_parameters, db_parameter_group_name, "DescribeDBParameters"),
        GroupKind::Cluster => {
            read_group!(client, group, describe_db_cluster_parameters, db_cluster_parameter_group_name, "DescribeDBClusterParameters")
        }
    }
}

/// Create the parameter group of `spec` if missing and set the parameters
/// where they differ; answers its name.
pub(super) async fn ensure_parameter_group(client: &Client, kind: GroupKind, spec: &DatabaseSpec) -> Result<String> {
    let group = parameter_group_name(spec);
    let family = family(spec.engine, &spec.engine_version);
    let current = match read_parameters(client, kind, &group).await? {
        Some(current) => current,
        None => {
            match kind {
                GroupKind::Instance => {
                    let description = format!("deploy: TLS and extensions of {}", spec.name);
                    create_group!(
                        client,
                        &group,
                        family,
                        description,
                        create_db_parameter_group,
                        db_parameter_group_name,
                        "CreateDBParameterGroup"
                    );
                }
                GroupKind::Cluster => {
                    let description = format!("deploy: TLS and extensions of cluster {}", spec.name);
                    create_group!(
                        client,
                        &group,
                        family,
                        description,
                        create_db_cluster_parameter_group,
                        db_cluster_parameter_group_name,
                        "CreateDBClusterParameterGroup"
                    );
                }
            }
            BTreeMap::new()
        }
    };
    let changed = changed_parameters(spec, &current);
    if !changed.is_empty() {
        match kind {
            GroupKind::Instance => {
                modify_group!(client, &group, changed, modify_db_parameter_group, db_parameter_group_name, "ModifyDBParameterGroup");
            }
            GroupKind::Cluster => {
                modify_group!(
                    client,
                    &group,
                    changed,
                    modify_db_cluster_parameter_group,
                    db_cluster_parameter_group_name,
                    "ModifyDBClusterParameterGroup"
                );
            }
        }
    }
    Ok(group)
}

/// The parameter group made for `spec` (a DB cluster parameter group for the
/// Aurora engines): `NAME-FAMILY` with the family's dots as hyphens
/// (`prod-db-postgres15`, `prod-db-mysql8-0`, `prod-db-aurora-postgresql15`).
pub fn parameter_group_name(spec: &DatabaseSpec) -> String {
    format!("{}-{}", spec.name, family(spec.engine, &spec.engine_version).replace('.', "-"))
}

/// The engine's name in the RDS API.
pub fn engine_name(engine: Engine) -> &'static str {
    match engine {
        Engine::Mysql => "mysql",
        Engine::AuroraPostgresql => "aurora-postgresql",
        Engine::AuroraMysql => "aurora-mysql",
        _ => "postgres",
    }
}

pub(super) fn engine_of(name: &str) -> Option<Engine> {
    Some(match name {
        "postgres" => Engine::Postgres,
        "mysql" => Engine::Mysql,
        "aurora-postgresql" => Engine::AuroraPostgresql,
        "aurora-mysql" => Engine::AuroraMysql,
        _ => return None,
    })
}

/// The parameter group family of an engine version: `postgres15`, `mysql8.0`,
/// `aurora-postgresql15`, `aurora-mysql8.0`.
pub fn family(engine: Engine, version: &str) -> String {
    format!("{}{}", engine_name(engine), engine.major_version(version))
}

const FORCE_SSL: &str = "rds.force_ssl";
const ALLOWED_EXTENSIONS: &str = "rds.allowed_extensions";
const REQUIRE_SECURE_TRANSPORT: &str = "require_secure_transport";

/// Whether the parameters say TLS is required, for `engine`.
pub(super) fn tls_of(engine: Engine, parameters: &BTreeMap<String, String>) -> bool {
    if engine.is_postgres() {
        parameters.get(FORCE_SSL).is_some_and(|v| v == "1")
    } else {
        parameters.get(REQUIRE_SECURE_TRANSPORT).is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("on"))
    }
}

/// The extensions the parameters allow (none for MySQL engines).
pub(super) fn extensions_of(parameters: &BTreeMap<String, String>) -> Result<Vec<PgIdentifier>> {
    Ok(match parameters.get(ALLOWED_EXTENSIONS).map(String::as_str) {
        None | Some("*" | "") => Vec::new(),
        Some(list) => {
            list.split(',').map(str::trim).filter(|e| !e.is_empty() && *e != "*").map(PgIdentifier::new).collect::<Result<_>>()?
        }
    })
}

/// The parameters `spec` asks for, in the form RDS holds them: PostgreSQL
/// engines `rds.force_ssl` and `rds.allowed_extensions`, MySQL engines
/// `require_secure_transport` (`ON`/`OFF`).
fn wanted_parameters(spec: &DatabaseSpec) -> BTreeMap<&'static str, String> {
    if !spec.engine.is_postgres() {
        return BTreeMap::from([(REQUIRE_SECURE_TRANSPORT, if spec.require_tls { "ON" } else { "OFF" }.to_owned())]);
    }
    let extensions = if spec.allowed_extensions.is_empty() {
        "*".to_owned()
    } else {
        spec.allowed_extensions.iter().map(|e| e.as_str().to_ascii_lowercase()).collect::<Vec<_>>().join(",")
    };
    BTreeMap::from([(FORCE_SSL, if spec.require_tls { "1" } else { "0" }.to_owned()), (ALLOWED_EXTENSIONS, extensions)])
}

/// The parameters of `spec` whose values differ from `current`, set immediately.
pub(super) fn changed_parameters(spec: &DatabaseSpec, current: &BTreeMap<String, String>) -> Vec<Parameter> {
    wanted_parameters(spec)
        .into_iter()
        .filter(|(name, value)| current.get(*name) != Some(value))
        .map(|(name, value)| Parameter::builder().parameter_name(name).parameter_value(value).apply_method(ApplyMethod::Immediate).build())
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use deploy_core::ResourceName;

    /// A PostgreSQL 15 spec allowing `unaccent` (the RDS tests' too).
    pub(in crate::rds) fn spec() -> DatabaseSpec {
        let mut spec =
            DatabaseSpec::postgres(ResourceName::new("prod-db").unwrap(), "15", "db.t4g.medium", PgIdentifier::new("dbadmin").unwrap());
        spec.allowed_extensions = vec![PgIdentifier::new("unaccent").unwrap()];
        spec
    }

    #[test]
    fn parameters_map_tls_and_extensions() {
        let mut s = spec();
        assert_eq!(parameter_group_name(&s), "prod-db-postgres15");
        let p = wanted_parameters(&s);
        assert_eq!((p[FORCE_SSL].as_str(), p[ALLOWED_EXTENSIONS].as_str()), ("1", "unaccent"));
        s.require_tls = false;
        s.allowed_extensions.clear();
        s.engine_version = "16.3".into();
        let p = wanted_parameters(&s);
        assert_eq!((p[FORCE_SSL].as_str(), p[ALLOWED_EXTENSIONS].as_str()), ("0", "*"));
        assert_eq!(parameter_group_name(&s), "prod-db-postgres16");
    }
}
