//! `rapport survey invite|results`, and the glue between the survey rules
//! (`rapport_engage::survey`) and the stored links and answers.
//!
//! `invite` stores a one-time link to a shipped survey for one customer and
//! prints it (the token is shown once; only its SHA-256 is kept). `results`
//! reads every stored answer sheet of a survey back into answers and sums
//! them up with the rules: links sent and answered, NPS, CSAT, the Kano
//! category of each need with Berger's better/worse, the importance ×
//! urgency matrix and the themes of the free text. The web form
//! (`web::pages::survey`) uses [`shipped_survey`] and [`stored_answer`] to
//! store what a customer submits.
//!
//! Never logs personal data: a link names no one; results are counts and
//! shares, except the theme examples in `--json`, which quote comments as
//! customers wrote them.

use crate::output::emit;
use anyhow::Result;
use clap::{Args, Subcommand};
use rapport_services::config::Config;
use rapport_services::import::open;
use rapport_services::surveys::{invite, survey_results, SurveyResults};
use rapport_store::Store;
use std::fmt::Write as _;

#[derive(Debug, Subcommand)]
pub enum SurveyCommand {
    /// Store a one-time link to a survey for one customer and print it.
    Invite(InviteArgs),
    /// Links sent and answered, NPS, CSAT, Kano per need, importance ×
    /// urgency, free-text themes.
    Results {
        /// The survey's key (csat_after_case, nps_relationship, holiday_follow_up).
        #[arg(long)]
        survey: String,
    },
}

#[derive(Debug, Args)]
pub struct InviteArgs {
    /// The survey's key (csat_after_case, nps_relationship, holiday_follow_up).
    #[arg(long)]
    pub survey: String,
    /// The customer's key.
    #[arg(long)]
    pub customer: String,
    /// Days the link stays valid (default `campaigns.survey_valid_days`).
    #[arg(long)]
    pub days: Option<u32>,
}

pub async fn run(cfg: &Config, json: bool, actor: Option<&str>, cmd: SurveyCommand) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let result = dispatch(&store, cfg, json, actor, cmd).await;
    store.close().await;
    result
}

async fn dispatch(
    store: &Store,
    cfg: &Config,
    json: bool,
    actor: Option<&str>,
    cmd: SurveyCommand,
) -> Result<()> {
    match cmd {
        SurveyCommand::Invite(a) => {
            let actor = crate::cli::acting(store, actor).await?;
            let days = a.days.unwrap_or(cfg.campaigns.survey_valid_days);
            let inv = invite(
                store,
                &actor,
                "cli",
                &a.survey,
                &a.customer,
                days,
                &cfg.campaigns.public_url,
            )
            .await?;
            tracing::info!(invitation.id = inv.id, survey = %inv.survey, "survey link stored");
            let (id, link, expires_at) = (inv.id, inv.link, inv.expires_at);
            let def = inv.survey;
            emit(
                json,
                &serde_json::json!({ "invitation_id": id, "survey": def,
                                     "link": link, "expires_at": expires_at }),
                || {
                    format!(
                        "{link}\n(one-time link to {}, valid until {} UTC)",
                        def,
                        expires_at.format("%Y-%m-%d %H:%M")
                    )
                },
            )
        }
        SurveyCommand::Results { survey } => {
            let r = survey_results(store, &survey).await?;
            emit(json, &r, || human(&r))
        }
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.digits$}"))
}

fn human(r: &SurveyResults) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{} — {} / {}", r.survey, r.title_en, r.title_zh);
    let _ = writeln!(
        s,
        "links sent {}, answered {} (response rate {}%), sheets {}{}",
        r.sent,
        r.answered,
        opt(r.response_rate_percent, 1),
        r.respondents,
        if r.unreadable_answers > 0 {
            format!(", {} unreadable answers skipped", r.unreadable_answers)
        } else {
            String::new()
        }
    );
    for q in &r.nps {
        let n = &q.result;
        let _ = writeln!(
            s,
            "NPS {}: {} (n {}: {} promoters, {} passives, {} detractors)",
            q.question_id,
            opt(n.nps, 1),
            n.n,
            n.promoters,
            n.passives,
            n.detractors
        );
    }
    for q in &r.csat {
        let c = &q.result;
        let _ = writeln!(
            s,
            "CSAT {}: {}% satisfied (top two of 1–{}; {} of {})",
            q.question_id,
            opt(c.percent, 1),
            q.scale,
            c.satisfied,
            c.n
        );
    }
    if !r.kano.is_empty() {
        let _ = writeln!(s, "Kano (A O M I R Q):");
        for k in &r.kano {
            let c = &k.counts;
            let _ = writeln!(
                s,
                "  {}: {} better {} worse {} n {} [{} {} {} {} {} {}]",
                k.need,
                k.category.map_or_else(
                    || "-".to_string(),
                    |c| format!("{} ({})", c.letter(), c.label_en())
                ),
                opt(k.better, 2),
                opt(k.worse, 2),
                k.n,
                c.attractive,
                c.one_dimensional,
                c.must_be,
                c.indifferent,
                c.reverse,
                c.questionable
            );
        }
    }
    if !r.matrix.is_empty() {
        let _ = writeln!(s, "Importance × urgency:");
        for m in &r.matrix {
            let _ = writeln!(
                s,
                "  {}: importance {:.2}, urgency {:.2} — {}",
                m.need,
                m.importance,
                m.urgency,
                m.quadrant.label_en()
            );
        }
    }
    for t in &r.themes {
        let _ = writeln!(
            s,
            "Themes of {} ({} comments, {} unmatched):",
            t.question_id, t.report.n, t.report.unmatched
        );
        for th in &t.report.themes {
            let _ = writeln!(
                s,
                "  {} / {}: {} ({:.0}%)",
                th.label_en,
                th.label_zh,
                th.count,
                th.share * 100.0
            );
        }
    }
    s.trim_end().to_string()
}
