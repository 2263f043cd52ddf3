//! The REST API under `/api/v1`: the same data as the pages, as JSON, with
//! pagination, filters and stable snake_case error codes. The router is
//! built from one table ([`ROUTES`]) and the OpenAPI document
//! (`/api/v1/openapi.json`) is generated from the same table, so a route
//! cannot exist undocumented.
//!
//! Auth: `Authorization: Bearer <token>`, or a browser session (writes then
//! need the `X-CSRF-Token` header). Scope, masking and audit are the pages'.

use crate::audit::entry;
use crate::auth::{ApiUser, Permission, Viewer};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use rapport_services::customers::{self, Reading};
use rapport_store::{AlertStatus, CustomerFilter, ScopedAlertFilter};
use serde::Deserialize;
use serde_json::{json, Value};

/// A query parameter of a route, for the OpenAPI document.
#[derive(Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub kind: &'static str,
    pub description: &'static str,
}

/// One API route: what the router serves and the document describes.
pub struct ApiRoute {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// The right the caller's role needs (None: any signed-in caller; the
    /// OpenAPI route itself is public).
    pub permission: Option<Permission>,
    pub query: &'static [Param],
    /// A JSON body is read (described in the summary).
    pub body: bool,
    pub public: bool,
    pub handler: fn() -> MethodRouter<AppState>,
}

const KPI_QUERY: [Param; 1] = [Param {
    name: "view",
    kind: "string",
    description: "segment, branch or rm: one row per group",
}];
const PAGING: [Param; 2] = [
    Param {
        name: "page",
        kind: "integer",
        description: "1-based page number",
    },
    Param {
        name: "per_page",
        kind: "integer",
        description: "items per page, 1–200 (default 50)",
    },
];
const CUSTOMER_QUERY: [Param; 7] = [
    Param {
        name: "q",
        kind: "string",
        description: "customer key, #id, or a name, phone, ID number or e-mail: in part for the fields the caller's role sees, otherwise the whole value only (identifier searches are audited and limited per hour)",
    },
    Param {
        name: "segment",
        kind: "string",
        description: "segment code",
    },
    Param {
        name: "band",
        kind: "string",
        description: "healthy | watch | at_risk",
    },
    Param {
        name: "rm",
        kind: "integer",
        description: "RM staff id",
    },
    Param {
        name: "branch",
        kind: "integer",
        description: "branch id",
    },
    PAGING[0],
    PAGING[1],
];
const UNMASK: [Param; 2] = [
    Param {
        name: "unmask",
        kind: "boolean",
        description: "show personal data in full (roles with the unmask right; audited)",
    },
    Param {
        name: "reason",
        kind: "string",
        description:
            "why personal data is unmasked (required with unmask=true; kept in the audit entry)",
    },
];
const ALERT_QUERY: [Param; 5] = [
    Param {
        name: "status",
        kind: "string",
        description: "new | acknowledged | actioned | closed",
    },
    Param {
        name: "severity",
        kind: "string",
        description: "low | medium | high | critical",
    },
    Param {
        name: "mine",
        kind: "boolean",
        description: "only alerts assigned to the caller",
    },
    PAGING[0],
    PAGING[1],
];

/// Every API route.
pub const ROUTES: &[ApiRoute] = &[
    ApiRoute { method: "get", path: "/api/v1/openapi.json", summary: "This OpenAPI document", permission: None, query: &[], body: false, public: true, handler: || get(openapi) },
    ApiRoute { method: "get", path: "/api/v1/me", summary: "The caller: user, role, branch, scope and rights", permission: None, query: &[], body: false, public: false, handler: || get(me) },
    ApiRoute { method: "get", path: "/api/v1/customers", summary: "Customers in the caller's scope, filtered and paginated (masked by role)", permission: Some(Permission::ViewCustomers), query: &CUSTOMER_QUERY, body: false, public: false, handler: || get(customers) },
    ApiRoute { method: "get", path: "/api/v1/customers/{key}", summary: "The customer 360 (audited read)", permission: Some(Permission::ViewCustomers), query: &UNMASK, body: false, public: false, handler: || get(customer) },
    ApiRoute { method: "get", path: "/api/v1/customers/{key}/health", summary: "The customer's health history with factors", permission: Some(Permission::ViewCustomers), query: &[], body: false, public: false, handler: || get(customer_health) },
    ApiRoute { method: "post", path: "/api/v1/customers/{key}/risk-assessments", summary: "Record the customer's risk-tolerance questionnaire (C1-C5, dated today; the suitability rule reads the latest); body {\"answers\": \"d,c,b,c,d,c,c,c,c,c\" or [\"d\", …] or {\"age\": \"d\", …}} with the ten questions of GET …/risk-assessments; 400 names the question", permission: Some(Permission::AssessRisk), query: &[], body: true, public: false, handler: || post(crate::api_risk::assess) },
    ApiRoute { method: "get", path: "/api/v1/customers/{key}/risk-assessments", summary: "The customer's risk-tolerance assessments, newest first (the current one marked, with validity), and the questionnaire (audited read)", permission: Some(Permission::ViewCustomers), query: &[], body: false, public: false, handler: || get(crate::api_risk::history) },
    ApiRoute { method: "get", path: "/api/v1/customers/{key}/export", summary: "Everything held about the customer (data-subject access; audited)", permission: Some(Permission::ExportCustomer), query: &[], body: false, public: false, handler: || get(customer_export) },
    ApiRoute { method: "post", path: "/api/v1/customers/{key}/erase", summary: "Request the erasure (anonymisation) of the customer's personal data with a reason (JSON {\"reason\"}, 8+ characters); a second administrator approves it on /admin before anything is erased (audited)", permission: Some(Permission::EraseCustomer), query: &[], body: true, public: false, handler: || post(customer_erase) },
    ApiRoute { method: "get", path: "/api/v1/alerts", summary: "Alerts of customers in the caller's scope, newest first", permission: Some(Permission::WorkAlerts), query: &ALERT_QUERY, body: false, public: false, handler: || get(alerts) },
    ApiRoute { method: "get", path: "/api/v1/alerts/{id}", summary: "One alert with its evidence and history", permission: Some(Permission::WorkAlerts), query: &[], body: false, public: false, handler: || get(alert) },
    ApiRoute { method: "post", path: "/api/v1/alerts/{id}/ack", summary: "Acknowledge an alert; body {\"note\"?}", permission: Some(Permission::WorkAlerts), query: &[], body: true, public: false, handler: || post(alert_ack) },
    ApiRoute { method: "post", path: "/api/v1/alerts/{id}/action", summary: "Record the action taken; body {\"note\"}", permission: Some(Permission::WorkAlerts), query: &[], body: true, public: false, handler: || post(alert_action) },
    ApiRoute { method: "post", path: "/api/v1/alerts/{id}/close", summary: "Close with a disposition; body {\"disposition\", \"note\"?}", permission: Some(Permission::WorkAlerts), query: &[], body: true, public: false, handler: || post(alert_close) },
    ApiRoute { method: "get", path: "/api/v1/segments", summary: "Segments with their sizes at the latest membership date", permission: Some(Permission::ViewSegments), query: &[], body: false, public: false, handler: || get(segments) },
    ApiRoute { method: "get", path: "/api/v1/dashboard", summary: "Dashboard figures of the caller's scope (bands, histogram, migration, alerts) and its KPI tiles: the same `tiles` as GET /api/v1/kpis (empty without the right to view KPIs)", permission: None, query: &[], body: false, public: false, handler: || get(dashboard) },
    ApiRoute { method: "get", path: "/api/v1/customers/{key}/recommendations", summary: "The customer's next best actions (ranked, with reasons in zh and en), active model scores with reasons, and the latest suitability decisions", permission: Some(Permission::ViewCustomers), query: &[], body: false, public: false, handler: || get(customer_recommendations) },
    ApiRoute { method: "post", path: "/api/v1/recommendations/{id}/outcome", summary: "Record what became of a recommendation; body {\"outcome\": offered|accepted|declined, \"channel\"?, \"note\"?}; offering and accepting re-check suitability (422 when blocked)", permission: Some(Permission::RecordOutcomes), query: &[], body: true, public: false, handler: || post(recommendation_outcome) },
    ApiRoute { method: "post", path: "/api/v1/customers/{key}/consents", summary: "Record a consent the customer gives or refuses; body {\"channel\": phone|online|mobile|wechat, \"purpose\": service|marketing, \"granted\": bool, \"note\"?}; takes effect today; the latest record per channel and purpose decides", permission: Some(Permission::RecordConsent), query: &[], body: true, public: false, handler: || post(crate::api_engage::consent) },
    ApiRoute { method: "post", path: "/api/v1/cases", summary: "Open a case; body {\"customer\", \"kind\"?: complaint|request|inquiry, \"category\", \"severity\": low|medium|high|critical, \"subject\", \"description\", \"supervisor\"?}; 422 names the field", permission: Some(Permission::WorkCases), query: &[], body: true, public: false, handler: || post(crate::api_engage::case_open) },
    ApiRoute { method: "get", path: "/api/v1/cases/{id}", summary: "A case with its SLA status (first response, resolution), escalations and history", permission: Some(Permission::WorkCases), query: &[], body: false, public: false, handler: || get(crate::api_engage::case_get) },
    ApiRoute { method: "post", path: "/api/v1/cases/{id}/actions", summary: "One workflow step; body {\"action\": assign|start|respond|wait|replied|resolve|close|reopen|escalate, \"to\"?, \"root_cause\"?, \"resolution\"?, \"reason\"?, \"message\"?}; respond needs the message, which is sent to the customer (step.response, or step.response_not_sent with why); close of a high or critical complaint asks a manager; a refused step is 422 in zh and en", permission: Some(Permission::WorkCases), query: &[], body: true, public: false, handler: || post(crate::api_engage::case_step) },
    ApiRoute { method: "post", path: "/api/v1/cases/{id}/closure", summary: "The closure of a resolved case; body {\"decision\": request|approve|return, \"note\"?}; request closes a case needing no approval, else asks a manager; approve and return need the right to approve case closures and are refused (422) to the one who asked; return needs a note", permission: Some(Permission::WorkCases), query: &[], body: true, public: false, handler: || post(crate::api_engage::case_closure) },
    ApiRoute { method: "post", path: "/api/v1/cases/{id}/reclassify", summary: "Correct a case's category; body {\"category\", \"reason\"}; kept with who and when, audited, and trains the next classifier", permission: Some(Permission::WorkCases), query: &[], body: true, public: false, handler: || post(crate::api_engage::case_reclassify) },
    ApiRoute { method: "post", path: "/api/v1/cases/{id}/extend", summary: "Extend a case's resolution deadline to the SLA policy's next step; body {\"reason\"}; the regulator's second extension needs a manager; 422 when the policy allows none", permission: Some(Permission::WorkCases), query: &[], body: true, public: false, handler: || post(crate::api_engage::case_extend) },
    ApiRoute { method: "get", path: "/api/v1/complaint-classifier", summary: "The complaint classifier measured per category on held-out real narratives and the Chinese and English seed sets, with its training counts (stored corrections included)", permission: Some(Permission::WorkCases), query: &[], body: false, public: false, handler: || get(crate::api_engage::classifier_report) },
    ApiRoute { method: "get", path: "/api/v1/campaigns", summary: "Campaigns with their status and launch counts (bank-wide managers)", permission: Some(Permission::RunCampaigns), query: &[], body: false, public: false, handler: || get(crate::api_engage::campaigns) },
    ApiRoute { method: "get", path: "/api/v1/campaigns/{key}/preview", summary: "The counts a launch would queue now: eligible, control, blocked by suitability, address, consent, do-not-disturb, quiet hours, cap", permission: Some(Permission::RunCampaigns), query: &[], body: false, public: false, handler: || get(crate::api_engage::campaign_preview) },
    ApiRoute { method: "post", path: "/api/v1/campaigns/{key}/launch", summary: "Launch a draft campaign: members, outbox messages, survey links, decisions (once; 409 after)", permission: Some(Permission::RunCampaigns), query: &[], body: false, public: false, handler: || post(crate::api_engage::campaign_launch) },
    ApiRoute { method: "get", path: "/api/v1/kpis", summary: "The KPIs of the caller's scope over the configured window: value, target, met or not, numerator and denominator, monthly trend; with ?view=segment|branch|rm one row per group", permission: Some(Permission::ViewKpis), query: &KPI_QUERY, body: false, public: false, handler: || get(crate::api_engage::kpis) },
    ApiRoute { method: "post", path: "/api/v1/gateway/receipts", summary: "Delivery receipts from the SMS/push/WeChat gateway; body {\"idempotency_key\", \"status\": delivered|failed|responded, \"response\"?, \"detail\"?} signed with the gateway secret (X-Rapport-Timestamp, X-Rapport-Signature), else 401", permission: None, query: &[], body: true, public: true, handler: || post(crate::api_engage::gateway_receipt) },
    ApiRoute { method: "post", path: "/api/v1/transactions", summary: "Feed transactions to the live early-warning path: NDJSON, one transaction per line in the `rapport stream` format; each transaction is stored once per (source, source_key), a repeat counted as a duplicate the rules never see; answers lines, accepted, duplicates, rejected lines with field and reason (a line that is not UTF-8 included), and the alerts raised", permission: Some(Permission::FeedTransactions), query: &[], body: true, public: false, handler: || post(transactions) },
];

/// The API router, built from [`ROUTES`].
pub fn routes() -> Router<AppState> {
    let mut r = Router::new();
    for route in ROUTES {
        r = r.route(route.path, (route.handler)());
    }
    r
}

pub(super) fn require(v: &Viewer, p: Permission) -> Result<(), ApiError> {
    if v.can(p) {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// The OpenAPI 3.1 document of [`ROUTES`].
pub fn openapi_document() -> Value {
    let mut paths = serde_json::Map::new();
    for r in ROUTES {
        let mut params: Vec<Value> = Vec::new();
        let mut rest = r.path;
        while let Some(start) = rest.find('{') {
            let Some(end) = rest[start..].find('}') else {
                break;
            };
            let name = &rest[start + 1..start + end];
            params.push(json!({ "name": name, "in": "path", "required": true,
                "schema": { "type": if name == "id" { "integer" } else { "string" } } }));
            rest = &rest[start + end + 1..];
        }
        for q in r.query {
            params.push(json!({ "name": q.name, "in": "query", "required": false,
                "description": q.description, "schema": { "type": q.kind } }));
        }
        let mut responses = serde_json::Map::new();
        responses.insert(
            "200".into(),
            json!({ "description": "OK", "content": { "application/json": {} } }),
        );
        if !r.public {
            responses.insert(
                "401".into(),
                json!({ "$ref": "#/components/responses/Error" }),
            );
            responses.insert(
                "403".into(),
                json!({ "$ref": "#/components/responses/Error" }),
            );
        }
        if r.path.contains('{') {
            responses.insert(
                "404".into(),
                json!({ "$ref": "#/components/responses/Error" }),
            );
        }
        if !r.query.is_empty() || r.body {
            responses.insert(
                "400".into(),
                json!({ "$ref": "#/components/responses/Error" }),
            );
        }
        if r.path.starts_with("/api/v1/alerts/{id}/") {
            responses.insert(
                "422".into(),
                json!({ "$ref": "#/components/responses/Error" }),
            );
        }
        let mut op = json!({
            "summary": r.summary,
            "operationId": format!("{}_{}", r.method, r.path.trim_start_matches("/api/v1/").replace(['/', '{', '}', '.'], "_")),
            "parameters": params,
            "responses": responses,
        });
        if let Some(p) = r.permission {
            op["x-permission"] = json!(format!("{p:?}"));
        }
        if r.public {
            op["security"] = json!([]);
        }
        if r.body {
            let content = if r.path.ends_with("/transactions") {
                "application/x-ndjson"
            } else {
                "application/json"
            };
            op["requestBody"] = json!({ "required": r.path.ends_with("/transactions"), "content": { content: {} } });
        }
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        entry[r.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Rapport API", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Customer health, early warning and the customer 360. Errors are {\"error\": {\"code\", \"message\"}} with stable snake_case codes: invalid_parameter, unauthenticated, forbidden, csrf_token_invalid, not_found, conflict, invalid_transition, internal_error." },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "responses": { "Error": { "description": "An error", "content": { "application/json": { "schema": {
                "type": "object", "properties": { "error": { "type": "object", "properties": {
                    "code": { "type": "string" }, "message": { "type": "string" } } } } } } } } }
        },
        "paths": paths,
    })
}

async fn openapi() -> Json<Value> {
    Json(openapi_document())
}

async fn me(ApiUser(v): ApiUser) -> Json<Value> {
    let scope = match v.scope() {
        rapport_store::Scope::All => json!({ "kind": "all" }),
        rapport_store::Scope::Branch(b) => json!({ "kind": "branch", "branch_id": b }),
        rapport_store::Scope::Rm(s) => json!({ "kind": "rm", "staff_user_id": s }),
        rapport_store::Scope::Nothing => json!({ "kind": "nothing" }),
    };
    let rights: Vec<String> = crate::pages::admin::PERMISSIONS
        .iter()
        .filter(|(p, _)| v.can(*p))
        .map(|(p, _)| format!("{p:?}"))
        .collect();
    Json(json!({
        "id": v.user.id, "username": v.user.username, "display_name": v.user.display_name,
        "role": v.role.as_str(), "branch": v.user.branch_code, "language": v.user.language,
        "scope": scope, "permissions": rights,
    }))
}

/// Parses a page number and size.
fn paging(page: Option<&str>, per_page: Option<&str>) -> Result<(i64, i64), ApiError> {
    let num = |v: Option<&str>, name: &'static str, lo: i64, hi: i64, default: i64| match v {
        None | Some("") => Ok(default),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (lo..=hi).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(
                "invalid_parameter",
                format!("{name} must be a whole number from {lo} to {hi}"),
            )),
        },
    };
    Ok((
        num(page, "page", 1, i64::MAX / 1000, 1)?,
        num(per_page, "per_page", 1, 200, 50)?,
    ))
}

#[derive(Deserialize, Default)]
struct CustomerQuery {
    q: Option<String>,
    segment: Option<String>,
    band: Option<String>,
    rm: Option<String>,
    branch: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

fn list_row(r: &rapport_store::CustomerListRow) -> Value {
    json!({
        "id": r.id, "key": r.key,
        "name": r.name, "phone": r.phone, "id_number": r.id_number,
        "branch": r.branch_code, "rm_id": r.rm_id, "rm_name": r.rm_name,
        "score": r.score, "band": r.band, "erased": r.erased,
    })
}

async fn customers(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiQuery(q): ApiQuery<CustomerQuery>,
) -> Result<Json<Value>, ApiError> {
    let (page, per_page) = paging(q.page.as_deref(), q.per_page.as_deref())?;
    let lq = crate::pages::customers::ListQuery {
        q: q.q,
        segment: q.segment,
        band: q.band,
        rm: q.rm,
        branch: q.branch,
        page: Some(page),
    };
    let f: CustomerFilter = crate::pages::customers::filter_of(&lq, per_page)
        .map_err(|m| ApiError::bad_request("invalid_parameter", m))?;
    let p = customers::search(&app.services, &v, "api", f).await?;
    Ok(Json(json!({
        "items": p.items.iter().map(list_row).collect::<Vec<_>>(),
        "total": p.total, "page": p.page, "per_page": p.per_page,
    })))
}

#[derive(Deserialize, Default)]
struct UnmaskQuery {
    unmask: Option<String>,
    /// Why personal data is unmasked (required with `unmask=true`; audited).
    reason: Option<String>,
}

async fn customer(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(key): ApiPath<String>,
    ApiQuery(q): ApiQuery<UnmaskQuery>,
) -> Result<Response, ApiError> {
    let unmask = match q.unmask.as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                "unmask must be true or false",
            ))
        }
    };
    let reading = if unmask {
        Reading::Unmask {
            reason: q.reason.unwrap_or_default(),
        }
    } else {
        Reading::View
    };
    let read = customers::read_360(&app.services, &v, "api", &key, reading).await?;
    let mut customer =
        serde_json::to_value(&read.customer).map_err(|e| ApiError::internal(e.into()))?;
    if let Some(p) = customer.get_mut("profile").and_then(Value::as_object_mut) {
        p.insert("birth_date".into(), json!(read.birth_date));
    }
    if let Some(c) = customer.as_object_mut() {
        c.insert("derived".into(), json!(read.derived));
        c.insert("risk_assessments".into(), json!(read.risk_assessments));
    }
    let masked: Vec<&str> = read.masked.iter().map(|f| f.as_str()).collect();
    let body = serde_json::to_vec(&json!({
        "masked": !masked.is_empty(),
        "masked_fields": masked,
        "customer": customer,
    }))
    .map_err(|e| ApiError::internal(e.into()))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn customer_health(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    require(&v, Permission::ViewCustomers)?;
    let scope = v.scope();
    let id = app.store.customer_id_by_key(&scope, &key).await?;
    let c = app.store.customer_360(&scope, id).await?;
    app.audit
        .record(entry(
            &v,
            "customer.view_health",
            "customer",
            Some(c.profile.key.clone()),
            Some(id),
            json!({ "via": "api" }),
        ))
        .await;
    Ok(Json(
        json!({ "key": c.profile.key, "health_history": c.health_history }),
    ))
}

fn recommendation_json(r: &rapport_store::RecommendationRow) -> Value {
    json!({
        "id": r.id, "rank": r.rank, "action": r.action, "product": r.product_code,
        "priority": r.priority, "status": r.status, "status_at": r.status_at,
        "as_of": r.as_of, "generated_at": r.generated_at,
        "detail": serde_json::from_str::<Value>(&r.detail).unwrap_or(Value::Null),
    })
}

async fn customer_recommendations(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    require(&v, Permission::ViewCustomers)?;
    let id = app.store.customer_id_by_key(&v.scope(), &key).await?;
    let recs = app.store.customer_recommendations(id, 20).await?;
    let scores = app.store.customer_model_scores(id).await?;
    let decisions = app.store.suitability_log(id, 20).await?;
    app.audit
        .record(entry(
            &v,
            "customer.view_recommendations",
            "customer",
            Some(key.clone()),
            Some(id),
            json!({ "via": "api" }),
        ))
        .await;
    Ok(Json(json!({
        "key": key,
        "actions": recs.iter().map(recommendation_json).collect::<Vec<_>>(),
        "model_scores": scores.iter().map(|s| json!({
            "kind": s.kind, "version": s.version, "algorithm": s.algorithm, "as_of": s.as_of,
            "probability": s.probability, "points": s.points,
            "reasons": serde_json::from_str::<Value>(&s.reasons).unwrap_or(Value::Null),
        })).collect::<Vec<_>>(),
        "suitability": decisions,
    })))
}

#[derive(Deserialize)]
struct OutcomeBody {
    outcome: String,
    channel: Option<String>,
    note: Option<String>,
}

async fn recommendation_outcome(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<OutcomeBody>,
) -> Result<Json<Value>, ApiError> {
    let updated = rapport_services::recommendations::record_outcome_as(
        &app.store,
        &app.services.settings.matching,
        &v.actor(),
        "api",
        id,
        &body.outcome,
        body.channel.as_deref(),
        body.note.as_deref(),
    )
    .await?;
    Ok(Json(recommendation_json(&updated)))
}

async fn customer_export(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let e = customers::export(&app.store, &v.actor(), "api", &key).await?;
    Ok(Json(
        json!({ "exported_at": e.exported_at, "exported_by": e.exported_by, "customer_key": e.customer_key, "data": e.data }),
    ))
}

#[derive(Deserialize)]
struct EraseBody {
    reason: String,
}

/// Files an erasure request (the erasure itself waits for a second
/// administrator's approval, `privacy::approve_erasure`).
async fn customer_erase(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<EraseBody>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let id = rapport_services::privacy::request_erasure(
        &app.store,
        &v.actor(),
        "api",
        &key,
        &body.reason,
    )
    .await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(json!({ "erasure_request": id, "state": "pending", "customer_key": key })),
    ))
}

#[derive(Deserialize, Default)]
struct AlertQuery {
    status: Option<String>,
    severity: Option<String>,
    mine: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

async fn alerts(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> Result<Json<Value>, ApiError> {
    require(&v, Permission::WorkAlerts)?;
    let (page, per_page) = paging(q.page.as_deref(), q.per_page.as_deref())?;
    let status = q.status.filter(|s| !s.is_empty());
    if let Some(s) = &status {
        if AlertStatus::parse(s).is_none() {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                "status must be new, acknowledged, actioned or closed",
            ));
        }
    }
    let severity = q.severity.filter(|s| !s.is_empty());
    if let Some(s) = &severity {
        if !matches!(s.as_str(), "low" | "medium" | "high" | "critical") {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                "severity must be low, medium, high or critical",
            ));
        }
    }
    let f = ScopedAlertFilter {
        status,
        severity,
        assignee_id: matches!(q.mine.as_deref(), Some("true") | Some("1")).then_some(v.user.id),
        customer_id: None,
        limit: per_page,
        offset: (page - 1) * per_page,
    };
    let (rows, total) = app.store.alerts_in_scope(&v.scope(), &f).await?;
    Ok(Json(
        json!({ "items": rows.iter().map(alert_json).collect::<Vec<_>>(), "total": total, "page": page, "per_page": per_page }),
    ))
}

fn alert_json(a: &rapport_store::AlertRow) -> Value {
    json!({
        "id": a.id, "customer_id": a.customer_id, "customer_key": format!("#{}", a.customer_id),
        "rule": a.rule, "severity": a.severity, "raised_on": a.raised_on, "origin": a.origin,
        "message": a.message, "status": a.status, "disposition": a.disposition,
        "assignee_id": a.assignee_id, "queue": a.queue,
        "evidence": serde_json::from_str::<Value>(&a.evidence).unwrap_or(Value::Null),
    })
}

async fn alert(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    require(&v, Permission::WorkAlerts)?;
    let a = app.store.alert_in_scope(&v.scope(), id).await?;
    let events = app.store.alert_events(id).await?;
    app.audit
        .record(entry(
            &v,
            "alert.view",
            "alert",
            Some(id.to_string()),
            Some(a.customer_id),
            json!({ "via": "api" }),
        ))
        .await;
    let mut j = alert_json(&a);
    j["history"] = json!(events);
    Ok(Json(j))
}

#[derive(Deserialize, Default)]
struct StepBody {
    note: Option<String>,
    disposition: Option<String>,
}

async fn step(
    app: AppState,
    v: Viewer,
    id: i64,
    to: AlertStatus,
    body: Option<ApiJson<StepBody>>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map(|ApiJson(b)| b).unwrap_or_default();
    let updated = rapport_services::alerts::transition(
        &app.store,
        &app.services.clock,
        &v.actor(),
        id,
        to,
        body.note.as_deref(),
        body.disposition.as_deref(),
        "api",
    )
    .await?;
    Ok(Json(alert_json(&updated)))
}

async fn alert_ack(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(id): ApiPath<i64>,
    body: Option<ApiJson<StepBody>>,
) -> Result<Json<Value>, ApiError> {
    step(app, v, id, AlertStatus::Acknowledged, body).await
}

async fn alert_action(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(id): ApiPath<i64>,
    body: Option<ApiJson<StepBody>>,
) -> Result<Json<Value>, ApiError> {
    step(app, v, id, AlertStatus::Actioned, body).await
}

async fn alert_close(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(id): ApiPath<i64>,
    body: Option<ApiJson<StepBody>>,
) -> Result<Json<Value>, ApiError> {
    step(app, v, id, AlertStatus::Closed, body).await
}

async fn segments(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
) -> Result<Json<Value>, ApiError> {
    require(&v, Permission::ViewSegments)?;
    let latest = app
        .store
        .latest_membership_as_of(chrono::NaiveDate::MAX)
        .await?;
    let sizes = match latest {
        Some(d) => app.store.segment_sizes(d).await?,
        None => Vec::new(),
    };
    let items: Vec<Value> = app
        .store
        .segments()
        .await?
        .into_iter()
        .map(|s| {
            let size = sizes.iter().find(|x| x.0 == s.code).map(|x| x.3).unwrap_or(0);
            let display = segment_display(&s.code, &s.name, &s.description);
            json!({ "code": s.code, "kind": s.kind, "name": s.name, "definition": s.definition, "description": s.description, "display": display, "size": size })
        })
        .collect();
    Ok(Json(json!({ "as_of": latest, "items": items })))
}

/// A segment's display name and description in both languages, from the
/// pages' one source of segment names (`pages::segments::words`).
fn segment_display(code: &str, name: &str, description: &str) -> Value {
    use crate::i18n::{Lang, Tr};
    let mut out = serde_json::Map::new();
    for lang in [Lang::ZhCn, Lang::En] {
        let (n, d) = crate::pages::segments::words(&Tr::new(lang), code, name, description);
        out.insert(
            lang.code().to_string(),
            json!({ "name": n, "description": d }),
        );
    }
    Value::Object(out)
}

async fn dashboard(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let d = app.store.dashboard(&v.scope()).await?;
    let mut body = json!(d);
    // The tiles are the KPI report's, computed once by the services.
    let tiles = if v.can(Permission::ViewKpis) {
        let k = rapport_services::kpi::report(&app.services, &v.actor(), None, None).await?;
        body["kpi_window"] = json!({ "start": k.start, "end": k.end });
        json!(k.tiles)
    } else {
        json!([])
    };
    body["tiles"] = tiles;
    Ok(Json(body))
}

async fn transactions(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    require(&v, Permission::FeedTransactions)?;
    // Bytes, not a String: a line that is not UTF-8 is rejected on its own
    // (field "line"), the other lines of the body are still taken.
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "the body must hold NDJSON transactions, one per line",
        ));
    }
    let report = app.live.feed(&app.store, &v.user.username, &body).await?;
    app.audit
        .write(entry(&v, "transactions.feed", "txn", None, None,
            json!({ "lines": report.lines, "accepted": report.accepted, "duplicates": report.duplicates, "rejected": report.rejected.len(), "alerts": report.alerts.len() })))
        .await?;
    Ok(Json(json!(report)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_once_with_its_path_parameters() {
        let doc = openapi_document();
        let paths = doc["paths"].as_object().map(|p| p.len()).unwrap_or(0);
        let distinct: std::collections::HashSet<&str> = ROUTES.iter().map(|r| r.path).collect();
        assert_eq!(paths, distinct.len());
        for r in ROUTES {
            let op = &doc["paths"][r.path][r.method];
            assert!(op.is_object(), "{} {} undocumented", r.method, r.path);
            let names: Vec<&str> = op["parameters"]
                .as_array()
                .map(|a| a.iter().filter_map(|p| p["name"].as_str()).collect())
                .unwrap_or_default();
            for seg in r.path.split('/').filter(|s| s.starts_with('{')) {
                assert!(
                    names.contains(&seg.trim_matches(['{', '}'])),
                    "{} lacks {seg}",
                    r.path
                );
            }
            for q in r.query {
                assert!(names.contains(&q.name));
            }
        }
    }
}
