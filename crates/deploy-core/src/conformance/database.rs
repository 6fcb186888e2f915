use jiff::{SignedDuration, Timestamp};

use super::check::{expect_err, ok};
use super::names::Names;
use crate::database::{Database, DatabaseSpec, DatabaseStatus, FinalSnapshot, RestorePoint, RestoreTarget, SnapshotStatus};
use crate::error::{Confirm, Error};
use crate::plan::Action;
use crate::validate::{PasswordRules, PgIdentifier, ResourceName};

/// A [`Database`] backend's conformance run: the spec the suite creates, in
/// sizes and versions the backend takes, and what the backend can do.
#[derive(Clone, Debug)]
pub struct DatabaseSuite {
    /// The valid spec the suite creates (under a name of its own): a
    /// PostgreSQL instance with TLS required, deletion protection on and
    /// `unaccent` allowed. Its storage and backup retention must be ones the
    /// backend can update to 14 days.
    pub spec: DatabaseSpec,
    /// Whether the backend takes manual snapshots. Without them the suite
    /// expects [`Error::NotSupported`] from `create_snapshot` and restores to a
    /// point in time only.
    pub snapshots: bool,
}

impl DatabaseSuite {
    /// PostgreSQL `version` on `instance_class`, storage growing to 100 GiB,
    /// `unaccent` allowed, an administrator password following `rules`;
    /// manual snapshots taken.
    ///
    /// # Panics
    /// When `rules` cannot generate a 24-character password.
    pub fn postgres(version: &str, instance_class: &str, rules: &PasswordRules) -> Self {
        let name = ResourceName::new("db").expect("name");
        let mut spec = DatabaseSpec::postgres(name, version, instance_class, PgIdentifier::new("dbadmin").expect("name"));
        spec.allowed_extensions = vec![PgIdentifier::new("unaccent").expect("name")];
        spec.max_storage_gib = Some(100);
        spec.admin_password = Some(rules.generate(24).expect("password"));
        DatabaseSuite { spec, snapshots: true }
    }

    /// The same run for a backend without manual snapshots.
    #[must_use]
    pub fn without_snapshots(self) -> Self {
        DatabaseSuite { snapshots: false, ..self }
    }

    /// The suite's spec under `names`.
    pub fn spec(&self, names: &Names) -> DatabaseSpec {
        DatabaseSpec { name: names.resource("db"), ..self.spec.clone() }
    }

    /// The whole Database suite: bad input, idempotent ensure, updates,
    /// snapshots (or their refusal), restores, point-in-time restore,
    /// deletion protection.
    ///
    /// # Panics
    /// When the backend behaves otherwise, with a message saying how.
    pub async fn run(&self, db: &dyn Database, names: &Names) {
        let mut spec = self.spec(names);
        let major = spec.engine_version.split('.').next().unwrap_or_default().to_owned();

        let mut bad = spec.clone();
        bad.storage_gib = 10;
        let e = expect_err("ensure with 10 GiB storage", db.ensure_database(&bad).await, |e| matches!(e, Error::InvalidInput { .. }));
        assert_eq!(e.invalid_field(), Some("storage_gib"));
        expect_err("describe after rejected ensure", db.describe_database(&spec.name).await, Error::is_not_found);

        let plan = ok("plan_database (missing)", db.plan_database(&spec).await);
        // One creation of the database; a clustered backend also plans its members (Aurora: the writer instance).
        let creates_database =
            plan.changes.iter().any(|c| c.kind == "database" && c.name == spec.name.as_str() && c.action == Action::Create);
        assert!(creates_database && plan.changes.iter().all(|c| c.action == Action::Create), "plan of a missing instance: {plan:?}");
        ok("ensure_database", db.ensure_database(&spec).await);
        let info = ok("describe_database", db.describe_database(&spec.name).await);
        assert_eq!(info.status, DatabaseStatus::Available, "ensure returned before the instance was available");
        assert!(info.require_tls, "TLS is not required");
        assert!(info.deletion_protection, "deletion protection is off");
        assert!(info.encrypted, "storage is not encrypted");
        assert_eq!(info.engine_version.split('.').next(), Some(major.as_str()));
        assert!(info.allowed_extensions.iter().any(|e| e.as_str() == "unaccent"), "unaccent not allowed: {info:?}");
        assert!(info.endpoint.is_some(), "no endpoint");
        assert!(ok("ensure_database (again)", db.ensure_database(&spec).await).is_empty(), "second ensure changed something");
        assert!(ok("plan_database (again)", db.plan_database(&spec).await).is_empty(), "plan after ensure is not empty");

        spec.backup_retention_days = 14;
        let plan = ok("plan_database (retention)", db.plan_database(&spec).await);
        assert!(
            plan.changes
                .iter()
                .any(|c| matches!(&c.action, Action::Update { fields } if fields.iter().any(|f| f.field == "backup_retention_days"))),
            "retention change not planned: {plan:?}"
        );
        ok("ensure_database (retention)", db.ensure_database(&spec).await);
        assert_eq!(ok("describe", db.describe_database(&spec.name).await).backup_retention_days, 14);
        assert!(ok("ensure (retention again)", db.ensure_database(&spec).await).is_empty(), "update is not idempotent");

        let snap = names.resource("snap");
        let restored = RestoreTarget::new(names.resource("restored"));
        if self.snapshots {
            let s = ok("create_snapshot", db.create_snapshot(&spec.name, &snap).await);
            assert_eq!(s.status, SnapshotStatus::Available, "create_snapshot returned before the snapshot was available");
            let listed = ok("list_snapshots", db.list_snapshots(&spec.name).await);
            assert!(listed.iter().any(|x| x.name == snap), "snapshot not listed: {listed:?}");
            expect_err("create_snapshot twice", db.create_snapshot(&spec.name, &snap).await, |e| matches!(e, Error::AlreadyExists { .. }));

            let r = ok("restore_snapshot", db.restore_snapshot(&snap, &restored).await);
            assert_eq!(r.status, DatabaseStatus::Available);
            assert!(r.require_tls, "restored instance does not require TLS");
            expect_err("restore_snapshot onto an existing instance", db.restore_snapshot(&snap, &restored).await, |e| {
                matches!(e, Error::AlreadyExists { .. })
            });
        } else {
            expect_err("create_snapshot (not supported)", db.create_snapshot(&spec.name, &snap).await, |e| {
                matches!(e, Error::NotSupported { .. })
            });
        }

        let pitr = RestoreTarget::new(names.resource("pitr"));
        let future = Timestamp::now().checked_add(SignedDuration::from_hours(1)).expect("time");
        let e =
            expect_err("restore to a future time", db.restore_to_point_in_time(&spec.name, RestorePoint::At(future), &pitr).await, |e| {
                matches!(e, Error::InvalidInput { .. })
            });
        assert_eq!(e.invalid_field(), Some("restore_time"));
        let past = Timestamp::now().checked_sub(SignedDuration::from_hours(24 * 40)).expect("time");
        let e =
            expect_err("restore before the window", db.restore_to_point_in_time(&spec.name, RestorePoint::At(past), &pitr).await, |e| {
                matches!(e, Error::InvalidInput { .. })
            });
        assert_eq!(e.invalid_field(), Some("restore_time"));
        let p = ok("restore_to_point_in_time latest", db.restore_to_point_in_time(&spec.name, RestorePoint::Latest, &pitr).await);
        assert_eq!(p.status, DatabaseStatus::Available);

        expect_err(
            "delete without the right confirmation",
            db.delete_database(&spec.name, &FinalSnapshot::Skip, &Confirm::new("other")).await,
            |e| matches!(e, Error::ConfirmationRequired { .. }),
        );
        expect_err(
            "delete with protection on",
            db.delete_database(&spec.name, &FinalSnapshot::Skip, &Confirm::new(spec.name.as_str())).await,
            |e| matches!(e, Error::DeletionProtected { .. }),
        );
        assert_eq!(ok("describe after refused delete", db.describe_database(&spec.name).await).status, DatabaseStatus::Available);
        let created = if self.snapshots { vec![&spec.name, &restored.name, &pitr.name] } else { vec![&spec.name, &pitr.name] };
        for name in created {
            ok("set_deletion_protection off", db.set_deletion_protection(name, false).await);
            assert!(!ok("describe", db.describe_database(name).await).deletion_protection, "protection still on");
            ok("delete_database", db.delete_database(name, &FinalSnapshot::Skip, &Confirm::new(name.as_str())).await);
            expect_err("describe deleted", db.describe_database(name).await, Error::is_not_found);
        }
        if self.snapshots {
            expect_err("delete snapshot unconfirmed", db.delete_snapshot(&snap, &Confirm::new("other")).await, |e| {
                matches!(e, Error::ConfirmationRequired { .. })
            });
            ok("delete_snapshot", db.delete_snapshot(&snap, &Confirm::new(snap.as_str())).await);
        }
    }
}
