//! The RM's day through the pages (`/tasks`), on SQLite and on PostgreSQL
//! when `RAPPORT_TEST_PG` is set: who may open it; logging "contacted –
//! retained" on an alert closes it and the follow-up appears in the list
//! with its due date (303 back to the list); a consent revocation is kept
//! for the 360; a risk questionnaire answers with the level in words; a
//! refused form says why in the page's language; the Chinese page shows no
//! English of the catalogue.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use common::post_form as post;

use common::{bank, enc, Bank};
use rapport_store::{Scope, ScopedAlertFilter};

async fn routes_by_role(b: &Bank) {
    for (who, expect) in [
        (&b.rm_a, 200),
        (&b.mgr_branch, 200),
        (&b.admin, 403),
        (&b.agent, 403),
        (&b.risk, 403),
        (&b.analyst, 403),
        (&b.auditor, 403),
    ] {
        let (s, _) = b.get_as(who, "/tasks").await;
        assert_eq!(s, expect, "/tasks as {}", who.username);
        let (s, _) = b
            .get_as(who, &format!("/tasks/customer/{}", enc(&b.own.key)))
            .await;
        match (expect, who.role.as_str()) {
            // The branch manager sees the branch: the RM's customer is there.
            (200, "manager") => assert!(s == 200 || s == 404, "panel as manager: {s}"),
            _ => assert_eq!(s, expect, "the customer panel as {}", who.username),
        }
    }
    // Another RM's customer is not found from the panel.
    let (s, _) = b
        .get_as(&b.rm_a, &format!("/tasks/customer/{}", enc(&b.other.key)))
        .await;
    assert_eq!(s, 404);
    // The nav entry and the workbench's link.
    let (_, page) = b.get_as(&b.rm_a, "/workbench").await;
    assert!(page.contains("href=\"/tasks\""));
}

async fn retained_closes_the_alert_and_the_follow_up_appears(b: &Bank) {
    let (alerts, _) = b
        .store
        .alerts_in_scope(
            &Scope::Rm(b.rm_a.id),
            &ScopedAlertFilter {
                status: Some("new".into()),
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // An alert nobody else is assigned to: its follow-up is the RM's.
    let alert = alerts
        .iter()
        .find(|a| a.assignee_id.is_none_or(|x| x == b.rm_a.id))
        .expect("an open alert of rm_a")
        .clone();
    let key = b
        .store
        .contact_points_of(alert.customer_id)
        .await
        .unwrap()
        .unwrap()
        .key;
    let (cookie, csrf) = b.session(&b.rm_a).await;
    let (_, page) = b.get_as(&b.rm_a, "/tasks").await;
    assert!(
        page.contains(&format!("id=\"alert-{}\"", alert.id)),
        "the alert is listed"
    );

    // Without the CSRF token: refused, nothing recorded.
    let id = alert.id.to_string();
    let form = [
        ("customer", key.as_str()),
        ("alert", id.as_str()),
        ("task", ""),
        ("kind", "call"),
        ("outcome", "contacted_retained"),
        ("note", "客户同意调整还款计划"),
    ];
    let (s, _, _) = post(b, &cookie, "/tasks/contact", &form).await;
    assert_eq!(s, 403);
    assert_eq!(b.store.alert(alert.id).await.unwrap().status, "new");

    let mut with_csrf = form.to_vec();
    with_csrf.push(("csrf", csrf.as_str()));
    let (s, to, _) = post(b, &cookie, "/tasks/contact", &with_csrf).await;
    assert_eq!(s, 303, "POST-redirect-GET");
    assert!(to.starts_with("/tasks?done=contact&follow_up="), "{to}");
    let closed = b.store.alert(alert.id).await.unwrap();
    assert_eq!(closed.status, "closed");
    assert_eq!(closed.disposition.as_deref(), Some("contacted_retained"));
    let task = b
        .store
        .contact_tasks(Some(&b.rm_a.username), true)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.customer_id == alert.customer_id && t.kind == "call")
        .max_by_key(|t| t.id)
        .expect("the follow-up task");
    let due = task.due_at.date().to_string();
    assert!(to.ends_with(&due), "{to} names the due day {due}");

    let (s, page) = b.get_as(&b.rm_a, &to).await;
    assert_eq!(s, 200);
    assert!(page.contains("id=\"tasks-done\""));
    assert!(
        page.contains(&format!("id=\"follow_up-{}\"", task.id)),
        "the follow-up is listed"
    );
    assert!(page.contains(&due));
    assert!(
        !page.contains(&format!("id=\"alert-{}\"", alert.id)),
        "the alert is gone"
    );

    // A refused form is shown again with the reason in Chinese (not a bare 400).
    let bad = [
        ("csrf", csrf.as_str()),
        ("customer", key.as_str()),
        ("kind", "call"),
        ("outcome", "great"),
    ];
    let (s, _, page) = post(b, &cookie, "/tasks/contact", &bad).await;
    assert_eq!(s, 422);
    assert!(
        page.contains("请选择联系结果"),
        "the reason in the page's language"
    );
}

async fn consent_and_risk_from_the_panel(b: &Bank) {
    let (cookie, csrf) = b.session(&b.rm_a).await;
    let base = format!("/tasks/customer/{}", enc(&b.own.key));
    let (s, to, _) = post(
        b,
        &cookie,
        &format!("{base}/consent"),
        &[
            ("csrf", csrf.as_str()),
            ("channel", "mobile"),
            ("purpose", "marketing"),
            ("granted", "no"),
            ("note", "客户要求停止营销短信"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    assert_eq!(to, "/tasks?done=consent");
    let consents = b.store.customer_consents(b.own.id).await.unwrap();
    let last = consents
        .iter()
        .rev()
        .find(|c| c.channel == "mobile" && c.purpose == "marketing")
        .expect("the revocation is kept");
    assert!(!last.granted);
    let c360 = b.store.customer_360(&Scope::All, b.own.id).await.unwrap();
    assert!(
        c360.consents.iter().any(|c| c["channel"] == "mobile"
            && c["purpose"] == "marketing"
            && c["source"] == "web"
            && (c["granted"] == false || c["granted"] == 0)),
        "the 360 holds the revocation: {:?}",
        c360.consents
    );

    // The questionnaire: every question answered with its first choice.
    let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf.clone())];
    for q in rapport_services::risk_profile::questions() {
        form.push((q.id.to_string(), q.choices[0].letter.to_string()));
    }
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (s, to, _) = post(b, &cookie, &format!("{base}/risk"), &refs).await;
    assert_eq!(s, 303);
    assert!(to.starts_with("/tasks?done=risk&level=C"), "{to}");
    let (_, page) = b.get_as(&b.rm_a, &to).await;
    let level = to.rsplit('=').next().unwrap();
    assert!(page.contains(level));
    assert!(
        ["保守型", "稳健型", "平衡型", "成长型", "进取型"]
            .iter()
            .any(|w| page.contains(w)),
        "the level in words"
    );
    let latest = b.store.risk_assessments(b.own.id).await.unwrap();
    assert_eq!(
        latest.first().map(|a| a.tolerance.to_uppercase()),
        Some(level.to_string())
    );

    // A questionnaire with a question left out: the reason, in the page.
    let (s, _, page) = post(b, &cookie, &format!("{base}/risk"), &refs[..refs.len() - 1]).await;
    assert_eq!(s, 422);
    assert!(page.contains("请回答全部问题"));
    // A manager may record a consent; an agent may not open the panel's forms.
    let (cookie, csrf) = b.session(&b.agent).await;
    let (s, _, _) = post(
        b,
        &cookie,
        &format!("{base}/risk"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(s, 403);
}

async fn chinese_page_has_no_english(b: &Bank) {
    let (_, zh) = b.get_as(&b.rm_a, "/tasks").await;
    let (_, panel) = b
        .get_as(&b.rm_a, &format!("/tasks/customer/{}", enc(&b.own.key)))
        .await;
    for (key, zh_text, en) in rapport_web::pages::tasks::TEXTS {
        if en.len() > 3 && zh_text != en {
            for page in [&zh, &panel] {
                assert!(
                    !page.contains(&format!(">{en}<")),
                    "{key}: {en:?} on the Chinese page"
                );
                assert!(
                    !page.contains(&format!(" {en}<")),
                    "{key}: {en:?} on the Chinese page"
                );
            }
        }
    }
    assert!(zh.contains("今日任务"));
    b.store.set_user_language(b.rm_a.id, "en").await.unwrap();
    let (_, en) = b.get_as(&b.rm_a, "/tasks").await;
    assert!(en.contains("Ranked by urgency"), "the English page");
    assert!(!en.contains("今日任务"));
    b.store.set_user_language(b.rm_a.id, "zh-CN").await.unwrap();
}

async fn story(b: &Bank) {
    routes_by_role(b).await;
    retained_closes_the_alert_and_the_follow_up_appears(b).await;
    consent_and_risk_from_the_panel(b).await;
    chinese_page_has_no_english(b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rm_day_through_the_pages_on_sqlite() {
    let b = bank(false, 300).await.unwrap();
    story(&b).await;
    b.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rm_day_through_the_pages_on_postgres() {
    let Some(b) = bank(true, 300).await else {
        eprintln!("RAPPORT_TEST_PG not set: PostgreSQL day list test skipped");
        return;
    };
    story(&b).await;
    b.cleanup().await;
}
