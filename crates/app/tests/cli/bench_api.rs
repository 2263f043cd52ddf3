//! `rapport bench api` against a small in-test server: the counts reconcile
//! (requests = ok + errors), a key the server fails is counted as an error
//! and makes the command fail, and a clean run succeeds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::BIN;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use rapport_testkit::cli::clean_command;

async fn customer(Path(key): Path<String>, headers: HeaderMap) -> (StatusCode, String) {
    if headers.get("authorization").and_then(|h| h.to_str().ok()) != Some("Bearer t0k") {
        return (StatusCode::UNAUTHORIZED, String::new());
    }
    if key == "BAD" {
        return (StatusCode::INTERNAL_SERVER_ERROR, String::new());
    }
    (StatusCode::OK, format!("{{\"key\":\"{key}\"}}"))
}

fn run(url: &str, keys: &std::path::Path) -> (bool, serde_json::Value) {
    let out = clean_command(BIN.as_ref())
        .args([
            "--json",
            "bench",
            "api",
            "--url",
            url,
            "--token",
            "t0k",
            "--clients",
            "4",
            "--duration",
            "1",
            "--warmup",
            "0.2",
        ])
        .arg("--keys")
        .arg(keys)
        .output()
        .unwrap();
    // The figures come first; a failing run then adds its error object on a line of its own.
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let first = text.lines().next().unwrap_or("");
    let v = serde_json::from_str(first).unwrap_or(serde_json::Value::Null);
    (out.status.success(), v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_generator_counts_every_request_and_fails_on_errors() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().route("/api/v1/customers/{key}", get(customer));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let dir = tempfile::tempdir().unwrap();

    let good = dir.path().join("good.txt");
    std::fs::write(&good, "C1\nC2\nC 3\n").unwrap();
    let (ok, v) = tokio::task::spawn_blocking({
        let (url, good) = (url.clone(), good.clone());
        move || run(&url, &good)
    })
    .await
    .unwrap();
    assert!(ok, "{v}");
    assert!(v["ok"].as_u64().unwrap() > 0);
    assert_eq!(v["requests"], v["ok"]);
    assert!(v["latency_ms"]["p99"].as_f64().unwrap() >= v["latency_ms"]["p50"].as_f64().unwrap());

    let mixed = dir.path().join("mixed.txt");
    std::fs::write(&mixed, "C1\nBAD\n").unwrap();
    let (ok, v) = tokio::task::spawn_blocking(move || run(&url, &mixed))
        .await
        .unwrap();
    assert!(!ok, "errors must fail the command");
    let errors = v["errors"]["status"].as_u64().unwrap();
    assert!(errors > 0);
    assert_eq!(
        v["requests"].as_u64().unwrap(),
        v["ok"].as_u64().unwrap() + errors
    );
}
