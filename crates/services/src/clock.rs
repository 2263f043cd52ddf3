//! The injectable clock: campaign, dispatch, SLA and cadence logic read the
//! time from a [`Clock`], so tests (and `--now` on the command line) can
//! move time instead of waiting for it.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use std::sync::{Arc, Mutex};

/// Where "now" comes from, in UTC and in the bank's local time.
#[derive(Debug, Clone)]
pub struct Clock {
    offset: FixedOffset,
    fixed: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// The system clock at the bank's UTC offset.
    pub fn system(offset: FixedOffset) -> Clock {
        Clock {
            offset,
            fixed: None,
        }
    }

    /// A clock stopped at local time `local` that only [`Clock::advance`] moves.
    pub fn fixed(offset: FixedOffset, local: NaiveDateTime) -> Clock {
        let utc = local - offset;
        Clock {
            offset,
            fixed: Some(Arc::new(Mutex::new(utc.and_utc()))),
        }
    }

    /// The system clock, or a fixed one when `local` is given.
    pub fn at(offset: FixedOffset, local: Option<NaiveDateTime>) -> Clock {
        match local {
            Some(l) => Clock::fixed(offset, l),
            None => Clock::system(offset),
        }
    }

    /// The bank's clock from `jobs.utc_offset` (checked at start-up), fixed at
    /// `--now` when given (YYYY-MM-DDTHH:MM, local time).
    pub fn from_config(cfg: &crate::config::Config, now: Option<&str>) -> anyhow::Result<Clock> {
        use anyhow::Context;
        let offset = cfg
            .jobs
            .utc_offset
            .parse::<FixedOffset>()
            .map_err(|e| anyhow::anyhow!("jobs.utc_offset {:?}: {e}", cfg.jobs.utc_offset))?;
        let local = match now {
            Some(s) => Some(
                NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
                    .with_context(|| format!("--now {s:?}: expected YYYY-MM-DDTHH:MM"))?,
            ),
            None => None,
        };
        Ok(Clock::at(offset, local))
    }

    /// Now, UTC.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            Some(t) => *t.lock().unwrap_or_else(|p| p.into_inner()),
            None => Utc::now(),
        }
    }

    /// Now, the bank's local time.
    pub fn local(&self) -> NaiveDateTime {
        self.now().with_timezone(&self.offset).naive_local()
    }

    /// Moves a fixed clock forward (a system clock ignores it).
    pub fn advance(&self, by: chrono::Duration) {
        if let Some(t) = &self.fixed {
            let mut g = t.lock().unwrap_or_else(|p| p.into_inner());
            *g += by;
        }
    }

    pub fn offset(&self) -> FixedOffset {
        self.offset
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_advanced() {
        let off = FixedOffset::east_opt(8 * 3600).unwrap();
        let l = NaiveDateTime::parse_from_str("2026-09-22 10:00", "%Y-%m-%d %H:%M").unwrap();
        let c = Clock::fixed(off, l);
        assert_eq!(c.local(), l);
        assert_eq!(c.now().naive_utc(), l - chrono::Duration::hours(8));
        c.advance(chrono::Duration::minutes(90));
        assert_eq!(c.local(), l + chrono::Duration::minutes(90));
        let clone = c.clone();
        clone.advance(chrono::Duration::minutes(30));
        assert_eq!(
            c.local(),
            l + chrono::Duration::hours(2),
            "clones share the time"
        );
    }
}
