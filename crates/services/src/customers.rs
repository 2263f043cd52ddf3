//! One customer: the 360 read (within the actor's scope, with personal data
//! shown or masked by role and an audited unmask), the data-subject export
//! and the erasure. One use case each for the pages, the API and any other
//! adapter; the audit entry is written here.

use crate::access::{Actor, Permission};
use crate::audit::{entry_for, AuditSink};
use crate::error::ServiceResult;
use chrono::{DateTime, Utc};
use rapport_store::{Customer360, ErasureReport, Store};
use serde::Serialize;
use serde_json::{json, Value};

/// How a 360 is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// A view: personal data as the role sees it by default; the read is
    /// audited through the queue.
    View,
    /// Personal data in full (needs [`Permission::Unmask`]); audited before
    /// the answer.
    Unmask,
}

/// A customer's 360 as the actor may see it.
#[derive(Debug, Clone)]
pub struct Read360 {
    pub customer: Customer360,
    /// Whether personal data is shown in full (else the adapter masks it).
    pub personal_data: bool,
}

/// Reads customer `key`'s 360 as `actor` (who needs
/// [`Permission::ViewCustomers`], and the customer in scope); audited.
pub async fn read_360(
    store: &Store,
    audit: &AuditSink,
    actor: &Actor,
    via: &str,
    key: &str,
    reading: Reading,
) -> ServiceResult<Read360> {
    actor.require(Permission::ViewCustomers)?;
    if reading == Reading::Unmask {
        actor.require(Permission::Unmask)?;
    }
    let scope = actor.scope();
    let id = store.customer_id_by_key(&scope, key).await?;
    let customer = store.customer_360(&scope, id).await?;
    let action = match reading {
        Reading::View => "customer.view",
        Reading::Unmask => "customer.unmask",
    };
    let e = entry_for(
        actor,
        action,
        "customer",
        Some(customer.profile.key.clone()),
        Some(id),
        json!({ "via": via }),
    );
    match reading {
        Reading::Unmask => store.append_audit(&[e]).await?,
        Reading::View => audit.record(e).await,
    }
    Ok(Read360 {
        personal_data: reading == Reading::Unmask || actor.sees_personal_data_by_default(),
        customer,
    })
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
pub async fn erase(
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
