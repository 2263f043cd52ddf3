//! The branch manager's journey (issue 18): signs in, reads the KPIs of
//! their branch by RM and by segment — the first-response and coverage
//! figures shown are `rapport_services::kpi::report`'s for the same
//! manager — reads the by-RM view in English too, then follows a figure of
//! the dashboard to the list behind it (the at-risk share to the at-risk
//! customers).

use super::common;
use super::harness::{with_password, Session};
use fantoccini::Locator;
use rapport_analytics::kpi::Kpi;
use rapport_services::access::{staff_by_username, Actor};
use rapport_services::kpi::{report, KpiDashboard, ViewBy};

/// A value as the pages show it.
fn shown(v: Option<f64>, share: bool) -> Option<String> {
    let v = v?;
    Some(if share {
        format!("{:.1}%", 100.0 * v)
    } else {
        format!("{v:.2}")
    })
}

/// Checks that every group row of `want` is shown with the first-response
/// and coverage figures of the report.
async fn rows_agree(s: &Session, want: &KpiDashboard, names: &dyn Fn(&str) -> String) {
    assert!(!want.rows.is_empty(), "the view has groups");
    let rows =
        s.c.find_all(Locator::Css("#kpi-rows tr[data-group]"))
            .await
            .unwrap();
    assert_eq!(rows.len(), want.rows.len(), "one row per group");
    for (row, r) in rows.iter().zip(&want.rows) {
        let group = row.attr("data-group").await.unwrap().unwrap();
        assert_eq!(group, names(&r.group));
        for k in [Kpi::DemandResponse24h, Kpi::ChannelCoverage] {
            let i = want.kpis.iter().position(|x| *x == k).unwrap();
            let cell = row
                .find(Locator::Css(&format!(
                    "td[data-kpi-value=\"{}\"]",
                    k.as_str()
                )))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if let Some(v) = shown(r.values[i], k.is_share()) {
                assert_eq!(cell, v, "{} of {group}", k.as_str());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_manager_reads_kpis_by_rm_and_segment_and_drills_down() {
    let b = common::bank(false, 600).await.unwrap();
    let password = "a branch manager's password";
    with_password(&b.store, &b.mgr_branch, password).await;
    let staff = staff_by_username(&b.store, &b.mgr_branch.username, "test")
        .await
        .unwrap();
    let actor = Actor::Staff(staff);
    let by_rm = report(&b.state.services, &actor, Some(ViewBy::Rm), None)
        .await
        .unwrap();
    let by_segment = report(&b.state.services, &actor, Some(ViewBy::Segment), None)
        .await
        .unwrap();
    let segments = b.store.segments().await.unwrap();

    let Some(mut s) = Session::start("branch-manager", b.state.clone(), 1400).await else {
        return;
    };
    s.sign_in(&b.mgr_branch, password).await;
    s.shot("dashboard").await;

    // The KPIs by RM: the form's view select, then the rows.
    s.open("/kpis", "#kpi-view").await;
    s.c.find(Locator::Css("#view option[value=\"rm\"]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    s.click("#kpi-show").await;
    s.wait_url("view=rm").await;
    s.wait_for("#kpi-rows").await;
    // The tiles are the report's figures for the manager's branch.
    for k in [Kpi::DemandResponse24h, Kpi::ChannelCoverage] {
        let tile = by_rm.tiles.iter().find(|t| t.kpi == k).unwrap();
        let text =
            s.c.find(Locator::Css(&format!(
                ".tile[data-kpi=\"{}\"] .value",
                k.as_str()
            )))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if let Some(v) = shown(tile.value, tile.is_share) {
            assert_eq!(text, v, "{} tile", k.as_str());
        }
    }
    rows_agree(&s, &by_rm, &|g| g.to_string()).await;
    s.shot("kpis-by-rm").await;

    // By segment: the groups are the segments, named in Chinese.
    s.open("/kpis?view=segment", "#kpi-rows").await;
    let zh = rapport_web::i18n::Tr::new(rapport_web::i18n::Lang::ZhCn);
    let name = |code: &str| match segments.iter().find(|x| x.code == code) {
        Some(x) => rapport_web::pages::segments::words(&zh, code, &x.name, &x.description).0,
        None => code.to_string(),
    };
    rows_agree(&s, &by_segment, &name).await;
    s.shot("kpis-by-segment").await;

    // The same view in English.
    s.open("/kpis?view=rm", "#kpi-rows").await;
    s.click("#switch-language").await;
    s.wait_for("html[lang=\"en\"]").await;
    let text = s.text().await;
    assert!(text.contains("KPIs and targets"), "{text}");
    rows_agree(&s, &by_rm, &|g| g.to_string()).await;
    s.shot("kpis-by-rm-en").await;

    // From the dashboard's at-risk figure to the at-risk customers.
    s.open("/", "#kpi-tiles").await;
    s.click(".tile[data-kpi=\"health_at_risk\"] a.drill").await;
    s.wait_url("/customers?band=at_risk").await;
    s.wait_for("#customer-results").await;
    s.shot("at-risk-customers").await;
    s.finish().await;
    b.cleanup().await;
}
