//! E-mail over SMTP through `lettre`.
//!
//! One connection per message (no pool): the dispatcher sends at its own
//! pace and a stale pooled connection would only add a failure mode. TLS is
//! rustls with the `ring` provider and the Mozilla roots (`webpki-roots`).

use std::fmt;
use std::time::Duration;

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::error::truncate_chars;
use crate::message::check_idempotency_key;
use crate::{ChannelKind, ConfigError, OutboundMessage, Receipt, SendError};

/// The mail header that repeats the idempotency key (it is also the local
/// part of the `Message-ID`).
pub const HEADER_MAIL_IDEMPOTENCY_KEY: &str = "X-Rapport-Idempotency-Key";

/// How the SMTP connection is secured. Configured as `"off"`,
/// `"opportunistic"` or `"required"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StartTls {
    /// Plaintext only; for a relay on the same host or a trusted network.
    Off,
    /// STARTTLS when the server offers it, plaintext otherwise (open to a
    /// downgrade by anyone on the path).
    Opportunistic,
    /// STARTTLS or nothing: the message is not sent if the server does not
    /// offer it or the certificate does not verify.
    Required,
}

/// Settings of the SMTP relay (`[smtp]` in the configuration).
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SmtpConfig {
    /// Relay host name (also the TLS server name).
    pub host: String,
    /// Relay port, usually 587 (submission) or 25.
    pub port: u16,
    /// Whether and how to upgrade to TLS.
    pub starttls: StartTls,
    /// Login, if the relay wants one; requires `password`.
    pub username: Option<String>,
    /// Password for `username`; redacted in `Debug`.
    pub password: Option<String>,
    /// The sender, `bank@example.com` or `Example Bank <bank@example.com>`.
    pub from: String,
    /// Limit on the whole delivery of one message (connect, TLS, every
    /// command and the data), in seconds.
    pub timeout_secs: u64,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("starttls", &self.starttls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

/// Sends [`OutboundMessage`]s whose channel is `"email"` to one SMTP relay.
#[derive(Clone)]
pub struct SmtpChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    starttls: StartTls,
    timeout: Duration,
}

impl fmt::Debug for SmtpChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpChannel")
            .field("from", &self.from.email.to_string())
            .field("starttls", &self.starttls)
            .finish_non_exhaustive()
    }
}

impl SmtpChannel {
    /// Checks the settings and prepares the transport; does not connect.
    pub fn new(cfg: &SmtpConfig) -> Result<Self, ConfigError> {
        let host = cfg.host.trim();
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ConfigError::invalid(
                "smtp.host",
                "must be a host name or IP address",
            ));
        }
        if cfg.port == 0 {
            return Err(ConfigError::invalid("smtp.port", "must not be 0"));
        }
        if cfg.timeout_secs == 0 {
            return Err(ConfigError::invalid(
                "smtp.timeout_secs",
                "must be at least 1",
            ));
        }
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|_| ConfigError::invalid("smtp.from", "not an e-mail address"))?;

        let tls = match cfg.starttls {
            StartTls::Off => Tls::None,
            StartTls::Opportunistic => Tls::Opportunistic(tls_parameters(host)?),
            StartTls::Required => Tls::Required(tls_parameters(host)?),
        };
        let timeout = Duration::from_secs(cfg.timeout_secs);
        // lettre applies its timeout to the TCP connect only; `send` bounds
        // the whole exchange.
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(cfg.port)
            .tls(tls)
            .timeout(Some(timeout));
        match (&cfg.username, &cfg.password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(ConfigError::invalid(
                    "smtp.password",
                    "required when smtp.username is set",
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::invalid(
                    "smtp.username",
                    "required when smtp.password is set",
                ))
            }
        }
        Ok(SmtpChannel {
            transport: builder.build(),
            from,
            starttls: cfg.starttls,
            timeout,
        })
    }

    /// Sends one e-mail. `Ok` means the relay accepted it (`delivered` is
    /// false: SMTP does not report final delivery).
    ///
    /// A timeout after the data went out may hide a delivery; the retry then
    /// carries the same `Message-ID`, so the receiver can drop the copy.
    #[tracing::instrument(name = "smtp_send", skip_all, fields(
        channel = %m.channel,
        idempotency_key = %m.idempotency_key,
        customer.r#ref = %m.customer_ref,
    ))]
    pub async fn send(&self, m: &OutboundMessage) -> Result<Receipt, SendError> {
        let email = self.build(m)?;
        let Ok(outcome) = tokio::time::timeout(self.timeout, self.transport.send(email)).await
        else {
            tracing::warn!(retryable = true, "no answer from the relay in time");
            return Err(SendError::Retryable(format!(
                "smtp: no answer within {} s",
                self.timeout.as_secs()
            )));
        };
        match outcome {
            Ok(reply) => {
                tracing::debug!(smtp.code = %reply.code(), "mail accepted by the relay");
                let provider_id = reply
                    .first_line()
                    .map(str::trim)
                    .filter(|line| !line.is_empty())
                    .map(|line| truncate_chars(line, 200));
                Ok(Receipt {
                    provider_id,
                    delivered: false,
                })
            }
            Err(e) => {
                let error = self.classify(&e);
                tracing::warn!(
                    retryable = error.retryable(),
                    smtp.code = e.status().map(|c| c.to_string()),
                    "mail not accepted by the relay"
                );
                Err(error)
            }
        }
    }

    fn build(&self, m: &OutboundMessage) -> Result<Message, SendError> {
        if ChannelKind::parse(&m.channel) != Some(ChannelKind::Email) {
            return Err(SendError::Permanent(format!(
                "channel: the SMTP channel carries \"email\" only, not {:?}",
                m.channel
            )));
        }
        check_idempotency_key(&m.idempotency_key)?;
        let to: Mailbox =
            m.to.trim()
                .parse()
                .map_err(|_| SendError::Permanent("to: not an e-mail address".to_owned()))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .message_id(Some(format!("<{}@rapport>", m.idempotency_key)))
            .header(MailIdempotencyKey(m.idempotency_key.clone()))
            .header(ContentType::TEXT_PLAIN);
        if let Some(subject) = &m.subject {
            builder = builder.subject(subject.clone());
        }
        builder
            .body(m.body.clone())
            .map_err(|e| SendError::Permanent(format!("cannot build the e-mail: {e}")))
    }

    fn classify(&self, e: &lettre::transport::smtp::Error) -> SendError {
        if e.is_permanent() {
            SendError::Permanent(format!("smtp: {e}"))
        } else if e.is_transient() {
            SendError::Retryable(format!("smtp: {e}"))
        } else if self.starttls == StartTls::Required
            && e.is_client()
            && e.to_string().contains("STARTTLS")
        {
            // The relay does not offer STARTTLS. Not the message's fault, so
            // worth retrying once the relay (or the setting) is fixed.
            SendError::Retryable(format!(
                "smtp: the server does not offer STARTTLS and smtp.starttls is \"required\"; nothing was sent ({e})"
            ))
        } else {
            // Network, connection, timeout, TLS and reply-parsing errors.
            SendError::Retryable(format!("smtp: {e}"))
        }
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters, ConfigError> {
    TlsParameters::new(host.to_owned()).map_err(|e| {
        ConfigError::invalid(
            "smtp.host",
            format!("cannot be used as the TLS server name: {e}"),
        )
    })
}

/// `X-Rapport-Idempotency-Key`: the outbox key, for receivers that dedupe.
#[derive(Debug, Clone)]
struct MailIdempotencyKey(String);

impl Header for MailIdempotencyKey {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(HEADER_MAIL_IDEMPOTENCY_KEY)
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(MailIdempotencyKey(s.trim().to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn config() -> SmtpConfig {
        SmtpConfig {
            host: "smtp.example.com".into(),
            port: 587,
            starttls: StartTls::Required,
            username: Some("bank".into()),
            password: Some("hunter2".into()),
            from: "Example Bank <bank@example.com>".into(),
            timeout_secs: 10,
        }
    }

    fn error_of(cfg: SmtpConfig) -> String {
        SmtpChannel::new(&cfg).unwrap_err().to_string()
    }

    #[tokio::test]
    async fn a_valid_config_builds_for_every_starttls_mode() {
        for starttls in [StartTls::Off, StartTls::Opportunistic, StartTls::Required] {
            SmtpChannel::new(&SmtpConfig {
                starttls,
                ..config()
            })
            .unwrap();
        }
    }

    #[test]
    fn config_errors_name_the_field() {
        assert_eq!(
            error_of(SmtpConfig {
                from: "not an address".into(),
                ..config()
            }),
            "smtp.from: not an e-mail address"
        );
        assert!(error_of(SmtpConfig {
            host: " ".into(),
            ..config()
        })
        .starts_with("smtp.host: "));
        assert!(error_of(SmtpConfig {
            port: 0,
            ..config()
        })
        .starts_with("smtp.port: "));
        assert!(error_of(SmtpConfig {
            timeout_secs: 0,
            ..config()
        })
        .starts_with("smtp.timeout_secs: "));
        assert_eq!(
            error_of(SmtpConfig {
                password: None,
                ..config()
            }),
            "smtp.password: required when smtp.username is set"
        );
    }

    #[test]
    fn debug_output_hides_the_password() {
        let shown = format!("{:?}", config());
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn starttls_is_configured_in_snake_case() {
        let parsed: Vec<StartTls> =
            serde_json::from_str(r#"["off", "opportunistic", "required"]"#).unwrap();
        assert_eq!(
            parsed,
            [StartTls::Off, StartTls::Opportunistic, StartTls::Required]
        );
    }
}
