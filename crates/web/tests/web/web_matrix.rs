//! The route × role matrix: every route of the application (pages, API,
//! operations) for every role and for an anonymous caller, with the status
//! each must get — written out literally, so that a change to the rights
//! table or to a route's check shows up here. Then the scope checks: an RM
//! never reaches a customer of another RM through any route (UI, API,
//! search, export, alerts). On SQLite, and on PostgreSQL when
//! `RAPPORT_TEST_PG` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use axum::body::Body;
use axum::http::{header, Request};
use common::{bank, enc, send, Bank};
use rapport_store::StaffUser;

/// Who asks.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Admin,
    MgrBranch,
    MgrHq,
    Rm,
    Agent,
    Risk,
    Analyst,
    Auditor,
    Anonymous,
}

const WHO: [Who; 9] = [
    Who::Admin,
    Who::MgrBranch,
    Who::MgrHq,
    Who::Rm,
    Who::Agent,
    Who::Risk,
    Who::Analyst,
    Who::Auditor,
    Who::Anonymous,
];

/// Expected answers, in the order of [`WHO`]. `OK` accepts 200 or a 303
/// redirect after a successful form post.
const OK: u16 = 1;

struct Case {
    method: &'static str,
    path: &'static str,
    /// Form or JSON body (with `{csrf}` replaced) for POSTs.
    body: &'static str,
    expect: [u16; 9],
}

const fn c(method: &'static str, path: &'static str, body: &'static str, expect: [u16; 9]) -> Case {
    Case {
        method,
        path,
        body,
        expect,
    }
}

//                                   admin mgrB mgrHQ rm  agent risk anal audit anon
const MATRIX: &[Case] = &[
    c(
        "GET",
        "/",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 303],
    ),
    c(
        "GET",
        "/login",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 200],
    ),
    c(
        "GET",
        "/customers",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 303],
    ),
    c(
        "GET",
        "/customers?band=at_risk&page=1",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 303],
    ),
    c(
        "GET",
        "/customers/{own}",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 303],
    ),
    c(
        "GET",
        "/customers/{other}",
        "",
        [200, 404, 200, 404, 200, 200, 200, 200, 303],
    ),
    c(
        "POST",
        "/customers/{own}/unmask",
        "csrf={csrf}&reason=checking+the+matrix",
        [403, 200, 200, 200, 200, 200, 403, 403, 303],
    ),
    c(
        "POST",
        "/customers/{other}/unmask",
        "csrf={csrf}&reason=checking+the+matrix",
        [403, 404, 200, 404, 200, 200, 403, 403, 303],
    ),
    c(
        "GET",
        "/customers/{own}/export",
        "",
        [200, 200, 200, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "GET",
        "/customers/{other}/export",
        "",
        [200, 404, 200, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "GET",
        "/alerts",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 303],
    ),
    c(
        "GET",
        "/alerts?status=new",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 303],
    ),
    c(
        "GET",
        "/alerts/{own_alert}",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 303],
    ),
    c(
        "GET",
        "/alerts/{other_alert}",
        "",
        [403, 404, 200, 404, 200, 200, 403, 403, 303],
    ),
    c(
        "POST",
        "/alerts/{other_alert}/ack",
        "csrf={csrf}",
        [403, 404, OK, 404, OK, OK, 403, 403, 303],
    ),
    c(
        "POST",
        "/alerts/{own_alert}/ack",
        "csrf={csrf}",
        [403, OK, OK, OK, OK, OK, 403, 403, 303],
    ),
    c(
        "POST",
        "/alerts/{own_alert}/action",
        "csrf={csrf}&note=called",
        [403, OK, OK, OK, OK, OK, 403, 403, 303],
    ),
    c(
        "POST",
        "/alerts/{own_alert}/assign",
        "csrf={csrf}&assignee={rm_a}",
        [403, OK, OK, 403, 403, OK, 403, 403, 303],
    ),
    c(
        "GET",
        "/workbench",
        "",
        [403, 200, 200, 200, 403, 403, 403, 403, 303],
    ),
    c(
        "GET",
        "/segments",
        "",
        [200, 200, 200, 200, 200, 200, 200, 403, 303],
    ),
    c(
        "GET",
        "/quality",
        "",
        [200, 200, 200, 403, 403, 200, 200, 403, 303],
    ),
    c(
        "GET",
        "/audit",
        "",
        [403, 403, 403, 403, 403, 403, 403, 200, 303],
    ),
    c(
        "GET",
        "/audit?action=customer.view",
        "",
        [403, 403, 403, 403, 403, 403, 403, 200, 303],
    ),
    c(
        "GET",
        "/admin",
        "",
        [200, 403, 403, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/admin/tokens",
        "csrf={csrf}&name=matrix",
        [200, 403, 403, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/admin/assign",
        "csrf={csrf}&customer={own}&rm={rm_a_name}",
        [200, 403, 403, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/admin/service-accounts",
        "csrf={csrf}&username=svc_matrix&role=analyst&branch=",
        [200, 403, 403, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "GET",
        "/account/password",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 303],
    ),
    c(
        "POST",
        "/lang",
        "csrf={csrf}&lang=en&back=/",
        [OK, OK, OK, OK, OK, OK, OK, OK, 303],
    ),
    // The API.
    c(
        "GET",
        "/api/v1/openapi.json",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 200],
    ),
    c(
        "GET",
        "/api/v1/me",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 401],
    ),
    c(
        "GET",
        "/api/v1/customers",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 401],
    ),
    c(
        "GET",
        "/api/v1/customers?per_page=500",
        "",
        [400, 400, 400, 400, 400, 400, 400, 400, 401],
    ),
    c(
        "GET",
        "/api/v1/customers/{own}",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 401],
    ),
    c(
        "GET",
        "/api/v1/customers/{other}",
        "",
        [200, 404, 200, 404, 200, 200, 200, 200, 401],
    ),
    c(
        "GET",
        "/api/v1/customers/{own}?unmask=true&reason=checking+the+matrix",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 401],
    ),
    c(
        "GET",
        "/api/v1/customers/{own}/health",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 401],
    ),
    c(
        "GET",
        "/api/v1/customers/{other}/health",
        "",
        [200, 404, 200, 404, 200, 200, 200, 200, 401],
    ),
    c(
        "GET",
        "/api/v1/customers/{own}/recommendations",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 401],
    ),
    c(
        "GET",
        "/api/v1/customers/{other}/recommendations",
        "",
        [200, 404, 200, 404, 200, 200, 200, 200, 401],
    ),
    c(
        "POST",
        "/api/v1/recommendations/{own_rec}/outcome",
        r#"{"outcome":"declined","note":"matrix"}"#,
        [403, 200, 200, 200, 200, 403, 403, 403, 401],
    ),
    c(
        "POST",
        "/api/v1/recommendations/{other_rec}/outcome",
        r#"{"outcome":"declined"}"#,
        [403, 404, 200, 404, 200, 403, 403, 403, 401],
    ),
    c(
        "POST",
        "/customers/{own}/recommendations/{own_rec}/outcome",
        "csrf={csrf}&outcome=declined",
        [403, 200, 200, 200, 200, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/customers/{other}/recommendations/{other_rec}/outcome",
        "csrf={csrf}&outcome=declined",
        [403, 404, 200, 404, 200, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/api/v1/customers/{own}/consents",
        r#"{"channel":"wechat","purpose":"service","granted":true,"note":"matrix"}"#,
        [403, 200, 200, 200, 200, 403, 403, 403, 401],
    ),
    c(
        "POST",
        "/api/v1/customers/{other}/consents",
        r#"{"channel":"wechat","purpose":"service","granted":true}"#,
        [403, 404, 200, 404, 200, 403, 403, 403, 401],
    ),
    c(
        "POST",
        "/api/v1/customers/{own}/risk-assessments",
        r#"{"answers":"d,c,b,c,d,c,c,c,c,c"}"#,
        [403, 200, 200, 200, 403, 403, 403, 403, 401],
    ),
    c(
        "POST",
        "/api/v1/customers/{other}/risk-assessments",
        r#"{"answers":["d","c","b","c","d","c","c","c","c","c"]}"#,
        [403, 404, 200, 404, 403, 403, 403, 403, 401],
    ),
    c(
        "GET",
        "/api/v1/customers/{own}/risk-assessments",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 401],
    ),
    c(
        "GET",
        "/api/v1/customers/{other}/risk-assessments",
        "",
        [200, 404, 200, 404, 200, 200, 200, 200, 401],
    ),
    c(
        "POST",
        "/api/v1/cases",
        r#"{"customer":"{own_raw}","category":"fees","severity":"low","subject":"matrix","description":"matrix"}"#,
        [403, 200, 200, 200, 200, 200, 403, 403, 401],
    ),
    c(
        "POST",
        "/api/v1/cases",
        r#"{"customer":"{other_raw}","category":"fees","severity":"low","subject":"matrix","description":"matrix"}"#,
        [403, 404, 200, 404, 200, 200, 403, 403, 401],
    ),
    c(
        "GET",
        "/api/v1/cases/{own_case}",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 401],
    ),
    c(
        "GET",
        "/api/v1/cases/{other_case}",
        "",
        [403, 404, 200, 404, 200, 200, 403, 403, 401],
    ),
    c(
        "GET",
        "/api/v1/complaint-classifier",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 401],
    ),
    c(
        "POST",
        "/api/v1/cases/{own_case}/actions",
        r#"{"action":"escalate","to":"mgr_hq","reason":"matrix"}"#,
        [403, 200, 200, 200, 200, 200, 403, 403, 401],
    ),
    c(
        "POST",
        "/api/v1/cases/{other_case}/actions",
        r#"{"action":"escalate","to":"mgr_hq","reason":"matrix"}"#,
        [403, 404, 200, 404, 200, 200, 403, 403, 401],
    ),
    c(
        "GET",
        "/cases",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 303],
    ),
    c(
        "GET",
        "/cases?all=1",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 303],
    ),
    c(
        "GET",
        "/cases/{own_case}",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 303],
    ),
    c(
        "GET",
        "/cases/{other_case}",
        "",
        [403, 404, 200, 404, 200, 200, 403, 403, 303],
    ),
    c(
        "GET",
        "/customers/{own}/cases/new",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 303],
    ),
    c(
        "GET",
        "/customers/{other}/cases/new",
        "",
        [403, 404, 200, 404, 200, 200, 403, 403, 303],
    ),
    c(
        "POST",
        "/customers/{own}/cases",
        "csrf={csrf}&kind=complaint&category=fees&severity=low&subject=matrix&description=matrix",
        [403, OK, OK, OK, OK, OK, 403, 403, 303],
    ),
    c(
        "POST",
        "/customers/{other}/cases",
        "csrf={csrf}&kind=complaint&category=fees&severity=low&subject=matrix&description=matrix",
        [403, 404, OK, 404, OK, OK, 403, 403, 303],
    ),
    c(
        "POST",
        "/cases/{own_case}/actions",
        "csrf={csrf}&action=escalate&to=mgr_hq&reason=matrix",
        [403, OK, OK, OK, OK, OK, 403, 403, 303],
    ),
    c(
        "POST",
        "/cases/{other_case}/actions",
        "csrf={csrf}&action=escalate&to=mgr_hq&reason=matrix",
        [403, 404, OK, 404, OK, OK, 403, 403, 303],
    ),
    c(
        "GET",
        "/api/v1/campaigns",
        "",
        [403, 403, 200, 403, 403, 403, 403, 403, 401],
    ),
    c(
        "GET",
        "/api/v1/campaigns/{campaign}/preview",
        "",
        [403, 403, 200, 403, 403, 403, 403, 403, 401],
    ),
    c(
        "POST",
        "/api/v1/campaigns/no_such_campaign/launch",
        "",
        [403, 403, 404, 403, 403, 403, 403, 403, 401],
    ),
    c(
        "GET",
        "/api/v1/kpis?view=branch",
        "",
        [403, 200, 200, 200, 200, 200, 200, 403, 401],
    ),
    c(
        "GET",
        "/kpis?view=rm",
        "",
        [403, 200, 200, 200, 200, 200, 200, 403, 303],
    ),
    c(
        "GET",
        "/kpis.csv?view=segment",
        "",
        [403, 200, 200, 200, 200, 200, 200, 403, 303],
    ),
    c(
        "POST",
        "/api/v1/gateway/receipts",
        r#"{"idempotency_key":"x","status":"delivered"}"#,
        [401, 401, 401, 401, 401, 401, 401, 401, 401],
    ),
    c(
        "GET",
        "/api/v1/customers/{own}/export",
        "",
        [200, 200, 200, 403, 403, 403, 403, 403, 401],
    ),
    c(
        "GET",
        "/api/v1/customers/{other}/export",
        "",
        [200, 404, 200, 403, 403, 403, 403, 403, 401],
    ),
    c(
        "GET",
        "/api/v1/alerts",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 401],
    ),
    c(
        "GET",
        "/api/v1/alerts/{own_alert}",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 401],
    ),
    c(
        "GET",
        "/api/v1/alerts/{other_alert}",
        "",
        [403, 404, 200, 404, 200, 200, 403, 403, 401],
    ),
    c(
        "POST",
        "/api/v1/alerts/{other_alert}/close",
        "{\"disposition\":\"nonsense\"}",
        [403, 404, 400, 404, 400, 400, 403, 403, 401],
    ),
    c(
        "GET",
        "/api/v1/segments",
        "",
        [200, 200, 200, 200, 200, 200, 200, 403, 401],
    ),
    c(
        "GET",
        "/api/v1/dashboard",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 401],
    ),
    c(
        "POST",
        "/api/v1/transactions",
        "{\"not\": \"a transaction\"}",
        [200, 403, 403, 403, 403, 403, 403, 403, 401],
    ),
    // Erasure last: it changes the customer.
    c(
        "POST",
        "/api/v1/customers/{erase}/erase",
        "{\"reason\": \"data subject request 2026-117\"}",
        [202, 403, 403, 403, 403, 403, 403, 403, 401],
    ),
    // The API filed a request for this customer just above: a second one
    // is refused (400) until an administrator decides the first.
    c(
        "POST",
        "/customers/{erase}/erase",
        "csrf={csrf}&reason=data+subject+request+2026-118",
        [400, 403, 403, 403, 403, 403, 403, 403, 303],
    ),
    // Operations.
    c(
        "GET",
        "/healthz",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 200],
    ),
    c(
        "GET",
        "/readyz",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 200],
    ),
    c(
        "GET",
        "/metrics",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 200],
    ),
    c(
        "GET",
        "/static/app.css",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 200],
    ),
];

fn user(b: &Bank, w: Who) -> Option<&StaffUser> {
    Some(match w {
        Who::Admin => &b.admin,
        Who::MgrBranch => &b.mgr_branch,
        Who::MgrHq => &b.mgr_hq,
        Who::Rm => &b.rm_a,
        Who::Agent => &b.agent,
        Who::Risk => &b.risk,
        Who::Analyst => &b.analyst,
        Who::Auditor => &b.auditor,
        Who::Anonymous => return None,
    })
}

fn fill(b: &Bank, s: &str, csrf: &str) -> String {
    s.replace("{own}", &enc(&b.own.key))
        .replace("{other}", &enc(&b.other.key))
        .replace("{erase}", &enc(&b.erase_target.key))
        .replace("{own_alert}", &b.own_alert.to_string())
        .replace("{other_alert}", &b.other_alert.to_string())
        .replace("{own_rec}", &b.own_rec.to_string())
        .replace("{other_rec}", &b.other_rec.to_string())
        .replace("{own_case}", &b.own_case.to_string())
        .replace("{other_case}", &b.other_case.to_string())
        .replace("{campaign}", &b.campaign)
        .replace("{own_raw}", &b.own.key)
        .replace("{other_raw}", &b.other.key)
        .replace("{rm_a_name}", &b.rm_a.username)
        .replace("{rm_a}", &b.rm_a.id.to_string())
        .replace("{csrf}", csrf)
}

async fn matrix(b: &Bank) {
    let app = b.app();
    let mut sessions = Vec::new();
    for w in WHO {
        sessions.push(match user(b, w) {
            Some(u) => Some(b.session(u).await),
            None => None,
        });
    }
    let mut failures = Vec::new();
    for case in MATRIX {
        for (i, w) in WHO.iter().enumerate() {
            let (cookie, csrf) = sessions[i].clone().unwrap_or_default();
            let path = fill(b, case.path, &csrf);
            let body = fill(b, case.body, &csrf);
            let mut req = Request::builder().method(case.method).uri(&path);
            if !cookie.is_empty() {
                req = req.header(header::COOKIE, &cookie);
            }
            if case.method == "POST" {
                if path.starts_with("/api/") {
                    req = req
                        .header(header::CONTENT_TYPE, "application/json")
                        .header("x-csrf-token", &csrf);
                } else {
                    req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                }
            }
            let (status, text) = send(&app, req.body(Body::from(body)).unwrap()).await;
            let want = case.expect[i];
            let ok = if want == OK {
                status.as_u16() == 200 || status.as_u16() == 303
            } else {
                status.as_u16() == want
            };
            if !ok {
                failures.push(format!(
                    "{} {} as {w:?}: got {} want {}{}",
                    case.method,
                    case.path,
                    status.as_u16(),
                    if want == OK {
                        "200/303".to_string()
                    } else {
                        want.to_string()
                    },
                    if status.as_u16() >= 500 {
                        format!(" ({})", text.chars().take(200).collect::<String>())
                    } else {
                        String::new()
                    }
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Every API route of the route table is in the matrix.
    for r in rapport_web::api::ROUTES {
        let base = r.path.split('{').next().unwrap_or(r.path);
        assert!(
            MATRIX
                .iter()
                .any(|c| c.method.eq_ignore_ascii_case(r.method)
                    && c.path.split('?').next().unwrap_or("").starts_with(base)
                    && c.path.matches('/').count() == r.path.matches('/').count()),
            "{} {} is missing from the matrix",
            r.method,
            r.path
        );
    }
}

/// An RM never finds another RM's customer: search by key, name and phone,
/// UI and API, list filters.
async fn scope(b: &Bank) {
    let app = b.app();
    let (cookie, _) = b.session(&b.rm_a).await;
    let mut probes = vec![b.other.key.clone()];
    probes.extend(b.other.name.clone());
    probes.extend(b.other.phone.clone());
    for q in probes {
        for path in [
            format!("/customers?q={}", enc(&q)),
            format!("/api/v1/customers?q={}", enc(&q)),
        ] {
            let req = Request::get(&path)
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap();
            let (status, text) = send(&app, req).await;
            assert_eq!(status.as_u16(), 200, "{path}");
            // The page echoes the query in its search box: look for a result link or item.
            let link = format!("href=\"/customers/{}\"", enc(&b.other.key));
            let item = format!("\"key\":\"{}\"", b.other.key);
            assert!(
                !text.contains(&link) && !text.contains(&item),
                "{path} revealed another RM's customer"
            );
        }
    }
    // Filtering by the other RM or branch yields nothing either.
    for path in [
        format!("/api/v1/customers?rm={}", b.rm_b.id),
        format!(
            "/api/v1/customers?branch={}",
            b.rm_b.branch_id.unwrap_or(-1)
        ),
    ] {
        let req = Request::get(&path)
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap();
        let (status, text) = send(&app, req).await;
        assert_eq!(status.as_u16(), 200);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["total"], 0, "{path}: {text}");
    }
    // The RM's own search finds their customer.
    let req = Request::get(format!("/api/v1/customers?q={}", enc(&b.own.key)))
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let (_, text) = send(&app, req).await;
    assert!(text.contains(&b.own.key));
}

/// The shipped masking policy, role by role, on the 360 and in lists: ID
/// numbers masked for everyone; the phone, e-mail and birth date shown to
/// the customer's own RM; names to the RM and the branch manager.
async fn masking_policy(b: &Bank) {
    let own = &b.own;
    // (who, sees name, sees phone/e-mail/birth date)
    let who: [(&StaffUser, bool, bool); 7] = [
        (&b.rm_a, true, true),
        (&b.mgr_branch, true, false),
        (&b.mgr_hq, false, false),
        (&b.agent, false, false),
        (&b.risk, false, false),
        (&b.analyst, false, false),
        (&b.admin, false, false),
    ];
    for (u, name, contact) in who {
        let (s, body) = b
            .get_as(u, &format!("/api/v1/customers/{}", enc(&own.key)))
            .await;
        assert_eq!(s, 200, "{}", u.username);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let p = &v["customer"]["profile"];
        let shown = |f: &str, want: &Option<String>| p[f].as_str() == want.as_deref();
        assert!(
            !shown("id_number", &own.id_number),
            "{} saw the ID number",
            u.username
        );
        assert_eq!(shown("name", &own.name), name, "{}: name", u.username);
        assert_eq!(shown("phone", &own.phone), contact, "{}: phone", u.username);
        assert_eq!(
            shown("email", &own.email),
            contact,
            "{}: e-mail",
            u.username
        );
        let birth = p["birth_date"].as_str().unwrap_or_default().to_string();
        assert_eq!(
            !birth.contains("**"),
            contact,
            "{}: birth date {birth}",
            u.username
        );
        let (_, page) = b.get_as(u, &format!("/customers/{}", enc(&own.key))).await;
        assert!(
            !page.contains(own.id_number.as_deref().unwrap()),
            "{}: page ID number",
            u.username
        );
        assert_eq!(
            page.contains(own.phone.as_deref().unwrap()),
            contact,
            "{}: page phone",
            u.username
        );
        let (_, list) = b
            .get_as(u, &format!("/api/v1/customers?q={}", enc(&own.key)))
            .await;
        assert!(
            !list.contains(own.id_number.as_deref().unwrap()),
            "{}: list ID number",
            u.username
        );
        assert_eq!(
            list.contains(own.phone.as_deref().unwrap()),
            contact,
            "{}: list phone",
            u.username
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_by_role_on_sqlite() {
    let b = bank(false, 600).await.unwrap();
    matrix(&b).await;
    scope(&b).await;
    masking_policy(&b).await;
    b.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_by_role_on_postgres() {
    let Some(b) = bank(true, 600).await else {
        eprintln!("RAPPORT_TEST_PG not set: PostgreSQL route matrix skipped");
        return;
    };
    matrix(&b).await;
    scope(&b).await;
    masking_policy(&b).await;
    b.cleanup().await;
}
