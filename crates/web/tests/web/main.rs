//! The web application's integration tests, in one binary: the in-process
//! router over a generated bank on SQLite (and PostgreSQL when
//! `RAPPORT_TEST_PG` is set) — the 360, the route × role matrix,
//! recommendations, cases, surveys, KPIs, request logs, campaigns end to
//! end, and sign-in and credentials. The browser journeys are the separate `browser` binary.

mod admin_web;
mod auth_web;
mod campaign_e2e;
mod campaign_pages;
mod case_reclassify_web;
mod cases_web;
mod common;
mod customer_360;
mod customer_list_web;
mod error_pages;

mod holiday_surveys_web;
mod kpi_agree;
mod kpi_dashboard;
mod language;
mod live_feed_api;
mod profile_web;
mod recommend_web;
mod request_hygiene;
mod risk_pages;
mod saved_views;
mod security;
mod segments_web;
mod survey_web;
mod tasks_web;
mod web_logs;
mod web_matrix;
