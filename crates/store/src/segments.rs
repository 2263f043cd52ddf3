//! Saved segments and their members: one `segment` row per segment code
//! (rule, tier, cluster, holiday need …), and per segment and as-of date the
//! set of member customers in `segment_membership`.
//!
//! A membership is always replaced whole: [`Store::replace_segment_membership`]
//! deletes the segment's members at that date and inserts the new ones in one
//! transaction, as multi-row inserts from a JSON array (SQLite) or arrays
//! unnested server-side (PostgreSQL), so a million members take seconds.
//!
//! Like the rest of the store this module has no rules about content: it
//! never interprets a segment's kind or definition, and never decides who
//! belongs to a segment.

use crate::dialect::on_pool;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// Customer ids per statement when membership is written.
const MEMBERS_PER_STATEMENT: usize = 100_000;

/// A saved segment.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SegmentRow {
    pub id: i64,
    /// Unique code, e.g. `tier:affluent` or `holiday:national_day:2026:travel`.
    pub code: String,
    /// What made it: `rule`, `tier`, `cluster`, `holiday` … (opaque here).
    pub kind: String,
    pub name: String,
    /// The rule that decides membership, as text (an expression, a threshold …).
    pub definition: String,
    pub description: String,
    pub updated_at: DateTime<Utc>,
}

/// The size of a segment at one as-of date.
pub type SegmentSize = (String, String, String, i64);

impl Store {
    /// Creates the segment `code`, or updates its kind, name, definition and
    /// description when it exists; returns its id.
    pub async fn upsert_segment(
        &self,
        code: &str,
        kind: &str,
        name: &str,
        definition: &str,
        description: &str,
    ) -> Result<i64> {
        let now = Utc::now();
        let sql = "INSERT INTO segment (code, kind, name, definition, description, updated_at) \
                   VALUES ($1, $2, $3, $4, $5, $6) \
                   ON CONFLICT (code) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                   definition = excluded.definition, description = excluded.description, \
                   updated_at = excluded.updated_at \
                   RETURNING id";
        let id: i64 = on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(code)
            .bind(kind)
            .bind(name)
            .bind(definition)
            .bind(description)
            .bind(now)
            .fetch_one(p)
            .await?);
        Ok(id)
    }

    /// Replaces the members of segment `segment_id` at `as_of` with
    /// `customer_ids` (one transaction; duplicates in `customer_ids` are
    /// stored once). Returns the number of members stored.
    pub async fn replace_segment_membership(
        &self,
        segment_id: i64,
        as_of: NaiveDate,
        customer_ids: &[i64],
    ) -> Result<u64> {
        let mut ids = customer_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        match self {
            Store::Sqlite(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("DELETE FROM segment_membership WHERE segment_id = ?1 AND as_of = ?2")
                    .bind(segment_id)
                    .bind(as_of)
                    .execute(&mut *tx)
                    .await?;
                for block in ids.chunks(MEMBERS_PER_STATEMENT) {
                    let json = json_int_array(block);
                    sqlx::query(
                        "INSERT INTO segment_membership (as_of, segment_id, customer_id) \
                         SELECT ?1, ?2, j.value FROM json_each(?3) AS j",
                    )
                    .bind(as_of)
                    .bind(segment_id)
                    .bind(json)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
            Store::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("DELETE FROM segment_membership WHERE segment_id = $1 AND as_of = $2")
                    .bind(segment_id)
                    .bind(as_of)
                    .execute(&mut *tx)
                    .await?;
                for block in ids.chunks(MEMBERS_PER_STATEMENT) {
                    sqlx::query(
                        "INSERT INTO segment_membership (as_of, segment_id, customer_id) \
                         SELECT $1, $2, u.id FROM UNNEST($3::BIGINT[]) AS u(id)",
                    )
                    .bind(as_of)
                    .bind(segment_id)
                    .bind(block)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(ids.len() as u64)
    }

    /// Every saved segment, in code order.
    pub async fn segments(&self) -> Result<Vec<SegmentRow>> {
        let sql = "SELECT id, code, kind, name, definition, description, updated_at \
                   FROM segment ORDER BY code";
        let rows = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?);
        Ok(rows)
    }

    /// The members (customer ids, ascending) of segment `code` at `as_of`;
    /// [`StoreError::NotFound`] when no segment has that code.
    pub async fn segment_members(&self, code: &str, as_of: NaiveDate) -> Result<Vec<i64>> {
        let exists = "SELECT id FROM segment WHERE code = $1";
        let members = "SELECT m.customer_id FROM segment_membership m \
                       JOIN segment s ON s.id = m.segment_id \
                       WHERE s.code = $1 AND m.as_of = $2 ORDER BY m.customer_id";
        let (found, ids): (Option<i64>, Vec<i64>) = on_pool!(self, p => (
            sqlx::query_scalar(exists)
                .bind(code)
                .fetch_optional(p)
                .await?,
            sqlx::query_scalar(members)
                .bind(code)
                .bind(as_of)
                .fetch_all(p)
                .await?,
        ));
        match found {
            Some(_) => Ok(ids),
            None => Err(StoreError::NotFound(format!("segment {code:?}"))),
        }
    }

    /// Per segment with members at `as_of`: (code, kind, name, members), in code order.
    pub async fn segment_sizes(&self, as_of: NaiveDate) -> Result<Vec<SegmentSize>> {
        let sql = "SELECT s.code, s.kind, s.name, COUNT(*) FROM segment_membership m \
                   JOIN segment s ON s.id = m.segment_id WHERE m.as_of = $1 \
                   GROUP BY s.code, s.kind, s.name ORDER BY s.code";
        let sizes = on_pool!(self, p => sqlx::query_as::<_, SegmentSize>(sql)
            .bind(as_of)
            .fetch_all(p)
            .await?);
        Ok(sizes)
    }

    /// The latest as-of date on or before `on_or_before` at which any segment
    /// has members; `None` when there is none.
    pub async fn latest_membership_as_of(
        &self,
        on_or_before: NaiveDate,
    ) -> Result<Option<NaiveDate>> {
        // ORDER BY … LIMIT 1 rather than MAX(): SQLite then returns the column
        // (declared TEXT, decoded as a date) instead of an untyped aggregate.
        let sql = "SELECT DISTINCT as_of FROM segment_membership WHERE as_of <= $1 \
                   ORDER BY as_of DESC LIMIT 1";
        let latest = on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(on_or_before)
            .fetch_optional(p)
            .await?);
        Ok(latest)
    }

    /// Every (segment id, customer id) membership at `as_of`, ordered by
    /// segment id then customer id.
    pub async fn memberships_at(&self, as_of: NaiveDate) -> Result<Vec<(i64, i64)>> {
        let sql = "SELECT segment_id, customer_id FROM segment_membership WHERE as_of = $1 \
                   ORDER BY segment_id, customer_id";
        let rows = on_pool!(self, p => sqlx::query_as::<_, (i64, i64)>(sql)
            .bind(as_of)
            .fetch_all(p)
            .await?);
        Ok(rows)
    }
}

/// `[1,2,3]`: integers as a JSON array, for SQLite's `json_each`.
fn json_int_array(ids: &[i64]) -> String {
    use std::fmt::Write as _;
    let mut json = String::with_capacity(2 + ids.len() * 9);
    json.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        // Writing to a String cannot fail.
        let _ = write!(json, "{id}");
    }
    json.push(']');
    json
}
