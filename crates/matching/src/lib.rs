//! Rapport product matching: which products may be put in front of a customer.
//!
//! Owns the product catalogue (built in from `config/catalogue.toml`), the
//! eligibility rules of each product, the suitability rule (product risk
//! R1–R5 against the customer's assessed tolerance C1–C5, with assessment
//! expiry) and the responsible-lending rule (`lending`: no credit product to
//! a customer in arrears, in distress, over-indebted or at risk). It also owns the similarity counts (`affinity`), the next-best-action
//! engine (`nba`: candidates, hard filters, ranking, reasons) and the ranking
//! metrics of the offline evaluation (`evaluate`); storage lives elsewhere.
//!
//! Must never do IO, read the clock, or depend on sqlx, tokio or other
//! Rapport crates than `rapport-domain`: everything here is pure data and
//! functions, tested exhaustively.

pub mod affinity;
pub mod catalogue;
pub mod error;
pub mod evaluate;
pub mod lending;
pub mod nba;
pub mod questionnaire;
pub mod suitability;

pub use affinity::{Affinity, ProfileKey};
pub use catalogue::{
    format_yuan, Catalogue, Category, CustomerFacts, Eligibility, Ineligible, Need, Product,
    RiskLevel, SalesChannel, Tier, BUILTIN_CATALOGUE_TOML,
};
pub use error::MatchingError;
pub use evaluate::{average_precision, RankingEval, RankingMetrics};
pub use lending::{
    alert_rule_words, check_lending, CreditFacts, LendingCode, LendingDecision, LendingPolicy,
    DEFAULT_ATTRITION_RULES, DEFAULT_DISTRESS_RULES,
};
pub use nba::{
    Action, ActionKind, CustomerView, Engine, Exclusion, Levers, RankBy, Reason, Recommendations,
    Signals, Source, UpcomingHoliday,
};
pub use suitability::{
    check, check_product, expires_on, is_expired, is_future_dated, is_valid_on, tolerance_label,
    tolerance_level, Assessment, Context, Decision, DecisionCode, SuitabilityPolicy,
};
