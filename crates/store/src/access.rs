//! Staff access: user accounts (`staff_user`), browser sessions, API tokens,
//! sign-in attempts (for throttling) and the append-only audit log.
//!
//! The store keeps only hashes: a session cookie's and an API token's SHA-256,
//! a password's argon2 PHC string. It never hashes, checks a password, decides
//! a role's rights or a throttle limit — the app does; this module only reads
//! and writes rows. Audit rows are only ever inserted, never updated or
//! deleted.

use crate::dialect::on_pool;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

/// A member of staff as the app needs them for sign-in and scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaffUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// admin | manager | rm | agent | risk | analyst | auditor (opaque here).
    pub role: String,
    pub branch_id: Option<i64>,
    pub branch_code: Option<String>,
    /// zh-CN | en, or None for the server default.
    pub language: Option<String>,
    pub active: bool,
    /// argon2 PHC string; None until a password is set (always None for a service account).
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// A service account (column `kind` = 'service', else 'person'): a
    /// machine identity with API tokens only, never a web sign-in.
    pub service: bool,
    /// Set by an administrator's reset: the next session may only change the password.
    pub must_change_password: bool,
}

impl StaffUser {
    /// A service account (a machine identity), not a person.
    pub fn is_service(&self) -> bool {
        self.service
    }
}

/// One audit record to append.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    /// The user name, or `system:<job>`.
    pub actor: String,
    pub role: String,
    /// e.g. `customer.view`, `customer.unmask`, `alert.ack`, `user.create`.
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub customer_id: Option<i64>,
    pub client: Option<String>,
    /// JSON object; never personal data.
    pub detail: String,
}

/// A stored audit record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRow {
    pub id: i64,
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// Which audit records to read; newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub customer_id: Option<i64>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Page size (default 100 when 0).
    pub limit: i64,
    pub offset: i64,
}

/// An API token as listed (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiTokenRow {
    pub id: i64,
    pub staff_user_id: i64,
    pub username: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who created it (None: the system at the console, or before this was recorded).
    pub created_by: Option<i64>,
    pub created_by_name: Option<String>,
    /// The owner is a service account.
    pub service: bool,
}

/// Failed sign-ins for one user name, as the throttle reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailures {
    /// Failures for this user name from this client since `since` and since
    /// the last success of this user name from this client.
    pub user_client: i64,
    /// When the latest of those failures happened.
    pub last_user_client: Option<DateTime<Utc>>,
    /// Failures from this client for any user name since `client_since`.
    pub client: i64,
}

const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, u.branch_id, b.code, \
                            u.language, u.active, u.password_hash, u.kind, u.must_change_password";
/// Columns of [`USER_COLUMNS`]; what follows them in a row starts here.
const USER_COLUMN_COUNT: usize = 11;
const USER_FROM: &str = "staff_user u LEFT JOIN branch b ON b.id = u.branch_id";

fn user_from_row<R: Row>(r: &R) -> Result<StaffUser>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    Ok(StaffUser {
        id: r.try_get(0)?,
        username: r.try_get(1)?,
        display_name: r.try_get(2)?,
        role: r.try_get(3)?,
        branch_id: r.try_get(4)?,
        branch_code: r.try_get(5)?,
        language: r.try_get(6)?,
        active: r.try_get(7)?,
        password_hash: r.try_get(8)?,
        service: r.try_get::<String, _>(9)? == "service",
        must_change_password: r.try_get(10)?,
    })
}

impl Store {
    /// Answers when the database does (readiness checks).
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, p => { sqlx::query("SELECT 1").execute(p).await?; });
        Ok(())
    }

    /// Refreshes the query planner's statistics. On SQLite a bounded
    /// `ANALYZE` (`analysis_limit`, a fraction of a second on millions of
    /// rows): without statistics SQLite picks a primary-key index led by the
    /// date over the per-customer index and a customer 360 scans millions of
    /// memberships. On PostgreSQL `ANALYZE` of the tables scoring rewrites
    /// (autovacuum covers the rest).
    pub async fn optimize(&self) -> Result<()> {
        match self {
            Store::Sqlite(p) => {
                let mut c = p.acquire().await?;
                sqlx::query("PRAGMA analysis_limit = 1000")
                    .execute(&mut *c)
                    .await?;
                // ANALYZE visits every index: unmapped, so the scoring job does
                // not end holding most of the file resident (schema::set_sqlite_mmap).
                crate::schema::set_sqlite_mmap(&mut c, false).await?;
                let analyzed = sqlx::query("ANALYZE").execute(&mut *c).await;
                crate::schema::set_sqlite_mmap(&mut c, true).await?;
                analyzed?;
            }
            Store::Postgres(p) => {
                sqlx::query("ANALYZE health_score, segment_membership, alert, rm_assignment")
                    .execute(p)
                    .await?;
            }
        }
        Ok(())
    }

    /// The user signing in as `username`, if there is one.
    pub async fn staff_user_by_name(&self, username: &str) -> Result<Option<StaffUser>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM {USER_FROM} WHERE u.username = $1");
        on_pool!(self, p => {
            let row = sqlx::query(&sql).bind(username).fetch_optional(p).await?;
            row.map(|r| user_from_row(&r)).transpose()
        })
    }

    /// One user by id.
    pub async fn staff_user(&self, id: i64) -> Result<StaffUser> {
        let sql = format!("SELECT {USER_COLUMNS} FROM {USER_FROM} WHERE u.id = $1");
        let row = on_pool!(self, p => {
            let row = sqlx::query(&sql).bind(id).fetch_optional(p).await?;
            row.map(|r| user_from_row(&r)).transpose()?
        });
        row.ok_or_else(|| StoreError::NotFound(format!("staff user {id}")))
    }

    /// Every user, by user name.
    pub async fn staff_users(&self) -> Result<Vec<StaffUser>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM {USER_FROM} ORDER BY u.username");
        on_pool!(self, p => {
            let rows = sqlx::query(&sql).fetch_all(p).await?;
            rows.iter().map(user_from_row).collect()
        })
    }

    /// Creates a user; `branch_code` must name an existing branch when given.
    pub async fn create_staff_user(
        &self,
        username: &str,
        display_name: &str,
        role: &str,
        branch_code: Option<&str>,
        password_hash: &str,
    ) -> Result<i64> {
        self.insert_staff_user(
            username,
            display_name,
            role,
            branch_code,
            Some(password_hash),
            "person",
        )
        .await
    }

    /// Creates a service account: a machine identity with a role and no password.
    pub async fn create_service_account(
        &self,
        username: &str,
        display_name: &str,
        role: &str,
        branch_code: Option<&str>,
    ) -> Result<i64> {
        self.insert_staff_user(username, display_name, role, branch_code, None, "service")
            .await
    }

    async fn insert_staff_user(
        &self,
        username: &str,
        display_name: &str,
        role: &str,
        branch_code: Option<&str>,
        password_hash: Option<&str>,
        kind: &str,
    ) -> Result<i64> {
        let branch_id = match branch_code {
            Some(code) => Some(self.branch_id_by_code(code).await?),
            None => None,
        };
        if self.staff_user_by_name(username).await?.is_some() {
            return Err(StoreError::Conflict(format!(
                "a staff user named {username} already exists"
            )));
        }
        let sql = "INSERT INTO staff_user (username, display_name, role, branch_id, password_hash, kind, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
        let now = Utc::now();
        on_pool!(self, p => Ok(sqlx::query(sql)
            .bind(username)
            .bind(display_name)
            .bind(role)
            .bind(branch_id)
            .bind(password_hash)
            .bind(kind)
            .bind(now)
            .fetch_one(p)
            .await?
            .try_get(0)?))
    }

    /// The id of the branch with `code`.
    pub async fn branch_id_by_code(&self, code: &str) -> Result<i64> {
        let sql = "SELECT id FROM branch WHERE code = $1";
        let id: Option<i64> =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(code).fetch_optional(p).await?);
        id.ok_or_else(|| StoreError::NotFound(format!("branch {code}")))
    }

    /// Replaces a user's password hash.
    pub async fn set_password_hash(&self, user_id: i64, hash: &str) -> Result<()> {
        self.update_user(
            "UPDATE staff_user SET password_hash = $1 WHERE id = $2",
            hash,
            user_id,
        )
        .await
    }

    /// Replaces a user's password hash and sets whether the next session must
    /// change it (an administrator's reset) or not (the user chose it).
    pub async fn set_password(&self, user_id: i64, hash: &str, must_change: bool) -> Result<()> {
        let sql =
            "UPDATE staff_user SET password_hash = $1, must_change_password = $2 WHERE id = $3";
        let n = on_pool!(self, p => sqlx::query(sql).bind(hash).bind(must_change).bind(user_id)
            .execute(p).await?.rows_affected());
        if n == 0 {
            return Err(StoreError::NotFound(format!("staff user {user_id}")));
        }
        Ok(())
    }

    /// Ends every session of a user but the one whose token hash is `keep`.
    pub async fn delete_sessions_of(&self, user_id: i64, keep: Option<&str>) -> Result<()> {
        let sql = "DELETE FROM web_session WHERE staff_user_id = $1 AND token_hash <> $2";
        on_pool!(self, p => { sqlx::query(sql).bind(user_id).bind(keep.unwrap_or("")).execute(p).await?; });
        Ok(())
    }

    /// Sets a user's language (zh-CN | en).
    pub async fn set_user_language(&self, user_id: i64, language: &str) -> Result<()> {
        self.update_user(
            "UPDATE staff_user SET language = $1 WHERE id = $2",
            language,
            user_id,
        )
        .await
    }

    /// Changes a user's role and branch (None = head office).
    pub async fn set_user_role(
        &self,
        user_id: i64,
        role: &str,
        branch_id: Option<i64>,
    ) -> Result<()> {
        let sql = "UPDATE staff_user SET role = $1, branch_id = $2 WHERE id = $3";
        let n = on_pool!(self, p => sqlx::query(sql).bind(role).bind(branch_id).bind(user_id).execute(p).await?.rows_affected());
        if n == 0 {
            return Err(StoreError::NotFound(format!("staff user {user_id}")));
        }
        Ok(())
    }

    /// Enables or disables a user; disabling also ends their sessions and tokens.
    pub async fn set_user_active(
        &self,
        user_id: i64,
        active: bool,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let n = on_pool!(self, p => sqlx::query("UPDATE staff_user SET active = $1 WHERE id = $2")
            .bind(active).bind(user_id).execute(p).await?.rows_affected());
        if n == 0 {
            return Err(StoreError::NotFound(format!("staff user {user_id}")));
        }
        if !active {
            self.delete_sessions_of(user_id, None).await?;
            self.revoke_api_tokens_of(user_id, at).await?;
        }
        Ok(())
    }

    /// Revokes every live API token of a user (disabled, or their password
    /// reset by an administrator); returns how many.
    pub async fn revoke_api_tokens_of(&self, user_id: i64, at: DateTime<Utc>) -> Result<u64> {
        Ok(
            on_pool!(self, p => sqlx::query("UPDATE api_token SET revoked_at = $1 WHERE staff_user_id = $2 AND revoked_at IS NULL")
            .bind(at).bind(user_id).execute(p).await?.rows_affected()),
        )
    }

    async fn update_user(&self, sql: &str, value: &str, user_id: i64) -> Result<()> {
        let n = on_pool!(self, p => sqlx::query(sql).bind(value).bind(user_id).execute(p).await?.rows_affected());
        if n == 0 {
            return Err(StoreError::NotFound(format!("staff user {user_id}")));
        }
        Ok(())
    }

    /// Records one sign-in attempt.
    pub async fn record_login_attempt(
        &self,
        username: &str,
        client: &str,
        at: DateTime<Utc>,
        succeeded: bool,
    ) -> Result<()> {
        let sql =
            "INSERT INTO login_attempt (username, client, at, succeeded) VALUES ($1, $2, $3, $4)";
        on_pool!(self, p => { sqlx::query(sql).bind(username).bind(client).bind(at).bind(succeeded).execute(p).await?; });
        Ok(())
    }

    /// Failed sign-ins the throttle weighs: for this user name from this
    /// client since `since` and since that pair's last success (with the
    /// latest one's time), and from this client for any name since `client_since`.
    pub async fn login_failures(
        &self,
        username: &str,
        client: &str,
        since: DateTime<Utc>,
        client_since: DateTime<Utc>,
    ) -> Result<LoginFailures> {
        let last_ok =
            "SELECT at FROM login_attempt WHERE username = $1 AND client = $2 AND succeeded \
                       ORDER BY at DESC LIMIT 1";
        let pair = "SELECT at FROM login_attempt WHERE username = $1 AND client = $2 AND at >= $3 \
                    AND at > $4 AND NOT succeeded ORDER BY at DESC";
        let by_client =
            "SELECT COUNT(*) FROM login_attempt WHERE client = $1 AND at >= $2 AND NOT succeeded";
        on_pool!(self, p => {
            let last_ok: Option<DateTime<Utc>> = sqlx::query_scalar(last_ok)
                .bind(username).bind(client).fetch_optional(p).await?;
            let floor = match last_ok {
                Some(t) if t > since => t,
                _ => since - chrono::Duration::seconds(1),
            };
            let fails: Vec<DateTime<Utc>> = sqlx::query_scalar(pair)
                .bind(username).bind(client).bind(since).bind(floor).fetch_all(p).await?;
            let client_n: i64 = sqlx::query_scalar(by_client)
                .bind(client).bind(client_since).fetch_one(p).await?;
            Ok(LoginFailures {
                user_client: i64::try_from(fails.len()).unwrap_or(i64::MAX),
                last_user_client: fails.first().copied(),
                client: client_n,
            })
        })
    }

    /// Stores a new session (the token's hash, never the token).
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let sql = "INSERT INTO web_session (token_hash, staff_user_id, csrf_token, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5)";
        on_pool!(self, p => { sqlx::query(sql).bind(token_hash).bind(user_id).bind(csrf_token)
            .bind(created_at).bind(expires_at).execute(p).await?; });
        Ok(())
    }

    /// The active user and CSRF token of a live session.
    pub async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(StaffUser, String)>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.csrf_token FROM web_session s \
             JOIN staff_user u ON u.id = s.staff_user_id LEFT JOIN branch b ON b.id = u.branch_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active"
        );
        on_pool!(self, p => {
            let row = sqlx::query(&sql).bind(token_hash).bind(now).fetch_optional(p).await?;
            match row {
                Some(r) => Ok(Some((user_from_row(&r)?, r.try_get(USER_COLUMN_COUNT)?))),
                None => Ok(None),
            }
        })
    }

    /// Ends a session.
    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        on_pool!(self, p => { sqlx::query("DELETE FROM web_session WHERE token_hash = $1")
            .bind(token_hash).execute(p).await?; });
        Ok(())
    }

    /// Stores a new API token (its hash) for a user, created by `created_by`
    /// (None: the system); returns its id.
    pub async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        at: DateTime<Utc>,
        created_by: Option<i64>,
    ) -> Result<i64> {
        let sql =
            "INSERT INTO api_token (staff_user_id, name, token_hash, created_at, created_by) \
                   VALUES ($1, $2, $3, $4, $5) RETURNING id";
        on_pool!(self, p => Ok(sqlx::query(sql).bind(user_id).bind(name).bind(token_hash).bind(at)
            .bind(created_by).fetch_one(p).await?.try_get(0)?))
    }

    /// The active user owning an unrevoked API token.
    pub async fn api_token_user(&self, token_hash: &str) -> Result<Option<StaffUser>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM api_token t JOIN staff_user u ON u.id = t.staff_user_id \
             LEFT JOIN branch b ON b.id = u.branch_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active"
        );
        on_pool!(self, p => {
            let row = sqlx::query(&sql).bind(token_hash).fetch_optional(p).await?;
            row.map(|r| user_from_row(&r)).transpose()
        })
    }

    /// Every API token, newest first.
    pub async fn api_tokens(&self) -> Result<Vec<ApiTokenRow>> {
        self.api_token_rows("", None).await
    }

    /// One API token by id.
    pub async fn api_token(&self, id: i64) -> Result<Option<ApiTokenRow>> {
        Ok(self
            .api_token_rows(" WHERE t.id = $1", Some(id))
            .await?
            .pop())
    }

    async fn api_token_rows(&self, filter: &str, id: Option<i64>) -> Result<Vec<ApiTokenRow>> {
        let sql = format!(
            "SELECT t.id, t.staff_user_id, u.username, t.name, t.created_at, t.revoked_at, \
             t.created_by, c.username, u.kind FROM api_token t JOIN staff_user u ON u.id = t.staff_user_id \
             LEFT JOIN staff_user c ON c.id = t.created_by{filter} ORDER BY t.id DESC"
        );
        type Raw = (
            i64,
            i64,
            String,
            String,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            Option<i64>,
            Option<String>,
            String,
        );
        let rows: Vec<Raw> = on_pool!(self, p => {
            let mut q = sqlx::query_as(&sql);
            if let Some(id) = id {
                q = q.bind(id);
            }
            q.fetch_all(p).await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(
                    id,
                    staff_user_id,
                    username,
                    name,
                    created_at,
                    revoked_at,
                    created_by,
                    by,
                    kind,
                )| {
                    ApiTokenRow {
                        id,
                        staff_user_id,
                        username,
                        name,
                        created_at,
                        revoked_at,
                        created_by,
                        created_by_name: by,
                        service: kind == "service",
                    }
                },
            )
            .collect())
    }

    /// Revokes an API token.
    pub async fn revoke_api_token(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        let n = on_pool!(self, p => sqlx::query("UPDATE api_token SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(at).bind(id).execute(p).await?.rows_affected());
        if n == 0 {
            return Err(StoreError::NotFound(format!("active API token {id}")));
        }
        Ok(())
    }

    /// Assigns (or reassigns) a customer's relationship manager.
    pub async fn assign_rm(
        &self,
        customer_id: i64,
        staff_user_id: i64,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let sql = "INSERT INTO rm_assignment (customer_id, staff_user_id, assigned_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (customer_id) DO UPDATE SET staff_user_id = excluded.staff_user_id, \
                   assigned_at = excluded.assigned_at";
        on_pool!(self, p => { sqlx::query(sql).bind(customer_id).bind(staff_user_id).bind(at).execute(p).await?; });
        Ok(())
    }

    /// Appends audit records in one transaction.
    pub async fn append_audit(&self, entries: &[AuditEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let sql = "INSERT INTO audit_log (at, actor_id, actor, role, action, entity, entity_id, \
                   customer_id, client, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for e in entries {
                sqlx::query(sql)
                    .bind(e.at)
                    .bind(e.actor_id)
                    .bind(&e.actor)
                    .bind(&e.role)
                    .bind(&e.action)
                    .bind(&e.entity)
                    .bind(&e.entity_id)
                    .bind(e.customer_id)
                    .bind(&e.client)
                    .bind(&e.detail)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Audit records matching `f`, newest first (by id), and how many match
    /// in all: the audit page's query ([`Store::audit_page`]), the one place
    /// the audit filter is written in SQL.
    pub async fn audit_log(&self, f: &AuditFilter) -> Result<(Vec<AuditRow>, i64)> {
        self.audit_page(&crate::admin_queries::AuditQuery {
            actor: f.actor.clone(),
            action: f.action.clone(),
            customer_id: f.customer_id,
            since: f.since,
            until: f.until,
            sort: "id".into(),
            desc: true,
            limit: if f.limit <= 0 { 100 } else { f.limit.min(1000) },
            offset: f.offset,
        })
        .await
    }
}
