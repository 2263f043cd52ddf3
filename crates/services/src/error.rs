//! The errors a use case answers with, by kind, so every adapter maps them
//! once: the web to an HTTP status and a stable snake_case code, the CLI to
//! an exit code and a message. Messages name the field or the object and
//! never carry CLI or HTTP wording.

use crate::access::AccessError;
use rapport_store::StoreError;

/// Why a use case did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The object does not exist, or not within the actor's scope (the two
    /// are not told apart, so scope cannot be probed).
    #[error("{0} not found")]
    NotFound(String),
    /// The actor may not do this, or is not a valid actor.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// A field of the request is missing or wrong.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// A rule refused the request (the suitability rule, the responsible
    /// lending rule); the message gives the rule's reason in English and
    /// Chinese.
    #[error("{0}")]
    Refused(String),
    /// A workflow step the object's state does not allow (an alert or a
    /// case moved out of order); the message says which steps are allowed.
    #[error("{0}")]
    InvalidTransition(String),
    /// The object changed or exists already (a concurrent edit, a duplicate).
    #[error("{0}")]
    Conflict(String),
    /// Too many requests of this kind by this actor (a limit of the
    /// masking policy); try again after the given seconds.
    #[error("too many searches by identifier; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// Anything else (the cause chain is kept for the log).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ServiceError::NotFound(what),
            StoreError::Conflict(m) => ServiceError::Conflict(m),
            other => ServiceError::Store(other),
        }
    }
}

impl ServiceError {
    pub fn invalid(field: &str, message: impl Into<String>) -> ServiceError {
        ServiceError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> ServiceError {
        ServiceError::NotFound(what.into())
    }

    /// The stable snake_case code adapters report (the API's `error.code`).
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Access(AccessError::Forbidden { .. }) => "forbidden",
            ServiceError::Access(AccessError::Store(_)) => "internal_error",
            ServiceError::Access(_) => "unknown_actor",
            ServiceError::Invalid { .. } => "invalid_parameter",
            ServiceError::Refused(_) => "blocked",
            ServiceError::InvalidTransition(_) => "invalid_transition",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::RateLimited { .. } => "rate_limited",
            ServiceError::Store(_) | ServiceError::Internal(_) => "internal_error",
        }
    }

    /// The process exit code the CLI ends with (1 for failures of the
    /// machine, 2 for a wrong request, 3 not found, 4 refused, 5 conflict).
    pub fn exit_code(&self) -> u8 {
        match self {
            ServiceError::NotFound(_) => 3,
            ServiceError::Access(AccessError::Store(_)) => 1,
            ServiceError::Access(_) => 4,
            ServiceError::Invalid { .. } => 2,
            ServiceError::Refused(_)
            | ServiceError::InvalidTransition(_)
            | ServiceError::Conflict(_)
            | ServiceError::RateLimited { .. } => 5,
            ServiceError::Store(_) | ServiceError::Internal(_) => 1,
        }
    }
}

/// A failure of a use case's inner step: a store error keeps its kind;
/// anything else is the request's fault, reported on `field`.
pub fn invalid_unless_store(field: &str, e: anyhow::Error) -> ServiceError {
    match e.downcast::<StoreError>() {
        Ok(s) => s.into(),
        Err(e) => ServiceError::invalid(field, format!("{e:#}")),
    }
}

/// What a use case returns.
pub type ServiceResult<T> = Result<T, ServiceError>;
