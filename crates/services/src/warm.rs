//! The refresher (issue 18, page times): no user pays for a cold report.
//! The bank-wide reports kept by [`crate::memo`] — the holiday demand
//! analysis, the rule outcome days, the data-quality profiles, the KPI
//! facts and figures (bank-wide, with each view) and the campaign plan
//! inputs — are computed once for the store's current data generations, so
//! the next page view reads a kept value.
//!
//! [`refresh`] is the one use case: called at the end of an in-process job
//! that moves the `data` generation (the nightly scoring), and by
//! [`Poller`], which a server runs in the background: it reads
//! `store.generations()` every few seconds and refreshes when a counter
//! moved, so a change made by another process (a CLI import, a second
//! server) is warmed too. The refresher reads only: it raises no
//! generation, writes no audit entry (nothing is shown to anyone).

use crate::access::Actor;
use crate::Services;
use rapport_store::generation::Generations;
use serde::Serialize;
use std::time::{Duration, Instant};

/// One report refreshed (or not).
#[derive(Debug, Clone, Serialize)]
pub struct Refreshed {
    pub report: &'static str,
    pub millis: u64,
    /// Why it could not be computed (an empty store has no holiday
    /// analysis): the next page view shows the same error.
    pub error: Option<String>,
}

/// What a refresh did.
#[derive(Debug, Clone, Serialize)]
pub struct Refresh {
    /// The generations read before refreshing (the reports are kept for
    /// these or later ones).
    pub data: i64,
    pub work: i64,
    pub reports: Vec<Refreshed>,
    pub millis: u64,
}

impl Refresh {
    /// Whether every report was computed.
    pub fn complete(&self) -> bool {
        self.reports.iter().all(|r| r.error.is_none())
    }
}

/// Computes every bank-wide kept report for the store's current data (each
/// one a no-op when it is already kept). A report that fails is recorded
/// with its error and the others still run. Reads only.
pub async fn refresh(svc: &Services) -> anyhow::Result<Refresh> {
    let g = svc.store.generations().await?;
    let started = Instant::now();
    let system = Actor::system("warm");
    let mut reports = Vec::new();
    async fn step<F>(out: &mut Vec<Refreshed>, report: &'static str, f: F)
    where
        F: std::future::Future<Output = anyhow::Result<()>>,
    {
        let t = Instant::now();
        let error = f.await.err().map(|e| format!("{e:#}"));
        out.push(Refreshed {
            report,
            millis: t.elapsed().as_millis() as u64,
            error,
        });
    }
    step(&mut reports, "kpi", crate::kpi::warm(svc)).await;
    step(&mut reports, "quality", async {
        crate::kpi::data_quality(svc, &system).await?;
        Ok(())
    })
    .await;
    step(&mut reports, "holiday", async {
        crate::holiday::demand_view(&svc.store, &system, None, None).await?;
        Ok(())
    })
    .await;
    step(&mut reports, "rules", async {
        crate::rule_performance::report(svc, &system).await?;
        Ok(())
    })
    .await;
    step(
        &mut reports,
        "campaign_plan_inputs",
        crate::campaign::warm_plan_inputs(&svc.store),
    )
    .await;
    Ok(Refresh {
        data: g.data,
        work: g.work,
        reports,
        millis: started.elapsed().as_millis() as u64,
    })
}

/// [`refresh`], logged: what a job calls at its end (a failure is logged,
/// never the job's failure).
pub async fn refresh_logged(svc: &Services, after: &str) {
    match refresh(svc).await {
        Ok(r) => log(&r, after),
        Err(e) => tracing::warn!(
            after,
            error = format!("{e:#}"),
            "refreshing the kept reports failed"
        ),
    }
}

fn log(r: &Refresh, after: &str) {
    for x in r.reports.iter().filter(|x| x.error.is_some()) {
        tracing::debug!(
            after,
            report = x.report,
            error = x.error.as_deref(),
            "report not refreshed"
        );
    }
    tracing::info!(
        after,
        data = r.data,
        work = r.work,
        millis = r.millis,
        complete = r.complete(),
        "kept reports refreshed"
    );
}

/// The background refresher of a server: polls the store's generations and
/// refreshes when they moved since the last complete refresh.
pub struct Poller {
    svc: Services,
    /// The generations of the last complete refresh.
    done: Option<Generations>,
    /// The generations of the last refresh tried (and its failures logged).
    tried: Option<Generations>,
}

impl Poller {
    pub fn new(svc: Services) -> Poller {
        Poller {
            svc,
            done: None,
            tried: None,
        }
    }

    /// One tick: reads the generations and refreshes when they moved (or
    /// the last refresh was incomplete). Returns the refresh done, if any.
    /// Errors (the store unreachable) are returned, for the caller to log
    /// and try again on the next tick.
    pub async fn tick(&mut self) -> anyhow::Result<Option<Refresh>> {
        let g = self.svc.store.generations().await?;
        if self.done == Some(g) {
            return Ok(None);
        }
        let r = refresh(&self.svc).await?;
        let first_try = self.tried != Some(g);
        self.tried = Some(g);
        if r.complete() {
            self.done = Some(g);
            log(&r, "poll");
        } else if first_try {
            // Logged once per generation; retried quietly on the next ticks.
            log(&r, "poll");
        }
        Ok(Some(r))
    }

    /// Ticks every `every` until `stop` changes (the server stops) or its
    /// sender goes, dropping a refresh under way then. A failed tick is logged and tried
    /// again on the next.
    pub async fn run(mut self, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if *stop.borrow() {
                return;
            }
            tokio::select! {
                _ = interval.tick() => {}
                _ = stop.changed() => return,
            }
            tokio::select! {
                r = self.tick() => {
                    if let Err(e) = r {
                        tracing::warn!(error = format!("{e:#}"), "refreshing the kept reports failed; trying again");
                    }
                }
                _ = stop.changed() => return,
            }
        }
    }
}
