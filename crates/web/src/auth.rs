//! Who is asking: the session cookie and API bearer tokens resolved to the
//! signed-in member of staff, and the extractors for pages and for the API.
//! Roles, rights, row scope and the secrets themselves are the services'
//! (`rapport_services::access`), re-exported here for the handlers.
//!
//! Nothing here logs a password, a token or personal data.

use crate::error::{ApiError, PageError};
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use chrono::Utc;
pub use rapport_services::access::{
    hash_password, new_password, new_token, same_secret, token_hash, verify_password, Actor,
    Permission, Role, Staff,
};
use rapport_store::StaffUser;
use std::net::IpAddr;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "rapport_session";

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A browser session; carries the session's CSRF token.
    Session { csrf: String },
    /// An API bearer token (no CSRF: not sent by browsers on their own).
    Token,
}

/// The signed-in member of staff behind a request: who acts (the services'
/// [`Staff`], whose scope, rights and masking default are decided there)
/// and how they proved it.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub staff: Staff,
    pub credential: Credential,
}

impl std::ops::Deref for Viewer {
    type Target = Staff;
    fn deref(&self) -> &Staff {
        &self.staff
    }
}

impl Viewer {
    /// A viewer acting as `user` (None for an unknown role).
    pub fn new(user: StaffUser, credential: Credential, client: String) -> Option<Viewer> {
        let role = Role::parse(&user.role)?;
        Some(Viewer {
            staff: Staff { user, role, client },
            credential,
        })
    }

    /// The actor the services take.
    pub fn actor(&self) -> Actor {
        Actor::Staff(self.staff.clone())
    }

    pub fn csrf(&self) -> &str {
        match &self.credential {
            Credential::Session { csrf } => csrf,
            Credential::Token => "",
        }
    }
}

/// The value of one cookie in the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The client's address: the socket peer, unless the peer is one of the
/// configured trusted proxies (`web.trusted_proxies`); then the right-most
/// address of `X-Forwarded-For` that is not itself a trusted proxy (what the
/// nearest untrusted hop told our proxy; anything further left could be
/// written by the client). A malformed entry ends the walk at the proxy.
/// The one place the client address is decided (audit, throttling, logs).
pub fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> String {
    let Some(peer) = peer.map(|p| p.to_canonical()) else {
        return "local".into();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        let ip = hop
            .parse::<IpAddr>()
            .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|s| s.ip()));
        match ip.map(|i| i.to_canonical()) {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip.to_string(),
            Err(_) => break,
        }
    }
    peer.to_string()
}

/// The client's address of a request ([`client_address`] over its socket peer).
pub fn client_of(parts: &Parts, app: &AppState) -> String {
    use axum::extract::connect_info::{ConnectInfo, MockConnectInfo};
    // As axum's `ConnectInfo` extractor: the socket's, or a test's stand-in.
    let peer = parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
        .or_else(|| {
            parts
                .extensions
                .get::<MockConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip())
        });
    client_address(peer, &parts.headers, &app.cfg.web.trusted_proxies)
}

/// Whether a session must change its password before anything else (after
/// an administrator's reset): every page but the password page, sign-out and
/// the language switch is closed to it, and the API refuses it.
fn must_change_password(v: &Viewer) -> bool {
    v.user.must_change_password && matches!(v.credential, Credential::Session { .. })
}

/// The paths a session that must change its password may still use.
const OPEN_BEFORE_PASSWORD_CHANGE: [&str; 3] = ["/account/password", "/logout", "/lang"];

/// Resolves the caller, and names them in the request's span and for the
/// audit of a refusal (`crate::ops::track`).
async fn resolve(parts: &Parts, app: &AppState) -> Result<Option<Viewer>, anyhow::Error> {
    let viewer = resolve_credential(parts, app).await?;
    if let Some(v) = &viewer {
        let span = tracing::Span::current();
        span.record("user.id", v.user.id);
        span.record("user.role", v.role.as_str());
        if let Some(caller) = parts.extensions.get::<crate::ops::Caller>() {
            let _ = caller.0.set(v.staff.clone());
        }
    }
    Ok(viewer)
}

/// The caller from the bearer token or the session cookie.
async fn resolve_credential(
    parts: &Parts,
    app: &AppState,
) -> Result<Option<Viewer>, anyhow::Error> {
    let client = client_of(parts, app);
    if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
        let Some(token) = auth.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) else {
            return Ok(None);
        };
        let user = app.token_user(&token_hash(token.trim())).await?;
        return Ok(user.and_then(|user| Viewer::new(user, Credential::Token, client)));
    }
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some((user, csrf)) = app
        .store
        .session_user(&token_hash(&token), Utc::now())
        .await?
    else {
        return Ok(None);
    };
    Ok(Viewer::new(user, Credential::Session { csrf }, client))
}

/// A signed-in user on a page; anyone else is sent to the sign-in page.
pub struct PageUser(pub Viewer);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, PageError> {
        match resolve(parts, app).await {
            Ok(Some(v))
                if must_change_password(&v)
                    && !OPEN_BEFORE_PASSWORD_CHANGE.contains(&parts.uri.path()) =>
            {
                Err(PageError::ChangePassword)
            }
            Ok(Some(v)) => Ok(PageUser(v)),
            Ok(None) => Err(PageError::SignIn),
            Err(e) => Err(PageError::Internal(e)),
        }
    }
}

/// A signed-in caller of the API (token or browser session).
pub struct ApiUser(pub Viewer);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        match resolve(parts, app).await {
            Ok(Some(v)) if must_change_password(&v) => Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "password_change_required",
                "change your password first (/account/password)",
            )),
            Ok(Some(v)) => {
                // A browser session writing through the API must prove it is the page.
                if let Credential::Session { csrf } = &v.credential {
                    if !parts.method.is_safe() {
                        let sent = parts
                            .headers
                            .get("x-csrf-token")
                            .and_then(|h| h.to_str().ok())
                            .unwrap_or("");
                        if !same_secret(sent, csrf) {
                            return Err(ApiError::csrf());
                        }
                    }
                }
                Ok(ApiUser(v))
            }
            Ok(None) => Err(ApiError::unauthenticated()),
            Err(e) => Err(ApiError::internal(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let h = hash_password("correct horse").unwrap_or_default();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsf", &h));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    fn forwarded(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = v.parse() {
            h.insert("x-forwarded-for", v);
        }
        h
    }

    #[test]
    fn the_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        let proxy = ip("10.0.0.1");
        let trusted: Vec<IpAddr> = [ip("10.0.0.1"), ip("10.0.0.2")]
            .into_iter()
            .flatten()
            .collect();
        // No trusted proxy configured: the header is ignored.
        let h = forwarded("203.0.113.7");
        assert_eq!(client_address(proxy, &h, &[]), "10.0.0.1");
        // A peer that is not a trusted proxy cannot choose its address.
        assert_eq!(
            client_address(ip("198.51.100.9"), &h, &trusted),
            "198.51.100.9"
        );
        // Behind the proxy: the right-most address that is not a proxy; what
        // the client wrote further left is not believed.
        let h = forwarded("1.1.1.1, 203.0.113.7, 10.0.0.2");
        assert_eq!(client_address(proxy, &h, &trusted), "203.0.113.7");
        // IPv4-mapped peers and ports are understood.
        assert_eq!(
            client_address(
                ip("::ffff:10.0.0.1"),
                &forwarded("203.0.113.8:5000"),
                &trusted
            ),
            "203.0.113.8"
        );
        // Nothing usable: the proxy itself.
        assert_eq!(
            client_address(proxy, &forwarded("junk"), &trusted),
            "10.0.0.1"
        );
        assert_eq!(
            client_address(proxy, &HeaderMap::new(), &trusted),
            "10.0.0.1"
        );
        assert_eq!(client_address(None, &HeaderMap::new(), &trusted), "local");
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", ""));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn only_the_auditor_reads_the_audit_log_and_only_admin_erases() {
        for r in Role::ALL {
            assert_eq!(Permission::ViewAudit.allows(r), r == Role::Auditor);
            assert_eq!(Permission::EraseCustomer.allows(r), r == Role::Admin);
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }
}
