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
    for (value, shown) in
        [("Abc", "'A'"), ("ab_c", "'_'"), ("ab c", "' '"), ("ab/c", "'/'"), ("ab:c", "':'"), ("abé", "'é'"), ("ab\nc", "'\\n'")]
    {
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
    for (value, shown) in [("Abc", "'A'"), ("a_bc", "'_'"), ("a.bc", "'.'"), ("a bc", "' '"), ("abé", "'é'"), ("$other", "'$'")] {
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
    for (value, shown) in [("a_b", "'_'"), ("a/b", "'/'"), ("a.b", "'.'"), ("a b", "' '"), ("a@b", "'@'"), ("aé", "'é'")] {
        bad::<SecretName>(value, &format!("contains {shown}, which is not a letter, digit or hyphen"));
    }
    bad::<SecretName>("1abc", "does not begin with a letter");
    bad::<SecretName>("-abc", "does not begin with a letter");
}
