//! Training and validation on small real samples cut from the shared data
//! sets (see tests/data/make_samples.py).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use rapport_models::extract::read_extract_bytes;
use rapport_models::{
    read_extract, validate, Algorithm, ExtractSpec, Model, TrainConfig, TrainedModel,
};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn churn_spec() -> ExtractSpec {
    ExtractSpec {
        target: "Exited".into(),
        exclude: vec!["RowNumber".into(), "Surname".into()],
        id: Some("CustomerId".into()),
        ..ExtractSpec::default()
    }
}

#[test]
fn churn_sample_validates_both_algorithms_and_the_artefact_round_trips() {
    let (data, report) = read_extract(&data("churn_sample.csv"), &churn_spec()).unwrap();
    assert_eq!(report.rows_read, 1000);
    assert_eq!(report.rows_accepted, 1000);
    assert_eq!(report.positive, "1");
    assert_eq!(report.positives, 187);
    assert_eq!(report.categorical_features, ["Geography", "Gender"]);
    let cfg = TrainConfig::default();
    let validation = validate(&data, &cfg).unwrap();
    assert_eq!(validation.scheme, "stratified 5-fold × 1 repeat");
    for algo in &validation.algorithms {
        assert_eq!(algo.folds.len(), 5);
        assert_eq!(algo.folds.iter().map(|f| f.test_rows).sum::<usize>(), 1000);
        // The full file gives about 0.85; a 1,000-row sample a little less.
        assert!(algo.auc > 0.75 && algo.auc < 0.95, "{:?}", algo.algorithm);
        assert!(algo.ks > 0.3, "{:?}", algo);
        assert!(algo.lift_at_10 > 2.0);
        assert_eq!(
            algo.calibration.iter().map(|b| b.count).sum::<usize>(),
            1000
        );
    }
    for algorithm in [Algorithm::Scorecard, Algorithm::Gbdt] {
        let trained = TrainedModel::fit(algorithm, &data, &report, &validation, &cfg).unwrap();
        assert!(!trained.features.contains(&"CustomerId".to_string()));
        let rows: Vec<usize> = (0..data.len()).collect();
        let before = trained.model.predict(&data, &rows).unwrap();
        let again = TrainedModel::from_json(&trained.to_json().unwrap()).unwrap();
        let after = again.model.predict(&data, &rows).unwrap();
        assert_eq!(
            before, after,
            "{algorithm:?} predicts the same after a round trip"
        );
        let reasons = again.model.explain(&data, &rows[..3], 3).unwrap();
        assert_eq!(reasons.len(), 3);
        assert!(reasons.iter().all(|r| r.len() == 3));
        if let Model::Scorecard(card) = &again.model {
            // Age is the strongest churn driver and keeps its inverted U.
            let age = card
                .features
                .iter()
                .find(|f| f.binning.feature == "Age")
                .unwrap();
            assert!(age.binning.iv > 0.3);
            let scores = card.scores(&data, &rows[..1]).unwrap();
            let parts = card.explain(&data, 0).unwrap();
            let sum: f64 = parts.iter().map(|p| p.points).sum();
            assert!((sum - scores[0]).abs() < 1e-9);
        }
    }
}

#[test]
fn a_shuffled_target_validates_at_chance() {
    // If binning or early stopping saw the test fold, a target with no
    // relation to the features would still score well above 0.5.
    let (mut data, _) = read_extract(&data("churn_sample.csv"), &churn_spec()).unwrap();
    let n = data.target.len();
    let shuffled: Vec<u8> = (0..n).map(|i| data.target[(i * 7919 + 13) % n]).collect();
    data.target = shuffled;
    let validation = validate(&data, &TrainConfig::default()).unwrap();
    for algo in &validation.algorithms {
        assert!(
            (algo.auc - 0.5).abs() < 0.07,
            "{:?} AUC {} on a shuffled target",
            algo.algorithm,
            algo.auc
        );
    }
}

#[test]
fn bank_marketing_sample_reads_semicolons_and_quotes() {
    let spec = ExtractSpec {
        target: "y".into(),
        exclude: vec!["duration".into()],
        ..ExtractSpec::default()
    };
    let (data, report) = read_extract(&data("bank_additional_sample.csv"), &spec).unwrap();
    assert_eq!(report.delimiter, ";");
    assert_eq!(report.positive, "yes");
    assert_eq!(report.rows_accepted, 1030);
    assert!(report.categorical_features.contains(&"job".to_string()));
    assert!(report.numeric_features.contains(&"euribor3m".to_string()));
    assert!(data.feature("duration").is_none());
    let validation = validate(&data, &TrainConfig::default()).unwrap();
    let best = validation.best_report().unwrap();
    assert!(best.auc > 0.7, "{best:?}");
}

#[test]
fn a_damaged_extract_keeps_its_bad_rows_with_their_reason() {
    let text = std::fs::read_to_string(data("churn_sample.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(5, "99999,15999999,Broken,600,France");
    let bad_target = lines[8].rsplit_once(',').unwrap().0.to_string() + ",";
    lines[8] = &bad_target;
    let damaged = lines.join("\n");
    let (data, report) =
        read_extract_bytes(Path::new("damaged.csv"), damaged.as_bytes(), &churn_spec()).unwrap();
    assert_eq!(report.rows_read, 1001);
    assert_eq!(report.rows_accepted, 999);
    assert_eq!(data.len(), 999);
    assert_eq!(report.rejected.len(), 2);
    assert_eq!(report.rejected[0].row, 6);
    assert_eq!(
        report.rejected[0].reason,
        "has 5 fields where the header has 14"
    );
    assert_eq!(report.rejected[0].raw, "99999,15999999,Broken,600,France");
    assert_eq!(report.rejected[1].row, 9);
    assert_eq!(report.rejected[1].field, "Exited");
}
