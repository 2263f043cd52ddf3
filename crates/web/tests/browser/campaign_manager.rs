//! The campaign manager's day: a head-office manager builds a campaign from
//! a holiday need segment (the National Day travel segment the demand
//! forecast saved; any segment when the bank has none), sees the preview's
//! blocked counts, submits it; is refused approving it herself; a second
//! head-office manager approves; the maker launches it with a 10 % control
//! group; the dispatcher sends it through a signed gateway; customers
//! answer; the report page shows sent, responded and the uplift over the
//! control group — each figure checked against the store. The report is
//! read once in English.

use super::common;
use super::harness::{with_password, Session};
use chrono::{Duration, FixedOffset};
use fantoccini::Locator;
use rapport_analytics::holiday::{
    analyse_holiday_demand, HolidayCalendar, HolidayCode, HolidayDemandOptions,
};
use rapport_channels::testkit::GatewaySink;
use rapport_channels::GatewayConfig;
use rapport_services::campaign;
use rapport_services::clock::Clock;

const SECRET: &str = "browser-test-gateway-secret-0123456789";

/// The text of the first element matching `css`.
async fn text_of(s: &Session, css: &str) -> String {
    s.wait_for(css)
        .await
        .text()
        .await
        .unwrap()
        .trim()
        .to_string()
}

async fn select(s: &Session, css: &str, value: &str) {
    s.wait_for(css).await.select_by_value(value).await.unwrap();
}

/// The audience: the holiday travel-need segment, else the biggest one.
async fn audience(store: &rapport_store::Store) -> String {
    let calendar = HolidayCalendar::embedded().unwrap();
    let options = HolidayDemandOptions::new(HolidayCode::parse("national_day").unwrap(), 2026);
    if let Ok(report) = analyse_holiday_demand(store, &calendar, &options).await {
        let saved = rapport_services::holiday::save_needs(store, &report)
            .await
            .unwrap();
        for code in saved {
            if code.ends_with(":travel") {
                if let Some((_, ids)) = store.latest_segment_members(&code).await.unwrap() {
                    if ids.len() >= 20 {
                        return code;
                    }
                }
            }
        }
    }
    let mut best = (0usize, String::new());
    for s in store.segments().await.unwrap() {
        if let Some((_, ids)) = store.latest_segment_members(&s.code).await.unwrap() {
            if ids.len() > best.0 {
                best = (ids.len(), s.code.clone());
            }
        }
    }
    best.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_campaign_manager_builds_gets_approval_launches_and_reads_the_uplift() {
    let b = common::bank(false, 400).await.unwrap();
    let password = "a campaign manager's password";
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
    with_password(&b.store, &b.mgr_hq, password).await;
    with_password(&b.store, &checker, password).await;
    let segment = audience(&b.store).await;
    assert!(!segment.is_empty());

    let Some(mut s) = Session::start("campaign-manager", b.state.clone(), 1400).await else {
        return;
    };
    let key = "travel_cover_browser";

    // The maker builds the campaign from the segment (as /holiday links).
    s.sign_in(&b.mgr_hq, password).await;
    s.click("a[href='/campaigns']").await;
    s.wait_for("#new-campaign").await;
    s.open(
        &format!("/campaigns/new?segment={}", common::enc(&segment)),
        "#campaign-builder",
    )
    .await;
    s.fill("#key", key).await;
    s.fill("#name_zh", "国庆出行保障（浏览器）").await;
    s.fill("#name_en", "National Day travel cover (browser)")
        .await;
    select(&s, "#product", "TRV-INS-01").await;
    select(&s, "#channel1", "app_push").await;
    select(&s, "#channel2", "sms").await;
    s.fill("#control_percent", "10").await;
    s.fill(
        "#body_zh",
        "尊敬的{name}：国庆将至，{product}为您的出行保驾护航。{opt_out}",
    )
    .await;
    s.fill(
        "#body_en",
        "Dear {name}, {product} covers your National Day travel. {opt_out}",
    )
    .await;
    s.shot("builder").await;
    s.click("#save-campaign").await;
    s.wait_url(&format!("/campaigns/{key}?done=saved")).await;
    s.wait_for("#campaign-preview").await;
    s.shot("preview").await;

    // The preview's counts are the services' plan, every reason in words.
    let settings = &b.state.services.settings.campaigns;
    let planned = campaign::plan_by_key(&b.store, settings, key, &b.state.services.clock)
        .await
        .unwrap();
    let n = planned.counts.clone();
    assert!(n.to_send > 0 && n.control > 0, "{n:?}");
    for (id, want) in [
        ("audience", n.audience),
        ("eligible", n.eligible),
        ("control", n.control),
    ] {
        let shown = text_of(&s, &format!("[data-count='{id}'] .value")).await;
        assert_eq!(shown, want.to_string(), "{id}");
    }
    let consent = text_of(&s, "[data-blocked='consent'] td").await;
    assert_eq!(consent, n.blocked_consent.to_string());
    let body = s.text().await;
    assert!(body.contains("未授权或已撤回授权") && body.contains("超过联系频次上限"));
    assert!(body.contains("国庆将至"), "the sample message is shown");

    // Submit; the maker is refused approving it.
    s.click("#submit-campaign").await;
    s.wait_url("done=submitted").await;
    assert_eq!(text_of(&s, "#campaign-state").await, "待审批");
    s.click("#approve-campaign").await;
    s.wait_url("error=maker").await;
    assert!(text_of(&s, "#campaign-refused")
        .await
        .contains("发起人不能审批"));
    s.shot("maker-refused").await;
    s.sign_out().await;

    // The second head-office manager approves.
    s.sign_in(&checker, password).await;
    s.open(&format!("/campaigns/{key}"), "#approve-campaign")
        .await;
    s.click("#approve-campaign").await;
    s.wait_url("done=approved").await;
    assert_eq!(text_of(&s, "#campaign-state").await, "已批准");
    s.shot("approved").await;
    s.sign_out().await;
    let c = b.store.campaign_by_key(key).await.unwrap().unwrap();
    let approval = &b.store.campaign_approvals(c.id).await.unwrap()[0];
    assert_eq!(approval.state, "approved");
    assert_eq!(approval.submitted_by, "mgr_hq");
    assert_eq!(approval.decided_by.as_deref(), Some("mgr_hq2"));

    // The maker launches it.
    s.sign_in(&b.mgr_hq, password).await;
    s.open(&format!("/campaigns/{key}"), "#launch-campaign")
        .await;
    s.click("#launch-campaign").await;
    s.wait_url("done=launched").await;
    let c = b.store.campaign_by_key(key).await.unwrap().unwrap();
    assert_eq!(c.status, "launched");

    // The dispatcher sends when the messages are due; customers answer.
    let gateway = GatewaySink::start(SECRET).await;
    let cfg = rapport_services::config::Config {
        gateway: Some(GatewayConfig {
            url: gateway.url(),
            key_id: "k1".into(),
            secret: SECRET.into(),
            timeout_secs: 10,
        }),
        ..Default::default()
    };
    let due = b
        .store
        .campaign_messages(c.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.scheduled_at)
        .max()
        .unwrap();
    let offset = FixedOffset::east_opt(8 * 3600).unwrap();
    let clock = Clock::fixed(offset, due + Duration::minutes(1));
    let d = rapport_services::dispatch::Dispatcher::from_config(b.store.clone(), &cfg).unwrap();
    let r = d.drain(&clock).await.unwrap();
    assert_eq!(r.sent, n.to_send, "{r:?}");
    let messages = b.store.campaign_messages(c.id).await.unwrap();
    let actor = rapport_services::access::staff_by_username(&b.store, "mgr_hq", "test")
        .await
        .map(rapport_services::access::Actor::Staff)
        .unwrap();
    for (i, m) in messages.iter().take(8).enumerate() {
        let response = if i < 5 { "accepted" } else { "declined" };
        campaign::record_response(
            &b.store,
            &actor,
            "test",
            &m.idempotency_key,
            response,
            &clock,
        )
        .await
        .unwrap();
    }

    // The report page: sent, responded, uplift — as the store has them.
    s.open(&format!("/campaigns/{key}"), "#campaign-report")
        .await;
    s.shot("report").await;
    let report = campaign::report(&b.store, key).await.unwrap();
    assert_eq!(report.sent as u64, n.to_send);
    assert_eq!(report.figures.responded, 8);
    assert_eq!(
        text_of(&s, "[data-figure='sent'] .value").await,
        report.sent.to_string()
    );
    assert_eq!(
        text_of(&s, "[data-figure='responded'] .value").await,
        report.figures.responded.to_string()
    );
    let u = report.uplift.expect("an uplift over the control group");
    assert_eq!(u.treated_converted, 5);
    assert_eq!(u.control, n.control);
    assert_eq!(
        text_of(&s, "tr[data-figure='uplift'] td").await,
        format!("{:+.2}", u.uplift_pp)
    );
    assert_eq!(
        text_of(&s, "tr[data-figure='ci'] td").await,
        format!("{:+.2} … {:+.2}", u.ci95_low_pp, u.ci95_high_pp)
    );

    // One step in English: the same report.
    s.click("#switch-language").await;
    s.wait_for("#campaign-report").await;
    let body = s.text().await;
    assert!(
        body.contains("Uplift (percentage points)") && body.contains("95 % confidence interval")
    );
    assert!(body.contains("Launched"));
    assert!(
        !body.contains("实验组"),
        "no Chinese chrome on the English page"
    );
    s.shot("report-en").await;
    let _ = s.c.find(Locator::Css("#sign-out")).await;
    s.finish().await;
    b.cleanup().await;
}
