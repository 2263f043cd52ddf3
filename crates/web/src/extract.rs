//! The API's extractors: axum's `Json`, `Query` and `Path` whose refusals
//! answer in the API's JSON error format (`{"error": {"code", "message"}}`)
//! instead of axum's plain text. Every `/api/v1` handler takes its body,
//! query and path through these.
//!
//! - a body that is not JSON, or JSON of the wrong shape: 400 / 422
//!   `invalid_body`, naming what was wrong (the missing or mistyped field);
//! - a body sent without `Content-Type: application/json`: 415
//!   `unsupported_media_type`;
//! - a body over the size limit: 413 `payload_too_large`;
//! - a query or path parameter that does not parse: 400 `invalid_parameter`.

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequest, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use serde::de::DeserializeOwned;

/// A JSON body; refusals are [`ApiError`]s. `Option<ApiJson<T>>` is an
/// optional body: absent when the request has no `Content-Type`.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

/// A query string; refusals are [`ApiError`]s.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

/// Path parameters; refusals are [`ApiError`]s.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

/// The API error for a refused JSON body.
pub fn json_error(r: JsonRejection) -> ApiError {
    let status = r.status();
    let code = match &r {
        JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        _ => "invalid_body",
    };
    let message = match &r {
        JsonRejection::MissingJsonContentType(_) => {
            "the body must be JSON sent with Content-Type: application/json".to_string()
        }
        _ => format!("body: {}", r.body_text()),
    };
    ApiError::new(status, code, message)
}

/// The API error for a refused query string.
pub fn query_error(r: QueryRejection) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        format!("query: {}", r.body_text()),
    )
}

/// The API error for refused path parameters.
pub fn path_error(r: PathRejection) -> ApiError {
    let status = r.status();
    if status.is_server_error() {
        return ApiError::internal(anyhow::anyhow!("path parameters: {}", r.body_text()));
    }
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        format!("path: {}", r.body_text()),
    )
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match <Json<T> as FromRequest<S>>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(r) => Err(json_error(r)),
        }
    }
}

impl<T, S> OptionalFromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        match <Json<T> as OptionalFromRequest<S>>::from_request(req, state).await {
            Ok(v) => Ok(v.map(|Json(v)| ApiJson(v))),
            Err(r) => Err(json_error(r)),
        }
    }
}

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(r) => Err(query_error(r)),
        }
    }
}

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(r) => Err(path_error(r)),
        }
    }
}
