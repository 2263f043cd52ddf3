//! Public holidays and the demand around them: the official Chinese holiday
//! calendar ([`calendar`]) and the holiday demand analysis with its forecast
//! and need segments ([`demand`]).
//!
//! Must never write to the store (callers save need segments) and never
//! print: the app renders reports.

pub mod calendar;
pub mod demand;

pub use calendar::{HolidayCalendar, HolidayCalendarError, HolidayCode, HolidayPeriod};
pub use demand::{
    analyse_holiday_demand, Backtest, BacktestPoint, BacktestSummary, CategoryGroup,
    DemandForecast, DemandRow, HolidayDemandError, HolidayDemandOptions, HolidayDemandReport,
    IntervalMethod, NeedSegment, YearUplift,
};
