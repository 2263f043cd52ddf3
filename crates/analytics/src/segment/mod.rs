//! Segmentation (C3): asset tiers, k-means clusters with generated
//! descriptions, and rule segments written in the expression language, all
//! from one feature table plus each customer's health score and band.
//! docs/SEGMENTS.md documents the file, the defaults and the method.
//!
//! Owns the segmentation configuration (`config`, the shipped default in
//! `crates/analytics/config/segments.toml`), the tiers (`tiers`), k-means
//! (`kmeans`, `cluster`), the wording (`describe`), rule evaluation
//! (`rules`) and the sizes and KPIs of every segment ([`assign`]).
//!
//! Must never touch the store or the CLI: the caller persists the segments
//! and their members (row `i` is `FeatureTable::customer_ids[i]`).

mod cluster;
mod config;
mod describe;
pub mod kmeans;
mod rules;
mod tiers;

pub use cluster::{
    ClusterProfile, ClusteringOutcome, ClusteringSummary, DroppedFeature, FeatureProfile,
    StandardisedFeature,
};
pub use config::{
    rule_variable_type, segment_reference, ClusteringConfig, RuleSegment, SegmentConfig,
    SegmentConfigError, SegmentConfigProblem, DEFAULT_SEGMENTS_TOML, MAX_CLUSTERS, RULE_VARIABLES,
};
pub use tiers::{assign_tiers, Tier, TierAssignment, TierThresholds};

use crate::{Band, FeatureTable, HealthScore};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// Why a segmentation could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SegmentError {
    #[error("the feature table has no column {0:?}, which the segmentation needs")]
    MissingFeature(String),
    #[error("{what} has {found} rows but the feature table has {expected}")]
    RowCount {
        what: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("in_segment reads {0}, which this segmentation does not make before it")]
    MissingSegment(String),
    #[error("clustering failed: {0}")]
    Clustering(String),
}

/// What segmentation works on: the feature table and, per row, the health
/// score and band (missing when the customer was not scored), and the model
/// scores rule segments read (`model.churn` → one probability per row;
/// a model variable not given is `null` for every row).
#[derive(Debug, Clone)]
pub struct SegmentInput<'a> {
    pub features: &'a FeatureTable,
    pub scores: Vec<Option<f64>>,
    pub bands: Vec<Option<Band>>,
    pub models: HashMap<String, Vec<Option<f64>>>,
}

impl<'a> SegmentInput<'a> {
    /// Features only: `score` and `band` are `null` for everyone.
    pub fn without_health(features: &'a FeatureTable) -> Self {
        SegmentInput {
            features,
            scores: vec![None; features.len()],
            bands: vec![None; features.len()],
            models: HashMap::new(),
        }
    }

    /// Features with the health of each row (`Scorecard::score_table` order).
    pub fn with_health(
        features: &'a FeatureTable,
        health: &[HealthScore],
    ) -> Result<Self, SegmentError> {
        if health.len() != features.len() {
            return Err(SegmentError::RowCount {
                what: "the health scores",
                expected: features.len(),
                found: health.len(),
            });
        }
        Ok(SegmentInput {
            features,
            scores: health.iter().map(|h| Some(h.score)).collect(),
            bands: health.iter().map(|h| Some(h.band)).collect(),
            models: HashMap::new(),
        })
    }

    /// With the model scores rule segments read (variable name → value per row).
    pub fn with_models(mut self, models: HashMap<String, Vec<Option<f64>>>) -> Self {
        self.models = models;
        self
    }

    fn check(&self) -> Result<(), SegmentError> {
        let expected = self.features.len();
        let models = self.models.values().map(|v| ("a model's scores", v.len()));
        for (what, found) in [
            ("the scores", self.scores.len()),
            ("the bands", self.bands.len()),
        ]
        .into_iter()
        .chain(models)
        {
            if found != expected {
                return Err(SegmentError::RowCount {
                    what,
                    expected,
                    found,
                });
            }
        }
        Ok(())
    }
}

/// What made a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    Tier,
    Cluster,
    Rule,
}

impl SegmentKind {
    /// The stored kind: `tier`, `cluster` or `rule`.
    pub fn as_str(self) -> &'static str {
        match self {
            SegmentKind::Tier => "tier",
            SegmentKind::Cluster => "cluster",
            SegmentKind::Rule => "rule",
        }
    }
}

impl fmt::Display for SegmentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sizes and KPIs of a segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentKpis {
    pub count: usize,
    /// Of all rows of the table.
    pub share: f64,
    /// Over the members with a score.
    pub mean_score: Option<f64>,
    /// Of the members with a band, those `at_risk`.
    pub share_at_risk: Option<f64>,
    /// Over the members with an `aum`.
    pub median_aum: Option<f64>,
}

/// One segment and its members.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// Unique: `tier:affluent`, `cluster:3`, `rule:senior_wealth`.
    pub code: String,
    pub kind: SegmentKind,
    pub name: String,
    pub name_zh: String,
    /// What decides membership, as text (a threshold, the clustering, an expression).
    pub definition: String,
    pub description: String,
    pub description_zh: String,
    /// Rows of the feature table, ascending.
    #[serde(skip)]
    pub members: Vec<usize>,
    pub kpis: SegmentKpis,
}

impl Segment {
    /// The store ids of the members.
    pub fn member_ids(&self, table: &FeatureTable) -> Vec<i64> {
        self.members
            .iter()
            .filter_map(|&r| table.customer_ids.get(r).copied())
            .collect()
    }

    /// Both descriptions, English then Chinese, for a single text column.
    pub fn bilingual_description(&self) -> String {
        if self.description_zh.is_empty() {
            self.description.clone()
        } else {
            format!("{}\n{}", self.description, self.description_zh)
        }
    }
}

/// Every segment of one table: tiers first, then clusters, then rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segmentation {
    pub rows: usize,
    pub segments: Vec<Segment>,
    /// The tier of each row.
    #[serde(skip)]
    pub tier_of_row: Vec<Tier>,
    /// Rows without an `aum`, counted as mass.
    pub missing_aum: usize,
    pub clustering: ClusteringOutcome,
}

impl Segmentation {
    /// The segment with `code`.
    pub fn segment(&self, code: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.code == code)
    }
}

fn kpis(members: &[usize], input: &SegmentInput<'_>, aum: &[Option<f64>]) -> SegmentKpis {
    let rows = input.features.len();
    let scores: Vec<f64> = members
        .iter()
        .filter_map(|&r| input.scores.get(r).copied().flatten())
        .collect();
    let bands: Vec<Band> = members
        .iter()
        .filter_map(|&r| input.bands.get(r).copied().flatten())
        .collect();
    let mut aums: Vec<f64> = members
        .iter()
        .filter_map(|&r| aum.get(r).copied().flatten())
        .filter(|a| a.is_finite())
        .collect();
    SegmentKpis {
        count: members.len(),
        share: if rows == 0 {
            0.0
        } else {
            members.len() as f64 / rows as f64
        },
        mean_score: (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64),
        share_at_risk: (!bands.is_empty()).then(|| {
            bands.iter().filter(|&&b| b == Band::AtRisk).count() as f64 / bands.len() as f64
        }),
        median_aum: median_of(&mut aums),
    }
}

fn median_of(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    values.sort_unstable_by(f64::total_cmp);
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// Segments every row of `input` as configured: the three tiers (on
/// `aum`), the clusters (when enabled and the data allow), and each rule
/// segment, with sizes and KPIs.
#[tracing::instrument(skip_all, fields(rows = input.features.len()), err)]
pub fn assign(
    config: &SegmentConfig,
    input: &SegmentInput<'_>,
) -> Result<Segmentation, SegmentError> {
    input.check()?;
    let table = input.features;
    let rows = table.len();
    let aum = table
        .column("aum")
        .ok_or_else(|| SegmentError::MissingFeature("aum".to_string()))?;
    let mut segments = Vec::new();

    let tiers = assign_tiers(&config.tiers, aum);
    let mut tier_members: Vec<Vec<usize>> = vec![Vec::new(); Tier::ALL.len()];
    for (row, tier) in tiers.tier_of_row.iter().enumerate() {
        tier_members[*tier as usize].push(row);
    }
    for (tier, members) in Tier::ALL.into_iter().zip(tier_members) {
        let kpis = kpis(&members, input, aum);
        let (description, description_zh) =
            describe::size_sentence(tier.name(), tier.name_zh(), kpis.count, kpis.share);
        segments.push(Segment {
            code: format!("tier:{}", tier.as_str()),
            kind: SegmentKind::Tier,
            name: tier.name().to_string(),
            name_zh: tier.name_zh().to_string(),
            definition: config.tiers.definition(tier),
            description,
            description_zh,
            members,
            kpis,
        });
    }

    let clustering = cluster::cluster_table(table, &config.clustering)?;
    if let ClusteringOutcome::Done(summary) = &clustering {
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); summary.k];
        for (row, &c) in summary.cluster_of_row.iter().enumerate() {
            if let Some(m) = members.get_mut(c) {
                m.push(row);
            }
        }
        let features: Vec<&str> = summary.features.iter().map(|f| f.name.as_str()).collect();
        for (profile, members) in summary.clusters.iter().zip(members) {
            segments.push(Segment {
                code: format!("cluster:{}", profile.cluster + 1),
                kind: SegmentKind::Cluster,
                name: profile.name.clone(),
                name_zh: profile.name_zh.clone(),
                definition: format!(
                    "k-means cluster {} of {} (by size) on standardised {}; seed {}",
                    profile.cluster + 1,
                    summary.k,
                    features.join(", "),
                    summary.seed
                ),
                description: profile.description.clone(),
                description_zh: profile.description_zh.clone(),
                kpis: kpis(&members, input, aum),
                members,
            });
        }
    } else if let ClusteringOutcome::Skipped { reason } = &clustering {
        tracing::warn!(%reason, "customers not clustered");
    }

    // Rule segments may read the membership of tiers, clusters and earlier
    // rule segments (`in_segment`, checked when the file is loaded): a
    // membership column for each segment some rule reads.
    let wanted: std::collections::HashSet<String> = config
        .rules
        .iter()
        .flat_map(|r| r.when.variables())
        .filter_map(|v| crate::expr::segment_of_variable(v).and_then(segment_reference))
        .collect();
    let mut membership: HashMap<String, Vec<bool>> = HashMap::new();
    for made in segments.iter().filter(|s| wanted.contains(&s.code)) {
        membership.insert(made.code.clone(), membership_column(rows, &made.members));
    }
    // A cluster the chosen k did not make has no members.
    for code in wanted.iter().filter(|c| c.starts_with("cluster:")) {
        membership
            .entry(code.clone())
            .or_insert_with(|| vec![false; rows]);
    }
    for rule in &config.rules {
        let members = rules::matching_rows(&rule.when, input, &tiers.tier_of_row, &membership)?;
        let kpis = kpis(&members, input, aum);
        let (size_en, size_zh) =
            describe::size_sentence(&rule.name, &rule.name_zh, kpis.count, kpis.share);
        segments.push(Segment {
            code: format!("rule:{}", rule.code),
            kind: SegmentKind::Rule,
            name: rule.name.clone(),
            name_zh: rule.name_zh.clone(),
            definition: rule.when.source().to_string(),
            description: join_sentences(&size_en, &rule.description, ". "),
            description_zh: join_sentences(&size_zh, &rule.description_zh, "。"),
            members,
            kpis,
        });
        if let Some(made) = segments.last() {
            if wanted.contains(&made.code) {
                membership.insert(made.code.clone(), membership_column(rows, &made.members));
            }
        }
    }

    Ok(Segmentation {
        rows,
        segments,
        tier_of_row: tiers.tier_of_row,
        missing_aum: tiers.missing_aum,
        clustering,
    })
}

/// One flag per row: whether it is among `members`.
fn membership_column(rows: usize, members: &[usize]) -> Vec<bool> {
    let mut column = vec![false; rows];
    for &r in members {
        if let Some(slot) = column.get_mut(r) {
            *slot = true;
        }
    }
    column
}

fn join_sentences(size: &str, description: &str, separator: &str) -> String {
    if description.is_empty() {
        size.to_string()
    } else {
        format!("{size}{separator}{description}")
    }
}
