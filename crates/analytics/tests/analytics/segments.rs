//! Segmentation: tiers on their boundaries, k-means on planted blobs (exact
//! recovery, the planted k chosen by silhouette, determinism for a seed),
//! generated descriptions, rule segments with score, band and tier, KPIs,
//! and configuration errors that name the field.

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rapport_analytics::segment::kmeans::{self, ClusteringPlan, KChoice, Matrix};
use rapport_analytics::segment::{
    assign, ClusteringOutcome, ClusteringSummary, SegmentConfigError, SegmentKind, Tier,
};
use rapport_analytics::{
    Band, FeatureColumn, FeatureTable, SegmentConfig, SegmentError, SegmentInput, Segmentation,
    FEATURES,
};
use std::collections::HashMap;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn table(columns: Vec<(&str, Vec<Option<f64>>)>) -> FeatureTable {
    let rows = columns.first().map_or(0, |c| c.1.len());
    FeatureTable {
        as_of: NaiveDate::from_ymd_opt(2025, 6, 30).unwrap_or_default(),
        customer_ids: (1..=rows as i64).collect(),
        customer_keys: (1..=rows).map(|i| format!("C{i}")).collect(),
        columns: columns
            .into_iter()
            .map(|(name, values)| FeatureColumn {
                name: name.to_string(),
                values,
            })
            .collect(),
    }
}

/// A configuration with the default tiers, the given `[clustering]` body
/// (empty: clustering disabled) and rules.
fn config(clustering: &str, rules: &str) -> Result<SegmentConfig, SegmentConfigError> {
    let clustering = if clustering.is_empty() {
        "[clustering]\nenabled = false\nfeatures = []\n".to_string()
    } else {
        format!("[clustering]\n{clustering}\n")
    };
    SegmentConfig::from_toml(&format!(
        "[tiers]\naffluent_from = 50_000\nhigh_net_worth_from = 6_000_000\n{clustering}{rules}"
    ))
}

fn clustering(segmentation: &Segmentation) -> Result<&ClusteringSummary, String> {
    match &segmentation.clustering {
        ClusteringOutcome::Done(summary) => Ok(summary),
        other => Err(format!("expected a clustering, got {other:?}")),
    }
}

/// Whether two labellings are the same partition (equal up to relabelling).
fn same_partition(a: &[usize], b: &[usize]) -> bool {
    let mut forward = HashMap::new();
    let mut backward = HashMap::new();
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            *forward.entry(*x).or_insert(*y) == *y && *backward.entry(*y).or_insert(*x) == *x
        })
}

/// `per_blob` points uniformly within ±spread of each centre, blobs
/// interleaved row by row; returns the columns and each row's blob.
fn blobs(
    centres: &[Vec<f64>],
    per_blob: usize,
    spread: f64,
    seed: u64,
) -> (Vec<Vec<f64>>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dims = centres.first().map_or(0, Vec::len);
    let mut columns = vec![Vec::new(); dims];
    let mut planted = Vec::new();
    for _ in 0..per_blob {
        for (b, centre) in centres.iter().enumerate() {
            for (column, c) in columns.iter_mut().zip(centre) {
                column.push(c + rng.random_range(-spread..spread));
            }
            planted.push(b);
        }
    }
    (columns, planted)
}

const BLOB_FEATURES: [&str; 3] = ["age_years", "digital_share_90", "credit_utilisation"];

/// A table of planted blobs over [`BLOB_FEATURES`], with an `aum` column.
fn blob_table(centres: &[Vec<f64>], per_blob: usize, seed: u64) -> (FeatureTable, Vec<usize>) {
    let (columns, planted) = blobs(centres, per_blob, 1.0, seed);
    let rows = planted.len();
    let mut named: Vec<(&str, Vec<Option<f64>>)> = BLOB_FEATURES
        .iter()
        .zip(columns)
        .map(|(name, values)| (*name, values.into_iter().map(Some).collect()))
        .collect();
    named.push(("aum", vec![Some(1000.0); rows]));
    (table(named), planted)
}

fn blob_clustering(k: &str, seed: u64) -> String {
    format!(
        "features = [\"age_years\", \"digital_share_90\", \"credit_utilisation\"]\n{k}\nseed = {seed}\nrestarts = 3\n"
    )
}

// ---------------------------------------------------------------- configuration

#[test]
fn the_shipped_configuration_loads() -> TestResult {
    let config = SegmentConfig::from_toml(rapport_analytics::segment::DEFAULT_SEGMENTS_TOML)?;
    assert_eq!(config, SegmentConfig::default_config());
    assert_eq!(config.tiers.affluent_from, 50_000.0);
    assert_eq!(config.tiers.high_net_worth_from, 6_000_000.0);
    assert!(config.clustering.enabled);
    assert_eq!(config.clustering.k, None);
    assert_eq!(config.clustering.features.len(), 8);
    for f in &config.clustering.features {
        assert!(
            FEATURES.iter().any(|spec| spec.name == f),
            "{f} is not catalogued"
        );
    }
    assert!(config.rules.iter().any(|r| r.code == "senior_wealth"));
    Ok(())
}

#[test]
fn a_rule_segment_with_a_bad_expression_is_reported_by_segment_and_column() -> TestResult {
    let rules =
        "[[rules]]\ncode = \"seniors\"\nname = \"Seniors\"\nwhen = \"age_years >= and aum > 1\"\n";
    let Err(e) = config("", rules) else {
        return Err("a bad expression was accepted".into());
    };
    let message = e.to_string();
    assert!(
        message.starts_with("segments.toml segment \"seniors\": line 10, column 14: expected"),
        "{message}"
    );
    Ok(())
}

#[test]
fn a_rule_segment_with_an_unknown_variable_or_a_type_error_is_rejected() -> TestResult {
    let rules = "[[rules]]\ncode = \"a\"\nname = \"A\"\nwhen = \"agee >= 55\"\n\
                 [[rules]]\ncode = \"b\"\nname = \"B\"\nwhen = 'band > 3'\n\
                 [[rules]]\ncode = \"c\"\nname = \"C\"\nwhen = 'tier == \"affluent\" and score >= 60'\n";
    let Err(SegmentConfigError::Invalid { problems, .. }) = config("", rules) else {
        return Err("bad rules were accepted".into());
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0].at, "segment \"a\"");
    assert!(
        problems[0].problem.contains("unknown variable `agee`"),
        "{}",
        problems[0]
    );
    assert!(
        problems[0].problem.starts_with("line 10, column 1:"),
        "{}",
        problems[0]
    );
    assert_eq!(problems[1].at, "segment \"b\"");
    Ok(())
}

#[test]
fn configuration_errors_name_the_field() -> TestResult {
    let text = "[tiers]\naffluent_from = 500_000\nhigh_net_worth_from = 100_000\n\
                [clustering]\nfeatures = [\"age_years\", \"shoe_size\", \"age_years\"]\n\
                k = 1\nk_min = 5\nk_max = 3\nrestarts = 0\n\
                [[rules]]\ncode = \"Bad Code\"\nname = \"\"\nwhen = \"age_years > 1\"\n";
    let Err(SegmentConfigError::Invalid { problems, .. }) = SegmentConfig::from_toml(text) else {
        return Err("a bad configuration was accepted".into());
    };
    let at: Vec<&str> = problems.iter().map(|p| p.at.as_str()).collect();
    for expected in [
        "tiers.high_net_worth_from",
        "clustering.features[1] (\"shoe_size\")",
        "clustering.features[2] (\"age_years\")",
        "clustering.k",
        "clustering.k_max",
        "clustering.restarts",
        "segment \"Bad Code\".code",
        "segment \"Bad Code\".name",
    ] {
        assert!(at.contains(&expected), "{expected} not in {at:?}");
    }
    let Err(e) = SegmentConfig::from_toml("[tiers]\naffluent_from = 1\nhigh_net_worth = 2\n")
    else {
        return Err("an unknown key was accepted".into());
    };
    assert!(matches!(e, SegmentConfigError::Syntax { .. }));
    assert!(e.to_string().contains("high_net_worth"), "{e}");
    Ok(())
}

// ---------------------------------------------------------------- tiers

#[test]
fn tiers_are_cut_at_their_thresholds_inclusive_and_missing_aum_is_mass() -> TestResult {
    let aum = vec![
        None,
        Some(0.0),
        Some(49_999.99),
        Some(50_000.0),
        Some(5_999_999.99),
        Some(6_000_000.0),
        Some(-10.0),
        Some(f64::NAN),
    ];
    let t = table(vec![("aum", aum)]);
    let s = assign(&config("", "")?, &SegmentInput::without_health(&t))?;
    use Tier::*;
    assert_eq!(
        s.tier_of_row,
        [
            Mass,
            Mass,
            Mass,
            Affluent,
            Affluent,
            HighNetWorth,
            Mass,
            Mass
        ]
    );
    assert_eq!(s.missing_aum, 2);
    let affluent = s.segment("tier:affluent").ok_or("no affluent segment")?;
    assert_eq!(affluent.kind, SegmentKind::Tier);
    assert_eq!(affluent.members, [3, 4]);
    assert_eq!(affluent.definition, "aum >= 50000 and aum < 6000000");
    assert_eq!(
        affluent.kpis.median_aum,
        Some((50_000.0 + 5_999_999.99) / 2.0)
    );
    assert_eq!(affluent.member_ids(&t), [4, 5]);
    let mass = s.segment("tier:mass").ok_or("no mass segment")?;
    assert_eq!(mass.members, [0, 1, 2, 6, 7]);
    assert!(
        mass.description.starts_with("Mass: 5 customers (62%)"),
        "{}",
        mass.description
    );
    assert!(matches!(s.clustering, ClusteringOutcome::Disabled));
    Ok(())
}

#[test]
fn segment_kpis_count_score_band_and_aum_of_the_members() -> TestResult {
    let t = table(vec![(
        "aum",
        vec![Some(60_000.0), Some(80_000.0), Some(100_000.0), Some(10.0)],
    )]);
    let mut input = SegmentInput::without_health(&t);
    input.scores = vec![Some(40.0), Some(80.0), None, Some(90.0)];
    input.bands = vec![
        Some(Band::AtRisk),
        Some(Band::Healthy),
        None,
        Some(Band::Healthy),
    ];
    let s = assign(&config("", "")?, &input)?;
    let kpis = &s
        .segment("tier:affluent")
        .ok_or("no affluent segment")?
        .kpis;
    assert_eq!(kpis.count, 3);
    assert_eq!(kpis.share, 0.75);
    assert_eq!(kpis.mean_score, Some(60.0));
    assert_eq!(kpis.share_at_risk, Some(0.5));
    assert_eq!(kpis.median_aum, Some(80_000.0));
    let hnw = &s
        .segment("tier:high_net_worth")
        .ok_or("no hnw segment")?
        .kpis;
    assert_eq!((hnw.count, hnw.mean_score, hnw.median_aum), (0, None, None));
    Ok(())
}

#[test]
fn inputs_of_the_wrong_length_or_without_aum_are_refused() -> TestResult {
    let t = table(vec![("aum", vec![Some(1.0), Some(2.0)])]);
    let mut input = SegmentInput::without_health(&t);
    input.scores.pop();
    assert!(matches!(
        assign(&config("", "")?, &input),
        Err(SegmentError::RowCount {
            what: "the scores",
            expected: 2,
            found: 1
        })
    ));
    let no_aum = table(vec![("age_years", vec![Some(1.0)])]);
    assert_eq!(
        assign(&config("", "")?, &SegmentInput::without_health(&no_aum)).err(),
        Some(SegmentError::MissingFeature("aum".into()))
    );
    Ok(())
}

// ---------------------------------------------------------------- rule segments

#[test]
fn rule_segments_match_on_features_score_band_and_tier_and_null_never_matches() -> TestResult {
    let t = table(vec![
        (
            "aum",
            vec![
                Some(600_000.0),
                Some(600_000.0),
                Some(10.0),
                None,
                Some(700_000.0),
            ],
        ),
        (
            "age_years",
            vec![Some(60.0), Some(70.0), Some(80.0), Some(65.0), None],
        ),
    ]);
    let mut input = SegmentInput::without_health(&t);
    input.scores = vec![Some(75.0), Some(30.0), Some(90.0), Some(90.0), Some(90.0)];
    input.bands = vec![
        Some(Band::Healthy),
        Some(Band::AtRisk),
        Some(Band::Healthy),
        Some(Band::Healthy),
        Some(Band::Healthy),
    ];
    let rules =
        "[[rules]]\ncode = \"senior_wealth\"\nname = \"Senior wealth\"\nname_zh = \"银发财富\"\n\
                 when = 'age_years >= 55 and aum >= 500000 and band != \"at_risk\"'\n\
                 description = \"For advice\"\n\
                 [[rules]]\ncode = \"scored_affluent\"\nname = \"Scored affluent\"\n\
                 when = 'tier == \"affluent\" and score > 50'\n";
    let s = assign(&config("", rules)?, &input)?;
    let senior = s.segment("rule:senior_wealth").ok_or("no rule segment")?;
    assert_eq!(senior.kind, SegmentKind::Rule);
    assert_eq!(senior.members, [0]);
    assert_eq!(
        senior.definition,
        "age_years >= 55 and aum >= 500000 and band != \"at_risk\""
    );
    assert_eq!(
        senior.description,
        "Senior wealth: 1 customers (20%). For advice"
    );
    assert_eq!(senior.description_zh, "银发财富：1 位客户（20%）");
    let scored = s.segment("rule:scored_affluent").ok_or("no rule segment")?;
    assert_eq!(scored.members, [0, 4]);
    assert_eq!(scored.kpis.mean_score, Some(82.5));
    Ok(())
}

// ---------------------------------------------------------------- k-means

#[test]
fn k_means_recovers_planted_well_separated_blobs_exactly() -> TestResult {
    let centres = vec![
        vec![25.0, 90.0, 10.0],
        vec![45.0, 10.0, 60.0],
        vec![70.0, 50.0, 30.0],
    ];
    let (t, planted) = blob_table(&centres, 200, 7);
    let s = assign(
        &config(&blob_clustering("k = 3", 11), "")?,
        &SegmentInput::without_health(&t),
    )?;
    let summary = clustering(&s)?;
    assert_eq!(summary.k, 3);
    assert!(same_partition(&summary.cluster_of_row, &planted));
    assert!(summary.converged);
    let clusters: Vec<_> = s
        .segments
        .iter()
        .filter(|x| x.kind == SegmentKind::Cluster)
        .collect();
    assert_eq!(clusters.len(), 3);
    assert_eq!(clusters[0].code, "cluster:1");
    assert!(clusters.iter().all(|c| c.kpis.count == 200));
    Ok(())
}

#[test]
fn the_silhouette_picks_the_planted_number_of_clusters() -> TestResult {
    for (planted_k, seed) in [(3usize, 1u64), (4, 2), (6, 3)] {
        let centres: Vec<Vec<f64>> = (0..planted_k)
            .map(|b| {
                let angle = b as f64 * std::f64::consts::TAU / planted_k as f64;
                vec![
                    50.0 + 30.0 * angle.cos(),
                    50.0 + 30.0 * angle.sin(),
                    20.0 * (b % 2) as f64,
                ]
            })
            .collect();
        let (t, planted) = blob_table(&centres, 150, seed);
        let s = assign(
            &config(&blob_clustering("k_min = 2\nk_max = 8", seed), "")?,
            &SegmentInput::without_health(&t),
        )?;
        let summary = clustering(&s)?;
        assert_eq!(
            summary.k, planted_k,
            "silhouettes {:?}",
            summary.silhouettes
        );
        assert!(summary.chosen_by_silhouette);
        assert_eq!(summary.silhouettes.len(), 7);
        assert!(same_partition(&summary.cluster_of_row, &planted));
    }
    Ok(())
}

#[test]
fn the_same_seed_gives_the_same_clusters() -> TestResult {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let rows = 3_000;
    let mut column = |scale: f64| -> Vec<Option<f64>> {
        (0..rows)
            .map(|_| (rng.random::<f64>() < 0.95).then(|| rng.random::<f64>() * scale))
            .collect()
    };
    let t = table(vec![
        ("aum", column(1e6)),
        ("balance_now", column(1e5)),
        ("age_years", column(80.0)),
        ("txn_count_90", column(200.0)),
        ("digital_share_90", column(1.0)),
    ]);
    let clustering_toml =
        "features = [\"balance_now\", \"age_years\", \"txn_count_90\", \"digital_share_90\"]\n\
                           seed = 99\nfit_sample = 1000\nsilhouette_sample = 500\n";
    let cfg = config(clustering_toml, "")?;
    let first = assign(&cfg, &SegmentInput::without_health(&t))?;
    let second = assign(&cfg, &SegmentInput::without_health(&t))?;
    assert_eq!(first, second);
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let third = one_thread.install(|| assign(&cfg, &SegmentInput::without_health(&t)))?;
    assert_eq!(first, third, "the thread count changed the clusters");
    let summary = clustering(&first)?;
    assert_eq!(summary.sample_rows, 1000);
    assert!(summary
        .features
        .iter()
        .any(|f| f.name == "balance_now" && f.log));
    assert!(summary.features.iter().all(|f| f.missing > 0));
    let other = assign(
        &config(&clustering_toml.replace("99", "100"), "")?,
        &SegmentInput::without_health(&t),
    )?;
    assert_eq!(clustering(&other)?.features, summary.features);
    Ok(())
}

#[test]
fn constant_features_are_dropped_and_too_little_data_is_skipped_not_failed() -> TestResult {
    let centres = vec![vec![20.0, 0.9, 0.0], vec![70.0, 0.1, 0.0]];
    let (mut t, planted) = blob_table(&centres, 50, 3);
    // credit_utilisation: the same for everyone who has it, missing for some.
    t.columns[2].values = (0..t.len()).map(|i| (i % 3 != 0).then_some(0.4)).collect();
    let s = assign(
        &config(&blob_clustering("k = 2", 1), "")?,
        &SegmentInput::without_health(&t),
    )?;
    let summary = clustering(&s)?;
    assert_eq!(summary.dropped.len(), 1);
    assert_eq!(summary.dropped[0].name, "credit_utilisation");
    assert_eq!(summary.features.len(), 2);
    assert!(same_partition(&summary.cluster_of_row, &planted));

    let one_row = table(vec![
        ("aum", vec![Some(1.0)]),
        ("age_years", vec![Some(30.0)]),
    ]);
    let s = assign(
        &config("features = [\"age_years\"]\nk = 2", "")?,
        &SegmentInput::without_health(&one_row),
    )?;
    assert!(
        matches!(s.clustering, ClusteringOutcome::Skipped { .. }),
        "{:?}",
        s.clustering
    );
    assert_eq!(s.segments.len(), 3);

    let empty = table(vec![("aum", vec![]), ("age_years", vec![])]);
    let s = assign(
        &config("features = [\"age_years\"]", "")?,
        &SegmentInput::without_health(&empty),
    )?;
    assert!(
        matches!(s.clustering, ClusteringOutcome::Skipped { .. }),
        "{:?}",
        s.clustering
    );
    assert!(s
        .segments
        .iter()
        .all(|x| x.kpis.count == 0 && x.kpis.share == 0.0));
    Ok(())
}

#[test]
fn cluster_descriptions_name_the_distinctive_features_with_high_and_low_words() -> TestResult {
    // Young digital credit users against older branch customers.
    let rows = 400;
    let young = |i: usize| i.is_multiple_of(4);
    let t = table(vec![
        ("aum", vec![Some(1_000.0); rows]),
        (
            "age_years",
            (0..rows)
                .map(|i| {
                    Some(if young(i) {
                        26.0 + (i % 5) as f64
                    } else {
                        58.0 + (i % 7) as f64
                    })
                })
                .collect(),
        ),
        (
            "digital_share_90",
            (0..rows)
                .map(|i| Some(if young(i) { 0.9 } else { 0.2 } + (i % 3) as f64 * 0.01))
                .collect(),
        ),
        (
            "tenure_months",
            (0..rows).map(|i| Some(100.0 + (i % 11) as f64)).collect(),
        ),
    ]);
    let clustering_toml = "features = [\"age_years\", \"digital_share_90\", \"tenure_months\"]\nk = 2\ndescribe_features = 2\n";
    let s = assign(
        &config(clustering_toml, "")?,
        &SegmentInput::without_health(&t),
    )?;
    let summary = clustering(&s)?;
    let young_cluster = &summary.clusters[1];
    assert_eq!(young_cluster.size, 100);
    let name = young_cluster.name.to_lowercase();
    assert!(name.contains("young") && name.contains("digital"), "{name}");
    assert!(young_cluster.name_zh.contains("年轻") && young_cluster.name_zh.contains("数字化"));
    let d = &young_cluster.description;
    assert!(d.contains(": 100 customers (25%)"), "{d}");
    assert!(d.contains("age very low: 28 (portfolio "), "{d}");
    assert!(
        d.contains("digital share very high: 0.91 (portfolio 0.2"),
        "{d}"
    );
    assert!(!d.contains("tenure"), "{d}");
    let zh = &young_cluster.description_zh;
    assert!(
        zh.contains("100 位客户（25%）") && zh.contains("数字渠道占比很高：0.91（全体 0.2"),
        "{zh}"
    );
    let older = &summary.clusters[0];
    assert!(
        older.name.to_lowercase().contains("older"),
        "{}",
        older.name
    );
    assert!(
        older.name.to_lowercase().contains("branch-based"),
        "{}",
        older.name
    );
    let segment = s.segment("cluster:2").ok_or("no cluster:2")?;
    assert_eq!(&segment.description, d);
    assert_eq!(segment.members.len(), 100);
    assert!(segment.members.iter().all(|&r| young(r)));
    Ok(())
}

#[test]
fn k_means_on_a_matrix_is_deterministic_and_finds_blobs_through_the_sampled_plan() -> TestResult {
    let centres = vec![
        vec![0.0, 0.0],
        vec![10.0, 0.0],
        vec![0.0, 10.0],
        vec![10.0, 10.0],
    ];
    let (columns, planted) = blobs(&centres, 5_000, 1.0, 21);
    let rows = planted.len();
    let data: Vec<f64> = (0..rows)
        .flat_map(|r| columns.iter().map(move |c| c[r]))
        .collect();
    let matrix = Matrix::from_row_major(rows, 2, data)?;
    let plan = ClusteringPlan {
        k: KChoice::BySilhouette { min: 2, max: 6 },
        seed: 3,
        restarts: 2,
        max_iterations: 50,
        fit_sample: 2_000,
        silhouette_sample: 500,
        max_share: 0.5,
    };
    let a = kmeans::cluster(&matrix, &plan)?;
    let b = kmeans::cluster(&matrix, &plan)?;
    assert_eq!(a, b);
    assert_eq!(a.k, 4);
    assert_eq!(a.sample_rows, 2_000);
    assert!(same_partition(&a.fit.labels, &planted));
    assert!(Matrix::from_row_major(1, 2, vec![1.0]).is_err());
    assert!(Matrix::from_row_major(1, 2, vec![1.0, f64::NAN]).is_err());
    Ok(())
}
