//! The engagement part of `/api/v1` (routes listed in [`crate::api::ROUTES`]):
//! cases and complaints (intake, view with the SLA clock, workflow steps),
//! campaigns (list with the maker-checker state, preview, launch — only an
//! approved campaign launches; approval is on the pages) and the gateway's signed delivery
//! receipts. Scope and audit as everywhere in the API.

use crate::api::require;
use crate::auth::{ApiUser, Permission};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use rapport_engage::case::CaseAction;
use rapport_services::clock::Clock;
use serde::Deserialize;
use serde_json::{json, Value};

/// The bank's clock, built once with the services.
fn clock(app: &AppState) -> Clock {
    app.services.clock.clone()
}

fn unprocessable(e: anyhow::Error) -> ApiError {
    match e.downcast::<rapport_store::StoreError>() {
        Ok(s) => s.into(),
        Err(e) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("{e:#}"),
        ),
    }
}

#[derive(Deserialize)]
pub(super) struct CaseBody {
    customer: String,
    #[serde(default = "complaint")]
    kind: String,
    category: String,
    severity: String,
    subject: String,
    description: String,
    supervisor: Option<String>,
}

fn complaint() -> String {
    "complaint".into()
}

pub(super) async fn case_open(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiJson(body): ApiJson<CaseBody>,
) -> Result<Json<Value>, ApiError> {
    let c = rapport_services::cases::open_case(
        &app.store,
        &clock(&app),
        &v.actor(),
        "api",
        rapport_services::cases::Intake {
            customer_key: body.customer,
            intake: String::new(),
            kind: body.kind,
            category: body.category,
            severity: body.severity,
            subject: body.subject,
            description: body.description,
            supervisor: body.supervisor,
            by: String::new(),
        },
    )
    .await?;
    Ok(Json(json!({ "case": c })))
}

pub(super) async fn case_get(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let view = rapport_services::cases::read_case(
        &app.store,
        &app.audit,
        &app.services.settings.cases,
        &clock(&app),
        &v.actor(),
        "api",
        id,
    )
    .await?;
    Ok(Json(json!(view)))
}

#[derive(Deserialize)]
pub(super) struct StepBody {
    action: String,
    to: Option<String>,
    root_cause: Option<String>,
    resolution: Option<String>,
    reason: Option<String>,
    /// respond: what the customer is told (sent to them); close: a note.
    message: Option<String>,
}

pub(super) async fn case_step(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<StepBody>,
) -> Result<Json<Value>, ApiError> {
    let action = rapport_services::cases::action_of(
        &body.action,
        body.to,
        body.root_cause,
        body.resolution,
        body.reason,
    )?;
    let (store, s, clock, actor) = (
        &app.store,
        &app.services.settings.cases,
        clock(&app),
        v.actor(),
    );
    let cases = |a| rapport_services::cases::step_case(store, s, &clock, &actor, "api", id, a);
    // The same use cases as the pages: a response is sent to the customer,
    // a close of a high or critical complaint asks a manager.
    let note = body.message.unwrap_or_default();
    let step = match action {
        CaseAction::Respond => {
            rapport_services::cases::respond_case(store, s, &clock, &actor, "api", id, &note)
                .await?
        }
        CaseAction::Close => {
            rapport_services::cases::request_closure(store, s, &clock, &actor, "api", id, &note)
                .await?
        }
        action => cases(&action).await?,
    };
    Ok(Json(json!({ "case": id, "step": step })))
}

#[derive(Deserialize)]
pub(super) struct ClosureBody {
    decision: String,
    #[serde(default)]
    note: String,
}

/// The closure of a resolved case: `request` (closes a case that needs no
/// approval, else asks a manager), `approve` or `return` (a manager, not
/// the one who asked; a return needs a note) — the page's use cases.
pub(super) async fn case_closure(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ClosureBody>,
) -> Result<Json<Value>, ApiError> {
    let (store, s, clock, actor) = (
        &app.store,
        &app.services.settings.cases,
        clock(&app),
        v.actor(),
    );
    use rapport_services::cases::{decide_closure, request_closure};
    let step = match body.decision.trim() {
        "request" => request_closure(store, s, &clock, &actor, "api", id, &body.note).await?,
        "approve" => decide_closure(store, s, &clock, &actor, "api", id, true, &body.note).await?,
        "return" | "reject" => {
            decide_closure(store, s, &clock, &actor, "api", id, false, &body.note).await?
        }
        other => {
            return Err(rapport_services::error::ServiceError::invalid(
                "decision",
                format!("{other:?}: request, approve or return"),
            )
            .into())
        }
    };
    Ok(Json(json!({ "case": id, "step": step })))
}

#[derive(Deserialize)]
pub(super) struct ReclassifyBody {
    category: String,
    reason: String,
}

/// Corrects a case's category (who, when and why kept; audited); the
/// correction trains the next classifier.
pub(super) async fn case_reclassify(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReclassifyBody>,
) -> Result<Json<Value>, ApiError> {
    let r = rapport_services::cases::reclassify_case(
        &app.store,
        &clock(&app),
        &v.actor(),
        "api",
        id,
        &body.category,
        &body.reason,
    )
    .await?;
    Ok(Json(json!({ "reclassified": r })))
}

#[derive(Deserialize)]
pub(super) struct ExtendBody {
    reason: String,
}

/// Extends a case's resolution deadline to the SLA policy's next step.
pub(super) async fn case_extend(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ExtendBody>,
) -> Result<Json<Value>, ApiError> {
    let x = rapport_services::cases::extend_case(
        &app.store,
        &app.services.settings.cases,
        &clock(&app),
        &v.actor(),
        "api",
        id,
        &body.reason,
    )
    .await?;
    Ok(Json(json!({ "extended": x })))
}

/// The complaint classifier's held-out measurement (per category, real and
/// seed, English and Chinese) with what it was trained on.
pub(super) async fn classifier_report(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let r = rapport_services::cases::classifier_report(&app.store, &v.actor()).await?;
    Ok(Json(json!(r)))
}

pub(super) async fn campaigns(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let rows = rapport_services::campaign::list_as(&app.store, &v.actor()).await?;
    Ok(Json(
        json!({ "campaigns": rows.iter().map(|l| (&l.campaign, l.state.code)).map(|(c, state)| json!({
        "key": c.key, "name_en": c.name_en, "name_zh": c.name_zh, "purpose": c.purpose,
        "product": c.product_code, "status": c.status, "state": state, "launched_at": c.launched_at,
        "launch_counts": c.launch_counts.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok()),
    })).collect::<Vec<_>>() }),
    ))
}

pub(super) async fn campaign_preview(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    rapport_services::campaign::require_bank_wide(&v.actor())?;
    if app.store.campaign_by_key(&key).await?.is_none() {
        return Err(ApiError::not_found("campaign"));
    }
    let settings = &app.services.settings.campaigns;
    let planned = rapport_services::campaign::plan_by_key(&app.store, settings, &key, &clock(&app))
        .await
        .map_err(unprocessable)?;
    Ok(Json(json!(planned.preview())))
}

pub(super) async fn campaign_launch(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    rapport_services::campaign::require_bank_wide(&v.actor())?;
    if app.store.campaign_by_key(&key).await?.is_none() {
        return Err(ApiError::not_found("campaign"));
    }
    let settings = &app.services.settings.campaigns;
    let clock = clock(&app);
    let planned = rapport_services::campaign::plan_by_key(&app.store, settings, &key, &clock)
        .await
        .map_err(unprocessable)?;
    let r = rapport_services::campaign::launch_as(
        &app.store,
        settings,
        &v.actor(),
        "api",
        &planned,
        &clock,
    )
    .await?;
    Ok(Json(json!(r)))
}

#[derive(Deserialize)]
struct Receipt {
    idempotency_key: String,
    /// delivered | failed | responded
    status: String,
    response: Option<String>,
    detail: Option<String>,
}

/// The gateway's delivery receipts: a JSON body signed like the gateway's
/// own requests (`X-Rapport-Timestamp`, `X-Rapport-Signature`) with the
/// configured secret; unsigned, stale or wrongly signed bodies get 401.
pub(super) async fn gateway_receipt(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let unauthorised = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "signature_invalid",
            "a receipt must be signed with the gateway secret (X-Rapport-Timestamp, X-Rapport-Signature)",
        )
    };
    let Some(gw) = &app.cfg.gateway else {
        return Err(unauthorised());
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let ts = header(rapport_channels::HEADER_TIMESTAMP)
        .and_then(|t| t.trim().parse::<i64>().ok())
        .ok_or_else(unauthorised)?;
    let sig = header(rapport_channels::HEADER_SIGNATURE).ok_or_else(unauthorised)?;
    if !rapport_channels::verify(
        gw.secret.as_bytes(),
        ts,
        &body,
        sig,
        chrono::Utc::now().timestamp(),
        300,
    ) {
        return Err(unauthorised());
    }
    let r: Receipt = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_body", format!("receipt: {e}")))?;
    let m = app
        .store
        .message_by_key(&r.idempotency_key)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    let now = chrono::Utc::now();
    let moved = match r.status.as_str() {
        "delivered" => {
            app.store
                .move_message(
                    m.id,
                    &["sent"],
                    "delivered",
                    m.attempts,
                    None,
                    r.detail.as_deref(),
                    None,
                    now,
                )
                .await?
        }
        "failed" => {
            app.store
                .move_message(
                    m.id,
                    &["sent"],
                    "failed",
                    m.attempts,
                    None,
                    r.detail.as_deref(),
                    None,
                    now,
                )
                .await?
        }
        "responded" => {
            let text = r.response.as_deref().unwrap_or("replied");
            app.store
                .move_message(
                    m.id,
                    &["sent", "delivered", "responded"],
                    "responded",
                    m.attempts,
                    None,
                    Some(text),
                    None,
                    now,
                )
                .await?
        }
        other => {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                format!("status {other:?}: delivered, failed or responded"),
            ))
        }
    };
    Ok(Json(
        json!({ "message": r.idempotency_key, "status": r.status, "applied": moved }),
    ))
}

#[derive(Deserialize)]
pub(super) struct KpiQuery {
    view: Option<String>,
}

pub(super) async fn kpis(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiQuery(q): ApiQuery<KpiQuery>,
) -> Result<Json<Value>, ApiError> {
    require(&v, Permission::ViewKpis)?;
    let view = rapport_services::kpi::parse_view(q.view.as_deref())
        .map_err(|e| ApiError::bad_request("invalid_parameter", e.to_string()))?;
    let d = rapport_services::kpi::report(&app.services, &v.actor(), view, None).await?;
    Ok(Json(json!(d)))
}

#[derive(Deserialize)]
pub(super) struct ConsentBody {
    channel: String,
    purpose: String,
    granted: bool,
    note: Option<String>,
}

pub(super) async fn consent(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<ConsentBody>,
) -> Result<Json<Value>, ApiError> {
    let today = clock(&app).local().date();
    let (_, channel) = rapport_services::consents::record_consent(
        &app.store,
        &v.actor(),
        "api",
        &key,
        &body.channel,
        &body.purpose,
        body.granted,
        today,
        body.note.as_deref(),
    )
    .await?;
    Ok(Json(
        json!({ "customer": key, "channel": channel, "purpose": body.purpose,
        "granted": body.granted, "on": today }),
    ))
}
