//! CIDR blocks: IPv4 and IPv6 address parsing, prefix lengths, host bits,
//! and containment.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::newtype::{Check, fault};

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

crate::validated_string!(
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

    /// The `index`-th block of prefix length `prefix_len() + extra_bits` inside
    /// this one (`10.0.32.0/20` is block 2 of `10.0.0.0/16` with 4 extra bits):
    /// how an environment carves its subnets out of its address space.
    ///
    /// # Errors
    /// [`crate::Error::InvalidInput`] on `index` when this block holds fewer
    /// than `index + 1` such blocks, or when the prefix would pass the family's width.
    pub fn subnet(&self, extra_bits: u8, index: u32) -> crate::Result<CidrBlock> {
        let (network, len) = self.parts();
        let (bits, width) = address_bits(network);
        let sub_len = len.saturating_add(extra_bits);
        if sub_len > width || extra_bits >= 32 || u64::from(index) >= 1u64 << extra_bits {
            return Err(crate::Error::invalid(
                "index",
                format!("block {index} of /{sub_len} in {self}"),
                format!("{self} holds 2^{extra_bits} blocks of /{sub_len} (at most /{width})"),
            ));
        }
        let offset = u128::from(index) << (width - sub_len);
        CidrBlock::new(format!("{}/{sub_len}", bits_address(network, bits | offset)))
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

#[cfg(test)]
#[path = "tests/cidr.rs"]
mod tests;
