//! Batch loaders: turn records into rows, resolve the keys they reference
//! through the session caches, and report one [`RowOutcome`] per record in
//! input order.
//!
//! Two strategies. Entities whose ids other rows reference (accounts,
//! products) and small keyed tables (staff users) have their own loader
//! each: checked against a complete in-memory key map and bulk-inserted with
//! ids the session assigns. Every other entity is keyed by `(source,
//! source_key)` and is described by a [`SourceEntity`] (its table, its columns,
//! the caches it needs and how a record becomes a row); one generic loader,
//! [`SessionInner::load_rows`], feeds them all to [`SessionInner::load_batch`]:
//! one bulk insert that skips existing `(source, source_key)` pairs and
//! returns the keys it inserted, so existence costs nothing extra; only the
//! keys it skipped are looked up, in bulk, to tell `Unchanged` from
//! `Conflict`. Never decides content: records arrive clean.

use crate::dialect::{on_conn, OnConflict, Tx, Val};
use crate::import::*;
use crate::keys::KeyState;
use crate::session::{AccountRef, SessionInner};
use crate::{FastMap, Result, StoreError};
use futures::TryStreamExt;
use rapport_domain::*;
use sqlx::Row;
use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

const ACCOUNT_COLS: &[&str] = &[
    "id",
    "source",
    "source_key",
    "customer_id",
    "account_type",
    "opened_on",
    "closed_on",
    "currency",
    "balance",
    "credit_limit",
    "branch_id",
    "attributes",
    "fingerprint",
    "import_id",
];
const PRODUCT_COLS: &[&str] = &[
    "id",
    "code",
    "name",
    "category",
    "risk_level",
    "fingerprint",
    "import_id",
];
const STAFF_COLS: &[&str] = &[
    "username",
    "display_name",
    "role",
    "branch_id",
    "fingerprint",
    "import_id",
];

fn unknown(field: &'static str, key: &str) -> RowOutcome {
    RowOutcome::UnknownReference {
        field,
        key: key.to_string(),
    }
}

fn compare(stored: i64, fingerprint: i64) -> Option<RowOutcome> {
    Some(if stored == fingerprint {
        RowOutcome::Unchanged
    } else {
        RowOutcome::Conflict
    })
}

/// The outcome of a record of a cached-key entity whose key is stored (with
/// fingerprint `stored`) or came earlier in the batch (the first row of a key
/// is the one inserted, later ones are compared with it); `None` for a new
/// key, now remembered in `in_batch`.
fn known<K: Hash + Eq>(
    stored: Option<i64>,
    in_batch: &mut HashMap<K, i64>,
    key: K,
    fp: i64,
) -> Option<RowOutcome> {
    if let Some(stored) = stored {
        return compare(stored, fp);
    }
    match in_batch.entry(key) {
        Entry::Occupied(first) => compare(*first.get(), fp),
        Entry::Vacant(slot) => {
            slot.insert(fp);
            None
        }
    }
}

fn finish(out: Vec<Option<RowOutcome>>) -> Vec<RowOutcome> {
    // Every slot is filled by the loaders; a gap would be a bug, reported as a conflict
    // so that the row is quarantined rather than counted as loaded.
    out.into_iter()
        .map(|o| o.unwrap_or(RowOutcome::Conflict))
        .collect()
}

fn id_shortfall(table: &str) -> StoreError {
    StoreError::NotFound(format!("enough free ids for {table}"))
}

/// The outcome key of an outcome record: unique per (customer key, label).
fn outcome_key(r: &OutcomeRecord) -> String {
    serde_json::Value::from(vec![r.customer_key.as_str(), r.label.as_str()]).to_string()
}

fn minor(m: Money) -> i64 {
    m.minor()
}

/// Rows of one batch for [`SessionInner::load_batch`], grouped by source.
pub(crate) struct Batch<'a> {
    out: Vec<Option<RowOutcome>>,
    groups: Vec<Group<'a>>,
}

struct Group<'a> {
    source: &'a str,
    cands: Vec<Candidate<'a>>,
    /// Row-major cells of the candidates, in candidate order.
    vals: Vec<Val<'a>>,
}

struct Candidate<'a> {
    idx: usize,
    key: Cow<'a, str>,
    fingerprint: i64,
}

impl<'a> Batch<'a> {
    fn new(rows: usize) -> Self {
        Batch {
            out: vec![None; rows],
            groups: Vec::new(),
        }
    }

    fn reject(&mut self, idx: usize, outcome: Option<RowOutcome>) {
        if let Some(slot) = self.out.get_mut(idx) {
            *slot = outcome;
        }
    }

    /// Adds a row: `source, key`, the `cells` (taken, leaving it empty), then
    /// `fingerprint, import_id`.
    fn push(
        &mut self,
        idx: usize,
        source: &'a str,
        key: Cow<'a, str>,
        fingerprint: i64,
        import_id: i64,
        cells: &mut Vec<Val<'a>>,
    ) {
        let pos = match self.groups.iter().position(|g| g.source == source) {
            Some(p) => p,
            None => {
                self.groups.push(Group {
                    source,
                    cands: Vec::new(),
                    vals: Vec::new(),
                });
                self.groups.len() - 1
            }
        };
        if let Some(g) = self.groups.get_mut(pos) {
            g.vals.push(Val::text(source));
            g.vals.push(Val::Text(Some(key.clone())));
            g.vals.append(cells);
            g.vals.push(Val::int(fingerprint));
            g.vals.push(Val::int(import_id));
            g.cands.push(Candidate {
                idx,
                key,
                fingerprint,
            });
        }
    }
}

impl SessionInner {
    /// Learns, once per session, whether `table` held rows of `source` before
    /// (only PostgreSQL uses it: SQLite's inserts skip stored keys by themselves).
    async fn ensure_key_state(&mut self, table: &'static str, source: &str) -> Result<()> {
        let id = (table, source.to_string());
        if self.cache.keys.contains_key(&id) {
            return Ok(());
        }
        let stored_before = match &mut self.tx {
            Tx::Sqlite(_) => true,
            Tx::Postgres(t) => {
                let sql = format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE source = $1)");
                sqlx::query_scalar::<_, bool>(&sql)
                    .bind(source)
                    .fetch_one(&mut **t)
                    .await?
            }
        };
        self.cache.keys.insert(id, KeyState::new(stored_before));
        Ok(())
    }

    /// Inserts the candidates of `batch` into `table` (keyed by `(source,
    /// source_key)`), skipping keys already stored, and fills in the outcomes.
    async fn load_batch(
        &mut self,
        table: &'static str,
        cols: &[&'static str],
        mut batch: Batch<'_>,
    ) -> Result<Vec<RowOutcome>> {
        let ncols = cols.len();
        for g in &batch.groups {
            // The first row of a key in the batch is the one inserted; later rows
            // with the same key are compared with whatever ends up stored.
            let mut first: FastMap<&str, usize> =
                FastMap::with_capacity_and_hasher(g.cands.len(), Default::default());
            let mut dups: Vec<(usize, usize)> = Vec::new();
            for (pos, c) in g.cands.iter().enumerate() {
                match first.get(c.key.as_ref()) {
                    Some(f) => dups.push((pos, *f)),
                    None => {
                        first.insert(c.key.as_ref(), pos);
                    }
                }
            }
            let uniques = g.cands.len() - dups.len();
            let vals: Cow<'_, [Val<'_>]> = if dups.is_empty() {
                Cow::Borrowed(&g.vals)
            } else {
                let dup_pos: HashSet<usize> = dups.iter().map(|d| d.0).collect();
                let mut v = Vec::with_capacity(uniques * ncols);
                for (pos, row) in g.vals.chunks(ncols).enumerate() {
                    if !dup_pos.contains(&pos) {
                        v.extend_from_slice(row);
                    }
                }
                Cow::Owned(v)
            };
            // Keys that were already stored, with their stored fingerprints.
            self.ensure_key_state(table, g.source).await?;
            let Some(state) = self.cache.keys.get_mut(&(table, g.source.to_string())) else {
                return Err(StoreError::NotFound(format!("key state of {table}")));
            };
            let stored = self
                .tx
                .insert_skipping_existing(
                    table,
                    cols,
                    &vals,
                    g.source,
                    state,
                    &mut self.cache.copies,
                )
                .await?;
            // The fingerprint now stored under each key of the batch.
            let effective = |c: &Candidate<'_>| -> (Option<RowOutcome>, i64) {
                match stored.get(c.key.as_ref()) {
                    Some(fp) => (compare(*fp, c.fingerprint), *fp),
                    None => (Some(RowOutcome::Loaded), c.fingerprint),
                }
            };
            for &pos in first.values() {
                if let Some(c) = g.cands.get(pos) {
                    let (o, _) = effective(c);
                    batch.out[c.idx] = o;
                }
            }
            for &(pos, f) in &dups {
                if let (Some(c), Some(fc)) = (g.cands.get(pos), g.cands.get(f)) {
                    let (_, fp) = effective(fc);
                    batch.out[c.idx] = compare(fp, c.fingerprint);
                }
            }
        }
        Ok(finish(batch.out))
    }

    // ----- cached-key entities --------------------------------------------

    pub(crate) async fn load_accounts(
        &mut self,
        recs: &[AccountRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.prepare(recs.iter().map(|r| r.source.as_str()), true, true)
            .await?;
        let branches = self
            .branch_ids(recs.iter().filter_map(|r| r.branch.as_deref()))
            .await?;
        let mut out = vec![None; recs.len()];
        let mut new: Vec<(usize, i64, CustomerId)> = Vec::new();
        let mut in_batch: HashMap<(&str, &str), i64> = HashMap::new();
        for (i, r) in recs.iter().enumerate() {
            let fp = fingerprint(r);
            let Some(owner) = self.customer_ref(&r.source, &r.customer_key) else {
                out[i] = Some(unknown("customer_key", &r.customer_key));
                continue;
            };
            let stored = self.account_ref(&r.source, &r.source_key);
            let key = (r.source.as_str(), r.source_key.as_str());
            out[i] = known(stored.map(|a| a.fingerprint), &mut in_batch, key, fp);
            if out[i].is_none() {
                new.push((i, fp, owner));
            }
        }
        let ids = self
            .cache
            .ids
            .take(&mut self.tx, "account", new.len())
            .await?;
        if ids.len() != new.len() {
            return Err(id_shortfall("account"));
        }
        let mut vals = Vec::with_capacity(new.len() * ACCOUNT_COLS.len());
        for (&(i, fp, owner), id) in new.iter().zip(ids) {
            let r = &recs[i];
            vals.extend([
                Val::int(id),
                Val::text(&r.source),
                Val::text(&r.source_key),
                Val::int(owner),
                Val::text(r.account_type.as_str()),
                Val::opt_date(r.opened_on),
                Val::opt_date(r.closed_on),
                Val::text(&r.currency),
                Val::opt_int(r.balance.map(minor)),
                Val::opt_int(r.credit_limit.map(minor)),
                Val::opt_int(r.branch.as_deref().and_then(|b| branches.get(b).copied())),
                Val::opt_owned(r.attributes.as_ref().map(|a| a.to_string())),
                Val::int(fp),
                Val::int(self.import_id),
            ]);
            self.cache
                .accounts
                .entry(r.source.clone())
                .or_default()
                .insert(
                    r.source_key.clone(),
                    AccountRef {
                        id,
                        customer_id: owner,
                        fingerprint: fp,
                    },
                );
            out[i] = Some(RowOutcome::Loaded);
        }
        self.tx
            .insert_rows(
                "account",
                ACCOUNT_COLS,
                &vals,
                OnConflict::Fail,
                &mut self.cache.staged,
            )
            .await?;
        Ok(finish(out))
    }

    async fn ensure_products(&mut self) -> Result<()> {
        if self.cache.products.is_some() {
            return Ok(());
        }
        let mut map = HashMap::new();
        on_conn!(&mut self.tx, c => {
            let mut rows = sqlx::query("SELECT code, id, fingerprint FROM product").fetch(c);
            while let Some(r) = rows.try_next().await? {
                map.insert(r.try_get::<String, _>(0)?, (r.try_get::<i64, _>(1)?, r.try_get::<i64, _>(2)?));
            }
        });
        self.cache.products = Some(map);
        Ok(())
    }

    pub(crate) async fn load_products(
        &mut self,
        recs: &[ProductRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.ensure_products().await?;
        let mut out = vec![None; recs.len()];
        let mut new: Vec<(usize, i64)> = Vec::new();
        let mut in_batch: HashMap<&str, i64> = HashMap::new();
        for (i, r) in recs.iter().enumerate() {
            let fp = fingerprint(r);
            let stored = self.cache.products.as_ref().and_then(|m| m.get(&r.code));
            out[i] = known(stored.map(|(_, f)| *f), &mut in_batch, r.code.as_str(), fp);
            if out[i].is_none() {
                new.push((i, fp));
            }
        }
        let ids = self
            .cache
            .ids
            .take(&mut self.tx, "product", new.len())
            .await?;
        if ids.len() != new.len() {
            return Err(id_shortfall("product"));
        }
        let mut vals = Vec::with_capacity(new.len() * PRODUCT_COLS.len());
        for (&(i, fp), id) in new.iter().zip(ids) {
            let r = &recs[i];
            vals.extend([
                Val::int(id),
                Val::text(&r.code),
                Val::text(&r.name),
                Val::text(&r.category),
                Val::int(i64::from(r.risk_level)),
                Val::int(fp),
                Val::int(self.import_id),
            ]);
            if let Some(m) = self.cache.products.as_mut() {
                m.insert(r.code.clone(), (id, fp));
            }
            out[i] = Some(RowOutcome::Loaded);
        }
        self.tx
            .insert_rows(
                "product",
                PRODUCT_COLS,
                &vals,
                OnConflict::Fail,
                &mut self.cache.staged,
            )
            .await?;
        Ok(finish(out))
    }

    pub(crate) async fn load_staff_users(
        &mut self,
        recs: &[StaffUserRecord],
    ) -> Result<Vec<RowOutcome>> {
        if self.cache.staff.is_none() {
            let mut map = HashMap::new();
            on_conn!(&mut self.tx, c => {
                let mut rows = sqlx::query("SELECT username, fingerprint FROM staff_user").fetch(c);
                while let Some(r) = rows.try_next().await? {
                    // Users created by the app have no fingerprint: any file row conflicts.
                    let fp: Option<i64> = r.try_get(1)?;
                    map.insert(r.try_get::<String, _>(0)?, fp.unwrap_or(0));
                }
            });
            self.cache.staff = Some(map);
        }
        let branches = self
            .branch_ids(recs.iter().filter_map(|r| r.branch.as_deref()))
            .await?;
        let mut out = vec![None; recs.len()];
        let mut vals = Vec::new();
        let mut in_batch: HashMap<&str, i64> = HashMap::new();
        for (i, r) in recs.iter().enumerate() {
            let fp = fingerprint(r);
            let stored = self.cache.staff.as_ref().and_then(|m| m.get(&r.username));
            out[i] = known(stored.copied(), &mut in_batch, r.username.as_str(), fp);
            if out[i].is_none() {
                vals.extend([
                    Val::text(&r.username),
                    Val::text(&r.display_name),
                    Val::text(r.role.as_str()),
                    Val::opt_int(r.branch.as_deref().and_then(|b| branches.get(b).copied())),
                    Val::int(fp),
                    Val::int(self.import_id),
                ]);
                out[i] = Some(RowOutcome::Loaded);
            }
        }
        self.tx
            .insert_rows(
                "staff_user",
                STAFF_COLS,
                &vals,
                OnConflict::Fail,
                &mut self.cache.staged,
            )
            .await?;
        if let Some(m) = self.cache.staff.as_mut() {
            for (k, fp) in in_batch {
                m.insert(k.to_string(), fp);
            }
        }
        Ok(finish(out))
    }

    // ----- per-source entities via load_batch -----------------------------

    /// Loads records of one per-source entity: makes the caches its
    /// references need ready, turns each record into a row (or the outcome
    /// rejecting it) and inserts the batch through [`Self::load_batch`].
    pub(crate) async fn load_rows<E: SourceEntity>(
        &mut self,
        recs: &[E],
    ) -> Result<Vec<RowOutcome>> {
        let needs = E::NEEDS;
        self.prepare(
            recs.iter().map(|r| r.source_and_key().0),
            needs.customers,
            needs.accounts,
        )
        .await?;
        if needs.products {
            self.ensure_products().await?;
        }
        let cols: Vec<&'static str> = ["source", "source_key"]
            .into_iter()
            .chain(E::COLS.iter().copied())
            .chain(["fingerprint", "import_id"])
            .collect();
        let mut b = Batch::new(recs.len());
        let mut cells = Vec::with_capacity(E::COLS.len());
        let refs = Refs(self);
        for (i, r) in recs.iter().enumerate() {
            cells.clear();
            if let Err(rejected) = r.cells(&refs, &mut cells) {
                b.reject(i, Some(rejected));
                continue;
            }
            let (source, key) = r.source_and_key();
            b.push(i, source, key, fingerprint(r), self.import_id, &mut cells);
        }
        self.load_batch(E::TABLE, &cols, b).await
    }
}

/// Which session caches the references of an entity need.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Needs {
    customers: bool,
    accounts: bool,
    products: bool,
}

const CUSTOMERS: Needs = Needs {
    customers: true,
    accounts: false,
    products: false,
};
const ACCOUNTS: Needs = Needs {
    customers: false,
    accounts: true,
    products: false,
};
const CUSTOMERS_AND_ACCOUNTS: Needs = Needs {
    customers: true,
    accounts: true,
    products: false,
};

/// The session's key caches, as an entity resolving its references sees
/// them; a key that is not there rejects the row as an unknown reference.
pub(crate) struct Refs<'s>(&'s SessionInner);

impl Refs<'_> {
    fn customer(&self, source: &str, key: &str) -> Result<CustomerId, RowOutcome> {
        self.0
            .customer_ref(source, key)
            .ok_or_else(|| unknown("customer_key", key))
    }

    fn account(&self, source: &str, key: &str) -> Result<AccountRef, RowOutcome> {
        self.0
            .account_ref(source, key)
            .ok_or_else(|| unknown("account_key", key))
    }

    fn product(&self, code: &str) -> Result<i64, RowOutcome> {
        self.0
            .cache
            .products
            .as_ref()
            .and_then(|m| m.get(code))
            .map(|(id, _)| *id)
            .ok_or_else(|| unknown("product_code", code))
    }
}

/// An entity keyed by `(source, source_key)`, loaded by
/// [`SessionInner::load_rows`]: its table, its columns and how one record
/// becomes one row. A row is `source, source_key`, then the cells of
/// [`Self::COLS`], then `fingerprint, import_id` (the fingerprint of the whole
/// record).
pub(crate) trait SourceEntity: serde::Serialize {
    const TABLE: &'static str;
    /// The columns between `source, source_key` and `fingerprint, import_id`.
    const COLS: &'static [&'static str];
    /// The caches [`Self::cells`] reads through [`Refs`].
    const NEEDS: Needs;
    /// The row's `source` and `source_key`.
    fn source_and_key(&self) -> (&str, Cow<'_, str>);
    /// Resolves the record's references and appends one cell per column of
    /// [`Self::COLS`], or returns the outcome rejecting the row.
    fn cells<'a>(&'a self, refs: &Refs<'_>, row: &mut Vec<Val<'a>>) -> Result<(), RowOutcome>;
}

impl SourceEntity for AccountRoleRecord {
    const TABLE: &'static str = "account_role";
    const COLS: &'static [&'static str] = &["account_id", "customer_id", "role"];
    const NEEDS: Needs = CUSTOMERS_AND_ACCOUNTS;
    fn source_and_key(&self) -> (&str, Cow<'_, str>) {
        (&self.source, Cow::Borrowed(&self.source_key))
    }
    fn cells<'a>(&'a self, refs: &Refs<'_>, row: &mut Vec<Val<'a>>) -> Result<(), RowOutcome> {
        let acc = refs.account(&self.source, &self.account_key)?;
        let cust = refs.customer(&self.source, &self.customer_key)?;
        row.extend([
            Val::int(acc.id),
            Val::int(cust),
            Val::text(self.role.as_str()),
        ]);
        Ok(())
    }
}

impl SourceEntity for TransactionRecord {
    const TABLE: &'static str = "txn";
    const COLS: &'static [&'static str] = &[
        "account_id",
        "customer_id",
        "booked_on",
        "amount",
        "balance_after",
        "channel",
        "category",
        "counterparty",
    ];
    const NEEDS: Needs = ACCOUNTS;
    fn source_and_key(&self) -> (&str, Cow<'_, str>) {
        (&self.source, Cow::Borrowed(&self.source_key))
    }
    fn cells<'a>(&'a self, refs: &Refs<'_>, row: &mut Vec<Val<'a>>) -> Result<(), RowOutcome> {
        let acc = refs.account(&self.source, &self.account_key)?;
        row.extend([
            Val::int(acc.id),
            Val::int(acc.customer_id),
            Val::date(self.booked_on),
            Val::int(self.amount.minor()),
            Val::opt_int(self.balance_after.map(minor)),
            Val::text(self.channel.as_str()),
            Val::text(self.category.as_str()),
            Val::opt_text(self.counterparty.as_deref()),
        ]);
        Ok(())
    }
}

impl SourceEntity for HoldingRecord {
    const TABLE: &'static str = "holding";
    const COLS: &'static [&'static str] = &[
        "customer_id",
        "product_id",
        "account_id",
        "opened_on",
        "closed_on",
        "amount",
    ];
    const NEEDS: Needs = Needs {
        products: true,
        ..CUSTOMERS_AND_ACCOUNTS
    };
    fn source_and_key(&self) -> (&str, Cow<'_, str>) {
        (&self.source, Cow::Borrowed(&self.source_key))
    }
    fn cells<'a>(&'a self, refs: &Refs<'_>, row: &mut Vec<Val<'a>>) -> Result<(), RowOutcome> {
        let cust = refs.customer(&self.source, &self.customer_key)?;
        let product = refs.product(&self.product_code)?;
        let account = match self.account_key.as_deref() {
            None => None,
            Some(k) => Some(refs.account(&self.source, k)?.id),
        };
        row.extend([
            Val::int(cust),
            Val::int(product),
            Val::opt_int(account),
            Val::opt_date(self.opened_on),
            Val::opt_date(self.closed_on),
            Val::opt_int(self.amount.map(minor)),
        ]);
        Ok(())
    }
}

impl SourceEntity for LoanRecord {
    const TABLE: &'static str = "loan";
    const COLS: &'static [&'static str] = &[
        "account_id",
        "customer_id",
        "granted_on",
        "amount",
        "duration_months",
        "monthly_payment",
        "status",
        "outcome",
        "days_past_due",
    ];
    const NEEDS: Needs = ACCOUNTS;
    fn source_and_key(&self) -> (&str, Cow<'_, str>) {
        (&self.source, Cow::Borrowed(&self.source_key))
    }
    fn cells<'a>(&'a self, refs: &Refs<'_>, row: &mut Vec<Val<'a>>) -> Result<(), RowOutcome> {
        let acc = refs.account(&self.source, &self.account_key)?;
        row.extend([
            Val::int(acc.id),
            Val::int(acc.customer_id),
            Val::date(self.granted_on),
            Val::int(self.amount.minor()),
            Val::int(i64::from(self.duration_months)),
            Val::int(self.monthly_payment.minor()),
            Val::text(self.status.as_str()),
            Val::text(self.status.outcome().as_str()),
            Val::int(i64::from(self.days_past_due)),
        ]);
        Ok(())
    }
}

impl SourceEntity for CardRecord {
    const TABLE: &'static str = "card";
    const COLS: &'static [&'static str] = &[
        "account_id",
        "customer_id",
        "card_type",
        "issued_on",
        "credit_limit",
    ];
    const NEEDS: Needs = CUSTOMERS_AND_ACCOUNTS;
    fn source_and_key(&self) -> (&str, Cow<'_, str>) {
        (&self.source, Cow::Borrowed(&self.source_key))
    }
    fn cells<'a>(&'a self, refs: &Refs<'_>, row: &mut Vec<Val<'a>>) -> Result<(), RowOutcome> {
        let acc = refs.account(&self.source, &self.account_key)?;
        // The holder: the named customer, else the account owner.
        let holder = match self.customer_key.as_deref() {
            None => acc.customer_id,
            Some(k) => refs.customer(&self.source, k)?,
        };
        row.extend([
            Val::int(acc.id),
            Val::int(holder),
            Val::text(self.card_type.as_str()),
            Val::opt_date(self.issued_on),
            Val::opt_int(self.credit_limit.map(minor)),
        ]);
        Ok(())
    }
}

impl SourceEntity for StandingOrderRecord {
    const TABLE: &'static str = "standing_order";
    const COLS: &'static [&'static str] = &[
        "account_id",
        "customer_id",
        "bank_to",
        "account_to",
        "amount",
        "category",
    ];
    const NEEDS: Needs = ACCOUNTS;
    fn source_and_key(&self) -> (&str, Cow<'_, str>) {
        (&self.source, Cow::Borrowed(&self.source_key))
    }
    fn cells<'a>(&'a self, refs: &Refs<'_>, row: &mut Vec<Val<'a>>) -> Result<(), RowOutcome> {
        let acc = refs.account(&self.source, &self.account_key)?;
        row.extend([
            Val::int(acc.id),
            Val::int(acc.customer_id),
            Val::opt_text(self.bank_to.as_deref()),
            Val::opt_text(self.account_to.as_deref()),
            Val::int(self.amount.minor()),
            Val::text(self.category.as_str()),
        ]);
        Ok(())
    }
}

impl SourceEntity for CardStatementRecord {
    const TABLE: &'static str = "card_statement";
    const COLS: &'static [&'static str] = &[
        "account_id",
        "customer_id",
        "statement_month",
        "bill_amount",
        "paid_amount",
        "repayment_status",
        "days_past_due",
    ];
    const NEEDS: Needs = ACCOUNTS;
    fn source_and_key(&self) -> (&str, Cow<'_, str>) {
        (&self.source, Cow::Borrowed(&self.source_key))
    }
    fn cells<'a>(&'a self, refs: &Refs<'_>, row: &mut Vec<Val<'a>>) -> Result<(), RowOutcome> {
        let acc = refs.account(&self.source, &self.account_key)?;
        row.extend([
            Val::int(acc.id),
            Val::int(acc.customer_id),
            Val::date(self.statement_month),
            Val::int(self.bill_amount.minor()),
            Val::int(self.paid_amount.minor()),
            Val::int(i64::from(self.repayment_status)),
            Val::int(i64::from(self.days_past_due)),
        ]);
        Ok(())
    }
}

impl SourceEntity for OutcomeRecord {
    const TABLE: &'static str = "outcome";
    const COLS: &'static [&'static str] = &[
        "customer_id",
        "customer_key",
        "label",
        "value",
        "observed_on",
    ];
    const NEEDS: Needs = CUSTOMERS;
    /// Outcomes have no key of their own: one per (customer key, label).
    fn source_and_key(&self) -> (&str, Cow<'_, str>) {
        (&self.source, Cow::Owned(outcome_key(self)))
    }
    fn cells<'a>(&'a self, refs: &Refs<'_>, row: &mut Vec<Val<'a>>) -> Result<(), RowOutcome> {
        let cust = refs.customer(&self.source, &self.customer_key)?;
        row.extend([
            Val::int(cust),
            Val::text(&self.customer_key),
            Val::text(&self.label),
            Val::int(i64::from(self.value)),
            Val::opt_date(self.observed_on),
        ]);
        Ok(())
    }
}

impl SourceEntity for InteractionRecord {
    const TABLE: &'static str = "interaction";
    const COLS: &'static [&'static str] = &[
        "customer_id",
        "occurred_on",
        "channel",
        "kind",
        "outcome",
        "note",
    ];
    const NEEDS: Needs = CUSTOMERS;
    fn source_and_key(&self) -> (&str, Cow<'_, str>) {
        (&self.source, Cow::Borrowed(&self.source_key))
    }
    fn cells<'a>(&'a self, refs: &Refs<'_>, row: &mut Vec<Val<'a>>) -> Result<(), RowOutcome> {
        let cust = refs.customer(&self.source, &self.customer_key)?;
        row.extend([
            Val::int(cust),
            Val::date(self.occurred_on),
            Val::text(self.channel.as_str()),
            Val::text(&self.kind),
            Val::opt_text(self.outcome.as_deref()),
            Val::opt_text(self.note.as_deref()),
        ]);
        Ok(())
    }
}

impl SourceEntity for CaseRecord {
    const TABLE: &'static str = "service_case";
    const COLS: &'static [&'static str] = &[
        "customer_id",
        "opened_on",
        "kind",
        "category",
        "severity",
        "status",
        "description",
        "closed_on",
    ];
    const NEEDS: Needs = CUSTOMERS;
    fn source_and_key(&self) -> (&str, Cow<'_, str>) {
        (&self.source, Cow::Borrowed(&self.source_key))
    }
    fn cells<'a>(&'a self, refs: &Refs<'_>, row: &mut Vec<Val<'a>>) -> Result<(), RowOutcome> {
        let cust = refs.customer(&self.source, &self.customer_key)?;
        row.extend([
            Val::int(cust),
            Val::date(self.opened_on),
            Val::text(self.kind.as_str()),
            Val::opt_text(self.category.as_deref()),
            Val::text(self.severity.as_str()),
            Val::text(&self.status),
            Val::opt_text(self.description.as_deref()),
            Val::opt_date(self.closed_on),
        ]);
        Ok(())
    }
}

impl SourceEntity for SurveyResponseRecord {
    const TABLE: &'static str = "survey_response";
    const COLS: &'static [&'static str] = &[
        "customer_id",
        "survey",
        "kind",
        "answered_on",
        "question",
        "score",
        "answer_text",
    ];
    const NEEDS: Needs = CUSTOMERS;
    fn source_and_key(&self) -> (&str, Cow<'_, str>) {
        (&self.source, Cow::Borrowed(&self.source_key))
    }
    fn cells<'a>(&'a self, refs: &Refs<'_>, row: &mut Vec<Val<'a>>) -> Result<(), RowOutcome> {
        let cust = refs.customer(&self.source, &self.customer_key)?;
        row.extend([
            Val::int(cust),
            Val::text(&self.survey),
            Val::text(self.kind.as_str()),
            Val::date(self.answered_on),
            Val::text(&self.question),
            Val::opt_int(self.score.map(i64::from)),
            Val::opt_text(self.answer_text.as_deref()),
        ]);
        Ok(())
    }
}

impl SourceEntity for ConsentRecord {
    const TABLE: &'static str = "consent";
    const COLS: &'static [&'static str] = &[
        "customer_id",
        "channel",
        "purpose",
        "granted",
        "recorded_on",
        "revoked_on",
    ];
    const NEEDS: Needs = CUSTOMERS;
    fn source_and_key(&self) -> (&str, Cow<'_, str>) {
        (&self.source, Cow::Borrowed(&self.source_key))
    }
    fn cells<'a>(&'a self, refs: &Refs<'_>, row: &mut Vec<Val<'a>>) -> Result<(), RowOutcome> {
        let cust = refs.customer(&self.source, &self.customer_key)?;
        row.extend([
            Val::int(cust),
            Val::text(self.channel.as_str()),
            Val::text(self.purpose.as_str()),
            Val::Bool(self.granted),
            Val::date(self.recorded_on),
            Val::opt_date(self.revoked_on),
        ]);
        Ok(())
    }
}
