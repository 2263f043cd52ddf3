//! Issue 16, finding 3: reads answered just before a `kill -9` were never
//! audited (they waited in a queue). A served store answers 360 reads from
//! several clients at once, the server is killed with SIGKILL mid-flight,
//! and every read that was answered must be in the audit log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::BIN;
use rapport_testkit::cli::Rapport;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

async fn count(url: &str, sql: &str) -> i64 {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_answered_before_a_kill_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crash.db").display());
    let r = Rapport::new(BIN).db(&url);
    r.json(&["gen", "--customers", "150", "--seed", "9"]);

    // A browser session for a risk officer, straight in the store.
    let token = rapport_services::access::new_token();
    {
        let store = rapport_services::import::open(&url).await.unwrap();
        let risk = store
            .staff_users()
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.role == "risk" && u.active)
            .expect("a risk officer");
        let now = chrono::Utc::now();
        store
            .create_session(
                &rapport_services::access::token_hash(&token),
                risk.id,
                "csrf",
                now,
                now + chrono::Duration::hours(1),
            )
            .await
            .unwrap();
        store.close().await;
    }
    let keys: Vec<String> = {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT source_key FROM customer_source_key ORDER BY id LIMIT 60")
                .fetch_all(&pool)
                .await
                .unwrap();
        pool.close().await;
        rows.into_iter().map(|r| r.0).collect()
    };

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let mut server = r
        .command(&["serve", "--listen", &addr, "--no-jobs"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut up = false;
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not start");

    // Eight clients read 360s; the server is killed once 300 reads were answered.
    let answered = Arc::new(AtomicUsize::new(0));
    let cookie = format!("rapport_session={token}");
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (client, base, cookie, keys, answered) = (
            client.clone(),
            base.clone(),
            cookie.clone(),
            keys.clone(),
            answered.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let key = &keys[(w * 7 + i) % keys.len()];
                let res = client
                    .get(format!("{base}/api/v1/customers/{key}"))
                    .header("cookie", &cookie)
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().as_u16() == 200 => {
                        // Answered: the body arrived in full.
                        if r.bytes().await.is_ok() {
                            answered.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    Ok(r) => panic!("unexpected status {}", r.status()),
                    Err(_) => break,
                }
            }
        }));
    }
    while answered.load(Ordering::SeqCst) < 300 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    for t in tasks {
        let _ = t.await;
    }
    let answered = answered.load(Ordering::SeqCst) as i64;
    let audited = count(
        &url,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'customer.view' AND role = 'risk'",
    )
    .await;
    assert!(answered >= 300);
    assert!(
        audited >= answered,
        "{answered} reads were answered but only {audited} audited before the kill"
    );
}
