//! Survey links and answers (migrations `0008_campaign` and `0009_survey`):
//! the one-time invitation behind a link (only the SHA-256 of its token is
//! stored), the answers submitted through it (one row per answered
//! question), and the counts a results report needs.
//!
//! The store enforces one thing: a link is used once and not after it
//! expires. [`Store::submit_survey`] marks the invitation used with an
//! `UPDATE` conditional on "not used, not expired" and stores the answers in
//! the same transaction, so two submissions racing on one link store one
//! sheet. It has no rules about content: whether an answer fits its question
//! is the caller's business (`rapport_engage::survey::validate_answers`).

use crate::dialect::on_pool;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A one-time survey link as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvitationRow {
    pub id: i64,
    /// The survey definition's key.
    pub survey: String,
    pub customer_id: i64,
    /// The campaign that sent the link, if any.
    pub campaign_id: Option<i64>,
    pub expires_at: DateTime<Utc>,
    /// When the answers were submitted; None while the link is unused.
    pub used_at: Option<DateTime<Utc>>,
}

/// One answered question to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewSurveyAnswer {
    pub question_id: String,
    /// nps | csat | kano | importance | urgency | free_text
    pub kind: String,
    /// The number answered to an NPS, CSAT, importance or urgency question.
    pub score: Option<i64>,
    /// The two answers of a Kano pair (`like`, `must_be`, `neutral`,
    /// `live_with`, `dislike`).
    pub functional: Option<String>,
    pub dysfunctional: Option<String>,
    /// A free-text answer.
    pub answer_text: Option<String>,
}

/// One stored answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyAnswerRow {
    pub id: i64,
    /// The invitation whose sheet the answer belongs to.
    pub invitation_id: i64,
    pub customer_id: i64,
    pub survey: String,
    pub question_id: String,
    pub kind: String,
    pub score: Option<i64>,
    pub functional: Option<String>,
    pub dysfunctional: Option<String>,
    pub answer_text: Option<String>,
    pub answered_at: DateTime<Utc>,
}

type InvitationRaw = (
    i64,
    String,
    i64,
    Option<i64>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

type AnswerRaw = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
);

impl Store {
    /// Stores a one-time link to `survey` for a customer; returns its id.
    /// `token_sha256` is the hash of the token (unique); the token itself is
    /// never stored.
    pub async fn create_survey_invitation(
        &self,
        survey: &str,
        customer_id: i64,
        campaign_id: Option<i64>,
        token_sha256: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let sql = "INSERT INTO survey_invitation (token_sha256, survey, customer_id, campaign_id, \
                   created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
        let id: i64 = on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(token_sha256).bind(survey).bind(customer_id).bind(campaign_id).bind(now)
            .bind(expires_at).fetch_one(p).await?);
        Ok(id)
    }

    /// The invitation whose token hashes to `token_sha256`, used or not.
    pub async fn survey_invitation_by_hash(
        &self,
        token_sha256: &str,
    ) -> Result<Option<InvitationRow>> {
        let sql = "SELECT id, survey, customer_id, campaign_id, expires_at, used_at \
                   FROM survey_invitation WHERE token_sha256 = $1";
        let r: Option<InvitationRaw> =
            on_pool!(self, p => sqlx::query_as(sql).bind(token_sha256).fetch_optional(p).await?);
        Ok(r.map(|r| InvitationRow {
            id: r.0,
            survey: r.1,
            customer_id: r.2,
            campaign_id: r.3,
            expires_at: r.4,
            used_at: r.5,
        }))
    }

    /// Stores an answer sheet and marks its link used, in one transaction.
    /// A link already used or expired at `now` stores nothing
    /// ([`StoreError::Conflict`]); of two submissions racing on one link,
    /// one wins.
    pub async fn submit_survey(
        &self,
        invitation_id: i64,
        answers: &[NewSurveyAnswer],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let claim = "UPDATE survey_invitation SET used_at = $1 \
                     WHERE id = $2 AND used_at IS NULL AND expires_at > $1";
        let who = "SELECT customer_id, survey FROM survey_invitation WHERE id = $1";
        let insert = "INSERT INTO survey_answer (invitation_id, customer_id, survey, question_id, \
                      kind, score, functional, dysfunctional, answer_text, answered_at) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let claimed = sqlx::query(claim).bind(now).bind(invitation_id)
                .execute(&mut *tx).await?.rows_affected();
            if claimed != 1 {
                return Err(StoreError::Conflict("survey link already used or expired".into()));
            }
            let (customer_id, survey): (i64, String) =
                sqlx::query_as(who).bind(invitation_id).fetch_one(&mut *tx).await?;
            for a in answers {
                sqlx::query(insert).bind(invitation_id).bind(customer_id).bind(&survey)
                    .bind(&a.question_id).bind(&a.kind).bind(a.score).bind(&a.functional)
                    .bind(&a.dysfunctional).bind(&a.answer_text).bind(now)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every stored answer to `survey`, grouped by invitation (ordered by
    /// invitation, then as submitted): consecutive rows with one
    /// `invitation_id` are one respondent's sheet.
    pub async fn survey_answers(&self, survey: &str) -> Result<Vec<SurveyAnswerRow>> {
        let sql = "SELECT id, invitation_id, customer_id, survey, question_id, kind, score, \
                   functional, dysfunctional, answer_text, answered_at FROM survey_answer \
                   WHERE survey = $1 ORDER BY invitation_id, id";
        let rows: Vec<AnswerRaw> =
            on_pool!(self, p => sqlx::query_as(sql).bind(survey).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|r| SurveyAnswerRow {
                id: r.0,
                invitation_id: r.1,
                customer_id: r.2,
                survey: r.3,
                question_id: r.4,
                kind: r.5,
                score: r.6,
                functional: r.7,
                dysfunctional: r.8,
                answer_text: r.9,
                answered_at: r.10,
            })
            .collect())
    }

    /// Links to `survey` sent and answered: (invitations, invitations used).
    pub async fn survey_invitation_counts(&self, survey: &str) -> Result<(i64, i64)> {
        let sql = "SELECT COUNT(*), COUNT(used_at) FROM survey_invitation WHERE survey = $1";
        let counts: (i64, i64) =
            on_pool!(self, p => sqlx::query_as(sql).bind(survey).fetch_one(p).await?);
        Ok(counts)
    }
}
