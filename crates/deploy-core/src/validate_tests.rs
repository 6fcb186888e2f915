//! Tests of the validated types: every rule's edges, every forbidden
//! character, prefix and suffix, the parts of each error, serde.

use std::fmt::Debug;
use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::*;

/// A validated string type and the rule it checks.
trait Named: FromStr<Err = Error> + AsRef<str> + fmt::Display + Debug + Serialize + DeserializeOwned + PartialEq {
    const FIELD: &'static str;
    const RULE: &'static str;
}

macro_rules! named {
    ($($name:ident => $rule:ident),* $(,)?) => {
        $(impl Named for $name {
            const FIELD: &'static str = $name::FIELD;
            const RULE: &'static str = $rule;
        })*
    };
}

named!(
    BucketName => BUCKET_RULE,
    ContainerName => CONTAINER_RULE,
    ObjectKey => KEY_RULE,
    PgIdentifier => PG_IDENT_RULE,
    ResourceName => RESOURCE_RULE,
    SecretName => SECRET_NAME_RULE,
    KubernetesVersion => K8S_VERSION_RULE,
    CronSchedule => CRON_RULE,
    CidrBlock => CIDR_RULE,
);

/// The field, problem and rule of an [`Error::InvalidInput`].
fn parts(err: Error) -> (String, String, String) {
    match err {
        Error::InvalidInput { field, problem, rule } => (field, problem, rule),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

/// `result` failed on `field`, with a problem containing `problem`, citing `rule`.
#[track_caller]
fn assert_invalid<T: Debug>(result: Result<T>, field: &str, problem: &str, rule: &str) {
    let (f, p, r) = parts(result.expect_err("the value was accepted"));
    assert_eq!(f, field);
    assert!(p.contains(problem), "problem {p:?} does not say {problem:?}");
    assert_eq!(r, rule);
}

#[track_caller]
fn ok<T: Named>(value: &str) {
    let parsed = T::from_str(value).unwrap_or_else(|e| panic!("{value:?} was rejected: {e}"));
    assert_eq!(parsed.as_ref(), value);
}

#[track_caller]
fn bad<T: Named>(value: &str, problem: &str) {
    assert_invalid(T::from_str(value), T::FIELD, problem, T::RULE);
}

/// The whole API of a validated string type, on one good and one bad value.
#[track_caller]
fn common_api<T: Named>(good: &str, wrong: &str) {
    let value = T::from_str(good).unwrap();
    assert_eq!(value.to_string(), good);
    assert_eq!(format!("{value:?}"), format!("{good:?}"));
    let json = serde_json::to_string(&value).unwrap();
    assert_eq!(json, serde_json::to_string(good).unwrap());
    assert_eq!(serde_json::from_str::<T>(&json).unwrap(), value);
    let err = serde_json::from_str::<T>(&serde_json::to_string(wrong).unwrap()).unwrap_err().to_string();
    assert!(err.contains(T::RULE), "serde error {err:?} does not cite the rule");
    assert!(err.contains(T::FIELD), "serde error {err:?} does not name the field");
}

// ---------------------------------------------------------------- BucketName

#[test]
fn bucket_api() {
    common_api::<BucketName>("my-bucket.data", "My_Bucket");
    assert_eq!(BucketName::new("abc").unwrap().as_str(), "abc");
    assert_eq!(BucketName::try_from("abc".to_owned()).unwrap().as_str(), "abc");
    assert_eq!(String::from(BucketName::new("abc").unwrap()), "abc");
}

#[test]
fn bucket_length_edges() {
    ok::<BucketName>("abc");
    ok::<BucketName>("a1b");
    bad::<BucketName>("ab", "is 2 characters long, fewer than 3");
    bad::<BucketName>("a", "is 1 character long, fewer than 3");
    bad::<BucketName>("", "is empty");
    ok::<BucketName>(&"a".repeat(63));
    bad::<BucketName>(&"a".repeat(64), "is 64 characters long, more than 63");
}

#[test]
fn bucket_characters() {
    ok::<BucketName>("abc-def.123");
    for (value, shown) in [
        ("Abc", "'A'"),
        ("ab_c", "'_'"),
        ("ab c", "' '"),
        ("ab/c", "'/'"),
        ("ab:c", "':'"),
        ("abé", "'é'"),
        ("ab\nc", "'\\n'"),
    ] {
        bad::<BucketName>(value, &format!("contains {shown}, which is not a lowercase letter, digit, dot or hyphen"));
    }
}

#[test]
fn bucket_begins_and_ends_with_letter_or_digit() {
    ok::<BucketName>("1bc");
    ok::<BucketName>("ab1");
    bad::<BucketName>("-abc", "does not begin with a letter or digit");
    bad::<BucketName>(".abc", "does not begin with a letter or digit");
    bad::<BucketName>("abc-", "does not end with a letter or digit");
    bad::<BucketName>("abc.", "does not end with a letter or digit");
}

#[test]
fn bucket_dots_and_hyphens() {
    ok::<BucketName>("a.b.c");
    ok::<BucketName>("a--b");
    bad::<BucketName>("a..b", "contains `..`");
    bad::<BucketName>("a.-b", "contains `.-`");
    bad::<BucketName>("a-.b", "contains `-.`");
}

#[test]
fn bucket_ip_address() {
    bad::<BucketName>("192.168.5.4", "is formatted as an IP address");
    bad::<BucketName>("192.168.05.4", "is formatted as an IP address");
    bad::<BucketName>("999.999.999.999", "is formatted as an IP address");
    ok::<BucketName>("192.168.5");
    ok::<BucketName>("192.168.5.4.1");
    ok::<BucketName>("192.168.5.4a");
    ok::<BucketName>("1922.168.5.4");
}

#[test]
fn bucket_reserved_prefixes_and_suffixes() {
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        bad::<BucketName>(&format!("{prefix}bucket"), &format!("begins with the reserved prefix `{prefix}`"));
        assert!(BUCKET_RULE.contains(&format!("`{prefix}`")));
    }
    bad::<BucketName>("sthree-configurator", "begins with the reserved prefix `sthree-`");
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        bad::<BucketName>(&format!("bucket{suffix}"), &format!("ends with the reserved suffix `{suffix}`"));
        assert!(BUCKET_RULE.contains(&format!("`{suffix}`")));
    }
    for near in [
        "xn-bucket",
        "my-xn--bucket",
        "sthreebucket",
        "amzn-s3-demo",
        "bucket-s3alias1",
        "s3alias",
        "bucket-ol-s3",
        "bucket-mrap",
        "bucket-x-s3",
        "bucket-table-s3",
    ] {
        ok::<BucketName>(near);
    }
}

// ------------------------------------------------------------- ContainerName

#[test]
fn container_api() {
    common_api::<ContainerName>("my-container", "my--container");
}

#[test]
fn container_length_edges() {
    ok::<ContainerName>("abc");
    bad::<ContainerName>("ab", "is 2 characters long, fewer than 3");
    bad::<ContainerName>("", "is empty");
    ok::<ContainerName>(&"a".repeat(63));
    bad::<ContainerName>(&"a".repeat(64), "is 64 characters long, more than 63");
}

#[test]
fn container_characters() {
    ok::<ContainerName>("a1-b2");
    for (value, shown) in
        [("Abc", "'A'"), ("a_bc", "'_'"), ("a.bc", "'.'"), ("a bc", "' '"), ("abé", "'é'"), ("$other", "'$'")]
    {
        bad::<ContainerName>(value, &format!("contains {shown}, which is not a lowercase letter, digit or hyphen"));
    }
}

#[test]
fn container_hyphens() {
    ok::<ContainerName>("1abc");
    ok::<ContainerName>("a-b-c");
    bad::<ContainerName>("-abc", "begins with a hyphen");
    bad::<ContainerName>("a--bc", "has two adjacent hyphens");
    bad::<ContainerName>("abc-", "ends with a hyphen");
}

#[test]
fn container_special_names() {
    for special in ["$root", "$web", "$logs"] {
        ok::<ContainerName>(special);
        assert!(CONTAINER_RULE.contains(&format!("`{special}`")));
    }
    bad::<ContainerName>("$ROOT", "contains '$'");
    bad::<ContainerName>("$root2", "contains '$'");
}

// ----------------------------------------------------------------- ObjectKey

#[test]
fn key_api() {
    common_api::<ObjectKey>("dir/file name.txt", "");
}

#[test]
fn key_length_in_bytes() {
    ok::<ObjectKey>("a");
    bad::<ObjectKey>("", "is empty");
    ok::<ObjectKey>(&"a".repeat(1024));
    bad::<ObjectKey>(&"a".repeat(1025), "is 1025 bytes long, more than 1024");
    // two-byte and three-byte characters count in bytes
    ok::<ObjectKey>(&"é".repeat(512));
    bad::<ObjectKey>(&format!("{}a", "é".repeat(512)), "is 1025 bytes long, more than 1024");
    ok::<ObjectKey>(&format!("{}a", "€".repeat(341)));
    bad::<ObjectKey>(&format!("{}ab", "€".repeat(341)), "is 1025 bytes long");
}

#[test]
fn key_any_characters() {
    for key in ["a b", "100%/é/😀", "..", "/leading", "trailing/", "a\\b"] {
        ok::<ObjectKey>(key);
    }
}

// -------------------------------------------------------------- PgIdentifier

#[test]
fn pg_identifier_api() {
    common_api::<PgIdentifier>("Mixed Case", "a\0b");
}

#[test]
fn pg_identifier_length_in_bytes() {
    ok::<PgIdentifier>("a");
    bad::<PgIdentifier>("", "is empty");
    ok::<PgIdentifier>(&"a".repeat(63));
    bad::<PgIdentifier>(&"a".repeat(64), "is 64 bytes long, more than 63");
    // 32 characters, 63 bytes
    ok::<PgIdentifier>(&format!("{}a", "é".repeat(31)));
    // 32 characters, 64 bytes
    bad::<PgIdentifier>(&"é".repeat(32), "is 64 bytes long, more than 63");
}

#[test]
fn pg_identifier_nul() {
    bad::<PgIdentifier>("a\0b", "contains a NUL character");
    bad::<PgIdentifier>("\0", "contains a NUL character");
    ok::<PgIdentifier>("select \"quoted\"; drop");
}

// -------------------------------------------------------------- ResourceName

#[test]
fn resource_api() {
    common_api::<ResourceName>("prod-db-1", "Prod");
}

#[test]
fn resource_length_edges() {
    ok::<ResourceName>("a");
    bad::<ResourceName>("", "is empty");
    ok::<ResourceName>(&"a".repeat(63));
    bad::<ResourceName>(&"a".repeat(64), "is 64 characters long, more than 63");
}

#[test]
fn resource_characters() {
    for (value, shown) in [("Abc", "'A'"), ("a_b", "'_'"), ("a.b", "'.'"), ("a b", "' '"), ("aé", "'é'")] {
        bad::<ResourceName>(value, &format!("contains {shown}, which is not a lowercase letter, digit or hyphen"));
    }
}

#[test]
fn resource_shape() {
    ok::<ResourceName>("a-1");
    ok::<ResourceName>("a1");
    bad::<ResourceName>("1abc", "does not begin with a letter");
    bad::<ResourceName>("-abc", "does not begin with a letter");
    bad::<ResourceName>("a--b", "has two adjacent hyphens");
    bad::<ResourceName>("abc-", "ends with a hyphen");
    bad::<ResourceName>("a-", "ends with a hyphen");
}

// ---------------------------------------------------------------- SecretName

#[test]
fn secret_name_api() {
    common_api::<SecretName>("Prod-Db-Password", "prod/db");
}

#[test]
fn secret_name_length_edges() {
    ok::<SecretName>("a");
    bad::<SecretName>("", "is empty");
    ok::<SecretName>(&"a".repeat(127));
    bad::<SecretName>(&"a".repeat(128), "is 128 characters long, more than 127");
}

#[test]
fn secret_name_characters() {
    ok::<SecretName>("Ab-1--2-");
    for (value, shown) in
        [("a_b", "'_'"), ("a/b", "'/'"), ("a.b", "'.'"), ("a b", "' '"), ("a@b", "'@'"), ("aé", "'é'")]
    {
        bad::<SecretName>(value, &format!("contains {shown}, which is not a letter, digit or hyphen"));
    }
    bad::<SecretName>("1abc", "does not begin with a letter");
    bad::<SecretName>("-abc", "does not begin with a letter");
}

// --------------------------------------------------------- KubernetesVersion

#[test]
fn k8s_version_api() {
    common_api::<KubernetesVersion>("1.31", "1.31.2");
}

#[test]
fn k8s_version_edges() {
    for good in ["1.0", "1.9", "1.10", "1.31", "1.99"] {
        ok::<KubernetesVersion>(good);
    }
    bad::<KubernetesVersion>("1.100", "has minor version 100, outside 0-99");
    bad::<KubernetesVersion>("1.99999999999999999999", "has minor version 99999999999999999999, outside 0-99");
    bad::<KubernetesVersion>("0.31", "has major version 0, not 1");
    bad::<KubernetesVersion>("2.0", "has major version 2, not 1");
    bad::<KubernetesVersion>("1.09", "has a leading zero in `09`");
    bad::<KubernetesVersion>("1.00", "has a leading zero in `00`");
    bad::<KubernetesVersion>("01.31", "has a leading zero in `01`");
    bad::<KubernetesVersion>("1.31.2", "has a patch part `.2`");
    for shape in ["", "1", "1.", ".31", "v1.31", "1.31-eks", "1.3a", "1..31", " 1.31", "1.31 ", "1.+3", "1.31.2.1"] {
        bad::<KubernetesVersion>(shape, "is not MAJOR.MINOR of two decimal numbers");
    }
}

// -------------------------------------------------------------- CronSchedule

#[track_caller]
fn cron(value: &str) -> CronSchedule {
    CronSchedule::new(value).unwrap_or_else(|e| panic!("{value:?} was rejected: {e}"))
}

#[test]
fn cron_api() {
    common_api::<CronSchedule>("0 2 * * *", "0 24 * * *");
    common_api::<CronSchedule>("cron(0 10 ? * MON-FRI *)", "cron(0 10 * * * *)");
}

#[test]
fn cron_unix_accepts() {
    for good in [
        "0 2 * * *",
        "* * * * *",
        "*/15 * * * *",
        "0 0-23/2 * * *",
        "5,10,15 * * * *",
        "0-4,30-34/2 * * * *",
        "0 0 1 JAN *",
        "0 0 * jan-Mar *",
        "0 0 * * MON-FRI",
        "0 0 * * sun,sat",
        "0 0 * * 0",
        "0 0 * * 7",
        "0 0 * * 0-7",
        "0 0 * * */2",
        "0 0 1-15 * *",
        "0 0 */2 * *",
        "00 05 01 01 *",
        "59 23 31 12 *",
        "0 0 * 1-12/3 *",
        "3-3 * * * *",
        "*/60 */24 */31 */12 *",
    ] {
        ok::<CronSchedule>(good);
    }
}

#[test]
fn cron_unix_field_edges() {
    ok::<CronSchedule>("59 * * * *");
    bad::<CronSchedule>("60 * * * *", "field 1 (minute) has 60, outside 0-59");
    ok::<CronSchedule>("0 23 * * *");
    bad::<CronSchedule>("0 24 * * *", "field 2 (hour) has 24, outside 0-23");
    bad::<CronSchedule>("0 024 * * *", "field 2 (hour) has 24, outside 0-23");
    ok::<CronSchedule>("0 0 1 * *");
    ok::<CronSchedule>("0 0 31 * *");
    bad::<CronSchedule>("0 0 0 * *", "field 3 (day-of-month) has 0, outside 1-31");
    bad::<CronSchedule>("0 0 32 * *", "field 3 (day-of-month) has 32, outside 1-31");
    ok::<CronSchedule>("0 0 * 1 *");
    ok::<CronSchedule>("0 0 * 12 *");
    bad::<CronSchedule>("0 0 * 0 *", "field 4 (month) has 0, outside 1-12");
    bad::<CronSchedule>("0 0 * 13 *", "field 4 (month) has 13, outside 1-12");
    bad::<CronSchedule>("0 0 * * 8", "field 5 (day-of-week) has 8, outside 0-7");
    bad::<CronSchedule>("99999999999 * * * *", "field 1 (minute) has 99999999999, outside 0-59");
    bad::<CronSchedule>("0-60 * * * *", "field 1 (minute) has 60, outside 0-59");
}

#[test]
fn cron_names() {
    bad::<CronSchedule>("0 0 * FOO *", "field 4 (month) has `FOO`, which is not a number or name, a range or a step");
    bad::<CronSchedule>("0 0 * JANUARY *", "field 4 (month) has `JANUARY`");
    bad::<CronSchedule>("0 0 * * MONDAY", "field 5 (day-of-week) has `MONDAY`");
    bad::<CronSchedule>("0 JAN * * *", "field 2 (hour) has `JAN`, which is not a number, a range or a step");
    bad::<CronSchedule>("0 0 MON * *", "field 3 (day-of-month) has `MON`");
    bad::<CronSchedule>("x * * * *", "field 1 (minute) has `x`");
    bad::<CronSchedule>("-5 * * * *", "field 1 (minute) has `-5`");
    bad::<CronSchedule>("+5 * * * *", "field 1 (minute) has `+5`");
}

#[test]
fn cron_ranges_steps_lists() {
    bad::<CronSchedule>("0 5-3 * * *", "field 2 (hour) has the range 5-3, which runs backwards");
    bad::<CronSchedule>("0 0 * * FRI-MON", "field 5 (day-of-week) has the range FRI-MON, which runs backwards");
    bad::<CronSchedule>("0 1-2-3 * * *", "field 2 (hour) has `1-2-3`");
    bad::<CronSchedule>("*/0 * * * *", "field 1 (minute) has step 0, outside 1-60");
    bad::<CronSchedule>("*/61 * * * *", "field 1 (minute) has step 61, outside 1-60");
    bad::<CronSchedule>("0 */25 * * *", "field 2 (hour) has step 25, outside 1-24");
    bad::<CronSchedule>("0 0 1-10/0 * *", "field 3 (day-of-month) has step 0, outside 1-31");
    bad::<CronSchedule>("0 0 * * */8", "field 5 (day-of-week) has step 8, outside 1-7");
    bad::<CronSchedule>("*/x * * * *", "field 1 (minute) has step `x`, which is not a number");
    bad::<CronSchedule>("*/ * * * *", "field 1 (minute) has an empty step in `*/`");
    bad::<CronSchedule>("*/1/2 * * * *", "field 1 (minute) has step `1/2`, which is not a number");
    bad::<CronSchedule>(
        "5/10 * * * *",
        "field 1 (minute) has `5/10`; the Unix form takes steps only after `*` or a range",
    );
    bad::<CronSchedule>("1,,2 * * * *", "field 1 (minute) has an empty list item");
    bad::<CronSchedule>("1, * * * *", "field 1 (minute) has an empty list item");
    bad::<CronSchedule>("1,60 * * * *", "field 1 (minute) has 60, outside 0-59");
}

#[test]
fn cron_unix_rejects_aws_syntax() {
    bad::<CronSchedule>("0 0 ? * *", "field 3 (day-of-month) has `?`, which only the AWS form allows");
    bad::<CronSchedule>("0 0 * * ?", "field 5 (day-of-week) has `?`, which only the AWS form allows");
    bad::<CronSchedule>("0 0 L * *", "field 3 (day-of-month) has `L`, which only the AWS form allows");
    bad::<CronSchedule>("0 0 15W * *", "field 3 (day-of-month) has `15W`, which only the AWS form allows");
    bad::<CronSchedule>("0 0 * * 5L", "field 5 (day-of-week) has `5L`, which only the AWS form allows");
    bad::<CronSchedule>("0 0 * * 3#2", "field 5 (day-of-week) has `3#2`, which only the AWS form allows");
    bad::<CronSchedule>("0 0 * * 1,3#2", "field 5 (day-of-week) has `3#2`, which only the AWS form allows");
}

#[test]
fn cron_unix_day_of_month_or_week() {
    let problem = "restricts both day-of-month and day-of-week";
    bad::<CronSchedule>("0 0 1 * 1", problem);
    bad::<CronSchedule>("0 0 */2 * MON", problem);
    bad::<CronSchedule>("0 0 1 * */1", problem);
    ok::<CronSchedule>("0 0 1 * *");
    ok::<CronSchedule>("0 0 * * 1");
}

#[test]
fn cron_shape() {
    bad::<CronSchedule>("", "is empty");
    bad::<CronSchedule>("0 0 * *", "has 4 fields, not 5");
    bad::<CronSchedule>("0 0 * * * *", "has 6 fields, not 5");
    bad::<CronSchedule>("@daily", "has 1 fields, not 5");
    bad::<CronSchedule>("rate(1 day)", "has 2 fields, not 5");
    bad::<CronSchedule>("cron(0 0 * * ?)", "has 5 fields inside `cron(...)`, not 6");
    bad::<CronSchedule>("cron(0 0 * * ? * *)", "has 7 fields inside `cron(...)`, not 6");
    bad::<CronSchedule>("cron(0 0 * * ? *", "opens `cron(` without closing it with `)`");
    bad::<CronSchedule>("cron()", "has an empty field");
    bad::<CronSchedule>("0  0 * * *", "has an empty field: fields are separated by single spaces");
    bad::<CronSchedule>(" 0 0 * * *", "has an empty field");
    bad::<CronSchedule>("0 0 * * * ", "has an empty field");
    bad::<CronSchedule>("cron( 0 0 * * ? *)", "has an empty field");
    bad::<CronSchedule>("0\t0 * * *", "has 4 fields, not 5");
    bad::<CronSchedule>("CRON(0 0 * * ? *)", "has 6 fields, not 5");
}

#[test]
fn cron_aws_accepts() {
    for good in [
        "cron(0 10 * * ? *)",
        "cron(15 12 * * ? *)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(0 8 1 * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(*/15 * * * ? *)",
        "cron(0/10 * ? * MON-FRI *)",
        "cron(0/5 8-17 ? * MON-FRI *)",
        "cron(0 9 L * ? *)",
        "cron(0 9 LW * ? *)",
        "cron(0 9 15W * ? *)",
        "cron(0 9 ? * L *)",
        "cron(0 9 ? * 6L *)",
        "cron(0 9 ? * FRIL *)",
        "cron(0 9 ? * 3#2 *)",
        "cron(0 0 ? * MON#1 *)",
        "cron(0 0 ? * 1,7 *)",
        "cron(0 0 ? * SUN-SAT *)",
        "cron(0 0 ? * * *)",
        "cron(0 10 1 1,4,7,10 ? *)",
        "cron(0 0 1 JAN ? 2030)",
        "cron(0 0 1 1 ? 2025-2030/2)",
        "cron(0 0 1 1 ? 2025,2027)",
        "cron(0 0 1/5 * ? *)",
    ] {
        ok::<CronSchedule>(good);
    }
}

#[test]
fn cron_aws_field_edges() {
    ok::<CronSchedule>("cron(0 0 ? * 1 *)");
    ok::<CronSchedule>("cron(0 0 ? * 7 *)");
    bad::<CronSchedule>("cron(0 0 ? * 0 *)", "field 5 (day-of-week) has 0, outside 1-7");
    bad::<CronSchedule>("cron(0 0 ? * 8 *)", "field 5 (day-of-week) has 8, outside 1-7");
    ok::<CronSchedule>("cron(0 0 * * ? 1970)");
    ok::<CronSchedule>("cron(0 0 * * ? 2199)");
    bad::<CronSchedule>("cron(0 0 * * ? 1969)", "field 6 (year) has 1969, outside 1970-2199");
    bad::<CronSchedule>("cron(0 0 * * ? 2200)", "field 6 (year) has 2200, outside 1970-2199");
    bad::<CronSchedule>("cron(0 0 * * ? */231)", "field 6 (year) has step 231, outside 1-230");
    bad::<CronSchedule>("cron(60 0 * * ? *)", "field 1 (minute) has 60, outside 0-59");
    bad::<CronSchedule>("cron(0 24 * * ? *)", "field 2 (hour) has 24, outside 0-23");
    bad::<CronSchedule>("cron(0 0 32 * ? *)", "field 3 (day-of-month) has 32, outside 1-31");
    bad::<CronSchedule>("cron(0 0 * 13 ? *)", "field 4 (month) has 13, outside 1-12");
}

#[test]
fn cron_aws_question_mark() {
    bad::<CronSchedule>(
        "cron(0 0 ? * ? *)",
        "has `?` in both day-of-month and day-of-week; exactly one of them must be `?`",
    );
    bad::<CronSchedule>(
        "cron(0 0 * * * *)",
        "has `?` in neither day-of-month nor day-of-week; exactly one of them must be `?`",
    );
    bad::<CronSchedule>("cron(0 0 1 * MON *)", "has `?` in neither day-of-month nor day-of-week");
    bad::<CronSchedule>("cron(0 ? * * ? *)", "field 2 (hour) has `?`, which only day-of-month and day-of-week allow");
    bad::<CronSchedule>("cron(0 0 * * ? ?)", "field 6 (year) has `?`, which only day-of-month and day-of-week allow");
    bad::<CronSchedule>("cron(0 0 1,? * ? *)", "field 3 (day-of-month) has `?` in a list");
    bad::<CronSchedule>(
        "cron(1,? 0 * * ? *)",
        "field 1 (minute) has `?`, which only day-of-month and day-of-week allow",
    );
    bad::<CronSchedule>("0 0 1,? * *", "field 3 (day-of-month) has `?`, which only the AWS form allows");
}

#[test]
fn cron_aws_specials() {
    bad::<CronSchedule>("cron(0 0 32W * ? *)", "field 3 (day-of-month) has 32, outside 1-31");
    bad::<CronSchedule>("cron(0 0 0W * ? *)", "field 3 (day-of-month) has 0, outside 1-31");
    bad::<CronSchedule>("cron(0 0 W * ? *)", "field 3 (day-of-month) has `W`");
    bad::<CronSchedule>("cron(0 0 ? * 8L *)", "field 5 (day-of-week) has 8, outside 1-7");
    bad::<CronSchedule>("cron(0 0 ? * 0#1 *)", "field 5 (day-of-week) has 0, outside 1-7");
    bad::<CronSchedule>("cron(0 0 ? * 3#6 *)", "field 5 (day-of-week) has week `6` in `3#6`, outside 1-5");
    bad::<CronSchedule>("cron(0 0 ? * 3#0 *)", "field 5 (day-of-week) has week `0` in `3#0`, outside 1-5");
    bad::<CronSchedule>("cron(0 0 ? * 3# *)", "field 5 (day-of-week) has week `` in `3#`, outside 1-5");
    bad::<CronSchedule>(
        "cron(0 0 ? * 3#1,6#3 *)",
        "field 5 (day-of-week) has `3#1` in a list; `?`, `L`, `W` and `#` stand only alone",
    );
    bad::<CronSchedule>("cron(0 0 L,15 * ? *)", "field 3 (day-of-month) has `L` in a list");
    bad::<CronSchedule>("cron(0 0 ? * 2W *)", "field 5 (day-of-week) has `2W`");
    bad::<CronSchedule>("cron(0 0 3#2 * ? *)", "field 3 (day-of-month) has `3#2`");
    bad::<CronSchedule>("cron(L 0 * * ? *)", "field 1 (minute) has `L`");
    bad::<CronSchedule>(
        "cron(0 0 ? * */2 *)",
        "field 5 (day-of-week) has the step `*/2`; the AWS form takes no step in day-of-week",
    );
}

#[test]
fn cron_to_aws() {
    for (unix, aws) in [
        ("0 2 * * *", "cron(0 2 * * ? *)"),
        ("30 9 * * 1-5", "cron(30 9 ? * 2-6 *)"),
        ("0 2 * * 0", "cron(0 2 ? * 1 *)"),
        ("0 2 * * 7", "cron(0 2 ? * 1 *)"),
        ("0 2 * * 6", "cron(0 2 ? * 7 *)"),
        ("0 0 1 * *", "cron(0 0 1 * ? *)"),
        ("0 0 * * 5-7", "cron(0 0 ? * 1,6-7 *)"),
        ("0 0 * * 0-6", "cron(0 0 ? * * *)"),
        ("0 0 * * 0-7", "cron(0 0 ? * * *)"),
        ("0 0 * * */2", "cron(0 0 ? * 1,3,5,7 *)"),
        ("0 0 * * 1-5/2", "cron(0 0 ? * 2,4,6 *)"),
        ("0 0 * * sat,sun", "cron(0 0 ? * 1,7 *)"),
        ("0 0 * * MON-FRI", "cron(0 0 ? * 2-6 *)"),
        ("*/15 0-6/2 1-15 jan,Mar *", "cron(*/15 0-6/2 1-15 1,3 ? *)"),
        ("00 05 * DEC *", "cron(0 5 * 12 ? *)"),
    ] {
        let converted = cron(unix).to_aws();
        assert_eq!(converted, aws, "{unix}");
        // what to_aws makes is itself a valid AWS schedule
        cron(&converted);
    }
    for aws in ["cron(0 10 ? * MON-FRI *)", "cron(0 9 L * ? *)", "cron(0/15 * * * ? 2030)"] {
        assert_eq!(cron(aws).to_aws(), aws);
    }
}

#[test]
fn cron_to_unix() {
    for (aws, unix) in [
        ("cron(0 10 * * ? *)", "0 10 * * *"),
        ("cron(0 18 ? * MON-FRI *)", "0 18 * * 1-5"),
        ("cron(0 8 1 * ? *)", "0 8 1 * *"),
        ("cron(0/15 * * * ? *)", "0-59/15 * * * *"),
        ("cron(*/15 * * * ? *)", "*/15 * * * *"),
        ("cron(0 0 1/5 * ? *)", "0 0 1-31/5 * *"),
        ("cron(0 0 ? * 1,7 *)", "0 0 * * 0,6"),
        ("cron(0 0 ? * SUN *)", "0 0 * * 0"),
        ("cron(0 0 ? * * *)", "0 0 * * *"),
        ("cron(0 0 1 JAN-MAR ? *)", "0 0 1 1-3 *"),
    ] {
        let converted = cron(aws).to_unix();
        assert_eq!(converted.as_deref(), Some(unix), "{aws}");
        cron(unix);
    }
    for aws_only in [
        "cron(0 0 L * ? *)",
        "cron(0 0 LW * ? *)",
        "cron(0 0 15W * ? *)",
        "cron(0 0 ? * L *)",
        "cron(0 0 ? * 6L *)",
        "cron(0 0 ? * 3#2 *)",
        "cron(0 0 * * ? 2030)",
        "cron(0 0 * * ? 1970-2199)",
    ] {
        assert_eq!(cron(aws_only).to_unix(), None, "{aws_only}");
    }
    for unix in ["0 2 * * *", "0 0 * * 7", "*/5 * * jan *"] {
        assert_eq!(cron(unix).to_unix().as_deref(), Some(unix));
    }
}

#[test]
fn cron_round_trips_through_aws() {
    for (unix, back) in [
        ("0 2 * * *", "0 2 * * *"),
        ("30 9 * * 1-5", "30 9 * * 1-5"),
        ("0 0 * * 7", "0 0 * * 0"),
        ("0 0 1 * *", "0 0 1 * *"),
    ] {
        let aws = cron(unix).to_aws();
        assert_eq!(cron(&aws).to_unix().as_deref(), Some(back), "{unix} -> {aws}");
    }
}

#[test]
fn cron_rule_is_complete() {
    for piece in [
        "0-59",
        "0-23",
        "1-31",
        "1-12",
        "JAN-DEC",
        "0-7",
        "SUN-SAT",
        "1-7",
        "1970-2199",
        "`?`",
        "`L`",
        "`nW`",
        "`n#k`",
        "`*/n`",
        "`a-b/n`",
        "`a/n`",
    ] {
        assert!(CRON_RULE.contains(piece), "the rule does not mention {piece}");
    }
}

/// The days a schedule's day-of-week covers, Sunday first.
fn days_of(schedule: &CronSchedule) -> [bool; 7] {
    let cron = schedule.parsed();
    match &cron.fields[DAY_OF_WEEK] {
        CronValue::List(items) => cron_days(cron.form, items),
        CronValue::Any => [true; 7],
        CronValue::Special => panic!("no plain days"),
    }
}

#[test]
fn cron_to_aws_keeps_every_day_of_week_range() {
    for first in 0..=7 {
        for last in first..=7 {
            for step in ["", "/2", "/3"] {
                let unix = cron(&format!("0 0 * * {first}-{last}{step}"));
                let aws = cron(&unix.to_aws());
                assert_eq!(days_of(&aws), days_of(&unix), "{unix} -> {aws}");
                let back = cron(&aws.to_unix().unwrap());
                assert_eq!(days_of(&back), days_of(&unix), "{aws} -> {back}");
            }
        }
    }
}

// ------------------------------------------------------------- RetentionDays

#[test]
fn retention_edges() {
    assert_eq!(RetentionDays::new(1).unwrap().days(), 1);
    assert_eq!(RetentionDays::new(36_500).unwrap().days(), 36_500);
    let rule = RetentionDays::RULE;
    assert_invalid(RetentionDays::new(0), "retention_days", "is 0 days, fewer than 1", rule);
    assert_invalid(RetentionDays::new(36_501), "retention_days", "is 36501 days, more than 36500", rule);
    assert_invalid(RetentionDays::new(u32::MAX), "retention_days", "is 4294967295 days, more than 36500", rule);
    assert_eq!(RetentionDays::FIELD, "retention_days");
}

#[test]
fn retention_api() {
    let days = RetentionDays::new(35).unwrap();
    assert_eq!(days.to_string(), "35 days");
    assert_eq!(format!("{days:?}"), "RetentionDays(35)");
    assert_eq!(u32::from(days), 35);
    assert_eq!(RetentionDays::try_from(35).unwrap(), days);
    assert_eq!(serde_json::to_string(&days).unwrap(), "35");
    assert_eq!(serde_json::from_str::<RetentionDays>("35").unwrap(), days);
    for wrong in ["0", "36501"] {
        let err = serde_json::from_str::<RetentionDays>(wrong).unwrap_err().to_string();
        assert!(err.contains(RetentionDays::RULE), "{err}");
    }
    assert!(serde_json::from_str::<RetentionDays>("-1").is_err());
    assert!(serde_json::from_str::<RetentionDays>("\"35\"").is_err());
}

#[test]
fn retention_from_str() {
    for (text, days) in [("1", 1), ("35", 35), ("36500", 36_500), ("35 days", 35), ("1 day", 1), ("007", 7)] {
        assert_eq!(text.parse::<RetentionDays>().unwrap().days(), days, "{text}");
    }
    let days = RetentionDays::new(90).unwrap();
    assert_eq!(days.to_string().parse::<RetentionDays>().unwrap(), days);
    let rule = RetentionDays::RULE;
    assert_invalid("0".parse::<RetentionDays>(), "retention_days", "is 0 days, fewer than 1", rule);
    assert_invalid("36501".parse::<RetentionDays>(), "retention_days", "is 36501 days, more than 36500", rule);
    assert_invalid("99999999999".parse::<RetentionDays>(), "retention_days", "more than 36500", rule);
    for text in ["", "-1", "+5", "5.0", " 5", "5 ", "five", "5days", "days"] {
        assert_invalid(
            text.parse::<RetentionDays>(),
            "retention_days",
            &format!("`{text}` is not a whole number of days"),
            rule,
        );
    }
}

// ----------------------------------------------------------------- CidrBlock

#[test]
fn cidr_api() {
    common_api::<CidrBlock>("10.0.0.0/16", "10.0.0.1/16");
    common_api::<CidrBlock>("2001:db8::/32", "2001:db8::1/32");
}

#[test]
fn cidr_accepts() {
    for good in [
        "0.0.0.0/0",
        "10.0.0.0/8",
        "10.0.0.0/16",
        "192.168.1.0/24",
        "192.168.1.128/25",
        "192.168.1.1/32",
        "255.255.255.255/32",
        "::/0",
        "2001:db8::/32",
        "2001:DB8::/32",
        "2001:0db8::/32",
        "fd00::/8",
        "::1/128",
        "::ffff:10.0.0.0/104",
    ] {
        ok::<CidrBlock>(good);
    }
}

#[test]
fn cidr_prefix_edges() {
    ok::<CidrBlock>("10.0.0.1/32");
    bad::<CidrBlock>("10.0.0.0/33", "has prefix length 33, more than 32 for IPv4");
    bad::<CidrBlock>("10.0.0.0/256", "has prefix length 256, more than 32 for IPv4");
    bad::<CidrBlock>("10.0.0.0/99999999999", "has prefix length 99999999999, more than 32 for IPv4");
    ok::<CidrBlock>("::1/128");
    bad::<CidrBlock>("::/129", "has prefix length 129, more than 128 for IPv6");
    bad::<CidrBlock>("10.0.0.0/", "has an empty prefix length");
    bad::<CidrBlock>("10.0.0.0/+8", "has prefix length `+8`, which is not a decimal number");
    bad::<CidrBlock>("10.0.0.0/-8", "has prefix length `-8`, which is not a decimal number");
    bad::<CidrBlock>("10.0.0.0/8/8", "has prefix length `8/8`, which is not a decimal number");
    bad::<CidrBlock>("10.0.0.0/0x8", "has prefix length `0x8`, which is not a decimal number");
    bad::<CidrBlock>("10.0.0.0/08", "has prefix length `08` with a leading zero");
    bad::<CidrBlock>("10.0.0.0", "has no `/` and prefix length");
}

#[test]
fn cidr_addresses() {
    bad::<CidrBlock>("010.0.0.0/8", "has the IPv4 octet `010` with a leading zero");
    bad::<CidrBlock>("10.00.0.0/16", "has the IPv4 octet `00` with a leading zero");
    bad::<CidrBlock>("256.0.0.0/8", "has `256.0.0.0`, which is not an IPv4 or IPv6 address");
    bad::<CidrBlock>("10.0.0/8", "has `10.0.0`, which is not an IPv4 or IPv6 address");
    bad::<CidrBlock>("10.0.0.0.0/8", "has `10.0.0.0.0`, which is not an IPv4 or IPv6 address");
    bad::<CidrBlock>("/8", "has ``, which is not an IPv4 or IPv6 address");
    bad::<CidrBlock>("fe80::%eth0/64", "has `fe80::%eth0`, which is not an IPv4 or IPv6 address");
    bad::<CidrBlock>("::ffff:010.0.0.0/104", "has `::ffff:010.0.0.0`, which is not an IPv4 or IPv6 address");
    bad::<CidrBlock>("[::]/0", "has `[::]`, which is not an IPv4 or IPv6 address");
    bad::<CidrBlock>("example.com/8", "which is not an IPv4 or IPv6 address");
}

#[test]
fn cidr_whitespace() {
    for spaced in ["10.0.0.0 /8", "10.0.0.0/ 8", " 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0.0/8\n", "10.0.0.0\t/8"] {
        bad::<CidrBlock>(spaced, "contains whitespace");
    }
}

#[test]
fn cidr_host_bits() {
    bad::<CidrBlock>("10.0.0.1/8", "has host bits set: the network of 10.0.0.1/8 is 10.0.0.0/8");
    bad::<CidrBlock>("192.168.1.129/25", "the network of 192.168.1.129/25 is 192.168.1.128/25");
    bad::<CidrBlock>("0.0.0.1/0", "the network of 0.0.0.1/0 is 0.0.0.0/0");
    bad::<CidrBlock>("2001:db8::1/64", "the network of 2001:db8::1/64 is 2001:db8::/64");
    bad::<CidrBlock>("::1/127", "the network of ::1/127 is ::/127");
}

#[test]
fn cidr_accessors() {
    let vpc = CidrBlock::new("10.0.0.0/16").unwrap();
    assert_eq!(vpc.prefix_len(), 16);
    assert!(vpc.is_ipv4());
    assert_eq!(vpc.network(), "10.0.0.0".parse::<IpAddr>().unwrap());
    let v6 = CidrBlock::new("2001:db8::/32").unwrap();
    assert_eq!(v6.prefix_len(), 32);
    assert!(!v6.is_ipv4());
    assert_eq!(CidrBlock::new("0.0.0.0/0").unwrap().prefix_len(), 0);
    assert_eq!(CidrBlock::new("::1/128").unwrap().prefix_len(), 128);
}

#[test]
fn cidr_contains() {
    let block = |v: &str| CidrBlock::new(v).unwrap();
    let vpc = block("10.0.0.0/16");
    for inside in ["10.0.0.0/16", "10.0.0.0/24", "10.0.255.0/24", "10.0.128.0/17", "10.0.1.1/32"] {
        assert!(vpc.contains(&block(inside)), "{inside} is in {vpc}");
    }
    for outside in ["10.1.0.0/24", "10.0.0.0/15", "10.0.0.0/8", "0.0.0.0/0", "9.255.255.255/32", "11.0.0.0/16", "::/0"]
    {
        assert!(!vpc.contains(&block(outside)), "{outside} is not in {vpc}");
    }
    assert!(block("0.0.0.0/0").contains(&block("255.255.255.255/32")));
    assert!(!block("0.0.0.0/0").contains(&block("::/128")));
    assert!(block("::/0").contains(&block("2001:db8::/32")));
    assert!(!block("::/0").contains(&block("0.0.0.0/0")));
    assert!(block("2001:db8::/32").contains(&block("2001:db8:ffff::/48")));
    assert!(!block("2001:db8::/32").contains(&block("2001:db9::/48")));
    assert!(block("::1/128").contains(&block("::1/128")));
}

// ------------------------------------------------------ PasswordRules, Password

const SENTINEL: &str = "SENTINEL-pw-1234";

/// `text` holds no four-character piece of `secret`.
#[track_caller]
fn assert_no_piece_of(text: &str, secret: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for piece in chars.windows(4) {
        let piece: String = piece.iter().collect();
        assert!(!text.contains(&piece), "{text:?} holds {piece:?} of the secret");
    }
}

/// Checking `value` fails with `problem`, and nothing of `value` shows in the error.
#[track_caller]
fn bad_password(rules: &PasswordRules, value: &str, problem: &str) {
    let err = rules.check(value).expect_err("the password was accepted");
    for shown in [err.to_string(), format!("{err:?}")] {
        assert_no_piece_of(&shown, value);
        assert_no_piece_of(&shown, SENTINEL);
    }
    assert_invalid(Err::<(), _>(err), "password", problem, &rules.describe());
    let err = Password::new(value, rules).expect_err("the password was accepted");
    assert_no_piece_of(&format!("{err} {err:?}"), value);
}

fn all_presets() -> [(&'static str, PasswordRules); 3] {
    [
        ("simphera", PasswordRules::simphera()),
        ("rds_master", PasswordRules::rds_master()),
        ("azure_postgres", PasswordRules::azure_postgres()),
    ]
}

#[test]
fn password_presets() {
    let rds = PasswordRules::rds_master();
    assert_eq!((rds.min_len, rds.max_len), (8, 128));
    assert_eq!(rds.forbidden, "/'\"@");
    assert!(rds.printable_ascii_only);
    assert_eq!(rds.min_classes, 0);
    assert_eq!(PasswordRules::simphera(), rds);
    assert_eq!(PasswordRules::default(), PasswordRules::simphera());
    let azure = PasswordRules::azure_postgres();
    assert_eq!((azure.min_len, azure.max_len), (8, 128));
    assert_eq!(azure.forbidden, "");
    assert_eq!(azure.min_classes, 3);
}

#[test]
fn password_rule_sentences() {
    assert_eq!(
        PasswordRules::simphera().describe(),
        "passwords: 8-128 characters, none of / ' \" @, printable ASCII without spaces"
    );
    assert_eq!(
        PasswordRules::azure_postgres().describe(),
        "passwords: 8-128 characters, printable ASCII without spaces, characters of at least 3 of the 4 classes uppercase letters, lowercase letters, digits and non-alphanumeric characters"
    );
    let all = PasswordRules { min_classes: 4, ..PasswordRules::azure_postgres() };
    assert_eq!(
        all.describe(),
        "passwords: 8-128 characters, printable ASCII without spaces, at least one uppercase letter, lowercase letter, digit and non-alphanumeric character"
    );
    let loose = PasswordRules {
        min_len: 1,
        max_len: 10,
        forbidden: String::new(),
        printable_ascii_only: false,
        min_classes: 0,
    };
    assert_eq!(loose.describe(), "passwords: 1-10 characters");
}

#[test]
fn password_length_edges() {
    for (name, rules) in all_presets() {
        let base = "aA1!";
        let of_len = |n: usize| base.repeat(n / 4 + 1).chars().take(n).collect::<String>();
        assert!(rules.check(&of_len(8)).is_ok(), "{name}");
        assert!(rules.check(&of_len(128)).is_ok(), "{name}");
        bad_password(&rules, &of_len(7), "has fewer than 8 characters");
        bad_password(&rules, &of_len(129), "has more than 128 characters");
        bad_password(&rules, "", "has fewer than 8 characters");
    }
    // characters, not bytes
    let loose = PasswordRules { printable_ascii_only: false, ..PasswordRules::simphera() };
    assert!(loose.check(&"é".repeat(8)).is_ok());
    assert!(loose.check(&"é".repeat(128)).is_ok());
    bad_password(&loose, &"é".repeat(7), "has fewer than 8 characters");
}

#[test]
fn password_forbidden_characters() {
    for rules in [PasswordRules::simphera(), PasswordRules::rds_master()] {
        for c in ['/', '\'', '"', '@'] {
            let value = format!("{SENTINEL}{c}");
            bad_password(&rules, &value, "contains a forbidden character");
            let (_, problem, _) = parts(rules.check(&value).unwrap_err());
            assert!(!problem.contains(c), "the problem {problem:?} shows which character");
        }
        for c in [' ', '\t', '\n', '\u{7f}', '\0', 'é', '😀'] {
            bad_password(
                &rules,
                &format!("{SENTINEL}{c}"),
                "contains a space or a character that is not printable ASCII",
            );
        }
        for c in ['!', '#', '$', '%', '&', '*', '\\', '`', '~', ':', ';', '<', '>', '?', '[', ']', '{', '}', '|'] {
            assert!(rules.check(&format!("{SENTINEL}{c}")).is_ok(), "{c:?}");
        }
    }
    // Azure forbids no printable character
    for c in '!'..='~' {
        assert!(PasswordRules::azure_postgres().check(&format!("{SENTINEL}{c}")).is_ok(), "{c:?}");
    }
    bad_password(&PasswordRules::azure_postgres(), &format!("{SENTINEL} "), "contains a space");
}

#[test]
fn password_classes() {
    let azure = PasswordRules::azure_postgres();
    for good in ["abcdEF12", "abcd12!!", "ABCD12!!", "abcdEF!!", "aB3$aB3$", SENTINEL] {
        assert!(azure.check(good).is_ok(), "{good}");
    }
    for one_or_two in ["abcdefgh", "ABCDEFGH", "12345678", "!!!!!!!!", "abcdEFGH", "abcd1234", "ABCD!!!!", "1234!!!!"] {
        bad_password(&azure, one_or_two, "has characters of fewer than 3 of the 4 classes");
    }
    let all = PasswordRules { min_classes: 4, ..PasswordRules::azure_postgres() };
    assert!(all.check("aB3$aaaa").is_ok());
    bad_password(&all, "aB3xaaaa", "has characters of fewer than 4 of the 4 classes");
    // no class rule: one class is enough
    assert!(PasswordRules::simphera().check("aaaaaaaa").is_ok());
}

#[test]
fn password_never_shows_its_value() {
    let password = Password::new(SENTINEL, &PasswordRules::simphera()).unwrap();
    assert_eq!(format!("{password:?}"), "Password(<redacted>)");
    assert_eq!(password.to_string(), "<redacted>");
    assert_eq!(format!("{password:#?}"), "Password(<redacted>)");
    assert_no_piece_of(&format!("{password:?} {password} {password:#?}"), SENTINEL);
    assert_eq!(password.expose(), SENTINEL);
    assert_eq!(secrecy::ExposeSecret::expose_secret(password.secret()), SENTINEL);
    assert_no_piece_of(&format!("{:?}", password.secret()), SENTINEL);
    assert_no_piece_of(&format!("{:?}", password.clone()), SENTINEL);
    for (_, rules) in all_presets() {
        for value in [
            format!("{SENTINEL}@"),
            format!("{SENTINEL}/"),
            format!("{SENTINEL} "),
            format!("{SENTINEL}\n"),
            format!("@{SENTINEL}"),
            SENTINEL.repeat(9),
            SENTINEL[..7].to_owned(),
            "sentinelpw".to_owned(),
        ] {
            if let Err(err) = Password::new(value.as_str(), &rules) {
                let shown = format!("{err} {err:?}");
                let shown = format!("{shown} {}", err.in_field("production.database"));
                assert_no_piece_of(&shown, &value);
                assert_no_piece_of(&shown, SENTINEL);
            }
        }
    }
}

#[test]
fn password_rules_serde() {
    for (_, rules) in all_presets() {
        let json = serde_json::to_string(&rules).unwrap();
        assert_eq!(serde_json::from_str::<PasswordRules>(&json).unwrap(), rules);
    }
    let json = serde_json::to_value(PasswordRules::azure_postgres()).unwrap();
    assert_eq!(json["min_classes"], 3);
}

#[test]
fn password_generate_passes_every_preset() {
    for (name, rules) in all_presets() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..200 {
            let len = match i {
                0 => rules.min_len,
                1 => rules.max_len,
                _ => rules.min_len + i % (rules.max_len - rules.min_len + 1),
            };
            let password = rules.generate(len).unwrap();
            assert_eq!(password.expose().chars().count(), len, "{name}");
            rules.check(password.expose()).unwrap_or_else(|e| panic!("{name}: generated password rejected: {e}"));
            seen.insert(password.expose().to_owned());
        }
        assert_eq!(seen.len(), 200, "{name}: generated passwords repeat");
    }
}

#[test]
fn password_generate_meets_every_class_rule() {
    for min_classes in 0..=4 {
        let rules = PasswordRules { min_len: 4, max_len: 16, min_classes, ..PasswordRules::rds_master() };
        for _ in 0..200 {
            let password = rules.generate(4).unwrap();
            assert!(rules.check(password.expose()).is_ok(), "min_classes {min_classes}");
        }
    }
    // forbidden characters never appear
    let no_digits = PasswordRules { forbidden: "0123456789".to_owned(), ..PasswordRules::azure_postgres() };
    for _ in 0..200 {
        let password = no_digits.generate(8).unwrap();
        assert!(!password.expose().chars().any(|c| c.is_ascii_digit()));
        assert!(no_digits.check(password.expose()).is_ok());
    }
}

#[test]
fn password_generate_errors() {
    let rules = PasswordRules::simphera();
    let rule = rules.describe();
    assert_invalid(rules.generate(7), "length", "is 7, outside 8-128", &rule);
    assert_invalid(rules.generate(129), "length", "is 129, outside 8-128", &rule);
    assert_invalid(rules.generate(0), "length", "is 0, outside 8-128", &rule);
    let no_symbols: String = ('!'..='~').filter(|c| !c.is_ascii_alphanumeric()).collect();
    let impossible = PasswordRules { forbidden: no_symbols, min_classes: 4, ..PasswordRules::azure_postgres() };
    assert_invalid(
        impossible.generate(8),
        "password_rules",
        "leave too few characters or classes",
        &impossible.describe(),
    );
    let five = PasswordRules { min_classes: 5, ..PasswordRules::azure_postgres() };
    assert_invalid(five.generate(8), "password_rules", "leave too few", &five.describe());
    let short = PasswordRules { min_len: 2, min_classes: 3, ..PasswordRules::azure_postgres() };
    assert_invalid(short.generate(2), "password_rules", "for a password of 2 characters", &short.describe());
    let nothing = PasswordRules { forbidden: ('!'..='~').collect(), ..PasswordRules::simphera() };
    assert_invalid(nothing.generate(8), "password_rules", "leave too few", &nothing.describe());
}
