//! The risk officer's pages on a generated bank with a model history: two
//! churn model versions (the first active), the pipeline scored on three
//! dates (the demo's earlier scorings) so band migration, drift months and
//! matured alerts exist. `/models` and `/rules` answer the risk officer and
//! the analyst only; an activation takes effect only once a second person
//! approves it (the requester is refused, a second risk officer succeeds
//! and the active version changes; every step audited); the migration
//! matrix sums to the customers scored on both dates; a rule's action rate
//! counts the alerts the store has actioned. On SQLite, and on PostgreSQL
//! when `RAPPORT_TEST_PG` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
#[path = "risk_history.rs"]
mod risk_history;
use risk_history::{model_history, BANK};

use common::{bank, Bank};
use rapport_services::access::{staff_by_username, Actor};
use rapport_services::model_registry;
use rapport_store::{AlertStatus, Store};

/// Posts a form (the shared helper); returns status and `Location`.
async fn post(b: &Bank, cookie: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let (status, location, _) = common::post_form(b, cookie, path, form).await;
    (status, location)
}

async fn count(store: &Store, sql: &str) -> i64 {
    match store {
        Store::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

async fn risk_pages(pg: bool) {
    let Some(b) = bank(pg, BANK).await else {
        return;
    };
    let h = model_history(&b.store).await;

    // Route × role: the risk officer, the analyst and the administrator
    // (who may approve an activation, so sees what is approved).
    for (who, ok) in [
        (&b.risk, true),
        (&b.analyst, true),
        (&b.admin, true),
        (&b.mgr_branch, false),
        (&b.mgr_hq, false),
        (&b.rm_a, false),
        (&b.agent, false),
        (&b.auditor, false),
    ] {
        for path in ["/models", "/rules"] {
            let (status, body) = b.get_as(who, path).await;
            assert_eq!(
                status,
                if ok { 200 } else { 403 },
                "{} {path}",
                who.username
            );
            assert_eq!(
                body.contains("href=\"/models\""),
                ok,
                "{}: the nav shows Models to those who may open it",
                who.username
            );
        }
    }

    // The page shows the active version's AUC and its drift months.
    let risk = Actor::Staff(
        staff_by_username(&b.store, &b.risk.username, "test")
            .await
            .unwrap(),
    );
    let reg = model_registry::registry(&b.store, &risk).await.unwrap();
    let active = reg.active(&h.kind).expect("an active model");
    assert_eq!(active.id, h.v1);
    assert!(
        active.drift.len() >= 2,
        "drift months of the active model: {:?}",
        active.drift
    );
    let (_, page) = b.get_as(&b.risk, "/models").await;
    let auc = format!("{:.3}", active.auc.unwrap());
    assert!(
        page.contains(&format!("id=\"auc-{}\">{auc}<", h.v1)),
        "AUC {auc} shown"
    );
    let last = active.drift.last().unwrap();
    assert!(page.contains(&format!(
        "id=\"psi-{}-{}\">{:.3}<",
        h.v1, last.month, last.psi
    )));
    assert!(page.contains("模型登记册") && page.contains("健康分层迁移"));

    // Activation: requested by the risk officer, refused to the same person,
    // approved by a second risk officer; the active version changes then.
    let (cookie, csrf) = b.session(&b.risk).await;
    let (s, loc) = post(
        &b,
        &cookie,
        &format!("/models/{}/activate", h.v2),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!((s, loc.as_str()), (303, "/models?notice=requested"));
    let req = b.store.model_change_requests().await.unwrap()[0].clone();
    assert_eq!((req.status.as_str(), req.model_id), ("pending", Some(h.v2)));
    // Refreshing the request page does not submit again; a second request is refused.
    let (s, loc) = post(
        &b,
        &cookie,
        &format!("/models/{}/activate", h.v2),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!((s, loc.as_str()), (303, "/models?notice=refused"));
    assert_eq!(b.store.model_change_requests().await.unwrap().len(), 1);
    let approve = format!("/models/requests/{}/approve", req.id);
    let (s, loc) = post(&b, &cookie, &approve, &[("csrf", &csrf)]).await;
    assert_eq!((s, loc.as_str()), (303, "/models?notice=self"));
    assert_eq!(
        b.store.active_model(&h.kind).await.unwrap().unwrap().id,
        h.v1,
        "the requester's own approval changes nothing"
    );
    assert_eq!(
        b.store
            .model_change_request(req.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        "pending"
    );
    // An analyst may read but not approve; without the CSRF token nobody may.
    let (acookie, acsrf) = b.session(&b.analyst).await;
    assert_eq!(
        post(&b, &acookie, &approve, &[("csrf", &acsrf)]).await.0,
        403
    );
    b.store
        .create_staff_user("risk2", "Second risk officer", "risk", None, "x")
        .await
        .unwrap();
    let risk2 = b
        .store
        .staff_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "risk2")
        .unwrap();
    let (cookie2, csrf2) = b.session(&risk2).await;
    assert_eq!(
        post(&b, &cookie2, &approve, &[("csrf", "wrong")]).await.0,
        403
    );
    let (s, loc) = post(&b, &cookie2, &approve, &[("csrf", &csrf2)]).await;
    assert_eq!((s, loc.as_str()), (303, "/models?notice=approved"));
    assert_eq!(
        b.store.active_model(&h.kind).await.unwrap().unwrap().id,
        h.v2,
        "approved by a second person: the new version is active"
    );
    let done = b.store.model_change_request(req.id).await.unwrap().unwrap();
    assert_eq!(
        (
            done.status.as_str(),
            done.decided_by.as_deref(),
            done.result_model_id
        ),
        ("approved", Some("risk2"), Some(h.v2))
    );
    for action in [
        "model.change_requested",
        "model.change_approved",
        "model.activate",
    ] {
        let n = count(
            &b.store,
            &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"),
        )
        .await;
        assert_eq!(n, 1, "{action} audited once");
    }
    let (_, page) = b.get_as(&risk2, "/models").await;
    assert!(page.contains(&format!(
        "id=\"request-{}\" data-status=\"approved\"",
        req.id
    )));

    // Band migration: the matrix sums to the customers scored on both dates.
    let m = rapport_services::risk_monitor::band_migration(&b.store, &risk)
        .await
        .unwrap();
    let (from, to) = (m.from.unwrap(), m.to.unwrap());
    assert_eq!(to, h.as_of);
    assert!(from < to);
    let both = count(
        &b.store,
        &format!(
            "SELECT COUNT(*) FROM health_score a JOIN health_score b ON b.customer_id = a.customer_id \
             AND b.as_of = '{to}' WHERE a.as_of = '{from}'"
        ),
    )
    .await;
    let cells: i64 = m.rows.iter().flatten().map(|c| c.customers).sum();
    assert_eq!((cells, m.customers), (both, both));
    assert!(both > 0);
    assert_eq!(m.trend.len(), 3, "three scoring dates");
    assert!(page.contains(&format!("<span id=\"migration-total\">{both}</span>")));

    // Rule performance: the action rate counts the alerts the store actioned.
    let rule = count(
        &b.store,
        "SELECT COUNT(*) FROM alert WHERE rule = 'dormancy'",
    )
    .await;
    let code = if rule >= 2 { "dormancy" } else { "dpd_1_30" };
    let ids: Vec<i64> = match &b.store {
        Store::Sqlite(p) => sqlx::query_scalar(&format!(
            "SELECT id FROM alert WHERE rule = '{code}' AND status = 'new' ORDER BY id LIMIT 2"
        ))
        .fetch_all(p)
        .await
        .unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(&format!(
            "SELECT id FROM alert WHERE rule = '{code}' AND status = 'new' ORDER BY id LIMIT 2"
        ))
        .fetch_all(p)
        .await
        .unwrap(),
    };
    assert!(!ids.is_empty(), "alerts of {code}");
    let clock = b.state.services.clock.clone();
    for id in &ids {
        for to in [AlertStatus::Acknowledged, AlertStatus::Actioned] {
            rapport_services::alerts::transition(
                &b.store, &clock, &risk, *id, to, None, None, "test",
            )
            .await
            .unwrap();
        }
    }
    let report = rapport_services::rule_performance::report(&b.state.services, &risk)
        .await
        .unwrap();
    let p = report.rule(code).unwrap();
    let raised = count(
        &b.store,
        &format!("SELECT COUNT(*) FROM alert WHERE rule = '{code}'"),
    )
    .await;
    let actioned = count(
        &b.store,
        &format!("SELECT COUNT(*) FROM alert WHERE rule = '{code}' AND status = 'actioned'"),
    )
    .await;
    assert_eq!(
        (p.total.alerts as i64, p.total.acted as i64),
        (raised, actioned)
    );
    assert_eq!(actioned, ids.len() as i64);
    let rate = actioned as f64 / raised as f64;
    assert!((p.total.action_rate.unwrap() - rate).abs() < 1e-12);
    let months: u64 = p.months.iter().map(|m| m.figures.alerts).sum();
    assert_eq!(months, p.total.alerts, "the months partition the alerts");
    assert!(
        report.rules.iter().any(|r| r.total.matured > 0),
        "alerts 60 days back have matured"
    );
    let (_, page) = b.get_as(&b.analyst, "/rules").await;
    assert!(page.contains(&format!(
        "id=\"action-rate-{code}\">{}<",
        rapport_web::present::percent(rate)
    )));
    assert!(page.contains("预警规则效果"));
    // In English for a user who chose it, without Chinese words in the table.
    b.store.set_user_language(b.analyst.id, "en").await.unwrap();
    let (_, page) = b.get_as(&b.analyst, "/rules").await;
    assert!(page.contains("Early-warning rule performance") && page.contains("Action rate"));
    let (_, page) = b.get_as(&b.analyst, "/models").await;
    assert!(page.contains("Model registry") && page.contains("Health band migration"));
    assert!(!page.contains("模型登记册"));
    b.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risk_pages_on_sqlite() {
    risk_pages(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risk_pages_on_postgres() {
    risk_pages(true).await;
}
