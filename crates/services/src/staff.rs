//! Staff and credentials: creating and changing members of staff, their
//! passwords, API tokens, and assigning a customer to an RM. One use case
//! each for the admin page and `rapport user|token`; each needs
//! [`Permission::Administer`] (the system acting at the console may do them:
//! it is how the first administrator is created) and is audited.
//!
//! Never logs or audits a password or a token.

use crate::access::{hash_password, new_password, new_token, token_hash, Actor, Permission, Role};
use crate::audit::entry_for;
use crate::error::{ServiceError, ServiceResult};
use chrono::Utc;
use rapport_store::{Scope, StaffUser, Store};
use serde_json::json;

fn role_of(role: &str) -> ServiceResult<Role> {
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

/// Creates a member of staff as `actor`: a one-word user name, a known role,
/// a branch for an RM; `password` or a generated one.
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
    let generated = password.is_none();
    let password = password.unwrap_or_else(new_password);
    let hash = hash_password(&password)?;
    let display = display_name.unwrap_or(username);
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

/// Sets a member of staff's password (`password` or a generated one, returned).
pub async fn set_password(
    store: &Store,
    actor: &Actor,
    via: &str,
    username: &str,
    password: Option<String>,
) -> ServiceResult<Option<String>> {
    actor.require(Permission::Administer)?;
    let u = user_named(store, username).await?;
    let generated = password.is_none();
    let password = password.unwrap_or_else(new_password);
    store
        .set_password_hash(u.id, &hash_password(&password)?)
        .await?;
    audit(
        store,
        actor,
        "user.password",
        "staff_user",
        Some(u.id.to_string()),
        None,
        json!({ "via": via }),
    )
    .await?;
    Ok(generated.then_some(password))
}

/// A new API token: its id, and the token itself (shown once).
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub token: String,
}

/// Creates an API token for member of staff `username` (the store keeps only its hash).
pub async fn create_token(
    store: &Store,
    actor: &Actor,
    via: &str,
    username: &str,
    name: &str,
) -> ServiceResult<CreatedToken> {
    actor.require(Permission::Administer)?;
    let u = user_named(store, username).await?;
    let name = match name.trim() {
        "" => "api".to_string(),
        n => n.to_string(),
    };
    let token = new_token();
    let id = store
        .create_api_token(u.id, &name, &token_hash(&token), Utc::now())
        .await?;
    audit(
        store,
        actor,
        "token.create",
        "api_token",
        Some(id.to_string()),
        None,
        json!({ "via": via, "user_id": u.id, "name": name }),
    )
    .await?;
    Ok(CreatedToken {
        id,
        user_id: u.id,
        name,
        token,
    })
}

/// Revokes API token `id`.
pub async fn revoke_token(store: &Store, actor: &Actor, via: &str, id: i64) -> ServiceResult<()> {
    actor.require(Permission::Administer)?;
    store.revoke_api_token(id, Utc::now()).await?;
    audit(
        store,
        actor,
        "token.revoke",
        "api_token",
        Some(id.to_string()),
        None,
        json!({ "via": via }),
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
