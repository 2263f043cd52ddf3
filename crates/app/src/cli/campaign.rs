//! `rapport campaign save|list|preview|launch|dispatch|report|respond|tasks`:
//! campaigns over the store (rapport_services::campaign) and the dispatcher
//! (rapport_services::dispatch). `--now YYYY-MM-DDTHH:MM` (local time) fixes the clock.

use crate::output::emit;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use rapport_services::campaign::{self, CampaignSettings};
use rapport_services::clock::Clock;
use rapport_services::config::Config;
use rapport_services::dispatch::Dispatcher;
use rapport_services::import::open;
use rapport_store::Store;
use serde_json::json;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Save a campaign file (TOML) as a draft, or a shipped one (`--shipped national_day`).
    Save {
        file: Option<PathBuf>,
        /// national_day | holiday_follow_up
        #[arg(long)]
        shipped: Option<String>,
    },
    /// The stored campaigns.
    List,
    /// The counts a launch would queue now: eligible, control, blocked by
    /// suitability, address, consent, do-not-disturb, quiet hours or cap.
    Preview(When),
    /// Submit a draft (or returned) campaign for a second person's approval.
    Submit {
        key: String,
        #[arg(long)]
        now: Option<String>,
    },
    /// Approve a submitted campaign (not its maker; a head-office manager).
    Approve {
        key: String,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        now: Option<String>,
    },
    /// Return a submitted campaign to its maker with a reason.
    Return {
        key: String,
        #[arg(long)]
        note: String,
        #[arg(long)]
        now: Option<String>,
    },
    /// Launch an approved campaign: write members, messages, survey links and decisions.
    Launch {
        #[command(flatten)]
        when: When,
    },
    /// Send what is due from the outbox (all rounds until nothing is due).
    Dispatch {
        #[arg(long)]
        now: Option<String>,
        /// One round only.
        #[arg(long)]
        once: bool,
    },
    /// Members, message statuses, responses and the uplift over the control group.
    Report { key: String },
    /// Record a customer's response to a message (by idempotency key).
    Respond {
        #[arg(long)]
        message: String,
        /// accepted | declined | replied | unsubscribed
        #[arg(long)]
        response: String,
        #[arg(long)]
        now: Option<String>,
    },
    /// Open call and meeting tasks (of one assignee, or all).
    Tasks {
        #[arg(long)]
        assignee: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct When {
    /// The campaign's key.
    pub key: String,
    /// Local time to plan at, YYYY-MM-DDTHH:MM (default now).
    #[arg(long)]
    pub now: Option<String>,
}

pub async fn run(
    cfg: &Config,
    json: bool,
    actor: Option<&str>,
    cmd: CampaignCommand,
) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let result = dispatch_cmd(&store, cfg, json, actor, cmd).await;
    store.close().await;
    result
}

/// The text of the preview's counts.
pub fn counts_text(c: &rapport_engage::campaign::PlanCounts) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "audience            {:>8}", c.audience);
    let _ = writeln!(s, "eligible            {:>8}", c.eligible);
    let _ = writeln!(
        s,
        "  to send           {:>8}  (deferred past quiet hours {})",
        c.to_send, c.deferred
    );
    let _ = writeln!(s, "  control group     {:>8}", c.control);
    let _ = writeln!(s, "blocked: suitability {:>7}", c.blocked_suitability);
    let _ = writeln!(s, "blocked: no address {:>8}", c.blocked_no_address);
    let _ = writeln!(s, "blocked: consent    {:>8}", c.blocked_consent);
    let _ = writeln!(s, "blocked: do-not-disturb {:>4}", c.blocked_do_not_disturb);
    let _ = writeln!(s, "blocked: quiet hours {:>7}", c.blocked_quiet_hours);
    let _ = writeln!(s, "blocked: cap        {:>8}", c.blocked_cap);
    let by: Vec<String> = c
        .by_channel
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = write!(s, "by channel: {}", by.join(", "));
    s
}

async fn dispatch_cmd(
    store: &Store,
    cfg: &Config,
    json: bool,
    actor: Option<&str>,
    cmd: CampaignCommand,
) -> Result<()> {
    match cmd {
        CampaignCommand::Save { file, shipped } => {
            let actor = crate::cli::acting(store, actor).await?;
            let text = match (file, shipped) {
                (Some(f), None) => std::fs::read_to_string(&f)
                    .with_context(|| format!("reading {}", f.display()))?,
                (None, Some(name)) => rapport_engage::campaign::shipped()
                    .into_iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, t)| t.to_string())
                    .with_context(|| {
                        format!("--shipped {name:?}: national_day or holiday_follow_up")
                    })?,
                _ => bail!("give a campaign file or --shipped NAME (not both)"),
            };
            let clock = Clock::from_config(cfg, None)?;
            let c = campaign::save_as(store, &actor, "cli", &text, &clock).await?;
            emit(
                json,
                &json!({ "campaign": c.key, "id": c.id, "status": c.status }),
                || format!("campaign {} saved ({})", c.key, c.status),
            )
        }
        CampaignCommand::List => {
            let rows = store.campaigns().await?;
            let list: Vec<_> = rows
                .iter()
                .map(|c| {
                    json!({ "key": c.key, "name_en": c.name_en, "name_zh": c.name_zh,
                    "purpose": c.purpose, "product": c.product_code, "status": c.status,
                    "launched_at": c.launched_at })
                })
                .collect();
            emit(json, &json!({ "campaigns": list }), || {
                rows.iter()
                    .map(|c| {
                        format!(
                            "{:<28} {:<9} {:<9} {}",
                            c.key, c.purpose, c.status, c.name_zh
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        CampaignCommand::Preview(w) => {
            let clock = Clock::from_config(cfg, w.now.as_deref())?;
            let settings = CampaignSettings::from_config(cfg)?;
            let planned = campaign::plan_by_key(store, &settings, &w.key, &clock).await?;
            let p = planned.preview();
            emit(json, &json!(p), || {
                format!(
                    "campaign {} ({}) at {}: {} — {}\n{}",
                    p.campaign,
                    p.status,
                    p.at.format("%Y-%m-%d %H:%M"),
                    p.audience,
                    p.audience_source,
                    counts_text(&p.counts)
                )
            })
        }
        CampaignCommand::Submit { key, now } => {
            let actor = crate::cli::acting(store, actor).await?;
            let clock = Clock::from_config(cfg, now.as_deref())?;
            let r = campaign::submit_as(store, &actor, "cli", &key, &clock).await?;
            emit(
                json,
                &json!({ "campaign": key, "approval": r.state, "submitted_by": r.submitted_by }),
                || {
                    format!(
                        "campaign {key} submitted for approval by {}",
                        r.submitted_by
                    )
                },
            )
        }
        CampaignCommand::Approve { key, note, now } => {
            let actor = crate::cli::acting(store, actor).await?;
            let clock = Clock::from_config(cfg, now.as_deref())?;
            let r = campaign::decide_as(store, &actor, "cli", &key, true, note.as_deref(), &clock)
                .await?;
            emit(
                json,
                &json!({ "campaign": key, "approval": r.state, "decided_by": r.decided_by }),
                || format!("campaign {key}: {}", r.state),
            )
        }
        CampaignCommand::Return { key, note, now } => {
            let actor = crate::cli::acting(store, actor).await?;
            let clock = Clock::from_config(cfg, now.as_deref())?;
            let r =
                campaign::decide_as(store, &actor, "cli", &key, false, Some(&note), &clock).await?;
            emit(
                json,
                &json!({ "campaign": key, "approval": r.state, "decided_by": r.decided_by }),
                || format!("campaign {key}: {}", r.state),
            )
        }
        CampaignCommand::Launch { when } => {
            let actor = crate::cli::acting(store, actor).await?;
            let clock = Clock::from_config(cfg, when.now.as_deref())?;
            let settings = CampaignSettings::from_config(cfg)?;
            let planned = campaign::plan_by_key(store, &settings, &when.key, &clock).await?;
            let r = campaign::launch_as(store, &settings, &actor, "cli", &planned, &clock).await?;
            emit(json, &json!(r), || {
                format!(
                    "campaign {} launched at {}: {} messages queued, {} decisions logged, {} survey links\n{}",
                    r.campaign,
                    r.at.format("%Y-%m-%d %H:%M"),
                    r.queued,
                    r.decisions_logged,
                    r.survey_links,
                    counts_text(&r.counts)
                )
            })
        }
        CampaignCommand::Dispatch { now, once } => {
            let clock = Clock::from_config(cfg, now.as_deref())?;
            let d = Dispatcher::from_config(store.clone(), cfg)?;
            let r = if once {
                d.run_once(&clock).await?
            } else {
                d.drain(&clock).await?
            };
            emit(json, &json!(r), || {
                format!(
                    "claimed {}: sent {} (delivered {}, tasks {}), retry later {}, deferred {}, cancelled {}, failed {}",
                    r.claimed, r.sent, r.delivered, r.tasks, r.retried, r.deferred, r.cancelled, r.failed
                )
            })
        }
        CampaignCommand::Report { key } => {
            let r = campaign::report(store, &key).await?;
            emit(json, &json!(r), || {
                let st: Vec<String> = r
                    .figures
                    .by_status
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect();
                let up = match &r.uplift {
                    Some(u) => format!(
                        "accepted: treated {}/{} ({:.2} %), control {}/{} ({:.2} %); uplift {:+.2} pp (95 % CI {:+.2} to {:+.2})",
                        u.treated_converted, u.treated, 100.0 * u.treated_rate,
                        u.control_converted, u.control, 100.0 * u.control_rate,
                        u.uplift_pp, u.ci95_low_pp, u.ci95_high_pp
                    ),
                    None => "uplift: no control group or no treated customers".into(),
                };
                format!(
                    "campaign {} ({}): treatment {}, control {}, blocked {}\nmessages: {}\nresponded {} ({})\n{up}",
                    r.campaign, r.status, r.figures.treatment, r.figures.control, r.figures.blocked,
                    st.join(", "), r.figures.responded,
                    r.response_rate.map_or("-".into(), |x| format!("{:.1} %", 100.0 * x))
                )
            })
        }
        CampaignCommand::Respond {
            message,
            response,
            now,
        } => {
            let actor = crate::cli::acting(store, actor).await?;
            let clock = Clock::from_config(cfg, now.as_deref())?;
            campaign::record_response(store, &actor, "cli", &message, &response, &clock).await?;
            emit(
                json,
                &json!({ "message": message, "response": response }),
                || format!("{message}: responded {response}"),
            )
        }
        CampaignCommand::Tasks { assignee } => {
            let rows = store.contact_tasks(assignee.as_deref(), true).await?;
            emit(json, &json!({ "tasks": rows }), || {
                rows.iter()
                    .map(|t| {
                        format!(
                            "#{} {} {} due {} customer #{} {}",
                            t.id,
                            t.kind,
                            t.assignee,
                            t.due_at.format("%Y-%m-%d %H:%M"),
                            t.customer_id,
                            t.video_link.as_deref().unwrap_or("")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}
