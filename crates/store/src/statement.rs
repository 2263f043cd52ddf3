//! A small builder for statements whose SQL depends on their inputs (optional
//! filters, lists of ids): one text for both backends, each bound value
//! written as the backend's numbered placeholder — `$n` on PostgreSQL, `?n`
//! on SQLite — and kept, typed, to be bound by [`Stmt::query`],
//! [`Stmt::query_as`] or [`Stmt::query_scalar`] inside `on_pool!`. Numbered
//! placeholders can be written in any order and repeated. Bare `?` is never
//! mixed in: sqlx numbers bare `?` on its own, from 1, whatever numbered
//! placeholders the statement holds. See `docs/adr/0003-sql-statements.md`.
//!
//! Statements with a fixed text need no builder: they use `$n` placeholders,
//! which SQLite accepts too, and run through `on_pool!`. Bulk inserts with
//! thousands of values keep their own SQL (`dialect.rs`): binding numbered
//! placeholders on SQLite looks each one up by a linear scan, harmless for a
//! few hundred values, quadratic for tens of thousands.

use crate::{Backend, Result, Store};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::error::BoxDynError;
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Arguments as _, Database, Encode, FromRow, IntoArguments, Type};

/// One value bound into a statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Date(Option<NaiveDate>),
    Time(Option<DateTime<Utc>>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<f64> for Arg {
    fn from(v: f64) -> Self {
        Arg::Real(Some(v))
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_string()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_string))
    }
}
impl From<NaiveDate> for Arg {
    fn from(v: NaiveDate) -> Self {
        Arg::Date(Some(v))
    }
}
impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Self {
        Arg::Time(Some(v))
    }
}

/// A backend whose arguments can hold every kind of [`Arg`] (both can).
pub(crate) trait BindArgs<'q>: Database {
    fn add(args: &mut Self::Arguments<'q>, arg: &'q Arg) -> Result<(), BoxDynError>;
}

impl<'q, DB: Database> BindArgs<'q> for DB
where
    Option<i64>: Encode<'q, DB> + Type<DB>,
    Option<f64>: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    Option<NaiveDate>: Encode<'q, DB> + Type<DB>,
    Option<DateTime<Utc>>: Encode<'q, DB> + Type<DB>,
{
    fn add(args: &mut Self::Arguments<'q>, arg: &'q Arg) -> Result<(), BoxDynError> {
        match arg {
            Arg::Int(v) => args.add(*v),
            Arg::Real(v) => args.add(*v),
            Arg::Text(v) => args.add(v.as_deref()),
            Arg::Date(v) => args.add(*v),
            Arg::Time(v) => args.add(*v),
        }
    }
}

/// SQL text with its bound values, for one backend.
#[derive(Debug, Clone)]
pub(crate) struct Stmt {
    backend: Backend,
    sql: String,
    args: Vec<Arg>,
}

impl Stmt {
    /// An empty statement for the store's backend.
    pub(crate) fn new(store: &Store) -> Self {
        Stmt {
            backend: store.backend(),
            sql: String::new(),
            args: Vec::new(),
        }
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `v`.
    pub(crate) fn bind(&mut self, v: impl Into<Arg>) -> &mut Self {
        let p = self.param(v);
        self.sql.push_str(&p);
        self
    }

    /// Keeps `v` as the next bound value and returns its placeholder, to be
    /// written into the text (any number of times, anywhere) by the caller.
    pub(crate) fn param(&mut self, v: impl Into<Arg>) -> String {
        self.args.push(v.into());
        let n = self.args.len();
        match self.backend {
            Backend::Sqlite => format!("?{n}"),
            Backend::Postgres => format!("${n}"),
        }
    }

    /// Appends one placeholder per value, comma-separated (for `IN (…)`; the
    /// caller makes sure there is at least one value).
    pub(crate) fn bind_list<V: Into<Arg>>(
        &mut self,
        values: impl IntoIterator<Item = V>,
    ) -> &mut Self {
        let list = self.param_list(values);
        self.sql.push_str(&list);
        self
    }

    /// Keeps the values and returns their placeholders, comma-separated, to
    /// be written into the text by the caller (a list used twice is bound once).
    pub(crate) fn param_list<V: Into<Arg>>(
        &mut self,
        values: impl IntoIterator<Item = V>,
    ) -> String {
        let mut list = String::new();
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                list.push_str(", ");
            }
            list.push_str(&self.param(v));
        }
        list
    }

    /// The SQL text.
    #[cfg(test)]
    pub(crate) fn sql(&self) -> &str {
        &self.sql
    }

    fn arguments<'q, DB: BindArgs<'q>>(&'q self) -> Result<DB::Arguments<'q>> {
        let mut args = DB::Arguments::default();
        args.reserve(self.args.len(), 0);
        for a in &self.args {
            DB::add(&mut args, a).map_err(sqlx::Error::Encode)?;
        }
        Ok(args)
    }

    /// The statement with its values bound, to execute or fetch rows.
    pub(crate) fn query<'q, DB: BindArgs<'q>>(&'q self) -> Result<Query<'q, DB, DB::Arguments<'q>>>
    where
        DB::Arguments<'q>: IntoArguments<'q, DB>,
    {
        Ok(sqlx::query_with(&self.sql, self.arguments::<DB>()?))
    }

    /// The statement with its values bound, reading rows as `O` (by column name
    /// for `#[derive(sqlx::FromRow)]` structs).
    pub(crate) fn query_as<'q, DB: BindArgs<'q>, O>(
        &'q self,
    ) -> Result<QueryAs<'q, DB, O, DB::Arguments<'q>>>
    where
        DB::Arguments<'q>: IntoArguments<'q, DB>,
        O: for<'r> FromRow<'r, DB::Row>,
    {
        Ok(sqlx::query_as_with(&self.sql, self.arguments::<DB>()?))
    }

    /// The statement with its values bound, reading the first column as `O`.
    pub(crate) fn query_scalar<'q, DB: BindArgs<'q>, O>(
        &'q self,
    ) -> Result<QueryScalar<'q, DB, O, DB::Arguments<'q>>>
    where
        DB::Arguments<'q>: IntoArguments<'q, DB>,
        (O,): for<'r> FromRow<'r, DB::Row>,
    {
        Ok(sqlx::query_scalar_with(&self.sql, self.arguments::<DB>()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(backend: Backend) -> Stmt {
        Stmt {
            backend,
            sql: String::new(),
            args: Vec::new(),
        }
    }

    #[test]
    fn placeholders_are_numbered_in_each_backend_s_style() {
        for (backend, want) in [
            (
                Backend::Postgres,
                "SELECT 1 WHERE a = $1 AND b IN ($2, $3) AND c = $4 AND d = $1",
            ),
            (
                Backend::Sqlite,
                "SELECT 1 WHERE a = ?1 AND b IN (?2, ?3) AND c = ?4 AND d = ?1",
            ),
        ] {
            let mut s = stmt(backend);
            s.push("SELECT 1 WHERE a = ");
            let a = s.param("x");
            s.push(&a).push(" AND b IN (").bind_list([1i64, 2]);
            s.push(") AND c = ")
                .bind(Some(3i64))
                .push(" AND d = ")
                .push(&a);
            assert_eq!(s.sql(), want);
            assert_eq!(
                s.args,
                vec![
                    Arg::from("x"),
                    Arg::from(1i64),
                    Arg::from(2i64),
                    Arg::from(3i64)
                ]
            );
        }
    }

    #[tokio::test]
    async fn bound_values_reach_sqlite_in_order() {
        let store = Store::connect("sqlite::memory:").await;
        let Ok(store) = store else {
            panic!("{store:?}");
        };
        let mut s = Stmt::new(&store);
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default();
        s.push("SELECT ").bind(7i64).push(" + 0 AS n, ");
        s.bind(day)
            .push(" AS day, ")
            .bind(None::<&str>)
            .push(" IS NULL AS missing, ");
        s.push("(SELECT COUNT(*) FROM (SELECT 1 AS v UNION SELECT 2 UNION SELECT 3) WHERE v IN (");
        s.bind_list([1i64, 3]).push(")) AS listed");
        #[derive(sqlx::FromRow)]
        struct Out {
            n: i64,
            day: NaiveDate,
            missing: bool,
            listed: i64,
        }
        let Store::Sqlite(p) = &store else {
            panic!("not SQLite");
        };
        let out: Result<Out> = match s.query_as() {
            Ok(q) => q.fetch_one(p).await.map_err(Into::into),
            Err(e) => Err(e),
        };
        let Ok(out) = out else {
            panic!("{out:?}", out = out.err());
        };
        assert_eq!((out.n, out.day, out.missing, out.listed), (7, day, true, 2));
        store.close().await;
    }
}
