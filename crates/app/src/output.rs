//! Where output goes: one JSON object on stdout with `--json`, readable text
//! otherwise; logs and progress on stderr.

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::io::IsTerminal;

pub fn init_logging(json: bool, verbose: u8, serving: bool) {
    // sqlx logs every statement over a second at warn with its whole text
    // (multi-row inserts of thousands of rows): only its errors by default.
    // A server logs one line per request (info) by default.
    let default = match verbose {
        0 if serving => "info,sqlx=error",
        0 => "warn,sqlx=error",
        1 => "info,sqlx=warn",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RAPPORT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Prints the command's result: the JSON object, or the human text.
pub fn emit<T: Serialize>(
    json: bool,
    value: &T,
    human: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(value)?);
    } else {
        println!("{}", human());
    }
    Ok(())
}

pub fn print_error(json: bool, e: &anyhow::Error) {
    if json {
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        let code = service_error(e).map_or("error", |s| s.code());
        let obj = serde_json::json!({ "error": format!("{e:#}"), "code": code, "causes": chain });
        println!("{obj}");
    }
    eprintln!("error: {e:#}");
}

/// A progress bar on stderr when it is a terminal and output is not JSON; hidden otherwise.
pub fn progress(json: bool, len: Option<u64>, what: &str) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = match len {
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {msg} {pos} rows ({per_sec})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    pb.set_message(what.to_string());
    pb
}

/// The use case's typed error behind a command's failure, if it was one.
fn service_error(e: &anyhow::Error) -> Option<&rapport_services::error::ServiceError> {
    e.chain()
        .find_map(|c| c.downcast_ref::<rapport_services::error::ServiceError>())
}

/// The exit code a failed command ends with: the use case's kind of error
/// (2 a wrong request, 3 not found, 4 refused, 5 a conflict or a step the
/// workflow does not allow), 1 for anything else.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    service_error(e).map_or(1, |s| s.exit_code())
}
