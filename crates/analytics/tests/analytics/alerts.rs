//! Early-warning rules and alerts: loading and checking rule files, batch
//! evaluation with cool-downs, and the stored alert workflow (evidence,
//! routing, listing, status transitions) on SQLite always and on PostgreSQL
//! when `RAPPORT_TEST_PG` names a server URL.

use chrono::NaiveDate;
use rapport_analytics::alerts::{
    evaluate_batch, raise_batch_alerts, Cooldowns, RuleError, RuleInputs, RuleSet, Standing,
    Trigger,
};
use rapport_analytics::{FeatureColumn, FeatureTable, FEATURES};
use rapport_store::{AlertFilter, AlertStatus, AlertTransitionError, Store};
use rapport_testkit::TestDb;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn day(y: i32, m: u32, d: u32) -> Result<NaiveDate, String> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| format!("bad date {y}-{m}-{d}"))
}

fn load_error(toml: &str) -> Result<RuleError, String> {
    match RuleSet::from_toml(toml, "rules.toml") {
        Ok(_) => Err(format!("loaded: {toml}")),
        Err(e) => Ok(e),
    }
}

fn one_rule(code: &str, trigger: &str, when: &str, message: &str) -> String {
    format!(
        "[[rule]]\ncode = \"{code}\"\nname = \"x\"\ntrigger = \"{trigger}\"\nwhen = '{when}'\n\
         severity = \"high\"\ncooldown_days = 7\nmessage = \"{message}\"\n"
    )
}

#[test]
fn the_built_in_pack_loads_and_covers_the_issue_list() -> TestResult {
    let rules = RuleSet::builtin()?;
    let codes: Vec<&str> = rules.rules.iter().map(|r| r.code.as_str()).collect();
    for code in [
        "large_outflow",
        "balance_collapse",
        "income_stopped",
        "dpd_1_30",
        "dpd_31_60",
        "dpd_61_90",
        "dpd_90_plus",
        "utilisation_above_90",
        "negative_balance",
        "cash_withdrawal_spike",
        "dormancy",
        "complaint_escalation",
    ] {
        assert!(codes.contains(&code), "{code} missing from the pack");
    }
    let transaction = rules.with_trigger(Trigger::Transaction);
    assert!(transaction.rules.iter().all(|r| r.evidence_days >= 1));
    assert!(transaction.get("large_outflow").is_some());
    assert_eq!(rules.get("dpd_1_30").map(|r| r.evidence_days), Some(30));
    Ok(())
}

#[test]
fn every_built_in_rule_is_documented_in_rules_md() -> TestResult {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/RULES.md");
    let doc = std::fs::read_to_string(path)?;
    for rule in RuleSet::builtin()?.rules {
        assert!(
            doc.contains(&format!("`{}`", rule.code)),
            "{} undocumented",
            rule.code
        );
    }
    Ok(())
}

#[test]
fn a_bad_expression_is_reported_with_file_rule_and_column() -> Result<(), String> {
    let e = load_error(&one_rule("broken", "daily", "balance_now < and 1", "m"))?;
    assert_eq!(
        e.to_string(),
        "rules.toml:5: rule \"broken\": column 15: expected a value, found `and`"
    );
    let e = load_error(&one_rule("typo", "daily", "balanse_now < 0", "m"))?;
    assert!(
        e.to_string()
            .contains("column 1: expected a known variable"),
        "{e}"
    );
    let e = load_error(&one_rule("typed", "daily", "band > 3", "m"))?;
    assert!(e.to_string().contains("column 8"), "{e}");
    Ok(())
}

#[test]
fn message_placeholders_must_be_known_variables() -> Result<(), String> {
    let e = load_error(&one_rule(
        "msg",
        "daily",
        "balance_now < 0",
        "balance {balanse}",
    ))?;
    assert!(
        e.to_string().contains("unknown placeholder `{balanse}`"),
        "{e}"
    );
    let e = load_error(&one_rule(
        "msg",
        "daily",
        "balance_now < 0",
        "balance {balance_now",
    ))?;
    assert!(e.to_string().contains("not closed"), "{e}");
    Ok(())
}

#[test]
fn duplicate_codes_bad_severities_and_unknown_fields_are_refused() -> Result<(), String> {
    let rule = one_rule("twice", "daily", "balance_now < 0", "m");
    let e = load_error(&format!("{rule}\n{rule}"))?;
    assert!(e.to_string().contains("used by an earlier rule"), "{e}");
    let e = load_error(&rule.replace("\"high\"", "\"dire\""))?;
    assert!(e.to_string().contains("unknown severity"), "{e}");
    let e = load_error(&format!("{rule}colour = \"red\"\n"))?;
    assert!(e.to_string().starts_with("rules.toml: "), "{e}");
    Ok(())
}

#[test]
fn a_transaction_rule_may_read_only_transaction_features() -> Result<(), String> {
    let e = load_error(&one_rule("t", "transaction", "max_days_past_due > 30", "m"))?;
    assert!(
        e.to_string().contains("`max_days_past_due` is not one"),
        "{e}"
    );
    let e = load_error(&one_rule(
        "t",
        "transaction",
        "score < 30 and txn_count_1 > 0",
        "m",
    ))?;
    assert!(e.to_string().contains("`score` is not one"), "{e}");
    Ok(())
}

#[test]
fn a_transaction_rule_that_a_later_transaction_could_undo_is_refused() -> Result<(), String> {
    for when in [
        "balance_now < 0",
        "max_outflow_1 > 2 * avg_monthly_inflow_6m",
        "txn_count_1 < 3",
        "not (outflow_1 > 100)",
        "days_since_salary > 40",
        "outflow_1 == 100",
    ] {
        let e = load_error(&one_rule("t", "transaction", when, "m"))?;
        assert!(
            e.to_string().contains("must only become true"),
            "{when}: {e}"
        );
    }
    for when in [
        "max_outflow_1 >= 20000 and max_outflow_1 >= 0.5 * coalesce(balance_30_ago, 0)",
        "outflow_1 - 3 * -txn_count_1 > max(balance_30_ago, 100) or days_since_salary < 2",
        "cash_withdrawals_30 >= 8 and cash_withdrawal_trend >= 2",
        "-outflow_1 < -500",
    ] {
        RuleSet::from_toml(&one_rule("t", "transaction", when, "m"), "rules.toml")
            .map_err(|e| format!("{when}: {e}"))?;
    }
    // The same conditions are fine as daily rules (decided once per as-of date).
    RuleSet::from_toml(
        &one_rule("d", "daily", "balance_now < 0", "m"),
        "rules.toml",
    )
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// A table of three customers (ids 1, 2, 3) with every feature missing but those given.
fn table(as_of: NaiveDate, given: &[(&str, [Option<f64>; 3])]) -> FeatureTable {
    FeatureTable {
        as_of,
        customer_ids: vec![1, 2, 3],
        customer_keys: vec!["C1".into(), "C2".into(), "C3".into()],
        columns: FEATURES
            .iter()
            .map(|f| FeatureColumn {
                name: f.name.to_string(),
                values: given
                    .iter()
                    .find(|(n, _)| *n == f.name)
                    .map_or(vec![None; 3], |(_, v)| v.to_vec()),
            })
            .collect(),
    }
}

#[test]
fn batch_evaluation_applies_triggers_cooldowns_and_formats_messages() -> TestResult {
    let rules = RuleSet::builtin()?;
    let d = day(2024, 3, 1)?;
    let t = table(
        d,
        &[
            ("balance_now", [Some(-1234.5), Some(10.0), Some(500.0)]),
            ("txn_count_1", [Some(0.0), Some(2.0), Some(1.0)]),
            (
                "max_outflow_1",
                [Some(90_000.0), Some(25_000.0), Some(30_000.0)],
            ),
            (
                "balance_30_ago",
                [Some(1_000.0), Some(40_000.0), Some(100_000.0)],
            ),
            ("max_days_past_due", [None, Some(45.0), Some(95.0)]),
            ("complaints_90", [Some(2.0), Some(0.0), Some(0.0)]),
        ],
    );
    let standings = vec![
        Standing {
            score: Some(30.0),
            band: Some("at_risk".into()),
            tier: Some("mass".into()),
        },
        Standing::default(),
        Standing::default(),
    ];
    let inputs = RuleInputs {
        table: &t,
        standings: &standings,
        signals: None,
    };
    let hits = evaluate_batch(&rules, &inputs, &Cooldowns::new());
    let pairs: Vec<(i64, &str)> = hits
        .iter()
        .map(|h| (h.customer_id, h.rule.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            // Customer 1: no transaction yesterday, so no large_outflow.
            (1, "negative_balance"),
            (1, "complaint_escalation"),
            // Customer 2: 25,000 is at least 20,000 and half of 40,000.
            (2, "large_outflow"),
            (2, "balance_collapse"),
            (2, "dpd_31_60"),
            // Customer 3: 30,000 is under half of 100,000.
            (3, "balance_collapse"),
            (3, "dpd_90_plus"),
        ]
    );
    let negative = &hits[0];
    assert_eq!(negative.message, "Deposit balance is negative: -1,234.50.");
    assert_eq!(negative.raised_on, d);
    assert_eq!(
        hits[1].message,
        "2 complaints in 90 days (health band at_risk)."
    );
    let large = &hits[2];
    assert_eq!(
        large.message,
        "A single outflow of 25,000.00 on the last day, against a balance of 40,000.00 30 days ago."
    );
    assert_eq!(
        large
            .evidence
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        ["max_outflow_1", "balance_30_ago"]
    );

    // Cool-down: negative_balance (7 days) raised 3 days ago stays quiet; 7 days ago it speaks.
    let mut cooldowns = Cooldowns::new();
    cooldowns.record(1, "negative_balance", day(2024, 2, 27)?);
    cooldowns.record(2, "dpd_31_60", day(2024, 3, 1)?);
    let again = evaluate_batch(&rules, &inputs, &cooldowns);
    assert!(!again
        .iter()
        .any(|h| h.customer_id == 1 && h.rule == "negative_balance"));
    assert!(!again
        .iter()
        .any(|h| h.customer_id == 2 && h.rule == "dpd_31_60"));
    assert_eq!(again.len(), hits.len() - 2);
    let mut expired = Cooldowns::new();
    expired.record(1, "negative_balance", day(2024, 2, 23)?);
    assert_eq!(evaluate_batch(&rules, &inputs, &expired).len(), hits.len());
    Ok(())
}

async fn exec(store: &Store, sql: &str) -> Result<(), sqlx::Error> {
    match store {
        Store::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        Store::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
}

/// Customers: 1 (RM 10), 2 (branch B2, no RM), 3 (no branch), 4 (co-owner
/// of customer 1's account 100). Customer 1 went negative yesterday.
const SEED: &str = "
INSERT INTO import_file (id, kind, source, path, sha256) VALUES (1, 'test', 'core', 'x', 'y');
INSERT INTO branch (id, code, name) VALUES (1, 'B1', 'One'), (2, 'B2', 'Two');
INSERT INTO customer (id, name, branch_id) VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', NULL), (4, 'd', 1);
INSERT INTO staff_user (id, username, display_name, role, branch_id) VALUES (10, 'rm1', 'RM One', 'rm', 1);
INSERT INTO rm_assignment (customer_id, staff_user_id, assigned_at) VALUES (1, 10, '2024-01-01T00:00:00Z');
INSERT INTO account (id, source, source_key, customer_id, account_type, currency, fingerprint, import_id)
  VALUES (100, 'core', 'A100', 1, 'current', 'CNY', 0, 1), (200, 'core', 'A200', 2, 'current', 'CNY', 0, 1);
INSERT INTO account_role (id, source, source_key, account_id, customer_id, role, fingerprint, import_id)
  VALUES (1, 'core', 'R1', 100, 4, 'owner', 0, 1);
INSERT INTO txn (source, source_key, account_id, customer_id, booked_on, amount, balance_after, channel, category, fingerprint, import_id) VALUES
  ('core', 'T1', 100, 1, '2024-02-29', -500000, -123450, 'branch', 'transfer_out', 0, 1),
  ('core', 'T2', 100, 1, '2024-02-29', 1000, -122450, 'atm', 'cash_deposit', 0, 1),
  ('core', 'T3', 100, 1, '2024-02-20', -900000, 376550, 'online', 'shopping', 0, 1),
  ('core', 'T4', 100, 1, '2024-03-01', -7000000, 0, 'online', 'shopping', 0, 1),
  ('core', 'T5', 200, 2, '2024-02-29', -100, 50, 'online', 'fee', 0, 1);
";

async fn alert_story(store: &Store) -> TestResult {
    exec(store, SEED).await?;
    let d = day(2024, 3, 1)?;

    // Evidence: customer 1's and co-owner 4's transactions of [D-1, D), largest first.
    let txns = store
        .triggering_transactions(1, day(2024, 2, 29)?, d, 5)
        .await?;
    let keys: Vec<&str> = txns.iter().map(|t| t.source_key.as_str()).collect();
    assert_eq!(keys, ["T1", "T2"]);
    assert_eq!(txns[0].amount, -500000);
    let co_owner = store
        .triggering_transactions(4, day(2024, 2, 1)?, d, 1)
        .await?;
    assert_eq!(
        co_owner
            .iter()
            .map(|t| t.source_key.as_str())
            .collect::<Vec<_>>(),
        ["T3"]
    );

    // Routing: RM, branch queue, central (also for an unknown customer).
    let routes = store.alert_routes(&[1, 2, 3, 999]).await?;
    assert_eq!(routes.get(&1).and_then(|r| r.assignee_id), Some(10));
    assert_eq!(
        routes.get(&2).and_then(|r| r.queue.clone()).as_deref(),
        Some("branch:B2")
    );
    assert_eq!(
        routes.get(&3).and_then(|r| r.queue.clone()).as_deref(),
        Some("central")
    );
    assert_eq!(
        routes.get(&999).and_then(|r| r.queue.clone()).as_deref(),
        Some("central")
    );

    // A batch run over a table in which customers 1 and 3 are negative.
    let t = FeatureTable {
        as_of: d,
        customer_ids: vec![1, 2, 3],
        customer_keys: vec!["a".into(), "b".into(), "c".into()],
        columns: vec![FeatureColumn {
            name: "balance_now".into(),
            values: vec![Some(-1234.5), Some(0.5), Some(-1.0)],
        }],
    };
    let rules = RuleSet::builtin()?;
    let inputs = RuleInputs {
        table: &t,
        standings: &[],
        signals: None,
    };
    let summary = raise_batch_alerts(store, &rules, &inputs).await?;
    assert_eq!(summary.raised, 2);
    assert_eq!(summary.by_rule, [("negative_balance".to_string(), 2)]);
    // Re-running the same date raises nothing new (cool-down includes the day itself).
    assert_eq!(raise_batch_alerts(store, &rules, &inputs).await?.raised, 0);

    let all = store.list_alerts(&AlertFilter::default()).await?;
    assert_eq!(all.len(), 2);
    let first = all
        .iter()
        .find(|a| a.customer_id == 1)
        .ok_or("customer 1's alert is missing")?;
    assert_eq!(
        (first.status.as_str(), first.origin.as_str()),
        ("new", "batch")
    );
    assert_eq!(first.assignee_id, Some(10));
    assert_eq!(first.raised_on, d);
    let evidence: serde_json::Value = serde_json::from_str(&first.evidence)?;
    assert_eq!(
        evidence["features"]["balance_now"],
        serde_json::json!(-1234.5)
    );
    // negative_balance attaches 7 days: T3 is older, T4 is on D itself.
    assert_eq!(evidence["transactions"][0]["source_key"], "T1");
    assert_eq!(evidence["transactions"][0]["amount"], "-5000.00");
    assert_eq!(evidence["transactions"].as_array().map(Vec::len), Some(2));
    let third = all
        .iter()
        .find(|a| a.customer_id == 3)
        .ok_or("customer 3's alert is missing")?;
    assert_eq!(third.queue.as_deref(), Some("central"));

    // Filters.
    let by_queue = AlertFilter {
        queue: Some("central".into()),
        ..AlertFilter::default()
    };
    assert_eq!(store.list_alerts(&by_queue).await?.len(), 1);
    let by_assignee = AlertFilter {
        assignee_id: Some(10),
        status: Some(AlertStatus::New),
        rule: Some("negative_balance".into()),
        severity: Some("high".into()),
        customer_id: Some(1),
        ..AlertFilter::default()
    };
    assert_eq!(store.list_alerts(&by_assignee).await?.len(), 1);
    let page = AlertFilter {
        limit: 1,
        offset: 1,
        ..AlertFilter::default()
    };
    assert_eq!(store.list_alerts(&page).await?.len(), 1);

    // The workflow, with its history.
    let id = first.id;
    match store
        .transition_alert(id, AlertStatus::Actioned, "rm1", None, None)
        .await
    {
        Err(AlertTransitionError::Illegal { from, to, .. }) => {
            assert_eq!((from, to), (AlertStatus::New, AlertStatus::Actioned));
        }
        other => return Err(format!("new → actioned was allowed: {other:?}").into()),
    }
    store
        .transition_alert(id, AlertStatus::Acknowledged, "rm1", Some("looking"), None)
        .await?;
    store
        .transition_alert(id, AlertStatus::Actioned, "rm1", Some("called"), None)
        .await?;
    match store
        .transition_alert(id, AlertStatus::Closed, "rm1", None, Some("  "))
        .await
    {
        Err(AlertTransitionError::DispositionRequired(x)) => assert_eq!(x, id),
        other => return Err(format!("closed without disposition: {other:?}").into()),
    }
    let closed = store
        .transition_alert(id, AlertStatus::Closed, "rm1", None, Some("resolved"))
        .await?;
    assert_eq!(closed.status, "closed");
    assert_eq!(closed.disposition.as_deref(), Some("resolved"));
    assert!(matches!(
        store
            .transition_alert(id, AlertStatus::Acknowledged, "rm1", None, None)
            .await,
        Err(AlertTransitionError::Illegal { .. })
    ));
    assert!(matches!(
        store
            .transition_alert(424242, AlertStatus::Acknowledged, "rm1", None, None)
            .await,
        Err(AlertTransitionError::NotFound(424242))
    ));
    let events = store.alert_events(id).await?;
    let steps: Vec<(Option<&str>, &str, Option<&str>)> = events
        .iter()
        .map(|e| {
            (
                e.from_status.as_deref(),
                e.to_status.as_str(),
                e.note.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (Some("new"), "acknowledged", Some("looking")),
            (Some("acknowledged"), "actioned", Some("called")),
            (Some("actioned"), "closed", None),
        ]
    );
    assert!(events.iter().all(|e| e.actor == "rm1"));

    // Cool-down rows for the next run.
    let last = store.last_alert_days(d).await?;
    assert_eq!(last.len(), 2);
    assert!(store.last_alert_days(day(2024, 2, 29)?).await?.is_empty());

    // Thousands of alerts in one call.
    let many: Vec<rapport_store::NewAlert> = (0..7_000)
        .map(|i| rapport_store::NewAlert {
            customer_id: 1 + i % 4,
            rule: format!("bulk_{}", i % 3),
            severity: "low".into(),
            raised_on: d,
            origin: "batch".into(),
            message: format!("m{i}"),
            evidence: "{}".into(),
            assignee_id: None,
            queue: Some("central".into()),
        })
        .collect();
    assert_eq!(store.insert_alerts(&many).await?, 7_000);
    let bulk = AlertFilter {
        rule: Some("bulk_1".into()),
        limit: 10_000,
        ..AlertFilter::default()
    };
    assert_eq!(store.list_alerts(&bulk).await?.len(), 2_333);
    Ok(())
}

#[tokio::test]
async fn alerts_are_raised_routed_listed_and_worked_on_sqlite() -> TestResult {
    let db = TestDb::sqlite().await;
    let result = alert_story(&db.store).await;
    db.drop().await;
    result
}

#[tokio::test]
async fn alerts_are_raised_routed_listed_and_worked_on_postgres() -> TestResult {
    let Some(db) = TestDb::postgres("alerts").await else {
        return Ok(());
    };
    let result = alert_story(&db.store).await;
    db.drop().await;
    result
}
