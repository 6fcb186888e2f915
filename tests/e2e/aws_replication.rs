//! `aws_bucket_replication` as a real process against moto: `--plan` makes no
//! mutating request, the first run makes some, the second none, what it made
//! is read back through the SDK, and a replica region equal to the source's is
//! refused before any request.

use anyhow::{Context as _, Result, ensure};
use aws_sdk_s3::types::ReplicationRuleStatus;
use deploy_aws::iam::{Iam, IamName};
use deploy_aws::policy::PolicyDocument;

use crate::support::examples::{prefix, refuses_bad_prefix, run, twice};
use crate::support::{self, MOTO_REGION};

#[tokio::test]
async fn aws_bucket_replication_replicates_the_assets_to_another_region() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let args = ["--prefix", p.as_str(), "--replica-region", "us-west-2"];
    let (first, second) = twice(&moto, "aws_bucket_replication", &args)?;
    ensure!(first.stdout.contains("create replication rule"), "{}", first.show());
    ensure!(second.stdout.contains("replication as specified: yes"), "{}", second.show());
    ensure!(!second.stdout.contains("DIFF"), "{}", second.show());
    refuses_bad_prefix(&moto, "aws_bucket_replication", &[])?;

    // The replica bucket is in us-west-2, versioned; the source is versioned.
    let s3 = moto.s3_client().await;
    let (source, replica) = (format!("{p}-assets"), format!("{p}-assets-replica"));
    let location = s3.get_bucket_location().bucket(&replica).send().await?;
    ensure!(
        location.location_constraint().map(|l| l.as_str()) == Some("us-west-2"),
        "replica location {:?}",
        location.location_constraint()
    );
    for bucket in [&source, &replica] {
        let versioning = s3.get_bucket_versioning().bucket(bucket).send().await?;
        ensure!(versioning.status().map(|s| s.as_str()) == Some("Enabled"), "{bucket} is not versioned");
    }

    // The rule replicates to the replica through the role.
    let sdk = moto.sdk_config().await;
    let iam = Iam::new(&deploy_aws::AwsContext::new(&sdk));
    let role = iam.describe_role(&IamName::new(format!("{p}-replication"))?).await?;
    let config = s3.get_bucket_replication().bucket(&source).send().await?;
    let config = config.replication_configuration().context("no replication configuration")?;
    ensure!(config.role() == role.arn, "role {} is not {}", config.role(), role.arn);
    let rule = config.rules().iter().find(|r| r.id() == Some(format!("replicate-to-{replica}").as_str())).context("no rule")?;
    ensure!(rule.status() == &ReplicationRuleStatus::Enabled, "rule status {:?}", rule.status());
    ensure!(
        rule.destination().map(|d| d.bucket()) == Some(format!("arn:aws:s3:::{replica}").as_str()),
        "destination {:?}",
        rule.destination()
    );

    // The role trusts S3; its policy names both buckets and never "*".
    ensure!(role.trust.to_string().contains("s3.amazonaws.com"), "trust {}", role.trust);
    let policy = iam.describe_policy(&IamName::new(format!("{p}-replication"))?).await?;
    ensure!(role.managed_policies.contains(&policy.arn), "the policy is not attached");
    ensure!(!PolicyDocument::from_json(&policy.document.to_string())?.has_wildcard_resource(), "Resource \"*\": {}", policy.document);
    let text = policy.document.to_string();
    ensure!(text.contains(&format!("arn:aws:s3:::{source}/*")) && text.contains(&format!("arn:aws:s3:::{replica}/*")), "{text}");

    // A replica region equal to the source's: refused before any request, the field named.
    let bad = run(&moto, "aws_bucket_replication", &["--prefix", &prefix(), "--replica-region", MOTO_REGION])?;
    ensure!(!bad.ok && bad.stderr.contains("destination_region"), "the source's own region was accepted\n{}", bad.show());
    ensure!(bad.mutating.unwrap_or(0) == 0 && !bad.stdout.contains("== plan"), "the refusal made requests\n{}", bad.show());
    Ok(())
}
