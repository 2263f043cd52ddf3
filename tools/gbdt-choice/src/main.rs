//! Compares the gradient-boosting crates that build on stable Rust, on the
//! same folds of the same extracts: hessboost (through rapport-models),
//! forust-ml and gbdt (gbdt-rs). `perpetual` is not measured: every release
//! (0.9 to 2.3) needs a nightly compiler (`#![feature(array_ptr_get)]`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use rapport_models::extract::{Column, Dataset, MISSING_LEVEL};
use rapport_models::gbdt::{Gbdt, GbdtConfig};
use rapport_models::{folds, metrics, read_extract, ExtractSpec};

/// Column-major f64 copy of `rows` (categories as their codes, missing NaN).
fn column_major(data: &Dataset, rows: &[usize]) -> Vec<f64> {
    let mut out = Vec::with_capacity(rows.len() * data.features.len());
    for f in &data.features {
        for &r in rows {
            out.push(match &f.column {
                Column::Numeric(v) => v[r],
                Column::Categorical { codes, .. } if codes[r] == MISSING_LEVEL => f64::NAN,
                Column::Categorical { codes, .. } => f64::from(codes[r]),
            });
        }
    }
    out
}

fn labels(data: &Dataset, rows: &[usize]) -> Vec<f64> {
    rows.iter().map(|&r| f64::from(data.target[r])).collect()
}

fn forust(data: &Dataset, train: &[usize], test: &[usize]) -> Vec<f64> {
    use forust_ml::metric::Metric;
    use forust_ml::objective::ObjectiveType;
    use forust_ml::{GradientBooster, Matrix};
    let (fit, valid) = folds::stratified_split(&data.target, train, 0.15, 42);
    let (xf, yf) = (column_major(data, &fit), labels(data, &fit));
    let (xv, yv) = (column_major(data, &valid), labels(data, &valid));
    let wv = vec![1.0; valid.len()];
    let mut model = GradientBooster::default()
        .set_objective_type(ObjectiveType::LogLoss)
        .set_iterations(2000)
        .set_learning_rate(0.05)
        .set_max_depth(4)
        .set_l2(1.0)
        .set_min_leaf_weight(2.0)
        .set_subsample(0.8)
        .set_colsample_bytree(0.8)
        .set_evaluation_metric(Some(Metric::AUC))
        .set_early_stopping_rounds(Some(60));
    let mf = Matrix::new(&xf, fit.len(), data.features.len());
    let mv = Matrix::new(&xv, valid.len(), data.features.len());
    model
        .fit_unweighted(&mf, &yf, Some(vec![(mv, yv.as_slice(), wv.as_slice())]))
        .expect("forust trains");
    let xt = column_major(data, test);
    let mt = Matrix::new(&xt, test.len(), data.features.len());
    model.predict(&mt, true)
}

fn gbdt_rs(data: &Dataset, train: &[usize], test: &[usize]) -> Vec<f64> {
    use gbdt::config::Config;
    use gbdt::decision_tree::{Data, DataVec};
    use gbdt::gradient_boost::GBDT;
    let width = data.features.len();
    let rows_of = |rows: &[usize]| -> DataVec {
        let cm = column_major(data, rows);
        (0..rows.len())
            .map(|i| {
                // gbdt-rs has no missing-value handling: missing becomes a sentinel.
                let feature = (0..width)
                    .map(|j| {
                        let v = cm[j * rows.len() + i];
                        if v.is_nan() { -1e30 } else { v as f32 }
                    })
                    .collect();
                Data::new_training_data(feature, 1.0, if data.target[rows[i]] == 1 { 1.0 } else { -1.0 }, None)
            })
            .collect()
    };
    let mut cfg = Config::new();
    cfg.set_feature_size(width);
    cfg.set_max_depth(4);
    cfg.set_iterations(300); // no early stopping in gbdt-rs
    cfg.set_shrinkage(0.05);
    cfg.set_loss("LogLikelyhood");
    cfg.set_data_sample_ratio(0.8);
    cfg.set_feature_sample_ratio(0.8);
    cfg.set_training_optimization_level(2);
    let mut model = GBDT::new(&cfg);
    let mut train_data = rows_of(train);
    model.fit(&mut train_data);
    model.predict(&rows_of(test)).into_iter().map(f64::from).collect()
}

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "../shared/datasets".into()));
    let berka = std::env::args().nth(2).map(PathBuf::from);
    let mut sets: Vec<(&str, PathBuf, ExtractSpec, usize)> = vec![
        ("Churn_Modelling", root.join("churn_modelling/Churn_Modelling.csv.gz"), spec("Exited", &["RowNumber", "CustomerId", "Surname"]), 1),
        ("bank-additional-full", root.join("bank_marketing/bank-additional-full.csv.gz"), spec("y", &["duration"]), 1),
        ("Taiwan", root.join("taiwan_credit_default/UCI_Credit_Card.csv.gz"), spec("default.payment.next.month", &["ID"]), 1),
    ];
    if let Some(path) = berka {
        sets.push(("Berka loans", path, spec("bad", &["loan_id", "loan_date"]), 5));
    }
    println!("| data set | crate | AUC (mean of folds) | sd | seconds |");
    println!("|---|---|---:|---:|---:|");
    for (name, path, spec, repeats) in sets {
        let (data, _) = read_extract(Path::new(&path), &spec).expect("extract reads");
        let all: Vec<usize> = (0..data.len()).collect();
        type Learner = Box<dyn Fn(&Dataset, &[usize], &[usize]) -> Vec<f64>>;
        let learners: Vec<(&str, Learner)> = vec![
            ("hessboost 0.4", Box::new(|d: &Dataset, tr: &[usize], te: &[usize]| {
                Gbdt::fit(d, tr, &GbdtConfig::default()).expect("hessboost trains").predict(d, te).expect("predicts")
            })),
            ("forust-ml 0.8", Box::new(forust)),
            ("gbdt 0.1.3", Box::new(gbdt_rs)),
        ];
        for (crate_name, learn) in learners {
            let started = Instant::now();
            let mut aucs = Vec::new();
            for repeat in 0..repeats {
                let folds = folds::stratified_folds(&data.target, &all, 5, 42 + repeat as u64);
                for (k, test) in folds.iter().enumerate() {
                    let train: Vec<usize> = folds.iter().enumerate().filter(|(j, _)| *j != k).flat_map(|(_, r)| r.iter().copied()).collect();
                    let p = learn(&data, &train, test);
                    let y: Vec<u8> = test.iter().map(|&r| data.target[r]).collect();
                    aucs.push(metrics::auc(&p, &y).expect("both classes"));
                }
            }
            let mean = aucs.iter().sum::<f64>() / aucs.len() as f64;
            let sd = (aucs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (aucs.len() - 1) as f64).sqrt();
            println!("| {name} | {crate_name} | {mean:.4} | {sd:.4} | {:.1} |", started.elapsed().as_secs_f64());
        }
    }
}

fn spec(target: &str, exclude: &[&str]) -> ExtractSpec {
    ExtractSpec {
        target: target.into(),
        exclude: exclude.iter().map(|s| s.to_string()).collect(),
        ..ExtractSpec::default()
    }
}
