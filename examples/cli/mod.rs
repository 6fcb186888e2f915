//! What every example shares on its command line and its way out: the flags
//! `--plan` and `--json` (clap, flattened into each example's own parser),
//! the JSON document and the exit code.
//!
//! - `--json`: one JSON document on stdout, written when the example ends:
//!   `example`, `mode` (`plan` or `apply`), `ok`, `changes_pending` (under
//!   `--plan`), the fields the example recorded (its plan, the changes made,
//!   its report, and `outputs`: what a provisioning example made, its names,
//!   ids, ARNs and endpoints; never a secret), `mutating_requests` where the
//!   example counts them, and `error` (`message`, `field`) on failure. The
//!   human text, the last line `mutating requests: N` included, then goes to
//!   stderr: stdout carries the document alone.
//! - exit codes: `0` success (under `--plan`: nothing to change), `2` under
//!   `--plan` when changes are pending (as `terraform plan
//!   -detailed-exitcode`), `1` on any error. A command line clap rejects
//!   (unknown flag, missing value) exits 2 with clap's usage message before
//!   anything runs; `--help` exits 0.
//!
//! Included by each example with `#[path = "cli/mod.rs"] mod cli;`.
#![allow(dead_code)]

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{Map, Value};

/// `--json`, for examples that have no plan mode.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Output {
    /// Print one JSON document on stdout (plan, changes, report or outputs; never a secret);
    /// the human text goes to stderr
    #[arg(long)]
    pub json: bool,
}

/// `--plan` and `--json`: flattened into every example that can plan.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Common {
    /// Show what would change and change nothing (no mutating request); exit 2 when changes
    /// are pending, 0 when none, 1 on error
    #[arg(long)]
    pub plan: bool,
    #[command(flatten)]
    pub output: Output,
}

/// The exit code under `--plan` when changes are pending.
pub const CHANGES_PENDING: u8 = 2;

struct State {
    example: &'static str,
    plan: bool,
    pending: bool,
    fields: Map<String, Value>,
    /// Where the JSON document goes (the process's stdout before [`start`]
    /// sent the human text to stderr); `None` without `--json`.
    json: Option<std::fs::File>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    STATE.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_mut().map(f)
}

/// Begin: remember the mode; under `--json`, keep stdout for the document and
/// send everything printed from now on (`println!`) to stderr.
pub fn start(example: &'static str, plan: bool, output: &Output) {
    let json = if output.json { Some(json_sink()) } else { None };
    *STATE.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
        Some(State { example, plan, pending: false, fields: Map::new(), json });
}

#[cfg(unix)]
fn json_sink() -> std::fs::File {
    use std::os::fd::{AsFd as _, FromRawFd as _};
    std::io::stdout().flush().ok();
    // A duplicate of stdout for the document; then stdout (fd 1) becomes a
    // duplicate of stderr, so that every `println!` of the example reads as
    // human text on stderr.
    let document = std::io::stdout().as_fd().try_clone_to_owned().expect("stdout can be duplicated");
    // SAFETY: dup2 on two descriptors this process holds open; no Rust object owns fd 1 exclusively.
    let redirected = unsafe { libc::dup2(2, 1) };
    assert!(redirected == 1, "stdout could not be redirected to stderr");
    // SAFETY: `document` is an owned, open descriptor handed over to the File.
    unsafe { std::fs::File::from_raw_fd(std::os::fd::IntoRawFd::into_raw_fd(document)) }
}

#[cfg(not(unix))]
fn json_sink() -> std::fs::File {
    // No descriptor juggling here: the text stays on stdout, before the document.
    unimplemented!("--json needs a Unix platform in these examples")
}

/// Whether `--json` was given.
pub fn json() -> bool {
    with(|s| s.json.is_some()).unwrap_or(false)
}

/// Record `value` as field `name` of the JSON document.
pub fn field(name: &str, value: impl Serialize) {
    let value = serde_json::to_value(value).expect("the examples' outputs serialize");
    with(|s| s.fields.insert(name.to_owned(), value));
}

/// Record `value` as output `name`: the JSON document's `outputs` object
/// (what the example made: names, ids, ARNs, endpoints; never a secret).
pub fn output(name: &str, value: impl Serialize) {
    let value = serde_json::to_value(value).expect("the examples' outputs serialize");
    with(|s| {
        let outputs = s.fields.entry("outputs").or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(map) = outputs {
            map.insert(name.to_owned(), value);
        }
    });
}

/// Record a plan as field `name`; a plan with changes makes `--plan` exit 2.
pub fn plan(name: &str, plan: &deploy::Plan) {
    field(name, plan);
    pending(!plan.is_empty());
}

/// Mark changes as pending (`true`) for the exit code of `--plan`.
pub fn pending(changes: bool) {
    with(|s| s.pending |= changes);
}

/// Whether `--plan` was given.
pub fn planning() -> bool {
    with(|s| s.plan).unwrap_or(false)
}

/// End: write the JSON document (under `--json`) and turn the outcome into
/// the exit code. `error` is the error's text and the field it names (for
/// [`deploy::Error::InvalidInput`]); it was printed to stderr by the caller.
pub fn exit(error: Option<(String, Option<String>)>, mutating: Option<usize>) -> ExitCode {
    let Some(state) = STATE.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() else {
        return if error.is_some() { ExitCode::FAILURE } else { ExitCode::SUCCESS };
    };
    let ok = error.is_none();
    if let Some(mut out) = state.json {
        let mut doc = Map::new();
        doc.insert("example".into(), state.example.into());
        doc.insert("mode".into(), if state.plan { "plan" } else { "apply" }.into());
        doc.insert("ok".into(), ok.into());
        if state.plan {
            doc.insert("changes_pending".into(), state.pending.into());
        }
        doc.extend(state.fields);
        if let Some(n) = mutating {
            doc.insert("mutating_requests".into(), n.into());
        }
        if let Some((message, field)) = &error {
            doc.insert("error".into(), serde_json::json!({ "message": message, "field": field }));
        }
        let text = serde_json::to_string_pretty(&Value::Object(doc)).expect("a JSON map serializes");
        std::io::stdout().flush().ok();
        if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
            return ExitCode::FAILURE;
        }
    }
    match error {
        Some(_) => ExitCode::FAILURE,
        None if state.plan && state.pending => ExitCode::from(CHANGES_PENDING),
        None => ExitCode::SUCCESS,
    }
}

/// [`exit`] for a [`deploy::Result`]: prints the error to stderr first.
pub fn exit_with(result: deploy::Result<()>, mutating: Option<usize>) -> ExitCode {
    let error = result.err().map(|e| {
        eprintln!("error: {e}");
        (e.to_string(), e.invalid_field().map(ToString::to_string))
    });
    exit(error, mutating)
}

/// [`exit`] for an [`anyhow::Result`]: prints the error (with its causes) to stderr first.
pub fn exit_anyhow(result: anyhow::Result<()>) -> ExitCode {
    let error = result.err().map(|e| {
        eprintln!("error: {e:#}");
        let field = e.downcast_ref::<deploy::Error>().and_then(|e| e.invalid_field()).map(ToString::to_string);
        (format!("{e:#}"), field)
    });
    exit(error, None)
}

/// An observer for long copies: on a terminal (stderr), an indicatif progress
/// bar of the bytes and objects copied, the other events printed above it;
/// otherwise (a pipe, a log, CI) every event as a plain line, `indent` first.
/// Wait polls are not shown.
pub fn progress_observer(indent: &'static str) -> deploy::Observer {
    use std::io::IsTerminal as _;
    if !std::io::stderr().is_terminal() {
        return deploy::Observer::new(move |event: &deploy::Event| match event {
            deploy::Event::WaitPolled { .. } => {}
            other => println!("{indent}{other}"),
        });
    }
    let bar: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);
    deploy::Observer::new(move |event: &deploy::Event| {
        let mut slot = bar.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match event {
            deploy::Event::WaitPolled { .. } => {}
            deploy::Event::Copied { objects, bytes, total, total_bytes, .. } => {
                let bar = slot.get_or_insert_with(|| {
                    let bar = indicatif::ProgressBar::new_spinner();
                    bar.enable_steady_tick(std::time::Duration::from_millis(120));
                    bar
                });
                let template = match total_bytes {
                    Some(_) => "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({binary_bytes_per_sec}, {eta}) {msg}",
                    None => "{spinner} [{elapsed_precise}] {bytes} copied ({binary_bytes_per_sec}) {msg}",
                };
                if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                    bar.set_style(style);
                }
                if let Some(t) = total_bytes {
                    bar.set_length(*t);
                }
                bar.set_position(*bytes);
                bar.set_message(match total {
                    Some(t) => format!("{objects}/{t} objects"),
                    None => format!("{objects} objects"),
                });
                // Every object done: the copy's last report. The bar stays as drawn
                // (never redrawn over what is printed after it).
                if total.is_some_and(|t| *objects >= t) {
                    bar.abandon();
                    *slot = None;
                }
            }
            other => {
                // Another phase: the bar of the copy before it ends where it is.
                if let Some(bar) = slot.take() {
                    bar.abandon();
                }
                println!("{indent}{other}");
            }
        }
    })
}

/// `--shards N` and the flags of the shard Job (`--in-cluster`, `--image`,
/// `--parallelism`, `--namespace`, `--shard-command`), flattened into the
/// disaster-recovery examples. The pods' credential flags are each cloud's
/// own: `C`, flattened between `--namespace` and `--shard-command`. Checked by
/// [`Shards::count`] and [`Shards::job`] before any request.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Shards<C: clap::Args + PodAccess> {
    /// Split the copy in N key ranges (1 to 1024; in this process, or one pod each with --in-cluster)
    #[arg(long, value_name = "N")]
    pub shards: Option<String>,
    /// backup: run the shards as a Kubernetes Indexed Job (needs --objects-only, --image, --shards)
    #[arg(long)]
    pub in_cluster: bool,
    /// With --in-cluster: the image whose pods run this binary
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// With --in-cluster: pods at once (default 4)
    #[arg(long, value_name = "P")]
    pub parallelism: Option<String>,
    /// With --in-cluster: the namespace of the Job (default `default`)
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub access: C,
    /// With --in-cluster: the path of this binary in the image
    #[arg(long, value_name = "PATH")]
    pub shard_command: Option<String>,
}

/// How the shard Job's pods reach the cloud: each example's own flags
/// (`--service-account`, `--credentials-secret`), flattened into [`Shards`].
pub trait PodAccess {
    /// The flags of this kind given, by name (each refused without `--in-cluster`).
    fn given(&self) -> Vec<&'static str>;
    /// The pods' credentials, checked before any request.
    #[cfg(feature = "k8s")]
    fn pod_access(&self) -> deploy::Result<PodAccessSettings>;
}

/// What the pods get from [`PodAccess::pod_access`].
#[cfg(feature = "k8s")]
#[derive(Debug, Clone)]
pub struct PodAccessSettings {
    /// The pods' service account.
    pub service_account: Option<String>,
    /// Their credentials (never on their command line).
    pub credentials: deploy::k8s::PodCredentials,
    /// Labels on each pod (AKS workload identity's `azure.workload.identity/use`).
    pub pod_labels: std::collections::BTreeMap<String, String>,
    /// Arguments appended to the pods' command (never a secret).
    pub args: Vec<String>,
}

/// What the pods of the shard Job run, besides the flags of [`Shards`].
#[cfg(feature = "k8s")]
#[derive(Debug, Clone)]
pub struct ShardPods {
    /// The Job's name (each run `NAME-xxxxx`).
    pub job_name: String,
    /// The binary's path in the image when `--shard-command` is not given.
    pub default_binary: &'static str,
    /// The arguments after the binary (`backup-shard --prefix P ...`); never a secret.
    pub args: Vec<String>,
    /// Plain variables of each pod (region, endpoint); never a secret.
    pub env: Vec<(String, String)>,
}

/// The most shards (as `deploy::k8s::snapshot_job::MAX_JOB_SHARDS`).
pub const MAX_SHARDS: usize = 1024;

impl<C: clap::Args + PodAccess> Shards<C> {
    /// `--shards N` (default 1): checked before any request.
    pub fn count(&self) -> deploy::Result<usize> {
        let Some(v) = self.shards.as_deref() else { return Ok(1) };
        match v.parse::<usize>() {
            Ok(n) if (1..=MAX_SHARDS).contains(&n) => Ok(n),
            _ => Err(deploy::Error::invalid("shards", format!("`{v}`"), "1 to 1024 shards")),
        }
    }

    /// `--in-cluster` and its flags: the shard Job, checked before any
    /// request (`None` without `--in-cluster`). `objects_only` is whether
    /// `--objects-only` was given (the Job backs up the objects only).
    #[cfg(feature = "k8s")]
    pub fn job(&self, objects_only: bool, pods: ShardPods) -> deploy::Result<Option<deploy::k8s::SnapshotJob>> {
        let Some((name, settings, count)) = self.job_settings(objects_only, pods)? else { return Ok(None) };
        Ok(Some(deploy::k8s::SnapshotJob::new(name, settings, count).map_err(deploy::Error::from)?))
    }

    /// As [`Shards::job`], for `restore --in-cluster`: the restore's shard Job.
    #[cfg(feature = "k8s")]
    pub fn restore_job(&self, objects_only: bool, pods: ShardPods) -> deploy::Result<Option<deploy::k8s::RestoreJob>> {
        let Some((name, settings, count)) = self.job_settings(objects_only, pods)? else { return Ok(None) };
        Ok(Some(deploy::k8s::RestoreJob::new(name, settings, count).map_err(deploy::Error::from)?))
    }

    /// The Job's name, settings and shard count, checked before any request.
    #[cfg(feature = "k8s")]
    fn job_settings(&self, objects_only: bool, pods: ShardPods) -> deploy::Result<Option<(String, deploy::k8s::ShardJobSettings, usize)>> {
        use deploy::Error;
        use deploy::k8s::{JobSettings, ShardJobSettings};
        self.count()?;
        let mut job_only = vec![
            ("image", self.image.is_some()),
            ("parallelism", self.parallelism.is_some()),
            ("namespace", self.namespace.is_some()),
            ("shard-command", self.shard_command.is_some()),
        ];
        job_only.splice(3..3, self.access.given().into_iter().map(|flag| (flag, true)));
        if !self.in_cluster {
            if let Some((flag, _)) = job_only.iter().find(|(_, given)| *given) {
                return Err(Error::invalid(*flag, "is given without --in-cluster", "the shard Job's flags go with --in-cluster"));
            }
            return Ok(None);
        }
        if !objects_only {
            return Err(Error::invalid(
                "in-cluster",
                "is given without --objects-only",
                "the shard Job copies the objects only: add --objects-only",
            ));
        }
        let image = self
            .image
            .as_deref()
            .ok_or_else(|| Error::invalid("image", "is missing", "--in-cluster --image IMAGE (an image holding this binary)"))?;
        let access = self.access.pod_access()?;
        let namespace = self.namespace.as_deref().unwrap_or("default");
        // A DNS-1123 label, as the API server requires: refused here, before the shards are planned.
        let label = namespace.len() <= 63
            && namespace.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && namespace.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && namespace.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !label {
            return Err(Error::invalid(
                "namespace",
                format!("`{namespace}`"),
                "a Kubernetes namespace: at most 63 lowercase letters, digits and `-`, starting and ending with a letter or digit",
            ));
        }
        let mut job = JobSettings::new(namespace);
        job.image = image.to_owned();
        job.run_as_user = 65532;
        // The whole backup's time: the Job's deadline, and a wait a little longer.
        job.active_deadline = std::time::Duration::from_secs(12 * 3600);
        job.wait_timeout = std::time::Duration::from_secs(12 * 3600 + 300);
        job.service_account = access.service_account;
        let binary = self.shard_command.as_deref().unwrap_or(pods.default_binary);
        let command = std::iter::once(binary.to_owned()).chain(pods.args).chain(access.args).collect();
        let mut settings = ShardJobSettings::new(job, command, access.credentials);
        settings.env = pods.env;
        settings.pod_labels = access.pod_labels;
        if let Some(p) = self.parallelism.as_deref() {
            settings.parallelism = p.parse().map_err(|_| Error::invalid("parallelism", format!("`{p}`"), "1 to 1024 pods at once"))?;
        }
        if self.shards.is_none() {
            return Err(Error::invalid("shards", "is missing", "--in-cluster --shards N"));
        }
        Ok(Some((pods.job_name, settings, self.count()?)))
    }
}

/// `restore --in-cluster`, after the plan and once the target exists: the
/// whole restore's checks in this process first (a complete snapshot of the
/// target's own source, the confirmation an unversioned target needs), then
/// the restore's shard Job (each pod `restore-shard` on its key range), then
/// every key classified again as an in-process restore verifies: the run
/// fails unless nothing is left to write. `what` names the objects (`objects`,
/// `blobs`).
#[cfg(feature = "k8s")]
pub async fn restore_in_cluster(
    store: &dyn deploy::ObjectStore,
    (backup, target): (&deploy::BucketName, &deploy::BucketName),
    options: &deploy::recipes::RestoreBucketOptions,
    job: deploy::k8s::RestoreJob,
    id: &deploy::recipes::SnapshotId,
    what: &str,
) -> deploy::Result<()> {
    use deploy::recipes::{Location, plan_restore, resolve_restore};
    let (from, into) = (Location::new(store, backup), Location::new(store, target));
    resolve_restore(from, into, options).await?;
    let client = deploy::k8s::client_from_env().await.map_err(deploy::Error::from)?;
    let done = match job.run(client, from, &options.layout, id).await {
        Ok(done) => done,
        Err(e) => {
            println!("  the restore is not complete: run it again (a restore writes only what differs)");
            return Err(e.into());
        }
    };
    let after = plan_restore(from, into, options).await?;
    let left = after.missing.count + after.overwrite.count + after.delete.count;
    println!("  restore {id} into {target}: {} shards (Job {}) completed", job.shards(), done.job);
    println!("  verified: {} {what} identical, {left} left to write", after.identical);
    field("report", serde_json::json!({ "job": done.job.to_string(), "shards": job.shards(), "identical": after.identical, "left": left }));
    if left > 0 {
        return Err(deploy::Error::conflict("bucket", target.as_str(), format!("{left} {what} still differ from snapshot {id}")));
    }
    Ok(())
}
