//! Survey answers and links by the campaign that sent them (issue 18): the
//! campaigns that sent links to a survey with their counts, and the answers
//! and counts of one survey sent by one campaign. Reads only; the tables are
//! those of `0008_campaign` and `0009_survey` (see `survey.rs`).

use crate::dialect::on_pool;
use crate::{Result, Store, SurveyAnswerRow};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A campaign that sent links to a survey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SurveyCampaignRow {
    pub campaign_id: i64,
    pub key: String,
    pub name_en: String,
    pub name_zh: String,
    /// Links it sent to the survey.
    pub sent: i64,
    /// Links used.
    pub answered: i64,
}

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
    /// The campaigns that sent links to `survey`, by key.
    pub async fn survey_campaigns(&self, survey: &str) -> Result<Vec<SurveyCampaignRow>> {
        let sql = "SELECT c.id, c.key, c.name_en, c.name_zh, COUNT(i.id), COUNT(i.used_at) \
                   FROM survey_invitation i JOIN campaign c ON c.id = i.campaign_id \
                   WHERE i.survey = $1 GROUP BY c.id, c.key, c.name_en, c.name_zh ORDER BY c.key";
        let rows: Vec<(i64, String, String, String, i64, i64)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(survey).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|r| SurveyCampaignRow {
                campaign_id: r.0,
                key: r.1,
                name_en: r.2,
                name_zh: r.3,
                sent: r.4,
                answered: r.5,
            })
            .collect())
    }

    /// Every stored answer to `survey` through a link `campaign_id` sent,
    /// grouped by invitation like [`Store::survey_answers`].
    pub async fn survey_answers_of_campaign(
        &self,
        survey: &str,
        campaign_id: i64,
    ) -> Result<Vec<SurveyAnswerRow>> {
        let sql = "SELECT a.id, a.invitation_id, a.customer_id, a.survey, a.question_id, a.kind, \
                   a.score, a.functional, a.dysfunctional, a.answer_text, a.answered_at \
                   FROM survey_answer a JOIN survey_invitation i ON i.id = a.invitation_id \
                   WHERE a.survey = $1 AND i.campaign_id = $2 ORDER BY a.invitation_id, a.id";
        let rows: Vec<AnswerRaw> = on_pool!(self, p => sqlx::query_as(sql)
            .bind(survey).bind(campaign_id).fetch_all(p).await?);
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

    /// Links to `survey` that `campaign_id` sent, and those used.
    pub async fn survey_invitation_counts_of_campaign(
        &self,
        survey: &str,
        campaign_id: i64,
    ) -> Result<(i64, i64)> {
        let sql = "SELECT COUNT(*), COUNT(used_at) FROM survey_invitation \
                   WHERE survey = $1 AND campaign_id = $2";
        let counts: (i64, i64) = on_pool!(self, p => sqlx::query_as(sql)
            .bind(survey).bind(campaign_id).fetch_one(p).await?);
        Ok(counts)
    }
}
