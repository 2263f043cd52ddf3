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
    /// How many times each name was computed per store (what a page view
    /// paid for; read by [`computed`]).
    computed: HashMap<(String, i64), u64>,
}

static MEMO: LazyLock<Mutex<Memo>> = LazyLock::new(|| {
    Mutex::new(Memo {
        slots: HashMap::new(),
        tick: 0,
        computed: HashMap::new(),
    })
});

fn count(name: &str, store: i64) {
    let mut m = MEMO.lock().unwrap_or_else(|e| e.into_inner());
    *m.computed.entry((name.to_string(), store)).or_default() += 1;
}

/// How many times the values named `name` (any parameters) were computed in
/// this process for the store `store` (its generations' `store` id): a page
/// view that read a kept value leaves it as it was.
pub fn computed(name: &str, store: i64) -> u64 {
    let m = MEMO.lock().unwrap_or_else(|e| e.into_inner());
    m.computed
        .get(&(name.to_string(), store))
        .copied()
        .unwrap_or(0)
}

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
    get_fresh(store, name, params, domains, |_: &T| true, compute).await
}

/// [`get`] for a value that also goes stale with time: a kept value is
/// used only while `fresh` says so (e.g. until the next deadline of an SLA
/// clock that was still running when it was computed).
pub async fn get_fresh<T, P, F, Fut>(
    store: &Store,
    name: &str,
    params: &str,
    domains: &[Domain],
    fresh: P,
    compute: F,
) -> anyhow::Result<Arc<T>>
where
    T: Send + Sync + 'static,
    P: FnOnce(&T) -> bool,
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let g: Generations = store.generations().await?;
    let at: Vec<i64> = domains.iter().map(|d| g.of(*d)).collect();
    let slot = slot(format!("{name}\u{1f}{params}"), g.store);
    let mut kept = slot.lock().await;
    if let Some(k) = kept.as_ref().filter(|k| k.at == at) {
        if let Ok(v) = k.value.clone().downcast::<T>() {
            if fresh(&v) {
                return Ok(v);
            }
        }
    }
    let v = Arc::new(compute().await?);
    count(name, g.store);
    *kept = Some(Kept {
        at,
        value: v.clone(),
    });
    Ok(v)
}

/// Whether the value `name` with `params` is kept for the generations `g`
/// of `domains` (the refresher's tests and figures; reads only, computes
/// nothing, waits for a computation under way).
pub async fn is_kept(name: &str, params: &str, g: &Generations, domains: &[Domain]) -> bool {
    let key = (format!("{name}\u{1f}{params}"), g.store);
    let slot = {
        let m = MEMO.lock().unwrap_or_else(|e| e.into_inner());
        m.slots.get(&key).map(|(_, s)| s.clone())
    };
    let Some(slot) = slot else {
        return false;
    };
    let at: Vec<i64> = domains.iter().map(|d| g.of(*d)).collect();
    let kept = slot.lock().await;
    kept.as_ref().is_some_and(|k| k.at == at)
}
