//! Segments: every saved segment with its name and description in the
//! viewer's language, its kind, definition and size at its latest
//! membership date (bank-wide counts, `Store::segment_overview`), and each
//! segment's member list (`/segments/{code}`) within the viewer's scope,
//! paged by keyset (`customer_id > last`, one range of the primary key
//! `(as_of, segment_id, customer_id)` of `segment_membership`, so the last
//! page of a million members opens as fast as the first), with CSV export.

use super::list::{csv_response, ListQuery};
use super::{enc, render, require, Layout};
use crate::auth::{PageUser, Permission};
use crate::error::PageError;
use crate::i18n::{Lang, Text, Tr};
use crate::present::word;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use rapport_analytics::SegmentConfig;
use serde::Deserialize;

pub const TEXTS: &[Text] = &[
    ("seg.title", "客群", "Segments"),
    ("seg.code", "代码", "Code"),
    ("seg.kind", "类型", "Kind"),
    ("seg.name", "名称", "Name"),
    ("seg.definition", "定义", "Definition"),
    ("seg.size", "客户数", "Customers"),
    ("seg.as_of", "日期", "As of"),
    (
        "seg.none",
        "尚无客群：运行 rapport score。",
        "No segments yet: run rapport score.",
    ),
    ("seg.members", "客群成员", "Members"),
    ("seg.customer", "客户号", "Customer"),
    ("seg.branch", "网点", "Branch"),
    ("seg.rm", "客户经理", "RM"),
    ("seg.score", "健康分", "Health score"),
    ("seg.band", "健康等级", "Band"),
    ("seg.first", "第一页", "First page"),
    ("seg.more", "下一页", "Next page"),
    ("seg.csv", "导出 CSV", "Export CSV"),
    ("seg.back", "返回客群列表", "Back to segments"),
    (
        "seg.scope_note",
        "成员列表只显示您权限范围内的客户；客户数为全行数。",
        "The member list shows the customers within your scope; the size counts the whole bank.",
    ),
    ("seg.no_members", "没有成员。", "No members."),
    ("code.segment_kind.tier", "资产分层", "tier"),
    ("code.segment_kind.rule", "规则", "rule"),
    ("code.segment_kind.cluster", "聚类", "cluster"),
    ("code.segment_kind.holiday", "节日需求", "holiday need"),
    ("code.segment_kind.holiday_need", "节日需求", "holiday need"),
    ("seg.cluster", "聚类客群", "Cluster"),
    (
        "seg.holiday_window",
        "{holiday}{year}：节前 {days} 天起的窗口 {from} 至 {to}；数据截至 {data}",
        "{holiday} {year}: window {from} to {to} ({days} pre-holiday days); data up to {data}",
    ),
    (
        "seg.holiday_def.liquidity",
        "预计节日支出（历年节日窗口内支出、取现与转出的均值，与按客户近期日均支出 × 预测增幅 × 窗口天数估算，取较大者）超过当前活期、储蓄与定期存款余额的客户",
        "expected holiday outflow (the larger of the mean outflow in past holiday windows and the recent daily outflow × the forecast uplift × the window days) above the current, savings and term-deposit balances",
    ),
    (
        "seg.holiday_def.card_limit",
        "持有信用卡且最近账单金额加预计节日刷卡支出超过额度 90% 的客户；无账单数据时为历年节日刷卡最多的 10% 客户",
        "customers whose latest card bill plus the expected holiday card spending exceeds 90% of the limit; without statements, the 10% who spent most in past holiday windows",
    ),
    (
        "seg.holiday_def.travel",
        "历年节日窗口内有出行类消费的客户",
        "customers with travel spending in the holiday window of any past year",
    ),
    (
        "seg.kmeans",
        "K 均值聚类：第 {n} 类（共 {k} 类，按规模排序），特征经标准化；随机种子 {seed}",
        "k-means cluster {n} of {k} (by size) on standardised features; seed {seed}",
    ),
    // The one catalogue of segment names (every page, CSV and the API):
    // the tiers and the whole bank. Rule segments are named by their file
    // (`name`, `name_zh`), clusters by their generated words.
    ("code.segment.all", "全部客户", "All customers"),
    ("code.segment.tier:mass", "大众客户", "Mass"),
    ("code.segment.tier:affluent", "富裕客户", "Affluent"),
    (
        "code.segment.tier:high_net_worth",
        "高净值客户",
        "High net worth",
    ),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/segments", get(segments))
        .route("/segments/{code}", get(members))
}

/// A segment's name and description in `t`'s language: the one source of
/// segment names for every page, CSV and the API's display names.
///
/// The name is the catalogue's `code.segment.<code>` (tiers, the shipped
/// rule segments, the whole bank); otherwise, in Chinese, the generated
/// Chinese name that opens the Chinese line of the stored description
/// (`名称：…`, clusters and rule segments), the segment file's Chinese name
/// of a rule segment, or a cluster by its number; in English the stored
/// name. The stored description holds the English sentence and, on its
/// second line, the Chinese one.
pub fn words(t: &Tr, code: &str, name: &str, description: &str) -> (String, String) {
    let zh = t.lang == Lang::ZhCn;
    let mut lines = description.lines();
    let en_line = lines.next().unwrap_or_default().to_string();
    let zh_line = lines.next().map(str::to_string).filter(|l| !l.is_empty());
    let key = format!("code.segment.{code}");
    if let Some((holiday, year, need)) = holiday_need(code) {
        // A holiday need segment: `holiday:<holiday>:<year>:<need>`.
        let h = word(t, "holiday", holiday);
        let name = match t.lang {
            Lang::ZhCn => format!("{h}{year}：{}", word(t, "holiday_need", need)),
            Lang::En => format!("{h} {year}: {}", word(t, "holiday_need", need)),
        };
        return (
            name,
            holiday_window(t, &h, year, &en_line).unwrap_or(en_line),
        );
    }
    let name = if crate::i18n::has(&key) {
        t.s(&key).to_string()
    } else if !zh && !name.is_empty() {
        name.to_string()
    } else if let Some(n) = zh_line
        .as_deref()
        .and_then(|l| l.split_once('：'))
        .map(|(n, _)| n.trim())
        .filter(|n| !n.is_empty())
    {
        n.to_string()
    } else if let Some(n) = SegmentConfig::default_config()
        .rules
        .iter()
        .find(|r| Some(r.code.as_str()) == code.strip_prefix("rule:") && !r.name_zh.is_empty())
        .map(|r| r.name_zh.clone())
        .filter(|_| zh)
    {
        n
    } else if let Some(n) = code.strip_prefix("cluster:") {
        format!("{} {n}", t.s("seg.cluster"))
    } else {
        name.to_string()
    };
    let description = match (zh, zh_line) {
        (true, Some(z)) => z,
        _ => en_line,
    };
    (name, description)
}

/// `holiday:<holiday>:<year>:<need>` → (holiday, year, need).
fn holiday_need(code: &str) -> Option<(&str, &str, &str)> {
    let mut parts = code.strip_prefix("holiday:")?.split(':');
    let (h, y, n) = (parts.next()?, parts.next()?, parts.next()?);
    parts.next().is_none().then_some((h, y, n))
}

/// A holiday need segment's stored description (`National Day 2026:
/// window A to B (N pre-holiday days); data up to D`) in `t`'s language.
fn holiday_window(t: &Tr, holiday: &str, year: &str, stored: &str) -> Option<String> {
    let rest = stored.split_once(": window ")?.1;
    let (from, rest) = rest.split_once(" to ")?;
    let (to, rest) = rest.split_once(" (")?;
    let (days, rest) = rest.split_once(" pre-holiday days); data up to ")?;
    Some(
        t.s("seg.holiday_window")
            .replace("{holiday}", holiday)
            .replace("{year}", year)
            .replace("{from}", from)
            .replace("{to}", to)
            .replace("{days}", days)
            .replace("{data}", rest.trim()),
    )
}

/// A segment's definition as shown: a rule's or a tier's expression as
/// written; a cluster's (stored as an English sentence, `k-means cluster 2
/// of 5 (by size) on standardised …; seed 42`) in the viewer's language,
/// its features being named in the description; a holiday need segment's
/// in words of the catalogue.
pub fn definition(t: &Tr, code: &str, kind: &str, stored: &str) -> String {
    if let Some((_, _, need)) = holiday_need(code) {
        let key = format!("seg.holiday_def.{need}");
        if crate::i18n::has(&key) {
            return t.s(&key).to_string();
        }
    }
    let parsed = (kind == "cluster")
        .then(|| stored.strip_prefix("k-means cluster "))
        .flatten()
        .and_then(|rest| {
            let (n, rest) = rest.split_once(" of ")?;
            let (k, _) = rest.split_once(' ')?;
            let (_, seed) = rest.rsplit_once("; seed ")?;
            Some((n.trim(), k.trim(), seed.trim()))
        });
    match parsed {
        Some((n, k, seed)) if t.lang == Lang::ZhCn => t
            .s("seg.kmeans")
            .replace("{n}", n)
            .replace("{k}", k)
            .replace("{seed}", seed),
        _ => stored.to_string(),
    }
}

pub struct SegmentView {
    pub code: String,
    pub href: String,
    pub kind: String,
    pub name: String,
    pub definition: String,
    pub description: String,
    pub as_of: String,
    pub size: i64,
}

#[derive(Template)]
#[template(path = "segments.html")]
struct SegmentsPage {
    layout: Layout,
    as_of: String,
    rows: Vec<SegmentView>,
}

async fn segments(
    State(app): State<AppState>,
    PageUser(v): PageUser,
) -> Result<Response, PageError> {
    require(&v, Permission::ViewSegments)?;
    let layout = Layout::new(&app, &v, "/segments", "/segments");
    let t = layout.t;
    let overview = app.store.segment_overview().await?;
    let latest = overview.iter().filter_map(|s| s.as_of).max();
    let rows = overview
        .into_iter()
        .map(|s| {
            let (name, description) = words(&t, &s.code, &s.name, &s.description);
            let definition = definition(&t, &s.code, &s.kind, &s.definition);
            SegmentView {
                href: format!("/segments/{}", enc(&s.code)),
                size: s.members,
                as_of: s.as_of.map(|d| d.to_string()).unwrap_or_default(),
                kind: word(&t, "segment_kind", &s.kind),
                code: s.code,
                name,
                definition,
                description,
            }
        })
        .collect();
    render(&SegmentsPage {
        as_of: latest.map(|d| d.to_string()).unwrap_or_default(),
        rows,
        layout,
    })
}

#[derive(Deserialize, Default)]
struct MembersQuery {
    /// The last customer id of the previous page.
    after: Option<String>,
    #[serde(flatten)]
    list: ListQuery,
}

pub struct MemberView {
    pub key: String,
    pub href: String,
    pub branch: String,
    pub rm: String,
    pub score: String,
    pub band: String,
}

#[derive(Template)]
#[template(path = "segment_members.html")]
struct MembersPage {
    layout: Layout,
    code: String,
    name: String,
    description: String,
    as_of: String,
    size: i64,
    rows: Vec<MemberView>,
    first_href: String,
    next_href: String,
    csv_href: String,
}

/// Members per page.
const PER_PAGE: i64 = 100;
/// Members read per query of the CSV export.
const CSV_BATCH: i64 = 10_000;

async fn members(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(code): Path<String>,
    Query(q): Query<MembersQuery>,
) -> Result<Response, PageError> {
    require(&v, Permission::ViewSegments)?;
    let seg = app
        .store
        .segment_overview()
        .await?
        .into_iter()
        .find(|s| s.code == code)
        .ok_or(PageError::NotFound)?;
    let here = format!("/segments/{}", enc(&code));
    let layout = Layout::new(&app, &v, "/segments", &here);
    let t = layout.t;
    let scope = v.scope();
    let after = q
        .after
        .as_deref()
        .and_then(|a| a.trim().parse::<i64>().ok())
        .unwrap_or(0);
    let show = |m: rapport_store::SegmentMemberRow| MemberView {
        href: format!("/customers/{}", enc(&m.key)),
        key: m.key,
        branch: m.branch_code.unwrap_or_default(),
        rm: m.rm_name.unwrap_or_default(),
        score: m.score.map(|s| format!("{s:.0}")).unwrap_or_default(),
        band: m
            .band
            .map(|b| t.s(&format!("band.{b}")).to_string())
            .unwrap_or_default(),
    };
    if q.list.wants_csv() {
        let mut rows = Vec::new();
        if let Some(as_of) = seg.as_of {
            let mut last = 0;
            loop {
                let batch = app
                    .store
                    .segment_members_after(&scope, seg.id, as_of, last, CSV_BATCH)
                    .await?;
                let n = batch.len() as i64;
                if let Some(m) = batch.last() {
                    last = m.id;
                }
                rows.extend(batch.into_iter().map(|m| {
                    let m = show(m);
                    vec![m.key, m.branch, m.rm, m.score, m.band]
                }));
                if n < CSV_BATCH {
                    break;
                }
            }
        }
        let head: Vec<String> = [
            "seg.customer",
            "seg.branch",
            "seg.rm",
            "seg.score",
            "seg.band",
        ]
        .iter()
        .map(|k| t.s(k).to_string())
        .collect();
        let safe: String = code
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        return Ok(csv_response(&format!("segment-{safe}.csv"), &head, &rows));
    }
    let page = match seg.as_of {
        Some(as_of) => {
            app.store
                .segment_members_after(&scope, seg.id, as_of, after, PER_PAGE)
                .await?
        }
        None => Vec::new(),
    };
    let full = page.len() as i64 == PER_PAGE;
    let last = page.last().map(|m| m.id);
    let (name, description) = words(&t, &seg.code, &seg.name, &seg.description);
    render(&MembersPage {
        next_href: match (full, last) {
            (true, Some(l)) => format!("{here}?after={l}"),
            _ => String::new(),
        },
        first_href: if after > 0 {
            here.clone()
        } else {
            String::new()
        },
        csv_href: format!("{here}?format=csv"),
        rows: page.into_iter().map(show).collect(),
        as_of: seg.as_of.map(|d| d.to_string()).unwrap_or_default(),
        size: seg.members,
        code: seg.code,
        name,
        description,
        layout,
    })
}
