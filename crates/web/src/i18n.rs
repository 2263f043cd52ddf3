//! The UI's two languages (zh-CN, en): one catalogue of `(key, zh, en)`
//! entries, gathered from the layout's own texts and each page module's
//! `TEXTS`. A missing key shows as the key itself (and a test fails).
//!
//! Only UI chrome is translated here; customer data is shown as stored.

use std::collections::HashMap;
use std::sync::LazyLock;

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    ZhCn,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh-CN" | "zh" | "zh-cn" => Some(Lang::ZhCn),
            "en" | "en-US" | "en-GB" => Some(Lang::En),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }
    /// The other language (for the switch).
    pub fn other(self) -> Lang {
        match self {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        }
    }
}

/// One catalogue entry: key, Chinese, English.
pub type Text = (&'static str, &'static str, &'static str);

/// The layout's texts: navigation, sign-in, common words.
pub const TEXTS: &[Text] = &[
    (
        "app.name",
        "Rapport 客户健康管理",
        "Rapport customer health",
    ),
    ("nav.dashboard", "总览", "Dashboard"),
    ("nav.customers", "客户", "Customers"),
    ("nav.alerts", "预警", "Alerts"),
    ("nav.workbench", "我的工作台", "My workbench"),
    ("nav.segments", "客群", "Segments"),
    ("nav.quality", "数据质量", "Data quality"),
    ("nav.audit", "审计日志", "Audit log"),
    ("nav.admin", "管理", "Admin"),
    ("nav.logout", "退出", "Sign out"),
    ("nav.language", "English", "中文"),
    ("nav.signed_in_as", "当前用户", "Signed in as"),
    ("login.title", "登录", "Sign in"),
    ("login.username", "用户名", "User name"),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Sign in"),
    (
        "login.failed",
        "用户名或密码错误。",
        "Wrong user name or password.",
    ),
    (
        "login.throttled",
        "失败次数过多，请稍后再试（每次失败后等待时间加倍）。",
        "Too many failed attempts; wait a little and try again (the wait doubles with each failure).",
    ),
    ("common.search", "搜索", "Search"),
    ("common.filter", "筛选", "Filter"),
    ("common.all", "全部", "All"),
    ("common.none", "无", "None"),
    ("common.previous", "上一页", "Previous"),
    ("common.next", "下一页", "Next"),
    ("common.page", "页", "page"),
    ("common.of", "共", "of"),
    ("common.total", "合计", "Total"),
    ("common.save", "保存", "Save"),
    ("common.date", "日期", "Date"),
    ("common.status", "状态", "Status"),
    ("common.no_data", "暂无数据", "No data"),
    (
        "common.masked_note",
        "个人信息已脱敏。",
        "Personal data is masked.",
    ),
    ("role.admin", "系统管理员", "Administrator"),
    ("role.manager", "经理", "Manager"),
    ("role.rm", "客户经理", "Relationship manager"),
    ("role.agent", "客服专员", "Service agent"),
    ("role.risk", "风险官", "Risk officer"),
    ("role.analyst", "分析师", "Analyst"),
    ("role.auditor", "审计员", "Auditor"),
    ("band.healthy", "健康", "Healthy"),
    ("band.watch", "关注", "Watch"),
    ("band.at_risk", "风险", "At risk"),
];

static CATALOGUE: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> =
    LazyLock::new(|| {
        crate::pages::all_texts()
            .into_iter()
            .flat_map(|t| t.iter())
            .map(|(k, zh, en)| (*k, (*zh, *en)))
            .collect()
    });

/// Every text of the UI in one language, for templates: `{{ t.s("nav.customers") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }
    /// The text for `key`, or the key itself when the catalogue lacks it.
    pub fn s<'a>(&self, key: &'a str) -> &'a str {
        match CATALOGUE.get(key) {
            Some((zh, en)) => match self.lang {
                Lang::ZhCn => zh,
                Lang::En => en,
            },
            None => key,
        }
    }
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

/// True when the catalogue has `key` (used by the template test).
pub fn has(key: &str) -> bool {
    CATALOGUE.contains_key(key)
}

/// Codes of the customer 360 and the alert queue shown as words:
/// `code.<group>.<code>` (see [`crate::present::word`]).
pub const CODE_TEXTS: &[Text] = &[
    ("code.gender.m", "男", "Male"),
    ("code.gender.f", "女", "Female"),
    ("code.account_type.current", "活期账户", "Current account"),
    ("code.account_type.savings", "储蓄账户", "Savings account"),
    ("code.account_type.term_deposit", "定期存款", "Term deposit"),
    (
        "code.account_type.credit_card",
        "信用卡账户",
        "Credit card account",
    ),
    ("code.account_type.loan", "贷款账户", "Loan account"),
    (
        "code.account_type.investment",
        "投资账户",
        "Investment account",
    ),
    ("code.txn_category.salary", "工资", "Salary"),
    ("code.txn_category.transfer_in", "转入", "Transfer in"),
    ("code.txn_category.transfer_out", "转出", "Transfer out"),
    (
        "code.txn_category.cash_withdrawal",
        "取现",
        "Cash withdrawal",
    ),
    ("code.txn_category.cash_deposit", "存现", "Cash deposit"),
    (
        "code.txn_category.card_purchase",
        "刷卡消费",
        "Card purchase",
    ),
    ("code.txn_category.loan_repayment", "还贷", "Loan repayment"),
    ("code.txn_category.interest", "利息", "Interest"),
    ("code.txn_category.fee", "手续费", "Fee"),
    ("code.txn_category.insurance", "保险", "Insurance"),
    ("code.txn_category.utilities", "水电燃气", "Utilities"),
    ("code.txn_category.pension", "养老金", "Pension"),
    ("code.txn_category.travel", "旅行", "Travel"),
    ("code.txn_category.dining", "餐饮", "Dining"),
    ("code.txn_category.groceries", "日用杂货", "Groceries"),
    ("code.txn_category.shopping", "购物", "Shopping"),
    ("code.txn_category.education", "教育", "Education"),
    ("code.txn_category.healthcare", "医疗", "Healthcare"),
    ("code.txn_category.investment", "投资", "Investment"),
    ("code.txn_category.other", "其他", "Other"),
    ("code.channel.branch", "网点柜面", "Branch"),
    ("code.channel.atm", "自助取款机", "ATM"),
    ("code.channel.pos", "刷卡终端", "Card terminal"),
    ("code.channel.online", "网上银行", "Online banking"),
    ("code.channel.mobile", "手机银行", "Mobile banking"),
    ("code.channel.phone", "电话", "Phone"),
    ("code.channel.wechat", "微信", "WeChat"),
    ("code.channel.batch", "批量处理", "Batch"),
    ("code.channel.email", "电子邮件", "E-mail"),
    ("code.channel.sms", "短信", "Text message"),
    ("code.channel.letter", "信函", "Letter"),
    ("code.channel.other", "其他渠道", "Other channel"),
    ("code.channel.rm", "客户经理", "Relationship manager"),
    ("code.loan_status.finished_ok", "已结清", "Repaid"),
    (
        "code.loan_status.finished_default",
        "已结束（违约）",
        "Ended in default",
    ),
    (
        "code.loan_status.running_ok",
        "正常还款中",
        "Running, paid on time",
    ),
    (
        "code.loan_status.running_arrears",
        "还款中（有拖欠）",
        "Running, in arrears",
    ),
    ("code.card_type.junior", "青少年卡", "Junior card"),
    ("code.card_type.classic", "普卡", "Classic card"),
    ("code.card_type.gold", "金卡", "Gold card"),
    ("code.card_type.platinum", "白金卡", "Platinum card"),
    ("code.card_type.debit", "借记卡", "Debit card"),
    ("code.card_type.credit", "信用卡", "Credit card"),
    (
        "code.consent_purpose.service",
        "服务通知",
        "Service messages",
    ),
    ("code.consent_purpose.marketing", "营销推广", "Marketing"),
    ("code.consent.1", "已授权", "Granted"),
    ("code.consent.0", "已撤回", "Withdrawn"),
    ("code.survey_kind.nps", "净推荐值", "Net promoter score"),
    ("code.survey_kind.csat", "满意度", "Satisfaction"),
    ("code.survey_kind.kano", "需求分析（KANO）", "Kano needs"),
    ("code.survey_kind.free_text", "开放问题", "Open question"),
    ("code.contact_kind.call", "电话", "Call"),
    ("code.contact_kind.visit", "拜访", "Visit"),
    ("code.contact_kind.video", "视频", "Video call"),
    ("code.contact_kind.message", "消息", "Message"),
    ("code.contact_kind.meeting", "面谈", "Meeting"),
    ("code.contact_kind.email", "邮件", "E-mail"),
    ("code.contact_kind.cadence", "定期联系", "Regular contact"),
    ("code.contact_kind.retention", "挽留联系", "Retention call"),
    ("code.contact_outcome.reached", "已联系上", "Reached"),
    ("code.contact_outcome.no_answer", "未接通", "No answer"),
    ("code.contact_outcome.interested", "有意向", "Interested"),
    ("code.contact_outcome.declined", "婉拒", "Declined"),
    ("code.contact_outcome.follow_up", "需跟进", "Follow up"),
    ("code.contact_outcome.completed", "已完成", "Completed"),
    (
        "code.contact_outcome.contacted_retained",
        "已联系，客户已挽留",
        "Contacted, retained",
    ),
    ("code.contact_outcome.refused", "拒绝沟通", "Refused"),
    (
        "code.contact_outcome.promise_to_pay",
        "承诺还款",
        "Promised to pay",
    ),
    (
        "code.contact_outcome.hardship_reported",
        "反映经济困难",
        "Reported hardship",
    ),
    ("code.contact_outcome.other", "其他结果", "Other outcome"),
    ("code.task_status.open", "待办", "To do"),
    ("code.task_status.done", "已完成", "Done"),
    ("code.task_status.cancelled", "已取消", "Cancelled"),
    ("code.case_status.open", "处理中", "Open"),
    ("code.case_status.in_progress", "正在处理", "In progress"),
    (
        "code.case_status.waiting_customer",
        "等待客户",
        "Waiting for the customer",
    ),
    ("code.case_status.resolved", "已解决", "Resolved"),
    ("code.case_status.closed", "已关闭", "Closed"),
    (
        "code.case_category.product_disclosure",
        "产品信息披露",
        "Product disclosure",
    ),
    (
        "code.case_category.digital_channel",
        "电子渠道",
        "Digital channels",
    ),
    ("code.case_category.card", "银行卡", "Cards"),
    ("code.case_category.loan", "贷款", "Loans"),
    ("code.case_category.account", "账户", "Accounts"),
    ("code.case_category.deposit", "存款", "Deposits"),
    ("code.case_category.wealth", "理财", "Wealth management"),
    ("code.alert_origin.batch", "每日批量", "Daily batch"),
    ("code.alert_origin.live", "实时交易", "Live transaction"),
    // What an audit entry is about (the audit log's "entity").
    ("code.audit_entity.alert", "预警", "Alert"),
    ("code.audit_entity.api_token", "API 令牌", "API token"),
    ("code.audit_entity.campaign", "营销活动", "Campaign"),
    ("code.audit_entity.case", "工单", "Case"),
    ("code.audit_entity.command", "命令", "Command"),
    ("code.audit_entity.consent", "授权", "Consent"),
    ("code.audit_entity.contact_log", "联系记录", "Contact log"),
    ("code.audit_entity.contact_task", "联系任务", "Contact task"),
    ("code.audit_entity.customer", "客户", "Customer"),
    (
        "code.audit_entity.erasure_request",
        "删除申请",
        "Erasure request",
    ),
    (
        "code.audit_entity.improvement_item",
        "改进事项",
        "Improvement item",
    ),
    (
        "code.audit_entity.model_change_request",
        "模型变更申请",
        "Model change request",
    ),
    (
        "code.audit_entity.model_version",
        "模型版本",
        "Model version",
    ),
    (
        "code.audit_entity.outbox_message",
        "待发消息",
        "Outgoing message",
    ),
    ("code.audit_entity.recommendation", "推荐", "Recommendation"),
    (
        "code.audit_entity.risk_assessment",
        "风险测评",
        "Risk assessment",
    ),
    (
        "code.audit_entity.rm_assignment",
        "客户经理分配",
        "RM assignment",
    ),
    ("code.audit_entity.segment", "客群", "Segment"),
    ("code.audit_entity.session", "登录会话", "Session"),
    ("code.audit_entity.staff_user", "员工", "Member of staff"),
    (
        "code.audit_entity.survey_invitation",
        "问卷邀请",
        "Survey invitation",
    ),
    ("code.audit_entity.txn", "交易", "Transaction"),
    ("code.product_category.deposit", "存款", "Deposit"),
    ("code.product_category.wealth", "理财", "Wealth management"),
    ("code.product_category.fund", "基金", "Fund"),
    ("code.product_category.insurance", "保险", "Insurance"),
    ("code.product_category.pension", "养老金", "Pension"),
    ("code.product_category.loan", "贷款", "Loan"),
    ("code.product_category.card", "信用卡", "Credit card"),
    (
        "code.product_category.precious_metal",
        "贵金属",
        "Precious metals",
    ),
    ("code.evidence_kind.salary", "工资入账", "Salary credits"),
    ("code.evidence_kind.outflows", "资金流出", "Money out"),
    ("code.evidence_kind.all", "全部交易", "All transactions"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_used_by_a_template_or_page_is_in_the_catalogue() {
        let dirs = [
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/src/web"),
        ];
        let mut missing = Vec::new();
        let mut seen = 0;
        for dir in dirs {
            let mut stack = vec![std::path::PathBuf::from(dir)];
            while let Some(d) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&d) else {
                    continue;
                };
                for e in entries.flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                        continue;
                    }
                    let text = std::fs::read_to_string(&p).unwrap_or_default();
                    for part in text.split("t.s(\"").skip(1) {
                        if let Some(key) = part.split('"').next() {
                            seen += 1;
                            if !has(key) {
                                missing.push(format!("{}: {key}", p.display()));
                            }
                        }
                    }
                }
            }
        }
        assert!(seen > 20, "the scan found only {seen} keys");
        assert!(missing.is_empty(), "missing texts: {missing:#?}");
    }

    #[test]
    fn no_key_is_defined_twice() {
        let mut seen = std::collections::HashSet::new();
        for t in crate::pages::all_texts() {
            for (k, zh, en) in t {
                assert!(seen.insert(*k), "{k} is defined twice");
                assert!(!zh.is_empty() && !en.is_empty(), "{k} lacks a language");
            }
        }
    }

    #[test]
    fn a_missing_key_shows_as_itself() {
        assert_eq!(Tr::new(Lang::En).s("nav.customers"), "Customers");
        assert_eq!(Tr::new(Lang::ZhCn).s("nav.customers"), "客户");
        assert_eq!(Tr::new(Lang::En).s("no.such.key"), "no.such.key");
    }
}
