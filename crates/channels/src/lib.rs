//! Rapport delivery channels: hands one message at a time to the outside
//! world and says whether a failure is worth retrying.
//!
//! Owns two transports:
//!
//! - **e-mail**: SMTP through `lettre` ([`SmtpChannel`]), with STARTTLS off,
//!   opportunistic or required ([`StartTls`]). Every mail carries
//!   `Message-ID: <{idempotency_key}@rapport>` and an
//!   `X-Rapport-Idempotency-Key` header so that receivers can drop duplicates.
//! - **SMS, app push and WeChat**: one configurable HTTP gateway
//!   ([`HttpGateway`]); a JSON `POST` signed with HMAC-SHA256 ([`sign`],
//!   [`verify`]) and carrying an `Idempotency-Key` header. The message's
//!   `channel` field tells the gateway which network to use.
//!
//! TLS, for both, is rustls with the `ring` provider and the Mozilla roots
//! (`webpki-roots`); a private CA is not configurable yet.
//!
//! Every failure is a [`SendError`]: [`SendError::Retryable`] (connection,
//! timeout, SMTP 4xx, HTTP 408/425/429/5xx) or [`SendError::Permanent`]
//! (bad address, SMTP 5xx, other HTTP 4xx). Retries, back-off and the outbox
//! belong to the caller; the idempotency key makes a retry safe.
//!
//! Must never decide who may be contacted, on which channel or when: that is
//! the contact policy of `rapport-engage`, applied before a message reaches
//! this crate. Must never read the store, and never log personal data (the
//! recipient address, the subject, the body): logs carry the channel, the
//! idempotency key and the customer reference only.
//!
//! With the `testkit` feature, [`testkit`] provides an SMTP sink and a gateway
//! sink that listen on 127.0.0.1, for end-to-end tests.

mod error;
mod gateway;
mod message;
mod signature;
mod smtp;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use error::{ConfigError, SendError};
pub use gateway::{
    GatewayConfig, HttpGateway, HEADER_IDEMPOTENCY_KEY, HEADER_KEY_ID, HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
};
pub use message::{ChannelKind, OutboundMessage, Receipt};
pub use signature::{sign, verify, SIGNATURE_PREFIX};
pub use smtp::{SmtpChannel, SmtpConfig, StartTls, HEADER_MAIL_IDEMPOTENCY_KEY};
