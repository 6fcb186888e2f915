//! A proxy that accepts connections and, for the requests it is told to
//! swallow, never answers (until healed): a half-open peer. Every other
//! request goes through to the peer untouched.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// Which requests to swallow: method, path and query, headers.
pub type Swallow = Arc<dyn Fn(&Method, &str, &HeaderMap) -> bool + Send + Sync>;

struct State {
    healed: AtomicBool,
    swallowed: AtomicUsize,
}

/// A running proxy; stops when dropped.
pub struct BlackHole {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl BlackHole {
    /// Listen on a free 127.0.0.1 port in front of `upstream`, swallowing what `swallow` picks.
    pub async fn start(upstream: &str, swallow: Swallow) -> anyhow::Result<BlackHole> {
        let upstream: hyper::Uri = upstream.parse()?;
        anyhow::ensure!(upstream.host() == Some("127.0.0.1"), "only in front of a loopback peer");
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State { healed: AtomicBool::new(false), swallowed: AtomicUsize::new(0) });
        let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let (client, upstream, swallow, state) = (client.clone(), upstream.clone(), swallow.clone(), shared.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (client, upstream, swallow, state) = (client.clone(), upstream.clone(), swallow.clone(), state.clone());
                        async move {
                            let path = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
                            if !state.healed.load(Ordering::SeqCst) && swallow(req.method(), &path, req.headers()) {
                                state.swallowed.fetch_add(1, Ordering::SeqCst);
                                // Read nothing more, answer nothing, ever.
                                std::future::pending::<()>().await;
                            }
                            Ok::<_, Infallible>(forward(req, &client, &upstream, &path).await)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Ok(BlackHole { addr, state, task })
    }

    /// `http://127.0.0.1:PORT`, for the clients.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on, forward everything.
    pub fn heal(&self) {
        self.state.healed.store(true, Ordering::SeqCst);
    }

    /// How many requests were swallowed.
    pub fn swallowed(&self) -> usize {
        self.state.swallowed.load(Ordering::SeqCst)
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    req: Request<Incoming>,
    client: &Client<HttpConnector, Full<Bytes>>,
    upstream: &hyper::Uri,
    path: &str,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let failed = |e: String| Response::builder().status(StatusCode::BAD_GATEWAY).body(Full::new(Bytes::from(e))).unwrap();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return failed(e.to_string()),
    };
    let mut request = Request::builder().method(parts.method).uri(format!("http://{}{path}", upstream.authority().unwrap()));
    for (name, value) in &parts.headers {
        request = request.header(name, value);
    }
    match client.request(request.body(Full::new(body)).unwrap()).await {
        Ok(response) => {
            let (rparts, rbody) = response.into_parts();
            match rbody.collect().await {
                Ok(b) => Response::from_parts(rparts, Full::new(b.to_bytes())),
                Err(e) => failed(e.to_string()),
            }
        }
        Err(e) => failed(e.to_string()),
    }
}
