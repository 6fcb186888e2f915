//! Host names for the application's services (the Okera seed: "DNS, by means
//! of AWS Route53, may be used to assign host names to your services"): a
//! hosted zone and its records, each written only when missing or different.
//!
//! Creates (a second run changes nothing):
//! - hosted zone `P.example.com`: public, or with `--vpc-id vpc-…` private to
//!   that VPC (in the configured region) — found by name (and VPC) before one
//!   is created, so re-runs never make a second zone;
//! - `A` and `AAAA` records `app.P.example.com` (203.0.113.10, 2001:db8::10 —
//!   documentation addresses), `CNAME` `www.P.example.com` → `app.P.example.com`,
//!   `TXT` at the apex `managed-by=deploy`;
//! - with `--lb-dns NAME --lb-zone-id ID`: an alias `A` record `lb.P.example.com`
//!   to that load balancer (its DNS name and canonical hosted zone id).
//!
//! Names, TTLs and values are checked before any request. Configured by the
//! standard AWS environment (`AWS_REGION`, credentials, `AWS_ENDPOINT_URL` for
//! a local endpoint such as moto):
//!
//! ```text
//! cargo run --features aws --example aws_dns_records -- --prefix acme-prod [--plan] [--vpc-id vpc-…] [--lb-dns NAME --lb-zone-id ID]
//! ```
//!
//! `--plan` prints what would change and makes no mutating request. The last
//! line is `mutating requests: N`.

#[path = "aws_support/mod.rs"]
mod aws_support;
#[path = "cli/mod.rs"]
mod cli;

use std::process::ExitCode;

use deploy::aws::RequestLog;
use deploy::aws::dns::{DnsName, RecordSpec, RecordType, Ttl, ZoneSpec};
use deploy::{Error, Reconcile as _};

use aws_support::{plan_only, print_plan, section};

/// Route 53 hosted zone and records of the application's host names (idempotent).
///
/// Configured by the standard AWS environment (AWS_REGION, credentials, AWS_ENDPOINT_URL).
/// Exit codes: 0 done (under --plan: nothing to change), 2 under --plan with changes pending,
/// 1 on error; the last text line is `mutating requests: N`.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    aws: aws_support::Args,
    /// Make the hosted zone private to this VPC (in the configured region)
    #[arg(long, value_name = "VPC")]
    vpc_id: Option<String>,
    /// DNS name of a load balancer: adds the alias record lb.P.example.com (with --lb-zone-id)
    #[arg(long, value_name = "NAME")]
    lb_dns: Option<String>,
    /// Canonical hosted zone id of the load balancer of --lb-dns
    #[arg(long, value_name = "ID")]
    lb_zone_id: Option<String>,
}

impl std::ops::Deref for Cli {
    type Target = aws_support::Args;
    fn deref(&self) -> &aws_support::Args {
        &self.aws
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = <Cli as clap::Parser>::parse();
    let log = RequestLog::new();
    aws_support::finish(&log, &cli.aws, run(&log, &cli)).await
}

fn zone_spec(args: &Cli, region: &str) -> deploy::Result<ZoneSpec> {
    let zone = DnsName::new(format!("{}.example.com", args.prefix))?;
    let at = |label: &str| DnsName::new(format!("{label}.{zone}"));
    let ttl = Ttl::new(300)?;
    let mut records = vec![
        RecordSpec::a(at("app")?, ttl, ["203.0.113.10".parse().expect("an IPv4 address")]),
        RecordSpec::aaaa(at("app")?, ttl, ["2001:db8::10".parse().expect("an IPv6 address")]),
        RecordSpec::cname(at("www")?, ttl, at("app")?),
        RecordSpec::txt(zone.clone(), ttl, ["managed-by=deploy"])?,
    ];
    match (args.lb_dns.as_deref(), args.lb_zone_id.as_deref()) {
        (Some(dns), Some(id)) => records.push(RecordSpec::alias_to_load_balancer(at("lb")?, RecordType::A, id, dns, true)?),
        (None, None) => {}
        _ => {
            return Err(Error::invalid(
                "lb-dns",
                "is given without --lb-zone-id, or the other way round",
                "--lb-dns NAME --lb-zone-id ID together",
            ));
        }
    }
    let spec = match args.vpc_id.as_deref() {
        Some(vpc) => ZoneSpec::private(zone, vpc, region),
        None => ZoneSpec::public(zone),
    };
    let spec = spec.with_comment(format!("service names of {}", args.prefix)).with_records(records);
    spec.validate()?;
    Ok(spec)
}

async fn run(log: &RequestLog, cli: &Cli) -> deploy::Result<()> {
    let args = cli;
    // Checked before the AWS environment is even loaded (the VPC's region is
    // the configured one, known only then): bad input makes no request.
    zone_spec(args, "eu-central-1")?;
    let aws = aws_support::backends(log).await;
    let region = aws.sdk_config().region().map(ToString::to_string).unwrap_or_else(|| "us-east-1".into());
    let spec = zone_spec(args, &region)?;
    let dns = aws.dns();

    section(&format!("plan for prefix {}", args.prefix));
    let plan = dns.plan(&spec).await?;
    if plan_only(args, &plan) {
        return Ok(());
    }

    section("ensure");
    println!("  hosted zone {} and {} records", spec.name, spec.records.len());
    let ensured = dns.ensure(&spec).await?;

    section("changes made");
    print_plan(&ensured.plan);

    section("summary");
    let zone = &ensured.info.zone;
    cli::output("zone", zone.name.to_string());
    cli::output("zone_id", &zone.id);
    cli::output("name_servers", &zone.name_servers);
    cli::output("records", ensured.info.records.iter().map(|r| format!("{} {}", r.record_type, r.name.as_str())).collect::<Vec<_>>());
    println!("  zone     {} ({}), {}", zone.name, zone.id, if zone.private { "private" } else { "public" });
    for (vpc, region) in &zone.vpcs {
        println!("  vpc      {vpc} in {region}");
    }
    if !zone.name_servers.is_empty() {
        println!("  delegate {} to {}", zone.name, zone.name_servers.join(", "));
    }
    for r in &ensured.info.records {
        let what = match &r.alias {
            Some(a) => format!("alias {} ({})", a.dns_name, a.hosted_zone_id),
            None => r.values.join(" "),
        };
        let ttl = r.ttl.map(|t| format!("{t}s")).unwrap_or_else(|| "-".into());
        println!("  {:<6} {:<40} {:>7} {what}", r.record_type, r.name.as_str(), ttl);
    }
    Ok(())
}
