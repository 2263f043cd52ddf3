//! The 360 tells everything Rapport knows (issue 17, item 7) and the risk
//! questionnaire (item 8), on SQLite and (with `RAPPORT_TEST_PG`)
//! PostgreSQL: a case with its steps, the follow-up task its resolution
//! brings, a survey link and its answers, a logged contact and an RM
//! assigned by hand — each made through the services — appear in
//! `read_360` beside the imported sections, with free text hidden from a
//! viewer who does not see names; the derived profile is served; a
//! recorded assessment becomes the tolerance the suitability rule reads,
//! the history keeps the earlier ones, and the rights, scope and audit hold.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rapport_testkit::{Backend, TestDb};

use rapport_domain::RiskTolerance;
use rapport_engage::case::CaseAction;
use rapport_services::access::{staff_by_username, Actor};
use rapport_services::cases::{self, Intake};
use rapport_services::config::Config;
use rapport_services::customers::{read_360, Reading};
use rapport_services::error::ServiceError;
use rapport_services::privacy::Field;
use rapport_services::rm::{log_contact, ContactEntry, ContactKind, ContactOutcome};
use rapport_services::{risk_profile, staff, surveys, Services};
use rapport_store::{AuditFilter, NewSurveyAnswer, Scope};
use serde_json::Value;

fn ids(rows: &[serde_json::Map<String, Value>]) -> Vec<i64> {
    rows.iter()
        .filter_map(|r| r.get("id").and_then(Value::as_i64))
        .collect()
}

async fn run(backend: Backend) {
    let Some(db) = TestDb::on(backend, "profile360").await else {
        return;
    };
    let store = db.store.clone();
    rapport_testkit::generated_bank(&db, 40, 5).await;
    let svc = Services::build(store.clone(), Config::default()).unwrap();
    let admin = staff_by_username(&store, "admin01", "test").await.unwrap();
    let admin_actor = Actor::Staff(admin.clone());

    // A customer with a branch, handled by the branch's manager.
    let keys = store.sample_customer_keys(40, 7).await.unwrap();
    let mut picked = None;
    for k in keys {
        let id = store.customer_id_by_key(&Scope::All, &k).await.unwrap();
        let c = store.customer_360(&Scope::All, id).await.unwrap();
        if let Some(b) = c.profile.branch_code.clone() {
            picked = Some((k, id, b));
            break;
        }
    }
    let (key, id, branch) = picked.expect("a customer with a branch");
    let mgr_name = format!("mgr_{}", branch.to_lowercase());
    let mgr = staff_by_username(&store, &mgr_name, "test").await.unwrap();
    let mgr_actor = Actor::Staff(mgr.clone());
    let before = read_360(&svc, &mgr, "test", &key, Reading::View)
        .await
        .unwrap();
    assert!(before.customer.support_cases.is_empty());
    assert!(before.customer.contact_log.is_empty());

    // A complaint opened, worked and resolved in Rapport.
    let clock = svc.clock.clone();
    let case = cases::open_case(
        &store,
        &clock,
        &mgr_actor,
        "test",
        Intake {
            customer_key: key.clone(),
            intake: String::new(),
            kind: "complaint".into(),
            category: "fees".into(),
            severity: "medium".into(),
            subject: "年费重复扣收".into(),
            description: "信用卡年费本月被扣了两次。".into(),
            supervisor: None,
            by: String::new(),
        },
    )
    .await
    .unwrap();
    let s = &svc.settings.cases;
    for a in [
        CaseAction::Assign {
            to: mgr_name.clone(),
        },
        CaseAction::Start,
        CaseAction::Respond,
    ] {
        cases::step_case(&store, s, &clock, &mgr_actor, "test", case.id, &a)
            .await
            .unwrap();
    }
    let resolved = cases::step_case(
        &store,
        s,
        &clock,
        &mgr_actor,
        "test",
        case.id,
        &CaseAction::Resolve {
            root_cause: "process.processing_error".into(),
            resolution: "已退还".into(),
        },
    )
    .await
    .unwrap();
    let task = resolved.follow_up_task.expect("a follow-up task");

    // A survey link and its answers.
    let def = surveys::shipped_survey("nps_relationship").expect("a shipped survey");
    let inv = surveys::invite(
        &store,
        &mgr_actor,
        "test",
        &def.key,
        &key,
        7,
        "https://bank.example",
    )
    .await
    .unwrap();
    store
        .submit_survey(
            inv.id,
            &[NewSurveyAnswer {
                question_id: def.questions[0].id.clone(),
                kind: "nps".into(),
                score: Some(9),
                functional: None,
                dysfunctional: None,
                answer_text: Some("服务很好".into()),
            }],
            chrono::Utc::now(),
        )
        .await
        .unwrap();

    // A contact logged and an RM assigned by hand.
    let logged = log_contact(
        &store,
        &clock,
        &mgr_actor,
        "test",
        ContactEntry {
            customer_key: key.clone(),
            kind: ContactKind::Call,
            outcome: ContactOutcome::Reached,
            note: Some("客户表示满意".into()),
            by: String::new(),
        },
    )
    .await
    .unwrap();
    let rm_name = format!("rm_{}_01", branch.to_lowercase());
    staff::assign_rm(&store, &admin_actor, "test", &key, &rm_name)
        .await
        .unwrap();

    let read = read_360(&svc, &mgr, "test", &key, Reading::View)
        .await
        .unwrap();
    let c = &read.customer;
    assert_eq!(ids(&c.support_cases), vec![case.id]);
    assert_eq!(
        c.support_cases[0].get("state").and_then(Value::as_str),
        Some("resolved")
    );
    assert!(
        c.case_events
            .iter()
            .filter(|e| e.get("case_id").and_then(Value::as_i64) == Some(case.id))
            .count()
            >= 5,
        "{:?}",
        c.case_events
    );
    assert!(ids(&c.tasks).contains(&task), "{:?}", c.tasks);
    assert!(ids(&c.survey_invitations).contains(&inv.id));
    assert!(c
        .survey_answers
        .iter()
        .any(
            |a| a.get("invitation_id").and_then(Value::as_i64) == Some(inv.id)
                && a.get("score").and_then(Value::as_i64) == Some(9)
        ));
    assert_eq!(ids(&c.contact_log), vec![logged.id]);
    assert_eq!(
        c.contact_log[0].get("staff").and_then(Value::as_str),
        Some(mgr_name.as_str())
    );
    assert_eq!(c.rm_history.len(), 1, "{:?}", c.rm_history);
    let rm_user = store.staff_user_by_name(&rm_name).await.unwrap().unwrap();
    assert_eq!(
        c.rm_history[0].get("rm_name").and_then(Value::as_str),
        Some(rm_user.display_name.as_str())
    );
    assert_eq!(
        c.rm_history[0].get("actor").and_then(Value::as_str),
        Some("admin01")
    );
    assert_eq!(c.profile.rm_id, Some(rm_user.id));
    assert!(c.profile.rm_assigned_at.is_some());
    // The imported sections are still there beside them.
    assert_eq!(
        c.interactions.len(),
        before.customer.interactions.len(),
        "imported interactions kept"
    );
    // The derived profile is served with the 360.
    let as_of = read.derived.as_of;
    assert_eq!(as_of, svc.clock.local().date(), "never scored: today");

    // A viewer who does not see names sees no free text in the new sections.
    let analyst = staff_by_username(&store, "analyst01", "test")
        .await
        .unwrap();
    let masked = read_360(&svc, &analyst, "test", &key, Reading::View)
        .await
        .unwrap();
    if masked.masked.contains(&Field::Name) {
        let mc = &masked.customer;
        for (rows, col) in [
            (&mc.support_cases, "description"),
            (&mc.support_cases, "subject"),
            (&mc.contact_log, "note"),
            (&mc.survey_answers, "answer_text"),
        ] {
            assert!(
                rows.iter().all(|r| r
                    .get(col)
                    .and_then(Value::as_str)
                    .is_none_or(|v| v == "***")),
                "{col}: {rows:?}"
            );
        }
    } else {
        panic!("analysts are expected not to see names (masking policy changed?)");
    }

    // Risk tolerance: recorded, audited, read by the suitability rule.
    let imported = store.customer_risk(id).await.unwrap().unwrap();
    let agent = Actor::Staff(staff_by_username(&store, "agent01", "test").await.unwrap());
    let refused = risk_profile::assess(&svc, &agent, "test", &key, "cccccccccc").await;
    assert!(
        matches!(refused, Err(ServiceError::Access(_))),
        "{refused:?}"
    );
    let bad = risk_profile::assess(&svc, &mgr_actor, "test", &key, "ccc").await;
    assert!(
        matches!(&bad, Err(ServiceError::Invalid { field, message }) if field == "answers" && message.contains("10")),
        "{bad:?}"
    );
    let c3 = risk_profile::assess(&svc, &mgr_actor, "test", &key, "d,c,b,c,d,c,c,c,c,c")
        .await
        .unwrap();
    assert_eq!(
        (
            c3.assessment.tolerance.as_str(),
            c3.assessment.score,
            c3.assessment.current,
            c3.assessment.valid
        ),
        ("C3", Some(31), true, true)
    );
    let today = svc.clock.local().date();
    assert_eq!(
        store.customer_risk(id).await.unwrap(),
        Some((Some("c3".to_string()), Some(today)))
    );
    // The suitability rule, given what the store holds, allows R3 and not R4.
    let assessment = rapport_matching::Assessment {
        tolerance: RiskTolerance::C3,
        assessed_on: today,
    };
    assert!(rapport_matching::is_valid_on(
        &svc.settings.matching.policy,
        &assessment,
        today
    ));
    // A second questionnaire: the latest is the one read.
    let c1 = risk_profile::assess(
        &svc,
        &mgr_actor,
        "test",
        &key,
        "age=a,income=b,investable_share=a,experience=a,products=a,horizon=b,goal=a,loss=a,drawdown=a,obligations=c",
    )
    .await
    .unwrap();
    assert_eq!(c1.assessment.tolerance, "C1");
    assert_eq!(
        store.customer_risk(id).await.unwrap(),
        Some((Some("c1".to_string()), Some(today)))
    );
    let risks = store.customer_risks().await.unwrap();
    assert!(risks
        .iter()
        .any(|(cid, t, d)| *cid == id && t.as_deref() == Some("c1") && *d == Some(today)));
    let history = risk_profile::history(&svc, &mgr_actor, "test", &key)
        .await
        .unwrap();
    let had_import = imported.0.is_some() && imported.1.is_some();
    assert_eq!(history.len(), 2 + usize::from(had_import), "{history:?}");
    assert!(history[0].current && history[0].tolerance == "C1");
    assert!(history[1..].iter().all(|h| !h.current));
    assert_eq!(history[1].tolerance, "C3");
    if had_import {
        let last = history.last().unwrap();
        assert_eq!(last.source, "import");
        assert_eq!(Some(last.assessed_on), imported.1);
    }
    // The 360 carries the history too.
    let read = read_360(&svc, &mgr, "test", &key, Reading::View)
        .await
        .unwrap();
    assert_eq!(read.risk_assessments.len(), history.len());
    assert_eq!(read.customer.profile.risk_tolerance.as_deref(), Some("c1"));
    // Out of scope: another branch's manager cannot assess this customer.
    let other = store
        .staff_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.role == "manager" && u.branch_code.as_deref() != Some(branch.as_str()));
    if let Some(o) = other {
        let o = Actor::Staff(
            staff_by_username(&store, &o.username, "test")
                .await
                .unwrap(),
        );
        let e = risk_profile::assess(&svc, &o, "test", &key, "cccccccccc").await;
        assert!(matches!(e, Err(ServiceError::NotFound(_))), "{e:?}");
    }
    // Audited with the actor.
    let (rows, _) = store
        .audit_log(&AuditFilter {
            action: Some("risk_assessment.record".into()),
            customer_id: Some(id),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.entry.actor == mgr_name));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_360_shows_what_was_done_in_rapport_and_the_latest_risk_assessment_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_360_shows_what_was_done_in_rapport_and_the_latest_risk_assessment_postgres() {
    run(Backend::Postgres).await;
}
