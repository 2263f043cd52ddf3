//! The workflow of a complaint or service case: its states, the actions
//! that move it, the root-cause taxonomy a resolution is filed under, and
//! the complaint categories a classifier predicts.
//!
//! | action | allowed from | goes to |
//! |---|---|---|
//! | assign | new | assigned |
//! | assign (reassign) | assigned, in progress, waiting customer | the same state |
//! | start | assigned | in progress |
//! | respond | assigned, in progress | in progress |
//! | wait on customer | in progress | waiting customer |
//! | customer replied | waiting customer | in progress |
//! | resolve | assigned, in progress | resolved |
//! | close | resolved | closed |
//! | reopen | resolved, closed | in progress |
//! | escalate | any open state (new to waiting customer) | the same state |
//!
//! * **Respond** is a response to the customer; the first one stops the
//!   first-response clock ([`crate::sla`]).
//! * **Resolve** needs a root-cause code of the taxonomy and a resolution; a
//!   case is closed only once resolved, so no case closes without a root
//!   cause.
//! * **Assign** needs the handler, **reopen** a reason, **escalate** whom to
//!   and why.
//!
//! Every refusal is a [`CaseError`] naming the state and the action, in
//! English and Chinese. [`pauses_clock`] tells the service-level clock
//! ([`crate::sla`]) when the case waits on the customer.
//!
//! Must never do IO or read the clock; it holds no case data, only the rules.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a case is in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    New,
    Assigned,
    InProgress,
    WaitingCustomer,
    Resolved,
    Closed,
}

impl CaseState {
    pub const ALL: &'static [CaseState] = &[
        CaseState::New,
        CaseState::Assigned,
        CaseState::InProgress,
        CaseState::WaitingCustomer,
        CaseState::Resolved,
        CaseState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::New => "new",
            CaseState::Assigned => "assigned",
            CaseState::InProgress => "in_progress",
            CaseState::WaitingCustomer => "waiting_customer",
            CaseState::Resolved => "resolved",
            CaseState::Closed => "closed",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            CaseState::New => "new",
            CaseState::Assigned => "assigned",
            CaseState::InProgress => "in progress",
            CaseState::WaitingCustomer => "waiting on the customer",
            CaseState::Resolved => "resolved",
            CaseState::Closed => "closed",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            CaseState::New => "新建",
            CaseState::Assigned => "已分派",
            CaseState::InProgress => "处理中",
            CaseState::WaitingCustomer => "等待客户",
            CaseState::Resolved => "已解决",
            CaseState::Closed => "已关闭",
        }
    }

    /// Accepts the code (any case) or the Chinese label.
    pub fn parse(s: &str) -> Option<CaseState> {
        let s = s.trim();
        let lower = s.to_ascii_lowercase();
        CaseState::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == lower || v.label_zh() == s)
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the case is open: not yet resolved or closed.
pub fn is_open(state: CaseState) -> bool {
    !matches!(state, CaseState::Resolved | CaseState::Closed)
}

/// Whether the service-level clock stands still: the case waits on the
/// customer.
pub fn pauses_clock(state: CaseState) -> bool {
    state == CaseState::WaitingCustomer
}

/// What is done to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CaseAction {
    /// Give the case to a handler (or another handler).
    Assign {
        to: String,
    },
    /// The handler starts work.
    Start,
    /// A response to the customer (the first stops the first-response clock).
    Respond,
    /// Ask the customer for something and wait (the clock pauses).
    WaitOnCustomer,
    /// The customer answered (the clock runs again).
    CustomerReplied,
    /// Resolve, filed under a root-cause code of the taxonomy.
    Resolve {
        root_cause: String,
        resolution: String,
    },
    Close,
    Reopen {
        reason: String,
    },
    /// Raise the case to someone (a supervisor, another department).
    Escalate {
        to: String,
        reason: String,
    },
}

impl CaseAction {
    pub fn kind(&self) -> CaseActionKind {
        match self {
            CaseAction::Assign { .. } => CaseActionKind::Assign,
            CaseAction::Start => CaseActionKind::Start,
            CaseAction::Respond => CaseActionKind::Respond,
            CaseAction::WaitOnCustomer => CaseActionKind::WaitOnCustomer,
            CaseAction::CustomerReplied => CaseActionKind::CustomerReplied,
            CaseAction::Resolve { .. } => CaseActionKind::Resolve,
            CaseAction::Close => CaseActionKind::Close,
            CaseAction::Reopen { .. } => CaseActionKind::Reopen,
            CaseAction::Escalate { .. } => CaseActionKind::Escalate,
        }
    }
}

/// An action without its details: what errors and logs name (the details,
/// such as a resolution text, may hold personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseActionKind {
    Assign,
    Start,
    Respond,
    WaitOnCustomer,
    CustomerReplied,
    Resolve,
    Close,
    Reopen,
    Escalate,
}

impl CaseActionKind {
    pub const ALL: &'static [CaseActionKind] = &[
        CaseActionKind::Assign,
        CaseActionKind::Start,
        CaseActionKind::Respond,
        CaseActionKind::WaitOnCustomer,
        CaseActionKind::CustomerReplied,
        CaseActionKind::Resolve,
        CaseActionKind::Close,
        CaseActionKind::Reopen,
        CaseActionKind::Escalate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseActionKind::Assign => "assign",
            CaseActionKind::Start => "start",
            CaseActionKind::Respond => "respond",
            CaseActionKind::WaitOnCustomer => "wait_on_customer",
            CaseActionKind::CustomerReplied => "customer_replied",
            CaseActionKind::Resolve => "resolve",
            CaseActionKind::Close => "close",
            CaseActionKind::Reopen => "reopen",
            CaseActionKind::Escalate => "escalate",
        }
    }

    pub fn parse(s: &str) -> Option<CaseActionKind> {
        let s = s.trim().to_ascii_lowercase();
        CaseActionKind::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == s)
    }

    pub fn label_en(self) -> &'static str {
        match self {
            CaseActionKind::Assign => "assign",
            CaseActionKind::Start => "start",
            CaseActionKind::Respond => "respond",
            CaseActionKind::WaitOnCustomer => "wait on the customer",
            CaseActionKind::CustomerReplied => "customer replied",
            CaseActionKind::Resolve => "resolve",
            CaseActionKind::Close => "close",
            CaseActionKind::Reopen => "reopen",
            CaseActionKind::Escalate => "escalate",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            CaseActionKind::Assign => "分派",
            CaseActionKind::Start => "开始处理",
            CaseActionKind::Respond => "响应客户",
            CaseActionKind::WaitOnCustomer => "等待客户",
            CaseActionKind::CustomerReplied => "客户已回复",
            CaseActionKind::Resolve => "解决",
            CaseActionKind::Close => "关闭",
            CaseActionKind::Reopen => "重新打开",
            CaseActionKind::Escalate => "升级",
        }
    }
}

impl fmt::Display for CaseActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused transition. Each names the state and the action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseError {
    /// The action is not allowed in this state.
    NotAllowed {
        state: CaseState,
        action: CaseActionKind,
    },
    /// A field the action needs is empty: `to`, `root_cause`, `resolution`
    /// or `reason`.
    MissingField {
        state: CaseState,
        action: CaseActionKind,
        field: &'static str,
    },
    /// The root-cause code is not in the taxonomy.
    UnknownRootCause {
        state: CaseState,
        action: CaseActionKind,
        code: String,
    },
}

fn field_zh(field: &str) -> &'static str {
    match field {
        "to" => "处理人",
        "root_cause" => "根本原因",
        "resolution" => "解决方案",
        "reason" => "原因",
        _ => "必填项",
    }
}

impl CaseError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            CaseError::NotAllowed { .. } => "transition_not_allowed",
            CaseError::MissingField { .. } => "missing_field",
            CaseError::UnknownRootCause { .. } => "unknown_root_cause",
        }
    }

    pub fn state(&self) -> CaseState {
        match self {
            CaseError::NotAllowed { state, .. }
            | CaseError::MissingField { state, .. }
            | CaseError::UnknownRootCause { state, .. } => *state,
        }
    }

    pub fn action(&self) -> CaseActionKind {
        match self {
            CaseError::NotAllowed { action, .. }
            | CaseError::MissingField { action, .. }
            | CaseError::UnknownRootCause { action, .. } => *action,
        }
    }

    /// The message in English (also the `Display`).
    pub fn message_en(&self) -> String {
        let state = self.state().label_en();
        let action = self.action().label_en();
        match self {
            CaseError::NotAllowed { .. } => {
                format!("cannot {action} a case that is {state}")
            }
            CaseError::MissingField { field, .. } => {
                format!("to {action} a case that is {state}, {field} must not be empty")
            }
            CaseError::UnknownRootCause { code, .. } => format!(
                "cannot {action} a case that is {state}: root cause {code:?} is not in the taxonomy"
            ),
        }
    }

    /// The message in Chinese.
    pub fn message_zh(&self) -> String {
        let state = self.state().label_zh();
        let action = self.action().label_zh();
        match self {
            CaseError::NotAllowed { .. } => {
                format!("“{state}”状态的案件不能执行“{action}”操作")
            }
            CaseError::MissingField { field, .. } => format!(
                "“{state}”状态的案件执行“{action}”操作时，{}（{field}）不能为空",
                field_zh(field)
            ),
            CaseError::UnknownRootCause { code, .. } => format!(
                "“{state}”状态的案件不能执行“{action}”操作：根本原因代码“{code}”不在分类表中"
            ),
        }
    }
}

impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

impl std::error::Error for CaseError {}

/// The state after `action` on a case in `state` (see the module doc for
/// the rules). The state is checked first, then the action's fields.
pub fn transition(
    state: CaseState,
    action: &CaseAction,
    taxonomy: &RootCauseTaxonomy,
) -> Result<CaseState, CaseError> {
    use CaseState::*;
    let kind = action.kind();
    let refuse = || CaseError::NotAllowed {
        state,
        action: kind,
    };
    let need = |value: &str, field: &'static str| {
        if value.trim().is_empty() {
            Err(CaseError::MissingField {
                state,
                action: kind,
                field,
            })
        } else {
            Ok(())
        }
    };
    match action {
        CaseAction::Assign { to } => match state {
            New | Assigned | InProgress | WaitingCustomer => {
                need(to, "to")?;
                Ok(if state == New { Assigned } else { state })
            }
            Resolved | Closed => Err(refuse()),
        },
        CaseAction::Start => match state {
            Assigned => Ok(InProgress),
            _ => Err(refuse()),
        },
        CaseAction::Respond => match state {
            Assigned | InProgress => Ok(InProgress),
            _ => Err(refuse()),
        },
        CaseAction::WaitOnCustomer => match state {
            InProgress => Ok(WaitingCustomer),
            _ => Err(refuse()),
        },
        CaseAction::CustomerReplied => match state {
            WaitingCustomer => Ok(InProgress),
            _ => Err(refuse()),
        },
        CaseAction::Resolve {
            root_cause,
            resolution,
        } => match state {
            Assigned | InProgress => {
                need(root_cause, "root_cause")?;
                let code = root_cause.trim();
                if taxonomy.get(code).is_none() {
                    return Err(CaseError::UnknownRootCause {
                        state,
                        action: kind,
                        code: code.to_string(),
                    });
                }
                need(resolution, "resolution")?;
                Ok(Resolved)
            }
            _ => Err(refuse()),
        },
        CaseAction::Close => match state {
            Resolved => Ok(Closed),
            _ => Err(refuse()),
        },
        CaseAction::Reopen { reason } => match state {
            Resolved | Closed => {
                need(reason, "reason")?;
                Ok(InProgress)
            }
            _ => Err(refuse()),
        },
        CaseAction::Escalate { to, reason } => {
            if !is_open(state) {
                return Err(refuse());
            }
            need(to, "to")?;
            need(reason, "reason")?;
            Ok(state)
        }
    }
}

/// A group of root causes (the first level of the taxonomy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootCauseCategory {
    /// A snake_case code, e.g. `process`.
    pub code: String,
    pub label_en: String,
    pub label_zh: String,
}

/// A root cause a case is resolved under (the second level).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootCause {
    /// `category.cause`, e.g. `process.slow_processing`.
    pub code: String,
    /// The category's code, the prefix of `code`.
    pub category: String,
    pub label_en: String,
    pub label_zh: String,
}

/// Why a taxonomy is refused; each names the code at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaxonomyError {
    /// A code that is empty or not lowercase snake_case (`a-z`, `0-9`, `_`;
    /// one `.` between category and cause in a root-cause code).
    BadCode {
        code: String,
    },
    DuplicateCategory {
        code: String,
    },
    DuplicateCode {
        code: String,
    },
    /// A root cause whose category is not listed.
    UnknownCategory {
        code: String,
        category: String,
    },
    /// A root-cause code that does not start with `category.`.
    PrefixMismatch {
        code: String,
        category: String,
    },
    /// An empty English or Chinese label.
    EmptyLabel {
        code: String,
    },
}

impl TaxonomyError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            TaxonomyError::BadCode { .. } => "bad_code",
            TaxonomyError::DuplicateCategory { .. } => "duplicate_category",
            TaxonomyError::DuplicateCode { .. } => "duplicate_code",
            TaxonomyError::UnknownCategory { .. } => "unknown_category",
            TaxonomyError::PrefixMismatch { .. } => "prefix_mismatch",
            TaxonomyError::EmptyLabel { .. } => "empty_label",
        }
    }

    /// The message in Chinese (the English one is the `Display`).
    pub fn message_zh(&self) -> String {
        match self {
            TaxonomyError::BadCode { code } => {
                format!("代码“{code}”无效：须为小写字母、数字和下划线")
            }
            TaxonomyError::DuplicateCategory { code } => format!("类别代码“{code}”重复"),
            TaxonomyError::DuplicateCode { code } => format!("根本原因代码“{code}”重复"),
            TaxonomyError::UnknownCategory { code, category } => {
                format!("根本原因“{code}”所属类别“{category}”不存在")
            }
            TaxonomyError::PrefixMismatch { code, category } => {
                format!("根本原因代码“{code}”须以所属类别“{category}.”开头")
            }
            TaxonomyError::EmptyLabel { code } => format!("“{code}”缺少中文或英文名称"),
        }
    }
}

impl fmt::Display for TaxonomyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaxonomyError::BadCode { code } => write!(
                f,
                "bad code {code:?}: use lowercase letters, digits and underscores"
            ),
            TaxonomyError::DuplicateCategory { code } => {
                write!(f, "category {code:?} is listed twice")
            }
            TaxonomyError::DuplicateCode { code } => {
                write!(f, "root cause {code:?} is listed twice")
            }
            TaxonomyError::UnknownCategory { code, category } => {
                write!(f, "root cause {code:?} is in unknown category {category:?}")
            }
            TaxonomyError::PrefixMismatch { code, category } => write!(
                f,
                "root cause {code:?} must start with its category, {category:?}, and a dot"
            ),
            TaxonomyError::EmptyLabel { code } => {
                write!(f, "{code:?} needs an English and a Chinese label")
            }
        }
    }
}

impl std::error::Error for TaxonomyError {}

fn is_snake(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The two-level taxonomy of complaint root causes (category → cause).
/// Built only through [`RootCauseTaxonomy::new`] (or the default), so every
/// taxonomy in hand is valid; kept in the order given, for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RootCauseTaxonomy {
    categories: Vec<RootCauseCategory>,
    causes: Vec<RootCause>,
}

impl RootCauseTaxonomy {
    /// Checks and builds a taxonomy: codes are lowercase snake_case and
    /// unique, every cause is in a listed category and its code is
    /// `category.cause`, every label is non-empty.
    pub fn new(
        categories: Vec<RootCauseCategory>,
        causes: Vec<RootCause>,
    ) -> Result<RootCauseTaxonomy, TaxonomyError> {
        let empty_label = |en: &str, zh: &str| en.trim().is_empty() || zh.trim().is_empty();
        for (i, c) in categories.iter().enumerate() {
            if !is_snake(&c.code) {
                return Err(TaxonomyError::BadCode {
                    code: c.code.clone(),
                });
            }
            if categories[..i].iter().any(|o| o.code == c.code) {
                return Err(TaxonomyError::DuplicateCategory {
                    code: c.code.clone(),
                });
            }
            if empty_label(&c.label_en, &c.label_zh) {
                return Err(TaxonomyError::EmptyLabel {
                    code: c.code.clone(),
                });
            }
        }
        for (i, r) in causes.iter().enumerate() {
            let well_formed = r
                .code
                .split_once('.')
                .is_some_and(|(cat, cause)| is_snake(cat) && is_snake(cause));
            if !well_formed {
                return Err(TaxonomyError::BadCode {
                    code: r.code.clone(),
                });
            }
            if causes[..i].iter().any(|o| o.code == r.code) {
                return Err(TaxonomyError::DuplicateCode {
                    code: r.code.clone(),
                });
            }
            if !categories.iter().any(|c| c.code == r.category) {
                return Err(TaxonomyError::UnknownCategory {
                    code: r.code.clone(),
                    category: r.category.clone(),
                });
            }
            let prefixed = r
                .code
                .strip_prefix(r.category.as_str())
                .is_some_and(|rest| rest.starts_with('.'));
            if !prefixed {
                return Err(TaxonomyError::PrefixMismatch {
                    code: r.code.clone(),
                    category: r.category.clone(),
                });
            }
            if empty_label(&r.label_en, &r.label_zh) {
                return Err(TaxonomyError::EmptyLabel {
                    code: r.code.clone(),
                });
            }
        }
        Ok(RootCauseTaxonomy { categories, causes })
    }

    /// The root cause with this code.
    pub fn get(&self, code: &str) -> Option<&RootCause> {
        self.causes.iter().find(|r| r.code == code)
    }

    /// Every root cause, in order.
    pub fn iter(&self) -> impl Iterator<Item = &RootCause> + '_ {
        self.causes.iter()
    }

    /// The categories, in order.
    pub fn categories(&self) -> &[RootCauseCategory] {
        &self.categories
    }

    /// The category with this code.
    pub fn category(&self, code: &str) -> Option<&RootCauseCategory> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// The root causes of one category, in order.
    pub fn causes_in<'a>(&'a self, category: &'a str) -> impl Iterator<Item = &'a RootCause> + 'a {
        self.causes.iter().filter(move |r| r.category == category)
    }
}

/// (category, English, Chinese, [(cause, English, Chinese)]).
type DefaultCategory = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, &'static str)],
);

const DEFAULT_TAXONOMY: &[DefaultCategory] = &[
    (
        "product",
        "Product",
        "产品",
        &[
            ("product_design", "Product design", "产品设计缺陷"),
            ("fee_terms_unclear", "Fee terms unclear", "收费条款不清晰"),
            ("interest_rate_dispute", "Interest rate dispute", "利率争议"),
        ],
    ),
    (
        "process",
        "Process",
        "流程",
        &[
            ("slow_processing", "Slow processing", "办理时效慢"),
            (
                "documentation_requirements",
                "Documentation requirements",
                "材料要求繁琐",
            ),
            ("processing_error", "Error in processing", "业务处理差错"),
        ],
    ),
    (
        "people",
        "People",
        "人员",
        &[
            ("staff_attitude", "Staff attitude", "服务态度问题"),
            ("mis_selling", "Mis-selling or misleading sales", "误导销售"),
            (
                "insufficient_explanation",
                "Insufficient explanation",
                "解释说明不充分",
            ),
        ],
    ),
    (
        "system",
        "System",
        "系统",
        &[
            (
                "online_outage",
                "App or online banking outage",
                "手机银行/网上银行故障",
            ),
            ("card_atm_failure", "Card or ATM failure", "银行卡/ATM故障"),
            ("payment_failure", "Payment failure", "支付失败"),
        ],
    ),
    (
        "policy",
        "Policy",
        "政策",
        &[
            ("regulatory_limit", "Regulatory limits", "监管限制"),
            ("risk_control_freeze", "Risk-control freeze", "风控冻结"),
        ],
    ),
    (
        "external",
        "External",
        "外部",
        &[
            ("third_party_merchant", "Third-party merchant", "第三方商户"),
            ("third_party_fraud", "Fraud by a third party", "第三方欺诈"),
        ],
    ),
    (
        "customer",
        "Customer",
        "客户",
        &[
            ("misunderstanding", "Customer misunderstanding", "客户误解"),
            ("customer_error", "Customer error", "客户操作失误"),
        ],
    ),
];

impl RootCauseTaxonomy {
    fn from_table(table: &[DefaultCategory]) -> Result<RootCauseTaxonomy, TaxonomyError> {
        let categories = table
            .iter()
            .map(|(code, en, zh, _)| RootCauseCategory {
                code: (*code).into(),
                label_en: (*en).into(),
                label_zh: (*zh).into(),
            })
            .collect();
        let causes = table
            .iter()
            .flat_map(|(cat, _, _, causes)| {
                causes.iter().map(move |(cause, en, zh)| RootCause {
                    code: format!("{cat}.{cause}"),
                    category: (*cat).into(),
                    label_en: (*en).into(),
                    label_zh: (*zh).into(),
                })
            })
            .collect();
        RootCauseTaxonomy::new(categories, causes)
    }
}

impl Default for RootCauseTaxonomy {
    /// Bank complaint root causes in seven categories: product, process,
    /// people, system, policy, external, customer (a test checks it is
    /// valid).
    fn default() -> Self {
        RootCauseTaxonomy::from_table(DEFAULT_TAXONOMY).unwrap_or(RootCauseTaxonomy {
            categories: Vec::new(),
            causes: Vec::new(),
        })
    }
}

/// What a complaint is about: the classes the complaint classifier predicts
/// (separate from the root cause found when it is resolved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintCategory {
    Fees,
    CardsPayments,
    LoansMortgages,
    AccountsDeposits,
    /// Investments and insurance, mis-selling above all.
    WealthInsurance,
    ServiceAttitude,
    /// Mobile app, online banking, WeChat banking.
    DigitalChannels,
    FraudSecurity,
    CreditReporting,
    DebtCollection,
    Other,
}

impl ComplaintCategory {
    pub const ALL: &'static [ComplaintCategory] = &[
        ComplaintCategory::Fees,
        ComplaintCategory::CardsPayments,
        ComplaintCategory::LoansMortgages,
        ComplaintCategory::AccountsDeposits,
        ComplaintCategory::WealthInsurance,
        ComplaintCategory::ServiceAttitude,
        ComplaintCategory::DigitalChannels,
        ComplaintCategory::FraudSecurity,
        ComplaintCategory::CreditReporting,
        ComplaintCategory::DebtCollection,
        ComplaintCategory::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ComplaintCategory::Fees => "fees",
            ComplaintCategory::CardsPayments => "cards_payments",
            ComplaintCategory::LoansMortgages => "loans_mortgages",
            ComplaintCategory::AccountsDeposits => "accounts_deposits",
            ComplaintCategory::WealthInsurance => "wealth_insurance",
            ComplaintCategory::ServiceAttitude => "service_attitude",
            ComplaintCategory::DigitalChannels => "digital_channels",
            ComplaintCategory::FraudSecurity => "fraud_security",
            ComplaintCategory::CreditReporting => "credit_reporting",
            ComplaintCategory::DebtCollection => "debt_collection",
            ComplaintCategory::Other => "other",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ComplaintCategory::Fees => "Fees and charges",
            ComplaintCategory::CardsPayments => "Cards and payments",
            ComplaintCategory::LoansMortgages => "Loans and mortgages",
            ComplaintCategory::AccountsDeposits => "Accounts and deposits",
            ComplaintCategory::WealthInsurance => "Wealth management and insurance",
            ComplaintCategory::ServiceAttitude => "Service attitude",
            ComplaintCategory::DigitalChannels => "Digital channels",
            ComplaintCategory::FraudSecurity => "Fraud and security",
            ComplaintCategory::CreditReporting => "Credit reporting",
            ComplaintCategory::DebtCollection => "Debt collection",
            ComplaintCategory::Other => "Other",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ComplaintCategory::Fees => "收费",
            ComplaintCategory::CardsPayments => "银行卡与支付",
            ComplaintCategory::LoansMortgages => "贷款与按揭",
            ComplaintCategory::AccountsDeposits => "账户与存款",
            ComplaintCategory::WealthInsurance => "理财与保险",
            ComplaintCategory::ServiceAttitude => "服务态度",
            ComplaintCategory::DigitalChannels => "电子渠道",
            ComplaintCategory::FraudSecurity => "欺诈与安全",
            ComplaintCategory::CreditReporting => "征信",
            ComplaintCategory::DebtCollection => "催收",
            ComplaintCategory::Other => "其他",
        }
    }

    /// Accepts the code (any case) or the Chinese label.
    pub fn parse(s: &str) -> Option<ComplaintCategory> {
        let s = s.trim();
        let lower = s.to_ascii_lowercase();
        ComplaintCategory::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == lower || v.label_zh() == s)
    }
}

impl fmt::Display for ComplaintCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn assign(to: &str) -> CaseAction {
        CaseAction::Assign { to: to.into() }
    }

    fn resolve(root_cause: &str, resolution: &str) -> CaseAction {
        CaseAction::Resolve {
            root_cause: root_cause.into(),
            resolution: resolution.into(),
        }
    }

    fn reopen(reason: &str) -> CaseAction {
        CaseAction::Reopen {
            reason: reason.into(),
        }
    }

    fn escalate(to: &str, reason: &str) -> CaseAction {
        CaseAction::Escalate {
            to: to.into(),
            reason: reason.into(),
        }
    }

    /// Every action, for the exhaustive checks.
    fn every_action() -> Vec<CaseAction> {
        vec![
            assign("rm-7"),
            CaseAction::Start,
            CaseAction::Respond,
            CaseAction::WaitOnCustomer,
            CaseAction::CustomerReplied,
            resolve("process.slow_processing", "fee refunded"),
            CaseAction::Close,
            reopen("customer not satisfied"),
            escalate("supervisor-1", "breach of the resolution target"),
        ]
    }

    #[test]
    fn a_case_goes_through_every_state() {
        use CaseState::*;
        let tax = RootCauseTaxonomy::default();
        let steps = [
            (assign("rm-7"), Assigned),
            (assign("rm-9"), Assigned),
            (CaseAction::Start, InProgress),
            (CaseAction::Respond, InProgress),
            (CaseAction::WaitOnCustomer, WaitingCustomer),
            (assign("rm-7"), WaitingCustomer),
            (escalate("supervisor-1", "customer angry"), WaitingCustomer),
            (CaseAction::CustomerReplied, InProgress),
            (
                resolve("product.fee_terms_unclear", "fee refunded"),
                Resolved,
            ),
            (CaseAction::Close, Closed),
            (reopen("refund not received"), InProgress),
            (
                resolve("process.processing_error", "refund re-sent"),
                Resolved,
            ),
            (reopen("still not received"), InProgress),
        ];
        let mut state = New;
        for (action, expected) in steps {
            state = transition(state, &action, &tax).unwrap();
            assert_eq!(state, expected, "after {}", action.kind());
        }
        // Respond and resolve straight from Assigned.
        assert_eq!(
            transition(Assigned, &CaseAction::Respond, &tax),
            Ok(InProgress)
        );
        assert_eq!(
            transition(
                Assigned,
                &resolve("customer.misunderstanding", "explained"),
                &tax
            ),
            Ok(Resolved)
        );
    }

    #[test]
    fn only_the_listed_transitions_are_allowed() {
        use CaseState::*;
        let tax = RootCauseTaxonomy::default();
        let allowed = |s: CaseState, k: CaseActionKind| -> bool {
            use CaseActionKind as K;
            match k {
                K::Assign => is_open(s),
                K::Start => s == Assigned,
                K::Respond => matches!(s, Assigned | InProgress),
                K::WaitOnCustomer => s == InProgress,
                K::CustomerReplied => s == WaitingCustomer,
                K::Resolve => matches!(s, Assigned | InProgress),
                K::Close => s == Resolved,
                K::Reopen => matches!(s, Resolved | Closed),
                K::Escalate => is_open(s),
            }
        };
        for &state in CaseState::ALL {
            for action in every_action() {
                let kind = action.kind();
                let result = transition(state, &action, &tax);
                assert_eq!(result.is_ok(), allowed(state, kind), "{state} {kind}");
                if let Err(e) = result {
                    assert_eq!(
                        e,
                        CaseError::NotAllowed {
                            state,
                            action: kind
                        }
                    );
                }
            }
        }
    }

    #[test]
    fn a_refusal_names_the_state_and_the_action_in_both_languages() {
        let tax = RootCauseTaxonomy::default();
        let e = transition(CaseState::New, &CaseAction::Close, &tax).unwrap_err();
        assert_eq!(e.code(), "transition_not_allowed");
        assert_eq!(e.message_en(), "cannot close a case that is new");
        assert_eq!(e.to_string(), e.message_en());
        assert!(e.message_zh().contains("新建") && e.message_zh().contains("关闭"));
        let e = transition(CaseState::Closed, &escalate("sup", "late"), &tax).unwrap_err();
        assert!(e.message_en().contains("escalate") && e.message_en().contains("closed"));
        assert!(e.message_zh().contains("已关闭") && e.message_zh().contains("升级"));
    }

    #[test]
    fn a_case_is_not_closed_without_a_root_cause() {
        use CaseState::*;
        let tax = RootCauseTaxonomy::default();
        // Closing is only for resolved cases ...
        for state in [New, Assigned, InProgress, WaitingCustomer] {
            assert_eq!(
                transition(state, &CaseAction::Close, &tax)
                    .unwrap_err()
                    .code(),
                "transition_not_allowed"
            );
        }
        // ... and resolving needs a root cause and a resolution.
        let e = transition(InProgress, &resolve("  ", "refunded"), &tax).unwrap_err();
        assert_eq!(
            e,
            CaseError::MissingField {
                state: InProgress,
                action: CaseActionKind::Resolve,
                field: "root_cause"
            }
        );
        assert!(e.message_en().contains("root_cause"));
        assert!(e.message_zh().contains("根本原因"));
        let e = transition(InProgress, &resolve("people.staff_attitude", ""), &tax).unwrap_err();
        assert_eq!(e.code(), "missing_field");
        assert!(e.message_en().contains("resolution"));
        assert!(e.message_zh().contains("解决方案"));
    }

    #[test]
    fn an_unknown_root_cause_is_refused() {
        let tax = RootCauseTaxonomy::default();
        let e = transition(
            CaseState::InProgress,
            &resolve("weather.rain", "apologised"),
            &tax,
        )
        .unwrap_err();
        assert_eq!(
            e,
            CaseError::UnknownRootCause {
                state: CaseState::InProgress,
                action: CaseActionKind::Resolve,
                code: "weather.rain".into()
            }
        );
        assert!(e.message_en().contains("weather.rain"));
        assert!(e.message_zh().contains("weather.rain"));
        // A category alone is not a root cause.
        assert!(transition(CaseState::InProgress, &resolve("process", "x"), &tax).is_err());
    }

    #[test]
    fn reopening_needs_a_reason_and_other_fields_must_not_be_empty() {
        let tax = RootCauseTaxonomy::default();
        let e = transition(CaseState::Closed, &reopen(" "), &tax).unwrap_err();
        assert_eq!(e.code(), "missing_field");
        assert!(e.message_zh().contains("原因"));
        assert_eq!(
            transition(CaseState::Closed, &reopen("not fixed"), &tax),
            Ok(CaseState::InProgress)
        );
        assert_eq!(
            transition(CaseState::New, &assign(""), &tax)
                .unwrap_err()
                .code(),
            "missing_field"
        );
        assert!(transition(CaseState::InProgress, &escalate("sup", ""), &tax).is_err());
        assert!(transition(CaseState::InProgress, &escalate("", "late"), &tax).is_err());
    }

    #[test]
    fn waiting_on_the_customer_pauses_the_clock_and_only_open_cases_are_open() {
        for &s in CaseState::ALL {
            assert_eq!(pauses_clock(s), s == CaseState::WaitingCustomer);
            assert_eq!(
                is_open(s),
                !matches!(s, CaseState::Resolved | CaseState::Closed)
            );
        }
    }

    #[test]
    fn the_default_taxonomy_is_valid_and_two_levels_deep() {
        let tax = RootCauseTaxonomy::default();
        assert_eq!(tax.categories().len(), 7);
        assert_eq!(tax.iter().count(), 18);
        // Built through the checks, not around them.
        assert_eq!(
            RootCauseTaxonomy::from_table(DEFAULT_TAXONOMY).unwrap(),
            tax
        );
        let slow = tax.get("process.slow_processing").unwrap();
        assert_eq!(slow.category, "process");
        assert_eq!(slow.label_zh, "办理时效慢");
        assert_eq!(tax.category("people").unwrap().label_zh, "人员");
        assert_eq!(tax.causes_in("system").count(), 3);
        for cause in tax.iter() {
            assert!(cause.code.starts_with(&format!("{}.", cause.category)));
            assert!(tax.category(&cause.category).is_some());
        }
        assert!(tax.get("nonexistent.code").is_none());
    }

    #[test]
    fn a_taxonomy_with_a_fault_is_refused_naming_the_code() {
        let cat = |code: &str| RootCauseCategory {
            code: code.into(),
            label_en: code.into(),
            label_zh: "类".into(),
        };
        let cause = |code: &str, category: &str| RootCause {
            code: code.into(),
            category: category.into(),
            label_en: "x".into(),
            label_zh: "原因".into(),
        };
        let build = |cats: Vec<RootCauseCategory>, causes: Vec<RootCause>| {
            RootCauseTaxonomy::new(cats, causes).unwrap_err()
        };

        let e = build(
            vec![cat("fees")],
            vec![cause("fees.hidden", "fees"), cause("fees.hidden", "fees")],
        );
        assert_eq!(
            e,
            TaxonomyError::DuplicateCode {
                code: "fees.hidden".into()
            }
        );
        assert!(e.to_string().contains("fees.hidden") && e.message_zh().contains("fees.hidden"));

        let e = build(vec![cat("fees"), cat("fees")], vec![]);
        assert_eq!(e.code(), "duplicate_category");

        let e = build(
            vec![cat("fees"), cat("card")],
            vec![cause("card.stuck", "fees")],
        );
        assert_eq!(
            e,
            TaxonomyError::PrefixMismatch {
                code: "card.stuck".into(),
                category: "fees".into()
            }
        );
        assert!(e.to_string().contains("card.stuck"));

        // A longer category that merely begins with the same letters.
        let e = build(vec![cat("fee")], vec![cause("fees.hidden", "fee")]);
        assert_eq!(e.code(), "prefix_mismatch");

        let e = build(vec![cat("fees")], vec![cause("card.stuck", "card")]);
        assert_eq!(
            e,
            TaxonomyError::UnknownCategory {
                code: "card.stuck".into(),
                category: "card".into()
            }
        );

        for bad in [
            "fees",
            "fees.",
            "Fees.Hidden",
            "fees.hidden.more",
            "fees.hid den",
        ] {
            let e = build(vec![cat("fees")], vec![cause(bad, "fees")]);
            assert_eq!(e, TaxonomyError::BadCode { code: bad.into() }, "{bad}");
        }
        assert_eq!(build(vec![cat("")], vec![]).code(), "bad_code");

        let mut unlabelled = cause("fees.hidden", "fees");
        unlabelled.label_zh = " ".into();
        let e = build(vec![cat("fees")], vec![unlabelled]);
        assert_eq!(
            e,
            TaxonomyError::EmptyLabel {
                code: "fees.hidden".into()
            }
        );

        // A small valid one.
        let tax =
            RootCauseTaxonomy::new(vec![cat("fees")], vec![cause("fees.hidden", "fees")]).unwrap();
        assert_eq!(tax.iter().count(), 1);
    }

    #[test]
    fn codes_and_labels_round_trip() {
        for &s in CaseState::ALL {
            assert_eq!(CaseState::parse(s.as_str()), Some(s));
            assert_eq!(CaseState::parse(s.label_zh()), Some(s));
        }
        assert_eq!(
            CaseState::parse("等待客户"),
            Some(CaseState::WaitingCustomer)
        );
        assert_eq!(CaseState::parse("open"), None);
        for &k in CaseActionKind::ALL {
            assert_eq!(CaseActionKind::parse(k.as_str()), Some(k));
        }
        for &c in ComplaintCategory::ALL {
            assert_eq!(ComplaintCategory::parse(c.as_str()), Some(c));
            assert_eq!(ComplaintCategory::parse(c.label_zh()), Some(c));
            assert!(!c.label_en().is_empty());
        }
        assert_eq!(ComplaintCategory::ALL.len(), 11);
        assert_eq!(
            ComplaintCategory::parse("Wealth_Insurance"),
            Some(ComplaintCategory::WealthInsurance)
        );
        // Every action kind is reachable from an action.
        let kinds: Vec<CaseActionKind> = every_action().iter().map(CaseAction::kind).collect();
        assert_eq!(kinds, CaseActionKind::ALL);
    }
}
