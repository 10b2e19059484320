//! The Trip-Based tables of one service day: for every stop event of its running trips
//! ([`super::days`]), the reduced transfers to trips of the same day and the days around it
//! (made by [`super::generate`]).

use std::sync::Arc;

use chrono::NaiveDate;
use norikae_timetable::Timetable;

use super::days::{Days, TripDay};

/// One service day's trips and their reduced transfers: those of stop event `e` are
/// `targets[offsets[e]..offsets[e + 1]]`, packed (see [`super::days::pack`]).
pub(crate) struct DayTransfers {
    /// Shared with the days built beside it, which read it for their transfers.
    pub(super) trips: Arc<TripDay>,
    pub(super) offsets: Vec<u32>,
    pub(super) targets: Vec<u32>,
}

impl DayTransfers {
    /// The transfers of `day`'s trips `trips[1]` to those of the same day and of the days
    /// before and after it (`trips[0]`, `trips[2]`; `None`: no trips there), with `threads`
    /// threads; `None` when a worker failed.
    /// `rule_stops`: the stops where transfers.txt rules naming trips or routes start.
    pub(super) fn build(
        tt: &Timetable,
        rule_stops: &[bool],
        day: u32,
        trips: &[Option<Arc<TripDay>>; 3],
        threads: usize,
    ) -> Option<Self> {
        let own = Arc::clone(trips[1].as_ref()?);
        let date = tt.date_of_day(day);
        let start = |date: NaiveDate| tt.service_day_start(date).timestamp();
        let offset = |other: Option<NaiveDate>| other.map_or(0, |other| start(other) - start(date));
        let days = Days {
            day: [trips[0].as_deref(), Some(&*own), trips[2].as_deref()],
            offset: [offset(date.pred_opt()), 0, offset(date.succ_opt())],
        };
        let (offsets, targets) = super::generate::transfers(tt, rule_stops, &days, threads)?;
        Some(Self { trips: own, offsets, targets })
    }

    pub(super) fn transfers(&self, event: usize) -> &[u32] {
        &self.targets[self.offsets[event] as usize..self.offsets[event + 1] as usize]
    }

    /// How many transfers the day keeps.
    pub(crate) fn len(&self) -> usize {
        self.targets.len()
    }

    /// Memory the day takes (its trips counted in full, though shared with its neighbours).
    pub(crate) fn bytes(&self) -> usize {
        self.trips.bytes() + 4 * (self.offsets.len() + self.targets.len())
    }
}
