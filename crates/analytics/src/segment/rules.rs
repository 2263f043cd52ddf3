//! Rule segments: which rows a configured expression matches, given the
//! features, the health score and band, and the tier of each row.
//!
//! Owns the binding of expression variables to row values (a feature
//! column, `score`, `band`, `tier`, a model's score, the membership of a
//! segment made before) and the parallel evaluation. Must never
//! parse or type-check expressions (that is `crate::expr`, called when the
//! configuration is loaded) nor treat a missing value as anything but
//! `null`, which never matches.

use super::{segment_reference, SegmentError, SegmentInput, Tier};
use crate::expr::{segment_of_variable, Expr, Value};
use rayon::prelude::*;
use std::collections::HashMap;

/// Rows per parallel work unit.
const CHUNK_ROWS: usize = 8192;

/// Where one variable of an expression takes its value.
enum Slot<'a> {
    Feature(&'a [Option<f64>]),
    Score,
    Band,
    Tier,
    /// A model's probability per row (`None`: no scores given, `null`).
    Model(Option<&'a [Option<f64>]>),
    /// Membership per row of a segment made before.
    Segment(&'a [bool]),
}

/// The rows (ascending) of `input` that `expr` matches; `membership` holds
/// the segments made before (by stored code) that `in_segment` may read.
pub(crate) fn matching_rows(
    expr: &Expr,
    input: &SegmentInput<'_>,
    tiers: &[Tier],
    membership: &HashMap<String, Vec<bool>>,
) -> Result<Vec<usize>, SegmentError> {
    let slots: Vec<Slot<'_>> = expr
        .variables()
        .into_iter()
        .map(|name| match name {
            "score" => Ok(Slot::Score),
            "band" => Ok(Slot::Band),
            "tier" => Ok(Slot::Tier),
            model if crate::alerts::model_kind(model).is_some() => {
                Ok(Slot::Model(input.models.get(model).map(Vec::as_slice)))
            }
            segment if segment_of_variable(segment).is_some() => segment_of_variable(segment)
                .and_then(segment_reference)
                .and_then(|code| membership.get(&code))
                .map(|m| Slot::Segment(m.as_slice()))
                .ok_or_else(|| SegmentError::MissingSegment(segment.to_string())),
            feature => input
                .features
                .column(feature)
                .map(Slot::Feature)
                .ok_or_else(|| SegmentError::MissingFeature(feature.to_string())),
        })
        .collect::<Result<_, _>>()?;
    let rows = input.features.len();
    let value_of = |slot: &Slot<'_>, row: usize| -> Value {
        match slot {
            Slot::Feature(values) => Value::num(values.get(row).copied().flatten()),
            Slot::Score => Value::num(input.scores.get(row).copied().flatten()),
            Slot::Band => match input.bands.get(row).copied().flatten() {
                Some(b) => Value::Str(b.as_str().to_string()),
                None => Value::Null,
            },
            Slot::Tier => match tiers.get(row) {
                Some(t) => Value::Str(t.as_str().to_string()),
                None => Value::Null,
            },
            Slot::Model(values) => Value::num(values.and_then(|v| v.get(row).copied().flatten())),
            Slot::Segment(members) => Value::Bool(members.get(row).copied().unwrap_or(false)),
        }
    };
    let chunks: Vec<Vec<usize>> = (0..rows.div_ceil(CHUNK_ROWS))
        .into_par_iter()
        .map(|chunk| {
            let mut values: Vec<Value> = Vec::with_capacity(slots.len());
            let mut matched = Vec::new();
            for row in chunk * CHUNK_ROWS..((chunk + 1) * CHUNK_ROWS).min(rows) {
                values.clear();
                values.extend(slots.iter().map(|s| value_of(s, row)));
                if expr.eval_slots(&values) == Value::Bool(true) {
                    matched.push(row);
                }
            }
            matched
        })
        .collect();
    Ok(chunks.concat())
}
