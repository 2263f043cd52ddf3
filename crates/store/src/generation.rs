//! The data generations (migration `0020_data_generation`): a counter per
//! domain that triggers raise on every write to it, read cheaply before a
//! report is taken from a memo (`rapport_services::memo`). Two processes
//! sharing one store read the same counters, so a write anywhere shows on the
//! next page load.

use crate::dialect::on_pool;
use crate::{Result, Store};

/// A domain of data with its own counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Domain {
    /// Bulk data: raised once per import and once per scoring run (and by an erasure).
    Data,
    /// Operational records (alerts, cases, consents, survey answers, campaigns,
    /// RM assignments…), raised by every write.
    Work,
}

impl Domain {
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Data => "data",
            Domain::Work => "work",
        }
    }
}

/// The counters as read at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Generations {
    /// Drawn once per store: tells stores apart in one process.
    pub store: i64,
    pub data: i64,
    pub work: i64,
}

impl Generations {
    /// The counter of `d`.
    pub fn of(&self, d: Domain) -> i64 {
        match d {
            Domain::Data => self.data,
            Domain::Work => self.work,
        }
    }
}

impl Store {
    /// Reads the data generations (one small query).
    pub async fn generations(&self) -> Result<Generations> {
        let sql = "SELECT domain, n FROM data_generation";
        let rows: Vec<(String, i64)> = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?);
        let mut g = Generations::default();
        for (d, n) in rows {
            match d.as_str() {
                "store" => g.store = n,
                "data" => g.data = n,
                "work" => g.work = n,
                _ => {}
            }
        }
        Ok(g)
    }

    /// Raises `domain`'s counter: for a write no trigger sees (a segment's
    /// members replaced after its row was saved).
    pub async fn bump_generation(&self, domain: Domain) -> Result<()> {
        let sql = "UPDATE data_generation SET n = n + 1 WHERE domain = $1";
        on_pool!(self, p => {
            sqlx::query(sql).bind(domain.as_str()).execute(p).await?;
        });
        Ok(())
    }
}
