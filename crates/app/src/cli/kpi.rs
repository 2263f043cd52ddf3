//! `rapport kpi`: the KPI report on the command line (tiles with target
//! and trend, a view by segment, branch or RM, CSV export), the same
//! `rapport_services::kpi::report` the dashboard and `/kpis` read.

use crate::output::emit;
use anyhow::{Context, Result};
use clap::Args;
use rapport_services::access::Actor;
use rapport_services::config::Config;
use rapport_services::import::open;
use rapport_services::kpi::{parse_view, report, view_csv};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct KpiArgs {
    /// The last day of data to count (default: the day before the scoring as-of date).
    #[arg(long)]
    pub end: Option<String>,
    /// Also a view by segment, branch or rm.
    #[arg(long)]
    pub view: Option<String>,
    /// Write the view as CSV to this file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

fn pct(v: Option<f64>, share: bool) -> String {
    match v {
        None => "no data".into(),
        Some(x) if share => format!("{:.1} %", 100.0 * x),
        Some(x) => format!("{x:.2}"),
    }
}

pub async fn run(cfg: &Config, json: bool, a: KpiArgs) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let result = async {
        let end = match &a.end {
            Some(s) => Some(
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .with_context(|| format!("--end {s:?}: expected YYYY-MM-DD"))?,
            ),
            None => None,
        };
        let view = parse_view(a.view.as_deref())?;
        let services = rapport_services::Services::build(store.clone(), cfg.clone())?;
        // The whole bank, as an operator's report (no member of staff's scope).
        let d = report(&services, &Actor::system("cli"), view, end).await?;
        if let Some(path) = &a.csv {
            let csv = view_csv(&d)?;
            // Mode 0600 like every file Rapport exports.
            rapport_store::create_private_file(path)
                .and_then(|mut f| std::io::Write::write_all(&mut f, csv.as_bytes()))
                .with_context(|| format!("writing {}", path.display()))?;
        }
        emit(json, &serde_json::json!(d), || {
            let mut s = format!(
                "KPIs for {} customers, {} to {}\n",
                d.customers, d.start, d.end
            );
            for t in &d.tiles {
                let share = t.kpi.is_share();
                let trend: Vec<String> = t
                    .trend
                    .iter()
                    .map(|(_, v)| {
                        v.map_or("-".into(), |x| {
                            if share {
                                format!("{:.0}", 100.0 * x)
                            } else {
                                format!("{x:.1}")
                            }
                        })
                    })
                    .collect();
                let _ = writeln!(
                    s,
                    "{:<30} {:>10}  target {:>8}  {}  trend {}",
                    format!("{} {}", t.label_zh, t.label_en),
                    pct(t.value, share),
                    t.target.map_or("none".into(), |x| pct(Some(x), share)),
                    match t.meets_target {
                        Some(true) => "met",
                        Some(false) => "MISSED",
                        None => "-",
                    },
                    trend.join(" ")
                );
            }
            if let Some(v) = d.view {
                let _ = writeln!(s, "\nby {}:", v.as_str());
                for r in &d.rows {
                    let vals: Vec<String> = r
                        .values
                        .iter()
                        .zip(&d.kpis)
                        .map(|(v, k)| pct(*v, k.is_share()))
                        .collect();
                    let _ = writeln!(
                        s,
                        "{:<28} {:>6}  {}",
                        r.group,
                        r.customers,
                        vals.join(" | ")
                    );
                }
            }
            s
        })
    }
    .await;
    store.close().await;
    result
}
