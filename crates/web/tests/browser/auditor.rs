//! The auditor's journey (issue 18): an RM unmasks a customer's personal
//! data with a reason through the 360's unmask action (over HTTP, in the
//! setup); the auditor signs in, filters the audit log to unmaskings and
//! finds that entry with the RM as actor and the reason given, in Chinese
//! and then in English.

use super::common::{self, send};
use super::harness::{with_password, Session};
use axum::body::Body;
use axum::http::{header, Request};
use fantoccini::Locator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_finds_an_unmasking_with_its_reason() {
    let b = common::bank(false, 300).await.unwrap();

    // The RM unmasks their customer's phone, saying why (the 360's form).
    let reason = "客户来电核实身份 verify caller";
    let (cookie, csrf) = b.session(&b.rm_a).await;
    let body = format!("csrf={csrf}&reason={}", url_encode(reason));
    let (status, page) = send(
        &b.app(),
        Request::post(format!("/customers/{}/unmask", common::enc(&b.own.key)))
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(status.as_u16(), 200, "{page}");
    if let Some(phone) = &b.own.phone {
        assert!(page.contains(phone.as_str()), "the phone is shown unmasked");
    }

    let password = "an auditor's password";
    with_password(&b.store, &b.auditor, password).await;
    let Some(mut s) = Session::start("auditor", b.state.clone(), 1400).await else {
        return;
    };
    s.sign_in(&b.auditor, password).await;
    s.open("/audit", "#audit-filter").await;
    s.shot("audit-log").await;
    // Filter to unmaskings: the action is chosen by its words.
    let option =
        s.c.find(Locator::Css(
            "#audit-action option[value=\"customer.unmask\"]",
        ))
        .await
        .unwrap();
    assert_eq!(option.text().await.unwrap(), "查看完整个人信息");
    option.click().await.unwrap();
    s.click("#audit-submit").await;
    s.wait_url("action=customer.unmask").await;
    s.wait_for("#audit-table").await;
    let rows =
        s.c.find_all(Locator::Css("#audit-table tr[data-action]"))
            .await
            .unwrap();
    assert!(!rows.is_empty(), "the unmasking is listed");
    let mut found = false;
    for r in &rows {
        assert_eq!(
            r.attr("data-action").await.unwrap().as_deref(),
            Some("customer.unmask"),
            "only unmaskings"
        );
        let actor = r
            .find(Locator::Css("td.actor"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let why = r
            .find(Locator::Css("td.reason"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if actor == b.rm_a.username && why == reason {
            found = true;
            let text = r.text().await.unwrap();
            assert!(text.contains(&b.own.key), "the customer is named: {text}");
            assert!(
                text.contains("UTC+08:00"),
                "the time is in the bank's zone: {text}"
            );
        }
    }
    assert!(found, "the RM's unmasking with its reason is shown");
    s.shot("unmaskings").await;

    // The same in English.
    s.click("#switch-language").await;
    s.wait_for("html[lang=\"en\"]").await;
    s.wait_url("action=customer.unmask").await;
    let text = s.text().await;
    assert!(text.contains("Audit log"), "{text}");
    assert!(text.contains("unmasked personal data"), "{text}");
    assert!(text.contains("Reason"), "{text}");
    assert!(text.contains(reason), "{text}");
    s.shot("unmaskings-en").await;
    s.finish().await;
    b.cleanup().await;
}

/// Form-encodes a value.
fn url_encode(s: &str) -> String {
    common::enc(s)
}
