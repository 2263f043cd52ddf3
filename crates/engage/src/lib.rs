//! Rapport engagement rules (docs/PRODUCT.md C8, C10, C11): who may be contacted,
//! on which channel, for which purpose, and when; how a campaign picks its
//! audience; the service-level clock of a case; survey results.
//!
//! Owns the contact policy: consent per customer × channel × purpose (the
//! latest record wins; a revocation ends it), do-not-disturb, quiet hours,
//! and frequency caps per channel and overall. Every decision carries a code
//! and its reason in English and Chinese, so the caller can log it as is.
//!
//! Must never do IO or read the clock: the time of the send, the consents
//! and the send history are parameters.

pub mod campaign;
pub mod case;
pub mod classify;
pub mod policy;
pub mod sla;
pub mod survey;

pub use policy::{
    decide, ConsentRecord, ContactPolicy, FrequencyCap, Purpose, QuietHours, SendChannel,
    SendDecision, SendDecisionCode, SentMessage,
};
