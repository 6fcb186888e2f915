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

fn status(code: u16, reason: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": reason, "message": reason, "code": code})).unwrap()
}

fn success() -> Vec<u8> {
    serde_json::to_vec(&json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 200})).unwrap()
}

fn finished_job(condition: &str, reason: &str) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": JOB, "namespace": "ns", "resourceVersion": "7"},
        "status": {"conditions": [{"type": condition, "status": "True", "reason": reason}]}
    })
}

const JOBS: &str = "/apis/batch/v1/namespaces/ns/jobs";
const SECRETS: &str = "/api/v1/namespaces/ns/secrets";
const CONFIG_MAPS: &str = "/api/v1/namespaces/ns/configmaps";

async fn play(handle: &mut ApiHandle, job: Value, logs: &str) -> Vec<(String, Value)> {
    let mut deletes = Vec::new();
    expect(handle, Method::GET, &format!("{JOBS}/{JOB}"), 404, status(404, "NotFound")).await;
    expect(handle, Method::DELETE, &format!("{SECRETS}/{JOB}-env"), 404, status(404, "NotFound")).await;
    expect(handle, Method::DELETE, &format!("{CONFIG_MAPS}/{JOB}-files"), 404, status(404, "NotFound")).await;
    let (_, secret) = expect(handle, Method::POST, SECRETS, 201, Vec::new()).await;
    let secret: Value = serde_json::from_slice(&secret).unwrap();
    assert_eq!(secret["stringData"]["PGPASSWORD"], ADMIN_PASSWORD);
    let (_, _) = expect(handle, Method::POST, CONFIG_MAPS, 201, Vec::new()).await;
    expect(handle, Method::POST, JOBS, 201, Vec::new()).await;
    let list = json!({"apiVersion": "batch/v1", "kind": "JobList", "metadata": {"resourceVersion": "7"}, "items": [job]});
    expect(handle, Method::GET, &format!("{JOBS}?&fieldSelector=metadata.name%3D{JOB}"), 200, serde_json::to_vec(&list).unwrap()).await;
    let pods = json!({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "8"}, "items": [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("{JOB}-x1"), "namespace": "ns", "labels": {"job-name": JOB}}}
    ]});
    expect(handle, Method::GET, "/api/v1/namespaces/ns/pods?&labelSelector=job-name%3Dvectice-databases", 200, serde_json::to_vec(&pods).unwrap()).await;
    expect(handle, Method::GET, &format!("/api/v1/namespaces/ns/pods/{JOB}-x1/log?&container=pg"), 200, logs.as_bytes().to_vec()).await;
    for path in [format!("{JOBS}/{JOB}"), format!("{SECRETS}/{JOB}-env"), format!("{CONFIG_MAPS}/{JOB}-files")] {
        let (_, body) = expect(handle, Method::DELETE, &path, 200, success()).await;
        deletes.push((path, serde_json::from_slice(&body).unwrap_or(Value::Null)));
    }
    deletes
}

#[tokio::test]
async fn a_successful_run_makes_exactly_these_requests() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, "ns");
    let job = DatabaseBootstrapJob::new(JOB, endpoint(), vectice_spec("", ROLE_PASSWORD), settings()).unwrap();
    let run = tokio::spawn(async move { job.run(client).await });
    let deletes = play(&mut handle, finished_job("Complete", "Completed"), "deploy-change: + create database vectice\n").await;
    let outcome = run.await.unwrap().unwrap();
    assert_eq!(outcome.changes, ["+ create database vectice"]);
    assert_eq!(deletes[0].1["propagationPolicy"], "Background", "the job's pods are deleted with it");
}

#[tokio::test]
async fn a_failed_run_cleans_up_and_reports_the_error_lines() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, "ns");
    let job = DatabaseBootstrapJob::new(JOB, endpoint(), vectice_spec("", ROLE_PASSWORD), settings()).unwrap();
    let run = tokio::spawn(async move { job.run(client).await });
    let logs = "psql:/etc/deploy/bootstrap.sql:3: ERROR:  role \"x\" does not exist\n";
    play(&mut handle, finished_job("Failed", "BackoffLimitExceeded"), logs).await;
    let err = run.await.unwrap().unwrap_err();
    assert!(matches!(&err, Error::JobFailed { errors, .. } if errors == &["psql:/etc/deploy/bootstrap.sql:3: ERROR:  role \"x\" does not exist"]), "{err:?}");
}

#[tokio::test]
async fn an_api_error_on_create_still_cleans_up() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, "ns");
    let job = DatabaseBootstrapJob::new(JOB, endpoint(), vectice_spec("", ROLE_PASSWORD), settings()).unwrap();
    let run = tokio::spawn(async move { job.run(client).await });
    expect(&mut handle, Method::GET, &format!("{JOBS}/{JOB}"), 404, status(404, "NotFound")).await;
    expect(&mut handle, Method::DELETE, &format!("{SECRETS}/{JOB}-env"), 404, status(404, "NotFound")).await;
    expect(&mut handle, Method::DELETE, &format!("{CONFIG_MAPS}/{JOB}-files"), 404, status(404, "NotFound")).await;
    expect(&mut handle, Method::POST, SECRETS, 201, Vec::new()).await;
    expect(&mut handle, Method::POST, CONFIG_MAPS, 403, status(403, "Forbidden")).await;
    expect(&mut handle, Method::DELETE, &format!("{JOBS}/{JOB}"), 404, status(404, "NotFound")).await;
    expect(&mut handle, Method::DELETE, &format!("{SECRETS}/{JOB}-env"), 200, success()).await;
    expect(&mut handle, Method::DELETE, &format!("{CONFIG_MAPS}/{JOB}-files"), 404, status(404, "NotFound")).await;
    let err = run.await.unwrap().unwrap_err();
    assert!(matches!(&err, Error::Kube { operation, .. } if operation.contains("create configmap")), "{err:?}");
}
