//! The command line, declared with clap. Only shapes here; behaviour lives in `commands`.

pub mod alert;
pub mod analytics;
pub mod campaign;
pub mod case;
pub mod commands;
pub mod contact;
pub mod holiday;
pub mod kpi;
pub mod model;
pub mod ops;
pub mod recommend;
pub mod risk;
pub mod rm;
pub mod score;
pub mod stream;
pub mod survey;
pub mod validation;
pub mod web;

use clap::{Args, Parser, Subcommand};
use rapport_services::access::{staff_by_username, AccessError, Actor};
use rapport_services::error::ServiceError;
use rapport_store::Store;

/// The member of staff a command that changes data acts as (`--actor` or
/// `RAPPORT_ACTOR`): must name an active member of staff; refused otherwise.
pub async fn acting(store: &Store, actor: Option<&str>) -> anyhow::Result<Actor> {
    let Some(name) = actor.map(str::trim).filter(|s| !s.is_empty()) else {
        return Err(ServiceError::Access(AccessError::NoActor).into());
    };
    let staff = staff_by_username(store, name, "cli")
        .await
        .map_err(ServiceError::from)?;
    Ok(Actor::Staff(staff))
}
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "rapport",
    version,
    about = "Customer health management and precise matching for banks"
)]
pub struct Cli {
    /// Database URL: sqlite://PATH (default ./rapport-data/rapport.db) or postgres://…
    #[arg(long, global = true, env = "RAPPORT_DB")]
    pub db: Option<String>,
    /// Configuration file (TOML). Default: ./rapport.toml when it exists.
    #[arg(long, global = true, env = "RAPPORT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print exactly one JSON object on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Logs as JSON lines on stderr (also: RAPPORT_LOG_JSON=1).
    #[arg(long, global = true)]
    pub log_json: bool,
    /// Who acts, for commands that change data: an active member of staff's
    /// user name (recorded in the audit log like a web sign-in).
    #[arg(long, global = true, env = "RAPPORT_ACTOR")]
    pub actor: Option<String>,
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create (or migrate) the store.
    Init,
    /// Serve the web UI and the REST API (and run the scheduler).
    Serve(ServeArgs),
    /// Staff accounts: add, passwd, enable/disable, list.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for machines: create, list, revoke.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Run only the scheduler (nightly scoring, housekeeping) until Ctrl-C or SIGTERM;
    /// any number of workers and servers can share one store.
    Worker,
    /// Scheduled jobs: list them with their last runs, or run one now.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Online backup of the SQLite store into FILE (a consistent snapshot, verified).
    Backup { file: PathBuf },
    /// Replace the SQLite store with a verified backup (stop the server first).
    Restore {
        file: PathBuf,
        /// Replace an existing store.
        #[arg(long)]
        force: bool,
    },
    /// Load data: canonical CSV, a directory of canonical CSV, Berka, Taiwan card statements.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Generate a synthetic bank (deterministic by seed): to canonical CSV in --out, or into the store.
    Gen(GenArgs),
    /// Export a table of the store as CSV.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Reports on the store's content.
    #[command(subcommand)]
    Report(ReportCommand),
    /// The newcomer's first command: a fresh store, a generated bank loaded into it, the quality report.
    Demo(DemoArgs),
    /// Benchmarks that print figures side by side with peer engines.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Scores every customer as of a date: features, health scores, segments,
    /// early-warning rules and alerts, all stored for that date.
    Score(ScoreArgs),
    /// Early-warning alerts: list them, show one, move them through the
    /// workflow (ack, action, close).
    #[command(subcommand)]
    Alert(crate::cli::alert::AlertCommand),
    /// The live early-warning path: NDJSON transactions on stdin, raised
    /// alerts as NDJSON on stdout (and stored); throughput and latency on stderr.
    Stream(crate::cli::stream::StreamArgs),
    /// Checks the health score and the alerts against labelled data
    /// (figures for docs/VALIDATION.md).
    #[command(subcommand)]
    Validate(ValidateCommand),
    /// Predictive models: train and validate on a labelled extract, score an
    /// extract with reasons, build the Berka loan extract.
    #[command(subcommand)]
    Model(crate::cli::model::ModelCommand),
    /// The columnar analytical copy of the transactions: rebuild it from the store, check it agrees;
    /// the transaction aggregates as Spark SQL and as a PySpark job (docs/SCALE.md).
    #[command(subcommand)]
    Analytics(crate::cli::analytics::AnalyticsCommand),
    /// Next best actions: for one customer (--customer KEY) or every
    /// customer (--all, stored); `evaluate` on held-out holdings; `outcome`
    /// records offered / accepted / declined.
    Recommend(crate::cli::recommend::RecommendArgs),
    /// The contact policy: may a message go to a customer (consent,
    /// do-not-disturb, quiet hours, caps; logged), do-not-disturb, coverage.
    #[command(subcommand)]
    Contact(crate::cli::contact::ContactCommand),
    /// Campaigns: save, preview (counts eligible and blocked), launch into
    /// the outbox, dispatch (SMTP, HTTP gateway, call and meeting tasks),
    /// report with the uplift over the control group.
    #[command(subcommand)]
    Campaign(crate::cli::campaign::CampaignCommand),
    /// Cases and complaints: open, workflow steps, SLA sweep with
    /// escalations, metrics, improvement items.
    #[command(subcommand)]
    Case(crate::cli::case::CaseCommand),
    /// Relationship management: assign key customers to RMs by branch and
    /// capacity, cadence tasks per tier, the contact log, RM tasks and KPIs.
    #[command(subcommand)]
    Rm(crate::cli::rm::RmCommand),
    /// The KPI dashboard: every KPI with its target and monthly trend, a
    /// view by segment, branch or RM (--view), CSV export (--csv).
    Kpi(crate::cli::kpi::KpiArgs),
    /// Surveys: a one-time link for a customer (invite), and what the
    /// stored answers add up to (results: NPS, CSAT, Kano, importance ×
    /// urgency, themes).
    #[command(subcommand)]
    Survey(crate::cli::survey::SurveyCommand),
    /// Risk tolerance: record a customer's questionnaire (C1-C5; the
    /// suitability rule reads the latest), list the history, print the questions.
    #[command(subcommand)]
    Risk(crate::cli::risk::RiskCommand),
}

#[derive(Debug, Args)]
pub struct SyntheticArgs {
    /// The generator's ground_truth.csv.
    #[arg(long)]
    pub ground_truth: PathBuf,
    /// Source name the bank was imported under.
    #[arg(long, default_value = "synth")]
    pub source: String,
    /// First as-of date.
    #[arg(long, default_value = "2024-01-01")]
    pub from: String,
    /// End of the period (excluded).
    #[arg(long, default_value = "2025-01-01")]
    pub to: String,
    /// Days between scoring runs.
    #[arg(long, default_value_t = 1)]
    pub every: u32,
    /// Evaluate the alerts already in the store; run no scoring.
    #[arg(long)]
    pub evaluate_only: bool,
    /// Leave a rule's alerts out of the figures (repeatable), e.g. dormancy,
    /// which flags inactivity rather than trouble.
    #[arg(long = "exclude-rule")]
    pub exclude_rules: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ValidateCommand {
    /// AUC of the untrained scorecard for next-month defaults on a store
    /// loaded with the Taiwan card statements (`import card-statements`).
    Taiwan,
    /// AUC of the owner's score at each loan's start for bad loans (B/D) on
    /// a store loaded with Berka (`import berka`).
    Berka,
    /// Scoring runs over a period of a store loaded with a generated bank,
    /// then its alerts against the planted ground truth: precision, recall,
    /// median lead time.
    Synthetic(SyntheticArgs),
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The as-of date D (windows are [D - W, D)); default: the day after the
    /// latest transaction in the store.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Rows per scan chunk (memory per chunk; results do not depend on it).
    #[arg(long)]
    pub chunk_rows: Option<usize>,
    /// A scorecard TOML file instead of the shipped default (docs/SCORECARD.md).
    #[arg(long)]
    pub scorecard: Option<PathBuf>,
    /// A segments TOML file instead of the shipped default (docs/SEGMENTS.md).
    #[arg(long)]
    pub segments: Option<PathBuf>,
    /// An early-warning rules TOML file instead of the shipped pack (docs/RULES.md).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// When back-scoring history: the date the extract's point-in-time
    /// columns (loan days past due) describe; loans' arrears are ignored
    /// before it (docs/FEATURES.md).
    #[arg(long)]
    pub extract_date: Option<String>,
    /// The output directory of the Spark job (`rapport analytics
    /// spark-job`): the transaction aggregates come from it instead of the
    /// transactions; the as-of date defaults to the job's (docs/SCALE.md).
    #[arg(long, value_name = "DIR")]
    pub features: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Bulk-load speed against DuckDB read_csv and sqlite3 .import on the same transactions file.
    Import(BenchImportArgs),
    /// Scoring speed and peak memory; DuckDB computes the core features from the same store
    /// in the same run, and both outputs must agree (exit 1 when they do not).
    Score(BenchScoreArgs),
    /// API load: concurrent clients request the customer 360 JSON of random customers
    /// from a running server; requests/s and latency percentiles (exit 1 on any error).
    Api(ApiBenchArgs),
    /// The live path: transactions/s at full speed and alert latency paced at 5,000/s, the
    /// bootstrap time, counts reconciled with the store, the per-line path as the peer.
    Stream(crate::bench::stream::BenchStreamArgs),
}

#[derive(Debug, Args)]
pub struct ApiBenchArgs {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An API token (`rapport token create --user NAME`).
    #[arg(long, env = "RAPPORT_TOKEN")]
    pub token: String,
    /// Customer keys, one per line (default: sampled from the store named by --db).
    #[arg(long)]
    pub keys: Option<PathBuf>,
    /// Keys sampled from the store.
    #[arg(long, default_value_t = 100_000)]
    pub sample: i64,
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    #[arg(long = "duration", default_value_t = 30.0)]
    pub duration_secs: f64,
    #[arg(long = "warmup", default_value_t = 5.0)]
    pub warmup_secs: f64,
    #[arg(long, default_value = "/api/v1/customers/{key}")]
    pub path_template: String,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct BenchScoreArgs {
    #[arg(long, default_value_t = 100_000)]
    pub customers: u64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The as-of date D (YYYY-MM-DD); default: the day after the generated history ends.
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Working directory (bank, SQLite store, columnar copy, exported tables); a bank,
    /// store, copy and export already there from the same --customers and --seed are
    /// reused. Default: a temporary one.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep the exported tables and DuckDB's output (and the temporary directory).
    #[arg(long)]
    pub keep: bool,
    /// Rows per scan chunk of the feature engine.
    #[arg(long)]
    pub chunk_rows: Option<usize>,
    /// Also time the store's scan of the transactions alone, with no computation (the
    /// floor under the feature stage).
    #[arg(long)]
    pub scan_floor: bool,
}

#[derive(Debug, Args)]
pub struct BenchImportArgs {
    #[arg(long, default_value_t = 100_000)]
    pub customers: u64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Use an already generated bank instead of generating one.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also load into this (empty) PostgreSQL database.
    #[arg(long)]
    pub pg: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// One canonical CSV file of one kind (see docs/FORMATS.md).
    Csv {
        /// branches, products, customers, accounts, account_roles, transactions, holdings, loans,
        /// cards, standing_orders, card_statements, interactions, cases, survey_responses,
        /// consents, staff_users, outcomes
        #[arg(long)]
        kind: String,
        file: PathBuf,
        /// Source system the keys belong to.
        #[arg(long, default_value = "core")]
        source: String,
        #[command(flatten)]
        opts: ImportArgs,
    },
    /// Every KIND.csv of a directory, in dependency order (what `gen --out` writes).
    Dir {
        dir: PathBuf,
        #[arg(long, default_value = "core")]
        source: String,
        #[command(flatten)]
        opts: ImportArgs,
    },
    /// The Berka / PKDD'99 .asc files (plain or gzipped) of a directory.
    Berka {
        dir: PathBuf,
        #[command(flatten)]
        opts: ImportArgs,
    },
    /// The Taiwan credit-card statements file (UCI_Credit_Card.csv, plain or gzipped).
    CardStatements {
        file: PathBuf,
        #[command(flatten)]
        opts: ImportArgs,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Country calling code given to phone numbers without one.
    #[arg(long)]
    pub default_country: Option<String>,
    /// Rows per store batch.
    #[arg(long)]
    pub batch_size: Option<usize>,
}

#[derive(Debug, Args)]
pub struct GenArgs {
    #[arg(long, default_value_t = 20_000)]
    pub customers: u64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// First day of the generated history (YYYY-MM-DD).
    #[arg(long)]
    pub start: Option<String>,
    /// Day after the last day of history (YYYY-MM-DD).
    #[arg(long)]
    pub end: Option<String>,
    /// Write canonical CSV here instead of loading the store.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// A whole table as CSV (to --out, or stdout without --json).
    Table {
        table: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Every customer's features as of a date: `customer_key`, then the
    /// features of docs/FEATURES.md (computed, not stored).
    Features {
        /// The as-of date D; default: the day after the latest transaction.
        #[arg(long)]
        as_of: Option<String>,
        /// Output file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The stored health scores of a date:
    /// `customer_key,score,band,factor_1,factor_2,factor_3`.
    Scores {
        /// The as-of date of a `rapport score` run; default: the latest scored date.
        #[arg(long)]
        as_of: Option<String>,
        /// Output file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Completeness, validity and uniqueness per entity and field; information accuracy; quarantine by reason.
    Quality,
    /// Rows kept in quarantine with file, line, field and reason.
    Quarantine {
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Every identity merge and why it happened.
    Merges,
    /// Entity counts.
    Counts,
    /// Import history with per-file counts.
    Imports,
    /// Holiday demand per segment and category group: past uplifts, a
    /// forecast with its interval, and the customers likely to need a service
    /// (saved as segments of kind `holiday`). See docs/HOLIDAYS.md.
    Holiday(HolidayReportArgs),
}

#[derive(Debug, Args)]
pub struct HolidayReportArgs {
    /// new_year | spring_festival | qingming | labour_day | dragon_boat | mid_autumn | national_day
    #[arg(long)]
    pub holiday: String,
    /// The year of the holiday to forecast.
    #[arg(long)]
    pub year: i32,
    /// Days before the first day off counted in the holiday window (default 3).
    #[arg(long)]
    pub pre_holiday_days: Option<u32>,
    /// A holiday calendar (TOML, format of crates/analytics/config/holidays.toml) replacing the built-in one.
    #[arg(long)]
    pub holidays: Option<std::path::PathBuf>,
    /// Use transactions before this date only (default: all; YYYY-MM-DD).
    #[arg(long)]
    pub as_of: Option<String>,
    /// Do not save the need segments.
    #[arg(long)]
    pub no_save: bool,
    /// Rows per scan chunk (memory per chunk; results do not depend on it).
    #[arg(long)]
    pub chunk_rows: Option<usize>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[arg(long, default_value_t = 20_000)]
    pub customers: u64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Keep an existing demo store instead of starting afresh.
    #[arg(long)]
    pub keep: bool,
    /// Prepare the store and the demo users, then stop instead of serving.
    #[arg(long)]
    pub no_serve: bool,
    /// Address to serve on (default: web.listen, 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to bind (default: web.listen, 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<String>,
    /// Do not run the scheduler in this process (run `rapport worker` elsewhere).
    #[arg(long)]
    pub no_jobs: bool,
    /// Do not refresh the kept reports in the background (by default the
    /// server recomputes them after every change to the store, so that no
    /// page view pays for a cold report).
    #[arg(long)]
    pub no_warm: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a member of staff; prints a generated password unless
    /// --password-stdin. With --service: a service account for a machine (its
    /// own role, no password, no web sign-in; give it API tokens with
    /// `rapport token create --user NAME`).
    Add {
        username: String,
        /// admin | manager | rm | agent | risk | analyst | auditor
        #[arg(long)]
        role: String,
        /// Branch code (managers and RMs of a branch); omit for head office.
        #[arg(long)]
        branch: Option<String>,
        /// Display name (default: the user name).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of stdin (checked against the password policy).
        #[arg(long, conflicts_with = "service")]
        password_stdin: bool,
        /// A service account (a machine identity) instead of a person.
        #[arg(long)]
        service: bool,
    },
    /// Reset a password (generated and printed unless --password-stdin); the
    /// user must change it at their next sign-in unless it is your own.
    Passwd {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Enable or disable a user (disabling ends their sessions and tokens).
    Disable {
        username: String,
    },
    Enable {
        username: String,
    },
    /// List users with role and branch.
    List,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// The schedule and the latest runs.
    List,
    /// Run a job now in this process (recorded like a scheduled run).
    Run { name: String },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token (printed once, never stored) for yourself (--actor)
    /// or, as an administrator or at the console, for a service account;
    /// never for another person.
    Create {
        /// The holder: a service account, or yourself (the default, with --actor).
        #[arg(long)]
        user: Option<String>,
        #[arg(long, default_value = "api")]
        name: String,
    },
    /// List tokens (never the secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: i64 },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
