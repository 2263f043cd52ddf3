//! Campaigns and the outbox (migration `0008_campaign`): the campaign and
//! its status, each audience member's arm, the outbox a dispatcher sends
//! from (claimed under a lease, retried with back-off, every change kept as
//! an event), the contact points a campaign addresses, the send history the
//! caps count, and the call and meeting tasks.
//!
//! The store enforces two things: a campaign is launched once (the launch is
//! one transaction conditional on the draft status) and a message has one
//! idempotency key (unique), so a launch cannot queue a customer twice.

use crate::dialect::on_pool;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

/// A stored campaign.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignRow {
    pub id: i64,
    pub key: String,
    pub name_en: String,
    pub name_zh: String,
    pub purpose: String,
    pub product_code: Option<String>,
    pub spec: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub launched_at: Option<DateTime<Utc>>,
    pub launched_by: Option<String>,
    pub launch_counts: Option<String>,
}

/// A campaign to save as a draft.
#[derive(Debug, Clone)]
pub struct NewCampaign<'a> {
    pub key: &'a str,
    pub name_en: &'a str,
    pub name_zh: &'a str,
    pub purpose: &'a str,
    pub product_code: Option<&'a str>,
    pub spec: &'a str,
}

/// What the campaign knows of a customer to address and greet them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactPoint {
    pub customer_id: i64,
    pub key: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub branch_code: Option<String>,
    pub branch_name: Option<String>,
    /// The assigned RM's user name and display name.
    pub rm_username: Option<String>,
    pub rm_name: Option<String>,
    /// `attributes.language` when recorded.
    pub language: Option<String>,
}

/// One audience member's arm at launch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberRow {
    pub customer_id: i64,
    /// treatment | control | blocked
    pub arm: String,
    pub channel: Option<String>,
    pub block_reason: Option<String>,
    pub reason: Option<String>,
}

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewMessage {
    pub customer_id: i64,
    pub channel: String,
    pub purpose: String,
    pub idempotency_key: String,
    pub address: String,
    pub lang: String,
    pub subject: Option<String>,
    pub body: String,
    pub scheduled_at: NaiveDateTime,
    pub window_end: NaiveDateTime,
}

/// A one-time survey link to store with a launch (the token itself is
/// never stored, only its SHA-256).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewInvitation {
    pub customer_id: i64,
    pub survey: String,
    pub token_sha256: String,
    pub expires_at: DateTime<Utc>,
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub campaign_id: Option<i64>,
    pub customer_id: i64,
    pub channel: String,
    pub purpose: String,
    pub idempotency_key: String,
    pub address: String,
    pub lang: String,
    pub subject: Option<String>,
    pub body: String,
    pub status: String,
    pub scheduled_at: NaiveDateTime,
    pub window_end: NaiveDateTime,
    pub attempts: i64,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub provider_id: Option<String>,
    pub response: Option<String>,
}

/// A call or meeting task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactTaskRow {
    pub id: i64,
    pub kind: String,
    pub customer_id: i64,
    pub message_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub assignee: String,
    pub due_at: NaiveDateTime,
    pub script: String,
    pub video_link: Option<String>,
    pub status: String,
    pub outcome: Option<String>,
}

/// A campaign's figures: members per arm, messages per status, and the
/// conversions the uplift compares.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CampaignFigures {
    pub treatment: i64,
    pub control: i64,
    pub blocked: i64,
    pub by_status: Vec<(String, i64)>,
    pub by_channel: Vec<(String, i64)>,
    /// Treated customers who responded.
    pub responded: i64,
    /// Treated customers who accepted the product (a response `accepted` or
    /// an accepted recommendation of it) in the attribution window.
    pub treatment_accepted: i64,
    /// Control customers who accepted the product in the window.
    pub control_accepted: i64,
}

const OUTBOX_COLS: &str = "id, campaign_id, customer_id, channel, purpose, idempotency_key, \
    address, lang, subject, body, status, scheduled_at, window_end, attempts, next_attempt_at, \
    last_error, provider_id, response";

const CAMPAIGN_COLS: &str = "id, key, name_en, name_zh, purpose, product_code, spec, status, \
    created_at, created_by, launched_at, launched_by, launch_counts";

type CampaignRaw = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    DateTime<Utc>,
    String,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
);

fn campaign_row(r: CampaignRaw) -> CampaignRow {
    CampaignRow {
        id: r.0,
        key: r.1,
        name_en: r.2,
        name_zh: r.3,
        purpose: r.4,
        product_code: r.5,
        spec: r.6,
        status: r.7,
        created_at: r.8,
        created_by: r.9,
        launched_at: r.10,
        launched_by: r.11,
        launch_counts: r.12,
    }
}

impl Store {
    /// Saves a campaign as a draft, or replaces a draft's spec. A launched
    /// or cancelled campaign is not changed (conflict).
    pub async fn save_campaign(
        &self,
        c: &NewCampaign<'_>,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        if let Some(old) = self.campaign_by_key(c.key).await? {
            if old.status != "draft" {
                return Err(StoreError::Conflict(format!(
                    "campaign {} is {} and can no longer be changed",
                    c.key, old.status
                )));
            }
            let sql = "UPDATE campaign SET name_en = $1, name_zh = $2, purpose = $3, \
                       product_code = $4, spec = $5 WHERE id = $6 AND status = 'draft'";
            on_pool!(self, p => {
                sqlx::query(sql).bind(c.name_en).bind(c.name_zh).bind(c.purpose)
                    .bind(c.product_code).bind(c.spec).bind(old.id).execute(p).await?;
            });
            return Ok(old.id);
        }
        let sql = "INSERT INTO campaign (key, name_en, name_zh, purpose, product_code, spec, \
                   status, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $8) \
                   RETURNING id";
        let id: i64 = on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(c.key).bind(c.name_en).bind(c.name_zh).bind(c.purpose).bind(c.product_code)
            .bind(c.spec).bind(now).bind(by).fetch_one(p).await?);
        Ok(id)
    }

    /// A campaign by its key.
    pub async fn campaign_by_key(&self, key: &str) -> Result<Option<CampaignRow>> {
        let sql = format!("SELECT {CAMPAIGN_COLS} FROM campaign WHERE key = $1");
        let r: Option<CampaignRaw> =
            on_pool!(self, p => sqlx::query_as(&sql).bind(key).fetch_optional(p).await?);
        Ok(r.map(campaign_row))
    }

    /// Every campaign, newest first.
    pub async fn campaigns(&self) -> Result<Vec<CampaignRow>> {
        let sql = format!("SELECT {CAMPAIGN_COLS} FROM campaign ORDER BY id DESC");
        let r: Vec<CampaignRaw> = on_pool!(self, p => sqlx::query_as(&sql).fetch_all(p).await?);
        Ok(r.into_iter().map(campaign_row).collect())
    }

    /// Name, addresses, branch, RM and language of every customer (ordered
    /// by id), for addressing and personalising messages.
    pub async fn contact_points(&self) -> Result<Vec<ContactPoint>> {
        self.contact_points_where(None).await
    }

    /// One customer's contact point.
    pub async fn contact_points_of(&self, customer_id: i64) -> Result<Option<ContactPoint>> {
        Ok(self.contact_points_where(Some(customer_id)).await?.pop())
    }

    async fn contact_points_where(&self, one: Option<i64>) -> Result<Vec<ContactPoint>> {
        let lang = match self {
            Store::Sqlite(_) => "json_extract(c.attributes, '$.language')",
            Store::Postgres(_) => "(c.attributes::jsonb ->> 'language')",
        };
        let sql = format!(
            "SELECT c.id, COALESCE((SELECT k.source_key FROM customer_source_key k \
             WHERE k.customer_id = c.id ORDER BY k.id LIMIT 1), '#' || c.id), c.name, c.phone, \
             c.email, b.code, b.name, u.username, u.display_name, \
             CASE WHEN c.attributes IS NULL OR c.attributes = '' THEN NULL ELSE {lang} END \
             FROM customer c LEFT JOIN branch b ON b.id = c.branch_id \
             LEFT JOIN rm_assignment r ON r.customer_id = c.id \
             LEFT JOIN staff_user u ON u.id = r.staff_user_id {} ORDER BY c.id",
            if one.is_some() { "WHERE c.id = $1" } else { "" }
        );
        type Raw = (
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Raw> = on_pool!(self, p => {
            let q = sqlx::query_as(&sql);
            match one {
                Some(id) => q.bind(id).fetch_all(p).await?,
                None => q.fetch_all(p).await?,
            }
        });
        Ok(rows
            .into_iter()
            .map(|r| ContactPoint {
                customer_id: r.0,
                key: r.1,
                name: r.2,
                phone: r.3,
                email: r.4,
                branch_code: r.5,
                branch_name: r.6,
                rm_username: r.7,
                rm_name: r.8,
                language: r.9,
            })
            .collect())
    }

    /// Every consent row, by customer then date (for planning a campaign
    /// over many customers at once).
    pub async fn all_consents(&self) -> Result<Vec<(i64, crate::ConsentRow)>> {
        let sql = "SELECT customer_id, channel, purpose, granted, recorded_on, revoked_on \
                   FROM consent_all ORDER BY customer_id, recorded_on, seq, id";
        type Raw = (
            i64,
            String,
            String,
            bool,
            chrono::NaiveDate,
            Option<chrono::NaiveDate>,
        );
        let rows: Vec<Raw> = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.0,
                    crate::ConsentRow {
                        channel: r.1,
                        purpose: r.2,
                        granted: r.3,
                        recorded_on: r.4,
                        revoked_on: r.5,
                    },
                )
            })
            .collect())
    }

    /// The latest saved membership of a segment: its date and members.
    pub async fn latest_segment_members(
        &self,
        code: &str,
    ) -> Result<Option<(chrono::NaiveDate, Vec<i64>)>> {
        let sql = "SELECT m.as_of FROM segment_membership m JOIN segment s ON s.id = m.segment_id \
                   WHERE s.code = $1 ORDER BY m.as_of DESC LIMIT 1";
        let as_of: Option<chrono::NaiveDate> =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(code).fetch_optional(p).await?);
        match as_of {
            Some(d) => Ok(Some((d, self.segment_members(code, d).await?))),
            None => Ok(None),
        }
    }

    /// Every customer's stored risk tolerance and assessment day.
    pub async fn customer_risks(
        &self,
    ) -> Result<Vec<(i64, Option<String>, Option<chrono::NaiveDate>)>> {
        let sql = "SELECT id, risk_tolerance, risk_assessed_on FROM customer ORDER BY id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// Customers who chose not to be disturbed.
    pub async fn do_not_disturb_customers(&self) -> Result<Vec<i64>> {
        let sql = "SELECT customer_id FROM contact_preference WHERE do_not_disturb";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).fetch_all(p).await?))
    }

    /// Messages the caps count: queued, sent, delivered or responded since
    /// `since` (local time; a queued message counts at its scheduled time,
    /// a sent one at its scheduled time too, which is when it was allowed).
    pub async fn send_history(
        &self,
        since: NaiveDateTime,
    ) -> Result<Vec<(i64, i64, String, String, NaiveDateTime)>> {
        let sql = "SELECT customer_id, id, channel, purpose, scheduled_at FROM outbox_message \
                   WHERE status IN ('queued', 'sent', 'delivered', 'responded') \
                   AND scheduled_at > $1 ORDER BY customer_id, scheduled_at";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(since).fetch_all(p).await?))
    }

    /// One customer's messages the caps count (as [`Store::send_history`]):
    /// (channel, purpose, scheduled local time).
    pub async fn customer_send_history(
        &self,
        customer_id: i64,
        since: NaiveDateTime,
    ) -> Result<Vec<(String, String, NaiveDateTime)>> {
        let sql = "SELECT channel, purpose, scheduled_at FROM outbox_message \
                   WHERE customer_id = $1 AND status IN ('queued', 'sent', 'delivered', 'responded') \
                   AND scheduled_at > $2 ORDER BY scheduled_at";
        Ok(
            on_pool!(self, p => sqlx::query_as(sql).bind(customer_id).bind(since).fetch_all(p).await?),
        )
    }

    /// Launches a draft: members, messages (with a `queued` event each),
    /// the decision log and the counts, in one transaction conditional on
    /// the campaign still being a draft. Returns the queued message ids.
    #[allow(clippy::too_many_arguments)]
    pub async fn launch_campaign(
        &self,
        campaign_id: i64,
        members: &[MemberRow],
        messages: &[NewMessage],
        decisions: &[crate::ContactDecisionRow],
        invitations: &[NewInvitation],
        counts_json: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        let claim = "UPDATE campaign SET status = 'launched', launched_at = $1, launched_by = $2, \
                     launch_counts = $3 WHERE id = $4 AND status = 'draft'";
        let member_sql = "INSERT INTO campaign_member (campaign_id, customer_id, arm, channel, \
                          block_reason, reason) VALUES ($1, $2, $3, $4, $5, $6)";
        let msg_sql = "INSERT INTO outbox_message (campaign_id, customer_id, channel, purpose, \
                       idempotency_key, address, lang, subject, body, status, scheduled_at, \
                       window_end, attempts, next_attempt_at, queued_at) VALUES ($1, $2, $3, $4, \
                       $5, $6, $7, $8, $9, 'queued', $10, $11, 0, $10, $12) RETURNING id";
        let event_sql = "INSERT INTO outbox_event (message_id, at, status, attempt, detail) \
                         VALUES ($1, $2, 'queued', 0, $3)";
        let decision_sql = "INSERT INTO contact_decision (customer_id, channel, purpose, send_at, \
                   decided_at, allowed, code, defer_until, reason, context, decided_by) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
        let invitation_sql = "INSERT INTO survey_invitation (token_sha256, survey, customer_id, \
                              campaign_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
        let detail = format!("campaign {campaign_id}");
        let ids = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query(claim).bind(now).bind(by).bind(counts_json).bind(campaign_id)
                .execute(&mut *tx).await?.rows_affected();
            if done != 1 {
                return Err(StoreError::Conflict(format!(
                    "campaign {campaign_id} is not a draft (already launched or cancelled)"
                )));
            }
            for m in members {
                sqlx::query(member_sql).bind(campaign_id).bind(m.customer_id).bind(&m.arm)
                    .bind(&m.channel).bind(&m.block_reason).bind(&m.reason)
                    .execute(&mut *tx).await?;
            }
            let mut ids = Vec::with_capacity(messages.len());
            for m in messages {
                let id: i64 = sqlx::query_scalar(msg_sql).bind(campaign_id).bind(m.customer_id)
                    .bind(&m.channel).bind(&m.purpose).bind(&m.idempotency_key).bind(&m.address)
                    .bind(&m.lang).bind(&m.subject).bind(&m.body).bind(m.scheduled_at)
                    .bind(m.window_end).bind(now).fetch_one(&mut *tx).await?;
                sqlx::query(event_sql).bind(id).bind(now).bind(&detail).execute(&mut *tx).await?;
                ids.push(id);
            }
            for r in decisions {
                sqlx::query(decision_sql)
                    .bind(r.customer_id).bind(&r.channel).bind(&r.purpose).bind(r.send_at)
                    .bind(now).bind(r.allowed).bind(&r.code).bind(r.defer_until)
                    .bind(&r.reason).bind(&r.context).bind(&r.decided_by)
                    .execute(&mut *tx).await?;
            }
            for i in invitations {
                sqlx::query(invitation_sql).bind(&i.token_sha256).bind(&i.survey)
                    .bind(i.customer_id).bind(campaign_id).bind(now).bind(i.expires_at)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            ids
        });
        Ok(ids)
    }

    /// Queues one message outside a campaign (e.g. the survey after a case),
    /// with its `queued` event and optional survey link; a repeated
    /// idempotency key is a conflict, so the message is queued once.
    pub async fn enqueue_message(
        &self,
        m: &NewMessage,
        invitation: Option<&NewInvitation>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let msg_sql = "INSERT INTO outbox_message (campaign_id, customer_id, channel, purpose, \
                       idempotency_key, address, lang, subject, body, status, scheduled_at, \
                       window_end, attempts, next_attempt_at, queued_at) SELECT NULL, $1, $2, $3, \
                       $4, $5, $6, $7, $8, 'queued', $9, $10, 0, $9, $11 WHERE NOT EXISTS \
                       (SELECT 1 FROM outbox_message WHERE idempotency_key = $4) RETURNING id";
        let event_sql = "INSERT INTO outbox_event (message_id, at, status, attempt, detail) \
                         VALUES ($1, $2, 'queued', 0, $3)";
        let invitation_sql = "INSERT INTO survey_invitation (token_sha256, survey, customer_id, \
                              campaign_id, created_at, expires_at) VALUES ($1, $2, $3, NULL, $4, $5)";
        let id = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let id: Option<i64> = sqlx::query_scalar(msg_sql).bind(m.customer_id).bind(&m.channel)
                .bind(&m.purpose).bind(&m.idempotency_key).bind(&m.address).bind(&m.lang)
                .bind(&m.subject).bind(&m.body).bind(m.scheduled_at).bind(m.window_end).bind(now)
                .fetch_optional(&mut *tx).await?;
            let Some(id) = id else {
                return Err(StoreError::Conflict(format!(
                    "message {} is already queued", m.idempotency_key
                )));
            };
            sqlx::query(event_sql).bind(id).bind(now).bind(detail).execute(&mut *tx).await?;
            if let Some(i) = invitation {
                sqlx::query(invitation_sql).bind(&i.token_sha256).bind(&i.survey)
                    .bind(i.customer_id).bind(now).bind(i.expires_at).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// Claims up to `limit` messages due at local time `now_local` (queued
    /// and past their next attempt) for `worker` until `lease_until`; a
    /// message another worker holds under a live lease is skipped.
    pub async fn claim_due_messages(
        &self,
        now_local: NaiveDateTime,
        now: DateTime<Utc>,
        worker: &str,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<OutboxRow>> {
        let pick = format!(
            "SELECT id FROM outbox_message WHERE status = 'queued' AND next_attempt_at <= $1 \
             AND (lease_until IS NULL OR lease_until < $2) ORDER BY next_attempt_at, id LIMIT {}",
            limit.clamp(1, 10_000)
        );
        let claim = "UPDATE outbox_message SET lease_until = $1, claimed_by = $2 WHERE id = $3 \
                     AND status = 'queued' AND (lease_until IS NULL OR lease_until < $4)";
        let read = format!("SELECT {OUTBOX_COLS} FROM outbox_message WHERE id = $1");
        let rows = on_pool!(self, p => {
            let ids: Vec<i64> = sqlx::query_scalar(&pick).bind(now_local).bind(now)
                .fetch_all(p).await?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                let got = sqlx::query(claim).bind(lease_until).bind(worker).bind(id).bind(now)
                    .execute(p).await?.rows_affected();
                if got == 1 {
                    let r: OutboxRow = sqlx::query_as(&read).bind(id).fetch_one(p).await?;
                    rows.push(r);
                }
            }
            rows
        });
        Ok(rows)
    }

    /// Moves a message to `status` (sent, delivered, failed, cancelled,
    /// responded, or back to queued for a retry at `next_attempt_at`),
    /// stamps the matching time column, releases the lease and appends the
    /// event. Only moves forward from the statuses `from` lists.
    #[allow(clippy::too_many_arguments)]
    pub async fn move_message(
        &self,
        id: i64,
        from: &[&str],
        status: &str,
        attempts: i64,
        next_attempt_at: Option<NaiveDateTime>,
        detail: Option<&str>,
        provider_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let stamp = match status {
            "sent" => ", sent_at = $6",
            "delivered" => ", delivered_at = $6",
            "failed" | "cancelled" => ", failed_at = $6",
            "responded" => ", responded_at = $6, response = $3",
            _ => ", sent_at = sent_at",
        };
        let allowed: Vec<String> = from
            .iter()
            .map(|s| format!("'{}'", s.replace('\'', "")))
            .collect();
        let sql = format!(
            "UPDATE outbox_message SET status = $1, attempts = $2, last_error = CASE WHEN $1 IN \
             ('failed', 'cancelled', 'queued') THEN $3 ELSE last_error END, \
             next_attempt_at = COALESCE($4, next_attempt_at), \
             provider_id = COALESCE($5, provider_id), lease_until = NULL, claimed_by = NULL{stamp} \
             WHERE id = $7 AND status IN ({})",
            allowed.join(", ")
        );
        let event = "INSERT INTO outbox_event (message_id, at, status, attempt, detail) \
                     VALUES ($1, $2, $3, $4, $5)";
        let moved = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(&sql).bind(status).bind(attempts).bind(detail)
                .bind(next_attempt_at).bind(provider_id).bind(now).bind(id)
                .execute(&mut *tx).await?.rows_affected();
            if n == 1 {
                sqlx::query(event).bind(id).bind(now).bind(status).bind(attempts).bind(detail)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            n == 1
        });
        Ok(moved)
    }

    /// A message by its idempotency key.
    pub async fn message_by_key(&self, key: &str) -> Result<Option<OutboxRow>> {
        let sql = format!("SELECT {OUTBOX_COLS} FROM outbox_message WHERE idempotency_key = $1");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(key).fetch_optional(p).await?))
    }

    /// A campaign's messages, by id.
    pub async fn campaign_messages(&self, campaign_id: i64) -> Result<Vec<OutboxRow>> {
        let sql =
            format!("SELECT {OUTBOX_COLS} FROM outbox_message WHERE campaign_id = $1 ORDER BY id");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(campaign_id).fetch_all(p).await?))
    }

    /// A message's history: (time, status, attempt, detail), oldest first.
    pub async fn message_events(
        &self,
        message_id: i64,
    ) -> Result<Vec<(DateTime<Utc>, String, i64, Option<String>)>> {
        let sql = "SELECT at, status, attempt, detail FROM outbox_event WHERE message_id = $1 \
                   ORDER BY id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(message_id).fetch_all(p).await?))
    }

    /// The customers a campaign sent to (treatment arm, message not failed
    /// or cancelled), by id.
    pub async fn campaign_recipients(&self, campaign_id: i64) -> Result<Vec<i64>> {
        let sql = "SELECT DISTINCT customer_id FROM outbox_message WHERE campaign_id = $1 \
                   AND status IN ('sent', 'delivered', 'responded') ORDER BY customer_id";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).bind(campaign_id).fetch_all(p).await?))
    }

    /// Creates a call or meeting task for a message.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_contact_task(
        &self,
        kind: &str,
        customer_id: i64,
        message_id: Option<i64>,
        campaign_id: Option<i64>,
        assignee: &str,
        due_at: NaiveDateTime,
        script: &str,
        video_link: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let sql =
            "INSERT INTO contact_task (kind, customer_id, message_id, campaign_id, assignee, \
                   due_at, script, video_link, status, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9) RETURNING id";
        Ok(
            on_pool!(self, p => sqlx::query_scalar(sql).bind(kind).bind(customer_id)
            .bind(message_id).bind(campaign_id).bind(assignee).bind(due_at).bind(script)
            .bind(video_link).bind(now).fetch_one(p).await?),
        )
    }

    /// Open or all tasks of an assignee (all assignees when `None`), by due time.
    pub async fn contact_tasks(
        &self,
        assignee: Option<&str>,
        open_only: bool,
    ) -> Result<Vec<ContactTaskRow>> {
        let sql = format!(
            "SELECT id, kind, customer_id, message_id, campaign_id, assignee, due_at, script, \
             video_link, status, outcome FROM contact_task WHERE ($1 IS NULL OR assignee = $1) {} \
             ORDER BY due_at, id",
            if open_only { "AND status = 'open'" } else { "" }
        );
        type Raw = (
            i64,
            String,
            i64,
            Option<i64>,
            Option<i64>,
            String,
            NaiveDateTime,
            String,
            Option<String>,
            String,
            Option<String>,
        );
        let rows: Vec<Raw> =
            on_pool!(self, p => sqlx::query_as(&sql).bind(assignee).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|r| ContactTaskRow {
                id: r.0,
                kind: r.1,
                customer_id: r.2,
                message_id: r.3,
                campaign_id: r.4,
                assignee: r.5,
                due_at: r.6,
                script: r.7,
                video_link: r.8,
                status: r.9,
                outcome: r.10,
            })
            .collect())
    }

    /// A campaign's figures; acceptances count from `from` to `to` (UTC).
    pub async fn campaign_figures(
        &self,
        campaign_id: i64,
        product_code: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<CampaignFigures> {
        let arms = "SELECT arm, COUNT(*) FROM campaign_member WHERE campaign_id = $1 GROUP BY arm";
        let status = "SELECT status, COUNT(*) FROM outbox_message WHERE campaign_id = $1 \
                      GROUP BY status ORDER BY status";
        let channel = "SELECT channel, COUNT(*) FROM outbox_message WHERE campaign_id = $1 \
                       GROUP BY channel ORDER BY channel";
        let responded = "SELECT COUNT(DISTINCT customer_id) FROM outbox_message \
                         WHERE campaign_id = $1 AND responded_at IS NOT NULL";
        // Accepted: an accepted recommendation of the product recorded in the
        // window, or (treated only) a response 'accepted'.
        let accepted = "SELECT COUNT(*) FROM campaign_member m WHERE m.campaign_id = $1 \
             AND m.arm = $2 AND (EXISTS (SELECT 1 FROM recommendation r \
               JOIN recommendation_outcome o ON o.recommendation_id = r.id \
               WHERE r.customer_id = m.customer_id AND r.product_code = $3 \
               AND o.outcome = 'accepted' AND o.recorded_at >= $4 AND o.recorded_at < $5) \
             OR EXISTS (SELECT 1 FROM outbox_message x WHERE x.campaign_id = m.campaign_id \
               AND x.customer_id = m.customer_id AND x.response = 'accepted'))";
        let f = on_pool!(self, p => {
            let arm_rows: Vec<(String, i64)> =
                sqlx::query_as(arms).bind(campaign_id).fetch_all(p).await?;
            let by_status: Vec<(String, i64)> =
                sqlx::query_as(status).bind(campaign_id).fetch_all(p).await?;
            let by_channel: Vec<(String, i64)> =
                sqlx::query_as(channel).bind(campaign_id).fetch_all(p).await?;
            let responded: i64 = sqlx::query_scalar(responded).bind(campaign_id).fetch_one(p).await?;
            let mut acc = [0i64; 2];
            for (i, arm) in ["treatment", "control"].iter().enumerate() {
                acc[i] = sqlx::query_scalar(accepted).bind(campaign_id).bind(*arm)
                    .bind(product_code).bind(from).bind(to).fetch_one(p).await?;
            }
            let get = |a: &str| arm_rows.iter().find(|r| r.0 == a).map_or(0, |r| r.1);
            CampaignFigures {
                treatment: get("treatment"),
                control: get("control"),
                blocked: get("blocked"),
                by_status,
                by_channel,
                responded,
                treatment_accepted: acc[0],
                control_accepted: acc[1],
            }
        });
        Ok(f)
    }
}
