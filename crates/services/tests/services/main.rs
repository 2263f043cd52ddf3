//! The use cases end to end on a generated bank, in one binary, on SQLite
//! and (when `RAPPORT_TEST_PG` is set) PostgreSQL: the case workflow with
//! its SLA clock, relationship management and its cadence, the actor
//! rule every write obeys, and sign-in and credentials.

mod analytics_copy;
mod case_flow;
mod kpi_csv;
mod kpi_report;
mod layering;
mod lending;
mod live_feed;
mod live_path;
mod memo;
mod profile360;
mod reclassify;
mod rm_cadence;
mod rule_signals;
mod saved_views;
mod signin;
mod spark;
mod tasks;
mod warm;
