//! The integration tests of `rapport-matching`, one binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod lending_props;
mod nba_props;
mod suitability_props;
