//! Holiday demand (`/holiday`) and survey results (`/surveys`) through the
//! web application on a generated bank, on SQLite and (when
//! `RAPPORT_TEST_PG` is set) PostgreSQL: who may open them (route × role,
//! written out literally); the National Day page shows the forecast the
//! services compute and, once the need segments are saved (an audited
//! write), a "create a campaign" link per need segment; the survey page
//! shows the NPS `survey_results` computes for the same answers, and a
//! one-time link created from the page is shown once; the Chinese pages
//! show no English catalogue text and the English pages no Chinese one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use axum::body::Body;
use axum::http::{header, Request};
use common::{send, Bank};
use rapport_services::holiday::demand_view;
use rapport_services::surveys::{demo_seed, survey_results};
use rapport_store::{AuditFilter, StaffUser};

/// The visible text of a page's main part (the header shows the user's
/// name as stored): tags and quoted customer comments (`<q>…</q>`, shown
/// as written) removed.
pub fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html.split_once("<main>").map_or(html, |(_, m)| m);
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        out.push(' ');
        rest = &rest[i..];
        let skip_to = if rest.starts_with("<q>") {
            rest.find("</q>").map(|j| j + 4)
        } else if rest.starts_with("<title>") {
            rest.find("</title>").map(|j| j + 8)
        } else {
            rest.find('>').map(|j| j + 1)
        };
        match skip_to {
            Some(j) => rest = &rest[j..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.replace("&amp;", "&")
}

/// Catalogue texts of the other language found on a page: for a Chinese
/// page, English texts (four characters or more, not part of any Chinese
/// text); for an English page, Chinese texts (not part of any English one).
pub fn foreign_texts(html: &str, chinese_page: bool) -> Vec<String> {
    let text = visible_text(html);
    let all: Vec<(&str, &str, &str)> = rapport_web::pages::all_texts()
        .into_iter()
        .flat_map(|t| t.iter().copied())
        .collect();
    let mut found = Vec::new();
    for (key, zh, en) in &all {
        let (foreign, own, own_side): (&str, &str, Vec<&str>) = if chinese_page {
            (en, zh, all.iter().map(|e| e.1).collect())
        } else {
            (zh, en, all.iter().map(|e| e.2).collect())
        };
        if foreign == own {
            continue;
        }
        let long_enough = if chinese_page {
            foreign.chars().count() >= 4
        } else {
            foreign.chars().count() >= 2
        };
        if !long_enough || own_side.iter().any(|o| o.contains(foreign)) {
            continue;
        }
        if text.contains(foreign) {
            found.push(format!("{key}: {foreign}"));
        }
    }
    found
}

async fn post_form(b: &Bank, who: &StaffUser, path: &str, body: &str) -> (u16, String, String) {
    let (cookie, csrf) = b.session(who).await;
    let req = Request::post(path)
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.replace("{csrf}", &csrf)))
        .unwrap();
    let res = tower::ServiceExt::oneshot(b.app(), req).await.unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    (status, location, cookie)
}

async fn run(pg: bool) {
    let Some(b) = common::bank(pg, 300).await else {
        return;
    };

    // Route × role, literally: admin, mgrB, mgrHQ, rm, agent, risk, analyst, auditor.
    let people = [
        &b.admin,
        &b.mgr_branch,
        &b.mgr_hq,
        &b.rm_a,
        &b.agent,
        &b.risk,
        &b.analyst,
        &b.auditor,
    ];
    let routes: [(&str, [u16; 8]); 4] = [
        ("/holiday", [403, 200, 200, 403, 200, 200, 200, 403]),
        ("/surveys", [403, 200, 200, 403, 200, 200, 200, 403]),
        (
            "/surveys/holiday_follow_up",
            [403, 200, 200, 403, 200, 200, 200, 403],
        ),
        (
            "/holiday?holiday=spring_festival&year=abc",
            [403, 200, 200, 403, 200, 200, 200, 403],
        ),
    ];
    let mut failures = Vec::new();
    for (path, want) in routes {
        for (who, want) in people.iter().zip(want) {
            let (status, body) = b.get_as(who, path).await;
            if status != want {
                failures.push(format!(
                    "GET {path} as {}: {status}, want {want} {}",
                    who.username,
                    body.chars().take(200).collect::<String>()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let anonymous = send(
        &b.app(),
        Request::get("/holiday").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(anonymous.0.as_u16(), 303);
    assert_eq!(b.get_as(&b.mgr_hq, "/surveys/no_such").await.0, 404);
    assert_eq!(
        post_form(
            &b,
            &b.analyst,
            "/holiday/save",
            "csrf={csrf}&holiday=national_day&year=2026"
        )
        .await
        .0,
        403,
        "an analyst reads, never saves"
    );

    // The National Day page (Chinese, the default) shows the services' forecast.
    let actor = rapport_services::access::Actor::system("test");
    let view = demand_view(&b.store, &actor, Some("national_day"), None)
        .await
        .unwrap();
    let r = &view.report;
    let (status, page) = b.get_as(&b.mgr_hq, "/holiday?holiday=national_day").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("国庆节 {}", r.year)),
        "the holiday named in Chinese"
    );
    assert!(
        !r.past_years.is_empty(),
        "the bank covers past National Days"
    );
    let all_spending = r
        .rows
        .iter()
        .find(|row| row.segment == "all" && row.group.as_str() == "spending")
        .unwrap();
    let f = all_spending.forecast.as_ref().expect("a forecast");
    for figure in [f.per_day, f.low_per_day, f.high_per_day] {
        let shown = rapport_web::present::money_f(figure);
        assert!(page.contains(&shown), "forecast figure {shown} shown");
    }
    assert!(page.contains("<svg") && page.contains("data-group=\"spending\""));
    let liquidity = format!("holiday:national_day:{}:liquidity", r.year);
    let href = format!(
        "/campaigns/new?segment={}",
        rapport_web::pages::enc(&liquidity)
    );
    assert!(
        !page.contains(&href),
        "no campaign link before the segment is saved"
    );
    let foreign = foreign_texts(&page, true);
    assert!(
        foreign.is_empty(),
        "English on the Chinese page: {foreign:?}"
    );

    // Saving the need segments is an audited write, then each has its link.
    let (status, location, _) = post_form(
        &b,
        &b.mgr_hq,
        "/holiday/save",
        &format!("csrf={{csrf}}&holiday=national_day&year={}", r.year),
    )
    .await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/holiday?holiday=national_day"));
    let segments = b.store.segments().await.unwrap();
    for need in &r.needs {
        assert!(
            segments.iter().any(|s| s.code == need.code),
            "{} saved",
            need.code
        );
    }
    let (audit, _) = b
        .store
        .audit_log(&AuditFilter {
            action: Some("holiday.save_needs".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].entry.actor, "mgr_hq");
    let (_, page) = b.get_as(&b.mgr_hq, &location).await;
    assert!(
        page.contains(&format!("href=\"{href}\"")),
        "the liquidity need links to a campaign"
    );
    let (_, analyst_page) = b.get_as(&b.analyst, &location).await;
    assert!(
        !analyst_page.contains("/campaigns/new"),
        "read-only for an analyst"
    );

    // English: no Chinese catalogue text.
    b.store.set_user_language(b.analyst.id, "en").await.unwrap();
    let (_, page_en) = b.get_as(&b.analyst, "/holiday?holiday=national_day").await;
    assert!(page_en.contains(&format!("National Day {}", r.year)));
    let foreign = foreign_texts(&page_en, false);
    assert!(
        foreign.is_empty(),
        "Chinese on the English page: {foreign:?}"
    );

    // The demo's engagement step saves the National Day 2026 needs and the
    // campaigns; the page then opens on the analysis last saved.
    let cfg = rapport_services::config::Config::default();
    rapport_services::holiday::demo_engagement(&b.store, &cfg)
        .await
        .unwrap();
    let (_, page) = b.get_as(&b.mgr_hq, "/holiday").await;
    assert!(
        page.contains("国庆节 2026"),
        "the saved analysis is the default"
    );
    assert!(page.contains(&format!(
        "href=\"/campaigns/new?segment={}\"",
        rapport_web::pages::enc("holiday:national_day:2026:travel")
    )));

    // The demo's survey step, then the pages.
    demo_seed(&b.store).await.unwrap();

    // Surveys: the page's NPS is the services' NPS for the same answers.
    let nps = survey_results(&b.store, "nps_relationship").await.unwrap();
    assert!(nps.respondents > 10, "the demo seed answered the survey");
    let expected = format!("{:.1}", nps.nps[0].result.nps.unwrap());
    let (status, list_en) = b.get_as(&b.analyst, "/surveys").await;
    assert_eq!(status, 200);
    assert!(list_en.contains(&format!("<td class=\"num nps\">{expected}</td>")));
    assert!(foreign_texts(&list_en, false).is_empty());
    let (_, detail_en) = b.get_as(&b.analyst, "/surveys/nps_relationship").await;
    assert!(detail_en.contains(&format!("<td class=\"num nps-value\">{expected}</td>")));
    assert!(detail_en.contains(&format!("id=\"survey-answered\">{}<", nps.answered)));
    let foreign = foreign_texts(&detail_en, false);
    assert!(
        foreign.is_empty(),
        "Chinese on the English page: {foreign:?}"
    );
    assert!(
        !detail_en.contains("survey-invite"),
        "an analyst sends no links"
    );

    // The holiday follow-up: Kano, matrix and the campaign's own results.
    let follow = survey_results(&b.store, "holiday_follow_up").await.unwrap();
    let (_, detail_zh) = b.get_as(&b.mgr_hq, "/surveys/holiday_follow_up").await;
    for k in &follow.kano {
        let better = format!("{:.2}", k.better.unwrap());
        assert!(detail_zh.contains(&better), "Kano better {better} shown");
    }
    assert_eq!(follow.matrix.len(), 3);
    assert!(detail_zh.contains("id=\"survey-matrix\""));
    let foreign = foreign_texts(&detail_zh, true);
    assert!(
        foreign.is_empty(),
        "English on the Chinese page: {foreign:?}"
    );

    // The follow-up campaign's own results.
    let campaign = b
        .store
        .campaign_by_key("holiday_follow_up_2026")
        .await
        .unwrap()
        .expect("the demo saved the follow-up campaign");
    let of_campaign = rapport_services::surveys::survey_results_of_campaign(
        &b.store,
        "holiday_follow_up",
        campaign.id,
    )
    .await
    .unwrap();
    assert!(of_campaign.sent > 0 && of_campaign.answered > 0);
    assert!(detail_zh.contains("/surveys/holiday_follow_up?campaign=holiday_follow_up_2026"));
    let (status, by_campaign) = b
        .get_as(
            &b.mgr_hq,
            "/surveys/holiday_follow_up?campaign=holiday_follow_up_2026",
        )
        .await;
    assert_eq!(status, 200);
    assert!(by_campaign.contains(&format!("id=\"survey-sent\">{}<", of_campaign.sent)));
    let csat = of_campaign.csat[0].result.percent.unwrap();
    assert!(by_campaign.contains(&format!("<td class=\"num csat-value\">{csat:.1}%</td>")));
    assert_eq!(
        b.get_as(&b.mgr_hq, "/surveys/holiday_follow_up?campaign=nope")
            .await
            .0,
        404
    );

    // A one-time link, created by an agent: audited, shown once.
    let customer = &b.own.key;
    let (status, location, set_cookie) = post_form(
        &b,
        &b.agent,
        "/surveys/csat_after_case/invite",
        &format!(
            "csrf={{csrf}}&customer={}&days=7",
            rapport_web::pages::enc(customer)
        ),
    )
    .await;
    assert_eq!(status, 303, "{set_cookie}");
    assert!(location.starts_with("/surveys/csat_after_case"));
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    assert!(cookie.starts_with("rapport_survey_link="));
    let (session, _) = b.session(&b.agent).await;
    let req = Request::get("/surveys/csat_after_case")
        .header(header::COOKIE, format!("{session}; {cookie}"))
        .body(Body::empty())
        .unwrap();
    let res = tower::ServiceExt::oneshot(b.app(), req).await.unwrap();
    let cleared = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("rapport_survey_link=;"));
    let body = axum::body::to_bytes(res.into_body(), 1 << 22)
        .await
        .unwrap();
    let body = String::from_utf8_lossy(&body);
    let link = body
        .split("id=\"new-survey-link\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the new link is shown");
    let token = link.rsplit('/').next().unwrap();
    assert!(cleared, "the link is shown once: its cookie is cleared");
    let stored = b
        .store
        .survey_invitation_by_hash(&rapport_web::auth::token_hash(token))
        .await
        .unwrap()
        .expect("the link's invitation is stored");
    assert_eq!(stored.customer_id, b.own.id);
    assert_eq!(stored.survey, "csat_after_case");
    let (audit, _) = b
        .store
        .audit_log(&AuditFilter {
            action: Some("survey.invite".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].entry.customer_id, Some(b.own.id));
    let (_, again) = b.get_as(&b.agent, "/surveys/csat_after_case").await;
    assert!(
        !again.contains("new-survey-link"),
        "a refresh shows no link"
    );

    b.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holiday_and_survey_pages_on_sqlite() {
    run(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holiday_and_survey_pages_on_postgres() {
    run(true).await;
}
