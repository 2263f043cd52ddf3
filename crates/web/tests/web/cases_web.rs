//! Cases and complaints through the pages: an RM opens a complaint for a
//! customer of their own from the intake form, finds it in the queue, works
//! it through assign, start and respond, is refused a resolution without a
//! root cause (422, the workflow's message) and resolves it with one; the
//! RM never reaches a case of another RM's customer (404), an analyst has no
//! case pages (403), and the pages speak Chinese by default. On SQLite, and
//! on PostgreSQL when `RAPPORT_TEST_PG` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use axum::body::Body;
use axum::http::{header, Request};
use common::{bank, enc, send, Bank};

async fn get(b: &Bank, cookie: &str, path: &str) -> (u16, String) {
    let req = Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let (status, text) = send(&b.app(), req).await;
    (status.as_u16(), text)
}

/// Posts a form; returns status, `Location` and body.
async fn post(b: &Bank, cookie: &str, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let req = Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let res = tower::ServiceExt::oneshot(b.app(), req).await.unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = axum::body::to_bytes(res.into_body(), 16 << 20)
        .await
        .unwrap();
    (
        status,
        location,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

async fn step(b: &Bank, cookie: &str, csrf: &str, id: i64, form: &[(&str, &str)]) -> (u16, String) {
    let mut all = vec![("csrf", csrf)];
    all.extend_from_slice(form);
    let (status, location, body) = post(b, cookie, &format!("/cases/{id}/actions"), &all).await;
    if status == 303 {
        assert_eq!(location, format!("/cases/{id}"));
    }
    (status, body)
}

async fn a_complaint_goes_from_the_form_to_resolved(b: &Bank) {
    let (cookie, csrf) = b.session(&b.rm_a).await;
    let key = enc(&b.own.key);

    // The form, in Chinese by default, offers detection from the text.
    let (status, form) = get(b, &cookie, &format!("/customers/{key}/cases/new")).await;
    assert_eq!(status, 200, "{form}");
    assert!(form.contains("登记投诉或服务请求"), "{form}");
    assert!(form.contains("value=\"auto\""), "{form}");
    assert!(form.contains("自动识别"), "{form}");
    // The 360 links to it.
    let (_, c360) = get(b, &cookie, &format!("/customers/{key}")).await;
    assert!(
        c360.contains("/cases/new"),
        "the 360 offers no complaint form"
    );

    // A missing subject re-renders the form with the message.
    let (status, _, page) = post(
        b,
        &cookie,
        &format!("/customers/{key}/cases"),
        &[
            ("csrf", &csrf),
            ("kind", "complaint"),
            ("category", "fees"),
            ("severity", "high"),
            ("subject", " "),
            ("description", "charged twice"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("subject"), "{page}");
    assert!(
        page.contains("charged twice"),
        "the form lost what was typed"
    );

    // Without the session's token the form is refused.
    let (status, _, _) = post(
        b,
        &cookie,
        &format!("/customers/{key}/cases"),
        &[("csrf", "wrong"), ("kind", "complaint")],
    )
    .await;
    assert_eq!(status, 403);

    let (status, location, page) = post(
        b,
        &cookie,
        &format!("/customers/{key}/cases"),
        &[
            ("csrf", &csrf),
            ("kind", "complaint"),
            ("category", "fees"),
            ("severity", "high"),
            ("subject", "annual fee charged twice"),
            (
                "description",
                "the card's annual fee was taken twice this month",
            ),
        ],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    let id: i64 = location
        .strip_prefix("/cases/")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("redirect to {location:?}"));
    let stored = b.store.case(id).await.unwrap().unwrap();
    assert_eq!(stored.customer_id, b.own.id);
    assert_eq!(stored.intake, "web");
    assert_eq!(stored.severity, "high");
    assert_eq!(stored.created_by, b.rm_a.username);

    // The queue lists it, newest first.
    let (status, queue) = get(b, &cookie, "/cases").await;
    assert_eq!(status, 200, "{queue}");
    let first = queue.find("data-case=").unwrap();
    assert!(
        queue[first..].starts_with(&format!("data-case=\"{id}\"")),
        "case {id} is not first"
    );
    assert!(queue.contains("annual fee charged twice"));
    assert!(!queue.contains(&format!("data-case=\"{}\"", b.other_case)));

    // The case page offers the first steps and none that the state refuses.
    let (status, page) = get(b, &cookie, &location).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("data-action=\"assign\""), "{page}");
    assert!(page.contains("data-action=\"escalate\""), "{page}");
    assert!(!page.contains("data-action=\"resolve\""), "{page}");
    assert!(!page.contains("data-action=\"close\""), "{page}");
    assert!(page.contains("首次响应"), "{page}");

    let me = b.rm_a.username.as_str();
    for form in [
        vec![("action", "assign"), ("to", me)],
        vec![("action", "start")],
    ] {
        let (status, page) = step(b, &cookie, &csrf, id, &form).await;
        assert_eq!(status, 303, "{form:?}: {page}");
    }
    // A response needs the text given to the customer, named in Chinese.
    let (status, page) = step(
        b,
        &cookie,
        &csrf,
        id,
        &[("action", "respond"), ("message", " ")],
    )
    .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("请填写答复客户的内容"), "{page}");
    assert!(
        !page.contains("write the response"),
        "English on the Chinese page: {page}"
    );
    assert!(b
        .store
        .case(id)
        .await
        .unwrap()
        .unwrap()
        .first_response_at
        .is_none());
    let said = "we refund the second fee within three days";
    let (status, page) = step(
        b,
        &cookie,
        &csrf,
        id,
        &[("action", "respond"), ("message", said)],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    assert!(b
        .store
        .case(id)
        .await
        .unwrap()
        .unwrap()
        .first_response_at
        .is_some());
    let (_, page) = get(b, &cookie, &location).await;
    assert!(page.contains("data-state=\"in_progress\""), "{page}");
    assert!(
        page.contains(said),
        "the response is not in the history: {page}"
    );
    assert!(page.contains("答复客户"), "{page}");
    assert!(
        page.contains("(UTC+08:00)"),
        "times are not labelled: {page}"
    );
    assert!(page.contains("data-action=\"resolve\""), "{page}");

    // A resolution needs a root cause: refused with the workflow's message.
    let (status, page) = step(
        b,
        &cookie,
        &csrf,
        id,
        &[
            ("action", "resolve"),
            ("root_cause", ""),
            ("resolution", "refunded"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("根本原因"), "{page}");
    assert!(page.contains("root_cause"), "{page}");
    assert_eq!(
        b.store.case(id).await.unwrap().unwrap().state,
        "in_progress"
    );

    let taxonomy = rapport_engage::case::RootCauseTaxonomy::default();
    let cause = taxonomy.iter().next().unwrap();
    let (status, page) = step(
        b,
        &cookie,
        &csrf,
        id,
        &[
            ("action", "resolve"),
            ("root_cause", &cause.code),
            ("resolution", "the second fee was refunded"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    let (_, page) = get(b, &cookie, &location).await;
    assert!(page.contains("data-state=\"resolved\""), "{page}");
    assert!(page.contains("已解决"), "{page}");
    assert!(page.contains(&cause.code), "{page}");
    assert!(page.contains(&cause.label_zh), "{page}");
    assert!(page.contains("data-action=\"close\""), "{page}");
    assert!(page.contains("data-action=\"reopen\""), "{page}");

    // Resolved cases leave the open queue and stay in the full one.
    let (_, open) = get(b, &cookie, "/cases").await;
    assert!(!open.contains(&format!("data-case=\"{id}\"")));
    let (_, all) = get(b, &cookie, "/cases?all=1").await;
    assert!(all.contains(&format!("data-case=\"{id}\"")));

    // Each write is audited.
    b.state.audit.flush().await;
    let sql = format!(
        "SELECT COUNT(*) FROM audit_log WHERE entity = 'case' AND entity_id = '{id}' \
         AND action IN ('case.open', 'case.step')"
    );
    let n: i64 = match &b.store {
        rapport_store::Store::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
        rapport_store::Store::Postgres(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
    };
    assert_eq!(n, 5, "open, assign, start, respond, resolve");

    // The high complaint closes only with a manager's approval: the RM's
    // close asks for it (303 to the case page; the case stays resolved).
    let (status, page) = step(b, &cookie, &csrf, id, &[("action", "close")]).await;
    assert_eq!(status, 303, "{page}");
    assert_eq!(b.store.case(id).await.unwrap().unwrap().state, "resolved");
    let (_, page) = get(b, &cookie, &location).await;
    assert!(page.contains("id=\"closure-own\""), "{page}");
    assert!(!page.contains("data-action=\"close\""), "{page}");
    // Sent again (a refresh re-posting the form), nothing new is asked.
    let (status, page) = step(b, &cookie, &csrf, id, &[("action", "close")]).await;
    assert_eq!(status, 422, "{page}");
    assert_eq!(b.store.pending_closures(Some(id)).await.unwrap().len(), 1);
    // The RM has no right to approve; the branch manager has.
    let (status, _, _) = post(
        b,
        &cookie,
        &format!("/cases/{id}/closure"),
        &[("csrf", &csrf), ("decision", "approve")],
    )
    .await;
    assert_eq!(status, 403);
    let (mgr, mgr_csrf) = b.session(&b.mgr_branch).await;
    let (_, page) = get(b, &mgr, &location).await;
    assert!(page.contains("id=\"closure-approve\""), "{page}");
    let (status, location2, page) = post(
        b,
        &mgr,
        &format!("/cases/{id}/closure"),
        &[
            ("csrf", &mgr_csrf),
            ("decision", "approve"),
            ("note", "refund confirmed"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    assert_eq!(location2, location);
    let closed = b.store.case(id).await.unwrap().unwrap();
    assert_eq!(closed.state, "closed");
    assert!(closed.closed_at.is_some());
    assert!(b.store.pending_closures(Some(id)).await.unwrap().is_empty());
    let events = b.store.case_events(id).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor.as_str()),
        ("close", b.mgr_branch.username.as_str())
    );
    assert!(
        last.detail
            .as_deref()
            .unwrap_or_default()
            .contains(&b.rm_a.username),
        "{last:?}"
    );
    b.state.audit.flush().await;
    let sql = format!(
        "SELECT COUNT(*) FROM audit_log WHERE entity = 'case' AND entity_id = '{id}' \
         AND action IN ('case.close_request', 'case.close_approve')"
    );
    let n: i64 = match &b.store {
        rapport_store::Store::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
        rapport_store::Store::Postgres(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
    };
    assert_eq!(n, 2, "the request and the approval are audited");
}

/// Opens and resolves a high complaint of `own` as `who` through the pages.
async fn resolved_high_complaint(b: &Bank, who: &rapport_store::StaffUser) -> i64 {
    let (cookie, csrf) = b.session(who).await;
    let (status, location, page) = post(
        b,
        &cookie,
        &format!("/customers/{}/cases", enc(&b.own.key)),
        &[
            ("csrf", &csrf),
            ("kind", "complaint"),
            ("category", "wealth_insurance"),
            ("severity", "high"),
            ("subject", "fund fees never explained"),
            (
                "description",
                "a management fee nobody mentioned when the fund was sold",
            ),
        ],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    let id: i64 = location.strip_prefix("/cases/").unwrap().parse().unwrap();
    let cause = rapport_engage::case::RootCauseTaxonomy::default()
        .iter()
        .next()
        .unwrap()
        .code
        .clone();
    for form in [
        vec![("action", "assign"), ("to", who.username.as_str())],
        vec![("action", "start")],
        vec![
            ("action", "respond"),
            ("message", "we are checking the fee"),
        ],
        vec![
            ("action", "resolve"),
            ("root_cause", &cause),
            ("resolution", "fee refunded"),
        ],
        vec![("action", "close"), ("reason", "customer satisfied")],
    ] {
        let (status, page) = step(b, &cookie, &csrf, id, &form).await;
        assert_eq!(status, 303, "{form:?}: {page}");
    }
    id
}

async fn nobody_approves_their_own_closure(b: &Bank) {
    // A manager handling the complaint asks to close it and cannot approve it.
    let id = resolved_high_complaint(b, &b.mgr_branch).await;
    let (mgr, csrf) = b.session(&b.mgr_branch).await;
    let (_, page) = get(b, &mgr, &format!("/cases/{id}")).await;
    assert!(page.contains("id=\"closure-own\""), "{page}");
    assert!(!page.contains("id=\"closure-approve\""), "{page}");
    let (status, _, page) = post(
        b,
        &mgr,
        &format!("/cases/{id}/closure"),
        &[("csrf", &csrf), ("decision", "approve")],
    )
    .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("须由其他经理审批"), "{page}");
    assert_eq!(b.store.case(id).await.unwrap().unwrap().state, "resolved");
    // A rejection needs a reason; another manager rejects, then approves the next request.
    let (hq, hq_csrf) = b.session(&b.mgr_hq).await;
    let (status, _, page) = post(
        b,
        &hq,
        &format!("/cases/{id}/closure"),
        &[("csrf", &hq_csrf), ("decision", "reject"), ("note", "")],
    )
    .await;
    assert_eq!(status, 422, "{page}");
    let (status, _, _) = post(
        b,
        &hq,
        &format!("/cases/{id}/closure"),
        &[
            ("csrf", &hq_csrf),
            ("decision", "reject"),
            ("note", "call the customer first"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert!(b.store.pending_closures(Some(id)).await.unwrap().is_empty());
    let (status, _) = step(b, &mgr, &csrf, id, &[("action", "close")]).await;
    assert_eq!(status, 303);
    let (status, _, _) = post(
        b,
        &hq,
        &format!("/cases/{id}/closure"),
        &[("csrf", &hq_csrf), ("decision", "approve")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(b.store.case(id).await.unwrap().unwrap().state, "closed");
}

/// The case ids of the rows of a queue page.
fn rows(page: &str) -> Vec<(i64, String)> {
    page.split("<tr class=\"case-row\"")
        .skip(1)
        .map(|r| {
            let id = r
                .split("data-case=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            (id, r.split("</tr>").next().unwrap().to_string())
        })
        .collect()
}

async fn the_queue_filters_and_exports(b: &Bank) {
    let seeded =
        rapport_services::cases::demo_seed(&b.store, &rapport_services::config::Config::default())
            .await
            .unwrap();
    let ids: Vec<i64> = seeded["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case"].as_i64().unwrap())
        .collect();
    let handler = seeded["handler"].as_str().unwrap().to_string();
    let (breached, awaiting, fresh) = (ids[0], ids[3], ids[4]);
    let (cookie, _) = b.session(&b.mgr_hq).await;

    // The breach view: the seeded breach, and only breaches.
    let (status, page) = get(b, &cookie, "/cases?sla=breached").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("已超时的案件"), "{page}");
    let listed = rows(&page);
    assert!(listed.iter().any(|(id, _)| *id == breached), "{page}");
    assert!(
        listed
            .iter()
            .all(|(_, r)| r.contains("data-sla=\"breached\"")),
        "{page}"
    );
    assert!(!listed.iter().any(|(id, _)| *id == fresh));
    assert!(b
        .store
        .case_escalations(breached)
        .await
        .unwrap()
        .iter()
        .any(|e| e.level == "breach"));
    for sla in ["due_soon", "on_time"] {
        let (_, page) = get(b, &cookie, &format!("/cases?sla={sla}")).await;
        let listed = rows(&page);
        assert!(
            listed
                .iter()
                .all(|(_, r)| r.contains(&format!("data-sla=\"{sla}\""))),
            "{page}"
        );
        assert!(!listed.iter().any(|(id, _)| *id == breached));
    }
    // Severity, category, assignee, and the closures awaiting approval.
    let (_, page) = get(b, &cookie, "/cases?severity=high&all=1").await;
    let listed = rows(&page);
    assert!(listed.iter().any(|(id, _)| *id == awaiting));
    assert!(listed
        .iter()
        .all(|(_, r)| r.contains("data-severity=\"high\"")));
    assert!(!listed.iter().any(|(id, _)| *id == fresh));
    let (_, page) = get(b, &cookie, "/cases?category=wealth_insurance").await;
    assert_eq!(
        rows(&page).iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![breached],
        "{page}"
    );
    assert!(page.contains("理财与保险"), "{page}");
    let (_, page) = get(b, &cookie, &format!("/cases?assignee={}", enc(&handler))).await;
    let mut got: Vec<i64> = rows(&page).iter().map(|r| r.0).collect();
    got.sort_unstable();
    assert_eq!(
        got,
        vec![ids[0], ids[1], ids[2]],
        "open cases of the handler: {page}"
    );
    let (_, page) = get(b, &cookie, "/cases?approval=1").await;
    assert_eq!(
        rows(&page).iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![awaiting],
        "{page}"
    );
    assert!(page.contains("待审批结案"), "{page}");
    let (_, page) = get(b, &cookie, "/cases?state=closed&category=debt_collection").await;
    assert!(rows(&page).is_empty());
    assert!(page.contains("id=\"case-empty\""), "{page}");
    assert!(
        page.contains("清除筛选"),
        "an empty result does not say what to do: {page}"
    );
    // Lenient paging and sorting; the English page speaks English.
    let (status, page) = get(b, &cookie, "/cases?page=abc&sort=evil&dir=x").await;
    assert_eq!(status, 200, "{page}");
    let (status, page) = get(b, &cookie, "/cases?sort=severity&dir=asc").await;
    assert_eq!(status, 200);
    let sev: Vec<String> = rows(&page)
        .iter()
        .map(|(_, r)| {
            r.split("data-severity=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    let rank = |s: &str| {
        ["critical", "high", "medium", "low"]
            .iter()
            .position(|x| *x == s)
            .unwrap()
    };
    assert!(
        sev.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])),
        "{sev:?}"
    );

    // CSV export: the filtered rows, words not codes, cells neutralised.
    let (agent, agent_csrf) = b.session(&b.agent).await;
    let (status, _, page) = post(
        b,
        &agent,
        &format!("/customers/{}/cases", enc(&b.own.key)),
        &[
            ("csrf", &agent_csrf),
            ("kind", "complaint"),
            ("category", "fees"),
            ("severity", "low"),
            ("subject", "=HYPERLINK(\"http://evil\")"),
            ("description", "a formula in the subject"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    let (status, csv) = get(b, &cookie, "/cases?severity=low&format=csv").await;
    assert_eq!(status, 200);
    assert!(csv.starts_with('\u{feff}'), "{csv}");
    assert!(csv.contains("HYPERLINK"), "{csv}");
    assert!(
        !csv.contains("\n=HYP") && !csv.contains(",=HYP") && !csv.contains("\"=HYP"),
        "{csv}"
    );
    assert!(csv.contains("低"), "{csv}");
    assert!(!csv.contains(",low,"), "{csv}");
    assert!(!csv.contains("fund"), "the export is not filtered: {csv}");
}

async fn detection_from_the_text_opens_or_names_the_field(b: &Bank) {
    let (cookie, csrf) = b.session(&b.agent).await;
    let key = enc(&b.own.key);
    let (status, location, page) = post(
        b,
        &cookie,
        &format!("/customers/{key}/cases"),
        &[
            ("csrf", &csrf),
            ("kind", "complaint"),
            ("category", "auto"),
            ("severity", "auto"),
            ("subject", "年费被重复扣收"),
            ("description", "信用卡年费本月被扣了两次，请退还"),
        ],
    )
    .await;
    match status {
        303 => assert!(location.starts_with("/cases/"), "{location}"),
        422 => assert!(page.contains("category"), "{page}"),
        other => panic!("auto intake answered {other}: {page}"),
    }
}

async fn scope_and_rights(b: &Bank) {
    let (rm, rm_csrf) = b.session(&b.rm_a).await;
    let (status, _) = get(b, &rm, &format!("/cases/{}", b.other_case)).await;
    assert_eq!(status, 404);
    let (status, _) = step(b, &rm, &rm_csrf, b.other_case, &[("action", "start")]).await;
    assert_eq!(status, 404);
    let (status, _) = get(
        b,
        &rm,
        &format!("/customers/{}/cases/new", enc(&b.other.key)),
    )
    .await;
    assert_eq!(status, 404);

    let (analyst, _) = b.session(&b.analyst).await;
    let (status, _) = get(b, &analyst, "/cases").await;
    assert_eq!(status, 403);
    let (_, c360) = get(b, &analyst, &format!("/customers/{}", enc(&b.own.key))).await;
    assert!(
        !c360.contains("/cases/new"),
        "an analyst is offered the complaint form"
    );
}

async fn story(b: &Bank) {
    a_complaint_goes_from_the_form_to_resolved(b).await;
    detection_from_the_text_opens_or_names_the_field(b).await;
    scope_and_rights(b).await;
    nobody_approves_their_own_closure(b).await;
    the_queue_filters_and_exports(b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_through_the_pages_on_sqlite() {
    let b = bank(false, 300).await.unwrap();
    story(&b).await;
    b.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_through_the_pages_on_postgres() {
    let Some(b) = bank(true, 300).await else {
        eprintln!("RAPPORT_TEST_PG not set: PostgreSQL case page test skipped");
        return;
    };
    story(&b).await;
    b.cleanup().await;
}
