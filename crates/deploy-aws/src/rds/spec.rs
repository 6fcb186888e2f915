//! The checks of a [`DatabaseSpec`] RDS and Aurora make before any request,
//! beyond [`DatabaseSpec::validate`].

use deploy_core::database::DatabaseSpec;
use deploy_core::{Error, PasswordRules, Result};

use super::common::{SERVICE, check_regions, validate_network};
use crate::context::AwsContext;

/// The checks of a spec one RDS backend makes before any request: the spec
/// ([`validate_spec`]), its regions, and its engine, which must be Aurora for
/// `AuroraClusters` (`aurora`) and must not be for `RdsInstances`.
pub(super) fn check_backend_spec(ctx: &AwsContext, spec: &DatabaseSpec, aurora: bool) -> Result<()> {
    validate_spec(spec)?;
    check_regions(ctx, spec)?;
    match (aurora, spec.engine.is_aurora()) {
        (true, false) => Err(Error::not_supported(SERVICE, "engine", format!("{} is not an Aurora engine: use RdsInstances", spec.engine))),
        (false, true) => Err(Error::not_supported(SERVICE, "engine", format!("{} is an Aurora engine: use AuroraClusters", spec.engine))),
        _ => Ok(()),
    }
}

/// The checks RDS makes that [`DatabaseSpec::validate`] does not, before any request.
pub(super) fn validate_spec(spec: &DatabaseSpec) -> Result<()> {
    spec.validate()?;
    if !spec.instance_class.starts_with("db.") {
        return Err(Error::invalid(
            "instance_class",
            format!("`{}` is not an RDS instance class", spec.instance_class),
            "RDS instance classes start with `db.` (db.t4g.medium)",
        ));
    }
    let user = spec.admin_username.as_str();
    let (user_rule, max_len) = if spec.engine.is_postgres() {
        ("RDS for PostgreSQL master user names: 1-63 letters, digits and underscores, starting with a letter; not `rdsadmin`", 63)
    } else {
        ("RDS for MySQL master user names: 1-16 letters, digits and underscores, starting with a letter; not `rdsadmin`", 16)
    };
    if !user.starts_with(|c: char| c.is_ascii_alphabetic())
        || user.len() > max_len
        || !user.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || user.eq_ignore_ascii_case("rdsadmin")
    {
        return Err(Error::invalid("admin_username", format!("`{user}` breaks the rule"), user_rule));
    }
    if let Some(password) = &spec.admin_password {
        PasswordRules::rds_master().check(password.expose()).map_err(|e| match e {
            Error::InvalidInput { problem, rule, .. } => Error::InvalidInput { field: "admin_password".into(), problem, rule },
            other => other,
        })?;
    }
    if spec.network.delegated_subnet.is_some() {
        return Err(Error::not_supported(
            SERVICE,
            "network.delegated_subnet",
            "an Azure setting: RDS places instances with network.subnet_group",
        ));
    }
    if spec.network.private_dns_zone.is_some() {
        return Err(Error::not_supported(SERVICE, "network.private_dns_zone", "an Azure setting: RDS names its endpoints itself"));
    }
    validate_network(&spec.network, "network")?;
    if spec.engine.is_aurora() {
        validate_cluster_spec(spec)?;
    } else {
        if !spec.topology.readers.is_empty() {
            return Err(Error::not_supported(
                SERVICE,
                "topology.readers",
                format!(
                    "readers are Aurora cluster instances; engine {} gets a standby in another zone with high_availability",
                    spec.engine
                ),
            ));
        }
        if spec.topology.cross_region_replica.is_some() {
            return Err(Error::not_supported(
                SERVICE,
                "topology.cross_region_replica",
                format!("cross-region replicas are Aurora global databases here; engine {} is an RDS instance", spec.engine),
            ));
        }
        if spec.high_availability && spec.topology.writer_zone.is_some() {
            return Err(Error::invalid(
                "topology.writer_zone",
                "is set with high_availability",
                "RDS places a Multi-AZ instance and its standby itself: leave topology.writer_zone unset",
            ));
        }
    }
    let rule = "RDS tags: at most 50; keys 1-128 characters, not starting with `aws:` or `rds:`; values at most 256 characters";
    if spec.tags.len() > 50 {
        return Err(Error::invalid("tags", format!("has {} tags", spec.tags.len()), rule));
    }
    for (k, v) in &spec.tags {
        if k.is_empty() || k.chars().count() > 128 || k.starts_with("aws:") || k.starts_with("rds:") || v.chars().count() > 256 {
            return Err(Error::invalid(format!("tags.{k}"), "breaks a tag rule", rule));
        }
    }
    Ok(())
}

/// The rules an Aurora spec keeps that the instance rules do not.
pub(super) fn validate_cluster_spec(spec: &DatabaseSpec) -> Result<()> {
    // NAME-replica-1 is the longest name made from it: at most 63 characters.
    if spec.name.as_str().len() > 53 {
        return Err(Error::invalid(
            "name",
            format!("has {} characters", spec.name.as_str().len()),
            "Aurora cluster names: at most 53 characters (instances are named NAME-N and NAME-replica-1)",
        ));
    }
    if spec.high_availability && !spec.topology.readers.iter().any(|r| Some(&r.zone) != spec.topology.writer_zone.as_ref()) {
        return Err(Error::invalid("high_availability", "is on with no reader in another zone", "add topology.readers"));
    }
    if let Some(replica) = &spec.topology.cross_region_replica {
        validate_network(&replica.network, "topology.cross_region_replica.network")?;
        if replica.network.delegated_subnet.is_some() || replica.network.private_dns_zone.is_some() {
            return Err(Error::not_supported(SERVICE, "topology.cross_region_replica.network", "Azure settings: RDS takes a subnet group"));
        }
    }
    Ok(())
}
