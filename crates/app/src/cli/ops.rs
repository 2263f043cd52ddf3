//! Operations commands: `rapport backup FILE` and `rapport restore FILE`
//! for the SQLite store (online snapshot, verified on both sides, files
//! mode 0600; a restore refuses with exit code 5 while another process —
//! server, worker, job, import, stream — has the store open, `--force` or
//! not, since that process would keep writing to the replaced file),
//! `rapport worker` (the scheduler alone, for extra processes) and
//! `rapport jobs list|run`.

use crate::cli::JobsCommand;
use crate::output::emit;
use anyhow::{bail, Context, Result};
use chrono::Utc;
use rapport_services::config::Config;
use rapport_services::error::ServiceError;
use rapport_services::import::open;
use rapport_store::{check_sqlite_file, Store, StoreError};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

fn sqlite_path(url: &str) -> Result<PathBuf> {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        bail!("backup and restore work on a SQLite store; for PostgreSQL use pg_dump / pg_restore (docs/OPERATIONS.md)");
    };
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path == ":memory:" {
        bail!("the store {url} is not a file");
    }
    Ok(PathBuf::from(path))
}

/// The store lock of the SQLite file `db` taken exclusively, or the refusal
/// as a conflict (exit code 5) naming who holds it: before anything replaces
/// or deletes a store's files.
pub(crate) fn exclusive_store_lock(db: &Path) -> Result<rapport_store::ExclusiveStoreLock> {
    rapport_store::lock_exclusive(db).map_err(|e| match e {
        StoreError::Conflict(m) => anyhow::Error::from(ServiceError::Conflict(m)),
        other => anyhow::Error::from(other),
    })
}

fn sha256_of(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// `rapport backup FILE`.
pub async fn backup(cfg: &Config, json: bool, file: &Path) -> Result<()> {
    sqlite_path(&cfg.database.url)?;
    if file.exists() {
        bail!(
            "{} exists: a backup never overwrites a file",
            file.display()
        );
    }
    let started = std::time::Instant::now();
    let store = open(&cfg.database.url).await?;
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.partial",
        file.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("backup")
    ));
    let _ = std::fs::remove_file(&tmp);
    let snap = store.backup_sqlite_into(&tmp).await;
    store.close().await;
    snap.with_context(|| format!("writing the snapshot {}", tmp.display()))?;
    let check = check_sqlite_file(&tmp).await?;
    if !check.usable() {
        let _ = std::fs::remove_file(&tmp);
        bail!(
            "the snapshot failed its check ({}), nothing written",
            check.integrity
        );
    }
    std::fs::rename(&tmp, file)
        .with_context(|| format!("moving the snapshot to {}", file.display()))?;
    let bytes = std::fs::metadata(file)?.len();
    let sha = sha256_of(file)?;
    let secs = started.elapsed().as_secs_f64();
    emit(
        json,
        &json!({ "file": file, "bytes": bytes, "sha256": sha, "check": check, "seconds": secs }),
        || {
            format!(
            "backup {} ({} bytes, sha256 {sha}) in {secs:.1}s: integrity {}, {} migrations, {} customers, {} transactions, {} alerts, {} audit entries",
            file.display(), bytes, check.integrity, check.migrations.len(), check.customers, check.transactions, check.alerts, check.audit_entries
        )
        },
    )
}

/// `rapport restore FILE [--force]`.
pub async fn restore(cfg: &Config, json: bool, file: &Path, force: bool) -> Result<()> {
    let target = sqlite_path(&cfg.database.url)?;
    let check = check_sqlite_file(file)
        .await
        .with_context(|| format!("checking {}", file.display()))?;
    if !check.usable() {
        bail!(
            "{} is not a usable Rapport store: integrity {:?}, migrations {:?} (this binary knows {})",
            file.display(),
            check.integrity,
            check.migrations,
            rapport_store::SQLITE_MIGRATIONS.iter().count()
        );
    }
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // No other process may have the store open while its files are swapped:
    // a running server would keep writing to the replaced file and its
    // writes would be lost. --force does not override this.
    let lock = exclusive_store_lock(&target)?;
    if target.exists() && !force {
        bail!(
            "{} exists: add --force to replace it (the store is not in use)",
            target.display()
        );
    }
    let tmp = dir.join(".restore.partial");
    {
        let mut from =
            std::fs::File::open(file).with_context(|| format!("reading {}", file.display()))?;
        // Mode 0600 whatever the backup file's mode or the umask.
        let mut to = rapport_store::create_private_file(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        std::io::copy(&mut from, &mut to)
            .with_context(|| format!("copying {} beside the store", file.display()))?;
        to.sync_all()?;
    }
    for suffix in ["-wal", "-shm"] {
        let p = rapport_store::sibling(&target, suffix);
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    std::fs::rename(&tmp, &target).with_context(|| format!("replacing {}", target.display()))?;
    drop(lock);
    let store = Store::connect(&cfg.database.url).await?;
    let counts = store.counts().await;
    store.close().await;
    let counts = counts?;
    emit(
        json,
        &json!({ "restored": file, "store": target, "check": check, "counts": counts }),
        || {
            format!(
            "restored {} into {} ({} customers, {} transactions); migrated to this binary's schema",
            file.display(), target.display(), counts.customers, counts.transactions
        )
        },
    )
}

/// `rapport worker`: the scheduler alone until Ctrl-C or SIGTERM.
pub async fn worker(cfg: &Config) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let id = format!("worker-{}", std::process::id());
    eprintln!("rapport worker {id}: running the scheduler (Ctrl-C to stop)");
    let services = rapport_services::Services::build(store.clone(), cfg.clone())?;
    let task = tokio::spawn(crate::jobs::run_scheduler(services, id, stopped));
    crate::cli::web::shutdown_signal().await;
    let _ = stop.send(true);
    let r = task.await.context("the scheduler task")?;
    store.close().await;
    r
}

/// `rapport jobs list|run NAME`.
pub async fn jobs(cfg: &Config, json: bool, cmd: JobsCommand) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let result = async {
        let services = rapport_services::Services::build(store.clone(), cfg.clone())?;
        let known = crate::jobs::jobs(&services)?;
        let now = Utc::now();
        for j in &known {
            store.ensure_job(j.name(), j.next_run(now)).await?;
        }
        match cmd {
            JobsCommand::List => {
                let schedules = store.job_schedules().await?;
                let runs = store.job_runs(None, 20).await?;
                emit(
                    json,
                    &json!({ "schedules": schedules, "runs": runs }),
                    || {
                        let mut s = String::from(
                            "job               next run (UTC)        last status   last finished\n",
                        );
                        for j in &schedules {
                            s.push_str(&format!(
                                "{:<17} {:<21} {:<13} {}\n",
                                j.name,
                                j.next_run_at.format("%Y-%m-%d %H:%M"),
                                j.last_status.as_deref().unwrap_or("-"),
                                j.last_finished_at
                                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                                    .unwrap_or_else(|| "-".into())
                            ));
                        }
                        s.trim_end().to_string()
                    },
                )
            }
            JobsCommand::Run { name } => {
                let Some(job) = known.iter().find(|j| j.name() == name) else {
                    bail!(
                        "no job named {name}: one of {}",
                        known
                            .iter()
                            .map(|j| j.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                };
                store.make_job_due(job.name(), now).await?;
                let (_stop, mut stopped) = tokio::sync::watch::channel(false);
                let worker = format!("cli-{}", std::process::id());
                crate::jobs::run_due_once(&store, &known, &cfg.jobs, &worker, &mut stopped).await?;
                let runs = store.job_runs(Some(&name), 1).await?;
                let run = runs.first().cloned();
                emit(json, &json!({ "run": run }), || match &run {
                    Some(r) => format!("{} {}: {}", r.name, r.status, r.detail),
                    None => format!("{name}: not run (another process holds it)"),
                })
            }
        }
    }
    .await;
    store.close().await;
    result
}
