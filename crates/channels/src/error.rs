//! The two error types of the crate.
//!
//! [`SendError`] is what a delivery attempt returns; its only question is
//! "is it worth trying again?". [`ConfigError`] is returned when a channel is
//! built from configuration; its message starts with the field at fault so an
//! operator can act on it (`smtp.from: not an e-mail address`).

/// A failed delivery attempt.
///
/// The message may quote the remote server's reply (an SMTP reply or up to
/// 200 characters of an HTTP body), which can name the recipient; store it
/// with the outbox entry, do not log it.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later with the same idempotency key: the network,
    /// a timeout, SMTP 4xx, HTTP 408/425/429/5xx.
    #[error("retryable: {0}")]
    Retryable(String),
    /// Trying again will not help: an invalid address, SMTP 5xx, another
    /// HTTP 4xx, a message the channel cannot carry.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl SendError {
    /// Whether the dispatcher should try this message again later.
    pub fn retryable(&self) -> bool {
        matches!(self, SendError::Retryable(_))
    }
}

/// Configuration a channel cannot be built from.
///
/// Displays as `{field}: {reason}`, where `field` is the dotted path of the
/// setting (`smtp.from`, `gateway.url`, …).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A setting with an unusable value.
    #[error("{field}: {reason}")]
    Invalid {
        /// The dotted path of the setting, e.g. `smtp.from`.
        field: &'static str,
        /// What is wrong with it, for an operator.
        reason: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// The dotted path of the setting at fault, e.g. `smtp.from`.
    pub fn field(&self) -> &'static str {
        match self {
            ConfigError::Invalid { field, .. } => field,
        }
    }
}

/// At most `max` characters of `s`, with an ellipsis when cut.
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).collect();
    if s.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_retryable_variant_is_retryable() {
        assert!(SendError::Retryable("x".into()).retryable());
        assert!(!SendError::Permanent("x".into()).retryable());
    }

    #[test]
    fn a_config_error_names_its_field() {
        let e = ConfigError::invalid("smtp.from", "not an e-mail address");
        assert_eq!(e.to_string(), "smtp.from: not an e-mail address");
        assert_eq!(e.field(), "smtp.from");
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate_chars("你好世界", 2), "你好…");
        assert_eq!(truncate_chars("abc", 3), "abc");
    }
}
