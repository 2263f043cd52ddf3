//! Batch loaders: one `load_*` per entity, each turning records into rows,
//! resolving the keys they reference through the session caches, and
//! reporting one [`RowOutcome`] per record in input order.
//!
//! Two strategies. Entities whose ids other rows reference (accounts,
//! products) and small keyed tables (staff users) are checked against a
//! complete in-memory key map and bulk-inserted with ids the session assigns.
//! Everything else (transactions and the other per-source entities) goes
//! through [`SessionInner::load_batch`]: one bulk insert that skips existing
//! `(source, source_key)` pairs and returns the keys it inserted, so existence
//! costs nothing extra; only the keys it skipped are looked up, in bulk, to
//! tell `Unchanged` from `Conflict`. Never decides content: records arrive clean.

use crate::dialect::{on_conn, OnConflict, Tx, Val};
use crate::import::*;
use crate::keys::KeyState;
use crate::session::{AccountRef, SessionInner};
use crate::{FastMap, Result, StoreError};
use futures::TryStreamExt;
use rapport_domain::*;
use sqlx::Row;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

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
const ROLE_COLS: &[&str] = &[
    "source",
    "source_key",
    "account_id",
    "customer_id",
    "role",
    "fingerprint",
    "import_id",
];
const TXN_COLS: &[&str] = &[
    "source",
    "source_key",
    "account_id",
    "customer_id",
    "booked_on",
    "amount",
    "balance_after",
    "channel",
    "category",
    "counterparty",
    "fingerprint",
    "import_id",
];
const HOLDING_COLS: &[&str] = &[
    "source",
    "source_key",
    "customer_id",
    "product_id",
    "account_id",
    "opened_on",
    "closed_on",
    "amount",
    "fingerprint",
    "import_id",
];
const LOAN_COLS: &[&str] = &[
    "source",
    "source_key",
    "account_id",
    "customer_id",
    "granted_on",
    "amount",
    "duration_months",
    "monthly_payment",
    "status",
    "outcome",
    "days_past_due",
    "fingerprint",
    "import_id",
];
const CARD_COLS: &[&str] = &[
    "source",
    "source_key",
    "account_id",
    "customer_id",
    "card_type",
    "issued_on",
    "credit_limit",
    "fingerprint",
    "import_id",
];
const STANDING_ORDER_COLS: &[&str] = &[
    "source",
    "source_key",
    "account_id",
    "customer_id",
    "bank_to",
    "account_to",
    "amount",
    "category",
    "fingerprint",
    "import_id",
];
const CARD_STATEMENT_COLS: &[&str] = &[
    "source",
    "source_key",
    "account_id",
    "customer_id",
    "statement_month",
    "bill_amount",
    "paid_amount",
    "repayment_status",
    "days_past_due",
    "fingerprint",
    "import_id",
];
const OUTCOME_COLS: &[&str] = &[
    "source",
    "source_key",
    "customer_id",
    "customer_key",
    "label",
    "value",
    "observed_on",
    "fingerprint",
    "import_id",
];
const INTERACTION_COLS: &[&str] = &[
    "source",
    "source_key",
    "customer_id",
    "occurred_on",
    "channel",
    "kind",
    "outcome",
    "note",
    "fingerprint",
    "import_id",
];
const CASE_COLS: &[&str] = &[
    "source",
    "source_key",
    "customer_id",
    "opened_on",
    "kind",
    "category",
    "severity",
    "status",
    "description",
    "closed_on",
    "fingerprint",
    "import_id",
];
const SURVEY_COLS: &[&str] = &[
    "source",
    "source_key",
    "customer_id",
    "survey",
    "kind",
    "answered_on",
    "question",
    "score",
    "answer_text",
    "fingerprint",
    "import_id",
];
const CONSENT_COLS: &[&str] = &[
    "source",
    "source_key",
    "customer_id",
    "channel",
    "purpose",
    "granted",
    "recorded_on",
    "revoked_on",
    "fingerprint",
    "import_id",
];

fn unknown(field: &'static str, key: &str) -> Option<RowOutcome> {
    Some(RowOutcome::UnknownReference {
        field,
        key: key.to_string(),
    })
}

fn compare(stored: i64, fingerprint: i64) -> Option<RowOutcome> {
    Some(if stored == fingerprint {
        RowOutcome::Unchanged
    } else {
        RowOutcome::Conflict
    })
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

    fn push<const N: usize>(
        &mut self,
        idx: usize,
        source: &'a str,
        key: Cow<'a, str>,
        fingerprint: i64,
        vals: [Val<'a>; N],
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
            g.cands.push(Candidate {
                idx,
                key,
                fingerprint,
            });
            g.vals.extend(vals);
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
        cols: &'static [&'static str],
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
                out[i] = unknown("customer_key", &r.customer_key);
                continue;
            };
            if let Some(acc) = self.account_ref(&r.source, &r.source_key) {
                out[i] = compare(acc.fingerprint, fp);
            } else if let Some(f) = in_batch.get(&(r.source.as_str(), r.source_key.as_str())) {
                out[i] = compare(*f, fp);
            } else {
                in_batch.insert((&r.source, &r.source_key), fp);
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
            if let Some((_, stored)) = self.cache.products.as_ref().and_then(|m| m.get(&r.code)) {
                out[i] = compare(*stored, fp);
            } else if let Some(f) = in_batch.get(r.code.as_str()) {
                out[i] = compare(*f, fp);
            } else {
                in_batch.insert(&r.code, fp);
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
            if let Some(stored) = self.cache.staff.as_ref().and_then(|m| m.get(&r.username)) {
                out[i] = compare(*stored, fp);
            } else if let Some(f) = in_batch.get(r.username.as_str()) {
                out[i] = compare(*f, fp);
            } else {
                in_batch.insert(&r.username, fp);
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

    pub(crate) async fn load_account_roles(
        &mut self,
        recs: &[AccountRoleRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.prepare(recs.iter().map(|r| r.source.as_str()), true, true)
            .await?;
        let mut b = Batch::new(recs.len());
        for (i, r) in recs.iter().enumerate() {
            let Some(acc) = self.account_ref(&r.source, &r.account_key) else {
                b.reject(i, unknown("account_key", &r.account_key));
                continue;
            };
            let Some(cust) = self.customer_ref(&r.source, &r.customer_key) else {
                b.reject(i, unknown("customer_key", &r.customer_key));
                continue;
            };
            let fp = fingerprint(r);
            b.push(
                i,
                &r.source,
                Cow::Borrowed(r.source_key.as_str()),
                fp,
                [
                    Val::text(&r.source),
                    Val::text(&r.source_key),
                    Val::int(acc.id),
                    Val::int(cust),
                    Val::text(r.role.as_str()),
                    Val::int(fp),
                    Val::int(self.import_id),
                ],
            );
        }
        self.load_batch("account_role", ROLE_COLS, b).await
    }

    pub(crate) async fn load_transactions(
        &mut self,
        recs: &[TransactionRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.prepare(recs.iter().map(|r| r.source.as_str()), false, true)
            .await?;
        let mut b = Batch::new(recs.len());
        for (i, r) in recs.iter().enumerate() {
            let Some(acc) = self.account_ref(&r.source, &r.account_key) else {
                b.reject(i, unknown("account_key", &r.account_key));
                continue;
            };
            let fp = fingerprint(r);
            b.push(
                i,
                &r.source,
                Cow::Borrowed(r.source_key.as_str()),
                fp,
                [
                    Val::text(&r.source),
                    Val::text(&r.source_key),
                    Val::int(acc.id),
                    Val::int(acc.customer_id),
                    Val::date(r.booked_on),
                    Val::int(r.amount.minor()),
                    Val::opt_int(r.balance_after.map(minor)),
                    Val::text(r.channel.as_str()),
                    Val::text(r.category.as_str()),
                    Val::opt_text(r.counterparty.as_deref()),
                    Val::int(fp),
                    Val::int(self.import_id),
                ],
            );
        }
        self.load_batch("txn", TXN_COLS, b).await
    }

    pub(crate) async fn load_holdings(
        &mut self,
        recs: &[HoldingRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.prepare(recs.iter().map(|r| r.source.as_str()), true, true)
            .await?;
        self.ensure_products().await?;
        let mut b = Batch::new(recs.len());
        for (i, r) in recs.iter().enumerate() {
            let Some(cust) = self.customer_ref(&r.source, &r.customer_key) else {
                b.reject(i, unknown("customer_key", &r.customer_key));
                continue;
            };
            let Some((product, _)) = self
                .cache
                .products
                .as_ref()
                .and_then(|m| m.get(&r.product_code))
                .copied()
            else {
                b.reject(i, unknown("product_code", &r.product_code));
                continue;
            };
            let account = match r.account_key.as_deref() {
                None => None,
                Some(k) => match self.account_ref(&r.source, k) {
                    Some(a) => Some(a.id),
                    None => {
                        b.reject(i, unknown("account_key", k));
                        continue;
                    }
                },
            };
            let fp = fingerprint(r);
            b.push(
                i,
                &r.source,
                Cow::Borrowed(r.source_key.as_str()),
                fp,
                [
                    Val::text(&r.source),
                    Val::text(&r.source_key),
                    Val::int(cust),
                    Val::int(product),
                    Val::opt_int(account),
                    Val::opt_date(r.opened_on),
                    Val::opt_date(r.closed_on),
                    Val::opt_int(r.amount.map(minor)),
                    Val::int(fp),
                    Val::int(self.import_id),
                ],
            );
        }
        self.load_batch("holding", HOLDING_COLS, b).await
    }

    pub(crate) async fn load_loans(&mut self, recs: &[LoanRecord]) -> Result<Vec<RowOutcome>> {
        self.prepare(recs.iter().map(|r| r.source.as_str()), false, true)
            .await?;
        let mut b = Batch::new(recs.len());
        for (i, r) in recs.iter().enumerate() {
            let Some(acc) = self.account_ref(&r.source, &r.account_key) else {
                b.reject(i, unknown("account_key", &r.account_key));
                continue;
            };
            let fp = fingerprint(r);
            b.push(
                i,
                &r.source,
                Cow::Borrowed(r.source_key.as_str()),
                fp,
                [
                    Val::text(&r.source),
                    Val::text(&r.source_key),
                    Val::int(acc.id),
                    Val::int(acc.customer_id),
                    Val::date(r.granted_on),
                    Val::int(r.amount.minor()),
                    Val::int(i64::from(r.duration_months)),
                    Val::int(r.monthly_payment.minor()),
                    Val::text(r.status.as_str()),
                    Val::text(r.status.outcome().as_str()),
                    Val::int(i64::from(r.days_past_due)),
                    Val::int(fp),
                    Val::int(self.import_id),
                ],
            );
        }
        self.load_batch("loan", LOAN_COLS, b).await
    }

    pub(crate) async fn load_cards(&mut self, recs: &[CardRecord]) -> Result<Vec<RowOutcome>> {
        self.prepare(recs.iter().map(|r| r.source.as_str()), true, true)
            .await?;
        let mut b = Batch::new(recs.len());
        for (i, r) in recs.iter().enumerate() {
            let Some(acc) = self.account_ref(&r.source, &r.account_key) else {
                b.reject(i, unknown("account_key", &r.account_key));
                continue;
            };
            // The holder: the named customer, else the account owner.
            let holder = match r.customer_key.as_deref() {
                None => acc.customer_id,
                Some(k) => match self.customer_ref(&r.source, k) {
                    Some(c) => c,
                    None => {
                        b.reject(i, unknown("customer_key", k));
                        continue;
                    }
                },
            };
            let fp = fingerprint(r);
            b.push(
                i,
                &r.source,
                Cow::Borrowed(r.source_key.as_str()),
                fp,
                [
                    Val::text(&r.source),
                    Val::text(&r.source_key),
                    Val::int(acc.id),
                    Val::int(holder),
                    Val::text(r.card_type.as_str()),
                    Val::opt_date(r.issued_on),
                    Val::opt_int(r.credit_limit.map(minor)),
                    Val::int(fp),
                    Val::int(self.import_id),
                ],
            );
        }
        self.load_batch("card", CARD_COLS, b).await
    }

    pub(crate) async fn load_standing_orders(
        &mut self,
        recs: &[StandingOrderRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.prepare(recs.iter().map(|r| r.source.as_str()), false, true)
            .await?;
        let mut b = Batch::new(recs.len());
        for (i, r) in recs.iter().enumerate() {
            let Some(acc) = self.account_ref(&r.source, &r.account_key) else {
                b.reject(i, unknown("account_key", &r.account_key));
                continue;
            };
            let fp = fingerprint(r);
            b.push(
                i,
                &r.source,
                Cow::Borrowed(r.source_key.as_str()),
                fp,
                [
                    Val::text(&r.source),
                    Val::text(&r.source_key),
                    Val::int(acc.id),
                    Val::int(acc.customer_id),
                    Val::opt_text(r.bank_to.as_deref()),
                    Val::opt_text(r.account_to.as_deref()),
                    Val::int(r.amount.minor()),
                    Val::text(r.category.as_str()),
                    Val::int(fp),
                    Val::int(self.import_id),
                ],
            );
        }
        self.load_batch("standing_order", STANDING_ORDER_COLS, b)
            .await
    }

    pub(crate) async fn load_card_statements(
        &mut self,
        recs: &[CardStatementRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.prepare(recs.iter().map(|r| r.source.as_str()), false, true)
            .await?;
        let mut b = Batch::new(recs.len());
        for (i, r) in recs.iter().enumerate() {
            let Some(acc) = self.account_ref(&r.source, &r.account_key) else {
                b.reject(i, unknown("account_key", &r.account_key));
                continue;
            };
            let fp = fingerprint(r);
            b.push(
                i,
                &r.source,
                Cow::Borrowed(r.source_key.as_str()),
                fp,
                [
                    Val::text(&r.source),
                    Val::text(&r.source_key),
                    Val::int(acc.id),
                    Val::int(acc.customer_id),
                    Val::date(r.statement_month),
                    Val::int(r.bill_amount.minor()),
                    Val::int(r.paid_amount.minor()),
                    Val::int(i64::from(r.repayment_status)),
                    Val::int(i64::from(r.days_past_due)),
                    Val::int(fp),
                    Val::int(self.import_id),
                ],
            );
        }
        self.load_batch("card_statement", CARD_STATEMENT_COLS, b)
            .await
    }

    pub(crate) async fn load_outcomes(
        &mut self,
        recs: &[OutcomeRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.prepare(recs.iter().map(|r| r.source.as_str()), true, false)
            .await?;
        let mut b = Batch::new(recs.len());
        for (i, r) in recs.iter().enumerate() {
            let Some(cust) = self.customer_ref(&r.source, &r.customer_key) else {
                b.reject(i, unknown("customer_key", &r.customer_key));
                continue;
            };
            let fp = fingerprint(r);
            let key = outcome_key(r);
            b.push(
                i,
                &r.source,
                Cow::Owned(key.clone()),
                fp,
                [
                    Val::text(&r.source),
                    Val::owned(key),
                    Val::int(cust),
                    Val::text(&r.customer_key),
                    Val::text(&r.label),
                    Val::int(i64::from(r.value)),
                    Val::opt_date(r.observed_on),
                    Val::int(fp),
                    Val::int(self.import_id),
                ],
            );
        }
        self.load_batch("outcome", OUTCOME_COLS, b).await
    }

    pub(crate) async fn load_interactions(
        &mut self,
        recs: &[InteractionRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.prepare(recs.iter().map(|r| r.source.as_str()), true, false)
            .await?;
        let mut b = Batch::new(recs.len());
        for (i, r) in recs.iter().enumerate() {
            let Some(cust) = self.customer_ref(&r.source, &r.customer_key) else {
                b.reject(i, unknown("customer_key", &r.customer_key));
                continue;
            };
            let fp = fingerprint(r);
            b.push(
                i,
                &r.source,
                Cow::Borrowed(r.source_key.as_str()),
                fp,
                [
                    Val::text(&r.source),
                    Val::text(&r.source_key),
                    Val::int(cust),
                    Val::date(r.occurred_on),
                    Val::text(r.channel.as_str()),
                    Val::text(&r.kind),
                    Val::opt_text(r.outcome.as_deref()),
                    Val::opt_text(r.note.as_deref()),
                    Val::int(fp),
                    Val::int(self.import_id),
                ],
            );
        }
        self.load_batch("interaction", INTERACTION_COLS, b).await
    }

    pub(crate) async fn load_cases(&mut self, recs: &[CaseRecord]) -> Result<Vec<RowOutcome>> {
        self.prepare(recs.iter().map(|r| r.source.as_str()), true, false)
            .await?;
        let mut b = Batch::new(recs.len());
        for (i, r) in recs.iter().enumerate() {
            let Some(cust) = self.customer_ref(&r.source, &r.customer_key) else {
                b.reject(i, unknown("customer_key", &r.customer_key));
                continue;
            };
            let fp = fingerprint(r);
            b.push(
                i,
                &r.source,
                Cow::Borrowed(r.source_key.as_str()),
                fp,
                [
                    Val::text(&r.source),
                    Val::text(&r.source_key),
                    Val::int(cust),
                    Val::date(r.opened_on),
                    Val::text(r.kind.as_str()),
                    Val::opt_text(r.category.as_deref()),
                    Val::text(r.severity.as_str()),
                    Val::text(&r.status),
                    Val::opt_text(r.description.as_deref()),
                    Val::opt_date(r.closed_on),
                    Val::int(fp),
                    Val::int(self.import_id),
                ],
            );
        }
        self.load_batch("service_case", CASE_COLS, b).await
    }

    pub(crate) async fn load_survey_responses(
        &mut self,
        recs: &[SurveyResponseRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.prepare(recs.iter().map(|r| r.source.as_str()), true, false)
            .await?;
        let mut b = Batch::new(recs.len());
        for (i, r) in recs.iter().enumerate() {
            let Some(cust) = self.customer_ref(&r.source, &r.customer_key) else {
                b.reject(i, unknown("customer_key", &r.customer_key));
                continue;
            };
            let fp = fingerprint(r);
            b.push(
                i,
                &r.source,
                Cow::Borrowed(r.source_key.as_str()),
                fp,
                [
                    Val::text(&r.source),
                    Val::text(&r.source_key),
                    Val::int(cust),
                    Val::text(&r.survey),
                    Val::text(r.kind.as_str()),
                    Val::date(r.answered_on),
                    Val::text(&r.question),
                    Val::opt_int(r.score.map(i64::from)),
                    Val::opt_text(r.answer_text.as_deref()),
                    Val::int(fp),
                    Val::int(self.import_id),
                ],
            );
        }
        self.load_batch("survey_response", SURVEY_COLS, b).await
    }

    pub(crate) async fn load_consents(
        &mut self,
        recs: &[ConsentRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.prepare(recs.iter().map(|r| r.source.as_str()), true, false)
            .await?;
        let mut b = Batch::new(recs.len());
        for (i, r) in recs.iter().enumerate() {
            let Some(cust) = self.customer_ref(&r.source, &r.customer_key) else {
                b.reject(i, unknown("customer_key", &r.customer_key));
                continue;
            };
            let fp = fingerprint(r);
            b.push(
                i,
                &r.source,
                Cow::Borrowed(r.source_key.as_str()),
                fp,
                [
                    Val::text(&r.source),
                    Val::text(&r.source_key),
                    Val::int(cust),
                    Val::text(r.channel.as_str()),
                    Val::text(r.purpose.as_str()),
                    Val::Bool(r.granted),
                    Val::date(r.recorded_on),
                    Val::opt_date(r.revoked_on),
                    Val::int(fp),
                    Val::int(self.import_id),
                ],
            );
        }
        self.load_batch("consent", CONSENT_COLS, b).await
    }
}
