//! Campaign approvals (`campaign_approval`, migration 0017): the
//! maker-checker record of a campaign. Each submission of a draft is a row
//! holding the SHA-256 of the spec it was submitted in; a second person
//! approves or returns it (once: the decision is conditional on the row
//! still being submitted), and editing the draft supersedes the rows of
//! older versions, so an approval never covers text nobody approved.
//!
//! Who may submit or decide, and that the checker is not the maker, is the
//! services' rule (`rapport_services::campaign`); the store keeps the rows.

use crate::dialect::on_pool;
use crate::{Result, Store};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One submission of a campaign for approval.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ApprovalRow {
    pub id: i64,
    pub campaign_id: i64,
    pub spec_sha256: String,
    /// submitted | approved | rejected | superseded
    pub state: String,
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

const COLUMNS: &str = "id, campaign_id, spec_sha256, state, submitted_by, submitted_at, \
                       decided_by, decided_at, note";

impl Store {
    /// Submits a campaign's spec version for approval. None when a
    /// submission is already pending for the campaign (nothing is written).
    pub async fn submit_campaign_approval(
        &self,
        campaign_id: i64,
        spec_sha256: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let sql = "INSERT INTO campaign_approval (campaign_id, spec_sha256, state, submitted_by, \
                   submitted_at) SELECT $1, $2, 'submitted', $3, $4 WHERE NOT EXISTS \
                   (SELECT 1 FROM campaign_approval WHERE campaign_id = $1 AND state = 'submitted') \
                   RETURNING id";
        Ok(
            on_pool!(self, p => sqlx::query_scalar(sql).bind(campaign_id).bind(spec_sha256)
            .bind(by).bind(now).fetch_optional(p).await?),
        )
    }

    /// Decides a pending submission (`approved` or `rejected`); false when
    /// it is no longer pending (decided or superseded meanwhile).
    pub async fn decide_campaign_approval(
        &self,
        id: i64,
        state: &str,
        by: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let sql = "UPDATE campaign_approval SET state = $1, decided_by = $2, decided_at = $3, \
                   note = $4 WHERE id = $5 AND state = 'submitted'";
        let n = on_pool!(self, p => sqlx::query(sql).bind(state).bind(by).bind(now).bind(note)
            .bind(id).execute(p).await?.rows_affected());
        Ok(n == 1)
    }

    /// Marks the pending or approved rows of other spec versions of a
    /// campaign superseded (the draft was edited); returns how many.
    pub async fn supersede_campaign_approvals(
        &self,
        campaign_id: i64,
        current_sha256: &str,
    ) -> Result<u64> {
        let sql = "UPDATE campaign_approval SET state = 'superseded' WHERE campaign_id = $1 \
                   AND state IN ('submitted', 'approved') AND spec_sha256 <> $2";
        Ok(
            on_pool!(self, p => sqlx::query(sql).bind(campaign_id).bind(current_sha256)
            .execute(p).await?.rows_affected()),
        )
    }

    /// A campaign's submissions, newest first.
    pub async fn campaign_approvals(&self, campaign_id: i64) -> Result<Vec<ApprovalRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM campaign_approval WHERE campaign_id = $1 ORDER BY id DESC"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(campaign_id).fetch_all(p).await?))
    }

    /// The latest submission of every campaign that has one.
    pub async fn latest_campaign_approvals(&self) -> Result<Vec<ApprovalRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM campaign_approval a WHERE a.id = \
             (SELECT MAX(b.id) FROM campaign_approval b WHERE b.campaign_id = a.campaign_id) \
             ORDER BY a.campaign_id"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql).fetch_all(p).await?))
    }
}
