//! Labelled extracts: a CSV file (plain or gzip) an analyst brings, with one
//! binary target column. The delimiter and the quote are detected from the
//! header, every other column becomes a numeric or a categorical feature, and
//! rows that cannot be used are kept with their reason, so that
//! `rows_read = rows_accepted + rejected`.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{ModelError, Result};

/// Cell values read as "no value" in every column.
pub const MISSING_TOKENS: &[&str] = &["", "NA", "N/A", "NaN", "nan", "null", "NULL", "?"];

/// What to read from an extract.
#[derive(Debug, Clone, Default)]
pub struct ExtractSpec {
    /// The binary target column.
    pub target: String,
    /// The target value that counts as positive (the event: churned,
    /// defaulted, subscribed). Detected for 0/1, no/yes, false/true, n/y
    /// and good/bad when not given.
    pub positive: Option<String>,
    /// Columns left out of the features (identifiers, leaking columns).
    pub exclude: Vec<String>,
    /// A row identifier, kept for explanations and left out of the features.
    pub id: Option<String>,
    /// A time column: evaluation then holds out the latest rows instead of
    /// folding at random. Left out of the features.
    pub time: Option<String>,
    /// Read for scoring: the target column may be absent (when present it is
    /// left out, its values unread; the dataset's target is all 0), and no
    /// column is dropped for holding one value (a model needs every column
    /// it was trained on, whatever the rows being scored).
    pub scoring: bool,
}

/// One feature column.
#[derive(Debug, Clone)]
pub enum Column {
    /// Numbers; `NaN` where the cell was missing.
    Numeric(Vec<f64>),
    /// Category codes into `levels`; [`MISSING_LEVEL`] where missing.
    Categorical {
        levels: Vec<String>,
        codes: Vec<u32>,
    },
}

/// The code of a missing categorical cell.
pub const MISSING_LEVEL: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub struct Feature {
    pub name: String,
    pub column: Column,
}

impl Feature {
    pub fn is_numeric(&self) -> bool {
        matches!(self.column, Column::Numeric(_))
    }

    /// The category name of row `row`, `None` for numeric or missing.
    pub fn level(&self, row: usize) -> Option<&str> {
        match &self.column {
            Column::Categorical { levels, codes } => {
                levels.get(codes[row] as usize).map(String::as_str)
            }
            Column::Numeric(_) => None,
        }
    }
}

/// A labelled table: features column by column, the 0/1 target, and the
/// optional id and time columns.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub features: Vec<Feature>,
    pub target: Vec<u8>,
    pub ids: Option<Vec<String>>,
    pub times: Option<Vec<String>>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.target.len()
    }

    pub fn is_empty(&self) -> bool {
        self.target.is_empty()
    }

    pub fn positives(&self) -> usize {
        self.target.iter().filter(|&&y| y == 1).count()
    }

    pub fn feature(&self, name: &str) -> Option<&Feature> {
        self.features.iter().find(|f| f.name == name)
    }
}

/// A row that could not be used, with the field and the reason, and the raw
/// record so that nothing is lost.
#[derive(Debug, Clone, Serialize)]
pub struct RejectedRow {
    pub row: u64,
    pub field: String,
    pub reason: String,
    pub raw: String,
}

/// What reading an extract did.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub file: PathBuf,
    pub delimiter: String,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rejected: Vec<RejectedRow>,
    pub target: String,
    pub positive: String,
    pub positives: u64,
    pub numeric_features: Vec<String>,
    pub categorical_features: Vec<String>,
    /// Columns dropped because they hold a single value.
    pub constant_columns: Vec<String>,
    pub excluded: Vec<String>,
}

/// Read a labelled extract.
pub fn read_extract(path: &Path, spec: &ExtractSpec) -> Result<(Dataset, LoadReport)> {
    let bytes = read_maybe_gzip(path)?;
    read_extract_bytes(path, &bytes, spec)
}

/// The bytes of `path`, gunzipped when they start with the gzip magic.
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>> {
    let io = |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    };
    let raw = std::fs::read(path).map_err(io)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 6);
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(io)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Pick the delimiter that splits the header (outside quotes) into the most
/// fields among `, ; \t |`, preferring one that gives the second line the
/// same count.
pub fn detect_delimiter(text: &[u8]) -> u8 {
    let mut lines = text.split(|&b| b == b'\n');
    let header = lines.next().unwrap_or_default();
    let second = lines.next().unwrap_or_default();
    let count = |line: &[u8], delim: u8| {
        let mut quoted = false;
        line.iter()
            .filter(|&&b| {
                if b == b'"' {
                    quoted = !quoted;
                }
                !quoted && b == delim
            })
            .count()
    };
    let mut best = (b',', 0usize, false);
    for delim in [b',', b';', b'\t', b'|'] {
        let n = count(header, delim);
        let consistent = second.is_empty() || count(second, delim) == n;
        if n > 0 && ((consistent && !best.2) || (consistent == best.2 && n > best.1)) {
            best = (delim, n, consistent);
        }
    }
    best.0
}

fn is_missing(cell: &str) -> bool {
    MISSING_TOKENS.contains(&cell)
}

/// Read an extract already in memory; `path` only names it in messages.
pub fn read_extract_bytes(
    path: &Path,
    bytes: &[u8],
    spec: &ExtractSpec,
) -> Result<(Dataset, LoadReport)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let delimiter = detect_delimiter(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.records();
    let csv_error = |row: u64, e: csv::Error| ModelError::Csv {
        path: path.to_path_buf(),
        row,
        message: e.to_string(),
    };
    let header: Vec<String> = match records.next() {
        Some(r) => r
            .map_err(|e| csv_error(1, e))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect(),
        None => {
            return Err(ModelError::Extract {
                path: path.to_path_buf(),
                message: "the file is empty".into(),
            });
        }
    };
    let column_error = |field: &str, message: String| ModelError::Column {
        path: path.to_path_buf(),
        field: field.to_string(),
        message,
    };
    let mut seen = BTreeSet::new();
    for name in &header {
        if !seen.insert(name.as_str()) {
            return Err(column_error(name, "the header names it twice".into()));
        }
    }
    let index_of = |name: &str| -> Result<usize> {
        header.iter().position(|h| h == name).ok_or_else(|| {
            column_error(
                name,
                format!("not in the header (columns: {})", header.join(", ")),
            )
        })
    };
    let target_at = if spec.scoring {
        header.iter().position(|h| *h == spec.target)
    } else {
        Some(index_of(&spec.target)?)
    };
    let id_at = spec.id.as_deref().map(index_of).transpose()?;
    let time_at = spec.time.as_deref().map(index_of).transpose()?;
    let mut excluded = Vec::new();
    for name in &spec.exclude {
        index_of(name)?;
        excluded.push(name.clone());
    }
    let feature_at: Vec<usize> = (0..header.len())
        .filter(|&i| {
            Some(i) != target_at
                && Some(i) != id_at
                && Some(i) != time_at
                && !spec.exclude.contains(&header[i])
        })
        .collect();

    // First pass: keep the cells of every usable row as text.
    let mut cells: Vec<Vec<String>> = vec![Vec::new(); feature_at.len()];
    let mut target_raw: Vec<String> = Vec::new();
    let mut ids = id_at.map(|_| Vec::new());
    let mut times = time_at.map(|_| Vec::new());
    let mut rejected = Vec::new();
    let mut rows_read = 0u64;
    for (n, record) in records.enumerate() {
        let row = n as u64 + 2;
        let record = record.map_err(|e| csv_error(row, e))?;
        if record.len() == 1 && record.get(0).is_some_and(|c| c.trim().is_empty()) {
            continue; // a blank line
        }
        rows_read += 1;
        let raw = || {
            record
                .iter()
                .collect::<Vec<_>>()
                .join(&char::from(delimiter).to_string())
        };
        if record.len() != header.len() {
            rejected.push(RejectedRow {
                row,
                field: String::new(),
                reason: format!(
                    "has {} fields where the header has {}",
                    record.len(),
                    header.len()
                ),
                raw: raw(),
            });
            continue;
        }
        let target = match target_at {
            Some(at) if !spec.scoring => record[at].trim(),
            _ => "",
        };
        if !spec.scoring && is_missing(target) {
            rejected.push(RejectedRow {
                row,
                field: spec.target.clone(),
                reason: "the target is missing".into(),
                raw: raw(),
            });
            continue;
        }
        if let (Some(at), Some(times)) = (time_at, times.as_mut()) {
            let t = record[at].trim();
            if is_missing(t) {
                rejected.push(RejectedRow {
                    row,
                    field: header[at].clone(),
                    reason: "the time is missing".into(),
                    raw: raw(),
                });
                continue;
            }
            times.push(t.to_string());
        }
        if let (Some(at), Some(ids)) = (id_at, ids.as_mut()) {
            ids.push(record[at].trim().to_string());
        }
        target_raw.push(target.to_string());
        for (slot, &at) in cells.iter_mut().zip(&feature_at) {
            slot.push(record[at].trim().to_string());
        }
    }

    let (positive, target) = if spec.scoring {
        (
            spec.positive.clone().unwrap_or_default(),
            vec![0; target_raw.len()],
        )
    } else {
        binary_target(&target_raw, spec.positive.as_deref())
            .map_err(|message| column_error(&spec.target, message))?
    };
    if target.is_empty() {
        return Err(ModelError::Extract {
            path: path.to_path_buf(),
            message: format!("no usable rows ({} rejected)", rejected.len()),
        });
    }

    let mut features = Vec::new();
    let mut numeric_features = Vec::new();
    let mut categorical_features = Vec::new();
    let mut constant_columns = Vec::new();
    for (values, &at) in cells.into_iter().zip(&feature_at) {
        let name = header[at].clone();
        let column = type_column(values);
        let distinct = match &column {
            Column::Numeric(v) => {
                let mut d: Vec<u64> = v
                    .iter()
                    .filter(|x| !x.is_nan())
                    .map(|x| x.to_bits())
                    .collect();
                d.sort_unstable();
                d.dedup();
                d.len() + usize::from(v.iter().any(|x| x.is_nan()))
            }
            Column::Categorical { levels, codes } => {
                levels.len() + usize::from(codes.contains(&MISSING_LEVEL))
            }
        };
        if distinct <= 1 && !spec.scoring {
            constant_columns.push(name);
            continue;
        }
        match column {
            Column::Numeric(_) => numeric_features.push(name.clone()),
            Column::Categorical { .. } => categorical_features.push(name.clone()),
        }
        features.push(Feature { name, column });
    }
    let positives = target.iter().filter(|&&y| y == 1).count() as u64;
    let report = LoadReport {
        file: path.to_path_buf(),
        delimiter: match delimiter {
            b'\t' => "tab".into(),
            d => char::from(d).to_string(),
        },
        rows_read,
        rows_accepted: target.len() as u64,
        rejected,
        target: spec.target.clone(),
        positive,
        positives,
        numeric_features,
        categorical_features,
        constant_columns,
        excluded,
    };
    Ok((
        Dataset {
            features,
            target,
            ids,
            times,
        },
        report,
    ))
}

/// Map the target's text values to 0/1.
fn binary_target(values: &[String], positive: Option<&str>) -> Result<(String, Vec<u8>), String> {
    let distinct: BTreeSet<&str> = values.iter().map(String::as_str).collect();
    let positive = match positive {
        Some(p) => {
            if !distinct.contains(p) {
                return Err(format!(
                    "the positive value {p:?} never occurs (values: {})",
                    preview(&distinct)
                ));
            }
            p.to_string()
        }
        None => {
            if distinct.len() != 2 {
                return Err(format!(
                    "a binary target needs exactly two values, found {} ({}); name the positive one with --positive",
                    distinct.len(),
                    preview(&distinct)
                ));
            }
            const PAIRS: &[(&str, &str)] = &[
                ("0", "1"),
                ("no", "yes"),
                ("false", "true"),
                ("n", "y"),
                ("good", "bad"),
            ];
            let lower: Vec<String> = distinct.iter().map(|v| v.to_ascii_lowercase()).collect();
            let found = PAIRS.iter().find_map(|(neg, pos)| {
                (lower.iter().any(|v| v == neg) && lower.iter().any(|v| v == pos))
                    .then(|| distinct.iter().find(|v| v.eq_ignore_ascii_case(pos)))
                    .flatten()
            });
            match found {
                Some(p) => p.to_string(),
                None => {
                    return Err(format!(
                        "cannot tell which of {} is the event; name it with --positive",
                        preview(&distinct)
                    ));
                }
            }
        }
    };
    let target = values.iter().map(|v| u8::from(*v == positive)).collect();
    Ok((positive, target))
}

fn preview(values: &BTreeSet<&str>) -> String {
    let mut shown: Vec<String> = values.iter().take(6).map(|v| format!("{v:?}")).collect();
    if values.len() > 6 {
        shown.push("…".into());
    }
    shown.join(", ")
}

/// Numeric when every present cell parses as a number, else categorical.
fn type_column(values: Vec<String>) -> Column {
    let parsed: Option<Vec<f64>> = values
        .iter()
        .map(|v| {
            if is_missing(v) {
                Some(f64::NAN)
            } else {
                v.parse::<f64>().ok().filter(|x| x.is_finite())
            }
        })
        .collect();
    if let Some(numbers) = parsed.filter(|n| n.iter().any(|x| !x.is_nan())) {
        return Column::Numeric(numbers);
    }
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut levels = Vec::new();
    let codes = values
        .into_iter()
        .map(|v| {
            if is_missing(&v) {
                return MISSING_LEVEL;
            }
            *index.entry(v).or_insert_with_key(|k| {
                levels.push(k.clone());
                (levels.len() - 1) as u32
            })
        })
        .collect();
    Column::Categorical { levels, codes }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn scoring_reads_without_the_target_and_keeps_constant_columns() {
        let text = b"id,age,job\n1,30,admin\n2,41,admin\n";
        let spec = ExtractSpec {
            target: "y".into(),
            id: Some("id".into()),
            scoring: true,
            ..ExtractSpec::default()
        };
        let (data, report) = read_extract_bytes(Path::new("s.csv"), text, &spec).unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data.target, vec![0, 0]);
        // `job` holds one value here but the model may need it.
        assert!(data.feature("job").is_some());
        assert!(report.constant_columns.is_empty());
        // With the target present it is left out of the features, unread.
        let text = b"id,age,y\n1,30,\n2,41,maybe\n";
        let (data, report) = read_extract_bytes(Path::new("s.csv"), text, &spec).unwrap();
        assert!(data.feature("y").is_none());
        assert!(report.rejected.is_empty());
        // Training still requires it.
        let train = ExtractSpec {
            scoring: false,
            ..spec
        };
        assert!(read_extract_bytes(Path::new("s.csv"), b"id,age\n1,30\n", &train).is_err());
    }

    fn spec(target: &str) -> ExtractSpec {
        ExtractSpec {
            target: target.into(),
            ..ExtractSpec::default()
        }
    }

    #[test]
    fn detects_semicolons_and_quotes() {
        let text = b"\"age\";\"job\";\"y\"\n30;\"admin.\";\"no\"\n41;\"blue-collar\";\"yes\"\n";
        assert_eq!(detect_delimiter(text), b';');
        let (data, report) = read_extract_bytes(Path::new("t.csv"), text, &spec("y")).unwrap();
        assert_eq!(report.delimiter, ";");
        assert_eq!(report.positive, "yes");
        assert_eq!(data.target, vec![0, 1]);
        assert!(data.feature("age").unwrap().is_numeric());
        assert_eq!(data.feature("job").unwrap().level(1), Some("blue-collar"));
    }

    #[test]
    fn a_comma_inside_quotes_does_not_count() {
        let text = b"a;b;c\n\"1,5\";2;0\n";
        assert_eq!(detect_delimiter(text), b';');
    }

    #[test]
    fn bad_rows_are_kept_with_their_reason_and_counts_reconcile() {
        let text = b"id,x,t\n1,2.5,1\n2,3.5\n3,,0\n4,1.0,\n5,2.0,0\n";
        let mut s = spec("t");
        s.id = Some("id".into());
        let (data, report) = read_extract_bytes(Path::new("bad.csv"), text, &s).unwrap();
        assert_eq!(report.rows_read, 5);
        assert_eq!(report.rows_accepted, 3);
        assert_eq!(
            report.rows_read,
            report.rows_accepted + report.rejected.len() as u64
        );
        assert_eq!(report.rejected[0].row, 3);
        assert!(report.rejected[0].reason.contains("2 fields"));
        assert_eq!(report.rejected[0].raw, "2,3.5");
        assert_eq!(report.rejected[1].row, 5);
        assert_eq!(report.rejected[1].field, "t");
        assert_eq!(data.ids.as_deref().unwrap(), ["1", "3", "5"]);
        let Column::Numeric(x) = &data.feature("x").unwrap().column else {
            panic!("x is numeric")
        };
        assert!(x[1].is_nan());
    }

    #[test]
    fn errors_name_the_file_and_the_column() {
        let text = b"a,b\n1,2\n";
        let err = read_extract_bytes(Path::new("f.csv"), text, &spec("y")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.csv: column y: not in the header (columns: a, b)"
        );
        let text = b"a,y\n1,red\n2,green\n3,blue\n";
        let err = read_extract_bytes(Path::new("f.csv"), text, &spec("y")).unwrap_err();
        assert!(err.to_string().contains("--positive"), "{err}");
        let mut s = spec("y");
        s.positive = Some("red".into());
        let (data, _) = read_extract_bytes(Path::new("f.csv"), text, &s).unwrap();
        assert_eq!(data.target, vec![1, 0, 0]);
    }

    #[test]
    fn constant_and_excluded_columns_are_not_features() {
        let text = b"k,c,x,y\n1,a,5,0\n2,a,6,1\n3,a,7,0\n";
        let mut s = spec("y");
        s.exclude = vec!["k".into()];
        let (data, report) = read_extract_bytes(Path::new("f.csv"), text, &s).unwrap();
        assert_eq!(report.constant_columns, ["c"]);
        assert_eq!(report.excluded, ["k"]);
        assert_eq!(data.features.len(), 1);
        assert_eq!(data.features[0].name, "x");
    }
}
