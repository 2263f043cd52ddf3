//! Campaigns through the pages: route × role (only a head-office manager
//! runs campaigns; a branch manager, the admin and every other role get
//! 403, a stranger the sign-in page), the builder saves a draft from a
//! segment (POST answers 303 to the campaign's page), the preview's counts
//! equal the services' plan, a launch before approval is refused, the maker
//! cannot approve (the refusal in the viewer's language), a second
//! head-office manager approves, the maker launches, every step is audited
//! with its actor, and the list filters by state and exports CSV. On
//! SQLite, and on PostgreSQL when `RAPPORT_TEST_PG` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use common::{get_page as get, post_form as post};

use axum::body::Body;
use axum::http::{header, Request};
use common::{bank, enc, send, Bank};
use rapport_store::AuditFilter;

/// The number shown in the element carrying `attr="id"` (a tile's value or a table cell).
fn shown(page: &str, attr: &str, id: &str) -> u64 {
    let marker = format!("{attr}=\"{id}\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("{marker} not on the page"));
    let rest = &page[at..];
    let rest = &rest[rest
        .find("class=\"value\">")
        .or_else(|| rest.find("class=\"num\">"))
        .unwrap()..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    rest[..rest.find('<').unwrap()].trim().parse().unwrap()
}

/// The segment with the most members (the audience).
pub async fn biggest_segment(store: &rapport_store::Store) -> String {
    let mut best = (0usize, String::new());
    for s in store.segments().await.unwrap() {
        if let Some((_, ids)) = store.latest_segment_members(&s.code).await.unwrap() {
            if ids.len() > best.0 {
                best = (ids.len(), s.code.clone());
            }
        }
    }
    assert!(best.0 > 0, "no segment with members");
    best.1
}

async fn story(b: &Bank) {
    let key = "page_offer";
    // A second head-office manager: the checker.
    let id = b
        .store
        .create_staff_user(
            "mgr_hq2",
            "Second head office manager",
            "manager",
            None,
            "x",
        )
        .await
        .unwrap();
    let checker = b.store.staff_user(id).await.unwrap();

    // Route × role.
    let who = [
        (&b.admin, 403),
        (&b.mgr_branch, 403),
        (&b.mgr_hq, 200),
        (&b.rm_a, 403),
        (&b.agent, 403),
        (&b.risk, 403),
        (&b.analyst, 403),
        (&b.auditor, 403),
    ];
    let paths = [
        "/campaigns".to_string(),
        "/campaigns?state=draft&sort=name&dir=desc&page=abc".to_string(),
        "/campaigns/new".to_string(),
        format!("/campaigns/{}", b.campaign),
    ];
    for (u, want) in who {
        for p in &paths {
            let (status, _) = b.get_as(u, p).await;
            assert_eq!(status, want, "{} GET {p}", u.username);
        }
        let (_, home) = b.get_as(u, "/").await;
        assert_eq!(
            home.contains("href=\"/campaigns\""),
            want == 200,
            "{}: the nav entry",
            u.username
        );
    }
    let req = Request::get("/campaigns").body(Body::empty()).unwrap();
    assert_eq!(send(&b.app(), req).await.0.as_u16(), 303);
    let (cookie_b, csrf_b) = b.session(&b.mgr_branch).await;
    let (s, _, _) = post(
        b,
        &cookie_b,
        "/campaigns/new",
        &[("csrf", &csrf_b), ("key", "x")],
    )
    .await;
    assert_eq!(s, 403, "a branch manager cannot build a campaign");

    // The builder, preselected from ?segment=.
    let segment = biggest_segment(&b.store).await;
    let (maker, csrf) = b.session(&b.mgr_hq).await;
    let (s, page) = get(
        b,
        &maker,
        &format!("/campaigns/new?segment={}", enc(&segment)),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        page.contains(&format!("value=\"{segment}\" selected")),
        "the segment is preselected"
    );
    assert!(
        page.contains("适当性检查"),
        "the suitability check is explained"
    );

    let start = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .naive_local();
    let fmt = |t: chrono::NaiveDateTime| t.format("%Y-%m-%dT%H:%M").to_string();
    let (ws, we) = (fmt(start), fmt(start + chrono::Duration::days(14)));
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("key", key),
        ("name_zh", "页面测试推荐"),
        ("name_en", "Page test offer"),
        ("purpose", "marketing"),
        ("segment", segment.as_str()),
        ("product", "TRV-INS-01"),
        ("channel1", "sms"),
        ("channel2", "app_push"),
        ("window_start", ws.as_str()),
        ("window_end", we.as_str()),
        ("control_percent", "10"),
        ("body_zh", "尊敬的{name}：{product}现已开放申购。{opt_out}"),
        ("body_en", "Dear {name}, {product} is open. {opt_out}"),
    ];
    // A marketing message without the opt-out is refused, with the form kept.
    form[12].1 = "尊敬的{name}";
    form[13].1 = "Dear {name}";
    let (s, _, body) = post(b, &maker, "/campaigns/new", &form).await;
    assert_eq!(s, 422, "{body}");
    assert!(body.contains("无法保存") && body.contains("页面测试推荐"));
    assert!(b.store.campaign_by_key(key).await.unwrap().is_none());
    form[12].1 = "尊敬的{name}：{product}现已开放申购。{opt_out}";
    form[13].1 = "Dear {name}, {product} is open. {opt_out}";
    let (s, location, _) = post(b, &maker, "/campaigns/new", &form).await;
    assert_eq!(s, 303, "POST answers 303");
    assert_eq!(location, format!("/campaigns/{key}?done=saved"));
    let c = b.store.campaign_by_key(key).await.unwrap().unwrap();
    assert_eq!(c.status, "draft");
    assert_eq!(c.created_by, "mgr_hq");
    assert_eq!(c.product_code.as_deref(), Some("TRV-INS-01"));

    // The page: state in words, preview counts equal the services' plan.
    let (s, page) = get(b, &maker, &location).await;
    assert_eq!(s, 200);
    assert!(page.contains("草稿已保存") && page.contains("草稿"));
    let planned = rapport_services::campaign::plan_by_key(
        &b.store,
        &b.state.services.settings.campaigns,
        key,
        &b.state.services.clock,
    )
    .await
    .unwrap();
    let n = &planned.counts;
    assert!(n.audience > 0);
    eprintln!("preview: {n:?}");
    assert!(n.to_send > 0 && n.control > 0, "{n:?}");
    assert_eq!(shown(&page, "data-count", "audience"), n.audience);
    assert_eq!(shown(&page, "data-count", "eligible"), n.eligible);
    assert_eq!(shown(&page, "data-count", "to_send"), n.to_send);
    assert_eq!(shown(&page, "data-count", "control"), n.control);
    assert_eq!(
        shown(&page, "data-blocked", "suitability") + shown(&page, "data-blocked", "lending"),
        n.blocked_suitability
    );
    assert_eq!(shown(&page, "data-blocked", "consent"), n.blocked_consent);
    assert_eq!(shown(&page, "data-blocked", "cap"), n.blocked_cap);
    assert_eq!(
        shown(&page, "data-blocked", "quiet_hours"),
        n.blocked_quiet_hours
    );
    assert!(page.contains("产品适当性不匹配") && page.contains("超过联系频次上限"));
    assert!(page.contains("id=\"sample-zh\""), "a sample message");
    assert!(!page.contains("{name}"), "the sample is rendered");

    // Launch before approval: refused, nothing launched.
    let (s, location, _) = post(
        b,
        &maker,
        &format!("/campaigns/{key}/launch"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        (s, location.as_str()),
        (303, &*format!("/campaigns/{key}?error=not_approved"))
    );
    let (_, page) = get(b, &maker, &location).await;
    assert!(page.contains("尚未获批准"));
    assert_eq!(
        b.store.campaign_by_key(key).await.unwrap().unwrap().status,
        "draft"
    );

    // Submit; the maker cannot approve (refused in Chinese, and in English).
    let (s, location, _) = post(
        b,
        &maker,
        &format!("/campaigns/{key}/submit"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        (s, location.as_str()),
        (303, &*format!("/campaigns/{key}?done=submitted"))
    );
    let (s, location, _) = post(
        b,
        &maker,
        &format!("/campaigns/{key}/approve"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        (s, location.as_str()),
        (303, &*format!("/campaigns/{key}?error=maker"))
    );
    let (_, page) = get(b, &maker, &location).await;
    assert!(page.contains("发起人不能审批") && page.contains("待审批"));
    b.store.set_user_language(b.mgr_hq.id, "en").await.unwrap();
    let (_, page) = get(b, &maker, &location).await;
    assert!(page.contains("The maker of a campaign cannot approve it"));
    assert!(page.contains("Awaiting approval"));
    b.store
        .set_user_language(b.mgr_hq.id, "zh-CN")
        .await
        .unwrap();
    // A branch manager cannot approve either.
    let (s, _, _) = post(
        b,
        &cookie_b,
        &format!("/campaigns/{key}/approve"),
        &[("csrf", &csrf_b)],
    )
    .await;
    assert_eq!(s, 403);
    let approvals = b.store.campaign_approvals(c.id).await.unwrap();
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0].state, "submitted");

    // The second head-office manager approves; the maker launches.
    let (checker_cookie, checker_csrf) = b.session(&checker).await;
    let (s, location, _) = post(
        b,
        &checker_cookie,
        &format!("/campaigns/{key}/approve"),
        &[("csrf", &checker_csrf)],
    )
    .await;
    assert_eq!(
        (s, location.as_str()),
        (303, &*format!("/campaigns/{key}?done=approved"))
    );
    let a = &b.store.campaign_approvals(c.id).await.unwrap()[0];
    assert_eq!(
        (a.state.as_str(), a.decided_by.as_deref()),
        ("approved", Some("mgr_hq2"))
    );
    let (s, location, _) = post(
        b,
        &maker,
        &format!("/campaigns/{key}/launch"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        (s, location.as_str()),
        (303, &*format!("/campaigns/{key}?done=launched"))
    );
    let launched = b.store.campaign_by_key(key).await.unwrap().unwrap();
    assert_eq!(launched.status, "launched");
    assert_eq!(launched.launched_by.as_deref(), Some("mgr_hq"));
    let figures = b
        .store
        .campaign_figures(
            launched.id,
            Some("TRV-INS-01"),
            launched.launched_at.unwrap(),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(figures.treatment as u64, n.to_send);
    assert_eq!(figures.control as u64, n.control);
    // Refreshing the launch does not launch again.
    let (s, location, _) = post(
        b,
        &maker,
        &format!("/campaigns/{key}/launch"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(s, 303);
    assert!(location.contains("error="), "{location}");
    let (_, page) = get(b, &maker, &format!("/campaigns/{key}")).await;
    assert!(page.contains("id=\"campaign-report\"") && page.contains("已发起"));

    // Every step audited with its actor.
    for (actor, action) in [
        ("mgr_hq", "campaign.save"),
        ("mgr_hq", "campaign.submit"),
        ("mgr_hq2", "campaign.approve"),
        ("mgr_hq", "campaign.launch"),
    ] {
        let (rows, _) = b
            .store
            .audit_log(&AuditFilter {
                actor: Some(actor.into()),
                action: Some(action.into()),
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert!(
            rows.iter()
                .any(|r| r.entry.entity_id.as_deref() == Some(key)),
            "{action} by {actor} is audited"
        );
    }

    // The list: filter by state, CSV.
    let (_, page) = get(b, &maker, "/campaigns?state=launched").await;
    assert!(page.contains(&format!("data-campaign=\"{key}\"")));
    assert!(!page.contains(&format!("data-campaign=\"{}\"", b.campaign)));
    let (_, page) = get(b, &maker, "/campaigns?state=draft").await;
    assert!(!page.contains(&format!("data-campaign=\"{key}\"")));
    assert!(page.contains(&format!("data-campaign=\"{}\"", b.campaign)));
    let req = Request::get("/campaigns?format=csv")
        .header(header::COOKIE, &maker)
        .body(Body::empty())
        .unwrap();
    let res = tower::ServiceExt::oneshot(b.app(), req).await.unwrap();
    assert!(res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let csv = String::from_utf8_lossy(&bytes);
    assert!(csv.contains(key) && csv.contains("已发起"), "{csv}");

    // The API answers the head-office manager.
    let (s, body) = get(b, &maker, "/api/v1/campaigns").await;
    assert_eq!(s, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaigns_through_the_pages_on_sqlite() {
    let b = bank(false, 300).await.unwrap();
    story(&b).await;
    b.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaigns_through_the_pages_on_postgres() {
    let Some(b) = bank(true, 300).await else {
        eprintln!("RAPPORT_TEST_PG not set: PostgreSQL campaign page test skipped");
        return;
    };
    story(&b).await;
    b.cleanup().await;
}
