//! End-to-end tests of the channels against real listeners on 127.0.0.1
//! (the `testkit` sinks). One test binary, one module per channel.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod gateway;
mod smtp;

use rapport_channels::OutboundMessage;

/// A message for `channel` with Chinese text.
pub fn message(key: &str, channel: &str, to: &str) -> OutboundMessage {
    OutboundMessage {
        idempotency_key: key.to_owned(),
        channel: channel.to_owned(),
        to: to.to_owned(),
        subject: Some("您的账户提醒 — account notice".to_owned()),
        body: "尊敬的客户，您好！\n您的定期存款将于下周到期。\nYour deposit matures next week."
            .to_owned(),
        lang: "zh".to_owned(),
        customer_ref: "CUST-000042".to_owned(),
        campaign: Some("deposit-renewal-2026".to_owned()),
    }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub async fn unused_port() -> u16 {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    listener.local_addr().unwrap().port()
}

/// A listener on 127.0.0.1 that completes TCP connections (through the
/// backlog) but never reads or answers. Keep it alive during the test.
pub async fn silent_server() -> (tokio::net::TcpListener, u16) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}
