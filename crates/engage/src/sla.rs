//! The service-level clock of a complaint or service case (docs/PRODUCT.md C10).
//!
//! Owns: the business calendar (working hours, public holidays and the
//! make-up working days 调休), the two clocks a target can run on
//! ([`Basis::Business`], [`Basis::Calendar`]), pauses while the case waits on
//! the customer, deadlines, the status of a case's two targets (first
//! response and resolution) and the escalations to the supervisor that fall
//! due. Every status and escalation says why in English and Chinese.
//!
//! Must never do IO or read the clock: the calendar, the case's times and
//! "now" are parameters, so a job that runs every few minutes and a report
//! that replays history get the same answers.
//!
//! ## Choices worth knowing
//!
//! * **First response within 24 hours** is counted, by default, on the
//!   calendar: 24 wall-clock hours (1,440 minutes), nights and holidays
//!   included, as the bank's "需求响应时间缩短至24小时" means. A policy may
//!   run it on working time instead ([`SlaPolicy::first_response_basis`] =
//!   [`Basis::Business`]: 1,440 working minutes, about 2.8 working days of
//!   8.5 h); the KPI's label then says "working hours". The resolution
//!   targets run on [`SlaPolicy::basis`].
//! * **Resolution by severity**, in working minutes of the default 8.5 h day
//!   (09:00–17:30, [`WORKING_DAY_MINUTES`] = 510): critical 8 h (480),
//!   high 3 working days (1,530), medium 5 (2,550), low 10 (5,100).
//! * **Pauses** (waiting on the customer) stop the resolution clock only. The
//!   first-response clock ignores them: a case cannot fairly wait on a
//!   customer nobody has answered yet.
//! * **A resolution counts as the first response** when no separate response
//!   was recorded: the customer was answered.
//! * **Minutes**: elapsed time is floored to whole minutes; a deadline is the
//!   exact instant the clock reaches its target, so
//!   `elapsed_minutes(start, deadline(start, m)) == m`.
//! * **Events after `now`** (a response, a resolution, a pause) have not
//!   happened yet and are ignored by [`status`].
//! * **Two policies** ([`PolicyKind`]): the bank's own (configured, the
//!   default above) and the regulator's complaint timelines
//!   ([`SlaPolicy::regulator`]: 15 calendar days to a decision, extendable
//!   to 30, then to 60 with a senior's approval). A granted extension is
//!   [`SlaPolicy::extended`]; which extension comes next and whether it
//!   needs a senior is [`SlaPolicy::next_extension`].
//! * **Escalation**: once when the warning share of the target is used
//!   ([`SlaPolicy::warn_at`], 80 % by default), once at the breach; a target
//!   that is met, or paused before its breach, raises nothing.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// Minutes in the default working day (09:00–17:30).
pub const WORKING_DAY_MINUTES: i64 = 510;

/// The largest target [`deadline`] accepts: ten years of wall-clock minutes.
pub const MAX_TARGET_MINUTES: i64 = 10 * 366 * 24 * 60;

/// How many days in a row without a working window [`deadline`] searches
/// before it gives up on the calendar (three years).
pub const MAX_DAYS_WITHOUT_WORK: u32 = 3 * 366;

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

/// Working hours, public holidays and make-up working days (调休).
///
/// A day's working window, in order of precedence:
///
/// 1. a date in `holidays` has none (holidays win over everything);
/// 2. a date in `workdays` (a make-up day, usually a weekend) has
///    `makeup_hours`;
/// 3. otherwise the date's weekday in `hours`.
///
/// A window whose start is not before its end counts as none (a window
/// cannot run past midnight).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessCalendar {
    /// Working hours Monday (index 0) to Sunday (index 6).
    pub hours: [Option<(NaiveTime, NaiveTime)>; 7],
    /// Days off even when they fall on a working weekday.
    pub holidays: BTreeSet<NaiveDate>,
    /// Make-up working days (调休上班), worked even on a weekend.
    pub workdays: BTreeSet<NaiveDate>,
    /// Working hours on a make-up day.
    pub makeup_hours: (NaiveTime, NaiveTime),
}

impl Default for BusinessCalendar {
    /// Monday to Friday 09:00–17:30, weekends off, no holidays, make-up
    /// days worked 09:00–17:30.
    fn default() -> Self {
        let day = (hm(9, 0), hm(17, 30));
        BusinessCalendar {
            hours: [
                Some(day),
                Some(day),
                Some(day),
                Some(day),
                Some(day),
                None,
                None,
            ],
            holidays: BTreeSet::new(),
            workdays: BTreeSet::new(),
            makeup_hours: day,
        }
    }
}

impl BusinessCalendar {
    /// The default hours with these holidays and make-up working days.
    pub fn with_days(
        holidays: impl IntoIterator<Item = NaiveDate>,
        workdays: impl IntoIterator<Item = NaiveDate>,
    ) -> Self {
        BusinessCalendar {
            holidays: holidays.into_iter().collect(),
            workdays: workdays.into_iter().collect(),
            ..BusinessCalendar::default()
        }
    }

    fn hours_on(&self, date: NaiveDate) -> Option<(NaiveTime, NaiveTime)> {
        if self.holidays.contains(&date) {
            return None;
        }
        let hours = if self.workdays.contains(&date) {
            Some(self.makeup_hours)
        } else {
            self.hours[date.weekday().num_days_from_monday() as usize]
        };
        hours.filter(|(start, end)| start < end)
    }

    /// Whether `date` has working hours.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.hours_on(date).is_some()
    }

    /// The working window of `date` (start inclusive, end exclusive), none
    /// on a day off.
    pub fn working_window(&self, date: NaiveDate) -> Option<(NaiveDateTime, NaiveDateTime)> {
        self.hours_on(date)
            .map(|(start, end)| (date.and_time(start), date.and_time(end)))
    }
}

/// Which minutes a clock counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Only minutes inside the calendar's working windows.
    Business,
    /// Every minute.
    Calendar,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Business => "business",
            Basis::Calendar => "calendar",
        }
    }

    pub fn parse(s: &str) -> Option<Basis> {
        match s.trim().to_ascii_lowercase().as_str() {
            "business" => Some(Basis::Business),
            "calendar" => Some(Basis::Calendar),
            _ => None,
        }
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A time the case waited on the customer; `to` none while it still waits.
/// A pause that ends before it starts is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub from: NaiveDateTime,
    pub to: Option<NaiveDateTime>,
}

/// Why the clock cannot answer.
#[derive(Debug, Clone, PartialEq)]
pub enum SlaError {
    /// A target below zero minutes.
    NegativeTarget { minutes: i64 },
    /// A target above [`MAX_TARGET_MINUTES`].
    TargetTooLarge { minutes: i64 },
    /// [`MAX_DAYS_WITHOUT_WORK`] days in a row without working hours from
    /// this date: the calendar has (almost) no working time.
    NoWorkingTime { after: NaiveDate },
    /// The deadline falls outside the dates the clock can represent.
    OutOfRange,
    /// A warning share outside 0–1.
    InvalidWarnShare { share: f64 },
}

impl SlaError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            SlaError::NegativeTarget { .. } => "negative_target",
            SlaError::TargetTooLarge { .. } => "target_too_large",
            SlaError::NoWorkingTime { .. } => "no_working_time",
            SlaError::OutOfRange => "out_of_range",
            SlaError::InvalidWarnShare { .. } => "invalid_warn_share",
        }
    }

    /// The message in Chinese (the English one is the `Display`).
    pub fn message_zh(&self) -> String {
        match self {
            SlaError::NegativeTarget { minutes } => format!("时限不能为负数（{minutes}分钟）"),
            SlaError::TargetTooLarge { minutes } => {
                format!("时限{minutes}分钟超过上限{MAX_TARGET_MINUTES}分钟（十年）")
            }
            SlaError::NoWorkingTime { after } => {
                format!("自{after}起连续{MAX_DAYS_WITHOUT_WORK}天没有工作时间，请检查工作日历")
            }
            SlaError::OutOfRange => "截止时间超出可表示的日期范围".into(),
            SlaError::InvalidWarnShare { share } => {
                format!("预警比例{share}须在0到1之间")
            }
        }
    }
}

impl fmt::Display for SlaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SlaError::NegativeTarget { minutes } => {
                write!(f, "a target cannot be negative ({minutes} minutes)")
            }
            SlaError::TargetTooLarge { minutes } => write!(
                f,
                "a target of {minutes} minutes is over the limit of {MAX_TARGET_MINUTES} (ten years)"
            ),
            SlaError::NoWorkingTime { after } => write!(
                f,
                "no working hours in {MAX_DAYS_WITHOUT_WORK} days in a row from {after}: check the business calendar"
            ),
            SlaError::OutOfRange => f.write_str("the deadline is beyond the representable dates"),
            SlaError::InvalidWarnShare { share } => {
                write!(f, "the warning share {share} must be between 0 and 1")
            }
        }
    }
}

impl std::error::Error for SlaError {}

/// A half-open span of time `[start, end)`.
type Span = (NaiveDateTime, NaiveDateTime);

/// The pauses clipped to `[from, until)` (an open pause running to
/// `open_end`), sorted and merged so that no instant is in two spans.
fn paused_spans(
    pauses: &[Pause],
    from: NaiveDateTime,
    until: Option<NaiveDateTime>,
    open_end: NaiveDateTime,
) -> Vec<Span> {
    let mut spans: Vec<Span> = pauses
        .iter()
        .filter_map(|p| {
            let start = p.from.max(from);
            let end = p.to.unwrap_or(open_end);
            let end = until.map_or(end, |u| end.min(u));
            (start < end).then_some((start, end))
        })
        .collect();
    spans.sort();
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// The time of `span` not in a paused span (`paused` merged).
fn unpaused(span: Span, paused: &[Span]) -> Duration {
    let in_pause = paused.iter().fold(Duration::zero(), |acc, &(a, b)| {
        let lo = a.max(span.0);
        let hi = b.min(span.1);
        if lo < hi {
            acc + (hi - lo)
        } else {
            acc
        }
    });
    (span.1 - span.0) - in_pause
}

fn elapsed(
    cal: &BusinessCalendar,
    basis: Basis,
    start: NaiveDateTime,
    now: NaiveDateTime,
    pauses: &[Pause],
) -> Duration {
    if now <= start {
        return Duration::zero();
    }
    let paused = paused_spans(pauses, start, Some(now), now);
    match basis {
        Basis::Calendar => unpaused((start, now), &paused),
        Basis::Business => {
            let mut total = Duration::zero();
            let mut date = start.date();
            while date <= now.date() {
                if let Some((open, close)) = cal.working_window(date) {
                    let a = open.max(start);
                    let b = close.min(now);
                    if a < b {
                        total += unpaused((a, b), &paused);
                    }
                }
                match date.succ_opt() {
                    Some(next) => date = next,
                    None => break,
                }
            }
            total
        }
    }
}

/// Minutes on the clock from `start` to `now` (whole minutes, floored):
/// on the business basis only the minutes inside working windows, so a
/// start outside working hours starts the clock at the next window. Paused
/// time is not counted: pauses are clipped to `[start, now]`, an open pause
/// runs to `now`, and time in two overlapping pauses is taken off once.
/// Zero when `now` is not after `start`.
pub fn elapsed_minutes(
    cal: &BusinessCalendar,
    basis: Basis,
    start: NaiveDateTime,
    now: NaiveDateTime,
    pauses: &[Pause],
) -> i64 {
    elapsed(cal, basis, start, now, pauses).num_minutes()
}

/// Walks the unpaused part of `[span.0, span.1)` (unbounded when `span.1`
/// is none), taking it off `remaining`; the instant `remaining` runs out, if
/// it does within the span.
fn walk(
    span: (NaiveDateTime, Option<NaiveDateTime>),
    paused: &[Span],
    remaining: &mut Duration,
) -> Result<Option<NaiveDateTime>, SlaError> {
    let (mut cursor, end) = span;
    for &(a, b) in paused {
        if b <= cursor {
            continue;
        }
        if end.is_some_and(|e| a >= e) {
            break;
        }
        let gap = a.max(cursor) - cursor;
        if *remaining <= gap {
            return Ok(Some(cursor + *remaining));
        }
        *remaining -= gap;
        cursor = b;
        if end.is_some_and(|e| cursor >= e) {
            return Ok(None);
        }
    }
    match end {
        Some(e) => {
            let gap = e - cursor;
            if *remaining <= gap {
                Ok(Some(cursor + *remaining))
            } else {
                *remaining -= gap;
                Ok(None)
            }
        }
        None => cursor
            .checked_add_signed(*remaining)
            .map(Some)
            .ok_or(SlaError::OutOfRange),
    }
}

/// The first instant at which [`elapsed_minutes`] from `start` reaches
/// `minutes`: `start` itself for zero; otherwise inside (or at the end of) a
/// working window on the business basis, never inside a pause.
///
/// Closed pauses push the deadline later. An open pause is taken to end at
/// `now`: the deadline is what it would be if the customer answered now, and
/// it moves later for as long as the pause stays open. (An open pause that
/// starts after `now` is ignored.)
///
/// Errors: a negative target, a target over [`MAX_TARGET_MINUTES`], a
/// calendar with [`MAX_DAYS_WITHOUT_WORK`] days in a row without working
/// hours, or a deadline past the last representable date.
pub fn deadline(
    cal: &BusinessCalendar,
    basis: Basis,
    start: NaiveDateTime,
    minutes: i64,
    pauses: &[Pause],
    now: NaiveDateTime,
) -> Result<NaiveDateTime, SlaError> {
    if minutes < 0 {
        return Err(SlaError::NegativeTarget { minutes });
    }
    if minutes > MAX_TARGET_MINUTES {
        return Err(SlaError::TargetTooLarge { minutes });
    }
    if minutes == 0 {
        return Ok(start);
    }
    let paused = paused_spans(pauses, start, None, now);
    let mut remaining = Duration::minutes(minutes);
    match basis {
        Basis::Calendar => {
            walk((start, None), &paused, &mut remaining)?.ok_or(SlaError::OutOfRange)
        }
        Basis::Business => {
            let mut date = start.date();
            let mut days_without_work = 0;
            let mut dry_since = date;
            loop {
                match cal.working_window(date) {
                    Some((open, close)) => {
                        days_without_work = 0;
                        let from = open.max(start);
                        if from < close {
                            if let Some(due) = walk((from, Some(close)), &paused, &mut remaining)? {
                                return Ok(due);
                            }
                        }
                    }
                    None => {
                        if days_without_work == 0 {
                            dry_since = date;
                        }
                        days_without_work += 1;
                        if days_without_work > MAX_DAYS_WITHOUT_WORK {
                            return Err(SlaError::NoWorkingTime { after: dry_since });
                        }
                    }
                }
                date = date.succ_opt().ok_or(SlaError::OutOfRange)?;
            }
        }
    }
}

/// How serious a case is; decides the resolution target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: &'static [Severity] = &[
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Severity::Low => "低",
            Severity::Medium => "中",
            Severity::High => "高",
            Severity::Critical => "紧急",
        }
    }

    /// Accepts the code (`low`, `medium`, `high`, `critical`, any case) or
    /// the Chinese label (低, 中, 高, 紧急).
    pub fn parse(s: &str) -> Option<Severity> {
        let s = s.trim();
        let lower = s.to_ascii_lowercase();
        Severity::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == lower || v.label_zh() == s)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Resolution targets per severity, in minutes on the policy's basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionTargets {
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
}

impl ResolutionTargets {
    pub fn get(&self, severity: Severity) -> i64 {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
        }
    }
}

impl Default for ResolutionTargets {
    /// Working time of the default 8.5 h day: critical 8 h, high 3 days,
    /// medium 5 days, low 10 days.
    fn default() -> Self {
        ResolutionTargets {
            critical: 8 * 60,
            high: 3 * WORKING_DAY_MINUTES,
            medium: 5 * WORKING_DAY_MINUTES,
            low: 10 * WORKING_DAY_MINUTES,
        }
    }
}

/// The bank's service levels for cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaPolicy {
    /// The clock the resolution targets run on.
    pub basis: Basis,
    /// The clock the first response runs on (calendar hours by default).
    #[serde(default = "calendar")]
    pub first_response_basis: Basis,
    /// Minutes to the first response (on `first_response_basis`; never paused).
    pub first_response_minutes: i64,
    /// Minutes to the resolution, per severity (on `basis`, less pauses).
    pub resolution_minutes: ResolutionTargets,
    /// The share of a target (0–1) after which the supervisor is warned.
    pub warn_at: f64,
    /// Extensions of the resolution deadline the policy allows, in the
    /// order they may be granted (none for the bank's default policy).
    #[serde(default)]
    pub extensions: Vec<ExtensionStep>,
}

/// One extension of the resolution deadline: the new total target (on the
/// policy's basis, for every severity) and whether a senior must approve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionStep {
    pub resolution_minutes: i64,
    pub needs_senior_approval: bool,
}

/// Minutes in a calendar day.
pub const DAY_MINUTES: i64 = 24 * 60;

/// Which service levels a bank runs its cases on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// The bank's own targets (configured; [`SlaPolicy::default`]).
    Bank,
    /// The regulator's complaint timelines ([`SlaPolicy::regulator`]).
    Regulator,
}

impl PolicyKind {
    pub const ALL: &'static [PolicyKind] = &[PolicyKind::Bank, PolicyKind::Regulator];

    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Bank => "bank",
            PolicyKind::Regulator => "regulator",
        }
    }

    pub fn parse(s: &str) -> Option<PolicyKind> {
        let s = s.trim().to_ascii_lowercase();
        PolicyKind::ALL.iter().copied().find(|v| v.as_str() == s)
    }

    pub fn label_en(self) -> &'static str {
        match self {
            PolicyKind::Bank => "the bank's service levels",
            PolicyKind::Regulator => "the regulator's complaint timelines",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            PolicyKind::Bank => "本行服务时限",
            PolicyKind::Regulator => "监管投诉处理时限",
        }
    }
}

fn calendar() -> Basis {
    Basis::Calendar
}

impl Default for SlaPolicy {
    /// First response within 24 calendar hours; resolution on the business
    /// clock with the default targets; warn at 80 %; no extensions.
    fn default() -> Self {
        SlaPolicy {
            basis: Basis::Business,
            first_response_basis: Basis::Calendar,
            first_response_minutes: 24 * 60,
            resolution_minutes: ResolutionTargets::default(),
            warn_at: 0.8,
            extensions: Vec::new(),
        }
    }
}

impl SlaPolicy {
    /// The regulator's complaint timelines (《银行业保险业消费投诉处理管理办法》,
    /// 2020, CBIRC Order No. 3): a decision within 15 days of receiving
    /// the complaint, whatever its severity; extendable to 30 days when the
    /// case is complex; then by 30 more (60 in all) when it is especially
    /// complex, with the approval of a senior (the institution's higher
    /// level or head-office senior management). Days are calendar days.
    ///
    /// Acknowledgement: the measure asks that the complainant be told the
    /// complaint was accepted and its time limit, without a figure in days;
    /// this policy sets 24 calendar hours (a choice of Rapport, documented
    /// in docs/ENGAGEMENT.md, that a bank may change).
    pub fn regulator() -> SlaPolicy {
        let days15 = 15 * DAY_MINUTES;
        SlaPolicy {
            basis: Basis::Calendar,
            first_response_basis: Basis::Calendar,
            first_response_minutes: DAY_MINUTES,
            resolution_minutes: ResolutionTargets {
                critical: days15,
                high: days15,
                medium: days15,
                low: days15,
            },
            warn_at: 0.8,
            extensions: vec![
                ExtensionStep {
                    resolution_minutes: 30 * DAY_MINUTES,
                    needs_senior_approval: false,
                },
                ExtensionStep {
                    resolution_minutes: 60 * DAY_MINUTES,
                    needs_senior_approval: true,
                },
            ],
        }
    }

    /// The extension that would be granted after `granted` ones, if the
    /// policy allows another.
    pub fn next_extension(&self, granted: usize) -> Option<ExtensionStep> {
        self.extensions.get(granted).copied()
    }

    /// The policy a case runs on after `granted` extensions: every
    /// resolution target raised to the last granted step's (never lowered;
    /// more extensions than the policy has count as all of them).
    pub fn extended(&self, granted: usize) -> SlaPolicy {
        let mut p = self.clone();
        let last = granted.min(self.extensions.len());
        if let Some(step) = last.checked_sub(1).and_then(|i| self.extensions.get(i)) {
            let r = &mut p.resolution_minutes;
            for m in [&mut r.critical, &mut r.high, &mut r.medium, &mut r.low] {
                *m = (*m).max(step.resolution_minutes);
            }
        }
        p
    }

    /// The minutes of `target` for a case of `severity`.
    pub fn target_minutes(&self, target: Target, severity: Severity) -> i64 {
        match target {
            Target::FirstResponse => self.first_response_minutes,
            Target::Resolution => self.resolution_minutes.get(severity),
        }
    }
}

/// What the clock is measuring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    FirstResponse,
    Resolution,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::FirstResponse => "first_response",
            Target::Resolution => "resolution",
        }
    }

    pub fn parse(s: &str) -> Option<Target> {
        match s.trim().to_ascii_lowercase().as_str() {
            "first_response" => Some(Target::FirstResponse),
            "resolution" => Some(Target::Resolution),
            _ => None,
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Target::FirstResponse => "first response",
            Target::Resolution => "resolution",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Target::FirstResponse => "首次响应",
            Target::Resolution => "解决",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a target stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// Open, before the warning point.
    Running,
    /// Open, past the warning point, not yet due.
    Warning,
    /// Open and past its due time.
    Breached,
    /// Done on or before the due time.
    Met,
    /// Done after the due time.
    MetLate,
    /// Open, not breached, waiting on the customer now.
    Paused,
}

impl SlaState {
    pub const ALL: &'static [SlaState] = &[
        SlaState::Running,
        SlaState::Warning,
        SlaState::Breached,
        SlaState::Met,
        SlaState::MetLate,
        SlaState::Paused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SlaState::Running => "running",
            SlaState::Warning => "warning",
            SlaState::Breached => "breached",
            SlaState::Met => "met",
            SlaState::MetLate => "met_late",
            SlaState::Paused => "paused",
        }
    }

    pub fn parse(s: &str) -> Option<SlaState> {
        let s = s.trim().to_ascii_lowercase();
        SlaState::ALL.iter().copied().find(|v| v.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            SlaState::Running => "计时中",
            SlaState::Warning => "即将超时",
            SlaState::Breached => "已超时",
            SlaState::Met => "按时完成",
            SlaState::MetLate => "超时完成",
            SlaState::Paused => "暂停计时",
        }
    }
}

impl fmt::Display for SlaState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One target of a case at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaStatus {
    pub target: Target,
    /// When the target is due (see [`deadline`] for open pauses).
    pub due: NaiveDateTime,
    /// When the supervisor is warned.
    pub warn_at: NaiveDateTime,
    /// Minutes on the clock until the target was done, or until now.
    pub elapsed_minutes: i64,
    pub target_minutes: i64,
    pub state: SlaState,
}

#[allow(clippy::too_many_arguments)]
fn clock(
    cal: &BusinessCalendar,
    basis: Basis,
    target: Target,
    minutes: i64,
    warn_share: f64,
    opened: NaiveDateTime,
    done: Option<NaiveDateTime>,
    pauses: &[Pause],
    now: NaiveDateTime,
) -> Result<SlaStatus, SlaError> {
    let until = done.unwrap_or(now);
    let due = deadline(cal, basis, opened, minutes, pauses, until)?;
    let warn_minutes = ((minutes as f64) * warn_share).ceil() as i64;
    let warn_at = deadline(cal, basis, opened, warn_minutes.min(minutes), pauses, until)?;
    let paused_now = pauses
        .iter()
        .any(|p| p.from <= now && p.to.is_none_or(|to| now < to));
    let state = match done {
        Some(d) if d <= due => SlaState::Met,
        Some(_) => SlaState::MetLate,
        None if now > due => SlaState::Breached,
        None if paused_now => SlaState::Paused,
        None if now >= warn_at => SlaState::Warning,
        None => SlaState::Running,
    };
    Ok(SlaStatus {
        target,
        due,
        warn_at,
        elapsed_minutes: elapsed_minutes(cal, basis, opened, until, pauses),
        target_minutes: minutes,
        state,
    })
}

/// The first-response and the resolution status (in that order) of a case
/// opened at `opened`, at `now`.
///
/// `first_response` and `resolved` after `now` are ignored; a resolution
/// without a recorded first response counts as the response. `pauses` stop
/// the resolution clock only (see the module doc).
///
/// Errors: a warning share outside 0–1, and the errors of [`deadline`].
#[allow(clippy::too_many_arguments)]
pub fn status(
    policy: &SlaPolicy,
    cal: &BusinessCalendar,
    severity: Severity,
    opened: NaiveDateTime,
    first_response: Option<NaiveDateTime>,
    resolved: Option<NaiveDateTime>,
    pauses: &[Pause],
    now: NaiveDateTime,
) -> Result<[SlaStatus; 2], SlaError> {
    if !(0.0..=1.0).contains(&policy.warn_at) {
        return Err(SlaError::InvalidWarnShare {
            share: policy.warn_at,
        });
    }
    let happened = |t: Option<NaiveDateTime>| t.filter(|t| *t <= now);
    let resolved = happened(resolved);
    let responded = happened(first_response).or(resolved);
    let first = clock(
        cal,
        policy.first_response_basis,
        Target::FirstResponse,
        policy.first_response_minutes,
        policy.warn_at,
        opened,
        responded,
        &[],
        now,
    )?;
    let resolution = clock(
        cal,
        policy.basis,
        Target::Resolution,
        policy.resolution_minutes.get(severity),
        policy.warn_at,
        opened,
        resolved,
        pauses,
        now,
    )?;
    Ok([first, resolution])
}

/// How far an escalation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The warning share of the target is used.
    Warning,
    /// The target is breached.
    Breach,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Breach => "breach",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s.trim().to_ascii_lowercase().as_str() {
            "warning" => Some(Level::Warning),
            "breach" => Some(Level::Breach),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An escalation to the supervisor that is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub target: Target,
    pub level: Level,
    /// When the target is (or was) due.
    pub due: NaiveDateTime,
    pub reason_en: String,
    pub reason_zh: String,
}

/// The escalations due for these statuses that are not in `already` (the
/// ones raised before), so a job that runs repeatedly raises each once.
///
/// A target in [`SlaState::Warning`] raises a warning; one in
/// [`SlaState::Breached`] raises the breach only (a warning not raised in
/// time is moot). Running, paused and done targets raise nothing.
pub fn escalations(statuses: &[SlaStatus], already: &[(Target, Level)]) -> Vec<Escalation> {
    statuses
        .iter()
        .filter_map(|s| {
            let level = match s.state {
                SlaState::Warning => Level::Warning,
                SlaState::Breached => Level::Breach,
                _ => return None,
            };
            if already.contains(&(s.target, level)) {
                return None;
            }
            let due = s.due.format("%Y-%m-%d %H:%M");
            let used = format!("{} of {} minutes", s.elapsed_minutes, s.target_minutes);
            let used_zh = format!("{}/{}分钟", s.elapsed_minutes, s.target_minutes);
            let (reason_en, reason_zh) = match level {
                Level::Warning => (
                    format!(
                        "{} due at {due}: {used} used; warn the supervisor",
                        s.target.label_en()
                    ),
                    format!(
                        "{}时限为{due}，已用{used_zh}，即将超时，请主管关注",
                        s.target.label_zh()
                    ),
                ),
                Level::Breach => (
                    format!(
                        "{} was due at {due}: {used} used; breached, escalate to the supervisor",
                        s.target.label_en()
                    ),
                    format!(
                        "{}已于{due}超时（已用{used_zh}），升级至主管",
                        s.target.label_zh()
                    ),
                ),
            };
            Some(Escalation {
                target: s.target,
                level,
                due: s.due,
                reason_en,
                reason_zh,
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn at(m: u32, day: u32, h: u32, min: u32) -> NaiveDateTime {
        d(2026, m, day).and_hms_opt(h, min, 0).unwrap()
    }

    /// 2026 National Day as in the State Council notice of 4 Nov 2025 (and
    /// `crates/analytics/config/holidays.toml`): 1–7 October off, Sunday
    /// 20 September and Saturday 10 October worked. Mid-Autumn (25–27
    /// September) is separate that year.
    fn national_day_2026() -> BusinessCalendar {
        BusinessCalendar::with_days(
            (1..=7)
                .map(|day| d(2026, 10, day))
                .chain((25..=27).map(|day| d(2026, 9, day))),
            [d(2026, 9, 20), d(2026, 10, 10)],
        )
    }

    fn biz(cal: &BusinessCalendar, start: NaiveDateTime, minutes: i64) -> NaiveDateTime {
        deadline(cal, Basis::Business, start, minutes, &[], start).unwrap()
    }

    fn closed(from: NaiveDateTime, to: NaiveDateTime) -> Pause {
        Pause { from, to: Some(to) }
    }

    #[test]
    fn the_default_calendar_works_weekdays_nine_to_half_past_five() {
        let cal = BusinessCalendar::default();
        // 2 March 2026 is a Monday.
        assert_eq!(
            cal.working_window(d(2026, 3, 2)),
            Some((at(3, 2, 9, 0), at(3, 2, 17, 30)))
        );
        assert!(!cal.is_working_day(d(2026, 3, 7)));
        assert!(!cal.is_working_day(d(2026, 3, 8)));
        // A window that does not run forward is no window.
        let mut odd = cal.clone();
        odd.hours[0] = Some((hm(17, 0), hm(9, 0)));
        assert!(!odd.is_working_day(d(2026, 3, 2)));
    }

    #[test]
    fn on_a_weekday_only_working_minutes_count() {
        let cal = BusinessCalendar::default();
        let open = at(3, 2, 10, 0);
        assert_eq!(
            elapsed_minutes(&cal, Basis::Business, open, at(3, 2, 12, 0), &[]),
            120
        );
        // Evening and night are off the clock.
        assert_eq!(
            elapsed_minutes(&cal, Basis::Business, open, at(3, 2, 23, 0), &[]),
            450
        );
        assert_eq!(
            elapsed_minutes(&cal, Basis::Business, open, at(3, 3, 9, 30), &[]),
            480
        );
        // Critical: 8 working hours from Monday 10:00 is Tuesday 09:30.
        assert_eq!(biz(&cal, open, 480), at(3, 3, 9, 30));
        // A target that ends with the day is due at closing, not next morning.
        assert_eq!(biz(&cal, at(3, 2, 9, 0), 510), at(3, 2, 17, 30));
        // The calendar clock counts every minute.
        assert_eq!(
            elapsed_minutes(&cal, Basis::Calendar, open, at(3, 3, 10, 0), &[]),
            1440
        );
        assert_eq!(
            deadline(&cal, Basis::Calendar, open, 1440, &[], open).unwrap(),
            at(3, 3, 10, 0)
        );
    }

    #[test]
    fn a_case_opened_friday_afternoon_rolls_over_the_weekend() {
        let cal = BusinessCalendar::default();
        // Friday 6 March 2026, 16:00: 90 minutes left that day.
        let open = at(3, 6, 16, 0);
        assert_eq!(biz(&cal, open, 480), at(3, 9, 15, 30));
        assert_eq!(
            elapsed_minutes(&cal, Basis::Business, open, at(3, 8, 23, 59), &[]),
            90
        );
        // First response, 24 working hours: 90 + 510 × 2 = 1110 by Tuesday
        // evening, the other 330 on Wednesday, due 14:30.
        let policy = SlaPolicy::default();
        assert_eq!(
            biz(&cal, open, policy.first_response_minutes),
            at(3, 11, 14, 30)
        );
    }

    #[test]
    fn a_clock_started_out_of_hours_starts_at_the_next_window() {
        let cal = BusinessCalendar::default();
        let saturday = at(3, 7, 11, 0);
        assert_eq!(biz(&cal, saturday, 60), at(3, 9, 10, 0));
        let early = at(3, 9, 7, 0);
        assert_eq!(biz(&cal, early, 30), at(3, 9, 9, 30));
        assert_eq!(
            elapsed_minutes(&cal, Basis::Business, saturday, at(3, 9, 9, 45), &[]),
            45
        );
    }

    #[test]
    fn national_day_2026_holidays_stop_the_clock_and_make_up_days_run_it() {
        let cal = national_day_2026();
        assert!(!cal.is_working_day(d(2026, 10, 1)));
        assert!(!cal.is_working_day(d(2026, 10, 5)));
        assert!(cal.is_working_day(d(2026, 10, 10)));
        assert!(cal.is_working_day(d(2026, 9, 20)));
        assert!(!cal.is_working_day(d(2026, 10, 11)));
        // Opened Wednesday 30 September 16:00: 90 minutes, then nothing
        // until Thursday 8 October.
        let open = at(9, 30, 16, 0);
        assert_eq!(biz(&cal, open, 480), at(10, 8, 15, 30));
        assert_eq!(
            elapsed_minutes(&cal, Basis::Business, open, at(10, 7, 23, 0), &[]),
            90
        );
        // High (3 working days, 1530): 90 + 510 (Thu) + 510 (Fri) = 1110,
        // the last 420 on the make-up Saturday.
        assert_eq!(biz(&cal, open, 1530), at(10, 10, 16, 0));
        // Opened on Saturday 19 September: the clock starts on the make-up
        // Sunday.
        assert_eq!(biz(&cal, at(9, 19, 10, 0), 60), at(9, 20, 10, 0));
        // Holidays win over a make-up day listed for the same date.
        let both = BusinessCalendar::with_days([d(2026, 10, 10)], [d(2026, 10, 10)]);
        assert!(!both.is_working_day(d(2026, 10, 10)));
    }

    #[test]
    fn pauses_are_taken_off_the_clock() {
        let cal = BusinessCalendar::default();
        let open = at(3, 2, 9, 0);
        let pauses = [closed(at(3, 2, 10, 0), at(3, 2, 11, 30))];
        assert_eq!(
            elapsed_minutes(&cal, Basis::Business, open, at(3, 2, 12, 0), &pauses),
            90
        );
        // The deadline moves later by the paused working time.
        assert_eq!(
            deadline(&cal, Basis::Business, open, 480, &pauses, open).unwrap(),
            at(3, 3, 10, 0)
        );
        // Only the paused time inside the window counts against the pause:
        // a pause over the night takes off the evening's working minutes only.
        let night = [closed(at(3, 2, 17, 0), at(3, 3, 10, 0))];
        assert_eq!(
            elapsed_minutes(&cal, Basis::Business, open, at(3, 3, 12, 0), &night),
            480 + 120
        );
        // A pause before the start or after now changes nothing.
        let outside = [
            closed(at(3, 1, 9, 0), at(3, 2, 9, 0)),
            closed(at(3, 2, 13, 0), at(3, 2, 14, 0)),
        ];
        assert_eq!(
            elapsed_minutes(&cal, Basis::Business, open, at(3, 2, 12, 0), &outside),
            180
        );
        // A pause that ends before it starts is empty.
        let backwards = [closed(at(3, 2, 11, 0), at(3, 2, 10, 0))];
        assert_eq!(
            elapsed_minutes(&cal, Basis::Business, open, at(3, 2, 12, 0), &backwards),
            180
        );
    }

    #[test]
    fn an_open_pause_runs_to_now_and_the_deadline_waits_for_it() {
        let cal = BusinessCalendar::default();
        let open = at(3, 2, 9, 0);
        let waiting = [Pause {
            from: at(3, 2, 11, 0),
            to: None,
        }];
        // Two hours on the clock, then waiting ever since.
        assert_eq!(
            elapsed_minutes(&cal, Basis::Business, open, at(3, 4, 15, 0), &waiting),
            120
        );
        // As if the customer answers now (Wednesday 15:00): 360 left → the
        // deadline is Thursday 12:30 and moves as the pause goes on.
        let now = at(3, 4, 15, 0);
        assert_eq!(
            deadline(&cal, Basis::Business, open, 480, &waiting, now).unwrap(),
            at(3, 5, 12, 30)
        );
        let later = at(3, 5, 9, 0);
        assert_eq!(
            deadline(&cal, Basis::Business, open, 480, &waiting, later).unwrap(),
            at(3, 5, 15, 0)
        );
        // An open pause that starts after now is not there yet.
        assert_eq!(
            deadline(&cal, Basis::Business, open, 480, &waiting, at(3, 2, 10, 0)).unwrap(),
            at(3, 2, 17, 0)
        );
    }

    #[test]
    fn overlapping_pauses_are_taken_off_once() {
        let cal = BusinessCalendar::default();
        let open = at(3, 2, 9, 0);
        let now = at(3, 2, 17, 0);
        let pauses = [
            closed(at(3, 2, 10, 0), at(3, 2, 12, 0)),
            closed(at(3, 2, 11, 0), at(3, 2, 13, 0)),
            closed(at(3, 2, 11, 30), at(3, 2, 11, 45)),
            Pause {
                from: at(3, 2, 12, 30),
                to: None,
            },
        ];
        // Paused 10:00 until now: one hour on the clock.
        assert_eq!(
            elapsed_minutes(&cal, Basis::Business, open, now, &pauses),
            60
        );
        let two = [
            closed(at(3, 2, 10, 0), at(3, 2, 12, 0)),
            closed(at(3, 2, 11, 0), at(3, 2, 13, 0)),
        ];
        assert_eq!(
            elapsed_minutes(&cal, Basis::Calendar, open, now, &two),
            480 - 180
        );
        assert_eq!(
            deadline(&cal, Basis::Calendar, open, 120, &two, open).unwrap(),
            at(3, 2, 14, 0)
        );
    }

    #[test]
    fn a_calendar_without_working_time_is_an_error_not_a_hang() {
        let mut cal = BusinessCalendar {
            hours: [None; 7],
            ..BusinessCalendar::default()
        };
        let err = deadline(
            &cal,
            Basis::Business,
            at(3, 2, 9, 0),
            60,
            &[],
            at(3, 2, 9, 0),
        )
        .unwrap_err();
        assert_eq!(
            err,
            SlaError::NoWorkingTime {
                after: d(2026, 3, 2)
            }
        );
        assert_eq!(err.code(), "no_working_time");
        assert!(err.to_string().contains("2026-03-02"));
        assert!(err.message_zh().contains("2026-03-02"));
        // The calendar clock does not need working hours.
        assert!(deadline(
            &cal,
            Basis::Calendar,
            at(3, 2, 9, 0),
            60,
            &[],
            at(3, 2, 9, 0)
        )
        .is_ok());
        // A lone make-up day still gives the clock somewhere to run.
        cal.workdays.insert(d(2027, 6, 1));
        assert_eq!(
            deadline(
                &cal,
                Basis::Business,
                at(3, 2, 9, 0),
                60,
                &[],
                at(3, 2, 9, 0)
            )
            .unwrap(),
            d(2027, 6, 1).and_hms_opt(10, 0, 0).unwrap()
        );
    }

    #[test]
    fn targets_must_be_zero_to_ten_years() {
        let cal = BusinessCalendar::default();
        let t = at(3, 2, 9, 0);
        assert_eq!(
            deadline(&cal, Basis::Business, t, -1, &[], t),
            Err(SlaError::NegativeTarget { minutes: -1 })
        );
        assert_eq!(
            deadline(&cal, Basis::Calendar, t, MAX_TARGET_MINUTES + 1, &[], t)
                .unwrap_err()
                .code(),
            "target_too_large"
        );
        assert_eq!(deadline(&cal, Basis::Business, t, 0, &[], t), Ok(t));
    }

    #[test]
    fn the_resolution_clock_warns_then_breaches() {
        let cal = BusinessCalendar::default();
        let policy = SlaPolicy::default();
        let open = at(3, 2, 9, 0);
        let run = |now| {
            status(
                &policy,
                &cal,
                Severity::Critical,
                open,
                None,
                None,
                &[],
                now,
            )
            .unwrap()[1]
        };
        // Critical: 480 minutes, due 17:00, warned at 384 minutes = 15:24.
        let s = run(at(3, 2, 15, 0));
        assert_eq!(s.target, Target::Resolution);
        assert_eq!(s.due, at(3, 2, 17, 0));
        assert_eq!(s.warn_at, at(3, 2, 15, 24));
        assert_eq!(s.state, SlaState::Running);
        assert_eq!(s.elapsed_minutes, 360);
        assert_eq!(run(at(3, 2, 15, 24)).state, SlaState::Warning);
        assert_eq!(run(at(3, 2, 17, 0)).state, SlaState::Warning);
        let late = run(at(3, 2, 17, 1));
        assert_eq!(late.state, SlaState::Breached);
        assert_eq!(late.elapsed_minutes, 481);
        // Still breached overnight, when the business clock stands still.
        assert_eq!(run(at(3, 2, 20, 0)).state, SlaState::Breached);
    }

    #[test]
    fn done_targets_are_met_or_met_late() {
        let cal = BusinessCalendar::default();
        let policy = SlaPolicy::default();
        let open = at(3, 2, 9, 0);
        let now = at(3, 20, 9, 0);
        let [first, res] = status(
            &policy,
            &cal,
            Severity::Critical,
            open,
            Some(at(3, 2, 10, 0)),
            Some(at(3, 3, 10, 0)),
            &[],
            now,
        )
        .unwrap();
        assert_eq!(first.state, SlaState::Met);
        assert_eq!(first.elapsed_minutes, 60);
        assert_eq!(res.state, SlaState::MetLate);
        assert_eq!(res.elapsed_minutes, 510 + 60);
        // Resolved on time without a separate response (23.5 calendar
        // hours later): both met.
        let [first, res] = status(
            &policy,
            &cal,
            Severity::Low,
            open,
            None,
            Some(at(3, 3, 8, 30)),
            &[],
            now,
        )
        .unwrap();
        assert_eq!((first.state, res.state), (SlaState::Met, SlaState::Met));
        // A response recorded after now has not happened yet.
        let [first, _] = status(
            &policy,
            &cal,
            Severity::Low,
            open,
            Some(at(3, 2, 10, 0)),
            None,
            &[],
            at(3, 2, 9, 30),
        )
        .unwrap();
        assert_eq!(first.state, SlaState::Running);
        assert_eq!(first.elapsed_minutes, 30);
    }

    #[test]
    fn first_response_runs_on_calendar_hours_unless_the_policy_says_working_hours() {
        let cal = BusinessCalendar::default();
        // Friday 6 March 2026, 17:00, answered Monday 10:00.
        let open = at(3, 6, 17, 0);
        let answered = Some(at(3, 9, 10, 0));
        let now = at(3, 9, 12, 0);
        let policy = SlaPolicy::default();
        let [first, res] =
            status(&policy, &cal, Severity::Low, open, answered, None, &[], now).unwrap();
        // 24 wall-clock hours: due Saturday 17:00, answered late.
        assert_eq!(first.due, at(3, 7, 17, 0));
        assert_eq!(first.state, SlaState::MetLate);
        assert_eq!(first.elapsed_minutes, 65 * 60);
        // The resolution still runs on working hours (30 minutes on Friday, 180 on Monday).
        assert_eq!(res.elapsed_minutes, 210);
        let working = SlaPolicy {
            first_response_basis: Basis::Business,
            ..SlaPolicy::default()
        };
        let [first, _] = status(
            &working,
            &cal,
            Severity::Low,
            open,
            answered,
            None,
            &[],
            now,
        )
        .unwrap();
        // 30 minutes on Friday and 60 on Monday: in time.
        assert_eq!(first.state, SlaState::Met);
        assert_eq!(first.elapsed_minutes, 90);
    }

    #[test]
    fn waiting_on_the_customer_pauses_resolution_but_not_first_response() {
        let cal = BusinessCalendar::default();
        // Both clocks on working hours in this story.
        let policy = SlaPolicy {
            first_response_basis: Basis::Business,
            ..SlaPolicy::default()
        };
        let open = at(3, 2, 9, 0);
        let waiting = [Pause {
            from: at(3, 2, 12, 0),
            to: None,
        }];
        let now = at(3, 9, 12, 0);
        let [first, res] = status(
            &policy,
            &cal,
            Severity::Critical,
            open,
            None,
            None,
            &waiting,
            now,
        )
        .unwrap();
        // First response: 24 working hours ran out on Wednesday 16:00.
        assert_eq!(first.state, SlaState::Breached);
        assert_eq!(first.due, at(3, 4, 16, 0));
        // Resolution: 180 minutes used, paused, due 300 minutes after now.
        assert_eq!(res.state, SlaState::Paused);
        assert_eq!(res.elapsed_minutes, 180);
        assert_eq!(res.due, at(3, 9, 17, 0));
        // A pause that starts after the breach does not hide the breach.
        let after = [Pause {
            from: at(3, 3, 12, 0),
            to: None,
        }];
        let [_, res] = status(
            &policy,
            &cal,
            Severity::Critical,
            open,
            None,
            None,
            &after,
            now,
        )
        .unwrap();
        assert_eq!(res.state, SlaState::Breached);
    }

    #[test]
    fn a_warning_share_outside_zero_to_one_is_refused() {
        let cal = BusinessCalendar::default();
        let t = at(3, 2, 9, 0);
        for share in [-0.1, 1.5, f64::NAN] {
            let policy = SlaPolicy {
                warn_at: share,
                ..SlaPolicy::default()
            };
            let err = status(&policy, &cal, Severity::Low, t, None, None, &[], t).unwrap_err();
            assert_eq!(err.code(), "invalid_warn_share");
        }
    }

    #[test]
    fn escalations_are_raised_once_each() {
        let cal = BusinessCalendar::default();
        let policy = SlaPolicy::default();
        let open = at(3, 2, 9, 0);
        let run = |now| {
            status(
                &policy,
                &cal,
                Severity::Critical,
                open,
                Some(at(3, 2, 9, 30)),
                None,
                &[],
                now,
            )
            .unwrap()
        };
        let mut raised: Vec<(Target, Level)> = Vec::new();
        assert!(escalations(&run(at(3, 2, 10, 0)), &raised).is_empty());

        let warn = escalations(&run(at(3, 2, 16, 0)), &raised);
        assert_eq!(warn.len(), 1);
        assert_eq!(
            (warn[0].target, warn[0].level),
            (Target::Resolution, Level::Warning)
        );
        assert!(warn[0].reason_en.contains("2026-03-02 17:00"));
        assert!(warn[0].reason_zh.contains("解决") && warn[0].reason_zh.contains("主管"));
        raised.extend(warn.iter().map(|e| (e.target, e.level)));
        assert!(escalations(&run(at(3, 2, 16, 30)), &raised).is_empty());

        let breach = escalations(&run(at(3, 3, 9, 0)), &raised);
        assert_eq!(breach.len(), 1);
        assert_eq!(breach[0].level, Level::Breach);
        assert!(breach[0].reason_en.contains("breached"));
        raised.extend(breach.iter().map(|e| (e.target, e.level)));
        assert!(escalations(&run(at(3, 4, 9, 0)), &raised).is_empty());

        // A job that missed the warning raises the breach only.
        let [first, _] = status(
            &policy,
            &cal,
            Severity::Critical,
            open,
            None,
            None,
            &[],
            at(3, 20, 9, 0),
        )
        .unwrap();
        let late = escalations(&[first], &[]);
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].level, Level::Breach);
        assert_eq!(late[0].target, Target::FirstResponse);
    }

    #[test]
    fn codes_and_labels_round_trip() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(*s));
            assert_eq!(Severity::parse(s.label_zh()), Some(*s));
        }
        assert_eq!(Severity::parse(" Critical "), Some(Severity::Critical));
        assert_eq!(Severity::parse("紧急"), Some(Severity::Critical));
        assert_eq!(Severity::parse("urgent"), None);
        for s in SlaState::ALL {
            assert_eq!(SlaState::parse(s.as_str()), Some(*s));
        }
        for b in [Basis::Business, Basis::Calendar] {
            assert_eq!(Basis::parse(b.as_str()), Some(b));
        }
        for t in [Target::FirstResponse, Target::Resolution] {
            assert_eq!(Target::parse(t.as_str()), Some(t));
        }
        for l in [Level::Warning, Level::Breach] {
            assert_eq!(Level::parse(l.as_str()), Some(l));
        }
        let p = SlaPolicy::default();
        assert_eq!(p.target_minutes(Target::FirstResponse, Severity::Low), 1440);
        assert_eq!(
            p.target_minutes(Target::Resolution, Severity::Critical),
            480
        );
        assert_eq!(p.target_minutes(Target::Resolution, Severity::High), 1530);
        assert_eq!(p.target_minutes(Target::Resolution, Severity::Medium), 2550);
        assert_eq!(p.target_minutes(Target::Resolution, Severity::Low), 5100);
    }

    // Times are minutes from 2026-09-01 00:00, a span that holds the
    // National Day break and both make-up days.
    fn t(minutes: i64) -> NaiveDateTime {
        at(9, 1, 0, 0) + Duration::minutes(minutes)
    }

    fn any_basis() -> impl Strategy<Value = Basis> {
        prop_oneof![Just(Basis::Business), Just(Basis::Calendar)]
    }

    fn any_pauses(open: bool) -> impl Strategy<Value = Vec<Pause>> {
        prop::collection::vec(
            (
                0i64..60 * 24 * 60,
                0i64..5 * 24 * 60,
                prop::bool::weighted(0.2),
            ),
            0..4,
        )
        .prop_map(move |v| {
            v.into_iter()
                .map(|(from, len, is_open)| Pause {
                    from: t(from),
                    to: if open && is_open {
                        None
                    } else {
                        Some(t(from + len))
                    },
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn deadline_and_elapsed_are_inverse(
            basis in any_basis(),
            start in 0i64..40 * 24 * 60,
            seconds in 0u32..60,
            minutes in 0i64..20_000,
            pauses in any_pauses(false),
        ) {
            let cal = national_day_2026();
            let start = t(start) + Duration::seconds(i64::from(seconds));
            let due = deadline(&cal, basis, start, minutes, &pauses, start).unwrap();
            prop_assert_eq!(elapsed_minutes(&cal, basis, start, due, &pauses), minutes);
            // And it is the first such instant: a second earlier is short.
            if minutes > 0 {
                let before = due - Duration::seconds(1);
                prop_assert!(elapsed_minutes(&cal, basis, start, before, &pauses) < minutes);
            }
            if minutes > 0 && basis == Basis::Business {
                let (open, close) = cal.working_window(due.date()).unwrap();
                prop_assert!(open < due && due <= close);
            }
        }

        #[test]
        fn an_open_pause_counts_as_ending_now_for_the_deadline(
            basis in any_basis(),
            start in 0i64..20 * 24 * 60,
            minutes in 1i64..10_000,
            from in 0i64..30 * 24 * 60,
            now in 0i64..40 * 24 * 60,
        ) {
            let cal = national_day_2026();
            let open = [Pause { from: t(from), to: None }];
            let ended = [Pause { from: t(from), to: Some(t(now)) }];
            prop_assert_eq!(
                deadline(&cal, basis, t(start), minutes, &open, t(now)),
                deadline(&cal, basis, t(start), minutes, &ended, t(now))
            );
        }

        #[test]
        fn elapsed_never_goes_down_as_now_moves_on(
            basis in any_basis(),
            start in 0i64..30 * 24 * 60,
            a in 0i64..60 * 24 * 60,
            b in 0i64..60 * 24 * 60,
            pauses in any_pauses(true),
        ) {
            let cal = national_day_2026();
            let (early, late) = (a.min(b), a.max(b));
            prop_assert!(
                elapsed_minutes(&cal, basis, t(start), t(early), &pauses)
                    <= elapsed_minutes(&cal, basis, t(start), t(late), &pauses)
            );
        }

        #[test]
        fn another_pause_never_adds_time(
            basis in any_basis(),
            start in 0i64..30 * 24 * 60,
            now in 0i64..60 * 24 * 60,
            pauses in any_pauses(true),
            extra in any_pauses(true),
        ) {
            let cal = national_day_2026();
            let before = elapsed_minutes(&cal, basis, t(start), t(now), &pauses);
            let mut more = pauses.clone();
            more.extend(extra);
            prop_assert!(elapsed_minutes(&cal, basis, t(start), t(now), &more) <= before);
        }
    }
}
