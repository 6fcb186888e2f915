//! Safe defaults, read back from the peers' own state: every data resource
//! made from a spec with nothing but its required fields is encrypted at rest,
//! databases are deletion-protected, TLS-only and private, buckets block public
//! access and refuse plain HTTP, and PostgreSQL connections are `verify-full`.
//!
//! What is read back, and from where:
//! - AWS (moto, through the SDK's own calls, not the library's describe
//!   functions): a bucket; the replica bucket that cross-region replication
//!   makes in another region; a PostgreSQL instance, a MySQL instance and an
//!   Aurora PostgreSQL cluster with their parameter groups.
//! - Azure (the fake ARM endpoint's stored resources): a storage account, a
//!   container and a PostgreSQL flexible server with its parameter and lock.
//! - PostgreSQL 15 (the TLS peer): a connection with the default TLS mode is
//!   refused when the server's certificate does not name the host it dialled,
//!   and when it does not chain to the given CA.
//!
//! Checked elsewhere, because their defaults are not the library's: the AWS
//! Backup vault and the alarm topic are encrypted with the customer-managed
//! keys the examples make (`alias/P-backup`, `alias/P-alerts`; read back in
//! `aws_examples` and `aws_dns_alarms`). A vault made without a key uses
//! AWS Backup's own `aws/backup` key (AWS has no unencrypted vault), which
//! moto does not model; an SNS topic for alarms must not use the AWS-managed
//! `alias/aws/sns` key, which CloudWatch cannot publish with. Secrets Manager
//! always encrypts (no switch to check).

use anyhow::{Context as _, Result, ensure};
use deploy::bootstrap::direct::{CaRoots, PgConnection, TlsMode};
use deploy::database::Engine;
use deploy::{
    BucketName, BucketSpec, Database as _, DatabaseSpec, ObjectStore as _, PasswordRules, PgIdentifier, Reconcile as _, ResourceName,
};
use deploy_aws::AwsBackends;
use deploy_aws::policy::denies_insecure_transport;
use deploy_aws::rds::RdsDatabase;
use deploy_aws::s3::{ReplicationSpec, RoleName};

use crate::support;
use crate::support::examples::prefix;

/// What makes a bucket safe: encrypted by default, all four public-access
/// blocks on, and a policy denying requests not made over TLS.
async fn bucket_is_safe(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<()> {
    let encryption = s3.get_bucket_encryption().bucket(bucket).send().await.with_context(|| format!("{bucket}: encryption"))?;
    let rules = encryption.server_side_encryption_configuration().map(|c| c.rules()).unwrap_or_default();
    ensure!(
        !rules.is_empty()
            && rules.iter().all(|r| r.apply_server_side_encryption_by_default().is_some_and(|d| !d.sse_algorithm().as_str().is_empty())),
        "{bucket} is not encrypted by default: {rules:?}"
    );
    let block = s3.get_public_access_block().bucket(bucket).send().await.with_context(|| format!("{bucket}: public access block"))?;
    let block = block.public_access_block_configuration().context("no public access block")?;
    ensure!(
        [block.block_public_acls(), block.ignore_public_acls(), block.block_public_policy(), block.restrict_public_buckets()]
            == [Some(true); 4],
        "{bucket} does not block every kind of public access: {block:?}"
    );
    let policy = s3.get_bucket_policy().bucket(bucket).send().await.with_context(|| format!("{bucket}: policy"))?;
    let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap_or("{}"))?;
    let statements = policy["Statement"].as_array().cloned().unwrap_or_default();
    ensure!(statements.iter().any(denies_insecure_transport), "{bucket} accepts plain HTTP: {policy}");
    Ok(())
}

/// The user-set parameters of a DB (cluster) parameter group, as name → value.
async fn parameters(rds: &RdsDatabase, group: &str, cluster: bool) -> Result<std::collections::BTreeMap<String, String>> {
    let rds = rds.client();
    let mut found = std::collections::BTreeMap::new();
    let mut marker = None;
    loop {
        let (params, next) = if cluster {
            let out = rds.describe_db_cluster_parameters().db_cluster_parameter_group_name(group).set_marker(marker).send().await?;
            (out.parameters().to_vec(), out.marker().map(str::to_owned))
        } else {
            let out = rds.describe_db_parameters().db_parameter_group_name(group).set_marker(marker).send().await?;
            (out.parameters().to_vec(), out.marker().map(str::to_owned))
        };
        for p in params {
            if let (Some(name), Some(value)) = (p.parameter_name(), p.parameter_value()) {
                found.insert(name.to_owned(), value.to_owned());
            }
        }
        match next {
            Some(m) => marker = Some(m),
            None => return Ok(found),
        }
    }
}

/// A spec with only its required fields (and the password RDS needs to create it).
fn minimal(name: ResourceName, engine: Engine, version: &str, class: &str) -> Result<DatabaseSpec> {
    let mut spec = DatabaseSpec::with_engine(name, engine, version, class, PgIdentifier::new("dbadmin")?);
    spec.admin_password = Some(PasswordRules::rds_master().generate(24)?);
    Ok(spec)
}

#[tokio::test]
async fn aws_resources_made_from_minimal_specs_are_safe_on_moto() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let sdk = moto.sdk_config().await;
    let aws = AwsBackends::from_conf(&sdk);
    let s3 = moto.s3_client().await;

    // Buckets: one made directly, and the replica that replication makes in another region.
    let store = aws.s3();
    let assets = BucketName::new(format!("{p}-assets"))?;
    store.ensure_bucket(&BucketSpec::new(assets.clone())).await?;
    let replica = BucketName::new(format!("{p}-assets-replica"))?;
    let replication = ReplicationSpec::new(assets.clone(), replica.clone(), "eu-west-1", RoleName::new(format!("{p}-replication"))?);
    store.replication(&aws.iam()).ensure(&replication).await?;
    for bucket in [&assets, &replica] {
        bucket_is_safe(&s3, bucket.as_str()).await?;
    }
    // The check can fail: a bucket with TLS and the public-access block switched off does not pass it.
    let mut unsafe_spec = BucketSpec::new(BucketName::new(format!("{p}-open"))?);
    (unsafe_spec.require_tls, unsafe_spec.block_public_access) = (false, false);
    store.ensure_bucket(&unsafe_spec).await?;
    ensure!(bucket_is_safe(&s3, unsafe_spec.name.as_str()).await.is_err(), "bucket_is_safe passed a bucket without TLS policy or block");

    // Databases: an instance of each engine family and an Aurora cluster.
    let rds = aws.rds();
    let client = rds.client();
    for (name, engine, version, class, tls) in [
        ("pg", Engine::Postgres, "15", "db.t4g.micro", ("rds.force_ssl", "1")),
        ("mysql", Engine::Mysql, "8.0", "db.t3.micro", ("require_secure_transport", "ON")),
    ] {
        let spec = minimal(ResourceName::new(format!("{p}-{name}"))?, engine, version, class)?;
        rds.ensure_database(&spec).await?;
        let out = client.describe_db_instances().db_instance_identifier(spec.name.as_str()).send().await?;
        let db = out.db_instances().first().context("no instance")?;
        ensure!(db.storage_encrypted() == Some(true), "{name}: not encrypted");
        ensure!(db.deletion_protection() == Some(true), "{name}: not deletion-protected");
        ensure!(db.publicly_accessible() != Some(true), "{name}: publicly accessible");
        let group = db.db_parameter_groups().first().and_then(|g| g.db_parameter_group_name()).context("no parameter group")?;
        let params = parameters(&rds, group, false).await?;
        ensure!(params.get(tls.0).map(String::as_str) == Some(tls.1), "{name}: {} is {:?} in {group}", tls.0, params.get(tls.0));
    }
    let spec = minimal(ResourceName::new(format!("{p}-aurora"))?, Engine::AuroraPostgresql, "15", "db.r6g.large")?;
    rds.ensure_database(&spec).await?;
    let out = client.describe_db_clusters().db_cluster_identifier(spec.name.as_str()).send().await?;
    let cluster = out.db_clusters().first().context("no cluster")?;
    ensure!(cluster.storage_encrypted() == Some(true), "aurora: not encrypted");
    ensure!(cluster.deletion_protection() == Some(true), "aurora: not deletion-protected");
    let group = cluster.db_cluster_parameter_group().context("no cluster parameter group")?;
    let params = parameters(&rds, group, true).await?;
    ensure!(params.get("rds.force_ssl").map(String::as_str) == Some("1"), "aurora: rds.force_ssl is {:?}", params.get("rds.force_ssl"));
    ensure!(!cluster.db_cluster_members().is_empty(), "aurora: no writer");
    for member in cluster.db_cluster_members() {
        let id = member.db_instance_identifier().unwrap_or_default();
        let out = client.describe_db_instances().db_instance_identifier(id).send().await?;
        ensure!(out.db_instances().iter().all(|i| i.publicly_accessible() != Some(true)), "aurora member {id}: publicly accessible");
    }
    Ok(())
}

/// An error and its sources, lowercase.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text.to_lowercase()
}

/// Forward TCP connections from `listen` (a loopback address, port 0) to the
/// PostgreSQL peer; the port it listens on.
async fn forwarder(listen: &str, pg: &support::PostgresConfig) -> Result<u16> {
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    let port = listener.local_addr()?.port();
    let upstream = (pg.host.clone(), pg.port);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    Ok(port)
}

#[tokio::test]
async fn postgres_connections_are_verify_full_by_default() -> Result<()> {
    let Some(pg) = support::postgres_peer() else { return Ok(()) };
    let connection = |host: &str, port: u16| PgConnection::new(host, &pg.user).with_port(port).with_password(pg.password.clone());
    // Without a CA named, the system roots are the trust anchors: the peer's test CA is not among them.
    ensure!(matches!(connection("localhost", pg.port).tls(), TlsMode::VerifyFull(CaRoots::System)), "the default is not verify-full");
    let unknown =
        connection("localhost", pg.port).connect().await.err().context("a server the system roots do not vouch for was accepted")?;
    ensure!(chain(&unknown).contains("certificate"), "refused, but not for the certificate: {}", chain(&unknown));

    // The same server through two forwarders: dialled as 127.0.0.1, a name in
    // its certificate, it is accepted; dialled as 127.0.0.2, which the
    // certificate does not name, it is refused (verify-ca would accept it).
    let named = forwarder("127.0.0.1:0", &pg).await?;
    connection("127.0.0.1", named)
        .with_ca_file(&pg.ca_file)
        .connect()
        .await
        .context("through the forwarder, as a name the certificate holds")?;
    let unnamed = forwarder("127.0.0.2:0", &pg).await?;
    let wrong_name = connection("127.0.0.2", unnamed).with_ca_file(&pg.ca_file).connect().await;
    let err = wrong_name.err().context("a certificate not naming 127.0.0.2 was accepted for it")?;
    let text = chain(&err);
    ensure!(text.contains("certificate") && text.contains("127.0.0.2"), "refused, but not for the name: {text}");
    Ok(())
}

#[tokio::test]
async fn azure_resources_made_from_minimal_specs_are_safe_on_the_fake_arm() -> Result<()> {
    use crate::azure_examples::fake_arm::FakeArm;
    use deploy::validate::ContainerName;
    use deploy_azure::arm::postgres::{DELETION_LOCK, FlexibleServers};
    use deploy_azure::arm::storage::{ContainerSpec, StorageAccountSpec};

    let fake = FakeArm::start().await;
    let arm = fake.client();
    let (group, account) = ("defaults-rg", "defaultsassets");
    let container = ContainerName::new("assets")?;
    arm.ensure(&StorageAccountSpec::new(group, account, "westeurope")).await?;
    arm.ensure(&ContainerSpec::new(group, account, container.clone())).await?;
    let stored = fake.resource(&arm.storage_account_id(group, account)).context("no storage account")?;
    let props = &stored["properties"];
    ensure!(
        props["allowBlobPublicAccess"] == false && props["supportsHttpsTrafficOnly"] == true && props["minimumTlsVersion"] == "TLS1_2",
        "storage account not private and TLS-only: {props}"
    );
    let stored = fake.resource(&arm.container_id(group, account, &container)).context("no container")?;
    ensure!(stored["properties"]["publicAccess"].as_str().unwrap_or("None") == "None", "container is public: {stored}");

    let servers = FlexibleServers::new(arm.clone(), group, "westeurope")?;
    let mut spec = DatabaseSpec::postgres(ResourceName::new("defaults-pg")?, "16", "Standard_D2ds_v4", PgIdentifier::new("dbadmin")?);
    spec.admin_password = Some(PasswordRules::azure_postgres().generate(24)?);
    spec.storage_gib = 32; // the smallest flexible-server size (the neutral default, 20, is RDS's)
    servers.ensure_database(&spec).await?;
    let id = servers.server_id("defaults-pg");
    let server = fake.resource(&id).context("no server")?;
    ensure!(server["properties"]["network"]["publicNetworkAccess"] == "Disabled", "server is public: {server}");
    let tls = fake.resource(&format!("{id}/configurations/require_secure_transport")).context("require_secure_transport never set")?;
    ensure!(tls["properties"]["value"] == "ON", "require_secure_transport: {tls}");
    let lock = fake.resource(&format!("{id}/providers/Microsoft.Authorization/locks/{DELETION_LOCK}")).context("no deletion lock")?;
    ensure!(lock["properties"]["level"] == "CanNotDelete", "lock: {lock}");
    Ok(())
}
