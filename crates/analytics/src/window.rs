//! The as-of date and the windows measured back from it, in day numbers
//! (days since 1970-01-01, as the store's scans hand dates over).
//!
//! A window of W days is `[D − W, D)`: D − W included, D itself excluded.
//! The six whole calendar months before D's month are numbered 0 (oldest,
//! six months before) to 5 (the month just before D's month).

use crate::AnalyticsError;
use chrono::{Datelike, Months, NaiveDate};
use rapport_store::{date_of_epoch_day, epoch_day};

/// Whole calendar months looked back over (income regularity, trend, salary months).
pub const MONTHS_BACK: usize = 6;

/// An as-of date D with its window bounds precomputed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsOf {
    pub date: NaiveDate,
    /// D as a day number.
    pub day: i32,
    /// First day of the 30-day window (D − 30).
    pub d30: i32,
    /// First day of the 90-day window (D − 90).
    pub d90: i32,
    /// First day of the 365-day window (D − 365).
    pub d365: i32,
    /// First days of the months D's month − 6 … D's month: month slot `k`
    /// (0..6) is `[month_starts[k], month_starts[k + 1])`.
    pub month_starts: [i32; MONTHS_BACK + 1],
}

impl AsOf {
    pub fn new(date: NaiveDate) -> Result<Self, AnalyticsError> {
        let out_of_range = || AnalyticsError::AsOfOutOfRange(date);
        let this_month = date.with_day(1).ok_or_else(out_of_range)?;
        let mut month_starts = [0i32; MONTHS_BACK + 1];
        for (k, slot) in month_starts.iter_mut().enumerate() {
            let back = (MONTHS_BACK - k) as u32;
            let first = this_month
                .checked_sub_months(Months::new(back))
                .ok_or_else(out_of_range)?;
            *slot = epoch_day(first);
        }
        let day = epoch_day(date);
        let back = |n: i32| day.checked_sub(n).ok_or_else(out_of_range);
        Ok(AsOf {
            date,
            day,
            d30: back(30)?,
            d90: back(90)?,
            d365: back(365)?,
            month_starts,
        })
    }

    /// The month slot (0 = oldest … 5 = the month before D's month) of `day`,
    /// if it falls in one of the six whole months before D's month.
    #[inline]
    pub fn month_slot(&self, day: i32) -> Option<usize> {
        if day < self.month_starts[0] || day >= self.month_starts[MONTHS_BACK] {
            return None;
        }
        (1..=MONTHS_BACK)
            .find(|&k| day < self.month_starts[k])
            .map(|k| k - 1)
    }

    /// Whole calendar months from `since` to D (a month counts once its
    /// day-of-month is reached); `None` when `since` is not before D.
    pub fn whole_months_since(&self, since: i32) -> Option<i64> {
        if since >= self.day {
            return None;
        }
        let s = date_of_epoch_day(since)?;
        let d = self.date;
        let mut months =
            i64::from(d.year() - s.year()) * 12 + i64::from(d.month()) - i64::from(s.month());
        if d.day() < s.day() {
            months -= 1;
        }
        Some(months.max(0))
    }

    /// Whole years from `since` to D (birthday reached = one more year);
    /// `None` when `since` is not before D.
    pub fn whole_years_since(&self, since: i32) -> Option<i64> {
        if since >= self.day {
            return None;
        }
        let s = date_of_epoch_day(since)?;
        let d = self.date;
        let mut years = i64::from(d.year() - s.year());
        if (d.month(), d.day()) < (s.month(), s.day()) {
            years -= 1;
        }
        Some(years.max(0))
    }
}

/// Day number `months` calendar months after day `day` (end-of-month
/// clamped, as chrono does); `None` out of range.
pub fn add_months(day: i32, months: u32) -> Option<i32> {
    date_of_epoch_day(day)?
        .checked_add_months(Months::new(months))
        .map(epoch_day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn windows_reach_back_from_the_as_of_date() -> Result<(), AnalyticsError> {
        let a = AsOf::new(d(2024, 7, 15))?;
        assert_eq!(a.day - a.d30, 30);
        assert_eq!(a.d90, epoch_day(d(2024, 4, 16)));
        assert_eq!(a.month_starts[0], epoch_day(d(2024, 1, 1)));
        assert_eq!(a.month_starts[6], epoch_day(d(2024, 7, 1)));
        Ok(())
    }

    #[test]
    fn month_slots_cover_the_six_whole_months_before_the_as_of_month() -> Result<(), AnalyticsError>
    {
        let a = AsOf::new(d(2024, 3, 1))?;
        assert_eq!(a.month_slot(epoch_day(d(2023, 8, 31))), None);
        assert_eq!(a.month_slot(epoch_day(d(2023, 9, 1))), Some(0));
        assert_eq!(a.month_slot(epoch_day(d(2023, 12, 31))), Some(3));
        assert_eq!(a.month_slot(epoch_day(d(2024, 2, 29))), Some(5));
        assert_eq!(a.month_slot(epoch_day(d(2024, 3, 1))), None);
        Ok(())
    }

    #[test]
    fn whole_months_and_years_count_only_completed_ones() -> Result<(), AnalyticsError> {
        let a = AsOf::new(d(2024, 7, 15))?;
        assert_eq!(a.whole_months_since(epoch_day(d(2024, 6, 15))), Some(1));
        assert_eq!(a.whole_months_since(epoch_day(d(2024, 6, 16))), Some(0));
        assert_eq!(a.whole_months_since(epoch_day(d(2022, 1, 31))), Some(29));
        assert_eq!(a.whole_months_since(a.day), None);
        assert_eq!(a.whole_years_since(epoch_day(d(1990, 7, 15))), Some(34));
        assert_eq!(a.whole_years_since(epoch_day(d(1990, 7, 16))), Some(33));
        assert_eq!(
            add_months(epoch_day(d(2024, 1, 31)), 1),
            Some(epoch_day(d(2024, 2, 29)))
        );
        Ok(())
    }
}
