//! What moto 5.1 leaves out of S3's conditional copies, answered in front of
//! it as S3 documents them: `x-amz-copy-source-if-match` on `CopyObject` and
//! `UploadPartCopy` (moto ignores it; S3 answers `412 PreconditionFailed`
//! when the source's ETag differs, and copies that very object otherwise) and
//! `If-Match` / `If-None-Match` on a `CopyObject`'s destination.
//!
//! For a copy carrying a source condition, the proxy asks moto for the source
//! with `HeadObject` + `If-Match` (which moto honours): a 412 is answered
//! as S3 would; otherwise the copy goes on pinned to the version that HEAD
//! saw, so what is copied is the object that matched, as on S3. Everything
//! else is forwarded untouched. A hook may run before each request, to play a
//! concurrent writer at the worst moment.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// Runs before a request is handled: its method, path and query, headers.
pub type Before = Arc<dyn Fn(&Method, &str, &HeaderMap) -> BoxFuture<'static, ()> + Send + Sync>;

/// Runs after the peer answered a request and before the answer goes back:
/// its method, path and query (a slow network, at the worst moment).
pub type After = Arc<dyn Fn(&Method, &str) -> BoxFuture<'static, ()> + Send + Sync>;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A running proxy; stops when dropped.
pub struct S3Conditions {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl S3Conditions {
    /// Listen on a free 127.0.0.1 port, in front of `upstream` (`http://127.0.0.1:PORT`).
    pub async fn start(upstream: &str, before: Option<Before>) -> anyhow::Result<S3Conditions> {
        Self::start_with(upstream, before, None).await
    }

    /// As [`S3Conditions::start`], with a hook after each answer.
    pub async fn start_with(upstream: &str, before: Option<Before>, after: Option<After>) -> anyhow::Result<S3Conditions> {
        let upstream: hyper::Uri = upstream.parse()?;
        anyhow::ensure!(upstream.host() == Some("127.0.0.1"), "only in front of a loopback peer");
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let (client, upstream, before, after) = (client.clone(), upstream.clone(), before.clone(), after.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (client, upstream, before, after) = (client.clone(), upstream.clone(), before.clone(), after.clone());
                        async move {
                            let (method, path) =
                                (req.method().clone(), req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default());
                            let response = handle(req, &client, &upstream, before).await;
                            if let Some(after) = &after {
                                after(&method, &path).await;
                            }
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Ok(S3Conditions { addr, task })
    }

    /// `http://127.0.0.1:PORT`, for the clients.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for S3Conditions {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    Response::builder().status(status).header("content-type", "application/xml").body(Full::new(Bytes::from(body))).unwrap()
}

fn precondition_failed(condition: &str) -> Response<Full<Bytes>> {
    answer(
        StatusCode::PRECONDITION_FAILED,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>{condition}</Condition></Error>"
        ),
    )
}

/// `HeadObject` at moto: the status and `x-amz-version-id`. It carries the
/// copy's own credentials (moto does not check signatures, but refuses
/// anonymous requests on private buckets).
async fn head(
    client: &HttpClient,
    upstream: &hyper::Uri,
    path_and_query: &str,
    if_match: Option<&str>,
    auth: Option<&hyper::header::HeaderValue>,
) -> (StatusCode, Option<String>) {
    let mut request = Request::builder().method(Method::HEAD).uri(format!("http://{}{path_and_query}", upstream.authority().unwrap()));
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    match client.request(request.body(Full::new(Bytes::new())).unwrap()).await {
        Ok(r) => (r.status(), r.headers().get("x-amz-version-id").and_then(|v| v.to_str().ok()).map(str::to_owned)),
        Err(_) => (StatusCode::BAD_GATEWAY, None),
    }
}

async fn handle(req: Request<Incoming>, client: &HttpClient, upstream: &hyper::Uri, before: Option<Before>) -> Response<Full<Bytes>> {
    let (mut parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return answer(StatusCode::BAD_REQUEST, format!("proxy: {e}")),
    };
    let path = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
    if let Some(before) = &before {
        before(&parts.method, &path, &parts.headers).await;
    }
    let copy_source = parts.headers.get("x-amz-copy-source").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let auth = parts.headers.get("authorization").cloned();
    if let (&Method::PUT, Some(source)) = (&parts.method, copy_source) {
        let source = source.trim_start_matches('/').to_owned();
        if let Some(tag) = parts.headers.get("x-amz-copy-source-if-match").and_then(|v| v.to_str().ok()).map(str::to_owned) {
            let (status, version) = head(client, upstream, &format!("/{source}"), Some(&tag), auth.as_ref()).await;
            if status == StatusCode::PRECONDITION_FAILED {
                return precondition_failed("x-amz-copy-source-If-Match");
            }
            // Copy the very object that matched: pinned to its version when the bucket keeps versions.
            if let (true, false, Some(version)) = (status.is_success(), source.contains("versionId="), version.filter(|v| v != "null")) {
                parts.headers.insert("x-amz-copy-source", format!("{source}?versionId={version}").parse().unwrap());
            }
        }
        let is_copy_object = !path.contains("uploadId=");
        if is_copy_object {
            let destination = path.split('?').next().unwrap_or(&path).to_owned();
            if let Some(tag) = parts.headers.get("if-match").and_then(|v| v.to_str().ok()).map(str::to_owned) {
                let (status, _) = head(client, upstream, &destination, Some(&tag), auth.as_ref()).await;
                if !status.is_success() {
                    return precondition_failed("If-Match");
                }
            }
            if parts.headers.get("if-none-match").is_some_and(|v| v == "*") {
                let (status, _) = head(client, upstream, &destination, None, auth.as_ref()).await;
                if status.is_success() {
                    return precondition_failed("If-None-Match");
                }
            }
        }
    }
    let mut forward = Request::builder().method(parts.method.clone()).uri(format!("http://{}{path}", upstream.authority().unwrap()));
    for (name, value) in &parts.headers {
        forward = forward.header(name, value);
    }
    match client.request(forward.body(Full::new(body)).unwrap()).await {
        Ok(response) => {
            let (rparts, rbody) = response.into_parts();
            match rbody.collect().await {
                Ok(b) => Response::from_parts(rparts, Full::new(b.to_bytes())),
                Err(e) => answer(StatusCode::BAD_GATEWAY, format!("proxy: {e}")),
            }
        }
        Err(e) => answer(StatusCode::BAD_GATEWAY, format!("proxy: {e}")),
    }
}
