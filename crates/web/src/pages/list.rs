//! What every list page shares: the query of a list (sort column and
//! direction, page, export format), lenient parsing (a bad page number is
//! page 1, an unknown sort column the default — never the framework's bare
//! 400), sort links for column headings, and CSV export neutralised for
//! spreadsheets (no cell starts a formula; UTF-8 with a byte-order mark so
//! that Excel shows Chinese).

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The part of a list's query string every list understands.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ListQuery {
    /// The column to sort by (one of the page's own column names).
    pub sort: Option<String>,
    /// `asc` or `desc`.
    pub dir: Option<String>,
    /// The page, from 1 (anything else is page 1).
    pub page: Option<String>,
    /// `csv` to download the whole filtered list.
    pub format: Option<String>,
}

impl ListQuery {
    /// The page number, from 1; empty or unparseable text is page 1.
    pub fn page(&self) -> u32 {
        self.page
            .as_deref()
            .and_then(|p| p.trim().parse::<u32>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1)
    }

    /// The sort column if it is one of `allowed`, else `default`.
    pub fn sort_or<'a>(&self, allowed: &[&'a str], default: &'a str) -> &'a str {
        self.sort
            .as_deref()
            .and_then(|s| allowed.iter().find(|a| **a == s).copied())
            .unwrap_or(default)
    }

    /// True when the list is sorted descending (`dir=desc`), else `default_desc`.
    pub fn descending(&self, default_desc: bool) -> bool {
        match self.dir.as_deref() {
            Some("desc") => true,
            Some("asc") => false,
            _ => default_desc,
        }
    }

    /// True when the whole list is asked for as CSV.
    pub fn wants_csv(&self) -> bool {
        self.format.as_deref() == Some("csv")
    }
}

/// A column heading's sort link: the list's own filters (`base`, an
/// already-encoded query string without sort/dir/page), this column, and
/// the direction that flips the current one.
pub fn sort_href(path: &str, base: &str, col: &str, current: &str, desc: bool) -> String {
    let dir = if col == current && !desc {
        "desc"
    } else {
        "asc"
    };
    let sep = if base.is_empty() { "" } else { "&" };
    format!("{path}?{base}{sep}sort={col}&dir={dir}")
}

/// Encodes one query-string value.
pub fn qv(s: &str) -> String {
    super::enc(s)
}

/// A CSV download: the header and rows, every cell neutralised for
/// spreadsheets, UTF-8 with a byte-order mark, as an attachment.
pub fn csv_response(filename: &str, header_row: &[String], rows: &[Vec<String>]) -> Response {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(rapport_domain::text::spreadsheet_record(header_row.iter()));
    for r in rows {
        let _ = w.write_record(rapport_domain::text::spreadsheet_record(r.iter()));
    }
    let mut body = "\u{feff}".as_bytes().to_vec();
    body.extend(w.into_inner().unwrap_or_default());
    let safe: String = filename
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bad_pages_and_sorts_fall_back() {
        let q = ListQuery {
            page: Some("abc".into()),
            sort: Some("evil;drop".into()),
            ..Default::default()
        };
        assert_eq!(q.page(), 1);
        assert_eq!(q.sort_or(&["name", "severity"], "severity"), "severity");
        let q = ListQuery {
            page: Some("3".into()),
            sort: Some("name".into()),
            dir: Some("desc".into()),
            ..Default::default()
        };
        assert_eq!(q.page(), 3);
        assert_eq!(q.sort_or(&["name"], "x"), "name");
        assert!(q.descending(false));
        assert_eq!(
            sort_href("/alerts", "status=new", "name", "name", false),
            "/alerts?status=new&sort=name&dir=desc"
        );
    }

    #[tokio::test]
    async fn csv_cells_never_start_a_formula() {
        let res = csv_response(
            "x.csv",
            &["name".into()],
            &[
                vec!["=HYPERLINK(\"http://evil\")".into()],
                vec!["王".into()],
            ],
        );
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert!(!text.contains("\n=HYP"), "{text}");
        assert!(text.contains('王'));
    }
}
