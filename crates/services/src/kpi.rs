//! The KPI dashboard over the store (docs/PRODUCT.md C13): every KPI of
//! `rapport_analytics::kpi` for the viewer's scope with its configured
//! target, a monthly trend, and a view by segment, branch or RM with CSV
//! export. `rapport kpi`, `GET /api/v1/kpis` and the `/kpis` page call
//! [`dashboard`].

use anyhow::{bail, Context, Result};
use chrono::{Duration, NaiveDate};
use rapport_analytics::kpi::{figure, meets, months, ConsentFact, CustomerFacts, Kpi};
use rapport_store::{Scope, Store};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// How a view groups customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewBy {
    Segment,
    Branch,
    Rm,
}

impl ViewBy {
    pub fn parse(s: &str) -> Option<ViewBy> {
        match s {
            "segment" => Some(ViewBy::Segment),
            "branch" => Some(ViewBy::Branch),
            "rm" => Some(ViewBy::Rm),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ViewBy::Segment => "segment",
            ViewBy::Branch => "branch",
            ViewBy::Rm => "rm",
        }
    }
}

/// One KPI tile: the value over the window, its target and its trend.
#[derive(Debug, Clone, Serialize)]
pub struct Tile {
    pub kpi: Kpi,
    pub label_en: &'static str,
    pub label_zh: &'static str,
    pub value: Option<f64>,
    pub numerator: f64,
    pub denominator: f64,
    pub target: f64,
    pub higher_is_better: bool,
    pub meets_target: Option<bool>,
    /// (month, value) oldest first.
    pub trend: Vec<(String, Option<f64>)>,
}

/// One row of a view: a group and each KPI's value over the window.
#[derive(Debug, Clone, Serialize)]
pub struct ViewRow {
    pub group: String,
    pub customers: usize,
    pub values: Vec<Option<f64>>,
}

/// The dashboard.
#[derive(Debug, Clone, Serialize)]
pub struct KpiDashboard {
    /// The last day of data the figures are computed to.
    pub end: NaiveDate,
    pub start: NaiveDate,
    pub customers: usize,
    pub tiles: Vec<Tile>,
    pub view: Option<ViewBy>,
    pub kpis: Vec<Kpi>,
    pub rows: Vec<ViewRow>,
}

/// The facts of every customer with their groups.
pub struct Facts {
    pub facts: Vec<CustomerFacts>,
    branch_id: Vec<Option<i64>>,
    rm_id: Vec<Option<i64>>,
    branch: Vec<Option<String>>,
    rm: Vec<Option<String>>,
    segments: Vec<Vec<String>>,
}

/// Reads everything the KPIs need, once.
pub async fn load(store: &Store) -> Result<Facts> {
    let rows = store.kpi_rows().await?;
    let index: HashMap<i64, usize> = rows
        .customers
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    let n = rows.customers.len();
    let mut facts: Vec<CustomerFacts> = rows
        .customers
        .iter()
        .map(|c| CustomerFacts {
            customer_id: c.id,
            referred: c.referred,
            ..CustomerFacts::default()
        })
        .collect();
    let mut segments = vec![Vec::new(); n];
    for (c, code) in rows.segments {
        if let Some(&i) = index.get(&c) {
            segments[i].push(code);
        }
    }
    for (c, r) in rows.consents {
        if let Some(&i) = index.get(&c) {
            facts[i].consents.push(ConsentFact {
                channel: r.channel,
                purpose: r.purpose,
                granted: r.granted,
                recorded_on: r.recorded_on,
                revoked_on: r.revoked_on,
            });
        }
    }
    for (c, _) in rows.flags {
        if let Some(&i) = index.get(&c) {
            facts[i].flagged = true;
        }
    }
    for (c, o, cl) in rows.accounts {
        if let Some(&i) = index.get(&c) {
            let f = &mut facts[i];
            f.accounts.push((o, cl));
            if let Some(o) = o {
                f.joined_on = Some(f.joined_on.map_or(o, |j| j.min(o)));
            }
        }
    }
    for (c, o, cl) in rows.holdings {
        if let Some(&i) = index.get(&c) {
            facts[i].holdings.push((o, cl));
        }
    }
    for (c, d, s, scale) in rows.csat {
        if let Some(&i) = index.get(&c) {
            facts[i].csat.push((d, s, scale));
        }
    }
    for (c, o, r) in rows.cases {
        if let Some(&i) = index.get(&c) {
            facts[i].cases.push((o, r));
        }
    }
    Ok(Facts {
        facts,
        branch_id: rows.customers.iter().map(|c| c.branch_id).collect(),
        rm_id: rows.customers.iter().map(|c| c.rm_id).collect(),
        branch: rows.customers.iter().map(|c| c.branch.clone()).collect(),
        rm: rows.customers.iter().map(|c| c.rm.clone()).collect(),
        segments,
    })
}

impl Facts {
    fn in_scope(&self, i: usize, scope: &Scope) -> bool {
        match scope {
            Scope::All => true,
            Scope::Branch(b) => self.branch_id[i] == Some(*b),
            Scope::Rm(u) => self.rm_id[i] == Some(*u),
            Scope::Nothing => false,
        }
    }
}

/// The dashboard for `scope` up to `end` (the last day of data), with a
/// `window_days` window for the tiles and views and `trend_months` months
/// of trend.
#[allow(clippy::too_many_arguments)]
pub fn dashboard(
    facts: &Facts,
    scope: &Scope,
    targets: &BTreeMap<String, f64>,
    end: NaiveDate,
    window_days: i64,
    trend_months: usize,
    view: Option<ViewBy>,
) -> KpiDashboard {
    let start = end - Duration::days(window_days.max(1) - 1);
    let idx: Vec<usize> = (0..facts.facts.len())
        .filter(|&i| facts.in_scope(i, scope))
        .collect();
    let group: Vec<&CustomerFacts> = idx.iter().map(|&i| &facts.facts[i]).collect();
    let trend_windows = months(end, trend_months);
    let tiles = Kpi::ALL
        .iter()
        .map(|&k| {
            let f = figure(k, &group, start, end);
            let target = targets.get(k.as_str()).copied().unwrap_or(0.0);
            Tile {
                kpi: k,
                label_en: k.label_en(),
                label_zh: k.label_zh(),
                value: f.value,
                numerator: f.numerator,
                denominator: f.denominator,
                target,
                higher_is_better: k.higher_is_better(),
                meets_target: f.value.map(|v| meets(k, v, target)),
                trend: trend_windows
                    .iter()
                    .map(|(s, e)| {
                        (
                            s.format("%Y-%m").to_string(),
                            figure(k, &group, *s, *e).value,
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    let mut rows = Vec::new();
    if let Some(by) = view {
        let mut groups: BTreeMap<String, Vec<&CustomerFacts>> = BTreeMap::new();
        for &i in &idx {
            let f = &facts.facts[i];
            match by {
                ViewBy::Segment => {
                    for s in &facts.segments[i] {
                        groups.entry(s.clone()).or_default().push(f);
                    }
                }
                ViewBy::Branch => groups
                    .entry(facts.branch[i].clone().unwrap_or_else(|| "(none)".into()))
                    .or_default()
                    .push(f),
                ViewBy::Rm => groups
                    .entry(facts.rm[i].clone().unwrap_or_else(|| "(unassigned)".into()))
                    .or_default()
                    .push(f),
            }
        }
        rows = groups
            .into_iter()
            .map(|(g, members)| ViewRow {
                customers: members.len(),
                values: Kpi::ALL
                    .iter()
                    .map(|&k| figure(k, &members, start, end).value)
                    .collect(),
                group: g,
            })
            .collect();
    }
    KpiDashboard {
        end,
        start,
        customers: idx.len(),
        tiles,
        view,
        kpis: Kpi::ALL.to_vec(),
        rows,
    }
}

/// The view as CSV: group, customers, one column per KPI (empty when no data).
/// Meant for spreadsheets: every cell goes through
/// [`rapport_domain::text::spreadsheet_record`] (a group such as a branch
/// code can come from an imported file).
pub fn view_csv(d: &KpiDashboard) -> Result<String> {
    use rapport_domain::text::spreadsheet_record;
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head = vec![
        d.view.map_or("group", |v| v.as_str()).to_string(),
        "customers".to_string(),
    ];
    head.extend(d.kpis.iter().map(|k| k.as_str().to_string()));
    w.write_record(spreadsheet_record(&head))?;
    for r in &d.rows {
        let mut rec = vec![r.group.clone(), r.customers.to_string()];
        rec.extend(
            r.values
                .iter()
                .map(|v| v.map(|x| format!("{x:.4}")).unwrap_or_default()),
        );
        w.write_record(spreadsheet_record(&rec))?;
    }
    String::from_utf8(w.into_inner().context("writing the CSV")?).context("CSV text")
}

/// The last day of data: the day before the scoring as-of date.
pub async fn default_end(store: &Store) -> Result<NaiveDate> {
    let as_of = crate::scoring::resolve_as_of(store, None).await?;
    Ok(as_of - Duration::days(1))
}

/// Parses `--view`.
pub fn parse_view(v: Option<&str>) -> Result<Option<ViewBy>> {
    match v {
        None | Some("") => Ok(None),
        Some(s) => match ViewBy::parse(s) {
            Some(v) => Ok(Some(v)),
            None => bail!("view {s:?}: segment, branch or rm"),
        },
    }
}
