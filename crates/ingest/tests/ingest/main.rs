//! Integration tests of the importers: one test binary, every storage test on
//! SQLite and, when `RAPPORT_TEST_PG` is set, on PostgreSQL too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod berka;
mod canonical;
mod errors;
mod identity;
mod properties;
mod taiwan;
