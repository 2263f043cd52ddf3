//! Integration tests of `rapport-ingest`, one binary: the importers (every
//! storage test on SQLite and, when `RAPPORT_TEST_PG` is set, on PostgreSQL
//! too, stores from `rapport_testkit::TestDb`) and the synthetic bank.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod berka;
mod canonical;
mod codes;
mod errors;
mod identity;
mod properties;
mod synth;
mod taiwan;
