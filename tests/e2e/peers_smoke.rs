//! Smoke tests of the peers themselves: each official client reaches its peer
//! the way the backends will, and the peer behaves as the harness promises
//! (Azurite checks the SAS signature; PostgreSQL takes TLS under verify-full
//! only). If one of these fails, look at the harness before the backends.

use anyhow::{Context as _, Result, ensure};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use azure_core::http::{RequestContent, StatusCode};
use secrecy::{ExposeSecret as _, SecretString};

use crate::support::{self, MOTO_REGION};

#[tokio::test]
async fn moto_s3_put_get_roundtrip() -> Result<()> {
    let Some(moto) = support::moto_peer() else {
        return Ok(());
    };
    let s3 = moto.s3_client().await;
    let bucket = format!("deploy-smoke-{}", support::unique_suffix());
    let key = "dir/hello.bin";
    let body: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();

    s3.create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(MOTO_REGION)).build(),
        )
        .send()
        .await
        .with_context(|| format!("CreateBucket {bucket} on {}", moto.endpoint))?;

    let location = s3.get_bucket_location().bucket(&bucket).send().await?;
    assert_eq!(location.location_constraint().map(|c| c.as_str()), Some(MOTO_REGION));

    s3.put_object().bucket(&bucket).key(key).body(ByteStream::from(body.clone())).send().await?;
    let got = s3.get_object().bucket(&bucket).key(key).send().await?;
    assert_eq!(got.content_length(), Some(body.len() as i64));
    let bytes = got.body.collect().await?.into_bytes();
    assert_eq!(bytes.as_ref(), body.as_slice(), "object bytes differ after the round trip");

    s3.delete_object().bucket(&bucket).key(key).send().await?;
    s3.delete_bucket().bucket(&bucket).send().await?;
    Ok(())
}

#[tokio::test]
async fn azurite_blob_roundtrip_with_account_sas() -> Result<()> {
    let Some(azurite) = support::azurite_peer() else {
        return Ok(());
    };
    let container_name = format!("smoke-{}", support::unique_suffix());
    let container = azurite.container_client(&container_name)?;
    let body: Vec<u8> = b"hello from deploy over an account SAS\n".repeat(100);

    container.create(None).await.with_context(|| format!("creating container {container_name}"))?;
    ensure!(container.exists().await?, "container {container_name} missing right after create");

    let blob = container.blob_client("dir/hello.txt");
    blob.upload(RequestContent::from(body.clone()), None).await.context("uploading the blob")?;
    let downloaded = blob.download(None).await.context("downloading the blob")?;
    let got = downloaded.body.collect().await?;
    assert_eq!(got.as_ref(), body.as_slice(), "blob bytes differ after the round trip");

    // Azurite really checks the signature: a SAS signed with another key is refused.
    let wrong_key = SecretString::from("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==");
    let forged = azurite.container_client_with_sas(&container_name, &azurite.account_sas_with_key(wrong_key))?;
    let err = forged.blob_client("dir/hello.txt").download(None).await.err().context("a SAS signed with the wrong key was accepted")?;
    assert_eq!(err.http_status(), Some(StatusCode::Forbidden), "{err}");

    container.delete(None).await.context("deleting the container")?;
    Ok(())
}

#[tokio::test]
async fn postgres_tls_login_verify_full() -> Result<()> {
    let Some(pg) = support::postgres_peer() else {
        return Ok(());
    };
    let client = pg.connect().await.context("TLS login with the generated CA (verify-full)")?;

    let marker = format!("deploy-smoke-{}", support::unique_suffix());
    let row = client.query_one("SELECT ssl, $1::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[&marker]).await?;
    let ssl: bool = row.get(0);
    assert!(ssl, "pg_stat_ssl says this connection is not encrypted");
    let echoed: String = row.get(1);
    assert_eq!(echoed, marker);

    // DEPLOY_PG_LOG_FILE is the live server log with every statement in it,
    // and the superuser password (set by initdb --pwfile) is nowhere in it.
    let log = std::fs::read_to_string(&pg.log_file).with_context(|| format!("reading the server log {}", pg.log_file.display()))?;
    assert!(log.contains("FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), "statement not in the server log");
    assert!(!log.contains(pg.password.expose_secret()), "the superuser password appears in the server log");
    Ok(())
}

#[tokio::test]
async fn postgres_plaintext_connection_is_refused() -> Result<()> {
    let Some(pg) = support::postgres_peer() else {
        return Ok(());
    };
    let mut config = pg.pg_config();
    config.ssl_mode(tokio_postgres::config::SslMode::Disable);
    let err = match config.connect(tokio_postgres::NoTls).await {
        Ok(_) => panic!("a plaintext connection to the TLS-only server succeeded"),
        Err(e) => e,
    };
    // Refused by the server's `hostnossl ... reject` line, not by a network error.
    let db = err.as_db_error().with_context(|| format!("expected a server error, got: {err:?}"))?;
    assert_eq!(db.code(), &tokio_postgres::error::SqlState::INVALID_AUTHORIZATION_SPECIFICATION, "{db}");
    assert!(db.message().contains("no encryption"), "unexpected refusal: {db}");
    Ok(())
}

#[tokio::test]
async fn postgres_tls_with_unrelated_ca_fails() -> Result<()> {
    let Some(pg) = support::postgres_peer() else {
        return Ok(());
    };
    let err = match pg.connect_with_ca(&pg.wrong_ca_file).await {
        Ok(_) => panic!("TLS login succeeded while trusting only an unrelated CA"),
        Err(e) => e,
    };
    // The client refused the certificate during the handshake; the server never
    // got to authenticate anyone.
    let pg_err = err.downcast_ref::<tokio_postgres::Error>().with_context(|| format!("unexpected error: {err:?}"))?;
    assert!(pg_err.as_db_error().is_none(), "the server answered instead of the TLS check failing: {pg_err}");
    let chain = format!("{err:?}");
    assert!(chain.to_lowercase().contains("certificate"), "not a certificate failure: {chain}");

    // The right CA on the same server still works, so the failure above is the CA's.
    pg.connect().await.context("TLS login with the right CA")?;
    Ok(())
}
