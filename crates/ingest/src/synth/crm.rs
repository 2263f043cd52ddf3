//! The second source system: the bank's CRM, written to `crm/` under its own
//! keys (`CRM-0000123`) and its own conventions (header order and case, an
//! extra `segment` column, `YYYY/MM/DD` dates, `男`/`女`, `Y`/`N`, phones
//! with separators, ID numbers with spaces or a lower-case `x`).
//!
//! About 15 % of the core customers are known to the CRM: most with their ID
//! number (merged by `same_id_number`), some without it but with the same
//! phone and name, and sometimes the birth date (merged by
//! `same_phone_name_and_birth_date` or `same_phone_and_name`). A few CRM
//! records are namesakes — another person on the same phone with the same
//! name and a different valid ID number — who must not merge, and about 2 %
//! are prospects the core bank has never seen. `crm/expected_merges.csv` is
//! the ground truth of identity resolution (`crm_key,core_key,rule`).
//!
//! CRM keys are a scrambled bijection of a slot number (core customer index,
//! or index plus the number of customers for prospects), so they are unique
//! and independent of chunking.

use super::calendar::{iso, offset};
use super::dirt::{styled_id, styled_phone, IdStyle, PhoneStyle};
use super::geo::{BranchNetwork, CITIES};
use super::people::{draw_name, draw_phone, Person};
use super::rows::{date_in, DateFormat, Rows};
use super::World;
use chrono::NaiveDate;
use rand::Rng;
use rapport_domain::{Gender, ResidentId};

pub const CUSTOMERS_HEADER: &str =
    "Source_Key,Name,Phone,ID_Number,Birth_Date,Gender,EMail,City,Branch,Segment";
pub const CONSENTS_HEADER: &str =
    "source_key,customer_key,channel,purpose,granted,recorded_on,revoked_on";
pub const INTERACTIONS_HEADER: &str =
    "source_key,customer_key,occurred_on,channel,kind,outcome,note";
pub const EXPECTED_HEADER: &str = "crm_key,core_key,rule";

/// Share of core customers the CRM knows (namesakes come on top).
pub const KNOWN_SHARE: f64 = 0.15;
/// Of those, the share recorded with their ID number; the others by phone and name.
pub const BY_ID_SHARE: f64 = 0.82;
/// Prospects (CRM-only people) per core customer.
pub const PROSPECT_SHARE: f64 = 0.02;

/// The CRM's key space: `CRM-` and `width` digits, a scrambled bijection of
/// slot numbers (so that keys look like another system's, not like ours).
#[derive(Debug, Clone, Copy)]
pub struct CrmKeys {
    width: usize,
    modulus: u64,
    bits: u32,
    salt: u64,
    customers: u64,
}

impl CrmKeys {
    pub fn new(seed: u64, customers: u64) -> Self {
        let width = customers
            .max(1)
            .saturating_mul(2)
            .to_string()
            .len()
            .clamp(7, 18);
        let modulus = 10u64.pow(width as u32);
        let bits = 64 - (modulus - 1).leading_zeros();
        CrmKeys {
            width,
            modulus,
            bits,
            salt: super::rows::SplitMix64::new(seed ^ 0xC7A1_C7A1).next_u64(),
            customers,
        }
    }

    /// A bijection of `bits`-bit numbers: xor-shift and odd multiply rounds.
    fn mix(&self, mut x: u64) -> u64 {
        let mask = if self.bits >= 64 {
            u64::MAX
        } else {
            (1u64 << self.bits) - 1
        };
        let half = (self.bits / 2).max(1);
        for round in 0..3u64 {
            x ^= self.salt.rotate_left(round as u32 * 21) & mask;
            x ^= x >> half;
            x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15 | 1) & mask;
        }
        x
    }

    fn key(&self, slot: u64) -> String {
        // Cycle-walking keeps the bijection inside [0, modulus).
        let mut v = slot % self.modulus;
        loop {
            v = self.mix(v);
            if v < self.modulus {
                break;
            }
        }
        format!("CRM-{v:0w$}", w = self.width)
    }
    /// The CRM key of core customer `index`.
    pub fn linked(&self, index: u64) -> String {
        self.key(index)
    }

    /// The CRM key of the prospect planted at customer slot `index`.
    pub fn prospect(&self, index: u64) -> String {
        self.key(self.customers + index)
    }
}

/// Where an ID number was written in the CRM customers buffer, and how it is spelled.
pub type IdAt = Option<(usize, IdStyle)>;

/// How a CRM record relates to the core customer it was drawn beside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    SameId,
    SamePhoneAndName,
    SamePhoneNameAndBirthDate,
    /// Same phone and name, another person (different valid ID number).
    Namesake,
    /// Not a core customer.
    Prospect,
}

impl Link {
    /// The rule identity resolution is expected to merge by (`none`: no merge).
    pub fn rule(self) -> &'static str {
        match self {
            Link::SameId => "same_id_number",
            Link::SamePhoneAndName => "same_phone_and_name",
            Link::SamePhoneNameAndBirthDate => "same_phone_name_and_birth_date",
            Link::Namesake | Link::Prospect => "none",
        }
    }

    pub fn merges(self) -> bool {
        !matches!(self, Link::Namesake | Link::Prospect)
    }
}

/// The CRM's output tables.
pub struct CrmTables<'a> {
    pub customers: &'a mut Rows,
    pub consents: &'a mut Rows,
    pub interactions: &'a mut Rows,
    pub expected: &'a mut Rows,
}

/// One CRM customer record.
struct Record {
    key: String,
    name: String,
    phone: String,
    /// A valid ID number (canonical) and how it is spelled.
    id: Option<(String, IdStyle)>,
    birth: Option<NaiveDate>,
    gender: Option<Gender>,
    email: Option<String>,
    city: &'static str,
    branch: Option<String>,
    segment: &'static str,
}

fn crm_date(d: NaiveDate) -> String {
    date_in(&iso(d), DateFormat::Slash)
}

fn crm_phone<R: Rng>(rng: &mut R, p: &str) -> String {
    let style = match rng.random_range(0..10) {
        0..4 => PhoneStyle::International,
        4..8 => PhoneStyle::Dashed,
        _ => PhoneStyle::Plain,
    };
    styled_phone(p, style)
}

fn id_style<R: Rng>(rng: &mut R, id: &str) -> IdStyle {
    match rng.random_range(0..100) {
        0..15 => IdStyle::Spaced,
        15..45 if id.ends_with('X') => IdStyle::Lower,
        _ => IdStyle::Plain,
    }
}

/// Writes the record; returns where its ID number starts, when it has one.
fn write_record(rows: &mut Rows, r: &Record) -> IdAt {
    let mut at = 0;
    let id = r.id.as_ref().map(|(id, s)| styled_id(id, *s));
    let row = rows
        .styled(super::rows::Style::Plain)
        .raw(&r.key)
        .raw(&r.name)
        .raw(&r.phone);
    let row = match &id {
        Some(s) => row.raw_at(s, &mut at),
        None => row.raw(""),
    };
    row.raw(&r.birth.map(crm_date).unwrap_or_default())
        .raw(match r.gender {
            Some(Gender::Male) => "男",
            Some(Gender::Female) => "女",
            None => "",
        })
        .raw(r.email.as_deref().unwrap_or(""))
        .raw(r.city)
        .raw(r.branch.as_deref().unwrap_or(""))
        .raw(r.segment)
        .end();
    r.id.as_ref().map(|(_, s)| (at, *s))
}

const CONSENT_CHANNELS: &[&str] = &["wechat", "phone", "online", "mobile"];
const NOTES: &[(&str, &str, &str)] = &[
    ("call", "phone", "营销活动邀约"),
    ("call", "phone", "客户回访"),
    ("message", "wechat", "理财沙龙邀请"),
    ("message", "wechat", "节日问候"),
    ("email", "online", "电子月刊推送"),
    ("meeting", "branch", "贷款需求登记"),
    ("visit", "branch", "信用卡办理意向"),
];
const OUTCOMES: &[&str] = &["reached", "reached", "no_answer", "interested", "declined"];

/// Consents given through the CRM and its contact log, dated from `first` on.
fn write_activity<R: Rng>(
    world: &World,
    rng: &mut R,
    key: &str,
    first: usize,
    t: &mut CrmTables<'_>,
) {
    let n = world.cal.len();
    let first = first.min(n - 1);
    let day = |rng: &mut R, lo: usize| rng.random_range(lo..n);
    let consents = rng.random_range(1..=2);
    for c in 0..consents {
        let d = day(rng, first);
        let granted = rng.random_bool(0.65);
        let revoked = (granted && rng.random_bool(0.08)).then(|| day(rng, d));
        t.consents
            .styled(super::rows::Style::Plain)
            .raw(&format!("{key}-CN{}", c + 1))
            .raw(key)
            .raw(CONSENT_CHANNELS[rng.random_range(0..CONSENT_CHANNELS.len())])
            .raw(if rng.random_bool(0.85) {
                "marketing"
            } else {
                "service"
            })
            .raw(if granted { "Y" } else { "N" })
            .raw(&date_in(&world.cal.days[d].iso, DateFormat::Slash))
            .raw(
                &revoked
                    .map(|r| date_in(&world.cal.days[r].iso, DateFormat::Slash))
                    .unwrap_or_default(),
            )
            .end();
    }
    for i in 0..rng.random_range(0..=3) {
        let d = day(rng, first);
        let (kind, channel, note) = NOTES[rng.random_range(0..NOTES.len())];
        let stamp = format!(
            "{} {:02}:{:02}",
            date_in(&world.cal.days[d].iso, DateFormat::Slash),
            rng.random_range(9..19),
            rng.random_range(0..60)
        );
        t.interactions
            .styled(super::rows::Style::Plain)
            .raw(&format!("{key}-I{}", i + 1))
            .raw(key)
            .raw(&stamp)
            .raw(channel)
            .raw(kind)
            .raw(OUTCOMES[rng.random_range(0..OUTCOMES.len())])
            .raw(note)
            .end();
    }
}

fn write_expected(t: &mut CrmTables<'_>, crm_key: &str, core_key: &str, link: Link) {
    t.expected
        .styled(super::rows::Style::Plain)
        .raw(crm_key)
        .raw(core_key)
        .raw(link.rule())
        .end();
}

/// A fresh valid ID number for someone born on `birth`.
fn fresh_id<R: Rng>(rng: &mut R, birth: NaiveDate, gender: Gender) -> String {
    let city = &CITIES[rng.random_range(0..CITIES.len())];
    let region = city.districts[rng.random_range(0..city.districts.len())].code;
    let seq = rng.random_range(0..500) * 2 + u32::from(gender == Gender::Male);
    ResidentId::compose(region, birth, seq).as_str().to_string()
}

/// A birth date `years` ± a few months before the window's end.
fn birth_aged<R: Rng>(rng: &mut R, world: &World, years: u32) -> NaiveDate {
    let d = super::people::years_before(world.end, years);
    super::calendar::shift(d, -rng.random_range(1..360))
}

/// What the CRM is told about a core customer.
pub struct Known<'a> {
    pub index: u64,
    pub core_key: &'a str,
    pub person: &'a Person,
    pub branch: &'a str,
}

/// Writes the CRM record of a core customer; returns where its ID number
/// starts in the CRM customers buffer (only for `SameId`, whose number is
/// the core customer's and moves with it) and a fresh ID number's location
/// (for a namesake), as `(same, fresh)`.
pub fn write_known<R: Rng>(
    world: &World,
    keys: &CrmKeys,
    rng: &mut R,
    k: &Known<'_>,
    link: Link,
    t: &mut CrmTables<'_>,
) -> (IdAt, IdAt) {
    let p = k.person;
    let key = keys.linked(k.index);
    let city = CITIES[p.city].name;
    let mut r = Record {
        key: key.clone(),
        name: p.name.clone(),
        phone: crm_phone(rng, &p.phone),
        id: None,
        birth: None,
        gender: rng.random_bool(0.9).then_some(p.gender),
        email: p.email.clone().filter(|_| rng.random_bool(0.5)),
        city,
        branch: rng.random_bool(0.6).then(|| k.branch.to_string()),
        segment: if rng.random_bool(0.1) {
            "VIP"
        } else {
            "存量客户"
        },
    };
    match link {
        Link::SameId => {
            let id = p.id.as_str().to_string();
            let style = id_style(rng, &id);
            r.id = Some((id, style));
            r.birth = rng.random_bool(0.7).then_some(p.birth);
            if rng.random_bool(0.25) {
                // The customer has changed number since; the CRM has the new one.
                let new = draw_phone(rng);
                r.phone = crm_phone(rng, &new);
            }
            if rng.random_bool(0.08) {
                let given = p.name.strip_prefix(p.surname).unwrap_or("");
                r.name = format!("{} {given}", p.surname);
            }
        }
        Link::SamePhoneAndName => {}
        Link::SamePhoneNameAndBirthDate => r.birth = Some(p.birth),
        Link::Namesake | Link::Prospect => {
            let age = rng.random_range(20..80);
            let mut birth = birth_aged(rng, world, age);
            if birth == p.birth {
                birth = super::calendar::shift(birth, -400);
            }
            r.birth = Some(birth);
            r.gender = Some(p.gender);
            r.id = Some((fresh_id(rng, birth, p.gender), IdStyle::Plain));
            r.email = None;
            r.branch = None;
            r.segment = "潜在客户";
        }
    }
    let at = write_record(t.customers, &r);
    write_expected(t, &key, k.core_key, link);
    let first = offset(world.cal.start, p.since).max(0) as usize;
    write_activity(world, rng, &key, first, t);
    match link {
        Link::SameId => (at, None),
        Link::Namesake | Link::Prospect => (None, at),
        _ => (None, None),
    }
}

/// Writes a CRM-only prospect; returns where its ID number starts, if it has one.
pub fn write_prospect<R: Rng>(
    world: &World,
    keys: &CrmKeys,
    net: &BranchNetwork,
    rng: &mut R,
    index: u64,
    t: &mut CrmTables<'_>,
) -> IdAt {
    let key = keys.prospect(index);
    let gender = if rng.random_bool(0.5) {
        Gender::Male
    } else {
        Gender::Female
    };
    let age = rng.random_range(20..66);
    let birth = birth_aged(rng, world, age);
    let (_, name, pinyin) = draw_name(rng, gender, chrono::Datelike::year(&birth));
    let city = net.draw_city(rng);
    let district = rng.random_range(0..CITIES[city].districts.len());
    let phone = draw_phone(rng);
    let r = Record {
        key: key.clone(),
        name,
        phone: crm_phone(rng, &phone),
        id: rng
            .random_bool(0.6)
            .then(|| (fresh_id(rng, birth, gender), IdStyle::Plain)),
        birth: rng.random_bool(0.8).then_some(birth),
        gender: Some(gender),
        email: rng
            .random_bool(0.4)
            .then(|| format!("{pinyin}{}@163.com", rng.random_range(1..1000))),
        city: CITIES[city].name,
        branch: rng
            .random_bool(0.5)
            .then(|| net.branch_of(city, district).code.clone()),
        segment: if rng.random_bool(0.5) {
            "潜在客户"
        } else {
            "活动获客"
        },
    };
    let at = write_record(t.customers, &r);
    write_expected(t, &key, "", Link::Prospect);
    write_activity(world, rng, &key, 0, t);
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn crm_keys_are_unique_and_unlike_core_keys() {
        let keys = CrmKeys::new(42, 5_000);
        let all: HashSet<String> = (0..5_000)
            .map(|i| keys.linked(i))
            .chain((0..5_000).map(|i| keys.prospect(i)))
            .collect();
        assert_eq!(all.len(), 10_000);
        assert!(all.iter().all(|k| k.starts_with("CRM-") && k.len() == 11));
    }
}
