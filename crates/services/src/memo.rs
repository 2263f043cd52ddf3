//! Reports kept until the data they were computed from changes (issue 18,
//! page times). A value is computed once and kept under its name, its
//! parameters and the store's identity, together with the data generations
//! of the domains it depends on ([`rapport_store::generation`]); every call
//! reads those counters from the store (one small query) and recomputes only
//! when one of them moved. The counters live in the store, raised by
//! triggers on every write, so several processes sharing one store never
//! show a figure older than the last write, and a read (even an audited one)
//! changes nothing.
//!
//! What may be kept is decided by each report: only what depends on nothing
//! but the store's rows (never on "now": the caller computes the
//! time-dependent part on each call).

use rapport_store::generation::{Domain, Generations};
use rapport_store::Store;
use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex};

/// At most this many values are kept in a process (names × parameters ×
/// stores); past it the oldest slot goes.
const MAX_SLOTS: usize = 256;

type Value = Arc<dyn Any + Send + Sync>;

/// One kept value: the generations it was computed at.
struct Kept {
    at: Vec<i64>,
    value: Value,
}

/// A slot: one name, parameters and store. Its lock is held while the value
/// is computed, so concurrent page loads compute it once.
type Slot = Arc<tokio::sync::Mutex<Option<Kept>>>;

struct Memo {
    slots: HashMap<(String, i64), (u64, Slot)>,
    tick: u64,
}

static MEMO: LazyLock<Mutex<Memo>> = LazyLock::new(|| {
    Mutex::new(Memo {
        slots: HashMap::new(),
        tick: 0,
    })
});

fn slot(key: String, store: i64) -> Slot {
    let mut m = MEMO.lock().unwrap_or_else(|e| e.into_inner());
    m.tick += 1;
    let tick = m.tick;
    if let Some((used, s)) = m.slots.get_mut(&(key.clone(), store)) {
        *used = tick;
        return s.clone();
    }
    if m.slots.len() >= MAX_SLOTS {
        if let Some(oldest) = m
            .slots
            .iter()
            .min_by_key(|(_, (used, _))| *used)
            .map(|(k, _)| k.clone())
        {
            m.slots.remove(&oldest);
        }
    }
    let s: Slot = Arc::default();
    m.slots.insert((key, store), (tick, s.clone()));
    s
}

/// The value `name` with `params` depending on `domains`: kept, or computed
/// by `compute` (and kept) when it was never computed or one of the
/// domains' generations changed since. Errors are not kept.
pub async fn get<T, F, Fut>(
    store: &Store,
    name: &str,
    params: &str,
    domains: &[Domain],
    compute: F,
) -> anyhow::Result<Arc<T>>
where
    T: Send + Sync + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let g: Generations = store.generations().await?;
    let at: Vec<i64> = domains.iter().map(|d| g.of(*d)).collect();
    let slot = slot(format!("{name}\u{1f}{params}"), g.store);
    let mut kept = slot.lock().await;
    if let Some(k) = kept.as_ref().filter(|k| k.at == at) {
        if let Ok(v) = k.value.clone().downcast::<T>() {
            return Ok(v);
        }
    }
    let v = Arc::new(compute().await?);
    *kept = Some(Kept {
        at,
        value: v.clone(),
    });
    Ok(v)
}
