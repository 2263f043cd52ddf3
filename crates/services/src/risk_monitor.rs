//! Health-band migration for the risk officer (issue 18): how customers
//! moved between the bands (healthy, watch, at risk) from the second-latest
//! scoring date to the latest, and the at-risk share on every scoring date;
//! and the demo's earlier scorings that make migration, trends, model drift
//! and rule outcomes visible.

use crate::access::{Actor, Permission};
use crate::error::ServiceResult;
use chrono::{Duration, NaiveDate};
use rapport_store::Store;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// The health bands, best first.
pub const BANDS: [&str; 3] = ["healthy", "watch", "at_risk"];

/// One cell of the migration matrix: customers in band `from` at the earlier
/// date and in band `to` at the later one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MigrationCell {
    pub from: String,
    pub to: String,
    pub customers: i64,
    /// customers / customers of the row's `from` band (scored on both dates).
    pub share: Option<f64>,
}

/// The at-risk share of one scoring date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    pub as_of: NaiveDate,
    pub customers: i64,
    pub at_risk: i64,
    pub share: f64,
}

/// The band migration between the last two scoring dates, and the trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BandMigration {
    /// The second-latest and the latest scoring date (None when fewer exist).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Rows by `from` band, columns by `to` band, in [`BANDS`] order (then
    /// any other band the scorecard gave).
    pub rows: Vec<Vec<MigrationCell>>,
    /// Customers scored on both dates (the sum of the cells).
    pub customers: i64,
    /// Oldest first.
    pub trend: Vec<TrendPoint>,
}

/// The band migration (who needs [`Permission::ViewModels`]).
pub async fn band_migration(store: &Store, actor: &Actor) -> ServiceResult<BandMigration> {
    actor.require(Permission::ViewModels)?;
    let counts = store.band_counts_by_date().await?;
    let mut by_date: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
    let mut bands: Vec<String> = BANDS.iter().map(|b| b.to_string()).collect();
    for (d, band, n) in &counts {
        let e = by_date.entry(*d).or_default();
        e.0 += n;
        if band == "at_risk" {
            e.1 += n;
        }
        if !bands.contains(band) {
            bands.push(band.clone());
        }
    }
    let trend = by_date
        .iter()
        .map(|(&as_of, &(customers, at_risk))| TrendPoint {
            as_of,
            customers,
            at_risk,
            share: if customers > 0 {
                at_risk as f64 / customers as f64
            } else {
                0.0
            },
        })
        .collect();
    let dates: Vec<NaiveDate> = by_date.keys().copied().collect();
    let (from, to) = match dates.as_slice() {
        [.., a, b] => (Some(*a), Some(*b)),
        _ => (None, None),
    };
    let moves = match (from, to) {
        (Some(a), Some(b)) => store.band_migration(a, b).await?,
        _ => Vec::new(),
    };
    let count = |f: &str, t: &str| {
        moves
            .iter()
            .filter(|m| m.from_band == f && m.to_band == t)
            .map(|m| m.customers)
            .sum::<i64>()
    };
    let rows = bands
        .iter()
        .map(|f| {
            let row_total: i64 = bands.iter().map(|t| count(f, t)).sum();
            bands
                .iter()
                .map(|t| {
                    let n = count(f, t);
                    MigrationCell {
                        from: f.clone(),
                        to: t.clone(),
                        customers: n,
                        share: (row_total > 0).then(|| n as f64 / row_total as f64),
                    }
                })
                .collect()
        })
        .collect();
    Ok(BandMigration {
        from,
        to,
        rows,
        customers: moves.iter().map(|m| m.customers).sum(),
        trend,
    })
}

/// The demo's earlier scorings: the whole pipeline (health, segments,
/// alerts) as of 60 and 30 days before `as_of`, every active model scored
/// on those dates (their drift months), then every active model scored as
/// of `as_of` again so the stored model scores stay the latest ones. Gives
/// the band migration two dates to compare, trends more than one point, and
/// alerts old enough for their outcomes to be seen (rule performance).
pub async fn demo_earlier_scorings(
    store: &Store,
    cfg: &crate::config::Config,
    as_of: NaiveDate,
) -> anyhow::Result<serde_json::Value> {
    let mut opts = crate::scoring::ScoringOptions::from_config(&cfg.scoring)?;
    // The extract's point-in-time columns (loan arrears) describe `as_of`.
    opts.extract_date = Some(as_of);
    let kinds: Vec<String> = store
        .model_versions(None)
        .await?
        .into_iter()
        .filter(|m| m.active)
        .map(|m| m.kind)
        .collect();
    let mut dates = Vec::new();
    for back in [60, 30] {
        let d = as_of - Duration::days(back);
        let report = crate::scoring::run_scoring(store, d, &opts).await?;
        let table = crate::scoring::features(store, d, &opts).await?;
        for kind in &kinds {
            crate::model_registry::score_table(store, kind, &table, 3).await?;
        }
        dates.push(
            json!({ "as_of": d, "customers": report.customers, "alerts": report.alerts.raised }),
        );
    }
    if !kinds.is_empty() {
        let table = crate::scoring::features(store, as_of, &opts).await?;
        for kind in &kinds {
            crate::model_registry::score_table(store, kind, &table, 3).await?;
        }
    }
    Ok(json!({ "earlier_scorings": dates, "models": kinds }))
}
