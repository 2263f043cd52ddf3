//! `rapport bench api`: a closed-loop HTTP load generator for the API. A
//! fixed number of clients, each on its own keep-alive connection, request
//! the customer 360 of keys drawn uniformly at random (seeded) as fast as
//! the server answers; after a warm-up, every latency is kept and the run
//! reports requests/s, p50/p90/p99/p99.9/max and errors by kind. Exit 1 on
//! any error, so scripts notice.

use crate::cli::ApiBenchArgs;
use crate::output::emit;
use anyhow::{bail, Context, Result};
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rand::{Rng as _, SeedableRng as _};
use rapport_services::config::Config;
use serde_json::json;
use std::time::{Duration, Instant};

/// Errors by kind.
#[derive(Default, Debug, Clone, Copy)]
struct Errors {
    status: u64,
    connect: u64,
    timeout: u64,
}

struct ClientResult {
    latencies_us: Vec<u32>,
    ok: u64,
    errors: Errors,
}

async fn keys_of(cfg: &Config, args: &ApiBenchArgs) -> Result<Vec<String>> {
    if let Some(file) = &args.keys {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        return Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect());
    }
    let store = rapport_services::import::open(&cfg.database.url).await?;
    let keys = store.sample_customer_keys(args.sample, args.seed).await;
    store.close().await;
    Ok(keys?)
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i.min(sorted.len() - 1)]) / 1000.0
}

/// Runs the load and prints the figures.
pub async fn bench_api(cfg: &Config, json: bool, args: ApiBenchArgs) -> Result<()> {
    let keys = keys_of(cfg, &args).await?;
    if keys.is_empty() {
        bail!("no customer keys to request (load a bank first, or pass --keys FILE)");
    }
    let base = args.url.trim_end_matches('/').to_string();
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<_, Empty<bytes::Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(args.clients)
        .build(connector);
    let warmup = Duration::from_secs_f64(args.warmup_secs);
    let duration = Duration::from_secs_f64(args.duration_secs);
    let started = Instant::now();
    let measure_from = started + warmup;
    let end = measure_from + duration;
    let keys = std::sync::Arc::new(keys);
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let client = client.clone();
        let keys = keys.clone();
        let base = base.clone();
        let token = args.token.clone();
        let template = args.path_template.clone();
        let seed = args.seed.wrapping_add(c as u64);
        tasks.push(tokio::spawn(async move {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let mut r = ClientResult {
                latencies_us: Vec::with_capacity(1 << 16),
                ok: 0,
                errors: Errors::default(),
            };
            loop {
                let now = Instant::now();
                if now >= end {
                    break;
                }
                let key = &keys[rng.random_range(0..keys.len())];
                let uri = format!(
                    "{base}{}",
                    template.replace("{key}", &rapport_web::pages::enc(key))
                );
                let Ok(req) = hyper::Request::get(uri)
                    .header("authorization", format!("Bearer {token}"))
                    .body(Empty::new())
                else {
                    r.errors.connect += 1;
                    continue;
                };
                let t0 = Instant::now();
                let res = tokio::time::timeout(Duration::from_secs(10), async {
                    let res = client.request(req).await?;
                    let status = res.status();
                    let _ = res.into_body().collect().await?;
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>(status)
                })
                .await;
                let measured = t0 >= measure_from;
                match res {
                    Ok(Ok(status)) if status.is_success() => {
                        if measured {
                            r.ok += 1;
                            r.latencies_us
                                .push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                        }
                    }
                    Ok(Ok(_)) => {
                        if measured {
                            r.errors.status += 1;
                        }
                    }
                    Ok(Err(_)) => {
                        if measured {
                            r.errors.connect += 1;
                        }
                    }
                    Err(_) => {
                        if measured {
                            r.errors.timeout += 1;
                        }
                    }
                }
            }
            r
        }));
    }
    let mut all: Vec<u32> = Vec::new();
    let (mut ok, mut errors) = (0u64, Errors::default());
    for t in tasks {
        let r = t.await.context("a load client")?;
        all.extend(r.latencies_us);
        ok += r.ok;
        errors.status += r.errors.status;
        errors.connect += r.errors.connect;
        errors.timeout += r.errors.timeout;
    }
    all.sort_unstable();
    let failed = errors.status + errors.connect + errors.timeout;
    let secs = duration.as_secs_f64();
    let rps = ok as f64 / secs;
    let out = json!({
        "url": base, "path_template": args.path_template, "clients": args.clients,
        "keys": keys.len(), "warmup_secs": args.warmup_secs, "duration_secs": secs,
        "requests": ok + failed, "ok": ok,
        "errors": { "status": errors.status, "connect": errors.connect, "timeout": errors.timeout },
        "requests_per_second": rps,
        "latency_ms": { "p50": pct(&all, 0.50), "p90": pct(&all, 0.90), "p99": pct(&all, 0.99), "p999": pct(&all, 0.999),
                        "max": all.last().map(|m| f64::from(*m) / 1000.0).unwrap_or(0.0) },
    });
    emit(json, &out, || {
        format!(
            "{} clients, {:.0}s after {:.0}s warm-up, {} keys: {} requests, {} errors (status {}, connect {}, timeout {})\n\
             {:.0} requests/s; latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
            args.clients, secs, args.warmup_secs, keys.len(), ok + failed, failed, errors.status, errors.connect, errors.timeout,
            rps, pct(&all, 0.5), pct(&all, 0.9), pct(&all, 0.99), pct(&all, 0.999),
            all.last().map(|m| f64::from(*m) / 1000.0).unwrap_or(0.0)
        )
    })?;
    if failed > 0 {
        bail!("{failed} requests failed");
    }
    Ok(())
}
