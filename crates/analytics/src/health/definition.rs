//! The scorecard's TOML form: the serde shape of the file, its validation
//! (every problem named by component, term and field) and its content hash.
//!
//! Owns what a scorecard file may say and what makes it invalid. Must never
//! score anyone (that is `scorecard.rs`) nor read files: the caller hands in
//! the text.

use crate::FEATURES;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::fmt;

/// Points are on a 0–100 scale, like the score.
const MAX_POINTS: f64 = 100.0;

/// A scorecard file as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CardDefinition {
    pub name: String,
    pub version: u32,
    /// Free text for people; not part of the content hash.
    #[serde(default)]
    pub description: String,
    pub bands: BandThresholds,
    pub components: Vec<ComponentDefinition>,
    /// Warning signs taken off the weighted score (none by default).
    #[serde(default)]
    pub deductions: Vec<DeductionDefinition>,
}

/// A warning sign: a feature mapped to score points taken off the weighted
/// score (0 when the feature is missing), so that a sign the averaging of
/// components would dilute moves the band on its own.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeductionDefinition {
    pub name: String,
    pub feature: String,
    #[serde(default)]
    pub bins: Option<Vec<BinDefinition>>,
    #[serde(default)]
    pub points: Option<Vec<[f64; 2]>>,
    /// What a factor says: `{value}`, `{percent}` or `{<feature>}` stand for values.
    pub label: String,
    /// The label in Chinese, whole (with the deduction's words).
    #[serde(default)]
    pub label_zh: Option<String>,
}

/// `healthy` ≥ `healthy`, `watch` ≥ `watch`, else `at_risk`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BandThresholds {
    pub healthy: f64,
    pub watch: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComponentDefinition {
    pub name: String,
    pub weight: f64,
    pub terms: Vec<TermDefinition>,
}

/// One feature mapped to points, by `bins` or by piecewise-linear `points`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TermDefinition {
    pub feature: String,
    #[serde(default)]
    pub bins: Option<Vec<BinDefinition>>,
    #[serde(default)]
    pub points: Option<Vec<[f64; 2]>>,
    /// Points when the feature is missing (see docs/SCORECARD.md for when they count).
    pub missing: f64,
    /// What a factor says about the value: `{value}` or `{percent}` stands for it.
    pub label: String,
    /// What a factor says when the value is missing (default: "<feature> unknown").
    #[serde(default)]
    pub missing_label: Option<String>,
    /// The label in Chinese, whole (with the component's words): same placeholders.
    #[serde(default)]
    pub label_zh: Option<String>,
    /// The missing label in Chinese, whole.
    #[serde(default)]
    pub missing_label_zh: Option<String>,
}

/// A bin takes the values below `below` not taken by an earlier bin; the last
/// bin has no `below` and takes everything left.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BinDefinition {
    #[serde(default)]
    pub below: Option<f64>,
    pub points: f64,
}

/// Why a scorecard could not be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScorecardError {
    /// The text is not TOML of the scorecard's shape (the message names the
    /// line and the key, e.g. an unknown field or a missing one).
    #[error("the scorecard is not valid TOML: {0}")]
    Syntax(String),
    /// The TOML has the right shape but says something impossible.
    #[error("the scorecard is invalid: {}", join(.0))]
    Invalid(Vec<ScorecardProblem>),
}

fn join(problems: &[ScorecardProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// One validation problem: where (`component "debt_burden", term 2
/// ("credit_utilisation"), bins[3].below`) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScorecardProblem {
    pub at: String,
    pub problem: String,
}

impl fmt::Display for ScorecardProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.problem)
    }
}

impl CardDefinition {
    /// Parses and validates; every problem found is reported, not just the first.
    pub fn parse(text: &str) -> Result<Self, ScorecardError> {
        let card: CardDefinition =
            toml::from_str(text).map_err(|e| ScorecardError::Syntax(e.to_string()))?;
        let problems = card.problems();
        if problems.is_empty() {
            Ok(card)
        } else {
            Err(ScorecardError::Invalid(problems))
        }
    }

    fn problems(&self) -> Vec<ScorecardProblem> {
        let mut out = Problems(Vec::new());
        if self.name.trim().is_empty() {
            out.add("name", "must not be empty");
        }
        if self.version == 0 {
            out.add("version", "must be 1 or more");
        }
        let BandThresholds { healthy, watch } = self.bands;
        out.check_points("bands.healthy", healthy);
        out.check_points("bands.watch", watch);
        if healthy.is_finite() && watch.is_finite() && watch >= healthy {
            out.add(
                "bands",
                format!("watch ({watch}) must be below healthy ({healthy})"),
            );
        }
        if self.components.is_empty() {
            out.add("components", "at least one component is needed");
        }
        for (i, c) in self.components.iter().enumerate() {
            let at = format!("component {} (\"{}\")", i + 1, c.name);
            if !is_snake_case(&c.name) {
                out.add(
                    format!("{at}, name"),
                    "must be a non-empty snake_case name (a-z, 0-9, _)",
                );
            }
            if self.components[..i].iter().any(|e| e.name == c.name) {
                out.add(format!("{at}, name"), "another component has this name");
            }
            if !(c.weight.is_finite() && c.weight > 0.0) {
                out.add(
                    format!("{at}, weight"),
                    format!("must be a positive number, not {}", c.weight),
                );
            }
            if c.terms.is_empty() {
                out.add(format!("{at}, terms"), "at least one term is needed");
            }
            for (j, t) in c.terms.iter().enumerate() {
                let at = format!("{at}, term {} (\"{}\")", j + 1, t.feature);
                out.check_term(&at, t);
            }
        }
        for (i, d) in self.deductions.iter().enumerate() {
            let at = format!("deduction {} (\"{}\")", i + 1, d.name);
            if !is_snake_case(&d.name) {
                out.add(
                    format!("{at}, name"),
                    "must be a non-empty snake_case name (a-z, 0-9, _)",
                );
            }
            if self.deductions[..i].iter().any(|e| e.name == d.name)
                || self.components.iter().any(|c| c.name == d.name)
            {
                out.add(
                    format!("{at}, name"),
                    "another deduction or component has this name",
                );
            }
            out.check_feature(&at, &d.feature);
            out.check_label(&format!("{at}, label"), &d.label);
            if let Some(l) = &d.label_zh {
                out.check_label(&format!("{at}, label_zh"), l);
            }
            out.check_mapping(&at, &d.bins, &d.points);
        }
        out.0
    }

    /// Hex SHA-256 of everything that changes a score, a band or a factor's
    /// label (not the description, comments or layout of the file).
    pub fn content_hash(&self) -> String {
        let mut h = Sha256::new();
        let mut line = |s: String| {
            h.update(s.as_bytes());
            h.update(b"\n");
        };
        line(format!("name {:?} version {}", self.name, self.version));
        line(format!(
            "bands healthy {} watch {}",
            self.bands.healthy, self.bands.watch
        ));
        for c in &self.components {
            line(format!("component {:?} weight {}", c.name, c.weight));
            for t in &c.terms {
                line(format!(
                    "term {:?} missing {} label {:?} missing_label {:?}",
                    t.feature, t.missing, t.label, t.missing_label
                ));
                if t.label_zh.is_some() || t.missing_label_zh.is_some() {
                    line(format!("zh {:?} {:?}", t.label_zh, t.missing_label_zh));
                }
                for b in t.bins.iter().flatten() {
                    line(format!("bin below {:?} points {}", b.below, b.points));
                }
                for [x, p] in t.points.iter().flatten() {
                    line(format!("point {x} {p}"));
                }
            }
        }
        for d in &self.deductions {
            line(format!(
                "deduction {:?} feature {:?} label {:?} zh {:?}",
                d.name, d.feature, d.label, d.label_zh
            ));
            for b in d.bins.iter().flatten() {
                line(format!("bin below {:?} points {}", b.below, b.points));
            }
            for [x, p] in d.points.iter().flatten() {
                line(format!("point {x} {p}"));
            }
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

struct Problems(Vec<ScorecardProblem>);

impl Problems {
    fn add(&mut self, at: impl Into<String>, problem: impl Into<String>) {
        self.0.push(ScorecardProblem {
            at: at.into(),
            problem: problem.into(),
        });
    }

    fn check_points(&mut self, at: &str, p: f64) {
        if !(0.0..=MAX_POINTS).contains(&p) {
            self.add(at, format!("{p} is outside 0..=100"));
        }
    }

    fn check_feature(&mut self, at: &str, feature: &str) {
        if !FEATURES.iter().any(|f| f.name == feature) {
            self.add(
                format!("{at}, feature"),
                format!("unknown feature \"{feature}\" (see docs/FEATURES.md for the names)"),
            );
        }
    }

    fn check_term(&mut self, at: &str, t: &TermDefinition) {
        self.check_feature(at, &t.feature);
        self.check_points(&format!("{at}, missing"), t.missing);
        self.check_label(&format!("{at}, label"), &t.label);
        for (field, l) in [
            ("missing_label", &t.missing_label),
            ("label_zh", &t.label_zh),
            ("missing_label_zh", &t.missing_label_zh),
        ] {
            if let Some(l) = l {
                self.check_label(&format!("{at}, {field}"), l);
            }
        }
        self.check_mapping(at, &t.bins, &t.points);
    }

    fn check_mapping(
        &mut self,
        at: &str,
        bins: &Option<Vec<BinDefinition>>,
        points: &Option<Vec<[f64; 2]>>,
    ) {
        match (bins, points) {
            (Some(_), Some(_)) => self.add(
                at,
                "has both bins and points; a term maps its feature one way",
            ),
            (None, None) => self.add(
                at,
                "needs either [[...bins]] (below/points) or points = [[x, p], ...]",
            ),
            (Some(bins), None) => self.check_bins(at, bins),
            (None, Some(points)) => self.check_piecewise(at, points),
        }
    }

    fn check_bins(&mut self, at: &str, bins: &[BinDefinition]) {
        if bins.is_empty() {
            self.add(format!("{at}, bins"), "at least one bin is needed");
            return;
        }
        let last = bins.len() - 1;
        let mut previous: Option<f64> = None;
        for (k, b) in bins.iter().enumerate() {
            let at = format!("{at}, bins[{}]", k + 1);
            self.check_points(&format!("{at}.points"), b.points);
            match (b.below, k == last) {
                (Some(below), false) => {
                    if !below.is_finite() {
                        self.add(format!("{at}.below"), "must be a finite number");
                    } else if let Some(p) = previous.filter(|&p| below <= p) {
                        self.add(
                            format!("{at}.below"),
                            format!("{below} is not above the previous bin's {p}: bins must be in ascending order"),
                        );
                    }
                    previous = Some(below);
                }
                (None, false) => {
                    self.add(format!("{at}.below"), "is needed on every bin but the last")
                }
                (Some(_), true) => self.add(
                    format!("{at}.below"),
                    "the last bin takes every value left and has no below",
                ),
                (None, true) => {}
            }
        }
    }

    fn check_piecewise(&mut self, at: &str, points: &[[f64; 2]]) {
        if points.len() < 2 {
            self.add(
                format!("{at}, points"),
                "needs at least 2 [x, points] pairs",
            );
        }
        for (k, [x, p]) in points.iter().enumerate() {
            let at = format!("{at}, points[{}]", k + 1);
            self.check_points(&format!("{at} points"), *p);
            if !x.is_finite() {
                self.add(format!("{at} x"), "must be a finite number");
            } else if k > 0 && *x <= points[k - 1][0] {
                self.add(
                    format!("{at} x"),
                    format!(
                        "{x} is not above the previous x {}: x must be in ascending order",
                        points[k - 1][0]
                    ),
                );
            }
        }
    }

    fn check_label(&mut self, at: &str, label: &str) {
        if label.trim().is_empty() {
            self.add(at, "must not be empty");
        }
        let mut rest = label;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close)
                    if matches!(&after[..close], "value" | "percent")
                        || FEATURES.iter().any(|f| f.name == &after[..close]) =>
                {
                    rest = &after[close + 1..];
                }
                _ => {
                    self.add(
                        at,
                        "only {value}, {percent} and {<feature name>} may appear in braces"
                            .to_string(),
                    );
                    return;
                }
            }
        }
    }
}

fn is_snake_case(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}
