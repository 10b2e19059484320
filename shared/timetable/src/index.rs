//! [`IdIndex`]: public id → index maps, built when a timetable is built or loaded (never
//! stored in the snapshot), so engines resolve `FEED:ID` strings in O(1).

use rustc_hash::FxHashMap;

use crate::model::{AgencyIdx, RouteIdx, StationIdx, StopIdx, Timetable, TripIdx};

/// Lookup tables from public ids to indices. Shared-stop aliases (`okaden:18_1`) resolve to
/// the merged stop like its own id.
#[derive(Clone, Debug, Default)]
pub struct IdIndex {
    pub stops: FxHashMap<Box<str>, StopIdx>,
    pub stations: FxHashMap<Box<str>, StationIdx>,
    pub routes: FxHashMap<Box<str>, RouteIdx>,
    pub agencies: FxHashMap<Box<str>, AgencyIdx>,
    pub trips: FxHashMap<Box<str>, TripIdx>,
}

impl IdIndex {
    /// Builds the index over a timetable's stops, stations, routes, agencies and trips.
    pub fn build(timetable: &Timetable) -> Self {
        let mut stops = FxHashMap::default();
        stops.reserve(timetable.stops.len());
        for (position, stop) in timetable.stops.iter().enumerate() {
            stops.insert(stop.id.as_str().into(), StopIdx::from(position));
            for alias in &stop.aliases {
                stops.insert(alias.as_str().into(), StopIdx::from(position));
            }
        }
        Self {
            stops,
            stations: timetable
                .stations
                .iter()
                .enumerate()
                .map(|(position, station)| (station.id.as_str().into(), StationIdx::from(position)))
                .collect(),
            routes: timetable
                .routes
                .iter()
                .enumerate()
                .map(|(position, route)| (route.id.as_str().into(), RouteIdx::from(position)))
                .collect(),
            agencies: timetable
                .agencies
                .iter()
                .enumerate()
                .map(|(position, agency)| (agency.id.as_str().into(), AgencyIdx::from(position)))
                .collect(),
            trips: timetable
                .trips
                .iter()
                .enumerate()
                .map(|(position, trip)| (trip.id.as_str().into(), TripIdx::from(position)))
                .collect(),
        }
    }
}
