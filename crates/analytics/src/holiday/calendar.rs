//! The Chinese public-holiday calendar: per holiday and year, the official
//! days-off period and the make-up working days (调休上班), read from TOML
//! (`config/holidays.toml`, embedded; a user file can replace it whole).
//!
//! Owns parsing and checking that file and answering date questions about it
//! (which period, is a day off). Must never guess a period that is not in the
//! file: years without an official notice are in the file, marked
//! `provisional`, and say so.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::path::Path;

/// The calendar shipped with Rapport (2015–2027).
pub const EMBEDDED_HOLIDAYS_TOML: &str = include_str!("../../config/holidays.toml");

/// One of the seven Chinese public holidays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidayCode {
    NewYear,
    SpringFestival,
    Qingming,
    LabourDay,
    DragonBoat,
    MidAutumn,
    NationalDay,
}

impl HolidayCode {
    /// All seven, in calendar order.
    pub const ALL: [HolidayCode; 7] = [
        HolidayCode::NewYear,
        HolidayCode::SpringFestival,
        HolidayCode::Qingming,
        HolidayCode::LabourDay,
        HolidayCode::DragonBoat,
        HolidayCode::MidAutumn,
        HolidayCode::NationalDay,
    ];

    /// The code as written in files and on the command line (`national_day`).
    pub fn as_str(self) -> &'static str {
        match self {
            HolidayCode::NewYear => "new_year",
            HolidayCode::SpringFestival => "spring_festival",
            HolidayCode::Qingming => "qingming",
            HolidayCode::LabourDay => "labour_day",
            HolidayCode::DragonBoat => "dragon_boat",
            HolidayCode::MidAutumn => "mid_autumn",
            HolidayCode::NationalDay => "national_day",
        }
    }

    /// A readable English name with the Chinese one.
    pub fn display_name(self) -> &'static str {
        match self {
            HolidayCode::NewYear => "New Year (元旦)",
            HolidayCode::SpringFestival => "Spring Festival (春节)",
            HolidayCode::Qingming => "Qingming (清明节)",
            HolidayCode::LabourDay => "Labour Day (劳动节)",
            HolidayCode::DragonBoat => "Dragon Boat (端午节)",
            HolidayCode::MidAutumn => "Mid-Autumn (中秋节)",
            HolidayCode::NationalDay => "National Day (国庆节)",
        }
    }

    /// Parses a code (`national_day`); the error lists the valid ones.
    pub fn parse(text: &str) -> Result<Self, HolidayCalendarError> {
        HolidayCode::ALL
            .into_iter()
            .find(|c| c.as_str() == text.trim())
            .ok_or_else(|| HolidayCalendarError::UnknownHoliday(text.to_string()))
    }
}

impl fmt::Display for HolidayCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a holiday calendar could not be used.
#[derive(Debug, thiserror::Error)]
pub enum HolidayCalendarError {
    #[error("unknown holiday {0:?} (expected one of new_year, spring_festival, qingming, labour_day, dragon_boat, mid_autumn, national_day)")]
    UnknownHoliday(String),
    #[error("holiday calendar: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("holiday calendar: {code} {year}: {message}")]
    Invalid {
        code: HolidayCode,
        year: i32,
        message: String,
    },
    #[error("cannot read the holiday calendar {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// The days off of one holiday in one year, as announced (or, when
/// `provisional`, as computed from the rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HolidayPeriod {
    pub code: HolidayCode,
    /// The year the festival belongs to (New Year's days off may start in
    /// December of the year before).
    pub year: i32,
    /// The day the festival itself falls on.
    pub festival: NaiveDate,
    /// First day off (inclusive).
    pub first_off: NaiveDate,
    /// Last day off (inclusive).
    pub last_off: NaiveDate,
    /// Weekend days declared working days for this holiday.
    pub make_up: Vec<NaiveDate>,
    /// The other holiday sharing this break (Mid-Autumn with National Day).
    pub shared_with: Option<HolidayCode>,
    /// No official notice was known: computed from the rules.
    pub provisional: bool,
    pub note: Option<String>,
}

impl HolidayPeriod {
    /// Days off, counting both ends.
    pub fn days_off(&self) -> i64 {
        (self.last_off - self.first_off).num_days() + 1
    }
    /// Whether `day` is one of this period's days off.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.first_off <= day && day <= self.last_off
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    holiday: Vec<PeriodEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodEntry {
    code: HolidayCode,
    year: i32,
    festival: NaiveDate,
    first_off: NaiveDate,
    last_off: NaiveDate,
    #[serde(default)]
    make_up: Vec<NaiveDate>,
    shared_with: Option<HolidayCode>,
    #[serde(default)]
    provisional: bool,
    note: Option<String>,
}

/// Every known holiday period, checked: one per holiday and year, periods in
/// order, make-up days outside the periods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayCalendar {
    periods: Vec<HolidayPeriod>,
    days_off: HashSet<NaiveDate>,
}

impl HolidayCalendar {
    /// The calendar shipped with Rapport ([`EMBEDDED_HOLIDAYS_TOML`]).
    pub fn embedded() -> Result<Self, HolidayCalendarError> {
        Self::from_toml_str(EMBEDDED_HOLIDAYS_TOML)
    }

    /// Reads a calendar file that replaces the embedded one.
    pub fn load(path: &Path) -> Result<Self, HolidayCalendarError> {
        let text = std::fs::read_to_string(path).map_err(|source| HolidayCalendarError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml_str(&text)
    }

    /// Parses and checks a calendar in the format of `config/holidays.toml`.
    pub fn from_toml_str(text: &str) -> Result<Self, HolidayCalendarError> {
        let file: CalendarFile = toml::from_str(text)?;
        let mut periods = Vec::with_capacity(file.holiday.len());
        let mut seen = HashSet::new();
        for e in file.holiday {
            let invalid = |message: String| HolidayCalendarError::Invalid {
                code: e.code,
                year: e.year,
                message,
            };
            if !seen.insert((e.code, e.year)) {
                return Err(invalid("listed twice".into()));
            }
            if e.last_off < e.first_off {
                return Err(invalid(format!(
                    "last_off {} is before first_off {}",
                    e.last_off, e.first_off
                )));
            }
            if (e.last_off - e.first_off).num_days() > 15 {
                return Err(invalid("a period longer than 16 days".into()));
            }
            if (e.festival - e.first_off).num_days().abs() > 31 {
                return Err(invalid(format!(
                    "festival {} is more than a month from the days off",
                    e.festival
                )));
            }
            if let Some(d) = e
                .make_up
                .iter()
                .find(|d| e.first_off <= **d && **d <= e.last_off)
            {
                return Err(invalid(format!(
                    "make-up working day {d} is inside the days off"
                )));
            }
            if e.shared_with == Some(e.code) {
                return Err(invalid("shared_with names the holiday itself".into()));
            }
            periods.push(HolidayPeriod {
                code: e.code,
                year: e.year,
                festival: e.festival,
                first_off: e.first_off,
                last_off: e.last_off,
                make_up: e.make_up,
                shared_with: e.shared_with,
                provisional: e.provisional,
                note: e.note,
            });
        }
        // A shared break is listed under both holidays with the same days.
        for p in &periods {
            if let Some(other) = p.shared_with {
                let twin = periods.iter().find(|q| q.code == other && q.year == p.year);
                let same = twin.is_some_and(|q| {
                    q.first_off == p.first_off
                        && q.last_off == p.last_off
                        && q.shared_with == Some(p.code)
                });
                if !same {
                    return Err(HolidayCalendarError::Invalid {
                        code: p.code,
                        year: p.year,
                        message: format!(
                            "shared with {other}, which must list the same days and share back"
                        ),
                    });
                }
            }
        }
        periods.sort_by_key(|p| (p.first_off, p.code));
        let days_off = periods
            .iter()
            .flat_map(|p| {
                p.first_off
                    .iter_days()
                    .take_while(move |d| *d <= p.last_off)
            })
            .collect();
        Ok(HolidayCalendar { periods, days_off })
    }

    /// Every period, in date order.
    pub fn periods(&self) -> &[HolidayPeriod] {
        &self.periods
    }

    /// The period of `code` in `year`, if known.
    pub fn period(&self, code: HolidayCode, year: i32) -> Option<&HolidayPeriod> {
        self.periods
            .iter()
            .find(|p| p.code == code && p.year == year)
    }

    /// The years that have a period of `code`, ascending.
    pub fn years_of(&self, code: HolidayCode) -> Vec<i32> {
        let mut years: Vec<i32> = self
            .periods
            .iter()
            .filter(|p| p.code == code)
            .map(|p| p.year)
            .collect();
        years.sort_unstable();
        years
    }

    /// Whether `day` is a public-holiday day off (any holiday).
    pub fn is_day_off(&self, day: NaiveDate) -> bool {
        self.days_off.contains(&day)
    }

    /// Whether `day` is a make-up working day (a weekend day worked).
    pub fn is_make_up_day(&self, day: NaiveDate) -> bool {
        self.periods.iter().any(|p| p.make_up.contains(&day))
    }
}
