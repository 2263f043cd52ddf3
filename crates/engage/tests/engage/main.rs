//! The integration tests of `rapport-engage`, one binary.

mod policy_props;
