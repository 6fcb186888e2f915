//! The contract of every ARM request the client sends, written from the
//! public REST API specifications (repo Azure/azure-rest-api-specs) at the
//! client's api-versions: one fixture per resource type in `schemas/`, each
//! naming its spec file and api-version, with the operations the client uses
//! (verb, operationId, the body's definition, status codes, long-running
//! style) and the definitions of the bodies (a JSON-schema subset: `type`,
//! `properties`, `required`, `readOnly`, `x-ms-mutability`, `enum`,
//! `pattern`, `minLength`/`maxLength`, `minimum`/`maximum`, `maxItems`,
//! `items`, `additionalProperties`, `$ref`).
//!
//! An operation names its status codes (`responses`), whether the spec marks
//! it `x-ms-long-running-operation` (`longRunning`), the spec's
//! `final-state-via` where it gives one (`finalStateVia`), and `lro`: how the
//! fake answers it (`azure-async-operation`: 201/200 to a PUT, 202 (200
//! where the spec lists no 202) to other verbs, with `Azure-AsyncOperation`; `location`: 202 with `Location`), the
//! final-state-via where the spec names one and otherwise the service's
//! known answer (`lroBasis` says which). The resource `name` is a pattern, or
//! `{ pattern, minLength, maxLength }` from the spec's path parameter; a rule
//! taken from a description rather than a schema keyword says so
//! (`x-from-description`).
//!
//! [`Contracts::check`] answers every rule a request breaks, each with the
//! JSON path of the property (`properties.location: not in ServerForUpdate`).

#![allow(dead_code)]

use regex::Regex;
use serde_json::Value;

/// The fixtures, compiled in.
const FIXTURES: [(&str, &str); 19] = [
    ("resource_groups", include_str!("schemas/resource_groups.json")),
    ("storage_accounts", include_str!("schemas/storage_accounts.json")),
    ("blob_services", include_str!("schemas/blob_services.json")),
    ("blob_containers", include_str!("schemas/blob_containers.json")),
    ("virtual_networks", include_str!("schemas/virtual_networks.json")),
    ("subnets", include_str!("schemas/subnets.json")),
    ("virtual_network_peerings", include_str!("schemas/virtual_network_peerings.json")),
    ("private_dns_zones", include_str!("schemas/private_dns_zones.json")),
    ("virtual_network_links", include_str!("schemas/virtual_network_links.json")),
    ("flexible_servers", include_str!("schemas/flexible_servers.json")),
    ("flexible_server_configurations", include_str!("schemas/flexible_server_configurations.json")),
    ("flexible_server_databases", include_str!("schemas/flexible_server_databases.json")),
    ("managed_clusters", include_str!("schemas/managed_clusters.json")),
    ("agent_pools", include_str!("schemas/agent_pools.json")),
    ("role_assignments", include_str!("schemas/role_assignments.json")),
    ("locks", include_str!("schemas/locks.json")),
    ("file_shares", include_str!("schemas/file_shares.json")),
    ("log_analytics_workspaces", include_str!("schemas/log_analytics_workspaces.json")),
    ("diagnostic_settings", include_str!("schemas/diagnostic_settings.json")),
];

/// Whether a body creates the resource or updates one that exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// PUT of a missing resource.
    Create,
    /// PUT of an existing resource, or PATCH.
    Update,
}

/// One resource type's contract.
pub struct Contract {
    /// The fixture's file stem.
    pub fixture: &'static str,
    /// `Microsoft.X/y`.
    pub resource_type: String,
    /// The api-version the fixture follows.
    pub api_version: String,
    path: Regex,
    name: Option<NameRule>,
    doc: Value,
}

/// The rule of the resource name in the path (the spec's path parameter).
struct NameRule {
    pattern: Regex,
    min: Option<usize>,
    max: Option<usize>,
}

impl NameRule {
    fn of(doc: &Value) -> Option<NameRule> {
        let length = |k: &str| doc[k].as_u64().map(|n| n as usize);
        match doc {
            Value::String(p) => Some(NameRule { pattern: Regex::new(p).unwrap(), min: None, max: None }),
            Value::Object(_) => Some(NameRule {
                pattern: Regex::new(doc["pattern"].as_str().expect("name.pattern")).unwrap(),
                min: length("minLength"),
                max: length("maxLength"),
            }),
            _ => None,
        }
    }
}

/// How the service answers one operation, from the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// `Servers_Update`.
    pub id: String,
    /// The status codes the spec lists.
    pub responses: Vec<u16>,
    /// How the fake answers it: `azure-async-operation`, `location`, or none (synchronous).
    pub lro: Option<String>,
    /// The spec marks it `x-ms-long-running-operation`.
    pub long_running: bool,
    /// The spec's `final-state-via`, where it gives one.
    pub final_state_via: Option<String>,
}

/// Every contract.
pub struct Contracts(Vec<Contract>);

impl Contracts {
    /// Load and compile the fixtures.
    ///
    /// # Panics
    /// On a fixture that is not valid (a test bug).
    pub fn load() -> Contracts {
        Contracts(
            FIXTURES
                .iter()
                .map(|(stem, text)| {
                    let doc: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("schemas/{stem}.json: {e}"));
                    let s = |k: &str| doc[k].as_str().unwrap_or_else(|| panic!("schemas/{stem}.json has no {k}")).to_owned();
                    assert!(
                        s("spec").starts_with("specification/") && s("spec").contains(&s("apiVersion")),
                        "{stem}: spec file of the api-version"
                    );
                    Contract {
                        fixture: stem,
                        resource_type: s("resourceType"),
                        api_version: s("apiVersion"),
                        path: Regex::new(&s("path")).unwrap(),
                        name: NameRule::of(&doc["name"]),
                        doc,
                    }
                })
                .collect(),
        )
    }

    /// The contract of a resource path (lower-cased), if any.
    pub fn of(&self, path: &str) -> Option<&Contract> {
        self.0.iter().find(|c| c.path.is_match(path))
    }

    /// Every contract.
    pub fn all(&self) -> &[Contract] {
        &self.0
    }
}

impl Contract {
    /// The operation `verb` (`PUT`, `POST start`), if the client may use it.
    pub fn operation(&self, verb: &str) -> Option<Operation> {
        let op = self.doc["operations"].get(verb)?;
        Some(Operation {
            id: op["operationId"].as_str().unwrap_or_default().to_owned(),
            responses: op["responses"]
                .as_array()
                .map(|a| a.iter().filter_map(|s| s.as_u64().map(|s| s as u16)).collect())
                .unwrap_or_default(),
            lro: op["lro"].as_str().map(str::to_owned),
            long_running: op["longRunning"].as_bool().unwrap_or(false),
            final_state_via: op["finalStateVia"].as_str().map(str::to_owned),
        })
    }

    /// Whether a PUT of an existing resource leaves it as it is (`BlobContainers_Create`).
    pub fn create_only(&self, verb: &str) -> bool {
        self.doc["operations"][verb]["createOnly"].as_bool().unwrap_or(false)
    }

    /// Every rule that a request breaks: api-version, resource name, the body against the operation's definition.
    pub fn check(&self, verb: &str, path: &str, api_version: Option<&str>, body: Option<&Value>, mode: Mode) -> Vec<String> {
        let mut out = Vec::new();
        if api_version != Some(self.api_version.as_str()) {
            out.push(format!("api-version {api_version:?}: the contract is {} ({})", self.api_version, self.fixture));
        }
        if let (Some(rule), Some(name)) = (&self.name, self.path.captures(path).and_then(|c| c.name("name"))) {
            // Names are matched as sent (the path is lower-cased only for lookup).
            let sent = &path[name.start()..name.end()];
            let re = &rule.pattern;
            if !re.is_match(sent) && !re.is_match(&sent.to_ascii_lowercase()) {
                out.push(format!("resource name {sent:?} does not match {}", re.as_str()));
            }
            let length = sent.chars().count();
            if let Some(min) = rule.min.filter(|m| length < *m) {
                out.push(format!("resource name {sent:?}: {length} characters, at least {min}"));
            }
            if let Some(max) = rule.max.filter(|m| length > *m) {
                out.push(format!("resource name {sent:?}: {length} characters, at most {max}"));
            }
        }
        let Some(op) = self.doc["operations"].get(verb) else {
            out.push(format!("{verb} is not an operation of {} in the contract", self.resource_type));
            return out;
        };
        match (op["body"].as_str(), body) {
            (Some(def), Some(body)) => {
                let schema = serde_json::json!({ "$ref": format!("#/definitions/{def}") });
                self.check_value(&schema, body, def, mode, &mut out)
            }
            (Some(def), None) => out.push(format!("{verb}: the body ({def}) is required")),
            (None, Some(body)) if !body.is_null() => out.push(format!("{verb}: the operation takes no body")),
            _ => {}
        }
        out
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> (&'a Value, Option<&'a str>) {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.trim_start_matches("#/definitions/");
                let target = &self.doc["definitions"][name];
                assert!(!target.is_null(), "{}: no definition {name}", self.fixture);
                (target, Some(name))
            }
            None => (schema, None),
        }
    }

    fn check_value(&self, schema: &Value, value: &Value, at: &str, mode: Mode, out: &mut Vec<String>) {
        let (schema, def) = self.resolve(schema);
        let typed = schema["type"].as_str();
        let ok = match typed {
            Some("object") => value.is_object(),
            Some("array") => value.is_array(),
            Some("string") => value.is_string(),
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            _ => true,
        };
        if !ok {
            out.push(format!("{at}: {value} is not of type {}", typed.unwrap_or_default()));
            return;
        }
        if let Some(values) = schema["enum"].as_array()
            && !values.contains(value)
        {
            out.push(format!("{at}: {value} is not one of the enum {}", Value::Array(values.clone())));
        }
        if let (Some(p), Some(s)) = (schema["pattern"].as_str(), value.as_str())
            && !Regex::new(p).unwrap().is_match(s)
        {
            out.push(format!("{at}: {s:?} does not match the pattern {p}"));
        }
        if let Some(s) = value.as_str() {
            let length = s.chars().count() as u64;
            if let Some(min) = schema["minLength"].as_u64().filter(|m| length < *m) {
                out.push(format!("{at}: {length} characters, at least {min}"));
            }
            if let Some(max) = schema["maxLength"].as_u64().filter(|m| length > *m) {
                out.push(format!("{at}: {length} characters, at most {max}"));
            }
        }
        if let Some(n) = value.as_f64() {
            if let Some(min) = schema["minimum"].as_f64().filter(|min| n < *min) {
                out.push(format!("{at}: {n} is below the minimum {min}"));
            }
            if let Some(max) = schema["maximum"].as_f64().filter(|max| n > *max) {
                out.push(format!("{at}: {n} is above the maximum {max}"));
            }
        }
        if let Some(items) = value.as_array() {
            if let Some(max) = schema["maxItems"].as_u64().filter(|m| items.len() as u64 > *m) {
                out.push(format!("{at}: {} items, at most {max}", items.len()));
            }
            if let Some(item) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    self.check_value(item, v, &format!("{at}[{i}]"), mode, out);
                }
            }
        }
        if let Some(object) = value.as_object() {
            let properties = schema["properties"].as_object();
            for required in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                let read_only = properties.and_then(|p| p.get(required)).is_some_and(|p| p["readOnly"] == true);
                let sent_back_unchanged = required == "location" && mode == Mode::Update;
                if !(object.contains_key(required) || read_only || sent_back_unchanged) {
                    out.push(format!("{at}.{required}: required"));
                }
            }
            for (key, v) in object {
                let path = format!("{at}.{key}");
                match properties.and_then(|p| p.get(key)) {
                    Some(property) => {
                        if property["readOnly"] == true {
                            out.push(format!("{path}: read-only, never sent"));
                            continue;
                        }
                        if let Some(mutability) = property["x-ms-mutability"].as_array() {
                            let allowed = |m: &str| mutability.iter().any(|x| x == m);
                            match mode {
                                Mode::Create if !allowed("create") => {
                                    out.push(format!("{path}: cannot be set at creation (x-ms-mutability)"))
                                }
                                Mode::Update if !allowed("update") && !is_unchanged_create_only(key) => {
                                    out.push(format!("{path}: cannot be updated (x-ms-mutability)"))
                                }
                                _ => {}
                            }
                        }
                        self.check_value(property, v, &path, mode, out);
                    }
                    None => match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            out.push(format!("{path}: not a property of {}", def.unwrap_or("the object")));
                        }
                        Some(extra @ Value::Object(_)) => self.check_value(extra, v, &path, mode, out),
                        _ => {}
                    },
                }
            }
        }
    }
}

/// `location` of a tracked resource is create-only, but a read-modify-write PUT
/// sends it back unchanged, which ARM accepts.
fn is_unchanged_create_only(key: &str) -> bool {
    key == "location"
}

#[test]
fn every_fixture_names_its_spec_file_and_api_version_and_every_client_api_version_is_covered() {
    use deploy_azure::arm::api;
    let contracts = Contracts::load();
    assert_eq!(contracts.all().len(), FIXTURES.len());
    for version in [
        api::RESOURCE_GROUPS,
        api::STORAGE,
        api::NETWORK,
        api::PRIVATE_DNS,
        api::POSTGRES,
        api::AKS,
        api::ROLE_ASSIGNMENTS,
        api::LOCKS,
        api::LOG_ANALYTICS,
        api::DIAGNOSTIC_SETTINGS,
    ] {
        assert!(contracts.all().iter().any(|c| c.api_version == version), "no fixture at api-version {version}");
    }
}

#[test]
fn the_checker_names_the_property_path_of_each_broken_rule() {
    let contracts = Contracts::load();
    let server = contracts.of("/subscriptions/s/resourcegroups/g/providers/microsoft.dbforpostgresql/flexibleservers/db").unwrap();
    let bad = serde_json::json!({
        "location": "westeurope",
        "properties": { "version": "17", "state": "Ready", "backup": { "geoRedundantBackup": "Enabled" } },
        "sku": { "name": "Standard_D2ds_v4", "tier": "Cheap" }
    });
    let found = server.check("PATCH", "/x/flexibleservers/db", Some("2024-08-01"), Some(&bad), Mode::Update);
    for expected in [
        "ServerForUpdate.location: not a property of ServerForUpdate",
        "ServerForUpdate.properties.version: \"17\" is not one of the enum",
        "ServerForUpdate.properties.state: not a property of ServerPropertiesForUpdate",
        "ServerForUpdate.properties.backup.geoRedundantBackup: cannot be updated",
        "ServerForUpdate.sku.tier: \"Cheap\" is not one of the enum",
    ] {
        assert!(found.iter().any(|f| f.starts_with(expected)), "{expected} not in {found:#?}");
    }
    let put = server.check(
        "PUT",
        "/x/flexibleservers/db",
        Some("2024-08-01"),
        Some(&serde_json::json!({ "properties": { "state": "Ready" } })),
        Mode::Create,
    );
    assert!(put.iter().any(|f| f == "Server.location: required"), "{put:?}");
    assert!(put.iter().any(|f| f == "Server.properties.state: read-only, never sent"), "{put:?}");
    let pool =
        contracts.of("/subscriptions/s/resourcegroups/g/providers/microsoft.containerservice/managedclusters/c/agentpools/p").unwrap();
    let wrong = pool.check(
        "PUT",
        "/x/agentpools/p",
        Some("2024-09-01"),
        Some(&serde_json::json!({ "properties": { "count": 1001 } })),
        Mode::Create,
    );
    assert!(wrong.iter().any(|f| f.starts_with("AgentPool.properties.count: 1001 is above the maximum")), "{wrong:?}");
    assert!(!pool.check("PUT", "/x/agentpools/p", Some("2024-08-01"), None, Mode::Create).is_empty());
    // Name rules of the path parameters, lengths included, and a string's maxLength.
    let account = "/subscriptions/s/resourcegroups/g/providers/microsoft.storage/storageaccounts/ab";
    let short = contracts.of(account).unwrap().check("DELETE", account, Some("2023-05-01"), None, Mode::Update);
    assert_eq!(short, ["resource name \"ab\": 2 characters, at least 3"]);
    let database = "/subscriptions/s/resourcegroups/g/providers/microsoft.dbforpostgresql/flexibleservers/db1/databases/1app";
    let digit = contracts.of(database).unwrap().check("DELETE", database, Some("2024-08-01"), None, Mode::Update);
    assert!(digit.iter().any(|f| f.starts_with("resource name \"1app\" does not match")), "{digit:?}");
    let lock = "/subscriptions/s/resourcegroups/g/providers/microsoft.authorization/locks/keep";
    let notes = serde_json::json!({ "properties": { "level": "CanNotDelete", "notes": "n".repeat(513) } });
    let long = contracts.of(lock).unwrap().check("PUT", lock, Some("2020-05-01"), Some(&notes), Mode::Create);
    assert_eq!(long, ["ManagementLockObject.properties.notes: 513 characters, at most 512"]);
}

#[test]
fn every_operation_is_long_running_as_its_spec_says_and_the_fake_answers_a_listed_status() {
    let contracts = Contracts::load();
    for c in contracts.all() {
        for (verb, op) in c.doc["operations"].as_object().unwrap() {
            let o = c.operation(verb).unwrap();
            let at = format!("{}: {verb} {}", c.fixture, o.id);
            assert!(!o.id.is_empty() && !o.responses.is_empty(), "{at}: operationId and responses");
            assert!(op["longRunning"].is_boolean(), "{at}: longRunning, as the spec marks it");
            match (&o.lro, o.long_running) {
                (Some(style), true) => assert!(["azure-async-operation", "location"].contains(&style.as_str()), "{at}: {style}"),
                (Some(_), false) => panic!("{at}: a polling style on an operation the spec does not mark long-running"),
                (None, true) => panic!("{at}: long-running in the spec, but the fake would answer it synchronously"),
                (None, false) => {}
            }
            match &o.final_state_via {
                Some(via) => assert_eq!(o.lro.as_ref(), Some(via), "{at}: the fake polls where the spec reads the final state"),
                None if o.lro.is_some() => assert!(op["lroBasis"].is_string(), "{at}: no final-state-via: lroBasis says why this style"),
                None => {}
            }
            // The status the fake answers in the spec's style (fake_arm.rs, `Responder::answer`) is one the spec lists.
            let listed = |any: &[u16]| any.iter().any(|s| o.responses.contains(s));
            let ok = match (o.lro.as_deref(), verb.as_str()) {
                (Some("location"), _) => listed(&[202]),
                (_, "PUT") => listed(&[201, 200]),
                (Some(_), _) => listed(&[202, 200]),
                (None, "DELETE") => listed(&[200, 204]),
                (None, _) => listed(&[200]),
            };
            assert!(ok, "{at}: the fake's answer is not among {:?}", o.responses);
        }
    }
}

#[test]
fn file_share_workspace_and_diagnostic_setting_contracts_cover_their_paths_and_refuse_what_their_specs_refuse() {
    let contracts = Contracts::load();
    let group = "/subscriptions/s/resourcegroups/g/providers";
    let share = format!("{group}/microsoft.storage/storageaccounts/a1/fileservices/default/shares/cache");
    let workspace = format!("{group}/microsoft.operationalinsights/workspaces/logs");
    let setting = format!("{group}/microsoft.containerservice/managedclusters/c/providers/microsoft.insights/diagnosticsettings/d");
    let fixture = |path: &str| contracts.of(path).map(|c| c.fixture);
    assert_eq!(fixture(&share), Some("file_shares"));
    assert_eq!(fixture(&workspace), Some("log_analytics_workspaces"));
    // An extension resource under a cluster is covered by its own contract, not the cluster's.
    assert_eq!(fixture(&setting), Some("diagnostic_settings"));
    assert_eq!(fixture(&format!("{group}/microsoft.containerservice/managedclusters/c")), Some("managed_clusters"));
    let share_contract = contracts.of(&share).unwrap();
    let zero = share_contract.check(
        "PUT",
        &share,
        Some("2023-05-01"),
        Some(&serde_json::json!({ "properties": { "shareQuota": 0 } })),
        Mode::Create,
    );
    assert_eq!(zero, ["FileShare.properties.shareQuota: 0 is below the minimum 1"]);
    let protocol = serde_json::json!({ "properties": { "enabledProtocols": "NFS" } });
    let update = share_contract.check("PATCH", &share, Some("2023-05-01"), Some(&protocol), Mode::Update);
    assert!(update.iter().any(|f| f.contains("enabledProtocols: cannot be updated")), "{update:?}");
    let double_dash = share.replace("/cache", "/ca--che");
    assert!(!share_contract.check("DELETE", &double_dash, Some("2023-05-01"), None, Mode::Update).is_empty());
    let workspace_contract = contracts.of(&workspace).unwrap();
    let no_location = serde_json::json!({ "properties": { "sku": { "name": "PerGB2018" } } });
    assert_eq!(
        workspace_contract.check("PUT", &workspace, Some("2023-09-01"), Some(&no_location), Mode::Create),
        ["Workspace.location: required"]
    );
    let moved = serde_json::json!({ "location": "northeurope", "properties": { "retentionInDays": 60 } });
    let patch = workspace_contract.check("PATCH", &workspace, Some("2023-09-01"), Some(&moved), Mode::Update);
    assert_eq!(patch, ["WorkspacePatch.location: not a property of WorkspacePatch"]);
    let short = workspace.replace("/logs", "/abc");
    assert!(!workspace_contract.check("DELETE", &short, Some("2023-09-01"), None, Mode::Update).is_empty());
    let setting_contract = contracts.of(&setting).unwrap();
    let tagged = serde_json::json!({ "location": "westeurope", "properties": { "logs": [{ "category": "kube-audit" }] } });
    let found = setting_contract.check("PUT", &setting, Some("2021-05-01-preview"), Some(&tagged), Mode::Create);
    assert!(found.iter().any(|f| f == "DiagnosticSettingsResource.location: not a property of DiagnosticSettingsResource"), "{found:?}");
    assert!(found.iter().any(|f| f == "DiagnosticSettingsResource.properties.logs[0].enabled: required"), "{found:?}");
    assert!(setting_contract.operation("PATCH").is_none(), "diagnostic settings have no PATCH");
}
