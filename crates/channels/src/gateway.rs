//! SMS, app push and WeChat through one HTTP gateway.
//!
//! Each message is one `POST` of a JSON object to the configured URL:
//!
//! ```json
//! {"idempotency_key": "…", "channel": "sms", "to": "+86…", "subject": null,
//!  "body": "…", "lang": "zh", "customer_ref": "…", "campaign": null}
//! ```
//!
//! with the headers `Content-Type: application/json`, `Idempotency-Key`,
//! `X-Rapport-Key-Id`, `X-Rapport-Timestamp` (unix seconds) and
//! `X-Rapport-Signature: sha256=<hex>` (see [`crate::sign`]).
//!
//! The gateway answers 2xx with an optional `{"id": "…", "status":
//! "accepted" | "delivered"}`; 409 means it already has this idempotency
//! key, which counts as success. 408, 425, 429 and 5xx are worth a retry;
//! any other status is permanent. Redirects are not followed.
//!
//! `https://` uses rustls with the `ring` provider and the Mozilla roots
//! (`webpki-roots`), like the SMTP channel. `http://` is accepted for a
//! gateway on the same host or a trusted network: the body is signed either
//! way, but only TLS keeps it confidential.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};

use crate::error::truncate_chars;
use crate::message::check_idempotency_key;
use crate::signature::SIGNATURE_PREFIX;
use crate::{sign, ChannelKind, ConfigError, OutboundMessage, Receipt, SendError};

/// Header carrying the message's idempotency key.
pub const HEADER_IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Header naming which shared secret signed the request.
pub const HEADER_KEY_ID: &str = "X-Rapport-Key-Id";
/// Header carrying the signing time, in unix seconds.
pub const HEADER_TIMESTAMP: &str = "X-Rapport-Timestamp";
/// Header carrying `sha256=<hex HMAC>`.
pub const HEADER_SIGNATURE: &str = "X-Rapport-Signature";

/// The shortest shared secret accepted, in bytes.
const MIN_SECRET_LEN: usize = 16;
/// How much of a gateway reply is read.
const MAX_REPLY_BYTES: usize = 64 * 1024;
/// How much of an error reply is quoted in a [`SendError`].
const QUOTED_REPLY_CHARS: usize = 200;

/// Settings of the HTTP gateway (`[gateway]` in the configuration).
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct GatewayConfig {
    /// The endpoint, e.g. `http://gateway.internal:8080/send`.
    pub url: String,
    /// Names the secret, so that the gateway can rotate secrets.
    pub key_id: String,
    /// The shared HMAC secret, at least 16 bytes; redacted in `Debug`.
    pub secret: String,
    /// Limit on the whole request, in seconds.
    pub timeout_secs: u64,
}

impl fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("url", &self.url)
            .field("key_id", &self.key_id)
            .field("secret", &"<redacted>")
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

/// Sends [`OutboundMessage`]s whose channel is `"sms"`, `"app_push"` or
/// `"wechat"` to the HTTP gateway.
#[derive(Clone)]
pub struct HttpGateway {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    url: Uri,
    key_id: HeaderValue,
    secret: Vec<u8>,
    timeout: Duration,
}

impl fmt::Debug for HttpGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpGateway")
            .field("url", &self.url.to_string())
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// The JSON body of a gateway request.
#[derive(Serialize)]
struct GatewayPayload<'a> {
    idempotency_key: &'a str,
    channel: &'a str,
    to: &'a str,
    subject: Option<&'a str>,
    body: &'a str,
    lang: &'a str,
    customer_ref: &'a str,
    campaign: Option<&'a str>,
}

/// The JSON body of a gateway reply; every field optional.
#[derive(Deserialize)]
struct GatewayReply {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    status: Option<String>,
}

impl HttpGateway {
    /// Checks the settings and prepares the HTTP client; does not connect.
    pub fn new(cfg: &GatewayConfig) -> Result<Self, ConfigError> {
        let url: Uri = cfg
            .url
            .trim()
            .parse()
            .map_err(|e| ConfigError::invalid("gateway.url", format!("not a URL: {e}")))?;
        match url.scheme_str() {
            Some("http" | "https") => {}
            Some(other) => {
                return Err(ConfigError::invalid(
                    "gateway.url",
                    format!("scheme {other:?} is not supported; use https://"),
                ))
            }
            None => {
                return Err(ConfigError::invalid(
                    "gateway.url",
                    "not a URL: needs https:// or http://",
                ))
            }
        }
        if url.host().is_none_or(str::is_empty) {
            return Err(ConfigError::invalid("gateway.url", "has no host"));
        }
        let key_id = cfg.key_id.trim();
        let key_id = HeaderValue::from_str(key_id)
            .ok()
            .filter(|_| !key_id.is_empty() && key_id.chars().all(|c| c.is_ascii_graphic()))
            .ok_or_else(|| {
                ConfigError::invalid("gateway.key_id", "must be non-empty printable ASCII")
            })?;
        if cfg.secret.len() < MIN_SECRET_LEN {
            return Err(ConfigError::invalid(
                "gateway.secret",
                format!("must be at least {MIN_SECRET_LEN} bytes"),
            ));
        }
        if cfg.timeout_secs == 0 {
            return Err(ConfigError::invalid(
                "gateway.timeout_secs",
                "must be at least 1",
            ));
        }
        let timeout = Duration::from_secs(cfg.timeout_secs);
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config()?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(HttpGateway {
            client,
            url,
            key_id,
            secret: cfg.secret.as_bytes().to_vec(),
            timeout,
        })
    }

    /// Posts one message to the gateway. `Ok` means the gateway accepted it,
    /// now or on an earlier attempt with the same idempotency key.
    #[tracing::instrument(name = "gateway_send", skip_all, fields(
        channel = %m.channel,
        idempotency_key = %m.idempotency_key,
        customer.r#ref = %m.customer_ref,
    ))]
    pub async fn send(&self, m: &OutboundMessage) -> Result<Receipt, SendError> {
        let result = self.post(m).await;
        match &result {
            Ok(receipt) => {
                tracing::debug!(
                    delivered = receipt.delivered,
                    "message accepted by the gateway"
                )
            }
            Err(e) => tracing::warn!(
                retryable = e.retryable(),
                "message not accepted by the gateway"
            ),
        }
        result
    }

    async fn post(&self, m: &OutboundMessage) -> Result<Receipt, SendError> {
        match ChannelKind::parse(&m.channel) {
            Some(ChannelKind::Sms | ChannelKind::AppPush | ChannelKind::WeChat) => {}
            _ => {
                return Err(SendError::Permanent(format!(
                "channel: the HTTP gateway carries \"sms\", \"app_push\" and \"wechat\", not {:?}",
                m.channel
            )))
            }
        }
        check_idempotency_key(&m.idempotency_key)?;
        let body = serde_json::to_vec(&GatewayPayload {
            idempotency_key: &m.idempotency_key,
            channel: &m.channel,
            to: &m.to,
            subject: m.subject.as_deref(),
            body: &m.body,
            lang: &m.lang,
            customer_ref: &m.customer_ref,
            campaign: m.campaign.as_deref(),
        })
        .map_err(|e| SendError::Permanent(format!("cannot encode the request: {e}")))?;
        let timestamp = chrono::Utc::now().timestamp();
        let signature = format!("{SIGNATURE_PREFIX}{}", sign(&self.secret, timestamp, &body));

        let request = Request::builder()
            .method(Method::POST)
            .uri(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(HEADER_IDEMPOTENCY_KEY, m.idempotency_key.as_str())
            .header(HEADER_KEY_ID, self.key_id.clone())
            .header(HEADER_TIMESTAMP, timestamp.to_string())
            .header(HEADER_SIGNATURE, signature)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| SendError::Permanent(format!("cannot build the request: {e}")))?;

        // One deadline for connecting, sending and reading the reply.
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| SendError::Retryable(format!("gateway: {}", error_chain(&e))))?;
            let status = response.status();
            Ok::<_, SendError>((status, read_reply(response.into_body()).await))
        };
        let (status, reply) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| {
                SendError::Retryable(format!(
                    "gateway: no answer within {} s",
                    self.timeout.as_secs()
                ))
            })??;

        if status.is_success() || status == StatusCode::CONFLICT {
            return Ok(receipt_from(&reply));
        }
        let quoted = truncate_chars(String::from_utf8_lossy(&reply).trim(), QUOTED_REPLY_CHARS);
        let text = format!("gateway answered {status}: {quoted}");
        if is_retryable_status(status) {
            Err(SendError::Retryable(text))
        } else {
            Err(SendError::Permanent(text))
        }
    }
}

/// rustls with the `ring` provider (chosen here, not left to whichever
/// provider the process happens to install) and the Mozilla roots.
fn tls_config() -> Result<rustls::ClientConfig, ConfigError> {
    // Deprecated in rustls 0.23.48 for lacking post-quantum key exchange;
    // ring is still the provider that builds without cmake (aws-lc-rs needs
    // it). Revisit when the workspace can build aws-lc-rs.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::invalid("gateway", format!("cannot set up TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// 408 Request Timeout, 425 Too Early, 429 Too Many Requests and 5xx.
fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 425 | 429) || status.is_server_error()
}

/// The reply body if it is at most [`MAX_REPLY_BYTES`]; empty if it is
/// longer or cannot be read (the status still decides the outcome).
async fn read_reply(body: hyper::body::Incoming) -> Vec<u8> {
    match Limited::new(body, MAX_REPLY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => Vec::new(),
    }
}

fn receipt_from(reply: &[u8]) -> Receipt {
    match serde_json::from_slice::<GatewayReply>(reply) {
        Ok(parsed) => Receipt {
            provider_id: match parsed.id {
                Some(serde_json::Value::String(s)) => Some(s),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                _ => None,
            },
            delivered: parsed.status.as_deref() == Some("delivered"),
        },
        Err(_) => Receipt {
            provider_id: None,
            delivered: false,
        },
    }
}

/// The error and its sources, `outer: inner: …` (hyper's own message is terse).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn config() -> GatewayConfig {
        GatewayConfig {
            url: "http://127.0.0.1:9/send".into(),
            key_id: "k1".into(),
            secret: "0123456789abcdef0123".into(),
            timeout_secs: 5,
        }
    }

    fn error_of(cfg: GatewayConfig) -> String {
        HttpGateway::new(&cfg).unwrap_err().to_string()
    }

    #[test]
    fn config_errors_name_the_field() {
        assert!(error_of(GatewayConfig {
            url: "not a url".into(),
            ..config()
        })
        .starts_with("gateway.url: not a URL"));
        HttpGateway::new(&GatewayConfig {
            url: "https://gateway.example.com/send".into(),
            ..config()
        })
        .unwrap();
        assert!(error_of(GatewayConfig {
            url: "ftp://example.com/".into(),
            ..config()
        })
        .starts_with("gateway.url: "));
        assert_eq!(
            error_of(GatewayConfig {
                secret: "short".into(),
                ..config()
            }),
            "gateway.secret: must be at least 16 bytes"
        );
        assert!(error_of(GatewayConfig {
            key_id: "".into(),
            ..config()
        })
        .starts_with("gateway.key_id: "));
        assert!(error_of(GatewayConfig {
            timeout_secs: 0,
            ..config()
        })
        .starts_with("gateway.timeout_secs: "));
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let shown = format!("{:?}", config());
        assert!(!shown.contains("0123456789abcdef"));
        let gateway = HttpGateway::new(&config()).unwrap();
        assert!(!format!("{gateway:?}").contains("0123456789abcdef"));
    }

    #[test]
    fn statuses_worth_a_retry() {
        for code in [408, 425, 429, 500, 502, 503, 504] {
            assert!(
                is_retryable_status(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
        for code in [400, 401, 403, 404, 410, 413, 422] {
            assert!(
                !is_retryable_status(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
    }

    #[test]
    fn a_reply_becomes_a_receipt() {
        assert_eq!(
            receipt_from(br#"{"id":"gw-1","status":"delivered"}"#),
            Receipt {
                provider_id: Some("gw-1".into()),
                delivered: true
            }
        );
        assert_eq!(
            receipt_from(br#"{"id":7,"status":"accepted"}"#),
            Receipt {
                provider_id: Some("7".into()),
                delivered: false
            }
        );
        assert_eq!(
            receipt_from(b""),
            Receipt {
                provider_id: None,
                delivered: false
            }
        );
    }
}
