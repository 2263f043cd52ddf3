//! The risk-tolerance assessment API: record a questionnaire and read the
//! history (the use cases are `rapport_services::risk_profile`'s).

use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use rapport_services::risk_profile;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub(super) struct AssessBody {
    /// Letters in question order as text or a list, or question id → letter.
    answers: Value,
}

/// The answers of the body as the text the questionnaire parses.
fn answers_text(v: &Value) -> Result<String, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "invalid_parameter",
            "answers: a text of letters, a list of letters, or an object question → letter",
        )
    };
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string).ok_or_else(bad))
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.join(",")),
        Value::Object(m) => m
            .iter()
            .map(|(k, x)| x.as_str().map(|l| format!("{k}={l}")).ok_or_else(bad))
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.join(",")),
        _ => Err(bad()),
    }
}

pub(super) async fn assess(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<AssessBody>,
) -> Result<Json<Value>, ApiError> {
    let answers = answers_text(&body.answers)?;
    let r = risk_profile::assess(&app.services, &v.actor(), "api", &key, &answers).await?;
    Ok(Json(json!(r)))
}

pub(super) async fn history(
    State(app): State<AppState>,
    ApiUser(v): ApiUser,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let h = risk_profile::history(&app.services, &v.actor(), "api", &key).await?;
    Ok(Json(json!({
        "customer_key": key,
        "assessments": h,
        "questionnaire": {
            "version": rapport_matching::questionnaire::QUESTIONNAIRE_VERSION,
            "questions": risk_profile::questions(),
        },
    })))
}
