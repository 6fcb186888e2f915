//! [`AwsBackends`]: every enabled service, from the caller's `SdkConfig`.

use std::fmt;

use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use aws_types::SdkConfig;
use deploy_core::waiter::Waiter;

use crate::record::RequestLog;

/// The entry point: the caller's [`SdkConfig`] (region, credentials, retry
/// settings, endpoint), optional interceptors and the waiter for long
/// operations; hands out the backend of each enabled service.
///
/// Each backend can also be built on its own (`S3Store::new(&sdk_config)`,
/// `S3Store::from_client(client)`) when you already hold a client.
#[derive(Clone)]
pub struct AwsBackends {
    sdk_config: SdkConfig,
    interceptors: Vec<SharedInterceptor>,
    waiter: Waiter,
}

impl AwsBackends {
    /// Backends over `sdk_config`, waiting up to 60 minutes for long operations.
    pub fn from_conf(sdk_config: &SdkConfig) -> Self {
        AwsBackends { sdk_config: sdk_config.clone(), interceptors: Vec::new(), waiter: default_waiter() }
    }

    /// Record every operation of the backends handed out from now on in `log`.
    #[must_use]
    pub fn with_request_log(mut self, log: &RequestLog) -> Self {
        self.interceptors.push(log.interceptor());
        self
    }

    /// Install an SDK interceptor on every client handed out from now on.
    #[must_use]
    pub fn with_interceptor(mut self, interceptor: SharedInterceptor) -> Self {
        self.interceptors.push(interceptor);
        self
    }

    /// Bound every request of the clients handed out from now on by
    /// `timeouts` (connect, per attempt, per operation), replacing the
    /// timeouts of the `SdkConfig`. Without it, the `SdkConfig`'s own limits
    /// apply, and [`deploy_core::Timeouts::default`] wherever it sets none.
    #[must_use]
    pub fn with_timeouts(mut self, timeouts: deploy_core::Timeouts) -> Self {
        self.sdk_config = self.sdk_config.to_builder().timeout_config(crate::timeout_config(&timeouts)).build();
        self
    }

    /// Wait for long operations (an instance becoming available) with `waiter`.
    #[must_use]
    pub fn with_waiter(mut self, waiter: Waiter) -> Self {
        self.waiter = waiter;
        self
    }

    /// The SDK configuration.
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk_config
    }

    /// The waiter of long operations.
    pub fn waiter(&self) -> &Waiter {
        &self.waiter
    }

    /// The interceptors installed on every client.
    pub fn interceptors(&self) -> &[SharedInterceptor] {
        &self.interceptors
    }

    /// The [`ObjectStore`](deploy_core::ObjectStore) on S3.
    #[cfg(feature = "s3")]
    pub fn s3(&self) -> crate::s3::S3Store {
        crate::s3::S3Store::from_client(crate::s3::client(&self.sdk_config, &self.interceptors))
    }

    /// The [`BackupVault`](deploy_core::BackupVault) on AWS Backup, waiting with [`AwsBackends::waiter`].
    #[cfg(feature = "backup")]
    pub fn backup(&self) -> crate::backup::AwsBackupVault {
        crate::backup::AwsBackupVault::from_client(crate::backup::client(&self.sdk_config, &self.interceptors))
            .with_waiter(self.waiter.clone())
    }

    /// The [`Cluster`](deploy_core::Cluster) on EKS, running as `roles`, waiting with [`AwsBackends::waiter`].
    #[cfg(feature = "eks")]
    pub fn eks(&self, roles: crate::eks::EksRoles) -> crate::eks::EksCluster {
        crate::eks::EksCluster::from_client(crate::eks::client(&self.sdk_config, &self.interceptors), &self.sdk_config, roles)
            .with_waiter(self.waiter.clone())
    }

    /// IAM users, policies and roles.
    #[cfg(feature = "iam")]
    pub fn iam(&self) -> crate::iam::Iam {
        crate::iam::Iam::from_client(crate::iam::client(&self.sdk_config, &self.interceptors))
    }

    /// Keyless pod access: the cluster's OIDC provider, service-account roles, pod identity associations.
    #[cfg(all(feature = "eks", feature = "iam"))]
    pub fn pod_access(&self) -> crate::pod_access::PodAccess {
        crate::pod_access::PodAccess::from_clients(crate::eks::client(&self.sdk_config, &self.interceptors), self.iam())
    }

    /// Route 53 hosted zones and records.
    #[cfg(feature = "route53")]
    pub fn dns(&self) -> crate::dns::Dns {
        crate::dns::Dns::from_client(crate::dns::client(&self.sdk_config, &self.interceptors))
    }

    /// CloudWatch health alarms and the SNS topic they notify.
    #[cfg(feature = "cloudwatch")]
    pub fn alarms(&self) -> crate::alarms::Alarms {
        crate::alarms::Alarms::from_clients(
            crate::alarms::cloudwatch_client(&self.sdk_config, &self.interceptors),
            crate::alarms::sns_client(&self.sdk_config, &self.interceptors),
        )
    }

    /// KMS keys.
    #[cfg(feature = "kms")]
    pub fn kms(&self) -> crate::kms::Kms {
        crate::kms::Kms::from_client(crate::kms::client(&self.sdk_config, &self.interceptors))
    }

    /// The [`Database`](deploy_core::Database) on RDS for PostgreSQL, waiting with [`AwsBackends::waiter`].
    #[cfg(feature = "rds")]
    pub fn rds(&self) -> crate::rds::RdsDatabase {
        crate::rds::RdsDatabase::from_client(crate::rds::client(&self.sdk_config, &self.interceptors)).with_waiter(self.waiter.clone())
    }

    /// Who the configured credentials belong to.
    ///
    /// # Errors
    /// As [`crate::sts::caller_identity`].
    #[cfg(feature = "sts")]
    pub async fn caller_identity(&self) -> deploy_core::Result<crate::sts::CallerIdentity> {
        crate::sts::caller_identity(&crate::sts::client(&self.sdk_config, &self.interceptors)).await
    }

    /// VPCs, subnets, security groups and VPC endpoints (waiting with the backends' waiter).
    #[cfg(feature = "ec2")]
    pub fn network(&self) -> crate::network::Network {
        crate::network::Network::from_client(crate::network::client(&self.sdk_config, &self.interceptors)).with_waiter(self.waiter.clone())
    }

    /// The [`SecretStore`](deploy_core::SecretStore) on Secrets Manager.
    #[cfg(feature = "secrets")]
    pub fn secrets(&self) -> crate::secrets::SecretsManagerStore {
        crate::secrets::SecretsManagerStore::from_client(crate::secrets::client(&self.sdk_config, &self.interceptors))
    }
}

impl fmt::Debug for AwsBackends {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsBackends")
            .field("region", &self.sdk_config.region())
            .field("endpoint_url", &self.sdk_config.endpoint_url())
            .field("interceptors", &self.interceptors.len())
            .field("waiter", &self.waiter)
            .finish()
    }
}

/// The core's provisioning preset ([`Waiter::provisioning`]).
pub(crate) fn default_waiter() -> Waiter {
    Waiter::provisioning()
}
