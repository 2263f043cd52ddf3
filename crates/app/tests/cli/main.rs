//! The `rapport` binary end to end, in one test binary: the JSON contract of
//! each command, scoring, models, recommendations, operations (jobs, backup,
//! restore) and the benchmarks' smoke runs. Every run goes through the
//! testkit's runner, which clears every `RAPPORT_*` variable first.

mod actor;
mod bench_api;
mod bench_score;
mod commands;
mod crash_audit;
mod credentials;
mod models;
mod ops;
mod recommend;
mod risk;
mod scoring;
mod spark;
mod store_files;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_rapport");
