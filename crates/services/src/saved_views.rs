//! Saved views (issue 18, "lists a bank can work with"): a member of staff
//! names the filters and sort of one list — "my branch's at-risk customers
//! by score", "breached high-severity cases assigned to me", "unmaskings this
//! month" — and opens it again with one click.
//!
//! A view is only a query string: opening it runs the list as the viewer,
//! with the viewer's own row scope. The query is normalised here, once: only
//! the list's own filter and sort parameters ([`List::params`], the one
//! list of names the pages share), empty values dropped, sorted by name.
//! Free-text customer searches (`q`) and a customer named in the audit
//! filter are not kept: a view is about a kind of work, never about one
//! person, so no personal data outlives an erasure in a saved view.
//!
//! Rights (the one table, [`Permission::allows`]): saving, seeing and
//! opening a view needs the right to open its list (the same permission the
//! list page checks); sharing a view needs [`Permission::ShareViews`] as
//! well; a view is deleted by its owner, or a shared one by an
//! administrator ([`Permission::Administer`]). Every save and delete is
//! audited (`saved_view.save`, `saved_view.delete`; the detail names the
//! list and the parameters, not their values).

use crate::access::{AccessError, Actor, Permission, Staff};
use crate::audit::entry;
use crate::error::{ServiceError, ServiceResult};
use chrono::Utc;
use rapport_store::saved_views::{NewSavedView, SavedViewRow};
use rapport_store::{Store, StoreError};
use serde_json::json;

/// The customer list's saved parameters (not the free-text search `q`).
pub const CUSTOMER_PARAMS: &[&str] = &["band", "branch", "dir", "rm", "segment", "sort"];
/// The alert queue's.
pub const ALERT_PARAMS: &[&str] = &["dir", "mine", "rule", "severity", "sort", "status"];
/// The case queue's.
pub const CASE_PARAMS: &[&str] = &[
    "all", "approval", "assignee", "category", "dir", "severity", "sla", "sort", "state",
];
/// The RM's day list has no filters: a view of it is the list itself.
pub const TASK_PARAMS: &[&str] = &[];
/// The campaign list's.
pub const CAMPAIGN_PARAMS: &[&str] = &["dir", "sort", "state"];
/// The audit log's (not a customer: a view is never about one person).
pub const AUDIT_PARAMS: &[&str] = &["action", "actor", "dir", "from", "sort", "to"];

/// The longest name of a view, in characters.
pub const NAME_MAX: usize = 60;
/// Views one member of staff keeps per list.
pub const MAX_PER_LIST: i64 = 50;
/// The longest value of one parameter, and of the whole query, in bytes.
const VALUE_MAX: usize = 200;
const QUERY_MAX: usize = 1000;

/// A list that views can be saved of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Customers,
    Alerts,
    Cases,
    Tasks,
    Campaigns,
    Audit,
}

impl List {
    pub const ALL: [List; 6] = [
        List::Customers,
        List::Alerts,
        List::Cases,
        List::Tasks,
        List::Campaigns,
        List::Audit,
    ];

    pub fn parse(s: &str) -> Option<List> {
        List::ALL.into_iter().find(|l| l.code() == s)
    }

    pub fn code(self) -> &'static str {
        match self {
            List::Customers => "customers",
            List::Alerts => "alerts",
            List::Cases => "cases",
            List::Tasks => "tasks",
            List::Campaigns => "campaigns",
            List::Audit => "audit",
        }
    }

    /// The list page's path.
    pub fn path(self) -> &'static str {
        match self {
            List::Customers => "/customers",
            List::Alerts => "/alerts",
            List::Cases => "/cases",
            List::Tasks => "/tasks",
            List::Campaigns => "/campaigns",
            List::Audit => "/audit",
        }
    }

    /// The filter and sort parameters a view of this list keeps.
    pub fn params(self) -> &'static [&'static str] {
        match self {
            List::Customers => CUSTOMER_PARAMS,
            List::Alerts => ALERT_PARAMS,
            List::Cases => CASE_PARAMS,
            List::Tasks => TASK_PARAMS,
            List::Campaigns => CAMPAIGN_PARAMS,
            List::Audit => AUDIT_PARAMS,
        }
    }

    /// The right the list page checks.
    pub fn permission(self) -> Permission {
        match self {
            List::Customers => Permission::ViewCustomers,
            List::Alerts => Permission::WorkAlerts,
            List::Cases => Permission::WorkCases,
            List::Tasks => Permission::Workbench,
            List::Campaigns => Permission::RunCampaigns,
            List::Audit => Permission::ViewAudit,
        }
    }

    /// Refused unless `actor` may open the list (campaigns are bank-wide:
    /// a head-office manager, as the campaign list itself decides).
    pub fn require_open(self, actor: &Actor) -> ServiceResult<()> {
        match self {
            List::Campaigns => crate::campaign::require_bank_wide(actor),
            _ => Ok(actor.require(self.permission())?),
        }
    }

    /// The list with `query` (a normalised query string) applied.
    pub fn href(self, query: &str) -> String {
        if query.is_empty() {
            self.path().to_string()
        } else {
            format!("{}?{query}", self.path())
        }
    }
}

/// Why a view was not saved: each has words in both languages on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    UnknownList,
    NameEmpty,
    NameTooLong,
    NameTaken,
    TooMany,
    QueryTooLong,
}

impl Problem {
    pub const ALL: [Problem; 6] = [
        Problem::UnknownList,
        Problem::NameEmpty,
        Problem::NameTooLong,
        Problem::NameTaken,
        Problem::TooMany,
        Problem::QueryTooLong,
    ];

    /// A stable code (the page's catalogue key ends with it).
    pub fn code(self) -> &'static str {
        match self {
            Problem::UnknownList => "unknown_list",
            Problem::NameEmpty => "name_empty",
            Problem::NameTooLong => "name_too_long",
            Problem::NameTaken => "name_taken",
            Problem::TooMany => "too_many",
            Problem::QueryTooLong => "query_too_long",
        }
    }

    pub fn parse(code: &str) -> Option<Problem> {
        Problem::ALL.into_iter().find(|p| p.code() == code)
    }

    fn field(self) -> &'static str {
        match self {
            Problem::UnknownList => "list",
            Problem::NameEmpty | Problem::NameTooLong | Problem::NameTaken => "name",
            Problem::TooMany => "views",
            Problem::QueryTooLong => "query",
        }
    }

    /// The reason in words (for the API and the command line).
    pub fn message(self) -> &'static str {
        match self {
            Problem::UnknownList => {
                "unknown list: one of customers, alerts, cases, tasks, campaigns, audit"
            }
            Problem::NameEmpty => "give the view a name",
            Problem::NameTooLong => "a view's name has at most 60 characters",
            Problem::NameTaken => "you already have a view of this list with that name",
            Problem::TooMany => "at most 50 saved views per list: delete one first",
            Problem::QueryTooLong => "the view's filters are too long to keep",
        }
    }
}

impl From<Problem> for ServiceError {
    fn from(p: Problem) -> Self {
        ServiceError::invalid(p.field(), p.message())
    }
}

/// The [`Problem`] a save answered with, if that is why it failed.
pub fn problem_of(e: &ServiceError) -> Option<Problem> {
    match e {
        ServiceError::Invalid { field, message } => Problem::ALL
            .into_iter()
            .find(|p| p.field() == field && p.message() == message),
        _ => None,
    }
}

/// A saved view as the bar shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedView {
    pub row: SavedViewRow,
    /// The list with the view applied.
    pub href: String,
    /// The viewer's own view.
    pub mine: bool,
    /// The viewer may delete it.
    pub can_delete: bool,
}

/// `raw` (a list page's query string) reduced to what a view of `list`
/// keeps: its own parameters with a value (the first of each), sorted by
/// name, percent-encoded. Page, export format, CSRF token and anything
/// unknown are dropped.
pub fn normalise(list: List, raw: &str) -> String {
    let allowed = list.params();
    let mut kept: Vec<(&'static str, String)> = Vec::new();
    for pair in raw.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = decode(k);
        let Some(name) = allowed.iter().find(|a| **a == k.trim()) else {
            continue;
        };
        let v = decode(v).trim().to_string();
        if v.is_empty() || v.len() > VALUE_MAX || kept.iter().any(|(n, _)| n == name) {
            continue;
        }
        kept.push((*name, v));
    }
    kept.sort();
    kept.iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Whether `actor` may share views of `list`.
pub fn may_share(actor: &Actor, list: List) -> bool {
    list.require_open(actor).is_ok() && actor.require(Permission::ShareViews).is_ok()
}

fn staff(actor: &Actor) -> ServiceResult<&Staff> {
    match actor {
        Actor::Staff(s) => Ok(s),
        // A view belongs to a member of staff; a job has none.
        Actor::System { .. } => Err(AccessError::NoActor.into()),
    }
}

/// Saves the view `name` of list `list` (its code) with the filters of
/// `raw_query`, shared or not; the saved view. Audited.
pub async fn save(
    store: &Store,
    actor: &Actor,
    list: &str,
    name: &str,
    raw_query: &str,
    shared: bool,
) -> ServiceResult<SavedViewRow> {
    let list = List::parse(list.trim()).ok_or(Problem::UnknownList)?;
    let staff = staff(actor)?;
    list.require_open(actor)?;
    if shared {
        actor.require(Permission::ShareViews)?;
    }
    let name = name.trim();
    if name.is_empty() {
        return Err(Problem::NameEmpty.into());
    }
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(Problem::NameTooLong.into());
    }
    let query = normalise(list, raw_query);
    if query.len() > QUERY_MAX {
        return Err(Problem::QueryTooLong.into());
    }
    if store.saved_view_count(staff.user.id, list.code()).await? >= MAX_PER_LIST {
        return Err(Problem::TooMany.into());
    }
    let id = match store
        .insert_saved_view(&NewSavedView {
            staff_user_id: staff.user.id,
            list: list.code(),
            name,
            query: &query,
            shared,
            at: Utc::now(),
        })
        .await
    {
        Ok(id) => id,
        Err(StoreError::Conflict(_)) => return Err(Problem::NameTaken.into()),
        Err(e) => return Err(e.into()),
    };
    let params: Vec<&str> = query
        .split('&')
        .filter_map(|p| p.split_once('=').map(|(k, _)| k))
        .collect();
    store
        .append_audit(&[entry(
            staff,
            "saved_view.save",
            "saved_view",
            Some(id.to_string()),
            None,
            json!({ "list": list.code(), "params": params, "shared": shared }),
        )])
        .await?;
    Ok(store.saved_view(id).await?)
}

/// The views of `list` the actor sees: their own, then those others share
/// with everyone who may open the list.
pub async fn views(store: &Store, actor: &Actor, list: List) -> ServiceResult<Vec<SavedView>> {
    let staff = staff(actor)?;
    list.require_open(actor)?;
    let admin = actor.require(Permission::Administer).is_ok();
    Ok(store
        .saved_views_for(staff.user.id, list.code())
        .await?
        .into_iter()
        .map(|row| {
            let mine = row.staff_user_id == staff.user.id;
            SavedView {
                href: list.href(&row.query),
                can_delete: mine || (admin && row.shared),
                mine,
                row,
            }
        })
        .collect())
}

/// Deletes view `id`: its owner, or an administrator a shared one. Another
/// member of staff's private view is not found (it is not theirs to know
/// of); a shared one is refused. Audited; the deleted view.
pub async fn delete(store: &Store, actor: &Actor, id: i64) -> ServiceResult<SavedViewRow> {
    let staff = staff(actor)?;
    let row = store.saved_view(id).await?;
    if row.staff_user_id != staff.user.id {
        if !row.shared {
            return Err(ServiceError::not_found(format!("saved view {id}")));
        }
        actor.require(Permission::Administer)?;
    }
    if !store.delete_saved_view(id).await? {
        return Err(ServiceError::not_found(format!("saved view {id}")));
    }
    store
        .append_audit(&[entry(
            staff,
            "saved_view.delete",
            "saved_view",
            Some(id.to_string()),
            None,
            json!({ "list": row.list, "owner": row.owner_username, "shared": row.shared }),
        )])
        .await?;
    Ok(row)
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a
/// space; a broken escape is kept as written).
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes a value (unreserved characters kept).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_keeps_only_the_lists_own_parameters_sorted() {
        assert_eq!(
            normalise(
                List::Customers,
                "page=3&sort=score&dir=desc&band=at_risk&format=csv&csrf=x&evil=1&q=%E7%8E%8B&rm="
            ),
            "band=at_risk&dir=desc&sort=score"
        );
        assert_eq!(
            normalise(
                List::Audit,
                "action=customer.unmask&from=2026-12-01&customer=C1"
            ),
            "action=customer.unmask&from=2026-12-01"
        );
        // Values are decoded, trimmed and encoded again; the first of a name wins.
        assert_eq!(
            normalise(List::Cases, "assignee=+rm%5Fa+&assignee=other&sla=breached"),
            "assignee=rm_a&sla=breached"
        );
        assert_eq!(normalise(List::Tasks, "done=contact&sort=x"), "");
        // A broken escape is kept as written, and encoded.
        assert_eq!(normalise(List::Alerts, "rule=a%2"), "rule=a%252");
        assert_eq!(normalise(List::Alerts, "rule=%"), "rule=%25");
    }

    #[test]
    fn problems_are_told_apart_from_their_errors() {
        for p in Problem::ALL {
            assert_eq!(problem_of(&p.into()), Some(p));
            assert_eq!(Problem::parse(p.code()), Some(p));
        }
        assert_eq!(
            problem_of(&ServiceError::invalid("name", "something else")),
            None
        );
        for l in List::ALL {
            assert_eq!(List::parse(l.code()), Some(l));
            let mut sorted = l.params().to_vec();
            sorted.sort_unstable();
            assert_eq!(sorted, l.params(), "{l:?}'s parameters are sorted");
        }
    }
}
