//! One runner for the `rapport` binary in tests: every `RAPPORT_*` variable
//! of the test's environment is cleared (so a developer's shell or CI cannot
//! change what a test sees), then the test sets what it means to.

use serde_json::Value;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What one run printed and how it ended.
#[derive(Debug, Clone)]
pub struct Run {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.code == 0
    }
}

/// A `rapport` invocation: the binary, optionally `--db URL`, extra
/// environment and standard input.
#[derive(Debug, Clone)]
pub struct Rapport {
    bin: PathBuf,
    db: Option<String>,
    env: Vec<(String, String)>,
    dir: Option<PathBuf>,
}

/// A `Command` for `bin` with every `RAPPORT_*` variable removed.
pub fn clean_command(bin: &Path) -> Command {
    let mut c = Command::new(bin);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("RAPPORT_") {
            c.env_remove(&k);
        }
    }
    c
}

impl Rapport {
    /// The binary under test: pass `env!("CARGO_BIN_EXE_rapport")`.
    pub fn new(bin: impl Into<PathBuf>) -> Rapport {
        Rapport {
            bin: bin.into(),
            db: None,
            env: Vec::new(),
            dir: None,
        }
    }

    /// Every run gets `--db url`.
    pub fn db(mut self, url: &str) -> Rapport {
        self.db = Some(url.to_string());
        self
    }

    /// Sets an environment variable for every run (after the clean-up).
    pub fn env(mut self, key: &str, value: &str) -> Rapport {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Runs in `dir` (default: the test's working directory).
    pub fn current_dir(mut self, dir: &Path) -> Rapport {
        self.dir = Some(dir.to_path_buf());
        self
    }

    /// The command, ready for more arguments (for tests that manage the child themselves).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = clean_command(&self.bin);
        if let Some(db) = &self.db {
            c.arg("--db").arg(db);
        }
        c.args(args);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        if let Some(d) = &self.dir {
            c.current_dir(d);
        }
        c
    }

    /// Runs to the end with no standard input.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }

    /// Runs to the end, writing `stdin` (if any) and closing it.
    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut child = self
            .command(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting rapport {args:?}: {e}"));
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().expect("the child's stdin");
            pipe.write_all(text.as_bytes())
                .unwrap_or_else(|e| panic!("writing rapport's stdin: {e}"));
        }
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("running rapport {args:?}: {e}"));
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs with `--json`, requires success, and parses stdout, which must be
    /// exactly one JSON object on one line.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let r = self.run(&all);
        assert_eq!(
            r.code, 0,
            "rapport {args:?} failed: {}\n{}",
            r.stderr, r.stdout
        );
        parse_one_json(&r.stdout)
    }
}

/// Parses stdout that must be exactly one JSON object on one line.
pub fn parse_one_json(stdout: &str) -> Value {
    let v: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {stdout}"));
    assert!(v.is_object(), "stdout must be a JSON object: {stdout}");
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "exactly one JSON line: {stdout}"
    );
    v
}
