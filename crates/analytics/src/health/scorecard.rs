//! Scoring: a validated scorecard applied to every row of a feature table,
//! rows in parallel (rayon).
//!
//! Owns the arithmetic: a term's points (bins or piecewise-linear, clamped at
//! the ends), a component's points (the average of its terms), the score (the
//! weighted average over the components with at least one known input), the
//! band and the top factors. Must never read the store or files, and never
//! change a definition after it was validated.

use super::definition::{CardDefinition, ScorecardError, TermDefinition};
use super::label::{FactorLabel, LabelTemplate};
use super::{Band, FactorEvidence, HealthFactor, HealthScore};
use crate::{FeatureKind, FeatureTable, FEATURES};
use chrono::NaiveDate;
use rayon::prelude::*;
use std::sync::Arc;

/// The shipped default scorecard (crates/analytics/config/scorecard.toml).
pub const DEFAULT_SCORECARD_TOML: &str = include_str!("../../config/scorecard.toml");

/// How many factors a score carries.
const TOP_FACTORS: usize = 3;
/// A term costing less than this many score points is not a factor.
const NEGLIGIBLE_IMPACT: f64 = 1e-9;
/// Rows per rayon task.
const ROWS_PER_TASK: usize = 4096;

/// Each term's component name, feature name and label, shared by the
/// factors a task builds. Every rayon task makes its own copies, so that
/// threads do not contend on one reference count.
type TermNames = Vec<(Arc<str>, Arc<str>, Arc<LabelTemplate>)>;

/// A validated health scorecard, ready to score.
#[derive(Debug, Clone, PartialEq)]
pub struct Scorecard {
    name: String,
    version: u32,
    hash: String,
    healthy: f64,
    watch: f64,
    components: Vec<Component>,
    /// Every term of every component, in file order (components hold ranges
    /// into it), then the deductions (`first_deduction..`).
    terms: Vec<Term>,
    /// Index in `terms` of the first deduction.
    first_deduction: usize,
    /// Features named in labels (`{net_outflow_90}`): read after the terms'
    /// own features (`values[terms.len() + k]`).
    label_features: Vec<Arc<str>>,
}

#[derive(Debug, Clone, PartialEq)]
struct Component {
    name: String,
    weight: f64,
    /// Indices into `Scorecard::terms`.
    first_term: usize,
    end_term: usize,
}

#[derive(Debug, Clone, PartialEq)]
struct Term {
    /// The component's name, shared by the factors that cite this term.
    component_name: Arc<str>,
    feature: Arc<str>,
    mapping: PointsMapping,
    missing: f64,
    label: Arc<LabelTemplate>,
    /// Per ref of the label: its index in the row's values.
    label_slots: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
enum PointsMapping {
    /// `points[i]` for values below `below[i]` (and not an earlier bin);
    /// `points.last()` for everything else (`points.len() == below.len() + 1`).
    Bins { below: Vec<f64>, points: Vec<f64> },
    /// Linear between the knots, flat beyond the first and the last.
    PiecewiseLinear { xs: Vec<f64>, points: Vec<f64> },
}

impl PointsMapping {
    fn points(&self, value: f64) -> f64 {
        match self {
            PointsMapping::Bins { below, points } => {
                let bin = below.iter().position(|&b| value < b).unwrap_or(below.len());
                points[bin]
            }
            PointsMapping::PiecewiseLinear { xs, points } => {
                let last = xs.len() - 1;
                if value <= xs[0] {
                    return points[0];
                }
                if value >= xs[last] {
                    return points[last];
                }
                let k = xs.iter().position(|&x| value < x).unwrap_or(last);
                let (x0, x1, p0, p1) = (xs[k - 1], xs[k], points[k - 1], points[k]);
                p0 + (p1 - p0) * (value - x0) / (x1 - x0)
            }
        }
    }
}

impl Scorecard {
    /// The shipped default scorecard (documented in docs/SCORECARD.md).
    ///
    /// # Panics
    /// Never in a released build: the embedded file is validated by the test
    /// `the_default_scorecard_loads_and_uses_only_catalogued_features`.
    pub fn default_card() -> Scorecard {
        match Scorecard::from_toml(DEFAULT_SCORECARD_TOML) {
            Ok(card) => card,
            Err(e) => unreachable!("the shipped scorecard is validated by tests: {e}"),
        }
    }

    /// Parses and validates a scorecard file's text.
    pub fn from_toml(text: &str) -> Result<Scorecard, ScorecardError> {
        let definition = CardDefinition::parse(text)?;
        Ok(Scorecard::compile(&definition))
    }

    fn compile(definition: &CardDefinition) -> Scorecard {
        let mut components = Vec::with_capacity(definition.components.len());
        let mut terms = Vec::new();
        for component in &definition.components {
            let first_term = terms.len();
            let prefix = format!("{}: ", component.name.replace('_', " "));
            terms.extend(
                component
                    .terms
                    .iter()
                    .map(|t| Term::compile(&component.name, t, prefix.clone())),
            );
            components.push(Component {
                name: component.name.clone(),
                weight: component.weight,
                first_term,
                end_term: terms.len(),
            });
        }
        let first_deduction = terms.len();
        terms.extend(definition.deductions.iter().map(|d| {
            let as_term = TermDefinition {
                feature: d.feature.clone(),
                bins: d.bins.clone(),
                points: d.points.clone(),
                missing: 0.0,
                label: d.label.clone(),
                missing_label: None,
                label_zh: d.label_zh.clone(),
                missing_label_zh: None,
            };
            Term::compile(&d.name, &as_term, format!("{}: ", d.name.replace('_', " ")))
        }));
        // Features named in labels: one value slot each, after the terms'.
        let mut label_features: Vec<Arc<str>> = Vec::new();
        let n_terms = terms.len();
        for t in &mut terms {
            t.label_slots = t
                .label
                .refs
                .iter()
                .map(|(name, _)| {
                    let k = label_features
                        .iter()
                        .position(|f| **f == **name)
                        .unwrap_or_else(|| {
                            label_features.push(Arc::from(name.as_str()));
                            label_features.len() - 1
                        });
                    n_terms + k
                })
                .collect();
        }
        Scorecard {
            name: definition.name.clone(),
            version: definition.version,
            hash: definition.content_hash(),
            healthy: definition.bands.healthy,
            watch: definition.bands.watch,
            components,
            terms,
            first_deduction,
            label_features,
        }
    }

    /// The features a row's values are read for: every term's and
    /// deduction's, then the ones named in labels.
    fn inputs(&self) -> impl Iterator<Item = &str> {
        self.terms
            .iter()
            .map(|t| &*t.feature)
            .chain(self.label_features.iter().map(|f| &**f))
    }

    /// The scorecard's name, as in the file.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The scorecard's version, as in the file.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Hex SHA-256 of the definition's content (see docs/SCORECARD.md).
    pub fn content_hash(&self) -> &str {
        &self.hash
    }

    /// `name@hash8`: what a score run records as its scorecard.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, &self.hash[..8.min(self.hash.len())])
    }

    /// The features the scorecard reads, each once, in file order.
    pub fn features(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for f in self.inputs() {
            if !out.contains(&f) {
                out.push(f);
            }
        }
        out
    }

    /// The deductions' names and features, in file order.
    pub fn deductions(&self) -> Vec<(&str, &str)> {
        self.terms[self.first_deduction..]
            .iter()
            .map(|t| (&*t.component_name, &*t.feature))
            .collect()
    }

    /// The components' names and weights, in file order.
    pub fn component_weights(&self) -> Vec<(&str, f64)> {
        self.components
            .iter()
            .map(|c| (c.name.as_str(), c.weight))
            .collect()
    }

    /// The band of a score: `healthy` at or above the healthy threshold,
    /// `watch` at or above the watch threshold, else `at_risk`.
    pub fn band_of(&self, score: f64) -> Band {
        if score >= self.healthy {
            Band::Healthy
        } else if score >= self.watch {
            Band::Watch
        } else {
            Band::AtRisk
        }
    }

    /// Scores every customer of the table, in row order. A feature the table
    /// lacks counts as missing for everyone.
    pub fn score_table(&self, table: &FeatureTable) -> Vec<HealthScore> {
        let columns: Vec<Option<&[Option<f64>]>> = self.inputs().map(|f| table.column(f)).collect();
        let absent: Vec<&str> = self
            .inputs()
            .zip(&columns)
            .filter(|(_, c)| c.is_none())
            .map(|(f, _)| f)
            .collect();
        if !absent.is_empty() {
            tracing::warn!(
                scorecard = %self.id(),
                features = ?absent,
                "the feature table lacks features of the scorecard; they count as missing"
            );
        }
        (0..table.len())
            .into_par_iter()
            .with_min_len(ROWS_PER_TASK)
            .map_init(
                || {
                    let names: TermNames = self
                        .terms
                        .iter()
                        .map(|t| {
                            (
                                Arc::from(&*t.component_name),
                                Arc::from(&*t.feature),
                                Arc::new(LabelTemplate::clone(&t.label)),
                            )
                        })
                        .collect();
                    (Vec::with_capacity(self.terms.len()), names)
                },
                |(values, names), row| {
                    values.clear();
                    values.extend(
                        columns
                            .iter()
                            .map(|c| c.and_then(|c| c.get(row).copied().flatten())),
                    );
                    self.score_values(values, names, Some(table.as_of))
                },
            )
            .collect()
    }

    /// Scores one customer of the table.
    pub fn score_row(&self, table: &FeatureTable, row: usize) -> HealthScore {
        let values: Vec<Option<f64>> = self.inputs().map(|f| table.value(row, f)).collect();
        self.score_values(&values, &self.names(), Some(table.as_of))
    }

    /// Scores one customer from a lookup of feature values by name (no
    /// as-of date: the factors carry no evidence window).
    pub fn score_with(&self, value_of: impl Fn(&str) -> Option<f64>) -> HealthScore {
        let values: Vec<Option<f64>> = self.inputs().map(value_of).collect();
        self.score_values(&values, &self.names(), None)
    }

    /// [`Self::score_with`] as of a date: the factors carry their evidence
    /// windows (docs/SCORECARD.md).
    pub fn score_with_as_of(
        &self,
        as_of: NaiveDate,
        value_of: impl Fn(&str) -> Option<f64>,
    ) -> HealthScore {
        let values: Vec<Option<f64>> = self.inputs().map(value_of).collect();
        self.score_values(&values, &self.names(), Some(as_of))
    }

    fn names(&self) -> TermNames {
        self.terms
            .iter()
            .map(|t| (t.component_name.clone(), t.feature.clone(), t.label.clone()))
            .collect()
    }

    /// `values[i]` is term `i`'s feature value (then the label features'),
    /// `names[i]` its names.
    fn score_values(
        &self,
        values: &[Option<f64>],
        names: &TermNames,
        as_of: Option<NaiveDate>,
    ) -> HealthScore {
        // A non-finite value carries no information: treat it as missing.
        let known = |i: usize| values.get(i).copied().flatten().filter(|v| v.is_finite());
        let anything_known = (0..self.first_deduction).any(|i| known(i).is_some());

        let mut weighted = 0.0;
        let mut total_weight = 0.0;
        // (cost before dividing by the total weight, term index, points), largest first.
        let mut top: [(f64, usize, f64); TOP_FACTORS] = [(0.0, usize::MAX, 0.0); TOP_FACTORS];
        let mut keep = |cost: f64, i: usize, points: f64| {
            if let Some(slot) = top.iter().position(|&(best, _, _)| cost > best) {
                top.copy_within(slot..TOP_FACTORS - 1, slot + 1);
                top[slot] = (cost, i, points);
            }
        };
        for c in &self.components {
            let range = c.first_term..c.end_term;
            if anything_known && !range.clone().any(|i| known(i).is_some()) {
                continue; // nothing known about this component: scored on the rest
            }
            let share = c.weight / (c.end_term - c.first_term) as f64;
            let mut sum = 0.0;
            for i in range {
                let term = &self.terms[i];
                let points = match known(i) {
                    Some(v) => term.mapping.points(v),
                    None => term.missing,
                };
                sum += points;
                keep(share * (100.0 - points), i, points);
            }
            weighted += c.weight * sum / (c.end_term - c.first_term) as f64;
            total_weight += c.weight;
        }
        // Deductions: score points off the weighted score (a missing feature
        // deducts nothing). Their cost is scaled like the terms' so that
        // factors compare in score points.
        let mut deducted = 0.0;
        for i in self.first_deduction..self.terms.len() {
            let Some(v) = known(i) else { continue };
            let points = self.terms[i].mapping.points(v);
            deducted += points;
            keep(points * total_weight, i, points);
        }
        let score = if total_weight > 0.0 {
            round_to(weighted / total_weight - deducted, 10.0).clamp(0.0, 100.0)
        } else {
            0.0
        };
        let is_factor = |&&(cost, i, _): &&(f64, usize, f64)| {
            i != usize::MAX && cost / total_weight > NEGLIGIBLE_IMPACT
        };
        let mut factors = Vec::with_capacity(top.iter().filter(is_factor).count());
        factors.extend(top.iter().filter(is_factor).map(|&(cost, i, points)| {
            let value = known(i);
            let (component, feature, label) = names[i].clone();
            let term = &self.terms[i];
            let label = if term.label_slots.is_empty() {
                FactorLabel::new(label, value)
            } else {
                let extras = term.label_slots.iter().map(|&k| known(k)).collect();
                FactorLabel::with_extras(label, value, extras)
            };
            HealthFactor {
                label_zh: label.zh(),
                evidence: as_of
                    .zip(value)
                    .and_then(|(d, v)| FactorEvidence::of(&feature, d, v)),
                component,
                feature,
                value,
                points: round_to(points, 10.0),
                impact: round_to(cost / total_weight, 100.0),
                label,
            }
        }));
        HealthScore {
            score,
            band: self.band_of(score),
            factors,
        }
    }
}

impl Term {
    fn compile(component_name: &str, t: &TermDefinition, label_prefix: String) -> Term {
        let mapping = match (&t.bins, &t.points) {
            (Some(bins), _) => PointsMapping::Bins {
                below: bins.iter().filter_map(|b| b.below).collect(),
                points: bins.iter().map(|b| b.points).collect(),
            },
            (None, points) => {
                let knots = points.as_deref().unwrap_or_default();
                PointsMapping::PiecewiseLinear {
                    xs: knots.iter().map(|k| k[0]).collect(),
                    points: knots.iter().map(|k| k[1]).collect(),
                }
            }
        };
        let refs = LabelTemplate::names_in(&t.label)
            .into_iter()
            .map(|name| {
                let money = FEATURES
                    .iter()
                    .any(|f| f.name == name && f.kind == FeatureKind::Money);
                (name, money)
            })
            .collect();
        Term {
            component_name: Arc::from(component_name),
            feature: Arc::from(t.feature.as_str()),
            mapping,
            missing: t.missing,
            label: Arc::new(LabelTemplate {
                prefix: label_prefix,
                known: t.label.clone(),
                missing: t
                    .missing_label
                    .clone()
                    .unwrap_or_else(|| format!("{} unknown", t.feature.replace('_', " "))),
                refs,
                known_zh: t.label_zh.clone(),
                missing_zh: t.missing_label_zh.clone(),
            }),
            label_slots: Vec::new(),
        }
    }
}

fn round_to(v: f64, scale: f64) -> f64 {
    (v * scale).round() / scale
}
