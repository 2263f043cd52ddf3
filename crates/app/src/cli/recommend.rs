//! `rapport recommend`: next best actions for one customer or all of them,
//! the offline evaluation, and outcomes (offered / accepted / declined, with
//! the suitability rule checked again at offer and at sale).

use crate::output::emit;
use anyhow::{bail, Context, Result};
use chrono::Utc;
use clap::{Args, Subcommand};
use rapport_services::config::Config;
use rapport_services::import::open;
use rapport_services::recommendations::{
    evaluate, load_ranking_inputs, recommend_all, record_outcome_as, to_rows_with, LogDecisions,
    Settings,
};
use rapport_store::{RecommendationScope, Scope, Store};
use serde_json::json;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RecommendArgs {
    #[command(subcommand)]
    pub command: Option<RecommendCommand>,
    /// The customer's key: rank, print and store that customer's actions.
    #[arg(long, conflicts_with = "all")]
    pub customer: Option<String>,
    /// Every customer: rank and store (replaces open proposals).
    #[arg(long)]
    pub all: bool,
    /// The as-of date; default the day after the latest transaction.
    #[arg(long)]
    pub as_of: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RecommendCommand {
    /// Hold out the latest holdings by opening date and compare the engine's
    /// top k with what customers opened, against the popularity baseline.
    Evaluate {
        /// Share of dated holdings held out (the latest ones).
        #[arg(long, default_value_t = 0.2)]
        holdout: f64,
        #[arg(long, default_value_t = 3)]
        k: usize,
    },
    /// Record what became of a recommendation.
    Outcome {
        /// The recommendation's id.
        id: i64,
        /// offered, accepted or declined.
        #[arg(long)]
        outcome: String,
        #[arg(long)]
        channel: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
}

pub async fn run(cfg: &Config, json: bool, actor: Option<&str>, args: RecommendArgs) -> Result<()> {
    let settings = Settings::from_config(&cfg.matching)?;
    let store = open(&cfg.database.url).await?;
    let result = dispatch(&store, &settings, json, actor, args).await;
    store.close().await;
    result
}

async fn dispatch(
    store: &Store,
    settings: &Settings,
    json: bool,
    actor: Option<&str>,
    args: RecommendArgs,
) -> Result<()> {
    // A ranking run is the nightly job's work done by hand: it acts as the
    // named member of staff when there is one, else as the system.
    let ranked_by = match actor {
        Some(_) => crate::cli::acting(store, actor).await?.name().to_string(),
        None => "system".to_string(),
    };
    match args.command {
        Some(RecommendCommand::Evaluate { holdout, k }) => {
            let r = evaluate(store, settings, holdout, k).await?;
            emit(json, &serde_json::to_value(&r)?, || {
                let line = |name: &str, m: &rapport_matching::RankingMetrics| {
                    format!(
                        "{name:<28} precision@{k} {:.4}  recall@{k} {:.4}  MAP@{k} {:.4}  hit rate {:.4}",
                        m.precision_at_k, m.recall_at_k, m.map_at_k, m.hit_rate
                    )
                };
                format!(
                    "{} dated holdings; the latest {} (opened on or after {}) held out; {} customers scored\n{}\n{}\n{}\n{}\n{}\ncredit products proposed to {} customers at the cut date: {} past due in the 12 months before, {} 90+ days past due, {} over the debt-service limit",
                    r.holdings,
                    r.holdout,
                    r.cut_date,
                    r.engine.customers,
                    line("engine, by priority", &r.engine),
                    line("engine, by propensity", &r.engine_propensity),
                    line("popularity", &r.popularity),
                    line("popularity + suitability", &r.popularity_filtered),
                    line("recent take-up", &r.take_up),
                    r.credit_proposed,
                    r.credit_proposed_in_arrears,
                    r.credit_proposed_dpd_90,
                    r.credit_proposed_over_dsr,
                )
            })
        }
        Some(RecommendCommand::Outcome {
            id,
            outcome,
            channel,
            note,
        }) => {
            let actor = crate::cli::acting(store, actor).await?;
            outcome_cmd(store, settings, json, &actor, id, &outcome, channel, note).await
        }
        None => {
            let as_of =
                rapport_services::scoring::resolve_as_of(store, args.as_of.as_deref()).await?;
            if args.all {
                let r = recommend_all(store, settings, as_of, &ranked_by).await?;
                return emit(json, &serde_json::to_value(&r)?, || {
                    format!(
                        "{} customers as of {}: {} actions stored ({} retention, {} reassessment, {} sales); {} decisions logged, {} blocked by suitability, {} by responsible lending; credit proposed to {} customers ({} past due in 12 months, {} 90+ days past due, {} at risk); {} customers needing care without retention first; {} ms",
                        r.customers, r.as_of, r.actions, r.retention, r.reassessment, r.sales,
                        r.decisions_logged, r.blocked_by_suitability, r.blocked_by_lending,
                        r.credit_proposed, r.credit_proposed_in_arrears, r.credit_proposed_dpd_90,
                        r.credit_proposed_at_risk, r.care_not_first, r.elapsed_ms
                    )
                });
            }
            let Some(key) = args.customer else {
                bail!("give --customer KEY or --all (or a subcommand: evaluate, outcome)");
            };
            one(store, settings, json, &key, as_of, &ranked_by).await
        }
    }
}

async fn one(
    store: &Store,
    settings: &Settings,
    json: bool,
    key: &str,
    as_of: chrono::NaiveDate,
    by: &str,
) -> Result<()> {
    let id = store
        .customer_id_by_key(&Scope::All, key)
        .await
        .with_context(|| format!("no customer with key {key:?}"))?;
    let book = load_ranking_inputs(store, settings, as_of).await?;
    let view = book
        .views
        .iter()
        .find(|v| v.customer_id == id)
        .context("the customer has no feature row")?;
    let r = book.engine.recommend(view, as_of);
    let credit = rapport_matching::CreditFacts::of(&view.signals);
    let (recs, decisions) = to_rows_with(&r, &book.engine, by, LogDecisions::All, Some(&credit));
    let now = Utc::now();
    store
        .replace_recommendations(RecommendationScope::Customer(id), as_of, &recs, now)
        .await?;
    store.log_suitability(&decisions, now).await?;
    // The stored proposals of this run, in rank order (offered actions of
    // earlier runs are listed by the store too; they are not this run's).
    let mut stored: Vec<_> = store
        .customer_recommendations(id, 0)
        .await?
        .into_iter()
        .filter(|s| s.status == "proposed")
        .collect();
    stored.sort_by_key(|s| s.rank);
    let value = json!({
        "customer": key,
        "customer_id": id,
        "as_of": as_of,
        "view": view,
        "actions": r.actions.iter().zip(&stored).map(|(a, s)| json!({
            "id": s.id, "rank": s.rank, "action": a.kind, "product": a.product_code,
            "priority": a.priority, "propensity": a.propensity, "value_weight": a.value_weight,
            "context_weight": a.context_weight, "lever": a.lever, "channel": a.channel,
            "sources": a.sources, "reasons": a.reasons,
        })).collect::<Vec<_>>(),
        "excluded": r.excluded,
        "decisions": r.decisions.iter().map(|(c, d)| json!({"product": c, "decision": d})).collect::<Vec<_>>(),
    });
    emit(json, &value, || {
        let mut s = format!("next best actions for {key} as of {as_of}\n");
        for (i, a) in r.actions.iter().enumerate() {
            let name = a
                .product_code
                .as_deref()
                .and_then(|c| book.engine.catalogue.get(c))
                .map_or(String::new(), |p| {
                    format!(
                        " {} {} ({}, {})",
                        p.code,
                        p.name_en,
                        p.name_zh,
                        p.risk.label()
                    )
                });
            s.push_str(&format!(
                "{}. {}{} — priority {:.3} via {}\n",
                i + 1,
                a.kind.as_str(),
                name,
                a.priority,
                a.channel
            ));
            for x in &a.reasons {
                s.push_str(&format!("     · {} / {}\n", x.en, x.zh));
            }
        }
        let blocked = r.decisions.iter().filter(|(_, d)| !d.allowed).count();
        let lending: Vec<_> = r.lending.iter().filter(|(_, d)| !d.allowed).collect();
        s.push_str(&format!(
            "{} products excluded ({} by suitability, {} by responsible lending); {} decisions logged",
            r.excluded.len(),
            blocked,
            lending.len(),
            r.decisions.len() + r.lending.len()
        ));
        if let Some((_, d)) = lending.first() {
            s.push_str(&format!("\n  {} / {}", d.reason_en, d.reason_zh));
        }
        s
    })
}

#[allow(clippy::too_many_arguments)]
async fn outcome_cmd(
    store: &Store,
    settings: &Settings,
    json: bool,
    actor: &rapport_services::access::Actor,
    id: i64,
    outcome: &str,
    channel: Option<String>,
    note: Option<String>,
) -> Result<()> {
    let row = record_outcome_as(
        store,
        settings,
        actor,
        "cli",
        id,
        outcome,
        channel.as_deref(),
        note.as_deref(),
    )
    .await?;
    emit(json, &json!({"recommendation": row}), || {
        format!(
            "recommendation {} ({}{}) is now {}",
            row.id,
            row.action,
            row.product_code
                .as_deref()
                .map_or(String::new(), |c| format!(" {c}")),
            row.status
        )
    })
}
