//! Saved views through the pages, on SQLite and on PostgreSQL when
//! `RAPPORT_TEST_PG` is set: an RM saves "my customers of one band by
//! score" and gets the list with the view applied (303, unknown parameters
//! dropped); the link is theirs alone; a view the branch manager shares
//! appears to everyone who may open the list, each seeing their own scope;
//! an RM may not share; refused saves say why in Chinese and English;
//! saves and deletes are audited; nobody but the owner (or an administrator
//! for a shared view) deletes one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::language::problems;
use common::post_form as post;
use common::{bank, get_page, Bank};
use rapport_store::AuditFilter;

/// The bands shown on a customer list page, in order of appearance.
fn bands(page: &str) -> Vec<String> {
    page.split("<span class=\"band ")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

/// The saved-view links of a page: (name, href).
fn links(page: &str) -> Vec<(String, String)> {
    page.split("<a class=\"saved-link\" href=\"")
        .skip(1)
        .filter_map(|s| {
            let (href, rest) = s.split_once('"')?;
            let name = rest.split_once('>')?.1.split('<').next()?;
            Some((
                name.to_string(),
                href.replace("&amp;", "&").replace("&#38;", "&"),
            ))
        })
        .collect()
}

async fn audit_count(b: &Bank, actor: &str, action: &str) -> usize {
    b.store
        .audit_log(&AuditFilter {
            actor: Some(actor.to_string()),
            action: Some(action.to_string()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .0
        .len()
}

async fn story(b: &Bank) {
    let (rm_a, rm_a_csrf) = b.session(&b.rm_a).await;
    let (rm_b, rm_b_csrf) = b.session(&b.rm_b).await;
    let (mgr, mgr_csrf) = b.session(&b.mgr_branch).await;
    let (hq, hq_csrf) = b.session(&b.mgr_hq).await;
    let (admin, admin_csrf) = b.session(&b.admin).await;

    // The bar is on the list; an RM is not offered sharing.
    let (s, page) = get_page(b, &rm_a, "/customers").await;
    assert_eq!(s, 200);
    assert!(page.contains("id=\"saved-views\""), "the bar on /customers");
    assert!(
        page.contains("还没有保存的视图"),
        "no views yet, in Chinese"
    );
    assert!(!page.contains("id=\"saved-shared\""), "an RM may not share");
    let band = bands(&page)
        .into_iter()
        .next()
        .expect("the RM's customers have a band");

    // Saving keeps the list's own parameters, sorted; page, format, the
    // token and unknown names are dropped; 303 to the list with the view.
    let messy = format!("page=3&sort=score&dir=desc&band={band}&format=csv&csrf=x&evil=1");
    let (s, to, _) = post(
        b,
        &rm_a,
        "/saved-views",
        &[
            ("csrf", rm_a_csrf.as_str()),
            ("list", "customers"),
            ("name", "我的客户按得分"),
            ("query", messy.as_str()),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let want = format!("/customers?band={band}&dir=desc&sort=score");
    assert_eq!(to, want);
    let (s, page) = get_page(b, &rm_a, &to).await;
    assert_eq!(s, 200);
    // The filtered rows: only that band, sorted by score (descending).
    let shown = bands(&page);
    assert!(!shown.is_empty(), "the view shows rows");
    assert!(shown.iter().all(|x| *x == band), "only {band}: {shown:?}");
    let scores: Vec<f64> = page
        .split("<td class=\"num\">")
        .skip(1)
        .filter_map(|s| s.split('<').next()?.parse().ok())
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "sorted by score, descending: {scores:?}"
    );
    let mine = links(&page);
    assert_eq!(mine, vec![("我的客户按得分".to_string(), want.clone())]);
    assert!(
        page.contains("aria-current=\"true\""),
        "the current view is marked"
    );
    let p = problems(&page, true);
    assert!(p.is_empty(), "the Chinese page with a view: {p:#?}");

    // The view is the RM's alone.
    let (_, page) = get_page(b, &rm_b, "/customers").await;
    assert!(
        !page.contains("我的客户按得分"),
        "another RM does not see it"
    );
    let rows = b
        .store
        .saved_views_for(b.rm_a.id, "customers")
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].query, format!("band={band}&dir=desc&sort=score"));
    assert!(!rows[0].shared);
    let rm_view = rows[0].id;

    // Saved and audited, naming the parameters, not their values.
    assert_eq!(audit_count(b, &b.rm_a.username, "saved_view.save").await, 1);
    let (e, _) = b
        .store
        .audit_log(&AuditFilter {
            actor: Some(b.rm_a.username.clone()),
            action: Some("saved_view.save".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        e[0].entry.entity_id.as_deref(),
        Some(rm_view.to_string().as_str())
    );
    assert!(
        e[0].entry.detail.contains("\"band\""),
        "{}",
        e[0].entry.detail
    );
    assert!(
        !e[0].entry.detail.contains("我的客户"),
        "{}",
        e[0].entry.detail
    );

    // An RM asking to share is refused; nothing is kept.
    let (s, _, _) = post(
        b,
        &rm_a,
        "/saved-views",
        &[
            ("csrf", rm_a_csrf.as_str()),
            ("list", "customers"),
            ("name", "想共享"),
            ("query", "band=watch"),
            ("shared", "1"),
        ],
    )
    .await;
    assert_eq!(s, 403);
    // A wrong token is refused; an unknown list is a bad request.
    let (s, _, _) = post(
        b,
        &rm_a,
        "/saved-views",
        &[("csrf", "forged"), ("list", "customers"), ("name", "x")],
    )
    .await;
    assert_eq!(s, 403);
    let (s, _, _) = post(
        b,
        &rm_a,
        "/saved-views",
        &[
            ("csrf", rm_a_csrf.as_str()),
            ("list", "accounts"),
            ("name", "x"),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        b.store
            .saved_views_for(b.rm_a.id, "customers")
            .await
            .unwrap()
            .len(),
        1
    );

    // The branch manager shares a view of the alert queue and one of the
    // customer list: whoever may open the list sees it.
    let (_, page) = get_page(b, &mgr, "/alerts").await;
    assert!(page.contains("id=\"saved-shared\""), "a manager may share");
    for (list, name, query) in [
        ("alerts", "新预警按严重程度", "status=new&sort=severity"),
        (
            "customers",
            "全行高风险客户",
            "band=at_risk&sort=score&dir=desc",
        ),
    ] {
        let (s, to, _) = post(
            b,
            &mgr,
            "/saved-views",
            &[
                ("csrf", mgr_csrf.as_str()),
                ("list", list),
                ("name", name),
                ("query", query),
                ("shared", "1"),
            ],
        )
        .await;
        assert_eq!(s, 303, "{list}");
        assert!(to.starts_with(&format!("/{list}?")), "{to}");
    }
    // An RM of another branch sees both (each list in their own scope).
    let (_, page) = get_page(b, &rm_b, "/alerts?status=new&sort=severity").await;
    assert!(
        links(&page).iter().any(|(n, _)| n == "新预警按严重程度"),
        "the shared alert view for another branch's RM"
    );
    assert!(page.contains("共享自"), "said to be shared, and by whom");
    assert!(page.contains("aria-current=\"true\""));
    assert!(
        !page.contains("class=\"saved-delete\""),
        "not theirs to delete"
    );
    // The auditor may open the customer list (and sees that shared view),
    // not the alert queue.
    let (s, page) = b.get_as(&b.auditor, "/customers").await;
    assert_eq!(s, 200);
    assert!(links(&page).iter().any(|(n, _)| n == "全行高风险客户"));
    assert!(!page.contains("新预警按严重程度"));
    assert_eq!(b.get_as(&b.auditor, "/alerts").await.0, 403);
    // The RM's own view comes first, then the shared one.
    let (_, page) = get_page(b, &rm_a, "/customers").await;
    let names: Vec<String> = links(&page).into_iter().map(|x| x.0).collect();
    assert_eq!(names, vec!["我的客户按得分", "全行高风险客户"]);

    // Refused saves go back to the list (filters kept) with the reason,
    // in Chinese…
    let (s, to, _) = post(
        b,
        &rm_a,
        "/saved-views",
        &[
            ("csrf", rm_a_csrf.as_str()),
            ("list", "customers"),
            ("name", "   "),
            ("query", "band=watch&page=2"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    assert_eq!(to, "/customers?band=watch&sv_error=name_empty");
    let (_, page) = get_page(b, &rm_a, &to).await;
    assert!(
        page.contains("未保存：请为视图填写名称。"),
        "the reason in Chinese"
    );
    let p = problems(&page, true);
    assert!(p.is_empty(), "the Chinese refusal: {p:#?}");
    let (_, to, _) = post(
        b,
        &rm_a,
        "/saved-views",
        &[
            ("csrf", rm_a_csrf.as_str()),
            ("list", "customers"),
            ("name", "我的客户按得分"),
            ("query", ""),
        ],
    )
    .await;
    assert_eq!(to, "/customers?sv_error=name_taken");
    let (_, page) = get_page(b, &rm_a, &to).await;
    assert!(page.contains("未保存：您在此列表已有同名视图。"));
    // … and in English.
    b.store.set_user_language(b.rm_a.id, "en").await.unwrap();
    let long = "x".repeat(61);
    let (_, to, _) = post(
        b,
        &rm_a,
        "/saved-views",
        &[
            ("csrf", rm_a_csrf.as_str()),
            ("list", "alerts"),
            ("name", long.as_str()),
            ("query", "severity=high"),
        ],
    )
    .await;
    assert_eq!(to, "/alerts?severity=high&sv_error=name_too_long");
    let (_, page) = get_page(b, &rm_a, &to).await;
    assert!(
        page.contains("Not saved: a view&#x27;s name has at most 60 characters.")
            || page.contains("Not saved: a view&#39;s name has at most 60 characters."),
        "the reason in English"
    );
    assert!(page.contains("Saved views"));
    let p = problems(&page, false);
    assert!(p.is_empty(), "the English refusal: {p:#?}");
    b.store.set_user_language(b.rm_a.id, "zh-CN").await.unwrap();
    assert_eq!(audit_count(b, &b.rm_a.username, "saved_view.save").await, 1);

    // Deleting: not another's private view (not found), not another's
    // shared one (refused), unless an administrator; the owner may.
    let mgr_rows = b
        .store
        .saved_views_for(b.mgr_branch.id, "customers")
        .await
        .unwrap();
    let shared_customers = mgr_rows
        .iter()
        .find(|r| r.staff_user_id == b.mgr_branch.id)
        .unwrap()
        .id;
    let del = |id: i64| format!("/saved-views/{id}/delete");
    let (s, _, _) = post(b, &rm_b, &del(rm_view), &[("csrf", rm_b_csrf.as_str())]).await;
    assert_eq!(s, 404, "another RM's private view");
    let (s, _, _) = post(
        b,
        &hq,
        &del(shared_customers),
        &[("csrf", hq_csrf.as_str())],
    )
    .await;
    assert_eq!(s, 403, "another manager's shared view");
    let (s, _, _) = post(
        b,
        &rm_a,
        &del(shared_customers),
        &[("csrf", rm_a_csrf.as_str())],
    )
    .await;
    assert_eq!(s, 403, "a shared view by an RM who does not own it");
    let (s, _, _) = post(b, &admin, &del(rm_view), &[("csrf", admin_csrf.as_str())]).await;
    assert_eq!(s, 404, "a private view, even by the administrator");
    let (s, _, _) = post(
        b,
        &rm_a,
        "/saved-views/abc/delete",
        &[("csrf", rm_a_csrf.as_str())],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(b.store.saved_view(rm_view).await.unwrap().id, rm_view);
    // The administrator removes a shared view; back to the list asked for.
    let (s, to, _) = post(
        b,
        &admin,
        &del(shared_customers),
        &[
            ("csrf", admin_csrf.as_str()),
            ("back", "/customers?band=watch"),
        ],
    )
    .await;
    assert_eq!((s, to.as_str()), (303, "/customers?band=watch"));
    // The owner deletes their own; a `back` off the list is not followed.
    let (s, to, _) = post(
        b,
        &rm_a,
        &del(rm_view),
        &[
            ("csrf", rm_a_csrf.as_str()),
            ("back", "https://evil.example/"),
        ],
    )
    .await;
    assert_eq!((s, to.as_str()), (303, "/customers"));
    assert!(b.store.saved_view(rm_view).await.is_err(), "deleted");
    let (_, page) = get_page(b, &rm_a, "/customers").await;
    assert!(links(&page).is_empty(), "both gone: {:?}", links(&page));
    assert_eq!(
        audit_count(b, &b.rm_a.username, "saved_view.delete").await,
        1
    );
    assert_eq!(
        audit_count(b, &b.admin.username, "saved_view.delete").await,
        1
    );

    // Every list has the bar: cases, tasks, campaigns, the audit log.
    for (who, path) in [
        (&b.mgr_branch, "/cases?sla=breached"),
        (&b.rm_a, "/tasks"),
        (&b.mgr_hq, "/campaigns?state=draft"),
        (&b.auditor, "/audit?action=customer.unmask"),
    ] {
        let (s, page) = b.get_as(who, path).await;
        assert_eq!(s, 200, "{path}");
        assert!(page.contains("id=\"saved-views\""), "the bar on {path}");
    }
    // An auditor keeps "unmaskings this month" and opens it.
    let (auditor, auditor_csrf) = b.session(&b.auditor).await;
    let (s, to, _) = post(
        b,
        &auditor,
        "/saved-views",
        &[
            ("csrf", auditor_csrf.as_str()),
            ("list", "audit"),
            ("name", "本月解除遮蔽"),
            (
                "query",
                "action=customer.unmask&from=2026-12-01&customer=C1",
            ),
        ],
    )
    .await;
    assert_eq!(
        (s, to.as_str()),
        (303, "/audit?action=customer.unmask&from=2026-12-01")
    );
    let (s, page) = get_page(b, &auditor, &to).await;
    assert_eq!(s, 200);
    assert!(links(&page).iter().any(|(n, _)| n == "本月解除遮蔽"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_views_through_the_pages_on_sqlite() {
    let b = bank(false, 300).await.unwrap();
    story(&b).await;
    b.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_views_through_the_pages_on_postgres() {
    let Some(b) = bank(true, 300).await else {
        eprintln!("RAPPORT_TEST_PG not set: PostgreSQL saved views test skipped");
        return;
    };
    story(&b).await;
    b.cleanup().await;
}
