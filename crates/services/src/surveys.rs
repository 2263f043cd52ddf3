//! Surveys: the shipped survey definitions, one-time link tokens, answers
//! stored as submitted and read back, and a survey's results (links sent and
//! answered, NPS, CSAT, Kano with better/worse, the importance × urgency
//! matrix and the themes of the free text) summed up by the survey rules of
//! `rapport_engage::survey`.
//!
//! Never logs personal data: a link names no one; results are counts and
//! shares, except the theme examples, which quote comments as customers
//! wrote them.

use crate::access::{Actor, Permission};
use crate::audit::entry_for;
use crate::error::{ServiceError, ServiceResult};
use anyhow::{bail, Result};
use serde_json::json;

use rand::RngCore;
use rapport_engage::survey::{
    csat, kano_results, need_ratings, nps, numeric_answers, priority_matrix, text_answers, themes,
    token_from_bytes, Answer, CsatResult, KanoAnswer, KanoNeedResult, MatrixCell, NpsResult,
    QuestionKind, SurveyDef, ThemeLexicon, ThemeReport, DEFAULT_MATRIX_THRESHOLD, TOKEN_BYTES,
};
use rapport_store::survey_campaigns::SurveyCampaignRow;
use rapport_store::{NewSurveyAnswer, Store, SurveyAnswerRow};
use serde::Serialize;

/// The shipped survey definitions.
pub fn shipped_surveys() -> Vec<SurveyDef> {
    vec![
        SurveyDef::csat_after_case(),
        SurveyDef::nps_relationship(),
        SurveyDef::holiday_follow_up(),
    ]
}

/// The shipped survey with this key.
pub fn shipped_survey(key: &str) -> Option<SurveyDef> {
    shipped_surveys().into_iter().find(|d| d.key == key)
}

pub fn survey_or_bail(key: &str) -> Result<SurveyDef> {
    match shipped_survey(key) {
        Some(def) => Ok(def),
        None => bail!(
            "--survey {key:?}: one of {}",
            shipped_surveys()
                .iter()
                .map(|d| d.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A fresh link token: 24 random bytes as 48 lowercase hex characters.
pub fn new_survey_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    token_from_bytes(&bytes)
}

/// The row to store for one answer to a question of `def`; None when the
/// survey has no such question (validate the sheet first).
pub fn stored_answer(def: &SurveyDef, id: &str, answer: &Answer) -> Option<NewSurveyAnswer> {
    let q = def.question(id)?;
    let mut row = NewSurveyAnswer {
        question_id: id.to_string(),
        kind: q.kind.as_str().to_string(),
        score: None,
        functional: None,
        dysfunctional: None,
        answer_text: None,
    };
    match answer {
        Answer::NpsScore(v) | Answer::Csat(v) | Answer::Scale(v) => row.score = Some(i64::from(*v)),
        Answer::Kano {
            functional,
            dysfunctional,
        } => {
            row.functional = Some(functional.as_str().to_string());
            row.dysfunctional = Some(dysfunctional.as_str().to_string());
        }
        Answer::Text(t) => row.answer_text = Some(t.clone()),
    }
    Some(row)
}

/// The answer a stored row holds; None when it cannot be read back (an
/// unknown kind, a score outside 0–255, a Kano answer not one of the five,
/// a text erased).
pub fn answer_of_row(row: &SurveyAnswerRow) -> Option<Answer> {
    let score = || row.score.and_then(|s| u8::try_from(s).ok());
    match row.kind.as_str() {
        "nps" => score().map(Answer::NpsScore),
        "csat" => score().map(Answer::Csat),
        "importance" | "urgency" => score().map(Answer::Scale),
        "kano" => Some(Answer::Kano {
            functional: KanoAnswer::parse(row.functional.as_deref()?)?,
            dysfunctional: KanoAnswer::parse(row.dysfunctional.as_deref()?)?,
        }),
        "free_text" => row.answer_text.clone().map(Answer::Text),
        _ => None,
    }
}

/// The NPS of one question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionNps {
    pub question_id: String,
    #[serde(flatten)]
    pub result: NpsResult,
}

/// The CSAT of one question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionCsat {
    pub question_id: String,
    pub scale: u8,
    #[serde(flatten)]
    pub result: CsatResult,
}

/// The themes of one free-text question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionThemes {
    pub question_id: String,
    #[serde(flatten)]
    pub report: ThemeReport,
}

/// What a survey's stored answers add up to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyResults {
    pub survey: String,
    pub title_en: String,
    pub title_zh: String,
    /// Links stored (sent).
    pub sent: i64,
    /// Links used (answered).
    pub answered: i64,
    /// answered / sent × 100; None when nothing was sent.
    pub response_rate_percent: Option<f64>,
    /// Answer sheets with at least one stored answer.
    pub respondents: usize,
    /// Stored answers that could not be read back, skipped.
    pub unreadable_answers: usize,
    pub nps: Vec<QuestionNps>,
    pub csat: Vec<QuestionCsat>,
    /// Per need, in question order.
    pub kano: Vec<KanoNeedResult>,
    /// Importance × urgency, do-first first.
    pub matrix: Vec<MatrixCell>,
    pub themes: Vec<QuestionThemes>,
}

/// Sums up every stored answer sheet of the shipped survey `key`.
pub async fn survey_results(store: &Store, key: &str) -> Result<SurveyResults> {
    let def = survey_or_bail(key)?;
    let (sent, answered) = store.survey_invitation_counts(key).await?;
    let rows = store.survey_answers(key).await?;
    Ok(results_of_rows(&def, sent, answered, &rows))
}

/// Sums up the answer sheets of the shipped survey `key` sent through
/// links of one campaign (`campaign_id`).
pub async fn survey_results_of_campaign(
    store: &Store,
    key: &str,
    campaign_id: i64,
) -> Result<SurveyResults> {
    let def = survey_or_bail(key)?;
    let (sent, answered) = store
        .survey_invitation_counts_of_campaign(key, campaign_id)
        .await?;
    let rows = store.survey_answers_of_campaign(key, campaign_id).await?;
    Ok(results_of_rows(&def, sent, answered, &rows))
}

/// What stored answer rows (grouped by invitation) add up to.
fn results_of_rows(
    def: &SurveyDef,
    sent: i64,
    answered: i64,
    rows: &[SurveyAnswerRow],
) -> SurveyResults {
    let mut unreadable_answers = 0;
    let mut responses: Vec<Vec<(String, Answer)>> = Vec::new();
    let mut current: Option<i64> = None;
    for row in rows {
        if current != Some(row.invitation_id) {
            current = Some(row.invitation_id);
            responses.push(Vec::new());
        }
        match (answer_of_row(row), responses.last_mut()) {
            (Some(a), Some(sheet)) => sheet.push((row.question_id.clone(), a)),
            _ => unreadable_answers += 1,
        }
    }
    let mut results = SurveyResults {
        survey: def.key.clone(),
        title_en: def.title_en.clone(),
        title_zh: def.title_zh.clone(),
        sent,
        answered,
        response_rate_percent: (sent > 0).then(|| answered as f64 * 100.0 / sent as f64),
        respondents: responses.iter().filter(|r| !r.is_empty()).count(),
        unreadable_answers,
        nps: Vec::new(),
        csat: Vec::new(),
        kano: kano_results(def, &responses),
        matrix: priority_matrix(&need_ratings(def, &responses), DEFAULT_MATRIX_THRESHOLD),
        themes: Vec::new(),
    };
    let lexicon = ThemeLexicon::default();
    for q in &def.questions {
        match &q.kind {
            QuestionKind::Nps { .. } => results.nps.push(QuestionNps {
                question_id: q.id.clone(),
                result: nps(&numeric_answers(&responses, &q.id)),
            }),
            QuestionKind::Csat { scale, .. } => results.csat.push(QuestionCsat {
                question_id: q.id.clone(),
                scale: *scale,
                result: csat(&numeric_answers(&responses, &q.id), *scale),
            }),
            QuestionKind::FreeText { .. } => results.themes.push(QuestionThemes {
                question_id: q.id.clone(),
                report: themes(&text_answers(&responses, &q.id), &lexicon),
            }),
            _ => {}
        }
    }
    results
}

/// The results of every shipped survey (all links, whoever sent them), for
/// `actor` (who needs [`Permission::ViewEngagement`]).
pub async fn overview(store: &Store, actor: &Actor) -> ServiceResult<Vec<SurveyResults>> {
    actor.require(Permission::ViewEngagement)?;
    let mut all = Vec::new();
    for def in shipped_surveys() {
        all.push(survey_results(store, &def.key).await?);
    }
    Ok(all)
}

/// One survey's results as a page shows them: over every link, or over the
/// links of one campaign; and the campaigns that sent links to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyView {
    pub results: SurveyResults,
    /// The campaign the results are restricted to, if any.
    pub campaign: Option<SurveyCampaignRow>,
    pub campaigns: Vec<SurveyCampaignRow>,
}

/// The results of shipped survey `key` for `actor` (who needs
/// [`Permission::ViewEngagement`]), over the links of campaign
/// `campaign` (its key) when given. An unknown survey or a campaign that
/// sent no link to it is not found.
pub async fn survey_view(
    store: &Store,
    actor: &Actor,
    key: &str,
    campaign: Option<&str>,
) -> ServiceResult<SurveyView> {
    actor.require(Permission::ViewEngagement)?;
    let def =
        shipped_survey(key).ok_or_else(|| ServiceError::not_found(format!("survey {key}")))?;
    let campaigns = store.survey_campaigns(&def.key).await?;
    let (results, campaign) = match campaign {
        None => (survey_results(store, &def.key).await?, None),
        Some(c) => {
            let row = campaigns
                .iter()
                .find(|r| r.key == c)
                .cloned()
                .ok_or_else(|| ServiceError::not_found(format!("campaign {c} of survey {key}")))?;
            (
                survey_results_of_campaign(store, &def.key, row.campaign_id).await?,
                Some(row),
            )
        }
    };
    Ok(SurveyView {
        results,
        campaign,
        campaigns,
    })
}

/// A stored one-time survey link.
#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    pub id: i64,
    pub survey: String,
    pub customer_id: i64,
    /// The link to send (the token is shown once; only its SHA-256 is kept).
    pub link: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Whether `actor` may create survey links ([`invite`]): who works cases
/// ([`Permission::WorkCases`]) or runs campaigns ([`Permission::RunCampaigns`]).
pub fn may_invite(actor: &Actor) -> bool {
    match actor {
        Actor::Staff(s) => s.can(Permission::WorkCases) || s.can(Permission::RunCampaigns),
        Actor::System { .. } => true,
    }
}

/// Stores a one-time link to shipped survey `survey` for a customer as
/// `actor` (who needs [`Permission::WorkCases`] or
/// [`Permission::RunCampaigns`], and the customer in scope), valid `days`
/// days; audited (without the token).
#[allow(clippy::too_many_arguments)]
pub async fn invite(
    store: &Store,
    actor: &Actor,
    via: &str,
    survey: &str,
    customer: &str,
    days: u32,
    public_url: &str,
) -> ServiceResult<Invitation> {
    if !may_invite(actor) {
        actor.require(Permission::WorkCases)?;
    }
    let def = shipped_survey(survey).ok_or_else(|| {
        let keys: Vec<String> = shipped_surveys().into_iter().map(|s| s.key).collect();
        ServiceError::invalid("survey", format!("{survey:?}: one of {}", keys.join(", ")))
    })?;
    if days == 0 {
        return Err(ServiceError::invalid("days", "must be at least 1"));
    }
    let customer_id = store.customer_id_by_key(&actor.scope(), customer).await?;
    let token = new_survey_token();
    let now = chrono::Utc::now();
    let expires_at = now + chrono::Duration::days(i64::from(days));
    let id = store
        .create_survey_invitation(
            &def.key,
            customer_id,
            None,
            &crate::access::token_hash(&token),
            expires_at,
            now,
        )
        .await?;
    store
        .append_audit(&[entry_for(
            actor,
            "survey.invite",
            "survey_invitation",
            Some(id.to_string()),
            Some(customer_id),
            json!({ "via": via, "survey": def.key, "days": days }),
        )])
        .await?;
    Ok(Invitation {
        id,
        survey: def.key,
        customer_id,
        link: format!("{}/s/{token}", public_url.trim_end_matches('/')),
        expires_at,
    })
}

/// A deterministic stream of small numbers for the demo's answers.
struct DemoDice(u64);

impl DemoDice {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

const DEMO_COMMENTS: [&str; 16] = [
    "网点排队太久了",
    "周末去网点等了一个小时",
    "手机银行老是闪退",
    "APP转账页面太难找",
    "希望出行前能快速提额",
    "出国前临时提额很麻烦",
    "客户经理解释得很清楚",
    "理财产品说明看不懂",
    "办理速度很快，满意",
    "开户流程太慢了",
    "担心被骗，希望多提醒",
    "网点环境不错，停车方便",
    "",
    "",
    "",
    "",
];

/// One demo answer sheet to `def`, drawn from `dice`: scores leaning
/// positive, Kano pairs and ratings varying by need, a comment every so
/// often.
fn demo_sheet(def: &SurveyDef, dice: &mut DemoDice) -> Vec<(String, Answer)> {
    use KanoAnswer::{Dislike, Like, MustBe, Neutral};
    let mut sheet = Vec::new();
    let mut kano_pairs = 0usize;
    for (i, q) in def.questions.iter().enumerate() {
        let answer = match &q.kind {
            QuestionKind::Nps { .. } => Some(Answer::NpsScore(
                [10, 9, 9, 8, 8, 7, 10, 6, 5, 9, 3, 8][dice.next(12) as usize],
            )),
            QuestionKind::Csat { .. } => Some(Answer::Csat(
                [5, 4, 4, 5, 3, 2, 4, 1][dice.next(8) as usize],
            )),
            QuestionKind::Kano { .. } => {
                let pairs = [
                    [(Like, Dislike), (Like, Neutral), (Like, Dislike)],
                    [(Neutral, Dislike), (MustBe, Dislike), (Like, MustBe)],
                    [(Neutral, Neutral), (Like, Neutral), (Neutral, Neutral)],
                ];
                let (f, d) = pairs[kano_pairs % 3][dice.next(3) as usize];
                kano_pairs += 1;
                Some(Answer::Kano {
                    functional: f,
                    dysfunctional: d,
                })
            }
            QuestionKind::Importance { .. } | QuestionKind::Urgency { .. } => {
                Some(Answer::Scale(1 + ((i as u64 + dice.next(3)) % 5) as u8))
            }
            QuestionKind::FreeText { .. } => {
                let c = DEMO_COMMENTS[dice.next(DEMO_COMMENTS.len() as u64) as usize];
                (!c.is_empty()).then(|| Answer::Text(c.to_string()))
            }
        };
        if let Some(a) = answer {
            sheet.push((q.id.clone(), a));
        }
    }
    sheet
}

/// The demo's survey step: links to every shipped survey for a sample of
/// customers (the holiday follow-up's sent by the saved campaign
/// `holiday_follow_up_2026` when it is in the store), about four in five
/// answered with a fixed pattern, so that the survey results have figures.
/// Audited as one entry of the system job `demo`.
pub async fn demo_seed(store: &Store) -> Result<serde_json::Value> {
    let actor = Actor::system("demo");
    let follow_up = store
        .campaign_by_key("holiday_follow_up_2026")
        .await?
        .map(|c| c.id);
    let now = chrono::Utc::now();
    let mut dice = DemoDice(0x5eed_2026);
    let mut summary = serde_json::Map::new();
    for (k, def) in shipped_surveys().into_iter().enumerate() {
        let campaign = (def.key == "holiday_follow_up")
            .then_some(follow_up)
            .flatten();
        let keys = store.sample_customer_keys(60, 7 + k as u64).await?;
        let (mut sent, mut answered) = (0, 0);
        for key in &keys {
            let customer = store
                .customer_id_by_key(&rapport_store::Scope::All, key)
                .await?;
            let id = store
                .create_survey_invitation(
                    &def.key,
                    customer,
                    campaign,
                    &crate::access::token_hash(&new_survey_token()),
                    now + chrono::Duration::days(30),
                    now - chrono::Duration::days(2),
                )
                .await?;
            sent += 1;
            if dice.next(5) == 0 {
                continue;
            }
            let rows: Vec<NewSurveyAnswer> = demo_sheet(&def, &mut dice)
                .iter()
                .filter_map(|(q, a)| stored_answer(&def, q, a))
                .collect();
            store.submit_survey(id, &rows, now).await?;
            answered += 1;
        }
        summary.insert(
            def.key.clone(),
            json!({ "sent": sent, "answered": answered }),
        );
    }
    let summary = serde_json::Value::Object(summary);
    store
        .append_audit(&[entry_for(
            &actor,
            "survey.demo_seed",
            "survey_invitation",
            None,
            None,
            summary.clone(),
        )])
        .await?;
    Ok(summary)
}
