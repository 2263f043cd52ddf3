//! The risk officer's journey: signs in (Chinese), opens the model
//! registry and reads the active model's AUC and its latest PSI month,
//! requests the newer version's activation and is refused approving it
//! herself; a second risk officer approves it and the active version
//! changes; the first opens the warning rules and reads a rule's action rate
//! and median lead time — every figure shown equals the services' figure —
//! and reads the rules page in English.

use super::common;
use super::harness::{with_password, Session};
use rapport_services::access::{staff_by_username, Actor};
use rapport_store::{AlertStatus, Store};

#[path = "../web/risk_history.rs"]
mod risk_history;

async fn text_of(s: &Session, css: &str) -> String {
    s.wait_for(css).await.text().await.unwrap()
}

async fn ids(store: &Store, sql: &str) -> Vec<i64> {
    match store {
        Store::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_risk_officer_reads_model_drift_and_rule_performance_and_needs_a_second_approval() {
    let b = common::bank(false, risk_history::BANK).await.unwrap();
    let h = risk_history::model_history(&b.store).await;
    let password = "a risk officer's browser password";
    with_password(&b.store, &b.risk, password).await;
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
    with_password(&b.store, &risk2, password).await;
    let risk = Actor::Staff(
        staff_by_username(&b.store, &b.risk.username, "test")
            .await
            .unwrap(),
    );

    // Alerts of the rule with the most outcomes, two of them worked to "actioned".
    let before = rapport_services::rule_performance::report(&b.state.services, &risk)
        .await
        .unwrap();
    let code = before
        .rules
        .iter()
        .filter(|r| r.total.alerts >= 2)
        .max_by_key(|r| (r.total.with_outcome, r.total.alerts))
        .expect("a rule with alerts")
        .code
        .clone();
    let clock = b.state.services.clock.clone();
    for id in ids(
        &b.store,
        &format!(
            "SELECT id FROM alert WHERE rule = '{code}' AND status = 'new' ORDER BY id LIMIT 2"
        ),
    )
    .await
    {
        for to in [AlertStatus::Acknowledged, AlertStatus::Actioned] {
            rapport_services::alerts::transition(
                &b.store, &clock, &risk, id, to, None, None, "test",
            )
            .await
            .unwrap();
        }
    }
    let reg = rapport_services::model_registry::registry(&b.store, &risk)
        .await
        .unwrap();
    let active = reg.version(h.v1).unwrap().clone();
    let rules = rapport_services::rule_performance::report(&b.state.services, &risk)
        .await
        .unwrap();
    let perf = rules.rule(&code).unwrap().clone();

    let Some(mut s) = Session::start("risk-officer", b.state.clone(), 1280).await else {
        return;
    };
    s.sign_in(&b.risk, password).await;
    s.shot("dashboard").await;

    // The model registry, in Chinese.
    s.click("nav a[href='/models']").await;
    s.wait_for("#model-versions").await;
    let page = s.text().await;
    assert!(page.contains("模型登记册") && page.contains("健康分层迁移"));
    assert_eq!(
        text_of(&s, &format!("#auc-{}", h.v1)).await,
        format!("{:.3}", active.auc.unwrap()),
        "the AUC shown is the registry's"
    );
    let last = active.drift.last().expect("drift months");
    assert_eq!(
        text_of(&s, &format!("#psi-{}-{}", h.v1, last.month)).await,
        format!("{:.3}", last.psi),
        "the PSI shown is the registry's"
    );
    let level = match last.level.as_str() {
        "stable" => "稳定",
        "watch" => "需关注",
        _ => "显著漂移",
    };
    assert!(text_of(&s, &format!("#latest-psi-{}", h.v1))
        .await
        .contains(level));
    s.shot("models").await;

    // Requests the newer version; approving her own request is refused.
    s.click(&format!("#request-activate-{}", h.v2)).await;
    s.wait_url("notice=requested").await;
    let req = b.store.model_change_requests().await.unwrap()[0].clone();
    s.click(&format!("#approve-{}", req.id)).await;
    s.wait_url("notice=self").await;
    assert!(s.text().await.contains("申请人不能批准自己的申请"));
    assert_eq!(
        b.store.active_model(&h.kind).await.unwrap().unwrap().id,
        h.v1
    );
    s.shot("own-approval-refused").await;

    // A second risk officer approves: the new version is active.
    s.sign_out().await;
    s.sign_in(&risk2, password).await;
    s.open("/models", "#model-requests").await;
    s.click(&format!("#approve-{}", req.id)).await;
    s.wait_url("notice=approved").await;
    assert_eq!(
        b.store.active_model(&h.kind).await.unwrap().unwrap().id,
        h.v2,
        "approved by a second person"
    );
    assert!(s.text().await.contains("已批准"));
    s.shot("approved-by-second").await;
    s.sign_out().await;

    // The warning rules: the action rate and the median lead time.
    s.sign_in(&b.risk, password).await;
    s.click("nav a[href='/rules']").await;
    s.wait_for("#rule-performance").await;
    assert!(s.text().await.contains("预警规则效果"));
    let rate = perf.total.action_rate.unwrap();
    assert!(rate > 0.0);
    assert_eq!(
        text_of(&s, &format!("#action-rate-{code}")).await,
        rapport_web::present::percent(rate)
    );
    let lead = match perf.total.median_lead_days {
        Some(d) => format!("{d:.1}"),
        None => "—".to_string(),
    };
    assert_eq!(text_of(&s, &format!("#lead-{code}")).await, lead);
    s.shot("rules").await;

    // The same page in English.
    s.click("#switch-language").await;
    s.wait_url("/rules").await;
    s.wait_for("#rule-performance").await;
    let page = s.text().await;
    assert!(page.contains("Early-warning rule performance") && page.contains("Action rate"));
    assert!(!page.contains("预警规则效果"));
    assert_eq!(
        text_of(&s, &format!("#action-rate-{code}")).await,
        rapport_web::present::percent(rate)
    );
    s.shot("rules-english").await;
    s.finish().await;
    b.cleanup().await;
}
