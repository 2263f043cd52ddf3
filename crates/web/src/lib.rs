//! The web adapter: `rapport serve`'s router, the server-rendered UI (zh-CN
//! and en), the REST API under `/api/v1` and its OpenAPI description,
//! sign-in, sessions, CSRF, security headers, masking, charts and the
//! operational endpoints. Writes and audited reads go through the use cases
//! of `rapport-services` (which decide permission, scope and the audit
//! entry); pages that only list read the store's typed, scope-taking
//! queries with the scope the services give. Handlers never talk SQL.
//!
//! Start-up is testable: [`router`] hands tests the whole application over a
//! store; [`serve`] binds it to a listener and shuts down cleanly.

pub mod api;
pub mod api_engage;
pub use rapport_services::audit;
pub mod auth;
pub mod charts;
pub mod error;
pub mod i18n;
pub mod ops;
pub mod pages;
pub mod security;

use axum::routing::get;
use axum::Router;
use rapport_services::config::Config;
use rapport_store::{StaffUser, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a resolved API token is trusted before the store is asked again
/// (a revoked token stops working within this time).
const TOKEN_CACHE_TTL: Duration = Duration::from_secs(30);

/// Resolved API tokens: hash → (when resolved, the user or None).
type TokenCache = Arc<Mutex<HashMap<String, (Instant, Option<StaffUser>)>>>;

/// What every handler shares. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The use cases' shared context, built once at start-up.
    pub services: rapport_services::Services,
    pub store: Store,
    pub cfg: Arc<Config>,
    pub audit: audit::AuditSink,
    pub metrics: Arc<ops::Metrics>,
    pub default_lang: i18n::Lang,
    tokens: TokenCache,
    /// The live early-warning engine fed by `POST /api/v1/transactions`,
    /// bootstrapped on first use, with its account-key cache.
    pub live: Arc<tokio::sync::Mutex<Option<LiveState>>>,
}

/// The live engine and the account ids it has looked up by (source, key).
pub type LiveState = (
    rapport_analytics::live::LiveEngine,
    HashMap<(String, String), Option<i64>>,
);

impl AppState {
    /// Builds the state over the services built once from `cfg` (which
    /// starts the audit writer on the current runtime); fails, naming the
    /// key, when a file the configuration names is missing or invalid.
    pub fn new(store: Store, cfg: Config) -> anyhow::Result<AppState> {
        let services = rapport_services::Services::build(store, cfg)?;
        Ok(AppState::with_services(services))
    }

    /// The state over services already built (the server and its jobs share them).
    pub fn with_services(services: rapport_services::Services) -> AppState {
        let cfg = services.cfg.clone();
        let default_lang = i18n::Lang::parse(&cfg.web.default_language).unwrap_or(i18n::Lang::ZhCn);
        AppState {
            audit: services.audit.clone(),
            store: services.store.clone(),
            services,
            cfg,
            metrics: Arc::new(ops::Metrics::new()),
            default_lang,
            tokens: Arc::new(Mutex::new(HashMap::new())),
            live: Arc::new(tokio::sync::Mutex::new(None)),
        }
    }

    /// The user behind an API token hash, cached for [`TOKEN_CACHE_TTL`].
    pub async fn token_user(
        &self,
        hash: &str,
    ) -> Result<Option<StaffUser>, rapport_store::StoreError> {
        if let Ok(cache) = self.tokens.lock() {
            if let Some((at, user)) = cache.get(hash) {
                if at.elapsed() < TOKEN_CACHE_TTL {
                    return Ok(user.clone());
                }
            }
        }
        let user = self.store.api_token_user(hash).await?;
        if let Ok(mut cache) = self.tokens.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(hash.to_string(), (Instant::now(), user.clone()));
        }
        Ok(user)
    }

    /// Forgets cached tokens (after a revocation or a user change).
    pub fn forget_tokens(&self) {
        if let Ok(mut cache) = self.tokens.lock() {
            cache.clear();
        }
    }

    /// The language of a user: their choice, or the server default.
    pub fn lang_of(&self, user: &StaffUser) -> i18n::Lang {
        user.language
            .as_deref()
            .and_then(i18n::Lang::parse)
            .unwrap_or(self.default_lang)
    }
}

/// The whole application: pages, API, operations, static files, headers.
pub fn router(state: AppState) -> Router {
    let secure = state.cfg.web.secure_cookies;
    Router::new()
        .merge(pages::routes())
        .merge(api::routes())
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/static/{file}", get(pages::static_file))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::track,
        ))
        .layer(axum::middleware::from_fn(move |req, next| {
            security::headers(secure, req, next)
        }))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` completes, then drains the audit queue.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let audit = state.audit.clone();
    let app = router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    audit.flush().await;
    Ok(())
}

/// Escapes text for HTML (for the few strings built outside templates).
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
