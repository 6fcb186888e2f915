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
