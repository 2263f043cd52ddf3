//! The use cases end to end on a generated bank, in one binary, on SQLite
//! and (when `RAPPORT_TEST_PG` is set) PostgreSQL: the case workflow with
//! its SLA clock, relationship management and its cadence, and the actor
//! rule every write obeys.

mod case_flow;
mod kpi_csv;
mod layering;
mod live_feed;
mod rm_cadence;
