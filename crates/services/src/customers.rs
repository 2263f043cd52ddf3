//! Customers: the search and the 360 read (within the actor's scope, with
//! personal data masked by the policy of [`crate::privacy`] and an audited
//! unmask that needs a reason), the data-subject export and the erasure. One use case each for the pages, the API and any other
//! adapter; the audit entry is written here.

use crate::access::{Actor, Permission, Staff};
use crate::audit::{entry, entry_for};
use crate::error::{ServiceError, ServiceResult};
use crate::privacy::{self, Field};
use crate::Services;
use chrono::{DateTime, NaiveDate, Utc};
use rapport_analytics::health::FactorEvidence;
use rapport_analytics::profile::{self, DerivedProfile, ProfileRules};
use rapport_store::{Customer360, CustomerFilter, CustomerListRow, ErasureReport, Page, Store};
use serde::Serialize;
use serde_json::{json, Value};

/// How a 360 is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// A view: personal data as the masking policy shows it to the role;
    /// audited.
    View,
    /// Personal data in full (needs [`Permission::Unmask`] and a reason of
    /// the policy's minimum length, kept in the audit entry).
    Unmask { reason: String },
}

/// A customer's 360 as the actor may see it: the fields the masking policy
/// hides are masked already (the adapters show what they get).
#[derive(Debug, Clone)]
pub struct Read360 {
    pub customer: Customer360,
    /// The birth date as shown (`1990-**-**` when masked).
    pub birth_date: Option<String>,
    /// The personal-data fields shown masked (empty: nothing to unmask).
    pub masked: Vec<Field>,
    /// Lifecycle stage, channel preference, spending categories and life
    /// events with their evidence ([`rapport_analytics::profile`]), as of
    /// the customer's latest scored day (today when never scored).
    pub derived: DerivedProfile,
    /// The risk-tolerance assessments, newest first; the first is the one
    /// the suitability rule reads.
    pub risk_assessments: Vec<crate::risk_profile::AssessmentView>,
    /// The transactions behind each factor of the latest health score that
    /// comes from identifiable transactions (its evidence window).
    pub factor_evidence: Vec<FactorTxns>,
}

/// The transactions behind one health factor (newest first, at most
/// [`FACTOR_TXNS`]).
#[derive(Debug, Clone, Serialize)]
pub struct FactorTxns {
    /// The factor's feature (`days_since_salary`, `net_outflow_90` …).
    pub feature: String,
    pub evidence: FactorEvidence,
    pub transactions: Vec<rapport_store::EvidenceTxn>,
}

/// How many transactions a factor lists at most.
pub const FACTOR_TXNS: usize = 50;

/// The evidence transactions of the factors of `c`'s latest health score.
async fn factor_evidence(svc: &Services, c: &Customer360) -> ServiceResult<Vec<FactorTxns>> {
    let Some(last) = c.health_history.last() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for f in last.factors.as_array().into_iter().flatten() {
        let Some(ev) = f
            .get("evidence")
            .and_then(|e| serde_json::from_value::<FactorEvidence>(e.clone()).ok())
        else {
            continue;
        };
        let feature = f
            .get("feature")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut txns = svc
            .store
            .triggering_transactions(c.profile.id, ev.from, ev.to, 1000)
            .await?;
        txns.retain(|t| ev.admits(t.amount, &t.category));
        txns.sort_by_key(|t| std::cmp::Reverse(t.booked_on));
        txns.truncate(FACTOR_TXNS);
        out.push(FactorTxns {
            feature,
            evidence: ev,
            transactions: txns,
        });
    }
    Ok(out)
}

/// The day the derived profile is computed for: the customer's latest
/// scored day (the day the health score and the warnings describe), or
/// today when the customer was never scored.
fn derived_as_of(svc: &Services, c: &Customer360) -> NaiveDate {
    c.health_history
        .last()
        .map(|h| h.as_of)
        .unwrap_or_else(|| svc.clock.local().date())
}

/// The derived profile of customer `id` as of `as_of` (the rules are
/// [`rapport_analytics::profile`]'s; the store reads the facts).
pub async fn derived_profile(
    svc: &Services,
    id: i64,
    as_of: NaiveDate,
) -> ServiceResult<DerivedProfile> {
    let rules = ProfileRules::default();
    let from = as_of - chrono::Duration::days(rules.history_days);
    let facts = svc.store.customer_profile_facts(id, from, as_of).await?;
    Ok(profile::derive(&facts, as_of, &rules))
}

/// Reads customer `key`'s 360 as `staff` (who needs
/// [`Permission::ViewCustomers`], and the customer in scope), masked by the
/// policy unless unmasked; audited before the answer.
pub async fn read_360(
    svc: &Services,
    staff: &Staff,
    via: &str,
    key: &str,
    reading: Reading,
) -> ServiceResult<Read360> {
    staff.require(Permission::ViewCustomers)?;
    let policy = &svc.settings.masking;
    let reason = match &reading {
        Reading::View => None,
        Reading::Unmask { reason } => {
            staff.require(Permission::Unmask)?;
            let reason = reason.trim();
            if reason.chars().count() < policy.reason_min_chars {
                return Err(ServiceError::invalid(
                    "reason",
                    format!(
                        "say why you unmask this customer's personal data (at least {} characters) / 请填写查看完整个人信息的原因（至少 {} 个字）",
                        policy.reason_min_chars, policy.reason_min_chars
                    ),
                ));
            }
            Some(reason.to_string())
        }
    };
    let scope = staff.scope();
    let id = svc.store.customer_id_by_key(&scope, key).await?;
    let mut customer = svc.store.customer_360(&scope, id).await?;
    let mut derived = derived_profile(svc, id, derived_as_of(svc, &customer)).await?;
    let risk_assessments = crate::risk_profile::history_of(svc, id).await?;
    let factor_evidence = factor_evidence(svc, &customer).await?;
    let unmasked = reason.is_some();
    let shown = policy.apply_profile(staff, &mut customer.profile, unmasked);
    // Free text (notes, descriptions, answers, counterparties, attributes)
    // is shown only to a viewer who sees who the customer is.
    if !unmasked && !policy.shows(staff, Field::Name) {
        hide_free_text(&mut customer);
        // Counterparties name people and employers, in the evidence and in
        // the life events' words.
        for e in derived.life_events.iter_mut() {
            for ev in e.evidence.iter_mut() {
                if let Some(name) = ev.counterparty.take() {
                    ev.counterparty = Some("***".into());
                    if !name.is_empty() {
                        e.en = e.en.replace(&name, "***");
                        e.zh = e.zh.replace(&name, "***");
                    }
                }
            }
        }
    }
    let (action, detail) = match &reason {
        None => (
            "customer.view",
            json!({ "via": via, "masked": shown.masked.iter().map(|f| f.as_str()).collect::<Vec<_>>() }),
        ),
        Some(r) => ("customer.unmask", json!({ "via": via, "reason": r })),
    };
    let e = entry(
        staff,
        action,
        "customer",
        Some(customer.profile.key.clone()),
        Some(id),
        detail,
    );
    match reason {
        Some(_) => svc.audit.write(e).await?,
        None => svc.audit.record(e).await,
    }
    Ok(Read360 {
        customer,
        birth_date: shown.birth_date,
        masked: shown.masked,
        derived,
        risk_assessments,
        factor_evidence,
    })
}

/// Hides free text that may name or describe the person, in every section.
fn hide_free_text(c: &mut Customer360) {
    c.profile.attributes = json!({});
    for rows in [
        &mut c.accounts,
        &mut c.holdings,
        &mut c.loans,
        &mut c.cards,
        &mut c.recent_transactions,
        &mut c.interactions,
        &mut c.cases,
        &mut c.surveys,
        &mut c.consents,
        &mut c.alerts,
        &mut c.support_cases,
        &mut c.case_events,
        &mut c.survey_answers,
        &mut c.survey_invitations,
        &mut c.contact_log,
        &mut c.tasks,
        &mut c.rm_history,
    ] {
        for r in rows.iter_mut() {
            for k in privacy::FREE_TEXT {
                if r.get(k).is_some_and(|x| !x.is_null()) {
                    r.insert(k.into(), json!("***"));
                }
            }
        }
    }
}

/// Searches the customers in `staff`'s scope. The search text matches a
/// part of a personal-data field only when the role sees that field; other
/// roles find a customer by the whole value only, and such identifier
/// searches are limited per hour. Audited with the customers found; the
/// rows come masked by the policy.
pub async fn search(
    svc: &Services,
    staff: &Staff,
    via: &str,
    mut filter: CustomerFilter,
) -> ServiceResult<Page<CustomerListRow>> {
    staff.require(Permission::ViewCustomers)?;
    let policy = &svc.settings.masking;
    filter.matching = policy.search_match(staff);
    let m = filter.matching;
    let q = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let identifier = q.is_some_and(privacy::looks_like_identifier)
        && !(m.phone_part && m.email_part && m.id_number_part);
    if identifier {
        svc.searches
            .take(staff.user.id, policy.identifier_searches_per_hour)
            .map_err(|retry_after_secs| ServiceError::RateLimited { retry_after_secs })?;
    }
    let mut page = svc.store.search_customers(&staff.scope(), &filter).await?;
    let found: Vec<i64> = if q.is_some() {
        page.items.iter().map(|r| r.id).collect()
    } else {
        Vec::new()
    };
    svc.audit
        .record(entry(
            staff,
            if identifier { "customer.search_identifier" } else { "customer.search" },
            "customer",
            None,
            (found.len() == 1).then(|| found[0]),
            json!({
                "via": via,
                "filters": { "q": q.is_some(), "segment": filter.segment, "band": filter.band, "rm": filter.rm_id, "branch": filter.branch_id },
                "results": page.total,
                "found": found,
            }),
        ))
        .await;
    for r in page.items.iter_mut() {
        policy.apply_row(staff, r);
    }
    Ok(page)
}

/// Everything held about one customer (a data-subject access request).
#[derive(Debug, Clone, Serialize)]
pub struct CustomerExport {
    pub exported_at: DateTime<Utc>,
    pub exported_by: String,
    pub customer_key: String,
    #[serde(skip)]
    pub customer_id: i64,
    pub data: Value,
}

/// Exports customer `key` as `actor` (who needs
/// [`Permission::ExportCustomer`], and the customer in scope); audited.
pub async fn export(
    store: &Store,
    actor: &Actor,
    via: &str,
    key: &str,
) -> ServiceResult<CustomerExport> {
    actor.require(Permission::ExportCustomer)?;
    let id = store.customer_id_by_key(&actor.scope(), key).await?;
    let data = store.export_customer(id).await?;
    store
        .append_audit(&[entry_for(
            actor,
            "customer.export",
            "customer",
            Some(key.to_string()),
            Some(id),
            json!({ "via": via }),
        )])
        .await?;
    Ok(CustomerExport {
        exported_at: Utc::now(),
        exported_by: actor.name().to_string(),
        customer_key: key.to_string(),
        customer_id: id,
        data,
    })
}

/// Erases (anonymises) customer `key`'s personal data as `actor` (who needs
/// [`Permission::EraseCustomer`], and the customer in scope), keeping what
/// the law requires; audited with what changed. Returns the customer's id.
///
/// Only an approved erasure request calls this ([`crate::privacy::approve_erasure`]):
/// erasure takes two administrators, whatever the adapter.
pub(crate) async fn erase(
    store: &Store,
    actor: &Actor,
    via: &str,
    key: &str,
) -> ServiceResult<(i64, ErasureReport)> {
    actor.require(Permission::EraseCustomer)?;
    let id = store.customer_id_by_key(&actor.scope(), key).await?;
    let report = store.erase_customer(id, Utc::now()).await?;
    let mut detail = serde_json::to_value(&report).unwrap_or_default();
    if let Value::Object(m) = &mut detail {
        m.insert("via".into(), Value::String(via.to_string()));
    }
    store
        .append_audit(&[entry_for(
            actor,
            "customer.erase",
            "customer",
            Some(key.to_string()),
            Some(id),
            detail,
        )])
        .await?;
    Ok((id, report))
}

/// The alert queue of `staff`'s scope (who needs [`Permission::WorkAlerts`])
/// with each alert's customer named as the masking policy shows the name to
/// the role (as in the customer list), and how many alerts match.
pub async fn alert_queue(
    svc: &Services,
    staff: &Staff,
    filter: &rapport_store::alert_queue::QueueFilter,
) -> ServiceResult<(Vec<rapport_store::alert_queue::QueuedAlert>, i64)> {
    staff.require(Permission::WorkAlerts)?;
    let (mut rows, total) = svc.store.alert_queue(&staff.scope(), filter).await?;
    let policy = &svc.settings.masking;
    for a in rows.iter_mut() {
        let mut r = CustomerListRow {
            id: a.customer_id,
            key: a.customer_key.clone(),
            name: a.customer_name.take(),
            phone: None,
            id_number: None,
            branch_code: None,
            rm_id: None,
            rm_name: None,
            score: None,
            band: None,
            erased: a.erased,
        };
        policy.apply_row(staff, &mut r);
        a.customer_name = if a.erased { None } else { r.name };
    }
    Ok((rows, total))
}
