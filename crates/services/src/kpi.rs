//! The KPIs over the store (docs/PRODUCT.md C13, docs/KPIS.md): every KPI of
//! `rapport_analytics::kpi` for the actor's scope with its configured
//! target, a monthly trend, and a view by segment, branch or RM with CSV
//! export. [`report`] is the one use case: the home dashboard's tiles
//! (`/` and `GET /api/v1/dashboard`), the `/kpis` page, `GET /api/v1/kpis`
//! and `rapport kpi` call it; the quality report's information accuracy
//! ([`data_quality`]) is the same figure for the whole bank.
//!
//! Reading the facts is where the SLA clock decides what was in time: a
//! case's first response and resolution on the case SLA policy's clocks
//! (`rapport_engage::sla`, the first response on 24 calendar hours unless the
//! policy chooses working hours — the tile's label then says so), an alert's
//! acknowledgement within 24 calendar hours of being raised.

use crate::access::{Actor, Permission};
use crate::cases::CaseSettings;
use crate::error::ServiceResult;
use crate::Services;
use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use rapport_analytics::kpi::{
    figure, figure_of, meets, months, response_label, AlertFact, Band, BankFacts, CaseFact,
    ConsentFact, CustomerFacts, InTime, Kpi,
};
use rapport_engage::sla::{Pause, SlaState};
use rapport_store::generation::Domain;
use rapport_store::{KpiRows, Scope, Store};
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tile {
    pub kpi: Kpi,
    pub label_en: String,
    pub label_zh: String,
    pub value: Option<f64>,
    pub numerator: f64,
    pub denominator: f64,
    /// The bank's target; `None` where it set none (the tile shows no target).
    pub target: Option<f64>,
    pub higher_is_better: bool,
    pub is_share: bool,
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
    /// What counts for the whole bank only (quarantined customer rows).
    pub bank: BankFacts,
    /// The demand-response label for the case SLA policy: (English, Chinese).
    response_label: (String, String),
    branch_id: Vec<Option<i64>>,
    rm_id: Vec<Option<i64>>,
    branch: Vec<Option<String>>,
    rm: Vec<Option<String>>,
    segments: Vec<Vec<String>>,
    /// How long these facts hold: every decision taken against "now" stays
    /// the same until then.
    pub valid: Validity,
}

/// The span of time over which facts decided at one moment stay the same:
/// from that moment until (excluded) the first instant one of them could
/// change — a running SLA clock or an alert's 24 hours falling due, a
/// recorded time still ahead of the clock becoming past. The data-dependent
/// part is kept by generation; this is the clock-dependent part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// The moment the facts were decided at (local time and UTC).
    pub from_local: NaiveDateTime,
    pub from: DateTime<Utc>,
    /// The first local instant a case decision could change, if any.
    pub until_local: Option<NaiveDateTime>,
    /// The first instant an alert decision could change, if any.
    pub until: Option<DateTime<Utc>>,
}

impl Validity {
    fn new(now_local: NaiveDateTime, now: DateTime<Utc>) -> Validity {
        Validity {
            from_local: now_local,
            from: now,
            until_local: None,
            until: None,
        }
    }
    fn local_change_at(&mut self, t: NaiveDateTime) {
        self.until_local = Some(self.until_local.map_or(t, |u| u.min(t)));
    }
    fn change_at(&mut self, t: DateTime<Utc>) {
        self.until = Some(self.until.map_or(t, |u| u.min(t)));
    }
    /// Whether decisions taken at `now` would be the same.
    pub fn holds_at(&self, now_local: NaiveDateTime, now: DateTime<Utc>) -> bool {
        self.from_local <= now_local
            && self.from <= now
            && self.until_local.is_none_or(|u| now_local < u)
            && self.until.is_none_or(|u| now < u)
    }
}

/// Whether something due `limit` after it started, done at `done`, was in
/// time at `now`.
fn in_time<T: PartialOrd + Copy>(limit: T, done: Option<T>, now: T) -> InTime {
    match done {
        Some(d) if d <= limit => InTime::Met,
        Some(_) => InTime::Missed,
        None if now > limit => InTime::Missed,
        None => InTime::Pending,
    }
}

/// Reads everything the KPIs need, once, deciding with the case SLA policy
/// `cases` which cases and alerts were answered in time at `now` (local
/// time for cases, UTC for alerts).
pub async fn load(
    store: &Store,
    cases: &CaseSettings,
    now_local: NaiveDateTime,
    now: DateTime<Utc>,
) -> Result<Facts> {
    let rows = rows(store).await?;
    facts_of(&rows, cases, now_local, now)
}

/// The rows the KPIs read, kept until an import, a scoring run or an
/// operational write (alerts, cases, consents, survey answers, RM
/// assignments…) changes them: the read is most of a KPI page's time on a
/// large bank, and none of it depends on the time of the request.
pub async fn rows(store: &Store) -> Result<std::sync::Arc<KpiRows>> {
    crate::memo::get(
        store,
        "kpi.rows",
        "",
        &[Domain::Data, Domain::Work],
        || async { Ok(store.kpi_rows().await?) },
    )
    .await
}

/// The facts of `rows`, deciding with the case SLA policy `cases` which cases
/// and alerts were answered in time at `now` (the time-dependent part, done
/// on every call).
pub fn facts_of(
    rows: &KpiRows,
    cases: &CaseSettings,
    now_local: NaiveDateTime,
    now: DateTime<Utc>,
) -> Result<Facts> {
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
            cells_valid: c.cells_present,
            ..CustomerFacts::default()
        })
        .collect();
    let mut segments = vec![Vec::new(); n];
    for (c, code) in &rows.segments {
        if let Some(&i) = index.get(c) {
            segments[i].push(code.clone());
        }
    }
    for (c, r) in &rows.consents {
        if let Some(&i) = index.get(c) {
            facts[i].consents.push(ConsentFact {
                channel: r.channel.clone(),
                purpose: r.purpose.clone(),
                granted: r.granted,
                recorded_on: r.recorded_on,
                revoked_on: r.revoked_on,
            });
        }
    }
    for &(c, n) in &rows.flagged_cells {
        if let Some(&i) = index.get(&c) {
            facts[i].cells_flagged = n;
        }
    }
    for &(c, o, cl) in &rows.accounts {
        if let Some(&i) = index.get(&c) {
            let f = &mut facts[i];
            f.accounts.push((o, cl));
            if let Some(o) = o {
                f.joined_on = Some(f.joined_on.map_or(o, |j| j.min(o)));
            }
        }
    }
    for &(c, o, cl) in &rows.holdings {
        if let Some(&i) = index.get(&c) {
            facts[i].holdings.push((o, cl));
        }
    }
    for &(c, d, s, scale) in &rows.csat {
        if let Some(&i) = index.get(&c) {
            facts[i].csat.push((d, s, scale));
        }
    }
    let mut valid = Validity::new(now_local, now);
    let mut pauses: HashMap<i64, Vec<Pause>> = HashMap::new();
    for &(case, from, to) in &rows.case_pauses {
        pauses.entry(case).or_default().push(Pause { from, to });
    }
    for c in &rows.cases {
        let Some(&i) = index.get(&c.customer_id) else {
            continue;
        };
        let severity = rapport_engage::sla::Severity::parse(&c.severity)
            .unwrap_or(rapport_engage::sla::Severity::Medium);
        let [first, res] = rapport_engage::sla::status(
            &cases.sla,
            &cases.calendar,
            severity,
            c.opened_at,
            c.first_response_at,
            c.resolved_at,
            pauses.get(&c.id).map_or(&[][..], |p| p.as_slice()),
            now_local,
        )
        .map_err(|e| anyhow::anyhow!("case {}: SLA clock: {e}", c.id))?;
        // When these two decisions could change: a recorded time still
        // ahead of `now` becoming past, a running clock falling due, an
        // open pause (its due moves with the clock) at the next minute.
        let case_pauses = pauses.get(&c.id).map_or(&[][..], |p| p.as_slice());
        let times = [c.first_response_at, c.resolved_at]
            .into_iter()
            .flatten()
            .chain(
                case_pauses
                    .iter()
                    .flat_map(|p| [Some(p.from), p.to])
                    .flatten(),
            );
        for t in times.filter(|t| *t > now_local) {
            valid.local_change_at(t);
        }
        for clock in [&first, &res] {
            let pending = !matches!(
                clock.state,
                SlaState::Met | SlaState::MetLate | SlaState::Breached
            );
            if pending {
                valid.local_change_at(clock.due);
            }
        }
        if c.resolved_at.is_none_or(|r| r > now_local) && case_pauses.iter().any(|p| p.to.is_none())
        {
            valid.local_change_at(now_local + Duration::minutes(1));
        }
        let response = match first.state {
            SlaState::Met => InTime::Met,
            SlaState::MetLate | SlaState::Breached => InTime::Missed,
            SlaState::Running | SlaState::Warning | SlaState::Paused => InTime::Pending,
        };
        let resolution = match (res.state, c.resolved_at) {
            (SlaState::Met, Some(r)) => Some((r.date(), true)),
            (SlaState::MetLate | SlaState::Breached, _) => Some((res.due.date(), false)),
            _ => None,
        };
        facts[i].cases.push(CaseFact {
            opened_on: c.opened_at.date(),
            response,
            resolution,
        });
    }
    for a in &rows.alerts {
        if let Some(&i) = index.get(&a.customer_id) {
            let limit = a.raised_at + Duration::hours(24);
            let acknowledged = in_time(limit, a.acknowledged_at, now);
            if acknowledged == InTime::Pending {
                valid.change_at(limit);
            }
            facts[i].alerts.push(AlertFact {
                raised_on: a.raised_on,
                acknowledged,
            });
        }
    }
    for (c, as_of, band) in &rows.health {
        if let (Some(&i), Some(b)) = (index.get(c), Band::parse(band)) {
            // A scoring as of D describes the data up to D − 1.
            facts[i].health.push((*as_of - Duration::days(1), b));
        }
    }
    for f in &mut facts {
        f.health.sort_by_key(|h| h.0);
    }
    let business = cases.sla.first_response_basis == rapport_engage::sla::Basis::Business;
    Ok(Facts {
        facts,
        bank: BankFacts {
            quarantined_customer_rows: rows.quarantined_customer_rows,
        },
        response_label: response_label(cases.sla.first_response_minutes, business),
        branch_id: rows.customers.iter().map(|c| c.branch_id).collect(),
        rm_id: rows.customers.iter().map(|c| c.rm_id).collect(),
        branch: rows.customers.iter().map(|c| c.branch.clone()).collect(),
        rm: rows.customers.iter().map(|c| c.rm.clone()).collect(),
        segments,
        valid,
    })
}

impl Facts {
    /// A KPI's (English, Chinese) label; the demand response's says which
    /// clock the case SLA policy's first response runs on.
    pub fn label(&self, k: Kpi) -> (String, String) {
        match k {
            Kpi::DemandResponse24h => self.response_label.clone(),
            _ => (k.label_en().to_string(), k.label_zh().to_string()),
        }
    }

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
    // What belongs to no customer counts for the whole bank only.
    let bank = match scope {
        Scope::All => facts.bank,
        _ => BankFacts::default(),
    };
    let trend_windows = months(end, trend_months);
    let tiles = Kpi::ALL
        .iter()
        .map(|&k| {
            let f = figure_of(k, &group, &bank, start, end);
            let target = targets.get(k.as_str()).copied();
            let (label_en, label_zh) = facts.label(k);
            Tile {
                kpi: k,
                label_en,
                label_zh,
                value: f.value,
                numerator: f.numerator,
                denominator: f.denominator,
                target,
                higher_is_better: k.higher_is_better(),
                is_share: k.is_share(),
                meets_target: f.value.zip(target).map(|(v, t)| meets(k, v, t)),
                trend: trend_windows
                    .iter()
                    .map(|(s, e)| {
                        (
                            s.format("%Y-%m").to_string(),
                            figure_of(k, &group, &bank, *s, *e).value,
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

/// The facts as of the services' clock and case SLA policy.
pub async fn load_now(svc: &Services) -> Result<Facts> {
    load(
        &svc.store,
        &svc.settings.cases,
        svc.clock.local(),
        svc.clock.now(),
    )
    .await
}

/// The KPIs `actor` may see (right: view KPIs; the actor's scope) over the
/// configured window ending on `end` (default: the last day of data), with a
/// view by segment, branch or RM when asked.
pub async fn report(
    svc: &Services,
    actor: &Actor,
    view: Option<ViewBy>,
    end: Option<NaiveDate>,
) -> ServiceResult<KpiDashboard> {
    actor.require(Permission::ViewKpis)?;
    let end = match end {
        Some(e) => e,
        None => default_end(&svc.store).await?,
    };
    let scope = actor.scope();
    let (d, _) = figures(svc, scope, view, end, false).await?;
    Ok(d)
}

/// A hash of what the figures depend on besides the data and the clock: the
/// KPI settings and the case SLA policy (two services over one store may
/// differ in them).
fn settings_key(svc: &Services) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{:?}{:?}", svc.cfg.kpi, svc.settings.cases).hash(&mut h);
    format!("{:x}", h.finish())
}

/// The facts at the services' clock, kept until the data changes or one of
/// the decisions taken against the clock could change ([`Validity`]): the
/// SLA clocks of a bank are mostly stopped or long breached, so the facts
/// of a page load are usually those of the previous one.
pub async fn kept_facts(svc: &Services) -> Result<std::sync::Arc<Facts>> {
    let (now_local, now) = (svc.clock.local(), svc.clock.now());
    crate::memo::get_fresh(
        &svc.store,
        "kpi.facts",
        &settings_key(svc),
        &[Domain::Data, Domain::Work],
        |f: &Facts| f.valid.holds_at(now_local, now),
        || async { load(&svc.store, &svc.settings.cases, now_local, now).await },
    )
    .await
}

/// The dashboard (and, with `trends`, the monthly trend of each group of
/// the view) of `scope`, kept until the data changes or a decision taken
/// against the services' clock could change (`crate::memo`, [`Validity`]):
/// a page load costs one small query until then.
async fn figures(
    svc: &Services,
    scope: Scope,
    view: Option<ViewBy>,
    end: NaiveDate,
    trends: bool,
) -> Result<(KpiDashboard, Vec<GroupTrend>)> {
    let (now_local, now) = (svc.clock.local(), svc.clock.now());
    let params = format!(
        "{scope:?}|{}|{end}|{trends}|{}",
        view.map_or("", ViewBy::as_str),
        settings_key(svc)
    );
    let kept = crate::memo::get_fresh(
        &svc.store,
        "kpi.figures",
        &params,
        &[Domain::Data, Domain::Work],
        |f: &(KpiDashboard, Vec<GroupTrend>, Validity)| f.2.holds_at(now_local, now),
        || async {
            let facts = kept_facts(svc).await?;
            let k = &svc.cfg.kpi;
            let d = dashboard(
                &facts,
                &scope,
                &k.targets,
                end,
                k.window_days,
                k.trend_months,
                view,
            );
            let t = if trends {
                group_trends(&facts, &scope, &d, k.trend_months)
            } else {
                Vec::new()
            };
            Ok((d, t, facts.valid))
        },
    )
    .await?;
    Ok((kept.0.clone(), kept.1.clone()))
}

/// Computes and keeps the bank-wide figures every page asks for first (the
/// home dashboard's tiles; the `/kpis` page with and without each view), for
/// the data as it stands (the refresher, `crate::warm`). Reads only.
pub async fn warm(svc: &Services) -> Result<()> {
    let end = default_end(&svc.store).await?;
    figures(svc, Scope::All, None, end, false).await?;
    for view in [
        None,
        Some(ViewBy::Segment),
        Some(ViewBy::Branch),
        Some(ViewBy::Rm),
    ] {
        figures(svc, Scope::All, view, end, true).await?;
    }
    Ok(())
}

/// One group's monthly trend of every KPI: per KPI (in `Kpi::ALL` order)
/// the value per month (the tiles' months), oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct GroupTrend {
    pub group: String,
    pub months: Vec<String>,
    pub values: Vec<Vec<Option<f64>>>,
}

/// The monthly trend of every group of `d`'s view (the same groups, the
/// same facts, the tiles' months).
pub fn group_trends(
    facts: &Facts,
    scope: &Scope,
    d: &KpiDashboard,
    trend_months: usize,
) -> Vec<GroupTrend> {
    let Some(by) = d.view else {
        return Vec::new();
    };
    let windows = months(d.end, trend_months);
    let mut groups: BTreeMap<String, Vec<&CustomerFacts>> = BTreeMap::new();
    for i in (0..facts.facts.len()).filter(|&i| facts.in_scope(i, scope)) {
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
    groups
        .into_iter()
        .map(|(group, members)| GroupTrend {
            months: windows
                .iter()
                .map(|(s, _)| s.format("%Y-%m").to_string())
                .collect(),
            values: Kpi::ALL
                .iter()
                .map(|&k| {
                    windows
                        .iter()
                        .map(|(s, e)| figure(k, &members, *s, *e).value)
                        .collect()
                })
                .collect(),
            group,
        })
        .collect()
}

/// [`report`] with the monthly trend of each group of the view (the facts
/// read once): the `/kpis` page's view by RM or segment.
pub async fn report_with_trends(
    svc: &Services,
    actor: &Actor,
    view: Option<ViewBy>,
    end: Option<NaiveDate>,
) -> ServiceResult<(KpiDashboard, Vec<GroupTrend>)> {
    actor.require(Permission::ViewKpis)?;
    let end = match end {
        Some(e) => e,
        None => default_end(&svc.store).await?,
    };
    Ok(figures(svc, actor.scope(), view, end, true).await?)
}

/// Information accuracy as the data-quality report shows it: the KPI's
/// figure for the whole bank on the last day of data (the head-office tile).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InformationAccuracy {
    /// The customer fields counted.
    pub fields: Vec<String>,
    /// Cells of those fields stored valid.
    pub valid_cells: i64,
    /// Cells supplied but invalid (flagged, stored as missing).
    pub flagged_cells: i64,
    /// Customer rows that could not be loaded at all (one wrong cell each).
    pub quarantined_customer_rows: i64,
    /// valid / (valid + flagged + quarantined) × 100; `None` when nothing was supplied.
    pub percent: Option<f64>,
}

/// The data-quality report with its information accuracy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataQuality {
    #[serde(flatten)]
    pub report: rapport_ingest::QualityReport,
    pub information_accuracy: InformationAccuracy,
}

impl DataQuality {
    /// A plain-text rendering for the terminal.
    pub fn render_text(&self) -> String {
        let a = &self.information_accuracy;
        format!(
            "Data quality\n============\n\nInformation accuracy: {}  ({} valid of {} supplied identifying/contact cells: {} flagged, {} customer rows quarantined)\n{}",
            a.percent.map_or_else(|| "—".to_string(), |p| format!("{p:.2}%")),
            a.valid_cells,
            a.valid_cells + a.flagged_cells + a.quarantined_customer_rows,
            a.flagged_cells,
            a.quarantined_customer_rows,
            self.report.render_text()
        )
    }
}

/// The data-quality report (right: view data quality) with the information
/// accuracy KPI of the whole bank.
pub async fn data_quality(svc: &Services, actor: &Actor) -> ServiceResult<DataQuality> {
    actor.require(Permission::ViewDataQuality)?;
    // The field profiles scan the customer and transaction tables: kept
    // until the next import, scoring run or operational write (`crate::memo`).
    let report = crate::memo::get(
        &svc.store,
        "quality.report",
        "",
        &[Domain::Data, Domain::Work],
        || async {
            rapport_ingest::quality_report(&svc.store)
                .await
                .map_err(anyhow::Error::from)
        },
    )
    .await?
    .as_ref()
    .clone();
    let end = match default_end(&svc.store).await {
        Ok(e) => e,
        // No transactions yet: the data as it stands today.
        Err(_) => svc.clock.local().date(),
    };
    // The same kept facts as the KPI pages (the accuracy depends on no clock).
    let facts = kept_facts(svc).await?;
    let group: Vec<&CustomerFacts> = facts.facts.iter().collect();
    let f = figure_of(Kpi::InformationAccuracy, &group, &facts.bank, end, end);
    let quarantined = facts.bank.quarantined_customer_rows;
    let valid = f.numerator as i64;
    Ok(DataQuality {
        report,
        information_accuracy: InformationAccuracy {
            fields: rapport_store::ACCURACY_COLUMNS
                .iter()
                .map(|(c, _)| c.to_string())
                .collect(),
            valid_cells: valid,
            flagged_cells: f.denominator as i64 - valid - quarantined,
            quarantined_customer_rows: quarantined,
            percent: f.value.map(|v| v * 100.0),
        },
    })
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
