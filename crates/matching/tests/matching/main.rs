//! The integration tests of `rapport-matching`, one binary.

mod nba_props;
mod suitability_props;
