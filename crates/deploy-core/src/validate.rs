//! Validated names and values, each a type.
//!
//! Every constructor checks the value against its rule and answers
//! [`Error::InvalidInput`] naming the field, the value's fault and the rule, so
//! that bad input is rejected before any request. All types deserialize through
//! the same check.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Define a validated string newtype: a `pub struct $name(String)` whose every
/// constructor (`new`, `FromStr`, `TryFrom<String>`, `TryFrom<&str>`,
/// deserialization) runs `$check` and answers [`Error::InvalidInput`] naming
/// `$field`, the value's fault and the rule. With `normalize = f`, the value is
/// first passed through `f` (lowercase it, drop a trailing dot).
///
/// `$check` is a `fn(&str) -> Check` ([`Check`]: `Err((problem, rule))`, see
/// [`fault`]). The type gets `as_str`, `Display`, a `Debug` showing the value,
/// `AsRef<str>`, `Into<String>`, ordering and hashing, and serde through its
/// string form (the caller's crate needs no serde of its own).
///
/// ```
/// use deploy_core::validate::{Check, fault};
///
/// fn check_queue(v: &str) -> Check {
///     let rule = "queue names: 1-80 letters, digits, `-` and `_`";
///     if v.is_empty() || v.len() > 80 {
///         return fault(format!("is {} characters long", v.len()), rule);
///     }
///     match v.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_')) {
///         Some(c) => fault(format!("contains {c:?}"), rule),
///         None => Ok(()),
///     }
/// }
///
/// deploy_core::validated_string!(
///     /// A queue name.
///     QueueName, "queue", check_queue
/// );
///
/// assert_eq!(QueueName::new("jobs").unwrap().as_str(), "jobs");
/// assert_eq!(QueueName::new("no spaces").unwrap_err().invalid_field(), Some("queue"));
/// ```
#[macro_export]
macro_rules! validated_string {
    ($(#[$meta:meta])* $name:ident, $field:literal, $check:path) => {
        $crate::validated_string!($(#[$meta])* $name, $field, $check, normalize = ::std::convert::identity);
    };
    ($(#[$meta:meta])* $name:ident, $field:literal, $check:path, normalize = $normalize:path) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The default field name used in errors.
            pub const FIELD: &'static str = $field;

            /// Validate `value`.
            ///
            /// # Errors
            /// `deploy_core::Error::InvalidInput` naming the field, the fault and the rule.
            pub fn new(value: impl Into<String>) -> $crate::Result<Self> {
                let value: String = $normalize(value.into());
                $check(&value).map_err(|(problem, rule)| $crate::Error::invalid($field, problem, rule))?;
                Ok($name(value))
            }

            /// The value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(&self.0, f)
            }
        }

        impl ::std::convert::AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::convert::TryFrom<String> for $name {
            type Error = $crate::Error;
            fn try_from(value: String) -> $crate::Result<Self> {
                $name::new(value)
            }
        }

        impl ::std::convert::TryFrom<&str> for $name {
            type Error = $crate::Error;
            fn try_from(value: &str) -> $crate::Result<Self> {
                $name::new(value)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::Error;
            fn from_str(value: &str) -> $crate::Result<Self> {
                $name::new(value)
            }
        }

        impl ::std::convert::From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let value = <String as $crate::__private::serde::Deserialize>::deserialize(deserializer)?;
                $name::new(value).map_err(<D::Error as $crate::__private::serde::de::Error>::custom)
            }
        }
    };
}

/// What a check of [`validated_string!`] answers: `Err((problem, rule))`.
pub type Check = std::result::Result<(), (String, String)>;

/// A failed [`Check`]: the value's `problem` and the `rule` it breaks.
///
/// # Errors
/// Always: that is its purpose.
pub fn fault(problem: impl Into<String>, rule: &str) -> Check {
    Err((problem.into(), rule.to_owned()))
}

/// `n` counted in `unit` (`character`, `byte`) against `range`.
fn check_length(n: usize, range: std::ops::RangeInclusive<usize>, unit: &str, rule: &str) -> Check {
    let (min, max) = (*range.start(), *range.end());
    let units = if n == 1 { unit.to_owned() } else { format!("{unit}s") };
    if n == 0 && min > 0 {
        fault("is empty", rule)
    } else if n < min {
        fault(format!("is {n} {units} long, fewer than {min}"), rule)
    } else if n > max {
        fault(format!("is {n} {units} long, more than {max}"), rule)
    } else {
        Ok(())
    }
}

/// Every character of `v` passes `allowed`, which accepts `what` (`a lowercase letter or digit`).
fn check_chars(v: &str, allowed: impl Fn(char) -> bool, what: &str, rule: &str) -> Check {
    match v.chars().find(|c| !allowed(*c)) {
        Some(c) => fault(format!("contains {c:?}, which is not {what}"), rule),
        None => Ok(()),
    }
}

const BUCKET_RULE: &str = "S3 bucket names: 3-63 characters of lowercase letters, digits, dots and hyphens; begin and end with a letter or digit; no two adjacent dots, and no dot next to a hyphen (`.-` and `-.` do not make valid DNS labels); not formatted as an IP address (such as 192.168.5.4); no prefix `xn--`, `sthree-` or `amzn-s3-demo-`; no suffix `-s3alias`, `--ol-s3`, `.mrap`, `--x-s3` or `--table-s3`";

/// Four dot-separated groups of one to three digits, like `192.168.5.4`.
fn is_ip_formatted(v: &str) -> bool {
    let groups: Vec<&str> = v.split('.').collect();
    groups.len() == 4 && groups.iter().all(|g| (1..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()))
}

fn check_bucket(v: &str) -> Check {
    check_length(v.chars().count(), 3..=63, "character", BUCKET_RULE)?;
    check_chars(
        v,
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.',
        "a lowercase letter, digit, dot or hyphen",
        BUCKET_RULE,
    )?;
    if !v.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return fault("does not begin with a letter or digit", BUCKET_RULE);
    }
    if !v.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return fault("does not end with a letter or digit", BUCKET_RULE);
    }
    for pair in ["..", ".-", "-."] {
        if v.contains(pair) {
            return fault(format!("contains `{pair}`"), BUCKET_RULE);
        }
    }
    if is_ip_formatted(v) {
        return fault("is formatted as an IP address", BUCKET_RULE);
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if v.starts_with(prefix) {
            return fault(format!("begins with the reserved prefix `{prefix}`"), BUCKET_RULE);
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if v.ends_with(suffix) {
            return fault(format!("ends with the reserved suffix `{suffix}`"), BUCKET_RULE);
        }
    }
    Ok(())
}

validated_string!(
    /// An S3 general purpose bucket name, the neutral bucket name of [`crate::ObjectStore`]
    /// (Azure backends additionally check [`ContainerName`]'s rule).
    BucketName, "bucket", check_bucket
);

const CONTAINER_RULE: &str = "Azure container names: 3-63 characters of lowercase letters, digits and hyphens; begin with a letter or digit; every hyphen immediately preceded and followed by a letter or digit (no two adjacent hyphens, no hyphen at the end); or one of the special names `$root`, `$web` and `$logs`";

fn check_container(v: &str) -> Check {
    if ["$root", "$web", "$logs"].contains(&v) {
        return Ok(());
    }
    check_length(v.chars().count(), 3..=63, "character", CONTAINER_RULE)?;
    check_chars(
        v,
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
        "a lowercase letter, digit or hyphen",
        CONTAINER_RULE,
    )?;
    if v.starts_with('-') {
        return fault("begins with a hyphen", CONTAINER_RULE);
    }
    if v.contains("--") {
        return fault("has two adjacent hyphens", CONTAINER_RULE);
    }
    if v.ends_with('-') {
        return fault("ends with a hyphen", CONTAINER_RULE);
    }
    Ok(())
}

validated_string!(
    /// An Azure Blob Storage container name, including the special containers
    /// `$root`, `$web` and `$logs`.
    ContainerName, "container", check_container
);

const KEY_RULE: &str = "object keys: 1-1024 bytes of UTF-8";

fn check_key(v: &str) -> Check {
    check_length(v.len(), 1..=1024, "byte", KEY_RULE)
}

validated_string!(
    /// An object key: 1 to 1,024 bytes of UTF-8.
    ObjectKey, "key", check_key
);

const PG_IDENT_RULE: &str = "PostgreSQL identifiers: 1-63 bytes of UTF-8, no NUL character";

fn check_pg_ident(v: &str) -> Check {
    check_length(v.len(), 1..=63, "byte", PG_IDENT_RULE)?;
    if v.contains('\0') {
        return fault("contains a NUL character", PG_IDENT_RULE);
    }
    Ok(())
}

validated_string!(
    /// A PostgreSQL identifier (database, role, extension, schema name). Any
    /// name PostgreSQL accepts is accepted; rendering always quotes it.
    PgIdentifier, "identifier", check_pg_ident
);

const RESOURCE_RULE: &str = "resource names: 1-63 characters of lowercase letters, digits and hyphens; begin with a letter; no two adjacent hyphens; do not end with a hyphen";

fn check_resource(v: &str) -> Check {
    check_length(v.chars().count(), 1..=63, "character", RESOURCE_RULE)?;
    check_chars(
        v,
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
        "a lowercase letter, digit or hyphen",
        RESOURCE_RULE,
    )?;
    if !v.starts_with(|c: char| c.is_ascii_lowercase()) {
        return fault("does not begin with a letter", RESOURCE_RULE);
    }
    if v.contains("--") {
        return fault("has two adjacent hyphens", RESOURCE_RULE);
    }
    if v.ends_with('-') {
        return fault("ends with a hyphen", RESOURCE_RULE);
    }
    Ok(())
}

validated_string!(
    /// The name of a cluster, node pool, database instance, snapshot, backup vault or plan:
    /// the rule that every cloud accepts (RDS identifiers are the strictest).
    ResourceName, "name", check_resource
);

const SECRET_NAME_RULE: &str = "secret names: 1-127 characters of letters, digits and hyphens; begin with a letter (valid in AWS Secrets Manager and Azure Key Vault alike)";

fn check_secret_name(v: &str) -> Check {
    check_length(v.chars().count(), 1..=127, "character", SECRET_NAME_RULE)?;
    check_chars(v, |c| c.is_ascii_alphanumeric() || c == '-', "a letter, digit or hyphen", SECRET_NAME_RULE)?;
    if !v.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return fault("does not begin with a letter", SECRET_NAME_RULE);
    }
    Ok(())
}

validated_string!(
    /// The name of a secret.
    SecretName, "secret", check_secret_name
);

const K8S_VERSION_RULE: &str = "Kubernetes versions: MAJOR.MINOR such as 1.31, MAJOR 1 and MINOR 0-99, decimal without leading zeros; no patch part (not 1.31.2)";

fn check_k8s_version(v: &str) -> Check {
    let parts: Vec<&str> = v.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if parts.len() == 3 && parts.iter().all(numeric) {
        return fault(format!("has a patch part `.{}`", parts[2]), K8S_VERSION_RULE);
    }
    if parts.len() != 2 || !parts.iter().all(numeric) {
        return fault("is not MAJOR.MINOR of two decimal numbers", K8S_VERSION_RULE);
    }
    if let Some(part) = parts.iter().find(|p| p.len() > 1 && p.starts_with('0')) {
        return fault(format!("has a leading zero in `{part}`"), K8S_VERSION_RULE);
    }
    let (major, minor) = (parts[0], parts[1]);
    if major != "1" {
        return fault(format!("has major version {major}, not 1"), K8S_VERSION_RULE);
    }
    if minor.len() > 2 {
        return fault(format!("has minor version {minor}, outside 0-99"), K8S_VERSION_RULE);
    }
    Ok(())
}

validated_string!(
    /// A Kubernetes version, `MAJOR.MINOR` (`1.31`).
    KubernetesVersion, "version", check_k8s_version
);

const CRON_RULE: &str = "cron schedules: five Unix fields `minute hour day-of-month month day-of-week`, or AWS's `cron(minute hour day-of-month month day-of-week year)`, separated by single spaces; each field is `*`, a number, a range `a-b` with a <= b, a step `*/n` or `a-b/n` with n from 1 to the field's count of values, or a comma-separated list of these; minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 0-7 (0 and 7 are Sunday) or SUN-SAT in the Unix form and 1-7 (1 is Sunday) or SUN-SAT in the AWS form, year 1970-2199, names in any case; the Unix form leaves day-of-month or day-of-week `*`; the AWS form has `?` in exactly one of day-of-month and day-of-week, takes no step in day-of-week, and also takes steps `a/n`, and as the whole field `L`, `LW` or `nW` in day-of-month and `L`, `nL` or `n#k` (k 1-5) in day-of-week";

/// Which of the two forms a schedule is written in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CronForm {
    /// `min hour dom month dow`.
    Unix,
    /// `cron(min hour dom month dow year)`.
    Aws,
}

/// The numbering of one field of a schedule.
struct CronField {
    name: &'static str,
    min: u32,
    max: u32,
    /// How many distinct values the field has: the largest step.
    count: u32,
    /// Three-letter names, the first of which stands for `min`.
    names: &'static [&'static str],
}

const MONTH_NAMES: &[&str] = &["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAY_NAMES: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const fn cron_field(name: &'static str, min: u32, max: u32, count: u32, names: &'static [&'static str]) -> CronField {
    CronField { name, min, max, count, names }
}

const UNIX_FIELDS: [CronField; 5] = [
    cron_field("minute", 0, 59, 60, &[]),
    cron_field("hour", 0, 23, 24, &[]),
    cron_field("day-of-month", 1, 31, 31, &[]),
    cron_field("month", 1, 12, 12, MONTH_NAMES),
    // 7 is Sunday again, so the names start at 0.
    cron_field("day-of-week", 0, 7, 7, DAY_NAMES),
];

const AWS_FIELDS: [CronField; 6] = [
    cron_field("minute", 0, 59, 60, &[]),
    cron_field("hour", 0, 23, 24, &[]),
    cron_field("day-of-month", 1, 31, 31, &[]),
    cron_field("month", 1, 12, 12, MONTH_NAMES),
    cron_field("day-of-week", 1, 7, 7, DAY_NAMES),
    cron_field("year", 1970, 2199, 230, &[]),
];

const DAY_OF_MONTH: usize = 2;
const DAY_OF_WEEK: usize = 4;
const YEAR: usize = 5;

impl CronForm {
    fn fields(self) -> &'static [CronField] {
        match self {
            CronForm::Unix => &UNIX_FIELDS,
            CronForm::Aws => &AWS_FIELDS,
        }
    }
}

/// The values an item starts from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CronBase {
    Star,
    Value(u32),
    Range(u32, u32),
}

/// One comma-separated item of a field: `*`, `5`, `1-5`, each with an optional `/step`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct CronItem {
    base: CronBase,
    step: Option<u32>,
}

enum CronValue {
    List(Vec<CronItem>),
    /// AWS's `?`.
    Any,
    /// AWS's `L`, `LW`, `nW`, `nL` and `n#k`, which have no Unix equivalent.
    Special,
}

impl CronValue {
    fn is_star(&self) -> bool {
        matches!(self, CronValue::List(items) if items[..] == [CronItem { base: CronBase::Star, step: None }])
    }
}

struct Cron {
    form: CronForm,
    fields: Vec<CronValue>,
}

/// Parse a schedule in either form; the error is the problem.
fn parse_cron(v: &str) -> std::result::Result<Cron, String> {
    if v.is_empty() {
        return Err("is empty".to_owned());
    }
    let (form, body) = match v.strip_prefix("cron(") {
        Some(rest) => (CronForm::Aws, rest.strip_suffix(')').ok_or("opens `cron(` without closing it with `)`")?),
        None => (CronForm::Unix, v),
    };
    let tokens: Vec<&str> = body.split(' ').collect();
    if tokens.contains(&"") {
        return Err("has an empty field: fields are separated by single spaces".to_owned());
    }
    let specs = form.fields();
    if tokens.len() != specs.len() {
        let inside = if form == CronForm::Aws { " inside `cron(...)`" } else { "" };
        return Err(format!("has {} fields{inside}, not {}", tokens.len(), specs.len()));
    }
    let fields = tokens
        .iter()
        .enumerate()
        .map(|(index, token)| {
            parse_cron_field(form, index, token)
                .map_err(|problem| format!("field {} ({}) {problem}", index + 1, specs[index].name))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let (dom, dow) = (&fields[DAY_OF_MONTH], &fields[DAY_OF_WEEK]);
    match form {
        CronForm::Unix if !dom.is_star() && !dow.is_star() => Err(
            "restricts both day-of-month and day-of-week, which runs on either and AWS cannot express; leave one of them `*`"
                .to_owned(),
        ),
        CronForm::Aws => match (matches!(dom, CronValue::Any), matches!(dow, CronValue::Any)) {
            (true, true) => Err("has `?` in both day-of-month and day-of-week; exactly one of them must be `?`".to_owned()),
            (false, false) => {
                Err("has `?` in neither day-of-month nor day-of-week; exactly one of them must be `?`".to_owned())
            }
            _ => Ok(Cron { form, fields }),
        },
        CronForm::Unix => Ok(Cron { form, fields }),
    }
}

fn parse_cron_field(form: CronForm, index: usize, token: &str) -> std::result::Result<CronValue, String> {
    let day = index == DAY_OF_MONTH || index == DAY_OF_WEEK;
    let question_mark = match form {
        CronForm::Unix => Err("has `?`, which only the AWS form allows".to_owned()),
        CronForm::Aws if day => Ok(CronValue::Any),
        CronForm::Aws => Err("has `?`, which only day-of-month and day-of-week allow".to_owned()),
    };
    if token == "?" {
        return question_mark;
    }
    let special = if token.contains(',') { None } else { check_cron_special(index, token) };
    if let Some(special) = special {
        if form == CronForm::Unix {
            return Err(format!("has `{token}`, which only the AWS form allows"));
        }
        special?;
        return Ok(CronValue::Special);
    }
    let mut items = Vec::new();
    for part in token.split(',') {
        if part.is_empty() {
            return Err("has an empty list item".to_owned());
        }
        if part == "?" {
            question_mark?;
            return Err("has `?` in a list; `?`, `L`, `W` and `#` stand only alone".to_owned());
        }
        if check_cron_special(index, part).is_some() {
            return Err(match form {
                CronForm::Unix => format!("has `{part}`, which only the AWS form allows"),
                CronForm::Aws => format!("has `{part}` in a list; `?`, `L`, `W` and `#` stand only alone"),
            });
        }
        items.push(parse_cron_item(form, index, part)?);
    }
    Ok(CronValue::List(items))
}

/// `None` unless `token` has the shape of AWS's `L`, `LW` or `nW` (day-of-month) or `L`, `nL` or
/// `n#k` (day-of-week); then whether its numbers are in range.
fn check_cron_special(index: usize, token: &str) -> Option<std::result::Result<(), String>> {
    let spec = &AWS_FIELDS[index];
    match index {
        DAY_OF_MONTH => {
            if token == "L" || token == "LW" {
                return Some(Ok(()));
            }
            let day = token.strip_suffix('W').filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))?;
            Some(cron_value(spec, day, token).map(drop))
        }
        DAY_OF_WEEK => {
            if token == "L" {
                return Some(Ok(()));
            }
            let in_range = |day: &str| cron_value(spec, day, token).map(drop);
            if let Some((day, nth)) = token.split_once('#') {
                return Some(in_range(day).and_then(|()| match nth.parse::<u32>() {
                    Ok(1..=5) if nth.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
                    _ => Err(format!("has week `{nth}` in `{token}`, outside 1-5")),
                }));
            }
            let day = token.strip_suffix('L').filter(|d| !d.is_empty())?;
            Some(in_range(day))
        }
        _ => None,
    }
}

/// One number or name of `spec` in `part` of a field.
fn cron_value(spec: &CronField, text: &str, part: &str) -> std::result::Result<u32, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u32>() {
            Ok(n) if (spec.min..=spec.max).contains(&n) => Ok(n),
            Ok(n) => Err(format!("has {n}, outside {}-{}", spec.min, spec.max)),
            Err(_) => Err(format!("has {text}, outside {}-{}", spec.min, spec.max)),
        };
    }
    if let Some(i) = spec.names.iter().position(|name| name.eq_ignore_ascii_case(text)) {
        return Ok(spec.min + i as u32);
    }
    let what = if spec.names.is_empty() { "a number" } else { "a number or name" };
    Err(format!("has `{part}`, which is not {what}, a range or a step"))
}

fn parse_cron_item(form: CronForm, index: usize, part: &str) -> std::result::Result<CronItem, String> {
    let spec = &form.fields()[index];
    let (base, step) = match part.split_once('/') {
        Some((base, step)) => (base, Some(step)),
        None => (part, None),
    };
    let step = match step {
        None => None,
        Some(_) if form == CronForm::Aws && index == DAY_OF_WEEK => {
            return Err(format!("has the step `{part}`; the AWS form takes no step in day-of-week"));
        }
        Some("") => return Err(format!("has an empty step in `{part}`")),
        Some(step) if !step.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(format!("has step `{step}`, which is not a number"));
        }
        Some(step) => match step.parse::<u32>() {
            Ok(n) if (1..=spec.count).contains(&n) => Some(n),
            Ok(n) => return Err(format!("has step {n}, outside 1-{}", spec.count)),
            Err(_) => return Err(format!("has step {step}, outside 1-{}", spec.count)),
        },
    };
    let base = if base == "*" {
        CronBase::Star
    } else if let Some((first, last)) = base.split_once('-') {
        let (first, last) = (cron_value(spec, first, part)?, cron_value(spec, last, part)?);
        if first > last {
            return Err(format!("has the range {base}, which runs backwards"));
        }
        CronBase::Range(first, last)
    } else {
        let value = cron_value(spec, base, part)?;
        if step.is_some() && form == CronForm::Unix {
            return Err(format!("has `{part}`; the Unix form takes steps only after `*` or a range"));
        }
        CronBase::Value(value)
    };
    Ok(CronItem { base, step })
}

fn check_cron(v: &str) -> Check {
    match parse_cron(v) {
        Ok(_) => Ok(()),
        Err(problem) => fault(problem, CRON_RULE),
    }
}

/// The days of the week, Sunday first, that `items` of a day-of-week field in `form` cover.
fn cron_days(form: CronForm, items: &[CronItem]) -> [bool; 7] {
    let spec = &form.fields()[DAY_OF_WEEK];
    let mut days = [false; 7];
    for item in items {
        let (first, last) = match item.base {
            CronBase::Star => (spec.min, spec.max),
            CronBase::Value(v) if item.step.is_some() => (v, spec.max),
            CronBase::Value(v) => (v, v),
            CronBase::Range(first, last) => (first, last),
        };
        for value in (first..=last).step_by(item.step.unwrap_or(1) as usize) {
            let sunday_first = match form {
                CronForm::Unix => value % 7,
                CronForm::Aws => value - 1,
            };
            days[sunday_first as usize] = true;
        }
    }
    days
}

/// `days` (Sunday first) as a list of numbers and ranges, Sunday numbered `sunday`.
fn render_cron_days(days: [bool; 7], sunday: usize) -> String {
    if days.iter().all(|d| *d) {
        return "*".to_owned();
    }
    let mut runs = Vec::new();
    let mut day = 0;
    while day < 7 {
        if !days[day] {
            day += 1;
            continue;
        }
        let first = day;
        while day + 1 < 7 && days[day + 1] {
            day += 1;
        }
        runs.push(if first == day {
            format!("{}", first + sunday)
        } else {
            format!("{}-{}", first + sunday, day + sunday)
        });
        day += 1;
    }
    runs.join(",")
}

/// `items` of field `index` in `form`, in numbers; `a/n` becomes `a-max/n` (the Unix
/// form has no `a/n`) and day-of-week a list of days with Sunday numbered `sunday`.
fn render_cron_items(form: CronForm, index: usize, items: &[CronItem], sunday: usize) -> String {
    if index == DAY_OF_WEEK {
        return render_cron_days(cron_days(form, items), sunday);
    }
    let spec = &form.fields()[index];
    let rendered: Vec<String> = items
        .iter()
        .map(|item| {
            let base = match item.base {
                CronBase::Star => "*".to_owned(),
                CronBase::Value(v) if item.step.is_some() => format!("{v}-{}", spec.max),
                CronBase::Value(v) => v.to_string(),
                CronBase::Range(first, last) => format!("{first}-{last}"),
            };
            match item.step {
                Some(step) => format!("{base}/{step}"),
                None => base,
            }
        })
        .collect();
    rendered.join(",")
}

validated_string!(
    /// A cron schedule: five-field Unix form or AWS's six-field `cron(...)` form,
    /// each checked field by field; see [`CronSchedule::to_aws`] and
    /// [`CronSchedule::to_unix`] to convert.
    CronSchedule, "schedule", check_cron
);

impl CronSchedule {
    fn parsed(&self) -> Cron {
        parse_cron(&self.0).expect("a CronSchedule holds a valid schedule")
    }

    /// The schedule in AWS's `cron(min hour dom month dow year)` form: AWS input
    /// unchanged; Unix input with `?` in day-of-week, or in day-of-month when
    /// day-of-week is restricted, day-of-week renumbered from Unix 0-7 (Sunday 0
    /// or 7) to AWS 1-7 (Sunday 1), names as numbers and year `*`.
    pub fn to_aws(&self) -> String {
        let cron = self.parsed();
        if cron.form == CronForm::Aws {
            return self.0.clone();
        }
        let render = |index: usize| match &cron.fields[index] {
            CronValue::List(items) => render_cron_items(CronForm::Unix, index, items, 1),
            CronValue::Any | CronValue::Special => unreachable!("the Unix form has only lists"),
        };
        let (dom, dow) = if cron.fields[DAY_OF_WEEK].is_star() {
            (render(DAY_OF_MONTH), "?".to_owned())
        } else {
            ("?".to_owned(), render(DAY_OF_WEEK))
        };
        format!("cron({} {} {dom} {} {dow} *)", render(0), render(1), render(3))
    }

    /// The schedule in the five-field Unix form: Unix input unchanged; AWS input
    /// with `?` as `*`, day-of-week renumbered from AWS 1-7 (Sunday 1) to Unix 0-6
    /// (Sunday 0), `a/n` as `a-max/n` and names as numbers. `None` when the AWS
    /// schedule uses what the Unix form cannot say: `L`, `W`, `#` or a year other
    /// than `*`.
    pub fn to_unix(&self) -> Option<String> {
        let cron = self.parsed();
        if cron.form == CronForm::Unix {
            return Some(self.0.clone());
        }
        if !cron.fields[YEAR].is_star() {
            return None;
        }
        let mut unix = Vec::with_capacity(5);
        for (index, field) in cron.fields[..5].iter().enumerate() {
            unix.push(match field {
                CronValue::Special => return None,
                CronValue::Any => "*".to_owned(),
                CronValue::List(items) => render_cron_items(CronForm::Aws, index, items, 0),
            });
        }
        Some(unix.join(" "))
    }
}

/// A retention period in days: 1 to 36,500.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct RetentionDays(u32);

impl RetentionDays {
    /// The default field name used in errors.
    pub const FIELD: &'static str = "retention_days";

    /// The rule.
    pub const RULE: &'static str = "retention periods: 1 to 36500 days";

    /// Validate `days`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when outside 1..=36500.
    pub fn new(days: u32) -> Result<Self> {
        match days {
            0 => Err(Error::invalid(Self::FIELD, "is 0 days, fewer than 1", Self::RULE)),
            1..=36_500 => Ok(RetentionDays(days)),
            _ => Err(Error::invalid(Self::FIELD, format!("is {days} days, more than 36500"), Self::RULE)),
        }
    }

    /// The number of days.
    pub fn days(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for RetentionDays {
    type Error = Error;
    fn try_from(value: u32) -> Result<Self> {
        RetentionDays::new(value)
    }
}

impl From<RetentionDays> for u32 {
    fn from(value: RetentionDays) -> u32 {
        value.0
    }
}

impl fmt::Display for RetentionDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} days", self.0)
    }
}

impl std::str::FromStr for RetentionDays {
    type Err = Error;

    /// A decimal number of days, optionally followed by ` days` (or ` day`) as
    /// [`Display`](fmt::Display) writes it.
    fn from_str(value: &str) -> Result<Self> {
        let number = value.strip_suffix(" days").or_else(|| value.strip_suffix(" day")).unwrap_or(value);
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(Self::FIELD, format!("`{value}` is not a whole number of days"), Self::RULE));
        }
        // All digits: only too many of them fail to parse.
        RetentionDays::new(number.parse().unwrap_or(u32::MAX))
    }
}

const CIDR_RULE: &str = "CIDR blocks: an IPv4 address (four decimal octets 0-255 without leading zeros) or an IPv6 address, then `/` and a prefix length in decimal without sign or leading zeros, 0-32 for IPv4 and 0-128 for IPv6; no host bits set; no spaces";

/// The address and prefix length of a CIDR block; the error is the problem.
fn parse_cidr(v: &str) -> std::result::Result<(IpAddr, u8), String> {
    if v.contains(char::is_whitespace) {
        return Err("contains whitespace".to_owned());
    }
    let Some((addr, len)) = v.split_once('/') else {
        return Err("has no `/` and prefix length".to_owned());
    };
    if len.is_empty() {
        return Err("has an empty prefix length".to_owned());
    }
    if !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("has prefix length `{len}`, which is not a decimal number"));
    }
    if len.len() > 1 && len.starts_with('0') {
        return Err(format!("has prefix length `{len}` with a leading zero"));
    }
    let ip: IpAddr = addr.parse().map_err(|_| {
        let octets: Vec<&str> = addr.split('.').collect();
        match octets.iter().find(|o| o.len() > 1 && o.starts_with('0') && o.bytes().all(|b| b.is_ascii_digit())) {
            Some(octet) if octets.len() == 4 => format!("has the IPv4 octet `{octet}` with a leading zero"),
            _ => format!("has `{addr}`, which is not an IPv4 or IPv6 address"),
        }
    })?;
    let (bits, width) = address_bits(ip);
    let len = match len.parse::<u8>() {
        Ok(len) if len <= width => len,
        _ => return Err(format!("has prefix length {len}, more than {width} for {}", family(ip))),
    };
    let host = host_mask(width, len);
    if bits & host != 0 {
        let network = bits_address(ip, bits & !host);
        return Err(format!("has host bits set: the network of {addr}/{len} is {network}/{len}"));
    }
    Ok((ip, len))
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { "IPv4" } else { "IPv6" }
}

/// The address as bits and how many bits its family has.
fn address_bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

/// An address of `ip`'s family from `bits`.
fn bits_address(ip: IpAddr, bits: u128) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(bits as u32)),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(bits)),
    }
}

/// The host bits of a `width`-bit address under prefix length `len`.
fn host_mask(width: u8, len: u8) -> u128 {
    u128::MAX.checked_shr(u32::from(128 - (width - len))).unwrap_or(0)
}

fn check_cidr(v: &str) -> Check {
    match parse_cidr(v) {
        Ok(_) => Ok(()),
        Err(problem) => fault(problem, CIDR_RULE),
    }
}

validated_string!(
    /// An IPv4 or IPv6 CIDR block with no host bits set.
    CidrBlock, "cidr", check_cidr
);

impl CidrBlock {
    fn parts(&self) -> (IpAddr, u8) {
        parse_cidr(&self.0).expect("a CidrBlock holds a valid block")
    }

    /// The network address (`10.0.0.0` of `10.0.0.0/16`).
    pub fn network(&self) -> IpAddr {
        self.parts().0
    }

    /// The prefix length (`16` of `10.0.0.0/16`).
    pub fn prefix_len(&self) -> u8 {
        self.parts().1
    }

    /// Whether this is an IPv4 block.
    pub fn is_ipv4(&self) -> bool {
        self.network().is_ipv4()
    }

    /// Whether every address of `other` is in this block, as a subnet's block is in
    /// its VPC's. A block contains itself; blocks of different families contain
    /// nothing of each other.
    pub fn contains(&self, other: &CidrBlock) -> bool {
        let (network, len) = self.parts();
        let (other_network, other_len) = other.parts();
        if network.is_ipv4() != other_network.is_ipv4() || other_len < len {
            return false;
        }
        let (bits, width) = address_bits(network);
        let (other_bits, _) = address_bits(other_network);
        other_bits & !host_mask(width, len) == bits
    }
}

/// The rules a password must follow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordRules {
    /// Fewest characters.
    pub min_len: usize,
    /// Most characters.
    pub max_len: usize,
    /// Characters that must not appear.
    pub forbidden: String,
    /// Only printable ASCII without spaces (`!` to `~`): no space, control or non-ASCII character.
    pub printable_ascii_only: bool,
    /// How many of the four classes (uppercase letters, lowercase letters, digits,
    /// other characters) must each appear at least once: 0 for no such rule, 4 for all.
    pub min_classes: u8,
}

/// The class of a password character: uppercase, lowercase, digit, other.
fn password_class(c: char) -> usize {
    if c.is_ascii_uppercase() {
        0
    } else if c.is_ascii_lowercase() {
        1
    } else if c.is_ascii_digit() {
        2
    } else {
        3
    }
}

impl PasswordRules {
    /// The SIMPHERA preset: 8 to 128 characters, none of `/ ' " @`. SIMPHERA's
    /// password becomes the RDS master password, so this is [`PasswordRules::rds_master`],
    /// which also refuses spaces and anything but printable ASCII.
    pub fn simphera() -> Self {
        PasswordRules::rds_master()
    }

    /// The master password of RDS for PostgreSQL: 8 to 128 printable ASCII
    /// characters, none of `/ ' " @` and no space.
    pub fn rds_master() -> Self {
        PasswordRules {
            min_len: 8,
            max_len: 128,
            forbidden: "/'\"@".to_owned(),
            printable_ascii_only: true,
            min_classes: 0,
        }
    }

    /// The administrator password of Azure Database for PostgreSQL flexible
    /// server: 8 to 128 characters from at least three of uppercase letters,
    /// lowercase letters, digits and non-alphanumeric characters. Printable ASCII
    /// without spaces here, so that the classes are unambiguous. (Azure also
    /// refuses a password containing the login name, which depends on the login and
    /// is not checked.)
    pub fn azure_postgres() -> Self {
        PasswordRules { min_len: 8, max_len: 128, forbidden: String::new(), printable_ascii_only: true, min_classes: 3 }
    }

    /// The rule as a sentence.
    pub fn describe(&self) -> String {
        let mut s = format!("passwords: {}-{} characters", self.min_len, self.max_len);
        if !self.forbidden.is_empty() {
            let list: Vec<String> = self.forbidden.chars().map(|c| c.to_string()).collect();
            s.push_str(&format!(", none of {}", list.join(" ")));
        }
        if self.printable_ascii_only {
            s.push_str(", printable ASCII without spaces");
        }
        match self.min_classes {
            0 => {}
            4 => s.push_str(", at least one uppercase letter, lowercase letter, digit and non-alphanumeric character"),
            n => s.push_str(&format!(
                ", characters of at least {n} of the 4 classes uppercase letters, lowercase letters, digits and non-alphanumeric characters"
            )),
        }
        s
    }

    /// Check `value` (never echoed in the error, not even in part).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the broken rule, never the value.
    pub fn check(&self, value: &str) -> Result<()> {
        let fault = |problem: String| Err(Error::invalid(Password::FIELD, problem, self.describe()));
        let n = value.chars().count();
        if n < self.min_len {
            return fault(format!("has fewer than {} characters", self.min_len));
        }
        if n > self.max_len {
            return fault(format!("has more than {} characters", self.max_len));
        }
        if value.chars().any(|c| self.forbidden.contains(c)) {
            return fault("contains a forbidden character".to_owned());
        }
        if self.printable_ascii_only && !value.chars().all(|c| c.is_ascii_graphic()) {
            return fault("contains a space or a character that is not printable ASCII".to_owned());
        }
        let mut present = [false; 4];
        for c in value.chars() {
            present[password_class(c)] = true;
        }
        if present.iter().filter(|p| **p).count() < usize::from(self.min_classes) {
            return fault(format!("has characters of fewer than {} of the 4 classes", self.min_classes));
        }
        Ok(())
    }

    /// Generate a random password of `len` characters following these rules,
    /// from printable ASCII without spaces and the forbidden characters.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `len` is outside the rules' length, or when
    /// the rules leave too few characters or classes for a password of `len`.
    pub fn generate(&self, len: usize) -> Result<Password> {
        use rand::seq::{IndexedRandom, SliceRandom};
        if len < self.min_len || len > self.max_len {
            let problem = format!("is {len}, outside {}-{}", self.min_len, self.max_len);
            return Err(Error::invalid("length", problem, self.describe()));
        }
        let alphabet: Vec<char> = ('!'..='~').filter(|c| !self.forbidden.contains(*c)).collect();
        let mut classes: [Vec<char>; 4] = Default::default();
        for c in &alphabet {
            classes[password_class(*c)].push(*c);
        }
        let available: Vec<&Vec<char>> = classes.iter().filter(|class| !class.is_empty()).collect();
        let needed = usize::from(self.min_classes);
        if (alphabet.is_empty() && len > 0) || needed > available.len() || needed > len {
            let problem = format!("leave too few characters or classes for a password of {len} characters");
            return Err(Error::invalid("password_rules", problem, self.describe()));
        }
        let mut rng = rand::rng();
        // One character of each of `needed` classes, the rest from the whole alphabet, shuffled.
        let picked: Vec<&&Vec<char>> = available.choose_multiple(&mut rng, needed).collect();
        let mut chars: Vec<char> = picked.iter().filter_map(|class| class.choose(&mut rng)).copied().collect();
        while chars.len() < len {
            chars.extend(alphabet.choose(&mut rng));
        }
        chars.shuffle(&mut rng);
        Password::new(chars.into_iter().collect::<String>(), self)
    }
}

impl Default for PasswordRules {
    fn default() -> Self {
        PasswordRules::simphera()
    }
}

/// A password that follows a [`PasswordRules`]; its value never appears in
/// `Debug`, `Display` or errors.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    /// The field name used in errors.
    pub const FIELD: &'static str = "password";

    /// Validate `value` against `rules`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the broken rule (never the value).
    pub fn new(value: impl Into<String>, rules: &PasswordRules) -> Result<Self> {
        let value = SecretString::from(value.into());
        rules.check(value.expose_secret())?;
        Ok(Password(value))
    }

    /// The secret value, for the one call that must carry it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The value as a [`SecretString`].
    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
