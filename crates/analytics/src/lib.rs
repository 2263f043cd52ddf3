//! Analytics: everything computed about customers as of a date.
//!
//! Owns the feature engine ([`FeatureEngine`], [`compute_features`]) with
//! its catalogue ([`FEATURES`], docs/FEATURES.md) and the per-customer
//! transaction histories of the live path ([`TxnHistories`]); the rule
//! expression language ([`expr`]); the health scorecard ([`health`],
//! docs/SCORECARD.md); segmentation ([`segment`], docs/SEGMENTS.md); the
//! early-warning rules, batch and live ([`alerts`], [`live`],
//! docs/RULES.md); holiday demand ([`holiday`], docs/HOLIDAYS.md). Shipped
//! defaults live in `config/*.toml`, embedded at compile time.
//!
//! How: the store streams each table in bounded-memory chunks of columns
//! (`rapport_store::Store::scan_*`); customer and account ids are mapped to
//! dense indices once ([`DenseIndex`]); every aggregation writes into plain
//! arrays indexed by those numbers, the large transaction pass split over
//! rayon threads by customer range. Memory is the per-customer and
//! per-account state plus one chunk, whatever the number of transactions.
//!
//! Writes to the store only through the store's typed alert API (batch and
//! live alerts with their evidence); scores and segment memberships are
//! stored by the app's pipeline. Must never parse or clean source data, and
//! keeps every content rule in its definitions (feature catalogue,
//! scorecard, rules and segment files), nowhere else.
//!
//! Error policy: thiserror here ([`AnalyticsError`]); anyhow only at the edges.

pub mod alerts;
pub mod columnar;
mod dense;
mod error;
pub mod expr;
mod features;
pub mod health;
pub mod holiday;
pub mod kpi;
pub mod live;
pub mod metrics;
pub mod profile;
pub mod segment;
pub mod spark;
mod table;
mod window;

pub use dense::DenseIndex;
pub use error::AnalyticsError;
pub use features::{
    account_owners, aggregates, compute_features, ColumnarSource, FeatureEngine, FeatureKind,
    FeatureSpec, LiveTxn, TxnHistories, FEATURES, HORIZON_DAYS, TRANSACTION_FEATURES,
};
pub use health::{
    Band, EvidenceKind, FactorEvidence, HealthFactor, HealthScore, Scorecard, ScorecardError,
};
pub use segment::{SegmentConfig, SegmentError, SegmentInput, Segmentation};
pub use table::{FeatureColumn, FeatureTable};
pub use window::AsOf;
