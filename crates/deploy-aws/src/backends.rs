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

    /// The [`Cluster`](deploy_core::Cluster) on EKS, running as `roles`.
    #[cfg(feature = "eks")]
    pub fn eks(&self, roles: crate::eks::EksRoles) -> crate::eks::EksCluster {
        crate::eks::EksCluster::new(&self.ctx, roles)
    }

    /// Who the configured credentials belong to.
    ///
    /// # Errors
    /// As [`crate::sts::caller_identity`].
    #[cfg(feature = "sts")]
    pub async fn caller_identity(&self) -> deploy_core::Result<crate::sts::CallerIdentity> {
        crate::sts::caller_identity(&self.ctx).await
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

/// Each service built from the context alone: its doc, its `cfg`, the
/// accessor's name and the backend type (`X::new(&ctx)`). A new service is
/// one entry here.
macro_rules! services {
    ($($(#[doc = $doc:literal])* $cfg:meta, $name:ident => $ty:ty;)*) => {
        impl AwsBackends {
            $(
                $(#[doc = $doc])*
                #[cfg($cfg)]
                pub fn $name(&self) -> $ty {
                    <$ty>::new(&self.ctx)
                }
            )*
        }
    };
}

services! {
    /// The [`ObjectStore`](deploy_core::ObjectStore) on S3.
    feature = "s3", s3 => crate::s3::S3Store;
    /// The [`BackupVault`](deploy_core::BackupVault) on AWS Backup.
    feature = "backup", backup => crate::backup::AwsBackupVault;
    /// IAM users, policies and roles.
    feature = "iam", iam => crate::iam::Iam;
    /// Keyless pod access: the cluster's OIDC provider, service-account roles, pod identity associations.
    all(feature = "eks", feature = "iam"), pod_access => crate::pod_access::PodAccess;
    /// Route 53 hosted zones and records.
    feature = "route53", dns => crate::dns::Dns;
    /// CloudWatch health alarms and the SNS topic they notify.
    feature = "cloudwatch", alarms => crate::alarms::Alarms;
    /// KMS keys.
    feature = "kms", kms => crate::kms::Kms;
    /// The [`Database`](deploy_core::Database) on RDS: RDS instances or Aurora
    /// clusters, as the spec's engine says.
    feature = "rds", rds => crate::rds::RdsDatabase;
    /// VPCs, subnets, security groups and VPC endpoints.
    feature = "ec2", network => crate::network::Network;
    /// EFS file systems.
    feature = "efs", efs => crate::efs::Efs;
    /// CloudWatch Logs groups.
    feature = "logs", logs => crate::logs::Logs;
    /// The [`SecretStore`](deploy_core::SecretStore) on Secrets Manager.
    feature = "secrets", secrets => crate::secrets::SecretsManagerStore;
}
