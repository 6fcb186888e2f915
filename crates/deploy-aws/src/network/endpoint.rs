//! The VPC's route tables and its S3 gateway endpoint: found by VPC and
//! service, created if missing, route tables added in place
//! ([`Reconcile<S3GatewayEndpointSpec>`](Reconcile)).

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{VpcEndpoint, VpcEndpointType};
use deploy_core::plan::{Change, FieldChange, Plan};
use deploy_core::reconcile::{Mode, Reconcile, Reconciled};
use deploy_core::{Error, Result};

use super::{EndpointInfo, Network, RouteTableInfo, S3GatewayEndpointSpec, check_id, filter, one_attempt, op, tags_of};
use crate::error::{SdkResultExt, missing};

impl Network {
    /// The route tables of the VPC `vpc_id`, the main one first.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `vpc_id` (before any request); provider errors.
    pub async fn route_tables(&self, vpc_id: &str) -> Result<Vec<RouteTableInfo>> {
        check_id("vpc_id", vpc_id, "vpc-")?;
        let mut tables = Vec::new();
        let mut pages = self.client.describe_route_tables().filters(filter("vpc-id", vpc_id)).into_paginator().send();
        while let Some(page) = pages.next().await {
            for table in page.on(op("DescribeRouteTables"), "route table", vpc_id)?.route_tables() {
                let associations = table.associations();
                tables.push(RouteTableInfo {
                    route_table_id: table.route_table_id().unwrap_or_default().to_owned(),
                    name: tags_of(table.tags()).remove("Name"),
                    main: associations.iter().any(|a| a.main() == Some(true)),
                    subnet_ids: associations.iter().filter_map(|a| a.subnet_id()).map(str::to_owned).collect(),
                });
            }
        }
        tables.sort_by(|a, b| b.main.cmp(&a.main).then_with(|| a.route_table_id.cmp(&b.route_table_id)));
        Ok(tables)
    }

    fn endpoint_info(endpoint: &VpcEndpoint) -> EndpointInfo {
        let mut route_table_ids = endpoint.route_table_ids().to_vec();
        route_table_ids.sort();
        EndpointInfo {
            endpoint_id: endpoint.vpc_endpoint_id().unwrap_or_default().to_owned(),
            vpc_id: endpoint.vpc_id().unwrap_or_default().to_owned(),
            service_name: endpoint.service_name().unwrap_or_default().to_owned(),
            endpoint_type: endpoint.vpc_endpoint_type().map(|t| t.as_str().to_owned()).unwrap_or_default(),
            state: endpoint.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            route_table_ids,
        }
    }

    /// The gateway endpoint of `service_name` in the VPC `vpc_id`, if any
    /// (endpoints being deleted or failed are not counted).
    async fn find_gateway_endpoint(&self, vpc_id: &str, service_name: &str) -> Result<Option<EndpointInfo>> {
        let mut found = None;
        let mut pages = self
            .client
            .describe_vpc_endpoints()
            .filters(filter("vpc-id", vpc_id))
            .filters(filter("service-name", service_name))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for endpoint in page.on(op("DescribeVpcEndpoints"), "vpc endpoint", service_name)?.vpc_endpoints() {
                let info = Self::endpoint_info(endpoint);
                let live = !matches!(info.state.to_ascii_lowercase().as_str(), "deleting" | "deleted" | "failed" | "rejected" | "expired");
                if live
                    && info.vpc_id == vpc_id
                    && info.service_name == service_name
                    && info.endpoint_type == VpcEndpointType::Gateway.as_str()
                {
                    found.get_or_insert(info);
                }
            }
        }
        Ok(found)
    }
}

/// A gateway VPC endpoint for S3 (`com.amazonaws.REGION.s3`) in the VPC of
/// `spec`, attached to every route table of
/// [`S3GatewayEndpointSpec::route_table_ids`] (see [`Network::route_tables`]):
/// in [`Mode::Apply`] created if missing, missing route tables added with
/// `ModifyVpcEndpoint`. Route tables it is attached to beyond these are left
/// attached. A second call makes no mutating request. Callers use the
/// provided [`Reconcile::plan`] / [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] on `vpc_id`, `region` or `route_table_ids[i]`
/// (none given, or not a route table id) before any request; provider errors.
#[async_trait::async_trait]
impl Reconcile<S3GatewayEndpointSpec> for Network {
    type Info = EndpointInfo;

    #[tracing::instrument(level = "info", skip_all, fields(backend = "aws-ec2", kind = "s3 gateway endpoint", name = %spec.vpc_id, mode = ?mode))]

    async fn reconcile(&self, spec: &S3GatewayEndpointSpec, mode: Mode) -> Result<Reconciled<EndpointInfo>> {
        spec.validate()?;
        let (vpc_id, service_name) = (spec.vpc_id.as_str(), spec.service_name());
        let kind = "vpc endpoint";
        let wanted: BTreeSet<&str> = spec.route_table_ids.iter().map(String::as_str).collect();
        let Some(endpoint) = self.find_gateway_endpoint(vpc_id, &service_name).await? else {
            let plan = Plan::from_iter([Change::create(kind, &service_name)]);
            if !mode.is_apply() {
                return Ok(Reconciled { info: None, plan });
            }
            // One attempt at a time: a retry after a lost answer would make a second endpoint
            // (moto, like any server not honouring a client token); a failed attempt is looked up first.
            let create = op("CreateVpcEndpoint");
            let info = crate::once::create_once(
                &format!("{kind} {service_name} in {vpc_id}"),
                || async {
                    let out = self
                        .client
                        .create_vpc_endpoint()
                        .vpc_id(vpc_id)
                        .vpc_endpoint_type(VpcEndpointType::Gateway)
                        .service_name(&service_name)
                        .set_route_table_ids(Some(wanted.iter().map(|s| (*s).to_owned()).collect()))
                        .customize()
                        .config_override(one_attempt())
                        .send()
                        .await
                        .on(create, kind, &service_name)?;
                    Ok(Network::endpoint_info(out.vpc_endpoint().ok_or_else(|| missing(create, "VPC endpoint"))?))
                },
                || self.find_gateway_endpoint(vpc_id, &service_name),
            )
            .await?;
            return Ok(Reconciled { info: Some(info), plan });
        };
        let attached: BTreeSet<&str> = endpoint.route_table_ids.iter().map(String::as_str).collect();
        let add: Vec<String> = wanted.difference(&attached).map(|s| (*s).to_owned()).collect();
        if add.is_empty() {
            return Ok(Reconciled { info: Some(endpoint), plan: Plan::new() });
        }
        let field = FieldChange::new("route_table_ids", endpoint.route_table_ids.join(", "), format!("+ {}", add.join(", ")));
        let plan = Plan::from_iter([Change::update(kind, &service_name, vec![field])]);
        if !mode.is_apply() {
            return Ok(Reconciled { info: Some(endpoint), plan });
        }
        self.client.modify_vpc_endpoint().vpc_endpoint_id(&endpoint.endpoint_id).set_add_route_table_ids(Some(add)).send().await.on(
            op("ModifyVpcEndpoint"),
            kind,
            &service_name,
        )?;
        let info = self.find_gateway_endpoint(vpc_id, &service_name).await?.ok_or_else(|| Error::not_found(kind, &service_name))?;
        Ok(Reconciled { info: Some(info), plan })
    }
}
