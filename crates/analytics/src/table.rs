//! The feature table: one row per customer, one column per feature, and its
//! CSV form (`customer_key`, then the features; an empty cell is missing).

use crate::AnalyticsError;
use chrono::NaiveDate;
use std::io::Write;

/// One feature over all customers (row `i` is the table's customer `i`).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureColumn {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// Features of every customer as of one date. Rows are in customer id order.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    pub as_of: NaiveDate,
    /// Store ids of the customers, ascending.
    pub customer_ids: Vec<i64>,
    /// Each customer's key for export: the source key of the customer's first
    /// source key (lowest id, i.e. first loaded), without its source; `#ID`
    /// (the store id) for a customer without one.
    pub customer_keys: Vec<String>,
    pub columns: Vec<FeatureColumn>,
}

impl FeatureTable {
    /// Number of customers (rows).
    pub fn len(&self) -> usize {
        self.customer_ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.customer_ids.is_empty()
    }

    /// The column of feature `name`.
    pub fn column(&self, name: &str) -> Option<&[Option<f64>]> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.values.as_slice())
    }

    /// The row of the customer with store id `customer_id`.
    pub fn row_of_id(&self, customer_id: i64) -> Option<usize> {
        self.customer_ids.binary_search(&customer_id).ok()
    }

    /// The row of the customer exported as `key`.
    pub fn row_of_key(&self, key: &str) -> Option<usize> {
        self.customer_keys.iter().position(|k| k == key)
    }

    /// Where this table and `other` differ, value by value and bitwise (a
    /// missing value equals only a missing value): one line per differing
    /// cell, or one line when the customers or the columns are not the same.
    /// Empty when the two tables hold the same features.
    pub fn differences(&self, other: &FeatureTable) -> Vec<String> {
        if self.customer_ids != other.customer_ids {
            return vec![format!(
                "different customers: {} and {}",
                self.len(),
                other.len()
            )];
        }
        let names = |t: &FeatureTable| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        if names(self) != names(other) {
            return vec![format!(
                "different columns: {:?} and {:?}",
                names(self),
                names(other)
            )];
        }
        let mut out = Vec::new();
        for (a, b) in self.columns.iter().zip(&other.columns) {
            for (row, (x, y)) in a.values.iter().zip(&b.values).enumerate() {
                if x.map(f64::to_bits) != y.map(f64::to_bits) {
                    out.push(format!(
                        "{} of customer {}: {x:?} and {y:?}",
                        a.name, self.customer_ids[row]
                    ));
                }
            }
        }
        out
    }

    /// Feature `name` of the customer in `row` (`None` when missing or unknown).
    pub fn value(&self, row: usize, name: &str) -> Option<f64> {
        self.column(name)?.get(row).copied().flatten()
    }

    /// Writes the table as CSV: header `customer_key` then the feature names;
    /// one row per customer; numbers in their shortest exact decimal form
    /// (counts come out as integers); an empty cell for a missing value.
    /// Returns the number of data rows.
    pub fn write_csv(&self, out: impl Write) -> Result<u64, AnalyticsError> {
        let mut w = csv::Writer::from_writer(out);
        let mut record: Vec<String> = Vec::with_capacity(self.columns.len() + 1);
        record.push("customer_key".to_string());
        record.extend(self.columns.iter().map(|c| c.name.clone()));
        w.write_record(&record)?;
        for (row, key) in self.customer_keys.iter().enumerate() {
            record.clear();
            record.push(rapport_domain::text::spreadsheet_cell(key).into_owned());
            for c in &self.columns {
                record.push(match c.values.get(row).copied().flatten() {
                    Some(v) if v.is_finite() => format!("{v}"),
                    _ => String::new(),
                });
            }
            w.write_record(&record)?;
        }
        w.flush()?;
        Ok(self.customer_keys.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two(balance: Option<f64>) -> FeatureTable {
        FeatureTable {
            as_of: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
            customer_ids: vec![1, 2],
            customer_keys: vec!["C1".into(), "C2".into()],
            columns: vec![FeatureColumn {
                name: "balance_now".into(),
                values: vec![Some(1.5), balance],
            }],
        }
    }

    #[test]
    fn differences_are_bitwise_and_a_missing_value_equals_only_a_missing_value() {
        assert!(two(None).differences(&two(None)).is_empty());
        assert_eq!(
            two(None).differences(&two(Some(0.0))),
            vec!["balance_now of customer 2: None and Some(0.0)".to_string()]
        );
        // 0.0 and -0.0 compare equal as numbers, not as bits.
        assert_eq!(two(Some(0.0)).differences(&two(Some(-0.0))).len(), 1);
        let mut other = two(None);
        other.customer_ids[1] = 3;
        assert_eq!(two(None).differences(&other).len(), 1);
    }

    #[test]
    fn the_csv_has_a_key_column_then_features_with_empty_cells_for_missing(
    ) -> Result<(), AnalyticsError> {
        let t = FeatureTable {
            as_of: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
            customer_ids: vec![1, 2],
            customer_keys: vec!["C1".into(), "C,2".into()],
            columns: vec![
                FeatureColumn {
                    name: "txn_count_30".into(),
                    values: vec![Some(3.0), Some(0.0)],
                },
                FeatureColumn {
                    name: "balance_now".into(),
                    values: vec![Some(1234.5), None],
                },
            ],
        };
        let mut out = Vec::new();
        assert_eq!(t.write_csv(&mut out)?, 2);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "customer_key,txn_count_30,balance_now\nC1,3,1234.5\n\"C,2\",0,\n"
        );
        assert_eq!(t.value(0, "balance_now"), Some(1234.5));
        assert_eq!(t.value(1, "balance_now"), None);
        assert_eq!(t.row_of_id(2), Some(1));
        assert_eq!(t.row_of_key("C,2"), Some(1));
        Ok(())
    }
}
