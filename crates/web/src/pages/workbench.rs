//! The RM workbench: the top of today's ranked list (`/tasks`), the open
//! alerts of my customers that need a next step (most severe and oldest
//! first; those assigned to me are listed once, under "assigned to me"), my
//! alerts, and my customers in the at-risk band at the latest scoring.

use super::alerts::{shown, ShownAlert};
use super::customers::ShownRow;
use super::{render, require, Layout};
use crate::auth::{PageUser, Permission};
use crate::error::PageError;
use crate::i18n::Text;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use rapport_store::{CustomerFilter, ScopedAlertFilter};

pub const TEXTS: &[Text] = &[
    ("wb.title", "我的工作台", "My workbench"),
    (
        "wb.tasks",
        "待办：需要跟进的预警",
        "Tasks: alerts that need a next step",
    ),
    ("wb.my_alerts", "分派给我的预警", "Alerts assigned to me"),
    ("wb.at_risk", "我的风险客户", "My customers at risk"),
    ("wb.customers", "我的客户", "My customers"),
    ("wb.all_customers", "查看全部", "See all"),
    (
        "wb.today",
        "今日任务（最紧急的五项）",
        "Today's tasks (the five most urgent)",
    ),
    (
        "wb.all_tasks",
        "查看全部今日任务",
        "See all of today's tasks",
    ),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/workbench", get(workbench))
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        _ => 3,
    }
}

#[derive(Template)]
#[template(path = "workbench.html")]
struct WorkbenchPage {
    layout: Layout,
    today: Vec<super::tasks::RowView>,
    today_total: usize,
    tasks: Vec<ShownAlert>,
    mine: Vec<ShownAlert>,
    at_risk: Vec<ShownRow>,
    at_risk_total: i64,
    customers_total: i64,
}

async fn workbench(
    State(app): State<AppState>,
    PageUser(v): PageUser,
) -> Result<Response, PageError> {
    require(&v, Permission::Workbench)?;
    let layout = Layout::new(&app, &v, "/workbench", "/workbench");
    let t = layout.t;
    let scope = v.scope();
    let mut open = Vec::new();
    for status in ["new", "acknowledged", "actioned"] {
        let (rows, _) = app
            .store
            .alerts_in_scope(
                &scope,
                &ScopedAlertFilter {
                    status: Some(status.into()),
                    limit: 100,
                    ..ScopedAlertFilter::default()
                },
            )
            .await?;
        // An alert assigned to me is listed once, under "assigned to me".
        open.extend(
            rows.into_iter()
                .filter(|a| a.assignee_id != Some(v.user.id)),
        );
    }
    open.sort_by(|a, b| {
        (severity_rank(&a.severity), a.raised_on, a.id).cmp(&(
            severity_rank(&b.severity),
            b.raised_on,
            b.id,
        ))
    });
    let (mine, _) = app
        .store
        .alerts_in_scope(
            &scope,
            &ScopedAlertFilter {
                assignee_id: Some(v.user.id),
                limit: 50,
                ..ScopedAlertFilter::default()
            },
        )
        .await?;
    let at_risk = app
        .store
        .search_customers(
            &scope,
            &CustomerFilter {
                band: Some("at_risk".into()),
                per_page: 20,
                ..CustomerFilter::default()
            },
        )
        .await?;
    let all = app
        .store
        .search_customers(
            &scope,
            &CustomerFilter {
                per_page: 1,
                ..CustomerFilter::default()
            },
        )
        .await?;
    let mut at_risk = at_risk;
    for r in at_risk.items.iter_mut() {
        app.services.settings.masking.apply_row(&v, r);
    }
    let day = rapport_services::tasks::day(&app.services, &v.actor()).await?;
    let p = WorkbenchPage {
        today: day
            .iter()
            .take(5)
            .map(|r| super::tasks::row_view(&t, r))
            .collect(),
        today_total: day.len(),
        tasks: open.iter().take(50).map(|a| shown(&t, &v, a)).collect(),
        mine: mine
            .iter()
            .filter(|a| a.status != "closed")
            .map(|a| shown(&t, &v, a))
            .collect(),
        at_risk: at_risk
            .items
            .iter()
            .map(|r| super::customers::shown_row(&t, r))
            .collect(),
        at_risk_total: at_risk.total,
        customers_total: all.total,
        layout,
    };
    render(&p)
}
