//! The commands around the web application: `rapport serve`, `rapport user …`
//! (staff accounts with argon2-hashed passwords), `rapport token …` (API
//! tokens for machines), and the demo's sign-in accounts. Passwords and tokens
//! are printed once on stdout and never logged or stored in the clear.

use crate::cli::{ServeArgs, TokenCommand, UserCommand};
use crate::output::emit;
use anyhow::{bail, Context, Result};
use rapport_services::access::Actor;
use rapport_services::config::{redact_url, Config};
use rapport_services::import::open;
use rapport_services::staff;
use rapport_store::Store;
use rapport_web::AppState;
use serde_json::json;

/// Resolves when Ctrl-C or SIGTERM arrives.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested");
}

/// `rapport serve`.
pub async fn serve(cfg: &Config, args: ServeArgs) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let listen = args.listen.unwrap_or_else(|| cfg.web.listen.clone());
    let warm = !args.no_warm && std::env::var_os("RAPPORT_NO_WARM").is_none();
    run_server_with(cfg, store, &listen, !args.no_jobs, warm, None).await
}

/// How often the background refresher reads the store's generations.
const WARM_POLL: std::time::Duration = std::time::Duration::from_secs(3);

/// Binds `listen`, serves until a shutdown signal, stops the scheduler, closes
/// the store; refreshes the kept reports in the background (`--no-warm` and
/// `RAPPORT_NO_WARM` turn it off).
pub async fn run_server(
    cfg: &Config,
    store: Store,
    listen: &str,
    jobs: bool,
    banner: Option<String>,
) -> Result<()> {
    let warm = std::env::var_os("RAPPORT_NO_WARM").is_none();
    run_server_with(cfg, store, listen, jobs, warm, banner).await
}

/// [`run_server`], with the background refresher (`warm`) or without.
async fn run_server_with(
    cfg: &Config,
    store: Store,
    listen: &str,
    jobs: bool,
    warm: bool,
    banner: Option<String>,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen} (is another server running there?)"))?;
    let addr = listener.local_addr()?;
    // Planner statistics for whatever loaded the store (a bounded ANALYZE).
    store
        .optimize()
        .await
        .context("refreshing the planner statistics")?;
    // One services value for the server and its jobs: settings read once.
    let services = rapport_services::Services::build(store.clone(), cfg.clone())?;
    let state = AppState::with_services(services.clone());
    // The live engine is built now, not on the first posted transaction.
    state.live.start_warming(store.clone()).await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // The kept reports recomputed after every change, whoever made it.
    let warmer = warm.then(|| {
        tokio::spawn(
            rapport_services::warm::Poller::new(services.clone()).run(WARM_POLL, stop_rx.clone()),
        )
    });
    let scheduler = if jobs && cfg.jobs.enabled {
        let worker = format!("serve-{}-{}", std::process::id(), addr.port());
        Some(tokio::spawn(crate::jobs::run_scheduler(
            services, worker, stop_rx,
        )))
    } else {
        None
    };
    tracing::info!(%addr, database = %redact_url(&cfg.database.url), "serving");
    match banner {
        Some(b) => eprintln!("{b}"),
        None => eprintln!("rapport serve: http://{addr}/ (Ctrl-C to stop)"),
    }
    let served = rapport_web::serve(state, listener, shutdown_signal()).await;
    let _ = stop_tx.send(true);
    if let Some(w) = warmer {
        if let Err(e) = w.await {
            tracing::error!(error = %e, "the refresher task failed");
        }
    }
    if let Some(s) = scheduler {
        match s.await {
            Ok(Err(e)) => tracing::error!(error = format!("{e:#}"), "the scheduler failed"),
            Err(e) => tracing::error!(error = %e, "the scheduler task failed"),
            Ok(Ok(())) => {}
        }
    }
    store.close().await;
    served
}

fn read_password_stdin() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    // The policy (length, strength, not the user name) is the services'.
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Who administers at the console: the named member of staff (an active
/// admin), or the system (`system:cli`) when nobody is named — how the
/// first administrator is created.
async fn administrator(store: &Store, actor: Option<&str>) -> Result<Actor> {
    match actor {
        Some(_) => crate::cli::acting(store, actor).await,
        None => Ok(Actor::system("cli")),
    }
}

pub async fn user(cfg: &Config, json: bool, actor: Option<&str>, cmd: UserCommand) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let result = async {
        let actor = administrator(&store, actor).await?;
        user_inner(&store, json, &actor, cmd).await
    }
    .await;
    store.close().await;
    result
}

async fn user_inner(store: &Store, json: bool, actor: &Actor, cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add {
            username,
            role,
            branch,
            name,
            password_stdin,
            service,
        } => {
            if service {
                let id = staff::create_service_account(
                    store,
                    actor,
                    "cli",
                    &username,
                    name.as_deref(),
                    &role,
                    branch.as_deref(),
                )
                .await?;
                return emit(
                    json,
                    &json!({ "id": id, "username": username, "role": role, "branch": branch, "kind": "service" }),
                    || {
                        format!("service account {username} ({role}) created; give it tokens with `rapport token create --user {username}`")
                    },
                );
            }
            let password = if password_stdin {
                Some(read_password_stdin()?)
            } else {
                None
            };
            let created = staff::create_user(
                store,
                actor,
                "cli",
                &username,
                name.as_deref(),
                &role,
                branch.as_deref(),
                password,
            )
            .await?;
            let (id, r) = (created.id, created.role);
            let shown = created.generated_password;

            emit(
                json,
                &json!({ "id": id, "username": username, "role": r.as_str(), "branch": branch, "password": shown }),
                || match &shown {
                    Some(p) => format!("user {username} ({}) created; password: {p}", r.as_str()),
                    None => format!("user {username} ({}) created", r.as_str()),
                },
            )
        }
        UserCommand::Passwd {
            username,
            password_stdin,
        } => {
            let password = if password_stdin {
                Some(read_password_stdin()?)
            } else {
                None
            };
            let shown = staff::set_password(store, actor, "cli", &username, password).await?;

            emit(
                json,
                &json!({ "username": username, "password": shown }),
                || match &shown {
                    Some(p) => format!(
                        "new password for {username}: {p} (to be changed at their next sign-in)"
                    ),
                    None => format!(
                        "password of {username} reset (to be changed at their next sign-in)"
                    ),
                },
            )
        }
        UserCommand::Disable { username } => set_active(store, json, actor, &username, false).await,
        UserCommand::Enable { username } => set_active(store, json, actor, &username, true).await,
        UserCommand::List => {
            let users = store.staff_users().await?;
            emit(json, &json!({ "users": users }), || {
                let mut s = format!(
                    "{:<20} {:<8} {:<8} {:<6} name\n",
                    "username", "role", "branch", "active"
                );
                for u in &users {
                    s.push_str(&format!(
                        "{:<20} {:<8} {:<8} {:<6} {}\n",
                        u.username,
                        u.role,
                        u.branch_code.as_deref().unwrap_or("-"),
                        u.active,
                        u.display_name
                    ));
                }
                s.trim_end().to_string()
            })
        }
    }
}

async fn set_active(
    store: &Store,
    json: bool,
    actor: &Actor,
    username: &str,
    active: bool,
) -> Result<()> {
    staff::set_active(store, actor, "cli", username, active).await?;
    emit(
        json,
        &json!({ "username": username, "active": active }),
        || {
            format!(
                "{username} {}",
                if active {
                    "enabled"
                } else {
                    "disabled (sessions ended, tokens revoked)"
                }
            )
        },
    )
}

/// `rapport token …`.
pub async fn token(cfg: &Config, json: bool, actor: Option<&str>, cmd: TokenCommand) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let result = async {
        let actor = administrator(&store, actor).await?;
        match cmd {
            TokenCommand::Create { user, name } => {
                let user = match user {
                    Some(u) => u,
                    None if matches!(actor, Actor::Staff(_)) => actor.name().to_string(),
                    None => bail!("--user: name the service account the token is for (or act as yourself with --actor)"),
                };
                let created = staff::create_token(&store, &actor, "cli", &user, &name).await?;
                let (id, token) = (created.id, created.token);
                emit(json, &json!({ "id": id, "user": user, "name": name, "token": token }), || {
                    format!("token {id} for {user} (shown once, keep it secret):\n{token}")
                })
            }
            TokenCommand::List => {
                let tokens = store.api_tokens().await?;
                emit(json, &json!({ "tokens": tokens }), || {
                    let mut s = String::from("id    user                 name                 created                    created by           revoked\n");
                    for t in &tokens {
                        s.push_str(&format!(
                            "{:<5} {:<20} {:<20} {:<26} {:<20} {}\n",
                            t.id,
                            t.username,
                            t.name,
                            t.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
                            t.created_by_name.as_deref().unwrap_or("system"),
                            t.revoked_at
                                .map(|r| r.format("%Y-%m-%d %H:%M").to_string())
                                .unwrap_or_else(|| "-".into())
                        ));
                    }
                    s.trim_end().to_string()
                })
            }
            TokenCommand::Revoke { id } => {
                staff::revoke_token(&store, &actor, "cli", id).await?;
                emit(json, &json!({ "revoked": id }), || format!("token {id} revoked"))
            }
        }
    }
    .await;
    store.close().await;
    result
}
