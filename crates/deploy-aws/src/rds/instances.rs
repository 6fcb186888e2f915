//! [`RdsInstances`]: the [`Database`] on RDS for PostgreSQL and MySQL
//! instances (see the [module docs](super)).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_rds::operation::modify_db_instance::builders::ModifyDBInstanceFluentBuilder;
use aws_sdk_rds::types::{DbInstance, DbSnapshot};
use deploy_core::database::{
    Database, DatabaseInfo, DatabaseNetwork, DatabaseSpec, DatabaseStatus, Endpoint, Engine, FinalSnapshot, RestorePoint, RestoreTarget,
    SnapshotInfo, SnapshotStatus, Topology,
};
use deploy_core::plan::{Change, FieldChange, Plan};
use deploy_core::waiter::Poll;
use deploy_core::{Confirm, Error, ResourceName, Result};
use jiff::{SignedDuration, Timestamp};

use crate::convert::{datetime, timestamp};
use crate::error::{Op, SdkResultExt, map_sdk_error, missing};

use super::common::{
    SERVICE, check_admin_password, check_restore, create_error, final_snapshot_args, merge, op, placement, rds_backend, rds_error,
    rds_tags, snapshot_of, sorted, status_of, sync_tags, updated_fields, wait_gone,
};
use super::params::{GroupKind, engine_name, engine_of, extensions_of, family, parameter_group_name, tls_of};
use super::spec::check_backend_spec;

/// An instance as RDS reports it, with what [`DatabaseInfo`] does not carry.
#[derive(Clone, Debug)]
pub(super) struct Instance {
    info: DatabaseInfo,
    arn: String,
    parameter_group: Option<String>,
    created: Option<Timestamp>,
    /// A modification is waiting to be applied.
    pending: bool,
}

fn has_pending(db: &DbInstance) -> bool {
    db.pending_modified_values().is_some_and(|p| {
        p.db_instance_class().is_some()
            || p.allocated_storage().is_some()
            || p.backup_retention_period().is_some()
            || p.multi_az().is_some()
            || p.engine_version().is_some()
            || p.storage_type().is_some()
            || p.db_subnet_group_name().is_some()
            || p.iops().is_some()
            || p.storage_throughput().is_some()
            || p.master_user_password().is_some()
    })
}

rds_backend!(
    /// The [`Database`] on RDS for PostgreSQL and MySQL instances. See the
    /// [module docs](super).
    RdsInstances, "RDS"
);

impl RdsInstances {
    /// The user-set parameters of a DB parameter group; `None` when it does not exist.
    async fn read_parameters(&self, group: &str) -> Result<Option<BTreeMap<String, String>>> {
        super::params::read_parameters(&self.client, GroupKind::Instance, group).await
    }

    /// The instance, or `None` when it does not exist.
    pub(super) async fn find(&self, name: &str) -> Result<Option<Instance>> {
        let describe = op("DescribeDBInstances");
        let Some(out) = self.client.describe_db_instances().db_instance_identifier(name).send().await.found(describe, "database", name)?
        else {
            return Ok(None);
        };
        let Some(db) = out.db_instances().first() else { return Ok(None) };
        self.instance(db).await.map(Some)
    }

    async fn instance(&self, db: &DbInstance) -> Result<Instance> {
        let describe = op("DescribeDBInstances");
        let id = db.db_instance_identifier().ok_or_else(|| missing(describe, "instance identifier"))?;
        let name = ResourceName::new(id)?;
        let parameter_group = db.db_parameter_groups().first().and_then(|g| g.db_parameter_group_name()).map(str::to_owned);
        let parameters = match &parameter_group {
            Some(group) => self.read_parameters(group).await?.unwrap_or_default(),
            None => BTreeMap::new(),
        };
        let engine = match db.engine().map(|e| (e, engine_of(e))) {
            Some((_, Some(engine))) if !engine.is_aurora() => engine,
            Some((raw, _)) => {
                let what =
                    if raw.starts_with("aurora") { format!("is an instance of an Aurora cluster ({raw})") } else { format!("runs {raw}") };
                return Err(Error::not_supported(SERVICE, "engine", format!("`{id}` {what}: not an RDS instance deploy manages")));
            }
            None => Engine::Postgres,
        };
        let allowed_extensions = extensions_of(&parameters)?;
        let allocated = db.allocated_storage().and_then(|s| u32::try_from(s).ok()).unwrap_or(0);
        // RDS turns autoscaling off with a ceiling equal to the allocated storage.
        let max_storage = db.max_allocated_storage().and_then(|s| u32::try_from(s).ok()).filter(|m| *m > allocated);
        let info = DatabaseInfo {
            name,
            status: status_of(db.db_instance_status().unwrap_or("unknown")),
            engine,
            engine_version: db.engine_version().unwrap_or_default().to_owned(),
            instance_class: db.db_instance_class().unwrap_or_default().to_owned(),
            endpoint: db.endpoint().and_then(|e| Some(Endpoint { host: e.address()?.to_owned(), port: u16::try_from(e.port()?).ok()? })),
            require_tls: tls_of(engine, &parameters),
            allowed_extensions,
            deletion_protection: db.deletion_protection().unwrap_or(false),
            storage_gib: allocated,
            max_storage_gib: max_storage,
            backup_retention_days: db.backup_retention_period().and_then(|d| u32::try_from(d).ok()).unwrap_or(0),
            encrypted: db.storage_encrypted().unwrap_or(false),
            encryption_key: db.kms_key_id().map(str::to_owned),
            high_availability: db.multi_az().unwrap_or(false),
            network: DatabaseNetwork {
                subnet_group: db.db_subnet_group().and_then(|g| g.db_subnet_group_name()).map(str::to_owned),
                security_groups: db.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id().map(str::to_owned)).collect(),
                delegated_subnet: None,
                private_dns_zone: None,
                publicly_accessible: db.publicly_accessible().unwrap_or(false),
            },
            topology: Topology { writer_zone: db.availability_zone().map(str::to_owned), ..Topology::default() },
            earliest_restorable_time: None,
            latest_restorable_time: db.latest_restorable_time().and_then(timestamp),
            tags: db.tag_list().iter().filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned()))).collect(),
        };
        Ok(Instance {
            info,
            arn: db.db_instance_arn().ok_or_else(|| missing(describe, "instance ARN"))?.to_owned(),
            parameter_group,
            created: db.instance_create_time().and_then(timestamp),
            pending: has_pending(db),
        })
    }

    async fn get(&self, name: &ResourceName) -> Result<Instance> {
        self.find(name.as_str()).await?.ok_or_else(|| Error::not_found("database", name.as_str()))
    }

    /// The earliest restorable time as RDS's automated backups report it.
    async fn earliest_restorable_time(&self, name: &ResourceName) -> Result<Option<Timestamp>> {
        let out = self.client.describe_db_instance_automated_backups().db_instance_identifier(name.as_str()).send().await.on(
            op("DescribeDBInstanceAutomatedBackups"),
            "database",
            name.as_str(),
        )?;
        Ok(out.db_instance_automated_backups().iter().filter_map(|b| b.restore_window()?.earliest_time()).filter_map(timestamp).min())
    }

    /// Wait until the instance is available with no pending modification and `done` holds.
    async fn wait_ready(&self, name: &ResourceName, what: &str, done: impl Fn(&DatabaseInfo) -> bool) -> Result<DatabaseInfo> {
        self.waiter
            .wait(&format!("database {name} to be {what}"), || async {
                let instance = self.get(name).await?;
                let info = instance.info;
                Ok(match &info.status {
                    DatabaseStatus::Failed => Poll::Failed(format!("failed ({name})")),
                    DatabaseStatus::Available if !instance.pending && done(&info) => Poll::Ready(info),
                    DatabaseStatus::Available if instance.pending => Poll::Pending("available, modifications pending".to_owned()),
                    status => Poll::Pending(status.to_string()),
                })
            })
            .await
    }

    /// The plan of an existing instance: the neutral diff, the AWS-only
    /// placement fields, and where the parameter group must change.
    fn plan_existing(&self, instance: &Instance, spec: &DatabaseSpec) -> Plan {
        let mut info = instance.info.clone();
        // `15` asks for any 15.x; RDS reports the minor version it runs.
        let spec_parts: Vec<&str> = spec.engine_version.split('.').collect();
        if info.engine_version.split('.').take(spec_parts.len()).eq(spec_parts.iter().copied()) {
            info.engine_version = spec.engine_version.clone();
        }
        // Without a key in the spec, whichever key RDS chose is fine; with one,
        // RDS reports its ARN for the id or ARN the spec gave.
        info.encryption_key = match (&spec.encryption_key, &info.encryption_key) {
            (None, _) => None,
            (Some(wanted), Some(actual)) if actual == wanted || actual.ends_with(&format!("key/{wanted}")) => Some(wanted.clone()),
            (_, actual) => actual.clone(),
        };
        // Without a zone in the spec, whichever zone RDS chose is fine.
        if spec.topology.writer_zone.is_none() {
            info.topology.writer_zone = None;
        }
        let mut plan = info.diff(spec);
        let mut updates = Vec::new();
        let mut drift = Vec::new();
        let wanted_sgs: BTreeSet<&String> = spec.network.security_groups.iter().collect();
        let actual_sgs: BTreeSet<&String> = info.network.security_groups.iter().collect();
        if !wanted_sgs.is_empty() && wanted_sgs != actual_sgs {
            updates.push(FieldChange::new("network.security_groups", format!("{actual_sgs:?}"), format!("{wanted_sgs:?}")));
        }
        if info.network.publicly_accessible != spec.network.publicly_accessible {
            updates.push(FieldChange::new(
                "network.publicly_accessible",
                info.network.publicly_accessible,
                spec.network.publicly_accessible,
            ));
        }
        if let Some(wanted) = &spec.network.subnet_group
            && info.network.subnet_group.as_ref() != Some(wanted)
        {
            drift.push(FieldChange::new("network.subnet_group", info.network.subnet_group.as_deref().unwrap_or("-"), wanted));
        }
        if !info.encrypted {
            drift.push(FieldChange::new("encrypted", false, true));
        }
        let parameters_differ =
            info.require_tls != spec.require_tls || sorted(&info.allowed_extensions) != sorted(&spec.allowed_extensions);
        let group = parameter_group_name(spec);
        if (parameters_differ || spec.engine.major_version(&info.engine_version) != spec.engine.major_version(&spec.engine_version))
            && instance.parameter_group.as_deref() != Some(group.as_str())
        {
            updates.push(FieldChange::new("parameter_group", instance.parameter_group.as_deref().unwrap_or("-"), &group));
        }
        merge(&mut plan, spec, updates, drift);
        plan
    }

    /// Create the parameter group if missing and set the two parameters where they differ.
    async fn ensure_parameter_group(&self, spec: &DatabaseSpec) -> Result<String> {
        super::params::ensure_parameter_group(&self.client, GroupKind::Instance, spec).await
    }

    /// Delete a parameter group (once no instance uses it).
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Conflict`] while an instance uses it.
    pub async fn delete_parameter_group(&self, group: &str) -> Result<()> {
        self.client.delete_db_parameter_group().db_parameter_group_name(group).send().await.on(
            op("DeleteDBParameterGroup"),
            "parameter group",
            group,
        )?;
        Ok(())
    }

    async fn create(&self, spec: &DatabaseSpec) -> Result<()> {
        let Some(password) = &spec.admin_password else {
            return Err(Error::invalid("admin_password", "is missing", "creating an instance needs an admin password"));
        };
        let group = self.ensure_parameter_group(spec).await?;
        let name = spec.name.as_str();
        self.client
            .create_db_instance()
            .db_instance_identifier(name)
            .engine(engine_name(spec.engine))
            .engine_version(&spec.engine_version)
            .set_availability_zone(spec.topology.writer_zone.clone())
            .db_instance_class(&spec.instance_class)
            .allocated_storage(i32::try_from(spec.storage_gib).unwrap_or(i32::MAX))
            .set_max_allocated_storage(spec.max_storage_gib.and_then(|m| i32::try_from(m).ok()))
            .storage_encrypted(true)
            .set_kms_key_id(spec.encryption_key.clone())
            .deletion_protection(spec.deletion_protection)
            .backup_retention_period(i32::try_from(spec.backup_retention_days).unwrap_or(35))
            .set_db_subnet_group_name(spec.network.subnet_group.clone())
            .set_vpc_security_group_ids((!spec.network.security_groups.is_empty()).then(|| spec.network.security_groups.clone()))
            .publicly_accessible(spec.network.publicly_accessible)
            .multi_az(spec.high_availability)
            .master_username(spec.admin_username.as_str())
            .master_user_password(password.expose())
            .db_parameter_group_name(group)
            .copy_tags_to_snapshot(true)
            .set_tags(rds_tags(&spec.tags))
            .send()
            .await
            .map_err(|e| create_error(e, op("CreateDBInstance"), spec, "DBParameterGroup", name))?;
        Ok(())
    }

    async fn update(&self, instance: &Instance, spec: &DatabaseSpec, plan: &Plan) -> Result<()> {
        let fields = updated_fields(plan);
        if fields.is_empty() {
            return Ok(());
        }
        let name = spec.name.as_str();
        let needs_group = ["require_tls", "allowed_extensions", "parameter_group", "engine_version"].iter().any(|f| fields.contains(f));
        let group = if needs_group { Some(self.ensure_parameter_group(spec).await?) } else { None };
        let switch_group = group.filter(|g| instance.parameter_group.as_deref() != Some(g.as_str()));
        let has = |f: &str| fields.contains(f);
        let major_upgrade = has("engine_version")
            && spec.engine.major_version(&instance.info.engine_version) != spec.engine.major_version(&spec.engine_version);
        let modify = has("engine_version")
            || has("instance_class")
            || has("storage_gib")
            || has("max_storage_gib")
            || has("deletion_protection")
            || has("backup_retention_days")
            || has("high_availability")
            || has("network.security_groups")
            || has("network.publicly_accessible")
            || switch_group.is_some();
        if modify {
            let storage = spec.storage_gib.max(instance.info.storage_gib);
            self.client
                .modify_db_instance()
                .db_instance_identifier(name)
                .apply_immediately(true)
                .set_engine_version(has("engine_version").then(|| spec.engine_version.clone()))
                .set_allow_major_version_upgrade(major_upgrade.then_some(true))
                .set_db_instance_class(has("instance_class").then(|| spec.instance_class.clone()))
                .set_allocated_storage((has("storage_gib")).then(|| i32::try_from(storage).unwrap_or(i32::MAX)))
                // No ceiling: a ceiling equal to the storage turns autoscaling off.
                .set_max_allocated_storage(
                    has("max_storage_gib").then(|| i32::try_from(spec.max_storage_gib.unwrap_or(storage)).unwrap_or(i32::MAX)),
                )
                .set_deletion_protection(has("deletion_protection").then_some(spec.deletion_protection))
                .set_backup_retention_period(has("backup_retention_days").then(|| i32::try_from(spec.backup_retention_days).unwrap_or(35)))
                .set_multi_az(has("high_availability").then_some(spec.high_availability))
                .set_vpc_security_group_ids(has("network.security_groups").then(|| spec.network.security_groups.clone()))
                .set_publicly_accessible(has("network.publicly_accessible").then_some(spec.network.publicly_accessible))
                .set_db_parameter_group_name(switch_group)
                .send()
                .await
                .map_err(|e| rds_error(e, op("ModifyDBInstance"), ("database", name), &[("DBParameterGroup", "parameter group", name)]))?;
        }
        if has("tags") {
            sync_tags(&self.client, &instance.arn, name, &instance.info.tags, &spec.tags).await?;
        }
        Ok(())
    }

    /// Where a restored instance goes: the target's network, else the source's.
    async fn wait_snapshot(&self, snapshot: &ResourceName) -> Result<SnapshotInfo> {
        self.waiter
            .wait(&format!("snapshot {snapshot} to be available"), || async {
                let info = self.snapshot(snapshot).await?;
                Ok(match &info.status {
                    SnapshotStatus::Available => Poll::Ready(info),
                    SnapshotStatus::Other(s) if s == "failed" => Poll::Failed(s.clone()),
                    other => Poll::Pending(format!("{other:?}")),
                })
            })
            .await
    }

    async fn snapshot(&self, snapshot: &ResourceName) -> Result<SnapshotInfo> {
        let describe = op("DescribeDBSnapshots");
        let out = self.client.describe_db_snapshots().db_snapshot_identifier(snapshot.as_str()).send().await.on(
            describe,
            "snapshot",
            snapshot.as_str(),
        )?;
        let s = out.db_snapshots().first().ok_or_else(|| Error::not_found("snapshot", snapshot.as_str()))?;
        snapshot_info(s, describe)
    }
}

fn snapshot_info(s: &aws_sdk_rds::types::DbSnapshot, describe: Op) -> Result<SnapshotInfo> {
    let database = s.db_instance_identifier().ok_or_else(|| missing(describe, "instance identifier"))?;
    snapshot_of(s.db_snapshot_identifier(), database, s.status(), s.snapshot_create_time(), describe)
}

impl RdsInstances {
    async fn reconcile_instance(&self, spec: &DatabaseSpec, mode: deploy_core::Mode) -> Result<Plan> {
        let Some(mut instance) = self.find(spec.name.as_str()).await? else {
            if mode.is_apply() {
                self.create(spec).await?;
                self.wait_ready(&spec.name, "available", |_| true).await?;
            }
            return Ok(Plan::from_iter([Change::create("database", spec.name.as_str())]));
        };
        if mode.is_apply() {
            if instance.info.status == DatabaseStatus::Failed {
                return Err(Error::conflict("database", spec.name.as_str(), "is in a failed state"));
            }
            if instance.info.status != DatabaseStatus::Available || instance.pending {
                self.wait_ready(&spec.name, "available", |_| true).await?;
                instance = self.get(&spec.name).await?;
            }
        }
        let plan = self.plan_existing(&instance, spec);
        if mode.is_apply() && plan.has_mutations() {
            self.update(&instance, spec, &plan).await?;
            let protection = spec.deletion_protection;
            self.wait_ready(&spec.name, "modified", |info| info.deletion_protection == protection).await?;
        }
        Ok(plan)
    }

    /// The info of `instance` (named `name`) with its restore window.
    pub(super) async fn describe_found(&self, instance: Instance, name: &ResourceName) -> Result<DatabaseInfo> {
        let mut info = instance.info;
        info.earliest_restorable_time = self.earliest_restorable_time(name).await?;
        Ok(info)
    }

    async fn create_instance_snapshot(&self, database: &ResourceName, snapshot: &ResourceName) -> Result<SnapshotInfo> {
        self.client
            .create_db_snapshot()
            .db_instance_identifier(database.as_str())
            .db_snapshot_identifier(snapshot.as_str())
            .send()
            .await
            .map_err(|e| {
            rds_error(e, op("CreateDBSnapshot"), ("database", database.as_str()), &[("DBSnapshot", "snapshot", snapshot.as_str())])
        })?;
        self.wait_snapshot(snapshot).await
    }

    async fn list_instance_snapshots(&self, database: &ResourceName) -> Result<Vec<SnapshotInfo>> {
        let describe = op("DescribeDBSnapshots");
        let mut snapshots = Vec::new();
        let mut pages =
            self.client.describe_db_snapshots().db_instance_identifier(database.as_str()).snapshot_type("manual").into_paginator().send();
        while let Some(page) = pages.next().await {
            for s in page.on(describe, "database", database.as_str())?.db_snapshots() {
                if s.snapshot_type().is_none_or(|t| t == "manual") && s.db_instance_identifier() == Some(database.as_str()) {
                    snapshots.push(snapshot_info(s, describe)?);
                }
            }
        }
        snapshots.sort_by_key(|s| s.created);
        Ok(snapshots)
    }

    async fn delete_instance_snapshot(&self, snapshot: &ResourceName) -> Result<()> {
        match self.client.delete_db_snapshot().db_snapshot_identifier(snapshot.as_str()).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(map_sdk_error(e, op("DeleteDBSnapshot"), "snapshot", snapshot.as_str())),
        }
    }

    /// The DB snapshot `snapshot`, if there is one.
    pub(super) async fn db_snapshot(&self, snapshot: &ResourceName) -> Result<Option<DbSnapshot>> {
        let out = self.client.describe_db_snapshots().db_snapshot_identifier(snapshot.as_str()).send().await.found(
            op("DescribeDBSnapshots"),
            "snapshot",
            snapshot.as_str(),
        )?;
        Ok(out.as_ref().and_then(|o| o.db_snapshots().first()).cloned())
    }

    /// Restore the DB snapshot `raw` (named `snapshot`) to `target`.
    pub(super) async fn restore_db_snapshot(
        &self,
        snapshot: &ResourceName,
        raw: &DbSnapshot,
        target: &RestoreTarget,
    ) -> Result<DatabaseInfo> {
        let snap = snapshot_info(raw, op("DescribeDBSnapshots"))?;
        let source = self.find(snap.database.as_str()).await?;
        let network = placement(target, source.as_ref().map(|s| &s.info));
        // The source's parameter group keeps TLS and extensions as they were; when the
        // source is gone (disaster recovery), the group made for it, if it is still there.
        let group = match &source {
            Some(s) => s.parameter_group.clone(),
            None => {
                let engine = raw.engine().and_then(engine_of).unwrap_or(Engine::Postgres);
                let candidate = format!("{}-{}", snap.database, family(engine, raw.engine_version().unwrap_or_default()).replace('.', "-"));
                self.read_parameters(&candidate).await?.map(|_| candidate)
            }
        };
        let tags = source.as_ref().map(|s| s.info.tags.clone()).unwrap_or_default();
        let name = target.name.as_str();
        self.client
            .restore_db_instance_from_db_snapshot()
            .db_instance_identifier(name)
            .db_snapshot_identifier(snapshot.as_str())
            .set_db_instance_class(target.instance_class.clone().or_else(|| source.as_ref().map(|s| s.info.instance_class.clone())))
            .set_db_subnet_group_name(network.subnet_group.clone())
            .set_vpc_security_group_ids((!network.security_groups.is_empty()).then(|| network.security_groups.clone()))
            .publicly_accessible(network.publicly_accessible)
            .set_multi_az(source.as_ref().map(|s| s.info.high_availability))
            .set_db_parameter_group_name(group)
            .deletion_protection(target.deletion_protection)
            .copy_tags_to_snapshot(true)
            .set_tags(rds_tags(&tags))
            .send()
            .await
            .map_err(|e| {
                rds_error(e, op("RestoreDBInstanceFromDBSnapshot"), ("database", name), &[("DBSnapshot", "snapshot", snapshot.as_str())])
            })?;
        self.wait_ready(&target.name, "available", |_| true).await
    }

    /// Restore `instance` (named `source`) to `point` as `target`; the
    /// target was checked by [`check_restore`].
    pub(super) async fn restore_found_to(
        &self,
        instance: Instance,
        source: &ResourceName,
        point: RestorePoint,
        target: &RestoreTarget,
    ) -> Result<DatabaseInfo> {
        let now = Timestamp::now();
        let mut window = instance.info.clone();
        window.earliest_restorable_time = match self.earliest_restorable_time(source).await? {
            Some(t) => Some(t),
            // A provider that reports no restore window (moto): the retention
            // period back from now, but not before the instance existed.
            None if window.backup_retention_days > 0 => {
                let back = Timestamp::now().checked_sub(SignedDuration::from_hours(24 * i64::from(window.backup_retention_days))).ok();
                match (back, instance.created) {
                    (Some(back), Some(created)) => Some(back.max(created)),
                    (back, created) => back.or(created),
                }
            }
            None => None,
        };
        point.validate(now, &window)?;
        let network = placement(target, Some(&instance.info));
        let name = target.name.as_str();
        let mut request = self
            .client
            .restore_db_instance_to_point_in_time()
            .source_db_instance_identifier(source.as_str())
            .target_db_instance_identifier(name)
            .set_db_instance_class(Some(target.instance_class.clone().unwrap_or_else(|| instance.info.instance_class.clone())))
            .set_db_subnet_group_name(network.subnet_group.clone())
            .set_vpc_security_group_ids((!network.security_groups.is_empty()).then(|| network.security_groups.clone()))
            .publicly_accessible(network.publicly_accessible)
            .multi_az(instance.info.high_availability)
            .set_db_parameter_group_name(instance.parameter_group.clone())
            .set_max_allocated_storage(instance.info.max_storage_gib.and_then(|m| i32::try_from(m).ok()))
            .deletion_protection(target.deletion_protection)
            .copy_tags_to_snapshot(true)
            .set_tags(rds_tags(&instance.info.tags));
        request = match point {
            RestorePoint::Latest => request.use_latest_restorable_time(true),
            RestorePoint::At(t) => request.restore_time(datetime(t)),
        };
        request.send().await.map_err(|e| {
            rds_error(e, op("RestoreDBInstanceToPointInTime"), ("database", name), &[("DBInstanceNotFound", "database", source.as_str())])
        })?;
        self.wait_ready(&target.name, "available", |_| true).await
    }

    /// `ModifyDBInstance` of `database`, applied at once, with what `change` sets.
    async fn modify(
        &self,
        database: &str,
        change: impl FnOnce(ModifyDBInstanceFluentBuilder) -> ModifyDBInstanceFluentBuilder,
    ) -> Result<()> {
        let request = self.client.modify_db_instance().db_instance_identifier(database).apply_immediately(true);
        change(request).send().await.on(op("ModifyDBInstance"), "database", database)?;
        Ok(())
    }

    /// Turn deletion protection of `current` (named `database`) on or off.
    pub(super) async fn protect_found(&self, current: Instance, database: &ResourceName, on: bool) -> Result<()> {
        if current.info.deletion_protection == on {
            return Ok(());
        }
        self.modify(database.as_str(), |r| r.deletion_protection(on)).await?;
        self.wait_ready(database, if on { "deletion-protected" } else { "unprotected" }, |info| info.deletion_protection == on).await?;
        Ok(())
    }

    /// Change the admin password of the instance `database`; the password
    /// was checked by [`check_admin_password`].
    pub(super) async fn modify_password(&self, database: &ResourceName, password: &deploy_core::Password) -> Result<()> {
        self.modify(database.as_str(), |r| r.master_user_password(password.expose())).await?;
        self.wait_ready(database, "using the new admin password", |_| true).await.map(|_| ())
    }

    /// Delete `instance` (named `database`); the caller checked the confirmation.
    pub(super) async fn delete_found(&self, instance: Instance, database: &ResourceName, final_snapshot: &FinalSnapshot) -> Result<()> {
        if instance.info.deletion_protection {
            return Err(Error::DeletionProtected { kind: "database", name: database.to_string() });
        }
        let name = database.as_str();
        let (skip, snapshot, snapshot_name) = final_snapshot_args(final_snapshot);
        let request = self.client.delete_db_instance().db_instance_identifier(name).skip_final_snapshot(skip);
        let sent = request.set_final_db_snapshot_identifier(snapshot).send().await;
        sent.map_err(|e| rds_error(e, op("DeleteDBInstance"), ("database", name), &[("DBSnapshot", "snapshot", snapshot_name)]))?;
        wait_gone(&self.waiter, &format!("database {database} to be deleted"), || async {
            Ok(self.find(name).await?.map(|instance| instance.info.status.to_string()))
        })
        .await
    }
}

#[async_trait]
impl Database for RdsInstances {
    fn backend(&self) -> &'static str {
        SERVICE
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "database", name = %spec.name))]
    async fn reconcile_database(&self, spec: &DatabaseSpec, mode: deploy_core::Mode) -> Result<Plan> {
        check_backend_spec(&self.ctx, spec, false)?;
        self.reconcile_instance(spec, mode).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "database", name = %name))]
    async fn describe_database(&self, name: &ResourceName) -> Result<DatabaseInfo> {
        let instance = self.get(name).await?;
        self.describe_found(instance, name).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "database", name = %database))]
    async fn create_snapshot(&self, database: &ResourceName, snapshot: &ResourceName) -> Result<SnapshotInfo> {
        self.create_instance_snapshot(database, snapshot).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "database", name = %database))]
    async fn list_snapshots(&self, database: &ResourceName) -> Result<Vec<SnapshotInfo>> {
        self.list_instance_snapshots(database).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "database", name = %snapshot))]
    async fn delete_snapshot(&self, snapshot: &ResourceName, confirm: &Confirm) -> Result<()> {
        confirm.check("delete snapshot", snapshot.as_str())?;
        self.delete_instance_snapshot(snapshot).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "database", name = %snapshot))]
    async fn restore_snapshot(&self, snapshot: &ResourceName, target: &RestoreTarget) -> Result<DatabaseInfo> {
        check_restore(target, None)?;
        let raw = self.db_snapshot(snapshot).await?.ok_or_else(|| Error::not_found("snapshot", snapshot.as_str()))?;
        self.restore_db_snapshot(snapshot, &raw, target).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "database", name = %source))]
    async fn restore_to_point_in_time(&self, source: &ResourceName, point: RestorePoint, target: &RestoreTarget) -> Result<DatabaseInfo> {
        check_restore(target, Some(point))?;
        let instance = self.get(source).await?;
        self.restore_found_to(instance, source, point, target).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "database", name = %database))]
    async fn set_deletion_protection(&self, database: &ResourceName, on: bool) -> Result<()> {
        let current = self.get(database).await?;
        self.protect_found(current, database, on).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "database", name = %database))]
    async fn set_admin_password(&self, database: &ResourceName, password: &deploy_core::Password) -> Result<()> {
        check_admin_password(password)?;
        self.get(database).await?;
        self.modify_password(database, password).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "database", name = %database))]
    async fn delete_database(&self, database: &ResourceName, final_snapshot: &FinalSnapshot, confirm: &Confirm) -> Result<()> {
        confirm.check("delete database", database.as_str())?;
        let instance = self.get(database).await?;
        self.delete_found(instance, database, final_snapshot).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rds::params::tests::spec;
    use crate::rds::spec::validate_spec;
    use deploy_core::{Password, PasswordRules, PgIdentifier};

    #[test]
    fn rds_rules_are_checked_before_any_request() {
        let mut s = spec();
        s.instance_class = "Standard_D2ds_v4".into();
        assert_eq!(validate_spec(&s).unwrap_err().invalid_field(), Some("instance_class"));
        let mut s = spec();
        s.admin_username = PgIdentifier::new("db-admin").unwrap();
        assert_eq!(validate_spec(&s).unwrap_err().invalid_field(), Some("admin_username"));
        let mut s = spec();
        s.admin_password = Some(
            Password::new(
                "has a space!",
                &PasswordRules { forbidden: String::new(), printable_ascii_only: false, ..PasswordRules::rds_master() },
            )
            .unwrap(),
        );
        let e = validate_spec(&s).unwrap_err();
        assert_eq!(e.invalid_field(), Some("admin_password"));
        assert!(!e.to_string().contains("has a space"), "the password leaked: {e}");
        let mut s = spec();
        s.network.security_groups = vec!["default".into()];
        assert_eq!(validate_spec(&s).unwrap_err().invalid_field(), Some("network.security_groups[0]"));
        let mut s = spec();
        s.network.delegated_subnet = Some("/subscriptions/x".into());
        assert!(matches!(validate_spec(&s).unwrap_err(), Error::NotSupported { .. }));
        let mut s = spec();
        s.tags.insert("rds:x".into(), "y".into());
        assert_eq!(validate_spec(&s).unwrap_err().invalid_field(), Some("tags.rds:x"));
        assert!(validate_spec(&spec()).is_ok());
    }

    #[test]
    fn statuses() {
        assert_eq!(status_of("available"), DatabaseStatus::Available);
        assert_eq!(status_of("storage-optimization"), DatabaseStatus::Available);
        assert_eq!(status_of("modifying"), DatabaseStatus::Modifying);
        assert_eq!(status_of("incompatible-parameters"), DatabaseStatus::Failed);
        assert_eq!(status_of("stopped"), DatabaseStatus::Other("stopped".into()));
    }
}
