//! Survey results for staff: `GET /surveys` lists every shipped survey with
//! its links sent and answered and its headline NPS or CSAT; `GET
//! /surveys/{key}` shows one survey's results — over every link, or over
//! the links one campaign sent (`?campaign=<key>`) —: NPS, CSAT, Kano
//! categories with better/worse coefficients, the importance × urgency
//! matrix and the themes of the free text. `POST /surveys/{key}/invite`
//! creates a one-time link for a customer (audited by the service) and
//! redirects to the survey page, which shows the link once (it travels in
//! a short-lived cookie that the page clears; only the token's hash is
//! stored).
//!
//! Figures from `rapport_services::surveys` (summed up by
//! `rapport_engage::survey`); this module only shows them.

use super::{check_csrf, enc, render, require, Layout};
use crate::auth::{cookie, PageUser, Permission};
use crate::error::PageError;
use crate::i18n::{Lang, Text, Tr};
use crate::present::{time, word};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rapport_engage::survey::KanoCategory;
use rapport_services::surveys::{self, SurveyResults};
use serde::Deserialize;

/// The cookie that carries a new link to the page that shows it once.
const LINK_COOKIE: &str = "rapport_survey_link";

pub const TEXTS: &[Text] = &[
    ("nav.surveys", "问卷结果", "Survey results"),
    ("surveys.title", "问卷结果", "Survey results"),
    ("surveys.survey", "问卷", "Survey"),
    ("surveys.sent", "已发送链接", "Links sent"),
    ("surveys.answered", "已作答", "Answered"),
    ("surveys.rate", "回复率", "Response rate"),
    ("surveys.respondents", "答卷数", "Answer sheets"),
    ("surveys.nps", "净推荐值 NPS", "NPS"),
    ("surveys.csat", "满意度 CSAT", "CSAT"),
    ("surveys.open", "查看结果", "Open results"),
    ("surveys.all_links", "全部链接", "All links"),
    ("surveys.by_campaign", "按营销活动", "By campaign"),
    ("surveys.campaign", "营销活动", "Campaign"),
    ("surveys.question", "题目", "Question"),
    ("surveys.promoters", "推荐者", "Promoters"),
    ("surveys.passives", "中立者", "Passives"),
    ("surveys.detractors", "贬损者", "Detractors"),
    ("surveys.answers", "有效回答", "Answers"),
    ("surveys.satisfied", "满意（最高两档）", "Satisfied (top two)"),
    ("surveys.kano", "Kano 需求分类", "Kano categories"),
    ("surveys.need", "需求", "Need"),
    ("surveys.category", "分类", "Category"),
    ("surveys.better", "满意系数 Better", "Better"),
    ("surveys.worse", "不满系数 Worse", "Worse"),
    (
        "surveys.kano_note",
        "Better = (A+O)/(A+O+M+I)：满足该需求能提升多少满意度；Worse = −(O+M)/(A+O+M+I)：缺少它会降低多少满意度。A 魅力、O 期望、M 必备、I 无差异、R 反向、Q 可疑。",
        "Better = (A+O)/(A+O+M+I): how much meeting the need raises satisfaction; Worse = −(O+M)/(A+O+M+I): how much missing it lowers satisfaction. A attractive, O one-dimensional, M must-be, I indifferent, R reverse, Q questionable.",
    ),
    ("surveys.matrix", "重要性 × 紧迫性矩阵", "Importance × urgency matrix"),
    ("surveys.importance", "重要性（均值）", "Importance (mean)"),
    ("surveys.urgency", "紧迫性（均值）", "Urgency (mean)"),
    ("surveys.quadrant", "象限", "Quadrant"),
    ("surveys.themes", "开放题主题", "Themes of the comments"),
    ("surveys.theme", "主题", "Theme"),
    ("surveys.mentions", "提及次数", "Mentions"),
    ("surveys.share", "占比", "Share"),
    ("surveys.examples", "原话示例", "Examples"),
    ("surveys.unmatched", "未归类的评论", "Comments matching no theme"),
    ("surveys.no_answers", "暂无回答", "No answers yet"),
    ("surveys.invite", "生成一次性问卷链接", "Create a one-time survey link"),
    ("surveys.customer", "客户编号", "Customer key"),
    ("surveys.days", "有效天数", "Valid days"),
    ("surveys.create", "生成链接", "Create link"),
    (
        "surveys.link_once",
        "新链接（仅显示这一次，请立即复制发送给客户）：",
        "New link (shown this once; copy it and send it to the customer now):",
    ),
    ("surveys.expires", "有效期至", "Valid until"),
    ("code.survey_need.travel_limit", "出行前信用卡额度即时提升", "Instant card limit increase for travel"),
    ("code.survey_need.fx_cash_delivery", "外币现钞送上门", "Foreign-currency cash delivered to the door"),
    ("code.survey_need.card_travel_insurance", "信用卡附赠旅行保险", "Travel insurance bundled with the card"),
    ("code.survey_question.offer", "活动优惠满意度", "Satisfaction with the offer"),
    ("code.survey_question.handling", "投诉处理满意度", "Satisfaction with the complaint handling"),
    ("code.survey_question.recommend", "推荐意愿", "Likelihood to recommend"),
    ("code.survey_question.suggestions", "改进建议", "Suggestions"),
    ("code.survey_question.reason", "打分原因", "Reason for the score"),
    ("code.survey_question.comment", "改进意见", "What could be better"),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/surveys", get(list))
        .route("/surveys/{key}", get(detail))
        .route("/surveys/{key}/invite", post(invite))
}

fn pick(t: &Tr, zh: &str, en: &str) -> String {
    match t.lang {
        Lang::ZhCn => zh.to_string(),
        Lang::En => en.to_string(),
    }
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.filter(|x| x.is_finite())
        .map_or_else(|| "–".to_string(), |x| format!("{x:.decimals$}"))
}

fn pct(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map_or_else(|| "–".to_string(), |x| format!("{x:.1}%"))
}

pub struct SurveyRow {
    pub key: String,
    pub href: String,
    pub title: String,
    pub sent: i64,
    pub answered: i64,
    pub rate: String,
    pub respondents: usize,
    pub nps: String,
    pub csat: String,
}

fn survey_row(t: &Tr, r: &SurveyResults) -> SurveyRow {
    SurveyRow {
        key: r.survey.clone(),
        href: format!("/surveys/{}", enc(&r.survey)),
        title: pick(t, &r.title_zh, &r.title_en),
        sent: r.sent,
        answered: r.answered,
        rate: pct(r.response_rate_percent),
        respondents: r.respondents,
        nps: r
            .nps
            .first()
            .map_or_else(String::new, |q| num(q.result.nps, 1)),
        csat: r
            .csat
            .first()
            .map_or_else(String::new, |q| pct(q.result.percent)),
    }
}

#[derive(Template)]
#[template(path = "surveys.html")]
struct SurveysPage {
    layout: Layout,
    rows: Vec<SurveyRow>,
}

async fn list(State(app): State<AppState>, PageUser(v): PageUser) -> Result<Response, PageError> {
    require(&v, Permission::ViewEngagement)?;
    let all = surveys::overview(&app.store, &v.actor()).await?;
    let layout = Layout::new(&app, &v, "/surveys", "/surveys");
    let t = layout.t;
    render(&SurveysPage {
        rows: all.iter().map(|r| survey_row(&t, r)).collect(),
        layout,
    })
}

pub struct NpsView {
    pub question: String,
    pub n: usize,
    pub promoters: usize,
    pub passives: usize,
    pub detractors: usize,
    pub nps: String,
}

pub struct CsatView {
    pub question: String,
    pub n: usize,
    pub satisfied: usize,
    pub percent: String,
}

pub struct KanoView {
    pub need: String,
    pub n: usize,
    pub counts: Vec<usize>,
    pub category: String,
    pub better: String,
    pub worse: String,
}

pub struct MatrixView {
    pub need: String,
    pub importance: String,
    pub urgency: String,
    pub quadrant: String,
    pub quadrant_code: &'static str,
}

pub struct ThemeView {
    pub label: String,
    pub count: usize,
    pub share: String,
    pub examples: Vec<String>,
}

pub struct ThemesView {
    pub question: String,
    pub n: usize,
    pub unmatched: usize,
    pub themes: Vec<ThemeView>,
}

pub struct CampaignChoice {
    pub href: String,
    pub name: String,
    pub sent: i64,
    pub answered: i64,
    pub selected: bool,
}

pub struct NewLink {
    pub link: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "surveys_detail.html")]
struct SurveyPage {
    layout: Layout,
    summary: SurveyRow,
    campaign: Option<String>,
    all_href: String,
    campaigns: Vec<CampaignChoice>,
    nps: Vec<NpsView>,
    csat: Vec<CsatView>,
    kano_letters: Vec<char>,
    kano: Vec<KanoView>,
    matrix: Vec<MatrixView>,
    themes: Vec<ThemesView>,
    can_invite: bool,
    days: u32,
    new_link: Option<NewLink>,
}

#[derive(Deserialize)]
pub struct SurveyQuery {
    campaign: Option<String>,
}

async fn detail(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(key): Path<String>,
    Query(q): Query<SurveyQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    require(&v, Permission::ViewEngagement)?;
    let campaign = super::opt(&q.campaign);
    let view = surveys::survey_view(&app.store, &v.actor(), &key, campaign.as_deref()).await?;
    let here = match &view.campaign {
        Some(c) => format!("/surveys/{}?campaign={}", enc(&key), enc(&c.key)),
        None => format!("/surveys/{}", enc(&key)),
    };
    let layout = Layout::new(&app, &v, "/surveys", &here);
    let t = layout.t;
    let r = &view.results;
    let question = |id: &str| word(&t, "survey_question", id);
    let need = |id: &str| word(&t, "survey_need", id);
    let new_link = cookie(&headers, LINK_COOKIE).and_then(|c| {
        let (expires, link) = c.split_once('|')?;
        let at = chrono::DateTime::parse_from_rfc3339(expires).ok()?;
        Some(NewLink {
            link: link.to_string(),
            expires: time(at.with_timezone(&chrono::Utc), app.offset()),
        })
    });
    let page = SurveyPage {
        summary: survey_row(&t, r),
        campaign: view
            .campaign
            .as_ref()
            .map(|c| pick(&t, &c.name_zh, &c.name_en)),
        all_href: format!("/surveys/{}", enc(&key)),
        campaigns: view
            .campaigns
            .iter()
            .map(|c| CampaignChoice {
                href: format!("/surveys/{}?campaign={}", enc(&key), enc(&c.key)),
                name: pick(&t, &c.name_zh, &c.name_en),
                sent: c.sent,
                answered: c.answered,
                selected: view.campaign.as_ref().is_some_and(|s| s.key == c.key),
            })
            .collect(),
        nps: r
            .nps
            .iter()
            .map(|q| NpsView {
                question: question(&q.question_id),
                n: q.result.n,
                promoters: q.result.promoters,
                passives: q.result.passives,
                detractors: q.result.detractors,
                nps: num(q.result.nps, 1),
            })
            .collect(),
        csat: r
            .csat
            .iter()
            .map(|q| CsatView {
                question: question(&q.question_id),
                n: q.result.n,
                satisfied: q.result.satisfied,
                percent: pct(q.result.percent),
            })
            .collect(),
        kano_letters: KanoCategory::ALL.iter().map(|c| c.letter()).collect(),
        kano: r
            .kano
            .iter()
            .map(|k| KanoView {
                need: need(&k.need),
                n: k.n,
                counts: KanoCategory::ALL.iter().map(|c| k.counts.get(*c)).collect(),
                category: k
                    .category
                    .map_or_else(|| "–".to_string(), |c| pick(&t, c.label_zh(), c.label_en())),
                better: num(k.better, 2),
                worse: num(k.worse, 2),
            })
            .collect(),
        matrix: r
            .matrix
            .iter()
            .map(|m| MatrixView {
                need: need(&m.need),
                importance: num(Some(m.importance), 2),
                urgency: num(Some(m.urgency), 2),
                quadrant: pick(&t, m.quadrant.label_zh(), m.quadrant.label_en()),
                quadrant_code: m.quadrant.as_str(),
            })
            .collect(),
        themes: r
            .themes
            .iter()
            .map(|q| ThemesView {
                question: question(&q.question_id),
                n: q.report.n,
                unmatched: q.report.unmatched,
                themes: q
                    .report
                    .themes
                    .iter()
                    .map(|th| ThemeView {
                        label: pick(&t, &th.label_zh, &th.label_en),
                        count: th.count,
                        share: crate::present::percent(th.share),
                        examples: th.examples.clone(),
                    })
                    .collect(),
            })
            .collect(),
        can_invite: surveys::may_invite(&v.actor()),
        days: app.cfg.campaigns.survey_valid_days,
        new_link,
        layout,
    };
    let mut res = render(&page)?;
    if page.new_link.is_some() {
        let clear = format!("{LINK_COOKIE}=; Path=/surveys; HttpOnly; SameSite=Strict; Max-Age=0");
        if let Ok(h) = HeaderValue::from_str(&clear) {
            res.headers_mut().append(header::SET_COOKIE, h);
        }
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[derive(Deserialize)]
struct InviteForm {
    csrf: String,
    customer: String,
    days: Option<String>,
}

async fn invite(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(key): Path<String>,
    Form(f): Form<InviteForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    let days = match f.days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => app.cfg.campaigns.survey_valid_days,
        Some(d) => d
            .parse::<u32>()
            .map_err(|_| PageError::BadRequest(format!("days: {d:?} is not a number of days")))?,
    };
    let link = surveys::invite(
        &app.store,
        &v.actor(),
        "web",
        &key,
        f.customer.trim(),
        days,
        &app.cfg.campaigns.public_url,
    )
    .await?;
    let mut res = Redirect::to(&format!("/surveys/{}#invite", enc(&key))).into_response();
    let secure = if app.cfg.web.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let c = format!(
        "{LINK_COOKIE}={}|{}; Path=/surveys; HttpOnly; SameSite=Strict; Max-Age=300{secure}",
        link.expires_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        link.link
    );
    let h = HeaderValue::from_str(&c).map_err(|e| PageError::Internal(e.into()))?;
    res.headers_mut().append(header::SET_COOKIE, h);
    Ok(res)
}
