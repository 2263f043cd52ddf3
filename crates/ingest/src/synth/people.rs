//! Who the customers are: Chinese names (surnames by real frequency, given
//! names by generation and gender), ages 18–85 shaped like a retail bank's
//! book, occupations, log-normal incomes by city tier and age, valid resident
//! ID numbers, mobile numbers and e-mail addresses, risk assessments.
//!
//! Draws only from the customer's own RNG so that every customer is
//! reproducible from (seed, index) alone.

use super::calendar::{offset, shift};
use super::geo::{BranchNetwork, CITIES};
use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_distr::{Distribution, LogNormal};
use rapport_domain::{Gender, ResidentId, RiskTolerance};

/// Surnames with pinyin and frequency (per cent of the population).
#[rustfmt::skip]
const SURNAMES: &[(&str, &str, f64)] = &[
    ("王", "wang", 7.25), ("李", "li", 7.19), ("张", "zhang", 6.83), ("刘", "liu", 5.38), ("陈", "chen", 4.53),
    ("杨", "yang", 3.08), ("黄", "huang", 2.23), ("赵", "zhao", 2.19), ("吴", "wu", 2.05), ("周", "zhou", 1.92),
    ("徐", "xu", 1.45), ("孙", "sun", 1.38), ("马", "ma", 1.29), ("朱", "zhu", 1.26), ("胡", "hu", 1.15),
    ("郭", "guo", 1.13), ("何", "he", 1.09), ("林", "lin", 1.01), ("高", "gao", 1.0), ("罗", "luo", 0.95),
    ("郑", "zheng", 0.91), ("梁", "liang", 0.87), ("谢", "xie", 0.76), ("宋", "song", 0.68), ("唐", "tang", 0.67),
    ("许", "xu", 0.65), ("韩", "han", 0.62), ("冯", "feng", 0.61), ("邓", "deng", 0.6), ("曹", "cao", 0.59),
    ("彭", "peng", 0.56), ("曾", "zeng", 0.55), ("肖", "xiao", 0.55), ("田", "tian", 0.53), ("董", "dong", 0.52),
    ("袁", "yuan", 0.51), ("潘", "pan", 0.5), ("于", "yu", 0.49), ("蒋", "jiang", 0.48), ("蔡", "cai", 0.47),
    ("余", "yu", 0.46), ("杜", "du", 0.44), ("叶", "ye", 0.43), ("程", "cheng", 0.42), ("苏", "su", 0.41),
    ("魏", "wei", 0.4), ("吕", "lv", 0.39), ("丁", "ding", 0.38), ("任", "ren", 0.37), ("沈", "shen", 0.36),
    ("姚", "yao", 0.35), ("卢", "lu", 0.34), ("姜", "jiang", 0.33), ("崔", "cui", 0.32), ("钟", "zhong", 0.31),
    ("谭", "tan", 0.3), ("陆", "lu", 0.29), ("汪", "wang", 0.28), ("范", "fan", 0.27), ("金", "jin", 0.26),
    ("石", "shi", 0.25), ("廖", "liao", 0.24), ("贾", "jia", 0.23), ("夏", "xia", 0.22), ("韦", "wei", 0.22),
    ("付", "fu", 0.21), ("方", "fang", 0.21), ("白", "bai", 0.2), ("邹", "zou", 0.2), ("孟", "meng", 0.19),
    ("熊", "xiong", 0.19), ("秦", "qin", 0.18), ("邱", "qiu", 0.18), ("江", "jiang", 0.17), ("尹", "yin", 0.17),
    ("薛", "xue", 0.16), ("闫", "yan", 0.16), ("段", "duan", 0.15), ("雷", "lei", 0.15), ("侯", "hou", 0.14),
    ("龙", "long", 0.14), ("史", "shi", 0.13), ("陶", "tao", 0.13), ("黎", "li", 0.13), ("贺", "he", 0.12),
    ("顾", "gu", 0.12), ("毛", "mao", 0.12), ("郝", "hao", 0.11), ("龚", "gong", 0.11), ("邵", "shao", 0.11),
    ("万", "wan", 0.1), ("钱", "qian", 0.1), ("严", "yan", 0.1), ("覃", "qin", 0.1), ("武", "wu", 0.1),
    ("戴", "dai", 0.1), ("莫", "mo", 0.09), ("孔", "kong", 0.09), ("向", "xiang", 0.09), ("汤", "tang", 0.09),
    ("欧阳", "ouyang", 0.05), ("司马", "sima", 0.01), ("上官", "shangguan", 0.01), ("诸葛", "zhuge", 0.01),
];

type Chars = &'static [(&'static str, &'static str)];

/// Given-name characters for people born before 1970.
#[rustfmt::skip]
const OLD_MALE: Chars = &[
    ("建", "jian"), ("国", "guo"), ("华", "hua"), ("明", "ming"), ("军", "jun"), ("平", "ping"), ("强", "qiang"),
    ("林", "lin"), ("德", "de"), ("志", "zhi"), ("文", "wen"), ("福", "fu"), ("海", "hai"), ("忠", "zhong"),
    ("永", "yong"), ("庆", "qing"), ("红", "hong"), ("卫", "wei"), ("东", "dong"), ("生", "sheng"), ("荣", "rong"),
];
#[rustfmt::skip]
const OLD_FEMALE: Chars = &[
    ("秀", "xiu"), ("英", "ying"), ("桂", "gui"), ("兰", "lan"), ("芳", "fang"), ("玉", "yu"), ("珍", "zhen"),
    ("凤", "feng"), ("华", "hua"), ("梅", "mei"), ("淑", "shu"), ("琴", "qin"), ("红", "hong"), ("素", "su"),
    ("霞", "xia"), ("春", "chun"), ("萍", "ping"), ("丽", "li"), ("敏", "min"), ("云", "yun"),
];
/// Born 1970–1989.
#[rustfmt::skip]
const MID_MALE: Chars = &[
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("勇", "yong"), ("杰", "jie"), ("涛", "tao"), ("斌", "bin"),
    ("超", "chao"), ("明", "ming"), ("刚", "gang"), ("辉", "hui"), ("鹏", "peng"), ("飞", "fei"), ("波", "bo"),
    ("俊", "jun"), ("峰", "feng"), ("军", "jun"), ("健", "jian"), ("亮", "liang"), ("宏", "hong"), ("斌", "bin"),
];
#[rustfmt::skip]
const MID_FEMALE: Chars = &[
    ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("艳", "yan"), ("娟", "juan"), ("霞", "xia"),
    ("玲", "ling"), ("燕", "yan"), ("婷", "ting"), ("雪", "xue"), ("慧", "hui"), ("倩", "qian"), ("颖", "ying"),
    ("琳", "lin"), ("洁", "jie"), ("莉", "li"), ("丹", "dan"), ("蕾", "lei"), ("晶", "jing"),
];
/// Born 1990 and later.
#[rustfmt::skip]
const YOUNG_MALE: Chars = &[
    ("宇", "yu"), ("浩", "hao"), ("轩", "xuan"), ("子", "zi"), ("睿", "rui"), ("泽", "ze"), ("梓", "zi"),
    ("博", "bo"), ("文", "wen"), ("凯", "kai"), ("晨", "chen"), ("阳", "yang"), ("嘉", "jia"), ("铭", "ming"),
    ("天", "tian"), ("一", "yi"), ("航", "hang"), ("鑫", "xin"), ("然", "ran"), ("昊", "hao"), ("豪", "hao"),
];
#[rustfmt::skip]
const YOUNG_FEMALE: Chars = &[
    ("欣", "xin"), ("怡", "yi"), ("涵", "han"), ("萱", "xuan"), ("雨", "yu"), ("诗", "shi"), ("梦", "meng"),
    ("琪", "qi"), ("佳", "jia"), ("思", "si"), ("悦", "yue"), ("璐", "lu"), ("瑶", "yao"), ("晓", "xiao"),
    ("可", "ke"), ("馨", "xin"), ("雅", "ya"), ("婧", "jing"), ("薇", "wei"), ("月", "yue"),
];

#[rustfmt::skip]
const MAIL_DOMAINS: &[&str] = &[
    "qq.com", "163.com", "126.com", "sina.com", "gmail.com", "foxmail.com", "outlook.com", "139.com",
];

/// Mobile prefixes of the three carriers (all 1[3-9]x).
#[rustfmt::skip]
const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156", "157",
    "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188",
    "189", "191", "198", "199",
];

/// How money reaches a customer's current account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncomeKind {
    /// Monthly payroll from an employer.
    Salary,
    /// Irregular business income (self-employed, freelancers, farmers).
    Business,
    /// Monthly state pension.
    Pension,
    /// Students: monthly transfers from parents.
    Allowance,
    /// Out of work: occasional small transfers.
    Meagre,
}

/// An occupation with its income multiplier and how it is paid.
#[derive(Debug, Clone, Copy)]
pub struct Occupation {
    pub label: &'static str,
    pub factor: f64,
    pub income: IncomeKind,
    /// Gets a year-end bonus (年终奖) before Spring Festival.
    pub bonus: bool,
}

const fn occ(label: &'static str, factor: f64, income: IncomeKind, bonus: bool) -> Occupation {
    Occupation {
        label,
        factor,
        income,
        bonus,
    }
}

/// Working-age occupations with their weights.
const WORKING: &[(Occupation, f64)] = &[
    (occ("企业职员", 1.0, IncomeKind::Salary, true), 16.0),
    (occ("工程师", 1.35, IncomeKind::Salary, true), 6.0),
    (occ("程序员", 1.65, IncomeKind::Salary, true), 4.0),
    (occ("教师", 1.0, IncomeKind::Salary, false), 5.0),
    (occ("医生", 1.45, IncomeKind::Salary, true), 2.0),
    (occ("护士", 0.9, IncomeKind::Salary, false), 2.5),
    (occ("公务员", 1.1, IncomeKind::Salary, true), 4.0),
    (occ("销售人员", 1.0, IncomeKind::Salary, true), 7.0),
    (occ("会计", 1.0, IncomeKind::Salary, true), 3.5),
    (occ("企业管理人员", 1.9, IncomeKind::Salary, true), 4.0),
    (occ("金融从业人员", 1.9, IncomeKind::Salary, true), 2.0),
    (occ("律师", 1.7, IncomeKind::Salary, true), 0.8),
    (occ("工人", 0.72, IncomeKind::Salary, false), 10.0),
    (occ("司机", 0.8, IncomeKind::Salary, false), 4.0),
    (occ("快递员", 0.8, IncomeKind::Salary, false), 2.5),
    (occ("餐饮服务员", 0.6, IncomeKind::Salary, false), 3.5),
    (occ("个体工商户", 1.1, IncomeKind::Business, false), 9.0),
    (occ("自由职业者", 0.9, IncomeKind::Business, false), 4.0),
    (occ("农民", 0.45, IncomeKind::Business, false), 3.0),
    (occ("待业", 0.25, IncomeKind::Meagre, false), 3.0),
];

const STUDENT: Occupation = occ("学生", 0.0, IncomeKind::Allowance, false);
const RETIRED: Occupation = occ("退休", 0.0, IncomeKind::Pension, false);

/// A synthetic customer's identity and economics.
#[derive(Debug, Clone)]
pub struct Person {
    pub surname: &'static str,
    pub name: String,
    pub gender: Gender,
    pub birth: NaiveDate,
    pub age: u32,
    pub id: ResidentId,
    pub phone: String,
    pub email: Option<String>,
    pub city: usize,
    pub district: usize,
    pub occupation: Occupation,
    /// Declared annual income in fen (missing for some students and the unemployed).
    pub annual_income: Option<i64>,
    /// What reaches the account in an ordinary month, in fen (after tax and social insurance).
    pub monthly_net: i64,
    pub risk: Option<(RiskTolerance, NaiveDate)>,
    /// The day the customer opened the first account.
    pub since: NaiveDate,
}

fn weighted<T: Copy, R: Rng>(rng: &mut R, items: &[(T, f64)]) -> T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut u = rng.random::<f64>() * total;
    for (t, w) in items {
        if u < *w {
            return *t;
        }
        u -= w;
    }
    items[items.len() - 1].0
}

fn pick<'a, T, R: Rng>(rng: &mut R, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Age at the end of the window, shaped like a retail bank's customer book.
fn draw_age<R: Rng>(rng: &mut R) -> u32 {
    let band = weighted(
        rng,
        &[
            ((18u32, 24u32), 10.0),
            ((25, 34), 22.0),
            ((35, 44), 20.0),
            ((45, 54), 18.0),
            ((55, 64), 15.0),
            ((65, 74), 10.0),
            ((75, 85), 5.0),
        ],
    );
    rng.random_range(band.0..=band.1)
}

/// A surname by real frequency, with its pinyin.
fn draw_surname<R: Rng>(rng: &mut R) -> (&'static str, &'static str) {
    let total: f64 = SURNAMES.iter().map(|s| s.2).sum();
    let mut u = rng.random::<f64>() * total;
    for s in SURNAMES {
        if u < s.2 {
            return (s.0, s.1);
        }
        u -= s.2;
    }
    (SURNAMES[0].0, SURNAMES[0].1)
}

fn given_pool(gender: Gender, birth_year: i32) -> Chars {
    match (gender, birth_year) {
        (Gender::Male, ..1970) => OLD_MALE,
        (Gender::Female, ..1970) => OLD_FEMALE,
        (Gender::Male, 1970..1990) => MID_MALE,
        (Gender::Female, 1970..1990) => MID_FEMALE,
        (Gender::Male, _) => YOUNG_MALE,
        (Gender::Female, _) => YOUNG_FEMALE,
    }
}

/// One or two given-name characters of the birth generation, with pinyin.
fn draw_given_with_pinyin<R: Rng>(
    rng: &mut R,
    gender: Gender,
    birth_year: i32,
) -> (String, String) {
    let pool = given_pool(gender, birth_year);
    let n = if rng.random_bool(if birth_year < 1990 { 0.35 } else { 0.2 }) {
        1
    } else {
        2
    };
    let mut name = String::new();
    let mut pinyin = String::new();
    for _ in 0..n {
        let (c, p) = pick(rng, pool);
        name.push_str(c);
        pinyin.push_str(p);
    }
    (name, pinyin)
}

/// A given name of the birth generation.
pub fn draw_given<R: Rng>(rng: &mut R, gender: Gender, birth_year: i32) -> String {
    draw_given_with_pinyin(rng, gender, birth_year).0
}

/// A full name: surname by frequency, then a given name. Returns (surname, full name, pinyin).
pub fn draw_name<R: Rng>(
    rng: &mut R,
    gender: Gender,
    birth_year: i32,
) -> (&'static str, String, String) {
    let (surname, surname_pinyin) = draw_surname(rng);
    let (given, given_pinyin) = draw_given_with_pinyin(rng, gender, birth_year);
    (
        surname,
        format!("{surname}{given}"),
        format!("{surname_pinyin}{given_pinyin}"),
    )
}

pub fn draw_phone<R: Rng>(rng: &mut R) -> String {
    let mut s = String::with_capacity(11);
    let prefix = *pick(rng, MOBILE_PREFIXES);
    s.push_str(prefix);
    let tail: u32 = rng.random_range(0..100_000_000);
    s.push_str(&format!("{tail:08}"));
    s
}

fn draw_email<R: Rng>(rng: &mut R, pinyin: &str, birth_year: i32) -> String {
    match rng.random_range(0..4) {
        0 => format!("{}@qq.com", rng.random_range(10_000_000u64..3_000_000_000)),
        1 => format!("{pinyin}{}@{}", birth_year % 100, pick(rng, MAIL_DOMAINS)),
        2 => format!(
            "{pinyin}{}@{}",
            rng.random_range(1..1000),
            pick(rng, MAIL_DOMAINS)
        ),
        _ => format!("{pinyin}@{}", pick(rng, MAIL_DOMAINS)),
    }
}

/// The same calendar day `years` earlier (28 February for a 29 February).
pub fn years_before(date: NaiveDate, years: u32) -> NaiveDate {
    let y = date.year() - years as i32;
    NaiveDate::from_ymd_opt(y, date.month(), date.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, date.month(), 28))
        .unwrap_or(date)
}

fn round_to(v: f64, unit: f64) -> f64 {
    (v / unit).round() * unit
}

/// Draws one person. `start`/`end` bound the window (end exclusive).
pub fn draw_person<R: Rng>(
    rng: &mut R,
    net: &BranchNetwork,
    start: NaiveDate,
    end: NaiveDate,
) -> Person {
    let window = offset(start, end).max(1);
    let last = shift(end, -1);
    let age = draw_age(rng);
    let birth = shift(years_before(last, age), -rng.random_range(0..360));
    let gender = if rng.random_bool(0.5) {
        Gender::Male
    } else {
        Gender::Female
    };
    let (surname, name, pinyin) = draw_name(rng, gender, birth.year());

    let city = net.draw_city(rng);
    let c = &CITIES[city];
    let district = rng.random_range(0..c.districts.len());
    // About a third of big-city customers were born elsewhere: their ID carries that region.
    let migrant_share = match c.tier {
        1 => 0.4,
        2 => 0.25,
        _ => 0.1,
    };
    let id_region = if rng.random_bool(migrant_share) {
        {
            let other = pick(rng, CITIES);
            pick(rng, other.districts).code
        }
    } else {
        c.districts[district].code
    };
    let seq = rng.random_range(0..500) * 2 + u32::from(gender == Gender::Male);
    let id = ResidentId::compose(id_region, birth, seq);

    let retired = match gender {
        Gender::Male => age >= 60 && rng.random_bool(0.92),
        Gender::Female => {
            (age >= 55 && rng.random_bool(0.9)) || (age >= 50 && rng.random_bool(0.4))
        }
    };
    let occupation = if retired {
        RETIRED
    } else if age <= 22 && rng.random_bool(0.65) {
        STUDENT
    } else {
        let mut o = weighted(rng, WORKING);
        // Farmers live around the smaller cities.
        if o.label == "农民" && c.tier == 1 {
            o = WORKING[0].0;
        }
        o
    };

    let tier_median = match c.tier {
        1 => 105_000.0,
        2 => 78_000.0,
        _ => 62_000.0,
    };
    let age_factor = match age {
        ..25 => 0.6,
        25..30 => 0.85,
        30..40 => 1.05,
        40..50 => 1.1,
        _ => 0.95,
    };
    let noise = LogNormal::new(0.0, 0.45)
        .map(|d| d.sample(rng))
        .unwrap_or(1.0);
    let (annual_yuan, monthly_net_yuan) = match occupation.income {
        IncomeKind::Salary | IncomeKind::Business => {
            let annual = round_to(
                (tier_median * age_factor * occupation.factor * noise).max(24_000.0),
                100.0,
            );
            let months = if occupation.bonus { 13.5 } else { 12.0 };
            (Some(annual), annual * 0.8 / months)
        }
        IncomeKind::Pension => {
            let base = match c.tier {
                1 => 62_000.0,
                2 => 46_000.0,
                _ => 38_000.0,
            };
            let p = LogNormal::new(0.0, 0.3)
                .map(|d| d.sample(rng))
                .unwrap_or(1.0);
            let annual = round_to(base * p, 100.0);
            (Some(annual), annual / 12.0)
        }
        IncomeKind::Allowance => {
            let m = round_to(rng.random_range(1_200.0..3_500.0), 100.0);
            (None, m)
        }
        IncomeKind::Meagre => {
            let m = round_to(rng.random_range(800.0..2_500.0), 100.0);
            (rng.random_bool(0.5).then_some(m * 12.0), m)
        }
    };

    // Customer since: most joined before the window, some during it.
    let adult = shift(birth, 18 * 365 + 5);
    let earliest = adult.max(NaiveDate::from_ymd_opt(1998, 1, 1).unwrap_or(adult));
    let since = if rng.random_bool(0.08) || earliest >= start {
        let lo = offset(start, earliest).clamp(0, window - 1);
        let hi = (window - 30).clamp(lo + 1, window);
        shift(start, rng.random_range(lo..hi))
    } else {
        shift(
            earliest,
            rng.random_range(0..offset(earliest, start).max(1)),
        )
    };

    let phone = draw_phone(rng);
    let email_p = match age {
        ..30 => 0.6,
        30..50 => 0.45,
        50..65 => 0.25,
        _ => 0.08,
    };
    let email = rng
        .random_bool(email_p)
        .then(|| draw_email(rng, &pinyin, birth.year()));

    let risk = if rng.random_bool(0.88) {
        let weights: [f64; 5] = match age {
            ..35 => [8.0, 25.0, 35.0, 22.0, 10.0],
            35..55 => [12.0, 32.0, 33.0, 16.0, 7.0],
            55..70 => [25.0, 40.0, 26.0, 7.0, 2.0],
            _ => [50.0, 35.0, 13.0, 2.0, 0.0],
        };
        let levels = [
            RiskTolerance::C1,
            RiskTolerance::C2,
            RiskTolerance::C3,
            RiskTolerance::C4,
            RiskTolerance::C5,
        ];
        let pairs: Vec<(RiskTolerance, f64)> = levels.iter().copied().zip(weights).collect();
        let level = weighted(rng, &pairs);
        // A third were assessed more than a year ago: their assessment has expired.
        let back = if rng.random_bool(0.35) {
            rng.random_range(366..1_100)
        } else {
            rng.random_range(0..365)
        };
        let on = shift(last, -back).max(since);
        Some((level, on))
    } else {
        None
    };

    Person {
        surname,
        name,
        gender,
        birth,
        age,
        id,
        phone,
        email,
        city,
        district,
        occupation,
        annual_income: annual_yuan.map(|y| (y * 100.0) as i64),
        monthly_net: (monthly_net_yuan * 100.0) as i64,
        risk,
        since,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn drawn_people_have_valid_ids_matching_their_birth_and_gender() {
        let net = BranchNetwork::new();
        let start = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default();
        let end = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..2_000 {
            let p = draw_person(&mut rng, &net, start, end);
            let parsed = ResidentId::parse(p.id.as_str());
            assert_eq!(parsed.as_ref().map(|i| i.birth_date()), Ok(p.birth));
            assert_eq!(parsed.map(|i| i.gender()), Ok(p.gender));
            assert!((18..=85).contains(&p.age));
            assert_eq!(p.phone.len(), 11);
            assert!(p.since < end);
            assert!(p.monthly_net > 0);
        }
    }
}
