//! The core table of bad specs against the AWS backends through a recording
//! proxy in front of moto: every spec is refused naming its field and no
//! request reaches the proxy (but the one read a missing admin password
//! needs); refused restore times read only.

use anyhow::{Result, ensure};
use deploy::Database as _;
use deploy::conformance::{ClusterSuite, DatabaseSuite, Names, bad_restore_times, bad_specs};
use deploy_aws::AwsBackends;
use deploy_aws::eks::EksRoles;

use crate::support::fault_proxy::{FaultConfig, FaultProxy};
use crate::support::{self, MotoConfig};

#[tokio::test]
async fn bad_specs_never_reach_the_wire() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let proxy = FaultProxy::start(&moto.endpoint, FaultConfig { capture_body_limit: 1 << 20, ..FaultConfig::transparent() }).await?;
    let aws = AwsBackends::from_conf(&MotoConfig { endpoint: proxy.endpoint() }.sdk_config().await);
    let roles =
        EksRoles { cluster_role_arn: "arn:aws:iam::123456789012:role/c".into(), node_role_arn: "arn:aws:iam::123456789012:role/n".into() };
    let names = Names::unique();
    let (db_suite, cluster_suite) =
        (DatabaseSuite::postgres("15", "db.t3.micro", &deploy::PasswordRules::rds_master()), ClusterSuite::new("1.31", "m5.large"));
    let n = bad_specs((&aws.rds(), &db_suite), (&aws.eks(roles), &cluster_suite), &aws.backup(), &names).await;
    // One read is expected: a missing admin password is bad input only when the
    // instance has to be created, which RDS learns from one DescribeDBInstances.
    let reached: Vec<String> = proxy
        .captured()
        .iter()
        .map(|c| format!("{} {}", c.method, c.body.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()))
        .collect();
    let password_lookup = format!("POST Action=DescribeDBInstances&Version=2014-10-31&DBInstanceIdentifier={}", names.resource("bad-db"));
    ensure!(reached.iter().all(|r| *r == password_lookup) && reached.len() <= 1, "bad specs reached the proxy: {reached:?}");

    // A real source instance, then restores outside its window: reads only.
    let mut spec = deploy::DatabaseSpec::postgres(names.resource("src"), "15", "db.t4g.micro", deploy::PgIdentifier::new("dbadmin")?);
    spec.admin_password = Some(deploy::PasswordRules::rds_master().generate(24)?);
    aws.rds().ensure_database(&spec).await?;
    proxy.clear();
    let m = bad_restore_times(&aws.rds(), &spec.name, &names).await;
    // RDS speaks the query protocol: every call is a POST, named by its Action.
    let actions: Vec<String> = proxy
        .captured()
        .iter()
        .filter_map(|c| {
            c.body.as_ref().and_then(|b| String::from_utf8_lossy(b).split('&').find_map(|kv| kv.strip_prefix("Action=").map(str::to_owned)))
        })
        .collect();
    ensure!(!actions.is_empty() && actions.iter().all(|a| a.starts_with("Describe")), "a refused restore did more than read: {actions:?}");
    ensure!(n + m >= 25, "only {} cases", n + m);
    aws.rds().set_deletion_protection(&spec.name, false).await?;
    aws.rds().delete_database(&spec.name, &deploy::database::FinalSnapshot::Skip, &deploy::Confirm::new(spec.name.as_str())).await?;
    Ok(())
}
