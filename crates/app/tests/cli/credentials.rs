//! Credentials at the console (issue 16): `rapport token create` never makes
//! a token for another person — not for the system at the console, not for
//! an administrator (`--actor admin01 token create --user risk01` is how the
//! demo store was attacked) — only for oneself or a service account (`user
//! add --service`), recording who created it; passwords given on stdin pass
//! the same policy as the web; `user passwd` is a reset the user must follow
//! with a change at their next sign-in.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::BIN;
use rapport_testkit::cli::Rapport;

async fn one(url: &str, sql: &str) -> (i64, Option<String>) {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let row: (i64, Option<String>) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    row
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_only_for_oneself_or_a_service_account() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cred.db").display());
    let r = Rapport::new(BIN).db(&url);
    r.json(&["user", "add", "admin01", "--role", "admin"]);
    r.json(&["user", "add", "risk01", "--role", "risk"]);

    // The attack, from the console and as an administrator: refused (rule, exit 5).
    for args in [
        vec!["token", "create", "--user", "risk01"],
        vec!["--actor", "admin01", "token", "create", "--user", "risk01"],
    ] {
        let run = r.run(&args);
        assert_eq!(run.code, 5, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("service account"), "{}", run.stderr);
    }
    // Without --user and without --actor there is nobody to hold it.
    let run = r.run(&["token", "create"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("--user"), "{}", run.stderr);

    // A service account: no password, tokens from the console or an admin.
    let svc = r.json(&["user", "add", "feed", "--role", "risk", "--service"]);
    assert_eq!(svc["kind"], "service");
    let t1 = r.json(&["token", "create", "--user", "feed"]);
    let t2 = r.json(&["--actor", "admin01", "token", "create", "--user", "feed"]);
    // Oneself, any role.
    let t3 = r.json(&["--actor", "risk01", "token", "create", "--name", "mine"]);
    assert_eq!(t3["user"], "risk01");
    let list = r.json(&["token", "list"]);
    let tokens = list["tokens"].as_array().unwrap();
    let by = |id: &serde_json::Value| {
        tokens
            .iter()
            .find(|t| &t["id"] == id)
            .map(|t| t["created_by_name"].clone())
            .unwrap()
    };
    assert_eq!(by(&t1["id"]), serde_json::Value::Null);
    assert_eq!(by(&t2["id"]), "admin01");
    assert_eq!(by(&t3["id"]), "risk01");
    assert_eq!(tokens.len(), 3);
    let (n, _) = one(&url, "SELECT COUNT(*), NULL FROM staff_user WHERE username = 'feed' AND password_hash IS NULL AND kind = 'service'").await;
    assert_eq!(n, 1);

    // Weak passwords are refused on stdin as on the web (invalid, exit 2).
    for weak in ["password1234", "aaaaaaaaaaaa", "            "] {
        let run = r.run_with_stdin(
            &["user", "passwd", "risk01", "--password-stdin"],
            Some(&format!("{weak}\n")),
        );
        assert_eq!(run.code, 2, "{weak:?}: {}", run.stderr);
        assert!(run.stderr.contains("password"), "{}", run.stderr);
        let run = r.run_with_stdin(
            &[
                "user",
                "add",
                "weak01",
                "--role",
                "agent",
                "--password-stdin",
            ],
            Some(&format!("{weak}\n")),
        );
        assert_eq!(run.code, 2, "{weak:?}: {}", run.stderr);
    }
    // A reset: a generated password the user must change at next sign-in.
    let reset = r.json(&["--actor", "admin01", "user", "passwd", "risk01"]);
    assert!(reset["password"].as_str().unwrap().len() >= 12);
    let (must, _) = one(
        &url,
        "SELECT must_change_password, NULL FROM staff_user WHERE username = 'risk01'",
    )
    .await;
    assert_eq!(must, 1);
}
