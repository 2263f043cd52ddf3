//! The audit trail, for every adapter (web, API, CLI, jobs). Writes (changes,
//! unmasking, exports, erasures) are appended before the use case answers
//! ([`AuditSink::write`]); reads (a customer 360, a search) are queued and
//! appended in batches by one background task ([`AuditSink::record`]), so a
//! busy 360 endpoint does not serialise on the store's writer. The queue is
//! bounded: when it is full the handler waits (back-pressure), nothing is
//! dropped; [`AuditSink::flush`] drains it (at shutdown and in tests).
//!
//! Detail JSON never carries personal data: ids, keys, filters by name only.

use chrono::Utc;
use rapport_store::{AuditEntry, Store};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

use crate::access::{Actor, Staff};

/// Entries queued before handlers wait.
const QUEUE: usize = 50_000;
/// Entries appended per store transaction.
const BATCH: usize = 2_000;

enum Msg {
    Entry(Box<AuditEntry>),
    Flush(oneshot::Sender<()>),
}

/// The application's audit writer. Cheap to clone.
#[derive(Clone)]
pub struct AuditSink {
    tx: mpsc::Sender<Msg>,
    store: Store,
    written: Arc<AtomicU64>,
}

impl AuditSink {
    /// Starts the background writer on the current runtime.
    pub fn start(store: Store) -> AuditSink {
        let (tx, mut rx) = mpsc::channel::<Msg>(QUEUE);
        let written = Arc::new(AtomicU64::new(0));
        let (s, w) = (store.clone(), written.clone());
        tokio::spawn(async move {
            let mut msgs = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut msgs, BATCH).await > 0 {
                let mut batch = Vec::with_capacity(msgs.len());
                let mut acks = Vec::new();
                for m in msgs.drain(..) {
                    match m {
                        Msg::Entry(e) => batch.push(*e),
                        Msg::Flush(ack) => acks.push(ack),
                    }
                }
                // A failed append is retried; the entries are never dropped silently.
                let mut attempt = 0;
                while !batch.is_empty() {
                    match s.append_audit(&batch).await {
                        Ok(()) => {
                            w.fetch_add(batch.len() as u64, Ordering::Relaxed);
                            break;
                        }
                        Err(e) => {
                            attempt += 1;
                            tracing::error!(
                                entries = batch.len(),
                                attempt,
                                error = %e,
                                "appending audit entries failed; retrying"
                            );
                            tokio::time::sleep(std::time::Duration::from_millis(
                                200 * attempt.min(25),
                            ))
                            .await;
                        }
                    }
                }
                for ack in acks {
                    let _ = ack.send(());
                }
            }
        });
        AuditSink { tx, store, written }
    }

    /// Queues a read for the background writer.
    pub async fn record(&self, entry: AuditEntry) {
        if self.tx.send(Msg::Entry(Box::new(entry))).await.is_err() {
            tracing::error!("the audit writer has stopped; an entry could not be queued");
        }
    }

    /// Appends a write's entry now; the handler fails if it cannot be recorded.
    pub async fn write(&self, entry: AuditEntry) -> Result<(), rapport_store::StoreError> {
        self.store
            .append_audit(std::slice::from_ref(&entry))
            .await?;
        self.written.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Waits until everything queued so far is in the store.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Msg::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Entries appended since start.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Entries waiting in the queue.
    pub fn queued(&self) -> usize {
        QUEUE - self.tx.capacity()
    }
}

/// An audit entry for a member of staff doing `action` on `entity`.
pub fn entry(
    staff: &Staff,
    action: &str,
    entity: &str,
    entity_id: Option<String>,
    customer_id: Option<i64>,
    detail: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        at: Utc::now(),
        actor_id: Some(staff.user.id),
        actor: staff.user.username.clone(),
        role: staff.role.as_str().to_string(),
        action: action.to_string(),
        entity: entity.to_string(),
        entity_id,
        customer_id,
        client: Some(staff.client.clone()),
        detail: detail.to_string(),
    }
}

/// An audit entry for any actor: a member of staff as [`entry`], the system
/// (a job) as `system:<job>` with no user id.
pub fn entry_for(
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: Option<String>,
    customer_id: Option<i64>,
    detail: serde_json::Value,
) -> AuditEntry {
    match actor {
        Actor::Staff(s) => entry(s, action, entity, entity_id, customer_id, detail),
        Actor::System { job } => AuditEntry {
            at: Utc::now(),
            actor_id: None,
            actor: format!("system:{job}"),
            role: "system".to_string(),
            action: action.to_string(),
            entity: entity.to_string(),
            entity_id,
            customer_id,
            client: Some(format!("job:{job}")),
            detail: detail.to_string(),
        },
    }
}
