//! The `rapport` binary's library: the command line (`cli`, one module per
//! command family with its arguments and its text output), the jobs
//! (`jobs`), the output helpers and the benchmarks. Every use case it runs
//! lives in `rapport-services`; the web application in `rapport-web`.
//!
//! Error policy: anyhow at this edge; library errors keep their context chain.

pub mod bench;
pub mod cli;
pub mod jobs;
pub mod output;
