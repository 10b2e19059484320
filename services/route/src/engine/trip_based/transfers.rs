//! The Trip-Based tables of one service day: for every stop event of its running trips
//! ([`super::days`]), the reduced transfers to trips of the same day and the days around it
//! (made by [`super::generate`]); on a day a realtime overlay reaches, the timetable day's
//! tables with the transfers the overlay changes in a [`Patch`] (made by [`super::live`]).

use std::sync::Arc;

use chrono::NaiveDate;
use norikae_timetable::Timetable;

use super::days::{Days, TripDay};

/// One service day's trips and their reduced transfers: those of stop event `e` are
/// `targets[offsets[e]..offsets[e + 1]]`, packed (see [`super::days::pack`]), unless the
/// patch has them.
pub(crate) struct DayTransfers {
    /// Shared with the days built beside it, which read it for their transfers.
    pub(super) trips: Arc<TripDay>,
    /// The timetable day's transfers (shared by the realtime days made from it).
    pub(super) tables: Arc<Tables>,
    /// On a realtime day, the stop events whose transfers differ from the timetable's.
    pub(super) patch: Option<Patch>,
    /// `Some(from)`: only the trips leaving some stop at or after `from` (seconds of the
    /// day) have their transfers, enough for the day before the one a search reads (see
    /// [`TripDay::leaves_from`]); `None`: every trip.
    pub(super) boardable_from: Option<i64>,
}

/// A timetable day's transfers, and per instance the horizon of what its transfers read
/// (see [`super::generate::Block::horizons`]).
pub(crate) struct Tables {
    pub(super) offsets: Vec<u32>,
    pub(super) targets: Vec<u32>,
    pub(super) horizons: Vec<u32>,
}

/// The transfers of some stop events of a realtime day, in place of the timetable day's:
/// those of a patched event `e` are `targets[offsets[e]..offsets[e + 1]]` (the offsets
/// cover every event of the day, the unpatched with nothing).
pub(crate) struct Patch {
    pub(super) patched: Vec<u64>,
    pub(super) offsets: Vec<u32>,
    pub(super) targets: Vec<u32>,
}

impl Patch {
    #[inline]
    fn has(&self, event: usize) -> bool {
        self.patched.get(event / 64).is_some_and(|word| word >> (event % 64) & 1 == 1)
    }

    pub(super) fn bytes(&self) -> usize {
        8 * self.patched.len() + 4 * (self.offsets.len() + self.targets.len())
    }
}

impl DayTransfers {
    /// The transfers of `day`'s trips `trips[1]` to those of the same day and of the days
    /// before and after it (`trips[0]`, `trips[2]`; `None`: no trips there), with `threads`
    /// threads; `None` when a worker failed.
    /// `rule_stops`: the stops where transfers.txt rules naming trips or routes start. With
    /// `boardable_from`, only for the trips leaving somewhere at or after it.
    pub(super) fn build(
        tt: &Timetable,
        rule_stops: &[bool],
        day: u32,
        trips: &[Option<Arc<TripDay>>; 3],
        threads: usize,
        boardable_from: Option<i64>,
    ) -> Option<Self> {
        let own = Arc::clone(trips[1].as_ref()?);
        let days = Self::days(tt, day, trips);
        let include = |instance: u32| {
            boardable_from.is_none_or(|from| own.leaves_from(tt, instance as usize, from))
        };
        let (offsets, targets, horizons) =
            super::generate::transfers(tt, rule_stops, &days, threads, include)?;
        let tables = Arc::new(Tables { offsets, targets, horizons });
        Some(Self { trips: own, tables, patch: None, boardable_from })
    }

    /// Whether the day has the transfers of every trip a search may board on it when
    /// boarding only from `from` (seconds of the day) on (`None`: anywhere).
    pub(super) fn covers(&self, from: Option<i64>) -> bool {
        match (self.boardable_from, from) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(built), Some(from)) => built <= from,
        }
    }

    /// `trips` as the time line of `day`.
    pub(super) fn days<'a>(
        tt: &Timetable,
        day: u32,
        trips: &'a [Option<Arc<TripDay>>; 3],
    ) -> Days<'a> {
        let date = tt.date_of_day(day);
        let start = |date: NaiveDate| tt.service_day_start(date).timestamp();
        let offset = |other: Option<NaiveDate>| other.map_or(0, |other| start(other) - start(date));
        Days {
            day: [trips[0].as_deref(), trips[1].as_deref(), trips[2].as_deref()],
            offset: [offset(date.pred_opt()), 0, offset(date.succ_opt())],
        }
    }

    #[inline]
    pub(super) fn transfers(&self, event: usize) -> &[u32] {
        let (offsets, targets) = self.table(event);
        &targets[offsets[event] as usize..offsets[event + 1] as usize]
    }

    /// The offsets and targets `event`'s transfers are in: the patch's where it patches the
    /// event, else the timetable day's.
    #[inline]
    fn table(&self, event: usize) -> (&[u32], &[u32]) {
        match &self.patch {
            Some(patch) if patch.has(event) => (&patch.offsets, &patch.targets),
            _ => (&self.tables.offsets, &self.tables.targets),
        }
    }

    /// Where the transfers of `event` start in their targets (to load them ahead; `None`
    /// past the day's events).
    #[inline]
    pub(super) fn offset(&self, event: usize) -> Option<&u32> {
        self.table(event).0.get(event)
    }

    /// The first transfer of `event`, to load it ahead.
    #[inline]
    pub(super) fn first_target(&self, event: usize) -> Option<&u32> {
        let (offsets, targets) = self.table(event);
        targets.get(*offsets.get(event)? as usize)
    }

    /// How many transfers the day keeps (a realtime day: the timetable day's, and the
    /// patch's).
    pub(crate) fn len(&self) -> usize {
        self.tables.targets.len() + self.patch.as_ref().map_or(0, |patch| patch.targets.len())
    }

    /// Memory the day takes (its trips counted in full, though shared with its neighbours; a
    /// realtime day: its trips and its patch).
    pub(crate) fn bytes(&self) -> usize {
        match &self.patch {
            None => {
                let tables = &self.tables;
                self.trips.bytes()
                    + 4 * (tables.offsets.len() + tables.targets.len() + tables.horizons.len())
            }
            Some(patch) => self.trips.bytes() + patch.bytes(),
        }
    }
}
