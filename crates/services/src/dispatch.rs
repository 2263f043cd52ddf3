//! The dispatcher: sends what the outbox holds, when it is due.
//!
//! One round claims due messages under a lease (so several dispatchers can
//! share the outbox), then for each:
//!
//! 1. past its window: **failed** (`window closed`);
//! 2. the contact policy again at the clock's local time, without the caps
//!    (they were reserved at launch: a queued message already counts): a
//!    consent revoked or do-not-disturb set since the launch **cancels** it;
//!    quiet hours **defer** it to their end (or fail it if the window
//!    closes first). The decision is logged;
//! 3. hands it to its channel: e-mail to SMTP, SMS/app push/WeChat to the
//!    HTTP gateway, phone to a call task for the RM (or the call centre),
//!    meeting to a meeting task with its video link plus the invitation by
//!    SMS through the gateway;
//! 4. success: **sent** (and **delivered** when the gateway says so);
//!    a retryable failure goes back to **queued** after an exponential
//!    back-off until `campaigns.max_attempts`, then **failed**; a permanent
//!    failure is **failed** at once. Every change is an `outbox_event`.
//!
//! A retry carries the same idempotency key, so a message the gateway took
//! before a crash is not sent twice (the gateway answers 409, which counts
//! as sent).

use crate::clock::Clock;
use anyhow::Result;
use chrono::Duration;
use rapport_channels::{HttpGateway, OutboundMessage, SendError, SmtpChannel};
use rapport_engage::campaign::backoff_secs;
use rapport_engage::{decide, ContactPolicy, Purpose, SendChannel, SendDecisionCode};
use rapport_store::{ContactDecisionRow, OutboxRow, Store};
use serde::Serialize;

/// Dispatcher settings (from `[campaigns]`).
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    pub max_attempts: u32,
    pub backoff_base_secs: u64,
    pub backoff_max_secs: u64,
    pub lease_secs: u64,
    pub batch: i64,
    pub call_centre: String,
    /// Base of meeting video links (the link in a meeting's text starts with it).
    pub video_base_url: String,
}

impl DispatchSettings {
    pub fn from_config(c: &crate::config::CampaignsConfig) -> DispatchSettings {
        DispatchSettings {
            max_attempts: c.max_attempts,
            backoff_base_secs: c.backoff_base_secs,
            backoff_max_secs: c.backoff_max_secs,
            lease_secs: c.lease_secs,
            batch: c.batch,
            call_centre: c.call_centre.clone(),
            video_base_url: c.video_base_url.trim_end_matches('/').to_string(),
        }
    }
}

/// What one or more rounds did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DispatchReport {
    pub claimed: u64,
    pub sent: u64,
    pub delivered: u64,
    pub retried: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub deferred: u64,
    pub tasks: u64,
}

impl DispatchReport {
    fn add(&mut self, o: &DispatchReport) {
        self.claimed += o.claimed;
        self.sent += o.sent;
        self.delivered += o.delivered;
        self.retried += o.retried;
        self.failed += o.failed;
        self.cancelled += o.cancelled;
        self.deferred += o.deferred;
        self.tasks += o.tasks;
    }
}

/// Sends from the outbox.
pub struct Dispatcher {
    pub store: Store,
    pub smtp: Option<SmtpChannel>,
    pub gateway: Option<HttpGateway>,
    pub policy: ContactPolicy,
    pub settings: DispatchSettings,
    /// Who claims (kept on the claimed rows).
    pub worker: String,
}

enum Delivery {
    Sent {
        provider_id: Option<String>,
        delivered: bool,
        task: bool,
    },
    Failed(SendError),
}

impl Dispatcher {
    /// A dispatcher from the configuration (SMTP and gateway when configured).
    pub fn from_config(store: Store, cfg: &crate::config::Config) -> Result<Dispatcher> {
        let smtp = match &cfg.smtp {
            Some(s) => Some(SmtpChannel::new(s).map_err(|e| anyhow::anyhow!("smtp: {e}"))?),
            None => None,
        };
        let gateway = match &cfg.gateway {
            Some(g) => Some(HttpGateway::new(g).map_err(|e| anyhow::anyhow!("gateway: {e}"))?),
            None => None,
        };
        Ok(Dispatcher {
            store,
            smtp,
            gateway,
            policy: cfg.contact.policy()?,
            settings: DispatchSettings::from_config(&cfg.campaigns),
            worker: format!("dispatch:{}", std::process::id()),
        })
    }

    /// Runs rounds until nothing is due at the clock's time.
    pub async fn drain(&self, clock: &Clock) -> Result<DispatchReport> {
        let mut total = DispatchReport::default();
        loop {
            let r = self.run_once(clock).await?;
            let claimed = r.claimed;
            total.add(&r);
            if claimed == 0 {
                return Ok(total);
            }
        }
    }

    /// One round: claims up to `batch` due messages and handles each.
    pub async fn run_once(&self, clock: &Clock) -> Result<DispatchReport> {
        let now = clock.now();
        let lease = now + Duration::seconds(self.settings.lease_secs as i64);
        let rows = self
            .store
            .claim_due_messages(clock.local(), now, &self.worker, lease, self.settings.batch)
            .await?;
        let mut r = DispatchReport {
            claimed: rows.len() as u64,
            ..DispatchReport::default()
        };
        let mut decisions = Vec::new();
        for m in rows {
            self.handle(&m, clock, &mut r, &mut decisions).await?;
        }
        if !decisions.is_empty() {
            self.store
                .log_contact_decisions(&decisions, clock.now())
                .await?;
        }
        Ok(r)
    }

    async fn handle(
        &self,
        m: &OutboxRow,
        clock: &Clock,
        r: &mut DispatchReport,
        decisions: &mut Vec<ContactDecisionRow>,
    ) -> Result<()> {
        let now = clock.now();
        let local = clock.local();
        let queued = &["queued"];
        if local > m.window_end {
            self.store
                .move_message(
                    m.id,
                    queued,
                    "failed",
                    m.attempts,
                    None,
                    Some("window closed"),
                    None,
                    now,
                )
                .await?;
            r.failed += 1;
            return Ok(());
        }
        let (Some(channel), Some(purpose)) =
            (SendChannel::parse(&m.channel), Purpose::parse(&m.purpose))
        else {
            let why = format!("unknown channel {:?} or purpose {:?}", m.channel, m.purpose);
            self.store
                .move_message(
                    m.id,
                    queued,
                    "failed",
                    m.attempts,
                    None,
                    Some(&why),
                    None,
                    now,
                )
                .await?;
            r.failed += 1;
            return Ok(());
        };
        // The policy again, without the caps (reserved at launch).
        let consents = crate::consents::consents(&self.store, m.customer_id).await?;
        let dnd = self.store.do_not_disturb(m.customer_id).await?;
        let no_caps = ContactPolicy {
            caps: Vec::new(),
            ..self.policy.clone()
        };
        let d = decide(&no_caps, &consents, dnd, &[], channel, purpose, local);
        decisions.push(ContactDecisionRow {
            customer_id: m.customer_id,
            channel: m.channel.clone(),
            purpose: m.purpose.clone(),
            send_at: local,
            allowed: d.allowed,
            code: d.code.as_str().into(),
            defer_until: d.defer_until,
            reason: format!("{} / {}", d.reason_en, d.reason_zh),
            context: format!("dispatch:{}", m.idempotency_key),
            decided_by: self.worker.clone(),
        });
        match d.code {
            SendDecisionCode::Allowed => {}
            SendDecisionCode::QuietHours => {
                let until = d.defer_until.unwrap_or(local);
                if until > m.window_end {
                    self.store
                        .move_message(
                            m.id,
                            queued,
                            "failed",
                            m.attempts,
                            None,
                            Some("quiet hours until after the window closes"),
                            None,
                            now,
                        )
                        .await?;
                    r.failed += 1;
                } else {
                    self.store
                        .move_message(
                            m.id,
                            queued,
                            "queued",
                            m.attempts,
                            Some(until),
                            Some("deferred: quiet hours"),
                            None,
                            now,
                        )
                        .await?;
                    r.deferred += 1;
                }
                return Ok(());
            }
            _ => {
                let why = format!("cancelled before sending: {}", d.reason_en);
                self.store
                    .move_message(
                        m.id,
                        queued,
                        "cancelled",
                        m.attempts,
                        None,
                        Some(&why),
                        None,
                        now,
                    )
                    .await?;
                r.cancelled += 1;
                return Ok(());
            }
        }
        let attempts = m.attempts + 1;
        match self.deliver(m, channel, clock).await? {
            Delivery::Sent {
                provider_id,
                delivered,
                task,
            } => {
                self.store
                    .move_message(
                        m.id,
                        queued,
                        "sent",
                        attempts,
                        None,
                        None,
                        provider_id.as_deref(),
                        now,
                    )
                    .await?;
                r.sent += 1;
                if task {
                    r.tasks += 1;
                }
                if delivered {
                    self.store
                        .move_message(
                            m.id,
                            &["sent"],
                            "delivered",
                            attempts,
                            None,
                            None,
                            None,
                            now,
                        )
                        .await?;
                    r.delivered += 1;
                }
            }
            Delivery::Failed(e) => {
                let detail = e.to_string();
                if e.retryable() && attempts < i64::from(self.settings.max_attempts) {
                    let wait = backoff_secs(
                        self.settings.backoff_base_secs,
                        self.settings.backoff_max_secs,
                        attempts as u32,
                    );
                    let next = local + Duration::seconds(wait as i64);
                    self.store
                        .move_message(
                            m.id,
                            queued,
                            "queued",
                            attempts,
                            Some(next),
                            Some(&detail),
                            None,
                            now,
                        )
                        .await?;
                    r.retried += 1;
                } else {
                    self.store
                        .move_message(
                            m.id,
                            queued,
                            "failed",
                            attempts,
                            None,
                            Some(&detail),
                            None,
                            now,
                        )
                        .await?;
                    r.failed += 1;
                }
            }
        }
        Ok(())
    }

    async fn deliver(
        &self,
        m: &OutboxRow,
        channel: SendChannel,
        clock: &Clock,
    ) -> Result<Delivery> {
        let out = |ch: &str| OutboundMessage {
            idempotency_key: m.idempotency_key.clone(),
            channel: ch.to_string(),
            to: m.address.clone(),
            subject: m.subject.clone(),
            body: m.body.clone(),
            lang: m.lang.clone(),
            customer_ref: format!("#{}", m.customer_id),
            campaign: m.campaign_id.map(|c| c.to_string()),
        };
        let sent = |receipt: rapport_channels::Receipt| Delivery::Sent {
            provider_id: receipt.provider_id,
            delivered: receipt.delivered,
            task: false,
        };
        Ok(match channel {
            SendChannel::Email => match &self.smtp {
                Some(s) => match s.send(&out("email")).await {
                    Ok(rc) => sent(rc),
                    Err(e) => Delivery::Failed(e),
                },
                None => Delivery::Failed(SendError::Retryable("no [smtp] configured".into())),
            },
            SendChannel::Sms | SendChannel::AppPush | SendChannel::Wechat => match &self.gateway {
                Some(g) => match g.send(&out(channel.as_str())).await {
                    Ok(rc) => sent(rc),
                    Err(e) => Delivery::Failed(e),
                },
                None => Delivery::Failed(SendError::Retryable("no [gateway] configured".into())),
            },
            SendChannel::Phone | SendChannel::Meeting => {
                // The invitation goes first so a gateway failure retries
                // before any task exists; the task is created once.
                let video = if channel == SendChannel::Meeting {
                    // The rendered text carries the room's link (and maybe a survey link).
                    let base = &self.settings.video_base_url;
                    let link = (!base.is_empty())
                        .then(|| {
                            m.body.find(base.as_str()).map(|i| {
                                m.body[i..]
                                    .split(|c: char| c.is_whitespace() || "，。；）)".contains(c))
                                    .next()
                                    .unwrap_or_default()
                                    .to_string()
                            })
                        })
                        .flatten();
                    match &self.gateway {
                        Some(g) => {
                            if let Err(e) = g.send(&out("sms")).await {
                                return Ok(Delivery::Failed(e));
                            }
                        }
                        None => {
                            return Ok(Delivery::Failed(SendError::Retryable(
                                "no [gateway] configured for the meeting invitation".into(),
                            )))
                        }
                    }
                    link
                } else {
                    None
                };
                let assignee = self
                    .store
                    .contact_points_of(m.customer_id)
                    .await?
                    .and_then(|p| {
                        p.rm_username
                            .or(p.branch_code.map(|b| format!("branch:{b}")))
                    })
                    .unwrap_or_else(|| self.settings.call_centre.clone());
                let kind = if channel == SendChannel::Phone {
                    "call"
                } else {
                    "meeting"
                };
                let due = clock.local().max(m.scheduled_at);
                let id = self
                    .store
                    .create_contact_task(
                        kind,
                        m.customer_id,
                        Some(m.id),
                        m.campaign_id,
                        &assignee,
                        due,
                        &m.body,
                        video.as_deref(),
                        clock.now(),
                    )
                    .await?;
                Delivery::Sent {
                    provider_id: Some(format!("task:{id}")),
                    delivered: false,
                    task: true,
                }
            }
        })
    }
}
