//! The RM workbench: my tasks (open alerts of my customers that need a next
//! step, most severe and oldest first), my alerts (assigned to me), and my
//! customers in the at-risk band at the latest scoring.

use super::alerts::{shown, ShownAlert};
use super::customers::ShownRow;
use super::{enc, render, require, Layout};
use crate::auth::{PageUser, Permission};
use crate::error::PageError;
use crate::i18n::Text;
use crate::masking;
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
        open.extend(rows);
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
    let show = v.sees_personal_data_by_default();
    let p = WorkbenchPage {
        tasks: open.iter().take(50).map(|a| shown(&t, &v, a)).collect(),
        mine: mine
            .iter()
            .filter(|a| a.status != "closed")
            .map(|a| shown(&t, &v, a))
            .collect(),
        at_risk: at_risk
            .items
            .iter()
            .map(|r| ShownRow {
                href: format!("/customers/{}", enc(&r.key)),
                key: r.key.clone(),
                name: masking::maybe(r.name.as_deref(), show, masking::name).unwrap_or_default(),
                phone: masking::maybe(r.phone.as_deref(), show, masking::phone).unwrap_or_default(),
                branch: r.branch_code.clone().unwrap_or_default(),
                rm: r.rm_name.clone().unwrap_or_default(),
                score: r.score.map(|s| format!("{s:.1}")).unwrap_or_default(),
                band: r.band.clone().unwrap_or_default(),
                band_label: t.s("band.at_risk").to_string(),
            })
            .collect(),
        at_risk_total: at_risk.total,
        customers_total: all.total,
        layout,
    };
    render(&p)
}
