//! The `rapport` binary: one command per job (init, import, gen, export,
//! report, score, validate, alert, stream, demo, bench). Parses the command
//! line, loads the typed configuration, opens the store and hands off to the
//! library crates.
//!
//! Output policy: with `--json` every command prints exactly one JSON object
//! on stdout and nothing else there; human-readable output, progress bars and
//! logs go to stderr (progress bars only when stderr is a terminal).
//!
//! Error policy: anyhow at this edge; library errors keep their context chain.
//! Everything lives in the library crate (`src/lib.rs`).

use clap::Parser;
use rapport::{cli, output};

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let serving = matches!(
        cli.command,
        cli::Command::Serve(_)
            | cli::Command::Demo(cli::DemoArgs {
                no_serve: false,
                ..
            })
    );
    let json_logs =
        cli.log_json || std::env::var("RAPPORT_LOG_JSON").is_ok_and(|v| v == "true" || v == "1");
    output::init_logging(cli.json || json_logs, cli.verbose, serving);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let json = cli.json;
    match runtime.block_on(cli::commands::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            output::print_error(json, &e);
            std::process::ExitCode::from(output::exit_code(&e))
        }
    }
}
