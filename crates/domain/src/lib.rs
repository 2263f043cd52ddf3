//! The Rapport domain: pure types and rules.
//!
//! Owns validated values (resident ID numbers, phone numbers, e-mail
//! addresses, money, dates), the controlled vocabularies (codes) and the
//! entity records that flow from ingest into the store.
//!
//! Must never do IO, spawn tasks, or depend on sqlx/axum: everything here is
//! plain data and functions, so it can be tested exhaustively and reused by
//! every other crate.

pub mod codes;
mod fingerprint;
pub mod identity;
pub mod records;
pub mod text;
pub mod values;

pub use codes::*;
pub use records::*;
pub use values::*;
