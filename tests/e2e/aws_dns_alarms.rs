//! `aws_dns_records` and `aws_health_alarms` as real processes against moto:
//! `--plan` makes no mutating request, the first run makes some, the second
//! none, and what they made is read back through the SDK.

use anyhow::{Context as _, Result, ensure};
use deploy_aws::alarms::{Alarms, TopicName};
use deploy_aws::dns::{Dns, DnsName, ZoneVisibility};
use deploy_aws::kms::{KeyAlias, Kms};

use crate::support::examples::{Recorder, prefix, refuses_bad_prefix, run, twice};
use crate::support::{self, MotoConfig};

#[tokio::test]
async fn aws_dns_records_makes_one_zone_and_its_records() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let (first, second) = twice(&moto, "aws_dns_records", &["--prefix", &p])?;
    ensure!(first.stdout.contains("create hosted zone"), "{}", first.show());
    ensure!(second.stdout.contains("(no changes)"), "{}", second.show());
    refuses_bad_prefix(&moto, "aws_dns_records", &[])?;

    let dns = Dns::new(&deploy_aws::AwsContext::new(&moto.sdk_config().await));
    let zone_name = DnsName::new(format!("{p}.example.com"))?;
    let zone = dns.describe_zone(&zone_name, &ZoneVisibility::Public).await?;
    let zones = dns.client().list_hosted_zones_by_name().dns_name(zone_name.as_str()).send().await?;
    let same_name = zones.hosted_zones().iter().filter(|z| z.name().trim_end_matches('.') == zone_name.as_str()).count();
    ensure!(same_name == 1, "expected one zone named {zone_name}, found {same_name}");
    let sets = dns.client().list_resource_record_sets().hosted_zone_id(&zone.id).send().await?;
    let values = |name: &str, t: &str| -> Vec<String> {
        sets.resource_record_sets()
            .iter()
            .filter(|s| s.name().trim_end_matches('.') == name && s.r#type().as_str() == t)
            .flat_map(|s| s.resource_records().iter().map(|r| r.value().trim_end_matches('.').to_owned()))
            .collect()
    };
    ensure!(values(&format!("app.{zone_name}"), "A") == ["203.0.113.10"], "A: {:?}", values(&format!("app.{zone_name}"), "A"));
    ensure!(values(&format!("app.{zone_name}"), "AAAA") == ["2001:db8::10"], "AAAA");
    ensure!(values(&format!("www.{zone_name}"), "CNAME") == [format!("app.{zone_name}")], "CNAME");
    ensure!(values(zone_name.as_str(), "TXT") == ["\"managed-by=deploy\""], "TXT: {:?}", values(zone_name.as_str(), "TXT"));

    // An alias to a load balancer is added by a later run, and only it.
    let lb = ["--prefix", &p, "--lb-dns", "my-lb-1.eu-central-1.elb.amazonaws.com", "--lb-zone-id", "Z215JYRZR1TBD5"];
    let with_lb = run(&moto, "aws_dns_records", &lb)?;
    ensure!(with_lb.assert_ok("--lb-dns").mutating() == 1, "{}", with_lb.show());
    let again = run(&moto, "aws_dns_records", &lb)?;
    ensure!(again.assert_ok("--lb-dns again").mutating() == 0, "{}", again.show());

    // Bad input, before any request.
    let bad = run(&moto, "aws_dns_records", &["--prefix", &p, "--vpc-id", "vpc-nothex"])?;
    ensure!(!bad.ok && bad.stderr.contains("vpc_id") && bad.mutating.unwrap_or(0) == 0, "a bad --vpc-id was accepted\n{}", bad.show());
    Ok(())
}

#[tokio::test]
async fn aws_health_alarms_makes_the_deeploy_alarms_and_topic() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let email = format!("ops+{p}@example.com");
    let args = ["--prefix", p.as_str(), "--email", email.as_str()];
    let (first, _) = twice(&moto, "aws_health_alarms", &args)?;
    // The runs and reads below go through a proxy too: current aws-sdk-cloudwatch speaks RPC v2 CBOR, moto JSON 1.0 (support::cbor).
    let translator = Recorder::start(&moto.endpoint)?;
    let via = MotoConfig { endpoint: translator.endpoint.clone() };
    ensure!(first.stdout.contains("create cloudwatch alarm"), "{}", first.show());
    refuses_bad_prefix(&moto, "aws_health_alarms", &[])?;

    let alarms = Alarms::new(&deploy_aws::AwsContext::new(&via.sdk_config().await));
    let topic = alarms.describe_topic(&TopicName::new(format!("{p}-alerts"))?).await?;
    ensure!(topic.subscriptions.iter().any(|s| s.protocol == "email" && s.endpoint == email), "no e-mail subscription: {topic:?}");
    // Encrypted by default, with a key CloudWatch may publish with.
    let alias = format!("alias/{p}-alerts");
    ensure!(topic.kms_key_id.as_deref() == Some(alias.as_str()), "topic key {:?}", topic.kms_key_id);
    let key = Kms::new(&deploy_aws::AwsContext::new(&moto.sdk_config().await)).describe_key(&KeyAlias::new(&alias)?).await?;
    ensure!(key.rotation && key.state == "Enabled", "{key:?}");
    let publisher = key.policy["Statement"].as_array().into_iter().flatten().any(|s| {
        s["Principal"]["Service"] == serde_json::json!(["cloudwatch.amazonaws.com"])
            || s["Principal"]["Service"] == "cloudwatch.amazonaws.com"
    });
    ensure!(publisher, "CloudWatch may not use the topic key: {}", key.policy);
    let described = alarms.cloudwatch().describe_alarms().alarm_name_prefix(format!("{p}-")).send().await?;
    let found = described.metric_alarms();
    ensure!(found.len() == 6, "expected 6 alarms, found {}", found.len());
    for (suffix, metric) in [
        ("db-cpu", "CPUUtilization"),
        ("db-free-storage", "FreeStorageSpace"),
        ("db-connections", "DatabaseConnections"),
        ("db-burst-balance", "BurstBalance"),
        ("db-cpu-credits", "CPUCreditBalance"),
        ("backup-jobs-failed", "NumberOfBackupJobsFailed"),
    ] {
        let a = found
            .iter()
            .find(|a| a.alarm_name() == Some(format!("{p}-{suffix}").as_str()))
            .with_context(|| format!("no alarm {suffix}"))?;
        ensure!(a.metric_name() == Some(metric), "{suffix} watches {:?}", a.metric_name());
        ensure!(a.alarm_actions() == [topic.arn.clone()], "{suffix} does not notify the topic: {:?}", a.alarm_actions());
        if suffix.starts_with("db-") {
            ensure!(a.dimensions().iter().any(|d| d.value() == Some(format!("{p}-db").as_str())), "{suffix} is not on {p}-db");
        }
    }
    let cpu = found.iter().find(|a| a.alarm_name() == Some(format!("{p}-db-cpu").as_str())).context("no cpu alarm")?;
    ensure!(cpu.threshold() == Some(80.0), "cpu threshold {:?}", cpu.threshold());

    // A changed threshold is one PutMetricAlarm; a bad one none.
    let changed = run(&via, "aws_health_alarms", &[&args[..], &["--cpu-percent", "90"]].concat())?;
    ensure!(changed.assert_ok("--cpu-percent 90").mutating() == 1, "{}", changed.show());
    let bad = run(&via, "aws_health_alarms", &[&args[..], &["--cpu-percent", "150"]].concat())?;
    ensure!(
        !bad.ok && bad.stderr.contains("threshold") && bad.mutating.unwrap_or(0) == 0,
        "a threshold of 150 % was accepted\n{}",
        bad.show()
    );
    Ok(())
}
