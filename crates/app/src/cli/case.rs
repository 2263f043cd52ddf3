//! `rapport case open|act|respond|close|approve-closure|return-closure|reclassify|extend|show|list|sweep|metrics|improvement|classifier-report`:
//! cases and complaints (rapport_services::cases). `--now YYYY-MM-DDTHH:MM` (local) fixes the clock.

use crate::output::emit;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use rapport_engage::case::CaseAction;
use rapport_services::cases::action_of;
use rapport_services::cases::{self, CaseSettings, Intake};
use rapport_services::clock::Clock;
use rapport_services::config::Config;
use rapport_services::import::open;
use rapport_store::Store;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// Open a case (intake).
    Open(OpenArgs),
    /// One workflow step: assign, start, respond, wait, replied, resolve, close, reopen, escalate.
    Act(ActArgs),
    /// Respond to the customer: the text is kept on the case and sent to the
    /// customer (in their language, on a channel they consent to for service
    /// messages); the first response stops the first-response clock.
    Respond {
        id: i64,
        /// What the customer is told.
        #[arg(long)]
        message: String,
        #[arg(long)]
        now: Option<String>,
    },
    /// Close a resolved case; a high or critical complaint is not closed but
    /// waits for a manager's approval (approve-closure / return-closure).
    Close {
        id: i64,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        now: Option<String>,
    },
    /// As a manager: approve the closure another member of staff asked for.
    ApproveClosure {
        id: i64,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        now: Option<String>,
    },
    /// As a manager: return a closure request (the case stays resolved).
    ReturnClosure {
        id: i64,
        /// Why the case cannot close yet (required).
        #[arg(long)]
        note: String,
        #[arg(long)]
        now: Option<String>,
    },
    /// Correct a case's category (the correction trains the next classifier).
    Reclassify {
        id: i64,
        /// The right category: fees, cards_payments, loans_mortgages, accounts_deposits,
        /// wealth_insurance, service_attitude, digital_channels, fraud_security,
        /// credit_reporting, debt_collection, other.
        category: String,
        /// Why the category was wrong (kept with who and when).
        #[arg(long)]
        reason: String,
        #[arg(long)]
        now: Option<String>,
    },
    /// Extend a complaint's resolution deadline to the SLA policy's next step
    /// (the regulator's: 15 → 30 days; 30 → 60 needs a manager).
    Extend {
        id: i64,
        /// Why the case needs more time (the customer must be told).
        #[arg(long)]
        reason: String,
        #[arg(long)]
        now: Option<String>,
    },
    /// The complaint classifier measured per category on data kept out of
    /// training (real CFPB narratives, English and Chinese seed sets), with
    /// what it was trained on, stored corrections included.
    ClassifierReport,
    /// A case with its SLA status, escalations and history.
    Show {
        id: i64,
        #[arg(long)]
        now: Option<String>,
    },
    /// Open cases (or all with --all).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Check every open case's SLA and raise the escalations due (each once).
    Sweep {
        #[arg(long)]
        now: Option<String>,
    },
    /// First-response distribution, % within SLA, resolution time, reopen
    /// rate, complaints per 1,000 customers, by category and root cause.
    Metrics {
        /// Cases opened on or after (YYYY-MM-DD).
        #[arg(long)]
        from: Option<String>,
        /// Cases opened before (YYYY-MM-DD).
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        now: Option<String>,
    },
    /// Improvement items that roll root causes up.
    #[command(subcommand)]
    Improvement(ImprovementCommand),
    /// The root-cause taxonomy.
    RootCauses,
}

#[derive(Debug, Subcommand)]
pub enum ImprovementCommand {
    Add {
        #[arg(long)]
        root_cause: String,
        #[arg(long)]
        title: String,
        #[arg(long)]
        owner: String,
        #[arg(long)]
        note: Option<String>,
    },
    List,
    Status {
        id: i64,
        /// open | in_progress | done
        status: String,
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    #[arg(long)]
    pub customer: String,
    /// complaint | request | inquiry
    #[arg(long, default_value = "complaint")]
    pub kind: String,
    /// fees, cards_payments, loans_mortgages, accounts_deposits, wealth_insurance,
    /// service_attitude, digital_channels, fraud_security, credit_reporting, debt_collection, other
    #[arg(long)]
    pub category: String,
    /// low | medium | high | critical
    #[arg(long)]
    pub severity: String,
    #[arg(long)]
    pub subject: String,
    #[arg(long)]
    pub description: String,
    #[arg(long)]
    pub supervisor: Option<String>,
    #[arg(long)]
    pub now: Option<String>,
}

#[derive(Debug, Args)]
pub struct ActArgs {
    pub id: i64,
    /// assign | start | respond | wait | replied | resolve | close | reopen | escalate
    pub action: String,
    /// assign / escalate: to whom.
    #[arg(long)]
    pub to: Option<String>,
    /// resolve: the root-cause code (see `rapport case root-causes`).
    #[arg(long)]
    pub root_cause: Option<String>,
    /// resolve: what was done.
    #[arg(long)]
    pub resolution: Option<String>,
    /// reopen / escalate: why.
    #[arg(long)]
    pub reason: Option<String>,
    /// respond: what the customer is told (sent to them); close: a note.
    #[arg(long)]
    pub message: Option<String>,
    #[arg(long)]
    pub now: Option<String>,
}

/// A step's report in one line.
fn step_line(id: i64, r: &cases::StepReport) -> String {
    let mut s = format!("case #{id}: {}", r.state);
    if r.closure_requested {
        s.push_str("; closure asked, waiting for a manager's approval");
    }
    if let Some(q) = &r.response {
        s.push_str(&format!(
            "; response queued to the customer by {} in {} (message #{})",
            q.channel, q.lang, q.message
        ));
    }
    if let Some(n) = &r.response_not_sent {
        s.push_str(&format!(
            "; response recorded, NOT sent ({}): {}",
            n.code, n.reason
        ));
    }
    if let Some(t) = r.follow_up_task {
        s.push_str(&format!("; follow-up visit task #{t}"));
    }
    if let Some(m) = r.csat_message {
        s.push_str(&format!("; CSAT survey queued (message #{m})"));
    }
    if let Some(b) = &r.csat_blocked {
        s.push_str(&format!("; CSAT survey not sent: {b}"));
    }
    s
}

/// A manager's decision (approve or return) on case `id`'s closure request,
/// through the same use case as the page and the API.
async fn decide(
    store: &Store,
    cfg: &Config,
    settings: &CaseSettings,
    json: bool,
    actor: Option<&str>,
    (id, approve, note): (i64, bool, &str),
    now: Option<String>,
) -> Result<()> {
    let clock = Clock::from_config(cfg, now.as_deref())?;
    let actor = crate::cli::acting(store, actor).await?;
    let r =
        cases::decide_closure(store, settings, &clock, &actor, "cli", id, approve, note).await?;
    emit(
        json,
        &json!({ "case": id, "approved": approve, "step": r }),
        || {
            if approve {
                format!("case #{id}: closure approved, {}", r.state)
            } else {
                format!("case #{id}: closure returned, the case stays {}", r.state)
            }
        },
    )
}

fn day(s: &str, flag: &str) -> Result<chrono::NaiveDateTime> {
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("{flag} {s:?}: expected YYYY-MM-DD"))?;
    Ok(d.and_time(chrono::NaiveTime::MIN))
}

pub async fn run(cfg: &Config, json: bool, actor: Option<&str>, cmd: CaseCommand) -> Result<()> {
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
    cmd: CaseCommand,
) -> Result<()> {
    let settings = CaseSettings::from_config(cfg)?;
    match cmd {
        CaseCommand::Open(a) => {
            let clock = Clock::from_config(cfg, a.now.as_deref())?;
            let actor = crate::cli::acting(store, actor).await?;
            let c = cases::open_case(
                store,
                &clock,
                &actor,
                "cli",
                Intake {
                    customer_key: a.customer,
                    intake: String::new(),
                    kind: a.kind,
                    category: a.category,
                    severity: a.severity,
                    subject: a.subject,
                    description: a.description,
                    supervisor: a.supervisor,
                    by: String::new(),
                },
            )
            .await?;
            emit(json, &json!({ "case": c }), || {
                format!(
                    "case #{} opened ({} {}, {})",
                    c.id, c.severity, c.category, c.state
                )
            })
        }
        CaseCommand::Act(a) => {
            let clock = Clock::from_config(cfg, a.now.as_deref())?;
            let action = action_of(&a.action, a.to, a.root_cause, a.resolution, a.reason)?;
            let actor = crate::cli::acting(store, actor).await?;
            let (s, c, id) = (&settings, &clock, a.id);
            // The same use cases as the pages: a response is sent, a close
            // of a high complaint asks a manager.
            let note = a.message.unwrap_or_default();
            let r = match action {
                CaseAction::Respond => {
                    cases::respond_case(store, s, c, &actor, "cli", id, &note).await?
                }
                CaseAction::Close => {
                    cases::request_closure(store, s, c, &actor, "cli", id, &note).await?
                }
                action => cases::step_case(store, s, c, &actor, "cli", id, &action).await?,
            };
            emit(json, &json!({ "case": id, "step": r }), || {
                step_line(id, &r)
            })
        }
        CaseCommand::Respond { id, message, now } => {
            let clock = Clock::from_config(cfg, now.as_deref())?;
            let actor = crate::cli::acting(store, actor).await?;
            let r =
                cases::respond_case(store, &settings, &clock, &actor, "cli", id, &message).await?;
            emit(json, &json!({ "case": id, "step": r }), || {
                step_line(id, &r)
            })
        }
        CaseCommand::Close { id, note, now } => {
            let clock = Clock::from_config(cfg, now.as_deref())?;
            let actor = crate::cli::acting(store, actor).await?;
            let r =
                cases::request_closure(store, &settings, &clock, &actor, "cli", id, &note).await?;
            emit(json, &json!({ "case": id, "step": r }), || {
                step_line(id, &r)
            })
        }
        CaseCommand::ApproveClosure { id, note, now } => {
            decide(store, cfg, &settings, json, actor, (id, true, &note), now).await
        }
        CaseCommand::ReturnClosure { id, note, now } => {
            decide(store, cfg, &settings, json, actor, (id, false, &note), now).await
        }
        CaseCommand::Reclassify {
            id,
            category,
            reason,
            now,
        } => {
            let clock = Clock::from_config(cfg, now.as_deref())?;
            let actor = crate::cli::acting(store, actor).await?;
            let r = cases::reclassify_case(store, &clock, &actor, "cli", id, &category, &reason)
                .await?;
            emit(json, &json!({ "reclassified": r }), || {
                format!(
                    "case #{id}: {} → {} / {} → {} (by {})",
                    r.from.label_en(),
                    r.to.label_en(),
                    r.from.label_zh(),
                    r.to.label_zh(),
                    r.by
                )
            })
        }
        CaseCommand::Extend { id, reason, now } => {
            let clock = Clock::from_config(cfg, now.as_deref())?;
            let actor = crate::cli::acting(store, actor).await?;
            let x =
                cases::extend_case(store, &settings, &clock, &actor, "cli", id, &reason).await?;
            emit(json, &json!({ "extended": x }), || {
                format!(
                    "case #{id}: extension {} granted, resolution due {} / 第 {} 次延期，解决时限至 {}",
                    x.extensions,
                    x.due.format("%Y-%m-%d %H:%M"),
                    x.extensions,
                    x.due.format("%Y-%m-%d %H:%M")
                )
            })
        }
        CaseCommand::ClassifierReport => {
            // A read: as the named member of staff, or the system at the console.
            let actor = match actor {
                Some(_) => crate::cli::acting(store, actor).await?,
                None => rapport_services::access::Actor::system("cli"),
            };
            let r = cases::classifier_report(store, &actor).await?;
            emit(json, &json!(r), || r.to_markdown())
        }
        CaseCommand::Show { id, now } => {
            let clock = Clock::from_config(cfg, now.as_deref())?;
            let v = cases::view(store, &settings, &clock, id).await?;
            emit(json, &json!(v), || {
                let mut s = format!(
                    "case #{} {} {} {} — {}\nfirst response: {} (due {}, {} of {} min)\nresolution: {} (due {}, {} of {} min)",
                    v.case.id, v.case.state, v.case.severity, v.case.category, v.case.subject,
                    v.first_response.state.as_str(), v.first_response.due.format("%Y-%m-%d %H:%M"),
                    v.first_response.elapsed_minutes, v.first_response.target_minutes,
                    v.resolution.state.as_str(), v.resolution.due.format("%Y-%m-%d %H:%M"),
                    v.resolution.elapsed_minutes, v.resolution.target_minutes
                );
                for e in &v.escalations {
                    s.push_str(&format!(
                        "\nescalated {} {} to {}",
                        e.target, e.level, e.escalated_to
                    ));
                }
                for e in &v.events {
                    s.push_str(&format!(
                        "\n{} {:<10} {:<8} {} → {} {}",
                        e.at.format("%Y-%m-%d %H:%M"),
                        e.action,
                        e.actor,
                        e.from_state.as_deref().unwrap_or("-"),
                        e.to_state,
                        e.detail.as_deref().unwrap_or("")
                    ));
                }
                s
            })
        }
        CaseCommand::List { all } => {
            let rows = store.cases(!all, None, None).await?;
            emit(json, &json!({ "cases": rows }), || {
                rows.iter()
                    .map(|c| {
                        format!(
                            "#{:<6} {:<16} {:<8} {:<18} {} {}",
                            c.id,
                            c.state,
                            c.severity,
                            c.category,
                            c.opened_at.format("%Y-%m-%d %H:%M"),
                            c.subject
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        CaseCommand::Sweep { now } => {
            let clock = Clock::from_config(cfg, now.as_deref())?;
            let r = cases::sweep(store, &settings, &clock).await?;
            emit(json, &json!(r), || {
                format!(
                    "{} open cases: {} warnings and {} breaches escalated",
                    r.open_cases, r.warnings, r.breaches
                )
            })
        }
        CaseCommand::Metrics { from, to, now } => {
            let clock = Clock::from_config(cfg, now.as_deref())?;
            let from = from.as_deref().map(|s| day(s, "--from")).transpose()?;
            let to = to.as_deref().map(|s| day(s, "--to")).transpose()?;
            let m = cases::metrics(store, &settings, &clock, from, to).await?;
            emit(json, &json!(m), || {
                let f = |x: Option<f64>| x.map_or("-".into(), |v| format!("{:.1} %", 100.0 * v));
                format!(
                    "{} cases ({} complaints, {:.2} per 1,000 customers)\nfirst response: p50 {} min, p90 {} min, within SLA {}\nresolution: p50 {} min, within SLA {}; reopen rate {}",
                    m.cases, m.complaints, m.complaints_per_1000_customers,
                    m.first_response_p50_minutes.map_or("-".into(), |v| v.to_string()),
                    m.first_response_p90_minutes.map_or("-".into(), |v| v.to_string()),
                    f(m.first_response_within_sla),
                    m.resolution_p50_minutes.map_or("-".into(), |v| v.to_string()),
                    f(m.resolution_within_sla), f(m.reopen_rate)
                )
            })
        }
        CaseCommand::Improvement(c) => {
            let now = chrono::Utc::now();
            match c {
                ImprovementCommand::Add {
                    root_cause,
                    title,
                    owner,
                    note,
                } => {
                    let actor = crate::cli::acting(store, actor).await?;
                    let id = cases::add_improvement(
                        store,
                        &settings,
                        &actor,
                        "cli",
                        &root_cause,
                        &title,
                        &owner,
                        note.as_deref(),
                        now,
                    )
                    .await?;
                    let cases = store.improvement_cases(id).await?;
                    emit(json, &json!({ "id": id, "cases": cases }), || {
                        format!(
                            "improvement item #{id} for {root_cause}: {} cases",
                            cases.len()
                        )
                    })
                }
                ImprovementCommand::List => {
                    let rows = store.improvement_items().await?;
                    emit(json, &json!({ "items": rows }), || {
                        rows.iter()
                            .map(|i| {
                                format!(
                                    "#{:<4} {:<12} {:<28} {:<12} {} cases  {}",
                                    i.id, i.status, i.root_cause, i.owner, i.cases, i.title
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                }
                ImprovementCommand::Status { id, status, note } => {
                    let actor = crate::cli::acting(store, actor).await?;
                    cases::set_improvement_status(
                        store,
                        &actor,
                        "cli",
                        id,
                        &status,
                        note.as_deref(),
                        now,
                    )
                    .await?;
                    emit(json, &json!({ "id": id, "status": status }), || {
                        format!("improvement item #{id}: {status}")
                    })
                }
            }
        }
        CaseCommand::RootCauses => {
            let rows: Vec<_> = settings
                .taxonomy
                .iter()
                .map(|r| json!({ "code": r.code, "category": r.category, "en": r.label_en, "zh": r.label_zh }))
                .collect();
            emit(json, &json!({ "root_causes": rows }), || {
                settings
                    .taxonomy
                    .iter()
                    .map(|r| format!("{:<34} {} / {}", r.code, r.label_zh, r.label_en))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}
