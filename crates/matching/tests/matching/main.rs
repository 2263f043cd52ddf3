//! The integration tests of `rapport-matching`, one binary.

mod lending_props;
mod nba_props;
mod suitability_props;
