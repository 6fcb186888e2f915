//! Where an environment lives: its region on each cloud and its private
//! address space, which the provider environments (`deploy_aws::environment`,
//! `deploy_azure::environment`) carve into subnets.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::validate::CidrBlock;

/// The region of an environment on each cloud: one spec serves AWS or Azure,
/// whose region names differ (`location = { aws = "eu-central-1", azure = "westeurope" }`).
/// A provider environment refuses to work in another region than the one named
/// for its cloud (its client's region is checked against it before any request).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// The AWS region (`eu-central-1`).
    #[serde(default)]
    pub aws: Option<String>,
    /// The Azure location (`westeurope`).
    #[serde(default)]
    pub azure: Option<String>,
}

impl Location {
    /// Check the names' shapes.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `location.aws` (not `xx-name-N` lower-case)
    /// or `location.azure` (not lower-case letters and digits).
    pub fn validate(&self) -> Result<()> {
        if let Some(region) = &self.aws {
            let parts: Vec<&str> = region.split('-').collect();
            let ok = parts.len() >= 3
                && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
                && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
                && !parts[parts.len() - 1].is_empty();
            if !ok {
                return Err(Error::invalid("location.aws", format!("`{region}`"), "an AWS region: `eu-central-1`, `us-gov-west-1`"));
            }
        }
        if let Some(location) = &self.azure
            && (location.is_empty() || !location.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        {
            return Err(Error::invalid(
                "location.azure",
                format!("`{location}`"),
                "an Azure location: lower-case letters and digits (`westeurope`)",
            ));
        }
        Ok(())
    }
}

/// The environment's private address space (`network = { name = "acme-prod", cidr = "10.20.0.0/16" }`).
/// The provider environments carve it into blocks of four more prefix bits
/// ([`NetworkLayout::block`]): on AWS blocks 0 and 1 are the private subnets
/// of the two zones, 2 and 3 the public ones; on Azure block 0 is the
/// cluster's subnet and block 1 the database's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkLayout {
    /// The name the network's resources start with (the VPC, its subnets, the
    /// DB subnet group; the VNet); default: the cluster's name, else the
    /// environment's.
    #[serde(default)]
    pub name: Option<crate::validate::ResourceName>,
    /// An IPv4 block of prefix length 16 to 24.
    pub cidr: CidrBlock,
}

impl Default for NetworkLayout {
    fn default() -> Self {
        NetworkLayout { name: None, cidr: CidrBlock::new("10.0.0.0/16").expect("a valid block") }
    }
}

impl NetworkLayout {
    /// More prefix bits of each carved block.
    pub const EXTRA_BITS: u8 = 4;

    /// Check the block.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `network.cidr` when it is not IPv4 or its prefix length is not 16 to 24.
    pub fn validate(&self) -> Result<()> {
        let len = self.cidr.prefix_len();
        if !self.cidr.is_ipv4() || !(16..=24).contains(&len) {
            return Err(Error::invalid(
                "network.cidr",
                format!("`{}`", self.cidr),
                "an IPv4 block of prefix length 16 to 24 (subnets are carved from it, four prefix bits longer)",
            ));
        }
        Ok(())
    }

    /// The `index`-th carved block (prefix length + [`NetworkLayout::EXTRA_BITS`]).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the index is past the sixteenth block.
    pub fn block(&self, index: u32) -> Result<CidrBlock> {
        self.cidr.subnet(Self::EXTRA_BITS, index)
    }
}
