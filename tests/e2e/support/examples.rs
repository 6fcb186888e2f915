//! The examples as real processes: `target/<profile>/examples/NAME`, the
//! binaries `cargo test --workspace --all-features` builds next to this test's
//! own (`cargo build --workspace --all-features --examples` builds them when
//! running the test alone).
//!
//! The AWS examples run in the standard AWS environment pointed at moto, and
//! print `mutating requests: N` last; [`twice`] checks that count against a
//! [`Recorder`] between the example and moto.

use std::path::PathBuf;
use std::process::{Command, Output};

use anyhow::{Context as _, Result, bail, ensure};

use super::fault_proxy::{Captured, FaultConfig, FaultProxy};
use super::{MOTO_REGION, MotoConfig};

/// A recording proxy served by a runtime of its own, so that a test on a
/// current-thread runtime can block on a child process while it serves.
pub struct Recorder {
    /// The proxy, for what it recorded.
    pub proxy: FaultProxy,
    /// The upstream endpoint with the proxy's address in place of the
    /// peer's, its path kept: what to give the examples.
    pub endpoint: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Recorder {
    /// A transparent recording proxy in front of `upstream`
    /// (`http://127.0.0.1:PORT[/path]`).
    pub fn start(upstream: &str) -> Result<Recorder> {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
        let (handle, target) = (runtime.handle().clone(), upstream.to_owned());
        // Started from a plain thread: `block_on` is not allowed on a runtime's own.
        let proxy = std::thread::spawn(move || handle.block_on(FaultProxy::start(&target, FaultConfig::transparent())))
            .join()
            .map_err(|_| anyhow::anyhow!("the proxy thread panicked"))??;
        let path = upstream.parse::<hyper::Uri>()?.path().trim_end_matches('/').to_owned();
        let endpoint = format!("{}{path}", proxy.endpoint());
        Ok(Recorder { proxy, endpoint, runtime: Some(runtime) })
    }

    /// The mutating requests forwarded since the last [`FaultProxy::clear`], as `operation` names.
    pub fn mutating(&self) -> Vec<String> {
        self.proxy.mutating_forwarded().iter().map(Captured::operation).collect()
    }

    /// Fails, naming them, when mutating requests went through since the last
    /// clear, or when nothing did (the count would prove nothing).
    pub fn none_mutating(&self, what: &str) -> Result<()> {
        let mutating = self.mutating();
        ensure!(mutating.is_empty(), "{what} sent {} mutating requests: {mutating:#?}", mutating.len());
        ensure!(!self.proxy.captured().is_empty(), "{what} sent nothing through the proxy: the count would prove nothing");
        Ok(())
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// One finished run of an example.
pub struct Run {
    /// It did not fail: exit 0, or under `--plan` exit 2 (changes pending).
    pub ok: bool,
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The number on the last line `mutating requests: N`, when printed.
    pub mutating: Option<usize>,
}

impl Run {
    pub fn mutating(&self) -> usize {
        self.mutating.unwrap_or_else(|| panic!("no `mutating requests:` line\n{}", self.show()))
    }

    pub fn show(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout, self.stderr)
    }

    pub fn assert_ok(&self, what: &str) -> &Self {
        assert!(self.ok, "{what} failed\n{}", self.show());
        self
    }
}

/// `target/<profile>/examples/NAME`, next to this test binary's `deps/`.
pub fn example_binary(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).context("test binary has no profile directory")?;
    let path = profile_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        bail!(
            "example binary {} is missing: build the examples first (`cargo build --workspace --all-features --examples`, \
             or `cargo test --workspace --all-features`, which builds them)",
            path.display()
        );
    }
    Ok(path)
}

/// Run example `name` with `args` against moto, in the standard AWS environment.
pub fn run(moto: &MotoConfig, name: &str, args: &[&str]) -> Result<Run> {
    run_with_env(moto, name, args, &[])
}

/// As [`run`], with more environment variables (`DEPLOY_LOG=trace`).
pub fn run_with_env(moto: &MotoConfig, name: &str, args: &[&str], env: &[(&str, &str)]) -> Result<Run> {
    let Output { status, stdout, stderr } = command(moto, name, args, env)?.output().with_context(|| format!("running {name}"))?;
    let (stdout, stderr) = (String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned());
    let mutating = stdout.lines().rev().find_map(|l| l.strip_prefix("mutating requests: ")).map(|n| n.trim().parse().expect("a count"));
    let planning = args.contains(&"--plan");
    Ok(Run { ok: status.success() || (planning && status.code() == Some(2)), code: status.code(), stdout, stderr, mutating })
}

/// The command that runs example `name` against moto in the standard AWS
/// environment (for tests that spawn and stop it themselves).
pub fn command(moto: &MotoConfig, name: &str, args: &[&str], env: &[(&str, &str)]) -> Result<Command> {
    let mut command = Command::new(example_binary(name)?);
    command
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_REGION", MOTO_REGION)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    Ok(command)
}

/// A prefix no other test or run uses.
pub fn prefix() -> String {
    format!("e{}", &super::unique_suffix()[..10])
}

/// The shared checks, counted by the example itself (its last line) and by a
/// recording proxy between it and moto, which must agree: `--plan` first makes
/// no mutating request; the first run makes some; the second none and says so;
/// a later `--plan` none.
pub fn twice(moto: &MotoConfig, name: &str, args: &[&str]) -> Result<(Run, Run)> {
    let recorder = Recorder::start(&moto.endpoint)?;
    let through = MotoConfig { endpoint: recorder.endpoint.clone() };
    let counted = |what: &str, args: &[&str]| -> Result<(Run, Vec<String>)> {
        recorder.proxy.clear();
        let r = run(&through, name, args)?;
        r.assert_ok(what);
        let seen = recorder.mutating();
        ensure!(!recorder.proxy.captured().is_empty(), "{what}: nothing reached the proxy\n{}", r.show());
        ensure!(
            r.mutating() == seen.len(),
            "{what}: the example counted {} mutating requests, the proxy {seen:?}\n{}",
            r.mutating(),
            r.show()
        );
        Ok((r, seen))
    };
    let planned: Vec<&str> = args.iter().copied().chain(["--plan"]).collect();
    let (plan, seen) = counted("--plan", &planned)?;
    ensure!(seen.is_empty(), "--plan made mutating requests: {seen:?}\n{}", plan.show());
    ensure!(plan.code == Some(2), "--plan on a fresh prefix did not exit 2 (changes pending): {:?}\n{}", plan.code, plan.show());
    let (first, seen) = counted("the first run", args)?;
    ensure!(!seen.is_empty(), "the first run made no mutating request\n{}", first.show());
    let (second, seen) = counted("the second run", args)?;
    ensure!(seen.is_empty(), "the second run changed something: {seen:?}\n{}\n=== the first run\n{}", second.show(), first.show());
    let (replan, seen) = counted("--plan after the runs", &planned)?;
    ensure!(seen.is_empty() && replan.stdout.contains("(no changes)"), "--plan after the runs still plans changes\n{}", replan.show());
    ensure!(replan.code == Some(0), "--plan with nothing to change did not exit 0: {:?}\n{}", replan.code, replan.show());
    Ok((first, second))
}

/// Bad input: non-zero exit, the field named, no mutating request.
pub fn refuses_bad_prefix(moto: &MotoConfig, name: &str, args: &[&str]) -> Result<()> {
    let bad = run(moto, name, &[args, &["--prefix", "UPPER_case"]].concat())?;
    ensure!(!bad.ok, "a bad prefix was accepted\n{}", bad.show());
    ensure!(bad.stderr.contains("prefix"), "the error does not name the field `prefix`\n{}", bad.show());
    ensure!(bad.mutating.unwrap_or(0) == 0, "a bad prefix made requests\n{}", bad.show());
    Ok(())
}
