//! The store's files on disk (issue 16): `rapport restore` refuses, with
//! exit code 5 and `--force` or not, while another process has the store
//! open — a running `rapport stream`, or a store open in this process — and
//! changes nothing; once that process is gone the restore works. The
//! database, its WAL files, the lock file and backups are mode 0600.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::BIN;
use rapport_store::Store;
use rapport_testkit::cli::Rapport;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

fn sha(p: &Path) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(p).unwrap()).to_vec()
}

#[test]
fn restore_refuses_while_the_store_is_in_use_and_the_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("live.db");
    let url = format!("sqlite://{}", db_path.display());
    let cli = Rapport::new(BIN).db(&url);
    let r = cli.run(&["gen", "--customers", "40", "--seed", "5"]);
    assert!(r.ok(), "{}", r.stderr);
    let backup = dir.path().join("b.db");
    let r = cli.run(&["backup", backup.to_str().unwrap()]);
    assert!(r.ok(), "{}", r.stderr);
    #[cfg(unix)]
    {
        assert_eq!(mode(&db_path), 0o600, "the store");
        assert_eq!(mode(&backup), 0o600, "the backup");
        assert_eq!(
            mode(&rapport_store::lock_path(&db_path)),
            0o600,
            "the lock file"
        );
    }

    // A running `rapport stream` holds the store.
    let mut stream = cli
        .command(&["stream"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(stream.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "stream ended early");
        if line.contains("live engine ready") {
            break;
        }
    }
    #[cfg(unix)]
    for suffix in ["-wal", "-shm"] {
        let p = rapport_store::sibling(&db_path, suffix);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }
    let before = sha(&db_path);
    for args in [
        vec!["restore", "--force", backup.to_str().unwrap()],
        vec!["restore", backup.to_str().unwrap()],
    ] {
        let r = cli.run(&args);
        assert_eq!(
            r.code, 5,
            "{args:?} must be refused as a conflict: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("in use by another Rapport process")
                && r.stderr.contains(&format!("pid {}", stream.id()))
                && r.stderr.contains("stop the server"),
            "{}",
            r.stderr
        );
    }
    assert_eq!(sha(&db_path), before, "a refused restore changed the store");
    drop(stream.stdin.take());
    assert!(stream.wait().unwrap().success());

    // Once it is gone the restore goes ahead.
    let r = cli.run(&["restore", "--force", backup.to_str().unwrap()]);
    assert!(r.ok(), "{}", r.stderr);
    #[cfg(unix)]
    assert_eq!(mode(&db_path), 0o600, "the restored store");

    // A store open in this process holds it too, until closed.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt.block_on(Store::connect(&url)).unwrap();
    let r = cli.run(&["restore", "--force", backup.to_str().unwrap()]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("pid {}", std::process::id())),
        "{}",
        r.stderr
    );
    rt.block_on(store.close());
    let r = cli.run(&["restore", "--force", backup.to_str().unwrap()]);
    assert!(r.ok(), "{}", r.stderr);
}

/// The README's first command on a fresh machine: `demo` in an empty folder
/// creates its own store folder, takes the store lock there and leaves a
/// private store (it once failed taking the lock before the folder existed).
#[test]
fn the_demo_starts_in_an_empty_folder_and_its_store_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let r = Rapport::new(BIN).current_dir(dir.path());
    let out = r.json(&["demo", "--customers", "200", "--no-serve", "--seed", "3"]);
    assert!(
        out["counts"]["customers"].as_u64().unwrap_or(0) >= 200,
        "{out}"
    );
    let db = dir.path().join("rapport-data").join("demo.db");
    assert_eq!(mode(&db), 0o600);
    // A second run replaces it (nobody else holds it).
    r.json(&["demo", "--customers", "200", "--no-serve", "--seed", "3"]);
}
