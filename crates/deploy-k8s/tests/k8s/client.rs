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

/// A server that accepts connections and never answers: a call ends within
/// the client's attempt timeout, as a typed error, instead of hanging.
#[tokio::test]
async fn a_server_that_never_answers_ends_within_the_timeout() {
    use std::time::Duration;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let credentials = ClusterCredentials {
        cluster: "silent".into(),
        server: format!("http://127.0.0.1:{port}"),
        certificate_authority_pem: None,
        auth: ClusterAuth::BearerToken { token: SecretString::from("SENTINEL-token"), expires: None },
    };
    let timeouts = deploy_core::timeouts::Timeouts::default().with_attempt(Duration::from_millis(300));
    let client = deploy_k8s::client_from_credentials_with(&credentials, &timeouts).await.unwrap();
    let jobs: kube::Api<k8s_openapi::api::batch::v1::Job> = kube::Api::namespaced(client, "ns");
    let started = std::time::Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(20), jobs.list(&Default::default())).await;
    let err = outcome.expect("the call hung past 20 s: no read timeout").unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert!(!format!("{err:?}").contains("SENTINEL"));
    held.abort();
}
