//! Rules that read models and segments (issue 17, item 4) and k-means that
//! keeps to its cluster-share limit (item 9): early-warning rules raising
//! alerts from a model score and a segment membership, rule segments built
//! on other segments, the errors that name the file and line, and the
//! "no clear structure" wording.

use chrono::NaiveDate;
use rapport_analytics::alerts::{
    evaluate_batch, Cooldowns, RuleError, RuleInputs, RuleSet, Signals, Standing,
};
use rapport_analytics::segment::{assign, ClusteringOutcome, SegmentConfigError};
use rapport_analytics::{FeatureColumn, FeatureTable, SegmentConfig, SegmentInput, FEATURES};
use std::collections::HashMap;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 30).unwrap_or_default()
}

/// A table of `rows` customers (ids 1..) with every catalogued feature
/// missing but those given.
fn table(rows: usize, given: &[(&str, Vec<Option<f64>>)]) -> FeatureTable {
    FeatureTable {
        as_of: as_of(),
        customer_ids: (1..=rows as i64).collect(),
        customer_keys: (1..=rows).map(|i| format!("C{i}")).collect(),
        columns: FEATURES
            .iter()
            .map(|f| FeatureColumn {
                name: f.name.to_string(),
                values: given
                    .iter()
                    .find(|(n, _)| *n == f.name)
                    .map_or(vec![None; rows], |(_, v)| v.clone()),
            })
            .collect(),
    }
}

fn rules(when: &str, trigger: &str) -> String {
    format!(
        "# a comment line\n\n[[rule]]\ncode = \"churn_watch\"\nname = \"Churn watch\"\n\
         trigger = \"{trigger}\"\nwhen = '{when}'\nseverity = \"medium\"\ncooldown_days = 30\n\
         message = \"churn {{model.churn}}\"\n"
    )
}

fn load_error(text: &str) -> Result<RuleError, String> {
    match RuleSet::from_toml(text, "bank-rules.toml") {
        Ok(_) => Err(format!("loaded: {text}")),
        Err(e) => Ok(e),
    }
}

#[test]
fn an_early_warning_rule_reads_a_model_score_and_a_segment_membership() -> TestResult {
    let set = RuleSet::from_toml(
        &rules(
            r#"model.churn > 0.6 and in_segment("senior_wealth") and balance_now >= 0"#,
            "daily",
        ),
        "bank-rules.toml",
    )?;
    let t = table(4, &[("balance_now", vec![Some(10.0); 4])]);
    let signals = Signals {
        models: HashMap::from([(
            "model.churn".to_string(),
            vec![Some(0.9), Some(0.9), Some(0.3), None],
        )]),
        segments: HashMap::from([(
            "rule:senior_wealth".to_string(),
            vec![true, false, true, true],
        )]),
    };
    assert_eq!(
        Signals::wanted(&set),
        (
            vec!["model.churn".to_string()],
            vec!["rule:senior_wealth".to_string()]
        )
    );
    let standings = vec![Standing::default(); 4];
    let inputs = RuleInputs {
        table: &t,
        standings: &standings,
        signals: Some(&signals),
    };
    let hits = evaluate_batch(&set, &inputs, &Cooldowns::new());
    // Only the first customer: a high churn score (the second is not a
    // member, the third scores low, the fourth was not scored).
    let customers: Vec<i64> = hits.iter().map(|h| h.customer_id).collect();
    assert_eq!(customers, [1]);
    assert_eq!(hits[0].message, "churn 90%");
    let evidence: Vec<&str> = hits[0].evidence.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        evidence,
        [
            "model.churn",
            "in_segment(\"senior_wealth\")",
            "balance_now"
        ]
    );
    // Without signals nothing is known: no alert (a missing score never matches).
    let blind = RuleInputs {
        signals: None,
        ..inputs
    };
    assert!(evaluate_batch(&set, &blind, &Cooldowns::new()).is_empty());
    Ok(())
}

#[test]
fn unknown_models_and_segments_are_refused_with_the_file_and_line() -> TestResult {
    // The rule's `when` is on line 7 of the file.
    let e = load_error(&rules("model.churm > 0.6", "daily"))?;
    let text = e.to_string();
    assert!(
        text.starts_with("bank-rules.toml:7: rule \"churn_watch\""),
        "{text}"
    );
    assert!(text.contains("unknown variable `model.churm`"), "{text}");
    let e = load_error(&rules("model.propensity.yacht > 0.6", "daily"))?;
    assert!(e.to_string().contains("model.propensity.yacht"), "{e}");
    let e = load_error(&rules(r#"in_segment("tier:gold")"#, "daily"))?;
    assert!(
        e.to_string().contains("unknown segment \"tier:gold\""),
        "{e}"
    );
    let e = load_error(&rules(r#"in_segment(senior_wealth)"#, "daily"))?;
    assert!(
        e.to_string().contains("a segment code in double quotes"),
        "{e}"
    );
    // A model score is a number: compared with a string it is refused.
    let e = load_error(&rules(r#"model.default == "high""#, "daily"))?;
    assert!(matches!(e, RuleError::Expression { line: 7, .. }), "{e}");
    // The live path keeps no model score or segment current.
    let e = load_error(&rules(
        "model.churn > 0.6 and txn_count_1 > 0",
        "transaction",
    ))?;
    assert!(e.to_string().contains("`model.churn` is not one"), "{e}");
    // Every model kind of the registry and each segment form loads.
    for when in [
        "model.default >= 0.2",
        "model.propensity.wealth > 0.3 or model.propensity.precious_metal > 0.3",
        r#"in_segment("tier:affluent") or in_segment("affluent")"#,
        r#"in_segment("cluster:3") and not in_segment("rule:young_digital")"#,
    ] {
        RuleSet::from_toml(&rules(when, "daily"), "bank-rules.toml")
            .map_err(|e| format!("{when}: {e}"))?;
    }
    Ok(())
}

#[test]
fn rules_may_only_read_segments_the_segment_file_makes() -> TestResult {
    let shipped = SegmentConfig::default_config();
    let ok = RuleSet::from_toml(
        &rules(
            r#"in_segment("senior_wealth") and in_segment("cluster:8")"#,
            "daily",
        ),
        "r.toml",
    )?;
    ok.check_segments(&shipped)?;
    for missing in [r#"in_segment("rule:vip")"#, r#"in_segment("cluster:9")"#] {
        let set = RuleSet::from_toml(&rules(missing, "daily"), "r.toml")?;
        let e = set
            .check_segments(&shipped)
            .err()
            .ok_or_else(|| format!("{missing} accepted"))?;
        assert!(
            e.to_string().starts_with("r.toml:7: rule \"churn_watch\""),
            "{e}"
        );
        assert!(e.to_string().contains("makes no such segment"), "{e}");
    }
    Ok(())
}

fn segment_config(clustering: &str, rules: &str) -> Result<SegmentConfig, SegmentConfigError> {
    SegmentConfig::from_named_toml(
        &format!(
            "[tiers]\naffluent_from = 50_000\nhigh_net_worth_from = 6_000_000\n\
             [clustering]\n{clustering}\n{rules}"
        ),
        "bank-segments.toml",
    )
}

const NO_CLUSTERS: &str = "enabled = false\nfeatures = []";

#[test]
fn a_rule_segment_reads_another_segments_membership_and_a_model_score() -> TestResult {
    let rules = "[[rules]]\ncode = \"senior\"\nname = \"Senior\"\nwhen = 'age_years >= 55'\n\
                 [[rules]]\ncode = \"senior_leaving\"\nname = \"Seniors likely to leave\"\n\
                 when = 'in_segment(\"senior\") and model.churn >= 0.5'\n\
                 [[rules]]\ncode = \"affluent_not_senior\"\nname = \"Affluent, not senior\"\n\
                 when = 'in_segment(\"tier:affluent\") and not in_segment(\"rule:senior\")'\n";
    let config = segment_config(NO_CLUSTERS, rules)?;
    let t = table(
        4,
        &[
            (
                "age_years",
                vec![Some(60.0), Some(70.0), Some(30.0), Some(40.0)],
            ),
            (
                "aum",
                vec![Some(100.0), Some(80_000.0), Some(90_000.0), Some(10.0)],
            ),
        ],
    );
    let input = SegmentInput::without_health(&t).with_models(HashMap::from([(
        "model.churn".to_string(),
        vec![Some(0.7), Some(0.2), Some(0.9), None],
    )]));
    let s = assign(&config, &input)?;
    let members = |code: &str| s.segment(code).map(|x| x.members.clone());
    assert_eq!(members("rule:senior"), Some(vec![0, 1]));
    assert_eq!(members("rule:senior_leaving"), Some(vec![0]));
    assert_eq!(members("rule:affluent_not_senior"), Some(vec![2]));
    // Without the model's scores no one matches the score condition.
    let blind = assign(&config, &SegmentInput::without_health(&t))?;
    assert_eq!(
        blind
            .segment("rule:senior_leaving")
            .map(|x| x.members.len()),
        Some(0)
    );
    Ok(())
}

#[test]
fn a_rule_segment_may_not_read_a_later_or_unknown_segment() -> TestResult {
    let forward = "[[rules]]\ncode = \"first\"\nname = \"First\"\n\
                   when = 'in_segment(\"second\")'\n\
                   [[rules]]\ncode = \"second\"\nname = \"Second\"\nwhen = 'age_years > 1'\n";
    let cluster = "[[rules]]\ncode = \"c\"\nname = \"C\"\nwhen = 'in_segment(\"cluster:1\")'\n";
    let model = "[[rules]]\ncode = \"m\"\nname = \"M\"\nwhen = 'model.chrun > 0.5'\n";
    for (clustering, rules, line, wanted) in [
        (
            NO_CLUSTERS,
            forward,
            10,
            "names no segment made before this one",
        ),
        (
            NO_CLUSTERS,
            cluster,
            10,
            "names no segment made before this one",
        ),
        (
            "features = [\"age_years\"]\nk_max = 3",
            "[[rules]]\ncode = \"c\"\nname = \"C\"\nwhen = 'in_segment(\"cluster:4\")'\n",
            10,
            "names no segment made before this one",
        ),
        (NO_CLUSTERS, model, 10, "unknown variable `model.chrun`"),
    ] {
        match segment_config(clustering, rules) {
            Err(SegmentConfigError::Invalid { file, problems }) => {
                assert_eq!(file, "bank-segments.toml");
                let text = problems[0].problem.as_str();
                assert!(text.contains(&format!("line {line}")), "{text}");
                assert!(text.contains(wanted), "{text}");
            }
            other => return Err(format!("{rules}: {other:?}").into()),
        }
    }
    // A cluster up to k_max is fine when clustering is on.
    segment_config(
        "features = [\"age_years\"]\nk_max = 3",
        "[[rules]]\ncode = \"c\"\nname = \"C\"\nwhen = 'in_segment(\"cluster:3\")'\n",
    )?;
    Ok(())
}

/// Rows at given centres with a small deterministic spread, plus `aum`.
fn points(groups: &[(usize, [f64; 2])]) -> FeatureTable {
    let mut age = Vec::new();
    let mut digital = Vec::new();
    for (n, centre) in groups {
        for i in 0..*n {
            let jitter = ((i * 37) % 101) as f64 / 101.0 - 0.5;
            let jitter2 = ((i * 53) % 97) as f64 / 97.0 - 0.5;
            age.push(Some(centre[0] + jitter));
            digital.push(Some(centre[1] + jitter2));
        }
    }
    let rows = age.len();
    table(
        rows,
        &[
            ("age_years", age),
            ("digital_share_90", digital),
            ("aum", vec![Some(1_000.0); rows]),
        ],
    )
}

const TWO_FEATURES: &str =
    "features = [\"age_years\", \"digital_share_90\"]\nk_min = 2\nk_max = 6\nlog_money = false\nseed = 7\nrestarts = 3";

#[test]
fn k_is_chosen_within_the_share_limit_not_by_a_far_minority() -> TestResult {
    // Three groups of 300 close to each other and 100 customers far away:
    // k = 2 (900 against 100) has the best silhouette but one cluster of 90%.
    let t = points(&[
        (300, [0.0, 0.0]),
        (300, [6.0, 0.0]),
        (300, [3.0, 5.0]),
        (100, [200.0, 200.0]),
    ]);
    let s = assign(
        &segment_config(TWO_FEATURES, "")?,
        &SegmentInput::without_health(&t),
    )?;
    let ClusteringOutcome::Done(summary) = &s.clustering else {
        return Err(format!("not clustered: {:?}", s.clustering).into());
    };
    let silhouette = |k: usize| {
        summary
            .silhouettes
            .iter()
            .find(|(c, _)| *c == k)
            .map(|(_, s)| *s)
    };
    let best = summary
        .silhouettes
        .iter()
        .copied()
        .fold((0, f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
    assert_eq!(best.0, 2, "silhouettes {:?}", summary.silhouettes);
    assert_eq!(summary.k, 4, "silhouettes {:?}", summary.silhouettes);
    assert!(silhouette(4) < silhouette(2));
    assert!(summary.within_share);
    assert!(summary.clusters.iter().all(|c| c.share <= 0.5));
    assert!(summary
        .clusters
        .iter()
        .all(|c| !c.description.contains("No clear structure")));
    Ok(())
}

#[test]
fn data_without_structure_are_clustered_and_the_description_says_so() -> TestResult {
    // 800 identical customers and 200 spread along a line: whatever k, the
    // 800 share one cluster (k-means cannot split equal points).
    let mut age = vec![Some(40.0); 800];
    let mut digital = vec![Some(0.5); 800];
    for i in 0..200 {
        age.push(Some(10.0 + f64::from(i) * 0.3));
        digital.push(Some(0.9));
    }
    let t = table(
        1_000,
        &[
            ("age_years", age),
            ("digital_share_90", digital),
            ("aum", vec![Some(1_000.0); 1_000]),
        ],
    );
    let s = assign(
        &segment_config(TWO_FEATURES, "")?,
        &SegmentInput::without_health(&t),
    )?;
    let ClusteringOutcome::Done(summary) = &s.clustering else {
        return Err(format!("not clustered: {:?}", s.clustering).into());
    };
    assert!(!summary.within_share);
    assert!(summary.largest_shares.iter().all(|(_, share)| *share > 0.5));
    for c in &summary.clusters {
        assert!(
            c.description.contains("No clear structure"),
            "{}",
            c.description
        );
        assert!(
            c.description_zh.contains("无明显分群结构"),
            "{}",
            c.description_zh
        );
    }
    // No limit: the same data are clustered without the caveat.
    let s = assign(
        &segment_config(&format!("{TWO_FEATURES}\nmax_cluster_share = 1.0"), "")?,
        &SegmentInput::without_health(&t),
    )?;
    let ClusteringOutcome::Done(summary) = &s.clustering else {
        return Err("not clustered".into());
    };
    assert!(summary.within_share);
    // A share outside (0, 1] is refused, naming the field.
    let e = segment_config(&format!("{TWO_FEATURES}\nmax_cluster_share = 0.0"), "")
        .err()
        .ok_or("accepted a share of 0")?;
    assert!(
        e.to_string().contains("clustering.max_cluster_share"),
        "{e}"
    );
    Ok(())
}
