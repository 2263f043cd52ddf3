//! Store-trained models, the model registry and next best actions through
//! the `rapport` binary on a generated bank (the demo's): `model train
//! --kind`, versions, activate and roll back, `model score --kind` into the
//! store, an extract model registered beside them, `recommend --customer`,
//! `recommend --all`, `recommend evaluate`, `recommend outcome`, and the
//! errors a user gets for incomplete commands.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::BIN;
use rapport_testkit::cli::clean_command;
use serde_json::Value;
use std::path::Path;

fn rapport(db: &str, args: &[&str]) -> (i32, String, String) {
    let out = clean_command(BIN.as_ref())
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running rapport: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(db: &str, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = rapport(db, &all);
    assert_eq!(code, 0, "rapport {args:?} failed: {stderr}\n{stdout}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn fails(db: &str, args: &[&str], needle: &str) {
    let (code, stdout, stderr) = rapport(db, args);
    assert_ne!(code, 0, "rapport {args:?} should fail: {stdout}");
    assert!(
        stderr.contains(needle),
        "rapport {args:?}: {needle:?} not in {stderr}"
    );
}

#[test]
fn models_registry_and_next_best_actions_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let demo = json(
        &db,
        &["demo", "--customers", "3000", "--no-serve", "--seed", "5"],
    );
    let customers = demo["counts"]["customers"].as_u64().unwrap();
    // The demo ranked actions for everyone (the churn model may be skipped on few events).
    assert_eq!(
        demo["matching"]["refresh"]["recommendations"]["customers"].as_u64(),
        Some(customers)
    );

    // Store-labelled training: loan propensity on a 90-day outcome window.
    let t1 = json(
        &db,
        &[
            "model",
            "train",
            "--kind",
            "propensity",
            "--category",
            "loan",
        ],
    );
    assert_eq!(t1["kind"], "propensity:loan");
    assert_eq!(t1["version"], 1);
    assert!(t1["events"].as_u64().unwrap() >= 10, "{t1}");
    let auc = t1["auc"].as_f64().unwrap();
    assert!(auc > 0.6 && auc <= 1.0, "{t1}");
    assert_eq!(t1["folds"], 5);
    // The observation date precedes the outcome window by the horizon.
    let obs: chrono::NaiveDate = t1["observation_date"].as_str().unwrap().parse().unwrap();
    let until: chrono::NaiveDate = t1["outcome_until"].as_str().unwrap().parse().unwrap();
    assert_eq!((until - obs).num_days(), 90);
    let t2 = json(
        &db,
        &[
            "model",
            "train",
            "--kind",
            "propensity",
            "--category",
            "loan",
            "--algorithm",
            "scorecard",
        ],
    );
    assert_eq!(t2["version"], 2);
    assert_eq!(t2["best"], "scorecard");

    // Activate 1 then 2, roll back to 1.
    let id1 = t1["model_id"].as_i64().unwrap().to_string();
    let id2 = t2["model_id"].as_i64().unwrap().to_string();
    json(&db, &["model", "activate", &id1, "--actor", "risk01"]);
    let a = json(&db, &["model", "activate", &id2, "--actor", "risk01"]);
    assert_eq!(a["activated"]["version"], 2);
    let r = json(
        &db,
        &["model", "rollback", "propensity:loan", "--actor", "risk01"],
    );
    assert_eq!(r["activated"]["version"], 1);
    fails(
        &db,
        &["model", "rollback", "propensity:loan", "--actor", "risk01"],
        "no earlier activation",
    );
    let list = json(&db, &["model", "list", "--kind", "propensity:loan"]);
    let active: Vec<i64> = list["models"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["active"] == true)
        .map(|m| m["version"].as_i64().unwrap())
        .collect();
    assert_eq!(active, [1]);

    // Batch scoring writes a probability per customer.
    let sc = json(&db, &["model", "score", "--kind", "propensity:loan"]);
    assert_eq!(sc["scored"].as_u64(), Some(customers));
    assert_eq!(sc["version"], 1);
    let p = sc["mean_probability"].as_f64().unwrap();
    assert!(p > 0.0 && p < 1.0);

    // An extract model registers under its own kind.
    let churn = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/tests/data/churn_sample.csv");
    let (code, _, stderr) = rapport(
        &db,
        &[
            "model",
            "train",
            "--data",
            churn.to_str().unwrap(),
            "--target",
            "Exited",
            "--exclude",
            "RowNumber,CustomerId,Surname",
            "--algorithm",
            "scorecard",
            "--register",
            "extract:churn_modelling",
            "--activate",
            "--actor",
            "risk01",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let list = json(&db, &["model", "list", "--kind", "extract:churn_modelling"]);
    assert_eq!(list["models"][0]["active"], true);

    // One customer's actions: ranked, explained, stored; the loan model feeds propensity.
    let all = json(&db, &["recommend", "--all"]);
    assert_eq!(all["customers"].as_u64(), Some(customers));
    assert!(all["sales"].as_u64().unwrap() > 0);
    let key = demo_key(&db);
    let one = json(&db, &["recommend", "--customer", &key]);
    let actions = one["actions"].as_array().unwrap();
    assert!(!actions.is_empty(), "{one}");
    for a in actions {
        assert!(!a["reasons"].as_array().unwrap().is_empty(), "{a}");
    }
    assert!(
        one["view"]["signals"]["propensity"]["loan"].is_number(),
        "{}",
        one["view"]
    );
    // The [matching] configuration reaches the engine (here from the environment).
    let out = clean_command(BIN.as_ref())
        .args(["--db", &db, "--json", "recommend", "--customer", &key])
        .env("RAPPORT__MATCHING__MAX_SALES", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let capped: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sales = capped["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "sale")
        .count();
    assert!(sales <= 1, "{capped}");
    let one = json(&db, &["recommend", "--customer", &key]);
    let actions = one["actions"].as_array().unwrap();
    let id = actions[0]["id"].as_i64().unwrap().to_string();
    let o = json(
        &db,
        &[
            "--actor",
            "agent01",
            "recommend",
            "outcome",
            &id,
            "--outcome",
            "declined",
            "--note",
            "not now",
        ],
    );
    assert_eq!(o["recommendation"]["status"], "declined");
    fails(
        &db,
        &[
            "recommend",
            "outcome",
            &id,
            "--outcome",
            "maybe",
            "--actor",
            "agent01",
        ],
        "unknown outcome",
    );

    // The offline evaluation reports every figure for the engine and the baselines.
    let ev = json(&db, &["recommend", "evaluate"]);
    assert!(ev["holdout"].as_u64().unwrap() > 0);
    for who in [
        "engine",
        "engine_propensity",
        "popularity",
        "popularity_filtered",
    ] {
        for m in ["precision_at_k", "recall_at_k", "map_at_k", "hit_rate"] {
            let x = ev[who][m].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&x), "{who}.{m} = {x}");
        }
        assert!(ev[who]["customers"].as_u64().unwrap() > 0);
    }

    // The contact policy over the same store: coverage, a check logged with
    // its reason, quiet hours deferring, do-not-disturb stopping marketing only.
    let cov = json(&db, &["contact", "coverage", "--as-of", "2025-01-01"]);
    assert_eq!(cov["customers"].as_u64(), Some(customers));
    let share = cov["coverage"].as_f64().unwrap();
    assert!(share > 0.5 && share <= 1.0, "{cov}");
    assert!(cov["reachable_marketing"].as_u64() <= cov["reachable"].as_u64());
    let check = |purpose: &str, at: &str| {
        json(
            &db,
            &[
                "--actor",
                "agent01",
                "contact",
                "check",
                "--customer",
                &key,
                "--channel",
                "sms",
                "--purpose",
                purpose,
                "--at",
                at,
            ],
        )
    };
    let day = check("service", "2025-01-02T10:00");
    // Every generated customer agrees to service calls with the account.
    assert_eq!(day["decision"]["allowed"], true, "{day}");
    let night = check("service", "2025-01-02T23:30");
    assert_eq!(night["decision"]["code"], "quiet_hours", "{night}");
    assert_eq!(night["decision"]["defer_until"], "2025-01-03T08:00:00");
    json(
        &db,
        &[
            "--actor",
            "agent01",
            "contact",
            "dnd",
            "--customer",
            &key,
            "--reason",
            "asked at the branch",
        ],
    );
    let m = check("marketing", "2025-01-02T10:00");
    assert_ne!(m["decision"]["allowed"], true, "{m}");
    assert_eq!(m["do_not_disturb"], true);
    let s2 = check("service", "2025-01-02T10:00");
    assert_eq!(
        s2["decision"]["allowed"], day["decision"]["allowed"],
        "DND leaves service alone"
    );
    // A refusal recorded at the counter ends service by SMS from its day.
    json(
        &db,
        &[
            "--actor",
            "agent01",
            "contact",
            "consent",
            "--customer",
            &key,
            "--channel",
            "sms",
            "--purpose",
            "service",
            "--refuse",
            "--on",
            "2025-01-02",
        ],
    );
    let refused = check("service", "2025-01-02T10:00");
    assert_eq!(refused["decision"]["code"], "consent_refused", "{refused}");
    let before = check("service", "2025-01-01T10:00");
    assert_eq!(
        before["decision"]["allowed"], true,
        "not before its day: {before}"
    );
    // Granted again the same day: the later record decides.
    json(
        &db,
        &[
            "--actor",
            "agent01",
            "contact",
            "consent",
            "--customer",
            &key,
            "--channel",
            "phone",
            "--purpose",
            "service",
            "--on",
            "2025-01-02",
        ],
    );
    let again = check("service", "2025-01-02T10:00");
    assert_eq!(again["decision"]["allowed"], true, "{again}");
    fails(
        &db,
        &[
            "--actor",
            "agent01",
            "contact",
            "consent",
            "--customer",
            &key,
            "--channel",
            "fax",
            "--purpose",
            "service",
        ],
        "channel",
    );
    fails(
        &db,
        &[
            "--actor",
            "agent01",
            "contact",
            "check",
            "--customer",
            &key,
            "--channel",
            "fax",
            "--purpose",
            "service",
        ],
        "--channel",
    );
    // The bank's own quiet hours from the configuration (here the environment).
    let with_env = |vars: &[(&str, &str)]| {
        let mut c = clean_command(BIN.as_ref());
        c.args([
            "--db",
            &db,
            "--json",
            "--actor",
            "agent01",
            "contact",
            "check",
            "--customer",
            &key,
            "--channel",
            "sms",
            "--purpose",
            "service",
            "--at",
            "2025-01-02T10:00",
        ]);
        for (k, v) in vars {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let out = with_env(&[
        ("RAPPORT__CONTACT__QUIET_START", "09:00"),
        ("RAPPORT__CONTACT__QUIET_END", "11:00"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"]["code"], "quiet_hours", "{v}");
    assert_eq!(v["decision"]["defer_until"], "2025-01-02T11:00:00");
    let out = with_env(&[("RAPPORT__CONTACT__QUIET_END", "8am")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("contact.quiet_end"));

    // Incomplete commands say what is missing.
    fails(
        &db,
        &["model", "train", "--kind", "propensity"],
        "--category",
    );
    fails(
        &db,
        &["model", "train", "--kind", "churn", "--horizon-days", "3"],
        "at least 7",
    );
    fails(
        &db,
        &["model", "score", "--kind", "default"],
        "no active default model",
    );
    fails(&db, &["recommend"], "--customer KEY or --all");
    fails(&db, &["recommend", "--customer", "NOPE"], "NOPE");
}

/// The key of the first customer of the stored health scores.
fn demo_key(db: &str) -> String {
    let (code, stdout, stderr) = rapport(db, &["export", "scores"]);
    assert_eq!(code, 0, "{stderr}");
    let row = stdout.lines().nth(1).expect("a scored customer");
    row.split(',').next().unwrap().to_string()
}
