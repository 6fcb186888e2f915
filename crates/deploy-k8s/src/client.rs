//! A `kube::Client` from the user's kubeconfig or from a Cluster backend's credentials.

use deploy_core::ClusterCredentials;
use kube::config::{KubeConfigOptions, Kubeconfig};
use secrecy::ExposeSecret;

use crate::error::{Error, Result};

/// kube's `rustls-tls` selects no TLS provider, and a process with both of
/// rustls's providers compiled in has no default: install ring unless the
/// program installed one.
fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: a provider is installed either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// A client from the environment as `kubectl` finds it: `KUBECONFIG` or
/// `~/.kube/config`, else the in-cluster service account.
///
/// # Errors
/// [`Error::Kubeconfig`] when neither is usable.
pub async fn client_from_env() -> Result<kube::Client> {
    ensure_crypto_provider();
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
    ensure_crypto_provider();
    let kubeconfig = credentials.to_kubeconfig();
    // The parser's and loader's errors quote the document, token included: they are not kept.
    let kubeconfig = Kubeconfig::from_yaml(kubeconfig.expose_secret())
        .map_err(|_| Error::Kubeconfig { message: format!("the kubeconfig of cluster {} is not valid YAML", credentials.cluster), source: None })?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|_| Error::Kubeconfig { message: format!("the kubeconfig of cluster {} names no usable cluster, user and context", credentials.cluster), source: None })?;
    kube::Client::try_from(config).map_err(|e| Error::Kubeconfig { message: "cannot build a client".into(), source: Some(Box::new(e)) })
}
