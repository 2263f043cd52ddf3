//! Holiday demand: the analysis behind the `/holiday` page (one holiday and
//! year, the charts of past years against the forecast), the forecast's
//! need segments saved as segments (audited), and the
//! demo's engagement step (the National Day analysis, the shipped campaigns
//! saved as drafts, the first one previewed).

use crate::access::{Actor, Permission};
use crate::audit::entry_for;
use crate::error::{ServiceError, ServiceResult};
use anyhow::Result;
use rapport_analytics::holiday::demand::NEED_SEGMENT_KIND;
use rapport_analytics::holiday::{
    analyse_holiday_demand, CategoryGroup, HolidayCalendar, HolidayCode, HolidayDemandOptions,
    HolidayDemandReport,
};
use rapport_store::generation::Domain;
use rapport_store::Store;
use serde::Serialize;
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
    // The members were replaced after the segment rows were written (which
    // the triggers saw): reports that group by segment read them again.
    store.bump_generation(Domain::Work).await?;
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

/// One bar of a past-years-vs-forecast chart: a past year's value per
/// window day, or the forecast with its interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemandBar {
    pub year: i32,
    /// Per window day (major units): what happened, or the forecast.
    pub per_day: f64,
    /// The forecast interval (forecast bars only).
    pub interval: Option<(f64, f64)>,
}

/// One category group's chart for all customers: every past year measured,
/// then the forecast year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemandChart {
    pub group: CategoryGroup,
    pub bars: Vec<DemandBar>,
}

/// The holiday demand page: the analysis of one holiday and year, the
/// holidays and years one may pick, the need segments already saved, and
/// the charts of past years against the forecast (all customers).
#[derive(Debug, Clone, Serialize)]
pub struct HolidayDemandView {
    pub report: HolidayDemandReport,
    pub holidays: Vec<HolidayCode>,
    /// The years of the holiday in the calendar.
    pub years: Vec<i32>,
    /// Codes of the report's need segments that are stored as segments.
    pub saved_needs: Vec<String>,
    pub charts: Vec<DemandChart>,
}

/// The year whose holiday comes next after the data: the first year of the
/// calendar whose holiday window ends on or after `data_as_of`, or the
/// latest year known.
pub fn coming_year(
    calendar: &HolidayCalendar,
    holiday: HolidayCode,
    data_as_of: chrono::NaiveDate,
) -> Option<i32> {
    let years = calendar.years_of(holiday);
    years
        .iter()
        .copied()
        .find(|y| {
            calendar
                .period(holiday, *y)
                .is_some_and(|p| p.last_off >= data_as_of)
        })
        .or_else(|| years.last().copied())
}

/// The latest year of `holiday` whose need segments are stored (codes
/// `holiday:<holiday>:<year>:<need>`), if any: the analysis last saved.
pub async fn latest_saved_year(store: &Store, holiday: HolidayCode) -> Result<Option<i32>> {
    let prefix = format!("holiday:{holiday}:");
    Ok(store
        .segments()
        .await?
        .iter()
        .filter(|s| s.kind == NEED_SEGMENT_KIND)
        .filter_map(|s| {
            s.code
                .strip_prefix(&prefix)?
                .split(':')
                .next()?
                .parse()
                .ok()
        })
        .max())
}

/// The charts of `report`: per category group, the all-customers row's
/// past years and forecast.
pub fn demand_charts(report: &HolidayDemandReport) -> Vec<DemandChart> {
    report
        .rows
        .iter()
        .filter(|r| r.segment == "all")
        .map(|r| {
            let mut bars: Vec<DemandBar> = r
                .past
                .iter()
                .map(|p| DemandBar {
                    year: p.year,
                    per_day: p.window_per_day,
                    interval: None,
                })
                .collect();
            if let Some(f) = &r.forecast {
                bars.push(DemandBar {
                    year: report.year,
                    per_day: f.per_day,
                    interval: Some((f.low_per_day, f.high_per_day)),
                });
            }
            DemandChart {
                group: r.group,
                bars,
            }
        })
        .collect()
}

/// The analysis behind the page, for `actor` (who needs
/// [`Permission::ViewEngagement`]): the holiday `holiday` (a code, National
/// Day when None) of `year` (when None: the latest year whose need segments
/// are saved, else the one coming after the data). Reads only.
pub async fn demand_view(
    store: &Store,
    actor: &Actor,
    holiday: Option<&str>,
    year: Option<i32>,
) -> ServiceResult<HolidayDemandView> {
    actor.require(Permission::ViewEngagement)?;
    let (report, calendar) = analyse(store, holiday, year).await?;
    let stored = store.segments().await?;
    let saved_needs = report
        .needs
        .iter()
        .filter(|n| stored.iter().any(|s| s.code == n.code))
        .map(|n| n.code.clone())
        .collect();
    Ok(HolidayDemandView {
        holidays: HolidayCode::ALL.to_vec(),
        years: calendar.years_of(report.holiday),
        charts: demand_charts(&report),
        saved_needs,
        report,
    })
}

async fn analyse(
    store: &Store,
    holiday: Option<&str>,
    year: Option<i32>,
) -> ServiceResult<(HolidayDemandReport, HolidayCalendar)> {
    let code = match holiday {
        Some(h) => {
            HolidayCode::parse(h).map_err(|e| ServiceError::invalid("holiday", e.to_string()))?
        }
        None => HolidayCode::NationalDay,
    };
    let calendar = HolidayCalendar::embedded().map_err(anyhow::Error::from)?;
    let data_as_of = store
        .latest_transaction_date()
        .await?
        .and_then(|d| d.succ_opt())
        .ok_or_else(|| ServiceError::not_found("transactions"))?;
    let year = match year {
        Some(y) => y,
        None => match latest_saved_year(store, code).await? {
            Some(y) => y,
            None => coming_year(&calendar, code, data_as_of).ok_or_else(|| {
                ServiceError::not_found(format!("{code} in the holiday calendar"))
            })?,
        },
    };
    if calendar.period(code, year).is_none() {
        return Err(ServiceError::invalid(
            "year",
            format!("{code} {year} is not in the holiday calendar"),
        ));
    }
    // The analysis reads every transaction of the holiday's past windows:
    // kept per holiday and year until the next import or scoring run.
    let report = crate::memo::get(
        store,
        "holiday.demand",
        &format!("{code}/{year}"),
        &[Domain::Data],
        || async {
            let options = HolidayDemandOptions::new(code, year);
            Ok(analyse_holiday_demand(store, &calendar, &options).await?)
        },
    )
    .await?;
    Ok((HolidayDemandReport::clone(&report), calendar))
}

/// Saves the need segments of `holiday` in `year` as segments (so that a
/// campaign can target them) as `actor` (who needs
/// [`Permission::RunCampaigns`] and, like a campaign that targets them, a
/// bank-wide scope); audited. Returns their codes.
pub async fn save_need_segments(
    store: &Store,
    actor: &Actor,
    via: &str,
    holiday: &str,
    year: i32,
) -> ServiceResult<Vec<String>> {
    actor.require(Permission::RunCampaigns)?;
    crate::campaign::require_bank_wide(actor)?;
    let (report, _) = analyse(store, Some(holiday), Some(year)).await?;
    let saved = save_needs(store, &report).await?;
    store
        .append_audit(&[entry_for(
            actor,
            "holiday.save_needs",
            "segment",
            Some(format!("holiday:{}:{}", report.holiday, report.year)),
            None,
            json!({ "via": via, "segments": saved, "as_of": report.data_as_of }),
        )])
        .await?;
    Ok(saved)
}
