//! The integration tests of `rapport-models`, one binary (the data samples
//! stay in `tests/data`).

mod extracts;
