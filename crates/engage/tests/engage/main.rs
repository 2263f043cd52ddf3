//! The integration tests of `rapport-engage`, one binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod complaint_classes;
mod policy_props;
mod regulator_sla;
