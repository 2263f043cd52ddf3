//! Reading delimited files: bytes in, rows with physical line numbers out.
//!
//! Owns everything about the file as bytes: transparent gzip (detected by its
//! magic number, whatever the file is called), the SHA-256 of the bytes on disk,
//! a UTF-8 byte-order mark, the delimiter (sniffed from the header line: `,`,
//! `;` or tab), the header (names matched case-insensitively after trimming),
//! and the structural row checks that happen before any value is looked at:
//! column count and UTF-8. Streams: one record at a time, never the whole file.
//!
//! Must never look at what values mean; that is the row parsers' job.

use crate::error::IngestError;
use crate::quarantine::{Reason, Rejection};
use rapport_store::QuarantineEntry;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

const BUFFER: usize = 1 << 16;

/// The hex SHA-256 of a file's bytes as stored on disk (compressed if gzipped).
pub(crate) fn sha256_file(path: &Path, display: &str) -> Result<String, IngestError> {
    let mut f = File::open(path).map_err(|source| IngestError::Open {
        file: display.to_string(),
        source,
    })?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; BUFFER];
    loop {
        let n = f.read(&mut buf).map_err(|source| IngestError::Read {
            file: display.to_string(),
            line: None,
            source,
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Opens a file for reading, decompressing gzip when the bytes say so, and
/// skipping a UTF-8 byte-order mark.
fn open_stream(path: &Path, display: &str) -> Result<Box<dyn BufRead + Send>, IngestError> {
    let read_err = |source| IngestError::Read {
        file: display.to_string(),
        line: None,
        source,
    };
    let file = File::open(path).map_err(|source| IngestError::Open {
        file: display.to_string(),
        source,
    })?;
    let mut raw = BufReader::with_capacity(BUFFER, file);
    let gz = raw.fill_buf().map_err(read_err)?.starts_with(&[0x1f, 0x8b]);
    let mut stream: Box<dyn BufRead + Send> = if gz {
        Box::new(BufReader::with_capacity(
            BUFFER,
            flate2::bufread::MultiGzDecoder::new(raw),
        ))
    } else {
        Box::new(raw)
    };
    if stream
        .fill_buf()
        .map_err(read_err)?
        .starts_with(&[0xEF, 0xBB, 0xBF])
    {
        stream.consume(3);
    }
    Ok(stream)
}

/// Picks the delimiter from the first line: the most frequent of `,` `;` tab
/// outside double quotes; `,` when none occurs.
pub(crate) fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|&b| b == b'\n').next().unwrap_or(head);
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    candidates[best]
}

/// Where physical lines start, as the bytes stream past: `(offset, line)` of
/// the first byte of every line that has content (not a line break). The csv
/// crate's own record positions lag behind CRLF ends and skipped blank lines;
/// this gives the true 1-based physical line of a record from its start offset.
/// Line breaks are `\n`, `\r\n` and a lone `\r`.
#[derive(Default)]
struct LineStarts {
    queue: VecDeque<(u64, u64)>,
}

type SharedLineStarts = Arc<Mutex<LineStarts>>;

/// A reader that records [`LineStarts`] of what it passes on.
struct LineCounter<R> {
    inner: R,
    starts: SharedLineStarts,
    offset: u64,
    line: u64,
    at_line_start: bool,
    prev_cr: bool,
}

impl<R: Read> LineCounter<R> {
    fn new(inner: R, starts: SharedLineStarts) -> Self {
        LineCounter {
            inner,
            starts,
            offset: 0,
            line: 1,
            at_line_start: true,
            prev_cr: false,
        }
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut starts = self.starts.lock().unwrap_or_else(PoisonError::into_inner);
        for (i, &b) in buf[..n].iter().enumerate() {
            match b {
                b'\r' => {
                    self.line += 1;
                    self.at_line_start = true;
                }
                b'\n' => {
                    if !self.prev_cr {
                        self.line += 1;
                    }
                    self.at_line_start = true;
                }
                _ => {
                    if self.at_line_start {
                        starts.queue.push_back((self.offset + i as u64, self.line));
                        self.at_line_start = false;
                    }
                }
            }
            self.prev_cr = b == b'\r';
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl LineStarts {
    /// The line of the first content at or after byte `offset`; earlier entries are dropped.
    fn line_at(&mut self, offset: u64) -> Option<u64> {
        while self.queue.front().is_some_and(|(o, _)| *o < offset) {
            self.queue.pop_front();
        }
        self.queue.front().map(|(_, l)| *l)
    }
}

/// Column names of a header, matched case-insensitively after trimming.
#[derive(Debug, Clone)]
pub struct Columns {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Columns {
    pub(crate) fn from_header(fields: impl IntoIterator<Item = String>) -> Self {
        let names: Vec<String> = fields
            .into_iter()
            .map(|f| {
                f.trim()
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .to_lowercase()
            })
            .collect();
        let mut index = HashMap::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            // The first of two equally named columns wins.
            index.entry(n.clone()).or_insert(i);
        }
        Columns { names, index }
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        // Called for every field of every row: a header has a handful of
        // columns, and comparing a few short names beats hashing one.
        if self.names.len() <= 24 {
            return self.names.iter().position(|n| n == name);
        }
        self.index.get(name).copied()
    }

    pub(crate) fn name(&self, i: usize) -> &str {
        self.names.get(i).map_or("?", String::as_str)
    }

    /// The first required column that the header lacks.
    pub(crate) fn missing<'r>(&self, required: &[&'r str]) -> Option<&'r str> {
        required
            .iter()
            .copied()
            .find(|r| !self.index.contains_key(*r))
    }

    pub(crate) fn joined(&self) -> String {
        self.names.join(", ")
    }
}

/// One structurally sound data row: right column count, valid UTF-8.
pub struct Row<'a> {
    columns: &'a Columns,
    record: &'a csv::StringRecord,
}

impl<'a> Row<'a> {
    /// The trimmed value of a column; `None` when the column is absent or the value empty.
    pub fn get(&self, column: &str) -> Option<&'a str> {
        let i = self.columns.position(column)?;
        let v = self.record.get(i)?.trim();
        (!v.is_empty()).then_some(v)
    }

    /// The trimmed value of a required column, or a `missing_required` rejection.
    pub fn require(&self, column: &str) -> Result<&'a str, Rejection> {
        self.get(column).ok_or_else(|| {
            Rejection::new(
                Reason::MissingRequired,
                column,
                format!("{column} is required"),
            )
        })
    }
}

/// A row parser: turns one row into a record or says why it cannot.
pub(crate) trait RowParser: Send + 'static {
    type Record: Send + 'static;
    fn parse(&self, row: &Row<'_>) -> Result<Self::Record, Rejection>;
}

impl<R: Send + 'static, F: Fn(&Row<'_>) -> Result<R, Rejection> + Send + 'static> RowParser for F {
    type Record = R;
    fn parse(&self, row: &Row<'_>) -> Result<R, Rejection> {
        self(row)
    }
}

/// A parsed row waiting for the store, with what is needed to quarantine it later.
pub(crate) struct Pending<R> {
    pub line: u64,
    pub record: csv::StringRecord,
    pub value: R,
}

/// What the reader makes of one data row.
pub(crate) enum Item<R> {
    Parsed(Pending<R>),
    Rejected(QuarantineEntry),
}

/// An open delimited file positioned after its header.
pub struct Table {
    pub(crate) file: String,
    pub(crate) delimiter: u8,
    pub(crate) columns: Columns,
    reader: csv::Reader<LineCounter<Box<dyn BufRead + Send>>>,
    starts: SharedLineStarts,
    last_line: u64,
    /// Rows handed back for reuse (see [`Table::record_pool`]).
    pool: RecordPool,
    spare: Vec<csv::ByteRecord>,
}

/// Row buffers handed back to a [`Table`] for reuse.
pub(crate) type RecordPool = Arc<Mutex<Vec<csv::ByteRecord>>>;

impl Table {
    /// Opens `path`, reads its header and checks that every `required` column
    /// (lower case) is present. `display` is the name used in errors and reports.
    pub fn open(path: &Path, display: &str, required: &[&str]) -> Result<Table, IngestError> {
        let mut stream = open_stream(path, display)?;
        let head = stream.fill_buf().map_err(|source| IngestError::Read {
            file: display.to_string(),
            line: Some(1),
            source,
        })?;
        let delimiter = sniff_delimiter(head);
        Self::from_stream(stream, display, delimiter, required)
    }

    /// Reads a table from any byte stream (used by tests and dry runs).
    pub fn from_reader(
        input: impl Read + Send + 'static,
        display: &str,
        required: &[&str],
    ) -> Result<Table, IngestError> {
        let mut stream: Box<dyn BufRead + Send> = Box::new(BufReader::with_capacity(BUFFER, input));
        let read_err = |source| IngestError::Read {
            file: display.to_string(),
            line: Some(1),
            source,
        };
        if stream
            .fill_buf()
            .map_err(read_err)?
            .starts_with(&[0xEF, 0xBB, 0xBF])
        {
            stream.consume(3);
        }
        let delimiter = sniff_delimiter(stream.fill_buf().map_err(read_err)?);
        Self::from_stream(stream, display, delimiter, required)
    }

    fn from_stream(
        stream: Box<dyn BufRead + Send>,
        display: &str,
        delimiter: u8,
        required: &[&str],
    ) -> Result<Table, IngestError> {
        let starts = SharedLineStarts::default();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(LineCounter::new(stream, starts.clone()));
        let mut header = csv::ByteRecord::new();
        let has_header = reader
            .read_byte_record(&mut header)
            .map_err(|e| read_error(display, Some(1), e))?;
        if !has_header {
            return Err(IngestError::NoHeader {
                file: display.to_string(),
            });
        }
        let columns = Columns::from_header(
            header
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned()),
        );
        if let Some(column) = columns.missing(required) {
            return Err(IngestError::MissingColumn {
                file: display.to_string(),
                column: column.to_string(),
                found: columns.joined(),
            });
        }
        let mut table = Table {
            file: display.to_string(),
            delimiter,
            columns,
            reader,
            starts,
            last_line: 0,
            pool: RecordPool::default(),
            spare: Vec::new(),
        };
        table.last_line = table.line_of(&header);
        Ok(table)
    }

    /// The physical line on which a record starts.
    fn line_of(&mut self, rec: &csv::ByteRecord) -> u64 {
        let Some(pos) = rec.position() else {
            return self.last_line + 1;
        };
        let mut starts = self.starts.lock().unwrap_or_else(PoisonError::into_inner);
        starts.line_at(pos.byte()).unwrap_or(self.last_line + 1)
    }

    /// A shared pool that takes rows back once they are no longer needed; the
    /// table reads into them again instead of allocating new ones.
    pub(crate) fn record_pool(&self) -> RecordPool {
        self.pool.clone()
    }

    fn spare_record(&mut self) -> csv::ByteRecord {
        if self.spare.is_empty() {
            let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
            std::mem::swap(&mut self.spare, &mut *pool);
        }
        match self.spare.pop() {
            Some(mut r) => {
                r.clear();
                r
            }
            None => csv::ByteRecord::new(),
        }
    }

    /// Reads every data row, hands sound rows to `parser`, and passes each
    /// result to `emit` (which returns `false` to stop early). Returns the
    /// number of data rows read.
    pub(crate) fn read_rows<P: RowParser>(
        &mut self,
        parser: &P,
        mut emit: impl FnMut(Item<P::Record>) -> bool,
    ) -> Result<u64, IngestError> {
        let mut read = 0u64;
        loop {
            let mut rec = self.spare_record();
            let more = self
                .reader
                .read_byte_record(&mut rec)
                .map_err(|e| read_error(&self.file, Some(self.last_line + 1), e))?;
            if !more {
                return Ok(read);
            }
            read += 1;
            let line = self.line_of(&rec);
            self.last_line = line;
            let item = self.check(line, rec, parser);
            if !emit(item) {
                return Ok(read);
            }
        }
    }

    fn check<P: RowParser>(&self, line: u64, rec: csv::ByteRecord, parser: &P) -> Item<P::Record> {
        if rec.len() != self.columns.len() {
            let spans_lines = rec.iter().any(|f| f.contains(&b'\n'));
            let rejection = if spans_lines {
                Rejection::whole_row(
                    Reason::CsvSyntax,
                    format!(
                        "a quoted field runs over several lines (unbalanced quote?); {} fields, header has {}",
                        rec.len(),
                        self.columns.len()
                    ),
                )
            } else {
                Rejection::whole_row(
                    Reason::ColumnCount,
                    format!("{} fields, header has {}", rec.len(), self.columns.len()),
                )
            };
            return Item::Rejected(rejection.into_entry(line, raw_bytes(&rec, self.delimiter)));
        }
        match csv::StringRecord::from_byte_record(rec) {
            Err(e) => {
                let field = e.utf8_error().field();
                let valid_up_to = e.utf8_error().valid_up_to();
                let rec = e.into_byte_record();
                let rejection = Rejection::new(
                    Reason::InvalidUtf8,
                    self.columns.name(field),
                    format!("not valid UTF-8 after byte {valid_up_to} of the field"),
                );
                Item::Rejected(rejection.into_entry(line, raw_bytes(&rec, self.delimiter)))
            }
            Ok(record) => {
                let row = Row {
                    columns: &self.columns,
                    record: &record,
                };
                match parser.parse(&row) {
                    Ok(value) => Item::Parsed(Pending {
                        line,
                        record,
                        value,
                    }),
                    Err(rejection) => Item::Rejected(
                        rejection.into_entry(line, raw_string(&record, self.delimiter)),
                    ),
                }
            }
        }
    }
}

fn read_error(file: &str, line: Option<u64>, e: csv::Error) -> IngestError {
    let source = match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    };
    IngestError::Read {
        file: file.to_string(),
        line,
        source,
    }
}

/// The row's fields joined again with the delimiter, lossily decoded.
pub(crate) fn raw_bytes(rec: &csv::ByteRecord, delimiter: u8) -> String {
    let mut out = Vec::with_capacity(rec.as_slice().len() + rec.len());
    for (i, f) in rec.iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        out.extend_from_slice(f);
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn raw_string(rec: &csv::StringRecord, delimiter: u8) -> String {
    let sep = char::from(delimiter).to_string();
    rec.iter().collect::<Vec<_>>().join(&sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delimiter_is_sniffed_from_the_header() {
        assert_eq!(sniff_delimiter(b"\"a\";\"b\";\"c\"\r\n1;2;3"), b';');
        assert_eq!(sniff_delimiter(b"a,b,c\n"), b',');
        assert_eq!(sniff_delimiter(b"a\tb\n"), b'\t');
        assert_eq!(sniff_delimiter(b"\"x;y\",b,c\n"), b',');
        assert_eq!(sniff_delimiter(b"single"), b',');
    }

    fn lines(input: &[u8]) -> Vec<u64> {
        let mut t = Table::from_reader(std::io::Cursor::new(input.to_vec()), "t", &[])
            .unwrap_or_else(|e| panic!("{e}"));
        let mut out = vec![t.last_line];
        let parse = |_: &Row<'_>| Ok::<(), Rejection>(());
        let _ = t.read_rows(&parse, |item| {
            out.push(match item {
                Item::Parsed(p) => p.line,
                Item::Rejected(e) => e.line,
            });
            true
        });
        out
    }

    #[test]
    fn line_numbers_are_physical_lines_whatever_the_line_ends() {
        assert_eq!(
            lines(b"h1,h2\na,b\nc,d\n\ne,\"f\ng\"\nh,i\n"),
            vec![1, 2, 3, 5, 7]
        );
        assert_eq!(
            lines(b"h1,h2\r\na,b\r\nc,d\r\n\r\ne,\"f\r\ng\"\r\nh,i\r\n"),
            vec![1, 2, 3, 5, 7]
        );
        assert_eq!(lines(b"h1,h2\ra,b\rc,d"), vec![1, 2, 3]);
        assert_eq!(lines(b"\xef\xbb\xbf\n\nh1,h2\n,\n"), vec![3, 4]);
    }

    #[test]
    fn header_names_are_trimmed_and_lower_cased() {
        let c = Columns::from_header(["\u{feff}Source_Key ".to_string(), " NAME".to_string()]);
        assert_eq!(c.position("source_key"), Some(0));
        assert_eq!(c.position("name"), Some(1));
        assert_eq!(c.missing(&["source_key", "email"]), Some("email"));
    }
}
