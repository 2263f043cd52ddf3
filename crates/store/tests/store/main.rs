//! The integration tests of `rapport-store`, one binary: each module a
//! story that runs on SQLite always and on PostgreSQL when `RAPPORT_TEST_PG`
//! names a server URL (stores from `rapport_testkit::TestDb`).

mod access;
mod contact;
mod customer_sort;
mod dashboard;
mod erasure;
mod matching;
mod name_search;
mod queries;
mod scan;
mod scores;
mod segments;
mod story;
mod survey;
