//! Plain-language names and descriptions of clusters and segments, in
//! English and Chinese: "Young digital customers: 3,412 customers (17%);
//! age low: 28 (portfolio 44); digital share high: 0.92 (portfolio 0.55)".
//!
//! Owns the vocabulary (a label and a high/low word per feature, generic
//! words for the rest) and the number formats. Must never compute anything
//! about customers: it phrases numbers it is given.

use crate::{FeatureKind, FEATURES};

/// The words for one feature.
struct Vocabulary {
    feature: &'static str,
    label: &'static str,
    label_zh: &'static str,
    high: &'static str,
    low: &'static str,
    high_zh: &'static str,
    low_zh: &'static str,
}

const fn words(
    feature: &'static str,
    label: &'static str,
    label_zh: &'static str,
    high: &'static str,
    low: &'static str,
    high_zh: &'static str,
    low_zh: &'static str,
) -> Vocabulary {
    Vocabulary {
        feature,
        label,
        label_zh,
        high,
        low,
        high_zh,
        low_zh,
    }
}

#[rustfmt::skip]
const VOCABULARY: &[Vocabulary] = &[
    // Who they are first (names read "young digital", not "digital young").
    words("age_years", "age", "年龄", "older", "young", "年长", "年轻"),
    words("tenure_months", "tenure in months", "开户月数", "long-standing", "new", "老", "新"),
    words("balance_now", "balance", "存款余额", "high-balance", "low-balance", "高余额", "低余额"),
    words("aum", "AUM", "资产规模", "wealthy", "low-asset", "高资产", "低资产"),
    words("avg_monthly_inflow_6m", "monthly inflow", "月均入账", "high-income", "low-income", "高收入", "低收入"),
    words("inflow_90", "90-day inflow", "90天入账", "high-inflow", "low-inflow", "高入账", "低入账"),
    words("outflow_90", "90-day outflow", "90天支出", "big-spending", "low-spending", "高支出", "低支出"),
    words("txn_count_30", "transactions in 30 days", "30天交易笔数", "active", "inactive", "活跃", "不活跃"),
    words("txn_count_90", "transactions in 90 days", "90天交易笔数", "active", "inactive", "活跃", "不活跃"),
    words("digital_share_90", "digital share", "数字渠道占比", "digital", "branch-based", "数字化", "偏好网点"),
    words("product_depth", "products held", "持有产品数", "multi-product", "single-product", "多产品", "单一产品"),
    words("credit_utilisation", "credit utilisation", "信用额度使用率", "credit-reliant", "light-credit", "高用信", "低用信"),
    words("liquidity_months", "months of spending covered", "存款可覆盖支出月数", "cash-rich", "thin-buffer", "流动性充裕", "流动性紧张"),
    words("salary_months_6", "salary months of 6", "近6月代发工资月数", "salaried", "unsalaried", "代发工资", "无代发工资"),
    words("debt_service_ratio", "debt service ratio", "偿债收入比", "indebted", "low-debt", "高负债", "低负债"),
    words("max_days_past_due", "days past due", "最长逾期天数", "delinquent", "punctual", "有逾期", "按时还款"),
    words("days_since_last_txn", "days since last transaction", "距上次交易天数", "dormant", "recently active", "沉睡", "近期活跃"),
    words("cash_withdrawals_90", "cash withdrawals in 90 days", "90天取现次数", "cash-using", "cashless", "常取现", "少取现"),
    words("complaints_90", "complaints in 90 days", "90天投诉数", "complaining", "uncomplaining", "有投诉", "无投诉"),
    words("last_nps", "last NPS", "最近NPS", "satisfied", "dissatisfied", "满意", "不满意"),
    words("inflow_cv_6m", "income variability", "收入波动", "irregular-income", "steady-income", "收入不稳", "收入稳定"),
];

/// A feature's English label, Chinese label and high/low words (generic
/// ones built from the name for a feature without its own).
pub(crate) struct FeatureWords {
    pub label: String,
    pub label_zh: String,
    pub high: String,
    pub low: String,
    pub high_zh: String,
    pub low_zh: String,
}

pub(crate) fn feature_words(feature: &str) -> FeatureWords {
    match VOCABULARY.iter().find(|v| v.feature == feature) {
        Some(v) => FeatureWords {
            label: v.label.to_string(),
            label_zh: v.label_zh.to_string(),
            high: v.high.to_string(),
            low: v.low.to_string(),
            high_zh: v.high_zh.to_string(),
            low_zh: v.low_zh.to_string(),
        },
        None => {
            let label = feature.replace('_', " ");
            FeatureWords {
                high: format!("high-{}", feature.replace('_', "-")),
                low: format!("low-{}", feature.replace('_', "-")),
                high_zh: format!("{feature}高"),
                low_zh: format!("{feature}低"),
                label_zh: feature.to_string(),
                label,
            }
        }
    }
}

/// How far a cluster's mean is from the portfolio's, in standard deviations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    VeryLow,
    Low,
    Average,
    High,
    VeryHigh,
}

impl Level {
    pub fn of(z: f64) -> Level {
        match z {
            z if z >= 1.0 => Level::VeryHigh,
            z if z >= 0.3 => Level::High,
            z if z > -0.3 => Level::Average,
            z if z > -1.0 => Level::Low,
            _ => Level::VeryLow,
        }
    }

    fn en(self) -> &'static str {
        match self {
            Level::VeryLow => "very low",
            Level::Low => "low",
            Level::Average => "about average",
            Level::High => "high",
            Level::VeryHigh => "very high",
        }
    }

    fn zh(self) -> &'static str {
        match self {
            Level::VeryLow => "很低",
            Level::Low => "偏低",
            Level::Average => "接近平均",
            Level::High => "偏高",
            Level::VeryHigh => "很高",
        }
    }
}

/// Clusters whose most distinctive feature is nearer the portfolio than
/// this many standard deviations are called typical.
const NAMING_Z: f64 = 0.3;

/// One feature of a cluster, as the describer sees it.
pub(crate) struct DistinctiveFeature<'a> {
    pub feature: &'a str,
    /// The cluster's mean in standard deviations from the portfolio's.
    pub z: f64,
    /// The cluster's median, in the feature's own unit.
    pub median: Option<f64>,
    pub portfolio_median: Option<f64>,
}

/// A cluster's generated name from its most distinctive features (given
/// most distinctive first), using `words` of them: ("Young digital
/// customers", "年轻、数字化客户").
pub(crate) fn cluster_name(
    distinctive: &[DistinctiveFeature<'_>],
    words: usize,
) -> (String, String) {
    let mut picked: Vec<&DistinctiveFeature<'_>> = distinctive
        .iter()
        .filter(|f| f.z.abs() >= NAMING_Z)
        .take(words)
        .collect();
    // Words in vocabulary order (who they are, then what they do).
    picked.sort_by_key(|f| {
        VOCABULARY
            .iter()
            .position(|v| v.feature == f.feature)
            .unwrap_or(VOCABULARY.len())
    });
    let chosen: Vec<(FeatureWords, bool)> = picked
        .iter()
        .map(|f| (feature_words(f.feature), f.z > 0.0))
        .collect();
    if chosen.is_empty() {
        return ("Typical customers".to_string(), "典型客户".to_string());
    }
    let en: Vec<&str> = chosen
        .iter()
        .map(|(w, high)| {
            if *high {
                w.high.as_str()
            } else {
                w.low.as_str()
            }
        })
        .collect();
    let zh: Vec<&str> = chosen
        .iter()
        .map(|(w, high)| {
            if *high {
                w.high_zh.as_str()
            } else {
                w.low_zh.as_str()
            }
        })
        .collect();
    (
        capitalise(&format!("{} customers", en.join(" "))),
        format!("{}客户", zh.join("、")),
    )
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "Young digital customers: 3,412 customers (17%); age low: 28 (portfolio
/// 44); …" and its Chinese twin.
pub(crate) fn cluster_description(
    name: &str,
    name_zh: &str,
    size: usize,
    share: f64,
    distinctive: &[DistinctiveFeature<'_>],
) -> (String, String) {
    let mut en = format!(
        "{name}: {} customers ({})",
        thousands(size as f64),
        percent(share)
    );
    let mut zh = format!(
        "{name_zh}：{} 位客户（{}）",
        thousands(size as f64),
        percent(share)
    );
    for f in distinctive {
        let w = feature_words(f.feature);
        let level = Level::of(f.z);
        let value = format_value(f.feature, f.median);
        let portfolio = format_value(f.feature, f.portfolio_median);
        en.push_str(&format!(
            "; {} {}: {value} (portfolio {portfolio})",
            w.label,
            level.en()
        ));
        zh.push_str(&format!(
            "；{}{}：{value}（全体 {portfolio}）",
            w.label_zh,
            level.zh()
        ));
    }
    (en, zh)
}

/// "Affluent: 1,234 customers (12%)" and its Chinese twin, for any segment.
pub(crate) fn size_sentence(
    name: &str,
    name_zh: &str,
    size: usize,
    share: f64,
) -> (String, String) {
    (
        format!(
            "{name}: {} customers ({})",
            thousands(size as f64),
            percent(share)
        ),
        format!(
            "{name_zh}：{} 位客户（{}）",
            thousands(size as f64),
            percent(share)
        ),
    )
}

/// A share as a whole percentage ("17%"), or one decimal below 1%.
pub(crate) fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p > 0.0 && p < 1.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// A number rounded to a whole, with thousands separators ("1,234,567").
pub(crate) fn thousands(x: f64) -> String {
    let rounded = x.round();
    let digits = format!("{:.0}", rounded.abs());
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if rounded < 0.0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A feature value in its unit's usual form: money as a whole with
/// separators, ratios with two decimals, counts whole (one decimal when a
/// median falls between two). `n/a` when missing.
pub(crate) fn format_value(feature: &str, value: Option<f64>) -> String {
    let Some(v) = value.filter(|v| v.is_finite()) else {
        return "n/a".to_string();
    };
    let kind = FEATURES.iter().find(|f| f.name == feature).map(|f| f.kind);
    match kind {
        Some(FeatureKind::Money) => thousands(v),
        Some(FeatureKind::Ratio) | None => format!("{v:.2}"),
        Some(_) if v.fract() == 0.0 => thousands(v),
        Some(_) => format!("{v:.1}"),
    }
}
