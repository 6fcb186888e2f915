//! Role assignments (`Microsoft.Authorization/roleAssignments`), such as
//! "Storage Blob Data Contributor" on a container for an application's
//! service principal.
//!
//! The assignment's name is a GUID derived from scope, role and principal, so
//! that ensuring it again finds it instead of creating a duplicate.
//!
//! `arm.ensure(&RoleAssignmentSpec)` assigns the role if it is not assigned
//! yet. The assignment is done at ARM's synchronous 201 (no read follows it: a
//! read may answer 404 for a while as the assignment replicates, and later
//! reads by this client take such a 404 as the assignment it made). An equal
//! assignment (same role, same principal, exactly this scope) made under
//! another name, as the portal and the CLI name theirs, counts as done: found
//! by listing the principal's assignments at the scope, it is an empty plan and
//! that assignment; one still replicating (not listed yet) is answered by ARM's
//! `RoleAssignmentExists` to the PUT: an empty plan, and an [`ArmResource`]
//! whose body is `null`. Deleting an assignment deletes the one under the
//! derived name only, never another tool's.

use std::borrow::Cow;

use async_trait::async_trait;
use deploy_core::plan::{FieldChange, Plan};
use deploy_core::reconcile::{Mode, Reconcile, Reconciled};
use deploy_core::{Error, Result};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::client::Target;
use super::{ArmClient, ArmResource, ArmSpec, Difference, api, check_guid, check_resource_id, str_at};

/// The built-in role "Storage Blob Data Contributor".
pub const STORAGE_BLOB_DATA_CONTRIBUTOR: &str = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";

/// What kind of principal is assigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalType {
    /// A service principal (an app registration's enterprise application).
    ServicePrincipal,
    /// A user.
    User,
    /// A group.
    Group,
}

impl PrincipalType {
    fn as_str(self) -> &'static str {
        match self {
            PrincipalType::ServicePrincipal => "ServicePrincipal",
            PrincipalType::User => "User",
            PrincipalType::Group => "Group",
        }
    }
}

/// A role assignment to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleAssignmentSpec {
    /// Where it applies: a storage account's or a container's resource id
    /// (`.../storageAccounts/{account}/blobServices/default/containers/{container}`).
    pub scope: String,
    /// The role definition's GUID ([`STORAGE_BLOB_DATA_CONTRIBUTOR`]).
    pub role_definition: String,
    /// The principal's object id (of the service principal, not the app's client id).
    pub principal_id: String,
    /// The principal's kind.
    pub principal_type: PrincipalType,
}

impl RoleAssignmentSpec {
    /// "Storage Blob Data Contributor" for service principal `principal_id` at `scope`.
    pub fn blob_data_contributor(scope: impl Into<String>, principal_id: impl Into<String>) -> Self {
        RoleAssignmentSpec {
            scope: scope.into(),
            role_definition: STORAGE_BLOB_DATA_CONTRIBUTOR.to_owned(),
            principal_id: principal_id.into(),
            principal_type: PrincipalType::ServicePrincipal,
        }
    }

    /// Check scope and GUIDs.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `scope`, `role_definition` or `principal_id`.
    pub fn validate(&self) -> Result<()> {
        check_resource_id("scope", &self.scope)?;
        check_guid("role_definition", &self.role_definition)?;
        check_guid("principal_id", &self.principal_id)
    }

    /// The resource id of the assignment under its derived name
    /// ([`RoleAssignmentSpec::assignment_name`]): the one this client makes and deletes.
    pub fn assignment_id(&self) -> String {
        format!("{}/providers/Microsoft.Authorization/roleAssignments/{}", self.scope, self.assignment_name())
    }

    /// The assignment's name: a GUID from scope, role and principal (lowercased),
    /// the same on every run.
    pub fn assignment_name(&self) -> String {
        let digest = Sha256::digest(format!(
            "{}|{}|{}",
            self.scope.to_ascii_lowercase(),
            self.role_definition.to_ascii_lowercase(),
            self.principal_id.to_ascii_lowercase()
        ));
        let mut b = [0u8; 16];
        b.copy_from_slice(&digest[..16]);
        b[6] = (b[6] & 0x0f) | 0x50; // version 5 style (name-based)
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
    }
}

/// The assignment under its derived name (the steps of the reconcile below).
struct Assignment<'a>(&'a RoleAssignmentSpec);

impl ArmSpec for Assignment<'_> {
    const KIND: &'static str = "role assignment";
    const API_VERSION: &'static str = api::ROLE_ASSIGNMENTS;

    fn validate(&self) -> Result<()> {
        self.0.validate()
    }

    fn name(&self) -> Cow<'_, str> {
        Cow::Owned(self.0.assignment_name())
    }

    fn id(&self, _: &ArmClient) -> String {
        self.0.assignment_id()
    }

    fn create(&self, arm: &ArmClient) -> Value {
        let spec = self.0;
        json!({
            "properties": {
                "roleDefinitionId": format!("{}/providers/Microsoft.Authorization/roleDefinitions/{}", arm.subscription_path(), spec.role_definition),
                "principalId": spec.principal_id,
                "principalType": spec.principal_type.as_str(),
            }
        })
    }

    /// Assignments cannot change in place: another principal or role under
    /// this name (unreachable unless someone reused the name) is drift.
    fn compare(&self, current: &Value) -> Difference {
        let spec = self.0;
        let principal = str_at(current, "/properties/principalId").unwrap_or("");
        let role = str_at(current, "/properties/roleDefinitionId").unwrap_or("");
        let same = principal.eq_ignore_ascii_case(&spec.principal_id)
            && role.to_ascii_lowercase().ends_with(&spec.role_definition.to_ascii_lowercase());
        let mut difference = Difference::none();
        if !same {
            difference.drift = vec![FieldChange::new(
                "principal_id/role",
                format!("{principal}/{role}"),
                format!("{}/{}", spec.principal_id, spec.role_definition),
            )];
        }
        difference
    }
}

#[async_trait]
impl Reconcile<RoleAssignmentSpec> for ArmClient {
    type Info = ArmResource;

    #[tracing::instrument(level = "info", skip_all, fields(backend = super::client::PROVIDER, kind = "role assignment", name = %spec.principal_id, mode = ?mode))]

    async fn reconcile(&self, spec: &RoleAssignmentSpec, mode: Mode) -> Result<Reconciled<ArmResource>> {
        spec.validate()?;
        let assignment = Assignment(spec);
        let resource = self.resource_of(&assignment);
        let current = self.own_assignment(&resource).await?;
        if current.is_none()
            && let Some(equal) = self.equal_assignment(spec, resource.target()).await?
        {
            // The same role for the same principal at this scope, made under another name (the portal,
            // the CLI, another tool): nothing to do, and nothing of ours to delete later.
            return Ok(Reconciled { plan: Plan::new(), info: Some(equal) });
        }
        match resource.converge(&assignment, current, mode).await {
            Ok(reconciled) => {
                if let (true, Some(made)) = (mode.is_apply() && reconciled.plan.has_mutations(), &reconciled.info) {
                    self.remember_created(resource.id(), &made.body);
                }
                Ok(reconciled)
            }
            Err(Error::Conflict { reason, .. }) if reason.contains("RoleAssignmentExists") => {
                Ok(Reconciled { plan: Plan::new(), info: Some(ArmResource { id: resource.id().to_owned(), body: Value::Null }) })
            }
            Err(e) => Err(e),
        }
    }
}

impl ArmClient {
    /// The assignment under its derived name (the one this client makes and
    /// deletes), as read; one this client made that ARM does not show yet
    /// (role assignments replicate for a while after their 201) counts as there.
    async fn own_assignment(&self, resource: &super::Resource<'_>) -> Result<Option<Value>> {
        Ok(match resource.get().await? {
            None => self.created(resource.id()),
            found => found,
        })
    }

    /// Whether `spec`'s assignment exists under its derived name: the one
    /// [`ArmClient::delete_role_assignment`] deletes (an equal assignment
    /// another tool made under its own name does not count). Reads only.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; ARM errors.
    pub async fn has_role_assignment(&self, spec: &RoleAssignmentSpec) -> Result<bool> {
        spec.validate()?;
        let assignment = Assignment(spec);
        Ok(self.own_assignment(&self.resource_of(&assignment)).await?.is_some())
    }

    /// The assignment of `spec`'s role to its principal at exactly its scope,
    /// under whatever name (ARM lists the principal's assignments above and
    /// below the scope too; those are other assignments).
    async fn equal_assignment(&self, spec: &RoleAssignmentSpec, target: Target<'_>) -> Result<Option<ArmResource>> {
        const SEGMENT: &str = "/providers/microsoft.authorization/roleassignments/";
        let collection = format!("{}/providers/Microsoft.Authorization/roleAssignments", spec.scope);
        // `principal_id` is a checked GUID: nothing in it can change the filter.
        let filter = format!("principalId eq '{}'", spec.principal_id);
        // The scope itself may not exist yet (a plan before its container is made): then nothing is assigned there.
        let listed = match self.list(&collection, api::ROLE_ASSIGNMENTS, Some(&filter), target).await {
            Err(e) if e.is_not_found() => return Ok(None),
            listed => listed?,
        };
        let scope = spec.scope.trim_end_matches('/').to_ascii_lowercase();
        let role = format!("/roledefinitions/{}", spec.role_definition.to_ascii_lowercase());
        Ok(listed.into_iter().find_map(|body| {
            let id = str_at(&body, "/id")?.to_owned();
            let at_scope = id.to_ascii_lowercase().rsplit_once(SEGMENT).is_some_and(|(s, _)| s == scope);
            let principal = str_at(&body, "/properties/principalId").is_some_and(|p| p.eq_ignore_ascii_case(&spec.principal_id));
            let same_role = str_at(&body, "/properties/roleDefinitionId").is_some_and(|r| r.to_ascii_lowercase().ends_with(&role));
            (at_scope && principal && same_role).then_some(ArmResource { id, body })
        }))
    }

    /// Remove the assignment (missing is fine); afterwards this client no
    /// longer counts it as made while it replicates.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; ARM errors.
    pub async fn delete_role_assignment(&self, spec: &RoleAssignmentSpec) -> Result<()> {
        spec.validate()?;
        let assignment = Assignment(spec);
        let resource = self.resource_of(&assignment);
        resource.delete().await?;
        self.forget_created(resource.id());
        Ok(())
    }
}
