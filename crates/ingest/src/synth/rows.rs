//! CSV rows written straight into byte buffers, fast: integers and money are
//! formatted by hand (the same spelling as `Money`'s `Display`), dates come
//! precomputed from the calendar.
//!
//! Values written here must never contain a comma, a quote or a line break
//! (the generator's vocabularies are chosen so that none needs quoting); the
//! one exception is an amount with thousands separators, which is written
//! quoted (`"12,000.00"`).
//!
//! Format variety: a [`Rows`] told to [`Rows::vary`] gives some rows a
//! [`Style`] — all dates of the row in another accepted format, amounts of
//! 1,000 or more with thousands separators, or stray spaces around text — as
//! real extracts do. Which rows is drawn from a small per-customer stream, so
//! the output stays a function of the seed alone.

/// How a row departs from the canonical spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    #[default]
    Plain,
    /// Every date of the row in another accepted format.
    Date(DateFormat),
    /// Amounts of 1,000.00 or more with thousands separators, quoted.
    Grouped,
    /// Stray spaces: before text values, after keys.
    Padded,
}

/// The accepted date spellings other than ISO (docs/FORMATS.md, "Value formats").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFormat {
    /// `2023/01/05`
    Slash,
    /// `20230105`
    Compact,
    /// `2023.01.05`
    Dotted,
    /// `2023年1月5日`
    Chinese,
    /// `05.01.2023`
    DayFirst,
}

impl DateFormat {
    pub const ALL: [DateFormat; 5] = [
        DateFormat::Slash,
        DateFormat::Compact,
        DateFormat::Dotted,
        DateFormat::Chinese,
        DateFormat::DayFirst,
    ];
}

/// One row in `VARY_EVERY` on average is varied (5 %): the rows in between
/// are skipped by a count drawn uniformly from `0..2 * VARY_EVERY - 1`, so that
/// a plain row costs a decrement rather than a random draw.
const VARY_EVERY: u64 = 20;
/// Of the varied rows, per fifty: other date formats, grouped amounts (the rest stray spaces).
const DATE_PER_50: u64 = 25;
const GROUPED_PER_50: u64 = 15;

/// SplitMix64: a tiny, fast generator for per-row format decisions.
#[derive(Debug, Clone, Copy)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Which rows of a file are varied, and how.
#[derive(Debug, Clone, Copy)]
struct Variety {
    rng: SplitMix64,
    /// Plain rows before the next varied one.
    skip: u64,
}

impl Variety {
    fn new(seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        let skip = rng.next_u64() % (2 * VARY_EVERY - 1);
        Variety { rng, skip }
    }

    #[inline]
    fn next(&mut self) -> Style {
        if self.skip > 0 {
            self.skip -= 1;
            return Style::Plain;
        }
        self.draw()
    }

    #[cold]
    #[inline(never)]
    fn draw(&mut self) -> Style {
        let u = self.rng.next_u64();
        self.skip = (u >> 40) % (2 * VARY_EVERY - 1);
        match u % 50 {
            k if k < DATE_PER_50 => Style::Date(DateFormat::ALL[((u >> 8) % 5) as usize]),
            k if k < DATE_PER_50 + GROUPED_PER_50 => Style::Grouped,
            _ => Style::Padded,
        }
    }
}

/// One output file's rows for a chunk of customers.
#[derive(Debug, Default)]
pub struct Rows {
    pub buf: Vec<u8>,
    pub count: u64,
    /// Rows that came out in a non-canonical (but accepted) spelling.
    pub varied: u64,
    variety: Option<Variety>,
}

impl Rows {
    pub fn with_capacity(bytes: usize) -> Self {
        Rows {
            buf: Vec::with_capacity(bytes),
            ..Rows::default()
        }
    }

    /// From now on, give some rows a non-canonical [`Style`], drawn from `seed`.
    pub fn vary(&mut self, seed: u64) {
        self.variety = Some(Variety::new(seed));
    }

    /// Starts a row; finish it with [`Row::end`].
    #[inline]
    pub fn row(&mut self) -> Row<'_> {
        let style = match &mut self.variety {
            Some(v) => v.next(),
            None => Style::Plain,
        };
        self.styled(style)
    }

    /// Starts a row in a given style.
    #[inline]
    pub fn styled(&mut self, style: Style) -> Row<'_> {
        self.count += 1;
        Row {
            rows: self,
            first: true,
            style,
            varied: false,
        }
    }

    pub fn clear(&mut self) {
        self.buf.clear();
        self.count = 0;
        self.varied = 0;
    }

    /// Bytes written so far (where the next row starts).
    pub fn byte_len(&self) -> usize {
        self.buf.len()
    }
}

/// A row being written, field by field. The canonical path is inlined; the
/// styled spellings are rare and kept out of line.
#[must_use = "a row must be finished with .end()"]
pub struct Row<'a> {
    rows: &'a mut Rows,
    first: bool,
    style: Style,
    varied: bool,
}

impl Row<'_> {
    #[inline]
    fn sep(&mut self) {
        if !self.first {
            self.rows.buf.push(b',');
        }
        self.first = false;
    }

    #[cold]
    #[inline(never)]
    fn space(&mut self) {
        self.rows.buf.push(b' ');
        self.varied = true;
    }

    #[cold]
    #[inline(never)]
    fn grouped(&mut self, minor: i64) {
        self.rows.buf.push(b'"');
        push_money_grouped(&mut self.rows.buf, minor);
        self.rows.buf.push(b'"');
        self.varied = true;
    }

    #[cold]
    #[inline(never)]
    fn other_date(&mut self, iso: &[u8; 10], f: DateFormat) {
        push_date(&mut self.rows.buf, iso, f);
        self.varied = true;
    }

    /// A value written as given (it must not need quoting, or be quoted already).
    #[inline]
    pub fn text(mut self, s: &str) -> Self {
        self.sep();
        if matches!(self.style, Style::Padded) && !s.is_empty() {
            self.space();
        }
        self.rows.buf.extend_from_slice(s.as_bytes());
        self
    }

    /// A value written exactly as given, whatever the row's style.
    #[inline]
    pub fn raw(mut self, s: &str) -> Self {
        self.sep();
        self.rows.buf.extend_from_slice(s.as_bytes());
        self
    }

    /// Like [`Row::raw`], and records where in the buffer the value starts.
    pub fn raw_at(mut self, s: &str, at: &mut usize) -> Self {
        self.sep();
        *at = self.rows.buf.len();
        self.rows.buf.extend_from_slice(s.as_bytes());
        self
    }

    /// A source key: `prefix`, the customer's key digits, then `-n` when `n` is given.
    #[inline]
    pub fn key(mut self, prefix: &str, customer: &str, n: Option<u64>) -> Self {
        self.sep();
        push_key(&mut self.rows.buf, prefix, customer, n);
        if matches!(self.style, Style::Padded) {
            self.space();
        }
        self
    }

    #[inline]
    pub fn int(mut self, v: i64) -> Self {
        self.sep();
        push_i64(&mut self.rows.buf, v);
        self
    }

    #[inline]
    pub fn money(mut self, minor: i64) -> Self {
        self.sep();
        if matches!(self.style, Style::Grouped) && minor.unsigned_abs() >= 100_000 {
            self.grouped(minor);
        } else {
            push_money(&mut self.rows.buf, minor);
        }
        self
    }

    #[inline]
    pub fn opt_money(self, minor: Option<i64>) -> Self {
        match minor {
            Some(m) => self.money(m),
            None => self.raw(""),
        }
    }

    #[inline]
    pub fn date(mut self, iso: &[u8; 10]) -> Self {
        self.sep();
        match self.style {
            Style::Date(f) => self.other_date(iso, f),
            _ => self.rows.buf.extend_from_slice(iso),
        }
        self
    }

    #[inline]
    pub fn opt_date(self, iso: Option<&[u8; 10]>) -> Self {
        match iso {
            Some(d) => self.date(d),
            None => self.raw(""),
        }
    }

    #[inline]
    pub fn bool(self, v: bool) -> Self {
        self.text(if v { "true" } else { "false" })
    }

    #[inline]
    pub fn end(self) {
        self.rows.buf.push(b'\n');
        if self.varied {
            self.rows.varied += 1;
        }
    }
}

/// Appends an ISO date (`YYYY-MM-DD`) in another accepted format.
pub fn push_date(buf: &mut Vec<u8>, iso: &[u8; 10], f: DateFormat) {
    let (y, m, d) = (&iso[0..4], &iso[5..7], &iso[8..10]);
    let unpadded = |b: &[u8]| -> Vec<u8> {
        if b[0] == b'0' {
            b[1..].to_vec()
        } else {
            b.to_vec()
        }
    };
    match f {
        DateFormat::Slash | DateFormat::Dotted => {
            let sep = if f == DateFormat::Slash { b'/' } else { b'.' };
            buf.extend_from_slice(y);
            buf.push(sep);
            buf.extend_from_slice(m);
            buf.push(sep);
            buf.extend_from_slice(d);
        }
        DateFormat::Compact => {
            buf.extend_from_slice(y);
            buf.extend_from_slice(m);
            buf.extend_from_slice(d);
        }
        DateFormat::Chinese => {
            buf.extend_from_slice(y);
            buf.extend_from_slice("年".as_bytes());
            buf.extend_from_slice(&unpadded(m));
            buf.extend_from_slice("月".as_bytes());
            buf.extend_from_slice(&unpadded(d));
            buf.extend_from_slice("日".as_bytes());
        }
        DateFormat::DayFirst => {
            buf.extend_from_slice(d);
            buf.push(b'.');
            buf.extend_from_slice(m);
            buf.push(b'.');
            buf.extend_from_slice(y);
        }
    }
}

/// An ISO date in another accepted format, as a string.
pub fn date_in(iso: &[u8; 10], f: DateFormat) -> String {
    let mut b = Vec::with_capacity(16);
    push_date(&mut b, iso, f);
    String::from_utf8_lossy(&b).into_owned()
}

/// Appends minor units with thousands separators, unquoted (`-12,345.60`).
pub fn push_money_grouped(buf: &mut Vec<u8>, minor: i64) {
    if minor < 0 {
        buf.push(b'-');
    }
    let a = minor.unsigned_abs();
    let mut digits = Vec::with_capacity(20);
    push_u64(&mut digits, a / 100);
    let n = digits.len();
    for (i, &d) in digits.iter().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            buf.push(b',');
        }
        buf.push(d);
    }
    let cents = (a % 100) as u8;
    buf.extend_from_slice(&[b'.', b'0' + cents / 10, b'0' + cents % 10]);
}

/// Minor units with thousands separators, quoted for CSV (`"12,000.00"`).
pub fn money_grouped_quoted(minor: i64) -> String {
    let mut b = vec![b'"'];
    push_money_grouped(&mut b, minor);
    b.push(b'"');
    String::from_utf8_lossy(&b).into_owned()
}

/// Minor units as `Money` displays them (`-1234.50`).
pub fn money_plain(minor: i64) -> String {
    let mut b = Vec::with_capacity(24);
    push_money(&mut b, minor);
    String::from_utf8_lossy(&b).into_owned()
}

/// Appends a source key such as `A0000042-3`.
pub fn push_key(buf: &mut Vec<u8>, prefix: &str, customer: &str, n: Option<u64>) {
    buf.extend_from_slice(prefix.as_bytes());
    buf.extend_from_slice(customer.as_bytes());
    if let Some(n) = n {
        buf.push(b'-');
        push_u64(buf, n);
    }
}

pub fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

pub fn push_i64(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    push_u64(buf, v.unsigned_abs());
}

/// Appends minor units exactly as `Money`'s `Display` spells them (`-1234.50`).
pub fn push_money(buf: &mut Vec<u8>, minor: i64) {
    if minor < 0 {
        buf.push(b'-');
    }
    let a = minor.unsigned_abs();
    push_u64(buf, a / 100);
    let cents = (a % 100) as u8;
    buf.extend_from_slice(&[b'.', b'0' + cents / 10, b'0' + cents % 10]);
}

/// The customer part of every key: the 1-based index, zero-padded to `width` digits.
pub fn customer_digits(index: u64, width: usize) -> String {
    format!("{:0width$}", index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_domain::Money;

    fn money_display(minor: i64) -> String {
        Money::from_minor(minor).to_string()
    }

    #[test]
    fn fast_money_matches_the_domain_display() {
        let samples = [
            0,
            1,
            -1,
            99,
            -99,
            100,
            -100,
            12_345,
            -12_345,
            1_000_000_007,
            i64::MAX / 2,
            -(i64::MAX / 2),
        ];
        for m in samples {
            let mut b = Vec::new();
            push_money(&mut b, m);
            assert_eq!(String::from_utf8_lossy(&b), money_display(m), "{m}");
        }
        let mut x: i64 = 7;
        for _ in 0..10_000 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let m = x % 10_000_000_000;
            let mut b = Vec::new();
            push_money(&mut b, m);
            assert_eq!(String::from_utf8_lossy(&b), money_display(m));
        }
    }

    #[test]
    fn rows_are_comma_separated_and_counted() {
        let mut r = Rows::default();
        r.row()
            .key("A", "0000001", Some(2))
            .int(-5)
            .money(-150)
            .text("")
            .date(b"2024-01-02")
            .end();
        r.row().bool(true).end();
        assert_eq!(
            String::from_utf8_lossy(&r.buf),
            "A0000001-2,-5,-1.50,,2024-01-02\ntrue\n"
        );
        assert_eq!(r.count, 2);
    }

    #[test]
    fn other_date_formats_parse_back_to_the_same_day() {
        for iso in [b"2023-01-05", b"2024-12-31", b"2024-10-10"] {
            let want = rapport_domain::parse_date(&String::from_utf8_lossy(iso));
            for f in DateFormat::ALL {
                let s = date_in(iso, f);
                assert_eq!(rapport_domain::parse_date(&s), want, "{s}");
            }
        }
        assert_eq!(date_in(b"2023-01-05", DateFormat::Chinese), "2023年1月5日");
        assert_eq!(date_in(b"2023-01-05", DateFormat::DayFirst), "05.01.2023");
    }

    #[test]
    fn grouped_amounts_parse_back_exactly() {
        for m in [100_000, -100_000, 123_456_789, -1_200_000, 99_999_999_999] {
            let q = money_grouped_quoted(m);
            assert!(
                q.starts_with('"') && q.ends_with('"') && q.contains(','),
                "{q}"
            );
            assert_eq!(Money::parse(q.trim_matches('"')).map(Money::minor), Ok(m));
        }
        assert_eq!(money_grouped_quoted(1_200_000), "\"12,000.00\"");
    }

    #[test]
    fn about_one_row_in_twenty_is_varied_and_every_style_occurs() {
        let mut r = Rows::default();
        r.vary(7);
        for i in 0..20_000 {
            r.row()
                .key("T", "0000001", Some(i))
                .date(b"2024-03-05")
                .money(-250_000)
                .text("pos")
                .end();
        }
        let share = r.varied as f64 / r.count as f64;
        assert!((0.04..0.06).contains(&share), "{share}");
        let text = String::from_utf8_lossy(&r.buf);
        assert!(text.contains("2024年3月5日") && text.contains("20240305"));
        assert!(text.contains("\"-2,500.00\""));
        assert!(text.contains(", pos") || text.contains(" ,"));
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .trim(csv::Trim::All)
            .from_reader(r.buf.as_slice());
        for rec in rdr.records() {
            let rec = rec.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(rec.len(), 4);
            assert_eq!(Money::parse(&rec[2]).map(Money::minor), Ok(-250_000));
            assert!(rapport_domain::parse_date(&rec[1]).is_ok());
            assert_eq!(&rec[3], "pos");
        }
    }
}
