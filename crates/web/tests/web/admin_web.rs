//! The administration page with thousands of staff (issue 18): the user
//! list is searched and paged and stays small (2,000 staff, under 200 KB,
//! one role select for the new-user form instead of one per row); a new
//! user gets the role with the fewest rights; erasing a customer takes two
//! administrators (the requester cannot approve), every step audited — on
//! SQLite and on PostgreSQL (`RAPPORT_TEST_PG`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{self, send};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use rapport_services::staff::least_privileged_role;
use rapport_store::{AuditFilter, Scope};

fn post(path: &str, cookie: &str, body: String) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

/// The user names listed in the user table of an admin page.
fn listed(page: &str) -> Vec<String> {
    page.split("<tr data-user=\"")
        .skip(1)
        .map(|r| r.split('"').next().unwrap().to_string())
        .collect()
}

async fn story(pg: bool) {
    let Some(b) = common::bank(pg, 300).await else {
        return;
    };
    let app = b.app();
    for i in 0..2000 {
        b.store
            .create_staff_user(
                &format!("bulk_user_{i:04}"),
                &format!("批量用户 {i:04}"),
                if i % 2 == 0 { "agent" } else { "analyst" },
                None,
                "x",
            )
            .await
            .unwrap();
    }
    let (admin, csrf) = b.session(&b.admin).await;

    // The page stays small with 2,000 staff: one page of users, no role
    // select per row.
    let (s, page) = send(&app, get("/admin", &admin)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.len() < 200_000,
        "the admin page is {} bytes with 2,000 staff",
        page.len()
    );
    assert!(page.matches("<select name=\"role\"").count() <= 3);
    let first = listed(&page);
    assert_eq!(first.len(), 50, "one page of 50 users");
    assert!(page.contains("id=\"next\""));

    // Search by user name and by name; pages of a search.
    let (_, found) = send(&app, get("/admin?q=bulk_user_0042", &admin)).await;
    assert_eq!(listed(&found), vec!["bulk_user_0042".to_string()]);
    let (_, found) = send(
        &app,
        get("/admin?q=%E6%89%B9%E9%87%8F%E7%94%A8%E6%88%B7+1999", &admin),
    )
    .await;
    assert_eq!(listed(&found), vec!["bulk_user_1999".to_string()]);
    let (_, p1) = send(&app, get("/admin?q=bulk_user_&page=1", &admin)).await;
    let (_, p2) = send(&app, get("/admin?q=bulk_user_&page=2", &admin)).await;
    assert!(p1.contains("2000 "), "the search counts 2,000 users");
    let (l1, l2) = (listed(&p1), listed(&p2));
    assert_eq!(l1.first().unwrap(), "bulk_user_0000");
    assert_eq!(l2.first().unwrap(), "bulk_user_0050");
    assert!(l1.iter().all(|u| !l2.contains(u)));
    let (_, by_role) = send(&app, get("/admin?q=bulk_user_&role=analyst", &admin)).await;
    assert!(listed(&by_role).iter().all(|u| {
        let n: u32 = u.trim_start_matches("bulk_user_").parse().unwrap();
        n % 2 == 1
    }));
    // A bad page number is page 1, never a bare 400.
    let (s, bad) = send(&app, get("/admin?page=abc&sort=evil", &admin)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(listed(&bad), first);

    // One user is edited on their own page.
    let u = b
        .store
        .staff_user_by_name("bulk_user_0007")
        .await
        .unwrap()
        .unwrap();
    let (s, edit) = send(&app, get(&format!("/admin/users/{}", u.id), &admin)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(edit.matches("<select name=\"role\"").count(), 1);
    let (s, _) = send(
        &app,
        post(
            &format!("/admin/users/{}", u.id),
            &admin,
            format!("csrf={csrf}&role=risk&branch=&active=1"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let u = b.store.staff_user(u.id).await.unwrap();
    assert_eq!(u.role, "risk");

    // A new user gets the role with the fewest rights (the auditor's).
    assert_eq!(least_privileged_role().as_str(), "auditor");
    assert!(page.contains("<option value=\"auditor\" selected>"));
    let (s, created) = send(
        &app,
        post(
            "/admin/users",
            &admin,
            format!("csrf={csrf}&username=newcomer&display_name="),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{created}");
    let newcomer = b
        .store
        .staff_user_by_name("newcomer")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(newcomer.role, least_privileged_role().as_str());

    // Erasure takes two administrators.
    let second = b
        .store
        .create_staff_user("admin_second", "Second administrator", "admin", None, "x")
        .await
        .unwrap();
    let second = b.store.staff_user(second).await.unwrap();
    let (admin2, csrf2) = b.session(&second).await;
    let target = &b.erase_target;
    let erased = |b: &common::Bank| {
        let store = b.store.clone();
        let id = target.id;
        async move {
            store
                .customer_360(&Scope::All, id)
                .await
                .unwrap()
                .profile
                .erased_at
                .is_some()
        }
    };
    let (s, _) = send(
        &app,
        post(
            "/admin/erasures",
            &admin,
            format!(
                "csrf={csrf}&customer={}&reason=customer+asked+in+writing",
                common::enc(&target.key)
            ),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(!erased(&b).await, "a request alone erases nothing");
    let req = b
        .store
        .pending_erasure_of(&target.key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(req.requested_by, Some(b.admin.id));
    // The requester cannot approve.
    let (s, _) = send(
        &app,
        post(
            &format!("/admin/erasures/{}/approve", req.id),
            &admin,
            format!("csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(!erased(&b).await);
    let (_, own) = send(&app, get("/admin", &admin)).await;
    assert!(!own.contains(&format!("/admin/erasures/{}/approve", req.id)));
    // Another administrator approves: erased.
    let (_, theirs) = send(&app, get("/admin", &admin2)).await;
    assert!(theirs.contains(&format!("/admin/erasures/{}/approve", req.id)));
    let (s, _) = send(
        &app,
        post(
            &format!("/admin/erasures/{}/approve", req.id),
            &admin2,
            format!("csrf={csrf2}"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(erased(&b).await);
    let done = b.store.erasure_request(req.id).await.unwrap();
    assert_eq!(done.status, "approved");
    assert_eq!(done.decided_by, Some(second.id));
    // Audited: the request (with its reason), the approval, the erasure.
    let (log, _) = b
        .store
        .audit_log(&AuditFilter {
            customer_id: Some(target.id),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let who = |action: &str| {
        log.iter()
            .find(|r| r.entry.action == action)
            .map(|r| r.entry.actor.clone())
            .unwrap_or_else(|| panic!("{action} audited"))
    };
    assert_eq!(who("customer.erase_request"), b.admin.username);
    assert_eq!(who("customer.erase_approve"), "admin_second");
    assert_eq!(who("customer.erase"), "admin_second");
    assert!(log
        .iter()
        .any(|r| r.entry.action == "customer.erase_request"
            && r.entry.detail.contains("customer asked in writing")));
    b.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_pages_scale_and_erasure_takes_two_on_sqlite() {
    story(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_pages_scale_and_erasure_takes_two_on_postgres() {
    story(true).await;
}
