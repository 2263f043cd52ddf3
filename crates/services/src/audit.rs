//! The audit trail, for every adapter (web, API, CLI, jobs). Every entry is
//! in the store before the use case answers: writes (changes, unmasking,
//! exports, erasures) are appended by the handler itself
//! ([`AuditSink::write`]); reads (a customer 360, a search, a denied
//! attempt) go through one background writer that appends them in batches
//! (group commit) and [`AuditSink::record`] waits until its entry's batch is
//! committed, so a busy 360 endpoint does not serialise on the store's
//! writer one row at a time, and a read answered just before a crash
//! (kill -9) is audited all the same. The queue is bounded: when it is full
//! the handler waits (back-pressure); a failed append is retried, nothing is
//! dropped; [`AuditSink::flush`] waits for everything queued.
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
    /// An entry and who waits for it to be committed.
    Entry(Box<AuditEntry>, Option<oneshot::Sender<()>>),
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
                        Msg::Entry(e, ack) => {
                            batch.push(*e);
                            acks.extend(ack);
                        }
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

    /// Records a read: hands it to the background writer and returns once
    /// the batch holding it is committed (the caller answers only then). If
    /// the writer has stopped, the entry is appended directly.
    pub async fn record(&self, entry: AuditEntry) {
        let (ack, done) = oneshot::channel();
        let entry = match self.tx.send(Msg::Entry(Box::new(entry), Some(ack))).await {
            Ok(()) => {
                if done.await.is_ok() {
                    return;
                }
                tracing::error!("the audit writer stopped before committing an entry");
                return;
            }
            Err(mpsc::error::SendError(Msg::Entry(e, _))) => *e,
            Err(_) => return,
        };
        tracing::warn!("the audit writer has stopped; appending an entry directly");
        if let Err(e) = self.write(entry).await {
            tracing::error!(error = %e, "appending an audit entry failed");
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

/// An audit entry for a refused request: who asked, for what (the method
/// and path, which name the object), and the answer (403 forbidden, 404 not
/// found or out of scope, 429 over a limit). Written for every refusal of a
/// signed-in caller, so probing leaves a trace.
pub fn denial(staff: &Staff, method: &str, route: &str, path: &str, status: u16) -> AuditEntry {
    let reason = match status {
        403 => "forbidden",
        404 => "not_found_or_out_of_scope",
        429 => "rate_limited",
        _ => "refused",
    };
    entry(
        staff,
        "access.denied",
        "request",
        Some(format!("{method} {path}")),
        None,
        serde_json::json!({ "route": route, "status": status, "reason": reason }),
    )
}

/// Records a refusal of a command-line use case: who was named (`--actor`,
/// looked up to keep their id and role; an unknown name is kept as typed),
/// the command asked for and why it was refused. The web audits its
/// refusals per request ([`denial`]).
pub async fn record_cli_refusal(
    store: &Store,
    actor: Option<&str>,
    command: &str,
    reason: &str,
) -> Result<(), rapport_store::StoreError> {
    let name = actor.map(str::trim).filter(|s| !s.is_empty());
    let user = match name {
        Some(n) => store.staff_user_by_name(n).await?,
        None => None,
    };
    let e = AuditEntry {
        at: Utc::now(),
        actor_id: user.as_ref().map(|u| u.id),
        actor: name.unwrap_or("(none)").chars().take(64).collect(),
        role: user.map(|u| u.role).unwrap_or_else(|| "unknown".into()),
        action: "access.denied".into(),
        entity: "command".into(),
        entity_id: Some(command.to_string()),
        customer_id: None,
        client: Some("cli".into()),
        detail: serde_json::json!({ "reason": reason }).to_string(),
    };
    store.append_audit(std::slice::from_ref(&e)).await
}
