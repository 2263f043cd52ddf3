//! `rapport report holiday`: runs the holiday demand analysis, saves its
//! need segments (kind `holiday`) in the store, and prints the result as a
//! text table or one JSON object.
//!
//! Owns the command's arguments and the rendering only; the analysis is
//! `rapport_analytics::holiday`, the storage `rapport_store`. Must never
//! compute demand figures itself.

use crate::cli::HolidayReportArgs;
use crate::output::emit;
use anyhow::{Context, Result};
use chrono::NaiveDate;
use rapport_analytics::holiday::{
    analyse_holiday_demand, HolidayCalendar, HolidayCode, HolidayDemandOptions,
    HolidayDemandReport, IntervalMethod,
};
use rapport_services::holiday::save_needs;
use rapport_store::Store;
use serde_json::json;
use std::fmt::Write as _;

pub async fn report_holiday(store: &Store, json: bool, args: HolidayReportArgs) -> Result<()> {
    let holiday = HolidayCode::parse(&args.holiday)?;
    let calendar = match &args.holidays {
        Some(path) => HolidayCalendar::load(path)?,
        None => HolidayCalendar::embedded()?,
    };
    let mut options = HolidayDemandOptions::new(holiday, args.year);
    if let Some(days) = args.pre_holiday_days {
        options.pre_holiday_days = days;
    }
    if let Some(rows) = args.chunk_rows {
        options.chunk_rows = rows;
    }
    if let Some(s) = &args.as_of {
        options.data_as_of = Some(
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .with_context(|| format!("--as-of {s:?}: expected a date as YYYY-MM-DD"))?,
        );
    }
    let report = analyse_holiday_demand(store, &calendar, &options)
        .await
        .with_context(|| format!("analysing {} {}", holiday, args.year))?;
    let saved = if args.no_save {
        Vec::new()
    } else {
        save_needs(store, &report).await?
    };
    emit(
        json,
        &json!({ "report": &report, "saved_segments": saved, "saved_as_of": report.data_as_of }),
        || render(&report, !args.no_save),
    )
}

fn money(v: f64) -> String {
    format!("{v:.0}")
}

/// The report as text: the windows, then segment × group with the baseline,
/// past uplifts and forecast, then the need segments.
pub(crate) fn render(r: &HolidayDemandReport, saved: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} {}: window {} to {} ({} pre-holiday days + days off {} to {}){}",
        r.holiday_name,
        r.year,
        r.window.first,
        r.window.last,
        r.pre_holiday_days,
        r.days_off.first,
        r.days_off.last,
        if r.provisional_calendar {
            "  [provisional dates: no official notice in the calendar]"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "data up to {}; recent baseline {} ordinary days {} to {}; segments as of {}",
        r.data_as_of.pred_opt().unwrap_or(r.data_as_of),
        r.recent_baseline.days.len(),
        r.recent_baseline.first,
        r.recent_baseline.last,
        r.membership_as_of
            .map_or_else(|| "- (only all)".to_string(), |d| d.to_string())
    );
    if r.past_years.is_empty() {
        let _ = writeln!(
            s,
            "no past year with data covering its baseline and window: no uplift, no forecast"
        );
    }
    let years: Vec<i32> = r.past_years.iter().map(|y| y.year).collect();
    let _ = write!(
        s,
        "\n{:<32} {:<10} {:>9} {:>12}",
        "segment", "group", "customers", "base/day"
    );
    for y in &years {
        let _ = write!(s, " {:>7}", format!("x{y}"));
    }
    let _ = writeln!(
        s,
        " {:>12} {:>25} {:>8}  method",
        "forecast/day", "interval", "trend/yr"
    );
    for row in &r.rows {
        let _ = write!(
            s,
            "{:<32} {:<10} {:>9} {:>12}",
            truncate(&row.segment, 32),
            row.group.as_str(),
            row.customers,
            money(row.recent_baseline_per_day)
        );
        for y in &years {
            let uplift = row
                .past
                .iter()
                .find(|p| p.year == *y)
                .and_then(|p| p.uplift);
            let _ = write!(
                s,
                " {:>7}",
                uplift.map_or_else(|| "-".to_string(), |u| format!("{u:.2}"))
            );
        }
        match &row.forecast {
            Some(f) => {
                let _ = writeln!(
                    s,
                    " {:>12} {:>25} {:>8}  {}",
                    money(f.per_day),
                    format!("[{}, {}]", money(f.low_per_day), money(f.high_per_day)),
                    f.level_growth_per_year.map_or_else(
                        || "-".to_string(),
                        |g| format!("{:+.1}%", (g - 1.0) * 100.0)
                    ),
                    match f.method {
                        IntervalMethod::TMean95 => "95% t over years",
                        IntervalMethod::MinMax => "min-max of years",
                    }
                );
            }
            None => {
                let _ = writeln!(s, " {:>12} {:>25} {:>8}  -", "-", "-", "-");
            }
        }
    }
    let _ = writeln!(
        s,
        "\nuplift xYYYY = average per window day / average per baseline day (28 ordinary days before the window)"
    );
    let _ = writeln!(
        s,
        "forecast/day = recent baseline/day x (1 + trend/yr)^years to the window x mean uplift of every past year"
    );
    render_backtest(&mut s, r);
    let _ = writeln!(
        s,
        "\ncustomers likely to need a service{}:",
        if saved {
            format!(" (saved as segments, as of {})", r.data_as_of)
        } else {
            " (not saved: --no-save)".to_string()
        }
    );
    for n in &r.needs {
        let _ = writeln!(s, "  {:<45} {:>8}  {}", n.code, n.size, n.name);
    }
    let _ = write!(s, "card-limit need decided on: {}", r.card_limit_basis);
    s
}

/// The backtest: each past holiday forecast a year ahead from the years
/// before it, against what happened (all customers).
fn render_backtest(s: &mut String, r: &HolidayDemandReport) {
    let percent =
        |x: Option<f64>| x.map_or_else(|| "-".to_string(), |v| format!("{:.1}%", v * 100.0));
    if r.backtest.points.is_empty() {
        let _ = writeln!(
            s,
            "\nbacktest: fewer than two past years measured, nothing to backtest"
        );
        return;
    }
    let _ = writeln!(
        s,
        "\nbacktest (all customers; each past holiday forecast a year ahead from the years before it):"
    );
    let _ = writeln!(
        s,
        "  {:<10} {:>6} {:<16} {:>12} {:>12} {:>25} {:>8} {:>10}",
        "group",
        "year",
        "from years",
        "actual/day",
        "forecast/day",
        "interval",
        "error",
        "no trend"
    );
    for p in &r.backtest.points {
        let from: Vec<String> = p.from_years.iter().map(i32::to_string).collect();
        let _ = writeln!(
            s,
            "  {:<10} {:>6} {:<16} {:>12} {:>12} {:>25} {:>8} {:>10}",
            p.group.as_str(),
            p.year,
            truncate(&from.join(","), 16),
            money(p.actual_per_day),
            money(p.forecast_per_day),
            format!("[{}, {}]", money(p.low_per_day), money(p.high_per_day)),
            format!("{:+.1}%", p.error * 100.0),
            format!("{:+.1}%", p.flat_error * 100.0),
        );
    }
    for b in &r.backtest.summary {
        let _ = writeln!(
            s,
            "  {:<10} mean absolute error {} over {} year(s) (without the trend {}); actual inside the interval {}",
            b.group.as_str(),
            percent(b.mape),
            b.points,
            percent(b.flat_mape),
            percent(b.coverage),
        );
    }
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(width.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}
