//! [`SnapshotJob`] and [`RestoreJob`]: a bucket snapshot (or restore) split
//! in shards, each shard a pod of one Kubernetes Indexed Job.
//!
//! The caller's process plans the shards ([`deploy_core::recipes::plan_shards`]:
//! `manifests/<id>/shards.json`), runs the Job (see [`crate::shards`]) and,
//! when the Job has ended, finalizes ([`deploy_core::recipes::finalize_snapshot`]):
//! the index is written only when every shard's record and parts exist and
//! agree with the plan. A shard that failed or never ran makes finalize
//! refuse, naming it ([`Error::ShardsIncomplete`]); running the same snapshot
//! id again runs every shard again, and the shards that had completed do
//! nothing.
//!
//! Each pod runs the caller's image and command; it reads its shard with
//! [`ShardAssignment::from_env`](crate::shards::ShardAssignment::from_env)
//! and runs [`deploy_core::recipes::snapshot_shard`] (or, for a restore,
//! [`deploy_core::recipes::restore_bucket`] with the range
//! [`deploy_core::recipes::restore_ranges`] gives its index).

use kube::Client;

use deploy_core::recipes::{
    Boundaries, Location, ManifestIndex, ShardPlan, SnapshotId, SnapshotLayout, SnapshotOptions, finalize_snapshot, plan_shards,
};

use crate::error::{Error, Result};
use crate::job::{JobState, check_job_name};
use crate::shards::{SHARD_COUNT_VAR, SNAPSHOT_ID_VAR, ShardJobSettings, ShardsOutcome, run_indexed};

/// The most shards of one Job (as [`deploy_core::recipes::bucket::shards::MAX_SHARDS`]).
pub const MAX_JOB_SHARDS: usize = 1024;

fn state_text(state: &JobState) -> String {
    match state {
        JobState::Running => "Running".into(),
        JobState::Complete => "Complete".into(),
        JobState::Failed(reason) => format!("Failed: {reason}"),
    }
}

fn check_shards(shards: usize) -> Result<()> {
    if (1..=MAX_JOB_SHARDS).contains(&shards) {
        Ok(())
    } else {
        Err(deploy_core::Error::invalid("shards", format!("is {shards}"), "1 to 1024 shards").into())
    }
}

/// A bucket snapshot split in `shards` key ranges, one pod of an Indexed Job
/// per range. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct SnapshotJob {
    name: String,
    settings: ShardJobSettings,
    shards: usize,
}

/// What a [`SnapshotJob`] run did.
#[derive(Clone, Debug)]
pub struct ShardedSnapshot {
    /// The plan (the snapshot id and each shard's range).
    pub plan: ShardPlan,
    /// How the Job ended.
    pub job: ShardsOutcome,
    /// The index finalize wrote: the snapshot is complete.
    pub index: ManifestIndex,
}

/// `name`, once the Job name, the shard count and `settings` are checked.
fn check_job(name: String, settings: &ShardJobSettings, shards: usize) -> Result<String> {
    check_job_name(&name)?;
    check_shards(shards)?;
    settings.validate()?;
    Ok(name)
}

impl SnapshotJob {
    /// A Job named `name` (each run `NAME-xxxxx`) running `shards` shards with `settings`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad Job name, shard count (1 to
    /// [`MAX_JOB_SHARDS`]) or settings ([`ShardJobSettings::validate`]).
    pub fn new(name: impl Into<String>, settings: ShardJobSettings, shards: usize) -> Result<Self> {
        Ok(SnapshotJob { name: check_job(name.into(), &settings, shards)?, settings, shards })
    }

    /// The Job's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many shards.
    pub fn shards(&self) -> usize {
        self.shards
    }

    /// Plan the snapshot `options.id` (now, when unset) of `source` into
    /// `destination`, run the Job to its end, then finalize. A plan already
    /// written for the id is kept (a re-run resumes: complete shards do nothing).
    ///
    /// # Errors
    /// [`Error::Recipe`] when planning or finalizing fails otherwise;
    /// [`Error::AlreadyRunning`], [`Error::Kube`], [`Error::Timeout`] as for
    /// every run; [`Error::ShardsIncomplete`] naming the shards that failed or
    /// are missing (the snapshot then has no index: run it again with the
    /// same id).
    pub async fn run(
        &self,
        client: Client,
        source: Location<'_>,
        destination: Location<'_>,
        options: &SnapshotOptions,
        boundaries: Boundaries,
    ) -> Result<ShardedSnapshot> {
        let mut options = options.clone();
        let id = options.id.clone().unwrap_or_else(SnapshotId::now);
        options.id = Some(id.clone());
        let plan = plan_shards(source, destination, &options, self.shards, boundaries)
            .await
            .map_err(|source| Error::Recipe { step: "plan the shards", source })?;
        let job = self.run_job(client, &id).await?;
        match finalize_snapshot(destination, &options.layout, &id).await {
            Ok(index) => Ok(ShardedSnapshot { plan, job, index }),
            Err(source @ deploy_core::Error::Conflict { .. }) => Err(Error::ShardsIncomplete {
                job: job.job,
                state: state_text(&job.state),
                failed: job.failed,
                errors: job.errors,
                source: Box::new(source),
            }),
            Err(source) => Err(Error::Recipe { step: "finalize the snapshot", source }),
        }
    }

    /// Only the Job of snapshot `id` (planned already): every shard's pod,
    /// to the Job's end, and clean-up. [`SnapshotJob::run`] plans before and
    /// finalizes after.
    ///
    /// # Errors
    /// As every run: [`Error::AlreadyRunning`], [`Error::Kube`], [`Error::Timeout`].
    pub async fn run_job(&self, client: Client, id: &SnapshotId) -> Result<ShardsOutcome> {
        let env = [(SNAPSHOT_ID_VAR, id.to_string()), (SHARD_COUNT_VAR, self.shards.to_string())];
        run_indexed(client, &self.name, &self.settings, self.shards, &env).await
    }
}

/// A restore of one snapshot split in `shards` key ranges (at the manifest's
/// part boundaries), one pod of an Indexed Job per range. Each pod restores
/// its range with the caller's options (the caller's confirmation, if any,
/// goes into its command). See the [module docs](self).
#[derive(Clone, Debug)]
pub struct RestoreJob {
    name: String,
    settings: ShardJobSettings,
    shards: usize,
}

impl RestoreJob {
    /// A Job named `name` restoring in `shards` shards with `settings`.
    ///
    /// # Errors
    /// As [`SnapshotJob::new`].
    pub fn new(name: impl Into<String>, settings: ShardJobSettings, shards: usize) -> Result<Self> {
        Ok(RestoreJob { name: check_job(name.into(), &settings, shards)?, settings, shards })
    }

    /// The Job's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many shards (pods to completion).
    pub fn shards(&self) -> usize {
        self.shards
    }

    /// Restore snapshot `id` of `backup`: its index read first (a snapshot
    /// without one, incomplete, is refused before the Job), then every
    /// shard's pod to the Job's end, and clean-up.
    ///
    /// # Errors
    /// [`Error::Recipe`] when the snapshot's index cannot be read;
    /// [`Error::ShardsIncomplete`] naming the shards that did not complete
    /// (run the restore again: a restore changes only what differs); as every run otherwise.
    pub async fn run(&self, client: Client, backup: Location<'_>, layout: &SnapshotLayout, id: &SnapshotId) -> Result<ShardsOutcome> {
        deploy_core::recipes::read_manifest_info(backup, layout, id)
            .await
            .map_err(|source| Error::Recipe { step: "read the snapshot's index", source })?;
        let env = [(SNAPSHOT_ID_VAR, id.to_string()), (SHARD_COUNT_VAR, self.shards.to_string())];
        let outcome = run_indexed(client, &self.name, &self.settings, self.shards, &env).await?;
        if outcome.failed.is_empty() && outcome.state == JobState::Complete {
            return Ok(outcome);
        }
        let named: Vec<String> = outcome.failed.iter().take(20).map(ToString::to_string).collect();
        let source = deploy_core::Error::conflict(
            "restore",
            id.to_string(),
            format!(
                "{} of {} shards did not complete (shards {}): run the restore again",
                outcome.failed.len(),
                self.shards,
                named.join(", ")
            ),
        );
        Err(Error::ShardsIncomplete {
            job: outcome.job,
            state: state_text(&outcome.state),
            failed: outcome.failed,
            errors: outcome.errors,
            source: Box::new(source),
        })
    }
}
