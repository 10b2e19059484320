//! Stops, services and trips read from the feeds' files.

use std::collections::HashMap;

use norikae_timetable::{StopIdx, Timetable};

use super::files::{Table, parse_date, parse_time, read_table};
use super::{FeedFiles, RefTrip, Service, StopInfo, distance_m};

/// What [`read`] found.
pub(super) struct Network {
    pub stops: Vec<StopInfo>,
    /// Per feed: stop_id → stop (the feed's own stops.txt).
    pub stop_ids: Vec<HashMap<String, StopIdx>>,
    pub trips: Vec<RefTrip>,
    pub services: Vec<HashMap<String, Service>>,
    /// Per feed: trip_id → route_id, for the trips trips.txt lists.
    pub trip_routes: Vec<HashMap<String, String>>,
    pub notes: Vec<String>,
}

impl Network {
    /// The stop `id` names in feed `feed`: its own stops.txt, else another feed's (the
    /// Okayama feeds share one stop-id space, and one names a stop only another defines).
    pub fn resolve_stop(&self, feed: usize, id: &str) -> Option<StopIdx> {
        self.stop_ids[feed]
            .get(id)
            .or_else(|| self.stop_ids.iter().find_map(|ids| ids.get(id)))
            .copied()
    }
}

/// One row of stop_times.txt.
struct StopTimeRow {
    sequence: u32,
    stop_id: String,
    arrival: Option<u32>,
    departure: Option<u32>,
    pickup: bool,
    drop_off: bool,
    shape_dist: Option<f64>,
}

pub(super) fn read(tt: &Timetable, feeds: &[FeedFiles]) -> Network {
    let mut network = Network {
        stops: vec![StopInfo::default(); tt.stops.len()],
        stop_ids: Vec::new(),
        trips: Vec::new(),
        services: Vec::new(),
        trip_routes: Vec::new(),
        notes: Vec::new(),
    };
    for feed in feeds {
        read_stops(tt, feed, &mut network);
    }
    for (position, feed) in feeds.iter().enumerate() {
        network.services.push(read_services(feed));
        read_trips(position, feed, &mut network);
    }
    network
}

fn required(feed: &FeedFiles, file: &str) -> Table {
    read_table(&feed.name, &feed.path, file)
        .unwrap_or_else(|| panic!("reference: feed {} has no {file}", feed.name))
}

fn read_stops(tt: &Timetable, feed: &FeedFiles, network: &mut Network) {
    let table = required(feed, "stops.txt");
    let columns = ["stop_id", "stop_lat", "stop_lon", "location_type", "parent_station"]
        .map(|field| table.column(field));
    let [id, lat, lon, location_type, parent] = columns;
    let mut ids = HashMap::new();
    let mut parents = Vec::new();
    for row in &table.rows {
        let stop_id = Table::get(row, id);
        let Some(stop) = tt.stop_by_id(&format!("{}:{stop_id}", feed.name)) else {
            network.notes.push(format!(
                "{}:{}: stop {stop_id:?} is not in the timetable",
                table.name,
                Table::line(row)
            ));
            continue;
        };
        ids.insert(stop_id.to_owned(), stop);
        let info = &mut network.stops[stop.idx()];
        if info.known {
            continue;
        }
        let coordinate = |column| Table::get(row, column).parse::<f64>().unwrap_or(f64::NAN);
        *info = StopInfo {
            known: true,
            lat: coordinate(lat),
            lon: coordinate(lon),
            vehicles_stop: matches!(Table::get(row, location_type), "" | "0"),
            station: Table::get(row, location_type) == "1",
            parent: None,
        };
        let parent_id = Table::get(row, parent);
        if !parent_id.is_empty() {
            parents.push((stop, parent_id.to_owned()));
        }
    }
    for (stop, parent_id) in parents {
        network.stops[stop.idx()].parent = ids.get(&parent_id).copied();
    }
    network.stop_ids.push(ids);
}

fn read_services(feed: &FeedFiles) -> HashMap<String, Service> {
    let mut services: HashMap<String, Service> = HashMap::new();
    if let Some(table) = read_table(&feed.name, &feed.path, "calendar.txt") {
        let id = table.column("service_id");
        let days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
            .map(|day| table.column(day));
        let (start, end) = (table.column("start_date"), table.column("end_date"));
        for row in &table.rows {
            let service = services.entry(Table::get(row, id).to_owned()).or_default();
            service.weekdays = days.map(|day| Table::get(row, day) == "1");
            service.period =
                parse_date(Table::get(row, start)).zip(parse_date(Table::get(row, end)));
        }
    }
    if let Some(table) = read_table(&feed.name, &feed.path, "calendar_dates.txt") {
        let columns = ["service_id", "date", "exception_type"].map(|field| table.column(field));
        let [id, date, exception] = columns;
        for row in &table.rows {
            let Some(day) = parse_date(Table::get(row, date)) else { continue };
            let service = services.entry(Table::get(row, id).to_owned()).or_default();
            match Table::get(row, exception) {
                "1" => service.added.push(day),
                "2" => service.removed.push(day),
                _ => {}
            }
        }
    }
    services
}

fn read_trips(feed_position: usize, feed: &FeedFiles, network: &mut Network) {
    let trips_table = required(feed, "trips.txt");
    let columns = ["trip_id", "route_id", "service_id"].map(|field| trips_table.column(field));
    let [trip_column, route_column, service_column] = columns;
    // trip_id → (route_id, services), in file order.
    let mut trips: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut trip_position: HashMap<String, usize> = HashMap::new();
    for row in &trips_table.rows {
        let trip_id = Table::get(row, trip_column).to_owned();
        let service = Table::get(row, service_column).to_owned();
        if let Some(&position) = trip_position.get(&trip_id) {
            // trip_id must be unique; Okayama's chutetsu repeats a trip once per service
            // (as the importer documents, it then runs on all of them).
            let services = &mut trips[position].2;
            if !services.contains(&service) {
                services.push(service);
            }
            continue;
        }
        trip_position.insert(trip_id.clone(), trips.len());
        trips.push((trip_id, Table::get(row, route_column).to_owned(), vec![service]));
    }
    let repeated = trips.iter().filter(|(_, _, services)| services.len() > 1).count();
    if repeated > 0 {
        network.notes.push(format!(
            "{}: {repeated} trip ids repeated with another service (run on all of them)",
            trips_table.name
        ));
    }
    network
        .trip_routes
        .push(trips.iter().map(|(trip, route, _)| (trip.clone(), route.clone())).collect());

    let mut rows_of_trip = read_stop_times(feed, &mut network.notes);
    let frequencies = read_frequencies(feed);
    let mut interpolated = 0;
    let mut from_other_feeds = std::collections::BTreeSet::new();
    for (trip_id, route_id, services) in &trips {
        let Some(mut rows) = rows_of_trip.remove(trip_id) else { continue };
        rows.sort_by_key(|row| row.sequence);
        let before = rows.len();
        rows.dedup_by_key(|row| row.sequence);
        if rows.len() != before {
            network.notes.push(format!("{}: trip {trip_id:?} repeats a stop_sequence", feed.name));
        }
        let mut stops = Vec::with_capacity(rows.len());
        let mut kept = Vec::with_capacity(rows.len());
        for row in rows {
            match network.resolve_stop(feed_position, &row.stop_id) {
                Some(stop) => {
                    if !network.stop_ids[feed_position].contains_key(&row.stop_id) {
                        from_other_feeds.insert(row.stop_id.clone());
                    }
                    stops.push(stop);
                    kept.push(row);
                }
                None => network.notes.push(format!(
                    "{}: trip {trip_id:?} names unknown stop {:?}",
                    feed.name, row.stop_id
                )),
            }
        }
        if kept.len() < 2 {
            network.notes.push(format!("{}: trip {trip_id:?} has < 2 stops", feed.name));
            continue;
        }
        let Some((arrivals, departures, filled)) = complete_times(&kept, &stops, &network.stops)
        else {
            network.notes.push(format!("{}: trip {trip_id:?} cannot be timed", feed.name));
            continue;
        };
        interpolated += filled;
        let backwards = (0..kept.len()).any(|position| departures[position] < arrivals[position])
            || (1..kept.len()).any(|position| arrivals[position] < departures[position - 1]);
        if backwards {
            network.notes.push(format!("{}: trip {trip_id:?} goes back in time", feed.name));
            continue;
        }
        let template = RefTrip {
            public_id: format!("{}:{trip_id}", feed.name),
            gtfs_trip: format!("{}:{trip_id}", feed.name),
            route: format!("{}:{route_id}", feed.name),
            feed: feed_position,
            services: services.clone(),
            stops,
            arrivals,
            departures,
            pickup: kept.iter().map(|row| row.pickup).collect(),
            drop_off: kept.iter().map(|row| row.drop_off).collect(),
        };
        match frequencies.get(trip_id.as_str()) {
            None => network.trips.push(template),
            Some(windows) => network.trips.extend(expand(&template, windows)),
        }
    }
    if !from_other_feeds.is_empty() {
        network.notes.push(format!(
            "{}/stop_times.txt names stops its stops.txt lacks: {from_other_feeds:?} (taken from \
             the other feeds)",
            feed.name
        ));
    }
    if interpolated > 0 {
        network.notes.push(format!("{}: {interpolated} stop times interpolated", feed.name));
    }
}

/// stop_times.txt: the rows of each trip, in file order.
fn read_stop_times(feed: &FeedFiles, notes: &mut Vec<String>) -> HashMap<String, Vec<StopTimeRow>> {
    let stop_times = required(feed, "stop_times.txt");
    let names = [
        "trip_id",
        "arrival_time",
        "departure_time",
        "stop_id",
        "stop_sequence",
        "pickup_type",
        "drop_off_type",
        "shape_dist_traveled",
    ];
    let [trip, arrival, departure, stop, sequence, pickup, drop_off, shape_dist] =
        names.map(|field| stop_times.column(field));
    let mut rows_of_trip: HashMap<String, Vec<StopTimeRow>> = HashMap::new();
    for row in &stop_times.rows {
        let Ok(sequence_value) = Table::get(row, sequence).parse::<u32>() else {
            notes.push(format!("{}:{}: bad stop_sequence", stop_times.name, Table::line(row)));
            continue;
        };
        rows_of_trip.entry(Table::get(row, trip).to_owned()).or_default().push(StopTimeRow {
            sequence: sequence_value,
            stop_id: Table::get(row, stop).to_owned(),
            arrival: parse_time(Table::get(row, arrival)),
            departure: parse_time(Table::get(row, departure)),
            // 1 = no pickup (drop-off); 0, 2 (phone) and 3 (ask the driver) allow it.
            pickup: Table::get(row, pickup) != "1",
            drop_off: Table::get(row, drop_off) != "1",
            shape_dist: Table::get(row, shape_dist).parse::<f64>().ok(),
        });
    }
    rows_of_trip
}

/// frequencies.txt: trip_id → (start, end, headway) windows.
fn read_frequencies(feed: &FeedFiles) -> HashMap<String, Vec<(u32, u32, u32)>> {
    let mut frequencies: HashMap<String, Vec<(u32, u32, u32)>> = HashMap::new();
    let Some(table) = read_table(&feed.name, &feed.path, "frequencies.txt") else {
        return frequencies;
    };
    let columns =
        ["trip_id", "start_time", "end_time", "headway_secs"].map(|field| table.column(field));
    let [trip, start, end, headway] = columns;
    for row in &table.rows {
        let times = parse_time(Table::get(row, start)).zip(parse_time(Table::get(row, end)));
        let headway_secs = Table::get(row, headway).parse::<u32>().ok().filter(|secs| *secs > 0);
        if let (Some((start_secs, end_secs)), Some(headway_secs)) = (times, headway_secs) {
            frequencies.entry(Table::get(row, trip).to_owned()).or_default().push((
                start_secs,
                end_secs,
                headway_secs,
            ));
        }
    }
    frequencies
}

/// One trip per headway, as the importer documents: the first departures `start`,
/// `start + headway`, … before `end`, each shifting the template's times so that it leaves
/// its first stop then, named `FEED:trip_id@HH:MM:SS`.
fn expand(template: &RefTrip, windows: &[(u32, u32, u32)]) -> Vec<RefTrip> {
    let mut trips = Vec::new();
    for &(start, end, headway) in windows {
        let mut first_departure = start;
        while first_departure < end {
            let shift = i64::from(first_departure) - i64::from(template.departures[0]);
            let shifted = |times: &[u32]| -> Vec<u32> {
                times.iter().map(|time| (i64::from(*time) + shift).max(0) as u32).collect()
            };
            let (hours, minutes, seconds) =
                (first_departure / 3600, first_departure / 60 % 60, first_departure % 60);
            trips.push(RefTrip {
                public_id: format!("{}@{hours:02}:{minutes:02}:{seconds:02}", template.gtfs_trip),
                arrivals: shifted(&template.arrivals),
                departures: shifted(&template.departures),
                ..template.clone()
            });
            first_departure += headway;
        }
    }
    trips
}

/// Arrival and departure at every stop of a trip, and how many were interpolated: an empty
/// time takes the stop's other time; a stop without either is timed between the nearest
/// timed stops in proportion to the distance travelled (shape_dist_traveled where the feed
/// gives it for the whole gap, else straight lines between the stops), as the importer
/// documents. `None` when the first or last stop has no time (GTFS requires both).
fn complete_times(
    rows: &[StopTimeRow],
    stops: &[StopIdx],
    infos: &[StopInfo],
) -> Option<(Vec<u32>, Vec<u32>, usize)> {
    let mut arrivals: Vec<Option<u32>> =
        rows.iter().map(|row| row.arrival.or(row.departure)).collect();
    let mut departures: Vec<Option<u32>> =
        rows.iter().map(|row| row.departure.or(row.arrival)).collect();
    let last = rows.len() - 1;
    departures[0]?;
    arrivals[last]?;
    let mut filled = 0;
    let mut previous_timed = 0;
    for position in 1..rows.len() {
        let Some(next_arrival) = arrivals[position] else { continue };
        if position > previous_timed + 1 {
            let gap = previous_timed..=position;
            let shape: Option<Vec<f64>> =
                rows[gap.clone()].iter().map(|row| row.shape_dist).collect();
            let by_shape = shape.filter(|shape| shape.windows(2).all(|pair| pair[1] >= pair[0]));
            let mut travelled = vec![0.0f64];
            for step in previous_timed + 1..=position {
                let length = match &by_shape {
                    Some(shape) => shape[step - previous_timed] - shape[step - previous_timed - 1],
                    None => {
                        let meters =
                            distance_m(&infos[stops[step - 1].idx()], &infos[stops[step].idx()]);
                        if meters.is_finite() { meters } else { 0.0 }
                    }
                };
                travelled.push(travelled.last().copied().unwrap_or(0.0) + length);
            }
            let total = travelled.last().copied().unwrap_or(0.0);
            let start = departures[previous_timed].unwrap_or(0);
            let span = f64::from(next_arrival.saturating_sub(start));
            let steps = position - previous_timed;
            for step in 1..steps {
                let fraction =
                    if total > 0.0 { travelled[step] / total } else { step as f64 / steps as f64 };
                let time = (f64::from(start) + span * fraction).round() as u32;
                arrivals[previous_timed + step] = Some(time);
                departures[previous_timed + step] = Some(time);
                filled += 1;
            }
        }
        previous_timed = position;
    }
    let arrivals = arrivals.into_iter().collect::<Option<Vec<u32>>>()?;
    let departures = departures.into_iter().collect::<Option<Vec<u32>>>()?;
    Some((arrivals, departures, filled))
}
