//! Holiday demand: the forecast's need segments saved as segments, and the
//! demo's engagement step (the National Day analysis, the shipped campaigns
//! saved as drafts, the first one previewed).

use anyhow::Result;
use rapport_analytics::holiday::demand::NEED_SEGMENT_KIND;
use rapport_analytics::holiday::{
    analyse_holiday_demand, HolidayCalendar, HolidayCode, HolidayDemandOptions,
};
use rapport_store::Store;
use serde_json::json;

/// Saves the report's need segments (kind `holiday`) as of its data date;
/// returns their codes.
pub async fn save_needs(
    store: &Store,
    report: &rapport_analytics::holiday::HolidayDemandReport,
) -> Result<Vec<String>> {
    let mut saved = Vec::new();
    for need in &report.needs {
        let id = store
            .upsert_segment(
                &need.code,
                NEED_SEGMENT_KIND,
                &need.name,
                &need.definition,
                &need.description,
            )
            .await?;
        store
            .replace_segment_membership(id, report.data_as_of, &need.members)
            .await?;
        saved.push(need.code.clone());
    }
    Ok(saved)
}

/// The demo's engagement step: the National Day 2026 demand analysis with
/// its need segments saved, the shipped campaigns saved as drafts, and the
/// National Day campaign previewed on the morning its window opens.
pub async fn demo_engagement(
    store: &Store,
    cfg: &crate::config::Config,
) -> Result<serde_json::Value> {
    let calendar = HolidayCalendar::embedded()?;
    let options = HolidayDemandOptions::new(HolidayCode::parse("national_day")?, 2026);
    let report = analyse_holiday_demand(store, &calendar, &options).await?;
    let saved = save_needs(store, &report).await?;
    let clock = crate::clock::Clock::from_config(cfg, Some("2026-09-21T10:00"))?;
    let mut campaigns = Vec::new();
    for (_, text) in rapport_engage::campaign::shipped() {
        campaigns.push(
            crate::campaign::save(store, text, "demo", &clock)
                .await?
                .key,
        );
    }
    let settings = crate::campaign::CampaignSettings::from_config(cfg)?;
    let preview =
        crate::campaign::plan_by_key(store, &settings, "national_day_2026", &clock).await?;
    Ok(json!({ "need_segments": saved, "campaigns": campaigns, "preview": preview.preview() }))
}
