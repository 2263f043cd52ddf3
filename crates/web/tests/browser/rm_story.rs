//! The first story: sign in, open the dashboard, search for a customer and
//! open their 360, acknowledge an alert, switch the language, sign out.

use super::common;
use super::harness::{with_password, Session};
use fantoccini::Locator;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relationship_manager_works_through_the_ui_in_a_real_browser() {
    // The bank, the server and the browser (the harness's).
    let b = common::bank(false, 600).await.unwrap();
    let password = "a browser test password";
    with_password(&b.store, &b.rm_a, password).await;
    let Some(mut s) = Session::start("rm-story", b.state.clone(), 1400).await else {
        return;
    };
    let c = s.c.clone();
    let base = s.base.clone();

    // 1. Sign in (the UI starts in Chinese).
    c.goto(&format!("{base}/login")).await.unwrap();
    s.wait_for("#login-form").await;
    s.fill("#username", &b.rm_a.username).await;
    s.fill("#password", password).await;
    s.shot("login").await;
    s.click("#login-submit").await;

    // 2. The dashboard.
    s.wait_for("#dashboard").await;
    let html = c.source().await.unwrap();
    assert!(html.contains("关键指标"), "the dashboard is in Chinese");
    assert!(html.contains("<svg"), "the dashboard draws its charts");
    s.shot("dashboard").await;

    // 3. Search for one of my customers by name and open the 360.
    c.goto(&format!("{base}/customers")).await.unwrap();
    let name = b.own.name.clone().unwrap_or_else(|| b.own.key.clone());
    s.wait_for("#customer-search").await;
    c.find(Locator::Css("#q"))
        .await
        .unwrap()
        .send_keys(&name)
        .await
        .unwrap();
    c.find(Locator::Css("#search-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The list page shows customer links before the search too: wait for
    // the results page (its URL carries the query) before taking one.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !c.current_url().await.unwrap().as_str().contains("q=") {
        assert!(
            std::time::Instant::now() < deadline,
            "the search did not navigate"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let link = s.wait_for("a.customer-link").await;
    s.shot("search").await;
    link.click().await.unwrap();
    s.wait_for("#customer-360").await;
    let html = c.source().await.unwrap();
    assert!(html.contains(&b.own.key), "the 360 shows the customer key");
    assert!(html.contains(&name), "the RM sees their customer's name");
    s.shot("customer-360").await;

    // 4. Acknowledge an alert in the queue.
    c.goto(&format!("{base}/alerts?status=new")).await.unwrap();
    let row = s.wait_for("tr.alert-row").await;
    let id = row.attr("data-alert").await.unwrap().unwrap();
    s.shot("alert-queue").await;
    row.find(Locator::Css("button.ack"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The form posts and redirects back to the queue of new alerts; wait for
    // that page (where the acknowledged row is gone) before navigating on, or
    // the redirect may land after our own navigation and replace it.
    let row_css = format!("tr.alert-row[data-alert=\"{id}\"]");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while c.find(Locator::Css(&row_css)).await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the acknowledged alert {id} stayed in the queue of new alerts"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.goto(&format!("{base}/alerts/{id}")).await.unwrap();
    let status = s.wait_for(".alert-status").await;
    assert_eq!(
        status.attr("data-status").await.unwrap().as_deref(),
        Some("acknowledged")
    );
    assert_eq!(status.text().await.unwrap().trim(), "已确认");
    s.shot("alert-acknowledged").await;

    // 5. Switch the language to English.
    c.find(Locator::Css("#switch-language"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The form posts and redirects back here in English; until the new page
    // has loaded, the old (Chinese) one is still there, so poll.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let text = match c.find(Locator::Css(".alert-status")).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.trim() == "Acknowledged" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the page did not switch to English: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let nav = c
        .find(Locator::Css("header.top nav"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(nav.contains("Customers") && nav.contains("Alerts"), "{nav}");
    s.shot("english").await;

    // 6. Sign out.
    c.find(Locator::Css("#sign-out"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    s.wait_for("#login-form").await;
    s.shot("signed-out").await;

    s.finish().await;
    // The session's reads and writes are in the audit log.
    let (rows, _) = b
        .store
        .audit_log(&rapport_store::AuditFilter {
            actor: Some(b.rm_a.username.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.entry.action.as_str()).collect();
    for a in [
        "session.login",
        "customer.search",
        "customer.view",
        "alert.acknowledged",
        "session.logout",
    ] {
        assert!(actions.contains(&a), "{a} not audited: {actions:?}");
    }
    b.cleanup().await;
}
