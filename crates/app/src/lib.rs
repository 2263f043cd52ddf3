//! The `rapport` application crate: configuration, the CLI commands, the
//! HTTP API and server-rendered web UI, authentication, audit and jobs. The
//! binary (`src/main.rs`) is a thin shell over it; integration tests drive
//! the web application in-process through [`web`].
//!
//! Error policy: anyhow at this edge; library errors keep their context chain.

pub mod alert_cmd;
pub mod bench;
pub mod campaign;
pub mod campaign_cmd;
pub mod case_cmd;
pub mod cases;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod contact_cmd;
pub mod dispatch;
pub mod holiday_cmd;
pub mod jobs;
pub mod kpi;
pub mod kpi_cmd;
pub mod matching;
pub mod model_cmd;
pub mod ops_cmd;
pub mod output;
pub mod recommend_cmd;
pub mod rm;
pub mod rm_cmd;
pub mod score_cmd;
pub mod scoring;
pub mod store_models;
pub mod stream_cmd;
pub mod survey_cmd;
pub mod validate;
pub mod web;
pub mod web_cmd;
