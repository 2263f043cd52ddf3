//! Data quality and import history: information accuracy, completeness and
//! validity per field, quarantined rows by reason, and every imported file
//! with its reconciled counts (read = loaded + merged + rejected).

use super::{render, require, Layout};
use crate::auth::{PageUser, Permission};
use crate::error::PageError;
use crate::i18n::Text;
use crate::present::{time_text, word};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

pub const TEXTS: &[Text] = &[
    ("dq.title", "数据质量与导入记录", "Data quality and imports"),
    ("dq.accuracy", "信息准确率", "Information accuracy"),
    ("dq.acceptance", "导入接受率", "Import acceptance"),
    ("dq.quarantined", "隔离行数", "Rows in quarantine"),
    ("dq.fields", "字段质量", "Field quality"),
    ("dq.entity", "实体", "Entity"),
    ("dq.field", "字段", "Field"),
    ("dq.rows", "行数", "Rows"),
    ("dq.completeness", "完整率", "Completeness"),
    ("dq.validity", "有效率", "Validity"),
    ("dq.reasons", "隔离原因", "Quarantine reasons"),
    ("dq.reason", "原因", "Reason"),
    ("dq.count", "数量", "Count"),
    ("dq.imports", "导入记录", "Import history"),
    ("dq.file", "文件", "File"),
    ("dq.kind", "类型", "Kind"),
    ("dq.read", "读取", "Read"),
    ("dq.loaded", "载入", "Loaded"),
    ("dq.merged", "合并", "Merged"),
    ("dq.rejected", "拒绝", "Rejected"),
    ("dq.started", "开始时间", "Started"),
    // What was imported (the kinds of FORMATS.md and the Berka tables).
    ("code.import_kind.branches", "网点", "Branches"),
    ("code.import_kind.products", "产品", "Products"),
    ("code.import_kind.customers", "客户", "Customers"),
    ("code.import_kind.accounts", "账户", "Accounts"),
    (
        "code.import_kind.account_roles",
        "账户角色",
        "Account roles",
    ),
    ("code.import_kind.transactions", "交易", "Transactions"),
    ("code.import_kind.holdings", "持仓", "Holdings"),
    ("code.import_kind.loans", "贷款", "Loans"),
    ("code.import_kind.cards", "银行卡", "Cards"),
    (
        "code.import_kind.standing_orders",
        "定期转账指令",
        "Standing orders",
    ),
    (
        "code.import_kind.card_statements",
        "信用卡账单",
        "Card statements",
    ),
    ("code.import_kind.interactions", "客户接触", "Interactions"),
    ("code.import_kind.cases", "工单", "Cases"),
    (
        "code.import_kind.survey_responses",
        "问卷回答",
        "Survey responses",
    ),
    ("code.import_kind.consents", "授权记录", "Consents"),
    ("code.import_kind.staff_users", "员工", "Staff"),
    ("code.import_kind.outcomes", "推荐结果", "Outcomes"),
    (
        "code.import_kind.berka:account",
        "Berka 账户",
        "Berka accounts",
    ),
    (
        "code.import_kind.berka:client",
        "Berka 客户",
        "Berka clients",
    ),
    (
        "code.import_kind.berka:disp",
        "Berka 账户关系",
        "Berka dispositions",
    ),
    (
        "code.import_kind.berka:order",
        "Berka 转账指令",
        "Berka orders",
    ),
    (
        "code.import_kind.berka:trans",
        "Berka 交易",
        "Berka transactions",
    ),
    ("code.import_kind.berka:loan", "Berka 贷款", "Berka loans"),
    ("code.import_kind.berka:card", "Berka 银行卡", "Berka cards"),
    (
        "code.import_kind.berka:district",
        "Berka 地区",
        "Berka districts",
    ),
    ("code.import_status.running", "进行中", "Running"),
    ("code.import_status.complete", "已完成", "Complete"),
    ("code.import_status.completed", "已完成", "Complete"),
    ("code.import_status.failed", "失败", "Failed"),
    // Why a row was quarantined.
    (
        "code.dq_reason.column_count",
        "列数不符",
        "Wrong number of columns",
    ),
    ("code.dq_reason.invalid_utf8", "编码不是 UTF-8", "Not UTF-8"),
    (
        "code.dq_reason.missing_required",
        "缺少必填项",
        "Required value missing",
    ),
    ("code.dq_reason.bad_date", "日期无效", "Invalid date"),
    ("code.dq_reason.bad_amount", "金额无效", "Invalid amount"),
    ("code.dq_reason.bad_number", "数字无效", "Invalid number"),
    ("code.dq_reason.bad_code", "代码无效", "Invalid code"),
    (
        "code.dq_reason.unknown_reference",
        "引用的记录不存在",
        "Unknown reference",
    ),
    (
        "code.dq_reason.duplicate_conflict",
        "重复且内容冲突",
        "Conflicting duplicate",
    ),
    (
        "code.dq_reason.csv_syntax",
        "CSV 格式错误",
        "CSV syntax error",
    ),
    (
        "code.dq_reason.bad_birth_number",
        "出生编号无效",
        "Invalid birth number",
    ),
    // The profiled tables and fields.
    ("code.dq_entity.customer", "客户", "Customers"),
    ("code.dq_entity.account", "账户", "Accounts"),
    ("code.dq_entity.txn", "交易", "Transactions"),
    ("code.dq_entity.loan", "贷款", "Loans"),
    ("code.dq_entity.card", "银行卡", "Cards"),
    (
        "code.dq_entity.standing_order",
        "定期转账指令",
        "Standing orders",
    ),
    ("code.dq_field.name", "姓名", "Name"),
    ("code.dq_field.gender", "性别", "Gender"),
    ("code.dq_field.birth_date", "出生日期", "Birth date"),
    ("code.dq_field.id_number", "证件号码", "ID number"),
    ("code.dq_field.phone", "电话", "Phone"),
    ("code.dq_field.email", "电子邮箱", "E-mail"),
    ("code.dq_field.city", "城市", "City"),
    ("code.dq_field.occupation", "职业", "Occupation"),
    ("code.dq_field.annual_income", "年收入", "Annual income"),
    (
        "code.dq_field.risk_tolerance",
        "风险承受能力",
        "Risk tolerance",
    ),
    ("code.dq_field.branch", "网点", "Branch"),
    ("code.dq_field.branch_id", "网点", "Branch"),
    ("code.dq_field.type", "类型", "Type"),
    ("code.dq_field.account_type", "账户类型", "Account type"),
    ("code.dq_field.card_type", "卡种", "Card type"),
    ("code.dq_field.opened_on", "开立日", "Opened on"),
    ("code.dq_field.currency", "币种", "Currency"),
    ("code.dq_field.balance", "余额", "Balance"),
    ("code.dq_field.booked_on", "记账日", "Booked on"),
    ("code.dq_field.amount", "金额", "Amount"),
    ("code.dq_field.balance_after", "交易后余额", "Balance after"),
    ("code.dq_field.channel", "渠道", "Channel"),
    ("code.dq_field.category", "类别", "Category"),
    ("code.dq_field.counterparty", "交易对手", "Counterparty"),
    ("code.dq_field.granted_on", "放款日", "Granted on"),
    (
        "code.dq_field.duration_months",
        "期限(月)",
        "Term in months",
    ),
    ("code.dq_field.monthly_payment", "月供", "Monthly payment"),
    ("code.dq_field.status", "状态", "Status"),
    ("code.dq_field.days_past_due", "逾期天数", "Days past due"),
    ("code.dq_field.issued_on", "发卡日", "Issued on"),
    ("code.dq_field.credit_limit", "授信额度", "Credit limit"),
    ("code.dq_field.bank_to", "收款银行", "Receiving bank"),
    ("code.dq_field.account_to", "收款账户", "Receiving account"),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/quality", get(quality))
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}%")).unwrap_or_else(|| "—".into())
}

/// An imported file as shown: its kind and status as words, its start in
/// the bank's zone.
pub struct ImportView {
    pub id: i64,
    pub kind: String,
    pub file: String,
    pub status: String,
    pub read: i64,
    pub loaded: i64,
    pub merged: i64,
    pub rejected: i64,
    pub started: String,
}

#[derive(Template)]
#[template(path = "quality.html")]
struct QualityPage {
    layout: Layout,
    accuracy: String,
    acceptance: String,
    quarantined: i64,
    fields: Vec<(String, String, i64, String, String)>,
    reasons: Vec<(String, String, i64)>,
    imports: Vec<ImportView>,
}

async fn quality(
    State(app): State<AppState>,
    PageUser(v): PageUser,
) -> Result<Response, PageError> {
    require(&v, Permission::ViewDataQuality)?;
    let layout = Layout::new(&app, &v, "/quality", "/quality");
    let t = layout.t;
    let off = app.offset();
    let dq = rapport_services::kpi::data_quality(&app.services, &v.actor()).await?;
    let q = &dq.report;
    let imports = app.store.imports().await?;
    render(&QualityPage {
        accuracy: pct(dq.information_accuracy.percent),
        acceptance: pct(q.imports.acceptance_percent),
        quarantined: q.quarantined_rows,
        fields: q
            .fields
            .iter()
            .map(|f| {
                (
                    word(&t, "dq_entity", &f.entity),
                    word(&t, "dq_field", &f.field),
                    f.rows,
                    pct(f.completeness.map(|x| x * 100.0)),
                    pct(f.validity.map(|x| x * 100.0)),
                )
            })
            .collect(),
        reasons: q
            .quarantine
            .iter()
            .map(|r| {
                (
                    word(&t, "import_kind", &r.kind),
                    word(&t, "dq_reason", &r.reason),
                    r.count,
                )
            })
            .collect(),
        imports: imports
            .into_iter()
            .map(|i| ImportView {
                kind: word(&t, "import_kind", &i.kind),
                status: word(&t, "import_status", &i.status),
                started: time_text(&i.started_at, off),
                id: i.id,
                file: i.file,
                read: i.read,
                loaded: i.loaded,
                merged: i.merged,
                rejected: i.rejected,
            })
            .collect(),
        layout,
    })
}
