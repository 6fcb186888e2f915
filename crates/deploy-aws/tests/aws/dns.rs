//! Route 53 hosted zones and records against moto.

use deploy_aws::dns::{Dns, DnsName, RecordSpec, RecordType, Ttl, ZoneSpec, ZoneVisibility};
use deploy_aws::{AwsBackends, RequestLog};
use deploy_core::plan::Action;
use deploy_core::{Confirm, Error, Reconcile as _};

use crate::support::{moto, names, unreachable_config};

fn zone_name() -> DnsName {
    DnsName::new(format!("{}.deploy-test.example", names().prefix())).unwrap()
}

fn records(zone: &DnsName) -> Vec<RecordSpec> {
    let at = |label: &str| DnsName::new(format!("{label}.{zone}")).unwrap();
    vec![
        RecordSpec::parse(at("app").as_str(), "A", 300, &["203.0.113.10", "203.0.113.11"]).unwrap(),
        RecordSpec::parse(at("app").as_str(), "AAAA", 300, &["2001:db8::10"]).unwrap(),
        RecordSpec::cname(at("www"), Ttl::new(600).unwrap(), at("app")),
        RecordSpec::txt(zone.clone(), Ttl::new(3600).unwrap(), ["owner=deploy tests", "say \"hi\""]).unwrap(),
        RecordSpec::alias_to_load_balancer(at("lb"), RecordType::A, "Z215JYRZR1TBD5", "my-lb-123.eu-central-1.elb.amazonaws.com", true)
            .unwrap(),
    ]
}

#[tokio::test]
async fn zone_and_records_are_ensured_once_and_read_back() {
    let conf = moto!("dns::zone_and_records_are_ensured_once_and_read_back");
    let log = RequestLog::new();
    let dns = AwsBackends::from_conf(&conf).with_request_log(&log).dns();
    let zone = zone_name();
    let spec = ZoneSpec::public(zone.clone()).with_comment("deploy tests").with_records(records(&zone));

    let planned = dns.plan(&spec).await.unwrap();
    assert_eq!(planned.len(), 6, "{planned}");
    assert!(log.mutating().is_empty(), "plan mutated: {:?}", log.mutating());

    let first = dns.ensure(&spec).await.unwrap();
    assert!(matches!(first.plan.changes.as_slice(), [c, ..] if c.action == Action::Create && c.kind == "hosted zone"), "{}", first.plan);
    assert_eq!(first.plan.len(), 6, "{}", first.plan);
    assert_eq!((log.count("CreateHostedZone"), log.count("ChangeResourceRecordSets")), (1, 1), "{:?}", log.requests());
    assert!(!first.info.zone.private);
    assert!(!first.info.zone.name_servers.is_empty(), "a public zone has name servers");

    // Read back through the SDK.
    let raw = dns.client();
    let sets = raw.list_resource_record_sets().hosted_zone_id(&first.info.zone.id).send().await.unwrap();
    let find = |name: &str, t: &str| {
        sets.resource_record_sets().iter().find(|s| s.name().trim_end_matches('.') == name && s.r#type().as_str() == t).cloned()
    };
    let a = find(&format!("app.{zone}"), "A").expect("A record");
    let mut ips: Vec<&str> = a.resource_records().iter().map(|r| r.value()).collect();
    ips.sort_unstable();
    assert_eq!((a.ttl(), ips), (Some(300), vec!["203.0.113.10", "203.0.113.11"]));
    let cname = find(&format!("www.{zone}"), "CNAME").expect("CNAME record");
    assert_eq!(cname.resource_records()[0].value().trim_end_matches('.'), format!("app.{zone}"));
    let txt = find(zone.as_str(), "TXT").expect("TXT record");
    let texts: Vec<&str> = txt.resource_records().iter().map(|r| r.value()).collect();
    assert!(texts.contains(&"\"owner=deploy tests\""), "{texts:?}");
    let alias = find(&format!("lb.{zone}"), "A").expect("alias record");
    let target = alias.alias_target().expect("an alias target");
    assert_eq!(target.hosted_zone_id(), "Z215JYRZR1TBD5");
    assert!(target.evaluate_target_health());
    assert!(find(zone.as_str(), "NS").is_some() && find(zone.as_str(), "SOA").is_some());

    // The second ensure changes nothing and makes no mutating request.
    log.clear();
    let again = dns.ensure(&spec).await.unwrap();
    assert!(again.plan.is_empty(), "{}", again.plan);
    assert!(log.mutating().is_empty(), "second ensure made mutating requests: {:?}", log.mutating());
    assert_eq!(again.info.zone.id, first.info.zone.id, "a second zone was made");
    let found = dns.describe_zone(&zone, &ZoneVisibility::Public).await.unwrap();
    assert_eq!(found.id, first.info.zone.id);
    assert_eq!(found.comment, "deploy tests");

    // Drift on one record is one UPSERT of that record.
    let mut changed = spec.clone();
    changed.records[0] = RecordSpec::parse(&format!("app.{zone}"), "A", 60, &["203.0.113.10"]).unwrap();
    log.clear();
    let repaired = dns.ensure(&changed).await.unwrap();
    let fields: Vec<&str> = match repaired.plan.changes.as_slice() {
        [c] => match &c.action {
            Action::Update { fields } => fields.iter().map(|f| f.field.as_str()).collect(),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    assert_eq!(fields, ["ttl", "values"]);
    assert_eq!(log.mutating().len(), 1, "{:?}", log.mutating());
    let a = repaired.info.records.iter().find(|r| r.name.as_str() == format!("app.{zone}") && r.record_type == "A").unwrap();
    assert_eq!((a.ttl, a.values.clone()), (Some(60), vec!["203.0.113.10".to_owned()]));

    // Deleting needs the zone's name.
    let refused = dns.delete_zone(&again.info.zone, &Confirm::new("someone-else")).await.unwrap_err();
    assert!(matches!(refused, Error::ConfirmationRequired { .. }), "{refused}");
    let deleted = dns
        .delete_records(
            &again.info.zone,
            &[(DnsName::new(format!("www.{zone}")).unwrap(), RecordType::Cname)],
            &Confirm::new(zone.as_str()),
        )
        .await
        .unwrap();
    assert_eq!(deleted.len(), 1, "{deleted}");
    dns.delete_zone(&again.info.zone, &Confirm::new(zone.as_str())).await.unwrap();
    assert!(dns.describe_zone(&zone, &ZoneVisibility::Public).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn a_private_zone_is_found_by_its_vpc() {
    let conf = moto!("dns::a_private_zone_is_found_by_its_vpc");
    let log = RequestLog::new();
    let dns = AwsBackends::from_conf(&conf).with_request_log(&log).dns();
    let zone = zone_name();
    let vpc = "vpc-0123456789abcdef0";
    let spec = ZoneSpec::private(zone.clone(), vpc, "eu-central-1").with_records([RecordSpec::parse(
        &format!("db.{zone}"),
        "CNAME",
        300,
        &["db.internal.example"],
    )
    .unwrap()]);
    let first = dns.ensure(&spec).await.unwrap();
    assert!(first.info.zone.private);
    assert!(first.info.zone.vpcs.iter().any(|(id, region)| id == vpc && region == "eu-central-1"), "{:?}", first.info.zone.vpcs);
    log.clear();
    let again = dns.ensure(&spec).await.unwrap();
    assert!(again.plan.is_empty() && log.mutating().is_empty(), "{} {:?}", again.plan, log.mutating());
    assert_eq!(again.info.zone.id, first.info.zone.id);
    // The public zone of the same name is another zone.
    assert!(dns.describe_zone(&zone, &ZoneVisibility::Public).await.unwrap_err().is_not_found());
    dns.delete_zone(&first.info.zone, &Confirm::new(zone.as_str())).await.unwrap();
}

#[tokio::test]
async fn bad_names_ttls_and_zones_fail_before_any_request() {
    let log = RequestLog::new();
    let dns = AwsBackends::from_conf(&unreachable_config().await).with_request_log(&log).dns();
    let zone = DnsName::new("example.com").unwrap();
    let bad_label = RecordSpec::parse(&format!("{}.example.com", "a".repeat(64)), "A", 60, &["192.0.2.1"]).unwrap_err();
    assert_eq!(bad_label.invalid_field(), Some("name"), "{bad_label}");
    assert_eq!(DnsName::new("under score!.example.com").unwrap_err().invalid_field(), Some("name"));
    assert_eq!(Ttl::new(3_000_000_000).unwrap_err().invalid_field(), Some("ttl"));
    let bad_ttl = RecordSpec::parse("a.example.com", "A", 2_147_483_648, &["192.0.2.1"]).unwrap_err();
    assert_eq!(bad_ttl.invalid_field(), Some("ttl"), "{bad_ttl}");

    let outside = ZoneSpec::public(zone.clone()).with_records([RecordSpec::parse("a.example.org", "A", 60, &["192.0.2.1"]).unwrap()]);
    let e = dns.ensure(&outside).await.unwrap_err();
    assert_eq!(e.invalid_field(), Some("records[0].name"), "{e}");
    let e = dns.plan(&outside).await.unwrap_err();
    assert_eq!(e.invalid_field(), Some("records[0].name"), "{e}");
    let empty =
        ZoneSpec::public(zone.clone()).with_records([RecordSpec::a(DnsName::new("a.example.com").unwrap(), Ttl::new(60).unwrap(), [])]);
    assert_eq!(dns.ensure(&empty).await.unwrap_err().invalid_field(), Some("records[0].values"));
    let private = ZoneSpec::private(zone, "vpc-xyz", "eu-central-1");
    assert_eq!(dns.ensure(&private).await.unwrap_err().invalid_field(), Some("visibility.vpc_id"));
    assert!(log.requests().is_empty(), "requests were sent: {:?}", log.requests());
}

#[tokio::test]
async fn dns_of_an_sdk_config_alone_works() {
    let conf = moto!("dns::dns_of_an_sdk_config_alone_works");
    let zone = zone_name();
    let info = Dns::new(&deploy_aws::AwsContext::new(&conf)).ensure(&ZoneSpec::public(zone.clone())).await.unwrap().info;
    assert_eq!(info.zone.name, zone);
    assert!(info.records.iter().any(|r| r.record_type == "SOA"));
    Dns::new(&deploy_aws::AwsContext::new(&conf)).delete_zone(&info.zone, &Confirm::new(zone.as_str())).await.unwrap();
}
