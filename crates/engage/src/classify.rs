//! Complaint classification (docs/PRODUCT.md C10): the category of a complaint from
//! its text, with a confidence, and a severity from transparent rules.
//!
//! Owns:
//! * the features of a text ([`features`]): lower-cased; English word
//!   unigrams and bigrams (split on anything not alphanumeric, the CFPB
//!   redactions `xx` / `xxxx` / `xxxxxxxx` and pure digits dropped);
//!   character 2- and 3-grams of every run of Chinese characters, so Chinese
//!   text needs no segmenter. Each feature is hashed with 64-bit FNV-1a (a
//!   one-byte kind tag, then the UTF-8 bytes, parts of a bigram separated by
//!   0x1F) into [`FEATURE_SPACE`] = 2^18 buckets; the value is
//!   `ln(1 + count)`, and the vector is scaled to unit length. FNV-1a is
//!   fixed by its definition, so a bucket never moves between builds or
//!   machines.
//! * the [`Classifier`]: a linear model over those features with a softmax
//!   on top. Two trainers: multinomial logistic regression by per-example
//!   SGD with L2 decay ([`ModelKind::LogisticRegression`], the default: it
//!   had the better macro-F1, see docs/VALIDATION.md) and multinomial naive Bayes
//!   ([`ModelKind::NaiveBayes`]). Training is deterministic given
//!   [`TrainOptions::seed`].
//! * [`Classifier::builtin`]: trained at first use on the committed
//!   training rows of two files (see `data/README.md`): real CFPB complaint
//!   narratives in English (`data/cfpb_complaints_sample.csv`, categories
//!   from CFPB's product *and* issue) and a seed set written for Rapport in
//!   Chinese and English covering all eleven categories
//!   (`data/seed_complaints.csv`). Rows marked `test` in either file are
//!   never trained on. [`Classifier::with_corrections`] trains on the same
//!   rows plus the corrections handlers made (the services keep them).
//! * [`evaluate`]: stratified k-fold cross-validation with accuracy,
//!   macro-F1, per-category precision / recall / F1 and the majority-class
//!   baseline; [`held_out_report`]: the same figures on the held-out rows,
//!   apart for real English narratives, English seeds and Chinese seeds.
//! * [`severity_of`]: severity by keyword rules in English and Chinese. These
//!   are rules, not learned, and not measured: the public data has no
//!   severity label.
//!
//! What the figures rest on: the real held-out narratives measure English
//! only (CFPB has no Chinese) and hold few fee and fraud complaints; the
//! Chinese figures rest on the seed set alone, written by the same team as
//! the training seeds, so they are optimistic. docs/VALIDATION.md gives
//! the counts.
//!
//! Must never do IO: the only data it reads is its own, compiled in with
//! `include_str!`; corrections come in as arguments.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::LazyLock;

use crate::case::ComplaintCategory;
use crate::sla::Severity;

/// Number of hash buckets: 2^18.
pub const FEATURE_SPACE: u64 = 1 << 18;

/// The committed CFPB narratives (public domain), with their split.
const SAMPLE_CSV: &str = include_str!("../data/cfpb_complaints_sample.csv");

/// The committed seed set: complaints written for Rapport in Chinese and
/// English for every category (see `data/README.md`).
const SEED_CSV: &str = include_str!("../data/seed_complaints.csv");

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Kind tags hashed in front of a feature, so a word and a character n-gram
/// with the same bytes land in different buckets.
const TAG_WORD: u8 = b'w';
const TAG_BIGRAM: u8 = b'b';
const TAG_CJK: u8 = b'c';

fn fnv1a(tag: u8, parts: &[&str]) -> u32 {
    let mut h = FNV_OFFSET;
    h ^= u64::from(tag);
    h = h.wrapping_mul(FNV_PRIME);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h ^= 0x1f;
            h = h.wrapping_mul(FNV_PRIME);
        }
        for b in part.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
    }
    // FEATURE_SPACE is 2^18, so the remainder fits in a u32.
    (h % FEATURE_SPACE) as u32
}

/// Chinese (Han) characters, including the extension blocks and the
/// compatibility ideographs.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// A word is kept unless it is a CFPB redaction (`xx`, `xxxx`, …) or a pure
/// number.
fn keep_word(word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let redaction = word.len() >= 2 && word.chars().all(|c| c == 'x');
    let digits = word.chars().all(|c| c.is_ascii_digit());
    !redaction && !digits
}

fn add_cjk_ngrams(run: &[char], counts: &mut BTreeMap<u32, f64>) {
    if run.len() == 1 {
        let s: String = run.iter().collect();
        *counts.entry(fnv1a(TAG_CJK, &[&s])).or_insert(0.0) += 1.0;
        return;
    }
    for n in 2..=3 {
        for gram in run.windows(n) {
            let s: String = gram.iter().collect();
            *counts.entry(fnv1a(TAG_CJK, &[&s])).or_insert(0.0) += 1.0;
        }
    }
}

/// The hashed feature vector of a text: `(bucket, value)` sorted by bucket,
/// unit length (empty if the text has no usable token). See the module
/// header for the recipe.
pub fn features(text: &str) -> Vec<(u32, f64)> {
    let lower = text.to_lowercase();
    let mut counts: BTreeMap<u32, f64> = BTreeMap::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut run: Vec<char> = Vec::new();
    for c in lower.chars() {
        if is_cjk(c) {
            if keep_word(&word) {
                words.push(std::mem::take(&mut word));
            }
            word.clear();
            run.push(c);
        } else {
            if !run.is_empty() {
                add_cjk_ngrams(&run, &mut counts);
                run.clear();
            }
            if c.is_alphanumeric() {
                word.push(c);
            } else {
                if keep_word(&word) {
                    words.push(std::mem::take(&mut word));
                }
                word.clear();
            }
        }
    }
    if keep_word(&word) {
        words.push(word);
    }
    if !run.is_empty() {
        add_cjk_ngrams(&run, &mut counts);
    }
    for w in &words {
        *counts.entry(fnv1a(TAG_WORD, &[w])).or_insert(0.0) += 1.0;
    }
    for pair in words.windows(2) {
        *counts
            .entry(fnv1a(TAG_BIGRAM, &[&pair[0], &pair[1]]))
            .or_insert(0.0) += 1.0;
    }
    let mut out: Vec<(u32, f64)> = counts
        .into_iter()
        .map(|(k, c)| (k, (1.0 + c).ln()))
        .collect();
    let norm = out.iter().map(|(_, v)| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        for (_, v) in &mut out {
            *v /= norm;
        }
    }
    out
}

/// Which trainer builds the linear model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Multinomial (softmax) logistic regression, per-example SGD, L2 decay.
    LogisticRegression,
    /// Multinomial naive Bayes with additive smoothing.
    NaiveBayes,
}

/// How to train a [`Classifier`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    pub kind: ModelKind,
    /// Passes over the data (logistic regression).
    pub epochs: usize,
    /// Initial step size; it decays as `lr / (1 + epoch / 10)`.
    pub learning_rate: f64,
    /// L2 penalty per example (logistic regression).
    pub l2: f64,
    /// Additive smoothing (naive Bayes).
    pub nb_alpha: f64,
    /// Seeds the order of the examples in each epoch.
    pub seed: u64,
    /// Weighs each example by `n / (classes × examples of its class)`
    /// (logistic regression), so a category with few examples is not
    /// drowned by one with many (the real narratives are two-fifths credit
    /// reporting).
    pub balanced: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            kind: ModelKind::LogisticRegression,
            epochs: 30,
            learning_rate: 1.0,
            l2: 1e-4,
            nb_alpha: 0.01,
            seed: 42,
            balanced: true,
        }
    }
}

/// SplitMix64: a small, fixed pseudo-random generator, so that training
/// is the same on every machine and release.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// The category of a complaint text, with the probability of every class
/// the model knows.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub category: ComplaintCategory,
    /// Probability of the top class, in [0, 1].
    pub confidence: f64,
    /// Every class the model was trained on with its probability, highest
    /// first; the probabilities sum to 1.
    pub scores: Vec<(ComplaintCategory, f64)>,
}

/// A linear model over hashed features: `score_c = bias_c + Σ x_f w_fc`,
/// then a softmax. Only buckets seen in training are stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Classifier {
    classes: Vec<ComplaintCategory>,
    /// Hash bucket → row of `weights`.
    rows: HashMap<u32, usize>,
    /// `rows.len() × classes.len()`, row-major.
    weights: Vec<f64>,
    bias: Vec<f64>,
}

static BUILTIN: LazyLock<Classifier> =
    LazyLock::new(|| Classifier::train(&sample_examples(), &TrainOptions::default()));

impl Classifier {
    /// Trains on `(text, category)` pairs. The classes are those present in
    /// `examples`; a model trained on nothing predicts
    /// [`ComplaintCategory::Other`] with confidence 1.
    pub fn train(examples: &[(String, ComplaintCategory)], opts: &TrainOptions) -> Classifier {
        let mut classes: Vec<ComplaintCategory> = examples.iter().map(|(_, c)| *c).collect();
        classes.sort();
        classes.dedup();
        let class_of: HashMap<ComplaintCategory, usize> =
            classes.iter().enumerate().map(|(i, c)| (*c, i)).collect();

        // Compact the hash buckets seen in training into rows.
        let mut rows: HashMap<u32, usize> = HashMap::new();
        let mut data: Vec<(Vec<(usize, f64)>, usize)> = Vec::with_capacity(examples.len());
        for (text, cat) in examples {
            let x: Vec<(usize, f64)> = features(text)
                .into_iter()
                .map(|(bucket, v)| {
                    let next = rows.len();
                    (*rows.entry(bucket).or_insert(next), v)
                })
                .collect();
            let y = class_of.get(cat).copied().unwrap_or(0);
            data.push((x, y));
        }
        let k = classes.len();
        let mut model = Classifier {
            classes,
            weights: vec![0.0; rows.len() * k],
            rows,
            bias: vec![0.0; k],
        };
        if k == 0 {
            return model;
        }
        match opts.kind {
            ModelKind::LogisticRegression => model.fit_logistic(&data, opts),
            ModelKind::NaiveBayes => model.fit_naive_bayes(&data, opts),
        }
        model
    }

    fn fit_logistic(&mut self, data: &[(Vec<(usize, f64)>, usize)], opts: &TrainOptions) {
        let k = self.classes.len();
        let mut rng = SplitMix64(opts.seed);
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut probs = vec![0.0; k];
        let mut per_class = vec![0usize; k];
        for (_, y) in data {
            per_class[*y] += 1;
        }
        let weight: Vec<f64> = per_class
            .iter()
            .map(|&n_c| {
                if opts.balanced && n_c > 0 {
                    data.len() as f64 / (k as f64 * n_c as f64)
                } else {
                    1.0
                }
            })
            .collect();
        for epoch in 0..opts.epochs {
            rng.shuffle(&mut order);
            let lr = opts.learning_rate / (1.0 + epoch as f64 / 10.0);
            for &i in &order {
                let (x, y) = &data[i];
                self.row_scores(x, &mut probs);
                softmax_in_place(&mut probs);
                for (c, p) in probs.iter().enumerate() {
                    let g = weight[*y] * (p - if c == *y { 1.0 } else { 0.0 });
                    self.bias[c] -= lr * g;
                    for (row, v) in x {
                        self.weights[row * k + c] -= lr * g * v;
                    }
                }
            }
            // L2 as one decay per epoch, equal to a decay at every example.
            let decay = (1.0 - lr * opts.l2).powi(data.len().min(i32::MAX as usize) as i32);
            for w in &mut self.weights {
                *w *= decay;
            }
        }
    }

    fn fit_naive_bayes(&mut self, data: &[(Vec<(usize, f64)>, usize)], opts: &TrainOptions) {
        let k = self.classes.len();
        let n_rows = self.rows.len();
        let mut mass = vec![0.0; n_rows * k];
        let mut docs = vec![0.0; k];
        for (x, y) in data {
            docs[*y] += 1.0;
            for (row, v) in x {
                mass[row * k + y] += v;
            }
        }
        let alpha = opts.nb_alpha.max(1e-9);
        for c in 0..k {
            let total: f64 = (0..n_rows).map(|r| mass[r * k + c]).sum();
            let denom = (total + alpha * n_rows as f64).ln();
            for r in 0..n_rows {
                self.weights[r * k + c] = (mass[r * k + c] + alpha).ln() - denom;
            }
            self.bias[c] = (docs[c] / data.len() as f64).ln();
        }
    }

    fn row_scores(&self, x: &[(usize, f64)], out: &mut [f64]) {
        let k = self.classes.len();
        out.copy_from_slice(&self.bias);
        for (row, v) in x {
            for (c, o) in out.iter_mut().enumerate() {
                *o += self.weights[row * k + c] * v;
            }
        }
    }

    /// The model trained on the built-in training rows (CFPB narratives and
    /// the seed set), built at first use.
    pub fn builtin() -> &'static Classifier {
        &BUILTIN
    }

    /// A model trained on the built-in training rows plus `corrections`
    /// (texts a handler reclassified, with the category they chose), with
    /// the default options. With no corrections it equals
    /// [`Classifier::builtin`].
    pub fn with_corrections(corrections: &[(String, ComplaintCategory)]) -> Classifier {
        let mut examples = sample_examples();
        examples.extend(corrections.iter().cloned());
        Classifier::train(&examples, &TrainOptions::default())
    }

    /// The classes this model can predict, in [`ComplaintCategory`] order.
    pub fn classes(&self) -> &[ComplaintCategory] {
        &self.classes
    }

    /// The category of `text` with its probability and those of the others.
    pub fn predict(&self, text: &str) -> Prediction {
        let k = self.classes.len();
        if k == 0 {
            return Prediction {
                category: ComplaintCategory::Other,
                confidence: 1.0,
                scores: vec![(ComplaintCategory::Other, 1.0)],
            };
        }
        let x: Vec<(usize, f64)> = features(text)
            .into_iter()
            .filter_map(|(bucket, v)| self.rows.get(&bucket).map(|row| (*row, v)))
            .collect();
        let mut probs = vec![0.0; k];
        self.row_scores(&x, &mut probs);
        softmax_in_place(&mut probs);
        let mut scores: Vec<(ComplaintCategory, f64)> =
            self.classes.iter().copied().zip(probs).collect();
        // Highest first; equal probabilities keep the category order.
        scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let (category, confidence) = scores[0];
        Prediction {
            category,
            confidence,
            scores,
        }
    }
}

fn softmax_in_place(v: &mut [f64]) {
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    if sum > 0.0 && sum.is_finite() {
        for x in v.iter_mut() {
            *x /= sum;
        }
    } else {
        let even = 1.0 / v.len().max(1) as f64;
        for x in v.iter_mut() {
            *x = even;
        }
    }
}

/// Where a labelled text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A real consumer narrative from the CFPB database (English).
    Cfpb,
    /// A complaint written for Rapport by its team (`data/seed_complaints.csv`).
    Seed,
    /// A case a handler reclassified (a stored correction).
    Correction,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cfpb => "cfpb",
            Source::Seed => "seed",
            Source::Correction => "correction",
        }
    }
}

/// Whether a built-in row is for training or kept out of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    Train,
    /// Held out: never trained on, only measured.
    Test,
}

/// One labelled complaint of the built-in data.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    pub text: String,
    pub category: ComplaintCategory,
    /// `"en"` or `"zh"`.
    pub lang: &'static str,
    pub source: Source,
    pub split: Split,
}

fn parse_split(s: &str) -> Option<Split> {
    match s {
        "train" => Some(Split::Train),
        "test" => Some(Split::Test),
        _ => None,
    }
}

/// Every built-in labelled row: the CFPB narratives
/// (`data/cfpb_complaints_sample.csv`) then the seed set
/// (`data/seed_complaints.csv`), both with their split. A row whose
/// category or split does not parse is skipped (a test checks there is
/// none).
pub fn builtin_data() -> Vec<Labelled> {
    let mut out = Vec::new();
    let mut reader = csv::Reader::from_reader(SAMPLE_CSV.as_bytes());
    for r in reader.records().filter_map(Result::ok) {
        let (Some(category), Some(split), Some(text)) = (
            r.get(3).and_then(ComplaintCategory::parse),
            r.get(4).and_then(parse_split),
            r.get(5),
        ) else {
            continue;
        };
        out.push(Labelled {
            text: text.to_string(),
            category,
            lang: "en",
            source: Source::Cfpb,
            split,
        });
    }
    let mut reader = csv::Reader::from_reader(SEED_CSV.as_bytes());
    for r in reader.records().filter_map(Result::ok) {
        let lang = match r.get(1) {
            Some("zh") => "zh",
            Some("en") => "en",
            _ => continue,
        };
        let (Some(category), Some(split), Some(text)) = (
            r.get(2).and_then(ComplaintCategory::parse),
            r.get(3).and_then(parse_split),
            r.get(4),
        ) else {
            continue;
        };
        out.push(Labelled {
            text: text.to_string(),
            category,
            lang,
            source: Source::Seed,
            split,
        });
    }
    out
}

/// The built-in training rows (CFPB and seed, split `train`) as
/// `(text, category)` pairs: what [`Classifier::builtin`] learns from.
pub fn sample_examples() -> Vec<(String, ComplaintCategory)> {
    builtin_data()
        .into_iter()
        .filter(|l| l.split == Split::Train)
        .map(|l| (l.text, l.category))
        .collect()
}

/// Precision, recall and F1 of one category in an [`Evaluation`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CategoryMetrics {
    pub category: ComplaintCategory,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Examples whose true label is this category.
    pub support: usize,
}

/// The result of [`evaluate`]: every example predicted once, by the model
/// trained on the other folds.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub n: usize,
    pub k_folds: usize,
    pub accuracy: f64,
    /// Mean F1 over the categories with support.
    pub macro_f1: f64,
    /// Accuracy of predicting each fold's training majority class.
    pub majority_baseline: f64,
    pub per_category: Vec<CategoryMetrics>,
}

impl Evaluation {
    /// A Markdown summary: the figures and the per-category table.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "n = {}, {}-fold stratified CV: accuracy {:.4}, macro-F1 {:.4}, majority baseline {:.4}\n",
            self.n, self.k_folds, self.accuracy, self.macro_f1, self.majority_baseline
        );
        let _ = writeln!(s, "| category | precision | recall | F1 | support |");
        let _ = writeln!(s, "|---|---|---|---|---|");
        for m in &self.per_category {
            let _ = writeln!(
                s,
                "| {} | {:.4} | {:.4} | {:.4} | {} |",
                m.category, m.precision, m.recall, m.f1, m.support
            );
        }
        s
    }
}

/// Stratified k-fold cross-validation: each category's examples are
/// shuffled with `seed` and dealt round-robin to `k_folds` folds (clamped
/// to 2..=n); every fold is predicted by a model trained with `opts` on the
/// others.
pub fn evaluate(
    examples: &[(String, ComplaintCategory)],
    k_folds: usize,
    seed: u64,
    opts: &TrainOptions,
) -> Evaluation {
    let n = examples.len();
    let k_folds = k_folds.clamp(2, n.max(2));
    // Deal folds per category.
    let mut by_class: BTreeMap<ComplaintCategory, Vec<usize>> = BTreeMap::new();
    for (i, (_, c)) in examples.iter().enumerate() {
        by_class.entry(*c).or_default().push(i);
    }
    let mut rng = SplitMix64(seed);
    let mut fold_of = vec![0usize; n];
    let mut dealt = 0usize;
    for idx in by_class.values_mut() {
        rng.shuffle(idx);
        for &i in idx.iter() {
            fold_of[i] = dealt % k_folds;
            dealt += 1;
        }
    }

    let mut predicted: Vec<Option<ComplaintCategory>> = vec![None; n];
    let mut baseline_hits = 0usize;
    for fold in 0..k_folds {
        let train: Vec<(String, ComplaintCategory)> = examples
            .iter()
            .zip(&fold_of)
            .filter(|(_, f)| **f != fold)
            .map(|(e, _)| e.clone())
            .collect();
        let mut counts: BTreeMap<ComplaintCategory, usize> = BTreeMap::new();
        for (_, c) in &train {
            *counts.entry(*c).or_insert(0) += 1;
        }
        let majority = counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(c, _)| *c);
        let model = Classifier::train(&train, opts);
        for (i, (text, truth)) in examples.iter().enumerate() {
            if fold_of[i] != fold {
                continue;
            }
            predicted[i] = Some(model.predict(text).category);
            if majority == Some(*truth) {
                baseline_hits += 1;
            }
        }
    }

    let pairs: Vec<(ComplaintCategory, Option<ComplaintCategory>)> = examples
        .iter()
        .zip(&predicted)
        .map(|((_, truth), p)| (*truth, *p))
        .collect();
    let (accuracy, macro_f1, per_category) = score(&pairs);
    Evaluation {
        n,
        k_folds,
        accuracy,
        macro_f1,
        majority_baseline: ratio(baseline_hits, n),
        per_category,
    }
}

/// Accuracy, macro-F1 (over the categories with support) and the
/// per-category figures of `(truth, prediction)` pairs. A category with
/// neither support nor predictions is left out.
fn score(
    pairs: &[(ComplaintCategory, Option<ComplaintCategory>)],
) -> (f64, f64, Vec<CategoryMetrics>) {
    let hits = pairs.iter().filter(|(t, p)| *p == Some(*t)).count();
    let mut per_category = Vec::new();
    let mut f1_sum = 0.0;
    let mut f1_count = 0usize;
    for &cat in ComplaintCategory::ALL {
        let support = pairs.iter().filter(|(t, _)| *t == cat).count();
        let predicted_as = pairs.iter().filter(|(_, p)| *p == Some(cat)).count();
        if support == 0 && predicted_as == 0 {
            continue;
        }
        let tp = pairs
            .iter()
            .filter(|(t, p)| *t == cat && *p == Some(cat))
            .count();
        let precision = ratio(tp, predicted_as);
        let recall = ratio(tp, support);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        if support > 0 {
            f1_sum += f1;
            f1_count += 1;
        }
        per_category.push(CategoryMetrics {
            category: cat,
            precision,
            recall,
            f1,
            support,
        });
    }
    let macro_f1 = if f1_count > 0 {
        f1_sum / f1_count as f64
    } else {
        0.0
    };
    (ratio(hits, pairs.len()), macro_f1, per_category)
}

/// One held-out set measured by [`held_out_report`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HeldOutSet {
    /// `"cfpb-en"`, `"seed-en"` or `"seed-zh"`.
    pub name: &'static str,
    pub source: Source,
    pub lang: &'static str,
    pub n: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_category: Vec<CategoryMetrics>,
}

/// The measurement of a model on the built-in rows kept out of training,
/// one figure set per source and language, with the training counts each
/// category rests on.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HeldOutReport {
    pub sets: Vec<HeldOutSet>,
    /// Training rows per category: `(category, cfpb, seed en, seed zh,
    /// corrections)`.
    pub training: Vec<(ComplaintCategory, usize, usize, usize, usize)>,
}

/// Measures `model` on every built-in held-out row (split `test`): real
/// CFPB narratives, English seed complaints and Chinese seed complaints,
/// each reported apart. `corrections` are the stored corrections the model
/// was trained on beside the built-in rows (counted, not measured).
pub fn held_out_report(
    model: &Classifier,
    corrections: &[(String, ComplaintCategory)],
) -> HeldOutReport {
    let data = builtin_data();
    let mut sets = Vec::new();
    for (name, source, lang) in [
        ("cfpb-en", Source::Cfpb, "en"),
        ("seed-en", Source::Seed, "en"),
        ("seed-zh", Source::Seed, "zh"),
    ] {
        let pairs: Vec<(ComplaintCategory, Option<ComplaintCategory>)> = data
            .iter()
            .filter(|l| l.split == Split::Test && l.source == source && l.lang == lang)
            .map(|l| (l.category, Some(model.predict(&l.text).category)))
            .collect();
        let (accuracy, macro_f1, per_category) = score(&pairs);
        sets.push(HeldOutSet {
            name,
            source,
            lang,
            n: pairs.len(),
            accuracy,
            macro_f1,
            per_category,
        });
    }
    let training = ComplaintCategory::ALL
        .iter()
        .map(|&cat| {
            let count = |source: Source, lang: &str| {
                data.iter()
                    .filter(|l| {
                        l.split == Split::Train
                            && l.category == cat
                            && l.source == source
                            && l.lang == lang
                    })
                    .count()
            };
            (
                cat,
                count(Source::Cfpb, "en"),
                count(Source::Seed, "en"),
                count(Source::Seed, "zh"),
                corrections.iter().filter(|(_, c)| *c == cat).count(),
            )
        })
        .collect();
    HeldOutReport { sets, training }
}

impl HeldOutReport {
    /// A Markdown summary: what the model trained on, then one table per
    /// held-out set.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Training rows per category:\n");
        let _ = writeln!(
            s,
            "| category | CFPB (real, en) | seed en | seed zh | corrections |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|");
        for (cat, cfpb, en, zh, corr) in &self.training {
            let _ = writeln!(s, "| {cat} | {cfpb} | {en} | {zh} | {corr} |");
        }
        for set in &self.sets {
            let _ = writeln!(
                s,
                "\nHeld out `{}` (n = {}): accuracy {:.4}, macro-F1 {:.4}\n",
                set.name, set.n, set.accuracy, set.macro_f1
            );
            let _ = writeln!(s, "| category | precision | recall | F1 | support |");
            let _ = writeln!(s, "|---|---|---|---|---|");
            for m in &set.per_category {
                let _ = writeln!(
                    s,
                    "| {} | {:.4} | {:.4} | {:.4} | {} |",
                    m.category, m.precision, m.recall, m.f1, m.support
                );
            }
        }
        s
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// One severity rule: English keywords (whole words; a space-separated
/// entry is a phrase), Chinese keywords (substrings) and the reason given.
struct SeverityRule {
    severity: Severity,
    en: &'static [&'static str],
    zh: &'static [&'static str],
    reason_en: &'static str,
    reason_zh: &'static str,
}

/// The rules, checked in order; the first that matches decides.
const SEVERITY_RULES: &[SeverityRule] = &[
    SeverityRule {
        severity: Severity::Critical,
        en: &[
            "fraud",
            "fraudulent",
            "fraudulently",
            "scam",
            "scammed",
            "scammer",
            "identity theft",
            "stolen",
            "stole",
            "unauthorized",
            "unauthorised",
            "hacked",
        ],
        zh: &[
            "诈骗",
            "盗刷",
            "被盗",
            "盗用",
            "冒用",
            "欺诈",
            "骗子",
            "未经授权",
            "身份被",
        ],
        reason_en: "fraud, theft or an unauthorised transaction: money may be at risk now",
        reason_zh: "涉及欺诈、盗用或未经授权的交易：资金可能正面临风险",
    },
    SeverityRule {
        severity: Severity::High,
        en: &[
            "lawsuit",
            "sue",
            "sued",
            "suing",
            "attorney",
            "lawyer",
            "court",
            "legal action",
            "foreclosure",
            "foreclose",
            "repossessed",
            "repossession",
        ],
        zh: &[
            "起诉", "诉讼", "律师", "法院", "仲裁", "法拍", "收房", "拍卖",
        ],
        reason_en: "legal action, foreclosure or repossession is mentioned",
        reason_zh: "提及诉讼、法拍或收回抵押物",
    },
    SeverityRule {
        severity: Severity::High,
        en: &[
            "regulator",
            "cfpb",
            "attorney general",
            "ombudsman",
            "media",
            "news",
            "journalist",
            "reporter",
        ],
        zh: &[
            "银保监",
            "金融监管",
            "监管部门",
            "人民银行",
            "12378",
            "媒体",
            "曝光",
            "记者",
            "投诉到",
        ],
        reason_en: "the customer names a regulator or the media",
        reason_zh: "客户提及监管机构或媒体",
    },
    SeverityRule {
        severity: Severity::Low,
        en: &[
            "i would like to know",
            "how do i",
            "how can i",
            "i have a question",
            "question about",
            "inquiry about",
        ],
        zh: &["咨询", "请问", "想了解", "想问一下"],
        reason_en: "an inquiry rather than a grievance",
        reason_zh: "属于咨询而非投诉",
    },
];

fn english_words(lower: &str) -> Vec<&str> {
    lower
        .split(|c: char| !c.is_alphanumeric() || is_cjk(c))
        .filter(|w| !w.is_empty())
        .collect()
}

fn has_phrase(words: &[&str], phrase: &str) -> bool {
    let parts: Vec<&str> = phrase.split(' ').collect();
    !parts.is_empty() && words.windows(parts.len()).any(|w| w == parts.as_slice())
}

/// The severity of a complaint by keyword rules (not learned, not
/// measured): fraud or theft → critical; legal action, foreclosure → high;
/// a regulator or the media → high; an inquiry → low; otherwise high for
/// [`ComplaintCategory::FraudSecurity`] and medium for the rest. Returns
/// the severity and why, in English and Chinese (naming the keyword).
pub fn severity_of(text: &str, category: ComplaintCategory) -> (Severity, String, String) {
    let lower = text.to_lowercase();
    let words = english_words(&lower);
    for rule in SEVERITY_RULES {
        let hit = rule
            .en
            .iter()
            .find(|kw| has_phrase(&words, kw))
            .or_else(|| rule.zh.iter().find(|kw| lower.contains(**kw)));
        if let Some(kw) = hit {
            return (
                rule.severity,
                format!("mentions \"{kw}\": {}", rule.reason_en),
                format!("提到“{kw}”：{}", rule.reason_zh),
            );
        }
    }
    let severity = if category == ComplaintCategory::FraudSecurity {
        Severity::High
    } else {
        Severity::Medium
    };
    (
        severity,
        format!(
            "no keyword rule matched; the default for {}",
            category.label_en()
        ),
        format!("未命中关键词规则；按“{}”类别默认", category.label_zh()),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn classify_every_row_of_the_builtin_data_parses() {
        let mut reader = csv::Reader::from_reader(SAMPLE_CSV.as_bytes());
        let headers = reader.headers().unwrap().clone();
        assert_eq!(
            headers.iter().collect::<Vec<_>>(),
            vec![
                "complaint_id",
                "product",
                "issue",
                "category",
                "split",
                "narrative"
            ]
        );
        let mut rows = 0;
        for record in reader.records() {
            let record = record.unwrap();
            assert!(ComplaintCategory::parse(&record[3]).is_some(), "{record:?}");
            assert!(parse_split(&record[4]).is_some(), "{record:?}");
            assert!(!record[5].trim().is_empty());
            assert!(record[5].chars().count() <= 1500);
            rows += 1;
        }
        let mut reader = csv::Reader::from_reader(SEED_CSV.as_bytes());
        let headers = reader.headers().unwrap().clone();
        assert_eq!(
            headers.iter().collect::<Vec<_>>(),
            vec!["seed_id", "lang", "category", "split", "text"]
        );
        for record in reader.records() {
            let record = record.unwrap();
            assert!(matches!(&record[1], "zh" | "en"), "{record:?}");
            assert!(ComplaintCategory::parse(&record[2]).is_some(), "{record:?}");
            assert!(parse_split(&record[3]).is_some(), "{record:?}");
            assert!(!record[4].trim().is_empty());
            rows += 1;
        }
        assert_eq!(rows, builtin_data().len());
        // Every category has Chinese training and held-out rows.
        for &cat in ComplaintCategory::ALL {
            for split in [Split::Train, Split::Test] {
                assert!(
                    builtin_data()
                        .iter()
                        .any(|l| l.category == cat && l.lang == "zh" && l.split == split),
                    "{cat} {split:?}"
                );
            }
        }
        // No held-out text is also a training text.
        let data = builtin_data();
        for t in data.iter().filter(|l| l.split == Split::Test) {
            assert!(
                !data
                    .iter()
                    .any(|l| l.split == Split::Train && l.text == t.text),
                "{}",
                t.text
            );
        }
    }

    #[test]
    fn classify_cross_validation_beats_the_majority_baseline() {
        let examples = sample_examples();
        let lr = evaluate(&examples, 5, 7, &TrainOptions::default());
        let nb = evaluate(
            &examples,
            5,
            7,
            &TrainOptions {
                kind: ModelKind::NaiveBayes,
                ..TrainOptions::default()
            },
        );
        println!("logistic regression (built-in):\n{}", lr.to_markdown());
        println!("naive Bayes:\n{}", nb.to_markdown());
        assert_eq!(lr.n, examples.len());
        assert!(
            lr.accuracy > lr.majority_baseline + 0.25,
            "accuracy {} vs baseline {}",
            lr.accuracy,
            lr.majority_baseline
        );
        // Eleven categories, most with 18–34 training rows in two
        // languages: macro-F1 well above chance (about 0.09), and the
        // default trainer at least as good as the other.
        assert!(lr.macro_f1 > 0.45, "macro-F1 {}", lr.macro_f1);
        assert!(
            lr.macro_f1 >= nb.macro_f1,
            "{} < {}",
            lr.macro_f1,
            nb.macro_f1
        );
    }

    #[test]
    fn classify_training_is_deterministic() {
        let examples = sample_examples();
        let a = Classifier::train(&examples, &TrainOptions::default());
        let b = Classifier::train(&examples, &TrainOptions::default());
        assert_eq!(a, b);
        let text = "My credit card was charged twice for the same purchase";
        assert_eq!(a.predict(text), b.predict(text));
    }

    #[test]
    fn classify_confidence_is_a_probability_and_scores_sum_to_one() {
        let model = Classifier::builtin();
        for text in [
            "There is an account on my credit report that is not mine.",
            "The bank closed my checking account and kept my deposit.",
            "",
            "我的信用卡被重复扣款",
        ] {
            let p = model.predict(text);
            assert!((0.0..=1.0).contains(&p.confidence), "{p:?}");
            let sum: f64 = p.scores.iter().map(|(_, s)| s).sum();
            assert!((sum - 1.0).abs() < 1e-9, "{sum}");
            assert_eq!(p.scores[0], (p.category, p.confidence));
            assert_eq!(p.scores.len(), model.classes().len());
        }
    }

    #[test]
    fn classify_obvious_english_complaints_land_in_their_category() {
        let model = Classifier::builtin();
        let p = model.predict(
            "Equifax and Experian report a late payment that is not mine; I disputed \
             the inaccurate information on my credit report and they did not investigate.",
        );
        assert_eq!(p.category, ComplaintCategory::CreditReporting, "{p:?}");
        let p = model.predict(
            "My mortgage servicer misapplied my escrow payment and refused a loan modification.",
        );
        assert_eq!(p.category, ComplaintCategory::LoansMortgages, "{p:?}");
    }

    #[test]
    fn classify_a_model_trained_on_chinese_learns_chinese() {
        // Char n-grams make Chinese separable without a segmenter (a toy
        // check of the features, not a measurement).
        let examples: Vec<(String, ComplaintCategory)> = [
            ("信用卡年费被乱收", ComplaintCategory::Fees),
            ("手续费太高了", ComplaintCategory::Fees),
            ("手机银行登录不了", ComplaintCategory::DigitalChannels),
            ("手机银行转账失败", ComplaintCategory::DigitalChannels),
        ]
        .iter()
        .map(|(t, c)| (t.to_string(), *c))
        .collect();
        let model = Classifier::train(&examples, &TrainOptions::default());
        assert_eq!(
            model.predict("手机银行一直闪退").category,
            ComplaintCategory::DigitalChannels
        );
        assert_eq!(
            model.predict("这个手续费不合理").category,
            ComplaintCategory::Fees
        );
    }

    #[test]
    fn classify_redactions_and_numbers_are_not_features() {
        assert!(features("XXXX XX/XX/2023 12345 xxxxxxxx").is_empty());
        assert_eq!(features("fee").len(), 1);
        // "late fee": two words and one bigram.
        assert_eq!(features("late fee").len(), 3);
    }

    #[test]
    fn classify_a_model_trained_on_nothing_says_other() {
        let model = Classifier::train(&[], &TrainOptions::default());
        let p = model.predict("anything");
        assert_eq!(p.category, ComplaintCategory::Other);
        assert_eq!(p.confidence, 1.0);
    }

    #[test]
    fn classify_severity_rules_in_english() {
        let (s, en, zh) = severity_of(
            "Someone opened a card in my name, this is identity theft",
            ComplaintCategory::CreditReporting,
        );
        assert_eq!(s, Severity::Critical);
        assert!(en.contains("identity theft"), "{en}");
        assert!(!zh.is_empty());
        let (s, _, _) = severity_of(
            "They started foreclosure while my modification was pending",
            ComplaintCategory::LoansMortgages,
        );
        assert_eq!(s, Severity::High);
        let (s, _, _) = severity_of(
            "I will file with the CFPB if this is not fixed",
            ComplaintCategory::Fees,
        );
        assert_eq!(s, Severity::High);
        let (s, _, _) = severity_of(
            "How do I change the address on my account?",
            ComplaintCategory::AccountsDeposits,
        );
        assert_eq!(s, Severity::Low);
        let (s, en, _) = severity_of(
            "The monthly fee went up without notice",
            ComplaintCategory::Fees,
        );
        assert_eq!(s, Severity::Medium);
        assert!(en.contains("default"), "{en}");
        // Whole words only: "courtesy" is not "court".
        let (s, _, _) = severity_of("No courtesy call was made", ComplaintCategory::Other);
        assert_eq!(s, Severity::Medium);
    }

    #[test]
    fn classify_severity_rules_in_chinese() {
        let (s, _, zh) = severity_of("我的信用卡被盗刷了五千元", ComplaintCategory::CardsPayments);
        assert_eq!(s, Severity::Critical);
        assert!(zh.contains("盗刷"), "{zh}");
        let (s, _, _) = severity_of("再不处理我就起诉你们", ComplaintCategory::Fees);
        assert_eq!(s, Severity::High);
        let (s, _, _) = severity_of("我要投诉到银保监会", ComplaintCategory::ServiceAttitude);
        assert_eq!(s, Severity::High);
        let (s, _, _) = severity_of("请问信用卡额度怎么调整", ComplaintCategory::CardsPayments);
        assert_eq!(s, Severity::Low);
        let (s, _, _) = severity_of("柜员态度很差", ComplaintCategory::ServiceAttitude);
        assert_eq!(s, Severity::Medium);
        let (s, _, _) = severity_of("账户异常", ComplaintCategory::FraudSecurity);
        assert_eq!(s, Severity::High);
    }
}
