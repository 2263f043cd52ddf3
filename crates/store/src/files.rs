//! The store's files on disk: created readable by their owner only, and the
//! lock that says a process is using a SQLite store.
//!
//! Modes (Unix): the database file, its `-wal` and `-shm`, the lock file,
//! backups and exported files are created with mode 0600 whatever the umask
//! (the file is created by us with that mode before SQLite opens it; the
//! WAL files are set to 0600 once SQLite has made them; an existing store
//! that is readable by others is tightened to 0600 when opened).
//!
//! Lock: every process that connects to a SQLite file store holds a shared
//! OS advisory lock (`flock`) on `<db>.lock` for as long as the store is
//! open (until [`Store::close`](crate::Store::close) or the process ends).
//! `rapport restore` takes the same lock exclusively and refuses while any
//! other process holds it. The OS releases the lock of a process that dies,
//! so a killed server never leaves a stale lock behind.

use crate::{Result, StoreError};
use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Opens `path` for writing, created (or truncated) with mode 0600 on Unix;
/// a file that existed with a wider mode is narrowed to 0600 first.
pub fn create_private_file(path: &Path) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let f = opts.open(path)?;
    restrict(&f)?;
    Ok(f)
}

/// Sets mode 0600 on an open file (Unix; nothing elsewhere).
fn restrict(f: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = f.metadata()?.permissions().mode();
        if mode & 0o777 != 0o600 {
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = f;
    Ok(())
}

/// Sets mode 0600 on `path` if it exists.
pub fn restrict_path(path: &Path) -> std::io::Result<()> {
    match File::open(path) {
        Ok(f) => restrict(&f),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Before SQLite opens `db`: creates it empty with mode 0600 when it does
/// not exist, narrows it to 0600 when it does.
pub(crate) fn prepare_database_file(db: &Path) -> Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let f = opts.open(db).map_err(|e| io_error(db, e))?;
    restrict(&f).map_err(|e| io_error(db, e))
}

/// After SQLite opened `db`: its `-wal` and `-shm` files get mode 0600.
pub(crate) fn restrict_wal_files(db: &Path) -> Result<()> {
    for suffix in ["-wal", "-shm", "-journal"] {
        let p = sibling(db, suffix);
        restrict_path(&p).map_err(|e| io_error(&p, e))?;
    }
    Ok(())
}

/// `<db><suffix>`, e.g. `rapport.db-wal`.
pub fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let mut s = db.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// The lock file of the SQLite store at `db`: `<db>.lock`.
pub fn lock_path(db: &Path) -> PathBuf {
    sibling(db, ".lock")
}

fn open_lock_file(db: &Path) -> Result<File> {
    let path = lock_path(db);
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let f = opts.open(&path).map_err(|e| io_error(&path, e))?;
    restrict(&f).map_err(|e| io_error(&path, e))?;
    Ok(f)
}

/// The shared locks this process holds, per database path, with the number
/// of open stores using each.
static HELD: Mutex<Option<HashMap<PathBuf, (File, usize)>>> = Mutex::new(None);

/// The same key for every spelling of the path, whether or not the file exists yet.
fn key(db: &Path) -> PathBuf {
    let parent = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (std::fs::canonicalize(parent), db.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => db.to_path_buf(),
    }
}

/// Takes (or shares, within this process) the shared lock of the store at
/// `db`. Refused while a restore holds it exclusively.
pub(crate) fn hold_shared(db: &Path) -> Result<()> {
    let k = key(db);
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    let held = held.get_or_insert_with(HashMap::new);
    if let Some((_, n)) = held.get_mut(&k) {
        *n += 1;
        return Ok(());
    }
    let f = open_lock_file(db)?;
    match f.try_lock_shared() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(StoreError::Conflict(format!(
                "the store {} is being restored by another Rapport process{}; start again once the restore has finished",
                db.display(),
                holders_text(db)
            )))
        }
        Err(TryLockError::Error(e)) => return Err(io_error(&lock_path(db), e)),
    }
    held.insert(k, (f, 1));
    Ok(())
}

/// Releases one use of the shared lock of the store at `db`; the lock goes
/// when the last store of this process using it is closed.
pub(crate) fn release_shared(db: &Path) {
    let k = key(db);
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    let Some(held) = held.as_mut() else {
        return;
    };
    if let Some((_, n)) = held.get_mut(&k) {
        *n -= 1;
        if *n == 0 {
            // Dropping the file releases the lock.
            held.remove(&k);
        }
    }
}

/// The exclusive lock `rapport restore` holds while it replaces a store:
/// no other Rapport process may have the store open meanwhile. Released
/// when dropped.
#[derive(Debug)]
pub struct ExclusiveStoreLock {
    _file: File,
}

/// Takes the store lock of `db` exclusively, or says who holds it:
/// `StoreError::Conflict` naming the holders' process ids when the system
/// tells them (Linux `/proc/locks`).
pub fn lock_exclusive(db: &Path) -> Result<ExclusiveStoreLock> {
    let in_this_process = HELD
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .is_some_and(|h| h.contains_key(&key(db)));
    let f = open_lock_file(db)?;
    match f.try_lock() {
        Ok(()) if !in_this_process => Ok(ExclusiveStoreLock { _file: f }),
        Ok(()) | Err(TryLockError::WouldBlock) => Err(StoreError::Conflict(format!(
            "the store {} is in use by another Rapport process{}; stop the server (Ctrl-C, or systemctl stop rapport) and any job, import or stream using it, then run the command again",
            db.display(),
            holders_text(db)
        ))),
        Err(TryLockError::Error(e)) => Err(io_error(&lock_path(db), e)),
    }
}

/// " (pid 123, 456)" for the processes holding the lock, when known.
fn holders_text(db: &Path) -> String {
    let pids = holders(db);
    if pids.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = pids.iter().map(u32::to_string).collect();
        format!(" (pid {})", list.join(", "))
    }
}

/// The ids of the processes holding a lock on `<db>.lock` (Linux: read from
/// `/proc/locks`; empty elsewhere or when unknown).
pub fn holders(db: &Path) -> Vec<u32> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = std::fs::metadata(lock_path(db)) else {
            return Vec::new();
        };
        let Ok(locks) = std::fs::read_to_string("/proc/locks") else {
            return Vec::new();
        };
        let me = std::process::id();
        let mut pids: Vec<u32> = locks
            .lines()
            .filter_map(|l| {
                // "1: FLOCK  ADVISORY  READ  1234 08:01:5678 0 EOF"
                let f: Vec<&str> = l.split_whitespace().collect();
                let pid: u32 = f.get(4)?.parse().ok()?;
                let inode: u64 = f.get(5)?.rsplit(':').next()?.parse().ok()?;
                (inode == meta.ino() && pid != me).then_some(pid)
            })
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = db;
        Vec::new()
    }
}
