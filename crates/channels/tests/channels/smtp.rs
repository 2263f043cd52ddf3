use rapport_channels::testkit::SmtpSink;
use rapport_channels::{SendError, SmtpChannel, SmtpConfig, StartTls};

use crate::{message, silent_server, unused_port};

fn config(port: u16, starttls: StartTls) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".to_owned(),
        port,
        starttls,
        username: None,
        password: None,
        from: "Example Bank <notices@bank.example>".to_owned(),
        timeout_secs: 5,
    }
}

fn channel(sink: &SmtpSink, starttls: StartTls) -> SmtpChannel {
    SmtpChannel::new(&config(sink.port(), starttls)).unwrap()
}

#[tokio::test]
async fn an_email_with_a_chinese_subject_and_body_arrives_and_decodes() {
    let sink = SmtpSink::start().await;
    let m = message("msg-0001", "email", "wang.fang@customer.example");

    let receipt = channel(&sink, StartTls::Off).send(&m).await.unwrap();

    assert!(!receipt.delivered, "SMTP only reports acceptance");
    assert_eq!(
        receipt.provider_id.as_deref(),
        Some("2.0.0 OK queued as sink-1")
    );
    let mails = sink.messages();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.from, "notices@bank.example");
    assert_eq!(mail.to, ["wang.fang@customer.example"]);
    assert_eq!(mail.subject().as_deref(), m.subject.as_deref());
    assert_eq!(mail.text_body().trim_end(), m.body);
    assert!(mail.header("Content-Type").unwrap().contains("text/plain"));
    assert!(mail
        .header("Content-Type")
        .unwrap()
        .to_ascii_lowercase()
        .contains("charset=utf-8"));
}

#[tokio::test]
async fn the_idempotency_key_is_the_message_id_and_a_header() {
    let sink = SmtpSink::start().await;
    let m = message("0b6f3c1e-8d2a-4c55", "email", "li.lei@customer.example");

    channel(&sink, StartTls::Off).send(&m).await.unwrap();

    let mail = &sink.messages()[0];
    assert_eq!(
        mail.header("Message-ID").as_deref(),
        Some("<0b6f3c1e-8d2a-4c55@rapport>")
    );
    assert_eq!(
        mail.header("X-Rapport-Idempotency-Key").as_deref(),
        Some("0b6f3c1e-8d2a-4c55")
    );
}

#[tokio::test]
async fn an_email_without_subject_and_with_a_dot_line_arrives_intact() {
    let sink = SmtpSink::start().await;
    let mut m = message("msg-dot", "email", "a@customer.example");
    m.subject = None;
    m.body = "line one\n.\n..two dots\nend".to_owned();

    channel(&sink, StartTls::Off).send(&m).await.unwrap();

    let mail = &sink.messages()[0];
    assert_eq!(mail.subject(), None);
    assert_eq!(mail.text_body().trim_end(), m.body);
}

#[tokio::test]
async fn opportunistic_starttls_falls_back_to_plaintext_when_not_offered() {
    let sink = SmtpSink::start().await;
    let m = message("msg-opp", "email", "a@customer.example");

    channel(&sink, StartTls::Opportunistic)
        .send(&m)
        .await
        .unwrap();

    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn required_starttls_refuses_a_server_that_does_not_offer_it() {
    let sink = SmtpSink::start().await;
    let m = message("msg-req", "email", "a@customer.example");

    let err = channel(&sink, StartTls::Required)
        .send(&m)
        .await
        .unwrap_err();

    assert!(sink.messages().is_empty(), "nothing sent in plaintext");
    let text = err.to_string();
    assert!(text.contains("STARTTLS"), "{text}");
    assert!(text.contains("required"), "{text}");
}

#[tokio::test]
async fn a_rejected_recipient_is_a_permanent_failure() {
    let sink = SmtpSink::start().await;
    sink.reject_recipient("gone@customer.example");
    let m = message("msg-550", "email", "gone@customer.example");

    let err = channel(&sink, StartTls::Off).send(&m).await.unwrap_err();

    assert!(matches!(err, SendError::Permanent(_)), "{err}");
    assert!(!err.retryable());
    assert!(err.to_string().contains("550"), "{err}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_transient_failure_is_retryable_and_the_retry_succeeds() {
    let sink = SmtpSink::start().await;
    sink.fail_next(1);
    let smtp = channel(&sink, StartTls::Off);
    let m = message("msg-451", "email", "a@customer.example");

    let err = smtp.send(&m).await.unwrap_err();
    assert!(err.retryable(), "{err}");
    assert!(err.to_string().contains("451"), "{err}");
    assert!(sink.messages().is_empty());

    smtp.send(&m).await.unwrap();
    let mails = sink.messages();
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].header("Message-ID").as_deref(),
        Some("<msg-451@rapport>")
    );
}

#[tokio::test]
async fn a_refused_connection_is_retryable() {
    let port = unused_port().await;
    let smtp = SmtpChannel::new(&config(port, StartTls::Off)).unwrap();

    let err = smtp
        .send(&message("msg-refused", "email", "a@customer.example"))
        .await
        .unwrap_err();

    assert!(err.retryable(), "{err}");
}

#[tokio::test]
async fn a_bad_recipient_address_is_permanent_and_nothing_is_sent() {
    let sink = SmtpSink::start().await;

    let err = channel(&sink, StartTls::Off)
        .send(&message("msg-bad", "email", "not an address"))
        .await
        .unwrap_err();

    assert!(matches!(err, SendError::Permanent(_)), "{err}");
    assert!(
        err.to_string().contains("to: not an e-mail address"),
        "{err}"
    );
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_non_email_message_is_refused_by_the_smtp_channel() {
    let sink = SmtpSink::start().await;

    let err = channel(&sink, StartTls::Off)
        .send(&message("msg-sms", "sms", "+8613800138000"))
        .await
        .unwrap_err();

    assert!(matches!(err, SendError::Permanent(_)), "{err}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_as_retryable() {
    let (_listener, port) = silent_server().await;
    let smtp = SmtpChannel::new(&SmtpConfig {
        timeout_secs: 1,
        ..config(port, StartTls::Off)
    })
    .unwrap();

    let started = std::time::Instant::now();
    let err = smtp
        .send(&message("msg-silent", "email", "a@customer.example"))
        .await
        .unwrap_err();

    assert!(err.retryable(), "{err}");
    assert!(err.to_string().contains("no answer within 1 s"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
