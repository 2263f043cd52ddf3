//! An HTTP gateway for tests: checks the signature, dedupes by idempotency
//! key, records every request.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::lock;
use crate::{verify, HEADER_IDEMPOTENCY_KEY, HEADER_KEY_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP};

/// How far the sink lets `X-Rapport-Timestamp` stray from its clock.
pub const SINK_TOLERANCE_SECS: i64 = 300;

/// One request as the gateway sink received it, whatever it answered.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayRequest {
    /// `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// `X-Rapport-Key-Id`.
    pub key_id: Option<String>,
    /// `X-Rapport-Timestamp`.
    pub timestamp: Option<String>,
    /// `X-Rapport-Signature`.
    pub signature: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// The raw body, to check a signature again.
    pub body: Vec<u8>,
    /// The body as JSON, `Null` if it is not JSON.
    pub json: Value,
    /// The status the sink answered.
    pub status: u16,
}

struct GatewayState {
    secret: Vec<u8>,
    requests: Vec<GatewayRequest>,
    /// Idempotency key → the id given on first acceptance.
    accepted: HashMap<String, String>,
    rejected_to: HashSet<String>,
    failing: u32,
}

type Shared = Arc<Mutex<GatewayState>>;

/// A gateway on 127.0.0.1 answering `POST /send`; stops when dropped.
///
/// In order: a bad or stale signature gets 401; while `fail_next` lasts,
/// 503; a body that is not JSON, 400; an idempotency key seen before, 409
/// with the original `{"id", "status": "accepted"}`; a `to` passed to
/// `reject_to`, 422; anything else `{"id": "gw-<n>", "status": "accepted"}`.
pub struct GatewaySink {
    addr: SocketAddr,
    state: Shared,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for GatewaySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewaySink")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl GatewaySink {
    /// Starts the sink on a free port of 127.0.0.1, verifying with `secret`.
    ///
    /// # Panics
    ///
    /// If no port can be bound; use [`GatewaySink::try_start`] to handle that.
    #[allow(clippy::expect_used)] // test support: a sink that cannot start is a broken test machine
    pub async fn start(secret: impl AsRef<[u8]>) -> GatewaySink {
        GatewaySink::try_start(secret)
            .await
            .expect("the gateway sink binds a port on 127.0.0.1")
    }

    /// Starts the sink on a free port of 127.0.0.1, verifying with `secret`.
    pub async fn try_start(secret: impl AsRef<[u8]>) -> io::Result<GatewaySink> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(GatewayState {
            secret: secret.as_ref().to_vec(),
            requests: Vec::new(),
            accepted: HashMap::new(),
            rejected_to: HashSet::new(),
            failing: 0,
        }));
        let app = Router::new()
            .route("/send", post(receive))
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            // Ends only with an IO error on the listener or when aborted.
            let _ = axum::serve(listener, app).await;
        });
        Ok(GatewaySink { addr, state, task })
    }

    /// `http://127.0.0.1:PORT/send`.
    pub fn url(&self) -> String {
        format!("http://{}/send", self.addr)
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<GatewayRequest> {
        lock(&self.state).requests.clone()
    }

    /// Answers 503 to the next `n` correctly signed requests.
    pub fn fail_next(&self, n: u32) {
        lock(&self.state).failing = n;
    }

    /// Answers 422 to requests whose JSON `to` is `addr`.
    pub fn reject_to(&self, addr: &str) {
        lock(&self.state).rejected_to.insert(addr.to_owned());
    }
}

impl Drop for GatewaySink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn receive(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut request = GatewayRequest {
        idempotency_key: header(&headers, HEADER_IDEMPOTENCY_KEY),
        key_id: header(&headers, HEADER_KEY_ID),
        timestamp: header(&headers, HEADER_TIMESTAMP),
        signature: header(&headers, HEADER_SIGNATURE),
        content_type: header(&headers, "content-type"),
        body: body.to_vec(),
        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
        status: 0,
    };
    let mut state = lock(&state);
    let (status, answer) = decide(&mut state, &request);
    request.status = status.as_u16();
    state.requests.push(request);
    (status, Json(answer)).into_response()
}

fn decide(state: &mut GatewayState, request: &GatewayRequest) -> (StatusCode, Value) {
    let signed = match (&request.timestamp, &request.signature) {
        (Some(ts), Some(sig)) => ts.parse::<i64>().is_ok_and(|ts| {
            let now = chrono::Utc::now().timestamp();
            verify(
                &state.secret,
                ts,
                &request.body,
                sig,
                now,
                SINK_TOLERANCE_SECS,
            )
        }),
        _ => false,
    };
    if !signed {
        return (StatusCode::UNAUTHORIZED, json!({"error": "bad_signature"}));
    }
    if state.failing > 0 {
        state.failing -= 1;
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": "unavailable"}),
        );
    }
    if request.json.is_null() {
        return (StatusCode::BAD_REQUEST, json!({"error": "not_json"}));
    }
    let Some(key) = request.idempotency_key.clone() else {
        return (
            StatusCode::BAD_REQUEST,
            json!({"error": "missing_idempotency_key"}),
        );
    };
    if let Some(id) = state.accepted.get(&key) {
        return (
            StatusCode::CONFLICT,
            json!({"id": id, "status": "accepted"}),
        );
    }
    let to = request.json.get("to").and_then(Value::as_str).unwrap_or("");
    if state.rejected_to.contains(to) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": "invalid_recipient"}),
        );
    }
    let id = format!("gw-{}", state.accepted.len() + 1);
    state.accepted.insert(key, id.clone());
    (StatusCode::OK, json!({"id": id, "status": "accepted"}))
}
