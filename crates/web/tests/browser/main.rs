//! Browser tests: each journey of "a day with Rapport" walked in headless
//! Chromium against the real server, asserting its business outcome, with
//! screenshots under `target/browser-screenshots/<journey>/`. One file per
//! journey; the harness starts the server and the browser.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../web/common.rs"]
mod common;
mod harness;

mod rm_day;

mod complaint_handler;

mod campaign_manager;
mod holiday_surveys;
mod risk_officer;

mod auditor;
mod branch_manager;
mod rm_story;
mod saved_views;
