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
pub mod api_risk;
pub use rapport_services::audit;
pub mod auth;
pub mod charts;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod ops;
pub mod pages;
pub mod present;
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
    /// The live early-warning engine fed by `POST /api/v1/transactions`
    /// (warmed at server start, see `LiveFeed::start_warming`).
    pub live: rapport_services::live_feed::LiveFeed,
}

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
        let live =
            rapport_services::live_feed::LiveFeed::new(services.settings.scoring.rules.clone());
        let default_lang = i18n::Lang::parse(&cfg.web.default_language).unwrap_or(i18n::Lang::ZhCn);
        AppState {
            audit: services.audit.clone(),
            store: services.store.clone(),
            services,
            cfg,
            metrics: Arc::new(ops::Metrics::new()),
            default_lang,
            tokens: Arc::new(Mutex::new(HashMap::new())),
            live,
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

    /// The configured time zone (`[jobs] utc_offset`, default +08:00,
    /// Asia/Shanghai) in which every page shows times, labelled.
    pub fn offset(&self) -> chrono::FixedOffset {
        self.services.clock.offset()
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
            error::pages_in_layout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::track,
        ))
        .layer(axum::middleware::from_fn(move |req, next| {
            security::headers(secure, req, next)
        }))
        .with_state(state)
}

/// Serves the application on `listener` until `shutdown` completes, lets
/// the open connections finish, then drains the audit queue.
///
/// Each connection is HTTP/1.1 with a deadline on reading a request's
/// headers (`[web] header_read_timeout_seconds`): a client that sends them
/// slowly (slowloris) is disconnected instead of holding a connection. A
/// whole request — reading its body and answering — gets
/// `[web] request_timeout_seconds`, then 408. Handlers see the client's
/// address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use axum::extract::ConnectInfo;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;
    use tower::Layer;

    let audit = state.audit.clone();
    let header_timeout = Duration::from_secs(state.cfg.web.header_read_timeout_seconds.max(1));
    let request_timeout = Duration::from_secs(state.cfg.web.request_timeout_seconds.max(1));
    let app = router(state).layer(tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        request_timeout,
    ));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let svc = TowerToHyperService::new(
            axum::Extension(ConnectInfo::<std::net::SocketAddr>(remote)).layer(app.clone()),
        );
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), svc));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, client = %remote, "connection closed with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
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
