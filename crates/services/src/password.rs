//! The password policy and the password changes that follow it: a member of
//! staff changing their own password (any time, and necessarily after an
//! administrator's reset), and an administrator's reset, which sets a
//! temporary password and forces a change at the next sign-in.
//!
//! The policy, one function for every path (web, CLI, user creation):
//! at least [`MIN_LENGTH`] characters, not containing the user name, and
//! scored at least [`MIN_SCORE`] ("safely unguessable", of 0–4) by the `zxcvbn`
//! strength estimator, which knows common passwords, dictionary words,
//! keyboard patterns, repeats and sequences, and is told the user's name.
//!
//! Never logs or audits a password.

use crate::access::{hash_password, new_password, verify_password, Actor, Staff};
use crate::audit::entry_for;
use crate::error::{ServiceError, ServiceResult};
use rapport_store::{StaffUser, Store};
use serde_json::json;

/// The fewest characters a password may have.
pub const MIN_LENGTH: usize = 12;
/// The lowest `zxcvbn` score accepted (0–4; 3 = "safely unguessable",
/// about 10^8 guesses or more).
pub const MIN_SCORE: u8 = 3;

fn refused(en: &str, zh: &str) -> ServiceError {
    ServiceError::invalid("password", format!("{en} / {zh}"))
}

/// Checks a new password for `username` (and their display name) against the
/// policy; the error names the field and says why, in English and Chinese.
pub fn check_policy(password: &str, username: &str, display_name: &str) -> ServiceResult<()> {
    if password.chars().count() < MIN_LENGTH {
        return Err(refused(
            &format!("a password has at least {MIN_LENGTH} characters"),
            &format!("密码至少 {MIN_LENGTH} 个字符"),
        ));
    }
    if password.trim().is_empty() {
        return Err(refused(
            "a password cannot be only spaces",
            "密码不能只有空格",
        ));
    }
    let lower = password.to_lowercase();
    let name = username.trim().to_lowercase();
    if !name.is_empty() && lower.contains(&name) {
        return Err(refused(
            "a password may not contain the user name",
            "密码不能包含用户名",
        ));
    }
    let inputs = [username, display_name];
    let score = u8::from(zxcvbn::zxcvbn(password, &inputs).score());
    if score < MIN_SCORE {
        return Err(refused(
            "this password is too easy to guess (a common word, name, repeat, sequence or keyboard pattern): use a longer phrase of unrelated words",
            "密码太容易被猜到（常见词、姓名、重复、顺序或键盘排列）：请使用由不相关词语组成的更长短语",
        ));
    }
    Ok(())
}

/// A member of staff changes their own password: the current one must match,
/// the new one must pass the policy and differ from it. Clears a forced
/// change, ends the user's other sessions (`keep_session`: the current
/// session's token hash) and is audited.
pub async fn change_own(
    store: &Store,
    staff: &Staff,
    via: &str,
    current: &str,
    new: &str,
    keep_session: Option<&str>,
) -> ServiceResult<()> {
    // Read afresh: the actor may carry a hash from before a concurrent change.
    let user = store.staff_user(staff.user.id).await?;
    if user.is_service() {
        return Err(ServiceError::invalid(
            "user",
            "a service account has no password",
        ));
    }
    let current_ok = user
        .password_hash
        .as_deref()
        .is_some_and(|h| verify_password(current, h));
    if !current_ok {
        return Err(refused(
            "the current password is not right",
            "当前密码不正确",
        ));
    }
    if current == new {
        return Err(refused(
            "the new password must differ from the current one",
            "新密码不能与当前密码相同",
        ));
    }
    check_policy(new, &user.username, &user.display_name)?;
    store
        .set_password(user.id, &hash_password(new)?, false)
        .await?;
    store.delete_sessions_of(user.id, keep_session).await?;
    let actor = Actor::Staff(staff.clone());
    store
        .append_audit(&[entry_for(
            &actor,
            "user.password_change",
            "staff_user",
            Some(user.id.to_string()),
            None,
            json!({ "via": via, "forced": user.must_change_password }),
        )])
        .await?;
    Ok(())
}

/// An administrator's reset of `user`'s password: the temporary `password`
/// (checked against the policy) or a generated one (returned, to be handed
/// over once); the user must change it at their next sign-in, and their
/// sessions end. Service accounts have no password.
pub async fn reset(
    store: &Store,
    actor: &Actor,
    via: &str,
    user: &StaffUser,
    password: Option<String>,
) -> ServiceResult<Option<String>> {
    actor.require(crate::access::Permission::Administer)?;
    if user.is_service() {
        return Err(ServiceError::invalid(
            "user",
            format!(
                "{} is a service account: it has no password (create API tokens for it)",
                user.username
            ),
        ));
    }
    let generated = password.is_none();
    let password = match password {
        Some(p) => {
            check_policy(&p, &user.username, &user.display_name)?;
            p
        }
        None => new_password(),
    };
    // Resetting one's own password is a change like any other: not forced.
    let forced = actor.user_id() != Some(user.id);
    store
        .set_password(user.id, &hash_password(&password)?, forced)
        .await?;
    // A reset by someone else assumes the account may be in the wrong
    // hands: its sessions end and its API tokens are revoked.
    let mut tokens_revoked = 0;
    if forced {
        store.delete_sessions_of(user.id, None).await?;
        tokens_revoked = store
            .revoke_api_tokens_of(user.id, chrono::Utc::now())
            .await?;
    }
    store
        .append_audit(&[entry_for(
            actor,
            "user.password",
            "staff_user",
            Some(user.id.to_string()),
            None,
            json!({ "via": via, "must_change": forced, "generated": generated, "tokens_revoked": tokens_revoked }),
        )])
        .await?;
    Ok(generated.then_some(password))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_for(p: &str, user: &str) -> bool {
        check_policy(p, user, user).is_err()
    }

    #[test]
    fn trivial_and_common_passwords_are_refused() {
        for p in [
            "password1234",
            "            ",
            "aaaaaaaaaaaa",
            "123456789012",
            "qwertyuiopas",
            "abcdefghijkl",
            "Password1234!",
            "short",
        ] {
            assert!(refused_for(p, "rm_b01_01"), "{p:?} was accepted");
        }
    }

    #[test]
    fn a_password_containing_the_user_name_is_refused() {
        assert!(refused_for("Zq8!risk01-Tv3#pLm", "risk01"));
        assert!(refused_for("Zq8!RISK01-Tv3#pLm", "risk01"));
        assert!(check_policy("Zq8!-Tv3#pLm-w7Kd", "risk01", "Risk").is_ok());
    }

    #[test]
    fn generated_and_long_unrelated_passwords_pass() {
        for _ in 0..50 {
            let p = new_password();
            assert!(check_policy(&p, "admin01", "admin01").is_ok(), "{p}");
        }
        assert!(check_policy("violet tractor mirror sandal", "agent01", "Agent").is_ok());
    }

    #[test]
    fn the_error_names_the_field_in_both_languages() {
        let s = check_policy("aaaaaaaaaaaa", "x1", "x1")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(s.starts_with("password: "), "{s}");
        assert!(s.contains(" / "), "{s}");
    }
}
