//! The KPI dashboard on a generated bank: the coverage figure agrees with
//! the store's own reachability query (two independent implementations of
//! "a live consent"), views partition the customers, scope limits an RM to
//! their portfolio, every configured target is shown, and the CSV has one
//! column per KPI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use rapport_analytics::kpi::Kpi;
use rapport_services::kpi::{dashboard, default_end, load_now, view_csv, ViewBy};
use rapport_store::Scope;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kpis_agree_with_the_store_partition_and_respect_scope() {
    let b = common::bank(false, 400).await.unwrap();
    let cfg = rapport_services::config::Config::default();
    let end = default_end(&b.store).await.unwrap();
    let facts = load_now(&b.state.services).await.unwrap();
    let d = dashboard(
        &facts,
        &Scope::All,
        &cfg.kpi.targets,
        end,
        cfg.kpi.window_days,
        cfg.kpi.trend_months,
        Some(ViewBy::Branch),
    );
    assert_eq!(d.tiles.len(), Kpi::ALL.len());
    for t in &d.tiles {
        assert_eq!(t.target.as_ref(), cfg.kpi.targets.get(t.kpi.as_str()));
        assert_eq!(t.trend.len(), cfg.kpi.trend_months);
    }
    let cov = d
        .tiles
        .iter()
        .find(|t| t.kpi == Kpi::ChannelCoverage)
        .unwrap();
    let r = b.store.reachability(end).await.unwrap();
    assert_eq!(
        cov.numerator as i64, r.reachable,
        "live consents counted alike"
    );
    assert!(cov.value.unwrap() > 0.5);
    let in_rows: usize = d.rows.iter().map(|r| r.customers).sum();
    assert_eq!(
        in_rows, d.customers,
        "a branch view partitions the customers"
    );

    // An RM sees their own portfolio only.
    let mine = dashboard(
        &facts,
        &Scope::Rm(b.rm_a.id),
        &cfg.kpi.targets,
        end,
        cfg.kpi.window_days,
        cfg.kpi.trend_months,
        Some(ViewBy::Rm),
    );
    assert!(mine.customers > 0 && mine.customers < d.customers);
    assert_eq!(mine.rows.len(), 1);
    assert_eq!(mine.rows[0].group, b.rm_a.username);

    let csv = view_csv(&d).unwrap();
    let header = csv.lines().next().unwrap();
    assert_eq!(header.split(',').count(), 2 + Kpi::ALL.len());
    assert!(header.starts_with("branch,customers,channel_coverage"));
    assert_eq!(csv.lines().count(), 1 + d.rows.len());
    b.cleanup().await;
}
