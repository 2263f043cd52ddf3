//! The first story: sign in, open the dashboard, search for a customer and
//! open their 360, acknowledge an alert, switch the language, sign out.

use super::common;
use super::harness::{find, shots_dir, wait_for, Driver};
use fantoccini::{ClientBuilder, Locator};
use std::process::{Command, Stdio};
use std::time::Duration;

async fn shot(c: &fantoccini::Client, n: u32, name: &str) {
    let d = shots_dir().join("rm-story");
    std::fs::create_dir_all(&d).unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::write(d.join(format!("{n:02}-{name}.png")), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relationship_manager_works_through_the_ui_in_a_real_browser() {
    let required = std::env::var("RAPPORT_BROWSER_TESTS").is_ok_and(|v| v == "required");
    let (Some(driver_bin), Some(chrome)) = (
        find(&["chromedriver"]),
        find(&["chromium", "chromium-browser", "google-chrome"]),
    ) else {
        assert!(
            !required,
            "RAPPORT_BROWSER_TESTS=required but chromedriver/chromium are not installed"
        );
        eprintln!("browser tests skipped: chromedriver or chromium not found (apt-get install chromium chromium-driver)");
        return;
    };

    // The bank and the server.
    let b = common::bank(false, 600).await.unwrap();
    let password = "a browser test password";
    b.store
        .set_password_hash(
            b.rm_a.id,
            &rapport_web::auth::hash_password(password).unwrap(),
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(rapport_web::serve(b.state.clone(), listener, async {
        let _ = stopped.await;
    }));

    // chromedriver on a free port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _driver = Driver(
        Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if http
            .get(format!("http://127.0.0.1:{port}/status"))
            .send()
            .await
            .is_ok()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "chromedriver did not start");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chrome.display().to_string(),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000", "--lang=zh-CN"]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let c = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();

    // 1. Sign in (the UI starts in Chinese).
    c.goto(&format!("{base}/login")).await.unwrap();
    wait_for(&c, "#login-form").await;
    c.find(Locator::Css("#username"))
        .await
        .unwrap()
        .send_keys(&b.rm_a.username)
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    shot(&c, 1, "login").await;
    c.find(Locator::Css("#login-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // 2. The dashboard.
    wait_for(&c, "#dashboard").await;
    let html = c.source().await.unwrap();
    assert!(html.contains("关键指标"), "the dashboard is in Chinese");
    assert!(html.contains("<svg"), "the dashboard draws its charts");
    shot(&c, 2, "dashboard").await;

    // 3. Search for one of my customers by name and open the 360.
    c.goto(&format!("{base}/customers")).await.unwrap();
    let name = b.own.name.clone().unwrap_or_else(|| b.own.key.clone());
    wait_for(&c, "#customer-search").await;
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
    let link = wait_for(&c, "a.customer-link").await;
    shot(&c, 3, "search").await;
    link.click().await.unwrap();
    wait_for(&c, "#customer-360").await;
    let html = c.source().await.unwrap();
    assert!(html.contains(&b.own.key), "the 360 shows the customer key");
    assert!(html.contains(&name), "the RM sees their customer's name");
    shot(&c, 4, "customer-360").await;

    // 4. Acknowledge an alert in the queue.
    c.goto(&format!("{base}/alerts?status=new")).await.unwrap();
    let row = wait_for(&c, "tr.alert-row").await;
    let id = row.attr("data-alert").await.unwrap().unwrap();
    shot(&c, 5, "alert-queue").await;
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
    let status = wait_for(&c, ".alert-status").await;
    assert_eq!(
        status.attr("data-status").await.unwrap().as_deref(),
        Some("acknowledged")
    );
    assert_eq!(status.text().await.unwrap().trim(), "已确认");
    shot(&c, 6, "alert-acknowledged").await;

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
    shot(&c, 7, "english").await;

    // 6. Sign out.
    c.find(Locator::Css("#sign-out"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#login-form").await;
    shot(&c, 8, "signed-out").await;

    c.close().await.unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();
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
