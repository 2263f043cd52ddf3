//! The complaint handler's journey: an agent opens a customer's complaint
//! about a wealth product's fees that were never explained, sees (or
//! corrects) the category the classifier gave it, answers the customer
//! (the text kept in the history and SENT: a service message queued in the
//! outbox on a channel the customer consents to, in their language, shown
//! on the case with its delivery state; the first-response clock stopped),
//! resolves it with a root cause — the CSAT survey and the follow-up visit
//! go out on the resolution, before any closure — and asks to close it;
//! the case being high, the branch manager approves the closure — in
//! English. The store then holds the closed case with its root cause, the
//! first response time, the sent response, the CSAT survey invitation and
//! the follow-up visit task.

use super::common;
use super::harness::{with_password, Session};

const SUBJECT: &str = "理财产品的管理费从未说明";
const DESCRIPTION: &str =
    "客户购买的理财产品每季度被扣管理费，销售时理财经理从未解释过这笔费用，要求退还并书面说明。";
const ANSWER: &str = "已致电客户致歉，说明管理费的收取方式，并承诺三个工作日内退还。";
const CAUSE: &str = "people.insufficient_explanation";

async fn count(store: &rapport_store::Store, sql: &str) -> i64 {
    match store {
        rapport_store::Store::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        rapport_store::Store::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complaint_handler_answers_resolves_and_a_manager_approves_the_closure() {
    let b = common::bank(false, 300).await.unwrap();
    let password = "a complaint handler's password";
    with_password(&b.store, &b.agent, password).await;
    with_password(&b.store, &b.mgr_branch, password).await;
    // The customer consents to service messages by text and e-mail
    // (recorded at the branch the day before).
    let rm = rapport_services::access::Actor::Staff(rapport_services::access::Staff {
        user: b.rm_a.clone(),
        role: rapport_services::access::Role::Rm,
        client: "branch".into(),
    });
    let yesterday = chrono::Utc::now().date_naive() - chrono::Duration::days(1);
    for channel in ["sms", "email"] {
        rapport_services::consents::record_consent(
            &b.store, &rm, "branch", &b.own.key, channel, "service", true, yesterday, None,
        )
        .await
        .unwrap();
    }
    let Some(mut s) = Session::start("complaint-handler", b.state.clone(), 1280).await else {
        return;
    };

    // The agent opens the complaint from the customer's page, in Chinese.
    s.sign_in(&b.agent, password).await;
    let key = common::enc(&b.own.key);
    s.open(&format!("/customers/{key}/cases/new"), "#case-intake")
        .await;
    s.click("select[name=severity] option[value=high]").await;
    s.fill("input[name=subject]", SUBJECT).await;
    s.fill("textarea[name=description]", DESCRIPTION).await;
    s.shot("intake").await;
    s.submit("#open-case").await;
    s.wait_for("#case-actions").await;
    let url = s.c.current_url().await.unwrap().to_string();
    let id: i64 = url
        .rsplit('/')
        .next()
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("not a case page: {url}"));
    let opened = b.store.case(id).await.unwrap().unwrap();
    assert_eq!(
        (opened.kind.as_str(), opened.severity.as_str()),
        ("complaint", "high")
    );

    // The classifier's category shows as words; corrected if it is not the
    // wealth products'.
    let text = s.text().await;
    assert!(text.contains("受理"), "{text}");
    if opened.category != "wealth_insurance" {
        s.click("#case-reclassify option[value=wealth_insurance]")
            .await;
        s.fill(
            "#case-reclassify input[name=reason]",
            "投诉的是理财产品的费用",
        )
        .await;
        s.submit("#case-reclassify button").await;
        s.wait_for("#case-actions").await;
    }
    let text = s.text().await;
    assert!(text.contains("理财与保险"), "{text}");
    assert!(
        !text.contains("wealth_insurance"),
        "a raw code on the page: {text}"
    );
    s.shot("classified").await;

    // Take it, start, and answer the customer.
    s.submit("form[data-action=assign] button").await;
    s.wait_for("form[data-action=start]").await;
    s.submit("form[data-action=start] button").await;
    s.wait_for("form[data-action=respond]").await;
    s.fill("form[data-action=respond] textarea[name=message]", ANSWER)
        .await;
    s.submit("form[data-action=respond] button").await;
    s.wait_for("form[data-action=resolve]").await;
    let text = s.text().await;
    assert!(
        text.contains(ANSWER),
        "the answer is not in the history: {text}"
    );
    assert!(text.contains("UTC+08:00"), "{text}");
    // The answer went to the customer: in the outbox, shown on the case.
    let sent = b.store.case_messages(id).await.unwrap();
    assert_eq!(sent.len(), 1, "the answer was not sent: {sent:?}");
    assert_eq!(sent[0].idempotency_key, format!("case-{id}.response.1"));
    assert!(sent[0].body.contains(ANSWER), "{sent:?}");
    assert!(
        matches!(sent[0].channel.as_str(), "sms" | "email"),
        "{sent:?}"
    );
    s.wait_for("#case-messages tr.case-message").await;
    assert!(text.contains("发给客户的消息"), "{text}");
    assert!(text.contains("等待发送"), "{text}");
    assert!(!text.contains("答复已记录，但没有发送"), "{text}");
    s.shot("answered").await;

    // Resolve with the root cause, then ask to close.
    s.click(&format!(
        "form[data-action=resolve] option[value='{CAUSE}']"
    ))
    .await;
    s.fill(
        "form[data-action=resolve] textarea[name=resolution]",
        "已退还全部管理费，并安排理财经理重新讲解产品费用。",
    )
    .await;
    s.submit("form[data-action=resolve] button").await;
    s.wait_for(".case-state[data-state=resolved]").await;
    // The CSAT survey goes out on the resolution (not on the closure).
    let csat_now = count(
        &b.store,
        &format!("SELECT COUNT(*) FROM outbox_message WHERE idempotency_key = 'case-{id}.csat.0'"),
    )
    .await;
    assert_eq!(csat_now, 1, "no CSAT survey queued on the resolution");
    let text = s.text().await;
    assert!(text.contains("满意度调查"), "{text}");
    s.submit("form[data-action=close] button").await;
    s.wait_for("#closure-own").await;
    let text = s.text().await;
    assert!(text.contains("须由其他经理审批"), "{text}");
    s.shot("closure-asked").await;
    assert_eq!(b.store.case(id).await.unwrap().unwrap().state, "resolved");
    s.sign_out().await;

    // The branch manager, in English, finds it among the closures awaiting
    // approval and approves.
    s.sign_in(&b.mgr_branch, password).await;
    s.submit("#switch-language").await;
    s.open("/cases?approval=1", "#case-filters").await;
    let text = s.text().await;
    assert!(text.contains("Closures awaiting approval"), "{text}");
    assert!(text.contains(SUBJECT), "{text}");
    assert!(text.contains("Wealth management and insurance"), "{text}");
    s.shot("approvals-en").await;
    s.click(&format!("a[href='/cases/{id}']")).await;
    s.wait_for("#closure-approve").await;
    s.fill(
        "#closure-approve input[name=note]",
        "refund confirmed with the customer",
    )
    .await;
    s.submit("#closure-approve button").await;
    s.wait_for(".case-state[data-state=closed]").await;
    let text = s.text().await;
    assert!(text.contains("Closed"), "{text}");
    assert!(text.contains("Insufficient explanation"), "{text}");
    s.shot("closed-en").await;

    // The business outcome, in the store.
    let c = b.store.case(id).await.unwrap().unwrap();
    assert_eq!(c.state, "closed");
    assert_eq!(c.category, "wealth_insurance");
    assert_eq!(c.root_cause.as_deref(), Some(CAUSE));
    assert!(c.closed_at.is_some());
    let responded = c
        .first_response_at
        .expect("the first response time is recorded");
    assert!(responded >= c.opened_at);
    let events = b.store.case_events(id).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.action == "respond" && e.detail.as_deref() == Some(ANSWER)),
        "{events:?}"
    );
    assert!(events
        .iter()
        .any(|e| e.action == "close_request" && e.actor == b.agent.username));
    let responded_msg = count(
        &b.store,
        &format!(
            "SELECT COUNT(*) FROM outbox_message WHERE customer_id = {} AND purpose = 'service' \
             AND idempotency_key = 'case-{id}.response.1' AND body LIKE '%{ANSWER}%'",
            b.own.id
        ),
    )
    .await;
    assert_eq!(responded_msg, 1, "the response is not in the outbox");
    assert!(events
        .iter()
        .any(|e| e.action == "close" && e.actor == b.mgr_branch.username));
    let csat = count(
        &b.store,
        &format!(
            "SELECT COUNT(*) FROM survey_invitation WHERE customer_id = {} \
             AND survey = 'csat_after_case'",
            b.own.id
        ),
    )
    .await;
    assert_eq!(csat, 1, "no CSAT survey invitation went out");
    let follow_up = count(
        &b.store,
        &format!(
            "SELECT COUNT(*) FROM contact_task WHERE customer_id = {} AND kind = 'visit' \
             AND script LIKE '%#{id}%'",
            b.own.id
        ),
    )
    .await;
    assert_eq!(follow_up, 1, "no follow-up visit task");
    s.finish().await;
    b.cleanup().await;
}
