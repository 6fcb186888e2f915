//! Route 53: a hosted zone found by its name (public, or private to one VPC)
//! and the records in it — the host names of an application's services.
//!
//! Names and values are typed and checked before any request: [`DnsName`]
//! (labels of 1 to 63 letters, digits, `-` and `_`, at most 253 characters, an
//! optional leading `*` label), [`Ttl`], and per type the values of a
//! [`RecordSpec`] (IPv4 for `A`, IPv6 for `AAAA`, one target name for
//! `CNAME`, printable text for `TXT`, or an alias to a load balancer). Every
//! record must lie in its zone.
//!
//! [`Dns`] reconciles a [`ZoneSpec`] ([`Reconcile`]: `plan` / `ensure`) idempotently: it finds the zone by name (and VPC, for
//! a private zone) before creating one, with a `CallerReference` made from the
//! name; then it sends one `ChangeResourceRecordSets` of `UPSERT`s for the
//! records that are missing or differ, and none when all match. Records of the
//! zone that the spec does not name are left alone. Deleting records or the
//! zone needs a [`Confirm`] naming the zone.
//!
//! ```no_run
//! # async fn example(ctx: &deploy_aws::AwsContext) -> deploy_core::Result<()> {
//! use deploy_aws::dns::{Dns, DnsName, RecordSpec, Ttl, ZoneSpec};
//! use deploy_core::Reconcile;
//!
//! let zone = DnsName::new("acme.example.com")?;
//! let spec = ZoneSpec::public(zone).with_records([
//!     RecordSpec::a(DnsName::new("app.acme.example.com")?, Ttl::new(300)?, ["203.0.113.10".parse().unwrap()]),
//!     RecordSpec::txt(DnsName::new("acme.example.com")?, Ttl::new(300)?, ["owner=platform"])?,
//! ]);
//! let ensured = Dns::new(ctx).ensure(&spec).await?;
//! println!("{} {:?}\n{}", ensured.info.zone.id, ensured.info.zone.name_servers, ensured.plan);
//! # Ok(())
//! # }
//! ```

use std::net::{Ipv4Addr, Ipv6Addr};

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    AliasTarget as AwsAliasTarget, Change as AwsChange, ChangeAction, ChangeBatch, HostedZoneConfig, ResourceRecord, ResourceRecordSet,
    RrType, Vpc, VpcRegion,
};
use deploy_core::plan::{Change, FieldChange, Plan};
use deploy_core::{Confirm, Error, Result};

use crate::context::AwsContext;
use crate::error::{Op, SdkResultExt, build_error, missing};
use deploy_core::reconcile::{Mode, Reconcile, Reconciled};

const SERVICE: &str = "aws-route53";

const fn op(operation: &'static str) -> Op {
    Op::new(SERVICE, operation)
}

const CHANGE: Op = op("ChangeResourceRecordSets");

mod spec;

use spec::RecordState;
pub use spec::{AliasTarget, DnsName, RecordData, RecordInfo, RecordSpec, RecordType, Ttl, ZoneInfo, ZoneSpec, ZoneState, ZoneVisibility};

/// Route 53 hosted zones and records. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct Dns {
    client: Client,
}

impl Dns {
    /// Route 53 built from `ctx`.
    pub fn new(ctx: &AwsContext) -> Self {
        Dns { client: ctx.client() }
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The zone named `name` with this visibility: the public zone of that
    /// name, or the private zone of that name associated with the VPC.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Conflict`] when several public zones have the name.
    pub async fn describe_zone(&self, name: &DnsName, visibility: &ZoneVisibility) -> Result<ZoneInfo> {
        self.find_zone(name, visibility).await?.ok_or_else(|| Error::not_found("hosted zone", name.as_str()))
    }

    async fn find_zone(&self, name: &DnsName, visibility: &ZoneVisibility) -> Result<Option<ZoneInfo>> {
        let list = op("ListHostedZonesByName");
        let mut candidates = Vec::new();
        let (mut next_name, mut next_id): (Option<String>, Option<String>) = (Some(name.to_string()), None);
        'pages: while let Some(dns_name) = next_name.take() {
            let out = self
                .client
                .list_hosted_zones_by_name()
                .dns_name(dns_name)
                .set_hosted_zone_id(next_id.take())
                .max_items(100)
                .send()
                .await
                .on(list, "hosted zone", name.as_str())?;
            for zone in out.hosted_zones() {
                // Zones come sorted by name from the one asked for: stop at the first other name.
                if DnsName::from_route53(zone.name()).ok().as_ref() != Some(name) {
                    break 'pages;
                }
                let private = zone.config().is_some_and(|c| c.private_zone());
                if private == matches!(visibility, ZoneVisibility::Private { .. }) {
                    candidates.push(zone.id().to_owned());
                }
            }
            if out.is_truncated() {
                next_name = out.next_dns_name().map(str::to_owned);
                next_id = out.next_hosted_zone_id().map(str::to_owned);
            }
        }
        let mut matching = Vec::new();
        for id in candidates {
            let zone = self.get_zone(&id, name).await?;
            match visibility {
                ZoneVisibility::Public => matching.push(zone),
                ZoneVisibility::Private { vpc_id, .. } => {
                    if zone.vpcs.iter().any(|(v, _)| v == vpc_id) {
                        matching.push(zone);
                    }
                }
            }
        }
        match matching.len() {
            0 => Ok(None),
            1 => Ok(matching.pop()),
            _ => Err(Error::conflict(
                "hosted zone",
                name.as_str(),
                format!("{} zones match: {}", matching.len(), matching.iter().map(|z| z.id.as_str()).collect::<Vec<_>>().join(", ")),
            )),
        }
    }

    async fn get_zone(&self, id: &str, name: &DnsName) -> Result<ZoneInfo> {
        let get = op("GetHostedZone");
        let out = self.client.get_hosted_zone().id(id).send().await.on(get, "hosted zone", name.as_str())?;
        let zone = out.hosted_zone().ok_or_else(|| missing(get, "hosted zone"))?;
        Ok(ZoneInfo {
            id: zone.id().trim_start_matches("/hostedzone/").to_owned(),
            name: DnsName::from_route53(zone.name()).unwrap_or_else(|_| name.clone()),
            private: zone.config().is_some_and(|c| c.private_zone()),
            vpcs: out
                .vpcs()
                .iter()
                .filter_map(|v| Some((v.vpc_id()?.to_owned(), v.vpc_region().map(|r| r.as_str().to_owned()).unwrap_or_default())))
                .filter(|(id, _)| !id.is_empty())
                .collect(),
            name_servers: out.delegation_set().map(|d| d.name_servers().to_vec()).unwrap_or_default(),
            comment: zone.config().and_then(|c| c.comment()).unwrap_or_default().to_owned(),
            caller_reference: zone.caller_reference().to_owned(),
        })
    }

    /// Every record set of `zone`.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the zone is gone; provider errors.
    pub async fn list_records(&self, zone: &ZoneInfo) -> Result<Vec<RecordInfo>> {
        let list = op("ListResourceRecordSets");
        let mut records = Vec::new();
        let (mut start_name, mut start_type): (Option<String>, Option<RrType>) = (None, None);
        loop {
            let out = self
                .client
                .list_resource_record_sets()
                .hosted_zone_id(&zone.id)
                .set_start_record_name(start_name.take())
                .set_start_record_type(start_type.take())
                .send()
                .await
                .on(list, "hosted zone", zone.name.as_str())?;
            for set in out.resource_record_sets() {
                records
                    .push(record_info(set).map_err(|e| bad_answer(list, &format!("a record name Route 53 answered is not valid: {e}")))?);
            }
            if !out.is_truncated() || out.next_record_name().is_none() {
                break;
            }
            start_name = out.next_record_name().map(str::to_owned);
            start_type = out.next_record_type().cloned();
        }
        Ok(records)
    }

    async fn create_zone(&self, spec: &ZoneSpec) -> Result<ZoneInfo> {
        let create = op("CreateHostedZone");
        let mut reference = spec.caller_reference();
        for attempt in 0..2 {
            let mut request = self.client.create_hosted_zone().name(spec.name.as_str()).caller_reference(&reference).hosted_zone_config(
                HostedZoneConfig::builder()
                    .comment(&spec.comment)
                    .private_zone(matches!(spec.visibility, ZoneVisibility::Private { .. }))
                    .build(),
            );
            if let ZoneVisibility::Private { vpc_id, vpc_region } = &spec.visibility {
                request = request.vpc(Vpc::builder().vpc_id(vpc_id).vpc_region(VpcRegion::from(vpc_region.as_str())).build());
            }
            match request.send().await.on(create, "hosted zone", spec.name.as_str()) {
                Ok(out) => {
                    let id = out.hosted_zone().ok_or_else(|| missing(create, "hosted zone"))?.id().to_owned();
                    return self.get_zone(&id, &spec.name).await;
                }
                // The reference was used before: by a concurrent or retried create
                // (the zone exists now), or by a zone since deleted (a fresh reference).
                Err(e) if matches!(e, Error::AlreadyExists { .. }) && attempt == 0 => {
                    if let Some(zone) = self.find_zone(&spec.name, &spec.visibility).await? {
                        return Ok(zone);
                    }
                    let now = jiff::Timestamp::now().as_second().to_string();
                    reference.truncate(128 - now.len() - 1);
                    reference = format!("{reference}/{now}");
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::already_exists("hosted zone", spec.name.as_str()))
    }

    /// Delete the record sets `records` (name and type) from `zone`, where
    /// present. `confirm` must name the zone.
    ///
    /// # Errors
    /// [`Error::ConfirmationRequired`] before any request; provider errors.
    pub async fn delete_records(&self, zone: &ZoneInfo, records: &[(DnsName, RecordType)], confirm: &Confirm) -> Result<Plan> {
        confirm.check("delete records of hosted zone", zone.name.as_str())?;
        let current = self.list_records(zone).await?;
        let doomed: Vec<&RecordInfo> =
            current.iter().filter(|r| records.iter().any(|(name, t)| *name == r.name && t.as_str() == r.record_type)).collect();
        self.delete_record_sets(zone, &doomed).await
    }

    async fn delete_record_sets(&self, zone: &ZoneInfo, doomed: &[&RecordInfo]) -> Result<Plan> {
        if doomed.is_empty() {
            return Ok(Plan::new());
        }
        let sets = doomed
            .iter()
            .map(|r| {
                record_set(r.name.as_str(), RrType::from(r.record_type.as_str()), &RecordState::of(r)).map_err(|e| build_error(CHANGE, e))
            })
            .collect::<Result<Vec<_>>>()?;
        self.change_records(zone, format!("deploy: delete records of {}", zone.name), ChangeAction::Delete, sets).await?;
        Ok(doomed.iter().map(|r| Change::delete("dns record", format!("{} {}", r.record_type, r.name))).collect())
    }

    /// One `ChangeResourceRecordSets` applying `action` to every set in `zone`.
    async fn change_records(&self, zone: &ZoneInfo, comment: String, action: ChangeAction, sets: Vec<ResourceRecordSet>) -> Result<()> {
        let mut batch = ChangeBatch::builder().comment(comment);
        for set in sets {
            batch = batch
                .changes(AwsChange::builder().action(action.clone()).resource_record_set(set).build().map_err(|e| build_error(CHANGE, e))?);
        }
        self.client
            .change_resource_record_sets()
            .hosted_zone_id(&zone.id)
            .change_batch(batch.build().map_err(|e| build_error(CHANGE, e))?)
            .send()
            .await
            .on(CHANGE, "hosted zone", zone.name.as_str())?;
        Ok(())
    }

    /// Delete `zone` with every record in it (but its own `NS` and `SOA`,
    /// which go with it). `confirm` must name the zone.
    ///
    /// # Errors
    /// [`Error::ConfirmationRequired`] before any request; [`Error::NotFound`]
    /// when the zone is gone; provider errors.
    pub async fn delete_zone(&self, zone: &ZoneInfo, confirm: &Confirm) -> Result<Plan> {
        confirm.check("delete hosted zone", zone.name.as_str())?;
        let current = self.list_records(zone).await?;
        let doomed: Vec<&RecordInfo> =
            current.iter().filter(|r| !(r.name == zone.name && matches!(r.record_type.as_str(), "NS" | "SOA"))).collect();
        let mut plan = self.delete_record_sets(zone, &doomed).await?;
        self.client.delete_hosted_zone().id(&zone.id).send().await.on(op("DeleteHostedZone"), "hosted zone", zone.name.as_str())?;
        plan.push(Change::delete("hosted zone", zone.name.as_str()));
        Ok(plan)
    }
}

/// The zone of `spec`, found by name (and VPC, when private); in
/// [`Mode::Apply`] created when missing, its comment brought to the spec, and
/// the records that are missing or differ upserted in one change batch. A
/// second call makes no mutating request. Callers use the provided
/// [`Reconcile::plan`] / [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] before any request; [`Error::Conflict`] when
/// several zones match; provider errors.
#[async_trait::async_trait]
impl Reconcile<ZoneSpec> for Dns {
    type Info = ZoneState;

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "hosted zone", name = %spec.name, mode = ?mode))]

    async fn reconcile(&self, spec: &ZoneSpec, mode: Mode) -> Result<Reconciled<ZoneState>> {
        spec.validate()?;
        let mut plan = Plan::new();
        let zone = match self.find_zone(&spec.name, &spec.visibility).await? {
            Some(zone) => {
                if zone.comment != spec.comment {
                    if mode.is_apply() {
                        self.client.update_hosted_zone_comment().id(&zone.id).comment(&spec.comment).send().await.on(
                            op("UpdateHostedZoneComment"),
                            "hosted zone",
                            spec.name.as_str(),
                        )?;
                    }
                    plan.push(Change::update(
                        "hosted zone",
                        zone_label(spec),
                        vec![FieldChange::new("comment", &zone.comment, &spec.comment)],
                    ));
                    if mode.is_apply() { ZoneInfo { comment: spec.comment.clone(), ..zone } } else { zone }
                } else {
                    zone
                }
            }
            None if !mode.is_apply() => {
                plan.push(Change::create("hosted zone", zone_label(spec)));
                plan.extend(Plan::from_iter(spec.records.iter().map(|r| Change::create("dns record", record_label(r)))));
                return Ok(Reconciled { plan, info: None });
            }
            None => {
                let zone = self.create_zone(spec).await?;
                plan.push(Change::create("hosted zone", zone_label(spec)));
                zone
            }
        };
        let current = self.list_records(&zone).await?;
        let (changes, upserts) = record_changes(spec, &current);
        if mode.is_apply() && !upserts.is_empty() {
            let sets = upserts
                .iter()
                .map(|r| record_set(r.name.as_str(), r.record_type().rr_type(), &r.wanted()).map_err(|e| build_error(CHANGE, e)))
                .collect::<Result<Vec<_>>>()?;
            self.change_records(&zone, format!("deploy: ensure records of {}", spec.name), ChangeAction::Upsert, sets).await?;
        }
        plan.extend(changes);
        let records = if upserts.is_empty() || !mode.is_apply() { current } else { self.list_records(&zone).await? };
        Ok(Reconciled { plan, info: Some(ZoneState { zone, records }) })
    }
}

fn zone_label(spec: &ZoneSpec) -> String {
    match &spec.visibility {
        ZoneVisibility::Public => format!("{} (public)", spec.name),
        ZoneVisibility::Private { vpc_id, vpc_region } => format!("{} (private to {vpc_id} in {vpc_region})", spec.name),
    }
}

fn record_label(record: &RecordSpec) -> String {
    format!("{} {}", record.record_type(), record.name)
}

/// The plan for the spec's records against `current`, and the records to upsert.
fn record_changes<'a>(spec: &'a ZoneSpec, current: &[RecordInfo]) -> (Plan, Vec<&'a RecordSpec>) {
    let mut plan = Plan::new();
    let mut upserts = Vec::new();
    for record in &spec.records {
        let found = current.iter().find(|r| r.name == record.name && r.record_type == record.record_type().as_str());
        let wanted = record.wanted();
        match found {
            None => {
                plan.push(Change::create("dns record", record_label(record)));
                upserts.push(record);
            }
            Some(info) => {
                let have = RecordState::of(info);
                if have != wanted {
                    let mut fields = Vec::new();
                    if have.ttl != wanted.ttl {
                        fields.push(FieldChange::new("ttl", opt(have.ttl), opt(wanted.ttl)));
                    }
                    if have.values != wanted.values {
                        fields.push(FieldChange::new("values", have.values.join(" "), wanted.values.join(" ")));
                    }
                    if have.alias != wanted.alias {
                        fields.push(FieldChange::new("alias", alias_label(have.alias.as_ref()), alias_label(wanted.alias.as_ref())));
                    }
                    plan.push(Change::update("dns record", record_label(record), fields));
                    upserts.push(record);
                }
            }
        }
    }
    (plan, upserts)
}

fn opt(v: Option<u32>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn alias_label(alias: Option<&AliasTarget>) -> String {
    alias.map_or_else(
        || "-".to_owned(),
        |a| format!("{} in {}{}", a.dns_name, a.hosted_zone_id, if a.evaluate_target_health { " (health evaluated)" } else { "" }),
    )
}

/// The Route 53 record set `name` of type `rr_type` holding `state`: the
/// wanted one for an UPSERT, or one exactly as it is for a `DELETE` (which
/// must repeat every value).
fn record_set(
    name: &str,
    rr_type: RrType,
    state: &RecordState,
) -> std::result::Result<ResourceRecordSet, aws_smithy_types::error::operation::BuildError> {
    let mut set = ResourceRecordSet::builder().name(name).r#type(rr_type);
    if let Some(alias) = &state.alias {
        set = set.alias_target(
            AwsAliasTarget::builder()
                .hosted_zone_id(&alias.hosted_zone_id)
                .dns_name(alias.dns_name.as_str())
                .evaluate_target_health(alias.evaluate_target_health)
                .build()?,
        );
    } else {
        if let Some(ttl) = state.ttl {
            set = set.ttl(i64::from(ttl));
        }
        for value in &state.values {
            set = set.resource_records(ResourceRecord::builder().value(value).build()?);
        }
    }
    set.build()
}

fn record_info(set: &ResourceRecordSet) -> Result<RecordInfo> {
    let record_type = set.r#type().as_str().to_owned();
    let mut values: Vec<String> = set.resource_records().iter().map(|r| normalize_value(&record_type, r.value())).collect();
    values.sort();
    let alias = match set.alias_target() {
        Some(a) => Some(AliasTarget {
            hosted_zone_id: a.hosted_zone_id().to_owned(),
            dns_name: DnsName::from_route53(a.dns_name())?,
            evaluate_target_health: a.evaluate_target_health(),
        }),
        None => None,
    };
    Ok(RecordInfo {
        name: DnsName::from_route53(set.name())?,
        ttl: if alias.is_some() { None } else { set.ttl().and_then(|t| u32::try_from(t).ok()) },
        record_type,
        values,
        alias,
    })
}

/// A value as the spec renders it: addresses in their canonical form, CNAME
/// targets lowercase without the trailing dot.
fn normalize_value(record_type: &str, value: &str) -> String {
    match record_type {
        "A" => value.parse::<Ipv4Addr>().map_or_else(|_| value.to_owned(), |ip| ip.to_string()),
        "AAAA" => value.parse::<Ipv6Addr>().map_or_else(|_| value.to_owned(), |ip| ip.to_string()),
        "CNAME" => DnsName::new(value).map_or_else(|_| value.to_owned(), |n| n.to_string()),
        _ => value.to_owned(),
    }
}

fn bad_answer(op: Op, message: &str) -> Error {
    Error::Provider {
        provider: op.service,
        operation: op.operation.to_owned(),
        message: message.to_owned(),
        retryable: false,
        source: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dns_rules() {
        assert_eq!(DnsName::new("App.Example.COM.").unwrap().as_str(), "app.example.com");
        assert!(DnsName::new("_acme-challenge.example.com").is_ok());
        assert!(DnsName::new("*.example.com").is_ok());
        let long_label = format!("{}.example.com", "a".repeat(64));
        let long_name = format!("{}.com", vec!["a".repeat(60); 5].join("."));
        for bad in [
            "",
            ".",
            "a..b",
            "-a.example.com",
            "a-.example.com",
            "a b.example.com",
            "x.*.example.com",
            "é.example.com",
            &long_label,
            &long_name,
        ] {
            assert_eq!(DnsName::new(bad).unwrap_err().invalid_field(), Some("name"), "{bad:?}");
        }
        assert!(DnsName::new(format!("{}.example.com", "a".repeat(63))).is_ok());
        let zone = DnsName::new("example.com").unwrap();
        assert!(DnsName::new("a.example.com").unwrap().is_within(&zone));
        assert!(zone.is_within(&zone));
        assert!(!DnsName::new("badexample.com").unwrap().is_within(&zone));
        assert_eq!(DnsName::from_route53("\\052.example.com.").unwrap().as_str(), "*.example.com");
    }

    #[test]
    fn records_are_checked_against_their_type_and_zone() {
        assert!(RecordSpec::parse("a.example.com", "a", 60, &["192.0.2.1"]).is_ok());
        let field = |r: Result<RecordSpec>| r.unwrap_err().invalid_field().map(str::to_owned);
        assert_eq!(field(RecordSpec::parse("a.example.com", "A", 60, &["2001:db8::1"])).as_deref(), Some("values[0]"));
        assert_eq!(field(RecordSpec::parse("a.example.com", "AAAA", 60, &["::1", "nope"])).as_deref(), Some("values[1]"));
        assert_eq!(field(RecordSpec::parse("a.example.com", "MX", 60, &["x"])).as_deref(), Some("type"));
        assert_eq!(field(RecordSpec::parse("a.example.com", "CNAME", 60, &["b.example.com", "c.example.com"])).as_deref(), Some("values"));
        assert_eq!(field(RecordSpec::parse("a.example.com", "TXT", 60, &["tab\there"])).as_deref(), Some("values[0]"));
        assert_eq!(field(RecordSpec::parse("a.example.com", "TXT", 3_000_000_000, &["x"])).as_deref(), Some("ttl"));
        assert_eq!(field(RecordSpec::parse("a..example.com", "A", 60, &["192.0.2.1"])).as_deref(), Some("name"));

        let zone = DnsName::new("example.com").unwrap();
        let outside = RecordSpec::parse("a.example.org", "A", 60, &["192.0.2.1"]).unwrap();
        let spec = ZoneSpec::public(zone.clone()).with_records([outside]);
        assert_eq!(spec.validate().unwrap_err().invalid_field(), Some("records[0].name"));
        let apex = RecordSpec::parse("example.com", "CNAME", 60, &["b.example.org"]).unwrap();
        assert_eq!(ZoneSpec::public(zone.clone()).with_records([apex]).validate().unwrap_err().invalid_field(), Some("records[0].name"));
        let twice = RecordSpec::parse("a.example.com", "A", 60, &["192.0.2.1"]).unwrap();
        let spec = ZoneSpec::public(zone.clone()).with_records([twice.clone(), twice]);
        assert_eq!(spec.validate().unwrap_err().invalid_field(), Some("records[1].name"));
        let private = ZoneSpec::private(zone.clone(), "vpc-12", "eu-central-1");
        assert_eq!(private.validate().unwrap_err().invalid_field(), Some("visibility.vpc_id"));
        let private = ZoneSpec::private(zone, "vpc-0123456789abcdef0", "mars-1");
        assert_eq!(private.validate().unwrap_err().invalid_field(), Some("visibility.vpc_region"));
    }

    #[test]
    fn wanted_values_are_in_route53_form() {
        let txt = RecordSpec::txt(DnsName::new("example.com").unwrap(), Ttl::new(60).unwrap(), ["say \"hi\""]).unwrap();
        assert_eq!(txt.wanted().values, ["\"say \\\"hi\\\"\""]);
        let aaaa = RecordSpec::parse("a.example.com", "AAAA", 60, &["2001:DB8:0:0:0:0:0:1"]).unwrap();
        assert_eq!(aaaa.wanted().values, [normalize_value("AAAA", "2001:db8::1")]);
        assert_eq!(normalize_value("CNAME", "Target.Example.com."), "target.example.com");
    }
}
