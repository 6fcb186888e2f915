//! [`AwsBackends`]: the front — every enabled service, from one [`AwsContext`].
//!
//! Nothing inside the crate imports this module: each service is built from
//! the context alone (`X::new(&ctx)`), and this front only hands them out.

use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use aws_types::SdkConfig;
use deploy_core::waiter::Waiter;

use crate::context::AwsContext;
use crate::record::RequestLog;

/// The entry point: one [`AwsContext`] (the caller's [`SdkConfig`], optional
/// interceptors, the waiter for long operations, the partition) and the
/// backend of each enabled service built from it.
///
/// Each backend can also be built on its own from a context
/// (`S3Store::new(&ctx)`).
#[derive(Clone, Debug)]
pub struct AwsBackends {
    ctx: AwsContext,
}

impl AwsBackends {
    /// Backends over `sdk_config`, waiting with each service's preset
    /// ([`Waiter::provisioning`]: up to 60 minutes for databases, clusters and backups).
    pub fn from_conf(sdk_config: &SdkConfig) -> Self {
        AwsBackends { ctx: AwsContext::new(sdk_config) }
    }

    /// Backends over `ctx`.
    pub fn new(ctx: AwsContext) -> Self {
        AwsBackends { ctx }
    }

    /// Record every operation of the backends handed out from now on in `log`.
    #[must_use]
    pub fn with_request_log(mut self, log: &RequestLog) -> Self {
        self.ctx = self.ctx.with_request_log(log);
        self
    }

    /// Install an SDK interceptor on every client handed out from now on.
    #[must_use]
    pub fn with_interceptor(mut self, interceptor: SharedInterceptor) -> Self {
        self.ctx = self.ctx.with_interceptor(interceptor);
        self
    }

    /// Bound every request of the clients handed out from now on by
    /// `timeouts` ([`AwsContext::with_timeouts`]).
    #[must_use]
    pub fn with_timeouts(mut self, timeouts: deploy_core::Timeouts) -> Self {
        self.ctx = self.ctx.with_timeouts(timeouts);
        self
    }

    /// Wait for long operations (an instance becoming available) with `waiter`.
    #[must_use]
    pub fn with_waiter(mut self, waiter: Waiter) -> Self {
        self.ctx = self.ctx.with_waiter(waiter);
        self
    }

    /// The context every backend is built from.
    pub fn context(&self) -> &AwsContext {
        &self.ctx
    }

    /// The SDK configuration.
    pub fn sdk_config(&self) -> &SdkConfig {
        self.ctx.sdk_config()
    }

    /// The AWS partition of the region (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn partition(&self) -> &'static str {
        self.ctx.partition()
    }

    /// The waiter of long operations ([`AwsContext::waiter`]).
    pub fn waiter(&self) -> Waiter {
        self.ctx.waiter()
    }

    /// The interceptors installed on every client.
    pub fn interceptors(&self) -> &[SharedInterceptor] {
        self.ctx.interceptors()
    }

    /// The [`ObjectStore`](deploy_core::ObjectStore) on S3.
    #[cfg(feature = "s3")]
    pub fn s3(&self) -> crate::s3::S3Store {
        crate::s3::S3Store::new(&self.ctx)
    }

    /// The [`BackupVault`](deploy_core::BackupVault) on AWS Backup.
    #[cfg(feature = "backup")]
    pub fn backup(&self) -> crate::backup::AwsBackupVault {
        crate::backup::AwsBackupVault::new(&self.ctx)
    }

    /// The [`Cluster`](deploy_core::Cluster) on EKS, running as `roles`.
    #[cfg(feature = "eks")]
    pub fn eks(&self, roles: crate::eks::EksRoles) -> crate::eks::EksCluster {
        crate::eks::EksCluster::new(&self.ctx, roles)
    }

    /// IAM users, policies and roles.
    #[cfg(feature = "iam")]
    pub fn iam(&self) -> crate::iam::Iam {
        crate::iam::Iam::new(&self.ctx)
    }

    /// Keyless pod access: the cluster's OIDC provider, service-account roles, pod identity associations.
    #[cfg(all(feature = "eks", feature = "iam"))]
    pub fn pod_access(&self) -> crate::pod_access::PodAccess {
        crate::pod_access::PodAccess::new(&self.ctx)
    }

    /// Route 53 hosted zones and records.
    #[cfg(feature = "route53")]
    pub fn dns(&self) -> crate::dns::Dns {
        crate::dns::Dns::new(&self.ctx)
    }

    /// CloudWatch health alarms and the SNS topic they notify.
    #[cfg(feature = "cloudwatch")]
    pub fn alarms(&self) -> crate::alarms::Alarms {
        crate::alarms::Alarms::new(&self.ctx)
    }

    /// KMS keys.
    #[cfg(feature = "kms")]
    pub fn kms(&self) -> crate::kms::Kms {
        crate::kms::Kms::new(&self.ctx)
    }

    /// The [`Database`](deploy_core::Database) on RDS: RDS instances or Aurora
    /// clusters, as the spec's engine says.
    #[cfg(feature = "rds")]
    pub fn rds(&self) -> crate::rds::RdsDatabase {
        crate::rds::RdsDatabase::new(&self.ctx)
    }

    /// Who the configured credentials belong to.
    ///
    /// # Errors
    /// As [`crate::sts::caller_identity`].
    #[cfg(feature = "sts")]
    pub async fn caller_identity(&self) -> deploy_core::Result<crate::sts::CallerIdentity> {
        crate::sts::caller_identity(&self.ctx).await
    }

    /// VPCs, subnets, security groups and VPC endpoints.
    #[cfg(feature = "ec2")]
    pub fn network(&self) -> crate::network::Network {
        crate::network::Network::new(&self.ctx)
    }

    /// EFS file systems.
    #[cfg(feature = "efs")]
    pub fn efs(&self) -> crate::efs::Efs {
        crate::efs::Efs::new(&self.ctx)
    }

    /// CloudWatch Logs groups.
    #[cfg(feature = "logs")]
    pub fn logs(&self) -> crate::logs::Logs {
        crate::logs::Logs::new(&self.ctx)
    }

    /// The [`SecretStore`](deploy_core::SecretStore) on Secrets Manager.
    #[cfg(feature = "secrets")]
    pub fn secrets(&self) -> crate::secrets::SecretsManagerStore {
        crate::secrets::SecretsManagerStore::new(&self.ctx)
    }

    /// The five backends an [`Environment`](deploy_core::env::Environment) is
    /// planned, applied, read and destroyed over: S3, RDS, EKS running as
    /// `roles`, Secrets Manager and AWS Backup, all from this context.
    ///
    /// The roles are only used to create clusters and node groups (deleting
    /// and reading need none): [`crate::eks::EksRolesSpec`] makes them.
    #[cfg(all(feature = "s3", feature = "rds", feature = "eks", feature = "secrets", feature = "backup"))]
    pub fn env_backends(&self, roles: crate::eks::EksRoles) -> deploy_core::env::Backends {
        use std::sync::Arc;
        deploy_core::env::Backends {
            cluster: Arc::new(self.eks(roles)),
            database: Arc::new(self.rds()),
            objects: Arc::new(self.s3()),
            secrets: Arc::new(self.secrets()),
            backup: deploy_core::env::BackupBackend::Vault(Arc::new(self.backup())),
            observer: deploy_core::Observer::default(),
        }
    }
}
