use rapport_channels::testkit::GatewaySink;
use rapport_channels::{verify, GatewayConfig, HttpGateway, Receipt, SendError};
use serde_json::json;

use crate::{message, silent_server, unused_port};

const SECRET: &str = "test-secret-of-32-bytes-length!!";

fn config(url: String) -> GatewayConfig {
    GatewayConfig {
        url,
        key_id: "rapport-test-1".to_owned(),
        secret: SECRET.to_owned(),
        timeout_secs: 5,
    }
}

async fn sink_and_gateway() -> (GatewaySink, HttpGateway) {
    let sink = GatewaySink::start(SECRET).await;
    let gateway = HttpGateway::new(&config(sink.url())).unwrap();
    (sink, gateway)
}

#[tokio::test]
async fn a_message_is_posted_as_signed_json_with_its_idempotency_key() {
    let (sink, gateway) = sink_and_gateway().await;
    let m = message("sms-0001", "sms", "+8613800138000");

    let receipt = gateway.send(&m).await.unwrap();

    assert_eq!(
        receipt,
        Receipt {
            provider_id: Some("gw-1".to_owned()),
            delivered: false
        }
    );
    let requests = sink.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.status, 200);
    assert_eq!(r.idempotency_key.as_deref(), Some("sms-0001"));
    assert_eq!(r.key_id.as_deref(), Some("rapport-test-1"));
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    assert!(r.signature.as_deref().unwrap().starts_with("sha256="));
    assert_eq!(
        r.json,
        json!({
            "idempotency_key": "sms-0001",
            "channel": "sms",
            "to": "+8613800138000",
            "subject": m.subject,
            "body": m.body,
            "lang": "zh",
            "customer_ref": "CUST-000042",
            "campaign": "deposit-renewal-2026",
        })
    );
}

#[tokio::test]
async fn the_signature_verifies_and_a_tampered_body_does_not() {
    let (sink, gateway) = sink_and_gateway().await;
    gateway
        .send(&message("push-1", "app_push", "app-user-77"))
        .await
        .unwrap();

    let r = &sink.requests()[0];
    let ts: i64 = r.timestamp.as_deref().unwrap().parse().unwrap();
    let sig = r.signature.as_deref().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(verify(SECRET.as_bytes(), ts, &r.body, sig, now, 300));

    let tampered = String::from_utf8(r.body.clone())
        .unwrap()
        .replace("app-user-77", "app-user-78");
    assert!(!verify(
        SECRET.as_bytes(),
        ts,
        tampered.as_bytes(),
        sig,
        now,
        300
    ));
    assert!(!verify(b"another secret", ts, &r.body, sig, now, 300));
}

#[tokio::test]
async fn a_gateway_with_another_secret_answers_401_which_is_permanent() {
    let sink = GatewaySink::start("a different secret, 32 bytes....").await;
    let gateway = HttpGateway::new(&config(sink.url())).unwrap();

    let err = gateway
        .send(&message("wx-401", "wechat", "oWeChatOpenId123"))
        .await
        .unwrap_err();

    assert!(matches!(err, SendError::Permanent(_)), "{err}");
    assert!(err.to_string().contains("401"), "{err}");
}

#[tokio::test]
async fn a_503_is_retryable_and_the_retry_succeeds() {
    let (sink, gateway) = sink_and_gateway().await;
    sink.fail_next(1);
    let m = message("sms-503", "sms", "+8613800138000");

    let err = gateway.send(&m).await.unwrap_err();
    assert!(err.retryable(), "{err}");
    let text = err.to_string();
    assert!(text.contains("503"), "{text}");
    assert!(text.contains("unavailable"), "the body is quoted: {text}");

    let receipt = gateway.send(&m).await.unwrap();
    assert_eq!(receipt.provider_id.as_deref(), Some("gw-1"));
}

#[tokio::test]
async fn a_422_is_a_permanent_failure() {
    let (sink, gateway) = sink_and_gateway().await;
    sink.reject_to("+10000000000");

    let err = gateway
        .send(&message("sms-422", "sms", "+10000000000"))
        .await
        .unwrap_err();

    assert!(matches!(err, SendError::Permanent(_)), "{err}");
    assert!(err.to_string().contains("422"), "{err}");
}

#[tokio::test]
async fn a_repeated_idempotency_key_gets_409_and_counts_as_success() {
    let (sink, gateway) = sink_and_gateway().await;
    let m = message("wx-dup", "wechat", "oWeChatOpenId123");

    let first = gateway.send(&m).await.unwrap();
    let again = gateway.send(&m).await.unwrap();

    assert_eq!(first.provider_id.as_deref(), Some("gw-1"));
    assert_eq!(
        again.provider_id.as_deref(),
        Some("gw-1"),
        "the original id"
    );
    let statuses: Vec<u16> = sink.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 409]);
}

#[tokio::test]
async fn a_refused_connection_is_retryable() {
    let port = unused_port().await;
    let gateway = HttpGateway::new(&config(format!("http://127.0.0.1:{port}/send"))).unwrap();

    let err = gateway
        .send(&message("sms-refused", "sms", "+8613800138000"))
        .await
        .unwrap_err();

    assert!(err.retryable(), "{err}");
}

#[tokio::test]
async fn an_unknown_path_is_a_permanent_failure() {
    let sink = GatewaySink::start(SECRET).await;
    let url = sink.url().replace("/send", "/nowhere");
    let gateway = HttpGateway::new(&config(url)).unwrap();

    let err = gateway
        .send(&message("sms-404", "sms", "+8613800138000"))
        .await
        .unwrap_err();

    assert!(matches!(err, SendError::Permanent(_)), "{err}");
    assert!(err.to_string().contains("404"), "{err}");
}

#[tokio::test]
async fn an_email_message_is_refused_by_the_gateway() {
    let (sink, gateway) = sink_and_gateway().await;

    let err = gateway
        .send(&message("mail-1", "email", "a@customer.example"))
        .await
        .unwrap_err();

    assert!(matches!(err, SendError::Permanent(_)), "{err}");
    assert!(sink.requests().is_empty());
}

#[tokio::test]
async fn a_key_that_would_break_a_header_is_refused_before_sending() {
    let (sink, gateway) = sink_and_gateway().await;

    let err = gateway
        .send(&message("bad key\r\nX: y", "sms", "+8613800138000"))
        .await
        .unwrap_err();

    assert!(matches!(err, SendError::Permanent(_)), "{err}");
    assert!(err.to_string().contains("idempotency_key"), "{err}");
    assert!(sink.requests().is_empty());
}

#[tokio::test]
async fn https_to_a_server_that_does_not_speak_tls_is_retryable() {
    let sink = GatewaySink::start(SECRET).await;
    let url = sink.url().replace("http://", "https://");
    let gateway = HttpGateway::new(&config(url)).unwrap();

    let err = gateway
        .send(&message("sms-tls", "sms", "+8613800138000"))
        .await
        .unwrap_err();

    assert!(err.retryable(), "{err}");
    assert!(sink.requests().is_empty(), "nothing sent in plaintext");
}

#[tokio::test]
async fn a_gateway_that_never_answers_times_out_as_retryable() {
    let (_listener, port) = silent_server().await;
    let gateway = HttpGateway::new(&GatewayConfig {
        timeout_secs: 1,
        ..config(format!("http://127.0.0.1:{port}/send"))
    })
    .unwrap();

    let started = std::time::Instant::now();
    let err = gateway
        .send(&message("sms-silent", "sms", "+8613800138000"))
        .await
        .unwrap_err();

    assert!(err.retryable(), "{err}");
    assert!(err.to_string().contains("no answer within 1 s"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
