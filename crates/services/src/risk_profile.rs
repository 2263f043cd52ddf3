//! Risk-tolerance assessments (风险承受能力评估): a customer answers the
//! questionnaire of [`rapport_matching::questionnaire`], the answers are
//! scored to C1–C5 and recorded with the date, the score and who recorded
//! them; the history is kept. The latest assessment is the one the
//! suitability rule reads (the store writes it to the customer row in the
//! same transaction; before any is recorded the imported tolerance stands).
//!
//! One use case each for the CLI (`rapport risk assess|history`) and the API
//! (`POST|GET /api/v1/customers/{key}/risk-assessments`); permission, scope
//! and audit are decided here.

use crate::access::{Actor, Permission};
use crate::audit::entry_for;
use crate::error::{ServiceError, ServiceResult};
use crate::Services;
use chrono::NaiveDate;
use rapport_domain::RiskTolerance;
use rapport_matching::questionnaire::{self, Scored};
use rapport_matching::{expires_on, is_valid_on, Assessment};
use rapport_store::{NewRiskAssessment, RiskAssessmentRow};
use serde::Serialize;
use serde_json::{json, Value};

/// One assessment as the adapters show it.
#[derive(Debug, Clone, Serialize)]
pub struct AssessmentView {
    /// 0 for the imported value shown before any assessment was recorded.
    pub id: i64,
    /// `rapport` or `import`.
    pub source: String,
    /// `C1` … `C5`.
    pub tolerance: String,
    pub tolerance_en: &'static str,
    pub tolerance_zh: &'static str,
    pub score: Option<i64>,
    pub questionnaire: Option<String>,
    /// Question id → option letter.
    pub answers: Value,
    pub assessed_on: NaiveDate,
    /// The first day it is no longer valid (the suitability policy's validity).
    pub expires_on: NaiveDate,
    /// Valid today (`assessed_on <= today < expires_on`).
    pub valid: bool,
    /// The one the suitability rule reads (the latest).
    pub current: bool,
    pub recorded_by: String,
    pub recorded_at: String,
}

/// A recorded assessment with the reason of its tolerance.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub customer_key: String,
    pub assessment: AssessmentView,
    pub reason_en: String,
    pub reason_zh: String,
}

fn view(
    svc: &Services,
    r: RiskAssessmentRow,
    today: NaiveDate,
    current: bool,
) -> Option<AssessmentView> {
    let tolerance = RiskTolerance::parse(&r.tolerance).ok()?;
    let (code, en, zh) = questionnaire::label(tolerance);
    let a = Assessment {
        tolerance,
        assessed_on: r.assessed_on,
    };
    let policy = &svc.settings.matching.policy;
    Some(AssessmentView {
        id: r.id,
        source: r.source,
        tolerance: code.to_string(),
        tolerance_en: en,
        tolerance_zh: zh,
        score: r.score,
        questionnaire: r.questionnaire,
        answers: r
            .answers
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or(Value::Null),
        assessed_on: r.assessed_on,
        expires_on: expires_on(policy, &a),
        valid: is_valid_on(policy, &a, today),
        current,
        recorded_by: r.recorded_by,
        recorded_at: r.recorded_at.to_rfc3339(),
    })
}

/// Scores `answers` (letters in question order, or `question=letter`
/// pairs) and records the assessment of customer `key` as `actor`, dated
/// today (the bank's local day). Needs [`Permission::AssessRisk`] and the
/// customer in scope; audited with the tolerance and score (the answers
/// stay in the assessment row).
pub async fn assess(
    svc: &Services,
    actor: &Actor,
    via: &str,
    key: &str,
    answers: &str,
) -> ServiceResult<Recorded> {
    actor.require(Permission::AssessRisk)?;
    let id = svc.store.customer_id_by_key(&actor.scope(), key).await?;
    let scored: Scored = questionnaire::parse_answers(answers)
        .and_then(|l| questionnaire::score(&l))
        .map_err(|e| ServiceError::invalid("answers", e.to_string()))?;
    let answers_json =
        serde_json::to_string(&scored.answers).map_err(|e| ServiceError::Internal(e.into()))?;
    let today = svc.clock.local().date();
    let row = svc
        .store
        .record_risk_assessment(
            &NewRiskAssessment {
                customer_id: id,
                questionnaire: scored.questionnaire,
                answers: &answers_json,
                score: scored.score,
                tolerance: scored.tolerance.as_str(),
                assessed_on: today,
                recorded_by: actor.name(),
            },
            svc.clock.now(),
        )
        .await?;
    svc.store
        .append_audit(&[entry_for(
            actor,
            "risk_assessment.record",
            "risk_assessment",
            Some(row.id.to_string()),
            Some(id),
            json!({
                "via": via,
                "tolerance": questionnaire::label(scored.tolerance).0,
                "score": scored.score,
                "questionnaire": scored.questionnaire,
            }),
        )])
        .await?;
    let assessment = view(svc, row, today, true)
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("stored tolerance unreadable")))?;
    Ok(Recorded {
        customer_key: key.to_string(),
        assessment,
        reason_en: scored.reason_en,
        reason_zh: scored.reason_zh,
    })
}

/// Customer `key`'s assessments, newest first, the current one (the one
/// the suitability rule reads) marked; needs [`Permission::ViewCustomers`]
/// and the customer in scope; the read is audited.
pub async fn history(
    svc: &Services,
    actor: &Actor,
    via: &str,
    key: &str,
) -> ServiceResult<Vec<AssessmentView>> {
    actor.require(Permission::ViewCustomers)?;
    let id = svc.store.customer_id_by_key(&actor.scope(), key).await?;
    let out = history_of(svc, id).await?;
    svc.store
        .append_audit(&[entry_for(
            actor,
            "risk_assessment.view",
            "customer",
            Some(key.to_string()),
            Some(id),
            json!({ "via": via, "assessments": out.len() }),
        )])
        .await?;
    Ok(out)
}

/// The assessment history of customer `id` (the caller checked scope).
pub(crate) async fn history_of(svc: &Services, id: i64) -> ServiceResult<Vec<AssessmentView>> {
    let today = svc.clock.local().date();
    let rows = svc.store.risk_assessments(id).await?;
    Ok(rows
        .into_iter()
        .enumerate()
        .filter_map(|(i, r)| view(svc, r, today, i == 0))
        .collect())
}

/// The questionnaire, for adapters that show or print it.
pub fn questions() -> &'static [questionnaire::Question] {
    &questionnaire::QUESTIONS
}
