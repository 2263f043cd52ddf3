//! Saved views (migration 0024): a member of staff's named query of one
//! list, private or shared. The store keeps and reads them; which lists
//! exist, what a query may hold and who may share or delete are the
//! services' rules (`rapport_services::saved_views`).

use crate::dialect::on_pool;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One saved view, with its owner's names for the bar.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SavedViewRow {
    pub id: i64,
    pub staff_user_id: i64,
    pub owner_username: String,
    pub owner_name: String,
    pub list: String,
    pub name: String,
    pub query: String,
    pub shared: bool,
    pub created_at: DateTime<Utc>,
}

/// A view to keep.
#[derive(Debug, Clone)]
pub struct NewSavedView<'a> {
    pub staff_user_id: i64,
    pub list: &'a str,
    pub name: &'a str,
    pub query: &'a str,
    pub shared: bool,
    pub at: DateTime<Utc>,
}

const COLUMNS: &str = "v.id, v.staff_user_id, u.username AS owner_username, \
    u.display_name AS owner_name, v.list, v.name, v.query, v.shared, v.created_at";
const FROM: &str = "saved_view v JOIN staff_user u ON u.id = v.staff_user_id";

impl Store {
    /// Keeps a view; its id. A second view of the same owner, list and name
    /// is a [`StoreError::Conflict`].
    pub async fn insert_saved_view(&self, v: &NewSavedView<'_>) -> Result<i64> {
        let sql = "INSERT INTO saved_view (staff_user_id, list, name, query, shared, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (staff_user_id, list, name) \
                   DO NOTHING RETURNING id";
        let id: Option<i64> = on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(v.staff_user_id)
            .bind(v.list)
            .bind(v.name)
            .bind(v.query)
            .bind(v.shared)
            .bind(v.at)
            .fetch_optional(p)
            .await?);
        id.ok_or_else(|| StoreError::Conflict(format!("a saved view named {:?} exists", v.name)))
    }

    /// One view.
    pub async fn saved_view(&self, id: i64) -> Result<SavedViewRow> {
        let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE v.id = $1");
        let row: Option<SavedViewRow> =
            on_pool!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?);
        row.ok_or_else(|| StoreError::NotFound(format!("saved view {id}")))
    }

    /// The views of `list` that `staff_user_id` owns, then the others'
    /// shared ones, each by name.
    pub async fn saved_views_for(
        &self,
        staff_user_id: i64,
        list: &str,
    ) -> Result<Vec<SavedViewRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE v.list = $1 \
             AND (v.staff_user_id = $2 OR v.shared = $3) \
             ORDER BY CASE WHEN v.staff_user_id = $2 THEN 0 ELSE 1 END, v.name, v.id"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql)
            .bind(list)
            .bind(staff_user_id)
            .bind(true)
            .fetch_all(p)
            .await?))
    }

    /// How many views of `list` `staff_user_id` owns.
    pub async fn saved_view_count(&self, staff_user_id: i64, list: &str) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM saved_view WHERE staff_user_id = $1 AND list = $2";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(staff_user_id)
            .bind(list)
            .fetch_one(p)
            .await?))
    }

    /// Deletes a view; false when it was already gone.
    pub async fn delete_saved_view(&self, id: i64) -> Result<bool> {
        let n = on_pool!(self, p => sqlx::query("DELETE FROM saved_view WHERE id = $1")
            .bind(id)
            .execute(p)
            .await?
            .rows_affected());
        Ok(n == 1)
    }
}
