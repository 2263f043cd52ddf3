//! Service data around the money: contacts with the bank (interactions),
//! complaints, inquiries and requests (cases), survey answers (NPS, CSAT,
//! free text) and contact consents per channel and purpose.
//!
//! Troubled customers complain more, score lower and get collection calls;
//! leaving customers complain before they go, decline retention offers and
//! revoke marketing consent. Nothing is dated after a customer has left.

use super::calendar::{iso, offset, shift};
use super::ledger::{poisson, Facts, Fate};
use super::people::Person;
use super::rows::Rows;
use super::World;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use rapport_domain::{CaseKind, Channel, ConsentPurpose, Severity, SurveyKind};

/// The output tables service data is written to.
pub struct ServiceTables<'a> {
    pub interactions: &'a mut Rows,
    pub cases: &'a mut Rows,
    pub survey_responses: &'a mut Rows,
    pub consents: &'a mut Rows,
}

/// Complaint categories with descriptions (no ASCII commas: they are CSV fields).
const COMPLAINTS: &[(&str, &[&str])] = &[
    (
        "fees",
        &[
            "短信通知费未经同意扣收，要求退还",
            "信用卡年费扣收前未提前告知",
            "跨行转账手续费收取不合理",
            "账户管理费收费标准不透明",
        ],
    ),
    (
        "service_attitude",
        &[
            "网点柜员服务态度差，排队时间过长",
            "客户经理多次未回复电话",
            "客服热线长时间无人接听",
            "大堂经理推销产品态度强硬",
        ],
    ),
    (
        "product_disclosure",
        &[
            "理财产品风险未充分揭示，收益低于预期",
            "销售人员夸大基金收益",
            "保险产品被当作存款销售",
            "产品提前赎回费用未说明",
        ],
    ),
    (
        "card",
        &[
            "信用卡额度被降低且未提前通知",
            "信用卡交易被盗刷，要求调查",
            "账单分期实际利率不透明",
            "信用卡还款已到账仍被计息",
        ],
    ),
    (
        "loan",
        &[
            "贷款扣款失败产生逾期记录，申请更正征信",
            "催收电话过于频繁影响生活",
            "申请延期还款未获批准",
            "提前还款违约金收取不合理",
        ],
    ),
    (
        "digital_channel",
        &[
            "手机银行登录频繁失败",
            "手机银行转账卡顿，交易状态不明",
            "人脸识别无法通过",
            "手机银行升级后功能难以找到",
        ],
    ),
];
/// Categories a distressed customer complains about.
const DISTRESS_COMPLAINTS: &[usize] = &[0, 3, 4, 4, 1];
/// Categories a leaving customer complains about.
const LEAVER_COMPLAINTS: &[usize] = &[0, 0, 1, 2, 5];

const INQUIRIES: &[(&str, &str)] = &[
    ("deposit", "咨询大额存单和定期存款利率"),
    ("loan", "咨询房贷提前还款流程"),
    ("loan", "咨询存量房贷利率调整"),
    ("wealth", "咨询理财产品赎回到账时间"),
    ("card", "咨询信用卡积分兑换规则"),
    ("digital_channel", "咨询手机银行转账限额设置"),
];

const REQUESTS: &[(&str, &str)] = &[
    ("card", "申请提高信用卡额度"),
    ("account", "申请开具存款证明"),
    ("card", "申请借记卡挂失补卡"),
    ("account", "申请修改预留手机号码"),
    ("account", "申请调整转账限额"),
];

const CONTACT_NOTES: &[(&str, Channel, &str)] = &[
    ("call", Channel::Phone, "产品到期提醒"),
    ("call", Channel::Phone, "理财产品推荐"),
    ("call", Channel::Phone, "信用卡分期业务推荐"),
    ("message", Channel::Wechat, "节日问候"),
    ("message", Channel::Mobile, "手机银行活动通知"),
    ("visit", Channel::Branch, "网点办理业务"),
    ("email", Channel::Online, "电子对账单发送"),
    ("video", Channel::Mobile, "远程视频核身"),
    ("call", Channel::Phone, "客户信息核实"),
];
const WEALTH_NOTES: &[(&str, Channel, &str)] = &[
    ("meeting", Channel::Branch, "资产配置回顾"),
    ("call", Channel::Phone, "理财产品到期续投沟通"),
    ("message", Channel::Wechat, "市场观点分享"),
    ("visit", Channel::Branch, "贵宾客户沙龙邀请"),
];
const CONTACT_OUTCOMES: &[&str] = &[
    "reached",
    "reached",
    "reached",
    "no_answer",
    "follow_up",
    "declined",
    "completed",
];

const NPS_QUESTION: &str = "您有多大可能向亲友推荐我行？（0-10分）";
const REASON_QUESTION: &str = "您给出这个分数的主要原因是什么？";
const CSAT_QUESTION: &str = "您对本次问题的处理结果是否满意？（1-5分）";
const PRAISE: &[&str] = &[
    "网点服务热情周到",
    "手机银行方便好用",
    "客户经理专业负责",
    "理财收益稳定",
];
const NEUTRAL: &[&str] = &[
    "总体还可以",
    "排队时间有点长",
    "产品种类一般",
    "利率不算有竞争力",
];
const CRITICISM: &[&str] = &[
    "收费太多",
    "催收电话太频繁",
    "问题反映多次没有解决",
    "手机银行经常出问题",
    "别的银行利率更高",
    "服务态度差",
];

fn pick<'a, T, R: Rng>(rng: &mut R, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn pick_text<R: Rng>(rng: &mut R, items: &[&'static str]) -> &'static str {
    items[rng.random_range(0..items.len())]
}

fn weighted<T: Copy, R: Rng>(rng: &mut R, items: &[(T, f64)]) -> T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut u = rng.random::<f64>() * total;
    for (t, w) in items {
        if u < *w {
            return *t;
        }
        u -= w;
    }
    items[items.len() - 1].0
}

struct CaseDraft {
    day: usize,
    kind: CaseKind,
    category: &'static str,
    severity: Severity,
    description: &'static str,
    /// Days to close, when it is closed.
    takes: usize,
}

struct Service<'w, 't, R: Rng> {
    world: &'w World,
    rng: &'t mut R,
    ck: &'t str,
    tables: ServiceTables<'t>,
    /// First and last day the customer is with the bank.
    first: usize,
    last: usize,
    interaction_seq: u64,
    case_seq: u64,
    survey_seq: u64,
    consent_seq: u64,
}

/// Writes the customer's interactions, cases, survey answers and consents.
pub fn render<R: Rng>(
    world: &World,
    rng: &mut R,
    ck: &str,
    person: &Person,
    fate: Fate,
    facts: &Facts,
    tables: ServiceTables<'_>,
) {
    let n = world.cal.len();
    if facts.open_day >= n {
        return;
    }
    let last = facts.close_day.unwrap_or(n - 1);
    let mut s = Service {
        world,
        rng,
        ck,
        tables,
        first: facts.open_day,
        last,
        interaction_seq: 0,
        case_seq: 0,
        survey_seq: 0,
        consent_seq: 0,
    };
    s.interactions(fate, facts);
    let cases = s.cases(fate, facts);
    s.surveys(fate, facts, &cases);
    s.consents(person, fate, facts);
}

impl<R: Rng> Service<'_, '_, R> {
    fn day(&mut self, lo: usize, hi: usize) -> Option<usize> {
        let lo = lo.max(self.first);
        let hi = hi.min(self.last);
        (lo <= hi).then(|| self.rng.random_range(lo..=hi))
    }

    fn interaction(&mut self, d: usize, kind: &str, channel: Channel, outcome: &str, note: &str) {
        self.interaction_seq += 1;
        let date = self.world.cal.days[d].iso;
        self.tables
            .interactions
            .row()
            .key("I", self.ck, Some(self.interaction_seq))
            .key("C", self.ck, None)
            .date(&date)
            .text(channel.as_str())
            .text(kind)
            .text(outcome)
            .text(note)
            .end();
    }

    fn interactions(&mut self, fate: Fate, facts: &Facts) {
        let span = (self.last + 1 - self.first) as f64 / 365.0;
        let base = if facts.dormant { 0.2 } else { 0.8 };
        let count = poisson(self.rng, base * span);
        for _ in 0..count {
            let Some(d) = self.day(self.first, self.last) else {
                break;
            };
            let &(kind, channel, note) = pick(self.rng, CONTACT_NOTES);
            let outcome = *pick(self.rng, CONTACT_OUTCOMES);
            self.interaction(d, kind, channel, outcome, note);
        }
        if facts.has_investments {
            let count = poisson(self.rng, 2.0 * span);
            for _ in 0..count {
                let Some(d) = self.day(self.first, self.last) else {
                    break;
                };
                let &(kind, channel, note) = pick(self.rng, WEALTH_NOTES);
                let outcome = *pick(self.rng, CONTACT_OUTCOMES);
                self.interaction(d, kind, channel, outcome, note);
            }
        }
        // Collections: a reminder roughly every two weeks while in arrears.
        for (first_missed, note) in [
            (facts.first_missed, "贷款逾期还款提醒"),
            (facts.card_first_missed, "信用卡逾期还款提醒"),
        ] {
            if let Some(f) = first_missed {
                let mut d = f + self.rng.random_range(2..6);
                let mut k = 0;
                while d <= self.last && k < 10 {
                    let outcome = weighted(
                        self.rng,
                        &[
                            ("promise_to_pay", 4.0),
                            ("no_answer", 4.0),
                            ("refused", 1.0),
                            ("hardship_reported", 1.0),
                        ],
                    );
                    self.interaction(d, "call", Channel::Phone, outcome, note);
                    d += self.rng.random_range(10..20);
                    k += 1;
                }
            }
        }
        if let Fate::Attrition { .. } = fate {
            if let Some(m) = facts.move_day {
                if let Some(d) = self.day(m, m + 7) {
                    self.interaction(
                        d,
                        "call",
                        Channel::Phone,
                        "declined",
                        "挽留沟通：客户资金已转至他行",
                    );
                }
            }
            if let Some(c) = facts.close_day {
                self.interaction(c, "visit", Channel::Branch, "completed", "办理销户");
            }
        }
    }

    fn cases(&mut self, fate: Fate, facts: &Facts) -> Vec<(CaseDraft, Option<usize>)> {
        let span = (self.last + 1 - self.first) as f64 / self.world.cal.len().max(1) as f64;
        let mut drafts: Vec<CaseDraft> = Vec::new();
        let complaint_severity = [
            (Severity::Low, 25.0),
            (Severity::Medium, 45.0),
            (Severity::High, 25.0),
            (Severity::Critical, 5.0),
        ];
        let angry_severity = [
            (Severity::Low, 5.0),
            (Severity::Medium, 40.0),
            (Severity::High, 42.0),
            (Severity::Critical, 13.0),
        ];
        if self.rng.random_bool((0.035 * span).min(1.0)) {
            if let Some(d) = self.day(self.first, self.last) {
                let (category, texts) = *pick(self.rng, COMPLAINTS);
                let severity = weighted(self.rng, &complaint_severity);
                let takes = self.rng.random_range(2..30);
                drafts.push(CaseDraft {
                    day: d,
                    kind: CaseKind::Complaint,
                    category,
                    severity,
                    description: pick_text(self.rng, texts),
                    takes,
                });
            }
        }
        if self.rng.random_bool((0.1 * span).min(1.0)) {
            if let Some(d) = self.day(self.first, self.last) {
                let &(category, description) = pick(self.rng, INQUIRIES);
                let severity =
                    weighted(self.rng, &[(Severity::Low, 80.0), (Severity::Medium, 20.0)]);
                let takes = self.rng.random_range(0..4);
                drafts.push(CaseDraft {
                    day: d,
                    kind: CaseKind::Inquiry,
                    category,
                    severity,
                    description,
                    takes,
                });
            }
        }
        if self.rng.random_bool((0.06 * span).min(1.0)) {
            if let Some(d) = self.day(self.first, self.last) {
                let &(category, description) = pick(self.rng, REQUESTS);
                let severity = weighted(
                    self.rng,
                    &[
                        (Severity::Low, 60.0),
                        (Severity::Medium, 35.0),
                        (Severity::High, 5.0),
                    ],
                );
                let takes = self.rng.random_range(1..10);
                drafts.push(CaseDraft {
                    day: d,
                    kind: CaseKind::Request,
                    category,
                    severity,
                    description,
                    takes,
                });
            }
        }
        match fate {
            Fate::Distress { start } => {
                let trouble = facts
                    .first_missed
                    .or(facts.card_first_missed)
                    .unwrap_or(start + 60);
                if self.rng.random_bool(0.5) {
                    if let Some(d) = self.day(start + 20, trouble + 60) {
                        let (category, texts) = COMPLAINTS[*pick(self.rng, DISTRESS_COMPLAINTS)];
                        let severity = weighted(self.rng, &angry_severity);
                        let takes = self.rng.random_range(5..40);
                        drafts.push(CaseDraft {
                            day: d,
                            kind: CaseKind::Complaint,
                            category,
                            severity,
                            description: pick_text(self.rng, texts),
                            takes,
                        });
                    }
                }
                if self.rng.random_bool(0.45) {
                    if let Some(d) = self.day(trouble.saturating_sub(10), trouble + 45) {
                        let severity = weighted(
                            self.rng,
                            &[(Severity::Medium, 60.0), (Severity::High, 40.0)],
                        );
                        let takes = self.rng.random_range(3..20);
                        drafts.push(CaseDraft {
                            day: d,
                            kind: CaseKind::Request,
                            category: "loan",
                            severity,
                            description: "因收入下降申请延期还款或个性化分期",
                            takes,
                        });
                    }
                }
            }
            Fate::Attrition { start } => {
                if self.rng.random_bool(0.5) {
                    if let Some(d) = self.day(start.saturating_sub(45), start + 15) {
                        let (category, texts) = COMPLAINTS[*pick(self.rng, LEAVER_COMPLAINTS)];
                        let severity = weighted(self.rng, &complaint_severity);
                        let takes = self.rng.random_range(2..30);
                        drafts.push(CaseDraft {
                            day: d,
                            kind: CaseKind::Complaint,
                            category,
                            severity,
                            description: pick_text(self.rng, texts),
                            takes,
                        });
                    }
                }
                if let Some(c) = facts.close_day {
                    drafts.push(CaseDraft {
                        day: c,
                        kind: CaseKind::Request,
                        category: "account",
                        severity: Severity::Low,
                        description: "申请销户并将余额转至他行",
                        takes: 0,
                    });
                }
            }
            Fate::Healthy => {}
        }
        drafts.sort_by_key(|c| c.day);
        let mut written = Vec::with_capacity(drafts.len());
        for c in drafts {
            let closes = c.day + c.takes;
            let closed_day = (closes <= self.last && self.rng.random_bool(0.95)).then_some(closes);
            let status = match closed_day {
                Some(_) => {
                    if self.rng.random_bool(0.7) {
                        "closed"
                    } else {
                        "resolved"
                    }
                }
                None => *pick(
                    self.rng,
                    &["open", "in_progress", "in_progress", "waiting_customer"],
                ),
            };
            self.case_seq += 1;
            let opened = self.world.cal.days[c.day].iso;
            let closed = closed_day.map(|d| self.world.cal.days[d].iso);
            self.tables
                .cases
                .row()
                .key("CS", self.ck, Some(self.case_seq))
                .key("C", self.ck, None)
                .date(&opened)
                .text(c.kind.as_str())
                .text(c.category)
                .text(c.severity.as_str())
                .text(status)
                .text(c.description)
                .opt_date(closed.as_ref())
                .end();
            written.push((c, closed_day));
        }
        written
    }

    fn survey(
        &mut self,
        d: usize,
        survey: &str,
        kind: SurveyKind,
        question: &str,
        score: Option<i64>,
        answer: &str,
    ) {
        self.survey_seq += 1;
        let date = self.world.cal.days[d].iso;
        let row = self
            .tables
            .survey_responses
            .row()
            .key("SR", self.ck, Some(self.survey_seq))
            .key("C", self.ck, None)
            .text(survey)
            .text(kind.as_str())
            .date(&date)
            .text(question);
        let row = match score {
            Some(s) => row.int(s),
            None => row.text(""),
        };
        row.text(answer).end();
    }

    fn unhappy(&self, fate: Fate, facts: &Facts, d: usize) -> bool {
        match fate {
            Fate::Distress { start } => {
                d >= start + 30 || facts.first_missed.is_some_and(|f| d >= f)
            }
            Fate::Attrition { start } => d + 60 >= start,
            Fate::Healthy => false,
        }
    }

    fn surveys(&mut self, fate: Fate, facts: &Facts, cases: &[(CaseDraft, Option<usize>)]) {
        let world = self.world;
        let cal = &world.cal;
        // Relationship NPS every half year, answered in its last month.
        let p_answer = if facts.dormant { 0.03 } else { 0.12 };
        for m in &cal.months {
            if m.month != 6 && m.month != 12 {
                continue;
            }
            let survey = format!("nps_{}h{}", m.year, if m.month == 6 { 1 } else { 2 });
            let lo = m.first.max(0) as usize;
            let hi = (m.first + i64::from(m.len) - 1).max(0) as usize;
            let Some(d) = self.day(lo, hi) else { continue };
            if !self.rng.random_bool(p_answer) {
                continue;
            }
            let unhappy = self.unhappy(fate, facts, d);
            let (mean, sd): (f64, f64) = if unhappy { (4.3, 2.4) } else { (7.9, 1.9) };
            let score = Normal::new(mean, sd)
                .map(|n| n.sample(self.rng))
                .unwrap_or(mean)
                .round()
                .clamp(0.0, 10.0) as i64;
            self.survey(d, &survey, SurveyKind::Nps, NPS_QUESTION, Some(score), "");
            if self.rng.random_bool(0.35) {
                let reason = match score {
                    9.. => *pick(self.rng, PRAISE),
                    7..=8 => *pick(self.rng, NEUTRAL),
                    _ => *pick(self.rng, CRITICISM),
                };
                self.survey(
                    d,
                    &survey,
                    SurveyKind::FreeText,
                    REASON_QUESTION,
                    None,
                    reason,
                );
            }
        }
        // Satisfaction with each closed case.
        for (c, closed) in cases {
            let Some(closed) = closed else { continue };
            if !self.rng.random_bool(0.45) {
                continue;
            }
            let Some(d) = self.day(*closed, closed + 3) else {
                continue;
            };
            let unhappy = self.unhappy(fate, facts, d);
            let mean: f64 = match (c.kind, unhappy) {
                (CaseKind::Complaint, true) => 1.9,
                (CaseKind::Complaint, false) => 3.4,
                (_, true) => 3.0,
                (_, false) => 4.3,
            };
            let score = Normal::new(mean, 0.9)
                .map(|n| n.sample(self.rng))
                .unwrap_or(mean)
                .round()
                .clamp(1.0, 5.0) as i64;
            self.survey(
                d,
                "case_csat",
                SurveyKind::Csat,
                CSAT_QUESTION,
                Some(score),
                "",
            );
        }
    }

    fn consent(
        &mut self,
        channel: Channel,
        purpose: ConsentPurpose,
        granted: bool,
        recorded: chrono::NaiveDate,
        revoked: Option<usize>,
    ) {
        self.consent_seq += 1;
        let revoked = revoked.map(|d| self.world.cal.days[d].iso);
        self.tables
            .consents
            .row()
            .key("CN", self.ck, Some(self.consent_seq))
            .key("C", self.ck, None)
            .text(channel.as_str())
            .text(purpose.as_str())
            .bool(granted)
            .date(&iso(recorded))
            .opt_date(revoked.as_ref())
            .end();
    }

    fn consents(&mut self, person: &Person, fate: Fate, facts: &Facts) {
        let since = person.since;
        let start = self.world.cal.start;
        // Service contact by phone is part of the account agreement.
        self.consent(Channel::Phone, ConsentPurpose::Service, true, since, None);
        if facts.uses_app {
            let app_from =
                shift(since, self.rng.random_range(0..400)).min(shift(start, self.last as i64));
            self.consent(
                Channel::Mobile,
                ConsentPurpose::Service,
                true,
                app_from,
                None,
            );
        }
        let mut marketing: Vec<(Channel, f64)> = vec![(Channel::Phone, 0.45)];
        if person.age < 70 {
            marketing.push((Channel::Wechat, 0.5));
        }
        if facts.uses_app {
            marketing.push((Channel::Mobile, 0.55));
        }
        if person.email.is_some() {
            marketing.push((Channel::Online, 0.35));
        }
        for (channel, p) in marketing {
            let granted = self.rng.random_bool(p);
            let recorded = if self.rng.random_bool(0.3) {
                let d = self.rng.random_range(self.first..=self.last);
                self.world.cal.days[d].date
            } else {
                since
            };
            let first_revocable = self.first.max(offset(start, recorded).max(0) as usize);
            let revoked = if !granted {
                None
            } else {
                match fate {
                    Fate::Attrition { start: s } if self.rng.random_bool(0.55) => {
                        self.day(s.max(first_revocable), s + 60)
                    }
                    Fate::Distress { start: s } if self.rng.random_bool(0.25) => {
                        let from = facts.first_missed.unwrap_or(s + 60).max(first_revocable);
                        self.day(from, from + 90)
                    }
                    _ if self.rng.random_bool(0.05) => self.day(first_revocable, self.last),
                    _ => None,
                }
            };
            self.consent(
                channel,
                ConsentPurpose::Marketing,
                granted,
                recorded,
                revoked,
            );
        }
    }
}
