//! One typed configuration: defaults < TOML file < `RAPPORT__SECTION__KEY`
//! environment variables < command-line flags. Validated at start-up with
//! messages an operator can act on. Secrets (database passwords) are redacted
//! in `Debug`.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

#[derive(Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub database: DatabaseConfig,
    pub import: ImportConfig,
    pub web: WebConfig,
    pub jobs: JobsConfig,
    pub matching: MatchingConfig,
    pub contact: ContactConfig,
    pub campaigns: CampaignsConfig,
    pub cases: CasesConfig,
    pub kpi: KpiConfig,
    pub rm: RmConfig,
    pub scoring: ScoringConfig,
    pub masking: MaskingConfig,
    /// The SMTP relay for e-mail (absent: e-mail messages wait in the outbox).
    pub smtp: Option<rapport_channels::SmtpConfig>,
    /// The HTTP gateway for SMS, app push and WeChat (absent: they wait).
    pub gateway: Option<rapport_channels::GatewayConfig>,
}

/// Who sees which personal data in full (docs/SECURITY.md): per field, per
/// role, `shown`, `own` (the viewer's own book or branch) or `masked` (a
/// role not named is masked). Unmasking needs a reason of at least
/// `unmask_reason_min_chars` characters; whole-value identifier searches on
/// fields a role does not see are limited per member of staff per hour.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MaskingConfig {
    pub unmask_reason_min_chars: usize,
    pub identifier_searches_per_hour: u32,
    /// field → role → visibility.
    pub fields: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
}

impl Default for MaskingConfig {
    fn default() -> Self {
        let roles = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(r, v)| (r.to_string(), v.to_string()))
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        let fields = [
            ("name", roles(&[("rm", "own"), ("manager", "own")])),
            ("phone", roles(&[("rm", "own")])),
            ("email", roles(&[("rm", "own")])),
            ("birth_date", roles(&[("rm", "own")])),
            ("id_number", roles(&[])),
        ]
        .into_iter()
        .map(|(f, r)| (f.to_string(), r))
        .collect();
        MaskingConfig {
            unmask_reason_min_chars: 8,
            identifier_searches_per_hour: 30,
            fields,
        }
    }
}

/// The bank's own scoring files (docs/CONFIG.md): every scoring run — the
/// `score` command without its file options, the nightly job, the demo —
/// uses them instead of the shipped ones. Checked at start-up.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ScoringConfig {
    /// The health scorecard (TOML); absent = the shipped scorecard.
    pub scorecard: Option<String>,
    /// The early-warning rules (TOML); absent = the shipped pack.
    pub rules: Option<String>,
    /// The segment definitions (TOML); absent = the shipped ones.
    pub segments: Option<String>,
}

/// KPI targets and the dashboard's windows (docs/CONFIG.md).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct KpiConfig {
    /// Target per KPI (shares as fractions; product depth in products).
    pub targets: std::collections::BTreeMap<String, f64>,
    /// Days of the tiles' and views' window, ending on the last day of data.
    pub window_days: i64,
    /// Months of trend.
    pub trend_months: usize,
}

impl Default for KpiConfig {
    fn default() -> Self {
        let targets = [
            ("channel_coverage", 0.90),
            ("demand_response_24h", 0.95),
            ("information_accuracy", 0.95),
            ("satisfaction", 0.85),
            ("churn_reduction", 0.20),
            ("repeat_purchase_rate", 0.30),
            ("referral_rate", 0.05),
            ("product_depth", 3.0),
        ];
        KpiConfig {
            targets: targets.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            window_days: 90,
            trend_months: 12,
        }
    }
}

/// Cases and complaints: the SLA targets and escalation (docs/CONFIG.md).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CasesConfig {
    /// Which service levels cases run on: `bank` (the targets below) or
    /// `regulator` (the regulator's complaint timelines, 15 → 30 → 60
    /// calendar days; the targets below are then not used).
    pub sla_policy: String,
    /// `business` (working hours on working days, holidays off) or `calendar`.
    pub basis: String,
    /// The first-response clock: `calendar` (the default: 24 wall-clock
    /// hours) or `business` (working hours; the KPI's label says so).
    pub first_response_basis: String,
    /// First response target in minutes of its clock (default 24 h).
    pub first_response_minutes: i64,
    /// Resolution target per severity (low, medium, high, critical) in minutes.
    pub resolution_minutes: std::collections::BTreeMap<String, i64>,
    /// Share of a target after which the supervisor is warned (0–1).
    pub warn_at: f64,
    /// Who escalations go to when a case names no supervisor.
    pub escalate_to: String,
    /// Working days after resolution the follow-up visit is due.
    pub follow_up_days: u32,
}

impl Default for CasesConfig {
    fn default() -> Self {
        let r = rapport_engage::sla::ResolutionTargets::default();
        CasesConfig {
            sla_policy: "bank".into(),
            basis: "business".into(),
            first_response_basis: "calendar".into(),
            first_response_minutes: 24 * 60,
            resolution_minutes: [
                ("critical", r.critical),
                ("high", r.high),
                ("medium", r.medium),
                ("low", r.low),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
            warn_at: 0.8,
            escalate_to: "complaints_supervisor".into(),
            follow_up_days: 2,
        }
    }
}

/// Relationship management: key customers, RM capacity and the contact
/// cadence per tier (docs/CONFIG.md).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RmConfig {
    /// The tiers whose members are key customers (mass, affluent, high_net_worth).
    pub key_tiers: Vec<String>,
    /// Key customers an RM takes at most (an `rm_capacity` row overrides it per RM).
    pub capacity: u32,
    /// Days between contacts per tier (a tier not listed keeps its default);
    /// every key tier needs one.
    pub cadence_days: std::collections::BTreeMap<String, u32>,
    /// Days ahead of the due day a cadence task is created.
    pub lead_days: u32,
}

impl Default for RmConfig {
    fn default() -> Self {
        RmConfig {
            key_tiers: vec!["high_net_worth".into(), "affluent".into()],
            capacity: 150,
            cadence_days: [("high_net_worth", 30), ("affluent", 90)]
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            lead_days: 7,
        }
    }
}

impl RmConfig {
    /// Days between contacts for `tier`: as configured, else the default
    /// (high_net_worth 30, affluent 90, none for mass).
    pub fn cadence_for(&self, tier: &str) -> Option<u32> {
        self.cadence_days
            .get(tier)
            .copied()
            .or_else(|| RmConfig::default().cadence_days.get(tier).copied())
    }
}

/// Campaigns and the dispatcher (docs/CONFIG.md).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CampaignsConfig {
    /// The address customers reach the web server at, for survey links.
    pub public_url: String,
    /// Base of meeting video links (a room name is appended); empty = the
    /// meeting channel cannot be used.
    pub video_base_url: String,
    /// Days a one-time survey link stays valid.
    pub survey_valid_days: u32,
    /// Attempts per message before it fails.
    pub max_attempts: u32,
    /// The first retry waits this long; each further one twice as long.
    pub backoff_base_secs: u64,
    pub backoff_max_secs: u64,
    /// How long a dispatcher holds a claimed message before another may take it.
    pub lease_secs: u64,
    /// Messages claimed per round.
    pub batch: i64,
    /// Who gets call tasks of customers without an RM.
    pub call_centre: String,
}

impl Default for CampaignsConfig {
    fn default() -> Self {
        CampaignsConfig {
            public_url: "http://127.0.0.1:8080".into(),
            video_base_url: String::new(),
            survey_valid_days: 30,
            max_attempts: 5,
            backoff_base_secs: 60,
            backoff_max_secs: 3600,
            lease_secs: 300,
            batch: 500,
            call_centre: "call_centre".into(),
        }
    }
}

/// The contact policy (quiet hours and marketing caps; docs/CONFIG.md).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ContactConfig {
    /// Start of the quiet period, local time HH:MM.
    pub quiet_start: String,
    /// End of the quiet period, local time HH:MM (may be earlier than the start: wraps midnight).
    pub quiet_end: String,
    /// Whether quiet hours hold back service messages too.
    pub quiet_applies_to_service: bool,
    /// Marketing messages per channel within `channel_cap_days` (sms, email,
    /// app_push, wechat, phone, meeting); a channel not listed is not capped.
    pub channel_caps: std::collections::BTreeMap<String, u32>,
    pub channel_cap_days: u32,
    /// Marketing messages over all channels within `overall_cap_days`.
    pub overall_cap: u32,
    pub overall_cap_days: u32,
}

impl Default for ContactConfig {
    fn default() -> Self {
        let caps = [
            ("sms", 1),
            ("app_push", 1),
            ("wechat", 1),
            ("phone", 1),
            ("email", 2),
        ];
        ContactConfig {
            quiet_start: "21:00".into(),
            quiet_end: "08:00".into(),
            quiet_applies_to_service: true,
            channel_caps: caps.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            channel_cap_days: 7,
            overall_cap: 4,
            overall_cap_days: 30,
        }
    }
}

impl ContactConfig {
    /// The policy these settings describe (checked by `Config::validate`).
    pub fn policy(&self) -> Result<rapport_engage::ContactPolicy> {
        let time = |key: &str, v: &str| {
            chrono::NaiveTime::parse_from_str(v, "%H:%M").with_context(|| {
                format!("contact.{key} must be a time HH:MM such as 21:00 (got {v:?})")
            })
        };
        let mut caps = Vec::new();
        for (name, max) in &self.channel_caps {
            let channel = rapport_engage::SendChannel::parse(name).with_context(|| {
                format!(
                    "contact.channel_caps.{name}: not a channel ({})",
                    rapport_engage::SendChannel::ALL
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            caps.push(rapport_engage::FrequencyCap {
                channel: Some(channel),
                max: *max,
                days: self.channel_cap_days,
            });
        }
        caps.push(rapport_engage::FrequencyCap {
            channel: None,
            max: self.overall_cap,
            days: self.overall_cap_days,
        });
        Ok(rapport_engage::ContactPolicy {
            quiet: rapport_engage::QuietHours {
                start: time("quiet_start", &self.quiet_start)?,
                end: time("quiet_end", &self.quiet_end)?,
            },
            quiet_applies_to_service: self.quiet_applies_to_service,
            caps,
        })
    }
}

/// Next best actions: the catalogue, the suitability policy and the levers.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MatchingConfig {
    /// A product catalogue file (TOML, the format of the built-in one) that
    /// replaces the built-in catalogue; empty: the built-in one.
    pub catalogue: String,
    /// Days a risk-tolerance assessment stays valid.
    pub assessment_validity_days: i64,
    /// Sales actions kept per customer.
    pub max_sales: usize,
    /// Churn probability from which a retention action is raised.
    pub retention_churn: f64,
    /// Idle cash (yuan above three months of spending) that triggers the
    /// deposit and wealth rules.
    pub idle_cash_yuan: f64,
    /// Days ahead a public holiday puts travel and holiday products in context.
    pub holiday_days: i64,
    /// Business levers: a priority multiplier per product category
    /// (deposit, wealth, fund, insurance, pension, loan, card, precious_metal).
    pub levers: std::collections::BTreeMap<String, f64>,
    /// Responsible lending: the highest debt-service ratio (monthly loan
    /// payments ÷ monthly income) at which credit may be offered; 0.5 = 50 %.
    pub max_debt_service_ratio: f64,
    /// Responsible lending: alert rule codes whose open alert blocks credit
    /// and puts care first (empty: the built-in distress rules).
    pub distress_rules: Vec<String>,
    /// Alert rule codes whose open alert puts care first (empty: the
    /// built-in attrition rules).
    pub attrition_rules: Vec<String>,
    /// Responsible lending: days without the salary after which credit is
    /// blocked (a salary last credited within a year).
    pub max_days_without_salary: f64,
}

impl Default for MatchingConfig {
    fn default() -> Self {
        MatchingConfig {
            catalogue: String::new(),
            assessment_validity_days: 365,
            max_sales: 3,
            retention_churn: 0.5,
            idle_cash_yuan: 20_000.0,
            holiday_days: 30,
            levers: std::collections::BTreeMap::new(),
            max_debt_service_ratio: 0.5,
            distress_rules: Vec::new(),
            attrition_rules: Vec::new(),
            max_days_without_salary: 45.0,
        }
    }
}

/// The web server: where it listens, its default language, cookies and logs.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// Address `rapport serve` binds, e.g. 127.0.0.1:8080.
    pub listen: String,
    /// Language for users who have not chosen one: zh-CN or en.
    pub default_language: String,
    /// Marks the session cookie Secure (set when served behind HTTPS).
    pub secure_cookies: bool,
    /// Hours a browser session lives.
    pub session_hours: i64,
    /// Failed sign-ins for one user name from one client before each further
    /// attempt from that client waits (2^k seconds, k = failures beyond this).
    pub max_failed_logins: i64,
    /// Seconds a client gets to send a request's headers before the
    /// connection is closed (slow clients must not hold connections).
    pub header_read_timeout_seconds: u64,
    /// Seconds a whole request (body and answer) may take before it gets 408.
    pub request_timeout_seconds: u64,
    /// The longest such wait, in seconds.
    pub login_backoff_max_secs: i64,
    /// Failed sign-ins from one client, over all user names, within 15
    /// minutes before that client is refused until the window passes.
    pub max_failed_logins_per_client: i64,
    /// Reverse proxies whose `X-Forwarded-For` is believed: only when the
    /// socket peer is one of these is the client the right-most forwarded
    /// address that is not itself a trusted proxy.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// The scheduler inside the binary.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Runs the scheduler in `rapport serve` (a `rapport worker` runs it regardless).
    pub enabled: bool,
    /// Local time of the nightly scoring, HH:MM.
    pub nightly_scoring_at: String,
    /// The bank's UTC offset that local times are in, e.g. +08:00.
    pub utc_offset: String,
    /// Seconds between looks at the schedule table.
    pub poll_secs: i64,
    /// Seconds a running job gets to finish at shutdown before it is abandoned.
    pub shutdown_grace_secs: i64,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            listen: "127.0.0.1:8080".into(),
            default_language: "zh-CN".into(),
            secure_cookies: false,
            session_hours: 12,
            max_failed_logins: 5,
            header_read_timeout_seconds: 10,
            request_timeout_seconds: 300,
            login_backoff_max_secs: 900,
            max_failed_logins_per_client: 100,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            enabled: true,
            nightly_scoring_at: "02:00".into(),
            utc_offset: "+08:00".into(),
            poll_secs: 30,
            shutdown_grace_secs: 30,
        }
    }
}

#[derive(Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// sqlite://PATH or postgres://USER:PASS@HOST/DB
    pub url: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ImportConfig {
    /// Country calling code for phone numbers written without one.
    pub default_country: String,
    /// Rows handed to the store per batch.
    pub batch_size: usize,
}

pub const DEFAULT_DB_URL: &str = "sqlite://./rapport-data/rapport.db";

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: DEFAULT_DB_URL.to_string(),
        }
    }
}

impl Default for ImportConfig {
    fn default() -> Self {
        ImportConfig {
            default_country: "86".to_string(),
            batch_size: 5_000,
        }
    }
}

/// Replaces the password of a URL with `***`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .finish()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database", &self.database)
            .field("import", &self.import)
            .field("web", &self.web)
            .field("jobs", &self.jobs)
            .field("matching", &self.matching)
            .field("contact", &self.contact)
            .field("campaigns", &self.campaigns)
            .field("cases", &self.cases)
            .field("kpi", &self.kpi)
            .field("rm", &self.rm)
            .field("smtp", &self.smtp)
            .field("gateway", &self.gateway)
            .finish()
    }
}

impl Config {
    /// Loads the configuration. `file` must exist when given; without it
    /// `./rapport.toml` is read when present.
    pub fn load(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Config> {
        let mut table = match file {
            Some(p) => read_toml(p)?,
            None if Path::new("rapport.toml").exists() => read_toml(Path::new("rapport.toml"))?,
            None => toml::Table::new(),
        };
        let defaults = toml::Table::try_from(Config::default())
            .context("serialising the default configuration")?;
        for (key, value) in env {
            let Some(rest) = key.strip_prefix("RAPPORT__") else {
                continue;
            };
            let Some((section, field)) = rest.split_once("__") else {
                bail!("environment variable {key}: expected RAPPORT__SECTION__KEY");
            };
            let section = section.to_lowercase();
            let entry = table
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let toml::Value::Table(t) = entry else {
                bail!("environment variable {key}: [{section}] is not a section");
            };
            // The default's type decides how the text is read, so "86" stays a string
            // where a string is expected and "250" becomes a number where one is.
            let field_name = field.to_lowercase();
            let default = defaults.get(&section).and_then(|s| s.get(&field_name));
            let wants_integer = default.is_some_and(|v| v.is_integer());
            let wants_bool = default.is_some_and(|v| v.is_bool());
            let wants_float = default.is_some_and(|v| v.is_float());
            let wants_list = default.is_some_and(|v| v.is_array());
            let v =
                if wants_list {
                    // A list from the environment: comma-separated values.
                    toml::Value::Array(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|x| !x.is_empty())
                            .map(|x| toml::Value::String(x.to_string()))
                            .collect(),
                    )
                } else if wants_bool {
                    toml::Value::Boolean(match value.trim() {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        _ => bail!("{key}: {section}.{field_name} must be true or false"),
                    })
                } else if wants_float {
                    toml::Value::Float(value.trim().parse::<f64>().with_context(|| {
                        format!("{key}: {section}.{field_name} must be a number")
                    })?)
                } else if wants_integer {
                    toml::Value::Integer(value.trim().parse::<i64>().with_context(|| {
                        format!("{key}: {section}.{field_name} must be a whole number")
                    })?)
                } else {
                    toml::Value::String(value)
                };
            t.insert(field_name, v);
        }
        let cfg: Config = toml::Value::Table(table)
            .try_into()
            .context("configuration: a key is unknown or has the wrong type")?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<()> {
        crate::privacy::MaskingPolicy::from_config(&self.masking)?;
        let url = &self.database.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            bail!(
                "database.url {:?} must start with sqlite:// or postgres://",
                redact_url(url)
            );
        }
        if self.import.default_country.is_empty()
            || !self
                .import
                .default_country
                .bytes()
                .all(|b| b.is_ascii_digit())
        {
            bail!(
                "import.default_country must be digits only, e.g. \"86\" (got {:?})",
                self.import.default_country
            );
        }
        if !(1..=100_000).contains(&self.import.batch_size) {
            bail!(
                "import.batch_size must be between 1 and 100000 (got {})",
                self.import.batch_size
            );
        }
        if !matches!(self.web.default_language.as_str(), "zh-CN" | "en") {
            bail!(
                "web.default_language must be \"zh-CN\" or \"en\" (got {:?})",
                self.web.default_language
            );
        }
        if self.web.listen.parse::<std::net::SocketAddr>().is_err() {
            bail!(
                "web.listen must be an address and port such as 127.0.0.1:8080 (got {:?})",
                self.web.listen
            );
        }
        if !(1..=24 * 30).contains(&self.web.session_hours) {
            bail!(
                "web.session_hours must be between 1 and 720 (got {})",
                self.web.session_hours
            );
        }
        if self.web.max_failed_logins < 1 {
            bail!("web.max_failed_logins must be at least 1");
        }
        if !(1..=3600).contains(&self.web.header_read_timeout_seconds) {
            bail!(
                "web.header_read_timeout_seconds must be between 1 and 3600 (got {})",
                self.web.header_read_timeout_seconds
            );
        }
        if !(1..=86_400).contains(&self.web.request_timeout_seconds) {
            bail!(
                "web.request_timeout_seconds must be between 1 and 86400 (got {})",
                self.web.request_timeout_seconds
            );
        }
        if !(1..=86_400).contains(&self.web.login_backoff_max_secs) {
            bail!(
                "web.login_backoff_max_secs must be between 1 and 86400 (got {})",
                self.web.login_backoff_max_secs
            );
        }
        if self.web.max_failed_logins_per_client < self.web.max_failed_logins {
            bail!(
                "web.max_failed_logins_per_client must be at least web.max_failed_logins (got {})",
                self.web.max_failed_logins_per_client
            );
        }
        if chrono::NaiveTime::parse_from_str(&self.jobs.nightly_scoring_at, "%H:%M").is_err() {
            bail!(
                "jobs.nightly_scoring_at must be a time HH:MM such as 02:00 (got {:?})",
                self.jobs.nightly_scoring_at
            );
        }
        if self.jobs.utc_offset.parse::<chrono::FixedOffset>().is_err() {
            bail!(
                "jobs.utc_offset must be an offset such as +08:00 (got {:?})",
                self.jobs.utc_offset
            );
        }
        if self.jobs.poll_secs < 1 || self.jobs.shutdown_grace_secs < 0 {
            bail!("jobs.poll_secs must be at least 1 and jobs.shutdown_grace_secs at least 0");
        }
        self.contact.policy()?;
        let c = &self.campaigns;
        if !(c.public_url.starts_with("http://") || c.public_url.starts_with("https://")) {
            bail!(
                "campaigns.public_url must start with http:// or https:// (got {:?})",
                c.public_url
            );
        }
        let video_ok = c.video_base_url.is_empty()
            || c.video_base_url.starts_with("http://")
            || c.video_base_url.starts_with("https://");
        if !video_ok {
            bail!(
                "campaigns.video_base_url must start with https:// (got {:?})",
                c.video_base_url
            );
        }
        if !(1..=20).contains(&c.max_attempts) {
            bail!(
                "campaigns.max_attempts must be between 1 and 20 (got {})",
                c.max_attempts
            );
        }
        if c.backoff_base_secs == 0 || c.backoff_max_secs < c.backoff_base_secs {
            bail!("campaigns.backoff_base_secs must be at least 1 and at most campaigns.backoff_max_secs");
        }
        if c.lease_secs < 10 || !(1..=10_000).contains(&c.batch) || c.survey_valid_days == 0 {
            bail!("campaigns.lease_secs must be at least 10, campaigns.batch between 1 and 10000, campaigns.survey_valid_days at least 1");
        }
        for (name, v) in &self.kpi.targets {
            let Some(kpi) = rapport_analytics::kpi::Kpi::parse(name) else {
                bail!(
                    "kpi.targets.{name}: not a KPI ({})",
                    rapport_analytics::kpi::Kpi::names()
                );
            };
            if !v.is_finite() || *v < 0.0 || (kpi.is_share() && *v > 1.0) {
                bail!("kpi.targets.{name}: {v} is not a share between 0 and 1");
            }
        }
        if !(1..=3660).contains(&self.kpi.window_days) || !(1..=60).contains(&self.kpi.trend_months)
        {
            bail!(
                "kpi.window_days must be between 1 and 3660 and kpi.trend_months between 1 and 60"
            );
        }
        let k = &self.cases;
        if rapport_engage::sla::PolicyKind::parse(&k.sla_policy).is_none() {
            bail!(
                "cases.sla_policy must be bank or regulator (got {:?})",
                k.sla_policy
            );
        }
        if rapport_engage::sla::Basis::parse(&k.basis).is_none() {
            bail!(
                "cases.basis must be business or calendar (got {:?})",
                k.basis
            );
        }
        if rapport_engage::sla::Basis::parse(&k.first_response_basis).is_none() {
            bail!(
                "cases.first_response_basis must be calendar or business (got {:?})",
                k.first_response_basis
            );
        }
        if !(1..=525_600).contains(&k.first_response_minutes) {
            bail!("cases.first_response_minutes must be between 1 and 525600");
        }
        for (sev, m) in &k.resolution_minutes {
            if rapport_engage::sla::Severity::parse(sev).is_none() || !(1..=5_256_000).contains(m) {
                bail!("cases.resolution_minutes.{sev}: a severity (low, medium, high, critical) with minutes between 1 and 5256000");
            }
        }
        if !(k.warn_at > 0.0 && k.warn_at < 1.0) {
            bail!("cases.warn_at must be between 0 and 1 (got {})", k.warn_at);
        }
        if k.escalate_to.trim().is_empty() || k.follow_up_days > 60 {
            bail!("cases.escalate_to must not be empty and cases.follow_up_days at most 60");
        }
        self.validate_rm()?;
        if let Some(s) = &self.smtp {
            rapport_channels::SmtpChannel::new(s).map_err(|e| anyhow::anyhow!("smtp: {e}"))?;
        }
        if let Some(g) = &self.gateway {
            rapport_channels::HttpGateway::new(g).map_err(|e| anyhow::anyhow!("gateway: {e}"))?;
        }
        if !(1..=366).contains(&self.contact.channel_cap_days)
            || !(1..=366).contains(&self.contact.overall_cap_days)
        {
            bail!(
                "contact.channel_cap_days and contact.overall_cap_days must be between 1 and 366"
            );
        }
        let m = &self.matching;
        if !(1..=3_650).contains(&m.assessment_validity_days) {
            bail!(
                "matching.assessment_validity_days must be between 1 and 3650 (got {})",
                m.assessment_validity_days
            );
        }
        if !(1..=20).contains(&m.max_sales) {
            bail!(
                "matching.max_sales must be between 1 and 20 (got {})",
                m.max_sales
            );
        }
        if !(0.0..=1.0).contains(&m.retention_churn) {
            bail!(
                "matching.retention_churn must be a probability between 0 and 1 (got {})",
                m.retention_churn
            );
        }
        if !(m.idle_cash_yuan >= 0.0 && m.idle_cash_yuan.is_finite()) {
            bail!("matching.idle_cash_yuan must be 0 or more");
        }
        if !(0..=366).contains(&m.holiday_days) {
            bail!(
                "matching.holiday_days must be between 0 and 366 (got {})",
                m.holiday_days
            );
        }
        for (category, lever) in &m.levers {
            if rapport_matching::Category::parse(category).is_none() {
                bail!(
                    "matching.levers.{category}: not a product category ({})",
                    rapport_matching::Category::ALL
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            if !(0.0..=100.0).contains(lever) {
                bail!("matching.levers.{category} must be between 0 and 100 (got {lever})");
            }
        }
        // The bank's scoring files are read now, so a bad one stops start-up
        // with the key named instead of failing the nightly job.
        crate::scoring::ScoringOptions::from_config(&self.scoring)?;
        Ok(())
    }
}

impl Config {
    fn validate_rm(&self) -> Result<()> {
        let r = &self.rm;
        let tiers = || {
            rapport_analytics::segment::Tier::ALL
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
        };
        if r.key_tiers.is_empty() {
            bail!(
                "rm.key_tiers must name at least one tier ({})",
                tiers().join(", ")
            );
        }
        for (i, t) in r.key_tiers.iter().enumerate() {
            if !tiers().contains(&t.as_str()) {
                bail!("rm.key_tiers: {t:?} is not a tier ({})", tiers().join(", "));
            }
            if r.key_tiers[..i].contains(t) {
                bail!("rm.key_tiers: {t:?} is named twice");
            }
            if r.cadence_for(t).is_none() {
                bail!(
                    "rm.cadence_days.{t}: the key tier {t} needs a cadence (days between contacts)"
                );
            }
        }
        for (t, d) in &r.cadence_days {
            if !tiers().contains(&t.as_str()) {
                bail!("rm.cadence_days.{t}: not a tier ({})", tiers().join(", "));
            }
            if !(1..=366).contains(d) {
                bail!("rm.cadence_days.{t} must be between 1 and 366 days (got {d})");
            }
        }
        if !(1..=100_000).contains(&r.capacity) {
            bail!(
                "rm.capacity must be between 1 and 100000 (got {})",
                r.capacity
            );
        }
        if r.lead_days > 90 {
            bail!("rm.lead_days must be at most 90 (got {})", r.lead_days);
        }
        Ok(())
    }
}

fn read_toml(path: &Path) -> Result<toml::Table> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading configuration {}", path.display()))?;
    text.parse::<toml::Table>()
        .with_context(|| format!("parsing configuration {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_settings_make_the_policy_and_are_checked() {
        // The default settings are the engine's default policy.
        let mut d = ContactConfig::default()
            .policy()
            .unwrap_or_else(|e| panic!("{e}"));
        let mut e = rapport_engage::ContactPolicy::default();
        d.caps.sort_by_key(|c| c.channel);
        e.caps.sort_by_key(|c| c.channel);
        assert_eq!(d, e);
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("r.toml");
        std::fs::write(
            &path,
            "[contact]\nquiet_start = \"22:00\"\n[contact.channel_caps]\nsms = 3\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let cfg = Config::load(Some(&path), std::iter::empty()).unwrap_or_else(|e| panic!("{e}"));
        let p = cfg.contact.policy().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.quiet.start.format("%H:%M").to_string(), "22:00");
        assert_eq!(p.caps.len(), 2, "only sms and the overall cap");
        std::fs::write(&path, "[contact.channel_caps]\nfax = 1\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let err = Config::load(Some(&path), std::iter::empty())
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(err.contains("contact.channel_caps.fax"), "{err}");
        std::fs::write(&path, "[contact]\nquiet_end = \"8am\"\n").unwrap_or_else(|e| panic!("{e}"));
        let err = Config::load(Some(&path), std::iter::empty())
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(err.contains("contact.quiet_end"), "{err}");
    }

    #[test]
    fn matching_settings_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("r.toml");
        std::fs::write(
            &path,
            "[matching]\nmax_sales = 5\n[matching.levers]\nwealth = 1.5\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let env = vec![(
            "RAPPORT__MATCHING__RETENTION_CHURN".to_string(),
            "0.4".to_string(),
        )];
        let cfg = Config::load(Some(&path), env.into_iter()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cfg.matching.max_sales, 5);
        assert_eq!(cfg.matching.levers.get("wealth"), Some(&1.5));
        assert_eq!(cfg.matching.retention_churn, 0.4);
        std::fs::write(&path, "[matching.levers]\nsavings = 2.0\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let err = Config::load(Some(&path), std::iter::empty())
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(err.contains("matching.levers.savings"), "{err}");
    }

    #[test]
    fn rm_settings_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("r.toml");
        std::fs::write(&path, "[rm]\nkey_tiers = [\"high_net_worth\"]\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let env = vec![("RAPPORT__RM__CAPACITY".to_string(), "40".to_string())];
        let cfg = Config::load(Some(&path), env.into_iter()).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(cfg.rm.key_tiers, vec!["high_net_worth".to_string()]);
        assert_eq!(cfg.rm.capacity, 40);
        assert_eq!(cfg.rm.cadence_for("affluent"), Some(90));
        std::fs::write(&path, "[rm.cadence_days]\nhigh_net_worth = 14\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let cfg = Config::load(Some(&path), std::iter::empty()).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(cfg.rm.cadence_for("high_net_worth"), Some(14));
        assert_eq!(
            cfg.rm.cadence_for("affluent"),
            Some(90),
            "kept from the defaults"
        );
        for (text, key) in [
            ("[rm]\nkey_tiers = [\"gold\"]\n", "rm.key_tiers"),
            ("[rm]\nkey_tiers = [\"mass\"]\n", "rm.cadence_days.mass"),
            (
                "[rm.cadence_days]\naffluent = 0\n",
                "rm.cadence_days.affluent",
            ),
            ("[rm]\ncapacity = 0\n", "rm.capacity"),
            ("[rm]\nlead_days = 400\n", "rm.lead_days"),
        ] {
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
            let err = Config::load(Some(&path), std::iter::empty())
                .err()
                .map(|e| format!("{e:#}"))
                .unwrap_or_default();
            assert!(err.contains(key), "{text}: {err}");
        }
    }

    #[test]
    fn environment_overrides_the_file_and_defaults() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = dir.path().join("r.toml");
        std::fs::write(&p, "[import]\ndefault_country = \"44\"\nbatch_size = 100\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let env = vec![("RAPPORT__IMPORT__BATCH_SIZE".to_string(), "250".to_string())];
        let cfg = Config::load(Some(&p), env.into_iter()).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(cfg.import.default_country, "44");
        assert_eq!(cfg.import.batch_size, 250);
        assert_eq!(cfg.database.url, DEFAULT_DB_URL);
    }

    #[test]
    fn a_bad_value_is_refused_with_a_message_naming_it() {
        let env = vec![(
            "RAPPORT__IMPORT__DEFAULT_COUNTRY".to_string(),
            "+86".to_string(),
        )];
        let err = Config::load(None, env.into_iter())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("import.default_country"), "{err}");
    }

    #[test]
    fn passwords_never_show_in_debug() {
        let cfg = Config {
            database: DatabaseConfig {
                url: "postgres://bank:s3cret@db/rapport".into(),
            },
            ..Config::default()
        };
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("bank:***@db"), "{shown}");
    }
}
