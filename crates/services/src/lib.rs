//! Rapport's use cases, each written once: the CLI, the web application and
//! the jobs are adapters that call these functions and print or render what
//! they return. A use case takes who acts ([`access::Actor`]); permission,
//! row scope and the audit entry are decided here, not in the adapters.
//!
//! This crate never prints and depends on no adapter framework (no clap,
//! axum, askama, indicatif or tower-http); `Cargo.toml` keeps it so.
//!
//! Error policy: `anyhow` with context inside a use case; adapters map
//! failures to HTTP statuses and exit codes.

pub mod access;
pub mod alerts;
pub mod analytics_copy;
pub mod audit;
pub mod campaign;
pub mod cases;
pub mod clock;
pub mod config;
pub mod consents;
pub mod customers;
pub mod demo;
pub mod dispatch;
pub mod error;
pub mod holiday;
pub mod import;
pub mod kpi;
pub mod live_feed;
pub mod memo;
pub mod model_registry;
pub mod password;
pub mod privacy;
pub mod recommendations;
pub mod risk_monitor;
pub mod risk_profile;
pub mod rm;
pub mod rule_performance;
pub mod saved_views;
pub mod scoring;
pub mod signin;
pub mod staff;
pub mod surveys;
pub mod tasks;
pub mod warm;

use std::sync::Arc;

/// The settings every use case reads, built once from the configuration:
/// the catalogue, the case taxonomy and SLA calendar, the campaign and
/// contact settings, the RM cadence, and the bank's scoring files.
pub struct Settings {
    pub matching: recommendations::Settings,
    pub cases: cases::CaseSettings,
    pub campaigns: campaign::CampaignSettings,
    pub rm: rm::RmSettings,
    pub scoring: scoring::ScoringOptions,
    pub masking: privacy::MaskingPolicy,
}

impl Settings {
    /// Reads and checks every file the configuration names; an error names
    /// the key and the problem.
    pub fn from_config(cfg: &config::Config) -> anyhow::Result<Settings> {
        use anyhow::Context as _;
        Ok(Settings {
            matching: recommendations::Settings::from_config(&cfg.matching)
                .context("[matching]")?,
            cases: cases::CaseSettings::from_config(cfg).context("[cases]")?,
            campaigns: campaign::CampaignSettings::from_config(cfg).context("[campaigns]")?,
            rm: rm::RmSettings::from_config(cfg).context("[rm]")?,
            scoring: scoring::ScoringOptions::from_config(&cfg.scoring).context("[scoring]")?,
            masking: privacy::MaskingPolicy::from_config(&cfg.masking).context("[masking]")?,
        })
    }
}

/// What the adapters share, built once at start-up: the store, the
/// configuration, the settings read from it, the bank's clock and the
/// audit writer. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub store: rapport_store::Store,
    pub cfg: Arc<config::Config>,
    pub settings: Arc<Settings>,
    pub clock: clock::Clock,
    pub audit: audit::AuditSink,
    /// Whole-value identifier searches per member of staff (the masking policy's limit).
    pub searches: Arc<privacy::SearchLimiter>,
}

impl Services {
    /// Builds the settings once and starts the audit writer on the current
    /// runtime. Fails, naming the key, when a file the configuration names
    /// is missing or invalid.
    pub fn build(store: rapport_store::Store, cfg: config::Config) -> anyhow::Result<Services> {
        let settings = Settings::from_config(&cfg)?;
        let clock = clock::Clock::from_config(&cfg, None)?;
        Ok(Services {
            audit: audit::AuditSink::start(store.clone()),
            store,
            cfg: Arc::new(cfg),
            settings: Arc::new(settings),
            clock,
            searches: Arc::new(privacy::SearchLimiter::default()),
        })
    }
}
