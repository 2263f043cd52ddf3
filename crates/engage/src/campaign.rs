//! Campaigns: who a campaign reaches, on which channel, when, and why not.
//!
//! A campaign ([`CampaignSpec`], a TOML file) is an audience (a saved
//! segment, or the need segment the holiday demand forecast saved), a
//! template in Chinese and English with personal fields, channels in
//! priority order, a schedule window, a control-group share, a purpose
//! (marketing or service) and, for an offer, the product whose suitability
//! every recipient must pass.
//!
//! [`plan`] decides each member of the audience, in this order:
//!
//! 1. **Suitability** (offers only): the caller passes the verdict of the
//!    suitability rule; an unsuitable customer is blocked before any channel
//!    is tried.
//! 2. **Channels in priority order**: a channel without an address on file
//!    is skipped; otherwise the contact policy ([`crate::decide`]) is asked
//!    at the planned time (the later of the window's start and now). Quiet
//!    hours defer the send to their end when that is still inside the
//!    window; any other refusal falls back to the next channel.
//! 3. **Control group**: among the customers who could be sent to, a stable
//!    hash of the campaign and the customer key puts the configured share in
//!    the control group (no message), so the preview and the launch draw the
//!    same group and the uplift compares like with like.
//!
//! A customer no channel can reach is counted under the refusal that got
//! furthest through the policy's checks (consent < do-not-disturb < quiet
//! hours < caps), ties to the higher-priority channel: "blocked by the cap"
//! means the customer would have been reached but for the cap.
//!
//! The preview and the launch call the same function with the same inputs,
//! so the preview's counts are what the launch queues.

use crate::policy::{
    decide, ConsentRecord, ContactPolicy, Purpose, SendChannel, SendDecision, SendDecisionCode,
    SentMessage,
};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The personal fields a template may use.
pub const TEMPLATE_FIELDS: &[(&str, &str)] = &[
    (
        "name",
        "the customer's name (surname for Chinese greetings is the caller's choice)",
    ),
    ("customer_key", "the customer's key"),
    (
        "product",
        "the offered product's name in the message's language",
    ),
    ("rm", "the relationship manager's name, or the branch"),
    ("branch", "the customer's branch"),
    ("survey_link", "the customer's one-time survey link"),
    ("video_link", "the meeting's video link"),
    (
        "opt_out",
        "how to stop marketing messages, in the message's language",
    ),
];

/// A campaign as written in its TOML file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignSpec {
    /// Stable key, e.g. `national_day_2026`.
    pub key: String,
    pub name_en: String,
    pub name_zh: String,
    pub purpose: Purpose,
    pub audience: Audience,
    /// The offered product (catalogue code); suitability applies.
    #[serde(default)]
    pub product: Option<String>,
    /// The survey a follow-up carries (its link is the `survey_link` field).
    #[serde(default)]
    pub survey: Option<String>,
    /// Channels in priority order; the first allowed one is used.
    pub channels: Vec<SendChannel>,
    pub window: Window,
    /// Share of the reachable audience held back as the control group, in
    /// percent (0–50).
    #[serde(default)]
    pub control_percent: f64,
    /// Days after the launch in which a response or an accepted offer
    /// counts for the uplift.
    #[serde(default = "default_attribution_days")]
    pub attribution_days: u32,
    /// The language of customers with no recorded preference.
    #[serde(default = "default_lang")]
    pub default_lang: Lang,
    pub template: Template,
}

fn default_attribution_days() -> u32 {
    30
}

fn default_lang() -> Lang {
    Lang::Zh
}

/// Who the campaign is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Audience {
    /// A saved segment by its code.
    Segment { code: String },
    /// The need segment the holiday demand forecast saved (the latest year
    /// saved for the holiday), e.g. holiday `national_day`, need `travel`.
    HolidayNeed { holiday: String, need: String },
    /// The customers a launched campaign sent to (a follow-up, 回访).
    CampaignRecipients { campaign: String },
    /// Everyone in the store.
    All,
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Audience::Segment { code } => write!(f, "segment {code}"),
            Audience::HolidayNeed { holiday, need } => {
                write!(f, "holiday need segment {holiday}/{need}")
            }
            Audience::CampaignRecipients { campaign } => {
                write!(f, "recipients of campaign {campaign}")
            }
            Audience::All => f.write_str("all customers"),
        }
    }
}

/// The schedule window (local time): nothing is sent before `start` or
/// after `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
}

/// A message language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh_cn" | "chinese" => Some(Lang::Zh),
            "en" | "en-us" | "en-gb" | "english" => Some(Lang::En),
            _ => None,
        }
    }
}

/// The message in both languages; `{field}` inserts a personal field,
/// `{{` and `}}` are literal braces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    #[serde(default)]
    pub subject_zh: Option<String>,
    #[serde(default)]
    pub subject_en: Option<String>,
    pub body_zh: String,
    pub body_en: String,
}

/// Why a campaign file is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignError {
    /// The field, e.g. `template.body_zh`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for CampaignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for CampaignError {}

fn err(field: impl Into<String>, message: impl Into<String>) -> CampaignError {
    CampaignError {
        field: field.into(),
        message: message.into(),
    }
}

/// A template split into literal text and fields.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(String),
}

fn parse_template(field: &str, text: &str) -> Result<Vec<Piece>, CampaignError> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|x| x.1) == Some('{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek().map(|x| x.1) == Some('}') => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed {
                    return Err(err(field, format!("unclosed '{{' at byte {i}")));
                }
                let name = name.trim().to_string();
                if !TEMPLATE_FIELDS.iter().any(|(f, _)| *f == name) {
                    let known: Vec<&str> = TEMPLATE_FIELDS.iter().map(|(f, _)| *f).collect();
                    return Err(err(
                        field,
                        format!("unknown field {{{name}}} (known: {})", known.join(", ")),
                    ));
                }
                if !lit.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut lit)));
                }
                out.push(Piece::Field(name));
            }
            '}' => return Err(err(field, format!("lone '}}' at byte {i} (write '}}}}')"))),
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Text(lit));
    }
    Ok(out)
}

fn render_pieces(pieces: &[Piece], fields: &BTreeMap<&str, String>) -> Result<String, String> {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => s.push_str(t),
            Piece::Field(f) => match fields.get(f.as_str()) {
                Some(v) => s.push_str(v),
                None => return Err(f.clone()),
            },
        }
    }
    Ok(s)
}

impl Template {
    fn parts(&self, lang: Lang) -> (Option<(&'static str, &str)>, (&'static str, &str)) {
        match lang {
            Lang::Zh => (
                self.subject_zh
                    .as_deref()
                    .map(|s| ("template.subject_zh", s)),
                ("template.body_zh", self.body_zh.as_str()),
            ),
            Lang::En => (
                self.subject_en
                    .as_deref()
                    .map(|s| ("template.subject_en", s)),
                ("template.body_en", self.body_en.as_str()),
            ),
        }
    }

    /// The fields the template uses in either language.
    pub fn fields_used(&self) -> Result<Vec<String>, CampaignError> {
        let mut used = Vec::new();
        for lang in [Lang::Zh, Lang::En] {
            let (subject, body) = self.parts(lang);
            for (field, text) in subject.into_iter().chain(std::iter::once(body)) {
                for p in parse_template(field, text)? {
                    if let Piece::Field(f) = p {
                        if !used.contains(&f) {
                            used.push(f);
                        }
                    }
                }
            }
        }
        Ok(used)
    }

    /// The subject (if any) and body in `lang`, with the fields filled in.
    /// A field the template uses but `fields` lacks is an error naming it.
    pub fn render(
        &self,
        lang: Lang,
        fields: &BTreeMap<&str, String>,
    ) -> Result<RenderedMessage, CampaignError> {
        let (subject, (body_field, body)) = self.parts(lang);
        let subject = match subject {
            Some((field, text)) => Some(
                render_pieces(&parse_template(field, text)?, fields)
                    .map_err(|f| err(field, format!("no value for {{{f}}}")))?,
            ),
            None => None,
        };
        let body = render_pieces(&parse_template(body_field, body)?, fields)
            .map_err(|f| err(body_field, format!("no value for {{{f}}}")))?;
        Ok(RenderedMessage {
            lang,
            subject,
            body,
        })
    }
}

/// A message ready for a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedMessage {
    pub lang: Lang,
    pub subject: Option<String>,
    pub body: String,
}

impl CampaignSpec {
    /// Reads and checks a campaign file's text.
    pub fn parse(text: &str) -> Result<CampaignSpec, CampaignError> {
        let spec: CampaignSpec = toml::from_str(text).map_err(|e| {
            let field = e
                .span()
                .map(|s| {
                    format!(
                        "line {}",
                        text[..s.start.min(text.len())].lines().count().max(1)
                    )
                })
                .unwrap_or_else(|| "campaign".into());
            err(field, e.message().to_string())
        })?;
        spec.validate()?;
        Ok(spec)
    }

    /// Checks the campaign: key, names, channels, window, control share and
    /// both templates (every field known; e-mail needs a subject).
    pub fn validate(&self) -> Result<(), CampaignError> {
        if self.key.is_empty()
            || !self
                .key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(err("key", "use letters, digits, '_' or '-' (not empty)"));
        }
        if self.name_en.trim().is_empty() {
            return Err(err("name_en", "empty"));
        }
        if self.name_zh.trim().is_empty() {
            return Err(err("name_zh", "empty"));
        }
        if self.channels.is_empty() {
            return Err(err("channels", "at least one channel"));
        }
        for (i, c) in self.channels.iter().enumerate() {
            if self.channels[..i].contains(c) {
                return Err(err("channels", format!("{c} listed twice")));
            }
        }
        if self.window.end <= self.window.start {
            return Err(err(
                "window.end",
                format!(
                    "{} is not after the start {}",
                    self.window.end, self.window.start
                ),
            ));
        }
        if !(0.0..=50.0).contains(&self.control_percent) || self.control_percent.is_nan() {
            return Err(err(
                "control_percent",
                format!("{} is not between 0 and 50", self.control_percent),
            ));
        }
        if self.attribution_days == 0 || self.attribution_days > 365 {
            return Err(err("attribution_days", "between 1 and 365"));
        }
        if self.template.body_zh.trim().is_empty() {
            return Err(err("template.body_zh", "empty"));
        }
        if self.template.body_en.trim().is_empty() {
            return Err(err("template.body_en", "empty"));
        }
        if self.channels.contains(&SendChannel::Email)
            && (self.template.subject_zh.is_none() || self.template.subject_en.is_none())
        {
            return Err(err(
                "template.subject_zh",
                "an e-mail campaign needs a subject in both languages",
            ));
        }
        let used = self.template.fields_used()?;
        if used.iter().any(|f| f == "product") && self.product.is_none() {
            return Err(err(
                "product",
                "the template uses {product} but no product is offered",
            ));
        }
        if used.iter().any(|f| f == "survey_link") && self.survey.is_none() {
            return Err(err(
                "survey",
                "the template uses {survey_link} but names no survey",
            ));
        }
        if self.purpose == Purpose::Marketing && !used.iter().any(|f| f == "opt_out") {
            return Err(err(
                "template.body_zh",
                "a marketing message must tell the customer how to opt out ({opt_out})",
            ));
        }
        if let Some(p) = &self.product {
            if p.trim().is_empty() {
                return Err(err("product", "empty"));
            }
        }
        Ok(())
    }
}

/// The shipped National Day campaign (an offer to the travel-need segment
/// the holiday demand forecast saves).
pub const NATIONAL_DAY: &str = include_str!("../config/campaigns/national_day.toml");
/// The shipped post-holiday follow-up (回访) carrying a survey.
pub const HOLIDAY_FOLLOW_UP: &str = include_str!("../config/campaigns/holiday_follow_up.toml");

/// The shipped campaigns by key.
pub fn shipped() -> Vec<(&'static str, &'static str)> {
    vec![
        ("national_day", NATIONAL_DAY),
        ("holiday_follow_up", HOLIDAY_FOLLOW_UP),
    ]
}

/// One member of the audience as the planner sees it.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub customer_id: i64,
    pub customer_key: &'a str,
    pub consents: &'a [ConsentRecord],
    pub do_not_disturb: bool,
    /// Marketing and service messages already sent or queued for the
    /// customer (by any campaign), for the caps.
    pub history: &'a [SentMessage],
    /// The channels the customer has an address for.
    pub reachable_on: &'a [SendChannel],
    /// The suitability verdict for the campaign's product: `None` when the
    /// campaign offers no product, `Some(Err(reason))` when unsuitable.
    pub suitability: Option<Result<(), String>>,
}

/// Why a customer is not sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockReason {
    Suitability,
    NoAddress,
    Consent,
    DoNotDisturb,
    QuietHours,
    Cap,
}

impl BlockReason {
    pub fn as_str(self) -> &'static str {
        match self {
            BlockReason::Suitability => "suitability",
            BlockReason::NoAddress => "no_address",
            BlockReason::Consent => "consent",
            BlockReason::DoNotDisturb => "do_not_disturb",
            BlockReason::QuietHours => "quiet_hours",
            BlockReason::Cap => "cap",
        }
    }

    fn of(code: SendDecisionCode) -> Option<BlockReason> {
        match code {
            SendDecisionCode::Allowed => None,
            SendDecisionCode::NoConsent
            | SendDecisionCode::ConsentRevoked
            | SendDecisionCode::ConsentRefused => Some(BlockReason::Consent),
            SendDecisionCode::DoNotDisturb => Some(BlockReason::DoNotDisturb),
            SendDecisionCode::QuietHours => Some(BlockReason::QuietHours),
            SendDecisionCode::ChannelCap | SendDecisionCode::OverallCap => Some(BlockReason::Cap),
        }
    }
}

/// What the plan decided for one customer.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Reachable and sent to on `channel` at `at`.
    Send {
        channel: SendChannel,
        at: NaiveDateTime,
    },
    /// Reachable on `channel` but held back as the control group.
    Control { channel: SendChannel },
    /// Not reachable.
    Blocked {
        reason: BlockReason,
        reason_en: String,
        reason_zh: String,
    },
}

/// One customer's plan with every decision the policy made for it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCustomer {
    pub customer_id: i64,
    pub outcome: Outcome,
    /// The policy's decisions, one per channel tried (for the decision log).
    pub decisions: Vec<SendDecision>,
}

/// The counts a preview shows and a launch reproduces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PlanCounts {
    pub audience: u64,
    /// Reachable: to send plus control.
    pub eligible: u64,
    pub to_send: u64,
    pub control: u64,
    /// Sends deferred past quiet hours (included in `to_send`).
    pub deferred: u64,
    pub blocked_suitability: u64,
    pub blocked_no_address: u64,
    pub blocked_consent: u64,
    pub blocked_do_not_disturb: u64,
    pub blocked_quiet_hours: u64,
    pub blocked_cap: u64,
    /// Messages to send per channel.
    pub by_channel: BTreeMap<String, u64>,
}

impl PlanCounts {
    /// The counts of a plan.
    pub fn of(plan: &[PlannedCustomer]) -> PlanCounts {
        let mut c = PlanCounts {
            audience: plan.len() as u64,
            ..PlanCounts::default()
        };
        for p in plan {
            match &p.outcome {
                Outcome::Send { channel, .. } => {
                    c.eligible += 1;
                    c.to_send += 1;
                    *c.by_channel
                        .entry(channel.as_str().to_string())
                        .or_default() += 1;
                    if p.decisions
                        .iter()
                        .any(|d| d.code == SendDecisionCode::QuietHours)
                    {
                        c.deferred += 1;
                    }
                }
                Outcome::Control { .. } => {
                    c.eligible += 1;
                    c.control += 1;
                }
                Outcome::Blocked { reason, .. } => match reason {
                    BlockReason::Suitability => c.blocked_suitability += 1,
                    BlockReason::NoAddress => c.blocked_no_address += 1,
                    BlockReason::Consent => c.blocked_consent += 1,
                    BlockReason::DoNotDisturb => c.blocked_do_not_disturb += 1,
                    BlockReason::QuietHours => c.blocked_quiet_hours += 1,
                    BlockReason::Cap => c.blocked_cap += 1,
                },
            }
        }
        c
    }

    /// Whether every audience member is counted exactly once.
    pub fn reconciles(&self) -> bool {
        self.audience
            == self.to_send
                + self.control
                + self.blocked_suitability
                + self.blocked_no_address
                + self.blocked_consent
                + self.blocked_do_not_disturb
                + self.blocked_quiet_hours
                + self.blocked_cap
            && self.eligible == self.to_send + self.control
            && self.by_channel.values().sum::<u64>() == self.to_send
    }
}

/// Whether the customer falls in the campaign's control group: a stable
/// 64-bit FNV-1a hash of `campaign/customer`, in basis points.
pub fn in_control(campaign_key: &str, customer_key: &str, control_percent: f64) -> bool {
    if control_percent <= 0.0 {
        return false;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in campaign_key
        .bytes()
        .chain(std::iter::once(b'/'))
        .chain(customer_key.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Basis points keep two decimals of the percentage.
    let threshold = (control_percent * 100.0).round() as u64;
    h % 10_000 < threshold
}

/// Plans one customer (see the module doc for the order).
pub fn plan_customer(
    spec: &CampaignSpec,
    policy: &ContactPolicy,
    c: &Candidate<'_>,
    now: NaiveDateTime,
) -> PlannedCustomer {
    let blocked = |reason: BlockReason, en: String, zh: String, decisions| PlannedCustomer {
        customer_id: c.customer_id,
        outcome: Outcome::Blocked {
            reason,
            reason_en: en,
            reason_zh: zh,
        },
        decisions,
    };
    if let Some(Err(why)) = &c.suitability {
        return blocked(
            BlockReason::Suitability,
            format!(
                "unsuitable for {}: {why}",
                spec.product.as_deref().unwrap_or("?")
            ),
            format!("产品适当性不匹配：{why}"),
            Vec::new(),
        );
    }
    let at = now.max(spec.window.start);
    let mut decisions = Vec::new();
    // The refusal that got furthest, with its channel's priority.
    let mut furthest: Option<(BlockReason, String, String)> = None;
    let mut reached: Option<(SendChannel, NaiveDateTime)> = None;
    for &channel in &spec.channels {
        if !c.reachable_on.contains(&channel) {
            if furthest.is_none() {
                furthest = Some((
                    BlockReason::NoAddress,
                    format!("no address on file for {channel}"),
                    format!("无{}联系方式", channel.label_zh()),
                ));
            }
            continue;
        }
        if at > spec.window.end {
            let d = decide(
                policy,
                c.consents,
                c.do_not_disturb,
                c.history,
                channel,
                spec.purpose,
                at,
            );
            decisions.push(d);
            furthest = Some((
                BlockReason::QuietHours,
                format!("the window closed at {}", spec.window.end),
                format!("发送时段已于{}结束", spec.window.end),
            ));
            break;
        }
        let mut d = decide(
            policy,
            c.consents,
            c.do_not_disturb,
            c.history,
            channel,
            spec.purpose,
            at,
        );
        let mut send_at = at;
        if d.code == SendDecisionCode::QuietHours {
            if let Some(until) = d.defer_until.filter(|u| *u <= spec.window.end) {
                decisions.push(d);
                d = decide(
                    policy,
                    c.consents,
                    c.do_not_disturb,
                    c.history,
                    channel,
                    spec.purpose,
                    until,
                );
                send_at = until;
            }
        }
        let code = d.code;
        let (en, zh) = (d.reason_en.clone(), d.reason_zh.clone());
        decisions.push(d);
        match BlockReason::of(code) {
            None => {
                reached = Some((channel, send_at));
                break;
            }
            Some(reason) => {
                let further = furthest.as_ref().is_none_or(|(r, _, _)| reason > *r);
                if further {
                    furthest = Some((reason, en, zh));
                }
            }
        }
    }
    match reached {
        Some((channel, at)) => {
            let outcome = if in_control(&spec.key, c.customer_key, spec.control_percent) {
                Outcome::Control { channel }
            } else {
                Outcome::Send { channel, at }
            };
            PlannedCustomer {
                customer_id: c.customer_id,
                outcome,
                decisions,
            }
        }
        None => {
            let (reason, en, zh) = furthest.unwrap_or((
                BlockReason::NoAddress,
                "no channel".into(),
                "无可用渠道".into(),
            ));
            blocked(reason, en, zh, decisions)
        }
    }
}

/// Plans every candidate; the preview shows [`PlanCounts::of`] the result
/// and the launch queues its `Send` outcomes.
pub fn plan(
    spec: &CampaignSpec,
    policy: &ContactPolicy,
    candidates: &[Candidate<'_>],
    now: NaiveDateTime,
) -> Vec<PlannedCustomer> {
    candidates
        .iter()
        .map(|c| plan_customer(spec, policy, c, now))
        .collect()
}

/// The uplift of a campaign: the treated group's rate minus the control
/// group's, with a normal-approximation 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Uplift {
    pub treated: u64,
    pub treated_converted: u64,
    pub control: u64,
    pub control_converted: u64,
    pub treated_rate: f64,
    pub control_rate: f64,
    /// Percentage points.
    pub uplift_pp: f64,
    pub ci95_low_pp: f64,
    pub ci95_high_pp: f64,
}

/// The uplift of converted counts in the two groups (`None` when either
/// group is empty).
pub fn uplift(
    treated: u64,
    treated_converted: u64,
    control: u64,
    control_converted: u64,
) -> Option<Uplift> {
    if treated == 0 || control == 0 {
        return None;
    }
    let pt = treated_converted as f64 / treated as f64;
    let pc = control_converted as f64 / control as f64;
    let se = (pt * (1.0 - pt) / treated as f64 + pc * (1.0 - pc) / control as f64).sqrt();
    let d = pt - pc;
    Some(Uplift {
        treated,
        treated_converted,
        control,
        control_converted,
        treated_rate: pt,
        control_rate: pc,
        uplift_pp: d * 100.0,
        ci95_low_pp: (d - 1.96 * se) * 100.0,
        ci95_high_pp: (d + 1.96 * se) * 100.0,
    })
}

/// The back-off before retry number `attempt` (1 = the first retry):
/// `base × 2^(attempt−1)`, at most `max_secs`.
pub fn backoff_secs(base_secs: u64, max_secs: u64, attempt: u32) -> u64 {
    let factor = 1u64
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u64::MAX);
    base_secs.saturating_mul(factor).min(max_secs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn spec() -> CampaignSpec {
        CampaignSpec::parse(NATIONAL_DAY).unwrap()
    }

    fn consent(channel: &str, purpose: Purpose) -> ConsentRecord {
        ConsentRecord {
            channel: channel.into(),
            purpose,
            granted: true,
            recorded_on: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            revoked_on: None,
        }
    }

    #[test]
    fn shipped_campaigns_parse_and_validate() {
        for (name, text) in shipped() {
            let s = CampaignSpec::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!s.channels.is_empty());
        }
        let nd = spec();
        assert_eq!(nd.purpose, Purpose::Marketing);
        assert!(nd.product.is_some());
        let fu = CampaignSpec::parse(HOLIDAY_FOLLOW_UP).unwrap();
        assert_eq!(fu.purpose, Purpose::Service);
        assert!(fu.survey.is_some());
    }

    #[test]
    fn template_fields_render_and_errors_name_the_field() {
        let t = Template {
            subject_zh: Some("{name}您好".into()),
            subject_en: Some("Hello {name}".into()),
            body_zh: "尊敬的{name}：{product} {{不是字段}}".into(),
            body_en: "Dear {name}: {product}".into(),
        };
        let mut f = BTreeMap::new();
        f.insert("name", "王芳".to_string());
        f.insert("product", "出境游信用卡".to_string());
        let m = t.render(Lang::Zh, &f).unwrap();
        assert_eq!(m.subject.as_deref(), Some("王芳您好"));
        assert_eq!(m.body, "尊敬的王芳：出境游信用卡 {不是字段}");
        f.remove("product");
        let e = t.render(Lang::En, &f).unwrap_err();
        assert_eq!(e.field, "template.body_en");
        assert!(e.message.contains("{product}"), "{e}");

        let bad = Template {
            body_zh: "您好{nmae}".into(),
            ..t.clone()
        };
        let e = bad.fields_used().unwrap_err();
        assert_eq!(e.field, "template.body_zh");
        assert!(e.message.contains("unknown field {nmae}"), "{e}");
        let lone = Template {
            body_en: "oops }".into(),
            ..t
        };
        assert_eq!(lone.fields_used().unwrap_err().field, "template.body_en");
    }

    #[test]
    fn validation_names_the_field() {
        let mut s = spec();
        s.control_percent = 80.0;
        assert_eq!(s.validate().unwrap_err().field, "control_percent");
        let mut s = spec();
        s.window.end = s.window.start;
        assert_eq!(s.validate().unwrap_err().field, "window.end");
        let mut s = spec();
        s.channels = vec![SendChannel::Sms, SendChannel::Sms];
        assert_eq!(s.validate().unwrap_err().field, "channels");
        let mut s = spec();
        s.template.body_zh = s.template.body_zh.replace("{opt_out}", "");
        s.template.body_en = s.template.body_en.replace("{opt_out}", "");
        assert!(s.validate().unwrap_err().message.contains("opt out"));
        let e = CampaignSpec::parse("key = 1").unwrap_err();
        assert!(!e.message.is_empty());
    }

    #[test]
    fn control_group_is_stable_and_near_its_share() {
        let n = 20_000;
        let hits = (0..n)
            .filter(|i| in_control("national_day_2026", &format!("C{i:06}"), 10.0))
            .count();
        let share = hits as f64 / f64::from(n);
        assert!((0.09..0.11).contains(&share), "{share}");
        assert_eq!(in_control("a", "C1", 10.0), in_control("a", "C1", 10.0));
        assert!(!in_control("a", "C1", 0.0));
    }

    #[test]
    fn plan_falls_back_defers_and_counts_the_furthest_refusal() {
        let mut s = spec();
        s.control_percent = 0.0;
        s.channels = vec![SendChannel::Sms, SendChannel::Email];
        s.window = Window {
            start: dt("2026-09-25 07:00"),
            end: dt("2026-09-28 20:00"),
        };
        let policy = ContactPolicy::default();
        let phone_mkt = [consent("phone", Purpose::Marketing)];
        let online_mkt = [consent("online", Purpose::Marketing)];
        let both = [SendChannel::Sms, SendChannel::Email];
        let now = dt("2026-09-25 07:00");

        // SMS consented; 07:00 is quiet: deferred to 08:00 on SMS.
        let c = Candidate {
            customer_id: 1,
            customer_key: "C1",
            consents: &phone_mkt,
            do_not_disturb: false,
            history: &[],
            reachable_on: &both,
            suitability: Some(Ok(())),
        };
        let p = plan_customer(&s, &policy, &c, now);
        assert_eq!(
            p.outcome,
            Outcome::Send {
                channel: SendChannel::Sms,
                at: dt("2026-09-25 08:00")
            }
        );
        assert_eq!(p.decisions.len(), 2);

        // No SMS consent: falls back to e-mail.
        let c2 = Candidate {
            customer_id: 2,
            customer_key: "C2",
            consents: &online_mkt,
            ..c.clone()
        };
        let p2 = plan_customer(&s, &policy, &c2, dt("2026-09-25 10:00"));
        assert!(matches!(
            p2.outcome,
            Outcome::Send {
                channel: SendChannel::Email,
                ..
            }
        ));

        // SMS capped, no e-mail consent: blocked by the cap (got furthest).
        let hist = [SentMessage {
            channel: SendChannel::Sms,
            purpose: Purpose::Marketing,
            at: dt("2026-09-24 10:00"),
        }];
        let c3 = Candidate {
            customer_id: 3,
            customer_key: "C3",
            history: &hist,
            ..c.clone()
        };
        let p3 = plan_customer(&s, &policy, &c3, dt("2026-09-25 10:00"));
        assert!(
            matches!(
                p3.outcome,
                Outcome::Blocked {
                    reason: BlockReason::Cap,
                    ..
                }
            ),
            "{:?}",
            p3.outcome
        );

        // Unsuitable: blocked before any channel.
        let c4 = Candidate {
            customer_id: 4,
            customer_key: "C4",
            suitability: Some(Err("R3 above C2".into())),
            ..c.clone()
        };
        let p4 = plan_customer(&s, &policy, &c4, now);
        assert!(matches!(
            p4.outcome,
            Outcome::Blocked {
                reason: BlockReason::Suitability,
                ..
            }
        ));
        assert!(p4.decisions.is_empty());

        // No address on either channel.
        let c5 = Candidate {
            customer_id: 5,
            customer_key: "C5",
            reachable_on: &[],
            ..c.clone()
        };
        let p5 = plan_customer(&s, &policy, &c5, now);
        assert!(matches!(
            p5.outcome,
            Outcome::Blocked {
                reason: BlockReason::NoAddress,
                ..
            }
        ));

        // Quiet hours with the window closing before they end: blocked by quiet hours.
        let mut late = s.clone();
        late.window = Window {
            start: dt("2026-09-25 22:00"),
            end: dt("2026-09-25 23:30"),
        };
        let p6 = plan_customer(&late, &policy, &c, dt("2026-09-25 22:00"));
        assert!(matches!(
            p6.outcome,
            Outcome::Blocked {
                reason: BlockReason::QuietHours,
                ..
            }
        ));

        let counts = PlanCounts::of(&[p, p2, p3, p4, p5, p6]);
        assert!(counts.reconciles(), "{counts:?}");
        assert_eq!(counts.to_send, 2);
        assert_eq!(counts.deferred, 1);
        assert_eq!(counts.blocked_cap, 1);
        assert_eq!(counts.blocked_suitability, 1);
        assert_eq!(counts.blocked_no_address, 1);
        assert_eq!(counts.blocked_quiet_hours, 1);
    }

    #[test]
    fn control_members_are_reachable_ones() {
        let mut s = spec();
        s.control_percent = 50.0;
        s.channels = vec![SendChannel::Sms];
        let policy = ContactPolicy::default();
        let ok = [consent("phone", Purpose::Marketing)];
        let keys: Vec<String> = (0..400).map(|i| format!("K{i}")).collect();
        let cands: Vec<Candidate<'_>> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| Candidate {
                customer_id: i as i64,
                customer_key: k,
                consents: if i % 2 == 0 { &ok } else { &[] },
                do_not_disturb: false,
                history: &[],
                reachable_on: &[SendChannel::Sms],
                suitability: None,
            })
            .collect();
        let p = plan(
            &s,
            &policy,
            &cands,
            s.window.start + chrono::Duration::hours(3),
        );
        let c = PlanCounts::of(&p);
        assert!(c.reconciles());
        assert_eq!(c.eligible, 200);
        assert_eq!(c.blocked_consent, 200);
        assert!(c.control > 60 && c.control < 140, "{c:?}");
        for x in &p {
            if let Outcome::Control { .. } = x.outcome {
                assert_eq!(x.customer_id % 2, 0);
            }
        }
    }

    #[test]
    fn uplift_and_backoff() {
        let u = uplift(1000, 80, 100, 5).unwrap();
        assert!((u.uplift_pp - 3.0).abs() < 1e-9);
        assert!(u.ci95_low_pp < 3.0 && u.ci95_high_pp > 3.0);
        assert!(uplift(0, 0, 10, 1).is_none());
        assert_eq!(backoff_secs(60, 3600, 1), 60);
        assert_eq!(backoff_secs(60, 3600, 2), 120);
        assert_eq!(backoff_secs(60, 3600, 4), 480);
        assert_eq!(backoff_secs(60, 3600, 10), 3600);
        assert_eq!(backoff_secs(60, 3600, 200), 3600);
    }
}
