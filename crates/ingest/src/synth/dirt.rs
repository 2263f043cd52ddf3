//! Planted dirt: what a real bank's extracts look like, and what the importer
//! must absorb, flag or quarantine (docs/FORMATS.md).
//!
//! Three kinds, all drawn from the customer's own dirt stream (never the
//! simulation's, so the money story is the same with or without them):
//! * spellings the cleaner must normalise and still load: phones with
//!   separators or a country code, gender as `男`/`M`/`1`, other date formats,
//!   grouped amounts, stray spaces, upper-case e-mails (customers here; the
//!   other files through [`Rows::vary`]);
//! * invalid-but-loadable customer fields, flagged and stored as missing: an ID
//!   number with a typo (wrong check digit), a mobile with 10 digits, a
//!   malformed e-mail;
//! * rows that must be quarantined, always *extra* rows, so that every other
//!   row keeps its references and every running balance stays true: a bad
//!   amount, an impossible date, an unknown reference, a wrong column count,
//!   a duplicate key with other content written after the original.
//!
//! Everything planted is reported to the caller as a [`Planted`] entry, which
//! the writer turns into a line of `planted_dirt.csv`.

use super::calendar::iso;
use super::geo::CITIES;
use super::people::Person;
use super::rows::{date_in, money_grouped_quoted, money_plain, DateFormat, Rows, SplitMix64};
use super::Kind;
use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rapport_domain::{Gender, Money};

/// Share of customers whose ID number carries a typo (flag `id_check_digit`).
pub const ID_TYPO_SHARE: f64 = 0.01;
/// Share of customers whose mobile lost a digit (flag `bad_phone`).
pub const BAD_PHONE_SHARE: f64 = 0.01;
/// Share of customers with a malformed e-mail address (flag `bad_email`).
pub const BAD_EMAIL_SHARE: f64 = 0.005;

/// One bad customer row per this many customers (after a few among the first 400).
pub const CUSTOMER_BAD_ROW_EVERY: u64 = 2_000;
/// One bad account row per this many customers (after a few among the first 400).
pub const ACCOUNT_BAD_ROW_EVERY: u64 = 1_000;
/// One bad transaction row per this many customers.
pub const TXN_BAD_ROW_EVERY: u64 = 40;
/// One CRM namesake (same phone and name, another person) per this many customers
/// (after a few among the first 400).
pub const NAMESAKE_EVERY: u64 = 500;

/// One planted problem, by its row within the chunk's buffer of its file.
#[derive(Debug, Clone)]
pub struct Planted {
    pub kind: Kind,
    /// 0-based row within the chunk's rows of `kind`.
    pub row: u64,
    pub key: String,
    /// The field the importer will name (empty for a whole-row problem).
    pub field: &'static str,
    pub reason: &'static str,
    /// Quarantined (true) or flagged (false).
    pub quarantine: bool,
}

/// Where the scheduled plantings fall: phases drawn from the seed.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub customers: u64,
    pub accounts: u64,
    pub transactions: u64,
    pub namesakes: u64,
}

impl Schedule {
    pub fn new(seed: u64) -> Self {
        let mut r = SplitMix64::new(seed ^ 0x5EED_D1A7_0000_0001);
        Schedule {
            customers: r.next_u64() % 100,
            accounts: r.next_u64() % 100,
            transactions: r.next_u64() % TXN_BAD_ROW_EVERY,
            namesakes: r.next_u64() % 100,
        }
    }
}

/// The ordinal of the planting at customer index `i`, if there is one. With a
/// `period` of 100 or more: every 100th customer from `phase` (< 100) among
/// the first 400, so that even a small bank has a few, then every
/// `period`-th. A shorter period simply repeats from `phase`.
pub fn slot(i: u64, phase: u64, period: u64) -> Option<u64> {
    if period < 100 {
        return (i % period == phase % period).then_some(i / period);
    }
    if i < 400 {
        return (i % 100 == phase).then_some(i / 100);
    }
    (i % period == phase).then_some(4 + i / period)
}

/// How an ID number is spelled. Every style keeps the length of the canonical
/// form fixed, so that the writer can patch a number in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdStyle {
    Plain,
    /// `110105 19491231 002X`
    Spaced,
    /// A lower-case `x` check character.
    Lower,
}

/// An 18-character ID number in a style.
pub fn styled_id(id: &str, style: IdStyle) -> String {
    match style {
        IdStyle::Plain => id.to_string(),
        IdStyle::Lower => id.to_lowercase(),
        IdStyle::Spaced if id.len() == 18 => {
            format!("{} {} {}", &id[..6], &id[6..14], &id[14..])
        }
        IdStyle::Spaced => id.to_string(),
    }
}

/// The first 17 digits of a styled ID number, as a number.
pub fn id_body(styled: &[u8]) -> Option<u64> {
    let mut n = 0u64;
    let mut got = 0;
    for &b in styled {
        if got == 17 {
            break;
        }
        if b.is_ascii_digit() {
            n = n * 10 + u64::from(b - b'0');
            got += 1;
        } else if b != b' ' {
            return None;
        }
    }
    (got == 17).then_some(n)
}

/// How a mobile number is spelled (all accepted forms of docs/FORMATS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneStyle {
    Plain,
    /// `138-1234-5678`
    Dashed,
    /// `+86 138 1234 5678`
    International,
    /// `138 1234 5678`
    Spaced,
    /// `0086 13812345678`
    DoubleZero,
    /// `(0)13812345678`
    Trunk,
}

/// An 11-digit mainland mobile in a style.
pub fn styled_phone(p: &str, style: PhoneStyle) -> String {
    if p.len() != 11 {
        return p.to_string();
    }
    let (a, b, c) = (&p[..3], &p[3..7], &p[7..]);
    match style {
        PhoneStyle::Plain => p.to_string(),
        PhoneStyle::Dashed => format!("{a}-{b}-{c}"),
        PhoneStyle::International => format!("+86 {a} {b} {c}"),
        PhoneStyle::Spaced => format!("{a} {b} {c}"),
        PhoneStyle::DoubleZero => format!("0086 {p}"),
        PhoneStyle::Trunk => format!("(0){p}"),
    }
}

/// A mobile with one digit lost (10 digits: not a mainland mobile).
fn short_phone<R: Rng>(rng: &mut R, p: &str) -> String {
    let drop = rng.random_range(3..p.len().max(4));
    p.char_indices()
        .filter(|(i, _)| *i != drop)
        .map(|(_, c)| c)
        .collect()
}

/// An ID number with one of its first 17 digits mistyped: the check digit no longer fits.
fn id_typo<R: Rng>(rng: &mut R, id: &str) -> String {
    let mut b = id.as_bytes().to_vec();
    let at = rng.random_range(0..17);
    if let Some(d) = b.get_mut(at) {
        let old = d.wrapping_sub(b'0') % 10;
        *d = b'0' + (old + rng.random_range(1..10)) % 10;
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// An e-mail address that is not local@domain.tld.
fn bad_email<R: Rng>(rng: &mut R, person: &Person, index: u64) -> String {
    let local = person
        .email
        .as_deref()
        .and_then(|e| e.split('@').next())
        .map_or_else(|| format!("kh{}", index + 1), str::to_string);
    match rng.random_range(0..4) {
        0 => format!("{local}@qq"),
        1 => format!("{local}.163.com"),
        2 => format!("{local}@@126.com"),
        _ => format!("{local}@sina..com"),
    }
}

const GENDER_CODES: [(&str, &str); 5] = [
    ("m", "f"),
    ("男", "女"),
    ("M", "F"),
    ("1", "2"),
    ("Male", "Female"),
];

/// How one customer's core row is spelled, and what is wrong with it.
#[derive(Debug, Clone)]
pub struct Face {
    pub gender: &'static str,
    pub birth: String,
    /// The ID number as written; `id_valid` says whether it is the person's own.
    pub id: String,
    pub id_valid: bool,
    pub phone: String,
    pub phone_valid: bool,
    pub email: Option<String>,
    pub email_valid: bool,
    pub income: Option<String>,
    pub risk: &'static str,
    pub assessed: Option<String>,
    /// Stray spaces around name, city and occupation.
    pub padded: bool,
    /// Anything spelled other than canonically.
    pub varied: bool,
}

fn some_date<R: Rng>(rng: &mut R, date: NaiveDate, share: f64, varied: &mut bool) -> String {
    let d = iso(date);
    if rng.random_bool(share) {
        *varied = true;
        date_in(
            &d,
            DateFormat::ALL[rng.random_range(0..DateFormat::ALL.len())],
        )
    } else {
        String::from_utf8_lossy(&d).into_owned()
    }
}

/// Draws the spelling of a customer's row. `keep_identity` keeps ID number
/// and phone valid (the customer has a CRM namesake that must be told apart).
pub fn draw_face<R: Rng>(rng: &mut R, person: &Person, index: u64, keep_identity: bool) -> Face {
    let mut varied = false;
    let g = match rng.random_range(0..100) {
        0..70 => 0,
        70..80 => 1,
        80..88 => 2,
        88..94 => 3,
        _ => 4,
    };
    varied |= g != 0;
    let gender = match person.gender {
        Gender::Male => GENDER_CODES[g].0,
        Gender::Female => GENDER_CODES[g].1,
    };
    let birth = some_date(rng, person.birth, 0.15, &mut varied);

    let id_valid = keep_identity || !rng.random_bool(ID_TYPO_SHARE);
    let id = if id_valid {
        person.id.as_str().to_string()
    } else {
        id_typo(rng, person.id.as_str())
    };

    let phone_valid = keep_identity || !rng.random_bool(BAD_PHONE_SHARE);
    let phone = if phone_valid {
        let style = match rng.random_range(0..100) {
            0..78 => PhoneStyle::Plain,
            78..84 => PhoneStyle::Dashed,
            84..89 => PhoneStyle::International,
            89..93 => PhoneStyle::Spaced,
            93..97 => PhoneStyle::DoubleZero,
            _ => PhoneStyle::Trunk,
        };
        varied |= style != PhoneStyle::Plain;
        styled_phone(&person.phone, style)
    } else {
        short_phone(rng, &person.phone)
    };

    let email_valid = !rng.random_bool(BAD_EMAIL_SHARE);
    let email = if email_valid {
        person
            .email
            .as_ref()
            .map(|e| match rng.random_range(0..100) {
                0..8 => {
                    varied = true;
                    e.to_uppercase()
                }
                8..12 => {
                    varied = true;
                    let mut c = e.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect())
                        .unwrap_or_default()
                }
                _ => e.clone(),
            })
    } else {
        Some(bad_email(rng, person, index))
    };

    let income = person.annual_income.map(|m| {
        if m >= 100_000 && rng.random_bool(0.06) {
            varied = true;
            money_grouped_quoted(m)
        } else {
            money_plain(m)
        }
    });
    let (risk, assessed) = match person.risk {
        Some((r, on)) => {
            let code = match rng.random_range(0..100) {
                0..65 => r.as_str(),
                65..95 => ["C1", "C2", "C3", "C4", "C5"][r as usize],
                _ => ["1", "2", "3", "4", "5"][r as usize],
            };
            varied |= code != r.as_str();
            (code, Some(some_date(rng, on, 0.15, &mut varied)))
        }
        None => ("", None),
    };
    let padded = rng.random_bool(0.02);
    Face {
        gender,
        birth,
        id,
        id_valid,
        phone,
        phone_valid,
        email,
        email_valid,
        income,
        risk,
        assessed,
        padded,
        varied: varied || padded,
    }
}

impl Face {
    /// The flags the importer will raise on this row.
    pub fn flags(&self) -> impl Iterator<Item = (&'static str, &'static str)> {
        [
            (!self.id_valid).then_some(("id_number", "id_check_digit")),
            (!self.phone_valid).then_some(("phone", "bad_phone")),
            (!self.email_valid).then_some(("email", "bad_email")),
        ]
        .into_iter()
        .flatten()
    }

    /// The canonical spelling of a person (what a clean copy of the row says).
    pub fn canonical(person: &Person) -> Face {
        Face {
            gender: person.gender.as_str(),
            birth: String::from_utf8_lossy(&iso(person.birth)).into_owned(),
            id: person.id.as_str().to_string(),
            id_valid: true,
            phone: person.phone.clone(),
            phone_valid: true,
            email: person.email.clone(),
            email_valid: true,
            income: person.annual_income.map(money_plain),
            risk: person.risk.map_or("", |(r, _)| r.as_str()),
            assessed: person
                .risk
                .map(|(_, on)| String::from_utf8_lossy(&iso(on)).into_owned()),
            padded: false,
            varied: false,
        }
    }
}

/// What a customer row is written with besides the face.
pub struct CustomerRow<'a> {
    pub key: &'a str,
    pub person: &'a Person,
    pub face: &'a Face,
    pub city: &'a str,
    pub branch: &'a str,
}

/// Writes a customer row; returns where its ID number starts in the buffer.
pub fn write_customer(rows: &mut Rows, r: &CustomerRow<'_>) -> usize {
    let f = r.face;
    fn pad(padded: bool, s: &str) -> std::borrow::Cow<'_, str> {
        if padded {
            format!(" {s} ").into()
        } else {
            s.into()
        }
    }
    let mut id_at = 0;
    rows.styled(super::rows::Style::Plain)
        .raw(r.key)
        .raw(&pad(f.padded, &r.person.name))
        .raw(f.gender)
        .raw(&f.birth)
        .raw_at(&f.id, &mut id_at)
        .raw(&f.phone)
        .raw(f.email.as_deref().unwrap_or(""))
        .raw(&pad(f.padded, r.city))
        .raw(&pad(f.padded, r.person.occupation.label))
        .raw(f.income.as_deref().unwrap_or(""))
        .raw(f.risk)
        .raw(f.assessed.as_deref().unwrap_or(""))
        .raw(r.branch)
        .end();
    id_at
}

/// Kinds of bad customer rows, in the order they rotate.
const BAD_CUSTOMERS: [(&str, &str); 4] = [
    ("source_key", "duplicate_conflict"),
    ("", "column_count"),
    ("risk_assessed_on", "bad_date"),
    ("source_key", "missing_required"),
];

/// A customer key that no customer has: the key with one more leading zero,
/// as another extract's zero-padding would give.
pub fn foreign_customer_key(ck: &str) -> String {
    format!("C0{ck}")
}

/// An impossible date (30 February) in the year of `on`.
fn impossible_date(on: NaiveDate) -> String {
    format!("{:04}-02-30", on.year())
}

/// Writes the `ordinal`-th kind of bad customer row after the customer's own
/// row. Returns where its ID number starts, and what was planted.
pub fn write_bad_customer<R: Rng>(
    rows: &mut Rows,
    rng: &mut R,
    ordinal: u64,
    r: &CustomerRow<'_>,
    window_start: NaiveDate,
) -> (usize, Planted) {
    let (field, reason) = BAD_CUSTOMERS[(ordinal % BAD_CUSTOMERS.len() as u64) as usize];
    let person = r.person;
    let mut face = Face::canonical(person);
    let row = rows.count;
    let mut key = r.key.to_string();
    let mut city = r.city.to_string();
    match reason {
        "duplicate_conflict" => {
            // The same customer again, with a phone number the bank also had.
            let tail: u32 = rng.random_range(0..100_000_000);
            face.phone = format!("{}{tail:08}", &person.phone[..3]);
            if face.phone == person.phone {
                face.phone = format!("{}{:08}", &person.phone[..3], (tail + 1) % 100_000_000);
            }
        }
        "column_count" => {
            // An address with an unquoted comma: one field too many.
            let c = &CITIES[person.city];
            let district = c.districts.get(person.district).map_or("", |d| d.name);
            city = format!("{},{district}", c.name);
        }
        "bad_date" => {
            key = foreign_customer_key(&key[1..]);
            if face.risk.is_empty() {
                face.risk = "c3";
            }
            face.assessed = Some(impossible_date(window_start));
        }
        _ => key.clear(),
    }
    let id_at = write_customer(
        rows,
        &CustomerRow {
            key: &key,
            person,
            face: &face,
            city: &city,
            branch: r.branch,
        },
    );
    (
        id_at,
        Planted {
            kind: Kind::Customers,
            row,
            key,
            field,
            reason,
            quarantine: true,
        },
    )
}

/// Splits one generated CSV line into trimmed fields (quoted fields hold no quotes).
pub fn split_line(line: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut quoted = false;
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => out.push(std::mem::take(&mut cur)),
            b'\n' | b'\r' => {}
            _ => cur.push(b),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|f| String::from_utf8_lossy(&f).trim().to_string())
        .collect()
}

/// The first and the last line of the rows written from byte `from` on.
pub fn first_and_last_line(buf: &[u8], from: usize) -> Option<(&[u8], &[u8])> {
    let region = buf.get(from..)?;
    let body = region.strip_suffix(b"\n")?;
    let first = body.split(|&b| b == b'\n').next()?;
    let last = body.rsplit(|&b| b == b'\n').next()?;
    Some((first, last))
}

/// Kinds of bad account rows, in the order they rotate.
const BAD_ACCOUNTS: [(&str, &str); 5] = [
    ("source_key", "duplicate_conflict"),
    ("customer_key", "unknown_reference"),
    ("type", "bad_code"),
    ("", "column_count"),
    ("opened_on", "bad_date"),
];

/// What a customer's ledger left behind, for planting bad rows after it.
pub struct LedgerTail<'a> {
    pub ck: &'a str,
    pub branch: &'a str,
    /// The customer's first account row and last transaction row (if any).
    pub first_account: Vec<String>,
    pub last_txn: Option<Vec<String>>,
    pub accounts: u64,
    pub transactions: u64,
    /// A day inside the window to date bogus rows.
    pub day: NaiveDate,
}

/// A yuan amount to make a copied row differ.
fn nudge<R: Rng>(rng: &mut R) -> i64 {
    rng.random_range(1..500) * 100
}

fn parse_money(s: &str) -> i64 {
    Money::parse(s).map(Money::minor).unwrap_or(0)
}

/// Writes the `ordinal`-th kind of bad account row after the customer's accounts.
pub fn write_bad_account<R: Rng>(
    rows: &mut Rows,
    rng: &mut R,
    ordinal: u64,
    t: &LedgerTail<'_>,
) -> Planted {
    let (field, reason) = BAD_ACCOUNTS[(ordinal % BAD_ACCOUNTS.len() as u64) as usize];
    let row = rows.count;
    let new_key = format!("A{}-{}", t.ck, t.accounts + 1);
    let day = String::from_utf8_lossy(&iso(t.day)).into_owned();
    let customer = format!("C{}", t.ck);
    let key = match reason {
        "duplicate_conflict" => {
            // A later snapshot of the first account, with another balance.
            let f = &t.first_account;
            let get = |i: usize| f.get(i).map_or("", String::as_str);
            let balance = parse_money(get(6)) + nudge(rng);
            rows.styled(super::rows::Style::Plain)
                .raw(get(0))
                .raw(get(1))
                .raw(get(2))
                .raw(get(3))
                .raw(get(4))
                .raw(get(5))
                .money(balance)
                .raw(get(7))
                .raw(get(8))
                .end();
            get(0).to_string()
        }
        "unknown_reference" => {
            rows.styled(super::rows::Style::Plain)
                .raw(&new_key)
                .raw(&foreign_customer_key(t.ck))
                .raw("savings")
                .raw(&day)
                .raw("")
                .raw("CNY")
                .money(rng.random_range(1..2_000) * 100)
                .raw("")
                .raw(t.branch)
                .end();
            new_key
        }
        "bad_code" => {
            rows.styled(super::rows::Style::Plain)
                .raw(&new_key)
                .raw(&customer)
                .raw(["保管箱", "safe_deposit", "gold_account"][rng.random_range(0..3)])
                .raw(&day)
                .raw("")
                .raw("CNY")
                .money(0)
                .raw("")
                .raw(t.branch)
                .end();
            new_key
        }
        "column_count" => {
            // The extract dropped the trailing branch column.
            rows.styled(super::rows::Style::Plain)
                .raw(&new_key)
                .raw(&customer)
                .raw("savings")
                .raw(&day)
                .raw("")
                .raw("CNY")
                .money(rng.random_range(1..2_000) * 100)
                .raw("")
                .end();
            new_key
        }
        _ => {
            rows.styled(super::rows::Style::Plain)
                .raw(&new_key)
                .raw(&customer)
                .raw("term_deposit")
                .raw(&impossible_date(t.day))
                .raw("")
                .raw("CNY")
                .money(rng.random_range(1..500) * 10_000)
                .raw("")
                .raw(t.branch)
                .end();
            new_key
        }
    };
    Planted {
        kind: Kind::Accounts,
        row,
        key,
        field,
        reason,
        quarantine: true,
    }
}

/// Kinds of bad transaction rows, in the order they rotate.
const BAD_TXNS: [(&str, &str); 5] = [
    ("amount", "bad_amount"),
    ("booked_on", "bad_date"),
    ("account_key", "unknown_reference"),
    ("", "column_count"),
    ("source_key", "duplicate_conflict"),
];

/// Writes the `ordinal`-th kind of bad transaction row after the customer's
/// transactions. None of them is part of a running balance.
pub fn write_bad_txn<R: Rng>(
    rows: &mut Rows,
    rng: &mut R,
    ordinal: u64,
    t: &LedgerTail<'_>,
) -> Planted {
    let mut pick = (ordinal % BAD_TXNS.len() as u64) as usize;
    if BAD_TXNS[pick].1 == "duplicate_conflict" && t.last_txn.is_none() {
        pick = 0;
    }
    let (field, reason) = BAD_TXNS[pick];
    let row = rows.count;
    let new_key = format!("T{}-{}", t.ck, t.transactions + 1);
    let account = format!("A{}-1", t.ck);
    let day = String::from_utf8_lossy(&iso(t.day)).into_owned();
    let amount = -rng.random_range(10..3_000) * 100;
    let key = match reason {
        "bad_amount" => {
            rows.styled(super::rows::Style::Plain)
                .raw(&new_key)
                .raw(&account)
                .raw(&day)
                .raw(["12O.00", "N/A", "1.2.3", "¥--", "#VALUE!"][rng.random_range(0..5)])
                .raw("")
                .raw("pos")
                .raw("shopping")
                .raw("")
                .end();
            new_key
        }
        "bad_date" => {
            rows.styled(super::rows::Style::Plain)
                .raw(&new_key)
                .raw(&account)
                .raw(&impossible_date(t.day))
                .money(amount)
                .raw("")
                .raw("online")
                .raw("transfer_out")
                .raw("")
                .end();
            new_key
        }
        "unknown_reference" => {
            rows.styled(super::rows::Style::Plain)
                .raw(&new_key)
                .raw(&format!("A{}-{}", t.ck, t.accounts + 1))
                .raw(&day)
                .money(amount)
                .raw("")
                .raw("mobile")
                .raw("transfer_out")
                .raw("")
                .end();
            new_key
        }
        "column_count" => {
            // An amount with a thousands separator the exporter did not quote.
            let mut grouped = Vec::new();
            super::rows::push_money_grouped(&mut grouped, -rng.random_range(1_000..20_000) * 100);
            rows.styled(super::rows::Style::Plain)
                .raw(&new_key)
                .raw(&account)
                .raw(&day)
                .raw(&String::from_utf8_lossy(&grouped))
                .raw("")
                .raw("branch")
                .raw("cash_withdrawal")
                .raw("")
                .end();
            new_key
        }
        _ => {
            // The last transaction sent again with a corrected amount.
            let f = t.last_txn.as_deref().unwrap_or_default();
            let get = |i: usize| f.get(i).map_or("", String::as_str);
            let old = parse_money(get(3));
            let new = if old < 0 {
                old - nudge(rng)
            } else {
                old + nudge(rng)
            };
            rows.styled(super::rows::Style::Plain)
                .raw(get(0))
                .raw(get(1))
                .raw(get(2))
                .money(new)
                .raw(get(4))
                .raw(get(5))
                .raw(get(6))
                .raw(get(7))
                .end();
            get(0).to_string()
        }
    };
    Planted {
        kind: Kind::Transactions,
        row,
        key,
        field,
        reason,
        quarantine: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_domain::{Email, PhoneNumber, ResidentId, ResidentIdError};

    #[test]
    fn every_phone_style_parses_to_the_same_number() {
        let want = PhoneNumber::parse("13812345678", "86").map(|p| p.as_str().to_string());
        for s in [
            PhoneStyle::Plain,
            PhoneStyle::Dashed,
            PhoneStyle::International,
            PhoneStyle::Spaced,
            PhoneStyle::DoubleZero,
            PhoneStyle::Trunk,
        ] {
            let p = styled_phone("13812345678", s);
            assert_eq!(
                PhoneNumber::parse(&p, "86").map(|p| p.as_str().to_string()),
                want,
                "{p}"
            );
        }
        let mut rng = SplitRng(SplitMix64::new(1));
        for _ in 0..50 {
            let p = short_phone(&mut rng, "13812345678");
            assert_eq!(p.len(), 10);
            assert!(PhoneNumber::parse(&p, "86").is_err(), "{p}");
        }
    }

    #[test]
    fn id_styles_keep_the_number_and_typos_break_the_check_digit() {
        let id = "11010519491231002X";
        for s in [IdStyle::Plain, IdStyle::Spaced, IdStyle::Lower] {
            let styled = styled_id(id, s);
            assert_eq!(
                ResidentId::parse(&styled).map(|i| i.as_str().to_string()),
                Ok(id.to_string())
            );
            assert_eq!(id_body(styled.as_bytes()), Some(11010519491231002));
        }
        let mut rng = SplitRng(SplitMix64::new(2));
        for _ in 0..200 {
            let t = id_typo(&mut rng, id);
            assert!(matches!(
                ResidentId::parse(&t),
                Err(ResidentIdError::CheckDigit { .. })
            ));
        }
    }

    #[test]
    fn slots_give_a_few_early_then_one_per_period() {
        let hits: Vec<u64> = (0..10_000)
            .filter(|&i| slot(i, 37, 2_000).is_some())
            .collect();
        assert_eq!(hits, vec![37, 137, 237, 337, 2037, 4037, 6037, 8037]);
        let ords: Vec<u64> = hits.iter().filter_map(|&i| slot(i, 37, 2_000)).collect();
        assert_eq!(ords, vec![0, 1, 2, 3, 5, 6, 7, 8]);
        assert_eq!((0..400).filter(|&i| slot(i, 3, 40).is_some()).count(), 10);
    }

    #[test]
    fn malformed_emails_are_refused() {
        let net = super::super::geo::BranchNetwork::new();
        let mut rng = SplitRng(SplitMix64::new(3));
        let start = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default();
        let end = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
        for i in 0..200 {
            let p = super::super::people::draw_person(&mut rng, &net, start, end);
            let e = bad_email(&mut rng, &p, i);
            assert!(Email::parse(&e).is_err(), "{e}");
        }
    }

    #[test]
    fn lines_split_into_trimmed_fields() {
        assert_eq!(
            split_line(b"T1, A1 ,\"-1,234.00\",x\n"),
            vec!["T1", "A1", "-1,234.00", "x"]
        );
        let buf = b"a,1\nb,2\nc,3\n";
        assert_eq!(
            first_and_last_line(buf, 4),
            Some((&b"b,2"[..], &b"c,3"[..]))
        );
        assert_eq!(first_and_last_line(buf, buf.len()), None);
    }

    /// SplitMix64 as a `rand` generator, for the tests.
    struct SplitRng(SplitMix64);
    impl rand::RngCore for SplitRng {
        fn next_u32(&mut self) -> u32 {
            (self.0.next_u64() >> 32) as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0.next_u64()
        }
        fn fill_bytes(&mut self, dst: &mut [u8]) {
            for c in dst.chunks_mut(8) {
                let v = self.0.next_u64().to_le_bytes();
                c.copy_from_slice(&v[..c.len()]);
            }
        }
    }
}
