//! `rapport analytics rebuild|check|spark-sql|spark-job`: the columnar
//! analytical copy of the transactions (ADR 0004) and the transaction
//! aggregates on Spark (docs/SCALE.md). The use cases are
//! `rapport_services::analytics_copy`'s.

use crate::output::emit;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use rapport_services::analytics_copy;
use rapport_services::config::Config;
use rapport_services::import::open;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum AnalyticsCommand {
    /// Writes the whole copy from the store (aside, then swapped in); needs --actor with the right to administer.
    Rebuild {
        /// The copy's directory (default: RAPPORT_ANALYTICS_DIR, else `analytics` next to the SQLite file).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Compares rows and checksums per month of the store and of the copy; exit 1 when they disagree.
    Check {
        /// The copy's directory (default as for rebuild).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Prints the Spark SQL computing every customer's transaction aggregates (and each account's latest balances) as of D.
    SparkSql {
        /// The as-of date D (YYYY-MM-DD): windows are [D - W, D).
        #[arg(long)]
        as_of: String,
    },
    /// Writes the PySpark job computing the transaction aggregates as of D, for `rapport score --features`.
    SparkJob {
        /// The as-of date D (YYYY-MM-DD).
        #[arg(long)]
        as_of: String,
        /// The job's file (Python).
        #[arg(long)]
        out: PathBuf,
        /// The bank's own tables and column names (TOML, docs/SCALE.md); default: the columnar copy.
        #[arg(long)]
        mapping: Option<PathBuf>,
    },
}

fn date(s: &str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("--as-of {s:?}: expected a date as YYYY-MM-DD"))
}

fn resolve(cfg: &Config, dir: Option<PathBuf>) -> Result<PathBuf> {
    match dir.or_else(|| analytics_copy::default_dir(&cfg.database.url)) {
        Some(d) => Ok(d),
        None => bail!(
            "no directory for the columnar copy: give --dir or set {}",
            analytics_copy::DIR_ENV
        ),
    }
}

pub async fn run(
    cfg: &Config,
    json: bool,
    actor: Option<&str>,
    cmd: AnalyticsCommand,
) -> Result<()> {
    match cmd {
        AnalyticsCommand::SparkSql { as_of } => {
            let sql = analytics_copy::spark_sql(date(&as_of)?)?;
            return emit(
                json,
                &serde_json::json!({ "as_of": as_of, "sql": sql }),
                || sql.trim_end().to_string(),
            );
        }
        AnalyticsCommand::SparkJob {
            as_of,
            out,
            mapping,
        } => {
            let job = analytics_copy::spark_job(date(&as_of)?, mapping.as_deref())?;
            std::fs::write(&out, job).with_context(|| format!("writing {}", out.display()))?;
            let run = match mapping {
                Some(_) => format!("spark-submit {} --out OUT", out.display()),
                None => format!("spark-submit {} --copy DIR --out OUT", out.display()),
            };
            let o =
                serde_json::json!({ "as_of": as_of, "job": out.display().to_string(), "run": run });
            return emit(json, &o, || {
                format!(
                    "wrote the Spark job for {as_of} to {}\nrun it with: {run}\nthen: rapport score --features OUT",
                    out.display()
                )
            });
        }
        _ => {}
    }
    let store = open(&cfg.database.url).await?;
    let result = match cmd {
        AnalyticsCommand::Rebuild { dir } => rebuild(cfg, json, actor, &store, dir).await,
        AnalyticsCommand::Check { dir } => check(cfg, json, &store, dir).await,
        AnalyticsCommand::SparkSql { .. } | AnalyticsCommand::SparkJob { .. } => Ok(()),
    };
    store.close().await;
    result
}

async fn rebuild(
    cfg: &Config,
    json: bool,
    actor: Option<&str>,
    store: &rapport_store::Store,
    dir: Option<PathBuf>,
) -> Result<()> {
    let dir = resolve(cfg, dir)?;
    let actor = crate::cli::acting(store, actor).await?;
    let w = analytics_copy::rebuild(store, &actor, &dir).await?;
    emit(json, &w, || {
        format!(
            "rebuilt the columnar copy in {}: {} transactions of {} customers in {} month files, {:.1}s",
            w.dir, w.rows, w.customers, w.parts, w.seconds
        )
    })
}

async fn check(
    cfg: &Config,
    json: bool,
    store: &rapport_store::Store,
    dir: Option<PathBuf>,
) -> Result<()> {
    let dir = resolve(cfg, dir)?;
    let c = analytics_copy::check(store, &dir).await?;
    emit(json, &c, || {
        if !c.exists {
            return format!("no columnar copy in {} (rapport analytics rebuild)", c.dir);
        }
        let mut s = format!(
            "{:<8} {:>10} {:>10} {:>17} {:>17}  agree\n",
            "month", "store", "copy", "store checksum", "copy checksum"
        );
        for m in &c.months {
            let note = match (m.agrees, m.manifest_agrees) {
                (true, _) => "yes",
                (false, true) => "NO",
                (false, false) => "NO (manifest differs from the files)",
            };
            s.push_str(&format!(
                "{:<8} {:>10} {:>10} {:>17} {:>17}  {note}\n",
                m.month, m.store_rows, m.copy_rows, m.store_checksum, m.copy_checksum
            ));
        }
        s.push_str(if c.agrees {
            "the copy agrees with the store"
        } else {
            "the copy does NOT agree with the store: rapport analytics rebuild"
        });
        s
    })?;
    if !c.agrees {
        bail!(
            "the columnar copy in {} does not agree with the store",
            c.dir
        );
    }
    Ok(())
}
