//! Behaviour of each subcommand: open the store, call the library, print.

use crate::cli::{
    Cli, Command, DemoArgs, ExportCommand, GenArgs, ImportArgs, ImportCommand, ReportCommand,
};
use crate::output::{emit, progress};
use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use rapport_ingest::synth::{generate, GenConfig};
use rapport_ingest::{ImportOptions, ImportReport};
use rapport_services::config::{redact_url, Config};
use rapport_services::import::{load_generated, open};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub async fn run(cli: Cli) -> Result<()> {
    let mut cfg = Config::load(cli.config.as_deref(), std::env::vars())?;
    if let Some(url) = &cli.db {
        cfg.database.url = url.clone();
        cfg.validate()?;
    }
    let actor = cli.actor.clone();
    // The command's family and verb, e.g. `alert ack` (never its values).
    let command = format!("{:?}", cli.command)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(2)
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ");
    let result = dispatch(cli, &cfg).await;
    if let Err(e) = &result {
        audit_refusal(&cfg, actor.as_deref(), &command, e).await;
    }
    result
}

/// A command refused for who acts (no actor, an unknown or disabled one,
/// a role without the right) leaves an audit row, like a refused request.
async fn audit_refusal(cfg: &Config, actor: Option<&str>, command: &str, e: &anyhow::Error) {
    use rapport_services::error::ServiceError;
    let refused = e.chain().find_map(|c| c.downcast_ref::<ServiceError>());
    let Some(ServiceError::Access(a)) = refused else {
        return;
    };
    if matches!(a, rapport_services::access::AccessError::Store(_)) {
        return;
    }
    let Ok(store) = open(&cfg.database.url).await else {
        return;
    };
    if let Err(err) =
        rapport_services::audit::record_cli_refusal(&store, actor, command, &a.to_string()).await
    {
        tracing::error!(error = %err, "auditing a refused command failed");
    }
    store.close().await;
}

async fn dispatch(cli: Cli, cfg: &Config) -> Result<()> {
    let cfg = cfg.clone();
    let json = cli.json;
    match cli.command {
        Command::Init => {
            let store = open(&cfg.database.url).await?;
            let counts = store.counts().await?;
            store.close().await;
            let url = redact_url(&cfg.database.url);
            emit(
                json,
                &json!({ "database": url, "backend": format!("{:?}", store.backend()).to_lowercase(), "customers": counts.customers }),
                || format!("store ready at {url} ({} customers)", counts.customers),
            )
        }
        Command::Import(cmd) => import(&cfg, json, cmd).await,
        Command::Gen(args) => gen(&cfg, json, args).await,
        Command::Export(cmd) => export(&cfg, json, cmd).await,
        Command::Report(cmd) => report(&cfg, json, cmd).await,
        Command::Demo(args) => demo(&cfg, json, args).await,
        Command::Serve(args) => crate::cli::web::serve(&cfg, args).await,
        Command::User(cmd) => crate::cli::web::user(&cfg, json, cli.actor.as_deref(), cmd).await,
        Command::Token(cmd) => crate::cli::web::token(&cfg, json, cli.actor.as_deref(), cmd).await,
        Command::Worker => crate::cli::ops::worker(&cfg).await,
        Command::Jobs(cmd) => crate::cli::ops::jobs(&cfg, json, cmd).await,
        Command::Backup { file } => crate::cli::ops::backup(&cfg, json, &file).await,
        Command::Restore { file, force } => {
            crate::cli::ops::restore(&cfg, json, &file, force).await
        }
        Command::Bench(crate::cli::BenchCommand::Import(args)) => {
            crate::bench::bench_import(&cfg, json, args).await
        }
        Command::Bench(crate::cli::BenchCommand::Api(args)) => {
            crate::bench::api::bench_api(&cfg, json, args).await
        }
        Command::Bench(crate::cli::BenchCommand::Stream(args)) => {
            crate::bench::stream::bench_stream(&cfg, json, args).await
        }
        Command::Bench(crate::cli::BenchCommand::Score(args)) => {
            crate::bench::bench_score(&cfg, json, args).await
        }
        Command::Score(args) => crate::cli::score::score(&cfg, json, args).await,
        Command::Alert(cmd) => crate::cli::alert::run(&cfg, json, cli.actor.as_deref(), cmd).await,
        Command::Stream(args) => {
            crate::cli::stream::run(&cfg, json, cli.actor.as_deref(), args).await
        }
        Command::Validate(crate::cli::ValidateCommand::Taiwan) => {
            crate::cli::validation::taiwan(&cfg, json).await
        }
        Command::Validate(crate::cli::ValidateCommand::Berka) => {
            crate::cli::validation::berka(&cfg, json).await
        }
        Command::Validate(crate::cli::ValidateCommand::Synthetic(args)) => {
            crate::cli::validation::synthetic(&cfg, json, &args).await
        }
        Command::Model(cmd) => crate::cli::model::run(&cfg, json, cli.actor.as_deref(), cmd).await,
        Command::Analytics(cmd) => {
            crate::cli::analytics::run(&cfg, json, cli.actor.as_deref(), cmd).await
        }
        Command::Recommend(args) => {
            crate::cli::recommend::run(&cfg, json, cli.actor.as_deref(), args).await
        }
        Command::Contact(cmd) => {
            crate::cli::contact::run(&cfg, json, cli.actor.as_deref(), cmd).await
        }
        Command::Campaign(cmd) => {
            crate::cli::campaign::run(&cfg, json, cli.actor.as_deref(), cmd).await
        }
        Command::Case(cmd) => crate::cli::case::run(&cfg, json, cli.actor.as_deref(), cmd).await,
        Command::Rm(cmd) => crate::cli::rm::run(&cfg, json, cli.actor.as_deref(), cmd).await,
        Command::Kpi(a) => crate::cli::kpi::run(&cfg, json, a).await,
        Command::Survey(cmd) => {
            crate::cli::survey::run(&cfg, json, cli.actor.as_deref(), cmd).await
        }
        Command::Risk(cmd) => crate::cli::risk::run(&cfg, json, cli.actor.as_deref(), cmd).await,
    }
}

fn import_options(
    cfg: &Config,
    json: bool,
    args: &ImportArgs,
    what: &str,
) -> (ImportOptions, indicatif::ProgressBar) {
    let pb = progress(json, None, what);
    let pb2 = pb.clone();
    let opts = ImportOptions {
        default_country: args
            .default_country
            .clone()
            .unwrap_or_else(|| cfg.import.default_country.clone()),
        batch_size: args.batch_size.unwrap_or(cfg.import.batch_size),
        progress: Some(Arc::new(move |n| pb2.set_position(n))),
    };
    (opts, pb)
}

async fn import(cfg: &Config, json: bool, cmd: ImportCommand) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let report = match cmd {
        ImportCommand::Csv {
            kind,
            file,
            source,
            opts,
        } => {
            let kind: rapport_ingest::CsvKind =
                kind.parse().map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
            let (o, pb) = import_options(cfg, json, &opts, "importing");
            let r = rapport_ingest::import_csv(&store, kind, &file, &source, &o).await;
            pb.finish_and_clear();
            r?
        }
        ImportCommand::Dir { dir, source, opts } => {
            let (o, pb) = import_options(cfg, json, &opts, "importing");
            let r = rapport_ingest::import_dir(&store, &dir, &source, &o).await;
            pb.finish_and_clear();
            r?
        }
        ImportCommand::Berka { dir, opts } => {
            let (o, pb) = import_options(cfg, json, &opts, "berka");
            let r = rapport_ingest::import_berka(&store, &dir, &o).await;
            pb.finish_and_clear();
            r?
        }
        ImportCommand::CardStatements { file, opts } => {
            let (o, pb) = import_options(cfg, json, &opts, "statements");
            let r = rapport_ingest::import_card_statements(&store, &file, &o).await;
            pb.finish_and_clear();
            r?
        }
    };
    rapport_services::import::append_to_copy(
        &store,
        rapport_services::analytics_copy::default_dir(&cfg.database.url).as_deref(),
    )
    .await
    .context("appending the import to the columnar copy")?;
    store.close().await;
    emit(json, &report, || render_import(&report))
}

fn render_import(r: &ImportReport) -> String {
    let mut s = format!(
        "{:<40} {:<18} {:>10} {:>10} {:>10} {:>10}\n",
        "file", "kind", "read", "loaded", "merged", "rejected"
    );
    for f in &r.files {
        let note = if f.already_imported {
            "  (already imported: nothing changed)"
        } else {
            ""
        };
        s.push_str(&format!(
            "{:<40} {:<18} {:>10} {:>10} {:>10} {:>10}{note}\n",
            short(&f.file, 40),
            f.kind,
            f.read,
            f.loaded,
            f.merged,
            f.rejected
        ));
    }
    s.push_str(&format!(
        "{:<40} {:<18} {:>10} {:>10} {:>10} {:>10}",
        "total", "", r.read, r.loaded, r.merged, r.rejected
    ));
    if r.rejected > 0 {
        s.push_str("\nrejected rows are kept with their reasons: rapport report quarantine");
    }
    s
}

fn short(s: &str, n: usize) -> String {
    let count = s.chars().count();
    if count <= n {
        s.to_string()
    } else {
        format!("…{}", s.chars().skip(count - n + 1).collect::<String>())
    }
}

fn gen_config(args: &GenArgs) -> Result<GenConfig> {
    let mut g = GenConfig {
        customers: args.customers,
        seed: args.seed,
        ..GenConfig::default()
    };
    if let Some(s) = &args.start {
        g.start = NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .with_context(|| format!("--start {s:?}: expected YYYY-MM-DD"))?;
    }
    if let Some(s) = &args.end {
        g.end = NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .with_context(|| format!("--end {s:?}: expected YYYY-MM-DD"))?;
    }
    if g.end <= g.start {
        bail!("--end {} must be after --start {}", g.end, g.start);
    }
    if g.customers == 0 {
        bail!("--customers must be at least 1");
    }
    Ok(g)
}

/// Generates into `dir` with a progress bar.
fn generate_into(
    g: &GenConfig,
    dir: &Path,
    json: bool,
) -> Result<rapport_ingest::synth::GenSummary> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let pb = progress(json, Some(g.customers), "generating");
    let pb2 = pb.clone();
    let summary = generate(g, dir, &move |n| pb2.set_position(n))
        .with_context(|| format!("generating into {}", dir.display()))?;
    pb.finish_and_clear();
    Ok(summary)
}

async fn gen(cfg: &Config, json: bool, args: GenArgs) -> Result<()> {
    let g = gen_config(&args)?;
    match &args.out {
        Some(dir) => {
            let summary = generate_into(&g, dir, json)?;
            emit(json, &summary, || {
                format!(
                    "generated {} customers, {} transactions ({} in distress, {} leaving) into {} in {:.1}s",
                    summary.customers,
                    summary.transactions,
                    summary.distressed,
                    summary.churned,
                    dir.display(),
                    summary.elapsed_secs
                )
            })
        }
        None => {
            let tmp = tempfile::Builder::new()
                .prefix("rapport-gen-")
                .tempdir()
                .context("creating a temporary directory")?;
            let summary = generate_into(&g, tmp.path(), json)?;
            let store = open(&cfg.database.url).await?;
            let (o, pb) = import_options(
                cfg,
                json,
                &ImportArgs {
                    default_country: None,
                    batch_size: None,
                },
                "loading",
            );
            let report = load_generated(&store, tmp.path(), &g.source, &o).await;
            pb.finish_and_clear();
            let report = report?;
            store.close().await;
            let out = json!({ "generated": summary, "import": report });
            emit(json, &out, || {
                format!(
                    "generated {} customers and loaded them:\n{}",
                    summary.customers,
                    render_import(&report)
                )
            })
        }
    }
}

async fn export(cfg: &Config, json: bool, cmd: ExportCommand) -> Result<()> {
    let (table, out) = match cmd {
        ExportCommand::Table { table, out } => (table, out),
        ExportCommand::Features { as_of, out } => {
            return crate::cli::score::export_features(cfg, json, as_of, out).await
        }
        ExportCommand::Scores { as_of, out } => {
            return crate::cli::score::export_scores(cfg, json, as_of, out).await
        }
    };
    let store = open(&cfg.database.url).await?;
    let rows = match &out {
        Some(path) => {
            // Mode 0600: an export holds customer data.
            let f = rapport_store::create_private_file(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut w = std::io::BufWriter::new(f);
            let n = store
                .export_table_csv(&table, &mut w)
                .await
                .with_context(|| format!("exporting {table}"))?;
            std::io::Write::flush(&mut w).with_context(|| format!("writing {}", path.display()))?;
            n
        }
        None if json => bail!("with --json, give --out FILE (stdout carries the JSON summary)"),
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout());
            let n = store
                .export_table_csv(&table, &mut w)
                .await
                .with_context(|| format!("exporting {table}"))?;
            std::io::Write::flush(&mut w)?;
            store.close().await;
            eprintln!("exported {n} rows of {table}");
            return Ok(());
        }
    };
    store.close().await;
    let path = out.map(|p| p.display().to_string()).unwrap_or_default();
    emit(
        json,
        &json!({ "table": table, "rows": rows, "file": path }),
        || format!("exported {rows} rows of {table} to {path}"),
    )
}

async fn report(cfg: &Config, json: bool, cmd: ReportCommand) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let result = match cmd {
        ReportCommand::Counts => {
            let c = store.counts().await?;
            emit(json, &c, || {
                let v = serde_json::to_value(&c).unwrap_or_default();
                let mut s = String::new();
                if let Some(m) = v.as_object() {
                    for (k, n) in m {
                        s.push_str(&format!("{k:<22} {n:>12}\n"));
                    }
                }
                s.trim_end().to_string()
            })
        }
        ReportCommand::Quality => {
            // Information accuracy is a KPI: the services add it (one definition).
            let services = rapport_services::Services::build(store.clone(), cfg.clone())?;
            let q = rapport_services::kpi::data_quality(
                &services,
                &rapport_services::access::Actor::system("cli"),
            )
            .await?;
            emit(json, &q, || q.render_text())
        }
        ReportCommand::Quarantine { limit } => {
            let by_reason = store.quarantine_by_reason().await?;
            let rows = store.quarantine_rows(limit).await?;
            let total: i64 = by_reason.iter().map(|r| r.count).sum();
            emit(
                json,
                &json!({ "total": total, "by_reason": by_reason, "rows": rows }),
                || {
                    let mut s = format!("{total} rows in quarantine\n");
                    for r in &by_reason {
                        s.push_str(&format!(
                            "  {:<22} {:<22} {:>8}\n",
                            r.kind, r.reason, r.count
                        ));
                    }
                    for r in &rows {
                        s.push_str(&format!(
                            "{}:{} [{}] {}{}\n",
                            r.file,
                            r.line,
                            r.reason,
                            r.field
                                .as_deref()
                                .map(|f| format!("{f}: "))
                                .unwrap_or_default(),
                            r.detail
                        ));
                    }
                    s.trim_end().to_string()
                },
            )
        }
        ReportCommand::Merges => {
            let merges = store.merges().await?;
            emit(json, &json!({ "merges": merges }), || {
                let mut s = format!("{} identity merges\n", merges.len());
                for m in &merges {
                    s.push_str(&format!(
                        "customer {} ← {}:{} [{}] {}\n",
                        m.customer_id, m.source, m.source_key, m.rule, m.explanation
                    ));
                }
                s.trim_end().to_string()
            })
        }
        ReportCommand::Holiday(args) => {
            crate::cli::holiday::report_holiday(&store, json, args).await
        }
        ReportCommand::Imports => {
            let imports = store.imports().await?;
            emit(json, &json!({ "imports": imports }), || {
                let mut s = String::new();
                for i in &imports {
                    s.push_str(&format!(
                        "#{:<4} {:<9} {:<18} read {:>9} loaded {:>9} merged {:>9} rejected {:>7}  {}\n",
                        i.id,
                        i.status,
                        i.kind,
                        i.read,
                        i.loaded,
                        i.merged,
                        i.rejected,
                        i.file
                    ));
                }
                s.trim_end().to_string()
            })
        }
    };
    store.close().await;
    result
}

/// The demo store lives beside the default one, so a demo never touches real data.
const DEMO_DB: &str = "./rapport-data/demo.db";

/// The demo's models and actions: a churn model trained on the store's own
/// history (kept and activated when there are enough events), every active
/// model scored, every customer's next best actions stored.
async fn demo_matching(
    store: &rapport_store::Store,
    settings: &rapport_services::recommendations::Settings,
    as_of: chrono::NaiveDate,
) -> Result<serde_json::Value> {
    let trained = rapport_services::model_registry::train(
        store,
        &rapport_services::model_registry::StoreKind::Churn,
        as_of,
        90,
        &rapport_models::TrainConfig::default(),
        "demo",
        true,
    )
    .await;
    let trained = match trained {
        Ok(t) => serde_json::to_value(&t)?,
        Err(e) => json!({ "skipped": e.to_string() }),
    };
    let refresh =
        rapport_services::recommendations::refresh(store, settings, as_of, "demo").await?;
    Ok(json!({ "churn_model": trained, "refresh": refresh }))
}

fn render_matching(m: &serde_json::Value) -> String {
    let mut s = String::new();
    let c = &m["churn_model"];
    if let Some(auc) = c["auc"].as_f64() {
        s.push_str(&format!(
            "churn model (store history, {} customers, {} events): {} AUC {auc:.3} over {} folds, active\n",
            c["population"], c["events"], c["best"].as_str().unwrap_or_default(), c["folds"]
        ));
    } else if let Some(why) = c["skipped"].as_str() {
        s.push_str(&format!("churn model not trained: {why}\n"));
    }
    let r = &m["refresh"]["recommendations"];
    if r.is_object() {
        s.push_str(&format!(
            "next best actions: {} for {} customers ({} retention, {} reassessment, {} sales); {} suitability decisions logged, {} blocked",
            r["actions"], r["customers"], r["retention"], r["reassessment"], r["sales"],
            r["decisions_logged"], r["blocked_by_suitability"]
        ));
    }
    s
}

fn render_engagement(e: &serde_json::Value) -> String {
    let Some(p) = e.get("preview") else {
        return match e.get("error").and_then(|v| v.as_str()) {
            Some(err) => format!("engagement step skipped: {err}"),
            None => String::new(),
        };
    };
    let c = &p["counts"];
    format!(
        "campaigns saved as drafts: {}\nNational Day 2026 campaign previewed at {}: audience {} ({}), eligible {}, to send {}, control {}, blocked by consent {}, cap {}, suitability {}, do-not-disturb {}, quiet hours {}, no address {}\n\
         it awaits approval: a second head-office manager approves it on /campaigns/national_day_2026 (or `rapport --actor <name> campaign approve national_day_2026`), then it launches",
        e["campaigns"].as_array().map(|a| a.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default(),
        p["at"].as_str().unwrap_or(""),
        c["audience"], p["audience_source"].as_str().unwrap_or(""), c["eligible"], c["to_send"], c["control"],
        c["blocked_consent"], c["blocked_cap"], c["blocked_suitability"], c["blocked_do_not_disturb"],
        c["blocked_quiet_hours"], c["blocked_no_address"]
    )
}

async fn demo(cfg: &Config, json: bool, args: DemoArgs) -> Result<()> {
    let started = std::time::Instant::now();
    // Only the demo's own file is ever deleted; a store named with --db is loaded as it is.
    let own_store = cfg.database.url == rapport_services::config::DEFAULT_DB_URL;
    let url = if own_store {
        format!("sqlite://{DEMO_DB}")
    } else {
        cfg.database.url.clone()
    };
    if own_store && !args.keep {
        // Like restore: never delete the files of a store another process has open.
        if let Some(dir) = std::path::Path::new(DEMO_DB).parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the demo store's folder {}", dir.display()))?;
        }
        let _lock = crate::cli::ops::exclusive_store_lock(std::path::Path::new(DEMO_DB))?;
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{DEMO_DB}{suffix}"));
            if p.exists() {
                std::fs::remove_file(&p)
                    .with_context(|| format!("removing the old demo store {}", p.display()))?;
            }
        }
    }
    let g = GenConfig {
        customers: args.customers,
        seed: args.seed,
        ..GenConfig::default()
    };
    if !json {
        eprintln!(
            "rapport demo: generating a bank of {} customers (seed {}) …",
            g.customers, g.seed
        );
    }
    let tmp = tempfile::Builder::new()
        .prefix("rapport-demo-")
        .tempdir()
        .context("creating a temporary directory")?;
    let summary = generate_into(&g, tmp.path(), json)?;
    let store = open(&url).await?;
    if !json {
        eprintln!("loading it into {} …", redact_url(&url));
    }
    let (o, pb) = import_options(
        cfg,
        json,
        &ImportArgs {
            default_country: None,
            batch_size: None,
        },
        "loading",
    );
    let report = load_generated(&store, tmp.path(), &g.source, &o).await;
    pb.finish_and_clear();
    let report = report?;
    let quality = rapport_services::kpi::data_quality(
        &rapport_services::Services::build(store.clone(), cfg.clone())?,
        &rapport_services::access::Actor::system("demo"),
    )
    .await?;
    if !json {
        eprintln!("scoring every customer (features, health, segments, alerts) …");
    }
    let as_of = rapport_services::scoring::resolve_as_of(&store, None).await?;
    let scoring = rapport_services::scoring::run_scoring(
        &store,
        as_of,
        &rapport_services::scoring::ScoringOptions::from_config(&cfg.scoring)?,
    )
    .await;
    let matching = match &scoring {
        Ok(_) => {
            if !json {
                eprintln!("training the churn model, scoring it, ranking next best actions …");
            }
            match rapport_services::recommendations::Settings::from_config(&cfg.matching) {
                Ok(settings) => demo_matching(&store, &settings, as_of).await,
                Err(e) => Err(e),
            }
        }
        Err(_) => Ok(json!(null)),
    };
    let scoring = match (scoring, matching) {
        (Ok(s), Ok(m)) => Ok((s, m)),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let (scoring, matching) = match scoring {
        Ok((s, m)) => (Ok(s), m),
        Err(e) => (Err(e), json!(null)),
    };
    let engagement = if scoring.is_ok() {
        if !json {
            eprintln!(
                "forecasting National Day 2026 demand, saving the shipped campaigns, previewing …"
            );
        }
        match rapport_services::holiday::demo_engagement(&store, cfg).await {
            Ok(v) => v,
            Err(e) => {
                eprintln!("engagement step skipped: {e:#}");
                json!({ "error": format!("{e:#}") })
            }
        }
    } else {
        json!(null)
    };
    let journeys = if scoring.is_ok() {
        if !json {
            eprintln!("preparing the journeys (earlier scorings, campaigns, tasks, surveys, complaints) …");
        }
        let ready = !engagement.is_null() && engagement.get("error").is_none();
        rapport_services::demo::prepare_journeys(&store, cfg, as_of, ready).await
    } else {
        json!(null)
    };
    let counts = store.counts().await;
    let accounts = match (&scoring, &counts) {
        (Ok(_), Ok(_)) => rapport_services::access::demo_accounts(&store).await,
        _ => Ok(Vec::new()),
    };
    let (scoring, counts, accounts) = match (scoring, counts, accounts) {
        (Ok(s), Ok(c), Ok(a)) => (s, c, a),
        (s, c, a) => {
            store.close().await;
            s?;
            c?;
            a?;
            bail!("unreachable: one of the demo steps failed");
        }
    };
    let secs = started.elapsed().as_secs_f64();
    let listen = args
        .listen
        .clone()
        .unwrap_or_else(|| cfg.web.listen.clone());
    let users: Vec<_> = accounts
        .iter()
        .map(|(role, user, password)| json!({ "role": role, "username": user, "password": password }))
        .collect();
    let out = json!({ "database": redact_url(&url), "generated": summary, "import": report, "counts": counts, "quality": quality, "scoring": scoring, "matching": matching, "engagement": engagement, "journeys": journeys, "users": users, "url": format!("http://{listen}/"), "elapsed_secs": secs });
    let mut sign_in =
        format!("sign in at http://{listen}/ with one of these demo accounts (one per role):\n");
    for (role, user, password) in &accounts {
        sign_in.push_str(&format!("  {role:<8} {user:<16} {password}\n"));
    }
    emit(json, &out, || {
        format!(
            "{}\n\n{}\n\n{}\n{}\n{}\n\ndemo store: {} ({} customers, {} transactions, {} identity merges, {} rows in quarantine) in {:.1}s\n\
             next: rapport --db {} alert list | export scores --out scores.csv | report counts | kpi --view branch\n\n{}",
            render_import(&report),
            quality.render_text(),
            crate::cli::score::render_report(&scoring),
            render_matching(&matching),
            render_engagement(&engagement),
            redact_url(&url),
            counts.customers,
            counts.transactions,
            counts.merges,
            counts.quarantined,
            secs,
            redact_url(&url),
            sign_in.trim_end()
        )
    })?;
    if args.no_serve {
        store.close().await;
        return Ok(());
    }
    let mut cfg = cfg.clone();
    cfg.database.url = url.clone();
    let banner = format!(
        "{}\nrapport demo: serving http://{listen}/ (Ctrl-C to stop)",
        sign_in.trim_end()
    );
    crate::cli::web::run_server(&cfg, store, &listen, true, Some(banner)).await
}
