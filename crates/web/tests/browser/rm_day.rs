//! The RM's day in a real browser: the RM signs in (Chinese), opens today's
//! tasks, finds a distressed customer's alert, logs the call with the
//! outcome "contacted – retained", and the follow-up task appears in the
//! list with its due date; the alert is closed with that disposition and
//! the task row is in the store. Then the same list in English on a phone
//! (390 px): readable, no sideways scrolling, large tap targets.

use super::common;
use super::harness::{with_password, Session};
use fantoccini::Locator;
use rapport_store::{Scope, ScopedAlertFilter};

/// Rules of an alert that says the customer is in financial distress.
const DISTRESS: [&str; 10] = [
    "income_stopped",
    "balance_collapse",
    "negative_balance",
    "dpd_1_30",
    "dpd_31_60",
    "dpd_61_90",
    "dpd_90_plus",
    "large_outflow",
    "cash_withdrawal_spike",
    "utilisation_above_90",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rm_answers_a_distress_alert_from_the_day_list_and_sees_the_follow_up() {
    let b = common::bank(false, 300).await.unwrap();
    let password = "a browser test password";
    // A new distress alert of a customer with an RM (and nobody else
    // assigned to it, so the follow-up is the RM's); rm_a's first open
    // alert when the bank has none.
    let (open, _) = b
        .store
        .alerts_in_scope(
            &Scope::All,
            &ScopedAlertFilter {
                status: Some("new".into()),
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut pick = None;
    for a in open.iter().filter(|a| DISTRESS.contains(&a.rule.as_str())) {
        let p = b
            .store
            .customer_360(&Scope::All, a.customer_id)
            .await
            .unwrap()
            .profile;
        let Some(rm_id) = p.rm_id else { continue };
        let u = b.store.staff_user(rm_id).await.unwrap();
        if u.role == "rm" && u.active && a.assignee_id.is_none_or(|x| x == rm_id) {
            pick = Some((a.clone(), u));
            break;
        }
    }
    let (alert, rm) = match pick {
        Some(p) => p,
        None => {
            let (mine, _) = b
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
            let a = mine
                .into_iter()
                .find(|a| a.assignee_id.is_none_or(|x| x == b.rm_a.id))
                .expect("an open alert of rm_a");
            (a, b.rm_a.clone())
        }
    };
    with_password(&b.store, &rm, password).await;
    eprintln!(
        "rm-day: {} answers alert {} ({})",
        rm.username, alert.id, alert.rule
    );

    let Some(mut s) = Session::start("rm-day", b.state.clone(), 1280).await else {
        return;
    };
    s.sign_in(&rm, password).await;
    // The nav leads to today's tasks.
    s.click("header.top nav a[href='/tasks']").await;
    let row = format!("#alert-{}", alert.id);
    s.wait_for(&row).await;
    let text = s.text().await;
    assert!(text.contains("今日任务"), "the Chinese page");
    let (_, zh_rule) = rapport_matching::alert_rule_words(&alert.rule);
    assert!(
        text.contains(&zh_rule),
        "the alert's rule in words: {zh_rule}"
    );
    s.shot("day-list-zh").await;

    // Log the call: contacted – retained.
    s.click(&format!("{row} details summary")).await;
    s.wait_for(&format!("{row} select[name=outcome]"))
        .await
        .select_by_value("contacted_retained")
        .await
        .unwrap();
    s.fill(
        &format!("{row} textarea[name=note]"),
        "客户收入中断，已协商延期还款并挽留",
    )
    .await;
    s.shot("log-call").await;
    s.click(&format!("{row} button.save-contact")).await;
    s.wait_url("done=contact").await;
    s.wait_for("#tasks-done").await;

    // The business outcome: the alert closed as retained, the follow-up task kept…
    let closed = b.store.alert(alert.id).await.unwrap();
    assert_eq!(closed.status, "closed");
    assert_eq!(closed.disposition.as_deref(), Some("contacted_retained"));
    let task = b
        .store
        .contact_tasks(Some(&rm.username), true)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.customer_id == alert.customer_id && t.kind == "call")
        .max_by_key(|t| t.id)
        .expect("the follow-up task row");
    let log = b.store.contact_log(alert.customer_id).await.unwrap();
    assert!(log.iter().any(|l| l.outcome == "contacted_retained"));
    // …and shown in the list with its due date; the alert has left it.
    let due = task.due_at.date().to_string();
    let follow = format!("#follow_up-{}", task.id);
    let follow_row = s.wait_for(&follow).await.text().await.unwrap();
    assert!(follow_row.contains(&due), "{follow_row}");
    assert!(follow_row.contains("跟进任务"), "{follow_row}");
    assert!(s.text().await.contains(&due));
    assert!(
        s.c.find(Locator::Css(&row)).await.is_err(),
        "the alert is gone"
    );
    s.shot("follow-up-listed").await;
    s.finish().await;

    // The same list in English on a phone.
    b.store.set_user_language(rm.id, "en").await.unwrap();
    let Some(mut s) = Session::start("rm-day-phone", b.state.clone(), 390).await else {
        return;
    };
    s.sign_in(&rm, password).await;
    s.open("/tasks", &follow).await;
    let text = s.text().await;
    assert!(text.contains("Today's tasks"), "the English page");
    assert!(!text.contains("今日任务"));
    let follow_row = s.wait_for(&follow).await.text().await.unwrap();
    assert!(
        follow_row.contains("Follow-up") && follow_row.contains(&due),
        "{follow_row}"
    );
    let width =
        s.c.execute(
            "const t = document.getElementById('day-list'); \
             return Math.max(t.scrollWidth, t.getBoundingClientRect().right) - window.innerWidth;",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(width <= 1.0, "the list fits the phone: {width}px too wide");
    let tap = s
        .c
        .execute(
            &format!("return document.querySelector('{follow} details summary').getBoundingClientRect().height;"),
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(tap >= 40.0, "a large tap target: {tap}px");
    s.shot("day-list-en-phone").await;
    s.finish().await;
    b.cleanup().await;
}
