//! The `aws_aurora_replicated` example as a real process against moto: `--plan`
//! makes no mutating request, the first run builds the Aurora MySQL cluster
//! with its reader in another zone and its replica region, the second run makes
//! no mutating request, and a replica in the cluster's own region is refused
//! before any request, naming the field.

use anyhow::{Result, ensure};
use deploy::database::Engine;
use deploy::{Database as _, ResourceName};
use deploy_aws::rds::RdsDatabase;

use crate::support::examples::{prefix, run, twice};
use crate::support::{self, MOTO_REGION};

#[tokio::test]
async fn aws_aurora_replicated_twice_changes_nothing_the_second_time() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let (first, second) = twice(&moto, "aws_aurora_replicated", &["--prefix", &p, "--replica-region", "us-west-2"])?;
    ensure!(first.stdout.contains(&format!("{p}-db-replica")), "the first run did not create the replica cluster\n{}", first.show());
    ensure!(second.stdout.contains("(no changes)"), "the second run planned changes\n{}", second.show());

    let sdk = moto.sdk_config().await;
    let db = RdsDatabase::new(&deploy_aws::AwsContext::new(&sdk)).describe_database(&ResourceName::new(format!("{p}-db"))?).await?;
    ensure!(db.engine == Engine::AuroraMysql, "engine {}", db.engine);
    ensure!(db.require_tls && db.deletion_protection && db.encrypted, "not TLS-only, protected and encrypted: {db:?}");
    let writer = db.topology.writer_zone.clone().unwrap_or_default();
    ensure!(writer == format!("{MOTO_REGION}a"), "writer in {writer}");
    ensure!(db.topology.readers.iter().all(|r| r.zone != writer) && db.topology.readers.len() == 1, "readers {:?}", db.topology.readers);
    ensure!(
        db.topology.cross_region_replica.as_ref().is_some_and(|r| r.region == "us-west-2"),
        "replica {:?}",
        db.topology.cross_region_replica
    );

    let same = run(&moto, "aws_aurora_replicated", &["--prefix", &p, "--replica-region", MOTO_REGION])?;
    ensure!(!same.ok, "a replica in the cluster's own region was accepted\n{}", same.show());
    ensure!(same.stderr.contains("topology.cross_region_replica.region"), "the error does not name the field\n{}", same.show());
    ensure!(same.mutating() == 0, "refused input made mutating requests\n{}", same.show());
    Ok(())
}
