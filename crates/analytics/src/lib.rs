//! Analytics: per-customer features as of a date, computed from columnar
//! scans of the store (the basis of health scores, segments and alerts).
//!
//! Owns the feature engine ([`FeatureEngine`], [`compute_features`]), the
//! feature catalogue ([`FEATURES`], documented in docs/FEATURES.md) and the
//! feature table with its CSV form ([`FeatureTable`]).
//!
//! How: the store streams each table in bounded-memory chunks of columns
//! (`rapport_store::Store::scan_*`); customer and account ids are mapped to
//! dense indices once ([`DenseIndex`]); every aggregation writes into plain
//! arrays indexed by those numbers, the large transaction pass split over
//! rayon threads by customer range. Memory is the per-customer and
//! per-account state plus one chunk, whatever the number of transactions.
//!
//! Must never write to the store, parse or clean source data, or decide
//! content rules beyond the feature definitions (which live in
//! `features::catalog` and docs/FEATURES.md, and nowhere else).
//!
//! Error policy: thiserror here ([`AnalyticsError`]); anyhow only at the edges.

pub mod alerts;
mod dense;
mod error;
pub mod expr;
mod features;
pub mod health;
pub mod holiday;
pub mod live;
pub mod segment;
mod table;
mod window;

pub use dense::DenseIndex;
pub use error::AnalyticsError;
pub use features::{
    compute_features, FeatureEngine, FeatureKind, FeatureSpec, LiveTxn, TxnHistories, FEATURES,
    HORIZON_DAYS, TRANSACTION_FEATURES,
};
pub use health::{Band, HealthFactor, HealthScore, Scorecard, ScorecardError};
pub use segment::{SegmentConfig, SegmentError, SegmentInput, Segmentation};
pub use table::{FeatureColumn, FeatureTable};
pub use window::AsOf;
