//! A fault-injecting HTTP proxy between the SDK clients and a local peer.
//!
//! Seeded and deterministic per request number: for each request it rolls one
//! number from `StdRng::seed_from_u64(seed ^ n)` and either answers an error
//! itself without forwarding (503 `SlowDown`, 429, 500: `error_rate`), forwards
//! and then cuts the connection half-way through the response body
//! (`reset_rate`), forwards and then answers 500 or drops the connection
//! before any byte of the answer (`forward_fail_rate`: the server applied the
//! request and the client does not know — where duplicates come from), or
//! forwards untouched; it can add a fixed latency to every request. Every request is recorded (method, path and query, and bodies up
//! to a size) so tests can count mutating requests and search for secrets.
//!
//! Traffic stays on 127.0.0.1: the proxy listens on a free loopback port and
//! forwards only to the peer it is given.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use deploy_aws::record::is_mutating_operation;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rand::{Rng, SeedableRng, rngs::StdRng};
use tokio::net::TcpListener;

use super::cbor;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ProxyBody = BoxBody<Bytes, BoxError>;

/// What [`LocalRoutes`] make of a request.
pub enum Local {
    /// Answer it with this status and JSON body (recorded with fate `local`).
    Answer(u16, String),
    /// Forward it with this path and query instead.
    Rewrite(String),
    /// Forward it, then hand the answer's body to this function and send what it returns
    /// (for a field a peer leaves out of an answer, such as EKS's cluster security group).
    Patch(ResponsePatch),
}

/// See [`Local::Patch`].
pub type ResponsePatch = Arc<dyn Fn(Bytes) -> futures::future::BoxFuture<'static, Bytes> + Send + Sync>;

/// Routes the proxy handles itself: given the method, the path and query and
/// the body, `Some(Local)` answers or rewrites the request; `None` forwards it
/// as it is. For the few operations a peer does not model (see `backup_gaps`).
pub type LocalRoutes = Arc<dyn Fn(&hyper::Method, &str, &Bytes) -> Option<Local> + Send + Sync>;

/// What the proxy does to traffic.
#[derive(Clone, Copy, Debug)]
pub struct FaultConfig {
    /// Seed of the per-request rolls.
    pub seed: u64,
    /// Share of requests answered with 503 SlowDown / 429 / 500 (2:1:1) without forwarding.
    pub error_rate: f64,
    /// Share of requests whose response is cut half-way through its body.
    pub reset_rate: f64,
    /// Share of requests forwarded (the peer applies them) and then answered
    /// 500 `InternalError` or cut before any byte of the answer, half each.
    pub forward_fail_rate: f64,
    /// The first request of each of these is forwarded and then failed as by
    /// `forward_fail_rate`: an AWS operation (`CreateVpc`, matched on the last
    /// part of `secretsmanager.CreateSecret`), or `METHOD /path` prefix for
    /// REST requests (`POST /clusters`).
    pub forward_fail_first: &'static [&'static str],
    /// Added before every request.
    pub latency: Duration,
    /// Request bodies up to this size are recorded.
    pub capture_body_limit: usize,
}

impl FaultConfig {
    /// Forward everything untouched, recording requests.
    pub fn transparent() -> Self {
        FaultConfig {
            seed: 0,
            error_rate: 0.0,
            reset_rate: 0.0,
            forward_fail_rate: 0.0,
            forward_fail_first: &[],
            latency: Duration::ZERO,
            capture_body_limit: 0,
        }
    }
}

/// One request that reached the proxy.
#[derive(Clone, Debug)]
pub struct Captured {
    /// The HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Header values, as text where they are text.
    pub headers: Vec<(String, String)>,
    /// The body, when at most `capture_body_limit` bytes.
    pub body: Option<Bytes>,
    /// What the proxy did: `forwarded`, `error 503`, `reset`.
    pub fate: String,
    /// The AWS operation of a JSON-protocol (`X-Amz-Target`, as
    /// `secretsmanager.CreateSecret`) or query-protocol (`Action=`) request,
    /// read whatever the capture limit; `None` for REST requests, whose
    /// method tells what they do.
    pub aws_operation: Option<String>,
}

impl Captured {
    /// What the request is, for messages: its AWS operation, or `METHOD PATH`.
    pub fn operation(&self) -> String {
        self.aws_operation.clone().unwrap_or_else(|| format!("{} {}", self.method, self.path))
    }

    /// Whether the request may change state at the peer: for an AWS
    /// operation, deploy-aws's own rule ([`is_mutating_operation`]: query and
    /// JSON protocols send every call as a POST); else a method other than GET or HEAD.
    pub fn is_mutating(&self) -> bool {
        match &self.aws_operation {
            Some(op) => is_mutating_operation(op.rsplit('.').next().unwrap_or(op)),
            None => !matches!(self.method.as_str(), "GET" | "HEAD"),
        }
    }
}

#[derive(Default)]
struct Shared {
    captured: Mutex<Vec<Captured>>,
    counter: AtomicU64,
    /// The entries of `forward_fail_first` already used.
    failed_first: Mutex<std::collections::HashSet<&'static str>>,
}

/// A running proxy; stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Listen on a free 127.0.0.1 port and forward to `upstream` (`http://127.0.0.1:PORT`).
    pub async fn start(upstream: &str, config: FaultConfig) -> anyhow::Result<FaultProxy> {
        Self::start_with(upstream, config, None).await
    }

    /// As [`FaultProxy::start`], answering `local` routes itself.
    pub async fn start_with(upstream: &str, config: FaultConfig, local: Option<LocalRoutes>) -> anyhow::Result<FaultProxy> {
        let upstream: hyper::Uri = upstream.parse()?;
        anyhow::ensure!(
            upstream.host() == Some("127.0.0.1") || upstream.host() == Some("localhost"),
            "the fault proxy only forwards to loopback peers, not {upstream}"
        );
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let state = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let (client, state, upstream, local) = (client.clone(), state.clone(), upstream.clone(), local.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let (client, state, upstream, local) = (client.clone(), state.clone(), upstream.clone(), local.clone());
                        async move {
                            let response = handle(req, client, state, upstream, config, local).await;
                            // A service error makes hyper close the connection without an answer.
                            match response.extensions().get::<DropConnection>() {
                                Some(_) => {
                                    Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected: dropped after forwarding"))
                                }
                                None => Ok(response),
                            }
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Ok(FaultProxy { addr, shared, task })
    }

    /// `http://127.0.0.1:PORT`, to give to the clients instead of the peer's.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far.
    pub fn captured(&self) -> Vec<Captured> {
        self.shared.captured.lock().unwrap().clone()
    }

    /// Requests that may have changed state at the peer and were forwarded to it.
    pub fn mutating_forwarded(&self) -> Vec<Captured> {
        self.captured().into_iter().filter(|c| c.is_mutating() && c.fate != "error" && !c.fate.starts_with("error")).collect()
    }

    /// How many requests met each fate.
    pub fn count(&self, fate_prefix: &str) -> usize {
        self.captured().iter().filter(|c| c.fate.starts_with(fate_prefix)).count()
    }

    /// Forget what was recorded.
    pub fn clear(&self) {
        self.shared.captured.lock().unwrap().clear();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Marks a response the proxy does not send: it closes the connection instead.
#[derive(Clone, Copy)]
struct DropConnection;

/// See [`Captured::aws_operation`].
fn aws_operation(path: &str, headers: &hyper::HeaderMap, body: &Bytes) -> Option<String> {
    if let Some((service, operation)) = cbor::rpc_v2_operation(path, headers) {
        return Some(format!("{service}.{operation}"));
    }
    if let Some(target) = headers.get("x-amz-target") {
        return Some(String::from_utf8_lossy(target.as_bytes()).into_owned());
    }
    let form = headers.get("content-type").is_some_and(|t| t.as_bytes().starts_with(b"application/x-www-form-urlencoded"));
    form.then(|| {
        let text = String::from_utf8_lossy(body);
        text.split('&').find_map(|kv| kv.strip_prefix("Action=").map(str::to_owned))
    })?
}

fn full(bytes: impl Into<Bytes>) -> ProxyBody {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed()
}

async fn handle(
    req: Request<Incoming>,
    client: Client<HttpConnector, Full<Bytes>>,
    shared: Arc<Shared>,
    upstream: hyper::Uri,
    config: FaultConfig,
    local: Option<LocalRoutes>,
) -> Response<ProxyBody> {
    let n = shared.counter.fetch_add(1, Ordering::SeqCst);
    let mut rng = StdRng::seed_from_u64(config.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let roll: f64 = rng.random();
    if !config.latency.is_zero() {
        tokio::time::sleep(config.latency).await;
    }
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return Response::builder().status(StatusCode::BAD_REQUEST).body(full(format!("proxy: {e}"))).unwrap(),
    };
    let mut path = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
    let local = local.and_then(|routes| routes(&parts.method, &path, &body));
    let mut patch = None;
    let answer = match local {
        Some(Local::Rewrite(rewritten)) => {
            path = rewritten;
            None
        }
        Some(Local::Patch(p)) => {
            patch = Some(p);
            None
        }
        Some(Local::Answer(status, json)) => Some((status, json)),
        None => None,
    };
    let headers: Vec<(String, String)> =
        parts.headers.iter().map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
    let record = |fate: String| {
        shared.captured.lock().unwrap().push(Captured {
            method: parts.method.to_string(),
            path: path.clone(),
            headers: headers.clone(),
            body: (body.len() <= config.capture_body_limit).then(|| body.clone()),
            fate,
            aws_operation: aws_operation(&path, &parts.headers, &body),
        });
    };
    if let Some((status, json)) = answer {
        record("local".into());
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Response::builder().status(status).header("content-type", "application/json").body(full(json)).unwrap();
    }
    if roll < config.error_rate {
        let (status, code) = match (roll / config.error_rate * 4.0) as u32 {
            0 | 1 => (StatusCode::SERVICE_UNAVAILABLE, "SlowDown"),
            2 => (StatusCode::TOO_MANY_REQUESTS, "TooManyRequests"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
        };
        record(format!("error {}", status.as_u16()));
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>injected by the fault proxy</Message></Error>"
        );
        return Response::builder().status(status).header("content-type", "application/xml").body(full(xml)).unwrap();
    }
    let reset = roll < config.error_rate + config.reset_rate;
    let operation = aws_operation(&path, &parts.headers, &body);
    let first = config.forward_fail_first.iter().copied().find(|entry| match &operation {
        Some(op) => op.rsplit('.').next() == Some(*entry),
        None => format!("{} {path}", parts.method).starts_with(*entry),
    });
    let first = first.filter(|entry| shared.failed_first.lock().unwrap().insert(*entry));
    let fail_after = !reset && (first.is_some() || roll < config.error_rate + config.reset_rate + config.forward_fail_rate);
    let drop_after = rng.random::<bool>();
    // RPC v2 CBOR (current aws-sdk-cloudwatch) goes to moto as JSON 1.0 and comes back as CBOR.
    let rpc_v2 = cbor::rpc_v2_operation(&path, &parts.headers);
    let (forward_path, forward_headers, forward_body) = match &rpc_v2 {
        Some((service, operation)) => match cbor::request_to_json(service, operation, &body) {
            Ok((set, json)) => {
                let mut headers = parts.headers.clone();
                for name in ["smithy-protocol", "content-length", "accept"] {
                    headers.remove(name);
                }
                for (name, value) in set {
                    headers.insert(name, value.parse().expect("a header value"));
                }
                ("/".to_owned(), headers, json)
            }
            Err(e) => return Response::builder().status(StatusCode::BAD_REQUEST).body(full(format!("proxy: {e}"))).unwrap(),
        },
        None => (path.clone(), parts.headers.clone(), body.clone()),
    };
    let mut forward = Request::builder().method(parts.method.clone()).uri(format!(
        "{}://{}{}",
        upstream.scheme_str().unwrap_or("http"),
        upstream.authority().map(|a| a.as_str()).unwrap_or_default(),
        forward_path
    ));
    for (name, value) in &forward_headers {
        forward = forward.header(name, value);
    }
    let response = match client.request(forward.body(Full::new(forward_body)).unwrap()).await {
        Ok(r) => r,
        Err(e) => {
            record("upstream error".into());
            return Response::builder().status(StatusCode::BAD_GATEWAY).body(full(format!("proxy: {e}"))).unwrap();
        }
    };
    let (mut rparts, rbody) = response.into_parts();
    let mut rbytes = match rbody.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return Response::builder().status(StatusCode::BAD_GATEWAY).body(full(format!("proxy: {e}"))).unwrap(),
    };
    if fail_after {
        // The peer applied the request; its answer never reaches the client.
        if drop_after {
            record("forwarded, then dropped".into());
            let mut response = Response::new(full(Bytes::new()));
            response.extensions_mut().insert(DropConnection);
            return response;
        }
        record("forwarded, then error 500".into());
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code><Message>injected by the fault proxy after forwarding</Message></Error>";
        return Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .header("content-type", "application/xml")
            .body(full(xml))
            .unwrap();
    }
    if let Some(patch) = patch
        && rparts.status.is_success()
    {
        rbytes = patch(rbytes).await;
        rparts.headers.insert("content-length", rbytes.len().into());
    }
    if rpc_v2.is_some() {
        rbytes = match cbor::response_to_cbor(&rbytes) {
            Ok(b) => b,
            Err(e) => return Response::builder().status(StatusCode::BAD_GATEWAY).body(full(format!("proxy: {e}"))).unwrap(),
        };
        rparts.headers.insert("content-type", hyper::header::HeaderValue::from_static("application/cbor"));
        rparts.headers.insert("smithy-protocol", hyper::header::HeaderValue::from_static("rpc-v2-cbor"));
        rparts.headers.insert("content-length", rbytes.len().into());
    }
    if reset && rbytes.len() >= 2 {
        record("reset".into());
        // Headers (with the full Content-Length) and half the body, then the connection drops.
        let half = rbytes.slice(..rbytes.len() / 2);
        let frames: Vec<Result<Frame<Bytes>, BoxError>> =
            vec![Ok(Frame::data(half)), Err(Box::new(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected reset")))];
        let body = StreamBody::new(futures::stream::iter(frames)).boxed();
        return Response::from_parts(rparts, body);
    }
    record("forwarded".into());
    Response::from_parts(rparts, full(rbytes))
}
