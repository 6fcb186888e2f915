//! The specs of DNS: names, TTLs, record types and data, zones and their
//! visibility, and the checks made before any request.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use aws_sdk_route53::types::{RrType, VpcRegion};
use deploy_core::error::ResultExt;
use deploy_core::validate::{Check, fault};
use deploy_core::{Error, Result};
use serde::{Deserialize, Serialize};

const NAME_RULE: &str = "DNS names: at most 253 characters; labels of 1-63 letters, digits, `-` and `_`, not starting or ending with `-`; \
                         `*` only as the whole leftmost label";

/// `name` lowercased, one trailing dot dropped.
fn normalize_dns_name(name: String) -> String {
    name.strip_suffix('.').unwrap_or(&name).to_ascii_lowercase()
}

fn check_dns_name(name: &str) -> Check {
    if name.is_empty() {
        return fault("is empty", NAME_RULE);
    }
    if name.len() > 253 {
        return fault(format!("has {} characters", name.len()), NAME_RULE);
    }
    for (i, label) in name.split('.').enumerate() {
        if label.is_empty() {
            return fault(format!("`{name}` has an empty label"), NAME_RULE);
        }
        if label.len() > 63 {
            return fault(format!("has a label of {} characters", label.len()), NAME_RULE);
        }
        if label == "*" {
            if i == 0 {
                continue;
            }
            return fault(format!("`{name}` has `*` below the leftmost label"), NAME_RULE);
        }
        if let Some(c) = label.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))) {
            return fault(format!("`{name}` contains {c:?}"), NAME_RULE);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return fault(format!("`{name}` has a label starting or ending with `-`"), NAME_RULE);
        }
    }
    Ok(())
}

deploy_core::validated_string!(
    /// A DNS name: lowercase, without the trailing dot (`app.acme.example.com`).
    ///
    /// At most 253 characters, labels of 1 to 63 ASCII letters, digits, `-` and
    /// `_` (`_acme-challenge`), not starting or ending with `-`; the leftmost label
    /// may be `*` (a wildcard record). Letters are lowercased; one trailing dot is
    /// dropped.
    DnsName, "name", check_dns_name, normalize = normalize_dns_name
);

impl DnsName {
    /// A name as Route 53 answers it: with a trailing dot, `*` escaped as `\052`.
    pub(super) fn from_route53(name: &str) -> Result<Self> {
        DnsName::new(name.replace("\\052", "*"))
    }

    /// Whether this name is `zone` or a name below it.
    pub fn is_within(&self, zone: &DnsName) -> bool {
        let (name, zone) = (self.as_str(), zone.as_str());
        name == zone || name.strip_suffix(zone).is_some_and(|head| head.ends_with('.'))
    }
}

/// A record's time to live in seconds: 0 to 2,147,483,647 (Route 53's range).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ttl(u32);

impl Ttl {
    /// The field name used in errors.
    pub const FIELD: &'static str = "ttl";
    /// Route 53's largest TTL.
    pub const MAX: u32 = 2_147_483_647;

    /// Validate `seconds`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on field `ttl`.
    pub fn new(seconds: u32) -> Result<Self> {
        if seconds > Self::MAX {
            return Err(Error::invalid(Self::FIELD, format!("is {seconds} seconds"), "Route 53 TTLs: 0 to 2,147,483,647 seconds"));
        }
        Ok(Ttl(seconds))
    }

    /// The seconds.
    pub fn seconds(self) -> u32 {
        self.0
    }
}

/// The record types this module manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordType {
    /// IPv4 addresses.
    A,
    /// IPv6 addresses.
    Aaaa,
    /// Another name (canonical name).
    Cname,
    /// Text.
    Txt,
}

impl RecordType {
    /// The type as DNS names it (`A`, `AAAA`, `CNAME`, `TXT`).
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Cname => "CNAME",
            RecordType::Txt => "TXT",
        }
    }

    /// Parse `A`, `AAAA`, `CNAME` or `TXT` (any case).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on field `type`.
    pub fn parse(value: &str) -> Result<Self> {
        match value.to_ascii_uppercase().as_str() {
            "A" => Ok(RecordType::A),
            "AAAA" => Ok(RecordType::Aaaa),
            "CNAME" => Ok(RecordType::Cname),
            "TXT" => Ok(RecordType::Txt),
            _ => Err(Error::invalid("type", format!("`{value}` is not a managed record type"), "record types: A, AAAA, CNAME, TXT")),
        }
    }

    pub(super) fn rr_type(self) -> RrType {
        RrType::from(self.as_str())
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An alias record's target: a load balancer (or another AWS resource Route 53
/// can alias) by its DNS name and the hosted zone id AWS publishes for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasTarget {
    /// The target's hosted zone id (for a load balancer, its `CanonicalHostedZoneId`).
    pub hosted_zone_id: String,
    /// The target's DNS name (`my-lb-123.eu-central-1.elb.amazonaws.com`).
    pub dns_name: DnsName,
    /// Whether Route 53 answers only while the target is healthy.
    pub evaluate_target_health: bool,
}

/// What a record holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordData {
    /// `A` records: IPv4 addresses, with a TTL.
    A(Ttl, Vec<Ipv4Addr>),
    /// `AAAA` records: IPv6 addresses, with a TTL.
    Aaaa(Ttl, Vec<Ipv6Addr>),
    /// A `CNAME` record: one target name, with a TTL.
    Cname(Ttl, DnsName),
    /// `TXT` records: strings of printable ASCII (at most 255 characters each), with a TTL.
    Txt(Ttl, Vec<String>),
    /// An alias of type `A` or `AAAA` (no TTL: the target's applies).
    Alias(RecordType, AliasTarget),
}

/// One record set: a name, and what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSpec {
    /// The record's name, in the zone.
    pub name: DnsName,
    /// Type, TTL and values.
    pub data: RecordData,
}

const TXT_RULE: &str = "TXT values: 1-255 printable ASCII characters each (Route 53 quotes them)";

impl RecordSpec {
    /// `A` records.
    pub fn a(name: DnsName, ttl: Ttl, addresses: impl IntoIterator<Item = Ipv4Addr>) -> Self {
        RecordSpec { name, data: RecordData::A(ttl, addresses.into_iter().collect()) }
    }

    /// `AAAA` records.
    pub fn aaaa(name: DnsName, ttl: Ttl, addresses: impl IntoIterator<Item = Ipv6Addr>) -> Self {
        RecordSpec { name, data: RecordData::Aaaa(ttl, addresses.into_iter().collect()) }
    }

    /// A `CNAME` record.
    pub fn cname(name: DnsName, ttl: Ttl, target: DnsName) -> Self {
        RecordSpec { name, data: RecordData::Cname(ttl, target) }
    }

    /// `TXT` records.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on field `values[i]` when a text is not 1-255 printable ASCII characters.
    pub fn txt<S: Into<String>>(name: DnsName, ttl: Ttl, texts: impl IntoIterator<Item = S>) -> Result<Self> {
        let texts: Vec<String> = texts.into_iter().map(Into::into).collect();
        for (i, t) in texts.iter().enumerate() {
            check_txt(t).map_err(|problem| Error::invalid(format!("values[{i}]"), problem, TXT_RULE))?;
        }
        Ok(RecordSpec { name, data: RecordData::Txt(ttl, texts) })
    }

    /// An alias (`A` or `AAAA`) to a load balancer: its DNS name and the hosted
    /// zone id AWS publishes for it.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `type` (not `A`/`AAAA`), `alias.hosted_zone_id` or `alias.dns_name`.
    pub fn alias_to_load_balancer(
        name: DnsName,
        record_type: RecordType,
        hosted_zone_id: &str,
        dns_name: &str,
        evaluate_target_health: bool,
    ) -> Result<Self> {
        if !matches!(record_type, RecordType::A | RecordType::Aaaa) {
            return Err(Error::invalid("type", format!("is {record_type}"), "alias records: type A or AAAA"));
        }
        let id_ok =
            (1..=32).contains(&hosted_zone_id.len()) && hosted_zone_id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !id_ok {
            return Err(Error::invalid(
                "alias.hosted_zone_id",
                format!("`{hosted_zone_id}` is not a hosted zone id"),
                "hosted zone ids: 1-32 uppercase letters and digits",
            ));
        }
        let dns_name = DnsName::new(dns_name).in_field("alias")?;
        Ok(RecordSpec {
            name,
            data: RecordData::Alias(
                record_type,
                AliasTarget { hosted_zone_id: hosted_zone_id.to_owned(), dns_name, evaluate_target_health },
            ),
        })
    }

    /// A record from text, as a command line or a file gives it: the name, the
    /// type (`A`, `AAAA`, `CNAME`, `TXT`), the TTL and the values, each checked
    /// against its type.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `name`, `type`, `ttl` or `values[i]`.
    pub fn parse(name: &str, record_type: &str, ttl: u32, values: &[&str]) -> Result<Self> {
        let name = DnsName::new(name)?;
        let record_type = RecordType::parse(record_type)?;
        let ttl = Ttl::new(ttl)?;
        let bad =
            |i: usize, v: &str, rule: &str| Error::invalid(format!("values[{i}]"), format!("`{v}` is not valid for {record_type}"), rule);
        match record_type {
            RecordType::A => {
                let ips = values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v.parse::<Ipv4Addr>().map_err(|_| bad(i, v, "A values: IPv4 addresses")))
                    .collect::<Result<Vec<_>>>()?;
                Ok(RecordSpec::a(name, ttl, ips))
            }
            RecordType::Aaaa => {
                let ips = values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v.parse::<Ipv6Addr>().map_err(|_| bad(i, v, "AAAA values: IPv6 addresses")))
                    .collect::<Result<Vec<_>>>()?;
                Ok(RecordSpec::aaaa(name, ttl, ips))
            }
            RecordType::Cname => match values {
                [one] => Ok(RecordSpec::cname(name, ttl, DnsName::new(*one).in_field("values[0]")?)),
                _ => Err(Error::invalid("values", format!("has {} values", values.len()), "CNAME records: exactly one target name")),
            },
            RecordType::Txt => RecordSpec::txt(name, ttl, values.iter().copied()),
        }
    }

    /// The record's type.
    pub fn record_type(&self) -> RecordType {
        match &self.data {
            RecordData::A(..) => RecordType::A,
            RecordData::Aaaa(..) => RecordType::Aaaa,
            RecordData::Cname(..) => RecordType::Cname,
            RecordData::Txt(..) => RecordType::Txt,
            RecordData::Alias(t, _) => *t,
        }
    }

    /// Check what the constructors cannot: at least one value, at most one
    /// CNAME target, TXT texts (when the fields were set directly).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let count = match &self.data {
            RecordData::A(_, v) => v.len(),
            RecordData::Aaaa(_, v) => v.len(),
            RecordData::Txt(_, v) => {
                for (i, t) in v.iter().enumerate() {
                    check_txt(t).map_err(|problem| Error::invalid(format!("values[{i}]"), problem, TXT_RULE))?;
                }
                v.len()
            }
            RecordData::Cname(..) | RecordData::Alias(..) => 1,
        };
        if count == 0 {
            return Err(Error::invalid("values", "is empty", "records: at least one value"));
        }
        if count > 400 {
            return Err(Error::invalid("values", format!("has {count} values"), "Route 53 record sets: at most 400 values"));
        }
        if let RecordData::Alias(t, _) = &self.data
            && !matches!(t, RecordType::A | RecordType::Aaaa)
        {
            return Err(Error::invalid("type", format!("is {t}"), "alias records: type A or AAAA"));
        }
        Ok(())
    }

    /// The record as it reads back: TTL and values in Route 53's form, sorted.
    pub(super) fn wanted(&self) -> RecordState {
        let (ttl, mut values, alias) = match &self.data {
            RecordData::A(ttl, v) => (Some(ttl.0), v.iter().map(ToString::to_string).collect(), None),
            RecordData::Aaaa(ttl, v) => (Some(ttl.0), v.iter().map(ToString::to_string).collect(), None),
            RecordData::Cname(ttl, target) => (Some(ttl.0), vec![target.to_string()], None),
            RecordData::Txt(ttl, v) => (Some(ttl.0), v.iter().map(|t| quote_txt(t)).collect::<Vec<_>>(), None),
            RecordData::Alias(_, target) => (None, Vec::new(), Some(target.clone())),
        };
        values.sort();
        RecordState { ttl, values, alias }
    }
}

fn check_txt(text: &str) -> std::result::Result<(), String> {
    if text.is_empty() || text.len() > 255 {
        return Err(format!("has {} characters", text.len()));
    }
    if let Some(c) = text.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(format!("contains {c:?}"));
    }
    Ok(())
}

/// `"text"`, with `"` and `\` escaped: a TXT value as Route 53 takes and answers it.
fn quote_txt(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Who can resolve a zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ZoneVisibility {
    /// The internet.
    Public,
    /// One VPC (the zone is found by its name and this VPC).
    Private {
        /// The VPC id (`vpc-0123456789abcdef0`).
        vpc_id: String,
        /// The VPC's region (`eu-central-1`).
        vpc_region: String,
    },
}

/// What a hosted zone should be, with the records it should hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneSpec {
    /// The zone's name (`acme.example.com`).
    pub name: DnsName,
    /// Public, or private to a VPC.
    pub visibility: ZoneVisibility,
    /// The zone's comment.
    pub comment: String,
    /// The records to ensure; other records of the zone are left alone.
    pub records: Vec<RecordSpec>,
}

impl ZoneSpec {
    /// A public zone named `name`, with no records to manage.
    pub fn public(name: DnsName) -> Self {
        ZoneSpec { name, visibility: ZoneVisibility::Public, comment: String::new(), records: Vec::new() }
    }

    /// A private zone named `name`, associated with the VPC `vpc_id` in `vpc_region`.
    pub fn private(name: DnsName, vpc_id: impl Into<String>, vpc_region: impl Into<String>) -> Self {
        ZoneSpec { visibility: ZoneVisibility::Private { vpc_id: vpc_id.into(), vpc_region: vpc_region.into() }, ..ZoneSpec::public(name) }
    }

    /// With these records.
    #[must_use]
    pub fn with_records(mut self, records: impl IntoIterator<Item = RecordSpec>) -> Self {
        self.records = records.into_iter().collect();
        self
    }

    deploy_core::setters! {
        /// With a comment.
        pub fn with_comment(comment: impl Into<String>);
    }

    /// Check what no type carries: the VPC of a private zone, the comment,
    /// every record (in the zone, not twice, no CNAME at the apex or beside
    /// other types).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field (`records[2].name`).
    pub fn validate(&self) -> Result<()> {
        if let ZoneVisibility::Private { vpc_id, vpc_region } = &self.visibility {
            let hex = vpc_id.strip_prefix("vpc-").unwrap_or("");
            if !(matches!(hex.len(), 8 | 17) && hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())) {
                return Err(Error::invalid(
                    "visibility.vpc_id",
                    format!("`{vpc_id}` is not a VPC id"),
                    "VPC ids: `vpc-` and 8 or 17 lowercase hex digits",
                ));
            }
            if !VpcRegion::values().contains(&vpc_region.as_str()) {
                return Err(Error::invalid(
                    "visibility.vpc_region",
                    format!("`{vpc_region}` is not a region Route 53 knows"),
                    "an AWS region name (`eu-central-1`)",
                ));
            }
        }
        if self.comment.chars().count() > 256 {
            return Err(Error::invalid("comment", "is longer than 256 characters", "hosted zone comments: at most 256 characters"));
        }
        let mut seen: BTreeMap<(&DnsName, RecordType), usize> = BTreeMap::new();
        for (i, record) in self.records.iter().enumerate() {
            let field = format!("records[{i}]");
            record.validate().in_field(&field)?;
            if !record.name.is_within(&self.name) {
                return Err(Error::invalid(
                    format!("{field}.name"),
                    format!("`{}` is not in zone `{}`", record.name, self.name),
                    "record names: the zone's name or a name ending with `.` and the zone's name",
                ));
            }
            if let Some(first) = seen.insert((&record.name, record.record_type()), i) {
                return Err(Error::invalid(
                    format!("{field}.name"),
                    format!("repeats the {} record of records[{first}]", record.record_type()),
                    "one record set per name and type",
                ));
            }
        }
        for (i, record) in self.records.iter().enumerate() {
            if record.record_type() == RecordType::Cname {
                if record.name == self.name {
                    return Err(Error::invalid(
                        format!("records[{i}].name"),
                        "is the zone apex",
                        "CNAME records: not at the zone apex (use an alias)",
                    ));
                }
                if self.records.iter().any(|r| r.name == record.name && r.record_type() != RecordType::Cname) {
                    return Err(Error::invalid(
                        format!("records[{i}].name"),
                        "has other record types beside its CNAME",
                        "CNAME records: no other record at the same name",
                    ));
                }
            }
        }
        Ok(())
    }

    pub(super) fn caller_reference(&self) -> String {
        let scope = match &self.visibility {
            ZoneVisibility::Public => "public".to_owned(),
            ZoneVisibility::Private { vpc_id, .. } => vpc_id.clone(),
        };
        let mut reference = format!("deploy/{scope}/{}", self.name);
        reference.truncate(128);
        reference
    }
}

/// A hosted zone as Route 53 reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneInfo {
    /// The zone id, without `/hostedzone/` (`Z0123456789ABCDEFGHIJ`).
    pub id: String,
    /// The zone's name.
    pub name: DnsName,
    /// Whether the zone is private.
    pub private: bool,
    /// The VPCs of a private zone: `(vpc id, region)`.
    pub vpcs: Vec<(String, String)>,
    /// The name servers of a public zone.
    pub name_servers: Vec<String>,
    /// The zone's comment.
    pub comment: String,
    /// The zone's `CallerReference`.
    pub caller_reference: String,
}

/// One record set of a zone, as Route 53 reports it (any type, `NS` and `SOA` too).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordInfo {
    /// The name.
    pub name: DnsName,
    /// The type (`A`, `NS`, `SOA`, ...).
    pub record_type: String,
    /// The TTL (none for an alias).
    pub ttl: Option<u32>,
    /// The values, sorted (TXT values quoted, as Route 53 keeps them).
    pub values: Vec<String>,
    /// The alias target.
    pub alias: Option<AliasTarget>,
}

/// What the zone and its records are, after an ensure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneState {
    /// The zone.
    pub zone: ZoneInfo,
    /// Every record set of the zone, as read back.
    pub records: Vec<RecordInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct RecordState {
    pub(super) ttl: Option<u32>,
    pub(super) values: Vec<String>,
    pub(super) alias: Option<AliasTarget>,
}

impl RecordState {
    pub(super) fn of(info: &RecordInfo) -> Self {
        RecordState { ttl: info.ttl, values: info.values.clone(), alias: info.alias.clone() }
    }
}
