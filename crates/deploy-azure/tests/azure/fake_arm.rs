//! An in-test fake of Azure Resource Manager: a wiremock server with a
//! resource store that
//! - checks every request against the contract of its resource type
//!   ([`super::contract`], written from the public REST API specs at the
//!   client's api-versions) and answers 400 naming each broken rule's property
//!   path (also kept: [`FakeArm::violations`]);
//! - answers in the spec's shapes: status codes of the operation, and its
//!   long-running style (201/200 + `Azure-AsyncOperation`, or 202 +
//!   `Location`, with `Retry-After`), unless a test picks one ([`Lro`]);
//! - behaves like the services where it matters: a PUT replaces the resource
//!   (a blob-service PUT without CORS rules deletes them, a subnet PUT without
//!   its NSG removes it); AKS refuses a managed-cluster PUT that introduces a
//!   pool and keeps pools as `agentPools` children ([`FakeArm::autoscale`]
//!   moves a pool's `count` as the autoscaler does); a role assignment is not
//!   readable for a few GETs after its 201 (replication); a container PUT does
//!   not update an existing container; a flexible server can be `Stopped`;
//!   a diagnostic setting is not deleted with the resource it monitors (an
//!   extension resource under a cluster is not the cluster);
//! - injects throttling, failures and slow answers.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use deploy_azure::arm::ArmClient;
use serde_json::{Value, json};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use super::contract::{Contracts, Mode};

/// The subscription of the fake.
pub const SUBSCRIPTION: &str = "00000000-0000-4000-8000-000000000001";

/// Reads of a new role assignment that do not show it yet (replication lag): its GETs answer 404, listings leave it out.
pub const ROLE_ASSIGNMENT_LAG: u32 = 5;

/// How the fake answers a PUT, PATCH, DELETE or POST action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lro {
    /// As the operation's spec says (the default).
    Spec,
    /// 200 with the final resource.
    Sync,
    /// 201 (202 for DELETE) with `Azure-AsyncOperation`, polled `polls` times as InProgress.
    AsyncOperation { polls: u32, retry_after: u32 },
    /// 202 with `Location`, answering 202 `polls` times.
    Location { polls: u32 },
    /// 202 without any polling header (a DELETE some services answer so).
    Bare,
}

struct State {
    resources: HashMap<String, Value>,
    operations: HashMap<String, (u32, Option<Value>)>,
    next_op: u32,
    lro: Lro,
    spec_polls: u32,
    throttle: u32,
    fail: Option<(u16, Value)>,
    fail_operation: Option<Value>,
    poll_delay: Option<Duration>,
    polling_base: Option<String>,
    lose_operations: bool,
    role_lag: u32,
    lag: HashMap<String, u32>,
    requests: Vec<(String, String, Option<Value>)>,
    violations: Vec<String>,
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

fn contracts() -> &'static Contracts {
    static CONTRACTS: OnceLock<Contracts> = OnceLock::new();
    CONTRACTS.get_or_init(Contracts::load)
}

fn arm_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "error": { "code": code, "message": message } }))
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

/// Whether `key` is a managed cluster itself: not one of its agent pools, nor
/// an extension resource under it (`.../managedclusters/c/providers/microsoft.insights/...`).
fn is_cluster(key: &str) -> bool {
    key.split_once("/providers/microsoft.containerservice/managedclusters/")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.contains('/'))
}

/// Whether `key` is a diagnostic setting: an extension resource that Azure
/// keeps when the resource it monitors (or its group) is deleted.
fn is_diagnostic_setting(key: &str) -> bool {
    key.contains("/providers/microsoft.insights/diagnosticsettings/")
}

fn pools_of(state: &State, cluster: &str) -> Vec<(String, Value)> {
    let prefix = format!("{cluster}/agentpools/");
    let mut pools: Vec<(String, Value)> = state
        .resources
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix) && !k[prefix.len()..].contains('/'))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    pools.sort_by(|a, b| a.0.cmp(&b.0));
    pools
}

/// Whether `key` is a virtual network itself (not one of its subnets or peerings).
fn is_virtual_network(key: &str) -> bool {
    key.split_once("/providers/microsoft.network/virtualnetworks/").is_some_and(|(_, rest)| !rest.is_empty() && !rest.contains('/'))
}

/// The stored resource as ARM shows it (a managed cluster with its pools as `agentPoolProfiles`, a
/// virtual network with its subnets as `subnets`).
fn view(state: &State, key: &str) -> Option<Value> {
    let mut resource = state.resources.get(key)?.clone();
    if is_virtual_network(key) {
        let prefix = format!("{key}/subnets/");
        let subnets: Vec<Value> = state
            .resources
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix) && !k[prefix.len()..].contains('/'))
            .map(|(_, v)| v.clone())
            .collect();
        resource["properties"]["subnets"] = json!(subnets);
    }
    if is_cluster(key) {
        let profiles: Vec<Value> = pools_of(state, key)
            .into_iter()
            .map(|(_, pool)| {
                let mut profile = pool["properties"].clone();
                profile["name"] = pool["name"].clone();
                profile
            })
            .collect();
        resource["properties"]["agentPoolProfiles"] = json!(profiles);
    }
    Some(resource)
}

impl Responder {
    fn start_operation(state: &mut State, polls: u32) -> String {
        state.next_op += 1;
        let id = format!("op{}", state.next_op);
        let failure = state.fail_operation.take();
        if !state.lose_operations {
            state.operations.insert(id.clone(), (polls, failure));
        }
        id
    }

    fn polling_base(&self, state: &State) -> String {
        state.polling_base.clone().unwrap_or_else(|| self.base.clone())
    }

    /// The answer of a mutation, in the operation's long-running style.
    fn answer(
        &self,
        state: &mut State,
        verb: &str,
        created: bool,
        lro: Option<&str>,
        responses: &[u16],
        body: Option<Value>,
    ) -> ResponseTemplate {
        let style = match state.lro {
            Lro::Spec => match lro {
                Some("azure-async-operation") => Lro::AsyncOperation { polls: state.spec_polls, retry_after: 0 },
                Some("location") => Lro::Location { polls: state.spec_polls },
                _ => Lro::Sync,
            },
            other => other,
        };
        let pick = |wanted: &[u16]| wanted.iter().copied().find(|s| responses.contains(s)).unwrap_or(wanted[0]);
        let base = self.polling_base(state);
        match style {
            Lro::Sync | Lro::Spec => {
                let status = match verb {
                    "PUT" if created => pick(&[201, 200]),
                    "DELETE" => pick(&[200, 204]),
                    _ => 200,
                };
                match body {
                    Some(b) => ResponseTemplate::new(status).set_body_json(b),
                    None => ResponseTemplate::new(status),
                }
            }
            Lro::AsyncOperation { polls, retry_after } => {
                let id = Self::start_operation(state, polls);
                let status = match verb {
                    "PUT" => pick(if created { &[201, 200] } else { &[200, 201] }),
                    _ => pick(&[202, 200]),
                };
                let mut template = ResponseTemplate::new(status)
                    .insert_header("azure-asyncoperation", format!("{base}/operations/{id}").as_str())
                    .insert_header("retry-after", retry_after.to_string().as_str());
                if let Some(mut b) = body.filter(|_| status != 202) {
                    b["properties"]["provisioningState"] = json!(if created { "Creating" } else { "Updating" });
                    template = template.set_body_json(b);
                }
                template
            }
            Lro::Location { polls } => {
                let id = Self::start_operation(state, polls);
                ResponseTemplate::new(202)
                    .insert_header("location", format!("{base}/locations/{id}").as_str())
                    .insert_header("retry-after", "0")
            }
            Lro::Bare => ResponseTemplate::new(202),
        }
    }

    /// `GET {scope}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId eq '{id}'`
    /// (RoleAssignments_ListForScope): the principal's assignments at `scope`, above it and below it, in one page
    /// (404 when the scope's resource group does not exist);
    /// one still replicating is not listed yet (and the read counts against its lag, as a GET does).
    fn list_role_assignments(state: &mut State, request: &Request, scope: &str, api_version: Option<&str>) -> ResponseTemplate {
        let contract = contracts().all().iter().find(|c| c.fixture == "role_assignments").expect("the role assignment contract");
        if api_version != Some(contract.api_version.as_str()) {
            let found = format!("GET {scope} role assignments: api-version {api_version:?}, the contract is {}", contract.api_version);
            return Self::violation(state, vec![found]);
        }
        // A scope in a resource group that does not exist: ARM answers ResourceGroupNotFound.
        let group = scope.split('/').take(5).collect::<Vec<_>>().join("/");
        if group.contains("/resourcegroups/") && !state.resources.contains_key(&group) {
            return arm_error(404, "ResourceGroupNotFound", &format!("Resource group '{group}' could not be found."));
        }
        let filter = request.url.query_pairs().find(|(k, _)| k == "$filter").map(|(_, v)| v.into_owned()).unwrap_or_default();
        let Some(principal) = filter.strip_prefix("principalId eq '").and_then(|f| f.strip_suffix('\'')) else {
            return arm_error(400, "InvalidFilter", &format!("unsupported $filter {filter:?}"));
        };
        // At the scope, above it (inherited) and below it, as ARM lists them.
        let keys: Vec<String> = state
            .resources
            .keys()
            .filter(|k| {
                k.split_once("/providers/microsoft.authorization/roleassignments/")
                    .is_some_and(|(at, _)| at == scope || scope.starts_with(&format!("{at}/")) || at.starts_with(&format!("{scope}/")))
            })
            .cloned()
            .collect();
        let mut value = Vec::new();
        for key in keys {
            if let Some(left) = state.lag.get_mut(&key).filter(|n| **n > 0) {
                *left -= 1;
                continue;
            }
            let assignment = &state.resources[&key];
            if assignment["properties"]["principalId"].as_str().is_some_and(|p| p.eq_ignore_ascii_case(principal)) {
                value.push(assignment.clone());
            }
        }
        ResponseTemplate::new(200).set_body_json(json!({ "value": value }))
    }

    fn violation(state: &mut State, found: Vec<String>) -> ResponseTemplate {
        let message = found.join("; ");
        state.violations.extend(found);
        arm_error(400, "InvalidRequestContent", &format!("contract: {message}"))
    }
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.state.lock().unwrap();
        let path = request.url.path().to_owned();
        let method = request.method.to_string();
        let body: Option<Value> = (!request.body.is_empty()).then(|| serde_json::from_slice(&request.body).unwrap_or(Value::Null));
        state.requests.push((method.clone(), path.clone(), body.clone()));
        let auth = request.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        if auth != "Bearer fake-arm-token" {
            return arm_error(401, "AuthenticationFailed", "no bearer token");
        }
        let slow = |t: ResponseTemplate, delay: Option<Duration>| match delay {
            Some(d) => t.set_delay(d),
            None => t,
        };
        if let Some(id) = path.strip_prefix("/operations/") {
            let delay = state.poll_delay;
            let (left, failure) = state.operations.get(id).cloned().unwrap_or((0, None));
            if left > 0 {
                state.operations.insert(id.to_owned(), (left - 1, failure));
                return slow(
                    ResponseTemplate::new(200).insert_header("retry-after", "1").set_body_json(json!({ "status": "InProgress" })),
                    delay,
                );
            }
            return slow(
                match failure {
                    Some(error) => ResponseTemplate::new(200).set_body_json(json!({ "status": "Failed", "error": error })),
                    None => ResponseTemplate::new(200).set_body_json(json!({ "status": "Succeeded" })),
                },
                delay,
            );
        }
        if let Some(id) = path.strip_prefix("/locations/") {
            let delay = state.poll_delay;
            let Some((left, _)) = state.operations.get(id).cloned() else {
                return arm_error(404, "OperationNotFound", "no such operation");
            };
            if left > 0 {
                state.operations.insert(id.to_owned(), (left - 1, None));
                return slow(ResponseTemplate::new(202).insert_header("retry-after", "0"), delay);
            }
            return slow(ResponseTemplate::new(200), delay);
        }
        let api_version = request.url.query_pairs().find(|(k, _)| k == "api-version").map(|(_, v)| v.into_owned());
        if api_version.as_deref().is_none_or(str::is_empty) {
            return arm_error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            );
        }
        let key = path.to_ascii_lowercase();
        if method == "GET"
            && let Some(scope) = key.strip_suffix("/providers/microsoft.authorization/roleassignments")
        {
            return Self::list_role_assignments(&mut state, request, scope, api_version.as_deref());
        }
        if method != "GET" && state.throttle > 0 {
            state.throttle -= 1;
            return arm_error(429, "TooManyRequests", "The request is being throttled.").insert_header("retry-after", "0");
        }
        if method != "GET"
            && let Some((status, body)) = state.fail.take()
        {
            return ResponseTemplate::new(status).set_body_json(body);
        }
        // The contract of the resource type: every request, reads included, names a known type at its api-version.
        let (resource_key, resource_path, verb) = match method.as_str() {
            "POST" => {
                let (parent, action) = key.rsplit_once('/').unwrap_or((&key, ""));
                let action = path.rsplit('/').next().unwrap_or(action).to_owned();
                (parent.to_owned(), path[..parent.len()].to_owned(), format!("POST {action}"))
            }
            _ => (key.clone(), path.clone(), method.clone()),
        };
        let Some(contract) = contracts().of(&resource_key) else {
            return Self::violation(&mut state, vec![format!("{method} {path}: no contract covers this resource type")]);
        };
        let exists = state.resources.contains_key(&resource_key);
        let mode = if exists || method == "PATCH" { Mode::Update } else { Mode::Create };
        if method != "GET" {
            let found = contract.check(&verb, &resource_path, api_version.as_deref(), body.as_ref(), mode);
            if !found.is_empty() {
                return Self::violation(&mut state, found);
            }
        } else if api_version.as_deref() != Some(contract.api_version.as_str()) {
            return Self::violation(
                &mut state,
                vec![format!("GET {path}: api-version {api_version:?}, the contract is {}", contract.api_version)],
            );
        }
        let operation = contract.operation(&verb);
        let (lro, responses) = operation.as_ref().map_or((None, Vec::new()), |o| (o.lro.clone(), o.responses.clone()));
        match method.as_str() {
            "GET" => {
                if let Some(left) = state.lag.get_mut(&key).filter(|n| **n > 0) {
                    *left -= 1;
                    return arm_error(404, "RoleAssignmentNotFound", "The role assignment was not found (replicating).");
                }
                match view(&state, &key) {
                    Some(v) => ResponseTemplate::new(200).set_body_json(v),
                    None => arm_error(404, "ResourceNotFound", &format!("The Resource '{path}' was not found.")),
                }
            }
            "PUT" | "PATCH" => {
                let body = body.unwrap_or(json!({}));
                if method == "PATCH" && !exists {
                    return arm_error(404, "ResourceNotFound", "not found");
                }
                if method == "PUT" && exists && contract.fixture == "role_assignments" {
                    // Assignments cannot change in place: ARM answers a second PUT with RoleAssignmentExists.
                    return arm_error(409, "RoleAssignmentExists", "The role assignment already exists.");
                }
                if method == "PUT" && exists && contract.create_only("PUT") {
                    // BlobContainers_Create on an existing container changes nothing.
                    let current = view(&state, &key).unwrap();
                    return self.answer(&mut state, "PUT", false, lro.as_deref(), &responses, Some(current));
                }
                let mut resource = if method == "PATCH" {
                    let mut r = state.resources[&key].clone();
                    merge(&mut r, &body);
                    r
                } else {
                    // A PUT replaces the resource: what the body leaves out is gone.
                    let mut r = body.clone();
                    if let (Some(old), true) = (state.resources.get(&key), exists) {
                        for keep in ["location", "id"] {
                            if r.get(keep).is_none()
                                && let Some(v) = old.get(keep)
                            {
                                r[keep] = v.clone();
                            }
                        }
                    }
                    r
                };
                resource["id"] = json!(path);
                resource["name"] = json!(path.rsplit('/').next().unwrap());
                if resource.get("properties").is_none() {
                    resource["properties"] = json!({});
                }
                if !["role_assignments", "locks", "blob_services", "blob_containers", "file_shares", "diagnostic_settings"]
                    .contains(&contract.fixture)
                {
                    resource["properties"]["provisioningState"] = json!("Succeeded");
                }
                if is_cluster(&key) && method == "PUT" {
                    let profiles = resource["properties"].as_object_mut().and_then(|p| p.remove("agentPoolProfiles")).unwrap_or(json!([]));
                    let existing: Vec<String> = pools_of(&state, &key).into_iter().map(|(k, _)| k).collect();
                    let wanted: Vec<String> = profiles
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|p| format!("{key}/agentpools/{}", p["name"].as_str().unwrap_or_default().to_ascii_lowercase()))
                        .collect();
                    let private = |v: Option<&Value>| {
                        v.and_then(|v| v.pointer("/properties/apiServerAccessProfile/enablePrivateCluster"))
                            .and_then(Value::as_bool)
                            .unwrap_or(false)
                    };
                    if exists && private(state.resources.get(&key)) != private(Some(&resource)) {
                        return arm_error(
                            400,
                            "PrivateClusterUpdateNotSupported",
                            "Changing property 'enablePrivateCluster' is not allowed: a cluster is made private at creation.",
                        );
                    }
                    if exists && let Some(new) = wanted.iter().find(|w| !existing.contains(w)) {
                        return arm_error(
                            400,
                            "AgentPoolAddNotSupported",
                            &format!(
                                "A new agent pool was introduced ({}). Adding agent pools via the managed cluster API is not supported; please use per agent pool operations.",
                                new.rsplit('/').next().unwrap()
                            ),
                        );
                    }
                    for (pool_key, profile) in wanted.iter().zip(profiles.as_array().into_iter().flatten()) {
                        let mut properties = profile.clone();
                        let name = properties.as_object_mut().and_then(|p| p.remove("name")).unwrap_or_default();
                        properties["provisioningState"] = json!("Succeeded");
                        let mut pool = state
                            .resources
                            .get(pool_key)
                            .cloned()
                            .unwrap_or_else(|| json!({ "id": pool_key, "name": name, "properties": {} }));
                        merge(&mut pool["properties"], &properties);
                        state.resources.insert(pool_key.clone(), pool);
                    }
                    resource["properties"]["fqdn"] = json!(format!("{}.hcp.westeurope.azmk8s.io", resource["name"].as_str().unwrap()));
                }
                if contract.fixture == "flexible_servers" {
                    if !exists {
                        resource["properties"]["state"] = json!("Ready");
                        resource["properties"]["fullyQualifiedDomainName"] =
                            json!(format!("{}.postgres.database.azure.com", resource["name"].as_str().unwrap()));
                    }
                    if let Some(p) = resource["properties"].as_object_mut() {
                        p.remove("administratorLoginPassword");
                    }
                }
                if contract.fixture == "role_assignments" && !exists {
                    let lag = state.role_lag;
                    state.lag.insert(key.clone(), lag);
                    resource["properties"]["scope"] = json!(path.split("/providers/Microsoft.Authorization").next().unwrap_or_default());
                }
                state.resources.insert(key.clone(), resource);
                let shown = view(&state, &key);
                self.answer(&mut state, &method, !exists, lro.as_deref(), &responses, shown)
            }
            "DELETE" => {
                let existed = state.resources.remove(&key).is_some();
                // Children go with their parent; diagnostic settings outlive the resource they monitor, as in Azure.
                let children: Vec<String> =
                    state.resources.keys().filter(|k| k.starts_with(&format!("{key}/")) && !is_diagnostic_setting(k)).cloned().collect();
                for c in children {
                    state.resources.remove(&c);
                }
                if !existed {
                    return ResponseTemplate::new(204);
                }
                self.answer(&mut state, "DELETE", false, lro.as_deref(), &responses, None)
            }
            "POST" if verb == "POST listClusterUserCredential" => match view(&state, &resource_key) {
                None => arm_error(404, "ResourceNotFound", "no cluster"),
                Some(c) => {
                    let fqdn = c.pointer("/properties/fqdn").and_then(Value::as_str).unwrap_or("fake.hcp.westeurope.azmk8s.io").to_owned();
                    let kubeconfig = format!(
                        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: Q0E=\n    server: https://{fqdn}:443\n  name: c\nusers:\n- name: u\n  user:\n    token: SENTINEL-kube-token\n"
                    );
                    use base64::Engine as _;
                    let value = base64::engine::general_purpose::STANDARD.encode(kubeconfig);
                    ResponseTemplate::new(200).set_body_json(json!({ "kubeconfigs": [{ "name": "clusterUser", "value": value }] }))
                }
            },
            "POST" if verb == "POST start" => match state.resources.get_mut(&resource_key) {
                None => arm_error(404, "ResourceNotFound", "no server"),
                Some(server) => {
                    server["properties"]["state"] = json!("Ready");
                    self.answer(&mut state, "POST", false, lro.as_deref(), &responses, None)
                }
            },
            _ => arm_error(405, "MethodNotAllowed", "unsupported"),
        }
    }
}

#[derive(Debug)]
struct FakeToken;

#[async_trait::async_trait]
impl TokenCredential for FakeToken {
    async fn get_token(&self, scopes: &[&str], _: Option<TokenRequestOptions<'_>>) -> azure_core::Result<AccessToken> {
        // The scope is derived from the endpoint (every fake listens on loopback): origin and `/.default`.
        assert!(
            matches!(scopes, [s] if s.starts_with("http://127.0.0.1:") && s.ends_with("/.default") && s.matches('/').count() == 3),
            "{scopes:?}"
        );
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
        let state = Arc::new(Mutex::new(State {
            resources: HashMap::new(),
            operations: HashMap::new(),
            next_op: 0,
            lro: Lro::Spec,
            spec_polls: 1,
            throttle: 0,
            fail: None,
            fail_operation: None,
            poll_delay: None,
            polling_base: None,
            lose_operations: false,
            role_lag: ROLE_ASSIGNMENT_LAG,
            lag: HashMap::new(),
            requests: Vec::new(),
            violations: Vec::new(),
        }));
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(Responder { state: state.clone(), base: server.uri() })
            .mount(&server)
            .await;
        FakeArm { server: Arc::new(server), state }
    }

    /// A client of the fake with quick polls and retries.
    pub fn client(&self) -> ArmClient {
        ArmClient::builder(SUBSCRIPTION, fake_token())
            .endpoint(self.server.uri())
            .quick_retries()
            .waiter(
                deploy_core::Waiter::new(std::time::Duration::from_secs(30))
                    .with_delays(std::time::Duration::from_millis(10), std::time::Duration::from_millis(50)),
            )
            .build()
            .unwrap()
    }

    /// Answer mutations this way from now on.
    pub fn set_lro(&self, lro: Lro) {
        self.state.lock().unwrap().lro = lro;
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

    /// Answer every poll of an operation only after `delay`.
    pub fn slow_polls(&self, delay: Duration) {
        self.state.lock().unwrap().poll_delay = Some(delay);
    }

    /// Name polling URLs on `base` (another host) instead of the fake's own.
    pub fn polling_base(&self, base: &str) {
        self.state.lock().unwrap().polling_base = Some(base.to_owned());
    }

    /// GETs of a new role assignment that answer 404 ([`ROLE_ASSIGNMENT_LAG`] unless set).
    pub fn role_assignment_lag(&self, reads: u32) {
        self.state.lock().unwrap().role_lag = reads;
    }

    /// Forget every operation as soon as it starts: its polling URL answers 404.
    pub fn lose_operations(&self) {
        self.state.lock().unwrap().lose_operations = true;
    }

    /// Put a resource in the store as if it existed.
    pub fn seed(&self, path: &str, resource: Value) {
        self.state.lock().unwrap().resources.insert(path.to_ascii_lowercase(), resource);
    }

    /// A stored resource, as a GET shows it.
    pub fn resource(&self, path: &str) -> Option<Value> {
        view(&self.state.lock().unwrap(), &path.to_ascii_lowercase())
    }

    /// Set a stored resource's `properties.<field>`.
    pub fn set_property(&self, path: &str, field: &str, value: Value) {
        let mut state = self.state.lock().unwrap();
        let resource = state.resources.get_mut(&path.to_ascii_lowercase()).expect("a stored resource");
        resource["properties"][field] = value;
    }

    /// An Azure Policy with the `modify` effect: tag `key` = `value` on every stored resource that has tags.
    pub fn policy_tag(&self, key: &str, value: &str) {
        let mut state = self.state.lock().unwrap();
        for resource in state.resources.values_mut() {
            if let Some(tags) = resource.get_mut("tags").and_then(Value::as_object_mut) {
                tags.insert(key.to_owned(), json!(value));
            }
        }
    }

    /// The cluster autoscaler: set agent pool `pool` of the cluster at `cluster_id` to `count` nodes.
    pub fn autoscale(&self, cluster_id: &str, pool: &str, count: u32) {
        self.set_property(&format!("{cluster_id}/agentPools/{pool}"), "count", json!(count));
    }

    /// How many requests of `method` were made (all paths).
    pub fn count(&self, method: &str) -> usize {
        self.state.lock().unwrap().requests.iter().filter(|(m, _, _)| m == method).count()
    }

    /// The requests made so far, as `METHOD path`.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.iter().map(|(m, p, _)| format!("{m} {p}")).collect()
    }

    /// The bodies of the requests of `method` to paths ending with `suffix`.
    pub fn bodies(&self, method: &str, suffix: &str) -> Vec<Value> {
        let suffix = suffix.to_ascii_lowercase();
        self.state
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|(m, p, _)| m == method && p.to_ascii_lowercase().ends_with(&suffix))
            .filter_map(|(_, _, b)| b.clone())
            .collect()
    }

    /// The contract rules broken so far.
    pub fn violations(&self) -> Vec<String> {
        self.state.lock().unwrap().violations.clone()
    }

    /// The contract rules broken so far, forgotten (a test that breaks them on purpose).
    pub fn take_violations(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().unwrap().violations)
    }

    /// Forget the requests made so far.
    pub fn reset_requests(&self) {
        self.state.lock().unwrap().requests.clear();
    }
}

impl Drop for FakeArm {
    fn drop(&mut self) {
        // The last clone of a fake checks that no request broke the contract.
        if Arc::strong_count(&self.state) == 2 && !std::thread::panicking() {
            let violations = self.violations();
            assert!(violations.is_empty(), "requests broke the ARM contract: {violations:#?}");
        }
    }
}
