//! A `kube::Client` from the user's kubeconfig or from a Cluster backend's
//! credentials, with the time limits of [`Timeouts`].

use deploy_core::ClusterCredentials;
use deploy_core::timeouts::Timeouts;
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

/// Put `timeouts` on `config`: connecting within `connect`; each answer (and
/// each write) within `attempt`, counted from when the request was sent.
/// A Job's wait watches again when a watch stream breaks on that limit, within
/// its own deadline.
pub fn apply_timeouts(config: &mut kube::Config, timeouts: &Timeouts) {
    config.connect_timeout = Some(timeouts.connect);
    config.read_timeout = Some(timeouts.attempt);
    config.write_timeout = Some(timeouts.attempt);
    // Without it, the time a pooled connection sat idle counts against the next answer.
    config.reset_reader_on_write = true;
}

/// A client from the environment as `kubectl` finds it: `KUBECONFIG` or
/// `~/.kube/config`, else the in-cluster service account; with the default
/// [`Timeouts`].
///
/// # Errors
/// [`Error::Kubeconfig`] when neither is usable.
pub async fn client_from_env() -> Result<kube::Client> {
    client_from_env_with(&Timeouts::default()).await
}

/// [`client_from_env`] with the caller's time limits.
///
/// # Errors
/// [`Error::Kubeconfig`] when neither is usable.
pub async fn client_from_env_with(timeouts: &Timeouts) -> Result<kube::Client> {
    ensure_crypto_provider();
    let mut config = kube::Config::infer()
        .await
        .map_err(|e| Error::Kubeconfig { message: "no usable kubeconfig or in-cluster config".into(), source: Some(Box::new(e)) })?;
    apply_timeouts(&mut config, timeouts);
    kube::Client::try_from(config).map_err(|e| Error::Kubeconfig { message: "cannot build a client".into(), source: Some(Box::new(e)) })
}

/// A client from the credentials a `Cluster` backend hands out (a bearer token
/// with the API server's URL and CA, or a whole kubeconfig), with the default
/// [`Timeouts`].
///
/// # Errors
/// [`Error::Kubeconfig`] when the kubeconfig does not parse or names no usable
/// cluster (the message never includes the token).
pub async fn client_from_credentials(credentials: &ClusterCredentials) -> Result<kube::Client> {
    client_from_credentials_with(credentials, &Timeouts::default()).await
}

/// [`client_from_credentials`] with the caller's time limits.
///
/// # Errors
/// As [`client_from_credentials`].
pub async fn client_from_credentials_with(credentials: &ClusterCredentials, timeouts: &Timeouts) -> Result<kube::Client> {
    ensure_crypto_provider();
    let kubeconfig = credentials.to_kubeconfig();
    // The parser's and loader's errors quote the document, token included: they are not kept.
    let kubeconfig = Kubeconfig::from_yaml(kubeconfig.expose_secret()).map_err(|_| Error::Kubeconfig {
        message: format!("the kubeconfig of cluster {} is not valid YAML", credentials.cluster),
        source: None,
    })?;
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.map_err(|_| Error::Kubeconfig {
            message: format!("the kubeconfig of cluster {} names no usable cluster, user and context", credentials.cluster),
            source: None,
        })?;
    apply_timeouts(&mut config, timeouts);
    kube::Client::try_from(config).map_err(|e| Error::Kubeconfig { message: "cannot build a client".into(), source: Some(Box::new(e)) })
}
