//! Who is asking: password hashing (argon2), session and API tokens, the
//! signed-in user extractors for pages and for the API, roles and what each
//! may do, and the row scope a role gets in the store.
//!
//! Tokens are 32 random bytes (URL-safe base64); the store keeps only their
//! SHA-256. Nothing here logs a password, a token or personal data.

use super::error::{ApiError, PageError};
use super::AppState;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use base64::Engine as _;
use chrono::Utc;
use rand::RngCore as _;
use rapport_store::{Scope, StaffUser};
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "rapport_session";

/// A member of staff's role (C14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Manager,
    Rm,
    Agent,
    Risk,
    Analyst,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::Manager,
        Role::Rm,
        Role::Agent,
        Role::Risk,
        Role::Analyst,
        Role::Auditor,
    ];

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "admin" => Role::Admin,
            "manager" => Role::Manager,
            "rm" => Role::Rm,
            "agent" => Role::Agent,
            "risk" => Role::Risk,
            "analyst" => Role::Analyst,
            "auditor" => Role::Auditor,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Rm => "rm",
            Role::Agent => "agent",
            Role::Risk => "risk",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
        }
    }
}

/// Something a role may or may not do. The one table of rights is
/// [`Permission::allows`]; the route × role test checks the routes against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Search and list customers, open a 360 (within scope, masked by role).
    ViewCustomers,
    /// See personal data unmasked on request (an audited action).
    Unmask,
    /// Acknowledge, act on and close alerts within scope.
    WorkAlerts,
    /// Assign alerts to another member of staff.
    AssignAlerts,
    /// The RM workbench: my customers, my alerts, my tasks.
    Workbench,
    /// Segments and their sizes.
    ViewSegments,
    /// Data quality and import history.
    ViewDataQuality,
    /// The audit log.
    ViewAudit,
    /// Users, roles, branches, RM assignment, API tokens.
    Administer,
    /// Export one customer's data (data-subject access request).
    ExportCustomer,
    /// Erase (anonymise) one customer's personal data.
    EraseCustomer,
    /// Feed transactions to the live early-warning path.
    FeedTransactions,
    /// Record what became of a recommended action (offered, accepted,
    /// declined); the suitability rule is checked again at offer and sale.
    RecordOutcomes,
    /// Open cases and complaints and work them through their states.
    WorkCases,
    /// Preview and launch campaigns.
    RunCampaigns,
    /// The KPI dashboard of the viewer's scope.
    ViewKpis,
    /// Record a consent a customer gives or refuses.
    RecordConsent,
}

impl Permission {
    pub fn allows(self, role: Role) -> bool {
        use Role::*;
        match self {
            Permission::ViewCustomers => true,
            Permission::Unmask => matches!(role, Rm | Manager | Agent | Risk),
            Permission::WorkAlerts => matches!(role, Rm | Manager | Agent | Risk),
            Permission::AssignAlerts => matches!(role, Manager | Risk),
            Permission::Workbench => matches!(role, Rm | Manager),
            Permission::ViewSegments => !matches!(role, Auditor),
            Permission::ViewDataQuality => matches!(role, Admin | Manager | Risk | Analyst),
            Permission::ViewAudit => matches!(role, Auditor),
            Permission::Administer => matches!(role, Admin),
            Permission::ExportCustomer => matches!(role, Admin | Manager),
            Permission::EraseCustomer => matches!(role, Admin),
            Permission::FeedTransactions => matches!(role, Admin),
            Permission::RecordOutcomes => matches!(role, Rm | Manager | Agent),
            Permission::WorkCases => matches!(role, Rm | Manager | Agent | Risk),
            Permission::RunCampaigns => matches!(role, Manager),
            Permission::ViewKpis => !matches!(role, Admin | Auditor),
            Permission::RecordConsent => matches!(role, Rm | Manager | Agent),
        }
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A browser session; carries the session's CSRF token.
    Session { csrf: String },
    /// An API bearer token (no CSRF: not sent by browsers on their own).
    Token,
}

/// The signed-in member of staff behind a request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: StaffUser,
    pub role: Role,
    pub credential: Credential,
    pub client: String,
}

impl Viewer {
    /// The customers this viewer may see, applied by the store in SQL.
    pub fn scope(&self) -> Scope {
        match self.role {
            Role::Rm => Scope::Rm(self.user.id),
            Role::Manager => match self.user.branch_id {
                Some(b) => Scope::Branch(b),
                None => Scope::All,
            },
            Role::Admin | Role::Agent | Role::Risk | Role::Analyst | Role::Auditor => Scope::All,
        }
    }

    pub fn can(&self, p: Permission) -> bool {
        p.allows(self.role)
    }

    /// Personal data is shown unmasked by default only to the people who own
    /// the relationship: an RM (their own customers) and a branch manager
    /// (their branch). Everyone else sees it masked until they unmask.
    pub fn sees_personal_data_by_default(&self) -> bool {
        match self.role {
            Role::Rm => true,
            Role::Manager => self.user.branch_id.is_some(),
            _ => false,
        }
    }

    pub fn csrf(&self) -> &str {
        match &self.credential {
            Credential::Session { csrf } => csrf,
            Credential::Token => "",
        }
    }
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Checks a password against a stored PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// A fresh random token (32 bytes, URL-safe base64 without padding).
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// A readable random password for generated accounts (16 characters).
pub fn new_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b.iter()
        .map(|x| ALPHABET[*x as usize % ALPHABET.len()] as char)
        .collect()
}

/// The SHA-256 of a token, hex: what the store keeps.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

/// The client's address as the server saw it (the socket peer).
pub fn client_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".into())
}

/// Resolves the caller from the bearer token or the session cookie.
async fn resolve(parts: &Parts, app: &AppState) -> Result<Option<Viewer>, anyhow::Error> {
    let client = client_of(parts);
    if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
        let Some(token) = auth.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) else {
            return Ok(None);
        };
        let user = app.token_user(&token_hash(token.trim())).await?;
        return Ok(user.and_then(|user| {
            Role::parse(&user.role).map(|role| Viewer {
                user,
                role,
                credential: Credential::Token,
                client,
            })
        }));
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
    Ok(Role::parse(&user.role).map(|role| Viewer {
        user,
        role,
        credential: Credential::Session { csrf },
        client,
    }))
}

/// A signed-in user on a page; anyone else is sent to the sign-in page.
pub struct PageUser(pub Viewer);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, PageError> {
        match resolve(parts, app).await {
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
