//! Relationship management (C12) over the store: which key customers go to
//! which RM (rules: the customer's branch, the RM's capacity), the contact
//! cadence per tier that turns into follow-up tasks, the contact log that
//! closes them, and the RM KPIs (coverage, contacts per customer, overdue
//! tasks, portfolio health change).
//!
//! Key customers are the members of the configured key tiers (`[rm]`) at the
//! latest tier date. Every time comes from the [`Clock`], so tests move it.
//! Mass customers keep whatever the scoring run's round robin gave them:
//! nothing here moves them or counts them against a capacity.

use crate::access::{Actor, Permission};
use crate::audit::entry_for;
use crate::clock::Clock;
use crate::error::{invalid_unless_store, ServiceResult};
use anyhow::{bail, Context, Result};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rapport_analytics::segment::Tier;
use rapport_store::{
    ContactTaskRow, NewCadenceTask, NewContactLog, RmStaffRow, Scope, Store, TierMemberRow,
};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What the relationship-management logic needs besides the store.
#[derive(Debug, Clone, PartialEq)]
pub struct RmSettings {
    /// The key tiers (highest first).
    pub key_tiers: Vec<Tier>,
    /// Key customers per RM unless `rm_capacity` says otherwise.
    pub capacity: i64,
    /// Days between contacts per tier (every key tier has one).
    pub cadence_days: BTreeMap<Tier, i64>,
    /// Days ahead of the due day a cadence task is created.
    pub lead_days: i64,
}

/// The tier with code `s` (`mass`, `affluent`, `high_net_worth`).
pub fn parse_tier(s: &str) -> Option<Tier> {
    Tier::ALL.iter().copied().find(|t| t.as_str() == s)
}

impl RmSettings {
    /// From `[rm]` (checked again here, naming the key).
    pub fn from_config(cfg: &crate::config::Config) -> Result<RmSettings> {
        let r = &cfg.rm;
        let mut key_tiers = Vec::new();
        for t in &r.key_tiers {
            key_tiers.push(parse_tier(t).with_context(|| format!("rm.key_tiers: {t:?}"))?);
        }
        key_tiers.sort_by(|a, b| b.cmp(a));
        key_tiers.dedup();
        for t in r.cadence_days.keys() {
            parse_tier(t).with_context(|| format!("rm.cadence_days.{t}: not a tier"))?;
        }
        let cadence_days: BTreeMap<Tier, i64> = Tier::ALL
            .iter()
            .filter_map(|t| r.cadence_for(t.as_str()).map(|d| (*t, i64::from(d))))
            .collect();
        for t in &key_tiers {
            if !cadence_days.contains_key(t) {
                bail!("rm.cadence_days.{t}: the key tier {t} needs a cadence");
            }
        }
        Ok(RmSettings {
            key_tiers,
            capacity: i64::from(r.capacity),
            cadence_days,
            lead_days: i64::from(r.lead_days),
        })
    }

    fn cadence(&self, tier: Tier) -> Option<i64> {
        self.cadence_days.get(&tier).copied()
    }
}

/// The local time of day cadence tasks are due.
pub fn cadence_due_time() -> NaiveTime {
    NaiveTime::from_hms_opt(10, 0, 0).unwrap_or(NaiveTime::MIN)
}

/// A key customer with their tier, branch and current RM.
#[derive(Debug, Clone)]
struct KeyCustomer {
    tier: Tier,
    row: TierMemberRow,
}

/// The key customers at the latest tier date on or before `day` (`None`
/// when no scoring run has stored tiers by then), highest tier first.
async fn key_customers(
    store: &Store,
    s: &RmSettings,
    day: NaiveDate,
) -> Result<Option<(NaiveDate, Vec<KeyCustomer>)>> {
    let Some(as_of) = store.latest_membership_as_of(day).await? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for &tier in &s.key_tiers {
        let code = format!("tier:{}", tier.as_str());
        for row in store.tier_members_with_rm(&code, as_of).await? {
            out.push(KeyCustomer { tier, row });
        }
    }
    Ok(Some((as_of, out)))
}

// ---------------------------------------------------------------- assign

/// Why a key customer could not be placed with an RM of their branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnplacedReason {
    /// The customer has no branch.
    NoBranch,
    /// The customer's branch has no active RM.
    NoRmInBranch,
    /// Every RM of the branch is at capacity.
    AllRmsFull,
}

impl UnplacedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            UnplacedReason::NoBranch => "no_branch",
            UnplacedReason::NoRmInBranch => "no_rm_in_branch",
            UnplacedReason::AllRmsFull => "all_rms_full",
        }
    }

    /// The reason for people, in English and Chinese.
    pub fn text(self) -> &'static str {
        match self {
            UnplacedReason::NoBranch => "no branch / 客户无所属网点",
            UnplacedReason::NoRmInBranch => "no RM in the branch / 网点无客户经理",
            UnplacedReason::AllRmsFull => "every RM of the branch is full / 网点客户经理均已满额",
        }
    }
}

/// A key customer left without an RM of their branch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unplaced {
    pub customer_id: i64,
    pub tier: Tier,
    pub branch_code: Option<String>,
    pub reason: UnplacedReason,
    /// The RM (of another branch) the customer stays with, if any.
    pub kept_with: Option<String>,
}

/// An RM's key customers against their capacity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RmLoad {
    pub username: String,
    pub key_customers: i64,
    pub capacity: i64,
}

/// The key-customer loads of one branch's RMs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BranchLoad {
    pub branch_code: String,
    pub key_customers: i64,
    pub rms: Vec<RmLoad>,
}

/// What an assignment run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssignReport {
    /// The tier date the key customers are taken from.
    pub as_of: NaiveDate,
    pub rebalance: bool,
    pub key_customers: usize,
    /// Key customers whose RM did not change.
    pub kept: usize,
    /// Key customers without an RM who got one.
    pub assigned: usize,
    /// Key customers moved to another RM (`--rebalance` only).
    pub moved: usize,
    /// Key customers still with an RM of another branch (or someone who is
    /// not an active RM): not rebalanced, or nowhere to go.
    pub misplaced_kept: usize,
    /// Key customers that could not be placed, with the reason.
    pub unplaced: Vec<Unplaced>,
    /// RMs above their capacity after the run.
    pub over_capacity: Vec<RmLoad>,
    /// Per branch with RMs or key customers, the loads after the run.
    pub branches: Vec<BranchLoad>,
}

/// The RM of `rms` with the fewest key customers that is under capacity
/// (lowest id on a tie), other than `except`.
fn least_loaded(
    rms: &[i64],
    load: &HashMap<i64, i64>,
    cap: &HashMap<i64, i64>,
    except: Option<i64>,
) -> Option<i64> {
    rms.iter()
        .copied()
        .filter(|r| Some(*r) != except)
        .filter(|r| load.get(r).copied().unwrap_or(0) < cap.get(r).copied().unwrap_or(0))
        .min_by_key(|r| (load.get(r).copied().unwrap_or(0), *r))
}

/// Assigns key customers to RMs of their branch under capacity: keeps
/// assignments to an active RM of the customer's branch, places unassigned
/// key customers with the least-loaded RM of their branch, and with
/// `rebalance` also moves key customers of an RM of another branch and the
/// excess of RMs over capacity (lowest tier and newest first) where there
/// is room. Customers that cannot be placed are reported with the reason.
pub async fn assign(
    store: &Store,
    s: &RmSettings,
    clock: &Clock,
    rebalance: bool,
) -> Result<AssignReport> {
    let today = clock.local().date();
    let Some((as_of, keys)) = key_customers(store, s, today).await? else {
        bail!("no tiers stored on or before {today}: run `rapport score` first");
    };
    let staff = store.rm_staff().await?;
    let by_id: HashMap<i64, &RmStaffRow> = staff.iter().map(|r| (r.id, r)).collect();
    let eligible = |id: i64| by_id.get(&id).filter(|r| r.active && r.branch_id.is_some());
    let mut branch_rms: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut cap: HashMap<i64, i64> = HashMap::new();
    for r in &staff {
        cap.insert(r.id, r.max_key_customers.unwrap_or(s.capacity));
        if let (true, Some(b)) = (r.active, r.branch_id) {
            branch_rms.entry(b).or_default().push(r.id);
        }
    }
    let branch_code: HashMap<i64, String> = store
        .branches()
        .await?
        .into_iter()
        .map(|b| (b.id, b.code))
        .collect();
    let mut load: HashMap<i64, i64> = HashMap::new();
    for k in &keys {
        if let Some(r) = k.row.staff_user_id {
            *load.entry(r).or_insert(0) += 1;
        }
    }

    // Highest tier first, then customer id.
    let mut unassigned: Vec<&KeyCustomer> = Vec::new();
    let mut misplaced: Vec<&KeyCustomer> = Vec::new();
    let mut placed_right: HashMap<i64, Vec<&KeyCustomer>> = HashMap::new();
    for k in &keys {
        match k.row.staff_user_id {
            None => unassigned.push(k),
            Some(r) => {
                let right = eligible(r).is_some_and(|rm| rm.branch_id == k.row.branch_id);
                if right {
                    placed_right.entry(r).or_default().push(k);
                } else {
                    misplaced.push(k);
                }
            }
        }
    }
    let order = |a: &&KeyCustomer, b: &&KeyCustomer| {
        b.tier
            .cmp(&a.tier)
            .then(a.row.customer_id.cmp(&b.row.customer_id))
    };
    unassigned.sort_by(order);
    misplaced.sort_by(order);

    let mut pairs: Vec<(i64, i64)> = Vec::new();
    let mut unplaced = Vec::new();
    let (mut assigned, mut moved, mut misplaced_kept) = (0, 0, 0);
    let why = |k: &KeyCustomer| match k.row.branch_id {
        None => UnplacedReason::NoBranch,
        Some(b) if branch_rms.get(&b).is_none_or(|v| v.is_empty()) => UnplacedReason::NoRmInBranch,
        Some(_) => UnplacedReason::AllRmsFull,
    };
    let unplaced_of = |k: &KeyCustomer, kept_with: Option<String>| Unplaced {
        customer_id: k.row.customer_id,
        tier: k.tier,
        branch_code: k.row.branch_id.and_then(|b| branch_code.get(&b).cloned()),
        reason: why(k),
        kept_with,
    };
    let rms_of = |k: &KeyCustomer| -> &[i64] {
        k.row
            .branch_id
            .and_then(|b| branch_rms.get(&b))
            .map_or(&[], |v| v.as_slice())
    };

    // 1. Key customers with an RM of another branch (rebalance only).
    for k in misplaced {
        let old = k.row.staff_user_id;
        let target = if rebalance {
            least_loaded(rms_of(k), &load, &cap, old)
        } else {
            None
        };
        match target {
            Some(t) => {
                *load.entry(t).or_insert(0) += 1;
                if let Some(o) = old {
                    *load.entry(o).or_insert(0) -= 1;
                }
                pairs.push((k.row.customer_id, t));
                moved += 1;
            }
            None => {
                misplaced_kept += 1;
                if rebalance {
                    unplaced.push(unplaced_of(k, k.row.staff_username.clone()));
                }
            }
        }
    }
    // 2. Unassigned key customers.
    for k in unassigned {
        match least_loaded(rms_of(k), &load, &cap, None) {
            Some(t) => {
                *load.entry(t).or_insert(0) += 1;
                pairs.push((k.row.customer_id, t));
                assigned += 1;
            }
            None => unplaced.push(unplaced_of(k, None)),
        }
    }
    // 3. The excess of RMs over capacity, where the branch has room.
    if rebalance {
        let mut over: Vec<i64> = placed_right
            .keys()
            .copied()
            .filter(|r| load.get(r).copied().unwrap_or(0) > cap.get(r).copied().unwrap_or(0))
            .collect();
        over.sort_unstable();
        for r in over {
            let mut theirs = placed_right.remove(&r).unwrap_or_default();
            // Lowest tier and highest id leave first.
            theirs.sort_by(order);
            while load.get(&r).copied().unwrap_or(0) > cap.get(&r).copied().unwrap_or(0) {
                let Some(k) = theirs.pop() else { break };
                let Some(t) = least_loaded(rms_of(k), &load, &cap, Some(r)) else {
                    break;
                };
                *load.entry(t).or_insert(0) += 1;
                *load.entry(r).or_insert(0) -= 1;
                pairs.push((k.row.customer_id, t));
                moved += 1;
            }
        }
    }
    store.set_rm_assignments(&pairs, clock.now()).await?;

    let rm_load = |id: i64| -> Option<RmLoad> {
        by_id.get(&id).map(|r| RmLoad {
            username: r.username.clone(),
            key_customers: load.get(&id).copied().unwrap_or(0),
            capacity: cap.get(&id).copied().unwrap_or(s.capacity),
        })
    };
    let mut over_capacity: Vec<RmLoad> = staff
        .iter()
        .filter_map(|r| rm_load(r.id))
        .filter(|l| l.key_customers > l.capacity)
        .collect();
    over_capacity.sort_by(|a, b| a.username.cmp(&b.username));
    let mut key_per_branch: HashMap<i64, i64> = HashMap::new();
    for k in &keys {
        if let Some(b) = k.row.branch_id {
            *key_per_branch.entry(b).or_insert(0) += 1;
        }
    }
    let mut branch_ids: Vec<i64> = branch_rms
        .keys()
        .chain(key_per_branch.keys())
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    branch_ids.sort_by(|a, b| branch_code.get(a).cmp(&branch_code.get(b)));
    let branches = branch_ids
        .into_iter()
        .map(|b| BranchLoad {
            branch_code: branch_code
                .get(&b)
                .cloned()
                .unwrap_or_else(|| b.to_string()),
            key_customers: key_per_branch.get(&b).copied().unwrap_or(0),
            rms: branch_rms
                .get(&b)
                .map(|v| v.iter().filter_map(|r| rm_load(*r)).collect())
                .unwrap_or_default(),
        })
        .collect();
    let had_rm = keys
        .iter()
        .filter(|k| k.row.staff_user_id.is_some())
        .count();
    tracing::info!(
        as_of = %as_of,
        key_customers = keys.len(),
        assigned,
        moved,
        unplaced = unplaced.len(),
        "key customers assigned"
    );
    Ok(AssignReport {
        as_of,
        rebalance,
        key_customers: keys.len(),
        kept: had_rm - moved,
        assigned,
        moved,
        misplaced_kept,
        unplaced,
        over_capacity,
        branches,
    })
}

// ---------------------------------------------------------------- cadence

/// What a cadence run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CadenceReport {
    /// The tier date the key customers are taken from.
    pub as_of: NaiveDate,
    pub today: NaiveDate,
    pub key_customers: usize,
    /// Key customers without an RM (no task; see `rapport rm assign`).
    pub unassigned: usize,
    /// Key customers whose next contact is not due within the lead days.
    pub not_due: usize,
    /// Key customers due who already have an open cadence task.
    pub already_open: usize,
    /// Tasks created.
    pub created: usize,
    /// Of those, due today because the customer was never contacted or is overdue.
    pub created_overdue: usize,
}

/// When a key customer's next contact is due: the last contact plus the
/// cadence, or `today` when never contacted or already overdue; `None` when
/// it is further away than `today + lead_days`.
pub fn cadence_due(
    last_contact: Option<NaiveDate>,
    cadence_days: i64,
    lead_days: i64,
    today: NaiveDate,
) -> Option<NaiveDate> {
    match last_contact {
        None => Some(today),
        Some(last) => {
            let due = last + Duration::days(cadence_days);
            if due > today + Duration::days(lead_days) {
                None
            } else {
                Some(due.max(today))
            }
        }
    }
}

fn cadence_script(tier: Tier, days: i64, last: Option<NaiveDate>) -> String {
    let (zh, en) = match last {
        Some(d) => (d.to_string(), d.to_string()),
        None => ("从未联系".to_string(), "never".to_string()),
    };
    format!(
        "定期回访（{}，每 {days} 天联系一次）：上次联系 {zh}。\n\
         Cadence follow-up ({}, a contact every {days} days): last contact {en}.",
        tier.name_zh(),
        tier.name()
    )
}

/// Creates a `cadence` task for every assigned key customer whose next
/// contact (last contact + the tier's cadence) falls within `lead_days`,
/// unless one is open: due at 10:00 local on that day, or today when never
/// contacted or overdue, for the customer's RM. Idempotent.
pub async fn cadence(store: &Store, s: &RmSettings, clock: &Clock) -> Result<CadenceReport> {
    let now = clock.local();
    let today = now.date();
    let Some((as_of, keys)) = key_customers(store, s, today).await? else {
        bail!("no tiers stored on or before {today}: run `rapport score` first");
    };
    let last: HashMap<i64, NaiveDate> = store.last_contacts(today).await?.into_iter().collect();
    let open: HashSet<i64> = store.open_cadence_customers().await?.into_iter().collect();
    let mut r = CadenceReport {
        as_of,
        today,
        key_customers: keys.len(),
        unassigned: 0,
        not_due: 0,
        already_open: 0,
        created: 0,
        created_overdue: 0,
    };
    let utc = clock.now();
    for k in &keys {
        let Some(rm) = k.row.staff_username.as_deref() else {
            r.unassigned += 1;
            continue;
        };
        let Some(days) = s.cadence(k.tier) else {
            r.not_due += 1;
            continue;
        };
        let last_contact = last.get(&k.row.customer_id).copied();
        let Some(due) = cadence_due(last_contact, days, s.lead_days, today) else {
            r.not_due += 1;
            continue;
        };
        if open.contains(&k.row.customer_id) {
            r.already_open += 1;
            continue;
        }
        let script = cadence_script(k.tier, days, last_contact);
        let task = NewCadenceTask {
            customer_id: k.row.customer_id,
            assignee: rm,
            due_at: due.and_time(cadence_due_time()),
            script: &script,
        };
        match store.create_cadence_task(&task, utc).await? {
            Some(_) => {
                r.created += 1;
                let on_time = last_contact.map(|l| l + Duration::days(days));
                if on_time.is_none_or(|d| d <= today) {
                    r.created_overdue += 1;
                }
            }
            None => r.already_open += 1,
        }
    }
    tracing::info!(
        created = r.created,
        already_open = r.already_open,
        "cadence tasks"
    );
    Ok(r)
}

// ---------------------------------------------------------------- contact log

/// How a contact was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    Call,
    Visit,
    Video,
    Message,
}

impl ContactKind {
    pub const ALL: [ContactKind; 4] = [
        ContactKind::Call,
        ContactKind::Visit,
        ContactKind::Video,
        ContactKind::Message,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContactKind::Call => "call",
            ContactKind::Visit => "visit",
            ContactKind::Video => "video",
            ContactKind::Message => "message",
        }
    }

    pub fn parse(s: &str) -> Result<ContactKind> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .with_context(|| format!("contact kind {s:?}: call, visit, video or message"))
    }
}

/// What came of a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactOutcome {
    Reached,
    NoAnswer,
    Interested,
    Declined,
    FollowUp,
    Completed,
    /// Contacted and retained (the alert disposition of the same name): a
    /// follow-up task is created ([`crate::alerts::retained_follow_up`]).
    ContactedRetained,
    Other,
}

impl ContactOutcome {
    pub const ALL: [ContactOutcome; 8] = [
        ContactOutcome::Reached,
        ContactOutcome::NoAnswer,
        ContactOutcome::Interested,
        ContactOutcome::Declined,
        ContactOutcome::FollowUp,
        ContactOutcome::Completed,
        ContactOutcome::ContactedRetained,
        ContactOutcome::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContactOutcome::Reached => "reached",
            ContactOutcome::NoAnswer => "no_answer",
            ContactOutcome::Interested => "interested",
            ContactOutcome::Declined => "declined",
            ContactOutcome::FollowUp => "follow_up",
            ContactOutcome::Completed => "completed",
            ContactOutcome::ContactedRetained => crate::alerts::CONTACTED_RETAINED,
            ContactOutcome::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Result<ContactOutcome> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .with_context(|| {
                format!(
                    "contact outcome {s:?}: reached, no_answer, interested, declined, follow_up, completed, contacted_retained or other"
                )
            })
    }
}

/// A contact to log.
#[derive(Debug, Clone)]
pub struct ContactEntry {
    /// A source key or `#<id>`.
    pub customer_key: String,
    pub kind: ContactKind,
    pub outcome: ContactOutcome,
    pub note: Option<String>,
    /// Who made the contact (a user name).
    pub by: String,
}

/// A logged contact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedContact {
    pub id: i64,
    pub customer_id: i64,
    pub kind: ContactKind,
    pub outcome: ContactOutcome,
    pub at: NaiveDateTime,
    /// Open cadence tasks of the customer closed by it.
    pub closed_tasks: u64,
}

/// Logs a contact at the clock's local time and closes the customer's open
/// cadence tasks (whoever they are assigned to) with its outcome.
pub async fn log(store: &Store, clock: &Clock, e: &ContactEntry) -> Result<LoggedContact> {
    if e.by.trim().is_empty() {
        bail!("--by: who made the contact must not be empty");
    }
    let customer_id = store
        .customer_id_by_key(&Scope::All, &e.customer_key)
        .await?;
    let at = clock.local();
    let (id, closed_tasks) = store
        .log_contact(
            &NewContactLog {
                customer_id,
                staff: &e.by,
                kind: e.kind.as_str(),
                outcome: e.outcome.as_str(),
                note: e.note.as_deref(),
                at,
            },
            clock.now(),
        )
        .await?;
    Ok(LoggedContact {
        id,
        customer_id,
        kind: e.kind,
        outcome: e.outcome,
        at,
        closed_tasks,
    })
}

// ---------------------------------------------------------------- tasks

/// An open task with whether it is overdue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskView {
    #[serde(flatten)]
    pub task: ContactTaskRow,
    pub overdue: bool,
}

/// The open tasks of `rm` (everyone's when `None`), by due time; overdue
/// ones (due before the clock's local time) marked.
pub async fn open_tasks(store: &Store, clock: &Clock, rm: Option<&str>) -> Result<Vec<TaskView>> {
    let now = clock.local();
    Ok(store
        .contact_tasks(rm, true)
        .await?
        .into_iter()
        .map(|task| TaskView {
            overdue: task.due_at < now,
            task,
        })
        .collect())
}

// ---------------------------------------------------------------- KPIs

/// One RM's figures for a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RmKpis {
    pub username: String,
    pub display_name: String,
    pub branch_code: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Customers assigned now (all tiers).
    pub customers: i64,
    /// Key customers at the latest tier date on or before `to` assigned now.
    pub key_customers: i64,
    /// Of those, contacted within their tier's cadence as of `to`.
    pub key_covered: i64,
    /// `key_covered / key_customers`.
    pub coverage: Option<f64>,
    /// Contacts (imported interactions and logged contacts) with the
    /// assigned customers on days `from..=to`.
    pub contacts: i64,
    pub contacts_per_customer: Option<f64>,
    pub open_tasks: i64,
    /// Open tasks due before now.
    pub overdue_tasks: i64,
    /// Score dates: the latest on or before `from` and on or before `to`.
    pub health_from_date: Option<NaiveDate>,
    pub health_to_date: Option<NaiveDate>,
    /// Mean health score of the assigned customers at those dates.
    pub health_from: Option<f64>,
    pub health_to: Option<f64>,
    /// `health_to - health_from` (None when either is missing).
    pub health_change: Option<f64>,
}

fn ratio(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// The KPIs of every RM (or of `rm` alone) for days `from..=to`, on the
/// customers assigned now: coverage of key customers within their tier's
/// cadence as of `to`, contacts per customer in the period, overdue open
/// tasks (due before the clock's now) and the change of the mean health
/// score between the latest score dates on or before `from` and `to`.
pub async fn rm_kpis(
    store: &Store,
    s: &RmSettings,
    clock: &Clock,
    from: NaiveDate,
    to: NaiveDate,
    rm: Option<&str>,
) -> Result<Vec<RmKpis>> {
    if from > to {
        bail!("--from {from} is after --to {to}");
    }
    let staff = store.rm_staff().await?;
    if let Some(u) = rm {
        if !staff.iter().any(|r| r.username == u) {
            bail!("--rm {u:?}: not a relationship manager (staff role rm)");
        }
    }
    let last: HashMap<i64, NaiveDate> = store.last_contacts(to).await?.into_iter().collect();
    // (key customers, covered) per staff user.
    let mut cover: HashMap<i64, (i64, i64)> = HashMap::new();
    if let Some((_, keys)) = key_customers(store, s, to).await? {
        for k in keys {
            let (Some(staff_id), Some(days)) = (k.row.staff_user_id, s.cadence(k.tier)) else {
                continue;
            };
            let e = cover.entry(staff_id).or_insert((0, 0));
            e.0 += 1;
            let covered = last
                .get(&k.row.customer_id)
                .is_some_and(|d| *d + Duration::days(days) >= to);
            if covered {
                e.1 += 1;
            }
        }
    }
    let contacts: HashMap<i64, i64> = store
        .rm_contact_counts(from, to)
        .await?
        .into_iter()
        .collect();
    let now = clock.local();
    let mut tasks: HashMap<String, (i64, i64)> = HashMap::new();
    for t in store.contact_tasks(rm, true).await? {
        let e = tasks.entry(t.assignee).or_insert((0, 0));
        e.0 += 1;
        if t.due_at < now {
            e.1 += 1;
        }
    }
    let day_after = |d: NaiveDate| d + Duration::days(1);
    let health_from_date = store.previous_score_date(day_after(from)).await?;
    let health_to_date = store.previous_score_date(day_after(to)).await?;
    let mean = |d: Option<NaiveDate>| async move {
        Ok::<_, anyhow::Error>(match d {
            Some(d) => store
                .rm_mean_health(d)
                .await?
                .into_iter()
                .map(|(s, m, _)| (s, m))
                .collect::<HashMap<i64, f64>>(),
            None => HashMap::new(),
        })
    };
    let h_from = mean(health_from_date).await?;
    let h_to = mean(health_to_date).await?;
    Ok(staff
        .into_iter()
        .filter(|r| rm.map_or(r.active || r.customers > 0, |u| r.username == u))
        .map(|r| {
            let (key_customers, key_covered) = cover.get(&r.id).copied().unwrap_or((0, 0));
            let n = contacts.get(&r.id).copied().unwrap_or(0);
            let (open_tasks, overdue_tasks) = tasks.get(&r.username).copied().unwrap_or((0, 0));
            let health_from = h_from.get(&r.id).copied();
            let health_to = h_to.get(&r.id).copied();
            RmKpis {
                display_name: r.display_name,
                branch_code: r.branch_code,
                from,
                to,
                customers: r.customers,
                key_customers,
                key_covered,
                coverage: ratio(key_covered, key_customers),
                contacts: n,
                contacts_per_customer: ratio(n, r.customers),
                open_tasks,
                overdue_tasks,
                health_from_date,
                health_to_date,
                health_from,
                health_to,
                health_change: health_from.zip(health_to).map(|(a, b)| b - a),
                username: r.username,
            }
        })
        .collect())
}

/// Logs a contact (call, visit, meeting…) as `actor`, who made it (needs
/// [`Permission::Workbench`] or [`Permission::WorkCases`], and the customer
/// in scope); closes the open task it answers; audited.
pub async fn log_contact(
    store: &Store,
    clock: &Clock,
    actor: &Actor,
    via: &str,
    mut e: ContactEntry,
) -> ServiceResult<LoggedContact> {
    if actor.require(Permission::Workbench).is_err() {
        actor.require(Permission::WorkCases)?;
    }
    let customer_id = store
        .customer_id_by_key(&actor.scope(), &e.customer_key)
        .await?;
    e.by = actor.name().to_string();
    let logged = log(store, clock, &e)
        .await
        .map_err(|err| invalid_unless_store("contact", err))?;
    store
        .append_audit(&[entry_for(
            actor,
            "contact_log.add",
            "contact_log",
            Some(logged.id.to_string()),
            Some(customer_id),
            json!({ "via": via, "kind": e.kind.as_str(), "outcome": e.outcome.as_str() }),
        )])
        .await?;
    if e.outcome == ContactOutcome::ContactedRetained {
        crate::alerts::retained_follow_up(store, clock, actor, via, customer_id, None, None, false)
            .await?;
    }
    Ok(logged)
}

/// Assigns key customers to RMs (see [`assign`]) as `actor`, who needs
/// [`Permission::Administer`]; audited with the counts.
pub async fn assign_as(
    store: &Store,
    s: &RmSettings,
    clock: &Clock,
    actor: &Actor,
    via: &str,
    rebalance: bool,
) -> ServiceResult<AssignReport> {
    actor.require(Permission::Administer)?;
    let r = assign(store, s, clock, rebalance)
        .await
        .map_err(|err| invalid_unless_store("assignment", err))?;
    store
        .append_audit(&[entry_for(
            actor,
            "rm.assign",
            "rm_assignment",
            None,
            None,
            json!({ "via": via, "rebalance": rebalance, "report": serde_json::to_value(&r).unwrap_or_default() }),
        )])
        .await?;
    Ok(r)
}

/// Sets (or with `None` clears) how many key customers RM `username` takes
/// at most, as `actor` (who needs [`Permission::Administer`]); audited.
pub async fn set_capacity(
    store: &Store,
    actor: &Actor,
    via: &str,
    username: &str,
    max: Option<i64>,
) -> ServiceResult<()> {
    actor.require(Permission::Administer)?;
    let user = store
        .staff_user_by_name(username)
        .await?
        .ok_or_else(|| crate::error::ServiceError::not_found(format!("user {username:?}")))?;
    if user.role != "rm" {
        return Err(crate::error::ServiceError::invalid(
            "rm",
            format!("{username:?} is a {}, not an RM", user.role),
        ));
    }
    if let Some(m) = max {
        if !(1..=100_000).contains(&m) {
            return Err(crate::error::ServiceError::invalid(
                "max",
                format!("must be between 1 and 100000 (got {m})"),
            ));
        }
    }
    store.set_rm_capacity(user.id, max).await?;
    store
        .append_audit(&[entry_for(
            actor,
            "rm.capacity",
            "staff_user",
            Some(user.id.to_string()),
            None,
            json!({ "via": via, "max_key_customers": max }),
        )])
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn a_contact_is_due_a_cadence_after_the_last_or_today_when_overdue() {
        let today = d("2025-01-10");
        // Due in 20 days: beyond the 7 lead days.
        assert_eq!(cadence_due(Some(d("2025-01-01")), 29, 7, today), None);
        // Due in 5 days: within the lead days, due on that day.
        assert_eq!(
            cadence_due(Some(d("2024-12-16")), 30, 7, today),
            Some(d("2025-01-15"))
        );
        // Overdue or never contacted: today.
        assert_eq!(
            cadence_due(Some(d("2024-10-01")), 30, 7, today),
            Some(today)
        );
        assert_eq!(cadence_due(None, 30, 7, today), Some(today));
    }

    #[test]
    fn contact_kinds_and_outcomes_parse_only_known_codes() {
        assert_eq!(ContactKind::parse("video").ok(), Some(ContactKind::Video));
        assert!(ContactKind::parse("email").is_err());
        assert_eq!(
            ContactOutcome::parse("no_answer").ok(),
            Some(ContactOutcome::NoAnswer)
        );
        let e = ContactOutcome::parse("great")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("reached"), "{e}");
    }

    #[test]
    fn the_settings_put_the_highest_key_tier_first() {
        let mut cfg = crate::config::Config::default();
        cfg.rm.key_tiers = vec!["affluent".into(), "high_net_worth".into()];
        let s = RmSettings::from_config(&cfg).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(s.key_tiers, vec![Tier::HighNetWorth, Tier::Affluent]);
        assert_eq!(s.cadence(Tier::HighNetWorth), Some(30));
        assert_eq!(s.cadence(Tier::Mass), None);
    }
}
