//! The gateway signature: lowercase hex HMAC-SHA256 over
//! `"{timestamp}." ++ body`, sent as `X-Rapport-Signature: sha256=<hex>`
//! next to `X-Rapport-Timestamp: <unix seconds>`.
//!
//! Signing the timestamp with the body lets the receiver reject replays
//! older than its tolerance.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The scheme prefix of the `X-Rapport-Signature` header value.
pub const SIGNATURE_PREFIX: &str = "sha256=";

fn keyed(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 accepts keys of any length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Lowercase hex HMAC-SHA256 of `"{timestamp}." ++ body` under `secret`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    hex::encode(keyed(secret, timestamp, body).finalize().into_bytes())
}

/// Whether `signature` (hex, with or without the `sha256=` prefix) is the
/// signature of `body` at `timestamp`, and `timestamp` lies within
/// `tolerance_secs` of `now` (either side). The comparison is constant-time.
pub fn verify(
    secret: &[u8],
    timestamp: i64,
    body: &[u8],
    signature: &str,
    now: i64,
    tolerance_secs: i64,
) -> bool {
    let fresh = now
        .checked_sub(timestamp)
        .and_then(i64::checked_abs)
        .is_some_and(|age| tolerance_secs >= 0 && age <= tolerance_secs);
    if !fresh {
        return false;
    }
    let hex_sig = signature
        .strip_prefix(SIGNATURE_PREFIX)
        .unwrap_or(signature);
    let Ok(bytes) = hex::decode(hex_sig.trim()) else {
        return false;
    };
    keyed(secret, timestamp, body).verify_slice(&bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a shared secret of the gateway";
    const NOW: i64 = 1_780_000_000;

    #[test]
    fn a_signature_is_lowercase_hex_of_the_timestamped_body() {
        let sig = sign(SECRET, NOW, b"{}");
        assert_eq!(sig.len(), 64);
        assert!(sig
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
        // Computed independently: Python's hmac.new(b"key", b'1700000000.{"a":1}', sha256).
        assert_eq!(
            sign(b"key", 1_700_000_000, br#"{"a":1}"#),
            "a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03"
        );
        // The dot separates the timestamp from the body.
        assert_ne!(sign(SECRET, 1, b"23.x"), sign(SECRET, 12, b"3.x"));
    }

    #[test]
    fn a_fresh_signature_verifies_with_or_without_prefix() {
        let sig = sign(SECRET, NOW, b"body");
        assert!(verify(SECRET, NOW, b"body", &sig, NOW + 10, 300));
        assert!(verify(
            SECRET,
            NOW,
            b"body",
            &format!("sha256={sig}"),
            NOW,
            300
        ));
    }

    #[test]
    fn a_tampered_body_or_wrong_secret_does_not_verify() {
        let sig = sign(SECRET, NOW, b"body");
        assert!(!verify(SECRET, NOW, b"bodY", &sig, NOW, 300));
        assert!(!verify(b"other", NOW, b"body", &sig, NOW, 300));
        assert!(!verify(SECRET, NOW + 1, b"body", &sig, NOW, 300));
        assert!(!verify(SECRET, NOW, b"body", "not hex", NOW, 300));
        assert!(!verify(SECRET, NOW, b"body", "", NOW, 300));
    }

    #[test]
    fn a_stale_or_far_future_timestamp_is_rejected() {
        let sig = sign(SECRET, NOW, b"body");
        assert!(verify(SECRET, NOW, b"body", &sig, NOW + 300, 300));
        assert!(!verify(SECRET, NOW, b"body", &sig, NOW + 301, 300));
        assert!(!verify(SECRET, NOW, b"body", &sig, NOW - 301, 300));
        assert!(!verify(SECRET, NOW, b"body", &sig, NOW, -1));
        let old = sign(SECRET, i64::MIN, b"body");
        assert!(!verify(SECRET, i64::MIN, b"body", &old, i64::MAX, i64::MAX));
    }
}
