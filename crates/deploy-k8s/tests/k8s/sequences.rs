//! The Job flow as exact request sequences, with `tower-test`.

use http::{Method, Request, Response};
use kube::client::Body;
use serde_json::{Value, json};
use tower_test::mock::{Handle, pair};

use deploy_k8s::{DatabaseBootstrapJob, Error};

use crate::support::{ADMIN_PASSWORD, ROLE_PASSWORD, endpoint, settings, vectice_spec};

const JOB: &str = "vectice-databases";

type ApiHandle = Handle<Request<Body>, Response<Body>>;

/// Take the next request, check its method and path (and query prefix), answer `status` with `body`
/// (an empty `body`: the request's own body, as a create answers).
async fn expect(handle: &mut ApiHandle, method: Method, path_and_query: &str, status: u16, body: Vec<u8>) -> (Request<Body>, Vec<u8>) {
    let (request, send) = handle.next_request().await.expect("a request");
    let (parts, req_body) = request.into_parts();
    let got = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    assert_eq!(parts.method, method, "{got}");
    assert!(got.starts_with(path_and_query), "expected {method} {path_and_query}, got {got}");
    let bytes = http_body_util::BodyExt::collect(req_body).await.unwrap().to_bytes().to_vec();
    let body = if body.is_empty() { bytes.clone() } else { body };
    send.send_response(Response::builder().status(status).body(Body::from(body)).unwrap());
    (Request::from_parts(parts, Body::empty()), bytes)
}

fn status_body(code: u16, reason: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": reason, "message": reason, "code": code})).unwrap()
}

fn success() -> Vec<u8> {
    serde_json::to_vec(&json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 200})).unwrap()
}

fn finished_job(run: &str, condition: &str, reason: &str) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": run, "namespace": "ns", "resourceVersion": "7", "uid": "uid-job"},
        "status": {"conditions": [{"type": condition, "status": "True", "reason": reason}]}
    })
}

const JOBS: &str = "/apis/batch/v1/namespaces/ns/jobs";
const SECRETS: &str = "/api/v1/namespaces/ns/secrets";
const CONFIG_MAPS: &str = "/api/v1/namespaces/ns/configmaps";
const RUNS: &str = "?&labelSelector=app.kubernetes.io%2Fmanaged-by%3Ddeploy%2Capp.kubernetes.io%2Fname%3Dvectice-databases";

fn empty_list() -> Vec<u8> {
    serde_json::to_vec(&json!({"apiVersion": "batch/v1", "kind": "JobList", "metadata": {"resourceVersion": "1"}, "items": []})).unwrap()
}

/// Take the next request, a create at `path`; answer 201 with its body and `uid`. Answers the body.
async fn expect_create(handle: &mut ApiHandle, path: &str, uid: &str) -> Value {
    let (request, send) = handle.next_request().await.expect("a request");
    let (parts, body) = request.into_parts();
    assert_eq!((parts.method.clone(), parts.uri.path()), (Method::POST, path), "{:?}", parts.uri);
    let mut object: Value = serde_json::from_slice(&http_body_util::BodyExt::collect(body).await.unwrap().to_bytes()).unwrap();
    let sent = object.clone();
    object["metadata"]["uid"] = json!(uid);
    send.send_response(Response::builder().status(201).body(Body::from(serde_json::to_vec(&object).unwrap())).unwrap());
    sent
}

fn owned_by_the_job(object: &Value, run: &str) {
    assert_eq!(
        object["metadata"]["ownerReferences"],
        json!([{"apiVersion": "batch/v1", "kind": "Job", "name": run, "uid": "uid-job"}]),
        "{object}"
    );
}

/// The requests of one run, up to the clean-up; answers the run's name.
async fn create(handle: &mut ApiHandle) -> String {
    expect(handle, Method::GET, &format!("{JOBS}{RUNS}"), 200, empty_list()).await;
    let job = expect_create(handle, JOBS, "uid-job").await;
    let run = job["metadata"]["name"].as_str().unwrap().to_owned();
    assert!(run.starts_with("vectice-databases-"), "{run}");
    let secret = expect_create(handle, SECRETS, "uid-secret").await;
    assert_eq!(secret["metadata"]["name"], format!("{run}-env"));
    assert_eq!(secret["stringData"]["PGPASSWORD"], ADMIN_PASSWORD);
    owned_by_the_job(&secret, &run);
    let config_map = expect_create(handle, CONFIG_MAPS, "uid-configmap").await;
    owned_by_the_job(&config_map, &run);
    run
}

/// A delete at `path` on the precondition of `uid`, with background propagation.
async fn expect_delete(handle: &mut ApiHandle, path: &str, uid: &str, status: u16) {
    let body = if status == 200 { success() } else { status_body(status, "NotFound") };
    let (_, sent) = expect(handle, Method::DELETE, path, status, body).await;
    let sent: Value = serde_json::from_slice(&sent).unwrap();
    assert_eq!(sent["preconditions"], json!({"uid": uid}), "{path}: {sent}");
    assert_eq!(sent["propagationPolicy"], "Background", "{path}: {sent}");
}

async fn play(handle: &mut ApiHandle, condition: &str, reason: &str, logs: &str) {
    let run = create(handle).await;
    let list = json!({"apiVersion": "batch/v1", "kind": "JobList", "metadata": {"resourceVersion": "7"}, "items": [finished_job(&run, condition, reason)]});
    expect(handle, Method::GET, &format!("{JOBS}?&fieldSelector=metadata.name%3D{run}"), 200, serde_json::to_vec(&list).unwrap()).await;
    let pods = json!({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "8"}, "items": [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("{run}-x1"), "namespace": "ns", "labels": {"job-name": run}}}
    ]});
    expect(
        handle,
        Method::GET,
        &format!("/api/v1/namespaces/ns/pods?&labelSelector=job-name%3D{run}"),
        200,
        serde_json::to_vec(&pods).unwrap(),
    )
    .await;
    expect(handle, Method::GET, &format!("/api/v1/namespaces/ns/pods/{run}-x1/log?&container=pg"), 200, logs.as_bytes().to_vec()).await;
    expect_delete(handle, &format!("{JOBS}/{run}"), "uid-job", 200).await;
    expect_delete(handle, &format!("{SECRETS}/{run}-env"), "uid-secret", 200).await;
    expect_delete(handle, &format!("{CONFIG_MAPS}/{run}-files"), "uid-configmap", 200).await;
}

#[tokio::test]
async fn a_successful_run_makes_exactly_these_requests() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, "ns");
    let job = DatabaseBootstrapJob::new(JOB, endpoint(), vectice_spec("", ROLE_PASSWORD), settings()).unwrap();
    let run = tokio::spawn(async move { job.run(client).await });
    play(&mut handle, "Complete", "Completed", "deploy-change: + create database vectice\n").await;
    let outcome = run.await.unwrap().unwrap();
    assert_eq!(outcome.changes, ["+ create database vectice"]);
}

#[tokio::test]
async fn a_failed_run_cleans_up_and_reports_the_error_lines() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, "ns");
    let job = DatabaseBootstrapJob::new(JOB, endpoint(), vectice_spec("", ROLE_PASSWORD), settings()).unwrap();
    let run = tokio::spawn(async move { job.run(client).await });
    let logs = "psql:/etc/deploy/bootstrap.sql:3: ERROR:  role \"x\" does not exist\n";
    play(&mut handle, "Failed", "BackoffLimitExceeded", logs).await;
    let err = run.await.unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::JobFailed { errors, .. } if errors == &["psql:/etc/deploy/bootstrap.sql:3: ERROR:  role \"x\" does not exist"]),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_api_error_on_create_still_cleans_up_what_was_created() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, "ns");
    let job = DatabaseBootstrapJob::new(JOB, endpoint(), vectice_spec("", ROLE_PASSWORD), settings()).unwrap();
    let run = tokio::spawn(async move { job.run(client).await });
    expect(&mut handle, Method::GET, &format!("{JOBS}{RUNS}"), 200, empty_list()).await;
    let job = expect_create(&mut handle, JOBS, "uid-job").await;
    let run_name = job["metadata"]["name"].as_str().unwrap().to_owned();
    expect_create(&mut handle, SECRETS, "uid-secret").await;
    expect(&mut handle, Method::POST, CONFIG_MAPS, 403, status_body(403, "Forbidden")).await;
    // The Job (its pods with it) and the Secret: exactly what this run created; the ConfigMap never existed.
    expect_delete(&mut handle, &format!("{JOBS}/{run_name}"), "uid-job", 200).await;
    expect_delete(&mut handle, &format!("{SECRETS}/{run_name}-env"), "uid-secret", 404).await;
    let err = run.await.unwrap().unwrap_err();
    assert!(matches!(&err, Error::Kube { operation, .. } if operation.contains("create configmap")), "{err:?}");
    assert!(handle.next_request().await.is_none(), "a request after the clean-up");
}

#[tokio::test]
async fn a_running_run_of_the_job_refuses_the_next_before_it_creates_anything() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, "ns");
    let job = DatabaseBootstrapJob::new(JOB, endpoint(), vectice_spec("", ROLE_PASSWORD), settings()).unwrap();
    let run = tokio::spawn(async move { job.run(client).await });
    let running = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "vectice-databases-abcde", "namespace": "ns", "uid": "other"}});
    let list = json!({"apiVersion": "batch/v1", "kind": "JobList", "metadata": {"resourceVersion": "3"}, "items": [running]});
    expect(&mut handle, Method::GET, &format!("{JOBS}{RUNS}"), 200, serde_json::to_vec(&list).unwrap()).await;
    let err = run.await.unwrap().unwrap_err();
    assert!(matches!(&err, Error::AlreadyRunning { job } if job == "vectice-databases-abcde"), "{err:?}");
    assert!(handle.next_request().await.is_none(), "nothing after the refusal");
}
