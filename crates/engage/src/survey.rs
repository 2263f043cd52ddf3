//! Surveys (docs/PRODUCT.md C11): what a survey asks, whether a submitted answer
//! sheet fits it, and what the answers add up to.
//!
//! Owns:
//!
//! - **The definition** ([`SurveyDef`]): the app stores it as JSON and renders
//!   it as a web form reached through a one-time tokenised link, with no
//!   login. [`SurveyDef::validate`] checks a definition;
//!   [`validate_answers`] checks a submitted sheet (a question left out is
//!   skipped, not an error).
//! - **The shipped definitions**: CSAT after a complaint case, the
//!   relationship NPS, and the follow-up (回访) after the National Day holiday
//!   campaign.
//! - **Results**: NPS; CSAT as the top-two-box share; the Kano category of
//!   each need from the standard evaluation table, with Berger's better/worse
//!   coefficients; the importance × urgency matrix; themes in free text.
//! - **The text form of a link token**: the app draws the random bytes, stores
//!   only a hash of the token and marks it used; this module only spells the
//!   bytes.
//!
//! Must never do IO, read the clock, draw random numbers or hash: responses,
//! bytes and thresholds are parameters.
//!
//! A response (one respondent's answer sheet) is a list of
//! `(question id, Answer)` pairs; the result helpers take any slice of
//! responses (`Vec`s or slices of pairs).

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;

// ---------------------------------------------------------------------------
// Kinds and the definition
// ---------------------------------------------------------------------------

/// What a survey measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyKind {
    /// Net Promoter Score: likelihood to recommend, 0–10.
    Nps,
    /// Customer satisfaction on a 1..=scale rating.
    Csat,
    /// Kano question pairs per need (with the importance and urgency ratings
    /// of the same needs).
    Kano,
    /// Open comments.
    FreeText,
}

impl SurveyKind {
    pub const ALL: &'static [SurveyKind] = &[
        SurveyKind::Nps,
        SurveyKind::Csat,
        SurveyKind::Kano,
        SurveyKind::FreeText,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SurveyKind::Nps => "nps",
            SurveyKind::Csat => "csat",
            SurveyKind::Kano => "kano",
            SurveyKind::FreeText => "free_text",
        }
    }

    pub fn parse(s: &str) -> Option<SurveyKind> {
        let s = s.trim().to_ascii_lowercase();
        SurveyKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    pub fn label_en(self) -> &'static str {
        match self {
            SurveyKind::Nps => "Net Promoter Score",
            SurveyKind::Csat => "Customer satisfaction",
            SurveyKind::Kano => "Kano needs analysis",
            SurveyKind::FreeText => "Open comments",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            SurveyKind::Nps => "净推荐值（NPS）",
            SurveyKind::Csat => "客户满意度（CSAT）",
            SurveyKind::Kano => "卡诺需求分析",
            SurveyKind::FreeText => "开放式意见",
        }
    }
}

impl fmt::Display for SurveyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The CSAT scale when a definition does not say: 1–5.
pub const DEFAULT_CSAT_SCALE: u8 = 5;
/// The smallest and largest CSAT scale a definition may use.
pub const CSAT_SCALE_RANGE: (u8, u8) = (2, 10);
/// Importance and urgency are rated 1..=5.
pub const RATING_MAX: u8 = 5;
/// The longest free-text answer accepted, in characters (the form has no
/// login, so the limit is the only guard against junk).
pub const MAX_TEXT_CHARS: usize = 2000;

fn default_csat_scale() -> u8 {
    DEFAULT_CSAT_SCALE
}

/// A survey the app stores and renders as a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyDef {
    /// Stable key, e.g. `csat_after_case`.
    pub key: String,
    pub title_en: String,
    pub title_zh: String,
    pub questions: Vec<Question>,
}

/// One question of a survey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Unique within the survey; answers refer to it.
    pub id: String,
    pub kind: QuestionKind,
}

/// What a question asks and how it is answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    /// Likelihood to recommend, answered 0–10 ([`Answer::NpsScore`]).
    Nps { text_en: String, text_zh: String },
    /// Satisfaction, answered 1..=scale ([`Answer::Csat`]); satisfied means
    /// one of the top two boxes (≥ scale − 1).
    Csat {
        text_en: String,
        text_zh: String,
        #[serde(default = "default_csat_scale")]
        scale: u8,
    },
    /// A Kano pair about one need: how would you feel if it were there
    /// (functional) and if it were not (dysfunctional), each answered with one
    /// of the five [`KanoAnswer`]s ([`Answer::Kano`]).
    Kano {
        /// Key of the need, shared with its importance and urgency questions.
        need: String,
        need_en: String,
        need_zh: String,
        functional_en: String,
        functional_zh: String,
        dysfunctional_en: String,
        dysfunctional_zh: String,
    },
    /// Self-stated importance of a need, 1–5 ([`Answer::Scale`]).
    Importance {
        need: String,
        text_en: String,
        text_zh: String,
    },
    /// How soon the need must be met, 1–5 ([`Answer::Scale`]).
    Urgency {
        need: String,
        text_en: String,
        text_zh: String,
    },
    /// An open comment ([`Answer::Text`]).
    FreeText { text_en: String, text_zh: String },
}

impl QuestionKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            QuestionKind::Nps { .. } => "nps",
            QuestionKind::Csat { .. } => "csat",
            QuestionKind::Kano { .. } => "kano",
            QuestionKind::Importance { .. } => "importance",
            QuestionKind::Urgency { .. } => "urgency",
            QuestionKind::FreeText { .. } => "free_text",
        }
    }

    /// The survey kind the question belongs to; importance and urgency
    /// ratings belong to the needs analysis, with the Kano pairs.
    pub fn survey_kind(&self) -> SurveyKind {
        match self {
            QuestionKind::Nps { .. } => SurveyKind::Nps,
            QuestionKind::Csat { .. } => SurveyKind::Csat,
            QuestionKind::Kano { .. }
            | QuestionKind::Importance { .. }
            | QuestionKind::Urgency { .. } => SurveyKind::Kano,
            QuestionKind::FreeText { .. } => SurveyKind::FreeText,
        }
    }

    /// The need a Kano, importance or urgency question is about.
    pub fn need(&self) -> Option<&str> {
        match self {
            QuestionKind::Kano { need, .. }
            | QuestionKind::Importance { need, .. }
            | QuestionKind::Urgency { need, .. } => Some(need),
            _ => None,
        }
    }

    /// The answer variant this question takes (see [`Answer::kind_str`]).
    pub fn answer_kind(&self) -> &'static str {
        match self {
            QuestionKind::Nps { .. } => "nps_score",
            QuestionKind::Csat { .. } => "csat",
            QuestionKind::Kano { .. } => "kano",
            QuestionKind::Importance { .. } | QuestionKind::Urgency { .. } => "scale",
            QuestionKind::FreeText { .. } => "text",
        }
    }

    /// The allowed range of a numeric answer, inclusive.
    pub fn answer_range(&self) -> Option<(u8, u8)> {
        match self {
            QuestionKind::Nps { .. } => Some((0, 10)),
            QuestionKind::Csat { scale, .. } => Some((1, *scale)),
            QuestionKind::Importance { .. } | QuestionKind::Urgency { .. } => Some((1, RATING_MAX)),
            QuestionKind::Kano { .. } | QuestionKind::FreeText { .. } => None,
        }
    }

    /// The texts that must not be empty, with their field names.
    fn texts(&self) -> Vec<(&'static str, &str)> {
        match self {
            QuestionKind::Nps { text_en, text_zh }
            | QuestionKind::Csat {
                text_en, text_zh, ..
            }
            | QuestionKind::FreeText { text_en, text_zh } => {
                vec![("text_en", text_en), ("text_zh", text_zh)]
            }
            QuestionKind::Importance {
                need,
                text_en,
                text_zh,
            }
            | QuestionKind::Urgency {
                need,
                text_en,
                text_zh,
            } => vec![("need", need), ("text_en", text_en), ("text_zh", text_zh)],
            QuestionKind::Kano {
                need,
                need_en,
                need_zh,
                functional_en,
                functional_zh,
                dysfunctional_en,
                dysfunctional_zh,
            } => vec![
                ("need", need),
                ("need_en", need_en),
                ("need_zh", need_zh),
                ("functional_en", functional_en),
                ("functional_zh", functional_zh),
                ("dysfunctional_en", dysfunctional_en),
                ("dysfunctional_zh", dysfunctional_zh),
            ],
        }
    }
}

// ---------------------------------------------------------------------------
// Answers and validation
// ---------------------------------------------------------------------------

/// One answer on a submitted form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// For an NPS question, 0–10.
    NpsScore(u8),
    /// For a CSAT question, 1..=scale.
    Csat(u8),
    /// For a Kano pair.
    Kano {
        functional: KanoAnswer,
        dysfunctional: KanoAnswer,
    },
    /// For an importance or urgency question, 1–5.
    Scale(u8),
    /// For a free-text question.
    Text(String),
}

impl Answer {
    pub fn kind_str(&self) -> &'static str {
        match self {
            Answer::NpsScore(_) => "nps_score",
            Answer::Csat(_) => "csat",
            Answer::Kano { .. } => "kano",
            Answer::Scale(_) => "scale",
            Answer::Text(_) => "text",
        }
    }
}

/// What is wrong with a survey definition or an answer sheet. Each variant
/// about a question names its id; field errors name the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SurveyError {
    /// The survey's key or a title is empty.
    EmptySurveyField { field: &'static str },
    /// The survey asks nothing.
    NoQuestions,
    /// A question's id or one of its texts is empty.
    EmptyField { id: String, field: &'static str },
    /// Two questions share an id.
    DuplicateQuestion { id: String },
    /// A CSAT scale outside 2..=10.
    BadScale { id: String, scale: u8 },
    /// An answer to a question the survey does not have.
    UnknownQuestion { id: String },
    /// Two answers to the same question.
    DuplicateAnswer { id: String },
    /// An answer of the wrong kind for the question.
    WrongAnswer {
        id: String,
        expected: &'static str,
        got: &'static str,
    },
    /// A numeric answer outside the question's range.
    OutOfRange {
        id: String,
        value: u8,
        min: u8,
        max: u8,
    },
    /// A free-text answer longer than [`MAX_TEXT_CHARS`].
    TextTooLong {
        id: String,
        chars: usize,
        max: usize,
    },
}

impl SurveyError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            SurveyError::EmptySurveyField { .. } => "empty_survey_field",
            SurveyError::NoQuestions => "no_questions",
            SurveyError::EmptyField { .. } => "empty_field",
            SurveyError::DuplicateQuestion { .. } => "duplicate_question",
            SurveyError::BadScale { .. } => "bad_scale",
            SurveyError::UnknownQuestion { .. } => "unknown_question",
            SurveyError::DuplicateAnswer { .. } => "duplicate_answer",
            SurveyError::WrongAnswer { .. } => "wrong_answer",
            SurveyError::OutOfRange { .. } => "out_of_range",
            SurveyError::TextTooLong { .. } => "text_too_long",
        }
    }

    /// The question the error is about.
    pub fn question_id(&self) -> Option<&str> {
        match self {
            SurveyError::EmptySurveyField { .. } | SurveyError::NoQuestions => None,
            SurveyError::EmptyField { id, .. }
            | SurveyError::DuplicateQuestion { id }
            | SurveyError::BadScale { id, .. }
            | SurveyError::UnknownQuestion { id }
            | SurveyError::DuplicateAnswer { id }
            | SurveyError::WrongAnswer { id, .. }
            | SurveyError::OutOfRange { id, .. }
            | SurveyError::TextTooLong { id, .. } => Some(id),
        }
    }

    /// The field of the definition the error is about.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            SurveyError::EmptySurveyField { field } | SurveyError::EmptyField { field, .. } => {
                Some(field)
            }
            SurveyError::BadScale { .. } => Some("scale"),
            _ => None,
        }
    }

    /// The message in Chinese (`Display` gives it in English).
    pub fn message_zh(&self) -> String {
        match self {
            SurveyError::EmptySurveyField { field } => format!("问卷的 {field} 不能为空"),
            SurveyError::NoQuestions => "问卷至少需要一道题".into(),
            SurveyError::EmptyField { id, field } => format!("题目“{id}”的 {field} 不能为空"),
            SurveyError::DuplicateQuestion { id } => format!("题目编号“{id}”重复"),
            SurveyError::BadScale { id, scale } => format!(
                "题目“{id}”的满意度量表为 {scale} 级，应在 {}–{} 级之间",
                CSAT_SCALE_RANGE.0, CSAT_SCALE_RANGE.1
            ),
            SurveyError::UnknownQuestion { id } => format!("问卷中没有题目“{id}”"),
            SurveyError::DuplicateAnswer { id } => format!("题目“{id}”被重复作答"),
            SurveyError::WrongAnswer { id, expected, got } => {
                format!("题目“{id}”应填写 {expected} 类型的答案，实际为 {got}")
            }
            SurveyError::OutOfRange {
                id,
                value,
                min,
                max,
            } => {
                format!("题目“{id}”的答案 {value} 超出范围（{min}–{max}）")
            }
            SurveyError::TextTooLong { id, chars, max } => {
                format!("题目“{id}”的回答有 {chars} 个字符，最多 {max} 个")
            }
        }
    }
}

impl fmt::Display for SurveyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SurveyError::EmptySurveyField { field } => write!(f, "the survey's {field} is empty"),
            SurveyError::NoQuestions => f.write_str("the survey has no questions"),
            SurveyError::EmptyField { id, field } => write!(f, "question {id:?}: {field} is empty"),
            SurveyError::DuplicateQuestion { id } => {
                write!(f, "question id {id:?} is used more than once")
            }
            SurveyError::BadScale { id, scale } => write!(
                f,
                "question {id:?}: scale {scale} is outside {}..={}",
                CSAT_SCALE_RANGE.0, CSAT_SCALE_RANGE.1
            ),
            SurveyError::UnknownQuestion { id } => {
                write!(f, "the survey has no question {id:?}")
            }
            SurveyError::DuplicateAnswer { id } => {
                write!(f, "question {id:?} is answered more than once")
            }
            SurveyError::WrongAnswer { id, expected, got } => {
                write!(f, "question {id:?} takes a {expected} answer, not {got}")
            }
            SurveyError::OutOfRange {
                id,
                value,
                min,
                max,
            } => {
                write!(
                    f,
                    "question {id:?}: answer {value} is outside {min}..={max}"
                )
            }
            SurveyError::TextTooLong { id, chars, max } => {
                write!(f, "question {id:?}: {chars} characters, at most {max}")
            }
        }
    }
}

impl std::error::Error for SurveyError {}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

impl SurveyDef {
    /// Checks the definition: key and titles non-empty, at least one
    /// question, question ids non-empty and unique, every text non-empty, CSAT
    /// scales within 2..=10. The first problem found is returned.
    pub fn validate(&self) -> Result<(), SurveyError> {
        for (field, value) in [
            ("key", &self.key),
            ("title_en", &self.title_en),
            ("title_zh", &self.title_zh),
        ] {
            if blank(value) {
                return Err(SurveyError::EmptySurveyField { field });
            }
        }
        if self.questions.is_empty() {
            return Err(SurveyError::NoQuestions);
        }
        let mut seen = HashSet::new();
        for q in &self.questions {
            if blank(&q.id) {
                return Err(SurveyError::EmptyField {
                    id: q.id.clone(),
                    field: "id",
                });
            }
            if !seen.insert(q.id.as_str()) {
                return Err(SurveyError::DuplicateQuestion { id: q.id.clone() });
            }
            if let Some((field, _)) = q.kind.texts().into_iter().find(|(_, v)| blank(v)) {
                return Err(SurveyError::EmptyField {
                    id: q.id.clone(),
                    field,
                });
            }
            if let QuestionKind::Csat { scale, .. } = q.kind {
                if !(CSAT_SCALE_RANGE.0..=CSAT_SCALE_RANGE.1).contains(&scale) {
                    return Err(SurveyError::BadScale {
                        id: q.id.clone(),
                        scale,
                    });
                }
            }
        }
        Ok(())
    }

    /// The question with this id.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// The kinds of survey this definition contains, in [`SurveyKind::ALL`]
    /// order.
    pub fn kinds(&self) -> Vec<SurveyKind> {
        SurveyKind::ALL
            .iter()
            .copied()
            .filter(|k| self.questions.iter().any(|q| q.kind.survey_kind() == *k))
            .collect()
    }
}

/// Checks a submitted answer sheet against its survey: every id must name a
/// question, no question may be answered twice, the answer must be of the
/// question's kind and within its range, a text at most [`MAX_TEXT_CHARS`]
/// characters. Questions left out are skipped, not errors. The first problem
/// found is returned.
pub fn validate_answers(def: &SurveyDef, answers: &[(String, Answer)]) -> Result<(), SurveyError> {
    let mut seen = HashSet::new();
    for (id, answer) in answers {
        let Some(q) = def.question(id) else {
            return Err(SurveyError::UnknownQuestion { id: id.clone() });
        };
        if !seen.insert(id.as_str()) {
            return Err(SurveyError::DuplicateAnswer { id: id.clone() });
        }
        let value = match (&q.kind, answer) {
            (QuestionKind::Nps { .. }, Answer::NpsScore(v))
            | (QuestionKind::Csat { .. }, Answer::Csat(v))
            | (QuestionKind::Importance { .. }, Answer::Scale(v))
            | (QuestionKind::Urgency { .. }, Answer::Scale(v)) => Some(*v),
            (QuestionKind::Kano { .. }, Answer::Kano { .. }) => None,
            (QuestionKind::FreeText { .. }, Answer::Text(t)) => {
                let chars = t.chars().count();
                if chars > MAX_TEXT_CHARS {
                    return Err(SurveyError::TextTooLong {
                        id: id.clone(),
                        chars,
                        max: MAX_TEXT_CHARS,
                    });
                }
                None
            }
            _ => {
                return Err(SurveyError::WrongAnswer {
                    id: id.clone(),
                    expected: q.kind.answer_kind(),
                    got: answer.kind_str(),
                })
            }
        };
        if let (Some(value), Some((min, max))) = (value, q.kind.answer_range()) {
            if value < min || value > max {
                return Err(SurveyError::OutOfRange {
                    id: id.clone(),
                    value,
                    min,
                    max,
                });
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Shipped definitions
// ---------------------------------------------------------------------------

fn question(id: &str, kind: QuestionKind) -> Question {
    Question {
        id: id.into(),
        kind,
    }
}

fn free_text(id: &str, en: &str, zh: &str) -> Question {
    question(
        id,
        QuestionKind::FreeText {
            text_en: en.into(),
            text_zh: zh.into(),
        },
    )
}

fn csat_question(id: &str, en: &str, zh: &str) -> Question {
    question(
        id,
        QuestionKind::Csat {
            text_en: en.into(),
            text_zh: zh.into(),
            scale: DEFAULT_CSAT_SCALE,
        },
    )
}

/// One need of the holiday follow-up: its Kano pair, importance and urgency.
struct HolidayNeed {
    key: &'static str,
    en: &'static str,
    zh: &'static str,
    functional_en: &'static str,
    functional_zh: &'static str,
    dysfunctional_en: &'static str,
    dysfunctional_zh: &'static str,
}

impl HolidayNeed {
    fn questions(&self) -> [Question; 3] {
        [
            question(
                &format!("{}_kano", self.key),
                QuestionKind::Kano {
                    need: self.key.into(),
                    need_en: self.en.into(),
                    need_zh: self.zh.into(),
                    functional_en: self.functional_en.into(),
                    functional_zh: self.functional_zh.into(),
                    dysfunctional_en: self.dysfunctional_en.into(),
                    dysfunctional_zh: self.dysfunctional_zh.into(),
                },
            ),
            question(
                &format!("{}_importance", self.key),
                QuestionKind::Importance {
                    need: self.key.into(),
                    text_en: format!(
                        "How important is “{}” to you? (1 = not important, 5 = very important)",
                        self.en.to_lowercase()
                    ),
                    text_zh: format!("“{}”对您有多重要？（1 = 不重要，5 = 非常重要）", self.zh),
                },
            ),
            question(
                &format!("{}_urgency", self.key),
                QuestionKind::Urgency {
                    need: self.key.into(),
                    text_en: format!(
                        "How soon would you need “{}”? (1 = no hurry, 5 = before my next trip)",
                        self.en.to_lowercase()
                    ),
                    text_zh: format!(
                        "您多快需要“{}”？（1 = 不着急，5 = 下次出行前就需要）",
                        self.zh
                    ),
                },
            ),
        ]
    }
}

impl SurveyDef {
    /// Sent after a complaint case is closed: CSAT on the handling, and what
    /// could have been better.
    pub fn csat_after_case() -> SurveyDef {
        SurveyDef {
            key: "csat_after_case".into(),
            title_en: "How did we handle your complaint?".into(),
            title_zh: "投诉处理满意度回访".into(),
            questions: vec![
                csat_question(
                    "handling",
                    "How satisfied are you with how we handled your complaint? (1 = very dissatisfied, 5 = very satisfied)",
                    "您对我们处理这次投诉的整体情况是否满意？（1 = 非常不满意，5 = 非常满意）",
                ),
                free_text(
                    "comment",
                    "Is there anything we could have done better?",
                    "您觉得我们还有哪些地方可以做得更好？",
                ),
            ],
        }
    }

    /// The relationship NPS: would you recommend us, and why.
    pub fn nps_relationship() -> SurveyDef {
        SurveyDef {
            key: "nps_relationship".into(),
            title_en: "Would you recommend us?".into(),
            title_zh: "客户推荐意愿调查".into(),
            questions: vec![
                question(
                    "recommend",
                    QuestionKind::Nps {
                        text_en: "How likely are you to recommend our bank to a friend or colleague? (0 = not at all likely, 10 = extremely likely)".into(),
                        text_zh: "您有多大可能向亲友或同事推荐我行？（0 = 完全不可能，10 = 非常可能）".into(),
                    },
                ),
                free_text(
                    "reason",
                    "What is the main reason for your score?",
                    "您打出这个分数的主要原因是什么？",
                ),
            ],
        }
    }

    /// The follow-up (回访) after the National Day holiday campaign: CSAT on
    /// the offer; for each of three holiday banking needs a Kano pair, its
    /// importance and its urgency; and suggestions.
    pub fn holiday_follow_up() -> SurveyDef {
        let needs = [
            HolidayNeed {
                key: "travel_limit",
                en: "Instant card limit increase for travel",
                zh: "出行前信用卡额度即时提升",
                functional_en: "If you could raise your card limit instantly in the app before a trip, how would you feel?",
                functional_zh: "如果出行前可以在手机银行上即时提升信用卡额度，您觉得怎么样？",
                dysfunctional_en: "If you could not raise your card limit instantly before a trip, how would you feel?",
                dysfunctional_zh: "如果出行前无法即时提升信用卡额度，您觉得怎么样？",
            },
            HolidayNeed {
                key: "fx_cash_delivery",
                en: "Foreign-currency cash delivered to your door",
                zh: "外币现钞送上门",
                functional_en: "If you could order foreign-currency cash online and have it delivered to your home before you travel, how would you feel?",
                functional_zh: "如果出行前可以线上预约外币现钞并送货上门，您觉得怎么样？",
                dysfunctional_en: "If you had to collect foreign-currency cash at a branch yourself, how would you feel?",
                dysfunctional_zh: "如果外币现钞只能到网点自行领取，您觉得怎么样？",
            },
            HolidayNeed {
                key: "card_travel_insurance",
                en: "Travel insurance bundled with the card",
                zh: "信用卡附赠旅行保险",
                functional_en: "If your card came with travel insurance at no extra cost, how would you feel?",
                functional_zh: "如果您的信用卡免费附带旅行保险，您觉得怎么样？",
                dysfunctional_en: "If your card came without travel insurance, how would you feel?",
                dysfunctional_zh: "如果您的信用卡不附带旅行保险，您觉得怎么样？",
            },
        ];
        let mut questions = vec![csat_question(
            "offer",
            "How satisfied are you with our National Day holiday offer? (1 = very dissatisfied, 5 = very satisfied)",
            "您对我行国庆假期活动的优惠是否满意？（1 = 非常不满意，5 = 非常满意）",
        )];
        for need in &needs {
            questions.extend(need.questions());
        }
        questions.push(free_text(
            "suggestions",
            "What else could we do to make your holiday travel easier?",
            "为了让您的假期出行更省心，您还有什么建议？",
        ));
        SurveyDef {
            key: "holiday_follow_up".into(),
            title_en: "National Day holiday: how did we do?".into(),
            title_zh: "国庆假期活动回访".into(),
            questions,
        }
    }
}

// ---------------------------------------------------------------------------
// Kano
// ---------------------------------------------------------------------------

/// The five standard answers to each question of a Kano pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KanoAnswer {
    /// "I like it that way."
    Like,
    /// "It must be that way."
    MustBe,
    /// "I am neutral."
    Neutral,
    /// "I can live with it that way."
    LiveWith,
    /// "I dislike it that way."
    Dislike,
}

impl KanoAnswer {
    /// In the order of the evaluation table's rows and columns.
    pub const ALL: [KanoAnswer; 5] = [
        KanoAnswer::Like,
        KanoAnswer::MustBe,
        KanoAnswer::Neutral,
        KanoAnswer::LiveWith,
        KanoAnswer::Dislike,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KanoAnswer::Like => "like",
            KanoAnswer::MustBe => "must_be",
            KanoAnswer::Neutral => "neutral",
            KanoAnswer::LiveWith => "live_with",
            KanoAnswer::Dislike => "dislike",
        }
    }

    pub fn parse(s: &str) -> Option<KanoAnswer> {
        let s = s.trim().to_ascii_lowercase();
        KanoAnswer::ALL.iter().copied().find(|a| a.as_str() == s)
    }

    pub fn label_en(self) -> &'static str {
        match self {
            KanoAnswer::Like => "I like it that way",
            KanoAnswer::MustBe => "It must be that way",
            KanoAnswer::Neutral => "I am neutral",
            KanoAnswer::LiveWith => "I can live with it that way",
            KanoAnswer::Dislike => "I dislike it that way",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            KanoAnswer::Like => "我喜欢",
            KanoAnswer::MustBe => "理所当然",
            KanoAnswer::Neutral => "无所谓",
            KanoAnswer::LiveWith => "能忍受",
            KanoAnswer::Dislike => "我不喜欢",
        }
    }

    fn index(self) -> usize {
        match self {
            KanoAnswer::Like => 0,
            KanoAnswer::MustBe => 1,
            KanoAnswer::Neutral => 2,
            KanoAnswer::LiveWith => 3,
            KanoAnswer::Dislike => 4,
        }
    }
}

/// The Kano category of a need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KanoCategory {
    /// A: delights when there, not missed when not.
    Attractive,
    /// O: the more the better; satisfies when there, dissatisfies when not.
    OneDimensional,
    /// M: taken for granted; only dissatisfies when missing.
    MustBe,
    /// I: makes no difference.
    Indifferent,
    /// R: the respondent would rather not have it.
    Reverse,
    /// Q: contradictory answers (liked both ways or disliked both ways).
    Questionable,
}

impl KanoCategory {
    pub const ALL: [KanoCategory; 6] = [
        KanoCategory::Attractive,
        KanoCategory::OneDimensional,
        KanoCategory::MustBe,
        KanoCategory::Indifferent,
        KanoCategory::Reverse,
        KanoCategory::Questionable,
    ];

    /// The order that breaks a tie for the most frequent category: the common
    /// "M > O > A > I" rule (the category with more impact on the product
    /// wins), then R, then Q.
    pub const TIE_ORDER: [KanoCategory; 6] = [
        KanoCategory::MustBe,
        KanoCategory::OneDimensional,
        KanoCategory::Attractive,
        KanoCategory::Indifferent,
        KanoCategory::Reverse,
        KanoCategory::Questionable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KanoCategory::Attractive => "attractive",
            KanoCategory::OneDimensional => "one_dimensional",
            KanoCategory::MustBe => "must_be",
            KanoCategory::Indifferent => "indifferent",
            KanoCategory::Reverse => "reverse",
            KanoCategory::Questionable => "questionable",
        }
    }

    /// The textbook letter: A, O, M, I, R, Q.
    pub fn letter(self) -> char {
        match self {
            KanoCategory::Attractive => 'A',
            KanoCategory::OneDimensional => 'O',
            KanoCategory::MustBe => 'M',
            KanoCategory::Indifferent => 'I',
            KanoCategory::Reverse => 'R',
            KanoCategory::Questionable => 'Q',
        }
    }

    /// Accepts the snake_case name or the letter.
    pub fn parse(s: &str) -> Option<KanoCategory> {
        let s = s.trim().to_ascii_lowercase();
        KanoCategory::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s || c.letter().to_ascii_lowercase().to_string() == s)
    }

    pub fn label_en(self) -> &'static str {
        match self {
            KanoCategory::Attractive => "Attractive",
            KanoCategory::OneDimensional => "One-dimensional",
            KanoCategory::MustBe => "Must-be",
            KanoCategory::Indifferent => "Indifferent",
            KanoCategory::Reverse => "Reverse",
            KanoCategory::Questionable => "Questionable",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            KanoCategory::Attractive => "魅力",
            KanoCategory::OneDimensional => "期望（一维）",
            KanoCategory::MustBe => "必备（基本）",
            KanoCategory::Indifferent => "无差异",
            KanoCategory::Reverse => "反向",
            KanoCategory::Questionable => "可疑",
        }
    }
}

impl fmt::Display for KanoCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The standard Kano evaluation table (Berger et al. 1993; Matzler &
/// Hinterhuber 1998): rows are the answer to the functional question, columns
/// the answer to the dysfunctional question, both in the order Like, Must-be,
/// Neutral, Live-with, Dislike.
pub const KANO_TABLE: [[KanoCategory; 5]; 5] = {
    use KanoCategory::{
        Attractive as A, Indifferent as I, MustBe as M, OneDimensional as O, Questionable as Q,
        Reverse as R,
    };
    [
        // dysfunctional: Like Must-be Neutral Live-with Dislike
        [Q, A, A, A, O], // functional: Like
        [R, I, I, I, M], // functional: Must-be
        [R, I, I, I, M], // functional: Neutral
        [R, I, I, I, M], // functional: Live-with
        [R, R, R, R, Q], // functional: Dislike
    ]
};

/// The category of one respondent's answers to a Kano pair, from
/// [`KANO_TABLE`].
pub fn kano_category(functional: KanoAnswer, dysfunctional: KanoAnswer) -> KanoCategory {
    KANO_TABLE[functional.index()][dysfunctional.index()]
}

/// How many respondents fell in each category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KanoCounts {
    pub attractive: usize,
    pub one_dimensional: usize,
    pub must_be: usize,
    pub indifferent: usize,
    pub reverse: usize,
    pub questionable: usize,
}

impl KanoCounts {
    pub fn get(&self, c: KanoCategory) -> usize {
        match c {
            KanoCategory::Attractive => self.attractive,
            KanoCategory::OneDimensional => self.one_dimensional,
            KanoCategory::MustBe => self.must_be,
            KanoCategory::Indifferent => self.indifferent,
            KanoCategory::Reverse => self.reverse,
            KanoCategory::Questionable => self.questionable,
        }
    }

    fn add(&mut self, c: KanoCategory) {
        let slot = match c {
            KanoCategory::Attractive => &mut self.attractive,
            KanoCategory::OneDimensional => &mut self.one_dimensional,
            KanoCategory::MustBe => &mut self.must_be,
            KanoCategory::Indifferent => &mut self.indifferent,
            KanoCategory::Reverse => &mut self.reverse,
            KanoCategory::Questionable => &mut self.questionable,
        };
        *slot += 1;
    }

    pub fn total(&self) -> usize {
        KanoCategory::ALL.iter().map(|c| self.get(*c)).sum()
    }
}

/// The Kano result for one need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KanoNeedResult {
    pub need: String,
    pub counts: KanoCounts,
    /// Respondents who answered the pair.
    pub n: usize,
    /// The most frequent category, ties broken by [`KanoCategory::TIE_ORDER`]
    /// (M > O > A > I > R > Q); None without answers.
    pub category: Option<KanoCategory>,
    /// Berger's satisfaction coefficient (A + O) / (A + O + M + I), 0..=1:
    /// how much having the need met raises satisfaction. None when A + O + M
    /// + I is 0.
    pub better: Option<f64>,
    /// Berger's dissatisfaction coefficient −(O + M) / (A + O + M + I),
    /// −1..=0: how much missing it lowers satisfaction. None as for `better`.
    pub worse: Option<f64>,
    /// Q / n: a high share means the question pair was misunderstood.
    pub questionable_share: Option<f64>,
}

/// Categorises every respondent's pair and sums them up for one need.
pub fn kano_summary(need: &str, answers: &[(KanoAnswer, KanoAnswer)]) -> KanoNeedResult {
    let mut counts = KanoCounts::default();
    for (functional, dysfunctional) in answers {
        counts.add(kano_category(*functional, *dysfunctional));
    }
    let n = answers.len();
    let mut category: Option<KanoCategory> = None;
    for c in KanoCategory::TIE_ORDER {
        if counts.get(c) > category.map_or(0, |best| counts.get(best)) {
            category = Some(c);
        }
    }
    let (a, o, m, i) = (
        counts.attractive,
        counts.one_dimensional,
        counts.must_be,
        counts.indifferent,
    );
    let denominator = a + o + m + i;
    let ratio = |num: usize, den: usize| (den > 0).then(|| num as f64 / den as f64);
    KanoNeedResult {
        need: need.into(),
        counts,
        n,
        category,
        better: ratio(a + o, denominator),
        worse: ratio(o + m, denominator).map(|w| -w),
        questionable_share: ratio(counts.questionable, n),
    }
}

/// The Kano result of every Kano question of the survey, in question order,
/// over the responses.
pub fn kano_results<R: AsRef<[(String, Answer)]>>(
    def: &SurveyDef,
    responses: &[R],
) -> Vec<KanoNeedResult> {
    def.questions
        .iter()
        .filter_map(|q| match &q.kind {
            QuestionKind::Kano { need, .. } => {
                let pairs: Vec<(KanoAnswer, KanoAnswer)> = responses
                    .iter()
                    .flat_map(|r| r.as_ref().iter())
                    .filter(|(id, _)| *id == q.id)
                    .filter_map(|(_, a)| match a {
                        Answer::Kano {
                            functional,
                            dysfunctional,
                        } => Some((*functional, *dysfunctional)),
                        _ => None,
                    })
                    .collect();
                Some(kano_summary(need, &pairs))
            }
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// NPS and CSAT
// ---------------------------------------------------------------------------

/// The NPS of a set of 0–10 answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NpsResult {
    /// Valid answers (0–10).
    pub n: usize,
    /// 9–10.
    pub promoters: usize,
    /// 7–8.
    pub passives: usize,
    /// 0–6.
    pub detractors: usize,
    /// Answers above 10, skipped.
    pub out_of_range: usize,
    /// % promoters − % detractors, −100..=100; None without valid answers.
    pub nps: Option<f64>,
}

/// Net Promoter Score: promoters answer 9–10, passives 7–8, detractors 0–6.
pub fn nps(scores: &[u8]) -> NpsResult {
    let (mut promoters, mut passives, mut detractors, mut out_of_range) = (0, 0, 0, 0);
    for s in scores {
        match s {
            9..=10 => promoters += 1,
            7..=8 => passives += 1,
            0..=6 => detractors += 1,
            _ => out_of_range += 1,
        }
    }
    let n = promoters + passives + detractors;
    NpsResult {
        n,
        promoters,
        passives,
        detractors,
        out_of_range,
        nps: (n > 0).then(|| (promoters as f64 - detractors as f64) * 100.0 / n as f64),
    }
}

/// The CSAT of a set of 1..=scale answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsatResult {
    /// Valid answers (1..=scale).
    pub n: usize,
    /// Answers in the top two boxes (≥ scale − 1).
    pub satisfied: usize,
    /// Answers outside 1..=scale, skipped.
    pub out_of_range: usize,
    /// satisfied / n × 100; None without valid answers.
    pub percent: Option<f64>,
}

/// Customer satisfaction as the top-two-box share: on a 1–5 scale, a 4 or a 5
/// is satisfied.
pub fn csat(scores: &[u8], scale: u8) -> CsatResult {
    let valid: Vec<u8> = scores
        .iter()
        .copied()
        .filter(|s| (1..=scale).contains(s))
        .collect();
    let n = valid.len();
    let top = scale.saturating_sub(1);
    let satisfied = valid.iter().filter(|s| **s >= top).count();
    CsatResult {
        n,
        satisfied,
        out_of_range: scores.len() - n,
        percent: (n > 0).then(|| satisfied as f64 * 100.0 / n as f64),
    }
}

/// The numeric answers (NPS, CSAT, importance or urgency) to one question
/// over the responses.
pub fn numeric_answers<R: AsRef<[(String, Answer)]>>(
    responses: &[R],
    question_id: &str,
) -> Vec<u8> {
    responses
        .iter()
        .flat_map(|r| r.as_ref().iter())
        .filter(|(id, _)| id == question_id)
        .filter_map(|(_, a)| match a {
            Answer::NpsScore(v) | Answer::Csat(v) | Answer::Scale(v) => Some(*v),
            _ => None,
        })
        .collect()
}

/// The non-blank text answers to one question over the responses.
pub fn text_answers<'a, R: AsRef<[(String, Answer)]>>(
    responses: &'a [R],
    question_id: &str,
) -> Vec<&'a str> {
    responses
        .iter()
        .flat_map(|r| r.as_ref().iter())
        .filter(|(id, _)| id == question_id)
        .filter_map(|(_, a)| match a {
            Answer::Text(t) if !blank(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Importance × urgency
// ---------------------------------------------------------------------------

/// The default cut between low and high on the 1–5 importance and urgency
/// ratings: the scale's midpoint.
pub const DEFAULT_MATRIX_THRESHOLD: f64 = 3.0;

/// A quadrant of the importance × urgency matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quadrant {
    /// Important and urgent.
    DoFirst,
    /// Important, not urgent.
    Plan,
    /// Urgent, not important.
    Quick,
    /// Neither.
    Later,
}

impl Quadrant {
    pub const ALL: [Quadrant; 4] = [
        Quadrant::DoFirst,
        Quadrant::Plan,
        Quadrant::Quick,
        Quadrant::Later,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Quadrant::DoFirst => "do_first",
            Quadrant::Plan => "plan",
            Quadrant::Quick => "quick",
            Quadrant::Later => "later",
        }
    }

    pub fn parse(s: &str) -> Option<Quadrant> {
        let s = s.trim().to_ascii_lowercase();
        Quadrant::ALL.iter().copied().find(|q| q.as_str() == s)
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Quadrant::DoFirst => "Important and urgent: do first",
            Quadrant::Plan => "Important, not urgent: plan it",
            Quadrant::Quick => "Urgent, not important: a quick fix",
            Quadrant::Later => "Neither: later",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Quadrant::DoFirst => "重要且紧急：优先处理",
            Quadrant::Plan => "重要不紧急：纳入计划",
            Quadrant::Quick => "紧急不重要：快速处理",
            Quadrant::Later => "不重要不紧急：暂缓",
        }
    }

    /// The quadrant of a need: important when its mean importance is at or
    /// above the threshold, urgent likewise.
    pub fn of(importance: f64, urgency: f64, threshold: f64) -> Quadrant {
        match (importance >= threshold, urgency >= threshold) {
            (true, true) => Quadrant::DoFirst,
            (true, false) => Quadrant::Plan,
            (false, true) => Quadrant::Quick,
            (false, false) => Quadrant::Later,
        }
    }
}

/// One need placed in the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixCell {
    pub need: String,
    /// Mean importance, 1–5.
    pub importance: f64,
    /// Mean urgency, 1–5.
    pub urgency: f64,
    pub quadrant: Quadrant,
}

/// Places each `(need, importance mean, urgency mean)` in its quadrant
/// ([`Quadrant::of`]; [`DEFAULT_MATRIX_THRESHOLD`] is the usual threshold).
/// Sorted by quadrant (do first, plan, quick, later), then by importance +
/// urgency, highest first, then by need.
pub fn priority_matrix(items: &[(String, f64, f64)], threshold: f64) -> Vec<MatrixCell> {
    let mut cells: Vec<MatrixCell> = items
        .iter()
        .map(|(need, importance, urgency)| MatrixCell {
            need: need.clone(),
            importance: *importance,
            urgency: *urgency,
            quadrant: Quadrant::of(*importance, *urgency, threshold),
        })
        .collect();
    cells.sort_by(|a, b| {
        a.quadrant
            .cmp(&b.quadrant)
            .then((b.importance + b.urgency).total_cmp(&(a.importance + a.urgency)))
            .then_with(|| a.need.cmp(&b.need))
    });
    cells
}

/// The mean of the valid 1–5 ratings; None without any.
pub fn mean_rating(ratings: &[u8]) -> Option<f64> {
    let valid: Vec<f64> = ratings
        .iter()
        .filter(|r| (1..=RATING_MAX).contains(r))
        .map(|r| f64::from(*r))
        .collect();
    (!valid.is_empty()).then(|| valid.iter().sum::<f64>() / valid.len() as f64)
}

/// The `(need, importance mean, urgency mean)` of every need of the survey
/// that has both an importance and an urgency question, from the responses,
/// in the order the needs first appear. A need without a valid rating of
/// either kind is left out.
pub fn need_ratings<R: AsRef<[(String, Answer)]>>(
    def: &SurveyDef,
    responses: &[R],
) -> Vec<(String, f64, f64)> {
    let mut needs: Vec<&str> = Vec::new();
    for q in &def.questions {
        if let QuestionKind::Importance { need, .. } | QuestionKind::Urgency { need, .. } = &q.kind
        {
            if !needs.contains(&need.as_str()) {
                needs.push(need);
            }
        }
    }
    let ratings = |need: &str, importance: bool| -> Vec<u8> {
        def.questions
            .iter()
            .filter(|q| match &q.kind {
                QuestionKind::Importance { need: n, .. } => importance && n == need,
                QuestionKind::Urgency { need: n, .. } => !importance && n == need,
                _ => false,
            })
            .flat_map(|q| numeric_answers(responses, &q.id))
            .collect()
    };
    needs
        .into_iter()
        .filter_map(|need| {
            let importance = mean_rating(&ratings(need, true))?;
            let urgency = mean_rating(&ratings(need, false))?;
            Some((need.to_string(), importance, urgency))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Free-text themes
// ---------------------------------------------------------------------------

/// How many example texts a theme keeps.
pub const MAX_THEME_EXAMPLES: usize = 3;

/// One theme of the lexicon with its keywords, matched case-insensitively.
/// An ASCII keyword matches whole words only ("fee" does not match
/// "feedback", nor "fees": list each form); any other keyword (Chinese)
/// matches as a substring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThemeDef {
    pub key: String,
    pub label_en: String,
    pub label_zh: String,
    pub keywords: Vec<String>,
}

/// The themes free text is sorted into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThemeLexicon {
    pub themes: Vec<ThemeDef>,
}

impl Default for ThemeLexicon {
    /// Ten themes of bank service comments, in Chinese and English.
    fn default() -> Self {
        let t = |key: &str, en: &str, zh: &str, keywords: &[&str]| ThemeDef {
            key: key.into(),
            label_en: en.into(),
            label_zh: zh.into(),
            keywords: keywords.iter().map(|k| (*k).to_string()).collect(),
        };
        ThemeLexicon {
            themes: vec![
                t(
                    "wait_time",
                    "Waiting and queues",
                    "排队等待",
                    &[
                        "排队", "等待", "等了", "等候", "久等", "叫号", "queue", "queues",
                        "queued", "queuing", "queueing", "wait", "waits", "waited", "waiting",
                    ],
                ),
                t(
                    "staff_attitude",
                    "Staff attitude",
                    "服务态度",
                    &[
                        "态度",
                        "不耐烦",
                        "热情",
                        "礼貌",
                        "冷漠",
                        "冷淡",
                        "耐心",
                        "attitude",
                        "rude",
                        "rudely",
                        "impolite",
                        "polite",
                        "friendly",
                        "unfriendly",
                        "impatient",
                        "courteous",
                        "arrogant",
                    ],
                ),
                t(
                    "fees",
                    "Fees and charges",
                    "手续费与收费",
                    &[
                        "手续费",
                        "费用",
                        "收费",
                        "年费",
                        "扣费",
                        "fee",
                        "fees",
                        "charge",
                        "charges",
                        "charged",
                        "commission",
                    ],
                ),
                t(
                    "digital",
                    "App and online banking",
                    "手机银行与线上渠道",
                    &[
                        "手机银行",
                        "网银",
                        "系统",
                        "闪退",
                        "登录",
                        "界面",
                        "小程序",
                        "app",
                        "apps",
                        "mobile banking",
                        "online banking",
                        "internet banking",
                        "website",
                        "system",
                        "login",
                        "log in",
                        "crash",
                        "crashes",
                        "crashed",
                    ],
                ),
                t(
                    "interest_rates",
                    "Interest rates and returns",
                    "利率与收益",
                    &[
                        "利率", "收益", "利息", "年化", "interest", "rate", "rates", "yield",
                        "yields",
                    ],
                ),
                t(
                    "card_limit",
                    "Card limit",
                    "信用卡额度",
                    &["额度", "提额", "限额", "limit", "limits", "credit line"],
                ),
                t(
                    "fraud_security",
                    "Fraud and security",
                    "防诈骗与安全",
                    &[
                        "诈骗",
                        "骗子",
                        "被骗",
                        "盗刷",
                        "安全",
                        "fraud",
                        "fraudulent",
                        "scam",
                        "scams",
                        "phishing",
                        "security",
                        "secure",
                        "stolen",
                    ],
                ),
                t(
                    "clarity",
                    "Explanation and clarity",
                    "解释说明",
                    &[
                        "解释",
                        "说明",
                        "讲解",
                        "不清楚",
                        "听不懂",
                        "看不懂",
                        "explain",
                        "explains",
                        "explained",
                        "explanation",
                        "unclear",
                        "clear",
                        "clearly",
                        "confusing",
                        "confused",
                    ],
                ),
                t(
                    "branch",
                    "Branch and environment",
                    "网点与环境",
                    &[
                        "网点",
                        "环境",
                        "大堂",
                        "营业厅",
                        "停车",
                        "柜台",
                        "branch",
                        "branches",
                        "lobby",
                        "parking",
                        "environment",
                        "premises",
                    ],
                ),
                t(
                    "speed",
                    "Speed and efficiency",
                    "办理效率",
                    &[
                        "效率",
                        "速度",
                        "慢",
                        "拖延",
                        "及时",
                        "迅速",
                        "slow",
                        "slowly",
                        "fast",
                        "quick",
                        "quickly",
                        "speed",
                        "efficient",
                        "efficiency",
                        "inefficient",
                        "delay",
                        "delays",
                        "delayed",
                    ],
                ),
            ],
        }
    }
}

/// A theme found in the texts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    pub key: String,
    pub label_en: String,
    pub label_zh: String,
    /// Texts mentioning the theme.
    pub count: usize,
    /// count / n, 0..=1.
    pub share: f64,
    /// The first texts mentioning it (at most [`MAX_THEME_EXAMPLES`]), trimmed.
    pub examples: Vec<String>,
}

/// The themes of a set of comments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThemeReport {
    /// Themes mentioned at least once, most mentioned first (ties in lexicon
    /// order).
    pub themes: Vec<Theme>,
    /// Texts matching no theme.
    pub unmatched: usize,
    /// Non-blank texts read.
    pub n: usize,
}

/// Whether `word` (lowercase ASCII) occurs in `hay` (lowercased) with no
/// ASCII letter or digit either side.
fn contains_word(hay: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let bytes = hay.as_bytes();
    let is_word_byte = |i: Option<usize>| {
        i.and_then(|i| bytes.get(i))
            .is_some_and(|b| b.is_ascii_alphanumeric())
    };
    let mut from = 0;
    while let Some(pos) = hay.get(from..).and_then(|rest| rest.find(word)) {
        let at = from + pos;
        let end = at + word.len();
        if !is_word_byte(at.checked_sub(1)) && !is_word_byte(Some(end)) {
            return true;
        }
        // The match starts with an ASCII byte, so the next byte starts a char.
        from = at + 1;
    }
    false
}

/// Sorts each text into every theme whose keyword it contains (a text may
/// hit several themes); blank texts are skipped.
pub fn themes(texts: &[&str], lexicon: &ThemeLexicon) -> ThemeReport {
    let keywords: Vec<Vec<(String, bool)>> = lexicon
        .themes
        .iter()
        .map(|t| {
            t.keywords
                .iter()
                .map(|k| k.trim().to_lowercase())
                .filter(|k| !k.is_empty())
                .map(|k| {
                    let ascii = k.is_ascii();
                    (k, ascii)
                })
                .collect()
        })
        .collect();
    let mut hits: Vec<(usize, Vec<String>)> = vec![(0, Vec::new()); lexicon.themes.len()];
    let (mut n, mut unmatched) = (0, 0);
    for text in texts {
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        n += 1;
        let lowered = text.to_lowercase();
        let mut matched = false;
        for (slot, words) in hits.iter_mut().zip(&keywords) {
            let hit = words.iter().any(|(k, ascii)| {
                if *ascii {
                    contains_word(&lowered, k)
                } else {
                    lowered.contains(k.as_str())
                }
            });
            if hit {
                matched = true;
                slot.0 += 1;
                if slot.1.len() < MAX_THEME_EXAMPLES {
                    slot.1.push(text.to_string());
                }
            }
        }
        if !matched {
            unmatched += 1;
        }
    }
    let mut found: Vec<Theme> = lexicon
        .themes
        .iter()
        .zip(hits)
        .filter(|(_, (count, _))| *count > 0)
        .map(|(def, (count, examples))| Theme {
            key: def.key.clone(),
            label_en: def.label_en.clone(),
            label_zh: def.label_zh.clone(),
            count,
            share: count as f64 / n as f64,
            examples,
        })
        .collect();
    // Stable: ties keep the lexicon order.
    found.sort_by_key(|t| std::cmp::Reverse(t.count));
    ThemeReport {
        themes: found,
        unmatched,
        n,
    }
}

// ---------------------------------------------------------------------------
// Link tokens
// ---------------------------------------------------------------------------

/// Random bytes in a one-time link token.
pub const TOKEN_BYTES: usize = 24;

/// The text form of a link token: lowercase hex, 48 characters. The app draws
/// the bytes from a secure random source and stores only a hash.
pub fn token_from_bytes(bytes: &[u8; TOKEN_BYTES]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(TOKEN_BYTES * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

/// Whether `s` has the shape of a token (48 lowercase hex characters), so a
/// request with junk in the link is turned away before any lookup.
pub fn is_token(s: &str) -> bool {
    s.len() == TOKEN_BYTES * 2 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use KanoAnswer::{Dislike, Like, LiveWith, MustBe as MustBeAnswer, Neutral};
    use KanoCategory::{Attractive, Indifferent, MustBe, OneDimensional, Questionable, Reverse};

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    fn sheet(pairs: &[(&str, Answer)]) -> Vec<(String, Answer)> {
        pairs
            .iter()
            .map(|(id, a)| ((*id).to_string(), a.clone()))
            .collect()
    }

    /// `n` respondents giving the pair `(f, d)`.
    fn pairs(n: usize, f: KanoAnswer, d: KanoAnswer) -> Vec<(KanoAnswer, KanoAnswer)> {
        vec![(f, d); n]
    }

    // -- enums ---------------------------------------------------------------

    #[test]
    fn kinds_answers_categories_and_quadrants_round_trip_through_their_codes() {
        for k in SurveyKind::ALL {
            assert_eq!(SurveyKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(SurveyKind::parse(" Free_Text "), Some(SurveyKind::FreeText));
        assert_eq!(SurveyKind::parse("ces"), None);
        for a in KanoAnswer::ALL {
            assert_eq!(KanoAnswer::parse(a.as_str()), Some(a));
        }
        for c in KanoCategory::ALL {
            assert_eq!(KanoCategory::parse(c.as_str()), Some(c));
            assert_eq!(KanoCategory::parse(&c.letter().to_string()), Some(c));
        }
        let letters: String = KanoCategory::ALL.iter().map(|c| c.letter()).collect();
        assert_eq!(letters, "AOMIRQ");
        for q in Quadrant::ALL {
            assert_eq!(Quadrant::parse(q.as_str()), Some(q));
        }
    }

    #[test]
    fn the_five_answers_and_six_categories_carry_their_standard_labels() {
        let zh: Vec<&str> = KanoAnswer::ALL.iter().map(|a| a.label_zh()).collect();
        assert_eq!(zh, ["我喜欢", "理所当然", "无所谓", "能忍受", "我不喜欢"]);
        assert_eq!(KanoAnswer::Like.label_en(), "I like it that way");
        assert_eq!(KanoAnswer::Dislike.label_en(), "I dislike it that way");
        assert_eq!(Attractive.label_zh(), "魅力");
        assert_eq!(OneDimensional.label_zh(), "期望（一维）");
        assert_eq!(MustBe.label_zh(), "必备（基本）");
        assert_eq!(Indifferent.label_zh(), "无差异");
        assert_eq!(Reverse.label_zh(), "反向");
        assert_eq!(Questionable.label_zh(), "可疑");
    }

    // -- the Kano evaluation table --------------------------------------------

    /// Every one of the 25 cells of the textbook evaluation table (Berger et
    /// al. 1993; Matzler & Hinterhuber 1998), written out here independently
    /// of `KANO_TABLE`: (functional answer, dysfunctional answer, category).
    #[test]
    fn every_cell_of_the_textbook_kano_evaluation_table() {
        let textbook = [
            // Functional "I like it": Q A A A O
            (Like, Like, Questionable),
            (Like, MustBeAnswer, Attractive),
            (Like, Neutral, Attractive),
            (Like, LiveWith, Attractive),
            (Like, Dislike, OneDimensional),
            // Functional "It must be": R I I I M
            (MustBeAnswer, Like, Reverse),
            (MustBeAnswer, MustBeAnswer, Indifferent),
            (MustBeAnswer, Neutral, Indifferent),
            (MustBeAnswer, LiveWith, Indifferent),
            (MustBeAnswer, Dislike, MustBe),
            // Functional "I am neutral": R I I I M
            (Neutral, Like, Reverse),
            (Neutral, MustBeAnswer, Indifferent),
            (Neutral, Neutral, Indifferent),
            (Neutral, LiveWith, Indifferent),
            (Neutral, Dislike, MustBe),
            // Functional "I can live with it": R I I I M
            (LiveWith, Like, Reverse),
            (LiveWith, MustBeAnswer, Indifferent),
            (LiveWith, Neutral, Indifferent),
            (LiveWith, LiveWith, Indifferent),
            (LiveWith, Dislike, MustBe),
            // Functional "I dislike it": R R R R Q
            (Dislike, Like, Reverse),
            (Dislike, MustBeAnswer, Reverse),
            (Dislike, Neutral, Reverse),
            (Dislike, LiveWith, Reverse),
            (Dislike, Dislike, Questionable),
        ];
        assert_eq!(textbook.len(), 25);
        for (f, d, expected) in textbook {
            assert_eq!(
                kano_category(f, d),
                expected,
                "functional {f:?}, dysfunctional {d:?}"
            );
        }
    }

    #[test]
    fn the_textbook_readings_of_the_table() {
        // Delighted if there, accepting if not: attractive.
        assert_eq!(kano_category(Like, Neutral), Attractive);
        // Pleased if there, displeased if not: one-dimensional.
        assert_eq!(kano_category(Like, Dislike), OneDimensional);
        // Taken for granted, displeased if missing: must-be.
        assert_eq!(kano_category(MustBeAnswer, Dislike), MustBe);
        // Liked both ways: the respondent misread a question.
        assert_eq!(kano_category(Like, Like), Questionable);
        // Disliked when there, liked when not: reverse.
        assert_eq!(kano_category(Dislike, Like), Reverse);
    }

    // -- Kano summary ------------------------------------------------------------

    /// Textbook worked example (Berger et al. 1993 coefficients): 100
    /// respondents, 40 A, 25 O, 20 M, 15 I.
    /// Most frequent is A; better = (40 + 25) / 100 = 0.65;
    /// worse = −(25 + 20) / 100 = −0.45.
    #[test]
    fn textbook_worked_example_40a_25o_20m_15i_is_attractive_with_better_065_worse_minus_045() {
        let mut answers = pairs(40, Like, Neutral); // A
        answers.extend(pairs(25, Like, Dislike)); // O
        answers.extend(pairs(20, Neutral, Dislike)); // M
        answers.extend(pairs(15, Neutral, Neutral)); // I
        let r = kano_summary("travel_limit", &answers);
        assert_eq!(r.need, "travel_limit");
        assert_eq!(r.n, 100);
        assert_eq!(
            r.counts,
            KanoCounts {
                attractive: 40,
                one_dimensional: 25,
                must_be: 20,
                indifferent: 15,
                reverse: 0,
                questionable: 0
            }
        );
        assert_eq!(r.category, Some(Attractive));
        assert!(close(r.better, 0.65), "{:?}", r.better);
        assert!(close(r.worse, -0.45), "{:?}", r.worse);
        assert!(close(r.questionable_share, 0.0));
    }

    /// R and Q answers count in n but not in the better/worse denominator.
    #[test]
    fn reverse_and_questionable_answers_stay_out_of_better_and_worse() {
        let mut answers = pairs(6, MustBeAnswer, Dislike); // M
        answers.extend(pairs(2, Like, Dislike)); // O
        answers.extend(pairs(1, Dislike, Like)); // R
        answers.extend(pairs(1, Like, Like)); // Q
        let r = kano_summary("atm", &answers);
        assert_eq!(r.n, 10);
        assert_eq!(r.category, Some(MustBe));
        assert!(close(r.better, 2.0 / 8.0));
        assert!(close(r.worse, -1.0));
        assert!(close(r.questionable_share, 0.1));
    }

    #[test]
    fn ties_are_broken_m_over_o_over_a_over_i() {
        let a = pairs(3, Like, Neutral);
        let o = pairs(3, Like, Dislike);
        let m = pairs(3, Neutral, Dislike);
        let i = pairs(3, Neutral, Neutral);
        let all = |parts: &[&Vec<(KanoAnswer, KanoAnswer)>]| {
            parts
                .iter()
                .flat_map(|p| p.iter().copied())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kano_summary("x", &all(&[&a, &o, &m, &i])).category,
            Some(MustBe)
        );
        assert_eq!(
            kano_summary("x", &all(&[&a, &o, &i])).category,
            Some(OneDimensional)
        );
        assert_eq!(
            kano_summary("x", &all(&[&i, &a])).category,
            Some(Attractive)
        );
        // A clear majority wins whatever the order.
        let mut more_i = all(&[&a, &m]);
        more_i.extend(pairs(4, MustBeAnswer, Neutral));
        assert_eq!(kano_summary("x", &more_i).category, Some(Indifferent));
    }

    #[test]
    fn a_need_without_answers_or_only_contradictions_has_no_coefficients() {
        let r = kano_summary("none", &[]);
        assert_eq!((r.n, r.category, r.better, r.worse), (0, None, None, None));
        assert_eq!(r.questionable_share, None);
        let q = kano_summary("confused", &pairs(2, Dislike, Dislike));
        assert_eq!(q.category, Some(Questionable));
        assert_eq!((q.better, q.worse), (None, None));
        assert!(close(q.questionable_share, 1.0));
    }

    #[test]
    fn kano_results_read_each_pair_of_the_survey_from_the_responses() {
        let def = SurveyDef::holiday_follow_up();
        let kano = |f, d| Answer::Kano {
            functional: f,
            dysfunctional: d,
        };
        let responses = vec![
            sheet(&[
                ("travel_limit_kano", kano(Like, Dislike)),
                ("fx_cash_delivery_kano", kano(Like, Neutral)),
            ]),
            sheet(&[("travel_limit_kano", kano(MustBeAnswer, Dislike))]),
            sheet(&[("travel_limit_kano", kano(Like, Dislike))]),
        ];
        let r = kano_results(&def, &responses);
        let needs: Vec<&str> = r.iter().map(|k| k.need.as_str()).collect();
        assert_eq!(
            needs,
            ["travel_limit", "fx_cash_delivery", "card_travel_insurance"]
        );
        assert_eq!((r[0].n, r[0].category), (3, Some(OneDimensional)));
        assert_eq!((r[1].n, r[1].category), (1, Some(Attractive)));
        assert_eq!((r[2].n, r[2].category), (0, None));
    }

    // -- NPS and CSAT --------------------------------------------------------------

    #[test]
    fn nps_of_three_promoters_four_passives_three_detractors_is_zero() {
        let r = nps(&[10, 9, 9, 8, 8, 7, 7, 6, 3, 0]);
        assert_eq!((r.n, r.promoters, r.passives, r.detractors), (10, 3, 4, 3));
        assert!(close(r.nps, 0.0));
    }

    #[test]
    fn nps_spans_minus_100_to_100_and_skips_scores_above_10() {
        assert!(close(nps(&[9, 10, 10]).nps, 100.0));
        assert!(close(nps(&[0, 6, 5]).nps, -100.0));
        let r = nps(&[10, 10, 10, 8, 2, 11, 200]);
        assert_eq!((r.n, r.out_of_range), (5, 2));
        assert!(close(r.nps, 40.0));
        let empty = nps(&[]);
        assert_eq!((empty.n, empty.nps), (0, None));
    }

    #[test]
    fn csat_counts_the_top_two_boxes() {
        // 1–5: 4 and 5 are satisfied.
        let r = csat(&[5, 4, 3, 2, 1, 5], 5);
        assert_eq!((r.n, r.satisfied), (6, 3));
        assert!(close(r.percent, 50.0));
        // 1–7: 6 and 7.
        let r = csat(&[7, 6, 5, 5], 7);
        assert!(close(r.percent, 50.0));
        // Outside 1..=scale is skipped.
        let r = csat(&[0, 6, 5, 4], 5);
        assert_eq!((r.n, r.satisfied, r.out_of_range), (2, 2, 2));
        assert_eq!(csat(&[], 5).percent, None);
    }

    proptest! {
        #[test]
        fn nps_and_csat_stay_in_range(scores in proptest::collection::vec(0u8..=12, 0..60)) {
            let r = nps(&scores);
            prop_assert_eq!(r.promoters + r.passives + r.detractors, r.n);
            prop_assert_eq!(r.n + r.out_of_range, scores.len());
            if let Some(v) = r.nps {
                prop_assert!((-100.0..=100.0).contains(&v));
            }
            let c = csat(&scores, 5);
            prop_assert!(c.satisfied <= c.n);
            if let Some(p) = c.percent {
                prop_assert!((0.0..=100.0).contains(&p));
            }
        }

        #[test]
        fn every_answer_pair_has_exactly_one_category(f in 0usize..5, d in 0usize..5) {
            let (f, d) = (KanoAnswer::ALL[f], KanoAnswer::ALL[d]);
            let r = kano_summary("x", &[(f, d)]);
            prop_assert_eq!(r.counts.total(), 1);
            prop_assert_eq!(r.category, Some(kano_category(f, d)));
        }
    }

    // -- importance × urgency ------------------------------------------------------

    #[test]
    fn the_matrix_puts_each_need_in_its_quadrant_and_lists_do_first_first() {
        let items = vec![
            ("later".to_string(), 2.0, 1.5),
            ("quick".to_string(), 2.9, 4.0),
            ("plan".to_string(), 4.5, 2.0),
            ("do_first".to_string(), 4.2, 4.8),
            ("on_the_line".to_string(), 3.0, 3.0),
        ];
        let m = priority_matrix(&items, DEFAULT_MATRIX_THRESHOLD);
        let got: Vec<(&str, Quadrant)> = m.iter().map(|c| (c.need.as_str(), c.quadrant)).collect();
        assert_eq!(
            got,
            [
                ("do_first", Quadrant::DoFirst),
                // At the threshold counts as high; lower sum comes second.
                ("on_the_line", Quadrant::DoFirst),
                ("plan", Quadrant::Plan),
                ("quick", Quadrant::Quick),
                ("later", Quadrant::Later),
            ]
        );
        // A stricter threshold moves the borderline need out.
        let strict = priority_matrix(&items, 3.5);
        assert_eq!(
            strict
                .iter()
                .find(|c| c.need == "on_the_line")
                .unwrap()
                .quadrant,
            Quadrant::Later
        );
    }

    #[test]
    fn need_ratings_average_the_importance_and_urgency_answers_per_need() {
        let def = SurveyDef::holiday_follow_up();
        let responses = vec![
            sheet(&[
                ("travel_limit_importance", Answer::Scale(5)),
                ("travel_limit_urgency", Answer::Scale(4)),
                ("fx_cash_delivery_importance", Answer::Scale(2)),
            ]),
            sheet(&[
                ("travel_limit_importance", Answer::Scale(4)),
                ("travel_limit_urgency", Answer::Scale(5)),
            ]),
        ];
        let r = need_ratings(&def, &responses);
        // fx_cash_delivery has no urgency answer; insurance no answer at all.
        assert_eq!(r, vec![("travel_limit".to_string(), 4.5, 4.5)]);
        let m = priority_matrix(&r, DEFAULT_MATRIX_THRESHOLD);
        assert_eq!(m[0].quadrant, Quadrant::DoFirst);
        assert_eq!(mean_rating(&[1, 2, 3, 9, 0]), Some(2.0));
        assert_eq!(mean_rating(&[]), None);
    }

    // -- themes ------------------------------------------------------------------------

    #[test]
    fn chinese_comments_are_sorted_into_themes() {
        let texts = [
            "网点排队等了一个小时，效率太低",
            "柜员态度很好，解释得很清楚",
            "手机银行老是闪退",
            "排队时间太长",
            "  ",
            "挺好的",
        ];
        let r = themes(&texts, &ThemeLexicon::default());
        assert_eq!((r.n, r.unmatched), (5, 1));
        let count = |key: &str| r.themes.iter().find(|t| t.key == key).map(|t| t.count);
        assert_eq!(count("wait_time"), Some(2));
        assert_eq!(count("branch"), Some(1));
        assert_eq!(count("speed"), Some(1));
        assert_eq!(count("staff_attitude"), Some(1));
        assert_eq!(count("clarity"), Some(1));
        assert_eq!(count("digital"), Some(1));
        assert_eq!(count("fees"), None);
        assert_eq!(r.themes[0].key, "wait_time");
        assert!((r.themes[0].share - 0.4).abs() < 1e-9);
        assert_eq!(r.themes[0].label_zh, "排队等待");
    }

    #[test]
    fn english_keywords_match_whole_words_case_insensitively() {
        let texts = [
            "The APP crashed twice when I tried to log in",
            "Fees are too high",
            "Happy with the feedback I got", // neither "app" nor "fee"
            "My credit line was raised quickly",
            "Waited 40 minutes in the queue",
        ];
        let r = themes(&texts, &ThemeLexicon::default());
        let count = |key: &str| r.themes.iter().find(|t| t.key == key).map(|t| t.count);
        assert_eq!(count("digital"), Some(1));
        assert_eq!(count("fees"), Some(1));
        assert_eq!(count("card_limit"), Some(1));
        assert_eq!(count("speed"), Some(1));
        assert_eq!(count("wait_time"), Some(1));
        assert_eq!(r.unmatched, 1);
        // Mixed Chinese and English: "APP" next to Chinese characters.
        let mixed = themes(&["手机APP很卡"], &ThemeLexicon::default());
        assert_eq!(mixed.themes[0].key, "digital");
    }

    #[test]
    fn a_theme_keeps_at_most_three_trimmed_examples() {
        let texts = [" 排队1 ", "排队2", "排队3", "排队4"];
        let r = themes(&texts, &ThemeLexicon::default());
        assert_eq!(r.themes[0].count, 4);
        assert_eq!(r.themes[0].examples, ["排队1", "排队2", "排队3"]);
        let empty = themes(&[], &ThemeLexicon::default());
        assert_eq!((empty.n, empty.unmatched, empty.themes.len()), (0, 0, 0));
        assert_eq!(ThemeLexicon::default().themes.len(), 10);
    }

    // -- definitions and validation ----------------------------------------------------

    #[test]
    fn the_shipped_definitions_validate() {
        for def in [
            SurveyDef::csat_after_case(),
            SurveyDef::nps_relationship(),
            SurveyDef::holiday_follow_up(),
        ] {
            assert_eq!(def.validate(), Ok(()), "{}", def.key);
        }
        assert_eq!(
            SurveyDef::csat_after_case().kinds(),
            [SurveyKind::Csat, SurveyKind::FreeText]
        );
        assert_eq!(
            SurveyDef::nps_relationship().kinds(),
            [SurveyKind::Nps, SurveyKind::FreeText]
        );
    }

    #[test]
    fn the_holiday_follow_up_asks_a_kano_pair_importance_and_urgency_for_three_needs() {
        let def = SurveyDef::holiday_follow_up();
        let needs_of = |kind: &str| -> Vec<&str> {
            def.questions
                .iter()
                .filter(|q| q.kind.as_str() == kind)
                .filter_map(|q| q.kind.need())
                .collect()
        };
        let needs = ["travel_limit", "fx_cash_delivery", "card_travel_insurance"];
        assert_eq!(needs_of("kano"), needs);
        assert_eq!(needs_of("importance"), needs);
        assert_eq!(needs_of("urgency"), needs);
        assert_eq!(def.questions.first().unwrap().kind.as_str(), "csat");
        assert_eq!(def.questions.last().unwrap().kind.as_str(), "free_text");
        assert!(def.title_zh.contains("国庆"));
    }

    #[test]
    fn validation_names_the_question_and_the_field() {
        let mut def = SurveyDef::holiday_follow_up();
        if let QuestionKind::Kano { need_zh, .. } = &mut def.questions[1].kind {
            need_zh.clear();
        }
        let e = def.validate().unwrap_err();
        assert_eq!(
            e,
            SurveyError::EmptyField {
                id: "travel_limit_kano".into(),
                field: "need_zh"
            }
        );
        assert_eq!(e.question_id(), Some("travel_limit_kano"));
        assert_eq!(e.field(), Some("need_zh"));
        assert!(e.to_string().contains("travel_limit_kano") && e.to_string().contains("need_zh"));
        assert!(e.message_zh().contains("travel_limit_kano"));

        let mut def = SurveyDef::csat_after_case();
        def.questions[1].id = "handling".into();
        assert_eq!(
            def.validate(),
            Err(SurveyError::DuplicateQuestion {
                id: "handling".into()
            })
        );

        let mut def = SurveyDef::csat_after_case();
        if let QuestionKind::Csat { scale, .. } = &mut def.questions[0].kind {
            *scale = 11;
        }
        let e = def.validate().unwrap_err();
        assert_eq!(
            (e.code(), e.question_id(), e.field()),
            ("bad_scale", Some("handling"), Some("scale"))
        );

        let mut def = SurveyDef::nps_relationship();
        def.questions[0].id = " ".into();
        assert_eq!(def.validate().unwrap_err().field(), Some("id"));

        let mut def = SurveyDef::nps_relationship();
        def.title_zh = String::new();
        assert_eq!(
            def.validate(),
            Err(SurveyError::EmptySurveyField { field: "title_zh" })
        );
        def.title_zh = "推荐".into();
        def.questions.clear();
        assert_eq!(def.validate(), Err(SurveyError::NoQuestions));
    }

    #[test]
    fn a_complete_or_partial_answer_sheet_is_accepted() {
        let def = SurveyDef::holiday_follow_up();
        let full = sheet(&[
            ("offer", Answer::Csat(4)),
            (
                "travel_limit_kano",
                Answer::Kano {
                    functional: Like,
                    dysfunctional: Dislike,
                },
            ),
            ("travel_limit_importance", Answer::Scale(5)),
            ("travel_limit_urgency", Answer::Scale(1)),
            ("suggestions", Answer::Text("希望增加境外返现".into())),
        ]);
        assert_eq!(validate_answers(&def, &full), Ok(()));
        assert_eq!(validate_answers(&def, &[]), Ok(()));
        let nps_def = SurveyDef::nps_relationship();
        for v in [0, 10] {
            assert_eq!(
                validate_answers(&nps_def, &sheet(&[("recommend", Answer::NpsScore(v))])),
                Ok(())
            );
        }
    }

    #[test]
    fn answer_sheet_errors_name_the_question() {
        let def = SurveyDef::holiday_follow_up();
        let check = |pairs: &[(&str, Answer)]| validate_answers(&def, &sheet(pairs)).unwrap_err();

        assert_eq!(
            check(&[("nope", Answer::Scale(3))]),
            SurveyError::UnknownQuestion { id: "nope".into() }
        );
        assert_eq!(
            check(&[("offer", Answer::Csat(3)), ("offer", Answer::Csat(4))]),
            SurveyError::DuplicateAnswer { id: "offer".into() }
        );
        assert_eq!(
            check(&[("offer", Answer::Scale(3))]),
            SurveyError::WrongAnswer {
                id: "offer".into(),
                expected: "csat",
                got: "scale"
            }
        );
        assert_eq!(
            check(&[("offer", Answer::Csat(0))]),
            SurveyError::OutOfRange {
                id: "offer".into(),
                value: 0,
                min: 1,
                max: 5
            }
        );
        assert_eq!(
            check(&[("fx_cash_delivery_urgency", Answer::Scale(6))]).code(),
            "out_of_range"
        );
        let long = "好".repeat(MAX_TEXT_CHARS + 1);
        let e = check(&[("suggestions", Answer::Text(long))]);
        assert_eq!(e.code(), "text_too_long");
        assert_eq!(e.question_id(), Some("suggestions"));

        let nps_def = SurveyDef::nps_relationship();
        let e =
            validate_answers(&nps_def, &sheet(&[("recommend", Answer::NpsScore(11))])).unwrap_err();
        assert!(e.to_string().contains("recommend"));
    }

    #[test]
    fn answers_are_picked_per_question_from_the_responses() {
        let responses = vec![
            sheet(&[
                ("recommend", Answer::NpsScore(9)),
                ("reason", Answer::Text("服务好".into())),
            ]),
            sheet(&[
                ("recommend", Answer::NpsScore(3)),
                ("reason", Answer::Text(" ".into())),
            ]),
        ];
        assert_eq!(numeric_answers(&responses, "recommend"), [9, 3]);
        assert_eq!(text_answers(&responses, "reason"), ["服务好"]);
        assert!(close(
            nps(&numeric_answers(&responses, "recommend")).nps,
            0.0
        ));
    }

    // -- tokens ---------------------------------------------------------------------------

    #[test]
    fn a_token_is_48_lowercase_hex_characters() {
        let mut bytes = [0u8; TOKEN_BYTES];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(0xa5);
        }
        let t = token_from_bytes(&bytes);
        assert_eq!(t.len(), 48);
        assert!(t.starts_with("a5ca"));
        assert!(is_token(&t));
        assert_eq!(token_from_bytes(&[0xff; TOKEN_BYTES]), "ff".repeat(24));
        assert!(!is_token(&t.to_uppercase()));
        assert!(!is_token(&t[..47]));
        assert!(!is_token("../../etc/passwd"));
    }
}
