//! `rapport risk assess|history|questions`: the risk-tolerance questionnaire
//! (风险承受能力评估). `assess` scores a customer's answers to C1–C5 and
//! records them (the suitability rule reads the latest assessment);
//! `history` lists a customer's assessments; `questions` prints the
//! questionnaire. The use cases are `rapport_services::risk_profile`'s.

use crate::output::emit;
use anyhow::Result;
use clap::{Args, Subcommand};
use rapport_services::access::Actor;
use rapport_services::config::Config;
use rapport_services::import::open;
use rapport_services::risk_profile;
use rapport_services::Services;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum RiskCommand {
    /// Score the customer's answers to C1-C5 and record the assessment (dated today).
    Assess(AssessArgs),
    /// The customer's assessments, newest first; the current one is marked.
    History {
        /// The customer's key.
        #[arg(long)]
        customer: String,
    },
    /// The questionnaire: questions and options with their scores.
    Questions,
}

#[derive(Debug, Args)]
pub struct AssessArgs {
    /// The customer's key.
    #[arg(long)]
    pub customer: String,
    /// One letter per question in order (`d,c,b,c,d,c,c,c,c,c`), or
    /// `question=letter` pairs (`age=d,income=c,…`); see `rapport risk questions`.
    #[arg(long)]
    pub answers: String,
}

pub async fn run(cfg: &Config, json: bool, actor: Option<&str>, cmd: RiskCommand) -> Result<()> {
    if let RiskCommand::Questions = cmd {
        return questions(json);
    }
    let store = open(&cfg.database.url).await?;
    let result = async {
        let svc = Services::build(store.clone(), cfg.clone())?;
        match cmd {
            RiskCommand::Assess(a) => {
                let actor = crate::cli::acting(&store, actor).await?;
                let r = risk_profile::assess(&svc, &actor, "cli", &a.customer, &a.answers).await?;
                emit(json, &r, || {
                    format!(
                        "{}: {} {} / {} (score {}, assessed {}, valid until {}) — {} / {}",
                        r.customer_key,
                        r.assessment.tolerance,
                        r.assessment.tolerance_en,
                        r.assessment.tolerance_zh,
                        r.assessment.score.unwrap_or_default(),
                        r.assessment.assessed_on,
                        r.assessment
                            .expires_on
                            .pred_opt()
                            .unwrap_or(r.assessment.expires_on),
                        r.reason_en,
                        r.reason_zh
                    )
                })
            }
            RiskCommand::History { customer } => {
                let actor = match actor.map(str::trim).filter(|a| !a.is_empty()) {
                    Some(_) => crate::cli::acting(&store, actor).await?,
                    None => Actor::system("cli"),
                };
                let h = risk_profile::history(&svc, &actor, "cli", &customer).await?;
                emit(
                    json,
                    &json!({ "customer_key": customer, "assessments": h }),
                    || {
                        if h.is_empty() {
                            return format!(
                                "{customer}: no risk-tolerance assessment / 无风险承受能力评估"
                            );
                        }
                        let mut out =
                            format!("{customer}: {} assessment(s), newest first", h.len());
                        for a in &h {
                            out.push_str(&format!(
                                "\n{} {} {} / {}  {}  score {}  {}  by {}{}",
                                a.assessed_on,
                                a.tolerance,
                                a.tolerance_en,
                                a.tolerance_zh,
                                a.source,
                                a.score.map_or("-".to_string(), |s| s.to_string()),
                                if a.valid {
                                    "valid / 有效"
                                } else {
                                    "expired / 已过期"
                                },
                                a.recorded_by,
                                if a.current {
                                    "  <- current / 当前"
                                } else {
                                    ""
                                },
                            ));
                        }
                        out
                    },
                )
            }
            RiskCommand::Questions => Ok(()),
        }
    }
    .await;
    store.close().await;
    result
}

fn questions(json: bool) -> Result<()> {
    let qs = risk_profile::questions();
    emit(
        json,
        &json!({
            "version": rapport_matching::questionnaire::QUESTIONNAIRE_VERSION,
            "questions": qs,
        }),
        || {
            let mut out = String::new();
            for (i, q) in qs.iter().enumerate() {
                out.push_str(&format!("{}. [{}] {} / {}\n", i + 1, q.id, q.en, q.zh));
                for c in q.choices {
                    out.push_str(&format!(
                        "   {}) {} / {}  ({})\n",
                        c.letter, c.en, c.zh, c.score
                    ));
                }
            }
            out.push_str(
                "total 10-17 C1, 18-25 C2, 26-33 C3, 34-41 C4, 42-50 C5; loss=a caps at C1",
            );
            out
        },
    )
}
