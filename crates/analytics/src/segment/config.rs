//! The segmentation file (`segments.toml`): its serde shape, its validation
//! (every problem named by field, or by segment and column for a rule
//! expression) and the shipped default, embedded at build time.
//!
//! Owns what a segmentation file may say and what makes it invalid. Must
//! never segment anyone (that is `tiers`, `kmeans`, `rules`) nor read files:
//! the caller hands in the text.

use super::tiers::TierThresholds;
use super::Tier;
use crate::expr::{segment_of_variable, Expr, VarType};
use crate::{FeatureKind, FEATURES};
use serde::Deserialize;
use std::fmt;

/// The shipped default segmentation (documented in docs/SEGMENTS.md).
pub const DEFAULT_SEGMENTS_TOML: &str = include_str!("../../config/segments.toml");

/// The most clusters a configuration may ask for.
pub const MAX_CLUSTERS: usize = 32;

/// The variables a rule segment may use besides the features.
pub const RULE_VARIABLES: [(&str, VarType); 3] = [
    ("score", VarType::Num),
    ("band", VarType::Str),
    ("tier", VarType::Str),
];

/// A validated segmentation configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentConfig {
    pub tiers: TierThresholds,
    pub clustering: ClusteringConfig,
    pub rules: Vec<RuleSegment>,
}

/// How clusters are built (see docs/SEGMENTS.md for each field).
#[derive(Debug, Clone, PartialEq)]
pub struct ClusteringConfig {
    pub enabled: bool,
    pub features: Vec<String>,
    /// A fixed number of clusters, or `None` to choose in `k_min..=k_max`.
    pub k: Option<usize>,
    pub k_min: usize,
    pub k_max: usize,
    pub log_money: bool,
    pub seed: u64,
    pub restarts: u32,
    pub max_iterations: u32,
    pub fit_sample: usize,
    pub silhouette_sample: usize,
    pub describe_features: usize,
    /// The largest share of the customers one cluster may hold when k is
    /// chosen (0–1]; `max_cluster_share` in the file, 0.5 by default.
    pub max_share: f64,
}

/// A named expression: its members are the customers it matches.
#[derive(Debug, Clone)]
pub struct RuleSegment {
    pub code: String,
    pub name: String,
    pub name_zh: String,
    pub when: Expr,
    pub description: String,
    pub description_zh: String,
}

impl PartialEq for RuleSegment {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
            && self.name == other.name
            && self.name_zh == other.name_zh
            && self.when.source() == other.when.source()
            && self.description == other.description
            && self.description_zh == other.description_zh
    }
}

/// Why a segmentation file could not be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SegmentConfigError {
    /// Not TOML of the right shape (the message names the line and the key).
    #[error("{file} is not valid: {message}")]
    Syntax { file: String, message: String },
    /// The right shape, but something impossible; every problem is listed.
    #[error("{}", join(.file, .problems))]
    Invalid {
        file: String,
        problems: Vec<SegmentConfigProblem>,
    },
}

fn join(file: &str, problems: &[SegmentConfigProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("{file} {p}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One validation problem: where (`tiers.affluent_from`, `segment "x"`) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentConfigProblem {
    pub at: String,
    pub problem: String,
}

impl fmt::Display for SegmentConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.problem)
    }
}

// ---------------------------------------------------------------- file shape

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    tiers: TiersShape,
    #[serde(default)]
    clustering: Option<ClusteringShape>,
    #[serde(default)]
    rules: Vec<RuleShape>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TiersShape {
    affluent_from: f64,
    high_net_worth_from: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusteringShape {
    #[serde(default = "yes")]
    enabled: bool,
    features: Vec<String>,
    #[serde(default)]
    k: Option<i64>,
    #[serde(default = "default_k_min")]
    k_min: i64,
    #[serde(default = "default_k_max")]
    k_max: i64,
    #[serde(default = "yes")]
    log_money: bool,
    #[serde(default)]
    seed: u64,
    #[serde(default = "default_restarts")]
    restarts: i64,
    #[serde(default = "default_max_iterations")]
    max_iterations: i64,
    #[serde(default = "default_fit_sample")]
    fit_sample: i64,
    #[serde(default = "default_silhouette_sample")]
    silhouette_sample: i64,
    #[serde(default = "default_describe_features")]
    describe_features: i64,
    #[serde(default = "default_max_cluster_share")]
    max_cluster_share: f64,
}

fn default_max_cluster_share() -> f64 {
    0.5
}

fn yes() -> bool {
    true
}
fn default_k_min() -> i64 {
    2
}
fn default_k_max() -> i64 {
    8
}
fn default_restarts() -> i64 {
    4
}
fn default_max_iterations() -> i64 {
    100
}
fn default_fit_sample() -> i64 {
    20_000
}
fn default_silhouette_sample() -> i64 {
    2_000
}
fn default_describe_features() -> i64 {
    3
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleShape {
    code: String,
    name: String,
    #[serde(default)]
    name_zh: Option<String>,
    when: toml::Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    description_zh: String,
}

// ---------------------------------------------------------------- validation

struct Problems(Vec<SegmentConfigProblem>);

impl Problems {
    fn add(&mut self, at: impl Into<String>, problem: impl Into<String>) {
        self.0.push(SegmentConfigProblem {
            at: at.into(),
            problem: problem.into(),
        });
    }

    /// `value` as a count in `min..=max`, or a problem (and `min`).
    fn count(&mut self, at: &str, value: i64, min: usize, max: usize) -> usize {
        match usize::try_from(value) {
            Ok(v) if (min..=max).contains(&v) => v,
            _ => {
                self.add(at, format!("must be between {min} and {max}, not {value}"));
                min
            }
        }
    }
}

/// The stored code of the segment `in_segment("…")` names, `None` when the
/// text cannot name one: `tier:affluent`, `cluster:3` (clusters are numbered
/// by size, largest first, from 1) and `rule:senior_wealth` as stored; a bare
/// name is a tier (`affluent`) or else a rule segment (`senior_wealth`).
/// Whether the segment is defined is for the caller to check (the segment
/// file it is used with).
pub fn segment_reference(code: &str) -> Option<String> {
    let tier = |name: &str| Tier::ALL.iter().any(|t| t.as_str() == name);
    match code.split_once(':') {
        Some(("tier", name)) if tier(name) => Some(code.to_string()),
        Some(("cluster", n)) => match n.parse::<usize>() {
            Ok(n) if (1..=MAX_CLUSTERS).contains(&n) => Some(format!("cluster:{n}")),
            _ => None,
        },
        Some(("rule", name)) if is_code(name) => Some(code.to_string()),
        Some(_) => None,
        None if tier(code) => Some(format!("tier:{code}")),
        None if is_code(code) => Some(format!("rule:{code}")),
        None => None,
    }
}

/// The type of a variable a rule segment may use, `None` when unknown: a
/// feature, `score`, `band`, `tier`, a model score (`model.churn`, …) or a
/// segment membership (`in_segment("code")`; whether that segment exists
/// where it is used is checked by [`SegmentConfig::from_named_toml`]).
pub fn rule_variable_type(name: &str) -> Option<VarType> {
    if let Some((_, t)) = RULE_VARIABLES.iter().find(|(n, _)| *n == name) {
        return Some(*t);
    }
    if crate::alerts::model_kind(name).is_some() {
        return Some(VarType::Num);
    }
    if let Some(code) = segment_of_variable(name) {
        return segment_reference(code).map(|_| VarType::Bool);
    }
    FEATURES
        .iter()
        .any(|f| f.name == name)
        .then_some(VarType::Num)
}

/// Whether a catalogued feature is an amount of money.
pub(crate) fn is_money_feature(name: &str) -> bool {
    FEATURES
        .iter()
        .any(|f| f.name == name && f.kind == FeatureKind::Money)
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && s.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
}

impl SegmentConfig {
    /// The shipped default (documented in docs/SEGMENTS.md).
    ///
    /// # Panics
    /// Never in a released build: the embedded file is validated by the test
    /// `the_shipped_configuration_loads`.
    pub fn default_config() -> SegmentConfig {
        match SegmentConfig::from_toml(DEFAULT_SEGMENTS_TOML) {
            Ok(config) => config,
            Err(e) => unreachable!("the shipped segments.toml is validated by tests: {e}"),
        }
    }

    /// Whether this segmentation makes the segment with the stored `code`
    /// (see [`segment_reference`]): a tier, a cluster up to `k` (or `k_max`)
    /// when clustering is enabled, or one of its rule segments.
    pub fn makes(&self, code: &str) -> bool {
        defined_before(code, &self.clustering, &self.rules)
    }

    /// Parses and validates a file's text; errors name it `segments.toml`.
    pub fn from_toml(text: &str) -> Result<SegmentConfig, SegmentConfigError> {
        SegmentConfig::from_named_toml(text, "segments.toml")
    }

    /// Parses and validates a file's text; errors name it `file`. Every
    /// problem found is reported, not just the first.
    pub fn from_named_toml(text: &str, file: &str) -> Result<SegmentConfig, SegmentConfigError> {
        let shape: FileShape = toml::from_str(text).map_err(|e| SegmentConfigError::Syntax {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let mut problems = Problems(Vec::new());
        let tiers = validate_tiers(&shape.tiers, &mut problems);
        let clustering = validate_clustering(shape.clustering, &mut problems);
        let rules = validate_rules(shape.rules, text, &clustering, &mut problems);
        if problems.0.is_empty() {
            Ok(SegmentConfig {
                tiers,
                clustering,
                rules,
            })
        } else {
            Err(SegmentConfigError::Invalid {
                file: file.to_string(),
                problems: problems.0,
            })
        }
    }
}

fn validate_tiers(shape: &TiersShape, problems: &mut Problems) -> TierThresholds {
    let TiersShape {
        affluent_from,
        high_net_worth_from,
    } = *shape;
    for (at, v) in [
        ("tiers.affluent_from", affluent_from),
        ("tiers.high_net_worth_from", high_net_worth_from),
    ] {
        if !(v.is_finite() && v > 0.0) {
            problems.add(at, format!("must be a positive amount, not {v}"));
        }
    }
    if affluent_from.is_finite()
        && high_net_worth_from.is_finite()
        && high_net_worth_from <= affluent_from
    {
        problems.add(
            "tiers.high_net_worth_from",
            format!(
                "must be above tiers.affluent_from ({affluent_from}), not {high_net_worth_from}"
            ),
        );
    }
    TierThresholds {
        affluent_from,
        high_net_worth_from,
    }
}

fn validate_clustering(
    shape: Option<ClusteringShape>,
    problems: &mut Problems,
) -> ClusteringConfig {
    let Some(shape) = shape else {
        return ClusteringConfig {
            enabled: false,
            features: Vec::new(),
            k: None,
            k_min: 2,
            k_max: 8,
            log_money: true,
            seed: 0,
            restarts: 1,
            max_iterations: 1,
            fit_sample: 1,
            silhouette_sample: 1,
            describe_features: 1,
            max_share: default_max_cluster_share(),
        };
    };
    let max_share = shape.max_cluster_share;
    if !(max_share.is_finite() && max_share > 0.0 && max_share <= 1.0) {
        problems.add(
            "clustering.max_cluster_share",
            format!("must be a share above 0 and at most 1, not {max_share}"),
        );
    }
    if shape.enabled && shape.features.is_empty() {
        problems.add("clustering.features", "at least one feature is needed");
    }
    for (i, name) in shape.features.iter().enumerate() {
        let at = format!("clustering.features[{i}] ({name:?})");
        if !FEATURES.iter().any(|f| f.name == *name) {
            problems.add(at, "not a feature of docs/FEATURES.md");
        } else if shape.features[..i].contains(name) {
            problems.add(at, "listed twice");
        }
    }
    let k = shape
        .k
        .map(|k| problems.count("clustering.k", k, 2, MAX_CLUSTERS));
    let k_min = problems.count("clustering.k_min", shape.k_min, 2, MAX_CLUSTERS);
    let k_max = problems.count("clustering.k_max", shape.k_max, 2, MAX_CLUSTERS);
    if k_max < k_min {
        problems.add(
            "clustering.k_max",
            format!("must not be below clustering.k_min ({k_min}), not {k_max}"),
        );
    }
    let restarts = problems.count("clustering.restarts", shape.restarts, 1, 1_000);
    let max_iterations = problems.count(
        "clustering.max_iterations",
        shape.max_iterations,
        1,
        100_000,
    );
    let fit_sample = problems.count("clustering.fit_sample", shape.fit_sample, 100, 10_000_000);
    let silhouette_sample = problems.count(
        "clustering.silhouette_sample",
        shape.silhouette_sample,
        10,
        20_000,
    );
    if silhouette_sample > fit_sample {
        problems.add(
            "clustering.silhouette_sample",
            format!(
                "must not be above clustering.fit_sample ({fit_sample}), not {silhouette_sample}"
            ),
        );
    }
    let describe_features = problems.count(
        "clustering.describe_features",
        shape.describe_features,
        1,
        10,
    );
    ClusteringConfig {
        enabled: shape.enabled,
        features: shape.features,
        k,
        k_min,
        k_max,
        log_money: shape.log_money,
        seed: shape.seed,
        restarts: u32::try_from(restarts).unwrap_or(1),
        max_iterations: u32::try_from(max_iterations).unwrap_or(1),
        fit_sample,
        silhouette_sample,
        describe_features,
        max_share,
    }
}

/// Whether `code` (a stored segment code) names a segment this file makes
/// before the rule segments that follow `earlier`: a tier, a cluster the
/// clustering can make, or an earlier rule segment (a rule cannot read
/// itself or a later one, so membership has no cycles).
fn defined_before(code: &str, clustering: &ClusteringConfig, earlier: &[RuleSegment]) -> bool {
    match code.split_once(':') {
        Some(("tier", _)) => true,
        Some(("cluster", n)) => {
            let most = clustering.k.unwrap_or(clustering.k_max);
            clustering.enabled && n.parse::<usize>().is_ok_and(|n| n <= most)
        }
        Some(("rule", name)) => earlier.iter().any(|r| r.code == name),
        _ => false,
    }
}

/// The 1-based line of a byte offset of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

fn validate_rules(
    shapes: Vec<RuleShape>,
    text: &str,
    clustering: &ClusteringConfig,
    problems: &mut Problems,
) -> Vec<RuleSegment> {
    let mut rules = Vec::with_capacity(shapes.len());
    for (i, shape) in shapes.into_iter().enumerate() {
        let line = line_of(text, shape.when.span().start);
        let at = if shape.code.is_empty() {
            format!("rules[{i}]")
        } else {
            format!("segment {:?}", shape.code)
        };
        if !is_code(&shape.code) {
            problems.add(
                format!("{at}.code"),
                "must be lower-case letters, digits and `_`, starting with a letter",
            );
        } else if rules.iter().any(|r: &RuleSegment| r.code == shape.code) {
            problems.add(format!("{at}.code"), "is used by an earlier segment");
        } else if Tier::ALL.iter().any(|t| t.as_str() == shape.code) {
            // Not a clash in the store (codes are prefixed), but confusing.
            problems.add(format!("{at}.code"), "is the name of a tier");
        }
        if shape.name.trim().is_empty() {
            problems.add(format!("{at}.name"), "must not be empty");
        }
        let when = match Expr::parse(shape.when.get_ref()) {
            Ok(expr) => match expr.check(&rule_variable_type) {
                Ok(()) => Some(expr),
                Err(e) => {
                    problems.add(at.clone(), format!("line {line}, {e}"));
                    None
                }
            },
            Err(e) => {
                problems.add(at.clone(), format!("line {line}, {e}"));
                None
            }
        };
        let when = when.filter(|expr| {
            let mut defined = true;
            for v in expr.variables() {
                let Some(code) = segment_of_variable(v).and_then(segment_reference) else {
                    continue;
                };
                if !defined_before(&code, clustering, &rules) {
                    problems.add(
                        at.clone(),
                        format!(
                            "line {line}: in_segment({code:?}) names no segment made before this \
                             one (a tier, a cluster up to clustering.k or k_max, or a rule \
                             segment listed earlier in the file)"
                        ),
                    );
                    defined = false;
                }
            }
            defined
        });
        if let Some(when) = when {
            rules.push(RuleSegment {
                name_zh: shape.name_zh.unwrap_or_else(|| shape.name.clone()),
                code: shape.code,
                name: shape.name,
                when,
                description: shape.description,
                description_zh: shape.description_zh,
            });
        }
    }
    rules
}
