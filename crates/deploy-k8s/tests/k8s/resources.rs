//! The objects a run creates: restricted pod security, secrets only in the Secret.

use deploy_k8s::{DatabaseBootstrapJob, PgCopyJob, minimal_role_yaml};

use crate::support::{ADMIN_PASSWORD, ROLE_PASSWORD, endpoint, settings, vectice_spec};

fn check_restricted(job: &k8s_openapi::api::batch::v1::Job) {
    let spec = job.spec.as_ref().unwrap();
    assert_eq!(spec.backoff_limit, Some(0));
    assert_eq!(spec.active_deadline_seconds, Some(60));
    assert_eq!(spec.ttl_seconds_after_finished, Some(3600));
    let pod = spec.template.spec.as_ref().unwrap();
    assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    assert_eq!(pod.automount_service_account_token, Some(false));
    let psc = pod.security_context.as_ref().unwrap();
    assert_eq!(psc.run_as_non_root, Some(true));
    assert_eq!(psc.seccomp_profile.as_ref().unwrap().type_, "RuntimeDefault");
    let c = &pod.containers[0];
    let sc = c.security_context.as_ref().unwrap();
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    assert_eq!(sc.read_only_root_filesystem, Some(true));
    assert_eq!(sc.run_as_non_root, Some(true));
    assert_eq!(sc.capabilities.as_ref().unwrap().drop.as_deref(), Some(&["ALL".to_owned()][..]));
    assert_eq!(sc.seccomp_profile.as_ref().unwrap().type_, "RuntimeDefault");
    // Nothing secret in the pod spec: no password in env values or argv.
    let text = serde_json::to_string(job).unwrap();
    assert!(!text.contains("SENTINEL"), "{text}");
    assert!(!text.contains("SCRAM-SHA-256"));
}

#[test]
fn the_bootstrap_job_is_restricted_and_secrets_go_only_to_the_secret() {
    let job = DatabaseBootstrapJob::new("vectice-databases", endpoint(), vectice_spec("", ROLE_PASSWORD), settings()).unwrap();
    let r = job.resources().unwrap();
    check_restricted(&r.job);
    let c = &r.job.spec.as_ref().unwrap().template.spec.as_ref().unwrap().containers[0];
    assert_eq!(c.command.as_ref().unwrap(), &["psql", "-X", "-v", "ON_ERROR_STOP=1", "-f", "/etc/deploy/bootstrap.sql"]);
    let env: Vec<(String, String)> =
        c.env.as_ref().unwrap().iter().map(|e| (e.name.clone(), e.value.clone().unwrap_or_default())).collect();
    assert!(env.contains(&("PGSSLMODE".into(), "verify-full".into())));
    assert!(env.contains(&("PGSSLROOTCERT".into(), "/etc/deploy/ca.crt".into())));
    assert!(!env.iter().any(|(k, _)| k == "PGPASSWORD"), "the password comes from the Secret only");
    // Each run is named `vectice-databases-xxxxx`; its Secret and ConfigMap after it.
    let run = r.job.metadata.name.clone().unwrap();
    assert!(run.starts_with("vectice-databases-") && run.len() == "vectice-databases".len() + 6, "{run}");
    assert_eq!(c.env_from.as_ref().unwrap()[0].secret_ref.as_ref().unwrap().name, format!("{run}-env"));
    assert_eq!(r.secret.metadata.name.as_deref(), Some(format!("{run}-env").as_str()));
    assert_eq!(r.config_map.metadata.name.as_deref(), Some(format!("{run}-files").as_str()));
    let labels = r.job.metadata.labels.as_ref().unwrap();
    assert_eq!(labels["app.kubernetes.io/name"], "vectice-databases");
    assert_eq!(labels["app.kubernetes.io/instance"], run);
    assert_ne!(job.resources().unwrap().job.metadata.name, r.job.metadata.name, "two runs, two names");

    let data = r.secret.string_data.as_ref().unwrap();
    assert_eq!(data["PGPASSWORD"], ADMIN_PASSWORD);
    assert!(data["DEPLOY_ROLE_VERIFIER_0"].starts_with("SCRAM-SHA-256$4096:"));
    assert!(!data.values().any(|v| v.contains(ROLE_PASSWORD)), "role passwords travel as verifiers");
    let files = r.config_map.data.as_ref().unwrap();
    assert!(files["bootstrap.sql"].contains("\\gexec"));
    assert!(files["ca.crt"].contains("BEGIN CERTIFICATE"));
    assert!(!serde_json::to_string(&r.config_map).unwrap().contains("SENTINEL"));
    // Debug of the job and of its objects holds no secret either.
    assert!(!format!("{job:?}").contains("SENTINEL"));
    let debug = format!("{r:?}");
    assert!(!debug.contains("SENTINEL") && !debug.contains("SCRAM-SHA-256$") && debug.contains("PGPASSWORD"), "{debug}");
}

#[test]
fn the_copy_job_is_restricted_and_both_passwords_go_only_to_the_secret() {
    let mut source = endpoint();
    source.host = "restored.internal.example".into();
    source.password = "SENTINEL-source".to_owned().into();
    let copy = PgCopyJob::new("simphera-restore", source, endpoint(), settings()).unwrap();
    let r = copy.resources();
    check_restricted(&r.job);
    let data = r.secret.string_data.as_ref().unwrap();
    assert_eq!(data["SOURCE_PGPASSWORD"], "SENTINEL-source");
    assert_eq!(data["TARGET_PGPASSWORD"], ADMIN_PASSWORD);
    let script = &r.config_map.data.as_ref().unwrap()["copy.sh"];
    assert!(script.contains("pg_dump -Fc") && script.contains("pg_restore --clean --if-exists --single-transaction"));
    assert!(script.contains("set -euo pipefail"));
}

#[test]
fn bad_job_names_and_settings_are_refused_before_any_request() {
    let err = DatabaseBootstrapJob::new("Not_A_Label", endpoint(), vectice_spec("", ROLE_PASSWORD), settings()).unwrap_err();
    assert!(matches!(err, deploy_k8s::Error::Invalid(_)), "{err:?}");
    let no_wait = deploy_k8s::JobSettings { wait_timeout: std::time::Duration::ZERO, ..settings() };
    let err = DatabaseBootstrapJob::new("vectice-databases", endpoint(), vectice_spec("", ROLE_PASSWORD), no_wait.clone()).unwrap_err();
    assert_eq!(deploy_core::Error::from(err).invalid_field(), Some("settings.wait_timeout"));
    let mut source = endpoint();
    source.password = "SENTINEL-source".to_owned().into();
    assert!(PgCopyJob::new("copy", source.clone(), endpoint(), no_wait).is_err());
    // A copy into its own source (same host, port and database) is refused, naming the target.
    let err = PgCopyJob::new("copy", source, endpoint(), settings()).unwrap_err();
    assert_eq!(deploy_core::Error::from(err).invalid_field(), Some("target"));
}

#[test]
fn the_minimal_role_covers_exactly_what_a_run_calls() {
    let yaml = minimal_role_yaml("vectice", "deploy-database-jobs");
    for needle in [
        "kind: Role",
        "namespace: \"vectice\"",
        "resources: [\"secrets\", \"configmaps\"]\n  verbs: [\"create\", \"delete\"]",
        "resources: [\"jobs\"]\n  verbs: [\"create\", \"list\", \"watch\", \"delete\"]",
        "resources: [\"pods\"]\n  verbs: [\"list\"]",
        "resources: [\"pods/log\"]\n  verbs: [\"get\"]",
    ] {
        assert!(yaml.contains(needle), "{needle}\n{yaml}");
    }
    assert!(!yaml.contains("ClusterRole") && !yaml.contains('*'));
}
