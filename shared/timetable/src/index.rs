//! [`IdIndex`]: public id → index lookups, built when a timetable is built or loaded (never
//! stored in the snapshot), so engines resolve `FEED:ID` strings quickly.
//!
//! Each table is a sorted array of `(hash of id, index)`: building it allocates no strings
//! (New York's 300k trip ids index in a few milliseconds at load), and a lookup binary-searches
//! the hash and confirms the id against the timetable itself.

use xxhash_rust::xxh3::xxh3_64;

use crate::model::{AgencyIdx, RouteIdx, StationIdx, StopIdx, Timetable, TripIdx};

/// Sorted `(hash, position)` pairs.
#[derive(Clone, Debug, Default)]
pub struct IdTable {
    entries: Vec<(u64, u32)>,
}

impl IdTable {
    fn build<'a>(ids: impl Iterator<Item = (u32, &'a str)>) -> Self {
        let mut entries: Vec<(u64, u32)> =
            ids.map(|(position, id)| (xxh3_64(id.as_bytes()), position)).collect();
        entries.sort_unstable();
        Self { entries }
    }

    /// `(hash, position)` pairs for ids, unsorted (to be computed in parallel chunks and
    /// joined by [`IdTable::from_entries`]).
    pub fn entries_of<'a>(ids: impl Iterator<Item = (u32, &'a str)>) -> Vec<(u64, u32)> {
        ids.map(|(position, id)| (xxh3_64(id.as_bytes()), position)).collect()
    }

    pub fn from_entries(mut entries: Vec<(u64, u32)>) -> Self {
        entries.sort_unstable();
        Self { entries }
    }

    /// The position whose id is `id`, confirmed by `matches(position)`.
    fn find(&self, id: &str, matches: impl Fn(u32) -> bool) -> Option<u32> {
        let hash = xxh3_64(id.as_bytes());
        let start = self.entries.partition_point(|(entry_hash, _)| *entry_hash < hash);
        self.entries[start..]
            .iter()
            .take_while(|(entry_hash, _)| *entry_hash == hash)
            .map(|(_, position)| *position)
            .find(|position| matches(*position))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Lookup tables from public ids to indices. Shared-stop aliases (`okaden:18_1`) resolve to
/// the merged stop like its own id. Use it through [`Timetable::stop_by_id`] and friends.
#[derive(Clone, Debug, Default)]
pub struct IdIndex {
    stops: IdTable,
    stations: IdTable,
    routes: IdTable,
    agencies: IdTable,
    trips: IdTable,
}

impl IdIndex {
    /// Builds the index over a timetable's stops (and aliases), stations, routes, agencies
    /// and trips.
    pub fn build(timetable: &Timetable) -> Self {
        let trips = IdTable::build(
            timetable
                .trips
                .iter()
                .enumerate()
                .map(|(position, trip)| (position as u32, trip.id.as_str())),
        );
        Self::build_with_trips(timetable, trips)
    }

    /// Like [`IdIndex::build`], with the trip table already built (the snapshot loader hashes
    /// trip ids on the threads that decode them).
    pub fn build_with_trips(timetable: &Timetable, trips: IdTable) -> Self {
        let stop_ids = timetable.stops.iter().enumerate().flat_map(|(position, stop)| {
            std::iter::once(stop.id.as_str())
                .chain(stop.aliases.iter().map(String::as_str))
                .map(move |id| (position as u32, id))
        });
        Self {
            stops: IdTable::build(stop_ids),
            stations: IdTable::build(
                timetable
                    .stations
                    .iter()
                    .enumerate()
                    .map(|(position, station)| (position as u32, station.id.as_str())),
            ),
            routes: IdTable::build(
                timetable
                    .routes
                    .iter()
                    .enumerate()
                    .map(|(position, route)| (position as u32, route.id.as_str())),
            ),
            agencies: IdTable::build(
                timetable
                    .agencies
                    .iter()
                    .enumerate()
                    .map(|(position, agency)| (position as u32, agency.id.as_str())),
            ),
            trips,
        }
    }

    pub fn stop(&self, timetable: &Timetable, id: &str) -> Option<StopIdx> {
        self.stops
            .find(id, |position| {
                let stop = &timetable.stops[position as usize];
                stop.id == id || stop.aliases.iter().any(|alias| alias == id)
            })
            .map(StopIdx)
    }

    pub fn station(&self, timetable: &Timetable, id: &str) -> Option<StationIdx> {
        self.stations
            .find(id, |position| timetable.stations[position as usize].id == id)
            .map(StationIdx)
    }

    pub fn route(&self, timetable: &Timetable, id: &str) -> Option<RouteIdx> {
        self.routes.find(id, |position| timetable.routes[position as usize].id == id).map(RouteIdx)
    }

    pub fn agency(&self, timetable: &Timetable, id: &str) -> Option<AgencyIdx> {
        self.agencies
            .find(id, |position| timetable.agencies[position as usize].id == id)
            .map(AgencyIdx)
    }

    pub fn trip(&self, timetable: &Timetable, id: &str) -> Option<TripIdx> {
        self.trips.find(id, |position| timetable.trips[position as usize].id == id).map(TripIdx)
    }
}
