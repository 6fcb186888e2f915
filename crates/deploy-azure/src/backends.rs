//! [`AzureBackends`]: the Azure backends of an environment, from one
//! subscription, credential, resource group and location.
//!
//! Nothing inside the crate imports this module: it only hands out the
//! backends each module builds (`FlexibleServers`, `AksClusters`, `BlobStore`,
//! `KeyVaultSecrets`).

use std::fmt;
use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use deploy_core::Result;
use deploy_core::env::{Backends, BackupBackend};

use crate::arm::ArmClient;
use crate::arm::aks::AksClusters;
use crate::arm::postgres::FlexibleServers;
use crate::blob::BlobStore;
use crate::keyvault::KeyVaultSecrets;

/// Where an environment's blobs and secrets live: a storage account's blob
/// endpoint and a Key Vault's URL (both existing; the storage account and
/// vault themselves are ARM resources, `arm::storage`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AzureStores {
    /// The blob endpoint (`https://ACCOUNT.blob.core.windows.net`).
    pub blob_endpoint: String,
    /// The Key Vault's URL (`https://NAME.vault.azure.net`).
    pub key_vault_url: String,
}

impl AzureStores {
    /// The public cloud's endpoints of storage account `account` and Key Vault `vault`.
    pub fn named(account: &str, vault: &str) -> Self {
        AzureStores {
            blob_endpoint: format!("https://{account}.blob.core.windows.net"),
            key_vault_url: format!("https://{vault}.vault.azure.net"),
        }
    }

    /// The storage account the blob endpoint names: the first label of
    /// `https://ACCOUNT.blob.…`, or the first path segment of a local
    /// emulator's `http://127.0.0.1:PORT/ACCOUNT` (Azurite, on a loopback
    /// host); `None` for another shape (a custom domain names no account).
    ///
    /// ```
    /// use deploy_azure::AzureStores;
    /// assert_eq!(AzureStores::named("acmeassets", "kv").account().as_deref(), Some("acmeassets"));
    /// let azurite = AzureStores { blob_endpoint: "http://127.0.0.1:10000/devstoreaccount1".into(), key_vault_url: String::new() };
    /// assert_eq!(azurite.account().as_deref(), Some("devstoreaccount1"));
    /// let proxy = AzureStores { blob_endpoint: "https://files.example.com/assets".into(), key_vault_url: String::new() };
    /// assert_eq!(proxy.account(), None);
    /// ```
    pub fn account(&self) -> Option<String> {
        let rest = self.blob_endpoint.split_once("://")?.1;
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = host.split(':').next().unwrap_or(host);
        let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        match host.split_once(".blob.") {
            Some((account, _)) => Some(account.to_owned()),
            None if loopback => path.split(['/', '?']).next().filter(|a| !a.is_empty()).map(str::to_owned),
            None => None,
        }
    }
}

/// The Azure backends of one resource group and location: PostgreSQL flexible
/// servers, AKS clusters, Blob Storage and Key Vault, each built (and its
/// settings checked) once, here, before any request.
#[derive(Clone)]
pub struct AzureBackends {
    arm: ArmClient,
    resource_group: String,
    location: String,
    stores: AzureStores,
    servers: FlexibleServers,
    clusters: AksClusters,
    blob: BlobStore,
    secrets: Arc<KeyVaultSecrets>,
}

impl fmt::Debug for AzureBackends {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureBackends")
            .field("subscription_id", &self.arm.subscription_id())
            .field("resource_group", &self.resource_group)
            .field("location", &self.location)
            .field("blob", &self.blob)
            .field("secrets", &self.secrets)
            .finish_non_exhaustive()
    }
}

impl AzureBackends {
    /// The backends of `subscription_id` on the public cloud's Resource
    /// Manager, signed in with `credential`, in `resource_group` (which must
    /// exist) at `location`, with the blobs and secrets of `stores`. No request is made.
    ///
    /// # Errors
    /// [`deploy_core::Error::InvalidInput`] naming the setting that breaks its rule
    /// (`subscription_id`, `resource_group`, `location`, `endpoint`, `vault_url`).
    pub fn new(
        subscription_id: &str,
        credential: Arc<dyn TokenCredential>,
        resource_group: &str,
        location: &str,
        stores: &AzureStores,
    ) -> Result<Self> {
        let arm = ArmClient::builder(subscription_id, credential.clone()).build()?;
        Self::with_arm(arm, credential, resource_group, location, stores)
    }

    /// As [`AzureBackends::new`], over an ARM client built elsewhere (another
    /// endpoint, retries, waiter); `credential` signs the blob and Key Vault requests.
    ///
    /// # Errors
    /// As [`AzureBackends::new`].
    pub fn with_arm(
        arm: ArmClient,
        credential: Arc<dyn TokenCredential>,
        resource_group: &str,
        location: &str,
        stores: &AzureStores,
    ) -> Result<Self> {
        let timeouts = arm.timeouts();
        let blob = BlobStore::builder().endpoint(&stores.blob_endpoint).token_credential(credential.clone()).timeouts(timeouts).build()?;
        let secrets = KeyVaultSecrets::builder(&stores.key_vault_url, credential).timeouts(timeouts).build()?;
        Self::from_parts(arm, resource_group, location, stores, blob, secrets)
    }

    /// As [`AzureBackends::new`], over clients built elsewhere (a blob store
    /// signed with a SAS, a Key Vault client with its own transport);
    /// `stores` says where they point (outputs, the storage account's name).
    ///
    /// # Errors
    /// [`deploy_core::Error::InvalidInput`] on `resource_group` or `location`.
    pub fn from_parts(
        arm: ArmClient,
        resource_group: &str,
        location: &str,
        stores: &AzureStores,
        blob: BlobStore,
        secrets: KeyVaultSecrets,
    ) -> Result<Self> {
        Ok(AzureBackends {
            servers: FlexibleServers::new(arm.clone(), resource_group, location)?,
            clusters: AksClusters::new(arm.clone(), resource_group, location)?,
            blob,
            secrets: Arc::new(secrets),
            arm,
            resource_group: resource_group.to_owned(),
            location: location.to_owned(),
            stores: stores.clone(),
        })
    }

    /// Where the blobs and secrets are.
    pub fn stores(&self) -> &AzureStores {
        &self.stores
    }

    /// The ARM client.
    pub fn arm(&self) -> &ArmClient {
        &self.arm
    }

    /// The subscription.
    pub fn subscription_id(&self) -> &str {
        self.arm.subscription_id()
    }

    /// The resource group.
    pub fn resource_group(&self) -> &str {
        &self.resource_group
    }

    /// The location.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The [`Database`](deploy_core::Database) on PostgreSQL flexible servers.
    pub fn postgres(&self) -> &FlexibleServers {
        &self.servers
    }

    /// The [`Cluster`](deploy_core::Cluster) on AKS.
    pub fn aks(&self) -> &AksClusters {
        &self.clusters
    }

    /// The [`ObjectStore`](deploy_core::ObjectStore) on Blob Storage.
    pub fn blob(&self) -> &BlobStore {
        &self.blob
    }

    /// The [`SecretStore`](deploy_core::SecretStore) on Key Vault.
    pub fn key_vault(&self) -> &KeyVaultSecrets {
        &self.secrets
    }

    /// The five backends of an [`Environment`](deploy_core::env::Environment):
    /// AKS, flexible servers, Blob Storage, Key Vault, and no backup vault —
    /// Azure has no neutral one, so an environment with a `backup` section is
    /// refused before any request, naming what Azure offers instead
    /// ([`crate::backup::INSTEAD_OF_A_VAULT`]).
    pub fn env_backends(&self) -> Backends {
        Backends {
            cluster: Arc::new(self.clusters.clone()),
            database: Arc::new(self.servers.clone()),
            objects: Arc::new(self.blob.clone()),
            secrets: self.secrets.clone(),
            backup: BackupBackend::Unavailable { cloud: "azure", instead: crate::backup::INSTEAD_OF_A_VAULT.to_owned() },
            observer: deploy_core::Observer::default(),
        }
    }
}
