//! The scoring pipeline behind `rapport score` (and later the nightly job):
//! features → health scores → segments → early-warning rules → alerts, each
//! stage timed, everything stored per as-of date in one scoring run.
//!
//! Rule segments and early-warning rules may read the active models'
//! scores (`model.churn`, …) and segment membership (`in_segment("…")`):
//! this pipeline loads the scores the rules name and hands the segments it
//! just made to the rules (docs/RULES.md).
//!
//! Owns the order of the stages and what is stored; the analytics crate owns
//! every computation and the store every write. Re-running the same as-of
//! date replaces that date's scores and memberships; alerts are never
//! replaced (their cool-down stops a re-run from raising them twice).

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use rapport_analytics::alerts::{
    model_kind, raise_batch_alerts, AlertRunSummary, RuleInputs, RuleSet, Signals, Standing,
};
use rapport_analytics::segment::{self, SegmentConfig, SegmentInput};
use rapport_analytics::{FeatureEngine, FeatureTable, HealthScore, Scorecard};
use rapport_store::{BandMove, HealthScoreRow, Store};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// What to score with (the shipped defaults unless a file is given).
#[derive(Debug, Clone, Default)]
pub struct ScoringOptions {
    /// Rows per scan chunk (memory per chunk); `None` = the engine's default.
    pub chunk_rows: Option<usize>,
    /// The health scorecard; `None` = the shipped default.
    pub scorecard: Option<Scorecard>,
    /// Segment definitions (tiers, clustering, rule segments); `None` = the shipped default.
    pub segments: Option<SegmentConfig>,
    /// Early-warning rules; `None` = the shipped pack.
    pub rules: Option<RuleSet>,
    /// The date the extract's point-in-time columns describe (loan arrears);
    /// set it when scoring back-dated as-of dates (see
    /// `FeatureEngine::with_extract_date`).
    pub extract_date: Option<NaiveDate>,
    /// The columnar copy's directory (`analytics_copy::default_dir`): the
    /// transactions are read from it when it is current; `None`: the store.
    pub analytics_dir: Option<std::path::PathBuf>,
    /// The output directory of the Spark job (`rapport analytics
    /// spark-job`): the transaction aggregates are taken from it instead of
    /// a transaction pass (`rapport score --features DIR`).
    pub precomputed: Option<std::path::PathBuf>,
}

impl ScoringOptions {
    /// The options the configuration's `[scoring]` files give (the shipped
    /// defaults where none is named); an unreadable or invalid file is an
    /// error naming the key and the file.
    pub fn from_config(cfg: &crate::config::ScoringConfig) -> Result<ScoringOptions> {
        let read = |key: &str, path: &str| -> Result<String> {
            std::fs::read_to_string(path).with_context(|| format!("scoring.{key}: reading {path}"))
        };
        ScoringOptions {
            scorecard: match &cfg.scorecard {
                Some(p) => Some(
                    Scorecard::from_toml(&read("scorecard", p)?)
                        .with_context(|| format!("scoring.scorecard: {p}"))?,
                ),
                None => None,
            },
            segments: match &cfg.segments {
                Some(p) => Some(
                    SegmentConfig::from_named_toml(&read("segments", p)?, p)
                        .map_err(|e| anyhow::anyhow!("scoring.segments: {e}"))?,
                ),
                None => None,
            },
            rules: match &cfg.rules {
                Some(p) => Some(
                    RuleSet::from_toml(&read("rules", p)?, p)
                        .map_err(|e| anyhow::anyhow!("scoring.rules: {e}"))?,
                ),
                None => None,
            },
            ..ScoringOptions::default()
        }
        .checked()
    }

    /// The options, once the rules' segment references are checked against
    /// the segment file in use (`in_segment("…")` must name a segment it
    /// makes): an error names the rule's file, line and code.
    pub fn checked(self) -> Result<ScoringOptions> {
        let segments = self.segment_config();
        self.rule_set()?
            .check_segments(&segments)
            .map_err(|e| anyhow::anyhow!("scoring.rules: {e}"))?;
        Ok(self)
    }

    fn segment_config(&self) -> SegmentConfig {
        self.segments
            .clone()
            .unwrap_or_else(SegmentConfig::default_config)
    }

    fn rule_set(&self) -> Result<RuleSet> {
        match &self.rules {
            Some(r) => Ok(r.clone()),
            None => RuleSet::builtin().context("the shipped rule pack"),
        }
    }
}

/// The scores of the active models the variables `names` read
/// (`model.churn`, …), row for row of `table` (`None`: not scored, or no
/// model of the kind active). The latest stored scores of each active model
/// (the nightly job stores them after scoring) are used.
pub async fn model_columns(
    store: &Store,
    table: &FeatureTable,
    names: &[String],
) -> Result<HashMap<String, Vec<Option<f64>>>> {
    let mut columns = HashMap::new();
    if names.is_empty() {
        return Ok(columns);
    }
    let row_of: HashMap<i64, usize> = table
        .customer_ids
        .iter()
        .enumerate()
        .map(|(row, &id)| (id, row))
        .collect();
    for name in names {
        let Some(kind) = model_kind(name) else {
            continue;
        };
        let mut column = vec![None; table.len()];
        for (customer, probability) in store.active_model_scores(&kind).await? {
            if let Some(slot) = row_of.get(&customer).and_then(|&r| column.get_mut(r)) {
                *slot = Some(probability);
            }
        }
        columns.insert(name.clone(), column);
    }
    Ok(columns)
}

/// One stored segment of the run.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentSummary {
    pub code: String,
    pub kind: String,
    pub name: String,
    pub customers: u64,
    pub description: String,
}

/// Time and rows of one stage.
#[derive(Debug, Clone, Serialize)]
pub struct StageTiming {
    pub name: String,
    pub seconds: f64,
    pub rows: u64,
}

/// The result of a scoring run, as printed by `rapport score`.
#[derive(Debug, Clone, Serialize)]
pub struct ScoringReport {
    pub as_of: NaiveDate,
    pub run_id: i64,
    pub scorecard: String,
    pub customers: u64,
    pub stages: Vec<StageTiming>,
    /// Customers per band.
    pub bands: BTreeMap<String, u64>,
    /// Customers per score decile bucket: [0,10), [10,20) … [90,100].
    pub histogram: [u64; 10],
    pub mean_score: f64,
    /// The previous scored date and the migration from it.
    pub previous_as_of: Option<NaiveDate>,
    pub migration: Vec<BandMove>,
    pub segments: Vec<SegmentSummary>,
    /// Why clustering was skipped, when it was.
    pub clustering_note: Option<String>,
    pub alerts: AlertRunSummary,
    /// Customers newly assigned to an RM of their branch in this run.
    pub rm_assigned: u64,
    /// Where the feature stage read the transactions from (and, for the store, why).
    pub transactions_from: String,
    pub total_seconds: f64,
}

struct Stages {
    list: Vec<StageTiming>,
    started: Instant,
}

impl Stages {
    fn new() -> Self {
        Stages {
            list: Vec::new(),
            started: Instant::now(),
        }
    }
    fn record(&mut self, name: &str, since: Instant, rows: u64) {
        let seconds = since.elapsed().as_secs_f64();
        tracing::info!(stage = name, seconds, rows, "scoring stage done");
        self.list.push(StageTiming {
            name: name.to_string(),
            seconds,
            rows,
        });
    }
}

/// Computes the features of every customer as of `as_of`.
pub async fn features(
    store: &Store,
    as_of: NaiveDate,
    opts: &ScoringOptions,
) -> Result<FeatureTable> {
    Ok(features_from(store, as_of, opts).await?.0)
}

/// The features, and where the transactions were read from: the columnar
/// copy when one is configured and current, else the store.
async fn features_from(
    store: &Store,
    as_of: NaiveDate,
    opts: &ScoringOptions,
) -> Result<(FeatureTable, String)> {
    let (source, pre, from) = match &opts.precomputed {
        Some(dir) => {
            let d = dir.clone();
            let pre =
                tokio::task::spawn_blocking(move || rapport_analytics::spark::read_precomputed(&d))
                    .await
                    .context("reading the Spark job's output")??;
            let from = format!(
                "the Spark job's output in {} ({} customers, {} accounts)",
                dir.display(),
                pre.customers.len(),
                pre.accounts.len()
            );
            (None, Some(std::sync::Arc::new(pre)), from)
        }
        None => {
            let (source, from) =
                crate::analytics_copy::feature_source(store, opts.analytics_dir.as_deref()).await?;
            (source, None, from)
        }
    };
    let mut engine = FeatureEngine::new(store)
        .with_extract_date(opts.extract_date)
        .with_columnar(source)
        .with_precomputed(pre);
    if let Some(rows) = opts.chunk_rows {
        engine = engine.with_chunk_rows(rows);
    }
    let table = engine
        .compute(as_of)
        .await
        .with_context(|| format!("computing features as of {as_of}"))?;
    Ok((table, from))
}

/// The as-of date the Spark job's output in `dir` was computed for
/// (`rapport score --features DIR` scores as of it unless told otherwise).
pub fn precomputed_as_of(dir: &std::path::Path) -> Result<NaiveDate> {
    Ok(rapport_analytics::spark::read_job_meta(dir)?.as_of)
}

/// Scores every row of `table` with the default scorecard; returns the
/// scorecard's id ("name@hash") and the scores, row by row.
pub fn score_health(table: &FeatureTable) -> Result<(String, Vec<HealthScore>)> {
    let card = Scorecard::default_card();
    Ok((card.id(), card.score_table(table)))
}

/// Runs the whole pipeline for `as_of` and stores its results.
#[tracing::instrument(skip_all, fields(as_of = %as_of), err)]
pub async fn run_scoring(
    store: &Store,
    as_of: NaiveDate,
    opts: &ScoringOptions,
) -> Result<ScoringReport> {
    let mut stages = Stages::new();
    let card = opts
        .scorecard
        .clone()
        .unwrap_or_else(Scorecard::default_card);
    let scorecard = card.id();
    let run_id = store.begin_score_run(as_of, &scorecard).await?;

    let t = Instant::now();
    let (table, transactions_from) = features_from(store, as_of, opts).await?;
    stages.record("features", t, table.len() as u64);

    let t = Instant::now();
    let health = card.score_table(&table);
    let scores: Vec<HealthScoreRow> = table
        .customer_ids
        .iter()
        .zip(&health)
        .map(|(&customer_id, h)| {
            Ok(HealthScoreRow {
                customer_id,
                score: h.score,
                band: h.band.as_str().to_string(),
                factors: serde_json::to_string(&h.factors)?,
            })
        })
        .collect::<Result<_>>()?;
    stages.record("health", t, scores.len() as u64);

    let t = Instant::now();
    let saved = store.save_health_scores(run_id, as_of, &scores).await?;
    stages.record("store scores", t, saved);

    let t = Instant::now();
    let seg_config = opts.segment_config();
    let rules = opts.rule_set()?;
    rules
        .check_segments(&seg_config)
        .context("the rules read a segment the segment file does not make")?;
    // The model scores the rule segments and the rules read, loaded once.
    let (rule_models, rule_segments) = Signals::wanted(&rules);
    let mut model_names: Vec<String> = seg_config
        .rules
        .iter()
        .flat_map(|r| r.when.variables())
        .filter(|v| model_kind(v).is_some())
        .map(str::to_string)
        .chain(rule_models)
        .collect();
    model_names.sort();
    model_names.dedup();
    let models = model_columns(store, &table, &model_names).await?;
    let seg_input = SegmentInput::with_health(&table, &health)?.with_models(models.clone());
    let segmentation = segment::assign(&seg_config, &seg_input)?;
    stages.record("segments", t, table.len() as u64);

    let t = Instant::now();
    let mut segments = Vec::with_capacity(segmentation.segments.len());
    let mut members_stored = 0u64;
    for seg in &segmentation.segments {
        let description = seg.bilingual_description();
        let id = store
            .upsert_segment(
                &seg.code,
                seg.kind.as_str(),
                &seg.name,
                &seg.definition,
                &description,
            )
            .await?;
        let ids = seg.member_ids(&table);
        members_stored += store.replace_segment_membership(id, as_of, &ids).await?;
        segments.push(SegmentSummary {
            code: seg.code.clone(),
            kind: seg.kind.as_str().to_string(),
            name: seg.name.clone(),
            customers: ids.len() as u64,
            description: seg.description.clone(),
        });
    }
    stages.record("store segments", t, members_stored);
    let clustering_note = match &segmentation.clustering {
        segment::ClusteringOutcome::Skipped { reason } => Some(reason.clone()),
        _ => None,
    };

    let t = Instant::now();
    let rm_assigned = store.assign_unassigned_customers_to_branch_rms().await?;
    let signals = Signals {
        models,
        segments: rule_segments
            .into_iter()
            .map(|code| {
                let mut column = vec![false; table.len()];
                if let Some(seg) = segmentation.segment(&code) {
                    for &row in &seg.members {
                        if let Some(slot) = column.get_mut(row) {
                            *slot = true;
                        }
                    }
                }
                (code, column)
            })
            .collect(),
    };
    let standings: Vec<Standing> = health
        .iter()
        .zip(&segmentation.tier_of_row)
        .map(|(h, tier)| Standing {
            score: Some(h.score),
            band: Some(h.band.as_str().to_string()),
            tier: Some(tier.as_str().to_string()),
        })
        .collect();
    let alerts = raise_batch_alerts(
        store,
        &rules,
        &RuleInputs {
            table: &table,
            standings: &standings,
            signals: Some(&signals),
        },
    )
    .await
    .context("raising early-warning alerts")?;
    stages.record("alerts", t, alerts.raised);

    let mut bands: BTreeMap<String, u64> = BTreeMap::new();
    let mut histogram = [0u64; 10];
    let mut total = 0.0;
    for s in &scores {
        *bands.entry(s.band.clone()).or_default() += 1;
        let bucket = ((s.score / 10.0).floor().max(0.0) as usize).min(9);
        histogram[bucket] += 1;
        total += s.score;
    }
    let previous_as_of = store.previous_score_date(as_of).await?;
    let migration = match previous_as_of {
        Some(prev) => store.band_migration(prev, as_of).await?,
        None => Vec::new(),
    };
    let report = ScoringReport {
        as_of,
        run_id,
        scorecard,
        customers: table.len() as u64,
        mean_score: if scores.is_empty() {
            0.0
        } else {
            total / scores.len() as f64
        },
        bands,
        histogram,
        previous_as_of,
        migration,
        segments,
        clustering_note,
        alerts,
        rm_assigned,
        transactions_from,
        total_seconds: stages.started.elapsed().as_secs_f64(),
        stages: stages.list,
    };
    let summary = serde_json::to_string(&report)?;
    store
        .finish_score_run(run_id, report.customers as i64, &summary)
        .await?;
    // Fresh planner statistics for the rows just written (the 360 and the
    // dashboard read them by customer).
    store.optimize().await?;
    Ok(report)
}

/// The as-of date given, or the day after the latest transaction in the store.
pub async fn resolve_as_of(store: &Store, given: Option<&str>) -> Result<NaiveDate> {
    if let Some(s) = given {
        return NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .with_context(|| format!("--as-of {s:?}: expected a date as YYYY-MM-DD"));
    }
    let latest = store.latest_transaction_date().await?;
    match latest.and_then(|d| d.succ_opt()) {
        Some(d) => Ok(d),
        None => bail!("the store has no transactions: give --as-of YYYY-MM-DD"),
    }
}
