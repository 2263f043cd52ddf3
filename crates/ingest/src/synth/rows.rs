//! CSV rows written straight into byte buffers, fast: integers and money are
//! formatted by hand (the same spelling as `Money`'s `Display`), dates come
//! precomputed from the calendar.
//!
//! Values written here must never contain a comma, a quote or a line break;
//! the generator's vocabularies are chosen so that none needs quoting.

/// One output file's rows for a chunk of customers.
#[derive(Debug, Default)]
pub struct Rows {
    pub buf: Vec<u8>,
    pub count: u64,
}

impl Rows {
    pub fn with_capacity(bytes: usize) -> Self {
        Rows {
            buf: Vec::with_capacity(bytes),
            count: 0,
        }
    }

    /// Starts a row; finish it with [`Row::end`].
    pub fn row(&mut self) -> Row<'_> {
        self.count += 1;
        Row {
            buf: &mut self.buf,
            first: true,
        }
    }

    pub fn clear(&mut self) {
        self.buf.clear();
        self.count = 0;
    }
}

/// A row being written, field by field.
#[must_use = "a row must be finished with .end()"]
pub struct Row<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl Row<'_> {
    fn sep(&mut self) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
    }

    pub fn text(mut self, s: &str) -> Self {
        self.sep();
        self.buf.extend_from_slice(s.as_bytes());
        self
    }

    pub fn opt_text(self, s: Option<&str>) -> Self {
        self.text(s.unwrap_or(""))
    }

    /// A source key: `prefix`, the customer's key digits, then `-n` when `n` is given.
    pub fn key(mut self, prefix: &str, customer: &str, n: Option<u64>) -> Self {
        self.sep();
        push_key(self.buf, prefix, customer, n);
        self
    }

    pub fn int(mut self, v: i64) -> Self {
        self.sep();
        push_i64(self.buf, v);
        self
    }

    pub fn money(mut self, minor: i64) -> Self {
        self.sep();
        push_money(self.buf, minor);
        self
    }

    pub fn opt_money(self, minor: Option<i64>) -> Self {
        match minor {
            Some(m) => self.money(m),
            None => self.text(""),
        }
    }

    pub fn date(mut self, iso: &[u8; 10]) -> Self {
        self.sep();
        self.buf.extend_from_slice(iso);
        self
    }

    pub fn opt_date(self, iso: Option<&[u8; 10]>) -> Self {
        match iso {
            Some(d) => self.date(d),
            None => self.text(""),
        }
    }

    pub fn bool(self, v: bool) -> Self {
        self.text(if v { "true" } else { "false" })
    }

    pub fn end(self) {
        self.buf.push(b'\n');
    }
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
}
