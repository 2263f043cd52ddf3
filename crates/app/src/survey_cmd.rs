//! `rapport survey invite|results`, and the glue between the survey rules
//! (`rapport_engage::survey`) and the stored links and answers.
//!
//! `invite` stores a one-time link to a shipped survey for one customer and
//! prints it (the token is shown once; only its SHA-256 is kept). `results`
//! reads every stored answer sheet of a survey back into answers and sums
//! them up with the rules: links sent and answered, NPS, CSAT, the Kano
//! category of each need with Berger's better/worse, the importance ×
//! urgency matrix and the themes of the free text. The web form
//! (`web::pages::survey`) uses [`shipped_survey`] and [`stored_answer`] to
//! store what a customer submits.
//!
//! Never logs personal data: a link names no one; results are counts and
//! shares, except the theme examples in `--json`, which quote comments as
//! customers wrote them.

use crate::commands::open;
use crate::config::Config;
use crate::output::emit;
use anyhow::{bail, Context, Result};
use chrono::{Duration, Utc};
use clap::{Args, Subcommand};
use rand::RngCore;
use rapport_engage::survey::{
    csat, kano_results, need_ratings, nps, numeric_answers, priority_matrix, text_answers, themes,
    token_from_bytes, Answer, CsatResult, KanoAnswer, KanoNeedResult, MatrixCell, NpsResult,
    QuestionKind, SurveyDef, ThemeLexicon, ThemeReport, DEFAULT_MATRIX_THRESHOLD, TOKEN_BYTES,
};
use rapport_store::{NewSurveyAnswer, Scope, Store, SurveyAnswerRow};
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Debug, Subcommand)]
pub enum SurveyCommand {
    /// Store a one-time link to a survey for one customer and print it.
    Invite(InviteArgs),
    /// Links sent and answered, NPS, CSAT, Kano per need, importance ×
    /// urgency, free-text themes.
    Results {
        /// The survey's key (csat_after_case, nps_relationship, holiday_follow_up).
        #[arg(long)]
        survey: String,
    },
}

#[derive(Debug, Args)]
pub struct InviteArgs {
    /// The survey's key (csat_after_case, nps_relationship, holiday_follow_up).
    #[arg(long)]
    pub survey: String,
    /// The customer's key.
    #[arg(long)]
    pub customer: String,
    /// Days the link stays valid (default `campaigns.survey_valid_days`).
    #[arg(long)]
    pub days: Option<u32>,
}

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

fn survey_or_bail(key: &str) -> Result<SurveyDef> {
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
    let mut unreadable_answers = 0;
    let mut responses: Vec<Vec<(String, Answer)>> = Vec::new();
    let mut current: Option<i64> = None;
    for row in &rows {
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
        kano: kano_results(&def, &responses),
        matrix: priority_matrix(&need_ratings(&def, &responses), DEFAULT_MATRIX_THRESHOLD),
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
    Ok(results)
}

pub async fn run(cfg: &Config, json: bool, cmd: SurveyCommand) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let result = dispatch(&store, cfg, json, cmd).await;
    store.close().await;
    result
}

async fn dispatch(store: &Store, cfg: &Config, json: bool, cmd: SurveyCommand) -> Result<()> {
    match cmd {
        SurveyCommand::Invite(a) => {
            let def = survey_or_bail(&a.survey)?;
            let days = a.days.unwrap_or(cfg.campaigns.survey_valid_days);
            if days == 0 {
                bail!("--days must be at least 1");
            }
            let customer_id = store
                .customer_id_by_key(&Scope::All, &a.customer)
                .await
                .with_context(|| format!("no customer with key {:?}", a.customer))?;
            let token = new_survey_token();
            let now = Utc::now();
            let expires_at = now + Duration::days(i64::from(days));
            let id = store
                .create_survey_invitation(
                    &def.key,
                    customer_id,
                    None,
                    &crate::web::auth::token_hash(&token),
                    expires_at,
                    now,
                )
                .await?;
            tracing::info!(invitation.id = id, survey = %def.key, "survey link stored");
            let link = format!(
                "{}/s/{token}",
                cfg.campaigns.public_url.trim_end_matches('/')
            );
            emit(
                json,
                &serde_json::json!({ "invitation_id": id, "survey": def.key,
                                     "link": link, "expires_at": expires_at }),
                || {
                    format!(
                        "{link}\n(one-time link to {}, valid until {} UTC)",
                        def.key,
                        expires_at.format("%Y-%m-%d %H:%M")
                    )
                },
            )
        }
        SurveyCommand::Results { survey } => {
            let r = survey_results(store, &survey).await?;
            emit(json, &r, || human(&r))
        }
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.digits$}"))
}

fn human(r: &SurveyResults) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{} — {} / {}", r.survey, r.title_en, r.title_zh);
    let _ = writeln!(
        s,
        "links sent {}, answered {} (response rate {}%), sheets {}{}",
        r.sent,
        r.answered,
        opt(r.response_rate_percent, 1),
        r.respondents,
        if r.unreadable_answers > 0 {
            format!(", {} unreadable answers skipped", r.unreadable_answers)
        } else {
            String::new()
        }
    );
    for q in &r.nps {
        let n = &q.result;
        let _ = writeln!(
            s,
            "NPS {}: {} (n {}: {} promoters, {} passives, {} detractors)",
            q.question_id,
            opt(n.nps, 1),
            n.n,
            n.promoters,
            n.passives,
            n.detractors
        );
    }
    for q in &r.csat {
        let c = &q.result;
        let _ = writeln!(
            s,
            "CSAT {}: {}% satisfied (top two of 1–{}; {} of {})",
            q.question_id,
            opt(c.percent, 1),
            q.scale,
            c.satisfied,
            c.n
        );
    }
    if !r.kano.is_empty() {
        let _ = writeln!(s, "Kano (A O M I R Q):");
        for k in &r.kano {
            let c = &k.counts;
            let _ = writeln!(
                s,
                "  {}: {} better {} worse {} n {} [{} {} {} {} {} {}]",
                k.need,
                k.category.map_or_else(
                    || "-".to_string(),
                    |c| format!("{} ({})", c.letter(), c.label_en())
                ),
                opt(k.better, 2),
                opt(k.worse, 2),
                k.n,
                c.attractive,
                c.one_dimensional,
                c.must_be,
                c.indifferent,
                c.reverse,
                c.questionable
            );
        }
    }
    if !r.matrix.is_empty() {
        let _ = writeln!(s, "Importance × urgency:");
        for m in &r.matrix {
            let _ = writeln!(
                s,
                "  {}: importance {:.2}, urgency {:.2} — {}",
                m.need,
                m.importance,
                m.urgency,
                m.quadrant.label_en()
            );
        }
    }
    for t in &r.themes {
        let _ = writeln!(
            s,
            "Themes of {} ({} comments, {} unmatched):",
            t.question_id, t.report.n, t.report.unmatched
        );
        for th in &t.report.themes {
            let _ = writeln!(
                s,
                "  {} / {}: {} ({:.0}%)",
                th.label_en,
                th.label_zh,
                th.count,
                th.share * 100.0
            );
        }
    }
    s.trim_end().to_string()
}
