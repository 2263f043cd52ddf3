//! What a member of staff may see of a customer's personal data, decided
//! once for every adapter: the masking policy (per role and per field, from
//! `[masking]` in the configuration), the masked forms themselves, and what
//! a search may match so that it cannot be used to learn a masked value one
//! character at a time.
//!
//! Visibility of a field for a role is one of:
//! - `shown`: in full, for every customer the role may read;
//! - `own`: in full for the customers the viewer owns (an RM's own book, a
//!   branch manager's branch) and masked for a viewer whose scope is the
//!   whole bank;
//! - `masked` (the default for a role not named): masked until unmasked,
//!   an audited action that needs [`crate::access::Permission::Unmask`] and
//!   a reason.
//!
//! Search follows the same policy: a part of a field (a phone prefix, a
//! piece of an e-mail or an ID number, a part of a name) matches only for a
//! role that sees that field; every other role finds a customer only by the
//! whole value, and such identifier searches are audited with the customers
//! found and limited per hour ([`SearchLimiter`]).
//!
//! Erasing a customer's personal data takes two administrators
//! ([`request_erasure`], then [`approve_erasure`] by another one): the
//! requester cannot approve, and every step is audited.

use crate::access::{Actor, Permission, Role, Staff};
use crate::audit::entry_for;
use crate::config::MaskingConfig;
use crate::error::{ServiceError, ServiceResult};
use anyhow::{bail, Result};
use chrono::Utc;
use rapport_store::Store;
use rapport_store::{CustomerListRow, CustomerProfile, Scope, SearchMatch};
use serde_json::json;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Columns of free text about a customer (hidden from a viewer who does
/// not see the customer's name).
pub const FREE_TEXT: [&str; 7] = [
    "note",
    "description",
    "answer_text",
    "counterparty",
    "subject",
    "resolution",
    "script",
];

/// A field of personal data the policy decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Name,
    IdNumber,
    Phone,
    Email,
    BirthDate,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::Name,
        Field::IdNumber,
        Field::Phone,
        Field::Email,
        Field::BirthDate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::IdNumber => "id_number",
            Field::Phone => "phone",
            Field::Email => "email",
            Field::BirthDate => "birth_date",
        }
    }

    pub fn parse(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// How a field is shown to a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Shown,
    Own,
    Masked,
}

impl Visibility {
    pub fn parse(s: &str) -> Option<Visibility> {
        Some(match s {
            "shown" => Visibility::Shown,
            "own" => Visibility::Own,
            "masked" => Visibility::Masked,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Shown => "shown",
            Visibility::Own => "own",
            Visibility::Masked => "masked",
        }
    }
}

/// The masking policy, checked at start-up.
#[derive(Debug, Clone)]
pub struct MaskingPolicy {
    rules: HashMap<(Role, Field), Visibility>,
    /// Characters an unmask reason needs at least.
    pub reason_min_chars: usize,
    /// Whole-value identifier searches one member of staff may make per hour
    /// on fields their role does not see.
    pub identifier_searches_per_hour: u32,
}

impl MaskingPolicy {
    /// The policy `[masking]` describes; an error names the key.
    pub fn from_config(c: &MaskingConfig) -> Result<MaskingPolicy> {
        let mut rules = HashMap::new();
        for (field, roles) in &c.fields {
            let Some(f) = Field::parse(field) else {
                bail!(
                    "masking.fields.{field}: not a field ({})",
                    Field::ALL.map(|f| f.as_str()).join(", ")
                );
            };
            for (role, vis) in roles {
                let Some(r) = Role::parse(role) else {
                    bail!(
                        "masking.fields.{field}.{role}: not a role ({})",
                        Role::ALL.map(|r| r.as_str()).join(", ")
                    );
                };
                let Some(v) = Visibility::parse(vis) else {
                    bail!("masking.fields.{field}.{role}: {vis:?} must be shown, own or masked");
                };
                rules.insert((r, f), v);
            }
        }
        if c.unmask_reason_min_chars == 0 || c.unmask_reason_min_chars > 200 {
            bail!(
                "masking.unmask_reason_min_chars must be between 1 and 200 (got {})",
                c.unmask_reason_min_chars
            );
        }
        if c.identifier_searches_per_hour == 0 {
            bail!("masking.identifier_searches_per_hour must be at least 1");
        }
        Ok(MaskingPolicy {
            rules,
            reason_min_chars: c.unmask_reason_min_chars,
            identifier_searches_per_hour: c.identifier_searches_per_hour,
        })
    }

    /// How `field` is shown to `role` (masked when the policy does not say).
    pub fn visibility(&self, role: Role, field: Field) -> Visibility {
        self.rules
            .get(&(role, field))
            .copied()
            .unwrap_or(Visibility::Masked)
    }

    /// Whether `staff` sees `field` in full for every customer they may read.
    /// `own` applies when their scope is their own book or branch.
    pub fn shows(&self, staff: &Staff, field: Field) -> bool {
        match self.visibility(staff.role, field) {
            Visibility::Shown => true,
            Visibility::Masked => false,
            Visibility::Own => !matches!(staff.scope(), Scope::All),
        }
    }

    /// What a search by `staff` may match in part (the rest only whole).
    pub fn search_match(&self, staff: &Staff) -> SearchMatch {
        SearchMatch {
            name_part: self.shows(staff, Field::Name),
            phone_part: self.shows(staff, Field::Phone),
            email_part: self.shows(staff, Field::Email),
            id_number_part: self.shows(staff, Field::IdNumber),
        }
    }

    /// Whether every field is shown to `staff` (nothing to unmask).
    pub fn shows_everything(&self, staff: &Staff) -> bool {
        Field::ALL.iter().all(|f| self.shows(staff, *f))
    }

    /// Masks the fields of a profile that `staff` does not see; `unmasked`
    /// shows everything (an audited unmask). The birth date, when masked,
    /// is removed from the profile and its year kept in the returned view.
    pub fn apply_profile(&self, staff: &Staff, p: &mut CustomerProfile, unmasked: bool) -> Shown {
        let show = |f: Field| unmasked || self.shows(staff, f);
        let mut masked = Vec::new();
        let mut apply = |f: Field, v: &mut Option<String>, m: fn(&str) -> String| {
            if !show(f) {
                if let Some(x) = v.as_mut() {
                    *x = m(x);
                    masked.push(f);
                }
            }
        };
        apply(Field::Name, &mut p.name, mask_name);
        apply(Field::IdNumber, &mut p.id_number, mask_id_number);
        apply(Field::Phone, &mut p.phone, mask_phone);
        apply(Field::Email, &mut p.email, mask_email);
        let birth_date = p.birth_date.map(|d| {
            let s = d.to_string();
            if show(Field::BirthDate) {
                s
            } else {
                masked.push(Field::BirthDate);
                mask_birth_date(&s)
            }
        });
        if !show(Field::BirthDate) {
            p.birth_date = None;
        }
        Shown { birth_date, masked }
    }

    /// Masks the fields of a list row that `staff` does not see.
    pub fn apply_row(&self, staff: &Staff, r: &mut CustomerListRow) {
        let mask = |f: Field, v: &mut Option<String>, m: fn(&str) -> String| {
            if !self.shows(staff, f) {
                if let Some(x) = v.as_mut() {
                    *x = m(x);
                }
            }
        };
        mask(Field::Name, &mut r.name, mask_name);
        mask(Field::Phone, &mut r.phone, mask_phone);
        mask(Field::IdNumber, &mut r.id_number, mask_id_number);
    }

    /// The policy as a table, field → role → visibility (for the docs and
    /// the admin's view).
    pub fn table(&self) -> BTreeMap<&'static str, BTreeMap<&'static str, &'static str>> {
        Field::ALL
            .iter()
            .map(|f| {
                (
                    f.as_str(),
                    Role::ALL
                        .iter()
                        .map(|r| (r.as_str(), self.visibility(*r, *f).as_str()))
                        .collect(),
                )
            })
            .collect()
    }
}

/// What the masking left of a profile for display.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    /// The birth date as shown (`1990-**-**` when masked).
    pub birth_date: Option<String>,
    /// The fields shown masked (present and hidden).
    pub masked: Vec<Field>,
}

/// Whole-value identifier searches per member of staff in the last hour.
#[derive(Debug, Default)]
pub struct SearchLimiter {
    recent: Mutex<HashMap<i64, VecDeque<Instant>>>,
}

impl SearchLimiter {
    const WINDOW: Duration = Duration::from_secs(3600);

    /// Counts one search by `user`; Err(seconds to wait) when `limit` searches
    /// were made within the last hour.
    pub fn take(&self, user: i64, limit: u32) -> Result<(), u64> {
        let now = Instant::now();
        let mut recent = match self.recent.lock() {
            Ok(r) => r,
            Err(p) => p.into_inner(),
        };
        let q = recent.entry(user).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Self::WINDOW)
        {
            q.pop_front();
        }
        if q.len() >= limit as usize {
            let wait = q
                .front()
                .map(|t| {
                    Self::WINDOW
                        .saturating_sub(now.duration_since(*t))
                        .as_secs()
                })
                .unwrap_or(1);
            return Err(wait.max(1));
        }
        q.push_back(now);
        Ok(())
    }
}

/// `张三丰` → `张**`; `John Smith` → `J*** S****`.
pub fn mask_name(s: &str) -> String {
    if s.is_ascii() {
        return s
            .split(' ')
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => format!("{f}{}", "*".repeat(c.count())),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => format!("{f}{}", "*".repeat(c.count().max(1))),
        None => String::new(),
    }
}

/// Keeps `head` leading and `tail` trailing characters, stars the rest.
fn keep_ends(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len().max(1));
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// `+8613812345678` → `+86138****5678`; `13812345678` → `138****5678`.
pub fn mask_phone(s: &str) -> String {
    let (prefix, rest) = match s.strip_prefix("+86") {
        Some(r) => ("+86", r),
        None => ("", s),
    };
    format!("{prefix}{}", keep_ends(rest, 3, 4))
}

/// `110101199003071234` → `110***********1234`.
pub fn mask_id_number(s: &str) -> String {
    keep_ends(s, 3, 4)
}

/// `zhang.san@example.com` → `z*******@example.com`.
pub fn mask_email(s: &str) -> String {
    match s.split_once('@') {
        Some((user, domain)) => format!("{}@{domain}", keep_ends(user, 1, 0)),
        None => keep_ends(s, 1, 0),
    }
}

/// A birth date shows only its year.
pub fn mask_birth_date(s: &str) -> String {
    match s.get(..4) {
        Some(y) => format!("{y}-**-**"),
        None => "****".into(),
    }
}

/// Whether a search text looks like an identifier (a phone number, an ID
/// number or an e-mail address) rather than a name or a key.
pub fn looks_like_identifier(q: &str) -> bool {
    let q = q.trim();
    q.contains('@')
        || (q.chars().filter(|c| c.is_ascii_digit()).count() >= 4
            && q.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | 'X' | 'x')))
}

/// Characters an erasure request's reason needs at least.
pub const ERASURE_REASON_MIN_CHARS: usize = 8;

/// An erasure request as the admin page lists it.
pub use rapport_store::ErasureRequestRow as ErasureRequest;

fn is_requester(actor: &Actor, r: &ErasureRequest) -> bool {
    match (actor.user_id(), r.requested_by) {
        (Some(a), Some(b)) => a == b,
        _ => actor.name() == r.requested_by_name,
    }
}

/// Asks for customer `key`'s personal data to be erased (**four eyes**:
/// nothing is erased until another administrator approves with
/// [`approve_erasure`]). Needs [`Permission::EraseCustomer`], the customer
/// in scope, not yet erased and without a pending request, and a reason;
/// audited (`customer.erase_request`). Returns the request's id.
pub async fn request_erasure(
    store: &Store,
    actor: &Actor,
    via: &str,
    key: &str,
    reason: &str,
) -> ServiceResult<i64> {
    actor.require(Permission::EraseCustomer)?;
    let reason = reason.trim();
    if reason.chars().count() < ERASURE_REASON_MIN_CHARS {
        return Err(ServiceError::invalid(
            "reason",
            format!(
                "say why this customer's personal data is to be erased (at least {ERASURE_REASON_MIN_CHARS} characters) / 请填写删除个人信息的原因（至少 {ERASURE_REASON_MIN_CHARS} 个字）"
            ),
        ));
    }
    let key = key.trim();
    let id = store.customer_id_by_key(&actor.scope(), key).await?;
    let c = store.customer_360(&actor.scope(), id).await?;
    if c.profile.erased_at.is_some() {
        return Err(ServiceError::Conflict(format!(
            "customer {key} is erased already / 该客户的个人信息已删除"
        )));
    }
    if let Some(p) = store.pending_erasure_of(key).await? {
        return Err(ServiceError::Conflict(format!(
            "erasure of customer {key} was requested already (request {}) / 已有待审批的删除申请",
            p.id
        )));
    }
    let req = store
        .create_erasure_request(key, reason, actor.user_id(), actor.name(), Utc::now())
        .await?;
    store
        .append_audit(&[entry_for(
            actor,
            "customer.erase_request",
            "customer",
            Some(key.to_string()),
            Some(id),
            json!({ "via": via, "request": req, "reason": reason }),
        )])
        .await?;
    Ok(req)
}

/// Approves erasure request `request` as a second administrator and erases
/// the customer's personal data ([`crate::customers::erase`], audited
/// `customer.erase`). Refused to the administrator who asked; audited
/// (`customer.erase_approve`, with who asked).
pub async fn approve_erasure(
    store: &Store,
    actor: &Actor,
    via: &str,
    request: i64,
) -> ServiceResult<rapport_store::ErasureReport> {
    actor.require(Permission::EraseCustomer)?;
    let r = store.erasure_request(request).await?;
    let customer_id = store
        .customer_id_by_key(&actor.scope(), &r.customer_key)
        .await?;
    if r.status != "pending" {
        return Err(ServiceError::InvalidTransition(format!(
            "erasure request {request} is {} already / 该申请已处理",
            r.status
        )));
    }
    if is_requester(actor, &r) {
        return Err(ServiceError::Refused(format!(
            "{} asked for this erasure and cannot approve it: another administrator must / 申请人不能审批自己的删除申请，须由另一名管理员审批",
            actor.name()
        )));
    }
    if !store
        .decide_erasure_request(
            request,
            "approved",
            actor.user_id(),
            actor.name(),
            Utc::now(),
        )
        .await?
    {
        return Err(ServiceError::Conflict(format!(
            "erasure request {request} was decided by someone else / 该申请已由他人处理"
        )));
    }
    store
        .append_audit(&[entry_for(
            actor,
            "customer.erase_approve",
            "customer",
            Some(r.customer_key.clone()),
            Some(customer_id),
            json!({ "via": via, "request": request, "requested_by": r.requested_by_name }),
        )])
        .await?;
    let (_, report) = crate::customers::erase(store, actor, via, &r.customer_key).await?;
    Ok(report)
}

/// Rejects erasure request `request` (any administrator, the requester
/// withdrawing it included); audited (`customer.erase_reject`).
pub async fn reject_erasure(
    store: &Store,
    actor: &Actor,
    via: &str,
    request: i64,
) -> ServiceResult<()> {
    actor.require(Permission::EraseCustomer)?;
    let r = store.erasure_request(request).await?;
    let customer_id = store
        .customer_id_by_key(&rapport_store::Scope::All, &r.customer_key)
        .await
        .ok();
    if !store
        .decide_erasure_request(
            request,
            "rejected",
            actor.user_id(),
            actor.name(),
            Utc::now(),
        )
        .await?
    {
        return Err(ServiceError::InvalidTransition(format!(
            "erasure request {request} is {} already / 该申请已处理",
            r.status
        )));
    }
    store
        .append_audit(&[entry_for(
            actor,
            "customer.erase_reject",
            "customer",
            Some(r.customer_key.clone()),
            customer_id,
            json!({ "via": via, "request": request, "requested_by": r.requested_by_name }),
        )])
        .await?;
    Ok(())
}

/// The erasure requests (pending first, then the latest decided), for
/// whoever may erase.
pub async fn erasure_requests(store: &Store, actor: &Actor) -> ServiceResult<Vec<ErasureRequest>> {
    actor.require(Permission::EraseCustomer)?;
    Ok(store.erasure_requests(200).await?)
}

/// Whether `actor` may approve request `r` (not their own, still pending).
pub fn may_approve(actor: &Actor, r: &ErasureRequest) -> bool {
    r.status == "pending"
        && !is_requester(actor, r)
        && actor.require(Permission::EraseCustomer).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_values_keep_only_what_identifies_nobody() {
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_name("John Smith"), "J*** S****");
        assert_eq!(mask_phone("+8613812345678"), "+86138****5678");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_id_number("110101199003071234"), "110***********1234");
        assert_eq!(mask_email("zhang.san@example.com"), "z********@example.com");
        assert_eq!(mask_birth_date("1990-03-07"), "1990-**-**");
        assert_eq!(mask_phone("123"), "***");
    }

    #[test]
    fn identifiers_are_told_from_names_and_keys() {
        assert!(looks_like_identifier("1391234"));
        assert!(looks_like_identifier("+86 139"));
        assert!(looks_like_identifier("a@b"));
        assert!(looks_like_identifier("11010119900307123X"));
        assert!(!looks_like_identifier("张三"));
        assert!(!looks_like_identifier("C000123"));
        assert!(!looks_like_identifier("139"));
    }

    #[test]
    fn the_limiter_refuses_past_the_limit_per_user() {
        let l = SearchLimiter::default();
        for _ in 0..3 {
            assert!(l.take(1, 3).is_ok());
        }
        assert!(l.take(1, 3).is_err());
        assert!(l.take(2, 3).is_ok());
    }
}
