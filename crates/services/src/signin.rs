//! Signing in to the web application: the throttle, the password check, the
//! attempt record, the new session and its audit entry — decided here; the
//! web handler only reads the form and sets the cookie.
//!
//! **One verification, whatever the account.** Every attempt that is not
//! throttled runs exactly one argon2 verification: against the user's hash
//! when the user may sign in (a known, active person with a password and a
//! known role), otherwise against a dummy hash of the same cost; the outcome
//! is decided afterwards. So the time of a failure does not tell an unknown
//! name from a disabled account, a service account or one with no password.
//!
//! **Throttling per (user name, client).** Failures are counted for the pair
//! (typed user name, client address) within [`PAIR_WINDOW_HOURS`] and since
//! that pair's last success. After `web.max_failed_logins` of them, each
//! further attempt from that client for that name waits 2^k seconds after the
//! latest failure (k = failures beyond the limit), at most
//! `web.login_backoff_max_secs`. Failures from one client never delay
//! another client, so nobody can lock an account out from elsewhere. A coarse
//! limit also holds per client over all names: `web.max_failed_logins_per_client`
//! failures in [`CLIENT_WINDOW_MINUTES`] minutes refuse that client until the
//! window passes. The client address is the socket peer, or the forwarded
//! address when the peer is a trusted proxy (the web adapter's `client_of`).
//!
//! Never logs a password, a token or a user name that was typed.

use crate::access::{
    hash_password, is_password_hash, new_token, token_hash, verify_password, Role, Staff,
};
use crate::audit::entry;
use crate::config::WebConfig;
use crate::error::ServiceResult;
use crate::Services;
use chrono::{DateTime, Duration, Utc};
use rapport_store::{LoginFailures, StaffUser};
use serde_json::json;

/// Failures of one (user name, client) pair are weighed over this many hours.
pub const PAIR_WINDOW_HOURS: i64 = 24;
/// The per-client limit counts failures over this many minutes.
pub const CLIENT_WINDOW_MINUTES: i64 = 15;

/// Checks a password against a stored PHC string. The real one is
/// [`Argon2Check`]; a test wraps it to count how many checks ran.
pub trait PasswordCheck: Sync {
    fn verify(&self, password: &str, phc: &str) -> bool;
}

/// The argon2 verification (`access::verify_password`).
pub struct Argon2Check;

impl PasswordCheck for Argon2Check {
    fn verify(&self, password: &str, phc: &str) -> bool {
        verify_password(password, phc)
    }
}

/// A valid argon2 hash (default parameters, as every stored hash) of a random
/// password nobody knows: what an attempt on an account that may not sign in
/// is checked against.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password(&new_token()).unwrap_or_default());

/// A new browser session: the user, the session token for the cookie (the
/// store keeps only its hash), its CSRF token and expiry.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub user: StaffUser,
    pub token: String,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
    /// The session may only change the password (after an administrator's reset).
    pub must_change_password: bool,
}

/// What became of a sign-in.
#[derive(Debug, Clone)]
pub enum SignInOutcome {
    SignedIn(Box<NewSession>),
    /// Wrong name or password, or an account that may not sign in (not told apart).
    Failed,
    /// Too many failures from this client (for this name, or overall): try
    /// again after this many seconds. No password was checked.
    Throttled {
        retry_after_secs: i64,
    },
}

/// How long this client must wait before trying `username` again, if at all.
pub fn throttle_wait(web: &WebConfig, f: &LoginFailures, now: DateTime<Utc>) -> Option<i64> {
    if f.client >= web.max_failed_logins_per_client {
        return Some(CLIENT_WINDOW_MINUTES * 60);
    }
    let beyond = f.user_client - web.max_failed_logins;
    if beyond < 0 {
        return None;
    }
    let wait = 2i64
        .checked_pow(u32::try_from(beyond).unwrap_or(u32::MAX))
        .unwrap_or(i64::MAX)
        .min(web.login_backoff_max_secs);
    let until = f.last_user_client? + Duration::seconds(wait);
    // Whole seconds, rounded up (a store may keep times to the microsecond).
    (now < until).then(|| {
        ((until - now).num_milliseconds() + 999)
            .div_euclid(1000)
            .max(1)
    })
}

/// Whether `user` may sign in to the web with a password at all (an
/// unreadable stored hash counts as none: checking it would cost nothing).
fn may_sign_in(user: &StaffUser) -> bool {
    user.active
        && !user.is_service()
        && Role::parse(&user.role).is_some()
        && user.password_hash.as_deref().is_some_and(is_password_hash)
}

/// Signs `username` in with `password` from `client` at `now`.
pub async fn sign_in(
    services: &Services,
    username: &str,
    password: &str,
    client: &str,
    now: DateTime<Utc>,
) -> ServiceResult<SignInOutcome> {
    sign_in_checked(services, &Argon2Check, username, password, client, now).await
}

/// [`sign_in`] with the password check given (the real one is [`Argon2Check`]).
pub async fn sign_in_checked(
    services: &Services,
    check: &dyn PasswordCheck,
    username: &str,
    password: &str,
    client: &str,
    now: DateTime<Utc>,
) -> ServiceResult<SignInOutcome> {
    let store = &services.store;
    let web = &services.cfg.web;
    let username = username.trim();
    let failures = store
        .login_failures(
            username,
            client,
            now - Duration::hours(PAIR_WINDOW_HOURS),
            now - Duration::minutes(CLIENT_WINDOW_MINUTES),
        )
        .await?;
    if let Some(retry_after_secs) = throttle_wait(web, &failures, now) {
        tracing::warn!(
            failures = failures.user_client,
            client_failures = failures.client,
            retry_after_secs,
            "sign-in throttled"
        );
        return Ok(SignInOutcome::Throttled { retry_after_secs });
    }
    let user = store
        .staff_user_by_name(username)
        .await?
        .filter(may_sign_in);
    // Exactly one verification on every path; the decision comes after it.
    let phc = user
        .as_ref()
        .and_then(|u| u.password_hash.as_deref())
        .unwrap_or(DUMMY_HASH.as_str());
    let verified = check.verify(password, phc);
    let user = user.filter(|_| verified);
    store
        .record_login_attempt(username, client, now, user.is_some())
        .await?;
    let Some(user) = user else {
        return Ok(SignInOutcome::Failed);
    };
    let Some(role) = Role::parse(&user.role) else {
        return Ok(SignInOutcome::Failed);
    };
    let token = new_token();
    let csrf = new_token();
    let expires_at = now + Duration::hours(web.session_hours);
    store
        .create_session(&token_hash(&token), user.id, &csrf, now, expires_at)
        .await?;
    let must_change_password = user.must_change_password;
    let staff = Staff {
        user,
        role,
        client: client.to_string(),
    };
    services
        .audit
        .write(entry(
            &staff,
            "session.login",
            "staff_user",
            Some(staff.user.id.to_string()),
            None,
            json!({ "must_change_password": must_change_password }),
        ))
        .await?;
    tracing::info!(user.id = staff.user.id, "signed in");
    Ok(SignInOutcome::SignedIn(Box::new(NewSession {
        user: staff.user,
        token,
        csrf,
        expires_at,
        must_change_password,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web() -> WebConfig {
        WebConfig {
            max_failed_logins: 5,
            login_backoff_max_secs: 900,
            max_failed_logins_per_client: 100,
            ..WebConfig::default()
        }
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(1_000_000 + secs)
    }

    #[test]
    fn the_back_off_doubles_from_the_limit_and_is_capped() {
        let w = web();
        let f = |n: i64| LoginFailures {
            user_client: n,
            last_user_client: Some(at(0)),
            client: n,
        };
        assert_eq!(throttle_wait(&w, &f(4), at(0)), None);
        assert_eq!(throttle_wait(&w, &f(5), at(0)), Some(1));
        assert_eq!(throttle_wait(&w, &f(6), at(0)), Some(2));
        assert_eq!(throttle_wait(&w, &f(9), at(0)), Some(16));
        assert_eq!(throttle_wait(&w, &f(9), at(16)), None);
        assert_eq!(throttle_wait(&w, &f(60), at(0)), Some(900));
        assert_eq!(throttle_wait(&w, &f(60), at(900)), None);
    }

    #[test]
    fn the_per_client_limit_holds_over_all_names() {
        let f = LoginFailures {
            user_client: 0,
            last_user_client: None,
            client: 100,
        };
        assert_eq!(
            throttle_wait(&web(), &f, at(0)),
            Some(CLIENT_WINDOW_MINUTES * 60)
        );
    }
}
