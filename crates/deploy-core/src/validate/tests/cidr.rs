//! Tests of CIDR blocks: addresses, prefix lengths, host bits, containment.

use crate::validate::test_support::*;

use super::*;

named!(CidrBlock => CIDR_RULE);

// ----------------------------------------------------------------- CidrBlock

#[test]
fn cidr_api() {
    common_api::<CidrBlock>("10.0.0.0/16", "10.0.0.1/16");
    common_api::<CidrBlock>("2001:db8::/32", "2001:db8::1/32");
}

#[test]
fn cidr_whitespace() {
    for spaced in ["10.0.0.0 /8", "10.0.0.0/ 8", " 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0.0/8\n", "10.0.0.0\t/8"] {
        bad::<CidrBlock>(spaced, "contains whitespace");
    }
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
    for outside in ["10.1.0.0/24", "10.0.0.0/15", "10.0.0.0/8", "0.0.0.0/0", "9.255.255.255/32", "11.0.0.0/16", "::/0"] {
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

/// The cases of `cases/cidr_block.txt`, one a line: `ok VALUE`, or `bad VALUE => PROBLEM`.
#[test]
fn cidr_block_cases() {
    cases::<CidrBlock>(include_str!("cases/cidr_block.txt"));
}
