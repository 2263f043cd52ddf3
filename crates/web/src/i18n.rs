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
