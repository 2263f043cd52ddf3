//! The audit log, for auditors: who read or changed what, when and from
//! where, filtered by actor, action, customer and date, newest first.

use super::{enc, opt, render, require, Layout};
use crate::auth::{PageUser, Permission};
use crate::error::PageError;
use crate::i18n::Text;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{NaiveDate, TimeZone, Utc};
use rapport_store::{AuditFilter, AuditRow};
use serde::Deserialize;

pub const TEXTS: &[Text] = &[
    ("audit.title", "审计日志", "Audit log"),
    ("audit.at", "时间", "Time"),
    ("audit.actor", "操作人", "Actor"),
    ("audit.role", "角色", "Role"),
    ("audit.action", "操作", "Action"),
    ("audit.entity", "对象", "Entity"),
    ("audit.customer", "客户编号", "Customer id"),
    ("audit.client", "来源地址", "Client"),
    ("audit.detail", "详情", "Detail"),
    ("audit.from", "起始日期", "From"),
    ("audit.to", "截止日期", "To"),
    ("audit.entries", "条记录", "entries"),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(audit))
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    customer: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "audit_log.html")]
struct AuditPage {
    layout: Layout,
    actor: String,
    action: String,
    customer: String,
    from: String,
    to: String,
    rows: Vec<AuditRow>,
    total: i64,
    page: i64,
    prev_href: String,
    next_href: String,
}

const PER_PAGE: i64 = 100;

async fn audit(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    require(&v, Permission::ViewAudit)?;
    let day = |s: &Option<String>,
               name: &str|
     -> Result<Option<chrono::DateTime<Utc>>, PageError> {
        match opt(s) {
            None => Ok(None),
            Some(d) => NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map(|d| Some(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())))
                .map_err(|_| PageError::BadRequest(format!("{name} must be a date YYYY-MM-DD"))),
        }
    };
    let customer = match opt(&q.customer) {
        Some(c) => Some(
            c.trim_start_matches('#')
                .parse::<i64>()
                .map_err(|_| PageError::BadRequest("customer must be a customer id".into()))?,
        ),
        None => None,
    };
    let page = q.page.unwrap_or(1).max(1);
    let f = AuditFilter {
        actor: opt(&q.actor),
        action: opt(&q.action),
        customer_id: customer,
        since: day(&q.from, "from")?,
        until: day(&q.to, "to")?.map(|d| d + chrono::Duration::days(1)),
        limit: PER_PAGE,
        offset: (page - 1) * PER_PAGE,
    };
    let (rows, total) = app.store.audit_log(&f).await?;
    let qs = |p: i64| {
        let mut s = format!("/audit?page={p}");
        for (k, val) in [
            ("actor", &q.actor),
            ("action", &q.action),
            ("customer", &q.customer),
            ("from", &q.from),
            ("to", &q.to),
        ] {
            if let Some(val) = opt(val) {
                s.push_str(&format!("&{k}={}", enc(&val)));
            }
        }
        s
    };
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let layout = Layout::new(&app, &v, "/audit", &qs(page));
    render(&AuditPage {
        actor: opt(&q.actor).unwrap_or_default(),
        action: opt(&q.action).unwrap_or_default(),
        customer: opt(&q.customer).unwrap_or_default(),
        from: opt(&q.from).unwrap_or_default(),
        to: opt(&q.to).unwrap_or_default(),
        rows,
        total,
        page,
        prev_href: if page > 1 {
            qs(page - 1)
        } else {
            String::new()
        },
        next_href: if page < pages {
            qs(page + 1)
        } else {
            String::new()
        },
        layout,
    })
}
