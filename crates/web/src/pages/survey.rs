//! The public survey form behind a one-time link: `GET /s/{token}` shows the
//! survey (Chinese by default, `?lang=en` for English), `POST /s/{token}`
//! stores the answers and thanks the customer.
//!
//! No sign-in: the unguessable token is the credential. Only its SHA-256 is
//! looked up; a token of the wrong shape is not looked up at all. An unknown
//! link answers 404, a used or expired one 410, and no page shows anything
//! about the customer. The store marks the link used in the transaction
//! that stores the answers, conditional on "unused and unexpired", so two
//! racing submissions store one sheet. There is no CSRF token (the link is
//! one-time), but a POST whose `Origin` is present and is neither this host
//! nor `campaigns.public_url` is refused.
//!
//! The form's fields are `q_<id>` (one per question) and `q_<id>_f` /
//! `q_<id>_d` (the functional and dysfunctional halves of a Kano pair); a
//! question left blank is skipped. Whether the answers fit the survey is
//! `rapport_engage::survey::validate_answers`; a sheet that does not fit is
//! shown again with the problem, naming the question.

use super::render;
use crate::auth::token_hash;
use crate::error::PageError;
use crate::i18n::{Lang, Text, Tr};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use chrono::Utc;
use rapport_engage::survey::{
    is_token, validate_answers, Answer, KanoAnswer, QuestionKind, SurveyDef, SurveyError,
    MAX_TEXT_CHARS, RATING_MAX,
};
use rapport_services::surveys::{shipped_survey, stored_answer};
use rapport_store::{InvitationRow, StoreError};
use serde::Deserialize;

pub const TEXTS: &[Text] = &[
    (
        "survey.intro",
        "所有题目均可选答。此链接仅可提交一次。",
        "Every question is optional. This link can be submitted once.",
    ),
    ("survey.submit", "提交", "Submit"),
    ("survey.thanks_title", "感谢您的反馈", "Thank you"),
    (
        "survey.thanks",
        "您的回答已提交，感谢您抽出时间。",
        "Your answers have been submitted. Thank you for your time.",
    ),
    ("survey.not_found_title", "链接无效", "Link not found"),
    (
        "survey.not_found",
        "找不到此问卷链接，请检查链接是否完整。",
        "This survey link was not found; check that the whole link was copied.",
    ),
    ("survey.used_title", "链接已使用", "Link already used"),
    (
        "survey.used",
        "此链接已被使用，每个链接只能提交一次。",
        "This link has already been used; each link can be submitted once.",
    ),
    ("survey.expired_title", "链接已过期", "Link expired"),
    (
        "survey.expired",
        "此问卷链接已过期。",
        "This survey link has expired.",
    ),
    ("survey.refused_title", "无法提交", "Not accepted"),
    (
        "survey.refused",
        "请在问卷页面上直接提交。",
        "Please submit the form from the survey page itself.",
    ),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/s/{token}", get(form).post(submit))
}

/// One choice of a radio group.
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// The two halves of a Kano pair as shown.
pub struct KanoView {
    pub functional: String,
    pub dysfunctional: String,
    pub choices: Vec<Choice>,
}

/// One question as shown.
pub struct QuestionView {
    /// The field name, `q_<id>`.
    pub name: String,
    pub kind: &'static str,
    pub text: String,
    /// The choices of a numeric question.
    pub choices: Vec<Choice>,
    pub kano: Option<KanoView>,
    pub free_text: bool,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    t: Tr,
    token: String,
    title: String,
    questions: Vec<QuestionView>,
    error: Option<String>,
    max_text: usize,
}

#[derive(Template)]
#[template(path = "survey_done.html")]
struct SurveyNotice {
    t: Tr,
    title_key: &'static str,
    message_key: &'static str,
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

fn pick(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::ZhCn => zh.to_string(),
        Lang::En => en.to_string(),
    }
}

fn numbers(min: u8, max: u8) -> Vec<Choice> {
    (min..=max)
        .map(|v| Choice {
            value: v.to_string(),
            label: v.to_string(),
        })
        .collect()
}

/// The questions of a survey as the form shows them in `lang`.
pub fn question_views(def: &SurveyDef, lang: Lang) -> Vec<QuestionView> {
    def.questions
        .iter()
        .map(|q| {
            let mut view = QuestionView {
                name: format!("q_{}", q.id),
                kind: q.kind.as_str(),
                text: String::new(),
                choices: Vec::new(),
                kano: None,
                free_text: false,
            };
            match &q.kind {
                QuestionKind::Nps { text_en, text_zh } => {
                    view.text = pick(lang, text_zh, text_en);
                    view.choices = numbers(0, 10);
                }
                QuestionKind::Csat {
                    text_en,
                    text_zh,
                    scale,
                } => {
                    view.text = pick(lang, text_zh, text_en);
                    view.choices = numbers(1, *scale);
                }
                QuestionKind::Importance {
                    text_en, text_zh, ..
                }
                | QuestionKind::Urgency {
                    text_en, text_zh, ..
                } => {
                    view.text = pick(lang, text_zh, text_en);
                    view.choices = numbers(1, RATING_MAX);
                }
                QuestionKind::Kano {
                    need_en,
                    need_zh,
                    functional_en,
                    functional_zh,
                    dysfunctional_en,
                    dysfunctional_zh,
                    ..
                } => {
                    view.text = pick(lang, need_zh, need_en);
                    view.kano = Some(KanoView {
                        functional: pick(lang, functional_zh, functional_en),
                        dysfunctional: pick(lang, dysfunctional_zh, dysfunctional_en),
                        choices: KanoAnswer::ALL
                            .iter()
                            .map(|a| Choice {
                                value: a.as_str().to_string(),
                                label: pick(lang, a.label_zh(), a.label_en()),
                            })
                            .collect(),
                    });
                }
                QuestionKind::FreeText { text_en, text_zh } => {
                    view.text = pick(lang, text_zh, text_en);
                    view.free_text = true;
                }
            }
            view
        })
        .collect()
}

/// Why a submitted sheet was not read: the survey's own verdict, or a field
/// that is not an answer at all. Each names the question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SheetError {
    Survey(SurveyError),
    /// A value that is not one of the question's choices.
    Unreadable {
        id: String,
    },
    /// Only one half of a Kano pair.
    HalfKano {
        id: String,
    },
}

impl SheetError {
    pub fn question_id(&self) -> Option<&str> {
        match self {
            SheetError::Survey(e) => e.question_id(),
            SheetError::Unreadable { id } | SheetError::HalfKano { id } => Some(id),
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (SheetError::Survey(e), Lang::ZhCn) => e.message_zh(),
            (SheetError::Survey(e), Lang::En) => e.to_string(),
            (SheetError::Unreadable { id }, Lang::ZhCn) => format!("题目“{id}”的答案无效"),
            (SheetError::Unreadable { id }, Lang::En) => {
                format!("question {id:?}: not one of its answers")
            }
            (SheetError::HalfKano { id }, Lang::ZhCn) => {
                format!("题目“{id}”需要两部分都作答")
            }
            (SheetError::HalfKano { id }, Lang::En) => {
                format!("question {id:?}: answer both parts or neither")
            }
        }
    }
}

/// The Kano question a `_f` / `_d` field belongs to, and which half.
fn kano_half<'a>(def: &SurveyDef, field: &'a str) -> Option<(&'a str, bool)> {
    let (base, functional) = if let Some(b) = field.strip_suffix("_f") {
        (b, true)
    } else {
        (field.strip_suffix("_d")?, false)
    };
    match def.question(base).map(|q| &q.kind) {
        Some(QuestionKind::Kano { .. }) => Some((base, functional)),
        _ => None,
    }
}

/// Reads the form's fields into answers (blank questions skipped, fields
/// not named `q_…` ignored) and checks them against the survey.
pub fn read_sheet(
    def: &SurveyDef,
    fields: &[(String, String)],
) -> Result<Vec<(String, Answer)>, SheetError> {
    let mut answers: Vec<(String, Answer)> = Vec::new();
    // (question id, functional, dysfunctional), in the order first seen.
    let mut pairs: Vec<(String, Option<KanoAnswer>, Option<KanoAnswer>)> = Vec::new();
    for (name, value) in fields {
        let Some(field) = name.strip_prefix("q_") else {
            continue;
        };
        let v = value.trim();
        if let Some(q) = def.question(field) {
            let unreadable = || SheetError::Unreadable { id: q.id.clone() };
            let answer = match &q.kind {
                QuestionKind::FreeText { .. } if v.is_empty() => continue,
                QuestionKind::FreeText { .. } => Answer::Text(value.clone()),
                _ if v.is_empty() => continue,
                QuestionKind::Kano { .. } => return Err(unreadable()),
                kind => {
                    let n: u8 = v.parse().map_err(|_| unreadable())?;
                    match kind {
                        QuestionKind::Nps { .. } => Answer::NpsScore(n),
                        QuestionKind::Csat { .. } => Answer::Csat(n),
                        _ => Answer::Scale(n),
                    }
                }
            };
            answers.push((q.id.clone(), answer));
        } else if let Some((id, functional)) = kano_half(def, field) {
            if v.is_empty() {
                continue;
            }
            let a = KanoAnswer::parse(v).ok_or_else(|| SheetError::Unreadable { id: id.into() })?;
            let slot = match pairs.iter().position(|(p, _, _)| p == id) {
                Some(i) => i,
                None => {
                    pairs.push((id.to_string(), None, None));
                    pairs.len() - 1
                }
            };
            let half = if functional {
                &mut pairs[slot].1
            } else {
                &mut pairs[slot].2
            };
            if half.replace(a).is_some() {
                return Err(SheetError::Survey(SurveyError::DuplicateAnswer {
                    id: id.to_string(),
                }));
            }
        } else {
            // Not a question of this survey: validation names it.
            answers.push((field.to_string(), Answer::Text(value.clone())));
        }
    }
    for (id, functional, dysfunctional) in pairs {
        match (functional, dysfunctional) {
            (Some(functional), Some(dysfunctional)) => answers.push((
                id,
                Answer::Kano {
                    functional,
                    dysfunctional,
                },
            )),
            _ => return Err(SheetError::HalfKano { id }),
        }
    }
    validate_answers(def, &answers).map_err(SheetError::Survey)?;
    Ok(answers)
}

fn notice(
    lang: Lang,
    status: StatusCode,
    title_key: &'static str,
    message_key: &'static str,
) -> Result<Response, PageError> {
    let page = SurveyNotice {
        t: Tr::new(lang),
        title_key,
        message_key,
    };
    Ok((status, Html(page.render()?)).into_response())
}

fn not_found(lang: Lang) -> Result<Response, PageError> {
    notice(
        lang,
        StatusCode::NOT_FOUND,
        "survey.not_found_title",
        "survey.not_found",
    )
}

fn used(lang: Lang) -> Result<Response, PageError> {
    notice(lang, StatusCode::GONE, "survey.used_title", "survey.used")
}

fn expired(lang: Lang) -> Result<Response, PageError> {
    notice(
        lang,
        StatusCode::GONE,
        "survey.expired_title",
        "survey.expired",
    )
}

/// What a link leads to.
enum Link {
    Open(InvitationRow, SurveyDef),
    /// A response already made: not found, used or expired.
    Closed(Response),
}

async fn open_link(app: &AppState, token: &str, lang: Lang) -> Result<Link, PageError> {
    if !is_token(token) {
        return Ok(Link::Closed(not_found(lang)?));
    }
    let Some(inv) = app
        .store
        .survey_invitation_by_hash(&token_hash(token))
        .await?
    else {
        return Ok(Link::Closed(not_found(lang)?));
    };
    if inv.used_at.is_some() {
        return Ok(Link::Closed(used(lang)?));
    }
    if inv.expires_at <= Utc::now() {
        return Ok(Link::Closed(expired(lang)?));
    }
    let Some(def) = shipped_survey(&inv.survey) else {
        tracing::warn!(
            invitation.id = inv.id,
            survey = %inv.survey,
            "a survey link names no shipped survey"
        );
        return Ok(Link::Closed(not_found(lang)?));
    };
    Ok(Link::Open(inv, def))
}

fn form_page(
    lang: Lang,
    token: &str,
    def: &SurveyDef,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let page = SurveyPage {
        t: Tr::new(lang),
        token: token.to_string(),
        title: pick(lang, &def.title_zh, &def.title_en),
        questions: question_views(def, lang),
        error,
        max_text: MAX_TEXT_CHARS,
    };
    if status == StatusCode::OK {
        return render(&page);
    }
    Ok((status, Html(page.render()?)).into_response())
}

fn lang_of(s: Option<&str>) -> Lang {
    s.and_then(Lang::parse).unwrap_or(Lang::ZhCn)
}

async fn form(
    State(app): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, PageError> {
    let lang = lang_of(q.lang.as_deref());
    match open_link(&app, &token, lang).await? {
        Link::Closed(r) => Ok(r),
        Link::Open(_, def) => form_page(lang, &token, &def, None, StatusCode::OK),
    }
}

/// True when the request's `Origin` is absent, names this host, or is the
/// configured public address.
fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    if origin.eq_ignore_ascii_case(public_url.trim_end_matches('/')) {
        return true;
    }
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

async fn submit(
    State(app): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let lang = lang_of(
        fields
            .iter()
            .find(|(k, _)| k == "lang")
            .map(|(_, v)| v.as_str()),
    );
    if !same_origin(&headers, &app.cfg.campaigns.public_url) {
        return notice(
            lang,
            StatusCode::FORBIDDEN,
            "survey.refused_title",
            "survey.refused",
        );
    }
    let (inv, def) = match open_link(&app, &token, lang).await? {
        Link::Closed(r) => return Ok(r),
        Link::Open(inv, def) => (inv, def),
    };
    let answers = match read_sheet(&def, &fields) {
        Ok(a) => a,
        Err(e) => {
            tracing::info!(
                invitation.id = inv.id,
                question = e.question_id().unwrap_or(""),
                "survey answers refused"
            );
            return form_page(
                lang,
                &token,
                &def,
                Some(e.message(lang)),
                StatusCode::BAD_REQUEST,
            );
        }
    };
    let rows: Vec<_> = answers
        .iter()
        .filter_map(|(id, a)| stored_answer(&def, id, a))
        .collect();
    let now = Utc::now();
    match app.store.submit_survey(inv.id, &rows, now).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return if inv.expires_at <= now {
                expired(lang)
            } else {
                used(lang)
            };
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(
        invitation.id = inv.id,
        answers = rows.len(),
        "survey answers stored"
    );
    notice(lang, StatusCode::OK, "survey.thanks_title", "survey.thanks")
}
