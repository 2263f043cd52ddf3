//! A complaint through every state of the workflow with the clock moved,
//! not waited for, on SQLite and (with `RAPPORT_TEST_PG`) PostgreSQL: the
//! SLA warning and then the breach of the first-response target are
//! escalated to the supervisor exactly once each; waiting on the customer
//! pauses the resolution clock; resolving needs a root cause from the
//! taxonomy and brings a follow-up visit task and a CSAT survey in the
//! outbox; reopening and closing again; the improvement item and the
//! metrics see the case.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rapport_testkit::{Backend, TestDb};

use chrono::{Duration, FixedOffset, NaiveDateTime};
use rapport_engage::case::CaseAction;
use rapport_engage::sla::SlaState;
use rapport_services::cases::{self, CaseSettings, Intake};
use rapport_services::clock::Clock;
use rapport_services::config::Config;

async fn run(backend: Backend) {
    let Some(db) = TestDb::on(backend, "case_flow").await else {
        return;
    };
    let store = db.store.clone();
    rapport_testkit::generated_bank(&db, 40, 3).await;
    let customer = store.sample_customer_keys(1, 1).await.unwrap().remove(0);

    let mut cfg = Config::default();
    cfg.jobs.utc_offset = "+08:00".into();
    // This story runs the first response on working hours (the default is
    // 24 calendar hours; crates/services/tests/services/kpi_report.rs).
    cfg.cases.first_response_basis = "business".into();
    let s = CaseSettings::from_config(&cfg).unwrap();
    // Monday 14 September 2026, 10:00.
    let monday = NaiveDateTime::parse_from_str("2026-09-14 10:00", "%Y-%m-%d %H:%M").unwrap();
    let clock = Clock::fixed(FixedOffset::east_opt(8 * 3600).unwrap(), monday);

    // Intake errors name the field.
    let intake = Intake {
        customer_key: customer.clone(),
        intake: "api".into(),
        kind: "complaint".into(),
        category: "fees".into(),
        severity: "high".into(),
        subject: "年费重复扣收".into(),
        description: "信用卡年费本月被扣了两次，要求退还。".into(),
        supervisor: Some("mgr_hq".into()),
        by: "agent01".into(),
    };
    let mut bad = intake.clone();
    bad.severity = "urgent!".into();
    let e = cases::open(&store, &clock, &bad).await.unwrap_err();
    assert!(e.to_string().contains("severity"), "{e}");
    bad = intake.clone();
    bad.category = "nonsense".into();
    assert!(cases::open(&store, &clock, &bad)
        .await
        .unwrap_err()
        .to_string()
        .contains("category"));
    // Category and severity may be left to the classifier and the rules.
    let mut auto = intake.clone();
    auto.category = "auto".into();
    auto.severity = "auto".into();
    auto.subject = "Wrong account on my credit report".into();
    auto.description = "There is an account on my credit report that I never opened. I am a victim of identity theft and the credit bureau will not remove the inquiry from my credit file.".into();
    let a = cases::open(&store, &clock, &auto).await.unwrap();
    assert_eq!(a.category, "credit_reporting");
    assert_eq!(a.severity, "critical", "identity theft is critical by rule");
    let opened = &store.case_events(a.id).await.unwrap()[0];
    let detail = opened.detail.as_deref().unwrap_or("");
    assert!(
        detail.contains("detected from the text (confidence"),
        "{detail}"
    );
    assert!(detail.contains("by rule"), "{detail}");
    // It is a case like any other; keep the rest of the test about one case.
    cases::act(
        &store,
        &s,
        &clock,
        a.id,
        &CaseAction::Assign { to: "rm01".into() },
        "t",
    )
    .await
    .unwrap();
    cases::act(&store, &s, &clock, a.id, &CaseAction::Start, "t")
        .await
        .unwrap();
    cases::act(
        &store,
        &s,
        &clock,
        a.id,
        &CaseAction::Resolve {
            root_cause: "external.third_party_fraud".into(),
            resolution: "inquiry removed".into(),
        },
        "t",
    )
    .await
    .unwrap();
    cases::act(&store, &s, &clock, a.id, &CaseAction::Close, "t")
        .await
        .unwrap();

    let c = cases::open(&store, &clock, &intake).await.unwrap();
    assert_eq!(c.state, "new");

    // Complaints opened here feed the analytics: the feature the health
    // score's satisfaction component and the complaint-escalation rule read
    // counts both (the generated history ends long before September 2026).
    let next_day = monday.date() + Duration::days(1);
    let table = rapport_analytics::compute_features(&store, next_day)
        .await
        .unwrap();
    let row = table.row_of_id(c.customer_id).unwrap();
    assert_eq!(table.value(row, "complaints_90"), Some(2.0));
    let id = c.id;

    let act = |a: CaseAction| {
        let store = store.clone();
        let s = s.clone();
        let clock = clock.clone();
        async move { cases::act(&store, &s, &clock, id, &a, "agent01").await }
    };
    // Closing a new case is refused, naming the state.
    let e = act(CaseAction::Close).await.unwrap_err();
    assert!(e.to_string().contains("new"), "{e}");
    act(CaseAction::Assign { to: "rm01".into() }).await.unwrap();
    act(CaseAction::Start).await.unwrap();

    // Move the clock past the warning point, then past the due time.
    let v = cases::view(&store, &s, &clock, id).await.unwrap();
    assert_eq!(v.first_response.state, SlaState::Running);
    assert_eq!(v.first_response.target_minutes, 24 * 60);
    clock.advance(v.first_response.warn_at - clock.local() + Duration::minutes(1));
    let r = cases::sweep(&store, &s, &clock).await.unwrap();
    assert_eq!((r.warnings, r.breaches), (1, 0), "{r:?}");
    assert_eq!(
        cases::sweep(&store, &s, &clock).await.unwrap().warnings,
        0,
        "raised once"
    );
    clock.advance(v.first_response.due - clock.local() + Duration::minutes(1));
    let r = cases::sweep(&store, &s, &clock).await.unwrap();
    assert_eq!(r.breaches, 1, "{r:?}");
    assert_eq!(
        cases::sweep(&store, &s, &clock).await.unwrap().breaches,
        0,
        "raised once"
    );
    let esc = store.case_escalations(id).await.unwrap();
    assert!(esc.iter().all(|e| e.escalated_to == "mgr_hq"));
    let first: Vec<&str> = esc
        .iter()
        .filter(|e| e.target == "first_response")
        .map(|e| e.level.as_str())
        .collect();
    assert_eq!(first, vec!["warning", "breach"]);
    // A high-severity case must be resolved in 3 working days: by the
    // first-response deadline (24 working hours) the resolution warning
    // (80 %) is due too.
    assert!(esc
        .iter()
        .any(|e| e.target == "resolution" && e.level == "warning"));
    // The due time was on a working day after Monday (24 working hours).
    assert!(v.first_response.due.date() > monday.date() + Duration::days(1));

    act(CaseAction::Respond).await.unwrap();
    let v = cases::view(&store, &s, &clock, id).await.unwrap();
    assert_eq!(v.first_response.state, SlaState::MetLate);

    // Waiting on the customer pauses the resolution clock.
    act(CaseAction::WaitOnCustomer).await.unwrap();
    let before = cases::view(&store, &s, &clock, id)
        .await
        .unwrap()
        .resolution;
    clock.advance(Duration::days(3));
    let during = cases::view(&store, &s, &clock, id)
        .await
        .unwrap()
        .resolution;
    assert_eq!(during.elapsed_minutes, before.elapsed_minutes, "paused");
    assert_eq!(during.state, SlaState::Paused);
    act(CaseAction::CustomerReplied).await.unwrap();

    // Resolving needs a root cause from the taxonomy.
    let e = act(CaseAction::Resolve {
        root_cause: String::new(),
        resolution: "refunded".into(),
    })
    .await
    .unwrap_err();
    assert!(e.to_string().contains("root_cause"), "{e}");
    let e = act(CaseAction::Resolve {
        root_cause: "process.made_up".into(),
        resolution: "refunded".into(),
    })
    .await
    .unwrap_err();
    assert!(e.to_string().contains("process.made_up"), "{e}");
    let step = act(CaseAction::Resolve {
        root_cause: "process.processing_error".into(),
        resolution: "重复扣收的年费已退还".into(),
    })
    .await
    .unwrap();
    assert_eq!(step.state, "resolved");
    let task = step.follow_up_task.expect("a follow-up visit task");
    let tasks = store.contact_tasks(None, true).await.unwrap();
    let t = tasks.iter().find(|t| t.id == task).unwrap();
    assert_eq!(t.kind, "visit");
    assert!(t.due_at > clock.local());
    let msg = step.csat_message.expect("the CSAT survey queued");
    let m = store
        .message_by_key(&format!("case-{id}.csat.0"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.id, msg);
    assert_eq!(m.purpose, "service");
    assert!(m.body.contains("/s/"), "{}", m.body);

    act(CaseAction::Close).await.unwrap();
    act(CaseAction::Reopen {
        reason: "客户称退款未到账".into(),
    })
    .await
    .unwrap();
    act(CaseAction::Escalate {
        to: "mgr_hq".into(),
        reason: "second contact".into(),
    })
    .await
    .unwrap();
    clock.advance(Duration::hours(2));
    act(CaseAction::Resolve {
        root_cause: "process.processing_error".into(),
        resolution: "退款已到账，已与客户确认".into(),
    })
    .await
    .unwrap();
    act(CaseAction::Close).await.unwrap();

    let v = cases::view(&store, &s, &clock, id).await.unwrap();
    assert_eq!(v.case.state, "closed");
    assert_eq!(v.case.reopen_count, 1);
    let states: std::collections::BTreeSet<&str> =
        v.events.iter().map(|e| e.to_state.as_str()).collect();
    for st in [
        "new",
        "assigned",
        "in_progress",
        "waiting_customer",
        "resolved",
        "closed",
    ] {
        assert!(states.contains(st), "{st} never reached: {states:?}");
    }
    let actions: Vec<&str> = v.events.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "open",
        "assign",
        "start",
        "escalate",
        "respond",
        "wait_on_customer",
        "customer_replied",
        "resolve",
        "close",
        "reopen",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }

    let item = store
        .add_improvement_item(
            "process.processing_error",
            "年费扣收批处理去重",
            "ops_lead",
            None,
            clock.now(),
        )
        .await
        .unwrap();
    assert_eq!(store.improvement_cases(item).await.unwrap(), vec![id]);
    let m = cases::metrics(&store, &s, &clock, None, None)
        .await
        .unwrap();
    // Two cases: the classified one (answered at once, never reopened) and
    // the one that went through every state.
    assert_eq!(m.cases, 2);
    assert_eq!(m.complaints, 2);
    assert_eq!(m.first_response_within_sla, Some(0.5));
    assert_eq!(m.reopen_rate, Some(0.5));
    assert!((m.complaints_per_1000_customers - 2000.0 / m.customers as f64).abs() < 1e-9);
    assert_eq!(
        m.by_root_cause,
        vec![
            ("external.third_party_fraud".to_string(), 1),
            ("process.processing_error".to_string(), 1)
        ]
    );

    // Erasing the customer clears the case's text and the survey message.
    let c = store.case(id).await.unwrap().unwrap();
    let r = store
        .erase_customer(c.customer_id, clock.now())
        .await
        .unwrap();
    assert!(r.case_descriptions_cleared >= 1);
    let c = store.case(id).await.unwrap().unwrap();
    assert_eq!(c.description, "[erased]");
    assert_eq!(c.subject, "[erased]");
    let m = store
        .message_by_key(&format!("case-{id}.csat.0"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.body, "[erased]");
    assert_eq!(m.address, "");
    assert_eq!(
        m.status, "cancelled",
        "a queued message is not sent after erasure"
    );

    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complaint_through_every_state_with_a_moved_clock_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complaint_through_every_state_with_a_moved_clock_postgres() {
    run(Backend::Postgres).await;
}
