//! The integration tests of `rapport-analytics`, one binary (stores from
//! `rapport_testkit::TestDb`).

mod alerts;
mod distress;
mod expr;
mod features;
mod health;
mod history;
mod holiday;
mod live;
mod segments;
mod signals;
