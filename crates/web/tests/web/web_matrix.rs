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
/// Past the rights check, a rule of the case workflow may still refuse:
/// the case page again with the reason (422) — a closure not asked for, a
/// category already set, no extension left — or done (200/303).
const RULE: u16 = 2;

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
    // ---- Issue 18's pages. ----
    // The RM's day (Permission::Workbench: RM and manager); a consent
    // (RecordConsent: RM, manager, agent) and a questionnaire (AssessRisk:
    // RM and manager) within scope.
    c("GET", "/tasks", "", [403, 200, 200, 200, 403, 403, 403, 403, 303]),
    c(
        "POST",
        "/tasks/contact",
        "csrf={csrf}&customer={own_raw}&kind=call&outcome=no_answer&note=matrix&alert=&task=",
        [403, OK, OK, OK, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/tasks/contact",
        "csrf={csrf}&customer={other_raw}&kind=call&outcome=no_answer&note=matrix&alert=&task=",
        [403, 404, OK, 404, 403, 403, 403, 403, 303],
    ),
    c(
        "GET",
        "/tasks/customer/{own}",
        "",
        [403, 200, 200, 200, 403, 403, 403, 403, 303],
    ),
    c(
        "GET",
        "/tasks/customer/{other}",
        "",
        [403, 404, 200, 404, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/tasks/customer/{own}/contact",
        "csrf={csrf}&kind=call&outcome=no_answer&note=matrix",
        [403, OK, OK, OK, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/tasks/customer/{other}/contact",
        "csrf={csrf}&kind=call&outcome=no_answer&note=matrix",
        [403, 404, OK, 404, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/tasks/customer/{own}/consent",
        "csrf={csrf}&channel=wechat&purpose=service&granted=yes&note=matrix",
        [403, OK, OK, OK, OK, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/tasks/customer/{other}/consent",
        "csrf={csrf}&channel=wechat&purpose=service&granted=yes&note=matrix",
        [403, 404, OK, 404, OK, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/tasks/customer/{own}/risk",
        "csrf={csrf}&{risk_answers}",
        [403, OK, OK, OK, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/tasks/customer/{other}/risk",
        "csrf={csrf}&{risk_answers}",
        [403, 404, OK, 404, 403, 403, 403, 403, 303],
    ),
    // Campaigns: RunCampaigns (a manager) and bank-wide
    // (`campaign::require_bank_wide`): only the head-office manager.
    c(
        "GET",
        "/campaigns",
        "",
        [403, 403, 200, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "GET",
        "/campaigns?state=draft&sort=name&page=abc",
        "",
        [403, 403, 200, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "GET",
        "/campaigns?format=csv",
        "",
        [403, 403, 200, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "GET",
        "/campaigns/new",
        "",
        [403, 403, 200, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/campaigns/new",
        "csrf={csrf}&key=matrix_campaign&name_zh=%E7%9F%A9%E9%98%B5&name_en=Matrix&purpose=marketing&segment={segment}&product=TRV-INS-01&channel1=sms&window_start={ws}&window_end={we}&control_percent=10&body_zh=%E5%B0%8A%E6%95%AC%E7%9A%84%7Bname%7D%EF%BC%9A%7Bproduct%7D%E3%80%82%7Bopt_out%7D&body_en=Dear+%7Bname%7D%2C+%7Bproduct%7D.+%7Bopt_out%7D",
        [403, 403, OK, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "GET",
        "/campaigns/{campaign}",
        "",
        [403, 403, 200, 403, 403, 403, 403, 403, 303],
    ),
    // The steps, in order. Maker-checker: approving one's own submission
    // is refused by the rule (303 back with error=maker), counted OK here.
    c(
        "POST",
        "/campaigns/{campaign}/submit",
        "csrf={csrf}",
        [403, 403, OK, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/campaigns/{campaign}/approve",
        "csrf={csrf}&note=matrix",
        [403, 403, OK, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/campaigns/{campaign}/return",
        "csrf={csrf}&note=matrix",
        [403, 403, OK, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/campaigns/{campaign}/launch",
        "csrf={csrf}",
        [403, 403, OK, 403, 403, 403, 403, 403, 303],
    ),
    // No such step: the address does not exist, whoever asks.
    c(
        "POST",
        "/campaigns/{campaign}/nonsense",
        "csrf={csrf}",
        [404, 404, 404, 404, 404, 404, 404, 404, 303],
    ),
    // Holiday demand and surveys (ViewEngagement: manager, analyst, risk,
    // agent); saving the need segments is RunCampaigns (a manager).
    c(
        "GET",
        "/holiday",
        "",
        [403, 200, 200, 403, 200, 200, 200, 403, 303],
    ),
    c(
        "GET",
        "/holiday?holiday=spring_festival&year=abc",
        "",
        [403, 200, 200, 403, 200, 200, 200, 403, 303],
    ),
    c(
        "POST",
        "/holiday/save",
        "csrf={csrf}&holiday=national_day&year={year}",
        // Need segments are bank-wide, like the campaigns that target them: head office only.
        [403, 403, OK, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "GET",
        "/surveys",
        "",
        [403, 200, 200, 403, 200, 200, 200, 403, 303],
    ),
    c(
        "GET",
        "/surveys/nps_relationship",
        "",
        [403, 200, 200, 403, 200, 200, 200, 403, 303],
    ),
    // An invitation is sent to a customer in scope (WorkCases).
    c(
        "POST",
        "/surveys/nps_relationship/invite",
        "csrf={csrf}&customer={own_raw}&days=7",
        [403, OK, OK, OK, OK, OK, 403, 403, 303],
    ),
    c(
        "POST",
        "/surveys/nps_relationship/invite",
        "csrf={csrf}&customer={other_raw}&days=7",
        [403, 404, OK, 404, OK, OK, 403, 403, 303],
    ),
    // Models and rules (ViewModels: risk, analyst, admin); changes are
    // ManageModels (risk, admin) with a second person approving.
    c(
        "GET",
        "/models",
        "",
        [200, 403, 403, 403, 403, 200, 200, 403, 303],
    ),
    c(
        "POST",
        "/models/{model}/activate",
        "csrf={csrf}",
        [OK, 403, 403, 403, 403, OK, 403, 403, 303],
    ),
    c(
        "POST",
        "/models/rollback",
        "csrf={csrf}&kind=churn",
        [OK, 403, 403, 403, 403, OK, 403, 403, 303],
    ),
    c(
        "POST",
        "/models/requests/{model_request}/approve",
        "csrf={csrf}",
        [OK, 403, 403, 403, 403, OK, 403, 403, 303],
    ),
    c(
        "POST",
        "/models/requests/{model_request}/reject",
        "csrf={csrf}",
        [OK, 403, 403, 403, 403, OK, 403, 403, 303],
    ),
    c("GET", "/rules", "", [200, 403, 403, 403, 403, 200, 200, 403, 303]),
    // KPIs (ViewKpis: everyone but the administrator and the auditor).
    c("GET", "/kpis", "", [403, 200, 200, 200, 200, 200, 200, 403, 303]),
    c(
        "GET",
        "/kpis?view=segment&trend=abc",
        "",
        [403, 200, 200, 200, 200, 200, 200, 403, 303],
    ),
    c(
        "GET",
        "/kpis.csv?view=rm",
        "",
        [403, 200, 200, 200, 200, 200, 200, 403, 303],
    ),
    // Cases: filters, the breach view, the approvals, the export
    // (WorkCases); closure approval (ApproveCaseClosure: a manager; the
    // case is not waiting for one, so the rule answers on the case page).
    // Maker-checker and state rules past the rights check: RULE.
    c(
        "GET",
        "/cases?state=open&severity=medium&category=fees&sort=due&dir=desc",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 303],
    ),
    c(
        "GET",
        "/cases?sla=breached",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 303],
    ),
    c(
        "GET",
        "/cases?approval=1",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 303],
    ),
    c(
        "GET",
        "/cases?format=csv",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 303],
    ),
    c(
        "POST",
        "/cases/{own_case}/closure",
        "csrf={csrf}&decision=approve&note=matrix",
        [403, RULE, RULE, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/cases/{other_case}/closure",
        "csrf={csrf}&decision=approve&note=matrix",
        [403, 404, RULE, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/cases/{own_case}/reclassify",
        "csrf={csrf}&category=service_attitude&reason=matrix",
        [403, RULE, RULE, RULE, RULE, RULE, 403, 403, 303],
    ),
    c(
        "POST",
        "/cases/{other_case}/reclassify",
        "csrf={csrf}&category=service_attitude&reason=matrix",
        [403, 404, RULE, 404, RULE, RULE, 403, 403, 303],
    ),
    c(
        "POST",
        "/cases/{own_case}/extend",
        "csrf={csrf}&reason=matrix",
        [403, RULE, RULE, RULE, RULE, RULE, 403, 403, 303],
    ),
    c(
        "POST",
        "/cases/{other_case}/extend",
        "csrf={csrf}&reason=matrix",
        [403, 404, RULE, 404, RULE, RULE, 403, 403, 303],
    ),
    // Alerts: closing without a disposition answers on the alert's page.
    c(
        "POST",
        "/alerts/{own_alert}/close",
        "csrf={csrf}",
        [403, OK, OK, OK, OK, OK, 403, 403, 303],
    ),
    c(
        "POST",
        "/alerts/{other_alert}/close",
        "csrf={csrf}",
        [403, 404, OK, 404, OK, OK, 403, 403, 303],
    ),
    c(
        "GET",
        "/alerts?format=csv",
        "",
        [403, 200, 200, 200, 200, 200, 403, 403, 303],
    ),
    // Segments' members (ViewSegments), within scope, and their export.
    c(
        "GET",
        "/segments/{segment}",
        "",
        [200, 200, 200, 200, 200, 200, 200, 403, 303],
    ),
    c(
        "GET",
        "/segments/{segment}?format=csv",
        "",
        [200, 200, 200, 200, 200, 200, 200, 403, 303],
    ),
    c(
        "GET",
        "/segments/no_such_segment",
        "",
        [404, 404, 404, 404, 404, 404, 404, 403, 303],
    ),
    c(
        "GET",
        "/customers?format=csv",
        "",
        [200, 200, 200, 200, 200, 200, 200, 200, 303],
    ),
    c(
        "GET",
        "/audit?format=csv",
        "",
        [403, 403, 403, 403, 403, 403, 403, 200, 303],
    ),
    // Administration (Administer / EraseCustomer: the administrator). The
    // erasure requests were filed by the system, so the administrator is
    // the second pair of eyes.
    c(
        "GET",
        "/admin/users/{spare}",
        "",
        [200, 403, 403, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/admin/users",
        "csrf={csrf}&username=matrix_new&display_name=Matrix&role=analyst&branch=",
        [200, 403, 403, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/admin/users/{spare}",
        "csrf={csrf}&role=analyst&branch=&active=1",
        [OK, 403, 403, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/admin/users/{spare}/password",
        "csrf={csrf}&password=",
        [OK, 403, 403, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/admin/tokens/{service_token}/revoke",
        "csrf={csrf}",
        [OK, 403, 403, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/admin/erasures",
        "csrf={csrf}&customer={other_raw}&reason=data+subject+request+2026-119",
        [OK, 403, 403, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/admin/erasures/{erasure_a}/approve",
        "csrf={csrf}",
        [OK, 403, 403, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/admin/erasures/{erasure_b}/reject",
        "csrf={csrf}",
        [OK, 403, 403, 403, 403, 403, 403, 403, 303],
    ),
    // Saved views: whoever may open a list saves a view of it; sharing is
    // ShareViews (a manager; the administrator may not open the alert
    // queue). A view is deleted by its owner (a private one is nobody
    // else's to know of: 404), a shared one also by the administrator —
    // after whom it is gone for everyone.
    c(
        "POST",
        "/saved-views",
        "csrf={csrf}&list=customers&name=matrix&query=band%3Dwatch%26page%3D2",
        [OK, OK, OK, OK, OK, OK, OK, OK, 303],
    ),
    c(
        "POST",
        "/saved-views",
        "csrf={csrf}&list=alerts&name=matrix+shared&query=status%3Dnew&shared=1",
        [403, OK, OK, 403, 403, 403, 403, 403, 303],
    ),
    c(
        "POST",
        "/saved-views",
        "csrf={csrf}&list=audit&name=matrix&query=action%3Dcustomer.unmask",
        [403, 403, 403, 403, 403, 403, 403, OK, 303],
    ),
    c(
        "POST",
        "/saved-views/{saved_private}/delete",
        "csrf={csrf}",
        [404, 404, 404, 404, 404, 404, 404, 404, 303],
    ),
    c(
        "POST",
        "/saved-views/{saved_shared}/delete",
        "csrf={csrf}",
        [OK, 404, 404, 404, 404, 404, 404, 404, 303],
    ),
    // Error pages: an unknown page, a bad id; the public survey form
    // with an unknown token.
    c(
        "GET",
        "/no/such/page",
        "",
        [404, 404, 404, 404, 404, 404, 404, 404, 404],
    ),
    c(
        "GET",
        "/cases/abc",
        "",
        [400, 400, 400, 400, 400, 400, 400, 400, 303],
    ),
    c(
        "GET",
        "/s/no-such-token",
        "",
        [404, 404, 404, 404, 404, 404, 404, 404, 404],
    ),
    c(
        "POST",
        "/account/password",
        "csrf={csrf}&current=wrong&new_password=one+thing&confirm=another",
        [400, 400, 400, 400, 400, 400, 400, 400, 303],
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
    // The public survey form: an unknown link is not found.
    c(
        "POST",
        "/s/no-such-token",
        "q1=5",
        [404, 404, 404, 404, 404, 404, 404, 404, 404],
    ),
    // Signing in needs the sign-in form's own token (double submit).
    c(
        "POST",
        "/login",
        "csrf=forged&username=admin01&password=x",
        [403, 403, 403, 403, 403, 403, 403, 403, 403],
    ),
    // Last of all: signing out ends the sessions the rows above used.
    c(
        "POST",
        "/logout",
        "csrf={csrf}",
        [OK, OK, OK, OK, OK, OK, OK, OK, 303],
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

/// What the issue 18 routes need besides the bank: made before the matrix
/// runs, by the system (so that the administrator is a second pair of eyes).
struct Extra {
    /// A segment with members (`tier:mass`), percent-encoded.
    segment: String,
    /// A spare member of staff the administrator edits.
    spare: i64,
    /// A token of a service account.
    service_token: i64,
    /// Two erasure requests filed by the system: one to approve, one to reject.
    erasure_a: i64,
    erasure_b: i64,
    /// A model version (inactive when there is one), and a change request.
    model: i64,
    model_request: i64,
    /// Every question of the questionnaire answered (a form body).
    risk_answers: String,
    /// A campaign window in the bank's zone, and this year.
    ws: String,
    we: String,
    year: String,
    /// Saved views of the spare member of staff: a private and a shared one.
    saved_private: i64,
    saved_shared: i64,
}

async fn extra(b: &Bank) -> Extra {
    use rapport_services::access::Actor;
    let sys = Actor::system("web matrix");
    let store = &b.store;
    let spare = rapport_services::staff::create_user(
        store,
        &sys,
        "test",
        "matrix_spare",
        None,
        "analyst",
        None,
        Some("a long spare password 2026".into()),
    )
    .await
    .unwrap()
    .id;
    rapport_services::staff::create_service_account(
        store,
        &sys,
        "test",
        "svc_matrix_feed",
        None,
        "analyst",
        None,
    )
    .await
    .unwrap();
    let service_token =
        rapport_services::staff::create_token(store, &sys, "test", "svc_matrix_feed", "matrix")
            .await
            .unwrap()
            .id;
    // Two customers of the other RM that no other row of the matrix uses.
    let spare_customers: Vec<String> = {
        let sql = "SELECT customer_id, staff_user_id FROM rm_assignment ORDER BY customer_id";
        let rows: Vec<(i64, i64)> = match store {
            rapport_store::Store::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
            rapport_store::Store::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        };
        let mut keys = Vec::new();
        for (c, r) in rows {
            if r == b.rm_b.id && c != b.other.id && keys.len() < 2 {
                keys.push(
                    store
                        .customer_360(&rapport_store::Scope::All, c)
                        .await
                        .unwrap()
                        .profile
                        .key,
                );
            }
        }
        keys
    };
    assert_eq!(spare_customers.len(), 2, "two spare customers");
    let erase = |k: &str| {
        let k = k.to_string();
        let sys = sys.clone();
        async move {
            rapport_services::privacy::request_erasure(store, &sys, "test", &k, "matrix request")
                .await
                .unwrap()
        }
    };
    let erasure_a = erase(&spare_customers[0]).await;
    let erasure_b = erase(&spare_customers[1]).await;
    let versions = store.model_versions(None).await.unwrap();
    let model = versions
        .iter()
        .find(|m| !m.active)
        .or(versions.first())
        .map_or(999_999, |m| m.id);
    let model_request = store
        .model_change_requests()
        .await
        .unwrap()
        .first()
        .map_or(999_999, |r| r.id);
    let risk_answers = rapport_services::risk_profile::questions()
        .iter()
        .map(|q| format!("{}={}", q.id, q.choices[0].letter))
        .collect::<Vec<_>>()
        .join("&");
    let saved = |name: &'static str, shared: bool| async move {
        store
            .insert_saved_view(&rapport_store::saved_views::NewSavedView {
                staff_user_id: spare,
                list: "customers",
                name,
                query: "band=watch",
                shared,
                at: chrono::Utc::now(),
            })
            .await
            .unwrap()
    };
    let saved_private = saved("matrix private", false).await;
    let saved_shared = saved("matrix shared", true).await;
    let now = b.state.services.clock.local();
    let fmt = |t: chrono::NaiveDateTime| enc(&t.format("%Y-%m-%dT%H:%M").to_string());
    Extra {
        segment: enc("tier:mass"),
        spare,
        service_token,
        erasure_a,
        erasure_b,
        model,
        model_request,
        risk_answers,
        ws: fmt(now + chrono::Duration::hours(1)),
        we: fmt(now + chrono::Duration::days(14)),
        year: now.format("%Y").to_string(),
        saved_private,
        saved_shared,
    }
}

fn fill(b: &Bank, x: &Extra, s: &str, csrf: &str) -> String {
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
        .replace("{segment}", &x.segment)
        .replace("{spare}", &x.spare.to_string())
        .replace("{service_token}", &x.service_token.to_string())
        .replace("{erasure_a}", &x.erasure_a.to_string())
        .replace("{erasure_b}", &x.erasure_b.to_string())
        .replace("{model}", &x.model.to_string())
        .replace("{model_request}", &x.model_request.to_string())
        .replace("{risk_answers}", &x.risk_answers)
        .replace("{ws}", &x.ws)
        .replace("{we}", &x.we)
        .replace("{year}", &x.year)
        .replace("{saved_private}", &x.saved_private.to_string())
        .replace("{saved_shared}", &x.saved_shared.to_string())
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
    let x = extra(b).await;
    let mut failures = Vec::new();
    for case in MATRIX {
        for (i, w) in WHO.iter().enumerate() {
            let (cookie, csrf) = sessions[i].clone().unwrap_or_default();
            let path = fill(b, &x, case.path, &csrf);
            let body = fill(b, &x, case.body, &csrf);
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
            let ok = match want {
                OK => status.as_u16() == 200 || status.as_u16() == 303,
                RULE => matches!(status.as_u16(), 200 | 303 | 422),
                _ => status.as_u16() == want,
            };
            if !ok {
                failures.push(format!(
                    "{} {} as {w:?}: got {} want {}{}",
                    case.method,
                    case.path,
                    status.as_u16(),
                    match want {
                        OK => "200/303".to_string(),
                        RULE => "200/303/422".to_string(),
                        _ => want.to_string(),
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

/// Every page route (`.route("…", get(…).post(…))` in the page modules)
/// with each of its methods: (method, path pattern).
pub fn page_routes() -> Vec<(&'static str, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pages");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        for chunk in src.split(".route(").skip(1) {
            let chunk = chunk.trim_start();
            let Some(rest) = chunk.strip_prefix('"') else {
                continue;
            };
            let Some((path, handlers)) = rest.split_once('"') else {
                continue;
            };
            let handlers = handlers.split(")\n").next().unwrap_or_default();
            let handlers: String = handlers.chars().take(80).collect();
            for (m, word) in [("GET", "get("), ("POST", "post(")] {
                if handlers.contains(word) {
                    out.push((m, path.to_string()));
                }
            }
        }
    }
    out
}

/// True when a matrix path (placeholders filled or not) matches a route pattern.
pub fn matches_route(case: &str, route: &str) -> bool {
    let case = case.split('?').next().unwrap_or_default();
    let a: Vec<&str> = case.split('/').collect();
    let b: Vec<&str> = route.split('/').collect();
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x == y || (y.starts_with('{') && y.ends_with('}') && !x.is_empty()))
}

#[test]
fn every_page_route_is_in_the_matrix() {
    let routes = page_routes();
    assert!(routes.len() > 60, "the page routes were read: {routes:?}");
    let missing: Vec<String> = routes
        .iter()
        .filter(|(m, r)| {
            !MATRIX
                .iter()
                .any(|c| c.method == *m && matches_route(c.path, r))
        })
        .map(|(m, r)| format!("{m} {r}"))
        .collect();
    assert!(
        missing.is_empty(),
        "page routes missing from the matrix:\n{}",
        missing.join("\n")
    );
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

/// The nav never offers a link that refuses the signed-in role: every link
/// of every role's nav answers 200 (and the rights table decides which
/// pages each role's nav holds).
async fn nav_links(b: &Bank) {
    let mut failures = Vec::new();
    for w in WHO {
        let Some(u) = user(b, w) else { continue };
        let (status, home) = b.get_as(u, "/").await;
        assert_eq!(status, 200, "{w:?} sees the dashboard");
        let nav = home
            .split("<nav")
            .nth(1)
            .and_then(|n| n.split("</nav>").next())
            .unwrap_or_default();
        let links: Vec<&str> = nav
            .split("href=\"")
            .skip(1)
            .filter_map(|h| h.split('"').next())
            .collect();
        assert!(links.len() > 1, "{w:?} has a nav");
        for href in links {
            let (status, _) = b.get_as(u, href).await;
            if status != 200 {
                failures.push(format!("{w:?}: nav link {href} answers {status}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
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
    nav_links(&b).await;
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
    nav_links(&b).await;
    scope(&b).await;
    masking_policy(&b).await;
    b.cleanup().await;
}
