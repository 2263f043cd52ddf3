//! The health scorecard: points by bins and piecewise-linear terms, missing
//! values, bands, top factors, TOML validation, the shipped default and
//! scoring whole feature tables.

use chrono::NaiveDate;
use proptest::prelude::*;
use rapport_analytics::health::ScorecardProblem;
use rapport_analytics::{
    Band, FeatureColumn, FeatureTable, HealthScore, Scorecard, ScorecardError, FEATURES,
};
use std::collections::HashMap;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A card with one component of one term: the delinquency bins of the default card.
const DPD_BINS: &str = r#"
name = "bins"
version = 1
[bands]
healthy = 70
watch = 50
[[components]]
name = "delinquency"
weight = 1
[[components.terms]]
feature = "max_days_past_due"
label = "{value} days past due"
missing = 100
[[components.terms.bins]]
below = 1
points = 100
[[components.terms.bins]]
below = 31
points = 50
[[components.terms.bins]]
below = 61
points = 25
[[components.terms.bins]]
below = 91
points = 10
[[components.terms.bins]]
points = 0
"#;

/// Three components: liquidity (one piecewise term, weight 2), debt (two
/// terms, weight 1) and satisfaction (one bins term, weight 1).
const THREE_COMPONENTS: &str = r#"
name = "three"
version = 3
[bands]
healthy = 70
watch = 50
[[components]]
name = "liquidity"
weight = 2
[[components.terms]]
feature = "liquidity_months"
label = "{value} months of spending covered"
missing = 30
points = [[0, 0], [1, 40], [3, 70], [6, 100]]

[[components]]
name = "debt_burden"
weight = 1
[[components.terms]]
feature = "debt_service_ratio"
label = "loan payments take {percent}% of income"
missing_label = "no income seen"
missing = 60
points = [[0, 100], [0.5, 40], [1, 0]]
[[components.terms]]
feature = "credit_utilisation"
label = "{percent}% of the limit used"
missing = 90
points = [[0, 100], [1, 10]]

[[components]]
name = "satisfaction"
weight = 1
[[components.terms]]
feature = "complaints_90"
label = "{value} complaints in 90 days"
missing = 100
[[components.terms.bins]]
below = 1
points = 100
[[components.terms.bins]]
points = 20
"#;

fn score_of(card: &Scorecard, values: &[(&str, f64)]) -> HealthScore {
    let map: HashMap<&str, f64> = values.iter().copied().collect();
    card.score_with(|name| map.get(name).copied())
}

fn assert_close(got: f64, want: f64) {
    assert!((got - want).abs() < 1e-9, "got {got}, want {want}");
}

fn problems(text: &str) -> Vec<ScorecardProblem> {
    match Scorecard::from_toml(text) {
        Err(ScorecardError::Invalid(p)) => p,
        other => panic!("expected validation problems, got {other:?}"),
    }
}

fn has_problem(problems: &[ScorecardProblem], at_parts: &[&str], problem_part: &str) -> bool {
    problems
        .iter()
        .any(|p| at_parts.iter().all(|a| p.at.contains(a)) && p.problem.contains(problem_part))
}

// ----- points --------------------------------------------------------------------

#[test]
fn bins_give_the_points_of_the_first_bin_the_value_is_below() -> TestResult {
    let card = Scorecard::from_toml(DPD_BINS)?;
    for (days, want) in [
        (-5.0, 100.0),
        (0.0, 100.0),
        (0.999, 100.0),
        (1.0, 50.0),
        (30.0, 50.0),
        (30.5, 50.0),
        (31.0, 25.0),
        (60.0, 25.0),
        (61.0, 10.0),
        (90.0, 10.0),
        (91.0, 0.0),
        (10_000.0, 0.0),
    ] {
        let s = score_of(&card, &[("max_days_past_due", days)]);
        assert_close(s.score, want);
    }
    Ok(())
}

#[test]
fn piecewise_points_interpolate_between_knots_and_are_flat_beyond_the_ends() -> TestResult {
    let card = Scorecard::from_toml(THREE_COMPONENTS)?;
    // Only liquidity known: the score is the liquidity term's points.
    for (months, want) in [
        (-3.0, 0.0),
        (0.0, 0.0),
        (0.5, 20.0),
        (1.0, 40.0),
        (2.0, 55.0),
        (3.0, 70.0),
        (4.5, 85.0),
        (6.0, 100.0),
        (6.01, 100.0),
        (1e9, 100.0),
    ] {
        let s = score_of(&card, &[("liquidity_months", months)]);
        assert_close(s.score, want);
    }
    Ok(())
}

#[test]
fn the_score_is_the_weighted_average_of_component_points_rounded_to_one_decimal() -> TestResult {
    let card = Scorecard::from_toml(THREE_COMPONENTS)?;
    // liquidity 2 months -> 55 (weight 2); debt: (0.25 -> 70, 0.5 -> 55) avg 62.5
    // (weight 1); satisfaction 1 complaint -> 20 (weight 1).
    // (2*55 + 62.5 + 20) / 4 = 48.125 -> 48.1
    let s = score_of(
        &card,
        &[
            ("liquidity_months", 2.0),
            ("debt_service_ratio", 0.25),
            ("credit_utilisation", 0.5),
            ("complaints_90", 1.0),
        ],
    );
    assert_close(s.score, 48.1);
    assert_eq!(s.band, Band::AtRisk);
    Ok(())
}

// ----- missing values ------------------------------------------------------------

#[test]
fn a_component_with_no_known_input_is_left_out_of_the_score() -> TestResult {
    let card = Scorecard::from_toml(THREE_COMPONENTS)?;
    // Debt unknown: (2*100 + 20) / 3 = 73.3, not dragged towards the debt terms' missing points.
    let s = score_of(&card, &[("liquidity_months", 6.0), ("complaints_90", 1.0)]);
    assert_close(s.score, 73.3);
    assert_eq!(s.band, Band::Healthy);
    assert!(s.factors.iter().all(|f| &*f.component != "debt_burden"));
    Ok(())
}

#[test]
fn a_missing_term_takes_its_missing_points_when_its_component_is_known() -> TestResult {
    let card = Scorecard::from_toml(THREE_COMPONENTS)?;
    // Debt: utilisation 0 -> 100, service ratio missing -> 60: component 80.
    let s = score_of(&card, &[("credit_utilisation", 0.0)]);
    assert_close(s.score, 80.0);
    let factor = &s.factors[0];
    assert_eq!(&*factor.feature, "debt_service_ratio");
    assert_eq!(factor.value, None);
    assert_close(factor.points, 60.0);
    assert_eq!(factor.label, "debt burden: no income seen");
    Ok(())
}

#[test]
fn a_customer_with_nothing_known_is_scored_on_every_missing_points() -> TestResult {
    let card = Scorecard::from_toml(THREE_COMPONENTS)?;
    // (2*30 + (60+90)/2 + 100) / 4 = 58.75 -> 58.8
    let s = score_of(&card, &[]);
    assert_close(s.score, 58.8);
    assert_eq!(s.band, Band::Watch);
    assert_eq!(&*s.factors[0].feature, "liquidity_months");
    assert_eq!(s.factors[0].label, "liquidity: liquidity months unknown");
    Ok(())
}

#[test]
fn non_finite_values_count_as_missing() -> TestResult {
    let card = Scorecard::from_toml(THREE_COMPONENTS)?;
    let with_nan = score_of(
        &card,
        &[("liquidity_months", f64::NAN), ("complaints_90", 0.0)],
    );
    let without = score_of(&card, &[("complaints_90", 0.0)]);
    assert_eq!(with_nan, without);
    assert_close(with_nan.score, 100.0);
    Ok(())
}

// ----- bands ---------------------------------------------------------------------

#[test]
fn bands_are_cut_at_their_thresholds_inclusive() -> TestResult {
    let card = Scorecard::from_toml(DPD_BINS)?;
    assert_eq!(card.band_of(100.0), Band::Healthy);
    assert_eq!(card.band_of(70.0), Band::Healthy);
    assert_eq!(card.band_of(69.9), Band::Watch);
    assert_eq!(card.band_of(50.0), Band::Watch);
    assert_eq!(card.band_of(49.9), Band::AtRisk);
    assert_eq!(card.band_of(0.0), Band::AtRisk);
    assert_eq!(
        score_of(&card, &[("max_days_past_due", 5.0)]).band,
        Band::Watch
    );
    assert_eq!(Band::AtRisk.as_str(), "at_risk");
    assert_eq!("watch".parse::<Band>()?, Band::Watch);
    assert!("at risk".parse::<Band>().is_err());
    Ok(())
}

// ----- factors -------------------------------------------------------------------

#[test]
fn the_top_three_factors_are_the_terms_costing_the_most_points_largest_first() -> TestResult {
    let card = Scorecard::from_toml(THREE_COMPONENTS)?;
    // Costs before dividing by the total weight 4:
    //   liquidity 0.5 -> 20 points: 2 * 80 = 160
    //   debt_service_ratio 0.75 -> 20 points: 0.5 * 80 = 40
    //   credit_utilisation 0.9 -> 19 points: 0.5 * 81 = 40.5
    //   complaints 3 -> 20 points: 1 * 80 = 80
    let s = score_of(
        &card,
        &[
            ("liquidity_months", 0.5),
            ("debt_service_ratio", 0.75),
            ("credit_utilisation", 0.9),
            ("complaints_90", 3.0),
        ],
    );
    let features: Vec<&str> = s.factors.iter().map(|f| &*f.feature).collect();
    assert_eq!(
        features,
        ["liquidity_months", "complaints_90", "credit_utilisation"]
    );
    let impacts: Vec<f64> = s.factors.iter().map(|f| f.impact).collect();
    assert_eq!(impacts, [40.0, 20.0, 10.13]);
    assert_eq!(
        s.factors[0].label,
        "liquidity: 0.5 months of spending covered"
    );
    assert_eq!(&*s.factors[0].component, "liquidity");
    assert_eq!(s.factors[0].value, Some(0.5));
    assert_close(s.factors[0].points, 20.0);
    assert_eq!(s.factors[2].label, "debt burden: 90% of the limit used");
    // The score is 100 minus every term's impact: 100 - (40 + 10 + 10.125 + 20).
    assert_close(s.score, 19.9);
    Ok(())
}

#[test]
fn terms_that_cost_nothing_are_not_factors() -> TestResult {
    let card = Scorecard::from_toml(THREE_COMPONENTS)?;
    let perfect = score_of(
        &card,
        &[
            ("liquidity_months", 12.0),
            ("debt_service_ratio", 0.0),
            ("credit_utilisation", 0.0),
            ("complaints_90", 0.0),
        ],
    );
    assert_close(perfect.score, 100.0);
    assert!(perfect.factors.is_empty());
    let one = score_of(&card, &[("liquidity_months", 12.0), ("complaints_90", 2.0)]);
    assert_eq!(one.factors.len(), 1);
    assert_eq!(
        one.factors[0].label,
        "satisfaction: 2 complaints in 90 days"
    );
    Ok(())
}

#[test]
fn factors_serialise_to_json_with_component_feature_value_points_impact_and_label() -> TestResult {
    let card = Scorecard::from_toml(DPD_BINS)?;
    let s = score_of(&card, &[("max_days_past_due", 45.0)]);
    let json = serde_json::to_value(&s.factors)?;
    assert_eq!(
        json,
        serde_json::json!([{
            "component": "delinquency",
            "feature": "max_days_past_due",
            "value": 45.0,
            "points": 25.0,
            "impact": 75.0,
            "label": "delinquency: 45 days past due"
        }])
    );
    let back: HealthScore = serde_json::from_str(&serde_json::to_string(&s)?)?;
    assert_eq!(back, s);
    assert_eq!(serde_json::to_value(Band::AtRisk)?, "at_risk");
    Ok(())
}

// ----- TOML validation -------------------------------------------------------------

#[test]
fn an_unknown_feature_is_rejected_naming_the_component_and_term() {
    let text = THREE_COMPONENTS.replace("\"credit_utilisation\"", "\"credit_utilization\"");
    let p = problems(&text);
    assert!(
        has_problem(
            &p,
            &["debt_burden", "term 2", "credit_utilization", "feature"],
            "unknown feature"
        ),
        "{p:?}"
    );
}

#[test]
fn bins_out_of_order_are_rejected_naming_the_bin() {
    let text = DPD_BINS.replace("below = 61", "below = 20");
    let p = problems(&text);
    assert!(
        has_problem(
            &p,
            &["delinquency", "max_days_past_due", "bins[3].below"],
            "ascending"
        ),
        "{p:?}"
    );
}

#[test]
fn bins_need_below_on_all_but_the_last() {
    let missing_below = DPD_BINS.replace("below = 31\n", "");
    assert!(has_problem(
        &problems(&missing_below),
        &["bins[2].below"],
        "every bin but the last"
    ));
    let last_with_below = DPD_BINS.replace("points = 0\n", "below = 200\npoints = 0\n");
    assert!(has_problem(
        &problems(&last_with_below),
        &["bins[5].below"],
        "last bin"
    ));
}

#[test]
fn weights_must_be_positive() {
    for weight in ["0", "-1"] {
        let text = THREE_COMPONENTS.replace("weight = 2", &format!("weight = {weight}"));
        assert!(
            has_problem(&problems(&text), &["liquidity", "weight"], "positive"),
            "weight {weight}"
        );
    }
}

#[test]
fn points_outside_0_to_100_are_rejected_wherever_they_are() {
    let bin = DPD_BINS.replace("points = 50", "points = 150");
    assert!(has_problem(&problems(&bin), &["bins[2].points"], "0..=100"));
    let knot = THREE_COMPONENTS.replace("[6, 100]", "[6, 101]");
    assert!(has_problem(
        &problems(&knot),
        &["liquidity_months", "points[4] points"],
        "0..=100"
    ));
    let missing = THREE_COMPONENTS.replace("missing = 30", "missing = -1");
    assert!(has_problem(
        &problems(&missing),
        &["liquidity_months", "missing"],
        "0..=100"
    ));
    let band = THREE_COMPONENTS.replace("healthy = 70", "healthy = 170");
    assert!(has_problem(&problems(&band), &["bands.healthy"], "0..=100"));
}

#[test]
fn piecewise_knots_must_ascend_and_be_at_least_two() {
    let text = THREE_COMPONENTS.replace("[3, 70]", "[0.5, 70]");
    assert!(has_problem(
        &problems(&text),
        &["liquidity_months", "points[3] x"],
        "ascending"
    ));
    let one = THREE_COMPONENTS.replace("points = [[0, 100], [1, 10]]", "points = [[0, 100]]");
    assert!(has_problem(
        &problems(&one),
        &["credit_utilisation", "points"],
        "at least 2"
    ));
}

#[test]
fn a_term_needs_exactly_one_of_bins_and_points() {
    let both = DPD_BINS.replace(
        "missing = 100",
        "missing = 100\npoints = [[0, 100], [90, 0]]",
    );
    assert!(has_problem(
        &problems(&both),
        &["max_days_past_due"],
        "both"
    ));
    let neither = THREE_COMPONENTS.replace("points = [[0, 100], [1, 10]]\n", "");
    assert!(has_problem(
        &problems(&neither),
        &["credit_utilisation"],
        "either"
    ));
}

#[test]
fn bands_must_be_ordered_and_labels_use_known_placeholders() {
    let bands = THREE_COMPONENTS.replace("watch = 50", "watch = 80");
    assert!(has_problem(&problems(&bands), &["bands"], "below healthy"));
    let label = THREE_COMPONENTS.replace("{value} months", "{months} months");
    assert!(has_problem(
        &problems(&label),
        &["liquidity_months", "label"],
        "{value}"
    ));
}

#[test]
fn duplicate_components_and_bad_names_are_rejected() {
    let dup = THREE_COMPONENTS.replace("name = \"satisfaction\"", "name = \"liquidity\"");
    assert!(has_problem(
        &problems(&dup),
        &["component 3", "name"],
        "another"
    ));
    let bad = THREE_COMPONENTS.replace("name = \"satisfaction\"", "name = \"Satisfaction!\"");
    assert!(has_problem(
        &problems(&bad),
        &["component 3", "name"],
        "snake_case"
    ));
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let text = THREE_COMPONENTS
        .replace("weight = 2", "weight = 0")
        .replace("\"complaints_90\"", "\"complaints\"");
    let p = problems(&text);
    assert!(p.len() >= 2, "{p:?}");
    let message = ScorecardError::Invalid(p).to_string();
    assert!(
        message.contains("weight") && message.contains("complaints"),
        "{message}"
    );
}

#[test]
fn toml_syntax_and_shape_errors_name_the_key() {
    let typo = THREE_COMPONENTS.replace("missing = 30", "mising = 30");
    match Scorecard::from_toml(&typo) {
        Err(ScorecardError::Syntax(m)) => assert!(m.contains("mising"), "{m}"),
        other => panic!("expected a syntax error, got {other:?}"),
    }
    let no_bands = THREE_COMPONENTS.replace("[bands]\nhealthy = 70\nwatch = 50\n", "");
    match Scorecard::from_toml(&no_bands) {
        Err(ScorecardError::Syntax(m)) => assert!(m.contains("bands"), "{m}"),
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert!(matches!(
        Scorecard::from_toml("name = "),
        Err(ScorecardError::Syntax(_))
    ));
}

// ----- identity --------------------------------------------------------------------

#[test]
fn the_id_is_the_name_and_8_hex_of_a_hash_that_ignores_layout_but_not_content() -> TestResult {
    let card = Scorecard::from_toml(THREE_COMPONENTS)?;
    let id = card.id();
    let (name, hash) = id.split_once('@').ok_or("no @ in the id")?;
    assert_eq!(name, "three");
    assert_eq!(hash.len(), 8);
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(card.version(), 3);

    let relaid = format!(
        "# a comment\n{}",
        THREE_COMPONENTS.replace("weight = 2", "weight   =   2.0 # heavier")
    );
    assert_eq!(Scorecard::from_toml(&relaid)?.id(), id);
    let reweighted = THREE_COMPONENTS.replace("weight = 2", "weight = 3");
    assert_ne!(Scorecard::from_toml(&reweighted)?.id(), id);
    let relabelled = THREE_COMPONENTS.replace("{value} months", "{value} mo.");
    assert_ne!(Scorecard::from_toml(&relabelled)?.id(), id);
    Ok(())
}

// ----- the shipped default ---------------------------------------------------------

#[test]
fn the_default_scorecard_loads_and_uses_only_catalogued_features() -> TestResult {
    let card = Scorecard::from_toml(rapport_analytics::health::DEFAULT_SCORECARD_TOML)?;
    assert_eq!(card, Scorecard::default_card());
    assert!(card.id().starts_with("rapport-default@"));
    for feature in card.features() {
        assert!(
            FEATURES.iter().any(|f| f.name == feature),
            "{feature} is not in the catalogue"
        );
    }
    let weights = card.component_weights();
    let names: Vec<&str> = weights.iter().map(|(n, _)| *n).collect();
    for expected in [
        "delinquency",
        "debt_burden",
        "liquidity",
        "income_stability",
        "engagement",
        "relationship_depth",
        "satisfaction",
    ] {
        assert!(names.contains(&expected), "no component {expected}");
    }
    // Delinquency and debt burden weigh most.
    let weight = |n: &str| weights.iter().find(|(c, _)| *c == n).map(|(_, w)| *w);
    let top = weight("delinquency")
        .unwrap_or(0.0)
        .min(weight("debt_burden").unwrap_or(0.0));
    assert!(weights
        .iter()
        .filter(|(n, _)| !["delinquency", "debt_burden"].contains(n))
        .all(|(_, w)| *w < top));
    Ok(())
}

#[test]
fn the_default_scorecard_is_documented_in_scorecard_md() -> TestResult {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/SCORECARD.md");
    let doc = std::fs::read_to_string(path)?;
    let card = Scorecard::default_card();
    for feature in card.features() {
        assert!(
            doc.contains(&format!("`{feature}`")),
            "{feature} is not in docs/SCORECARD.md"
        );
    }
    for (component, _) in card.component_weights() {
        assert!(
            doc.contains(&format!("`{component}`")),
            "{component} is not in docs/SCORECARD.md"
        );
    }
    Ok(())
}

#[test]
fn the_default_scorecard_ranks_a_troubled_customer_below_a_sound_one() {
    let card = Scorecard::default_card();
    let sound = score_of(
        &card,
        &[
            ("max_days_past_due", 0.0),
            ("debt_service_ratio", 0.15),
            ("credit_utilisation", 0.2),
            ("liquidity_months", 5.0),
            ("inflow_cv_6m", 0.1),
            ("inflow_trend_3m", 1.05),
            ("days_since_salary", 12.0),
            ("days_since_last_txn", 2.0),
            ("digital_share_90", 0.7),
            ("product_depth", 3.0),
            ("tenure_months", 80.0),
            ("complaints_90", 0.0),
            ("last_nps", 9.0),
        ],
    );
    let troubled = score_of(
        &card,
        &[
            ("max_days_past_due", 45.0),
            ("debt_service_ratio", 0.7),
            ("credit_utilisation", 0.97),
            ("liquidity_months", 0.2),
            ("inflow_cv_6m", 0.9),
            ("inflow_trend_3m", 0.4),
            ("days_since_salary", 80.0),
            ("days_since_last_txn", 3.0),
            ("digital_share_90", 0.4),
            ("product_depth", 1.0),
            ("tenure_months", 80.0),
            ("complaints_90", 1.0),
            ("last_nps", 3.0),
        ],
    );
    assert_eq!(sound.band, Band::Healthy, "{sound:?}");
    assert_eq!(troubled.band, Band::AtRisk, "{troubled:?}");
    assert_eq!(sound.factors.len(), 3);
    assert_eq!(&*troubled.factors[0].component, "delinquency");
    assert_eq!(
        troubled.factors[0].label,
        "delinquency: 45 days past due at worst in the last year"
    );
}

// ----- tables ----------------------------------------------------------------------

fn table(rows: &[Vec<(&str, Option<f64>)>]) -> FeatureTable {
    let mut names: Vec<&str> = Vec::new();
    for row in rows {
        for (n, _) in row {
            if !names.contains(n) {
                names.push(n);
            }
        }
    }
    FeatureTable {
        as_of: NaiveDate::from_ymd_opt(2024, 6, 1).unwrap_or_default(),
        customer_ids: (1..=rows.len() as i64).collect(),
        customer_keys: (1..=rows.len()).map(|i| format!("C{i}")).collect(),
        columns: names
            .iter()
            .map(|n| FeatureColumn {
                name: n.to_string(),
                values: rows
                    .iter()
                    .map(|r| r.iter().find(|(m, _)| m == n).and_then(|(_, v)| *v))
                    .collect(),
            })
            .collect(),
    }
}

#[test]
fn scoring_a_table_scores_every_row_as_one_at_a_time() {
    let card = Scorecard::default_card();
    let rows: Vec<Vec<(&str, Option<f64>)>> = (0..10_000)
        .map(|i| {
            let x = f64::from(i);
            vec![
                ("max_days_past_due", Some((x * 7.0) % 120.0)),
                (
                    "credit_utilisation",
                    (i % 3 != 0).then_some((x % 13.0) / 10.0),
                ),
                ("liquidity_months", (i % 5 != 0).then_some((x % 17.0) / 2.0)),
                ("complaints_90", Some(f64::from(i % 3))),
                ("product_depth", Some(f64::from(i % 5))),
            ]
        })
        .collect();
    let t = table(&rows);
    let all = card.score_table(&t);
    assert_eq!(all.len(), t.len());
    for (row, s) in all.iter().enumerate() {
        assert_eq!(*s, card.score_row(&t, row), "row {row}");
        assert!((0.0..=100.0).contains(&s.score));
        assert!(s.factors.len() <= 3);
        assert!(s.factors.windows(2).all(|w| w[0].impact >= w[1].impact));
    }
}

#[test]
fn a_feature_the_table_lacks_counts_as_missing() {
    let card = Scorecard::default_card();
    let t = table(&[vec![("max_days_past_due", Some(0.0))]]);
    let scores = card.score_table(&t);
    assert_eq!(scores.len(), 1);
    // Only delinquency is known (the table has no other column): a perfect 100.
    assert_close(scores[0].score, 100.0);
    assert_eq!(scores[0].band, Band::Healthy);
    assert!(card.score_table(&table(&[])).is_empty());
}

// ----- monotonicity ----------------------------------------------------------------

fn optional(range: std::ops::Range<f64>) -> impl Strategy<Value = Option<f64>> {
    prop_oneof![Just(None), range.prop_map(Some)]
}

proptest! {
    #[test]
    fn raising_days_past_due_never_raises_the_score(
        dpd in 0.0..400.0f64,
        more in 0.0..400.0f64,
        utilisation in optional(-0.2..1.5),
        service in optional(0.0..2.0),
        liquidity in optional(-2.0..24.0),
        cv in optional(0.0..3.0),
        depth in optional(0.0..6.0),
        complaints in optional(0.0..4.0),
        nps in optional(0.0..10.0),
    ) {
        let card = Scorecard::default_card();
        let at = |days: f64| {
            let values = [
                ("max_days_past_due", Some(days)),
                ("credit_utilisation", utilisation),
                ("debt_service_ratio", service),
                ("liquidity_months", liquidity),
                ("inflow_cv_6m", cv),
                ("product_depth", depth),
                ("complaints_90", complaints),
                ("last_nps", nps),
            ];
            card.score_with(|name| values.iter().find(|(n, _)| *n == name).and_then(|(_, v)| *v))
        };
        let before = at(dpd);
        let after = at(dpd + more);
        prop_assert!(after.score <= before.score, "{} -> {}: {} -> {}", dpd, dpd + more, before.score, after.score);
        prop_assert!(after.band >= before.band);
    }
}

#[test]
fn with_the_default_card_a_customer_with_nothing_known_is_watched() {
    let s = score_of(&Scorecard::default_card(), &[]);
    // docs/SCORECARD.md, "The arithmetic", point 4.
    assert_close(s.score, 67.7);
    assert_eq!(s.band, Band::Watch);
    assert!(s.factors.iter().all(|f| f.value.is_none()));
}
