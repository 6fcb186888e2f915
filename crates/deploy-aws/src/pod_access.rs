//! Keyless pod access on EKS: pods of one Kubernetes service account get an
//! IAM role's short-lived credentials, so no access key is ever stored
//! ("needs no AWS keys"). Two ways, both reconciled by [`PodAccess`]
//! ([`Reconcile`]: `plan` / `ensure`) idempotently (a second `ensure` makes no
//! mutating request):
//!
//! - **IRSA** (IAM roles for service accounts): the cluster's OIDC issuer is
//!   registered as an IAM OIDC provider ([`OidcProviderSpec`]);
//!   a role trusts that provider for exactly one service account
//!   ([`ServiceAccountRoleSpec`],
//!   [`trust_service_account`]); the
//!   service account carries the annotation
//!   [`IrsaRoleAnnotation`].
//! - **EKS Pod Identity**: a role trusts `pods.eks.amazonaws.com`
//!   ([`pod_identity_role`]) and a pod identity association binds it to the
//!   service account ([`PodIdentityAssociationSpec`]); no
//!   OIDC provider and no annotation.
//!
//! ```no_run
//! # async fn example(ctx: &deploy_aws::AwsContext) -> deploy_core::Result<()> {
//! use deploy_aws::iam::IamName;
//! use deploy_aws::pod_access::{OidcProviderSpec, PodAccess, ServiceAccountRoleSpec};
//! use deploy_core::{IrsaRoleAnnotation, Reconcile, ResourceName, ServiceAccountRef};
//!
//! let access = PodAccess::new(ctx);
//! let provider = access.ensure(&OidcProviderSpec { cluster: ResourceName::new("prod-eks")? }).await?.info;
//! let sa = ServiceAccountRef::new("app", "app-sa")?;
//! let spec = ServiceAccountRoleSpec::new(IamName::new("prod-pod-app")?, &provider, sa.clone())
//!     .with_managed_policy("arn:aws:iam::123456789012:policy/prod-pod-assets");
//! let role = access.ensure(&spec).await?.info;
//! println!("{}", sa.to_yaml(&IrsaRoleAnnotation::new(role.arn)?.annotations()));
//! # Ok(())
//! # }
//! ```
//!
//! The OIDC provider is created with the client id `sts.amazonaws.com` and
//! **no thumbprint**: IAM takes the thumbprint list as optional, and for EKS
//! issuers (hosted by AWS) it verifies the issuer's certificate through its own
//! library of trusted root CAs and ignores thumbprints. Computing one would
//! mean a TLS connection to the issuer from the caller's machine, which a
//! private network may not allow.

use aws_sdk_eks::types::PodIdentityAssociation as EksAssociation;
use deploy_core::plan::{Change, FieldChange, Plan};
use deploy_core::{Error, IrsaRoleAnnotation, ResourceName, Result, ServiceAccountRef};

use crate::context::AwsContext;
use crate::error::{Op, SdkResultExt, missing};
use crate::iam::{Iam, IamName, RoleInfo, RoleSpec};
use crate::policy::{STS_AUDIENCE, trust_pod_identity, trust_service_account};
use deploy_core::reconcile::{Mode, Reconcile, Reconciled};

const fn iam_op(operation: &'static str) -> Op {
    Op::new("aws-iam", operation)
}

const fn eks_op(operation: &'static str) -> Op {
    Op::new("aws-eks", operation)
}

/// An IAM OIDC provider registering a cluster's issuer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcProvider {
    /// The provider's ARN (`arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`).
    pub arn: String,
    /// The issuer URL, `https://oidc.eks.REGION.amazonaws.com/id/ID`.
    pub issuer: String,
    /// The client ids (audiences) it accepts; `sts.amazonaws.com` among them.
    pub client_ids: Vec<String>,
    /// The thumbprints registered (none when created here: see the module docs).
    pub thumbprints: Vec<String>,
}

impl OidcProvider {
    /// The issuer without `https://`: the prefix of the trust policy's condition keys.
    pub fn issuer_host_path(&self) -> &str {
        host_path(&self.issuer)
    }
}

fn host_path(issuer: &str) -> &str {
    issuer.strip_prefix("https://").unwrap_or(issuer).trim_end_matches('/')
}

/// An IRSA role: trusted by one service account through the cluster's OIDC
/// provider, with managed policies attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAccountRoleSpec {
    /// The role's name.
    pub name: IamName,
    /// The provider's ARN.
    pub provider_arn: String,
    /// The provider's issuer URL.
    pub issuer: String,
    /// The one service account that may assume the role.
    pub service_account: ServiceAccountRef,
    /// Managed policies (ARNs) attached to the role.
    pub managed_policies: Vec<String>,
    /// A description.
    pub description: String,
}

impl ServiceAccountRoleSpec {
    /// A role named `name` for `service_account` through `provider`.
    pub fn new(name: IamName, provider: &OidcProvider, service_account: ServiceAccountRef) -> Self {
        ServiceAccountRoleSpec {
            name,
            provider_arn: provider.arn.clone(),
            issuer: provider.issuer.clone(),
            service_account,
            managed_policies: Vec::new(),
            description: String::new(),
        }
    }

    /// With a managed policy attached.
    #[must_use]
    pub fn with_managed_policy(mut self, arn: impl Into<String>) -> Self {
        self.managed_policies.push(arn.into());
        self
    }

    /// The IAM role spec: the trust policy of
    /// [`trust_service_account`].
    pub fn role_spec(&self) -> RoleSpec {
        let mut role = RoleSpec::new(self.name.clone(), trust_service_account(&self.provider_arn, &self.issuer, &self.service_account));
        role.managed_policies.clone_from(&self.managed_policies);
        role.description.clone_from(&self.description);
        role
    }
}

/// The role spec for EKS Pod Identity: `name` trusting `pods.eks.amazonaws.com`
/// ([`trust_pod_identity`]) with
/// `managed_policies`; ensure it with [`Iam`]'s [`deploy_core::Reconcile`] of [`crate::iam::RoleSpec`].
pub fn pod_identity_role(name: IamName, managed_policies: Vec<String>) -> RoleSpec {
    let mut role = RoleSpec::new(name, trust_pod_identity());
    role.managed_policies = managed_policies;
    role
}

/// A pod identity association: the service account's pods get the role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodIdentityAssociation {
    /// The cluster.
    pub cluster: String,
    /// The service account.
    pub service_account: ServiceAccountRef,
    /// The role's ARN.
    pub role_arn: String,
    /// The association's id (`a-...`).
    pub id: String,
    /// The association's ARN.
    pub arn: String,
}

/// The IRSA and Pod Identity calls. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct PodAccess {
    eks: aws_sdk_eks::Client,
    iam: Iam,
}

/// `role_arn` checked as an IAM role ARN (field `role_arn`).
fn check_role_arn(role_arn: &str) -> Result<()> {
    IrsaRoleAnnotation::new(role_arn).map(|_| ())
}

impl PodAccess {
    /// EKS and IAM built from `ctx`.
    pub fn new(ctx: &AwsContext) -> Self {
        PodAccess { eks: ctx.client(), iam: Iam::new(ctx) }
    }

    /// The EKS client.
    pub fn eks_client(&self) -> &aws_sdk_eks::Client {
        &self.eks
    }

    /// IAM.
    pub fn iam(&self) -> &Iam {
        &self.iam
    }

    /// The cluster's OIDC issuer URL (`identity.oidc.issuer`).
    ///
    /// # Errors
    /// [`Error::NotFound`] (kind `cluster`).
    pub async fn cluster_issuer(&self, cluster: &ResourceName) -> Result<String> {
        let describe = eks_op("DescribeCluster");
        let out = self.eks.describe_cluster().name(cluster.as_str()).send().await.on(describe, "cluster", cluster.as_str())?;
        let issuer = out
            .cluster()
            .and_then(|c| c.identity())
            .and_then(|i| i.oidc())
            .and_then(|o| o.issuer())
            .ok_or_else(|| missing(describe, "identity.oidc.issuer"))?;
        Ok(issuer.to_owned())
    }

    /// The IAM OIDC provider of `issuer`, if registered: found among
    /// ListOpenIDConnectProviders by the ARN's `oidc-provider/HOST/PATH`, read
    /// with GetOpenIDConnectProvider.
    ///
    /// # Errors
    /// Provider errors.
    pub async fn find_oidc_provider(&self, issuer: &str) -> Result<Option<OidcProvider>> {
        let suffix = format!(":oidc-provider/{}", host_path(issuer));
        let list = self.iam.client().list_open_id_connect_providers().send().await.on(
            iam_op("ListOpenIDConnectProviders"),
            "iam oidc provider",
            issuer,
        )?;
        let Some(arn) = list.open_id_connect_provider_list().iter().filter_map(|p| p.arn()).find(|a| a.ends_with(&suffix)) else {
            return Ok(None);
        };
        let get = iam_op("GetOpenIDConnectProvider");
        // Deleted between the list and the get.
        let Some(out) = self.iam.client().get_open_id_connect_provider().open_id_connect_provider_arn(arn).send().await.found(
            get,
            "iam oidc provider",
            arn,
        )?
        else {
            return Ok(None);
        };
        let url = out.url().ok_or_else(|| missing(get, "url"))?;
        Ok(Some(OidcProvider {
            arn: arn.to_owned(),
            issuer: format!("https://{}", host_path(url)),
            client_ids: out.client_id_list().to_vec(),
            thumbprints: out.thumbprint_list().to_vec(),
        }))
    }

    /// The pod identity association of `service_account` on `cluster`, if any.
    ///
    /// # Errors
    /// [`Error::NotFound`] (kind `cluster`).
    pub async fn find_pod_identity_association(
        &self,
        cluster: &ResourceName,
        service_account: &ServiceAccountRef,
    ) -> Result<Option<PodIdentityAssociation>> {
        let mut ids = Vec::new();
        let mut pages = self
            .eks
            .list_pod_identity_associations()
            .cluster_name(cluster.as_str())
            .namespace(service_account.namespace())
            .service_account(service_account.name())
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.on(eks_op("ListPodIdentityAssociations"), "cluster", cluster.as_str())?;
            ids.extend(
                page.associations()
                    .iter()
                    // The filters are the service's; check them anyway.
                    .filter(|a| a.namespace() == Some(service_account.namespace()) && a.service_account() == Some(service_account.name()))
                    .filter_map(|a| a.association_id().map(str::to_owned)),
            );
        }
        let Some(id) = ids.first() else { return Ok(None) };
        let describe = eks_op("DescribePodIdentityAssociation");
        let name = format!("{cluster}/{service_account}");
        let out = self.eks.describe_pod_identity_association().cluster_name(cluster.as_str()).association_id(id).send().await.on(
            describe,
            "pod identity association",
            &name,
        )?;
        let a = out.association().ok_or_else(|| missing(describe, "association"))?;
        Ok(Some(association(cluster, service_account, a, describe)?))
    }

    /// Delete the pod identity association of `service_account` on `cluster`.
    ///
    /// # Errors
    /// [`Error::NotFound`] (kind `pod identity association`, or `cluster`).
    pub async fn delete_pod_identity_association(&self, cluster: &ResourceName, service_account: &ServiceAccountRef) -> Result<()> {
        let name = format!("{cluster}/{service_account}");
        let a = self
            .find_pod_identity_association(cluster, service_account)
            .await?
            .ok_or_else(|| Error::not_found("pod identity association", &name))?;
        self.eks.delete_pod_identity_association().cluster_name(cluster.as_str()).association_id(&a.id).send().await.on(
            eks_op("DeletePodIdentityAssociation"),
            "pod identity association",
            &name,
        )?;
        Ok(())
    }
}

/// The IAM OIDC provider of a cluster's issuer, with client id
/// `sts.amazonaws.com`: what [`PodAccess`] reconciles for IRSA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcProviderSpec {
    /// The EKS cluster whose issuer is registered.
    pub cluster: ResourceName,
}

/// A pod identity association binding a role to a service account of a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodIdentityAssociationSpec {
    /// The EKS cluster.
    pub cluster: ResourceName,
    /// The service account whose pods get the role.
    pub service_account: ServiceAccountRef,
    /// The role's ARN.
    pub role_arn: String,
}

/// The cluster's OIDC issuer registered as an IAM OIDC provider with client
/// id `sts.amazonaws.com` (and no thumbprint: see the module docs); in
/// [`Mode::Apply`] created when missing, and an existing provider lacking that
/// client id gets it added. Callers use the provided [`Reconcile::plan`] /
/// [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::NotFound`] (kind `cluster`) when the cluster does not exist; provider errors.
#[async_trait::async_trait]
impl Reconcile<OidcProviderSpec> for PodAccess {
    type Info = OidcProvider;

    #[tracing::instrument(level = "info", skip_all, fields(backend = "aws-iam", kind = "oidc provider", name = %spec.cluster, mode = ?mode))]

    async fn reconcile(&self, spec: &OidcProviderSpec, mode: Mode) -> Result<Reconciled<OidcProvider>> {
        let issuer = self.cluster_issuer(&spec.cluster).await?;
        let name = host_path(&issuer).to_owned();
        match self.find_oidc_provider(&issuer).await? {
            Some(p) if p.client_ids.iter().any(|c| c == STS_AUDIENCE) => Ok(Reconciled { info: Some(p), plan: Plan::new() }),
            Some(mut p) => {
                let before = p.client_ids.join(",");
                let change = Change::update(
                    "iam oidc provider",
                    &name,
                    vec![FieldChange::new("client_ids", &before, format!("{before},{STS_AUDIENCE}"))],
                );
                if !mode.is_apply() {
                    return Ok(Reconciled { info: Some(p), plan: Plan::from_iter([change]) });
                }
                self.iam
                    .client()
                    .add_client_id_to_open_id_connect_provider()
                    .open_id_connect_provider_arn(&p.arn)
                    .client_id(STS_AUDIENCE)
                    .send()
                    .await
                    .on(iam_op("AddClientIDToOpenIDConnectProvider"), "iam oidc provider", &name)?;
                p.client_ids.push(STS_AUDIENCE.to_owned());
                Ok(Reconciled { info: Some(p), plan: Plan::from_iter([change]) })
            }
            None => {
                let plan = Plan::from_iter([Change::create("iam oidc provider", &name)]);
                if !mode.is_apply() {
                    return Ok(Reconciled { info: None, plan });
                }
                let create = iam_op("CreateOpenIDConnectProvider");
                self.iam.client().create_open_id_connect_provider().url(&issuer).client_id_list(STS_AUDIENCE).send().await.on(
                    create,
                    "iam oidc provider",
                    &name,
                )?;
                let info = self.find_oidc_provider(&issuer).await?.ok_or_else(|| missing(create, "the provider it created"))?;
                Ok(Reconciled { info: Some(info), plan })
            }
        }
    }
}

/// The IRSA role of `spec` (the [`Reconcile`] of [`RoleSpec`] on [`Iam`]):
/// its trust policy names exactly the spec's service account and the
/// `sts.amazonaws.com` audience. Callers use the provided
/// [`Reconcile::plan`] / [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] before any request (the provider ARN, the role
/// spec); as the [`Reconcile`] of [`RoleSpec`] on [`Iam`].
#[async_trait::async_trait]
impl Reconcile<ServiceAccountRoleSpec> for PodAccess {
    type Info = RoleInfo;

    #[tracing::instrument(level = "info", skip_all, fields(backend = "aws-iam", kind = "service account role", name = %spec.name, mode = ?mode))]

    async fn reconcile(&self, spec: &ServiceAccountRoleSpec, mode: Mode) -> Result<Reconciled<RoleInfo>> {
        let arn_parts: Vec<&str> = spec.provider_arn.splitn(6, ':').collect();
        if arn_parts.len() != 6 || arn_parts[0] != "arn" || arn_parts[2] != "iam" || !arn_parts[5].starts_with("oidc-provider/") {
            return Err(Error::invalid(
                "provider_arn",
                format!("`{}` is not an IAM OIDC provider ARN", spec.provider_arn),
                "arn:PARTITION:iam::ACCOUNT:oidc-provider/HOST/PATH",
            ));
        }
        <Iam as Reconcile<RoleSpec>>::reconcile(&self.iam, &spec.role_spec(), mode).await
    }
}

/// The association of `spec.role_arn` with `spec.service_account` on
/// `spec.cluster` (EKS Pod Identity): in [`Mode::Apply`] created when
/// missing, nothing when it already names the role, updated in place when it
/// names another role. Callers use the provided [`Reconcile::plan`] /
/// [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] on `role_arn` before any request;
/// [`Error::NotFound`] (kind `cluster`); provider errors.
#[async_trait::async_trait]
impl Reconcile<PodIdentityAssociationSpec> for PodAccess {
    type Info = PodIdentityAssociation;

    #[tracing::instrument(level = "info", skip_all, fields(backend = "aws-eks", kind = "pod identity association", name = %spec.cluster, mode = ?mode))]

    async fn reconcile(&self, spec: &PodIdentityAssociationSpec, mode: Mode) -> Result<Reconciled<PodIdentityAssociation>> {
        let (cluster, service_account, role_arn) = (&spec.cluster, &spec.service_account, spec.role_arn.as_str());
        check_role_arn(role_arn)?;
        let name = format!("{cluster}/{service_account}");
        match self.find_pod_identity_association(cluster, service_account).await? {
            Some(a) if a.role_arn == role_arn => Ok(Reconciled { info: Some(a), plan: Plan::new() }),
            Some(a) => {
                let change = Change::update("pod identity association", &name, vec![FieldChange::new("role_arn", &a.role_arn, role_arn)]);
                if !mode.is_apply() {
                    return Ok(Reconciled { info: Some(a), plan: Plan::from_iter([change]) });
                }
                let update = eks_op("UpdatePodIdentityAssociation");
                let out = self
                    .eks
                    .update_pod_identity_association()
                    .cluster_name(cluster.as_str())
                    .association_id(&a.id)
                    .role_arn(role_arn)
                    .send()
                    .await
                    .on(update, "pod identity association", &name)?;
                let info = association(cluster, service_account, out.association().ok_or_else(|| missing(update, "association"))?, update)?;
                Ok(Reconciled { info: Some(info), plan: Plan::from_iter([change]) })
            }
            None => {
                let plan = Plan::from_iter([Change::create("pod identity association", &name)]);
                if !mode.is_apply() {
                    return Ok(Reconciled { info: None, plan });
                }
                let create = eks_op("CreatePodIdentityAssociation");
                let out = self
                    .eks
                    .create_pod_identity_association()
                    .cluster_name(cluster.as_str())
                    .namespace(service_account.namespace())
                    .service_account(service_account.name())
                    .role_arn(role_arn)
                    .send()
                    .await
                    .on(create, "pod identity association", &name)?;
                let info = association(cluster, service_account, out.association().ok_or_else(|| missing(create, "association"))?, create)?;
                Ok(Reconciled { info: Some(info), plan })
            }
        }
    }
}

fn association(cluster: &ResourceName, service_account: &ServiceAccountRef, a: &EksAssociation, op: Op) -> Result<PodIdentityAssociation> {
    Ok(PodIdentityAssociation {
        cluster: cluster.to_string(),
        service_account: service_account.clone(),
        role_arn: a.role_arn().ok_or_else(|| missing(op, "role ARN"))?.to_owned(),
        id: a.association_id().ok_or_else(|| missing(op, "association id"))?.to_owned(),
        arn: a.association_arn().unwrap_or_default().to_owned(),
    })
}
