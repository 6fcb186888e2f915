//! A `kube::Client` from the user's kubeconfig or from a Cluster backend's credentials.

use deploy_core::ClusterCredentials;
use kube::config::{KubeConfigOptions, Kubeconfig};
use secrecy::ExposeSecret;

use crate::error::{Error, Result};

/// A client from the environment as `kubectl` finds it: `KUBECONFIG` or
/// `~/.kube/config`, else the in-cluster service account.
///
/// # Errors
/// [`Error::Kubeconfig`] when neither is usable.
pub async fn client_from_env() -> Result<kube::Client> {
    kube::Client::try_default()
        .await
        .map_err(|e| Error::Kubeconfig { message: "no usable kubeconfig or in-cluster config".into(), source: Some(Box::new(e)) })
}

/// A client from the credentials a `Cluster` backend hands out (a bearer token
/// with the API server's URL and CA, or a whole kubeconfig).
///
/// # Errors
/// [`Error::Kubeconfig`] when the kubeconfig does not parse or names no usable
/// cluster (the message never includes the token).
pub async fn client_from_credentials(credentials: &ClusterCredentials) -> Result<kube::Client> {
    let kubeconfig = credentials.to_kubeconfig();
    let kubeconfig = Kubeconfig::from_yaml(kubeconfig.expose_secret())
        .map_err(|e| Error::Kubeconfig { message: format!("the kubeconfig of cluster {} does not parse", credentials.cluster), source: Some(Box::new(e)) })?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| Error::Kubeconfig { message: format!("the kubeconfig of cluster {} is not usable", credentials.cluster), source: Some(Box::new(e)) })?;
    kube::Client::try_from(config).map_err(|e| Error::Kubeconfig { message: "cannot build a client".into(), source: Some(Box::new(e)) })
}
