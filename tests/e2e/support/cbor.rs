//! Smithy RPC v2 CBOR → the AWS JSON 1.0 protocol moto serves, and back.
//!
//! Current aws-sdk-cloudwatch releases (1.100 and later) speak only RPC v2
//! CBOR (`POST /service/<Service>/operation/<Operation>`, `smithy-protocol:
//! rpc-v2-cbor`, a CBOR body). moto serves CloudWatch over the query and
//! JSON 1.0 protocols only, and its maintainers do not plan CBOR. The test
//! proxy ([`super::fault_proxy`]) therefore rewrites such a request into the
//! same operation over JSON 1.0 (`POST /`, `X-Amz-Target: <Service>.<Operation>`,
//! the same members as JSON) and the answer back into CBOR, so that the
//! library is tested with the SDK release its users get.
//!
//! The two protocols carry the same shapes; they differ in three value kinds:
//! - timestamps: CBOR tag 1 around epoch seconds; JSON epoch seconds as a
//!   number. Going back to CBOR, a number is a timestamp when its member is
//!   named `Timestamp`, `*Timestamp`, `StartTime`, `EndTime` or `Timestamps`
//!   (every timestamp member of the CloudWatch shapes is so named);
//! - blobs: CBOR byte strings; JSON base64 text;
//! - doubles and integers: kept apart by the JSON number's form (`80.0` stays
//!   a float, `80` an integer), which is how moto writes them.
//!
//! Errors keep their `__type` and `message` members, which both protocols
//! read the same way.

use base64::Engine as _;
use bytes::Bytes;
use ciborium::value::{Integer, Value as Cbor};
use serde_json::{Map, Number, Value as Json};

/// The `(service, operation)` of an RPC v2 CBOR request, from its path.
pub fn rpc_v2_operation(path: &str, headers: &hyper::HeaderMap) -> Option<(String, String)> {
    let cbor = headers.get("smithy-protocol").is_some_and(|v| v.as_bytes() == b"rpc-v2-cbor");
    let rest = path.split('?').next()?.strip_prefix("/service/")?;
    let (service, operation) = rest.split_once("/operation/")?;
    (cbor && !service.is_empty() && !operation.is_empty() && !operation.contains('/')).then(|| (service.to_owned(), operation.to_owned()))
}

/// The JSON 1.0 form of an RPC v2 CBOR request: the headers to set (the
/// others are kept, but `smithy-protocol`, `content-type` and `content-length`
/// are replaced) and the body.
///
/// # Errors
/// A body that is not CBOR.
pub fn request_to_json(service: &str, operation: &str, body: &[u8]) -> anyhow::Result<(Vec<(&'static str, String)>, Bytes)> {
    let json = if body.is_empty() {
        Json::Object(Map::new())
    } else {
        let value: Cbor = ciborium::from_reader(body).map_err(|e| anyhow::anyhow!("CBOR request body: {e}"))?;
        cbor_to_json(value)
    };
    let headers = vec![("x-amz-target", format!("{service}.{operation}")), ("content-type", "application/x-amz-json-1.0".to_owned())];
    Ok((headers, Bytes::from(serde_json::to_vec(&json)?)))
}

/// The CBOR form of a JSON 1.0 answer body (an empty body stays empty).
///
/// # Errors
/// A body that is not JSON.
pub fn response_to_cbor(body: &[u8]) -> anyhow::Result<Bytes> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Bytes::new());
    }
    let json: Json = serde_json::from_slice(body).map_err(|e| anyhow::anyhow!("JSON answer body: {e}"))?;
    let mut out = Vec::new();
    ciborium::into_writer(&json_to_cbor(json, false), &mut out)?;
    Ok(Bytes::from(out))
}

fn cbor_to_json(value: Cbor) -> Json {
    match value {
        Cbor::Null => Json::Null,
        Cbor::Bool(b) => Json::Bool(b),
        Cbor::Integer(i) => {
            i64::try_from(i).map(Number::from).or_else(|_| u64::try_from(i).map(Number::from)).map_or(Json::Null, Json::Number)
        }
        Cbor::Float(f) => Number::from_f64(f).map_or(Json::Null, Json::Number),
        Cbor::Text(s) => Json::String(s),
        Cbor::Bytes(b) => Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
        // Tag 1: epoch seconds, as JSON 1.0 writes timestamps.
        Cbor::Tag(_, inner) => cbor_to_json(*inner),
        Cbor::Array(items) => Json::Array(items.into_iter().map(cbor_to_json).collect()),
        Cbor::Map(entries) => Json::Object(
            entries
                .into_iter()
                .filter_map(|(k, v)| match k {
                    Cbor::Text(k) => Some((k, cbor_to_json(v))),
                    _ => None,
                })
                .collect(),
        ),
        _ => Json::Null,
    }
}

fn is_timestamp_member(name: &str) -> bool {
    name.ends_with("Timestamp") || matches!(name, "Timestamps" | "StartTime" | "EndTime")
}

fn json_to_cbor(value: Json, timestamp: bool) -> Cbor {
    match value {
        Json::Null => Cbor::Null,
        Json::Bool(b) => Cbor::Bool(b),
        Json::Number(n) => {
            let number = match (n.as_i64(), n.as_u64()) {
                (Some(i), _) if !n.is_f64() => Cbor::Integer(Integer::from(i)),
                (_, Some(u)) if !n.is_f64() => Cbor::Integer(Integer::from(u)),
                _ => Cbor::Float(n.as_f64().unwrap_or_default()),
            };
            if timestamp { Cbor::Tag(1, Box::new(number)) } else { number }
        }
        Json::String(s) => Cbor::Text(s),
        Json::Array(items) => Cbor::Array(items.into_iter().map(|v| json_to_cbor(v, timestamp)).collect()),
        Json::Object(map) => Cbor::Map(
            map.into_iter()
                .map(|(k, v)| {
                    let timestamp = is_timestamp_member(&k);
                    (Cbor::Text(k), json_to_cbor(v, timestamp))
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_keeps_its_members_and_timestamps_become_numbers() {
        let request = Cbor::Map(vec![
            (Cbor::Text("AlarmName".into()), Cbor::Text("p-db-cpu".into())),
            (Cbor::Text("Threshold".into()), Cbor::Float(80.0)),
            (Cbor::Text("EvaluationPeriods".into()), Cbor::Integer(3.into())),
            (Cbor::Text("StartTime".into()), Cbor::Tag(1, Box::new(Cbor::Float(1_700_000_000.5)))),
            (Cbor::Text("Data".into()), Cbor::Bytes(b"hi".to_vec())),
        ]);
        let mut body = Vec::new();
        ciborium::into_writer(&request, &mut body).unwrap();
        let (headers, json) = request_to_json("GraniteServiceVersion20100801", "PutMetricAlarm", &body).unwrap();
        assert!(headers.contains(&("x-amz-target", "GraniteServiceVersion20100801.PutMetricAlarm".to_owned())));
        let json: Json = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"AlarmName": "p-db-cpu", "Threshold": 80.0, "EvaluationPeriods": 3, "StartTime": 1_700_000_000.5, "Data": "aGk="})
        );
    }

    #[test]
    fn an_answer_tags_timestamp_members_and_keeps_floats_apart_from_integers() {
        let json = br#"{"MetricAlarms":[{"AlarmName":"a","Threshold":80.0,"Period":60,"StateUpdatedTimestamp":1700000000,"Tags":[]}]}"#;
        let cbor: Cbor = ciborium::from_reader(&response_to_cbor(json).unwrap()[..]).unwrap();
        let Cbor::Map(top) = cbor else { panic!("not a map") };
        let Cbor::Array(alarms) = &top[0].1 else { panic!("not an array") };
        let Cbor::Map(alarm) = &alarms[0] else { panic!("not a map") };
        let get = |name: &str| alarm.iter().find(|(k, _)| k == &Cbor::Text(name.into())).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(get("Threshold"), Cbor::Float(80.0));
        assert_eq!(get("Period"), Cbor::Integer(60.into()));
        assert_eq!(get("StateUpdatedTimestamp"), Cbor::Tag(1, Box::new(Cbor::Integer(1_700_000_000.into()))));
        assert!(response_to_cbor(b"").unwrap().is_empty());
    }

    #[test]
    fn only_rpc_v2_paths_with_the_protocol_header_are_translated() {
        let mut headers = hyper::HeaderMap::new();
        let path = "/service/GraniteServiceVersion20100801/operation/DescribeAlarms";
        assert_eq!(rpc_v2_operation(path, &headers), None);
        headers.insert("smithy-protocol", "rpc-v2-cbor".parse().unwrap());
        assert_eq!(rpc_v2_operation(path, &headers), Some(("GraniteServiceVersion20100801".into(), "DescribeAlarms".into())));
        assert_eq!(rpc_v2_operation("/", &headers), None);
    }
}
