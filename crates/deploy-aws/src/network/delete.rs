//! Deleting a VPC and what lives in it, for an environment's destroy: its
//! VPC endpoints, its security groups (all but `default`; their ingress rules
//! revoked first, since a group another rule names cannot go), its subnets,
//! then the VPC. None of these holds data, so none needs a confirmation; a
//! network interface still in a subnet (an instance, a database, a load
//! balancer) makes EC2 answer `DependencyViolation`, reported as
//! [`deploy_core::Error::Conflict`]: delete what uses the VPC first.

use deploy_core::{ResourceName, Result};

use super::{Network, filter, op};
use crate::error::SdkResultExt;

impl Network {
    /// Delete the VPC tagged `Name` = `name` with its endpoints, security
    /// groups and subnets; answers the VPC's id, or `None` when there is no
    /// such VPC (a second call does nothing).
    ///
    /// # Errors
    /// [`deploy_core::Error::Conflict`] while something still uses the VPC
    /// (EC2's `DependencyViolation`) or when the name tags more than one VPC;
    /// provider errors.
    pub async fn delete_vpc(&self, name: &ResourceName) -> Result<Option<String>> {
        let vpc = match self.find_vpc(name).await {
            Ok(vpc) => vpc,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let vpc_id = vpc.vpc_id.as_str();
        let endpoints = self.client.describe_vpc_endpoints().filters(filter("vpc-id", vpc_id)).send().await.on(
            op("DescribeVpcEndpoints"),
            "vpc endpoint",
            vpc_id,
        )?;
        let endpoint_ids: Vec<String> = endpoints
            .vpc_endpoints()
            .iter()
            .filter(|e| e.vpc_id() == Some(vpc_id))
            .filter(|e| !matches!(e.state().map(|s| s.as_str().to_ascii_lowercase()).as_deref(), Some("deleted" | "deleting")))
            .filter_map(|e| e.vpc_endpoint_id().map(str::to_owned))
            .collect();
        if !endpoint_ids.is_empty() {
            self.client.delete_vpc_endpoints().set_vpc_endpoint_ids(Some(endpoint_ids)).send().await.on(
                op("DeleteVpcEndpoints"),
                "vpc endpoint",
                vpc_id,
            )?;
        }
        let groups = self.client.describe_security_groups().filters(filter("vpc-id", vpc_id)).send().await.on(
            op("DescribeSecurityGroups"),
            "security group",
            vpc_id,
        )?;
        let doomed: Vec<_> =
            groups.security_groups().iter().filter(|g| g.vpc_id() == Some(vpc_id) && g.group_name() != Some("default")).collect();
        // Rules first: a group another group's rule names cannot be deleted.
        for group in doomed.iter().filter(|g| !g.ip_permissions().is_empty()) {
            let id = group.group_id().unwrap_or_default();
            self.client
                .revoke_security_group_ingress()
                .group_id(id)
                .set_ip_permissions(Some(group.ip_permissions().to_vec()))
                .send()
                .await
                .on(op("RevokeSecurityGroupIngress"), "security group", id)?;
        }
        for group in doomed {
            let id = group.group_id().unwrap_or_default();
            self.client.delete_security_group().group_id(id).send().await.on(op("DeleteSecurityGroup"), "security group", id)?;
        }
        for subnet in self.subnets(vpc_id).await? {
            self.client.delete_subnet().subnet_id(&subnet.subnet_id).send().await.on(op("DeleteSubnet"), "subnet", &subnet.name)?;
        }
        self.client.delete_vpc().vpc_id(vpc_id).send().await.on(op("DeleteVpc"), "vpc", name.as_str())?;
        Ok(Some(vpc.vpc_id))
    }
}
