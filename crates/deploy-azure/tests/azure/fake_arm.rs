//! An in-test fake of Azure Resource Manager: a wiremock server with a
//! resource store, long-running operations the way ARM runs them
//! (201 + `Azure-AsyncOperation`, or 202 + `Location`, with `Retry-After`),
//! ARM error bodies, and injected throttling and failures.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use deploy_azure::arm::ArmClient;
use serde_json::{Value, json};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

/// The subscription of the fake.
pub const SUBSCRIPTION: &str = "00000000-0000-4000-8000-000000000001";

/// How the fake answers a PUT, PATCH or DELETE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lro {
    /// 200 with the final resource.
    Sync,
    /// 201 (202 for DELETE) with `Azure-AsyncOperation`, polled `polls` times as InProgress.
    AsyncOperation { polls: u32, retry_after: u32 },
    /// 202 with `Location`, answering 202 `polls` times.
    Location { polls: u32 },
}

#[derive(Default)]
struct State {
    resources: HashMap<String, Value>,
    operations: HashMap<String, (u32, Option<Value>)>,
    next_op: u32,
    lro: Option<Lro>,
    throttle: u32,
    fail: Option<(u16, Value)>,
    fail_operation: Option<Value>,
    poll_retry_after: u32,
    requests: Vec<(String, String)>,
}

/// The fake and its state.
#[derive(Clone)]
pub struct FakeArm {
    pub server: Arc<MockServer>,
    state: Arc<Mutex<State>>,
}

struct Responder {
    state: Arc<Mutex<State>>,
    base: String,
}

fn arm_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({ "error": { "code": code, "message": message } }))
}

fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b.clone(),
    }
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.state.lock().unwrap();
        let path = request.url.path().to_owned();
        let method = request.method.to_string();
        state.requests.push((method.clone(), path.clone()));
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if auth != "Bearer fake-arm-token" {
            return arm_error(401, "AuthenticationFailed", "no bearer token");
        }
        if let Some(id) = path.strip_prefix("/operations/") {
            let (left, failure) = state.operations.get(id).cloned().unwrap_or((0, None));
            if left > 0 {
                state.operations.insert(id.to_owned(), (left - 1, failure));
                return ResponseTemplate::new(200)
                    .insert_header("retry-after", "1")
                    .set_body_json(json!({ "status": "InProgress" }));
            }
            return match failure {
                Some(error) => ResponseTemplate::new(200)
                    .set_body_json(json!({ "status": "Failed", "error": error })),
                None => ResponseTemplate::new(200).set_body_json(json!({ "status": "Succeeded" })),
            };
        }
        if let Some(id) = path.strip_prefix("/locations/") {
            let (left, _) = state.operations.get(id).cloned().unwrap_or((0, None));
            if left > 0 {
                state.operations.insert(id.to_owned(), (left - 1, None));
                return ResponseTemplate::new(202).insert_header("retry-after", "0");
            }
            return ResponseTemplate::new(200);
        }
        if !request
            .url
            .query_pairs()
            .any(|(k, v)| k == "api-version" && !v.is_empty())
        {
            return arm_error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            );
        }
        let key = path.to_ascii_lowercase();
        if method != "GET" && state.throttle > 0 {
            state.throttle -= 1;
            return arm_error(429, "TooManyRequests", "The request is being throttled.")
                .insert_header("retry-after", "0");
        }
        if method != "GET"
            && let Some((status, body)) = state.fail.take()
        {
            return ResponseTemplate::new(status).set_body_json(body);
        }
        let lro = state.lro.unwrap_or(Lro::Sync);
        let start_operation = |state: &mut State, polls: u32| {
            state.next_op += 1;
            let id = format!("op{}", state.next_op);
            let failure = state.fail_operation.take();
            state.operations.insert(id.clone(), (polls, failure));
            id
        };
        match method.as_str() {
            "GET" => match state.resources.get(&key) {
                Some(v) => ResponseTemplate::new(200).set_body_json(v),
                None => arm_error(
                    404,
                    "ResourceNotFound",
                    &format!("The Resource '{path}' was not found."),
                ),
            },
            "PUT" | "PATCH" => {
                let body: Value = serde_json::from_slice(&request.body).unwrap_or(json!({}));
                if method == "PATCH" && !state.resources.contains_key(&key) {
                    return arm_error(404, "ResourceNotFound", "not found");
                }
                let mut resource = state.resources.get(&key).cloned().unwrap_or_else(
                    || json!({ "id": path, "name": path.rsplit('/').next().unwrap() }),
                );
                merge(&mut resource, &body);
                if resource.get("properties").is_none() {
                    resource["properties"] = json!({});
                }
                resource["properties"]["provisioningState"] = json!("Succeeded");
                if let Some(mode) = resource
                    .pointer("/properties/createMode")
                    .and_then(Value::as_str)
                    && mode == "PointInTimeRestore"
                {
                    resource["properties"]["state"] = json!("Ready");
                }
                state.resources.insert(key, resource.clone());
                match lro {
                    Lro::Sync => ResponseTemplate::new(200).set_body_json(resource),
                    Lro::AsyncOperation { polls, retry_after } => {
                        let id = start_operation(&mut state, polls);
                        resource["properties"]["provisioningState"] = json!("Accepted");
                        ResponseTemplate::new(201)
                            .insert_header(
                                "azure-asyncoperation",
                                format!("{}/operations/{id}", self.base).as_str(),
                            )
                            .insert_header("retry-after", retry_after.to_string().as_str())
                            .set_body_json(resource)
                    }
                    Lro::Location { polls } => {
                        let id = start_operation(&mut state, polls);
                        ResponseTemplate::new(202)
                            .insert_header(
                                "location",
                                format!("{}/locations/{id}", self.base).as_str(),
                            )
                            .insert_header("retry-after", "0")
                    }
                }
            }
            "DELETE" => {
                let existed = state.resources.remove(&key).is_some();
                let children: Vec<String> = state
                    .resources
                    .keys()
                    .filter(|k| k.starts_with(&format!("{key}/")))
                    .cloned()
                    .collect();
                for c in children {
                    state.resources.remove(&c);
                }
                if !existed {
                    return ResponseTemplate::new(204);
                }
                match lro {
                    Lro::Sync => ResponseTemplate::new(200),
                    Lro::AsyncOperation { polls, .. } => {
                        let id = start_operation(&mut state, polls);
                        ResponseTemplate::new(202)
                            .insert_header(
                                "azure-asyncoperation",
                                format!("{}/operations/{id}", self.base).as_str(),
                            )
                            .insert_header("retry-after", "0")
                    }
                    Lro::Location { polls } => {
                        let id = start_operation(&mut state, polls);
                        ResponseTemplate::new(202)
                            .insert_header(
                                "location",
                                format!("{}/locations/{id}", self.base).as_str(),
                            )
                            .insert_header("retry-after", "0")
                    }
                }
            }
            "POST" if key.ends_with("/listclusterusercredential") => {
                let cluster = key.trim_end_matches("/listclusterusercredential");
                match state.resources.get(cluster) {
                    None => arm_error(404, "ResourceNotFound", "no cluster"),
                    Some(c) => {
                        let fqdn = c
                            .pointer("/properties/fqdn")
                            .and_then(Value::as_str)
                            .unwrap_or("fake.hcp.westeurope.azmk8s.io")
                            .to_owned();
                        let kubeconfig = format!(
                            "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: Q0E=\n    server: https://{fqdn}:443\n  name: c\nusers:\n- name: u\n  user:\n    token: SENTINEL-kube-token\n"
                        );
                        use base64::Engine as _;
                        let value = base64::engine::general_purpose::STANDARD.encode(kubeconfig);
                        ResponseTemplate::new(200).set_body_json(
                            json!({ "kubeconfigs": [{ "name": "clusterUser", "value": value }] }),
                        )
                    }
                }
            }
            _ => arm_error(405, "MethodNotAllowed", "unsupported"),
        }
    }
}

#[derive(Debug)]
struct FakeToken;

#[async_trait::async_trait]
impl TokenCredential for FakeToken {
    async fn get_token(
        &self,
        scopes: &[&str],
        _: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        assert_eq!(scopes, ["https://management.azure.com/.default"]);
        Ok(AccessToken::new(
            Secret::new("fake-arm-token"),
            azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
        ))
    }
}

/// A token credential that hands out a fixed token.
pub fn fake_token() -> Arc<dyn TokenCredential> {
    Arc::new(FakeToken)
}

impl FakeArm {
    /// Start a fake.
    pub async fn start() -> FakeArm {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State::default()));
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(Responder {
                state: state.clone(),
                base: server.uri(),
            })
            .mount(&server)
            .await;
        FakeArm {
            server: Arc::new(server),
            state,
        }
    }

    /// A client of the fake with quick polls and retries.
    pub fn client(&self) -> ArmClient {
        ArmClient::builder(SUBSCRIPTION, fake_token())
            .endpoint(self.server.uri())
            .quick_retries()
            .waiter(
                deploy_core::Waiter::new(std::time::Duration::from_secs(30)).with_delays(
                    std::time::Duration::from_millis(10),
                    std::time::Duration::from_millis(50),
                ),
            )
            .build()
            .unwrap()
    }

    /// Answer mutations this way from now on.
    pub fn set_lro(&self, lro: Lro) {
        let mut state = self.state.lock().unwrap();
        state.lro = Some(lro);
        if let Lro::AsyncOperation { retry_after, .. } = lro {
            state.poll_retry_after = retry_after;
        }
    }

    /// Answer the next `n` mutations 429.
    pub fn throttle(&self, n: u32) {
        self.state.lock().unwrap().throttle = n;
    }

    /// Answer the next mutation with this status and body.
    pub fn fail_next(&self, status: u16, body: Value) {
        self.state.lock().unwrap().fail = Some((status, body));
    }

    /// End the next long-running operation `Failed` with this error.
    pub fn fail_next_operation(&self, error: Value) {
        self.state.lock().unwrap().fail_operation = Some(error);
    }

    /// Put a resource in the store as if it existed.
    pub fn seed(&self, path: &str, resource: Value) {
        self.state
            .lock()
            .unwrap()
            .resources
            .insert(path.to_ascii_lowercase(), resource);
    }

    /// A stored resource.
    pub fn resource(&self, path: &str) -> Option<Value> {
        self.state
            .lock()
            .unwrap()
            .resources
            .get(&path.to_ascii_lowercase())
            .cloned()
    }

    /// How many requests of `method` were made (all paths).
    pub fn count(&self, method: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|(m, _)| m == method)
            .count()
    }

    /// The requests made so far, as `METHOD path`.
    pub fn requests(&self) -> Vec<String> {
        self.state
            .lock()
            .unwrap()
            .requests
            .iter()
            .map(|(m, p)| format!("{m} {p}"))
            .collect()
    }

    /// Forget the requests made so far.
    pub fn reset_requests(&self) {
        self.state.lock().unwrap().requests.clear();
    }
}
