//! Batch and live raise the same alerts: on a generated bank, the same days
//! are replayed both ways — batch (for each day d, the features as of d + 1,
//! the transaction rules evaluated once the day is complete) and live (the
//! day's transactions streamed one at a time in booking order through the
//! `LiveEngine`) — and both must raise exactly the same set of
//! (customer, rule, day).

use chrono::NaiveDate;
use rapport_analytics::alerts::{evaluate_batch, Cooldowns, RuleInputs, RuleSet, Trigger};
use rapport_analytics::live::LiveEngine;
use rapport_analytics::{compute_features, LiveTxn, TxnHistories};
use rapport_ingest::synth::{generate, GenConfig};
use rapport_ingest::{import_dir, ImportOptions};
use rapport_store::{date_of_epoch_day, DayRange};
use rapport_testkit::TestDb;
use std::collections::BTreeSet;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The built-in transaction rules plus lower-threshold ones, so a small bank
/// raises enough alerts (and short cool-downs, so they repeat) for the
/// comparison to mean something.
const TEST_RULES: &str = r#"
[[rule]]
code = "any_outflow_over_2000"
name = "x"
trigger = "transaction"
when = "max_outflow_1 >= 2000"
severity = "low"
cooldown_days = 3
message = "{max_outflow_1}"

[[rule]]
code = "busy_day"
name = "x"
trigger = "transaction"
when = "txn_count_1 >= 3 or (outflow_1 > 0.1 * coalesce(balance_30_ago, 0) and outflow_1 >= 500)"
severity = "low"
cooldown_days = 1
message = "{txn_count_1}"

[[rule]]
code = "salary_came"
name = "x"
trigger = "transaction"
when = "days_since_salary <= 1 and salary_months_6 >= 1"
severity = "low"
cooldown_days = 20
message = "{days_since_salary}"
"#;

fn rules() -> Result<RuleSet, Box<dyn std::error::Error>> {
    let mut all = RuleSet::builtin()?.with_trigger(Trigger::Transaction);
    all.rules
        .extend(RuleSet::from_toml(TEST_RULES, "test rules")?.rules);
    Ok(all)
}

fn day(y: i32, m: u32, d: u32) -> Result<NaiveDate, String> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| format!("bad date {y}-{m}-{d}"))
}

#[tokio::test]
async fn batch_and_live_raise_the_same_alerts_over_the_same_days() -> TestResult {
    let db = TestDb::sqlite().await;
    let bank = db.path("bank");
    std::fs::create_dir_all(&bank)?;
    let cfg = GenConfig {
        customers: 300,
        ..GenConfig::default()
    };
    generate(&cfg, &bank, &|_| {})?;
    let store = db.store.clone();
    import_dir(&store, &bank, "synth", &ImportOptions::default()).await?;
    let rules = rules()?;
    let (d0, d1) = (day(2024, 6, 1)?, day(2024, 7, 6)?);

    // Batch: each day d in [d0, d1), features as of d + 1, transaction rules.
    let mut batch: BTreeSet<(i64, String, NaiveDate)> = BTreeSet::new();
    let mut batch_cooldowns = Cooldowns::new();
    let mut d = d0;
    while d < d1 {
        let next = d.succ_opt().ok_or("date overflow")?;
        let table = compute_features(&store, next).await?;
        let inputs = RuleInputs {
            table: &table,
            standings: &[],
            signals: None,
        };
        for hit in evaluate_batch(&rules, &inputs, &batch_cooldowns) {
            batch_cooldowns.record(hit.customer_id, &hit.rule, hit.raised_on);
            batch.insert((hit.customer_id, hit.rule, hit.raised_on));
        }
        d = next;
    }

    // Live: bootstrapped at d0, the same days streamed in booking order.
    let mut txns = Vec::new();
    store
        .scan_transactions(DayRange::between(d0, d1), 10_000, |c| {
            for r in 0..c.len() {
                if let Some(booked_on) = date_of_epoch_day(c.booked_on[r]) {
                    txns.push(LiveTxn {
                        account_id: c.account_id[r],
                        booked_on,
                        amount: c.amount[r],
                        balance_after: c.balance_after[r],
                        category: c.category.get(r).unwrap_or("").to_string(),
                        channel: c.channel.get(r).unwrap_or("").to_string(),
                        source_key: c.source_key.get(r).to_string(),
                    });
                }
            }
        })
        .await?;
    txns.sort_by(|a, b| (a.booked_on, &a.source_key).cmp(&(b.booked_on, &b.source_key)));
    let streamed = txns.len();
    let histories = TxnHistories::load(&store, d0).await?;
    let mut engine = LiveEngine::new(histories, &rules, Cooldowns::new());
    let mut live: BTreeSet<(i64, String, NaiveDate)> = BTreeSet::new();
    for t in txns {
        for hit in engine.on_transaction(t)? {
            let fresh = live.insert((hit.customer_id, hit.rule.clone(), hit.raised_on));
            assert!(fresh, "live raised {hit:?} twice");
        }
    }
    assert_eq!(engine.transactions(), streamed as u64);

    let rules_seen: BTreeSet<&str> = batch.iter().map(|(_, r, _)| r.as_str()).collect();
    assert!(
        batch.len() >= 50,
        "only {} batch alerts: {rules_seen:?}",
        batch.len()
    );
    assert!(rules_seen.len() >= 3, "{rules_seen:?}");
    let only_batch: Vec<_> = batch.difference(&live).take(10).collect();
    let only_live: Vec<_> = live.difference(&batch).take(10).collect();
    assert!(
        only_batch.is_empty() && only_live.is_empty(),
        "batch only: {only_batch:?}\nlive only: {only_live:?}"
    );
    store.close().await;
    Ok(())
}

#[tokio::test]
async fn a_later_transaction_of_the_day_cannot_take_back_a_live_alert() -> TestResult {
    // The loader refuses a transaction rule a later transaction could undo,
    // which is what makes the batch (end of day) and live (first match) agree.
    let undoable = r#"
[[rule]]
code = "went_negative"
name = "x"
trigger = "transaction"
when = "balance_now < 0"
severity = "high"
cooldown_days = 1
message = "m"
"#;
    let err = RuleSet::from_toml(undoable, "rules.toml")
        .err()
        .ok_or("a non-monotone transaction rule was accepted")?;
    assert!(err.to_string().contains("must only become true"), "{err}");
    Ok(())
}
