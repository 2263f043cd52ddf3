//! The import session: one open transaction plus the key caches that make
//! loading fast, the `import_file` bookkeeping, branches, customers (with
//! their source keys, flags and merges) and the quarantine.
//!
//! Caches are complete views of what the transaction can see: a source's
//! customer or account keys are read once, in one query, the first time the
//! source is touched, and every insert updates them. New customers are
//! buffered with ids the session assigns and flushed in bulk before anything
//! reads or references them; identity candidates are pre-screened by an
//! in-memory filter of hashed ID numbers and phones, so that a new customer
//! costs no query. Entity loaders live in `loaders.rs`.
//! Never logs personal data: only counts, ids and import ids.

use crate::dialect::{on_conn, IdAllocator, OnConflict, Tx, Val};
use crate::import::*;
use crate::{FastMap, Result, Store, StoreError};
use futures::TryStreamExt;
use rapport_domain::identity::MergeRule;
use rapport_domain::*;
use sqlx::Row;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

/// SQLite page cache of an import session (negative = KiB).
const SQLITE_IMPORT_CACHE_KIB: &str = "-262144";

/// Customers buffered before one bulk insert.
const CUSTOMER_FLUSH_ROWS: usize = 10_000;

const CUSTOMER_COLS: &[&str] = &[
    "id",
    "name",
    "gender",
    "birth_date",
    "id_number",
    "phone",
    "email",
    "city",
    "occupation",
    "annual_income",
    "risk_tolerance",
    "risk_assessed_on",
    "branch_id",
    "attributes",
];
const SOURCE_KEY_COLS: &[&str] = &[
    "source",
    "source_key",
    "customer_id",
    "fingerprint",
    "import_id",
];
const FLAG_COLS: &[&str] = &["entity", "entity_id", "field", "reason", "import_id"];
const QUARANTINE_COLS: &[&str] = &["import_id", "line", "field", "reason", "detail", "raw"];

/// A stored account as the loaders need it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AccountRef {
    pub(crate) id: i64,
    /// The owner (`account.customer_id`).
    pub(crate) customer_id: CustomerId,
    pub(crate) fingerprint: i64,
}

/// A customer inserted by this session but not yet written.
struct PendingCustomer {
    id: CustomerId,
    fingerprint: i64,
    branch_id: Option<i64>,
    rec: CustomerRecord,
}

#[derive(Debug, Clone, Copy, Hash)]
enum IdentityField {
    IdNumber,
    Phone,
}

/// Hashes of the ID numbers and phones of every customer the session can see
/// (stored or buffered). A miss proves there is no identity candidate without
/// asking the database; a hit (or a rare hash collision) is confirmed by a query.
#[derive(Default)]
struct IdentityFilter {
    hashes: HashSet<u64>,
}

impl IdentityFilter {
    fn hash(field: IdentityField, value: &str) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        field.hash(&mut h);
        value.hash(&mut h);
        h.finish()
    }

    fn add(&mut self, id_number: Option<&str>, phone: Option<&str>) {
        if let Some(v) = id_number {
            self.hashes.insert(Self::hash(IdentityField::IdNumber, v));
        }
        if let Some(v) = phone {
            self.hashes.insert(Self::hash(IdentityField::Phone, v));
        }
    }

    fn might_hold(&self, field: IdentityField, value: &str) -> bool {
        self.hashes.contains(&Self::hash(field, value))
    }
}

pub(crate) struct SessionInner {
    pub(crate) import_id: i64,
    pub(crate) tx: Tx,
    /// Boxed: keeps `ImportSession` (and so `ImportStart`) small.
    pub(crate) cache: Box<SessionCache>,
}

/// What a session remembers between calls.
#[derive(Default)]
pub(crate) struct SessionCache {
    pub(crate) ids: IdAllocator,
    /// PostgreSQL staging tables created in this transaction.
    pub(crate) staged: HashSet<&'static str>,
    branches: Option<HashMap<String, i64>>,
    /// Product code → (id, fingerprint).
    pub(crate) products: Option<HashMap<String, (i64, i64)>>,
    /// Staff username → fingerprint.
    pub(crate) staff: Option<HashMap<String, i64>>,
    /// Source → customer source key → (customer id, fingerprint).
    pub(crate) customers: FastMap<String, FastMap<String, (CustomerId, i64)>>,
    /// Source → account source key → account.
    pub(crate) accounts: FastMap<String, FastMap<String, AccountRef>>,
    /// Rows waiting for their COPY (PostgreSQL).
    pub(crate) copies: crate::dialect::PendingCopies,
    /// (table, source) → what the session knows about that source's keys in that table.
    pub(crate) keys: HashMap<(&'static str, String), crate::keys::KeyState>,
    /// New customers not yet written (see `flush_customers`).
    pending: Vec<PendingCustomer>,
    identity: Option<IdentityFilter>,
}

/// Opens the transaction and records the file, or reports a completed import.
pub(crate) async fn begin_import(store: &Store, file: &ImportFile) -> Result<ImportStart> {
    let mut tx = match store {
        // IMMEDIATE takes SQLite's write lock now, so the session's id counters
        // and caches cannot be raced by another writer.
        Store::Sqlite(p) => {
            let mut t = p.begin_with("BEGIN IMMEDIATE").await?;
            // A bulk load touches more pages than a query: a larger page cache keeps
            // the indexes' hot pages in memory instead of spilling them to the WAL
            // and reading them back. Restored at commit.
            sqlx::query(&format!("PRAGMA cache_size = {SQLITE_IMPORT_CACHE_KIB}"))
                .execute(&mut *t)
                .await?;
            Tx::Sqlite(t)
        }
        Store::Postgres(p) => Tx::Postgres(p.begin().await?),
    };
    let existing = on_conn!(&mut tx, c => {
        let row = sqlx::query(
            "SELECT id, status, path, read, loaded, merged, rejected FROM import_file \
             WHERE kind = $1 AND sha256 = $2",
        )
        .bind(&file.kind)
        .bind(&file.sha256)
        .fetch_optional(c)
        .await?;
        match row {
            Some(r) => Some(ExistingImport {
                id: r.try_get(0)?,
                status: r.try_get(1)?,
                path: r.try_get(2)?,
                counts: [r.try_get(3)?, r.try_get(4)?, r.try_get(5)?, r.try_get(6)?],
            }),
            None => None,
        }
    });
    let import_id = match existing {
        Some(e) => {
            let id = e.id;
            if e.status == "complete" {
                let [read, loaded, merged, rejected] = e.counts.map(to_u64);
                let summary = FileSummary {
                    file: e.path,
                    kind: file.kind.clone(),
                    read,
                    loaded,
                    merged,
                    rejected,
                };
                rollback(tx).await?;
                tracing::info!(import.id = id, kind = %file.kind, "file already imported");
                return Ok(ImportStart::AlreadyImported(summary));
            }
            // A 'running' row can only be seen if it was committed unfinished;
            // its rows are the ones this session will reconcile against.
            let sql = format!(
                "UPDATE import_file SET source = $2, path = $3, started_at = {} WHERE id = $1",
                tx.now_sql()
            );
            on_conn!(&mut tx, c => {
                sqlx::query(&sql).bind(id).bind(&file.source).bind(&file.path).execute(c).await?;
            });
            id
        }
        None => on_conn!(&mut tx, c => {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO import_file (kind, source, path, sha256, status) \
                 VALUES ($1, $2, $3, $4, 'running') RETURNING id",
            )
            .bind(&file.kind)
            .bind(&file.source)
            .bind(&file.path)
            .bind(&file.sha256)
            .fetch_one(c)
            .await?
        }),
    };
    tracing::info!(import.id = import_id, kind = %file.kind, source = %file.source, "import started");
    Ok(ImportStart::Started(ImportSession {
        inner: SessionInner::new(import_id, tx),
    }))
}

/// The `import_file` row of a file seen before.
struct ExistingImport {
    id: i64,
    status: String,
    path: String,
    /// read, loaded, merged, rejected
    counts: [i64; 4],
}

async fn rollback(tx: Tx) -> Result<()> {
    match tx {
        Tx::Sqlite(t) => t.rollback().await?,
        Tx::Postgres(t) => t.rollback().await?,
    }
    Ok(())
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl SessionInner {
    fn new(import_id: i64, tx: Tx) -> Self {
        SessionInner {
            import_id,
            tx,
            cache: Box::default(),
        }
    }

    /// Records the summary, marks the import complete and commits.
    pub(crate) async fn commit(mut self, summary: &FileSummary) -> Result<()> {
        self.flush_customers().await?;
        self.cache.copies.flush_all(&mut self.tx).await?;
        let sql = format!(
            "UPDATE import_file SET status = 'complete', read = $2, loaded = $3, merged = $4, \
             rejected = $5, finished_at = {} WHERE id = $1",
            self.tx.now_sql()
        );
        on_conn!(&mut self.tx, c => {
            sqlx::query(&sql)
                .bind(self.import_id)
                .bind(to_i64(summary.read))
                .bind(to_i64(summary.loaded))
                .bind(to_i64(summary.merged))
                .bind(to_i64(summary.rejected))
                .execute(c)
                .await?;
        });
        match self.tx {
            Tx::Sqlite(mut t) => {
                sqlx::query(&format!(
                    "PRAGMA cache_size = {}",
                    crate::schema::SQLITE_CACHE_KIB
                ))
                .execute(&mut *t)
                .await?;
                t.commit().await?
            }
            Tx::Postgres(t) => t.commit().await?,
        }
        tracing::info!(
            import.id = self.import_id,
            read = summary.read,
            loaded = summary.loaded,
            merged = summary.merged,
            rejected = summary.rejected,
            "import committed"
        );
        Ok(())
    }

    /// Keeps rejected rows; a second entry for the same line of this import is ignored.
    pub(crate) async fn quarantine(&mut self, rows: &[QuarantineEntry]) -> Result<()> {
        let mut vals = Vec::with_capacity(rows.len() * QUARANTINE_COLS.len());
        for r in rows {
            vals.extend([
                Val::int(self.import_id),
                Val::int(to_i64(r.line)),
                Val::opt_text(r.field.as_deref()),
                Val::text(&r.reason),
                Val::text(&r.detail),
                Val::text(&r.raw),
            ]);
        }
        self.tx
            .insert_rows(
                "quarantine",
                QUARANTINE_COLS,
                &vals,
                OnConflict::Ignore("import_id, line"),
                &mut self.cache.staged,
            )
            .await?;
        Ok(())
    }

    // ----- branches -------------------------------------------------------

    async fn ensure_branches(&mut self) -> Result<()> {
        if self.cache.branches.is_some() {
            return Ok(());
        }
        let mut map = HashMap::new();
        on_conn!(&mut self.tx, c => {
            let mut rows = sqlx::query("SELECT code, id FROM branch").fetch(c);
            while let Some(r) = rows.try_next().await? {
                map.insert(r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?);
            }
        });
        self.cache.branches = Some(map);
        Ok(())
    }

    pub(crate) async fn upsert_branch(&mut self, rec: &BranchRecord) -> Result<()> {
        self.ensure_branches().await?;
        let attributes = rec.attributes.to_string();
        let id = on_conn!(&mut self.tx, c => {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO branch (code, name, city, region, attributes) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
                 city = COALESCE(excluded.city, branch.city), \
                 region = COALESCE(excluded.region, branch.region), \
                 attributes = excluded.attributes \
                 RETURNING id",
            )
            .bind(&rec.code)
            .bind(&rec.name)
            .bind(rec.city.as_deref())
            .bind(rec.region.as_deref())
            .bind(&attributes)
            .fetch_one(c)
            .await?
        });
        if let Some(m) = self.cache.branches.as_mut() {
            m.insert(rec.code.clone(), id);
        }
        Ok(())
    }

    /// The id of the branch with this code, creating it (named by its code) when new.
    pub(crate) async fn branch_id(&mut self, code: &str) -> Result<i64> {
        self.ensure_branches().await?;
        if let Some(id) = self.cache.branches.as_ref().and_then(|m| m.get(code)) {
            return Ok(*id);
        }
        let id = on_conn!(&mut self.tx, c => {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO branch (code, name) VALUES ($1, $1) \
                 ON CONFLICT (code) DO UPDATE SET code = excluded.code RETURNING id",
            )
            .bind(code)
            .fetch_one(c)
            .await?
        });
        if let Some(m) = self.cache.branches.as_mut() {
            m.insert(code.to_string(), id);
        }
        Ok(id)
    }

    /// Branch ids for a batch: creates the unknown codes first, then maps them.
    pub(crate) async fn branch_ids<'a>(
        &mut self,
        codes: impl Iterator<Item = &'a str>,
    ) -> Result<HashMap<&'a str, i64>> {
        let mut out = HashMap::new();
        for code in codes {
            if !out.contains_key(code) {
                let id = self.branch_id(code).await?;
                out.insert(code, id);
            }
        }
        Ok(out)
    }

    // ----- caches ---------------------------------------------------------

    /// Reads the source's customer keys once per session.
    pub(crate) async fn ensure_customer_keys(&mut self, source: &str) -> Result<()> {
        if self.cache.customers.contains_key(source) {
            return Ok(());
        }
        let mut map = FastMap::default();
        on_conn!(&mut self.tx, c => {
            let mut rows = sqlx::query(
                "SELECT source_key, customer_id, fingerprint FROM customer_source_key WHERE source = $1",
            )
            .bind(source)
            .fetch(c);
            while let Some(r) = rows.try_next().await? {
                map.insert(r.try_get::<String, _>(0)?, (r.try_get::<i64, _>(1)?, r.try_get::<i64, _>(2)?));
            }
        });
        tracing::debug!(
            import.id = self.import_id,
            keys = map.len(),
            "customer keys cached"
        );
        self.cache.customers.insert(source.to_string(), map);
        Ok(())
    }

    /// Reads the source's account keys once per session.
    pub(crate) async fn ensure_account_keys(&mut self, source: &str) -> Result<()> {
        if self.cache.accounts.contains_key(source) {
            return Ok(());
        }
        let mut map = FastMap::default();
        on_conn!(&mut self.tx, c => {
            let mut rows = sqlx::query(
                "SELECT source_key, id, customer_id, fingerprint FROM account WHERE source = $1",
            )
            .bind(source)
            .fetch(c);
            while let Some(r) = rows.try_next().await? {
                let acc = AccountRef {
                    id: r.try_get(1)?,
                    customer_id: r.try_get(2)?,
                    fingerprint: r.try_get(3)?,
                };
                map.insert(r.try_get::<String, _>(0)?, acc);
            }
        });
        tracing::debug!(
            import.id = self.import_id,
            keys = map.len(),
            "account keys cached"
        );
        self.cache.accounts.insert(source.to_string(), map);
        Ok(())
    }

    /// Makes the caches the loaders need for these sources ready, and writes
    /// buffered customers (rows about to be inserted may reference them).
    pub(crate) async fn prepare<'a>(
        &mut self,
        sources: impl Iterator<Item = &'a str>,
        customers: bool,
        accounts: bool,
    ) -> Result<()> {
        self.flush_customers().await?;
        let mut seen: Vec<&str> = Vec::new();
        for s in sources {
            if seen.contains(&s) {
                continue;
            }
            seen.push(s);
            if customers {
                self.ensure_customer_keys(s).await?;
            }
            if accounts {
                self.ensure_account_keys(s).await?;
            }
        }
        Ok(())
    }

    pub(crate) fn customer_ref(&self, source: &str, key: &str) -> Option<CustomerId> {
        self.cache
            .customers
            .get(source)
            .and_then(|m| m.get(key))
            .map(|(id, _)| *id)
    }

    pub(crate) fn account_ref(&self, source: &str, key: &str) -> Option<AccountRef> {
        self.cache
            .accounts
            .get(source)
            .and_then(|m| m.get(key))
            .copied()
    }

    // ----- customers ------------------------------------------------------

    pub(crate) async fn customer_by_key(
        &mut self,
        source: &str,
        key: &str,
    ) -> Result<Option<(CustomerId, i64)>> {
        self.ensure_customer_keys(source).await?;
        Ok(self
            .cache
            .customers
            .get(source)
            .and_then(|m| m.get(key))
            .copied())
    }

    pub(crate) async fn identity_candidates(
        &mut self,
        id_number: Option<&ResidentId>,
        phone: Option<&PhoneNumber>,
    ) -> Result<Vec<CustomerIdentityRow>> {
        if id_number.is_none() && phone.is_none() {
            return Ok(Vec::new());
        }
        let id_s = id_number.map(ResidentId::as_str);
        let phone_s = phone.map(|p| p.as_str());
        self.ensure_identity_filter().await?;
        let maybe = |f: &IdentityFilter| {
            id_s.is_some_and(|k| f.might_hold(IdentityField::IdNumber, k))
                || phone_s.is_some_and(|k| f.might_hold(IdentityField::Phone, k))
        };
        if !self.cache.identity.as_ref().is_some_and(maybe) {
            return Ok(Vec::new());
        }
        // A possible match: make buffered customers visible and ask the database.
        self.flush_customers().await?;
        let out = on_conn!(&mut self.tx, c => {
            let mut rows = sqlx::query(
                "SELECT id, id_number, phone, name, birth_date FROM customer \
                 WHERE id_number = $1 OR phone = $2 ORDER BY id",
            )
            .persistent(false)
            .bind(id_s)
            .bind(phone_s)
            .fetch(c);
            let mut v = Vec::new();
            while let Some(r) = rows.try_next().await? {
                v.push(CustomerIdentityRow {
                    id: r.try_get(0)?,
                    id_number: r.try_get(1)?,
                    phone: r.try_get(2)?,
                    name: r.try_get(3)?,
                    birth_date: r.try_get(4)?,
                });
            }
            v
        });
        Ok(out)
    }

    /// Reads the identifying values of every stored customer once per session
    /// (as hashes: about 16 bytes a value).
    async fn ensure_identity_filter(&mut self) -> Result<()> {
        if self.cache.identity.is_some() {
            return Ok(());
        }
        self.flush_customers().await?;
        let mut f = IdentityFilter::default();
        on_conn!(&mut self.tx, c => {
            let mut rows = sqlx::query(
                "SELECT id_number, phone FROM customer WHERE id_number IS NOT NULL OR phone IS NOT NULL",
            )
            .fetch(c);
            while let Some(r) = rows.try_next().await? {
                let id_number: Option<&str> = r.try_get(0)?;
                let phone: Option<&str> = r.try_get(1)?;
                f.add(id_number, phone);
            }
        });
        tracing::debug!(
            import.id = self.import_id,
            values = f.hashes.len(),
            "identity filter built"
        );
        self.cache.identity = Some(f);
        Ok(())
    }

    fn duplicate_key(rec: &CustomerRecord) -> StoreError {
        StoreError::DuplicateKey {
            entity: "customer",
            source_name: rec.source.clone(),
            key: rec.source_key.clone(),
        }
    }

    pub(crate) async fn insert_customer(&mut self, rec: &CustomerRecord) -> Result<CustomerId> {
        self.ensure_customer_keys(&rec.source).await?;
        if self.customer_ref(&rec.source, &rec.source_key).is_some() {
            return Err(Self::duplicate_key(rec));
        }
        let branch_id = match rec.branch.as_deref() {
            Some(code) => Some(self.branch_id(code).await?),
            None => None,
        };
        let id = match self
            .cache
            .ids
            .take(&mut self.tx, "customer", 1)
            .await?
            .first()
        {
            Some(id) => *id,
            None => return Err(StoreError::NotFound("a free customer id".into())),
        };
        let fingerprint = rapport_domain::fingerprint(rec);
        if let Some(f) = self.cache.identity.as_mut() {
            f.add(
                rec.id_number.as_ref().map(ResidentId::as_str),
                rec.phone.as_ref().map(|x| x.as_str()),
            );
        }
        self.cache.pending.push(PendingCustomer {
            id,
            fingerprint,
            branch_id,
            rec: rec.clone(),
        });
        self.cache
            .customers
            .entry(rec.source.clone())
            .or_default()
            .insert(rec.source_key.clone(), (id, fingerprint));
        if self.cache.pending.len() >= CUSTOMER_FLUSH_ROWS {
            self.flush_customers().await?;
        }
        Ok(id)
    }

    /// Writes buffered customers, their source keys and flags.
    pub(crate) async fn flush_customers(&mut self) -> Result<()> {
        if self.cache.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.cache.pending);
        let import_id = self.import_id;
        let mut customers = Vec::with_capacity(pending.len() * CUSTOMER_COLS.len());
        let mut keys = Vec::with_capacity(pending.len() * SOURCE_KEY_COLS.len());
        let mut flags = Vec::new();
        for pc in &pending {
            let r = &pc.rec;
            customers.extend([
                Val::int(pc.id),
                Val::opt_text(r.name.as_deref()),
                Val::opt_text(r.gender.map(Gender::as_str)),
                Val::opt_date(r.birth_date),
                Val::opt_text(r.id_number.as_ref().map(ResidentId::as_str)),
                Val::opt_text(r.phone.as_ref().map(|x| x.as_str())),
                Val::opt_text(r.email.as_ref().map(|x| x.as_str())),
                Val::opt_text(r.city.as_deref()),
                Val::opt_text(r.occupation.as_deref()),
                Val::opt_int(r.annual_income.map(Money::minor)),
                Val::opt_text(r.risk_tolerance.map(RiskTolerance::as_str)),
                Val::opt_date(r.risk_assessed_on),
                Val::opt_int(pc.branch_id),
                Val::opt_owned(r.attributes.as_ref().map(|a| a.to_string())),
            ]);
            keys.extend([
                Val::text(&r.source),
                Val::text(&r.source_key),
                Val::int(pc.id),
                Val::int(pc.fingerprint),
                Val::int(import_id),
            ]);
            for f in &r.flags {
                flags.extend([
                    Val::text("customer"),
                    Val::int(pc.id),
                    Val::text(&f.field),
                    Val::text(&f.reason),
                    Val::int(import_id),
                ]);
            }
        }
        let staged = &mut self.cache.staged;
        let tx = &mut self.tx;
        tx.insert_rows(
            "customer",
            CUSTOMER_COLS,
            &customers,
            OnConflict::Fail,
            staged,
        )
        .await?;
        tx.insert_rows(
            "customer_source_key",
            SOURCE_KEY_COLS,
            &keys,
            OnConflict::Fail,
            staged,
        )
        .await?;
        tx.insert_rows("field_flag", FLAG_COLS, &flags, OnConflict::Fail, staged)
            .await?;
        tracing::debug!(
            import.id = import_id,
            customers = pending.len(),
            "customers flushed"
        );
        Ok(())
    }

    pub(crate) async fn merge_customer(
        &mut self,
        into: CustomerId,
        rec: &CustomerRecord,
        rule: MergeRule,
        explanation: &str,
    ) -> Result<()> {
        self.flush_customers().await?;
        self.ensure_customer_keys(&rec.source).await?;
        if self.customer_ref(&rec.source, &rec.source_key).is_some() {
            return Err(Self::duplicate_key(rec));
        }
        let branch_id = match rec.branch.as_deref() {
            Some(code) => Some(self.branch_id(code).await?),
            None => None,
        };
        let attributes = rec.attributes.as_ref().map(|a| a.to_string());
        // Fill what is missing; never overwrite what is known.
        let updated = on_conn!(&mut self.tx, c => {
            sqlx::query(
                "UPDATE customer SET \
                 name = COALESCE(name, $2), gender = COALESCE(gender, $3), \
                 birth_date = COALESCE(birth_date, $4), id_number = COALESCE(id_number, $5), \
                 phone = COALESCE(phone, $6), email = COALESCE(email, $7), city = COALESCE(city, $8), \
                 occupation = COALESCE(occupation, $9), annual_income = COALESCE(annual_income, $10), \
                 risk_tolerance = COALESCE(risk_tolerance, $11), \
                 risk_assessed_on = COALESCE(risk_assessed_on, $12), \
                 branch_id = COALESCE(branch_id, $13), attributes = COALESCE(attributes, $14) \
                 WHERE id = $1",
            )
            .bind(into)
            .bind(rec.name.as_deref())
            .bind(rec.gender.map(Gender::as_str))
            .bind(rec.birth_date)
            .bind(rec.id_number.as_ref().map(ResidentId::as_str))
            .bind(rec.phone.as_ref().map(|x| x.as_str()))
            .bind(rec.email.as_ref().map(|x| x.as_str()))
            .bind(rec.city.as_deref())
            .bind(rec.occupation.as_deref())
            .bind(rec.annual_income.map(Money::minor))
            .bind(rec.risk_tolerance.map(RiskTolerance::as_str))
            .bind(rec.risk_assessed_on)
            .bind(branch_id)
            .bind(attributes.as_deref())
            .execute(c)
            .await?
            .rows_affected()
        });
        if updated == 0 {
            return Err(StoreError::NotFound(format!("customer {into}")));
        }
        let fingerprint = rapport_domain::fingerprint(rec);
        let import_id = self.import_id;
        let keys = [
            Val::text(&rec.source),
            Val::text(&rec.source_key),
            Val::int(into),
            Val::int(fingerprint),
            Val::int(import_id),
        ];
        let mut flags = Vec::new();
        for f in &rec.flags {
            flags.extend([
                Val::text("customer"),
                Val::int(into),
                Val::text(&f.field),
                Val::text(&f.reason),
                Val::int(import_id),
            ]);
        }
        let merge = [
            Val::int(into),
            Val::text(&rec.source),
            Val::text(&rec.source_key),
            Val::text(rule.as_str()),
            Val::text(explanation),
            Val::int(import_id),
        ];
        let staged = &mut self.cache.staged;
        let tx = &mut self.tx;
        tx.insert_rows(
            "customer_source_key",
            SOURCE_KEY_COLS,
            &keys,
            OnConflict::Fail,
            staged,
        )
        .await?;
        tx.insert_rows("field_flag", FLAG_COLS, &flags, OnConflict::Fail, staged)
            .await?;
        tx.insert_rows(
            "customer_merge",
            &[
                "customer_id",
                "source",
                "source_key",
                "rule",
                "explanation",
                "import_id",
            ],
            &merge,
            OnConflict::Fail,
            staged,
        )
        .await?;
        self.cache
            .customers
            .entry(rec.source.clone())
            .or_default()
            .insert(rec.source_key.clone(), (into, fingerprint));
        if let Some(f) = self.cache.identity.as_mut() {
            // Values the merge filled in (extra hashes only cost a query).
            f.add(
                rec.id_number.as_ref().map(ResidentId::as_str),
                rec.phone.as_ref().map(|x| x.as_str()),
            );
        }
        tracing::debug!(
            import.id = import_id,
            customer.id = into,
            rule = rule.as_str(),
            "customer merged"
        );
        Ok(())
    }
}
