//! Who acts and what they may do: staff roles, the one table of rights
//! ([`Permission::allows`]), the row scope a role gets in the store, the
//! actor every use case takes (a member of staff or the system), and the
//! secrets behind sign-in (argon2 password hashes, random tokens kept only
//! as their SHA-256).
//!
//! Nothing here logs a password, a token or personal data.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use rand::RngCore as _;
use rapport_store::{Scope, StaffUser, Store};
use sha2::{Digest, Sha256};

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
    /// Build, preview, submit and launch campaigns. A campaign reaches
    /// customers of every branch, so only a head-office (bank-wide) manager
    /// runs one (`campaign::require_bank_wide`); a branch manager does not.
    RunCampaigns,
    /// Approve or return a campaign submitted for approval (maker-checker):
    /// a head-office manager who is not its maker.
    ApproveCampaigns,
    /// The KPI dashboard of the viewer's scope.
    ViewKpis,
    /// Record a consent a customer gives or refuses.
    RecordConsent,
    /// Activate or roll back a model version in the registry.
    ManageModels,
    /// Record a customer's risk-tolerance questionnaire (C1–C5).
    AssessRisk,
    /// Holiday demand with its forecast and need segments, and survey
    /// results (bank-wide aggregates, read-only).
    ViewEngagement,
    /// The model registry (metrics, drift, activations), band migration and
    /// the early-warning rules' performance.
    ViewModels,

    /// Approve an extension of a complaint's deadline that the SLA policy
    /// reserves to a senior (the regulator's second extension).
    ApproveCaseExtensions,
    /// Approve the closure of a high or critical complaint that another
    /// handler asked to close (never one's own request).
    ApproveCaseClosure,
    /// Share a saved view of a list with everyone who may open that list
    /// (`saved_views`): a manager or an administrator.
    ShareViews,
}

impl Permission {
    /// What the permission lets one do, in words (for refusals).
    pub fn describe(self) -> &'static str {
        match self {
            Permission::ViewCustomers => "view customers",
            Permission::Unmask => "unmask personal data",
            Permission::WorkAlerts => "work alerts",
            Permission::AssignAlerts => "assign alerts",
            Permission::Workbench => "use the RM workbench",
            Permission::ViewSegments => "view segments",
            Permission::ViewDataQuality => "view data quality",
            Permission::ViewAudit => "view the audit log",
            Permission::Administer => "administer users, tokens and settings",
            Permission::ExportCustomer => "export a customer's data",
            Permission::EraseCustomer => "erase a customer's data",
            Permission::FeedTransactions => "feed transactions to the live path",
            Permission::RecordOutcomes => "record recommendation outcomes",
            Permission::WorkCases => "work cases and complaints",
            Permission::RunCampaigns => "run campaigns",
            Permission::ApproveCampaigns => "approve campaigns",
            Permission::ViewKpis => "view KPIs",
            Permission::RecordConsent => "record consents",
            Permission::AssessRisk => "record risk-tolerance assessments",
            Permission::ManageModels => "activate or roll back models",
            Permission::ViewEngagement => "view holiday demand and survey results",
            Permission::ViewModels => "view the model registry and rule performance",
            Permission::ApproveCaseExtensions => {
                "approve a senior extension of a complaint's deadline"
            }
            Permission::ApproveCaseClosure => "approve the closure of a high or critical complaint",
            Permission::ShareViews => "share saved views of lists",
        }
    }

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
            Permission::ApproveCampaigns => matches!(role, Manager),
            Permission::ViewKpis => !matches!(role, Admin | Auditor),
            Permission::RecordConsent => matches!(role, Rm | Manager | Agent),
            Permission::ManageModels => matches!(role, Risk | Admin),
            Permission::AssessRisk => matches!(role, Rm | Manager),
            Permission::ViewEngagement => matches!(role, Manager | Analyst | Risk | Agent),
            // Whoever may activate or roll back a model sees what they approve.
            Permission::ViewModels => matches!(role, Risk | Analyst | Admin),

            Permission::ApproveCaseExtensions => matches!(role, Manager),
            Permission::ApproveCaseClosure => matches!(role, Manager),
            Permission::ShareViews => matches!(role, Manager | Admin),
        }
    }
}

/// A member of staff acting: from a browser session, an API token or the
/// command line (`--actor`). `client` says where from (an address, `cli`).
#[derive(Debug, Clone)]
pub struct Staff {
    pub user: StaffUser,
    pub role: Role,
    pub client: String,
}

impl Staff {
    /// The customers this member of staff may see, applied by the store in SQL.
    /// The one place the role → scope rule is written.
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

    /// Refused unless the role has `p` (the error names the permission).
    pub fn require(&self, p: Permission) -> Result<(), AccessError> {
        if self.can(p) {
            Ok(())
        } else {
            Err(AccessError::Forbidden {
                who: self.user.username.clone(),
                role: self.role,
                permission: p,
            })
        }
    }
}

/// Who acts in a use case: a member of staff, or the system (a job, named).
#[derive(Debug, Clone)]
pub enum Actor {
    Staff(Staff),
    System { job: String },
}

impl Actor {
    /// The system acting as the named job.
    pub fn system(job: &str) -> Actor {
        Actor::System {
            job: job.to_string(),
        }
    }

    /// The name kept in logs and records (`system` for a job).
    pub fn name(&self) -> &str {
        match self {
            Actor::Staff(s) => &s.user.username,
            Actor::System { .. } => "system",
        }
    }

    /// The staff user's id (None for the system).
    pub fn user_id(&self) -> Option<i64> {
        match self {
            Actor::Staff(s) => Some(s.user.id),
            Actor::System { .. } => None,
        }
    }

    /// The rows this actor may touch: a member of staff's scope; everything for the system.
    pub fn scope(&self) -> Scope {
        match self {
            Actor::Staff(s) => s.scope(),
            Actor::System { .. } => Scope::All,
        }
    }

    /// Refused unless a member of staff's role has `p`; the system may do anything.
    pub fn require(&self, p: Permission) -> Result<(), AccessError> {
        match self {
            Actor::Staff(s) => s.require(p),
            Actor::System { .. } => Ok(()),
        }
    }
}

/// Why an actor was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("this command changes data: name who acts with --actor USERNAME or RAPPORT_ACTOR (an active member of staff)")]
    NoActor,
    #[error("no active member of staff is called {0:?} (create one with `rapport user add`, or name an active one with --actor or RAPPORT_ACTOR)")]
    UnknownActor(String),
    #[error("{0:?} is disabled and cannot act")]
    DisabledActor(String),
    #[error("{0:?} has the unknown role {1:?}")]
    UnknownRole(String, String),
    #[error("{who} ({role}) may not {permission}", role = role.as_str(), permission = permission.describe())]
    Forbidden {
        who: String,
        role: Role,
        permission: Permission,
    },
    #[error(transparent)]
    Store(#[from] rapport_store::StoreError),
}

/// A member of staff named on the command line (`--actor` or `RAPPORT_ACTOR`):
/// must exist and be active; an unknown or disabled name is refused.
pub async fn staff_by_username(
    store: &Store,
    username: &str,
    client: &str,
) -> Result<Staff, AccessError> {
    let username = username.trim();
    let user = store
        .staff_user_by_name(username)
        .await?
        .ok_or_else(|| AccessError::UnknownActor(username.to_string()))?;
    if !user.active {
        return Err(AccessError::DisabledActor(user.username));
    }
    let role = Role::parse(&user.role)
        .ok_or_else(|| AccessError::UnknownRole(user.username.clone(), user.role.clone()))?;
    Ok(Staff {
        user,
        role,
        client: client.to_string(),
    })
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

/// Whether `phc` is a password hash [`verify_password`] can check (a PHC string).
pub fn is_password_hash(phc: &str) -> bool {
    PasswordHash::new(phc).is_ok()
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

/// The demo's sign-in accounts: one generated member of staff per role gets
/// a fresh random password. Returns (role, username, password) for printing.
pub async fn demo_accounts(store: &Store) -> anyhow::Result<Vec<(String, String, String)>> {
    let users = store.staff_users().await?;
    let mut out = Vec::new();
    for role in Role::ALL {
        // Prefer a branch member for the branch roles, so their scope is not empty.
        let pick = users
            .iter()
            .filter(|u| u.role == role.as_str() && u.active && !u.is_service())
            .min_by_key(|u| {
                (
                    matches!(role, Role::Manager | Role::Rm) && u.branch_id.is_none(),
                    u.username.clone(),
                )
            });
        let Some(u) = pick else {
            continue;
        };
        let password = new_password();
        store
            .set_password_hash(u.id, &hash_password(&password)?)
            .await?;
        out.push((role.as_str().to_string(), u.username.clone(), password));
    }
    // The campaign manager: campaigns are bank-wide, so a head-office
    // manager (no branch), printed as `campaign`; a second one, printed as
    // `approver`, is the checker of the maker-checker.
    let mut head_office: Vec<&StaffUser> = users
        .iter()
        .filter(|u| {
            u.role == Role::Manager.as_str() && u.branch_id.is_none() && u.active && !u.is_service()
        })
        .collect();
    head_office.sort_by(|a, b| a.username.cmp(&b.username));
    for (label, u) in ["campaign", "approver"].into_iter().zip(head_office) {
        let password = new_password();
        store
            .set_password_hash(u.id, &hash_password(&password)?)
            .await?;
        out.push((label.to_string(), u.username.clone(), password));
    }
    if out.len() < Role::ALL.len() + 2 {
        tracing::warn!(
            accounts = out.len(),
            "the demo bank lacks a member of staff for some roles"
        );
    }
    Ok(out)
}
