//! Relationship management on a generated, scored bank, on SQLite and (with
//! `RAPPORT_TEST_PG`) PostgreSQL, with a fixed clock that the test moves:
//! key customers are assigned to RMs of their own branch under a small
//! capacity (those that cannot be placed come back with the right reason),
//! `--rebalance` moves a customer of another branch's RM and an RM's excess;
//! the cadence creates follow-up tasks exactly for the key customers due
//! (due the last contact plus the tier's cadence at 10:00, or today when
//! overdue) and nothing on a second run; logging a call closes the task;
//! 31 days later the cadence brings a new one; the KPIs of one RM match
//! figures computed here from the same rows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rapport_testkit::{Backend, TestDb};

use chrono::{Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use rapport_services::clock::Clock;
use rapport_services::config::Config;
use rapport_services::rm::{
    self, ContactEntry, ContactKind, ContactOutcome, RmSettings, UnplacedReason,
};
use rapport_store::Store;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Runs a query on either backend and fetches every row as `$t`.
macro_rules! rows {
    ($store:expr, $t:ty, $sql:expr $(, $b:expr)*) => {
        match &$store {
            Store::Sqlite(p) => sqlx::query_as::<_, $t>($sql)$(.bind($b))*.fetch_all(p).await.unwrap(),
            Store::Postgres(p) => sqlx::query_as::<_, $t>($sql)$(.bind($b))*.fetch_all(p).await.unwrap(),
        }
    };
}

macro_rules! exec {
    ($store:expr, $sql:expr $(, $b:expr)*) => {
        match &$store {
            Store::Sqlite(p) => { sqlx::query($sql)$(.bind($b))*.execute(p).await.unwrap(); }
            Store::Postgres(p) => { sqlx::query($sql)$(.bind($b))*.execute(p).await.unwrap(); }
        }
    };
}

const KEY_MEMBERS: &str = "SELECT m.customer_id, s.code FROM segment_membership m \
    JOIN segment s ON s.id = m.segment_id \
    WHERE s.code IN ('tier:high_net_worth', 'tier:affluent') AND m.as_of = $1";

/// (customer, tier code, customer branch, RM id, RM branch, RM user name) of every key customer.
type KeyRow = (
    i64,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

async fn key_rows(store: &Store, as_of: NaiveDate) -> Vec<KeyRow> {
    rows!(
        store,
        KeyRow,
        "SELECT m.customer_id, s.code, c.branch_id, r.staff_user_id, u.branch_id, u.username \
         FROM segment_membership m JOIN segment s ON s.id = m.segment_id \
         JOIN customer c ON c.id = m.customer_id \
         LEFT JOIN rm_assignment r ON r.customer_id = m.customer_id \
         LEFT JOIN staff_user u ON u.id = r.staff_user_id \
         WHERE s.code IN ('tier:high_net_worth', 'tier:affluent') AND m.as_of = $1 \
         ORDER BY m.customer_id",
        as_of
    )
}

/// Key customers per RM id.
fn loads(keys: &[KeyRow]) -> HashMap<i64, i64> {
    let mut l = HashMap::new();
    for k in keys {
        if let Some(r) = k.3 {
            *l.entry(r).or_insert(0) += 1;
        }
    }
    l
}

/// Latest contact day per customer on or before `through`, from the raw rows.
async fn last_contacts(store: &Store, through: NaiveDate) -> HashMap<i64, NaiveDate> {
    let mut last: HashMap<i64, NaiveDate> = HashMap::new();
    let imported = rows!(
        store,
        (i64, NaiveDate),
        "SELECT customer_id, occurred_on FROM interaction"
    );
    let logged = rows!(
        store,
        (i64, NaiveDateTime),
        "SELECT customer_id, at FROM contact_log"
    );
    let all = imported
        .into_iter()
        .chain(logged.into_iter().map(|(c, at)| (c, at.date())));
    for (c, d) in all {
        if d <= through {
            let e = last.entry(c).or_insert(d);
            *e = (*e).max(d);
        }
    }
    last
}

fn ten(d: NaiveDate) -> NaiveDateTime {
    d.and_time(NaiveTime::from_hms_opt(10, 0, 0).unwrap())
}

async fn run(backend: Backend) {
    let Some(db) = TestDb::on(backend, "rm_cadence").await else {
        return;
    };
    let store = db.store.clone();
    rapport_testkit::generated_bank(&db, 600, 11).await;
    // A bank of 600 has no one above the shipped 6 million line: draw the
    // high-net-worth line at 500,000 so the tier has members.
    let mut segments = rapport_analytics::segment::SegmentConfig::default_config();
    segments.tiers.high_net_worth_from = 500_000.0;
    let opts = rapport_services::scoring::ScoringOptions {
        segments: Some(segments),
        ..Default::default()
    };
    let as_of = rapport_services::scoring::resolve_as_of(&store, None)
        .await
        .unwrap();
    let early = as_of - Duration::days(60);
    rapport_services::scoring::run_scoring(&store, early, &opts)
        .await
        .unwrap();
    rapport_services::scoring::run_scoring(&store, as_of, &opts)
        .await
        .unwrap();

    let off = FixedOffset::east_opt(8 * 3600).unwrap();
    let t0 = (as_of + Duration::days(3)).and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap());
    let clock = Clock::fixed(off, t0);
    let mut cfg = Config::default();
    cfg.rm.capacity = 2;
    let small = RmSettings::from_config(&cfg).unwrap();

    let members = rows!(store, (i64, String), KEY_MEMBERS, as_of);
    let hnw: HashSet<i64> = members
        .iter()
        .filter(|m| m.1 == "tier:high_net_worth")
        .map(|m| m.0)
        .collect();
    assert!(!hnw.is_empty(), "the bank has high-net-worth customers");
    let tier_of: HashMap<i64, String> = members.iter().cloned().collect();

    // ------------------------------------------------------------ assign
    // Scoring's round robin gave every customer an RM: take the key
    // customers' away so the capacity decides.
    exec!(
        store,
        "DELETE FROM rm_assignment WHERE customer_id IN (SELECT m.customer_id \
         FROM segment_membership m JOIN segment s ON s.id = m.segment_id \
         WHERE s.code IN ('tier:high_net_worth', 'tier:affluent') AND m.as_of = $1)",
        as_of
    );
    let mass_before = rows!(
        store,
        (i64, i64),
        "SELECT customer_id, staff_user_id FROM rm_assignment ORDER BY customer_id"
    );
    let r = rm::assign(&store, &small, &clock, false).await.unwrap();
    assert_eq!(r.as_of, as_of);
    assert_eq!(r.key_customers, members.len());
    assert_eq!(r.assigned + r.unplaced.len(), r.key_customers, "{r:?}");
    assert_eq!((r.kept, r.moved), (0, 0));
    let keys = key_rows(&store, as_of).await;
    let staff = store.rm_staff().await.unwrap();
    let rms_of_branch = |b: i64| -> Vec<i64> {
        staff
            .iter()
            .filter(|s| s.active && s.branch_id == Some(b))
            .map(|s| s.id)
            .collect()
    };
    for k in &keys {
        if k.3.is_some() {
            assert_eq!(k.2, k.4, "customer {} has an RM of their branch", k.0);
        }
    }
    let load = loads(&keys);
    assert!(load.values().all(|n| *n <= 2), "no RM above capacity");
    let mut reasons = HashSet::new();
    for u in &r.unplaced {
        let k = keys.iter().find(|k| k.0 == u.customer_id).unwrap();
        assert_eq!(k.3, None, "an unplaced customer has no RM");
        let expected = match k.2 {
            None => UnplacedReason::NoBranch,
            Some(b) if rms_of_branch(b).is_empty() => UnplacedReason::NoRmInBranch,
            Some(b) => {
                assert!(rms_of_branch(b)
                    .iter()
                    .all(|rm| load.get(rm).copied().unwrap_or(0) == 2));
                UnplacedReason::AllRmsFull
            }
        };
        assert_eq!(u.reason, expected, "{u:?}");
        reasons.insert(u.reason);
    }
    assert!(reasons.contains(&UnplacedReason::AllRmsFull), "{reasons:?}");
    // Highest tier first: no high-net-worth customer waits while an
    // affluent one of the same branch got a place.
    for u in r.unplaced.iter().filter(|u| hnw.contains(&u.customer_id)) {
        let branch = keys.iter().find(|k| k.0 == u.customer_id).unwrap().2;
        assert!(
            !keys
                .iter()
                .any(|k| k.2 == branch && k.3.is_some() && !hnw.contains(&k.0)),
            "{u:?} waits while an affluent customer of the branch was placed"
        );
    }
    let mass_after = rows!(
        store,
        (i64, i64),
        "SELECT r.customer_id, r.staff_user_id FROM rm_assignment r ORDER BY r.customer_id"
    );
    let key_set: HashSet<i64> = tier_of.keys().copied().collect();
    let mass_after: Vec<(i64, i64)> = mass_after
        .into_iter()
        .filter(|(c, _)| !key_set.contains(c))
        .collect();
    assert_eq!(mass_before, mass_after, "mass customers keep their RM");

    // Rebalance: a high-net-worth customer put with an RM of another branch,
    // and an RM whose capacity is lowered below their load.
    let cfg_full = Config::default();
    let s = RmSettings::from_config(&cfg_full).unwrap();
    let x = keys
        .iter()
        .find(|k| hnw.contains(&k.0) && k.3.is_some())
        .cloned()
        .unwrap();
    let foreign = staff
        .iter()
        .find(|s| s.active && s.branch_id.is_some() && s.branch_id != x.2)
        .unwrap();
    store.assign_rm(x.0, foreign.id, clock.now()).await.unwrap();
    let keys = key_rows(&store, as_of).await;
    let load = loads(&keys);
    let crowded = staff
        .iter()
        .find(|s| {
            load.get(&s.id).copied().unwrap_or(0) == 2
                && s.id != foreign.id
                && rms_of_branch(s.branch_id.unwrap()).len() >= 2
        })
        .unwrap();
    store.set_rm_capacity(crowded.id, Some(1)).await.unwrap();
    let r = rm::assign(&store, &s, &clock, false).await.unwrap();
    assert_eq!(r.misplaced_kept, 1, "{r:?}");
    assert_eq!(r.moved, 0);
    assert!(r
        .over_capacity
        .iter()
        .any(|o| o.username == crowded.username && o.capacity == 1));
    let keys = key_rows(&store, as_of).await;
    assert_eq!(
        keys.iter().find(|k| k.0 == x.0).unwrap().3,
        Some(foreign.id),
        "not moved without --rebalance"
    );
    let r = rm::assign(&store, &s, &clock, true).await.unwrap();
    assert_eq!(r.moved, 2, "{r:?}");
    assert_eq!(r.misplaced_kept, 0);
    assert!(r.over_capacity.is_empty(), "{r:?}");
    assert!(r
        .unplaced
        .iter()
        .all(|u| u.reason != UnplacedReason::AllRmsFull));
    let keys = key_rows(&store, as_of).await;
    let xk = keys.iter().find(|k| k.0 == x.0).unwrap();
    assert_eq!(xk.2, xk.4, "moved to an RM of their own branch");
    assert_eq!(loads(&keys).get(&crowded.id).copied(), Some(1));
    for k in &keys {
        if k.3.is_some() {
            assert_eq!(k.2, k.4);
        }
    }

    // ------------------------------------------------------------ cadence
    let today = clock.local().date();
    let last = last_contacts(&store, today).await;
    let cadence_of = |code: &str| {
        if code == "tier:high_net_worth" {
            30
        } else {
            90
        }
    };
    let mut expected: BTreeMap<i64, (NaiveDateTime, String)> = BTreeMap::new();
    for k in &keys {
        let Some(rm) = &k.5 else { continue };
        let due = match last.get(&k.0) {
            None => Some(today),
            Some(l) => {
                let d = *l + Duration::days(cadence_of(&k.1));
                (d <= today + Duration::days(7)).then(|| d.max(today))
            }
        };
        if let Some(d) = due {
            expected.insert(k.0, (ten(d), rm.clone()));
        }
    }
    let r = rm::cadence(&store, &s, &clock).await.unwrap();
    assert_eq!(r.created, expected.len(), "{r:?}");
    assert!(r.created > 0);
    let tasks = rows!(
        store,
        (i64, i64, String, NaiveDateTime, String),
        "SELECT id, customer_id, assignee, due_at, script FROM contact_task \
         WHERE kind = 'cadence' AND status = 'open' ORDER BY customer_id"
    );
    let got: BTreeMap<i64, (NaiveDateTime, String)> =
        tasks.iter().map(|t| (t.1, (t.3, t.2.clone()))).collect();
    assert_eq!(got, expected, "tasks exactly for the key customers due");
    assert!(tasks.iter().all(|t| key_set.contains(&t.1)));
    // One high-net-worth customer's task, spelled out.
    let h = *expected.keys().find(|c| hnw.contains(c)).unwrap();
    let due = match last.get(&h) {
        Some(l) => (*l + Duration::days(30)).max(today),
        None => today,
    };
    assert_eq!(got[&h].0, ten(due));
    let script = &tasks.iter().find(|t| t.1 == h).unwrap().4;
    assert!(
        script.contains("高净值客户") && script.contains("High net worth"),
        "{script}"
    );
    let again = rm::cadence(&store, &s, &clock).await.unwrap();
    assert_eq!(again.created, 0, "idempotent: {again:?}");
    assert_eq!(again.already_open, expected.len());

    // ------------------------------------------------------------ log
    let h_rm = got[&h].1.clone();
    let logged = rm::log(
        &store,
        &clock,
        &ContactEntry {
            customer_key: format!("#{h}"),
            kind: ContactKind::Call,
            outcome: ContactOutcome::Reached,
            note: Some("季度资产检视已约".into()),
            by: h_rm.clone(),
        },
    )
    .await
    .unwrap();
    assert_eq!(logged.closed_tasks, 1);
    assert_eq!(logged.at, t0);
    let task = rows!(
        store,
        (String, Option<String>),
        "SELECT status, outcome FROM contact_task WHERE kind = 'cadence' AND customer_id = $1",
        h
    );
    assert_eq!(
        task,
        vec![("done".to_string(), Some("reached".to_string()))]
    );
    let log = store.contact_log(h).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].kind.as_str(), log[0].staff.as_str()),
        ("call", h_rm.as_str())
    );
    let e = rm::log(
        &store,
        &clock,
        &ContactEntry {
            customer_key: "no-such-customer".into(),
            kind: ContactKind::Visit,
            outcome: ContactOutcome::Other,
            note: None,
            by: "cli".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("no-such-customer"), "{e}");
    let r = rm::cadence(&store, &s, &clock).await.unwrap();
    assert_eq!(r.created, 0, "contacted today: not due for 30 days");

    // 31 days later the cadence brings a new task, due today (overdue).
    clock.advance(Duration::days(31));
    rm::cadence(&store, &s, &clock).await.unwrap();
    let open_h = rows!(
        store,
        (NaiveDateTime, String),
        "SELECT due_at, assignee FROM contact_task \
         WHERE kind = 'cadence' AND status = 'open' AND customer_id = $1",
        h
    );
    let now_day = clock.local().date();
    assert_eq!(open_h, vec![(ten(now_day), h_rm.clone())]);

    // ------------------------------------------------------------ KPIs
    let to = now_day;
    let from = to - Duration::days(90);
    let k = rm::rm_kpis(&store, &s, &clock, from, to, Some(&h_rm))
        .await
        .unwrap();
    assert_eq!(k.len(), 1);
    let k = &k[0];
    let rm_id = staff.iter().find(|s| s.username == h_rm).unwrap().id;
    let customers = rows!(
        store,
        (i64,),
        "SELECT customer_id FROM rm_assignment WHERE staff_user_id = $1",
        rm_id
    );
    let theirs: HashSet<i64> = customers.iter().map(|c| c.0).collect();
    assert_eq!(k.customers, theirs.len() as i64);
    let keys = key_rows(&store, as_of).await;
    let their_keys: Vec<&KeyRow> = keys.iter().filter(|k| k.3 == Some(rm_id)).collect();
    assert_eq!(k.key_customers, their_keys.len() as i64);
    // Covered: contacted within the tier's cadence as of the end day. The
    // call logged on the first day covers `h` then, and no longer 31 days
    // later (the high-net-worth cadence is 30 days).
    let mut covered_of = HashMap::new();
    for end in [t0.date(), to] {
        let last = last_contacts(&store, end).await;
        let covered: HashSet<i64> = their_keys
            .iter()
            .filter(|k| {
                last.get(&k.0)
                    .is_some_and(|l| *l + Duration::days(cadence_of(&k.1)) >= end)
            })
            .map(|k| k.0)
            .collect();
        covered_of.insert(end, covered);
    }
    assert_eq!(k.key_covered, covered_of[&to].len() as i64);
    assert_eq!(
        k.coverage,
        Some(k.key_covered as f64 / k.key_customers as f64)
    );
    assert!(!covered_of[&to].contains(&h));
    let first_day = rm::rm_kpis(&store, &s, &clock, from, t0.date(), Some(&h_rm))
        .await
        .unwrap();
    assert_eq!(
        first_day[0].key_covered,
        covered_of[&t0.date()].len() as i64
    );
    assert!(
        covered_of[&t0.date()].contains(&h),
        "the logged call covers {h}"
    );
    let interactions = rows!(
        store,
        (i64, NaiveDate),
        "SELECT customer_id, occurred_on FROM interaction"
    );
    let logged = rows!(
        store,
        (i64, NaiveDateTime),
        "SELECT customer_id, at FROM contact_log"
    );
    let contacts = interactions
        .iter()
        .filter(|(c, d)| theirs.contains(c) && *d >= from && *d <= to)
        .count()
        + logged
            .iter()
            .filter(|(c, at)| theirs.contains(c) && at.date() >= from && at.date() <= to)
            .count();
    assert_eq!(k.contacts, contacts as i64);
    assert!(k.contacts > 0);
    let open = rows!(
        store,
        (NaiveDateTime,),
        "SELECT due_at FROM contact_task WHERE assignee = $1 AND status = 'open'",
        h_rm.clone()
    );
    let overdue = open.iter().filter(|t| t.0 < clock.local()).count() as i64;
    assert_eq!(k.open_tasks, open.len() as i64);
    assert_eq!(k.overdue_tasks, overdue);
    assert_eq!(
        (k.health_from_date, k.health_to_date),
        (Some(early), Some(as_of))
    );
    let mean = |scores: &[(i64, f64)]| {
        let v: Vec<f64> = scores
            .iter()
            .filter(|s| theirs.contains(&s.0))
            .map(|s| s.1)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let at_early = rows!(
        store,
        (i64, f64),
        "SELECT customer_id, score FROM health_score WHERE as_of = $1",
        early
    );
    let at_end = rows!(
        store,
        (i64, f64),
        "SELECT customer_id, score FROM health_score WHERE as_of = $1",
        as_of
    );
    let change = mean(&at_end) - mean(&at_early);
    assert!((k.health_change.unwrap() - change).abs() < 1e-9, "{k:?}");
    // Every RM without --rm; an unknown RM is refused.
    let all = rm::rm_kpis(&store, &s, &clock, from, to, None)
        .await
        .unwrap();
    assert!(all.len() > 1 && all.iter().any(|a| a == k));
    assert!(rm::rm_kpis(&store, &s, &clock, from, to, Some("nobody"))
        .await
        .is_err());

    // Open tasks of the RM, overdue marked.
    let t = rm::open_tasks(&store, &clock, Some(&h_rm)).await.unwrap();
    assert_eq!(t.len() as i64, k.open_tasks);
    assert_eq!(t.iter().filter(|t| t.overdue).count() as i64, overdue);

    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_customers_assignment_cadence_log_and_kpis_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_customers_assignment_cadence_log_and_kpis_postgres() {
    run(Backend::Postgres).await;
}
