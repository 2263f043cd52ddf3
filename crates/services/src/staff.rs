//! Staff and credentials: creating and changing members of staff and
//! service accounts, their passwords, API tokens, and assigning a customer to
//! an RM. One use case each for the admin page and `rapport user|token`;
//! each needs [`Permission::Administer`] (the system acting at the console
//! may do them: it is how the first administrator is created) and is audited.
//!
//! **Nobody mints a credential for another person.** A member of staff
//! creates API tokens only for themself; tokens for machines belong to
//! service accounts (`kind = 'service'`: a role of their own, no password,
//! no web sign-in), which an administrator (or the system at the console)
//! creates and holds tokens for. Every token records who created it.
//! Password resets are `password::reset` (a forced change at next sign-in).
//!
//! Never logs or audits a password or a token.

use crate::access::{hash_password, new_password, new_token, token_hash, Actor, Permission, Role};
use crate::audit::entry_for;
use crate::error::{ServiceError, ServiceResult};
use crate::password;
use chrono::Utc;
use rapport_store::{Scope, StaffListRow, StaffQuery, StaffUser, Store};
use serde_json::json;

/// Every permission: the rows of the rights table ([`Permission::allows`]).
pub const ALL_PERMISSIONS: [Permission; 25] = [
    Permission::ViewCustomers,
    Permission::Unmask,
    Permission::WorkAlerts,
    Permission::AssignAlerts,
    Permission::Workbench,
    Permission::ViewSegments,
    Permission::ViewDataQuality,
    Permission::ViewAudit,
    Permission::Administer,
    Permission::ExportCustomer,
    Permission::EraseCustomer,
    Permission::FeedTransactions,
    Permission::RecordOutcomes,
    Permission::WorkCases,
    Permission::RunCampaigns,
    Permission::ViewKpis,
    Permission::RecordConsent,
    Permission::ManageModels,
    Permission::AssessRisk,
    Permission::ApproveCaseExtensions,
    Permission::ApproveCaseClosure,
    Permission::ViewEngagement,
    Permission::ViewModels,
    Permission::ApproveCampaigns,
    Permission::ShareViews,
];

/// The position of `p` in [`ALL_PERMISSIONS`]: a match without a wildcard,
/// so a new permission does not compile until it is listed there too.
pub fn permission_index(p: Permission) -> usize {
    match p {
        Permission::ViewCustomers => 0,
        Permission::Unmask => 1,
        Permission::WorkAlerts => 2,
        Permission::AssignAlerts => 3,
        Permission::Workbench => 4,
        Permission::ViewSegments => 5,
        Permission::ViewDataQuality => 6,
        Permission::ViewAudit => 7,
        Permission::Administer => 8,
        Permission::ExportCustomer => 9,
        Permission::EraseCustomer => 10,
        Permission::FeedTransactions => 11,
        Permission::RecordOutcomes => 12,
        Permission::WorkCases => 13,
        Permission::RunCampaigns => 14,
        Permission::ViewKpis => 15,
        Permission::RecordConsent => 16,
        Permission::ManageModels => 17,
        Permission::AssessRisk => 18,
        Permission::ApproveCaseExtensions => 19,
        Permission::ApproveCaseClosure => 20,
        Permission::ViewEngagement => 21,
        Permission::ViewModels => 22,
        Permission::ApproveCampaigns => 23,
        Permission::ShareViews => 24,
    }
}

/// The role a new member of staff gets unless another is chosen: the one
/// with the fewest rights in the rights table (read from
/// [`Permission::allows`], not written down twice; today the auditor:
/// customers masked and the audit log, nothing else).
pub fn least_privileged_role() -> Role {
    Role::ALL
        .into_iter()
        .min_by_key(|r| ALL_PERMISSIONS.iter().filter(|p| p.allows(*r)).count())
        .unwrap_or(Role::Auditor)
}

/// A page of members of staff (search by user name or name, a role, a
/// sort), with each one's last sign-in and failed sign-ins since; needs
/// [`Permission::Administer`].
pub async fn list_users(
    store: &Store,
    actor: &Actor,
    q: &StaffQuery,
) -> ServiceResult<(Vec<StaffListRow>, i64)> {
    actor.require(Permission::Administer)?;
    let since = Utc::now() - chrono::Duration::hours(crate::signin::PAIR_WINDOW_HOURS);
    let q = StaffQuery {
        failures_since: Some(q.failures_since.unwrap_or(since)),
        ..q.clone()
    };
    Ok(store.staff_page(&q).await?)
}

fn role_of(role: &str) -> ServiceResult<Role> {
    let role = role.trim();
    if role.is_empty() {
        return Ok(least_privileged_role());
    }
    Role::parse(role).ok_or_else(|| {
        ServiceError::invalid(
            "role",
            format!(
                "unknown role {role:?}: one of admin, manager, rm, agent, risk, analyst, auditor"
            ),
        )
    })
}

async fn audit(
    store: &Store,
    actor: &Actor,
    action: &str,
    entity: &str,
    id: Option<String>,
    customer_id: Option<i64>,
    detail: serde_json::Value,
) -> ServiceResult<()> {
    store
        .append_audit(&[entry_for(actor, action, entity, id, customer_id, detail)])
        .await?;
    Ok(())
}

async fn user_named(store: &Store, username: &str) -> ServiceResult<StaffUser> {
    store
        .staff_user_by_name(username.trim())
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("user {}", username.trim())))
}

/// A member of staff created, with the password when one was generated.
#[derive(Debug, Clone)]
pub struct CreatedUser {
    pub id: i64,
    pub role: Role,
    /// Shown once to whoever created the user; `None` when they chose it.
    pub generated_password: Option<String>,
}

/// Creates a member of staff as `actor`: a one-word user name, a known role
/// (an empty role is [`least_privileged_role`]), a branch for an RM;
/// `password` or a generated one.
#[allow(clippy::too_many_arguments)]
pub async fn create_user(
    store: &Store,
    actor: &Actor,
    via: &str,
    username: &str,
    display_name: Option<&str>,
    role: &str,
    branch: Option<&str>,
    password: Option<String>,
) -> ServiceResult<CreatedUser> {
    actor.require(Permission::Administer)?;
    let (username, role) = check_new_user(username, role, branch)?;
    let display = display_name.unwrap_or(username);
    if let Some(p) = &password {
        password::check_policy(p, username, display)?;
    }
    let generated = password.is_none();
    let password = password.unwrap_or_else(new_password);
    let hash = hash_password(&password)?;
    let id = store
        .create_staff_user(username, display, role.as_str(), branch, &hash)
        .await?;
    audit(
        store,
        actor,
        "user.create",
        "staff_user",
        Some(id.to_string()),
        None,
        json!({ "via": via, "role": role.as_str(), "branch": branch }),
    )
    .await?;
    Ok(CreatedUser {
        id,
        role,
        generated_password: generated.then_some(password),
    })
}

/// A new user's name (one word) and role; an RM needs a branch.
fn check_new_user<'a>(
    username: &'a str,
    role: &str,
    branch: Option<&str>,
) -> ServiceResult<(&'a str, Role)> {
    let role = role_of(role)?;
    let username = username.trim();
    if username.is_empty() || username.chars().any(char::is_whitespace) {
        return Err(ServiceError::invalid(
            "username",
            "a user name is one word without spaces",
        ));
    }
    if role == Role::Rm && branch.is_none() {
        return Err(ServiceError::invalid("branch", "an RM belongs to a branch"));
    }
    Ok((username, role))
}

/// Creates a service account as `actor` (an administrator, or the system at
/// the console): a machine identity with its own role and no password, which
/// cannot sign in to the web and holds the API tokens an administrator creates.
pub async fn create_service_account(
    store: &Store,
    actor: &Actor,
    via: &str,
    username: &str,
    display_name: Option<&str>,
    role: &str,
    branch: Option<&str>,
) -> ServiceResult<i64> {
    actor.require(Permission::Administer)?;
    let (username, role) = check_new_user(username, role, branch)?;
    let display = display_name.unwrap_or(username);
    let id = store
        .create_service_account(username, display, role.as_str(), branch)
        .await?;
    audit(
        store,
        actor,
        "user.create",
        "staff_user",
        Some(id.to_string()),
        None,
        json!({ "via": via, "role": role.as_str(), "branch": branch, "kind": "service" }),
    )
    .await?;
    Ok(id)
}

/// Changes a member of staff's role, branch and whether they are active.
/// Nobody disables themselves or drops their own admin role.
pub async fn update_user(
    store: &Store,
    actor: &Actor,
    via: &str,
    id: i64,
    role: &str,
    branch: Option<&str>,
    active: bool,
) -> ServiceResult<()> {
    actor.require(Permission::Administer)?;
    if role.trim().is_empty() {
        return Err(ServiceError::invalid("role", "choose a role"));
    }
    let role = role_of(role)?;
    let branch_id = match branch {
        Some(code) => Some(store.branch_id_by_code(code).await?),
        None => None,
    };
    if role == Role::Rm && branch_id.is_none() {
        return Err(ServiceError::invalid("branch", "an RM belongs to a branch"));
    }
    if actor.user_id() == Some(id) && (!active || role != Role::Admin) {
        return Err(ServiceError::invalid(
            "active",
            "you cannot disable yourself or drop your own admin role",
        ));
    }
    store.set_user_role(id, role.as_str(), branch_id).await?;
    store.set_user_active(id, active, Utc::now()).await?;
    audit(
        store,
        actor,
        "user.update",
        "staff_user",
        Some(id.to_string()),
        None,
        json!({ "via": via, "role": role.as_str(), "branch_id": branch_id, "active": active }),
    )
    .await
}

/// Enables or disables a member of staff by user name (disabling ends their
/// sessions and tokens).
pub async fn set_active(
    store: &Store,
    actor: &Actor,
    via: &str,
    username: &str,
    active: bool,
) -> ServiceResult<()> {
    actor.require(Permission::Administer)?;
    let u = user_named(store, username).await?;
    if actor.user_id() == Some(u.id) && !active {
        return Err(ServiceError::invalid(
            "active",
            "you cannot disable yourself",
        ));
    }
    store.set_user_active(u.id, active, Utc::now()).await?;
    let action = if active {
        "user.enable"
    } else {
        "user.disable"
    };
    audit(
        store,
        actor,
        action,
        "staff_user",
        Some(u.id.to_string()),
        None,
        json!({ "via": via }),
    )
    .await
}

/// An administrator sets a member of staff's password: `password` (which
/// must pass the policy) or a generated one (returned). Someone else's
/// password is a reset: they must change it at their next sign-in.
pub async fn set_password(
    store: &Store,
    actor: &Actor,
    via: &str,
    username: &str,
    password: Option<String>,
) -> ServiceResult<Option<String>> {
    actor.require(Permission::Administer)?;
    let u = user_named(store, username).await?;
    password::reset(store, actor, via, &u, password).await
}

/// The same, for the user with id `id` (the admin page).
pub async fn reset_password(
    store: &Store,
    actor: &Actor,
    via: &str,
    id: i64,
    password: Option<String>,
) -> ServiceResult<Option<String>> {
    actor.require(Permission::Administer)?;
    let u = store.staff_user(id).await?;
    password::reset(store, actor, via, &u, password).await
}

/// A new API token: its id, and the token itself (shown once).
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub token: String,
}

/// Whose tokens `actor` may create and revoke: their own, and — for an
/// administrator or the system at the console — a service account's. Never
/// another person's: a token acts with its holder's rights and name.
fn may_hold_tokens_of(actor: &Actor, holder: &StaffUser) -> ServiceResult<()> {
    if actor.user_id() == Some(holder.id) && !holder.is_service() {
        return Ok(());
    }
    if holder.is_service() {
        return Ok(actor.require(Permission::Administer)?);
    }
    Err(ServiceError::Refused(format!(
        "{} may not create or revoke API tokens for {}: a person's tokens are theirs alone; a machine gets a service account (`rapport user add NAME --role ROLE --service`) / \
         不能为他人创建或吊销 API 令牌：个人令牌只能由本人创建；系统对接请使用服务账号",
        actor.name(),
        holder.username
    )))
}

/// Creates an API token held by `username` — the actor themself, or a
/// service account when the actor administers — recording who created it
/// (the store keeps only its hash).
pub async fn create_token(
    store: &Store,
    actor: &Actor,
    via: &str,
    username: &str,
    name: &str,
) -> ServiceResult<CreatedToken> {
    let u = user_named(store, username).await?;
    may_hold_tokens_of(actor, &u)?;
    if !u.active {
        return Err(ServiceError::invalid(
            "user",
            format!("{} is disabled", u.username),
        ));
    }
    let name = match name.trim() {
        "" => "api".to_string(),
        n => n.to_string(),
    };
    let token = new_token();
    let created_by = actor.user_id();
    let id = store
        .create_api_token(u.id, &name, &token_hash(&token), Utc::now(), created_by)
        .await?;
    audit(
        store,
        actor,
        "token.create",
        "api_token",
        Some(id.to_string()),
        None,
        json!({ "via": via, "user_id": u.id, "user": u.username, "service": u.is_service(),
                "created_by": created_by, "name": name }),
    )
    .await?;
    Ok(CreatedToken {
        id,
        user_id: u.id,
        name,
        token,
    })
}

/// Revokes API token `id`: the holder's own, or any token for an
/// administrator (revoking takes a power away, it never lends one).
pub async fn revoke_token(store: &Store, actor: &Actor, via: &str, id: i64) -> ServiceResult<()> {
    let t = store
        .api_token(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("API token {id}")))?;
    if actor.user_id() != Some(t.staff_user_id) {
        actor.require(Permission::Administer)?;
    }
    store.revoke_api_token(id, Utc::now()).await?;
    audit(
        store,
        actor,
        "token.revoke",
        "api_token",
        Some(id.to_string()),
        None,
        json!({ "via": via, "user_id": t.staff_user_id, "created_by": t.created_by }),
    )
    .await
}

/// Assigns customer `customer_key` to RM `rm` (an active RM of the
/// customer's branch); returns the customer's id.
pub async fn assign_rm(
    store: &Store,
    actor: &Actor,
    via: &str,
    customer_key: &str,
    rm: &str,
) -> ServiceResult<i64> {
    actor.require(Permission::Administer)?;
    let customer = store
        .customer_id_by_key(&Scope::All, customer_key.trim())
        .await?;
    let rm_user = store
        .staff_user_by_name(rm.trim())
        .await?
        .filter(|u| u.role == "rm" && u.active)
        .ok_or_else(|| ServiceError::invalid("rm", format!("{} is not an active RM", rm.trim())))?;
    let c = store.customer_360(&Scope::All, customer).await?;
    if c.profile.branch_code.is_some() && rm_user.branch_code != c.profile.branch_code {
        return Err(ServiceError::invalid(
            "rm",
            "the RM must belong to the customer's branch",
        ));
    }
    store.assign_rm(customer, rm_user.id, Utc::now()).await?;
    audit(
        store,
        actor,
        "customer.assign_rm",
        "customer",
        Some(c.profile.key.clone()),
        Some(customer),
        json!({ "via": via, "rm_id": rm_user.id }),
    )
    .await?;
    Ok(customer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_is_listed_once_and_the_default_role_has_the_fewest() {
        for (i, p) in ALL_PERMISSIONS.iter().enumerate() {
            assert_eq!(permission_index(*p), i);
        }
        let count = |r: Role| ALL_PERMISSIONS.iter().filter(|p| p.allows(r)).count();
        let least = least_privileged_role();
        assert_ne!(least, Role::Admin);
        for r in Role::ALL {
            assert!(count(least) <= count(r), "{} has fewer rights", r.as_str());
        }
        assert_eq!(role_of("").ok(), Some(least));
        assert_eq!(role_of("rm").ok(), Some(Role::Rm));
    }
}
