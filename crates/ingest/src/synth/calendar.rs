//! The generator's calendar: every day of the window with its ISO spelling,
//! the Chinese public holidays on their real dates (Spring Festival and
//! Mid-Autumn follow the lunar calendar, National Day is October 1–7) and
//! the weekly and yearly rhythm of household spending.
//!
//! Everything here is computed once per run and shared read-only by the
//! worker threads; it must never hold per-customer state.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// Spring Festival (正月初一) on its real Gregorian date, 2020–2030.
const SPRING_FESTIVAL: [(i32, u32, u32); 11] = [
    (2020, 1, 25),
    (2021, 2, 12),
    (2022, 2, 1),
    (2023, 1, 22),
    (2024, 2, 10),
    (2025, 1, 29),
    (2026, 2, 17),
    (2027, 2, 6),
    (2028, 1, 26),
    (2029, 2, 13),
    (2030, 2, 3),
];

/// Mid-Autumn Festival (八月十五) on its real Gregorian date, 2020–2030.
const MID_AUTUMN: [(i32, u32, u32); 11] = [
    (2020, 10, 1),
    (2021, 9, 21),
    (2022, 9, 10),
    (2023, 9, 29),
    (2024, 9, 17),
    (2025, 10, 6),
    (2026, 9, 25),
    (2027, 9, 15),
    (2028, 10, 3),
    (2029, 9, 22),
    (2030, 9, 12),
];

fn lookup(table: &[(i32, u32, u32)], year: i32) -> Option<NaiveDate> {
    table
        .iter()
        .find(|(y, _, _)| *y == year)
        .and_then(|&(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
}

/// The first day of the Spring Festival holiday in `year` (2020–2030), if known.
pub fn spring_festival(year: i32) -> Option<NaiveDate> {
    lookup(&SPRING_FESTIVAL, year)
}

/// The Mid-Autumn Festival in `year` (2020–2030), if known.
pub fn mid_autumn(year: i32) -> Option<NaiveDate> {
    lookup(&MID_AUTUMN, year)
}

/// What kind of day it is for a household.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holiday {
    None,
    /// Spring Festival eve and the seven holiday days after it.
    SpringFestival,
    /// October 1–7.
    NationalDay,
}

/// The kinds of discretionary spending a customer does on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    Groceries,
    Dining,
    Shopping,
    Travel,
    CardPurchase,
    CashWithdrawal,
    TransferOut,
    Utilities,
    Healthcare,
    Education,
    /// Red envelopes (红包) given at Spring Festival.
    RedEnvelope,
}

impl Spend {
    pub const ALL: [Spend; 11] = [
        Spend::Groceries,
        Spend::Dining,
        Spend::Shopping,
        Spend::Travel,
        Spend::CardPurchase,
        Spend::CashWithdrawal,
        Spend::TransferOut,
        Spend::Utilities,
        Spend::Healthcare,
        Spend::Education,
        Spend::RedEnvelope,
    ];

    /// Share of spending transactions on an ordinary weekday.
    fn base_weight(self) -> f32 {
        match self {
            Spend::Groceries => 0.24,
            Spend::Dining => 0.18,
            Spend::Shopping => 0.15,
            Spend::Travel => 0.03,
            Spend::CardPurchase => 0.08,
            Spend::CashWithdrawal => 0.07,
            Spend::TransferOut => 0.12,
            Spend::Utilities => 0.05,
            Spend::Healthcare => 0.05,
            Spend::Education => 0.03,
            Spend::RedEnvelope => 0.0,
        }
    }

    /// Mean amount in yuan for a customer with the reference budget.
    pub fn mean_yuan(self) -> f64 {
        match self {
            Spend::Groceries => 160.0,
            Spend::Dining => 130.0,
            Spend::Shopping => 420.0,
            Spend::Travel => 1_600.0,
            Spend::CardPurchase => 300.0,
            Spend::CashWithdrawal => 900.0,
            Spend::TransferOut => 500.0,
            Spend::Utilities => 150.0,
            Spend::Healthcare => 380.0,
            Spend::Education => 2_200.0,
            Spend::RedEnvelope => 400.0,
        }
    }
}

pub const N_SPEND: usize = Spend::ALL.len();

/// One day of the generation window.
#[derive(Debug, Clone)]
pub struct Day {
    pub date: NaiveDate,
    /// `YYYY-MM-DD`.
    pub iso: [u8; 10],
    pub year: i32,
    pub month: u32,
    /// A day on which banks post payroll and standing orders (not a weekend or public holiday).
    pub business: bool,
    pub holiday: Holiday,
    /// Expected number of spending transactions relative to an ordinary weekday.
    pub intensity: f32,
    /// Cumulative category shares (the last is 1.0), indexed like `Spend::ALL`.
    pub cumulative: [f32; N_SPEND],
}

impl Day {
    /// Picks a spending category from this day's mix, given a uniform draw in [0, 1).
    pub fn pick(&self, u: f32) -> Spend {
        let i = self
            .cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or(N_SPEND - 1);
        Spend::ALL[i]
    }
}

/// One calendar month that overlaps the window.
#[derive(Debug, Clone, Copy)]
pub struct Month {
    pub year: i32,
    pub month: u32,
    /// Window index of the month's first day (negative when it starts before the window).
    pub first: i64,
    pub len: u32,
}

/// The whole window, precomputed.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub start: NaiveDate,
    pub days: Vec<Day>,
    pub months: Vec<Month>,
}

/// Writes `YYYY-MM-DD` for any date.
pub fn iso(date: NaiveDate) -> [u8; 10] {
    let mut b = *b"0000-00-00";
    let y = date.year().clamp(0, 9999) as u32;
    b[0] = b'0' + (y / 1000) as u8;
    b[1] = b'0' + (y / 100 % 10) as u8;
    b[2] = b'0' + (y / 10 % 10) as u8;
    b[3] = b'0' + (y % 10) as u8;
    b[5] = b'0' + (date.month() / 10) as u8;
    b[6] = b'0' + (date.month() % 10) as u8;
    b[8] = b'0' + (date.day() / 10) as u8;
    b[9] = b'0' + (date.day() % 10) as u8;
    b
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    match (next, NaiveDate::from_ymd_opt(year, month, 1)) {
        (Some(n), Some(f)) => (n - f).num_days() as u32,
        _ => 30,
    }
}

/// Signed day offset of `date` from `origin`.
pub fn offset(origin: NaiveDate, date: NaiveDate) -> i64 {
    (date - origin).num_days()
}

/// `origin` plus a signed number of days.
pub fn shift(origin: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        origin
            .checked_add_days(Days::new(days as u64))
            .unwrap_or(origin)
    } else {
        origin
            .checked_sub_days(Days::new(days.unsigned_abs()))
            .unwrap_or(origin)
    }
}

impl Calendar {
    /// Builds the calendar of `[start, end)`.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Self {
        let n = offset(start, end).max(0);
        let mut days = Vec::with_capacity(n as usize);
        for i in 0..n {
            let date = shift(start, i);
            days.push(Self::day(date));
        }
        let mut months: Vec<Month> = Vec::new();
        for d in &days {
            if months
                .last()
                .is_none_or(|m| m.year != d.year || m.month != d.month)
            {
                let first_of_month = NaiveDate::from_ymd_opt(d.year, d.month, 1).unwrap_or(d.date);
                months.push(Month {
                    year: d.year,
                    month: d.month,
                    first: offset(start, first_of_month),
                    len: days_in_month(d.year, d.month),
                });
            }
        }
        Calendar {
            start,
            days,
            months,
        }
    }

    pub fn len(&self) -> usize {
        self.days.len()
    }

    /// The window index of day `dom` of month `m` (clamped to the month's length), if inside the window.
    pub fn day_in_month(&self, m: &Month, dom: u32) -> Option<usize> {
        let d = m.first + i64::from(dom.clamp(1, m.len)) - 1;
        (d >= 0 && (d as usize) < self.days.len()).then_some(d as usize)
    }

    /// The last business day on or before `d` (payroll moves forward over weekends and holidays).
    pub fn business_on_or_before(&self, d: usize) -> usize {
        let mut i = d;
        while i > 0 && !self.days[i].business {
            i -= 1;
        }
        i
    }

    fn day(date: NaiveDate) -> Day {
        let year = date.year();
        let (month, dom) = (date.month(), date.day());
        let weekday = date.weekday();
        let weekend = matches!(weekday, Weekday::Sat | Weekday::Sun);

        // Distance to the nearest Spring Festival (this year's or next year's).
        let sf_delta = [year - 1, year, year + 1]
            .iter()
            .filter_map(|&y| spring_festival(y))
            .map(|sf| offset(sf, date))
            .min_by_key(|d| d.abs());
        let ma_delta = mid_autumn(year).map(|m| offset(m, date));

        let holiday = match sf_delta {
            Some(-1..=6) => Holiday::SpringFestival,
            _ if month == 10 && dom <= 7 => Holiday::NationalDay,
            _ => Holiday::None,
        };
        let business = !weekend && holiday == Holiday::None;

        let mut w = [0f32; N_SPEND];
        for (i, s) in Spend::ALL.iter().enumerate() {
            w[i] = s.base_weight();
        }
        let idx = |s: Spend| Spend::ALL.iter().position(|&x| x == s).unwrap_or(0);
        let scale = |w: &mut [f32; N_SPEND], s: Spend, f: f32| w[idx(s)] *= f;

        // Weekly rhythm: weekends are for eating out, shopping and trips.
        let mut intensity: f32 = match weekday {
            Weekday::Mon | Weekday::Tue | Weekday::Wed | Weekday::Thu => 0.92,
            Weekday::Fri => 1.06,
            Weekday::Sat => 1.28,
            Weekday::Sun => 1.16,
        };
        if weekend {
            scale(&mut w, Spend::Dining, 1.35);
            scale(&mut w, Spend::Shopping, 1.3);
            scale(&mut w, Spend::Travel, 1.6);
            scale(&mut w, Spend::Utilities, 0.6);
        }

        // Yearly rhythm: 618 and Double 11 shopping, summer travel, school fees, year-end.
        intensity *= match month {
            1 => 1.04,
            2 => 0.96,
            3 => 0.95,
            4 => 0.98,
            5 => 1.0,
            6 => 1.03,
            7 | 8 => 1.05,
            9 => 0.99,
            10 => 1.02,
            11 => 1.06,
            _ => 1.08,
        };
        if month == 7 || month == 8 {
            scale(&mut w, Spend::Travel, 1.7);
        }
        if (month == 8 && dom >= 20) || (month == 9 && dom <= 5) || (month == 2 && dom >= 20) {
            scale(&mut w, Spend::Education, 3.0);
        }
        if month == 6 && (16..=18).contains(&dom) {
            intensity *= 1.2;
            scale(&mut w, Spend::Shopping, 2.2);
        }
        if month == 11 && (9..=11).contains(&dom) {
            intensity *= 1.3;
            scale(&mut w, Spend::Shopping, if dom == 11 { 3.5 } else { 2.0 });
        }
        if month == 12 || month == 1 {
            scale(&mut w, Spend::Healthcare, 1.25);
        }

        // Mid-Autumn: mooncakes and gifts in the ten days before, family dinner on the day.
        if let Some(delta) = ma_delta {
            if (-10..=-1).contains(&delta) {
                scale(&mut w, Spend::Shopping, 1.5);
                intensity *= 1.08;
            } else if delta == 0 {
                scale(&mut w, Spend::Dining, 1.6);
            }
        }

        // National Day Golden Week: trips, restaurants and malls.
        if holiday == Holiday::NationalDay {
            intensity *= 1.55;
            scale(&mut w, Spend::Travel, 4.5);
            scale(&mut w, Spend::Dining, 1.8);
            scale(&mut w, Spend::Shopping, 1.4);
            scale(&mut w, Spend::CashWithdrawal, 1.3);
            scale(&mut w, Spend::Utilities, 0.3);
            scale(&mut w, Spend::Education, 0.2);
        } else if month == 9 && dom >= 27 {
            scale(&mut w, Spend::Travel, 2.2);
            intensity *= 1.08;
        }

        // Spring Festival: New Year shopping and train tickets home before,
        // cash and red envelopes around the eve, closed shops during the week.
        if let Some(delta) = sf_delta {
            match delta {
                -24..=-15 => {
                    intensity *= 1.12;
                    scale(&mut w, Spend::Travel, 2.8);
                    scale(&mut w, Spend::Shopping, 1.3);
                }
                -14..=-2 => {
                    intensity *= 1.45;
                    scale(&mut w, Spend::Groceries, 1.8);
                    scale(&mut w, Spend::Shopping, 1.7);
                    scale(&mut w, Spend::CashWithdrawal, 2.6);
                    scale(&mut w, Spend::Travel, 2.0);
                    w[idx(Spend::RedEnvelope)] = 0.03;
                }
                -1..=2 => {
                    intensity *= 1.35;
                    w[idx(Spend::RedEnvelope)] = 0.45;
                    scale(&mut w, Spend::Dining, 1.6);
                    scale(&mut w, Spend::Shopping, 0.5);
                    scale(&mut w, Spend::Utilities, 0.2);
                    scale(&mut w, Spend::Education, 0.1);
                }
                3..=6 => {
                    intensity *= 1.1;
                    w[idx(Spend::RedEnvelope)] = 0.15;
                    scale(&mut w, Spend::Dining, 1.5);
                    scale(&mut w, Spend::Travel, 1.8);
                    scale(&mut w, Spend::Utilities, 0.3);
                }
                7..=14 => {
                    scale(&mut w, Spend::Travel, 2.2);
                }
                _ => {}
            }
        }

        let total: f32 = w.iter().sum();
        let mut cumulative = [0f32; N_SPEND];
        let mut acc = 0f32;
        for i in 0..N_SPEND {
            acc += w[i] / total;
            cumulative[i] = acc;
        }
        cumulative[N_SPEND - 1] = 1.0;
        Day {
            date,
            iso: iso(date),
            year,
            month,
            business,
            holiday,
            intensity,
            cumulative,
        }
    }

    /// Mean spending intensity over the window.
    pub fn mean_intensity(&self) -> f64 {
        if self.days.is_empty() {
            return 1.0;
        }
        self.days
            .iter()
            .map(|d| f64::from(d.intensity))
            .sum::<f64>()
            / self.days.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn spring_festival_falls_on_its_real_dates() {
        assert_eq!(spring_festival(2023), Some(d(2023, 1, 22)));
        assert_eq!(spring_festival(2024), Some(d(2024, 2, 10)));
        assert_eq!(spring_festival(2025), Some(d(2025, 1, 29)));
        assert_eq!(spring_festival(2026), Some(d(2026, 2, 17)));
        assert_eq!(spring_festival(2031), None);
    }

    #[test]
    fn golden_week_and_spring_festival_are_holidays_and_busier() {
        let cal = Calendar::new(d(2024, 1, 1), d(2025, 1, 1));
        let at = |date: NaiveDate| &cal.days[offset(cal.start, date) as usize];
        assert_eq!(at(d(2024, 10, 3)).holiday, Holiday::NationalDay);
        assert!(!at(d(2024, 10, 3)).business);
        assert_eq!(at(d(2024, 2, 9)).holiday, Holiday::SpringFestival);
        assert_eq!(at(d(2024, 2, 16)).holiday, Holiday::SpringFestival);
        assert_eq!(at(d(2024, 2, 17)).holiday, Holiday::None);
        assert!(at(d(2024, 10, 2)).intensity > at(d(2024, 9, 18)).intensity);
        let travel = |day: &Day| day.cumulative[3] - day.cumulative[2];
        assert!(travel(at(d(2024, 10, 2))) > 3.0 * travel(at(d(2024, 9, 18))));
        let red = |day: &Day| day.cumulative[10] - day.cumulative[9];
        assert!(red(at(d(2024, 2, 10))) > 0.2);
        assert!(red(at(d(2024, 5, 10))) < 1e-6);
    }

    #[test]
    fn payroll_moves_to_the_last_business_day_before_a_weekend_or_holiday() {
        let cal = Calendar::new(d(2024, 1, 1), d(2025, 1, 1));
        let oct5 = offset(cal.start, d(2024, 10, 5)) as usize;
        assert_eq!(
            cal.days[cal.business_on_or_before(oct5)].date,
            d(2024, 9, 30)
        );
        assert_eq!(cal.months.len(), 12);
        assert_eq!(cal.months[1].len, 29);
    }

    #[test]
    fn iso_dates_are_zero_padded() {
        assert_eq!(&iso(d(2024, 3, 5)), b"2024-03-05");
        assert_eq!(&iso(d(1949, 12, 31)), b"1949-12-31");
    }
}
