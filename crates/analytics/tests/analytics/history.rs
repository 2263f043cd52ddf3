//! The live path's per-customer histories against the batch engine on a
//! generated bank: bootstrapped at D0 and fed the following weeks one
//! transaction at a time, the transaction features must equal the batch
//! features computed from the store at later dates, exactly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use rapport_analytics::{compute_features, LiveTxn, TxnHistories, FEATURES, TRANSACTION_FEATURES};
use rapport_ingest::synth::{generate, GenConfig};
use rapport_ingest::{import_dir, ImportOptions};
use rapport_store::{date_of_epoch_day, DayRange};
use rapport_testkit::TestDb;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[tokio::test]
async fn histories_fed_one_transaction_at_a_time_match_the_batch_engine() {
    let db = TestDb::sqlite().await;
    let bank = db.path("bank");
    std::fs::create_dir_all(&bank).unwrap();
    let cfg = GenConfig {
        customers: 300,
        ..GenConfig::default()
    };
    generate(&cfg, &bank, &|_| {}).unwrap();
    let store = db.store.clone();
    let report = import_dir(&store, &bank, "synth", &ImportOptions::default())
        .await
        .unwrap();
    assert!(report.reconciles(), "{report:?}");

    let (d0, d1) = (d(2024, 6, 1), d(2024, 7, 15));
    let mut h = TxnHistories::load(&store, d0).await.unwrap();

    // At the bootstrap date every feature is the batch value.
    let batch0 = compute_features(&store, d0).await.unwrap();
    for (row, &id) in batch0.customer_ids.iter().enumerate() {
        let live = h.features(id, d0).unwrap();
        assert_eq!(live.len(), FEATURES.len());
        for (name, v) in live {
            assert_eq!(v, batch0.value(row, name), "{id} {name} at {d0}");
        }
    }

    // The next weeks, in booking order (as a stream would bring them).
    let mut txns = Vec::new();
    store
        .scan_transactions(DayRange::between(d0, d1), 10_000, |c| {
            for r in 0..c.len() {
                txns.push(LiveTxn {
                    account_id: c.account_id[r],
                    booked_on: date_of_epoch_day(c.booked_on[r]).unwrap(),
                    amount: c.amount[r],
                    balance_after: c.balance_after[r],
                    category: c.category.get(r).unwrap_or("").to_string(),
                    channel: c.channel.get(r).unwrap_or("").to_string(),
                    source_key: c.source_key.get(r).to_string(),
                });
            }
        })
        .await
        .unwrap();
    assert!(txns.len() > 1_000, "{} transactions", txns.len());
    txns.sort_by(|a, b| (a.booked_on, &a.source_key).cmp(&(b.booked_on, &b.source_key)));
    let mut touched = std::collections::BTreeSet::new();
    // What the live engine reads after each transaction (`features_at`,
    // kept warm between transactions of a day) is what folding the whole
    // history gives (`features`), every feature, bit for bit.
    let every: Vec<usize> = (0..FEATURES.len()).collect();
    let mut warm = Vec::new();
    let mut checked = 0;
    for t in txns {
        let as_of = t.booked_on.succ_opt().unwrap();
        let owners = h.push(t).unwrap();
        for &id in &owners {
            let folded = h.features(id, as_of);
            assert_eq!(
                h.features_at(id, as_of, &every, &mut warm),
                folded.is_some()
            );
            if let Some(folded) = folded {
                let folded: Vec<Option<u64>> =
                    folded.iter().map(|(_, v)| v.map(f64::to_bits)).collect();
                let warm: Vec<Option<u64>> = warm.iter().map(|v| v.map(f64::to_bits)).collect();
                assert_eq!(warm, folded, "{id} at {as_of}");
                checked += 1;
            }
        }
        touched.extend(owners);
    }
    assert!(touched.len() > 200);
    assert!(checked > 1_000, "{checked}");

    // Mid-stream dates see only what was booked before them; the last date all of it.
    for as_of in [d(2024, 6, 17), d1] {
        let batch = compute_features(&store, as_of).await.unwrap();
        let mut compared = 0;
        for (row, &id) in batch.customer_ids.iter().enumerate() {
            let live = h.features(id, as_of).unwrap();
            for (name, v) in live {
                if TRANSACTION_FEATURES.contains(&name) {
                    assert_eq!(v, batch.value(row, name), "{id} {name} at {as_of}");
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, batch.len() * TRANSACTION_FEATURES.len());
    }
    assert!(h
        .push(LiveTxn {
            account_id: -1,
            booked_on: d1,
            amount: 1,
            balance_after: None,
            category: "other".into(),
            channel: "branch".into(),
            source_key: "X".into(),
        })
        .is_err());
    store.close().await;
}
