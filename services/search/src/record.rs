//! [`StationRecord`]: what the index needs to know about one station, taken from the compiled
//! timetable (or written by hand in tests), so the index does not depend on the whole model.

use norikae_timetable::{LocalizedText, Mode, Station, Timetable};

/// Route names longer than this are directions (`西大寺→西大寺駅・神崎→牛窓`), not line names;
/// the long name is shown instead.
const MAX_SHORT_NAME_CHARS: usize = 8;

/// One station, as indexed.
#[derive(Clone, Debug, Default)]
pub struct StationRecord {
    /// Public station id (`ryobi:18_1`).
    pub id: String,
    /// Ids of its stops and their aliases: `GET /stations/{id}` accepts any of them.
    pub stop_ids: Vec<String>,
    pub name: LocalizedText,
    /// Kana reading as the feed writes it.
    pub reading: Option<String>,
    pub lat: f64,
    pub lon: f64,
    /// Distinct line names serving the station, most useful first.
    pub lines: Vec<LocalizedText>,
    /// Agencies serving the station.
    pub agencies: Vec<LocalizedText>,
    /// Whether a rail, subway or tram line serves it (lines then label it, not agencies).
    pub rail: bool,
    /// Departures per day: the importance used for ranking.
    pub departures_per_day: u32,
    pub locality: Option<String>,
}

impl StationRecord {
    /// The records of every station of a timetable, in station index order.
    pub fn all_from_timetable(timetable: &Timetable) -> Vec<Self> {
        timetable.stations.iter().map(|station| Self::from_station(timetable, station)).collect()
    }

    fn from_station(timetable: &Timetable, station: &Station) -> Self {
        let mut lines: Vec<LocalizedText> = Vec::new();
        let mut rail = false;
        for route_idx in &station.routes {
            let Some(route) = timetable.routes.get(route_idx.idx()) else { continue };
            if !matches!(route.mode, Mode::Bus | Mode::Coach | Mode::Trolleybus | Mode::Taxi) {
                rail = true;
            }
            let short_fits = !route.short_name.default.is_empty()
                && route.short_name.default.chars().count() <= MAX_SHORT_NAME_CHARS;
            let line_name = if short_fits || route.long_name.default.is_empty() {
                &route.short_name
            } else {
                &route.long_name
            };
            if line_name.default.is_empty()
                || lines.iter().any(|known| known.default == line_name.default)
            {
                continue;
            }
            lines.push(line_name.clone());
        }
        let agencies = station
            .agencies
            .iter()
            .filter_map(|agency_idx| timetable.agencies.get(agency_idx.idx()))
            .map(|agency| agency.name.clone())
            .collect();
        let mut stop_ids = Vec::new();
        for stop_idx in station.stops.iter().chain(&station.other_stops) {
            let Some(stop) = timetable.stops.get(stop_idx.idx()) else { continue };
            stop_ids.push(stop.id.clone());
            stop_ids.extend(stop.aliases.iter().cloned());
        }
        Self {
            id: station.id.clone(),
            stop_ids,
            name: station.name.clone(),
            reading: station.reading.clone().filter(|reading| !reading.trim().is_empty()),
            lat: station.lat,
            lon: station.lon,
            lines,
            agencies,
            rail,
            departures_per_day: station.departures_per_day,
            locality: station.locality.clone().filter(|locality| !locality.trim().is_empty()),
        }
    }
}
