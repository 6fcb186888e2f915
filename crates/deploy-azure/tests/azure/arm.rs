//! The ARM client against the fake endpoint: long-running operations, error
//! mapping, throttling, and ensures that make no PUT the second time.

use std::time::{Duration, Instant};

use deploy_azure::arm::ArmClient;
use deploy_azure::arm::dns::{DnsLinkSpec, PrivateDnsZoneSpec};
use deploy_azure::arm::group::ResourceGroupSpec;
use deploy_azure::arm::network::{POSTGRES_DELEGATION, SubnetSpec, VirtualNetworkSpec};
use deploy_azure::arm::role::{RoleAssignmentSpec, STORAGE_BLOB_DATA_CONTRIBUTOR};
use deploy_azure::arm::storage::{ContainerSpec, StorageAccountSpec};
use deploy_core::plan::Action;
use deploy_core::reconcile::Reconcile as _;
use deploy_core::{CidrBlock, Confirm, ContainerName, Error};
use serde_json::json;

use crate::fake_arm::{FakeArm, Lro, ROLE_ASSIGNMENT_LAG, SUBSCRIPTION, fake_token};

fn group() -> ResourceGroupSpec {
    let mut spec = ResourceGroupSpec::new("vectice-rg", "westeurope");
    spec.tags.insert("app".into(), "vectice".into());
    spec
}

#[tokio::test]
async fn resource_group_201_with_async_operation_polling_and_retry_after() {
    let fake = FakeArm::start().await;
    fake.set_lro(Lro::AsyncOperation { polls: 2, retry_after: 1 });
    let arm = fake.client();
    let started = Instant::now();
    let plan = arm.ensure(&group()).await.map(|e| e.plan).unwrap();
    assert!(matches!(plan.changes.as_slice(), [c] if c.action == Action::Create), "{plan:?}");
    // Retry-After: 1 on the 201 and on each InProgress poll: at least 3 s in all.
    assert!(started.elapsed() >= Duration::from_secs(3), "Retry-After not honoured: {:?}", started.elapsed());
    let requests = fake.requests();
    let polls = requests.iter().filter(|r| r.starts_with("GET /operations/")).count();
    assert_eq!(polls, 3, "two InProgress then Succeeded: {requests:?}");
    assert_eq!(
        requests.last().unwrap(),
        &format!("GET /subscriptions/{SUBSCRIPTION}/resourceGroups/vectice-rg"),
        "final GET of the resource: {requests:?}"
    );
    let stored = fake.resource(&arm.group_path("vectice-rg")).unwrap();
    assert_eq!(stored["location"], "westeurope");
    assert_eq!(stored["tags"]["app"], "vectice");
}

#[tokio::test]
async fn second_ensure_makes_no_put() {
    let fake = FakeArm::start().await;
    let arm = fake.client();
    arm.ensure(&group()).await.map(|e| e.plan).unwrap();
    let vnet = VirtualNetworkSpec {
        resource_group: "vectice-rg".into(),
        name: "pg-vnet".into(),
        location: "westeurope".into(),
        address_space: vec![CidrBlock::new("10.1.0.0/16").unwrap()],
        tags: Default::default(),
    };
    let subnet = SubnetSpec {
        resource_group: "vectice-rg".into(),
        virtual_network: "pg-vnet".into(),
        name: "pg-subnet".into(),
        address_prefix: CidrBlock::new("10.1.0.0/24").unwrap(),
        delegation: Some(POSTGRES_DELEGATION.into()),
    };
    let link = DnsLinkSpec {
        resource_group: "vectice-rg".into(),
        zone: "vectice.private.postgres.database.azure.com".into(),
        name: "aks-link".into(),
        virtual_network_id: arm.virtual_network_id("vectice-rg", "aks-vnet"),
        registration_enabled: true,
    };
    let account = StorageAccountSpec::new("vectice-rg", "vecticeassets", "westeurope");
    let container = ContainerName::new("assets").unwrap();
    let role = RoleAssignmentSpec::blob_data_contributor(
        arm.container_id("vectice-rg", "vecticeassets", &container),
        "11111111-2222-4333-8444-555555555555",
    );
    let run = |arm: ArmClient| {
        let (vnet, subnet, link, account, container, role) =
            (vnet.clone(), subnet.clone(), link.clone(), account.clone(), container.clone(), role.clone());
        async move {
            let mut plan = arm.ensure(&group()).await.map(|e| e.plan).unwrap();
            plan.extend(arm.ensure(&vnet).await.map(|e| e.plan).unwrap());
            plan.extend(arm.ensure(&subnet).await.map(|e| e.plan).unwrap());
            let zone = PrivateDnsZoneSpec { resource_group: "vectice-rg".into(), zone: link.zone.clone(), tags: Default::default() };
            plan.extend(arm.ensure(&zone).await.unwrap().plan);
            plan.extend(arm.ensure(&link).await.map(|e| e.plan).unwrap());
            for peering in arm.peerings_both_ways(("vectice-rg", "pg-vnet"), ("vectice-rg", "aks-vnet")) {
                plan.extend(arm.ensure(&peering).await.unwrap().plan);
            }
            plan.extend(arm.ensure(&account).await.map(|e| e.plan).unwrap());
            plan.extend(arm.ensure(&ContainerSpec::new("vectice-rg", "vecticeassets", container.clone())).await.map(|e| e.plan).unwrap());
            plan.extend(arm.ensure(&role).await.map(|e| e.plan).unwrap());
            plan
        }
    };
    let first = run(arm.clone()).await;
    assert_eq!(first.len(), 10, "{first}");
    let puts = fake.count("PUT");
    assert_eq!(puts, 11, "one PUT per resource plus the initial group: {:?}", fake.requests());
    fake.reset_requests();
    let second = run(arm.clone()).await;
    assert!(second.is_empty(), "second run planned changes: {second}");
    assert_eq!(fake.count("PUT") + fake.count("PATCH") + fake.count("DELETE"), 0, "second run mutated: {:?}", fake.requests());
    // The subnet is delegated and the link registers; the role assignment name is stable.
    let stored = fake.resource(&arm.subnet_id("vectice-rg", "pg-vnet", "pg-subnet")).unwrap();
    assert_eq!(stored["properties"]["delegations"][0]["properties"]["serviceName"], POSTGRES_DELEGATION);
    let assignment =
        fake.resource(&format!("{}/providers/Microsoft.Authorization/roleAssignments/{}", role.scope, role.assignment_name())).unwrap();
    assert!(assignment["properties"]["roleDefinitionId"].as_str().unwrap().ends_with(STORAGE_BLOB_DATA_CONTRIBUTOR));
    assert_eq!(assignment["properties"]["principalType"], "ServicePrincipal");
    // A changed tag is an update: PATCH, not PUT.
    let mut changed = group();
    changed.tags.insert("team".into(), "platform".into());
    fake.reset_requests();
    let plan = arm.ensure(&changed).await.map(|e| e.plan).unwrap();
    assert!(matches!(&plan.changes[0].action, Action::Update { fields } if fields[0].field == "tags"), "{plan:?}");
    assert_eq!((fake.count("PATCH"), fake.count("PUT")), (1, 0), "{:?}", fake.requests());
    // Versioning switched off is planned on the blob service and applied.
    let mut unversioned = account.clone();
    unversioned.versioning = false;
    let plan = arm.plan(&unversioned).await.unwrap();
    assert_eq!(plan.to_string(), "  ~ update blob service vecticeassets\n      versioning: true -> false");
}

#[tokio::test]
async fn location_polling_for_202_and_delete() {
    let fake = FakeArm::start().await;
    fake.set_lro(Lro::Location { polls: 2 });
    let arm = fake.client();
    arm.ensure(&group()).await.map(|e| e.plan).unwrap();
    assert!(fake.requests().iter().filter(|r| r.starts_with("GET /locations/")).count() == 3, "{:?}", fake.requests());
    let err = arm.delete_resource_group("vectice-rg", &Confirm::new("other")).await.unwrap_err();
    assert!(matches!(err, Error::ConfirmationRequired { .. }), "{err:?}");
    arm.delete_resource_group("vectice-rg", &Confirm::new("vectice-rg")).await.unwrap();
    assert!(fake.resource(&arm.group_path("vectice-rg")).is_none());
    // Deleting what is gone succeeds.
    arm.delete_resource_group("vectice-rg", &Confirm::new("vectice-rg")).await.unwrap();
}

/// A status, an ARM error code, and the check of the core error it becomes.
type Case = (u16, &'static str, fn(&Error) -> bool);

#[tokio::test]
async fn arm_error_bodies_map_to_core_errors() {
    let fake = FakeArm::start().await;
    let arm = fake.client();
    let cases: [Case; 4] = [
        (409, "Conflict", |e: &Error| matches!(e, Error::Conflict { reason, .. } if reason.contains("ResourceGroupBeingDeleted"))),
        (
            403,
            "AuthorizationFailed",
            |e: &Error| matches!(e, Error::Unauthorized { message, .. } if message.contains("AuthorizationFailed")),
        ),
        (
            400,
            "InvalidResourceLocation",
            |e: &Error| matches!(e, Error::Provider { retryable: false, message, .. } if message.contains("InvalidResourceLocation: nope")),
        ),
        (500, "InternalServerError", |e: &Error| matches!(e, Error::Provider { retryable: true, .. })),
    ];
    for (status, code, check) in cases {
        let code = if status == 409 { "ResourceGroupBeingDeleted" } else { code };
        fake.fail_next(status, json!({ "error": { "code": code, "message": "nope" } }));
        // 500 is retried by the pipeline and then succeeds: inject it on every try.
        if status == 500 {
            let err = {
                fake.throttle(0);
                let arm = ArmClient::builder(SUBSCRIPTION, fake_token())
                    .endpoint(fake.server.uri())
                    .retry(azure_core::http::RetryOptions::none())
                    .build()
                    .unwrap();
                arm.ensure(&group()).await.map(|e| e.plan).unwrap_err()
            };
            assert!(check(&err), "{status}: {err:?}");
            continue;
        }
        let err = arm.ensure(&group()).await.map(|e| e.plan).unwrap_err();
        assert!(check(&err), "{status}: {err:?}");
        assert!(!err.to_string().contains("fake-arm-token"), "{err}");
    }
    // A failed long-running operation is a Conflict naming the state and the error.
    fake.set_lro(Lro::AsyncOperation { polls: 0, retry_after: 0 });
    fake.fail_next_operation(json!({ "code": "SubnetIsFull", "message": "no room" }));
    let err = arm.ensure(&group()).await.map(|e| e.plan).unwrap_err();
    assert!(matches!(&err, Error::Conflict { reason, .. } if reason.contains("Failed: SubnetIsFull no room")), "{err:?}");
    // A missing resource's GET is None.
    let missing =
        arm.get(&arm.group_path("nope"), "2021-04-01", deploy_azure::arm::Target { kind: "resource group", name: "nope" }).await.unwrap();
    assert!(missing.is_none());
}

#[tokio::test]
async fn throttling_is_retried_then_reported() {
    let fake = FakeArm::start().await;
    let arm = fake.client();
    // Two 429s, then success: the pipeline's retries absorb them (Retry-After: 0), each a WARN event of target
    // deploy::retry naming the method, host and status (never the path or query), inside the ensure's span.
    fake.throttle(2);
    let (dispatch, log) = captured_log();
    tracing::instrument::WithSubscriber::with_subscriber(arm.ensure(&group()), dispatch).await.map(|e| e.plan).unwrap();
    assert_eq!(fake.count("PUT"), 3, "{:?}", fake.requests());
    let events: Vec<String> = log.text().lines().filter(|l| l.contains("deploy::retry")).map(str::to_owned).collect();
    assert_eq!(events.len(), 2, "{events:#?}");
    for event in &events {
        assert!(event.contains("WARN") && event.contains("status=429") && event.contains("throttled=true"), "{event}");
        assert!(event.contains("method=PUT") && event.contains("host=\"127.0.0.1\""), "{event}");
        assert!(event.contains("reconcile{") && !event.contains("/subscriptions/"), "in the span, no path: {event}");
    }
    // More 429s than retries: Throttled, retryable.
    let mut other = group();
    other.name = "other-rg".into();
    fake.throttle(10);
    let err = arm.ensure(&other).await.map(|e| e.plan).unwrap_err();
    assert!(matches!(err, Error::Throttled { .. }) && err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn bad_input_is_rejected_before_any_request() {
    // An endpoint where nothing listens: any request would fail with a Provider error.
    let dead = crate::support::dead_endpoint();
    let arm = ArmClient::builder(SUBSCRIPTION, fake_token()).endpoint(&dead).quick_retries().build().unwrap();
    let err = arm.ensure(&ResourceGroupSpec::new("bad name!", "westeurope")).await.map(|e| e.plan).unwrap_err();
    assert_eq!(err.invalid_field(), Some("name"), "{err:?}");
    let err = arm.ensure(&ResourceGroupSpec::new("rg", "West Europe")).await.map(|e| e.plan).unwrap_err();
    assert_eq!(err.invalid_field(), Some("location"), "{err:?}");
    let err = arm.ensure(&StorageAccountSpec::new("rg", "Has-Caps", "westeurope")).await.map(|e| e.plan).unwrap_err();
    assert_eq!(err.invalid_field(), Some("name"), "{err:?}");
    let err = arm
        .ensure(&RoleAssignmentSpec::blob_data_contributor("/subscriptions/x/providers/y", "not-a-guid"))
        .await
        .map(|e| e.plan)
        .unwrap_err();
    assert_eq!(err.invalid_field(), Some("principal_id"), "{err:?}");
    let err = arm
        .ensure(&RoleAssignmentSpec::blob_data_contributor("storage-account", "11111111-2222-4333-8444-555555555555"))
        .await
        .map(|e| e.plan)
        .unwrap_err();
    assert_eq!(err.invalid_field(), Some("scope"), "{err:?}");
    let link = DnsLinkSpec {
        resource_group: "rg".into(),
        zone: "nodots".into(),
        name: "l".into(),
        virtual_network_id: "x".into(),
        registration_enabled: true,
    };
    assert_eq!(arm.ensure(&link).await.map(|e| e.plan).unwrap_err().invalid_field(), Some("zone"));
    // The client itself: subscription and endpoint.
    let err = ArmClient::builder("not-a-guid", fake_token()).build().unwrap_err();
    assert_eq!(err.invalid_field(), Some("subscription_id"));
    let err = ArmClient::builder(SUBSCRIPTION, fake_token()).endpoint("http://management.example.com").build().unwrap_err();
    assert_eq!(err.invalid_field(), Some("endpoint"), "plain HTTP only to loopback");
    // The dead endpoint really is dead: a valid call fails retryably, naming no token.
    let err = arm.ensure(&group()).await.map(|e| e.plan).unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}

/// A credential that records the scopes asked for and refuses to sign in.
#[derive(Debug, Default)]
struct ScopeRecorder(std::sync::Mutex<Vec<String>>);

#[async_trait::async_trait]
impl azure_core::credentials::TokenCredential for ScopeRecorder {
    async fn get_token(
        &self,
        scopes: &[&str],
        _: Option<azure_core::credentials::TokenRequestOptions<'_>>,
    ) -> azure_core::Result<azure_core::credentials::AccessToken> {
        self.0.lock().unwrap().extend(scopes.iter().map(|s| (*s).to_owned()));
        Err(azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, "no sign-in here"))
    }
}

#[tokio::test]
async fn the_token_scope_is_the_endpoints_own_sovereign_clouds_included() {
    // The token is asked for before any request is sent: no network is needed to see the scope.
    for (endpoint, scope) in [
        ("https://management.azure.com", "https://management.azure.com/.default"),
        ("https://management.usgovcloudapi.net/", "https://management.usgovcloudapi.net/.default"),
        ("https://management.chinacloudapi.cn", "https://management.chinacloudapi.cn/.default"),
    ] {
        let recorder = std::sync::Arc::new(ScopeRecorder::default());
        let arm = ArmClient::builder(SUBSCRIPTION, recorder.clone()).endpoint(endpoint).quick_retries().build().unwrap();
        let err = arm.ensure(&group()).await.map(|e| e.plan).unwrap_err();
        assert!(matches!(err, Error::Unauthorized { .. }), "a credential error, before any request: {err:?}");
        assert_eq!(recorder.0.lock().unwrap().first().map(String::as_str), Some(scope), "{endpoint}");
    }
    // An Azure Stack Hub names its own audience.
    let recorder = std::sync::Arc::new(ScopeRecorder::default());
    let audience = "https://management.contoso.onmicrosoft.com/00000000-0000-0000-0000-000000000001/.default";
    let arm = ArmClient::builder(SUBSCRIPTION, recorder.clone())
        .endpoint("https://management.local.azurestack.external")
        .token_scope(audience)
        .build()
        .unwrap();
    arm.ensure(&group()).await.map(|e| e.plan).unwrap_err();
    assert_eq!(recorder.0.lock().unwrap().first().map(String::as_str), Some(audience));
    let err = ArmClient::builder(SUBSCRIPTION, recorder.clone()).token_scope("two scopes").build().unwrap_err();
    assert_eq!(err.invalid_field(), Some("token_scope"));
}

#[test]
fn role_assignment_names_are_deterministic_guids() {
    let a = RoleAssignmentSpec::blob_data_contributor(
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a",
        "11111111-2222-4333-8444-555555555555",
    );
    let mut b = a.clone();
    b.scope = b.scope.to_uppercase();
    assert_eq!(a.assignment_name(), b.assignment_name(), "scope case does not matter");
    let mut c = a.clone();
    c.principal_id = "11111111-2222-4333-8444-555555555556".into();
    assert_ne!(a.assignment_name(), c.assignment_name());
    let name = a.assignment_name();
    assert_eq!(name.len(), 36);
    assert_eq!(&name[14..15], "5");
}

/// Issue 13.6: the bearer token goes to the Resource Manager host only. A polling URL (either header) on
/// another host is refused with a typed error, and that host never sees a request.
#[tokio::test]
async fn polling_urls_on_another_host_are_refused_and_get_no_token() {
    let elsewhere = wiremock::MockServer::start().await;
    // Another port of the same loopback address is another origin: the token's scope is scheme, host and port.
    let foreign = elsewhere.uri();
    for lro in [Lro::AsyncOperation { polls: 1, retry_after: 0 }, Lro::Location { polls: 1 }] {
        let fake = FakeArm::start().await;
        fake.set_lro(lro);
        fake.polling_base(&foreign);
        let err = fake.client().ensure(&group()).await.map(|e| e.plan).unwrap_err();
        let header = if matches!(lro, Lro::Location { .. }) { "Location" } else { "Azure-AsyncOperation" };
        assert!(
            matches!(&err, Error::Provider { retryable: false, message, .. } if message.contains("refused") && message.contains(header)),
            "{err:?}"
        );
        assert!(!err.to_string().contains("fake-arm-token"), "{err}");
    }
    assert_eq!(elsewhere.received_requests().await.unwrap_or_default().len(), 0, "the other host was called");
}

/// The LRO rules of the specs: a Location URL that answers 404 is an error, not success; a DELETE answered
/// 202 without polling headers is done when the resource answers 404.
#[tokio::test]
async fn lro_location_404_is_an_error_and_a_bare_202_delete_polls_the_resource() {
    let fake = FakeArm::start().await;
    let arm = fake.client();
    fake.set_lro(Lro::Location { polls: 1 });
    fake.lose_operations();
    let err = arm.ensure(&group()).await.map(|e| e.plan).unwrap_err();
    assert!(err.is_not_found(), "a 404 on the Location URL must fail the operation: {err:?}");

    let fake = FakeArm::start().await;
    let arm = fake.client();
    arm.ensure(&group()).await.map(|e| e.plan).unwrap();
    fake.set_lro(Lro::Bare);
    fake.reset_requests();
    arm.delete_resource_group("vectice-rg", &Confirm::new("vectice-rg")).await.unwrap();
    let requests = fake.requests();
    assert_eq!(
        requests,
        [
            format!("DELETE /subscriptions/{SUBSCRIPTION}/resourceGroups/vectice-rg"),
            format!("GET /subscriptions/{SUBSCRIPTION}/resourceGroups/vectice-rg"),
        ],
        "the deletion is awaited on the resource itself"
    );
    assert!(fake.resource(&arm.group_path("vectice-rg")).is_none());
}

/// A role assignment is done at its synchronous 201: no read follows it, and the 404s of its replication
/// lag neither fail the run nor make the next run assign it again.
#[tokio::test]
async fn role_assignment_is_done_at_201_and_replication_lag_is_tolerated() {
    let fake = FakeArm::start().await;
    let arm = fake.client();
    let container = ContainerName::new("assets").unwrap();
    let role = RoleAssignmentSpec::blob_data_contributor(
        arm.container_id("vectice-rg", "vecticeassets", &container),
        "11111111-2222-4333-8444-555555555555",
    );
    let path = format!("{}/providers/Microsoft.Authorization/roleAssignments/{}", role.scope, role.assignment_name());
    let plan = arm.ensure(&role).await.map(|e| e.plan).unwrap();
    assert!(matches!(plan.changes.as_slice(), [c] if c.action == Action::Create), "{plan}");
    let requests = fake.requests();
    assert_eq!(requests.last().unwrap(), &format!("PUT {path}"), "nothing after the 201: {requests:?}");
    // The fake still answers 404 for this assignment: the client knows it made it.
    fake.reset_requests();
    assert!(arm.plan(&role).await.unwrap().is_empty());
    assert!(arm.ensure(&role).await.map(|e| e.plan).unwrap().is_empty());
    assert_eq!(fake.count("PUT"), 0, "{:?}", fake.requests());
    assert_eq!(fake.count("GET"), 2);
    // Another client (a new process) in the lag sees no assignment (neither its GET nor its listing of the
    // principal's assignments shows it), PUTs it, and ARM's RoleAssignmentExists counts as done.
    const { assert!(ROLE_ASSIGNMENT_LAG > 4, "the reads here are inside the lag") };
    let other = fake.client();
    let plan = other.ensure(&role).await.map(|e| e.plan).unwrap();
    assert!(plan.is_empty(), "{plan}");
    assert_eq!(fake.count("PUT"), 1);
}

/// An equal assignment (same role, same principal, this scope) made under another name, as the portal
/// and the CLI name theirs, is found by listing the principal's assignments: plan and apply are empty and
/// nothing is assigned again. One above or below the scope, or of another role, is another assignment.
#[tokio::test]
async fn a_role_assignment_made_under_another_name_is_found_and_not_made_again() {
    const PRINCIPAL: &str = "11111111-2222-4333-8444-555555555555";
    const READER: &str = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
    let fake = FakeArm::start().await;
    fake.role_assignment_lag(0);
    let arm = fake.client();
    let account = arm.storage_account_id("vectice-rg", "vecticeassets");
    let container = arm.container_id("vectice-rg", "vecticeassets", &ContainerName::new("assets").unwrap());
    let theirs = format!("{container}/providers/Microsoft.Authorization/roleAssignments/0b3e1d4c-5f6a-4b7c-8d9e-0f1a2b3c4d5e");
    fake.seed(
        &theirs,
        json!({
            "id": theirs,
            "name": "0b3e1d4c-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
            "properties": {
                "roleDefinitionId": format!("/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{STORAGE_BLOB_DATA_CONTRIBUTOR}"),
                "principalId": PRINCIPAL.to_uppercase(),
                "principalType": "ServicePrincipal",
                "scope": container,
            }
        }),
    );
    fake.seed(&arm.group_path("vectice-rg"), json!({ "location": "westeurope", "tags": {} }));
    let role = RoleAssignmentSpec::blob_data_contributor(&container, PRINCIPAL);
    assert!(arm.plan(&role).await.unwrap().is_empty(), "an equal assignment under another name was planned again");
    let ensured = arm.ensure(&role).await.unwrap();
    assert!(ensured.plan.is_empty(), "{}", ensured.plan);
    assert_eq!(ensured.info.id, theirs, "the assignment found is theirs");
    assert_eq!(fake.count("PUT"), 0, "{:?}", fake.requests());
    let listed = fake.requests().iter().filter(|r| r.starts_with("GET") && r.ends_with("/roleAssignments")).count();
    assert_eq!(listed, 2, "one listing per reconcile: {:?}", fake.requests());

    // A scope that does not exist yet (a plan before its resource group is made): ARM answers the listing
    // 404, which is "nothing assigned there", not an error.
    let missing = arm.container_id("not-made-yet-rg", "vecticeassets", &ContainerName::new("assets").unwrap());
    let plan = arm.plan(&RoleAssignmentSpec::blob_data_contributor(&missing, PRINCIPAL)).await.unwrap();
    assert!(matches!(plan.changes.as_slice(), [c] if c.action == Action::Create), "{plan}");

    // The same principal and role at the account (above the container: ARM lists the container's too) and
    // another role at the container are other assignments: planned as creates.
    for other in [
        RoleAssignmentSpec::blob_data_contributor(&account, PRINCIPAL),
        RoleAssignmentSpec { role_definition: READER.to_owned(), ..role.clone() },
    ] {
        let plan = arm.plan(&other).await.unwrap();
        assert!(
            matches!(plan.changes.as_slice(), [c] if c.action == Action::Create),
            "{} at {}: {plan}",
            other.role_definition,
            other.scope
        );
    }
    // And the other way round: the role at the account (inherited by the container, listed with it) is not
    // the container's own assignment.
    let at_account = format!("{account}/providers/Microsoft.Authorization/roleAssignments/1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f");
    let mut inherited = fake.resource(&theirs).unwrap();
    inherited["id"] = json!(at_account);
    fake.seed(&at_account, inherited);
    let other_container = arm.container_id("vectice-rg", "vecticeassets", &ContainerName::new("other").unwrap());
    let plan = arm.plan(&RoleAssignmentSpec::blob_data_contributor(&other_container, PRINCIPAL)).await.unwrap();
    assert!(matches!(plan.changes.as_slice(), [c] if c.action == Action::Create), "an inherited assignment taken as the scope's: {plan}");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

/// A listing is followed page by page through `nextLink`, and only on the endpoint's own origin: a
/// `nextLink` naming another host is refused, and that host sees no request (no bearer token).
#[tokio::test]
async fn listings_follow_next_link_on_the_endpoint_only() {
    use wiremock::matchers::{method, path, path_regex};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    const PRINCIPAL: &str = "11111111-2222-4333-8444-555555555555";
    for foreign in [false, true] {
        let server = MockServer::start().await;
        let elsewhere = MockServer::start().await;
        let arm = ArmClient::builder(SUBSCRIPTION, fake_token()).endpoint(server.uri()).quick_retries().build().unwrap();
        let scope = arm.container_id("vectice-rg", "vecticeassets", &ContainerName::new("assets").unwrap());
        let role = RoleAssignmentSpec::blob_data_contributor(&scope, PRINCIPAL);
        let theirs = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/0b3e1d4c-5f6a-4b7c-8d9e-0f1a2b3c4d5e");
        let not_found = json!({ "error": { "code": "RoleAssignmentNotFound", "message": "not found" } });
        Mock::given(method("GET"))
            .and(path_regex(format!("/roleAssignments/{}$", role.assignment_name())))
            .respond_with(ResponseTemplate::new(404).set_body_json(not_found))
            .mount(&server)
            .await;
        let next = if foreign { elsewhere.uri() } else { server.uri() };
        Mock::given(method("GET"))
            .and(path_regex("/roleAssignments$"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({ "value": [], "nextLink": format!("{next}/page-2?api-version=x") })),
            )
            .mount(&server)
            .await;
        let page_2 = json!({ "value": [{ "id": theirs, "properties": {
            "roleDefinitionId": format!("/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{STORAGE_BLOB_DATA_CONTRIBUTOR}"),
            "principalId": PRINCIPAL,
        } }] });
        for s in [&server, &elsewhere] {
            Mock::given(method("GET")).and(path("/page-2")).respond_with(ResponseTemplate::new(200).set_body_json(&page_2)).mount(s).await;
        }
        let planned = arm.plan(&role).await;
        if foreign {
            let err = planned.unwrap_err();
            assert!(err.to_string().contains("refused the `nextLink` URL"), "{err}");
            assert!(elsewhere.received_requests().await.unwrap().is_empty(), "a request went to the other host");
        } else {
            assert!(planned.unwrap().is_empty(), "the second page's assignment was not found");
        }
    }
}

/// A `nextLink` back to a page already read ends the listing with an error instead of a loop: the page is
/// read once.
#[tokio::test]
async fn a_listing_whose_next_link_repeats_a_page_ends_in_an_error() {
    use wiremock::matchers::{method, path, path_regex};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let arm = ArmClient::builder(SUBSCRIPTION, fake_token()).endpoint(server.uri()).quick_retries().build().unwrap();
    let scope = arm.container_id("vectice-rg", "vecticeassets", &ContainerName::new("assets").unwrap());
    let role = RoleAssignmentSpec::blob_data_contributor(&scope, "11111111-2222-4333-8444-555555555555");
    let not_found = json!({ "error": { "code": "RoleAssignmentNotFound", "message": "not found" } });
    Mock::given(method("GET"))
        .and(path_regex(format!("/roleAssignments/{}$", role.assignment_name())))
        .respond_with(ResponseTemplate::new(404).set_body_json(not_found))
        .mount(&server)
        .await;
    let again = json!({ "value": [], "nextLink": format!("{}/page-2?api-version=x", server.uri()) });
    Mock::given(method("GET"))
        .and(path_regex("/roleAssignments$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&again))
        .mount(&server)
        .await;
    Mock::given(method("GET")).and(path("/page-2")).respond_with(ResponseTemplate::new(200).set_body_json(&again)).mount(&server).await;
    let err = tokio::time::timeout(Duration::from_secs(10), arm.plan(&role)).await.expect("the listing loops").unwrap_err();
    assert!(err.to_string().contains("repeats a page"), "{err}");
    let pages = server.received_requests().await.unwrap().iter().filter(|r| r.url.path() == "/page-2").count();
    assert_eq!(pages, 1, "the repeated page was read again");
}

/// A tag another system puts on resources (Azure Policy's `modify` effect adding `CreatedOnDate`) is a
/// change on every run, unless the client is told to ignore it: then no plan and no write. A key Azure
/// would not take is refused when the client is built.
#[tokio::test]
async fn tags_another_system_manages_are_ignored_when_asked() {
    let fake = FakeArm::start().await;
    let arm = fake.client();
    let spec = group();
    arm.ensure(&spec).await.unwrap();
    let path = arm.group_path("vectice-rg");
    let mut stored = fake.resource(&path).unwrap();
    stored["tags"]["CreatedOnDate"] = json!("2026-12-01T10:00:00Z");
    fake.seed(&path, stored);
    let plan = arm.plan(&spec).await.unwrap();
    assert!(
        matches!(plan.changes.as_slice(), [c] if matches!(&c.action, Action::Update { fields } if fields[0].field == "tags")),
        "{plan}"
    );

    let builder = || ArmClient::builder(SUBSCRIPTION, fake_token()).endpoint(fake.server.uri()).quick_retries();
    let ignoring = builder().ignore_tag("createdondate").build().unwrap();
    assert!(ignoring.plan(&spec).await.unwrap().is_empty(), "an ignored tag was planned");
    fake.reset_requests();
    assert!(ignoring.ensure(&spec).await.unwrap().plan.is_empty());
    assert_eq!(fake.count("GET"), fake.requests().len(), "{:?}", fake.requests());
    assert_eq!(fake.resource(&path).unwrap()["tags"]["CreatedOnDate"], "2026-12-01T10:00:00Z", "the ignored tag was touched");
    // The spec's own tags are still compared.
    let mut changed = spec.clone();
    changed.tags.insert("app".into(), "other".into());
    assert!(!ignoring.plan(&changed).await.unwrap().is_empty());

    // A spec that sets an ignored tag would never match what is read: refused before any request.
    let mut both = spec.clone();
    both.tags.insert("CreatedOnDate".into(), "mine".into());
    fake.reset_requests();
    assert_eq!(ignoring.plan(&both).await.unwrap_err().invalid_field(), Some("tags"));
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());

    for bad in ["", "a/b", "cost?", &"x".repeat(513)] {
        let err = builder().ignore_tag(bad).build().unwrap_err();
        assert_eq!(err.invalid_field(), Some("ignore_tag"), "{bad:?}: {err}");
    }
}

/// 12.3: a server that accepts connections and never answers ends in a typed Timeout within the bound.
#[tokio::test]
async fn a_server_that_never_answers_ends_in_a_timeout_within_the_bound() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    // The attempt limit alone (the operation limit is the default 10 minutes) ends it.
    let timeouts = deploy_core::timeouts::Timeouts::default().with_connect(Duration::from_secs(1)).with_attempt(Duration::from_millis(300));
    let arm = ArmClient::builder(SUBSCRIPTION, fake_token()).endpoint(&endpoint).quick_retries().timeouts(timeouts).build().unwrap();
    assert_eq!(arm.timeouts(), timeouts);
    let started = Instant::now();
    let err = arm.ensure(&group()).await.map(|e| e.plan).unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(&err, Error::Timeout { what, .. } if what.contains("resource group vectice-rg")), "{err:?}");
    assert!(elapsed < Duration::from_secs(4), "not bounded: {elapsed:?}");
    // The operation limit alone (attempts unbounded) ends it too.
    let arm = ArmClient::builder(SUBSCRIPTION, fake_token())
        .endpoint(&endpoint)
        .quick_retries()
        .timeouts(timeouts.with_attempt(Duration::from_secs(600)).with_operation(Duration::from_secs(2)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = arm.ensure(&group()).await.map(|e| e.plan).unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(4), "not bounded: {:?}", started.elapsed());
    held.abort();
}

/// 12.3: the long-running operation's waiter deadline bounds each poll, however long the attempt limit.
#[tokio::test]
async fn the_waiter_deadline_bounds_each_poll() {
    let fake = FakeArm::start().await;
    fake.set_lro(Lro::AsyncOperation { polls: 5, retry_after: 0 });
    fake.slow_polls(Duration::from_secs(60));
    let arm = ArmClient::builder(SUBSCRIPTION, fake_token())
        .endpoint(fake.server.uri())
        .quick_retries()
        .timeouts(deploy_core::timeouts::Timeouts::default().with_attempt(Duration::from_secs(600)))
        .waiter(deploy_core::Waiter::new(Duration::from_secs(1)).with_delays(Duration::from_millis(10), Duration::from_millis(50)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = arm.ensure(&group()).await.map(|e| e.plan).unwrap_err();
    assert!(matches!(&err, Error::Timeout { what, .. } if what.contains("to finish provisioning")), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "a poll outlived the deadline: {:?}", started.elapsed());
}

/// Updates read, modify and write back what the SDK does not manage: a subnet keeps its NSG, route table and
/// service endpoints (the fake drops what a PUT leaves out, as the service does), a blob service keeps its CORS
/// rules, and a public container is made private with PATCH (the fake's PUT, like BlobContainers_Create, does
/// not update an existing container).
#[tokio::test]
async fn updates_keep_every_writable_property_the_sdk_does_not_manage() {
    let fake = FakeArm::start().await;
    let arm = fake.client();
    let vnet_id = arm.virtual_network_id("vectice-rg", "pg-vnet");
    let subnet_id = arm.subnet_id("vectice-rg", "pg-vnet", "pg-subnet");
    let nsg = format!("{}/providers/Microsoft.Network/networkSecurityGroups/pg-nsg", arm.group_path("vectice-rg"));
    let routes = format!("{}/providers/Microsoft.Network/routeTables/pg-routes", arm.group_path("vectice-rg"));
    fake.seed(&vnet_id, json!({ "id": vnet_id, "name": "pg-vnet", "location": "westeurope", "etag": "W/\"1\"", "properties": {
        "provisioningState": "Succeeded", "resourceGuid": "g", "addressSpace": { "addressPrefixes": ["10.1.0.0/16"] },
        "subnets": [{ "id": subnet_id, "name": "pg-subnet", "properties": { "addressPrefixes": ["10.1.0.0/24"], "provisioningState": "Succeeded" } }] } }));
    fake.seed(
        &subnet_id,
        json!({ "id": subnet_id, "name": "pg-subnet", "etag": "W/\"1\"", "properties": {
        "addressPrefixes": ["10.1.0.0/24"],
        "networkSecurityGroup": { "id": nsg },
        "routeTable": { "id": routes },
        "serviceEndpoints": [{ "service": "Microsoft.Storage", "locations": ["westeurope"], "provisioningState": "Succeeded" }],
        "privateEndpointNetworkPolicies": "Disabled",
        "ipConfigurations": [{ "id": "/x" }],
        "provisioningState": "Succeeded"
    } }),
    );
    let mut subnet = SubnetSpec {
        resource_group: "vectice-rg".into(),
        virtual_network: "pg-vnet".into(),
        name: "pg-subnet".into(),
        address_prefix: CidrBlock::new("10.1.0.0/24").unwrap(),
        delegation: None,
    };
    // A subnet defined with addressPrefixes holding the spec's prefix is no drift.
    assert!(arm.plan(&subnet).await.unwrap().is_empty());
    subnet.delegation = Some(POSTGRES_DELEGATION.into());
    arm.ensure(&subnet).await.map(|e| e.plan).unwrap();
    let stored = fake.resource(&subnet_id).unwrap();
    assert_eq!(stored["properties"]["networkSecurityGroup"]["id"], nsg.as_str(), "the NSG was dropped: {stored}");
    assert_eq!(stored["properties"]["routeTable"]["id"], routes.as_str());
    assert_eq!(stored["properties"]["serviceEndpoints"][0]["service"], "Microsoft.Storage");
    assert_eq!(stored["properties"]["addressPrefixes"], json!(["10.1.0.0/24"]));
    assert_eq!(stored["properties"]["delegations"][0]["properties"]["serviceName"], POSTGRES_DELEGATION);
    assert!(arm.ensure(&subnet).await.map(|e| e.plan).unwrap().is_empty());
    // The network's own update keeps its subnets and sends nothing read-only.
    let vnet = VirtualNetworkSpec {
        resource_group: "vectice-rg".into(),
        name: "pg-vnet".into(),
        location: "westeurope".into(),
        address_space: vec![CidrBlock::new("10.1.0.0/16").unwrap(), CidrBlock::new("10.9.0.0/16").unwrap()],
        tags: Default::default(),
    };
    arm.ensure(&vnet).await.map(|e| e.plan).unwrap();
    assert_eq!(fake.resource(&vnet_id).unwrap()["properties"]["subnets"][0]["name"], "pg-subnet");

    // Blob service: versioning on, CORS kept.
    let account = StorageAccountSpec::new("vectice-rg", "vecticeassets", "westeurope");
    let account_id = arm.storage_account_id("vectice-rg", "vecticeassets");
    arm.ensure(&group()).await.map(|e| e.plan).unwrap();
    let mut unversioned = account.clone();
    unversioned.versioning = false;
    arm.ensure(&unversioned).await.map(|e| e.plan).unwrap();
    let cors = json!({ "corsRules": [{ "allowedOrigins": ["https://app.example.com"], "allowedMethods": ["GET"], "maxAgeInSeconds": 60, "exposedHeaders": [], "allowedHeaders": ["*"] }] });
    fake.seed(&format!("{account_id}/blobServices/default"), json!({ "name": "default", "properties": { "cors": cors, "isVersioningEnabled": false, "deleteRetentionPolicy": { "enabled": true, "days": 7 } } }));
    let plan = arm.ensure(&account).await.map(|e| e.plan).unwrap();
    assert!(plan.to_string().contains("versioning: false -> true"), "{plan}");
    let service = fake.resource(&format!("{account_id}/blobServices/default")).unwrap();
    assert_eq!(service["properties"]["isVersioningEnabled"], true);
    assert_eq!(service["properties"]["cors"], cors, "the CORS rules were deleted");
    assert_eq!(service["properties"]["deleteRetentionPolicy"]["days"], 7);

    // Container found public: PATCH makes it private.
    let container = ContainerName::new("assets").unwrap();
    let container_id = arm.container_id("vectice-rg", "vecticeassets", &container);
    fake.seed(&container_id, json!({ "name": "assets", "properties": { "publicAccess": "Container", "leaseState": "Available" } }));
    fake.reset_requests();
    let plan = arm.ensure(&ContainerSpec::new("vectice-rg", "vecticeassets", container.clone())).await.map(|e| e.plan).unwrap();
    assert!(plan.to_string().contains("public_access: Container -> None"), "{plan}");
    assert_eq!((fake.count("PATCH"), fake.count("PUT")), (1, 0), "{:?}", fake.requests());
    assert_eq!(fake.resource(&container_id).unwrap()["properties"]["publicAccess"], "None");
    assert!(arm.ensure(&ContainerSpec::new("vectice-rg", "vecticeassets", container.clone())).await.map(|e| e.plan).unwrap().is_empty());
}

/// The contract check itself: a body that breaks the spec fails with the property's path.
#[tokio::test]
async fn a_body_that_breaks_the_spec_fails_with_the_property_path() {
    let fake = FakeArm::start().await;
    let arm = fake.client();
    let body = json!({ "location": "westeurope", "tags": { "a": "b" }, "properties": { "provisioningState": "Succeeded" } });
    let err = arm
        .put(&arm.group_path("vectice-rg"), "2021-04-01", &body, deploy_azure::arm::Target { kind: "resource group", name: "vectice-rg" })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ResourceGroup.properties.provisioningState: read-only, never sent"), "{err}");
    let err = arm
        .put(
            &arm.group_path("vectice-rg"),
            "2020-01-01",
            &json!({ "location": "westeurope" }),
            deploy_azure::arm::Target { kind: "resource group", name: "vectice-rg" },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("api-version"), "{err}");
    assert_eq!(fake.take_violations().len(), 2);
}

/// A `tracing` writer into memory.
#[derive(Clone, Default)]
struct CapturedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLog {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLog {
    type Writer = CapturedLog;
    fn make_writer(&'a self) -> CapturedLog {
        self.clone()
    }
}

/// A TRACE subscriber writing into a new log.
fn captured_log() -> (tracing::Dispatch, CapturedLog) {
    let log = CapturedLog::default();
    let subscriber = tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_ansi(false).with_writer(log.clone()).finish();
    (tracing::Dispatch::new(subscriber), log)
}
