//! The AWS Backup operations moto 5.1 does not model (it answers 500 to
//! them), served by the fault proxy in front of moto so that an example that
//! makes a backup plan *with its selection* runs end to end: vaults, plans and
//! tags still go to moto; backup selections (create, list, get, delete) and
//! the listing of a vault's recovery points (always empty: nothing ever runs a
//! job here) are answered from this small in-memory state in AWS Backup's own
//! REST/JSON shapes. deploy-aws's use of these operations is tested against
//! the stateful fake in crates/deploy-aws/tests/aws/backup.rs.
//!
//! One route is only mended: moto reads `ListTags`' ARN from the path's
//! second-to-last segment (`/tags/{arn}/`), while the SDK sends `/tags/{arn}`,
//! so moto always answers no tags; the proxy adds the trailing slash.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hyper::Method;
use serde_json::{Value, json};

use super::fault_proxy::{Local, LocalRoutes};

#[derive(Default)]
struct State {
    /// plan id → selection id → the selection as created.
    selections: BTreeMap<String, BTreeMap<String, Value>>,
    next: u64,
}

/// Routes for [`super::fault_proxy::FaultProxy::start_with`].
pub fn routes() -> LocalRoutes {
    let state = Arc::new(Mutex::new(State::default()));
    Arc::new(move |method: &Method, path_and_query: &str, body: &Bytes| answer(&state, method, path_and_query, body))
}

fn not_found(what: &str) -> (u16, String) {
    (404, json!({"__type": "ResourceNotFoundException", "Message": format!("{what} not found")}).to_string())
}

fn answer(state: &Mutex<State>, method: &Method, path_and_query: &str, body: &Bytes) -> Option<Local> {
    let (path, query) = path_and_query.split_once('?').map_or((path_and_query, None), |(p, q)| (p, Some(q)));
    if method == Method::GET && path.starts_with("/tags/arn") && !path.ends_with('/') {
        return Some(Local::Rewrite(format!("{path}/{}", query.map(|q| format!("?{q}")).unwrap_or_default())));
    }
    answer_json(state, method, path, body).map(|(status, json)| Local::Answer(status, json))
}

fn answer_json(state: &Mutex<State>, method: &Method, path: &str, body: &Bytes) -> Option<(u16, String)> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut state = state.lock().unwrap();
    match (method, parts.as_slice()) {
        (&Method::GET, ["backup-vaults", _vault, "recovery-points"]) => Some((200, json!({"RecoveryPoints": []}).to_string())),
        (&Method::PUT, ["backup", "plans", plan, "selections"]) => {
            let request: Value = serde_json::from_slice(body).ok()?;
            state.next += 1;
            let id = format!("selection-{:08}", state.next);
            let selection = request.get("BackupSelection").cloned().unwrap_or(Value::Null);
            state.selections.entry((*plan).to_owned()).or_default().insert(id.clone(), selection);
            Some((200, json!({"SelectionId": id, "BackupPlanId": plan, "CreationDate": 1.7e9}).to_string()))
        }
        (&Method::GET, ["backup", "plans", plan, "selections"]) => {
            let list: Vec<Value> = state
                .selections
                .get(*plan)
                .into_iter()
                .flatten()
                .map(|(id, s)| {
                    json!({"SelectionId": id, "BackupPlanId": plan, "SelectionName": s["SelectionName"], "IamRoleArn": s["IamRoleArn"], "CreationDate": 1.7e9})
                })
                .collect();
            Some((200, json!({"BackupSelectionsList": list}).to_string()))
        }
        (&Method::GET, ["backup", "plans", plan, "selections", id]) => match state.selections.get(*plan).and_then(|s| s.get(*id)) {
            Some(s) => {
                Some((200, json!({"BackupSelection": s, "SelectionId": id, "BackupPlanId": plan, "CreationDate": 1.7e9}).to_string()))
            }
            None => Some(not_found("selection")),
        },
        (&Method::DELETE, ["backup", "plans", plan, "selections", id]) => {
            match state.selections.get_mut(*plan).and_then(|s| s.remove(*id)) {
                Some(_) => Some((200, "{}".to_owned())),
                None => Some(not_found("selection")),
            }
        }
        _ => None,
    }
}
