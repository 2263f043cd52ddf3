//! The KPI view as CSV (`/kpis.csv`, `rapport kpi --csv`) starts no formula
//! in a spreadsheet (issue 16, finding 11): a group whose name begins with
//! `=`, `@`, `+`, `-` (not a number), a tab or a carriage return is quoted
//! with `'`; figures such as `-12.5` stay numbers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use rapport_analytics::kpi::Kpi;
use rapport_services::kpi::{view_csv, KpiDashboard, ViewBy, ViewRow};

#[test]
fn kpi_csv_cells_never_start_a_formula() {
    let day = NaiveDate::from_ymd_opt(2025, 1, 31).unwrap();
    let groups = [
        "=HYPERLINK(\"http://evil.example/\",\"x\")",
        "@SUM(A1:A9)",
        "+cmd|' /C calc'!A0",
        "-x",
        "\t=1+1",
        "\r=1+1",
        "BJ01",
    ];
    let d = KpiDashboard {
        end: day,
        start: day,
        customers: 7,
        tiles: Vec::new(),
        view: Some(ViewBy::Branch),
        kpis: vec![Kpi::ChurnRate],
        rows: groups
            .iter()
            .map(|g| ViewRow {
                group: g.to_string(),
                customers: 1,
                values: vec![Some(-12.5)],
            })
            .collect(),
    };
    let text = view_csv(&d).unwrap();
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let cells: Vec<(String, String)> = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].to_string(), rec[2].to_string())
        })
        .collect();
    let want: Vec<(String, String)> = groups
        .iter()
        .map(|g| {
            let g = if g.starts_with(['=', '@', '+', '-', '\t', '\r']) {
                format!("'{g}")
            } else {
                g.to_string()
            };
            (g, "-12.5000".to_string())
        })
        .collect();
    assert_eq!(cells, want, "{text}");
}
