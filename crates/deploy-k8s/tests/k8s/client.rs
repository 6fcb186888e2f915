//! Clients from a Cluster backend's credentials.

use deploy_core::cluster::{ClusterAuth, ClusterCredentials};
use secrecy::SecretString;

#[tokio::test]
async fn a_client_is_built_from_a_bearer_token_without_leaking_it() {
    let credentials = ClusterCredentials {
        cluster: "vectice".into(),
        server: "https://127.0.0.1:6443".into(),
        certificate_authority_pem: None,
        auth: ClusterAuth::BearerToken { token: SecretString::from("SENTINEL-token"), expires: None },
    };
    let client = deploy_k8s::client_from_credentials(&credentials).await.unwrap();
    assert_eq!(client.default_namespace(), "default");
    assert!(!format!("{credentials:?}").contains("SENTINEL"));
}

#[tokio::test]
async fn a_bad_kubeconfig_is_an_error_that_holds_no_secret() {
    let credentials = ClusterCredentials {
        cluster: "aks".into(),
        server: String::new(),
        certificate_authority_pem: None,
        auth: ClusterAuth::Kubeconfig(SecretString::from("not: [yaml: SENTINEL")),
    };
    let Err(err) = deploy_k8s::client_from_credentials(&credentials).await else { panic!("a bad kubeconfig was accepted") };
    assert!(matches!(err, deploy_k8s::Error::Kubeconfig { .. }));
    assert!(!format!("{err} {err:?}").contains("SENTINEL"), "{err:?}");
}
