//! The product catalogue: what the bank sells, to whom, and through which channels.
//!
//! Owns the product vocabulary (categories, channels, need tags, customer
//! tiers, risk levels R1–R5), the built-in catalogue embedded from
//! `config/catalogue.toml`, its validation, and the per-product eligibility
//! rules (age, income, tier, minimum amount).
//!
//! Parse, don't validate: a [`Catalogue`] only exists once every product has
//! passed the checks in [`Catalogue::parse`], so the rest of the system can
//! rely on unique codes, risk levels in 1..=5 and known vocabularies.
//!
//! Money: every amount here is **whole yuan as `i64`** (`*_yuan` fields);
//! catalogue thresholds and estimates need no fen precision.
//!
//! Must never do IO beyond reading the text it is given, and never decide
//! suitability (that is [`crate::suitability`]).

use crate::error::MatchingError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;

/// The built-in catalogue text (`config/catalogue.toml`).
pub const BUILTIN_CATALOGUE_TOML: &str = include_str!("../config/catalogue.toml");

macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $canon:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical snake_case spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $canon),+ }
            }

            /// Parses the canonical spelling (trimmed, case-insensitive).
            pub fn parse(s: &str) -> Option<Self> {
                let t = s.trim();
                $( if t.eq_ignore_ascii_case($canon) { return Some($name::$variant); } )+
                None
            }

            /// The allowed spellings, separated by `|` (for error messages).
            fn allowed() -> &'static str {
                concat!($($canon, "|"),+)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// What kind of product it is.
    Category {
        /// Current, savings and term deposits.
        Deposit => "deposit",
        /// Bank wealth-management products (理财).
        Wealth => "wealth",
        /// Public mutual funds sold on behalf of fund companies.
        Fund => "fund",
        /// Insurance sold on behalf of insurers.
        Insurance => "insurance",
        /// The private pension scheme: the account and pension products.
        Pension => "pension",
        /// Mortgages and consumer loans.
        Loan => "loan",
        /// Credit cards.
        Card => "card",
        /// Gold and other precious metals.
        PreciousMetal => "precious_metal",
    }
);

impl Category {
    /// The Chinese name of the category.
    pub fn label_zh(self) -> &'static str {
        match self {
            Category::Deposit => "存款",
            Category::Wealth => "理财",
            Category::Fund => "基金",
            Category::Insurance => "保险",
            Category::Pension => "养老金",
            Category::Loan => "贷款",
            Category::Card => "信用卡",
            Category::PreciousMetal => "贵金属",
        }
    }
}

vocabulary!(
    /// Where a product can be sold.
    SalesChannel {
        /// At a branch counter.
        Branch => "branch",
        /// The mobile banking app.
        MobileApp => "mobile_app",
        /// Internet banking in a browser.
        OnlineBanking => "online_banking",
        /// The phone banking centre.
        Phone => "phone",
        /// The bank's WeChat official account or mini-program.
        Wechat => "wechat",
        /// Through the customer's relationship manager.
        Rm => "rm",
    }
);

vocabulary!(
    /// A customer need a product serves (used to match life events and behaviour to products).
    Need {
        /// Money available at any time.
        Liquidity => "liquidity",
        /// Putting money aside safely.
        Savings => "savings",
        /// Cash sitting idle in a current account.
        IdleCash => "idle_cash",
        /// Growing wealth over years, accepting some risk.
        WealthGrowth => "wealth_growth",
        /// Providing for retirement.
        Retirement => "retirement",
        /// Paying for education (own or children's).
        Education => "education",
        /// Buying or improving a home.
        Home => "home",
        /// Everyday and large purchases.
        Consumption => "consumption",
        /// Travelling, especially abroad.
        Travel => "travel",
        /// Spending around holidays.
        HolidaySpending => "holiday_spending",
        /// Cover against death, illness or accidents.
        Protection => "protection",
    }
);

vocabulary!(
    /// The customer's tier (segment by assets), ordered `Mass < Affluent < HighNetWorth`.
    Tier {
        /// Ordinary retail customers.
        Mass => "mass",
        /// Affluent (财富/贵宾) customers.
        Affluent => "affluent",
        /// High-net-worth (私人银行) customers.
        HighNetWorth => "high_net_worth",
    }
);

impl Tier {
    /// The Chinese name of the tier.
    pub fn label_zh(self) -> &'static str {
        match self {
            Tier::Mass => "大众客户",
            Tier::Affluent => "财富客户",
            Tier::HighNetWorth => "高净值客户",
        }
    }
}

/// A product risk level R1 (lowest) to R5 (highest). Only 1..=5 can be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RiskLevel(u8);

impl RiskLevel {
    /// The lowest level, R1: may be sold without a valid risk assessment.
    pub const LOWEST: RiskLevel = RiskLevel(1);
    /// The highest level, R5.
    pub const HIGHEST: RiskLevel = RiskLevel(5);

    /// The level `n`, or `None` unless `1 <= n <= 5`.
    pub fn new(n: u8) -> Option<RiskLevel> {
        (1..=5).contains(&n).then_some(RiskLevel(n))
    }

    /// The level as a number 1..=5.
    pub fn get(self) -> u8 {
        self.0
    }

    /// The label used by banks and regulators: `"R1"` .. `"R5"`.
    pub fn label(self) -> &'static str {
        match self.0 {
            1 => "R1",
            2 => "R2",
            3 => "R3",
            4 => "R4",
            _ => "R5",
        }
    }
}

impl fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Who may buy a product. All amounts are whole yuan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Eligibility {
    /// Minimum age in whole years.
    pub min_age: u32,
    /// Maximum age in whole years, if any.
    pub max_age: Option<u32>,
    /// Minimum annual income (yuan), if any.
    pub min_annual_income_yuan: Option<i64>,
    /// Minimum customer tier, if any.
    pub min_tier: Option<Tier>,
    /// When true (and both floors are set), meeting either the income floor or
    /// the tier floor suffices; otherwise both must be met.
    pub income_or_tier: bool,
    /// Minimum purchase or first deposit (yuan), if any; checked against
    /// investable funds when they are known.
    pub min_amount_yuan: Option<i64>,
}

/// One product of the catalogue. All amounts are whole yuan (`i64`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    /// Unique code, e.g. `"WM-R2-01"`.
    pub code: String,
    /// What kind of product it is.
    pub category: Category,
    /// A finer kind within the category (e.g. `"mortgage"`, `"term_deposit"`), snake_case.
    pub sub_kind: Option<String>,
    /// Product risk level R1..R5.
    pub risk: RiskLevel,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// One or two plain-language sentences for a customer, Chinese.
    pub description_zh: String,
    /// One or two plain-language sentences for a customer, English.
    pub description_en: String,
    /// Where it can be sold.
    pub channels: Vec<SalesChannel>,
    /// Fees in plain text, Chinese.
    pub fees_zh: String,
    /// Fees in plain text, English.
    pub fees_en: String,
    /// Who may buy it.
    pub eligibility: Eligibility,
    /// Expected annual value to the bank of one sale (yuan); for ranking only.
    pub value_yuan: i64,
    /// The customer needs it serves.
    pub needs: Vec<Need>,
    /// Whether it extends credit (a loan, a credit card, a limit increase):
    /// the responsible-lending rule applies to it. The catalogue's `credit`
    /// flag; when absent, true for the `loan` and `card` categories.
    pub credit: bool,
}

/// What is known about a customer for eligibility. `None` means unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CustomerFacts {
    /// Age in whole years.
    pub age: Option<u32>,
    /// Annual income (yuan).
    pub annual_income_yuan: Option<i64>,
    /// Customer tier.
    pub tier: Option<Tier>,
    /// Funds the customer could invest (yuan).
    pub investable_yuan: Option<i64>,
}

/// Why a customer may not buy a product, in English and Chinese.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{reason_en}")]
pub struct Ineligible {
    /// The customer fact that failed: `age`, `annual_income_yuan`, `tier`,
    /// `income_or_tier` or `investable_yuan`.
    pub field: &'static str,
    /// The reason, English.
    pub reason_en: String,
    /// The reason, Chinese.
    pub reason_zh: String,
}

fn ineligible(field: &'static str, reason_en: String, reason_zh: String) -> Ineligible {
    Ineligible {
        field,
        reason_en,
        reason_zh,
    }
}

/// Formats whole yuan with thousands separators: `300000` → `"300,000"`.
pub fn format_yuan(yuan: i64) -> String {
    let digits = yuan.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if yuan < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Product {
    /// Whether the product serves `need`.
    pub fn serves(&self, need: Need) -> bool {
        self.needs.contains(&need)
    }

    /// Whether the product can be sold through `channel`.
    pub fn sold_via(&self, channel: SalesChannel) -> bool {
        self.channels.contains(&channel)
    }

    /// Checks the eligibility rules against what is known about the customer;
    /// the first rule that fails is returned.
    ///
    /// Conservative: an unknown fact that a rule needs (age, income, tier)
    /// makes the customer ineligible. The one exception is
    /// `investable_yuan`: when unknown it passes, because the amount is
    /// checked again at sale.
    pub fn eligibility_check(&self, facts: &CustomerFacts) -> Result<(), Ineligible> {
        self.check_age(facts.age)?;
        self.check_income_and_tier(facts)?;
        self.check_amount(facts.investable_yuan)
    }

    fn check_age(&self, age: Option<u32>) -> Result<(), Ineligible> {
        let e = &self.eligibility;
        let Some(age) = age else {
            let (range_en, range_zh) = match e.max_age {
                Some(max) => (
                    format!("between {} and {}", e.min_age, max),
                    format!("{}至{}周岁", e.min_age, max),
                ),
                None => (
                    format!("at least {}", e.min_age),
                    format!("年满{}周岁", e.min_age),
                ),
            };
            return Err(ineligible(
                "age",
                format!("age unknown; the customer must be {range_en}"),
                format!("客户年龄未知，无法确认是否满足{range_zh}的要求"),
            ));
        };
        if age < e.min_age {
            return Err(ineligible(
                "age",
                format!("age {age} is below the minimum age {}", e.min_age),
                format!("客户年龄{age}周岁，低于最低年龄{}周岁", e.min_age),
            ));
        }
        if let Some(max) = e.max_age {
            if age > max {
                return Err(ineligible(
                    "age",
                    format!("age {age} is above the maximum age {max}"),
                    format!("客户年龄{age}周岁，高于最高年龄{max}周岁"),
                ));
            }
        }
        Ok(())
    }

    fn check_income_and_tier(&self, facts: &CustomerFacts) -> Result<(), Ineligible> {
        let e = &self.eligibility;
        if let (true, Some(floor), Some(min_tier)) =
            (e.income_or_tier, e.min_annual_income_yuan, e.min_tier)
        {
            let income_ok = facts.annual_income_yuan.is_some_and(|i| i >= floor);
            let tier_ok = facts.tier.is_some_and(|t| t >= min_tier);
            if income_ok || tier_ok {
                return Ok(());
            }
            let income_en = match facts.annual_income_yuan {
                Some(i) => format!("annual income {} yuan", format_yuan(i)),
                None => "unknown annual income".to_string(),
            };
            let income_zh = match facts.annual_income_yuan {
                Some(i) => format!("年收入{}元", format_yuan(i)),
                None => "年收入未知".to_string(),
            };
            let tier_en = match facts.tier {
                Some(t) => format!("tier {t}"),
                None => "unknown tier".to_string(),
            };
            let tier_zh = match facts.tier {
                Some(t) => format!("客户等级为{}", t.label_zh()),
                None => "客户等级未知".to_string(),
            };
            return Err(ineligible(
                "income_or_tier",
                format!(
                    "requires annual income of at least {} yuan or tier {min_tier}; the customer has {income_en} and {tier_en}",
                    format_yuan(floor)
                ),
                format!(
                    "该产品要求年收入不低于{}元或{}；客户{income_zh}，{tier_zh}",
                    format_yuan(floor),
                    min_tier.label_zh()
                ),
            ));
        }
        if let Some(floor) = e.min_annual_income_yuan {
            match facts.annual_income_yuan {
                None => {
                    return Err(ineligible(
                        "annual_income_yuan",
                        format!(
                            "annual income unknown; the product requires at least {} yuan",
                            format_yuan(floor)
                        ),
                        format!(
                            "客户年收入未知，无法确认是否满足年收入不低于{}元的要求",
                            format_yuan(floor)
                        ),
                    ))
                }
                Some(i) if i < floor => {
                    return Err(ineligible(
                        "annual_income_yuan",
                        format!(
                            "annual income {} yuan is below the minimum {} yuan",
                            format_yuan(i),
                            format_yuan(floor)
                        ),
                        format!(
                            "客户年收入{}元，低于最低要求{}元",
                            format_yuan(i),
                            format_yuan(floor)
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        if let Some(min_tier) = e.min_tier {
            match facts.tier {
                None => {
                    return Err(ineligible(
                        "tier",
                        format!("customer tier unknown; the product requires {min_tier} or above"),
                        format!("客户等级未知，该产品要求{}及以上", min_tier.label_zh()),
                    ))
                }
                Some(t) if t < min_tier => {
                    return Err(ineligible(
                        "tier",
                        format!("customer tier {t} is below the required {min_tier}"),
                        format!(
                            "客户等级为{}，低于要求的{}",
                            t.label_zh(),
                            min_tier.label_zh()
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn check_amount(&self, investable: Option<i64>) -> Result<(), Ineligible> {
        match (self.eligibility.min_amount_yuan, investable) {
            (Some(min), Some(have)) if have < min => Err(ineligible(
                "investable_yuan",
                format!(
                    "investable funds of {} yuan are below the minimum amount of {} yuan",
                    format_yuan(have),
                    format_yuan(min)
                ),
                format!(
                    "客户可投资金额{}元，低于起购金额{}元",
                    format_yuan(have),
                    format_yuan(min)
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// A validated product catalogue: unique codes, known vocabularies, risk 1..=5.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Catalogue {
    products: Vec<Product>,
    content_hash: String,
}

impl Catalogue {
    /// The built-in catalogue (`config/catalogue.toml`, embedded at compile time).
    pub fn builtin() -> Result<Catalogue, MatchingError> {
        Catalogue::parse(BUILTIN_CATALOGUE_TOML)
    }

    /// Parses and validates a catalogue in the TOML format of `config/catalogue.toml`.
    ///
    /// Errors name the product code (or `#N` when the code is missing) and the field.
    pub fn parse(text: &str) -> Result<Catalogue, MatchingError> {
        let raw: RawCatalogue =
            toml::from_str(text).map_err(|e| MatchingError::CatalogueSyntax(e.to_string()))?;
        if raw.product.is_empty() {
            return Err(MatchingError::EmptyCatalogue);
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut products = Vec::with_capacity(raw.product.len());
        for (i, rp) in raw.product.into_iter().enumerate() {
            let product = rp.validate(i + 1)?;
            if let Some(first) = seen.insert(product.code.clone(), i + 1) {
                return Err(MatchingError::invalid(
                    &product.code,
                    "code",
                    format!(
                        "duplicate code: entries #{first} and #{} both use it",
                        i + 1
                    ),
                ));
            }
            products.push(product);
        }
        let content_hash = hex::encode(Sha256::digest(text.as_bytes()));
        Ok(Catalogue {
            products,
            content_hash,
        })
    }

    /// The product with this code.
    pub fn get(&self, code: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.code == code)
    }

    /// All products, in catalogue order.
    pub fn products(&self) -> &[Product] {
        &self.products
    }

    /// Iterates over the products in catalogue order.
    pub fn iter(&self) -> std::slice::Iter<'_, Product> {
        self.products.iter()
    }

    /// Number of products.
    pub fn len(&self) -> usize {
        self.products.len()
    }

    /// Whether the catalogue has no products (never true for a parsed catalogue).
    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    /// SHA-256 (lower-case hex) of the catalogue text it was parsed from;
    /// record it with decisions to know which catalogue was in force.
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }
}

impl<'a> IntoIterator for &'a Catalogue {
    type Item = &'a Product;
    type IntoIter = std::slice::Iter<'a, Product>;
    fn into_iter(self) -> Self::IntoIter {
        self.products.iter()
    }
}

// ------------------------------------------------------------------ raw TOML

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    #[serde(default)]
    product: Vec<RawProduct>,
}

/// Every field optional so that a missing one is reported with the product code.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProduct {
    code: Option<String>,
    category: Option<String>,
    sub_kind: Option<String>,
    risk: Option<i64>,
    name_zh: Option<String>,
    name_en: Option<String>,
    description_zh: Option<String>,
    description_en: Option<String>,
    channels: Option<Vec<String>>,
    fees_zh: Option<String>,
    fees_en: Option<String>,
    value_yuan: Option<i64>,
    needs: Option<Vec<String>>,
    credit: Option<bool>,
    eligibility: Option<RawEligibility>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEligibility {
    min_age: Option<i64>,
    max_age: Option<i64>,
    min_annual_income_yuan: Option<i64>,
    min_tier: Option<String>,
    #[serde(default)]
    income_or_tier: bool,
    min_amount_yuan: Option<i64>,
}

fn required_text(
    code: &str,
    field: &'static str,
    v: Option<String>,
) -> Result<String, MatchingError> {
    match v {
        Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(_) => Err(MatchingError::invalid(code, field, "must not be empty")),
        None => Err(MatchingError::invalid(code, field, "is missing")),
    }
}

fn non_negative(code: &str, field: &'static str, v: i64) -> Result<i64, MatchingError> {
    if v < 0 {
        return Err(MatchingError::invalid(
            code,
            field,
            format!("must not be negative, got {v}"),
        ));
    }
    Ok(v)
}

fn age(code: &str, field: &'static str, v: i64) -> Result<u32, MatchingError> {
    match u32::try_from(v) {
        Ok(a) if a <= 120 => Ok(a),
        _ => Err(MatchingError::invalid(
            code,
            field,
            format!("must be an age between 0 and 120, got {v}"),
        )),
    }
}

fn list<T: Copy + PartialEq>(
    code: &str,
    field: &'static str,
    values: Option<Vec<String>>,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Vec<T>, MatchingError> {
    let values = values.ok_or_else(|| MatchingError::invalid(code, field, "is missing"))?;
    if values.is_empty() {
        return Err(MatchingError::invalid(
            code,
            field,
            "must list at least one value",
        ));
    }
    let mut out = Vec::with_capacity(values.len());
    for v in &values {
        let item = parse(v).ok_or_else(|| {
            MatchingError::invalid(
                code,
                field,
                format!(
                    "unknown value {v:?}; allowed: {}",
                    allowed.trim_end_matches('|')
                ),
            )
        })?;
        if out.contains(&item) {
            return Err(MatchingError::invalid(
                code,
                field,
                format!("value {v:?} is listed twice"),
            ));
        }
        out.push(item);
    }
    Ok(out)
}

impl RawProduct {
    fn validate(self, entry: usize) -> Result<Product, MatchingError> {
        let placeholder = format!("#{entry}");
        let code = required_text(&placeholder, "code", self.code)?;
        if !code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(MatchingError::invalid(
                &code,
                "code",
                "must be upper-case letters A-Z, digits and '-'",
            ));
        }
        let c = code.as_str();

        let category_text = required_text(c, "category", self.category)?;
        let category = Category::parse(&category_text).ok_or_else(|| {
            MatchingError::invalid(
                c,
                "category",
                format!(
                    "unknown value {category_text:?}; allowed: {}",
                    Category::allowed().trim_end_matches('|')
                ),
            )
        })?;

        let sub_kind = match self.sub_kind {
            None => None,
            Some(s) => {
                let s = s.trim().to_string();
                if s.is_empty()
                    || !s
                        .chars()
                        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
                {
                    return Err(MatchingError::invalid(
                        c,
                        "sub_kind",
                        format!("must be non-empty snake_case, got {s:?}"),
                    ));
                }
                Some(s)
            }
        };

        let risk_n = self
            .risk
            .ok_or_else(|| MatchingError::invalid(c, "risk", "is missing"))?;
        let risk = u8::try_from(risk_n)
            .ok()
            .and_then(RiskLevel::new)
            .ok_or_else(|| {
                MatchingError::invalid(c, "risk", format!("must be 1 to 5 (R1..R5), got {risk_n}"))
            })?;

        let name_zh = required_text(c, "name_zh", self.name_zh)?;
        let name_en = required_text(c, "name_en", self.name_en)?;
        let description_zh = required_text(c, "description_zh", self.description_zh)?;
        let description_en = required_text(c, "description_en", self.description_en)?;
        let fees_zh = required_text(c, "fees_zh", self.fees_zh)?;
        let fees_en = required_text(c, "fees_en", self.fees_en)?;

        let channels = list(
            c,
            "channels",
            self.channels,
            SalesChannel::parse,
            SalesChannel::allowed(),
        )?;
        let needs = list(c, "needs", self.needs, Need::parse, Need::allowed())?;

        let value_yuan = self
            .value_yuan
            .ok_or_else(|| MatchingError::invalid(c, "value_yuan", "is missing"))?;
        let value_yuan = non_negative(c, "value_yuan", value_yuan)?;

        let raw_e = self
            .eligibility
            .ok_or_else(|| MatchingError::invalid(c, "eligibility", "is missing"))?;
        let eligibility = raw_e.validate(c)?;

        Ok(Product {
            code,
            category,
            sub_kind,
            risk,
            name_zh,
            name_en,
            description_zh,
            description_en,
            channels,
            fees_zh,
            fees_en,
            eligibility,
            value_yuan,
            needs,
            credit: self
                .credit
                .unwrap_or(matches!(category, Category::Loan | Category::Card)),
        })
    }
}

impl RawEligibility {
    fn validate(self, c: &str) -> Result<Eligibility, MatchingError> {
        let min_age = self
            .min_age
            .ok_or_else(|| MatchingError::invalid(c, "eligibility.min_age", "is missing"))?;
        let min_age = age(c, "eligibility.min_age", min_age)?;
        let max_age = self
            .max_age
            .map(|a| age(c, "eligibility.max_age", a))
            .transpose()?;
        if let Some(max) = max_age {
            if max < min_age {
                return Err(MatchingError::invalid(
                    c,
                    "eligibility.max_age",
                    format!("max_age {max} is below min_age {min_age}"),
                ));
            }
        }
        let min_annual_income_yuan = self
            .min_annual_income_yuan
            .map(|v| non_negative(c, "eligibility.min_annual_income_yuan", v))
            .transpose()?;
        let min_tier = match self.min_tier {
            None => None,
            Some(t) => Some(Tier::parse(&t).ok_or_else(|| {
                MatchingError::invalid(
                    c,
                    "eligibility.min_tier",
                    format!(
                        "unknown value {t:?}; allowed: {}",
                        Tier::allowed().trim_end_matches('|')
                    ),
                )
            })?),
        };
        if self.income_or_tier && (min_annual_income_yuan.is_none() || min_tier.is_none()) {
            return Err(MatchingError::invalid(
                c,
                "eligibility.income_or_tier",
                "needs both min_annual_income_yuan and min_tier",
            ));
        }
        let min_amount_yuan = self
            .min_amount_yuan
            .map(|v| non_negative(c, "eligibility.min_amount_yuan", v))
            .transpose()?;
        Ok(Eligibility {
            min_age,
            max_age,
            min_annual_income_yuan,
            min_tier,
            income_or_tier: self.income_or_tier,
            min_amount_yuan,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const ONE: &str = r#"
[[product]]
code = "TD-1Y"
category = "deposit"
risk = 1
name_zh = "一年期定期存款"
name_en = "1-year term deposit"
description_zh = "存期一年。"
description_en = "One year."
channels = ["branch", "mobile_app"]
fees_zh = "无"
fees_en = "None"
value_yuan = 400
needs = ["savings"]
[product.eligibility]
min_age = 16
"#;

    fn invalid(text: &str) -> (String, &'static str, String) {
        match Catalogue::parse(text) {
            Err(MatchingError::InvalidProduct {
                code,
                field,
                message,
            }) => (code, field, message),
            other => panic!("expected InvalidProduct, got {other:?}"),
        }
    }

    #[test]
    fn a_minimal_product_parses() {
        let c = Catalogue::parse(ONE).unwrap();
        assert_eq!(c.len(), 1);
        let p = c.get("TD-1Y").unwrap();
        assert_eq!(p.category, Category::Deposit);
        assert_eq!(p.risk.label(), "R1");
        assert_eq!(
            p.channels,
            vec![SalesChannel::Branch, SalesChannel::MobileApp]
        );
        assert_eq!(c.content_hash().len(), 64);
    }

    #[test]
    fn a_duplicate_code_is_rejected_naming_code_and_field() {
        let text = format!("{ONE}{ONE}");
        let (code, field, message) = invalid(&text);
        assert_eq!((code.as_str(), field), ("TD-1Y", "code"));
        assert!(message.contains("duplicate"), "{message}");
        let shown = Catalogue::parse(&text).unwrap_err().to_string();
        assert!(
            shown.contains("TD-1Y") && shown.contains("`code`"),
            "{shown}"
        );
    }

    #[test]
    fn risk_six_is_rejected_naming_code_and_field() {
        let text = ONE.replace("risk = 1", "risk = 6");
        let (code, field, message) = invalid(&text);
        assert_eq!((code.as_str(), field), ("TD-1Y", "risk"));
        assert!(message.contains('6'), "{message}");
        let shown = Catalogue::parse(&text).unwrap_err().to_string();
        assert!(
            shown.contains("TD-1Y") && shown.contains("`risk`"),
            "{shown}"
        );
    }

    #[test]
    fn risk_zero_is_rejected() {
        let (_, field, _) = invalid(&ONE.replace("risk = 1", "risk = 0"));
        assert_eq!(field, "risk");
    }

    #[test]
    fn an_unknown_channel_is_rejected_naming_code_and_field() {
        let text = ONE.replace("\"mobile_app\"]", "\"fax\"]");
        let (code, field, message) = invalid(&text);
        assert_eq!((code.as_str(), field), ("TD-1Y", "channels"));
        assert!(
            message.contains("fax") && message.contains("mobile_app"),
            "{message}"
        );
        let shown = Catalogue::parse(&text).unwrap_err().to_string();
        assert!(
            shown.contains("TD-1Y") && shown.contains("`channels`"),
            "{shown}"
        );
    }

    #[test]
    fn an_unknown_need_or_category_or_tier_is_rejected() {
        let (_, field, _) = invalid(&ONE.replace("[\"savings\"]", "[\"yachts\"]"));
        assert_eq!(field, "needs");
        let (_, field, _) = invalid(&ONE.replace("\"deposit\"", "\"crypto\""));
        assert_eq!(field, "category");
        let (_, field, _) = invalid(&format!("{ONE}min_tier = \"vip\"\n"));
        assert_eq!(field, "eligibility.min_tier");
    }

    #[test]
    fn max_age_below_min_age_is_rejected() {
        let (code, field, _) = invalid(&format!("{ONE}max_age = 15\n"));
        assert_eq!((code.as_str(), field), ("TD-1Y", "eligibility.max_age"));
    }

    #[test]
    fn empty_names_and_descriptions_are_rejected() {
        for field in ["name_zh", "name_en", "description_zh", "description_en"] {
            let line = ONE
                .lines()
                .find(|l| l.starts_with(&format!("{field} =")))
                .unwrap();
            let (code, f, _) = invalid(&ONE.replace(line, &format!("{field} = \"  \"")));
            assert_eq!((code.as_str(), f), ("TD-1Y", field));
            let (_, f, message) = invalid(&ONE.replace(line, ""));
            assert_eq!((f, message.as_str()), (field, "is missing"));
        }
    }

    #[test]
    fn a_missing_code_is_reported_by_entry_number() {
        let (code, field, _) = invalid(&ONE.replace("code = \"TD-1Y\"", ""));
        assert_eq!((code.as_str(), field), ("#1", "code"));
    }

    #[test]
    fn income_or_tier_needs_both_floors() {
        let (_, field, _) = invalid(&format!("{ONE}income_or_tier = true\n"));
        assert_eq!(field, "eligibility.income_or_tier");
    }

    #[test]
    fn bad_toml_and_empty_catalogues_are_rejected() {
        assert!(matches!(
            Catalogue::parse("[[product]\n"),
            Err(MatchingError::CatalogueSyntax(_))
        ));
        assert!(matches!(
            Catalogue::parse(&format!("{ONE}colour = \"red\"\n")),
            Err(MatchingError::CatalogueSyntax(_))
        ));
        assert_eq!(Catalogue::parse(""), Err(MatchingError::EmptyCatalogue));
    }

    #[test]
    fn the_builtin_catalogue_holds_the_bank_products_with_their_categories_and_risks() {
        let c = Catalogue::builtin().unwrap();
        let expected: &[(&str, Category, u8)] = &[
            ("CUR-01", Category::Deposit, 1),
            ("SAV-01", Category::Deposit, 1),
            ("TD-3M", Category::Deposit, 1),
            ("TD-1Y", Category::Deposit, 1),
            ("TD-3Y", Category::Deposit, 1),
            ("WM-R1-01", Category::Wealth, 1),
            ("WM-R2-01", Category::Wealth, 2),
            ("WM-R2-02", Category::Wealth, 2),
            ("WM-R3-01", Category::Wealth, 3),
            ("INS-01", Category::Insurance, 2),
            ("FD-R3-01", Category::Fund, 3),
            ("FD-R4-01", Category::Fund, 4),
            ("GOLD-01", Category::PreciousMetal, 4),
            ("FD-R5-01", Category::Fund, 5),
            ("CC-CLASSIC", Category::Card, 1),
            ("CC-GOLD", Category::Card, 1),
            ("CC-PLAT", Category::Card, 1),
            ("LN-MORT", Category::Loan, 1),
            ("LN-CONS", Category::Loan, 1),
            ("PEN-01", Category::Pension, 2),
            ("PEN-FD-01", Category::Pension, 3),
            ("EDU-01", Category::Insurance, 1),
            ("TRV-INS-01", Category::Insurance, 1),
            ("CC-TRAVEL", Category::Card, 1),
        ];
        for &(code, category, risk) in expected {
            let p = c.get(code).unwrap_or_else(|| panic!("{code} missing"));
            assert_eq!(p.category, category, "{code}");
            assert_eq!(p.risk.get(), risk, "{code}");
            assert!(p.value_yuan > 0, "{code}");
        }
        assert_eq!(
            c.get("LN-MORT").unwrap().sub_kind.as_deref(),
            Some("mortgage")
        );
        assert_eq!(
            c.get("LN-CONS").unwrap().sub_kind.as_deref(),
            Some("consumer")
        );
        assert_eq!(c.get("CUR-01").unwrap().name_zh, "个人活期储蓄账户");
        assert_eq!(c.get("WM-R3-01").unwrap().name_zh, "固收增强一年持有期理财");
        assert_eq!(c.get("FD-R4-01").unwrap().name_zh, "沪深300指数增强基金");
    }

    #[test]
    fn builtin_loans_and_cards_require_adults_with_income() {
        let c = Catalogue::builtin().unwrap();
        for p in c
            .iter()
            .filter(|p| matches!(p.category, Category::Loan | Category::Card))
        {
            assert!(p.eligibility.min_age >= 18, "{}", p.code);
            assert!(p.eligibility.min_annual_income_yuan.is_some(), "{}", p.code);
        }
        let mort = &c.get("LN-MORT").unwrap().eligibility;
        assert_eq!((mort.min_age, mort.max_age), (18, Some(65)));
    }

    fn adult(income: i64) -> CustomerFacts {
        CustomerFacts {
            age: Some(35),
            annual_income_yuan: Some(income),
            tier: Some(Tier::Mass),
            investable_yuan: None,
        }
    }

    #[test]
    fn platinum_needs_high_income_or_high_net_worth() {
        let c = Catalogue::builtin().unwrap();
        let plat = c.get("CC-PLAT").unwrap();
        assert!(plat.eligibility_check(&adult(300_000)).is_ok());
        let err = plat.eligibility_check(&adult(250_000)).unwrap_err();
        assert_eq!(err.field, "income_or_tier");
        assert!(err.reason_en.contains("300,000") && err.reason_en.contains("250,000"));
        assert!(err.reason_zh.contains("300,000"));
        let hnw = CustomerFacts {
            tier: Some(Tier::HighNetWorth),
            annual_income_yuan: None,
            ..adult(0)
        };
        assert!(plat.eligibility_check(&hnw).is_ok());
        let unknown = CustomerFacts {
            tier: None,
            annual_income_yuan: None,
            ..adult(0)
        };
        assert_eq!(
            plat.eligibility_check(&unknown).unwrap_err().field,
            "income_or_tier"
        );
    }

    #[test]
    fn a_minor_cannot_get_a_mortgage_nor_someone_past_its_age_limit() {
        let c = Catalogue::builtin().unwrap();
        let mort = c.get("LN-MORT").unwrap();
        let young = CustomerFacts {
            age: Some(17),
            ..adult(200_000)
        };
        let err = mort.eligibility_check(&young).unwrap_err();
        assert_eq!(err.field, "age");
        assert!(err.reason_en.contains("17") && err.reason_en.contains("18"));
        let old = CustomerFacts {
            age: Some(66),
            ..adult(200_000)
        };
        assert!(mort
            .eligibility_check(&old)
            .unwrap_err()
            .reason_zh
            .contains("65"));
        assert!(mort.eligibility_check(&adult(200_000)).is_ok());
    }

    #[test]
    fn unknown_age_or_income_is_ineligible_when_a_rule_needs_it() {
        let c = Catalogue::builtin().unwrap();
        let cons = c.get("LN-CONS").unwrap();
        let no_age = CustomerFacts {
            age: None,
            ..adult(100_000)
        };
        assert_eq!(cons.eligibility_check(&no_age).unwrap_err().field, "age");
        let no_income = CustomerFacts {
            annual_income_yuan: None,
            ..adult(0)
        };
        assert_eq!(
            cons.eligibility_check(&no_income).unwrap_err().field,
            "annual_income_yuan"
        );
        let low = cons.eligibility_check(&adult(20_000)).unwrap_err();
        assert_eq!(low.field, "annual_income_yuan");
        // A current account has no income rule: unknown income passes.
        let cur = c.get("CUR-01").unwrap();
        assert!(cur.eligibility_check(&no_income).is_ok());
    }

    #[test]
    fn investable_funds_are_checked_only_when_known() {
        let c = Catalogue::builtin().unwrap();
        let wm = c.get("WM-R2-01").unwrap();
        assert!(wm.eligibility_check(&adult(0)).is_ok());
        let poor = CustomerFacts {
            investable_yuan: Some(5_000),
            ..adult(0)
        };
        let err = wm.eligibility_check(&poor).unwrap_err();
        assert_eq!(err.field, "investable_yuan");
        assert!(err.reason_en.contains("10,000") && err.reason_zh.contains("5,000"));
        let rich = CustomerFacts {
            investable_yuan: Some(10_000),
            ..adult(0)
        };
        assert!(wm.eligibility_check(&rich).is_ok());
    }

    #[test]
    fn a_tier_floor_is_enforced_without_income_alternative() {
        let text = format!("{ONE}min_tier = \"affluent\"\n");
        let c = Catalogue::parse(&text).unwrap();
        let p = c.get("TD-1Y").unwrap();
        assert_eq!(p.eligibility_check(&adult(1)).unwrap_err().field, "tier");
        let affluent = CustomerFacts {
            tier: Some(Tier::Affluent),
            ..adult(1)
        };
        assert!(p.eligibility_check(&affluent).is_ok());
        let unknown = CustomerFacts {
            tier: None,
            ..adult(1)
        };
        assert_eq!(p.eligibility_check(&unknown).unwrap_err().field, "tier");
    }

    #[test]
    fn tiers_are_ordered_and_parse_from_snake_case() {
        assert!(Tier::Mass < Tier::Affluent && Tier::Affluent < Tier::HighNetWorth);
        assert_eq!(Tier::parse("high_net_worth"), Some(Tier::HighNetWorth));
        assert_eq!(Tier::parse(" Affluent "), Some(Tier::Affluent));
        assert_eq!(Tier::parse("vip"), None);
        assert_eq!(Category::PreciousMetal.as_str(), "precious_metal");
    }

    #[test]
    fn risk_levels_exist_only_from_one_to_five() {
        assert_eq!(RiskLevel::new(0), None);
        assert_eq!(RiskLevel::new(6), None);
        assert_eq!(RiskLevel::new(3).map(RiskLevel::label), Some("R3"));
    }

    #[test]
    fn yuan_are_formatted_with_thousands_separators() {
        assert_eq!(format_yuan(0), "0");
        assert_eq!(format_yuan(999), "999");
        assert_eq!(format_yuan(300_000), "300,000");
        assert_eq!(format_yuan(-1_234_567), "-1,234,567");
    }
}
