//! The holiday calendar (official dates, merges, make-up days, user files)
//! and the holiday demand analysis on a generated bank, which plants National
//! Day seasonality: on SQLite always, and on PostgreSQL too (same report)
//! when `RAPPORT_TEST_PG` names a server URL.

use chrono::{Datelike, NaiveDate, Weekday};
use rapport_analytics::holiday::demand::NEED_SEGMENT_KIND;
use rapport_analytics::holiday::{
    analyse_holiday_demand, CategoryGroup, HolidayCalendar, HolidayCalendarError, HolidayCode,
    HolidayDemandOptions, HolidayDemandReport, IntervalMethod,
};
use rapport_ingest::synth::{generate, GenConfig};
use rapport_ingest::{import_dir, ImportOptions};
use rapport_store::Store;
use rapport_testkit::TestDb;
use std::path::Path;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn d(y: i32, m: u32, day: u32) -> Result<NaiveDate, Box<dyn std::error::Error>> {
    NaiveDate::from_ymd_opt(y, m, day).ok_or_else(|| format!("bad date {y}-{m}-{day}").into())
}

// ----- calendar -------------------------------------------------------------------

#[test]
fn every_year_from_2015_to_2027_has_all_seven_holidays() -> TestResult {
    let calendar = HolidayCalendar::embedded()?;
    for year in 2015..=2027 {
        for code in HolidayCode::ALL {
            let p = calendar
                .period(code, year)
                .ok_or_else(|| format!("{code} {year} missing"))?;
            assert!(
                p.contains(p.festival),
                "{code} {year}: the festival is a day off"
            );
            assert!(p.days_off() >= 1 && p.days_off() <= 9, "{code} {year}");
            assert_eq!(p.provisional, year == 2027, "{code} {year} provisional");
        }
    }
    Ok(())
}

#[test]
fn spring_festival_falls_on_the_lunar_new_year_and_its_break_covers_it() -> TestResult {
    let calendar = HolidayCalendar::embedded()?;
    let lunar_new_year = [
        (2015, 2, 19),
        (2016, 2, 8),
        (2017, 1, 28),
        (2018, 2, 16),
        (2019, 2, 5),
        (2020, 1, 25),
        (2021, 2, 12),
        (2022, 2, 1),
        (2023, 1, 22),
        (2024, 2, 10),
        (2025, 1, 29),
        (2026, 2, 17),
        (2027, 2, 6),
    ];
    for (y, m, day) in lunar_new_year {
        let p = calendar
            .period(HolidayCode::SpringFestival, y)
            .ok_or("missing")?;
        assert_eq!(p.festival, d(y, m, day)?, "{y}");
        assert!(p.contains(p.festival), "{y}: break covers the first day");
    }
    // New Year's Eve is off every year except 2024 (employers were only encouraged).
    let eve_2024 = d(2024, 2, 9)?;
    assert!(!calendar.is_day_off(eve_2024));
    assert!(calendar.is_day_off(d(2025, 1, 28)?));
    assert!(calendar.is_day_off(d(2026, 2, 16)?));
    Ok(())
}

#[test]
fn well_known_periods_are_the_announced_ones() -> TestResult {
    let calendar = HolidayCalendar::embedded()?;
    let check = |code, year, first: NaiveDate, last: NaiveDate| -> TestResult {
        let p = calendar
            .period(code, year)
            .ok_or_else(|| format!("{code} {year}"))?;
        assert_eq!((p.first_off, p.last_off), (first, last), "{code} {year}");
        Ok(())
    };
    check(
        HolidayCode::NationalDay,
        2026,
        d(2026, 10, 1)?,
        d(2026, 10, 7)?,
    )?;
    check(
        HolidayCode::SpringFestival,
        2026,
        d(2026, 2, 15)?,
        d(2026, 2, 23)?,
    )?;
    check(
        HolidayCode::NationalDay,
        2023,
        d(2023, 9, 29)?,
        d(2023, 10, 6)?,
    )?;
    check(
        HolidayCode::MidAutumn,
        2015,
        d(2015, 9, 26)?,
        d(2015, 9, 27)?,
    )?;
    check(
        HolidayCode::NationalDay,
        2015,
        d(2015, 10, 1)?,
        d(2015, 10, 7)?,
    )?;
    check(HolidayCode::LabourDay, 2019, d(2019, 5, 1)?, d(2019, 5, 4)?)?;
    check(
        HolidayCode::SpringFestival,
        2020,
        d(2020, 1, 24)?,
        d(2020, 1, 30)?,
    )?;
    check(HolidayCode::Qingming, 2023, d(2023, 4, 5)?, d(2023, 4, 5)?)?;
    check(HolidayCode::NewYear, 2017, d(2016, 12, 31)?, d(2017, 1, 2)?)?;
    let nd_2026 = calendar
        .period(HolidayCode::NationalDay, 2026)
        .ok_or("missing")?;
    assert_eq!(nd_2026.make_up, [d(2026, 9, 20)?, d(2026, 10, 10)?]);
    Ok(())
}

#[test]
fn national_day_starts_the_first_of_october_unless_merged_with_mid_autumn() -> TestResult {
    let calendar = HolidayCalendar::embedded()?;
    for year in 2015..=2027 {
        let p = calendar
            .period(HolidayCode::NationalDay, year)
            .ok_or("missing")?;
        assert_eq!(p.festival, d(year, 10, 1)?);
        assert!(p.contains(d(year, 10, 1)?), "{year}");
        if p.first_off != d(year, 10, 1)? {
            assert_eq!(p.shared_with, Some(HolidayCode::MidAutumn), "{year}");
        }
    }
    // Merged breaks: 2017, 2020, 2023, 2025 (not 2015, when they were separate).
    for year in [2017, 2020, 2023, 2025] {
        let nd = calendar
            .period(HolidayCode::NationalDay, year)
            .ok_or("nd")?;
        let ma = calendar.period(HolidayCode::MidAutumn, year).ok_or("ma")?;
        assert_eq!(nd.shared_with, Some(HolidayCode::MidAutumn), "{year}");
        assert_eq!((ma.first_off, ma.last_off), (nd.first_off, nd.last_off));
        assert!(ma.contains(ma.festival), "{year}");
    }
    let ma_2015 = calendar.period(HolidayCode::MidAutumn, 2015).ok_or("ma")?;
    assert_eq!(ma_2015.shared_with, None);
    Ok(())
}

#[test]
fn make_up_working_days_are_weekend_days_and_periods_do_not_overlap() -> TestResult {
    let calendar = HolidayCalendar::embedded()?;
    let periods = calendar.periods();
    for p in periods {
        for m in &p.make_up {
            assert!(
                matches!(m.weekday(), Weekday::Sat | Weekday::Sun),
                "{} {}: make-up day {m} is a {:?}",
                p.code,
                p.year,
                m.weekday()
            );
            assert!(!calendar.is_day_off(*m), "{m} is both off and worked");
            assert!(
                (*m - p.first_off).num_days().abs() <= 21,
                "{m} far from {}",
                p.code
            );
        }
        for q in periods {
            let overlap = p.first_off <= q.last_off && q.first_off <= p.last_off;
            if overlap && (p.code, p.year) != (q.code, q.year) {
                assert_eq!(
                    p.shared_with,
                    Some(q.code),
                    "{} {} overlaps {}",
                    p.code,
                    p.year,
                    q.code
                );
            }
        }
    }
    Ok(())
}

#[test]
fn a_user_calendar_replaces_the_embedded_one_and_bad_files_are_refused() -> TestResult {
    let one = r#"
[[holiday]]
code = "national_day"
year = 2030
festival = "2030-10-01"
first_off = "2030-10-01"
last_off = "2030-10-07"
make_up = ["2030-09-29"]
provisional = true
"#;
    let calendar = HolidayCalendar::from_toml_str(one)?;
    assert_eq!(calendar.periods().len(), 1);
    assert!(calendar.period(HolidayCode::NationalDay, 2026).is_none());
    assert!(calendar.is_day_off(d(2030, 10, 3)?));
    assert!(calendar.is_make_up_day(d(2030, 9, 29)?));

    let inside = one.replace("2030-09-29", "2030-10-02");
    assert!(matches!(
        HolidayCalendar::from_toml_str(&inside),
        Err(HolidayCalendarError::Invalid { .. })
    ));
    let twice = format!("{one}{one}");
    assert!(matches!(
        HolidayCalendar::from_toml_str(&twice),
        Err(HolidayCalendarError::Invalid { .. })
    ));
    let unknown = one.replace("national_day", "golden_week");
    assert!(matches!(
        HolidayCalendar::from_toml_str(&unknown),
        Err(HolidayCalendarError::Toml(_))
    ));
    assert!(matches!(
        HolidayCode::parse("golden_week"),
        Err(HolidayCalendarError::UnknownHoliday(_))
    ));
    assert_eq!(
        HolidayCode::parse("national_day")?,
        HolidayCode::NationalDay
    );
    Ok(())
}

// ----- demand on a generated bank ------------------------------------------------------

async fn import(store: &Store, dir: &Path) -> TestResult {
    let report = import_dir(store, dir, "synth", &ImportOptions::default()).await?;
    assert!(report.reconciles(), "{report:?}");
    Ok(())
}

fn row<'a>(
    report: &'a HolidayDemandReport,
    segment: &str,
    group: CategoryGroup,
) -> Result<&'a rapport_analytics::holiday::DemandRow, Box<dyn std::error::Error>> {
    report
        .rows
        .iter()
        .find(|r| r.segment == segment && r.group == group)
        .ok_or_else(|| format!("no row {segment} {group:?}").into())
}

#[tokio::test]
async fn national_day_uplift_is_found_and_forecast_on_a_generated_bank() -> TestResult {
    let db = TestDb::sqlite().await;
    let bank = db.path("bank");
    std::fs::create_dir_all(&bank)?;
    let cfg = GenConfig {
        customers: 150,
        start: d(2022, 8, 1)?,
        end: d(2025, 10, 20)?,
        ..GenConfig::default()
    };
    generate(&cfg, &bank, &|_| {})?;
    let store = db.store.clone();
    import(&store, &bank).await?;
    let calendar = HolidayCalendar::embedded()?;

    // A stored segment (the customers with an even id) before the holiday;
    // need segments of an earlier run are not measured as segments.
    let even = store
        .upsert_segment("test:even", "rule", "Even ids", "id % 2 = 0", "")
        .await?;
    let ids: Vec<i64> = (1..=150).filter(|i| i % 2 == 0).collect();
    store
        .replace_segment_membership(even, d(2025, 9, 1)?, &ids)
        .await?;
    let earlier_need = store
        .upsert_segment(
            "holiday:national_day:2025:travel",
            NEED_SEGMENT_KIND,
            "old",
            "old",
            "",
        )
        .await?;
    store
        .replace_segment_membership(earlier_need, d(2025, 9, 15)?, &[1, 2])
        .await?;

    // Forecast 2025 from 2022–2024.
    let options = HolidayDemandOptions::new(HolidayCode::NationalDay, 2025);
    let report = analyse_holiday_demand(&store, &calendar, &options).await?;
    assert_eq!(report.data_as_of, cfg.end);
    assert_eq!(report.membership_as_of, Some(d(2025, 9, 1)?));
    let years: Vec<i32> = report.past_years.iter().map(|y| y.year).collect();
    assert_eq!(years, [2022, 2023, 2024]);
    assert_eq!(report.window.first, d(2025, 9, 28)?);
    assert_eq!(report.window.last, d(2025, 10, 8)?);
    assert_eq!(report.recent_baseline.days.len(), 28);
    assert!(report.recent_baseline.last < report.window.first);

    let spending = row(&report, "all", CategoryGroup::Spending)?;
    assert_eq!(spending.past.len(), 3);
    for y in &spending.past {
        let uplift = y.uplift.ok_or("no uplift")?;
        assert!(uplift > 1.1, "{}: spending uplift {uplift}", y.year);
        assert!(uplift < 4.0, "{}: spending uplift {uplift}", y.year);
    }
    let f = spending.forecast.as_ref().ok_or("no forecast")?;
    assert_eq!(f.method, IntervalMethod::TMean95);
    assert_eq!(f.years, 3);
    assert!(f.mean_uplift > 1.1);
    assert!(f.low_per_day <= f.per_day && f.per_day <= f.high_per_day);
    assert!(
        (f.per_day - spending.recent_baseline_per_day * f.level_factor * f.mean_uplift).abs()
            < 1e-6
    );
    // Every past year measured is used, with the level's trend carried to
    // the forecast year, and each past holiday is backtested from the years
    // before it.
    assert!(f.years_ahead > 0.0 && f.years_ahead < 1.0);
    let expected_factor = f
        .level_growth_per_year
        .map_or(1.0, |g| g.powf(f.years_ahead));
    assert!((f.level_factor - expected_factor).abs() < 1e-9);
    let points: Vec<i32> = report
        .backtest
        .points
        .iter()
        .filter(|p| p.group == CategoryGroup::Spending)
        .map(|p| p.year)
        .collect();
    assert_eq!(points, [2023, 2024]);
    let summary = report
        .backtest
        .summary
        .iter()
        .find(|b| b.group == CategoryGroup::Spending)
        .ok_or("no spending backtest")?;
    assert_eq!(summary.points, 2);
    let mape = summary.mape.ok_or("no error")?;
    assert!(
        mape.is_finite() && mape < 0.5,
        "spending backtest error {mape}"
    );

    // The forecast against what happened: 2025's window measured as a past
    // year of 2026 lies near the forecast interval.
    let next = analyse_holiday_demand(
        &store,
        &calendar,
        &HolidayDemandOptions::new(HolidayCode::NationalDay, 2026),
    )
    .await?;
    let actual = row(&next, "all", CategoryGroup::Spending)?
        .past
        .iter()
        .find(|y| y.year == 2025)
        .ok_or("2025 not measured")?
        .window_per_day;
    eprintln!(
        "spending uplifts {:?}; forecast {:.0}/day [{:.0}, {:.0}]; 2025 actual {actual:.0}; needs {:?}",
        spending.past.iter().map(|y| y.uplift).collect::<Vec<_>>(),
        f.per_day,
        f.low_per_day,
        f.high_per_day,
        report.needs.iter().map(|n| (n.code.as_str(), n.size)).collect::<Vec<_>>()
    );
    assert!(
        actual >= f.low_per_day * 0.8 && actual <= f.high_per_day * 1.25,
        "2025 actual {actual:.0}/day vs forecast {:.0} [{:.0}, {:.0}]",
        f.per_day,
        f.low_per_day,
        f.high_per_day
    );

    // The stored segment is measured on its members only.
    let even_row = row(&report, "test:even", CategoryGroup::Spending)?;
    assert_eq!(even_row.customers, ids.len());
    assert!(even_row.recent_baseline_per_day > 0.0);
    assert!(even_row.recent_baseline_per_day < spending.recent_baseline_per_day);
    assert!(report
        .rows
        .iter()
        .all(|r| !r.segment.starts_with("holiday:")));

    // Need segments: codes, definitions, travellers found (National Day trips).
    let codes: Vec<&str> = report.needs.iter().map(|n| n.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "holiday:national_day:2025:liquidity",
            "holiday:national_day:2025:card_limit",
            "holiday:national_day:2025:travel"
        ]
    );
    for need in &report.needs {
        assert_eq!(need.size, need.members.len());
        assert!(!need.definition.is_empty());
        assert!(need.members.windows(2).all(|w| w[0] < w[1]));
    }
    let travel = report.needs.get(2).ok_or("travel")?;
    assert!(travel.size > 10, "travellers: {}", travel.size);
    assert!(travel.size < 150);

    // The same report on PostgreSQL.
    if let Some(pg_db) = TestDb::postgres("holiday").await {
        let outcome = async {
            let pg = pg_db.store.clone();
            import(&pg, &bank).await?;
            let even = pg
                .upsert_segment("test:even", "rule", "Even ids", "id % 2 = 0", "")
                .await?;
            pg.replace_segment_membership(even, d(2025, 9, 1)?, &ids)
                .await?;
            let on_pg = analyse_holiday_demand(&pg, &calendar, &options).await?;
            pg.close().await;
            assert_eq!(on_pg.past_years, report.past_years);
            assert_eq!(on_pg.needs, report.needs);
            for (a, b) in on_pg.rows.iter().zip(&report.rows) {
                assert_eq!(
                    (&a.segment, a.group, a.customers),
                    (&b.segment, b.group, b.customers)
                );
                assert!((a.recent_baseline_per_day - b.recent_baseline_per_day).abs() < 1e-6);
                assert_eq!(a.past.len(), b.past.len());
            }
            Ok::<(), Box<dyn std::error::Error>>(())
        }
        .await;
        pg_db.drop().await;
        outcome?;
    }
    store.close().await;
    db.drop().await;
    Ok(())
}

#[test]
fn the_forecast_interval_is_a_t_interval_from_three_years_and_min_max_below() -> TestResult {
    use rapport_analytics::holiday::demand::forecast;
    assert!(forecast(&[], 100.0).is_none());

    let one = forecast(&[1.5], 100.0).ok_or("one year")?;
    assert_eq!(one.method, IntervalMethod::MinMax);
    assert!((one.per_day - 150.0).abs() < 1e-9);
    assert!((one.low_per_day - 150.0).abs() < 1e-9 && (one.high_per_day - 150.0).abs() < 1e-9);

    let two = forecast(&[1.2, 1.8], 100.0).ok_or("two years")?;
    assert_eq!(two.method, IntervalMethod::MinMax);
    assert!((two.per_day - 150.0).abs() < 1e-9);
    assert!((two.low_per_day - 120.0).abs() < 1e-9 && (two.high_per_day - 180.0).abs() < 1e-9);

    // Mean 1.5, s = 0.3, n = 3: half width 4.303 * 0.3 / sqrt(3).
    let three = forecast(&[1.2, 1.5, 1.8], 100.0).ok_or("three years")?;
    assert_eq!(three.method, IntervalMethod::TMean95);
    let half = 4.303 * 0.3 / 3f64.sqrt();
    assert!((three.uplift_low - (1.5 - half)).abs() < 1e-9, "{three:?}");
    assert!((three.uplift_high - (1.5 + half)).abs() < 1e-9, "{three:?}");
    assert!((three.high_per_day - 100.0 * (1.5 + half)).abs() < 1e-6);
    Ok(())
}

#[test]
fn the_level_trend_carries_the_forecast_to_its_year() -> TestResult {
    use rapport_analytics::holiday::demand::{backtest_points, forecast, level_growth};
    use rapport_analytics::holiday::YearUplift;
    // A level growing 10 % a year, every year.
    let growth = level_growth(&[(2021, 100.0), (2022, 110.0), (2023, 121.0)]).ok_or("growth")?;
    assert!((growth - 1.1).abs() < 1e-9, "{growth}");
    assert!(level_growth(&[(2023, 100.0)]).is_none());
    // Two years cannot tell a trend from noise; nor can noisy years.
    assert!(level_growth(&[(2022, 100.0), (2023, 110.0)]).is_none());
    assert!(level_growth(&[(2021, 100.0), (2022, 130.0), (2023, 105.0), (2024, 125.0)]).is_none());
    assert!(level_growth(&[(2021, 0.0), (2022, 100.0), (2023, 110.0)]).is_none());
    // Two years ahead at 10 %: 1.21 times the recent level.
    let f = forecast(&[2.0], 100.0)
        .ok_or("forecast")?
        .projected(Some(growth), 2.0);
    assert!((f.level_factor - 1.21).abs() < 1e-9);
    assert!((f.per_day - 242.0).abs() < 1e-6);
    assert!(f.low_per_day <= f.per_day && f.per_day <= f.high_per_day);
    // A backtest of steady growth and a steady uplift: the trend is exact,
    // the flat level is not.
    let past: Vec<YearUplift> = (0..4)
        .map(|i| {
            let base = 100.0 * 1.1f64.powi(i);
            YearUplift {
                year: 2020 + i,
                baseline_per_day: base,
                window_per_day: base * 1.5,
                uplift: Some(1.5),
            }
        })
        .collect();
    let points = backtest_points(CategoryGroup::Spending, &past);
    let years: Vec<i32> = points.iter().map(|p| p.year).collect();
    assert_eq!(years, [2021, 2022, 2023]);
    // 2021 and 2022 rest on one and two years: no trend yet, 10 % short.
    for p in &points[..2] {
        assert!((p.error + 1.0 / 11.0).abs() < 1e-9, "{p:?}");
    }
    // 2023 rests on three years of steady growth: the trend is exact, the
    // flat level is not.
    assert!(points[2].error.abs() < 1e-9, "{:?}", points[2]);
    assert!(points[2].flat_error < -0.05, "{:?}", points[2]);
    Ok(())
}
