//! DB subnet groups: the subnets an instance or cluster may be placed in
//! (`DatabaseNetwork::subnet_group`), reconciled by name.

use std::collections::BTreeSet;

use deploy_core::plan::{Change, FieldChange, Plan};
use deploy_core::reconcile::{Mode, Reconcile, Reconciled};
use deploy_core::{Error, ResourceName, Result, ResultExt as _};
use serde::{Deserialize, Serialize};

use super::common::op;
use super::instances::RdsInstances;
use crate::error::SdkResultExt;

const KIND: &str = "db subnet group";

/// What a DB subnet group should be: its name, a description and the
/// subnets (in at least two availability zones, as RDS requires).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbSubnetGroupSpec {
    /// The group's name (RDS stores it lower-case).
    pub name: ResourceName,
    /// Its description.
    pub description: String,
    /// The subnet ids (`subnet-...`).
    pub subnet_ids: Vec<String>,
}

/// A DB subnet group as RDS reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbSubnetGroupInfo {
    /// Its name.
    pub name: String,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// Its subnets' ids, sorted.
    pub subnet_ids: Vec<String>,
}

impl DbSubnetGroupSpec {
    /// Check the spec before any request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field: fewer than two subnets, a
    /// subnet id that is not `subnet-` and hex digits, a description over 255
    /// characters.
    pub fn validate(&self) -> Result<()> {
        if self.subnet_ids.len() < 2 {
            return Err(Error::invalid(
                "subnet_ids",
                format!("has {} subnet(s)", self.subnet_ids.len()),
                "a DB subnet group spans at least two subnets (in two availability zones)",
            ));
        }
        for (i, id) in self.subnet_ids.iter().enumerate() {
            let ok = id.strip_prefix("subnet-").is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()));
            if !ok {
                return Err(Error::invalid(format!("subnet_ids[{i}]"), format!("`{id}`"), "a subnet id: `subnet-` and hex digits"));
            }
        }
        if self.description.chars().count() > 255 {
            return Err(Error::invalid("description", "is longer than 255 characters", "at most 255 characters"));
        }
        Ok(())
    }
}

impl RdsInstances {
    /// The DB subnet group `name`.
    ///
    /// # Errors
    /// [`Error::NotFound`]; provider errors.
    pub async fn describe_subnet_group(&self, name: &str) -> Result<DbSubnetGroupInfo> {
        let out =
            self.client.describe_db_subnet_groups().db_subnet_group_name(name).send().await.on(op("DescribeDBSubnetGroups"), KIND, name)?;
        let group = out.db_subnet_groups().first().ok_or_else(|| Error::NotFound { kind: KIND, name: name.to_owned() })?;
        let subnet_ids: BTreeSet<String> = group.subnets().iter().filter_map(|s| s.subnet_identifier().map(str::to_owned)).collect();
        Ok(DbSubnetGroupInfo {
            name: group.db_subnet_group_name().unwrap_or(name).to_owned(),
            vpc_id: group.vpc_id().map(str::to_owned),
            subnet_ids: subnet_ids.into_iter().collect(),
        })
    }

    /// Delete the DB subnet group `name` (holds no data: no confirmation).
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Conflict`] while an instance uses it.
    pub async fn delete_subnet_group(&self, name: &str) -> Result<()> {
        self.client.delete_db_subnet_group().db_subnet_group_name(name).send().await.on(op("DeleteDBSubnetGroup"), KIND, name)?;
        Ok(())
    }
}

/// The group of `spec`: created when missing, its subnets replaced when they
/// differ (`ModifyDBSubnetGroup`), in [`Mode::Apply`]. Callers use the
/// provided [`Reconcile::plan`] / [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] before any request ([`DbSubnetGroupSpec::validate`]); provider errors.
#[async_trait::async_trait]
impl Reconcile<DbSubnetGroupSpec> for RdsInstances {
    type Info = DbSubnetGroupInfo;

    #[tracing::instrument(level = "info", skip_all, fields(backend = super::common::SERVICE, kind = KIND, name = %spec.name, mode = ?mode))]
    async fn reconcile(&self, spec: &DbSubnetGroupSpec, mode: Mode) -> Result<Reconciled<DbSubnetGroupInfo>> {
        spec.validate()?;
        let name = spec.name.as_str();
        let wanted: BTreeSet<&str> = spec.subnet_ids.iter().map(String::as_str).collect();
        let current = self.describe_subnet_group(name).await.found()?;
        let change = match &current {
            None => Change::create(KIND, name),
            Some(c) if c.subnet_ids.iter().map(String::as_str).collect::<BTreeSet<_>>() == wanted => {
                return Ok(Reconciled { plan: Plan::new(), info: current });
            }
            Some(c) => Change::update(KIND, name, vec![FieldChange::new("subnet_ids", c.subnet_ids.join(","), spec.subnet_ids.join(","))]),
        };
        let plan = Plan::from_iter([change]);
        if !mode.is_apply() {
            return Ok(Reconciled { plan, info: current });
        }
        // One write either way: the group with these subnets and this description.
        let (description, subnets) = (&spec.description, Some(spec.subnet_ids.clone()));
        if current.is_none() {
            let create = self.client.create_db_subnet_group().db_subnet_group_name(name).db_subnet_group_description(description);
            create.set_subnet_ids(subnets).send().await.on(op("CreateDBSubnetGroup"), KIND, name)?;
        } else {
            let modify = self.client.modify_db_subnet_group().db_subnet_group_name(name).db_subnet_group_description(description);
            modify.set_subnet_ids(subnets).send().await.on(op("ModifyDBSubnetGroup"), KIND, name)?;
        }
        Ok(Reconciled { plan, info: Some(self.describe_subnet_group(name).await?) })
    }
}
