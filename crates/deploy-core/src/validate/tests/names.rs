//! Tests of the names: every rule's edges, every forbidden character, prefix
//! and suffix, the parts of each error, serde.

use crate::validate::test_support::*;

use super::*;

named!(
    BucketName => BUCKET_RULE,
    ContainerName => CONTAINER_RULE,
    ObjectKey => KEY_RULE,
    PgIdentifier => PG_IDENT_RULE,
    ResourceName => RESOURCE_RULE,
    SecretName => SECRET_NAME_RULE,
);

/// The names whose length counts characters: the length edges, and characters
/// outside each one's set.
#[test]
fn names_lengths_and_characters() {
    lengths_and_characters::<BucketName>(
        63,
        &[("Abc", "'A'"), ("ab_c", "'_'"), ("ab c", "' '"), ("ab/c", "'/'"), ("ab:c", "':'"), ("abé", "'é'"), ("ab\nc", "'\\n'")],
        "a lowercase letter, digit, dot or hyphen",
    );
    lengths_and_characters::<ContainerName>(
        63,
        &[("Abc", "'A'"), ("a_bc", "'_'"), ("a.bc", "'.'"), ("a bc", "' '"), ("abé", "'é'"), ("$other", "'$'")],
        "a lowercase letter, digit or hyphen",
    );
    lengths_and_characters::<ResourceName>(
        63,
        &[("Abc", "'A'"), ("a_b", "'_'"), ("a.b", "'.'"), ("a b", "' '"), ("aé", "'é'")],
        "a lowercase letter, digit or hyphen",
    );
    lengths_and_characters::<SecretName>(
        127,
        &[("a_b", "'_'"), ("a/b", "'/'"), ("a.b", "'.'"), ("a b", "' '"), ("a@b", "'@'"), ("aé", "'é'")],
        "a letter, digit or hyphen",
    );
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
fn bucket_reserved_prefixes_and_suffixes() {
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        bad::<BucketName>(&format!("{prefix}bucket"), &format!("begins with the reserved prefix `{prefix}`"));
        assert!(BUCKET_RULE.contains(&format!("`{prefix}`")));
    }
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
fn container_special_names() {
    for special in ["$root", "$web", "$logs"] {
        ok::<ContainerName>(special);
        assert!(CONTAINER_RULE.contains(&format!("`{special}`")));
    }
}

// ----------------------------------------------------------------- ObjectKey

#[test]
fn key_api() {
    common_api::<ObjectKey>("dir/file name.txt", "");
}

#[test]
fn key_length_in_bytes() {
    length_edges::<ObjectKey>(1024, "byte");
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
    length_edges::<PgIdentifier>(63, "byte");
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

// ---------------------------------------------------------------- SecretName

#[test]
fn secret_name_api() {
    common_api::<SecretName>("Prod-Db-Password", "prod/db");
}

/// The cases of `cases/*.txt`, one a line: `ok VALUE`, or `bad VALUE => PROBLEM`.
#[test]
fn name_cases() {
    cases::<BucketName>(include_str!("cases/bucket_name.txt"));
    cases::<ContainerName>(include_str!("cases/container_name.txt"));
    cases::<ObjectKey>(include_str!("cases/object_key.txt"));
    cases::<PgIdentifier>(include_str!("cases/pg_identifier.txt"));
    cases::<ResourceName>(include_str!("cases/resource_name.txt"));
    cases::<SecretName>(include_str!("cases/secret_name.txt"));
}
