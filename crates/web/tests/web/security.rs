//! Issue 16's attacks on the web, replayed: search as an unmasking oracle,
//! refused requests without a trace, reads answered before they are
//! audited, unmasking without a reason, and the masking policy by role.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{self, enc, send, Bank};
use axum::body::Body;
use axum::http::{header, Request};
use rapport_store::{AuditFilter, AuditRow, StaffUser};
use serde_json::Value;

async fn audit(b: &Bank, who: &StaffUser, action: &str) -> Vec<AuditRow> {
    b.store
        .audit_log(&AuditFilter {
            actor: Some(who.username.clone()),
            action: Some(action.into()),
            limit: 1000,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .0
}

fn keys(body: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(body).unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap().to_string())
        .collect()
}

/// The national number of a phone (`+8613912345678` → `13912345678`).
fn national(phone: &str) -> String {
    phone.trim_start_matches("+86").to_string()
}

/// An analyst, who sees phones masked, cannot grow a phone prefix one digit
/// at a time: a part of a phone, an e-mail or an ID number matches nothing
/// for them, while the customer's own RM (who sees the phone) finds it by
/// part. The whole value still finds the customer — audited with the
/// customer found, and limited per hour.
async fn search_oracle(b: &Bank) {
    let phone = national(b.own.phone.as_deref().expect("a phone"));
    let email = b.own.email.clone().expect("an e-mail");
    let id_number = b.own.id_number.clone().expect("an ID number");
    let own = b.own.key.clone();
    for part in [
        &phone[..5],
        &phone[..phone.len() - 1],
        &email[..email.len() - 3],
        &id_number[..10],
    ] {
        let (s, body) = b
            .get_as(&b.analyst, &format!("/api/v1/customers?q={}", enc(part)))
            .await;
        assert_eq!(s, 200);
        assert!(
            !keys(&body).contains(&own),
            "a part ({part:?}) of a masked field found the customer"
        );
        let (s, page) = b
            .get_as(&b.analyst, &format!("/customers?q={}", enc(part)))
            .await;
        assert_eq!(s, 200);
        assert!(!page.contains(&format!("href=\"/customers/{}\"", enc(&own))));
    }
    // The RM sees the phone of their own customers, so a part finds them.
    let (_, body) = b
        .get_as(
            &b.rm_a,
            &format!("/api/v1/customers?q={}", enc(&phone[..7])),
        )
        .await;
    assert!(
        keys(&body).contains(&own),
        "the RM lost search by part of a phone"
    );
    // The whole value finds the customer, masked, and the audit names them.
    for whole in [phone.clone(), email.clone(), id_number.clone()] {
        let (s, body) = b
            .get_as(&b.analyst, &format!("/api/v1/customers?q={}", enc(&whole)))
            .await;
        assert_eq!(s, 200);
        assert!(
            keys(&body).contains(&own),
            "the whole {whole:?} did not find the customer"
        );
        assert!(!body.contains(&whole), "the list showed the whole value");
    }
    let rows = audit(b, &b.analyst, "customer.search_identifier").await;
    assert!(rows.len() >= 3 + 8);
    assert!(
        rows.iter()
            .filter(|r| {
                let d: Value = serde_json::from_str(&r.entry.detail).unwrap();
                d["found"]
                    .as_array()
                    .unwrap()
                    .contains(&Value::from(b.own.id))
            })
            .count()
            >= 3,
        "identifier searches are not audited with the customer found"
    );
    // Past the hourly limit (30 by default), identifier searches are refused.
    let mut refused = 0;
    for d in 0..40 {
        let (s, _) = b
            .get_as(&b.analyst, &format!("/api/v1/customers?q=1391234{d:04}"))
            .await;
        if s == 429 {
            refused += 1;
        }
    }
    assert!(
        refused >= 10,
        "identifier searches are not limited ({refused} refused)"
    );
    let (s, _) = b.get_as(&b.analyst, "/customers?q=13912340000").await;
    assert_eq!(s, 429);
    // A name search is not an identifier search and is not limited.
    let (s, _) = b.get_as(&b.analyst, "/api/v1/customers?q=zzz").await;
    assert_eq!(s, 200);
}

/// Refused requests leave an audit row with the actor and the object asked for.
async fn refusals(b: &Bank) {
    let other = enc(&b.other.key);
    for path in [
        format!("/customers/{other}"),
        format!("/api/v1/customers/{other}"),
        format!("/api/v1/customers/{other}/recommendations"),
    ] {
        let (s, _) = b.get_as(&b.rm_a, &path).await;
        assert_eq!(s, 404, "{path}");
    }
    let (s, _) = b.get_as(&b.rm_a, "/audit").await;
    assert_eq!(s, 403);
    let rows = audit(b, &b.rm_a, "access.denied").await;
    let asked: Vec<String> = rows
        .iter()
        .filter_map(|r| r.entry.entity_id.clone())
        .collect();
    for want in [
        format!("GET /customers/{}", b.other.key),
        format!("GET /api/v1/customers/{}/recommendations", b.other.key),
        "GET /audit".to_string(),
    ] {
        assert!(
            asked
                .iter()
                .any(|a| a == &want || a == &want.replace(&b.other.key, &other)),
            "no audit row for the refused {want:?}: {asked:?}"
        );
    }
    assert!(rows.iter().all(|r| r.entry.actor_id == Some(b.rm_a.id)));
}

/// A 360 is in the audit log when its answer arrives (no flush, no wait).
async fn read_then_crash(b: &Bank) {
    let before = audit(b, &b.risk, "customer.view").await.len();
    for path in [
        format!("/customers/{}", enc(&b.own.key)),
        format!("/api/v1/customers/{}", enc(&b.other.key)),
    ] {
        let (s, _) = b.get_as(&b.risk, &path).await;
        assert_eq!(s, 200);
    }
    // Read at once, as a process killed right after answering would leave it.
    let after = audit(b, &b.risk, "customer.view").await.len();
    assert_eq!(
        after,
        before + 2,
        "a read was answered before it was audited"
    );
}

/// Unmasking needs a reason, which the audit entry keeps.
async fn unmask_reason(b: &Bank) {
    let (cookie, csrf) = b.session(&b.agent).await;
    let app = b.app();
    let post = |body: String| {
        Request::post(format!("/customers/{}/unmask", enc(&b.own.key)))
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let (s, _) = send(&app, post(format!("csrf={csrf}"))).await;
    assert_eq!(s.as_u16(), 400);
    let (s, _) = send(&app, post(format!("csrf={csrf}&reason=why"))).await;
    assert_eq!(s.as_u16(), 400);
    let (s, page) = send(
        &app,
        post(format!("csrf={csrf}&reason=caller+verified+by+PIN")),
    )
    .await;
    assert_eq!(s.as_u16(), 200);
    assert!(page.contains(b.own.id_number.as_deref().unwrap()));
    let (s, _) = b
        .get_as(
            &b.agent,
            &format!("/api/v1/customers/{}?unmask=true", enc(&b.own.key)),
        )
        .await;
    assert_eq!(s, 400);
    let rows = audit(b, &b.agent, "customer.unmask").await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].entry.detail.contains("caller verified by PIN"));
}

async fn all(pg: bool) {
    let Some(b) = common::bank(pg, 400).await else {
        return;
    };
    search_oracle(&b).await;
    refusals(&b).await;
    read_then_crash(&b).await;
    unmask_reason(&b).await;
    b.cleanup().await;
}

#[tokio::test]
async fn attacks_on_masking_search_and_audit_fail_on_sqlite() {
    all(false).await;
}

#[tokio::test]
async fn attacks_on_masking_search_and_audit_fail_on_postgres() {
    all(true).await;
}
