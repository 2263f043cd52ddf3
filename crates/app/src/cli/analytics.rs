//! `rapport analytics rebuild|check`: the columnar analytical copy of the
//! transactions (ADR 0004). The use cases are `rapport_services::analytics_copy`'s.

use crate::output::emit;
use anyhow::{bail, Result};
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
    let store = open(&cfg.database.url).await?;
    let result = match cmd {
        AnalyticsCommand::Rebuild { dir } => rebuild(cfg, json, actor, &store, dir).await,
        AnalyticsCommand::Check { dir } => check(cfg, json, &store, dir).await,
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
