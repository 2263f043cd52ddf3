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
pub mod audit;
pub mod campaign;
pub mod cases;
pub mod clock;
pub mod config;
pub mod consents;
pub mod dispatch;
pub mod error;
pub mod holiday;
pub mod import;
pub mod kpi;
pub mod live_feed;
pub mod model_registry;
pub mod recommendations;
pub mod rm;
pub mod scoring;
pub mod surveys;
