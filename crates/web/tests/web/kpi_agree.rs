//! One definition per KPI (issue 17): for the same viewer, the home
//! dashboard's tiles (`GET /api/v1/dashboard` and the `/` page) are the
//! tiles of `GET /api/v1/kpis` and of the `/kpis` page — same keys, same
//! values — on SQLite and on PostgreSQL (`RAPPORT_TEST_PG`); the quality
//! report's information accuracy is the head-office tile; a role without
//! the right to view KPIs gets no tiles.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use rapport_analytics::kpi::Kpi;
use rapport_services::access::Actor;
use serde_json::Value;

/// A value as the pages show it (a share in per cent with one decimal).
fn shown(t: &Value) -> Option<String> {
    let v = t["value"].as_f64()?;
    Some(if t["is_share"].as_bool().unwrap() {
        format!("{:.1}%", 100.0 * v)
    } else {
        format!("{v:.2}")
    })
}

async fn agree(pg: bool) {
    let Some(b) = common::bank(pg, 300).await else {
        return;
    };
    for who in [&b.mgr_hq, &b.mgr_branch, &b.rm_a, &b.analyst] {
        let (s, dash) = b.get_as(who, "/api/v1/dashboard").await;
        assert_eq!(s, 200, "{dash}");
        let (s, kpis) = b.get_as(who, "/api/v1/kpis").await;
        assert_eq!(s, 200, "{kpis}");
        let dash: Value = serde_json::from_str(&dash).unwrap();
        let kpis: Value = serde_json::from_str(&kpis).unwrap();
        let tiles = kpis["tiles"].as_array().unwrap();
        assert_eq!(tiles.len(), Kpi::ALL.len());
        assert_eq!(
            dash["tiles"], kpis["tiles"],
            "{}: the dashboard's tiles are the KPI report's",
            who.username
        );
        let keys: Vec<&str> = tiles.iter().map(|t| t["kpi"].as_str().unwrap()).collect();
        let want: Vec<&str> = Kpi::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(keys, want);
        assert_eq!(dash["kpi_window"]["end"], kpis["end"]);

        // Both pages show the same figures.
        let (s, home) = b.get_as(who, "/").await;
        assert_eq!(s, 200);
        let (s, page) = b.get_as(who, "/kpis").await;
        assert_eq!(s, 200);
        for t in tiles {
            let key = t["kpi"].as_str().unwrap();
            for html in [&home, &page] {
                let at = html
                    .find(&format!("data-kpi=\"{key}\""))
                    .unwrap_or_else(|| panic!("{key} shown"));
                let rest = &html[at..];
                let tile = &rest[..rest[1..].find("data-kpi=").map_or(rest.len(), |i| i + 1)];
                if let Some(v) = shown(t) {
                    assert!(tile.contains(&v), "{key}: {v} in {tile}");
                }
            }
        }
    }

    // The figures behind the tiles: the health distribution adds up, the
    // churn target is the bank's 20 % reduction and churn rate has none.
    let (_, kpis) = b.get_as(&b.mgr_hq, "/api/v1/kpis").await;
    let kpis: Value = serde_json::from_str(&kpis).unwrap();
    let tile = |k: Kpi| {
        kpis["tiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["kpi"] == k.as_str())
            .unwrap()
            .clone()
    };
    let bands: f64 = [Kpi::HealthyShare, Kpi::WatchShare, Kpi::AtRiskShare]
        .iter()
        .map(|k| tile(*k)["value"].as_f64().unwrap())
        .sum();
    assert!(
        (bands - 1.0).abs() < 1e-9,
        "shares per band add up: {bands}"
    );
    assert_eq!(tile(Kpi::ChurnReduction)["target"].as_f64(), Some(0.2));
    assert!(tile(Kpi::ChurnRate)["target"].is_null());
    assert!(tile(Kpi::AlertsAcknowledged24h)["denominator"]
        .as_f64()
        .is_some());

    // The quality report's information accuracy is the head-office tile.
    let dq = rapport_services::kpi::data_quality(&b.state.services, &Actor::system("test"))
        .await
        .unwrap();
    let acc = tile(Kpi::InformationAccuracy)["value"].as_f64().unwrap();
    let q = dq.information_accuracy.percent.unwrap();
    assert!((acc * 100.0 - q).abs() < 1e-9, "quality {q} vs tile {acc}");
    assert!(
        acc > 0.5 && acc < 1.0,
        "the generated bank has flagged cells"
    );

    // No right to view KPIs: no tiles on the dashboard, 403 on the KPIs.
    let (s, dash) = b.get_as(&b.auditor, "/api/v1/dashboard").await;
    assert_eq!(s, 200);
    let dash: Value = serde_json::from_str(&dash).unwrap();
    assert_eq!(dash["tiles"], serde_json::json!([]));
    let (s, _) = b.get_as(&b.auditor, "/api/v1/kpis").await;
    assert_eq!(s, 403);
    b.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_tiles_are_the_kpis_on_sqlite() {
    agree(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_tiles_are_the_kpis_on_postgres() {
    agree(true).await;
}
