//! EFS: an encrypted file system found by its creation token (its name), with
//! one mount target in each of the given subnets behind the given security
//! groups — an environment's shared space for temporary artifacts.
//!
//! [`Efs`] reconciles a [`FileSystemSpec`] ([`Reconcile`]: `plan` / `ensure`):
//! the file system is created with the name as its creation token (so a
//! create whose answer was lost makes no second one), encrypted at rest, and
//! waited for until available; a mount target is added for each subnet that
//! has none. Deleting it ([`Efs::delete_file_system`]) destroys its files:
//! the confirmation names it.

use std::collections::BTreeMap;

use aws_sdk_efs::Client;
use aws_sdk_efs::types::{LifeCycleState, Tag};
use deploy_core::plan::{Change, Plan};
use deploy_core::reconcile::{Mode, Reconcile, Reconciled};
use deploy_core::waiter::{Poll, Waiter};
use deploy_core::{Confirm, Error, ResourceName, Result, ResultExt as _};
use serde::{Deserialize, Serialize};

use crate::context::AwsContext;
use crate::error::{Op, SdkResultExt, build_error, missing};

const SERVICE: &str = "aws-efs";
const KIND: &str = "file system";

const fn op(operation: &'static str) -> Op {
    Op::new(SERVICE, operation)
}

/// What a file system should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSystemSpec {
    /// Its name: the creation token and the `Name` tag.
    pub name: ResourceName,
    /// The subnets to mount it in, one mount target each (one subnet per zone).
    pub subnet_ids: Vec<String>,
    /// The security groups of the mount targets (NFS, TCP 2049, from the clients).
    pub security_group_ids: Vec<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// A file system as EFS reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSystemInfo {
    /// Its id (`fs-...`).
    pub file_system_id: String,
    /// Its name (creation token).
    pub name: String,
    /// Its state (`available`, ...).
    pub state: String,
    /// Whether it is encrypted at rest.
    pub encrypted: bool,
    /// Subnet id → mount target id.
    pub mount_targets: BTreeMap<String, String>,
}

/// EFS file systems. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct Efs {
    client: Client,
    waiter: Waiter,
}

impl Efs {
    /// EFS built from `ctx`, waiting with its waiter.
    pub fn new(ctx: &AwsContext) -> Self {
        Efs { client: ctx.client(), waiter: ctx.waiter() }
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The file system named `name` (its creation token), with its mount targets.
    ///
    /// # Errors
    /// [`Error::NotFound`]; provider errors.
    pub async fn describe_file_system(&self, name: &str) -> Result<FileSystemInfo> {
        let describe = op("DescribeFileSystems");
        let out = self.client.describe_file_systems().creation_token(name).send().await.on(describe, KIND, name)?;
        let fs = out
            .file_systems()
            .iter()
            .find(|f| f.creation_token() == name && f.life_cycle_state() != &LifeCycleState::Deleted)
            .ok_or_else(|| Error::not_found(KIND, name))?;
        let id = fs.file_system_id().to_owned();
        let targets = self.client.describe_mount_targets().file_system_id(&id).send().await.on(op("DescribeMountTargets"), KIND, name)?;
        let mount_targets = targets
            .mount_targets()
            .iter()
            .filter(|t| !matches!(t.life_cycle_state(), LifeCycleState::Deleting | LifeCycleState::Deleted))
            .map(|t| (t.subnet_id().to_owned(), t.mount_target_id().to_owned()))
            .collect();
        Ok(FileSystemInfo {
            file_system_id: id,
            name: name.to_owned(),
            state: fs.life_cycle_state().as_str().to_ascii_lowercase(),
            encrypted: fs.encrypted().unwrap_or(false),
            mount_targets,
        })
    }

    /// Delete the file system `name` and its mount targets, waiting until the
    /// mount targets are gone. Its files are lost: `confirm` must name it.
    ///
    /// # Errors
    /// [`Error::ConfirmationRequired`] before any request; [`Error::NotFound`];
    /// [`Error::Timeout`]; provider errors.
    pub async fn delete_file_system(&self, name: &ResourceName, confirm: &Confirm) -> Result<()> {
        confirm.check("delete the file system and every file in", name.as_str())?;
        let info = self.describe_file_system(name.as_str()).await?;
        for target in info.mount_targets.values() {
            self.client.delete_mount_target().mount_target_id(target).send().await.on(op("DeleteMountTarget"), KIND, name.as_str())?;
        }
        let what = format!("the mount targets of {name} to be deleted");
        self.waiter
            .wait(&what, || async {
                match self.describe_file_system(name.as_str()).await {
                    Ok(i) if i.mount_targets.is_empty() => Ok(Poll::Ready(())),
                    Ok(i) => Ok(Poll::Pending(format!("{} mount targets", i.mount_targets.len()))),
                    Err(e) => Err(e),
                }
            })
            .await?;
        self.client.delete_file_system().file_system_id(&info.file_system_id).send().await.on(
            op("DeleteFileSystem"),
            KIND,
            name.as_str(),
        )?;
        Ok(())
    }

    async fn create(&self, spec: &FileSystemSpec) -> Result<()> {
        let name = spec.name.as_str();
        let create = op("CreateFileSystem");
        let mut tags = vec![Tag::builder().key("Name").value(name).build().map_err(|e| build_error(create, e))?];
        for (k, v) in &spec.tags {
            tags.push(Tag::builder().key(k).value(v).build().map_err(|e| build_error(create, e))?);
        }
        match self.client.create_file_system().creation_token(name).encrypted(true).set_tags(Some(tags)).send().await.on(create, KIND, name)
        {
            // A create whose answer was lost: the token makes the retry find the first one.
            Err(Error::AlreadyExists { .. }) => {}
            r => {
                r?;
            }
        }
        let what = format!("file system {name} to be available");
        self.waiter
            .wait(&what, || async {
                let info = self.describe_file_system(name).await?;
                Ok(match info.state.as_str() {
                    "available" => Poll::Ready(()),
                    "error" => Poll::Failed(info.state),
                    other => Poll::Pending(other.to_owned()),
                })
            })
            .await
    }
}

impl FileSystemSpec {
    /// Check the spec before any request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field: no subnet, a subnet or
    /// security group id of the wrong shape, two subnets alike.
    pub fn validate(&self) -> Result<()> {
        if self.subnet_ids.is_empty() {
            return Err(Error::invalid("subnet_ids", "is empty", "a mount target in at least one subnet"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, id) in self.subnet_ids.iter().enumerate() {
            if !id.starts_with("subnet-") || !seen.insert(id) {
                return Err(Error::invalid(format!("subnet_ids[{i}]"), format!("`{id}`"), "distinct subnet ids (`subnet-...`)"));
            }
        }
        for (i, id) in self.security_group_ids.iter().enumerate() {
            if !id.starts_with("sg-") {
                return Err(Error::invalid(format!("security_group_ids[{i}]"), format!("`{id}`"), "a security group id (`sg-...`)"));
            }
        }
        Ok(())
    }
}

/// The file system of `spec` and a mount target in each of its subnets. A
/// mount target found in a subnet is left as it is. Callers use the provided
/// [`Reconcile::plan`] / [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] before any request; [`Error::Timeout`]; provider errors.
#[async_trait::async_trait]
impl Reconcile<FileSystemSpec> for Efs {
    type Info = FileSystemInfo;

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = KIND, name = %spec.name, mode = ?mode))]
    async fn reconcile(&self, spec: &FileSystemSpec, mode: Mode) -> Result<Reconciled<FileSystemInfo>> {
        spec.validate()?;
        let name = spec.name.as_str();
        let mut plan = Plan::new();
        let info = match self.describe_file_system(name).await.found()? {
            Some(info) => info,
            None => {
                plan.push(Change::create(KIND, name));
                plan.extend(spec.subnet_ids.iter().map(|s| Change::create("mount target", format!("{name} in {s}"))).collect());
                if !mode.is_apply() {
                    return Ok(Reconciled { plan, info: None });
                }
                self.create(spec).await?;
                self.describe_file_system(name).await?
            }
        };
        let missing_in: Vec<&String> = spec.subnet_ids.iter().filter(|s| !info.mount_targets.contains_key(*s)).collect();
        if missing_in.is_empty() {
            return Ok(Reconciled { plan, info: Some(info) });
        }
        if plan.is_empty() {
            plan.extend(missing_in.iter().map(|s| Change::create("mount target", format!("{name} in {s}"))).collect());
        }
        if !mode.is_apply() {
            return Ok(Reconciled { plan, info: Some(info) });
        }
        let create = op("CreateMountTarget");
        for subnet in missing_in {
            self.client
                .create_mount_target()
                .file_system_id(&info.file_system_id)
                .subnet_id(subnet)
                .set_security_groups(Some(spec.security_group_ids.clone()))
                .send()
                .await
                .on(create, "mount target", subnet)?;
        }
        let info = self.describe_file_system(name).await?;
        if spec.subnet_ids.iter().any(|s| !info.mount_targets.contains_key(s)) {
            return Err(missing(create, "mount target"));
        }
        Ok(Reconciled { plan, info: Some(info) })
    }
}
