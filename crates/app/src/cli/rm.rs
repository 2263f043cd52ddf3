//! `rapport rm assign|cadence|log|tasks|kpis|capacity`: relationship
//! management (rapport_services::rm). `--now YYYY-MM-DDTHH:MM` (local) fixes the clock.

use crate::output::emit;
use anyhow::{bail, Context, Result};
use chrono::{Duration, NaiveDate};
use clap::{Args, Subcommand};
use rapport_services::clock::Clock;
use rapport_services::config::Config;
use rapport_services::import::open;
use rapport_services::rm::{self, ContactEntry, ContactKind, ContactOutcome, RmSettings};
use rapport_store::Store;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum RmCommand {
    /// Assign key customers (the key tiers) to RMs of their branch under
    /// capacity; report those that cannot be placed.
    Assign {
        /// Also move key customers of an RM of another branch, and the
        /// excess of RMs over capacity, where their branch has room.
        #[arg(long)]
        rebalance: bool,
        #[arg(long)]
        now: Option<String>,
    },
    /// Create the follow-up tasks the contact cadence per tier makes due (idempotent).
    Cadence {
        #[arg(long)]
        now: Option<String>,
    },
    /// Log a contact; closes the customer's open cadence tasks.
    Log(LogArgs),
    /// Open tasks of an RM (everyone's without --rm), overdue ones marked.
    Tasks {
        #[arg(long)]
        rm: Option<String>,
        #[arg(long)]
        now: Option<String>,
    },
    /// Per RM: coverage of key customers, contacts per customer, overdue
    /// tasks and the change of the portfolio's mean health score.
    Kpis {
        #[arg(long)]
        rm: Option<String>,
        /// First day of the period (YYYY-MM-DD; default 90 days before --to).
        #[arg(long)]
        from: Option<String>,
        /// Last day of the period (YYYY-MM-DD; default the clock's day).
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        now: Option<String>,
    },
    /// Set an RM's capacity of key customers (or --clear to use rm.capacity).
    Capacity {
        /// The RM's user name.
        rm: String,
        #[arg(long, conflicts_with = "clear")]
        max: Option<i64>,
        #[arg(long)]
        clear: bool,
    },
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// The customer: a source key or #ID.
    #[arg(long)]
    pub customer: String,
    /// call | visit | video | message
    #[arg(long)]
    pub kind: String,
    /// reached | no_answer | interested | declined | follow_up | completed |
    /// contacted_retained (also creates the follow-up call) | other
    #[arg(long)]
    pub outcome: String,
    #[arg(long)]
    pub note: Option<String>,
    #[arg(long)]
    pub now: Option<String>,
}

fn day(s: &str, flag: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("{flag} {s:?}: expected YYYY-MM-DD"))
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{:.1} %", 100.0 * v))
}

pub async fn run(cfg: &Config, json: bool, actor: Option<&str>, cmd: RmCommand) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let result = run_on(&store, cfg, json, actor, cmd).await;
    store.close().await;
    result
}

async fn run_on(
    store: &Store,
    cfg: &Config,
    json: bool,
    actor: Option<&str>,
    cmd: RmCommand,
) -> Result<()> {
    let settings = RmSettings::from_config(cfg)?;
    match cmd {
        RmCommand::Assign { rebalance, now } => {
            let clock = Clock::from_config(cfg, now.as_deref())?;
            let actor = crate::cli::acting(store, actor).await?;
            let r = rm::assign_as(store, &settings, &clock, &actor, "cli", rebalance).await?;
            emit(json, &json!(r), || {
                let mut s = format!(
                    "{} key customers (tiers of {}): {} kept, {} assigned, {} moved, {} with an RM of another branch, {} not placed",
                    r.key_customers, r.as_of, r.kept, r.assigned, r.moved, r.misplaced_kept,
                    r.unplaced.len()
                );
                for u in &r.unplaced {
                    s.push_str(&format!(
                        "\n  #{} {} branch {}: {}{}",
                        u.customer_id,
                        u.tier,
                        u.branch_code.as_deref().unwrap_or("-"),
                        u.reason.text(),
                        u.kept_with
                            .as_deref()
                            .map(|k| format!(" (stays with {k})"))
                            .unwrap_or_default()
                    ));
                }
                for o in &r.over_capacity {
                    s.push_str(&format!(
                        "\n  over capacity: {} {}/{}",
                        o.username, o.key_customers, o.capacity
                    ));
                }
                for b in r.branches.iter().filter(|b| b.key_customers > 0) {
                    let rms: Vec<String> = b
                        .rms
                        .iter()
                        .map(|l| format!("{} {}/{}", l.username, l.key_customers, l.capacity))
                        .collect();
                    s.push_str(&format!(
                        "\n{:<10} {:>5} key customers  {}",
                        b.branch_code,
                        b.key_customers,
                        rms.join(", ")
                    ));
                }
                s
            })
        }
        RmCommand::Cadence { now } => {
            let clock = Clock::from_config(cfg, now.as_deref())?;
            let r = rm::cadence(store, &settings, &clock).await?;
            emit(json, &json!(r), || {
                format!(
                    "{} key customers (tiers of {}): {} cadence tasks created ({} due today), {} already open, {} not due, {} without an RM",
                    r.key_customers, r.as_of, r.created, r.created_overdue, r.already_open,
                    r.not_due, r.unassigned
                )
            })
        }
        RmCommand::Log(a) => {
            let clock = Clock::from_config(cfg, a.now.as_deref())?;
            let entry = ContactEntry {
                customer_key: a.customer,
                kind: ContactKind::parse(&a.kind)?,
                outcome: ContactOutcome::parse(&a.outcome)?,
                note: a.note,
                by: String::new(),
            };
            let actor = crate::cli::acting(store, actor).await?;
            let r = rm::log_contact(store, &clock, &actor, "cli", entry).await?;
            emit(json, &json!(r), || {
                format!(
                    "contact #{} logged for customer #{} ({} {}, {}); {} cadence task(s) closed",
                    r.id,
                    r.customer_id,
                    r.kind.as_str(),
                    r.outcome.as_str(),
                    r.at.format("%Y-%m-%d %H:%M"),
                    r.closed_tasks
                )
            })
        }
        RmCommand::Tasks { rm: who, now } => {
            let clock = Clock::from_config(cfg, now.as_deref())?;
            let rows = rm::open_tasks(store, &clock, who.as_deref()).await?;
            let overdue = rows.iter().filter(|t| t.overdue).count();
            emit(json, &json!({ "tasks": rows, "overdue": overdue }), || {
                let mut s = format!("{} open tasks, {overdue} overdue", rows.len());
                for t in &rows {
                    s.push_str(&format!(
                        "\n{} #{:<6} {:<8} {} customer #{:<6} {} {}",
                        if t.overdue { "!" } else { " " },
                        t.task.id,
                        t.task.kind,
                        t.task.due_at.format("%Y-%m-%d %H:%M"),
                        t.task.customer_id,
                        t.task.assignee,
                        t.task.script.lines().last().unwrap_or("")
                    ));
                }
                s
            })
        }
        RmCommand::Kpis {
            rm: who,
            from,
            to,
            now,
        } => {
            let clock = Clock::from_config(cfg, now.as_deref())?;
            let to = match to {
                Some(t) => day(&t, "--to")?,
                None => clock.local().date(),
            };
            let from = match from {
                Some(f) => day(&f, "--from")?,
                None => to - Duration::days(90),
            };
            let rows = rm::rm_kpis(store, &settings, &clock, from, to, who.as_deref()).await?;
            emit(
                json,
                &json!({ "from": from, "to": to, "rms": rows }),
                || {
                    let mut s = format!(
                        "{from} to {to}\n{:<16} {:<8} {:>9} {:>5} {:>9} {:>9} {:>8} {:>8}",
                        "rm",
                        "branch",
                        "customers",
                        "key",
                        "coverage",
                        "contacts",
                        "overdue",
                        "health Δ"
                    );
                    for k in &rows {
                        s.push_str(&format!(
                            "\n{:<16} {:<8} {:>9} {:>5} {:>9} {:>9} {:>8} {:>8}",
                            k.username,
                            k.branch_code.as_deref().unwrap_or("-"),
                            k.customers,
                            k.key_customers,
                            pct(k.coverage),
                            k.contacts_per_customer
                                .map_or("-".into(), |v| format!("{v:.2}")),
                            k.overdue_tasks,
                            k.health_change.map_or("-".into(), |v| format!("{v:+.1}"))
                        ));
                    }
                    s
                },
            )
        }
        RmCommand::Capacity {
            rm: who,
            max,
            clear,
        } => {
            let max = match (max, clear) {
                (Some(m), false) => Some(m),
                (None, true) => None,
                _ => bail!("give --max N or --clear"),
            };
            let actor = crate::cli::acting(store, actor).await?;
            rm::set_capacity(store, &actor, "cli", &who, max).await?;
            emit(
                json,
                &json!({ "rm": who, "max_key_customers": max }),
                || match max {
                    Some(m) => format!("{who}: at most {m} key customers"),
                    None => format!("{who}: rm.capacity ({}) applies", settings.capacity),
                },
            )
        }
    }
}
