//! Every command that changes data names who acts (`--actor` or
//! `RAPPORT_ACTOR`): without one, with an unknown user name or with a
//! disabled member of staff it is refused (exit code 4, nothing written);
//! with an active one it does its work and leaves an audit entry naming that
//! user, like the same write from the web.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::BIN;
use rapport_testkit::cli::Rapport;
use serde_json::Value;

/// The audit entries of `action` by `actor`, straight from the store.
async fn audited(url: &str, action: &str, actor: &str) -> i64 {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = ?1 AND actor = ?2")
            .bind(action)
            .bind(actor)
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    n
}

async fn one_i64(url: &str, sql: &str) -> i64 {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let (v,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    v
}

async fn one_text(url: &str, sql: &str) -> String {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let (v,): (String,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    v
}

/// A write: its arguments, who may do it, and the audit action it leaves.
struct Write {
    args: Vec<String>,
    actor: &'static str,
    action: &'static str,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cli_write_needs_an_active_actor_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("actor.db").display());
    let r = Rapport::new(BIN).db(&url);
    r.json(&["gen", "--customers", "120", "--seed", "5"]);
    r.json(&["score"]);
    r.json(&["recommend", "--all"]);
    // A disabled member of staff cannot act.
    r.json(&["user", "add", "gone01", "--role", "agent"]);
    r.json(&["user", "disable", "gone01"]);

    let key = one_text(
        &url,
        "SELECT k.source_key FROM customer_source_key k ORDER BY k.id LIMIT 1",
    )
    .await;
    let alert = one_i64(
        &url,
        "SELECT id FROM alert WHERE status = 'new' ORDER BY id LIMIT 1",
    )
    .await
    .to_string();
    let rec = one_i64(&url, "SELECT id FROM recommendation ORDER BY id LIMIT 1")
        .await
        .to_string();
    let rm = one_text(
        &url,
        "SELECT username FROM staff_user WHERE role = 'rm' ORDER BY id LIMIT 1",
    )
    .await;
    let roots = r.json(&["case", "root-causes"]);
    let root = roots["root_causes"][0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let writes = vec![
        Write {
            args: s(&["alert", "ack", &alert]),
            actor: "agent01",
            action: "alert.acknowledged",
        },
        Write {
            args: s(&[
                "case",
                "open",
                "--customer",
                &key,
                "--category",
                "fees",
                "--severity",
                "high",
                "--subject",
                "charged twice",
                "--description",
                "the annual fee was taken twice",
            ]),
            actor: "agent01",
            action: "case.open",
        },
        Write {
            args: s(&[
                "case",
                "improvement",
                "add",
                "--root-cause",
                &root,
                "--title",
                "clearer fee notices",
                "--owner",
                "agent01",
            ]),
            actor: "agent01",
            action: "improvement.add",
        },
        Write {
            args: s(&[
                "contact",
                "consent",
                "--customer",
                &key,
                "--channel",
                "phone",
                "--purpose",
                "marketing",
                "--refuse",
            ]),
            actor: "agent01",
            action: "consent.record",
        },
        Write {
            args: s(&["contact", "dnd", "--customer", &key]),
            actor: "agent01",
            action: "contact.do_not_disturb",
        },
        Write {
            args: s(&["recommend", "outcome", &rec, "--outcome", "declined"]),
            actor: "agent01",
            action: "recommendation.outcome",
        },
        Write {
            args: s(&[
                "rm",
                "log",
                "--customer",
                &key,
                "--kind",
                "call",
                "--outcome",
                "reached",
            ]),
            actor: "agent01",
            action: "contact_log.add",
        },
        Write {
            args: s(&[
                "survey",
                "invite",
                "--survey",
                "holiday_follow_up",
                "--customer",
                &key,
            ]),
            actor: "agent01",
            action: "survey.invite",
        },
        Write {
            args: s(&["rm", "assign"]),
            actor: "admin01",
            action: "rm.assign",
        },
        Write {
            args: s(&["rm", "capacity", &rm, "--max", "40"]),
            actor: "admin01",
            action: "rm.capacity",
        },
    ];
    for w in &writes {
        let args: Vec<&str> = w.args.iter().map(String::as_str).collect();
        // No actor, an unknown one, a disabled one: refused, nothing audited.
        for (who, needle) in [
            (None, "--actor"),
            (
                Some("nobody"),
                "no active member of staff is called \"nobody\"",
            ),
            (Some("gone01"), "disabled"),
        ] {
            let mut all = args.clone();
            if let Some(who) = who {
                all.extend(["--actor", who]);
            }
            let run = r.run(&all);
            assert_eq!(
                run.code, 4,
                "{all:?} must be refused: {}{}",
                run.stdout, run.stderr
            );
            assert!(
                run.stderr.contains(needle),
                "{all:?}: {needle:?} not in {}",
                run.stderr
            );
        }
        assert_eq!(audited(&url, w.action, w.actor).await, 0, "{:?}", w.args);
        // An active member of staff: done, and audited under their name.
        let mut all = vec!["--json", "--actor", w.actor];
        all.extend(args.iter().copied());
        let run = r.run(&all);
        assert_eq!(run.code, 0, "{all:?}: {}{}", run.stdout, run.stderr);
        let _: Value = serde_json::from_str(run.stdout.trim()).unwrap();
        assert_eq!(
            audited(&url, w.action, w.actor).await,
            1,
            "{all:?} left no audit entry by {}",
            w.actor
        );
    }
    // The environment names the actor too.
    let via_env = Rapport::new(BIN).db(&url).env("RAPPORT_ACTOR", "agent02");
    via_env.json(&["contact", "dnd", "--customer", &key, "--off"]);
    assert_eq!(audited(&url, "contact.do_not_disturb", "agent02").await, 1);
    // A role without the right is refused by the same rule as on the web.
    let run = r.run(&[
        "alert",
        "close",
        &alert,
        "--disposition",
        "resolved",
        "--actor",
        "analyst01",
    ]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("may not work alerts"), "{}", run.stderr);
    // Every refusal left a trace: who was named and the command asked for.
    let (n,): (i64,) = {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let v = sqlx::query_as(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied' \
             AND actor = 'analyst01' AND entity_id = 'alert close' AND actor_id IS NOT NULL",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        pool.close().await;
        v
    };
    assert_eq!(n, 1, "the refused alert close is not audited");
    assert_eq!(
        audited(&url, "access.denied", "nobody").await,
        writes.len() as i64,
        "refusals of an unknown actor are not audited"
    );
}
