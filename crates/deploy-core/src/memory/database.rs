use async_trait::async_trait;
use jiff::Timestamp;
use secrecy::ExposeSecret;

use super::InMemoryCloud;
use super::state::{MemDatabase, MemSnapshot, Pending, current};
use crate::database::{
    Database, DatabaseInfo, DatabaseSpec, DatabaseStatus, Endpoint, Engine, FinalSnapshot, RestorePoint, RestoreTarget, SnapshotInfo,
    SnapshotStatus,
};
use crate::error::{Confirm, Error, Result};
use crate::plan::{Action, Change, Plan};
use crate::reconcile::Mode;
use crate::validate::{Password, ResourceName};
use crate::waiter::Poll;

fn info_from_spec(spec: &DatabaseSpec) -> DatabaseInfo {
    DatabaseInfo {
        name: spec.name.clone(),
        status: DatabaseStatus::Creating,
        engine: spec.engine,
        engine_version: spec.engine_version.clone(),
        instance_class: spec.instance_class.clone(),
        endpoint: Some(Endpoint { host: format!("{}.{}.memory.invalid", spec.name, spec.engine), port: port(spec.engine) }),
        require_tls: spec.require_tls,
        allowed_extensions: spec.allowed_extensions.clone(),
        deletion_protection: spec.deletion_protection,
        storage_gib: spec.storage_gib,
        max_storage_gib: spec.max_storage_gib,
        backup_retention_days: spec.backup_retention_days,
        encrypted: true,
        encryption_key: spec.encryption_key.clone(),
        high_availability: spec.high_availability,
        network: spec.network.clone(),
        topology: spec.topology.clone(),
        earliest_restorable_time: None,
        latest_restorable_time: None,
        tags: spec.tags.clone(),
    }
}

/// The engine's usual port.
fn port(engine: Engine) -> u16 {
    if engine.is_postgres() { 5432 } else { 3306 }
}

fn no_database(name: &ResourceName) -> Error {
    Error::not_found("database", name.as_str())
}

impl InMemoryCloud {
    fn database_plan(&self, spec: &DatabaseSpec) -> Result<Plan> {
        spec.validate()?;
        let mut state = self.state();
        Ok(match state.databases.get_mut(spec.name.as_str()) {
            None => Plan::from_iter([Change::create("database", spec.name.as_str())]),
            Some(db) => db.view().diff(spec),
        })
    }

    /// Create the instance of `spec`, or bring the one there to it (what can change in place).
    fn apply_database(&self, spec: &DatabaseSpec) {
        let until = self.ready_at();
        let mut state = self.state();
        match state.databases.get_mut(spec.name.as_str()) {
            None => {
                let admin_password = spec.admin_password.as_ref().map(|p| p.secret().clone());
                state.databases.insert(
                    spec.name.as_str().to_owned(),
                    MemDatabase {
                        info: info_from_spec(spec),
                        created: Timestamp::now(),
                        pending: Pending::new(until, "creating"),
                        admin_password,
                    },
                );
            }
            Some(db) => {
                let keep = db.info.clone();
                let mut info = info_from_spec(spec);
                // What cannot change in place stays as it is (reported as drift).
                info.engine = keep.engine;
                info.encryption_key = keep.encryption_key;
                info.storage_gib = info.storage_gib.max(keep.storage_gib);
                info.network = keep.network;
                info.topology.writer_zone = keep.topology.writer_zone;
                db.info = info;
                db.pending = Pending::new(until, "modifying");
            }
        }
    }

    async fn wait_database(&self, name: &ResourceName, what: &str) -> Result<DatabaseInfo> {
        self.waiter()
            .wait(&format!("database {name} to be {what}"), || async {
                let info = self.describe(name)?;
                Ok(if info.status == DatabaseStatus::Available { Poll::Ready(info) } else { Poll::Pending(info.status.to_string()) })
            })
            .await
    }

    fn describe(&self, name: &ResourceName) -> Result<DatabaseInfo> {
        let mut state = self.state();
        state.databases.get_mut(name.as_str()).map(MemDatabase::view).ok_or_else(|| no_database(name))
    }

    fn insert_database(&self, mut info: DatabaseInfo, target: &RestoreTarget) -> Result<()> {
        let source_name = info.name.clone();
        let mut state = self.state();
        if state.databases.contains_key(target.name.as_str()) {
            return Err(Error::already_exists("database", target.name.as_str()));
        }
        info.name = target.name.clone();
        info.deletion_protection = target.deletion_protection;
        info.endpoint = Some(Endpoint { host: format!("{}.{}.memory.invalid", target.name, info.engine), port: port(info.engine) });
        // A restore is a new database in the source's region: no replica in another one.
        info.topology.cross_region_replica = None;
        if let Some(network) = &target.network {
            info.network = network.clone();
        }
        if let Some(class) = &target.instance_class {
            info.instance_class = class.clone();
        }
        let until = self.ready_at();
        // A restored instance keeps its source's administrator password.
        let admin_password = state.databases.values().find(|d| d.info.name == source_name).and_then(|d| d.admin_password.clone());
        state.databases.insert(
            target.name.as_str().to_owned(),
            MemDatabase { info, created: Timestamp::now(), pending: Pending::new(until, "creating"), admin_password },
        );
        Ok(())
    }

    /// Whether `database` uses `password` as its administrator's password now
    /// (what a sign-in would tell; for tests of password rotation).
    pub fn admin_password_is(&self, database: &ResourceName, password: &str) -> bool {
        self.state().databases.get(database.as_str()).and_then(|d| d.admin_password.as_ref()).is_some_and(|p| p.expose_secret() == password)
    }
}

#[async_trait]
impl Database for InMemoryCloud {
    fn backend(&self) -> &'static str {
        "memory"
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "database", name = %spec.name))]
    async fn reconcile_database(&self, spec: &DatabaseSpec, mode: Mode) -> Result<Plan> {
        let plan = self.database_plan(spec)?;
        if mode.is_apply() && plan.changes.iter().any(|c| c.action == Action::Create) && spec.admin_password.is_none() {
            return Err(Error::invalid("admin_password", "is missing", "creating an instance needs an admin password"));
        }
        if !self.enter_reconcile(mode, ["plan_database", "ensure_database"], &plan)? {
            return Ok(plan);
        }
        if plan.has_mutations() {
            self.apply_database(spec);
        }
        self.wait_database(&spec.name, "available").await?;
        Ok(plan)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "memory", kind = "database", name = %name))]
    async fn describe_database(&self, name: &ResourceName) -> Result<DatabaseInfo> {
        self.enter("describe_database", false)?;
        self.describe(name)
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "database", name = %database))]
    async fn create_snapshot(&self, database: &ResourceName, snapshot: &ResourceName) -> Result<SnapshotInfo> {
        self.enter("create_snapshot", true)?;
        let source = self.describe(database)?;
        if source.status != DatabaseStatus::Available {
            return Err(Error::conflict("database", database.as_str(), format!("is {}, not available", source.status)));
        }
        {
            let until = self.ready_at();
            let mut state = self.state();
            if state.snapshots.contains_key(snapshot.as_str()) {
                return Err(Error::already_exists("snapshot", snapshot.as_str()));
            }
            let info = SnapshotInfo {
                name: snapshot.clone(),
                database: database.clone(),
                status: SnapshotStatus::Creating,
                created: Some(Timestamp::now()),
            };
            state.snapshots.insert(snapshot.as_str().to_owned(), MemSnapshot { info, source, pending: Pending::new(until, "creating") });
        }
        self.waiter()
            .wait(&format!("snapshot {snapshot} to be available"), || async {
                let mut state = self.state();
                let s = state.snapshots.get_mut(snapshot.as_str()).ok_or_else(|| Error::not_found("snapshot", snapshot.as_str()))?;
                Ok(match current(&mut s.pending) {
                    Some(state) => Poll::Pending(state.to_owned()),
                    None => {
                        s.info.status = SnapshotStatus::Available;
                        Poll::Ready(s.info.clone())
                    }
                })
            })
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "memory", kind = "database", name = %database))]
    async fn list_snapshots(&self, database: &ResourceName) -> Result<Vec<SnapshotInfo>> {
        self.enter("list_snapshots", false)?;
        let mut state = self.state();
        let mut list: Vec<SnapshotInfo> = state
            .snapshots
            .values_mut()
            .filter(|s| s.info.database == *database)
            .map(|s| {
                if current(&mut s.pending).is_none() {
                    s.info.status = SnapshotStatus::Available;
                }
                s.info.clone()
            })
            .collect();
        list.sort_by_key(|s| s.created);
        Ok(list)
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "database", name = %snapshot))]
    async fn delete_snapshot(&self, snapshot: &ResourceName, confirm: &Confirm) -> Result<()> {
        confirm.check("delete snapshot", snapshot.as_str())?;
        self.enter("delete_snapshot", true)?;
        self.state().snapshots.remove(snapshot.as_str()).map(|_| ()).ok_or_else(|| Error::not_found("snapshot", snapshot.as_str()))
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "database", name = %snapshot))]
    async fn restore_snapshot(&self, snapshot: &ResourceName, target: &RestoreTarget) -> Result<DatabaseInfo> {
        self.enter("restore_snapshot", true)?;
        let source = {
            let mut state = self.state();
            let s = state.snapshots.get_mut(snapshot.as_str()).ok_or_else(|| Error::not_found("snapshot", snapshot.as_str()))?;
            if current(&mut s.pending).is_some() {
                return Err(Error::conflict("snapshot", snapshot.as_str(), "is not available yet"));
            }
            s.source.clone()
        };
        self.insert_database(source, target)?;
        self.wait_database(&target.name, "available").await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "database", name = %source))]
    async fn restore_to_point_in_time(&self, source: &ResourceName, point: RestorePoint, target: &RestoreTarget) -> Result<DatabaseInfo> {
        let info = self.describe(source)?;
        point.validate(Timestamp::now(), &info)?;
        self.enter("restore_to_point_in_time", true)?;
        self.insert_database(info, target)?;
        self.wait_database(&target.name, "available").await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "database", name = %database))]
    async fn set_deletion_protection(&self, database: &ResourceName, on: bool) -> Result<()> {
        let current = self.describe(database)?;
        self.enter("set_deletion_protection", current.deletion_protection != on)?;
        if current.deletion_protection != on {
            let mut state = self.state();
            let db = state.databases.get_mut(database.as_str()).ok_or_else(|| no_database(database))?;
            db.info.deletion_protection = on;
        }
        Ok(())
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "database", name = %database))]
    async fn set_admin_password(&self, database: &ResourceName, password: &Password) -> Result<()> {
        self.describe(database)?;
        self.enter("set_admin_password", true)?;
        {
            let until = self.ready_at();
            let mut state = self.state();
            let db = state.databases.get_mut(database.as_str()).ok_or_else(|| no_database(database))?;
            db.admin_password = Some(password.secret().clone());
            db.pending = Pending::new(until, "resetting-master-credentials");
        }
        self.wait_database(database, "using the new administrator password").await.map(|_| ())
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "database", name = %database))]
    async fn delete_database(&self, database: &ResourceName, final_snapshot: &FinalSnapshot, confirm: &Confirm) -> Result<()> {
        confirm.check("delete database", database.as_str())?;
        let info = self.describe(database)?;
        if info.deletion_protection {
            return Err(Error::DeletionProtected { kind: "database", name: database.to_string() });
        }
        if let FinalSnapshot::Take(name) = final_snapshot {
            self.create_snapshot(database, name).await?;
        }
        self.enter("delete_database", true)?;
        {
            let until = self.ready_at();
            let mut state = self.state();
            let db = state.databases.get_mut(database.as_str()).ok_or_else(|| no_database(database))?;
            db.pending = Pending::new(until, "deleting");
        }
        self.waiter()
            .wait(&format!("database {database} to be deleted"), || async {
                let mut state = self.state();
                let Some(db) = state.databases.get_mut(database.as_str()) else { return Ok(Poll::Ready(())) };
                Ok(match current(&mut db.pending) {
                    Some(s) => Poll::Pending(s.to_owned()),
                    None => {
                        state.databases.remove(database.as_str());
                        Poll::Ready(())
                    }
                })
            })
            .await
    }
}
