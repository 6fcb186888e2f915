//! The five traits through `Arc<T>` and `Box<T>`.
//!
//! A caller that holds a backend as `Arc<S3Store>`, `Box<dyn ObjectStore>` or
//! `Arc<dyn Database>` passes it where a trait is expected without writing a
//! forwarding type: every method, provided ones included, goes to the inner
//! value, so a backend's own overrides (a server-side `copy_listed`, a
//! `key_order`) are kept.
//!
//! ```
//! use std::sync::Arc;
//! use deploy_core::memory::InMemoryCloud;
//! use deploy_core::{ObjectStore, SecretStore};
//!
//! fn takes_a_store(store: impl ObjectStore) -> &'static str {
//!     store.backend()
//! }
//!
//! let cloud = Arc::new(InMemoryCloud::new());
//! assert_eq!(takes_a_store(cloud.clone()), "memory");
//! let boxed: Box<dyn SecretStore> = Box::new(InMemoryCloud::new());
//! assert_eq!(SecretStore::backend(&boxed), "memory");
//! ```

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use secrecy::SecretString;

use crate::backup::{BackupSpec, BackupVault, RecoveryPoint, RestoreOptions, RestoreResult, VaultInfo};
use crate::cluster::{Cluster, ClusterCredentials, ClusterInfo, ClusterSpec};
use crate::database::{Database, DatabaseInfo, DatabaseSpec, FinalSnapshot, RestorePoint, RestoreTarget, SnapshotInfo};
use crate::error::{Confirm, Result};
use crate::object_store::{
    BucketInfo, BucketSpec, ByteStream, CopyOptions, DeleteOptions, GetOptions, GetResult, KeyOrder, ListOptions, ObjectMeta, ObjectStore,
    PutOptions,
};
use crate::plan::Plan;
use crate::reconcile::Mode;
use crate::secret_store::{PutSecretOptions, SecretStore, SecretValue, SecretVersion};
use crate::validate::{BucketName, ObjectKey, Password, ResourceName, SecretName};

/// `impl Trait for Arc<T>` and `for Box<T>` (`T: Trait + ?Sized`), every
/// listed method forwarded to `**self`.
macro_rules! forward {
    ($trait:ident { $($body:tt)* }) => {
        forward!(@impl Arc, $trait, $($body)*);
        forward!(@impl Box, $trait, $($body)*);
    };
    (@impl $ptr:ident, $trait:ident,
        $(fn $s:ident(&self $(, $sa:ident: $st:ty)*) -> $sr:ty;)*
        $(async fn $n:ident(&self $(, $a:ident: $t:ty)*) -> $r:ty;)*
    ) => {
        #[async_trait]
        impl<T: $trait + ?Sized> $trait for $ptr<T> {
            $(fn $s(&self $(, $sa: $st)*) -> $sr {
                (**self).$s($($sa),*)
            })*
            $(async fn $n(&self $(, $a: $t)*) -> $r {
                (**self).$n($($a),*).await
            })*
        }
    };
}

forward!(ObjectStore {
    fn backend(&self) -> &'static str;
    fn list(&self, bucket: &BucketName, options: ListOptions) -> BoxStream<'static, Result<ObjectMeta>>;
    fn key_order(&self) -> KeyOrder;
    async fn reconcile_bucket(&self, spec: &BucketSpec, mode: Mode) -> Result<Plan>;
    async fn plan_bucket(&self, spec: &BucketSpec) -> Result<Plan>;
    async fn ensure_bucket(&self, spec: &BucketSpec) -> Result<Plan>;
    async fn describe_bucket(&self, bucket: &BucketName) -> Result<BucketInfo>;
    async fn delete_bucket(&self, bucket: &BucketName, confirm: Option<Confirm>) -> Result<()>;
    async fn put(&self, bucket: &BucketName, key: &ObjectKey, body: ByteStream, options: &PutOptions) -> Result<ObjectMeta>;
    async fn get_opts(&self, bucket: &BucketName, key: &ObjectKey, options: &GetOptions) -> Result<GetResult>;
    async fn get(&self, bucket: &BucketName, key: &ObjectKey) -> Result<GetResult>;
    async fn head(&self, bucket: &BucketName, key: &ObjectKey) -> Result<ObjectMeta>;
    async fn copy_opts(&self, from_bucket: &BucketName, from: &ObjectKey, to_bucket: &BucketName, to: &ObjectKey, options: &CopyOptions) -> Result<ObjectMeta>;
    async fn copy(&self, from_bucket: &BucketName, from: &ObjectKey, to_bucket: &BucketName, to: &ObjectKey) -> Result<ObjectMeta>;
    async fn copy_listed(&self, from_bucket: &BucketName, source: &ObjectMeta, to_bucket: &BucketName, to: &ObjectKey) -> Result<ObjectMeta>;
    async fn delete_opts(&self, bucket: &BucketName, key: &ObjectKey, options: &DeleteOptions) -> Result<()>;
    async fn delete(&self, bucket: &BucketName, key: &ObjectKey) -> Result<()>;
    async fn delete_many(&self, bucket: &BucketName, keys: &[ObjectKey]) -> Result<()>;
    async fn versioning_enabled(&self, bucket: &BucketName) -> Result<bool>;
    async fn holds_data(&self, bucket: &BucketName) -> Result<bool>;
});

forward!(Cluster {
    fn backend(&self) -> &'static str;
    async fn reconcile_cluster(&self, spec: &ClusterSpec, mode: Mode) -> Result<Plan>;
    async fn plan_cluster(&self, spec: &ClusterSpec) -> Result<Plan>;
    async fn ensure_cluster(&self, spec: &ClusterSpec) -> Result<Plan>;
    async fn describe_cluster(&self, name: &ResourceName) -> Result<ClusterInfo>;
    async fn credentials(&self, name: &ResourceName) -> Result<ClusterCredentials>;
    async fn delete_node_pool(&self, cluster: &ResourceName, pool: &ResourceName) -> Result<()>;
    async fn delete_cluster(&self, name: &ResourceName) -> Result<()>;
});

forward!(Database {
    fn backend(&self) -> &'static str;
    async fn reconcile_database(&self, spec: &DatabaseSpec, mode: Mode) -> Result<Plan>;
    async fn plan_database(&self, spec: &DatabaseSpec) -> Result<Plan>;
    async fn ensure_database(&self, spec: &DatabaseSpec) -> Result<Plan>;
    async fn describe_database(&self, name: &ResourceName) -> Result<DatabaseInfo>;
    async fn create_snapshot(&self, database: &ResourceName, snapshot: &ResourceName) -> Result<SnapshotInfo>;
    async fn list_snapshots(&self, database: &ResourceName) -> Result<Vec<SnapshotInfo>>;
    async fn delete_snapshot(&self, snapshot: &ResourceName, confirm: &Confirm) -> Result<()>;
    async fn restore_snapshot(&self, snapshot: &ResourceName, target: &RestoreTarget) -> Result<DatabaseInfo>;
    async fn restore_to_point_in_time(&self, source: &ResourceName, point: RestorePoint, target: &RestoreTarget) -> Result<DatabaseInfo>;
    async fn set_deletion_protection(&self, database: &ResourceName, on: bool) -> Result<()>;
    async fn delete_database(&self, database: &ResourceName, final_snapshot: &FinalSnapshot, confirm: &Confirm) -> Result<()>;
    async fn set_admin_password(&self, database: &ResourceName, password: &Password) -> Result<()>;
});

forward!(BackupVault {
    fn backend(&self) -> &'static str;
    async fn reconcile_backup(&self, spec: &BackupSpec, mode: Mode) -> Result<Plan>;
    async fn plan_backup(&self, spec: &BackupSpec) -> Result<Plan>;
    async fn ensure_backup(&self, spec: &BackupSpec) -> Result<Plan>;
    async fn describe_vault(&self, vault: &ResourceName) -> Result<VaultInfo>;
    async fn start_backup(&self, vault: &ResourceName, resource: &str, role: Option<String>) -> Result<RecoveryPoint>;
    async fn list_recovery_points(&self, vault: &ResourceName) -> Result<Vec<RecoveryPoint>>;
    async fn restore(&self, vault: &ResourceName, recovery_point: &str, options: &RestoreOptions) -> Result<RestoreResult>;
    async fn delete_recovery_point(&self, vault: &ResourceName, recovery_point: &str, confirm: &Confirm) -> Result<()>;
    async fn backup_plan_exists(&self, plan: &ResourceName) -> Result<bool>;
    async fn delete_plan(&self, plan: &ResourceName) -> Result<()>;
    async fn delete_vault(&self, vault: &ResourceName) -> Result<()>;
});

forward!(SecretStore {
    fn backend(&self) -> &'static str;
    async fn put_secret(&self, name: &SecretName, value: SecretString, options: &PutSecretOptions) -> Result<SecretVersion>;
    async fn get_secret(&self, name: &SecretName) -> Result<SecretValue>;
    async fn secret_exists(&self, name: &SecretName) -> Result<bool>;
    async fn rotate_secret(&self, name: &SecretName, value: SecretString) -> Result<SecretVersion>;
    async fn delete_secret(&self, name: &SecretName, confirm: &Confirm) -> Result<()>;
});
