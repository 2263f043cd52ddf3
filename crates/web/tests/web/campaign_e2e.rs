//! A campaign end to end over a generated bank, on SQLite and (when
//! `RAPPORT_TEST_PG` is set) PostgreSQL: preview, launch, dispatch through a
//! real SMTP listener and a real signed HTTP gateway on 127.0.0.1 with
//! transient failures on both, retries after the back-off (the clock is
//! moved, not waited for), and the checks the issue asks for: only
//! consented, un-capped, suitable customers are sent to, and the preview's
//! counts equal what was sent. Then the caps: a second campaign right after
//! finds the first one's recipients capped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use rapport_testkit::{Backend, TestDb};

use chrono::{Duration, FixedOffset, NaiveDateTime};
use rapport_channels::testkit::{GatewaySink, SmtpSink};
use rapport_channels::{GatewayConfig, SmtpConfig, StartTls};
use rapport_engage::{decide, ContactPolicy, Purpose, SendChannel};
use rapport_services::campaign::{self, CampaignSettings};
use rapport_services::clock::Clock;
use rapport_services::config::Config;
use rapport_services::dispatch::Dispatcher;
use std::collections::HashSet;

const SECRET: &str = "test-gateway-secret-0123456789";

fn offer(key: &str, channels: &str, control: f64, start: NaiveDateTime) -> String {
    let end = start + Duration::days(9);
    format!(
        r#"
key = "{key}"
name_en = "Fixed income plus offer"
name_zh = "固收增强理财推荐"
purpose = "marketing"
audience = "all"
product = "WM-R3-01"
channels = [{channels}]
window = {{ start = "{}", end = "{}" }}
control_percent = {control}

[template]
subject_zh = "{{name}}，为您推荐{{product}}"
subject_en = "{{name}}, {{product}} for you"
body_zh = "尊敬的{{name}}：{{product}}现已开放申购。{{opt_out}}"
body_en = "Dear {{name}}, {{product}} is open for subscription. {{opt_out}}"
"#,
        start.format("%Y-%m-%dT%H:%M:%S"),
        end.format("%Y-%m-%dT%H:%M:%S")
    )
}

async fn run(backend: Backend) {
    let Some(db) = TestDb::on(backend, "campaign").await else {
        return;
    };
    let store = db.store.clone();
    rapport_testkit::generated_bank(&db, 500, 21).await;

    let smtp = SmtpSink::start().await;
    let gateway = GatewaySink::start(SECRET).await;
    let mut cfg = Config::default();
    cfg.jobs.utc_offset = "+08:00".into();
    cfg.smtp = Some(SmtpConfig {
        host: "127.0.0.1".into(),
        port: smtp.port(),
        starttls: StartTls::Off,
        username: None,
        password: None,
        from: "bank@example.com".into(),
        timeout_secs: 10,
    });
    cfg.gateway = Some(GatewayConfig {
        url: gateway.url(),
        key_id: "k1".into(),
        secret: SECRET.into(),
        timeout_secs: 10,
    });
    cfg.campaigns.video_base_url = "https://meet.bank.example/r".into();
    cfg.validate().unwrap();
    let offset = FixedOffset::east_opt(8 * 3600).unwrap();
    // The bank's data ends on its as-of date: the campaign runs the next morning.
    let as_of = rapport_services::scoring::resolve_as_of(&store, None)
        .await
        .unwrap();
    let window_start = as_of.and_hms_opt(9, 0, 0).unwrap();
    let clock = Clock::fixed(offset, window_start + Duration::hours(1));
    let settings = CampaignSettings::from_config(&cfg).unwrap();

    // Five customers asked not to be disturbed.
    let points = store.contact_points().await.unwrap();
    let dnd: Vec<i64> = points.iter().take(5).map(|p| p.customer_id).collect();
    for id in &dnd {
        store
            .set_do_not_disturb(*id, true, None, "test", clock.now())
            .await
            .unwrap();
    }

    let text = offer(
        "e2e_offer",
        r#""app_push", "email", "sms", "wechat""#,
        10.0,
        window_start,
    );
    let saved = campaign::save(&store, &text, "test", &clock).await.unwrap();
    assert_eq!(saved.status, "draft");
    let preview = campaign::plan_by_key(&store, &settings, "e2e_offer", &clock)
        .await
        .unwrap();
    let counts = preview.counts.clone();
    assert!(counts.reconciles(), "{counts:?}");
    assert_eq!(counts.audience as usize, points.len());
    assert!(counts.to_send > 50, "{counts:?}");
    assert!(counts.control > 0, "{counts:?}");
    assert!(
        counts.blocked_suitability > 0,
        "an R3 product blocks someone: {counts:?}"
    );
    assert!(counts.blocked_consent > 0, "{counts:?}");
    assert!(counts.blocked_do_not_disturb > 0, "{counts:?}");

    // The launch plans again and queues exactly what the preview counted.
    let planned = campaign::plan_by_key(&store, &settings, "e2e_offer", &clock)
        .await
        .unwrap();
    let launched = campaign::launch(&store, &settings, &planned, "test", &clock)
        .await
        .unwrap();
    assert_eq!(launched.counts, counts);
    assert_eq!(launched.queued as u64, counts.to_send);
    let again = campaign::plan_by_key(&store, &settings, "e2e_offer", &clock)
        .await
        .unwrap();
    let err = campaign::launch(&store, &settings, &again, "test", &clock)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a draft"), "{err}");

    // Dispatch with transient failures on both channels.
    gateway.fail_next(2);
    smtp.fail_next(1);
    let d = Dispatcher::from_config(store.clone(), &cfg).unwrap();
    let first = d.drain(&clock).await.unwrap();
    assert_eq!(first.claimed, counts.to_send, "{first:?}");
    if first.failed + first.cancelled > 0 {
        let errs: Vec<_> = store
            .campaign_messages(saved.id)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|m| m.last_error)
            .take(3)
            .collect();
        panic!("{first:?}: {errs:?}");
    }
    assert!(first.retried >= 2, "{first:?}");
    // The retries wait for their back-off: nothing more is due now …
    assert_eq!(d.run_once(&clock).await.unwrap().claimed, 0);
    // … and go once the clock has moved past it.
    clock.advance(Duration::minutes(5));
    let second = d.drain(&clock).await.unwrap();
    assert_eq!(second.sent, first.retried, "{second:?}");
    assert_eq!(first.sent + second.sent, counts.to_send);

    let messages = store.campaign_messages(saved.id).await.unwrap();
    assert_eq!(messages.len() as u64, counts.to_send);
    assert!(messages.iter().all(|m| m.status == "sent"), "all sent");
    let mails = smtp.messages();
    let accepted: Vec<_> = gateway
        .requests()
        .into_iter()
        .filter(|r| r.status == 200)
        .collect();
    let by = |ch: &str| counts.by_channel.get(ch).copied().unwrap_or(0);
    assert_eq!(mails.len() as u64, by("email"));
    assert_eq!(
        accepted.len() as u64,
        by("sms") + by("app_push") + by("wechat")
    );
    let keys: HashSet<_> = accepted.iter().map(|r| r.idempotency_key.clone()).collect();
    assert_eq!(
        keys.len(),
        accepted.len(),
        "one accepted request per message"
    );
    for r in &accepted {
        assert!(rapport_channels::verify(
            SECRET.as_bytes(),
            r.timestamp.as_deref().unwrap().parse().unwrap(),
            &r.body,
            r.signature.as_deref().unwrap(),
            chrono::Utc::now().timestamp(),
            300
        ));
    }
    for m in &mails {
        assert!(m.text_body().contains("固收增强") || m.text_body().contains("Fixed income"));
    }

    // Every recipient was consented, not do-not-disturb, suitable; no
    // control or blocked customer got anything.
    let policy = ContactPolicy::default();
    for m in &messages {
        assert!(!dnd.contains(&m.customer_id));
        let consents = rapport_services::consents::consents(&store, m.customer_id)
            .await
            .unwrap();
        let ch = SendChannel::parse(&m.channel).unwrap();
        let dec = decide(
            &policy,
            &consents,
            false,
            &[],
            ch,
            Purpose::Marketing,
            m.scheduled_at,
        );
        assert!(
            dec.allowed,
            "{} on {}: {}",
            m.customer_id, m.channel, dec.reason_en
        );
        let pc = planned
            .plan
            .iter()
            .find(|p| p.customer_id == m.customer_id)
            .unwrap();
        assert!(matches!(
            pc.outcome,
            rapport_engage::campaign::Outcome::Send { .. }
        ));
    }
    let figures = store
        .campaign_figures(saved.id, Some("WM-R3-01"), clock.now(), clock.now())
        .await
        .unwrap();
    assert_eq!(figures.treatment as u64, counts.to_send);
    assert_eq!(figures.control as u64, counts.control);
    assert_eq!(figures.blocked as u64, counts.audience - counts.eligible);

    // A second push-only campaign right after: the first one's push
    // recipients are capped (1 push a week).
    let text2 = offer("e2e_second", r#""app_push""#, 0.0, window_start);
    campaign::save(&store, &text2, "test", &clock)
        .await
        .unwrap();
    let p2 = campaign::plan_by_key(&store, &settings, "e2e_second", &clock)
        .await
        .unwrap();
    assert!(p2.counts.reconciles());
    assert_eq!(p2.counts.blocked_cap, by("app_push"), "{:?}", p2.counts);

    // The gateway reports a delivery through the signed receipt endpoint;
    // an unsigned or wrongly signed receipt is refused.
    let gw_msg = messages
        .iter()
        .find(|m| m.channel != "email")
        .expect("a gateway message");
    let app = rapport_web::router(rapport_web::AppState::new(store.clone(), cfg.clone()).unwrap())
        .layer(axum::extract::connect_info::MockConnectInfo(
            std::net::SocketAddr::from(([127, 0, 0, 1], 4000)),
        ));
    let body = format!(
        r#"{{"idempotency_key":"{}","status":"delivered"}}"#,
        gw_msg.idempotency_key
    );
    let receipt = |sig: String, ts: i64| {
        axum::http::Request::builder()
            .method("POST")
            .uri("/api/v1/gateway/receipts")
            .header("content-type", "application/json")
            .header(rapport_channels::HEADER_TIMESTAMP, ts.to_string())
            .header(rapport_channels::HEADER_SIGNATURE, sig)
            .body(axum::body::Body::from(body.clone()))
            .unwrap()
    };
    let ts = chrono::Utc::now().timestamp();
    let (status, _) = common::send(&app, receipt("sha256=00".into(), ts)).await;
    assert_eq!(status.as_u16(), 401);
    let good = format!(
        "sha256={}",
        rapport_channels::sign(SECRET.as_bytes(), ts, body.as_bytes())
    );
    let (status, text) = common::send(&app, receipt(good, ts)).await;
    assert_eq!(status.as_u16(), 200, "{text}");
    let m = store
        .message_by_key(&gw_msg.idempotency_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.status, "delivered");

    // A response and the report.
    let first_msg = &messages[0];
    let moved = store
        .move_message(
            first_msg.id,
            &["sent", "delivered"],
            "responded",
            first_msg.attempts,
            None,
            Some("accepted"),
            None,
            clock.now(),
        )
        .await
        .unwrap();
    assert!(moved);
    let report = campaign::report(&store, "e2e_offer").await.unwrap();
    assert_eq!(report.figures.responded, 1);
    assert_eq!(report.figures.treatment_accepted, 1);
    let events = store.message_events(first_msg.id).await.unwrap();
    let statuses: Vec<&str> = events.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(statuses.first(), Some(&"queued"));
    assert_eq!(statuses.last(), Some(&"responded"));
    assert!(statuses.contains(&"sent"));

    // A service campaign by meeting invitation: a meeting task with its
    // video link per customer, and the invitation by SMS through the gateway.
    let meet = format!(
        r#"
key = "e2e_meeting"
name_en = "Annual review"
name_zh = "年度财务检视"
purpose = "service"
audience = {{ segment = {{ code = "e2e_none" }} }}
channels = ["meeting"]
window = {{ start = "{}", end = "{}" }}

[template]
body_zh = "尊敬的{{name}}：邀请您参加年度财务检视视频会议：{{video_link}}"
body_en = "Dear {{name}}, please join your annual review by video: {{video_link}}"
"#,
        window_start.format("%Y-%m-%dT%H:%M:%S"),
        (window_start + Duration::days(9)).format("%Y-%m-%dT%H:%M:%S")
    );
    // The audience: a saved segment of the first 20 customers.
    let seg = store
        .upsert_segment("e2e_none", "rule", "e2e", "test", "test")
        .await
        .unwrap();
    let members: Vec<i64> = points
        .iter()
        .skip(5)
        .take(20)
        .map(|p| p.customer_id)
        .collect();
    store
        .replace_segment_membership(seg, as_of, &members)
        .await
        .unwrap();
    campaign::save(&store, &meet, "test", &clock).await.unwrap();
    let pm = campaign::plan_by_key(&store, &settings, "e2e_meeting", &clock)
        .await
        .unwrap();
    assert!(pm.counts.to_send > 0, "{:?}", pm.counts);
    let before_gw = gateway.requests().len();
    let before_tasks = store.contact_tasks(None, true).await.unwrap().len();
    campaign::launch(&store, &settings, &pm, "test", &clock)
        .await
        .unwrap();
    let r = d.drain(&clock).await.unwrap();
    assert_eq!(r.tasks, pm.counts.to_send, "{r:?}");
    let tasks = store.contact_tasks(None, true).await.unwrap();
    let meetings: Vec<_> = tasks.iter().filter(|t| t.kind == "meeting").collect();
    assert_eq!(meetings.len() as u64, pm.counts.to_send);
    assert_eq!(tasks.len() - before_tasks, meetings.len());
    for t in &meetings {
        let link = t.video_link.as_deref().unwrap();
        assert!(link.starts_with("https://meet.bank.example/r/"), "{link}");
        assert!(link.len() > "https://meet.bank.example/r/".len());
    }
    let invitations: Vec<_> = gateway.requests()[before_gw..]
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.json["channel"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(invitations.len() as u64, pm.counts.to_send);
    assert!(invitations.iter().all(|c| c == "sms"));

    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_sends_only_where_allowed_and_as_previewed_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_sends_only_where_allowed_and_as_previewed_postgres() {
    run(Backend::Postgres).await;
}
