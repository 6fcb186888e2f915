//! Names: buckets, containers, object keys, PostgreSQL identifiers,
//! resources and secrets, each checked against its rule.

use std::ops::RangeInclusive;

use super::newtype::{Check, check_chars, check_length, fault};

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

crate::validated_string!(
    /// An S3 general purpose bucket name, the neutral bucket name of [`crate::ObjectStore`]
    /// (Azure backends additionally check [`ContainerName`]'s rule).
    BucketName, "bucket", check_bucket
);

const CONTAINER_RULE: &str = "Azure container names: 3-63 characters of lowercase letters, digits and hyphens; begin with a letter or digit; every hyphen immediately preceded and followed by a letter or digit (no two adjacent hyphens, no hyphen at the end); or one of the special names `$root`, `$web` and `$logs`";

fn check_container(v: &str) -> Check {
    if ["$root", "$web", "$logs"].contains(&v) {
        return Ok(());
    }
    check_hyphenated(v, 3..=63, |c| c != '-', "begins with a hyphen", CONTAINER_RULE)
}

/// What container and resource names share: `lengths` characters of
/// lowercase letters, digits and hyphens, the first one `first` (else the
/// fault `not_first`), no two adjacent hyphens and none at the end.
fn check_hyphenated(v: &str, lengths: RangeInclusive<usize>, first: fn(char) -> bool, not_first: &str, rule: &str) -> Check {
    check_length(v.chars().count(), lengths, "character", rule)?;
    check_chars(v, |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-', "a lowercase letter, digit or hyphen", rule)?;
    if !v.starts_with(first) {
        return fault(not_first, rule);
    }
    if v.contains("--") {
        return fault("has two adjacent hyphens", rule);
    }
    if v.ends_with('-') {
        return fault("ends with a hyphen", rule);
    }
    Ok(())
}

crate::validated_string!(
    /// An Azure Blob Storage container name, including the special containers
    /// `$root`, `$web` and `$logs`.
    ContainerName, "container", check_container
);

const KEY_RULE: &str = "object keys: 1-1024 bytes of UTF-8";

fn check_key(v: &str) -> Check {
    check_length(v.len(), 1..=1024, "byte", KEY_RULE)
}

crate::validated_string!(
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

crate::validated_string!(
    /// A PostgreSQL identifier (database, role, extension, schema name). Any
    /// name PostgreSQL accepts is accepted; rendering always quotes it.
    PgIdentifier, "identifier", check_pg_ident
);

const RESOURCE_RULE: &str = "resource names: 1-63 characters of lowercase letters, digits and hyphens; begin with a letter; no two adjacent hyphens; do not end with a hyphen";

fn check_resource(v: &str) -> Check {
    check_hyphenated(v, 1..=63, |c| c.is_ascii_lowercase(), "does not begin with a letter", RESOURCE_RULE)
}

crate::validated_string!(
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

crate::validated_string!(
    /// The name of a secret.
    SecretName, "secret", check_secret_name
);

#[cfg(test)]
#[path = "tests/names.rs"]
mod tests;
